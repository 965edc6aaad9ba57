/*
 * Unit tests of fs/core/beneath.c: paths inside SOURCE are resolved
 * beneath the source folder and never through a symlink, with openat2
 * and with the component-by-component walk used without it; and the
 * write-back (pickle_file.c) of a pickle whose folder was swapped for a
 * symlink writes nothing anywhere.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "beneath.h"
#include "pickle_file.h"
#include "unit.h"

static int dfd = -1;
static char outside[64]; /* a folder outside the source folder */

/* ut_dir: d/f ("x"), d/sub/g, lf -> d/f, ld -> d, abs -> OUTSIDE,
 * out/ -> OUTSIDE/secret */
static void setup(void)
{
	char path[256];

	ut_make_dir();
	snprintf(outside, sizeof(outside), "/tmp/pf-outside-XXXXXX");
	cr_assert(mkdtemp(outside));
	dfd = open(ut_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(mkdirat(dfd, "d", 0755), 0);
	cr_assert_eq(mkdirat(dfd, "d/sub", 0755), 0);
	ut_put("d/f", "x", 1);
	ut_put("d/sub/g", "g", 1);
	cr_assert_eq(symlinkat("d/f", dfd, "lf"), 0);
	cr_assert_eq(symlinkat("d", dfd, "ld"), 0);
	snprintf(path, sizeof(path), "%s/secret", outside);
	cr_assert_eq(symlinkat(path, dfd, "abs"), 0);
	cr_assert_eq(symlinkat(outside, dfd, "out"), 0);
	pf_beneath_use_openat2(1);
}

static void teardown(void)
{
	char cmd[128];

	pf_beneath_use_openat2(1);
	close(dfd);
	ut_remove_dir();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", outside);
	cr_assert_eq(system(cmd), 0);
}

static int open_errno(const char *path, int flags)
{
	int fd = pf_beneath_open(dfd, path, flags);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

/* the rule, for one way of resolving */
static void check_rule(void)
{
	struct stat st;
	char buf[64];
	const char *name = NULL;
	ssize_t n;
	int fd;

	cr_assert_eq(open_errno("d/f", O_RDONLY), 0);
	cr_assert_eq(open_errno("d/sub/g", O_RDONLY), 0);
	cr_assert_eq(open_errno(".", O_RDONLY | O_DIRECTORY), 0);
	cr_assert_eq(open_errno("d//sub/", O_RDONLY | O_DIRECTORY), 0);
	/* a symlink anywhere on the way is not followed */
	cr_assert_eq(open_errno("lf", O_RDONLY), ELOOP);
	cr_assert_eq(open_errno("ld/f", O_RDONLY), ELOOP);
	cr_assert_eq(open_errno("ld/sub/g", O_RDONLY), ELOOP);
	cr_assert_eq(open_errno("ld", O_RDONLY | O_DIRECTORY), ELOOP);
	cr_assert_eq(open_errno("abs", O_RDONLY), ELOOP);
	cr_assert_eq(open_errno("out/secret", O_RDONLY), ELOOP);
	/* nor a way out */
	cr_assert_eq(open_errno("..", O_RDONLY | O_DIRECTORY), EXDEV);
	cr_assert_eq(open_errno("d/../../x", O_RDONLY), EXDEV);
	cr_assert_eq(open_errno("/etc/passwd", O_RDONLY), EXDEV);
	cr_assert_eq(open_errno("d/f", O_RDONLY | O_CREAT), EINVAL);

	/* stat describes a symlink, it does not follow it */
	cr_assert_eq(pf_beneath_stat(dfd, "lf", &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	cr_assert_eq(pf_beneath_stat(dfd, "abs", &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	cr_assert_eq(pf_beneath_stat(dfd, "d/f", &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_size, 1);
	cr_assert_eq(pf_beneath_stat(dfd, ".", &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(pf_beneath_stat(dfd, "ld/f", &st), -1);
	cr_assert_eq(errno, ELOOP);
	cr_assert_eq(pf_beneath_stat(dfd, "d/nothing", &st), -1);
	cr_assert_eq(errno, ENOENT);

	/* readlink gives the link's own text */
	n = pf_beneath_readlink(dfd, "lf", buf, sizeof(buf));
	cr_assert_eq(n, 3);
	cr_assert(memcmp(buf, "d/f", 3) == 0);
	cr_assert_eq(pf_beneath_readlink(dfd, "ld/lf", buf, sizeof(buf)), -1);

	/* the parent folder and the last name */
	fd = pf_beneath_parent(dfd, "d/sub/g", &name);
	cr_assert_geq(fd, 0);
	cr_assert_str_eq(name, "g");
	cr_assert_eq(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert(S_ISREG(st.st_mode));
	close(fd);
	fd = pf_beneath_parent(dfd, "lf", &name);
	cr_assert_geq(fd, 0);
	cr_assert_str_eq(name, "lf");
	close(fd);
	cr_assert_eq(pf_beneath_parent(dfd, "ld/f", &name), -1);
	cr_assert_eq(errno, ELOOP);
	cr_assert_eq(pf_beneath_parent(dfd, "out/secret", &name), -1);
	cr_assert_eq(errno, ELOOP);
	cr_assert_eq(pf_beneath_parent(dfd, ".", &name), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(pf_beneath_parent(dfd, "d/..", &name), -1);
	cr_assert_eq(errno, EINVAL);
}

Test(beneath, rule_with_openat2, .init = setup, .fini = teardown)
{
	check_rule();
}

Test(beneath, rule_without_openat2, .init = setup, .fini = teardown)
{
	pf_beneath_use_openat2(0);
	check_rule();
}

/* entries of the folder path */
static int entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	cr_assert(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* The folder of a pickle is swapped for a symlink to a folder outside:
 * the write-back writes nothing, there or anywhere. */
static void check_swapped_folder(void)
{
	ut_doc f = ut_open_doc(ut_alumnos4, sizeof(ut_alumnos4));
	pk_zinfo z;
	pk_err e;
	struct stat before;
	char path[256];

	memset(&z, 0, sizeof(z));
	ut_put("d/al.pkl", ut_alumnos4, sizeof(ut_alumnos4));
	cr_assert_eq(fstatat(dfd, "d/al.pkl", &before, 0), 0);
	cr_assert_eq(renameat(dfd, "d", dfd, "d.real"), 0);
	cr_assert_eq(symlinkat(outside, dfd, "d"), 0);
	/* something named like the pickle there, to be replaced */
	snprintf(path, sizeof(path), "%s/al.pkl", outside);
	cr_assert_eq(linkat(dfd, "d.real/al.pkl", AT_FDCWD, path, 0), 0);

	cr_assert_eq(pk_pickle_file_replace_at(dfd, "d/al.pkl", &before, &z,
					       f.doc, NULL, &e),
		     ELOOP);
	cr_assert_eq(pk_pickle_file_replace_at(dfd, "d/al.pkl", NULL, &z, f.doc,
					       NULL, &e),
		     ELOOP);
	cr_assert_eq(entries(outside), 1, "nothing new outside");
	cr_assert_eq(fstatat(AT_FDCWD, path, &before, 0), 0);
	cr_assert_eq(before.st_nlink, 2, "the file outside is not replaced");
	/* a symlink as the pickle itself is not replaced either */
	cr_assert_eq(symlinkat(path, dfd, "d.real/ln.pkl"), 0);
	cr_assert_eq(pk_pickle_file_replace_at(dfd, "d.real/ln.pkl", NULL, &z,
					       f.doc, NULL, &e),
		     ELOOP);
	cr_assert_eq(
	    fstatat(dfd, "d.real/ln.pkl", &before, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert(S_ISLNK(before.st_mode));
	cr_assert_eq(entries(outside), 1);
	snprintf(path, sizeof(path), "%s/d.real", ut_dir);
	cr_assert_eq(entries(path), 4,
		     "f, sub, al.pkl, ln.pkl: no temporary file");
	ut_close_doc(&f);
}

Test(beneath, writeback_through_swapped_folder, .init = setup, .fini = teardown)
{
	check_swapped_folder();
}

Test(beneath, writeback_through_swapped_folder_without_openat2, .init = setup,
     .fini = teardown)
{
	pf_beneath_use_openat2(0);
	check_swapped_folder();
}

/* A seccomp filter like older container runtimes': openat2 answers
 * EPERM (the call itself is refused), everything else is allowed. The
 * filter stays with this test's process (Criterion runs each test in a
 * process of its own). */
static void block_openat2(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		     offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & 0xffff)),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};

	cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	cr_assert_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
}

Test(beneath, a_seccomp_filter_blocking_openat2_falls_back_to_the_walk,
     .init = setup, .fini = teardown)
{
	int fd;

	block_openat2();
	pf_beneath_use_openat2(1); /* not known yet: asked at the first call */
	fd = pf_beneath_open(dfd, "d/sub/g", O_RDONLY);
	cr_assert_geq(fd, 0, "open through the walk: %s", strerror(errno));
	close(fd);
	/* and the walk keeps the rule */
	cr_assert_eq(open_errno("ld/f", O_RDONLY), ELOOP);
	cr_assert_eq(open_errno("lf", O_RDONLY), ELOOP);
}
