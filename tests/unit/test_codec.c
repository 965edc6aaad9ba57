/*
 * Unit tests of the decoder and encoder (codec/pickle.h): round trips,
 * edits that must equal what CPython writes for the edited value, deep
 * nesting, truncation and hostile lengths. The byte strings below were
 * written by CPython 3.11's pickle.dumps (scripts would regenerate them:
 * they are what `pickle.dumps(value, protocol)` prints).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opcodes.h"
#include "pickle.h"

static const uint8_t alumnos4[] = {128,4,149,36,0,0,0,0,0,0,0,125,148,40,140,4,74,111,115,101,148,75,7,140,7,65,114,110,111,108,100,111,148,75,8,140,5,77,97,114,105,97,148,75,10,117,46};
static const uint8_t alumnos4_edit[] = {128,4,149,36,0,0,0,0,0,0,0,125,148,40,140,4,74,111,115,101,148,75,9,140,7,65,114,110,111,108,100,111,148,75,8,140,5,77,97,114,105,97,148,75,10,117,46};
static const uint8_t alumnos0[] = {40,100,112,48,10,86,74,111,115,101,10,112,49,10,73,55,10,115,86,65,114,110,111,108,100,111,10,112,50,10,73,56,10,115,46};
static const uint8_t alumnos0_edit[] = {40,100,112,48,10,86,74,111,115,101,10,112,49,10,76,49,50,51,52,53,54,55,56,57,48,49,50,51,76,10,115,86,65,114,110,111,108,100,111,10,112,50,10,73,56,10,115,46};
static const uint8_t alumnos2[] = {128,2,125,113,0,40,88,4,0,0,0,74,111,115,101,113,1,75,7,88,7,0,0,0,65,114,110,111,108,100,111,113,2,75,8,117,46};
static const uint8_t alumnos2_edit[] = {128,2,125,113,0,40,88,4,0,0,0,74,111,115,101,113,1,138,9,0,0,0,0,0,0,0,0,192,88,7,0,0,0,65,114,110,111,108,100,111,113,2,75,8,117,46};
static const uint8_t floats5[] = {128,5,149,32,0,0,0,0,0,0,0,93,148,40,71,63,185,153,153,153,153,153,154,71,84,178,73,173,37,148,195,125,71,128,0,0,0,0,0,0,0,101,46};
static const uint8_t floats5_edit[] = {128,5,149,32,0,0,0,0,0,0,0,93,148,40,71,63,185,153,153,153,153,153,154,71,64,4,0,0,0,0,0,0,71,128,0,0,0,0,0,0,0,101,46};

static pk_doc *decode_ok(const uint8_t *p, size_t n)
{
	pk_doc *doc = NULL;
	pk_err e;
	int rc = pk_decode(p, n, 0, &doc, &e);

	cr_assert_eq(rc, PK_OK, "decode failed: %s at %llu", e.msg,
		     (unsigned long long)e.offset);
	return doc;
}

static void assert_encodes_to(pk_doc *doc, const uint8_t *want, size_t n)
{
	pk_buf out = PK_BUF_INIT;
	pk_err e;

	cr_assert_eq(pk_encode_to_buf(doc, &out, &e), PK_OK, "%s", e.msg);
	cr_assert_eq(out.len, n, "encoded %zu bytes, want %zu", out.len, n);
	cr_assert(memcmp(out.data, want, n) == 0, "bytes differ");
	pk_buf_release(&out);
}

static void assert_roundtrip(const uint8_t *p, size_t n)
{
	pk_doc *doc = decode_ok(p, n);

	assert_encodes_to(doc, p, n);
	pk_doc_free(doc);
}

static char *format(pk_doc *doc, pk_val v)
{
	pk_buf b = PK_BUF_INIT;
	pk_err e;

	cr_assert_eq(pk_val_format(doc, v, &b, &e), PK_OK);
	pk_buf_addc(&b, 0);
	return (char *)pk_buf_detach(&b, NULL);
}

Test(codec_roundtrip, cpython_dicts_every_protocol)
{
	assert_roundtrip(alumnos0, sizeof(alumnos0));
	assert_roundtrip(alumnos2, sizeof(alumnos2));
	assert_roundtrip(alumnos4, sizeof(alumnos4));
	assert_roundtrip(floats5, sizeof(floats5));
}

Test(codec_values, dict_keys_and_values_in_order)
{
	pk_doc *doc = decode_ok(alumnos4, sizeof(alumnos4));
	pk_node *d;
	char *s;

	cr_assert_eq(pk_val_kind(doc->root), PK_DICT);
	cr_assert_eq(doc->proto, 4);
	d = pk_val_node(doc->root);
	cr_assert_eq(d->nkids, 6);
	s = format(doc, d->kids[0]);
	cr_assert_str_eq(s, "Jose");
	free(s);
	s = format(doc, d->kids[1]);
	cr_assert_str_eq(s, "7");
	free(s);
	s = format(doc, d->kids[4]);
	cr_assert_str_eq(s, "Maria");
	free(s);
	pk_doc_free(doc);
}

static void assert_edit(const uint8_t *orig, size_t n, uint32_t kid,
			int kind, const char *text, const uint8_t *want,
			size_t wn)
{
	pk_doc *doc = decode_ok(orig, n);
	pk_err e;

	cr_assert_eq(pk_val_set_text(doc, &pk_val_node(doc->root)->kids[kid], kind,
				     (const uint8_t *)text, strlen(text), &e),
		     PK_OK, "%s", e.msg);
	assert_encodes_to(doc, want, wn);
	pk_doc_free(doc);
}

Test(codec_edit, changed_value_is_what_cpython_writes)
{
	assert_edit(alumnos4, sizeof(alumnos4), 1, PK_INT, "9", alumnos4_edit,
		    sizeof(alumnos4_edit));
	assert_edit(alumnos0, sizeof(alumnos0), 1, PK_INT, "1234567890123",
		    alumnos0_edit, sizeof(alumnos0_edit));
	assert_edit(alumnos2, sizeof(alumnos2), 1, PK_INT,
		    "-1180591620717411303424", alumnos2_edit,
		    sizeof(alumnos2_edit));
	assert_edit(floats5, sizeof(floats5), 1, PK_FLOAT, "2.5\n",
		    floats5_edit, sizeof(floats5_edit));
}

Test(codec_edit, bad_literal_is_refused_and_value_kept)
{
	pk_doc *doc = decode_ok(alumnos4, sizeof(alumnos4));
	pk_val before = pk_val_node(doc->root)->kids[1];
	pk_err e;

	cr_assert_eq(pk_val_set_text(doc, &pk_val_node(doc->root)->kids[1], PK_INT,
				     (const uint8_t *)"nine", 4, &e),
		     PK_E_VALUE);
	cr_assert(memcmp(&before, &pk_val_node(doc->root)->kids[1],
			 sizeof(before)) == 0);
	assert_encodes_to(doc, alumnos4, sizeof(alumnos4));
	pk_doc_free(doc);
}

Test(codec_edit, append_and_remove)
{
	pk_doc *doc = decode_ok(floats5, sizeof(floats5));
	pk_node *l = pk_val_node(doc->root);
	pk_val v = {0};
	pk_err e;
	pk_buf out = PK_BUF_INIT;
	pk_doc *again;
	char *s;

	cr_assert_eq(pk_val_set_text(doc, &v, PK_STR, (const uint8_t *)"x", 1,
				     &e),
		     PK_OK);
	cr_assert_eq(pk_node_append(doc, l, PK_OP_APPEND, &v, 1, &e), PK_OK);
	cr_assert_eq(pk_node_remove(doc, l, 0, 1, &e), PK_OK);
	cr_assert_eq(pk_encode_to_buf(doc, &out, &e), PK_OK);
	again = decode_ok(out.data, out.len);
	cr_assert_eq(pk_val_node(again->root)->nkids, 3);
	s = format(again, pk_val_node(again->root)->kids[2]);
	cr_assert_str_eq(s, "x");
	free(s);
	s = format(again, pk_val_node(again->root)->kids[0]);
	cr_assert_str_eq(s, "1e+100");
	free(s);
	pk_doc_free(again);
	pk_doc_free(doc);
	pk_buf_release(&out);
}

/* A list nested a million deep: decoding, encoding and freeing must not
 * use the C stack per level. */
