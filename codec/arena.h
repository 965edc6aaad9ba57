/*
 * arena.h - the bump allocator behind one decoded pickle.
 *
 * What: every node, kids array, step array and edited scalar of a pk_doc
 * comes from the doc's arena, so a doc is freed in one call however
 * large or deeply nested it is.
 * Ownership: the arena owns all memory it hands out; pk_arena_free
 * releases it all. Nothing is freed individually (a grown array leaves
 * its old copy behind until the arena goes; growth doubles, so the waste
 * is bounded by the live size). This is why the tree's arrays grow here
 * and not with pk_vec_grow (buf.h): outside a decoder's burst a block
 * never moves (pk_arena_grow), so pointers into the tree stay valid, and
 * there is nothing to free one by one.
 * Invariants: returned pointers are 8-byte aligned; a request larger
 * than a chunk gets a chunk of its own; pk_arena_used counts bytes
 * mapped for the arena, for the mount's cache accounting.
 * Threads: the arena is used by one thread at a time. While a big tree
 * is being built, a short-lived helper thread faults in the
 * next chunk (first-touch page faults are a third of the cost of
 * building millions of nodes, and they can be paid on another core),
 * between pk_arena_ahead(a, 1) and pk_arena_ahead(a, 0).
 */
#ifndef PK_ARENA_H
#define PK_ARENA_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pk_arena pk_arena;

/* Only cur and lim are for the inline fast path; the rest is arena.c's. */
struct pk_arena_bump {
	char *cur, *lim;
};

/* Faulting in memory on a helper thread: [addr, addr+len) is made
 * resident with MADV_POPULATE_WRITE, which leaves contents alone, so the
 * caller may write the range meanwhile. Used for the arena's next chunk
 * and the memo's new part; one range at a time. */
typedef struct pk_prefault {
	pthread_t thread;
	int busy;
	void *addr;
	size_t len;
} pk_prefault;

/* Starts it (after waiting for the one before); nothing happens when no
 * thread can be made: the pages then fault in as they are used. */
void pk_prefault_start(pk_prefault *pf, void *addr, size_t len);
/* Waits until the range is resident. */
void pk_prefault_wait(pk_prefault *pf);

pk_arena *pk_arena_new(void);
void pk_arena_free(pk_arena *a);
/* From now on, allocations that would map more than `bytes` in all
 * (pk_arena_used) fail with NULL and pk_arena_over turns true: a hostile
 * pickle of a few MB can ask for GBs of nodes. 0: no limit. */
void pk_arena_limit(pk_arena *a, size_t bytes);
int pk_arena_over(const pk_arena *a);
/* on: from now on, big chunks are prepared ahead by a helper thread (for
 * a burst of allocation: a decode). off: joins the helper and unmaps the
 * chunk it prepared, so an idle doc holds no spare memory. */
void pk_arena_ahead(pk_arena *a, int on);
void *pk_arena_alloc_slow(pk_arena *a, size_t n);
/* NULL when memory runs out or n is absurd. Memory is not zeroed. */
static inline void *pk_arena_alloc(pk_arena *a, size_t n)
{
	struct pk_arena_bump *b = (struct pk_arena_bump *)a;
	size_t r = (n + 7) & ~(size_t)7;

	if (r >= n && r && r <= (size_t)(b->lim - b->cur)) {
		void *p = b->cur;
		b->cur += r;
		return p;
	}
	return pk_arena_alloc_slow(a, n);
}
/* Grows block p of `old` bytes (from this arena; NULL when old is 0) to
 * n bytes: the new block with the old contents, or NULL (p unchanged).
 * Outside a burst the old block stays valid until the arena goes. In a
 * burst (between pk_arena_ahead(a, 1) and (a, 0)) a block with a mapping
 * of its own is grown with mremap and p may become invalid: only the
 * decoder, which holds no pointer into its tree's arrays, grows then. */
void *pk_arena_grow(pk_arena *a, void *p, size_t old, size_t n);
size_t pk_arena_used(const pk_arena *a);

#endif
