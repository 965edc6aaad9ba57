#include "sniff.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "archive.h"
#include "npy.h"
#include "compress.h"

/* enough for a tar header (its magic is at 257) */
#define HEAD 512
#define PEEK_IN 4096
/* A zstd block comes out only once whole: up to 128 KiB of input. */
#define PEEK_ZSTD (132u * 1024u)

/* The compressed suffixes a pickle's name may end with. */
static const char *const zsuffix[] = {".gz",   ".gzip", ".bz2",	 ".xz",
				      ".lzma", ".zst",	".zstd", ".z"};

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

int pf_name_says_pickle(const char *name)
{
	const char *base = strrchr(name, '/');
	size_t n;

	base = base ? base + 1 : name;
	n = strlen(base);
	for (size_t i = 0; i < sizeof(zsuffix) / sizeof(zsuffix[0]); i++) {
		if (ends_with(base, n, zsuffix[i])) {
			n -= strlen(zsuffix[i]);
			break;
		}
	}
	return ends_with(base, n, ".pkl") || ends_with(base, n, ".pickle") ||
	       ends_with(base, n, ".p") || ends_with(base, n, ".pk");
}

/* Opcodes a protocol 0/1 pickle can start with (values and MARK). */
static int proto01_start(uint8_t b)
{
	return b && strchr("(]})cILFSVNKJMUTXGP", b) != NULL;
}

/* The first bytes of a pickle: PROTO, or a protocol 0/1 opcode. */
static int pickle_start(const uint8_t *h, size_t n)
{
	return n >= 1 &&
	       ((n >= 2 && h[0] == 0x80 && h[1] <= 5) || proto01_start(h[0]));
}

int pf_sniff_zfmt(const uint8_t *raw, size_t n, const char *name)
{
	const char *base = strrchr(name, '/');
	uint8_t head[8];
	size_t got;
	int fmt = pk_z_detect(raw, n);

	base = base ? base + 1 : name;
	if (fmt == PK_Z_NONE && ends_with(base, strlen(base), ".lzma") &&
	    pk_z_lzma_header_ok(raw, n))
		fmt = PK_Z_LZMA;
	if (fmt == PK_Z_ZLIB || fmt == PK_Z_LZMA) {
		/* no magic (lzma) or a weak one (zlib's two bytes): only a
		 * stream that starts a pickle counts */
		got = pk_z_peek(fmt, raw, n, head, sizeof(head));
		if (!pickle_start(head, got))
			return PK_Z_NONE;
	}
	return fmt;
}

/* Where the bytes come from: a file (pread) or memory (an archive's
 * member, read in place). */
struct peek_src {
	int fd;
	const uint8_t *mem;
	uint64_t size;
};

static ssize_t peek_read(const struct peek_src *p, void *buf, size_t n,
			 uint64_t off)
{
	if (!p->mem)
		return pread(p->fd, buf, n, (off_t)off);
	if (off >= p->size)
		return 0;
	if (n > p->size - off)
		n = (size_t)(p->size - off);
	memcpy(buf, p->mem + off, n);
	return (ssize_t)n;
}

/* Files that are data but no pickle: what they are, for the reason a
 * file is shown raw (user.pickle.error). */
static const char *data_kind(const uint8_t *h, size_t n)
{
	uint64_t hl = 0;
	size_t i;

	if (n >= 8 && memcmp(h, "\x89HDF\r\n\x1a\n", 8) == 0)
		return "HDF5 file";
	if (n >= 6 && memcmp(h, "\x93NUMPY", 6) == 0)
		return "NumPy .npy file";
	if (n >= 4 && memcmp(h, "PAR1", 4) == 0)
		return "Parquet file";
	if (n >= 6 && memcmp(h, "ARROW1", 6) == 0)
		return "Arrow / Feather file";
	if (n >= 4 && memcmp(h, "\x7f\x45\x4c\x46", 4) == 0)
		return NULL; /* a program: not meant as data */
	/* safetensors: a little-endian header length, then its JSON */
	for (i = 0; i < 8 && i < n; i++)
		hl |= (uint64_t)h[i] << (8 * i);
	if (n >= 10 && hl > 1 && hl < (100u << 20) && h[8] == '{' &&
	    h[9] == '"')
		return "safetensors file";
	return NULL;
}

static int sniff_src(const struct peek_src *p, const char *name, int *zfmt,
		     const char **what)
{
	uint8_t raw[PEEK_IN], head[HEAD];
	ssize_t got;
	size_t n;
	uint64_t size = p->size;
	int says = pf_name_says_pickle(name);

	*zfmt = PK_Z_NONE;
	if (size == 0)
		return PF_SNIFF_NO;
	got = peek_read(p, raw, sizeof(raw), 0);
	if (got <= 0)
		return PF_SNIFF_NO;
	*zfmt = pf_sniff_zfmt(raw, (size_t)got, name);
	if (*zfmt != PK_Z_NONE) {
		n = pk_z_peek(*zfmt, raw, (size_t)got, head, sizeof(head));
		if (n == 0 && *zfmt == PK_Z_ZSTD && got == sizeof(raw)) {
			/* the first block is bigger than PEEK_IN */
			uint8_t *more = malloc(PEEK_ZSTD);
			ssize_t k =
			    more ? peek_read(p, more, PEEK_ZSTD, 0) : -1;
			if (k > 0)
				n = pk_z_peek(*zfmt, more, (size_t)k, head,
					      sizeof(head));
			free(more);
		}
	} else {
		n = (size_t)got < sizeof(head) ? (size_t)got : sizeof(head);
		memcpy(head, raw, n);
	}
	if (n == 0) {
		/* a compressed stream we cannot even start to read */
		if (*zfmt != PK_Z_NONE && says)
			return PF_SNIFF_PICKLE; /* broken: the log says why */
		*zfmt = PK_Z_NONE;
		return PF_SNIFF_NO;
	}
	if (n >= 2 && head[0] == 0x80 && head[1] <= 5) {
		uint8_t last = 0;
		/* a pickle ends with STOP: without it, the file is cut short
		 * (or carries trailing bytes) and only a parse can tell */
		if (*zfmt == PK_Z_NONE &&
		    (peek_read(p, &last, 1, size - 1) != 1 || last != '.'))
			return PF_SNIFF_CUT;
		return PF_SNIFF_PICKLE;
	}
	if (pf_arc_sniff(head, n))
		return PF_SNIFF_ARCHIVE;
	if (pf_npy_magic(head, n))
		return PF_SNIFF_NPY;
	if (says)
		return PF_SNIFF_PICKLE;
	if (proto01_start(head[0]))
		return PF_SNIFF_MAYBE;
	if (*zfmt != PK_Z_NONE && !says) {
		/* a compressed file that is not a pickle: shown as it is */
		*zfmt = PK_Z_NONE;
	}
	if (what)
		*what = data_kind(head, n);
	return PF_SNIFF_NO;
}

int pf_sniff(int fd, uint64_t size, const char *name, int *zfmt,
	     const char **what)
{
	struct peek_src p = {fd, NULL, size};

	if (what)
		*what = NULL;
	return sniff_src(&p, name, zfmt, what);
}

int pf_sniff_mem(const uint8_t *data, uint64_t size, const char *name,
		 int *zfmt, const char **what)
{
	struct peek_src p = {-1, data, size};

	if (what)
		*what = NULL;
	return sniff_src(&p, name, zfmt, what);
}
