/*
 * bzip2.c - bzip2 streams through libbz2: every stream of a concatenated
 * file read, the block size kept for writing back (zstream.h).
 */
#include "zstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bzlib.h>

/* ---- bzip2 decompression ---------------------------------------------- */

/* Decompresses one bzip2 stream starting at the current position.
 * After the first stream, bytes libbz2 rejects before this stream gave
 * any output are not a stream: *skip is set and PK_OK returned (the
 * caller stops there, as Python's bz2 does). */
static int bz_stream_one(struct zin *r, struct zout *o, bz_stream *bs,
			 int first_stream, int *skip, pk_err *e)
{
	uint8_t *dst;
	unsigned avail;
	size_t avail_in, made, used;
	uint64_t start = pk_zin_off(r), out0 = o->total;
	int rc, br;

	for (;;) {
		if (r->pos == r->len) {
			rc = pk_zin_fill(r, e);
			if (rc)
				return rc;
		}
		avail_in = r->len - r->pos;
		bs->next_in = (char *)(uintptr_t)(r->p + r->pos);
		bs->avail_in =
		    avail_in > ZFEED_MAX ? ZFEED_MAX : (unsigned)avail_in;
		rc = pk_zout_space(o, &dst, &avail, pk_zin_off(r), e);
		if (rc)
			return rc;
		bs->next_out = (char *)dst;
		bs->avail_out = avail;
		br = BZ2_bzDecompress(bs);
		used = (size_t)((const uint8_t *)bs->next_in - (r->p + r->pos));
		made = avail - bs->avail_out;
		r->pos += used;
		rc = pk_zout_commit(o, made, pk_zin_off(r), e);
		if (rc)
			return rc;
		switch (br) {
		case BZ_STREAM_END:
			return PK_OK;
		case BZ_OK:
			break;
		case BZ_MEM_ERROR:
			return pk_err_set(e, PK_E_NOMEM, "out of memory",
					  pk_zin_off(r));
		case BZ_DATA_ERROR_MAGIC:
		case BZ_DATA_ERROR:
			if (!first_stream && o->total == out0) {
				*skip = 1;
				return PK_OK;
			}
			if (br == BZ_DATA_ERROR_MAGIC)
				return pk_err_set(e, PK_E_COMPRESS,
						  "not a bzip2 stream", start);
			return pk_err_set(e, PK_E_COMPRESS,
					  "corrupt bzip2 data", pk_zin_off(r));
		default: /* the can't-happen ones */
			return pk_err_set(e, PK_E_COMPRESS,
					  "corrupt bzip2 data", pk_zin_off(r));
		}
		if (!used && !made && r->eof && r->pos == r->len)
			return pk_err_set(e, PK_E_COMPRESS,
					  "bzip2 stream truncated",
					  pk_zin_off(r));
	}
}

/*
 * After a stream, Python's bz2 module (bz2.decompress and bz2.open
 * alike) tries the rest as another stream and, when libbz2 rejects it at
 * once, ignores it: trailing zeros or junk are skipped (info->tail_at
 * says where they start). A next stream that is cut short is refused by
 * both; one that is corrupt after giving output is refused too, as
 * bz2.open refuses it (bz2.decompress would drop its output).
 */
int pk_bz_decompress(struct zin *r, struct zout *o, pk_zinfo *info, pk_err *e)
{
	bz_stream bs;
	size_t have;
	uint64_t at;
	int rc, skip = 0, inited = 0;

	for (;;) {
		rc = pk_zin_peek(r, 4, &have, e);
		if (rc)
			goto cleanup;
		if (info->members && !have)
			break;
		if (!info->members) {
			if (have < 4 ||
			    pk_z_detect(r->p + r->pos, have) != PK_Z_BZIP2) {
				rc = pk_err_set(e, PK_E_COMPRESS,
						"not a bzip2 stream",
						pk_zin_off(r));
				goto cleanup;
			}
			info->level = r->p[r->pos + 3] - '0';
		}
		memset(&bs, 0, sizeof(bs));
		if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK) {
			rc = pk_err_set(e, PK_E_NOMEM, "out of memory",
					pk_zin_off(r));
			goto cleanup;
		}
		inited = 1;
		at = pk_zin_off(r);
		rc = bz_stream_one(r, o, &bs, info->members == 0, &skip, e);
		if (rc)
			goto cleanup;
		BZ2_bzDecompressEnd(&bs);
		inited = 0;
		if (skip) {
			info->tail_at = at;
			break;
		}
		info->members++;
	}
	rc = PK_OK;
cleanup:
	if (inited)
		BZ2_bzDecompressEnd(&bs);
	return rc;
}

int pk_bz_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		   struct zout *o, pk_err *e)
{
	bz_stream bs;
	uint8_t *dst;
	unsigned avail;
	size_t done = 0, chunk, made;
	int rc, br, action, inited = 0;

	memset(&bs, 0, sizeof(bs));
	/* workFactor 0 (= 30) as Python's BZ2Compressor */
	br = BZ2_bzCompressInit(&bs, pk_z_level(info), 0, 0);
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
		rc = pk_zout_space(o, &dst, &avail, done - bs.avail_in, e);
		if (rc)
			goto cleanup;
		bs.next_out = (char *)dst;
		bs.avail_out = avail;
		br = BZ2_bzCompress(&bs, action);
		made = avail - bs.avail_out;
		rc = pk_zout_commit(o, made, done - bs.avail_in, e);
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

size_t pk_bz_peek(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
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
