#include "npy.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

int pf_npy_magic(const uint8_t *p, size_t n)
{
	return n >= 10 && memcmp(p, "\x93NUMPY", 6) == 0;
}

/* A tiny reader of the header's dict literal. */
struct lit {
	const char *p, *end;
	const char *base; /* the file's first byte, for offsets */
};

static void blanks(struct lit *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t'))
		l->p++;
}

static int eat(struct lit *l, char c)
{
	blanks(l);
	if (l->p < l->end && *l->p == c) {
		l->p++;
		return 1;
	}
	return 0;
}

/* 'text' into buf (n bytes with its NUL); 0 or -1. */
static int quoted(struct lit *l, char *buf, size_t n)
{
	const char *s;
	char q;

	blanks(l);
	if (l->p >= l->end || (*l->p != '\'' && *l->p != '"'))
		return -1;
	q = *l->p++;
	for (s = l->p; l->p < l->end && *l->p != q; l->p++)
		;
	if (l->p >= l->end || (size_t)(l->p - s) >= n)
		return -1;
	memcpy(buf, s, (size_t)(l->p - s));
	buf[l->p - s] = '\0';
	l->p++;
	return 0;
}

static int number(struct lit *l, uint64_t *v)
{
	int digits = 0;

	blanks(l);
	*v = 0;
	while (l->p < l->end && *l->p >= '0' && *l->p <= '9') {
		if (*v > ((uint64_t)1 << 48))
			return -1;
		*v = *v * 10 + (uint64_t)(*l->p++ - '0');
		digits++;
	}
	if (l->p < l->end && *l->p == 'L') /* Python 2's long */
		l->p++;
	return digits ? 0 : -1;
}

static int shape_lit(struct lit *l, pf_npy *a)
{
	if (!eat(l, '('))
		return -1;
	a->ndim = 0;
	while (!eat(l, ')')) {
		if (a->ndim == PF_NPY_MAXDIM || number(l, &a->shape[a->ndim]))
			return -1;
		a->ndim++;
		if (!eat(l, ',')) {
			if (!eat(l, ')'))
				return -1;
			break;
		}
	}
	return 0;
}

/* Bytes per item of a plain descr ('<f8', '|b1', '<U5', '|S5'), 0 when
 * it is not one this reader takes. */
static uint64_t item_size(const char *d)
{
	uint64_t n = 0;
	const char *p;

	if (strlen(d) < 3 || !strchr("<>|=", d[0]) || !strchr("biufcUS", d[1]))
		return 0;
	for (p = d + 2; *p; p++) {
		if (*p < '0' || *p > '9' || n > (1u << 28))
			return 0;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	return d[1] == 'U' ? n * 4 : n;
}

int pf_npy_read(const uint8_t *p, size_t n, pf_npy *out, pk_err *e)
{
	struct lit l;
	uint64_t hlen, count = 1, size;
	size_t at, i;
	char key[32];
	int have = 0;

	memset(out, 0, sizeof(*out));
	if (!pf_npy_magic(p, n))
		return pk_err_set(e, PK_E_ARG, "not a .npy file", 0);
	if (p[6] == 1) {
		hlen = (uint64_t)p[8] | (uint64_t)p[9] << 8;
		at = 10;
	} else if ((p[6] == 2 || p[6] == 3) && n >= 12) {
		hlen = (uint64_t)p[8] | (uint64_t)p[9] << 8 |
		       (uint64_t)p[10] << 16 | (uint64_t)p[11] << 24;
		at = 12;
	} else {
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "a .npy version this reader does not know",
				  6);
	}
	if (hlen > n - at)
		return pk_err_set(e, PK_E_TRUNCATED, "the .npy header is cut",
				  at);
	l.base = (const char *)p;
	l.p = (const char *)p + at;
	l.end = l.p + hlen;
	if (!eat(&l, '{'))
		goto bad;
	while (!eat(&l, '}')) {
		if (quoted(&l, key, sizeof(key)) || !eat(&l, ':'))
			goto bad;
		if (strcmp(key, "descr") == 0) {
			if (quoted(&l, out->descr, sizeof(out->descr)))
				return pk_err_set(
				    e, PK_E_UNSUPPORTED,
				    "a structured or unusual .npy dtype",
				    (uint64_t)(l.p - l.base));
			have |= 1;
		} else if (strcmp(key, "fortran_order") == 0) {
			blanks(&l);
			if ((size_t)(l.end - l.p) >= 4 &&
			    memcmp(l.p, "True", 4) == 0) {
				out->fortran = 1;
				l.p += 4;
			} else if ((size_t)(l.end - l.p) >= 5 &&
				   memcmp(l.p, "False", 5) == 0) {
				l.p += 5;
			} else {
				goto bad;
			}
			have |= 2;
		} else if (strcmp(key, "shape") == 0) {
			if (shape_lit(&l, out))
				goto bad;
			have |= 4;
		} else {
			goto bad;
		}
		if (!eat(&l, ',')) {
			if (!eat(&l, '}'))
				goto bad;
			break;
		}
	}
	if (have != 7)
		goto bad;
	if (!(size = item_size(out->descr)))
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "a .npy dtype this reader does not take", at);
	for (i = 0; i < out->ndim; i++)
		if (__builtin_mul_overflow(count, out->shape[i], &count))
			goto bad;
	if (__builtin_mul_overflow(count, size, &out->data_len))
		goto bad;
	out->data_off = at + hlen;
	if (out->data_len > n - out->data_off)
		return pk_err_set(e, PK_E_TRUNCATED,
				  "the .npy array's bytes are cut",
				  out->data_off);
	return PK_OK;
