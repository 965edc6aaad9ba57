/*
 * Unit tests of sniffing (fs/core/sniff.c): which files of a folder are
 * pickles, by their content first and their name for protocols 0 and 1.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress.h"
#include "sniff.h"
#include "unit.h"

static int sniff_of(const char *name, int *zfmt)
{
	char path[256];
	struct stat st;
	int fd, kind;

	snprintf(path, sizeof(path), "%s/%s", ut_dir, name);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	fstat(fd, &st);
	kind = pf_sniff(fd, (uint64_t)st.st_size, name, zfmt, NULL);
	close(fd);
	return kind;
}

Test(sniff, by_content_and_name, .init = ut_make_dir, .fini = ut_remove_dir)
{
	int z;

	ut_put("alumnos", ut_alumnos4, sizeof(ut_alumnos4));
	ut_put("cut", ut_alumnos4, sizeof(ut_alumnos4) - 3);
	ut_put("p0.pkl", ut_alumnos0, sizeof(ut_alumnos0));
	ut_put("p0", ut_alumnos0, sizeof(ut_alumnos0));
	ut_put("text.txt", "hello\n", 6);
	ut_put("empty.pkl", "", 0);
	cr_assert_eq(sniff_of("alumnos", &z), PF_SNIFF_PICKLE);
	cr_assert_eq(z, 0);
	cr_assert_eq(sniff_of("cut", &z), PF_SNIFF_CUT);
	cr_assert_eq(sniff_of("p0.pkl", &z), PF_SNIFF_PICKLE);
	cr_assert_eq(sniff_of("p0", &z), PF_SNIFF_MAYBE);
	cr_assert_eq(sniff_of("text.txt", &z), PF_SNIFF_NO);
	cr_assert_eq(sniff_of("empty.pkl", &z), PF_SNIFF_NO);
	cr_assert(pf_name_says_pickle("x.pkl.gz"));
	cr_assert(pf_name_says_pickle("x.PICKLE"));
	cr_assert(pf_name_says_pickle("dir/x.p.bz2"));
	cr_assert(!pf_name_says_pickle("x.gz"));
	cr_assert(!pf_name_says_pickle("pkl"));
}

/* data compressed as fmt (enum pk_zfmt), with the writer's defaults */
static void put_z(const char *name, int fmt, const void *data, size_t n)
{
	pk_zinfo zi;
	pk_buf out = PK_BUF_INIT;
	pk_err e;

	memset(&zi, 0, sizeof(zi));
	zi.fmt = fmt;
	cr_assert_eq(pk_z_compress_mem(&zi, data, n, &out, &e), PK_OK);
	ut_put(name, out.data, out.len);
	pk_buf_release(&out);
}

/* xz, zstd, zlib by content, whatever the name; lzma-alone (no magic)
 * when named .lzma */
Test(sniff, xz_zstd_zlib_lzma, .init = ut_make_dir, .fini = ut_remove_dir)
{
	int z;

	put_z("a", PK_Z_XZ, ut_alumnos4, sizeof(ut_alumnos4));
	put_z("b", PK_Z_ZSTD, ut_alumnos4, sizeof(ut_alumnos4));
	put_z("c", PK_Z_ZLIB, ut_alumnos4, sizeof(ut_alumnos4));
	put_z("d.lzma", PK_Z_LZMA, ut_alumnos4, sizeof(ut_alumnos4));
	put_z("d", PK_Z_LZMA, ut_alumnos4, sizeof(ut_alumnos4));
	put_z("p0.pkl.z", PK_Z_ZLIB, ut_alumnos0, sizeof(ut_alumnos0));
	put_z("p0z", PK_Z_ZLIB, ut_alumnos0, sizeof(ut_alumnos0));
	cr_expect_eq(sniff_of("a", &z), PF_SNIFF_PICKLE);
	cr_expect_eq(z, PK_Z_XZ);
	cr_expect_eq(sniff_of("b", &z), PF_SNIFF_PICKLE);
	cr_expect_eq(z, PK_Z_ZSTD);
	cr_expect_eq(sniff_of("c", &z), PF_SNIFF_PICKLE);
	cr_expect_eq(z, PK_Z_ZLIB);
	cr_expect_eq(sniff_of("d.lzma", &z), PF_SNIFF_PICKLE);
	cr_expect_eq(z, PK_Z_LZMA);
	/* its first byte 0x5d is EMPTY_LIST: only a whole parse (which
	 * fails) could make it a pickle */
	cr_expect_eq(sniff_of("d", &z), PF_SNIFF_MAYBE);
	cr_expect_eq(z, PK_Z_NONE);
	cr_expect_eq(sniff_of("p0.pkl.z", &z), PF_SNIFF_PICKLE);
	cr_expect_eq(z, PK_Z_ZLIB);
	cr_expect_eq(sniff_of("p0z", &z), PF_SNIFF_MAYBE);
	cr_expect_eq(z, PK_Z_ZLIB);
	cr_expect(pf_name_says_pickle("x.pkl.xz"));
	cr_expect(pf_name_says_pickle("x.pkl.lzma"));
	cr_expect(pf_name_says_pickle("x.pkl.zst"));
	cr_expect(pf_name_says_pickle("x.pickle.zstd"));
	cr_expect(pf_name_says_pickle("x.pkl.z"));
	cr_expect(!pf_name_says_pickle("x.z"));
}

/* A file that starts like a zlib header (0x78 and a byte that passes the
 * check) is not taken for one unless it inflates to a pickle's start:
 * random bytes, text ("x^2 + 1"), a zlib stream of text. An lzma-alone
 * header named .lzma that does not decode to a pickle is not one. */
