#include "frame.h"

#include "chunked.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "edit.h"
#include "errmap.h"
#include "form.h"
#include "opcodes.h"
#include "ref.h"
#include "repr.h"
#include "scalars.h"

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
		if (step == 0 || start < -(INT64_C(1) << 62) ||
		    start > (INT64_C(1) << 62) || stop < -(INT64_C(1) << 62) ||
		    stop > (INT64_C(1) << 62))
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

/* ---- text ------------------------------------------------------------- */

static int seq_int(const pf_frame *f, const pf_fseq *s, uint64_t r,
		   int64_t *out)
{
	const pf_arrinfo *ai = &f->arrs[s->arr].ai;
	uint8_t b[8] = {0};
	uint64_t u = 0;
	int bits = (int)ai->size * 8;

	if (ai->size > 8)
		return -1;
	pf_array_load_elem(ai, ai->data + (s->base + r * s->stride) * ai->size,
			   b, ai->size);
	memcpy(&u, b, ai->size); /* little-endian hosts (views.c) */
	if (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
		u >>= 64 - bits;
	if (bits < 64 && (u >> (bits - 1)) & 1)
		u |= ~(uint64_t)0 << bits;
	*out = (int64_t)u;
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* str(pandas.Timestamp) of a datetime64 count of 10^-digits seconds. */
static int dt_text(int64_t v, int digits, pk_buf *out)
{
	static const int64_t pow10[] = {1,	   10,	      100,     1000,
					10000,	   100000,    1000000, 10000000,
					100000000, 1000000000};
	int64_t per = pow10[digits], secs, frac, days, sod, y, ns;
	int m, d;

	if (v == INT64_MIN)
		return pk_buf_adds(out, "NaT");
	secs = floor_div(v, per);
	frac = v - secs * per;
	days = floor_div(secs, 86400);
	sod = secs - days * 86400;
	pf_civil_from_days(days, &y, &m, &d);
	if (pk_buf_addf(out, "%04lld-%02d-%02d %02lld:%02lld:%02lld",
			(long long)y, m, d, (long long)(sod / 3600),
			(long long)(sod / 60 % 60), (long long)(sod % 60)))
		return -1;
	if (!frac)
		return 0;
	ns = frac * pow10[9 - digits];
	if (ns % 1000 == 0)
		return pk_buf_addf(out, ".%06lld", (long long)(ns / 1000));
	return pk_buf_addf(out, ".%09lld", (long long)ns);
}

/* Appends s[0..n), escaped for one line of a column file. */
static int add_escaped(const uint8_t *s, size_t n, pk_buf *out)
{
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		const char *esc = s[i] == '\\'	 ? "\\\\"
				  : s[i] == '\n' ? "\\n"
				  : s[i] == '\r' ? "\\r"
				  : s[i] == '\t' ? "\\t"
						 : NULL;
		if (!esc)
			continue;
		if (pk_buf_add(out, s + from, i - from) ||
		    pk_buf_adds(out, esc))
			return -1;
		from = i + 1;
	}
	return pk_buf_add(out, s + from, n - from);
}

/* A value slot of an object column. */
static int obj_cell(const pk_doc *doc, const pk_val *v, int csv, pk_buf *out)
{
	pk_buf t = PK_BUF_INIT;
	int rc = 0, kind = pf_kind(v);

	if (!pf_is_node(v) && (kind == PK_STR || kind == PK_STRING)) {
		rc = pf_str_text(doc, v, &t, NULL);
		if (!rc)
			rc = csv ? pk_buf_add(out, t.data, t.len)
				 : add_escaped(t.data, t.len, out);
		pk_buf_release(&t);
		return rc ? (rc > 0 ? rc : ENOMEM) : 0;
	}
	if (kind == PK_NONE)
		return csv ? 0 : (pk_buf_adds(out, "None") ? ENOMEM : 0);
	if (kind == PK_FLOAT) {
		double d;
		if (pk_val_float(*v, &d) == PK_OK && isnan(d) && csv)
			return 0;
	}
	if (!pf_is_node(v) &&
	    (kind == PK_INT || kind == PK_FLOAT || kind == PK_BOOL)) {
		return pk_val_format(doc, *v, out, NULL) == PK_OK ? 0 : EIO;
	}
	if (pf_form_of(v) == PF_FORM_LIBSCALAR)
		rc = pf_sc_text(v, &t);
	else
		rc = pf_repr(doc, v, 1024, &t);
	if (!rc)
		rc = (csv ? pk_buf_add(out, t.data, t.len)
			  : add_escaped(t.data, t.len, out))
			 ? ENOMEM
			 : 0;
	pk_buf_release(&t);
	return rc;
}

int pf_frame_cell(const pk_doc *doc, const pf_frame *f, const pf_fseq *s,
		  uint64_t r, int csv, pk_buf *out)
{
	const pf_arrinfo *ai;
	int64_t i;
	size_t at = out->len;

	switch (s->kind) {
	case PF_FSEQ_RANGE:
		return pk_buf_add_i64(out, s->start + (int64_t)r * s->step)
			   ? ENOMEM
			   : 0;
	case PF_FSEQ_OBJ:
		return obj_cell(doc, &s->items[s->base + r * s->stride], csv,
				out);
	case PF_FSEQ_DT:
		if (seq_int(f, s, r, &i))
			return EIO;
		if (csv && i == INT64_MIN)
			return 0;
		return dt_text(i, s->digits, out) ? ENOMEM : 0;
	case PF_FSEQ_CAT:
		if (seq_int(f, s, r, &i))
			return EIO;
		if (i < 0)
			return csv ? 0 : (pk_buf_adds(out, "nan") ? ENOMEM : 0);
		if ((uint64_t)i >= f->seqs[s->cats].len)
			return EIO;
		return pf_frame_cell(doc, f, &f->seqs[s->cats], (uint64_t)i,
				     csv, out);
	case PF_FSEQ_NUM:
		ai = &f->arrs[s->arr].ai;
		if (pf_array_elem_text(
			ai, ai->data + (s->base + r * s->stride) * ai->size,
			out))
			return ENOMEM;
		/* NaN is an empty field in CSV, as to_csv writes it */
		if (csv && out->len - at == 3 &&
		    memcmp(out->data + at, "nan", 3) == 0)
			out->len = at;
		return 0;
	}
	return EIO;
}

/* One CSV field: the cell from at on, quoted when it must be. */
static int csv_field(pk_buf *out, size_t at)
{
	size_t n = out->len - at, i, q = 0, j;
	uint8_t *p;
	int need = 0;

	for (i = 0; i < n; i++) {
		uint8_t c = out->data[at + i];
		need |= c == ',' || c == '"' || c == '\n' || c == '\r';
		q += c == '"';
	}
	if (!need)
		return 0;
	if (pk_buf_grow(out, q + 2))
		return ENOMEM;
	p = out->data + at;
	/* from the end: the closing quote, each quote doubled, the opening
	 * quote (j stays above i: nothing is overwritten before it moved) */
	j = n + q + 2;
	p[--j] = '"';
	for (i = n; i-- > 0;) {
		p[--j] = p[i];
		if (p[i] == '"')
			p[--j] = '"';
	}
	p[--j] = '"';
	out->len += q + 2;
	return 0;
}

/* Row r of the index: its label, or a MultiIndex's labels separated by
 * sep (csv: each a field). */
static int index_cells(const pk_doc *doc, const pf_frame *f, uint64_t r,
		       int csv, pk_buf *out)
{
	uint32_t l;
	int rc;

	for (l = 0; l < f->nlevels; l++) {
		size_t at;
		if (l && pk_buf_addc(out, csv ? ',' : '\t'))
			return ENOMEM;
		at = out->len;
		if (!f->multi) {
			rc = pf_frame_cell(doc, f, &f->seqs[f->level[0]], r,
					   csv, out);
		} else {
			int64_t code;
			if (seq_int(f, &f->seqs[f->codes[l]], r, &code))
				return EIO;
			if (code < 0)
				rc = csv ? 0
					 : (pk_buf_adds(out, "nan") ? ENOMEM
								    : 0);
			else if ((uint64_t)code >= f->seqs[f->level[l]].len)
				rc = EIO;
			else
				rc =
				    pf_frame_cell(doc, f, &f->seqs[f->level[l]],
						  (uint64_t)code, csv, out);
		}
		if (!rc && csv)
			rc = csv_field(out, at);
		if (rc)
			return rc;
	}
	return 0;
}

/* A header field: a name slot (None or absent: empty). */
static int name_field(const pk_doc *doc, const pk_val *v, const char *none,
		      pk_buf *out)
{
	size_t at = out->len;
	int rc;

	if (!v || pf_kind(v) == PK_NONE)
		return pk_buf_adds(out, none) ? ENOMEM : 0;
	rc = obj_cell(doc, v, 1, out);
	return rc ? rc : csv_field(out, at);
}

/* __frame__.csv's header line. */
static int csv_header(const pk_doc *doc, const pf_frame *f, pk_buf *out)
{
	uint32_t l, c;
	int rc;

	for (l = 0; l < f->nlevels; l++) {
		if (l && pk_buf_addc(out, ','))
			return ENOMEM;
		if ((rc = name_field(doc, f->names[l], "", out)))
			return rc;
	}
	for (c = 0; c < f->ncols; c++) {
		if (pk_buf_addc(out, ','))
			return ENOMEM;
		if (f->series) {
			rc = name_field(doc, f->series_name, "0", out);
		} else {
			size_t at = out->len;
			rc = pf_frame_cell(doc, f, &f->seqs[f->labels], c, 1,
					   out);
			if (!rc)
				rc = csv_field(out, at);
		}
		if (rc)
			return rc;
	}
	return pk_buf_addc(out, '\n') ? ENOMEM : 0;
}

/* Rows [from, to) of view part of f (no header), one line each. */
static int rows_text(const pk_doc *doc, const pf_frame *f, uint32_t part,
		     uint64_t from, uint64_t to, pk_buf *out)
{
	int64_t col = pf_part_column(part);
	uint64_t r;
	uint32_t c;
	int rc = 0;

	for (r = from; r < to && !rc; r++) {
		if (col >= 0) {
			rc = pf_frame_cell(doc, f, &f->seqs[f->cols[col]], r, 0,
					   out);
		} else {
			int csv = part == PF_PART_CSV;
			rc = index_cells(doc, f, r, csv, out);
			for (c = 0; csv && c < f->ncols && !rc; c++) {
				size_t at;
				if (pk_buf_addc(out, ','))
					return ENOMEM;
				at = out->len;
				if (!(rc = pf_frame_cell(doc, f,
							 &f->seqs[f->cols[c]],
							 r, 1, out)))
					rc = csv_field(out, at);
			}
		}
		if (!rc && pk_buf_addc(out, '\n'))
			rc = ENOMEM;
	}
	return rc;
}

int pf_frame_view(const pk_doc *doc, const pf_frame *f, uint32_t part,
		  pk_buf *out)
{
	int64_t c = pf_part_column(part);
	int rc;

	if (part != PF_PART_INDEX && part != PF_PART_CSV &&
	    !(c >= 0 && c < (int64_t)f->ncols))
		return ENOENT;
	if (part == PF_PART_CSV && (rc = csv_header(doc, f, out)))
		return rc;
	return rows_text(doc, f, part, 0, f->nrows, out);
}

/* ---- in chunks (chunked.h) -------------------------------------------- */

/* A view in chunks of `per` rows: the frame (owned: its arrays' bytes
 * are in the mapped pickle or copied into it) and the CSV's header,
 * made when the chunker is. Only for views whose values are all in
 * arrays (numbers, datetimes, categories of those, ranges): the chunker
 * then never reads the doc, which may change after it is made. */
struct frame_chunker {
	pf_frame f;
	uint32_t part;
	uint64_t per;
	pk_buf head;
};

static int frame_chunk(void *self, uint64_t k, pk_buf *out)
{
	struct frame_chunker *c = self;
	uint64_t from = k * c->per, to = from + c->per;

	if (to > c->f.nrows)
		to = c->f.nrows;
	if (k == 0 && pk_buf_add(out, c->head.data, c->head.len))
		return ENOMEM;
	return rows_text(NULL, &c->f, c->part, from, to, out);
}

static void frame_chunker_free(void *self)
{
	struct frame_chunker *c = self;

	pf_frame_release(&c->f);
	pk_buf_release(&c->head);
	free(c);
}

/* Whether seq s (and a categorical's labels) reads only arrays. */
static int in_arrays(const pf_frame *f, const pf_fseq *s)
{
	if (s->kind == PF_FSEQ_CAT)
		s = &f->seqs[s->cats];
	return s->kind != PF_FSEQ_OBJ;
}

int pf_frame_chunker(const pk_doc *doc, const pk_val *v, uint32_t part,
		     pf_chunker *out)
{
	struct frame_chunker *c = calloc(1, sizeof(*c));
	int64_t col = pf_part_column(part);
	uint64_t cells = 1;
	uint32_t i;
	int rc, ok = 1;

	memset(out, 0, sizeof(*out));
	if (!c)
		return ENOMEM;
	if ((rc = pf_frame_parse(doc, v, &c->f, NULL))) {
		free(c);
		return rc;
	}
	c->part = part;
	if (col >= 0) {
		ok = col < (int64_t)c->f.ncols &&
		     in_arrays(&c->f, &c->f.seqs[c->f.cols[col]]);
	} else {
		for (i = 0; i < c->f.nlevels; i++)
			ok &= in_arrays(&c->f, &c->f.seqs[c->f.level[i]]);
		cells = c->f.nlevels;
		for (i = 0; part == PF_PART_CSV && i < c->f.ncols; i++)
			ok &= in_arrays(&c->f, &c->f.seqs[c->f.cols[i]]);
		if (part == PF_PART_CSV)
			cells += c->f.ncols;
	}
	if (!ok) {
		rc = ENOTSUP; /* its text is made whole */
	} else if (part == PF_PART_CSV) {
		rc = csv_header(doc, &c->f, &c->head);
	} else if (col < 0 && part != PF_PART_INDEX) {
		rc = ENOENT;
	}
	if (rc) {
		frame_chunker_free(c);
		return rc;
	}
	c->per = cells < PF_CHUNK_ITEMS ? PF_CHUNK_ITEMS / cells : 1;
	out->self = c;
	out->nchunks = (c->f.nrows + c->per - 1) / c->per;
	if (part == PF_PART_CSV && out->nchunks == 0)
		out->nchunks = 1; /* the header alone */
	out->chunk = frame_chunk;
	out->release = frame_chunker_free;
	return 0;
}

/* ---- edits ------------------------------------------------------------ */

static int all_str(const pf_fseq *s)
{
	uint64_t r;

	for (r = 0; r < s->len; r++) {
		const pk_val *v = &s->items[s->base + r * s->stride];
		if (pf_is_node(v) || pf_kind(v) != PK_STR)
			return 0;
	}
	return 1;
}

static int column_writable(const pf_frame *f, const pf_fseq *s)
{
	if (s->kind == PF_FSEQ_NUM)
		return f->arrs[s->arr].ai.kind != 0;
	return s->kind == PF_FSEQ_OBJ && all_str(s);
}

int pf_frame_writable(const pf_frame *f, uint32_t c)
{
	return c < f->ncols && column_writable(f, &f->seqs[f->cols[c]]);
}

/* Line r of text: [*t0, *t1) without its '\n'. The text holds exactly
 * n lines (a last '\n' optional, nothing after it). */
static int count_lines(const uint8_t *text, size_t len, uint64_t *n)
{
	size_t i;

	*n = 0;
	for (i = 0; i < len; i++)
		*n += text[i] == '\n';
	if (len && text[len - 1] != '\n')
		*n += 1;
	return 0;
}

static int unescape(const uint8_t *s, size_t n, pk_buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == '\\' && i + 1 < n) {
			uint8_t e = s[i + 1];
			c = e == 'n'	? '\n'
			    : e == 'r'	? '\r'
			    : e == 't'	? '\t'
			    : e == '\\' ? '\\'
					: 0;
			if (c)
				i++;
			else
				c = '\\';
		}
		if (pk_buf_addc(out, c))
			return -1;
	}
	return 0;
}

