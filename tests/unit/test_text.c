#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "unicode_table.h"

/* CPython's answers (scripts/gen-text-vectors.py); tests run from the
 * repo root. */
#define VECTORS "tests/fixtures/text_vectors.txt"
#define MAXF 8

/* Every output is appended after this, to check nothing resets the buf. */
#define PREFIX "<>"

struct span {
	uint8_t
	    *p; /* malloc'd copy of exactly n bytes, so ASan sees overreads */
	size_t n;
};

struct line {
	int no;
	char *text;
	int nf;
	struct span raw[MAXF]; /* the fields as written */
	struct span hex[MAXF]; /* the fields hex-decoded (if they were hex) */
};

static uint8_t *dup_exact(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	cr_assert(d);
	memcpy(d, p, n);
	return d;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void split_line(struct line *l, char *text, int no)
{
	char *p = text;
	int i;

	memset(l, 0, sizeof(*l));
	l->no = no;
	l->text = text;
	for (;;) {
		char *tab = strchr(p, '\t');
		size_t n = tab ? (size_t)(tab - p) : strlen(p);
		size_t k;
		int ok = n % 2 == 0;

		cr_assert(l->nf < MAXF, "line %d: too many fields", no);
		i = l->nf++;
		l->raw[i].p = dup_exact(p, n);
		l->raw[i].n = n;
		for (k = 0; k < n && ok; k++)
			ok = hexval(p[k]) >= 0;
		if (ok) {
			l->hex[i].p = malloc(n / 2 ? n / 2 : 1);
			l->hex[i].n = n / 2;
			for (k = 0; k < n / 2; k++)
				l->hex[i].p[k] =
				    (uint8_t)(hexval(p[2 * k]) << 4 |
					      hexval(p[2 * k + 1]));
		}
		if (!tab)
			break;
		p = tab + 1;
	}
}

static void free_line(struct line *l)
{
	int i;

	for (i = 0; i < l->nf; i++) {
		free(l->raw[i].p);
		free(l->hex[i].p);
	}
}

static int is(const struct span *s, const char *lit)
{
	return s->n == strlen(lit) && memcmp(s->p, lit, s->n) == 0;
}

static const struct span *hexf(const struct line *l, int i)
{
	cr_assert(i < l->nf, "line %d: missing field %d", l->no, i);
	cr_assert(l->hex[i].p, "line %d: field %d is not hex", l->no, i);
	return &l->hex[i];
}

static const struct span *rawf(const struct line *l, int i)
{
	cr_assert(i < l->nf, "line %d: missing field %d", l->no, i);
	return &l->raw[i];
}

static uint64_t bits_of(double v)
{
	uint64_t b;

	memcpy(&b, &v, sizeof(b));
	return b;
}

static double float_of(const struct span *s)
{
	uint64_t b = 0;
	double v;
	size_t i;

	cr_assert_eq(s->n, 8);
	for (i = 0; i < 8; i++)
		b = b << 8 | s->p[i];
	memcpy(&v, &b, sizeof(v));
	return v;
}

static void buf_start(pk_buf *b)
{
	pk_buf_init(b);
	cr_assert_eq(pk_buf_adds(b, PREFIX), 0);
}

/* The output after PREFIX equals want. */
static void expect_out(const pk_buf *b, const void *want, size_t n,
		       const struct line *l, const char *what)
{
	size_t pl = strlen(PREFIX);
	int ok = b->len == pl + n && memcmp(b->data, PREFIX, pl) == 0 &&
		 memcmp(b->data + pl, want, n) == 0;

	cr_expect(ok, "line %d (%s): %s: got [%.*s], want [%.*s]", l->no,
		  l->text, what, (int)(b->len > pl ? b->len - pl : 0),
		  b->data + pl, (int)n, (const char *)want);
}

static int64_t le_to_i64(const struct span *le)
{
	uint64_t v = 0;
	size_t i;

	if (le->n == 0)
		return 0;
	v = (le->p[le->n - 1] & 0x80) ? UINT64_MAX : 0;
	for (i = le->n; i-- > 0;)
		v = v << 8 | le->p[i];
	return (int64_t)v;
}

static void check_i64(const struct line *l, const char *text, size_t n,
		      const struct span *le)
{
	int64_t got = 0;
	pk_err e = {0};
	int rc = pk_int_parse_i64(text, n, &got, &e);

	if (!le) {
		cr_expect_eq(rc, PK_E_VALUE, "line %d: i64 rc %d", l->no, rc);
	} else if (le->n > 8) {
		cr_expect_eq(rc, PK_E_UNSUPPORTED, "line %d: i64 rc %d", l->no,
			     rc);
	} else {
		cr_expect_eq(rc, 0, "line %d: i64 rc %d", l->no, rc);
		cr_expect_eq(got, le_to_i64(le), "line %d: i64 %lld", l->no,
			     (long long)got);
	}
	if (rc)
		cr_expect(e.code == rc && e.msg && e.offset <= n,
			  "line %d: error not filled in", l->no);
}

static void check_int(const struct line *l)
{
	const struct span *le = hexf(l, 1), *dec = rawf(l, 2);
	pk_buf b;
	pk_err e = {0};

	buf_start(&b);
	cr_expect_eq(pk_int_le_to_decimal(le->p, le->n, &b), 0);
	expect_out(&b, dec->p, dec->n, l, "decimal");
	pk_buf_release(&b);

	buf_start(&b);
	cr_expect_eq(pk_int_parse_le((char *)dec->p, dec->n, &b, &e), 0,
		     "line %d", l->no);
	expect_out(&b, le->p, le->n, l, "LE bytes");
	pk_buf_release(&b);
	check_i64(l, (char *)dec->p, dec->n, le);
}

static void check_intparse(const struct line *l)
{
	const struct span *t = hexf(l, 1);
	int bad = is(rawf(l, 2), "!");
	const struct span *le = bad ? NULL : hexf(l, 2);
	pk_buf b;
	pk_err e = {0};
	int rc;

	buf_start(&b);
	rc = pk_int_parse_le((char *)t->p, t->n, &b, &e);
	if (bad) {
		cr_expect_eq(rc, PK_E_VALUE, "line %d: accepted", l->no);
		cr_expect(e.code == PK_E_VALUE && e.offset <= t->n);
		expect_out(&b, "", 0, l, "output after an error");
	} else {
		cr_expect_eq(rc, 0, "line %d: rejected (%s)", l->no,
			     e.msg ? e.msg : "");
		expect_out(&b, le->p, le->n, l, "LE bytes");
	}
	pk_buf_release(&b);
	check_i64(l, (char *)t->p, t->n, le);
}

static void check_float_value(const struct line *l, double got, double want,
			      const char *what)
{
	cr_expect(bits_of(got) == bits_of(want) || (isnan(got) && isnan(want)),
		  "line %d: %s: got %a, want %a", l->no, what, got, want);
}

static void check_float(const struct line *l)
{
	double v = float_of(hexf(l, 1)), back = 0;
	const struct span *r = rawf(l, 2);
	pk_buf b;
	pk_err e = {0};

	buf_start(&b);
	cr_expect_eq(pk_float_repr(v, &b), 0);
	expect_out(&b, r->p, r->n, l, "repr");
	pk_buf_release(&b);
	cr_expect_eq(pk_float_parse((char *)r->p, r->n, &back, &e), 0,
		     "line %d", l->no);
	/* repr drops a nan's sign, so only nan-ness survives. */
	check_float_value(l, back, isnan(v) ? fabs(v) : v, "float(repr)");
}

static void check_floatparse(const struct line *l)
{
	const struct span *t = hexf(l, 1);
	double got = 12345;
	pk_err e = {0};
	int rc = pk_float_parse((char *)t->p, t->n, &got, &e);

	if (is(rawf(l, 2), "!")) {
		cr_expect_eq(rc, PK_E_VALUE, "line %d: accepted as %a", l->no,
			     got);
		cr_expect(e.offset <= t->n);
		cr_expect(bits_of(got) == bits_of(12345.0),
			  "line %d: *out written on error", l->no);
		return;
	}
	cr_expect_eq(rc, 0, "line %d: rejected (%s)", l->no,
		     e.msg ? e.msg : "");
	/* Exact bits, so the sign of -nan counts too. */
	cr_expect_eq(bits_of(got), bits_of(float_of(hexf(l, 2))),
		     "line %d: got %a", l->no, got);
}

static void check_complex(const struct line *l)
{
	double re = float_of(hexf(l, 1)), im = float_of(hexf(l, 2));
	double bre = 0, bim = 0;
	const struct span *r = rawf(l, 3);
	pk_buf b;
	pk_err e = {0};

	buf_start(&b);
	cr_expect_eq(pk_complex_repr(re, im, &b), 0);
	expect_out(&b, r->p, r->n, l, "repr");
	pk_buf_release(&b);
	cr_expect_eq(pk_complex_parse((char *)r->p, r->n, &bre, &bim, &e), 0,
		     "line %d", l->no);
	check_float_value(l, bre, isnan(re) ? fabs(re) : re, "real(repr)");
	check_float_value(l, bim, isnan(im) ? fabs(im) : im, "imag(repr)");
}

static void check_complexparse(const struct line *l)
{
	const struct span *t = hexf(l, 1);
	double re = 7, im = 7;
	pk_err e = {0};
	int rc = pk_complex_parse((char *)t->p, t->n, &re, &im, &e);

	if (is(rawf(l, 2), "!")) {
		cr_expect_eq(rc, PK_E_VALUE, "line %d: accepted as (%a, %a)",
			     l->no, re, im);
		cr_expect(e.offset <= t->n);
		return;
	}
	cr_expect_eq(rc, 0, "line %d: rejected (%s)", l->no,
		     e.msg ? e.msg : "");
	cr_expect_eq(bits_of(re), bits_of(float_of(hexf(l, 2))),
		     "line %d: real %a", l->no, re);
	cr_expect_eq(bits_of(im), bits_of(float_of(hexf(l, 3))),
		     "line %d: imag %a", l->no, im);
}

static void check_str(const struct line *l)
{
	const struct span *s = hexf(l, 1), *r = rawf(l, 2);
	pk_buf b;

	buf_start(&b);
	cr_expect_eq(pk_repr_str(s->p, s->n, &b), 0);
	expect_out(&b, r->p, r->n, l, "repr");
	pk_buf_release(&b);
	cr_expect(pk_utf8_valid(s->p, s->n, 1), "line %d", l->no);
}

static void check_rue(const struct line *l)
{
	const struct span *s = hexf(l, 1), *a = hexf(l, 2);
	pk_buf b;
	pk_err e = {0};

	buf_start(&b);
	cr_expect_eq(pk_raw_unicode_encode(s->p, s->n, &b), 0);
	expect_out(&b, a->p, a->n, l, "UNICODE argument");
	pk_buf_release(&b);
	buf_start(&b);
	cr_expect_eq(pk_raw_unicode_decode(a->p, a->n, &b, &e), 0, "line %d",
		     l->no);
	expect_out(&b, s->p, s->n, l, "decoded");
	pk_buf_release(&b);
}

static void check_ruedecode(const struct line *l)
{
	const struct span *a = hexf(l, 1);
	pk_buf b;
	pk_err e = {0};
	int rc;

	buf_start(&b);
	rc = pk_raw_unicode_decode(a->p, a->n, &b, &e);
	if (is(rawf(l, 2), "!")) {
		cr_expect_eq(rc, PK_E_ARG, "line %d: accepted", l->no);
		cr_expect(e.offset <= a->n);
		expect_out(&b, "", 0, l, "output after an error");
	} else {
		cr_expect_eq(rc, 0, "line %d: rejected", l->no);
		expect_out(&b, hexf(l, 2)->p, hexf(l, 2)->n, l, "decoded");
	}
	pk_buf_release(&b);
}

static void check_bytes(const struct line *l)
{
	const struct span *d = hexf(l, 1), *r = rawf(l, 2);
	pk_buf b;

	buf_start(&b);
	cr_expect_eq(pk_repr_bytes(d->p, d->n, &b), 0);
	expect_out(&b, r->p, r->n, l, "repr");
	pk_buf_release(&b);
}

static void check_string(const struct line *l)
{
	const struct span *d = hexf(l, 1), *lit = rawf(l, 2);
	pk_buf b;
	pk_err e = {0};

	buf_start(&b);
	cr_expect_eq(pk_string_literal_encode(d->p, d->n, &b), 0);
	expect_out(&b, lit->p, lit->n, l, "literal");
	pk_buf_release(&b);
	buf_start(&b);
	cr_expect_eq(pk_string_literal_decode(lit->p, lit->n, &b, &e), 0,
		     "line %d", l->no);
	expect_out(&b, d->p, d->n, l, "decoded");
	pk_buf_release(&b);
}

static void check_stringdecode(const struct line *l)
{
	const struct span *a = hexf(l, 1);
	pk_buf b;
	pk_err e = {0};
	int rc;

	buf_start(&b);
	rc = pk_string_literal_decode(a->p, a->n, &b, &e);
	if (is(rawf(l, 2), "!")) {
		cr_expect_eq(rc, PK_E_ARG, "line %d: accepted", l->no);
		cr_expect(e.offset <= a->n);
		expect_out(&b, "", 0, l, "output after an error");
	} else {
		cr_expect_eq(rc, 0, "line %d: rejected (%s)", l->no,
			     e.msg ? e.msg : "");
		expect_out(&b, hexf(l, 2)->p, hexf(l, 2)->n, l, "decoded");
	}
	pk_buf_release(&b);
}

static void check_utf8(const struct line *l)
{
	const struct span *d = hexf(l, 1);

	cr_expect_eq(pk_utf8_valid(d->p, d->n, 0), is(rawf(l, 2), "1"),
		     "line %d: strict", l->no);
	cr_expect_eq(pk_utf8_valid(d->p, d->n, 1), is(rawf(l, 3), "1"),
		     "line %d: surrogatepass", l->no);
}

static void check_bool(const struct line *l)
{
	const struct span *t = hexf(l, 1);
	int v = 7;
	pk_err e = {0};
	int rc = pk_bool_parse((char *)t->p, t->n, &v, &e);

	if (is(rawf(l, 2), "!")) {
		cr_expect_eq(rc, PK_E_VALUE, "line %d: accepted", l->no);
	} else {
		cr_expect_eq(rc, 0, "line %d: rejected", l->no);
		cr_expect_eq(v, is(rawf(l, 2), "1"), "line %d", l->no);
	}
}

static void check_none(const struct line *l)
{
	const struct span *t = hexf(l, 1);
	pk_err e = {0};

	cr_expect_eq(pk_none_parse((char *)t->p, t->n, &e),
		     is(rawf(l, 2), "!") ? PK_E_VALUE : 0, "line %d", l->no);
}

/* Runs check on every vector line of the given kind; returns how many. */
static int run_vectors(const char *kind, void (*check)(const struct line *))
{
	FILE *f = fopen(VECTORS, "r");
	char *text = NULL;
	size_t cap = 0, kl = strlen(kind);
	ssize_t n;
	int no = 0, count = 0;

	cr_assert(f, "cannot open %s (tests run from the repo root)", VECTORS);
	while ((n = getline(&text, &cap, f)) > 0) {
		struct line l;

		no++;
		if (text[n - 1] == '\n')
			text[--n] = '\0';
		if (strncmp(text, kind, kl) != 0 || text[kl] != '\t')
			continue;
		split_line(&l, text, no);
		check(&l);
		free_line(&l);
		count++;
	}
	free(text);
	fclose(f);
	cr_assert_gt(count, 0, "no '%s' vectors", kind);
	return count;
}

#define VECTOR_TEST(kind)                                                      \
	Test(text_vectors, kind##_lines)                                       \
	{                                                                      \
		run_vectors(#kind, check_##kind);                              \
	}

VECTOR_TEST(int)
VECTOR_TEST(intparse)
VECTOR_TEST(float)
VECTOR_TEST(floatparse)
VECTOR_TEST(complex)
VECTOR_TEST(complexparse)
VECTOR_TEST(str)
VECTOR_TEST(rue)
VECTOR_TEST(ruedecode)
VECTOR_TEST(bytes)
VECTOR_TEST(string)
VECTOR_TEST(stringdecode)
VECTOR_TEST(utf8)
VECTOR_TEST(bool)
VECTOR_TEST(none)

/* --- random round trips ------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: fixed seed, so a failure reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* No decimal with fewer significant digits than repr reads back as v:
 * the few shorter candidates around repr's value all miss. Independent of
 * how text.c searches. */
static int shorter_exists(double v, const char *repr)
{
	unsigned long long m = 0, d;
	int nfrac = 0, seen_dot = 0, scale, k;
	const char *p = repr;
	char cand[48];

	if (*p == '-')
		p++;
	for (; *p && *p != 'e'; p++) {
		if (*p == '.') {
			seen_dot = 1;
			continue;
		}
		m = m * 10 + (unsigned)(*p - '0');
		nfrac += seen_dot;
	}
	scale = (*p == 'e' ? atoi(p + 1) : 0) - nfrac;
	if (m == 0)
		return 0;
	while (m % 10 == 0) {
		m /= 10;
		scale++;
	}
	if (m < 10)
		return 0;
	d = m / 10;
	for (k = -1; k <= 2; k++) {
		if (k < 0 && d == 0)
			continue;
		snprintf(cand, sizeof(cand), "%llue%d",
			 d + (unsigned long long)k, scale + 1);
		if (strtod(cand, NULL) == fabs(v))
			return 1;
	}
	return 0;
}

Test(text_roundtrip, float_million)
{
	pk_buf b = PK_BUF_INIT;
	pk_err e = {0};
	long i, fails = 0;

	for (i = 0; i < 1000000 && fails < 10; i++) {
		uint64_t bits = rnd();
		double v, back = 0;
		int ok;

		/* Half raw bit patterns, half short decimals like 0.37 or
		 * 1.5e-7, which raw bits almost never give. */
		if (i % 2) {
			memcpy(&v, &bits, sizeof(v));
		} else {
			char t[40];

			snprintf(t, sizeof(t), "%llue%d",
				 (unsigned long long)(bits >> 40) %
				     (1ull << (bits % 24 + 1)),
				 (int)((bits >> 8) % 60) - 30);
			v = strtod(t, NULL);
		}
		pk_buf_reset(&b);
		cr_assert_eq(pk_float_repr(v, &b), 0);
		ok = pk_float_parse((char *)b.data, b.len, &back, &e) == 0 &&
		     (bits_of(back) == bits_of(v) || (isnan(v) && isnan(back)));
		if (ok && isfinite(v) && i % 10 < 2)
			ok = !shorter_exists(v, (char *)b.data);
		if (!ok) {
			cr_expect(0, "%a -> %s -> %a", v, b.data, back);
			fails++;
		}
	}
	pk_buf_release(&b);
}

Test(text_roundtrip, shorter_check_can_fail)
{
	/* The shortness oracle above must be able to say no. */
	cr_assert(shorter_exists(0.1, "0.10000000000000001"));
	cr_assert(shorter_exists(5e-324, "4.9406564584124654e-324"));
	cr_assert(!shorter_exists(0.1, "0.1"));
	cr_assert(!shorter_exists(5e-324, "5e-324"));
}

/* encode_long's form of bytes[0..n): drop top bytes that only repeat
 * the sign, and 0 is no bytes at all. */
static size_t minimal_le(const uint8_t *b, size_t n)
{
	while (n > 1 && ((b[n - 1] == 0 && !(b[n - 2] & 0x80)) ||
			 (b[n - 1] == 0xff && (b[n - 2] & 0x80))))
		n--;
	if (n == 1 && b[0] == 0)
		n = 0;
	return n;
}

Test(text_roundtrip, random_ints)
{
	pk_buf dec = PK_BUF_INIT, le = PK_BUF_INIT;
	pk_err e = {0};
	uint8_t bytes[300];
	int i;

	for (i = 0; i < 100000; i++) {
		size_t n = i % 100 == 0 ? rnd() % sizeof(bytes) : rnd() % 12;
		size_t k, want;
		uint64_t r = rnd();

		for (k = 0; k < n; k++) {
			if (k % 8 == 0)
				r = rnd();
			bytes[k] = (uint8_t)(r >> (8 * (k % 8)));
		}
		/* Runs of 00 / ff at the top make non-minimal inputs. */
		if (n > 1 && rnd() % 3 == 0)
			bytes[n - 1] = rnd() % 2 ? 0xff : 0;
		pk_buf_reset(&dec);
		pk_buf_reset(&le);
		cr_assert_eq(pk_int_le_to_decimal(bytes, n, &dec), 0);
		cr_assert_eq(
		    pk_int_parse_le((char *)dec.data, dec.len, &le, &e), 0,
		    "%s", dec.data);
		want = minimal_le(bytes, n);
		cr_assert(le.len == want && memcmp(le.data, bytes, want) == 0,
			  "%zu bytes -> %s -> %zu bytes", n, dec.data, le.len);
		if (n <= 8) {
			struct span s = {bytes, n};
			char ref[32];
			int64_t v = 0;

			/* printf is an independent oracle for these. */
			snprintf(ref, sizeof(ref), "%lld",
				 (long long)le_to_i64(&s));
			cr_assert_str_eq((char *)dec.data, ref);
			cr_assert_eq(
			    pk_int_parse_i64((char *)dec.data, dec.len, &v, &e),
			    0);
			cr_assert_eq(v, le_to_i64(&s));
		}
	}
	pk_buf_release(&dec);
	pk_buf_release(&le);
}

Test(text_roundtrip, big_int)
{
	/* 10**20000 and -(10**20000) - 7 survive decimal -> LE -> decimal. */
	size_t n = 20001, i;
	char *t = malloc(n + 1);
	pk_buf le = PK_BUF_INIT, dec = PK_BUF_INIT;
	pk_err e = {0};

	cr_assert(t);
	t[0] = '1';
	memset(t + 1, '0', n - 1);
	cr_assert_eq(pk_int_parse_le(t, n, &le, &e), 0);
	/* 10**20000 < 2**66439, so 8305 bytes with the sign bit clear. */
	cr_assert_eq(le.len, 8305);
	cr_assert_eq(pk_int_le_to_decimal(le.data, le.len, &dec), 0);
	cr_assert(dec.len == n && memcmp(dec.data, t, n) == 0);

	t[0] = '-';
	for (i = 1; i < n; i++)
		t[i] = (char)('0' + i % 10);
	pk_buf_reset(&le);
	pk_buf_reset(&dec);
	cr_assert_eq(pk_int_parse_le(t, n, &le, &e), 0);
	cr_assert_eq(pk_int_le_to_decimal(le.data, le.len, &dec), 0);
	cr_assert(dec.len == n && memcmp(dec.data, t, n) == 0);
	free(t);
	pk_buf_release(&le);
	pk_buf_release(&dec);
}

/* --- specific behaviour ------------------------------------------------ */

static void expect_float_repr(double v, const char *want)
{
	pk_buf b = PK_BUF_INIT;

	cr_assert_eq(pk_float_repr(v, &b), 0);
	cr_expect_str_eq((char *)b.data, want);
	pk_buf_release(&b);
}

Test(text_float, header_examples)
{
	expect_float_repr(0.1, "0.1");
	expect_float_repr(1e100, "1e+100");
	expect_float_repr(1e-5, "1e-05");
	expect_float_repr(123456789012345.0, "123456789012345.0");
	expect_float_repr(1e16, "1e+16");
	expect_float_repr(1.5e16, "1.5e+16");
	expect_float_repr(9999999999999998.0, "9999999999999998.0");
	expect_float_repr(0.0001, "0.0001");
	expect_float_repr(INFINITY, "inf");
	expect_float_repr(-INFINITY, "-inf");
	expect_float_repr(-NAN, "nan");
	expect_float_repr(-0.0, "-0.0");
	expect_float_repr(5e-324, "5e-324");
	expect_float_repr(1.7976931348623157e308, "1.7976931348623157e+308");
	/* 2**-1017: the nearest 16-digit decimal misses, the next one up
	 * reads back. */
	expect_float_repr(ldexp(1, -1017), "7.120236347223045e-307");
}

static void expect_float_error(const char *t, uint64_t off)
{
	double v = 99;
	pk_err e = {0};

	cr_expect_eq(pk_float_parse(t, strlen(t), &v, &e), PK_E_VALUE, "%s", t);
	cr_expect_eq(e.offset, off, "%s: offset %llu", t,
		     (unsigned long long)e.offset);
	cr_expect_eq(v, 99);
}

Test(text_float, error_offsets)
{
	expect_float_error("1.2.3", 3);
	expect_float_error("  1x", 3);
	expect_float_error("", 0);
	expect_float_error("   ", 3);
	expect_float_error("1__0", 2);
	expect_float_error("_1", 0);
	/* Offsets count bytes of the caller's text, not code points. */
	expect_float_error("\xd9\xa1\xd9\xa2x", 4);
	expect_float_error("\xd9\xa1_\xd9\xa2_x", 6);
}

Test(text_float, not_nul_terminated)
{
	double v = 0;
	pk_err e = {0};

	/* Only the first 3 bytes are the text. */
	cr_assert_eq(pk_float_parse("1.5e7", 3, &v, &e), 0);
	cr_assert_eq(v, 1.5);
	cr_assert_eq(pk_float_parse("infinity", 3, &v, &e), 0);
	cr_assert(isinf(v));
	cr_assert_eq(pk_float_parse("1e5", 2, &v, &e), PK_E_VALUE);
}

Test(text_int, i64_limits)
{
	int64_t v = 0;
	pk_err e = {0};

	cr_assert_eq(pk_int_parse_i64("-9223372036854775808", 20, &v, &e), 0);
	cr_assert_eq(v, INT64_MIN);
	cr_assert_eq(
	    pk_int_parse_i64(" 9_223_372_036_854_775_807\n", 27, &v, &e), 0);
	cr_assert_eq(v, INT64_MAX);
	cr_assert_eq(pk_int_parse_i64("9223372036854775808", 19, &v, &e),
		     PK_E_UNSUPPORTED);
	cr_assert_eq(pk_int_parse_i64("99999999999999999999x", 21, &v, &e),
		     PK_E_VALUE);
	cr_assert_eq(e.offset, 20);
	cr_assert_eq(pk_int_parse_i64("12", 1, &v, &e), 0);
	cr_assert_eq(v, 1);
}

Test(text_int, le_examples)
{
	static const struct {
		const char *text;
		const char *le;
		size_t n;
	} cases[] = {
	    {"0", "", 0},
	    {"255", "\xff\x00", 2},
	    {"-1", "\xff", 1},
	    {"-128", "\x80", 1},
	    {"-129", "\x7f\xff", 2},
	    {"-256", "\x00\xff", 2},
	    {"127", "\x7f", 1},
	    {"32768", "\x00\x80\x00", 3},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pk_buf b = PK_BUF_INIT;
		pk_err e = {0};

		cr_assert_eq(pk_int_parse_le(cases[i].text,
					     strlen(cases[i].text), &b, &e),
			     0);
		cr_expect(b.len == cases[i].n &&
			      memcmp(b.data, cases[i].le, b.len) == 0,
			  "%s", cases[i].text);
		pk_buf_release(&b);
	}
}

Test(text_string, errors)
{
	pk_buf b = PK_BUF_INIT;
	pk_err e = {0};

	cr_assert_eq(
	    pk_string_literal_decode((const uint8_t *)"'abc\"", 5, &b, &e),
	    PK_E_ARG);
	cr_assert_eq(
	    pk_string_literal_decode((const uint8_t *)"'a\\x4g'", 7, &b, &e),
	    PK_E_ARG);
	cr_assert_eq(e.offset, 2);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(
	    pk_string_literal_decode((const uint8_t *)"'ab\\'", 5, &b, &e),
	    PK_E_ARG);
	cr_assert_eq(e.offset, 3); /* the trailing backslash */
	cr_assert_eq(b.len, 0);
	cr_assert_eq(
	    pk_string_literal_decode((const uint8_t *)"'\\777\\q'", 8, &b, &e),
	    0);
	cr_assert(b.len == 3 && memcmp(b.data, "\xff\\q", 3) == 0);
	pk_buf_release(&b);
}

Test(text_str, invalid_utf8_is_shown_escaped)
{
	pk_buf b = PK_BUF_INIT;

	/* Not UTF-8 at all: each bad byte shows as its surrogateescape. */
	cr_assert_eq(pk_repr_str((const uint8_t *)"a\xff\xe2\x82", 4, &b), 0);
	cr_assert_str_eq((char *)b.data, "'a\\udcff\\udce2\\udc82'");
	pk_buf_release(&b);
}

Test(text_unicode, table)
{
	cr_assert(pk_unicode_isprintable('a'));
	cr_assert(!pk_unicode_isprintable(0x7f));
	cr_assert(!pk_unicode_isprintable(0xd800));
	cr_assert(!pk_unicode_isprintable(0x378));
	cr_assert(pk_unicode_isprintable(0x1f600));
	cr_assert(!pk_unicode_isprintable(0x10ffff));
	cr_assert(pk_unicode_isspace(0x3000));
	cr_assert(!pk_unicode_isspace(' '));
	cr_assert_eq(pk_unicode_decimal(0x663), 3);
	cr_assert_eq(pk_unicode_decimal('3'), -1);
	cr_assert_eq(pk_unicode_decimal(0xb2), -1);
}