Test(sniff, no_false_zlib, .init = ut_make_dir, .fini = ut_remove_dir)
{
	uint8_t rnd[2048];
	const char text[] = "x^2 + 1 = 0\n";
	const char words[] = "hello, world: not a pickle\n";
	size_t i;
	unsigned seed = 12345;
	int z, second[] = {0x01, 0x5e, 0x9c, 0xda};

	for (i = 0; i < 4; i++) {
		size_t k;
		char name[32];
		rnd[0] = 0x78;
		rnd[1] = (uint8_t)second[i];
		for (k = 2; k < sizeof(rnd); k++)
			rnd[k] =
			    (uint8_t)((seed = seed * 1103515245 + 12345) >> 16);
		snprintf(name, sizeof(name), "random%zu", i);
		ut_put(name, rnd, sizeof(rnd));
		cr_expect_eq(pk_z_detect(rnd, 2), PK_Z_ZLIB);
		cr_expect_eq(sniff_of(name, &z), PF_SNIFF_NO, "%s", name);
		cr_expect_eq(z, PK_Z_NONE, "%s", name);
	}
	ut_put("formula", text, sizeof(text) - 1);
	cr_expect_eq(pk_z_detect((const uint8_t *)text, 2), PK_Z_ZLIB);
	cr_expect_eq(sniff_of("formula", &z), PF_SNIFF_NO);
	cr_expect_eq(z, PK_Z_NONE);
	put_z("text.z", PK_Z_ZLIB, words, sizeof(words) - 1);
	cr_expect_eq(sniff_of("text.z", &z), PF_SNIFF_NO);
	cr_expect_eq(z, PK_Z_NONE);
	put_z("text.lzma", PK_Z_LZMA, words, sizeof(words) - 1);
	cr_expect_eq(sniff_of("text.lzma", &z), PF_SNIFF_MAYBE); /* 0x5d */
	cr_expect_eq(z, PK_Z_NONE);
}

/* archives: a tar (plain or in a compressed stream) and a zip are
 * PF_SNIFF_ARCHIVE; data of other formats is no pickle but says what it
 * is (the reason in user.pickle.error); the memory variant agrees */
Test(sniff, archives_and_data_kinds, .init = ut_make_dir, .fini = ut_remove_dir)
{
	uint8_t tar[1024], zip[64], h5[64], npy[128], st[64];
	const char *what = "x";
	int z, kind;
	size_t i;
	unsigned sum = 0;

	memset(tar, 0, sizeof(tar));
	memcpy(tar, "a.pkl", 5);
	memcpy(tar + 100, "0000644", 7);
	memcpy(tar + 124, "00000000000", 11);
	tar[156] = '0';
	memcpy(tar + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(tar + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += tar[i];
	snprintf((char *)tar + 148, 8, "%06o", sum);
	ut_put("t.tar", tar, sizeof(tar));
	put_z("t.tar.gz", PK_Z_GZIP, tar, sizeof(tar));
	put_z("t.tar.zst", PK_Z_ZSTD, tar, sizeof(tar));
	memset(zip, 0, sizeof(zip));
	memcpy(zip, "PK\3\4", 4);
	ut_put("z.zip", zip, sizeof(zip));
	memset(h5, 0, sizeof(h5));
	memcpy(h5, "\x89HDF\r\n\x1a\n", 8);
	ut_put("model.h5", h5, sizeof(h5));
	memset(npy, ' ', sizeof(npy));
	memcpy(npy, "\x93NUMPY\1\0", 8);
	ut_put("a.npy", npy, sizeof(npy));
	memset(st, ' ', sizeof(st));
	memcpy(st, "\x20\0\0\0\0\0\0\0{\"w\":", 13);
	ut_put("m.safetensors", st, sizeof(st));

	cr_assert_eq(sniff_of("t.tar", &z), PF_SNIFF_ARCHIVE);
	cr_assert_eq(z, PK_Z_NONE);
	cr_assert_eq(sniff_of("t.tar.gz", &z), PF_SNIFF_ARCHIVE);
	cr_assert_eq(z, PK_Z_GZIP);
	cr_assert_eq(sniff_of("t.tar.zst", &z), PF_SNIFF_ARCHIVE);
	cr_assert_eq(z, PK_Z_ZSTD);
	cr_assert_eq(sniff_of("z.zip", &z), PF_SNIFF_ARCHIVE);
	kind = pf_sniff_mem(tar, sizeof(tar), "member", &z, &what);
	cr_assert_eq(kind, PF_SNIFF_ARCHIVE);
	cr_assert_null(what);
	kind = pf_sniff_mem(h5, sizeof(h5), "model.h5", &z, &what);
	cr_assert_eq(kind, PF_SNIFF_NO);
	cr_assert_str_eq(what, "HDF5 file");
	kind = pf_sniff_mem(npy, sizeof(npy), "a.npy", &z, &what);
	cr_assert_eq(kind, PF_SNIFF_NPY, "a .npy file is an array");
	kind = pf_sniff_mem(st, sizeof(st), "m.safetensors", &z, &what);
	cr_assert_eq(kind, PF_SNIFF_NO);
	cr_assert_str_eq(what, "safetensors file");
	kind = pf_sniff_mem((const uint8_t *)"hello\n", 6, "t.txt", &z, &what);
	cr_assert_eq(kind, PF_SNIFF_NO);
	cr_assert_null(what, "plain text is not data of a known format");
	kind = pf_sniff_mem(ut_alumnos4, sizeof(ut_alumnos4), "m", &z, &what);
	cr_assert_eq(kind, PF_SNIFF_PICKLE, "memory and file agree");
}
