/*
 * Unit tests of the presentation of a decoded pickle (fs/view/docview.c,
 * layout.c, form.c, content.c, repr.c): entries and names of dicts, lists
 * and objects, first occurrences and relative links, file contents.
 * The byte strings were written by CPython 3.11 (pickle.dumps of the
 * value in the comment above each).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "content.h"
#include "docview.h"
#include "pickle.h"

/* {'a': s, 'b': s, 'c': {'deep': s}, 'rec': rec, 'pair': (s, s)} with
 * s = [1, 2], rec = {'name': 'loop', 'self': rec}; protocol 4 */
static const uint8_t graph4[] = {
    128, 4,   149, 85,	0,   0,	  0,   0,   0,	 0,   0,   125, 148, 40,
    140, 1,   97,  148, 93,  148, 40,  75,  1,	 75,  2,   101, 140, 1,
    98,	 148, 104, 2,	140, 1,	  99,  148, 125, 148, 140, 4,	100, 101,
    101, 112, 148, 104, 2,   115, 140, 3,   114, 101, 99,  148, 125, 148,
    40,	 140, 4,   110, 97,  109, 101, 148, 140, 4,   108, 111, 111, 112,
    148, 140, 4,   115, 101, 108, 102, 148, 104, 8,   117, 140, 4,   112,
    97,	 105, 114, 148, 104, 2,	  104, 2,   134, 148, 117, 46};
/* {'plain': 1, 'a/b': 2, '': 3, '.': 4, '..': 5, 1: 6, '1': 7, None: 8,
 *  'None': 9, b'k': 10, (1, 'a'): 11, 1.5: 12, '%41': 13}; protocol 4 */
static const uint8_t names4[] = {
    128, 4,   149, 98,	0,   0,	  0,   0,   0,	0,   0,	  125, 148, 40,
    140, 5,   112, 108, 97,  105, 110, 148, 75, 1,   140, 3,   97,  47,
    98,	 148, 75,  2,	140, 0,	  148, 75,  3,	140, 1,	  46,  148, 75,
    4,	 140, 2,   46,	46,  148, 75,  5,   75, 1,   75,  6,   140, 1,
    49,	 148, 75,  7,	78,  75,  8,   140, 4,	78,  111, 110, 101, 148,
    75,	 9,   67,  1,	107, 148, 75,  10,  75, 1,   140, 1,   97,  148,
    134, 148, 75,  11,	71,  63,  248, 0,   0,	0,   0,	  0,   0,   75,
    12,	 140, 3,   37,	52,  49,  148, 75,  13, 117, 46};
/* 42; protocol 2 */
static const uint8_t scalar_root[] = {128, 2, 75, 42, 46};
/* ['hé', b'\x00\xff', 2**70, -0.0, 1e100, True, None, 1-2j,
 *  bytearray(b'ab'), len]; protocol 3 */
static const uint8_t scalars3[] = {
    128, 3,   93,  113, 0,   40,  88,  3,   0,	 0,   0,   104, 195, 169, 113,
    1,	 67,  2,   0,	255, 113, 2,   138, 9,	 0,   0,   0,	0,   0,	  0,
    0,	 0,   64,  71,	128, 0,	  0,   0,   0,	 0,   0,   0,	71,  84,  178,
    73,	 173, 37,  148, 195, 125, 136, 78,  99,	 98,  117, 105, 108, 116, 105,
    110, 115, 10,  99,	111, 109, 112, 108, 101, 120, 10,  113, 3,   71,  63,
    240, 0,   0,   0,	0,   0,	  0,   71,  192, 0,   0,   0,	0,   0,	  0,
    0,	 134, 113, 4,	82,  113, 5,   99,  98,	 117, 105, 108, 116, 105, 110,
    115, 10,  98,  121, 116, 101, 97,  114, 114, 97,  121, 10,	113, 6,	  67,
    2,	 97,  98,  113, 7,   133, 113, 8,   82,	 113, 9,   99,	98,  117, 105,
    108, 116, 105, 110, 115, 10,  108, 101, 110, 10,  113, 10,	101, 46};
