#include "form.h"
#include "frame.h"

#include <string.h>

#include "opcodes.h"
#include "scalars.h"
#include "tensor.h"

/* ---- small readers ----------------------------------------------------- */

int pf_seq_kids(const pk_val *v, const pk_val **kids, uint32_t *n)
{
	if (!pf_is_node(v))
		return -1;
	switch (pf_kind(v)) {
	case PK_LIST:
	case PK_TUPLE:
	case PK_SET:
	case PK_FROZENSET:
		*kids = pf_node(v)->kids;
		*n = pf_node(v)->nkids;
		return 0;
	}
	return -1;
}

static int tuple_kids(const pk_val *v, const pk_val **kids, uint32_t *n)
{
	if (!v || !pf_is_node(v) || pf_kind(v) != PK_TUPLE)
		return -1;
	*kids = pf_node(v)->kids;
	*n = pf_node(v)->nkids;
	return 0;
}

int pf_global_parts(const pk_val *v, const uint8_t **mod, size_t *modlen,
		    const uint8_t **name, size_t *namelen)
{
	if (!v || pf_kind(v) != PK_GLOBAL)
		return -1;
	return pk_val_global(*v, mod, modlen, name, namelen) == PK_OK ? 0 : -1;
}

static int same(const uint8_t *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n == k && memcmp(s, lit, k) == 0;
}

/* Module names that are one module under two spellings. */
static int module_is(const uint8_t *m, size_t n, const char *want)
{
	if (same(m, n, want))
		return 1;
	if (strcmp(want, "builtins") == 0)
		return same(m, n, "__builtin__");
	if (strcmp(want, "copyreg") == 0)
		return same(m, n, "copy_reg");
	if (strncmp(want, "numpy.core.", 11) == 0 && n > 12 &&
	    memcmp(m, "numpy._core.", 12) == 0)
		return same(m + 12, n - 12, want + 11);
	return 0;
}

int pf_global_is(const pk_val *v, const char *mod, const char *name)
{
	const uint8_t *m, *q;
	size_t ml, ql;

	if (pf_global_parts(v, &m, &ml, &q, &ql))
		return 0;
	return same(q, ql, name) && module_is(m, ml, mod);
}

int pf_str_is(const pk_val *v, const char *s)
{
	const uint8_t *p;
	uint64_t n;
	pk_buf b = PK_BUF_INIT;
	int eq;

	if (!v || (pf_kind(v) != PK_STR && pf_kind(v) != PK_STRING) ||
	    pf_is_node(v))
		return 0;
	if (pk_val_payload(*v, &p, &n) == PK_OK)
		return n == strlen(s) && memcmp(p, s, n) == 0;
	if (pk_val_format(NULL, *v, &b, NULL) != PK_OK) {
		pk_buf_release(&b);
		return 0;
	}
	eq = b.len == strlen(s) && memcmp(b.data, s, b.len) == 0;
	pk_buf_release(&b);
	return eq;
}

static int is_number(const pk_val *v)
{
	return !pf_is_node(v) &&
	       (pf_kind(v) == PK_FLOAT || pf_kind(v) == PK_INT ||
		pf_kind(v) == PK_BOOL);
}

/* ---- objects ----------------------------------------------------------- */