Test(codec_limits, million_deep_nesting)
{
	size_t depth = 1000000, n = 2 + depth + (depth - 1) + 1, i;
	uint8_t *p = malloc(n);
	size_t k = 0;

	p[k++] = PK_OP_PROTO;
	p[k++] = 2;
	for (i = 0; i < depth; i++)
		p[k++] = PK_OP_EMPTY_LIST;
	for (i = 0; i + 1 < depth; i++)
		p[k++] = PK_OP_APPEND;
	p[k++] = PK_OP_STOP;
	cr_assert_eq(k, n);
	assert_roundtrip(p, n);
	free(p);
}

Test(codec_errors, truncation_at_every_offset_is_refused)
{
	size_t cut;

	for (cut = 0; cut < sizeof(alumnos4); cut++) {
		pk_doc *doc = NULL;
		pk_err e;
		int rc = pk_decode(alumnos4, cut, 0, &doc, &e);
		cr_assert_neq(rc, PK_OK, "prefix of %zu bytes accepted", cut);
		cr_assert_null(doc);
		cr_assert_not_null(e.msg);
		cr_assert_leq(e.offset, cut);
	}
}

static void assert_refused(const char *p, size_t n, int code, uint64_t off)
{
	pk_doc *doc = NULL;
	pk_err e;

	cr_assert_eq(pk_decode((const uint8_t *)p, n, 0, &doc, &e), code,
		     "got %s (%s)", pk_code_name(e.code), e.msg);
	cr_assert_eq(e.offset, off, "offset %llu, want %llu",
		     (unsigned long long)e.offset, (unsigned long long)off);
	cr_assert_null(doc);
}

