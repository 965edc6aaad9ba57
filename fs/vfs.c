#include "vfs.h"

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
#include "repr.h"
#include "shape.h"

/* ---- the filesystem ---------------------------------------------------- */

struct srcent {
	struct srcent *next;
	pf_source *src;
	char path[];
};

#define SRC_BUCKETS 4096

struct pf_fs {
	int dirfd;
	pf_source *file_src; /* file SOURCE */
	pf_itable *itab;
	pthread_mutex_t slock; /* the sources table */
	struct srcent *sources[SRC_BUCKETS];
};

struct pf_dirh {
	/* mirrored directory: a snapshot taken at opendir */
	char **names;
	unsigned char *types;
	uint64_t *inos;
	size_t n;
	/* pickle directory: its source, pinned in memory while open */
	pf_source *pinned;
};

struct pf_file {
	int fd; /* mirrored file, or -1 */
	pf_content c;
	pf_map *map; /* keeps zero-copy content alive */
};

static size_t path_hash(const char *s)
{
	size_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (uint8_t)*s;
	return h % SRC_BUCKETS;
}

/* The source for a file of a folder SOURCE (made on first sight; lives
 * as long as the mount). */
static pf_source *source_for(pf_fs *fs, const char *path)
{
	size_t h = path_hash(path), n = strlen(path);
	struct srcent *e;

	pthread_mutex_lock(&fs->slock);
	for (e = fs->sources[h]; e; e = e->next)
		if (strcmp(e->path, path) == 0)
			break;
	if (!e) {
		e = malloc(sizeof(*e) + n + 1);
		if (e) {
			memcpy(e->path, path, n + 1);
			e->src = pf_source_new(fs->dirfd, path, path);
			if (!e->src) {
				free(e);
				e = NULL;
			} else {
				e->next = fs->sources[h];
				fs->sources[h] = e;
			}
		}
	}
	pthread_mutex_unlock(&fs->slock);
	return e ? e->src : NULL;
}

int pf_fs_new(const pf_fs_config *cfg, pf_fs **out, char *msg, size_t n)
{
	pf_fs *fs = calloc(1, sizeof(*fs));
	struct stat st;
	char *copy1 = NULL, *copy2 = NULL;
	int rc = 0;

	*out = NULL;
	if (!fs) {
		snprintf(msg, n, "out of memory");
		return ENOMEM;
	}
	fs->dirfd = -1;
	pthread_mutex_init(&fs->slock, NULL);
	if (stat(cfg->source, &st) < 0) {
		rc = errno;
		snprintf(msg, n, "%s: %s", cfg->source, strerror(rc));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		fs->dirfd =
		    open(cfg->source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fs->dirfd < 0) {
			rc = errno;
			snprintf(msg, n, "%s: %s", cfg->source, strerror(rc));
			goto fail;
		}
		fs->itab = pf_itable_new(PF_I_MIRROR_DIR, ".", NULL, st.st_ino);
	} else if (S_ISREG(st.st_mode)) {
		pk_err e = {0, NULL, 0};
		copy1 = strdup(cfg->source);
		copy2 = strdup(cfg->source);
		if (!copy1 || !copy2) {
			rc = ENOMEM;
			snprintf(msg, n, "out of memory");
			goto fail;
		}
		fs->dirfd =
		    open(dirname(copy1), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fs->dirfd < 0) {
			rc = errno;
			snprintf(msg, n, "%s: %s", cfg->source, strerror(rc));
			goto fail;
		}
		fs->file_src =
		    pf_source_new(fs->dirfd, basename(copy2), cfg->source);
		if (!fs->file_src) {
			rc = ENOMEM;
			snprintf(msg, n, "out of memory");
			goto fail;
		}
		pf_source_set_progress(cfg->progress);
		rc = pf_source_load_now(fs->file_src, &e);
		pf_source_set_progress(0);
		if (rc) {
			if (e.msg)
				pf_source_describe_error(fs->file_src, msg, n);
			else
				snprintf(msg, n, "%s: %s", cfg->source,
					 strerror(rc));
			goto fail;
		}
		fs->itab = pf_itable_new(PF_I_PICKLE, basename(copy2),
					 fs->file_src, st.st_ino);
	} else {
		rc = EINVAL;
		snprintf(msg, n, "%s: not a file or a directory", cfg->source);
		goto fail;
	}
	if (!fs->itab) {
		rc = ENOMEM;
		snprintf(msg, n, "out of memory");
		goto fail;
	}
	free(copy1);
	free(copy2);
	*out = fs;
	return 0;
fail:
	free(copy1);
	free(copy2);
	pf_fs_free(fs);
	return rc;
}

