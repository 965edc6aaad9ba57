/*
 * Unit tests of the scanner (fs/view/scan.c): the lists, a STACK_GLOBAL
 * whose names come from the memo behind decoy strings, a call before a
 * malformed tail, bytes passed to pickle.loads, BUILD on a global.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "scan.h"

static int has(const pf_scan *s, int risk, int call, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->f[i].risk == risk && s->f[i].call == call &&
		    strcmp(s->f[i].name, name) == 0)
			return 1;
	return 0;
}

Test(scan, lists)
{
	cr_assert_eq(pf_scan_risk("posix", "system"), PF_RISK_DANGEROUS);
	cr_assert_eq(pf_scan_risk("__builtin__", "eval"), PF_RISK_DANGEROUS);
	cr_assert_eq(pf_scan_risk("pkgutil", "resolve_name"),
		     PF_RISK_DANGEROUS);
	cr_assert_eq(pf_scan_risk("torch.hub", "load"), PF_RISK_DANGEROUS);
	cr_assert_eq(pf_scan_risk("builtins", "set"), PF_RISK_SAFE);
	cr_assert_eq(pf_scan_risk("copy_reg", "_reconstructor"), PF_RISK_SAFE);
	cr_assert_eq(pf_scan_risk("datetime", "datetime"), PF_RISK_SAFE);
	cr_assert_eq(pf_scan_risk("datetime.x", "y"), PF_RISK_SUSPICIOUS,
		     "datetime.* is that module's names only");
	cr_assert_eq(pf_scan_risk("mymodule", "Thing"), PF_RISK_SUSPICIOUS);
}

/* 'os' and 'system' are PUT early; the strings just before STACK_GLOBAL
 * ('builtins', 'len') are popped decoys; the real names come from the
 * memo. Then REDUCE with ('id',), then a malformed tail (0xff). */
Test(scan, memo_trick_then_malformed_tail)
{
	static const uint8_t p[] = {
	    0x80, 4,   0x8c, 5,	  'p',	'o', 's', 'i', 'x',  0x94, /* memo 0 */
	    0x8c, 6,   's',  'y', 's',	't', 'e', 'm', 0x94,	   /* memo 1 */
	    '0',  '0',						   /* POP POP */
	    0x8c, 8,   'b',  'u', 'i',	'l', 't', 'i', 'n',  's',
	    0x8c, 3,   'l',  'e', 'n',	'0', '0', /* decoys popped */
	    'h',  0,   'h',  1,	  0x93,		  /* STACK_GLOBAL */
	    0x8c, 2,   'i',  'd', 0x85, 'R', 0xff};
	pf_scan s;

	cr_assert_eq(pf_scan_bytes(p, sizeof(p), 0, &s), 0);
	cr_assert(has(&s, PF_RISK_DANGEROUS, 1, "posix.system"));
	cr_assert(!has(&s, PF_RISK_SAFE, 0, "builtins.len"),
		  "the decoys are never a global");
	cr_assert(s.failed, "the tail does not decode");
	cr_assert_eq(pf_scan_worst(&s), PF_RISK_DANGEROUS);
	pf_scan_free(&s);
}

/* pickle.loads(b'<a pickle calling posix.system>') */
Test(scan, nested_loads)
{
	static const uint8_t inner[] = "\x80\x02"
				       "cposix\nsystem\n"
				       "X\x02\x00\x00\x00id\x85R.";
	uint8_t p[128];
	size_t n = 0;
	pf_scan s;

	memcpy(p,
	       "\x80\x02"
	       "c_pickle\nloads\n",
	       17);
	n = 17;
	p[n++] = 'C';
	p[n++] = (uint8_t)(sizeof(inner) - 1);
	memcpy(p + n, inner, sizeof(inner) - 1);
	n += sizeof(inner) - 1;
	memcpy(p + n, "\x85R.", 3);
	n += 3;
	cr_assert_eq(pf_scan_bytes(p, n, 0, &s), 0);
	cr_assert(has(&s, PF_RISK_DANGEROUS, 1, "_pickle.loads"));
	cr_assert(has(&s, PF_RISK_DANGEROUS, 1, "posix.system"),
		  "the bytes passed to loads are scanned too");
	cr_assert(!s.failed);
	pf_scan_free(&s);
}

/* BUILD on a global: CPython sets its attributes; our decoder refuses
 * it, and the scan reports it as dangerous */
Test(scan, build_on_a_global)
{
	static const uint8_t p[] = "\x80\x02"
				   "cbuiltins\nlen\n"
				   "}X\x01\x00\x00\x00xK\x01sb.";
	pf_scan s;

	cr_assert_eq(pf_scan_bytes(p, sizeof(p) - 1, 0, &s), 0);
	cr_assert(s.failed);
	cr_assert_eq(pf_scan_worst(&s), PF_RISK_DANGEROUS);
	pf_scan_free(&s);
}

/* {'f': functools.partial(posix.system)}: the global is not called
 * here, only passed: reported as a dangerous global, with its path */
Test(scan, a_global_passed_has_its_path)
{
	static const uint8_t p[] = "\x80\x02}X\x01\x00\x00\x00"
				   "f"
				   "cfunctools\npartial\ncposix\nsystem\n"
				   "\x85Rs.";
	pf_scan s;
	size_t i;
	int seen = 0;

	cr_assert_eq(pf_scan_bytes(p, sizeof(p) - 1, 0, &s), 0);
	for (i = 0; i < s.n; i++)
		if (!s.f[i].call && !strcmp(s.f[i].name, "posix.system")) {
			cr_assert_eq(s.f[i].risk, PF_RISK_DANGEROUS);
			cr_assert(!s.f[i].called);
			cr_assert_str_eq(s.f[i].path, "f/__args__/0");
			seen = 1;
		}
	cr_assert(seen);
	cr_assert_eq(pf_scan_worst(&s), PF_RISK_DANGEROUS);
	pf_scan_free(&s);
}
