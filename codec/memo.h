/*
 * memo.h - the codec's memo maps (codec-internal).
 *
 * What: pk_memo maps a memo index to a pk_val: the pickle memo for the
 * decoder (index -> value) and for the encoder (which indices are in
 * use). Indices in real pickles are dense (0, 1, 2, ...) so they live in
 * an array; an index far beyond the number of entries stored goes to a
 * hash table instead, so a hostile LONG_BINPUT 0xffffffff costs one
 * entry, not four billion. pk_idmap maps a value's identity to a memo
 * index (the decoder's shared scalars, the encoder's written values).
 * The dense array grows its own way, not with pk_vec_grow (buf.h): it is
 * an anonymous mapping grown by mremap, whose new pages come zeroed and
 * are faulted in ahead by a helper thread.
 * Ownership: each map owns its storage; pk_memo_release and
 * pk_idmap_release free it.
 * Invariants: an entry whose `val` is 0 is empty; `count` counts the
 * non-empty ones (what MEMOIZE uses as its next index). A pk_idmap key is
 * never 0 (0 marks a free slot) and its load factor stays <= 1/2.
 */
#ifndef PK_MEMO_H
#define PK_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

struct pk_memo_hent;

typedef struct pk_memo_ent {
	uintptr_t val; /* a pk_val's bits, 0 = empty; bit 62 is the user's
			  (pointers never set it, see PK_VAL_NODE_BIT) */
} pk_memo_ent;

#define PK_MEMO_USER_BIT ((uintptr_t)1 << 62)

typedef struct pk_memo {
	pk_memo_ent *dense; /* dense_cap entries: from the heap while small
			       (dense_heap), then an anonymous mapping */
	size_t dense_cap;
	int dense_heap;
	struct pk_memo_hent *hash;
	size_t hash_cap, hash_used;
	size_t count;	/* non-empty slots */
	pk_prefault pf; /* faults in the part a growth added */
} pk_memo;

void pk_memo_init(pk_memo *m);
void pk_memo_release(pk_memo *m);
/* The entry for idx, or NULL if it is empty. */
pk_memo_ent *pk_memo_get_slow(pk_memo *m, uint64_t idx);
static inline pk_memo_ent *pk_memo_get(pk_memo *m, uint64_t idx)
{
	if (idx < m->dense_cap)
		return m->dense[idx].val ? &m->dense[idx] : NULL;
	return pk_memo_get_slow(m, idx);
}
/* The entry for idx, to be filled: the caller must set a nonzero val.
 * Counts it when it was empty. NULL when memory runs out. */
pk_memo_ent *pk_memo_put_slow(pk_memo *m, uint64_t idx);
static inline pk_memo_ent *pk_memo_put(pk_memo *m, uint64_t idx)
{
	if (idx < m->dense_cap) {
		m->count += !m->dense[idx].val;
		return &m->dense[idx];
	}
	return pk_memo_put_slow(m, idx);
}

/* A set of pointers with a uint32 for each (identity -> memo index):
 * the decoder's record of shared scalars, the encoder's record of what
 * it has written. */
typedef struct pk_idmap {
	struct pk_idmap_ent *ents;
	size_t cap, used;
} pk_idmap;

void pk_idmap_init(pk_idmap *m);
void pk_idmap_release(pk_idmap *m);
/* 1 and *idx set if key is present (idx may be NULL), else 0. */
int pk_idmap_find(const pk_idmap *m, uintptr_t key, uint32_t *idx);
/* Adds or updates key. -1 when memory runs out. */
int pk_idmap_set(pk_idmap *m, uintptr_t key, uint32_t idx);
/* Adds every entry of from to m. -1 when memory runs out. */
int pk_idmap_merge(pk_idmap *m, const pk_idmap *from);

#endif
