/*
 * Unit tests of the inode table (fs/core/inode.c): lookups find the same
 * inode, children keep parents alive, and value inode numbers are stable
 * and grow in listing order.
 */
#include <criterion/criterion.h>

#include "inode.h"

Test(inode, lifetimes)
{
	pf_itable *t = pf_itable_new(PF_I_MIRROR_DIR, ".", NULL, 1);
	pf_inode *root = pf_itable_root(t), *a, *a2, *b;

	a = pf_itable_get(t, root, PF_I_MIRROR_DIR, "a", 0, NULL, 10);
	a2 = pf_itable_get(t, root, PF_I_MIRROR_DIR, "a", 0, NULL, 10);
	cr_assert_eq(a, a2, "a second lookup finds the same inode");
	cr_assert_str_eq(a->path, "a");
	b = pf_itable_get(t, a, PF_I_MIRROR_FILE, "b", 0, NULL, 11);
	cr_assert_str_eq(b->path, "a/b");
	cr_assert_eq(pf_itable_count(t), 2);
	cr_assert_eq(pf_itable_peek(t, a, PF_I_MIRROR_FILE, "b", 0), b);
	/* the kernel forgets a first: b keeps it alive */
	pf_itable_forget(t, a, 2);
	cr_assert_eq(pf_itable_count(t), 2);
	pf_itable_forget(t, b, 1);
	cr_assert_eq(pf_itable_count(t), 0);
	cr_assert_null(pf_itable_peek(t, root, PF_I_MIRROR_DIR, "a", 0));
	pf_itable_free(t);
}

/* pf_value_ino(dir, i): the high 40 bits are those of splitmix64(dir),
 * the low 24 bits i + 2 (inode.c). The expected numbers were computed
 * with Python from the published splitmix64 finalizer: the high 40 bits
 * are 0x494f472421 for dir 5 and 0x5cc6054777 for dir 1. */
Test(inode, value_numbers_are_stable_and_in_listing_order)
{
	uint64_t i;

	cr_assert_eq(pf_value_ino(5, 3), 0x494f472421000005ull);
	cr_assert_eq(pf_value_ino(5, 0), 0x494f472421000002ull);
	cr_assert_eq(pf_value_ino(1, 0), 0x5cc6054777000002ull);
	cr_assert_eq(pf_value_ino(1, 1), 0x5cc6054777000003ull);
	/* past 2^24 - 2 entries: numbered by hash, never 0 or 1 */
	cr_assert_eq(pf_value_ino(5, 1ull << 24), 0x746893cccd79af43ull);
	for (i = 0; i < 1000; i++) {
		cr_assert_lt(pf_value_ino(77, i), pf_value_ino(77, i + 1),
			     "entry %llu", (unsigned long long)i);
		cr_assert_eq(pf_value_ino(77, i) >> 24,
			     pf_value_ino(77, 0) >> 24);
		cr_assert_neq(pf_value_ino(77, i) >> 24,
			      pf_value_ino(78, i) >> 24);
		cr_assert_geq(pf_value_ino(i, (1ull << 24) + i), 2);
	}
}
