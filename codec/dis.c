/*
 * dis.c - pickletools.dis() in C; see dis.h.
 *
 * The loop follows CPython 3.11 Lib/pickletools.py dis() statement by
 * statement, because the text must match byte for byte and the sanity
 * checks must fire at the same opcode:
 *   1. genops reads the opcode and its argument (a bad argument raises
 *      before anything of the line is printed);
 *   2. the line is built with the indentation of the MARKs open *before*
 *      this opcode;
 *   3. a MARK-consuming opcode (or POP of a MARK) pops the mark stack and
 *      gets "(MARK at N)"; PUT/GET check the memo;
 *   4. the line is printed, then a recorded error is raised;
 *   5. the stack effect is applied (underflow raises).
 *
 * The emulated stack only needs to know where its MARK objects are:
 * pickletools' checks only ask "is the top a MARK" and "how many items",
 * and memo entries are never MARKs. So the stack is a length plus the
 * indices of the MARKs still on it. The mark stack (offsets of MARK
 * opcodes, for indentation and "(MARK at N)") is separate, exactly as in
 * pickletools: the two can disagree on malformed input (APPEND may pop a
 * MARK object without touching the mark stack).
 */
#include "dis.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "opcodes.h"
#include "text.h"

/* Flush the streaming buffer once a line ends beyond this size. */
#define FLUSH_AT ((size_t)1 << 20)
/* sys.get_int_max_str_digits() default: int(str) and str(int) refuse
 * more digits than this, so pickletools cannot print such an int. */
#define MAX_INT_DIGITS 4300
/* A LONG1/LONG4 payload of this many significant bytes has more than
 * MAX_INT_DIGITS digits: 8 * 1799 - 1 bits is over 10^4331. Checked
 * before converting so a huge LONG4 costs nothing. */
#define MAX_INT_BYTES 1799

/*
 * Stack effects, from pickletools' stack_before / stack_after: how many
 * items the opcode pops, where a markobject sits in stack_before (index
 * + 1, 0 when there is none), how many non-MARK items it pushes. MARK is
 * the only opcode that pushes a markobject and is special-cased.
 */
struct fx {
	uint8_t before;
	uint8_t mark1;
	uint8_t after;
};

#define FX(n, b, m, a) [PK_OP_##n] = {b, m + 1, a}
static const struct fx effects[256] = {
    FX(MARK, 0, -1, 1),		FX(EMPTY_TUPLE, 0, -1, 1),
    FX(STOP, 1, -1, 0),		FX(POP, 1, -1, 0),
    FX(POP_MARK, 2, 0, 0),	FX(DUP, 1, -1, 2),
    FX(BINBYTES, 0, -1, 1),	FX(SHORT_BINBYTES, 0, -1, 1),
    FX(FLOAT, 0, -1, 1),	FX(BINFLOAT, 0, -1, 1),
    FX(INT, 0, -1, 1),		FX(BININT, 0, -1, 1),
    FX(BININT1, 0, -1, 1),	FX(LONG, 0, -1, 1),
    FX(BININT2, 0, -1, 1),	FX(NONE, 0, -1, 1),
    FX(PERSID, 0, -1, 1),	FX(BINPERSID, 1, -1, 1),
    FX(REDUCE, 2, -1, 1),	FX(STRING, 0, -1, 1),
    FX(BINSTRING, 0, -1, 1),	FX(SHORT_BINSTRING, 0, -1, 1),
    FX(UNICODE, 0, -1, 1),	FX(BINUNICODE, 0, -1, 1),
    FX(EMPTY_LIST, 0, -1, 1),	FX(APPEND, 2, -1, 1),
    FX(BUILD, 2, -1, 1),	FX(GLOBAL, 0, -1, 1),
    FX(DICT, 2, 0, 1),		FX(APPENDS, 3, 1, 1),
    FX(GET, 0, -1, 1),		FX(BINGET, 0, -1, 1),
    FX(INST, 2, 0, 1),		FX(LONG_BINGET, 0, -1, 1),
    FX(LIST, 2, 0, 1),		FX(OBJ, 3, 0, 1),
    FX(PUT, 0, -1, 0),		FX(BINPUT, 0, -1, 0),
    FX(LONG_BINPUT, 0, -1, 0),	FX(SETITEM, 3, -1, 1),
    FX(TUPLE, 2, 0, 1),		FX(SETITEMS, 3, 1, 1),
    FX(EMPTY_DICT, 0, -1, 1),	FX(PROTO, 0, -1, 0),
    FX(NEWOBJ, 2, -1, 1),	FX(EXT1, 0, -1, 1),
    FX(EXT2, 0, -1, 1),		FX(EXT4, 0, -1, 1),
    FX(TUPLE1, 1, -1, 1),	FX(TUPLE2, 2, -1, 1),
    FX(TUPLE3, 3, -1, 1),	FX(NEWTRUE, 0, -1, 1),
    FX(NEWFALSE, 0, -1, 1),	FX(LONG1, 0, -1, 1),
    FX(LONG4, 0, -1, 1),	FX(SHORT_BINUNICODE, 0, -1, 1),
    FX(BINUNICODE8, 0, -1, 1),	FX(BINBYTES8, 0, -1, 1),
    FX(EMPTY_SET, 0, -1, 1),	FX(ADDITEMS, 3, 1, 1),
    FX(FROZENSET, 2, 0, 1),	FX(NEWOBJ_EX, 3, -1, 1),
    FX(STACK_GLOBAL, 2, -1, 1), FX(MEMOIZE, 1, -1, 1),
    FX(FRAME, 0, -1, 0),	FX(BYTEARRAY8, 0, -1, 1),
    FX(NEXT_BUFFER, 0, -1, 1),	FX(READONLY_BUFFER, 1, -1, 1),
};
#undef FX

