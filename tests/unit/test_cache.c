/*
 * Unit tests of the memory bound of parsed pickles (fs/core/cache.c):
 * -o cache_size's parser, and the LRU list driven with items of its own
 * (a try_drop that records what it was asked), so that what is dropped,
 * in which order and what stays is checked exactly. Each Criterion test
 * runs in a process of its own: the cache's global list starts empty.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "cache.h"

Test(cache, sizes)
{
	uint64_t v;

	cr_assert_eq(pf_parse_size("512M", &v), 0);
	cr_assert_eq(v, 512ull << 20);
	cr_assert_eq(pf_parse_size("2G", &v), 0);
	cr_assert_eq(v, 2ull << 30);
	cr_assert_eq(pf_parse_size("100k", &v), 0);
	cr_assert_eq(v, 100ull << 10);
	cr_assert_eq(pf_parse_size("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(pf_parse_size("1MiB", &v), 0);
	cr_assert_eq(v, 1ull << 20);
	cr_assert_eq(pf_parse_size("3KB", &v), 0);
	cr_assert_eq(v, 3ull << 10);
	cr_assert_eq(pf_parse_size("1T", &v), 0);
	cr_assert_eq(v, 1ull << 40);
	cr_assert_eq(pf_parse_size("lots", &v), -1);
	cr_assert_eq(pf_parse_size("-1", &v), -1);
	cr_assert_eq(pf_parse_size("5X", &v), -1);
	cr_assert_eq(pf_parse_size("", &v), -1);
	cr_assert_eq(pf_parse_size("5Mx", &v), -1);
	/* 2^64 bytes and more do not fit: refused, not wrapped */
	cr_assert_eq(pf_parse_size("16777216T", &v), -1);
	v = 7;
	cr_assert_eq(pf_parse_size("M", &v), -1);
	cr_assert_eq(v, 7, "a refused size leaves *out alone");
}

/* Items whose try_drop answers from `busy` and records the order of
 * the drops. */
struct item {
	pf_cache_item it;
	int busy;
	int dropped;
};
static int drops;

static int fake_drop(pf_cache_item *it)
{
	struct item *x = (struct item *)it;

	if (x->busy)
		return 0;
	x->dropped = ++drops;
	return 1;
}

static void init_items(struct item *x, int n)
{
	memset(x, 0, sizeof(*x) * (size_t)n);
	for (int i = 0; i < n; i++)
		x[i].it.try_drop = fake_drop;
	drops = 0;
}

Test(cache, total_counts_what_the_items_hold)
{
	struct item x[3];

	init_items(x, 3);
	pf_cache_set_limit(0);
	cr_assert_eq(pf_cache_limit(), 0);
	cr_assert_eq(pf_cache_total(), 0);
	pf_cache_update(&x[0].it, 100);
	pf_cache_update(&x[1].it, 20);
	cr_assert_eq(pf_cache_total(), 120);
	/* used again with another size: counted once, at the new size */
	pf_cache_update(&x[0].it, 50);
	cr_assert_eq(pf_cache_total(), 70);
	pf_cache_remove(&x[1].it);
	cr_assert_eq(pf_cache_total(), 50);
	cr_assert_eq(x[1].it.linked, 0);
	pf_cache_remove(&x[1].it); /* twice: nothing more */
	cr_assert_eq(pf_cache_total(), 50);
	/* no limit: trim drops nothing */
	pf_cache_update(&x[2].it, 1ull << 40);
	pf_cache_trim();
	cr_assert_eq(drops, 0);
	pf_cache_remove(&x[0].it);
	pf_cache_remove(&x[2].it);
	cr_assert_eq(pf_cache_total(), 0);
}

Test(cache, least_recently_used_go_first_until_it_fits)
{
	struct item x[4];

	init_items(x, 4);
	pf_cache_set_limit(100);
	cr_assert_eq(pf_cache_limit(), 100);
	pf_cache_update(&x[0].it, 40);
	pf_cache_update(&x[1].it, 40);
	pf_cache_update(&x[2].it, 40);
	pf_cache_update(&x[0].it, 40); /* 0 used last: order 0, 2, 1 */
	pf_cache_update(&x[3].it, 40); /* 160 in all: 3, 0, 2, 1 */
	cr_assert_eq(pf_cache_total(), 160);
	pf_cache_trim();
	/* 1 then 2 go (the two least recently used), 80 fits */
	cr_assert_eq(x[1].dropped, 1);
	cr_assert_eq(x[2].dropped, 2);
	cr_assert_eq(x[0].dropped, 0);
	cr_assert_eq(x[3].dropped, 0);
	cr_assert_eq(pf_cache_total(), 80);
	cr_assert_eq(x[1].it.linked, 0);
	cr_assert_eq(x[2].it.linked, 0);
	cr_assert(x[0].it.linked && x[3].it.linked);
	pf_cache_trim(); /* fits: nothing more */
	cr_assert_eq(drops, 2);
}

Test(cache, busy_items_are_skipped_and_the_newest_is_kept)
{
	struct item x[3];

	init_items(x, 3);
	pf_cache_set_limit(10);
	pf_cache_update(&x[0].it, 30);
	pf_cache_update(&x[1].it, 30);
	pf_cache_update(&x[2].it, 30); /* newest */
	x[0].busy = 1;		       /* in use: try_drop refuses */
	pf_cache_trim();
	cr_assert_eq(x[0].dropped, 0);
	cr_assert_eq(x[1].dropped, 1);
	cr_assert_eq(x[2].dropped, 0, "the most recently used item stays");
	cr_assert_eq(pf_cache_total(), 60);
	cr_assert(x[0].it.linked, "a refused drop keeps the item listed");
	x[0].busy = 0;
	pf_cache_trim();
	cr_assert_eq(x[0].dropped, 2);
	/* alone and over the limit: still kept */
	cr_assert_eq(pf_cache_total(), 30);
	pf_cache_trim();
	cr_assert_eq(x[2].dropped, 0);
	cr_assert_eq(drops, 2);
	pf_cache_remove(&x[2].it);
}
