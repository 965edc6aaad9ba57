/*
 * libFuzzer harness for codec/compress.h: gzip and bzip2 streams of
 * arbitrary bytes, through the public API only (and, more loosely, xz,
 * zstd and zlib: fuzz_other below).
 *
 * Per input:
 *   - pk_z_detect and pk_z_peek: the peeked bytes fit the room given and
 *     are a prefix of what the whole stream decompresses to;
 *   - pk_z_decompress_mem (output bounded by FUZZ_MAX_OUT, appended after
 *     bytes already in the buffer) succeeds, or fails with a documented
 *     code, a message and an offset inside the input, the buffer as it was;
 *   - pk_z_decompress_fd, reading the same bytes from a memfd in short
 *     pieces (read(2) is wrapped, see below) after a few bytes it must
 *     skip, gives the same code and offset, and on success the same bytes,
 *     count and pk_zinfo;
 *   - on success, the round trip: compressing the bytes with the pk_zinfo
 *     that decompression filled (in memory and to an fd: the same stream)
 *     decompresses to the same bytes and header fields, and compressing
 *     again gives the same stream;
 *   - an input that is not a compressed stream is compressed itself, with
 *     a format, level and header fields taken from its first bytes, and
 *     must come back the same.
 * Memory: the memory path is bounded by max_out; the fd path, which has
 * no bound, runs only when the memory path did not reach it, so it
 * writes no more than that.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress.h"

#define FUZZ_MAX_OUT (1u << 20)
#define PEEK_CAP 64

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/*
 * Short reads: the harness is linked with -Wl,--wrap=read, so the
 * codec's read(2) calls come here. While read_piece is not 0 each call
 * asks for at most that many bytes, which is what a pipe or a network
 * filesystem may give, and puts the window's refill and peek code to work.
 */
ssize_t __real_read(int fd, void *buf, size_t n);
static size_t read_piece;

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	if (read_piece && n > read_piece)
		n = read_piece;
	return __real_read(fd, buf, n);
}

static uint64_t hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--) {
		h ^= *p++;
		h *= 1099511628211ull;
	}
	return h;
}

static int memfd(const void *data, size_t n)
{
	int fd = memfd_create("fuzz", 0);

	CHECK(fd >= 0);
	if (n)
		CHECK(write(fd, data, n) == (ssize_t)n);
	return fd;
}

/* The whole content of fd, into b (reset first). */
static void slurp(int fd, pk_buf *b)
{
	struct stat st;

	pk_buf_reset(b);
	CHECK(fstat(fd, &st) == 0);
	CHECK(pk_buf_grow(b, (size_t)st.st_size) == 0);
	if (st.st_size)
		CHECK(pread(fd, b->data, (size_t)st.st_size, 0) ==
		      (ssize_t)st.st_size);
	b->len = (size_t)st.st_size;
}

static int same_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* The header fields compression writes back. */
static int same_header(const pk_zinfo *a, const pk_zinfo *b)
{
	if (a->fmt != b->fmt || a->level != b->level)
		return 0;
	if (a->fmt != PK_Z_GZIP)
		return 1;
	return a->mtime == b->mtime && a->xfl == b->xfl && a->os == b->os &&
	       a->has_name == b->has_name &&
	       (!a->has_name || strcmp(a->name, b->name) == 0);
}

static void check_err(const pk_err *e, int rc, size_t n)
{
	CHECK(rc == e->code);
	CHECK(rc == PK_E_COMPRESS || rc == PK_E_UNSUPPORTED ||
	      rc == PK_E_NOMEM || rc == PK_E_LIMIT);
	CHECK(e->msg && e->msg[0]);
	CHECK(e->offset <= n);
}

/* Decompresses in[0..n) from an fd in short pieces, starting `skip`
 * bytes into the file; out gets the bytes. */
static int decompress_fd(const uint8_t *in, size_t n, size_t skip, size_t piece,
			 pk_buf *out, pk_zinfo *info, uint64_t *out_len,
			 pk_err *e)
{
	static const uint8_t junk[4] = {0x1f, 0x8b, 'B', 'Z'};
	int ifd = memfd(junk, skip), ofd = memfd(NULL, 0), rc;

	if (n)
		CHECK(write(ifd, in, n) == (ssize_t)n);
	CHECK(lseek(ifd, (off_t)skip, SEEK_SET) == (off_t)skip);
	read_piece = piece;
	rc = pk_z_decompress_fd(ifd, ofd, info, out_len, FUZZ_MAX_OUT, NULL,
				NULL, e);
	read_piece = 0;
	slurp(ofd, out);
	close(ifd);
	close(ofd);
	return rc;
}

