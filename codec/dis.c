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

#include "dis_internal.h"
#include "opcodes.h"

/* Flush the streaming buffer once a line ends beyond this size. */
#define FLUSH_AT ((size_t)1 << 20)

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

static int vec_push(struct u64vec *s, uint64_t x)
{
	if (pk_vec_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)))
		return -1;
	s->v[s->n++] = x;
	return 0;
}

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
		k->n = pk_fmt_u64(t, k->v);
	}
}

/* "%5d: " + "%-4s " % repr(code)[1:-1] + indent + name. */
static int put_prefix(pk_buf *out, uint64_t pos, uint8_t code, size_t depth,
		      const char *name, size_t namelen)
{
	size_t indent, n;
	char num[20];
	uint8_t *p;

	n = pk_fmt_u64(num, pos);
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
	if (pk_buf_adds(out, what) < 0 || pk_buf_add_u64(out, n) < 0)
		return -1;
	return pk_buf_addc(out, ')');
}

/* What dis() appends to an opcode's line, and the complaint it raises
 * after printing it. */
struct note {
	enum { NO_MSG, MSG_MARK, MSG_AS, MSG_NOMARK } msg;
	uint64_t n; /* the N of "(MARK at N)" / "(as N)" */
	int errcode;
	const char *errmsg;
};

/* See whether a MARK should be popped: *numtopop becomes what the
 * opcode pops above the mark. 0, or a pk_code raised before printing. */
static int take_mark(struct dis *d, uint8_t code, const struct fx *fx,
		     uint64_t pos, uint64_t *numtopop, struct note *nt)
{
	*numtopop = fx->before;
	if (!fx->mark1 && !(code == PK_OP_POP && d->depth && d->marks.n &&
			    d->marks.v[d->marks.n - 1] == d->depth - 1))
		return PK_OK;
	if (!d->markpos.n) {
		nt->msg = MSG_NOMARK;
		nt->errcode = PK_E_STACK;
		nt->errmsg = "no MARK exists on stack";
		return PK_OK;
	}
	nt->n = d->markpos.v[--d->markpos.n];
	nt->msg = MSG_MARK;
	/* Pop everything at and after the topmost markobject; pickletools
	 * dies with an IndexError (before printing) if none. */
	if (!d->marks.n)
		return pk_err_set(d->e, PK_E_STACK,
				  "no MARK object on the stack", pos);
	d->depth = d->marks.v[--d->marks.n];
	*numtopop = fx->mark1 ? fx->mark1 - 1u : 0;
	return PK_OK;
}

/* Check for correct memo usage: PUTs define a key once, GETs use a
 * defined one. 0, or PK_E_NOMEM. */
static int check_memo(struct dis *d, uint8_t code,
		      const struct pk_opcode_info *info, struct arg *a,
		      uint64_t pos, struct note *nt)
{
	struct key k;
	char t[20];

	if (code == PK_OP_GET || code == PK_OP_BINGET ||
	    code == PK_OP_LONG_BINGET) {
		arg_key(d, info, a, &k, t);
		if (!memo_has(&d->memo, &k)) {
			nt->errcode = PK_E_MEMO;
			nt->errmsg = "memo key has never been stored into";
		}
		return PK_OK;
	}
	if (code != PK_OP_PUT && code != PK_OP_BINPUT &&
	    code != PK_OP_LONG_BINPUT && code != PK_OP_MEMOIZE)
		return PK_OK;
	if (code == PK_OP_MEMOIZE) {
		a->u = d->memo.count;
		a->numtext = false;
		nt->msg = MSG_AS;
		nt->n = d->memo.count;
	}
	arg_key(d, info, a, &k, t);
	if (memo_has(&d->memo, &k)) {
		nt->errcode = PK_E_MEMO;
		nt->errmsg = "memo key already defined";
	} else if (!d->depth) {
		nt->errcode = PK_E_MEMO;
		nt->errmsg = "stack is empty -- can't store into memo";
	} else if (d->marks.n && d->marks.v[d->marks.n - 1] == d->depth - 1) {
		nt->errcode = PK_E_MEMO;
		nt->errmsg = "can't store markobject in the memo";
	} else if (memo_add(&d->memo, &k) < 0) {
		return pk_dis_nomem(d, pos);
	}
	return PK_OK;
}

