#include "edit.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "content.h"
#include "errmap.h"
#include "layout.h"
#include "names.h"
#include "scalars.h"
#include "opcodes.h"
#include "form.h"
#include "frame.h"
#include "views.h"
#include "text.h"

/* Every refusal of this module: the code and message go into *e, the
 * errno the caller answers with comes from errmap.c. */
static int refuse(pk_err *e, int code, const char *msg)
{
	pk_err_set(e, code, msg, 0);
	return pf_errno_of(code);
}

static int set_kind(pk_doc *doc, pk_val *slot, int kind, const uint8_t *text,
		    size_t len, pk_err *e)
{
	int rc = pk_val_set_text(doc, slot, kind, text, len, e);

	if (rc == PK_E_UNSUPPORTED)
		return refuse(e, PK_E_REFUSED, e->msg);
	return pf_errno_of(rc);
}

/* str files end with the '\n' cat shows; writing drops one again. */
static size_t text_len(const uint8_t *text, size_t len)
{
	return len && text[len - 1] == '\n' ? len - 1 : len;
}

/* A str slot: a Python 2 str is written back in the encoding it was read
 * in (pf_str_latin1): UTF-8 bytes, or latin-1 bytes when its old bytes
 * were not UTF-8 (then a code point above 255 is EINVAL). */
static int set_str(pk_doc *doc, pk_val *slot, int kind, const uint8_t *text,
		   size_t len, pk_err *e)
{
	pk_buf b = PK_BUF_INIT;
	int latin1 = 0, rc;

	if (kind == PK_STRING && (rc = pf_str_latin1(doc, slot, &latin1)))
		return rc;
	if (!latin1)
		return set_kind(doc, slot, kind, text, len, e);
	rc = pk_utf8_to_latin1(text, len, &b, NULL);
	if (rc == -1)
		rc = refuse(e, PK_E_VALUE,
			    "a Python 2 str read as latin-1 takes only "
			    "characters up to U+00FF");
	else if (rc)
		rc = refuse(e, PK_E_NOMEM, "out of memory");
	if (!rc)
		rc =
		    set_kind(doc, slot, kind, b.data ? b.data : text, b.len, e);
	pk_buf_release(&b);
	return rc;
}

static int set_complex(pk_doc *doc, const pk_val *v, const uint8_t *text,
		       size_t len, pk_err *e)
{
	pf_obj o;
	const pk_val *ak;
	uint32_t an;
	double re, im;
	pk_buf a = PK_BUF_INIT, b = PK_BUF_INIT;
	int rc;

	if (pk_complex_parse((const char *)text, len, &re, &im, NULL))
		return refuse(e, PK_E_VALUE, "not a complex literal");
	if (pf_obj_parse(v, &o) || !o.args || pf_seq_kids(o.args, &ak, &an) ||
	    an < 1 || an > 2 || (an == 1 && im != 0.0))
		return refuse(e, PK_E_REFUSED,
			      "this complex call takes no imaginary part");
	if (pk_float_repr(re, &a) || pk_float_repr(im, &b)) {
		rc = refuse(e, PK_E_NOMEM, "out of memory");
		goto cleanup;
	}
	rc = set_kind(doc, (pk_val *)&ak[0], PK_FLOAT, a.data, a.len, e);
	if (!rc && an == 2)
		rc =
		    set_kind(doc, (pk_val *)&ak[1], PK_FLOAT, b.data, b.len, e);
cleanup:
	pk_buf_release(&a);
	pk_buf_release(&b);
	return rc;
}

static int set_latin1(pk_doc *doc, const pk_val *v, const uint8_t *text,
		      size_t len, pk_err *e)
{
	pf_obj o;
	const pk_val *ak;
	uint32_t an;
	pk_buf u = PK_BUF_INIT;
	int rc;

	if (pf_obj_parse(v, &o) || !o.args || pf_seq_kids(o.args, &ak, &an) ||
	    an < 1)
		return refuse(e, PK_E_REFUSED,
			      "not a bytes call it can change");
	rc = pk_latin1_to_utf8(text, len, &u)
		 ? refuse(e, PK_E_NOMEM, "out of memory")
		 : set_kind(doc, (pk_val *)&ak[0], PK_STR, u.data, u.len, e);
	pk_buf_release(&u);
	return rc;
}

