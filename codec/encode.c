#include "pickle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memo.h"
#include "opcodes.h"
#include "tree.h"

/*
 * The encoder replays CPython's Pickler over the tree: a value is written
 * the first time it is reached and fetched with GET after that; tuples,
 * frozensets and REDUCE/NEWOBJ that turn out to have been memoized while
 * their own parts were being written (recursive structures) are thrown
 * away with POP / POP_MARK and fetched back, exactly as save_tuple and
 * save_reduce do. Every choice CPython's algorithm does not determine on
 * its own (which opcode wrote a scalar, batch sizes, memo indices and PUT
 * forms) is taken from the tree, so an unedited tree comes back byte for
 * byte. Framing follows _pickle.c: a frame may end at the start of any
 * save() once it holds 64 KiB; payloads of 64 KiB or more are written
 * outside frames; frames under 4 bytes get no FRAME header.
 */

#define FRAME_TARGET (64 * 1024)
#define FRAME_MIN 4
#define FLUSH_AT (1u << 20)

struct eframe {
	pk_val v;
	uint32_t step;
	uint32_t kid;
	uint32_t kid_end;
	uint32_t in_step; /* kids of `step` are being written */
};

/* Pointer -> memo index map for renumbering (irregular docs only). */
struct idmap {
	struct {
		const void *key;
		uint32_t idx;
	} *ents;
	size_t cap, used;
};

struct enc {
	pk_doc *doc;
	pk_write_fn write;
	void *ctx;
	pk_err *e;
	int framing;
	int bin; /* binary GET/PUT forms */
	int renumber;
	pk_buf obuf; /* output not yet handed to write */
	pk_buf fbuf; /* the current frame */
	pk_memo rec; /* recorded memo index -> identity and written index */
	pk_memo occ; /* written memo indices in use */
	struct idmap ids;
	uint32_t next_memo; /* what MEMOIZE assigns next */
	struct eframe *st;
	size_t sp, scap;
};

static int oom(struct enc *x)
{
	return pk_err_set(x->e, PK_E_NOMEM, "out of memory", 0);
}

static int flush_obuf(struct enc *x)
{
	if (x->obuf.len && x->write(x->ctx, x->obuf.data, x->obuf.len) < 0)
		return pk_err_set(x->e, PK_E_IO, "write failed", 0);
	pk_buf_reset(&x->obuf);
	return 0;
}

static inline int emit(struct enc *x, const void *p, size_t n)
{
	pk_buf *b = x->framing ? &x->fbuf : &x->obuf;

	if (pk_buf_add(b, p, n) < 0)
		return oom(x);
	if (!x->framing && x->obuf.len >= FLUSH_AT)
		return flush_obuf(x);
	return 0;
}

static inline int emit1(struct enc *x, uint8_t c)
{
	return emit(x, &c, 1);
}

static int commit_frame(struct enc *x)
{
	if (!x->framing || !x->fbuf.len)
		return 0;
	if (x->fbuf.len >= FRAME_MIN) {
		uint8_t h[9];
		uint64_t n = x->fbuf.len;
		int i;
		h[0] = PK_OP_FRAME;
		for (i = 0; i < 8; i++)
			h[1 + i] = (uint8_t)(n >> (8 * i));
		if (pk_buf_add(&x->obuf, h, 9) < 0)
			return oom(x);
	}
	if (pk_buf_add(&x->obuf, x->fbuf.data, x->fbuf.len) < 0)
		return oom(x);
	pk_buf_reset(&x->fbuf);
	if (x->obuf.len >= FLUSH_AT)
		return flush_obuf(x);
	return 0;
}

/* The start of every save(): where _pickle.c may end a frame. */
static inline int boundary(struct enc *x)
{
	if (x->framing && x->fbuf.len >= FRAME_TARGET)
		return commit_frame(x);
	return 0;
}

