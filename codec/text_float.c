/*
 * text_float.c - repr() of floats and complex numbers (text.h): Python's
 * shortest digits that read back as the same double, formatted as
 * CPython's PyOS_double_to_string(v, 'r', ...) does.
 *
 * What: schubfach() gives the fewest significant digits whose decimal
 * reads back (round-half-even, as strtod and float() read) as v (as a
 * double, or as a float32 for pk_float32_repr), and of
 * equally short ones the nearest to v, ties to an even last digit: what
 * CPython's dtoa mode 0 picks. format_float lays them out as repr does
 * (exponent form when the exponent is below -4 or above 15).
 *
 * How: Schubfach (Raffaello Giulietti, "The Schubfach way to render
 * doubles", 2020). With v = c * 2**q, the rounding interval of v (the
 * reals that read back as v) is scaled by 10**-k, k = floor(log10(2**q)),
 * which leaves at most one multiple of 10 in it. 10**-k comes from a
 * table of 128-bit upward roundings (text_float_table.h, written by
 * scripts/gen-float-table.py), and each of the three scaled points (the
 * interval's ends and v itself) is one 64x128-bit product rounded to
 * odd, which the paper proves is close enough to decide every comparison
 * below as the exact values would. The candidates are the two multiples
 * of 10 around v (one digit fewer) and the two integers around v; the
 * digits are whichever is inside the interval, or the nearer of both.
 * Integers below 2**53 are their own digits. The table is 128 bits wide
 * where the paper's is 126, as in Alexander Bolz's C++ version of it
 * (Drachennest, schubfach_64.cc), whose layout this follows; its exact
 * entries get an exact product (round_to_odd).
 *
 * Why this one: it is exact for every double with no fallback (Grisu3
 * gives up on about 0.5% of doubles and would need the slow search for
 * them), needs no bignum, one table of 617 entries and no case analysis
 * of trailing zeros as Ryu has, and costs a few multiplications: about
 * 50 ns a random double, digits and layout, where the former
 * snprintf("%.16e") + strtod search took 200-1100 ns (README,
 * Performance). That former search is now the oracle of the unit tests
 * (tests/unit/float_ref.c, test_float.c), which compare the two on
 * about a million doubles.
 */
#include "text.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "text_float_table.h"

/* (g * cp) / 2**127 rounded to odd, g = (hi, lo) one of float_pow10.
 * When g is 10**E rounded up, the low 64 bits of lo * cp are left out of
 * the sticky bit, as the paper does: they hold the rounding error, which
 * would otherwise make an exact product look inexact. When g is exact
 * (0 <= E <= 55) so is the product, and all of it counts. */
static uint64_t round_to_odd(const uint64_t g[2], uint64_t cp, int exact)
{
	unsigned __int128 x = (unsigned __int128)g[1] * cp;
	unsigned __int128 y =
	    (unsigned __int128)g[0] * cp + (uint64_t)(x >> 64);
	uint64_t hi = (uint64_t)(y >> 64), lo = (uint64_t)y;

	return (hi << 1) | (lo >> 63) | (lo != 0) | (exact && (uint64_t)x != 0);
}

/* floor(x / 2**n) for the negative x here too (an arithmetic shift). */
static int32_t floor_shift(int32_t x, int n)
{
	return x >= 0 ? x >> n : -(int32_t)((uint32_t)(-(x + 1)) >> n) - 1;
}

/* v = c * 2**q > 0 of a binary format with sig significand bits (53
 * for double, 24 for float; the table's 128 bits are more than either
 * needs) as digits * 10**exp10 with the fewest digits (see the header
 * comment); digits may end in zeros. closer: v is a power of two above
 * the smallest normal, whose gap below is half the gap above. */
