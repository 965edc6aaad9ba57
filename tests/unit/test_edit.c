/*
 * Unit tests of edits on a decoded pickle (fs/view/edit.c): pf_edit_set,
 * add, remove, rename_key, convert, check, infer_kind, viable, the rules
 * of README "Editing" without a mount. Each edit is encoded again and
 * compared with what CPython 3.11 writes for the edited value
 * (pickle.dumps(value, protocol) of the value in the comment; the arrays
 * were printed by a short Python script): byte for byte where the edit
 * replaces, renames or removes (so "as CPython writes it" and "differs
 * only where it was edited" are checked at once), and as the same value
 * decoded where it adds values, which the encoder does not memoize as
 * CPython does (README: "plus the memo ... bookkeeping"). A refused edit
 * must leave the encoding byte-identical.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "edit.h"
#include "unit.h"

/* where the edit functions say why they refused */
static pk_err unit_err;

/* {'s': 'a', 'i': 1, 'f': 1.5, 't': True, 'n': None, 'b': b'x', 'c': (1+2j)};
 * protocol 4 */
static const uint8_t types4[] = {
    128, 4,   149, 99,	0,   0,	 0,   0,   0,	0,   0,	  125, 148, 40,
    140, 1,   115, 148, 140, 1,	 97,  148, 140, 1,   105, 148, 75,  1,
    140, 1,   102, 148, 71,  63, 248, 0,   0,	0,   0,	  0,   0,   140,
    1,	 116, 148, 136, 140, 1,	 110, 148, 78,	140, 1,	  98,  148, 67,
    1,	 120, 148, 140, 1,   99, 148, 140, 8,	98,  117, 105, 108, 116,
    105, 110, 115, 148, 140, 7,	 99,  111, 109, 112, 108, 101, 120, 148,
    147, 148, 71,  63,	240, 0,	 0,   0,   0,	0,   0,	  71,  64,  0,
    0,	 0,   0,   0,	0,   0,	 134, 148, 82,	148, 117, 46};
/* {'s': 'hello', 'i': 42, 'f': 0.0025, 't': False, 'n': 5, 'b': b'ab\x00\n',
 * 'c': (3-4j)}; protocol 4 */
static const uint8_t types4_set[] = {
    128, 4,   149, 107, 0,   0,	  0,   0,   0,	 0,   0,   125, 148, 40,  140,
    1,	 115, 148, 140, 5,   104, 101, 108, 108, 111, 148, 140, 1,   105, 148,
    75,	 42,  140, 1,	102, 148, 71,  63,  100, 122, 225, 71,	174, 20,  123,
    140, 1,   116, 148, 137, 140, 1,   110, 148, 75,  5,   140, 1,   98,  148,
    67,	 4,   97,  98,	0,   10,  148, 140, 1,	 99,  148, 140, 8,   98,  117,
    105, 108, 116, 105, 110, 115, 148, 140, 7,	 99,  111, 109, 112, 108, 101,
    120, 148, 147, 148, 71,  64,  8,   0,   0,	 0,   0,   0,	0,   71,  192,
    16,	 0,   0,   0,	0,   0,	  0,   134, 148, 82,  148, 117, 46};
/* {'s': 'a', 'i': 9.5, 'f': 7.0, 't': 2, 'n': None, 'b': b'x', 'c': (1+2j)};
 * protocol 4 */
static const uint8_t types4_wide[] = {
    128, 4,   149, 107, 0,   0,	  0,   0,   0,	 0,   0,   125, 148, 40,  140,
    1,	 115, 148, 140, 1,   97,  148, 140, 1,	 105, 148, 71,	64,  35,  0,
    0,	 0,   0,   0,	0,   140, 1,   102, 148, 71,  64,  28,	0,   0,	  0,
    0,	 0,   0,   140, 1,   116, 148, 75,  2,	 140, 1,   110, 148, 78,  140,
    1,	 98,  148, 67,	1,   120, 148, 140, 1,	 99,  148, 140, 8,   98,  117,
    105, 108, 116, 105, 110, 115, 148, 140, 7,	 99,  111, 109, 112, 108, 101,
    120, 148, 147, 148, 71,  63,  240, 0,   0,	 0,   0,   0,	0,   71,  64,
    0,	 0,   0,   0,	0,   0,	  0,   134, 148, 82,  148, 117, 46};
/* {'Jose': 7, 'Arnoldo': 8, 'Maria': 10, 'Pedro': 5, 'x': 'hello', 'd': {},
 * 'raw': b'5'}; protocol 4 */
