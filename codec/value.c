#include "pickle.h"

#include <math.h>
#include <string.h>

#include "arena.h"
#include "byteorder.h"
#include "memo.h"
#include "opcodes.h"
#include "text.h"
#include "tree.h"

static size_t line_len(const uint8_t *p)
{
	const uint8_t *q = p;

	while (*q != '\n')
		q++;
	return (size_t)(q - p);
}

size_t pk_scalar_op_len(const uint8_t *op, uint64_t *payload)
{
	const struct pk_opcode_info *info = &pk_opcodes[*op];
	uint64_t n = 0;
	size_t len = 1;

	switch (info->form) {
	case PK_FORM_NONE:
		break;
	case PK_FORM_FIXED:
		len += info->width;
		break;
	case PK_FORM_COUNTED:
		n = pk_le(op + 1, info->width);
		len += info->width + (size_t)n;
		break;
	case PK_FORM_LINE2:
		len += line_len(op + len) + 1;
		/* fall through */
	case PK_FORM_LINE:
		len += line_len(op + len) + 1;
		break;
	}
	if (payload)
		*payload = n;
	return len;
}

int pk_doc_protocol(const pk_doc *doc)
{
	if (doc->proto >= 0)
		return doc->proto;
	return doc->op_proto >= 1 ? 1 : 0;
}

int pk_val_kind(pk_val v)
{
	static const uint8_t kinds[256] = {
	    [PK_OP_NONE] = PK_NONE,
	    [PK_OP_NEWTRUE] = PK_BOOL,
	    [PK_OP_NEWFALSE] = PK_BOOL,
	    [PK_OP_INT] = PK_INT,
	    [PK_OP_BININT] = PK_INT,
	    [PK_OP_BININT1] = PK_INT,
	    [PK_OP_BININT2] = PK_INT,
	    [PK_OP_LONG] = PK_INT,
	    [PK_OP_LONG1] = PK_INT,
	    [PK_OP_LONG4] = PK_INT,
	    [PK_OP_FLOAT] = PK_FLOAT,
	    [PK_OP_BINFLOAT] = PK_FLOAT,
	    [PK_OP_UNICODE] = PK_STR,
	    [PK_OP_BINUNICODE] = PK_STR,
	    [PK_OP_SHORT_BINUNICODE] = PK_STR,
	    [PK_OP_BINUNICODE8] = PK_STR,
	    [PK_OP_STRING] = PK_STRING,
	    [PK_OP_BINSTRING] = PK_STRING,
	    [PK_OP_SHORT_BINSTRING] = PK_STRING,
	    [PK_OP_BINBYTES] = PK_BYTES,
	    [PK_OP_SHORT_BINBYTES] = PK_BYTES,
	    [PK_OP_BINBYTES8] = PK_BYTES,
	    [PK_OP_BYTEARRAY8] = PK_BYTEARRAY,
	    [PK_OP_GLOBAL] = PK_GLOBAL,
	    [PK_OP_INST] = PK_GLOBAL,
	    [PK_OP_EXT1] = PK_EXT,
	    [PK_OP_EXT2] = PK_EXT,
	    [PK_OP_EXT4] = PK_EXT,
	    [PK_OP_PERSID] = PK_PERSID,
	    [PK_OP_NEXT_BUFFER] = PK_BUFFER,
	    [PK_INLINE_TAG] = PK_RAW,
	};
	const uint8_t *b;

	if (pk_val_is_node(v))
		return pk_val_node(v)->kind;
	b = pk_val_bytes(v);
	/* protocol 0 and 1 write bools as INT 00 / 01 */
	if (*b == PK_OP_INT && b[1] == '0' && (b[2] == '0' || b[2] == '1') &&
	    b[3] == '\n')
		return PK_BOOL;
	return kinds[*b];
}

