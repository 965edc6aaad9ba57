/*
 * test_float.c - pk_float_repr's Schubfach digits (codec/text_float.c)
 * against the former snprintf + strtod search (float_ref.c) on about a
 * million doubles, and against CPython's repr on literal cases.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "float_ref.h"
#include "text.h"

static uint64_t state = 0x9e3779b97f4a7c15ull;

/* splitmix64: the same sequence on every run */
static uint64_t rnd(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double of_bits(uint64_t bits)
{
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

static uint64_t bits_of(double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return bits;
}

struct diff {
	pk_buf got, want;
	long checked, fails;
};

/* v's new text equals the former one and reads back as v. */
static void check(struct diff *d, double v)
{
	double back;

	pk_buf_reset(&d->got);
	pk_buf_reset(&d->want);
	cr_assert_eq(pk_float_repr(v, &d->got), 0);
	cr_assert_eq(ref_float_repr(v, &d->want), 0);
	d->checked++;
	back = strtod((char *)d->got.data, NULL);
	if (strcmp((char *)d->got.data, (char *)d->want.data) != 0 ||
	    (bits_of(back) != bits_of(v) && !(isnan(v) && isnan(back)))) {
		if (d->fails++ < 20)
			cr_expect(0, "%a: got %s, the former gives %s", v,
				  (char *)d->got.data, (char *)d->want.data);
	}
}

/* v and its n neighbours on either side, both signs */
static void check_around(struct diff *d, double v, int n)
{
	double up = v, down = v;
	int i;

	check(d, v);
	check(d, -v);
	for (i = 0; i < n; i++) {
		up = nextafter(up, INFINITY);
		down = nextafter(down, -INFINITY);
		check(d, up);
		check(d, down);
	}
}

Test(float_digits, same_as_former_million)
{
	struct diff d = {PK_BUF_INIT, PK_BUF_INIT, 0, 0};
	long i;
	int e;

	/* Random bit patterns: every exponent, sign, nan and inf. */
	for (i = 0; i < 450000; i++)
		check(&d, of_bits(rnd()));
	/* Subnormals, and the smallest normals. */
	for (i = 0; i < 100000; i++) {
		uint64_t r = rnd();

		check(&d, of_bits(r & ((1ull << 52) - 1)));
		if (i % 4 == 0)
			check(&d, of_bits((r & ((1ull << 52) - 1)) |
					  (1ull << 52) << (i / 4 % 2)));
	}
	/* Small mantissas (few bits): the subnormals with few digits. */
	for (i = 1; i < 5000; i++)
		check(&d, of_bits((uint64_t)i));
	/* Integers: below 2**53 they are their own digits, above not. */
	for (i = 0; i < 100000; i++) {
		uint64_t r = rnd();

		check(&d, (double)(r >> (r % 64)));
		check(&d, (double)(r >> 11));
	}
	/* Short decimals, as data usually holds: 0.37, 1.5e-7, 12345e20,
	 * where two shortest candidates may tie. */
	for (i = 0; i < 200000; i++) {
		uint64_t r = rnd();
		char t[40];

		snprintf(t, sizeof(t), "%llue%d",
			 (unsigned long long)(r >> 40) % (1ull << (r % 24 + 1)),
			 (int)((r >> 8) % 660) - 340);
		check(&d, strtod(t, NULL));
	}
	/* Powers of ten and of two and their neighbours. */
	for (e = -330; e <= 310; e++) {
		char t[16];

		snprintf(t, sizeof(t), "1e%d", e);
		check_around(&d, strtod(t, NULL), 3);
	}
	for (e = -1074; e <= 1023; e++)
		check_around(&d, ldexp(1, e), 3);
	/* The edges. */
	check_around(&d, 5e-324, 3);
	check_around(&d, DBL_MIN, 3);
	check_around(&d, DBL_MAX, 3);
	check_around(&d, 9007199254740992.0, 3);
	check_around(&d, 1e16, 3);
	check_around(&d, 1e-4, 3);
	check_around(&d, 0.0, 3);
	check(&d, INFINITY);
	check(&d, -INFINITY);
	check(&d, NAN);
	cr_expect(d.checked > 1000000, "%ld checked", d.checked);
	cr_expect_eq(d.fails, 0, "%ld of %ld differ", d.fails, d.checked);
	pk_buf_release(&d.got);
	pk_buf_release(&d.want);
}

/* CPython 3.11's repr() of each (printed by /usr/bin/python3). */
static const struct {
	double v;
	const char *repr;
} cpython[] = {
    {0x1.999999999999ap-4, "0.1"},
    {0x1.249ad2594c37dp+332, "1e+100"},
    {0x1.4f8b588e368f1p-17, "1e-05"},
    {0x1.8000000000000p+1, "3.0"},
    {-0.0, "-0.0"},
    {0.0, "0.0"},
    {0x1.c12218377de40p+46, "123456789012345.0"},
    {0x1.1c37937e08000p+53, "1e+16"},
    {0x1.aa535d3d0c000p+53, "1.5e+16"},
    {0x1.1c37937e07fffp+53, "9999999999999998.0"},
    {0x0.0000000000001p-1022, "5e-324"},
    {0x0.0000000000002p-1022, "1e-323"},
    {0x0.0000000000003p-1022, "1.5e-323"},
    {0x1.fffffffffffffp+1023, "1.7976931348623157e+308"},
    {0x1.0000000000000p-1022, "2.2250738585072014e-308"},
    {0x0.fffffffffffffp-1022, "2.225073858507201e-308"},
    {0x1.0000000000000p+53, "9007199254740992.0"},
    {0x1.0000000000001p+53, "9007199254740994.0"},
    {0x1.0000000000000p+63, "9.223372036854776e+18"},
    {0x1.0000000000000p+64, "1.8446744073709552e+19"},
    {0x1.0000000000000p+1023, "8.98846567431158e+307"},
    {0x1.0f0cf064dd592p+73, "1e+22"},
    {0x1.52d02c7e14af6p+76, "1e+23"},
    {0x1.1ccf385ebc8a0p+1023, "1e+308"},
    {0x1.3333333333333p-2, "0.3"},
    {0x1.5555555555555p-1, "0.6666666666666666"},
    {-0x1.ad7f29abcaf48p-24, "-1e-07"},
    {0x1.a36e2eb1c432dp-14, "0.0001"},
    {0x1.02e4b6ce5dc68p-13, "0.00012345"},
    {0x1.18b54f22aeb03p+50, "1234567890123456.8"},
    {0x1.5ee2a2eb5a5c4p+53, "1.2345678901234568e+16"},
    {0x1.1666666666666p+2, "4.35"},
    {0x1.c6bf526340000p+49, "1000000000000000.0"},
    {0x1.6345785d8a000p+56, "1e+17"},
    {0x1.b1ae4d6e2ef50p+69, "1e+21"},
    {0x1.0000000000000p-1, "0.5"},
    {0x1.9000000000000p+6, "100.0"},
    {0x1.921fb54442d18p+1, "3.141592653589793"},
    {INFINITY, "inf"},
    {-INFINITY, "-inf"},
    {NAN, "nan"},
};

Test(float_digits, cpython_repr)
{
	pk_buf b = PK_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cpython) / sizeof(cpython[0]); i++) {
		pk_buf_reset(&b);
		cr_assert_eq(pk_float_repr(cpython[i].v, &b), 0);
		cr_expect_str_eq((char *)b.data, cpython[i].repr, "%a",
				 cpython[i].v);
	}
	pk_buf_release(&b);
}

