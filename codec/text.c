#include "text.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode_table.h"

static const char hexdig[] = "0123456789abcdef";

/* --- UTF-8 -------------------------------------------------------------- */

/* Reads one code point at s[*i]. A sequence Python's decoder rejects costs
 * one byte and reads as U+DC00+byte, the way 'surrogateescape' would show
 * it, so a repr of broken text is still readable and deterministic. */
int pk_utf8_next(const uint8_t *s, size_t n, size_t *i, uint32_t *cp,
		 int allow_surrogates)
{
	size_t k = *i, need, j;
	uint8_t c = s[k];
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		*i = k + 1;
		return 0;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
	} else {
		goto bad;
	}
	if (n - k - 1 < need)
		goto bad;
	for (j = 1; j <= need; j++) {
		if ((s[k + j] & 0xc0) != 0x80)
			goto bad;
		v = v << 6 | (s[k + j] & 0x3f);
	}
	if ((need == 2 && v < 0x800) || (need == 3 && v < 0x10000) ||
	    v > 0x10ffff)
		goto bad;
	if (!allow_surrogates && v >= 0xd800 && v <= 0xdfff)
		goto bad;
	*cp = v;
	*i = k + need + 1;
	return 0;
bad:
	*cp = 0xdc00 + c;
	*i = k + 1;
	return -1;
}

/* Surrogates are written like any other code point: that is the
 * 'surrogatepass' form pickles use for lone surrogates. */
static int put_utf8(pk_buf *out, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return pk_buf_add(out, b, n);
}

/* Backslash, kind letter ('x', 'u', 'U') and ndig lowercase hex digits. */
static int put_escape(pk_buf *out, char kind, uint32_t v, int ndig)
{
	char b[10];
	int i;

	b[0] = '\\';
	b[1] = kind;
	for (i = 0; i < ndig; i++)
		b[2 + i] = hexdig[(v >> (4 * (ndig - 1 - i))) & 0xf];
	return pk_buf_add(out, b, (size_t)ndig + 2);
}

int pk_utf8_valid(const uint8_t *data, size_t len, int allow_surrogates)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		if (data[i] < 0x80) {
			i++;
			continue;
		}
		if (pk_utf8_next(data, len, &i, &cp, allow_surrogates) < 0)
			return 0;
	}
	return 1;
}

/* --- str and bytes reprs -------------------------------------------------- */

static char pick_quote(const uint8_t *data, size_t len)
{
	/* ' unless the text has ' and no ", as unicode_repr and
	 * bytes_repr choose. */
	if (memchr(data, '\'', len) && !memchr(data, '"', len))
		return '"';
	return '\'';
}

/* The ASCII escapes str and bytes reprs share; cp < 0x80. */
static int put_ascii_escaped(pk_buf *out, uint32_t cp, char quote)
{
	uint8_t b[2] = {'\\', 0};

	if (cp == (uint32_t)quote || cp == '\\')
		b[1] = (uint8_t)cp;
	else if (cp == '\t')
		b[1] = 't';
	else if (cp == '\n')
		b[1] = 'n';
	else if (cp == '\r')
		b[1] = 'r';
	else if (cp < 0x20 || cp == 0x7f)
		return put_escape(out, 'x', cp, 2);
	else
		return pk_buf_addc(out, (uint8_t)cp);
	return pk_buf_add(out, b, 2);
}

static int plain_ascii(uint8_t c, char quote)
{
	return c >= 0x20 && c < 0x7f && c != '\\' && c != (uint8_t)quote;
}

int pk_repr_str(const uint8_t *utf8, size_t len, pk_buf *out)
{
	char quote = pick_quote(utf8, len);
	size_t i = 0, run;

	if (pk_buf_grow(out, len + 2) < 0 || pk_buf_addc(out, (uint8_t)quote))
		return -1;
	while (i < len) {
		size_t start = i;
		uint32_t cp;
		int rc;

		for (run = i; run < len && plain_ascii(utf8[run], quote); run++)
			;
		if (run > i) {
			if (pk_buf_add(out, utf8 + i, run - i) < 0)
				return -1;
			i = run;
			continue;
		}
		if (utf8[i] < 0x80) {
			rc = put_ascii_escaped(out, utf8[i++], quote);
		} else {
			pk_utf8_next(utf8, len, &i, &cp, 1);
			if (pk_unicode_isprintable(cp))
				rc = pk_buf_add(out, utf8 + start, i - start);
			else if (cp <= 0xff)
				rc = put_escape(out, 'x', cp, 2);
			else if (cp <= 0xffff)
				rc = put_escape(out, 'u', cp, 4);
			else
				rc = put_escape(out, 'U', cp, 8);
		}
		if (rc < 0)
			return -1;
	}
	return pk_buf_addc(out, (uint8_t)quote);
}

