/*
 * test_expand.c - fs/core/expand.c: a compressed pickle decompressed
 * into a cache file bounded by -o max_expand and by the cache folder's
 * room, and the messages that say why one was refused ("NAME: byte N of
 * the compressed input: REASON"); pickletool's pk_pickle_file_open on
 * top of it. What a folder mount does at lookup with a bomb is
 * test_source.c's.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "compress.h"
#include "expand.h"
#include "pickle_file.h"
#include "unit.h"

static void setup(void)
{
	ut_make_dir();
	pf_expand_configure(0, ut_dir, NULL, NULL);
}

static void teardown(void)
{
	pf_expand_configure(0, NULL, NULL, NULL);
	ut_remove_dir();
}

static int open_in(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ut_dir, name);
	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	return fd;
}

Test(expand, bomb_stops_at_the_maximum, .init = setup, .fini = teardown)
{
	const int fmts[] = {PK_Z_GZIP, PK_Z_BZIP2};
	char msg[512], want[512];
	pf_zresult res;
	pk_err e;
	size_t i;
	int fd;

	pf_expand_configure(1u << 20, ut_dir, NULL, NULL);
	for (i = 0; i < 2; i++) {
		ut_put_bomb("bomb", fmts[i], 16u << 20);
		fd = open_in("bomb");
		cr_expect_eq(pf_expand_fd(fd, 0, NULL, NULL, &res, &e),
			     PK_E_LIMIT);
		close(fd);
		cr_expect_eq(res.fd, -1);
		cr_expect_eq(res.limit, 1u << 20);
		cr_expect_eq(res.by_space, 0);
		cr_expect_leq(res.len, 1u << 20);
		cr_expect_str_eq(res.dir, ut_dir);
		pf_expand_describe("bomb", &e, &res, msg, sizeof(msg));
		snprintf(want, sizeof(want),
			 "bomb: byte %llu of the compressed input: expands "
			 "past the limit of 1 MiB (-o max_expand=SIZE)",
			 (unsigned long long)e.offset);
		cr_expect_str_eq(msg, want);
		/* the offset is in the compressed file */
		cr_expect_gt(e.offset, 0);
		cr_expect_leq(e.offset, 20000);
	}
	/* the cache file was unlinked from the start: nothing left */
	cr_expect_eq(ut_count_files("picklefs-"), 0);
}

Test(expand, small_pickle_fits, .init = setup, .fini = teardown)
{
	pf_zresult res;
	pk_err e;
	int fd;

	ut_put_bomb("small.gz", PK_Z_GZIP, 1000);
	fd = open_in("small.gz");
	cr_assert_eq(pf_expand_fd(fd, 0, NULL, NULL, &res, &e), PK_OK);
	close(fd);
	cr_expect_geq(res.fd, 0);
	cr_expect_eq(res.len, 1012);
	cr_expect_eq(res.z.fmt, PK_Z_GZIP);
	cr_expect_eq(lseek(res.fd, 0, SEEK_END), 1012);
	close(res.fd);
	/* a cap of the caller's stops it, and says so */
	fd = open_in("small.gz");
	cr_expect_eq(pf_expand_fd(fd, 1000, NULL, NULL, &res, &e), PK_E_LIMIT);
	close(fd);
	cr_expect(res.by_caller);
}

/* The folder's room less the margin bounds it when that is smaller. */
Test(expand, bound_by_the_folders_room, .init = setup, .fini = teardown)
{
	struct statvfs vfs;
	pf_zresult res;
	pk_err e;
	uint64_t size, margin;
	int fd;

	pf_expand_configure(1ull << 62, ut_dir, NULL, NULL);
	ut_put_bomb("small.gz", PK_Z_GZIP, 1000);
	fd = open_in("small.gz");
	cr_assert_eq(pf_expand_fd(fd, 0, NULL, NULL, &res, &e), PK_OK);
	close(fd);
	close(res.fd);
	cr_assert_eq(statvfs(ut_dir, &vfs), 0);
	size = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	margin =
	    size / 16 < PF_EXPAND_MARGIN_MAX ? size / 16 : PF_EXPAND_MARGIN_MAX;
	cr_expect(res.by_space);
	cr_expect_eq(res.margin, margin);
	cr_expect_eq(res.limit + res.margin, res.space);
	cr_expect_lt(res.limit, 1ull << 62);
}