/* [b'\x00\xff', 1-2j, {3, 1}, frozenset([2]), OrderedDict(a=1),
 *  defaultdict(list, z=1)]; protocol 2 */
static const uint8_t scalars2[] = {
    128, 2,   93,  113, 0,   40,  99,  95,  99,	 111, 100, 101, 99,  115, 10,
    101, 110, 99,  111, 100, 101, 10,  113, 1,	 88,  3,   0,	0,   0,	  0,
    195, 191, 113, 2,	88,  6,	  0,   0,   0,	 108, 97,  116, 105, 110, 49,
    113, 3,   134, 113, 4,   82,  113, 5,   99,	 95,  95,  98,	117, 105, 108,
    116, 105, 110, 95,	95,  10,  99,  111, 109, 112, 108, 101, 120, 10,  113,
    6,	 71,  63,  240, 0,   0,	  0,   0,   0,	 0,   71,  192, 0,   0,	  0,
    0,	 0,   0,   0,	134, 113, 7,   82,  113, 8,   99,  95,	95,  98,  117,
    105, 108, 116, 105, 110, 95,  95,  10,  115, 101, 116, 10,	113, 9,	  93,
    113, 10,  40,  75,	1,   75,  3,   101, 133, 113, 11,  82,	113, 12,  99,
    95,	 95,  98,  117, 105, 108, 116, 105, 110, 95,  95,  10,	102, 114, 111,
    122, 101, 110, 115, 101, 116, 10,  113, 13,	 93,  113, 14,	75,  2,	  97,
    133, 113, 15,  82,	113, 16,  99,  99,  111, 108, 108, 101, 99,  116, 105,
    111, 110, 115, 10,	79,  114, 100, 101, 114, 101, 100, 68,	105, 99,  116,
    10,	 113, 17,  41,	82,  113, 18,  88,  1,	 0,   0,   0,	97,  113, 19,
    75,	 1,   115, 99,	99,  111, 108, 108, 101, 99,  116, 105, 111, 110, 115,
    10,	 100, 101, 102, 97,  117, 108, 116, 100, 105, 99,  116, 10,  113, 20,
    99,	 95,  95,  98,	117, 105, 108, 116, 105, 110, 95,  95,	10,  108, 105,
    115, 116, 10,  113, 21,  133, 113, 22,  82,	 113, 23,  88,	1,   0,	  0,
    0,	 122, 113, 24,	75,  1,	  115, 101, 46};
/* numpy.arange(6, dtype='<i4').reshape(2, 3); protocol 2 */
static const uint8_t array2[] = {
    128, 2,   99,  110, 117, 109, 112, 121, 46,	 99,  111, 114, 101, 46,  109,
    117, 108, 116, 105, 97,  114, 114, 97,  121, 10,  95,  114, 101, 99,  111,
    110, 115, 116, 114, 117, 99,  116, 10,  113, 0,   99,  110, 117, 109, 112,
    121, 10,  110, 100, 97,  114, 114, 97,  121, 10,  113, 1,	75,  0,	  133,
    113, 2,   99,  95,	99,  111, 100, 101, 99,	 115, 10,  101, 110, 99,  111,
    100, 101, 10,  113, 3,   88,  1,   0,   0,	 0,   98,  113, 4,   88,  6,
    0,	 0,   0,   108, 97,  116, 105, 110, 49,	 113, 5,   134, 113, 6,	  82,
    113, 7,   135, 113, 8,   82,  113, 9,   40,	 75,  1,   75,	2,   75,  3,
    134, 113, 10,  99,	110, 117, 109, 112, 121, 10,  100, 116, 121, 112, 101,
    10,	 113, 11,  88,	2,   0,	  0,   0,   105, 52,  113, 12,	137, 136, 135,
    113, 13,  82,  113, 14,  40,  75,  3,   88,	 1,   0,   0,	0,   60,  113,
    15,	 78,  78,  78,	74,  255, 255, 255, 255, 74,  255, 255, 255, 255, 75,
    0,	 116, 113, 16,	98,  137, 104, 3,   88,	 24,  0,   0,	0,   0,	  0,
    0,	 0,   1,   0,	0,   0,	  2,   0,   0,	 0,   3,   0,	0,   0,	  4,
    0,	 0,   0,   5,	0,   0,	  0,   113, 17,	 104, 5,   134, 113, 18,  82,
    113, 19,  116, 113, 20,  98,  46};