/* bytes_repr without the b: also Python 2's repr(str). */
static int repr_bytes_body(const uint8_t *data, size_t len, pk_buf *out)
{
	char quote = pick_quote(data, len);
	size_t i = 0, run;

	if (pk_buf_grow(out, len + 2) < 0 || pk_buf_addc(out, (uint8_t)quote))
		return -1;
	while (i < len) {
		int rc;

		for (run = i; run < len && plain_ascii(data[run], quote); run++)
			;
		if (run > i) {
			if (pk_buf_add(out, data + i, run - i) < 0)
				return -1;
			i = run;
			continue;
		}
		if (data[i] >= 0x80)
			rc = put_escape(out, 'x', data[i], 2);
		else
			rc = put_ascii_escaped(out, data[i], quote);
		if (rc < 0)
			return -1;
		i++;
	}
	return pk_buf_addc(out, (uint8_t)quote);
}

int pk_repr_bytes(const uint8_t *data, size_t len, pk_buf *out)
{
	if (pk_buf_addc(out, 'b') < 0)
		return -1;
	return repr_bytes_body(data, len, out);
}

/* --- protocol 0 string forms ---------------------------------------------- */

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pk_escape_decode(const uint8_t *s, size_t n, pk_buf *out, size_t *bad,
		     const char **why)
{
	size_t i = 0, start = out->len;

	if (pk_buf_grow(out, n) < 0)
		return PK_E_NOMEM;
	while (i < n) {
		uint8_t c = s[i++], v;
		int h1, h2;

		if (c != '\\') {
			out->data[out->len++] = c;
			continue;
		}
		if (i == n) {
			*why = "trailing backslash in a string";
			goto bad_escape;
		}
		c = s[i++];
		switch (c) {
		case '\n':
			continue;
		case '\\':
		case '\'':
		case '"':
			v = c;
			break;
		case 'a':
			v = '\a';
			break;
		case 'b':
			v = '\b';
			break;
		case 'f':
			v = '\f';
			break;
		case 'n':
			v = '\n';
			break;
		case 'r':
			v = '\r';
			break;
		case 't':
			v = '\t';
			break;
		case 'v':
			v = '\v';
			break;
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7': {
			unsigned o = c - '0';
			int k;

			/* Up to three digits; \400-\777 keep their low
			 * 8 bits, as CPython stores them. */
			for (k = 0;
			     k < 2 && i < n && s[i] >= '0' && s[i] <= '7'; k++)
				o = o * 8 + (unsigned)(s[i++] - '0');
			v = (uint8_t)o;
			break;
		}
		case 'x':
			/* exactly two hex digits */
			h1 = i + 1 < n ? hexval(s[i]) : -1;
			h2 = i + 1 < n ? hexval(s[i + 1]) : -1;
			if (h1 < 0 || h2 < 0) {
				*why = "invalid \\x escape";
				i -=
				    1; /* back to the x: the backslash is i-1 */
				goto bad_escape;
			}
			v = (uint8_t)(h1 << 4 | h2);
			i += 2;
			break;
		default:
			/* Unknown escapes stay as they are, backslash
			 * included. */
			out->data[out->len++] = '\\';
			i--;
			continue;
		}
		out->data[out->len++] = v;
	}
	out->data[out->len] = '\0';
	return PK_OK;
bad_escape:
	*bad = i - 1;
	out->len = start;
	out->data[out->len] = '\0';
	return PK_E_ARG;
}

