#include "content.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"
#include "errmap.h"
#include "form.h"
#include "frame.h"
#include "npdtype.h"
#include "scalars.h"
#include "tensor.h"
#include "text.h"
#include "views.h"

pf_blob *pf_blob_new(void)
{
	pf_blob *b = calloc(1, sizeof(*b));

	if (b) {
		b->refs = 1;
		pk_buf_init(&b->buf);
	}
	return b;
}

void pf_blob_ref(pf_blob *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
}

void pf_blob_unref(pf_blob *b)
{
	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		pk_buf_release(&b->buf);
		free(b);
	}
}

void pf_content_init(pf_content *c)
{
	memset(c, 0, sizeof(*c));
	pk_buf_init(&c->owned);
	pk_buf_init(&c->head);
}

void pf_content_release(pf_content *c)
{
	pk_buf_release(&c->owned);
	pk_buf_release(&c->head);
	pf_blob_unref(c->blob);
	pf_vstream_unref(c->stream);
	pf_content_init(c);
}

int pf_content_append(const pf_content *c, pk_buf *out)
{
	if (c->stream) {
		size_t got;
		int rc;
		if (c->len > SIZE_MAX || pk_buf_grow(out, (size_t)c->len))
			return ENOMEM;
		rc = pf_vstream_read(c->stream, 0, (size_t)c->len,
				     out->data + out->len, &got);
		out->len += got;
		return rc;
	}
	if ((c->head.len && pk_buf_add(out, c->head.data, c->head.len)) ||
	    (c->len && pk_buf_add(out, c->data, c->len)) ||
	    (c->nl && pk_buf_addc(out, '\n')))
		return ENOMEM;
	return 0;
}

/* Points c at the owned buffer once it is complete. */
static void use_owned(pf_content *c, int nl)
{
	c->data = c->owned.data ? c->owned.data : (const uint8_t *)"";
	c->len = c->owned.len;
	c->nl = nl;
}

/* Raw bytes of a bytes-like slot (bytes, bytearray, Python 2 str). */
static int raw_bytes(const pk_doc *doc, const pk_val *v, pf_content *c,
		     pk_err *e)
{
	const uint8_t *p;
	uint64_t n;
	int rc;

	if (pk_val_payload(*v, &p, &n) == PK_OK) {
		c->data = p;
		c->len = n;
		return 0;
	}
	/* text-form opcodes (STRING) must be decoded */
	rc = pk_val_format(doc, *v, &c->owned, e);
	if (rc != PK_OK)
		return pf_errno_of(rc);
	use_owned(c, 0);
	return 0;
}

static int latin1_of_str(const pk_doc *doc, const pk_val *str, unsigned flags,
			 pf_content *c, pk_err *e)
{
	const uint8_t *p;
	uint64_t n, count;
	pk_buf text = PK_BUF_INIT;
	int rc = 0, r;

	if (pk_val_payload(*str, &p, &n) != PK_OK) {
		rc = pf_str_text(doc, str, &text, e);
		if (rc)
			goto cleanup;
		p = text.data;
		n = text.len;
	}
	if (flags & PF_CONTENT_SIZE_ONLY) {
		r = pk_utf8_to_latin1(p, n, NULL, &count);
		c->len = count;
	} else {
		r = pk_utf8_to_latin1(p, n, &c->owned, &count);
		use_owned(c, 0);
	}
	if (r == -2)
		rc = ENOMEM;
	else if (r < 0)
		rc = EIO; /* not what _codecs.encode(s, 'latin1') accepts */
	if (rc) { /* a failed content holds nothing (callers release none) */
		pk_buf_release(&c->owned);
		c->data = NULL;
		c->len = 0;
	}
cleanup:
	pk_buf_release(&text);
	return rc;
}

int pf_str_latin1(const pk_doc *doc, const pk_val *v, int *latin1)
{
	const uint8_t *p;
	uint64_t n;
	pk_buf raw = PK_BUF_INIT;
	pk_err e;
	int rc;

	*latin1 = 0;
	if (pf_kind(v) != PK_STRING)
		return 0;
	if (pk_val_payload(*v, &p, &n) == PK_OK) {
		*latin1 = !pk_utf8_valid(p, n, 0);
		return 0;
	}
	rc = pk_val_format(doc, *v, &raw, &e);
	if (rc == PK_OK)
		*latin1 = !pk_utf8_valid(raw.data, raw.len, 0);
	pk_buf_release(&raw);
	return pf_errno_of(rc);
}