int pf_obj_parse(const pk_val *v, pf_obj *o)
{
	const pk_node *n;
	const pk_step *s0;
	const pk_val *k;
	const pk_val *ak;
	uint32_t an;

	memset(o, 0, sizeof(*o));
	if (!pf_is_node(v) || pf_kind(v) != PK_OBJECT)
		return -1;
	n = pf_node(v);
	if (n->nsteps == 0)
		return -1;
	s0 = &pk_node_steps(n)[0];
	k = n->kids;
	o->node = n;
	o->op = s0->op;
	o->first_after = s0->nkids;
	switch (s0->op) {
	case PK_OP_REDUCE:
	case PK_OP_NEWOBJ:
	case PK_OP_NEWOBJ_EX:
		if (s0->nkids < 2 ||
		    (s0->op == PK_OP_NEWOBJ_EX && s0->nkids < 3))
			return -1;
		o->callable = &k[0];
		o->args = &k[1];
		if (s0->op == PK_OP_NEWOBJ_EX)
			o->kwargs = &k[2];
		o->cls = o->callable;
		if (tuple_kids(o->args, &ak, &an) == 0 && an == 0)
			o->hide_args = 1;
		if (s0->op == PK_OP_REDUCE &&
		    pf_global_is(o->callable, "copyreg", "_reconstructor") &&
		    tuple_kids(o->args, &ak, &an) == 0 && an == 3) {
			/* copyreg._reconstructor(cls, object, None) is how
			 * protocols 0 and 1 say "an instance of cls" */
			o->cls = &ak[0];
			o->hide_args =
			    pf_global_is(&ak[1], "builtins", "object") &&
			    pf_kind(&ak[2]) == PK_NONE;
		}
		return 0;
	case PK_OP_INST: /* kids[0]: the class (a GLOBAL-like value) */
	case PK_OP_OBJ:
		if (s0->nkids < 1)
			return -1;
		o->callable = &k[0];
		o->cls = &k[0];
		o->inl_first = 1;
		o->inl_count = s0->nkids - 1;
		return 0;
	}
	return -1;
}

/* Opcodes of the steps after the creation step, as a bit set. */
enum { AFTER_BUILD = 1, AFTER_SETITEMS = 2, AFTER_APPENDS = 4 };

static unsigned steps_after(const pk_node *n, const pk_val **first_state)
{
	const pk_step *st = pk_node_steps(n);
	unsigned bits = 0;
	uint32_t i, kid = st[0].nkids;

	*first_state = NULL;
	for (i = 1; i < n->nsteps; kid += st[i].nkids, i++) {
		switch (st[i].op) {
		case PK_OP_BUILD:
			bits |= AFTER_BUILD;
			if (!*first_state && st[i].nkids == 1)
				*first_state = &n->kids[kid];
			break;
		case PK_OP_SETITEM:
		case PK_OP_SETITEMS:
			bits |= AFTER_SETITEMS;
			break;
		case PK_OP_APPEND:
		case PK_OP_APPENDS:
		case PK_OP_ADDITEMS:
			bits |= AFTER_APPENDS;
			break;
		default: /* POP and SHELL steps are not part of the value */
			break;
		}
	}
	return bits;
}

static int is_latin1_call(const pk_val *v)
{
	pf_obj o;
	const pk_val *ak;
	uint32_t an;

	if (pf_obj_parse(v, &o) || o.op != PK_OP_REDUCE ||
	    o.node->nsteps != 1 ||
	    !pf_global_is(o.callable, "_codecs", "encode") ||
	    tuple_kids(o.args, &ak, &an) || an != 2 ||
	    pf_kind(&ak[0]) != PK_STR || pf_is_node(&ak[0]))
		return 0;
	return pf_str_is(&ak[1], "latin1") || pf_str_is(&ak[1], "latin-1");
}

/* bytes, bytearray, a Python 2 str, or _codecs.encode(s, 'latin1'). */
static int is_raw_bytes(const pk_val *v)
{
	if (!pf_is_node(v))
		return pf_kind(v) == PK_BYTES || pf_kind(v) == PK_BYTEARRAY ||
		       pf_kind(v) == PK_STRING || pf_kind(v) == PK_RAW;
	return is_latin1_call(v);
}

/* REDUCE of builtins.bytes / bytearray with () or (raw bytes,) or
 * (str, 'latin-1'), and no state but None. */
static int is_bytes_call(const pf_obj *o)
{
	const pk_val *ak, *state;
	uint32_t an;
	unsigned after;

	if (o->op != PK_OP_REDUCE || tuple_kids(o->args, &ak, &an) ||
	    !(pf_global_is(o->callable, "builtins", "bytes") ||
	      pf_global_is(o->callable, "builtins", "bytearray")))
		return 0;
	after = steps_after(o->node, &state);
	if ((after & ~AFTER_BUILD) || (state && pf_kind(state) != PK_NONE))
		return 0;
	return an == 0 || (an == 1 && is_raw_bytes(&ak[0])) ||
	       (an == 2 && pf_kind(&ak[0]) == PK_STR && !pf_is_node(&ak[0]) &&
		(pf_str_is(&ak[1], "latin-1") || pf_str_is(&ak[1], "latin1")));
}

