#include "pickle_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "opcodes.h"

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
		r = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16) ^
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
	uint8_t head[4];
	ssize_t got;
	void *map = NULL;
	size_t size;

	memset(pf, 0, sizeof(*pf));
	pk_buf_init(&pf->mem);
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
	if ((rc = map_fd(fd, size, &map, e)))
		goto cleanup;
	pf->z.fmt = pk_z_detect(head, (size_t)got);
	if (pf->z.fmt == PK_Z_NONE) {
		pf->map = map;
		pf->map_len = size;
		pf->data = map;
		pf->len = size;
		goto cleanup;
	}
	rc = pk_z_decompress_mem(map, size, &pf->mem, &pf->z, 0, e);
	munmap(map, size);
	if (rc == PK_OK) {
		pf->data = pf->mem.data;
		pf->len = pf->mem.len;
	}
cleanup:
	if (fd >= 0)
		close(fd);
	if (rc != PK_OK) {
		pk_zinfo z = pf->z;
		pk_buf_release(&pf->mem);
		if (pf->map)
			munmap(pf->map, pf->map_len);
		memset(pf, 0, sizeof(*pf));
		pf->z = z;
	}
	return rc;
}

void pk_pickle_file_close(pk_pickle_file *pf)
{
	if (pf->map)
		munmap(pf->map, pf->map_len);
	pk_buf_release(&pf->mem);
	memset(pf, 0, sizeof(*pf));
}

static void describe(const char *name, const pk_pickle_file *pf,
		     const pk_err *e, pk_buf *out)
{
	if (e->code == PK_E_IO) {
		pk_buf_addf(out, "%s: %s: %s", name, e->msg, strerror(errno));
		return;
	}
	pk_buf_addf(out, "%s: byte %llu%s: %s", name,
		    (unsigned long long)e->offset,
		    pf && pf->z.fmt != PK_Z_NONE && e->code != PK_E_COMPRESS
			    ? " of the decompressed data"
			    : "",
		    e->msg ? e->msg : pk_code_name(e->code));
	if (e->code == PK_E_OPCODE && pf && pf->data && e->offset < pf->len)
		pk_buf_addf(out, " 0x%02x", pf->data[e->offset]);
}

void pk_pickle_file_report(const char *name, const pk_pickle_file *pf,
			   const pk_err *e)
{
	pk_buf b = PK_BUF_INIT;

	describe(name, pf, e, &b);
	fprintf(stderr, "%s\n", b.data ? (char *)b.data : "error");
	pk_buf_release(&b);
}

int pk_pickle_file_write(const char *path, const pk_zinfo *z, pk_doc *doc,
			 pk_err *e)
{
	return pk_pickle_file_write_at(AT_FDCWD, path, z, doc, e);
}

int pk_pickle_file_write_at(int dirfd, const char *path, const pk_zinfo *z,
			    pk_doc *doc, pk_err *e)
{
	char *dircopy = NULL, *tmp = NULL;
	const char *dir;
	int fd = -1, dfd = -1, rc;
	struct stat st;
	mode_t mode = 0644;
	pk_buf plain = PK_BUF_INIT;

	pk_err_set(e, PK_OK, NULL, 0);
	if (fstatat(dirfd, path, &st, 0) == 0)
		mode = st.st_mode & 07777;
	dircopy = strdup(path);
	tmp = malloc(strlen(path) + 32);
	if (!dircopy || !tmp) {
		rc = pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	dir = dirname(dircopy);
	{
		/* ".NAME.picklefs-XXXXXX" beside the file: same filesystem,
		 * so the rename is atomic; hidden, so `ls` doesn't show it. */
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		snprintf(tmp, strlen(path) + 32, "%.*s.%s.pkfs-XXXXXX",
			 (int)(base - path), path, base);
	}
	fd = mkostemp_at(dirfd, tmp);
	if (fd < 0) {
		rc = io_fail(e, "cannot create temporary file");
		goto cleanup;
	}
	if (z->fmt == PK_Z_NONE) {
		rc = pk_encode_to_fd(doc, fd, e);
	} else {
		rc = pk_encode_to_buf(doc, &plain, e);
		if (rc == PK_OK)
			rc = pk_z_compress_fd(z, plain.data, plain.len, fd, e);
	}
	if (rc != PK_OK)
		goto cleanup;
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		rc = io_fail(e, "cannot sync temporary file");
		goto cleanup;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = io_fail(e, "cannot close temporary file");
		goto cleanup;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, path) < 0) {
		rc = io_fail(e, "cannot rename temporary file");
		goto cleanup;
	}
	tmp[0] = '\0'; /* nothing left to remove */
	dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		rc = io_fail(e, "cannot sync folder");
		goto cleanup;
	}
	rc = PK_OK;
cleanup:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (rc != PK_OK && tmp && tmp[0]) {
		int saved = errno;
		unlinkat(dirfd, tmp, 0);
		errno = saved;
	}
	pk_buf_release(&plain);
	free(dircopy);
	free(tmp);
	return rc;
}