int pf_str_text(const pk_doc *doc, const pk_val *v, pk_buf *out, pk_err *e)
{
	const uint8_t *p;
	uint64_t n, i;
	size_t start = out->len;
	int rc;

	if (pk_val_payload(*v, &p, &n) == PK_OK) {
		if (pf_kind(v) == PK_STR || pk_utf8_valid(p, n, 0))
			return pk_buf_add(out, p, n) ? ENOMEM : 0;
	} else {
		rc = pk_val_format(doc, *v, out, e);
		if (rc != PK_OK)
			return pf_errno_of(rc);
		if (pf_kind(v) == PK_STR ||
		    pk_utf8_valid(out->data + start, out->len - start, 0))
			return 0;
		/* keep the raw bytes aside and re-add them as latin-1 */
		{
			pk_buf raw = PK_BUF_INIT;
			if (pk_buf_add(&raw, out->data + start,
				       out->len - start)) {
				pk_buf_release(&raw);
				return ENOMEM;
			}
			out->len = start;
			out->data[start] = '\0';
			for (i = 0; i < raw.len; i++) {
				uint8_t b = raw.data[i];
				if ((b < 0x80
					 ? pk_buf_addc(out, b)
					 : (pk_buf_addc(out, 0xc0 | (b >> 6)) ||
					    pk_buf_addc(out,
							0x80 | (b & 0x3f))))) {
					pk_buf_release(&raw);
					return ENOMEM;
				}
			}
			pk_buf_release(&raw);
			return 0;
		}
	}
	/* A Python 2 str that is not UTF-8: Python 3 reads such pickles with
	 * encoding='latin1', so show that text. */
	for (i = 0; i < n; i++) {
		uint8_t b = p[i];
		int r = b < 0x80 ? pk_buf_addc(out, b)
				 : (pk_buf_addc(out, 0xc0 | (b >> 6)) ||
				    pk_buf_addc(out, 0x80 | (b & 0x3f)));
		if (r)
			return ENOMEM;
	}
	return 0;
}

static int scalar_content(const pk_doc *doc, const pk_val *v, pf_content *c,
			  pk_err *e)
{
	const uint8_t *p;
	uint64_t n;
	int rc;

	switch (pf_kind(v)) {
	case PK_STR:
		/* an empty str is an empty file (not a lone newline), so
		 * `truncate -s 0` then `>>` builds the text from nothing */
		if (pk_val_payload(*v, &p, &n) == PK_OK) {
			c->data = p;
			c->len = n;
			c->nl = n > 0;
			return 0;
		}
		break;
	case PK_STRING:
		if (pk_val_payload(*v, &p, &n) == PK_OK &&
		    pk_utf8_valid(p, n, 0)) {
			c->data = p;
			c->len = n;
			c->nl = n > 0;
			return 0;
		}
		rc = pf_str_text(doc, v, &c->owned, e);
		if (rc)
			return rc;
		use_owned(c, c->owned.len > 0);
		return 0;
	case PK_BYTES:
	case PK_BYTEARRAY:
		return raw_bytes(doc, v, c, e);
	case PK_BUFFER: {
		/* an out-of-band buffer: its bytes are not in the pickle, but
		 * whoever loads it may have them (a .npy file's: pickle.h) */
		if (doc && doc->external && doc->external->buffer &&
		    doc->external->buffer(doc->external, pk_val_bytes(*v), &p,
					  &n) == 0) {
			c->data = p;
			c->len = n;
			return 0;
		}
		c->data = (const uint8_t *)"";
		c->len = 0;
		return 0;
	}
	}
	rc = pk_val_format(doc, *v, &c->owned, e);
	if (rc != PK_OK)
		return pf_errno_of(rc);
	use_owned(c, !(pf_kind(v) == PK_STR && c->owned.len == 0));
	return 0;
}

static int global_content(const pk_val *v, pf_content *c)
{
	const uint8_t *m, *q;
	size_t ml, ql;

	if (pf_global_parts(v, &m, &ml, &q, &ql))
		return EIO;
	if (pk_buf_add(&c->owned, m, ml) || pk_buf_addc(&c->owned, '.') ||
	    pk_buf_add(&c->owned, q, ql))
		return ENOMEM;
	use_owned(c, 1);
	return 0;
}

