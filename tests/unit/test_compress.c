/*
 * test_compress.c - codec/compress.c against files made by Python's gzip
 * and bz2 modules (tests/fixtures/compress/, made by
 * scripts/make-compress-fixtures.py) and against /usr/bin/python3 at
 * test time. Runs from the repo root.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "compress.h"

#define FX "tests/fixtures/compress/"
#define PY "/usr/bin/python3"
#define MTIME 1700000000u

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *slurp_fd(int fd, size_t *n)
{
	pk_buf b = PK_BUF_INIT;
	uint8_t tmp[65536];
	ssize_t got;

	cr_assert(lseek(fd, 0, SEEK_SET) == 0);
	while ((got = read(fd, tmp, sizeof(tmp))) > 0)
		cr_assert(pk_buf_add(&b, tmp, (size_t)got) == 0);
	cr_assert(got == 0, "read: %s", strerror(errno));
	return pk_buf_detach(&b, n);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	uint8_t *d;
	int fd = open(path, O_RDONLY);

	cr_assert(fd >= 0, "%s: %s (run the tests from the repo root)", path,
		  strerror(errno));
	d = slurp_fd(fd, n);
	close(fd);
	return d;
}

/* A temporary file, unlinked at once unless path is wanted. */
static int tmpfile_fd(char *path, size_t cap)
{
	char tmpl[] = "/tmp/pk-compress-XXXXXX";
	int fd = mkstemp(tmpl);

	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	if (path)
		snprintf(path, cap, "%s", tmpl);
	else
		unlink(tmpl);
	return fd;
}

static int run(const char *cmd)
{
	int st = system(cmd);

	cr_assert(st != -1 && WIFEXITED(st), "could not run: %s", cmd);
	return WEXITSTATUS(st);
}

static long maxrss_kb(void)
{
	struct rusage ru;

	cr_assert(getrusage(RUSAGE_SELF, &ru) == 0);
	return ru.ru_maxrss;
}

/* ---- detection ------------------------------------------------------------
 */

Test(compress_detect, magic)
{
	const uint8_t gz[] = {0x1f, 0x8b, 0x08};
	const uint8_t bz[] = {'B', 'Z', 'h', '9'};
	const uint8_t bz0[] = {'B', 'Z', 'h', '0'};
	const uint8_t pk[] = {0x80, 0x04, 0x95};

	cr_expect_eq(pk_z_detect(gz, 3), PK_Z_GZIP);
	cr_expect_eq(pk_z_detect(gz, 2), PK_Z_GZIP);
	cr_expect_eq(pk_z_detect(gz, 1), PK_Z_NONE);
	cr_expect_eq(pk_z_detect(gz, 0), PK_Z_NONE);
	cr_expect_eq(pk_z_detect(bz, 4), PK_Z_BZIP2);
	cr_expect_eq(pk_z_detect(bz, 3), PK_Z_NONE);
	cr_expect_eq(pk_z_detect(bz0, 4), PK_Z_NONE);
	cr_expect_eq(pk_z_detect(pk, 3), PK_Z_NONE);
	cr_expect_str_eq(pk_z_name(PK_Z_NONE), "none");
	cr_expect_str_eq(pk_z_name(PK_Z_GZIP), "gzip");
	cr_expect_str_eq(pk_z_name(PK_Z_BZIP2), "bzip2");
}

/* ---- well-formed fixtures ----------------------------------------------- */

struct good_fx {
	char file[32];
	int fmt, level, xfl, os, has_name;
	char name[24];
	long long mtime; /* -1: made "now", so anything after 2020 */
	unsigned members;
	int identical; /* recompression must give the file back */
};

static struct good_fx good[] = {
    {"gzip_open.pkl.gz", PK_Z_GZIP, 9, 2, 255, 1, "gzip_open.pkl", -1, 1, 1},
    {"bz2_open.pkl.bz2", PK_Z_BZIP2, 9, 0, 0, 0, "", 0, 1, 1},
    {"bz2_level1.bz2", PK_Z_BZIP2, 1, 0, 0, 0, "", 0, 1, 1},
    {"named_level1.gz", PK_Z_GZIP, 1, 4, 255, 1, "data.pkl", MTIME, 1, 1},
    {"compress.gz", PK_Z_GZIP, 9, 2, 255, 0, "", MTIME, 1, 1},
    {"compress_level6.gz", PK_Z_GZIP, 6, 0, 255, 0, "", MTIME, 1, 1},
    {"compress_mtime0.gz", PK_Z_GZIP, 9, 2, 3, 0, "", 0, 1, 1},
    {"multi.gz", PK_Z_GZIP, 9, 2, 255, 0, "", MTIME, 3, 0},
    {"multi_padded.gz", PK_Z_GZIP, 9, 2, 255, 0, "", MTIME, 3, 0},
    {"multi.bz2", PK_Z_BZIP2, 9, 0, 0, 0, "", 0, 3, 0},
};
#define NGOOD (sizeof(good) / sizeof(good[0]))

static void check_info(const struct good_fx *f, const pk_zinfo *zi)
{
	cr_expect_eq(zi->fmt, f->fmt, "%s: fmt", f->file);
	cr_expect_eq(zi->level, f->level, "%s: level", f->file);
	cr_expect_eq(zi->xfl, f->xfl, "%s: xfl", f->file);
	cr_expect_eq(zi->os, f->os, "%s: os", f->file);
	cr_expect_eq(zi->has_name, f->has_name, "%s: has_name", f->file);
	cr_expect_str_eq(zi->name, f->name, "%s: name", f->file);
	if (f->mtime < 0)
		cr_expect_gt(zi->mtime, 1577836800u, "%s: mtime", f->file);
	else
		cr_expect_eq(zi->mtime, (uint32_t)f->mtime, "%s: mtime",
			     f->file);
	cr_expect_eq(zi->members, f->members, "%s: members", f->file);
}

ParameterizedTestParameters(compress_fixture, decompress_mem)
{
	return cr_make_param_array(struct good_fx, good, NGOOD);
}

ParameterizedTest(struct good_fx *f, compress_fixture, decompress_mem)
{
	char path[128];
	size_t n, plen;
	uint8_t *in, *payload;
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e = {0};

	snprintf(path, sizeof(path), FX "%s", f->file);
	in = slurp(path, &n);
	payload = slurp(FX "payload.pkl", &plen);
	cr_assert_eq(pk_z_decompress_mem(in, n, &out, &zi, 0, &e), PK_OK,
		     "%s: %s at %llu", f->file, e.msg,
		     (unsigned long long)e.offset);
	cr_assert_eq(out.len, plen, "%s: length", f->file);
	cr_assert(memcmp(out.data, payload, plen) == 0, "%s: bytes", f->file);
	check_info(f, &zi);
	pk_buf_release(&out);
	free(in);
	free(payload);
}

ParameterizedTestParameters(compress_fixture, decompress_fd)
{
	return cr_make_param_array(struct good_fx, good, NGOOD);
}

ParameterizedTest(struct good_fx *f, compress_fixture, decompress_fd)
{
	char path[128];
	size_t n, plen;
	uint8_t *got, *payload;
	uint64_t out_len = 0;
	pk_zinfo zi;
	pk_err e = {0};
	int in_fd, out_fd;

	snprintf(path, sizeof(path), FX "%s", f->file);
	in_fd = open(path, O_RDONLY);
	cr_assert(in_fd >= 0);
	out_fd = tmpfile_fd(NULL, 0);
	payload = slurp(FX "payload.pkl", &plen);
	cr_assert_eq(
	    pk_z_decompress_fd(in_fd, out_fd, &zi, &out_len, 0, NULL, NULL, &e),
	    PK_OK, "%s: %s at %llu", f->file, e.msg,
	    (unsigned long long)e.offset);
	cr_expect_eq(out_len, plen);
	got = slurp_fd(out_fd, &n);
	cr_assert_eq(n, plen, "%s: length", f->file);
	cr_assert(memcmp(got, payload, plen) == 0, "%s: bytes", f->file);
	check_info(f, &zi);
	close(in_fd);
	close(out_fd);
	free(got);
	free(payload);
}

ParameterizedTestParameters(compress_fixture, recompress)
{
	return cr_make_param_array(struct good_fx, good, NGOOD);
}

/* Python's own files come back byte for byte, to memory and to an fd;
 * multi-member/stream ones come back as one member/stream that Python
 * reads back equal. */