/* data compressed with info (memory and fd agree), then decompressed:
 * the same bytes and header fields; compressing what came back gives the
 * same stream again. */
static void round_trip(const pk_zinfo *info, const uint8_t *data, size_t n)
{
	pk_buf c1 = PK_BUF_INIT, c2 = PK_BUF_INIT, d = PK_BUF_INIT,
	       f = PK_BUF_INIT;
	pk_zinfo back, want = *info;
	pk_err e;
	int fd;

	CHECK(pk_z_compress_mem(info, data, n, &c1, &e) == PK_OK);
	fd = memfd(NULL, 0);
	CHECK(pk_z_compress_fd(info, data, n, fd, &e) == PK_OK);
	slurp(fd, &f);
	close(fd);
	CHECK(same_bytes(c1.data, c1.len, f.data, f.len));
	CHECK(pk_z_detect(c1.data, c1.len) == info->fmt);

	CHECK(pk_z_decompress_mem(c1.data, c1.len, &d, &back, 0, &e) == PK_OK);
	CHECK(same_bytes(d.data, d.len, data, n));
	CHECK(back.members == 1);
	/* what compression writes: a level outside 1..9 is 9; gzip keeps
	 * XFL, and the level read back is the one XFL says */
	if (want.level < 1 || want.level > 9)
		want.level = 9;
	if (want.fmt == PK_Z_GZIP)
		want.level = want.xfl == 2 ? 9 : want.xfl == 4 ? 1 : 6;
	CHECK(same_header(&back, &want));

	/* compressing with what decompression read gives the same stream,
	 * when the level used is the one the header shows (always so for
	 * a pk_zinfo that decompression filled) */
	CHECK(pk_z_compress_mem(&back, d.data, d.len, &c2, &e) == PK_OK);
	if (want.level ==
	    (info->level >= 1 && info->level <= 9 ? info->level : 9))
		CHECK(same_bytes(c1.data, c1.len, c2.data, c2.len));
	pk_buf_release(&c1);
	pk_buf_release(&c2);
	pk_buf_release(&d);
	pk_buf_release(&f);
}

