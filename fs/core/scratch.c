/*
 * scratch.c - files that live in memory inside a pickle directory: what
 * editors and atomic writers keep beside the file they change (known by
 * their names), and a new file until it is closed (then it is a new
 * key).
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

/* ---- the write side ---------------------------------------------------- */

static int alnum_tail(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Names editors and atomic writers give the files they keep beside the
 * one they change. */
int vfs_scratch_name(const char *name)
{
	size_t n = strlen(name);

	if (n && name[n - 1] == '~')
		return 1; /* backups: name~ */
	if (strcmp(name, "4913") == 0)
		return 1; /* vim's "can I create files here" probe */
	if (name[0] == '.' && n > 4 &&
	    (strcmp(name + n - 4, ".swp") == 0 ||
	     strcmp(name + n - 4, ".swx") == 0 ||
	     strcmp(name + n - 4, ".swo") == 0 ||
	     strcmp(name + n - 5, ".swpx") == 0))
		return 1; /* vim swap files */
	if (name[0] == '.' && name[1] == '#')
		return 1; /* emacs lock files */
	if (name[0] == '#' && n > 1 && name[n - 1] == '#')
		return 1; /* emacs auto-saves */
	/* the temporary files of atomic writers (O_EXCL, random tails):
	 * GNU sed -i "sedXXXXXX", perl -i "XXxxxxxx", Python's mkstemp
	 * "tmpxxxxxxxx" */
	if (n == 9 && memcmp(name, "sed", 3) == 0 && alnum_tail(name + 3, 6))
		return 1;
	if (n == 8 && memcmp(name, "XX", 2) == 0 && alnum_tail(name + 2, 6))
		return 1;
	if (n == 11 && memcmp(name, "tmp", 3) == 0 && alnum_tail(name + 3, 8))
		return 1;
	return 0;
}

/* Caller holds xlock. */
struct pf_scratch *vfs_scratch_find(pf_fs *fs, pf_inode *dir, const char *name)
{
	struct pf_scratch *sc;

	for (sc = fs->scratch; sc; sc = sc->next)
		if (sc->dir == dir && strcmp(sc->name, name) == 0)
			return sc;
	return NULL;
}

struct pf_scratch *vfs_scratch_of_inode(pf_fs *fs, pf_inode *in)
{
	struct pf_scratch *sc;

	for (sc = fs->scratch; sc; sc = sc->next)
		if (sc->ino == in->ino)
			return sc;
	return NULL;
}

void vfs_scratch_unlink_locked(pf_fs *fs, struct pf_scratch *gone)
{
	struct pf_scratch **pp;

	for (pp = &fs->scratch; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			break;
		}
	/* an open handle may still point at it: keep the memory until the
	 * mount ends, but detached from every name */
	gone->dir = NULL;
	pk_buf_release(&gone->data);
	gone->next = fs->gone;
	fs->gone = gone;
}

static void scratch_stat(const struct pf_scratch *sc, pf_inode *in,
			 struct stat *st)
{
	pf_source *s = in->src;

	memset(st, 0, sizeof(*st));
	st->st_ino = sc->ino;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_size = (off_t)sc->data.len;
	st->st_blksize = 4096;
	if (s) {
		st->st_uid = s->st.st_uid;
		st->st_gid = s->st.st_gid;
		st->st_mtim = s->st.st_mtim;
		st->st_ctim = s->st.st_ctim;
		st->st_atim = s->st.st_atim;
	}
}

int vfs_scratch_attr(pf_fs *fs, pf_inode *in, struct stat *st)
{
	struct pf_scratch *sc;
	int rc = ENOENT;

	pthread_mutex_lock(&fs->xlock);
	sc = vfs_scratch_of_inode(fs, in);
	if (sc && sc->dir) {
		scratch_stat(sc, in, st);
		rc = 0;
	}
	pthread_mutex_unlock(&fs->xlock);
	return rc;
}

int vfs_scratch_lookup(pf_fs *fs, pf_inode *dir, const char *name,
		       pf_inode **out, struct stat *st)
{
	struct pf_scratch *sc;
	pf_inode *in;
	int rc = ENOENT;

	pthread_mutex_lock(&fs->xlock);
	sc = vfs_scratch_find(fs, dir, name);
	if (sc) {
		in = pf_itable_get(fs->itab, dir, PF_I_SCRATCH, name, 0,
				   dir->src, sc->ino);
		if (!in) {
			rc = ENOMEM;
		} else {
			scratch_stat(sc, in, st);
			*out = in;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&fs->xlock);
	return rc;
}

int vfs_new_scratch(pf_fs *fs, pf_inode *dir, const char *name, int keep,
		    pf_inode **out, struct stat *st, pf_file **fh)
{
	struct pf_scratch *sc = calloc(1, sizeof(*sc));
	pf_file *f = vfs_new_handle();
	pf_inode *in;

	if (!sc || !f || !(sc->name = strdup(name))) {
		free(sc);
		free(f);
		return ENOMEM;
	}
	pk_buf_init(&sc->data);
	sc->dir = dir;
	sc->keep = keep;
	pthread_mutex_lock(&fs->xlock);
	sc->ino = fs->next_scratch_ino++;
	sc->next = fs->scratch;
	fs->scratch = sc;
	in = pf_itable_get(fs->itab, dir, PF_I_SCRATCH, name, 0, dir->src,
			   sc->ino);
	if (in)
		scratch_stat(sc, in, st);
	pthread_mutex_unlock(&fs->xlock);
	if (!in) {
		free(f);
		return ENOMEM;
	}
	f->in = in;
	f->writable = 1;
	f->sc = sc;
	f->dirty = !keep; /* an empty new file is still a new key */
	*out = in;
	*fh = f;
	return 0;
}
