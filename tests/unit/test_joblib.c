/*
 * Unit tests of joblib files and of files of several pickles
 * (codec/pickle.h): a hand-made joblib-style stream (round trip, an edit
 * of the inline bytes, the padding recomputed when the array moves,
 * truncated data and hostile shapes refused with the offset), files made
 * at test time by /usr/bin/python3 (joblib.dump of arrays of every kind
 * at protocols 0 to 5, scikit-learn models; repeated pickle.dump at
 * protocols 0 to 5) re-encoded byte for byte, and the edits of several
 * pickles.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"
#include "opcodes.h"
#include "pickle.h"
#include "unit.h"

#define PY "/usr/bin/python3"

static void add(pk_buf *b, const void *p, size_t n)
{
	cr_assert_eq(pk_buf_add(b, p, n), 0);
}
static void adds(pk_buf *b, const char *s)
{
	add(b, s, strlen(s));
}
static void add_str(pk_buf *b, const char *s)
{
	uint8_t h[2] = {PK_OP_SHORT_BINUNICODE, (uint8_t)strlen(s)};
	add(b, h, 2);
	adds(b, s);
}

/* A joblib-style protocol 4 stream (no frames): {'name': NAME, 'a': wrapper of
 * an
 * '<f8' array of `n` items 0.5, 1.5, ...} with the padding joblib writes
 * (data aligned to 16). *data_at: offset of the array's bytes. */
static void make_stream(pk_buf *b, const char *name, uint8_t n, size_t *data_at)
{
	uint8_t pad, i;

	pk_buf_init(b);
	adds(b, "\x80\x04}(");
	add_str(b, "name");
	add_str(b, name);
	add_str(b, "a");
	adds(b, "cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}(");
	add_str(b, "shape");
	add(b, "K", 1);
	add(b, &n, 1);
	adds(b, "\x85");
	add_str(b, "order");
	add_str(b, "C");
	add_str(b, "dtype");
	adds(b, "cnumpy\ndtype\n");
	add_str(b, "f8");
	adds(b, "\x89\x88\x87R(K\x03");
	add_str(b, "<");
	adds(b, "NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK");
	add(b, "\x00tb", 3);
	add_str(b, "numpy_array_alignment_bytes");
	adds(b, "K\x10ub");
	pad = (uint8_t)(16 - (b->len + 1) % 16);
	add(b, &pad, 1);
	for (i = 0; i < pad; i++)
		add(b, "\xff", 1);
	*data_at = b->len;
	for (i = 0; i < n; i++) {
		double d = i + 0.5;
		add(b, &d, 8);
	}
	adds(b, "u.");
}

static pk_doc *decode_ok(const uint8_t *p, size_t n)
{
	pk_doc *doc = NULL;
	pk_err e;

	cr_assert_eq(pk_decode(p, n, 0, &doc, &e), PK_OK, "%s at %llu", e.msg,
		     (unsigned long long)e.offset);
	return doc;
}

static void assert_same(pk_doc *doc, const uint8_t *p, size_t n)
{
	pk_buf out = PK_BUF_INIT;
	pk_err e;

	cr_assert_eq(pk_encode_to_buf(doc, &out, &e), PK_OK, "%s", e.msg);
	cr_assert_eq(out.len, n, "encoded %zu bytes, want %zu", out.len, n);
	cr_assert(memcmp(out.data, p, n) == 0, "bytes differ");
	pk_buf_release(&out);
}

/* The slot of the value of str key `key` in dict node d. */
static pk_val *dict_slot(pk_val d, const char *key)
{
	pk_node *n = pk_val_node(d);
	uint32_t i;

	for (i = 0; i + 1 < n->nkids; i += 2) {
		const uint8_t *p;
		uint64_t len;
		if (pk_val_payload(n->kids[i], &p, &len) == PK_OK &&
		    len == strlen(key) && memcmp(p, key, len) == 0)
			return &n->kids[i + 1];
	}
	cr_assert_fail("no key %s", key);
	return NULL;
}

/* The PK_RAW slot of the wrapper at slot w. */
static pk_val *raw_slot(pk_val w)
{
	pk_node *n;

	cr_assert(pk_val_is_node(w));
	n = pk_val_node(w);
	cr_assert_eq(pk_node_steps(n)[n->nsteps - 1].op, PK_STEP_INLINE);
	cr_assert_eq(pk_val_kind(n->kids[n->nkids - 1]), PK_RAW);
	return &n->kids[n->nkids - 1];
}

