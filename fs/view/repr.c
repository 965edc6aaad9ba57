#include "repr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "errmap.h"
#include "form.h"
#include "text.h"

/* An open container whose items are still being written. */
struct frame {
	const pk_val *kids;
	uint32_t n, next;
	uint8_t pairs;	   /* kids alternate key, value */
	uint8_t one_comma; /* a 1-tuple: "(x,)" */
	const char *close;
};

struct stack {
	struct frame *f;
	size_t n, cap;
};

static int push(struct stack *s, struct frame fr)
{
	if (pk_vec_grow((void **)&s->f, &s->cap, s->n + 1, sizeof(*s->f)))
		return ENOMEM;
	s->f[s->n++] = fr;
	return 0;
}

static int add(pk_buf *out, const char *s)
{
	return pk_buf_adds(out, s) ? ENOMEM : 0;
}

/* Writes the class / callable name of an object. */
static int callable_name(const pk_doc *doc, const pf_obj *o, const pk_val *v,
			 pk_buf *out)
{
	pf_content c;
	pf_ref r = {v, PF_PART_SELF};
	int rc;

	if (o->cls && pf_form_of(o->cls) == PF_FORM_GLOBAL) {
		r.val = o->cls;
		r.part = PF_PART_SELF;
		rc = pf_content_get(doc, r, 0, &c, NULL);
		if (rc == 0 && pk_buf_add(out, c.data, c.len))
			rc = ENOMEM;
		pf_content_release(&c);
		return rc;
	}
	return add(out, "<object>");
}

/* Writes a value that has no items of its own, or opens a container
 * (pushing a frame). */
/* A value shown as its text: a str's repr(), bytes' and bytearray's
 * repr(), or the content text of a global, complex or other scalar. */
static int emit_text(const pk_doc *doc, const pk_val *v, pk_buf *out)
{
	const char *type = pf_type_name(v);
	int is_bytes = strcmp(type, "bytes") == 0;
	int is_ba = strcmp(type, "bytearray") == 0;
	pf_ref r = {v, PF_PART_SELF};
	pf_content c;
	pk_buf t = PK_BUF_INIT;
	int rc;

	if (pf_kind(v) == PK_STR || pf_kind(v) == PK_STRING) {
		rc = pf_str_text(doc, v, &t, NULL);
		if (!rc && pk_repr_str(t.data ? t.data : (const uint8_t *)"",
				       t.len, out))
			rc = ENOMEM;
		pk_buf_release(&t);
		return rc;
	}
	rc = pf_content_get(doc, r, 0, &c, NULL);
	if (rc)
		return rc;
	if (is_ba && add(out, "bytearray("))
		rc = ENOMEM;
	else if ((is_bytes || is_ba) ? pk_repr_bytes(c.data, c.len, out)
				     : pk_buf_add(out, c.data, c.len))
		rc = ENOMEM;
	else if (is_ba && add(out, ")"))
		rc = ENOMEM;
	pf_content_release(&c);
	return rc;
}

/* Opens a list, tuple, set or frozenset (also a set() call): its opening
 * text now, its items as the frame to walk. */
static int open_seq(const pk_val *v, int form, struct frame *fr, pk_buf *out)
{
	const pk_val *kids = NULL;
	uint32_t n = 0;
	int kind = pf_kind(v), rc;
	pf_obj o;

	if (form == PF_FORM_SETCALL) {
		pf_obj_parse(v, &o);
		kind = strcmp(pf_type_name(v), "set") ? PK_FROZENSET : PK_SET;
		if (pf_node(o.args)->nkids)
			pf_seq_kids(&pf_node(o.args)->kids[0], &kids, &n);
	} else {
		pf_seq_kids(v, &kids, &n);
	}
	fr->kids = kids;
	fr->n = n;
	switch (kind) {
	case PK_LIST:
		rc = add(out, "[");
		fr->close = "]";
		break;
	case PK_TUPLE:
		rc = add(out, "(");
		fr->close = ")";
		fr->one_comma = n == 1;
		break;
	case PK_SET:
		rc = add(out, n ? "{" : "set(");
		fr->close = n ? "}" : ")";
		break;
	default:
		rc = add(out, n ? "frozenset({" : "frozenset(");
		fr->close = n ? "})" : ")";
		break;
	}
	return rc;
}

/* Opens an object: its callable's name and "(", its arguments as the
 * frame to walk. */
