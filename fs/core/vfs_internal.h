/*
 * vfs_internal.h - what the files of the FUSE-free mount (vfs.h) share.
 *
 * What: the mount's state (pf_fs), its handles (pf_dirh, pf_file), the
 * scratch files and ghosts it keeps, and the functions one vfs file
 * offers the others. Not for use outside fs/core.
 * Ownership: as vfs.h says; scratch files and ghosts are the mount's
 * (freed at unmount); handles are the caller's between open and release.
 * Invariants / locking: the sources table has its own mutex (slock);
 * scratch files and ghosts are guarded by xlock; everything inside a
 * pickle by that pickle's lock (source.h), taken before the inode
 * table's, never after. Functions marked "lock held" expect the pickle's
 * lock and a resolved inode.
 */
#ifndef PF_VFS_INTERNAL_H
#define PF_VFS_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "content.h"
#include "docview.h"
#include "entries.h"
#include "inode.h"
#include "source.h"
#include "vfs.h"

/* Every handle the mount gave out and was not released yet is on the
 * mount's list (hlock), so that unmount can release what the kernel
 * never sent RELEASE for (a lazy unmount, a RELEASE still in flight when
 * the session ends): a handle's uncommitted write is committed then,
 * not lost, and nothing is leaked. */
struct pf_handle_link {
	struct pf_handle_link *next, *prev;
	int is_dir;
};

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
	int lazy; /* pf_fs_config.lazy */
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
	pthread_mutex_t hlock;		  /* the open handles */
	struct pf_handle_link handles;	  /* their list's head */
};

/* A folder of a folder SOURCE whose leftover temporary files are gone. */
struct swept {
	struct swept *next;
	char path[];
};

struct pf_dirh {
	struct pf_handle_link link; /* first: the list holds both kinds */
	/* mirrored directory: a snapshot taken at opendir */
	char **names;
	unsigned char *types;
	uint64_t *inos;
	size_t n;
	/* pickle directory: its source, pinned in memory while open */
	pf_source *pinned;
};

struct pf_file {
	struct pf_handle_link link; /* first: the list holds both kinds */
	int fd;			    /* mirrored file, or -1 */
	pf_content c;
	pf_map *map; /* keeps zero-copy content alive */
	/* opened for writing */
	pf_inode *in;
	int writable, dirty;
	int written;	  /* write or truncate since open */
	pk_buf wbuf;	  /* a value's new text */
	int early;	  /* refuse at write(): pf_edit_early_kind */
	uint64_t max_len; /* refuse writes past max_len - 1 (0: none) */
	int refused;	  /* a write() was refused: nothing is committed */
	int reported;	  /* the refusal last logged for it */
	const char *reported_msg; /* and its reason */
	struct pf_scratch *sc;	  /* or the scratch file written */
};

/* ---- xattrs ------------------------------------------------------------ */

#define XA_TYPE "user.pickle.type"
#define XA_KEYTYPE "user.pickle.keytype"
#define XA_KEY "user.pickle.key"
#define XA_CLASS "user.pickle.class"
#define XA_PROTO "user.pickle.protocol"
#define XA_COMPRESS "user.pickle.compression"
#define XA_ERROR "user.pickle.error"
#define XA_SCAN "user.pickle.scan"
#define XA_DANGER "user.pickle.danger"

/* How many times an edit is tried when the file changed on disk between
 * its start and its write-back (pf_source_commit's EAGAIN): each try
 * reads the file anew and applies the edit to what is there now. */
#define EDIT_TRIES 3

/* The most a file of a value may be written to (a str, bytes): its new
 * text is held in memory until it is committed. Beyond it, write and
 * truncate fail with EFBIG. */
#define PF_EDIT_MAX (1ull << 30)

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

/* Whether in may not be changed: -o ro, or a pickle inside an archive
 * (archives are read-only). */
static inline int vfs_read_only(const pf_fs *fs, const pf_inode *in)
{
	return fs->ro || (in && in->src && !pf_source_writable(in->src));
}

/* The inode kind of a file whose source was classified as state (enum
 * pf_src_state): a pickle's top, an archive's top, or plain (the
 * caller's kind for a plain file or member). */
static inline int vfs_kind_of_state(int state, int plain)
{
	return state == PF_SRC_PICKLE	 ? PF_I_PICKLE
	       : state == PF_SRC_ARCHIVE ? PF_I_ARCHIVE
					 : plain;
}

/* mount.c */
pf_source *vfs_source_for(pf_fs *fs, const char *path);
/* The source of member `member` of archive source arc (made on first
 * sight; lives as long as the mount). */
pf_source *vfs_member_source_for(pf_fs *fs, pf_source *arc, const char *member);
void vfs_sweep_folder(pf_fs *fs, const char *path);

