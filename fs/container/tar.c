/*
 * tar.c - the members of a tar archive (archive.h, "Tar"): ustar, GNU,
 * pax and v7 headers, read one 512-byte block at a time with every
 * number and length checked against the bytes there are.
 */
#include <string.h>

#include "archive_internal.h"

#define BLOCK 512

/* header fields: offset, length */
#define F_NAME 0, 100
#define F_MODE 100, 8
#define F_SIZE 124, 12
#define F_MTIME 136, 12
#define F_CHKSUM 148, 8
#define O_TYPE 156
#define O_MAGIC 257
#define O_PREFIX 345
#define N_PREFIX 155

static size_t field_len(const uint8_t *f, size_t n)
{
	const uint8_t *z = memchr(f, 0, n);

	return z ? (size_t)(z - f) : n;
}

/* A numeric field: octal digits between spaces (cut at a NUL), or GNU's
 * base-256 (first byte 0x80, or 0xff for a negative number). 0, or -1
 * when it is not a number or does not fit. */
static int field_num(const uint8_t *h, size_t at, size_t n, int64_t *v)
{
	const uint8_t *f = h + at;
	uint64_t x = 0;
	size_t i, end;

	if (f[0] == 0x80 || f[0] == 0xff) {
		int neg = f[0] == 0xff;

		for (i = 1; i < n; i++) {
			if (x >> 55)
				return -1;
			x = x << 8 | (uint8_t)(neg ? ~f[i] : f[i]);
		}
		if (x >> 63)
			return -1;
		*v = neg ? -(int64_t)x - 1 : (int64_t)x;
		return 0;
	}
	end = field_len(f, n);
	i = 0;
	while (i < end && (f[i] == ' ' || f[i] == '\t'))
		i++;
	while (end > i && (f[end - 1] == ' ' || f[end - 1] == '\t'))
		end--;
	for (; i < end; i++) {
		if (f[i] < '0' || f[i] > '7' || x >> 60)
			return -1;
		x = x << 3 | (uint64_t)(f[i] - '0');
	}
	*v = (int64_t)x;
	return 0;
}

/* Whether the header's checksum is right, unsigned or signed. */
static int checksum_ok(const uint8_t *h)
{
	int64_t want;
	int64_t us = 8 * ' ', ss = 8 * ' ';
	size_t i;

	if (field_num(h, F_CHKSUM, &want))
		return 0;
	for (i = 0; i < BLOCK; i++) {
		if (i >= 148 && i < 156)
			continue;
		us += h[i];
		ss += (int8_t)h[i];
	}
	return want == us || want == ss;
}

static int is_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int pf_arc_tar_sniff(const uint8_t *data, size_t n)
{
	size_t nl, i;

	if (n < BLOCK)
		return 0;
	if (!memcmp(data + O_MAGIC, "ustar", 5))
		return 1;
	/* v7: a printable name and a right checksum */
	nl = field_len(data, 100);
	if (nl == 0 || !checksum_ok(data))
		return 0;
	for (i = 0; i < nl; i++)
		if (data[i] < 0x20 || data[i] == 0x7f)
			return 0;
	return 1;
}

/* What a pax 'x' header sets for the next member. */
typedef struct pax {
	const uint8_t *path;
	size_t pathlen;
	int has_size, has_mtime, sparse;
	int64_t size, mtime;
} pax;

/* A decimal number of s[0..n) ("-12", "1700000000.25": the fraction is
 * dropped when frac). 0, or -1. */
static int dec(const uint8_t *s, size_t n, int frac, int64_t *v)
{
	uint64_t x = 0;
	size_t i = 0;
	int neg = 0;

	if (n && s[0] == '-' && frac) {
		neg = 1;
		i = 1;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (frac && s[i] == '.')
			break;
		if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX >> 1) / 10)
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x >> 62)
		return -1;
	*v = neg ? -(int64_t)x : (int64_t)x;
	return 0;
}

/* The records "LEN KEY=VALUE\n" of a pax header's data p[0..n). Stops at
 * a NUL where a record would start (padding). 0, or -1 if malformed. */
static int pax_parse(const uint8_t *p, size_t n, pax *x)
{
	size_t at = 0;

	while (at < n && p[at]) {
		uint64_t rl = 0;
		size_t i = at, eq, vlen;
		const uint8_t *key, *val;

		while (i < n && p[i] >= '0' && p[i] <= '9') {
			if (rl > n)
				return -1;
			rl = rl * 10 + (uint64_t)(p[i] - '0');
			i++;
		}
		if (i == at || i >= n || p[i] != ' ' || rl > n - at ||
		    rl < (uint64_t)(i - at) + 3 || p[at + rl - 1] != '\n')
			return -1;
		key = p + i + 1;
		eq = 0;
		while (key + eq < p + at + rl - 1 && key[eq] != '=')
			eq++;
		if (key + eq >= p + at + rl - 1 || eq == 0)
			return -1;
		val = key + eq + 1;
		vlen = (size_t)(p + at + rl - 1 - val);
		if (eq == 4 && !memcmp(key, "path", 4)) {
			x->path = val;
			x->pathlen = vlen;
		} else if (eq == 4 && !memcmp(key, "size", 4)) {
			if (dec(val, vlen, 0, &x->size))
				return -1;
			x->has_size = 1;
		} else if (eq == 5 && !memcmp(key, "mtime", 5)) {
			x->has_mtime = !dec(val, vlen, 1, &x->mtime);
		} else if (eq > 11 && !memcmp(key, "GNU.sparse.", 11)) {
			x->sparse = 1;
		}
		at += (size_t)rl;
	}
	return 0;
}

