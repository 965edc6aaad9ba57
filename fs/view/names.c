#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string pool ------------------------------------------------------ */

struct pf_pool_chunk {
	struct pf_pool_chunk *next;
	size_t used, cap;
	char data[];
};

/* Chunks start small and double up to POOL_CHUNK: most directories
 * have a few short names, and a walk down a deep pickle names thousands
 * of them (a 64 KiB first chunk each cost 4 KiB of RSS per level). */
#define POOL_FIRST 256
#define POOL_CHUNK 65536

void pf_names_init(pf_names *t)
{
	memset(t, 0, sizeof(*t));
}

void pf_names_release(pf_names *t)
{
	struct pf_pool_chunk *c = t->pool, *next;

	while (c) {
		next = c->next;
		free(c);
		c = next;
	}
	free(t->v);
	free(t->hash);
	pf_names_init(t);
}

char *pf_names_store(pf_names *t, const void *s, size_t n)
{
	struct pf_pool_chunk *c = t->pool;
	char *p;

	if (!c || c->cap - c->used < n + 1) {
		size_t step = !c ? POOL_FIRST
			      : c->cap >= POOL_CHUNK / 2 ? POOL_CHUNK
							 : c->cap * 2;
		size_t cap = n + 1 > step / 4 ? n + 1 : step;
		struct pf_pool_chunk *nc = malloc(sizeof(*nc) + cap);
		if (!nc)
			return NULL;
		nc->used = 0;
		nc->cap = cap;
		t->bytes += sizeof(*nc) + cap;
		if (c && cap != step) {
			/* a big string: keep the current chunk in front so
			 * its free space is still used */
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			t->pool = nc;
		}
		c = nc;
	}
	p = c->data + c->used;
	memcpy(p, s, n);
	p[n] = '\0';
	c->used += n + 1;
	return p;
}

/* ---- hash index -------------------------------------------------------- */

uint64_t pf_name_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

int64_t pf_names_find(const pf_names *t, const char *name, size_t len)
{
	size_t mask, i;

	if (!t->hcap)
		return -1;
	mask = t->hcap - 1;
	for (i = pf_name_hash(name, len) & mask; t->hash[i];
	     i = (i + 1) & mask) {
		const pf_name *cand = &t->v[t->hash[i] - 1];
		if (cand->len == len && memcmp(cand->s, name, len) == 0)
			return (int64_t)t->hash[i] - 1;
	}
	return -1;
}

/* Claims name for entry idx if free. 1 claimed, 0 taken. */
static int claim(pf_names *t, uint32_t idx, const char *s, uint32_t len)
{
	size_t mask = t->hcap - 1, i;

	for (i = pf_name_hash(s, len) & mask; t->hash[i]; i = (i + 1) & mask) {
		const pf_name *cand = &t->v[t->hash[i] - 1];
		if (cand->len == len && memcmp(cand->s, s, len) == 0)
			return 0;
	}
	t->hash[i] = idx + 1;
	t->v[idx].s = s;
	t->v[idx].len = len;
	return 1;
}

/* Length of the longest prefix of s[0..n) that is at most max bytes and
 * does not split a UTF-8 sequence. */
static size_t cut_utf8(const char *s, size_t n, size_t max)
{
	size_t k;

	if (n <= max)
		return n;
	k = max;
	while (k > 0 && ((uint8_t)s[k] & 0xc0) == 0x80)
		k--;
	return k;
}

/* Next suffix number to try per (base, type), so that a thousand keys
 * with one natural name (NaN keys, say) cost linear time, not quadratic. */
struct next_k {
	const char *base;
	size_t baselen;
	const char *type;
	unsigned k;
};

struct next_tab {
	struct next_k *v;
	size_t cap; /* power of two */
};

static struct next_k *next_slot(struct next_tab *nt, const char *base,
				size_t baselen, const char *type)
{
	size_t mask = nt->cap - 1;
	size_t i = (size_t)(pf_name_hash(base, baselen) ^
			    pf_name_hash(type, strlen(type))) &
		   mask;

	for (;; i = (i + 1) & mask) {
		struct next_k *e = &nt->v[i];
		if (!e->base ||
		    (e->baselen == baselen && strcmp(e->type, type) == 0 &&
		     memcmp(e->base, base, baselen) == 0))
			return e;
	}
}

/* Gives entry idx the first free "BASE%TYPE", "BASE%TYPE2", ... */
static int claim_suffixed(pf_names *t, struct next_tab *nt, uint32_t idx,
			  const char *base, size_t baselen, const char *type)
{
	char num[16];
	size_t typelen = strlen(type);
	struct next_k *e = next_slot(nt, base, baselen, type);
	unsigned k;
	pk_buf b = PK_BUF_INIT;
	int rc = 0;

	if (!e->base) {
		e->base = base;
		e->baselen = baselen;
		e->type = type;
		e->k = 1;
	}
	for (k = e->k;; k++) {
		size_t fix, bl;
		char *s;
		pk_buf_reset(&b);
		if (k > 1)
			snprintf(num, sizeof(num), "%u", k);
		else
			num[0] = '\0';
		/* at most PF_NAME_MAX bytes: a long type name and a big
		 * number cut the base (at a character boundary), so that
		 * even 240 bytes + "%picklebuffer100" fit */
		fix = 1 + typelen + strlen(num);
		bl = cut_utf8(base, baselen,
			      fix < PF_NAME_MAX ? PF_NAME_MAX - fix : 0);
		if (pk_buf_add(&b, base, bl) || pk_buf_addc(&b, '%') ||
		    pk_buf_add(&b, type, typelen) || pk_buf_adds(&b, num)) {
			rc = ENOMEM;
			break;
		}
		if (pf_names_find(t, (const char *)b.data, b.len) >= 0)
			continue;
		s = pf_names_store(t, b.data, b.len);
		if (!s) {
			rc = ENOMEM;
			break;
		}
		claim(t, idx, s, (uint32_t)b.len);
		e->k = k + 1;
		break;
	}
	pk_buf_release(&b);
	return rc;
}

