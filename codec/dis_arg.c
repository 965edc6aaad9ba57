/*
 * dis_arg.c - genops' argument readers and repr() of each argument, for
 * the disassembler (dis_internal.h).
 *
 * Each reader follows the read_* function of CPython 3.11's
 * Lib/pickletools.py for its argument kind (opcodes.h names the kind), so
 * that what it refuses, and where, is what pickletools refuses; each
 * printer gives the repr() Python would print for the value read.
 */
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "dis_internal.h"
#include "text.h"

/* sys.get_int_max_str_digits() default: int(str) and str(int) refuse
 * more digits than this, so pickletools cannot print such an int. */
#define MAX_INT_DIGITS 4300
/* A LONG1/LONG4 payload of this many significant bytes has more than
 * MAX_INT_DIGITS digits: 8 * 1799 - 1 bits is over 10^4331. Checked
 * before converting so a huge LONG4 costs nothing. */
#define MAX_INT_BYTES 1799

/* Writes the decimal digits of v at p (room for 20); returns the count. */
int pk_dis_nomem(struct dis *d, uint64_t pos)
{
	return pk_err_set(d->e, PK_E_NOMEM, "out of memory", pos);
}

/* The bytes up to the next '\n' from `at`, as file.readline() then
 * data[:-1]; PK_E_TRUNCATED if there is no newline. */
static int read_line(struct dis *d, size_t at, uint64_t pos, const uint8_t **p,
		     size_t *n, size_t *next)
{
	const uint8_t *nl = memchr(d->data + at, '\n', d->len - at);

	if (!nl)
		return pk_err_set(d->e, PK_E_TRUNCATED,
				  "no newline after text argument", pos);
	*p = d->data + at;
	*n = (size_t)(nl - *p);
	*next = (size_t)(nl - d->data) + 1;
	return PK_OK;
}

/* Counted argument: `width`-byte little-endian length then that many
 * bytes. sign: the length is a signed int4 (negative is an error). */
static int read_counted(struct dis *d, size_t at, uint64_t pos, int width,
			bool sign, struct arg *a, size_t *next)
{
	uint64_t n;

	if (d->len - at < (size_t)width)
		return pk_err_set(d->e, PK_E_TRUNCATED,
				  "argument length cut short", pos);
	n = pk_le(d->data + at, width);
	if (sign && (n & 0x80000000u))
		return pk_err_set(d->e, PK_E_ARG, "negative argument length",
				  pos);
	at += (size_t)width;
	if (n > d->len - at)
		return pk_err_set(d->e, PK_E_TRUNCATED,
				  "argument longer than the data left", pos);
	a->p = d->data + at;
	a->n = (size_t)n;
	*next = at + (size_t)n;
	return PK_OK;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool all_ascii(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] & 0x80)
			return false;
	return true;
}

/*
 * int(s) for the bytes s of an INT/LONG/GET/PUT line. The canonical
 * decimal goes to d->num; a->i is set when it fits in int64_t. The plain
 * "-?digits" form is handled here; anything else (spaces, '+', '_') goes
 * through pk_int_parse_le, which accepts exactly what int() accepts of
 * ASCII: int() and float() of bytes (what pickletools' readers call)
 * read ASCII only, so Unicode digits and spaces, which pk_int_parse_le
 * and pk_float_parse take as int(str) does, are invalid literals here.
 */
static int parse_int(struct dis *d, const uint8_t *s, size_t n, uint64_t pos,
		     struct arg *a)
{
	size_t i = 0, digits = 0;
	pk_err pe;