int pk_val_payload(pk_val v, const uint8_t **data, uint64_t *len)
{
	uint64_t n;
	size_t total;

	if (pk_val_is_node(v))
		return PK_E_UNSUPPORTED;
	switch (*pk_val_bytes(v)) {
	case PK_INLINE_TAG:
		if (!pk_val_inline(v)->data)
			return PK_E_UNSUPPORTED; /* an object array's pickle */
		*data = pk_val_inline(v)->data;
		*len = pk_val_inline(v)->len;
		return PK_OK;
	case PK_OP_SHORT_BINUNICODE:
	case PK_OP_BINUNICODE:
	case PK_OP_BINUNICODE8:
	case PK_OP_SHORT_BINBYTES:
	case PK_OP_BINBYTES:
	case PK_OP_BINBYTES8:
	case PK_OP_BYTEARRAY8:
	case PK_OP_SHORT_BINSTRING:
	case PK_OP_BINSTRING:
		total = pk_scalar_op_len(pk_val_bytes(v), &n);
		*data = pk_val_bytes(v) + (total - (size_t)n);
		*len = n;
		return PK_OK;
	}
	return PK_E_UNSUPPORTED;
}

/* Python's int(text) of an INT/LONG argument, normalised: no '+', no
 * leading zeros, no 'L'. */
static int format_decimal_text(const uint8_t *s, size_t n, pk_buf *out)
{
	int neg = 0;
	size_t i = 0;

	if (n && s[n - 1] == 'L')
		n--;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	while (i + 1 < n && s[i] == '0')
		i++;
	if (neg && !(n - i == 1 && s[i] == '0') && pk_buf_addc(out, '-') < 0)
		return PK_E_NOMEM;
	return pk_buf_add(out, s + i, n - i) < 0 ? PK_E_NOMEM : PK_OK;
}

int pk_val_float(pk_val v, double *out)
{
	const uint8_t *op;

	if (pk_val_is_node(v) || pk_val_kind(v) != PK_FLOAT)
		return PK_E_UNSUPPORTED;
	op = pk_val_bytes(v);
	if (*op == PK_OP_BINFLOAT) {
		*out = pk_be_double(op + 1);
		return PK_OK;
	}
	return pk_float_parse((const char *)op + 1, line_len(op + 1), out,
			      NULL);
}

int pk_val_int64(pk_val v, int64_t *out)
{
	const uint8_t *op;
	uint64_t n;

	if (pk_val_is_node(v) ||
	    (pk_val_kind(v) != PK_INT && pk_val_kind(v) != PK_BOOL))
		return PK_E_UNSUPPORTED;
	op = pk_val_bytes(v);
	switch (*op) {
	case PK_OP_BININT1:
		*out = op[1];
		return PK_OK;
	case PK_OP_BININT2:
		*out = (int64_t)pk_le16(op + 1);
		return PK_OK;
	case PK_OP_BININT:
		*out = (int32_t)(uint32_t)pk_le32(op + 1);
		return PK_OK;
	case PK_OP_NEWTRUE:
		*out = 1;
		return PK_OK;
	case PK_OP_NEWFALSE:
		*out = 0;
		return PK_OK;
	case PK_OP_LONG1:
	case PK_OP_LONG4: {
		size_t head = pk_scalar_op_len(op, &n) - (size_t)n;
		if (n > 8)
			return PK_E_UNSUPPORTED;
		if (n == 0) {
			*out = 0;
			return PK_OK;
		}
		{
			uint64_t u = pk_le(op + head, (int)n);
			if (n < 8 && (op[head + n - 1] & 0x80))
				u |= ~0ull << (8 * n);
			*out = (int64_t)u;
		}
		return PK_OK;
	}
	case PK_OP_INT:
	case PK_OP_LONG: {
		size_t len = line_len(op + 1);
		if (*op == PK_OP_INT && len == 2 && op[1] == '0' &&
		    (op[2] == '0' || op[2] == '1')) {
			*out = op[2] == '1';
			return PK_OK;
		}
		if (len && op[len] == 'L')
			len--;
		return pk_int_parse_i64((const char *)op + 1, len, out, NULL);
	}
	}
	return PK_E_UNSUPPORTED;
}

static int global_parts(pk_val v, const uint8_t **mod, size_t *modlen,
			const uint8_t **name, size_t *namelen)
{
	if (pk_val_kind(v) != PK_GLOBAL)
		return PK_E_UNSUPPORTED;
	if (pk_val_is_node(v)) {
		const pk_node *n = pk_val_node(v);
		uint64_t l1, l2;
		if (n->nkids != 2 || pk_val_payload(n->kids[0], mod, &l1) ||
		    pk_val_payload(n->kids[1], name, &l2))
			return PK_E_UNSUPPORTED;
		*modlen = (size_t)l1;
		*namelen = (size_t)l2;
		return PK_OK;
	}
	*mod = pk_val_bytes(v) + 1;
	*modlen = line_len(*mod);
	*name = *mod + *modlen + 1;
	*namelen = line_len(*name);
	return PK_OK;
}

