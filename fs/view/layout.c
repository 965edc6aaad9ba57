#include "layout.h"

#include "frame.h"
#include "tensor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opcodes.h"
#include "form.h"
#include "views.h"

int pf_ref_is_dir(pf_ref r)
{
	switch (r.part) {
	case PF_PART_SELF:
		/* scalars are files: decided without reading their bytes, so
		 * walking a big tree does not page its whole pickle back in */
		if (!pf_is_node(r.val))
			return 0;
		return pf_form_is_dir(pf_form_of(r.val));
	case PF_PART_WRAP:
	case PF_PART_INST_ARGS:
	case PF_PART_LISTITEMS:
	case PF_PART_DICTITEMS:
	case PF_PART_RAW:
		return 1;
	}
	return 0;
}

void pf_layout_release(pf_layout *l)
{
	if (l->segs && l->segs != l->inl)
		free(l->segs);
	free(l->nums);
	l->nums = NULL;
	l->segs = NULL;
	l->nsegs = l->cap = 0;
}

static pf_seg *new_seg(pf_layout *l)
{
	pf_seg *s;

	if (l->nsegs == l->cap) {
		uint32_t ncap = l->cap * 2;
		pf_seg *ns;
		if (l->segs == l->inl) {
			ns = malloc(ncap * sizeof(*ns));
			if (ns)
				memcpy(ns, l->inl, l->nsegs * sizeof(*ns));
		} else {
			ns = realloc(l->segs, ncap * sizeof(*ns));
		}
		if (!ns)
			return NULL;
		l->segs = ns;
		l->cap = ncap;
	}
	s = &l->segs[l->nsegs++];
	memset(s, 0, sizeof(*s));
	s->start = l->n;
	return s;
}

static int add_one(pf_layout *l, const char *name, const pk_val *v,
		   uint32_t part)
{
	pf_seg *s = new_seg(l);

	if (!s)
		return ENOMEM;
	s->kind = PF_SEG_ONE;
	s->name = name;
	s->target.val = v;
	s->target.part = part;
	s->count = 1;
	l->n += 1;
	l->indexed = 0;
	return 0;
}

/* Adds a run of kids, merged into the previous segment when it continues
 * it (batched SETITEMS / APPENDS steps follow each other in kids[]). */
static int add_run(pf_layout *l, int kind, const pk_val *kids, uint32_t count)
{
	pf_seg *s = l->nsegs ? &l->segs[l->nsegs - 1] : NULL;
	uint32_t per = kind == PF_SEG_PAIRS ? 2 : 1;

	if (count == 0)
		return 0;
	if (kind != PF_SEG_ITEMS)
		l->indexed = 0;
	if (s && s->kind == kind && s->kids + (size_t)s->count * per == kids) {
		s->count += count;
		l->n += count;
		return 0;
	}
	{
		uint32_t base = 0;
		if (s && s->kind == PF_SEG_ITEMS && kind == PF_SEG_ITEMS)
			base = s->base + s->count;
		s = new_seg(l);
		if (!s)
			return ENOMEM;
		s->kind = (uint8_t)kind;
		s->kids = kids;
		s->count = count;
		s->base = base;
	}
	l->n += count;
	return 0;
}

/* Attributes of a BUILD state: a dict's keys, both dicts of a
 * (dict, slots) pair, or the whole state under __state__. */
static int add_state(pf_layout *l, const pk_val *state)
{
	if (pf_kind(state) == PK_NONE)
		return 0;
	if (pf_is_node(state) && pf_kind(state) == PK_DICT)
		return add_run(l, PF_SEG_PAIRS, pf_node(state)->kids,
			       pf_node(state)->nkids / 2);
	if (pf_is_node(state) && pf_kind(state) == PK_TUPLE &&
	    pf_node(state)->nkids == 2) {
		const pk_val *a = &pf_node(state)->kids[0];
		const pk_val *b = &pf_node(state)->kids[1];
		int a_ok = pf_kind(a) == PK_NONE ||
			   (pf_is_node(a) && pf_kind(a) == PK_DICT);
		int b_ok = pf_kind(b) == PK_NONE ||
			   (pf_is_node(b) && pf_kind(b) == PK_DICT);
		if (a_ok && b_ok) {
			int rc = add_state(l, a);
			return rc ? rc : add_state(l, b);
		}
	}
	return add_one(l, "__state__", state, PF_PART_SELF);
}