/* ---- small growable arrays -------------------------------------------- */

struct u64vec {
	uint64_t *v;
	size_t n, cap;
};

static int vec_push(struct u64vec *s, uint64_t x)
{
	if (pk_vec_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)))
		return -1;
	s->v[s->n++] = x;
	return 0;
}

/* ---- the memo: a set of int keys -------------------------------------- */

/*
 * pickletools keeps a dict of every key PUT so far. Keys are Python ints:
 * BINPUT/LONG_BINPUT give 0..2^32-1, PUT parses any decimal (negative,
 * huge, "00"/"01" meaning False/True which equal 0/1 as dict keys).
 * Pickles number their memo 0, 1, 2, ..., so small keys go in a bitmap
 * (bounded by the input size, never by a key's value); every other key
 * is stored as its canonical decimal text in a hash set.
 */
struct memo {
	uint8_t *bits;
	size_t nbits_bytes;
	size_t max_bits_bytes;
	uint64_t count; /* len(memo) */
	struct slot {
		uint64_t hash;
		size_t off, len; /* into pool; len == 0: empty slot */
	} * slots;
	size_t nslots, nused;
	pk_buf pool;
};

/* A memo key: either small (bitmap) or canonical decimal text. */
struct key {
	bool small;
	uint64_t v;
	const char *txt;
	size_t n;
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* Returns the slot for the text key: its own, or the empty one where it
 * belongs. nslots is a power of two and the table is at most half full. */
static struct slot *memo_find(struct memo *m, const char *s, size_t n,
			      uint64_t h)
{
	size_t mask = m->nslots - 1;

	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct slot *sl = &m->slots[i];

		if (!sl->len)
			return sl;
		if (sl->hash == h && sl->len == n &&
		    !memcmp(m->pool.data + sl->off, s, n))
			return sl;
	}
}

static bool memo_has(struct memo *m, const struct key *k)
{
	if (k->small)
		return k->v / 8 < m->nbits_bytes &&
		       (m->bits[k->v / 8] >> (k->v % 8) & 1);
	if (!m->nslots)
		return false;
	return memo_find(m, k->txt, k->n, fnv1a(k->txt, k->n))->len != 0;
}

static int memo_grow_slots(struct memo *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 64;
	struct slot *old = m->slots, *s;
	size_t oldn = m->nslots;

	if (n > SIZE_MAX / sizeof(*s))
		return -1;
	s = calloc(n, sizeof(*s));
	if (!s)
		return -1;
	m->slots = s;
	m->nslots = n;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i].len) {
			struct slot *d = memo_find(
			    m, (const char *)m->pool.data + old[i].off,
			    old[i].len, old[i].hash);
			*d = old[i];
		}
	}
	free(old);
	return 0;
}

