/*
 * xz.c - xz and lzma-alone streams through liblzma: every stream of a
 * concatenated xz file read, the check type and the preset (from the
 * dictionary size) kept for writing back (zstream.h).
 */
#include "zstream.h"

#include <lzma.h>
#include <string.h>

#include "byteorder.h"

/* The preset whose dictionary is `dict` (liblzma's presets: 0 256 KiB,
 * 1 1 MiB, 2 2 MiB, 3-4 4 MiB, 5-6 8 MiB, 7 16 MiB, 8 32 MiB, 9 64 MiB);
 * the lower of two (3, joblib's level), 6 for 8 MiB (Python's default). */
static int preset_of_dict(uint64_t dict)
{
	static const struct {
		uint64_t dict;
		int preset;
	} t[] = {{1u << 20, 1},	 {2u << 20, 2},	 {4u << 20, 3}, {8u << 20, 6},
		 {16u << 20, 7}, {32u << 20, 8}, {64u << 20, 9}};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (dict <= t[i].dict)
			return t[i].preset;
	return 9;
}

/* LZMA2's one-byte dictionary size (xz's filter properties). */
static uint64_t lzma2_dict(uint8_t b)
{
	if (b > 40)
		return 0;
	if (b == 40)
		return UINT32_MAX;
	return (uint64_t)(2 | (b & 1)) << (b / 2 + 11);
}

/* A varint of the xz format; 0 when it does not fit. */
static size_t xz_varint(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n && i < 9; i++) {
		*v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80))
			return i + 1;
	}
	return 0;
}

/* Reads the stream header's check type and, when the first block has a
 * lone LZMA2 filter, its preset. h[0..n): the start of the stream. */
static void xz_header_info(const uint8_t *h, size_t n, pk_zinfo *info)
{
	size_t at = 12, k;
	uint64_t id, psize;
	int flags;

	info->level = 6;
	if (n < 12)
		return;
	info->check = (uint8_t)(1 + (h[7] & 0x0f));
	/* block header: size, flags, [compressed size], [uncompressed
	 * size], filter flags */
	if (n < at + 2 || h[at] == 0)
		return;
	flags = h[at + 1];
	at += 2;
	if (flags & 0x03)
		return; /* more than one filter: not a preset */
	if (flags & 0x40) {
		if (!(k = xz_varint(h + at, n - at, &id)))
			return;
		at += k;
	}
	if (flags & 0x80) {
		if (!(k = xz_varint(h + at, n - at, &id)))
			return;
		at += k;
	}
	if (!(k = xz_varint(h + at, n - at, &id)) || id != LZMA_FILTER_LZMA2)
		return;
	at += k;
	if (!(k = xz_varint(h + at, n - at, &psize)) || psize != 1 ||
	    at + k >= n)
		return;
	info->level = preset_of_dict(lzma2_dict(h[at + k]));
}

static int xz_fail(lzma_ret lr, uint64_t off, pk_err *e)
{
	switch (lr) {
	case LZMA_MEM_ERROR:
		return pk_err_set(e, PK_E_NOMEM, "out of memory", off);
	case LZMA_MEMLIMIT_ERROR:
		return pk_err_set(e, PK_E_NOMEM,
				  "its dictionary needs more memory than "
				  "the 256 MiB allowed",
				  off);
	case LZMA_FORMAT_ERROR:
		return pk_err_set(e, PK_E_COMPRESS, "not an xz / lzma stream",
				  off);
	case LZMA_OPTIONS_ERROR:
		return pk_err_set(e, PK_E_COMPRESS,
				  "unsupported xz / lzma options", off);
	case LZMA_BUF_ERROR:
		return pk_err_set(e, PK_E_COMPRESS,
				  "xz / lzma stream truncated", off);
	default: /* LZMA_DATA_ERROR and the can't-happen ones */
		return pk_err_set(e, PK_E_COMPRESS, "corrupt xz / lzma data",
				  off);
	}
}

