/* frame.c - taking a pickled DataFrame or Series apart (frame.h). */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "errmap.h"
#include "form.h"
#include "opcodes.h"
#include "ref.h"

#define NONE_SET UINT32_MAX

/* ---- reading the parts ------------------------------------------------ */

/* 1 when v is a global whose module is pandas' (any submodule: pandas 1
 * and 2 moved classes between them) and whose name is name. */
static int pandas_global(const pk_val *v, const char *name)
{
	const uint8_t *m, *q;
	size_t ml, ql;

	if (!v || pf_global_parts(v, &m, &ml, &q, &ql))
		return 0;
	return ml >= 6 && memcmp(m, "pandas", 6) == 0 &&
	       (ml == 6 || m[6] == '.') && ql == strlen(name) &&
	       memcmp(q, name, ql) == 0;
}

static const pk_val *kids_of(const pk_val *v, uint32_t *n)
{
	const pk_val *k;

	if (!v || pf_seq_kids(v, &k, n))
		return NULL;
	return k;
}

/* The value of str key `key` in dict d, or NULL. */
static const pk_val *dict_get(const pk_val *d, const char *key)
{
	const pk_node *n;
	uint32_t i;

	if (!d || !pf_is_node(d) || pf_kind(d) != PK_DICT)
		return NULL;
	n = pf_node(d);
	for (i = 0; i + 1 < n->nkids; i += 2)
		if (pf_str_is(&n->kids[i], key))
			return &n->kids[i + 1];
	return NULL;
}

/* The first BUILD state of object v, or NULL. */
static const pk_val *state_of(const pk_val *v)
{
	pf_obj o;
	const pk_step *st;
	uint32_t i, kid;

	if (pf_obj_parse(v, &o))
		return NULL;
	st = pk_node_steps(o.node);
	kid = st[0].nkids;
	for (i = 1; i < o.node->nsteps; kid += st[i].nkids, i++)
		if (st[i].op == PK_OP_BUILD && st[i].nkids == 1)
			return &o.node->kids[kid];
	return NULL;
}

/* A REDUCE whose callable is pandas' `name`: its args. */
static const pk_val *call_args(const pk_val *v, const char *name, uint32_t want,
			       const pk_val **args)
{
	pf_obj o;
	uint32_t n;

	if (pf_obj_parse(v, &o) || o.op != PK_OP_REDUCE ||
	    !pandas_global(o.callable, name))
		return NULL;
	*args = kids_of(o.args, &n);
	return *args && n == want ? v : NULL;
}

static int get_int(const pk_val *v, int64_t *out)
{
	return v && pk_val_int64(*v, out) == PK_OK ? 0 : -1;
}

/* ---- building the tables ---------------------------------------------- */

static int new_seq(pf_frame *f, uint32_t *at)
{
	if (pk_vec_grow((void **)&f->seqs, &f->capseqs, f->nseqs + 1,
			sizeof(*f->seqs)))
		return ENOMEM;
	memset(&f->seqs[f->nseqs], 0, sizeof(*f->seqs));
	*at = (uint32_t)f->nseqs++;
	return 0;
}

/* The numeric array v, its payload loaded once per frame. */
static int load_arr(const pk_doc *doc, pf_frame *f, const pk_val *v,
		    uint32_t *at)
{
	size_t i;
	pf_farr *a;

	for (i = 0; i < f->narrs; i++)
		if (f->arrs[i].v == v) {
			*at = (uint32_t)i;
			return 0;
		}
	if (pk_vec_grow((void **)&f->arrs, &f->caparrs, f->narrs + 1,
			sizeof(*f->arrs)))
		return ENOMEM;
	a = &f->arrs[f->narrs];
	a->v = v;
	if (pf_array_parse(doc, v, &a->ai))
		return EIO;
	if (pf_array_payload(doc, v, &a->ai) || !a->ai.size ||
	    a->ai.len / a->ai.size < a->ai.count) {
		pf_arrinfo_release(&a->ai);
		return EIO;
	}
	*at = (uint32_t)f->narrs++;
	return 0;
}

/* Digits of fraction a datetime64 unit has (descr "<M8[ns]"), -1 for
 * units a Timestamp does not print this way. */
static int dt_digits(const char *descr)
{
	const char *u = strchr(descr, '[');

	if (descr[1] != 'M' || descr[2] != '8' || !u)
		return -1;
	if (!strcmp(u, "[ns]"))
		return 9;
	if (!strcmp(u, "[us]"))
		return 6;
	if (!strcmp(u, "[ms]"))
		return 3;
	if (!strcmp(u, "[s]"))
		return 0;
	return -1;
}

