#include "pickle_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "beneath.h"
#include "errmap.h"
#include "sniff.h"

static int io_fail(pk_err *e, const char *msg)
{
	return pk_err_set(e, PK_E_IO, msg, 0);
}

/* mkostemp relative to a folder: the same random names, O_EXCL. */
static int mkostemp_at(int dirfd, char *tmpl)
{
	static const char chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t n = strlen(tmpl), i;
	int tries, fd;
	unsigned long r;
	struct timespec ts;

	if (n < 6)
		return -1;
	for (tries = 0; tries < 100; tries++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		r = (unsigned long)ts.tv_nsec ^
		    ((unsigned long)getpid() << 16) ^
		    (unsigned long)tries * 2654435761u;
		for (i = n - 6; i < n; i++) {
			tmpl[i] = chars[r % 62];
			r = r / 62 + (unsigned long)ts.tv_sec * 31;
		}
		fd = openat(dirfd, tmpl, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static int map_fd(int fd, size_t len, void **map, pk_err *e)
{
	if (len == 0) {
		*map = NULL;
		return PK_OK;
	}
	*map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return io_fail(e, "cannot map file");
	}
	return PK_OK;
}

int pk_pickle_file_open(pk_pickle_file *pf, const char *path, pk_err *e)
{
	int fd = -1, rc;
	uint8_t head[4096];
	ssize_t got;
	void *map = NULL;
	size_t size;

	memset(pf, 0, sizeof(*pf));
	pf->zres.fd = -1;
	pk_err_set(e, PK_OK, NULL, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_fail(e, "cannot open file");
	if (fstat(fd, &pf->st) < 0) {
		rc = io_fail(e, "cannot stat file");
		goto cleanup;
	}
	got = pread(fd, head, sizeof(head), 0);
	if (got < 0) {
		rc = io_fail(e, "cannot read file");
		goto cleanup;
	}
	size = (size_t)pf->st.st_size;
	pf->z.fmt = pf_sniff_zfmt(head, (size_t)got, path);
	if (pf->z.fmt == PK_Z_NONE) {
		if ((rc = map_fd(fd, size, &map, e)))
			goto cleanup;
		pf->map = map;
		pf->map_len = size;
		pf->data = map;
		pf->len = size;
		goto cleanup;
	}
	/* streamed into a file, never into memory: a bomb is stopped at
	 * the bound, having cost a few buffers */
	rc = pf_expand_fd_as(pf->z.fmt, fd, 0, NULL, NULL, &pf->zres, e);
	if (rc != PK_OK) {
		pf->in_z = 1;
		errno = pf->zres.sys_errno;
		goto cleanup;
	}
	pf->z = pf->zres.z;
	rc = map_fd(pf->zres.fd, (size_t)pf->zres.len, &map, e);
	close(pf->zres.fd);
	pf->zres.fd = -1;
	if (rc != PK_OK)
		goto cleanup;
	pf->map = map;
	pf->map_len = (size_t)pf->zres.len;
	pf->data = map ? map : (const uint8_t *)"";
	pf->len = (size_t)pf->zres.len;
cleanup:
	if (fd >= 0)
		close(fd);
	if (rc != PK_OK) {
		int saved = errno;
		if (pf->map)
			munmap(pf->map, pf->map_len);
		pf->map = NULL;
		pf->map_len = 0;
		pf->data = NULL;
		pf->len = 0;
		errno = saved;
	}
	return rc;
}

void pk_pickle_file_close(pk_pickle_file *pf)
{
	if (pf->map)
		munmap(pf->map, pf->map_len);
	memset(pf, 0, sizeof(*pf));
}

void pk_describe_decode_error(const char *name, int compressed, const pk_err *e,
			      char *buf, size_t n)
{
	char limit[96] = "", max[80];

	if (e->code == PK_E_LIMIT) {
		/* the only limit a decode has: the tree's */
		pf_cache_tree_max_text(max, sizeof(max));
		snprintf(limit, sizeof(limit), " of %s", max);
	}
	snprintf(buf, n, "%s: byte %llu%s: %s%s", name,
		 (unsigned long long)e->offset,
		 compressed ? " of the decompressed data" : "",
		 e->msg ? e->msg : pk_code_name(e->code), limit);
}

static void describe(const char *name, const pk_pickle_file *pf,
		     const pk_err *e, pk_buf *out)
{
	char msg[1200];

	if (pf && pf->in_z) {
		pf_expand_describe(name, e, &pf->zres, msg, sizeof(msg));
		pk_buf_adds(out, msg);
		return;
	}
	if (e->code == PK_E_IO) {
		pk_buf_addf(out, "%s: %s: %s", name, e->msg, strerror(errno));
		return;
	}
	pk_describe_decode_error(name, pf && pf->z.fmt != PK_Z_NONE, e, msg,
				 sizeof(msg));
	pk_buf_adds(out, msg);
	if (e->code == PK_E_OPCODE && pf && pf->data && e->offset < pf->len)
		pk_buf_addf(out, " 0x%02x", pf->data[e->offset]);
}

int pk_pickle_file_decode(const pk_pickle_file *pf, unsigned flags,
			  pk_doc **out, pk_err *e)
{
	pk_decode_opts o = {flags, pf_cache_tree_max(), NULL, NULL, NULL, NULL};

	return pk_decode_with(pf->data, pf->len, &o, out, e);
}

void pk_pickle_file_report(const char *name, const pk_pickle_file *pf,
			   const pk_err *e)
{
	pk_buf b = PK_BUF_INIT;

	describe(name, pf, e, &b);
	fprintf(stderr, "%s\n", b.data ? (char *)b.data : "error");
	pk_buf_release(&b);
}

/* ---- temporary files -------------------------------------------------- */

/* mkostemp's alphabet (mkostemp_at above draws from it). */
static int temp_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

int pk_pickle_file_is_temp(const char *name)
{
	static const char tag[] = ".pkfs-";
	size_t n = strlen(name), t = sizeof(tag) - 1, i;

	/* "." NAME ".pkfs-" XXXXXX, NAME not empty */
	if (n < 1 + 1 + t + 6 || name[0] != '.')
		return 0;
	if (memcmp(name + n - 6 - t, tag, t) != 0)
		return 0;
	for (i = n - 6; i < n; i++)
		if (!temp_char(name[i]))
			return 0;
	return 1;
}

/* The temporary name for the file `name`: ".NAME.pkfs-XXXXXX", in the
 * same folder. */
static char *temp_name(const char *name)
{
	size_t n = strlen(name) + 16;
	char *tmp = malloc(n);

	if (!tmp)
		return NULL;
	snprintf(tmp, n, ".%s.pkfs-XXXXXX", name);
	return tmp;
}

/* ---- writing ------------------------------------------------------------ */

int pk_pickle_file_write(const char *path, const pk_zinfo *z, pk_doc *doc,
			 pk_err *e)
{
	char *real = realpath(path, NULL), *dir = NULL;
	const char *slash, *base;
	int rc, dfd = -1;

	pk_err_set(e, PK_OK, NULL, 0);
	/* the file a symlink names (as for a file SOURCE); the folders on
	 * the way are the caller's choice, a command line's */
	if (!real && errno == ENOENT)
		real = strdup(path); /* a new file */
	if (!real) {
		rc = errno ? errno : ENOMEM;
		pk_err_set(e, PK_E_IO, "cannot resolve the path", 0);
		goto cleanup;
	}
	slash = strrchr(real, '/');
	base = slash ? slash + 1 : real;
	dir = slash ? strndup(real, slash == real ? 1 : (size_t)(slash - real))
		    : strdup(".");
	if (!dir) {
		rc = ENOMEM;
		pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = errno;
		pk_err_set(e, PK_E_IO, "cannot open the folder", 0);
		goto cleanup;
	}
	rc = pk_pickle_file_replace_at(dfd, base, NULL, z, doc, NULL, e);
cleanup:
	if (dfd >= 0)
		close(dfd);
	free(real);
	free(dir);
	if (rc == 0)
		return PK_OK;
	if (e->code == PK_OK)
		pk_err_set(e, PK_E_IO, strerror(rc), 0);
	errno = rc;
	return e->code;
}

/* The same file as when it was read: a replacement (another inode) or a
 * rewrite (size, mtime) is a change. ctime is left out when the file was
 * moved since (a rename sets it). */
static int same_identity(const struct stat *a, const struct stat *b,
			 int ctime_too)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       (!ctime_too || (a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
			       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec));
}

/* Is the entry `name` of the folder dfd still `expect`? 0, ENOENT (gone)
 * or EAGAIN. */
static int still_there(int dfd, const char *name, const struct stat *expect,
		       pk_err *e)
{
	struct stat cur;

	if (fstatat(dfd, name, &cur, AT_SYMLINK_NOFOLLOW) < 0) {
		int err = errno;
		pk_err_set(e, PK_E_IO,
			   err == ENOENT ? "the file was removed"
					 : "cannot stat the file",
			   0);
		return err;
	}
	if (!same_identity(&cur, expect, 1)) {
		pk_err_set(e, PK_E_IO, "the file changed on disk", 0);
		return EAGAIN;
	}
	return 0;
}

/* errno of a failed step, with its message in e. */
static int step_fail(pk_err *e, const char *msg)
{
	int err = errno ? errno : EIO;

	pk_err_set(e, PK_E_IO, msg, 0);
	return err;
}

/* The new file would not have the old one's owner, group or mode: the
 * edit is refused with EPERM, whatever the failed call said. */
static int keep_fail(pk_err *e)
{
	pk_err_set(e, PK_E_IO,
		   "the new file cannot keep the owner, group and mode of "
		   "the old one",
		   0);
	errno = EPERM;
	return EPERM;
}

/* Encodes doc (compressed as z says) into the new temporary file fd and
 * gives it the owner, group and mode of the file it will replace (never
 * another owner than the original's; EPERM when it cannot have them),
 * then syncs it. 0 or errno. */
static int fill_temp(int fd, const pk_zinfo *z, pk_doc *doc,
		     const struct stat *like, pk_err *e)
{
	struct stat mine;
	pk_buf plain = PK_BUF_INIT;
	int rc;

	if (z->fmt == PK_Z_NONE) {
		rc = pk_encode_to_fd(doc, fd, e);
	} else {
		rc = pk_encode_to_buf(doc, &plain, e);
		if (rc == PK_OK)
			rc = pk_z_compress_fd(z, plain.data, plain.len, fd, e);
	}
	pk_buf_release(&plain);
	if (rc != PK_OK)
		return e->code == PK_E_IO && errno ? errno : pf_errno_of(rc);
	if (fstat(fd, &mine) < 0)
		return step_fail(e, "cannot stat temporary file");
	if (like &&
	    (like->st_uid != mine.st_uid || like->st_gid != mine.st_gid) &&
	    fchown(fd, like->st_uid != mine.st_uid ? like->st_uid : (uid_t)-1,
		   like->st_gid != mine.st_gid ? like->st_gid : (gid_t)-1) < 0)
		return keep_fail(e);
	/* after fchown, which clears the set-id bits */
	if (fchmod(fd, like ? like->st_mode & 07777 : 0644) < 0)
		return keep_fail(e);
	/* a set-group-id bit may be dropped silently: look */
	if (fstat(fd, &mine) < 0)
		return step_fail(e, "cannot stat temporary file");
	if (like &&
	    (mine.st_uid != like->st_uid || mine.st_gid != like->st_gid ||
	     (mine.st_mode & 07777) != (like->st_mode & 07777)))
		return keep_fail(e);
	if (fsync(fd) < 0)
		return step_fail(e, "cannot sync temporary file");
	return 0;
}

/* Puts tmp in name's place, both entries of the folder dfd. With expect,
 * compare and replace: swap the two names, then look at what we took the name
 * from; if it is not the file we read, swap back (theirs returns) and fail with
 * EAGAIN. Without RENAME_EXCHANGE on this filesystem, the check just before a
 * plain rename has to do. *drop_tmp: whatever tmp names now is ours to remove
 * (our new file when it did not go in, or the old file swapped out); it
 * is not after a plain rename, nor when a swap back failed (then tmp is
 * theirs). 0 or errno. */
static int swap_in(int dfd, const char *tmp, const char *name,
		   const struct stat *expect, int *drop_tmp, pk_err *e)
{
	struct stat old;
	int rc, err;

	*drop_tmp = 1;
	if (!expect) {
		if (renameat(dfd, tmp, dfd, name) < 0)
			return step_fail(e, "cannot rename temporary file");
		*drop_tmp = 0;
		return 0;
	}
	if ((rc = still_there(dfd, name, expect, e)))
		return rc;
	if (renameat2(dfd, tmp, dfd, name, RENAME_EXCHANGE) < 0) {
		err = errno;
		if (err != EINVAL && err != ENOSYS && err != EOPNOTSUPP)
			return step_fail(
			    e, err == ENOENT ? "the file was removed"
					     : "cannot rename temporary file");
		if (renameat(dfd, tmp, dfd, name) < 0)
			return step_fail(e, "cannot rename temporary file");
		*drop_tmp = 0;
		return 0;
	}
	/* the temporary name now holds the file we replaced (its ctime is
	 * the exchange's) */
	if (fstatat(dfd, tmp, &old, AT_SYMLINK_NOFOLLOW) == 0 &&
	    same_identity(&old, expect, 0))
		return 0;
	/* someone rewrote it: theirs goes back */
	if (renameat2(dfd, tmp, dfd, name, RENAME_EXCHANGE) < 0) {
		/* cannot happen short of a crash of the folder */
		*drop_tmp = 0;
		return step_fail(e, "cannot swap the file back");
	}
	pk_err_set(e, PK_E_IO, "the file changed on disk", 0);
	return EAGAIN;
}

int pk_pickle_file_replace_at(int dirfd, const char *path,
			      const struct stat *expect, const pk_zinfo *z,
			      pk_doc *doc, struct stat *now, pk_err *e)
{
	char *tmp = NULL;
	const char *name = NULL;
	int fd = -1, dfd = -1, rc, tmp_is_ours = 0;
	struct stat st;
	const struct stat *like = NULL;

	pk_err_set(e, PK_OK, NULL, 0);
	/* the folder, opened once and without following a symlink
	 * (beneath.h): every step below names one entry of it, so the
	 * temporary file, the rename and the sync all happen there */
	dfd = pf_beneath_parent(dirfd, path, &name);
	if (dfd < 0) {
		rc = step_fail(e, errno == ENOENT ? "the file was removed"
				  : errno == ELOOP
				      ? "a folder on the way is a symlink"
				      : "cannot open the folder");
		goto cleanup;
	}
	if (expect) {
		/* changed already: no need to encode anything */
		if ((rc = still_there(dfd, name, expect, e)))
			goto cleanup;
		like = expect;
	} else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			/* a symlink is not followed, nor replaced */
			errno = S_ISLNK(st.st_mode) ? ELOOP : EISDIR;
			rc = step_fail(e, "not a regular file");
			goto cleanup;
		}
		like = &st;
	}
	tmp = temp_name(name);
	if (!tmp) {
		pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		rc = ENOMEM;
		goto cleanup;
	}
	/* beside the file: same filesystem, so the rename is atomic;
	 * hidden, so `ls` doesn't show it */
	fd = mkostemp_at(dfd, tmp);
	if (fd < 0) {
		rc = step_fail(e, "cannot create temporary file");
		goto cleanup;
	}
	tmp_is_ours = 1;
	if ((rc = fill_temp(fd, z, doc, like, e)))
		goto cleanup;
	if ((rc = swap_in(dfd, tmp, name, expect, &tmp_is_ours, e)))
		goto cleanup;
	if (now && fstat(fd, now) < 0) {
		rc = step_fail(e, "cannot stat the new file");
		goto cleanup;
	}
	if (tmp_is_ours) {
		/* the old file, swapped out */
		unlinkat(dfd, tmp, 0);
		tmp_is_ours = 0;
	}
	if (fsync(dfd) < 0) {
		rc = step_fail(e, "cannot sync folder");
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	if (rc && tmp_is_ours) {
		int saved = errno;
		unlinkat(dfd, tmp, 0);
		errno = saved;
	}
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	return rc;
}
