/*
 * Unit tests of fs/view/entries.c: the names and ids an edited directory
 * keeps. The pickle was written by CPython 3.11 (pickle.dumps of the
 * value in the comment, protocol 4).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "docview.h"
#include "entries.h"
#include "pickle.h"

/* {'a': [10, 20, 30], 'b': 2, 'c': 3} */
static const uint8_t small4[] = {
    128, 4, 149, 31,  0,  0,   0,   0,	0,  0,	 0,  125, 148, 40,
    140, 1, 97,	 148, 93, 148, 40,  75, 10, 75,	 20, 75,  30,  101,
    140, 1, 98,	 148, 75, 2,   140, 1,	99, 148, 75, 3,	  117, 46};

static pk_doc *doc;
static pf_docview *dv;

static void setup(void)
{
	pk_err e;

	cr_assert_eq(pk_decode(small4, sizeof(small4), 0, &doc, &e), PK_OK,
		     "decode: %s at %zu", e.msg ? e.msg : "", (size_t)e.offset);
	cr_assert_eq(pf_docview_new(doc, &dv), 0);
}

static void teardown(void)
{
	pf_docview_free(dv);
	pk_doc_free(doc);
}

static const char *name_at(pf_entries *t, size_t row)
{
	return pf_entries_name(t, row, NULL);
}

TestSuite(entries, .init = setup, .fini = teardown);

Test(entries, snapshot_names_and_ids)
{
	pf_entries *t;

	cr_assert_eq(pf_entries_new(dv, pf_docview_root(dv), &t), 0);
	cr_assert_eq(t->n, 3);
	cr_assert_str_eq(name_at(t, 0), "a");
	cr_assert_str_eq(name_at(t, 2), "c");
	cr_assert_eq(pf_entries_find_name(t, "b", 1), 1);
	cr_assert_eq(pf_entries_find_name(t, "d", 1), -1);
	cr_assert_eq(pf_entries_find_id(t, 2), 2);
	cr_assert_eq(pf_entries_find_id(t, 3), -1);
	pf_entries_free(t);
}

Test(entries, removal_keeps_the_other_names_and_ids)
{
	pf_child ch;
	pf_entries *t;
	pf_ref list;

	cr_assert_eq(pf_docview_child(dv, pf_docview_root(dv), 0, &ch), 0);
	list = ch.e.target;
	cr_assert_eq(pf_entries_new(dv, list, &t), 0);
	cr_assert_eq(t->n, 3);
	pf_entries_remove(t, 1); /* rm l/1 */
	cr_assert_eq(t->n, 2);
	cr_assert_str_eq(name_at(t, 1), "2");
	cr_assert_eq(pf_entries_find_name(t, "1", 1), -1);
	cr_assert_eq(pf_entries_find_name(t, "2", 1), 1);
	/* id 2 is now at position 1; id 1 is gone */
	cr_assert_eq(pf_entries_find_id(t, 2), 1);
	cr_assert_eq(pf_entries_find_id(t, 1), -1);
	cr_assert_eq(pf_entries_next_index(t), 3);
	pf_entries_free(t);
}

Test(entries, ids_are_never_given_twice)
{
	pf_entries *t;
	uint64_t id1, id2;

	cr_assert_eq(pf_entries_new(dv, pf_docview_root(dv), &t), 0);
	pf_entries_remove(t, 2);			     /* rm c */
	cr_assert_eq(pf_entries_insert(t, 2, "c", &id1), 0); /* echo > c */
	cr_assert_neq(id1, 2, "the new c must not be the old c");
	cr_assert_eq(pf_entries_find_id(t, 2), -1);
	cr_assert_eq(pf_entries_find_name(t, "c", 1), 2);
	pf_entries_remove(t, 2);
	cr_assert_eq(pf_entries_insert(t, 2, "c", &id2), 0);
	cr_assert_neq(id2, id1);
	pf_entries_free(t);
}

Test(entries, rename_and_insert_in_the_middle)
{
	pf_entries *t;
	uint64_t id;

	cr_assert_eq(pf_entries_new(dv, pf_docview_root(dv), &t), 0);
	cr_assert_eq(pf_entries_rename(t, 1, "bee"), 0);
	cr_assert_eq(pf_entries_find_name(t, "b", 1), -1);
	cr_assert_eq(pf_entries_find_name(t, "bee", 3), 1);
	cr_assert_eq(pf_entries_find_id(t, 1), 1, "a rename keeps the id");
	cr_assert_eq(pf_entries_insert(t, 1, "new", &id), 0);
	cr_assert_str_eq(name_at(t, 2), "bee");
	cr_assert_eq(pf_entries_find_id(t, 1), 2);
	cr_assert_eq(pf_entries_find_id(t, id), 1);
	pf_entries_free(t);
}

Test(entries, many_rows_grow_and_stay_findable)
{
	pf_entries *t;
	char name[32];
	uint64_t id, i;

	cr_assert_eq(pf_entries_new(dv, pf_docview_root(dv), &t), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "k%llu", (unsigned long long)i);
		cr_assert_eq(pf_entries_insert(t, t->n, name, &id), 0);
		cr_assert_eq(id, 3 + i);
	}
	for (i = 0; i < 5000; i += 7) {
		snprintf(name, sizeof(name), "k%llu", (unsigned long long)i);
		cr_assert_eq(pf_entries_find_name(t, name, strlen(name)),
			     (int64_t)(3 + i));
		cr_assert_eq(pf_entries_find_id(t, 3 + i), (int64_t)(3 + i));
	}
	pf_entries_free(t);
}

Test(entries, next_index_of_an_empty_list_is_0)
{
	pf_child ch;
	pf_entries *t;

	cr_assert_eq(pf_docview_child(dv, pf_docview_root(dv), 0, &ch), 0);
	cr_assert_eq(pf_entries_new(dv, ch.e.target, &t), 0);
	pf_entries_remove(t, 0);
	pf_entries_remove(t, 0);
	pf_entries_remove(t, 0);
	cr_assert_eq(t->n, 0);
	cr_assert_eq(pf_entries_next_index(t), 0);
	pf_entries_free(t);
}
