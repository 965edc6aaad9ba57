#include "docview.h"

#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "names.h"
#include "ptrmap.h"
#include "repr.h"
#include "form.h"
#include "text.h"
#include "views.h"

/* Where a container is shown as a directory: its first occurrence. */
struct canon_rec {
	pf_ref parent; /* directory holding it; val NULL for the root */
	uint32_t index;
	uint32_t nsub; /* entries that are directories (not links) */
	const pk_val *slot;
};

/* A directory's cached layout and names. */
struct dircache {
	pf_layout lay;
	pf_names names;
	int named;
	const void *ident; /* its key in dirs: pf_ref_ident(dir), dir.part */
	uint32_t part;
};

/*
 * The directory caches are bounded: a walk down a pickle nested a million
 * deep (chdir + ls at each level) must not leave a million listings
 * behind (a small dict's layout and names cost about 5 KB). Once
 * DIRCACHE_KEEP directories are cached, the small ones (under
 * DIRCACHE_BIG entries, cheap to build again on the next visit) are
 * dropped; big ones stay, since their names cost time to build and
 * their number is bounded by the doc's size.
 */
#define DIRCACHE_KEEP 4096
#define DIRCACHE_BIG 1024

struct pf_docview {
	const pk_doc *doc;
	pf_ref root;
	/* Some node may be reached twice (the doc has shared nodes): the
	 * first-occurrence walk ran and recs says where each container is a
	 * directory. Otherwise every container is a directory where it is
	 * found, there is no walk (a 2M-dict pickle mounts without touching
	 * its tree again), and a node's view record caches its count of
	 * subdirectories instead. */
	int linked;
	uint32_t gen; /* marks the nodes' view records as this view's */
	struct canon_rec *recs;
	size_t nrecs, caprecs;
	pf_ptrmap dirs; /* (ident, part) -> struct dircache * */
	struct dircache **dlist;
	size_t ndl, capdl;
	size_t shed_at; /* ndl at which the small caches are dropped */
	size_t bytes;
	/* rendered views (values.txt, image.png), the last few asked for */
	struct viewcache {
		const void *ident;
		uint32_t part;
		pf_blob *blob;
	} views[PF_DOCVIEW_VIEWS];
	unsigned views_next;
	/* values.txt served in chunks (chunked.h), the last few asked for */
	struct streamcache {
		const void *ident;
		uint32_t part;
		pf_vstream *s;
	} streams[PF_DOCVIEW_VIEWS];
	unsigned streams_next;
	pf_ptrmap view_sizes; /* (ident, part) -> size of a rendered view */
	void (*note)(void *ctx, const char *why);
	void *note_ctx;
	/* the frame whose views were last asked for, parsed (frame.h):
	 * its columns are read one after the other */
	const void *frame_ident;
	pf_frame frame;
};

/* Frame v parsed, kept until another frame is asked for. NULL when v is
 * not a frame frame.h reads. */
static const pf_frame *frame_of(pf_docview *dv, const pk_val *v)
{
	const void *ident = pf_ref_ident((pf_ref){v, PF_PART_SELF});

	if (dv->frame_ident == ident)
		return &dv->frame;
	if (dv->frame_ident)
		pf_frame_release(&dv->frame);
	dv->frame_ident = NULL;
	if (pf_frame_parse(dv->doc, v, &dv->frame, NULL))
		return NULL;
	dv->frame_ident = ident;
	return &dv->frame;
}

int pf_docview_readonly(pf_docview *dv, pf_ref ref)
{
	int64_t c = pf_part_column(ref.part);
	const pf_frame *f;

	if (c < 0)
		return pf_part_readonly(ref.part);
	f = frame_of(dv, ref.val);
	return !f || !pf_frame_writable(f, (uint32_t)c);
}