static int is_byteslike(const pk_val *v)
{
	pf_obj o;

	if (is_raw_bytes(v))
		return 1;
	return pf_obj_parse(v, &o) == 0 && is_bytes_call(&o);
}

static int form_of_reduce(const pf_obj *o)
{
	const pk_val *ak, *state;
	uint32_t an;
	unsigned after = steps_after(o->node, &state);
	int targs = tuple_kids(o->args, &ak, &an);

	if (targs == 0 && pf_global_is(o->callable, "builtins", "complex")) {
		if (!after && an >= 1 && an <= 2 && is_number(&ak[0]) &&
		    (an == 1 || is_number(&ak[1])))
			return PF_FORM_COMPLEX;
		return PF_FORM_OBJECT;
	}
	if (targs == 0 && (pf_global_is(o->callable, "builtins", "bytes") ||
			   pf_global_is(o->callable, "builtins", "bytearray")))
		return is_bytes_call(o) ? PF_FORM_BYTESCALL : PF_FORM_OBJECT;
	if (targs == 0 &&
	    (pf_global_is(o->callable, "builtins", "set") ||
	     pf_global_is(o->callable, "builtins", "frozenset"))) {
		const pk_val *sk;
		uint32_t sn;
		if (!after && (an == 0 ||
			       (an == 1 && pf_seq_kids(&ak[0], &sk, &sn) == 0 &&
				(pf_kind(&ak[0]) == PK_LIST ||
				 pf_kind(&ak[0]) == PK_TUPLE))))
			return PF_FORM_SETCALL;
		return PF_FORM_OBJECT;
	}
	if (targs == 0 &&
	    (pf_global_is(o->callable, "collections", "OrderedDict") ||
	     pf_global_is(o->callable, "collections", "defaultdict") ||
	     pf_global_is(o->callable, "collections", "Counter"))) {
		if (after & AFTER_APPENDS)
			return PF_FORM_OBJECT;
		if (pf_global_is(o->callable, "collections", "defaultdict"))
			return an <= 1 ? PF_FORM_DICTCALL : PF_FORM_OBJECT;
		if (pf_global_is(o->callable, "collections", "Counter"))
			return an == 0 || (an == 1 && pf_is_node(&ak[0]) &&
					   pf_kind(&ak[0]) == PK_DICT)
				   ? PF_FORM_DICTCALL
				   : PF_FORM_OBJECT;
		/* OrderedDict: () then SETITEMS, or Python 2's
		 * ([[k, v], ...],) */
		if (an == 0)
			return PF_FORM_DICTCALL;
		if (an == 1 && pf_is_node(&ak[0]) &&
		    (pf_kind(&ak[0]) == PK_LIST ||
		     pf_kind(&ak[0]) == PK_TUPLE)) {
			const pk_node *l = pf_node(&ak[0]);
			uint32_t i;
			for (i = 0; i < l->nkids; i++) {
				const pk_val *p = &l->kids[i];
				if (!pf_is_node(p) ||
				    (pf_kind(p) != PK_LIST &&
				     pf_kind(p) != PK_TUPLE) ||
				    pf_node(p)->nkids != 2)
					return PF_FORM_OBJECT;
			}
			return PF_FORM_DICTCALL;
		}
		return PF_FORM_OBJECT;
	}
	return PF_FORM_OBJECT;
}

