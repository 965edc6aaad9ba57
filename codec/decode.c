/*
 * decode.c - the decoder's entry points and its fast path.
 *
 * pk_decode_ex sets up the machine (decoder.h), runs the fast path over
 * the common opcodes and pk_dec_step (decode_step.c) over the rest, and
 * hands the finished doc to the caller.
 */
#include "pickle.h"

#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "decoder.h"
#include "opcodes.h"
#include "tree.h"

/* ---- the fast path ---------------------------------------------------- */

/*
 * The opcodes that make up nearly all of a big pickle (scalars, MEMOIZE,
 * BINPUT, BINGET, MARK, empty containers filled by one SETITEMS or
 * APPENDS), run with the machine's state in locals. It handles an opcode
 * only when nothing unusual can happen (no error, no growth, no first
 * fetch of a memo entry, nothing irregular) and otherwise stops before
 * it, for pk_dec_step() to do: its results are pk_dec_step()'s by construction,
 * and every error is still reported by pk_dec_step(), at the same offset. Runs
 * until an opcode it leaves to pk_dec_step(), or until p reaches lim (which
 * keeps every fixed-size argument, up to 9 bytes, in bounds).
 */
static void run_fast(struct dec *d, const uint8_t *lim)
{
	/* Threaded dispatch: each handler jumps to the next one itself, so
	 * the branch predictor sees which opcode follows which (a key GET is
	 * followed by a value, a str by MEMOIZE, ...), where one shared
	 * switch jump would mispredict at every change of opcode. NULL:
	 * the opcode is pk_dec_step()'s. The scalar handlers' lengths (1 + the
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
	/* a first fetch marks the value shared: pk_dec_step() */
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

/* The machine at the start of data: an empty doc in a fresh arena. */
static int dec_open(struct dec *d, const uint8_t *data, size_t len,
		    const pk_decode_opts *o, pk_err *e)
{
	memset(d, 0, sizeof(*d));
	d->base = d->p = data;
	d->end = data + len;
	d->e = e;
	d->progress = o->progress;
	d->progress_ctx = o->ctx;
	d->max_tree = o->max_tree;
	d->flags = o->flags;
	d->trace = o->trace;
	d->trace_ctx = o->trace_ctx;
	pk_buf_init(&d->scratch);
	pk_memo_init(&d->memo);
	d->doc = calloc(1, sizeof(*d->doc));
	d->arena = pk_arena_new();
	if (!d->doc || !d->arena)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	d->doc->arena = d->arena;
	if (o->max_tree)
		pk_arena_limit(d->arena, o->max_tree > SIZE_MAX
					     ? SIZE_MAX
					     : (size_t)o->max_tree);
	if (!(o->flags & PK_DEC_ONE))
		pk_arena_ahead(d->arena, 1);
	d->doc->shared = calloc(1, sizeof(*d->doc->shared));
	if (!d->doc->shared)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	d->doc->data = data;
	d->doc->len = len;
	d->doc->proto = -1;
	return PK_OK;
}

/* Frees what the machine still owns (the doc too, unless it was given
 * away). */
static void dec_close(struct dec *d)
{
	if (d->doc) {
		d->doc->arena = d->arena;
		pk_doc_free(d->doc);
	} else {
		pk_arena_free(d->arena);
	}
	free(d->stack);
	free(d->marks);
	pk_memo_release(&d->memo);
	pk_buf_release(&d->scratch);
}

/* Runs the machine up to and past STOP: the fast path where it can,
 * pk_dec_step for the rest, a progress report every 8 MiB. */
static int dec_run(struct dec *d)
{
	const uint8_t *data = d->base;
	size_t len = (size_t)(d->end - d->base);
	const uint8_t *next_report;
	uint8_t op_proto[256];
	static const uint8_t traced[256] = {
	    [PK_OP_GLOBAL] = 1,	   [PK_OP_STACK_GLOBAL] = 1, [PK_OP_EXT1] = 1,
	    [PK_OP_EXT2] = 1,	   [PK_OP_EXT4] = 1,	     [PK_OP_INST] = 1,
	    [PK_OP_OBJ] = 1,	   [PK_OP_REDUCE] = 1,	     [PK_OP_NEWOBJ] = 1,
	    [PK_OP_NEWOBJ_EX] = 1, [PK_OP_BUILD] = 1,
	};
	int i, rc, stop = 0, track_proto = 1;

	for (i = 0; i < 256; i++) {
		const struct pk_opcode_info *info = pk_opcode_info((uint8_t)i);
		op_proto[i] = info ? info->proto : 0;
	}
	next_report = d->progress ? data + (8u << 20) : d->end + 1;
	while (!stop) {
		const uint8_t *at;
		/* (protocol 0/1 pickles, which track op_proto, and the last
		 * bytes take the general path only) */
		if (!track_proto && d->end - d->p > 16) {
			const uint8_t *lim = d->end - 16;
			run_fast(d, next_report < lim ? next_report : lim);
		}
		at = d->p;
		if (d->p >= d->end)
			return fail(d, PK_E_TRUNCATED,
				    "pickle data was truncated (no STOP)",
				    d->end);
		/* Only PROTO-less (protocol 0/1) pickles need the highest
		 * protocol among their opcodes, to choose PUT forms. */
		if (track_proto && op_proto[*d->p] > d->doc->op_proto)
			d->doc->op_proto = op_proto[*d->p];
		if ((rc = pk_dec_step(d, &stop)))
			return rc;
		if (d->trace && traced[*at] && d->sp &&
		    d->trace(d->trace_ctx, at, d->stack[d->sp - 1]))
			return pk_err_set(d->e, PK_E_IO, "interrupted",
					  (uint64_t)(at - data));
		if (d->p == data + 2 && d->doc->proto >= 0)
			track_proto = 0; /* a PROTO opened the pickle */
		d->prev_op = at;
		if (d->p >= next_report) {
			next_report = d->p + (8u << 20);
			if (d->progress(d->progress_ctx,
					(uint64_t)(d->p - data), len))
				return pk_err_set(d->e, PK_E_IO, "interrupted",
						  (uint64_t)(d->p - data));
		}
	}
	return PK_OK;
}

/* Files of several pickles: at most this many (a tail of a million
 * "N." is not worth a million docs; it shows as the first pickle). */
#define PARTS_MAX 4096

/* When the bytes after doc's STOP are complete pickles up to the end,
 * makes doc the doc of all of them (pickle.h); otherwise leaves it as it
 * is (the bytes stay trailing bytes). 0, or an error (memory only). */
static int find_parts(pk_doc *doc, const pk_decode_opts *o, pk_err *e)
{
	pk_decode_opts po = {PK_DEC_ONE, o->max_tree, NULL, NULL, NULL, NULL};
	pk_doc **parts = NULL;
	size_t n = 0, cap = 0, off = doc->end, i;
	pk_node *root;
	pk_val *kids;
	int rc = PK_OK;

	while (off < doc->len) {
		pk_doc *p;
		pk_err pe;
		if (n == PARTS_MAX ||
		    pk_decode_with(doc->data + off, doc->len - off, &po, &p,
				   &pe) != PK_OK)
			goto not_parts;
		if (pk_vec_grow((void **)&parts, &cap, n + 1, sizeof(*parts))) {
			pk_doc_free(p);
			rc = pk_err_set(e, PK_E_NOMEM, "out of memory", off);
			goto not_parts;
		}
		parts[n++] = p;
		p->len = p->end;
		off += p->end;
	}
	root = pk_arena_alloc(doc->arena, sizeof(*root));
	kids = pk_arena_alloc(doc->arena, (n + 1) * sizeof(*kids));
	if (!root || !kids) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", doc->end);
		goto not_parts;
	}
	for (i = 0; i < n; i++) {
		if (pk_idmap_merge(doc->shared, parts[i]->shared)) {
			rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
			goto not_parts;
		}
		doc->shared_nodes += parts[i]->shared_nodes;
		kids[i + 1] = parts[i]->root;
	}
	/* a list as EMPTY_LIST + APPENDS would make it */
	memset(root, 0, sizeof(*root));
	root->kind = PK_LIST;
	root->flags = PK_NODE_PARTS | PK_NODE_KIDS_EXACT;
	root->nsteps = 2;
	root->step.two[0].op = PK_OP_EMPTY_LIST;
	root->step.two[1].op = PK_OP_APPENDS;
	root->step.two[1].marked = 1;
	root->step.two[1].nkids = (uint32_t)(n + 1);
	root->nkids = (uint32_t)(n + 1);
	kids[0] = doc->root;
	root->kids = kids;
	doc->root = pk_val_of_node(root);
	doc->parts = parts;
	doc->nparts = (uint32_t)n;
	return PK_OK;
not_parts:
	for (i = 0; i < n; i++)
		pk_doc_free(parts[i]);
	free(parts);
	return rc;
}

