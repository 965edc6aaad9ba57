/*
 * pickle_file.h - a pickle file on disk: open it (mapped, decompressed if
 * compressed: gzip, bzip2, xz, lzma, zstd, zlib, as sniff.h's
 * pf_sniff_zfmt tells them) and write a doc back to it atomically.
 *
 * What: the file-level half of the codec's users: mapping and
 * decompression for pickletool (into an unlinked cache file, bounded as
 * expand.h says, so a bomb costs neither memory nor unbounded disk), the
 * "NAME: byte N: message" report, and the temp-file + fsync + rename +
 * fsync(dir) write-back that pickletool and the mount share.
 * Ownership: a pk_pickle_file owns its mapping (of the file, or of its
 * decompressed cache file); pk_pickle_file_close releases it. `data`
 * stays valid until then, so docs decoded from it must be freed first.
 * Invariants: data/len are the (decompressed) pickle bytes; z.fmt says
 * how the file on disk is compressed; st is the stat of the file as it
 * was opened (to notice changes on disk).
 */
#ifndef PK_PICKLE_FILE_H
#define PK_PICKLE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "buf.h"
#include "cache.h"
#include "compress.h"
#include "error.h"
#include "expand.h"
#include "pickle.h"

typedef struct pk_pickle_file {
	const uint8_t *data;
	size_t len;
	pk_zinfo z;
	struct stat st;
	/* private */
	void *map;
	size_t map_len;
	int in_z;	 /* open failed while decompressing */
	pf_zresult zres; /* that decompression */
} pk_pickle_file;

/* Opens path: plain pickles are mapped, compressed ones decompressed
 * into an unlinked cache file (pf_expand_fd: bounded by the configured
 * maximum and the folder's room) and that is mapped. On failure pf->z
 * says the format, and pk_pickle_file_report can say why. */
int pk_pickle_file_open(pk_pickle_file *pf, const char *path, pk_err *e);
void pk_pickle_file_close(pk_pickle_file *pf);

/* Prints on stderr "NAME: byte N: message" (a plain pickle), "NAME:
 * byte N of the decompressed data: message" (a compressed one that does
 * not decode) or "NAME: byte N of the compressed input: message" (its
 * decompression failed, expand.h), or for a failed system call
 * "NAME: message: strerror". */
void pk_pickle_file_report(const char *name, const pk_pickle_file *pf,
			   const pk_err *e);
/* The decode part of that: "NAME: byte N[ of the decompressed data]:
 * MSG", and for PK_E_LIMIT the tree's limit in force (cache.h), into buf
 * (always NUL-terminated). */
void pk_describe_decode_error(const char *name, int compressed, const pk_err *e,
			      char *buf, size_t n);
/* Decodes the opened file, its tree bounded by pf_cache_tree_max(). */
int pk_pickle_file_decode(const pk_pickle_file *pf, unsigned flags,
			  pk_doc **out, pk_err *e);

/* Encodes doc, compresses it as z says, and replaces path atomically:
 * a temporary file beside it, fsync, rename over path, fsync of the
 * folder. On failure path is untouched and no temporary file is left.
 * The new file keeps path's owner, group and permission bits when path
 * exists. A path that is a symlink replaces the file it names (the
 * folders of path are followed as given: pickletool's command line); a
 * dangling one is refused (ELOOP), not replaced.
 * PK_OK or a code (PK_E_IO: errno says why). */
int pk_pickle_file_write(const char *path, const pk_zinfo *z, pk_doc *doc,
			 pk_err *e);

/* Compare and replace: writes doc over path (relative to dirfd, resolved
 * beneath it without following any symlink, beneath.h: the folder is
 * opened once and every step names one entry of it) only if
 * the file there is still `expect` (device, inode, size, mtime, ctime:
 * the file the doc was read from). The new file takes expect's owner,
 * group and mode. The temporary file takes path's name with
 * renameat2(RENAME_EXCHANGE); then the file swapped out is checked to be
 * `expect` and removed. Where the filesystem cannot exchange, the
 * identity is checked and the temporary file renamed over path.
 * expect NULL: replace the regular file at path (keeping its owner and
 * mode), or create it. now (may be NULL) receives the stat of the new
 * file. Returns 0 or an errno, e saying which step failed:
 *   EAGAIN   path is not `expect` any more (rewritten or replaced by
 *            someone else, by a symlink too): their file is left at
 *            path, untouched;
 *   ENOENT   path was removed: nothing is created;
 *   ELOOP    a folder of path is a symlink (or, expect NULL, path is);
 *   EXDEV    path leads out of dirfd;
 *   EPERM    the new file cannot get the old one's owner, group or
 *            mode (fchown, fchmod failed or dropped a bit);
 *   ENOSPC, EIO, EACCES, EROFS, ENOMEM, EINVAL (the doc cannot be
 *            encoded) ...: path is unchanged.
 * On any failure no temporary file is left. */
int pk_pickle_file_replace_at(int dirfd, const char *path,
			      const struct stat *expect, const pk_zinfo *z,
			      pk_doc *doc, struct stat *now, pk_err *e);

/* Whether name (a file name, no folder) is one of the temporary files
 * the writers above make: "." NAME ".pkfs-" and 6 characters of
 * [A-Za-z0-9], NAME not empty. Such a file left by a crash is garbage. */
int pk_pickle_file_is_temp(const char *name);

#endif
