/*
 * Unit tests of which entries a directory has (fs/view/layout.c, with
 * form.c's recognition of shapes): sets, OrderedDict, defaultdict,
 * numpy arrays, objects' __class__ and state, and layouts read directly
 * (segments, reserved parts).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "docview.h"
#include "layout.h"
#include "pickle.h"
#include "unit.h"
#include "view_fixtures.h"

Test(layout, protocol2_shapes_look_like_what_they_are)
{
	ut_doc f = ut_open_doc(scalars2, scalars2_len);
	pf_ref root = pf_docview_root(f.dv);
	pf_ref bytes, set, fset, od, dd;
	pf_content c;
	uint64_t n;

	bytes = ut_child(&f, root, "0", NULL).e.target;
	cr_assert_str_eq(pf_ref_type_name(bytes), "bytes");
	cr_assert_eq(pf_content_get(f.doc, bytes, 0, &c, NULL), 0);
	cr_assert_eq(c.len, 2);
	cr_assert_eq(c.data[0], 0);
	cr_assert_eq(c.data[1], 0xff);
	pf_content_release(&c);
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "1", NULL).e.target),
	    "(1-2j)\n");
	set = ut_child(&f, root, "2", NULL).e.target;
	cr_assert_str_eq(pf_ref_type_name(set), "set");
	cr_assert_eq(pf_docview_count(f.dv, set, &n), 0);
	cr_assert_eq(n, 2);
	fset = ut_child(&f, root, "3", NULL).e.target;
	cr_assert_str_eq(pf_ref_type_name(fset), "frozenset");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, fset, "0", NULL).e.target), "2\n");
	od = ut_child(&f, root, "4", NULL).e.target;
	cr_assert_str_eq(pf_ref_type_name(od), "dict");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, od, "a", NULL).e.target), "1\n");
	dd = ut_child(&f, root, "5", NULL).e.target;
	cr_assert_str_eq(ut_name_of(&f, dd, 0), "__default_factory__");
	cr_assert_str_eq(
	    ut_content(f.doc,
		       ut_child(&f, dd, "__default_factory__", NULL).e.target),
	    "__builtin__.list\n");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, dd, "z", NULL).e.target), "1\n");
	ut_close_doc(&f);
}

Test(layout, numpy_array_parts)
{
	ut_doc f = ut_open_doc(array2, array2_len);
	pf_ref root = pf_docview_root(f.dv), data;
	pf_content c;
	uint64_t n;

	cr_assert_str_eq(pf_ref_type_name(root), "ndarray");
	cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
	cr_assert_eq(n, 5); /* and the views values.txt, array.npy */
	cr_assert_str_eq(ut_name_of(&f, root, 3), "values.txt");
	cr_assert_str_eq(ut_name_of(&f, root, 4), "array.npy");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "dtype", NULL).e.target),
	    "<i4\n");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "shape", NULL).e.target),
	    "(2, 3)\n");
	data = ut_child(&f, root, "data", NULL).e.target;
	cr_assert_eq(pf_content_get(f.doc, data, 0, &c, NULL), 0);
	cr_assert_eq(c.len, 24);
	cr_assert_eq(c.data[4], 1);
	cr_assert_eq(c.data[20], 5);
	pf_content_release(&c);
	ut_close_doc(&f);
}

Test(layout, objects_show_class_and_state)
{
	ut_doc f = ut_open_doc(inst0, inst0_len);
	pf_ref root = pf_docview_root(f.dv);
	uint64_t n;

	cr_assert_str_eq(pf_ref_type_name(root), "object");
	cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(ut_name_of(&f, root, 0), "__class__");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "__class__", NULL).e.target),
	    "__main__.P\n");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "x", NULL).e.target), "1\n");
	ut_close_doc(&f);
}

/* The layouts themselves: entry counts, what each entry is, the
 * reserved parts, and a scalar that has none. */
Test(layout, built_directly)
{
	ut_doc f = ut_open_doc(scalars2, scalars2_len);
	ut_doc a = ut_open_doc(array2, array2_len);
	pf_ref root = pf_docview_root(f.dv), dd, one;
	pf_layout l;
	pf_entry e;
	uint64_t i, sum = 0;
	uint32_t s;
	int64_t k;

	/* the list: 6 items named by index */
	cr_assert_eq(pf_layout_build(f.doc, root, &l), 0);
	cr_assert_eq(l.n, 6);
	cr_assert(l.indexed);
	for (s = 0; s < l.nsegs; s++)
		sum += l.segs[s].count;
	cr_assert_eq(sum, l.n, "the segments hold every entry");
	for (i = 0; i < l.n; i++) {
		pf_layout_entry(&l, i, &e);
		cr_assert_eq(e.index, i);
		cr_assert_null(e.reserved);
	}
	pf_layout_release(&l);

	/* defaultdict(list, z=1): the reserved factory, then the key */
	dd = ut_child(&f, root, "5", NULL).e.target;
	cr_assert(pf_ref_is_dir(dd));
	cr_assert_eq(pf_layout_build(f.doc, dd, &l), 0);
	cr_assert_eq(l.n, 2);
	cr_assert(!l.indexed);
	pf_layout_entry(&l, 0, &e);
	cr_assert_str_eq(e.reserved, "__default_factory__");
	pf_layout_entry(&l, 1, &e);
	cr_assert_null(e.reserved);
	cr_assert_not_null(e.key);
	cr_assert_str_eq(ut_content(f.doc, e.target), "1\n");
	pf_layout_release(&l);

	/* a scalar is no directory */
	one = ut_child(&f, root, "1", NULL).e.target; /* complex: a file */
	cr_assert(!pf_ref_is_dir(one));
	cr_assert_eq(pf_layout_build(f.doc, one, &l), ENOTDIR);

	/* an array: dtype, shape, data; no order entry (C order); then
	 * values.txt and array.npy (not an image: int32) */
	root = pf_docview_root(a.dv);
	cr_assert_eq(pf_layout_build(a.doc, root, &l), 0);
	cr_assert_eq(l.n, 5);
	cr_assert_eq(pf_layout_find_part(&l, PF_PART_VALUES), 3);
	cr_assert_eq(pf_layout_find_part(&l, PF_PART_NPY), 4);
	cr_assert_eq(pf_layout_find_part(&l, PF_PART_IMAGE), -1);
	k = pf_layout_find_part(&l, PF_PART_DATA);
	cr_assert_eq(k, 2);
	pf_layout_entry(&l, (uint64_t)k, &e);
	cr_assert_str_eq(e.reserved, "data");
	cr_assert_eq(e.target.part, PF_PART_DATA);
	cr_assert_eq(pf_layout_find_part(&l, PF_PART_DTYPE), 0);
	cr_assert_eq(pf_layout_find_part(&l, PF_PART_ORDER), -1);
	pf_layout_release(&l);
	ut_close_doc(&f);
	ut_close_doc(&a);
}