ParameterizedTest(struct good_fx *f, compress_fixture, recompress)
{
	char path[128], tpath[64], cmd[512];
	size_t n, plen, m;
	uint8_t *orig, *payload, *viafd;
	pk_buf out = PK_BUF_INIT, again = PK_BUF_INIT;
	pk_zinfo zi, zi2;
	pk_err e = {0};
	int fd;

	snprintf(path, sizeof(path), FX "%s", f->file);
	orig = slurp(path, &n);
	payload = slurp(FX "payload.pkl", &plen);
	cr_assert_eq(pk_z_decompress_mem(orig, n, &out, &zi, 0, &e), PK_OK);
	pk_buf_reset(&out);
	cr_assert_eq(pk_z_compress_mem(&zi, payload, plen, &out, &e), PK_OK,
		     "%s: %s", f->file, e.msg);
	fd = tmpfile_fd(tpath, sizeof(tpath));
	cr_assert_eq(pk_z_compress_fd(&zi, payload, plen, fd, &e), PK_OK);
	viafd = slurp_fd(fd, &m);
	close(fd);
	/* Python reads it back (first, so that a failed assertion below
	 * leaves no file behind) */
	snprintf(cmd, sizeof(cmd),
		 PY " -c 'import sys,gzip,bz2; o=bz2.open if "
		    "sys.argv[1].endswith(\".bz2\") else gzip.open; "
		    "sys.exit(o(sys.argv[2],\"rb\").read()!="
		    "open(sys.argv[3],\"rb\").read())' %s %s %s",
		 f->file, tpath, FX "payload.pkl");
	cr_expect_eq(run(cmd), 0, "%s: Python disagrees", f->file);
	unlink(tpath);
	cr_expect_eq(m, out.len, "%s: fd and memory differ", f->file);
	cr_expect(memcmp(viafd, out.data, m < out.len ? m : out.len) == 0,
		  "%s: fd and memory differ", f->file);
	if (f->identical) {
		cr_expect_eq(out.len, n, "%s: %zu bytes, was %zu", f->file,
			     out.len, n);
		cr_expect(out.len == n && memcmp(out.data, orig, n) == 0,
			  "%s: not byte-identical", f->file);
	}
	/* and so do we, as one member with the same header */
	cr_assert_eq(
	    pk_z_decompress_mem(out.data, out.len, &again, &zi2, 0, &e), PK_OK);
	cr_expect_eq(again.len, plen);
	cr_expect(again.len == plen && memcmp(again.data, payload, plen) == 0);
	cr_expect_eq(zi2.members, 1);
	cr_expect_eq(zi2.mtime, zi.mtime);
	cr_expect_eq(zi2.level, zi.level);
	pk_buf_release(&out);
	pk_buf_release(&again);
	free(orig);
	free(payload);
	free(viafd);
}

/* ---- broken input ----------------------------------------------------- */

struct bad_fx {
	char file[32];
	char msg[40];
	long long lo, hi; /* offset range; negative = from the end */
};

static struct bad_fx bad[] = {
    {"truncated.gz", "gzip stream truncated", 0, 0},
    {"badcrc.gz", "gzip CRC mismatch", -8, -8},
    {"corrupt_deflate.gz", "corrupt deflate data", 10, 12},
    {"garbage.gz", "trailing garbage after gzip member", -8, -8},
    /* a flip halfway is noticed at the latest by the block CRC */
    {"corrupt.bz2", "corrupt bzip2 data", 1 << 30, 0},
    {"truncated.bz2", "bzip2 stream truncated", 0, 0},
};
#define NBAD (sizeof(bad) / sizeof(bad[0]))

static void check_bad(const struct bad_fx *f, size_t n, const pk_err *e)
{
	long long lo = f->lo, hi = f->hi;

	if (lo == 1 << 30) { /* "from the middle to the end" */
		lo = (long long)n / 2;
		hi = (long long)n;
	} else {
		if (lo <= 0)
			lo += (long long)n;
		if (hi <= 0)
			hi += (long long)n;
	}
	cr_expect_eq(e->code, PK_E_COMPRESS, "%s: code %d", f->file, e->code);
	cr_expect_str_eq(e->msg ? e->msg : "(null)", f->msg, "%s", f->file);
	cr_expect((long long)e->offset >= lo && (long long)e->offset <= hi,
		  "%s: offset %llu not in [%lld, %lld]", f->file,
		  (unsigned long long)e->offset, lo, hi);
}

ParameterizedTestParameters(compress_error, fixture_mem)
{
	return cr_make_param_array(struct bad_fx, bad, NBAD);
}

ParameterizedTest(struct bad_fx *f, compress_error, fixture_mem)
{
	char path[128];
	size_t n;
	uint8_t *in;
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e = {0};

	cr_assert(pk_buf_adds(&out, "keep") == 0);
	snprintf(path, sizeof(path), FX "%s", f->file);
	in = slurp(path, &n);
	cr_assert_neq(pk_z_decompress_mem(in, n, &out, &zi, 0, &e), PK_OK,
		      "%s decompressed", f->file);
	check_bad(f, n, &e);
	cr_expect_eq(out.len, 4, "%s: partial output left behind", f->file);
	cr_expect_str_eq((char *)out.data, "keep");
	pk_buf_release(&out);
	free(in);
}

ParameterizedTestParameters(compress_error, fixture_fd)
{
	return cr_make_param_array(struct bad_fx, bad, NBAD);
}

ParameterizedTest(struct bad_fx *f, compress_error, fixture_fd)
{
	char path[128];
	struct stat st;
	uint64_t out_len;
	pk_zinfo zi;
	pk_err e = {0};
	int in_fd, out_fd;

	snprintf(path, sizeof(path), FX "%s", f->file);
	in_fd = open(path, O_RDONLY);
	cr_assert(in_fd >= 0 && fstat(in_fd, &st) == 0);
	out_fd = tmpfile_fd(NULL, 0);
	cr_assert_neq(
	    pk_z_decompress_fd(in_fd, out_fd, &zi, &out_len, 0, NULL, NULL, &e),
	    PK_OK, "%s decompressed", f->file);
	check_bad(f, (size_t)st.st_size, &e);
	close(in_fd);
	close(out_fd);
}

static int decompress_err(const uint8_t *in, size_t n, pk_err *e)
{
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = pk_z_decompress_mem(in, n, &out, &zi, 0, e);
	pk_buf_release(&out);
	return rc;
}

Test(compress_error, cut_anywhere_gzip)
{
	size_t n, cut;
	uint8_t *in = slurp(FX "gzip_open.pkl.gz", &n);
	pk_err e;

	for (cut = 0; cut < n; cut++) {
		cr_assert_eq(decompress_err(in, cut, &e), PK_E_COMPRESS,
			     "cut at %zu", cut);
		cr_assert_leq(e.offset, cut, "cut at %zu", cut);
	}
	/* each part of the member, with the offset where input ran out */
	decompress_err(in, 5, &e);
	cr_expect_str_eq(e.msg, "gzip header truncated");
	cr_expect_eq(e.offset, 5);
	decompress_err(in, 15, &e); /* inside FNAME */
	cr_expect_str_eq(e.msg, "gzip header truncated");
	cr_expect_eq(e.offset, 15);
	decompress_err(in, n - 100, &e);
	cr_expect_str_eq(e.msg, "gzip stream truncated");
	cr_expect_eq(e.offset, n - 100);
	decompress_err(in, n - 8, &e);
	cr_expect_str_eq(e.msg, "gzip trailer truncated");
	cr_expect_eq(e.offset, n - 8);
	decompress_err(in, n - 3, &e);
	cr_expect_str_eq(e.msg, "gzip trailer truncated");
	cr_expect_eq(e.offset, n - 3);
	decompress_err(in, 0, &e);
	cr_expect_str_eq(
	    e.msg, "not a compressed stream (gzip, bzip2, xz, zstd, zlib)");
	free(in);
}

Test(compress_error, cut_anywhere_bzip2)
{
	size_t n, cut;
	uint8_t *in = slurp(FX "bz2_open.pkl.bz2", &n);
	pk_err e;

	/* every 7th: each call sets up libbz2's 3.6 MB of state */
	for (cut = 0; cut < n; cut += cut < 64 ? 1 : 7) {
		cr_assert_eq(decompress_err(in, cut, &e), PK_E_COMPRESS,
			     "cut at %zu", cut);
		cr_assert_leq(e.offset, cut, "cut at %zu", cut);
	}
	decompress_err(in, n - 1, &e);
	cr_expect_str_eq(e.msg, "bzip2 stream truncated");
	cr_expect_eq(e.offset, n - 1);
	free(in);
}