static int number_of(const pk_val *v, double *out)
{
	int64_t i;

	if (pf_kind(v) == PK_FLOAT)
		return pk_val_float(*v, out) == PK_OK ? 0 : -1;
	if (pk_val_int64(*v, &i) == PK_OK) {
		*out = (double)i;
		return 0;
	}
	return -1;
}

static int complex_content(const pf_obj *o, pf_content *c)
{
	const pk_node *args = pf_node(o->args);
	double re = 0, im = 0;

	if (number_of(&args->kids[0], &re) ||
	    (args->nkids > 1 && number_of(&args->kids[1], &im)))
		return EIO;
	if (pk_complex_repr(re, im, &c->owned))
		return ENOMEM;
	use_owned(c, 1);
	return 0;
}

/* bytes-like value: raw bytes, _codecs.encode call, READONLY_BUFFER. */
static int byteslike_content(const pk_doc *doc, const pk_val *v, unsigned flags,
			     pf_content *c, pk_err *e)
{
	int form = pf_form_of(v);
	pf_obj o;

	/* READONLY_BUFFER wraps the bytes, perhaps more than once: unwrap
	 * in a loop (the input decides how many) */
	while (form == PF_FORM_BUFFER) {
		const pk_node *n = pf_node(v);
		if (n->nkids != 1)
			return EIO;
		v = &n->kids[0];
		form = pf_form_of(v);
	}
	if (form == PF_FORM_LATIN1) {
		pf_obj_parse(v, &o);
		return latin1_of_str(doc, &pf_node(o.args)->kids[0], flags, c,
				     e);
	}
	if (form == PF_FORM_BYTESCALL) {
		const pk_node *args;
		pf_obj_parse(v, &o);
		args = pf_node(o.args);
		if (args->nkids == 0) {
			c->data = (const uint8_t *)"";
			c->len = 0;
			return 0;
		}
		if (args->nkids == 2)
			return latin1_of_str(doc, &args->kids[0], flags, c, e);
		/* one level: form.c only accepts raw bytes or a latin-1
		 * call here, never another bytes call */
		return byteslike_content(doc, &args->kids[0], flags, c, e);
	}
	if (pf_is_node(v))
		return EIO;
	if (pf_kind(v) == PK_BYTES || pf_kind(v) == PK_BYTEARRAY ||
	    pf_kind(v) == PK_STRING || pf_kind(v) == PK_RAW)
		return raw_bytes(doc, v, c, e);
	/* out of band (NEXT_BUFFER): bytes only when the loader has them */
	if (pf_kind(v) == PK_BUFFER && doc && doc->external &&
	    doc->external->buffer)
		return scalar_content(doc, v, c, e);
	return EIO;
}

/* ---- numpy parts ------------------------------------------------------- */

static int tuple_at(const pk_val *t, uint32_t i, const pk_val **out)
{
	if (!t || !pf_is_node(t) || pf_kind(t) != PK_TUPLE ||
	    i >= pf_node(t)->nkids)
		return -1;
	*out = &pf_node(t)->kids[i];
	return 0;
}

static int add_str_val(const pk_doc *doc, const pk_val *v, pk_buf *out)
{
	if (!v || (pf_kind(v) != PK_STR && pf_kind(v) != PK_STRING) ||
	    pf_is_node(v))
		return EIO;
	return pf_str_text(doc, v, out, NULL);
}

static int shape_content(const pk_doc *doc, const pk_val *shape, pf_content *c,
			 pk_err *e);

