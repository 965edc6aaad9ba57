#include "sniff.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "compress.h"

#define HEAD 64
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

int pf_sniff(int fd, uint64_t size, const char *name, int *zfmt)
{
	uint8_t raw[PEEK_IN], head[HEAD];
	ssize_t got;
	size_t n;
	int says = pf_name_says_pickle(name);

	*zfmt = PK_Z_NONE;
	if (size == 0)
		return PF_SNIFF_NO;
	got = pread(fd, raw, sizeof(raw), 0);
	if (got <= 0)
		return PF_SNIFF_NO;
	*zfmt = pf_sniff_zfmt(raw, (size_t)got, name);
	if (*zfmt != PK_Z_NONE) {
		n = pk_z_peek(*zfmt, raw, (size_t)got, head, sizeof(head));
		if (n == 0 && *zfmt == PK_Z_ZSTD && got == sizeof(raw)) {
			/* the first block is bigger than PEEK_IN */
			uint8_t *more = malloc(PEEK_ZSTD);
			ssize_t k = more ? pread(fd, more, PEEK_ZSTD, 0) : -1;
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
		    (pread(fd, &last, 1, (off_t)size - 1) != 1 || last != '.'))
			return PF_SNIFF_CUT;
		return PF_SNIFF_PICKLE;
	}
	if (says)
		return PF_SNIFF_PICKLE;
	if (proto01_start(head[0]))
		return PF_SNIFF_MAYBE;
	if (*zfmt != PK_Z_NONE && !says) {
		/* a compressed file that is not a pickle: shown as it is */
		*zfmt = PK_Z_NONE;
	}
	return PF_SNIFF_NO;
}
