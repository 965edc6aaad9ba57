#include "source_internal.h"

#include "pickle_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "beneath.h"
#include "compress.h"
#include "errmap.h"
#include "expand.h"
#include "log.h"
#include "pickle.h"
#include "progress.h"
#include "scan.h"
#include "sniff.h"

/* The pickle file, opened beneath the source folder without following a
 * symlink (beneath.h); O_NONBLOCK: a file swapped for a fifo does not
 * block the daemon. -1 and errno (ELOOP: a symlink on the way). */
static int open_file(const pf_source *s)
{
	return pf_beneath_open(s->dirfd, s->path,
			       O_RDONLY | O_NONBLOCK | O_NOCTTY);
}

/* ---- lifecycle --------------------------------------------------------- */

static int try_drop(pf_cache_item *it);

pf_source *pf_source_new(int dirfd, const char *path, const char *display)
{
	pf_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->path = strdup(path);
	s->display = strdup(display);
	if (!s->path || !s->display) {
		free(s->path);
		free(s->display);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->dirfd = dirfd;
	s->cache.try_drop = try_drop;
	return s;
}

void src_drop_tree(pf_source *s)
{
	pf_ckpt_legacy_free(&s->legacy);
	pf_docview_free(s->dv);
	pk_doc_free(s->doc);
	s->dv = NULL;
	s->doc = NULL;
	pk_buf_release(&s->npy_pickle); /* the npy doc's bytes, after it */
	if (s->map_old) {
		/* the bytes of a file our write-back replaced: the tree is
		 * decoded again from the file on disk */
		pf_map_unref(s->map);
		s->map = NULL;
		s->map_old = 0;
	}
}

/* Forgets everything read from the file (it changed on disk). */
void src_reset(pf_source *s)
{
	if (s->dv)
		pf_cache_remove(&s->cache);
	src_drop_tree(s);
	src_drop_archive(s);
	s->ckpt = 0;
	s->npy = 0;
	pf_map_unref(s->map);
	s->map = NULL;
	s->state = PF_SRC_UNKNOWN;
	s->broken = 0;
	memset(&s->err, 0, sizeof(s->err));
	s->err_in_z = 0;
	s->big = 0;
	s->zfail = 0;
	s->epoch++;
}

void pf_source_free(pf_source *s)
{
	if (!s)
		return;
	src_reset(s);
	pthread_mutex_destroy(&s->lock);
	if (s->scan)
		pf_scan_free(s->scan);
	free(s->scan);
	free(s->member);
	free(s->path);
	free(s->display);
	free(s);
}

static int try_drop(pf_cache_item *it)
{
	pf_source *s = (pf_source *)((char *)it - offsetof(pf_source, cache));

	if (pthread_mutex_trylock(&s->lock) != 0)
		return 0;
	/* a dirty tree holds edits not on disk yet: never drop it */
	if (s->pins > 0 || !s->dv || s->dirty) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	src_drop_tree(s);
	pthread_mutex_unlock(&s->lock);
	return 1;
}

/* ---- loading ----------------------------------------------------------- */

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The file changed on disk, or was removed (lock held): the outside
 * change wins. Edits waiting for the write-back are dropped, said in
 * the log, and reported (ESTALE) to the next fsync/close. */
void src_outside_change(pf_source *s, const char *how)
{
	if (s->dirty) {
		pf_log("%s: %s on disk; %u pending edits not written",
		       s->display, how, s->pending);
		s->wb_err = ESTALE;
		s->dirty = 0;
		s->pending = 0;
	}
	src_reset(s);
}

void src_set_io_err(pk_err *e, const char *msg)
{
	pk_err_set(e, PK_E_IO, msg, 0);
}

static int copy_fd(int in, int out, uint64_t len)
{
	char buf[1 << 16];
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = pread(in, buf, sizeof(buf), (off_t)done), w = 0;
		if (n <= 0)
			return n < 0 ? -1 : (errno = EIO, -1);
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));
			if (k < 0)
				return -1;
			w += k;
		}
		done += (uint64_t)n;
	}
	return 0;
}

/* Logs the bytes after the compressed data that were skipped, as
 * Python skips them (they are not written back). */