Test(joblib, handmade_stream_round_trips)
{
	pk_buf b;
	size_t at;
	pk_doc *doc;
	const uint8_t *p;
	uint64_t len;

	make_stream(&b, "x", 3, &at);
	doc = decode_ok(b.data, b.len);
	cr_assert_eq(doc->end, b.len);
	cr_assert_eq(
	    pk_val_payload(*raw_slot(*dict_slot(doc->root, "a")), &p, &len),
	    PK_OK);
	cr_assert_eq(p, b.data + at, "zero-copy: the data is in the input");
	cr_assert_eq(len, 24);
	assert_same(doc, b.data, b.len);
	pk_doc_free(doc);
	pk_buf_release(&b);
}

Test(joblib, edit_of_inline_bytes)
{
	pk_buf b, want;
	size_t at, at2;
	pk_doc *doc;
	double d[3] = {0.5, 42.0, 2.5};
	pk_err e;

	make_stream(&b, "x", 3, &at);
	make_stream(&want, "x", 3, &at2);
	memcpy(want.data + at2 + 8, &d[1], 8);
	doc = decode_ok(b.data, b.len);
	cr_assert_eq(pk_val_set_text(doc, raw_slot(*dict_slot(doc->root, "a")),
				     PK_RAW, (const uint8_t *)d, 24, &e),
		     PK_OK, "%s", e.msg);
	assert_same(doc, want.data, want.len);
	/* the length is the shape's */
	cr_assert_eq(pk_val_set_text(doc, raw_slot(*dict_slot(doc->root, "a")),
				     PK_RAW, (const uint8_t *)d, 16, &e),
		     PK_E_VALUE);
	pk_doc_free(doc);
	pk_buf_release(&b);
	pk_buf_release(&want);
}

/* An edit before the array moves it: the padding is what joblib would
 * write at the new place (the stream made with the longer name). */
Test(joblib, moved_array_is_realigned)
{
	static const char *names[] = {"xyz", "a longer name", "",
				      "0123456789abcdef0"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pk_buf b, want;
		size_t at, at2;
		pk_doc *doc;
		pk_err e;
		make_stream(&b, "x", 4, &at);
		make_stream(&want, names[i], 4, &at2);
		cr_assert_eq(at2 % 16, 0);
		doc = decode_ok(b.data, b.len);
		cr_assert_eq(pk_val_set_text(doc, dict_slot(doc->root, "name"),
					     PK_STR, (const uint8_t *)names[i],
					     strlen(names[i]), &e),
			     PK_OK);
		assert_same(doc, want.data, want.len);
		pk_doc_free(doc);
		pk_buf_release(&b);
		pk_buf_release(&want);
	}
}

Test(joblib, truncated_data_is_an_error_at_its_offset)
{
	pk_buf b;
	size_t at, cut;
	pk_doc *doc = NULL;
	pk_err e;

	make_stream(&b, "x", 3, &at);
	for (cut = at; cut < at + 24; cut += 7) {
		cr_assert_eq(pk_decode(b.data, cut, 0, &doc, &e),
			     PK_E_TRUNCATED);
		cr_assert_null(doc);
		cr_assert_eq(e.offset, at, "offset %llu, want %zu",
			     (unsigned long long)e.offset, at);
		cr_assert(strstr(e.msg, "joblib"), "%s", e.msg);
	}
	/* cut inside the padding */
	cr_assert_eq(pk_decode(b.data, at - 2, 0, &doc, &e), PK_E_TRUNCATED);
	cr_assert_lt(e.offset, at);
	pk_buf_release(&b);
}

Test(joblib, hostile_shape_is_refused)
{
	pk_buf b;
	size_t at, i;
	pk_doc *doc = NULL;
	pk_err e;

	/* shape (255,) over 3 items of data: more than the bytes left */
	make_stream(&b, "x", 3, &at);
	for (i = 0; i + 1 < b.len; i++)
		if (memcmp(b.data + i, "K\x03\x85", 3) == 0)
			b.data[i + 1] = 0xff;
	cr_assert_eq(pk_decode(b.data, b.len, 0, &doc, &e), PK_E_TRUNCATED);
	cr_assert_null(doc);
	pk_buf_release(&b);
}

/* ---- files made by /usr/bin/python3 ------------------------------------ */

static void py(const char *script)
{
	char cmd[8192];
	int st;

	snprintf(cmd, sizeof(cmd), "cd '%s' && " PY " - <<'EOF'\n%s\nEOF\n",
		 ut_dir, script);
	st = system(cmd);
	cr_assert_eq(st, 0, "python failed: %s", script);
}