static int object_layout(const pk_val *v, pf_layout *l)
{
	pf_obj o;
	const pk_step *st;
	uint32_t i, kid;
	int has_list = 0, has_dict = 0, rc;

	if (pf_obj_parse(v, &o))
		return EIO;
	rc = add_one(l, "__class__", o.cls, PF_PART_SELF);
	if (rc)
		return rc;
	if (!o.hide_args) {
		if (o.args)
			rc = add_one(l, "__args__", o.args, PF_PART_SELF);
		else if (o.inl_count)
			rc = add_one(l, "__args__", v, PF_PART_INST_ARGS);
		if (rc)
			return rc;
	}
	if (o.kwargs &&
	    !(pf_is_node(o.kwargs) && pf_kind(o.kwargs) == PK_DICT &&
	      pf_node(o.kwargs)->nkids == 0)) {
		rc = add_one(l, "__kwargs__", o.kwargs, PF_PART_SELF);
		if (rc)
			return rc;
	}
	st = pk_node_steps(o.node);
	kid = st[0].nkids;
	for (i = 1; i < o.node->nsteps; kid += st[i].nkids, i++) {
		switch (st[i].op) {
		case PK_OP_BUILD:
			if (st[i].nkids == 1 &&
			    (rc = add_state(l, &o.node->kids[kid])))
				return rc;
			break;
		case PK_OP_SETITEM:
		case PK_OP_SETITEMS:
			has_dict = 1;
			break;
		case PK_OP_APPEND:
		case PK_OP_APPENDS:
		case PK_OP_ADDITEMS:
			has_list = 1;
			break;
		default: /* POP and SHELL steps are not part of the value */
			break;
		}
	}
	if (has_list &&
	    (rc = add_one(l, "__listitems__", v, PF_PART_LISTITEMS)))
		return rc;
	if (has_dict && (rc = add_one(l, "__items__", v, PF_PART_DICTITEMS)))
		return rc;
	return 0;
}

/* Kids of the object's steps of one family (APPENDs or SETITEMs). */
static int steps_layout(const pk_val *v, int dict, pf_layout *l)
{
	const pk_node *n = pf_node(v);
	const pk_step *st = pk_node_steps(n);
	uint32_t i, kid;
	int rc;

	for (i = 1, kid = st[0].nkids; i < n->nsteps; kid += st[i].nkids, i++) {
		int is_dict =
		    st[i].op == PK_OP_SETITEM || st[i].op == PK_OP_SETITEMS;
		int is_list = st[i].op == PK_OP_APPEND ||
			      st[i].op == PK_OP_APPENDS ||
			      st[i].op == PK_OP_ADDITEMS;
		if (dict ? !is_dict : !is_list)
			continue;
		rc = add_run(l, dict ? PF_SEG_PAIRS : PF_SEG_ITEMS,
			     &n->kids[kid],
			     dict ? st[i].nkids / 2 : st[i].nkids);
		if (rc)
			return rc;
	}
	return 0;
}

