/*
 * archive_dir.c - tar and zip archives shown as directories of their
 * members (read-only): the archive's top (PF_I_ARCHIVE), its folders
 * (PF_I_ARC_DIR) and its plain members (PF_I_ARC_FILE). A member that
 * is a pickle is a PF_I_PICKLE over a member source (source.h), one that
 * is an archive a PF_I_ARCHIVE over it: nested archives are opened when
 * they are looked up, one level at a time.
 */
#include "vfs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "log.h"

/* The archive's source of an archive inode, and the inode of its top. */
static pf_inode *archive_top(pf_inode *in)
{
	while (in && in->kind != PF_I_ARCHIVE)
		in = in->parent;
	return in;
}

/* The member name of `name` in the archive directory dir ("" at the
 * top). Caller frees. */
static char *member_name(const pf_inode *dir, const char *name)
{
	char *p;

	if (dir->kind == PF_I_ARCHIVE)
		return strdup(name);
	if (asprintf(&p, "%s/%s", dir->path, name) < 0)
		return NULL;
	return p;
}

/* Attributes of member m (index i) of the archive whose top is top. */
static void member_attr(const pf_inode *top, const pf_arc_member *m, uint32_t i,
			struct stat *st)
{
	const pf_source *arc = top->src;

	memset(st, 0, sizeof(*st));
	st->st_uid = arc->st.st_uid;
	st->st_gid = arc->st.st_gid;
	st->st_dev = arc->st.st_dev;
	st->st_blksize = 4096;
	st->st_ino = pf_value_ino(top->ino, i);
	st->st_mtim.tv_sec = m->mtime ? m->mtime : arc->st.st_mtim.tv_sec;
	st->st_atim = st->st_mtim;
	st->st_ctim = arc->st.st_ctim;
	if (m->type == PF_ARC_DIR) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		st->st_size = m->nchildren;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)m->usize;
		st->st_blocks = (st->st_size + 511) / 512;
	}
}

/* The member index of an archive inode (0 for the top). Archive lock
 * held. */
static uint32_t inode_member(const pf_inode *in, const pf_arc_index *ix)
{
	return in->kind == PF_I_ARCHIVE ? 0 : pf_arc_find(ix, in->path);
}

/* The top of an archive: the file's owner, times and read bits, as a
 * directory; its index is not read for this (an `ls -l` of a folder of
 * 1 GB tar.gz files decompresses none of them). */
static void top_attr(pf_inode *in, struct stat *st)
{
	pf_source *arc = in->src;
	mode_t r;

	pthread_mutex_lock(&arc->lock);
	r = arc->st.st_mode & 0444;
	memset(st, 0, sizeof(*st));
	st->st_ino = in->ino;
	st->st_mode = S_IFDIR | r | (r >> 2);
	st->st_nlink = 2;
	st->st_uid = arc->st.st_uid;
	st->st_gid = arc->st.st_gid;
	st->st_dev = arc->st.st_dev;
	st->st_mtim = arc->st.st_mtim;
	st->st_ctim = arc->st.st_ctim;
	st->st_atim = arc->st.st_atim;
	st->st_blksize = 4096;
	pthread_mutex_unlock(&arc->lock);
}

int vfs_archive_attr(pf_fs *fs, pf_inode *in, struct stat *st)
{
	pf_inode *top = archive_top(in);
	pf_source *arc = top->src;
	uint32_t i;
	int rc;

	if (in->kind == PF_I_ARCHIVE) {
		top_attr(in, st);
		return 0;
	}
	if ((rc = pf_source_enter_archive(arc)))
		return rc;
	i = pf_arc_find(arc->ix, in->path);
	if (i == UINT32_MAX)
		rc = ESTALE;
	else
		member_attr(top, &arc->ix->m[i], i, st);
	pf_source_leave(arc);
	return rc;
}