int pk_val_global(pk_val v, const uint8_t **mod, size_t *modlen,
		  const uint8_t **name, size_t *namelen)
{
	return global_parts(v, mod, modlen, name, namelen);
}

int pk_val_format(const pk_doc *doc, pk_val v, pk_buf *out, pk_err *e)
{
	const uint8_t *op, *data;
	uint64_t n;
	int64_t i64;
	double f;
	int rc;

	(void)doc;
	if (pk_val_kind(v) == PK_GLOBAL) {
		const uint8_t *m, *nm;
		size_t ml, nl;
		if (global_parts(v, &m, &ml, &nm, &nl))
			return pk_err_set(e, PK_E_UNSUPPORTED,
					  "global with non-str parts", 0);
		if (pk_buf_add(out, m, ml) < 0 || pk_buf_addc(out, '.') < 0 ||
		    pk_buf_add(out, nm, nl) < 0)
			return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		return PK_OK;
	}
	if (pk_val_is_node(v))
		return pk_err_set(e, PK_E_UNSUPPORTED, "not a scalar", 0);
	op = pk_val_bytes(v);
	rc = PK_OK;
	if (*op == PK_INLINE_TAG) {
		/* joblib's inline array bytes, raw (an object array's nested
		 * pickle is a doc of its own: no text here) */
		const pk_inline *r = pk_val_inline(v);
		if (r->data && pk_buf_add(out, r->data, (size_t)r->len) < 0)
			return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		return PK_OK;
	}
	switch (*op) {
	case PK_OP_NONE:
		rc = pk_buf_adds(out, "None");
		break;
	case PK_OP_NEWTRUE:
		rc = pk_buf_adds(out, "True");
		break;
	case PK_OP_NEWFALSE:
		rc = pk_buf_adds(out, "False");
		break;
	case PK_OP_INT:
		if (pk_val_kind(v) == PK_BOOL) {
			rc = pk_buf_adds(out, op[2] == '1' ? "True" : "False");
			break;
		}
		/* fall through */
	case PK_OP_LONG:
		rc = format_decimal_text(op + 1, line_len(op + 1), out);
		break;
	case PK_OP_BININT1:
	case PK_OP_BININT2:
	case PK_OP_BININT:
		pk_val_int64(v, &i64);
		rc = pk_buf_addf(out, "%lld", (long long)i64);
		break;
	case PK_OP_LONG1:
	case PK_OP_LONG4: {
		uint64_t digits;
		size_t len = pk_scalar_op_len(op, &digits);
		rc = pk_int_le_to_decimal(op + len - digits, (size_t)digits,
					  out);
		break;
	}
	case PK_OP_FLOAT:
	case PK_OP_BINFLOAT:
		if ((rc = pk_val_float(v, &f)) == PK_OK)
			rc = pk_float_repr(f, out);
		break;
	case PK_OP_UNICODE:
		return pk_raw_unicode_decode(op + 1, line_len(op + 1), out, e);
	case PK_OP_STRING:
		return pk_string_literal_decode(op + 1, line_len(op + 1), out,
						e);
	case PK_OP_EXT1:
	case PK_OP_EXT2:
	case PK_OP_EXT4:
		rc = pk_buf_addf(
		    out, "%llu",
		    (unsigned long long)pk_le(op + 1, pk_opcodes[*op].width));
		break;
	case PK_OP_PERSID:
		rc = pk_buf_add(out, op + 1, line_len(op + 1));
		break;
	case PK_OP_NEXT_BUFFER:
		break;
	default:
		if (pk_val_payload(v, &data, &n) != PK_OK)
			return pk_err_set(e, PK_E_UNSUPPORTED, "not a scalar",
					  0);
		rc = pk_buf_add(out, data, (size_t)n);
		break;
	}
	if (rc < 0)
		rc = PK_E_NOMEM;
	if (rc != PK_OK)
		return pk_err_set(e, rc, "cannot format value", 0);
	return PK_OK;
}