/* Whether type is one of the (non-NUL) bytes of set. Types whose data
 * does not follow the header, as in Python's tarfile: "123456" (links,
 * devices, directories, fifos); files and unknown types have theirs. */
static int in(const char *set, uint8_t type)
{
	return type && strchr(set, type);
}

static uint64_t round_up(uint64_t size)
{
	return (size + BLOCK - 1) & ~(uint64_t)(BLOCK - 1);
}

int pf_arc_tar_read(pf_arc_build *b, const uint8_t *data, size_t len, pk_err *e)
{
	uint64_t pos = 0;
	const uint8_t *longname = NULL;
	size_t longlen = 0;
	pax x;
	uint8_t namebuf[N_PREFIX + 1 + 100];

	memset(&x, 0, sizeof(x));
	while (pos < len) {
		const uint8_t *h = data + pos, *name;
		uint64_t dpos = pos + BLOCK, next;
		size_t nl;
		int64_t size, v;
		uint8_t type;
		pf_arc_meta meta;

		if (len - pos < BLOCK) {
			if (is_zero(h, len - pos))
				break;
			return pk_err_set(e, PK_E_TRUNCATED,
					  "tar header: truncated", pos);
		}
		if (is_zero(h, BLOCK))
			break;
		if (!checksum_ok(h))
			return pk_err_set(e, PK_E_ARG,
					  "tar header: bad checksum", pos);
		type = h[O_TYPE];
		if (field_num(h, F_SIZE, &size) || size < 0)
			return pk_err_set(e, PK_E_ARG, "tar header: bad size",
					  pos);
		if (in("LKxXg", type)) {
			/* a header about the next one: its data follows */
			if ((uint64_t)size > len - dpos)
				return pk_err_set(e, PK_E_TRUNCATED,
						  "tar header: data past the "
						  "end",
						  pos);
			if (type == 'L') {
				longname = data + dpos;
				longlen = field_len(longname, (size_t)size);
			} else if ((type == 'x' || type == 'X') &&
				   pax_parse(data + dpos, (size_t)size, &x)) {
				return pk_err_set(e, PK_E_ARG,
						  "tar pax header: bad record",
						  pos);
			}
			pos = dpos + round_up((uint64_t)size);
			continue;
		}
		if (x.has_size)
			size = x.size;
		/* a member: its name */
		if (x.path) {
			name = x.path;
			nl = x.pathlen;
		} else if (longname) {
			name = longname;
			nl = longlen;
		} else {
			size_t pl = 0;

			nl = field_len(h, 100);
			if (!memcmp(h + O_MAGIC, "ustar\0", 6))
				pl = field_len(h + O_PREFIX, N_PREFIX);
			if (pl) {
				memcpy(namebuf, h + O_PREFIX, pl);
				namebuf[pl] = '/';
				memcpy(namebuf + pl + 1, h, nl);
				nl += pl + 1;
				name = namebuf;
			} else {
				name = h;
			}
		}
		/* v7: a directory is a file whose name ends with "/" */
		if (type == 0 && nl && name[nl - 1] == '/')
			type = '5';
		/* old GNU sparse: more of its map in blocks after the header,
		 * each saying whether another follows */
		if (type == 'S' && h[482]) {
			uint8_t more = 1;

			while (more) {
				if (len - dpos < BLOCK)
					return pk_err_set(e, PK_E_TRUNCATED,
							  "tar header: sparse "
							  "map past the end",
							  pos);
				more = data[dpos + 504];
				dpos += BLOCK;
			}
		}
		next = dpos;
		if (!in("123456", type)) {
			if ((uint64_t)size > len - dpos)
				return pk_err_set(e, PK_E_TRUNCATED,
						  "tar member: data past the "
						  "end",
						  pos);
			next = dpos + round_up((uint64_t)size);
		}
		memset(&meta, 0, sizeof(meta));
		if (type == '0' || type == 0 || type == '7')
			meta.type = PF_ARC_FILE;
		else if (type == '5')
			meta.type = PF_ARC_DIR;
		else
			meta.type = PF_ARC_OTHER;
		if (x.sparse)
			meta.type = PF_ARC_OTHER;
		meta.method = PF_ARC_STORED;
		if (meta.type == PF_ARC_FILE) {
			meta.offset = dpos;
			meta.size = meta.usize = (uint64_t)size;
		}
		meta.mode =
		    field_num(h, F_MODE, &v) ? 0644 : (uint32_t)v & 07777;
		if (x.has_mtime)
			meta.mtime = x.mtime;
		else if (!field_num(h, F_MTIME, &v))
			meta.mtime = v;
		if (pf_arc_build_add(b, name, nl, &meta))
			return pk_err_set(e, PK_E_NOMEM,
					  "archive: out of memory", pos);
		memset(&x, 0, sizeof(x));
		longname = NULL;
		longlen = 0;
		pos = next;
	}
	return PK_OK;
}
