#include "pickle.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "byteorder.h"
#include "memo.h"
#include "tree.h"
#include "opcodes.h"
#include "text.h"

/*
 * The decoder is the pickle virtual machine with every "call" replaced by
 * node construction. It follows _pickle.c's stack discipline (a value
 * stack plus a separate mark stack whose top is the fence below which
 * ordinary pops may not reach), so that what CPython refuses as
 * structurally broken is refused here, with the offset of the opcode.
 */

struct dec {
	const uint8_t *base;
	const uint8_t *p;
	const uint8_t *end;
	pk_doc *doc;
	pk_arena *arena;
	pk_err *e;

	pk_val *stack;
	size_t sp, scap;
	size_t *marks;
	size_t nmarks, mcap;

	pk_memo memo;
	int saw_put, saw_memoize;
	const uint8_t *prev_op; /* start of the opcode before this one */

	pk_buf scratch;
	pk_decode_progress_fn progress;
	void *progress_ctx;
};

static int fail(struct dec *d, int code, const char *msg, const uint8_t *at)
{
	return pk_err_set(d->e, code, msg, (uint64_t)(at - d->base));
}

/* ---- stack ------------------------------------------------------------ */

__attribute__((cold, noinline)) static int grow_stack(struct dec *d,
						      const uint8_t *op)
{
	if (pk_vec_grow((void **)&d->stack, &d->scap, d->scap + 1,
			sizeof(*d->stack)))
		return fail(d, PK_E_NOMEM, "out of memory", op);
	return 0;
}

__attribute__((always_inline)) static inline int push(struct dec *d, pk_val v,
						      const uint8_t *op)
{
	if (__builtin_expect(d->sp == d->scap, 0) && grow_stack(d, op))
		return d->e->code;
	d->stack[d->sp++] = v;
	return 0;
}

static inline size_t fence(const struct dec *d)
{
	return d->nmarks ? d->marks[d->nmarks - 1] : 0;
}

static int push_mark(struct dec *d, const uint8_t *op)
{
	if (d->nmarks == d->mcap &&
	    pk_vec_grow((void **)&d->marks, &d->mcap, d->nmarks + 1,
			sizeof(*d->marks)))
		return fail(d, PK_E_NOMEM, "out of memory", op);
	d->marks[d->nmarks++] = d->sp;
	return 0;
}

/* Pops the top mark; *at receives the stack position it marked. */
static int pop_mark(struct dec *d, size_t *at, const uint8_t *op)
{
	if (!d->nmarks)
		return fail(d, PK_E_STACK, "could not find MARK", op);
	*at = d->marks[--d->nmarks];
	if (*at > d->sp)
		return fail(d, PK_E_STACK, "MARK above the stack top", op);
	return 0;
}

/* ---- nodes ------------------------------------------------------------ */

__attribute__((always_inline)) static inline pk_node *node_new(struct dec *d,
							       int kind)
{
	pk_node *n = pk_arena_alloc(d->arena, sizeof(*n));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->kind = (uint8_t)kind;
	return n;
}

/* Scalars are their opcode bytes; the kind is read back from them. */
#define scalar_val(kind, op) pk_val_of_bytes(op)

/* New node whose creation step consumes the top `count` stack values. */
__attribute__((always_inline)) static inline int
make_node(struct dec *d, int kind, uint8_t op, int marked, size_t from,
	  const uint8_t *at)
{
	size_t count = d->sp - from;
	pk_node *n = node_new(d, kind);

	if (!n)
		return fail(d, PK_E_NOMEM, "out of memory", at);
	if (count == 0) {
		/* EMPTY_DICT and friends: the first inline step, no kids */
		n->nsteps = 1;
		n->step.two[0].op = op;
		n->step.two[0].marked = (uint8_t)(marked != 0);
	} else if (pk_node_add_step(d->arena, n, op, marked, d->stack + from,
				    count) < 0) {
		return fail(d, PK_E_NOMEM, "out of memory", at);
	}
	d->sp = from;
	return push(d, pk_val_of_node(n), at);
}

/* ---- memo ------------------------------------------------------------- */