/* The note and the newline that end the line: 0 or -1 (no memory). */
static int put_line_end(struct dis *d, const struct pk_opcode_info *info,
			size_t namelen, const struct note *nt)
{
	int r = 0;

	if (nt->msg != NO_MSG) {
		if (info->arg == PK_ARG_NONE)
			r = put_pad(d->out, namelen);
		else
			r = pk_buf_addc(d->out, ' ');
		if (!r && nt->msg == MSG_MARK)
			r = put_note(d->out, "(MARK at ", nt->n);
		else if (!r && nt->msg == MSG_AS)
			r = put_note(d->out, "(as ", nt->n);
		else if (!r)
			r = pk_buf_adds(d->out, nt->errmsg);
	}
	return r ? r : pk_buf_addc(d->out, '\n');
}

/* Emulate the stack effects. */
static int apply_effect(struct dis *d, uint8_t code, const struct fx *fx,
			uint64_t numtopop, uint64_t pos)
{
	if (d->depth < numtopop)
		return pk_err_set(d->e, PK_E_STACK,
				  "pops more items than the stack holds", pos);
	d->depth -= numtopop;
	while (d->marks.n && d->marks.v[d->marks.n - 1] >= d->depth)
		d->marks.n--;
	if (code != PK_OP_MARK) {
		d->depth += fx->after;
		return PK_OK;
	}
	if (vec_push(&d->markpos, pos) < 0 || vec_push(&d->marks, d->depth) < 0)
		return pk_dis_nomem(d, pos);
	d->depth++;
	return PK_OK;
}

/* One opcode at `at`: its line printed (nothing of it when a reader
 * error is raised), its checks made, its stack effect applied. *next:
 * the offset after it. 0 or a pk_code. */
static int dis_opcode(struct dis *d, size_t at, size_t *next, uint8_t *code)
{
	const struct pk_opcode_info *info;
	struct arg a = {0};
	struct note nt = {NO_MSG, 0, PK_OK, NULL};
	uint64_t pos = at, numtopop;
	size_t start = d->out->len, namelen;
	int rc;

	if (at >= d->len)
		return pk_err_set(d->e, PK_E_TRUNCATED,
				  "pickle exhausted before seeing STOP",
				  d->len);
	*code = d->data[at];
	info = pk_opcode_info(*code);
	if (!info)
		return pk_err_set(d->e, PK_E_OPCODE, "unknown opcode", pos);
	if ((rc = pk_dis_read_arg(d, info, at + 1, pos, &a, next)))
		return rc;
	namelen = strlen(info->name);
	if (put_prefix(d->out, pos, *code, d->markpos.n, info->name, namelen) <
	    0)
		return pk_dis_nomem(d, pos);
	if (info->arg != PK_ARG_NONE) {
		if (put_pad(d->out, namelen) < 0)
			rc = pk_dis_nomem(d, pos);
		else
			rc = pk_dis_put_arg(d, info, &a, pos);
		if (rc)
			goto unprint;
	}
	if ((rc = take_mark(d, *code, &effects[*code], pos, &numtopop, &nt)) ||
	    (rc = check_memo(d, *code, info, &a, pos, &nt)))
		goto unprint;
	if (put_line_end(d, info, namelen, &nt) < 0) {
		rc = pk_dis_nomem(d, pos);
		goto unprint;
	}
	/* Complaints come after the offending line, as in dis(). */
	if (nt.errcode)
		return pk_err_set(d->e, nt.errcode, nt.errmsg, pos);
	return apply_effect(d, *code, &effects[*code], numtopop, pos);
unprint:
	d->out->len = start;
	d->out->data[start] = '\0';
	return rc;
}

static int dis_run(struct dis *d, int (*flush)(void *ctx, pk_buf *b), void *ctx)
{
	size_t at = 0, next = 0;
	int maxproto = -1, rc;
	uint8_t code = 0;

	for (;;) {
		if ((rc = dis_opcode(d, at, &next, &code)))
			return rc;
		if (pk_opcodes[code].proto > maxproto)
			maxproto = pk_opcodes[code].proto;
		at = next;
		if (code == PK_OP_STOP)
			break;
		if (flush && d->out->len >= FLUSH_AT && flush(ctx, d->out))
			return pk_err_set(d->e, PK_E_IO,
					  "writing the listing failed", at);
	}
	if (pk_buf_adds(d->out, "highest protocol among opcodes = ") < 0 ||
	    pk_buf_add_i64(d->out, maxproto) < 0 ||
	    pk_buf_addc(d->out, '\n') < 0)
		return pk_dis_nomem(d, at - 1);
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