static uint64_t schubfach_cq(uint64_t c, int q, int sig, int closer, int *exp10)
{
	uint64_t cbl, cb, cbr, lower, upper, vbl, vb, vbr, s;
	int k, h, even, exact;
	const uint64_t *g;

	if (q <= 0 && q > -sig && (c & ((1ull << -q) - 1)) == 0) {
		/* An integer below 2**sig: its own digits are the shortest,
		 * any shorter decimal being another integer a whole ulp
		 * away. */
		*exp10 = 0;
		return c >> -q;
	}
	even = !(c & 1);
	cbl = 4 * c - 2 + (uint64_t)closer;
	cb = 4 * c;
	cbr = 4 * c + 2;
	/* k = floor(log10(2**q)), or of 3/4 2**q at a power of two. */
	k = floor_shift(q * 1262611 - (closer ? 524031 : 0), 22);
	/* h = q + floor(log2(10**-k)), 0 to 3 */
	h = q + floor_shift(-k * 1741647, 19);
	g = float_pow10[-k - FLOAT_POW10_MIN];
	exact = -k >= 0 && -k <= FLOAT_POW10_EXACT_MAX;
	vbl = round_to_odd(g, cbl << h, exact);
	vb = round_to_odd(g, cb << h, exact);
	vbr = round_to_odd(g, cbr << h, exact);
	lower = vbl + !even;
	upper = vbr - !even;

	s = vb / 4;
	if (s >= 10) {
		/* One digit fewer: at most one multiple of 10 is inside. */
		uint64_t sp = s / 10;
		int up_in = lower <= 40 * sp, wp_in = 40 * sp + 40 <= upper;

		if (up_in != wp_in) {
			*exp10 = k + 1;
			return sp + (uint64_t)wp_in;
		}
	}
	{
		int u_in = lower <= 4 * s, w_in = 4 * s + 4 <= upper;

		*exp10 = k;
		if (u_in != w_in)
			return s + (uint64_t)w_in;
		/* Both inside: the nearer, a tie to the even one. */
		return s + (vb > 4 * s + 2 || (vb == 4 * s + 2 && (s & 1)));
	}
}

/* A double or (f32) a float v > 0, finite: schubfach_cq of its parts. */
static uint64_t schubfach(double v, int f32, int *exp10)
{
	int mbits = f32 ? 23 : 52, bias = f32 ? 150 : 1075, exp2;
	uint64_t mant, c;

	if (f32) {
		float f = (float)v;
		uint32_t b;
		memcpy(&b, &f, sizeof(b));
		mant = b & ((1u << 23) - 1);
		exp2 = (int)(b >> 23) & 0xff;
	} else {
		uint64_t b;
		memcpy(&b, &v, sizeof(b));
		mant = b & ((1ull << 52) - 1);
		exp2 = (int)(b >> 52) & 0x7ff;
	}
	c = exp2 ? mant | 1ull << mbits : mant;
	return schubfach_cq(c, exp2 ? exp2 - bias : 1 - bias, mbits + 1,
			    mant == 0 && exp2 > 1, exp10);
}

/* "00" "01" ... "99": two digits a division. */
static const char digit_pairs[201] = "0001020304050607080910111213141516171819"
				     "2021222324252627282930313233343536373839"
				     "4041424344454647484950515253545556575859"
				     "6061626364656667686970717273747576777879"
				     "8081828384858687888990919293949596979899";

static const uint64_t pow10_u64[] = {
    1ull,
    10ull,
    100ull,
    1000ull,
    10000ull,
    100000ull,
    1000000ull,
    10000000ull,
    100000000ull,
    1000000000ull,
    10000000000ull,
    100000000000ull,
    1000000000000ull,
    10000000000000ull,
    100000000000000ull,
    1000000000000000ull,
    10000000000000000ull,
    100000000000000000ull,
    1000000000000000000ull,
    10000000000000000000ull,
};

/* The number of decimal digits of m > 0, without a loop to
 * mispredict: log10(2) ~ 1233 / 4096 of its bit length, then one
 * correction. */
static int digit_count(uint64_t m)
{
	int n = (64 - __builtin_clzll(m)) * 1233 >> 12;

	return n + (m >= pow10_u64[n]);
}

/* The nd decimal digits of m at dig, two at a time. */
static void write_digits(uint64_t m, int nd, char *dig)
{
	char *p = dig + nd;
	uint32_t m32;

	if (m >> 32) {
		/* the low 8 digits in 32-bit arithmetic, then the rest */
		uint64_t hi = m / 100000000;
		uint32_t lo = (uint32_t)(m - hi * 100000000), i;

		for (i = 0; i < 4; i++) {
			p -= 2;
			memcpy(p, digit_pairs + 2 * (lo % 100), 2);
			lo /= 100;
		}
		m = hi;
	}
	m32 = (uint32_t)m;
	while (m32 >= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (m32 % 100), 2);
		m32 /= 100;
	}
	if (m32 >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * m32, 2);
	} else {
		*--p = (char)('0' + m32);
	}
}