/* Adds a key known to be absent. */
static int memo_add(struct memo *m, const struct key *k)
{
	if (k->small) {
		size_t need = (size_t)(k->v / 8) + 1;

		if (need > m->nbits_bytes) {
			size_t n = m->nbits_bytes ? m->nbits_bytes : 64;
			uint8_t *b;

			while (n < need)
				n *= 2;
			if (n > m->max_bits_bytes)
				n = m->max_bits_bytes;
			b = realloc(m->bits, n);
			if (!b)
				return -1;
			memset(b + m->nbits_bytes, 0, n - m->nbits_bytes);
			m->bits = b;
			m->nbits_bytes = n;
		}
		m->bits[k->v / 8] |= (uint8_t)(1u << (k->v % 8));
	} else {
		uint64_t h = fnv1a(k->txt, k->n);
		struct slot *sl;

		if ((m->nused + 1) * 2 > m->nslots && memo_grow_slots(m) < 0)
			return -1;
		sl = memo_find(m, k->txt, k->n, h);
		sl->hash = h;
		sl->off = m->pool.len;
		sl->len = k->n;
		if (pk_buf_add(&m->pool, k->txt, k->n) < 0)
			return -1;
		m->nused++;
	}
	m->count++;
	return 0;
}

static void memo_release(struct memo *m)
{
	free(m->bits);
	free(m->slots);
	pk_buf_release(&m->pool);
}

/* ---- number formatting ------------------------------------------------ */

/* Writes the decimal digits of v at p (room for 20); returns the count. */
static size_t fmt_u64(char *p, uint64_t v)
{
	char t[20];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

static int put_u64(pk_buf *b, uint64_t v)
{
	char t[20];

	return pk_buf_add(b, t, fmt_u64(t, v));
}

static int put_i64(pk_buf *b, int64_t v)
{
	char t[21];
	size_t n = 0;

	if (v < 0)
		t[n++] = '-';
	/* 0 - (uint64_t)v is |v| even for INT64_MIN. */
	n += fmt_u64(t + n, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	return pk_buf_add(b, t, n);
}

/* ---- the disassembler state ------------------------------------------- */

/* One opcode's argument, located and (for numbers) parsed by read_arg. */
struct arg {
	const uint8_t *p; /* payload or line, without the newline */
	size_t n;
	const uint8_t *p2; /* second line of GLOBAL / INST */
	size_t n2;
	uint64_t u; /* fixed-size ints; PUT/GET keys */
	int64_t i;
	double d;
	int boolv;    /* INT/GET/PUT "00" / "01": 1 False, 2 True */
	bool numtext; /* the value is the decimal text in d->num */
	bool num_i64; /* ... and it fits in i */
};

struct dis {
	const uint8_t *data;
	size_t len;
	pk_buf *out;
	struct u64vec markpos; /* pickletools' markstack: MARK offsets */
	struct u64vec marks;   /* stack indices of MARK objects on the stack */
	uint64_t depth;	       /* emulated stack length */
	struct memo memo;
	pk_buf num; /* canonical decimal of an INT/LONG/PUT/GET */
	pk_buf tmp; /* decoded text arguments */
	pk_err *e;
};

static int nomem(struct dis *d, uint64_t pos)
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

/* int() and float() of bytes (what pickletools' readers call) read ASCII
 * only: Unicode digits and spaces, which pk_int_parse_le and
 * pk_float_parse take as int(str) does, are invalid literals here. */
static bool ascii_only(const uint8_t *s, size_t n)
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
 * ASCII.
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
			if (put_i64(&d->num, a->i) < 0)
				return nomem(d, pos);
			return PK_OK;
		}
	}
	pk_buf_reset(&d->tmp);
	if (!ascii_only(s, n))
		return pk_err_set(d->e, PK_E_ARG, "invalid integer literal",
				  pos);
	if (pk_int_parse_le((const char *)s, n, &d->tmp, &pe) != PK_OK) {
		if (pe.code == PK_E_NOMEM)
			return nomem(d, pos);
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
		return nomem(d, pos);
	return PK_OK;
}

/*
 * genops' half: locate the argument of opcode `op` (at offset pos), check
 * it fits in the data, and parse the numeric ones (their reader calls
 * int() or float(), so a bad literal fails here, before printing). Text
 * arguments are decoded while printing (put_arg) instead: their errors are
 * also reader errors, and put_arg's caller un-prints the line.
 */
