/*
 * vfs.h - the mount's file operations, without FUSE.
 *
 * What: everything a FUSE callback needs, as plain functions that return
 * 0 or an errno and hold the policy (what is refused, with which errno):
 * lookup / forget / getattr / readlink / readdir / open / read / xattrs /
 * statfs, and the write side (write, flush, fsync, truncate, create,
 * mkdir, unlink, rmdir, rename, setxattr), over a pickle file or a folder
 * of them. The FUSE layer (fs/fuse) only translates node ids and replies;
 * tests and tools drive these functions directly. The implementation is
 * split by job (mount.c, node.c, mirror.c, read.c, xattr.c, scratch.c,
 * change.c, write.c; what they share: vfs_internal.h).
 *
 * What the tree looks like (the user-facing rules, see README):
 *   - a folder SOURCE is mirrored; a file that is a pickle (sniff.h) is a
 *     directory of the same name; any other file is itself, read-only;
 *   - inside a pickle, docview.h decides entries and links; an edited
 *     directory keeps its names (entries.h); entries are values, not
 *     positions (inode.h);
 *   - a broken pickle is its raw file, and the log says why;
 *   - edits are written back when committed (close, rename, unlink,
 *     mkdir ...), or within -o writeback seconds; -o ro refuses them all
 *     with EROFS.
 *
 * Ownership: pf_fs owns the inode table, the sources and the directory
 * fd. Handles (pf_dirh, pf_file) are owned by the caller between open
 * and release. A span returned by pf_fs_read keeps what it points to
 * alive (a mapping reference, or a copy of its own) until
 * pf_span_release, whatever happens to the handle meanwhile.
 * Invariants: thread-safe; each pickle has its own lock (source.h), the
 * inode table one more, taken after a source lock, never before. Every
 * thread the mount runs is started by pf_fs_start, after the daemon
 * forked.
 */
#ifndef PF_VFS_H
#define PF_VFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include "buf.h"
#include "inode.h"

typedef struct pf_fs pf_fs;
typedef struct pf_dirh pf_dirh;
typedef struct pf_file pf_file;

typedef struct pf_fs_config {
	const char *source; /* the SOURCE argument */
	int progress;	    /* bar on stderr for the startup parse */
	int ro;		    /* -o ro: every change fails with EROFS */
	unsigned writeback; /* -o writeback=SECONDS (0: at close) */
	int lazy;	    /* a lookup only sniffs a file, never parses it (a
			       scanner reads the bytes itself: pickletool scan) */
} pf_fs_config;

/* Whether the mount takes changes (the FUSE layer sets cache timeouts
 * by it: entries of a writable mount move when keys come and go). */
int pf_fs_writable(const pf_fs *fs);

/* Opens SOURCE: a folder is only opened; a pickle file is parsed now.
 * 0, or an errno with msg set to what to tell the user
 * ("NAME: byte N: message"). */
int pf_fs_new(const pf_fs_config *cfg, pf_fs **out, char *msg, size_t n);
/* Starts the mount's threads (-o writeback's timer). pf_fs_new starts
 * none: call this after the daemon forked (fuse_daemonize), so that the
 * threads live in the process that serves the mount. 0 or errno. */
int pf_fs_start(pf_fs *fs);
/* Unmount: stops the threads and writes back every pending edit. 0, or
 * EIO when some pickle could not be written (the log names each one:
 * "NAME: cannot write back: REASON; edits lost"). Once; pf_fs_free calls
 * it if nobody did. */
int pf_fs_stop(pf_fs *fs);
void pf_fs_free(pf_fs *fs);

pf_inode *pf_fs_root(pf_fs *fs);

/* The child `name` of dir: one lookup is added to *out. */
int pf_fs_lookup(pf_fs *fs, pf_inode *dir, const char *name, pf_inode **out,
		 struct stat *st);
void pf_fs_forget(pf_fs *fs, pf_inode *in, uint64_t n);
int pf_fs_getattr(pf_fs *fs, pf_inode *in, struct stat *st);
int pf_fs_readlink(pf_fs *fs, pf_inode *in, pk_buf *out);

int pf_fs_opendir(pf_fs *fs, pf_inode *in, pf_dirh **out);
/* Called per entry from offset `off` on; returns nonzero when the
 * caller's buffer is full (the entry was not taken). st has st_ino and
 * the S_IFMT bits of st_mode (0 when unknown). `next` is the offset of
 * the entry after this one. */
typedef int (*pf_fill_fn)(void *ctx, const char *name, const struct stat *st,
			  uint64_t next);
int pf_fs_readdir(pf_fs *fs, pf_inode *in, pf_dirh *d, uint64_t off,
		  pf_fill_fn fill, void *ctx);