bad:
	return pk_err_set(e, PK_E_ARG, "a .npy header this reader cannot read",
			  (uint64_t)(l.p - l.base));
}

/* ---- the pickle -------------------------------------------------------- */

static int put_str(pk_buf *b, const char *s)
{
	size_t n = strlen(s);

	return pk_buf_addc(b, 0x8c) || pk_buf_addc(b, (uint8_t)n) ||
	       pk_buf_add(b, s, n);
}

static int put_int(pk_buf *b, int64_t v)
{
	uint8_t le[8];
	int i;

	if (v >= 0 && v < 256)
		return pk_buf_addc(b, 'K') || pk_buf_addc(b, (uint8_t)v);
	if (v >= 0 && v < 65536)
		return pk_buf_addc(b, 'M') || pk_buf_addc(b, (uint8_t)v) ||
		       pk_buf_addc(b, (uint8_t)(v >> 8));
	for (i = 0; i < 8; i++)
		le[i] = (uint8_t)((uint64_t)v >> (8 * i));
	if (v >= -(1ll << 31) && v < (1ll << 31))
		return pk_buf_addc(b, 'J') || pk_buf_add(b, le, 4);
	/* LONG1 of 8 bytes, two's complement (shapes stay below 2^48) */
	return pk_buf_addc(b, 0x8a) || pk_buf_addc(b, 8) ||
	       pk_buf_add(b, le, 8);
}

int pf_npy_pickle(const pf_npy *a, pk_buf *out, pk_err *e)
{
	char order[2] = {a->descr[0], 0}, code[16];
	int flexible = a->descr[1] == 'U' || a->descr[1] == 'S';
	uint32_t i;
	int fail;

	if (order[0] == '=')
		order[0] = '<';
	strcpy(code, a->descr + 1);
	fail = pk_buf_add(out, "\x80\x05", 2) ||
	       put_str(out, "numpy.core.numeric") ||
	       put_str(out, "_frombuffer") || pk_buf_addc(out, 0x93) ||
	       pk_buf_addc(out, '(') || pk_buf_addc(out, 0x97) ||
	       put_str(out, "numpy") || put_str(out, "dtype") ||
	       pk_buf_addc(out, 0x93) || put_str(out, code) ||
	       pk_buf_add(out, "\x89\x88\x87R(", 5) || put_int(out, 3) ||
	       put_str(out, order) || pk_buf_add(out, "NNN", 3) ||
	       put_int(out, flexible ? (int64_t)item_size(a->descr) : -1) ||
	       put_int(out, flexible ? (a->descr[1] == 'U' ? 4 : 1) : -1) ||
	       put_int(out, a->descr[1] == 'U' ? 8 : 0) ||
	       pk_buf_add(out, "tb(", 3);
	for (i = 0; i < a->ndim && !fail; i++)
		fail = put_int(out, (int64_t)a->shape[i]);
	fail = fail || pk_buf_addc(out, 't') ||
	       put_str(out, a->fortran ? "F" : "C") ||
	       pk_buf_add(out, "tR.", 3);
	return fail ? pk_err_set(e, PK_E_NOMEM, "out of memory", 0) : PK_OK;
}

static int buffer(const pk_external *x, const uint8_t *op, const uint8_t **data,
		  uint64_t *len)
{
	const pf_npy *a =
	    (const pf_npy *)((const char *)x - offsetof(pf_npy, ext));

	(void)op; /* the pickle has one buffer */
	if (!a->data)
		return ENOENT;
	*data = a->data;
	*len = a->data_len;
	return 0;
}

void pf_npy_bind(pf_npy *a, const uint8_t *data, pk_doc *doc)
{
	a->data = data;
	a->ext.storage = NULL;
	a->ext.buffer = buffer;
	doc->external = &a->ext;
}
