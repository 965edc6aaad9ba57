/*
 * zstd.c - zstd frames through libzstd: every frame of a file read
 * (skippable frames skipped, as the zstd CLI does), the first frame's
 * content-size and checksum flags kept for writing back (zstream.h).
 */
#include "zstream.h"

#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

/* The compression level a frame does not record: python-zstandard's and
 * the zstd CLI's default. */
#define ZSTD_LEVEL_DEFAULT 3

static int zstd_fail(size_t ret, uint64_t off, pk_err *e)
{
	switch (ZSTD_getErrorCode(ret)) {
	case ZSTD_error_memory_allocation:
		return pk_err_set(e, PK_E_NOMEM, "out of memory", off);
	case ZSTD_error_frameParameter_windowTooLarge:
		return pk_err_set(e, PK_E_NOMEM,
				  "its window is larger than the 128 MiB "
				  "allowed",
				  off);
	case ZSTD_error_prefix_unknown:
		return pk_err_set(e, PK_E_COMPRESS, "not a zstd frame", off);
	case ZSTD_error_checksum_wrong:
		return pk_err_set(e, PK_E_COMPRESS, "zstd checksum mismatch",
				  off);
	default:
		return pk_err_set(e, PK_E_COMPRESS, "corrupt zstd data", off);
	}
}

/* Decodes one frame at the current position. After the first frame,
 * bytes libzstd rejects before this frame gave any output are not a
 * frame: *skip is set and PK_OK returned. */
static int zstd_frame_one(struct zin *r, struct zout *o, ZSTD_DStream *ds,
			  int first, int *skip, pk_err *e)
{
	ZSTD_inBuffer in;
	ZSTD_outBuffer out;
	uint8_t *dst;
	unsigned avail;
	size_t ret, made, used;
	uint64_t out0 = o->total;
	int rc;

	for (;;) {
		if (r->pos == r->len) {
			rc = pk_zin_fill(r, e);
			if (rc)
				return rc;
		}
		in.src = r->p + r->pos;
		in.size = r->len - r->pos;
		in.pos = 0;
		rc = pk_zout_space(o, &dst, &avail, pk_zin_off(r), e);
		if (rc)
			return rc;
		out.dst = dst;
		out.size = avail;
		out.pos = 0;
		ret = ZSTD_decompressStream(ds, &out, &in);
		used = in.pos;
		made = out.pos;
		r->pos += used;
		rc = pk_zout_commit(o, made, pk_zin_off(r), e);
		if (rc)
			return rc;
		if (ZSTD_isError(ret)) {
			if (!first && o->total == out0 &&
			    ZSTD_getErrorCode(ret) !=
				ZSTD_error_memory_allocation) {
				*skip = 1;
				return PK_OK;
			}
			return zstd_fail(ret, pk_zin_off(r), e);
		}
		if (ret == 0)
			return PK_OK;
		if (!used && !made && r->eof && r->pos == r->len) {
			if (!first && o->total == out0) {
				*skip = 1; /* a few bytes, no frame */
				return PK_OK;
			}
			return pk_err_set(e, PK_E_COMPRESS,
					  "zstd frame truncated",
					  pk_zin_off(r));
		}
	}
}

/*
 * Frames follow one another (the zstd CLI and python-zstandard's
 * decompress read them all); bytes after the last frame that libzstd
 * rejects at once are skipped (info->tail_at), as the other formats'
 * are; a frame cut short or corrupt after giving output is refused.
 */
