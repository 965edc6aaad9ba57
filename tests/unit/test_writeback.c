/*
 * Unit tests of the write-back (fs/core/source.c over fs/core/pickle_file.c),
 * driven through the source layer without FUSE: a source is loaded, the
 * file on disk is changed behind its back (replaced, rewritten in place,
 * removed), then the edit is committed. The commit must refuse (EAGAIN,
 * ENOENT, ESTALE for pending edits) and leave the other program's file
 * exactly as it wrote it, with no temporary file left.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pickle_file.h"
#include "source.h"

/* {'Jose': 7, 'Arnoldo': 8, 'Maria': 10}, protocol 4, as CPython writes
 * it; and the same with Jose 9 (same length) */
static const uint8_t al7[] = {
    128, 4,   149, 36,	0,   0,	 0,  0,	  0,   0,  0,	125, 148, 40,  140, 4,
    74,	 111, 115, 101, 148, 75, 7,  140, 7,   65, 114, 110, 111, 108, 100, 111,
    148, 75,  8,   140, 5,   77, 97, 114, 105, 97, 148, 75,  10,  117, 46};
#define JOSE_AT 22 /* offset of the 7 */

static char dir[64];
static int dfd = -1;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pf-wb-XXXXXX");
	cr_assert(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0);
	pf_log_set_quiet(1);
}