/* ---- editing ----------------------------------------------------------- */

/* The opcode CPython's pickler writes for an int at protocol `proto`. */
static int encode_int(const uint8_t *text, size_t len, int proto, pk_buf *op,
		      pk_err *e)
{
	int64_t v;
	int rc = pk_int_parse_i64((const char *)text, len, &v, e);
	uint8_t b[8];

	if (rc == PK_OK && proto >= 1) {
		if (v >= 0 && v <= 0xff) {
			b[0] = PK_OP_BININT1;
			b[1] = (uint8_t)v;
			return pk_buf_add(op, b, 2);
		}
		if (v >= 0 && v <= 0xffff) {
			b[0] = PK_OP_BININT2;
			pk_put_le16(b + 1, (uint16_t)v);
			return pk_buf_add(op, b, 3);
		}
		if (v >= INT32_MIN && v <= INT32_MAX) {
			b[0] = PK_OP_BININT;
			pk_put_le32(b + 1, (uint32_t)v);
			return pk_buf_add(op, b, 5);
		}
	}
	if (rc != PK_OK && rc != PK_E_UNSUPPORTED)
		return rc;
	if (proto >= 2) {
		pk_buf le = PK_BUF_INIT;
		rc = pk_int_parse_le((const char *)text, len, &le, e);
		if (rc == PK_OK) {
			if (le.len < 256) {
				b[0] = PK_OP_LONG1;
				b[1] = (uint8_t)le.len;
				rc = pk_buf_add(op, b, 2);
			} else {
				b[0] = PK_OP_LONG4;
				pk_put_le32(b + 1, (uint32_t)le.len);
				rc = pk_buf_add(op, b, 5);
			}
			if (rc == 0)
				rc = pk_buf_add(op, le.data, le.len);
		}
		pk_buf_release(&le);
		return rc;
	}
	{
		/* Protocol 0/1: INT for 32-bit values, LONG with an L for
		 * the rest, both in decimal. */
		pk_buf dec = PK_BUF_INIT, le = PK_BUF_INIT;
		rc = pk_int_parse_le((const char *)text, len, &le, e);
		if (rc == PK_OK)
			rc = pk_int_le_to_decimal(le.data, le.len, &dec);
		if (rc == PK_OK) {
			int small = le.len <= 4;
			rc = pk_buf_addc(op, small ? PK_OP_INT : PK_OP_LONG);
			if (rc == 0)
				rc = pk_buf_add(op, dec.data, dec.len);
			if (rc == 0)
				rc = pk_buf_adds(op, small ? "\n" : "L\n");
		}
		pk_buf_release(&dec);
		pk_buf_release(&le);
		return rc;
	}
}

static int encode_counted(pk_buf *op, uint8_t op1, uint8_t op4, uint8_t op8,
			  const uint8_t *data, size_t len)
{
	uint8_t b[9];
	int rc;

	if (op1 && len < 256) {
		b[0] = op1;
		b[1] = (uint8_t)len;
		rc = pk_buf_add(op, b, 2);
	} else if (op4 && len <= 0xffffffffu) {
		b[0] = op4;
		pk_put_le32(b + 1, (uint32_t)len);
		rc = pk_buf_add(op, b, 5);
	} else if (op8) {
		b[0] = op8;
		pk_put_le64(b + 1, len);
		rc = pk_buf_add(op, b, 9);
	} else {
		return PK_E_UNSUPPORTED;
	}
	if (rc == 0)
		rc = pk_buf_add(op, data, len);
	return rc;
}