Test(compress_error, bad_header)
{
	size_t n;
	uint8_t *in = slurp(FX "compress.gz", &n);
	const uint8_t plain[] = "\x80\x04\x95 not compressed";
	pk_err e;

	in[n - 4] ^= 1; /* ISIZE */
	cr_expect_eq(decompress_err(in, n, &e), PK_E_COMPRESS);
	cr_expect_str_eq(e.msg, "gzip length mismatch");
	cr_expect_eq(e.offset, n - 4);
	in[2] = 7;
	cr_expect_eq(decompress_err(in, n, &e), PK_E_COMPRESS);
	cr_expect_str_eq(e.msg, "unknown gzip compression method");
	cr_expect_eq(e.offset, 2);
	cr_expect_eq(decompress_err(plain, sizeof(plain) - 1, &e),
		     PK_E_COMPRESS);
	cr_expect_str_eq(
	    e.msg, "not a compressed stream (gzip, bzip2, xz, zstd, zlib)");
	cr_expect_eq(e.offset, 0);
	free(in);
}

/* What follows a gzip member: zeros are padding, anything else (even a
 * lone half of a magic) is refused at its offset, like Python does. */
Test(compress_error, gzip_trailing)
{
	size_t n;
	uint8_t *in = slurp(FX "compress.gz", &n);
	uint8_t *big = malloc(n + 16);
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e;

	cr_assert(big);
	memcpy(big, in, n);
	memset(big + n, 0, 16);
	cr_expect_eq(pk_z_decompress_mem(big, n + 16, &out, &zi, 0, &e), PK_OK);
	cr_expect_eq(zi.members, 1);
	big[n + 9] = 0x1f;
	cr_expect_eq(decompress_err(big, n + 10, &e), PK_E_COMPRESS);
	cr_expect_str_eq(e.msg, "trailing garbage after gzip member");
	cr_expect_eq(e.offset, n + 9);
	big[n] = 0x1f;
	big[n + 1] = 0x8b;
	cr_expect_eq(decompress_err(big, n + 2, &e), PK_E_COMPRESS);
	cr_expect_str_eq(e.msg, "gzip header truncated");
	cr_expect_eq(e.offset, n + 2);
	pk_buf_release(&out);
	free(big);
	free(in);
}

/* After a bzip2 stream, bytes that libbz2 rejects before any output are
 * ignored, as Python's bz2.decompress and bz2.open both ignore them (the
 * oracle test below asks /usr/bin/python3); a next stream cut short is
 * refused, as Python refuses it. */
Test(compress_error, bzip2_trailing)
{
	static const struct {
		const char *tail;
		size_t len;
		int ok;
	} cases[] = {
	    {"\0\0\0\0\0\0\0\0", 8, 1},
	    {"junk", 4, 1},
	    {"x", 1, 1},
	    {"BZh0", 4, 1},
	    /* a block header, then bytes that cannot be a block */
	    {"BZh91AY&SY\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1"
	     "\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1",
	     50, 1},
	    /* too short to tell: Python says "ended before the
	     * end-of-stream marker" */
	    {"BZh91AY&SY\1\1\1\1", 14, 0},
	    {"BZh9", 4, 0},
	    {"B", 1, 0},
	    {"BZ", 2, 0},
	};
	size_t n, plen, i;
	uint8_t *in = slurp(FX "multi.bz2", &n);
	uint8_t *payload = slurp(FX "payload.pkl", &plen);
	uint8_t *big = malloc(n + 64);
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e;

	cr_assert(big);
	memcpy(big, in, n);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(big + n, cases[i].tail, cases[i].len);
		pk_buf_reset(&out);
		memset(&e, 0, sizeof(e));
		if (cases[i].ok) {
			cr_expect_eq(pk_z_decompress_mem(big, n + cases[i].len,
							 &out, &zi, 0, &e),
				     PK_OK, "tail %zu: %s at %llu", i, e.msg,
				     (unsigned long long)e.offset);
			cr_expect(out.len == plen &&
				      memcmp(out.data, payload, plen) == 0,
				  "tail %zu: output", i);
			cr_expect_eq(zi.members, 3, "tail %zu", i);
			cr_expect_eq(zi.tail_at, n, "tail %zu", i);
		} else {
			cr_expect_eq(decompress_err(big, n + cases[i].len, &e),
				     PK_E_COMPRESS, "tail %zu", i);
			cr_expect_str_eq(e.msg, "bzip2 stream truncated");
			cr_expect_eq(e.offset, n + cases[i].len);
		}
	}
	/* nothing after the streams: no tail */
	pk_buf_reset(&out);
	cr_expect_eq(pk_z_decompress_mem(in, n, &out, &zi, 0, &e), PK_OK);
	cr_expect_eq(zi.tail_at, 0);
	pk_buf_release(&out);
	free(big);
	free(in);
	free(payload);
}

/* A second stream that gives output and then turns out corrupt is
 * refused (bz2.open refuses it; only bz2.decompress would drop it). */
Test(compress_error, bzip2_corrupt_second_stream)
{
	size_t n, i;
	uint8_t *in = slurp(FX "multi.bz2", &n);
	uint8_t *data = malloc(200000), *big;
	uint64_t st = 3;
	pk_buf second = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e;

	cr_assert(data);
	for (i = 0; i < 200000; i++) {
		st = st * 6364136223846793005ull + 1442695040888963407ull;
		data[i] = (uint8_t)(st >> 56);
	}
	memset(&zi, 0, sizeof(zi));
	zi.fmt = PK_Z_BZIP2;
	zi.level = 1; /* 100k blocks: two of them */
	cr_assert_eq(pk_z_compress_mem(&zi, data, 200000, &second, &e), PK_OK);
	big = malloc(n + second.len);
	cr_assert(big);
	memcpy(big, in, n);
	memcpy(big + n, second.data, second.len);
	big[n + second.len - 20] ^= 0x55; /* in the second block */
	cr_expect_eq(decompress_err(big, n + second.len, &e), PK_E_COMPRESS);
	cr_expect_str_eq(e.msg, "corrupt bzip2 data");
	cr_expect_gt(e.offset, n);
	pk_buf_release(&second);
	free(big);
	free(data);
	free(in);
}

/* The trailing bytes above, asked of /usr/bin/python3: what bz2.open and
 * gzip.open read (or refuse) is what we read (or refuse). */
Test(compress_python, trailing_bytes_as_python)
{
	static const char *tails[] = {
	    "",	  "00000000", "6a756e6b",	"78",	"425a6830", "425a6839",
	    "42", "425a",     "0000006a756e6b", "1f8b", "1f"};
	char dir[] = "/tmp/pk-compress-tail-XXXXXX", cmd[1024], path[300];
	const char *fmts[] = {"gzip", "bz2"};
	size_t i, f, n;
	uint8_t *in;
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e;

	cr_assert(mkdtemp(dir));
	for (f = 0; f < 2; f++) {
		for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			int py_ok, ours;
			snprintf(path, sizeof(path), "%s/t.%zu.%zu", dir, f, i);
			snprintf(cmd, sizeof(cmd),
				 PY " -c 'import sys,gzip,bz2,pickle\n"
				    "m=%s\n"
				    "d=m.compress(pickle.dumps({1:2}))+"
				    "bytes.fromhex(\"%s\")\n"
				    "open(sys.argv[1],\"wb\").write(d)\n"
				    "try: m.open(sys.argv[1]).read(); "
				    "m.decompress(d)\n"
				    "except Exception: sys.exit(3)' %s",
				 fmts[f], tails[i], path);
			py_ok = run(cmd) == 0;
			in = slurp(path, &n);
			pk_buf_reset(&out);
			ours = pk_z_decompress_mem(in, n, &out, &zi, 0, &e) ==
			       PK_OK;
			cr_expect_eq(
			    ours, py_ok, "%s + %s: python %s, we %s (%s)",
			    fmts[f], tails[i], py_ok ? "reads" : "refuses",
			    ours ? "read" : "refuse", ours ? "" : e.msg);
			free(in);
			unlink(path);
		}
	}
	rmdir(dir);
	pk_buf_release(&out);
}

