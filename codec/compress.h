/*
 * compress.h - gzip and bzip2 streams around a pickle.
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
};

typedef struct pk_zinfo {
	int fmt;   /* enum pk_zfmt */
	int level; /* 1..9 as detected (gzip XFL; bzip2 block size) */
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

/* Format from the first bytes (n may be less than 3). */
int pk_z_detect(const uint8_t *head, size_t n);
const char *pk_z_name(int fmt); /* "none", "gzip", "bzip2" */

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

/* Same, reading in_fd from its current position to EOF and writing the
 * decompressed bytes to out_fd; *out_len receives their count (also on
 * failure: what was written, never more than max_out). */
int pk_z_decompress_fd(int in_fd, int out_fd, pk_zinfo *info, uint64_t *out_len,
		       uint64_t max_out, pk_progress_fn progress, void *ctx,
		       pk_err *e);

/* Compress data[0..n) in info->fmt (with its level and header fields)
 * and append to out / write all of it to out_fd. */
int pk_z_compress_mem(const pk_zinfo *info, const uint8_t *data, size_t n,
		      pk_buf *out, pk_err *e);
int pk_z_compress_fd(const pk_zinfo *info, const uint8_t *data, size_t n,
		     int out_fd, pk_err *e);

/*
 * Errors, with the offset in the compressed input (decompression) or in
 * data (compression):
 *   PK_E_COMPRESS    not gzip/bzip2, corrupt or truncated stream, CRC or
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
 *   PK_E_NOMEM       out of memory (the offset: where the input was)
 * On failure the _mem functions leave out->len as it was; the _fd ones
 * may have written part of the output. A level outside 1..9 when
 * compressing means 9. Gzip flags other than FNAME (FTEXT, FEXTRA,
 * FCOMMENT, FHCRC) are read past and not written back.
 */

#endif
