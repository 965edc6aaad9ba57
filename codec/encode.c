#include "pickle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byteorder.h"
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
	pk_node *shell_of; /* this frame writes that node's SHELL */
	uint32_t step;
	uint32_t kid;
	uint32_t kid_end;
	uint32_t in_step; /* kids of `step` are being written */
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
	/* Shared values written so far (all memoizable ones when
	 * renumbering) -> the index they were written under. Values fetched
	 * only once need no entry: their PUT is written and forgotten. */
	pk_idmap ids;
	pk_memo occ;	    /* indices in use, when MEMOIZE mixes with PUT */
	uint32_t next_memo; /* what MEMOIZE assigns next otherwise */
	struct eframe *st;
	size_t sp, scap;
	/* Output offsets, for joblib's alignment: bytes handed to write
	 * so far, and the file offset this pickle starts at. */
	uint64_t written;
	uint64_t base;
	const uint8_t *file; /* the input file's first byte */
};

static int oom(struct enc *x)
{
	return pk_err_set(x->e, PK_E_NOMEM, "out of memory", 0);
}

static int flush_obuf(struct enc *x)
{
	if (x->obuf.len && x->write(x->ctx, x->obuf.data, x->obuf.len) < 0)
		return pk_err_set(x->e, PK_E_IO, "write failed", 0);
	x->written += x->obuf.len;
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
		h[0] = PK_OP_FRAME;
		pk_put_le64(h + 1, x->fbuf.len);
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
	pk_put_le32(b + 1, idx);
	return emit(x, b, 5);
}

static int emit_get(struct enc *x, int bin, uint32_t idx)
{
	return emit_index(x, PK_OP_GET, PK_OP_BINGET, PK_OP_LONG_BINGET, bin,
			  idx);
}

/* ---- memo ------------------------------------------------------------- */

/* Whether renumbering memoizes a value of this kind (as CPython does:
 * containers, str, bytes, globals; not numbers, None or bools). */
static int renumber_memoizes(pk_val v)
{
	if (pk_val_is_node(v)) {
		const pk_node *n = pk_val_node(v);
		return !(n->kind == PK_TUPLE && n->nkids == 0);
	}
	switch (pk_val_kind(v)) {
	case PK_STR:
	case PK_STRING:
	case PK_BYTES:
	case PK_BYTEARRAY:
	case PK_GLOBAL:
		return 1;
	}
	return 0;
}

static inline int is_put_op(uint8_t op)
{
	return op == PK_OP_MEMOIZE || op == PK_OP_BINPUT ||
	       op == PK_OP_LONG_BINPUT || op == PK_OP_PUT;
}

/* Values some GET refers to: the encoder must remember their index.
 * `len` is the scalar's byte length (ignored for nodes). */
static int tracked_len(const struct enc *x, pk_val v, size_t len)
{
	if (x->renumber)
		return renumber_memoizes(v);
	if (pk_val_is_node(v))
		return (pk_val_node(v)->flags & PK_NODE_SHARED) != 0;
	/* Only a memoized scalar can be fetched again. */
	return is_put_op(pk_val_bytes(v)[len]) &&
	       pk_idmap_find(x->doc->shared, v.bits, NULL);
}

static int tracked(const struct enc *x, pk_val v)
{
	size_t len =
	    pk_val_is_node(v) ? 0 : pk_scalar_op_len(pk_val_bytes(v), NULL);
	return tracked_len(x, v, len);
}

static int written_as(const struct enc *x, pk_val v, uint32_t *idx)
{
	return tracked(x, v) && pk_idmap_find(&x->ids, v.bits, idx);
}

/* Whether GETs of v use the binary forms. */
static int get_is_bin(const struct enc *x, pk_val v)
{
	if (x->renumber)
		return x->bin;
	if (pk_val_is_node(v))
		return pk_val_node(v)->put != PK_OP_PUT;
	{
		const uint8_t *b = pk_val_bytes(v);
		return b[pk_scalar_op_len(b, NULL)] != PK_OP_PUT;
	}
}

/* The index a MEMOIZE written now gets: the unpickler counts occupied
 * indices, so explicit PUTs in the same pickle move it too. */
static int memoize_index(struct enc *x, uint32_t *idx)
{
	if (!x->doc->memo_mixed) {
		*idx = x->next_memo++;
		return 0;
	}
	*idx = (uint32_t)x->occ.count;
	return 0;
}

