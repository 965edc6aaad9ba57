/*
 * zlib.c - zlib streams (RFC 1950: joblib's .z files, zlib.compress)
 * through zlib, the level the header's FLEVEL bits say kept for writing
 * back (zstream.h).
 */
#include "zstream.h"

#include <string.h>
#include <zlib.h>

/* FLEVEL: 0 fastest (1), 1 fast (2..5: 3, joblib's), 2 default (6,
 * zlib.compress's), 3 slowest (7..9: 9). */
static int level_of_flevel(int flevel)
{
	static const int lv[4] = {1, 3, 6, 9};

	return lv[flevel & 3];
}

/*
 * One stream; bytes after it are skipped (info->tail_at), as
 * zlib.decompress and joblib's reader skip them.
 */
int pk_zl_decompress(struct zin *r, struct zout *o, pk_zinfo *info, pk_err *e)
{
	z_stream zs;
	uint8_t *dst;
	unsigned avail;
	size_t have, avail_in, made, used;
	int rc, zr;

	rc = pk_zin_peek(r, 2, &have, e);
	if (rc)
		return rc;
	if (pk_z_detect(r->p + r->pos, have) != PK_Z_ZLIB)
		return pk_err_set(e, PK_E_COMPRESS, "not a zlib stream",
				  pk_zin_off(r));
	info->level = level_of_flevel(r->p[r->pos + 1] >> 6);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, MAX_WBITS) != Z_OK)
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	for (;;) {
		if (r->pos == r->len) {
			rc = pk_zin_fill(r, e);
			if (rc)
				goto done;
		}
		avail_in = r->len - r->pos;
		zs.next_in = (Bytef *)(uintptr_t)(r->p + r->pos);
		zs.avail_in =
		    avail_in > ZFEED_MAX ? ZFEED_MAX : (unsigned)avail_in;
		rc = pk_zout_space(o, &dst, &avail, pk_zin_off(r), e);
		if (rc)
			goto done;
		zs.next_out = dst;
		zs.avail_out = avail;
		zr = inflate(&zs, Z_NO_FLUSH);
		used = (size_t)(zs.next_in - (r->p + r->pos));
		made = avail - zs.avail_out;
		r->pos += used;
		rc = pk_zout_commit(o, made, pk_zin_off(r), e);
		if (rc)
			goto done;
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_MEM_ERROR) {
			rc = pk_err_set(e, PK_E_NOMEM, "out of memory",
					pk_zin_off(r));
			goto done;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			/* Z_DATA_ERROR: a bad block or Adler-32;
			 * Z_NEED_DICT cannot pass pk_z_detect */
			rc = pk_err_set(e, PK_E_COMPRESS, "corrupt zlib data",
					pk_zin_off(r));
			goto done;
		}
		if (!used && !made && r->eof && r->pos == r->len) {
			rc = pk_err_set(e, PK_E_COMPRESS,
					"zlib stream truncated", pk_zin_off(r));
			goto done;
		}
	}
	info->members = 1;
	rc = pk_zin_peek(r, 1, &have, e);
	if (rc == PK_OK && have)
		info->tail_at = pk_zin_off(r);
done:
	inflateEnd(&zs);
	return rc;
}

/* As zlib.compress(data, level) and joblib's writer: window 15, memLevel
 * 8, the default strategy. */
int pk_zl_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		   struct zout *o, pk_err *e)
{
	int level = info->level >= 1 && info->level <= 9 ? info->level : 6;

	return pk_deflate(level, MAX_WBITS, data, n, o, NULL, e);
}

size_t pk_zl_peek(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream z;
	size_t got;

	if (pk_z_detect(in, n) != PK_Z_ZLIB)
		return 0;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, MAX_WBITS) != Z_OK)
		return 0;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	inflate(&z, Z_SYNC_FLUSH);
	got = cap - z.avail_out;
	inflateEnd(&z);
	return got;
}