Test(expand, messages, .init = setup, .fini = teardown)
{
	pf_zresult res;
	pk_err e;
	char msg[512];

	memset(&res, 0, sizeof(res));
	res.dir = "/c";
	res.limit = 46137344;
	res.space = 48234496;
	res.margin = 2097152;
	res.by_space = 1;
	pk_err_set(&e, PK_E_LIMIT, "expands past the limit", 812);
	pf_expand_describe("d/b.pkl.bz2", &e, &res, msg, sizeof(msg));
	cr_expect_str_eq(msg, "d/b.pkl.bz2: byte 812 of the compressed input: "
			      "expands past the limit of 44 MiB (the free "
			      "space of the cache folder /c, 46 MiB, less a "
			      "margin of 2 MiB; -o cache_dir=DIR picks "
			      "another folder)");
	/* a full disk: the errno and the folder */
	res.by_space = 0;
	res.sys_errno = ENOSPC;
	pk_err_set(&e, PK_E_IO, "write failed", 77);
	pf_expand_describe("a.gz", &e, &res, msg, sizeof(msg));
	cr_expect_str_eq(msg, "a.gz: byte 77 of the compressed input: write "
			      "failed (the cache file in /c): No space left "
			      "on device");
	/* out of memory while decompressing: an offset in the compressed
	 * input, said so */
	pk_err_set(&e, PK_E_NOMEM, "out of memory", 9);
	pf_expand_describe("a.gz", &e, &res, msg, sizeof(msg));
	cr_expect_str_eq(msg,
			 "a.gz: byte 9 of the compressed input: out of memory");
	pk_err_set(&e, PK_E_COMPRESS, "gzip CRC mismatch", 30);
	pf_expand_describe("a.gz", &e, &res, msg, sizeof(msg));
	cr_expect_str_eq(
	    msg, "a.gz: byte 30 of the compressed input: gzip CRC mismatch");
	/* pickletool's wording */
	pf_expand_configure(1u << 30, NULL, "--max-expand SIZE", NULL);
	res.limit = 1u << 30;
	pk_err_set(&e, PK_E_LIMIT, "expands past the limit", 5);
	pf_expand_describe("a.gz", &e, &res, msg, sizeof(msg));
	cr_expect_str_eq(msg, "a.gz: byte 5 of the compressed input: expands "
			      "past the limit of 1 GiB (--max-expand SIZE)");
}

Test(expand, size_text)
{
	char b[48];

	pf_expand_size_text(16ull << 30, b, sizeof(b));
	cr_expect_str_eq(b, "16 GiB");
	pf_expand_size_text(3u << 20, b, sizeof(b));
	cr_expect_str_eq(b, "3 MiB");
	pf_expand_size_text(1536, b, sizeof(b));
	cr_expect_str_eq(b, "1536 bytes");
	pf_expand_size_text(2048, b, sizeof(b));
	cr_expect_str_eq(b, "2 KiB");
	pf_expand_size_text(0, b, sizeof(b));
	cr_expect_str_eq(b, "0 bytes");
}

Test(expand, no_cache_folder, .init = setup, .fini = teardown)
{
	pf_zresult res;
	pk_err e;
	char msg[512];
	int fd;

	pf_expand_configure(0, "/nonexistent-pf-cache", NULL, NULL);
	ut_put_bomb("small.gz", PK_Z_GZIP, 10);
	fd = open_in("small.gz");
	cr_expect_eq(pf_expand_fd(fd, 0, NULL, NULL, &res, &e), PK_E_IO);
	close(fd);
	pf_expand_describe("small.gz", &e, &res, msg, sizeof(msg));
	cr_expect_str_eq(msg, "small.gz: byte 0 of the compressed input: "
			      "cannot create a cache file in "
			      "/nonexistent-pf-cache: No such file or "
			      "directory");
}

/* pickletool's open: streamed into a cache file, bounded; the report
 * tells the decompression's errors (compressed input) from the
 * decoder's (decompressed data). */
