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
#include "edit.h"
#include "log.h"
#include "entries.h"
#include "names.h"
#include "pickle_file.h"
#include "repr.h"
#include "form.h"

/* ---- the filesystem ---------------------------------------------------- */

struct srcent {
	struct srcent *next;
	pf_source *src;
	char path[];
};

#define SRC_BUCKETS 4096

/* A file kept in memory inside a pickle directory: what editors and
 * atomic writers create (O_EXCL files, *~, .*.swp, 4913, .#*) until it is
 * renamed onto an entry, and a new file until it is closed (then it
 * becomes a new key). */
struct pf_scratch {
	struct pf_scratch *next;
	pf_inode *dir;
	char *name;
	pk_buf data;
	uint64_t ino;
	int keep;      /* scratch: stays in memory at close */
	char type[16]; /* user.pickle.type set on it (cp -a, mv) */
};

/* A value removed whole while its directory is still being emptied by
 * rm -r: found by (parent, name) for the final rmdir. */
struct pf_ghost {
	struct pf_ghost *next;
	pf_inode *parent, *in;
	char *name;
};

struct pf_fs {
	int dirfd;
	pf_source *file_src; /* file SOURCE */
	pf_itable *itab;
	pthread_mutex_t slock; /* the sources table */
	struct srcent *sources[SRC_BUCKETS];
	int ro;
	unsigned writeback;
	pthread_mutex_t xlock; /* the scratch list */
	struct pf_scratch *scratch;
	struct pf_scratch *gone; /* detached; freed at unmount */
	struct pf_ghost *ghosts; /* removed values still listed (xlock) */
	uint64_t next_scratch_ino;
	pthread_t flusher;
	int flusher_on, stopping, stopped;
	pthread_cond_t stop_cv;
	struct timespec started; /* the mount's start (CLOCK_REALTIME) */
	struct swept *swept[SRC_BUCKETS]; /* folders cleaned of temp files */
};

/* A folder of a folder SOURCE whose leftover temporary files are gone. */
struct swept {
	struct swept *next;
	char path[];
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
	/* opened for writing */
	pf_inode *in;
	int writable, dirty;
	int written;	       /* write or truncate since open */
	pk_buf wbuf;	       /* a value's new text */
	int early;	       /* refuse at write(): pf_edit_early_kind */
	uint64_t max_len;      /* refuse writes past max_len - 1 (0: none) */
	int reported;	       /* the refusal last logged for it */
	struct pf_scratch *sc; /* or the scratch file written */
};

static int scratch_attr(pf_fs *fs, pf_inode *in, struct stat *st);
static int scratch_lookup(pf_fs *fs, pf_inode *dir, const char *name,
			  pf_inode **out, struct stat *st);
static int open_for_write(pf_fs *fs, pf_inode *in, int flags, pf_file **out);
static int commit_handle(pf_fs *fs, pf_file *f);
static int refused(pf_fs *fs, pf_inode *in, const char *child, int rc);
static int handle_refused(pf_fs *fs, pf_file *f, int rc);
static int flush_handle(pf_fs *fs, pf_file *f);
static void sweep_folder(pf_fs *fs, const char *path);

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
			if (e->src)
				e->src->writable = !fs->ro;
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

static void *flusher_main(void *arg);

