#include "memo.h"

#include <stdlib.h>
#include <string.h>

struct pk_memo_hent {
	uint32_t idx;
	uint32_t used;
	pk_val val;
};

void pk_memo_init(pk_memo *m)
{
	memset(m, 0, sizeof(*m));
}

void pk_memo_release(pk_memo *m)
{
	free(m->dense);
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

static pk_val *hash_slot(pk_memo *m, uint32_t idx, int create)
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
	memset(&m->hash[i].val, 0, sizeof(pk_val));
	m->hash_used++;
	return &m->hash[i].val;
}

static pk_val *memo_slot(pk_memo *m, uint64_t idx, int create)
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
		size_t ncap = m->dense_cap ? m->dense_cap : 256;
		pk_val *nd;
		while (ncap <= idx)
			ncap *= 2;
		nd = realloc(m->dense, ncap * sizeof(*nd));
		if (!nd)
			return NULL;
		memset(nd + m->dense_cap, 0, (ncap - m->dense_cap) * sizeof(*nd));
		m->dense = nd;
		m->dense_cap = ncap;
		return &m->dense[idx];
	}
	return hash_slot(m, (uint32_t)idx, 1);
}

pk_val *pk_memo_get(pk_memo *m, uint64_t idx)
{
	pk_val *v = memo_slot(m, idx, 0);

	return v && v->kind ? v : NULL;
}

pk_val *pk_memo_put(pk_memo *m, uint64_t idx)
{
	pk_val *v = memo_slot(m, idx, 1);

	if (v && !v->kind)
		m->count++;
	return v;
}
