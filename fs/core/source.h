/*
 * source.h - one pickle file of the mount, from bytes on disk to a tree.
 *
 * What: a pf_source is a file that is (or may be) a pickle. It sniffs the
 * file (sniff.h), maps it (or, compressed, decompresses it once into an
 * unlinked cache file and maps that), decodes it on first use, builds its
 * docview, and drops the tree again when the cache (cache.h) needs the
 * memory. A source notices when its file changed on disk (inode, size,
 * mtime, ctime) and starts over; its edits are written back only over the
 * file they were made to (compare and replace), never over someone
 * else's change and never into a file that was removed. A pickle that
 * fails to decode is "broken": it is shown as its raw file and the reason
 * is logged with the byte offset.
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
#include "checkpoint.h"
#include "compress.h"
#include "docview.h"
#include "error.h"
#include "expand.h"
#include "mapping.h"
#include "npy.h"

enum pf_src_state {
	PF_SRC_UNKNOWN = 0, /* not sniffed yet */
	PF_SRC_PICKLE,	    /* shown as a directory */
	PF_SRC_FILE,	    /* not a pickle, or broken: shown raw */
	PF_SRC_ARCHIVE,	    /* a tar or zip: a directory of its members */
};

struct pf_arc_index;
struct pf_arc_member;

typedef struct pf_source {
	pthread_mutex_t lock;
	int dirfd;	  /* directory the path is relative to (borrowed) */
	char *path;	  /* relative to dirfd */
	char *display;	  /* the name in messages */
	struct stat st;	  /* the file as last seen */
	struct stat base; /* the file the mapped bytes were read from */
	struct timespec checked; /* when st was last compared to the disk */
	int state;		 /* enum pf_src_state */
	int sniffed;		 /* enum pf_sniff of the current file */
	const char *raw_why;	 /* not a pickle but data: what it is
				    (sniff.h), or NULL */
	int zfmt;		 /* enum pk_zfmt */
	pk_zinfo z;		 /* its header and level, to write it back */
	int writable;		 /* the mount takes changes (not -o ro) */
	int lazy;		 /* never parsed at a lookup (pf_fs_config) */
	int dirty;		 /* edited, not written back yet */
	struct timespec dirty_since;
	unsigned pending; /* edits committed since the last write-back */
	int wb_err;	  /* a write-back error not reported yet */
	int wb_logged;	  /* the errno last logged for a retried write */
	int broken;	  /* decode failed (err says why) */
	pk_err err;
	int err_in_z;	 /* err is the decompression's (offsets in the
			    compressed input; zres says more) */
	pf_zresult zres; /* the last decompression: its bound, folder */
	int big;	 /* compressed, and more than a lookup parses: it
			    is parsed when opened */
	int zfail;	 /* errno of a decompression refused by a bound
			    or a failed write (EFBIG, ENOSPC ...): every
			    access fails with it, without decompressing
			    again, until the file changes (or, when the
			    cache folder's room was the cause, until
			    ZFAIL_RETRY_S seconds passed) */
	int zfail_retry;
	struct timespec zfail_at;
	pf_map *map;
	int map_old; /* map holds a file our write-back replaced since */
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
	/* An archive's member (read-only): its bytes are a range of the
	 * archive's (parent's) bytes, read in place when stored, inflated
	 * into a cache file when deflated. Locking: a member takes its
	 * archive's lock while it holds its own, never the other way. */
	struct pf_source *parent; /* the archive, or NULL: a file */
	char *member;		  /* its name in the archive */
	uint64_t parent_epoch;	  /* the archive's epoch it was read in */
	/* PF_SRC_ARCHIVE: the members, once the archive is entered, and
	 * the deflated ones inflated so far */
	struct pf_arc_index *ix;
	struct pf_extracted *xt;
	/* A PyTorch checkpoint (a zip, checkpoint.h): state PF_SRC_PICKLE,
	 * its tree decoded from data.pkl inside ix, read-only */
	int ckpt; /* 1: zip format; 2: legacy (storages after the pickles) */
	pf_ckpt ck;
	pf_ckpt_legacy legacy; /* legacy: its storages, with the tree */
	/* A numpy .npy file (read-only): the tree is decoded from the
	 * pickle numpy writes for the array with its bytes out of band
	 * (npy_pickle, npy.h), which are the file's */
	int npy;
	pf_npy npyinfo;
	pk_buf npy_pickle;
	/* user.pickle.scan and .danger (xattr.c): the scan of the bytes
	 * of epoch scan_epoch (a struct pf_scan, scan.h), or NULL */
	struct pf_scan *scan;
	uint64_t scan_epoch;
} pf_source;