static int open_object(const pk_doc *doc, const pk_val *v, struct frame *fr,
		       pk_buf *out)
{
	pf_obj o;
	int rc;

	if (pf_obj_parse(v, &o))
		return add(out, "<object>");
	rc = callable_name(doc, &o, v, out);
	if (!rc)
		rc = add(out, "(");
	if (rc)
		return rc;
	if (o.args && pf_is_node(o.args) && pf_kind(o.args) == PK_TUPLE &&
	    !o.hide_args) {
		fr->kids = pf_node(o.args)->kids;
		fr->n = pf_node(o.args)->nkids;
	} else if (!o.args) {
		fr->kids = o.node->kids + o.inl_first;
		fr->n = o.inl_count;
	}
	fr->close = ")";
	return 0;
}

static int emit(const pk_doc *doc, const pk_val *v, struct stack *st,
		pk_buf *out)
{
	int form = pf_form_of(v), rc;
	struct frame fr;

	memset(&fr, 0, sizeof(fr));
	switch (form) {
	case PF_FORM_SCALAR:
	case PF_FORM_GLOBAL:
	case PF_FORM_COMPLEX:
	case PF_FORM_LIBSCALAR:
	case PF_FORM_LATIN1:
	case PF_FORM_BYTESCALL:
	case PF_FORM_BUFFER:
		return emit_text(doc, v, out);
	case PF_FORM_SEQ:
	case PF_FORM_SETCALL:
		rc = open_seq(v, form, &fr, out);
		return rc ? rc : push(st, fr);
	case PF_FORM_DICT:
		fr.kids = pf_node(v)->kids;
		fr.n = pf_node(v)->nkids & ~1u;
		fr.pairs = 1;
		fr.close = "}";
		return add(out, "{") ? ENOMEM : push(st, fr);
	case PF_FORM_OBJECT:
	case PF_FORM_FRAME:
		rc = open_object(doc, v, &fr, out);
		/* an unparsable object printed "<object>" and has no frame */
		return rc || !fr.close ? rc : push(st, fr);
	}
	if (add(out, "<") || add(out, pf_type_name(v)) || add(out, ">"))
		return ENOMEM;
	return 0;
}

/* Cuts the text from start to at most cap bytes, the last three "...",
 * at a character boundary (a long str key's repr is one emit). */
static int cut(pk_buf *out, size_t start, size_t cap)
{
	size_t keep = cap > 3 ? cap - 3 : 0;

	while (keep > 0 && (out->data[start + keep] & 0xc0) == 0x80)
		keep--;
	out->len = start + keep;
	out->data[out->len] = '\0';
	return add(out, cap >= 3 ? "..." : "");
}

/* emit(), or, for a value whose text the pickle does not hold (EIO: a
 * READONLY_BUFFER over an out-of-band buffer, a global whose names are
 * not strings ...), "<TYPE>": a key's repr names its file, and one
 * unreadable key must not make its whole dict unlistable. */
static int emit_or_type(const pk_doc *doc, const pk_val *v, struct stack *st,
			pk_buf *out)
{
	size_t at = out->len, depth = st->n;
	int rc = emit(doc, v, st, out);

	if (rc != EIO)
		return rc;
	st->n = depth;
	out->len = at;
	if (out->data)
		out->data[at] = '\0';
	return add(out, "<") || add(out, pf_type_name(v)) || add(out, ">")
		   ? ENOMEM
		   : 0;
}

int pf_repr(const pk_doc *doc, const pk_val *v, size_t cap, pk_buf *out)
{
	struct stack st = {NULL, 0, 0};
	size_t start = out->len;
	int rc;

	rc = emit_or_type(doc, v, &st, out);
	while (!rc && st.n) {
		struct frame *f = &st.f[st.n - 1];
		if (out->len - start > cap) {
			rc = add(out, "...");
			break;
		}
		if (f->next >= f->n) {
			if (f->one_comma)
				rc = add(out, ",");
			if (!rc)
				rc = add(out, f->close);
			st.n--;
			continue;
		}
		if (f->next > 0)
			rc = add(out, f->pairs && (f->next & 1) ? ": " : ", ");
		if (rc)
			break;
		/* emit may grow the stack: f is not used after this */
		rc = emit_or_type(doc, &f->kids[f->next++], &st, out);
	}
	free(st.f);
	if (!rc && out->len - start > cap)
		rc = cut(out, start, cap);
	return rc;
}