	pk_buf_reset(&d->num);
	a->numtext = true;
	a->num_i64 = false;
	for (size_t j = 0; j < n; j++)
		digits += is_digit(s[j]);
	if (digits > MAX_INT_DIGITS)
		return pk_err_set(d->e, PK_E_UNSUPPORTED,
				  "integer has more than 4300 digits", pos);
	if (n && s[0] == '-')
		i = 1;
	if (n - i >= 1 && n - i <= 18) {
		uint64_t v = 0;
		size_t j;

		for (j = i; j < n && is_digit(s[j]); j++)
			v = v * 10 + (uint64_t)(s[j] - '0');
		if (j == n) {
			a->i = i ? -(int64_t)v : (int64_t)v;
			a->num_i64 = true;
			if (pk_buf_add_i64(&d->num, a->i) < 0)
				return pk_dis_nomem(d, pos);
			return PK_OK;
		}
	}
	pk_buf_reset(&d->tmp);
	if (!all_ascii(s, n))
		return pk_err_set(d->e, PK_E_ARG, "invalid integer literal",
				  pos);
	if (pk_int_parse_le((const char *)s, n, &d->tmp, &pe) != PK_OK) {
		if (pe.code == PK_E_NOMEM)
			return pk_dis_nomem(d, pos);
		return pk_err_set(d->e, PK_E_ARG, "invalid integer literal",
				  pos);
	}
	if (d->tmp.len <= 8) {
		uint64_t v =
		    d->tmp.len ? pk_le(d->tmp.data, (int)d->tmp.len) : 0;

		/* sign-extend the shortest two's complement form */
		if (d->tmp.len && d->tmp.len < 8 &&
		    (d->tmp.data[d->tmp.len - 1] & 0x80))
			v |= ~(uint64_t)0 << (8 * d->tmp.len);
		a->i = (int64_t)v;
		a->num_i64 = true;
	}
	if (pk_int_le_to_decimal(d->tmp.data, d->tmp.len, &d->num) < 0)
		return pk_dis_nomem(d, pos);
	return PK_OK;
}

/*
 * genops' half: locate the argument of opcode `op` (at offset pos), check
 * it fits in the data, and parse the numeric ones (their reader calls
 * int() or float(), so a bad literal fails here, before printing). Text
 * arguments are decoded while printing (put_arg) instead: their errors are
 * also reader errors, and put_arg's caller un-prints the line.
 */
int pk_dis_read_arg(struct dis *d, const struct pk_opcode_info *info, size_t at,
		    uint64_t pos, struct arg *a, size_t *next)
{
	size_t left = d->len - at;
	int rc;

	switch (info->form) {
	case PK_FORM_NONE:
		*next = at;
		return PK_OK;
	case PK_FORM_FIXED:
		if (left < info->width)
			return pk_err_set(d->e, PK_E_TRUNCATED,
					  "argument cut short", pos);
		if (info->arg == PK_ARG_F8) {
			a->d = pk_be_double(d->data + at);
		} else {
			a->u = pk_le(d->data + at, info->width);
			a->i = info->arg == PK_ARG_I4 ? (int32_t)(uint32_t)a->u
						      : (int64_t)a->u;
		}
		*next = at + info->width;
		return PK_OK;
	case PK_FORM_COUNTED:
		return read_counted(d, at, pos, info->width, info->neg_count, a,
				    next);
	case PK_FORM_LINE2:
		rc = read_line(d, at, pos, &a->p, &a->n, next);
		if (rc)
			return rc;
		return read_line(d, *next, pos, &a->p2, &a->n2, next);
	case PK_FORM_LINE:
		rc = read_line(d, at, pos, &a->p, &a->n, next);
		if (rc)
			return rc;
		break;
	}
	/* a line: the numbers in it are parsed here */
	switch (info->arg) {
	case PK_ARG_DECIMALNL_SHORT:
		/* read_decimalnl_short's hack: protocol 0 bools */
		if (a->n == 2 && a->p[0] == '0' && (a->p[1] | 1) == '1') {
			a->boolv = a->p[1] == '0' ? 1 : 2;
			a->numtext = false;
			a->u = (uint64_t)(a->boolv - 1);
			a->i = (int64_t)a->u;
			return PK_OK;
		}
		return parse_int(d, a->p, a->n, pos, a);
	case PK_ARG_DECIMALNL_LONG:
		return parse_int(
		    d, a->p, a->n && a->p[a->n - 1] == 'L' ? a->n - 1 : a->n,
		    pos, a);
	case PK_ARG_FLOATNL: {
		pk_err pe;

		if (!all_ascii(a->p, a->n))
			return pk_err_set(d->e, PK_E_ARG,
					  "invalid float literal", pos);
		if (pk_float_parse((const char *)a->p, a->n, &a->d, &pe)) {
			if (pe.code == PK_E_NOMEM)
				return pk_dis_nomem(d, pos);
			return pk_err_set(d->e, PK_E_ARG,
					  "invalid float literal", pos);
		}
		return PK_OK;
	}
	}
	return PK_OK;
}

/*
 * codecs.escape_decode(s) then .decode("ascii"), as read_stringnl does
 * (appended to out): a non-ASCII byte, before or after unescaping, is an
 * error, as is a bad escape.
 */
