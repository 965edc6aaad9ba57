/*
 * beneath.h - paths inside SOURCE, resolved beneath the source folder
 * and without following a symlink.
 *
 * What: the one way the mount names a file inside SOURCE. A path is
 * relative to the descriptor of the source folder ("." is the folder
 * itself, "a/b.pkl" a file in it); every open, stat, readlink, rename,
 * unlink and temporary file of fs/core goes through these functions, so
 * a user who can write a folder inside SOURCE cannot point the daemon
 * (root, -o allow_other) at a file outside SOURCE, nor at a file they
 * could not open themselves, by swapping a file or a folder for a
 * symlink. The kernel resolves the symlinks a user reads through the
 * mount, with that user's permissions; the daemon never does.
 * Rule: no component of the path is followed if it is a symlink, the
 * last one included; a path that would leave the folder ("..", an
 * absolute path) is refused. A symlink fails with ELOOP, a way out with
 * EXDEV.
 * How: openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS (Linux 5.6). Where openat2 does not work (ENOSYS
 * from an older kernel; EPERM from a seccomp filter that does not know
 * it, as older container runtimes answer, told apart from a real EPERM
 * by a probe of ".") the path is walked one component at a time with
 * openat(O_NOFOLLOW), ".." refused even where it stays inside: the same
 * rule, more system calls. The choice is made once, at the first call.
 * Operations on the last component (rename, unlink, creating a file
 * beside it) use pf_beneath_parent: a descriptor of the folder holding
 * it, opened by the rule, and the last component's name, which the *at
 * call then takes alone (a single name, nothing left to resolve).
 * All functions return -1 with errno set on failure, and every
 * descriptor they return is O_CLOEXEC and the caller's to close.
 */
#ifndef PF_BENEATH_H
#define PF_BENEATH_H

#include <sys/stat.h>
#include <sys/types.h>

/* Opens path beneath dirfd with open(2) flags (O_RDONLY, O_DIRECTORY,
 * O_NONBLOCK, O_PATH ...; not O_CREAT). A symlink as the last component
 * is opened itself only with O_PATH | O_NOFOLLOW, else ELOOP. */
int pf_beneath_open(int dirfd, const char *path, int flags);

/* Opens the folder holding path's last component (O_RDONLY |
 * O_DIRECTORY, so it can be fsync'ed) and sets *name to that component
 * (a pointer into path). The name is never "", "." or ".." (EINVAL):
 * path names an entry of a folder, not the source folder itself. */
int pf_beneath_parent(int dirfd, const char *path, const char **name);

/* lstat(2) of path beneath dirfd: a symlink as the last component is
 * described, not followed; "." is the folder itself. */
int pf_beneath_stat(int dirfd, const char *path, struct stat *st);

/* readlink(2) of the symlink path beneath dirfd: the number of bytes
 * put in buf (not terminated), or -1. */
ssize_t pf_beneath_readlink(int dirfd, const char *path, char *buf, size_t len);

/* For tests: 0 walks component by component as without openat2, 1 uses
 * openat2 again where the kernel has it. */
void pf_beneath_use_openat2(int on);

#endif
