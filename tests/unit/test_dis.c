/*
 * test_dis.c - pk_opcode_info and pk_dis against CPython's pickletools.
 *
 * The fixtures in tests/fixtures/dis/ are made by
 * scripts/make-dis-fixtures.py: NAME.pickle, NAME.dis (the stdout of
 * `python3 -m pickletools NAME.pickle`) and a MANIFEST line saying whether
 * pickletools succeeded or, for malformed pickles, which pk_code at which
 * offset we return. Run from the repo root.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dis.h"
#include "error.h"
#include "opcodes.h"

#define FIXDIR "tests/fixtures/dis/"

/* ---- helpers ----------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	pk_buf b = PK_BUF_INIT;
	uint8_t chunk[65536];
	size_t n;

	cr_assert(f, "cannot open %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cr_assert_eq(pk_buf_add(&b, chunk, n), 0);
	fclose(f);
	return pk_buf_detach(&b, len);
}

/* Reports the first differing line, which says more than a byte count. */
static void expect_same_text(const char *name, const uint8_t *got, size_t glen,
			     const uint8_t *want, size_t wlen)
{
	size_t i = 0, line = 1, bol = 0;

	if (glen == wlen && !memcmp(got, want, glen))
		return;
	while (i < glen && i < wlen && got[i] == want[i]) {
		if (got[i] == '\n') {
			line++;
			bol = i + 1;
		}
		i++;
	}
	{
		const uint8_t *ge = memchr(got + bol, '\n', glen - bol);
		const uint8_t *we = memchr(want + bol, '\n', wlen - bol);
		int gl = (int)(ge ? (size_t)(ge - got) - bol : glen - bol);
		int wl = (int)(we ? (size_t)(we - want) - bol : wlen - bol);

		cr_expect_fail(
		    "%s: line %zu differs\n  got:  %.*s\n  want: %.*s", name,
		    line, gl, (const char *)got + bol, wl,
		    (const char *)want + bol);
	}
}

static int code_from_name(const char *s)
{
	static const struct {
		const char *name;
		int code;
	} codes[] = {
	    {"PK_E_TRUNCATED", PK_E_TRUNCATED},
	    {"PK_E_OPCODE", PK_E_OPCODE},
	    {"PK_E_ARG", PK_E_ARG},
	    {"PK_E_STACK", PK_E_STACK},
	    {"PK_E_MEMO", PK_E_MEMO},
	    {"PK_E_NOMEM", PK_E_NOMEM},
	    {"PK_E_UNSUPPORTED", PK_E_UNSUPPORTED},
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(codes[i].name, s))
			return codes[i].code;
	cr_assert_fail("unknown code %s in MANIFEST", s);
	return -1;
}

struct collect {
	pk_buf all;
	int calls;
	int fail_at; /* make the Nth call fail (0: never) */
};

static int collect_flush(void *ctx, pk_buf *b)
{
	struct collect *c = ctx;

	c->calls++;
	if (c->fail_at && c->calls == c->fail_at)
		return -1;
	cr_assert_eq(pk_buf_add(&c->all, b->data, b->len), 0);
	pk_buf_reset(b);
	return 0;
}

/* Runs one MANIFEST case through pk_dis and pk_dis_stream. */
static void check_case(const char *name, const char *status, long long off,
		       int *nok, int *nerr)
{
	char path[512];
	uint8_t *pkl, *want;
	size_t plen, wlen;
	pk_buf out = PK_BUF_INIT;
	struct collect c = {PK_BUF_INIT, 0, 0};
	pk_err e = {0}, e2 = {0};
	int rc, rc2, want_code;

	snprintf(path, sizeof(path), FIXDIR "%s.pickle", name);
	pkl = slurp(path, &plen);
	snprintf(path, sizeof(path), FIXDIR "%s.dis", name);
	want = slurp(path, &wlen);

	rc = pk_dis(pkl, plen, &out, &e);
	want_code = strcmp(status, "ok") ? code_from_name(status) : PK_OK;
	cr_expect_eq(rc, want_code, "%s: rc %d (%s at %llu), want %s", name, rc,
		     e.msg ? e.msg : "", (unsigned long long)e.offset, status);
	cr_expect_eq(e.code, rc, "%s: e.code disagrees with rc", name);
	if (want_code != PK_OK) {
		cr_expect_eq(e.offset, (uint64_t)off,
			     "%s: offset %llu, want %lld", name,
			     (unsigned long long)e.offset, off);
		cr_expect(e.msg && *e.msg, "%s: no message", name);
	}
	expect_same_text(name, out.data ? out.data : (const uint8_t *)"",
			 out.len, want, wlen);

	rc2 = pk_dis_stream(pkl, plen, collect_flush, &c, &e2);
	cr_expect_eq(rc2, rc, "%s: stream rc %d, want %d", name, rc2, rc);
	cr_expect_eq(e2.offset, e.offset, "%s: stream offset", name);
	cr_expect(c.all.len == out.len &&
		      (!out.len || !memcmp(c.all.data, out.data, out.len)),
		  "%s: stream text differs", name);

	if (rc == want_code && out.len == wlen &&
	    (!wlen || !memcmp(out.data, want, wlen)))
		(*(want_code == PK_OK ? nok : nerr))++;
	pk_buf_release(&out);
	pk_buf_release(&c.all);
	free(pkl);
	free(want);
}