__attribute__((always_inline)) static inline int
memo_put(struct dec *d, uint64_t idx, uint8_t putop, const uint8_t *op)
{
	pk_val top;
	pk_memo_ent *slot;

	if (d->sp <= fence(d))
		return fail(d, PK_E_STACK, "unpickling stack underflow", op);
	if (idx > UINT32_MAX)
		return fail(d, PK_E_MEMO, "memo index too large", op);
	if (putop == PK_OP_MEMOIZE)
		d->saw_memoize = 1;
	else
		d->saw_put = 1;
	top = d->stack[d->sp - 1];
	if (pk_val_is_node(top)) {
		pk_node *n = pk_val_node(top);
		if (n->put || n->nsteps - 1 > UINT8_MAX) {
			/* memoized twice, or too late to say where: CPython's
			 * pickler never does either */
			d->doc->irregular = 1;
		} else {
			n->put = putop;
			n->memo = (uint32_t)idx;
			n->put_after = (uint8_t)(n->nsteps - 1);
		}
	} else if (top.bits != (uintptr_t)d->prev_op) {
		/* A scalar's PUT must come right after its bytes (the
		 * opcode before this one pushed it): that is where the
		 * encoder looks for it. */
		d->doc->irregular = 1;
	}
	/* An index PUT again: CPython's pickler never reuses one, and the
	 * tree cannot say which GETs fetched which value (the encoder then
	 * numbers the memo itself). */
	if (pk_memo_get(&d->memo, idx))
		d->doc->irregular = 1;
	slot = pk_memo_put(&d->memo, idx);
	if (!slot)
		return fail(d, PK_E_NOMEM, "out of memory", op);
	slot->val = top.bits;
	return 0;
}

__attribute__((always_inline)) static inline int
memo_get(struct dec *d, uint64_t idx, const uint8_t *op)
{
	pk_memo_ent *slot = pk_memo_get(&d->memo, idx);
	pk_val v;

	if (!slot)
		return fail(d, PK_E_MEMO, "memo value not found", op);
	v.bits = slot->val & ~PK_MEMO_USER_BIT;
	if (!(slot->val & PK_MEMO_USER_BIT)) {
		/* first fetch: mark it shared (the user bit remembers) */
		if (pk_val_is_node(v)) {
			pk_val_node(v)->flags |= PK_NODE_SHARED;
			d->doc->shared_nodes++;
		} else if (pk_idmap_set(d->doc->shared, v.bits, 0) < 0)
			return fail(d, PK_E_NOMEM, "out of memory", op);
		slot->val |= PK_MEMO_USER_BIT;
	}
	return push(d, v, op);
}

/* ---- argument readers ------------------------------------------------- */

/* Needs n argument bytes after the opcode byte. */
#define NEED(n)                                                                \
	do {                                                                   \
		if ((size_t)(d->end - d->p) < (size_t)(n))                     \
			return fail(d, PK_E_TRUNCATED,                         \
				    "pickle data was truncated", op);          \
	} while (0)

/* Reads a line argument; the line and its length exclude the newline. */
static int read_line(struct dec *d, const uint8_t *op, const uint8_t **line,
		     size_t *len)
{
	const uint8_t *nl = memchr(d->p, '\n', (size_t)(d->end - d->p));

	if (!nl)
		return fail(d, PK_E_TRUNCATED, "pickle data was truncated", op);
	*line = d->p;
	*len = (size_t)(nl - d->p);
	d->p = nl + 1;
	return 0;
}

static int is_decimal(const uint8_t *s, size_t n, int allow_l)
{
	size_t i = 0;

	if (allow_l && n > 0 && s[n - 1] == 'L')
		n--;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int parse_index(const uint8_t *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static inline int utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;

	/* ASCII fast path: most keys and names never leave it. */
	while (i + 8 <= n) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			break;
		i += 8;
	}
	while (i < n && s[i] < 0x80)
		i++;
	return i == n || pk_utf8_valid(s + i, n - i, 1);
}

/* Length-prefixed payload: reads an n-byte little-endian size, checks the
 * payload fits in what remains, and advances past it. */
static int read_counted(struct dec *d, const uint8_t *op, int nbytes,
			int is_signed, const uint8_t **payload, uint64_t *len)
{
	uint64_t n;

	NEED(nbytes);
	n = pk_le(d->p, nbytes);
	if (is_signed && nbytes == 4 && (n & 0x80000000u))
		return fail(d, PK_E_ARG, "negative byte count", op);
	d->p += nbytes;
	if ((uint64_t)(d->end - d->p) < n)
		return fail(d, PK_E_TRUNCATED, "pickle data was truncated", op);
	*payload = d->p;
	*len = n;
	d->p += n;
	return 0;
}

/* ---- discarded values ------------------------------------------------- */

/* The value a GET at p would fetch, or 0 bits when p is no GET. */
static pk_val peek_get(struct dec *d, const uint8_t *p)
{
	pk_val none = {0};
	uint64_t idx;
	pk_memo_ent *m;

	if (p >= d->end)
		return none;
	if (*p == PK_OP_BINGET && d->end - p >= 2) {
		idx = p[1];
	} else if (*p == PK_OP_LONG_BINGET && d->end - p >= 5) {
		idx = pk_le32(p + 1);
	} else if (*p == PK_OP_GET) {
		const uint8_t *nl =
		    memchr(p + 1, '\n', (size_t)(d->end - p - 1));
		if (!nl || parse_index(p + 1, (size_t)(nl - p - 1), &idx))
			return none;
	} else {
		return none;
	}
	m = pk_memo_get(&d->memo, idx);
	if (!m)
		return none;
	none.bits = m->val & ~PK_MEMO_USER_BIT;
	return none;
}

