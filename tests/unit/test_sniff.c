/*
 * Unit tests of sniffing (fs/core/sniff.c): which files of a folder are
 * pickles, by their content first and their name for protocols 0 and 1.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

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
	kind = pf_sniff(fd, (uint64_t)st.st_size, name, zfmt);
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