static int set_numbers(pk_doc *doc, const pf_frame *f, const pf_fseq *s,
		       const uint8_t *text, size_t len, pk_err *e)
{
	const pf_arrinfo *ai = &f->arrs[s->arr].ai;
	pk_buf nb = PK_BUF_INIT;
	size_t i = 0;
	uint64_t r;
	pf_ref dr = {s->owner, PF_PART_DATA};
	int rc;

	if (pk_buf_add(&nb, ai->len ? ai->data : (const uint8_t *)"", ai->len))
		return pf_errno_of(
		    pk_err_set(e, PK_E_NOMEM, "out of memory", 0));
	for (r = 0; r < f->nrows; r++) {
		size_t t0 = i, a, b;
		while (i < len && text[i] != '\n')
			i++;
		a = t0;
		b = i;
		while (a < b &&
		       (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
			a++;
		while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' ||
				 text[b - 1] == '\r'))
			b--;
		if (pf_array_elem_parse(ai, (const char *)text + a, b - a,
					nb.data + (s->base + r * s->stride) *
						      ai->size)) {
			pk_buf_release(&nb);
			return pf_errno_of(pk_err_set(
			    e, PK_E_VALUE,
			    "a line of the column is not a value of its dtype",
			    a));
		}
		i++;
	}
	rc = 0;
	if (nb.len != ai->len || memcmp(nb.data, ai->data, ai->len) != 0)
		rc = pf_edit_set(doc, dr, nb.data, nb.len, e);
	pk_buf_release(&nb);
	return rc;
}