/* bytes(x) / bytearray(x) as protocols 0-4 write them: the argument
 * takes the bytes (raw bytes, or _codecs.encode's latin-1 str); an empty
 * bytes() (how protocols 0-2 write b'') becomes the call CPython writes
 * for bytes that are not empty, unless something else refers to it. */
static int set_bytescall(pk_doc *doc, pk_val *slot, const uint8_t *text,
			 size_t len, pk_err *e)
{
	pf_obj o;
	const pk_val *ak;
	uint32_t an = 0;
	pk_val made;
	int rc;

	if (pf_obj_parse(slot, &o))
		return refuse(e, PK_E_REFUSED,
			      "not a bytes call it can change");
	if (o.args)
		pf_seq_kids(o.args, &ak, &an);
	if (an >= 1 && pf_form_of(&ak[0]) == PF_FORM_LATIN1)
		return set_latin1(doc, &ak[0], text, len, e);
	if (an >= 1 && !pf_is_node(&ak[0]) &&
	    (pf_kind(&ak[0]) == PK_BYTES || pf_kind(&ak[0]) == PK_BYTEARRAY))
		return set_kind(doc, (pk_val *)&ak[0], pf_kind(&ak[0]), text,
				len, e);
	if (an != 0)
		return refuse(e, PK_E_REFUSED,
			      "not a bytes call it can change");
	if (len == 0)
		return 0; /* b'' stays b'' */
	if (o.node->flags & PK_NODE_SHARED)
		return refuse(e, PK_E_REFUSED,
			      "an empty bytes reached twice stays as it is");
	/* the bytes as this protocol writes them, then, for a bytearray,
	 * bytearray(those bytes) */
	made.bits = 0;
	if (pk_doc_protocol(doc) >= 3)
		rc = set_kind(doc, &made, PK_BYTES, text, len, e);
	else
		rc = pf_errno_of(
		    pk_val_new_latin1_bytes(doc, text, len, &made, e));
	if (!rc && pf_global_is(o.callable, "builtins", "bytearray"))
		rc = pf_errno_of(pk_val_new_call(doc, "builtins", "bytearray",
						 &made, 1, &made, e));
	if (!rc)
		*slot = made;
	return rc;
}

/* The kind a number or None becomes for text that is not a literal of
 * its own kind, or -1. Numbers widen as Python's arithmetic does (bool
 * to int to float: `echo 9.5 > an_int`); None (sklearn's max_depth,
 * random_state ...) takes whatever a new file's content would be. A
 * complex does not replace a scalar in place (its memo slot could not
 * be kept): remove the entry and make it anew. */
static int widened_kind(int kind, const uint8_t *text, size_t len)
{
	int to = pf_edit_infer_kind(text, len);
	static const int rank[] = {[PK_BOOL] = 1, [PK_INT] = 2, [PK_FLOAT] = 3};

	if (to == PF_KIND_COMPLEX)
		return -1;
	if (kind == PK_NONE)
		return to;
	if ((to == PK_INT || to == PK_FLOAT) && rank[to] > rank[kind])
		return to;
	return -1;
}

static int set_number(pk_doc *doc, pk_val *slot, int kind, const uint8_t *text,
		      size_t len, pk_err *e)
{
	int rc = set_kind(doc, slot, kind, text, len, e), to;

	if (rc != EINVAL || (to = widened_kind(kind, text, len)) < 0)
		return rc;
	return set_kind(doc, slot, to, text,
			to == PK_STR ? text_len(text, len) : len, e);
}

/* values.txt of an array: each value parsed as the dtype, into a copy
 * of the payload that then replaces it as a write to `data` does. */
