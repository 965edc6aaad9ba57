/*
 * Unit tests of fs/view/names.c: escaping, the injective naming of one
 * directory (priorities and "%TYPE" suffixes), long names, list indices.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static char *escaped(const char *s, size_t n)
{
	static char out[1024];
	pk_buf b = PK_BUF_INIT;

	cr_assert_eq(pf_name_escape((const uint8_t *)s, n, &b), 0);
	cr_assert_lt(b.len, sizeof(out));
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	pk_buf_release(&b);
	return out;
}

Test(fs_names, escapes_what_a_name_cannot_hold)
{
	cr_assert_str_eq(escaped("plain", 5), "plain");
	cr_assert_str_eq(escaped("a/b", 3), "a%2Fb");
	cr_assert_str_eq(escaped("50%", 3), "50%25");
	cr_assert_str_eq(escaped("x\0y", 3), "x%00y");
	cr_assert_str_eq(escaped("", 0), "%");
	cr_assert_str_eq(escaped(".", 1), "%2E");
	cr_assert_str_eq(escaped("..", 2), "%2E%2E");
	cr_assert_str_eq(escaped("...", 3), "...");
	cr_assert_str_eq(escaped(".hidden", 7), ".hidden");
	cr_assert_str_eq(escaped("caf\xc3\xa9", 5), "caf\xc3\xa9");
}

static int unescape(const char *name, char *out, size_t *n)
{
	pk_buf b = PK_BUF_INIT;
	int rc = pf_name_unescape(name, strlen(name), &b);

	if (rc == 0) {
		memcpy(out, b.data ? (char *)b.data : "", b.len);
		*n = b.len;
	}
	pk_buf_release(&b);
	return rc;
}

Test(fs_names, unescape_is_the_exact_inverse)
{
	char out[64];
	size_t n;

	cr_assert_eq(unescape("a%2Fb", out, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(out, "a/b", 3), 0);
	cr_assert_eq(unescape("%", out, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(unescape("x%00y", out, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(unescape("%2E%2E", out, &n), 0);
	cr_assert_eq(memcmp(out, "..", 2), 0);
	/* not what escape produces: no key has these names */
	cr_assert_eq(unescape("%41", out, &n), -1);
	cr_assert_eq(unescape("a%2fb", out, &n), -1);
	cr_assert_eq(unescape("1%int", out, &n), -1);
	cr_assert_eq(unescape("50%", out, &n), -1);
	cr_assert_eq(unescape("%2E%2E%2E", out, &n), -1);
}

static void build(pf_names *t, const pf_name_cand *c, uint32_t n)
{
	pf_names_init(t);
	cr_assert_eq(pf_names_build(t, c, n), 0);
}

static int is(const pf_names *t, uint32_t i, const char *want)
{
	return t->v[i].len == strlen(want) &&
	       memcmp(t->v[i].s, want, t->v[i].len) == 0;
}

Test(fs_names, str_keys_keep_their_names_other_keys_yield)
{
	/* {1: .., '1': .., None: .., 'None': ..} */
	pf_name_cand c[] = {
	    {"1", 1, PF_PRIO_OTHER, "int"},
	    {"1", 1, PF_PRIO_STR, "str"},
	    {"None", 4, PF_PRIO_OTHER, "none"},
	    {"None", 4, PF_PRIO_STR, "str"},
	};
	pf_names t;

	build(&t, c, 4);
	cr_assert(is(&t, 0, "1%int"));
	cr_assert(is(&t, 1, "1"));
	cr_assert(is(&t, 2, "None%none"));
	cr_assert(is(&t, 3, "None"));
	cr_assert_eq(pf_names_find(&t, "1%int", 5), 0);
	cr_assert_eq(pf_names_find(&t, "1", 1), 1);
	cr_assert_eq(pf_names_find(&t, "2", 1), -1);
	pf_names_release(&t);
}

Test(fs_names, same_type_twice_gets_a_number)
{
	/* two NaN keys, and a str key that looks like a suffixed name */
	pf_name_cand c[] = {
	    {"nan", 3, PF_PRIO_OTHER, "float"},
	    {"nan", 3, PF_PRIO_OTHER, "float"},
	    {"nan", 3, PF_PRIO_OTHER, "float"},
	    {"nan%25float", 11, PF_PRIO_STR, "str"},
	};
	pf_names t;

	build(&t, c, 4);
	cr_assert(is(&t, 0, "nan"));
	cr_assert(is(&t, 1, "nan%float"));
	cr_assert(is(&t, 2, "nan%float2"));
	cr_assert(is(&t, 3, "nan%25float"));
	pf_names_release(&t);
}

Test(fs_names, reserved_names_come_first)
{
	pf_name_cand c[] = {
	    {"__class__", 9, PF_PRIO_STR, "str"},
	    {"__class__", 9, PF_PRIO_RESERVED, "attr"},
	};
	pf_names t;

	build(&t, c, 2);
	cr_assert(is(&t, 1, "__class__"));
	cr_assert(is(&t, 0, "__class__%str"));
	pf_names_release(&t);
}