/* an old-style instance with a dict state, protocol 0, by hand:
 * INST __main__.P, BUILD {'x': 1} */
static const uint8_t inst0[] = "(i__main__\nP\n(dVx\nI1\nsb.";

struct fixture {
	pk_doc *doc;
	pf_docview *dv;
};

static struct fixture open_doc(const uint8_t *p, size_t n)
{
	struct fixture f;
	pk_err e;

	cr_assert_eq(pk_decode(p, n, 0, &f.doc, &e), PK_OK, "decode: %s",
		     e.msg);
	cr_assert_eq(pf_docview_new(f.doc, &f.dv), 0);
	return f;
}

static void close_doc(struct fixture *f)
{
	pf_docview_free(f->dv);
	pk_doc_free(f->doc);
}

/* Entry called `name` of dir; fails the test when missing. */
static pf_child child(struct fixture *f, pf_ref dir, const char *name,
		      uint64_t *index)
{
	pf_child c;
	uint64_t i;

	cr_assert_eq(pf_docview_lookup(f->dv, dir, name, strlen(name), &i), 0,
		     "no entry %s", name);
	cr_assert_eq(pf_docview_child(f->dv, dir, i, &c), 0);
	if (index)
		*index = i;
	return c;
}

static char *content(struct fixture *f, pf_ref r)
{
	static char out[256];
	pf_content c, sz;

	cr_assert_eq(pf_content_get(f->doc, r, 0, &c, NULL), 0);
	cr_assert_eq(pf_content_get(f->doc, r, PF_CONTENT_SIZE_ONLY, &sz, NULL),
		     0);
	cr_assert_eq(pf_content_size(&sz), pf_content_size(&c),
		     "size-only differs");
	cr_assert_lt(c.len + 1, sizeof(out));
	memcpy(out, c.data, c.len);
	if (c.nl)
		out[c.len] = '\n';
	out[c.len + (c.nl ? 1 : 0)] = '\0';
	pf_content_release(&c);
	pf_content_release(&sz);
	return out;
}

static char *name_of(struct fixture *f, pf_ref dir, uint64_t i)
{
	static char out[256];
	pk_buf b = PK_BUF_INIT;

	cr_assert_eq(pf_docview_name(f->dv, dir, i, &b), 0);
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	pk_buf_release(&b);
	return out;
}

Test(fs_view, dict_entries_in_insertion_order_with_names)
{
	struct fixture f = open_doc(names4, sizeof(names4));
	pf_ref root = pf_docview_root(f.dv);
	const char *want[] = {
	    "plain",	 "a%2Fb", "%",	  "%2E",      "%2E%2E", "1%int", "1",
	    "None%none", "None",  "b'k'", "(1, 'a')", "1.5",	"%2541"};
	uint64_t n, i;

	cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
	cr_assert_eq(n, 13);
	for (i = 0; i < n; i++)
		cr_assert_str_eq(name_of(&f, root, i), want[i]);
	cr_assert_str_eq(content(&f, child(&f, root, "1%int", NULL).e.target),
			 "6\n");
	cr_assert_str_eq(content(&f, child(&f, root, "1", NULL).e.target),
			 "7\n");
	cr_assert_str_eq(content(&f, child(&f, root, "%", NULL).e.target),
			 "3\n");
	close_doc(&f);
}