/* Decodes one stream at the current position. After the first stream,
 * bytes liblzma rejects, or that end, before this stream gave any output
 * are not a stream: *skip is set and PK_OK returned. */
static int xz_stream_one(struct zin *r, struct zout *o, int fmt,
			 int first_stream, int *skip, pk_err *e)
{
	lzma_stream zs = LZMA_STREAM_INIT;
	lzma_ret lr;
	uint8_t *dst;
	unsigned avail;
	size_t avail_in, made, used;
	uint64_t out0 = o->total;
	int rc;

	lr = fmt == PK_Z_LZMA ? lzma_alone_decoder(&zs, PK_Z_XZ_MEMLIMIT)
			      : lzma_stream_decoder(&zs, PK_Z_XZ_MEMLIMIT, 0);
	if (lr != LZMA_OK)
		return pk_err_set(e, PK_E_NOMEM, "out of memory",
				  pk_zin_off(r));
	for (;;) {
		if (r->pos == r->len) {
			rc = pk_zin_fill(r, e);
			if (rc)
				goto done;
		}
		avail_in = r->len - r->pos;
		zs.next_in = r->p + r->pos;
		zs.avail_in = avail_in;
		rc = pk_zout_space(o, &dst, &avail, pk_zin_off(r), e);
		if (rc)
			goto done;
		zs.next_out = dst;
		zs.avail_out = avail;
		lr = lzma_code(&zs, r->eof ? LZMA_FINISH : LZMA_RUN);
		used = (size_t)(zs.next_in - (r->p + r->pos));
		made = avail - zs.avail_out;
		r->pos += used;
		rc = pk_zout_commit(o, made, pk_zin_off(r), e);
		if (rc)
			goto done;
		if (lr == LZMA_STREAM_END) {
			rc = PK_OK;
			goto done;
		}
		if (lr != LZMA_OK) {
			if (!first_stream && o->total == out0 &&
			    lr != LZMA_MEM_ERROR && lr != LZMA_MEMLIMIT_ERROR) {
				*skip = 1;
				rc = PK_OK;
				goto done;
			}
			rc = xz_fail(lr, pk_zin_off(r), e);
			goto done;
		}
		if (!used && !made && r->eof && r->pos == r->len) {
			if (!first_stream && o->total == out0) {
				*skip = 1; /* a few bytes, no stream */
				rc = PK_OK;
				goto done;
			}
			rc = pk_err_set(e, PK_E_COMPRESS,
					"xz / lzma stream truncated",
					pk_zin_off(r));
			goto done;
		}
	}
done:
	lzma_end(&zs);
	return rc;
}

/*
 * After a stream, Python's lzma module (lzma.open and lzma.decompress)
 * tries the rest as another stream and ignores it when liblzma rejects
 * it at once: junk is skipped (info->tail_at). Zeros (xz stream padding)
 * are skipped too, which Python refuses ("ended before the end-of-stream
 * marker"). A next stream cut short or corrupt after giving output is
 * refused.
 * An lzma-alone file is one stream (Python's FORMAT_ALONE reads one).
 */
int pk_xz_decompress(struct zin *r, struct zout *o, pk_zinfo *info, pk_err *e)
{
	size_t have;
	uint64_t at;
	int rc, skip = 0;

	rc = pk_zin_peek(r, 64, &have, e);
	if (rc)
		return rc;
	if (info->fmt == PK_Z_LZMA) {
		if (!pk_z_lzma_header_ok(r->p + r->pos, have))
			return pk_err_set(e, PK_E_COMPRESS,
					  "not an lzma-alone stream",
					  pk_zin_off(r));
		info->level = preset_of_dict(pk_le32(r->p + r->pos + 1));
	} else {
		if (pk_z_detect(r->p + r->pos, have) != PK_Z_XZ)
			return pk_err_set(e, PK_E_COMPRESS, "not an xz stream",
					  pk_zin_off(r));
		xz_header_info(r->p + r->pos, have, info);
	}
	for (;;) {
		rc = pk_zin_peek(r, 1, &have, e);
		if (rc)
			return rc;
		if (info->members && !have)
			break;
		at = pk_zin_off(r);
		rc = xz_stream_one(r, o, info->fmt, info->members == 0, &skip,
				   e);
		if (rc)
			return rc;
		if (skip) {
			info->tail_at = at;
			break;
		}
		info->members++;
		if (info->fmt == PK_Z_LZMA) {
			rc = pk_zin_peek(r, 1, &have, e);
			if (rc)
				return rc;
			if (have)
				info->tail_at = pk_zin_off(r);
			break;
		}
	}
	return PK_OK;
}

