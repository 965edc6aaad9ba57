/*
 * expand.c - decompressing a pickle into a bounded cache file
 * (expand.h).
 */
#include "expand.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static uint64_t cfg_max = PF_EXPAND_DEFAULT;
static const char *cfg_dir;
static const char *cfg_max_how = "-o max_expand=SIZE";
static const char *cfg_dir_how = "-o cache_dir=DIR";

void pf_expand_configure(uint64_t max, const char *dir, const char *max_how,
			 const char *dir_how)
{
	cfg_max = max ? max : PF_EXPAND_DEFAULT;
	cfg_dir = dir && *dir ? dir : NULL;
	if (max_how)
		cfg_max_how = max_how;
	if (dir_how)
		cfg_dir_how = dir_how;
}

uint64_t pf_expand_max(void)
{
	return cfg_max;
}

int pf_expand_cache_file(const char **dir)
{
	const char *dirs[3] = {getenv("TMPDIR"), "/var/tmp", "/tmp"};
	char tmpl[4096];
	int i, fd, err = ENOENT;

	if (cfg_dir) {
		/* configured: that folder or none */
		dirs[0] = cfg_dir;
		dirs[1] = dirs[2] = NULL;
	}
	for (i = 0; i < 3; i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(tmpl, sizeof(tmpl), "%s/picklefs-XXXXXX",
				 dirs[i]);
			fd = mkostemp(tmpl, O_CLOEXEC);
			if (fd >= 0)
				unlink(tmpl);
		}
		if (fd >= 0) {
			if (dir)
				*dir = dirs[i];
			return fd;
		}
		err = errno;
	}
	if (dir)
		*dir = cfg_dir;
	errno = err;
	return -1;
}

/* The bound for a decompression into fd: the configured maximum, and the
 * free space of fd's filesystem less the margin. */
static void set_bound(int fd, pf_zresult *res)
{
	struct statvfs vfs;
	uint64_t size, room;

	res->limit = cfg_max;
	res->space = UINT64_MAX;
	res->margin = 0;
	if (fstatvfs(fd, &vfs) != 0)
		return;
	size = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	res->space = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	res->margin = size / 16;
	if (res->margin > PF_EXPAND_MARGIN_MAX)
		res->margin = PF_EXPAND_MARGIN_MAX;
	room = res->space > res->margin ? res->space - res->margin : 0;
	if (room < res->limit) {
		res->limit = room;
		res->by_space = 1;
	}
}

int pf_expand_fd(int in_fd, uint64_t cap, pk_progress_fn progress, void *ctx,
		 pf_zresult *res, pk_err *e)
{
	return pf_expand_fd_as(PK_Z_NONE, in_fd, cap, progress, ctx, res, e);
}

int pf_expand_fd_as(int fmt, int in_fd, uint64_t cap, pk_progress_fn progress,
		    void *ctx, pf_zresult *res, pk_err *e)
{
	uint64_t bound;
	int rc;

	memset(res, 0, sizeof(*res));
	res->fd = pf_expand_cache_file(&res->dir);
	if (res->fd < 0) {
		res->sys_errno = errno;
		return pk_err_set(e, PK_E_IO, "cannot create a cache file", 0);
	}
	set_bound(res->fd, res);
	bound = res->limit;
	if (cap && cap < bound) {
		bound = cap;
		res->by_caller = 1;
	}
	if (bound == 0) {
		/* no room at all: pk_z_decompress_fd would take 0 as "no
		 * bound" */
		rc = pk_err_set(e, PK_E_LIMIT, "expands past the limit", 0);
		goto fail;
	}
	if (lseek(in_fd, 0, SEEK_SET) < 0) {
		res->sys_errno = errno;
		rc = pk_err_set(e, PK_E_IO, "read failed", 0);
		goto fail;
	}
	rc = pk_z_decompress_fd_as(fmt, in_fd, res->fd, &res->z, &res->len,
				   bound, progress, ctx, e);
	if (rc == PK_OK)
		return PK_OK;
	res->sys_errno = errno;
fail:
	close(res->fd);
	res->fd = -1;
	return rc;
}

void pf_expand_size_text(uint64_t v, char *buf, size_t n)
{
	static const char *units[] = {"TiB", "GiB", "MiB", "KiB"};
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t u = 1ull << (10 * (4 - i));
		if (v >= u && v % u == 0) {
			snprintf(buf, n, "%llu %s", (unsigned long long)(v / u),
				 units[i]);
			return;
		}
	}
	snprintf(buf, n, "%llu bytes", (unsigned long long)v);
}

void pf_expand_describe(const char *name, const pk_err *e,
			const pf_zresult *res, char *buf, size_t n)
{
	char lim[48], space[48], margin[48];
	const char *dir = res->dir ? res->dir : "the cache folder";
	const char *msg = e->msg ? e->msg : pk_code_name(e->code);
	int len;

	len = snprintf(buf, n, "%s: byte %llu of the compressed input: %s",
		       name, (unsigned long long)e->offset, msg);
	if (len < 0 || (size_t)len >= n)
		return;
	buf += len;
	n -= (size_t)len;
	if (e->code == PK_E_LIMIT) {
		pf_expand_size_text(res->limit, lim, sizeof(lim));
		pf_expand_size_text(res->space, space, sizeof(space));
		pf_expand_size_text(res->margin, margin, sizeof(margin));
		if (res->by_caller)
			snprintf(buf, n, " (the caller's own cap)");
		else if (res->by_space)
			snprintf(buf, n,
				 " of %s (the free space of the cache folder "
				 "%s, %s, less a margin of %s; %s picks "
				 "another folder)",
				 lim, dir, space, margin, cfg_dir_how);
		else
			snprintf(buf, n, " of %s (%s)", lim, cfg_max_how);
	} else if (e->code == PK_E_IO && msg && !strcmp(msg, "write failed")) {
		snprintf(buf, n, " (the cache file in %s): %s", dir,
			 strerror(res->sys_errno ? res->sys_errno : EIO));
	} else if (e->code == PK_E_IO &&
		   !strcmp(msg, "cannot create a cache file")) {
		snprintf(buf, n, " in %s: %s", dir,
			 strerror(res->sys_errno ? res->sys_errno : EIO));
	} else if (e->code == PK_E_IO) {
		snprintf(buf, n, ": %s",
			 strerror(res->sys_errno ? res->sys_errno : EIO));
	}
}