/* Records that v was written under idx; `track`: a GET may follow. */
static int note_written(struct enc *x, pk_val v, uint32_t idx, int track)
{
	if (x->doc->memo_mixed) {
		pk_memo_ent *o = pk_memo_put(&x->occ, idx);
		if (!o)
			return oom(x);
		o->val = 1;
	}
	if (track && pk_idmap_set(&x->ids, v.bits, idx) < 0)
		return oom(x);
	return 0;
}

static int renumber_put(struct enc *x, pk_val v)
{
	uint32_t idx;

	if (!renumber_memoizes(v))
		return 0;
	idx = (uint32_t)x->ids.used;
	if (pk_idmap_set(&x->ids, v.bits, idx) < 0)
		return oom(x);
	if (x->doc->proto >= 4)
		return emit1(x, PK_OP_MEMOIZE);
	return emit_index(x, PK_OP_PUT, PK_OP_BINPUT, PK_OP_LONG_BINPUT, x->bin,
			  idx);
}

/* Writes the PUT that memoizes node value v (if any), remembers it. */
static int emit_put(struct enc *x, pk_val v)
{
	const pk_node *n = pk_val_node(v);
	uint32_t idx = n->memo;
	int rc;

	if (x->renumber)
		return renumber_put(x, v);
	if (!n->put)
		return 0;
	if (n->put == PK_OP_MEMOIZE) {
		if ((rc = memoize_index(x, &idx)) ||
		    (rc = emit1(x, PK_OP_MEMOIZE)))
			return rc;
	} else if ((rc = emit_index(
			x, PK_OP_PUT, n->put == PK_OP_BINPUT ? PK_OP_BINPUT : 0,
			PK_OP_LONG_BINPUT, n->put != PK_OP_PUT, idx))) {
		return rc;
	}
	return note_written(x, v, idx, (n->flags & PK_NODE_SHARED) != 0);
}

/* A scalar's PUT is the opcode at p, right after its bytes: copy it. */
static int emit_scalar_put(struct enc *x, pk_val v, const uint8_t *p, int track)
{
	uint32_t idx;
	size_t n;
	int rc;

	if (x->renumber)
		return renumber_put(x, v);
	switch (*p) {
	case PK_OP_MEMOIZE:
		if ((rc = memoize_index(x, &idx)))
			return rc;
		n = 1;
		break;
	case PK_OP_BINPUT:
		idx = p[1];
		n = 2;
		break;
	case PK_OP_LONG_BINPUT:
		idx = pk_le32(p + 1);
		n = 5;
		break;
	case PK_OP_PUT:
		idx = 0;
		for (n = 1; p[n] != '\n'; n++)
			idx = idx * 10 + (uint32_t)(p[n] - '0');
		n++;
		break;
	default:
		return 0;
	}
	if ((rc = emit(x, p, n)))
		return rc;
	return note_written(x, v, idx, track);
}

/* ---- scalars ---------------------------------------------------------- */

/* Writes scalar v whose bytes are len long (payload of them counted);
 * `track`: it is memoized and a GET may fetch it later. */
static int emit_scalar(struct enc *x, pk_val v, size_t len, uint64_t payload,
		       int track)
{
	const uint8_t *b = pk_val_bytes(v);
	int rc;

	if (payload >= FRAME_TARGET) {
		/* _Pickler_write_bytes: large payloads bypass framing. */
		size_t head = len - (size_t)payload;
		if ((rc = commit_frame(x)) || (rc = flush_obuf(x)))
			return rc;
		if (x->write(x->ctx, b, head) < 0 ||
		    x->write(x->ctx, b + head, (size_t)payload) < 0)
			return pk_err_set(x->e, PK_E_IO, "write failed", 0);
		x->written += head + payload;
	} else if ((rc = emit(x, b, len))) {
		return rc;
	}
	return emit_scalar_put(x, v, b + len, track);
}

/* ---- nodes ------------------------------------------------------------ */

static int push_frame(struct enc *x, pk_val v)
{
	if (pk_vec_grow((void **)&x->st, &x->scap, x->sp + 1, sizeof(*x->st)))
		return oom(x);
	memset(&x->st[x->sp], 0, sizeof(x->st[0]));
	x->st[x->sp].v = v;
	x->sp++;
	return 0;
}

/* save(v): a GET if it was written before, else the scalar, else a new
 * frame for the node. */
