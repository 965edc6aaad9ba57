#include "compress.h"

#include <bzlib.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "byteorder.h"

/*
 * Buffer sizes of the fd paths. They bound the memory of a streaming
 * decompression (plus zlib's ~45 KB or libbz2's ~3.6 MB of state), so a
 * 1 GB compressed pickle costs the same as a 1 KB one.
 */
#define ZIN_BUFSZ (256u * 1024u)
#define ZOUT_BUFSZ (256u * 1024u)
/* Output space handed to zlib/libbz2 per call on the memory path. */
#define ZMEM_CHUNK (256u * 1024u)
/* Input fed per call: avail_in is an unsigned int in both libraries. */
#define ZFEED_MAX (1u << 30)
#define PROGRESS_EVERY (4u * 1024u * 1024u)

#define GZ_FTEXT 0x01
#define GZ_FHCRC 0x02
#define GZ_FEXTRA 0x04
#define GZ_FNAME 0x08
#define GZ_FCOMMENT 0x10

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

/* ---- compressed input: a window over memory or over an fd ------------- */

struct zin {
	const uint8_t *p; /* window; p[pos..len) is not consumed yet */
	size_t len;
	size_t pos;
	uint64_t base; /* offset of p[0] in the compressed input */
	int eof;       /* nothing past p[len) */
	int fd;	       /* -1 for memory input */
	uint8_t *buf;  /* fd: the window's storage, ZIN_BUFSZ bytes */
	uint64_t total;
	uint64_t next_report;
	pk_progress_fn progress;
	void *ctx;
};

static uint64_t zin_off(const struct zin *r)
{
	return r->base + r->pos;
}

/* Appends what one read() gives at buf[len..). */
static int zin_read(struct zin *r, pk_err *e)
{
	ssize_t got;
	uint64_t done;

	do {
		got = read(r->fd, r->buf + r->len, ZIN_BUFSZ - r->len);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return pk_err_set(e, PK_E_IO, "read failed", r->base + r->len);
	if (got == 0) {
		r->eof = 1;
		return PK_OK;
	}
	r->len += (size_t)got;
	done = r->base + r->len;
	if (r->progress && done >= r->next_report) {
		r->next_report = done + PROGRESS_EVERY;
		if (r->progress(r->ctx, done, r->total)) {
			errno = ECANCELED;
			return pk_err_set(e, PK_E_IO,
					  "aborted by progress callback", done);
		}
	}
	return PK_OK;
}

/* Called when the window is used up: replaces it with the next read. */
static int zin_fill(struct zin *r, pk_err *e)
{
	if (r->eof || r->fd < 0) {
		r->eof = 1;
		return PK_OK;
	}
	r->base += r->len;
	r->pos = 0;
	r->len = 0;
	return zin_read(r, e);
}

/* Makes up to `want` (<= ZIN_BUFSZ) bytes contiguous at p[pos..); *have
 * gets how many there are, fewer only at the end of the input. */
static int zin_peek(struct zin *r, size_t want, size_t *have, pk_err *e)
{
	int rc;

	if (r->len - r->pos < want && r->fd >= 0 && !r->eof) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->base += r->pos;
		r->len -= r->pos;
		r->pos = 0;
		while (r->len < want && !r->eof) {
			rc = zin_read(r, e);
			if (rc)
				return rc;
		}
	}
	*have = r->len - r->pos;
	if (*have > want)
		*have = want;
	return PK_OK;
}

/* One byte, or -1 at the end of the input. */
static int zin_byte(struct zin *r, int *c, pk_err *e)
{
	int rc;

	if (r->pos == r->len) {
		rc = zin_fill(r, e);
		if (rc)
			return rc;
		if (r->pos == r->len) {
			*c = -1;
			return PK_OK;
		}
	}
	*c = r->p[r->pos++];
	return PK_OK;
}

/* ---- output: a pk_buf (with an optional bound) or an fd --------------- */

struct zout {
	pk_buf *buf;   /* memory output, or NULL */
	int fd;	       /* fd output when buf is NULL */
	uint8_t *obuf; /* fd: ZOUT_BUFSZ bytes of staging */
	uint64_t max;  /* 0 = unbounded */
	uint64_t total;
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t put;