static void fuzz_decompress(const uint8_t *in, size_t n, int fmt)
{
	static const size_t pieces[] = {0, 1, 2, 3, 5, 8, 13, 64, 4093};
	pk_buf m = PK_BUF_INIT, f = PK_BUF_INIT;
	pk_zinfo mi, fi;
	pk_err me, fe;
	uint8_t peek[PEEK_CAP];
	uint64_t h = hash(in, n), flen = 0;
	size_t cap = (size_t)(h % (PEEK_CAP + 1)), got, piece;
	int mrc, frc;

	got = pk_z_peek(fmt, in, n, peek, cap);
	CHECK(got <= cap);

	/* appended after what the buffer holds, which failure keeps */
	CHECK(pk_buf_add(&m, "pre", 3) == 0);
	mrc = pk_z_decompress_mem(in, n, &m, &mi, FUZZ_MAX_OUT, &me);
	if (mrc == PK_OK) {
		CHECK(mi.fmt == fmt && mi.members >= 1);
		CHECK(m.len - 3 <= FUZZ_MAX_OUT);
		CHECK(got <= m.len - 3 &&
		      same_bytes(peek, got, m.data + 3, got));
	} else {
		check_err(&me, mrc, n);
		CHECK(m.len == 3 && memcmp(m.data, "pre", 3) == 0);
	}
	CHECK(memcmp(m.data, "pre", 3) == 0);
	/* over the bound: where each path noticed depends on its reads */
	if (mrc == PK_E_LIMIT)
		goto cleanup;

	piece = pieces[(h >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
	if (piece && piece < n / 4096 + 1)
		piece = n / 4096 + 1; /* at most ~4096 reads */
	frc = decompress_fd(in, n, (h >> 16) % 4, piece, &f, &fi, &flen, &fe);
	if (frc != mrc || (frc && fe.offset != me.offset)) {
		fprintf(stderr,
			"memory: %d %s at %llu; fd (pieces of %zu): %d %s at "
			"%llu\n",
			mrc, mrc ? me.msg : "ok", (unsigned long long)me.offset,
			piece, frc, frc ? fe.msg : "ok",
			(unsigned long long)fe.offset);
		abort();
	}
	CHECK(flen == f.len);
	if (mrc == PK_OK) {
		CHECK(same_bytes(f.data, f.len, m.data + 3, m.len - 3));
		CHECK(fi.members == mi.members && same_header(&fi, &mi));
		CHECK(mi.level >= 1 && mi.level <= 9);
		round_trip(&mi, m.data + 3, m.len - 3);
	}
cleanup:
	pk_buf_release(&m);
	pk_buf_release(&f);
}

/* Not a stream: compress the input with settings read from its head. */
static void fuzz_compress(const uint8_t *in, size_t n)
{
	pk_zinfo info;
	size_t i;

	memset(&info, 0, sizeof(info));
	info.fmt = n && (in[0] & 1) ? PK_Z_BZIP2 : PK_Z_GZIP;
	if (n > 1)
		info.level = in[1] % 11; /* 0 and 10: "outside 1..9" */
	if (n > 5)
		info.mtime = (uint32_t)in[2] | (uint32_t)in[3] << 8 |
			     (uint32_t)in[4] << 16 | (uint32_t)in[5] << 24;
	if (n > 7) {
		info.xfl = in[6];
		info.os = in[7];
	}
	if (n > 8 && (in[8] & 1)) {
		info.has_name = 1;
		for (i = 0; i + 9 < n && i < sizeof(info.name) - 1 && in[9 + i];
		     i++)
			info.name[i] = (char)in[9 + i];
	}
	round_trip(&info, in, n);
}

/* xz, zstd and zlib, added after the checks above were written for gzip
 * and bzip2 (whose header fields and offsets they pin down): memory and
 * fd agree on the code and, on success, on the bytes; the peek is a
 * prefix of them; compressing them with the pk_zinfo read gives a stream
 * that decompresses to them again. */
static void fuzz_other(const uint8_t *in, size_t n, int fmt)
{
	pk_buf m = PK_BUF_INIT, f = PK_BUF_INIT, c = PK_BUF_INIT;
	pk_buf back = PK_BUF_INIT;
	pk_zinfo mi, fi, bi;
	pk_err me, fe, e;
	uint64_t flen = 0;
	uint8_t peek[PEEK_CAP];
	size_t got = pk_z_peek(fmt, in, n, peek, sizeof(peek));
	int mrc, frc;

	CHECK(got <= sizeof(peek));
	mrc = pk_z_decompress_mem(in, n, &m, &mi, FUZZ_MAX_OUT, &me);
	if (mrc != PK_OK) {
		CHECK(mrc == me.code && me.msg && me.msg[0]);
		CHECK(me.offset <= n);
	}
	if (mrc == PK_E_LIMIT)
		goto cleanup;
	frc = decompress_fd(in, n, 0, 0, &f, &fi, &flen, &fe);
	CHECK(frc == mrc);
	if (mrc != PK_OK)
		goto cleanup;
	CHECK(mi.fmt == fmt && fi.fmt == fmt);
	CHECK(flen == f.len && same_bytes(f.data, f.len, m.data, m.len));
	CHECK(got <= m.len && same_bytes(peek, got, m.data, got));
	CHECK(pk_z_compress_mem(&mi, m.data, m.len, &c, &e) == PK_OK);
	CHECK(pk_z_decompress_mem(c.data, c.len, &back, &bi, 0, &e) == PK_OK);
	CHECK(bi.fmt == fmt && same_bytes(back.data, back.len, m.data, m.len));
cleanup:
	pk_buf_release(&m);
	pk_buf_release(&f);
	pk_buf_release(&c);
	pk_buf_release(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fmt = pk_z_detect(data, size);
	uint8_t peek[8];

	CHECK(pk_z_name(fmt) != NULL);
	if (fmt != PK_Z_NONE && fmt != PK_Z_GZIP && fmt != PK_Z_BZIP2) {
		fuzz_other(data, size, fmt);
		return 0;
	}
	if (fmt == PK_Z_NONE) {
		CHECK(pk_z_peek(fmt, data, size, peek, sizeof(peek)) == 0);
		fuzz_compress(data, size);
	}
	/* what is not gzip or bzip2 must be refused as such, too */
	fuzz_decompress(data, size, fmt);
	return 0;
}