static int is_obj(pk_val v)
{
	return pk_val_is_node(v) && pk_val_node(v)->kind == PK_OBJECT;
}

static int is_call(pk_val v)
{
	uint8_t op;

	if (!pk_val_is_node(v) || pk_val_node(v)->kind != PK_OBJECT)
		return 0;
	op = pk_node_steps(pk_val_node(v))[0].op;
	return op == PK_OP_REDUCE || op == PK_OP_NEWOBJ ||
	       op == PK_OP_NEWOBJ_EX;
}

/*
 * POP: CPython writes it in three situations, and the tree must keep
 * what the first two throw away, because the encoder cannot derive it:
 *  - save_reduce of a recursive object: the call written first is
 *    dropped and the object fetched (POP, GET) - if its arguments were
 *    new objects (a frozenset's list), that call becomes the object's
 *    SHELL step;
 *  - a call made for its effect (state_setter, dill's _setattr): kept
 *    as a POP step on the object below it;
 *  - save_tuple of a recursive tuple (POP..., GET): the items are the
 *    tuple's own, which the encoder writes again: dropped.
 */
static int pop_value(struct dec *d, const uint8_t *op)
{
	pk_val v = d->stack[d->sp - 1], got;
	const uint8_t *next = d->p;

	d->sp--;
	if (next < d->end && *next == PK_OP_POP)
		return 0;
	got = peek_get(d, next);
	if (got.bits) {
		if (is_call(v) && is_call(got)) {
			pk_node *x = pk_val_node(v), *f = pk_val_node(got);
			const pk_step *fs = pk_node_steps(f);
			if (pk_node_steps(x)[0].op == fs[0].op &&
			    x->kids[0].bits == f->kids[0].bits &&
			    fs[f->nsteps - 1].op != PK_STEP_SHELL) {
				if (pk_node_add_step(d->arena, f, PK_STEP_SHELL,
						     0, &v, 1) < 0)
					return fail(d, PK_E_NOMEM,
						    "out of memory", op);
				return 0;
			}
		}
		if (!is_call(v))
			return 0; /* a recursive tuple's items */
	}
	/* Only objects get POP steps: a dict's kids must stay pairs and a
	 * list's kids its items. */
	if (d->sp > fence(d) && is_obj(d->stack[d->sp - 1]) &&
	    pk_val_is_node(v)) {
		pk_node *below = pk_val_node(d->stack[d->sp - 1]);
		if (pk_node_add_step(d->arena, below, PK_OP_POP, 0, &v, 1) < 0)
			return fail(d, PK_E_NOMEM, "out of memory", op);
		return 0;
	}
	/* Something CPython's pickler never writes: the value is lost to
	 * the tree, so the encoder must not claim to reproduce the input. */
	d->doc->irregular = 1;
	return 0;
}

/* ---- the machine ------------------------------------------------------ */

static int need_node_target(struct dec *d, size_t pos, int k1, int k2,
			    const char *msg, const uint8_t *op)
{
	pk_val t;

	if (pos >= d->sp)
		return fail(d, PK_E_STACK, "unpickling stack underflow", op);
	t = d->stack[pos];
	if (!pk_val_is_node(t) ||
	    (pk_val_node(t)->kind != k1 && pk_val_node(t)->kind != k2))
		return fail(d, PK_E_STACK, msg, op);
	return 0;
}

/* Appends stack[from..sp) to the node at stack[from-1] as a step. */
static int mutate(struct dec *d, size_t target, size_t from, uint8_t opc,
		  int marked, const uint8_t *op)
{
	pk_node *n = pk_val_node(d->stack[target]);

	if (pk_node_add_step(d->arena, n, opc, marked,
			     d->sp > from ? d->stack + from : NULL,
			     d->sp - from) < 0)
		return fail(d, PK_E_NOMEM, "out of memory", op);
	d->sp = from;
	return 0;
}