static int encode_scalar(int kind, int proto, const uint8_t *text, size_t len,
			 pk_buf *op, pk_err *e)
{
	double f;
	int b, rc;

	switch (kind) {
	case PK_NONE:
		if ((rc = pk_none_parse((const char *)text, len, e)))
			return rc;
		return pk_buf_addc(op, PK_OP_NONE);
	case PK_BOOL:
		if ((rc = pk_bool_parse((const char *)text, len, &b, e)))
			return rc;
		if (proto >= 2)
			return pk_buf_addc(op,
					   b ? PK_OP_NEWTRUE : PK_OP_NEWFALSE);
		return pk_buf_adds(op, b ? "I01\n" : "I00\n");
	case PK_INT:
		return encode_int(text, len, proto, op, e);
	case PK_FLOAT:
		if ((rc = pk_float_parse((const char *)text, len, &f, e)))
			return rc;
		if (proto >= 1) {
			uint8_t be[9];
			be[0] = PK_OP_BINFLOAT;
			pk_put_be_double(be + 1, f);
			return pk_buf_add(op, be, 9);
		}
		if (pk_buf_addc(op, PK_OP_FLOAT) < 0 || pk_float_repr(f, op) ||
		    pk_buf_addc(op, '\n') < 0)
			return PK_E_NOMEM;
		return PK_OK;
	case PK_STR:
		if (!pk_utf8_valid(text, len, 0))
			return pk_err_set(e, PK_E_VALUE, "text is not UTF-8",
					  0);
		if (proto == 0) {
			if (pk_buf_addc(op, PK_OP_UNICODE) < 0 ||
			    pk_raw_unicode_encode(text, len, op) ||
			    pk_buf_addc(op, '\n') < 0)
				return PK_E_NOMEM;
			return PK_OK;
		}
		return encode_counted(
		    op, proto >= 4 ? PK_OP_SHORT_BINUNICODE : 0,
		    PK_OP_BINUNICODE, proto >= 4 ? PK_OP_BINUNICODE8 : 0, text,
		    len);
	case PK_STRING:
		if (proto == 0) {
			if (pk_buf_addc(op, PK_OP_STRING) < 0 ||
			    pk_string_literal_encode(text, len, op) ||
			    pk_buf_addc(op, '\n') < 0)
				return PK_E_NOMEM;
			return PK_OK;
		}
		return encode_counted(op, PK_OP_SHORT_BINSTRING,
				      PK_OP_BINSTRING, 0, text, len);
	case PK_BYTES:
		if (proto < 3)
			return pk_err_set(e, PK_E_UNSUPPORTED,
					  "bytes need protocol 3", 0);
		return encode_counted(op, PK_OP_SHORT_BINBYTES, PK_OP_BINBYTES,
				      proto >= 4 ? PK_OP_BINBYTES8 : 0, text,
				      len);
	case PK_BYTEARRAY:
		if (proto < 5)
			return pk_err_set(e, PK_E_UNSUPPORTED,
					  "bytearray needs protocol 5", 0);
		return encode_counted(op, 0, 0, PK_OP_BYTEARRAY8, text, len);
	}
	return pk_err_set(e, PK_E_UNSUPPORTED, "cannot write this kind", 0);
}

/* Length of the PUT opcode that follows scalar v's bytes, 0 if none. */
static size_t old_put_len(pk_val v)
{
	const uint8_t *b = pk_val_bytes(v);
	const uint8_t *p = b + pk_scalar_op_len(b, NULL);

	switch (*p) {
	case PK_OP_MEMOIZE:
		return 1;
	case PK_OP_BINPUT:
		return 2;
	case PK_OP_LONG_BINPUT:
		return 5;
	case PK_OP_PUT:
		return 1 + line_len(p + 1) + 1;
	}
	return 0;
}

/* joblib inline array bytes: a copy of the record over new bytes of the
 * same length (the array's dtype and shape say how many). */
static int set_inline(pk_doc *doc, pk_val *slot, const uint8_t *text,
		      size_t len, pk_err *e)
{
	const pk_inline *old = pk_val_inline(*slot);
	pk_inline *rec;
	uint8_t *mem;

	if (!slot->bits || pk_val_is_node(*slot) ||
	    *pk_val_bytes(*slot) != PK_INLINE_TAG || !old->data)
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "not an array's inline bytes", 0);
	if (len != old->len)
		return pk_err_set(e, PK_E_VALUE,
				  "numpy data must keep its length", 0);
	rec = pk_arena_alloc(doc->arena, sizeof(*rec));
	mem = pk_arena_alloc(doc->arena, len ? len : 1);
	if (!rec || !mem)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	*rec = *old;
	memcpy(mem, text, len);
	rec->data = mem;
	*slot = pk_val_of_bytes(&rec->tag);
	return PK_OK;
}