int pf_fs_writable(const pf_fs *fs)
{
	return !fs->ro;
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
	pthread_mutex_init(&fs->xlock, NULL);
	pthread_cond_init(&fs->stop_cv, NULL);
	fs->ro = cfg->ro;
	fs->writeback = cfg->writeback;
	fs->next_scratch_ino = 1ull << 62;
	clock_gettime(CLOCK_REALTIME, &fs->started);
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
		sweep_folder(fs, ".");
	} else if (S_ISREG(st.st_mode)) {
		pk_err e = {0, NULL, 0};
		/* the file itself, not a symlink to it: the write-back
		 * replaces the file a symlink SOURCE points to */
		copy1 = realpath(cfg->source, NULL);
		copy2 = copy1 ? strdup(copy1) : NULL;
		if (!copy1 || !copy2) {
			rc = copy1 ? ENOMEM : errno;
			snprintf(msg, n, "%s: %s", cfg->source, strerror(rc));
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
		fs->file_src->writable = !fs->ro;
		sweep_folder(fs, ".");
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

int pf_fs_start(pf_fs *fs)
{
	int rc;

	if (!fs->writeback || fs->ro || fs->flusher_on)
		return 0;
	rc = pthread_create(&fs->flusher, NULL, flusher_main, fs);
	if (rc)
		return rc;
	fs->flusher_on = 1;
	return 0;
}

int pf_fs_stop(pf_fs *fs)
{
	int lost;

	if (fs->stopped)
		return 0;
	fs->stopped = 1;
	if (fs->flusher_on) {
		pthread_mutex_lock(&fs->xlock);
		fs->stopping = 1;
		pthread_cond_signal(&fs->stop_cv);
		pthread_mutex_unlock(&fs->xlock);
		pthread_join(fs->flusher, NULL);
		fs->flusher_on = 0;
	}
	/* unmount: everything pending goes to disk, or the log says which
	 * pickles could not be written */
	lost = pf_fs_flush_all(fs, 2);
	return lost ? EIO : 0;
}

void pf_fs_free(pf_fs *fs)
{
	size_t i;

	if (!fs)
		return;
	pf_fs_stop(fs);
	while (fs->scratch || fs->gone) {
		struct pf_scratch *sc = fs->scratch ? fs->scratch : fs->gone;
		if (sc == fs->scratch)
			fs->scratch = sc->next;
		else
			fs->gone = sc->next;
		pk_buf_release(&sc->data);
		free(sc->name);
		free(sc);
	}
	while (fs->ghosts) {
		struct pf_ghost *g = fs->ghosts;
		fs->ghosts = g->next;
		free(g->name);
		free(g);
	}
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
	for (i = 0; i < SRC_BUCKETS; i++) {
		struct swept *w = fs->swept[i], *next;
		for (; w; w = next) {
			next = w->next;
			free(w);
		}
	}
	if (fs->dirfd >= 0)
		close(fs->dirfd);
	pthread_mutex_destroy(&fs->slock);
	pthread_mutex_destroy(&fs->xlock);
	pthread_cond_destroy(&fs->stop_cv);
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

/* ---- entry ids ---------------------------------------------------------
 * A VALUE inode names its entry by id (inode.h): the position in the
 * parent's layout until the parent is first edited, then whatever the
 * parent's entries table says. These helpers are the one place that
 * turns ids and names into positions. Source lock held, dir resolved. */

/* The entries table of dir, when it has one for the file as it is now
 * (a table from before the file changed on disk is dropped: names are
 * 0..n-1 again after that). */
static pf_entries *dir_ents(pf_inode *dir)
{
	if (dir->ents && dir->ents_epoch != dir->src->epoch) {
		pf_entries *t = dir->ents;
		__atomic_store_n(&dir->ents, NULL, __ATOMIC_RELEASE);
		pf_entries_free(t);
	}
	return dir->ents;
}

/* Position of the entry with id `id` in dir. 0 or ENOENT. */
static int entry_pos(pf_inode *dir, uint64_t id, uint64_t *pos)
{
	pf_entries *t = dir_ents(dir);
	int64_t r;

	if (!t) {
		*pos = id;
		return 0;
	}
	r = pf_entries_find_id(t, id);
	if (r < 0)
		return ENOENT;
	*pos = (uint64_t)r;
	return 0;
}

/* Position and id of the entry called name in dir. 0 or ENOENT. */
static int entry_find(pf_inode *dir, const char *name, uint64_t *pos,
		      uint64_t *id)
{
	pf_entries *t = dir_ents(dir);
	int64_t r;
	int rc;

	if (!t) {
		rc = pf_docview_lookup(dir->src->dv, dir->ref, name,
				       strlen(name), pos);
		*id = *pos;
		return rc;
	}
	r = pf_entries_find_name(t, name, strlen(name));
	if (r < 0)
		return ENOENT;
	*pos = (uint64_t)r;
	*id = t->rows[r].id;
	return 0;
}

/* Name and id of the entry at position pos of dir. */
static int entry_at(pf_inode *dir, uint64_t pos, pk_buf *name, uint64_t *id)
{
	pf_entries *t = dir_ents(dir);
	const char *s;
	size_t len;

	if (!t) {
		*id = pos;
		return pf_docview_name(dir->src->dv, dir->ref, pos, name);
	}
	if (pos >= t->n)
		return ENOENT;
	*id = t->rows[pos].id;
	s = pf_entries_name(t, pos, &len);
	return pk_buf_add(name, s, len) ? ENOMEM : 0;
}

/* Gives dir an entries table before its first structural edit: the
 * names it shows now are the names it keeps. */
static int ents_ensure(pf_inode *dir)
{
	pf_entries *t;
	int rc;

	if (dir_ents(dir))
		return 0;
	if ((rc = pf_entries_new(dir->src->dv, dir->ref, &t)))
		return rc;
	dir->ents_epoch = dir->src->epoch;
	__atomic_store_n(&dir->ents, t, __ATOMIC_RELEASE);
	return 0;
}

/* Target of a symlink entry (a shared container's later occurrence). */
static int value_link(pf_inode *in, pk_buf *out)
{
	uint64_t pos;
	int rc = entry_pos(in->parent, in->index, &pos);

	return rc ? rc
		  : pf_docview_link(in->src->dv, in->parent->ref, pos, out);
}

/* Makes in->ref / in->look valid for the current tree, resolving the
 * ancestors whose cache is older first (iteratively: a pickle may be
 * nested far deeper than the C stack). Source lock held, tree loaded.
 * ESTALE when the entry is gone (removed, or the file changed). */
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
		uint64_t pos;
		if (c->ghost) {
			if (c->ghost_serial != s->serial) {
				rc = ESTALE;
				break;
			}
			c->ref.val = &c->ghost_val;
			c->ref.part = PF_PART_SELF;
			c->look = PF_LOOK_DIR;
			c->gen = s->gen;
			continue;
		}
		if (c->parent->look != PF_LOOK_DIR ||
		    entry_pos(c->parent, c->index, &pos) ||
		    pf_docview_child(s->dv, c->parent->ref, pos, &ch)) {
			/* removed, or the pickle changed on disk */
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
	mode_t r = s->st.st_mode & (s->writable ? 0666 : 0444);

	return r | ((r & 0444) >> 2);
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
		rc = value_link(in, &b);
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
		st->st_mode =
		    S_IFREG | (s->st.st_mode & (s->writable ? 0666 : 0444));
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

/* The ghost called name in dir (vfs.c, remove_whole), or NULL. */
static pf_inode *ghost_find(pf_fs *fs, pf_inode *dir, const char *name)
{
	struct pf_ghost *g;
	pf_inode *in = NULL;

	pthread_mutex_lock(&fs->xlock);
	for (g = fs->ghosts; g && !in; g = g->next)
		if (g->parent == dir && strcmp(g->name, name) == 0)
			in = g->in;
	pthread_mutex_unlock(&fs->xlock);
	return in;
}

static int value_lookup(pf_fs *fs, pf_inode *dir, const char *name,
			pf_inode **out, struct stat *st)
{
	pf_source *s = dir->src;
	pf_inode *child;
	pf_child ch;
	uint64_t pos, id;
	int rc = enter(dir);

	if (rc)
		return rc;
	if (dir->look != PF_LOOK_DIR) {
		rc = ENOTDIR;
		goto out;
	}
	rc = entry_find(dir, name, &pos, &id);
	if (rc == ENOENT && (child = ghost_find(fs, dir, name))) {
		/* a value removed whole that rm -r is still emptying */
		pf_inode *g = pf_itable_get(fs->itab, dir, PF_I_VALUE, NULL,
					    child->index, s, child->ino);
		rc = g ? resolve(g) : ENOMEM;
		if (!rc)
			rc = value_attr(s, g, st);
		if (rc && g)
			pf_itable_forget(fs->itab, g, 1);
		if (!rc)
			*out = g;
		goto out;
	}
	if (rc || (rc = pf_docview_child(s->dv, dir->ref, pos, &ch)))
		goto out;
	child = pf_itable_get(fs->itab, dir, PF_I_VALUE, NULL, id, s,
			      pf_value_ino(dir->ino, id));
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
	if (pk_pickle_file_is_temp(name)) {
		rc = ENOENT; /* a write-back's temporary file: not shown */
		goto out;
	}
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
		if (scratch_lookup(fs, dir, name, out, st) == 0)
			return 0;
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
	case PF_I_SCRATCH:
		return scratch_attr(fs, in, st);
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
	rc = in->look == PF_LOOK_LINK ? value_link(in, out) : EINVAL;
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
	int fd;
	DIR *dir;
	struct dirent *de;
	size_t cap = 0;

	sweep_folder(fs, in->path); /* the first listing */
	fd = openat(fs->dirfd, in->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
	uint64_t i, n, id;
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
		    (rc = entry_at(in, i, &name, &id)))
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
	if (in->kind == PF_I_MIRROR_DIR || in->kind == PF_I_PICKLE)
		return EISDIR;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) {
		if (fs->ro)
			return EROFS;
		if (in->kind == PF_I_VALUE || in->kind == PF_I_SCRATCH)
			return open_for_write(fs, in, flags, out);
		return EROFS; /* plain files of the folder: read-only */
	}
	if (in->kind == PF_I_SCRATCH)
		return open_for_write(fs, in, flags, out);
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
	if (f->dirty) /* what no flush committed: the log is all that
			 can tell of a refusal now */
		handle_refused(fs, f, commit_handle(fs, f));
	pk_buf_release(&f->wbuf);
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

/* Type (or repr) of the key naming the entry in. */
static int key_xattr(pf_source *s, pf_inode *in, int repr, pk_buf *out)
{
	pf_child ch;
	uint64_t pos;
	int rc;

	if (in->kind != PF_I_VALUE)
		return ENODATA;
	if ((rc = entry_pos(in->parent, in->index, &pos)) ||
	    (rc = pf_docview_child(s->dv, in->parent->ref, pos, &ch)))
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
	if (fs->ro)
		st->f_flag |= ST_RDONLY;
	else
		st->f_flag &= ~(unsigned long)ST_RDONLY;
	return 0;
}

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
static int scratch_name(const char *name)
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
static struct pf_scratch *scratch_find(pf_fs *fs, pf_inode *dir,
				       const char *name)
{
	struct pf_scratch *sc;

	for (sc = fs->scratch; sc; sc = sc->next)
		if (sc->dir == dir && strcmp(sc->name, name) == 0)
			return sc;
	return NULL;
}

static struct pf_scratch *scratch_of_inode(pf_fs *fs, pf_inode *in)
{
	struct pf_scratch *sc;

	for (sc = fs->scratch; sc; sc = sc->next)
		if (sc->ino == in->ino)
			return sc;
	return NULL;
}

static void scratch_unlink_locked(pf_fs *fs, struct pf_scratch *gone)
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

static int scratch_attr(pf_fs *fs, pf_inode *in, struct stat *st)
{
	struct pf_scratch *sc;
	int rc = ENOENT;

	pthread_mutex_lock(&fs->xlock);
	sc = scratch_of_inode(fs, in);
	if (sc && sc->dir) {
		scratch_stat(sc, in, st);
		rc = 0;
	}
	pthread_mutex_unlock(&fs->xlock);
	return rc;
}

static int scratch_lookup(pf_fs *fs, pf_inode *dir, const char *name,
			  pf_inode **out, struct stat *st)
{
	struct pf_scratch *sc;
	pf_inode *in;
	int rc = ENOENT;

	pthread_mutex_lock(&fs->xlock);
	sc = scratch_find(fs, dir, name);
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

static pf_file *new_handle(void)
{
	pf_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->fd = -1;
	pf_content_init(&f->c);
	pk_buf_init(&f->wbuf);
	return f;
}

static int open_for_write(pf_fs *fs, pf_inode *in, int flags, pf_file **out)
{
	pf_file *f = new_handle();
	pf_content c;
	int rc = 0;

	if (!f)
		return ENOMEM;
	f->in = in;
	f->writable = 1;
	if (in->kind == PF_I_SCRATCH) {
		pthread_mutex_lock(&fs->xlock);
		f->sc = scratch_of_inode(fs, in);
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
	if ((rc = enter(in))) {
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
	} else if (flags & O_TRUNC) {
		f->dirty = 1;
	} else {
		/* the handle starts from the text cat shows */
		rc = pf_content_get(in->src->doc, in->ref, 0, &c, NULL);
		if (!rc) {
			if ((c.len && pk_buf_add(&f->wbuf, c.data, c.len)) ||
			    (c.nl && pk_buf_addc(&f->wbuf, '\n')))
				rc = ENOMEM;
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
		    size_t size)
{
	pk_buf *b, was = PK_BUF_INIT;
	int rc = 0;

	if (!f->writable)
		return EBADF;
	if (off > (1ull << 40))
		return EFBIG;
	if (f->max_len && off + size > f->max_len - 1)
		return EINVAL;
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
	if (f->early && (rc = pf_edit_viable(f->early, b->data, b->len))) {
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

/* How many times an edit is tried when the file changed on disk between
 * its start and its write-back (pf_source_commit's EAGAIN): each try
 * reads the file anew and applies the edit to what is there now. */
#define EDIT_TRIES 3

/* Whether in is (inside) a value removed whole. */
static int in_ghost(const pf_inode *in)
{
	for (; in && in->kind == PF_I_VALUE; in = in->parent)
		if (in->ghost)
			return 1;
	return 0;
}

/* Starts an edit of the pickle `in` belongs to: its lock held, the file
 * on disk looked at, `in` resolved in the current tree. */
static int edit_begin(pf_fs *fs, pf_inode *in)
{
	int rc;

	if (fs->ro)
		return EROFS;
	if (in->kind != PF_I_PICKLE && in->kind != PF_I_VALUE)
		return EROFS; /* the folder's own files and directories */
	if (in_ghost(in))
		return ENOENT; /* a value removed whole: nothing to edit */
	rc = pf_source_enter_edit(in->src);
	if (rc)
		return rc;
	rc = resolve(in);
	if (rc)
		pf_source_leave(in->src);
	return rc;
}

/* What an edit did to the entries of its directory, so that the
 * directory's entries table follows (entries.h). */
struct dir_change {
	int changed;	    /* the doc was changed: commit it */
	int64_t removed;    /* position of the entry removed, or -1 */
	int64_t renamed;    /* position of the entry renamed, or -1 */
	const pk_val *made; /* slot of the value of a new entry */
	const char *name;   /* the new entry's, or the renamed one's, name */
};
#define DIR_CHANGE_NONE                                                        \
	{                                                                      \
		0, -1, -1, NULL, NULL                                          \
	}

/* Brings dir's entries table along after a committed change. */
static int ents_follow(pf_inode *dir, const struct dir_change *dc)
{
	pf_entries *t = dir_ents(dir);
	pf_child ch;
	uint64_t n, i, id;

	if (!t)
		return 0; /* no structural change */
	if (dc->removed >= 0)
		pf_entries_remove(t, (size_t)dc->removed);
	if (dc->renamed >= 0)
		return pf_entries_rename(t, (size_t)dc->renamed, dc->name);
	if (!dc->made)
		return 0;
	/* the new entry is at the end of its run: look from the end */
	if (pf_docview_count(dir->src->dv, dir->ref, &n))
		return ENOMEM;
	for (i = n; i-- > 0;)
		if (pf_docview_child(dir->src->dv, dir->ref, i, &ch) == 0 &&
		    ch.e.target.val == dc->made &&
		    ch.e.target.part == PF_PART_SELF)
			return pf_entries_insert(t, (size_t)i, dc->name, &id);
	return EIO;
}

/* Ends an edit of the entries of dir (or of the value `in`, dc NULL):
 * commits what changed, makes the entries table follow, unlocks. */
static int edit_end(pf_fs *fs, pf_inode *in, int rc,
		    const struct dir_change *dc)
{
	if (!rc && (!dc || dc->changed))
		rc = pf_source_commit(in->src, fs->writeback);
	if (!rc && dc && dc->changed && ents_follow(in, dc)) {
		/* out of memory: the names go back to what the view says
		 * rather than name the wrong entries */
		pf_entries_free(in->ents);
		__atomic_store_n(&in->ents, NULL, __ATOMIC_RELEASE);
	}
	pf_source_leave(in->src);
	return rc;
}

/* The entry `name` of a resolved directory inode: its position and what
 * it is. */
static int find_entry(pf_inode *dir, const char *name, uint64_t *pos,
		      pf_child *ch)
{
	uint64_t id;
	int rc;

	if (dir->look != PF_LOOK_DIR)
		return ENOTDIR;
	rc = entry_find(dir, name, pos, &id);
	if (!rc)
		rc = pf_docview_child(dir->src->dv, dir->ref, *pos, ch);
	return rc;
}

/* A list's new entries are named by their index. */
static int dir_is_list(const pf_inode *dir)
{
	return dir->ref.part == PF_PART_SELF && pf_is_node(dir->ref.val) &&
	       pf_kind(dir->ref.val) == PK_LIST;
}

/* Whether `name` may become a new entry of dir: in a list, only one more
 * than the highest name shown appends (the names of removed items are
 * not given again while mounted). 0 or EINVAL. */
static int new_name_ok(pf_inode *dir, const char *name)
{
	pf_entries *t;
	uint64_t want, i;

	if (!dir_is_list(dir))
		return 0;
	t = dir_ents(dir);
	if (t)
		want = pf_entries_next_index(t);
	else if (pf_docview_count(dir->src->dv, dir->ref, &want))
		return ENOMEM;
	if (pf_index_parse(name, strlen(name), &i) || i != want)
		return EINVAL;
	return 0;
}

/* Makes `name` in dir: a new entry holding text (or an empty dict), or,
 * when it exists and set_existing, that entry's new value. */
static int add_entry_once(pf_fs *fs, pf_inode *dir, const char *name,
			  int dir_value, const pk_buf *text, const char *type,
			  int set_existing)
{
	struct dir_change dc = DIR_CHANGE_NONE;
	pf_child ch;
	uint64_t pos;
	int rc = edit_begin(fs, dir);

	if (rc)
		return rc;
	rc = find_entry(dir, name, &pos, &ch);
	if (rc == 0) {
		if (!set_existing)
			rc = EEXIST;
		else if (ch.look != PF_LOOK_FILE)
			rc = EISDIR;
		else
			rc = pf_edit_set(dir->src->doc, ch.e.target, text->data,
					 text->len);
		dc.changed = 1;
	} else if (rc == ENOENT && !(rc = new_name_ok(dir, name)) &&
		   !(rc = ents_ensure(dir))) {
		rc = pf_edit_add(dir->src->doc, dir->ref,
				 dir_is_list(dir) ? NULL : name, dir_value,
				 text ? text->data : NULL, text ? text->len : 0,
				 type, &dc.made);
		dc.changed = 1;
		dc.name = name;
	}
	return edit_end(fs, dir, rc, &dc);
}

static int add_entry(pf_fs *fs, pf_inode *dir, const char *name, int dir_value,
		     const pk_buf *text, const char *type, int set_existing)
{
	int rc = EAGAIN, tries;

	for (tries = 0; tries < EDIT_TRIES && rc == EAGAIN; tries++)
		rc = add_entry_once(fs, dir, name, dir_value, text, type,
				    set_existing);
	return rc;
}

/* Sets the value of the file `in` from text. */
static int set_value(pf_fs *fs, pf_inode *in, const pk_buf *text)
{
	int rc = EAGAIN, tries;

	for (tries = 0; tries < EDIT_TRIES && rc == EAGAIN; tries++) {
		rc = edit_begin(fs, in);
		if (rc)
			break;
		if (in->look != PF_LOOK_FILE)
			rc = EISDIR;
		else
			rc = pf_edit_set(in->src->doc, in->ref, text->data,
					 text->len);
		rc = edit_end(fs, in, rc, NULL);
	}
	return rc;
}

/* Commits what the handle wrote. */
static int commit_handle(pf_fs *fs, pf_file *f)
{
	int rc;

	if (!f->writable || !f->dirty)
		return 0;
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
			scratch_unlink_locked(fs, sc);
		pthread_mutex_unlock(&fs->xlock);
		if (!rc)
			rc = add_entry(fs, dir, name, 0, &text,
				       type[0] ? type : NULL, 1);
		free(name);
		pk_buf_release(&text);
		f->dirty = 0;
		return rc;
	}
	rc = set_value(fs, f->in, &f->wbuf);
	if (rc != EINVAL)
		f->dirty = 0; /* a bad literal stays: close reports it too */
	return rc;
}

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
	int rc = f ? handle_refused(fs, f, flush_handle(fs, f)) : 0;
	pf_source *s = in ? in->src : NULL;

	if (rc || !s || fs->ro)
		return rc;
	/* -o writeback: what fsync acknowledges is on disk too */
	return fs->writeback ? pf_source_sync(s) : 0;
}

/* close() flushes every descriptor of the file, and shells close a
 * dup'ed one before writing (`echo 9 > f`): a flush commits only once
 * something was written; what was only opened (O_TRUNC, a new empty
 * file) is committed at release, after the last close. */
static int flush_handle(pf_fs *fs, pf_file *f)
{
	int rc;

	if (!f || !f->dirty)
		return 0;
	if (f->written)
		return commit_handle(fs, f);
	if (f->sc)
		return 0;
	/* emptied (O_TRUNC) and closed without a write, as `: > f` does: an
	 * empty text that is no literal of the type is refused now, where
	 * close() can say so; a valid one is committed at release */
	rc = edit_begin(fs, f->in);
	if (rc)
		return rc;
	rc = f->in->look == PF_LOOK_FILE
		 ? pf_edit_check(f->in->src->doc, f->in->ref, f->wbuf.data,
				 f->wbuf.len)
		 : 0;
	pf_source_leave(f->in->src);
	return rc;
}

static int truncate_op(pf_fs *fs, pf_inode *in, pf_file *f, uint64_t size,
		       struct stat *st)
{
	pf_file *own = NULL;
	pk_buf *b;
	int rc, keep_cache;

	if (fs->ro)
		return EROFS;
	if (!f || !f->writable) {
		/* truncate(2) by name: open, cut, commit */
		if ((rc = pf_fs_open(fs, in, O_WRONLY, &own, &keep_cache)))
			return rc;
		f = own;
	}
	if (f->sc)
		pthread_mutex_lock(&fs->xlock);
	b = f->sc ? &f->sc->data : &f->wbuf;
	if (size <= b->len) {
		b->len = (size_t)size;
		if (b->data)
			b->data[b->len] = '\0';
	} else if (pk_buf_grow(b, (size_t)(size - b->len)) == 0) {
		memset(b->data + b->len, 0, (size_t)(size - b->len));
		b->len = (size_t)size;
		b->data[b->len] = '\0';
	}
	f->dirty = 1;
	f->written = 1;
	if (f->sc)
		pthread_mutex_unlock(&fs->xlock);
	rc = 0;
	if (own) {
		rc = flush_handle(fs, own);
		pf_fs_release(fs, own);
	}
	if (!rc)
		rc = pf_fs_getattr(fs, in, st);
	if (!rc && f != own && f->writable)
		st->st_size = (off_t)(f->sc ? f->sc->data.len : f->wbuf.len);
	return rc;
}

static int new_scratch(pf_fs *fs, pf_inode *dir, const char *name, int keep,
		       pf_inode **out, struct stat *st, pf_file **fh)
{
	struct pf_scratch *sc = calloc(1, sizeof(*sc));
	pf_file *f = new_handle();
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

static int create_op(pf_fs *fs, pf_inode *dir, const char *name, int flags,
		     pf_inode **out, struct stat *st, pf_file **fh)
{
	pf_child ch;
	uint64_t i;
	int rc, exists;

	if (fs->ro)
		return EROFS;
	if (dir->kind != PF_I_PICKLE && dir->kind != PF_I_VALUE)
		return EROFS;
	if (strlen(name) > 255)
		return ENAMETOOLONG;
	pthread_mutex_lock(&fs->xlock);
	exists = scratch_find(fs, dir, name) != NULL;
	pthread_mutex_unlock(&fs->xlock);
	if (exists)
		return EEXIST;
	if ((rc = enter(dir)))
		return rc;
	rc = find_entry(dir, name, &i, &ch);
	/* a name that can never become an entry is refused now, where the
	 * shell says so (`echo 1 > list/7` with 5 items) */
	if (rc == ENOENT && !scratch_name(name) && new_name_ok(dir, name))
		rc = EINVAL;
	pf_source_leave(dir->src);
	if (rc == 0) {
		/* an existing value: open it for writing */
		if (flags & O_EXCL)
			return EEXIST;
		if ((rc = pf_fs_lookup(fs, dir, name, out, st)))
			return rc;
		rc = open_for_write(fs, *out, flags | O_TRUNC, fh);
		if (rc)
			pf_fs_forget(fs, *out, 1);
		return rc;
	}
	if (rc != ENOENT)
		return rc;
	/* Editors' and atomic writers' files stay in memory; anything else
	 * (also cp and mv, which create with O_EXCL) is a new key at close. */
	return new_scratch(fs, dir, name, scratch_name(name), out, st, fh);
}

static int mkdir_op(pf_fs *fs, pf_inode *dir, const char *name, pf_inode **out,
		    struct stat *st)
{
	int rc = add_entry(fs, dir, name, 1, NULL, NULL, 0);

	if (rc)
		return rc;
	return pf_fs_lookup(fs, dir, name, out, st);
}

/* rmdir of a ghost's name in its parent: the ghost goes. 0, or ENOENT
 * when there is none. */
static int ghost_rmdir(pf_fs *fs, pf_inode *parent, const char *name)
{
	struct pf_ghost **pp, *g = NULL;

	pthread_mutex_lock(&fs->xlock);
	for (pp = &fs->ghosts; *pp; pp = &(*pp)->next)
		if ((*pp)->parent == parent && strcmp((*pp)->name, name) == 0) {
			g = *pp;
			*pp = g->next;
			break;
		}
	pthread_mutex_unlock(&fs->xlock);
	if (!g)
		return ENOENT;
	pthread_mutex_lock(&parent->src->lock);
	__atomic_store_n(&g->in->ghost, 0, __ATOMIC_RELEASE);
	g->in->gen = 0; /* resolve again: it is gone */
	pthread_mutex_unlock(&parent->src->lock);
	free(g->name);
	free(g);
	return 0;
}

/* An entry that cannot go by itself (an object's __class__ or
 * __args__, an array's dtype, shape or data, a call's argument) takes
 * the whole value it is part of with it: the nearest directory up from
 * dir that its own parent can remove. That value is removed and its
 * directory becomes a ghost, still listed as it was, so that rm -r can
 * finish: removing what is left in it changes nothing more, and the
 * final rmdir succeeds. Lock held; on success *parent, *dc and the ghost
 * are set up for edit_end on *parent. */
static int remove_whole(pf_fs *fs, pf_inode *dir, pf_inode **parent,
			struct dir_change *dc, struct pf_ghost **ghost)
{
	pf_source *s = dir->src;
	pf_inode *a;
	pk_buf name = PK_BUF_INIT;
	int rc = EPERM;

	for (a = dir; a->kind == PF_I_VALUE; a = a->parent) {
		pf_inode *p = a->parent;
		uint64_t pos, id;
		pf_child ch;
		if (entry_pos(p, a->index, &pos) ||
		    pf_docview_child(s->dv, p->ref, pos, &ch))
			return ESTALE;
		if (ch.e.target.part != PF_PART_SELF ||
		    pf_edit_can_remove(p->ref, ch.e.key, ch.e.target.val))
			continue;
		if ((rc = entry_at(p, pos, &name, &id)) ||
		    (rc = ents_ensure(p)))
			break;
		*ghost = calloc(1, sizeof(**ghost));
		if (!*ghost || !((*ghost)->name = strdup((char *)name.data))) {
			free(*ghost);
			*ghost = NULL;
			rc = ENOMEM;
			break;
		}
		(*ghost)->parent = p;
		(*ghost)->in = a;
		a->ghost_val = *ch.e.target.val;
		rc = pf_edit_remove(s->doc, p->ref, ch.e.key, ch.e.target.val);
		dc->changed = 1;
		dc->removed = (int64_t)pos;
		*parent = p;
		break;
	}
	pk_buf_release(&name);
	return rc;
}

static int remove_entry_once(pf_fs *fs, pf_inode *dir, const char *name,
			     int want_dir)
{
	struct dir_change dc = DIR_CHANGE_NONE;
	struct pf_ghost *ghost = NULL;
	pf_inode *at = dir;
	pf_child ch;
	uint64_t pos, n;
	int rc;

	if (in_ghost(dir))
		return 0; /* part of a value already removed whole */
	if ((rc = edit_begin(fs, dir)))
		return rc;
	rc = find_entry(dir, name, &pos, &ch);
	if (rc == ENOENT && want_dir) {
		pf_source_leave(dir->src);
		return ghost_rmdir(fs, dir, name);
	}
	if (!rc && want_dir && ch.look != PF_LOOK_DIR)
		rc = ENOTDIR;
	if (!rc && !want_dir && ch.look == PF_LOOK_DIR)
		rc = EISDIR;
	if (!rc && want_dir &&
	    !(rc = pf_docview_count(dir->src->dv, ch.e.target, &n)) && n)
		rc = ENOTEMPTY;
	if (!rc && ch.e.target.part == PF_PART_SELF &&
	    !pf_edit_can_remove(dir->ref, ch.e.key, ch.e.target.val)) {
		if (!(rc = ents_ensure(dir))) {
			rc = pf_edit_remove(dir->src->doc, dir->ref, ch.e.key,
					    ch.e.target.val);
			dc.changed = 1;
			dc.removed = (int64_t)pos;
		}
	} else if (!rc) {
		rc = remove_whole(fs, dir, &at, &dc, &ghost);
	}
	if (!rc && ghost) {
		/* a ghost from now on: resolved by its own slot */
		ghost->in->ghost_serial = dir->src->serial;
		__atomic_store_n(&ghost->in->ghost, 1, __ATOMIC_RELEASE);
	}
	rc = edit_end(fs, at, rc, &dc);
	if (ghost && rc) {
		pthread_mutex_lock(&dir->src->lock);
		__atomic_store_n(&ghost->in->ghost, 0, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&dir->src->lock);
		free(ghost->name);
		free(ghost);
	} else if (ghost) {
		pthread_mutex_lock(&fs->xlock);
		ghost->next = fs->ghosts;
		fs->ghosts = ghost;
		pthread_mutex_unlock(&fs->xlock);
	}
	return rc;
}

static int remove_entry(pf_fs *fs, pf_inode *dir, const char *name,
			int want_dir)
{
	int rc = EAGAIN, tries;

	for (tries = 0; tries < EDIT_TRIES && rc == EAGAIN; tries++)
		rc = remove_entry_once(fs, dir, name, want_dir);
	return rc;
}

static int unlink_op(pf_fs *fs, pf_inode *dir, const char *name)
{
	struct pf_scratch *sc;

	if (fs->ro)
		return EROFS;
	pthread_mutex_lock(&fs->xlock);
	sc = scratch_find(fs, dir, name);
	if (sc)
		scratch_unlink_locked(fs, sc);
	pthread_mutex_unlock(&fs->xlock);
	if (sc)
		return 0;
	return remove_entry(fs, dir, name, 0);
}

static int rmdir_op(pf_fs *fs, pf_inode *dir, const char *name)
{
	return remove_entry(fs, dir, name, 1);
}

/* The text cat shows for a file entry, appended to out. */
static int entry_text(pf_inode *dir, const pf_child *ch, pk_buf *out)
{
	pf_content c;
	int rc = pf_content_get(dir->src->doc, ch->e.target, 0, &c, NULL);

	if (rc)
		return rc;
	if (pk_buf_add(out, c.data ? c.data : (const uint8_t *)"", c.len) ||
	    (c.nl && pk_buf_addc(out, '\n')))
		rc = ENOMEM;
	pf_content_release(&c);
	return rc;
}

/* mv a b in one directory: b missing, the key changes and keeps its
 * place; b a file, b takes a's text in its own type and place and a
 * goes. Checked whole before the doc is touched, so a refused move
 * changes nothing. */
static int move_entry_once(pf_fs *fs, pf_inode *dir, const char *name,
			   const char *newname)
{
	struct dir_change dc = DIR_CHANGE_NONE;
	pk_buf text = PK_BUF_INIT;
	pf_child src, dst;
	uint64_t si, di;
	int rc = edit_begin(fs, dir);

	if (rc)
		return rc;
	if ((rc = find_entry(dir, name, &si, &src)))
		goto end;
	rc = find_entry(dir, newname, &di, &dst);
	if (rc == ENOENT) {
		if (!src.e.key) {
			rc = EPERM; /* list items and parts have no key */
		} else if (!(rc = ents_ensure(dir))) {
			rc = pf_edit_rename_key(dir->src->doc,
						(pk_val *)src.e.key, newname);
			dc.changed = 1;
			dc.renamed = (int64_t)si;
			dc.name = newname;
		}
	} else if (rc) {
		goto end;
	} else if (si == di) {
		rc = 0; /* rename(2) onto itself does nothing */
	} else if (dst.look != PF_LOOK_FILE || src.look != PF_LOOK_FILE) {
		rc = EPERM;
	} else if (!(rc = pf_edit_can_remove(dir->ref, src.e.key,
					     src.e.target.val)) &&
		   !(rc = entry_text(dir, &src, &text)) &&
		   !(rc = ents_ensure(dir))) {
		rc = pf_edit_set(dir->src->doc, dst.e.target, text.data,
				 text.len);
		if (!rc) {
			/* a's slot did not move: dst's set replaced a
			 * slot's bits, not the kids array */
			rc = pf_edit_remove(dir->src->doc, dir->ref, src.e.key,
					    src.e.target.val);
			dc.changed = 1;
			dc.removed = (int64_t)si;
		}
	}
end:
	pk_buf_release(&text);
	return edit_end(fs, dir, rc, &dc);
}

/* vim's backup (rename name to name~): a copy in memory, the entry
 * stays. */
static int backup_entry(pf_fs *fs, pf_inode *dir, const char *name,
			const char *newname)
{
	pk_buf text = PK_BUF_INIT;
	pf_child src;
	pf_inode *in;
	struct stat st;
	pf_file *fh;
	uint64_t si;
	int rc = enter(dir);

	if (rc)
		return rc;
	rc = find_entry(dir, name, &si, &src);
	if (!rc)
		rc = src.look == PF_LOOK_FILE ? entry_text(dir, &src, &text)
					      : EPERM;
	pf_source_leave(dir->src);
	if (!rc)
		rc = new_scratch(fs, dir, newname, 1, &in, &st, &fh);
	if (!rc) {
		if (pk_buf_add(&fh->sc->data,
			       text.data ? text.data : (const uint8_t *)"",
			       text.len))
			rc = ENOMEM;
		fh->dirty = 0;
		pf_fs_release(fs, fh);
		pf_fs_forget(fs, in, 1);
	}
	pk_buf_release(&text);
	return rc;
}

static int rename_op(pf_fs *fs, pf_inode *dir, const char *name,
		     pf_inode *newdir, const char *newname)
{
	struct pf_scratch *sc, *dst_sc;
	pk_buf text = PK_BUF_INIT;
	int rc, tries;

	if (fs->ro)
		return EROFS;
	if (dir->kind != PF_I_PICKLE && dir->kind != PF_I_VALUE)
		return EROFS;
	if (newdir != dir)
		return EXDEV; /* mv copies and deletes instead */
	pthread_mutex_lock(&fs->xlock);
	sc = scratch_find(fs, dir, name);
	dst_sc = scratch_find(fs, dir, newname);
	if (sc && (dst_sc || scratch_name(newname))) {
		/* scratch to scratch: only the name changes */
		char *nn = strdup(newname);
		if (nn) {
			if (dst_sc)
				scratch_unlink_locked(fs, dst_sc);
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
			rc = add_entry(fs, dir, newname, 0, &text, NULL, 1);
		if (!rc) {
			pthread_mutex_lock(&fs->xlock);
			scratch_unlink_locked(fs, sc);
			pthread_mutex_unlock(&fs->xlock);
		}
		pk_buf_release(&text);
		return rc;
	}
	if (dst_sc)
		scratch_unlink_locked(fs, dst_sc);
	pthread_mutex_unlock(&fs->xlock);
	if (scratch_name(newname))
		return backup_entry(fs, dir, name, newname);
	rc = EAGAIN;
	for (tries = 0; tries < EDIT_TRIES && rc == EAGAIN; tries++)
		rc = move_entry_once(fs, dir, name, newname);
	return rc;
}

static int setxattr_op(pf_fs *fs, pf_inode *in, const char *name,
		       const char *value, size_t size)
{
	char type[32];
	int rc, tries;

	if (strcmp(name, XA_TYPE) != 0)
		return fs->ro ? EROFS : ENOTSUP;
	if (size == 0 || size >= sizeof(type))
		return EINVAL;
	memcpy(type, value, size);
	type[size] = '\0';
	if (in->kind == PF_I_SCRATCH && !fs->ro) {
		/* cp -a and mv copy the type of what they copy: it is the
		 * type the new key gets when the file is closed */
		struct pf_scratch *sc;
		pthread_mutex_lock(&fs->xlock);
		sc = scratch_of_inode(fs, in);
		if (sc && size < sizeof(sc->type)) {
			memcpy(sc->type, type, size + 1);
			rc = 0;
		} else {
			rc = sc ? EINVAL : ENOENT;
		}
		pthread_mutex_unlock(&fs->xlock);
		return rc;
	}
	if (in->kind != PF_I_VALUE)
		return fs->ro ? EROFS : EPERM;
	rc = EAGAIN;
	for (tries = 0; tries < EDIT_TRIES && rc == EAGAIN; tries++) {
		if ((rc = edit_begin(fs, in)))
			break;
		rc = in->look == PF_LOOK_FILE
			 ? pf_edit_convert(in->src->doc, in->ref, type)
			 : EPERM;
		rc = edit_end(fs, in, rc, NULL);
	}
	return rc;
}

static int flush_source(pf_fs *fs, pf_source *s, int force)
{
	return s && pf_source_flush(s, fs->writeback, force) != 0;
}

int pf_fs_flush_all(pf_fs *fs, int force)
{
	size_t i;
	int failed = flush_source(fs, fs->file_src, force);

	pthread_mutex_lock(&fs->slock);
	for (i = 0; i < SRC_BUCKETS; i++) {
		struct srcent *e;
		for (e = fs->sources[i]; e; e = e->next)
			failed += flush_source(fs, e->src, force);
	}
	pthread_mutex_unlock(&fs->slock);
	return failed;
}

/* ---- leftover temporary files -------------------------------------------- */

/* Removes the temporary files a crashed write-back left in the folder
 * path (relative to the source folder): names of pk_pickle_file_is_temp,
 * regular files, last written before the mount started (a write-back of another
 * mount of the same folder that is under way is younger). Once per folder per
 * mount; not on a read-only mount. */
static void sweep_folder(pf_fs *fs, const char *path)
{
	size_t h = path_hash(path), n = strlen(path);
	struct swept *w;
	DIR *dir;
	struct dirent *de;
	int dfd, first = 0;

	if (fs->ro)
		return;
	pthread_mutex_lock(&fs->slock);
	for (w = fs->swept[h]; w; w = w->next)
		if (strcmp(w->path, path) == 0)
			break;
	if (!w && (w = malloc(sizeof(*w) + n + 1))) {
		memcpy(w->path, path, n + 1);
		w->next = fs->swept[h];
		fs->swept[h] = w;
		first = 1;
	}
	pthread_mutex_unlock(&fs->slock);
	if (!first)
		return;
	dfd = openat(fs->dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return;
	}
	while ((de = readdir(dir))) {
		struct stat st;
		if (!pk_pickle_file_is_temp(de->d_name) ||
		    fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (st.st_mtim.tv_sec > fs->started.tv_sec ||
		    (st.st_mtim.tv_sec == fs->started.tv_sec &&
		     st.st_mtim.tv_nsec >= fs->started.tv_nsec))
			continue;
		if (unlinkat(dirfd(dir), de->d_name, 0) == 0)
			pf_log("%s%s%s: removed a temporary file left by an "
			       "interrupted write-back",
			       strcmp(path, ".") ? path : "",
			       strcmp(path, ".") ? "/" : "", de->d_name);
	}
	closedir(dir);
}

/* -o writeback=SECONDS: writes dirty pickles back once they are that
 * old (checked a few times a second). */
static void *flusher_main(void *arg)
{
	pf_fs *fs = arg;
	struct timespec until;

	pthread_mutex_lock(&fs->xlock);
	while (!fs->stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&fs->stop_cv, &fs->xlock, &until);
		if (fs->stopping)
			break;
		pthread_mutex_unlock(&fs->xlock);
		pf_fs_flush_all(fs, 0);
		pthread_mutex_lock(&fs->xlock);
	}
	pthread_mutex_unlock(&fs->xlock);
	return NULL;
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
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			pf_inode **nc = realloc(chain, ncap * sizeof(*nc));
			if (!nc)
				break;
			chain = nc;
			cap = ncap;
		}
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
				else if (resolve(c->parent) ||
					 entry_pos(c->parent, c->index, &pos) ||
					 entry_at(c->parent, pos, &name, &id))
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

static int refused(pf_fs *fs, pf_inode *in, const char *child, int rc)
{
	pk_buf what = PK_BUF_INIT;

	if (!rc || !in)
		return rc;
	describe_entry(in, child, &what);
	pf_log("%s: edit refused: %s", what.data ? (char *)what.data : "?",
	       strerror(rc));
	pk_buf_release(&what);
	return rc;
}

/* A handle's refusal is logged once, not again at each close. */
static int handle_refused(pf_fs *fs, pf_file *f, int rc)
{
	if (rc && rc != f->reported) {
		f->reported = rc;
		refused(fs, f->in, NULL, rc);
	}
	return rc;
}

int pf_fs_write(pf_fs *fs, pf_file *f, uint64_t off, const void *data,
		size_t size)
{
	return handle_refused(fs, f, write_op(fs, f, off, data, size));
}

int pf_fs_flush(pf_fs *fs, pf_file *f)
{
	int rc;

	if (!f)
		return 0;
	/* a refusal of this handle's edit is logged as one; an earlier
	 * write-back's error is only reported (the log said it then) */
	rc = handle_refused(fs, f, flush_handle(fs, f));
	return rc ? rc : pending_error(fs, f);
}

int pf_fs_truncate(pf_fs *fs, pf_inode *in, pf_file *f, uint64_t size,
		   struct stat *st)
{
	return refused(fs, in, NULL, truncate_op(fs, in, f, size, st));
}

int pf_fs_create(pf_fs *fs, pf_inode *dir, const char *name, int flags,
		 pf_inode **out, struct stat *st, pf_file **fh)
{
	return refused(fs, dir, name,
		       create_op(fs, dir, name, flags, out, st, fh));
}

int pf_fs_mkdir(pf_fs *fs, pf_inode *dir, const char *name, pf_inode **out,
		struct stat *st)
{
	return refused(fs, dir, name, mkdir_op(fs, dir, name, out, st));
}

int pf_fs_unlink(pf_fs *fs, pf_inode *dir, const char *name)
{
	return refused(fs, dir, name, unlink_op(fs, dir, name));
}

int pf_fs_rmdir(pf_fs *fs, pf_inode *dir, const char *name)
{
	return refused(fs, dir, name, rmdir_op(fs, dir, name));
}

int pf_fs_rename(pf_fs *fs, pf_inode *dir, const char *name, pf_inode *newdir,
		 const char *newname)
{
	return refused(fs, dir, name,
		       rename_op(fs, dir, name, newdir, newname));
}

int pf_fs_setxattr(pf_fs *fs, pf_inode *in, const char *name, const char *value,
		   size_t size)
{
	return refused(fs, in, NULL, setxattr_op(fs, in, name, value, size));
}
