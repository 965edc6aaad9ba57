#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (1u << 20)
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
};

#define HDR ((sizeof(struct chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

static struct chunk *chunk_new(size_t payload)
{
	struct chunk *c = malloc(HDR + payload);

	if (!c)
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
		free(c);
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
	if (n > CHUNK_SIZE / 4) {
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
		c = chunk_new(CHUNK_SIZE);
		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
		a->total += HDR + CHUNK_SIZE;
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
