/*
 * zip.c - the members of a zip archive (archive.h, "Zip"): the End Of
 * Central Directory record (and Zip64's), the central directory, and each
 * entry's local header for where its data starts. Every offset is a
 * uint64 checked against the length before it is read.
 */
#include <string.h>

#include "archive_internal.h"

#define EOCD_LEN 22
#define EOCD64_LEN 56
#define LOC64_LEN 20
#define CEN_LEN 46
#define LOC_LEN 30
#define MAX_COMMENT 65535u
#define U32_MAX_FIELD 0xffffffffu
#define UTF8_FLAG 0x800 /* general purpose flag bit 11 */

/* whether s[0..n) has a byte >= 0x80 */
static int memchr_high(const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] & 0x80)
			return 1;
	return 0;
}

/* Unicode of the bytes 0x80-0xff in code page 437, what zip names are
 * in when their flags' bit 11 (UTF-8) is not set */
static const uint16_t cp437[128] = {
    0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, 0x00ea,
    0x00eb, 0x00e8, 0x00ef, 0x00ee, 0x00ec, 0x00c4, 0x00c5, 0x00c9, 0x00e6,
    0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9, 0x00ff, 0x00d6, 0x00dc,
    0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192, 0x00e1, 0x00ed, 0x00f3, 0x00fa,
    0x00f1, 0x00d1, 0x00aa, 0x00ba, 0x00bf, 0x2310, 0x00ac, 0x00bd, 0x00bc,
    0x00a1, 0x00ab, 0x00bb, 0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561,
    0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b,
    0x2510, 0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f,
    0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x2567, 0x2568,
    0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b, 0x256a, 0x2518,
    0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580, 0x03b1, 0x00df, 0x0393,
    0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4, 0x03a6, 0x0398, 0x03a9, 0x03b4,
    0x221e, 0x03c6, 0x03b5, 0x2229, 0x2261, 0x00b1, 0x2265, 0x2264, 0x2320,
    0x2321, 0x00f7, 0x2248, 0x00b0, 0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2,
    0x25a0, 0x00a0,
};

/* s[0..n) read as code page 437, in UTF-8 into out (emptied first).
 * 0, or -1 when memory runs out. */
static int cp437_to_utf8(const uint8_t *s, size_t n, pk_buf *out)
{
	size_t i;

	pk_buf_reset(out);
	if (pk_buf_grow(out, 3 * n))
		return -1;
	for (i = 0; i < n; i++) {
		unsigned c = s[i] < 0x80 ? s[i] : cp437[s[i] - 0x80];
		uint8_t *o = out->data + out->len;

		if (c < 0x80) {
			o[0] = (uint8_t)c;
			out->len += 1;
		} else if (c < 0x800) {
			o[0] = (uint8_t)(0xc0 | c >> 6);
			o[1] = (uint8_t)(0x80 | (c & 0x3f));
			out->len += 2;
		} else {
			o[0] = (uint8_t)(0xe0 | c >> 12);
			o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
			o[2] = (uint8_t)(0x80 | (c & 0x3f));
			out->len += 3;
		}
	}
	out->data[out->len] = 0;
	return 0;
}

static int sig(const uint8_t *p, uint8_t a, uint8_t b)
{
	return p[0] == 'P' && p[1] == 'K' && p[2] == a && p[3] == b;
}

/* The EOCD record: the last one whose comment ends the data, else the
 * last one whose comment fits. 0, or -1 when there is none. */