int pk_string_literal_decode(const uint8_t *arg, size_t len, pk_buf *out,
			     pk_err *e)
{
	const char *why;
	size_t bad;
	int rc;

	/* load_string: the outermost quotes must match; what is between
	 * them goes to _PyBytes_DecodeEscape as is. */
	if (len < 2 || arg[0] != arg[len - 1] ||
	    (arg[0] != '\'' && arg[0] != '"'))
		return pk_err_set(e, PK_E_ARG, "STRING argument must be quoted",
				  0);
	rc = pk_escape_decode(arg + 1, len - 2, out, &bad, &why);
	if (rc == PK_E_NOMEM)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	if (rc)
		return pk_err_set(e, PK_E_ARG, why, bad + 1);
	return PK_OK;
}

int pk_string_literal_encode(const uint8_t *data, size_t len, pk_buf *out)
{
	return repr_bytes_body(data, len, out);
}

int pk_raw_unicode_decode(const uint8_t *arg, size_t len, pk_buf *out,
			  pk_err *e)
{
	size_t i = 0, start = out->len;
	int rc = 0;

	if (pk_buf_grow(out, len) < 0)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	while (i < len) {
		size_t esc = i;
		uint32_t ch = 0;
		uint8_t c = arg[i++];
		int count;

		if (c != '\\' || i == len) {
			if (put_utf8(out, c) < 0)
				goto nomem;
			continue;
		}
		c = arg[i++];
		if (c != 'u' && c != 'U') {
			/* Any other pair is kept, so "\\\\u0041" is not an
			 * escape. */
			if (pk_buf_addc(out, '\\') < 0 || put_utf8(out, c) < 0)
				goto nomem;
			continue;
		}
		for (count = c == 'u' ? 4 : 8; count > 0; count--, i++) {
			int h = i < len ? hexval(arg[i]) : -1;

			if (h < 0) {
				rc = pk_err_set(
				    e, PK_E_ARG,
				    c == 'u' ? "truncated \\uXXXX escape"
					     : "truncated \\UXXXXXXXX escape",
				    esc);
				goto cleanup;
			}
			ch = ch << 4 | (uint32_t)h;
		}
		if (ch > 0x10ffff) {
			rc = pk_err_set(e, PK_E_ARG, "\\Uxxxxxxxx out of range",
					esc);
			goto cleanup;
		}
		if (put_utf8(out, ch) < 0)
			goto nomem;
	}
	goto cleanup;
nomem:
	rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
cleanup:
	if (rc) {
		out->len = start;
		out->data[out->len] = '\0';
	}
	return rc;
}

int pk_raw_unicode_encode(const uint8_t *utf8, size_t len, pk_buf *out)
{
	size_t i = 0;

	if (pk_buf_grow(out, len) < 0)
		return -1;
	while (i < len) {
		uint32_t cp;
		int rc;

		pk_utf8_next(utf8, len, &i, &cp, 1);
		if (cp >= 0x10000)
			rc = put_escape(out, 'U', cp, 8);
		else if (cp >= 0x100 || cp == '\\' || cp == 0 || cp == '\n' ||
			 cp == '\r' || cp == 0x1a)
			rc = put_escape(out, 'u', cp, 4);
		else
			rc = pk_buf_addc(out, (uint8_t)cp);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int pk_latin1_to_utf8(const uint8_t *s, size_t n, pk_buf *out)
{
	if (pk_buf_grow(out, n) < 0 || pk_buf_grow(out, n * 2) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x80) {
			out->data[out->len++] = s[i];
		} else {
			out->data[out->len++] = (uint8_t)(0xc0 | s[i] >> 6);
			out->data[out->len++] = (uint8_t)(0x80 | (s[i] & 0x3f));
		}
	}
	out->data[out->len] = '\0';
	return 0;
}

int pk_utf8_to_latin1(const uint8_t *s, size_t n, pk_buf *out, uint64_t *count)
{
	size_t i = 0;
	uint64_t k = 0;

	while (i < n) {
		unsigned cp = s[i];
		if (cp >= 0x80) {
			/* two bytes, U+0080..U+00FF: C2..C3 then 80..BF */
			if ((cp != 0xc2 && cp != 0xc3) || i + 1 >= n ||
			    (s[i + 1] & 0xc0) != 0x80)
				return -1;
			cp = ((cp & 0x1f) << 6) | (s[i + 1] & 0x3f);
			i += 2;
		} else {
			i++;
		}
		if (out && pk_buf_addc(out, (uint8_t)cp))
			return -2;
		k++;
	}
	if (count)
		*count = k;
	return 0;
}