/* A rendered view's text: a frame's from the frame kept parsed. */
static int render(pf_docview *dv, pf_ref ref, pk_buf *out)
{
	const pf_frame *f;

	if (ref.part == PF_PART_INDEX || ref.part == PF_PART_CSV ||
	    pf_part_column(ref.part) >= 0) {
		if (!(f = frame_of(dv, ref.val)))
			return EIO;
		return pf_frame_view(dv->doc, f, ref.part, out);
	}
	return pf_view_render(dv->doc, ref, out);
}

void pf_docview_on_note(pf_docview *dv, void (*fn)(void *ctx, const char *why),
			void *ctx)
{
	dv->note = fn;
	dv->note_ctx = ctx;
}

/* ---- the first-occurrence walk ---------------------------------------- */

struct frame {
	pf_ref dir;
	pf_layout *lay; /* NULL: a plain dict / sequence node, read directly */
	uint64_t n, next;
	int64_t rec; /* canon record of dir, or -1 (parts) */
	uint32_t nsub;
};

static int plain(pf_ref r)
{
	int form;

	if (r.part != PF_PART_SELF)
		return 0;
	form = pf_form_of(r.val);
	return form == PF_FORM_DICT || form == PF_FORM_SEQ;
}

static const pk_val *frame_target(const struct frame *f, uint64_t i, pf_ref *t)
{
	if (!f->lay) {
		const pk_node *n = pf_node(f->dir.val);
		t->part = PF_PART_SELF;
		t->val = pf_kind(f->dir.val) == PK_DICT ? &n->kids[2 * i + 1]
							: &n->kids[i];
		return t->val;
	} else {
		pf_entry e;
		pf_layout_entry(f->lay, i, &e);
		*t = e.target;
		return t->val;
	}
}

static int frame_open(const pk_doc *doc, struct frame *f, pf_ref dir,
		      int64_t rec)
{
	memset(f, 0, sizeof(*f));
	f->dir = dir;
	f->rec = rec;
	if (plain(dir)) {
		const pk_node *n = pf_node(dir.val);
		f->n = pf_kind(dir.val) == PK_DICT ? n->nkids / 2 : n->nkids;
		return 0;
	}
	f->lay = malloc(sizeof(*f->lay));
	if (!f->lay)
		return ENOMEM;
	if (pf_layout_build(doc, dir, f->lay)) {
		/* an object that does not take apart: show it empty */
		memset(f->lay, 0, sizeof(*f->lay));
	}
	f->n = f->lay->n;
	return 0;
}

static void frame_close(struct frame *f)
{
	if (f->lay) {
		pf_layout_release(f->lay);
		free(f->lay);
	}
	f->lay = NULL;
}

/* The view record of a container node: kept in the node itself (see
 * pk_node.view), valid for this view's generation only. */
static uint32_t view_generation(void)
{
	static uint32_t next;
	uint32_t g;

	/* never 0: that is what a new node carries */
	do
		g = __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
	while (g == 0);
	return g;
}

static int canon_get(const pf_docview *dv, const pk_node *n, uint64_t *r)
{
	if (n->view_gen != dv->gen)
		return 0;
	*r = n->view;
	return 1;
}

static int add_rec(pf_docview *dv, pf_ref parent, uint64_t index,
		   const pk_val *slot, int64_t *out)
{
	struct canon_rec *r;

	if (pk_vec_grow((void **)&dv->recs, &dv->caprecs, dv->nrecs + 1,
			sizeof(*dv->recs)))
		return ENOMEM;
	r = &dv->recs[dv->nrecs];
	r->parent = parent;
	r->index = (uint32_t)index;
	r->nsub = 0;
	r->slot = slot;
	if (dv->nrecs >= UINT32_MAX)
		return ENOMEM;
	pf_node(slot)->view = (uint32_t)dv->nrecs;
	pf_node(slot)->view_gen = dv->gen;
	*out = (int64_t)dv->nrecs++;
	return 0;
}