static int save(struct enc *x, pk_val v)
{
	uint32_t idx;
	int rc;

	if ((rc = boundary(x)))
		return rc;
	if (!pk_val_is_node(v)) {
		/* the one place a scalar's length is worked out */
		const uint8_t *b = pk_val_bytes(v);
		uint64_t payload;
		size_t len = pk_scalar_op_len(b, &payload);
		int track = tracked_len(x, v, len);
		if (track && pk_idmap_find(&x->ids, v.bits, &idx))
			return emit_get(
			    x, x->renumber ? x->bin : b[len] != PK_OP_PUT, idx);
		return emit_scalar(x, v, len, payload, track);
	}
	if (written_as(x, v, &idx))
		return emit_get(x, get_is_bin(x, v), idx);
	{
		pk_node *n = pk_val_node(v);
		const pk_step *last = &pk_node_steps(n)[n->nsteps - 1];
		if (last->op == PK_STEP_SHELL &&
		    !(n->flags & PK_NODE_SHELL_BUSY)) {
			/* CPython wrote the discarded first attempt first */
			n->flags |= PK_NODE_SHELL_BUSY;
			if ((rc = push_frame(x, n->kids[n->nkids - 1])))
				return rc;
			x->st[x->sp - 1].shell_of = n;
			return 0;
		}
	}
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
		/* kids[0] is the class: the INST opcode's own bytes. */
		const uint8_t *b = pk_val_bytes(n->kids[0]);
		return emit(x, b, pk_scalar_op_len(b, NULL));
	}
	return emit1(x, s->op);
}

static int encode_one(pk_doc *doc, pk_val root, pk_write_fn write, void *ctx,
		      pk_err *e, uint64_t base, const uint8_t *file,
		      int trailing, uint64_t *written);

/* joblib's inline array bytes (pickle.h), written as write_array does
 * after NumpyPickler.save committed the frame: the padding-length byte
 * and padding that align the data to `align` from the file's start (the
 * input's own padding bytes when the data did not move), then the data;
 * or an object array's nested pickle. */
static int emit_inline(struct enc *x, pk_val v)
{
	const pk_inline *r = pk_val_inline(v);
	uint64_t at;
	int rc;

	if ((rc = commit_frame(x)) || (rc = flush_obuf(x)))
		return rc;
	at = x->base + x->written;
	if (r->sub) {
		uint64_t n = 0;
		rc = encode_one(r->sub, r->sub->root, x->write, x->ctx, x->e,
				at, x->file, 0, &n);
		x->written += n;
		return rc;
	}
	if (r->padded) {
		uint8_t pad[256];
		uint32_t n = r->align - (uint32_t)((at + 1) % r->align);
		if (x->file && r->at >= x->file &&
		    (uint64_t)(r->at - x->file) == at) {
			n = r->pad_len; /* in place: as it was */
			memcpy(pad + 1, r->at + 1, n);
		} else {
			memset(pad + 1, 0xFF, n);
		}
		pad[0] = (uint8_t)n;
		if (x->write(x->ctx, pad, n + 1) < 0)
			return pk_err_set(x->e, PK_E_IO, "write failed", 0);
		x->written += n + 1;
	}
	if (r->len && x->write(x->ctx, r->data, (size_t)r->len) < 0)
		return pk_err_set(x->e, PK_E_IO, "write failed", 0);
	x->written += r->len;
	return 0;
}