Test(fs_view, shared_containers_are_relative_links)
{
	struct fixture f = open_doc(graph4, sizeof(graph4));
	pf_ref root = pf_docview_root(f.dv);
	pf_child a, b, c, deep, rec, self, pair;
	uint64_t ib, ideep, iself, ip0, nsub;
	pk_buf link = PK_BUF_INIT;

	a = child(&f, root, "a", NULL);
	b = child(&f, root, "b", &ib);
	cr_assert_eq(a.look, PF_LOOK_DIR);
	cr_assert_eq(b.look, PF_LOOK_LINK);
	cr_assert_eq(pf_docview_link(f.dv, root, ib, &link), 0);
	cr_assert_str_eq((char *)link.data, "a");

	c = child(&f, root, "c", NULL);
	deep = child(&f, c.e.target, "deep", &ideep);
	cr_assert_eq(deep.look, PF_LOOK_LINK);
	pk_buf_reset(&link);
	cr_assert_eq(pf_docview_link(f.dv, c.e.target, ideep, &link), 0);
	cr_assert_str_eq((char *)link.data, "../a");

	rec = child(&f, root, "rec", NULL);
	self = child(&f, rec.e.target, "self", &iself);
	cr_assert_eq(self.look, PF_LOOK_LINK);
	pk_buf_reset(&link);
	cr_assert_eq(pf_docview_link(f.dv, rec.e.target, iself, &link), 0);
	cr_assert_str_eq((char *)link.data, ".");

	pair = child(&f, root, "pair", NULL);
	child(&f, pair.e.target, "0", &ip0);
	pk_buf_reset(&link);
	cr_assert_eq(pf_docview_link(f.dv, pair.e.target, ip0, &link), 0);
	cr_assert_str_eq((char *)link.data, "../a");

	/* a, c, rec, pair are directories; b is a link */
	cr_assert_eq(pf_docview_nsubdirs(f.dv, root, &nsub), 0);
	cr_assert_eq(nsub, 4);
	pk_buf_release(&link);
	close_doc(&f);
}

Test(fs_view, a_scalar_top_value_is_wrapped)
{
	struct fixture f = open_doc(scalar_root, sizeof(scalar_root));
	pf_ref root = pf_docview_root(f.dv);
	uint64_t n;

	cr_assert_eq(root.part, PF_PART_WRAP);
	cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(name_of(&f, root, 0), "__value__");
	cr_assert_str_eq(
	    content(&f, child(&f, root, "__value__", NULL).e.target), "42\n");
	close_doc(&f);
}

Test(fs_view, scalar_text_forms)
{
	struct fixture f = open_doc(scalars3, sizeof(scalars3));
	pf_ref root = pf_docview_root(f.dv);
	pf_content c;
	pf_ref r;

	cr_assert_str_eq(content(&f, child(&f, root, "0", NULL).e.target),
			 "h\xc3\xa9\n");
	r = child(&f, root, "1", NULL).e.target;
	cr_assert_eq(pf_content_get(f.doc, r, 0, &c, NULL), 0);
	cr_assert_eq(c.len, 2);
	cr_assert_eq(c.nl, 0);
	cr_assert_eq(c.data[1], 0xff);
	pf_content_release(&c);
	cr_assert_str_eq(content(&f, child(&f, root, "2", NULL).e.target),
			 "1180591620717411303424\n");
	cr_assert_str_eq(content(&f, child(&f, root, "3", NULL).e.target),
			 "-0.0\n");
	cr_assert_str_eq(content(&f, child(&f, root, "4", NULL).e.target),
			 "1e+100\n");
	cr_assert_str_eq(content(&f, child(&f, root, "5", NULL).e.target),
			 "True\n");
	cr_assert_str_eq(content(&f, child(&f, root, "6", NULL).e.target),
			 "None\n");
	cr_assert_str_eq(content(&f, child(&f, root, "7", NULL).e.target),
			 "(1-2j)\n");
	cr_assert_str_eq(pf_ref_type_name(child(&f, root, "7", NULL).e.target),
			 "complex");
	cr_assert_str_eq(content(&f, child(&f, root, "8", NULL).e.target),
			 "ab");
	cr_assert_str_eq(pf_ref_type_name(child(&f, root, "8", NULL).e.target),
			 "bytearray");
	cr_assert_str_eq(content(&f, child(&f, root, "9", NULL).e.target),
			 "builtins.len\n");
	cr_assert_str_eq(pf_ref_type_name(child(&f, root, "9", NULL).e.target),
			 "global");
	close_doc(&f);
}

