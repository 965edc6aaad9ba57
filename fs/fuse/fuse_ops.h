/*
 * fuse_ops.h - the FUSE low-level callbacks of picklefs.
 *
 * What: one table of callbacks that turn kernel requests into calls of
 * vfs.h and reply once. Node ids are pf_inode pointers (FUSE_ROOT_ID is
 * the root); file handles are pf_file / pf_dirh pointers. No policy
 * lives here: what is refused, and with which errno, is vfs.h's answer.
 * Ownership: the pf_fs is the session's user data (the last argument of
 * fuse_session_new), borrowed for the session's lifetime.
 * Invariants: callbacks are thin (translate, call, reply exactly once)
 * and safe to run on many threads at once (vfs.h locks).
 */
#ifndef PF_FUSE_OPS_H
#define PF_FUSE_OPS_H

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <fuse_lowlevel.h>

#include "vfs.h"

/* Seconds the kernel may cache entries and attributes: the pickle is
 * re-checked on disk at most once a second too. */
#define PF_CACHE_TIMEOUT 1.0

const struct fuse_lowlevel_ops *pf_fuse_ops(void);

#endif
