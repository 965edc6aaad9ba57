/*
 * zstream.h - what the compressed-stream files of the codec share:
 * compress.c (the formats' entry points, compress.h), zstream.c (input
 * and output windows), gzip.c, bzip2.c, xz.c (xz and lzma-alone), zstd.c,
 * zlib.c.
 *
 * What: a compressed input read through a window over memory or over an
 * fd (struct zin), and an output into a pk_buf (with an optional bound)
 * or an fd (struct zout), so each format's loop is written once for both.
 * Not for use outside codec/.
 * Ownership: a zin / zout owns its staging buffer (fd paths); the caller
 * of compress.h sets them up and releases them.
 * Invariants: offsets in errors are in the compressed input
 * (decompression) or in the data (compression); the fd paths' memory is
 * bounded by the buffer sizes below, whatever the stream's size.
 */
#ifndef PK_ZSTREAM_H
#define PK_ZSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compress.h"
#include "error.h"

/*
 * Buffer sizes of the fd paths. They bound the memory of a streaming
 * decompression (plus zlib's ~45 KB or libbz2's ~3.6 MB of state), so a
 * 1 GB compressed pickle costs the same as a 1 KB one.
 */
#define ZIN_BUFSZ (256u * 1024u)
#define ZOUT_BUFSZ (256u * 1024u)
/* Output space handed to zlib/libbz2 per call on the memory path. */
#define ZMEM_CHUNK (256u * 1024u)
/* Input fed per call: avail_in is an unsigned int in both libraries. */
#define ZFEED_MAX (1u << 30)
#define PROGRESS_EVERY (4u * 1024u * 1024u)

struct zin {
	const uint8_t *p; /* window; p[pos..len) is not consumed yet */
	size_t len;
	size_t pos;
	uint64_t base; /* offset of p[0] in the compressed input */
	int eof;       /* nothing past p[len) */
	int fd;	       /* -1 for memory input */
	uint8_t *buf;  /* fd: the window's storage, ZIN_BUFSZ bytes */
	uint64_t total;
	uint64_t next_report;
	pk_progress_fn progress;
	void *ctx;
};

struct zout {
	pk_buf *buf;   /* memory output, or NULL */
	int fd;	       /* fd output when buf is NULL */
	uint8_t *obuf; /* fd: ZOUT_BUFSZ bytes of staging */
	uint64_t max;  /* bytes the output may have; 0 = unbounded */
	uint64_t total;
};

uint64_t pk_zin_off(const struct zin *r);
int pk_zin_read(struct zin *r, pk_err *e);
int pk_zin_fill(struct zin *r, pk_err *e);
int pk_zin_peek(struct zin *r, size_t want, size_t *have, pk_err *e);
int pk_zin_byte(struct zin *r, int *c, pk_err *e);
int pk_write_all(int fd, const uint8_t *p, size_t n);
int pk_zout_space(struct zout *o, uint8_t **dst, unsigned *avail, uint64_t off,
		  pk_err *e);
int pk_zout_commit(struct zout *o, size_t n, uint64_t off, pk_err *e);
int pk_zout_write(struct zout *o, const uint8_t *p, size_t n, uint64_t off,
		  pk_err *e);
int pk_z_level(const pk_zinfo *info);
int pk_gz_decompress(struct zin *r, struct zout *o, pk_zinfo *info, pk_err *e);
/* A deflate stream of data[0..n) at level, window bits wbits (negative:
 * raw deflate, as gzip wraps it; MAX_WBITS: a zlib stream) to o, fed in
 * pieces; *crc (may be NULL) gets the CRC-32 of data. gzip's and zlib's
 * writers share it. */
int pk_deflate(int level, int wbits, const uint8_t *data, size_t n,
	       struct zout *o, uint32_t *crc, pk_err *e);
int pk_gz_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		   struct zout *o, pk_err *e);
size_t pk_gz_peek(const uint8_t *in, size_t n, uint8_t *out, size_t cap);
int pk_bz_decompress(struct zin *r, struct zout *o, pk_zinfo *info, pk_err *e);
int pk_bz_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		   struct zout *o, pk_err *e);
size_t pk_bz_peek(const uint8_t *in, size_t n, uint8_t *out, size_t cap);
/* xz.c: info->fmt says PK_Z_XZ or PK_Z_LZMA */
int pk_xz_decompress(struct zin *r, struct zout *o, pk_zinfo *info, pk_err *e);
int pk_xz_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		   struct zout *o, pk_err *e);
size_t pk_xz_peek(int fmt, const uint8_t *in, size_t n, uint8_t *out,
		  size_t cap);
int pk_zstd_decompress(struct zin *r, struct zout *o, pk_zinfo *info,
		       pk_err *e);
int pk_zstd_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		     struct zout *o, pk_err *e);
size_t pk_zstd_peek(const uint8_t *in, size_t n, uint8_t *out, size_t cap);
int pk_zl_decompress(struct zin *r, struct zout *o, pk_zinfo *info, pk_err *e);
int pk_zl_compress(const pk_zinfo *info, const uint8_t *data, size_t n,
		   struct zout *o, pk_err *e);
size_t pk_zl_peek(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

#endif