void pf_fs_free(pf_fs *fs)
{
	size_t i;

	if (!fs)
		return;
	pf_itable_free(fs->itab);
	for (i = 0; i < SRC_BUCKETS; i++) {
		struct srcent *e = fs->sources[i], *next;
		for (; e; e = next) {
			next = e->next;
			pf_source_free(e->src);
			free(e);
		}
	}
	pf_source_free(fs->file_src);
	if (fs->dirfd >= 0)
		close(fs->dirfd);
	pthread_mutex_destroy(&fs->slock);
	free(fs);
}

pf_inode *pf_fs_root(pf_fs *fs)
{
	return pf_itable_root(fs->itab);
}

void pf_fs_forget(pf_fs *fs, pf_inode *in, uint64_t n)
{
	pf_itable_forget(fs->itab, in, n);
}

/* ---- inside a pickle --------------------------------------------------- */

/* Makes in->ref / in->look valid for the current tree, resolving the
 * ancestors whose cache is older first (iteratively: a pickle may be
 * nested far deeper than the C stack). Source lock held, tree loaded. */
static int resolve(pf_inode *in)
{
	pf_source *s = in->src;
	pf_inode **chain = NULL, *p;
	size_t n = 0, cap = 0, k;
	int rc = 0;

	if (in->gen == s->gen)
		return 0;
	for (p = in; p->kind == PF_I_VALUE && p->gen != s->gen; p = p->parent) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			pf_inode **nc = realloc(chain, ncap * sizeof(*nc));
			if (!nc) {
				free(chain);
				return ENOMEM;
			}
			chain = nc;
			cap = ncap;
		}
		chain[n++] = p;
	}
	if (p->kind == PF_I_PICKLE && p->gen != s->gen) {
		p->ref = pf_docview_root(s->dv);
		p->look = PF_LOOK_DIR;
		p->gen = s->gen;
	}
	for (k = n; k-- > 0;) {
		pf_inode *c = chain[k];
		pf_child ch;
		if (c->parent->look != PF_LOOK_DIR ||
		    pf_docview_child(s->dv, c->parent->ref, c->index, &ch)) {
			/* the pickle changed on disk: this path is gone */
			rc = ESTALE;
			break;
		}
		c->ref = ch.e.target;
		c->look = ch.look;
		c->gen = s->gen;
	}
	free(chain);
	return rc;
}

/* Enters the inode's pickle and resolves it. 0: source locked. */
static int enter(pf_inode *in)
{
	int rc = pf_source_enter(in->src);

	if (rc)
		return rc;
	rc = resolve(in);
	if (rc)
		pf_source_leave(in->src);
	return rc;
}

static void base_attr(const pf_source *s, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_uid = s->st.st_uid;
	st->st_gid = s->st.st_gid;
	st->st_atim = s->st.st_atim;
	st->st_mtim = s->st.st_mtim;
	st->st_ctim = s->st.st_ctim;
	st->st_dev = s->st.st_dev;
	st->st_blksize = 4096;
}

static mode_t dir_perms(const pf_source *s)
{
	mode_t r = s->st.st_mode & 0444;

	return r | (r >> 2);
}

