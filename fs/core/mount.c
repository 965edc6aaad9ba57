/*
 * mount.c - the mount as a whole: opening SOURCE, the table of its
 * pickle files, the threads it runs (-o writeback's timer), sweeping the
 * temporary files a crash left, writing everything back at unmount.
 * See vfs.h for the contract; vfs_internal.h for what the vfs files
 * share.
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

static void *flusher_main(void *arg);

static size_t path_hash(const char *s)
{
	size_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (uint8_t)*s;
	return h % SRC_BUCKETS;
}

/* The source for a file of a folder SOURCE (made on first sight; lives
 * as long as the mount). */
pf_source *vfs_source_for(pf_fs *fs, const char *path)
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
			if (e->src) {
				e->src->writable = !fs->ro;
				e->src->lazy = fs->lazy;
			}
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

pf_source *vfs_member_source_for(pf_fs *fs, pf_source *arc, const char *member)
{
	char *key, *display;
	size_t h, n;
	struct srcent *e;

	/* "//" never starts a path of the folder: the keys of members
	 * cannot meet the folder's */
	if (asprintf(&display, "%s/%s", arc->display, member) < 0)
		return NULL;
	if (asprintf(&key, "//%s", display) < 0) {
		free(display);
		return NULL;
	}
	h = path_hash(key);
	n = strlen(key);
	pthread_mutex_lock(&fs->slock);
	for (e = fs->sources[h]; e; e = e->next)
		if (strcmp(e->path, key) == 0)
			break;
	if (!e && (e = malloc(sizeof(*e) + n + 1))) {
		memcpy(e->path, key, n + 1);
		if (!(e->src = pf_source_new_member(arc, member, display))) {
			free(e);
			e = NULL;
		} else {
			e->src->lazy = fs->lazy;
			e->next = fs->sources[h];
			fs->sources[h] = e;
		}
	}
	pthread_mutex_unlock(&fs->slock);
	free(key);
	free(display);
	return e ? e->src : NULL;
}

pf_source *pf_fs_source_of(pf_fs *fs, pf_inode *in)
{
	switch (in->kind) {
	case PF_I_PICKLE:
	case PF_I_ARCHIVE:
		return in->src;
	case PF_I_MIRROR_FILE:
		return vfs_source_for(fs, in->path);
	case PF_I_ARC_FILE:
		return vfs_member_source_for(fs, in->src, in->path);
	}
	return NULL;
}

int pf_fs_writable(const pf_fs *fs)
{
	return !fs->ro;
}

/* A file SOURCE (st: what the open at mount found): its folder opened,
 * the file in it checked to be that one, and the pickle loaded. 0, or an
 * errno with msg set. */
static int mount_file(pf_fs *fs, const pf_fs_config *cfg, const struct stat *st,
		      char *msg, size_t n)
{
	pk_err e = {0, NULL, 0};
	struct stat cur;
	char *copy1, *copy2 = NULL, *name;
	int rc = 0;

	/* the file itself, not a symlink to it: the write-back replaces
	 * the file a symlink SOURCE points to */
	copy1 = realpath(cfg->source, NULL);
	copy2 = copy1 ? strdup(copy1) : NULL;
	if (!copy1 || !copy2) {
		rc = copy1 ? ENOMEM : errno;
		snprintf(msg, n, "%s: %s", cfg->source, strerror(rc));
		goto out;
	}
	name = basename(copy2);
	fs->dirfd = open(dirname(copy1), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->dirfd < 0) {
		rc = errno;
		snprintf(msg, n, "%s: %s", cfg->source, strerror(rc));
		goto out;
	}
	/* the file in that folder is still the one opened at mount (not
	 * swapped meanwhile, not a symlink now) */
	if (pf_beneath_stat(fs->dirfd, name, &cur) < 0 ||
	    cur.st_dev != st->st_dev || cur.st_ino != st->st_ino) {
		rc = EAGAIN;
		snprintf(msg, n, "%s: changed while being mounted",
			 cfg->source);
		goto out;
	}
	fs->file_src = pf_source_new(fs->dirfd, name, cfg->source);
	if (!fs->file_src) {
		rc = ENOMEM;
		snprintf(msg, n, "out of memory");
		goto out;
	}
	fs->file_src->writable = !fs->ro;
	vfs_sweep_folder(fs, ".");
	rc = pf_source_load_now(fs->file_src, cfg->progress, &e);
	if (rc) {
		if (e.msg)
			pf_source_describe_error(fs->file_src, msg, n);
		else
			snprintf(msg, n, "%s: %s", cfg->source, strerror(rc));
		goto out;
	}
	fs->itab = pf_itable_new(
	    fs->file_src->state == PF_SRC_ARCHIVE ? PF_I_ARCHIVE : PF_I_PICKLE,
	    name, fs->file_src, st->st_ino);
out:
	free(copy1);
	free(copy2);
	return rc;
}

int pf_fs_new(const pf_fs_config *cfg, pf_fs **out, char *msg, size_t n)
{
	pf_fs *fs = calloc(1, sizeof(*fs));
	struct stat st;
	int rc = 0, srcfd = -1;

	*out = NULL;
	if (!fs) {
		snprintf(msg, n, "out of memory");
		return ENOMEM;
	}
	fs->dirfd = -1;
	pthread_mutex_init(&fs->slock, NULL);
	pthread_mutex_init(&fs->xlock, NULL);
	pthread_mutex_init(&fs->hlock, NULL);
	fs->handles.next = fs->handles.prev = &fs->handles;
	pthread_cond_init(&fs->stop_cv, NULL);
	fs->ro = cfg->ro;
	fs->lazy = cfg->lazy;
	fs->writeback = cfg->writeback;
	fs->next_scratch_ino = 1ull << 62;
	clock_gettime(CLOCK_REALTIME, &fs->started);
	/* SOURCE itself is resolved once, here, as the command line names
	 * it; inside it nothing is followed (beneath.h) */
	srcfd = open(cfg->source, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (srcfd < 0 || fstat(srcfd, &st) < 0) {
		rc = errno;
		snprintf(msg, n, "%s: %s", cfg->source, strerror(rc));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		fs->dirfd = srcfd;
		srcfd = -1;
		fs->itab = pf_itable_new(PF_I_MIRROR_DIR, ".", NULL, st.st_ino);
		vfs_sweep_folder(fs, ".");
	} else if (S_ISREG(st.st_mode)) {
		if ((rc = mount_file(fs, cfg, &st, msg, n)))
			goto fail;
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
	if (srcfd >= 0)
		close(srcfd);
	*out = fs;
	return 0;
fail:
	if (srcfd >= 0)
		close(srcfd);
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
	size_t n;
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
	/* handles the kernel did not release (a RELEASE still in flight
	 * when the session ended, a lazy unmount): a write not committed yet
	 * is committed now, like at close */
	if ((n = vfs_release_all(fs)))
		pf_log("unmount: %zu open files released", n);
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
	pthread_mutex_destroy(&fs->hlock);
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
void vfs_sweep_folder(pf_fs *fs, const char *path)
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
	dfd = pf_beneath_open(fs->dirfd, path, O_RDONLY | O_DIRECTORY);
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