int pf_form_of(const pk_val *v)
{
	pf_obj o;
	pf_ndarray arr;
	pf_tensor t;

	if (!pf_is_node(v)) {
		if (pf_kind(v) == PK_GLOBAL)
			return PF_FORM_GLOBAL;
		return PF_FORM_SCALAR;
	}
	switch (pf_kind(v)) {
	case PK_DICT:
		return PF_FORM_DICT;
	case PK_LIST:
	case PK_TUPLE:
	case PK_SET:
	case PK_FROZENSET:
		return PF_FORM_SEQ;
	case PK_GLOBAL:
		return PF_FORM_GLOBAL;
	case PK_PERSID:
		return PF_FORM_PERSID;
	case PK_BUFFER:
		return PF_FORM_BUFFER;
	case PK_OBJECT:
		break;
	default:
		return PF_FORM_SCALAR;
	}
	if (pf_obj_parse(v, &o))
		return PF_FORM_OBJECT;
	if (o.op == PK_OP_NEWOBJ && pf_ndarray_parse(v, &arr) == 0)
		return PF_FORM_NDARRAY; /* joblib's NumpyArrayWrapper */
	if (pf_sc_type(v))
		return PF_FORM_LIBSCALAR;
	if (pf_frame_is(v))
		return PF_FORM_FRAME;
	if (o.op != PK_OP_REDUCE)
		return PF_FORM_OBJECT;
	if (is_latin1_call(v))
		return PF_FORM_LATIN1;
	if (pf_ndarray_parse(v, &arr) == 0)
		return PF_FORM_NDARRAY;
	if (pf_tensor_parse(v, &t) == 0)
		return PF_FORM_TENSOR;
	return form_of_reduce(&o);
}

/* ---- numpy ------------------------------------------------------------- */

/* joblib's NumpyArrayWrapper (pickle.h): the state dict's shape, dtype
 * and order, and the inline bytes that follow its BUILD (for an object
 * array, the list of items of the nested pickle's array). */
static int joblib_parse(const pk_node *n, pf_ndarray *a)
{
	const pk_step *st = pk_node_steps(n);
	const pk_val *raw;
	const pk_inline *rec;

	if (n->nsteps != 3 || st[2].op != PK_STEP_INLINE || st[2].nkids != 1)
		return -1;
	raw = &n->kids[n->nkids - 1];
	if (pf_is_node(raw) || pf_kind(raw) != PK_RAW)
		return -1;
	a->shape = pk_joblib_field(n, "shape");
	a->dtype = pk_joblib_field(n, "dtype");
	a->order = pk_joblib_field(n, "order");
	rec = pk_val_inline(*raw);
	if (rec->sub) {
		/* one level: a nested pickle holds no wrapper (joblib.c) */
		pf_ndarray in;
		if (pf_ndarray_parse(&rec->sub->root, &in) ||
		    !pf_is_node(in.data) || pf_kind(in.data) != PK_LIST)
			return -1;
		a->data = in.data;
	} else {
		a->data = raw;
	}
	if (!a->shape || !a->dtype || !pf_is_node(a->shape) ||
	    pf_kind(a->shape) != PK_TUPLE)
		return -1;
	if (a->order && pf_kind(a->order) != PK_STR)
		a->order = NULL;
	return 0;
}

int pf_ndarray_parse(const pk_val *v, pf_ndarray *a)
{
	pf_obj o;
	const pk_val *ak, *state, *sk;
	uint32_t an, sn;

	memset(a, 0, sizeof(*a));
	if (v && pf_is_node(v) && pf_kind(v) == PK_OBJECT &&
	    pk_joblib_state(pf_node(v))) {
		if (joblib_parse(pf_node(v), a) == 0)
			return 0;
		memset(a, 0, sizeof(*a));
		return -1;
	}
	if (!v || pf_obj_parse(v, &o) || o.op != PK_OP_REDUCE ||
	    tuple_kids(o.args, &ak, &an))
		return -1;
	if (pf_global_is(o.callable, "numpy.core.multiarray", "_reconstruct")) {
		if (o.node->nsteps != 2 ||
		    pk_node_steps(o.node)[1].op != PK_OP_BUILD ||
		    pk_node_steps(o.node)[1].nkids != 1)
			return -1;
		state = &o.node->kids[o.first_after];
		if (tuple_kids(state, &sk, &sn))
			return -1;
		if (sn == 5) {
			sk++;
			sn--;
		}
		if (sn != 4)
			return -1;
		a->shape = &sk[0];
		a->dtype = &sk[1];
		a->fortran = &sk[2];
		a->data = &sk[3];
	} else if (pf_global_is(o.callable, "numpy.core.numeric",
				"_frombuffer")) {
		if (o.node->nsteps != 1 || an != 4)
			return -1;
		a->data = &ak[0];
		a->dtype = &ak[1];
		a->shape = &ak[2];
		a->order = &ak[3];
	} else {
		return -1;
	}
	if (!pf_is_node(a->shape) || pf_kind(a->shape) != PK_TUPLE)
		return -1;
	if (!is_byteslike(a->data) &&
	    !(pf_is_node(a->data) && pf_kind(a->data) == PK_LIST) &&
	    pf_kind(a->data) != PK_BUFFER)
		return -1;
	return 0;
}

