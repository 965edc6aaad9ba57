/*
 * source.h - one pickle file of the mount, from bytes on disk to a tree.
 *
 * What: a pf_source is a file that is (or may be) a pickle. It sniffs the
 * file (sniff.h), maps it (or, compressed, decompresses it once into an
 * unlinked cache file and maps that), decodes it on first use, builds its
 * docview, and drops the tree again when the cache (cache.h) needs the
 * memory. A source notices when its file changed on disk (inode, size,
 * mtime) and starts over. A pickle that fails to decode is "broken": it
 * is shown as its raw file and the reason is logged with the byte offset.
 *
 * Ownership: the source owns its mapping (refcounted pf_map, mapping.h:
 * open files keep the bytes they serve alive after the tree is dropped;
 * a file that shrinks under it does not crash the daemon), its doc
 * and docview. The caller owns the source (pf_source_free).
 * Invariants / locking: every field is guarded by the source's mutex.
 * pf_source_enter returns with the mutex held and the tree loaded; the
 * view and doc may only be used until pf_source_leave. `gen` changes each
 * time a tree is (re)built: pointers into an older tree are invalid;
 * `epoch` changes when the bytes the tree is read from change.
 */
#ifndef PF_SOURCE_H
#define PF_SOURCE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cache.h"
#include "compress.h"
#include "docview.h"
#include "error.h"
#include "mapping.h"

enum pf_src_state {
	PF_SRC_UNKNOWN = 0, /* not sniffed yet */
	PF_SRC_PICKLE,	    /* shown as a directory */
	PF_SRC_FILE,	    /* not a pickle, or broken: shown raw */
};

typedef struct pf_source {
	pthread_mutex_t lock;
	int dirfd;	/* directory the path is relative to (borrowed) */
	char *path;	/* relative to dirfd */
	char *display;	/* the name in messages */
	struct stat st; /* the file as last seen */
	struct timespec checked; /* when st was last compared to the disk */
	int state;		 /* enum pf_src_state */
	int sniffed;		 /* enum pf_sniff of the current file */
	int zfmt;		 /* enum pk_zfmt */
	pk_zinfo z;		 /* its header and level, to write it back */
	int writable;		 /* the mount takes changes (not -o ro) */
	int dirty;		 /* edited, not written back yet */
	struct timespec dirty_since;
	int broken; /* decode failed (err says why) */
	pk_err err;
	pf_map *map;
	pk_doc *doc;
	pf_docview *dv;
	uint64_t gen;
	uint64_t serial; /* changes each time a doc is decoded: pointers
			    into a doc are valid while it is the same */
	uint64_t epoch;	 /* changes when the file changed on disk and is read
			    anew (not when a tree is dropped and parsed again
			    from the same bytes): names kept for edited
			    directories (entries.h) belong to one epoch */
	int pins;
	pf_cache_item cache;
} pf_source;

/* Like pf_source_enter, for an edit: looks at the file on disk first
 * (not at most once a second), so an edit applies to what is there now:
 * a pickle someone else rewrote is read again before it is changed. */
int pf_source_enter_edit(pf_source *s);

/* After the doc was changed (lock held): writes the pickle back now, or,
 * when delay_s > 0, marks it dirty for pf_source_flush; then rebuilds the
 * view (gen changes: entry refs are resolved again). 0 or errno; on a
 * write error the file on disk is unchanged. */
int pf_source_commit(pf_source *s, unsigned delay_s);
/* Writes a dirty pickle back (takes the lock). force: whatever its age;
 * else only when it has been dirty for delay_s seconds. */
int pf_source_flush(pf_source *s, unsigned delay_s, int force);

/* Progress bars for loads (main turns it on for the startup parse). */
void pf_source_set_progress(int enabled);

pf_source *pf_source_new(int dirfd, const char *path, const char *display);
void pf_source_free(pf_source *s);

/* How the file at st (just stat'ed by the caller) is shown: PF_SRC_PICKLE
 * or PF_SRC_FILE. Sniffs the first time and whenever the file changed;
 * small pickles are parsed right away so a broken one shows as a file
 * from the first lookup. quick (readdir): never parse; a file that only a
 * parse can classify gives PF_SRC_UNKNOWN. */
int pf_source_classify(pf_source *s, const struct stat *st, int quick);

/* Locks the source and makes sure its tree is loaded. 0: locked, use
 * s->dv / s->doc / s->map, then pf_source_leave. Else an errno and the
 * lock is not held (EIO: broken, see s->err; ESTALE: no longer a
 * pickle). */
int pf_source_enter(pf_source *s);
void pf_source_leave(pf_source *s);

/* Parses now (main: the file SOURCE, with a progress bar); on failure
 * *e says why. 0 or errno. */
int pf_source_load_now(pf_source *s, pk_err *e);

/* "NAME: byte N: message" for a broken source, into buf. */
void pf_source_describe_error(const pf_source *s, char *buf, size_t n);

#endif
