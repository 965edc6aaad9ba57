/*
 * inode.h - the mount's inodes: what the kernel's node ids stand for.
 *
 * What: the low-level FUSE API names files by node ids that we hand out
 * at lookup and the kernel gives back until it forgets them. A pf_inode
 * is one such node: a mirrored directory or file of a folder SOURCE, the
 * top of a pickle, or an entry inside a pickle. Entries are addressed as
 * (parent inode, entry id), not by pointers into the parsed tree, so an
 * inode survives its pickle being dropped from memory and parsed again;
 * the resolved ref is cached with the tree generation it is valid for.
 * An entry id is the entry's position until its directory is first
 * edited; from then on the directory's entries table (entries.h, kept in
 * the directory's inode) says which position each id is at, so an inode
 * keeps meaning the same value while its siblings come and go.
 *
 * Ownership: the table owns every inode. An inode lives while the kernel
 * holds lookups on it, it has live children (a child keeps its parent,
 * so the path to the root can always be walked), it holds an entries
 * table (the names it keeps must outlive the kernel's forgetting) or it
 * is a ghost (until removed); the root lives as long as the table. Strings
 * (name, path) are owned by their inode. Invariants / locking: identity fields
 * (kind, parent, name, path, index, src, ino) never change after creation.
 * Lookup counts, children counts and the hash are guarded by the table's mutex;
 * gen / ref / look / ents by the pickle's source lock (ents is only read, not
 * used, under the table's). Freeing walks up the parents iteratively.
 */
#ifndef PF_INODE_H
#define PF_INODE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "ref.h"
#include "source.h"

enum pf_ikind {
	PF_I_MIRROR_DIR = 1, /* a directory of a folder SOURCE */
	PF_I_MIRROR_FILE,    /* any other non-pickle file of it */
	PF_I_PICKLE,	     /* the top directory of a pickle */
	PF_I_VALUE,	     /* an entry inside a pickle */
	PF_I_SCRATCH,	     /* a file kept in memory inside a pickle
				directory (editor and temp files) */
	PF_I_ARCHIVE,	     /* the top directory of an archive (src: the
				archive's source) */
	PF_I_ARC_DIR,	     /* a directory inside an archive (src: the
				archive's source, path: its member name) */
	PF_I_ARC_FILE,	     /* a member that is no pickle nor archive
				(src, path: as ARC_DIR) */
};

typedef struct pf_inode {
	int kind;
	uint64_t ino; /* st_ino */
	struct pf_inode *parent;
	char *name;	/* MIRROR_*, PICKLE: the entry name */
	char *path;	/* MIRROR_*, PICKLE: relative to the source dir;
			   ARC_*: the member's name in its archive */
	uint64_t index; /* VALUE: entry id in the parent directory */
	pf_source *src; /* PICKLE, VALUE, ARCHIVE, ARC_* */

	/* table lock */
	uint64_t nlookup;
	uint64_t children;
	int detached; /* replaced in the hash by a newer inode */
	struct pf_inode *hnext;

	/* source lock (PICKLE, VALUE) */
	uint64_t gen; /* tree generation ref/look were resolved in */
	pf_ref ref;
	int look;
	uint64_t open_gen;	 /* generation at the last open (keep_cache) */
	struct pf_entries *ents; /* directory edited while mounted, or NULL */
	uint64_t ents_epoch;	 /* the source's epoch ents belongs to */
	/* A ghost: a value removed whole (vfs.c, remove_whole) whose
	 * directory stays listable until it is removed too; ghost_val is
	 * its slot, valid while the source's doc serial is ghost_serial. */
	int ghost;
	pk_val ghost_val;
	uint64_t ghost_serial;
} pf_inode;

typedef struct pf_itable pf_itable;

/* The table and its root inode (kind, path, src as for any inode). */
pf_itable *pf_itable_new(int root_kind, const char *root_path,
			 pf_source *root_src, uint64_t root_ino);
void pf_itable_free(pf_itable *t);
pf_inode *pf_itable_root(pf_itable *t);

/* The child of parent named `name` (MIRROR_*, PICKLE) or with entry id
 * `index` (VALUE), created when missing or when the existing one has another
 * kind; one lookup is added. NULL when memory runs out. */
pf_inode *pf_itable_get(pf_itable *t, pf_inode *parent, int kind,
			const char *name, uint64_t index, pf_source *src,
			uint64_t ino);
/* The child if it exists (no lookup added), else NULL: how a test sees
 * what the table holds. */
pf_inode *pf_itable_peek(pf_itable *t, pf_inode *parent, int kind,
			 const char *name, uint64_t index);
/* Drops n lookups. */
void pf_itable_forget(pf_itable *t, pf_inode *in, uint64_t n);
/* Inodes alive (tests). */
uint64_t pf_itable_count(pf_itable *t);

/* Stable st_ino of entry id `index` of the directory whose st_ino is dir. */
uint64_t pf_value_ino(uint64_t dir, uint64_t index);

#endif
