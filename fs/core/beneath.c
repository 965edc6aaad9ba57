/*
 * beneath.c - paths inside SOURCE without symlinks (beneath.h).
 */
#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* 1: the kernel has openat2, 0: walk (it has not, or a test said so),
 * -1: not known yet. */
static int use_openat2 = -1;

void pf_beneath_use_openat2(int on)
{
	__atomic_store_n(&use_openat2, on ? -1 : 0, __ATOMIC_RELAXED);
}

static int sys_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(unsigned)flags;
	how.resolve =
	    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Whether openat2 works at all, asked once when a first call fails with
 * EPERM: a seccomp filter that does not know the call (older container
 * runtimes) answers EPERM where a kernel without it answers ENOSYS.
 * errno is kept. */
static int openat2_works(int dirfd)
{
	int saved = errno, fd, ok;

	fd = sys_openat2(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ok = fd >= 0 || (errno != ENOSYS && errno != EPERM);
	if (fd >= 0)
		close(fd);
	errno = saved;
	return ok;
}

/* One component at a time: the folders as O_PATH descriptors, none of
 * them followed if it is a symlink, ".." refused. */
static int walk(int dirfd, const char *path, int flags)
{
	char *copy, *p, *end;
	int cur = dirfd, fd = -1, err = 0, last;
	struct stat st;

	if (path[0] == '/') {
		errno = EXDEV;
		return -1;
	}
	copy = strdup(path);
	if (!copy)
		return -1;
	for (p = copy;; p = end) {
		end = strchr(p, '/');
		if (end) {
			*end++ = '\0';
			while (*end == '/')
				end++;
		}
		last = !end || !*end;
		if (strcmp(p, "..") == 0) {
			err = EXDEV;
			break;
		}
		if (!*p)
			p = "."; /* "" is the folder itself */
		fd = openat(cur, p,
			    last ? flags
				 : O_PATH | O_DIRECTORY | O_NOFOLLOW |
				       O_CLOEXEC);
		if (fd < 0) {
			err = errno;
			/* a symlink to a folder: say so as openat2 does */
			if (!last && err == ENOTDIR &&
			    fstatat(cur, p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				err = ELOOP;
			break;
		}
		if (cur != dirfd)
			close(cur);
		cur = fd;
		fd = -1;
		if (last)
			break;
	}
	if (err) {
		if (cur != dirfd)
			close(cur);
		cur = -1;
	}
	free(copy);
	errno = err;
	return err ? -1 : cur;
}

static int resolve(int dirfd, const char *path, int flags)
{
	int how = __atomic_load_n(&use_openat2, __ATOMIC_RELAXED), fd;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		errno = EINVAL;
		return -1;
	}
	/* the last component is never followed either */
	flags |= O_NOFOLLOW | O_CLOEXEC;
	if (how != 0) {
		fd = sys_openat2(dirfd, path, flags);
		if (fd < 0 && how < 0 &&
		    (errno == ENOSYS ||
		     (errno == EPERM && !openat2_works(dirfd)))) {
			__atomic_store_n(&use_openat2, 0, __ATOMIC_RELAXED);
			return walk(dirfd, path, flags);
		}
		if (how < 0)
			__atomic_store_n(&use_openat2, 1, __ATOMIC_RELAXED);
		return fd;
	}
	return walk(dirfd, path, flags);
}

int pf_beneath_open(int dirfd, const char *path, int flags)
{
	int fd = resolve(dirfd, path, flags), lfd;
	struct stat st;

	/* O_DIRECTORY | O_NOFOLLOW on a symlink says ENOTDIR: it is the
	 * symlink that is refused, ELOOP as everywhere else */
	if (fd < 0 && errno == ENOTDIR && (flags & O_DIRECTORY) &&
	    !(flags & O_PATH)) {
		lfd = resolve(dirfd, path, O_PATH);
		if (lfd >= 0) {
			if (fstat(lfd, &st) == 0 && S_ISLNK(st.st_mode))
				errno = ELOOP;
			else
				errno = ENOTDIR;
			close(lfd);
		} else {
			errno = ENOTDIR;
		}
	}
	return fd;
}

int pf_beneath_parent(int dirfd, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *dir;
	int fd;

	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (!slash) {
		fd = pf_beneath_open(dirfd, ".", O_RDONLY | O_DIRECTORY);
	} else if (slash == path) {
		errno = EXDEV; /* "/name": not beneath anything */
		return -1;
	} else {
		dir = strndup(path, (size_t)(slash - path));
		if (!dir)
			return -1;
		fd = pf_beneath_open(dirfd, dir, O_RDONLY | O_DIRECTORY);
		free(dir);
	}
	if (fd >= 0)
		*name = base;
	return fd;
}

int pf_beneath_stat(int dirfd, const char *path, struct stat *st)
{
	int fd = pf_beneath_open(dirfd, path, O_PATH), rc, err;

	if (fd < 0)
		return -1;
	rc = fstat(fd, st);
	err = errno;
	close(fd);
	errno = err;
	return rc;
}

ssize_t pf_beneath_readlink(int dirfd, const char *path, char *buf, size_t len)
{
	int fd = pf_beneath_open(dirfd, path, O_PATH), err;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = readlinkat(fd, "", buf, len);
	err = errno;
	close(fd);
	errno = err;
	return n;
}