static int emit_index(struct enc *x, uint8_t textop, uint8_t op1, uint8_t op4,
		      int bin, uint32_t idx)
{
	uint8_t b[16];

	if (!bin) {
		pk_buf t = PK_BUF_INIT;
		int rc;
		if (pk_buf_addf(&t, "%c%u\n", textop, idx) < 0)
			return oom(x);
		rc = emit(x, t.data, t.len);
		pk_buf_release(&t);
		return rc;
	}
	if (idx < 256 && op1) {
		b[0] = op1;
		b[1] = (uint8_t)idx;
		return emit(x, b, 2);
	}
	b[0] = op4;
	b[1] = (uint8_t)idx;
	b[2] = (uint8_t)(idx >> 8);
	b[3] = (uint8_t)(idx >> 16);
	b[4] = (uint8_t)(idx >> 24);
	return emit(x, b, 5);
}

static int emit_get(struct enc *x, int bin, uint32_t idx)
{
	return emit_index(x, PK_OP_GET, PK_OP_BINGET, PK_OP_LONG_BINGET, bin,
			  idx);
}

static const void *identity(const pk_val *v)
{
	return pk_val_is_node(v) ? (const void *)v->u.node
				 : (const void *)v->u.op;
}

/* ---- renumbering: identity -> index ----------------------------------- */

static size_t id_pos(const void *k, size_t cap)
{
	uintptr_t h = (uintptr_t)k;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 20) & (cap - 1);
}

static int id_find(const struct idmap *m, const void *k, uint32_t *idx)
{
	size_t i;

	if (!m->cap)
		return 0;
	for (i = id_pos(k, m->cap); m->ents[i].key; i = (i + 1) & (m->cap - 1))
		if (m->ents[i].key == k) {
			*idx = m->ents[i].idx;
			return 1;
		}
	return 0;
}