static int set_strs(pk_doc *doc, const pf_fseq *s, uint64_t nrows,
		    const uint8_t *text, size_t len, pk_err *e)
{
	pk_buf nt = PK_BUF_INIT, old = PK_BUF_INIT;
	size_t i = 0;
	uint64_t r;
	int rc = 0;

	for (r = 0; r < nrows && !rc; r++) {
		const pk_val *slot = &s->items[s->base + r * s->stride];
		pf_ref ref = {slot, PF_PART_SELF};
		size_t t0 = i;
		while (i < len && text[i] != '\n')
			i++;
		pk_buf_reset(&nt);
		pk_buf_reset(&old);
		/* the '\n' pf_edit_set drops from a str's text */
		if (unescape(text + t0, i - t0, &nt) || pk_buf_addc(&nt, '\n'))
			rc = pf_errno_of(
			    pk_err_set(e, PK_E_NOMEM, "out of memory", 0));
		else if ((rc = pf_str_text(doc, slot, &old, e)))
			;
		else if (old.len + 1 != nt.len ||
			 memcmp(old.data ? old.data : (const uint8_t *)"",
				nt.data, old.len) != 0)
			rc = pf_edit_set(doc, ref, nt.data, nt.len, e);
		i++;
	}
	pk_buf_release(&nt);
	pk_buf_release(&old);
	return rc;
}