int pf_names_build(pf_names *t, const pf_name_cand *c, uint32_t n)
{
	struct next_tab nt = {NULL, 0};
	uint8_t *pending = NULL;
	size_t cap = 16;
	uint32_t i;
	int prio, rc = 0;

	while (cap < (size_t)n * 2 + 2)
		cap <<= 1;
	free(t->v);
	free(t->hash);
	t->v = calloc(n ? n : 1, sizeof(*t->v));
	t->hash = calloc(cap, sizeof(*t->hash));
	pending = calloc(n ? n : 1, 1);
	if (!t->v || !t->hash || !pending) {
		rc = ENOMEM;
		goto cleanup;
	}
	t->n = n;
	t->hcap = cap;
	t->bytes += (size_t)n * sizeof(*t->v) + cap * sizeof(*t->hash);

	/* Natural names, by priority class, first come first served. */
	for (prio = PF_PRIO_RESERVED; prio <= PF_PRIO_OTHER; prio++)
		for (i = 0; i < n; i++) {
			if (c[i].prio != prio)
				continue;
			if (c[i].natlen > PF_NAME_LONG ||
			    !claim(t, i, c[i].nat, c[i].natlen))
				pending[i] = 1;
		}
	/* Then the suffixed names, in entry order. */
	nt.cap = cap;
	nt.v = calloc(nt.cap, sizeof(*nt.v));
	if (!nt.v) {
		rc = ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		if (!pending[i])
			continue;
		if (c[i].natlen > PF_NAME_LONG)
			rc = claim_suffixed(
			    t, &nt, i, c[i].nat,
			    cut_utf8(c[i].nat, c[i].natlen, PF_NAME_CUT),
			    "long");
		else
			rc = claim_suffixed(t, &nt, i, c[i].nat, c[i].natlen,
					    c[i].type);
		if (rc)
			goto cleanup;
	}
cleanup:
	free(nt.v);
	free(pending);
	return rc;
}

/* ---- escaping ---------------------------------------------------------- */

static const char hexdig[] = "0123456789ABCDEF";

int pf_name_escape(const uint8_t *s, size_t n, pk_buf *out)
{
	size_t i;

	if (n == 0)
		return pk_buf_addc(out, '%');
	if (n == 1 && s[0] == '.')
		return pk_buf_adds(out, "%2E");
	if (n == 2 && s[0] == '.' && s[1] == '.')
		return pk_buf_adds(out, "%2E%2E");
	for (i = 0; i < n; i++) {
		uint8_t ch = s[i];
		if (ch == '%' || ch == '/' || ch == '\0') {
			char esc[3] = {'%', hexdig[ch >> 4], hexdig[ch & 15]};
			if (pk_buf_add(out, esc, 3))
				return -1;
		} else if (pk_buf_addc(out, ch)) {
			return -1;
		}
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pf_name_unescape(const char *name, size_t len, pk_buf *out)
{
	size_t start = out->len, i;
	pk_buf check = PK_BUF_INIT;
	int ok;

	if (len == 1 && name[0] == '%')
		return 0; /* the empty str */
	for (i = 0; i < len; i++) {
		if (name[i] != '%') {
			if (pk_buf_addc(out, (uint8_t)name[i]))
				return -1;
			continue;
		}
		if (i + 2 >= len)
			goto bad;
		{
			int hi = hexval(name[i + 1]), lo = hexval(name[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			if (pk_buf_addc(out, (uint8_t)(hi * 16 + lo)))
				return -1;
			i += 2;
		}
	}
	/* Only the canonical spelling names the key: "%41" is not "A". */
	if (pf_name_escape(out->data ? out->data + start : (const uint8_t *)"",
			   out->len - start, &check)) {
		pk_buf_release(&check);
		return -1;
	}
	ok = check.len == len && memcmp(check.data, name, len) == 0;
	pk_buf_release(&check);
	if (ok)
		return 0;
bad:
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	return -1;
}

int pf_name_split(const char *name, size_t len, size_t *baselen,
		  const char **type, size_t *typelen, unsigned *k)
{
	size_t i = len, digits_end = len, letters_end;
	unsigned long num = 1;

	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	letters_end = i;
	while (i > 0 && name[i - 1] >= 'a' && name[i - 1] <= 'z')
		i--;
	if (i == letters_end || i == 0 || name[i - 1] != '%')
		return -1;
	if (letters_end < digits_end) {
		char buf[16];
		size_t nd = digits_end - letters_end;
		if (nd > 9 || name[letters_end] == '0')
			return -1;
		memcpy(buf, name + letters_end, nd);
		buf[nd] = '\0';
		num = strtoul(buf, NULL, 10);
		if (num < 2)
			return -1;
	}
	*baselen = i - 1;
	*type = name + i;
	*typelen = letters_end - i;
	*k = (unsigned)num;
	return 0;
}

/* ---- list indices ------------------------------------------------------ */

int pf_index_name(uint64_t i, char out[24])
{
	return snprintf(out, 24, "%llu", (unsigned long long)i);
}

int pf_index_parse(const char *name, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 19 || (len > 1 && name[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*out = v;
	return 0;
}