/* Where item `item` of a 1-D (nitems 1) or 2-D (nitems, nrows) array
 * is: its first element and the distance between rows. */
static int place(const pk_val *shape, int fortran, uint32_t item,
		 uint64_t *nitems, pf_fseq *s)
{
	uint32_t n;
	const pk_val *k = kids_of(shape, &n);
	int64_t a, b;

	if (!k || n < 1 || n > 2 || get_int(&k[0], &a) || a < 0)
		return EIO;
	if (n == 1) {
		*nitems = 1;
		s->len = (uint64_t)a;
		s->base = 0;
		s->stride = 1;
		return item == 0 ? 0 : EIO;
	}
	if (get_int(&k[1], &b) || b < 0 || (uint64_t)item >= (uint64_t)a)
		return EIO;
	*nitems = (uint64_t)a;
	s->len = (uint64_t)b;
	s->base = fortran ? item : (uint64_t)item * (uint64_t)b;
	s->stride = fortran ? (uint64_t)a : 1;
	return 0;
}

static int index_seq(const pk_doc *doc, pf_frame *f, const pk_val *v,
		     int nested, uint32_t *at, const char **why);

/* Values of item `item` of an array-like (a numpy array, or pandas'
 * Categorical or DatetimeArray) as a seq; *nitems gets its item count.
 * nested: no Categorical (its labels are an index of plain values). */
static int array_seq(const pk_doc *doc, pf_frame *f, const pk_val *v,
		     uint32_t item, int nested, uint64_t *nitems, uint32_t *at,
		     const char **why)
{
	pf_ndarray nd;
	pf_fseq s;
	int rc;

	memset(&s, 0, sizeof(s));
	if (pf_form_of(v) == PF_FORM_NDARRAY && pf_ndarray_parse(v, &nd) == 0) {
		if (pf_is_node(nd.data) && pf_kind(nd.data) == PK_LIST) {
			uint32_t nk;
			/* numpy pickles an object array's items in C order
			 * whatever its flags say (_getlist_pkl walks it) */
			s.kind = PF_FSEQ_OBJ;
			s.items = kids_of(nd.data, &nk);
			if (!s.items && nk == 0)
				s.items = nd.data; /* empty: never read */
			if ((rc = place(nd.shape, 0, item, nitems, &s)))
				return rc;
			if (*nitems * s.len > nk)
				return EIO;
		} else {
			pf_arrinfo *ai;
			uint32_t ar;
			if ((rc = load_arr(doc, f, v, &ar)))
				return rc;
			ai = &f->arrs[ar].ai;
			s.arr = ar;
			if (ai->kind == 'b' || ai->kind == 'i' ||
			    ai->kind == 'u' || ai->kind == 'f' ||
			    ai->kind == 'c') {
				s.kind = PF_FSEQ_NUM;
			} else if (dt_digits(ai->descr) >= 0 && ai->size == 8) {
				s.kind = PF_FSEQ_DT;
				s.digits = (uint8_t)dt_digits(ai->descr);
			} else {
				*why =
				    "a column of a dtype without a text form";
				return EIO;
			}
			if ((rc = place(nd.shape, ai->fortran, item, nitems,
					&s)))
				return rc;
		}
		s.owner = v;
	} else {
		/* __pyx_unpickle_NDArrayBacked(cls, checksum, None), then
		 * BUILD (dtype, ndarray, attrs) */
		pf_obj o;
		const pk_val *ak, *st, *sk;
		uint32_t an, sn, inner;
		if (pf_obj_parse(v, &o) || o.op != PK_OP_REDUCE ||
		    !(ak = kids_of(o.args, &an)) || an < 1 ||
		    !(st = state_of(v)) || !(sk = kids_of(st, &sn)) ||
		    sn != 3) {
			*why = "a column of an extension type it does not "
			       "know";
			return EIO;
		}
		if (pandas_global(&ak[0], "DatetimeArray")) {
			pf_obj dto;
			/* a plain numpy dtype; DatetimeTZDtype is tz-aware */
			if (pf_obj_parse(&sk[0], &dto) ||
			    !pf_global_is(dto.callable, "numpy", "dtype")) {
				*why = "a timezone-aware datetime column";
				return EIO;
			}
			rc = array_seq(doc, f, &sk[1], item, 1, nitems, &inner,
				       why);
			if (rc)
				return rc;
			if (f->seqs[inner].kind != PF_FSEQ_DT)
				return EIO;
			*at = inner;
			return 0;
		}
		if (pandas_global(&ak[0], "Categorical") && !nested) {
			const pk_val *cats =
			    dict_get(state_of(&sk[0]), "categories");
			uint32_t labels;
			if (!cats ||
			    (rc = index_seq(doc, f, cats, 1, &labels, why)))
				return cats ? rc : EIO;
			rc = array_seq(doc, f, &sk[1], item, 1, nitems, &inner,
				       why);
			if (rc)
				return rc;
			if (f->seqs[inner].kind != PF_FSEQ_NUM ||
			    f->arrs[f->seqs[inner].arr].ai.kind != 'i')
				return EIO;
			s = f->seqs[inner];
			s.kind = PF_FSEQ_CAT;
			s.cats = labels;
		} else {
			*why = pandas_global(&ak[0], "TimedeltaArray")
				   ? "a timedelta column"
			       : pandas_global(&ak[0], "PeriodArray")
				   ? "a period column"
				   : "a column of an extension type it does "
				     "not know";
			return EIO;
		}
	}
	if ((rc = new_seq(f, at)))
		return rc;
	f->seqs[*at] = s;
	return 0;
}