static int set_values(pk_doc *doc, const pk_val *arr, const uint8_t *text,
		      size_t len, pk_err *e)
{
	pf_arrinfo a;
	pk_buf nb = PK_BUF_INIT;
	pf_ref dr = {arr, PF_PART_DATA};
	int rc;

	if (pf_array_parse(doc, arr, &a) || !a.kind) {
		pf_arrinfo_release(&a);
		return refuse(e, PK_E_REFUSED,
			      "this array's values cannot be changed");
	}
	rc = pf_array_payload(doc, arr, &a);
	if (!rc)
		rc = pf_errno_of(pf_array_values_parse(&a, text, len, &nb, e));
	pf_arrinfo_release(&a);
	if (!rc)
		rc = pf_edit_set(doc, dr, nb.data, nb.len, e);
	pk_buf_release(&nb);
	return rc;
}

int pf_edit_set(pk_doc *doc, pf_ref ref, const uint8_t *text, size_t len,
		pk_err *e)
{
	pk_val *slot = (pk_val *)ref.val;
	int kind;

	if (!text)
		text = (const uint8_t *)"";
	if (ref.part == PF_PART_DATA) {
		pf_ndarray a;
		const uint8_t *old;
		uint64_t n;
		if (pf_ndarray_parse(ref.val, &a) || !a.data)
			return refuse(e, PK_E_REFUSED,
				      "this array's data cannot be changed");
		if (pf_form_of(a.data) == PF_FORM_LATIN1) {
			/* protocols 0-2: _codecs.encode(text, 'latin1') */
			pf_content c;
			pf_ref dr = {a.data, PF_PART_SELF};
			int rc = pf_content_get(doc, dr, PF_CONTENT_SIZE_ONLY,
						&c, NULL);
			n = c.len;
			pf_content_release(&c);
			if (rc)
				return rc;
			if (n != len)
				return refuse(
				    e, PK_E_VALUE,
				    "numpy data must keep its length");
			return set_latin1(doc, a.data, text, len, e);
		}
		if (pk_val_payload(*a.data, &old, &n))
			return refuse(e, PK_E_REFUSED,
				      "this array's data cannot be changed");
		if (n != len) /* the array's shape says how long */
			return refuse(e, PK_E_VALUE,
				      "numpy data must keep its length");
		return set_kind(doc, (pk_val *)a.data, pk_val_kind(*a.data),
				text, len, e);
	}
	if (ref.part == PF_PART_VALUES)
		return set_values(doc, ref.val, text, len, e);
	if (pf_part_column(ref.part) >= 0)
		return pf_frame_set_column(doc, ref.val,
					   (uint32_t)pf_part_column(ref.part),
					   text, len, e);
	if (pf_part_readonly(ref.part))
		return refuse(e, PK_E_REFUSED,
			      "array.npy, image.png, the values.txt of "
			      "a str array, __index__ and __frame__.csv are "
			      "read-only views");
	if (ref.part != PF_PART_SELF)
		return refuse(
		    e, PK_E_REFUSED,
		    "an array's dtype, shape and order are read-only");
	switch (pf_form_of(ref.val)) {
	case PF_FORM_COMPLEX:
		return set_complex(doc, ref.val, text, len, e);
	case PF_FORM_LIBSCALAR:
		return pf_sc_set(doc, ref.val, text, len, 0, e);
	case PF_FORM_LATIN1:
		return set_latin1(doc, ref.val, text, len, e);
	case PF_FORM_BYTESCALL:
		return set_bytescall(doc, slot, text, len, e);
	case PF_FORM_SCALAR:
		break;
	default:
		return refuse(e, PK_E_REFUSED,
			      "a class or call used as a value is read-only");
	}
	kind = pk_val_kind(*slot);
	switch (kind) {
	case PK_STR:
	case PK_STRING:
		return set_str(doc, slot, kind, text, text_len(text, len), e);
	case PK_NONE:
	case PK_BOOL:
	case PK_INT:
	case PK_FLOAT:
		return set_number(doc, slot, kind, text, len, e);
	case PK_BYTES:
	case PK_BYTEARRAY:
		return set_kind(doc, slot, kind, text, len, e);
	}
	return refuse(e, PK_E_REFUSED,
		      "a global, extension code or persistent id is read-only");
}

