/*
 * float_ref.c - the former repr(float) of codec/text_float.c, kept as
 * the oracle of its unit tests (test_text.c) and of scripts/bench-float.c:
 * glibc's correctly rounded "%.16e", then shorter roundings of it checked
 * by reading them back with strtod. Slow (300-500 ns a value) and
 * independent of the Schubfach digits that replaced it.
 */
#include "float_ref.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 10**0 .. 10**22, all exact doubles. */
static const double pow10_exact[] = {
    1e0,  1e1,	1e2,  1e3,  1e4,  1e5,	1e6,  1e7,  1e8,  1e9,	1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* 1 if the decimal DIG * 10**scale (nd digits) reads back as v. */
static int digits_check(double v, const char *dig, int nd, int scale)
{
	char rt[48];
	uint64_t m = 0;
	int i;

	for (i = 0; i < nd; i++)
		m = m * 10 + (uint64_t)(dig[i] - '0');
	/* Clinger's fast path: m and 10**|scale| are exact doubles, so one
	 * IEEE operation rounds the product or quotient correctly, as
	 * strtod would. */
	if (m <= (1ull << 53) && scale >= -22 && scale <= 22)
		return (scale >= 0 ? (double)m * pow10_exact[scale]
				   : (double)m / pow10_exact[-scale]) == v;
	/* No decimal point in the string, so no locale can change how strtod
	 * reads it. */
	snprintf(rt, sizeof(rt), "%.*se%d", nd, dig, scale);
	return strtod(rt, NULL) == v;
}

/* Rounds the 17 correctly rounded digits d17 to the first p into dig and
 * returns 1, or returns 0 when the dropped digits are exactly 5000...:
 * then only the exact value (which %.*e sees) knows the way. Rounding
 * twice is otherwise exact: a p-digit halfway point is itself a 17-digit
 * decimal, so it cannot lie strictly between v and its nearest one. */
static int digits_round(const char *d17, int decpt17, int p, char *dig,
			int *decpt)
{
	int i, up;

	up = d17[p] > '5';
	if (d17[p] == '5') {
		for (i = p + 1; i < 17 && d17[i] == '0'; i++)
			;
		if (i == 17)
			return 0;
		up = 1;
	}
	memcpy(dig, d17, (size_t)p);
	dig[p] = '\0';
	*decpt = decpt17;
	if (up) {
		for (i = p - 1; i >= 0 && dig[i] == '9'; i--)
			dig[i] = '0';
		if (i >= 0) {
			dig[i]++;
		} else {
			dig[0] = '1';
			(*decpt)++;
		}
	}
	return 1;
}

/* The p significant digits of v > 0 correctly rounded (from d17 when
 * that is exact, else from glibc's %.*e), with Python's decpt (v is
 * about 0.DIG * 10**decpt). Returns 1 if they read back as v. */
static int digits_try(double v, const char *d17, int decpt17, int p, char *dig,
		      int *decpt)
{
	if (p == 17) {
		/* 17 digits always read back. */
		memcpy(dig, d17, 18);
		*decpt = decpt17;
		return 1;
	}
	if (!digits_round(d17, decpt17, p, dig, decpt)) {
		char tmp[48];
		const char *c;
		int n = 0;

		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		/* Skips whatever the locale's decimal point is. */
		for (c = tmp; *c && *c != 'e'; c++)
			if (*c >= '0' && *c <= '9')
				dig[n++] = *c;
		dig[n] = '\0';
		*decpt = atoi(c + 1) + 1;
	}
	return digits_check(v, dig, p, *decpt - p);
}

/* The next decimal of the same length above 0.DIG * 10**decpt. */
static void digits_step_up(char *dig, int *decpt)
{
	int i = (int)strlen(dig);

	while (i-- > 0) {
		if (dig[i] != '9') {
			dig[i]++;
			return;
		}
		dig[i] = '0';
	}
	dig[0] = '1';
	(*decpt)++;
}

/* Shortest digits that read back as v > 0 (finite), the nearest to v
 * among equally short ones, as CPython's dtoa mode 0 picks them; trailing
 * zeros dropped. dig needs 18 bytes. */
static void shortest_digits(double v, char *dig, int *decpt)
{
	char d17[48];
	int p, n = 0, decpt17;
	const char *c;

	if (v < 9007199254740992.0 && v == floor(v)) {
		/* Below 2**53 an integer's own digits are the shortest: any
		 * shorter decimal is another integer, a whole ulp away. */
		uint64_t m = (uint64_t)v;
		char rev[20];

		while (m) {
			rev[n++] = (char)('0' + m % 10);
			m /= 10;
		}
		for (p = 0; p < n; p++)
			dig[p] = rev[n - 1 - p];
		dig[n] = '\0';
		*decpt = n;
		goto strip;
	}

	snprintf(d17, sizeof(d17), "%.16e", v);
	for (c = d17; *c && *c != 'e'; c++)
		if (*c >= '0' && *c <= '9')
			d17[n++] = *c;
	decpt17 = atoi(c + 1) + 1;
	d17[n] = '\0';

	if (v < DBL_MIN) {
		/* Subnormals have fewer significant bits, so the 15-digit
		 * shortcut below does not hold: search up from one digit. */
		for (p = 1; p <= 17; p++)
			if (digits_try(v, d17, decpt17, p, dig, decpt))
				break;
	} else if (!digits_try(v, d17, decpt17, 15, dig, decpt) &&
		   !digits_try(v, d17, decpt17, 16, dig, decpt)) {
		/* For a normal double, a decimal of <= 15 digits that reads
		 * back is always the nearest 15-digit one, so 15 failing
		 * means 16 or 17 digits. The nearest 16-digit decimal can
		 * miss while the next one up reads back when v is a power
		 * of two: the gap below v is half the gap above. */
		uint64_t bits;

		memcpy(&bits, &v, sizeof(bits));
		digits_step_up(dig, decpt);
		if ((bits & 0xfffffffffffffull) != 0 ||
		    !digits_check(v, dig, 16, *decpt - 16))
			digits_try(v, d17, decpt17, 17, dig, decpt);
	}
strip:
	n = (int)strlen(dig);
	while (n > 1 && dig[n - 1] == '0')
		dig[--n] = '\0';
}

/* PyOS_double_to_string(v, 'r', 0, flags) of CPython: repr(float) wants
 * add_dot_0 ('1.0'), repr(complex) does not ('1') and wants the sign of
 * the imaginary part always. */
static int format_float(double v, int add_dot_0, int add_sign, pk_buf *out)
{
	char dig[24], b[64];
	int decpt, nd, n = 0, i, x;

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
	if (v == 0) {
		dig[0] = '0';
		dig[1] = '\0';
		decpt = 1;
	} else {
		shortest_digits(fabs(v), dig, &decpt);
	}
	nd = (int)strlen(dig);
	x = decpt - 1;
	if (x < -4 || x >= 16) {
		b[n++] = dig[0];
		if (nd > 1) {
			b[n++] = '.';
			memcpy(b + n, dig + 1, (size_t)nd - 1);
			n += nd - 1;
		}
		n += snprintf(b + n, sizeof(b) - (size_t)n, "e%c%02d",
			      x < 0 ? '-' : '+', x < 0 ? -x : x);
	} else if (decpt <= 0) {
		b[n++] = '0';
		b[n++] = '.';
		for (i = decpt; i < 0; i++)
			b[n++] = '0';
		memcpy(b + n, dig, (size_t)nd);
		n += nd;
	} else if (decpt >= nd) {
		memcpy(b + n, dig, (size_t)nd);
		n += nd;
		for (i = nd; i < decpt; i++)
			b[n++] = '0';
		if (add_dot_0) {
			b[n++] = '.';
			b[n++] = '0';
		}
	} else {
		memcpy(b + n, dig, (size_t)decpt);
		n += decpt;
		b[n++] = '.';
		memcpy(b + n, dig + decpt, (size_t)(nd - decpt));
		n += nd - decpt;
	}
	return pk_buf_add(out, b, (size_t)n);
}

int ref_float_repr(double v, pk_buf *out)
{
	return format_float(v, 1, 0, out);
}
