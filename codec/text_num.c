/*
 * text_num.c - numbers, bool and None read from text, and ints written
 * as text (text.h): ints of any size both ways, float() and complex()'s
 * grammars, True / False / None. Float and complex reprs are in
 * text_float.c, str and bytes in text.c.
 */
#include "text.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode_table.h"

/* --- number text ---------------------------------------------------------
 *
 * CPython parses numbers in two steps, and so do we: first the text becomes
 * ASCII, one char per code point (non-ASCII space -> ' ', non-ASCII decimal
 * digit -> its ASCII digit, anything else -> a char no grammar accepts),
 * and for float/complex the underscores are checked and dropped; then an
 * ASCII grammar runs. `pos` maps each view char back to the byte offset in
 * the caller's text so errors point at what the user typed.
 */

struct numtext {
	const char *s;
	size_t n;
	char *own;
	size_t *pos; /* NULL: view offset == text offset */
	size_t len;  /* length of the caller's text */
};

static uint64_t nt_off(const struct numtext *nt, size_t i)
{
	if (!nt->pos)
		return i;
	return i < nt->n ? nt->pos[i] : nt->len;
}

static void nt_release(struct numtext *nt)
{
	free(nt->own);
	free(nt->pos);
	nt->own = NULL;
	nt->pos = NULL;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Py_ISSPACE: Python's number parsers skip exactly these ASCII chars. */
static int is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* [*a, *b): the text without the white space around it. */
static void nt_trim(const struct numtext *nt, size_t *a, size_t *b)
{
	*a = 0;
	*b = nt->n;
	while (*a < *b && is_space(nt->s[*a]))
		(*a)++;
	while (*b > *a && is_space(nt->s[*b - 1]))
		(*b)--;
}

static int nt_init(struct numtext *nt, const char *text, size_t len,
		   int drop_underscores, pk_err *e)
{
	const uint8_t *t = (const uint8_t *)text;
	int plain = 1;
	size_t i, j, k;
	char prev;

	nt->s = text;
	nt->n = len;
	nt->own = NULL;
	nt->pos = NULL;
	nt->len = len;
	for (i = 0; i < len && plain; i++)
		if (t[i] >= 0x80 || (drop_underscores && t[i] == '_'))
			plain = 0;
	if (plain)
		return 0;

	nt->own = malloc(len + 1);
	nt->pos = malloc((len + 1) * sizeof(*nt->pos));
	if (!nt->own || !nt->pos) {
		nt_release(nt);
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	}
	for (i = 0, j = 0; i < len; j++) {
		uint32_t cp;
		int d;

		nt->pos[j] = i;
		if (t[i] < 0x80) {
			nt->own[j] = (char)t[i++];
			continue;
		}
		if (pk_utf8_next(t, len, &i, &cp, 0) < 0)
			nt->own[j] = '?';
		else if (pk_unicode_isspace(cp))
			nt->own[j] = ' ';
		else if ((d = pk_unicode_decimal(cp)) >= 0)
			nt->own[j] = (char)('0' + d);
		else
			nt->own[j] = '?';
	}
	nt->s = nt->own;
	nt->n = j;
	if (!drop_underscores)
		return 0;

	/* _Py_string_to_number_with_underscores: an underscore must follow
	 * a digit and be followed by one, anywhere in the text. */
	prev = '\0';
	for (i = 0, k = 0; i < nt->n; i++) {
		char c = nt->own[i];

		if (c == '_') {
			if (!is_digit(prev))
				goto bad_underscore;
		} else {
			if (prev == '_' && !is_digit(c))
				goto bad_underscore;
			nt->pos[k] = nt->pos[i];
			nt->own[k++] = c;
		}
		prev = c;
	}
	if (prev == '_')
		goto bad_underscore;
	nt->n = k;
	return 0;
bad_underscore:
	/* In-place compaction writes pos[] only below i, so pos[i] (or the
	 * trailing underscore's pos[n - 1]) is still the caller's offset. */
	k = nt->pos[i < nt->n ? i : nt->n - 1];
	nt_release(nt);
	return pk_err_set(e, PK_E_VALUE, "underscore not between digits", k);
}

/* int() grammar on the view: ws* [+-] digit ('_'? digit)* ws*. On success
 * [*d0, *d1) holds the digits (with their underscores). */
static int int_scan(const struct numtext *nt, size_t *d0, size_t *d1, int *neg,
		    pk_err *e)
{
	const char *s = nt->s;
	size_t n = nt->n, i = 0, ndig = 0;
	char prev = '\0';

	while (i < n && is_space(s[i]))
		i++;
	*neg = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		*neg = s[i++] == '-';
	*d0 = i;
	while (i < n && (is_digit(s[i]) || s[i] == '_')) {
		if (s[i] == '_' && (prev == '_' || prev == '\0'))
			return pk_err_set(e, PK_E_VALUE,
					  "underscore not between digits",
					  nt_off(nt, i));
		if (s[i] != '_')
			ndig++;
		prev = s[i++];
	}
	if (prev == '_')
		return pk_err_set(e, PK_E_VALUE,
				  "underscore not between digits",
				  nt_off(nt, i - 1));
	if (ndig == 0)
		return pk_err_set(e, PK_E_VALUE, "not an int literal",
				  nt_off(nt, i));
	*d1 = i;
	while (i < n && is_space(s[i]))
		i++;
	if (i != n)
		return pk_err_set(e, PK_E_VALUE, "not an int literal",
				  nt_off(nt, i));
	return 0;
}

int pk_int_parse_i64(const char *text, size_t len, int64_t *out, pk_err *e)
{
	struct numtext nt;
	size_t d0, d1, i;
	uint64_t mag = 0, limit;
	int neg, rc, over = 0;

	rc = nt_init(&nt, text, len, 0, e);
	if (rc)
		return rc;
	rc = int_scan(&nt, &d0, &d1, &neg, e);
	if (rc)
		goto cleanup;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (i = d0; i < d1 && !over; i++) {
		unsigned d;

		if (nt.s[i] == '_')
			continue;
		d = (unsigned)(nt.s[i] - '0');
		if (mag > (limit - d) / 10)
			over = 1;
		else
			mag = mag * 10 + d;
	}
	if (over) {
		rc = pk_err_set(e, PK_E_UNSUPPORTED,
				"int does not fit in 64 bits", nt_off(&nt, d0));
		goto cleanup;
	}
	/* Negating in unsigned arithmetic keeps -2**63 defined. */
	*out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
cleanup:
	nt_release(&nt);
	return rc;
}

int pk_int_parse_le(const char *text, size_t len, pk_buf *out, pk_err *e)
{
	struct numtext nt;
	size_t d0, d1, i, ndig = 0, nl, used = 0, nb, k;
	uint32_t *limb = NULL;
	uint8_t *b;
	int neg, rc;

	rc = nt_init(&nt, text, len, 0, e);
	if (rc)
		return rc;
	rc = int_scan(&nt, &d0, &d1, &neg, e);
	if (rc)
		goto cleanup;
	for (i = d0; i < d1; i++)
		ndig += nt.s[i] != '_';
	/* 9 decimal digits take less than 30 bits of a 32-bit limb. */
	nl = ndig / 9 + 2;
	limb = calloc(nl, sizeof(*limb));
	if (!limb) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	i = d0;
	while (i < d1) {
		uint32_t chunk = 0, mul = 1;
		uint64_t carry;
		int got = 0;

		for (; i < d1 && got < 9; i++) {
			if (nt.s[i] == '_')
				continue;
			chunk = chunk * 10 + (uint32_t)(nt.s[i] - '0');
			mul *= 10;
			got++;
		}
		carry = chunk;
		for (k = 0; k < used; k++) {
			uint64_t cur = (uint64_t)limb[k] * mul + carry;

			limb[k] = (uint32_t)cur;
			carry = cur >> 32;
		}
		if (carry)
			limb[used++] = (uint32_t)carry;
	}

	nb = used * 4 + 1;
	if (pk_buf_grow(out, nb) < 0) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	b = out->data + out->len;
	for (k = 0; k < nb; k++)
		b[k] =
		    k / 4 < used ? (uint8_t)(limb[k / 4] >> (8 * (k % 4))) : 0;
	if (neg) {
		unsigned carry = 1;

		for (k = 0; k < nb; k++) {
			unsigned v = (uint8_t)~b[k] + carry;

			b[k] = (uint8_t)v;
			carry = v >> 8;
		}
	}
	/* encode_long's shortest form: drop a top byte that only repeats
	 * the sign of the byte below it. */
	while (nb > 1 && ((b[nb - 1] == 0 && !(b[nb - 2] & 0x80)) ||
			  (b[nb - 1] == 0xff && (b[nb - 2] & 0x80))))
		nb--;
	if (nb == 1 && b[0] == 0)
		nb = 0;
	out->len += nb;
	out->data[out->len] = '\0';
cleanup:
	free(limb);
	nt_release(&nt);
	return rc;
}

int pk_int_le_to_decimal(const uint8_t *bytes, size_t n, pk_buf *out)
{
	uint32_t *limb = NULL;
	char *dig = NULL;
	size_t nl, top, i, nd = 0;
	int neg, ret = -1;

	if (n == 0)
		return pk_buf_addc(out, '0');
	neg = (bytes[n - 1] & 0x80) != 0;
	nl = (n + 3) / 4;
	limb = malloc(nl * sizeof(*limb));
	/* A 32-bit limb holds fewer than 10 decimal digits. */
	dig = malloc(nl * 10 + 1);
	if (!limb || !dig)
		goto cleanup;
	for (i = 0; i < nl; i++) {
		uint32_t v = 0;
		size_t j;

		for (j = 0; j < 4; j++) {
			size_t k = i * 4 + j;
			uint32_t byte = k < n ? bytes[k] : neg ? 0xff : 0;

			v |= byte << (8 * j);
		}
		limb[i] = v;
	}
	if (neg) {
		uint64_t carry = 1;

		for (i = 0; i < nl; i++) {
			uint64_t v = (uint64_t)(uint32_t)~limb[i] + carry;

			limb[i] = (uint32_t)v;
			carry = v >> 32;
		}
	}
	top = nl;
	while (top > 0 && limb[top - 1] == 0)
		top--;
	/* Schoolbook: peel 9 digits per pass. Quadratic, but only huge
	 * ints (rare, and slow in CPython too) notice. */
	while (top > 0) {
		uint64_t rem = 0;
		int j;

		for (i = top; i-- > 0;) {
			uint64_t cur = rem << 32 | limb[i];

			limb[i] = (uint32_t)(cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		while (top > 0 && limb[top - 1] == 0)
			top--;
		for (j = 0; j < 9; j++) {
			dig[nd++] = (char)('0' + rem % 10);
			rem /= 10;
			if (top == 0 && rem == 0)
				break;
		}
	}
	if (nd == 0)
		dig[nd++] = '0';
	if (pk_buf_grow(out, nd + 1) < 0)
		goto cleanup;
	if (neg)
		out->data[out->len++] = '-';
	for (i = 0; i < nd; i++)
		out->data[out->len++] = (uint8_t)dig[nd - 1 - i];
	out->data[out->len] = '\0';
	ret = 0;
cleanup:
	free(limb);
	free(dig);
	return ret;
}

/* --- floats ------------------------------------------------------------- */

static int ci_match(const char *s, size_t n, const char *word)
{
	size_t i, wl = strlen(word);

	if (n < wl)
		return 0;
	for (i = 0; i < wl; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return 0;
	}
	return 1;
}

/* Value of the decimal digits in s[m0, m1) (one '.' allowed among them)
 * times 10**exp. glibc's strtod rounds correctly; we hand it only
 * "digits" "e" "exponent", which no locale can misread, and settle the
 * absurd exponents ourselves so strtod never sees them. */
static int decimal_to_double(const char *s, size_t m0, size_t m1, int64_t exp,
			     int neg, double *out)
{
	char small[128], *buf = small;
	size_t i, z = SIZE_MAX, t = 0, nd = 0, nfrac = 0, k, w;
	int seen_dot = 0;
	int64_t scale, lead;

	for (i = m0; i < m1; i++) {
		if (s[i] == '.') {
			seen_dot = 1;
			continue;
		}
		if (seen_dot)
			nfrac++;
		if (s[i] != '0') {
			if (z == SIZE_MAX)
				z = nd;
			t = nd;
		}
		nd++;
	}
	if (z == SIZE_MAX) {
		*out = neg ? -0.0 : 0.0;
		return 0;
	}
	k = t - z + 1;
	/* value = digits[z..t] * 10**scale */
	scale = exp - (int64_t)nfrac + (int64_t)(nd - 1 - t);
	lead = scale + (int64_t)k - 1;
	if (lead > 400) {
		*out = neg ? -HUGE_VAL : HUGE_VAL;
		return 0;
	}
	if (lead < -400) {
		*out = neg ? -0.0 : 0.0;
		return 0;
	}
	if (k + 32 > sizeof(small)) {
		buf = malloc(k + 32);
		if (!buf)
			return -1;
	}
	w = 0;
	for (i = m0, nd = 0; i < m1; i++) {
		if (s[i] == '.')
			continue;
		if (nd >= z && nd <= t)
			buf[w++] = s[i];
		nd++;
	}
	snprintf(buf + w, 32, "e%lld", (long long)scale);
	*out = strtod(buf, NULL);
	if (neg)
		*out = -*out;
	if (buf != small)
		free(buf);
	return 0;
}

/* The longest prefix of s[0, n) that CPython's PyOS_string_to_double
 * reads: [+-] then digits with at most one '.', then an exponent only if
 * it is complete; or [+-] inf / infinity / nan in any case. Returns its
 * length, 0 if there is none, SIZE_MAX when memory runs out. */
static size_t float_prefix(const char *s, size_t n, double *out)
{
	size_t i = 0, m0, m1, ndig = 0;
	int neg = 0;
	int64_t exp = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	m0 = i;
	while (i < n && is_digit(s[i])) {
		i++;
		ndig++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && is_digit(s[i])) {
			i++;
			ndig++;
		}
	}
	m1 = i;
	if (ndig == 0) {
		i = m0;
		if (ci_match(s + i, n - i, "inf")) {
			i += 3;
			if (ci_match(s + i, n - i, "inity"))
				i += 5;
			*out = neg ? -HUGE_VAL : HUGE_VAL;
			return i;
		}
		if (ci_match(s + i, n - i, "nan")) {
			*out = copysign(nan(""), neg ? -1.0 : 1.0);
			return i + 3;
		}
		return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		int eneg = 0;

		if (j < n && (s[j] == '+' || s[j] == '-'))
			eneg = s[j++] == '-';
		if (j < n && is_digit(s[j])) {
			for (; j < n && is_digit(s[j]); j++)
				if (exp < 1000000000)
					exp = exp * 10 + (s[j] - '0');
			if (eneg)
				exp = -exp;
			i = j;
		}
	}
	if (decimal_to_double(s, m0, m1, exp, neg, out) < 0)
		return SIZE_MAX;
	return i;
}

int pk_float_parse(const char *text, size_t len, double *out, pk_err *e)
{
	struct numtext nt;
	size_t a = 0, b, used;
	double v = 0;
	int rc;

	rc = nt_init(&nt, text, len, 1, e);
	if (rc)
		return rc;
	nt_trim(&nt, &a, &b);
	used = float_prefix(nt.s + a, b - a, &v);
	if (used == SIZE_MAX) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	if (a == b || used != b - a) {
		rc = pk_err_set(e, PK_E_VALUE, "not a float literal",
				nt_off(&nt, a + used));
		goto cleanup;
	}
	*out = v;
cleanup:
	nt_release(&nt);
	return rc;
}

/* complex_from_string_inner of CPython 3.11, bounded by n instead of a
 * NUL, on the view with underscores already dropped. */
int pk_complex_parse(const char *text, size_t len, double *re, double *im,
		     pk_err *e)
{
	struct numtext nt;
	const char *s;
	size_t n, i = 0, used;
	double x = 0.0, y = 0.0, z = 0.0;
	int bracket = 0, rc;

	rc = nt_init(&nt, text, len, 1, e);
	if (rc)
		return rc;
	s = nt.s;
	n = nt.n;
	while (i < n && is_space(s[i]))
		i++;
	if (i < n && s[i] == '(') {
		bracket = 1;
		i++;
		while (i < n && is_space(s[i]))
			i++;
	}
	used = float_prefix(s + i, n - i, &z);
	if (used == SIZE_MAX)
		goto nomem;
	if (used) {
		i += used;
		if (i < n && (s[i] == '+' || s[i] == '-')) {
			/* <float><signed-float>j or <float><sign>j */
			x = z;
			used = float_prefix(s + i, n - i, &y);
			if (used == SIZE_MAX)
				goto nomem;
			if (used) {
				i += used;
			} else {
				y = s[i] == '+' ? 1.0 : -1.0;
				i++;
			}
			if (!(i < n && (s[i] == 'j' || s[i] == 'J')))
				goto malformed;
			i++;
		} else if (i < n && (s[i] == 'j' || s[i] == 'J')) {
			i++;
			y = z;
		} else {
			x = z;
		}
	} else {
		/* <sign>j or j */
		if (i < n && (s[i] == '+' || s[i] == '-')) {
			y = s[i] == '+' ? 1.0 : -1.0;
			i++;
		} else {
			y = 1.0;
		}
		if (!(i < n && (s[i] == 'j' || s[i] == 'J')))
			goto malformed;
		i++;
	}
	while (i < n && is_space(s[i]))
		i++;
	if (bracket) {
		if (!(i < n && s[i] == ')'))
			goto malformed;
		i++;
		while (i < n && is_space(s[i]))
			i++;
	}
	if (i != n)
		goto malformed;
	*re = x;
	*im = y;
	goto cleanup;
malformed:
	rc = pk_err_set(e, PK_E_VALUE, "not a complex literal", nt_off(&nt, i));
	goto cleanup;
nomem:
	rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
cleanup:
	nt_release(&nt);
	return rc;
}

/* --- bool and None -------------------------------------------------------- */

/* Finds the word between the whitespace int() would strip. */
static int word_parse(const char *text, size_t len, const char *const *words,
		      int nwords, int *which, const char *msg, pk_err *e)
{
	struct numtext nt;
	size_t a = 0, b;
	int rc, w;

	rc = nt_init(&nt, text, len, 0, e);
	if (rc)
		return rc;
	nt_trim(&nt, &a, &b);
	for (w = 0; w < nwords; w++) {
		if (strlen(words[w]) == b - a &&
		    memcmp(nt.s + a, words[w], b - a) == 0) {
			*which = w;
			goto cleanup;
		}
	}
	rc = pk_err_set(e, PK_E_VALUE, msg, nt_off(&nt, a));
cleanup:
	nt_release(&nt);
	return rc;
}

int pk_bool_parse(const char *text, size_t len, int *out, pk_err *e)
{
	static const char *const words[] = {"False", "True"};
	int which = 0, rc;

	rc = word_parse(text, len, words, 2, &which, "not True or False", e);
	if (rc == 0)
		*out = which;
	return rc;
}

int pk_none_parse(const char *text, size_t len, pk_err *e)
{
	static const char *const words[] = {"None"};
	int which;

	return word_parse(text, len, words, 1, &which, "not None", e);
}
