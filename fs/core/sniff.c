#include "sniff.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "compress.h"

#define HEAD 64
#define PEEK_IN 4096

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
	if (ends_with(base, n, ".gz"))
		n -= 3;
	else if (ends_with(base, n, ".gzip"))
		n -= 5;
	else if (ends_with(base, n, ".bz2"))
		n -= 4;
	return ends_with(base, n, ".pkl") || ends_with(base, n, ".pickle") ||
	       ends_with(base, n, ".p") || ends_with(base, n, ".pk");
}

/* Opcodes a protocol 0/1 pickle can start with (values and MARK). */
static int proto01_start(uint8_t b)
{
	return b && strchr("(]})cILFSVNKJMUTXGP", b) != NULL;
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
	*zfmt = pk_z_detect(raw, (size_t)got);
	if (*zfmt != PK_Z_NONE) {
		n = pk_z_peek(*zfmt, raw, (size_t)got, head, sizeof(head));
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