static void note_tail(const pf_source *s, const pk_zinfo *z, uint64_t size)
{
	if (!z->tail_at || z->tail_at >= size)
		return;
	pf_log("%s: byte %llu of the compressed input: %llu bytes after the "
	       "last %s ignored, as Python ignores them (an edit writes the "
	       "file without them)",
	       s->display, (unsigned long long)z->tail_at,
	       (unsigned long long)(size - z->tail_at),
	       z->fmt == PK_Z_GZIP    ? "gzip member"
	       : z->fmt == PK_Z_BZIP2 ? "bzip2 stream"
	       : z->fmt == PK_Z_ZSTD  ? "zstd frame"
	       : z->fmt == PK_Z_ZLIB  ? "zlib stream"
				      : "xz / lzma stream");
}

/* A lookup's decompression (cap > 0) also has a time budget: a stream
 * that reads on and on without giving 1 MiB (the progress callback comes
 * every few MB of input) stops as if it had. */
#define EAGER_BUDGET_NS 500000000ll

struct budget {
	pf_progress *pg;
	struct timespec start;
	int expired;
};

static int budget_cb(void *ctx, uint64_t done, uint64_t total)
{
	struct budget *b = ctx;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - b->start.tv_sec) * 1000000000ll +
		(now.tv_nsec - b->start.tv_nsec) >
	    EAGER_BUDGET_NS) {
		b->expired = 1;
		return 1;
	}
	return pf_progress_cb(b->pg, done, total);
}

/* Maps the file, or decompresses it into a cache file (bounded,
 * expand.h; by cap too when cap > 0, and by EAGER_BUDGET_NS) and maps
 * that. A failed decompression sets s->err_in_z. */
int src_map_source(pf_source *s, pf_progress *pg, uint64_t cap, pk_err *e)
{
	int fd, out = -1, rc = 0;
	struct stat st;
	pf_map *m = NULL;

	s->err_in_z = 0;
	if (s->parent)
		return src_map_member(s, pg, cap, e);
	fd = open_file(s);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = errno;
		src_set_io_err(e, "cannot open the file");
		goto cleanup;
	}
	/* what the tree is read from: a write-back replaces only this */
	s->base = st;
	s->st = st;
	if (s->zfmt == PK_Z_NONE) {
		memset(&s->z, 0, sizeof(s->z));
		m = pf_map_file(fd, (size_t)st.st_size, 1);
		if (!m && errno == ENOSPC) {
			/* no room to guard one more mapping: serve a copy */
			out = pf_expand_cache_file(NULL);
			if (out < 0 || copy_fd(fd, out, (uint64_t)st.st_size)) {
				rc = errno ? errno : EIO;
				src_set_io_err(e,
					       "cannot copy into a cache file");
				goto cleanup;
			}
			m = pf_map_file(out, (size_t)st.st_size, 0);
		}
	} else {
		struct budget bud = {pg, {0, 0}, 0};
		int zrc;
		pg->what = "decompressing";
		clock_gettime(CLOCK_MONOTONIC, &bud.start);
		zrc = pf_expand_fd_as(
		    s->zfmt, fd, cap, cap ? budget_cb : pf_progress_cb,
		    cap ? (void *)&bud : (void *)pg, &s->zres, e);
		if (zrc != PK_OK && bud.expired) {
			/* out of time: as if past the cap */
			zrc = pk_err_set(e, PK_E_LIMIT,
					 "expands past the limit", e->offset);
			s->zres.by_caller = 1;
		}
		if (zrc != PK_OK) {
			s->err_in_z = 1;
			rc = zrc == PK_E_IO && s->zres.sys_errno
				 ? s->zres.sys_errno
				 : pf_errno_of(zrc);
			goto cleanup;
		}
		out = s->zres.fd;
		s->z = s->zres.z;
		note_tail(s, &s->z, (uint64_t)st.st_size);
		m = pf_map_file(out, (size_t)s->zres.len, 0);
	}
	if (!m) {
		rc = errno ? errno : ENOMEM;
		src_set_io_err(e, "cannot map the file");
		goto cleanup;
	}
	s->map = m;