/* ---- the opcode table -------------------------------------------------- */

Test(dis_opcodes, exactly_the_68_opcodes)
{
	int n = 0;

	for (int b = 0; b < 256; b++) {
		const struct pk_opcode_info *i = pk_opcode_info((uint8_t)b);

		if (!i)
			continue;
		n++;
		cr_expect_eq(i->code, b, "byte %#x: code %#x", b, i->code);
		cr_expect(i->name && *i->name, "byte %#x: no name", b);
		cr_expect(i->proto <= 5, "byte %#x: proto %d", b, i->proto);
		cr_expect(i->arg <= PK_ARG_LONG4, "byte %#x: arg %d", b,
			  i->arg);
	}
	cr_expect_eq(n, 68);
}

Test(dis_opcodes, names_args_protocols)
{
	static const struct {
		uint8_t code;
		const char *name;
		int arg, proto;
	} some[] = {
	    {'(', "MARK", PK_ARG_NONE, 0},
	    {'.', "STOP", PK_ARG_NONE, 0},
	    {'I', "INT", PK_ARG_DECIMALNL_SHORT, 0},
	    {'L', "LONG", PK_ARG_DECIMALNL_LONG, 0},
	    {'S', "STRING", PK_ARG_STRINGNL, 0},
	    {'c', "GLOBAL", PK_ARG_STRINGNL_NOESCAPE_PAIR, 0},
	    {'i', "INST", PK_ARG_STRINGNL_NOESCAPE_PAIR, 0},
	    {'P', "PERSID", PK_ARG_STRINGNL_NOESCAPE, 0},
	    {'V', "UNICODE", PK_ARG_UNICODESTRINGNL, 0},
	    {'g', "GET", PK_ARG_DECIMALNL_SHORT, 0},
	    {'F', "FLOAT", PK_ARG_FLOATNL, 0},
	    {'G', "BINFLOAT", PK_ARG_F8, 1},
	    {'J', "BININT", PK_ARG_I4, 1},
	    {'T', "BINSTRING", PK_ARG_STRING4, 1},
	    {'U', "SHORT_BINSTRING", PK_ARG_STRING1, 1},
	    {'X', "BINUNICODE", PK_ARG_UNICODE4, 1},
	    {'j', "LONG_BINGET", PK_ARG_U4, 1},
	    {'}', "EMPTY_DICT", PK_ARG_NONE, 1},
	    {0x80, "PROTO", PK_ARG_U1, 2},
	    {0x82, "EXT1", PK_ARG_U1, 2},
	    {0x83, "EXT2", PK_ARG_U2, 2},
	    {0x84, "EXT4", PK_ARG_I4, 2},
	    {0x8a, "LONG1", PK_ARG_LONG1, 2},
	    {0x8b, "LONG4", PK_ARG_LONG4, 2},
	    {'B', "BINBYTES", PK_ARG_BYTES4, 3},
	    {'C', "SHORT_BINBYTES", PK_ARG_BYTES1, 3},
	    {0x8c, "SHORT_BINUNICODE", PK_ARG_UNICODE1, 4},
	    {0x8d, "BINUNICODE8", PK_ARG_UNICODE8, 4},
	    {0x8e, "BINBYTES8", PK_ARG_BYTES8, 4},
	    {0x94, "MEMOIZE", PK_ARG_NONE, 4},
	    {0x95, "FRAME", PK_ARG_U8, 4},
	    {0x96, "BYTEARRAY8", PK_ARG_BYTEARRAY8, 5},
	    {0x97, "NEXT_BUFFER", PK_ARG_NONE, 5},
	    {0x98, "READONLY_BUFFER", PK_ARG_NONE, 5},
	};

	for (size_t k = 0; k < sizeof(some) / sizeof(some[0]); k++) {
		const struct pk_opcode_info *i = pk_opcode_info(some[k].code);

		cr_assert(i, "%s missing", some[k].name);
		cr_expect_str_eq(i->name, some[k].name);
		cr_expect_eq(i->arg, some[k].arg, "%s arg", some[k].name);
		cr_expect_eq(i->proto, some[k].proto, "%s proto", some[k].name);
	}
	cr_expect_null(pk_opcode_info(0));
	cr_expect_null(pk_opcode_info('\\'));
	cr_expect_null(pk_opcode_info(0x99));
	cr_expect_null(pk_opcode_info(0xff));
}