static int escape_decode(struct dis *d, const uint8_t *s, size_t n, pk_buf *out,
			 uint64_t pos)
{
	size_t i, start = out->len, bad;
	const char *why;
	int rc;

	for (i = 0; i < n; i++)
		if (s[i] & 0x80)
			goto not_ascii;
	rc = pk_escape_decode(s, n, out, &bad, &why);
	if (rc == PK_E_NOMEM)
		return pk_dis_nomem(d, pos);
	if (rc)
		return pk_err_set(d->e, PK_E_ARG, why, pos);
	/* \xhh and \ooo may give a byte >= 0x80 */
	for (i = start; i < out->len; i++)
		if (out->data[i] & 0x80)
			goto not_ascii;
	return PK_OK;
not_ascii:
	return pk_err_set(d->e, PK_E_ARG, "non-ASCII byte in a text argument",
			  pos);
}

/*
 * repr(bytearray) differs from repr(bytes) in one way: it escapes ' even
 * inside b"..." (CPython's bytearray_repr escapes ' and \\ whatever the
 * quote). In a b"..." repr every ' is a literal quote byte (escapes are
 * \\xNN, \\\\, \\t ...), so escaping each one from `from` on is exact.
 */
static int escape_single_quotes(pk_buf *out, size_t from)
{
	size_t nq = 0, i, j;

	for (i = from; i < out->len; i++)
		nq += out->data[i] == '\'';
	if (!nq)
		return 0;
	if (pk_buf_grow(out, nq) < 0)
		return -1;
	/* shift right from the end, inserting a backslash before each ' */
	i = out->len;
	j = out->len + nq;
	out->data[j] = '\0';
	while (i > from) {
		uint8_t c = out->data[--i];

		out->data[--j] = c;
		if (c == '\'')
			out->data[--j] = '\\';
	}
	out->len += nq;
	return 0;
}

/* Drops sign-extension bytes of a little-endian two's complement int:
 * the length of its shortest form. */
static size_t significant_bytes(const uint8_t *p, size_t n)
{
	while (n >= 2 && ((p[n - 1] == 0x00 && !(p[n - 2] & 0x80)) ||
			  (p[n - 1] == 0xff && (p[n - 2] & 0x80))))
		n--;
	return n;
}

/* repr() of a text-line argument (STRING, GLOBAL/INST, UNICODE): the
 * line decoded as pickletools' reader does. */
static int put_line_arg(struct dis *d, const struct pk_opcode_info *info,
			const struct arg *a, uint64_t pos)
{
	int rc;

	switch (info->arg) {
	case PK_ARG_STRINGNL: {
		const uint8_t *s = a->p;
		size_t n = a->n;

		/* read_stringnl: quotes must match at both ends; a lone
		 * quote is data[1:-1] == '' */
		if (n && (s[0] == '"' || s[0] == '\'')) {
			if (s[n - 1] != s[0])
				return pk_err_set(d->e, PK_E_ARG,
						  "string quote not found at "
						  "both ends",
						  pos);
			s++;
			n = n >= 2 ? n - 2 : 0;
		} else {
			return pk_err_set(d->e, PK_E_ARG,
					  "no string quotes around a STRING",
					  pos);
		}
		pk_buf_reset(&d->tmp);
		rc = escape_decode(d, s, n, &d->tmp, pos);
		if (rc)
			return rc;
		return pk_repr_str(d->tmp.data, d->tmp.len, d->out)
			   ? pk_dis_nomem(d, pos)
			   : PK_OK;
	}
	case PK_ARG_STRINGNL_NOESCAPE:
	case PK_ARG_STRINGNL_NOESCAPE_PAIR:
		pk_buf_reset(&d->tmp);
		rc = escape_decode(d, a->p, a->n, &d->tmp, pos);
		if (rc)
			return rc;
		if (info->arg == PK_ARG_STRINGNL_NOESCAPE_PAIR) {
			/* "%s %s" % (module, name) */
			if (pk_buf_addc(&d->tmp, ' ') < 0)
				return pk_dis_nomem(d, pos);
			rc = escape_decode(d, a->p2, a->n2, &d->tmp, pos);
			if (rc)
				return rc;
		}
		return pk_repr_str(d->tmp.data, d->tmp.len, d->out)
			   ? pk_dis_nomem(d, pos)
			   : PK_OK;
	case PK_ARG_UNICODESTRINGNL: {
		pk_err pe;

		pk_buf_reset(&d->tmp);
		if (pk_raw_unicode_decode(a->p, a->n, &d->tmp, &pe)) {
			if (pe.code == PK_E_NOMEM)
				return pk_dis_nomem(d, pos);
			return pk_err_set(d->e, PK_E_ARG,
					  "bad raw-unicode-escape text", pos);
		}
		return pk_repr_str(d->tmp.data, d->tmp.len, d->out)
			   ? pk_dis_nomem(d, pos)
			   : PK_OK;
	}
	default:
		return pk_err_set(d->e, PK_E_ARG, "unknown argument kind", pos);
	}
}