static const uint8_t al4_added[] = {
    128, 4,   149, 74,	0,   0,	  0,   0,   0,	 0,   0,   125, 148, 40,  140,
    4,	 74,  111, 115, 101, 148, 75,  7,   140, 7,   65,  114, 110, 111, 108,
    100, 111, 148, 75,	8,   140, 5,   77,  97,	 114, 105, 97,	148, 75,  10,
    140, 5,   80,  101, 100, 114, 111, 148, 75,	 5,   140, 1,	120, 148, 140,
    5,	 104, 101, 108, 108, 111, 148, 140, 1,	 100, 148, 125, 148, 140, 3,
    114, 97,  119, 148, 67,  1,	  53,  148, 117, 46};
/* {'Jose': 7, 'Maria': 10}; protocol 4 */
static const uint8_t al4_removed[] = {128, 4,	149, 24,  0,  0,   0,	0,  0,
				      0,   0,	125, 148, 40, 140, 4,	74, 111,
				      115, 101, 148, 75,  7,  140, 5,	77, 97,
				      114, 105, 97,  148, 75, 10,  117, 46};
/* {'Josefina': 7, 'Arnoldo': 8, 'Maria': 10}; protocol 4 */
static const uint8_t al4_renamed[] = {
    128, 4,   149, 40, 0,   0,	 0,   0,   0,	0,   0,	  125, 148,
    40,	 140, 8,   74, 111, 115, 101, 102, 105, 110, 97,  148, 75,
    7,	 140, 7,   65, 114, 110, 111, 108, 100, 111, 148, 75,  8,
    140, 5,   77,  97, 114, 105, 97,  148, 75,	10,  117, 46};
/* {'Jose': 7, 'Arnoldo': 8, 'Maria': 10}; protocol 2 */
static const uint8_t al2[] = {
    128, 2,   125, 113, 0,   40,  88,  4,  0,  0,  0,	74, 111,
    115, 101, 113, 1,	75,  7,	  88,  7,  0,  0,  0,	65, 114,
    110, 111, 108, 100, 111, 113, 2,   75, 8,  88, 5,	0,  0,
    0,	 77,  97,  114, 105, 97,  113, 3,  75, 10, 117, 46};
/* {'Jose': 7, 'Arnie': 8, 'Maria': 10}; protocol 2 */
static const uint8_t al2_renamed[] = {
    128, 2,   125, 113, 0,   40, 88, 4,	 0,   0, 0, 74, 111,
    115, 101, 113, 1,	75,  7,	 88, 5,	 0,   0, 0, 65, 114,
    110, 105, 101, 113, 2,   75, 8,  88, 5,   0, 0, 0,	77,
    97,	 114, 105, 97,	113, 3,	 75, 10, 117, 46};
/* [1, 2]; protocol 2 */
static const uint8_t list2[] = {128, 2, 93, 113, 0, 40, 75, 1, 75, 2, 101, 46};
/* [1, 2, 3, 'x']; protocol 2 */
static const uint8_t list2_added[] = {128, 2,	93,  113, 0,   40, 75, 1,
				      75,  2,	75,  3,	  88,  1,  0,  0,
				      0,   120, 113, 1,	  101, 46};
/* [2]; protocol 2 */
static const uint8_t list2_removed[] = {128, 2, 93, 113, 0, 75, 2, 97, 46};
/* {1: 'a', 2: 'b'}; protocol 4 */
static const uint8_t ints4[] = {128, 4,	  149, 17, 0,  0,   0,	 0, 0,	0,
				0,   125, 148, 40, 75, 1,   140, 1, 97, 148,
				75,  2,	  140, 1,  98, 148, 117, 46};
/* {1: 'a', 2: 'b', 3: 'c'}; protocol 4 */
static const uint8_t ints4_added[] = {
    128, 4,  149, 23, 0, 0,   0, 0,  0,	  0,  0, 125, 148, 40, 75,  1,	 140,
    1,	 97, 148, 75, 2, 140, 1, 98, 148, 75, 3, 140, 1,   99, 148, 117, 46};
/* {1: 'a', 5: 'b'}; protocol 4 */
static const uint8_t ints4_renamed[] = {
    128, 4, 149, 17, 0,	 0,   0,  0, 0,	  0, 0,	 125, 148, 40,
    75,	 1, 140, 1,  97, 148, 75, 5, 140, 1, 98, 148, 117, 46};
/* {'s': '7', 'i': 7, 'f': 1.5, 't': True}; protocol 4 */
static const uint8_t conv4[] = {
    128, 4,   149, 37, 0,  0,	0,   0, 0,   0,	  0,  125, 148, 40,  140, 1,
    115, 148, 140, 1,  55, 148, 140, 1, 105, 148, 75, 7,   140, 1,   102, 148,
    71,	 63,  248, 0,  0,  0,	0,   0, 0,   140, 1,  116, 148, 136, 117, 46};