static int dictcall_layout(const pk_val *v, pf_layout *l)
{
	pf_obj o;
	const pk_node *args;
	const pk_step *st;
	uint32_t i, kid;
	int rc = 0;

	pf_obj_parse(v, &o);
	args = pf_node(o.args);
	if (pf_global_is(o.callable, "collections", "defaultdict")) {
		if (args->nkids)
			rc = add_one(l, "__default_factory__", &args->kids[0],
				     PF_PART_SELF);
	} else if (args->nkids && pf_kind(&args->kids[0]) == PK_DICT) {
		const pk_node *d = pf_node(&args->kids[0]);
		rc = add_run(l, PF_SEG_PAIRS, d->kids, d->nkids / 2);
	} else if (args->nkids) {
		const pk_node *pairs = pf_node(&args->kids[0]);
		rc = add_run(l, PF_SEG_NESTED, pairs->kids, pairs->nkids);
	}
	if (rc)
		return rc;
	st = pk_node_steps(o.node);
	kid = st[0].nkids;
	for (i = 1; i < o.node->nsteps; kid += st[i].nkids, i++) {
		if (st[i].op == PK_OP_BUILD) {
			const pk_val *state = &o.node->kids[kid];
			if (st[i].nkids == 1 && pf_kind(state) != PK_NONE &&
			    (rc = add_one(l, "__state__", state, PF_PART_SELF)))
				return rc;
		} else if (st[i].op == PK_OP_SETITEM ||
			   st[i].op == PK_OP_SETITEMS) {
			rc = add_run(l, PF_SEG_PAIRS, &o.node->kids[kid],
				     st[i].nkids / 2);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* The views of an array or tensor (views.h), decided from its dtype and
 * shape. */
static int add_views(const pk_doc *doc, const pk_val *v, pf_layout *l)
{
	unsigned views = pf_array_views(doc, v);
	int rc = 0;

	if ((views & PF_VIEW_VALUES) &&
	    (rc = add_one(l, "values.txt", v, PF_PART_VALUES)))
		return rc;
	if ((views & PF_VIEW_STRVALUES) &&
	    (rc = add_one(l, "values.txt", v, PF_PART_STRVALUES)))
		return rc;
	if ((views & PF_VIEW_NPY) &&
	    (rc = add_one(l, "array.npy", v, PF_PART_NPY)))
		return rc;
	if ((views & PF_VIEW_IMAGE) &&
	    (rc = add_one(l, "image.png", v, PF_PART_IMAGE)))
		return rc;
	return 0;
}

static int ndarray_layout(const pk_doc *doc, const pk_val *v, pf_layout *l)
{
	pf_ndarray a;
	pf_content c;
	pf_ref order = {v, PF_PART_ORDER};
	int rc, fortran;

	if (pf_ndarray_parse(v, &a))
		return EIO;
	if ((rc = add_one(l, "dtype", v, PF_PART_DTYPE)) ||
	    (rc = add_one(l, "shape", v, PF_PART_SHAPE)))
		return rc;
	/* "order" only where it matters: data in Fortran order */
	rc = pf_content_get(doc, order, 0, &c, NULL);
	fortran = rc == 0 && c.len == 1 && c.data[0] == 'F';
	pf_content_release(&c);
	if (fortran && (rc = add_one(l, "order", v, PF_PART_ORDER)))
		return rc;
	if (pf_is_node(a.data) && pf_kind(a.data) == PK_LIST) {
		if ((rc = add_one(l, "data", a.data, PF_PART_SELF)))
			return rc;
		return add_views(doc, v, l); /* values.txt of scalars */
	}
	if ((rc = add_one(l, "data", v, PF_PART_DATA)))
		return rc;
	return add_views(doc, v, l);
}

/* A PyTorch tensor: what it is (dtype, shape, stride), its values (data
 * and the array views), and the persistent id of its storage. */
static int tensor_layout(const pk_doc *doc, const pk_val *v, pf_layout *l)
{
	pf_tensor t;
	int rc;

	if (pf_tensor_parse(v, &t))
		return EIO;
	if ((rc = add_one(l, "dtype", v, PF_PART_DTYPE)) ||
	    (rc = add_one(l, "shape", v, PF_PART_SHAPE)) ||
	    (rc = add_one(l, "stride", v, PF_PART_STRIDE)) ||
	    (rc = add_one(l, "data", v, PF_PART_DATA)))
		return rc;
	if ((rc = add_views(doc, v, l)))
		return rc;
	return add_one(l, "__storage__", t.persid, PF_PART_SELF);
}

/* The names of a frame's columns: the label slots of an object index (or
 * a Series' name), else the labels as numbers (a RangeIndex, ints). */
static int columns_seg(const pk_val *v, const pf_frame *f, pf_layout *l)
{
	pf_seg *s;
	const pf_fseq *ls = f->series ? NULL : &f->seqs[f->labels];
	uint32_t c;

	if (f->ncols == 0)
		return 0;
	if (!(s = new_seg(l)))
		return ENOMEM;
	s->kind = PF_SEG_COLUMNS;
	s->target.val = v;
	s->count = f->ncols;
	l->n += f->ncols;
	l->indexed = 0;
	if (f->series && f->series_name && pf_kind(f->series_name) != PK_NONE) {
		s->kids = f->series_name;
		return 0;
	}
	if (ls && ls->kind == PF_FSEQ_OBJ && ls->stride == 1) {
		s->kids = ls->items + ls->base;
		return 0;
	}
	if (!(l->nums = calloc(f->ncols, sizeof(*l->nums))))
		return ENOMEM;
	s->nums = l->nums;
	for (c = 0; ls && c < f->ncols; c++) {
		int64_t n = -1;
		if (ls->kind == PF_FSEQ_RANGE)
			n = ls->start + (int64_t)c * ls->step;
		else if (ls->kind == PF_FSEQ_NUM &&
			 f->arrs[ls->arr].ai.kind == 'i' &&
			 pf_frame_int(f, ls, c, &n))
			n = -1;
		if (n < 0) {
			l->note = "column labels it cannot name";
			return EIO;
		}
		l->nums[c] = (uint64_t)n;
	}
	return 0;
}

/* A DataFrame or Series: its columns and views, and __raw__; the
 * object's own entries when frame.h cannot read it. */
static int frame_layout(const pk_doc *doc, const pk_val *v, pf_layout *l)
{
	pf_frame f;
	const char *why = NULL;
	int rc = pf_frame_parse(doc, v, &f, &why);

	if (rc == 0) {
		rc = columns_seg(v, &f, l);
		pf_frame_release(&f);
		if (rc == 0 &&
		    !(rc = add_one(l, "__index__", v, PF_PART_INDEX)) &&
		    !(rc = add_one(l, "__frame__.csv", v, PF_PART_CSV)))
			rc = add_one(l, "__raw__", v, PF_PART_RAW);
		if (rc != EIO)
			return rc;
		why = l->note;
	}
	if (rc == ENOMEM)
		return rc;
	/* shown as it is, and the mount's log says why */
	pf_layout_release(l);
	memset(l, 0, sizeof(*l));
	l->segs = l->inl;
	l->cap = PF_LAYOUT_INLINE;
	l->note = why ? why : "a layout it does not know";
	return object_layout(v, l);
}

int pf_layout_build(const pk_doc *doc, pf_ref dir, pf_layout *l)
{
	const pk_val *v = dir.val;
	const pk_val *kids;
	uint32_t n;
	pf_obj o;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	l->segs = l->inl;
	l->cap = PF_LAYOUT_INLINE;
	l->indexed = 1;
	switch (dir.part) {
	case PF_PART_WRAP:
		rc = add_one(l, "__value__", v, PF_PART_SELF);
		goto out;
	case PF_PART_INST_ARGS:
		pf_obj_parse(v, &o);
		rc = add_run(l, PF_SEG_ITEMS, o.node->kids + o.inl_first,
			     o.inl_count);
		goto out;
	case PF_PART_LISTITEMS:
		rc = steps_layout(v, 0, l);
		goto out;
	case PF_PART_DICTITEMS:
		rc = steps_layout(v, 1, l);
		goto out;
	case PF_PART_RAW:
		rc = object_layout(v, l);
		goto out;
	case PF_PART_SELF:
		break;
	default:
		return ENOTDIR;
	}
	switch (pf_form_of(v)) {
	case PF_FORM_DICT:
		l->indexed = 0;
		rc = add_run(l, PF_SEG_PAIRS, pf_node(v)->kids,
			     pf_node(v)->nkids / 2);
		break;
	case PF_FORM_SEQ:
		pf_seq_kids(v, &kids, &n);
		rc = add_run(l, PF_SEG_ITEMS, kids, n);
		break;
	case PF_FORM_SETCALL:
		pf_obj_parse(v, &o);
		if (pf_node(o.args)->nkids &&
		    pf_seq_kids(&pf_node(o.args)->kids[0], &kids, &n) == 0)
			rc = add_run(l, PF_SEG_ITEMS, kids, n);
		break;
	case PF_FORM_DICTCALL:
		l->indexed = 0;
		rc = dictcall_layout(v, l);
		break;
	case PF_FORM_NDARRAY:
		rc = ndarray_layout(doc, v, l);
		break;
	case PF_FORM_TENSOR:
		rc = tensor_layout(doc, v, l);
		break;
	case PF_FORM_OBJECT:
		rc = object_layout(v, l);
		break;
	case PF_FORM_FRAME:
		rc = frame_layout(doc, v, l);
		break;
	case PF_FORM_PERSID:
		if (pf_node(v)->nkids == 1)
			rc = add_one(l, "__persid__", &pf_node(v)->kids[0],
				     PF_PART_SELF);
		break;
	default:
		return ENOTDIR;
	}
out:
	if (rc)
		pf_layout_release(l);
	return rc;
}

void pf_layout_entry(const pf_layout *l, uint64_t i, pf_entry *e)
{
	uint32_t lo = 0, hi = l->nsegs;
	const pf_seg *s;
	uint64_t k;

	/* last segment whose start <= i */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (l->segs[mid].start <= i)
			lo = mid;
		else
			hi = mid;
	}
	s = &l->segs[lo];
	k = i - s->start;
	memset(e, 0, sizeof(*e));
	switch (s->kind) {
	case PF_SEG_ONE:
		e->target = s->target;
		e->reserved = s->name;
		break;
	case PF_SEG_ITEMS:
		e->target.val = &s->kids[k];
		e->index = s->base + k;
		break;
	case PF_SEG_PAIRS:
		e->key = &s->kids[2 * k];
		e->target.val = &s->kids[2 * k + 1];
		break;
	case PF_SEG_NESTED: {
		const pk_node *pair = pf_node(&s->kids[k]);
		e->key = &pair->kids[0];
		e->target.val = &pair->kids[1];
		break;
	}
	case PF_SEG_COLUMNS:
		e->target.val = s->target.val;
		e->target.part = PF_PART_COLUMN0 + (uint32_t)k;
		if (s->kids)
			e->key = &s->kids[k];
		else
			e->index = s->nums[k];
		break;
	}
}

int64_t pf_layout_find_part(const pf_layout *l, uint32_t part)
{
	uint32_t i;

	for (i = 0; i < l->nsegs; i++)
		if (l->segs[i].kind == PF_SEG_ONE &&
		    l->segs[i].target.part == part)
			return (int64_t)l->segs[i].start;
	return -1;
}