Test(codec_errors, messages_carry_the_offset)
{
	assert_refused("\x80\x04K\x01" "A.", 6, PK_E_OPCODE, 4);
	assert_refused("\x80\x02h\x05.", 5, PK_E_MEMO, 2);
	assert_refused("\x80\x02(K\x01K\x02K\x03u.", 11, PK_E_STACK, 9);
	assert_refused("a.", 2, PK_E_STACK, 0);
	assert_refused("\x80\x06N.", 4, PK_E_PROTO, 0);
	assert_refused("S'abc\n.", 7, PK_E_ARG, 0);
	assert_refused("T\xff\xff\xff\xff.", 6, PK_E_ARG, 0);
	assert_refused("K\x01K\x02", 4, PK_E_TRUNCATED, 4);
	assert_refused("(K\x01t1.", 6, PK_E_STACK, 4);
}

/* Lengths and indices from the input are checked before they size
 * anything: these would ask for terabytes if believed. */
Test(codec_errors, hostile_lengths_allocate_nothing_big)
{
	assert_refused("\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.", 10,
		       PK_E_TRUNCATED, 0);
	assert_refused("\x8a\xff", 2, PK_E_TRUNCATED, 0);
	{
		/* memo index 4 billion: one entry, not a 64 GB array */
		const char p[] = "N\x72\xff\xff\xff\xff\x6a\xff\xff\xff\xff.";
		pk_doc *doc = decode_ok((const uint8_t *)p, sizeof(p) - 1);
		cr_assert_eq(pk_val_kind(doc->root), PK_NONE);
		pk_doc_free(doc);
	}
}

/* Recursive structures as CPython writes them: a list holding a tuple
 * that holds the list (POP + GET), and a tuple that contains itself
 * through a list at protocol 0 (POP * (n + 1)) and 1 (POP_MARK). */