int pf_edit_infer_kind(const uint8_t *text, size_t len)
{
	double d, im;
	int64_t i;
	int b;
	pk_err e;
	int rc;

	rc = pk_int_parse_i64((const char *)text, len, &i, &e);
	if (rc == PK_OK || rc == PK_E_UNSUPPORTED)
		return PK_INT;
	if (pk_float_parse((const char *)text, len, &d, NULL) == PK_OK)
		return PK_FLOAT;
	if (pk_bool_parse((const char *)text, len, &b, NULL) == PK_OK)
		return PK_BOOL;
	if (pk_none_parse((const char *)text, len, NULL) == PK_OK)
		return PK_NONE;
	if (pk_complex_parse((const char *)text, len, &d, &im, NULL) == PK_OK)
		return PF_KIND_COMPLEX;
	return PK_STR;
}

int pf_edit_check(pk_doc *doc, pf_ref ref, const uint8_t *text, size_t len,
		  pk_err *e)
{
	pk_val copy;
	int kind;

	if (ref.part == PF_PART_SELF &&
	    pf_form_of(ref.val) == PF_FORM_LIBSCALAR)
		return pf_sc_set(doc, ref.val,
				 text ? text : (const uint8_t *)"", len, 1, e);
	if (ref.part != PF_PART_SELF || pf_form_of(ref.val) != PF_FORM_SCALAR)
		return 0; /* checked when written */
	/* a dry run on a copy of the slot: the doc's slot is untouched (the
	 * few bytes it takes from the arena are the price) */
	copy = *ref.val;
	kind = pk_val_kind(copy);
	if (!text)
		text = (const uint8_t *)"";
	if (kind == PK_STR || kind == PK_STRING)
		return set_str(doc, &copy, kind, text, text_len(text, len), e);
	if (kind == PK_NONE || kind == PK_BOOL || kind == PK_INT ||
	    kind == PK_FLOAT)
		return set_number(doc, &copy, kind, text, len, e);
	return set_kind(doc, &copy, kind, text, len, e);
}

int pf_edit_convert(pk_doc *doc, pf_ref ref, const char *type, pk_err *e)
{
	pk_val *slot = (pk_val *)ref.val;
	pf_content c;
	int kind = pf_type_name_kind(type), rc;

	if (kind < 0)
		return refuse(e, PK_E_VALUE,
			      "not a type to convert to (str, int, float, "
			      "bool, none, bytes)");
	if (ref.part != PF_PART_SELF || pf_form_of(ref.val) != PF_FORM_SCALAR)
		return refuse(e, PK_E_REFUSED, "only a scalar changes type");
	if (pk_val_kind(*slot) == kind)
		return 0;
	rc = pf_content_get(doc, ref, 0, &c, NULL);
	if (rc)
		return rc;
	/* the text cat shows, read as the new type */
	rc = set_kind(doc, slot, kind, c.data ? c.data : (const uint8_t *)"",
		      (size_t)c.len, e);
	pf_content_release(&c);
	return rc;
}

/* ---- directories -------------------------------------------------------- */

/* OrderedDict, defaultdict, Counter: the items are SETITEM steps on the
 * call's own node (how CPython pickles them), or, for Counter(dict),
 * that dict. Python 2's OrderedDict([[k, v], ...]) holds its items as
 * pairs in a list: not editable as entries (NULL). */
static pk_node *dictcall_node(const pk_val *v, pk_node *n, int *pairs)
{
	const pk_step *st = pk_node_steps(n);
	pf_obj o;
	uint32_t i;

	*pairs = 1;
	for (i = 1; i < n->nsteps; i++)
		if (st[i].op == PK_OP_SETITEM || st[i].op == PK_OP_SETITEMS)
			return n;
	if (pf_obj_parse(v, &o) || !o.args)
		return NULL;
	if (pf_global_is(o.callable, "collections", "defaultdict") ||
	    pf_node(o.args)->nkids == 0)
		return n;
	if (pf_kind(&pf_node(o.args)->kids[0]) == PK_DICT)
		return (pk_node *)pf_node(&pf_node(o.args)->kids[0]);
	return NULL;
}

