#include "compress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zstream.h"

int pk_z_detect(const uint8_t *head, size_t n)
{
	if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
		return PK_Z_GZIP;
	if (n >= 4 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h' &&
	    head[3] >= '1' && head[3] <= '9')
		return PK_Z_BZIP2;
	if (n >= 6 && memcmp(head,
			     "\xfd"
			     "7zXZ\0",
			     6) == 0)
		return PK_Z_XZ;
	if (n >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f &&
	    head[3] == 0xfd)
		return PK_Z_ZSTD;
	/* CMF 0x78: deflate, 32 KiB window (what zlib writes by default);
	 * FLG: the header check, no preset dictionary */
	if (n >= 2 && head[0] == 0x78 && (0x78 * 256 + head[1]) % 31 == 0 &&
	    !(head[1] & 0x20))
		return PK_Z_ZLIB;
	return PK_Z_NONE;
}

int pk_z_lzma_header_ok(const uint8_t *head, size_t n)
{
	uint32_t dict;
	uint64_t size = 0;
	int i;

	if (n < 13 || head[0] >= 9 * 5 * 5)
		return 0;
	dict = (uint32_t)head[1] | (uint32_t)head[2] << 8 |
	       (uint32_t)head[3] << 16 | (uint32_t)head[4] << 24;
	if (dict != UINT32_MAX) {
		/* 2^n or 2^n + 2^(n-1), as liblzma writes it */
		uint32_t low = dict & (~dict + 1); /* lowest set bit */
		if (!dict || (dict != low && dict != low * 3))
			return 0;
	}
	for (i = 12; i >= 5; i--)
		size = size << 8 | head[i];
	return size == UINT64_MAX || size < (1ull << 48);
}

const char *pk_z_name(int fmt)
{
	switch (fmt) {
	case PK_Z_GZIP:
		return "gzip";
	case PK_Z_BZIP2:
		return "bzip2";
	case PK_Z_XZ:
		return "xz";
	case PK_Z_LZMA:
		return "lzma";
	case PK_Z_ZSTD:
		return "zstd";
	case PK_Z_ZLIB:
		return "zlib";
	default:
		return "none";
	}
}

/* ---- decompression entry points --------------------------------------- */

static int z_decompress(int fmt, struct zin *r, struct zout *o, pk_zinfo *info,
			pk_err *e)
{
	size_t have;
	int rc;

	memset(info, 0, sizeof(*info));
	rc = pk_zin_peek(r, 6, &have, e);
	if (rc)
		return rc;
	info->fmt = fmt ? fmt : pk_z_detect(r->p + r->pos, have);
	switch (info->fmt) {
	case PK_Z_GZIP:
		return pk_gz_decompress(r, o, info, e);
	case PK_Z_BZIP2:
		return pk_bz_decompress(r, o, info, e);
	case PK_Z_XZ:
	case PK_Z_LZMA:
		return pk_xz_decompress(r, o, info, e);
	case PK_Z_ZSTD:
		return pk_zstd_decompress(r, o, info, e);
	case PK_Z_ZLIB:
		return pk_zl_decompress(r, o, info, e);
	default:
		info->fmt = PK_Z_NONE;
		return pk_err_set(e, PK_E_COMPRESS,
				  "not a compressed stream (gzip, bzip2, xz, "
				  "zstd, zlib)",
				  0);
	}
}

int pk_z_decompress_mem(const uint8_t *in, size_t n, pk_buf *out,
			pk_zinfo *info, uint64_t max_out, pk_err *e)
{
	return pk_z_decompress_mem_as(PK_Z_NONE, in, n, out, info, max_out, e);
}

int pk_z_decompress_mem_as(int fmt, const uint8_t *in, size_t n, pk_buf *out,
			   pk_zinfo *info, uint64_t max_out, pk_err *e)
{
	struct zin r;
	struct zout o;
	size_t len0 = out->len;
	int rc;

	memset(&r, 0, sizeof(r));
	r.p = in;
	r.len = n;
	r.eof = 1;
	r.fd = -1;
	memset(&o, 0, sizeof(o));
	o.buf = out;
	o.fd = -1;
	o.max = max_out;
	rc = z_decompress(fmt, &r, &o, info, e);
	if (rc && out->data) {
		/* no half-decompressed tail for the caller to trip over */
		out->len = len0;
		out->data[len0] = '\0';
	}
	return rc;
}

