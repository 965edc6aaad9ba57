#include "entries.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

static int add_name(pf_entries *t, const char *name, size_t len,
		    pf_entry_row *r)
{
	r->name_off = t->pool.len;
	r->name_len = (uint32_t)len;
	if (pk_buf_add(&t->pool, name, len) || pk_buf_addc(&t->pool, '\0'))
		return ENOMEM;
	return 0;
}

int pf_entries_new(pf_docview *dv, pf_ref dir, pf_entries **out)
{
	pf_entries *t = calloc(1, sizeof(*t));
	pk_buf name = PK_BUF_INIT;
	uint64_t n, i;
	int rc;

	*out = NULL;
	if (!t)
		return ENOMEM;
	if ((rc = pf_docview_count(dv, dir, &n)))
		goto fail;
	t->cap = n ? n : 4;
	t->rows = malloc(t->cap * sizeof(*t->rows));
	if (!t->rows || n >= UINT32_MAX) {
		rc = ENOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		pk_buf_reset(&name);
		if ((rc = pf_docview_name(dv, dir, i, &name)))
			goto fail;
		t->rows[i].id = i;
		if ((rc = add_name(t, (const char *)name.data, name.len,
				   &t->rows[i])))
			goto fail;
	}
	t->n = n;
	t->next_id = n;
	pk_buf_release(&name);
	*out = t;
	return 0;
fail:
	pk_buf_release(&name);
	pf_entries_free(t);
	return rc;
}

void pf_entries_free(pf_entries *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t->by_name);
	free(t->by_id);
	pk_buf_release(&t->pool);
	free(t);
}

const char *pf_entries_name(const pf_entries *t, size_t row, size_t *len)
{
	if (len)
		*len = t->rows[row].name_len;
	return (const char *)t->pool.data + t->rows[row].name_off;
}

static uint64_t id_hash(uint64_t id)
{
	id *= 0x9e3779b97f4a7c15ull;
	return id ^ (id >> 31);
}

/* Both indexes are rebuilt after a change that moved rows: one pass over
 * the rows, paid by the edit, never by a lookup. */
static int reindex(pf_entries *t)
{
	size_t cap = 16, mask, i, j;

	if (t->hcap)
		return 0;
	while (cap < 2 * t->n + 2)
		cap *= 2;
	free(t->by_name);
	free(t->by_id);
	t->by_name = calloc(cap, sizeof(*t->by_name));
	t->by_id = calloc(cap, sizeof(*t->by_id));
	if (!t->by_name || !t->by_id)
		return ENOMEM;
	mask = cap - 1;
	for (i = 0; i < t->n; i++) {
		size_t len;
		const char *s = pf_entries_name(t, i, &len);
		for (j = pf_name_hash(s, len) & mask; t->by_name[j];
		     j = (j + 1) & mask)
			;
		t->by_name[j] = (uint32_t)i + 1;
		for (j = id_hash(t->rows[i].id) & mask; t->by_id[j];
		     j = (j + 1) & mask)
			;
		t->by_id[j] = (uint32_t)i + 1;
	}
	t->hcap = cap;
	return 0;
}

int64_t pf_entries_find_name(pf_entries *t, const char *name, size_t len)
{
	size_t j, mask;

	if (reindex(t))
		return -1;
	mask = t->hcap - 1;
	for (j = pf_name_hash(name, len) & mask; t->by_name[j];
	     j = (j + 1) & mask) {
		size_t r = t->by_name[j] - 1, rl;
		const char *s = pf_entries_name(t, r, &rl);
		if (rl == len && memcmp(s, name, len) == 0)
			return (int64_t)r;
	}
	return -1;
}

int64_t pf_entries_find_id(pf_entries *t, uint64_t id)
{
	size_t j, mask;

	if (reindex(t))
		return -1;
	mask = t->hcap - 1;
	for (j = id_hash(id) & mask; t->by_id[j]; j = (j + 1) & mask)
		if (t->rows[t->by_id[j] - 1].id == id)
			return (int64_t)t->by_id[j] - 1;
	return -1;
}

void pf_entries_remove(pf_entries *t, size_t row)
{
	memmove(&t->rows[row], &t->rows[row + 1],
		(t->n - row - 1) * sizeof(*t->rows));
	t->n--;
	t->hcap = 0;
}

int pf_entries_insert(pf_entries *t, size_t row, const char *name, uint64_t *id)
{
	pf_entry_row r;

	/* row ids and positions are 32-bit */
	if (t->n == t->cap && (t->cap * 2 >= UINT32_MAX ||
			       pk_vec_grow((void **)&t->rows, &t->cap, t->n + 1,
					   sizeof(*t->rows))))
		return ENOMEM;
	if (add_name(t, name, strlen(name), &r))
		return ENOMEM;
	r.id = t->next_id++;
	memmove(&t->rows[row + 1], &t->rows[row],
		(t->n - row) * sizeof(*t->rows));
	t->rows[row] = r;
	t->n++;
	t->hcap = 0;
	*id = r.id;
	return 0;
}

int pf_entries_rename(pf_entries *t, size_t row, const char *name)
{
	if (add_name(t, name, strlen(name), &t->rows[row]))
		return ENOMEM;
	t->hcap = 0;
	return 0;
}

uint64_t pf_entries_next_index(const pf_entries *t)
{
	uint64_t next = 0, v;
	size_t i, len;

	for (i = 0; i < t->n; i++) {
		const char *s = pf_entries_name(t, i, &len);
		if (pf_index_parse(s, len, &v) == 0 && v + 1 > next)
			next = v + 1;
	}
	return next;
}
