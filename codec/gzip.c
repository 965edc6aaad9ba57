/*
 * gzip.c - gzip streams (RFC 1952) through zlib: every member of a
 * concatenated file read, the header's fields kept so that writing back
 * gives the same header (zstream.h).
 */
#include "zstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "byteorder.h"

#define GZ_FTEXT 0x01
#define GZ_FHCRC 0x02
#define GZ_FEXTRA 0x04
#define GZ_FNAME 0x08
#define GZ_FCOMMENT 0x10

/* ---- gzip decompression ----------------------------------------------- */

/* Skips a NUL-terminated header field, keeping up to cap-1 bytes of it
 * in keep (when not NULL). */
static int gz_skip_string(struct zin *r, char *keep, size_t cap, pk_err *e)
{
	size_t n = 0;
	int c, rc;

	for (;;) {
		rc = pk_zin_byte(r, &c, e);
		if (rc)
			return rc;
		if (c < 0)
			return pk_err_set(e, PK_E_COMPRESS,
					  "gzip header truncated",
					  pk_zin_off(r));
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

	rc = pk_zin_peek(r, sizeof(h), &have, e);
	if (rc)
		return rc;
	if (have < sizeof(h))
		return pk_err_set(e, PK_E_COMPRESS, "gzip header truncated",
				  pk_zin_off(r) + have);
	memcpy(h, r->p + r->pos, sizeof(h));
	if (h[2] != 8)
		return pk_err_set(e, PK_E_COMPRESS,
				  "unknown gzip compression method",
				  pk_zin_off(r) + 2);
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
			rc = pk_zin_byte(r, &c, e);
			if (rc)
				return rc;
			if (c < 0)
				goto truncated;
			xb[i] = (uint8_t)c;
		}
		xlen = pk_le16(xb);
		while (xlen--) {
			rc = pk_zin_byte(r, &c, e);
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
			rc = pk_zin_byte(r, &c, e);
			if (rc)
				return rc;
			if (c < 0)
				goto truncated;
		}
	}
	return PK_OK;
truncated:
	return pk_err_set(e, PK_E_COMPRESS, "gzip header truncated",
			  pk_zin_off(r));
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
			rc = pk_zin_fill(r, e);
			if (rc)
				return rc;
		}
		avail_in = r->len - r->pos;
		zs->next_in = (Bytef *)(uintptr_t)(r->p + r->pos);
		zs->avail_in =
		    avail_in > ZFEED_MAX ? ZFEED_MAX : (unsigned)avail_in;
		rc = pk_zout_space(o, &dst, &avail, pk_zin_off(r), e);
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
		rc = pk_zout_commit(o, made, pk_zin_off(r), e);
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
					  pk_zin_off(r));
		default: /* Z_DATA_ERROR; Z_NEED_DICT cannot be raw */
			return pk_err_set(e, PK_E_COMPRESS,
					  "corrupt deflate data",
					  pk_zin_off(r));
		}
		if (!used && !made && r->eof && r->pos == r->len)
			return pk_err_set(e, PK_E_COMPRESS,
					  "gzip stream truncated",
					  pk_zin_off(r));
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
int pk_gz_decompress(struct zin *r, struct zout *o, pk_zinfo *info, pk_err *e)
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
		rc = pk_zin_peek(r, 2, &have, e);
		if (rc)
			goto cleanup;
		start = pk_zin_off(r);
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
		rc = pk_zin_peek(r, sizeof(t), &have, e);
		if (rc)
			goto cleanup;
		if (have < sizeof(t)) {
			rc = pk_err_set(e, PK_E_COMPRESS,
					"gzip trailer truncated",
					pk_zin_off(r) + have);
			goto cleanup;
		}
		memcpy(t, r->p + r->pos, sizeof(t));
		if (pk_le32(t) != crc) {
			rc = pk_err_set(e, PK_E_COMPRESS, "gzip CRC mismatch",
					pk_zin_off(r));
			goto cleanup;
		}
		if (pk_le32(t + 4) != size) {
			rc =
			    pk_err_set(e, PK_E_COMPRESS, "gzip length mismatch",
				       pk_zin_off(r) + 4);
			goto cleanup;
		}
		r->pos += sizeof(t);
		info->members++;
		if (inflateReset(&zs) != Z_OK) {
			rc = pk_err_set(e, PK_E_COMPRESS, "zlib internal error",
					pk_zin_off(r));
			goto cleanup;
		}
		start = pk_zin_off(r);
		do {
			rc = pk_zin_byte(r, &c, e);
			if (rc)
				goto cleanup;
		} while (c == 0);
		if (c < 0) {
			if (pk_zin_off(r) > start)
				info->tail_at = start; /* zero padding */
			break;
		}
		r->pos--; /* pk_zin_byte left the byte in the window */
	}
	rc = PK_OK;