static int walk(pf_docview *dv,
		int (*progress)(void *ctx, uint64_t done, uint64_t total),
		void *ctx)
{
	struct frame *st = NULL;
	size_t n = 0, cap = 0;
	int64_t rec = -1;
	pf_ref none = {NULL, 0};
	int rc;

	if (dv->root.part == PF_PART_SELF &&
	    (rc = add_rec(dv, none, 0, dv->root.val, &rec)))
		return rc;
	if (pk_vec_grow((void **)&st, &cap, 1, sizeof(*st)))
		return ENOMEM;
	if ((rc = frame_open(dv->doc, &st[0], dv->root, rec)))
		goto cleanup;
	n = 1;
	while (n) {
		struct frame *f = &st[n - 1];
		pf_ref t;
		uint64_t i;
		uint64_t dummy;

		if (f->next >= f->n) {
			if (f->rec >= 0)
				dv->recs[f->rec].nsub = f->nsub;
			frame_close(f);
			n--;
			continue;
		}
		i = f->next++;
		frame_target(f, i, &t);
		if (!pf_ref_is_dir(t))
			continue;
		rec = -1;
		if (t.part == PF_PART_SELF) {
			if (canon_get(dv, pf_node(t.val), &dummy))
				continue; /* seen: this occurrence is a link */
			if ((rc = add_rec(dv, f->dir, i, t.val, &rec)))
				goto cleanup;
		}
		f->nsub++;
		if (progress && (dv->nrecs & 0xffff) == 0)
			progress(ctx, dv->nrecs, 0);
		if (pk_vec_grow((void **)&st, &cap, n + 1, sizeof(*st))) {
			rc = ENOMEM;
			goto cleanup;
		}
		if ((rc = frame_open(dv->doc, &st[n], t, rec)))
			goto cleanup;
		n++;
	}
cleanup:
	while (n)
		frame_close(&st[--n]);
	free(st);
	return rc;
}

int pf_docview_new(const pk_doc *doc, pf_docview **out)
{
	return pf_docview_new_ex(doc, NULL, NULL, out);
}

int pf_docview_new_ex(const pk_doc *doc,
		      int (*progress)(void *ctx, uint64_t done, uint64_t total),
		      void *ctx, pf_docview **out)
{
	pf_docview *dv = calloc(1, sizeof(*dv));
	int rc;

	*out = NULL;
	if (!dv)
		return ENOMEM;
	dv->doc = doc;
	dv->root.val = &doc->root;
	dv->root.part = pf_ref_is_dir(dv->root) ? PF_PART_SELF : PF_PART_WRAP;
	dv->gen = view_generation();
	dv->linked = doc->shared_nodes != 0;
	pf_ptrmap_init(&dv->dirs);
	pf_ptrmap_init(&dv->view_sizes);
	dv->shed_at = DIRCACHE_KEEP;
	rc = dv->linked ? walk(dv, progress, ctx) : 0;
	if (rc) {
		pf_docview_free(dv);
		return rc;
	}
	*out = dv;
	return 0;
}

/* Bytes a directory cache holds, for pf_docview_bytes. */
static size_t dircache_bytes(const struct dircache *dc)
{
	return sizeof(*dc) +
	       (dc->lay.segs != dc->lay.inl ? dc->lay.cap * sizeof(pf_seg)
					    : 0) +
	       (dc->named ? dc->names.bytes : 0);
}

static void dircache_free(struct dircache *dc)
{
	pf_layout_release(&dc->lay);
	pf_names_release(&dc->names);
	free(dc);
}

void pf_docview_free(pf_docview *dv)
{
	size_t i;

	if (!dv)
		return;
	if (dv->frame_ident)
		pf_frame_release(&dv->frame);
	for (i = 0; i < dv->ndl; i++)
		dircache_free(dv->dlist[i]);
	for (i = 0; i < PF_DOCVIEW_VIEWS; i++)
		pf_blob_unref(dv->views[i].blob);
	for (i = 0; i < PF_DOCVIEW_VIEWS; i++)
		pf_vstream_unref(dv->streams[i].s);
	pf_ptrmap_release(&dv->view_sizes);
	free(dv->dlist);
	free(dv->recs);
	pf_ptrmap_release(&dv->dirs);
	free(dv);
}