Test(codec_roundtrip, recursive_tuple_pop_forms)
{
	/* l = []; t = (l,); l.append(t); pickle.dumps(t, p) */
	static const char p2[] =
		"\x80\x02]q\x00h\x00\x85q\x01" "a0h\x01.";
	static const char p0[] = "((lp0\n(g0\ntp1\na00g1\n.";
	static const char p1[] = "(]q\x00(h\x00tq\x01" "a1h\x01.";

	assert_roundtrip((const uint8_t *)p2, sizeof(p2) - 1);
	assert_roundtrip((const uint8_t *)p0, sizeof(p0) - 1);
	assert_roundtrip((const uint8_t *)p1, sizeof(p1) - 1);
}

/* Appending one item at a time batches as CPython does (MARK ...
 * APPENDS of at most 1000), and removing items shrinks and drops
 * batches; the result decodes to the same items. */
Test(codec_edit, batches_grow_and_shrink)
{
	static const uint8_t empty[] = {PK_OP_PROTO, 2, PK_OP_EMPTY_LIST,
					PK_OP_STOP};
	pk_doc *doc = decode_ok(empty, sizeof(empty));
	pk_node *l = pk_val_node(doc->root);
	pk_buf out = PK_BUF_INIT;
	pk_doc *again;
	pk_err e;
	uint32_t i;
	char num[16];
	char *s;

	for (i = 0; i < 2500; i++) {
		pk_val v = {0};
		int n = snprintf(num, sizeof(num), "%u", i);
		cr_assert_eq(pk_val_set_text(doc, &v, PK_INT,
					     (const uint8_t *)num, (size_t)n,
					     &e),
			     PK_OK);
		cr_assert_eq(pk_node_append(doc, l, PK_OP_APPEND, &v, 1, &e),
			     PK_OK);
	}
	cr_assert_eq(l->nsteps, 4, "EMPTY_LIST + 3 batches, got %u",
		     l->nsteps);
	for (i = 1; i < l->nsteps; i++)
		cr_assert_leq(pk_node_steps(l)[i].nkids, 1000);
	/* drop the whole second batch, then all but one of the first */
	cr_assert_eq(pk_node_remove(doc, l, 1000, 1000, &e), PK_OK);
	cr_assert_eq(pk_node_remove(doc, l, 1, 999, &e), PK_OK);
	cr_assert_eq(l->nsteps, 3);
	cr_assert_eq(pk_encode_to_buf(doc, &out, &e), PK_OK);
	again = decode_ok(out.data, out.len);
	cr_assert_eq(pk_val_node(again->root)->nkids, 501);
	s = format(again, pk_val_node(again->root)->kids[0]);
	cr_assert_str_eq(s, "0");
	free(s);
	s = format(again, pk_val_node(again->root)->kids[1]);
	cr_assert_str_eq(s, "2000");
	free(s);
	pk_doc_free(again);
	pk_doc_free(doc);
	pk_buf_release(&out);
}

/* CPython memoizes every str: a key renamed and renamed back must keep
 * its MEMOIZE, or the pickle would not be byte-identical again. */
Test(codec_edit, edited_back_is_identical)
{
	pk_doc *doc = decode_ok(alumnos4, sizeof(alumnos4));
	pk_val *key = &pk_val_node(doc->root)->kids[0];
	pk_val *val = &pk_val_node(doc->root)->kids[1];
	pk_err e;

	cr_assert_eq(pk_val_set_text(doc, key, PK_STR,
				     (const uint8_t *)"Josefina", 8, &e),
		     PK_OK);
	cr_assert_eq(pk_val_set_text(doc, val, PK_INT, (const uint8_t *)"10",
				     2, &e),
		     PK_OK);
	cr_assert_eq(pk_val_set_text(doc, key, PK_STR,
				     (const uint8_t *)"Jose", 4, &e),
		     PK_OK);
	cr_assert_eq(pk_val_set_text(doc, val, PK_INT, (const uint8_t *)"7\n",
				     2, &e),
		     PK_OK);
	assert_encodes_to(doc, alumnos4, sizeof(alumnos4));
	pk_doc_free(doc);
}