static void assert_file_round_trips(const char *name, int tail)
{
	size_t n;
	uint8_t *p = ut_slurp(name, &n);
	pk_doc *doc = NULL;
	pk_err e;
	pk_buf out = PK_BUF_INIT;

	cr_assert_eq(pk_decode(p, n, 0, &doc, &e), PK_OK, "%s: %s at %llu",
		     name, e.msg, (unsigned long long)e.offset);
	cr_assert_eq(tail || doc->end == n || doc->nparts > 0, 1,
		     "%s: stopped at %zu of %zu", name, doc->end, n);
	cr_assert_eq(pk_encode_to_buf(doc, &out, &e), PK_OK, "%s", e.msg);
	cr_assert_eq(out.len, n, "%s: %zu bytes, want %zu", name, out.len, n);
	cr_assert(memcmp(out.data, p, n) == 0, "%s: bytes differ", name);
	pk_buf_release(&out);
	pk_doc_free(doc);
	free(p);
}

Test(joblib, real_files_round_trip, .init = ut_make_dir, .fini = ut_remove_dir)
{
	static const char *names[] = {
	    "p0.joblib",  "p1.joblib",	    "p2.joblib",   "p3.joblib",
	    "p4.joblib",  "p5.joblib",	    "lr.joblib",   "scaler.joblib",
	    "big.joblib", "noalign.joblib", "twice.joblib"};
	size_t i;

	py("import joblib, numpy as np\n"
	   "from sklearn.linear_model import LogisticRegression\n"
	   "from sklearn.preprocessing import StandardScaler\n"
	   "r = np.random.RandomState(0)\n"
	   "X = r.randn(30, 3); y = (X[:, 0] > 0).astype(int)\n"
	   "d = {'f8': np.arange(12.).reshape(3, 4),\n"
	   "     'F': np.asfortranarray(np.arange(12.).reshape(3, 4)),\n"
	   "     'i4': np.arange(7, dtype='i4'), 'b': np.array([True, "
	   "False]),\n"
	   "     'u1': np.arange(48, dtype='u1').reshape(4, 4, 3),\n"
	   "     'U': np.array(['ab', 'cde', '']),\n"
	   "     'o': np.array([1, 'x', None], dtype=object),\n"
	   "     'z': np.array(3.5), 'e': np.zeros((0, 3)),\n"
	   "     'be': np.arange(4, dtype='>i8'), 's': 'str', 'n': 42,\n"
	   "     'st': np.zeros(2, dtype=[('a', '<i4'), ('b', '<f8')])}\n"
	   "for p in (0, 1, 2, 3, 4, 5):\n"
	   "    joblib.dump(d, 'p%d.joblib' % p, protocol=p)\n"
	   "joblib.dump(LogisticRegression().fit(X, y), 'lr.joblib')\n"
	   "joblib.dump(StandardScaler().fit(X), 'scaler.joblib')\n"
	   "joblib.dump({'big': np.arange(200000.), 'k': [1] * 30000},\n"
	   "            'big.joblib')\n"
	   "import io\n"
	   "class W(io.RawIOBase):\n" /* no tell(): no alignment */
	   "    def __init__(s): s.b = bytearray()\n"
	   "    def writable(s): return True\n"
	   "    def write(s, d): s.b += d; return len(d)\n"
	   "    def tell(s): raise io.UnsupportedOperation\n"
	   "w = W()\n"
	   "joblib.dump(d, w)\n"
	   "open('noalign.joblib', 'wb').write(bytes(w.b))\n"
	   "with open('twice.joblib', 'wb') as f:\n" /* two joblib pickles */
	   "    joblib.dump(d, f)\n"
	   "    joblib.dump([np.arange(3.)], f)\n");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_file_round_trips(names[i], 0);
}

/* ---- several pickles in one file --------------------------------------- */

