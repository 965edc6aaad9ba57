/*
 * Unit tests of the read side of the mount core (vfs.h: fs/core/mount.c,
 * node.c, mirror.c, read.c, xattr.c) driven directly over a folder made
 * in a temporary directory: lookups, reads, readdir, xattrs, broken
 * pickles, and trees dropped by a tiny cache and parsed again.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cache.h"
#include "unit.h"
#include "vfs.h"

Test(read, folder_through_vfs, .init = ut_make_dir, .fini = ut_remove_dir)
{
	pf_fs_config cfg = {.source = ut_dir};
	pf_fs *fs;
	pf_inode *root, *al, *jose, *p0, *txt, *cut;
	struct stat st;
	pk_buf b = PK_BUF_INIT;
	char msg[256];

	ut_put("alumnos", ut_alumnos4, sizeof(ut_alumnos4));
	ut_put("p0.pkl", ut_alumnos0, sizeof(ut_alumnos0));
	ut_put("text.txt", "hello\n", 6);
	ut_put("cut.pkl", ut_alumnos4, sizeof(ut_alumnos4) - 3);
	cr_assert_eq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0, "%s", msg);
	root = pf_fs_root(fs);

	al = ut_look(fs, root, "alumnos", &st);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_size, 3);
	cr_assert_eq(st.st_nlink, 2);
	jose = ut_look(fs, al, "Jose", &st);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_size, 2);
	cr_assert_str_eq(ut_read_all(fs, jose), "7\n");
	cr_assert_eq(pf_fs_getxattr(fs, jose, "user.pickle.type", &b), 0);
	cr_assert_eq(memcmp(b.data, "int", 3), 0);
	pk_buf_reset(&b);
	cr_assert_eq(pf_fs_getxattr(fs, jose, "user.pickle.keytype", &b), 0);
	cr_assert_eq(memcmp(b.data, "str", 3), 0);
	pk_buf_reset(&b);
	cr_assert_eq(pf_fs_getxattr(fs, jose, "user.nope", &b), ENODATA);

	cr_assert_str_eq(ut_list(fs, al), "./ ../ Jose Arnoldo Maria ");

	p0 = ut_look(fs, root, "p0.pkl", &st);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_str_eq(ut_read_all(fs, ut_look(fs, p0, "Arnoldo", &st)),
			 "8\n");

	txt = ut_look(fs, root, "text.txt", &st);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_str_eq(ut_read_all(fs, txt), "hello\n");

	/* a pickle cut short: its raw file */
	cut = ut_look(fs, root, "cut.pkl", &st);
	cr_assert_eq(cut->kind, PF_I_MIRROR_FILE);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_size, (off_t)sizeof(ut_alumnos4) - 3);

	cr_assert_eq(pf_fs_lookup(fs, al, "Pedro", &txt, &st), ENOENT);

	pk_buf_release(&b);
	pf_fs_free(fs);
}

/* Two copies of one pickle: the cache holds one tree of about T bytes
 * (a view fills some tables lazily: a tree parsed again may differ by a
 * few hundred bytes). With a limit of 1 byte, using b drops a's tree
 * (the total stays about T, where two trees are 2T, as the control test
 * below shows); reading a parses it again and drops b's. */
static void two_trees(uint64_t limit, uint64_t *one, uint64_t *after_b)
{
	pf_fs_config cfg = {.source = ut_dir};
	pf_fs *fs;
	pf_inode *root, *a, *b, *ja, *jb;
	struct stat st;
	char msg[256];

	ut_put("a.pkl", ut_alumnos4, sizeof(ut_alumnos4));
	ut_put("b.pkl", ut_alumnos4, sizeof(ut_alumnos4));
	pf_cache_set_limit(limit);
	cr_assert_eq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0, "%s", msg);
	root = pf_fs_root(fs);
	cr_assert_eq(pf_cache_total(), 0);
	a = ut_look(fs, root, "a.pkl", &st);
	ja = ut_look(fs, a, "Maria", &st);
	*one = pf_cache_total();
	cr_assert_gt(*one, 0, "a parsed tree is counted");
	b = ut_look(fs, root, "b.pkl", &st);
	jb = ut_look(fs, b, "Maria", &st);
	*after_b = pf_cache_total();
	/* whatever was dropped, reading gives the values */
	cr_assert_str_eq(ut_read_all(fs, ja), "10\n");
	if (limit == 1)
		cr_assert_lt(pf_cache_total(), *one + *one / 2,
			     "reading a again: its tree alone (%llu, one %llu, "
			     "after b %llu)",
			     (unsigned long long)pf_cache_total(),
			     (unsigned long long)*one,
			     (unsigned long long)*after_b);
	cr_assert_str_eq(ut_read_all(fs, jb), "10\n");
	cr_assert_eq(pf_fs_getattr(fs, ja, &st), 0);
	cr_assert_eq(st.st_size, 3);
	pf_cache_set_limit(512ull << 20);
	pf_fs_free(fs);
	cr_assert_eq(pf_cache_total(), 0, "unmount releases every tree");
}

Test(read, trees_dropped_by_the_cache_come_back, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	uint64_t one, after_b;

	two_trees(1, &one, &after_b);
	cr_assert_lt(after_b, one + one / 2,
		     "a's tree was dropped when b's was used (%llu, one %llu)",
		     (unsigned long long)after_b, (unsigned long long)one);
}

Test(read, trees_stay_under_the_limit, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	uint64_t one, after_b;

	two_trees(512ull << 20, &one, &after_b);
	cr_assert_geq(after_b, one + one / 2,
		      "both trees are kept (%llu, one %llu)",
		      (unsigned long long)after_b, (unsigned long long)one);
}

Test(read, broken_file_source_says_where, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	char path[128], msg[256];
	pf_fs_config cfg = {.source = path};
	pf_fs *fs;

	ut_put("bad.pkl", ut_alumnos4, 20);
	snprintf(path, sizeof(path), "%s/bad.pkl", ut_dir);
	cr_assert_neq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "bad.pkl: byte "), "%s", msg);
}
