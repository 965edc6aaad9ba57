/*
 * Unit tests of the view of a decoded pickle as directories
 * (fs/view/docview.c): entries and their names in order, lookups, first
 * occurrences and relative links for shared containers, the wrapped
 * scalar top value, subdirectory counts, and nesting deeper than any
 * stack.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "docview.h"
#include "pickle.h"
#include "unit.h"
#include "view_fixtures.h"

Test(docview, dict_entries_in_insertion_order_with_names)
{
	ut_doc f = ut_open_doc(names4, names4_len);
	pf_ref root = pf_docview_root(f.dv);
	const char *want[] = {
	    "plain",	 "a%2Fb", "%",	  "%2E",      "%2E%2E", "1%int", "1",
	    "None%none", "None",  "b'k'", "(1, 'a')", "1.5",	"%2541"};
	uint64_t n, i;

	cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
	cr_assert_eq(n, 13);
	for (i = 0; i < n; i++)
		cr_assert_str_eq(ut_name_of(&f, root, i), want[i]);
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "1%int", NULL).e.target),
	    "6\n");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "1", NULL).e.target), "7\n");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "%", NULL).e.target), "3\n");
	ut_close_doc(&f);
}

Test(docview, shared_containers_are_relative_links)
{
	ut_doc f = ut_open_doc(graph4, graph4_len);
	pf_ref root = pf_docview_root(f.dv);
	pf_child a, b, c, deep, rec, self, pair;
	uint64_t ib, ideep, iself, ip0, nsub;
	pk_buf link = PK_BUF_INIT;

	a = ut_child(&f, root, "a", NULL);
	b = ut_child(&f, root, "b", &ib);
	cr_assert_eq(a.look, PF_LOOK_DIR);
	cr_assert_eq(b.look, PF_LOOK_LINK);
	cr_assert_eq(pf_docview_link(f.dv, root, ib, &link), 0);
	cr_assert_str_eq((char *)link.data, "a");

	c = ut_child(&f, root, "c", NULL);
	deep = ut_child(&f, c.e.target, "deep", &ideep);
	cr_assert_eq(deep.look, PF_LOOK_LINK);
	pk_buf_reset(&link);
	cr_assert_eq(pf_docview_link(f.dv, c.e.target, ideep, &link), 0);
	cr_assert_str_eq((char *)link.data, "../a");

	rec = ut_child(&f, root, "rec", NULL);
	self = ut_child(&f, rec.e.target, "self", &iself);
	cr_assert_eq(self.look, PF_LOOK_LINK);
	pk_buf_reset(&link);
	cr_assert_eq(pf_docview_link(f.dv, rec.e.target, iself, &link), 0);
	cr_assert_str_eq((char *)link.data, ".");

	pair = ut_child(&f, root, "pair", NULL);
	ut_child(&f, pair.e.target, "0", &ip0);
	pk_buf_reset(&link);
	cr_assert_eq(pf_docview_link(f.dv, pair.e.target, ip0, &link), 0);
	cr_assert_str_eq((char *)link.data, "../a");

	/* a, c, rec, pair are directories; b is a link */
	cr_assert_eq(pf_docview_nsubdirs(f.dv, root, &nsub), 0);
	cr_assert_eq(nsub, 4);
	pk_buf_release(&link);
	ut_close_doc(&f);
}

Test(docview, a_scalar_top_value_is_wrapped)
{
	ut_doc f = ut_open_doc(scalar_root, scalar_root_len);
	pf_ref root = pf_docview_root(f.dv);
	uint64_t n;

	cr_assert_eq(root.part, PF_PART_WRAP);
	cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(ut_name_of(&f, root, 0), "__value__");
	cr_assert_str_eq(
	    ut_content(f.doc, ut_child(&f, root, "__value__", NULL).e.target),
	    "42\n");
	ut_close_doc(&f);
}

Test(docview, lookups_of_missing_names_fail)
{
	ut_doc f = ut_open_doc(scalars3, scalars3_len);
	pf_ref root = pf_docview_root(f.dv);
	pf_child c;
	uint64_t i;

	cr_assert_eq(pf_docview_lookup(f.dv, root, "10", 2, &i), ENOENT);
	cr_assert_eq(pf_docview_lookup(f.dv, root, "01", 2, &i), ENOENT);
	cr_assert_eq(pf_docview_lookup(f.dv, root, "x", 1, &i), ENOENT);
	cr_assert_eq(pf_docview_child(f.dv, root, 10, &c), ENOENT);
	ut_close_doc(&f);
}

/* A list nested 200000 deep: the walk and the views cost heap, not
 * stack (ASan would catch a stack overflow). */
Test(docview, deep_nesting_is_iterative)
{
	enum { DEPTH = 200000 };
	uint8_t *p = malloc(DEPTH * 2 + 4), *q = p;
	ut_doc f;
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
	f = ut_open_doc(p, (size_t)(q - p));
	dir = pf_docview_root(f.dv);
	for (i = 0; i < 1000; i++) {
		cr_assert_eq(pf_docview_child(f.dv, dir, 0, &c), 0);
		cr_assert_eq(c.look, PF_LOOK_DIR);
		dir = c.e.target;
	}
	ut_close_doc(&f);
	free(p);
}

