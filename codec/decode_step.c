/*
 * decode_step.c - one opcode of the unpickling machine, any opcode.
 *
 * The general path of the decoder (decoder.h): argument readers, the
 * stack and memo discipline, and the opcode switch that builds nodes
 * where CPython would call. decode.c's fast path handles the common
 * opcodes itself and leaves everything else, and every error, to this.
 */
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "decoder.h"
#include "opcodes.h"
#include "tree.h"

/* ---- stack ------------------------------------------------------------ */

__attribute__((cold, noinline)) static int grow_stack(struct dec *d,
						      const uint8_t *op)
{
	/* the stack counts against the tree's limit: a run of pushes
	 * that nothing pops costs 8 bytes each and builds no node */
	if (d->max_tree &&
	    (d->scap + 1) * 2 * sizeof(*d->stack) + pk_arena_used(d->arena) >
		d->max_tree)
		return fail(d, PK_E_LIMIT,
			    "the decoded tree passes its memory limit", op);
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

int pk_dec_step(struct dec *d, int *stop)
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
		if ((rc = mutate(d, d->sp - 2, d->sp - 1, *op, 0, op)))
			return rc;
		if (d->flags & PK_DEC_PLAIN)
			return 0;
		return pk_dec_joblib(d, pk_val_node(d->stack[d->sp - 1]), op);
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