	while (n) {
		put = write(fd, p, n);
		if (put < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (put == 0) {
			/* write(2) returning 0 for n > 0 would loop forever */
			errno = EIO;
			return -1;
		}
		p += put;
		n -= (size_t)put;
	}
	return 0;
}

/* Where the next output may go: *avail bytes at *dst, then zout_commit. */
static int zout_space(struct zout *o, uint8_t **dst, unsigned *avail,
		      uint64_t off, pk_err *e)
{
	size_t room;

	if (!o->buf) {
		*dst = o->obuf;
		*avail = ZOUT_BUFSZ;
		return PK_OK;
	}
	if (pk_buf_grow(o->buf, ZMEM_CHUNK) < 0)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", off);
	room = o->buf->cap - o->buf->len - 1;
	if (room > ZFEED_MAX)
		room = ZFEED_MAX;
	/* a bomb overshoots the bound by one byte, not by a doubling */
	if (o->max && room > o->max - o->total + 1)
		room = (size_t)(o->max - o->total + 1);
	*dst = o->buf->data + o->buf->len;
	*avail = (unsigned)room;
	return PK_OK;
}

static int zout_commit(struct zout *o, size_t n, uint64_t off, pk_err *e)
{
	if (!n)
		return PK_OK;
	if (o->max && (n > o->max || o->total > o->max - n))
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "decompressed size over the limit", off);
	o->total += n;
	if (o->buf) {
		o->buf->len += n;
		o->buf->data[o->buf->len] = '\0';
		return PK_OK;
	}
	if (write_all(o->fd, o->obuf, n) < 0)
		return pk_err_set(e, PK_E_IO, "write failed", off);
	return PK_OK;
}

/* Copies bytes that did not come out of a (de)compressor: gzip header
 * and trailer. */
static int zout_write(struct zout *o, const uint8_t *p, size_t n, uint64_t off,
		      pk_err *e)
{
	if (o->buf) {
		if (pk_buf_add(o->buf, p, n) < 0)
			return pk_err_set(e, PK_E_NOMEM, "out of memory", off);
		o->total += n;
		return PK_OK;
	}
	if (write_all(o->fd, p, n) < 0)
		return pk_err_set(e, PK_E_IO, "write failed", off);
	o->total += n;
	return PK_OK;
}

/* ---- gzip decompression ----------------------------------------------- */

/* Skips a NUL-terminated header field, keeping up to cap-1 bytes of it
 * in keep (when not NULL). */
static int gz_skip_string(struct zin *r, char *keep, size_t cap, pk_err *e)
{
	size_t n = 0;
	int c, rc;

	for (;;) {
		rc = zin_byte(r, &c, e);
		if (rc)
			return rc;
		if (c < 0)
			return pk_err_set(e, PK_E_COMPRESS,
					  "gzip header truncated", zin_off(r));
		if (c == 0)
			break;
		if (keep && n + 1 < cap)
			keep[n++] = (char)c;
	}
	if (keep)
		keep[n] = '\0';
	return PK_OK;
}

/* Reads one member header at the current position (the magic has been
 * seen); fills info from it when `first`. */