/* {'s': 7, 'i': '7', 'f': 1.5, 't': True}; protocol 4 */
static const uint8_t conv4_done[] = {
    128, 4,   149, 37, 0,   0, 0,   0,	 0,   0,   0,  125, 148, 40,  140, 1,
    115, 148, 75,  7,  140, 1, 105, 148, 140, 1,   55, 148, 140, 1,   102, 148,
    71,	 63,  248, 0,  0,   0, 0,   0,	 0,   140, 1,  116, 148, 136, 117, 46};
/* {'s': 7.0, 'i': b'7', 'f': 1.5, 't': True}; protocol 4 */
static const uint8_t conv4_more[] = {
    128, 4,   149, 44,	0,  0,	0,   0,	  0,   0,   0,	 125, 148, 40,
    140, 1,   115, 148, 71, 64, 28,  0,	  0,   0,   0,	 0,   0,   140,
    1,	 105, 148, 67,	1,  55, 148, 140, 1,   102, 148, 71,  63,  248,
    0,	 0,   0,   0,	0,  0,	140, 1,	  116, 148, 136, 117, 46};

/* The doc encodes to exactly want[0..n). */
static void encodes_to(pk_doc *doc, const uint8_t *want, size_t n)
{
	pk_buf out = PK_BUF_INIT;
	pk_doc *again = ut_reencode(doc, &out);
	size_t i;

	for (i = 0; i < out.len && i < n && out.data[i] == want[i]; i++)
		;
	cr_assert(out.len == n && i == n,
		  "encoded %zu bytes, want %zu; first difference at byte %zu",
		  out.len, n, i);
	pk_doc_free(again);
	pk_buf_release(&out);
}
#define ENCODES_TO(doc, arr) encodes_to(doc, arr, sizeof(arr))

/* A text form of a value: scalars as pk_val_format writes them, nodes
 * as their kind and their kids in order. Equal dumps: equal values of
 * the same types (what CPython loads the same), whatever the memo. */
static void dump(const pk_doc *doc, pk_val v, pk_buf *b)
{
	pk_err e;

	if (pk_val_is_node(v)) {
		pk_node *n = pk_val_node(v);
		uint32_t i;

		pk_buf_addf(b, "<%d>[", pk_val_kind(v));
		for (i = 0; i < n->nkids; i++) {
			dump(doc, n->kids[i], b);
			pk_buf_addc(b, ',');
		}
		pk_buf_addc(b, ']');
		return;
	}
	pk_buf_addf(b, "<%d>", pk_val_kind(v));
	cr_assert_eq(pk_val_format((pk_doc *)doc, v, b, &e), PK_OK);
}

/* The doc, encoded and decoded again, is the value CPython's bytes
 * want[0..n) hold: for edits that add values, which the encoder does
 * not memoize where CPython does ("plus the memo bookkeeping"). */
static void loads_as(pk_doc *doc, const uint8_t *want, size_t n)
{
	pk_buf out = PK_BUF_INIT, got = PK_BUF_INIT, exp = PK_BUF_INIT;
	pk_doc *again = ut_reencode(doc, &out), *cpy = NULL;
	pk_err e;

	cr_assert_eq(pk_decode(want, n, 0, &cpy, &e), PK_OK);
	dump(again, again->root, &got);
	dump(cpy, cpy->root, &exp);
	pk_buf_addc(&got, 0);
	pk_buf_addc(&exp, 0);
	cr_assert_str_eq((char *)got.data, (char *)exp.data);
	cr_assert_eq(again->proto, cpy->proto, "the protocol is kept");
	pk_doc_free(again);
	pk_doc_free(cpy);
	pk_buf_release(&out);
	pk_buf_release(&got);
	pk_buf_release(&exp);
}
#define LOADS_AS(doc, arr) loads_as(doc, arr, sizeof(arr))

/* After a successful edit the view is rebuilt (edit.h). */
static void rebuild(ut_doc *f)
{
	pf_docview_free(f->dv);
	cr_assert_eq(pf_docview_new(f->doc, &f->dv), 0);
}

static int set(ut_doc *f, const char *path, const char *text)
{
	int rc = pf_edit_set(f->doc, ut_path(f, path), (const uint8_t *)text,
			     strlen(text), &unit_err);

	if (!rc)
		rebuild(f);
	return rc;
}