Test(float_digits, complex_repr)
{
	static const struct {
		double re, im;
		const char *repr;
	} c[] = {
	    {1, 2, "(1+2j)"},
	    {0, -0.0, "-0j"},
	    {-0.0, 1e16, "(-0+1e+16j)"},
	    {1.5, NAN, "(1.5+nanj)"},
	    {0, 1e-5, "1e-05j"},
	};
	pk_buf b = PK_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pk_buf_reset(&b);
		cr_assert_eq(pk_complex_repr(c[i].re, c[i].im, &b), 0);
		cr_expect_str_eq((char *)b.data, c[i].repr);
	}
	pk_buf_release(&b);
}

/* ---- float32 (pk_float32_repr, an array's values.txt) ---------------- */

/* The former float32 text: the first p digits of x, p from 1 up, that
 * read back as x, then laid out as repr lays out a double. */
static void f32_former(float x, char *out, size_t cap)
{
	char buf[40];
	pk_buf b = PK_BUF_INIT;
	int p;
	double d = x;

	if (isfinite(x) && x != 0)
		for (p = 1; p <= 9; p++) {
			snprintf(buf, sizeof(buf), "%.*e", p - 1, (double)x);
			if (strtof(buf, NULL) == x) {
				d = strtod(buf, NULL);
				break;
			}
		}
	cr_assert_eq(pk_float_repr(d, &b), 0);
	snprintf(out, cap, "%.*s", (int)b.len, (const char *)b.data);
	pk_buf_release(&b);
}