static int gz_read_header(struct zin *r, pk_zinfo *info, int first, pk_err *e)
{
	uint8_t h[10];
	size_t have;
	int flags, c, rc, i;
	unsigned xlen;

	rc = zin_peek(r, sizeof(h), &have, e);
	if (rc)
		return rc;
	if (have < sizeof(h))
		return pk_err_set(e, PK_E_COMPRESS, "gzip header truncated",
				  zin_off(r) + have);
	memcpy(h, r->p + r->pos, sizeof(h));
	if (h[2] != 8)
		return pk_err_set(e, PK_E_COMPRESS,
				  "unknown gzip compression method",
				  zin_off(r) + 2);
	r->pos += sizeof(h);
	/* Reserved flag bits are ignored, as Python's gzip module does. */
	flags = h[3];
	if (first) {
		info->mtime = pk_le32(h + 4);
		info->xfl = h[8];
		info->os = h[9];
		info->level = h[8] == 2 ? 9 : h[8] == 4 ? 1 : 6;
	}
	if (flags & GZ_FEXTRA) {
		uint8_t xb[2];
		for (i = 0; i < 2; i++) {
			rc = zin_byte(r, &c, e);
			if (rc)
				return rc;
			if (c < 0)
				goto truncated;
			xb[i] = (uint8_t)c;
		}
		xlen = pk_le16(xb);
		while (xlen--) {
			rc = zin_byte(r, &c, e);
			if (rc)
				return rc;
			if (c < 0)
				goto truncated;
		}
	}
	if (flags & GZ_FNAME) {
		if (first)
			info->has_name = 1;
		rc = gz_skip_string(r, first ? info->name : NULL,
				    sizeof(info->name), e);
		if (rc)
			return rc;
	}
	if (flags & GZ_FCOMMENT) {
		rc = gz_skip_string(r, NULL, 0, e);
		if (rc)
			return rc;
	}
	/* The header CRC is skipped unchecked, as Python's gzip module does. */
	if (flags & GZ_FHCRC) {
		for (i = 0; i < 2; i++) {
			rc = zin_byte(r, &c, e);
			if (rc)
				return rc;
			if (c < 0)
				goto truncated;
		}
	}
	return PK_OK;
truncated:
	return pk_err_set(e, PK_E_COMPRESS, "gzip header truncated",
			  zin_off(r));
}

/* Inflates one raw deflate stream; *crc and *size cover its output. */
static int gz_inflate(struct zin *r, struct zout *o, z_stream *zs,
		      uint32_t *crc, uint32_t *size, pk_err *e)
{
	uint8_t *dst;
	unsigned avail;
	size_t avail_in, made, used;
	int rc, zr;

	for (;;) {
		if (r->pos == r->len) {
			rc = zin_fill(r, e);
			if (rc)
				return rc;
		}
		avail_in = r->len - r->pos;
		zs->next_in = (Bytef *)(uintptr_t)(r->p + r->pos);
		zs->avail_in =
		    avail_in > ZFEED_MAX ? ZFEED_MAX : (unsigned)avail_in;
		rc = zout_space(o, &dst, &avail, zin_off(r), e);
		if (rc)
			return rc;
		zs->next_out = dst;
		zs->avail_out = avail;
		zr = inflate(zs, Z_NO_FLUSH);
		used = (size_t)(zs->next_in - (r->p + r->pos));
		made = avail - zs->avail_out;
		r->pos += used;
		*crc = (uint32_t)crc32(*crc, dst, (uInt)made);
		*size += (uint32_t)made;
		rc = zout_commit(o, made, zin_off(r), e);
		if (rc)
			return rc;
		switch (zr) {
		case Z_STREAM_END:
			return PK_OK;
		case Z_OK:
		case Z_BUF_ERROR:
			break;
		case Z_MEM_ERROR:
			return pk_err_set(e, PK_E_NOMEM, "out of memory",
					  zin_off(r));
		default: /* Z_DATA_ERROR; Z_NEED_DICT cannot be raw */
			return pk_err_set(e, PK_E_COMPRESS,
					  "corrupt deflate data", zin_off(r));
		}
		if (!used && !made && r->eof && r->pos == r->len)
			return pk_err_set(e, PK_E_COMPRESS,
					  "gzip stream truncated", zin_off(r));
	}
}

/*
 * After a member: Python's gzip module skips zero bytes (padding some
 * tape and block-device writers add), then expects another member or
 * the end, and raises BadGzipFile on anything else. We do the same: zero
 * padding is accepted, any other trailing bytes are refused with the
 * offset of the first one, since silently dropping them would make a
 * write-back lose data the user may care about.
 */