static int id_add(struct idmap *m, const void *k, uint32_t idx)
{
	size_t i;

	if ((m->used + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 256, j;
		void *ne = calloc(ncap, sizeof(*m->ents));
		struct idmap nm = {ne, ncap, 0};
		if (!ne)
			return -1;
		for (j = 0; j < m->cap; j++)
			if (m->ents[j].key) {
				i = id_pos(m->ents[j].key, ncap);
				while (nm.ents[i].key)
					i = (i + 1) & (ncap - 1);
				nm.ents[i] = m->ents[j];
			}
		nm.used = m->used;
		free(m->ents);
		*m = nm;
	}
	for (i = id_pos(k, m->cap); m->ents[i].key; i = (i + 1) & (m->cap - 1))
		;
	m->ents[i].key = k;
	m->ents[i].idx = idx;
	m->used++;
	return 0;
}

/* ---- memo ------------------------------------------------------------- */

/* Which index, if any, the value was already written under. */
static int written_as(struct enc *x, const pk_val *v, uint32_t *idx)
{
	pk_val *r;

	if (x->renumber)
		return id_find(&x->ids, identity(v), idx);
	if (!v->put)
		return 0;
	r = pk_memo_get(&x->rec, v->memo);
	if (!r || r->u.op != (const uint8_t *)identity(v))
		return 0;
	*idx = r->memo;
	return 1;
}

static int mark_occupied(struct enc *x, uint32_t idx)
{
	pk_val *o = pk_memo_put(&x->occ, idx);

	if (!o)
		return oom(x);
	o->kind = 1;
	return 0;
}

/* Whether renumbering memoizes a value of this kind (as CPython does:
 * containers, str, bytes, globals; not numbers, None or bools). */
static int renumber_memoizes(const pk_val *v)
{
	if (pk_val_is_node(v))
		return !(v->kind == PK_TUPLE && v->u.node->nkids == 0);
	switch (v->kind) {
	case PK_STR:
	case PK_STRING:
	case PK_BYTES:
	case PK_BYTEARRAY:
	case PK_GLOBAL:
		return 1;
	}
	return 0;
}

static int emit_put(struct enc *x, const pk_val *v)
{
	uint32_t idx;
	uint8_t form = v->put;
	pk_val *r;
	int rc;

	if (x->renumber) {
		if (!renumber_memoizes(v))
			return 0;
		idx = (uint32_t)x->ids.used;
		if (id_add(&x->ids, identity(v), idx) < 0)
			return oom(x);
		if (x->doc->proto >= 4)
			return emit1(x, PK_OP_MEMOIZE);
		return emit_index(x, PK_OP_PUT, PK_OP_BINPUT,
				  PK_OP_LONG_BINPUT, x->bin, idx);
	}
	if (!form)
		return 0;
	if (form == PK_OP_MEMOIZE) {
		idx = (uint32_t)x->occ.count;
		rc = emit1(x, PK_OP_MEMOIZE);
	} else {
		idx = v->memo;
		rc = emit_index(x, PK_OP_PUT, form == PK_OP_BINPUT ? PK_OP_BINPUT : 0,
				PK_OP_LONG_BINPUT, form != PK_OP_PUT, idx);
	}
	if (rc || (rc = mark_occupied(x, idx)))
		return rc;
	r = pk_memo_put(&x->rec, v->memo);
	if (!r)
		return oom(x);
	r->kind = 1;
	r->u.op = (const uint8_t *)identity(v);
	r->memo = idx;
	return 0;
}

/* ---- scalars ---------------------------------------------------------- */

static int emit_scalar(struct enc *x, const pk_val *v)
{
	uint64_t payload = 0;
	size_t n = pk_scalar_op_len(v->u.op, &payload);
	int rc;

	if (payload >= FRAME_TARGET) {
		/* _Pickler_write_bytes: large payloads bypass framing. */
		size_t head = n - (size_t)payload;
		if ((rc = commit_frame(x)) || (rc = flush_obuf(x)))
			return rc;
		if (x->write(x->ctx, v->u.op, head) < 0 ||
		    x->write(x->ctx, v->u.op + head, (size_t)payload) < 0)
			return pk_err_set(x->e, PK_E_IO, "write failed", 0);
	} else if ((rc = emit(x, v->u.op, n))) {
		return rc;
	}
	return emit_put(x, v);
}

/* ---- nodes ------------------------------------------------------------ */

static int push_frame(struct enc *x, const pk_val *v)
{
	if (x->sp == x->scap) {
		size_t ncap = x->scap ? x->scap * 2 : 64;
		struct eframe *ns = realloc(x->st, ncap * sizeof(*ns));
		if (!ns)
			return oom(x);
		x->st = ns;
		x->scap = ncap;
	}
	memset(&x->st[x->sp], 0, sizeof(x->st[0]));
	x->st[x->sp].v = *v;
	x->sp++;
	return 0;
}

/* save(v): a GET if it was written before, else the scalar, else a new
 * frame for the node. */
static int save(struct enc *x, const pk_val *v)
{
	uint32_t idx;
	int rc;

	if ((rc = boundary(x)))
		return rc;
	if (written_as(x, v, &idx))
		return emit_get(x, x->renumber ? x->bin : v->put != PK_OP_PUT,
				idx);
	if (!pk_val_is_node(v))
		return emit_scalar(x, v);
	return push_frame(x, v);
}

/* Recursive-structure checks of save_tuple / save_frozenset /
 * save_reduce: the creation opcodes whose object may already be in the
 * memo once their parts have been written. */
static int rechecked(uint8_t op)
{
	switch (op) {
	case PK_OP_TUPLE:
	case PK_OP_TUPLE1:
	case PK_OP_TUPLE2:
	case PK_OP_TUPLE3:
	case PK_OP_FROZENSET:
	case PK_OP_REDUCE:
	case PK_OP_NEWOBJ:
	case PK_OP_NEWOBJ_EX:
		return 1;
	}
	return 0;
}

static int emit_discard_and_get(struct enc *x, const pk_step *s, uint32_t idx,
				int getbin)
{
	uint32_t i;
	int rc = 0;

	switch (s->op) {
	case PK_OP_REDUCE:
	case PK_OP_NEWOBJ:
	case PK_OP_NEWOBJ_EX:
		if ((rc = emit1(x, s->op)) || (rc = emit1(x, PK_OP_POP)))
			return rc;
		break;
	default:
		if (s->marked && x->bin) {
			if ((rc = emit1(x, PK_OP_POP_MARK)))
				return rc;
		} else {
			uint32_t n = s->nkids + (s->marked ? 1 : 0);
			for (i = 0; i < n && !rc; i++)
				rc = emit1(x, PK_OP_POP);
			if (rc)
				return rc;
		}
	}
	return emit_get(x, getbin, idx);
}

static int emit_step_op(struct enc *x, const pk_node *n, const pk_step *s)
{
	if (s->op == PK_OP_INST) {
		const uint8_t *p = n->inline_op + 1;
		while (*p != '\n')
			p++;
		p++;
		while (*p != '\n')
			p++;
		return emit(x, n->inline_op, (size_t)(p + 1 - n->inline_op));
	}
	return emit1(x, s->op);
}

static int run(struct enc *x)
{
	int rc;

	while (x->sp) {
		struct eframe *f = &x->st[x->sp - 1];
		pk_node *n = f->v.u.node;
		const pk_step *s;

		if (f->step == n->nsteps) {
			x->sp--;
			continue;
		}
		s = &pk_node_steps(n)[f->step];
		if (!f->in_step) {
			if (s->marked && (rc = emit1(x, PK_OP_MARK)))
				return rc;
			f->kid_end = f->kid + s->nkids;
			f->in_step = 1;
		}
		if (f->kid < f->kid_end) {
			pk_val kid = n->kids[f->kid++];
			/* save() may grow x->st: f is not used after it. */
			if ((rc = save(x, &kid)))
				return rc;
			continue;
		}
		if (f->step == 0 && rechecked(s->op)) {
			uint32_t idx;
			if (written_as(x, &f->v, &idx)) {
				int getbin = x->renumber ? x->bin
							 : f->v.put != PK_OP_PUT;
				if ((rc = emit_discard_and_get(x, s, idx, getbin)))
					return rc;
				x->sp--;
				continue;
			}
		}
		if ((rc = emit_step_op(x, n, s)))
			return rc;
		if (x->renumber ? f->step == 0 : f->step == n->put_after) {
			pk_val v = f->v;
			if ((rc = emit_put(x, &v)))
				return rc;
			f = &x->st[x->sp - 1];
		}
		f->step++;
		f->in_step = 0;
	}
	return 0;
}

int pk_encode(pk_doc *doc, pk_write_fn write, void *ctx, pk_err *e)
{
	struct enc x;
	pk_err local;
	int rc;

	if (!e)
		e = &local;
	pk_err_set(e, PK_OK, NULL, 0);
	memset(&x, 0, sizeof(x));
	x.doc = doc;
	x.write = write;
	x.ctx = ctx;
	x.e = e;
	x.bin = doc->op_proto >= 1;
	x.renumber = doc->irregular;
	pk_memo_init(&x.rec);
	pk_memo_init(&x.occ);

	if (doc->proto >= 0) {
		uint8_t h[2] = {PK_OP_PROTO, (uint8_t)doc->proto};
		if ((rc = emit(&x, h, 2)))
			goto cleanup;
	}
	x.framing = doc->framed;
	if ((rc = save(&x, &doc->root)) || (rc = run(&x)))
		goto cleanup;
	if ((rc = emit1(&x, PK_OP_STOP)) || (rc = commit_frame(&x)))
		goto cleanup;
	x.framing = 0;
	/* Bytes after STOP are the user's: keep them. */
	if (doc->end < doc->len &&
	    (rc = emit(&x, doc->data + doc->end, doc->len - doc->end)))
		goto cleanup;
	rc = flush_obuf(&x);
cleanup:
	pk_buf_release(&x.obuf);
	pk_buf_release(&x.fbuf);
	pk_memo_release(&x.rec);
	pk_memo_release(&x.occ);
	free(x.ids.ents);
	free(x.st);
	return rc;
}

static int buf_write(void *ctx, const void *data, size_t n)
{
	return pk_buf_add(ctx, data, n);
}

int pk_encode_to_buf(pk_doc *doc, pk_buf *out, pk_err *e)
{
	return pk_encode(doc, buf_write, out, e);
}

static int fd_write(void *ctx, const void *data, size_t n)
{
	int fd = *(int *)ctx;
	const uint8_t *p = data;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int pk_encode_to_fd(pk_doc *doc, int fd, pk_err *e)
{
	return pk_encode(doc, fd_write, &fd, e);
}