Test(edit, set_reads_the_text_as_the_value_type)
{
	ut_doc f = ut_open_doc(types4, sizeof(types4));

	cr_assert_eq(set(&f, "s", "hello\n"), 0); /* one \n dropped */
	cr_assert_eq(set(&f, "i", " 42 "), 0);	  /* spaces are fine */
	cr_assert_eq(set(&f, "f", "2.5e-3"), 0);
	cr_assert_eq(set(&f, "t", "False\n"), 0);
	cr_assert_eq(set(&f, "n", "5"), 0); /* None: what a new file is */
	cr_assert_eq(pf_edit_set(f.doc, ut_path(&f, "b"),
				 (const uint8_t *)"ab\0\n", 4, &unit_err),
		     0); /* bytes: raw, NUL and newline kept */
	rebuild(&f);
	cr_assert_eq(set(&f, "c", "(3-4j)"), 0);
	ENCODES_TO(f.doc, types4_set);
	cr_assert_str_eq(ut_content(f.doc, ut_path(&f, "n")), "5\n");
	cr_assert_str_eq(ut_content(f.doc, ut_path(&f, "c")), "(3-4j)\n");
	ut_close_doc(&f);
}

Test(edit, numbers_widen_and_never_narrow)
{
	ut_doc f = ut_open_doc(types4, sizeof(types4));

	cr_assert_eq(set(&f, "i", "9.5"), 0); /* int -> float */
	cr_assert_eq(set(&f, "f", "7"), 0);   /* float stays float: 7.0 */
	cr_assert_eq(set(&f, "t", "2"), 0);   /* bool -> int */
	cr_assert_str_eq(pf_ref_type_name(ut_path(&f, "t")), "int");
	cr_assert_str_eq(ut_content(f.doc, ut_path(&f, "f")), "7.0\n");
	ENCODES_TO(f.doc, types4_wide);
	ut_close_doc(&f);
}

/* Text that is not a literal of the type: EINVAL, and the doc encodes to
 * the original bytes (nothing of the refused edit is left). */
Test(edit, refused_text_changes_nothing)
{
	ut_doc f = ut_open_doc(types4, sizeof(types4));
	static const struct {
		const char *path, *text;
	} bad[] = {{"i", "nine"}, {"i", "1e"},	   {"i", "(1+2j)"},
		   {"f", "x"},	  {"t", "yes"},	   {"t", "1.5.2"},
		   {"c", "abc"},  {"i", "1\n5\n"}, {"f", ""}};
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		pf_ref r = ut_path(&f, bad[k].path);
		const uint8_t *t = (const uint8_t *)bad[k].text;
		size_t n = strlen(bad[k].text);

		/* check answers for scalars; a complex is an object
		 * (REDUCE), refused only when set */
		if (strcmp(bad[k].path, "c") != 0)
			cr_assert_eq(pf_edit_check(f.doc, r, t, n, &unit_err),
				     EINVAL, "check %s <- '%s'", bad[k].path,
				     bad[k].text);
		cr_assert_eq(pf_edit_set(f.doc, r, t, n, &unit_err), EINVAL,
			     "%s <- '%s'", bad[k].path, bad[k].text);
	}
	ENCODES_TO(f.doc, types4);
	/* and check accepts what set accepts, changing nothing */
	cr_assert_eq(pf_edit_check(f.doc, ut_path(&f, "i"),
				   (const uint8_t *)"12", 2, &unit_err),
		     0);
	ENCODES_TO(f.doc, types4);
	ut_close_doc(&f);
}

Test(edit, add_keys_typed_by_content_or_given_type)
{
	ut_doc f = ut_open_doc(ut_alumnos4, sizeof(ut_alumnos4));
	pf_ref root = pf_docview_root(f.dv);
	const pk_val *made = NULL;

	cr_assert_eq(pf_edit_add(f.doc, root, "Pedro", 0,
				 (const uint8_t *)"5\n", 2, NULL, &made,
				 &unit_err),
		     0);
	cr_assert_not_null(made);
	cr_assert_eq(pk_val_kind(*made), PK_INT);
	rebuild(&f);
	root = pf_docview_root(f.dv);
	cr_assert_eq(pf_edit_add(f.doc, root, "x", 0,
				 (const uint8_t *)"hello\n", 6, NULL, NULL,
				 &unit_err),
		     0);
	rebuild(&f);
	root = pf_docview_root(f.dv);
	cr_assert_eq(
	    pf_edit_add(f.doc, root, "d", 1, NULL, 0, NULL, NULL, &unit_err),
	    0);
	rebuild(&f);
	root = pf_docview_root(f.dv);
	cr_assert_eq(pf_edit_add(f.doc, root, "raw", 0, (const uint8_t *)"5", 1,
				 "bytes", NULL, &unit_err),
		     0);
	rebuild(&f);
	LOADS_AS(f.doc, al4_added);
	ut_close_doc(&f);
}

