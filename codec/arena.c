#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Chunks start small (a tiny pickle costs 64 KiB) and double up to
 * 64 MiB, so a big tree takes few mappings; chunks are mmapped with huge
 * pages allowed, because first-touch page faults are a large part of the
 * cost of building a tree of millions of nodes. */
#define CHUNK_MIN (64u << 10)
#define CHUNK_MAX (16u << 20)
#define ALIGN 8

struct chunk {
	struct chunk *next;
	size_t size;
	size_t used;
	/* 16-byte aligned payload follows */
};

struct pk_arena {
	struct chunk *head; /* current bump chunk */
	struct chunk *big;  /* oversized allocations */
	size_t total;
	size_t next_chunk;
};

#define HDR ((sizeof(struct chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

static struct chunk *chunk_new(size_t payload)
{
	size_t bytes = HDR + payload;
	struct chunk *c = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1,
			       0);

	if (c == MAP_FAILED)
		return NULL;
	c->next = NULL;
	c->size = payload;
	c->used = 0;
	return c;
}

pk_arena *pk_arena_new(void)
{
	return calloc(1, sizeof(pk_arena));
}

static void free_list(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;
		munmap(c, HDR + c->size);
		c = next;
	}
}

void pk_arena_free(pk_arena *a)
{
	if (!a)
		return;
	free_list(a->head);
	free_list(a->big);
	free(a);
}

void *pk_arena_alloc(pk_arena *a, size_t n)
{
	struct chunk *c;

	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (n == 0)
		n = ALIGN;
	if (n > CHUNK_MAX / 4) {
		c = chunk_new(n);
		if (!c)
			return NULL;
		c->next = a->big;
		a->big = c;
		a->total += HDR + n;
		c->used = n;
		return (char *)c + HDR;
	}
	c = a->head;
	if (!c || c->size - c->used < n) {
		size_t size = a->next_chunk ? a->next_chunk : CHUNK_MIN;
		while (size < n)
			size *= 2;
		c = chunk_new(size);
		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
		a->total += HDR + size;
		a->next_chunk = size < CHUNK_MAX ? size * 2 : CHUNK_MAX;
	}
	c->used += n;
	return (char *)c + HDR + c->used - n;
}

void *pk_arena_calloc(pk_arena *a, size_t n)
{
	void *p = pk_arena_alloc(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

size_t pk_arena_used(const pk_arena *a)
{
	return a->total;
}