static int gz_decompress(struct zin *r, struct zout *o, pk_zinfo *info,
			 pk_err *e)
{
	z_stream zs;
	uint8_t t[8];
	size_t have;
	uint32_t crc, size;
	uint64_t start;
	int rc, c, inited = 0;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	inited = 1;
	for (;;) {
		rc = zin_peek(r, 2, &have, e);
		if (rc)
			goto cleanup;
		start = zin_off(r);
		if (have < 2 || r->p[r->pos] != 0x1f ||
		    r->p[r->pos + 1] != 0x8b) {
			rc = pk_err_set(e, PK_E_COMPRESS,
					info->members ? "trailing garbage "
							"after gzip member"
						      : "not a gzip stream",
					start);
			goto cleanup;
		}
		rc = gz_read_header(r, info, info->members == 0, e);
		if (rc)
			goto cleanup;
		crc = (uint32_t)crc32(0, Z_NULL, 0);
		size = 0;
		rc = gz_inflate(r, o, &zs, &crc, &size, e);
		if (rc)
			goto cleanup;
		rc = zin_peek(r, sizeof(t), &have, e);
		if (rc)
			goto cleanup;
		if (have < sizeof(t)) {
			rc = pk_err_set(e, PK_E_COMPRESS,
					"gzip trailer truncated",
					zin_off(r) + have);
			goto cleanup;
		}
		memcpy(t, r->p + r->pos, sizeof(t));
		if (pk_le32(t) != crc) {
			rc = pk_err_set(e, PK_E_COMPRESS, "gzip CRC mismatch",
					zin_off(r));
			goto cleanup;
		}
		if (pk_le32(t + 4) != size) {
			rc = pk_err_set(e, PK_E_COMPRESS,
					"gzip length mismatch", zin_off(r) + 4);
			goto cleanup;
		}
		r->pos += sizeof(t);
		info->members++;
		if (inflateReset(&zs) != Z_OK) {
			rc = pk_err_set(e, PK_E_COMPRESS, "zlib internal error",
					zin_off(r));
			goto cleanup;
		}
		do {
			rc = zin_byte(r, &c, e);
			if (rc)
				goto cleanup;
		} while (c == 0);
		if (c < 0)
			break;
		r->pos--; /* zin_byte left the byte in the window */
	}
	rc = PK_OK;
cleanup:
	if (inited)
		inflateEnd(&zs);
	return rc;
}

/* ---- bzip2 decompression ---------------------------------------------- */

/* Decompresses one bzip2 stream starting at the current position. */
static int bz_stream_one(struct zin *r, struct zout *o, bz_stream *bs,
			 int first_stream, pk_err *e)
{
	uint8_t *dst;
	unsigned avail;
	size_t avail_in, made, used;
	uint64_t start = zin_off(r);
	int rc, br;

	for (;;) {
		if (r->pos == r->len) {
			rc = zin_fill(r, e);
			if (rc)
				return rc;
		}
		avail_in = r->len - r->pos;
		bs->next_in = (char *)(uintptr_t)(r->p + r->pos);
		bs->avail_in =
		    avail_in > ZFEED_MAX ? ZFEED_MAX : (unsigned)avail_in;
		rc = zout_space(o, &dst, &avail, zin_off(r), e);
		if (rc)
			return rc;
		bs->next_out = (char *)dst;
		bs->avail_out = avail;
		br = BZ2_bzDecompress(bs);
		used = (size_t)((const uint8_t *)bs->next_in - (r->p + r->pos));
		made = avail - bs->avail_out;
		r->pos += used;
		rc = zout_commit(o, made, zin_off(r), e);
		if (rc)
			return rc;
		switch (br) {
		case BZ_STREAM_END:
			return PK_OK;
		case BZ_OK:
			break;
		case BZ_MEM_ERROR:
			return pk_err_set(e, PK_E_NOMEM, "out of memory",
					  zin_off(r));
		case BZ_DATA_ERROR_MAGIC:
			return pk_err_set(e, PK_E_COMPRESS,
					  first_stream
					      ? "not a bzip2 stream"
					      : "trailing garbage after "
						"bzip2 stream",
					  start);
		default: /* BZ_DATA_ERROR and the can't-happen ones */
			return pk_err_set(e, PK_E_COMPRESS,
					  "corrupt bzip2 data", zin_off(r));
		}
		if (!used && !made && r->eof && r->pos == r->len)
			return pk_err_set(e, PK_E_COMPRESS,
					  "bzip2 stream truncated", zin_off(r));
	}
}

