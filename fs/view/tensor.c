#include "tensor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "opcodes.h"
#include "ptrmap.h"

/* torch.XStorage -> the dtype it holds (torch 1.x names; torch 2 pickles
 * the same classes). */
static const struct storage_kind {
	const char *cls, *name, *descr;
	uint32_t itemsize;
} kinds[] = {
    {"FloatStorage", "float32", "<f4", 4},
    {"DoubleStorage", "float64", "<f8", 8},
    {"HalfStorage", "float16", "<f2", 2},
    {"BFloat16Storage", "bfloat16", NULL, 2},
    {"LongStorage", "int64", "<i8", 8},
    {"IntStorage", "int32", "<i4", 4},
    {"ShortStorage", "int16", "<i2", 2},
    {"CharStorage", "int8", "|i1", 1},
    {"ByteStorage", "uint8", "|u1", 1},
    {"BoolStorage", "bool", "|b1", 1},
    {"ComplexFloatStorage", "complex64", "<c8", 8},
    {"ComplexDoubleStorage", "complex128", "<c16", 16},
};

static int tuple_items(const pk_val *v, const pk_val **kids, uint32_t *n)
{
	if (!v || !pf_is_node(v) || pf_kind(v) != PK_TUPLE)
		return -1;
	*kids = pf_node(v)->kids;
	*n = pf_node(v)->nkids;
	return 0;
}

static int int_of(const pk_val *v, int64_t *out)
{
	return pf_is_node(v) || pf_kind(v) != PK_INT ||
		       pk_val_int64(*v, out) != PK_OK
		   ? -1
		   : 0;
}

/* The REDUCE of module.name with a tuple of at least min args. */
static int call_of(const pk_val *v, const char *name, uint32_t min,
		   const pk_val **args, uint32_t *n)
{
	pf_obj o;

	if (pf_obj_parse(v, &o) || o.op != PK_OP_REDUCE ||
	    !pf_global_is(o.callable, "torch._utils", name) ||
	    tuple_items(o.args, args, n) || *n < min)
		return -1;
	return 0;
}

/* ('storage', torch.XStorage, KEY, LOCATION, NUMEL, ...) */
static int storage_parse(const pk_val *persid, pf_tensor *t)
{
	const pk_val *id, *f;
	uint32_t n, i;

	if (!pf_is_node(persid) || pf_kind(persid) != PK_PERSID ||
	    pf_node(persid)->nkids != 1)
		return -1;
	id = &pf_node(persid)->kids[0];
	if (tuple_items(id, &f, &n) || n < 5 || !pf_str_is(&f[0], "storage") ||
	    (pf_kind(&f[2]) != PK_STR && pf_kind(&f[2]) != PK_STRING))
		return -1;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (pf_global_is(&f[1], "torch", kinds[i].cls))
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return -1;
	t->persid = persid;
	t->key = &f[2];
	t->name = kinds[i].name;
	t->descr = kinds[i].descr;
	t->itemsize = kinds[i].itemsize;
	return 0;
}

int pf_tensor_parse(const pk_val *v, pf_tensor *t)
{
	const pk_val *a, *dims, *strides;
	uint32_t n, nd, ns, i;
	int64_t x;

	memset(t, 0, sizeof(*t));
	if (call_of(v, "_rebuild_parameter", 2, &a, &n) == 0 ||
	    call_of(v, "_rebuild_parameter_with_state", 2, &a, &n) == 0) {
		t->parameter = 1;
		v = &a[0];
	}
	if (call_of(v, "_rebuild_tensor_v2", 4, &a, &n) &&
	    call_of(v, "_rebuild_tensor", 4, &a, &n))
		return -1;
	t->tensor = v;
	if (storage_parse(&a[0], t) || int_of(&a[1], &x) || x < 0 ||
	    tuple_items(&a[2], &dims, &nd) ||
	    tuple_items(&a[3], &strides, &ns) || nd != ns ||
	    nd > PF_TENSOR_MAXDIM)
		return -1;
	t->offset = (uint64_t)x;
	t->size = &a[2];
	t->stride = &a[3];
	t->ndim = nd;
	t->count = 1;
	for (i = 0; i < nd; i++) {
		int64_t d, s;
		if (int_of(&dims[i], &d) || int_of(&strides[i], &s) || d < 0 ||
		    d > (int64_t)1 << 48 || s < 0 || s > (int64_t)1 << 48)
			return -1;
		t->dims[i] = (uint64_t)d;
		t->strides[i] = s;
		if (d && t->count > ((uint64_t)1 << 48) / (uint64_t)d)
			return -1;
		t->count *= (uint64_t)d;
	}
	return 0;
}