/* Attributes of a resolved entry (source lock held). */
static int value_attr(pf_source *s, pf_inode *in, struct stat *st)
{
	uint64_t n;
	int rc;

	base_attr(s, st);
	st->st_ino = in->ino;
	switch (in->look) {
	case PF_LOOK_DIR:
		st->st_mode = S_IFDIR | dir_perms(s);
		if ((rc = pf_docview_count(s->dv, in->ref, &n)))
			return rc;
		st->st_size = (off_t)n;
		if ((rc = pf_docview_nsubdirs(s->dv, in->ref, &n)))
			return rc;
		st->st_nlink = (nlink_t)(2 + n);
		return 0;
	case PF_LOOK_LINK: {
		pk_buf b = PK_BUF_INIT;
		rc = pf_docview_link(s->dv, in->parent->ref, in->index, &b);
		st->st_mode = S_IFLNK | 0777;
		st->st_size = (off_t)b.len;
		st->st_nlink = 1;
		pk_buf_release(&b);
		return rc;
	}
	default: {
		pf_content c;
		rc = pf_content_get(s->doc, in->ref, PF_CONTENT_SIZE_ONLY, &c,
				    NULL);
		st->st_mode = S_IFREG | (s->st.st_mode & 0444);
		st->st_size = (off_t)pf_content_size(&c);
		st->st_blocks = (st->st_size + 511) / 512;
		st->st_nlink = 1;
		pf_content_release(&c);
		return rc;
	}
	}
}

/* Attributes of a pickle's top directory. Not parsed yet: no parse just
 * for `ls -l` (size 0, nlink 1 = "subdirectories unknown"). */