size_t pf_docview_bytes(const pf_docview *dv)
{
	size_t i, views = 0;

	for (i = 0; i < PF_DOCVIEW_VIEWS; i++) {
		if (dv->views[i].blob)
			views += dv->views[i].blob->buf.cap;
		if (dv->streams[i].s)
			views += pf_vstream_bytes(dv->streams[i].s);
	}
	return sizeof(*dv) + pf_ptrmap_bytes(&dv->dirs) +
	       pf_ptrmap_bytes(&dv->view_sizes) +
	       dv->caprecs * sizeof(*dv->recs) + dv->bytes + views;
}

/* A size or a stream of a view served in chunks (ref.part is one, flags
 * ask for one). */
static int stream_content(pf_docview *dv, pf_ref ref, unsigned flags,
			  pf_content *c)
{
	const void *ident = pf_ref_ident(ref);
	struct streamcache *sc;
	pf_chunker ch;
	pf_vstream *s;
	uint64_t size;
	size_t i;
	int rc;

	for (i = 0; i < PF_DOCVIEW_VIEWS; i++) {
		sc = &dv->streams[i];
		if (sc->s && sc->ident == ident && sc->part == ref.part)
			goto found;
	}
	if ((flags & PF_CONTENT_SIZE_ONLY) &&
	    pf_ptrmap_get(&dv->view_sizes, ident, ref.part, &size)) {
		c->len = size;
		return 0;
	}
	if (ref.part == PF_PART_VALUES || ref.part == PF_PART_STRVALUES)
		rc = pf_array_values_chunker(dv->doc, ref.val, ref.part, &ch);
	else
		rc = pf_frame_chunker(dv->doc, ref.val, ref.part, &ch);
	if (rc || (rc = pf_vstream_new(&ch, &s)))
		return rc;
	if (pf_ptrmap_put(&dv->view_sizes, ident, ref.part,
			  pf_vstream_size(s))) {
		pf_vstream_unref(s);
		return ENOMEM;
	}
	sc = &dv->streams[dv->streams_next++ % PF_DOCVIEW_VIEWS];
	pf_vstream_unref(sc->s);
	sc->ident = ident;
	sc->part = ref.part;
	sc->s = s;
found:
	c->len = pf_vstream_size(sc->s);
	if (!(flags & PF_CONTENT_SIZE_ONLY)) {
		pf_vstream_ref(sc->s);
		c->stream = sc->s;
	}
	return 0;
}

int pf_docview_content(pf_docview *dv, pf_ref ref, unsigned flags,
		       pf_content *c, pk_err *e)
{
	const void *ident = pf_ref_ident(ref);
	struct viewcache *vc;
	uint64_t size;
	pf_blob *b;
	size_t i;
	int rc;

	if (!pf_view_rendered(ref.part))
		return pf_content_get(dv->doc, ref, flags, c, e);
	pf_content_init(c);
	for (i = 0; i < PF_DOCVIEW_VIEWS; i++) {
		vc = &dv->views[i];
		if (vc->blob && vc->ident == ident && vc->part == ref.part)
			goto found;
	}
	/* values.txt and a frame's views of arrays are never rendered whole
	 * for a size or a read: the whole text is only made for a caller
	 * that wants it (an edit), or for views of objects (ENOTSUP) */
	if (ref.part != PF_PART_IMAGE &&
	    (flags & (PF_CONTENT_SIZE_ONLY | PF_CONTENT_STREAM)) &&
	    (rc = stream_content(dv, ref, flags, c)) != ENOTSUP)
		return rc; /* ENOTSUP: a view whose text is made whole */
	/* a size once rendered is kept apart: `ls -l` of many arrays does
	 * not render them again after they left the few kept whole */
	if ((flags & PF_CONTENT_SIZE_ONLY) &&
	    pf_ptrmap_get(&dv->view_sizes, ident, ref.part, &size)) {
		c->len = size;
		return 0;
	}
	if (!(b = pf_blob_new()))
		return ENOMEM;
	if ((rc = render(dv, ref, &b->buf))) {
		pf_blob_unref(b);
		return rc;
	}
	if (pf_ptrmap_put(&dv->view_sizes, ident, ref.part, b->buf.len)) {
		pf_blob_unref(b);
		return ENOMEM;
	}
	vc = &dv->views[dv->views_next++ % PF_DOCVIEW_VIEWS];
	pf_blob_unref(vc->blob);
	vc->ident = ident;
	vc->part = ref.part;
	vc->blob = b;
found:
	pf_blob_ref(vc->blob);
	c->blob = vc->blob;
	c->data = vc->blob->buf.data ? vc->blob->buf.data : (const uint8_t *)"";
	c->len = vc->blob->buf.len;
	return 0;
}

