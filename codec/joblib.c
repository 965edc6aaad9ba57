/*
 * joblib.c - the decoder's reading of joblib's inline numpy arrays.
 *
 * joblib.dump pickles each numpy array as a NumpyArrayWrapper (NEWOBJ,
 * BUILD of a dict: subclass, shape, order, dtype, allow_mmap,
 * numpy_array_alignment_bytes) and writes the array right after that
 * BUILD, outside any opcode (joblib/numpy_pickle.py, write_array): for a
 * non-object dtype, when numpy_array_alignment_bytes is a number, one
 * byte n then n padding bytes, then count * itemsize bytes; for an object
 * dtype a nested protocol 2 pickle of the array. pk_dec_joblib reads
 * those bytes into a PK_RAW value (pickle.h) after the BUILD, checked
 * against the bytes left. The wrapper is a NEWOBJ (protocols 2-5) or a
 * REDUCE of copyreg._reconstructor (protocols 0 and 1). The old
 * NDArrayWrapper (joblib < 0.10) kept its arrays in other files: it is an
 * ordinary object here.
 */
#include <string.h>

#include "decoder.h"
#include "npdtype.h"
#include "opcodes.h"
#include "tree.h"

/* The value of the str key `key` in dict node n, or NULL. */
static const pk_val *dict_get(const pk_node *n, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i;

	for (i = 0; i + 1 < n->nkids; i += 2) {
		const uint8_t *p;
		uint64_t len;
		if (pk_val_is_node(n->kids[i]) ||
		    pk_val_kind(n->kids[i]) != PK_STR)
			continue;
		if (pk_val_payload(n->kids[i], &p, &len) == PK_OK) {
			if (len == klen && memcmp(p, key, klen) == 0)
				return &n->kids[i + 1];
		} else {
			pk_buf t = PK_BUF_INIT;
			int same = pk_val_format(NULL, n->kids[i], &t, NULL) ==
				       PK_OK &&
				   t.len == klen &&
				   memcmp(t.data, key, klen) == 0;
			pk_buf_release(&t);
			if (same)
				return &n->kids[i + 1];
		}
	}
	return NULL;
}

static int global_is(pk_val v, const char *mod, const char *name)
{
	const uint8_t *m, *nm;
	size_t ml, nl;

	return pk_val_global(v, &m, &ml, &nm, &nl) == PK_OK &&
	       ml == strlen(mod) && memcmp(m, mod, ml) == 0 &&
	       nl == strlen(name) && memcmp(nm, name, nl) == 0;
}

/* The class of an object made by NEWOBJ (protocols 2-5), or by REDUCE
 * of copyreg._reconstructor(cls, object, None) (protocols 0 and 1). */
static const pk_val *class_of(const pk_node *n)
{
	const pk_step *st = pk_node_steps(n);

	if (st[0].op == PK_OP_NEWOBJ && st[0].nkids == 2)
		return &n->kids[0];
	if (st[0].op == PK_OP_REDUCE && st[0].nkids == 2 &&
	    (global_is(n->kids[0], "copy_reg", "_reconstructor") ||
	     global_is(n->kids[0], "copyreg", "_reconstructor")))
		return pk_tuple_at(n->kids[1], 0);
	return NULL;
}

const pk_val *pk_joblib_state(const pk_node *n)
{
	const pk_step *st = pk_node_steps(n);
	const pk_val *state, *cls;

	if (n->kind != PK_OBJECT || n->nsteps < 2 || st[1].op != PK_OP_BUILD ||
	    st[1].nkids != 1 || n->nkids < 3 || !(cls = class_of(n)) ||
	    !global_is(*cls, "joblib.numpy_pickle", "NumpyArrayWrapper"))
		return NULL;
	state = &n->kids[st[0].nkids];
	if (!pk_val_is_node(*state) || pk_val_node(*state)->kind != PK_DICT)
		return NULL;
	return state;
}

const pk_val *pk_joblib_field(const pk_node *n, const char *key)
{
	const pk_val *state = pk_joblib_state(n);

	return state ? dict_get(pk_val_node(*state), key) : NULL;
}