int pk_z_decompress_fd(int in_fd, int out_fd, pk_zinfo *info, uint64_t *out_len,
		       uint64_t max_out, pk_progress_fn progress, void *ctx,
		       pk_err *e)
{
	return pk_z_decompress_fd_as(PK_Z_NONE, in_fd, out_fd, info, out_len,
				     max_out, progress, ctx, e);
}

int pk_z_decompress_fd_as(int fmt, int in_fd, int out_fd, pk_zinfo *info,
			  uint64_t *out_len, uint64_t max_out,
			  pk_progress_fn progress, void *ctx, pk_err *e)
{
	struct zin r;
	struct zout o;
	struct stat st;
	off_t here;
	int rc, saved_errno;

	memset(info, 0, sizeof(*info));
	memset(&r, 0, sizeof(r));
	memset(&o, 0, sizeof(o));
	r.fd = in_fd;
	r.progress = progress;
	r.ctx = ctx;
	r.next_report = PROGRESS_EVERY;
	if (fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode)) {
		here = lseek(in_fd, 0, SEEK_CUR);
		if (here >= 0 && here <= st.st_size)
			r.total = (uint64_t)(st.st_size - here);
	}
	o.fd = out_fd;
	o.max = max_out;
	r.buf = malloc(ZIN_BUFSZ);
	o.obuf = malloc(ZOUT_BUFSZ);
	if (!r.buf || !o.obuf) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	r.p = r.buf;
	rc = z_decompress(fmt, &r, &o, info, e);
cleanup:
	saved_errno = errno;
	if (out_len)
		*out_len = o.total;
	free(r.buf);
	free(o.obuf);
	errno = saved_errno;
	return rc;
}

/* ---- compression ------------------------------------------------------ */

/* Levels outside 1..9 (a zeroed pk_zinfo) mean Python's default, 9. */
int pk_z_level(const pk_zinfo *info)
{
	return info->level >= 1 && info->level <= 9 ? info->level : 9;
}

static int z_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		      struct zout *o, pk_err *e)
{
	switch (info->fmt) {
	case PK_Z_GZIP:
		return pk_gz_compress(info, data, n, o, e);
	case PK_Z_BZIP2:
		return pk_bz_compress(info, data, n, o, e);
	case PK_Z_XZ:
	case PK_Z_LZMA:
		return pk_xz_compress(info, data, n, o, e);
	case PK_Z_ZSTD:
		return pk_zstd_compress(info, data, n, o, e);
	case PK_Z_ZLIB:
		return pk_zl_compress(info, data, n, o, e);
	default:
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "no compression format to write", 0);
	}
}

int pk_z_compress_mem(const pk_zinfo *info, const uint8_t *data, size_t n,
		      pk_buf *out, pk_err *e)
{
	struct zout o;
	size_t len0 = out->len;
	int rc;

	memset(&o, 0, sizeof(o));
	o.buf = out;
	o.fd = -1;
	rc = z_compress(info, data, n, &o, e);
	if (rc && out->data) {
		out->len = len0;
		out->data[len0] = '\0';
	}
	return rc;
}

int pk_z_compress_fd(const pk_zinfo *info, const uint8_t *data, size_t n,
		     int out_fd, pk_err *e)
{
	struct zout o;
	int rc, saved_errno;

	memset(&o, 0, sizeof(o));
	o.fd = out_fd;
	o.obuf = malloc(ZOUT_BUFSZ);
	if (!o.obuf)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	rc = z_compress(info, data, n, &o, e);
	saved_errno = errno;
	free(o.obuf);
	errno = saved_errno;
	return rc;
}

/* ---- peeking ------------------------------------------------------------ */

size_t pk_z_peek(int fmt, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	if (fmt == PK_Z_GZIP)
		return pk_gz_peek(in, n, out, cap);
	if (fmt == PK_Z_BZIP2)
		return pk_bz_peek(in, n, out, cap);
	if (fmt == PK_Z_XZ || fmt == PK_Z_LZMA)
		return pk_xz_peek(fmt, in, n, out, cap);
	if (fmt == PK_Z_ZSTD)
		return pk_zstd_peek(in, n, out, cap);
	if (fmt == PK_Z_ZLIB)
		return pk_zl_peek(in, n, out, cap);
	return 0;
}