cleanup:
	if (fd >= 0)
		close(fd);
	if (out >= 0)
		close(out);
	return rc;
}

static size_t tree_bytes(const pf_source *s)
{
	return pk_doc_bytes(s->doc) + pf_docview_bytes(s->dv);
}

/* While the decoder reads on, the pages it has passed leave our resident
 * set (they stay in the page cache and come back on a read of a value
 * that points there): a big pickle's bytes and its tree are not both
 * resident at the peak. */
struct decode_pass {
	pf_progress *pg;
	pf_map *map;
	uint64_t dropped;
};

static int decode_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct decode_pass *dp = ctx;
	uint64_t page = 4096, upto = done & ~(page - 1);

	if (dp->map->addr && dp->map->data == dp->map->addr &&
	    upto > dp->dropped) {
		madvise((char *)dp->map->addr + dp->dropped,
			(size_t)(upto - dp->dropped), MADV_DONTNEED);
		dp->dropped = upto;
	}
	return pf_progress_cb(dp->pg, done, total);
}

/* Loads the tree (lock held). strict: the whole file must be one pickle
 * (how a file without magic proves it is one). cap > 0: a compressed
 * file is decompressed only that far (a lookup's budget): past it, the
 * load fails with PK_E_LIMIT and s->zres.by_caller set. */