pf_ref pf_docview_root(const pf_docview *dv)
{
	return dv->root;
}

/* ---- directory caches -------------------------------------------------- */

/* Drops the small directory caches (see DIRCACHE_KEEP). No cache
 * pointer a caller got earlier survives this: every query fetches its
 * cache again. 0, or ENOMEM (then nothing was dropped). */
static int shed_small(pf_docview *dv)
{
	pf_ptrmap keep;
	size_t i, n = 0;

	pf_ptrmap_init(&keep);
	for (i = 0; i < dv->ndl; i++) {
		struct dircache *dc = dv->dlist[i];
		if (dc->lay.n >= DIRCACHE_BIG &&
		    pf_ptrmap_put(&keep, dc->ident, dc->part,
				  (uint64_t)(uintptr_t)dc)) {
			pf_ptrmap_release(&keep);
			return ENOMEM;
		}
	}
	for (i = 0; i < dv->ndl; i++) {
		struct dircache *dc = dv->dlist[i];
		if (dc->lay.n >= DIRCACHE_BIG) {
			dv->dlist[n++] = dc;
		} else {
			dv->bytes -= dircache_bytes(dc);
			dircache_free(dc);
		}
	}
	dv->ndl = n;
	pf_ptrmap_release(&dv->dirs);
	dv->dirs = keep;
	/* the big ones that stay do not count against the next round */
	dv->shed_at = n + DIRCACHE_KEEP;
	return 0;
}

static int dircache(pf_docview *dv, pf_ref dir, struct dircache **out)
{
	uint64_t v;
	struct dircache *dc;
	int rc;

	if (pf_ptrmap_get(&dv->dirs, pf_ref_ident(dir), dir.part, &v)) {
		*out = (struct dircache *)(uintptr_t)v;
		return 0;
	}
	if (!pf_ref_is_dir(dir))
		return ENOTDIR;
	if (dv->ndl >= dv->shed_at && (rc = shed_small(dv)))
		return rc;
	dc = calloc(1, sizeof(*dc));
	if (!dc)
		return ENOMEM;
	rc = pf_layout_build(dv->doc, dir, &dc->lay);
	if (!rc && dc->lay.note && dv->note)
		dv->note(dv->note_ctx, dc->lay.note);
	if (rc) {
		free(dc);
		return rc;
	}
	pf_names_init(&dc->names);
	dc->ident = pf_ref_ident(dir);
	dc->part = dir.part;
	if (pk_vec_grow((void **)&dv->dlist, &dv->capdl, dv->ndl + 1,
			sizeof(*dv->dlist)) ||
	    pf_ptrmap_put(&dv->dirs, pf_ref_ident(dir), dir.part,
			  (uint64_t)(uintptr_t)dc)) {
		pf_layout_release(&dc->lay);
		free(dc);
		return ENOMEM;
	}
	dv->dlist[dv->ndl++] = dc;
	dv->bytes += dircache_bytes(dc);
	*out = dc;
	return 0;
}

