/* Unit tests of the pointer map (fs/view/ptrmap.c). */
#include <criterion/criterion.h>

#include "ptrmap.h"

Test(ptrmap, put_and_get)
{
	pf_ptrmap m;
	uint64_t v;
	int i, keys[1000];

	pf_ptrmap_init(&m);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(
		    pf_ptrmap_put(&m, &keys[i], (uint32_t)(i & 3), (uint64_t)i),
		    0);
	for (i = 0; i < 1000; i++) {
		cr_assert(pf_ptrmap_get(&m, &keys[i], (uint32_t)(i & 3), &v));
		cr_assert_eq(v, (uint64_t)i);
		cr_assert(!pf_ptrmap_get(&m, &keys[i], 7, &v));
	}
	pf_ptrmap_release(&m);
}