int pk_dec_joblib(struct dec *d, pk_node *n, const uint8_t *op)
{
	const pk_val *shape, *dtype, *align;
	const pk_node *sh;
	pk_inline *rec;
	pk_val v;
	uint64_t count = 1, len;
	int64_t size, a = 0;
	uint32_t i;

	/* only a wrapper just built (BUILD is its last step) */
	if (n->nsteps != 2 || !pk_joblib_state(n))
		return 0;
	shape = pk_joblib_field(n, "shape");
	dtype = pk_joblib_field(n, "dtype");
	align = pk_joblib_field(n, "numpy_array_alignment_bytes");
	if (!shape || !dtype || !pk_val_is_node(*shape) ||
	    pk_val_node(*shape)->kind != PK_TUPLE)
		return fail(d, PK_E_ARG, "joblib array without shape or dtype",
			    op);
	sh = pk_val_node(*shape);
	for (i = 0; i < sh->nkids; i++) {
		int64_t k;
		if (pk_val_int64(sh->kids[i], &k) != PK_OK || k < 0 ||
		    __builtin_mul_overflow(count, (uint64_t)k, &count))
			return fail(d, PK_E_ARG, "bad joblib array shape", op);
	}
	if ((size = pk_npdtype_itemsize(*dtype)) < 0)
		return fail(d, PK_E_ARG, "bad joblib array dtype", op);
	rec = pk_arena_alloc(d->arena, sizeof(*rec));
	if (!rec)
		return fail(d, PK_E_NOMEM, "out of memory", op);
	memset(rec, 0, sizeof(*rec));
	rec->tag = PK_INLINE_TAG;
	rec->at = d->p;
	if (pk_npdtype_hasobject(*dtype)) {
		/* a nested pickle: its own doc, its own memo */
		pk_decode_opts o = {
		    PK_DEC_ONE | PK_DEC_PLAIN, 0, NULL, NULL, NULL, NULL};
		pk_doc *sub;
		int rc;
		if (d->max_tree)
			o.max_tree = d->max_tree;
		o.trace = d->trace; /* a scanner sees nested pickles too */
		o.trace_ctx = d->trace_ctx;
		if (d->doc->nsubs == d->doc->subcap) {
			size_t cap = d->doc->subcap;
			if (pk_vec_grow((void **)&d->doc->subs, &cap,
					d->doc->nsubs + 1, sizeof(pk_doc *)) ||
			    cap > UINT32_MAX)
				return fail(d, PK_E_NOMEM, "out of memory", op);
			d->doc->subcap = (uint32_t)cap;
		}
		rc = pk_decode_with(d->p, (size_t)(d->end - d->p), &o, &sub,
				    d->e);
		if (rc) {
			d->e->offset += (uint64_t)(d->p - d->base);
			return rc;
		}
		d->doc->subs[d->doc->nsubs++] = sub;
		sub->len = sub->end; /* no trailing bytes of its own */
		if (pk_idmap_merge(d->doc->shared, sub->shared))
			return fail(d, PK_E_NOMEM, "out of memory", op);
		d->doc->shared_nodes += sub->shared_nodes;
		rec->sub = sub;
		d->p += sub->end;
	} else {
		if (align && !pk_val_is_node(*align) &&
		    pk_val_kind(*align) == PK_INT &&
		    pk_val_int64(*align, &a) == PK_OK && a > 0 && a <= 255) {
			if (d->p >= d->end ||
			    (size_t)(d->end - d->p) - 1 < *d->p)
				return fail(
				    d, PK_E_TRUNCATED,
				    "joblib array padding was truncated", d->p);
			rec->padded = 1;
			rec->align = (uint32_t)a;
			rec->pad_len = *d->p;
			d->p += 1 + rec->pad_len;
		}
		if (__builtin_mul_overflow(count, (uint64_t)size, &len) ||
		    len > (uint64_t)(d->end - d->p))
			return fail(d, PK_E_TRUNCATED,
				    "joblib array data was truncated", d->p);
		rec->data = d->p;
		rec->len = len;
		d->p += len;
	}
	v = pk_val_of_bytes(&rec->tag);
	if (pk_node_add_step(d->arena, n, PK_STEP_INLINE, 0, &v, 1) < 0)
		return fail(d, PK_E_NOMEM, "out of memory", op);
	return 0;
}