/* The layout of dir: cached, except for plain sequences, whose layout is
 * one segment built in O(1) (so walking a list nested a million deep
 * does not leave a million cached listings behind). *out is tmp or a
 * cached entry; tmp must outlive its use. */
static int dir_get(pf_docview *dv, pf_ref dir, struct dircache *tmp,
		   struct dircache **out)
{
	int rc;

	if (dir.part == PF_PART_SELF && pf_form_of(dir.val) == PF_FORM_SEQ) {
		rc = pf_layout_build(dv->doc, dir, &tmp->lay);
		if (rc)
			return rc;
		tmp->named = 0;
		*out = tmp;
		return 0;
	}
	return dircache(dv, dir, out);
}

/* Natural (escaped) name of an entry, into the table's pool. */
static int natural_name(pf_docview *dv, struct dircache *dc, const pf_entry *e,
			pf_name_cand *c)
{
	pk_buf text = PK_BUF_INIT, esc = PK_BUF_INIT;
	const uint8_t *p;
	uint64_t n;
	int rc = 0;

	if (e->reserved) {
		c->nat = e->reserved;
		c->natlen = (uint32_t)strlen(e->reserved);
		c->prio = PF_PRIO_RESERVED;
		c->type = "attr";
		return 0;
	}
	if (!e->key) {
		char num[24];
		int len = pf_index_name(e->index, num);
		c->nat = pf_names_store(&dc->names, num, (size_t)len);
		c->natlen = (uint32_t)len;
		c->prio = PF_PRIO_OTHER;
		c->type = "index";
		return c->nat ? 0 : ENOMEM;
	}
	c->type = pf_key_type_name(e->key);
	if (!pf_is_node(e->key) &&
	    (pf_kind(e->key) == PK_STR || pf_kind(e->key) == PK_STRING)) {
		c->prio = PF_PRIO_STR;
		/* common case: the key is its own name, no copy */
		if (pk_val_payload(*e->key, &p, &n) == PK_OK && n > 2 &&
		    n <= PF_NAME_LONG && !memchr(p, '/', n) &&
		    !memchr(p, '%', n) && !memchr(p, '\0', n) &&
		    (pf_kind(e->key) == PK_STR || pk_utf8_valid(p, n, 0))) {
			c->nat = (const char *)p;
			c->natlen = (uint32_t)n;
			return 0;
		}
		rc = pf_str_text(dv->doc, e->key, &text, NULL);
	} else {
		c->prio = PF_PRIO_OTHER;
		rc = pf_repr(dv->doc, e->key, 1024, &text);
	}
	if (rc)
		goto cleanup;
	if (pf_name_escape(text.data ? text.data : (const uint8_t *)"",
			   text.len, &esc)) {
		rc = ENOMEM;
		goto cleanup;
	}
	c->nat = pf_names_store(&dc->names, esc.data ? (char *)esc.data : "",
				esc.len);
	c->natlen = (uint32_t)esc.len;
	if (!c->nat)
		rc = ENOMEM;
cleanup:
	pk_buf_release(&text);
	pk_buf_release(&esc);
	return rc;
}

static int ensure_names(pf_docview *dv, struct dircache *dc)
{
	pf_name_cand *cands;
	uint64_t i;
	int rc = 0;

	if (dc->named || dc->lay.indexed)
		return 0;
	cands = calloc(dc->lay.n ? dc->lay.n : 1, sizeof(*cands));
	if (!cands)
		return ENOMEM;
	for (i = 0; i < dc->lay.n && !rc; i++) {
		pf_entry e;
		pf_layout_entry(&dc->lay, i, &e);
		rc = natural_name(dv, dc, &e, &cands[i]);
	}
	if (!rc)
		rc = pf_names_build(&dc->names, cands, (uint32_t)dc->lay.n);
	free(cands);
	if (rc)
		return rc;
	dc->named = 1;
	dv->bytes += dc->names.bytes;
	return 0;
}

/* ---- queries ----------------------------------------------------------- */

