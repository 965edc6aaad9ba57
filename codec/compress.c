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
	return PK_Z_NONE;
}

const char *pk_z_name(int fmt)
{
	switch (fmt) {
	case PK_Z_GZIP:
		return "gzip";
	case PK_Z_BZIP2:
		return "bzip2";
	default:
		return "none";
	}
}

/* ---- decompression entry points --------------------------------------- */

static int z_decompress(struct zin *r, struct zout *o, pk_zinfo *info,
			pk_err *e)
{
	size_t have;
	int rc;

	memset(info, 0, sizeof(*info));
	rc = pk_zin_peek(r, 4, &have, e);
	if (rc)
		return rc;
	info->fmt = pk_z_detect(r->p + r->pos, have);
	switch (info->fmt) {
	case PK_Z_GZIP:
		return pk_gz_decompress(r, o, info, e);
	case PK_Z_BZIP2:
		return pk_bz_decompress(r, o, info, e);
	default:
		return pk_err_set(e, PK_E_COMPRESS,
				  "not a gzip or bzip2 stream", 0);
	}
}

int pk_z_decompress_mem(const uint8_t *in, size_t n, pk_buf *out,
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
	rc = z_decompress(&r, &o, info, e);
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
	rc = z_decompress(&r, &o, info, e);
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
	return 0;
}