/* An index (_new_Index / _new_DatetimeIndex of its class and a dict):
 * its values as a seq; a MultiIndex (not nested) fills f's levels. */
static int index_seq(const pk_doc *doc, pf_frame *f, const pk_val *v,
		     int nested, uint32_t *at, const char **why)
{
	const pk_val *ak, *d;
	uint64_t nitems;
	int rc;

	if (!call_args(v, "_new_Index", 2, &ak) &&
	    !call_args(v, "_new_DatetimeIndex", 2, &ak)) {
		*why = "an index it does not know";
		return EIO;
	}
	d = &ak[1];
	if (pandas_global(&ak[0], "RangeIndex")) {
		int64_t start = 0, stop = 0, step = 1;
		uint64_t len = 0;
		if (get_int(dict_get(d, "start"), &start) ||
		    get_int(dict_get(d, "stop"), &stop))
			return EIO;
		if (dict_get(d, "step") && get_int(dict_get(d, "step"), &step))
			return EIO;
		/* bounds that keep start + r * step and the length in
		 * int64 (a RangeIndex that long holds no real frame) */
		if (step == 0 || start < -(INT64_C(1) << 60) ||
		    start > (INT64_C(1) << 60) || stop < -(INT64_C(1) << 60) ||
		    stop > (INT64_C(1) << 60) || step < -(INT64_C(1) << 60) ||
		    step > (INT64_C(1) << 60))
			return EIO;
		if (step > 0 && stop > start)
			len = (uint64_t)((stop - start + step - 1) / step);
		if (step < 0 && stop < start)
			len = (uint64_t)((start - stop - step - 1) / -step);
		if ((rc = new_seq(f, at)))
			return rc;
		f->seqs[*at].kind = PF_FSEQ_RANGE;
		f->seqs[*at].start = start;
		f->seqs[*at].step = step;
		f->seqs[*at].len = len;
		if (!nested)
			f->names[0] = dict_get(d, "name");
		return 0;
	}
	if (pandas_global(&ak[0], "MultiIndex")) {
		const pk_val *lv, *cd, *nm;
		uint32_t nl, nc, nn = 0, i;
		if (nested) {
			*why = "MultiIndex columns";
			return EIO;
		}
		lv = kids_of(dict_get(d, "levels"), &nl);
		cd = kids_of(dict_get(d, "codes"), &nc);
		nm = kids_of(dict_get(d, "names"), &nn);
		if (!lv || !cd || nl != nc || nl == 0 || nl > PF_FRAME_LEVELS) {
			*why = "a MultiIndex it does not know";
			return EIO;
		}
		for (i = 0; i < nl; i++) {
			if ((rc = index_seq(doc, f, &lv[i], 1, &f->level[i],
					    why)) ||
			    (rc = array_seq(doc, f, &cd[i], 0, 1, &nitems,
					    &f->codes[i], why)))
				return rc;
			if (f->seqs[f->codes[i]].kind != PF_FSEQ_NUM ||
			    f->arrs[f->seqs[f->codes[i]].arr].ai.kind != 'i')
				return EIO;
			f->names[i] = nm && i < nn ? &nm[i] : NULL;
		}
		f->multi = 1;
		f->nlevels = nl;
		*at = f->codes[0];
		return 0;
	}
	if (!dict_get(d, "data")) {
		*why = "an index it does not know";
		return EIO;
	}
	rc =
	    array_seq(doc, f, dict_get(d, "data"), 0, nested, &nitems, at, why);
	if (!rc && !nested)
		f->names[0] = dict_get(d, "name");
	return rc;
}