/* Whether the elements lie one after another in C order. */
static int contiguous(const pf_tensor *t)
{
	int64_t want = 1;
	uint32_t i;

	for (i = t->ndim; i-- > 0;) {
		if (t->dims[i] != 1 && t->strides[i] != want)
			return 0;
		want *= (int64_t)t->dims[i];
	}
	return 1;
}

/* The largest element index the tensor reaches (count > 0). */
static uint64_t last_index(const pf_tensor *t)
{
	uint64_t at = t->offset;
	uint32_t i;

	for (i = 0; i < t->ndim; i++)
		at += (t->dims[i] - 1) * (uint64_t)t->strides[i];
	return at;
}

int pf_tensor_data(const pk_doc *doc, const pf_tensor *t, int size_only,
		   const uint8_t **data, uint64_t *len, pk_buf *out)
{
	const uint8_t *key, *st;
	uint64_t keylen, stlen, idx[PF_TENSOR_MAXDIM], k;
	size_t at;
	int rc;

	*len = t->count * t->itemsize; /* both below 2^48 * 16 */
	*data = NULL;
	if (size_only)
		return 0;
	if (!doc->external || !doc->external->storage ||
	    pk_val_payload(*t->key, &key, &keylen) != PK_OK)
		return ENOENT;
	if ((rc = doc->external->storage(doc->external, key, (size_t)keylen, &st,
				      &stlen)))
		return rc;
	if (t->count == 0) {
		*data = st;
		return 0;
	}
	/* every element within the storage: its last one is */
	if (last_index(t) >= stlen / t->itemsize)
		return EIO;
	if (contiguous(t)) {
		*data = st + t->offset * t->itemsize;
		return 0;
	}
	at = out->len;
	if (pk_buf_grow(out, (size_t)*len))
		return ENOMEM;
	memset(idx, 0, sizeof(idx));
	for (k = 0; k < t->count; k++) {
		uint64_t pos = t->offset;
		uint32_t i;
		for (i = 0; i < t->ndim; i++)
			pos += idx[i] * (uint64_t)t->strides[i];
		pk_buf_add(out, st + pos * t->itemsize, t->itemsize);
		/* the next index in C order */
		for (i = t->ndim; i-- > 0;) {
			if (++idx[i] < t->dims[i])
				break;
			idx[i] = 0;
		}
	}
	*data = out->data + at;
	return 0;
}

int pf_tensor_storages(const pk_doc *doc,
		       int (*fn)(void *ctx, const uint8_t *key, size_t keylen,
				 uint32_t itemsize),
		       void *ctx)
{
	const pk_node **stack = NULL;
	size_t n = 0, cap = 0;
	pf_ptrmap seen;
	uint64_t dummy;
	int rc = 0;

	pf_ptrmap_init(&seen);
	if (!pk_val_is_node(doc->root))
		return 0;
	if (pk_vec_grow((void **)&stack, &cap, 1, sizeof(*stack)))
		return ENOMEM;
	stack[n++] = pk_val_node(doc->root);
	while (n && !rc) {
		const pk_node *node = stack[--n];
		uint32_t i;
		if (node->kind == PK_PERSID && node->nkids == 1) {
			pk_val pv = pk_val_of_node((pk_node *)node);
			pf_tensor t;
			const uint8_t *key;
			uint64_t kl;
			memset(&t, 0, sizeof(t));
			if (storage_parse(&pv, &t) == 0 &&
			    pk_val_payload(*t.key, &key, &kl) == PK_OK &&
			    (rc = fn(ctx, key, (size_t)kl, t.itemsize)))
				break;
		}
		for (i = 0; i < node->nkids; i++) {
			const pk_node *kid;
			if (!pk_val_is_node(node->kids[i]))
				continue;
			kid = pk_val_node(node->kids[i]);
			if (pf_ptrmap_get(&seen, kid, 0, &dummy))
				continue;
			if (pf_ptrmap_put(&seen, kid, 0, 1) ||
			    pk_vec_grow((void **)&stack, &cap, n + 1,
					sizeof(*stack))) {
				rc = ENOMEM;
				break;
			}
			stack[n++] = kid;
		}
	}
	free(stack);
	pf_ptrmap_release(&seen);
	return rc;
}
