/*
 * expand.h - how far a compressed pickle may expand, where it expands
 * to, and what to say when it cannot.
 *
 * What: a compressed pickle (gzip, bzip2, xz, lzma, zstd, zlib) is
 * decompressed into an unlinked cache
 * file (the mount's sources, pickletool), never into memory. The cache
 * folder is the one configured (-o cache_dir), else $TMPDIR, /var/tmp,
 * /tmp, the first that takes a file. The decompressed size is bounded by
 * the smaller of the configured maximum (-o max_expand, pickletool
 * --max-expand; default PF_EXPAND_DEFAULT) and the free space of the
 * cache folder when the decompression starts, less a margin (1/16 of
 * the filesystem, at most 1 GiB), so a bomb neither fills the disk nor
 * runs for long. A failed decompression is described as
 * "NAME: byte N of the compressed input: REASON" (the limit and where it
 * comes from, or the system's reason for a failed read or write).
 * Ownership: the configuration is process-wide, set once at start-up
 * (before any thread) by pf_expand_configure; strings given to it are
 * borrowed for the life of the process. A pf_zresult is a plain value.
 * Invariant: the bound is never 0 for a folder with room (a folder with
 * less room than the margin gives a bound of 0: every decompression
 * fails with the message saying so).
 */
#ifndef PF_EXPAND_H
#define PF_EXPAND_H

#include <stddef.h>
#include <stdint.h>

#include "compress.h"
#include "error.h"

/* 16 GiB: above the dataset pickles picklefs is made for (a few GB at
 * most), and what a bomb may cost in disk and time before it is refused
 * (never more than the folder's room less the margin, either). */
#define PF_EXPAND_DEFAULT (16ull << 30)
/* Free space kept in the cache folder: 1/16 of it, at most this. */
#define PF_EXPAND_MARGIN_MAX (1ull << 30)

/* max: the decompressed bytes allowed (0: PF_EXPAND_DEFAULT); dir: the
 * cache folder (NULL: $TMPDIR, /var/tmp, /tmp); max_how / dir_how: how
 * the user changes them, for messages ("-o max_expand=SIZE",
 * "-o cache_dir=DIR"; NULL: the mount's). */
void pf_expand_configure(uint64_t max, const char *dir, const char *max_how,
			 const char *dir_how);
uint64_t pf_expand_max(void);

/* What a decompression into a cache file gave. */
typedef struct pf_zresult {
	int fd;		 /* the cache file (caller closes), -1 on failure */
	uint64_t len;	 /* decompressed bytes in it */
	pk_zinfo z;	 /* the stream's format and header */
	int sys_errno;	 /* errno of a PK_E_IO failure */
	uint64_t limit;	 /* the bound in force */
	uint64_t space;	 /* free bytes of the folder at the start */
	uint64_t margin; /* of which kept free */
	int by_space;	 /* the folder's room set the bound, not the max */
	int by_caller;	 /* the caller's own cap set it (pf_expand_fd) */
	const char *dir; /* the cache folder (NULL: none could be made) */
} pf_zresult;

/* Decompresses the file in_fd (from offset 0) into a new cache file,
 * bounded as said above and, when cap > 0, also by cap (the caller's
 * own budget: res->by_caller says it was what stopped it). progress as
 * pk_z_decompress_fd's. PK_OK with res->fd open; else a code, e says
 * why (offsets in the compressed input), res->fd is -1 and the cache
 * file is gone. */
int pf_expand_fd(int in_fd, uint64_t cap, pk_progress_fn progress, void *ctx,
		 pf_zresult *res, pk_err *e);
/* Same, the format given (enum pk_zfmt, as pf_sniff_zfmt says; PK_Z_NONE:
 * by content). */
int pf_expand_fd_as(int fmt, int in_fd, uint64_t cap, pk_progress_fn progress,
		    void *ctx, pf_zresult *res, pk_err *e);

/* An unlinked file in the cache folder, -1 with errno on failure; *dir
 * (may be NULL) receives the folder. */
int pf_expand_cache_file(const char **dir);

/* "NAME: byte N of the compressed input: REASON" for a failure of
 * pf_expand_fd, into buf (always NUL-terminated). */
void pf_expand_describe(const char *name, const pk_err *e,
			const pf_zresult *res, char *buf, size_t n);

/* "16 GiB", "3 MiB", "12345 bytes": a size as the options take it. */
void pf_expand_size_text(uint64_t v, char *buf, size_t n);

#endif