void pf_fs_releasedir(pf_fs *fs, pf_dirh *d);

/* *keep_cache: the file is unchanged since its last open. */
int pf_fs_open(pf_fs *fs, pf_inode *in, int flags, pf_file **out,
	       int *keep_cache);
/* Whether the kernel must not cache this handle's pages: a file opened
 * for writing, whose writes may be refused (a refused write must leave
 * no trace, also not in the page cache another reader sees). */
int pf_fs_uncached(const pf_file *f);
/* What a read returns: memory slices, or a range of a file descriptor.
 * The slices do not point into the handle: the kernel may send RELEASE
 * (and the handle be freed) as soon as the reply is written, while the
 * replying thread still holds the iovec. A span keeps what it points to
 * alive (a mapping reference, or a copy) until pf_span_release. */
typedef struct pf_span {
	struct iovec iov[2];
	int niov;
	int fd; /* -1: use iov */
	uint64_t fd_off;
	size_t fd_len;
	pf_map *hold;
	void *copy;
} pf_span;
int pf_fs_read(pf_fs *fs, pf_file *f, uint64_t off, size_t size, pf_span *out);
void pf_span_release(pf_span *sp);
void pf_fs_release(pf_fs *fs, pf_file *f);

/* ---- the write side (see README "Editing") ---- */

/* Writes into a handle opened for writing (the value is replaced when
 * the handle is flushed). */
int pf_fs_write(pf_fs *fs, pf_file *f, uint64_t off, const void *data,
		size_t size);
/* close(): commits what was written. EINVAL when the text is not a
 * literal of the value's type (the pickle is then unchanged). With
 * -o writeback, a handle opened for writing also gets the error of a
 * failed write-back of its pickle not reported yet (once), or ESTALE
 * when pending edits were dropped because the file changed on disk. */
int pf_fs_flush(pf_fs *fs, pf_file *f);
/* fsync() of in (f: its handle, may be NULL for fsyncdir): commits what
 * f wrote and, with -o writeback, writes in's pickle back before it
 * returns; 0 means on disk. Else the errno of that write, or of an
 * earlier failed write-back not reported yet. */
int pf_fs_fsync(pf_fs *fs, pf_inode *in, pf_file *f);
/* truncate / ftruncate (f may be NULL); other attributes are accepted
 * and ignored. st receives the new attributes. */
int pf_fs_truncate(pf_fs *fs, pf_inode *in, pf_file *f, uint64_t size,
		   struct stat *st);
int pf_fs_create(pf_fs *fs, pf_inode *dir, const char *name, int flags,
		 pf_inode **out, struct stat *st, pf_file **fh);
int pf_fs_mkdir(pf_fs *fs, pf_inode *dir, const char *name, pf_inode **out,
		struct stat *st);
int pf_fs_unlink(pf_fs *fs, pf_inode *dir, const char *name);
int pf_fs_rmdir(pf_fs *fs, pf_inode *dir, const char *name);
/* flags (renameat2's): EINVAL, values cannot be exchanged. */
int pf_fs_rename(pf_fs *fs, pf_inode *dir, const char *name, pf_inode *newdir,
		 const char *newname, unsigned flags);
/* setattr: a size truncates (set_size); modes, owners and times belong to
 * the pickle file and are left as they are (st gets the attributes). */
int pf_fs_setattr(pf_fs *fs, pf_inode *in, pf_file *f, int set_size,
		  uint64_t size, struct stat *st);
/* mknod, symlink, link: entries are values, never special files or
 * second names. EPERM (EROFS on a read-only mount). */
int pf_fs_special(pf_fs *fs);
/* No user.pickle.* attribute can be removed: ENOTSUP (EROFS). */
int pf_fs_removexattr(pf_fs *fs, pf_inode *in, const char *name);
int pf_fs_setxattr(pf_fs *fs, pf_inode *in, const char *name, const char *value,
		   size_t size);
/* Writes every pending change back (force as pf_source_flush: 0 the
 * timer of -o writeback, 2 unmount). Returns how many pickles failed. */
int pf_fs_flush_all(pf_fs *fs, int force);

/* Value of xattr `name` (ENODATA when absent) / the NUL-separated list. */
int pf_fs_getxattr(pf_fs *fs, pf_inode *in, const char *name, pk_buf *out);
int pf_fs_listxattr(pf_fs *fs, pf_inode *in, pk_buf *out);
int pf_fs_statfs(pf_fs *fs, struct statvfs *st);

/* The source behind an inode that shows a file of SOURCE or of an
 * archive (a pickle's top, an archive's top, a plain file or member),
 * for tools that read its bytes (pickletool scan); NULL for the others.
 * The source lives as long as fs. */
struct pf_source *pf_fs_source_of(pf_fs *fs, pf_inode *in);

#endif