/* Item positions of a block: a slice, or an array of ints. pos[] gets
 * up to max of them. */
static int placement(const pk_doc *doc, pf_frame *f, const pk_val *p,
		     uint64_t want, uint32_t *cols, uint32_t ncols,
		     const uint32_t *seqs)
{
	pf_obj o;
	const pk_val *ak;
	uint32_t an, at;
	uint64_t i, nitems;
	int64_t start, stop, step = 1;
	const char *why;
	int rc;

	if (pf_obj_parse(p, &o) == 0 && o.op == PK_OP_REDUCE &&
	    pf_global_is(o.callable, "builtins", "slice")) {
		if (!(ak = kids_of(o.args, &an)) || an < 2 || an > 3 ||
		    get_int(&ak[0], &start) || get_int(&ak[1], &stop) ||
		    (an == 3 && pf_kind(&ak[2]) != PK_NONE &&
		     get_int(&ak[2], &step)) ||
		    step <= 0 || start < 0 || stop < start)
			return EIO;
		if ((uint64_t)((stop - start + step - 1) / step) != want)
			return EIO;
		for (i = 0; i < want; i++) {
			uint64_t c = (uint64_t)start + i * (uint64_t)step;
			if (c >= ncols || cols[c] != NONE_SET)
				return EIO;
			cols[c] = seqs[i];
		}
		return 0;
	}
	if ((rc = array_seq(doc, f, p, 0, 1, &nitems, &at, &why)))
		return rc;
	if (f->seqs[at].kind != PF_FSEQ_NUM || f->seqs[at].len != want)
		return EIO;
	for (i = 0; i < want; i++) {
		const pf_fseq *s = &f->seqs[at];
		const pf_arrinfo *ai = &f->arrs[s->arr].ai;
		uint8_t b[8];
		int64_t c = 0;
		if (ai->kind != 'i' || ai->size != 8)
			return EIO;
		pf_array_load_elem(ai, ai->data + (s->base + i * s->stride) * 8,
				   b, 8);
		memcpy(&c, b, 8);
		if (c < 0 || (uint64_t)c >= ncols || cols[c] != NONE_SET)
			return EIO;
		cols[c] = seqs[i];
	}
	return 0;
}

/* One block: _unpickle_block(values, placement, ndim), or the state
 * form's {'values': ..., 'mgr_locs': ...}. */
static int block(const pk_doc *doc, pf_frame *f, const pk_val *b,
		 const char **why)
{
	const pk_val *ak, *values, *locs;
	uint32_t seqs[4096], *many = NULL, *use = seqs;
	uint64_t nitems = 0, i;
	uint32_t at;
	int rc;

	if (call_args(b, "_unpickle_block", 3, &ak)) {
		values = &ak[0];
		locs = &ak[1];
	} else if ((values = dict_get(b, "values")) &&
		   (locs = dict_get(b, "mgr_locs"))) {
	} else {
		*why = "a block it does not know";
		return EIO;
	}
	if ((rc = array_seq(doc, f, values, 0, 0, &nitems, &at, why)))
		return rc;
	if (nitems > f->ncols)
		return EIO;
	if (nitems > sizeof(seqs) / sizeof(seqs[0])) {
		if (!(many = malloc(nitems * sizeof(*many))))
			return ENOMEM;
		use = many;
	}
	use[0] = at;
	for (i = 1; i < nitems && !rc; i++)
		rc = array_seq(doc, f, values, (uint32_t)i, 0, &nitems, &use[i],
			       why);
	if (!rc && f->series) {
		/* a Series' one block holds its one column */
		rc = nitems == 1 && f->cols[0] == NONE_SET ? 0 : EIO;
		if (!rc)
			f->cols[0] = use[0];
	} else if (!rc) {
		rc = placement(doc, f, locs, nitems, f->cols, f->ncols, use);
	}
	free(many);
	return rc;
}

