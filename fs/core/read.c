/*
 * read.c - the read side of the mount: lookup, getattr, readlink,
 * directories and files, for the mirrored folder, pickles and scratch
 * files alike (each kind's own work is in mirror.c, node.c, scratch.c).
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

#include "beneath.h"
#include "chunked.h"
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

/* ---- operations -------------------------------------------------------- */

int pf_fs_lookup(pf_fs *fs, pf_inode *dir, const char *name, pf_inode **out,
		 struct stat *st)
{
	if (strlen(name) > 255)
		return ENAMETOOLONG;
	switch (dir->kind) {
	case PF_I_MIRROR_DIR:
		return vfs_mirror_lookup(fs, dir, name, out, st);
	case PF_I_PICKLE:
	case PF_I_VALUE:
		if (vfs_scratch_lookup(fs, dir, name, out, st) == 0)
			return 0;
		return vfs_value_lookup(fs, dir, name, out, st);
	case PF_I_ARCHIVE:
	case PF_I_ARC_DIR:
		return vfs_archive_lookup(fs, dir, name, out, st);
	}
	return ENOTDIR;
}

int pf_fs_getattr(pf_fs *fs, pf_inode *in, struct stat *st)
{
	int rc;

	switch (in->kind) {
	case PF_I_MIRROR_DIR:
	case PF_I_MIRROR_FILE:
		return vfs_mirror_attr(fs, in, st);
	case PF_I_PICKLE:
		return vfs_pickle_attr(in, st);
	case PF_I_SCRATCH:
		return vfs_scratch_attr(fs, in, st);
	case PF_I_ARCHIVE:
	case PF_I_ARC_DIR:
	case PF_I_ARC_FILE:
		return vfs_archive_attr(fs, in, st);
	}
	if ((rc = vfs_enter(in)))
		return rc;
	rc = vfs_value_attr(in->src, in, st);
	pf_source_leave(in->src);
	return rc;
}

int pf_fs_readlink(pf_fs *fs, pf_inode *in, pk_buf *out)
{
	char buf[4096];
	ssize_t n;
	int rc;

	if (in->kind == PF_I_MIRROR_FILE) {
		n = pf_beneath_readlink(fs->dirfd, in->path, buf, sizeof(buf));
		if (n < 0)
			return errno;
		return pk_buf_add(out, buf, (size_t)n) ? ENOMEM : 0;
	}
	if (in->kind != PF_I_VALUE)
		return EINVAL;
	if ((rc = vfs_enter(in)))
		return rc;
	rc = in->look == PF_LOOK_LINK ? vfs_value_link(in, out) : EINVAL;
	pf_source_leave(in->src);
	return rc;
}

static void free_dirh(pf_dirh *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	free(d->types);
	free(d->inos);
	free(d);
}

static int open_dir(pf_fs *fs, pf_inode *in, pf_dirh **out)
{
	pf_dirh *d = calloc(1, sizeof(*d));
	int rc = 0;

	if (!d)
		return ENOMEM;
	switch (in->kind) {
	case PF_I_MIRROR_DIR:
		rc = vfs_mirror_opendir(fs, in, d);
		break;
	case PF_I_ARCHIVE:
	case PF_I_ARC_DIR:
		rc = vfs_archive_opendir(fs, in, d);
		break;
	case PF_I_PICKLE:
	case PF_I_VALUE:
		if ((rc = vfs_enter(in)))
			break;
		if (in->look != PF_LOOK_DIR) {
			rc = ENOTDIR;
		} else {
			in->src->pins++;
			d->pinned = in->src;
		}
		pf_source_leave(in->src);
		break;
	default:
		rc = ENOTDIR;
	}
	if (rc) {
		free_dirh(d);
		return rc;
	}
	*out = d;
	return 0;
}

