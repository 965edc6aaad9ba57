/*
 * memo.h - a map from memo index (uint32) to a pk_val (codec-internal).
 *
 * What: the pickle memo for the decoder (index -> value) and for the
 * encoder (index -> what was written under it). Indices in real pickles
 * are dense (0, 1, 2, ...) so they live in an array; an index far beyond
 * the number of entries stored goes to a hash table instead, so a hostile
 * LONG_BINPUT 0xffffffff costs one entry, not four billion.
 * Ownership: the map owns its storage; pk_memo_release frees it.
 * Invariant: a slot whose kind is 0 is empty; pk_memo_count counts the
 * non-empty slots (what MEMOIZE uses as its next index).
 */
#ifndef PK_MEMO_H
#define PK_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "pickle.h"

struct pk_memo_hent;

typedef struct pk_memo {
	pk_val *dense;
	size_t dense_cap;
	struct pk_memo_hent *hash;
	size_t hash_cap, hash_used;
	size_t count; /* non-empty slots */
} pk_memo;

void pk_memo_init(pk_memo *m);
void pk_memo_release(pk_memo *m);
/* The slot for idx, or NULL if it is empty. */
pk_val *pk_memo_get(pk_memo *m, uint64_t idx);
/* The slot for idx, to be filled: the caller must set a nonzero kind.
 * Counts it when it was empty. NULL when memory runs out. */
pk_val *pk_memo_put(pk_memo *m, uint64_t idx);

#endif