Test(edit, add_to_a_list_and_to_int_keys)
{
	ut_doc l = ut_open_doc(list2, sizeof(list2));
	ut_doc d = ut_open_doc(ints4, sizeof(ints4));

	cr_assert_eq(pf_edit_add(l.doc, pf_docview_root(l.dv), NULL, 0,
				 (const uint8_t *)"3", 1, NULL, NULL,
				 &unit_err),
		     0);
	rebuild(&l);
	cr_assert_eq(pf_edit_add(l.doc, pf_docview_root(l.dv), NULL, 0,
				 (const uint8_t *)"x\n", 2, NULL, NULL,
				 &unit_err),
		     0);
	rebuild(&l);
	LOADS_AS(l.doc, list2_added);
	/* a decimal name in a dict whose keys are ints: an int key */
	cr_assert_eq(pf_edit_add(d.doc, pf_docview_root(d.dv), "3", 0,
				 (const uint8_t *)"c", 1, NULL, NULL,
				 &unit_err),
		     0);
	rebuild(&d);
	LOADS_AS(d.doc, ints4_added);
	ut_close_doc(&l);
	ut_close_doc(&d);
}

Test(edit, remove_entries)
{
	ut_doc f = ut_open_doc(ut_alumnos4, sizeof(ut_alumnos4));
	ut_doc l = ut_open_doc(list2, sizeof(list2));
	pf_ref root = pf_docview_root(f.dv);
	pf_child c = ut_child(&f, root, "Arnoldo", NULL);

	cr_assert_eq(
	    pf_edit_can_remove(root, c.e.key, c.e.target.val, &unit_err), 0);
	ENCODES_TO(f.doc, ut_alumnos4); /* can_remove changes nothing */
	cr_assert_eq(
	    pf_edit_remove(f.doc, root, c.e.key, c.e.target.val, &unit_err), 0);
	rebuild(&f);
	ENCODES_TO(f.doc, al4_removed);
	root = pf_docview_root(l.dv);
	c = ut_child(&l, root, "0", NULL);
	cr_assert_eq(
	    pf_edit_remove(l.doc, root, c.e.key, c.e.target.val, &unit_err), 0);
	rebuild(&l);
	LOADS_AS(l.doc, list2_removed);
	ut_close_doc(&f);
	ut_close_doc(&l);
}

/* A key renamed keeps its place and type; renamed back, the pickle is
 * the original byte for byte. */
Test(edit, rename_keys_in_place)
{
	ut_doc f = ut_open_doc(ut_alumnos4, sizeof(ut_alumnos4));
	ut_doc p2 = ut_open_doc(al2, sizeof(al2));
	ut_doc d = ut_open_doc(ints4, sizeof(ints4));
	pf_child c;

	c = ut_child(&f, pf_docview_root(f.dv), "Jose", NULL);
	cr_assert_eq(pf_edit_rename_key(f.doc, pf_docview_root(f.dv),
					(pk_val *)c.e.key, "Josefina",
					&unit_err),
		     0);
	rebuild(&f);
	ENCODES_TO(f.doc, al4_renamed);
	c = ut_child(&f, pf_docview_root(f.dv), "Josefina", NULL);
	cr_assert_eq(pf_edit_rename_key(f.doc, pf_docview_root(f.dv),
					(pk_val *)c.e.key, "Jose", &unit_err),
		     0);
	rebuild(&f);
	ENCODES_TO(f.doc, ut_alumnos4);
	/* protocol 2: BINUNICODE + BINPUT, as CPython writes it */
	c = ut_child(&p2, pf_docview_root(p2.dv), "Arnoldo", NULL);
	cr_assert_eq(pf_edit_rename_key(p2.doc, pf_docview_root(p2.dv),
					(pk_val *)c.e.key, "Arnie", &unit_err),
		     0);
	rebuild(&p2);
	ENCODES_TO(p2.doc, al2_renamed);
	/* an int key stays an int */
	c = ut_child(&d, pf_docview_root(d.dv), "2", NULL);
	cr_assert_eq(pf_edit_rename_key(d.doc, pf_docview_root(d.dv),
					(pk_val *)c.e.key, "5", &unit_err),
		     0);
	rebuild(&d);
	ENCODES_TO(d.doc, ints4_renamed);
	ut_close_doc(&f);
	ut_close_doc(&p2);
	ut_close_doc(&d);
}

/* Only an int key's own spelling (its decimal) makes or keeps an int
 * key: int() also reads "02", "+1", " 3" and "4_0", but the key they
 * made was then named "2", "1" ... and not what the file was called
 * (found by tests/fuzz/fuzz_names.c). Such names are str keys. */