/* repr(arg) appended to out. Errors here are reader errors. */
int pk_dis_put_arg(struct dis *d, const struct pk_opcode_info *info,
		   const struct arg *a, uint64_t pos)
{
	pk_buf *out = d->out;
	int rc;

	switch (info->arg) {
	case PK_ARG_NONE:
		return PK_OK;
	case PK_ARG_U1:
	case PK_ARG_U2:
	case PK_ARG_U4:
	case PK_ARG_U8:
		rc = pk_buf_add_u64(out, a->u);
		break;
	case PK_ARG_I4:
		rc = pk_buf_add_i64(out, a->i);
		break;
	case PK_ARG_F8:
	case PK_ARG_FLOATNL:
		rc = pk_float_repr(a->d, out);
		break;
	case PK_ARG_DECIMALNL_SHORT:
	case PK_ARG_DECIMALNL_LONG:
		if (a->boolv)
			rc = pk_buf_adds(out, a->boolv == 2 ? "True" : "False");
		else
			rc = pk_buf_add(out, d->num.data, d->num.len);
		break;
	case PK_ARG_STRINGNL:
	case PK_ARG_STRINGNL_NOESCAPE:
	case PK_ARG_STRINGNL_NOESCAPE_PAIR:
	case PK_ARG_UNICODESTRINGNL:
		return put_line_arg(d, info, a, pos);
	case PK_ARG_STRING1:
	case PK_ARG_STRING4:
		if (all_ascii(a->p, a->n)) {
			rc = pk_repr_str(a->p, a->n, out);
		} else {
			pk_buf_reset(&d->tmp);
			if (pk_latin1_to_utf8(a->p, a->n, &d->tmp) < 0)
				return pk_dis_nomem(d, pos);
			rc = pk_repr_str(d->tmp.data, d->tmp.len, out);
		}
		break;
	case PK_ARG_BYTES1:
	case PK_ARG_BYTES4:
	case PK_ARG_BYTES8:
		rc = pk_repr_bytes(a->p, a->n, out);
		break;
	case PK_ARG_BYTEARRAY8: {
		size_t q;

		rc = pk_buf_adds(out, "bytearray(");
		q = out->len + 1; /* the opening quote, after the 'b' */
		if (!rc)
			rc = pk_repr_bytes(a->p, a->n, out);
		if (!rc && out->data[q] == '"')
			rc = escape_single_quotes(out, q);
		if (!rc)
			rc = pk_buf_addc(out, ')');
		break;
	}
	case PK_ARG_UNICODE1:
	case PK_ARG_UNICODE4:
	case PK_ARG_UNICODE8:
		/* str(data, 'utf-8', 'surrogatepass') */
		if (!pk_utf8_valid(a->p, a->n, 1))
			return pk_err_set(d->e, PK_E_ARG,
					  "invalid UTF-8 in a str argument",
					  pos);
		rc = pk_repr_str(a->p, a->n, out);
		break;
	case PK_ARG_LONG1:
	case PK_ARG_LONG4: {
		size_t n = significant_bytes(a->p, a->n);
		size_t start = out->len, digits;

		if (n > MAX_INT_BYTES)
			return pk_err_set(d->e, PK_E_UNSUPPORTED,
					  "integer has more than 4300 digits",
					  pos);
		rc = pk_int_le_to_decimal(a->p, n, out);
		if (rc)
			break;
		digits = out->len - start;
		if (digits && out->data[start] == '-')
			digits--;
		if (digits > MAX_INT_DIGITS)
			return pk_err_set(d->e, PK_E_UNSUPPORTED,
					  "integer has more than 4300 digits",
					  pos);
		break;
	}
	default:
		return pk_err_set(d->e, PK_E_ARG, "unknown argument kind", pos);
	}
	return rc ? pk_dis_nomem(d, pos) : PK_OK;
}