int pk_val_set_text(pk_doc *doc, pk_val *slot, int kind, const uint8_t *text,
		    size_t len, pk_err *e)
{
	pk_buf op = PK_BUF_INIT;
	pk_err local;
	uint8_t *mem;
	size_t put_len;
	int rc;

	if (!e)
		e = &local;
	pk_err_set(e, PK_OK, NULL, 0);
	if (kind == PK_RAW)
		return set_inline(doc, slot, text, len, e);
	rc = encode_scalar(kind, pk_doc_protocol(doc), text, len, &op, e);
	if (rc < 0)
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	else if (rc != PK_OK && e->code == PK_OK)
		pk_err_set(e, rc, "not a literal of this type", 0);
	if (rc != PK_OK)
		goto cleanup;
	/* The new value takes over the memo PUT of the scalar it replaces
	 * (so a value edited and edited back is byte-identical); the
	 * encoder looks for a scalar's PUT right after its bytes, so that
	 * is where it goes, or a STOP when there is none. Not the PUT of a
	 * scalar that GETs fetch elsewhere (a record's key that CPython
	 * memoized once): the other places keep the old value, and the
	 * GETs after this one would fetch the new one under that index. */
	put_len = slot->bits && !pk_val_is_node(*slot) &&
			  !(doc->shared &&
			    pk_idmap_find(doc->shared, slot->bits, NULL))
		      ? old_put_len(*slot)
		      : 0;
	mem = pk_arena_alloc(doc->arena, op.len + (put_len ? put_len : 1));
	if (!mem) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	memcpy(mem, op.data, op.len);
	if (put_len)
		memcpy(mem + op.len,
		       pk_val_bytes(*slot) +
			   pk_scalar_op_len(pk_val_bytes(*slot), NULL),
		       put_len);
	else
		mem[op.len] = PK_OP_STOP;
	*slot = pk_val_of_bytes(mem);
cleanup:
	pk_buf_release(&op);
	return rc;
}

int pk_val_new_container(pk_doc *doc, int kind, pk_val *out, pk_err *e)
{
	int proto = pk_doc_protocol(doc);
	pk_node *n = pk_arena_alloc(doc->arena, sizeof(*n));
	uint8_t op;
	int marked = 0;

	if (!n)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	memset(n, 0, sizeof(*n));
	n->kind = (uint8_t)kind;
	switch (kind) {
	case PK_LIST:
		op = proto >= 1 ? PK_OP_EMPTY_LIST : PK_OP_LIST;
		break;
	case PK_DICT:
		op = proto >= 1 ? PK_OP_EMPTY_DICT : PK_OP_DICT;
		break;
	case PK_TUPLE:
		op = proto >= 1 ? PK_OP_EMPTY_TUPLE : PK_OP_TUPLE;
		break;
	case PK_SET:
		if (proto < 4)
			return pk_err_set(e, PK_E_UNSUPPORTED,
					  "sets need protocol 4", 0);
		op = PK_OP_EMPTY_SET;
		break;
	default:
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "cannot create this kind", 0);
	}
	if (op == PK_OP_LIST || op == PK_OP_DICT || op == PK_OP_TUPLE)
		marked = 1;
	if (pk_node_add_step(doc->arena, n, op, marked, NULL, 0) < 0)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	*out = pk_val_of_node(n);
	return PK_OK;
}

/* Kids per item for a batch opcode. */
static uint32_t per_item(uint8_t op)
{
	return op == PK_OP_SETITEM || op == PK_OP_SETITEMS ? 2 : 1;
}

static uint8_t batch_of(uint8_t op)
{
	switch (op) {
	case PK_OP_APPEND:
	case PK_OP_APPENDS:
		return PK_OP_APPENDS;
	case PK_OP_SETITEM:
	case PK_OP_SETITEMS:
		return PK_OP_SETITEMS;
	case PK_OP_ADDITEMS:
		return PK_OP_ADDITEMS;
	}
	return 0;
}