/* ---- the bound on the decompressed size -------------------------------- */

Test(compress_bound, max_out)
{
	size_t n, plen;
	uint8_t *in = slurp(FX "multi.gz", &n);
	uint8_t *payload = slurp(FX "payload.pkl", &plen);
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e = {0};

	cr_assert(pk_buf_adds(&out, "abc") == 0);
	cr_assert_eq(pk_z_decompress_mem(in, n, &out, &zi, plen, &e), PK_OK);
	cr_assert_eq(out.len, plen + 3);
	cr_expect(memcmp(out.data, "abc", 3) == 0);
	cr_expect(memcmp(out.data + 3, payload, plen) == 0);
	pk_buf_reset(&out);
	cr_expect_eq(pk_z_decompress_mem(in, n, &out, &zi, plen - 1, &e),
		     PK_E_LIMIT);
	cr_expect_str_eq(e.msg, "expands past the limit");
	cr_expect_eq(out.len, 0);
	cr_expect_gt(e.offset, 0);
	cr_expect_leq(e.offset, n);
	pk_buf_release(&out);
	free(in);
	free(payload);
}

/* A bomb: 64 MiB of zeros, compressed. */
#define BOMB_LEN (64u << 20)
static uint8_t *bomb(int fmt, size_t *n)
{
	uint8_t *zeros = calloc(1, BOMB_LEN);
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e;

	cr_assert(zeros);
	memset(&zi, 0, sizeof(zi));
	zi.fmt = fmt;
	cr_assert_eq(pk_z_compress_mem(&zi, zeros, BOMB_LEN, &out, &e), PK_OK);
	free(zeros);
	return pk_buf_detach(&out, n);
}

static int bomb_fd(int fmt, size_t *n)
{
	int fd = tmpfile_fd(NULL, 0);
	uint8_t *in = bomb(fmt, n);

	cr_assert(write(fd, in, *n) == (ssize_t)*n);
	free(in);
	return fd;
}

/* The fd path stops at the bound: what it wrote is at most the bound,
 * the error is PK_E_LIMIT at an offset inside the compressed input. The
 * exact size passes, one byte less does not. */
Test(compress_bound, fd_bomb)
{
	const int fmts[] = {PK_Z_GZIP, PK_Z_BZIP2};
	const uint64_t maxes[] = {1u << 20, 300000, 1};
	size_t n, i, j;
	pk_zinfo zi;
	pk_err e;
	uint64_t out_len;
	struct stat st;

	for (i = 0; i < 2; i++) {
		int in_fd = bomb_fd(fmts[i], &n);
		for (j = 0; j < 3; j++) {
			int out_fd = tmpfile_fd(NULL, 0);
			cr_assert(lseek(in_fd, 0, SEEK_SET) == 0);
			memset(&e, 0, sizeof(e));
			out_len = 12345;
			cr_expect_eq(
			    pk_z_decompress_fd(in_fd, out_fd, &zi, &out_len,
					       maxes[j], NULL, NULL, &e),
			    PK_E_LIMIT, "%s max %llu", pk_z_name(fmts[i]),
			    (unsigned long long)maxes[j]);
			cr_expect_str_eq(e.msg, "expands past the limit");
			cr_expect_leq(e.offset, n);
			cr_expect_leq(out_len, maxes[j]);
			cr_assert(fstat(out_fd, &st) == 0);
			cr_expect_leq((uint64_t)st.st_size, maxes[j],
				      "%s wrote %lld past %llu",
				      pk_z_name(fmts[i]), (long long)st.st_size,
				      (unsigned long long)maxes[j]);
			close(out_fd);
		}
		/* exactly the size: fine; one less: refused */
		for (j = 0; j < 2; j++) {
			int out_fd = tmpfile_fd(NULL, 0);
			cr_assert(lseek(in_fd, 0, SEEK_SET) == 0);
			cr_expect_eq(pk_z_decompress_fd(in_fd, out_fd, &zi,
							&out_len, BOMB_LEN - j,
							NULL, NULL, &e),
				     j ? PK_E_LIMIT : PK_OK);
			if (!j)
				cr_expect_eq(out_len, BOMB_LEN);
			close(out_fd);
		}
		close(in_fd);
	}
}

/* The memory path: same bound, nothing kept past it. */
Test(compress_bound, mem_bomb)
{
	size_t n;
	uint8_t *in = bomb(PK_Z_BZIP2, &n);
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e;

	cr_expect_lt(n, 1000, "a bzip2 bomb is small: %zu bytes", n);
	cr_expect_eq(pk_z_decompress_mem(in, n, &out, &zi, 1u << 20, &e),
		     PK_E_LIMIT);
	cr_expect_eq(out.len, 0);
	cr_expect_leq(out.cap, (4u << 20), "grew to %zu", out.cap);
	cr_expect_leq(e.offset, n);
	pk_buf_release(&out);
	free(in);
}

/* A write that fails (a full disk) is PK_E_IO "write failed" with the
 * errno kept, at an offset in the compressed input. */
Test(compress_bound, full_disk)
{
	size_t n;
	int in_fd = bomb_fd(PK_Z_GZIP, &n), full = open("/dev/full", O_WRONLY);
	pk_zinfo zi;
	pk_err e;
	uint64_t out_len;

	cr_assert(full >= 0);
	cr_assert(lseek(in_fd, 0, SEEK_SET) == 0);
	cr_expect_eq(
	    pk_z_decompress_fd(in_fd, full, &zi, &out_len, 0, NULL, NULL, &e),
	    PK_E_IO);
	cr_expect_eq(errno, ENOSPC);
	cr_expect_str_eq(e.msg, "write failed");
	cr_expect_leq(e.offset, n);
	close(full);
	close(in_fd);
}

/* ---- compressing from scratch ----------------------------------------- */

Test(compress_write, empty_and_defaults)
{
	pk_zinfo zi, got;
	pk_buf out = PK_BUF_INIT, back = PK_BUF_INIT;
	pk_err e = {0};
	int fmt;

	for (fmt = PK_Z_GZIP; fmt <= PK_Z_BZIP2; fmt++) {
		memset(&zi, 0, sizeof(zi));
		zi.fmt = fmt; /* level 0: Python's default, 9 */
		pk_buf_reset(&out);
		pk_buf_reset(&back);
		cr_assert_eq(pk_z_compress_mem(&zi, NULL, 0, &out, &e), PK_OK);
		cr_assert_eq(pk_z_detect(out.data, out.len), fmt);
		cr_assert_eq(
		    pk_z_decompress_mem(out.data, out.len, &back, &got, 0, &e),
		    PK_OK);
		cr_expect_eq(back.len, 0);
		cr_expect_eq(got.members, 1);
		if (fmt == PK_Z_BZIP2)
			cr_expect_eq(got.level, 9);
	}
	zi.fmt = PK_Z_NONE;
	cr_expect_eq(pk_z_compress_mem(&zi, (const uint8_t *)"x", 1, &out, &e),
		     PK_E_UNSUPPORTED);
	pk_buf_release(&out);
	pk_buf_release(&back);
}

Test(compress_write, long_name_truncated)
{
	pk_zinfo zi, got;
	pk_buf out = PK_BUF_INIT, back = PK_BUF_INIT;
	pk_err e = {0};
	uint8_t *gz;
	size_t i, hlen = 10 + 300 + 1;

	/* a hand-made header with a 300-byte FNAME and an FCOMMENT */
	memset(&zi, 0, sizeof(zi));
	zi.fmt = PK_Z_GZIP;
	cr_assert_eq(pk_z_compress_mem(&zi, (const uint8_t *)"hi", 2, &out, &e),
		     PK_OK);
	gz = malloc(out.len + hlen + 4);
	cr_assert(gz);
	memcpy(gz, out.data, 10);
	gz[3] = 0x08 | 0x10;
	for (i = 0; i < 300; i++)
		gz[10 + i] = (uint8_t)('a' + i % 26);
	gz[10 + 300] = 0;
	memcpy(gz + hlen, "hey", 4);
	memcpy(gz + hlen + 4, out.data + 10, out.len - 10);
	cr_assert_eq(pk_z_decompress_mem(gz, out.len + hlen + 4 - 10, &back,
					 &got, 0, &e),
		     PK_OK, "%s at %llu", e.msg, (unsigned long long)e.offset);
	cr_expect_eq(back.len, 2);
	cr_expect_eq(got.has_name, 1);
	cr_expect_eq(strlen(got.name), sizeof(got.name) - 1);
	cr_expect(memcmp(got.name, gz + 10, sizeof(got.name) - 1) == 0);
	free(gz);
	pk_buf_release(&out);
	pk_buf_release(&back);
}

