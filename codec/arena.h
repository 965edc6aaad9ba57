/*
 * arena.h - the bump allocator behind one decoded pickle.
 *
 * What: every node, kids array, step array and edited scalar of a pk_doc
 * comes from the doc's arena, so a doc is freed in one call however
 * large or deeply nested it is.
 * Ownership: the arena owns all memory it hands out; pk_arena_free
 * releases it all. Nothing is freed individually (a grown array leaves
 * its old copy behind until the arena goes; growth doubles, so the waste
 * is bounded by the live size).
 * Invariants: returned pointers are 8-byte aligned; a request larger
 * than a chunk gets a chunk of its own; pk_arena_used counts bytes
 * requested from malloc, for the mount's cache accounting.
 */
#ifndef PK_ARENA_H
#define PK_ARENA_H

#include <stddef.h>

typedef struct pk_arena pk_arena;

pk_arena *pk_arena_new(void);
void pk_arena_free(pk_arena *a);
/* NULL when memory runs out or n is absurd. Memory is not zeroed. */
void *pk_arena_alloc(pk_arena *a, size_t n);
void *pk_arena_calloc(pk_arena *a, size_t n);
size_t pk_arena_used(const pk_arena *a);

#endif