/* The node whose kids hold the entries of dir, and whether they are
 * key/value pairs. */
static pk_node *entries_node(pf_ref dir, int *pairs)
{
	const pk_val *v = dir.val;
	pk_node *n;
	uint32_t i, kid;

	if (dir.part != PF_PART_SELF && dir.part != PF_PART_DICTITEMS)
		return NULL;
	if (!pk_val_is_node(*v))
		return NULL;
	n = pk_val_node(*v);
	switch (pf_form_of(v)) {
	case PF_FORM_DICT:
		*pairs = 1;
		return n;
	case PF_FORM_SEQ:
		*pairs = 0;
		return n;
	case PF_FORM_SETCALL: {
		/* set([...]) / frozenset([...]) of protocols 0-2: the items
		 * are the list (or tuple) argument's */
		pf_obj o;
		*pairs = 0;
		if (pf_obj_parse(v, &o) || !o.args || !pf_node(o.args)->nkids ||
		    !pf_is_node(&pf_node(o.args)->kids[0]))
			return NULL;
		return (pk_node *)pf_node(&pf_node(o.args)->kids[0]);
	}
	case PF_FORM_OBJECT:
		break;
	case PF_FORM_DICTCALL:
		return dictcall_node(v, n, pairs);
	default:
		return NULL;
	}
	/* an object: its attributes are the dict of a BUILD state */
	for (i = 0, kid = 0; i < n->nsteps;
	     kid += pk_node_steps(n)[i].nkids, i++) {
		const pk_step *s = &pk_node_steps(n)[i];
		if (s->op == PK_OP_BUILD && s->nkids == 1 &&
		    pk_val_is_node(n->kids[kid]) &&
		    pk_val_node(n->kids[kid])->kind == PK_DICT) {
			*pairs = 1;
			return pk_val_node(n->kids[kid]);
		}
	}
	return NULL;
}

static int kid_index(const pk_node *n, const pk_val *p, uint32_t *k)
{
	if (!p || p < n->kids || p >= n->kids + n->nkids)
		return -1;
	*k = (uint32_t)(p - n->kids);
	return 0;
}

/* The node and kid index an entry's removal starts at. */
static int removable(pf_ref dir, const pk_val *key, const pk_val *target,
		     pk_node **node, uint32_t *kid, int *pairs, pk_err *e)
{
	pk_node *n = entries_node(dir, pairs);
	uint8_t op0;

	if (!n || kid_index(n, *pairs ? key : target, kid))
		return refuse(e, PK_E_REFUSED,
			      "cannot go without the value it is part of");
	if (n->flags & PK_NODE_PARTS)
		return refuse(e, PK_E_REFUSED,
			      "a file of several pickles keeps its number of "
			      "pickles");
	op0 = pk_node_steps(n)[0].op;
	if (pk_node_step_of(n, *kid, NULL) == 0 && pk_node_steps(n)[0].nkids &&
	    !pk_node_steps(n)[0].marked &&
	    !(op0 >= PK_OP_TUPLE1 && op0 <= PK_OP_TUPLE3))
		return refuse(e, PK_E_REFUSED,
			      "a call takes a fixed number of arguments");
	*node = n;
	return 0;
}

int pf_edit_can_remove(pf_ref dir, const pk_val *key, const pk_val *target,
		       pk_err *e)
{
	pk_node *n;
	uint32_t k;
	int pairs;

	return removable(dir, key, target, &n, &k, &pairs, e);
}

int pf_edit_remove(pk_doc *doc, pf_ref dir, const pk_val *key,
		   const pk_val *target, pk_err *e)
{
	pk_node *n;
	uint32_t k;
	int pairs, rc = removable(dir, key, target, &n, &k, &pairs, e);

	if (rc)
		return rc;
	rc = pk_node_remove(doc, n, k, pairs ? 2 : 1, e);
	return rc == PK_E_UNSUPPORTED ? refuse(e, PK_E_REFUSED, e->msg)
				      : pf_errno_of(rc);
}

