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
