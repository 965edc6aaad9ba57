/*
 * Unit tests of what `cat` prints (fs/view/content.c, repr.c): the text
 * forms of every scalar, raw bytes, and the sizes reported without
 * building the content.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "docview.h"
#include "pickle.h"
#include "unit.h"
#include "view_fixtures.h"

Test(content, scalar_text_forms)
{
	ut_doc f = ut_open_doc(scalars3, scalars3_len);
	pf_ref root = pf_docview_root(f.dv);
	pf_content c;
	pf_ref r;

	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "0", NULL).e.target),
	    "h\xc3\xa9\n");
	r = ut_child(&f, root, "1", NULL).e.target;
	cr_assert_eq(pf_content_get(f.doc, r, 0, &c, NULL), 0);
	cr_assert_eq(c.len, 2);
	cr_assert_eq(c.nl, 0);
	cr_assert_eq(c.data[1], 0xff);
	pf_content_release(&c);
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "2", NULL).e.target),
	    "1180591620717411303424\n");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "3", NULL).e.target),
	    "-0.0\n");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "4", NULL).e.target),
	    "1e+100\n");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "5", NULL).e.target),
	    "True\n");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "6", NULL).e.target),
	    "None\n");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "7", NULL).e.target),
	    "(1-2j)\n");
	cr_assert_str_eq(
	    pf_ref_type_name(ut_child(&f, root, "7", NULL).e.target),
	    "complex");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "8", NULL).e.target), "ab");
	cr_assert_str_eq(
	    pf_ref_type_name(ut_child(&f, root, "8", NULL).e.target),
	    "bytearray");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "9", NULL).e.target),
	    "builtins.len\n");
	cr_assert_str_eq(
	    pf_ref_type_name(ut_child(&f, root, "9", NULL).e.target), "global");
	ut_close_doc(&f);
}

/* numpy data at protocol 3 and later is served from the pickle's own
 * bytes (not copied; at protocol 2 it is latin-1 text that must be
 * decoded: a copy, as array2 shows); a directory has no content. */
Test(content, array_data_points_into_the_input)
{
	/* numpy.arange(6, dtype='<i4').reshape(2, 3); protocol 4 */
	static const uint8_t array4[] = {
	    128, 4,   149, 162, 0,   0,	  0,   0,   0,	 0,   0,   140, 21,
	    110, 117, 109, 112, 121, 46,  99,  111, 114, 101, 46,  109, 117,
	    108, 116, 105, 97,	114, 114, 97,  121, 148, 140, 12,  95,	114,
	    101, 99,  111, 110, 115, 116, 114, 117, 99,	 116, 148, 147, 148,
	    140, 5,   110, 117, 109, 112, 121, 148, 140, 7,   110, 100, 97,
	    114, 114, 97,  121, 148, 147, 148, 75,  0,	 133, 148, 67,	1,
	    98,	 148, 135, 148, 82,  148, 40,  75,  1,	 75,  2,   75,	3,
	    134, 148, 104, 3,	140, 5,	  100, 116, 121, 112, 101, 148, 147,
	    148, 140, 2,   105, 52,  148, 137, 136, 135, 148, 82,  148, 40,
	    75,	 3,   140, 1,	60,  148, 78,  78,  78,	 74,  255, 255, 255,
	    255, 74,  255, 255, 255, 255, 75,  0,   116, 148, 98,  137, 67,
	    24,	 0,   0,   0,	0,   1,	  0,   0,   0,	 2,   0,   0,	0,
	    3,	 0,   0,   0,	4,   0,	  0,   0,   5,	 0,   0,   0,	148,
	    116, 148, 98,  46};
	ut_doc f = ut_open_doc(array4, sizeof(array4));
	ut_doc f2 = ut_open_doc(array2, array2_len);
	pf_ref root = pf_docview_root(f.dv), data;
	pf_content c;
	pk_err e;

	data = ut_child(&f, root, "data", NULL).e.target;
	cr_assert_eq(pf_content_get(f.doc, data, 0, &c, NULL), 0);
	cr_assert_eq(c.len, 24);
	cr_assert(c.data >= array4 && c.data + c.len <= array4 + sizeof(array4),
		  "the data is not a copy");
	cr_assert_eq(c.owned.len, 0);
	cr_assert_eq(c.nl, 0);
	cr_assert_eq(c.data[20], 5);
	pf_content_release(&c);
	/* protocol 2: the same bytes, decoded from latin-1 into a copy */
	data = ut_child(&f2, pf_docview_root(f2.dv), "data", NULL).e.target;
	cr_assert_eq(pf_content_get(f2.doc, data, 0, &c, NULL), 0);
	cr_assert_eq(c.len, 24);
	cr_assert(memcmp(c.data, array4 + sizeof(array4) - 29, 24) == 0);
	pf_content_release(&c);
	cr_assert_eq(pf_content_get(f.doc, root, 0, &c, &e), EISDIR);
	cr_assert_str_eq(pf_ref_type_name(root), "ndarray");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "dtype", NULL).e.target),
	    "<i4\n");
	ut_close_doc(&f);
	ut_close_doc(&f2);
}
