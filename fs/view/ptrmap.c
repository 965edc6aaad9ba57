#include "ptrmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void pf_ptrmap_init(pf_ptrmap *m)
{
	memset(m, 0, sizeof(*m));
}

void pf_ptrmap_release(pf_ptrmap *m)
{
	free(m->slots);
	pf_ptrmap_init(m);
}

/* Arena pointers are evenly spaced, which defeats a plain multiplicative
 * hash masked to its low bits (long probe runs): mix all the bits
 * (the splitmix64 finalizer). */
static size_t hash_key(const void *ptr, uint32_t tag)
{
	uint64_t h = (uint64_t)(uintptr_t)ptr ^ ((uint64_t)tag << 48);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (size_t)h;
}

static pf_ptrmap_slot *find(const pf_ptrmap *m, const void *ptr, uint32_t tag)
{
	size_t mask = m->cap - 1, i;

	for (i = hash_key(ptr, tag) & mask;; i = (i + 1) & mask) {
		pf_ptrmap_slot *s = &m->slots[i];
		if ((s->ptr == ptr && s->tag == tag) || (!s->ptr && !s->tag))
			return s;
	}
}

int pf_ptrmap_get(const pf_ptrmap *m, const void *ptr, uint32_t tag,
		  uint64_t *value)
{
	pf_ptrmap_slot *s;

	if (!m->cap)
		return 0;
	s = find(m, ptr, tag);
	if (!s->ptr && !s->tag)
		return 0;
	*value = s->value;
	return 1;
}

static int grow(pf_ptrmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64, i;
	pf_ptrmap old = *m;

	m->slots = calloc(ncap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return ENOMEM;
	}
	m->cap = ncap;
	m->used = 0;
	for (i = 0; i < old.cap; i++) {
		pf_ptrmap_slot *s = &old.slots[i];
		if (s->ptr || s->tag) {
			*find(m, s->ptr, s->tag) = *s;
			m->used++;
		}
	}
	free(old.slots);
	return 0;
}

int pf_ptrmap_put(pf_ptrmap *m, const void *ptr, uint32_t tag, uint64_t value)
{
	pf_ptrmap_slot *s;

	if ((m->used + 1) * 2 > m->cap && grow(m))
		return ENOMEM;
	s = find(m, ptr, tag);
	if (!s->ptr && !s->tag)
		m->used++;
	s->ptr = ptr;
	s->tag = tag;
	s->value = value;
	return 0;
}