/* dtype.str: byte order + type code ('<f8', '|u1', '<U5', '|O'). */
static int dtype_str(const pk_doc *doc, const pk_val *dt, pk_buf *out)
{
	pf_obj o;
	const pk_val *code, *state = NULL, *endian = NULL, *meta, *unit;
	pk_buf code_text = PK_BUF_INIT;
	char order = '|';
	int rc;

	if (pf_obj_parse(dt, &o) || !o.args || tuple_at(o.args, 0, &code))
		return EIO;
	rc = add_str_val(doc, code, &code_text);
	if (rc)
		goto cleanup;
	if (o.node->nsteps > 1 && pk_node_steps(o.node)[1].nkids == 1)
		state = &o.node->kids[o.first_after];
	if (state && tuple_at(state, 1, &endian) == 0) {
		pk_buf eb = PK_BUF_INIT;
		if (add_str_val(doc, endian, &eb) == 0 && eb.len == 1)
			order = (char)eb.data[0];
		pk_buf_release(&eb);
	}
	if (order == '=')
		order = '<'; /* native order of the machines numpy pickles on */
	if (code_text.len && code_text.data[0] == 'O') {
		rc = pk_buf_adds(out, "|O") ? ENOMEM : 0;
		goto done;
	}
	if (pk_buf_addc(out, (uint8_t)order) ||
	    pk_buf_add(out, code_text.data, code_text.len)) {
		rc = ENOMEM;
		goto cleanup;
	}
	/* datetime64 / timedelta64 carry their unit in the state's metadata:
	 * (unit, count, ...), or ({}, (unit, count, ...)) as numpy writes it
	 * now; the unit is bytes (at protocol 2, _codecs.encode of it) */
	if (code_text.len &&
	    (code_text.data[0] == 'M' || code_text.data[0] == 'm') &&
	    tuple_at(state, 8, &meta) == 0 && tuple_at(meta, 0, &unit) == 0) {
		pf_content uc;
		pf_ref ur;
		const pk_val *num;
		int64_t k = 1;
		if (pf_is_node(unit) && pf_kind(unit) == PK_DICT &&
		    (tuple_at(meta, 1, &meta) || tuple_at(meta, 0, &unit)))
			goto done;
		if (tuple_at(meta, 1, &num) == 0)
			pk_val_int64(*num, &k);
		ur.val = unit;
		ur.part = PF_PART_SELF;
		if (pf_content_get(doc, ur, 0, &uc, NULL) == 0) {
			if (pk_buf_addc(out, '[') ||
			    (k > 1 && pk_buf_addf(out, "%lld", (long long)k)) ||
			    pk_buf_add(out, uc.data, uc.len) ||
			    pk_buf_addc(out, ']'))
				rc = ENOMEM;
			pf_content_release(&uc);
			if (rc)
				goto cleanup;
		}
	}
done:
cleanup:
	pk_buf_release(&code_text);
	return rc;
}

/* The state tuple of a dtype object (after its BUILD), or NULL. */
static const pk_val *dtype_state(const pk_val *dt)
{
	pf_obj o;

	if (pf_obj_parse(dt, &o) || o.node->nsteps < 2 ||
	    pk_node_steps(o.node)[1].nkids != 1)
		return NULL;
	return &o.node->kids[o.first_after];
}

/* Bytes per item of a dtype (npdtype.h), 0 when unknown. */
static int64_t dtype_itemsize(const pk_doc *doc, const pk_val *dt)
{
	int64_t n = pk_npdtype_itemsize(*dt);

	(void)doc;
	return n < 0 ? 0 : n;
}

/* Value of the field `name` (a str slot) in the fields dict. */
static const pk_val *field_of(const pk_doc *doc, const pk_val *fields,
			      const pk_val *name)
{
	const pk_node *d = pf_node(fields);
	pk_buf want = PK_BUF_INIT, have = PK_BUF_INIT;
	const pk_val *found = NULL;
	uint32_t i;

	if (pf_str_text(doc, name, &want, NULL))
		goto out;
	for (i = 0; i + 1 < d->nkids && !found; i += 2) {
		pk_buf_reset(&have);
		if (pf_kind(&d->kids[i]) == PK_STR &&
		    pf_str_text(doc, &d->kids[i], &have, NULL) == 0 &&
		    have.len == want.len &&
		    memcmp(have.data, want.data, want.len) == 0)
			found = &d->kids[i + 1];
	}
out:
	pk_buf_release(&want);
	pk_buf_release(&have);
	return found;
}

/* A structured dtype as numpy's dtype.descr prints it:
 * [('name', '<U8'), ('', '|V4'), ('x', '<f8', (3,))]. Nested structured
 * fields show as their '|Vn' (the text is one level deep on purpose: the
 * depth of a dtype is the input's to choose). 1 when dt is structured
 * and was written, 0 when it is not structured, or an errno < 0. */