/* Significant digits of a repr ("1.25e-05" -> 3). */
static int sig_digits(const char *s)
{
	int n = 0, lead = 1;

	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (*s == '0' && lead)
			continue;
		lead = 0;
		n++;
	}
	return n;
}

static void check32(float x, int *n)
{
	char want[64], got[64];
	pk_buf b = PK_BUF_INIT;
	uint32_t bits;

	cr_assert_eq(pk_float32_repr(x, &b), 0);
	snprintf(got, sizeof(got), "%.*s", (int)b.len, (const char *)b.data);
	pk_buf_release(&b);
	f32_former(x, want, sizeof(want));
	if (isnan(x)) {
		cr_assert_str_eq(got, "nan");
		(*n)++;
		return;
	}
	cr_assert(strtof(got, NULL) == x, "%s does not read back as %a", got,
		  (double)x);
	memcpy(&bits, &x, sizeof(bits));
	if (strcmp(got, want) != 0) {
		/* only at a power of two, whose gap below is half the gap
		 * above: the former search tried the nearest p digits only,
		 * the shortest may be above */
		cr_assert((bits & 0x7fffff) == 0 &&
			      sig_digits(got) < sig_digits(want),
			  "%a: %s, formerly %s", (double)x, got, want);
	}
	(*n)++;
}

Test(float_digits, float32_same_as_former_or_shorter)
{
	static const float lit[] = {
	    0.1f,    1.0f / 3,	   3e38f,	-1e-8f,	     FLT_MIN,
	    FLT_MAX, FLT_TRUE_MIN, 16777216.0f, 16777217.0f, 0.0f,
	    -0.0f,   1e10f,	   123456.79f};
	int n = 0, i, e;

	for (i = 0; i < (int)(sizeof(lit) / sizeof(lit[0])); i++)
		check32(lit[i], &n);
	check32(INFINITY, &n);
	check32(-INFINITY, &n);
	check32(NAN, &n);
	for (e = -149; e <= 127; e++) { /* powers of two and neighbours */
		float p = ldexpf(1.0f, e);
		check32(p, &n);
		check32(nextafterf(p, 0), &n);
		check32(nextafterf(p, INFINITY), &n);
	}
	for (i = 0; i < 300000; i++) {
		uint32_t bits = (uint32_t)rnd();
		float x;
		memcpy(&x, &bits, sizeof(x));
		check32(x, &n);
	}
	cr_assert_gt(n, 300000);
	/* what numpy 1.24 prints for these float32s (repr of np.float32) */
	{
		pk_buf b = PK_BUF_INIT;
		cr_assert_eq(pk_float32_repr(0.1f, &b), 0);
		cr_assert_eq(pk_float32_repr(1.0f / 3, &b), 0);
		cr_assert_eq(pk_float32_repr(3e38f, &b), 0);
		cr_assert_eq(pk_float32_repr(16777216.0f, &b), 0);
		cr_assert_eq(pk_float32_repr(FLT_TRUE_MIN, &b), 0);
		cr_assert_eq(b.len,
			     strlen("0.10.333333343e+3816777216.01e-45"));
		cr_assert(memcmp(b.data, "0.10.333333343e+3816777216.01e-45",
				 b.len) == 0);
		pk_buf_release(&b);
	}
}