int pk_node_append(pk_doc *doc, pk_node *n, uint8_t op, const pk_val *kids,
		   uint32_t count, pk_err *e)
{
	uint8_t batch = batch_of(op);
	uint32_t per = per_item(op), done = 0;
	int bin = pk_doc_protocol(doc) >= 1;

	if (n->flags & PK_NODE_PARTS)
		return pk_err_set(e, PK_E_REFUSED,
				  "a file of several pickles keeps its number "
				  "of pickles",
				  0);
	if (!batch || count % per)
		return pk_err_set(e, PK_E_UNSUPPORTED, "bad append", 0);
	while (done < count) {
		pk_step *last = &pk_node_steps_mut(n)[n->nsteps - 1];
		uint32_t room, take;

		if (!bin) {
			/* Protocol 0 has no batches: one APPEND/SETITEM each.
			 */
			if (pk_node_add_step(doc->arena, n,
					     per == 2 ? PK_OP_SETITEM
						      : PK_OP_APPEND,
					     0, kids + done, per) < 0)
				goto nomem;
			done += per;
			continue;
		}
		if (n->nsteps > 1 && batch_of(last->op) == batch &&
		    last->nkids / per < 1000) {
			/* Grow the last batch (a single APPEND/SETITEM
			 * becomes a marked batch, as CPython writes two
			 * items). Kids go at the end: that batch is last. */
			room = 1000 - last->nkids / per;
			take = (count - done) / per;
			if (take > room)
				take = room;
			last->op = batch;
			last->marked = 1;
			if (pk_node_extend_last(doc->arena, n, kids + done,
						take * per) < 0)
				goto nomem;
			done += take * per;
			continue;
		}
		take = (count - done) / per;
		if (take > 1000)
			take = 1000;
		if (take == 1 && batch != PK_OP_ADDITEMS) {
			if (pk_node_add_step(doc->arena, n,
					     per == 2 ? PK_OP_SETITEM
						      : PK_OP_APPEND,
					     0, kids + done, per) < 0)
				goto nomem;
		} else if (pk_node_add_step(doc->arena, n, batch, 1,
					    kids + done, take * per) < 0) {
			goto nomem;
		}
		done += take * per;
	}
	return PK_OK;
nomem:
	return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
}

uint32_t pk_node_step_of(const pk_node *n, uint32_t kid, uint32_t *first)
{
	const pk_step *s = pk_node_steps(n);
	uint32_t i, start = 0;

	for (i = 0; i < n->nsteps; i++) {
		if (kid < start + s[i].nkids)
			break;
		start += s[i].nkids;
	}
	if (first)
		*first = start;
	return i;
}

int pk_node_remove(pk_doc *doc, pk_node *n, uint32_t first, uint32_t count,
		   pk_err *e)
{
	uint32_t start, si = pk_node_step_of(n, first, &start);
	pk_step *s;

	(void)doc;
	if (n->flags & PK_NODE_PARTS)
		return pk_err_set(e, PK_E_REFUSED,
				  "a file of several pickles keeps its number "
				  "of pickles",
				  0);
	if (si >= n->nsteps ||
	    first + count > start + pk_node_steps(n)[si].nkids)
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "removal spans several steps", 0);
	s = pk_node_steps_mut(n);
	if (si == 0 && !s[0].marked &&
	    !(s[0].op >= PK_OP_TUPLE1 && s[0].op <= PK_OP_TUPLE3))
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "the step takes a fixed number of items", 0);
	memmove(n->kids + first, n->kids + first + count,
		(n->nkids - first - count) * sizeof(pk_val));
	n->nkids -= count;
	s[si].nkids -= count;
	if (s[si].op >= PK_OP_TUPLE1 && s[si].op <= PK_OP_TUPLE3)
		/* a short tuple's opcode says its length */
		s[si].op = s[si].nkids
			       ? (uint8_t)(PK_OP_TUPLE1 + s[si].nkids - 1)
			       : PK_OP_EMPTY_TUPLE;
	if (s[si].nkids == 0 && si > 0)
		pk_node_drop_step(n, si);
	return PK_OK;
}

/* Opcode bytes kept in the arena, with the STOP that says "no PUT". */
static int arena_op(pk_doc *doc, const void *op, size_t n, pk_val *out)
{
	uint8_t *mem = pk_arena_alloc(doc->arena, n + 1);

	if (!mem)
		return PK_E_NOMEM;
	memcpy(mem, op, n);
	mem[n] = PK_OP_STOP;
	*out = pk_val_of_bytes(mem);
	return PK_OK;
}