static void teardown(void)
{
	char cmd[128];

	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void put(const char *name, const void *data, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	cr_assert(f);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

/* The file's bytes equal data. */
static int holds(const char *name, const void *data, size_t n)
{
	char path[256], buf[4096];
	FILE *f;
	size_t got;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return 0;
	got = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return got == n && memcmp(buf, data, n) == 0;
}

static int count_temps(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	cr_assert(d);
	while ((de = readdir(d)))
		n += pk_pickle_file_is_temp(de->d_name);
	closedir(d);
	return n;
}

/* A loaded source of al.pkl; its once-a-second look at the disk is put
 * off, so that only the write-back's own check can see a change. */
static pf_source *loaded(void)
{
	pf_source *s = pf_source_new(dfd, "al.pkl", "al.pkl");
	pk_err e = {0, NULL, 0};

	cr_assert(s);
	s->writable = 1;
	cr_assert_eq(pf_source_load_now(s, 0, &e), 0);
	return s;
}

static void hold_off_refresh(pf_source *s)
{
	pthread_mutex_lock(&s->lock);
	s->checked.tv_sec += 1000;
	pthread_mutex_unlock(&s->lock);
}

/* Commits the (unchanged) doc as an edit would, lock taken and left. */
static int commit(pf_source *s, unsigned delay)
{
	int rc;

	hold_off_refresh(s);
	cr_assert_eq(pf_source_enter(s), 0);
	rc = pf_source_commit(s, delay);
	pf_source_leave(s);
	return rc;
}

Test(writeback, unchanged_file_is_replaced, .init = setup, .fini = teardown)
{
	pf_source *s;
	struct stat a, b;

	put("al.pkl", al7, sizeof(al7));
	s = loaded();
	cr_assert_eq(fstatat(dfd, "al.pkl", &a, 0), 0);
	cr_assert_eq(commit(s, 0), 0);
	cr_assert_eq(fstatat(dfd, "al.pkl", &b, 0), 0);
	cr_assert_neq(a.st_ino, b.st_ino, "a new file took the name");
	cr_assert(holds("al.pkl", al7, sizeof(al7)), "re-encoded identical");
	cr_assert_eq(count_temps(), 0);
	/* and again: the identity of our own write is the new base */
	cr_assert_eq(commit(s, 0), 0);
	pf_source_free(s);
}

Test(writeback, replaced_file_survives, .init = setup, .fini = teardown)
{
	uint8_t theirs[sizeof(al7)];
	pf_source *s;

	put("al.pkl", al7, sizeof(al7));
	s = loaded();
	memcpy(theirs, al7, sizeof(al7));
	theirs[JOSE_AT] = 9;
	put("theirs.tmp", theirs, sizeof(theirs));
	cr_assert_eq(renameat(dfd, "theirs.tmp", dfd, "al.pkl"), 0);
	cr_assert_eq(commit(s, 0), EAGAIN);
	cr_assert(holds("al.pkl", theirs, sizeof(theirs)), "their file intact");
	cr_assert_eq(count_temps(), 0);
	/* the source was reset: the next edit applies to their file */
	cr_assert_eq(pf_source_enter_edit(s), 0);
	cr_assert_eq(pf_source_commit(s, 0), 0);
	pf_source_leave(s);
	cr_assert(holds("al.pkl", theirs, sizeof(theirs)));
	pf_source_free(s);
}

Test(writeback, rewritten_in_place_survives, .init = setup, .fini = teardown)
{
	uint8_t nine = 9;
	pf_source *s;
	int fd;

	put("al.pkl", al7, sizeof(al7));
	s = loaded();
	usleep(10000); /* a later mtime, whatever the clock's granularity */
	fd = openat(dfd, "al.pkl", O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, &nine, 1, JOSE_AT), 1);
	close(fd);
	cr_assert_eq(commit(s, 0), EAGAIN);
	{
		uint8_t theirs[sizeof(al7)];
		memcpy(theirs, al7, sizeof(al7));
		theirs[JOSE_AT] = 9;
		cr_assert(holds("al.pkl", theirs, sizeof(theirs)));
	}
	cr_assert_eq(count_temps(), 0);
	pf_source_free(s);
}

Test(writeback, removed_file_is_not_created, .init = setup, .fini = teardown)
{
	pf_source *s;
	struct stat st;

	put("al.pkl", al7, sizeof(al7));
	s = loaded();
	cr_assert_eq(unlinkat(dfd, "al.pkl", 0), 0);
	cr_assert_eq(commit(s, 0), ENOENT);
	cr_assert_eq(fstatat(dfd, "al.pkl", &st, 0), -1);
	cr_assert_eq(count_temps(), 0);
	pf_source_free(s);
}

Test(writeback, pending_edit_loses_to_outside_change, .init = setup,
     .fini = teardown)
{
	uint8_t theirs[sizeof(al7)];
	pf_source *s;

	put("al.pkl", al7, sizeof(al7));
	s = loaded();
	cr_assert_eq(commit(s, 30), 0); /* -o writeback: pending */
	cr_assert(pf_source_pending(s));
	memcpy(theirs, al7, sizeof(al7));
	theirs[JOSE_AT] = 9;
	put("theirs.tmp", theirs, sizeof(theirs));
	cr_assert_eq(renameat(dfd, "theirs.tmp", dfd, "al.pkl"), 0);
	cr_assert_eq(pf_source_flush(s, 30, 1), ESTALE);
	cr_assert(!pf_source_pending(s), "the pending edit is dropped");
	cr_assert(holds("al.pkl", theirs, sizeof(theirs)));
	cr_assert_eq(pf_source_take_error(s), ESTALE);
	cr_assert_eq(pf_source_take_error(s), 0, "reported once");
	cr_assert_eq(count_temps(), 0);
	pf_source_free(s);
}

Test(writeback, sync_writes_pending_edits, .init = setup, .fini = teardown)
{
	pf_source *s;
	struct stat a, b;

	put("al.pkl", al7, sizeof(al7));
	s = loaded();
	cr_assert_eq(fstatat(dfd, "al.pkl", &a, 0), 0);
	cr_assert_eq(commit(s, 30), 0);
	cr_assert_eq(fstatat(dfd, "al.pkl", &b, 0), 0);
	cr_assert_eq(a.st_ino, b.st_ino, "not written at commit");
	cr_assert_eq(pf_source_sync(s), 0);
	cr_assert_eq(fstatat(dfd, "al.pkl", &b, 0), 0);
	cr_assert_neq(a.st_ino, b.st_ino, "written by sync");
	cr_assert(!pf_source_pending(s));
	pf_source_free(s);
}

Test(writeback, owner_and_mode_kept, .init = setup, .fini = teardown)
{
	pf_source *s;
	struct stat st;

	if (geteuid() != 0)
		cr_skip_test("needs root to give the file another owner");
	put("al.pkl", al7, sizeof(al7));
	cr_assert_eq(fchownat(dfd, "al.pkl", 1234, 2345, 0), 0);
	cr_assert_eq(fchmodat(dfd, "al.pkl", 0640, 0), 0);
	s = loaded();
	cr_assert_eq(commit(s, 0), 0);
	cr_assert_eq(fstatat(dfd, "al.pkl", &st, 0), 0);
	cr_assert_eq(st.st_uid, 1234);
	cr_assert_eq(st.st_gid, 2345);
	cr_assert_eq(st.st_mode & 07777, 0640);
	pf_source_free(s);
}

Test(writeback, temp_name_matcher)
{
	cr_assert(pk_pickle_file_is_temp(".al.pkl.pkfs-Ab12Cd"));
	cr_assert(pk_pickle_file_is_temp(".x.pkfs-000000"));
	cr_assert(!pk_pickle_file_is_temp("..pkfs-zzzzzz")); /* no NAME */
	cr_assert(!pk_pickle_file_is_temp(".pkfs-Ab12Cd"));
	cr_assert(!pk_pickle_file_is_temp(".al.pkl.pkfs-Ab12C"));
	cr_assert(!pk_pickle_file_is_temp(".al.pkl.pkfs-Ab12Cde"));
	cr_assert(!pk_pickle_file_is_temp(".al.pkl.pkfs-Ab12C_"));
	cr_assert(!pk_pickle_file_is_temp("al.pkl.pkfs-Ab12Cd"));
	cr_assert(!pk_pickle_file_is_temp(".al.pkl.picklefs-Ab12Cd"));
	cr_assert(!pk_pickle_file_is_temp(""));
}

Test(writeback, owner_that_cannot_be_kept_is_eperm, .init = setup,
     .fini = teardown)
{
	pf_source *s;
	struct stat st;

	if (geteuid() != 0)
		cr_skip_test("needs root to set up another owner");
	put("al.pkl", al7, sizeof(al7));
	/* the pickle belongs to 1234 and anyone may write it; we write as
	 * nobody, who cannot give a file away */
	cr_assert_eq(fchownat(dfd, "al.pkl", 1234, 1234, 0), 0);
	cr_assert_eq(fchmodat(dfd, "al.pkl", 0666, 0), 0);
	cr_assert_eq(fchown(dfd, 65534, 65534), 0);
	cr_assert_eq(setegid(65534), 0);
	cr_assert_eq(seteuid(65534), 0);
	s = loaded();
	cr_assert_eq(commit(s, 0), EPERM);
	cr_assert_eq(seteuid(0), 0);
	cr_assert_eq(setegid(0), 0);
	cr_assert_eq(fstatat(dfd, "al.pkl", &st, 0), 0);
	cr_assert_eq(st.st_uid, 1234, "the owner is not changed");
	cr_assert(holds("al.pkl", al7, sizeof(al7)));
	cr_assert_eq(count_temps(), 0);
	pf_source_free(s);
}
