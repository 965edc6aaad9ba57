/*
 * write.c - the write-side operations of vfs.h: writes into a handle,
 * close / fsync, truncate, create, mkdir, unlink, rmdir, rename,
 * setxattr. Each refusal is logged with the pickle, the value's path and
 * the reason: a shell ignores what close() says, the log does not.
 */
#include "vfs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress.h"
#include "content.h"
#include "docview.h"
#include "edit.h"
#include "log.h"
#include "entries.h"
#include "names.h"
#include "pickle_file.h"
#include "repr.h"
#include "form.h"

static int flush_handle(pf_fs *fs, pf_file *f, pk_err *why);
static int refused(pf_fs *fs, pf_inode *in, const char *child, int rc,
		   pk_err *why);

int vfs_open_for_write(pf_fs *fs, pf_inode *in, int flags, pf_file **out)
{
	pf_file *f = vfs_new_handle();
	pf_content c;
	int rc = 0;

	if (!f)
		return ENOMEM;
	f->in = in;
	f->writable = 1;
	if (in->kind == PF_I_SCRATCH) {
		pthread_mutex_lock(&fs->xlock);
		f->sc = vfs_scratch_of_inode(fs, in);
		if (!f->sc)
			rc = ENOENT;
		else if (flags & O_TRUNC)
			pk_buf_reset(&f->sc->data);
		pthread_mutex_unlock(&fs->xlock);
		if (rc) {
			free(f);
			return rc;
		}
		*out = f;
		return 0;
	}
	if ((rc = vfs_enter(in))) {
		free(f);
		return rc;
	}
	if (in->look == PF_LOOK_FILE) {
		f->early = pf_edit_early_kind(in->ref);
		if (in->ref.part == PF_PART_DATA) {
			/* an array's data keeps its length: writing past it
			 * can only be refused */
			pf_content dc;
			if (pf_content_get(in->src->doc, in->ref,
					   PF_CONTENT_SIZE_ONLY, &dc,
					   NULL) == 0)
				f->max_len = pf_content_size(&dc) + 1;
			pf_content_release(&dc);
		}
	}
	if (in->look != PF_LOOK_FILE) {
		rc = in->look == PF_LOOK_DIR ? EISDIR : ELOOP;
	} else if (pf_docview_readonly(in->src->dv, in->ref)) {
		rc = EPERM; /* a read-only view (ref.h) */
	} else if (flags & O_TRUNC) {
		f->dirty = 1;
	} else {
		/* the handle starts from the text cat shows */
		rc = pf_docview_content(in->src->dv, in->ref, 0, &c, NULL);
		if (!rc) {
			rc = pf_content_append(&c, &f->wbuf);
			pf_content_release(&c);
		}
	}
	pf_source_leave(in->src);
	if (rc) {
		pk_buf_release(&f->wbuf);
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

static int write_op(pf_fs *fs, pf_file *f, uint64_t off, const void *data,
		    size_t size, pk_err *why)
{
	pk_buf *b, was = PK_BUF_INIT;
	int rc = 0;

	if (!f->writable)
		return EBADF;
	if (off + size > PF_EDIT_MAX)
		return EFBIG; /* more than a value's text can be */
	if (f->max_len && off + size > f->max_len - 1) {
		f->refused = 1;
		pk_err_set(why, PK_E_VALUE, "numpy data must keep its length",
			   0);
		return EINVAL;
	}
	if (f->sc)
		pthread_mutex_lock(&fs->xlock);
	b = f->sc ? &f->sc->data : &f->wbuf;
	/* a number: text that can no longer become one is refused now, and
	 * the handle keeps what it had (numbers are short: the copy is) */
	if (f->early &&
	    pk_buf_add(&was, b->data ? b->data : (uint8_t *)"", b->len)) {
		rc = ENOMEM;
		goto out;
	}
	if (off + size > b->len) {
		size_t old = b->len;
		if (pk_buf_grow(b, (size_t)(off + size - old))) {
			rc = ENOMEM;
			goto out;
		}
		memset(b->data + old, 0, (size_t)(off + size - old));
		b->len = (size_t)(off + size);
		b->data[b->len] = '\0';
	}
	memcpy(b->data + off, data, size);
	if (f->early == PF_EDIT_EARLY_LINE) {
		/* a library scalar's line, once complete, is checked whole */
		if (size && off + size == b->len &&
		    b->data[b->len - 1] == '\n' &&
		    !(rc = vfs_edit_begin(fs, f->in))) {
			rc = pf_edit_check(f->in->src->doc, f->in->ref, b->data,
					   b->len, why);
			pf_source_leave(f->in->src);
		}
	} else if (f->early) {
		rc = pf_edit_viable(f->early, b->data, b->len, why);
	}
	if (rc) {
		f->refused = 1;
		memcpy(b->data, was.data ? was.data : (uint8_t *)"", was.len);
		b->len = was.len;
		b->data[b->len] = '\0';
		goto out;
	}
	f->dirty = 1;
	f->written = 1;
out:
	pk_buf_release(&was);
	if (f->sc)
		pthread_mutex_unlock(&fs->xlock);
	return rc;
}

/* Commits what the handle wrote. */
int pf_fs_uncached(const pf_file *f)
{
	return f->writable;
}

int vfs_commit_handle(pf_fs *fs, pf_file *f, pk_err *why)
{
	int rc;

	if (!f->writable || !f->dirty)
		return 0;
	if (f->refused) {
		/* a write() of this handle was refused: the edit as a whole
		 * is, and nothing written before it is committed either */
		f->dirty = 0;
		pk_err_set(why, PK_E_VALUE, "an earlier write was refused", 0);
		return EINVAL;
	}
	if (f->sc) {
		struct pf_scratch *sc = f->sc;
		pk_buf text = PK_BUF_INIT;
		pf_inode *dir;
		char *name = NULL, type[16];
		pthread_mutex_lock(&fs->xlock);
		memcpy(type, sc->type, sizeof(type));
		dir = sc->dir;
		if (sc->keep || !dir) {
			pthread_mutex_unlock(&fs->xlock);
			f->dirty = 0;
			return 0; /* stays in memory */
		}
		/* a new file: it becomes a new key now */
		rc =
		    pk_buf_add(&text, sc->data.data, sc->data.len) ? ENOMEM : 0;
		name = strdup(sc->name);
		if (!name)
			rc = ENOMEM;
		if (!rc)
			vfs_scratch_unlink_locked(fs, sc);
		pthread_mutex_unlock(&fs->xlock);
		if (!rc)
			rc = vfs_add_entry(fs, dir, name, 0, &text,
					   type[0] ? type : NULL, 1, why);
		free(name);
		pk_buf_release(&text);
		f->dirty = 0;
		return rc;
	}
	rc = vfs_set_value(fs, f->in, &f->wbuf, why);
	if (rc != EINVAL)
		f->dirty = 0; /* a bad literal stays: close reports it too */
	return rc;
}

/* close() flushes every descriptor of the file, and shells close a
 * dup'ed one before writing (`echo 9 > f`): a flush commits only once
 * something was written; what was only opened (O_TRUNC, a new empty
 * file) is committed at release, after the last close. */
/* A write-back error of the handle's pickle not reported yet: close()
 * of a file opened for writing reports it (-o writeback). It is not a
 * refusal of this handle's edit (that one is accepted and pending). */
static int pending_error(pf_fs *fs, pf_file *f)
{
	if (!f || !f->writable || !f->in || !f->in->src || !fs->writeback)
		return 0;
	return pf_source_take_error(f->in->src);
}

int pf_fs_fsync(pf_fs *fs, pf_inode *in, pf_file *f)
{
	pk_err why = {PK_OK, NULL, 0};
	int rc =
	    f ? vfs_handle_refused(fs, f, flush_handle(fs, f, &why), &why) : 0;
	pf_source *s = in ? in->src : NULL;

	if (rc || !s || fs->ro)
		return rc;
	/* -o writeback: what fsync acknowledges is on disk too */
	return fs->writeback ? pf_source_sync(s) : 0;
}

static int flush_handle(pf_fs *fs, pf_file *f, pk_err *why)
{
	int rc;

	if (!f || !f->dirty)
		return 0;
	if (f->written)
		return vfs_commit_handle(fs, f, why);
	if (f->sc)
		return 0;
	/* emptied (O_TRUNC) and closed without a write, as `: > f` does: an
	 * empty text that is no literal of the type is refused now, where
	 * close() can say so; a valid one is committed at release */
	rc = vfs_edit_begin(fs, f->in);
	if (rc)
		return rc;
	rc = f->in->look == PF_LOOK_FILE
		 ? pf_edit_check(f->in->src->doc, f->in->ref, f->wbuf.data,
				 f->wbuf.len, why)
		 : 0;
	pf_source_leave(f->in->src);
	return rc;
}

static int truncate_op(pf_fs *fs, pf_inode *in, pf_file *f, uint64_t size,
		       struct stat *st, pk_err *why)
{
	pf_file *own = NULL;
	pk_buf *b;
	int rc, keep_cache;

	if (vfs_read_only(fs, in))
		return EROFS;
	if (!f || !f->writable) {
		/* truncate(2) by name: open, cut, commit */
		if ((rc = pf_fs_open(fs, in, O_WRONLY, &own, &keep_cache)))
			return rc;
		f = own;
	}
	if (size > PF_EDIT_MAX || (f->max_len && size > f->max_len - 1)) {
		rc = EFBIG; /* more than the value can ever hold */
		goto out;
	}
	if (f->sc)
		pthread_mutex_lock(&fs->xlock);
	b = f->sc ? &f->sc->data : &f->wbuf;
	rc = 0;
	if (size <= b->len) {
		b->len = (size_t)size;
		if (b->data)
			b->data[b->len] = '\0';
	} else if (pk_buf_grow(b, (size_t)(size - b->len)) == 0) {
		memset(b->data + b->len, 0, (size_t)(size - b->len));
		b->len = (size_t)size;
		b->data[b->len] = '\0';
	} else {
		rc = ENOMEM; /* said, never a silent no-op */
	}
	if (!rc) {
		f->dirty = 1;
		f->written = 1;
		if (size == 0)
			f->refused = 0; /* emptied: its text starts anew */
	}
	if (f->sc)
		pthread_mutex_unlock(&fs->xlock);
out:
	if (own) {
		if (!rc)
			rc = flush_handle(fs, own, why);
		pf_fs_release(fs, own);
	}
	if (!rc)
		rc = pf_fs_getattr(fs, in, st);
	if (!rc && f != own && f->writable)
		st->st_size = (off_t)(f->sc ? f->sc->data.len : f->wbuf.len);
	return rc;
}

static int create_op(pf_fs *fs, pf_inode *dir, const char *name, int flags,
		     pf_inode **out, struct stat *st, pf_file **fh, pk_err *why)
{
	pf_child ch;
	uint64_t i;
	int rc, exists;

	if (vfs_read_only(fs, dir))
		return EROFS;
	if (dir->kind != PF_I_PICKLE && dir->kind != PF_I_VALUE)
		return EROFS;
	if (strlen(name) > 255)
		return ENAMETOOLONG;
	pthread_mutex_lock(&fs->xlock);
	exists = vfs_scratch_find(fs, dir, name) != NULL;
	pthread_mutex_unlock(&fs->xlock);
	if (exists)
		return EEXIST;
	if ((rc = vfs_enter(dir)))
		return rc;
	rc = vfs_find_entry(dir, name, &i, &ch);
	/* a name that can never become an entry is refused now, where the
	 * shell says so (`echo 1 > list/7` with 5 items) */
	if (rc == ENOENT && !vfs_scratch_name(name))
		rc = vfs_new_name_ok(dir, name, why) ?: ENOENT;
	pf_source_leave(dir->src);
	if (rc == 0) {
		/* an existing value: open it for writing */
		if (flags & O_EXCL)
			return EEXIST;
		if ((rc = pf_fs_lookup(fs, dir, name, out, st)))
			return rc;
		rc = vfs_open_for_write(fs, *out, flags | O_TRUNC, fh);
		if (rc)
			pf_fs_forget(fs, *out, 1);
		return rc;
	}
	if (rc != ENOENT)
		return rc;
	/* Editors' and atomic writers' files stay in memory; anything else
	 * (also cp and mv, which create with O_EXCL) is a new key at close. */
	return vfs_new_scratch(fs, dir, name, vfs_scratch_name(name), out, st,
			       fh);
}

static int mkdir_op(pf_fs *fs, pf_inode *dir, const char *name, pf_inode **out,
		    struct stat *st, pk_err *why)
{
	int rc = vfs_add_entry(fs, dir, name, 1, NULL, NULL, 0, why);

	if (rc)
		return rc;
	return pf_fs_lookup(fs, dir, name, out, st);
}

static int unlink_op(pf_fs *fs, pf_inode *dir, const char *name, pk_err *why)
{
	struct pf_scratch *sc;

	if (vfs_read_only(fs, dir))
		return EROFS;
	pthread_mutex_lock(&fs->xlock);
	sc = vfs_scratch_find(fs, dir, name);
	if (sc)
		vfs_scratch_unlink_locked(fs, sc);
	pthread_mutex_unlock(&fs->xlock);
	if (sc)
		return 0;
	return vfs_remove_entry(fs, dir, name, 0, why);
}

static int rmdir_op(pf_fs *fs, pf_inode *dir, const char *name, pk_err *why)
{
	return vfs_remove_entry(fs, dir, name, 1, why);
}

static int rename_op(pf_fs *fs, pf_inode *dir, const char *name,
		     pf_inode *newdir, const char *newname, pk_err *why)
{
	struct pf_scratch *sc, *dst_sc;
	pk_buf text = PK_BUF_INIT;
	int rc;

	if (vfs_read_only(fs, dir))
		return EROFS;
	if (dir->kind != PF_I_PICKLE && dir->kind != PF_I_VALUE)
		return EROFS;
	if (newdir != dir)
		return EXDEV; /* mv copies and deletes instead */
	pthread_mutex_lock(&fs->xlock);
	sc = vfs_scratch_find(fs, dir, name);
	dst_sc = vfs_scratch_find(fs, dir, newname);
	if (sc && (dst_sc || vfs_scratch_name(newname))) {
		/* scratch to scratch: only the name changes */
		char *nn = strdup(newname);
		if (nn) {
			if (dst_sc)
				vfs_scratch_unlink_locked(fs, dst_sc);
			free(sc->name);
			sc->name = nn;
		}
		pthread_mutex_unlock(&fs->xlock);
		return nn ? 0 : ENOMEM;
	}
	if (sc) {
		/* sed -i, perl -pi, os.replace: the content lands on the
		 * entry (its type, its place) or makes a new one */
		rc =
		    pk_buf_add(&text, sc->data.data, sc->data.len) ? ENOMEM : 0;
		pthread_mutex_unlock(&fs->xlock);
		if (!rc)
			rc = vfs_add_entry(fs, dir, newname, 0, &text, NULL, 1,
					   why);
		if (!rc) {
			pthread_mutex_lock(&fs->xlock);
			vfs_scratch_unlink_locked(fs, sc);
			pthread_mutex_unlock(&fs->xlock);
		}
		pk_buf_release(&text);
		return rc;
	}
	if (dst_sc)
		vfs_scratch_unlink_locked(fs, dst_sc);
	pthread_mutex_unlock(&fs->xlock);
	if (vfs_scratch_name(newname))
		return vfs_backup_entry(fs, dir, name, newname);
	return vfs_move_entry(fs, dir, name, newname, why);
}

static int setxattr_op(pf_fs *fs, pf_inode *in, const char *name,
		       const char *value, size_t size, pk_err *why)
{
	char type[32];
	int rc, tries;

	if (strcmp(name, XA_TYPE) != 0)
		return vfs_read_only(fs, in) ? EROFS : ENOTSUP;
	if (size == 0 || size >= sizeof(type))
		return EINVAL;
	memcpy(type, value, size);
	type[size] = '\0';
	if (in->kind == PF_I_SCRATCH && !fs->ro) {
		/* cp -a and mv copy the type of what they copy: it is the
		 * type the new key gets when the file is closed */
		struct pf_scratch *sc;
		pthread_mutex_lock(&fs->xlock);
		sc = vfs_scratch_of_inode(fs, in);
		if (sc && size < sizeof(sc->type)) {
			memcpy(sc->type, type, size + 1);
			rc = 0;
		} else {
			rc = sc ? EINVAL : ENOENT;
		}
		pthread_mutex_unlock(&fs->xlock);
		return rc;
	}
	if (in->kind != PF_I_VALUE || vfs_read_only(fs, in))
		return vfs_read_only(fs, in) ? EROFS : EPERM;
	rc = EAGAIN;
	for (tries = 0; tries < EDIT_TRIES && rc == EAGAIN; tries++) {
		if ((rc = vfs_edit_begin(fs, in)))
			break;
		rc = in->look == PF_LOOK_FILE
			 ? pf_edit_convert(in->src->doc, in->ref, type, why)
			 : EPERM;
		rc = vfs_edit_end(fs, in, rc, NULL);
	}
	return rc;
}

/* ---- refusals -------------------------------------------------------------
 * Every edit that fails is logged with the pickle, the path of the value in
 * it and the reason: a shell ignores what close() says (`echo x > f`), so
 * the log is where a refusal can always be found. */

/* "NAME: path/in/the/pickle" of in (and of its entry `child`). */
static void describe_entry(pf_inode *in, const char *child, pk_buf *out)
{
	pf_inode **chain = NULL, *p;
	size_t n = 0, cap = 0, k;
	pk_buf name = PK_BUF_INIT;

	for (p = in; p && (p->kind == PF_I_VALUE || p->kind == PF_I_SCRATCH);
	     p = p->parent) {
		if (pk_vec_grow((void **)&chain, &cap, n + 1, sizeof(*chain)))
			break;
		chain[n++] = p;
	}
	if (!p || !p->src) {
		pk_buf_adds(out, p && p->path ? p->path : "?");
	} else {
		pk_buf_adds(out, p->src->display);
		if (pf_source_enter(p->src) == 0) {
			for (k = n; k-- > 0;) {
				pf_inode *c = chain[k];
				uint64_t pos, id;
				pk_buf_reset(&name);
				if (c->kind == PF_I_SCRATCH)
					pk_buf_adds(&name, c->name);
				else if (vfs_resolve(c->parent) ||
					 vfs_entry_pos(c->parent, c->index,
						       &pos) ||
					 vfs_entry_at(c->parent, pos, &name,
						      &id))
					pk_buf_adds(&name, "?");
				pk_buf_addc(out, k == n - 1 ? ':' : '/');
				if (k == n - 1)
					pk_buf_addc(out, ' ');
				pk_buf_add(out, name.data, name.len);
			}
			pf_source_leave(p->src);
		}
	}
	if (child)
		pk_buf_addf(out, "%s%s", n ? "/" : ": ", child);
	pk_buf_release(&name);
	free(chain);
}

static int refused(pf_fs *fs, pf_inode *in, const char *child, int rc,
		   pk_err *why)
{
	pk_buf what = PK_BUF_INIT;

	if (!rc || !in)
		return rc;
	describe_entry(in, child, &what);
	if (why && why->msg)
		pf_log("%s: edit refused: %s (%s)",
		       what.data ? (char *)what.data : "?", why->msg,
		       strerror(rc));
	else
		pf_log("%s: edit refused: %s",
		       what.data ? (char *)what.data : "?", strerror(rc));
	pk_buf_release(&what);
	return rc;
}

/* A handle's refusal is logged once, not again at each close (a shell's
 * dup'ed descriptors flush the same handle several times). */
int vfs_handle_refused(pf_fs *fs, pf_file *f, int rc, pk_err *why)
{
	const char *msg = why ? why->msg : NULL;

	if (rc && (rc != f->reported || msg != f->reported_msg)) {
		f->reported = rc;
		f->reported_msg = msg;
		refused(fs, f->in, NULL, rc, why);
	}
	return rc;
}

int pf_fs_write(pf_fs *fs, pf_file *f, uint64_t off, const void *data,
		size_t size)
{
	pk_err why = {PK_OK, NULL, 0};

	return vfs_handle_refused(fs, f, write_op(fs, f, off, data, size, &why),
				  &why);
}

int pf_fs_flush(pf_fs *fs, pf_file *f)
{
	pk_err why = {PK_OK, NULL, 0};
	int rc;

	if (!f)
		return 0;
	/* a refusal of this handle's edit is logged as one; an earlier
	 * write-back's error is only reported (the log said it then) */
	rc = vfs_handle_refused(fs, f, flush_handle(fs, f, &why), &why);
	return rc ? rc : pending_error(fs, f);
}

int pf_fs_truncate(pf_fs *fs, pf_inode *in, pf_file *f, uint64_t size,
		   struct stat *st)
{
	pk_err why = {PK_OK, NULL, 0};

	return refused(fs, in, NULL, truncate_op(fs, in, f, size, st, &why),
		       &why);
}

int pf_fs_create(pf_fs *fs, pf_inode *dir, const char *name, int flags,
		 pf_inode **out, struct stat *st, pf_file **fh)
{
	pk_err why = {PK_OK, NULL, 0};
	int rc =
	    refused(fs, dir, name,
		    create_op(fs, dir, name, flags, out, st, fh, &why), &why);

	if (!rc)
		vfs_handle_track(fs, &(*fh)->link, 0);
	return rc;
}

int pf_fs_mkdir(pf_fs *fs, pf_inode *dir, const char *name, pf_inode **out,
		struct stat *st)
{
	pk_err why = {PK_OK, NULL, 0};

	return refused(fs, dir, name, mkdir_op(fs, dir, name, out, st, &why),
		       &why);
}

int pf_fs_unlink(pf_fs *fs, pf_inode *dir, const char *name)
{
	pk_err why = {PK_OK, NULL, 0};

	return refused(fs, dir, name, unlink_op(fs, dir, name, &why), &why);
}

int pf_fs_rmdir(pf_fs *fs, pf_inode *dir, const char *name)
{
	pk_err why = {PK_OK, NULL, 0};

	return refused(fs, dir, name, rmdir_op(fs, dir, name, &why), &why);
}

int pf_fs_rename(pf_fs *fs, pf_inode *dir, const char *name, pf_inode *newdir,
		 const char *newname, unsigned flags)
{
	pk_err why = {PK_OK, NULL, 0};

	/* RENAME_EXCHANGE / RENAME_NOREPLACE: not for values */
	return refused(fs, dir, name,
		       flags ? EINVAL
			     : rename_op(fs, dir, name, newdir, newname, &why),
		       &why);
}

int pf_fs_setattr(pf_fs *fs, pf_inode *in, pf_file *f, int set_size,
		  uint64_t size, struct stat *st)
{
	if (vfs_read_only(fs, in))
		return EROFS;
	if (set_size)
		return pf_fs_truncate(fs, in, f, size, st);
	/* modes, owners and times belong to the pickle file */
	return pf_fs_getattr(fs, in, st);
}

int pf_fs_special(pf_fs *fs)
{
	return fs->ro ? EROFS : EPERM;
}

int pf_fs_removexattr(pf_fs *fs, pf_inode *in, const char *name)
{
	return fs->ro ? EROFS : ENOTSUP;
}

int pf_fs_setxattr(pf_fs *fs, pf_inode *in, const char *name, const char *value,
		   size_t size)
{
	pk_err why = {PK_OK, NULL, 0};

	return refused(fs, in, NULL,
		       setxattr_op(fs, in, name, value, size, &why), &why);
}