Test(edit, int_keys_only_from_their_decimal)
{
	static const char *const names[] = {"02", "+1", " 3", "4_0", "-0"};
	ut_doc d = ut_open_doc(ints4, sizeof(ints4));
	pf_ref root = pf_docview_root(d.dv);
	pf_child c;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		c = ut_child(&d, root, i ? names[i - 1] : "2", NULL);
		cr_assert_eq(pf_edit_rename_key(d.doc, pf_docview_root(d.dv),
						(pk_val *)c.e.key, names[i],
						&unit_err),
			     0);
		rebuild(&d);
		root = pf_docview_root(d.dv);
		c = ut_child(&d, root, names[i], NULL);
		cr_assert_str_eq(pf_key_type_name(c.e.key), "str", "%s",
				 names[i]);
	}
	/* the other int key, renamed to a decimal, stays an int */
	c = ut_child(&d, root, "1", NULL);
	cr_assert_eq(pf_edit_rename_key(d.doc, pf_docview_root(d.dv),
					(pk_val *)c.e.key, "-7", &unit_err),
		     0);
	rebuild(&d);
	root = pf_docview_root(d.dv);
	cr_assert_str_eq(pf_key_type_name(ut_child(&d, root, "-7", NULL).e.key),
			 "int");
	/* new files: in a dict of int keys, and "N%int" */
	cr_assert_eq(pf_edit_add(d.doc, root, "007", 0, (const uint8_t *)"x", 1,
				 NULL, NULL, &unit_err),
		     0);
	rebuild(&d);
	root = pf_docview_root(d.dv);
	cr_assert_str_eq(
	    pf_key_type_name(ut_child(&d, root, "007", NULL).e.key), "str");
	cr_assert_eq(pf_edit_add(d.doc, root, "01%int", 0, (const uint8_t *)"x",
				 1, NULL, NULL, &unit_err),
		     EINVAL);
	cr_assert_eq(pf_edit_add(d.doc, root, "-0%int", 0, (const uint8_t *)"x",
				 1, NULL, NULL, &unit_err),
		     EINVAL);
	cr_assert_eq(pf_edit_add(d.doc, root, "-5%int", 0, (const uint8_t *)"x",
				 1, NULL, NULL, &unit_err),
		     0);
	rebuild(&d);
	root = pf_docview_root(d.dv);
	cr_assert_str_eq(pf_key_type_name(ut_child(&d, root, "-5", NULL).e.key),
			 "int");
	ut_close_doc(&d);
}

/* {1.5: 'a', True: 'b', 2.0: 'c'}; protocol 4 */
static const uint8_t mixed4[] = {
    128, 4,  149, 36, 0, 0, 0, 0,   0, 0,   0,	 125, 148, 40,	71, 63,
    248, 0,  0,	  0,  0, 0, 0, 140, 1, 97,  148, 136, 140, 1,	98, 148,
    71,	 64, 0,	  0,  0, 0, 0, 0,   0, 140, 1,	 99,  148, 117, 46};

/* A key made or renamed from a name must not equal another key of its
 * dict as Python compares keys (1 == 1.0 == True): `mv x 1%int` beside
 * the int key 1 made a second key 1, and loading the pickle kept one
 * value of the two (found by tests/fuzz/fuzz_names.c). Refused, the doc
 * is unchanged. */
Test(edit, no_key_equal_to_another)
{
	ut_doc d = ut_open_doc(ints4, sizeof(ints4));
	ut_doc f = ut_open_doc(ut_alumnos4, sizeof(ut_alumnos4));
	ut_doc m = ut_open_doc(mixed4, sizeof(mixed4));
	pf_ref root = pf_docview_root(d.dv);
	pf_child c = ut_child(&d, root, "2", NULL);

	cr_assert_eq(
	    pf_edit_rename_key(d.doc, root, (pk_val *)c.e.key, "1", &unit_err),
	    EPERM);
	cr_assert_eq(pf_edit_add(d.doc, root, "1%int", 0, (const uint8_t *)"x",
				 1, NULL, NULL, &unit_err),
		     EPERM);
	cr_assert_eq(pf_edit_add(d.doc, root, "2", 0, (const uint8_t *)"x", 1,
				 NULL, NULL, &unit_err),
		     EPERM);
	ENCODES_TO(d.doc, ints4);
	/* renamed to itself: no clash with itself */
	cr_assert_eq(
	    pf_edit_rename_key(d.doc, root, (pk_val *)c.e.key, "2", &unit_err),
	    0);
	ENCODES_TO(d.doc, ints4);

	root = pf_docview_root(f.dv);
	c = ut_child(&f, root, "Maria", NULL);
	cr_assert_eq(pf_edit_rename_key(f.doc, root, (pk_val *)c.e.key, "Jose",
					&unit_err),
		     EPERM);
	cr_assert_eq(pf_edit_add(f.doc, root, "Jose", 0, (const uint8_t *)"x",
				 1, NULL, NULL, &unit_err),
		     EPERM);
	ENCODES_TO(f.doc, ut_alumnos4);

	/* True is 1 and 2.0 is 2; 1.5 is no int */
	root = pf_docview_root(m.dv);
	cr_assert_eq(pf_edit_add(m.doc, root, "1%int", 0, (const uint8_t *)"x",
				 1, NULL, NULL, &unit_err),
		     EPERM);
	cr_assert_eq(pf_edit_add(m.doc, root, "2%int", 0, (const uint8_t *)"x",
				 1, NULL, NULL, &unit_err),
		     EPERM);
	ENCODES_TO(m.doc, mixed4);
	cr_assert_eq(pf_edit_add(m.doc, root, "3%int", 0, (const uint8_t *)"x",
				 1, NULL, NULL, &unit_err),
		     0);
	ut_close_doc(&d);
	ut_close_doc(&f);
	ut_close_doc(&m);
}