/* ---- type names -------------------------------------------------------- */

/* The names users see in user.pickle.type, by kind: the one table for
 * both directions. `settable`: a scalar file can be set to this type
 * (setfattr) or created as it; "str" reads back as PK_STR, not the
 * Python 2 PK_STRING. */
static const struct {
	const char *name;
	uint8_t settable;
} type_names[] = {
    [PK_NONE] = {"none", 1},
    [PK_BOOL] = {"bool", 1},
    [PK_INT] = {"int", 1},
    [PK_FLOAT] = {"float", 1},
    [PK_STR] = {"str", 1},
    [PK_STRING] = {"str", 0},
    [PK_BYTES] = {"bytes", 1},
    [PK_BYTEARRAY] = {"bytearray", 0},
    [PK_GLOBAL] = {"global", 0},
    [PK_EXT] = {"ext", 0},
    [PK_PERSID] = {"persid", 0},
    [PK_BUFFER] = {"picklebuffer", 0},
    [PK_LIST] = {"list", 0},
    [PK_TUPLE] = {"tuple", 0},
    [PK_DICT] = {"dict", 0},
    [PK_SET] = {"set", 0},
    [PK_FROZENSET] = {"frozenset", 0},
    [PK_OBJECT] = {"object", 0},
};

#define NTYPE_NAMES (sizeof(type_names) / sizeof(type_names[0]))

const char *pf_kind_type_name(int kind)
{
	if (kind <= 0 || (size_t)kind >= NTYPE_NAMES || !type_names[kind].name)
		return type_names[PK_OBJECT].name;
	return type_names[kind].name;
}

int pf_type_name_kind(const char *name)
{
	size_t k;

	for (k = 0; k < NTYPE_NAMES; k++)
		if (type_names[k].settable && !strcmp(name, type_names[k].name))
			return (int)k;
	return -1;
}

const char *pf_type_name(const pk_val *v)
{
	pf_obj o;

	switch (pf_form_of(v)) {
	case PF_FORM_SCALAR:
	case PF_FORM_GLOBAL:
	case PF_FORM_SEQ:
	case PF_FORM_DICT:
	case PF_FORM_PERSID:
		return pf_kind_type_name(pf_kind(v));
	case PF_FORM_BUFFER:
		return pf_kind_type_name(PK_BUFFER);
	case PF_FORM_COMPLEX:
		return "complex";
	case PF_FORM_LIBSCALAR:
		return pf_sc_type_name(v);
	case PF_FORM_LATIN1:
		return pf_kind_type_name(PK_BYTES);
	case PF_FORM_BYTESCALL:
		pf_obj_parse(v, &o);
		return pf_kind_type_name(
		    pf_global_is(o.callable, "builtins", "bytearray")
			? PK_BYTEARRAY
			: PK_BYTES);
	case PF_FORM_SETCALL:
		pf_obj_parse(v, &o);
		return pf_kind_type_name(
		    pf_global_is(o.callable, "builtins", "frozenset")
			? PK_FROZENSET
			: PK_SET);
	case PF_FORM_DICTCALL:
		return pf_kind_type_name(PK_DICT);
	case PF_FORM_NDARRAY:
		return "ndarray";
	case PF_FORM_TENSOR:
		return "tensor";
	}
	return pf_kind_type_name(PK_OBJECT);
}

const char *pf_key_type_name(const pk_val *v)
{
	return pf_type_name(v);
}