/*
 * Like Python's bz2 module, anything after a stream must be another
 * stream: trailing bytes, zeros included, are refused with the offset
 * where they start.
 */
static int bz_decompress(struct zin *r, struct zout *o, pk_zinfo *info,
			 pk_err *e)
{
	bz_stream bs;
	size_t have;
	int rc, inited = 0;

	for (;;) {
		rc = zin_peek(r, 4, &have, e);
		if (rc)
			goto cleanup;
		if (info->members && !have)
			break;
		if (!info->members) {
			if (have < 4 ||
			    pk_z_detect(r->p + r->pos, have) != PK_Z_BZIP2) {
				rc = pk_err_set(e, PK_E_COMPRESS,
						"not a bzip2 stream",
						zin_off(r));
				goto cleanup;
			}
			info->level = r->p[r->pos + 3] - '0';
		}
		memset(&bs, 0, sizeof(bs));
		if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK) {
			rc = pk_err_set(e, PK_E_NOMEM, "out of memory",
					zin_off(r));
			goto cleanup;
		}
		inited = 1;
		rc = bz_stream_one(r, o, &bs, info->members == 0, e);
		if (rc)
			goto cleanup;
		BZ2_bzDecompressEnd(&bs);
		inited = 0;
		info->members++;
	}
	rc = PK_OK;
cleanup:
	if (inited)
		BZ2_bzDecompressEnd(&bs);
	return rc;
}

/* ---- decompression entry points --------------------------------------- */