/* As Python's lzma.open(..., 'wb') / LZMACompressor: the easy encoder
 * with the preset and check (xz), or the alone encoder with the preset's
 * options (lzma). */
int pk_xz_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		   struct zout *o, pk_err *e)
{
	lzma_stream zs = LZMA_STREAM_INIT;
	lzma_options_lzma opt;
	lzma_ret lr;
	uint8_t *dst;
	unsigned avail;
	size_t made;
	uint32_t preset =
	    info->level >= 1 && info->level <= 9 ? (uint32_t)info->level : 6;
	lzma_check check = info->fmt == PK_Z_XZ && info->check
			       ? (lzma_check)(info->check - 1)
			       : LZMA_CHECK_CRC64;
	int rc;

	if (info->fmt == PK_Z_LZMA) {
		if (lzma_lzma_preset(&opt, preset))
			return pk_err_set(e, PK_E_COMPRESS,
					  "liblzma internal error", 0);
		lr = lzma_alone_encoder(&zs, &opt);
	} else {
		if (!lzma_check_is_supported(check))
			check = LZMA_CHECK_CRC64;
		lr = lzma_easy_encoder(&zs, preset, check);
	}
	if (lr != LZMA_OK)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	zs.next_in = data;
	zs.avail_in = n;
	do {
		rc = pk_zout_space(o, &dst, &avail, n - zs.avail_in, e);
		if (rc)
			goto done;
		zs.next_out = dst;
		zs.avail_out = avail;
		lr = lzma_code(&zs, LZMA_FINISH);
		made = avail - zs.avail_out;
		rc = pk_zout_commit(o, made, n - zs.avail_in, e);
		if (rc)
			goto done;
		if (lr != LZMA_OK && lr != LZMA_STREAM_END) {
			rc = pk_err_set(
			    e,
			    lr == LZMA_MEM_ERROR ? PK_E_NOMEM : PK_E_COMPRESS,
			    lr == LZMA_MEM_ERROR ? "out of memory"
						 : "liblzma internal error",
			    n - zs.avail_in);
			goto done;
		}
	} while (lr != LZMA_STREAM_END);
	rc = PK_OK;
done:
	lzma_end(&zs);
	return rc;
}

size_t pk_xz_peek(int fmt, const uint8_t *in, size_t n, uint8_t *out,
		  size_t cap)
{
	lzma_stream zs = LZMA_STREAM_INIT;
	lzma_ret lr;
	size_t got;

	if (fmt == PK_Z_LZMA && !pk_z_lzma_header_ok(in, n))
		return 0;
	lr = fmt == PK_Z_LZMA ? lzma_alone_decoder(&zs, PK_Z_XZ_MEMLIMIT)
			      : lzma_stream_decoder(&zs, PK_Z_XZ_MEMLIMIT, 0);
	if (lr != LZMA_OK)
		return 0;
	zs.next_in = in;
	zs.avail_in = n;
	zs.next_out = out;
	zs.avail_out = cap;
	(void)!lzma_code(&zs, LZMA_RUN);
	got = cap - zs.avail_out;
	lzma_end(&zs);
	return got;
}