int pk_decode_with(const uint8_t *data, size_t len, const pk_decode_opts *o,
		   pk_doc **out, pk_err *e)
{
	struct dec d;
	pk_err local;
	int rc;

	if (!e)
		e = &local;
	pk_err_set(e, PK_OK, NULL, 0);
	*out = NULL;
	if ((rc = dec_open(&d, data, len, o, e)) || (rc = dec_run(&d)))
		goto cleanup;
	d.doc->end = (size_t)(d.p - data);
	if (d.doc->proto >= 0)
		d.doc->op_proto = d.doc->proto;
	d.doc->memo_mixed = d.saw_put && d.saw_memoize;
	if (!(o->flags & PK_DEC_ONE) && d.p != d.end &&
	    (rc = find_parts(d.doc, o, e)))
		goto cleanup;
	if ((o->flags & PK_DEC_STRICT_END) && d.p != d.end && !d.doc->nparts) {
		rc =
		    pk_err_set(e, PK_E_TRAILING, "data after STOP", d.doc->end);
		goto cleanup;
	}
	pk_arena_ahead(d.arena, 0);
	*out = d.doc;
	d.doc = NULL;
	d.arena = NULL;
cleanup:
	/* the arena refused a node for the limit: say so, not "out of
	 * memory" */
	if (rc == PK_E_NOMEM && d.arena && pk_arena_over(d.arena))
		rc = pk_err_set(e, PK_E_LIMIT,
				"the decoded tree passes its memory limit",
				e->offset);
	dec_close(&d);
	return rc;
}

int pk_decode_ex(const uint8_t *data, size_t len, unsigned flags,
		 pk_decode_progress_fn progress, void *ctx, pk_doc **out,
		 pk_err *e)
{
	pk_decode_opts o = {flags, 0, progress, ctx, NULL, NULL};

	return pk_decode_with(data, len, &o, out, e);
}

int pk_decode(const uint8_t *data, size_t len, unsigned flags, pk_doc **out,
	      pk_err *e)
{
	return pk_decode_ex(data, len, flags, NULL, NULL, out, e);
}

void pk_doc_free(pk_doc *doc)
{
	uint32_t i;

	if (!doc)
		return;
	for (i = 0; i < doc->nparts; i++)
		pk_doc_free(doc->parts[i]);
	free(doc->parts);
	for (i = 0; i < doc->nsubs; i++)
		pk_doc_free(doc->subs[i]);
	free(doc->subs);
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
	uint32_t i;

	for (i = 0; i < doc->nparts; i++)
		n += pk_doc_bytes(doc->parts[i]);
	for (i = 0; i < doc->nsubs; i++)
		n += pk_doc_bytes(doc->subs[i]);

	if (doc->shared)
		n += doc->shared->cap * 16;
	return n;
}