/* The bytes of the pickle(s) s holds, as a decoder reads them
 * (decompressed; a checkpoint's data.pkl; a legacy checkpoint whole),
 * for a scanner: *hold a new reference on what they lie in (release
 * with pf_map_unref). Takes the lock. 0, ENODATA (not a pickle: an
 * archive, a .npy file, a file of another format), or the errno of the
 * failed read or decompression (e says why). */
int pf_source_bytes(pf_source *s, pf_map **hold, const uint8_t **data,
		    size_t *len, pk_err *e);

/* Whether edits of s can be written back: not -o ro, not inside an
 * archive, not a checkpoint (archives are read-only). */
static inline int pf_source_writable(const pf_source *s)
{
	return s->writable && !s->parent && !s->ckpt && !s->npy;
}

/* Like pf_source_enter, for an edit: looks at the file on disk first
 * (not at most once a second), so an edit applies to what is there now:
 * a pickle someone else rewrote is read again before it is changed, and
 * edits still waiting for the write-back are dropped then (the outside
 * change wins; logged, and reported as ESTALE by pf_source_sync /
 * pf_source_take_error). */
int pf_source_enter_edit(pf_source *s);

/* After the doc was changed (lock held): writes the pickle back now, or,
 * when delay_s > 0, marks it dirty for pf_source_flush; then rebuilds the
 * view (gen changes: entry refs are resolved again). The write-back is a
 * compare and replace (pk_pickle_file_replace_at): it replaces only the
 * file the tree was read from. Returns 0 or an errno; on an error the
 * file on disk is unchanged and the edit is gone from the tree too (the
 * tree is dropped and decoded again from the file: gen changes):
 *   EAGAIN  the file changed on disk between pf_source_enter_edit and
 *           the replace; the source is reset (read again on next use).
 *           The caller may redo the whole edit from scratch (enter_edit,
 *           resolve, change, commit): it then applies to the new file;
 *   ENOENT  the file was removed meanwhile; it is not created again;
 *   EPERM   the new file could not get the old one's owner;
 *   ENOSPC, EIO, EROFS, EACCES, ENOMEM ...: the write failed.
 * With delay_s > 0 nothing is written and 0 is returned (but ENOMEM). */
int pf_source_commit(pf_source *s, unsigned delay_s);
/* Writes a dirty pickle back (takes the lock). force 0: only when it has
 * been dirty for delay_s seconds; 1: now; 2: now, and this is the last
 * try (unmount: the log says the edits are lost if it fails). A failed
 * write keeps the edits pending (the next call tries again) and is kept
 * for pf_source_sync / pf_source_take_error, logged once per errno. If
 * the file changed on disk or was removed, the pending edits are dropped
 * (logged "NAME: changed on disk; N pending edits not written"), the
 * source is read again and ESTALE is returned and kept. 0 or errno. */
int pf_source_flush(pf_source *s, unsigned delay_s, int force);
/* fsync: writes pending edits now (takes the lock). 0 when everything
 * is on disk; else the error of this write or of an earlier one not
 * reported yet (which is then cleared: reported once). */
int pf_source_sync(pf_source *s);
/* The write-back error not reported yet (0 if none), cleared. */
int pf_source_take_error(pf_source *s);
/* Whether edits wait for the write-back. */
int pf_source_pending(pf_source *s);