/* ---- fd paths: errors, EINTR and short reads/writes ------------------- */

Test(compress_fd, io_errors)
{
	size_t n;
	uint8_t *in = slurp(FX "compress.gz", &n);
	pk_zinfo zi;
	pk_err e = {0};
	uint64_t out_len;
	int rd = open(FX "compress.gz", O_RDONLY);
	int wr = tmpfile_fd(NULL, 0);
	int ro = open("/dev/null", O_RDONLY);
	int wo = open("/dev/null", O_WRONLY);

	cr_assert(rd >= 0 && ro >= 0 && wo >= 0);
	cr_expect_eq(
	    pk_z_decompress_fd(rd, ro, &zi, &out_len, 0, NULL, NULL, &e),
	    PK_E_IO);
	cr_expect_eq(errno, EBADF);
	cr_expect_eq(
	    pk_z_decompress_fd(wo, wr, &zi, &out_len, 0, NULL, NULL, &e),
	    PK_E_IO);
	cr_expect_eq(errno, EBADF);
	memset(&zi, 0, sizeof(zi));
	zi.fmt = PK_Z_GZIP;
	cr_expect_eq(pk_z_compress_fd(&zi, in, n, ro, &e), PK_E_IO);
	cr_expect_eq(errno, EBADF);
	close(rd);
	close(wr);
	close(ro);
	close(wo);
	free(in);
}

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

/* SIGALRM every 200 us without SA_RESTART, so that read(2) and write(2)
 * on pipes come back with EINTR or short counts. */
static void start_ticking(void)
{
	struct sigaction sa;
	struct itimerval it = {{0, 200}, {0, 200}};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	cr_assert(sigaction(SIGALRM, &sa, NULL) == 0);
	ticks = 0;
	cr_assert(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static void stop_ticking(void)
{
	struct itimerval it = {{0, 0}, {0, 0}};

	setitimer(ITIMER_REAL, &it, NULL);
}

/* Pseudo-random bytes: over a 16-letter alphabet when `letters`
 * (compresses to about half, so neither side of a codec is tiny), else
 * all 256 values (does not compress at all). */
static void gen(uint8_t *p, size_t n, uint64_t *state, int letters)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*state =
		    *state * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = letters ? (uint8_t)("abcdefghijklmnop"[*state >> 60])
			       : (uint8_t)(*state >> 56);
	}
}

/* A child drains a pipe slowly into a file. */
static pid_t slow_reader(int rfd, int wfd_to_close, int out_fd)
{
	pid_t pid = fork();
	uint8_t tmp[4096];
	ssize_t got;

	cr_assert(pid >= 0);
	if (pid)
		return pid;
	close(wfd_to_close);
	while ((got = read(rfd, tmp, sizeof(tmp))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || write(out_fd, tmp, (size_t)got) != got)
			_exit(1);
		usleep(50);
	}
	_exit(0);
}

Test(compress_fd, write_to_slow_pipe)
{
	size_t n = 3u << 20, m;
	uint8_t *data = malloc(n), *got;
	uint64_t st = 1;
	pk_buf want = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e = {0};
	int p[2], sink, status, fmt;
	pid_t pid;

	cr_assert(data);
	gen(data, n, &st, 1);
	for (fmt = PK_Z_GZIP; fmt <= PK_Z_BZIP2; fmt++) {
		memset(&zi, 0, sizeof(zi));
		zi.fmt = fmt;
		zi.level = 6;
		pk_buf_reset(&want);
		cr_assert_eq(pk_z_compress_mem(&zi, data, n, &want, &e), PK_OK);
		sink = tmpfile_fd(NULL, 0);
		cr_assert(pipe(p) == 0);
		pid = slow_reader(p[0], p[1], sink);
		close(p[0]);
		start_ticking();
		cr_assert_eq(pk_z_compress_fd(&zi, data, n, p[1], &e), PK_OK,
			     "%s", e.msg);
		stop_ticking();
		cr_expect_gt(ticks, 0);
		close(p[1]);
		cr_assert(waitpid(pid, &status, 0) == pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		got = slurp_fd(sink, &m);
		cr_expect_eq(m, want.len);
		cr_expect(m == want.len && memcmp(got, want.data, m) == 0);
		free(got);
		close(sink);
	}
	pk_buf_release(&want);
	free(data);
}

/* A child feeds the compressed bytes in small pieces through a pipe:
 * short reads, EINTR, no size known up front. */
Test(compress_fd, read_from_slow_pipe)
{
	size_t n, plen, m, i;
	uint8_t *in = slurp(FX "multi.gz", &n);
	uint8_t *payload = slurp(FX "payload.pkl", &plen), *got;
	pk_zinfo zi;
	pk_err e = {0};
	uint64_t out_len = 0;
	int p[2], sink, status;
	pid_t pid;

	sink = tmpfile_fd(NULL, 0);
	cr_assert(pipe(p) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		for (i = 0; i < n; i += 7) {
			if (write(p[1], in + i, n - i < 7 ? n - i : 7) < 0)
				_exit(1);
			if (i % 700 == 0)
				usleep(100);
		}
		_exit(0);
	}
	close(p[1]);
	start_ticking();
	cr_assert_eq(
	    pk_z_decompress_fd(p[0], sink, &zi, &out_len, 0, NULL, NULL, &e),
	    PK_OK, "%s at %llu", e.msg, (unsigned long long)e.offset);
	stop_ticking();
	close(p[0]);
	cr_assert(waitpid(pid, &status, 0) == pid);
	cr_expect_eq(zi.members, 3);
	cr_expect_eq(out_len, plen);
	got = slurp_fd(sink, &m);
	cr_expect(m == plen && memcmp(got, payload, plen) == 0);
	close(sink);
	free(got);
	free(in);
	free(payload);
}

/* ---- big streams through the fd path with bounded memory -------------- */

struct prog {
	unsigned calls;
	uint64_t last, total;
	int abort_at;
};

static int on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct prog *pg = ctx;

	cr_expect_gt(done, pg->last, "progress goes backwards");
	pg->last = done;
	pg->total = total;
	pg->calls++;
	return pg->abort_at && pg->calls >= (unsigned)pg->abort_at;
}

#define BIG_LEN (20u << 20)
/* Growth of peak RSS allowed for a BIG_LEN decompression: ~0.6 MB of
 * buffers and zlib state measured, or for bzip2 3.6 MB of libbz2 state
 * per stream (ASan's quarantine keeps the second stream from reusing the
 * first one's: 8.7 MB measured). Holding the output (20 MB) or the input
 * (10 MB of gzip, 20 MB of bzip2) would exceed these. */
#define RSS_LIMIT_GZIP_KB (6 * 1024)
#define RSS_LIMIT_BZIP2_KB (14 * 1024)

/* Writes BIG_LEN generated bytes as fmt to fd, 64 KB at a time (zlib's
 * own gzip wrapper or libbz2 directly, so the expected side does not go
 * through the code under test); returns the CRC32 of the bytes. */