int pf_frame_set_column(pk_doc *doc, const pk_val *v, uint32_t c,
			const uint8_t *text, size_t len, pk_err *e)
{
	pf_frame f;
	const pf_fseq *s;
	uint64_t lines;
	int rc;

	if (!text)
		text = (const uint8_t *)"";
	if (pf_frame_parse(doc, v, &f, NULL))
		return pf_errno_of(pk_err_set(
		    e, PK_E_REFUSED, "this frame cannot be changed", 0));
	if (c >= f.ncols) {
		pf_frame_release(&f);
		return pf_errno_of(
		    pk_err_set(e, PK_E_REFUSED, "no such column", 0));
	}
	s = &f.seqs[f.cols[c]];
	count_lines(text, len, &lines);
	if (!column_writable(&f, s))
		rc = pf_errno_of(pk_err_set(
		    e, PK_E_REFUSED,
		    "only columns of numbers, bool or str take edits", 0));
	else if (lines != f.nrows)
		rc = pf_errno_of(pk_err_set(
		    e, PK_E_VALUE, "a column file must keep one line per row",
		    len));
	else if (s->kind == PF_FSEQ_NUM)
		rc = set_numbers(doc, &f, s, text, len, e);
	else
		rc = set_strs(doc, s, f.nrows, text, len, e);
	pf_frame_release(&f);
	return rc;
}
