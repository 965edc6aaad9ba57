#include "arena.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Chunks start small (a tiny pickle costs 64 KiB) and double up to
 * 16 MiB, so a big tree takes few mappings. Chunks are mapped with
 * MAP_POPULATE: faulting pages in one call is cheaper than one fault per
 * page, and it lets a helper thread do it ahead of need (see arena.h).
 * Transparent huge pages would cut the fault cost further, but where
 * they are "madvise" with synchronous defrag they made decode times
 * bimodal (compaction stalls), so they are not asked for. */
#define CHUNK_MIN (64u << 10)
#define CHUNK_MAX (16u << 20)
/* Chunks from this size on are prepared by the helper thread: below it
 * the tree is small and a thread would cost more than it saves. */
#define AHEAD_MIN (1u << 20)
#define ALIGN 8
/* Requests above this get a mapping of their own (which a burst can
 * grow with mremap): a big list's kids array grows without leaving
 * copies of itself behind. */
#define BIG_MIN (256u << 10)

struct chunk {
	struct chunk *next;
	size_t size;
	size_t heap; /* from malloc (the first, small chunk), not mmap */
		     /* 8-byte aligned payload follows */
};

struct pk_arena {
	struct pk_arena_bump bump; /* first: the inline fast path's view */
	struct chunk *head;	   /* current bump chunk, then older ones */
	struct chunk *big;	   /* oversized allocations */
	size_t total;
	size_t next_chunk;
	/* between pk_arena_ahead(a, 1) and (a, 0): the next chunk, mapped
	 * and being faulted in by the helper */
	int ahead_on;
	struct chunk *ahead;
	pk_prefault pf;
	size_t limit; /* bytes total may reach; 0: no limit */
	int over;     /* an allocation was refused for the limit */
};

#define HDR ((sizeof(struct chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

static struct chunk *chunk_map(size_t payload, int populate)
{
	size_t bytes = HDR + payload;
	struct chunk *c = mmap(
	    NULL, bytes, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);

	if (c == MAP_FAILED)
		return NULL;
	c->next = NULL;
	c->size = payload;
	c->heap = 0;
	return c;
}

static struct chunk *chunk_new(size_t payload)
{
	/* the chunks of a small tree (below the size the helper thread
	 * prepares) come from the heap: a scan of a thousand small pickles
	 * makes no mapping (and no fault) for each one, the allocator hands
	 * the same memory back */
	if (payload < AHEAD_MIN) {
		struct chunk *c = malloc(HDR + payload);
		if (c) {
			c->next = NULL;
			c->size = payload;
			c->heap = 1;
		}
		return c;
	}
	return chunk_map(payload, 1);
}

static void chunk_free(struct chunk *c)
{
	if (c->heap)
		free(c);
	else
		munmap(c, HDR + c->size);
}

static void *prefault_main(void *arg)
{
	pk_prefault *pf = arg;

	(void)madvise(pf->addr, pf->len, MADV_POPULATE_WRITE);
	return NULL;
}

void pk_prefault_wait(pk_prefault *pf)
{
	if (pf->busy) {
		pthread_join(pf->thread, NULL);
		pf->busy = 0;
	}
}

void pk_prefault_start(pk_prefault *pf, void *addr, size_t len)
{
	pk_prefault_wait(pf);
	pf->addr = addr;
	pf->len = len;
	pf->busy = pthread_create(&pf->thread, NULL, prefault_main, pf) == 0;
}

/* The next chunk, resident, or NULL if none was prepared. */
static struct chunk *ahead_take(pk_arena *a)
{
	struct chunk *c = a->ahead;

	pk_prefault_wait(&a->pf);
	a->ahead = NULL;
	return c;
}

static void ahead_start(pk_arena *a, size_t size)
{
	/* mapping is quick; faulting the pages in is what is left to
	 * the helper */
	a->ahead = chunk_map(size, 0);
	if (a->ahead)
		pk_prefault_start(&a->pf, a->ahead, HDR + size);
}

pk_arena *pk_arena_new(void)
{
	return calloc(1, sizeof(pk_arena));
}

static void free_list(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;
		chunk_free(c);
		c = next;
	}
}

void pk_arena_ahead(pk_arena *a, int on)
{
	struct chunk *c;

	if (!a)
		return;
	a->ahead_on = on;
	if (on)
		return;
	c = ahead_take(a);
	if (c)
		chunk_free(c);
}

void pk_arena_free(pk_arena *a)
{
	if (!a)
		return;
	pk_arena_ahead(a, 0);
	free_list(a->head);
	free_list(a->big);
	free(a);
}

void pk_arena_limit(pk_arena *a, size_t bytes)
{
	a->limit = bytes;
}

int pk_arena_over(const pk_arena *a)
{
	return a->over;
}

/* Whether `more` bytes may be mapped; if not, remembers that the limit
 * refused them. */
static int room_for(pk_arena *a, size_t more)
{
	if (!a->limit || (a->total <= a->limit && more <= a->limit - a->total))
		return 1;
	a->over = 1;
	return 0;
}

void *pk_arena_alloc_slow(pk_arena *a, size_t n)
{
	struct chunk *c;
	size_t size;

	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (n == 0)
		n = ALIGN;
	if (n > BIG_MIN) {
		if (!room_for(a, HDR + n))
			return NULL;
		c = chunk_new(n);
		if (!c)
			return NULL;
		c->next = a->big;
		a->big = c;
		a->total += HDR + n;
		return (char *)c + HDR;
	}
	if (n <= (size_t)(a->bump.lim - a->bump.cur)) {
		void *p = a->bump.cur;
		a->bump.cur += n;
		return p;
	}
	size = a->next_chunk ? a->next_chunk : CHUNK_MIN;
	while (size < n)
		size *= 2;
	if (!room_for(a, HDR + size))
		return NULL;
	c = ahead_take(a);
	if (c && c->size < size) {
		chunk_free(c);
		c = NULL;
	}
	if (!c)
		c = chunk_new(size);
	if (!c)
		return NULL;
	size = c->size;
	c->next = a->head;
	a->head = c;
	a->total += HDR + size;
	a->next_chunk = size < CHUNK_MAX ? size * 2 : CHUNK_MAX;
	a->bump.cur = (char *)c + HDR + n;
	a->bump.lim = (char *)c + HDR + size;
	if (a->ahead_on && a->next_chunk >= AHEAD_MIN)
		ahead_start(a, a->next_chunk);
	return (char *)c + HDR;
}

void *pk_arena_grow(pk_arena *a, void *p, size_t old, size_t n)
{
	struct chunk **link, *c;
	void *q;

	if (a->ahead_on && p && n > old && n <= SIZE_MAX / 2) {
		for (link = &a->big; (c = *link) != NULL; link = &c->next)
			if ((char *)c + HDR == (char *)p)
				break;
		if (c) {
			size_t nn = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
			struct chunk *nc;
			if (!room_for(a, nn > c->size ? nn - c->size : 0))
				return NULL;
			nc = mremap(c, HDR + c->size, HDR + nn, MREMAP_MAYMOVE);
			if (nc != MAP_FAILED) {
				/* one call faults the new part in: far cheaper
				 * than a fault per page as it is filled */
				(void)madvise((char *)nc + HDR + nc->size,
					      nn - nc->size,
					      MADV_POPULATE_WRITE);
				a->total += nn - nc->size;
				nc->size = nn;
				*link = nc;
				return (char *)nc + HDR;
			}
		}
	}
	q = pk_arena_alloc(a, n);
	if (q && old)
		memcpy(q, p, old);
	return q;
}

size_t pk_arena_used(const pk_arena *a)
{
	return a->total;
}