/* Whether name[0..len) is spelled as an int key is named: its decimal,
 * "-7", not "007", "+7", " 7", "7_0" or "-0", which int() reads too. Only
 * such a name makes (or keeps) an int key, so that the key is then named
 * what it was made as. */
static int decimal_name(const char *name, size_t len)
{
	size_t i = len && name[0] == '-';

	if (i == len || (name[i] == '0' && len > 1))
		return 0;
	for (; i < len; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	return 1;
}

/* The key a file name stands for: the unescaped text as str, or an int
 * for a decimal name in a dict whose keys are ints, or "N%int". */
static int make_key(pk_doc *doc, const pk_node *dict, const char *name,
		    pk_val *key, pk_err *e)
{
	size_t len = strlen(name), baselen, typelen;
	const char *type;
	unsigned k;
	pk_buf text = PK_BUF_INIT;
	int kind = PK_STR, rc;

	if (pf_name_split(name, len, &baselen, &type, &typelen, &k) == 0) {
		if (typelen == 3 && memcmp(type, "int", 3) == 0 && k == 1 &&
		    decimal_name(name, baselen))
			kind = PK_INT;
		else
			return refuse(e, PK_E_VALUE,
				      "a new key's name may end in %int only, "
				      "after a decimal");
		len = baselen;
	} else if (dict && dict->nkids &&
		   pk_val_kind(dict->kids[0]) == PK_INT) {
		int64_t i;
		if (decimal_name(name, len) &&
		    pk_int_parse_i64(name, len, &i, NULL) == PK_OK)
			kind = PK_INT;
	}
	if (kind == PK_STR) {
		if (pf_name_unescape(name, len, &text) < 0) {
			pk_buf_release(&text);
			return refuse(e, PK_E_VALUE,
				      "not a name a key can have (a stray %)");
		}
	} else if (pk_buf_add(&text, name, len)) {
		return refuse(e, PK_E_NOMEM, "out of memory");
	}
	key->bits = 0;
	rc = set_kind(doc, key, kind, text.data ? text.data : (uint8_t *)"",
		      text.len, e);
	pk_buf_release(&text);
	return rc;
}

/* What a dict key compares as, for the keys a name can make (str, int):
 * *as PK_STR and the text of a str (Python 2 str as the mount reads it),
 * or *as PK_INT and the decimal of an int, a bool (True is 1) or a whole
 * float (1.0 is 1). -1 for a key that equals no str and no int. */
static int key_text(const pk_doc *doc, const pk_val *k, int *as, pk_buf *out)
{
	double d;
	pk_buf t = PK_BUF_INIT;
	int rc = -1;

	if (pk_val_is_node(*k))
		return -1;
	switch (pk_val_kind(*k)) {
	case PK_STR:
	case PK_STRING:
		*as = PK_STR;
		return pf_str_text(doc, k, out, NULL) ? -1 : 0;
	case PK_INT: {
		int64_t i;
		*as = PK_INT;
		if (pk_val_int64(*k, &i) == PK_OK) /* no big-int division */
			return pk_buf_addf(out, "%lld", (long long)i) ? -1 : 0;
		return pk_val_format(doc, *k, out, NULL) == PK_OK ? 0 : -1;
	}
	case PK_BOOL:
		*as = PK_INT;
		if (pk_val_format(doc, *k, &t, NULL) == PK_OK)
			rc = pk_buf_adds(out, t.len == 4 ? "1" : "0");
		pk_buf_release(&t);
		return rc ? -1 : 0;
	case PK_FLOAT:
		if (pk_val_float(*k, &d) != PK_OK || !isfinite(d) ||
		    d != floor(d))
			return -1;
		*as = PK_INT;
		return pk_buf_addf(out, "%.0f", d == 0 ? 0.0 : d) ? -1 : 0;
	}
	return -1;
}

/* 0 when no key of dir but the slot `self` equals key as Python compares
 * dict keys ('a' == 'a', 1 == 1.0 == True), else the refusal: a second
 * equal key would be a duplicate that loading the pickle silently drops,
 * with its value (`mv x 1%int` beside the int key 1). */
static int check_clash(const pk_doc *doc, pf_ref dir, const pk_val *self,
		       const pk_val *key, pk_err *e)
{
	pk_buf want = PK_BUF_INIT, t = PK_BUF_INIT;
	pf_layout l;
	pf_entry en;
	uint64_t i;
	int as, other, rc = 0;

	if (key_text(doc, key, &as, &want))
		goto done;
	if (pf_layout_build(doc, dir, &l)) {
		rc = refuse(e, PK_E_NOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < l.n && !rc; i++) {
		const uint8_t *p;
		uint64_t n;
		pf_layout_entry(&l, i, &en);
		if (!en.key || en.key == self)
			continue;
		/* the common case, a str key beside a str: no copy */
		if (as == PK_STR && !pk_val_is_node(*en.key) &&
		    pk_val_kind(*en.key) == PK_STR &&
		    pk_val_payload(*en.key, &p, &n) == PK_OK) {
			if (n == want.len && (!n || !memcmp(p, want.data, n)))
				rc = refuse(e, PK_E_REFUSED,
					    "a key equal to it is in the dict "
					    "already");
			continue;
		}
		pk_buf_reset(&t);
		if (key_text(doc, en.key, &other, &t) == 0 && other == as &&
		    t.len == want.len &&
		    (!t.len || !memcmp(t.data, want.data, t.len)))
			rc = refuse(e, PK_E_REFUSED,
				    "a key equal to it is in the dict already");
	}
	pf_layout_release(&l);
done:
	pk_buf_release(&want);
	pk_buf_release(&t);
	return rc;
}

int pf_edit_add(pk_doc *doc, pf_ref dir, const char *name, int dir_value,
		const uint8_t *text, size_t len, const char *type,
		const pk_val **made, pk_err *e)
{
	int pairs, kind, rc;
	pk_node *n = entries_node(dir, &pairs);
	pk_val kv[2] = {{0}, {0}};

	if (!n)
		return refuse(e, PK_E_REFUSED, "takes no new entries");
	if (!pairs && n->kind != PK_LIST)
		return refuse(e, PK_E_REFUSED,
			      "a tuple or set loses members, none come");
	if (!text)
		text = (const uint8_t *)"";
	if (dir_value) {
		if ((rc = pk_val_new_container(doc, PK_DICT, &kv[1], e)))
			return pf_errno_of(rc);
	} else {
		kind = type ? pf_type_name_kind(type) : -1;
		if (kind < 0)
			kind = pf_edit_infer_kind(text, len);
		if (kind == PF_KIND_COMPLEX) {
			double re, im;
			pk_complex_parse((const char *)text, len, &re, &im,
					 NULL);
			if ((rc = pk_val_new_complex(doc, re, im, &kv[1], e)))
				return pf_errno_of(rc);
		} else {
			if (kind == PK_STR)
				len = text_len(text, len);
			if ((rc = set_kind(doc, &kv[1], kind, text, len, e)))
				return rc;
		}
	}
	if (pairs) {
		if (!name)
			return refuse(e, PK_E_VALUE, "a new key needs a name");
		if ((rc = make_key(doc, n, name, &kv[0], e)) ||
		    (rc = check_clash(doc, dir, NULL, &kv[0], e)))
			return rc;
	}
	if ((rc = pk_node_append(doc, n, pairs ? PK_OP_SETITEM : PK_OP_APPEND,
				 pairs ? kv : &kv[1], pairs ? 2 : 1, e)))
		return pf_errno_of(rc);
	if (made)
		*made = &n->kids[n->nkids - 1];
	return 0;
}

int pf_edit_rename_key(pk_doc *doc, pf_ref dir, pk_val *key, const char *name,
		       pk_err *e)
{
	pk_val nk = *key;
	int rc;

	if (pk_val_is_node(*key))
		return refuse(
		    e, PK_E_REFUSED,
		    "a key that is a tuple or an object keeps its name");
	/* make_key without a dict: an int key stays int for a decimal (set
	 * on a copy of the slot, which keeps the old key's memo PUT) */
	if (pk_val_kind(*key) == PK_INT && decimal_name(name, strlen(name))) {
		int64_t i;
		if (pk_int_parse_i64(name, strlen(name), &i, NULL) == PK_OK) {
			rc = set_kind(doc, &nk, PK_INT, (const uint8_t *)name,
				      strlen(name), e);
			if (!rc)
				rc = check_clash(doc, dir, key, &nk, e);
			if (!rc)
				*key = nk;
			return rc;
		}
	}
	rc = make_key(doc, NULL, name, &nk, e);
	if (!rc)
		rc = check_clash(doc, dir, key, &nk, e);
	if (rc)
		return rc;
	/* keep the old key's memo PUT: set its text again in place */
	{
		pk_buf t = PK_BUF_INIT;
		int krc = pk_val_format(doc, nk, &t, e);
		rc = krc == PK_OK
			 ? set_kind(doc, key, pk_val_kind(nk),
				    t.data ? t.data : (uint8_t *)"", t.len, e)
			 : pf_errno_of(krc);
		pk_buf_release(&t);
	}
	return rc;
}

/* ---- refusing early ----------------------------------------------------- */

int pf_edit_early_kind(pf_ref ref)
{
	int kind;

	if (ref.part == PF_PART_SELF &&
	    pf_form_of(ref.val) == PF_FORM_LIBSCALAR)
		return PF_EDIT_EARLY_LINE;
	if (ref.part != PF_PART_SELF || pf_form_of(ref.val) != PF_FORM_SCALAR)
		return 0;
	kind = pk_val_kind(*ref.val);
	return kind == PK_INT || kind == PK_FLOAT || kind == PK_BOOL ? kind : 0;
}

static int is_space(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* s[0..n) is the start of word, ignoring case. */
static int starts(const uint8_t *s, size_t n, const char *word)
{
	return n <= strlen(word) && strncasecmp((const char *)s, word, n) == 0;
}

/* Whether t[0..n) starts a float literal (Python's float(), which also
 * covers every int literal): [+-] digits [. digits] [e [+-] digits],
 * underscores among the digits, or [+-] inf / infinity / nan. */
static int number_prefix(const uint8_t *t, size_t n)
{
	size_t i = 0;
	int dot = 0, exp = 0;

	if (i < n && (t[i] == '+' || t[i] == '-'))
		i++;
	if (starts(t + i, n - i, "infinity") || starts(t + i, n - i, "nan"))
		return 1;
	for (; i < n; i++) {
		uint8_t c = t[i];
		if ((c >= '0' && c <= '9') || c == '_')
			continue;
		if (c == '.' && !dot && !exp) {
			dot = 1;
		} else if ((c == 'e' || c == 'E') && !exp && i > 0) {
			exp = 1;
			if (i + 1 < n && (t[i + 1] == '+' || t[i + 1] == '-'))
				i++;
		} else {
			return 0;
		}
	}
	return 1;
}

int pf_edit_viable(int kind, const uint8_t *text, size_t len, pk_err *e)
{
	size_t i = 0, start, end;

	/* Non-ASCII text may be Unicode digits or spaces, which int() and
	 * float() read ("５", "٥", "\u2003 5"): not refused early, the
	 * whole text is checked when it is set. */
	for (i = 0; i < len; i++)
		if (text[i] >= 0x80)
			return 0;
	i = 0;
	while (i < len && is_space(text[i]))
		i++;
	start = i;
	while (i < len && !is_space(text[i]))
		i++;
	end = i;
	while (i < len && is_space(text[i]))
		i++;
	if (i < len)
		return refuse(e, PK_E_VALUE,
			      "something follows the number"); /* "5 6" */
	if (end == start)
		return 0;
	if (kind == PK_BOOL && (starts(text + start, end - start, "True") ||
				starts(text + start, end - start, "False")))
		return 0;
	return number_prefix(text + start, end - start)
		   ? 0
		   : refuse(e, PK_E_VALUE, "can no longer become a number");
}