/* node.c */
pf_entries *vfs_dir_ents(pf_inode *dir);
int vfs_entry_pos(pf_inode *dir, uint64_t id, uint64_t *pos);
int vfs_entry_find(pf_inode *dir, const char *name, uint64_t *pos,
		   uint64_t *id);
int vfs_entry_at(pf_inode *dir, uint64_t pos, pk_buf *name, uint64_t *id);
int vfs_ents_ensure(pf_inode *dir);
int vfs_value_link(pf_inode *in, pk_buf *out);
int vfs_resolve(pf_inode *in);
int vfs_enter(pf_inode *in);
int vfs_value_attr(pf_source *s, pf_inode *in, struct stat *st);
int vfs_pickle_attr(pf_inode *in, struct stat *st);
int vfs_value_lookup(pf_fs *fs, pf_inode *dir, const char *name, pf_inode **out,
		     struct stat *st);
int vfs_in_ghost(const pf_inode *in);

/* mirror.c */
int vfs_mirror_lookup(pf_fs *fs, pf_inode *dir, const char *name,
		      pf_inode **out, struct stat *st);
int vfs_mirror_attr(pf_fs *fs, pf_inode *in, struct stat *st);
int vfs_mirror_opendir(pf_fs *fs, pf_inode *in, pf_dirh *d);
int vfs_mirror_readdir(pf_fs *fs, pf_inode *in, pf_dirh *d, uint64_t off,
		       pf_fill_fn fill, void *ctx);

/* archive_dir.c: archives as directories (ARCHIVE, ARC_DIR, ARC_FILE) */
int vfs_archive_attr(pf_fs *fs, pf_inode *in, struct stat *st);
int vfs_archive_lookup(pf_fs *fs, pf_inode *dir, const char *name,
		       pf_inode **out, struct stat *st);
int vfs_archive_opendir(pf_fs *fs, pf_inode *in, pf_dirh *d);
int vfs_archive_readdir(pf_fs *fs, pf_inode *in, pf_dirh *d, uint64_t off,
			pf_fill_fn fill, void *ctx);
/* Opens a plain member: f serves its bytes in place. */
int vfs_archive_open(pf_fs *fs, pf_inode *in, pf_file *f);

/* read.c */
pf_file *vfs_new_handle(void);
/* Puts a handle given out on the mount's list / takes it off. */
void vfs_handle_track(pf_fs *fs, struct pf_handle_link *h, int is_dir);
void vfs_handle_untrack(pf_fs *fs, struct pf_handle_link *h);
/* Releases every handle still on the list (unmount). How many. */
size_t vfs_release_all(pf_fs *fs);

/* scratch.c */
int vfs_scratch_name(const char *name);
struct pf_scratch *vfs_scratch_find(pf_fs *fs, pf_inode *dir, const char *name);
struct pf_scratch *vfs_scratch_of_inode(pf_fs *fs, pf_inode *in);
void vfs_scratch_unlink_locked(pf_fs *fs, struct pf_scratch *gone);
int vfs_scratch_attr(pf_fs *fs, pf_inode *in, struct stat *st);
int vfs_scratch_lookup(pf_fs *fs, pf_inode *dir, const char *name,
		       pf_inode **out, struct stat *st);
int vfs_new_scratch(pf_fs *fs, pf_inode *dir, const char *name, int keep,
		    pf_inode **out, struct stat *st, pf_file **fh);

/* change.c */
int vfs_edit_begin(pf_fs *fs, pf_inode *in);
int vfs_edit_end(pf_fs *fs, pf_inode *in, int rc, const struct dir_change *dc);
int vfs_find_entry(pf_inode *dir, const char *name, uint64_t *pos,
		   pf_child *ch);
int vfs_new_name_ok(pf_inode *dir, const char *name, pk_err *why);
int vfs_add_entry(pf_fs *fs, pf_inode *dir, const char *name, int dir_value,
		  const pk_buf *text, const char *type, int set_existing,
		  pk_err *why);
int vfs_set_value(pf_fs *fs, pf_inode *in, const pk_buf *text, pk_err *why);
int vfs_remove_entry(pf_fs *fs, pf_inode *dir, const char *name, int want_dir,
		     pk_err *why);
int vfs_move_entry(pf_fs *fs, pf_inode *dir, const char *name,
		   const char *newname, pk_err *why);
int vfs_backup_entry(pf_fs *fs, pf_inode *dir, const char *name,
		     const char *newname);

/* write.c */
int vfs_open_for_write(pf_fs *fs, pf_inode *in, int flags, pf_file **out);
int vfs_commit_handle(pf_fs *fs, pf_file *f, pk_err *why);
int vfs_handle_refused(pf_fs *fs, pf_file *f, int rc, pk_err *why);

#endif