Test(fs_view, protocol2_shapes_look_like_what_they_are)
{
	struct fixture f = open_doc(scalars2, sizeof(scalars2));
	pf_ref root = pf_docview_root(f.dv);
	pf_ref bytes, set, fset, od, dd;
	pf_content c;
	uint64_t n;

	bytes = child(&f, root, "0", NULL).e.target;
	cr_assert_str_eq(pf_ref_type_name(bytes), "bytes");
	cr_assert_eq(pf_content_get(f.doc, bytes, 0, &c, NULL), 0);
	cr_assert_eq(c.len, 2);
	cr_assert_eq(c.data[0], 0);
	cr_assert_eq(c.data[1], 0xff);
	pf_content_release(&c);
	cr_assert_str_eq(content(&f, child(&f, root, "1", NULL).e.target),
			 "(1-2j)\n");
	set = child(&f, root, "2", NULL).e.target;
	cr_assert_str_eq(pf_ref_type_name(set), "set");
	cr_assert_eq(pf_docview_count(f.dv, set, &n), 0);
	cr_assert_eq(n, 2);
	fset = child(&f, root, "3", NULL).e.target;
	cr_assert_str_eq(pf_ref_type_name(fset), "frozenset");
	cr_assert_str_eq(content(&f, child(&f, fset, "0", NULL).e.target),
			 "2\n");
	od = child(&f, root, "4", NULL).e.target;
	cr_assert_str_eq(pf_ref_type_name(od), "dict");
	cr_assert_str_eq(content(&f, child(&f, od, "a", NULL).e.target), "1\n");
	dd = child(&f, root, "5", NULL).e.target;
	cr_assert_str_eq(name_of(&f, dd, 0), "__default_factory__");
	cr_assert_str_eq(
	    content(&f, child(&f, dd, "__default_factory__", NULL).e.target),
	    "__builtin__.list\n");
	cr_assert_str_eq(content(&f, child(&f, dd, "z", NULL).e.target), "1\n");
	close_doc(&f);
}

Test(fs_view, numpy_array_parts)
{
	struct fixture f = open_doc(array2, sizeof(array2));
	pf_ref root = pf_docview_root(f.dv), data;
	pf_content c;
	uint64_t n;

	cr_assert_str_eq(pf_ref_type_name(root), "ndarray");
	cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(content(&f, child(&f, root, "dtype", NULL).e.target),
			 "<i4\n");
	cr_assert_str_eq(content(&f, child(&f, root, "shape", NULL).e.target),
			 "(2, 3)\n");
	data = child(&f, root, "data", NULL).e.target;
	cr_assert_eq(pf_content_get(f.doc, data, 0, &c, NULL), 0);
	cr_assert_eq(c.len, 24);
	cr_assert_eq(c.data[4], 1);
	cr_assert_eq(c.data[20], 5);
	pf_content_release(&c);
	close_doc(&f);
}

Test(fs_view, objects_show_class_and_state)
{
	struct fixture f = open_doc(inst0, sizeof(inst0) - 1);
	pf_ref root = pf_docview_root(f.dv);
	uint64_t n;

	cr_assert_str_eq(pf_ref_type_name(root), "object");
	cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(name_of(&f, root, 0), "__class__");
	cr_assert_str_eq(
	    content(&f, child(&f, root, "__class__", NULL).e.target),
	    "__main__.P\n");
	cr_assert_str_eq(content(&f, child(&f, root, "x", NULL).e.target),
			 "1\n");
	close_doc(&f);
}

Test(fs_view, lookups_of_missing_names_fail)
{
	struct fixture f = open_doc(scalars3, sizeof(scalars3));
	pf_ref root = pf_docview_root(f.dv);
	pf_child c;
	uint64_t i;

	cr_assert_eq(pf_docview_lookup(f.dv, root, "10", 2, &i), ENOENT);
	cr_assert_eq(pf_docview_lookup(f.dv, root, "01", 2, &i), ENOENT);
	cr_assert_eq(pf_docview_lookup(f.dv, root, "x", 1, &i), ENOENT);
	cr_assert_eq(pf_docview_child(f.dv, root, 10, &c), ENOENT);
	close_doc(&f);
}