static uint32_t write_big(int fd, int fmt, unsigned streams)
{
	static uint8_t buf[65536];
	char tmpl[] = "/tmp/pk-compress-big-XXXXXX";
	uint64_t st = 42;
	uint32_t crc = (uint32_t)crc32(0, Z_NULL, 0);
	size_t done = 0, per = BIG_LEN / streams;
	unsigned s;
	pk_zinfo zi;
	pk_buf piece = PK_BUF_INIT;
	pk_err e = {0};
	gzFile gz;
	ssize_t got;
	int tfd;

	if (fmt == PK_Z_GZIP) {
		tfd = mkstemp(tmpl);
		cr_assert(tfd >= 0);
		gz = gzdopen(tfd, "wb6");
		cr_assert(gz);
		while (done < BIG_LEN) {
			gen(buf, sizeof(buf), &st, 1);
			crc = (uint32_t)crc32(crc, buf, sizeof(buf));
			cr_assert(gzwrite(gz, buf, sizeof(buf)) ==
				  (int)sizeof(buf));
			done += sizeof(buf);
		}
		cr_assert(gzclose(gz) == Z_OK);
		tfd = open(tmpl, O_RDONLY);
		unlink(tmpl);
		while ((got = read(tfd, buf, sizeof(buf))) > 0)
			cr_assert(write(fd, buf, (size_t)got) == got);
		cr_assert(got == 0);
		close(tfd);
		return crc;
	}
	/* bzip2: `streams` streams of BIG_LEN/streams bytes each */
	memset(&zi, 0, sizeof(zi));
	zi.fmt = PK_Z_BZIP2;
	zi.level = 9;
	for (s = 0; s < streams; s++) {
		uint8_t *part = malloc(per);

		cr_assert(part);
		gen(part, per, &st, 0);
		crc = (uint32_t)crc32(crc, part, (uInt)per);
		pk_buf_reset(&piece);
		cr_assert_eq(pk_z_compress_mem(&zi, part, per, &piece, &e),
			     PK_OK);
		cr_assert(write(fd, piece.data, piece.len) ==
			  (ssize_t)piece.len);
		free(part);
	}
	pk_buf_release(&piece);
	return crc;
}

static void check_big(int fd, uint64_t len, uint32_t crc)
{
	static uint8_t buf[65536];
	uint32_t got = (uint32_t)crc32(0, Z_NULL, 0);
	uint64_t total = 0;
	ssize_t n;

	cr_assert(lseek(fd, 0, SEEK_SET) == 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		got = (uint32_t)crc32(got, buf, (uInt)n);
		total += (uint64_t)n;
	}
	cr_expect_eq(total, len);
	cr_expect_eq(got, crc, "decompressed bytes differ");
}

Test(compress_large, gzip_20mb_bounded)
{
	int in = tmpfile_fd(NULL, 0), out = tmpfile_fd(NULL, 0);
	uint32_t crc = write_big(in, PK_Z_GZIP, 1);
	struct stat st;
	struct prog pg = {0};
	pk_zinfo zi;
	pk_err e = {0};
	uint64_t out_len = 0;
	long before, after;

	cr_assert(fstat(in, &st) == 0);
	cr_assert_gt(st.st_size, 8 << 20, "compressed side too small");
	cr_assert(lseek(in, 0, SEEK_SET) == 0);
	before = maxrss_kb();
	cr_assert_eq(
	    pk_z_decompress_fd(in, out, &zi, &out_len, 0, on_progress, &pg, &e),
	    PK_OK, "%s at %llu", e.msg, (unsigned long long)e.offset);
	after = maxrss_kb();
	cr_expect_eq(out_len, BIG_LEN);
	cr_expect_eq(zi.level, 6);
	/* 20 MB out of ~10 MB in: holding either would show */
	cr_expect_lt(after - before, RSS_LIMIT_GZIP_KB,
		     "peak RSS grew by %ld KB", after - before);
	cr_expect_geq(pg.calls, 2);
	cr_expect_eq(pg.total, (uint64_t)st.st_size);
	cr_expect_leq(pg.last, (uint64_t)st.st_size);
	check_big(out, BIG_LEN, crc);
	close(in);
	close(out);
}

Test(compress_large, bzip2_multistream_bounded)
{
	int in = tmpfile_fd(NULL, 0), out = tmpfile_fd(NULL, 0);
	uint32_t crc = write_big(in, PK_Z_BZIP2, 2);
	struct prog pg = {0};
	pk_zinfo zi;
	pk_err e = {0};
	uint64_t out_len = 0;
	long before, after;

	cr_assert(lseek(in, 0, SEEK_SET) == 0);
	before = maxrss_kb();
	cr_assert_eq(
	    pk_z_decompress_fd(in, out, &zi, &out_len, 0, on_progress, &pg, &e),
	    PK_OK, "%s at %llu", e.msg, (unsigned long long)e.offset);
	after = maxrss_kb();
	cr_expect_eq(out_len, BIG_LEN);
	cr_expect_eq(zi.members, 2);
	cr_expect_lt(after - before, RSS_LIMIT_BZIP2_KB,
		     "peak RSS grew by %ld KB", after - before);
	check_big(out, BIG_LEN, crc);
	close(in);
	close(out);
}

Test(compress_large, progress_abort)
{
	int in = tmpfile_fd(NULL, 0), out = tmpfile_fd(NULL, 0);
	struct prog pg = {0};
	pk_zinfo zi;
	pk_err e = {0};
	uint64_t out_len = 0;

	write_big(in, PK_Z_GZIP, 1);
	cr_assert(lseek(in, 0, SEEK_SET) == 0);
	pg.abort_at = 1;
	cr_expect_eq(
	    pk_z_decompress_fd(in, out, &zi, &out_len, 0, on_progress, &pg, &e),
	    PK_E_IO);
	cr_expect_eq(errno, ECANCELED);
	cr_expect_eq(pg.calls, 1);
	cr_expect_lt(out_len, BIG_LEN);
	close(in);
	close(out);
}

/* ---- against Python at test time, with bigger pickles ----------------- */

/* Multi-block deflate and bzip2 streams, written by gzip.open/bz2.open
 * in many small writes (pickle frames), come back byte-identical. */
Test(compress_python, big_pickles_identical)
{
	char dir[] = "/tmp/pk-compress-py-XXXXXX", cmd[1024], path[256];
	const char *files[] = {"big.pkl.gz", "big.pkl.bz2"};
	size_t n, plen, i;
	uint8_t *orig, *payload;
	pk_buf out = PK_BUF_INIT, again = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e = {0};

	cr_assert(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 PY " -c 'import gzip,bz2,pickle,random,sys\n"
		    "r=random.Random(7)\n"
		    "o=[(r.random(),str(r.getrandbits(40)),i) for i in "
		    "range(60000)]\n"
		    "d=sys.argv[1]\n"
		    "open(d+\"/big.pkl\",\"wb\").write(pickle.dumps(o))\n"
		    "pickle.dump(o,gzip.open(d+\"/big.pkl.gz\",\"wb\"))\n"
		    "with bz2.open(d+\"/big.pkl.bz2\",\"wb\") as f: "
		    "pickle.dump(o,f)' %s",
		 dir);
	cr_assert_eq(run(cmd), 0);
	snprintf(path, sizeof(path), "%s/big.pkl", dir);
	payload = slurp(path, &plen);
	cr_assert_gt(plen, 1u << 20);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		orig = slurp(path, &n);
		pk_buf_reset(&out);
		pk_buf_reset(&again);
		cr_assert_eq(pk_z_decompress_mem(orig, n, &out, &zi, 0, &e),
			     PK_OK, "%s: %s", files[i], e.msg);
		cr_expect(out.len == plen &&
			  memcmp(out.data, payload, plen) == 0);
		cr_assert_eq(
		    pk_z_compress_mem(&zi, out.data, out.len, &again, &e),
		    PK_OK);
		cr_expect(again.len == n && memcmp(again.data, orig, n) == 0,
			  "%s: not byte-identical (%zu vs %zu bytes)", files[i],
			  again.len, n);
		unlink(path);
		free(orig);
	}
	if (zi.fmt == PK_Z_BZIP2)
		cr_expect_eq(zi.level, 9);
	snprintf(path, sizeof(path), "%s/big.pkl", dir);
	unlink(path);
	rmdir(dir);
	pk_buf_release(&out);
	pk_buf_release(&again);
	free(payload);
}

/* ---- xz, lzma-alone, zstd, zlib ------------------------------------------
 * Files made at test time by Python's lzma, zlib and zstandard modules and
 * the zstd CLI (tests/unit/zformats.py).
 */