int pf_docview_count(pf_docview *dv, pf_ref dir, uint64_t *n)
{
	struct dircache *dc, tmp;
	int rc = dir_get(dv, dir, &tmp, &dc);

	if (rc)
		return rc;
	*n = dc->lay.n;
	return 0;
}

static int look_of(pf_docview *dv, pf_ref dir, uint64_t i, pf_ref t)
{
	uint64_t r;
	const struct canon_rec *rec;

	if (!pf_ref_is_dir(t))
		return PF_LOOK_FILE;
	if (t.part != PF_PART_SELF || !dv->linked)
		return PF_LOOK_DIR;
	if (!canon_get(dv, pf_node(t.val), &r))
		return PF_LOOK_DIR; /* not reached by the walk: a value the
				       mount removed, still being emptied */
	rec = &dv->recs[r];
	if (rec->parent.val && rec->index == i && pf_ref_same(rec->parent, dir))
		return PF_LOOK_DIR;
	return PF_LOOK_LINK;
}

int pf_docview_child(pf_docview *dv, pf_ref dir, uint64_t i, pf_child *c)
{
	struct dircache *dc, tmp;
	int rc = dir_get(dv, dir, &tmp, &dc);

	if (rc)
		return rc;
	if (i >= dc->lay.n)
		return ENOENT;
	pf_layout_entry(&dc->lay, i, &c->e);
	c->look = look_of(dv, dir, i, c->e.target);
	return 0;
}

int pf_docview_name(pf_docview *dv, pf_ref dir, uint64_t i, pk_buf *out)
{
	struct dircache *dc, tmp;
	int rc = dir_get(dv, dir, &tmp, &dc);

	if (rc)
		return rc;
	if (i >= dc->lay.n)
		return ENOENT;
	if (dc->lay.indexed) {
		char num[24];
		int len = pf_index_name(i, num);
		return pk_buf_add(out, num, (size_t)len) ? ENOMEM : 0;
	}
	if ((rc = ensure_names(dv, dc)))
		return rc;
	return pk_buf_add(out, dc->names.v[i].s, dc->names.v[i].len) ? ENOMEM
								     : 0;
}

int pf_docview_lookup(pf_docview *dv, pf_ref dir, const char *name, size_t len,
		      uint64_t *i)
{
	struct dircache *dc, tmp;
	int64_t k;
	int rc = dir_get(dv, dir, &tmp, &dc);

	if (rc)
		return rc;
	if (dc->lay.indexed) {
		if (pf_index_parse(name, len, i) || *i >= dc->lay.n)
			return ENOENT;
		return 0;
	}
	if ((rc = ensure_names(dv, dc)))
		return rc;
	k = pf_names_find(&dc->names, name, len);
	if (k < 0)
		return ENOENT;
	*i = (uint64_t)k;
	return 0;
}

/* Subdirectories of a plain dict or sequence in a view without links:
 * its kids that are directories, read straight from the node. */
static uint64_t plain_nsubdirs(pf_ref dir)
{
	const pk_node *n = pf_node(dir.val);
	uint64_t i, count = 0, first = 0, stride = 1;

	if (pf_kind(dir.val) == PK_DICT) {
		first = 1; /* the values */
		stride = 2;
	}
	for (i = first; i < n->nkids; i += stride) {
		pf_ref t = {&n->kids[i], PF_PART_SELF};
		/* scalars are never directories, containers always are (the
		 * value's tag says so without reading the node): a call only
		 * for objects, whose shape decides */
		if (pk_val_is_container(n->kids[i]))
			count++;
		else if (pk_val_is_node(n->kids[i]) && pf_ref_is_dir(t))
			count++;
	}
	return count;
}