static int dtype_descr(const pk_doc *doc, const pk_val *dt, pk_buf *out)
{
	const pk_val *state = dtype_state(dt), *names, *fields, *elsize;
	const pk_node *nt;
	int64_t offset = 0, total = 0;
	uint32_t i;

	if (!state || tuple_at(state, 3, &names) ||
	    tuple_at(state, 4, &fields) || !pf_is_node(names) ||
	    pf_kind(names) != PK_TUPLE || !pf_is_node(fields) ||
	    pf_kind(fields) != PK_DICT)
		return 0;
	if (tuple_at(state, 5, &elsize) == 0)
		pk_val_int64(*elsize, &total);
	nt = pf_node(names);
	if (pk_buf_addc(out, '['))
		return -ENOMEM;
	for (i = 0; i < nt->nkids; i++) {
		const pk_val *f = field_of(doc, fields, &nt->kids[i]), *sub,
			     *off;
		const pk_val *sstate, *subarr, *base, *shape;
		pk_buf name = PK_BUF_INIT;
		int64_t at = offset, size = 0;
		pf_content sc;
		int rc;

		if (!f || tuple_at(f, 0, &sub) || tuple_at(f, 1, &off))
			return -EIO;
		pk_val_int64(*off, &at);
		if (i && pk_buf_adds(out, ", "))
			return -ENOMEM;
		if (at > offset && pk_buf_addf(out, "('', '|V%lld'), ",
					       (long long)(at - offset)))
			return -ENOMEM;
		if (pf_str_text(doc, &nt->kids[i], &name, NULL) ||
		    pk_buf_addc(out, '(') ||
		    pk_repr_str(name.data ? name.data : (const uint8_t *)"",
				name.len, out) ||
		    pk_buf_adds(out, ", '")) {
			pk_buf_release(&name);
			return -ENOMEM;
		}
		pk_buf_release(&name);
		sstate = dtype_state(sub);
		if (sstate && tuple_at(sstate, 2, &subarr) == 0 &&
		    tuple_at(subarr, 0, &base) == 0 &&
		    tuple_at(subarr, 1, &shape) == 0) {
			pf_content_init(&sc);
			if ((rc = dtype_str(doc, base, out)) ||
			    pk_buf_adds(out, "', ") ||
			    (rc = shape_content(doc, shape, &sc, NULL)) ||
			    pk_buf_add(out, sc.data, sc.len)) {
				pf_content_release(&sc);
				return -(rc ? rc : ENOMEM);
			}
			pf_content_release(&sc);
		} else if ((rc = dtype_str(doc, sub, out)) ||
			   pk_buf_addc(out, '\'')) {
			return -(rc ? rc : ENOMEM);
		}
		if (pk_buf_addc(out, ')'))
			return -ENOMEM;
		size = dtype_itemsize(doc, sub);
		offset = at + size;
	}
	if (total > offset &&
	    pk_buf_addf(out, "%s('', '|V%lld')", nt->nkids ? ", " : "",
			(long long)(total - offset)))
		return -ENOMEM;
	return pk_buf_addc(out, ']') ? -ENOMEM : 1;
}

/* dtype.str, or dtype.descr for structured dtypes. */
static int dtype_content(const pk_doc *doc, const pk_val *dt, pf_content *c)
{
	int rc = dtype_descr(doc, dt, &c->owned);

	if (rc < 0)
		return -rc;
	if (rc == 0 && (rc = dtype_str(doc, dt, &c->owned)))
		return rc;
	use_owned(c, 1);
	return 0;
}

static int shape_content(const pk_doc *doc, const pk_val *shape, pf_content *c,
			 pk_err *e)
{
	const pk_node *t = pf_node(shape);
	uint32_t i;
	int rc;

	if (pk_buf_addc(&c->owned, '('))
		return ENOMEM;
	for (i = 0; i < t->nkids; i++) {
		if (i && pk_buf_adds(&c->owned, ", "))
			return ENOMEM;
		rc = pk_val_format(doc, t->kids[i], &c->owned, e);
		if (rc != PK_OK)
			return pf_errno_of(rc);
	}
	if (pk_buf_adds(&c->owned, t->nkids == 1 ? ",)" : ")"))
		return ENOMEM;
	use_owned(c, 1);
	return 0;
}