/* ---- fixtures made by CPython ------------------------------------------ */

Test(dis_fixtures, match_pickletools, .timeout = 60)
{
	FILE *f = fopen(FIXDIR "MANIFEST", "r");
	char line[512], name[256], status[64];
	long long off;
	int nok = 0, nerr = 0, cases = 0, oks = 0;

	cr_assert(f, "run from the repo root: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		off = -1;
		if (sscanf(line, "%255s %63s %lld", name, status, &off) < 2)
			continue;
		cases++;
		oks += !strcmp(status, "ok");
		check_case(name, status, off, &nok, &nerr);
	}
	fclose(f);
	cr_expect_gt(cases, 150, "only %d cases in MANIFEST", cases);
	cr_expect_eq(nok, oks, "%d of %d valid pickles match", nok, oks);
	cr_expect_eq(nerr, cases - oks, "%d of %d malformed ones match", nerr,
		     cases - oks);
	cr_log_info("dis fixtures: %d/%d valid, %d/%d malformed match", nok,
		    oks, nerr, cases - oks);
}

/* ---- direct cases ------------------------------------------------------ */

static void dis_is(const char *pkl, size_t n, int code, uint64_t off,
		   const char *want)
{
	pk_buf out = PK_BUF_INIT;
	pk_err e;
	int rc = pk_dis((const uint8_t *)pkl, n, &out, &e);

	cr_expect_eq(rc, code, "rc %d (%s), want %d", rc, e.msg ? e.msg : "",
		     code);
	if (code)
		cr_expect_eq(e.offset, off, "offset %llu, want %llu",
			     (unsigned long long)e.offset,
			     (unsigned long long)off);
	else
		cr_expect(e.code == PK_OK && !e.msg && !e.offset);
	expect_same_text("direct", out.data ? out.data : (const uint8_t *)"",
			 out.len, (const uint8_t *)want, strlen(want));
	pk_buf_release(&out);
}

#define DIS_IS(lit, code, off, want)                                           \
	dis_is(lit, sizeof(lit) - 1, code, off, want)

Test(dis_direct, appends_to_existing_output)
{
	pk_buf out = PK_BUF_INIT;

	cr_assert_eq(pk_buf_adds(&out, "keep\n"), 0);
	cr_assert_eq(pk_dis((const uint8_t *)"N.", 2, &out, NULL), PK_OK);
	cr_expect_str_eq((const char *)out.data,
			 "keep\n"
			 "    0: N    NONE\n"
			 "    1: .    STOP\n"
			 "highest protocol among opcodes = 0\n");
	pk_buf_release(&out);
}

Test(dis_direct, stops_after_first_stop)
{
	DIS_IS("K\x01.K\x02.", PK_OK, 0,
	       "    0: K    BININT1    1\n"
	       "    2: .    STOP\n"
	       "highest protocol among opcodes = 1\n");
}

Test(dis_direct, offsets_wider_than_five_columns)
{
	/* BINBYTES of 99990 bytes fills offsets 0..99994 */
	size_t n = 99995 + 7;
	uint8_t *p = calloc(n, 1);
	pk_buf out = PK_BUF_INIT;

	cr_assert(p);
	memcpy(p, "B\x96\x86\x01\x00", 5);
	memcpy(p + 99995, "0N0N0N.", 7);
	cr_expect_eq(pk_dis(p, n, &out, NULL), PK_OK);
	cr_expect(strstr((const char *)out.data, "\\x00'\n"
						 "99995: 0    POP\n"
						 "99996: N    NONE\n"
						 "99997: 0    POP\n"
						 "99998: N    NONE\n"
						 "99999: 0    POP\n"
						 "100000: N    NONE\n"
						 "100001: .    STOP\n"));
	pk_buf_release(&out);
	free(p);
}

Test(dis_direct, malformed_offsets)
{
	DIS_IS("", PK_E_TRUNCATED, 0, "");
	DIS_IS("N", PK_E_TRUNCATED, 1, "    0: N    NONE\n");
	DIS_IS("N\xff", PK_E_OPCODE, 1, "    0: N    NONE\n");
	DIS_IS("NX\x01\x00\x00", PK_E_TRUNCATED, 1, "    0: N    NONE\n");
	DIS_IS("N\x8e\x00\x00\x00\x00\x00\x00\x00\x80x", PK_E_TRUNCATED, 1,
	       "    0: N    NONE\n");
	DIS_IS("N\x8e\xff\xff\xff\xff\xff\xff\xff\xff", PK_E_TRUNCATED, 1,
	       "    0: N    NONE\n");
	DIS_IS("Ng7\n", PK_E_MEMO, 1,
	       "    0: N    NONE\n"
	       "    1: g    GET        7\n");
	DIS_IS("N0.", PK_E_STACK, 2,
	       "    0: N    NONE\n"
	       "    1: 0    POP\n"
	       "    2: .    STOP\n");
	DIS_IS("\x80\x02\x8a\x01", PK_E_TRUNCATED, 2,
	       "    0: \\x80 PROTO      2\n");
}