static char *report(const char *name, const pk_pickle_file *pf, const pk_err *e)
{
	static char buf[512];
	char path[256];
	int saved = dup(2), fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr", ut_dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	pk_pickle_file_report(name, pf, e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	buf[n > 0 ? n : 0] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

Test(expand, pickle_file_open, .init = setup, .fini = teardown)
{
	pk_pickle_file pf;
	pk_doc *doc = NULL;
	pk_err e;
	char path[256], want[512];
	pk_buf cut = PK_BUF_INIT;
	pk_zinfo zi;

	pf_expand_configure(1u << 20, ut_dir, "--max-expand SIZE", NULL);
	ut_put_bomb("bomb.bz2", PK_Z_BZIP2, 8u << 20);
	snprintf(path, sizeof(path), "%s/bomb.bz2", ut_dir);
	cr_expect_eq(pk_pickle_file_open(&pf, path, &e), PK_E_LIMIT);
	snprintf(want, sizeof(want),
		 "bomb.bz2: byte %llu of the compressed input: expands past "
		 "the limit of 1 MiB (--max-expand SIZE)",
		 (unsigned long long)e.offset);
	cr_expect_str_eq(report("bomb.bz2", &pf, &e), want);
	pk_pickle_file_close(&pf);

	ut_put_bomb("ok.gz", PK_Z_GZIP, 100);
	snprintf(path, sizeof(path), "%s/ok.gz", ut_dir);
	cr_assert_eq(pk_pickle_file_open(&pf, path, &e), PK_OK);
	cr_expect_eq(pf.len, 112);
	cr_expect_eq(pf.z.fmt, PK_Z_GZIP);
	cr_expect_eq(pk_decode(pf.data, pf.len, 0, &doc, &e), PK_OK);
	pk_doc_free(doc);
	pk_pickle_file_close(&pf);

	/* a pickle cut short inside a good gzip stream: decoder's offset */
	memset(&zi, 0, sizeof(zi));
	zi.fmt = PK_Z_GZIP;
	cr_assert_eq(pk_z_compress_mem(&zi, ut_alumnos4, 20, &cut, &e), PK_OK);
	ut_put("cut.gz", cut.data, cut.len);
	snprintf(path, sizeof(path), "%s/cut.gz", ut_dir);
	cr_assert_eq(pk_pickle_file_open(&pf, path, &e), PK_OK);
	cr_assert_neq(pk_decode(pf.data, pf.len, 0, &doc, &e), PK_OK);
	snprintf(want, sizeof(want),
		 "cut.gz: byte %llu of the decompressed data: %s",
		 (unsigned long long)e.offset, e.msg);
	cr_expect_str_eq(report("cut.gz", &pf, &e), want);
	cr_expect_leq(e.offset, 20);
	pk_pickle_file_close(&pf);
	pk_buf_release(&cut);
}

/* pickletool's open of xz, lzma-alone (named .lzma), zstd and zlib
 * pickles: decompressed into the cache file, a bomb stopped at the bound
 * with the same message as gzip's and bzip2's. */
Test(expand, xz_zstd_zlib_lzma, .init = setup, .fini = teardown)
{
	static const struct {
		const char *name;
		int fmt;
	} t[] = {{"b.pkl.xz", PK_Z_XZ},
		 {"b.lzma", PK_Z_LZMA},
		 {"b.zst", PK_Z_ZSTD},
		 {"b.z", PK_Z_ZLIB}};
	pk_pickle_file pf;
	pk_err e;
	char path[256], want[512];
	size_t i;

	pf_expand_configure(1u << 20, ut_dir, "--max-expand SIZE", NULL);
	for (i = 0; i < 4; i++) {
		ut_put_bomb(t[i].name, t[i].fmt, 8u << 20);
		snprintf(path, sizeof(path), "%s/%s", ut_dir, t[i].name);
		cr_expect_eq(pk_pickle_file_open(&pf, path, &e), PK_E_LIMIT,
			     "%s", t[i].name);
		cr_expect_eq(pf.z.fmt, t[i].fmt, "%s", t[i].name);
		snprintf(want, sizeof(want),
			 "%s: byte %llu of the compressed input: expands past "
			 "the limit of 1 MiB (--max-expand SIZE)",
			 t[i].name, (unsigned long long)e.offset);
		cr_expect_str_eq(report(t[i].name, &pf, &e), want);
		cr_expect_gt(e.offset, 0);
		pk_pickle_file_close(&pf);

		ut_put_bomb(t[i].name, t[i].fmt, 100);
		cr_assert_eq(pk_pickle_file_open(&pf, path, &e), PK_OK, "%s",
			     t[i].name);
		cr_expect_eq(pf.len, 112);
		cr_expect_eq(pf.z.fmt, t[i].fmt);
		pk_pickle_file_close(&pf);
	}
	cr_expect_eq(ut_count_files("picklefs-"), 0);
}