cleanup:
	if (inited)
		inflateEnd(&zs);
	return rc;
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
int pk_deflate(int level, int wbits, const uint8_t *data, size_t n,
	       struct zout *o, uint32_t *crc, pk_err *e)
{
	z_stream zs;
	uint8_t *dst;
	unsigned avail;
	size_t done = 0, chunk, made;
	int rc, zr, flush;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, level, Z_DEFLATED, wbits, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	if (crc)
		*crc = (uint32_t)crc32(0, Z_NULL, 0);
	/* Feeding the input in pieces gives the same bytes as one piece:
	 * deflate levels 1..9 only act on full lookahead until Z_FINISH. */
	do {
		if (zs.avail_in == 0 && done < n) {
			chunk = n - done > ZFEED_MAX ? ZFEED_MAX : n - done;
			zs.next_in = (Bytef *)(uintptr_t)(data + done);
			zs.avail_in = (uInt)chunk;
			if (crc)
				*crc = (uint32_t)crc32(*crc, data + done,
						       (uInt)chunk);
			done += chunk;
		}
		flush = done == n ? Z_FINISH : Z_NO_FLUSH;
		rc = pk_zout_space(o, &dst, &avail, done - zs.avail_in, e);
		if (rc)
			goto cleanup;
		zs.next_out = dst;
		zs.avail_out = avail;
		zr = deflate(&zs, flush);
		made = avail - zs.avail_out;
		rc = pk_zout_commit(o, made, done - zs.avail_in, e);
		if (rc)
			goto cleanup;
		if (zr == Z_STREAM_ERROR) {
			rc = pk_err_set(e, PK_E_COMPRESS, "zlib internal error",
					done - zs.avail_in);
			goto cleanup;
		}
	} while (zr != Z_STREAM_END);
	rc = PK_OK;
cleanup:
	deflateEnd(&zs);
	return rc;
}

int pk_gz_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		   struct zout *o, pk_err *e)
{
	uint8_t h[10], t[8];
	uint32_t crc;
	int rc;

	h[0] = 0x1f;
	h[1] = 0x8b;
	h[2] = 8;
	h[3] = info->has_name ? GZ_FNAME : 0;
	pk_put_le32(h + 4, info->mtime);
	h[8] = info->xfl;
	h[9] = info->os;
	rc = pk_zout_write(o, h, sizeof(h), 0, e);
	if (rc)
		return rc;
	if (info->has_name) {
		rc = pk_zout_write(
		    o, (const uint8_t *)info->name,
		    strnlen(info->name, sizeof(info->name) - 1) + 1, 0, e);
		if (rc)
			return rc;
	}
	rc = pk_deflate(pk_z_level(info), -MAX_WBITS, data, n, o, &crc, e);
	if (rc)
		return rc;
	pk_put_le32(t, crc);
	pk_put_le32(t + 4, (uint32_t)n);
	return pk_zout_write(o, t, sizeof(t), n, e);
}

/* One inflate / decompress call on the head: enough for the first bytes. */
size_t pk_gz_peek(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
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