Test(dis_direct, null_err_is_fine)
{
	pk_buf out = PK_BUF_INIT;

	cr_expect_eq(pk_dis((const uint8_t *)"\xff", 1, &out, NULL),
		     PK_E_OPCODE);
	pk_buf_release(&out);
}

/* ---- streaming --------------------------------------------------------- */

/* PROTO 2, EMPTY_LIST, MARK, n x BININT1, APPENDS, STOP. */
static uint8_t *big_list(size_t n, size_t *len)
{
	uint8_t *p = malloc(n * 2 + 8), *q = p;

	cr_assert(p);
	*q++ = 0x80;
	*q++ = 2;
	*q++ = ']';
	*q++ = '(';
	for (size_t i = 0; i < n; i++) {
		*q++ = 'K';
		*q++ = (uint8_t)i;
	}
	*q++ = 'e';
	*q++ = '.';
	*len = (size_t)(q - p);
	return p;
}

Test(dis_stream, flushes_in_pieces_same_text)
{
	size_t len;
	uint8_t *p = big_list(200000, &len);
	pk_buf whole = PK_BUF_INIT;
	struct collect c = {PK_BUF_INIT, 0, 0};
	pk_err e;

	cr_assert_eq(pk_dis(p, len, &whole, &e), PK_OK);
	cr_assert_gt(whole.len, 4u << 20);
	cr_assert_eq(pk_dis_stream(p, len, collect_flush, &c, &e), PK_OK);
	cr_expect_gt(c.calls, 3, "only %d flushes", c.calls);
	cr_expect_eq(c.all.len, whole.len);
	cr_expect(!memcmp(c.all.data, whole.data, whole.len));
	cr_expect(strstr((const char *)whole.data,
			 "400004: e        APPENDS    (MARK at 3)\n"
			 "400005: .    STOP\n"
			 "highest protocol among opcodes = 2\n"));
	pk_buf_release(&whole);
	pk_buf_release(&c.all);
	free(p);
}

Test(dis_stream, flush_failure_is_io_error)
{
	size_t len;
	uint8_t *p = big_list(200000, &len);
	struct collect c = {PK_BUF_INIT, 0, 2};
	pk_err e;

	cr_expect_eq(pk_dis_stream(p, len, collect_flush, &c, &e), PK_E_IO);
	cr_expect_eq(e.code, PK_E_IO);
	cr_expect_eq(c.calls, 2);
	pk_buf_release(&c.all);
	free(p);
}

Test(dis_stream, error_flushes_what_was_printed)
{
	struct collect c = {PK_BUF_INIT, 0, 0};
	pk_err e;

	cr_expect_eq(
	    pk_dis_stream((const uint8_t *)"NN\xfe", 3, collect_flush, &c, &e),
	    PK_E_OPCODE);
	cr_expect_eq(e.offset, 2);
	cr_expect_eq(c.calls, 1);
	cr_assert_eq(pk_buf_addc(&c.all, 0), 0);
	cr_expect_str_eq((const char *)c.all.data, "    0: N    NONE\n"
						   "    1: N    NONE\n");
	pk_buf_release(&c.all);
}

Test(dis_stream, deep_nesting_uses_heap)
{
	/* n MARKs then n LISTs. No recursion anywhere, but the indentation
	 * makes the output quadratic (4 * n^2 blanks), so n stays small. */
	size_t n = 2000, len = 2 * n + 1;
	uint8_t *p = malloc(len);
	pk_buf out = PK_BUF_INIT;

	cr_assert(p);
	memset(p, '(', n);
	memset(p + n, 'l', n);
	p[2 * n] = '.';
	cr_expect_eq(pk_dis(p, len, &out, NULL), PK_OK);
	cr_expect(strstr((const char *)out.data,
			 " 3999: l        LIST       (MARK at 0)\n"
			 " 4000: .    STOP\n"));
	{
		/* the first LIST, indented for all n MARKs, closes the last */
		char *want = malloc(64 + 4 * n);
		int k = sprintf(want, "\n 2000: l    ");

		cr_assert(want);
		memset(want + k, ' ', 4 * n);
		strcpy(want + k + 4 * n, "LIST       (MARK at 1999)\n");
		cr_expect(strstr((const char *)out.data, want));
		free(want);
	}
	pk_buf_release(&out);
	free(p);
}
