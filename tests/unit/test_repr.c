/*
 * Unit tests of repr() of a value (fs/view/repr.c): the text a key that
 * is not a str is named by, and the user.pickle.key xattr. The cap is a
 * hard limit (an xattr value holds 64 KiB), cut at a character boundary.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pickle.h"
#include "repr.h"
#include "text.h"

/* A protocol 4 pickle of one str made of `count` copies of `unit`. */
static uint8_t *str_pickle(const char *unit, size_t count, size_t *len)
{
	size_t u = strlen(unit), n = u * count, i;
	uint8_t *p = malloc(n + 16);

	cr_assert(p);
	memcpy(p, "\x80\x04\x8d", 3); /* PROTO 4, BINUNICODE8 */
	for (i = 0; i < 8; i++)
		p[3 + i] = (uint8_t)((uint64_t)n >> (8 * i));
	for (i = 0; i < count; i++)
		memcpy(p + 11 + i * u, unit, u);
	p[11 + n] = '.';
	*len = n + 12;
	return p;
}

static void repr_of(const uint8_t *p, size_t len, size_t cap, pk_buf *out)
{
	pk_doc *doc = NULL;

	cr_assert_eq(pk_decode(p, len, 0, &doc, NULL), PK_OK);
	cr_assert_eq(pf_repr(doc, &doc->root, cap, out), 0);
	pk_doc_free(doc);
}

Test(repr, a_long_str_is_cut_to_the_cap_with_a_marker)
{
	size_t len;
	uint8_t *p = str_pickle("k", 100000, &len);
	pk_buf out = PK_BUF_INIT;

	repr_of(p, len, 65536, &out);
	cr_assert_eq(out.len, 65536);
	cr_assert(memcmp(out.data, "'kkk", 4) == 0);
	cr_assert(memcmp(out.data + out.len - 4, "k...", 4) == 0);
	pk_buf_release(&out);
	free(p);
}

Test(repr, a_cut_never_splits_a_character)
{
	size_t len, cap;
	uint8_t *p = str_pickle("\xc3\xa9", 5000, &len); /* é */
	pk_buf out = PK_BUF_INIT;

	for (cap = 100; cap < 108; cap++) {
		pk_buf_reset(&out);
		repr_of(p, len, cap, &out);
		cr_assert_leq(out.len, cap);
		cr_assert_geq(out.len, cap - 1);
		cr_assert(pk_utf8_valid(out.data, out.len, 0),
			  "cap %zu: cut inside a character", cap);
		cr_assert(memcmp(out.data + out.len - 3, "...", 3) == 0);
	}
	pk_buf_release(&out);
	free(p);
}

Test(repr, a_short_value_is_whole)
{
	/* (1, 'a') at protocol 2 */
	static const uint8_t p[] = "\x80\x02K\x01X\x01\x00\x00\x00"
				   "a\x86q\x00.";
	pk_buf out = PK_BUF_INIT;

	repr_of(p, sizeof(p) - 1, 65536, &out);
	cr_assert_eq(out.len, 8);
	cr_assert(memcmp(out.data, "(1, 'a')", 8) == 0);
	pk_buf_release(&out);
}

Test(repr, a_deep_nest_stops_at_the_cap)
{
	/* [[[...]]] 100000 deep */
	size_t n = 100000, len = 2 + (n + 1) + n + 1, i;
	uint8_t *p = malloc(len);
	pk_buf out = PK_BUF_INIT;

	cr_assert(p);
	memcpy(p, "\x80\x02", 2);
	for (i = 0; i <= n; i++)
		p[2 + i] = ']';
	for (i = 0; i < n; i++)
		p[3 + n + i] = 'a';
	p[len - 1] = '.';
	repr_of(p, len, 1000, &out);
	cr_assert_leq(out.len, 1000);
	cr_assert(memcmp(out.data + out.len - 3, "...", 3) == 0);
	pk_buf_release(&out);
	free(p);
}