/* PyOS_double_to_string(v, 'r', 0, flags) of CPython: repr(float) wants
 * add_dot_0 ('1.0'), repr(complex) does not ('1') and wants the sign of
 * the imaginary part always. The digits are written where they go. */
static int format_float(double v, int f32, int add_dot_0, int add_sign,
			pk_buf *out)
{
	char b[64];
	int decpt, nd, n = 0, i, x, e = 0;
	uint64_t m = 0;

	if (isnan(v))
		/* CPython ignores the sign of a nan. */
		return pk_buf_adds(out, add_sign ? "+nan" : "nan");
	if (signbit(v))
		b[n++] = '-';
	else if (add_sign)
		b[n++] = '+';
	if (isinf(v)) {
		memcpy(b + n, "inf", 3);
		return pk_buf_add(out, b, (size_t)n + 3);
	}
	if (v != 0) {
		/* shortest, trailing zeros dropped: v = m * 10**e */
		m = schubfach(fabs(v), f32, &e);
		/* (0.037 comes as 3700000000000000e-17: halving steps, not
		 * 14 divisions in a row) */
		while (m % 100000000 == 0) {
			m /= 100000000;
			e += 8;
		}
		if (m % 10000 == 0) {
			m /= 10000;
			e += 4;
		}
		if (m % 100 == 0) {
			m /= 100;
			e += 2;
		}
		if (m % 10 == 0) {
			m /= 10;
			e++;
		}
	}
	nd = m ? digit_count(m) : 1;
	/* Python's decpt: v is about 0.DIGITS * 10**decpt */
	decpt = nd + e;
	x = decpt - 1;
	if (x < -4 || x >= 16) {
		/* d.igitse+XX: the first digit moves left over the point */
		write_digits(m, nd, b + n + 1);
		b[n] = b[n + 1];
		if (nd > 1) {
			b[n + 1] = '.';
			n += nd + 1;
		} else {
			n++;
		}
		/* the exponent's sign always, two digits at least (< 400) */
		b[n++] = 'e';
		b[n++] = x < 0 ? '-' : '+';
		if (x < 0)
			x = -x;
		if (x >= 100)
			b[n++] = (char)('0' + x / 100);
		b[n++] = (char)('0' + x / 10 % 10);
		b[n++] = (char)('0' + x % 10);
	} else if (decpt <= 0) {
		b[n++] = '0';
		b[n++] = '.';
		for (i = decpt; i < 0; i++)
			b[n++] = '0';
		write_digits(m, nd, b + n);
		n += nd;
	} else if (decpt >= nd) {
		write_digits(m, nd, b + n);
		n += nd;
		for (i = nd; i < decpt; i++)
			b[n++] = '0';
		if (add_dot_0) {
			b[n++] = '.';
			b[n++] = '0';
		}
	} else {
		/* dig.its: the integer digits move left over the point */
		write_digits(m, nd, b + n + 1);
		memmove(b + n, b + n + 1, (size_t)decpt);
		b[n + decpt] = '.';
		n += nd + 1;
	}
	return pk_buf_add(out, b, (size_t)n);
}

int pk_float_repr(double v, pk_buf *out)
{
	return format_float(v, 0, 1, 0, out);
}

int pk_float32_repr(float v, pk_buf *out)
{
	return format_float(v, 1, 1, 0, out);
}

int pk_complex_repr(double re, double im, pk_buf *out)
{
	/* A +0.0 real part is left out, a -0.0 one is not. */
	if (re == 0 && !signbit(re)) {
		if (format_float(im, 0, 0, 0, out) < 0 ||
		    pk_buf_addc(out, 'j') < 0)
			return -1;
		return 0;
	}
	if (pk_buf_addc(out, '(') < 0 || format_float(re, 0, 0, 0, out) < 0 ||
	    format_float(im, 0, 0, 1, out) < 0 || pk_buf_add(out, "j)", 2) < 0)
		return -1;
	return 0;
}