static int z_decompress(struct zin *r, struct zout *o, pk_zinfo *info,
			pk_err *e)
{
	size_t have;
	int rc;

	memset(info, 0, sizeof(*info));
	rc = zin_peek(r, 4, &have, e);
	if (rc)
		return rc;
	info->fmt = pk_z_detect(r->p + r->pos, have);
	switch (info->fmt) {
	case PK_Z_GZIP:
		return gz_decompress(r, o, info, e);
	case PK_Z_BZIP2:
		return bz_decompress(r, o, info, e);
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
static int z_level(const pk_zinfo *info)
{
	return info->level >= 1 && info->level <= 9 ? info->level : 9;
}

/*
 * The header is written by hand and the body is raw deflate (wbits -15,
 * memLevel 8, default strategy), which is what Python's gzip module
 * does; zlib's own gzip wrapper (wbits 31, used by gzip.compress with
 * mtime=0) produces the same deflate bytes, and its header is reproduced
 * from the recorded fields. Only FNAME among the flags is written back:
 * FTEXT, FEXTRA, FCOMMENT and FHCRC, which Python never writes, are
 * dropped.
 */
static int gz_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		       struct zout *o, pk_err *e)
{
	z_stream zs;
	uint8_t h[10], t[8];
	uint8_t *dst;
	unsigned avail;
	size_t done = 0, chunk, made;
	uint32_t crc;
	int rc, zr, flush, inited = 0;

	h[0] = 0x1f;
	h[1] = 0x8b;
	h[2] = 8;
	h[3] = info->has_name ? GZ_FNAME : 0;
	pk_put_le32(h + 4, info->mtime);
	h[8] = info->xfl;
	h[9] = info->os;
	rc = zout_write(o, h, sizeof(h), 0, e);
	if (rc)
		goto cleanup;
	if (info->has_name) {
		rc = zout_write(o, (const uint8_t *)info->name,
				strnlen(info->name, sizeof(info->name) - 1) + 1,
				0, e);
		if (rc)
			goto cleanup;
	}
	memset(&zs, 0, sizeof(zs));
	zr = deflateInit2(&zs, z_level(info), Z_DEFLATED, -MAX_WBITS, 8,
			  Z_DEFAULT_STRATEGY);
	if (zr != Z_OK) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	inited = 1;
	crc = (uint32_t)crc32(0, Z_NULL, 0);
	/* Feeding the input in pieces gives the same bytes as one piece:
	 * deflate levels 1..9 only act on full lookahead until Z_FINISH. */
	do {
		if (zs.avail_in == 0 && done < n) {
			chunk = n - done > ZFEED_MAX ? ZFEED_MAX : n - done;
			zs.next_in = (Bytef *)(uintptr_t)(data + done);
			zs.avail_in = (uInt)chunk;
			crc = (uint32_t)crc32(crc, data + done, (uInt)chunk);
			done += chunk;
		}
		flush = done == n ? Z_FINISH : Z_NO_FLUSH;
		rc = zout_space(o, &dst, &avail, done - zs.avail_in, e);
		if (rc)
			goto cleanup;
		zs.next_out = dst;
		zs.avail_out = avail;
		zr = deflate(&zs, flush);
		made = avail - zs.avail_out;
		rc = zout_commit(o, made, done - zs.avail_in, e);
		if (rc)
			goto cleanup;
		if (zr == Z_STREAM_ERROR) {
			rc = pk_err_set(e, PK_E_COMPRESS, "zlib internal error",
					done - zs.avail_in);
			goto cleanup;
		}
	} while (zr != Z_STREAM_END);
	pk_put_le32(t, crc);
	pk_put_le32(t + 4, (uint32_t)n);
	rc = zout_write(o, t, sizeof(t), n, e);
cleanup:
	if (inited)
		deflateEnd(&zs);
	return rc;
}

static int bz_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		       struct zout *o, pk_err *e)
{
	bz_stream bs;
	uint8_t *dst;
	unsigned avail;
	size_t done = 0, chunk, made;
	int rc, br, action, inited = 0;

	memset(&bs, 0, sizeof(bs));
	/* workFactor 0 (= 30) as Python's BZ2Compressor */
	br = BZ2_bzCompressInit(&bs, z_level(info), 0, 0);
	if (br != BZ_OK) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	inited = 1;
	do {
		if (bs.avail_in == 0 && done < n) {
			chunk = n - done > ZFEED_MAX ? ZFEED_MAX : n - done;
			bs.next_in = (char *)(uintptr_t)(data + done);
			bs.avail_in = (unsigned)chunk;
			done += chunk;
		}
		action = done == n ? BZ_FINISH : BZ_RUN;
		rc = zout_space(o, &dst, &avail, done - bs.avail_in, e);
		if (rc)
			goto cleanup;
		bs.next_out = (char *)dst;
		bs.avail_out = avail;
		br = BZ2_bzCompress(&bs, action);
		made = avail - bs.avail_out;
		rc = zout_commit(o, made, done - bs.avail_in, e);
		if (rc)
			goto cleanup;
		if (br < 0) {
			rc = pk_err_set(
			    e, br == BZ_MEM_ERROR ? PK_E_NOMEM : PK_E_COMPRESS,
			    br == BZ_MEM_ERROR ? "out of memory"
					       : "libbz2 internal error",
			    done - bs.avail_in);
			goto cleanup;
		}
	} while (br != BZ_STREAM_END);
	rc = PK_OK;
cleanup:
	if (inited)
		BZ2_bzCompressEnd(&bs);
	return rc;
}

static int z_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		      struct zout *o, pk_err *e)
{
	switch (info->fmt) {
	case PK_Z_GZIP:
		return gz_compress(info, data, n, o, e);
	case PK_Z_BZIP2:
		return bz_compress(info, data, n, o, e);
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

/* One inflate / decompress call on the head: enough for the first bytes. */
static size_t peek_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream z;
	size_t got;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return 0;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	inflate(&z, Z_SYNC_FLUSH);
	got = cap - z.avail_out;
	inflateEnd(&z);
	return got;
}

static size_t peek_bzip2(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	bz_stream z;
	size_t got;

	memset(&z, 0, sizeof(z));
	if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK)
		return 0;
	z.next_in = (char *)in;
	z.avail_in = (unsigned)n;
	z.next_out = (char *)out;
	z.avail_out = (unsigned)cap;
	BZ2_bzDecompress(&z);
	got = cap - z.avail_out;
	BZ2_bzDecompressEnd(&z);
	return got;
}

size_t pk_z_peek(int fmt, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	if (fmt == PK_Z_GZIP)
		return peek_gzip(in, n, out, cap);
	if (fmt == PK_Z_BZIP2)
		return peek_bzip2(in, n, out, cap);
	return 0;
}