static int step(struct dec *d, int *stop)
{
	const uint8_t *op = d->p;
	const struct pk_opcode_info *info = &pk_opcodes[*op];
	const uint8_t *a = NULL, *b = NULL;
	uint64_t n = 0, idx;
	size_t len = 0, blen = 0, at;
	int rc;

	/* The argument, located by the grammar of opcodes.h: a fixed field,
	 * a counted payload (a, n) or one or two lines (a, len; b, blen).
	 * A byte that is no opcode has no argument, and fails below. */
	d->p++;
	switch (info->form) {
	case PK_FORM_FIXED:
		NEED(info->width);
		a = d->p;
		d->p += info->width;
		break;
	case PK_FORM_COUNTED:
		if ((rc = read_counted(d, op, info->width, info->neg_count, &a,
				       &n)))
			return rc;
		break;
	case PK_FORM_LINE2:
		if ((rc = read_line(d, op, &a, &len)) ||
		    (rc = read_line(d, op, &b, &blen)))
			return rc;
		break;
	case PK_FORM_LINE:
		if ((rc = read_line(d, op, &a, &len)))
			return rc;
		break;
	}

	switch (*op) {
	/* -- scalars -- */
	case PK_OP_NONE:
		return push(d, scalar_val(PK_NONE, op), op);
	case PK_OP_NEWTRUE:
	case PK_OP_NEWFALSE:
		return push(d, scalar_val(PK_BOOL, op), op);
	case PK_OP_BININT1:
		return push(d, scalar_val(PK_INT, op), op);
	case PK_OP_BININT2:
		return push(d, scalar_val(PK_INT, op), op);
	case PK_OP_BININT:
		return push(d, scalar_val(PK_INT, op), op);
	case PK_OP_BINFLOAT:
		return push(d, scalar_val(PK_FLOAT, op), op);
	case PK_OP_LONG1:
	case PK_OP_LONG4:
		return push(d, scalar_val(PK_INT, op), op);
	case PK_OP_INT:
		if (len == 2 && a[0] == '0' && (a[1] == '0' || a[1] == '1'))
			return push(d, scalar_val(PK_BOOL, op), op);
		if (!is_decimal(a, len, 0))
			return fail(d, PK_E_ARG, "invalid literal for int", op);
		return push(d, scalar_val(PK_INT, op), op);
	case PK_OP_LONG:
		if (!is_decimal(a, len, 1))
			return fail(d, PK_E_ARG, "invalid literal for int", op);
		return push(d, scalar_val(PK_INT, op), op);
	case PK_OP_FLOAT: {
		double f;
		if (pk_float_parse((const char *)a, len, &f, NULL) != PK_OK)
			return fail(d, PK_E_ARG,
				    "could not convert string to float", op);
		return push(d, scalar_val(PK_FLOAT, op), op);
	}
	case PK_OP_SHORT_BINUNICODE:
	case PK_OP_BINUNICODE:
	case PK_OP_BINUNICODE8:
		if (!utf8_ok(a, n))
			return fail(d, PK_E_ARG, "invalid UTF-8 in str", op);
		return push(d, scalar_val(PK_STR, op), op);
	case PK_OP_UNICODE:
		pk_buf_reset(&d->scratch);
		if (pk_raw_unicode_decode(a, len, &d->scratch, NULL) != PK_OK)
			return fail(d, PK_E_ARG,
				    "bad raw-unicode-escape string", op);
		return push(d, scalar_val(PK_STR, op), op);
	case PK_OP_SHORT_BINBYTES:
	case PK_OP_BINBYTES:
	case PK_OP_BINBYTES8:
		return push(d, scalar_val(PK_BYTES, op), op);
	case PK_OP_BYTEARRAY8:
		return push(d, scalar_val(PK_BYTEARRAY, op), op);
	case PK_OP_SHORT_BINSTRING:
	case PK_OP_BINSTRING:
		return push(d, scalar_val(PK_STRING, op), op);
	case PK_OP_STRING:
		pk_buf_reset(&d->scratch);
		if (pk_string_literal_decode(a, len, &d->scratch, NULL) !=
		    PK_OK)
			return fail(d, PK_E_ARG,
				    "the STRING opcode argument must be quoted",
				    op);
		return push(d, scalar_val(PK_STRING, op), op);
	case PK_OP_GLOBAL:
		if (!pk_utf8_valid(a, len, 0) || !pk_utf8_valid(b, blen, 0))
			return fail(d, PK_E_ARG, "invalid UTF-8 in global name",
				    op);
		return push(d, scalar_val(PK_GLOBAL, op), op);
	case PK_OP_EXT1:
	case PK_OP_EXT2:
	case PK_OP_EXT4:
		n = pk_le(a, info->width);
		if (n == 0 || (*op == PK_OP_EXT4 && (n & 0x80000000u)))
			return fail(d, PK_E_ARG, "EXT specifies code <= 0", op);
		return push(d, scalar_val(PK_EXT, op), op);
	case PK_OP_PERSID: {
		size_t i;
		for (i = 0; i < len; i++)
			if (a[i] >= 0x80)
				return fail(
				    d, PK_E_ARG,
				    "persistent IDs in protocol 0 must be "
				    "ASCII strings",
				    op);
		return push(d, scalar_val(PK_PERSID, op), op);
	}
	case PK_OP_NEXT_BUFFER:
		return push(d, scalar_val(PK_BUFFER, op), op);

	/* -- containers -- */
	case PK_OP_EMPTY_LIST:
		return make_node(d, PK_LIST, *op, 0, d->sp, op);
	case PK_OP_EMPTY_DICT:
		return make_node(d, PK_DICT, *op, 0, d->sp, op);
	case PK_OP_EMPTY_SET:
		return make_node(d, PK_SET, *op, 0, d->sp, op);
	case PK_OP_EMPTY_TUPLE:
		return make_node(d, PK_TUPLE, *op, 0, d->sp, op);
	case PK_OP_TUPLE1:
	case PK_OP_TUPLE2:
	case PK_OP_TUPLE3:
		len = (size_t)(*op - PK_OP_TUPLE1 + 1);
		if (d->sp < fence(d) + len)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		return make_node(d, PK_TUPLE, *op, 0, d->sp - len, op);
	case PK_OP_TUPLE:
	case PK_OP_LIST:
	case PK_OP_FROZENSET:
		if ((rc = pop_mark(d, &at, op)))
			return rc;
		return make_node(d,
				 *op == PK_OP_TUPLE  ? PK_TUPLE
				 : *op == PK_OP_LIST ? PK_LIST
						     : PK_FROZENSET,
				 *op, 1, at, op);
	case PK_OP_DICT:
		if ((rc = pop_mark(d, &at, op)))
			return rc;
		if ((d->sp - at) % 2)
			return fail(d, PK_E_STACK,
				    "odd number of items for DICT", op);
		return make_node(d, PK_DICT, *op, 1, at, op);
	case PK_OP_APPEND:
		if (d->sp < 2)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		if ((rc = need_node_target(
			 d, d->sp - 2, PK_LIST, PK_OBJECT,
			 "APPEND to a value that is not a list", op)))
			return rc;
		return mutate(d, d->sp - 2, d->sp - 1, *op, 0, op);
	case PK_OP_APPENDS:
		if ((rc = pop_mark(d, &at, op)))
			return rc;
		if (at == 0)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		if ((rc = need_node_target(
			 d, at - 1, PK_LIST, PK_OBJECT,
			 "APPENDS to a value that is not a list", op)))
			return rc;
		return mutate(d, at - 1, at, *op, 1, op);
	case PK_OP_SETITEM:
		if (d->sp < 3)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		if ((rc = need_node_target(
			 d, d->sp - 3, PK_DICT, PK_OBJECT,
			 "SETITEM on a value that is not a dict", op)))
			return rc;
		return mutate(d, d->sp - 3, d->sp - 2, *op, 0, op);
	case PK_OP_SETITEMS:
		if ((rc = pop_mark(d, &at, op)))
			return rc;
		if (at == 0)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		if ((d->sp - at) % 2)
			return fail(d, PK_E_STACK,
				    "odd number of items for SETITEMS", op);
		if ((rc = need_node_target(
			 d, at - 1, PK_DICT, PK_OBJECT,
			 "SETITEMS on a value that is not a dict", op)))
			return rc;
		return mutate(d, at - 1, at, *op, 1, op);
	case PK_OP_ADDITEMS:
		if ((rc = pop_mark(d, &at, op)))
			return rc;
		if (at == 0)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		if ((rc = need_node_target(
			 d, at - 1, PK_SET, PK_OBJECT,
			 "ADDITEMS on a value that is not a set", op)))
			return rc;
		return mutate(d, at - 1, at, *op, 1, op);

	/* -- objects -- */
	case PK_OP_STACK_GLOBAL:
		if (d->sp < fence(d) + 2)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		if (pk_val_kind(d->stack[d->sp - 1]) != PK_STR ||
		    pk_val_kind(d->stack[d->sp - 2]) != PK_STR)
			return fail(d, PK_E_STACK, "STACK_GLOBAL requires str",
				    op);
		return make_node(d, PK_GLOBAL, *op, 0, d->sp - 2, op);
	case PK_OP_REDUCE:
	case PK_OP_NEWOBJ:
		if (d->sp < fence(d) + 2)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		return make_node(d, PK_OBJECT, *op, 0, d->sp - 2, op);
	case PK_OP_NEWOBJ_EX:
		if (d->sp < fence(d) + 3)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		return make_node(d, PK_OBJECT, *op, 0, d->sp - 3, op);
	case PK_OP_BUILD:
		if (d->sp < fence(d) + 2)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		if ((rc = need_node_target(
			 d, d->sp - 2, PK_OBJECT, PK_OBJECT,
			 "BUILD on a value that is not an object", op)))
			return rc;
		return mutate(d, d->sp - 2, d->sp - 1, *op, 0, op);
	case PK_OP_INST: {
		if (!pk_utf8_valid(a, len, 0) || !pk_utf8_valid(b, blen, 0))
			return fail(d, PK_E_ARG, "invalid UTF-8 in global name",
				    op);
		if ((rc = pop_mark(d, &at, op)))
			return rc;
		/* The class goes first among the kids, as for OBJ. */
		if ((rc = push(d, pk_val_of_bytes(op), op)))
			return rc;
		memmove(d->stack + at + 1, d->stack + at,
			(d->sp - 1 - at) * sizeof(pk_val));
		d->stack[at] = pk_val_of_bytes(op);
		return make_node(d, PK_OBJECT, *op, 1, at, op);
	}
	case PK_OP_OBJ:
		if ((rc = pop_mark(d, &at, op)))
			return rc;
		if (at == d->sp)
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		return make_node(d, PK_OBJECT, *op, 1, at, op);
	case PK_OP_BINPERSID:
		if (d->sp <= fence(d))
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		return make_node(d, PK_PERSID, *op, 0, d->sp - 1, op);
	case PK_OP_READONLY_BUFFER:
		if (d->sp <= fence(d))
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		return make_node(d, PK_BUFFER, *op, 0, d->sp - 1, op);

	/* -- stack and memo -- */
	case PK_OP_MARK:
		return push_mark(d, op);
	case PK_OP_POP:
		if (d->nmarks && d->marks[d->nmarks - 1] == d->sp)
			d->nmarks--;
		else if (d->sp <= fence(d))
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		else
			return pop_value(d, op);
		return 0;
	case PK_OP_POP_MARK:
		if ((rc = pop_mark(d, &at, op)))
			return rc;
		d->sp = at;
		return 0;
	case PK_OP_DUP:
		if (d->sp <= fence(d))
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		d->doc->irregular = 1;
		if (pk_val_is_node(d->stack[d->sp - 1]))
			d->doc->shared_nodes++;
		return push(d, d->stack[d->sp - 1], op);
	case PK_OP_MEMOIZE:
		return memo_put(d, d->memo.count, *op, op);
	case PK_OP_BINPUT:
		idx = a[0];
		return memo_put(d, idx, *op, op);
	case PK_OP_LONG_BINPUT:
		idx = pk_le32(a);
		return memo_put(d, idx, *op, op);
	case PK_OP_PUT:
		if (len && a[0] == '-')
			return fail(d, PK_E_MEMO, "negative PUT argument", op);
		if (parse_index(a, len, &idx))
			return fail(d, PK_E_ARG, "invalid PUT argument", op);
		return memo_put(d, idx, *op, op);
	case PK_OP_BINGET:
		idx = a[0];
		return memo_get(d, idx, op);
	case PK_OP_LONG_BINGET:
		idx = pk_le32(a);
		return memo_get(d, idx, op);
	case PK_OP_GET:
		if (parse_index(a, len, &idx))
			return fail(d, PK_E_ARG, "invalid GET argument", op);
		return memo_get(d, idx, op);

	/* -- framing and control -- */
	case PK_OP_PROTO:
		n = a[0];
		if (n > 5)
			return fail(d, PK_E_PROTO,
				    "unsupported pickle protocol", op);
		if (op == d->base && d->doc->proto < 0)
			d->doc->proto = (int)n;
		else
			d->doc->irregular = 1;
		return 0;
	case PK_OP_FRAME:
		n = pk_le64(a);
		if ((uint64_t)(d->end - d->p) < n)
			return fail(d, PK_E_TRUNCATED,
				    "pickle data was truncated", op);
		d->doc->framed = 1;
		return 0;
	case PK_OP_STOP:
		if (d->sp <= fence(d))
			return fail(d, PK_E_STACK, "unpickling stack underflow",
				    op);
		if (d->sp != 1 || d->nmarks)
			d->doc->irregular = 1;
		d->doc->root = d->stack[d->sp - 1];
		*stop = 1;
		return 0;
	}
	return fail(d, PK_E_OPCODE, "unknown opcode", op);
}