Test(zformats_detect, magic)
{
	const uint8_t xz[] = {0xfd, '7', 'z', 'X', 'Z', 0};
	const uint8_t zst[] = {0x28, 0xb5, 0x2f, 0xfd};
	const uint8_t zl[][2] = {
	    {0x78, 0x01}, {0x78, 0x5e}, {0x78, 0x9c}, {0x78, 0xda}};
	/* header check off by one; preset dictionary (FDICT); CM 8 but a
	 * smaller window (not what zlib writes by default) */
	const uint8_t notzl[][2] = {{0x78, 0x9d}, {0x78, 0xbb}, {0x28, 0x53}};
	/* Python's lzma FORMAT_ALONE header: 0x5d, 8 MiB, size unknown */
	uint8_t alone[13] = {0x5d, 0,	 0,    0x80, 0,	   0xff, 0xff,
			     0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	size_t i;

	cr_expect_eq(pk_z_detect(xz, 6), PK_Z_XZ);
	cr_expect_eq(pk_z_detect(xz, 5), PK_Z_NONE);
	cr_expect_eq(pk_z_detect(zst, 4), PK_Z_ZSTD);
	cr_expect_eq(pk_z_detect(zst, 3), PK_Z_NONE);
	for (i = 0; i < 4; i++)
		cr_expect_eq(pk_z_detect(zl[i], 2), PK_Z_ZLIB, "%zu", i);
	for (i = 0; i < 3; i++) {
		cr_expect_eq((notzl[i][0] * 256 + notzl[i][1]) % 31 == 0,
			     i != 0);
		cr_expect_eq(pk_z_detect(notzl[i], 2), PK_Z_NONE, "%zu", i);
	}
	cr_expect_eq(pk_z_detect(zl[0], 1), PK_Z_NONE);
	cr_expect(pk_z_lzma_header_ok(alone, 13));
	cr_expect(!pk_z_lzma_header_ok(alone, 12));
	cr_expect_eq(pk_z_detect(alone, 13), PK_Z_NONE);
	alone[5] = 0; /* a known size: 2^56 - 1 is too big */
	cr_expect(!pk_z_lzma_header_ok(alone, 13));
	memset(alone + 5, 0, 8);
	alone[5] = 100; /* 100 bytes */
	cr_expect(pk_z_lzma_header_ok(alone, 13));
	alone[3] = 0x70; /* a dictionary of 7 MiB: not 2^n or 3 * 2^n */
	cr_expect(!pk_z_lzma_header_ok(alone, 13));
	alone[3] = 0xc0; /* 12 MiB = 3 * 2^22 */
	cr_expect(pk_z_lzma_header_ok(alone, 13));
	alone[0] = 225;
	cr_expect(!pk_z_lzma_header_ok(alone, 13));
	cr_expect_str_eq(pk_z_name(PK_Z_XZ), "xz");
	cr_expect_str_eq(pk_z_name(PK_Z_LZMA), "lzma");
	cr_expect_str_eq(pk_z_name(PK_Z_ZSTD), "zstd");
	cr_expect_str_eq(pk_z_name(PK_Z_ZLIB), "zlib");
}

struct zfx {
	const char *file;
	int fmt, level, check, zflags;
	unsigned members;
	int tail;      /* 4 bytes of junk after the stream, skipped */
	int identical; /* recompression gives the file back */
};

static const struct zfx zfx[] = {
    {"open.xz", PK_Z_XZ, 6, 1 + 4, 0, 1, 0, 1},
    {"preset1_crc32.xz", PK_Z_XZ, 1, 1 + 1, 0, 1, 0, 1},
    {"preset9_sha256.xz", PK_Z_XZ, 9, 1 + 10, 0, 1, 0, 1},
    {"nocheck.xz", PK_Z_XZ, 6, 1 + 0, 0, 1, 0, 1},
    {"multi.xz", PK_Z_XZ, 6, 1 + 4, 0, 2, 0, 0},
    {"junk.xz", PK_Z_XZ, 6, 1 + 4, 0, 1, 1, 0},
    {"open.lzma", PK_Z_LZMA, 6, 0, 0, 1, 0, 1},
    {"preset3.lzma", PK_Z_LZMA, 3, 0, 0, 1, 0, 1},
    {"compress.z", PK_Z_ZLIB, 6, 0, 0, 1, 0, 1},
    {"level1.z", PK_Z_ZLIB, 1, 0, 0, 1, 0, 1},
    {"level3.z", PK_Z_ZLIB, 3, 0, 0, 1, 0, 1},
    {"level9.z", PK_Z_ZLIB, 9, 0, 0, 1, 0, 1},
    {"junk.z", PK_Z_ZLIB, 6, 0, 0, 1, 1, 0},
    {"writer.zst", PK_Z_ZSTD, 3, 0, 0, 1, 0, 1},
    {"compress.zst", PK_Z_ZSTD, 3, 0, PK_ZSTD_SIZE, 1, 0, 1},
    {"cli.zst", PK_Z_ZSTD, 3, 0, PK_ZSTD_SIZE | PK_ZSTD_CHECKSUM, 1, 0, 1},
    {"multi.zst", PK_Z_ZSTD, 3, 0, PK_ZSTD_SIZE, 2, 0, 0},
    {"junk.zst", PK_Z_ZSTD, 3, 0, PK_ZSTD_SIZE, 1, 1, 0},
};
#define NZFX (sizeof(zfx) / sizeof(zfx[0]))

static char zdir[64];

static void zfx_make(void)
{
	char cmd[256];

	snprintf(zdir, sizeof(zdir), "/tmp/pk-zformats-XXXXXX");
	cr_assert(mkdtemp(zdir));
	snprintf(cmd, sizeof(cmd), PY " tests/unit/zformats.py %s", zdir);
	cr_assert_eq(run(cmd), 0, "%s", cmd);
}

static void zfx_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", zdir);
	run(cmd);
}

static uint8_t *zfx_slurp(const char *name, size_t *n)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", zdir, name);
	return slurp(path, n);
}

/* Each file: detected, decompressed (memory and fd) to the pickle, its
 * header fields read, the first bytes peeked, and compressed again with
 * what was read: the same bytes, or bytes that decompress to the same. */
Test(zformats, python_files, .init = zfx_make, .fini = zfx_remove)
{
	size_t i, n, plen, k;
	uint8_t *payload = zfx_slurp("payload.pkl", &plen), *in, peek[16];
	pk_buf out = PK_BUF_INIT, again = PK_BUF_INIT, back = PK_BUF_INIT;
	pk_zinfo zi, zi2;
	pk_err e = {0};
	uint64_t out_len;
	char path[160];

	for (i = 0; i < NZFX; i++) {
		const struct zfx *f = &zfx[i];
		int as = f->fmt == PK_Z_LZMA ? PK_Z_LZMA : PK_Z_NONE;
		in = zfx_slurp(f->file, &n);
		cr_expect_eq(pk_z_detect(in, n),
			     f->fmt == PK_Z_LZMA ? PK_Z_NONE : f->fmt, "%s",
			     f->file);
		pk_buf_reset(&out);
		cr_assert_eq(
		    pk_z_decompress_mem_as(as, in, n, &out, &zi, 0, &e), PK_OK,
		    "%s: %s at %llu", f->file, e.msg,
		    (unsigned long long)e.offset);
		cr_expect(out.len == plen &&
			      memcmp(out.data, payload, plen) == 0,
			  "%s: %zu bytes", f->file, out.len);
		cr_expect_eq(zi.fmt, f->fmt, "%s", f->file);
		cr_expect_eq(zi.level, f->level, "%s: level", f->file);
		cr_expect_eq(zi.check, f->check, "%s: check", f->file);
		cr_expect_eq(zi.zstd_flags, f->zflags, "%s: flags", f->file);
		cr_expect_eq(zi.members, f->members, "%s: members", f->file);
		cr_expect_eq(zi.tail_at, f->tail ? n - 4 : 0,
			     "%s: tail at %llu", f->file,
			     (unsigned long long)zi.tail_at);
		/* the fd path */
		snprintf(path, sizeof(path), "%s/%s", zdir, f->file);
		{
			int in_fd = open(path, O_RDONLY),
			    out_fd = tmpfile_fd(NULL, 0);
			uint8_t *got;
			size_t glen;
			cr_assert(in_fd >= 0);
			cr_assert_eq(pk_z_decompress_fd_as(as, in_fd, out_fd,
							   &zi2, &out_len, 0,
							   NULL, NULL, &e),
				     PK_OK, "%s fd: %s", f->file, e.msg);
			got = slurp_fd(out_fd, &glen);
			cr_expect(out_len == plen && glen == plen &&
				      memcmp(got, payload, plen) == 0,
				  "%s fd", f->file);
			cr_expect_eq(zi2.level, zi.level);
			free(got);
			close(in_fd);
			close(out_fd);
		}
		/* what sniff.c reads: 4 KiB; zstd, whose first block comes
		 * out only once whole, up to 132 KiB */
		k = f->fmt == PK_Z_ZSTD ? 132 * 1024 : 4096;
		k = pk_z_peek(f->fmt, in, n < k ? n : k, peek, sizeof(peek));
		cr_expect(k == sizeof(peek) &&
			      memcmp(peek, payload, sizeof(peek)) == 0,
			  "%s: peek gave %zu bytes", f->file, k);
		pk_buf_reset(&again);
		cr_assert_eq(
		    pk_z_compress_mem(&zi, out.data, out.len, &again, &e),
		    PK_OK, "%s: %s", f->file, e.msg);
		if (f->identical)
			cr_expect(again.len == n &&
				      memcmp(again.data, in, n) == 0,
				  "%s: not byte-identical (%zu vs %zu)",
				  f->file, again.len, n);
		pk_buf_reset(&back);
		cr_assert_eq(pk_z_decompress_mem_as(as, again.data, again.len,
						    &back, &zi2, 0, &e),
			     PK_OK, "%s again: %s", f->file, e.msg);
		cr_expect(back.len == plen &&
			      memcmp(back.data, payload, plen) == 0,
			  "%s again", f->file);
		cr_expect_eq(zi2.level, zi.level, "%s again: level", f->file);
		cr_expect_eq(zi2.check, zi.check, "%s again: check", f->file);
		cr_expect_eq(zi2.zstd_flags, zi.zstd_flags, "%s again",
			     f->file);
		free(in);
	}
	pk_buf_release(&out);
	pk_buf_release(&again);
	pk_buf_release(&back);
	free(payload);
}