int pf_docview_nsubdirs(pf_docview *dv, pf_ref dir, uint64_t *n)
{
	uint64_t r, i, count = 0, total;
	pk_node *self = NULL;
	int rc;

	if (dir.part == PF_PART_SELF) {
		self = (pk_node *)pf_node(dir.val);
		if (canon_get(dv, self, &r)) {
			*n = dv->linked ? dv->recs[r].nsub : r;
			return 0;
		}
	}
	if (!dv->linked && plain(dir)) {
		count = plain_nsubdirs(dir);
	} else {
		if ((rc = pf_docview_count(dv, dir, &total)))
			return rc;
		for (i = 0; i < total; i++) {
			pf_child c;
			if ((rc = pf_docview_child(dv, dir, i, &c)))
				return rc;
			count += c.look == PF_LOOK_DIR;
		}
	}
	if (self && !dv->linked && count <= UINT32_MAX) {
		/* remembered in the node (see struct pf_docview) */
		self->view = (uint32_t)count;
		self->view_gen = dv->gen;
	}
	*n = count;
	return 0;
}

/* ---- links ------------------------------------------------------------- */

struct hop {
	pf_ref dir;    /* a directory on the way to the root */
	pf_ref parent; /* its parent */
	uint64_t index;
};

/* The directories from dir up to (excluding) the root. */
static int chain(pf_docview *dv, pf_ref dir, struct hop **out, size_t *len)
{
	struct hop *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	while (!pf_ref_same(dir, dv->root)) {
		struct hop h;
		h.dir = dir;
		if (dir.part == PF_PART_SELF) {
			uint64_t r;
			if (!canon_get(dv, pf_node(dir.val), &r) ||
			    !dv->recs[r].parent.val) {
				rc = EIO;
				break;
			}
			h.parent = dv->recs[r].parent;
			h.index = dv->recs[r].index;
		} else {
			struct dircache *dc;
			int64_t k;
			h.parent.val = dir.val;
			h.parent.part = PF_PART_SELF;
			if ((rc = dircache(dv, h.parent, &dc)))
				break;
			k = pf_layout_find_part(&dc->lay, dir.part);
			if (k < 0) {
				rc = EIO;
				break;
			}
			h.index = (uint64_t)k;
		}
		if (pk_vec_grow((void **)&v, &cap, n + 1, sizeof(*v))) {
			rc = ENOMEM;
			break;
		}
		v[n++] = h;
		dir = h.parent;
	}
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*len = n;
	return 0;
}

int pf_docview_link(pf_docview *dv, pf_ref dir, uint64_t i, pk_buf *out)
{
	pf_child c;
	struct hop *from = NULL, *to = NULL;
	size_t nfrom = 0, nto = 0, common = 0, k;
	uint64_t r;
	pf_ref target;
	int rc, any = 0;

	if ((rc = pf_docview_child(dv, dir, i, &c)))
		return rc;
	if (c.look != PF_LOOK_LINK)
		return EINVAL;
	if (!canon_get(dv, pf_node(c.e.target.val), &r))
		return EIO;
	target.val = dv->recs[r].slot;
	target.part = PF_PART_SELF;
	if ((rc = chain(dv, dir, &from, &nfrom)) ||
	    (rc = chain(dv, target, &to, &nto)))
		goto cleanup;
	/* both chains end just below the root: strip the shared tail */
	while (
	    common < nfrom && common < nto &&
	    pf_ref_same(from[nfrom - 1 - common].dir, to[nto - 1 - common].dir))
		common++;
	for (k = 0; k < nfrom - common; k++) {
		if (pk_buf_adds(out, any ? "/.." : "..")) {
			rc = ENOMEM;
			goto cleanup;
		}
		any = 1;
	}
	for (k = nto - common; k-- > 0;) {
		if ((any && pk_buf_addc(out, '/')) ||
		    (rc =
			 pf_docview_name(dv, to[k].parent, to[k].index, out))) {
			rc = rc ? rc : ENOMEM;
			goto cleanup;
		}
		any = 1;
	}
	if (!any && pk_buf_addc(out, '.'))
		rc = ENOMEM;
cleanup:
	free(from);
	free(to);
	return rc;
}