/* Entries of dir that look like directories, one by one. */
static uint64_t count_dir_entries(ut_doc *f, pf_ref dir)
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
Test(docview, nsubdirs_counts_the_entries_that_are_directories)
{
	/* {'a': [1], 'b': 2, 'c': {'d': (1,), 'e': 'x'}}; protocol 4 */
	static const uint8_t tree4[] = {
	    128, 4,   149, 44,	0,   0,	  0,   0,  0,	0,   0,	  125, 148, 40,
	    140, 1,   97,  148, 93,  148, 75,  1,  97,	140, 1,	  98,  148, 75,
	    2,	 140, 1,   99,	148, 125, 148, 40, 140, 1,   100, 148, 75,  1,
	    133, 148, 140, 1,	101, 148, 140, 1,  120, 148, 117, 117, 46};
	const struct {
		const uint8_t *p;
		size_t n;
	} docs[] = {{graph4, graph4_len}, {tree4, sizeof(tree4)},
		    {names4, names4_len}, {scalars2, scalars2_len},
		    {array2, array2_len}, {inst0, inst0_len}};
	size_t d;

	for (d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		ut_doc f = ut_open_doc(docs[d].p, docs[d].n);
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
		ut_close_doc(&f);
	}
}

/* {'k0': {'x0': 0}, 'k1': {'x1': 1}, ...}: n small dicts, protocol 2 */
static uint8_t *many_small_dicts(uint32_t n, size_t *len)
{
	pk_buf b = PK_BUF_INIT;
	uint32_t i;

	cr_assert_eq(pk_buf_add(&b, "\x80\x02}(", 4), 0);
	for (i = 0; i < n; i++) {
		char k[16], x[16];
		int kl = snprintf(k, sizeof(k), "k%u", i);
		int xl = snprintf(x, sizeof(x), "x%u", i);
		cr_assert_eq(pk_buf_addc(&b, 'U'), 0); /* SHORT_BINSTRING */
		cr_assert_eq(pk_buf_addc(&b, (char)kl), 0);
		cr_assert_eq(pk_buf_add(&b, k, (size_t)kl), 0);
		cr_assert_eq(pk_buf_add(&b, "}U", 2), 0);
		cr_assert_eq(pk_buf_addc(&b, (char)xl), 0);
		cr_assert_eq(pk_buf_add(&b, x, (size_t)xl), 0);
		cr_assert_eq(pk_buf_add(&b, "K\x00s", 3), 0);
	}
	cr_assert_eq(pk_buf_add(&b, "u.", 2), 0);
	*len = b.len;
	return b.data;
}

Test(docview, the_directory_caches_stay_bounded_and_correct)
{
	size_t len, after_first, after_all;
	uint8_t *p = many_small_dicts(20000, &len);
	ut_doc f = ut_open_doc(p, len);
	pf_ref root = pf_docview_root(f.dv);
	char name[16];
	uint32_t i;

	/* visit 20000 small directories, naming their entries, as a walk
	 * with ls in each would */
	for (i = 0; i < 20000; i++) {
		pf_ref d;
		snprintf(name, sizeof(name), "k%u", i);
		d = ut_child(&f, root, name, NULL).e.target;
		snprintf(name, sizeof(name), "x%u", i);
		ut_child(&f, d, name, NULL);
		if (i == 999)
			after_first = pf_docview_bytes(f.dv);
	}
	after_all = pf_docview_bytes(f.dv);
	/* 20x the directories, not 20x the memory: at most 4096 small
	 * ones are kept (the root, with 20000 names, stays) */
	cr_assert_lt(after_all, after_first * 6,
		     "%zu bytes after 1000, %zu "
		     "after 20000",
		     after_first, after_all);
	/* a dropped directory is built again, with the same names */
	ut_child(&f, ut_child(&f, root, "k0", NULL).e.target, "x0", NULL);
	cr_assert_str_eq(
	    ut_name_of(&f, ut_child(&f, root, "k7", NULL).e.target, 0), "x7");
	ut_close_doc(&f);
	free(p);
}

/* {READONLY_BUFFER(NEXT_BUFFER): None, 'a': 1}; protocol 5: the first
 * key's bytes are not in the pickle, so it has no repr; it is named by
 * its type, and the dict lists (its names failed with EIO, and so did
 * the whole directory; found by tests/fuzz/fuzz_edit.c). */
Test(docview, a_key_without_bytes_is_named_by_its_type)
{
	static const uint8_t p[] = {0x80, 5, '}', '(', 0x97, 0x98, 'N',
				    0x8c, 1, 'a', 'K', 1,    'u',  '.'};
	ut_doc f = ut_open_doc(p, sizeof(p));
	pf_ref root = pf_docview_root(f.dv);
	uint64_t n;

	cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(ut_name_of(&f, root, 0), "<picklebuffer>");
	cr_assert_str_eq(ut_name_of(&f, root, 1), "a");
	ut_close_doc(&f);
}

/* {Decimal-like call of a STACK_GLOBAL whose module is a protocol 0
 * UNICODE str (not readable in place): 1}: the call is named by its
 * type, "<object>", and the dict lists (found by
 * tests/fuzz/fuzz_edit.c). */
Test(docview, a_key_whose_class_cannot_be_read_still_lists)
{
	static const uint8_t p[] = {'V', 'm', '\n', 'p', '0',  '\n', 0x80, 4,
				    '}', '(', 'h',  0,	 0x8c, 1,    'D',  0x93,
				    ')', 'R', 'K',  1,	 'u',  '.'};
	ut_doc f = ut_open_doc(p, sizeof(p));
	pf_ref root = pf_docview_root(f.dv);
	uint64_t n;

	cr_assert_eq(pf_docview_count(f.dv, root, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(ut_name_of(&f, root, 0), "<object>");
	ut_close_doc(&f);
}
