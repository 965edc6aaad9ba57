/*
 * mirror.c - the folders and plain files of a folder SOURCE, shown as
 * they are (read-only); a file that is a pickle becomes a directory.
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

/* ---- the mirrored folder ----------------------------------------------- */

static char *child_path(const pf_inode *dir, const char *name)
{
	size_t pl = strlen(dir->path), nl = strlen(name);
	char *p = malloc(pl + nl + 2);

	if (!p)
		return NULL;
	if (strcmp(dir->path, ".") == 0) {
		memcpy(p, name, nl + 1);
	} else {
		memcpy(p, dir->path, pl);
		p[pl] = '/';
		memcpy(p + pl + 1, name, nl + 1);
	}
	return p;
}

static void mirror_fix(struct stat *st)
{
	/* read-only for now: the write side comes later */
	st->st_mode &= ~(mode_t)0222;
}

int vfs_mirror_lookup(pf_fs *fs, pf_inode *dir, const char *name,
		      pf_inode **out, struct stat *st)
{
	char *path = child_path(dir, name);
	pf_source *src = NULL;
	pf_inode *child;
	int kind, rc = 0;

	if (!path)
		return ENOMEM;
	if (pk_pickle_file_is_temp(name)) {
		rc = ENOENT; /* a write-back's temporary file: not shown */
		goto out;
	}
	if (pf_beneath_stat(fs->dirfd, path, st) < 0) {
		rc = errno;
		goto out;
	}
	if (S_ISDIR(st->st_mode)) {
		kind = PF_I_MIRROR_DIR;
	} else if (S_ISREG(st->st_mode)) {
		src = vfs_source_for(fs, path);
		if (!src) {
			rc = ENOMEM;
			goto out;
		}
		kind = vfs_kind_of_state(pf_source_classify(src, st, 0),
					 PF_I_MIRROR_FILE);
		if (kind == PF_I_MIRROR_FILE)
			src = NULL;
	} else {
		kind = PF_I_MIRROR_FILE;
	}
	child = pf_itable_get(fs->itab, dir, kind, name, 0, src, st->st_ino);
	if (!child) {
		rc = ENOMEM;
		goto out;
	}
	if (kind == PF_I_PICKLE || kind == PF_I_ARCHIVE) {
		rc = kind == PF_I_PICKLE ? vfs_pickle_attr(child, st)
					 : vfs_archive_attr(fs, child, st);
		if (rc) {
			pf_itable_forget(fs->itab, child, 1);
			goto out;
		}
	} else {
		mirror_fix(st);
	}
	*out = child;
out:
	free(path);
	return rc;
}

int vfs_mirror_attr(pf_fs *fs, pf_inode *in, struct stat *st)
{
	if (pf_beneath_stat(fs->dirfd, in->path, st) < 0)
		return errno;
	mirror_fix(st);
	return 0;
}

int vfs_mirror_opendir(pf_fs *fs, pf_inode *in, pf_dirh *d)
{
	int fd;
	DIR *dir;
	struct dirent *de;
	size_t cap = 0;

	vfs_sweep_folder(fs, in->path); /* the first listing */
	fd = pf_beneath_open(fs->dirfd, in->path, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return errno;
	}
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    pk_pickle_file_is_temp(de->d_name))
			continue;
		if (d->n == cap) {
			/* three arrays of one length: each grows as the
			 * others did, from the same capacity */
			size_t cn = cap, ct = cap, ci = cap;
			if (pk_vec_grow((void **)&d->names, &cn, d->n + 1,
					sizeof(*d->names)) ||
			    pk_vec_grow((void **)&d->types, &ct, d->n + 1,
					sizeof(*d->types)) ||
			    pk_vec_grow((void **)&d->inos, &ci, d->n + 1,
					sizeof(*d->inos))) {
				closedir(dir);
				return ENOMEM;
			}
			cap = cn;
		}
		d->names[d->n] = strdup(de->d_name);
		if (!d->names[d->n]) {
			closedir(dir);
			return ENOMEM;
		}
		d->types[d->n] = de->d_type;
		d->inos[d->n] = de->d_ino;
		d->n++;
	}
	closedir(dir);
	return 0;
}

static mode_t mode_of_dtype(unsigned char t)
{
	switch (t) {
	case DT_DIR:
		return S_IFDIR;
	case DT_REG:
		return S_IFREG;
	case DT_LNK:
		return S_IFLNK;
	case DT_FIFO:
		return S_IFIFO;
	case DT_SOCK:
		return S_IFSOCK;
	case DT_CHR:
		return S_IFCHR;
	case DT_BLK:
		return S_IFBLK;
	}
	return 0;
}

int vfs_mirror_readdir(pf_fs *fs, pf_inode *in, pf_dirh *d, uint64_t off,
		       pf_fill_fn fill, void *ctx)
{
	uint64_t i;

	for (i = off - 2; i < d->n; i++) {
		struct stat st;
		unsigned char t = d->types[i];
		memset(&st, 0, sizeof(st));
		st.st_ino = d->inos[i];
		if (t == DT_REG || t == DT_UNKNOWN) {
			char *path = child_path(in, d->names[i]);
			struct stat fst;
			if (path &&
			    pf_beneath_stat(fs->dirfd, path, &fst) == 0) {
				t = S_ISDIR(fst.st_mode)   ? DT_DIR
				    : S_ISREG(fst.st_mode) ? DT_REG
							   : DT_UNKNOWN;
				if (t == DT_REG) {
					pf_source *src =
					    vfs_source_for(fs, path);
					int state = src ? pf_source_classify(
							      src, &fst, 1)
							: PF_SRC_FILE;
					t = state == PF_SRC_PICKLE ||
						    state == PF_SRC_ARCHIVE
						? DT_DIR
					    : state == PF_SRC_FILE ? DT_REG
								   : DT_UNKNOWN;
				}
			}
			free(path);
		}
		st.st_mode = mode_of_dtype(t);
		if (fill(ctx, d->names[i], &st, i + 3))
			break;
	}
	return 0;
}
