/*
 * Unit tests of editor scratch files (fs/core/scratch.c, and the rename
 * rules of change.c for them) through vfs.h: the name rule (README,
 * "Editors and atomic writers"), files that live in memory only, are
 * found by their name (lookup) but not listed (readdir shows the
 * pickle's entries only), never reach the pickle, and a scratch file
 * renamed onto an entry,
 * whose content becomes the entry's value with the entry's type and
 * place.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "unit.h"
#include "vfs.h"
#include "vfs_internal.h"

Test(scratch, the_name_rule)
{
	static const char *yes[] = {
	    "Jose~",	 "x~",	     "4913",	 ".Jose.swp",	".Jose.swx",
	    ".Jose.swo", ".J.swpx",  ".#Jose",	 "#Jose#",	"sedAb12_z",
	    "sed000000", "XXab12CD", "XX______", "tmpa1b2c3d4", "tmp_______x"};
	static const char *no[] = {"Jose",	  "4914",	"49130",
				   "Jose.swp",	  ".swp",	"sedAb12",
				   "sedAb12345",  "sedAb1-2z",	"XXab12C",
				   "xxab12CD",	  "tmpa1b2c3d", "tmpa1b2c3d45",
				   "tmpa1b2c3.4", "#Jose",	"#",
				   "~Jose",	  "",		"sed",
				   "XX",	  "tmp"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert(vfs_scratch_name(yes[i]), "%s is a scratch name",
			  yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert(!vfs_scratch_name(no[i]), "%s is not", no[i]);
}

struct mount {
	pf_fs *fs;
	pf_inode *al;
};

static struct mount mount_alumnos(void)
{
	pf_fs_config cfg = {.source = ut_dir};
	struct mount m;
	struct stat st;
	char msg[256];

	ut_put("alumnos", ut_alumnos4, sizeof(ut_alumnos4));
	cr_assert_eq(pf_fs_new(&cfg, &m.fs, msg, sizeof(msg)), 0, "%s", msg);
	m.al = ut_look(m.fs, pf_fs_root(m.fs), "alumnos", &st);
	return m;
}

/* create + write + close, as sed -i writes its temporary file */
static pf_inode *scratch_file(struct mount *m, const char *name,
			      const char *text)
{
	pf_inode *in;
	pf_file *f;
	struct stat st;

	cr_assert_eq(
	    pf_fs_create(m->fs, m->al, name, O_WRONLY | O_EXCL, &in, &st, &f),
	    0);
	cr_assert_eq(pf_fs_write(m->fs, f, 0, text, strlen(text)), 0);
	cr_assert_eq(pf_fs_flush(m->fs, f), 0);
	pf_fs_release(m->fs, f);
	return in;
}

Test(scratch, lives_in_memory_and_never_reaches_the_pickle, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	struct mount m = mount_alumnos();
	pf_inode *sc;
	struct stat st;

	sc = scratch_file(&m, "sedAB12cd", "anything at all\n");
	cr_assert(ut_file_is("alumnos", ut_alumnos4, sizeof(ut_alumnos4)),
		  "a scratch file changes nothing on disk");
	cr_assert_str_eq(ut_read_all(m.fs, sc), "anything at all\n");
	/* seen by its name, not listed (ls shows the pickle's entries) */
	cr_assert_str_eq(ut_list(m.fs, m.al), "./ ../ Jose Arnoldo Maria ");
	cr_assert_eq(
	    pf_fs_getattr(m.fs, ut_look(m.fs, m.al, "sedAB12cd", &st), &st), 0);
	cr_assert_eq(st.st_size, 16);
	/* removed: gone from the listing, still nothing on disk */
	cr_assert_eq(pf_fs_unlink(m.fs, m.al, "sedAB12cd"), 0);
	cr_assert_eq(pf_fs_lookup(m.fs, m.al, "sedAB12cd", &sc, &st), ENOENT);
	cr_assert_str_eq(ut_list(m.fs, m.al), "./ ../ Jose Arnoldo Maria ");
	cr_assert(ut_file_is("alumnos", ut_alumnos4, sizeof(ut_alumnos4)));
	pf_fs_free(m.fs);
}

/* sed -i: the temporary file takes the entry's name; the text is read
 * as the entry's type (int), in the entry's place: the pickle differs
 * from the original in that one byte. */
Test(scratch, renamed_onto_an_entry_takes_its_type_and_place,
     .init = ut_make_dir, .fini = ut_remove_dir)
{
	struct mount m = mount_alumnos();
	uint8_t want[sizeof(ut_alumnos4)];
	pf_inode *jose;
	struct stat st;

	scratch_file(&m, "sedAB12cd", "9\n");
	cr_assert_eq(pf_fs_rename(m.fs, m.al, "sedAB12cd", m.al, "Jose", 0), 0);
	memcpy(want, ut_alumnos4, sizeof(want));
	want[ALUMNOS4_JOSE] = 9;
	cr_assert(ut_file_is("alumnos", want, sizeof(want)));
	cr_assert_str_eq(ut_list(m.fs, m.al), "./ ../ Jose Arnoldo Maria ");
	jose = ut_look(m.fs, m.al, "Jose", &st);
	cr_assert_str_eq(ut_read_all(m.fs, jose), "9\n");
	/* text that is not an int: refused, nothing changes */
	scratch_file(&m, "tmpa1b2c3d4", "nine\n");
	cr_assert_eq(pf_fs_rename(m.fs, m.al, "tmpa1b2c3d4", m.al, "Jose", 0),
		     EINVAL);
	cr_assert(ut_file_is("alumnos", want, sizeof(want)));
	cr_assert_str_eq(ut_read_all(m.fs, jose), "9\n");
	cr_assert_eq(ut_count_files(".pkfs-"), 0);
	pf_fs_free(m.fs);
}

/* vim with backupcopy=no renames the file to name~ and writes a new
 * one: renaming an entry to a scratch name copies it and leaves the
 * entry where it is. */
Test(scratch, entry_renamed_to_a_scratch_name_is_copied, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	struct mount m = mount_alumnos();
	struct stat st;

	cr_assert_eq(pf_fs_rename(m.fs, m.al, "Arnoldo", m.al, "Arnoldo~", 0),
		     0);
	cr_assert(ut_file_is("alumnos", ut_alumnos4, sizeof(ut_alumnos4)));
	cr_assert_str_eq(ut_list(m.fs, m.al), "./ ../ Jose Arnoldo Maria ");
	cr_assert_str_eq(
	    ut_read_all(m.fs, ut_look(m.fs, m.al, "Arnoldo~", &st)), "8\n");
	cr_assert_str_eq(ut_read_all(m.fs, ut_look(m.fs, m.al, "Arnoldo", &st)),
			 "8\n");
	pf_fs_free(m.fs);
}