/* setfattr user.pickle.type: the current text read as the new type. */
Test(edit, convert_reads_the_text_as_the_new_type)
{
	ut_doc f = ut_open_doc(conv4, sizeof(conv4));

	cr_assert_eq(pf_edit_convert(f.doc, ut_path(&f, "s"), "int", &unit_err),
		     0);
	rebuild(&f);
	cr_assert_eq(pf_edit_convert(f.doc, ut_path(&f, "i"), "str", &unit_err),
		     0);
	rebuild(&f);
	/* not a literal of the new type: EINVAL, nothing changes */
	cr_assert_eq(pf_edit_convert(f.doc, ut_path(&f, "f"), "int", &unit_err),
		     EINVAL);
	cr_assert_eq(
	    pf_edit_convert(f.doc, ut_path(&f, "t"), "none", &unit_err),
	    EINVAL);
	cr_assert_eq(
	    pf_edit_convert(f.doc, ut_path(&f, "t"), "list", &unit_err),
	    EINVAL);
	LOADS_AS(f.doc, conv4_done);
	cr_assert_eq(
	    pf_edit_convert(f.doc, ut_path(&f, "s"), "float", &unit_err), 0);
	rebuild(&f);
	cr_assert_eq(
	    pf_edit_convert(f.doc, ut_path(&f, "i"), "bytes", &unit_err), 0);
	rebuild(&f);
	LOADS_AS(f.doc, conv4_more);
	ut_close_doc(&f);
}

Test(edit, a_new_file_type_is_inferred_from_its_content)
{
	static const struct {
		const char *text;
		int kind;
	} cases[] = {{"5", PK_INT},
		     {" -12\n", PK_INT},
		     {"99999999999999999999999", PK_INT},
		     {"2.5", PK_FLOAT},
		     {"1e100", PK_FLOAT},
		     {"inf", PK_FLOAT},
		     {"True", PK_BOOL},
		     {"False\n", PK_BOOL},
		     {"None", PK_NONE},
		     {"(1+2j)", PF_KIND_COMPLEX},
		     {"hello", PK_STR},
		     {"5 apples", PK_STR},
		     {"true", PK_STR},
		     {"", PK_STR}};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		cr_assert_eq(pf_edit_infer_kind((const uint8_t *)cases[k].text,
						strlen(cases[k].text)),
			     cases[k].kind, "'%s'", cases[k].text);
}

/* What write() refuses early: text that no continuation makes a literal
 * of the kind (widening included: an int's file may become a float). */
Test(edit, viable_prefixes)
{
	ut_doc f = ut_open_doc(types4, sizeof(types4));
	int ki = pf_edit_early_kind(ut_path(&f, "i"));
	int kf = pf_edit_early_kind(ut_path(&f, "f"));
	int kb = pf_edit_early_kind(ut_path(&f, "t"));
	static const char *int_ok[] = {"",     "1",  "-",  " 4",
				       "12\n", "9e", "9.", "1_0"};
	static const char *int_bad[] = {"abc", "nine", "1\n5", "1 2", "--1"};
	size_t k;

	cr_assert_neq(ki, 0);
	cr_assert_neq(kf, 0);
	cr_assert_neq(kb, 0);
	cr_assert_eq(pf_edit_early_kind(ut_path(&f, "s")), 0,
		     "any text can be a str");
	cr_assert_eq(pf_edit_early_kind(ut_path(&f, "b")), 0);
	for (k = 0; k < sizeof(int_ok) / sizeof(int_ok[0]); k++)
		cr_assert_eq(pf_edit_viable(ki, (const uint8_t *)int_ok[k],
					    strlen(int_ok[k]), &unit_err),
			     0, "int <- '%s'", int_ok[k]);
	for (k = 0; k < sizeof(int_bad) / sizeof(int_bad[0]); k++)
		cr_assert_eq(pf_edit_viable(ki, (const uint8_t *)int_bad[k],
					    strlen(int_bad[k]), &unit_err),
			     EINVAL, "int <- '%s'", int_bad[k]);
	cr_assert_eq(pf_edit_viable(kf, (const uint8_t *)"1e+", 3, &unit_err),
		     0);
	cr_assert_eq(pf_edit_viable(kf, (const uint8_t *)"1.2.3", 5, &unit_err),
		     EINVAL);
	cr_assert_eq(pf_edit_viable(kb, (const uint8_t *)"Tr", 2, &unit_err),
		     0);
	cr_assert_eq(pf_edit_viable(kb, (const uint8_t *)"2", 1, &unit_err), 0,
		     "a bool may become an int");
	cr_assert_eq(pf_edit_viable(kb, (const uint8_t *)"yes", 3, &unit_err),
		     EINVAL);
	ut_close_doc(&f);
}