int pf_fs_opendir(pf_fs *fs, pf_inode *in, pf_dirh **out)
{
	int rc = open_dir(fs, in, out);

	if (!rc)
		vfs_handle_track(fs, &(*out)->link, 1);
	return rc;
}

void pf_fs_releasedir(pf_fs *fs, pf_dirh *d)
{
	if (!d)
		return;
	vfs_handle_untrack(fs, &d->link);
	if (d->pinned) {
		pthread_mutex_lock(&d->pinned->lock);
		d->pinned->pins--;
		pthread_mutex_unlock(&d->pinned->lock);
	}
	free_dirh(d);
}

static int fill_dots(pf_inode *in, uint64_t *off, pf_fill_fn fill, void *ctx)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR;
	if (*off == 0) {
		st.st_ino = in->ino;
		if (fill(ctx, ".", &st, 1))
			return 1;
		*off = 1;
	}
	if (*off == 1) {
		st.st_ino = in->parent ? in->parent->ino : in->ino;
		if (fill(ctx, "..", &st, 2))
			return 1;
		*off = 2;
	}
	return 0;
}

static int value_readdir(pf_inode *in, uint64_t off, pf_fill_fn fill, void *ctx)
{
	pf_source *s = in->src;
	pk_buf name = PK_BUF_INIT;
	uint64_t i, n, id;
	int rc = vfs_enter(in);

	if (rc)
		return rc;
	if ((rc = pf_docview_count(s->dv, in->ref, &n)))
		goto out;
	for (i = off - 2; i < n; i++) {
		struct stat st;
		pf_child ch;
		pk_buf_reset(&name);
		if ((rc = pf_docview_child(s->dv, in->ref, i, &ch)) ||
		    (rc = vfs_entry_at(in, i, &name, &id)))
			break;
		memset(&st, 0, sizeof(st));
		st.st_ino = pf_value_ino(in->ino, id);
		st.st_mode = ch.look == PF_LOOK_DIR    ? S_IFDIR
			     : ch.look == PF_LOOK_LINK ? S_IFLNK
						       : S_IFREG;
		if (fill(ctx, (const char *)name.data, &st, i + 3))
			break;
	}
out:
	pk_buf_release(&name);
	pf_source_leave(s);
	return rc;
}

int pf_fs_readdir(pf_fs *fs, pf_inode *in, pf_dirh *d, uint64_t off,
		  pf_fill_fn fill, void *ctx)
{
	if (fill_dots(in, &off, fill, ctx))
		return 0;
	if (in->kind == PF_I_MIRROR_DIR)
		return vfs_mirror_readdir(fs, in, d, off, fill, ctx);
	if (in->kind == PF_I_ARCHIVE || in->kind == PF_I_ARC_DIR)
		return vfs_archive_readdir(fs, in, d, off, fill, ctx);
	return value_readdir(in, off, fill, ctx);
}

/* ---- files ------------------------------------------------------------- */

