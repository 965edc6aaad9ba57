#include "fuse_ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The mount is the session's user data (fuse_session_new). */
#define FS(req) ((pf_fs *)fuse_req_userdata(req))

static pf_inode *node(pf_fs *fs, fuse_ino_t id)
{
	return id == FUSE_ROOT_ID ? pf_fs_root(fs) : (pf_inode *)(uintptr_t)id;
}

static fuse_ino_t id_of(pf_fs *fs, pf_inode *in)
{
	return in == pf_fs_root(fs) ? FUSE_ROOT_ID : (fuse_ino_t)in;
}

/* Entries of a writable mount come and go: the kernel must ask again
 * each time. */
static double cache_timeout(pf_fs *fs)
{
	return pf_fs_writable(fs) ? 0.0 : PF_CACHE_TIMEOUT;
}

static void reply_entry(fuse_req_t req, pf_inode *child, struct stat *st)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.attr = *st;
	e.ino = id_of(FS(req), child);
	e.attr_timeout = cache_timeout(FS(req));
	e.entry_timeout = cache_timeout(FS(req));
	if (fuse_reply_entry(req, &e) != 0)
		pf_fs_forget(FS(req), child, 1); /* the kernel never saw it */
}

/* ---- nodes ------------------------------------------------------------- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	pf_inode *child;
	int rc;

	memset(&e, 0, sizeof(e));
	rc =
	    pf_fs_lookup(FS(req), node(FS(req), parent), name, &child, &e.attr);
	if (rc == ENOENT) {
		/* a negative entry: `ls x` of a missing x is cached too */
		e.ino = 0;
		e.entry_timeout = cache_timeout(FS(req));
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc) {
		fuse_reply_err(req, rc);
		return;
	}
	reply_entry(req, child, &e.attr);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	pf_fs_forget(FS(req), node(FS(req), ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		pf_fs_forget(FS(req), node(FS(req), forgets[i].ino),
			     forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;
	int rc = pf_fs_getattr(FS(req), node(FS(req), ino), &st);

	if (rc)
		fuse_reply_err(req, rc);
	else
		fuse_reply_attr(req, &st, PF_CACHE_TIMEOUT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	pk_buf b = PK_BUF_INIT;
	int rc = pf_fs_readlink(FS(req), node(FS(req), ino), &b);

	if (rc)
		fuse_reply_err(req, rc);
	else
		fuse_reply_readlink(req, b.data ? (char *)b.data : "");
	pk_buf_release(&b);
}

/* ---- directories ------------------------------------------------------- */

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	pf_dirh *d;
	int rc = pf_fs_opendir(FS(req), node(FS(req), ino), &d);

	if (rc) {
		fuse_reply_err(req, rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0)
		pf_fs_releasedir(FS(req), d);
}

struct dirbuf {
	fuse_req_t req;
	char *buf;
	size_t size, used;
};

static int add_entry(void *ctx, const char *name, const struct stat *st,
		     uint64_t next)
{
	struct dirbuf *db = ctx;
	size_t n =
	    fuse_add_direntry(db->req, db->buf + db->used, db->size - db->used,
			      name, st, (off_t)next);

	if (n > db->size - db->used)
		return 1;
	db->used += n;
	return 0;
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct dirbuf db = {req, malloc(size), size, 0};
	int rc;

	if (!db.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = pf_fs_readdir(FS(req), node(FS(req), ino),
			   (pf_dirh *)(uintptr_t)fi->fh, (uint64_t)off,
			   add_entry, &db);
	if (rc && db.used == 0)
		fuse_reply_err(req, rc);
	else
		fuse_reply_buf(req, db.buf, db.used);
	free(db.buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	pf_fs_releasedir(FS(req), (pf_dirh *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* ---- files ------------------------------------------------------------- */

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	pf_file *f;
	int keep = 0;
	int rc = pf_fs_open(FS(req), node(FS(req), ino), fi->flags, &f, &keep);

	if (rc) {
		fuse_reply_err(req, rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->keep_cache = keep;
	if (fuse_reply_open(req, fi) != 0)
		pf_fs_release(FS(req), f);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	pf_span sp;
	int rc = pf_fs_read(FS(req), (pf_file *)(uintptr_t)fi->fh,
			    (uint64_t)off, size, &sp);

	if (rc) {
		fuse_reply_err(req, rc);
		return;
	}
	if (sp.fd >= 0) {
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(sp.fd_len);
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = sp.fd;
		bv.buf[0].pos = (off_t)sp.fd_off;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	/* straight from the mapped pickle (or a copy of the handle's text) */
	if (sp.niov == 0)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_iov(req, sp.iov, sp.niov);
	pf_span_release(&sp);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	pf_fs_release(FS(req), (pf_file *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* ---- xattrs and statfs ------------------------------------------------- */

static void reply_sized(fuse_req_t req, int rc, const pk_buf *b, size_t size)
{
	if (rc)
		fuse_reply_err(req, rc);
	else if (size == 0)
		fuse_reply_xattr(req, b->len);
	else if (b->len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, (const char *)b->data, b->len);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	pk_buf b = PK_BUF_INIT;
	int rc = pf_fs_getxattr(FS(req), node(FS(req), ino), name, &b);

	reply_sized(req, rc, &b, size);
	pk_buf_release(&b);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	pk_buf b = PK_BUF_INIT;
	int rc = pf_fs_listxattr(FS(req), node(FS(req), ino), &b);

	reply_sized(req, rc, &b, size);
	pk_buf_release(&b);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;
	int rc = pf_fs_statfs(FS(req), &st);

	if (rc)
		fuse_reply_err(req, rc);
	else
		fuse_reply_statfs(req, &st);
}

/* ---- the write side ---------------------------------------------------- */

static pf_file *fh_of(struct fuse_file_info *fi)
{
	return fi ? (pf_file *)(uintptr_t)fi->fh : NULL;
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	int rc = pf_fs_write(FS(req), fh_of(fi), (uint64_t)off, buf, size);

	if (rc)
		fuse_reply_err(req, rc);
	else
		fuse_reply_write(req, size);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	/* close() returns this: EINVAL for a text that is no literal */
	fuse_reply_err(req, pf_fs_flush(FS(req), fh_of(fi)));
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	/* 0 only when the value is on disk (also with -o writeback) */
	fuse_reply_err(req,
		       pf_fs_fsync(FS(req), node(FS(req), ino), fh_of(fi)));
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	/* a directory of a pickle: its pickle is written back */
	fuse_reply_err(req, pf_fs_fsync(FS(req), node(FS(req), ino), NULL));
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct stat st;
	int rc;

	rc = pf_fs_setattr(FS(req), node(FS(req), ino), fh_of(fi),
			   (to_set & FUSE_SET_ATTR_SIZE) != 0,
			   (uint64_t)attr->st_size, &st);
	if (rc)
		fuse_reply_err(req, rc);
	else
		fuse_reply_attr(req, &st, cache_timeout(FS(req)));
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	fuse_reply_err(req, pf_fs_special(FS(req)));
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct stat st;
	pf_inode *child;
	int rc = pf_fs_mkdir(FS(req), node(FS(req), parent), name, &child, &st);

	if (rc)
		fuse_reply_err(req, rc);
	else
		reply_entry(req, child, &st);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, pf_fs_unlink(FS(req), node(FS(req), parent), name));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, pf_fs_rmdir(FS(req), node(FS(req), parent), name));
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	fuse_reply_err(req, pf_fs_special(FS(req)));
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	fuse_reply_err(req,
		       pf_fs_rename(FS(req), node(FS(req), parent), name,
				    node(FS(req), newparent), newname, flags));
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	fuse_reply_err(req, pf_fs_special(FS(req)));
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	struct stat st;
	pf_inode *child;
	pf_file *f;
	int rc = pf_fs_create(FS(req), node(FS(req), parent), name, fi->flags,
			      &child, &st, &f);

	if (rc) {
		fuse_reply_err(req, rc);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.attr = st;
	e.ino = id_of(FS(req), child);
	e.attr_timeout = cache_timeout(FS(req));
	e.entry_timeout = cache_timeout(FS(req));
	fi->fh = (uint64_t)(uintptr_t)f;
	if (fuse_reply_create(req, &e, fi) != 0) {
		pf_fs_release(FS(req), f);
		pf_fs_forget(FS(req), child, 1);
	}
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	fuse_reply_err(req, pf_fs_setxattr(FS(req), node(FS(req), ino), name,
					   value, size));
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req,
		       pf_fs_removexattr(FS(req), node(FS(req), ino), name));
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .readlink = op_readlink,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .open = op_open,
    .read = op_read,
    .release = op_release,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .statfs = op_statfs,
    .setattr = op_setattr,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .write = op_write,
    .flush = op_flush,
    .fsync = op_fsync,
    .fsyncdir = op_fsyncdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .create = op_create,
    .setxattr = op_setxattr,
    .removexattr = op_removexattr,
};

const struct fuse_lowlevel_ops *pf_fuse_ops(void)
{
	return &ops;
}