Test(fs_names, long_names_are_cut_at_a_character)
{
	char longname[400];
	pf_name_cand c[2];
	pf_names t;
	size_t i;

	/* 'é' is two bytes: a cut at 200 must not split one */
	longname[0] = 'x';
	for (i = 1; i + 1 < 301; i += 2) {
		longname[i] = (char)0xc3;
		longname[i + 1] = (char)0xa9;
	}
	c[0] = (pf_name_cand){longname, 301, PF_PRIO_STR, "str"};
	c[1] = (pf_name_cand){longname, 299, PF_PRIO_STR, "str"};
	build(&t, c, 2);
	cr_assert_leq(t.v[0].len, 255);
	cr_assert_eq(memcmp(t.v[0].s + t.v[0].len - 5, "%long", 5), 0);
	cr_assert_eq(t.v[0].len, 199 + 5);
	cr_assert_eq(memcmp(t.v[1].s + t.v[1].len - 6, "%long2", 6), 0);
	pf_names_release(&t);
}

Test(fs_names, split_reads_back_the_suffix)
{
	size_t base, tl;
	const char *type;
	unsigned k;

	cr_assert_eq(pf_name_split("1%int", 5, &base, &type, &tl, &k), 0);
	cr_assert_eq(base, 1);
	cr_assert_eq(tl, 3);
	cr_assert_eq(k, 1);
	cr_assert_eq(pf_name_split("nan%float2", 10, &base, &type, &tl, &k), 0);
	cr_assert_eq(k, 2);
	cr_assert_eq(memcmp(type, "float", 5), 0);
	cr_assert_eq(pf_name_split("plain", 5, &base, &type, &tl, &k), -1);
	cr_assert_eq(pf_name_split("a%25b", 5, &base, &type, &tl, &k), -1);
	cr_assert_eq(pf_name_split("x%str1", 6, &base, &type, &tl, &k), -1);
}

Test(fs_names, list_indices)
{
	char buf[24];
	uint64_t v;

	pf_index_name(1234, buf);
	cr_assert_str_eq(buf, "1234");
	cr_assert_eq(pf_index_parse("0", 1, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(pf_index_parse("17", 2, &v), 0);
	cr_assert_eq(v, 17);
	cr_assert_eq(pf_index_parse("017", 3, &v), -1);
	cr_assert_eq(pf_index_parse("+1", 2, &v), -1);
	cr_assert_eq(pf_index_parse("", 0, &v), -1);
	cr_assert_eq(pf_index_parse("1a", 2, &v), -1);
}

Test(fs_names, many_names_stay_distinct)
{
	enum { N = 5000 };
	static pf_name_cand c[N];
	static char text[N][8];
	pf_names t;
	uint32_t i;

	/* the same natural name 5000 times: 1 bare, 4999 numbered */
	for (i = 0; i < N; i++) {
		snprintf(text[i], sizeof(text[i]), "k");
		c[i] = (pf_name_cand){text[i], 1, PF_PRIO_OTHER, "object"};
	}
	build(&t, c, N);
	for (i = 0; i < N; i++)
		cr_assert_eq(pf_names_find(&t, t.v[i].s, t.v[i].len), i);
	pf_names_release(&t);
}

/* A name is at most 255 bytes also when a 240-byte natural name takes a
 * long suffix: 101 equal pickle-buffer keys made "<240 bytes>
 * %picklebuffer100", 256 bytes (found reading names.c, confirmed with
 * tests/fuzz/fuzz_names.c on a 557-byte pickle). The base is cut to fit,
 * at a character boundary. */
Test(fs_names, suffixed_names_fit_in_255_bytes)
{
	static char ascii[241], utf8[241];
	pf_name_cand c[202];
	pf_names t;
	uint32_t i;

	memset(ascii, 'a', 240);
	for (i = 0; i < 240; i += 2)
		memcpy(utf8 + i, "\xc3\xa9", 2);
	for (i = 0; i < 202; i++) {
		c[i].nat = i < 101 ? ascii : utf8;
		c[i].natlen = 240;
		c[i].prio = PF_PRIO_OTHER;
		c[i].type = "picklebuffer";
	}
	build(&t, c, 202);
	for (i = 0; i < 202; i++) {
		cr_assert_leq(t.v[i].len, 255, "name %u: %u bytes", i,
			      t.v[i].len);
		cr_assert_eq(pf_names_find(&t, t.v[i].s, t.v[i].len), i);
	}
	cr_assert(is(&t, 0, ascii));
	cr_assert_eq(t.v[99].len, 255); /* the whole base, "%picklebuffer99" */
	cr_assert_eq(memcmp(t.v[99].s + 240, "%picklebuffer99", 15), 0);
	cr_assert_eq(t.v[100].len, 255);
	cr_assert_eq(memcmp(t.v[100].s + 239, "%picklebuffer100", 16), 0);
	/* two-byte characters: cut to 238 bytes, not inside one */
	cr_assert_eq(t.v[201].len, 254);
	cr_assert_eq(memcmp(t.v[201].s + 238, "%picklebuffer100", 16), 0);
	pf_names_release(&t);
}