static pk_node *new_node(pk_doc *doc, int kind)
{
	pk_node *n = pk_arena_alloc(doc->arena, sizeof(*n));

	if (n) {
		memset(n, 0, sizeof(*n));
		n->kind = (uint8_t)kind;
	}
	return n;
}

int pk_val_new_call(pk_doc *doc, const char *module, const char *name,
		    const pk_val *args, uint32_t nargs, pk_val *out, pk_err *e)
{
	static const uint8_t short_tuple[] = {PK_OP_EMPTY_TUPLE, PK_OP_TUPLE1,
					      PK_OP_TUPLE2, PK_OP_TUPLE3};
	int proto = pk_doc_protocol(doc);
	pk_val global, tuple;
	pk_node *g, *t, *call;
	pk_buf txt = PK_BUF_INIT;
	int marked = proto < 2 || nargs > 3;

	if (proto < 3 && strcmp(module, "builtins") == 0)
		module = "__builtin__";
	if (proto >= 4) {
		pk_val names[2] = {{0}, {0}};
		g = new_node(doc, PK_GLOBAL);
		if (!g ||
		    pk_val_set_text(doc, &names[0], PK_STR,
				    (const uint8_t *)module, strlen(module),
				    e) ||
		    pk_val_set_text(doc, &names[1], PK_STR,
				    (const uint8_t *)name, strlen(name), e) ||
		    pk_node_add_step(doc->arena, g, PK_OP_STACK_GLOBAL, 0,
				     names, 2))
			goto nomem;
		global = pk_val_of_node(g);
	} else if (pk_buf_addf(&txt, "c%s\n%s\n", module, name) ||
		   arena_op(doc, txt.data, txt.len, &global)) {
		goto nomem;
	}
	pk_buf_release(&txt);
	t = new_node(doc, PK_TUPLE);
	call = new_node(doc, PK_OBJECT);
	if (!t || !call ||
	    pk_node_add_step(doc->arena, t,
			     marked ? PK_OP_TUPLE : short_tuple[nargs], marked,
			     args, nargs))
		goto nomem;
	tuple = pk_val_of_node(t);
	{
		pk_val kids[2] = {global, tuple};
		if (pk_node_add_step(doc->arena, call, PK_OP_REDUCE, 0, kids,
				     2))
			goto nomem;
	}
	*out = pk_val_of_node(call);
	return PK_OK;
nomem:
	pk_buf_release(&txt);
	return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
}

int pk_val_new_complex(pk_doc *doc, double re, double im, pk_val *out,
		       pk_err *e)
{
	pk_val parts[2];
	pk_buf num = PK_BUF_INIT;
	double v[2] = {re, im};
	int i, rc = PK_OK;

	for (i = 0; i < 2 && rc == PK_OK; i++) {
		parts[i].bits = 0;
		pk_buf_reset(&num);
		if (pk_float_repr(v[i], &num))
			rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		else
			rc = pk_val_set_text(doc, &parts[i], PK_FLOAT, num.data,
					     num.len, e);
	}
	pk_buf_release(&num);
	return rc ? rc
		  : pk_val_new_call(doc, "builtins", "complex", parts, 2, out,
				    e);
}

int pk_val_new_latin1_bytes(pk_doc *doc, const uint8_t *data, size_t n,
			    pk_val *out, pk_err *e)
{
	pk_val parts[2] = {{0}, {0}};
	pk_buf u = PK_BUF_INIT;
	int rc;

	/* the bytes as the str of code points 0-255, in UTF-8 */
	if (pk_latin1_to_utf8(data, n, &u) < 0) {
		pk_buf_release(&u);
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	}
	rc = pk_val_set_text(doc, &parts[0], PK_STR,
			     u.data ? u.data : (const uint8_t *)"", u.len, e);
	pk_buf_release(&u);
	if (!rc)
		rc = pk_val_set_text(doc, &parts[1], PK_STR,
				     (const uint8_t *)"latin1", 6, e);
	return rc ? rc
		  : pk_val_new_call(doc, "_codecs", "encode", parts, 2, out, e);
}
