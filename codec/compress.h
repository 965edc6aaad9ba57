/*
 * compress.h - gzip, bzip2, xz, lzma-alone, zstd and zlib streams around
 * a pickle.
 *
 * What: recognise a compressed pickle by its magic bytes, decompress it
 * (to memory or streaming to a file descriptor, so a large pickle never
 * has to sit in RAM), and compress a pickle back in the same format.
 * Ownership: pk_zinfo is a plain value (no pointers owned); output buffers
 * are caller-owned pk_bufs; file descriptors stay open and owned by the
 * caller.
 * Invariants: decompression handles concatenated gzip members and
 * concatenated bzip2 streams (as Python's gzip/bz2 modules read them);
 * compressing the decompressed bytes with the pk_zinfo that decompression
 * filled reproduces the header fields (gzip mtime, XFL, OS, file name;
 * bzip2 block size) and the compression level, so a file made by Python's
 * gzip/bz2 modules (level 9) and not edited comes back byte-identical as
 * long as the same zlib/libbz2 is in use. Multi-member gzip is written
 * back as a single member.
 * xz (Python's lzma.open default), lzma-alone (lzma FORMAT_ALONE, which
 * has no magic: pk_z_detect never says it, the caller decides by name and
 * pk_z_lzma_header_ok), zstd (pandas' .zst through python-zstandard, the
 * zstd CLI) and zlib (joblib's .z: a zlib stream, 0x78 header) are read
 * the same way: concatenated xz streams and zstd frames are all read;
 * bytes after the last stream / frame that do not start another one are
 * skipped as Python skips them (tail_at). Written back: xz with the
 * check type and the preset the first block's dictionary size says (else
 * CRC64 and preset 6, Python's defaults), lzma-alone with the preset of
 * its dictionary size, zstd at level 3 with the content size and
 * checksum flags of the first frame, zlib at the level its FLEVEL bits
 * say (0: 1, 1: 3 as joblib, 2: 6 as zlib.compress, 3: 9).
 */
#ifndef PK_COMPRESS_H
#define PK_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

enum pk_zfmt {
	PK_Z_NONE = 0,
	PK_Z_GZIP,
	PK_Z_BZIP2,
	PK_Z_XZ,
	PK_Z_LZMA, /* lzma-alone (.lzma): no magic, see pk_z_lzma_header_ok */
	PK_Z_ZSTD,
	PK_Z_ZLIB, /* a zlib stream (RFC 1950): joblib's .z */
};

typedef struct pk_zinfo {
	int fmt;       /* enum pk_zfmt */
	int level;     /* as detected: 1..9 (gzip XFL; bzip2 block size; xz and
			  lzma the preset of the dictionary size, preset 0 as
			  1; zlib FLEVEL); zstd 3 (not recorded in a frame) */
	uint8_t check; /* xz: 1 + the stream's check type (lzma_check: 0
			  none, 1 CRC32, 4 CRC64, 10 SHA-256); 0: not known,
			  CRC64 is written */
	uint8_t zstd_flags; /* zstd: PK_ZSTD_SIZE | PK_ZSTD_CHECKSUM */
	/* gzip header of the first member */
	uint32_t mtime;
	uint8_t xfl;
	uint8_t os;
	uint8_t has_name; /* FNAME was present */
	char name[256];	  /* FNAME, NUL-terminated, truncated if longer */
	uint32_t members; /* gzip members / bzip2 streams read */
	/* where bytes after the last member / stream start that were
	 * skipped as Python skips them (gzip: zero padding; bzip2: bytes
	 * that do not start another stream); 0: none. Writing back does
	 * not reproduce them. */
	uint64_t tail_at;
} pk_zinfo;

#define PK_ZSTD_SIZE 1	   /* the frame header has the content size */
#define PK_ZSTD_CHECKSUM 2 /* the frame ends with a content checksum */

/* Format from the first bytes (n may be less than 6): gzip, bzip2, xz,
 * zstd by their magic; zlib by a valid 2-byte header with CMF 0x78 (a
 * 32 KiB window, deflate) and no preset dictionary, which arbitrary files
 * can have too: check the content (pk_z_peek) before taking it. Never
 * PK_Z_LZMA. */
int pk_z_detect(const uint8_t *head, size_t n);
/* Whether head[0..n) is a plausible lzma-alone header: properties byte
 * below 225, a dictionary size of 2^n or 2^n + 2^(n-1) (or all ones), the
 * uncompressed size unknown (all ones) or below 2^48. */