/* array.npy: the header (owned), then the payload where it is. */
static int npy_content(const pk_doc *doc, const pk_val *v, unsigned flags,
		       pf_content *c)
{
	pf_arrinfo a;
	int rc = pf_array_parse(doc, v, &a);

	if (rc)
		return rc;
	if (!a.descr[0]) {
		rc = EIO;
		goto out;
	}
	if (flags & PF_CONTENT_SIZE_ONLY) {
		/* the header, and the payload's length without its bytes (a
		 * protocol 0-2 payload is not decoded for a stat) */
		pf_ref dr = {v, PF_PART_DATA};
		pf_content d;
		uint64_t want;
		rc = pf_content_get(doc, dr, PF_CONTENT_SIZE_ONLY, &d, NULL);
		a.len = d.len;
		pf_content_release(&d);
		if (!rc &&
		    (__builtin_mul_overflow(a.count, (uint64_t)a.size, &want) ||
		     want != a.len))
			rc = EIO;
		if (!rc)
			rc = pf_array_npy_header(&a, &c->head);
		c->len = a.len;
		goto out;
	}
	if ((rc = pf_array_payload(doc, v, &a)) ||
	    (rc = pf_array_npy_header(&a, &c->head)))
		goto out;
	if (a.owned.data) { /* a protocol 0-2 payload, decoded: one copy */
		c->owned = c->head;
		pk_buf_init(&c->head);
		if (pk_buf_add(&c->owned, a.data, a.len)) {
			rc = ENOMEM;
			goto out;
		}
		c->data = c->owned.data;
		c->len = c->owned.len;
		goto out;
	} else {
		c->data = a.data;
	}
	if (!c->data)
		c->data = (const uint8_t *)"";
	c->len = a.len;
out:
	pf_arrinfo_release(&a);
	return rc;
}

/* A tensor's data: in place when contiguous, else gathered (tensor.h). */
static int tensor_content(const pk_doc *doc, const pf_tensor *t, unsigned flags,
			  pf_content *c)
{
	const uint8_t *p;
	uint64_t n;
	int rc = pf_tensor_data(doc, t, (flags & PF_CONTENT_SIZE_ONLY) != 0, &p,
				&n, &c->owned);

	if (rc)
		return rc;
	c->len = n;
	if (flags & PF_CONTENT_SIZE_ONLY)
		return 0;
	c->data = p ? p : (const uint8_t *)"";
	return 0;
}

int pf_content_get(const pk_doc *doc, pf_ref ref, unsigned flags, pf_content *c,
		   pk_err *e)
{
	const pk_val *v = ref.val;
	pf_ndarray arr;
	pf_tensor t;
	pf_obj o;
	int form;

	pf_content_init(c);
	switch (ref.part) {
	case PF_PART_SELF:
		break;
	case PF_PART_DTYPE:
		if (pf_tensor_parse(v, &t) == 0) {
			if (pk_buf_adds(&c->owned, t.name))
				return ENOMEM;
			use_owned(c, 1);
			return 0;
		}
		if (pf_ndarray_parse(v, &arr) || !arr.dtype)
			return EIO;
		return dtype_content(doc, arr.dtype, c);
	case PF_PART_SHAPE:
		if (pf_tensor_parse(v, &t) == 0)
			return shape_content(doc, t.size, c, e);
		if (pf_ndarray_parse(v, &arr))
			return EIO;
		return shape_content(doc, arr.shape, c, e);
	case PF_PART_STRIDE:
		if (pf_tensor_parse(v, &t))
			return EIO;
		return shape_content(doc, t.stride, c, e);
	case PF_PART_ORDER: {
		int fortran = 0;
		if (pf_ndarray_parse(v, &arr))
			return EIO;
		if (arr.fortran && pf_kind(arr.fortran) == PK_BOOL) {
			pk_buf b = PK_BUF_INIT;
			fortran = pk_val_format(doc, *arr.fortran, &b, NULL) ==
				      PK_OK &&
				  b.len == 4 && memcmp(b.data, "True", 4) == 0;
			pk_buf_release(&b);
		}
		if (arr.order)
			fortran = pf_str_is(arr.order, "F");
		if (pk_buf_adds(&c->owned, fortran ? "F" : "C"))
			return ENOMEM;
		use_owned(c, 1);
		return 0;
	}
	case PF_PART_DATA:
		if (pf_tensor_parse(v, &t) == 0)
			return tensor_content(doc, &t, flags, c);
		if (pf_ndarray_parse(v, &arr))
			return EIO;
		return byteslike_content(doc, arr.data, flags, c, e);
	case PF_PART_NPY:
		return npy_content(doc, v, flags, c);
	case PF_PART_VALUES:
	case PF_PART_STRVALUES:
	case PF_PART_IMAGE:
	case PF_PART_INDEX:
	case PF_PART_CSV: {
		int rc = pf_view_render(doc, ref, &c->owned);
		if (!rc)
			use_owned(c, 0);
		return rc;
	}
	default:
		if (pf_part_column(ref.part) >= 0) {
			int rc = pf_view_render(doc, ref, &c->owned);
			if (!rc)
				use_owned(c, 0);
			return rc;
		}
		return EISDIR;
	}

	form = pf_form_of(v);
	switch (form) {
	case PF_FORM_SCALAR:
		return scalar_content(doc, v, c, e);
	case PF_FORM_GLOBAL:
		return global_content(v, c);
	case PF_FORM_COMPLEX:
		pf_obj_parse(v, &o);
		return complex_content(&o, c);
	case PF_FORM_LIBSCALAR: {
		int rc = pf_sc_text(v, &c->owned);
		if (!rc)
			use_owned(c, 1);
		return rc;
	}
	case PF_FORM_BUFFER:
	case PF_FORM_LATIN1:
	case PF_FORM_BYTESCALL:
		return byteslike_content(doc, v, flags, c, e);
	}
	return EISDIR;
}

