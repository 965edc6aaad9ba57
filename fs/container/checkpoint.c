#include "checkpoint.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int stored(const pf_arc_member *m)
{
	return m->type == PF_ARC_FILE && m->method == PF_ARC_STORED &&
	       !(m->flags & 1);
}

int pf_ckpt_detect(const pf_arc_index *ix, const uint8_t *data, uint64_t len,
		   pf_ckpt *out)
{
	uint32_t top, pkl, ver, dd;

	if (ix->fmt != PF_ARC_ZIP || ix->n < 2 || ix->m[0].nchildren != 1)
		return 0;
	top = pf_arc_child(ix, 0, 0);
	if (top == UINT32_MAX || ix->m[top].type != PF_ARC_DIR)
		return 0;
	pkl = pf_arc_lookup(ix, top, "data.pkl");
	ver = pf_arc_lookup(ix, top, "version");
	if (ver == UINT32_MAX &&
	    (dd = pf_arc_lookup(ix, top, ".data")) != UINT32_MAX)
		ver = pf_arc_lookup(ix, dd, "version");
	if (pkl == UINT32_MAX || !stored(&ix->m[pkl]) || ver == UINT32_MAX)
		return 0;
	memset(out, 0, sizeof(*out));
	out->ix = ix;
	out->data = data;
	out->len = len;
	out->top = top;
	out->pickle = pkl;
	out->storages = pf_arc_lookup(ix, top, "data");
	if (out->storages != UINT32_MAX &&
	    ix->m[out->storages].type != PF_ARC_DIR)
		out->storages = UINT32_MAX;
	{
		uint32_t bo = pf_arc_lookup(ix, top, "byteorder");
		out->big_endian =
		    bo != UINT32_MAX && stored(&ix->m[bo]) &&
		    ix->m[bo].size == 3 &&
		    memcmp(data + ix->m[bo].offset, "big", 3) == 0;
	}
	return 1;
}

void pf_ckpt_pickle(const pf_ckpt *ck, const uint8_t **p, uint64_t *n)
{
	const pf_arc_member *m = &ck->ix->m[ck->pickle];

	*p = ck->data + m->offset;
	*n = m->size;
}

int pf_ckpt_storage(const pf_ckpt *ck, const uint8_t *key, size_t keylen,
		    const uint8_t **p, uint64_t *n)
{
	char name[256];
	uint32_t i;

	if (ck->storages == UINT32_MAX || keylen == 0 ||
	    keylen >= sizeof(name) || memchr(key, '/', keylen) ||
	    memchr(key, '\0', keylen))
		return ENOENT;
	memcpy(name, key, keylen);
	name[keylen] = '\0';
	i = pf_arc_lookup(ck->ix, ck->storages, name);
	if (i == UINT32_MAX || ck->ix->m[i].type != PF_ARC_FILE)
		return ENOENT;
	if (!stored(&ck->ix->m[i]))
		return ENOTSUP;
	*p = ck->data + ck->ix->m[i].offset;
	*n = ck->ix->m[i].size;
	return 0;
}

static int find(const pk_external *st, const uint8_t *key, size_t keylen,
		const uint8_t **data, uint64_t *len)
{
	const pf_ckpt *ck =
	    (const pf_ckpt *)((const char *)st - offsetof(pf_ckpt, res));

	return pf_ckpt_storage(ck, key, keylen, data, len);
}

void pf_ckpt_bind(pf_ckpt *ck, pk_doc *doc)
{
	ck->res.storage = find;
	ck->res.buffer = NULL;
	doc->external = &ck->res;
}

int pf_ckpt_legacy_magic(const uint8_t *data, size_t len)
{
	static const uint8_t magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c,
					0xfc, 0x9c, 0x46, 0xf9, 0x20,
					0x6a, 0xa8, 0x50, 0x19, '.'};

	return len > sizeof(magic) && memcmp(data, magic, sizeof(magic)) == 0;
}

int pf_ckpt_legacy_index(const uint8_t *tail, uint64_t n,
			 const uint8_t *const *keys, const size_t *keylen,
			 const uint32_t *itemsize, size_t count,
			 pf_ckpt_legacy *out, pk_err *e)
{
	uint64_t at = 0, numel, bytes;
	size_t i;
	int k;

	memset(out, 0, sizeof(*out));
	if (count && !(out->st = calloc(count, sizeof(*out->st))))
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	for (i = 0; i < count; i++) {
		if (n - at < 8) {
			pf_ckpt_legacy_free(out);
			return pk_err_set(e, PK_E_TRUNCATED,
					  "a storage's size runs past the end",
					  at);
		}
		for (numel = 0, k = 7; k >= 0; k--)
			numel = numel << 8 | tail[at + (uint64_t)k];
		if (__builtin_mul_overflow(numel, (uint64_t)itemsize[i],
					   &bytes) ||
		    bytes > n - at - 8) {
			pf_ckpt_legacy_free(out);
			return pk_err_set(e, PK_E_TRUNCATED,
					  "a storage runs past the end", at);
		}
		out->st[i].key = keys[i];
		out->st[i].keylen = keylen[i];
		out->st[i].data = tail + at + 8;
		out->st[i].len = bytes;
		at += 8 + bytes;
	}
	out->n = count;
	return PK_OK;
}

void pf_ckpt_legacy_free(pf_ckpt_legacy *l)
{
	free(l->st);
	memset(l, 0, sizeof(*l));
}

static int legacy_find(const pk_external *st, const uint8_t *key, size_t keylen,
		       const uint8_t **data, uint64_t *len)
{
	const pf_ckpt_legacy *l =
	    (const pf_ckpt_legacy *)((const char *)st -
				     offsetof(pf_ckpt_legacy, res));
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->st[i].keylen == keylen &&
		    memcmp(l->st[i].key, key, keylen) == 0) {
			*data = l->st[i].data;
			*len = l->st[i].len;
			return 0;
		}
	return ENOENT;
}

void pf_ckpt_legacy_bind(pf_ckpt_legacy *l, pk_doc *doc)
{
	l->res.storage = legacy_find;
	l->res.buffer = NULL;
	doc->external = &l->res;
}