int pk_z_lzma_header_ok(const uint8_t *head, size_t n);
/* "none", "gzip", "bzip2", "xz", "lzma", "zstd", "zlib" */
const char *pk_z_name(int fmt);

/* The first decompressed bytes of a stream's head in[0..n) (fmt as
 * pk_z_detect says), into out[0..cap): how many came out, 0 when the
 * head does not even start a stream of that format. For telling what a
 * compressed file holds without decompressing it. */
size_t pk_z_peek(int fmt, const uint8_t *in, size_t n, uint8_t *out,
		 size_t cap);

/* Progress callback for long work: done bytes of input read so far,
 * total input size (0 if unknown). Return nonzero to abort. May be NULL. */
typedef int (*pk_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* Decompress the whole input `in` into out (appended). Fills *info.
 * `max_out` bounds the output against decompression bombs: the bytes
 * the output may have (0 = no bound). Past it: PK_E_LIMIT, with the
 * offset in the compressed input where the byte past the bound came
 * out, and nothing past the bound stored. */
int pk_z_decompress_mem(const uint8_t *in, size_t n, pk_buf *out,
			pk_zinfo *info, uint64_t max_out, pk_err *e);
/* Same, the format given (PK_Z_NONE: pk_z_detect's); the only way to read
 * PK_Z_LZMA. */
int pk_z_decompress_mem_as(int fmt, const uint8_t *in, size_t n, pk_buf *out,
			   pk_zinfo *info, uint64_t max_out, pk_err *e);

/* Same, reading in_fd from its current position to EOF and writing the
 * decompressed bytes to out_fd; *out_len receives their count (also on
 * failure: what was written, never more than max_out). */
int pk_z_decompress_fd(int in_fd, int out_fd, pk_zinfo *info, uint64_t *out_len,
		       uint64_t max_out, pk_progress_fn progress, void *ctx,
		       pk_err *e);
int pk_z_decompress_fd_as(int fmt, int in_fd, int out_fd, pk_zinfo *info,
			  uint64_t *out_len, uint64_t max_out,
			  pk_progress_fn progress, void *ctx, pk_err *e);

/* Compress data[0..n) in info->fmt (with its level and header fields)
 * and append to out / write all of it to out_fd. */
int pk_z_compress_mem(const pk_zinfo *info, const uint8_t *data, size_t n,
		      pk_buf *out, pk_err *e);
int pk_z_compress_fd(const pk_zinfo *info, const uint8_t *data, size_t n,
		     int out_fd, pk_err *e);

/*
 * Errors, with the offset in the compressed input (decompression) or in
 * data (compression):
 *   PK_E_COMPRESS    not a stream of the format, corrupt or truncated
 *                    stream ("xz stream truncated", "corrupt zstd
 *                    data: REASON", ...), CRC or
 *                    length mismatch; gzip: bytes after the last member
 *                    other than the zero padding Python's gzip also
 *                    skips; bzip2: bytes after a stream that start
 *                    another one which is cut short or corrupt once it
 *                    gave output (Python's bz2.open refuses those too;
 *                    bytes libbz2 rejects before any output, zeros or
 *                    junk, are skipped as both bz2.open and
 *                    bz2.decompress skip them: info->tail_at)
 *   PK_E_LIMIT       output past max_out ("expands past the limit")
 *   PK_E_UNSUPPORTED compressing with fmt PK_Z_NONE
 *   PK_E_IO          read(2) ("read failed") or write(2) ("write
 *                    failed") failed, errno kept; or the progress
 *                    callback asked to stop (errno ECANCELED)
 *   PK_E_NOMEM       out of memory (the offset: where the input was);
 *                    an xz / lzma stream whose dictionary needs more
 *                    than PK_Z_XZ_MEMLIMIT, a zstd frame whose window
 *                    is over 128 MiB (zstd's own default bound)
 * On failure the _mem functions leave out->len as it was; the _fd ones
 * may have written part of the output. A level outside 1..9 when
 * compressing means 9 (xz, lzma: 6; zstd: 3; zlib: 6). Gzip flags other than
 * FNAME (FTEXT, FEXTRA, FCOMMENT, FHCRC) are read past and not written back.
 */

/* The most memory an xz / lzma-alone decoder may take (its dictionary):
 * preset 9 needs 65 MiB. */
#define PK_Z_XZ_MEMLIMIT (256ull << 20)

#endif