int vfs_archive_lookup(pf_fs *fs, pf_inode *dir, const char *name,
		       pf_inode **out, struct stat *st)
{
	pf_inode *top = archive_top(dir), *child;
	pf_source *arc = top->src, *msrc = NULL;
	pf_arc_member m;
	uint32_t d, c;
	char *mname = member_name(dir, name);
	int rc, kind;

	if (!mname)
		return ENOMEM;
	if ((rc = pf_source_enter_archive(arc)))
		goto out;
	d = inode_member(dir, arc->ix);
	c = d == UINT32_MAX ? UINT32_MAX : pf_arc_lookup(arc->ix, d, name);
	if (c != UINT32_MAX) {
		m = arc->ix->m[c];
		member_attr(top, &m, c, st);
	}
	pf_source_leave(arc);
	if (c == UINT32_MAX) {
		rc = ENOENT;
		goto out;
	}
	if (m.type == PF_ARC_DIR) {
		kind = PF_I_ARC_DIR;
	} else {
		/* the archive's lock is not held: classifying the member
		 * reads its bytes through it */
		if (!(msrc = vfs_member_source_for(fs, arc, mname))) {
			rc = ENOMEM;
			goto out;
		}
		kind = vfs_kind_of_state(pf_source_classify(msrc, st, 0),
					 PF_I_ARC_FILE);
	}
	child = pf_itable_get(fs->itab, dir, kind, name, 0,
			      kind == PF_I_PICKLE || kind == PF_I_ARCHIVE ? msrc
									  : arc,
			      st->st_ino);
	if (!child) {
		rc = ENOMEM;
		goto out;
	}
	if (kind == PF_I_PICKLE)
		rc = vfs_pickle_attr(child, st);
	else if (kind == PF_I_ARCHIVE)
		rc = vfs_archive_attr(fs, child, st);
	if (rc) {
		pf_itable_forget(fs->itab, child, 1);
		goto out;
	}
	*out = child;
out:
	free(mname);
	return rc;
}

int vfs_archive_opendir(pf_fs *fs, pf_inode *in, pf_dirh *d)
{
	pf_inode *top = archive_top(in);
	pf_source *arc = top->src;
	uint32_t dm, i, c;
	int rc;

	if ((rc = pf_source_enter_archive(arc)))
		return rc;
	dm = inode_member(in, arc->ix);
	if (dm == UINT32_MAX) {
		rc = ESTALE;
		goto out;
	}
	d->n = 0;
	for (i = 0; (c = pf_arc_child(arc->ix, dm, i)) != UINT32_MAX; i++) {
		const pf_arc_member *m = &arc->ix->m[c];
		size_t cn = d->n, ct = d->n, ci = d->n;
		/* exact growth: three arrays of one length */
		if (pk_vec_grow((void **)&d->names, &cn, d->n + 1,
				sizeof(*d->names)) ||
		    pk_vec_grow((void **)&d->types, &ct, d->n + 1,
				sizeof(*d->types)) ||
		    pk_vec_grow((void **)&d->inos, &ci, d->n + 1,
				sizeof(*d->inos)) ||
		    !(d->names[d->n] = strdup(m->base))) {
			rc = ENOMEM;
			goto out;
		}
		/* a file member may be a pickle (a directory): only its
		 * lookup tells, so its type is left to stat */
		d->types[d->n] = m->type == PF_ARC_DIR ? DT_DIR : DT_UNKNOWN;
		d->inos[d->n] = pf_value_ino(top->ino, c);
		d->n++;
	}
out:
	pf_source_leave(arc);
	return rc;
}

int vfs_archive_readdir(pf_fs *fs, pf_inode *in, pf_dirh *d, uint64_t off,
			pf_fill_fn fill, void *ctx)
{
	uint64_t i;

	for (i = off - 2; i < d->n; i++) {
		struct stat st;
		memset(&st, 0, sizeof(st));
		st.st_ino = d->inos[i];
		st.st_mode = d->types[i] == DT_DIR ? S_IFDIR : 0;
		if (fill(ctx, d->names[i], &st, i + 3))
			break;
	}
	return 0;
}

int vfs_archive_open(pf_fs *fs, pf_inode *in, pf_file *f)
{
	pf_arc_member m;
	pk_err e = {PK_OK, NULL, 0};
	uint64_t epoch;
	pf_map *bytes = NULL;
	int rc;

	rc = pf_source_member_bytes(in->src, in->path, &m, &bytes, &epoch, 0,
				    &e);
	if (rc) {
		if (e.msg)
			pf_log("%s/%s: byte %llu of the archive: %s",
			       in->src->display, in->path,
			       (unsigned long long)e.offset, e.msg);
		return rc;
	}
	f->map = bytes;
	f->c.data = bytes->data;
	f->c.len = bytes->len;
	return 0;
}