Test(multi, parts_of_every_protocol_round_trip, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	size_t n;
	uint8_t *p;
	pk_doc *doc;
	pk_node *root;

	py("import pickle\n"
	   "vals = [{'a': 1}, [1, 2, 'x'], 'str', {'k': {'z': 2.5}}, (1, 2),\n"
	   "        None]\n"
	   "with open('six.pkl', 'wb') as f:\n"
	   "    for p, v in enumerate(vals):\n"
	   "        pickle.dump(v, f, protocol=p)\n"
	   "with open('two.pkl', 'wb') as f:\n"
	   "    pickle.dump({'big': list(range(40000))}, f, protocol=4)\n"
	   "    pickle.dump({'s': 'x' * 70000, 'l': [b'y' * 80000]}, f,\n"
	   "                protocol=5)\n"
	   "with open('three.pkl', 'wb') as f:\n"
	   "    for p in (5, 2, 4):\n"
	   "        pickle.dump({'p': p, 'l': list(range(p))}, f, protocol=p)\n"
	   "with open('tail.pkl', 'wb') as f:\n"
	   "    pickle.dump([1, 2], f, protocol=4)\n"
	   "    f.write(b'not a pickle')\n");
	assert_file_round_trips("six.pkl", 0);
	assert_file_round_trips("two.pkl", 0);
	assert_file_round_trips("three.pkl", 0);
	assert_file_round_trips("tail.pkl", 1);

	p = ut_slurp("six.pkl", &n);
	doc = decode_ok(p, n);
	cr_assert_eq(doc->nparts, 5);
	cr_assert(pk_val_is_node(doc->root));
	root = pk_val_node(doc->root);
	cr_assert(root->flags & PK_NODE_PARTS);
	cr_assert_eq(root->nkids, 6);
	cr_assert_eq(pk_val_kind(root->kids[2]), PK_STR);
	cr_assert_eq(pk_val_kind(root->kids[5]), PK_NONE);
	pk_doc_free(doc);
	free(p);

	/* bytes after STOP that are no pickle: one pickle, as before */
	p = ut_slurp("tail.pkl", &n);
	doc = decode_ok(p, n);
	cr_assert_eq(doc->nparts, 0);
	cr_assert_eq(pk_val_kind(doc->root), PK_LIST);
	cr_assert_lt(doc->end, n);
	pk_doc_free(doc);
	free(p);
}

Test(multi, edit_in_one_part_keeps_the_others, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	size_t n, n0;
	uint8_t *p;
	pk_doc *doc;
	pk_node *root;
	pk_buf out = PK_BUF_INIT;
	pk_val extra = {0};
	pk_err e;
	char cmd[512];

	py("import pickle\n"
	   "with open('m.pkl', 'wb') as f:\n"
	   "    pickle.dump({'a': 'first'}, f, protocol=2)\n"
	   "    pickle.dump({'b': 'second'}, f, protocol=4)\n"
	   "    pickle.dump([3], f, protocol=5)\n"
	   "    n0 = f.tell()\n"
	   "print(n0)\n");
	p = ut_slurp("m.pkl", &n);
	doc = decode_ok(p, n);
	root = pk_val_node(doc->root);
	cr_assert_eq(root->nkids, 3);
	n0 = doc->end;
	cr_assert_eq(pk_val_set_text(doc, dict_slot(root->kids[1], "b"), PK_STR,
				     (const uint8_t *)"changed, longer", 15,
				     &e),
		     PK_OK);
	/* the number of pickles is fixed */
	cr_assert_eq(
	    pk_node_append(doc, root, PK_OP_APPEND, &root->kids[0], 1, &e),
	    PK_E_REFUSED);
	cr_assert_eq(pk_node_remove(doc, root, 2, 1, &e), PK_E_REFUSED);
	(void)extra;
	cr_assert_eq(pk_encode_to_buf(doc, &out, &e), PK_OK);
	cr_assert(out.len > n0 && memcmp(out.data, p, n0) == 0,
		  "the first pickle's bytes are unchanged");
	ut_put("m2.pkl", out.data, out.len);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && " PY " -c \"import pickle; f = open('m2.pkl', "
		 "'rb'); v = [pickle.load(f) for i in range(3)]; assert "
		 "f.read() == b''; assert v == [{'a': 'first'}, {'b': "
		 "'changed, longer'}, [3]], v\"",
		 ut_dir);
	cr_assert_eq(system(cmd), 0);
	pk_buf_release(&out);
	pk_doc_free(doc);
	free(p);
}

/* fuzz_edit found it: the view said a top entry of a file of several
 * pickles could go, then the codec refused (tests/fuzz/regress/edit) */
Test(multi, top_entries_cannot_go)
{
	static const uint8_t p[] = "N.])(l]N.";
	pk_doc *doc = decode_ok(p, sizeof(p) - 1);
	pk_node *root = pk_val_node(doc->root);
	pf_ref dir = {&doc->root, PF_PART_SELF};
	pk_err e;

	cr_assert_eq(doc->nparts, 1);
	cr_assert_eq(pf_edit_can_remove(dir, NULL, &root->kids[1], &e), EPERM);
	cr_assert_eq(pf_edit_remove(doc, dir, NULL, &root->kids[1], &e), EPERM);
	/* the second pickle leaves values on the stack (irregular): it
	 * comes back as the pickle of its value, "N." */
	assert_same(doc, (const uint8_t *)"N.N.", 4);
	pk_doc_free(doc);
}