/* ---- the fast path ---------------------------------------------------- */

/*
 * The opcodes that make up nearly all of a big pickle (scalars, MEMOIZE,
 * BINPUT, BINGET, MARK, empty containers filled by one SETITEMS or
 * APPENDS), run with the machine's state in locals. It handles an opcode
 * only when nothing unusual can happen (no error, no growth, no first
 * fetch of a memo entry, nothing irregular) and otherwise stops before
 * it, for step() to do: its results are step()'s by construction, and
 * every error is still reported by step(), at the same offset.
 * Runs until an opcode it leaves to step(), or until p reaches lim
 * (which keeps every fixed-size argument, up to 9 bytes, in bounds).
 */
static void run_fast(struct dec *d, const uint8_t *lim)
{
	/* Threaded dispatch: each handler jumps to the next one itself, so
	 * the branch predictor sees which opcode follows which (a key GET is
	 * followed by a value, a str by MEMOIZE, ...), where one shared
	 * switch jump would mispredict at every change of opcode. NULL:
	 * the opcode is step()'s. The scalar handlers' lengths (1 + the
	 * FIXED width of opcodes.h) are constants here: a handler that read
	 * them from pk_opcodes cost 3.5% of decode time. */
	static const void *const handler[256] = {
	    [PK_OP_NONE] = &&scalar1,
	    [PK_OP_NEWTRUE] = &&scalar1,
	    [PK_OP_NEWFALSE] = &&scalar1,
	    [PK_OP_BININT1] = &&scalar2,
	    [PK_OP_BININT2] = &&scalar3,
	    [PK_OP_BININT] = &&scalar5,
	    [PK_OP_BINFLOAT] = &&scalar9,
	    [PK_OP_SHORT_BINUNICODE] = &&short_str,
	    [PK_OP_SHORT_BINBYTES] = &&short_bytes,
	    [PK_OP_MEMOIZE] = &&put,
	    [PK_OP_BINPUT] = &&put,
	    [PK_OP_BINGET] = &&get,
	    [PK_OP_LONG_BINGET] = &&get,
	    [PK_OP_MARK] = &&mark,
	    [PK_OP_EMPTY_DICT] = &&empty,
	    [PK_OP_EMPTY_LIST] = &&empty,
	    [PK_OP_SETITEMS] = &&fill,
	    [PK_OP_APPENDS] = &&fill,
	    [PK_OP_FRAME] = &&frame,
	};
	const uint8_t *p = d->p, *prev = d->prev_op, *op = p;
	pk_val *st = d->stack;
	size_t sp = d->sp, scap = d->scap;
	pk_memo_ent *memo = d->memo.dense;
	size_t mcap = d->memo.dense_cap;
	pk_arena *arena = d->arena;
	size_t n, at, idx;
	pk_val v;
	pk_node *node;

/* The opcode at p, if there is room to run it here. */
#define NEXT()                                                                 \
	do {                                                                   \
		if (p >= lim || sp >= scap)                                    \
			goto out;                                              \
		op = p;                                                        \
		if (!handler[*p])                                              \
			goto out;                                              \
		goto *handler[*p];                                             \
	} while (0)
/* A scalar of `len` bytes: the value is the opcode's bytes. */
#define SCALAR(len)                                                            \
	do {                                                                   \
		st[sp++] = pk_val_of_bytes(op);                                \
		p += (len);                                                    \
		prev = op;                                                     \
		NEXT();                                                        \
	} while (0)

	NEXT();
scalar1:
	SCALAR(1);
scalar2:
	SCALAR(2);
scalar3:
	SCALAR(3);
scalar5:
	SCALAR(5);
scalar9:
	SCALAR(9);
short_str:
	n = p[1];
	if ((size_t)(d->end - p) < 2 + n || !utf8_ok(p + 2, n))
		goto out;
	SCALAR(2 + n);
short_bytes:
	n = p[1];
	if ((size_t)(d->end - p) < 2 + n)
		goto out;
	SCALAR(2 + n);
put:
	idx = *p == PK_OP_MEMOIZE ? d->memo.count : p[1];
	if (sp <= fence(d) || idx >= mcap || memo[idx].val)
		goto out;
	v = st[sp - 1];
	if (pk_val_is_node(v)) {
		node = pk_val_node(v);
		if (node->put || node->nsteps - 1 > UINT8_MAX)
			goto out;
		node->put = *p;
		node->memo = (uint32_t)idx;
		node->put_after = (uint8_t)(node->nsteps - 1);
	} else if (v.bits != (uintptr_t)prev) {
		goto out;
	}
	memo[idx].val = v.bits;
	d->memo.count++;
	if (*p == PK_OP_MEMOIZE) {
		d->saw_memoize = 1;
		p += 1;
	} else {
		d->saw_put = 1;
		p += 2;
	}
	prev = op;
	NEXT();
get:
	idx = *p == PK_OP_BINGET ? p[1] : (size_t)pk_le32(p + 1);
	/* a first fetch marks the value shared: step() */
	if (idx >= mcap || !(memo[idx].val & PK_MEMO_USER_BIT))
		goto out;
	st[sp++].bits = memo[idx].val & ~PK_MEMO_USER_BIT;
	p += *p == PK_OP_BINGET ? 2 : 5;
	prev = op;
	NEXT();
mark:
	if (d->nmarks == d->mcap)
		goto out;
	d->marks[d->nmarks++] = sp;
	p += 1;
	prev = op;
	NEXT();
empty:
	node = pk_arena_alloc(arena, sizeof(*node));
	if (!node)
		goto out;
	memset(node, 0, sizeof(*node));
	node->kind = *p == PK_OP_EMPTY_DICT ? PK_DICT : PK_LIST;
	node->nsteps = 1;
	node->step.two[0].op = *p;
	st[sp++] = pk_val_of_node(node);
	p += 1;
	prev = op;
	NEXT();
fill:
	/* only the batch that fills a new container */
	if (!d->nmarks)
		goto out;
	at = d->marks[d->nmarks - 1];
	n = sp - at;
	if (at == 0 || at >= sp || n > UINT32_MAX ||
	    !pk_val_is_node(st[at - 1]))
		goto out;
	node = pk_val_node(st[at - 1]);
	if (node->kind != (*p == PK_OP_SETITEMS ? PK_DICT : PK_LIST) ||
	    (*p == PK_OP_SETITEMS && n % 2) || node->nsteps != 1 || node->nkids)
		goto out;
	node->kids = pk_arena_alloc(arena, n * sizeof(pk_val));
	if (!node->kids)
		goto out;
	memcpy(node->kids, st + at, n * sizeof(pk_val));
	node->nkids = (uint32_t)n;
	node->flags |= PK_NODE_KIDS_EXACT;
	node->nsteps = 2;
	node->step.two[1].op = *p;
	node->step.two[1].marked = 1;
	node->step.two[1].nkids = (uint32_t)n;
	d->nmarks--;
	sp = at;
	p += 1;
	prev = op;
	NEXT();
frame:
	n = (size_t)pk_le64(p + 1);
	if ((size_t)(d->end - p) - 9 < n)
		goto out;
	d->doc->framed = 1;
	p += 9;
	prev = op;
	NEXT();
#undef SCALAR
#undef NEXT
out:
	d->p = p;
	d->sp = sp;
	d->prev_op = prev;
}