static int run(struct enc *x)
{
	int rc;

	while (x->sp) {
		struct eframe *f = &x->st[x->sp - 1];
		pk_node *n = pk_val_node(f->v);
		const pk_step *s;

		if (f->step == n->nsteps) {
			x->sp--;
			continue;
		}
		s = &pk_node_steps(n)[f->step];
		if (s->op == PK_STEP_INLINE) {
			pk_val raw = n->kids[f->kid];
			f->kid += s->nkids;
			f->step++;
			if (s->nkids == 1 && pk_val_kind(raw) == PK_RAW &&
			    (rc = emit_inline(x, raw)))
				return rc;
			continue;
		}
		if (s->op == PK_STEP_SHELL) {
			f->kid += s->nkids;
			f->step++;
			continue;
		}
		if (!f->in_step) {
			if (s->marked && (rc = emit1(x, PK_OP_MARK)))
				return rc;
			f->kid_end = f->kid + s->nkids;
			f->in_step = 1;
			if (s->op == PK_OP_INST)
				f->kid++; /* the class is written by the opcode
					   */
		}
		if (f->kid < f->kid_end) {
			pk_val kid = n->kids[f->kid++];
			/* save() may grow x->st: f is not used after it. */
			if ((rc = save(x, kid)))
				return rc;
			continue;
		}
		if (f->step == 0 && f->shell_of) {
			/* the first attempt: written, dropped, and the
			 * object its arguments wrote fetched instead */
			pk_node *target = f->shell_of;
			pk_val tv = pk_val_of_node(target);
			uint32_t idx;
			x->sp--;
			target->flags &= ~(uint32_t)PK_NODE_SHELL_BUSY;
			if ((rc = emit_step_op(x, n, s)) ||
			    (rc = emit1(x, PK_OP_POP)))
				return rc;
			if (written_as(x, tv, &idx)) {
				if ((rc = emit_get(x, get_is_bin(x, tv), idx)))
					return rc;
			} else if ((rc = push_frame(x, tv))) {
				return rc;
			}
			continue;
		}
		if (f->step == 0 && rechecked(s->op)) {
			uint32_t idx;
			if (written_as(x, f->v, &idx)) {
				int getbin = get_is_bin(x, f->v);
				if ((rc = emit_discard_and_get(x, s, idx,
							       getbin)))
					return rc;
				x->sp--;
				continue;
			}
		}
		if ((rc = emit_step_op(x, n, s)))
			return rc;
		if (x->renumber ? f->step == 0 : f->step == n->put_after) {
			if ((rc = emit_put(x, f->v)))
				return rc;
		}
		f->step++;
		f->in_step = 0;
	}
	return 0;
}

/* One pickle: doc's header and flags, `root` as its value; its trailing
 * bytes too when `trailing`. *written: bytes handed to write. */
static int encode_one(pk_doc *doc, pk_val root, pk_write_fn write, void *ctx,
		      pk_err *e, uint64_t base, const uint8_t *file,
		      int trailing, uint64_t *written)
{
	struct enc x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.doc = doc;
	x.write = write;
	x.ctx = ctx;
	x.e = e;
	x.base = base;
	x.file = file;
	x.bin = doc->op_proto >= 1;
	x.renumber = doc->irregular;
	pk_idmap_init(&x.ids);
	pk_memo_init(&x.occ);

	if (doc->proto >= 0) {
		uint8_t h[2] = {PK_OP_PROTO, (uint8_t)doc->proto};
		if ((rc = emit(&x, h, 2)))
			goto cleanup;
	}
	x.framing = doc->framed;
	if ((rc = save(&x, root)) || (rc = run(&x)))
		goto cleanup;
	if ((rc = emit1(&x, PK_OP_STOP)) || (rc = commit_frame(&x)))
		goto cleanup;
	x.framing = 0;
	/* Bytes after STOP are the user's: keep them. */
	if (trailing && doc->end < doc->len &&
	    (rc = emit(&x, doc->data + doc->end, doc->len - doc->end)))
		goto cleanup;
	rc = flush_obuf(&x);
cleanup:
	*written = x.written;
	pk_buf_release(&x.obuf);
	pk_buf_release(&x.fbuf);
	pk_idmap_release(&x.ids);
	pk_memo_release(&x.occ);
	free(x.st);
	return rc;
}

int pk_encode(pk_doc *doc, pk_write_fn write, void *ctx, pk_err *e)
{
	pk_err local;
	uint64_t at = 0, n = 0;
	const pk_node *parts;
	uint32_t i;
	int rc;

	if (!e)
		e = &local;
	pk_err_set(e, PK_OK, NULL, 0);
	if (!pk_val_is_node(doc->root) ||
	    !(pk_val_node(doc->root)->flags & PK_NODE_PARTS))
		return encode_one(doc, doc->root, write, ctx, e, 0, doc->data,
				  1, &n);
	/* several pickles: each one whole, one after the other */
	parts = pk_val_node(doc->root);
	if (parts->nkids != doc->nparts + 1)
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "a file of several pickles lost a pickle", 0);
	for (i = 0; i <= doc->nparts; i++) {
		pk_doc *p = i ? doc->parts[i - 1] : doc;
		if ((rc = encode_one(p, parts->kids[i], write, ctx, e, at,
				     doc->data, i == doc->nparts, &n)))
			return rc;
		at += n;
	}
	return PK_OK;
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