pf_source *pf_source_new(int dirfd, const char *path, const char *display);
/* The source of member `member` of the archive source arc (which must
 * outlive it); read-only. */
pf_source *pf_source_new_member(pf_source *arc, const char *member,
				const char *display);

/* Locks an archive source and makes sure its bytes are mapped
 * (decompressed, for a .tar.gz) and its index read: 0, s->ix valid until
 * pf_source_leave; else an errno, not locked (ESTALE: not an archive
 * (any more); EIO: a bad archive, s->err says where). */
int pf_source_enter_archive(pf_source *s);
/* The member `name` of the archive source arc: *m its record, *bytes a
 * new reference to its bytes as stored in the archive once the
 * archive's own compression is undone: a slice of the archive's mapping
 * for a stored member, a mapped cache file for a deflated one (inflated
 * and checked against its CRC on first use); *epoch the archive's
 * epoch. Takes arc's lock. 0 or errno (ENOENT: no such member; EISDIR:
 * a directory; EIO: the member cannot be read, e says why; ENOTSUP: an
 * encrypted member or a method other than stored / deflated). any_flags:
 * a stored member is given even when its flags say it is encrypted (a
 * scanner reads what a careless loader might). */
int pf_source_member_bytes(pf_source *arc, const char *name,
			   struct pf_arc_member *m, pf_map **bytes,
			   uint64_t *epoch, int any_flags, pk_err *e);
/* Whether the archive source arc changed on disk since epoch (its
 * members read then are stale). Takes arc's lock. */
int pf_source_archive_changed(pf_source *arc, uint64_t epoch);
void pf_source_free(pf_source *s);

/* How the file at st (just stat'ed by the caller) is shown: PF_SRC_PICKLE
 * or PF_SRC_FILE. Sniffs the first time and whenever the file changed;
 * small pickles are parsed right away so a broken one shows as a file
 * from the first lookup. Small means at most PF_EAGER_MAX bytes on disk
 * and, compressed, at most PF_EAGER_MAX bytes decompressed: the
 * decompression stops there, and a bigger one is a directory parsed
 * when it is opened (a protocol 0/1 candidate, which must parse whole to
 * count, is then its plain file). quick (readdir): never parse; a file
 * that only a parse can classify gives PF_SRC_UNKNOWN. */
int pf_source_classify(pf_source *s, const struct stat *st, int quick);

/* Locks the source and makes sure its tree is loaded. 0: locked, use
 * s->dv / s->doc / s->map, then pf_source_leave. Else an errno and the
 * lock is not held (EIO: broken, see s->err; ESTALE: no longer a
 * pickle; EFBIG: it expands past the bound, expand.h; ENOSPC, EIO ...:
 * the cache file could not be written; both logged as
 * "NAME: byte N of the compressed input: REASON"). */
int pf_source_enter(pf_source *s);
void pf_source_leave(pf_source *s);

/* Parses now (the file SOURCE at mount start); progress: a bar on
 * stderr while it takes long (pf_progress decides when). On failure *e
 * says why. 0 or errno. */
int pf_source_load_now(pf_source *s, int progress, pk_err *e);

/* The most a lookup parses (on disk, and decompressed). */
#define PF_EAGER_MAX (1u << 20)
/* How long a decompression the cache folder's room refused is not
 * tried again. */
#define ZFAIL_RETRY_S 30

/* What went wrong with s, into buf: "NAME: byte N: message" (a plain
 * pickle), "NAME: byte N of the decompressed data: message" (a
 * compressed pickle that does not decode), "NAME: byte N of the
 * compressed input: message" (its decompression failed; expand.h). */
void pf_source_describe_error(const pf_source *s, char *buf, size_t n);
/* Why the pickle is shown raw or refused (the user.pickle.error xattr):
 * that message, appended to out, if its decode failed or a bound refused
 * its decompression, or "NAME: HDF5 file, not a pickle" for data of
 * another format (sniff.h); ENODATA if nothing failed. Takes the lock. */
int pf_source_error_text(pf_source *s, pk_buf *out);

#endif
