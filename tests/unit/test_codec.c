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

#include "arena.h"
#include "memo.h"
#include "opcodes.h"
#include "pickle.h"
#include "unit.h"

static const uint8_t alumnos4[] = {
    128, 4,   149, 36,	0,   0,	 0,  0,	  0,   0,  0,	125, 148, 40,  140, 4,
    74,	 111, 115, 101, 148, 75, 7,  140, 7,   65, 114, 110, 111, 108, 100, 111,
    148, 75,  8,   140, 5,   77, 97, 114, 105, 97, 148, 75,  10,  117, 46};
static const uint8_t alumnos4_edit[] = {
    128, 4,   149, 36,	0,   0,	 0,  0,	  0,   0,  0,	125, 148, 40,  140, 4,
    74,	 111, 115, 101, 148, 75, 9,  140, 7,   65, 114, 110, 111, 108, 100, 111,
    148, 75,  8,   140, 5,   77, 97, 114, 105, 97, 148, 75,  10,  117, 46};
static const uint8_t alumnos0[] = {40,	100, 112, 48,  10,  86,	 74,  111, 115,
				   101, 10,  112, 49,  10,  73,	 55,  10,  115,
				   86,	65,  114, 110, 111, 108, 100, 111, 10,
				   112, 50,  10,  73,  56,  10,	 115, 46};
static const uint8_t alumnos0_edit[] = {
    40, 100, 112, 48,  10,  86,	 74,  111, 115, 101, 10, 112, 49, 10, 76,  49,
    50, 51,  52,  53,  54,  55,	 56,  57,  48,	49,  50, 51,  76, 10, 115, 86,
    65, 114, 110, 111, 108, 100, 111, 10,  112, 50,  10, 73,  56, 10, 115, 46};
static const uint8_t alumnos2[] = {
    128, 2,   125, 113, 0,   40,  88, 4,  0, 0,	  0, 74, 111,
    115, 101, 113, 1,	75,  7,	  88, 7,  0, 0,	  0, 65, 114,
    110, 111, 108, 100, 111, 113, 2,  75, 8, 117, 46};
static const uint8_t alumnos2_edit[] = {
    128, 2,   125, 113, 0,   40,  88,  4,   0,	 0, 0,	74,  111, 115, 101, 113,
    1,	 138, 9,   0,	0,   0,	  0,   0,   0,	 0, 0,	192, 88,  7,   0,   0,
    0,	 65,  114, 110, 111, 108, 100, 111, 113, 2, 75, 8,   117, 46};
static const uint8_t floats5[] = {
    128, 5,   149, 32,	0,   0,	  0,   0,   0,	0,  0,	 93,  148, 40, 71,
    63,	 185, 153, 153, 153, 153, 153, 154, 71, 84, 178, 73,  173, 37, 148,
    195, 125, 71,  128, 0,   0,	  0,   0,   0,	0,  0,	 101, 46};
static const uint8_t floats5_edit[] = {
    128, 5,   149, 32,	0,   0,	  0,   0,   0,	0,  0, 93,  148, 40, 71,
    63,	 185, 153, 153, 153, 153, 153, 154, 71, 64, 4, 0,   0,	 0,  0,
    0,	 0,   71,  128, 0,   0,	  0,   0,   0,	0,  0, 101, 46};

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