static int read_arg(struct dis *d, const struct pk_opcode_info *info, size_t at,
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

		if (!ascii_only(a->p, a->n))
			return pk_err_set(d->e, PK_E_ARG,
					  "invalid float literal", pos);
		if (pk_float_parse((const char *)a->p, a->n, &a->d, &pe)) {
			if (pe.code == PK_E_NOMEM)
				return nomem(d, pos);
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
		return nomem(d, pos);
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

static bool all_ascii(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] & 0x80)
			return false;
	return true;
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

/* repr(arg) appended to out. Errors here are reader errors. */
static int put_arg(struct dis *d, const struct pk_opcode_info *info,
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
		rc = put_u64(out, a->u);
		break;
	case PK_ARG_I4:
		rc = put_i64(out, a->i);
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
		rc = pk_repr_str(d->tmp.data, d->tmp.len, out);
		break;
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
				return nomem(d, pos);
			rc = escape_decode(d, a->p2, a->n2, &d->tmp, pos);
			if (rc)
				return rc;
		}
		rc = pk_repr_str(d->tmp.data, d->tmp.len, out);
		break;
	case PK_ARG_UNICODESTRINGNL: {
		pk_err pe;

		pk_buf_reset(&d->tmp);
		if (pk_raw_unicode_decode(a->p, a->n, &d->tmp, &pe)) {
			if (pe.code == PK_E_NOMEM)
				return nomem(d, pos);
			return pk_err_set(d->e, PK_E_ARG,
					  "bad raw-unicode-escape text", pos);
		}
		rc = pk_repr_str(d->tmp.data, d->tmp.len, out);
		break;
	}
	case PK_ARG_STRING1:
	case PK_ARG_STRING4:
		if (all_ascii(a->p, a->n)) {
			rc = pk_repr_str(a->p, a->n, out);
		} else {
			pk_buf_reset(&d->tmp);
			if (pk_latin1_to_utf8(a->p, a->n, &d->tmp) < 0)
				return nomem(d, pos);
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
	return rc ? nomem(d, pos) : PK_OK;
}

/* The memo key of a PUT/GET argument. */
static void arg_key(struct dis *d, const struct pk_opcode_info *info,
		    const struct arg *a, struct key *k, char *t)
{
	k->small = false;
	if (info->arg != PK_ARG_DECIMALNL_SHORT || !a->numtext) {
		/* BINPUT and friends, or "00"/"01" (0 and 1) */
		k->v = a->u;
	} else if (a->num_i64 && a->i >= 0) {
		k->v = (uint64_t)a->i;
	} else {
		k->txt = (const char *)d->num.data;
		k->n = d->num.len;
		return;
	}
	if (k->v / 8 < d->memo.max_bits_bytes) {
		k->small = true;
	} else {
		k->txt = t;
		k->n = fmt_u64(t, k->v);
	}
}

/* "%5d: " + "%-4s " % repr(code)[1:-1] + indent + name. */
static int put_prefix(pk_buf *out, uint64_t pos, uint8_t code, size_t depth,
		      const char *name, size_t namelen)
{
	size_t indent, n;
	char num[20];
	uint8_t *p;

	n = fmt_u64(num, pos);
	if (depth > (SIZE_MAX - 64 - namelen) / 4)
		return -1;
	indent = depth * 4;
	if (pk_buf_grow(out, 32 + indent + namelen) < 0)
		return -1;
	p = out->data + out->len;
	for (size_t i = n; i < 5; i++)
		*p++ = ' ';
	memcpy(p, num, n);
	p += n;
	*p++ = ':';
	*p++ = ' ';
	if (code >= 0x80) {
		/* repr('\x80')[1:-1]: the C1 controls print as \xNN */
		*p++ = '\\';
		*p++ = 'x';
		*p++ = "0123456789abcdef"[code >> 4];
		*p++ = "0123456789abcdef"[code & 15];
	} else {
		/* every opcode below 0x80 is printable and not ' or \ */
		*p++ = code;
		*p++ = ' ';
		*p++ = ' ';
		*p++ = ' ';
	}
	*p++ = ' ';
	memset(p, ' ', indent);
	p += indent;
	memcpy(p, name, namelen);
	p += namelen;
	out->len = (size_t)(p - out->data);
	out->data[out->len] = '\0';
	return 0;
}

/* ' ' * (10 - len(name)): the "mild effort to align arguments". */
static int put_pad(pk_buf *out, size_t namelen)
{
	static const char sp[] = "           ";

	return pk_buf_add(out, sp, (namelen < 10 ? 10 - namelen : 0) + 1);
}

/* "(MARK at N)" / "(as N)" */
static int put_note(pk_buf *out, const char *what, uint64_t n)
{
	if (pk_buf_adds(out, what) < 0 || put_u64(out, n) < 0)
		return -1;
	return pk_buf_addc(out, ')');
}

static int dis_run(struct dis *d, int (*flush)(void *ctx, pk_buf *b), void *ctx)
{
	size_t at = 0;
	int maxproto = -1;
	int rc;

	for (;;) {
		const struct pk_opcode_info *info;
		const struct fx *fx;
		struct arg a = {0};
		uint64_t pos = at, numtopop, markat = 0;
		size_t start, namelen, next = 0;
		const char *errmsg = NULL;
		int errcode = PK_OK;
		enum { NO_MSG, MSG_MARK, MSG_AS, MSG_NOMARK } msg = NO_MSG;
		uint8_t code;

		if (at >= d->len)
			return pk_err_set(d->e, PK_E_TRUNCATED,
					  "pickle exhausted before seeing STOP",
					  d->len);
		code = d->data[at];
		info = pk_opcode_info(code);
		if (!info)
			return pk_err_set(d->e, PK_E_OPCODE, "unknown opcode",
					  pos);
		fx = &effects[code];
		rc = read_arg(d, info, at + 1, pos, &a, &next);
		if (rc)
			return rc;
		if (info->proto > maxproto)
			maxproto = info->proto;

		start = d->out->len;
		namelen = strlen(info->name);
		if (put_prefix(d->out, pos, code, d->markpos.n, info->name,
			       namelen) < 0)
			return nomem(d, pos);
		if (info->arg != PK_ARG_NONE) {
			if (put_pad(d->out, namelen) < 0)
				return nomem(d, pos);
			rc = put_arg(d, info, &a, pos);
			if (rc)
				goto unprint;
		}

		/* See whether a MARK should be popped. */
		numtopop = fx->before;
		if (fx->mark1 || (code == PK_OP_POP && d->depth && d->marks.n &&
				  d->marks.v[d->marks.n - 1] == d->depth - 1)) {
			if (d->markpos.n) {
				markat = d->markpos.v[--d->markpos.n];
				msg = MSG_MARK;
				/* Pop everything at and after the topmost
				 * markobject; pickletools dies with an
				 * IndexError (before printing) if none. */
				if (!d->marks.n) {
					rc = pk_err_set(d->e, PK_E_STACK,
							"no MARK object on the "
							"stack",
							pos);
					goto unprint;
				}
				d->depth = d->marks.v[--d->marks.n];
				numtopop = fx->mark1 ? fx->mark1 - 1u : 0;
			} else {
				msg = MSG_NOMARK;
				errcode = PK_E_STACK;
				errmsg = "no MARK exists on stack";
			}
		}

		/* Check for correct memo usage. */
		if (code == PK_OP_PUT || code == PK_OP_BINPUT ||
		    code == PK_OP_LONG_BINPUT || code == PK_OP_MEMOIZE) {
			struct key k;
			char t[20];

			if (code == PK_OP_MEMOIZE) {
				a.u = d->memo.count;
				a.numtext = false;
				msg = MSG_AS;
				markat = d->memo.count;
			}
			arg_key(d, info, &a, &k, t);
			if (memo_has(&d->memo, &k)) {
				errcode = PK_E_MEMO;
				errmsg = "memo key already defined";
			} else if (!d->depth) {
				errcode = PK_E_MEMO;
				errmsg = "stack is empty -- can't store into "
					 "memo";
			} else if (d->marks.n &&
				   d->marks.v[d->marks.n - 1] == d->depth - 1) {
				errcode = PK_E_MEMO;
				errmsg = "can't store markobject in the memo";
			} else if (memo_add(&d->memo, &k) < 0) {
				rc = nomem(d, pos);
				goto unprint;
			}
		} else if (code == PK_OP_GET || code == PK_OP_BINGET ||
			   code == PK_OP_LONG_BINGET) {
			struct key k;
			char t[20];

			arg_key(d, info, &a, &k, t);
			if (!memo_has(&d->memo, &k)) {
				errcode = PK_E_MEMO;
				errmsg = "memo key has never been stored into";
			}
		}

		if (msg != NO_MSG) {
			int r = 0;

			if (info->arg == PK_ARG_NONE)
				r = put_pad(d->out, namelen);
			else
				r = pk_buf_addc(d->out, ' ');
			if (!r && msg == MSG_MARK)
				r = put_note(d->out, "(MARK at ", markat);
			else if (!r && msg == MSG_AS)
				r = put_note(d->out, "(as ", markat);
			else if (!r)
				r = pk_buf_adds(d->out, errmsg);
			if (r < 0) {
				rc = nomem(d, pos);
				goto unprint;
			}
		}
		if (pk_buf_addc(d->out, '\n') < 0) {
			rc = nomem(d, pos);
			goto unprint;
		}

		/* Complaints come after the offending line, as in dis(). */
		if (errcode)
			return pk_err_set(d->e, errcode, errmsg, pos);

		/* Emulate the stack effects. */
		if (d->depth < numtopop)
			return pk_err_set(d->e, PK_E_STACK,
					  "pops more items than the stack "
					  "holds",
					  pos);
		d->depth -= numtopop;
		while (d->marks.n && d->marks.v[d->marks.n - 1] >= d->depth)
			d->marks.n--;
		if (code == PK_OP_MARK) {
			if (vec_push(&d->markpos, pos) < 0 ||
			    vec_push(&d->marks, d->depth) < 0)
				return nomem(d, pos);
			d->depth++;
		} else {
			d->depth += fx->after;
		}

		at = next;
		if (code == PK_OP_STOP)
			break;
		if (flush && d->out->len >= FLUSH_AT && flush(ctx, d->out))
			return pk_err_set(d->e, PK_E_IO,
					  "writing the listing failed", at);
		continue;
	unprint:
		d->out->len = start;
		d->out->data[start] = '\0';
		return rc;
	}

	if (pk_buf_adds(d->out, "highest protocol among opcodes = ") < 0 ||
	    put_i64(d->out, maxproto) < 0 || pk_buf_addc(d->out, '\n') < 0)
		return nomem(d, at - 1);
	if (d->depth)
		return pk_err_set(d->e, PK_E_STACK,
				  "stack not empty after STOP", at - 1);
	return pk_err_set(d->e, PK_OK, NULL, 0);
}

static int dis_main(const uint8_t *data, size_t len, pk_buf *out,
		    int (*flush)(void *ctx, pk_buf *b), void *ctx, pk_err *e)
{
	struct dis d = {0};
	int rc;

	d.data = data;
	d.len = len;
	d.out = out;
	d.e = e;
	/* One bit per possible key up to 8 per input byte (at least 8K
	 * keys): enough for any memo a pickler numbers from 0, and
	 * proportional to the input whatever a key says. */
	d.memo.max_bits_bytes = len < SIZE_MAX / 2 - 1024 ? len + 1024 : len;
	pk_buf_init(&d.num);
	pk_buf_init(&d.tmp);
	pk_buf_init(&d.memo.pool);
	rc = dis_run(&d, flush, ctx);
	free(d.markpos.v);
	free(d.marks.v);
	memo_release(&d.memo);
	pk_buf_release(&d.num);
	pk_buf_release(&d.tmp);
	return rc;
}

int pk_dis(const uint8_t *data, size_t len, pk_buf *out, pk_err *e)
{
	return dis_main(data, len, out, NULL, NULL, e);
}

int pk_dis_stream(const uint8_t *data, size_t len,
		  int (*flush)(void *ctx, pk_buf *b), void *ctx, pk_err *e)
{
	pk_buf out = PK_BUF_INIT;
	pk_err tmp;
	int rc;

	if (!e)
		e = &tmp;
	rc = dis_main(data, len, &out, flush, ctx, e);
	/* What was printed before an error is still output (unless
	 * writing is what failed). */
	if (out.len && rc != PK_E_IO && flush(ctx, &out) && rc == PK_OK)
		rc = pk_err_set(e, PK_E_IO, "writing the listing failed", len);
	pk_buf_release(&out);
	return rc;
}