int pk_zstd_decompress(struct zin *r, struct zout *o, pk_zinfo *info, pk_err *e)
{
	ZSTD_DStream *ds;
	size_t have;
	uint64_t at;
	int rc, skip = 0, fhd;

	rc = pk_zin_peek(r, 5, &have, e);
	if (rc)
		return rc;
	if (pk_z_detect(r->p + r->pos, have) != PK_Z_ZSTD || have < 5)
		return pk_err_set(e, PK_E_COMPRESS, "not a zstd frame",
				  pk_zin_off(r));
	fhd = r->p[r->pos + 4];
	info->level = ZSTD_LEVEL_DEFAULT;
	if ((fhd >> 6) || (fhd & 0x20))
		info->zstd_flags |= PK_ZSTD_SIZE;
	if (fhd & 0x04)
		info->zstd_flags |= PK_ZSTD_CHECKSUM;
	ds = ZSTD_createDStream();
	if (!ds)
		return pk_err_set(e, PK_E_NOMEM, "out of memory",
				  pk_zin_off(r));
	for (;;) {
		rc = pk_zin_peek(r, 1, &have, e);
		if (rc)
			goto done;
		if (info->members && !have)
			break;
		ZSTD_DCtx_reset(ds, ZSTD_reset_session_only);
		at = pk_zin_off(r);
		rc = zstd_frame_one(r, o, ds, info->members == 0, &skip, e);
		if (rc)
			goto done;
		if (skip) {
			info->tail_at = at;
			break;
		}
		info->members++;
	}
	rc = PK_OK;
done:
	ZSTD_freeDStream(ds);
	return rc;
}

int pk_zstd_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		     struct zout *o, pk_err *e)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_inBuffer in = {data, n, 0};
	ZSTD_outBuffer out;
	uint8_t *dst;
	unsigned avail;
	size_t ret;
	ZSTD_EndDirective end;
	int rc, level = info->level >= 1 && info->level <= 22
			    ? info->level
			    : ZSTD_LEVEL_DEFAULT;

	if (!cc)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	ret = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(ret))
		ret = ZSTD_CCtx_setParameter(
		    cc, ZSTD_c_checksumFlag,
		    !!(info->zstd_flags & PK_ZSTD_CHECKSUM));
	if (!ZSTD_isError(ret))
		ret =
		    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag,
					   !!(info->zstd_flags & PK_ZSTD_SIZE));
	if (!ZSTD_isError(ret) && (info->zstd_flags & PK_ZSTD_SIZE))
		ret = ZSTD_CCtx_setPledgedSrcSize(cc, n);
	if (ZSTD_isError(ret)) {
		rc = pk_err_set(e, PK_E_COMPRESS, "libzstd internal error", 0);
		goto done;
	}
	/* Without a content size, the input goes in as a stream first, then
	 * the frame is ended: the size stays unknown to libzstd and the
	 * window is the level's, as python-zstandard's stream writer (pandas)
	 * leaves it. */
	end = info->zstd_flags & PK_ZSTD_SIZE ? ZSTD_e_end : ZSTD_e_continue;
	do {
		if (end == ZSTD_e_continue && in.pos == in.size)
			end = ZSTD_e_end;
		rc = pk_zout_space(o, &dst, &avail, in.pos, e);
		if (rc)
			goto done;
		out.dst = dst;
		out.size = avail;
		out.pos = 0;
		ret = ZSTD_compressStream2(cc, &out, &in, end);
		rc = pk_zout_commit(o, out.pos, in.pos, e);
		if (rc)
			goto done;
		if (ZSTD_isError(ret)) {
			rc = pk_err_set(e,
					ZSTD_getErrorCode(ret) ==
						ZSTD_error_memory_allocation
					    ? PK_E_NOMEM
					    : PK_E_COMPRESS,
					"libzstd could not compress", in.pos);
			goto done;
		}
	} while (ret != 0 || end != ZSTD_e_end);
	rc = PK_OK;
done:
	ZSTD_freeCCtx(cc);
	return rc;
}

size_t pk_zstd_peek(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer ib = {in, n, 0};
	ZSTD_outBuffer ob = {out, cap, 0};
	size_t ret;

	if (!ds)
		return 0;
	/* as many calls as give output: a block comes out once whole */
	do {
		size_t before = ob.pos, used = ib.pos;
		ret = ZSTD_decompressStream(ds, &ob, &ib);
		if (ZSTD_isError(ret) || (ob.pos == before && ib.pos == used))
			break;
	} while (ob.pos < cap && ret != 0);
	ZSTD_freeDStream(ds);
	return ob.pos;
}