int pf_frame_is(const pk_val *v)
{
	pf_obj o;

	if (!pf_is_node(v) || pf_kind(v) != PK_OBJECT || pf_obj_parse(v, &o) ||
	    !(pandas_global(o.cls, "DataFrame") ||
	      pandas_global(o.cls, "Series")))
		return 0;
	return dict_get(state_of(v), "_mgr") != NULL;
}

void pf_frame_release(pf_frame *f)
{
	size_t i;

	for (i = 0; i < f->narrs; i++)
		pf_arrinfo_release(&f->arrs[i].ai);
	free(f->arrs);
	free(f->seqs);
	free(f->cols);
	memset(f, 0, sizeof(*f));
}

/* The manager's blocks and axes, from either pickled form. */
static int manager(const pk_val *mgr, const pk_val **blocks, uint32_t *nb,
		   const pk_val **axes, uint32_t *na, int series)
{
	pf_obj o;
	const pk_val *ak, *st, *sk, *d;
	uint32_t an, sn;

	if (pf_obj_parse(mgr, &o))
		return EIO;
	if (o.op == PK_OP_REDUCE &&
	    (pandas_global(o.callable, "BlockManager") ||
	     pandas_global(o.callable, "SingleBlockManager")) &&
	    (ak = kids_of(o.args, &an)) && an == 2) {
		if (series) { /* (block, axis) */
			*blocks = &ak[0];
			*nb = 1;
			*axes = &ak[1];
			*na = 1;
			return 0;
		}
		*blocks = kids_of(&ak[0], nb);
		*axes = kids_of(&ak[1], na);
		return *blocks && *axes ? 0 : EIO;
	}
	/* (axes, values, items, {'0.14.1': {'axes': [...], 'blocks': [...]}})
	 */
	if (!(st = state_of(mgr)) || !(sk = kids_of(st, &sn)) || sn < 4 ||
	    !(d = dict_get(&sk[3], "0.14.1")))
		return EIO;
	*blocks = kids_of(dict_get(d, "blocks"), nb);
	*axes = kids_of(dict_get(d, "axes"), na);
	return *blocks && *axes ? 0 : EIO;
}

int pf_frame_parse(const pk_doc *doc, const pk_val *v, pf_frame *f,
		   const char **why)
{
	const pk_val *state, *mgr, *blocks, *axes;
	const char *dummy;
	uint32_t nb, na, i, rows;
	pf_obj o;
	int rc;

	memset(f, 0, sizeof(*f));
	if (!why)
		why = &dummy;
	*why = "a layout it does not know";
	if (!pf_frame_is(v))
		return EIO;
	pf_obj_parse(v, &o);
	f->series = pandas_global(o.cls, "Series");
	state = state_of(v);
	mgr = dict_get(state, "_mgr");
	if (manager(mgr, &blocks, &nb, &axes, &na, f->series) ||
	    na != (f->series ? 1u : 2u)) {
		*why = "a BlockManager it does not know";
		return EIO;
	}
	f->nlevels = 1;
	if ((rc = index_seq(doc, f, &axes[f->series ? 0 : 1], 0, &rows, why)))
		goto fail;
	f->level[0] = f->multi ? f->level[0] : rows;
	f->nrows = f->seqs[rows].len;
	if (f->series) {
		f->series_name = dict_get(state, "name");
		f->ncols = 1;
	} else {
		const pf_fseq *ls;
		if ((rc = index_seq(doc, f, &axes[0], 1, &f->labels, why)))
			goto fail;
		ls = &f->seqs[f->labels];
		if (ls->len > (1u << 30)) {
			rc = EIO;
			goto fail;
		}
		f->ncols = (uint32_t)ls->len;
	}
	rc = ENOMEM;
	if (!(f->cols = malloc((f->ncols ? f->ncols : 1) * sizeof(*f->cols))))
		goto fail;
	for (i = 0; i < f->ncols; i++)
		f->cols[i] = NONE_SET;
	for (i = 0; i < nb; i++)
		if ((rc = block(doc, f, &blocks[i], why)))
			goto fail;
	rc = EIO;
	for (i = 0; i < f->ncols; i++)
		if (f->cols[i] == NONE_SET ||
		    f->seqs[f->cols[i]].len != f->nrows) {
			*why = "blocks that do not cover every column";
			goto fail;
		}
	for (i = 0; f->multi && i < f->nlevels; i++)
		if (f->seqs[f->codes[i]].len != f->nrows)
			goto fail;
	return 0;
fail:
	pf_frame_release(f);
	return rc;
}