static int find_eocd(const uint8_t *data, size_t len, uint64_t *at)
{
	size_t i, lo, found = SIZE_MAX;

	if (len < EOCD_LEN)
		return -1;
	lo = len - EOCD_LEN > MAX_COMMENT ? len - EOCD_LEN - MAX_COMMENT : 0;
	for (i = len - EOCD_LEN + 1; i-- > lo;) {
		size_t clen;

		if (!sig(data + i, 5, 6))
			continue;
		clen = pf_le16(data + i + 20);
		if (i + EOCD_LEN + clen == len) {
			*at = i;
			return 0;
		}
		if (found == SIZE_MAX && i + EOCD_LEN + clen <= len)
			found = i;
	}
	if (found == SIZE_MAX)
		return -1;
	*at = found;
	return 0;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* an MS-DOS date and time, read as UTC */
static int64_t dos_time(uint16_t date, uint16_t time)
{
	unsigned mon = (date >> 5) & 15, day = date & 31;

	if (mon < 1 || mon > 12)
		mon = 1;
	if (day < 1)
		day = 1;
	return days_from_civil(1980 + (date >> 9), mon, day) * 86400 +
	       (time >> 11) * 3600 + ((time >> 5) & 63) * 60 + (time & 31) * 2;
}

/* The values a central entry's extra fields (ex[0..n)) change: zip64's
 * sizes and offset, the extended timestamp's mtime. 0, or -1 when a
 * zip64 field that should be there is not. */
static int read_extra(const uint8_t *ex, size_t n, uint64_t *usize,
		      uint64_t *csize, uint64_t *lho, int64_t *mtime)
{
	size_t at = 0;

	while (n - at >= 4) {
		uint16_t id = pf_le16(ex + at), sz = pf_le16(ex + at + 2);
		const uint8_t *f = ex + at + 4;
		size_t q = 0;

		if (sz > n - at - 4)
			break; /* as Python: a cut extra field is ignored */
		if (id == 0x0001) {
			uint64_t *v[3] = {usize, csize, lho};
			int k;

			for (k = 0; k < 3; k++) {
				if (*v[k] != U32_MAX_FIELD)
					continue;
				if (sz - q < 8)
					return -1;
				*v[k] = pf_le64(f + q);
				q += 8;
			}
		} else if (id == 0x5455 && sz >= 5 && (f[0] & 1)) {
			*mtime = (int32_t)pf_le32(f + 1);
		}
		at += 4 + (size_t)sz;
	}
	return 0;
}

/* pf_arc_zip_read, with conv for names made UTF-8 */
static int zip_read(pf_arc_build *b, const uint8_t *data, size_t len,
		    pk_buf *conv, pk_err *e)
{
	uint64_t eocd, count, cd_size, cd_off, p, cd_end, k;

	if (find_eocd(data, len, &eocd))
		return pk_err_set(e, PK_E_ARG,
				  "zip: no end of central directory record",
				  len);
	count = pf_le16(data + eocd + 10);
	cd_size = pf_le32(data + eocd + 12);
	cd_off = pf_le32(data + eocd + 16);
	if (eocd >= LOC64_LEN && sig(data + eocd - LOC64_LEN, 6, 7)) {
		const uint8_t *loc = data + eocd - LOC64_LEN;
		uint64_t z = pf_le64(loc + 8);

		if (pf_le32(loc + 16) > 1)
			return pk_err_set(e, PK_E_UNSUPPORTED,
					  "zip: split over several disks",
					  eocd - LOC64_LEN);
		if (z > len || len - z < EOCD64_LEN || !sig(data + z, 6, 6))
			return pk_err_set(e, PK_E_ARG,
					  "zip64 end of central directory: "
					  "bad offset or signature",
					  eocd - LOC64_LEN);
		count = pf_le64(data + z + 32);
		cd_size = pf_le64(data + z + 40);
		cd_off = pf_le64(data + z + 48);
		eocd = z;
	}
	if (cd_off > len || cd_size > len - cd_off)
		return pk_err_set(e, PK_E_TRUNCATED,
				  "zip central directory: past the end", eocd);
	if (count > cd_size / CEN_LEN)
		return pk_err_set(e, PK_E_ARG,
				  "zip end of central directory: more entries "
				  "than fit",
				  eocd);
	p = cd_off;
	cd_end = cd_off + cd_size;
	for (k = 0; k < count; k++) {
		const uint8_t *c = data + p;
		uint64_t nl, xl, cl, usize, csize, lho, off;
		uint32_t ext;
		unsigned made_by;
		pf_arc_meta meta;
		const uint8_t *name;

		if (cd_end - p < CEN_LEN)
			return pk_err_set(e, PK_E_TRUNCATED,
					  "zip central directory: truncated",
					  p);
		if (!sig(c, 1, 2))
			return pk_err_set(e, PK_E_ARG,
					  "zip central directory: bad "
					  "signature",
					  p);
		nl = pf_le16(c + 28);
		xl = pf_le16(c + 30);
		cl = pf_le16(c + 32);
		if (nl + xl + cl > cd_end - p - CEN_LEN)
			return pk_err_set(e, PK_E_TRUNCATED,
					  "zip central directory: truncated",
					  p);
		memset(&meta, 0, sizeof(meta));
		made_by = c[5];
		meta.flags = pf_le16(c + 8);
		meta.method = pf_le16(c + 10);
		meta.mtime = dos_time(pf_le16(c + 14), pf_le16(c + 12));
		meta.crc = pf_le32(c + 16);
		csize = pf_le32(c + 20);
		usize = pf_le32(c + 24);
		ext = pf_le32(c + 38);
		lho = pf_le32(c + 42);
		if (read_extra(c + CEN_LEN + nl, (size_t)xl, &usize, &csize,
			       &lho, &meta.mtime))
			return pk_err_set(e, PK_E_ARG,
					  "zip central directory: zip64 extra "
					  "field too short",
					  p);
		/* the local header, for where the data starts */
		if (lho > len || len - lho < LOC_LEN)
			return pk_err_set(e, PK_E_TRUNCATED,
					  "zip central directory: local header "
					  "past the end",
					  p);
		if (!sig(data + lho, 3, 4))
			return pk_err_set(e, PK_E_ARG,
					  "zip local header: bad signature",
					  lho);
		off = lho + LOC_LEN + pf_le16(data + lho + 26) +
		      pf_le16(data + lho + 28);
		if (off > len || csize > len - off)
			return pk_err_set(e, PK_E_TRUNCATED,
					  "zip local header: data past the "
					  "end",
					  lho);
		meta.type = PF_ARC_FILE;
		if (nl && c[CEN_LEN + nl - 1] == '/')
			meta.type = PF_ARC_DIR;
		meta.mode = meta.type == PF_ARC_DIR ? 0755 : 0644;
		if (made_by == 3 && (ext >> 16)) {
			uint32_t fmt = (ext >> 16) & 0170000;

			if (fmt && fmt != 0100000 && fmt != 0040000)
				meta.type = PF_ARC_OTHER; /* symlink ... */
			if ((ext >> 16) & 07777)
				meta.mode = (ext >> 16) & 07777;
		}
		meta.offset = off;
		meta.size = csize;
		meta.usize = usize;
		name = c + CEN_LEN;
		if (!(meta.flags & UTF8_FLAG) &&
		    memchr_high(name, (size_t)nl)) {
			if (cp437_to_utf8(name, (size_t)nl, conv))
				return pk_err_set(e, PK_E_NOMEM,
						  "archive: out of memory", p);
			name = conv->data;
			nl = conv->len;
		}
		if (pf_arc_build_add(b, name, (size_t)nl, &meta))
			return pk_err_set(e, PK_E_NOMEM,
					  "archive: out of memory", p);
		p += CEN_LEN + pf_le16(c + 28) + xl + cl;
	}
	return PK_OK;
}

int pf_arc_zip_read(pf_arc_build *b, const uint8_t *data, size_t len, pk_err *e)
{
	pk_buf conv = PK_BUF_INIT;
	int rc = zip_read(b, data, len, &conv, e);

	pk_buf_release(&conv);
	return rc;
}