static int open_file(pf_fs *fs, pf_inode *in, int flags, pf_file **out,
		     int *keep_cache)
{
	pf_file *f;
	int rc = 0;

	*keep_cache = 0;
	if (in->kind == PF_I_MIRROR_DIR || in->kind == PF_I_PICKLE ||
	    in->kind == PF_I_ARCHIVE || in->kind == PF_I_ARC_DIR)
		return EISDIR;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) {
		if (vfs_read_only(fs, in))
			return EROFS;
		if (in->kind == PF_I_VALUE || in->kind == PF_I_SCRATCH)
			return vfs_open_for_write(fs, in, flags, out);
		return EROFS; /* plain files of the folder: read-only */
	}
	if (in->kind == PF_I_SCRATCH)
		return vfs_open_for_write(fs, in, flags, out);
	f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->fd = -1;
	pf_content_init(&f->c);
	if (in->kind == PF_I_ARC_FILE) {
		if ((rc = vfs_archive_open(fs, in, f))) {
			free(f);
			return rc;
		}
		*out = f;
		return 0;
	}
	if (in->kind == PF_I_MIRROR_FILE) {
		struct stat st;
		/* no symlink is followed (beneath.h); a file swapped for a
		 * fifo since the lookup does not block the daemon, nor is
		 * anything but a regular file opened */
		f->fd = pf_beneath_open(fs->dirfd, in->path,
					O_RDONLY | O_NONBLOCK | O_NOCTTY);
		rc = f->fd < 0 || fstat(f->fd, &st) < 0 ? errno
		     : !S_ISREG(st.st_mode)		? ESTALE
							: 0;
		if (rc) {
			if (f->fd >= 0)
				close(f->fd);
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
	if (in->look == PF_LOOK_DIR) {
		rc = EISDIR;
	} else if (in->look == PF_LOOK_LINK) {
		rc = ELOOP;
	} else {
		pk_err e = {PK_OK, NULL, 0};
		/* a large view (values.txt) is read in chunks from its
		 * stream (chunked.h), never rendered whole */
		rc = pf_docview_content(in->src->dv, in->ref, PF_CONTENT_STREAM,
					&f->c, &e);
		if (rc && e.msg) /* the codec's words reach the log */
			pf_log("%s: byte %llu: %s", in->src->display,
			       (unsigned long long)e.offset, e.msg);
		if (!rc) {
			f->map = in->src->map;
			pf_map_ref(f->map);
			*keep_cache = in->open_gen == in->src->gen;
			in->open_gen = in->src->gen;
		}
	}
	pf_source_leave(in->src);
	if (rc) {
		pf_content_release(&f->c);
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

int pf_fs_open(pf_fs *fs, pf_inode *in, int flags, pf_file **out,
	       int *keep_cache)
{
	int rc = open_file(fs, in, flags, out, keep_cache);

	if (!rc)
		vfs_handle_track(fs, &(*out)->link, 0);
	return rc;
}

int pf_fs_read(pf_fs *fs, pf_file *f, uint64_t off, size_t size, pf_span *out)
{
	uint64_t len = f->c.len;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (f->writable) {
		const pk_buf *b = f->sc ? &f->sc->data : &f->wbuf;
		if (off < b->len && size > 0) {
			size_t n2 =
			    b->len - off < size ? b->len - (size_t)off : size;
			out->copy = malloc(n2);
			if (!out->copy)
				return ENOMEM;
			memcpy(out->copy, b->data + off, n2);
			out->iov[0].iov_base = out->copy;
			out->iov[0].iov_len = n2;
			out->niov = 1;
		}
		return 0;
	}
	if (f->fd >= 0) {
		out->fd = f->fd;
		out->fd_off = off;
		out->fd_len = size;
		return 0;
	}
	if (pf_map_torn(f->map))
		return EIO; /* the file shrank under the bytes we served */
	if (f->c.stream) {
		/* the chunks the range covers, rendered now (the stream
		 * keeps the last two: sequential reads render each once) */
		size_t got;
		int rc;
		if (off >= len || size == 0)
			return 0;
		if (len - off < size)
			size = (size_t)(len - off);
		out->copy = malloc(size);
		if (!out->copy)
			return ENOMEM;
		if ((rc = pf_vstream_read(f->c.stream, off, size, out->copy,
					  &got))) {
			free(out->copy);
			out->copy = NULL;
			return rc;
		}
		out->iov[0].iov_base = out->copy;
		out->iov[0].iov_len = got;
		out->niov = 1;
		return 0;
	}
	if (f->c.head.len) {
		/* a header before the data (array.npy): copied, then the
		 * data from where it is */
		uint64_t hl = f->c.head.len;
		if (off < hl && size > 0) {
			size_t n = hl - off < size ? (size_t)(hl - off) : size;
			out->copy = malloc(n);
			if (!out->copy)
				return ENOMEM;
			memcpy(out->copy, f->c.head.data + off, n);
			out->iov[0].iov_base = out->copy;
			out->iov[0].iov_len = n;
			out->niov = 1;
			off += n;
			size -= n;
		}
		if (off < hl || size == 0)
			return 0;
		off -= hl;
		/* the data is in the mapped pickle (content.c copies a
		 * decoded payload together with its header) */
		if (off < len) {
			uint64_t n = len - off < size ? len - off : size;
			if (f->map) {
				pf_map_ref(f->map);
				out->hold = f->map;
			}
			out->iov[out->niov].iov_base =
			    (void *)(f->c.data + off);
			out->iov[out->niov].iov_len = (size_t)n;
			out->niov++;
		}
		return 0;
	}
	if (off < len && size > 0) {
		uint64_t n = len - off < size ? len - off : size;
		const uint8_t *p = f->c.data + off;
		if (f->c.owned.data || f->c.blob) {
			/* text the handle owns or shares: copy it (pf_span) */
			out->copy = malloc((size_t)n);
			if (!out->copy)
				return ENOMEM;
			memcpy(out->copy, p, (size_t)n);
			p = out->copy;
		} else if (f->map) {
			/* zero-copy from the mapped pickle */
			pf_map_ref(f->map);
			out->hold = f->map;
		}
		out->iov[0].iov_base = (void *)p;
		out->iov[0].iov_len = (size_t)n;
		out->niov = 1;
		off += n;
		size -= (size_t)n;
	}
	if (f->c.nl && off == len && size > 0) {
		out->iov[out->niov].iov_base = (void *)"\n";
		out->iov[out->niov].iov_len = 1;
		out->niov++;
	}
	return 0;
}

void pf_span_release(pf_span *sp)
{
	free(sp->copy);
	pf_map_unref(sp->hold);
	sp->copy = NULL;
	sp->hold = NULL;
}

void pf_fs_release(pf_fs *fs, pf_file *f)
{
	if (!f)
		return;
	vfs_handle_untrack(fs, &f->link);
	if (f->dirty) { /* what no flush committed: the log is all that
			   can tell of a refusal now */
		pk_err why = {PK_OK, NULL, 0};
		vfs_handle_refused(fs, f, vfs_commit_handle(fs, f, &why), &why);
	}
	pk_buf_release(&f->wbuf);
	if (f->fd >= 0)
		close(f->fd);
	pf_content_release(&f->c);
	pf_map_unref(f->map);
	free(f);
}

pf_file *vfs_new_handle(void)
{
	pf_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->fd = -1;
	pf_content_init(&f->c);
	pk_buf_init(&f->wbuf);
	return f;
}

void vfs_handle_track(pf_fs *fs, struct pf_handle_link *h, int is_dir)
{
	h->is_dir = is_dir;
	pthread_mutex_lock(&fs->hlock);
	h->next = fs->handles.next;
	h->prev = &fs->handles;
	h->next->prev = h;
	fs->handles.next = h;
	pthread_mutex_unlock(&fs->hlock);
}

void vfs_handle_untrack(pf_fs *fs, struct pf_handle_link *h)
{
	pthread_mutex_lock(&fs->hlock);
	if (h->next) {
		h->next->prev = h->prev;
		h->prev->next = h->next;
		h->next = h->prev = NULL;
	}
	pthread_mutex_unlock(&fs->hlock);
}

size_t vfs_release_all(pf_fs *fs)
{
	size_t n = 0;

	for (;;) {
		struct pf_handle_link *h;
		pthread_mutex_lock(&fs->hlock);
		h = fs->handles.next != &fs->handles ? fs->handles.next : NULL;
		pthread_mutex_unlock(&fs->hlock);
		if (!h)
			return n;
		/* the link is each handle's first member */
		if (h->is_dir)
			pf_fs_releasedir(fs, (pf_dirh *)h);
		else
			pf_fs_release(fs, (pf_file *)h);
		n++;
	}
}