static int pickle_attr(pf_inode *in, struct stat *st)
{
	pf_source *s = in->src;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (s->dv && s->state == PF_SRC_PICKLE) {
		pthread_mutex_unlock(&s->lock);
		if ((rc = enter(in)))
			return rc;
		rc = value_attr(s, in, st);
		pf_source_leave(s);
		return rc;
	}
	base_attr(s, st);
	st->st_ino = in->ino;
	st->st_mode = S_IFDIR | dir_perms(s);
	st->st_nlink = 1;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int value_lookup(pf_fs *fs, pf_inode *dir, const char *name,
			pf_inode **out, struct stat *st)
{
	pf_source *s = dir->src;
	pf_inode *child;
	pf_child ch;
	uint64_t i;
	int rc = enter(dir);

	if (rc)
		return rc;
	if (dir->look != PF_LOOK_DIR) {
		rc = ENOTDIR;
		goto out;
	}
	if ((rc = pf_docview_lookup(s->dv, dir->ref, name, strlen(name), &i)) ||
	    (rc = pf_docview_child(s->dv, dir->ref, i, &ch)))
		goto out;
	child = pf_itable_get(fs->itab, dir, PF_I_VALUE, NULL, i, s,
			      pf_value_ino(dir->ino, i));
	if (!child) {
		rc = ENOMEM;
		goto out;
	}
	child->ref = ch.e.target;
	child->look = ch.look;
	child->gen = s->gen;
	rc = value_attr(s, child, st);
	if (rc) {
		pf_itable_forget(fs->itab, child, 1);
		goto out;
	}
	*out = child;
out:
	pf_source_leave(s);
	return rc;
}

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

static int mirror_lookup(pf_fs *fs, pf_inode *dir, const char *name,
			 pf_inode **out, struct stat *st)
{
	char *path = child_path(dir, name);
	pf_source *src = NULL;
	pf_inode *child;
	int kind, rc = 0;

	if (!path)
		return ENOMEM;
	if (fstatat(fs->dirfd, path, st, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = errno;
		goto out;
	}
	if (S_ISDIR(st->st_mode)) {
		kind = PF_I_MIRROR_DIR;
	} else if (S_ISREG(st->st_mode)) {
		src = source_for(fs, path);
		if (!src) {
			rc = ENOMEM;
			goto out;
		}
		kind = pf_source_classify(src, st, 0) == PF_SRC_PICKLE
			   ? PF_I_PICKLE
			   : PF_I_MIRROR_FILE;
		if (kind != PF_I_PICKLE)
			src = NULL;
	} else {
		kind = PF_I_MIRROR_FILE;
	}
	child = pf_itable_get(fs->itab, dir, kind, name, 0, src, st->st_ino);
	if (!child) {
		rc = ENOMEM;
		goto out;
	}
	if (kind == PF_I_PICKLE) {
		rc = pickle_attr(child, st);
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

static int mirror_attr(pf_fs *fs, pf_inode *in, struct stat *st)
{
	int r = strcmp(in->path, ".") == 0
		    ? fstat(fs->dirfd, st)
		    : fstatat(fs->dirfd, in->path, st, AT_SYMLINK_NOFOLLOW);

	if (r < 0)
		return errno;
	mirror_fix(st);
	return 0;
}

/* ---- operations -------------------------------------------------------- */

int pf_fs_lookup(pf_fs *fs, pf_inode *dir, const char *name, pf_inode **out,
		 struct stat *st)
{
	if (strlen(name) > 255)
		return ENAMETOOLONG;
	switch (dir->kind) {
	case PF_I_MIRROR_DIR:
		return mirror_lookup(fs, dir, name, out, st);
	case PF_I_PICKLE:
	case PF_I_VALUE:
		return value_lookup(fs, dir, name, out, st);
	}
	return ENOTDIR;
}

int pf_fs_getattr(pf_fs *fs, pf_inode *in, struct stat *st)
{
	int rc;

	switch (in->kind) {
	case PF_I_MIRROR_DIR:
	case PF_I_MIRROR_FILE:
		return mirror_attr(fs, in, st);
	case PF_I_PICKLE:
		return pickle_attr(in, st);
	}
	if ((rc = enter(in)))
		return rc;
	rc = value_attr(in->src, in, st);
	pf_source_leave(in->src);
	return rc;
}

int pf_fs_readlink(pf_fs *fs, pf_inode *in, pk_buf *out)
{
	char buf[4096];
	ssize_t n;
	int rc;

	if (in->kind == PF_I_MIRROR_FILE) {
		n = readlinkat(fs->dirfd, in->path, buf, sizeof(buf));
		if (n < 0)
			return errno;
		return pk_buf_add(out, buf, (size_t)n) ? ENOMEM : 0;
	}
	if (in->kind != PF_I_VALUE)
		return EINVAL;
	if ((rc = enter(in)))
		return rc;
	rc = in->look == PF_LOOK_LINK
		 ? pf_docview_link(in->src->dv, in->parent->ref, in->index, out)
		 : EINVAL;
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

static int mirror_opendir(pf_fs *fs, pf_inode *in, pf_dirh *d)
{
	int fd =
	    openat(fs->dirfd, in->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;
	struct dirent *de;
	size_t cap = 0;

	if (fd < 0)
		return errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return errno;
	}
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (d->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **nn = realloc(d->names, ncap * sizeof(*nn));
			unsigned char *nt;
			uint64_t *ni;
			if (nn)
				d->names = nn;
			nt = nn ? realloc(d->types, ncap) : NULL;
			if (nt)
				d->types = nt;
			ni = nt ? realloc(d->inos, ncap * sizeof(*ni)) : NULL;
			if (!ni) {
				closedir(dir);
				return ENOMEM;
			}
			d->inos = ni;
			cap = ncap;
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

int pf_fs_opendir(pf_fs *fs, pf_inode *in, pf_dirh **out)
{
	pf_dirh *d = calloc(1, sizeof(*d));
	int rc = 0;

	if (!d)
		return ENOMEM;
	switch (in->kind) {
	case PF_I_MIRROR_DIR:
		rc = mirror_opendir(fs, in, d);
		break;
	case PF_I_PICKLE:
	case PF_I_VALUE:
		if ((rc = enter(in)))
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

void pf_fs_releasedir(pf_fs *fs, pf_dirh *d)
{
	if (!d)
		return;
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

static int mirror_readdir(pf_fs *fs, pf_inode *in, pf_dirh *d, uint64_t off,
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
			if (path && fstatat(fs->dirfd, path, &fst,
					    AT_SYMLINK_NOFOLLOW) == 0) {
				t = S_ISDIR(fst.st_mode)   ? DT_DIR
				    : S_ISREG(fst.st_mode) ? DT_REG
							   : DT_UNKNOWN;
				if (t == DT_REG) {
					pf_source *src = source_for(fs, path);
					int state = src ? pf_source_classify(
							      src, &fst, 1)
							: PF_SRC_FILE;
					t = state == PF_SRC_PICKLE ? DT_DIR
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

static int value_readdir(pf_inode *in, uint64_t off, pf_fill_fn fill, void *ctx)
{
	pf_source *s = in->src;
	pk_buf name = PK_BUF_INIT;
	uint64_t i, n;
	int rc = enter(in);

	if (rc)
		return rc;
	if ((rc = pf_docview_count(s->dv, in->ref, &n)))
		goto out;
	for (i = off - 2; i < n; i++) {
		struct stat st;
		pf_child ch;
		pk_buf_reset(&name);
		if ((rc = pf_docview_child(s->dv, in->ref, i, &ch)) ||
		    (rc = pf_docview_name(s->dv, in->ref, i, &name)))
			break;
		memset(&st, 0, sizeof(st));
		st.st_ino = pf_value_ino(in->ino, i);
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
		return mirror_readdir(fs, in, d, off, fill, ctx);
	return value_readdir(in, off, fill, ctx);
}

/* ---- files ------------------------------------------------------------- */

int pf_fs_open(pf_fs *fs, pf_inode *in, int flags, pf_file **out,
	       int *keep_cache)
{
	pf_file *f;
	int rc = 0;

	*keep_cache = 0;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
		return EROFS;
	if (in->kind == PF_I_MIRROR_DIR || in->kind == PF_I_PICKLE)
		return EISDIR;
	f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->fd = -1;
	pf_content_init(&f->c);
	if (in->kind == PF_I_MIRROR_FILE) {
		f->fd = openat(fs->dirfd, in->path, O_RDONLY | O_CLOEXEC);
		if (f->fd < 0) {
			rc = errno;
			free(f);
			return rc;
		}
		*out = f;
		return 0;
	}
	if ((rc = enter(in))) {
		free(f);
		return rc;
	}
	if (in->look == PF_LOOK_DIR) {
		rc = EISDIR;
	} else if (in->look == PF_LOOK_LINK) {
		rc = ELOOP;
	} else {
		rc = pf_content_get(in->src->doc, in->ref, 0, &f->c, NULL);
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

int pf_fs_read(pf_fs *fs, pf_file *f, uint64_t off, size_t size, pf_span *out)
{
	uint64_t len = f->c.len;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (f->fd >= 0) {
		out->fd = f->fd;
		out->fd_off = off;
		out->fd_len = size;
		return 0;
	}
	if (off < len && size > 0) {
		uint64_t n = len - off < size ? len - off : size;
		const uint8_t *p = f->c.data + off;
		if (f->c.owned.data) {
			/* text the handle owns: copy it (see pf_span) */
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
	if (f->fd >= 0)
		close(f->fd);
	pf_content_release(&f->c);
	pf_map_unref(f->map);
	free(f);
}

/* ---- xattrs ------------------------------------------------------------ */

#define XA_TYPE "user.pickle.type"
#define XA_KEYTYPE "user.pickle.keytype"
#define XA_KEY "user.pickle.key"
#define XA_CLASS "user.pickle.class"
#define XA_PROTO "user.pickle.protocol"
#define XA_COMPRESS "user.pickle.compression"

/* Class of an object-like directory ("collections.OrderedDict"). */
static int class_text(const pk_doc *doc, pf_ref r, pk_buf *out)
{
	pf_obj o;
	pf_content c;
	pf_ref cls;
	int form, rc;

	if (r.part != PF_PART_SELF)
		return ENODATA;
	form = pf_form_of(r.val);
	if (form != PF_FORM_OBJECT && form != PF_FORM_DICTCALL &&
	    form != PF_FORM_NDARRAY)
		return ENODATA;
	if (pf_obj_parse(r.val, &o))
		return ENODATA;
	if (form == PF_FORM_NDARRAY) {
		if (!pf_global_is(o.callable, "numpy.core.multiarray",
				  "_reconstruct"))
			return pk_buf_adds(out, "numpy.ndarray") ? ENOMEM : 0;
		cls.val = &pf_node(o.args)->kids[0];
		cls.part = PF_PART_SELF;
	} else {
		cls.val = o.cls;
		cls.part = PF_PART_SELF;
	}
	if (cls.part == PF_PART_SELF && pf_form_of(cls.val) != PF_FORM_GLOBAL)
		return ENODATA;
	rc = pf_content_get(doc, cls, 0, &c, NULL);
	if (!rc && pk_buf_add(out, c.data, c.len))
		rc = ENOMEM;
	pf_content_release(&c);
	return rc;
}

/* Type of the key naming entry in->index of its parent. */
static int key_xattr(pf_source *s, pf_inode *in, int repr, pk_buf *out)
{
	pf_child ch;
	int rc;

	if (in->kind != PF_I_VALUE)
		return ENODATA;
	if ((rc = pf_docview_child(s->dv, in->parent->ref, in->index, &ch)))
		return rc;
	if (repr) {
		if (!ch.e.key)
			return ENODATA;
		return pf_repr(s->doc, ch.e.key, 1 << 16, out);
	}
	if (ch.e.key)
		return pk_buf_adds(out, pf_key_type_name(ch.e.key)) ? ENOMEM
								    : 0;
	return pk_buf_adds(out, ch.e.reserved ? "attr" : "index") ? ENOMEM : 0;
}

static int value_xattr(pf_inode *in, const char *name, pk_buf *out)
{
	pf_source *s = in->src;
	int rc = enter(in);

	if (rc)
		return rc;
	if (strcmp(name, XA_TYPE) == 0) {
		rc = pk_buf_adds(out, pf_ref_type_name(in->ref)) ? ENOMEM : 0;
	} else if (strcmp(name, XA_KEYTYPE) == 0) {
		rc = key_xattr(s, in, 0, out);
	} else if (strcmp(name, XA_KEY) == 0) {
		rc = key_xattr(s, in, 1, out);
	} else if (strcmp(name, XA_CLASS) == 0) {
		rc = class_text(s->doc, in->ref, out);
	} else if (strcmp(name, XA_PROTO) == 0 && in->kind == PF_I_PICKLE) {
		int p = s->doc->proto >= 0 ? s->doc->proto : s->doc->op_proto;
		rc = pk_buf_addf(out, "%d", p) ? ENOMEM : 0;
	} else if (strcmp(name, XA_COMPRESS) == 0 && in->kind == PF_I_PICKLE) {
		rc = pk_buf_adds(out, pk_z_name(s->zfmt)) ? ENOMEM : 0;
	} else {
		rc = ENODATA;
	}
	pf_source_leave(s);
	return rc;
}

int pf_fs_getxattr(pf_fs *fs, pf_inode *in, const char *name, pk_buf *out)
{
	if (in->kind != PF_I_VALUE && in->kind != PF_I_PICKLE)
		return ENODATA;
	return value_xattr(in, name, out);
}

int pf_fs_listxattr(pf_fs *fs, pf_inode *in, pk_buf *out)
{
	static const char *const names[] = {XA_TYPE,  XA_KEYTYPE, XA_KEY,
					    XA_CLASS, XA_PROTO,	  XA_COMPRESS};
	size_t i;
	pk_buf scratch = PK_BUF_INIT;

	if (in->kind != PF_I_VALUE && in->kind != PF_I_PICKLE)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int rc;
		pk_buf_reset(&scratch);
		rc = value_xattr(in, names[i], &scratch);
		if (rc == ENODATA)
			continue;
		if (rc) {
			pk_buf_release(&scratch);
			return rc;
		}
		if (pk_buf_add(out, names[i], strlen(names[i]) + 1)) {
			pk_buf_release(&scratch);
			return ENOMEM;
		}
	}
	pk_buf_release(&scratch);
	return 0;
}

int pf_fs_statfs(pf_fs *fs, struct statvfs *st)
{
	if (fstatvfs(fs->dirfd, st) < 0)
		return errno;
	st->f_namemax = 255;
	st->f_flag |= ST_RDONLY;
	return 0;
}