/* A frame's view, the frame parsed for it (the docview keeps one parsed:
 * pf_docview_content). */
static int frame_view(const pk_doc *doc, pf_ref ref, pk_buf *out)
{
	pf_frame f;
	int rc = pf_frame_parse(doc, ref.val, &f, NULL);

	if (rc)
		return rc;
	rc = pf_frame_view(doc, &f, ref.part, out);
	pf_frame_release(&f);
	return rc;
}

int pf_view_rendered(uint32_t part)
{
	return part == PF_PART_VALUES || part == PF_PART_IMAGE ||
	       part == PF_PART_STRVALUES || part == PF_PART_INDEX ||
	       part == PF_PART_CSV || pf_part_column(part) >= 0;
}

int pf_view_render(const pk_doc *doc, pf_ref ref, pk_buf *out)
{
	if (ref.part == PF_PART_VALUES || ref.part == PF_PART_IMAGE ||
	    ref.part == PF_PART_STRVALUES)
		return pf_array_render(doc, ref.val, ref.part, out);
	if (pf_view_rendered(ref.part))
		return frame_view(doc, ref, out);
	return EINVAL;
}

const char *pf_ref_type_name(pf_ref ref)
{
	switch (ref.part) {
	case PF_PART_SELF:
		return pf_type_name(ref.val);
	case PF_PART_DTYPE:
	case PF_PART_SHAPE:
	case PF_PART_ORDER:
	case PF_PART_STRIDE:
		return pf_kind_type_name(PK_STR);
	case PF_PART_DATA:
	case PF_PART_NPY:
	case PF_PART_IMAGE:
		return pf_kind_type_name(PK_BYTES);
	case PF_PART_VALUES:
	case PF_PART_STRVALUES:
	case PF_PART_INDEX:
	case PF_PART_CSV:
		return pf_kind_type_name(PK_STR);
	case PF_PART_WRAP:
		/* the top directory of a pickle whose value is a file: the
		 * type is the value's (`pickle.dump(42)` is an int) */
		return pf_type_name(ref.val);
	case PF_PART_INST_ARGS:
		return pf_kind_type_name(PK_TUPLE);
	case PF_PART_LISTITEMS:
		return pf_kind_type_name(PK_LIST);
	case PF_PART_DICTITEMS:
		return pf_kind_type_name(PK_DICT);
	case PF_PART_RAW:
		return pf_type_name(ref.val);
	}
	if (pf_part_column(ref.part) >= 0)
		return pf_kind_type_name(PK_STR);
	return pf_kind_type_name(PK_OBJECT);
}