/* Unicode digits and spaces are numbers to int() and float(), so to
 * pf_edit_set; their first bytes must not be refused early (`echo ５ >
 * an_int` failed at write() although close() takes it; found by
 * tests/fuzz/fuzz_edit.c). */
Test(edit, viable_takes_unicode_digits_and_spaces)
{
	static const char *const ok[] = {"\xef\xbc\x95", "\xd9\xa5",
					 "\xe2\x80\x83 5", "1.\xd9\xa5"};
	ut_doc f = ut_open_doc(types4, sizeof(types4));
	int ki = pf_edit_early_kind(ut_path(&f, "i"));
	size_t k, j;

	for (k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
		for (j = 0; j <= strlen(ok[k]); j++)
			cr_assert_eq(pf_edit_viable(ki, (const uint8_t *)ok[k],
						    j, &unit_err),
				     0, "'%s', %zu bytes", ok[k], j);
		cr_assert_eq(pf_edit_check(f.doc, ut_path(&f, "i"),
					   (const uint8_t *)ok[k],
					   strlen(ok[k]), &unit_err),
			     0, "'%s'", ok[k]);
	}
	ut_close_doc(&f);
}

/* [{'a': 1}, {'a': 2}, {'a': 3}]; protocol 2: CPython memoizes 'a' once
 * (BINPUT 2) and fetches it for the later dicts (BINGET 2) */
static const uint8_t recs2[] = {128, 2,	  93, 113, 0,  40,  125, 113, 1,   88,
				1,   0,	  0,  0,   97, 113, 2,	 75,  1,   115,
				125, 113, 3,  104, 2,  75,  2,	 115, 125, 113,
				4,   104, 2,  75,  3,  115, 101, 46};
/* [{'a': 1}, {'b': 2}, {'a': 3}]; protocol 2 */
static const uint8_t recs2_mid[] = {
    128, 2,  93, 113, 0,   40,	125, 113, 1,  88, 1, 0,	  0,   0,  97,
    113, 2,  75, 1,   115, 125, 113, 3,	  88, 1,  0, 0,	  0,   98, 113,
    4,	 75, 2,	 115, 125, 113, 5,   104, 2,  75, 3, 115, 101, 46};
/* [{'c': 1}, {'a': 2}, {'a': 3}]: the first written 'a' takes the PUT */
static const uint8_t recs2_first[] = {
    128, 2,  93, 113, 0,   40,	125, 113, 1,  88, 1, 0,	  0,   0,  99,
    113, 2,  75, 1,   115, 125, 113, 3,	  88, 1,  0, 0,	  0,   97, 113,
    4,	 75, 2,	 115, 125, 113, 5,   104, 4,  75, 3, 115, 101, 46};

/* A scalar that GETs fetch elsewhere (here the key 'a' of every record)
 * edited in one place: the new value must not take over the old one's
 * memo PUT, or the GETs after it fetch the new value (renaming 'a' in the
 * second record renamed it in the third; found by tests/fuzz/fuzz_edit.c). */
Test(edit, one_occurrence_of_a_shared_value)
{
	ut_doc f = ut_open_doc(recs2, sizeof(recs2));
	ut_doc g = ut_open_doc(recs2, sizeof(recs2));
	pf_ref dir = ut_path(&f, "1");
	pf_child c = ut_child(&f, dir, "a", NULL);

	cr_assert_eq(
	    pf_edit_rename_key(f.doc, dir, (pk_val *)c.e.key, "b", &unit_err),
	    0);
	rebuild(&f);
	LOADS_AS(f.doc, recs2_mid);
	/* the occurrence that carries the PUT */
	dir = ut_path(&g, "0");
	c = ut_child(&g, dir, "a", NULL);
	cr_assert_eq(
	    pf_edit_rename_key(g.doc, dir, (pk_val *)c.e.key, "c", &unit_err),
	    0);
	rebuild(&g);
	LOADS_AS(g.doc, recs2_first);
	ut_close_doc(&f);
	ut_close_doc(&g);
}