static int load(pf_source *s, int strict, int show_progress, uint64_t cap,
		pk_err *e)
{
	pf_progress pg;
	int rc = 0, drc;
	const uint8_t *data;
	uint64_t len;

	pf_progress_start(&pg, s->display, "indexing", show_progress);
	if (!s->map && (rc = src_map_source(s, &pg, cap, e)))
		goto cleanup;
	data = s->map->data;
	len = s->map->len;
	if (s->ckpt) {
		/* the object is data.pkl's, read in place */
		if (!s->ix && (rc = src_load_archive(s, show_progress, e)))
			goto cleanup;
		if (!s->ckpt) {
			rc = ESTALE;
			pk_err_set(e, PK_E_IO, "no longer a checkpoint", 0);
			goto cleanup;
		}
		pf_ckpt_pickle(&s->ck, &data, &len);
	}
	pg.what = "indexing";
	if (s->npy) {
		if ((drc = pf_npy_read(data, (size_t)len, &s->npyinfo, e)) !=
			PK_OK ||
		    (drc = pf_npy_pickle(&s->npyinfo, &s->npy_pickle, e)) !=
			PK_OK ||
		    (drc = pk_decode(s->npy_pickle.data, s->npy_pickle.len, 0,
				     &s->doc, e)) != PK_OK) {
			s->doc = NULL;
			rc = pf_errno_of(drc);
			goto cleanup;
		}
		pf_npy_bind(&s->npyinfo, data + s->npyinfo.data_off, s->doc);
		goto built;
	}
	if (s->ckpt != 1 && pf_ckpt_legacy_magic(data, (size_t)len)) {
		pk_decode_opts o = {0,	 pf_cache_tree_max(), NULL, NULL, NULL,
				    NULL};
		if ((rc = src_load_legacy(s, data, (size_t)len, &o, e)))
			goto cleanup;
		goto built;
	}
	{
		struct decode_pass dp = {&pg, s->map, 0};
		pk_decode_opts o = {strict ? PK_DEC_STRICT_END : 0,
				    pf_cache_tree_max(),
				    decode_progress,
				    &dp,
				    NULL,
				    NULL};
		drc = pk_decode_with(data, (size_t)len, &o, &s->doc, e);
	}
	if (drc != PK_OK) {
		s->doc = NULL;
		rc = pf_errno_of(drc);
		goto cleanup;
	}
	if (s->ckpt)
		pf_ckpt_bind(&s->ck, s->doc);
built:
	s->serial++;
	pg.what = "linking";
	rc = pf_docview_new_ex(s->doc, pf_progress_cb, &pg, &s->dv);
	if (!rc)
		pf_docview_on_note(s->dv, src_note, s);
	if (rc) {
		pk_doc_free(s->doc);
		s->doc = NULL;
		pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	s->gen++;
	pf_cache_update(&s->cache, tree_bytes(s));
cleanup:
	pf_progress_done(&pg);
	return rc;
}

void src_note(void *ctx, const char *why)
{
	const pf_source *s = ctx;

	pf_log("%s: a DataFrame or Series shown raw: %s", s->display, why);
}

void src_mark_broken(pf_source *s, const pk_err *e, int log_it)
{
	char msg[1200];

	s->broken = 1;
	s->err = *e;
	s->state = PF_SRC_FILE;
	if (log_it) {
		pf_source_describe_error(s, msg, sizeof(msg));
		pf_log("%s (shown as a plain file)", msg);
	}
}

void pf_source_describe_error(const pf_source *s, char *buf, size_t n)
{
	if (s->err_in_z) {
		pf_expand_describe(s->display, &s->err, &s->zres, buf, n);
		return;
	}
	pk_describe_decode_error(s->display, s->zfmt != PK_Z_NONE, &s->err, buf,
				 n);
}

int pf_source_error_text(pf_source *s, pk_buf *out)
{
	char msg[1200];
	int rc = ENODATA;

	pthread_mutex_lock(&s->lock);
	if (s->broken || s->zfail) {
		pf_source_describe_error(s, msg, sizeof(msg));
		rc = pk_buf_adds(out, msg) ? ENOMEM : 0;
	} else if (s->state == PF_SRC_FILE && s->raw_why) {
		rc = pk_buf_addf(out, "%s: %s, not a pickle", s->display,
				 s->raw_why)
			 ? ENOMEM
			 : 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void src_stamp(pf_source *s)
{
	clock_gettime(CLOCK_MONOTONIC, &s->checked);
}

/* A lookup's decompression stopped at its budget (PF_EAGER_MAX). */
static int stopped_early(const pf_source *s, const pk_err *e)
{
	return s->err_in_z && e->code == PK_E_LIMIT && s->zres.by_caller;
}

/* The decompression was refused by a bound or could not write its cache
 * file: not the pickle's fault, but trying again at once would redo the
 * same work for the same end. Remembered (zfail) and logged. */
static int zfail_kind(const pf_source *s, const pk_err *e)
{
	return s->err_in_z && !stopped_early(s, e) &&
	       (e->code == PK_E_LIMIT || e->code == PK_E_IO);
}

static void set_zfail(pf_source *s, const pk_err *e, int rc)
{
	char msg[1200];

	s->err = *e;
	s->zfail = rc ? rc : EIO;
	s->zfail_retry = s->zres.by_space || e->code == PK_E_IO;
	clock_gettime(CLOCK_MONOTONIC, &s->zfail_at);
	pf_source_describe_error(s, msg, sizeof(msg));
	pf_log("%s", msg);
}

/* Whether a remembered zfail still stands (lock held). */
static int zfail_stands(pf_source *s)
{
	struct timespec now;

	if (!s->zfail)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (s->zfail_retry &&
	    now.tv_sec - s->zfail_at.tv_sec >= ZFAIL_RETRY_S) {
		s->zfail = 0;
		return 0;
	}
	return 1;
}

/* A lookup's parse of a small pickle (lock held; state PF_SRC_PICKLE):
 * a broken one shows as a file from the first lookup on. Compressed,
 * it is decompressed only up to PF_EAGER_MAX bytes; a bigger one stays
 * a directory, parsed when it is opened. */
static void eager_load(pf_source *s)
{
	pk_err e = {0, NULL, 0};
	int rc;

	if ((uint64_t)s->st.st_size > PF_EAGER_MAX || s->big || s->zfail ||
	    s->lazy)
		return;
	rc = load(s, 0, 0, PF_EAGER_MAX, &e);
	if (!rc || e.code == PK_E_NOMEM)
		return;
	if (stopped_early(s, &e))
		s->big = 1;
	else if (zfail_kind(s, &e))
		set_zfail(s, &e, rc);
	else
		src_mark_broken(s, &e, 1);
}

/* Sniffs (and if needed parses) the current file. Lock held. */
/* pf_sniff of the file, or of the member's bytes; -1 when they cannot
 * be read. Lock held. */
static int sniff_now(pf_source *s)
{
	pk_err e = {0, NULL, 0};
	pf_map *raw = NULL;
	int fd, kind;

	if (s->parent) {
		if (src_member_raw(s, &raw, &e))
			return -1;
		kind = pf_sniff_mem(raw->data, raw->len, s->path, &s->zfmt,
				    &s->raw_why);
		pf_map_unref(raw);
		return kind;
	}
	if ((fd = open_file(s)) < 0)
		return -1;
	kind = pf_sniff(fd, (uint64_t)s->st.st_size, s->path, &s->zfmt,
			&s->raw_why);
	close(fd);
	return kind;
}

static void classify_locked(pf_source *s, int quick)
{
	int kind, rc;
	pk_err e = {0, NULL, 0};

	kind = sniff_now(s);
	if (kind < 0) {
		s->state = PF_SRC_FILE;
		return;
	}
	s->sniffed = kind;
	switch (kind) {
	case PF_SNIFF_NO:
		s->state = PF_SRC_FILE;
		if (s->raw_why)
			pf_log("%s: %s, not a pickle (shown as it is)",
			       s->display, s->raw_why);
		return;
	case PF_SNIFF_NPY:
		s->npy = 1;
		s->state = PF_SRC_PICKLE;
		if (!quick)
			eager_load(s);
		return;
	case PF_SNIFF_ARCHIVE:
		if (s->zfmt != PK_Z_NONE) {
			/* its index is read when it is entered: a .tar.gz is
			 * not decompressed for a lookup */
			s->state = PF_SRC_ARCHIVE;
			return;
		}
		if (quick)
			return; /* stays PF_SRC_UNKNOWN */
		/* read in place: indexing it costs its headers, and tells
		 * a PyTorch checkpoint from any zip */
		rc = src_load_archive(s, 0, &e);
		if (rc == ENOMEM) {
			s->state = PF_SRC_UNKNOWN;
		} else if (rc) {
			src_mark_broken(s, &e, 1);
		} else {
			s->state = s->ckpt ? PF_SRC_PICKLE : PF_SRC_ARCHIVE;
			if (s->ckpt)
				eager_load(s);
		}
		return;
	case PF_SNIFF_MAYBE:
	case PF_SNIFF_CUT:
		if (quick)
			return; /* stays PF_SRC_UNKNOWN */
		/* only a whole parse tells: compressed, a lookup
		 * decompresses no more than PF_EAGER_MAX for it */
		rc = load(s, kind == PF_SNIFF_MAYBE, 0,
			  s->zfmt != PK_Z_NONE ? PF_EAGER_MAX : 0, &e);
		if (rc == ENOMEM) {
			s->state = PF_SRC_UNKNOWN; /* no verdict: try again */
			return;
		}
		if (rc && stopped_early(s, &e)) {
			/* too big to tell at a lookup: not shown as a
			 * pickle (a .pkl.gz name would make it one) */
			s->state = PF_SRC_FILE;
			return;
		}
		if (rc && zfail_kind(s, &e)) {
			set_zfail(s, &e, rc);
			s->state = PF_SRC_FILE;
			return;
		}
		if (e.code != PK_OK) {
			src_mark_broken(s, &e, kind == PF_SNIFF_CUT);
			return;
		}
		s->state = PF_SRC_PICKLE;
		return;
	}
	s->state = PF_SRC_PICKLE;
	if (!quick)
		eager_load(s);
}

int pf_source_classify(pf_source *s, const struct stat *st, int quick)
{
	int state;

	pthread_mutex_lock(&s->lock);
	if (s->state != PF_SRC_UNKNOWN && !same_file(&s->st, st))
		src_outside_change(s, "changed");
	s->st = *st;
	src_stamp(s);
	if (s->state == PF_SRC_UNKNOWN)
		classify_locked(s, quick);
	else if (!quick && s->state == PF_SRC_PICKLE && !s->dv && !s->broken &&
		 (s->sniffed == PF_SNIFF_PICKLE ||
		  s->sniffed == PF_SNIFF_NPY) &&
		 s->gen == 0)
		eager_load(s); /* sniffed by a readdir: parse now that it
				  is looked up */
	state = s->state;
	pthread_mutex_unlock(&s->lock);
	return state;
}

/* Re-reads the file's identity at most once a second. Lock held. A
 * change on disk wins over edits waiting for the write-back. */
void src_refresh(pf_source *s)
{
	struct timespec now;
	struct stat st;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - s->checked.tv_sec < 1 && s->state != PF_SRC_UNKNOWN)
		return;
	s->checked = now;
	if (s->parent) {
		/* a member changes with its archive (which looks at its own
		 * file at most once a second) */
		if (s->state != PF_SRC_UNKNOWN &&
		    !pf_source_archive_changed(s->parent, s->parent_epoch) &&
		    !pf_map_torn(s->map))
			return;
		src_outside_change(s, "changed");
		classify_locked(s, 0);
		return;
	}
	if (pf_beneath_stat(s->dirfd, s->path, &st) < 0) {
		/* gone: keep serving what we have, but pending edits can
		 * never be written (a removed source is not re-created) */
		if (s->dirty && errno == ENOENT)
			src_outside_change(s, "removed");
		return;
	}
	if (s->state != PF_SRC_UNKNOWN && same_file(&s->st, &st) &&
	    !pf_map_torn(s->map))
		return;
	src_outside_change(s, "changed");
	s->st = st;
	classify_locked(s, 0);
}

int pf_source_enter(pf_source *s)
{
	pk_err e = {0, NULL, 0};

	pthread_mutex_lock(&s->lock);
	if (pf_map_torn(s->map))
		s->checked.tv_sec -= 2; /* shrank under us: look now */
	src_refresh(s);
	if (s->state != PF_SRC_PICKLE) {
		int rc = s->broken
			     ? pf_errno_of(s->err.code ? s->err.code : PK_E_IO)
			     : ESTALE;
		pthread_mutex_unlock(&s->lock);
		/* broken: the decode error's errno (errmap.c) */
		return rc;
	}
	if (!s->dv) {
		int rc;
		if (zfail_stands(s)) {
			rc = s->zfail;
			pthread_mutex_unlock(&s->lock);
			return rc;
		}
		rc = load(s, s->sniffed == PF_SNIFF_MAYBE, 0, 0, &e);
		if (rc) {
			/* out of memory says nothing about the pickle, nor
			 * does a bound or the cache folder (remembered) */
			if (zfail_kind(s, &e))
				set_zfail(s, &e, rc);
			else if (rc != ENOMEM)
				src_mark_broken(s, &e, 1);
			pthread_mutex_unlock(&s->lock);
			return rc == ENOMEM || zfail_kind(s, &e)
				   ? rc
				   : pf_errno_of(e.code ? e.code : PK_E_IO);
		}
	}
	return 0;
}

void pf_source_leave(pf_source *s)
{
	if (s->dv)
		pf_cache_update(&s->cache, tree_bytes(s));
	pthread_mutex_unlock(&s->lock);
	pf_cache_trim();
}

int pf_source_load_now(pf_source *s, int progress, pk_err *e)
{
	int fd, rc = 0;
	struct stat st;

	pthread_mutex_lock(&s->lock);
	fd = open_file(s);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = errno;
		src_set_io_err(e, strerror(rc));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	s->st = st;
	src_stamp(s);
	s->sniffed =
	    pf_sniff(fd, (uint64_t)st.st_size, s->path, &s->zfmt, &s->raw_why);
	close(fd);
	if (s->sniffed == PF_SNIFF_ARCHIVE) {
		s->state = PF_SRC_ARCHIVE;
		rc = src_load_archive(s, progress, e);
		if (rc) {
			src_mark_broken(s, e, 0);
			goto out;
		}
		if (!s->ckpt)
			goto out;
		s->sniffed = PF_SNIFF_PICKLE; /* a checkpoint: its object */
	}
	if (s->sniffed == PF_SNIFF_NO) {
		/* a file SOURCE was named on purpose: try it anyway */
		s->sniffed = PF_SNIFF_PICKLE;
	}
	rc = load(s, 0, progress, 0, e);
	if (rc) {
		s->broken = 1;
		s->err = *e;
		s->state = PF_SRC_FILE;
	} else {
		s->state = PF_SRC_PICKLE;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}