/* A list nested 200000 deep: the walk and the views cost heap, not
 * stack (ASan would catch a stack overflow). */
Test(fs_view, deep_nesting_is_iterative)
{
	enum { DEPTH = 200000 };
	uint8_t *p = malloc(DEPTH * 2 + 4), *q = p;
	struct fixture f;
	pf_ref dir;
	pf_child c;
	int i;

	*q++ = 0x80;
	*q++ = 2;
	for (i = 0; i < DEPTH; i++)
		*q++ = ']';
	for (i = 0; i < DEPTH - 1; i++)
		*q++ = 'a';
	*q++ = '.';
	f = open_doc(p, (size_t)(q - p));
	dir = pf_docview_root(f.dv);
	for (i = 0; i < 1000; i++) {
		cr_assert_eq(pf_docview_child(f.dv, dir, 0, &c), 0);
		cr_assert_eq(c.look, PF_LOOK_DIR);
		dir = c.e.target;
	}
	close_doc(&f);
	free(p);
}

/* Entries of dir that look like directories, one by one. */
static uint64_t count_dir_entries(struct fixture *f, pf_ref dir)
{
	uint64_t n, i, count = 0;
	pf_child c;

	cr_assert_eq(pf_docview_count(f->dv, dir, &n), 0);
	for (i = 0; i < n; i++) {
		cr_assert_eq(pf_docview_child(f->dv, dir, i, &c), 0);
		count += c.look == PF_LOOK_DIR;
	}
	return count;
}

/* A directory's subdirectory count (its link count - 2) is the number of
 * its entries that are directories: with links (graph4 shares nodes, so
 * the view walks it) and without (the others are trees, counted from the
 * nodes); asked twice, as the second answer comes from the node. */
Test(fs_view, nsubdirs_counts_the_entries_that_are_directories)
{
	/* {'a': [1], 'b': 2, 'c': {'d': (1,), 'e': 'x'}}; protocol 4 */
	static const uint8_t tree4[] = {
	    128, 4,   149, 44,	0,   0,	  0,   0,   0,	 0,   0,   125, 148, 40,
	    140, 1,   97,  148, 93,  148, 75,  1,   97,	 140, 1,   98,	148, 75,
	    2,	 140, 1,   99,	148, 125, 148, 40,  140, 1,   100, 148, 75,  1,
	    133, 148, 140, 1,	101, 148, 140, 1,   120, 148, 117, 117, 46};
	static const struct {
		const uint8_t *p;
		size_t n;
	} docs[] = {{graph4, sizeof(graph4)},
		    {tree4, sizeof(tree4)},
		    {names4, sizeof(names4)},
		    {scalars2, sizeof(scalars2)},
		    {array2, sizeof(array2)},
		    {inst0, sizeof(inst0) - 1}};
	size_t d;

	for (d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		struct fixture f = open_doc(docs[d].p, docs[d].n);
		pf_ref root = pf_docview_root(f.dv);
		uint64_t n, i, nsub, again;
		pf_child c;

		cr_assert_eq(pf_docview_nsubdirs(f.dv, root, &nsub), 0);
		cr_assert_eq(pf_docview_nsubdirs(f.dv, root, &again), 0);
		cr_assert_eq(nsub, count_dir_entries(&f, root), "doc %zu", d);
		if (docs[d].p == tree4)
			cr_assert_eq(nsub, 2); /* a and c */
		cr_assert_eq(again, nsub);
		cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
		for (i = 0; i < n; i++) {
			cr_assert_eq(pf_docview_child(f.dv, root, i, &c), 0);
			if (c.look != PF_LOOK_DIR)
				continue;
			cr_assert_eq(
			    pf_docview_nsubdirs(f.dv, c.e.target, &nsub), 0);
			cr_assert_eq(nsub, count_dir_entries(&f, c.e.target),
				     "doc %zu entry %llu", d,
				     (unsigned long long)i);
		}
		close_doc(&f);
	}
}
