#include "memo.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct pk_memo_hent {
	uint32_t idx;
	uint32_t used;
	pk_memo_ent val;
};

void pk_memo_init(pk_memo *m)
{
	memset(m, 0, sizeof(*m));
}

/* The dense array lives in its own mapping: mremap grows it without a
 * copy, and the kernel hands the new part over zeroed, so growing never
 * touches the pages; a helper thread faults them in ahead of the decoder
 * (MADV_POPULATE_WRITE leaves their contents alone, so it may run while
 * the decoder writes them). */
#define DENSE_MIN 512 /* entries: one page */
#define POPULATE_MIN (1u << 20)

static pk_memo_ent *dense_grow(pk_memo *m, size_t ncap)
{
	size_t olen = m->dense_cap * sizeof(pk_memo_ent);
	size_t nlen = ncap * sizeof(pk_memo_ent);
	void *nd;

	pk_prefault_wait(&m->pf);
	/* a small memo lives on the heap: a thousand small pickles make no
	 * mapping each (and no unmapping, which interrupts the other cores
	 * of a threaded scan) */
	if (nlen < POPULATE_MIN && (!m->dense || m->dense_heap)) {
		nd = realloc(m->dense, nlen);
		if (!nd)
			return NULL;
		memset((char *)nd + olen, 0, nlen - olen);
		m->dense = nd;
		m->dense_cap = ncap;
		m->dense_heap = 1;
		return nd;
	}
	if (m->dense && m->dense_heap) {
		/* past the heap's size: into a mapping, once */
		nd = mmap(NULL, nlen, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (nd == MAP_FAILED)
			return NULL;
		memcpy(nd, m->dense, olen);
		free(m->dense);
		m->dense = nd;
		m->dense_cap = ncap;
		m->dense_heap = 0;
		if (nlen - olen >= POPULATE_MIN)
			pk_prefault_start(&m->pf, (char *)nd + olen,
					  nlen - olen);
		return nd;
	}
	if (m->dense)
		nd = mremap(m->dense, olen, nlen, MREMAP_MAYMOVE);
	else
		nd = mmap(NULL, nlen, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (nd == MAP_FAILED)
		return NULL;
	m->dense = nd;
	m->dense_cap = ncap;
	if (nlen - olen >= POPULATE_MIN)
		pk_prefault_start(&m->pf, (char *)nd + olen, nlen - olen);
	return nd;
}

void pk_memo_release(pk_memo *m)
{
	pk_prefault_wait(&m->pf);
	if (m->dense && m->dense_heap)
		free(m->dense);
	else if (m->dense)
		munmap(m->dense, m->dense_cap * sizeof(pk_memo_ent));
	free(m->hash);
	pk_memo_init(m);
}

static size_t hash_pos(uint32_t idx, size_t cap)
{
	return (size_t)((idx * 2654435761u) & (cap - 1));
}

static int hash_grow(pk_memo *m)
{
	size_t ncap = m->hash_cap ? m->hash_cap * 2 : 64, i;
	struct pk_memo_hent *nh = calloc(ncap, sizeof(*nh));

	if (!nh)
		return -1;
	for (i = 0; i < m->hash_cap; i++) {
		size_t j;
		if (!m->hash[i].used)
			continue;
		j = hash_pos(m->hash[i].idx, ncap);
		while (nh[j].used)
			j = (j + 1) & (ncap - 1);
		nh[j] = m->hash[i];
	}
	free(m->hash);
	m->hash = nh;
	m->hash_cap = ncap;
	return 0;
}

static pk_memo_ent *hash_slot(pk_memo *m, uint32_t idx, int create)
{
	size_t i;

	if (create && (m->hash_used + 1) * 2 > m->hash_cap && hash_grow(m))
		return NULL;
	if (!m->hash_cap)
		return NULL;
	i = hash_pos(idx, m->hash_cap);
	while (m->hash[i].used) {
		if (m->hash[i].idx == idx)
			return &m->hash[i].val;
		i = (i + 1) & (m->hash_cap - 1);
	}
	if (!create)
		return NULL;
	m->hash[i].used = 1;
	m->hash[i].idx = idx;
	memset(&m->hash[i].val, 0, sizeof(pk_memo_ent));
	m->hash_used++;
	return &m->hash[i].val;
}

static pk_memo_ent *memo_slot(pk_memo *m, uint64_t idx, int create)
{
	if (idx < m->dense_cap)
		return &m->dense[idx];
	if (idx > UINT32_MAX)
		return NULL;
	if (!create)
		return hash_slot(m, (uint32_t)idx, 0);
	/* Grow the array only while the index stays near the number of
	 * entries stored: the input then pays for the memory it asks for. */
	if (idx < 65536 || idx < 4 * (m->count + 1)) {
		size_t ncap = m->dense_cap ? m->dense_cap : DENSE_MIN;
		while (ncap <= idx)
			ncap *= 2;
		if (!dense_grow(m, ncap))
			return NULL;
		return &m->dense[idx];
	}
	return hash_slot(m, (uint32_t)idx, 1);
}

pk_memo_ent *pk_memo_get_slow(pk_memo *m, uint64_t idx)
{
	pk_memo_ent *v = memo_slot(m, idx, 0);

	return v && v->val ? v : NULL;
}

pk_memo_ent *pk_memo_put_slow(pk_memo *m, uint64_t idx)
{
	pk_memo_ent *v = memo_slot(m, idx, 1);

	if (v && !v->val)
		m->count++;
	return v;
}

struct pk_idmap_ent {
	uintptr_t key; /* 0 = empty */
	uint32_t idx;
};

void pk_idmap_init(pk_idmap *m)
{
	memset(m, 0, sizeof(*m));
}

void pk_idmap_release(pk_idmap *m)
{
	free(m->ents);
	pk_idmap_init(m);
}

static size_t id_pos(uintptr_t k, size_t cap)
{
	uint64_t h = (uint64_t)k * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (cap - 1);
}

int pk_idmap_find(const pk_idmap *m, uintptr_t key, uint32_t *idx)
{
	size_t i;

	if (!m->cap)
		return 0;
	for (i = id_pos(key, m->cap); m->ents[i].key;
	     i = (i + 1) & (m->cap - 1))
		if (m->ents[i].key == key) {
			if (idx)
				*idx = m->ents[i].idx;
			return 1;
		}
	return 0;
}

int pk_idmap_set(pk_idmap *m, uintptr_t key, uint32_t idx)
{
	size_t i;

	if ((m->used + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64, j;
		struct pk_idmap_ent *ne = calloc(ncap, sizeof(*ne));
		if (!ne)
			return -1;
		for (j = 0; j < m->cap; j++) {
			if (!m->ents[j].key)
				continue;
			i = id_pos(m->ents[j].key, ncap);
			while (ne[i].key)
				i = (i + 1) & (ncap - 1);
			ne[i] = m->ents[j];
		}
		free(m->ents);
		m->ents = ne;
		m->cap = ncap;
	}
	for (i = id_pos(key, m->cap); m->ents[i].key;
	     i = (i + 1) & (m->cap - 1))
		if (m->ents[i].key == key) {
			m->ents[i].idx = idx;
			return 0;
		}
	m->ents[i].key = key;
	m->ents[i].idx = idx;
	m->used++;
	return 0;
}

int pk_idmap_merge(pk_idmap *m, const pk_idmap *from)
{
	size_t i;

	for (i = 0; from && i < from->cap; i++)
		if (from->ents[i].key &&
		    pk_idmap_set(m, from->ents[i].key, from->ents[i].idx) < 0)
			return -1;
	return 0;
}