/* An edited pickle written with a file's pk_zinfo loads in CPython with
 * the module that wrote the file (zstd: python-zstandard). */
Test(zformats, python_loads_rewrite, .init = zfx_make, .fini = zfx_remove)
{
	static const char *load[] = {
	    [PK_Z_XZ] = "lzma.open(p)",
	    [PK_Z_LZMA] = "lzma.open(p, format=lzma.FORMAT_ALONE)",
	    [PK_Z_ZLIB] = "io.BytesIO(zlib.decompress(open(p,\"rb\").read()))",
	    [PK_Z_ZSTD] = "zstandard.ZstdDecompressor().stream_reader(open(p,"
			  "\"rb\"),read_across_frames=True)",
	};
	/* pickle.dumps({"edited": 7}, 4) */
	static const uint8_t edited[] = "\x80\x04\x95\x0f\x00\x00\x00\x00\x00"
					"\x00\x00}\x94\x8c\x06"
					"edited\x94K\x07s.";
	size_t i, n;
	uint8_t *in;
	pk_buf out = PK_BUF_INIT, again = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e = {0};
	char path[160], cmd[1024];

	for (i = 0; i < NZFX; i++) {
		const struct zfx *f = &zfx[i];
		int as = f->fmt == PK_Z_LZMA ? PK_Z_LZMA : PK_Z_NONE, fd;
		in = zfx_slurp(f->file, &n);
		pk_buf_reset(&out);
		cr_assert_eq(
		    pk_z_decompress_mem_as(as, in, n, &out, &zi, 0, &e), PK_OK);
		pk_buf_reset(&again);
		cr_assert_eq(pk_z_compress_mem(&zi, edited, sizeof(edited) - 1,
					       &again, &e),
			     PK_OK);
		snprintf(path, sizeof(path), "%s/edited-%s", zdir, f->file);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		cr_assert(fd >= 0);
		cr_assert(write(fd, again.data, again.len) ==
			  (ssize_t)again.len);
		close(fd);
		snprintf(cmd, sizeof(cmd),
			 PY " -c 'import io,lzma,pickle,sys,zlib,zstandard\n"
			    "p=sys.argv[1]\n"
			    "assert pickle.load(%s)=={\"edited\":7}' %s",
			 load[f->fmt], path);
		cr_expect_eq(run(cmd), 0, "%s: CPython does not load it",
			     f->file);
		free(in);
	}
	pk_buf_release(&out);
	pk_buf_release(&again);
}

/* Cut short anywhere: refused with the format's message, at an offset
 * no further than the cut; one byte changed inside: refused (xz by its
 * CRC, zlib by Adler-32, zstd by its checksum or its block). */
Test(zformats, truncated_and_corrupt, .init = zfx_make, .fini = zfx_remove)
{
	static const struct {
		const char *file, *cut_msg;
	} t[] = {
	    {"open.xz", "xz / lzma stream truncated"},
	    {"open.lzma", "xz / lzma stream truncated"},
	    {"compress.z", "zlib stream truncated"},
	    {"cli.zst", "zstd frame truncated"},
	};
	size_t i, n, cut;
	uint8_t *in;
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e;
	int rc;

	for (i = 0; i < 4; i++) {
		int as = strstr(t[i].file, ".lzma") ? PK_Z_LZMA : PK_Z_NONE;
		in = zfx_slurp(t[i].file, &n);
		for (cut = 1; cut < n; cut += cut < 64 ? 1 : 997) {
			memset(&e, 0, sizeof(e));
			pk_buf_reset(&out);
			rc = pk_z_decompress_mem_as(as, in, cut, &out, &zi, 0,
						    &e);
			cr_assert_eq(rc, PK_E_COMPRESS, "%s cut at %zu: %d",
				     t[i].file, cut, rc);
			cr_assert_leq(e.offset, cut, "%s cut at %zu", t[i].file,
				      cut);
			cr_assert_eq(out.len, 0);
		}
		memset(&e, 0, sizeof(e));
		pk_z_decompress_mem_as(as, in, n - 1, &out, &zi, 0, &e);
		cr_expect_str_eq(e.msg, t[i].cut_msg, "%s", t[i].file);
		in[n / 2] ^= 0x10;
		memset(&e, 0, sizeof(e));
		rc = pk_z_decompress_mem_as(as, in, n, &out, &zi, 0, &e);
		if (as == PK_Z_LZMA) /* no check: damage may pass unseen */
			cr_expect(rc == PK_OK || rc == PK_E_COMPRESS);
		else
			cr_expect_eq(rc, PK_E_COMPRESS, "%s corrupt: %s",
				     t[i].file, e.msg);
		cr_expect_leq(e.offset, n);
		free(in);
	}
	pk_buf_release(&out);
}

/* A bomb in each format stops at the bound with PK_E_LIMIT at an offset
 * inside the compressed input, having written no more than the bound;
 * the exact size passes. */
Test(zformats, bound)
{
	const int fmts[] = {PK_Z_XZ, PK_Z_LZMA, PK_Z_ZSTD, PK_Z_ZLIB};
	const uint64_t maxes[] = {1u << 20, 300000, 1};
	size_t n, i, j;
	pk_zinfo zi;
	pk_err e;
	uint64_t out_len;
	struct stat st;

	for (i = 0; i < 4; i++) {
		int in_fd = bomb_fd(fmts[i], &n);
		cr_expect_lt(n, 70000, "%s bomb: %zu bytes", pk_z_name(fmts[i]),
			     n);
		for (j = 0; j < 3; j++) {
			int out_fd = tmpfile_fd(NULL, 0);
			cr_assert(lseek(in_fd, 0, SEEK_SET) == 0);
			memset(&e, 0, sizeof(e));
			cr_expect_eq(pk_z_decompress_fd_as(
					 fmts[i], in_fd, out_fd, &zi, &out_len,
					 maxes[j], NULL, NULL, &e),
				     PK_E_LIMIT, "%s max %llu",
				     pk_z_name(fmts[i]),
				     (unsigned long long)maxes[j]);
			cr_expect_str_eq(e.msg, "expands past the limit");
			cr_expect_gt(e.offset, 0);
			cr_expect_leq(e.offset, n);
			cr_expect_leq(out_len, maxes[j]);
			cr_assert(fstat(out_fd, &st) == 0);
			cr_expect_leq((uint64_t)st.st_size, maxes[j]);
			close(out_fd);
		}
		for (j = 0; j < 2; j++) {
			int out_fd = tmpfile_fd(NULL, 0);
			cr_assert(lseek(in_fd, 0, SEEK_SET) == 0);
			cr_expect_eq(pk_z_decompress_fd_as(
					 fmts[i], in_fd, out_fd, &zi, &out_len,
					 BOMB_LEN - j, NULL, NULL, &e),
				     j ? PK_E_LIMIT : PK_OK, "%s exact %zu",
				     pk_z_name(fmts[i]), j);
			if (!j)
				cr_expect_eq(out_len, BOMB_LEN);
			close(out_fd);
		}
		close(in_fd);
	}
}