int pk_decode_ex(const uint8_t *data, size_t len, unsigned flags,
		 pk_decode_progress_fn progress, void *ctx, pk_doc **out,
		 pk_err *e)
{
	struct dec d;
	pk_err local;
	int stop = 0, rc = PK_OK;
	const uint8_t *next_report;
	uint8_t op_proto[256];
	int i, track_proto = 1;

	for (i = 0; i < 256; i++) {
		const struct pk_opcode_info *info = pk_opcode_info((uint8_t)i);
		op_proto[i] = info ? info->proto : 0;
	}
	if (!e)
		e = &local;
	pk_err_set(e, PK_OK, NULL, 0);
	*out = NULL;
	memset(&d, 0, sizeof(d));
	d.base = d.p = data;
	d.end = data + len;
	d.e = e;
	d.progress = progress;
	d.progress_ctx = ctx;
	pk_buf_init(&d.scratch);
	pk_memo_init(&d.memo);
	d.doc = calloc(1, sizeof(*d.doc));
	d.arena = pk_arena_new();
	if (!d.doc || !d.arena) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	d.doc->arena = d.arena;
	pk_arena_ahead(d.arena, 1);
	d.doc->shared = calloc(1, sizeof(*d.doc->shared));
	if (!d.doc->shared) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	d.doc->data = data;
	d.doc->len = len;
	d.doc->proto = -1;

	next_report = progress ? data + (8u << 20) : d.end + 1;
	while (!stop) {
		const uint8_t *at;
		/* (protocol 0/1 pickles, which track op_proto, and the last
		 * bytes take the general path only) */
		if (!track_proto && d.end - d.p > 16) {
			const uint8_t *lim = d.end - 16;
			run_fast(&d, next_report < lim ? next_report : lim);
		}
		at = d.p;
		if (d.p >= d.end) {
			rc = fail(&d, PK_E_TRUNCATED,
				  "pickle data was truncated (no STOP)", d.end);
			goto cleanup;
		}
		/* Only PROTO-less (protocol 0/1) pickles need the highest
		 * protocol among their opcodes, to choose PUT forms. */
		if (track_proto) {
			if (op_proto[*d.p] > d.doc->op_proto)
				d.doc->op_proto = op_proto[*d.p];
		}
		rc = step(&d, &stop);
		if (rc)
			goto cleanup;
		if (d.p == data + 2 && d.doc->proto >= 0)
			track_proto = 0; /* a PROTO opened the pickle */
		d.prev_op = at;
		if (d.p >= next_report) {
			next_report = d.p + (8u << 20);
			if (progress(ctx, (uint64_t)(d.p - data), len)) {
				rc = pk_err_set(e, PK_E_IO, "interrupted",
						(uint64_t)(d.p - data));
				goto cleanup;
			}
		}
	}
	d.doc->end = (size_t)(d.p - data);
	if (d.doc->proto >= 0)
		d.doc->op_proto = d.doc->proto;
	d.doc->memo_mixed = d.saw_put && d.saw_memoize;
	if ((flags & PK_DEC_STRICT_END) && d.p != d.end) {
		rc =
		    pk_err_set(e, PK_E_TRAILING, "data after STOP", d.doc->end);
		goto cleanup;
	}
	pk_arena_ahead(d.arena, 0);
	*out = d.doc;
	d.doc = NULL;
	d.arena = NULL;
cleanup:
	if (d.doc) {
		d.doc->arena = d.arena;
		pk_doc_free(d.doc);
	} else {
		pk_arena_free(d.arena);
	}
	free(d.stack);
	free(d.marks);
	pk_memo_release(&d.memo);
	pk_buf_release(&d.scratch);
	return rc;
}

int pk_decode(const uint8_t *data, size_t len, unsigned flags, pk_doc **out,
	      pk_err *e)
{
	return pk_decode_ex(data, len, flags, NULL, NULL, out, e);
}

void pk_doc_free(pk_doc *doc)
{
	if (!doc)
		return;
	pk_arena_free(doc->arena);
	if (doc->shared) {
		pk_idmap_release(doc->shared);
		free(doc->shared);
	}
	free(doc);
}

size_t pk_doc_bytes(const pk_doc *doc)
{
	size_t n = sizeof(*doc) + pk_arena_used(doc->arena);

	if (doc->shared)
		n += doc->shared->cap * 16;
	return n;
}