static void assert_edit(const uint8_t *orig, size_t n, uint32_t kid, int kind,
			const char *text, const uint8_t *want, size_t wn)
{
	pk_doc *doc = decode_ok(orig, n);
	pk_err e;

	cr_assert_eq(pk_val_set_text(doc, &pk_val_node(doc->root)->kids[kid],
				     kind, (const uint8_t *)text, strlen(text),
				     &e),
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

	cr_assert_eq(pk_val_set_text(doc, &pk_val_node(doc->root)->kids[1],
				     PK_INT, (const uint8_t *)"nine", 4, &e),
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

	cr_assert_eq(
	    pk_val_set_text(doc, &v, PK_STR, (const uint8_t *)"x", 1, &e),
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
	assert_refused("\x80\x04K\x01"
		       "A.",
		       6, PK_E_OPCODE, 4);
	assert_refused("\x80\x02h\x05.", 5, PK_E_MEMO, 2);
	assert_refused("\x80\x02(K\x01K\x02K\x03u.", 11, PK_E_STACK, 9);
	assert_refused("a.", 2, PK_E_STACK, 0);
	assert_refused("\x80\x06N.", 4, PK_E_PROTO, 0);
	assert_refused("S'abc\n.", 7, PK_E_ARG, 0);
	assert_refused("T\xff\xff\xff\xff.", 6, PK_E_ARG, 0);
	assert_refused("K\x01K\x02", 4, PK_E_TRUNCATED, 4);
	assert_refused("(K\x01t1.", 6, PK_E_STACK, 4);
}

/* The peak size of this process's address space (VmPeak), in kB. */
static uint64_t vm_peak_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kb = 0;

	cr_assert(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPeak: %llu kB", &kb) == 1)
			break;
	fclose(f);
	cr_assert_gt(kb, 0);
	return kb;
}

/* Lengths and indices from the input are checked before they size
 * anything: these would ask for terabytes if believed. */
Test(codec_errors, hostile_lengths_allocate_nothing_big)
{
	assert_refused("\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.", 10,
		       PK_E_TRUNCATED, 0);
	assert_refused("\x8a\xff", 2, PK_E_TRUNCATED, 0);
	{
		/* memo index 4 billion: one entry, not a 32 GB array. The
		 * decode's peak address space grows by far less than that
		 * (the memo is an anonymous mapping: an array sized by the
		 * index would show there even if never touched), and the doc
		 * holds no more than a small pickle's */
		const char p[] = "N\x72\xff\xff\xff\xff\x6a\xff\xff\xff\xff.";
		uint64_t before = vm_peak_kb(), after;
		pk_doc *doc = decode_ok((const uint8_t *)p, sizeof(p) - 1);

		after = vm_peak_kb();
		cr_assert_eq(pk_val_kind(doc->root), PK_NONE);
		cr_assert_lt(after - before, 1024 * 1024,
			     "VmPeak grew by %llu kB",
			     (unsigned long long)(after - before));
		cr_assert_lt(pk_doc_bytes(doc), 1 << 20, "doc holds %zu bytes",
			     pk_doc_bytes(doc));
		pk_doc_free(doc);
	}
	{
		/* the memo itself: the far index goes to the hash table */
		pk_memo m;
		pk_memo_ent *ent;

		pk_memo_init(&m);
		ent = pk_memo_put(&m, 0xffffffffu);
		cr_assert_not_null(ent);
		ent->val = 8;
		cr_assert_eq(m.count, 1);
		cr_assert_leq(m.dense_cap, 1u << 20,
			      "dense part of %zu entries", m.dense_cap);
		cr_assert_leq(m.hash_cap, 1024);
		cr_assert_eq(m.hash_used, 1);
		cr_assert_eq(pk_memo_get(&m, 0xffffffffu), ent);
		cr_assert_null(pk_memo_get(&m, 0xfffffffeu));
		pk_memo_release(&m);
	}
}

/* Recursive structures as CPython writes them: a list holding a tuple
 * that holds the list (POP + GET), and a tuple that contains itself
 * through a list at protocol 0 (POP * (n + 1)) and 1 (POP_MARK). */
Test(codec_roundtrip, recursive_tuple_pop_forms)
{
	/* l = []; t = (l,); l.append(t); pickle.dumps(t, p) */
	static const char p2[] = "\x80\x02]q\x00h\x00\x85q\x01"
				 "a0h\x01.";
	static const char p0[] = "((lp0\n(g0\ntp1\na00g1\n.";
	static const char p1[] = "(]q\x00(h\x00tq\x01"
				 "a1h\x01.";

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
	cr_assert_eq(l->nsteps, 4, "EMPTY_LIST + 3 batches, got %u", l->nsteps);
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
	cr_assert_eq(
	    pk_val_set_text(doc, val, PK_INT, (const uint8_t *)"10", 2, &e),
	    PK_OK);
	cr_assert_eq(
	    pk_val_set_text(doc, key, PK_STR, (const uint8_t *)"Jose", 4, &e),
	    PK_OK);
	cr_assert_eq(
	    pk_val_set_text(doc, val, PK_INT, (const uint8_t *)"7\n", 2, &e),
	    PK_OK);
	assert_encodes_to(doc, alumnos4, sizeof(alumnos4));
	pk_doc_free(doc);
}

/* What CPython 3.11 writes for pickle.dumps(l, 2) with
 * l = ['s000000', ..., 's%06d' % (n - 2)] + [l[5]]: n items, APPENDS in
 * batches of 1000 (n a multiple of 1000), one memo entry per str. */
static uint8_t *strings_list2(size_t n, size_t *len)
{
	uint8_t *p = malloc(n * 18 + 16), *q = p;
	size_t i;

	*q++ = PK_OP_PROTO;
	*q++ = 2;
	*q++ = PK_OP_EMPTY_LIST;
	*q++ = PK_OP_BINPUT;
	*q++ = 0;
	for (i = 0; i < n; i++) {
		uint32_t idx = (uint32_t)i + 1;
		if (i % 1000 == 0)
			*q++ = PK_OP_MARK;
		if (i == n - 1) {
			*q++ = PK_OP_BINGET;
			*q++ = 6; /* l[5], memoized sixth after the list */
		} else {
			*q++ = PK_OP_BINUNICODE;
			*q++ = 7;
			*q++ = 0;
			*q++ = 0;
			*q++ = 0;
			q += sprintf((char *)q, "s%06zu", i);
			if (idx < 256) {
				*q++ = PK_OP_BINPUT;
				*q++ = (uint8_t)idx;
			} else {
				*q++ = PK_OP_LONG_BINPUT;
				memcpy(q, &idx, 4); /* little-endian hosts */
				q += 4;
			}
		}
		if (i % 1000 == 999)
			*q++ = PK_OP_APPENDS;
	}
	*q++ = PK_OP_STOP;
	*len = (size_t)(q - p);
	return p;
}

/* 300000 memo entries: the memo grows past the size at which a helper
 * thread faults its pages in while the decoder fills them. */
Test(codec_limits, big_memo_grown_while_decoding)
{
	size_t n = 300000, len;
	uint8_t *p = strings_list2(n, &len);
	pk_doc *doc = decode_ok(p, len);
	pk_node *l = pk_val_node(doc->root);
	char *s;

	cr_assert_eq(l->nkids, n);
	cr_assert(pk_val_same(l->kids[n - 1], l->kids[5]), "GET is the same");
	s = format(doc, l->kids[n - 2]);
	cr_assert_str_eq(s, "s299998");
	free(s);
	assert_encodes_to(doc, p, len);
	pk_doc_free(doc);
	free(p);
}

/* With the helper on, chunks come prepared from another thread: every
 * allocation is usable, distinct and kept until the arena goes. */
Test(codec_arena, chunks_prepared_ahead_hold_what_was_written)
{
	pk_arena *a = pk_arena_new();
	size_t n = 200000, i, total = 0;
	uint32_t **blocks = malloc(n * sizeof(*blocks));

	cr_assert(a && blocks);
	pk_arena_ahead(a, 1);
	for (i = 0; i < n; i++) {
		/* mostly node-sized, now and then a big kids array */
		size_t words = i % 5000 == 0 ? 300000 : 2 + i % 40;
		blocks[i] = pk_arena_alloc(a, words * 4);
		cr_assert(blocks[i] != NULL);
		cr_assert_eq((uintptr_t)blocks[i] % 8, 0);
		blocks[i][0] = (uint32_t)i;
		blocks[i][words - 1] = (uint32_t)words;
		total += words * 4;
	}
	pk_arena_ahead(a, 0);
	for (i = 0; i < n; i++) {
		size_t words = i % 5000 == 0 ? 300000 : 2 + i % 40;
		cr_assert_eq(blocks[i][0], i);
		cr_assert_eq(blocks[i][words - 1], words);
	}
	cr_assert_geq(pk_arena_used(a), total);
	pk_arena_free(a);
	free(blocks);
}

/* Node values carry a container tag (pickle.h): set for list, tuple,
 * dict, set, frozenset, clear for objects, and never part of the
 * pointer. */
Test(codec_values, container_tag_matches_the_kind)
{
	/* [[1], (1, 2), {'a': 1}, {1}, frozenset([2]), 1-2j, b'x'];
	 * protocol 4 (complex is REDUCE: an object) */
	static const uint8_t mixed4[] = {
	    128, 4,   149, 85,	0,   0,	  0,   0,   0,	 0,   0,   93,
	    148, 40,  93,  148, 75,  1,	  97,  75,  1,	 75,  2,   134,
	    148, 125, 148, 140, 1,   97,  148, 75,  1,	 115, 143, 148,
	    40,	 75,  1,   144, 40,  75,  2,   145, 148, 140, 8,   98,
	    117, 105, 108, 116, 105, 110, 115, 148, 140, 7,   99,  111,
	    109, 112, 108, 101, 120, 148, 147, 148, 71,	 63,  240, 0,
	    0,	 0,   0,   0,	0,   71,  192, 0,   0,	 0,   0,   0,
	    0,	 0,   134, 148, 82,  148, 67,  1,   120, 148, 101, 46};
	static const int kinds[] = {PK_LIST,	  PK_TUPLE,  PK_DICT, PK_SET,
				    PK_FROZENSET, PK_OBJECT, PK_BYTES};
	pk_doc *doc = decode_ok(mixed4, sizeof(mixed4));
	pk_node *top = pk_val_node(doc->root);
	uint32_t i;

	cr_assert(pk_val_is_container(doc->root));
	cr_assert_eq(top->nkids, 7);
	for (i = 0; i < top->nkids; i++) {
		pk_val v = top->kids[i];
		int k = pk_val_kind(v);
		cr_assert_eq(k, kinds[i], "kid %u: kind %d", i, k);
		cr_assert_eq(pk_val_is_container(v),
			     k >= PK_LIST && k <= PK_FROZENSET, "kid %u", i);
		if (pk_val_is_node(v)) {
			cr_assert_eq((uintptr_t)pk_val_node(v) % 8, 0);
			cr_assert(
			    pk_val_same(pk_val_of_node(pk_val_node(v)), v));
		}
	}
	assert_encodes_to(doc, mixed4, sizeof(mixed4));
	pk_doc_free(doc);
}

/* Growing keeps the contents; outside a burst the old block stays as it
 * was (edits may hold pointers into it), inside one a big block grows
 * where it is mapped. */
Test(codec_arena, grow_keeps_contents)
{
	pk_arena *a = pk_arena_new();
	size_t n = 1000, i;
	uint64_t *p = pk_arena_grow(a, NULL, 0, n * 8), *old;

	cr_assert(p != NULL);
	for (i = 0; i < n; i++)
		p[i] = i * 3;
	pk_arena_ahead(a, 1);
	for (; n < 4000000; n *= 2) { /* to 32 MB, through mremap */
		p = pk_arena_grow(a, p, n * 8, 2 * n * 8);
		cr_assert(p != NULL);
		for (i = n; i < 2 * n; i++)
			p[i] = i * 3;
	}
	pk_arena_ahead(a, 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(p[i], i * 3, "at %zu", i);
	old = p;
	p = pk_arena_grow(a, old, n * 8, 2 * n * 8);
	cr_assert(p != NULL && p != old);
	old[0] = 7; /* still mapped, and no longer p's */
	cr_assert_eq(p[0], 0);
	cr_assert_eq(p[n - 1], (n - 1) * 3);
	pk_arena_free(a);
}

/* PROTO 4, n copies of op, STOP */
static uint8_t *repeated(uint8_t op, size_t n, size_t *len)
{
	uint8_t *p = malloc(n + 3);

	cr_assert(p);
	p[0] = 0x80;
	p[1] = 4;
	memset(p + 2, op, n);
	p[n + 2] = '.';
	*len = n + 3;
	return p;
}

Test(codec_limits, max_tree_bounds_what_hostile_opcodes_build)
{
	size_t len;
	/* 5M EMPTY_LISTs: 5 MB of pickle, 200+ MB of nodes and stack */
	uint8_t *p = repeated(']', 5000000, &len);
	pk_decode_opts o = {0, 8u << 20, NULL, NULL, NULL, NULL};
	pk_doc *doc = NULL;
	pk_err e;

	cr_assert_eq(pk_decode_with(p, len, &o, &doc, &e), PK_E_LIMIT);
	cr_assert_null(doc);
	cr_assert_str_eq(e.msg, "the decoded tree passes its memory limit");
	/* the opcode that asked: well inside the input, not at its end */
	cr_assert_gt(e.offset, 2);
	cr_assert_lt(e.offset, len / 2, "offset %llu",
		     (unsigned long long)e.offset);
	/* the same pickle without a limit decodes (STOP takes the top) */
	o.max_tree = 0;
	cr_assert_eq(pk_decode_with(p, len, &o, &doc, &e), PK_OK);
	cr_assert_gt(pk_doc_bytes(doc), 8u << 20);
	pk_doc_free(doc);
	free(p);
}

Test(codec_limits, max_tree_counts_the_stack)
{
	size_t len;
	/* 5M Nones: no node at all, 40 MB of stack */
	uint8_t *p = repeated('N', 5000000, &len);
	pk_decode_opts o = {0, 4u << 20, NULL, NULL, NULL, NULL};
	pk_doc *doc = NULL;
	pk_err e;

	cr_assert_eq(pk_decode_with(p, len, &o, &doc, &e), PK_E_LIMIT);
	cr_assert_lt(e.offset, len / 2);
	free(p);
}

Test(codec_limits, max_tree_leaves_a_normal_pickle_alone)
{
	pk_decode_opts o = {0, 1u << 20, NULL, NULL, NULL, NULL};
	pk_doc *doc = NULL;

	cr_assert_eq(
	    pk_decode_with(ut_alumnos4, sizeof(ut_alumnos4), &o, &doc, NULL),
	    PK_OK);
	pk_doc_free(doc);
}

/* [l, t] with l = [l], t = ((m,),), m = [t], written with the memo
 * index 3 PUT twice (first the inner tuple, then t) and t fetched by
 * GET 3 after a POP: CPython loads t. The decoder took the POP + GET
 * for CPython's recursive-tuple idiom and kept the indices, and the
 * encoder wrote the value back as ([...],): a PUT of an index already
 * used must make the doc irregular, so the encoder numbers the memo
 * itself (found by tests/fuzz/fuzz_edit.c). */
Test(codec_roundtrip, memo_index_put_twice)
{
	static const uint8_t p[] = {
	    128, 2, 93,	 113, 0, 40,  93,  113, 1,  104, 1,   97, 93,  113, 2,
	    104, 2, 133, 113, 3, 133, 113, 3,	97, 48,	 104, 3,  101, 46};
	pk_doc *doc = decode_ok(p, sizeof(p)), *again;
	pk_buf out = PK_BUF_INIT;
	pk_err e;
	pk_node *t;

	cr_assert(doc->irregular);
	cr_assert_eq(pk_encode_to_buf(doc, &out, &e), PK_OK);
	again = decode_ok(out.data, out.len);
	t = pk_val_node(pk_val_node(again->root)->kids[1]);
	cr_assert_eq(t->kind, PK_TUPLE);
	cr_assert_eq(pk_val_kind(t->kids[0]), PK_TUPLE);
	cr_assert_eq(pk_val_kind(pk_val_node(t->kids[0])->kids[0]), PK_LIST);
	pk_doc_free(again);
	pk_doc_free(doc);
	pk_buf_release(&out);
}
