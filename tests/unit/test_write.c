/*
 * Unit tests of the write side of the mount core (vfs.h: fs/core/write.c,
 * change.c, over source.c's write-back), driven without FUSE: a value
 * written through a handle, new keys, removal, renames, -o ro. After each
 * change the pickle on disk is checked: byte for byte where CPython's
 * bytes are known, else by decoding it again.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "unit.h"
#include "vfs.h"

/* writing through the core: a bad literal is refused at flush and the
 * file keeps its bytes; a good one is written back, and the pickle on
 * disk is what CPython writes for the edited dict */
Test(write, value_replaced_through_a_handle, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	pf_fs_config cfg = {.source = ut_dir};
	pf_fs *fs;
	pf_inode *al, *jose;
	pf_file *f;
	struct stat st;
	char msg[256];
	uint8_t want[sizeof(ut_alumnos4)];
	int keep = 0;

	ut_put("alumnos", ut_alumnos4, sizeof(ut_alumnos4));
	cr_assert_eq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0, "%s", msg);
	al = ut_look(fs, pf_fs_root(fs), "alumnos", &st);
	jose = ut_look(fs, al, "Jose", &st);
	cr_assert_eq(pf_fs_open(fs, jose, O_WRONLY | O_TRUNC, &f, &keep), 0);
	/* text that can never be an int is refused at write(); the start
	 * of one ("9e", a float's start) only at close() */
	cr_assert_eq(pf_fs_write(fs, f, 0, "nine\n", 5), EINVAL);
	cr_assert_eq(pf_fs_write(fs, f, 0, "9e\n", 3), 0);
	cr_assert_eq(pf_fs_flush(fs, f), EINVAL);
	cr_assert(ut_file_is("alumnos", ut_alumnos4, sizeof(ut_alumnos4)),
		  "a refused edit leaves the pickle as it was");
	cr_assert_eq(pf_fs_truncate(fs, jose, f, 0, &st), 0);
	cr_assert_eq(pf_fs_write(fs, f, 0, "9\n", 2), 0);
	cr_assert_eq(pf_fs_flush(fs, f), 0);
	pf_fs_release(fs, f);
	/* BININT1 9 where 7 was, nothing else changed */
	memcpy(want, ut_alumnos4, sizeof(want));
	want[ALUMNOS4_JOSE] = 9;
	cr_assert(ut_file_is("alumnos", want, sizeof(want)));
	cr_assert_str_eq(ut_read_all(fs, ut_look(fs, al, "Jose", &st)), "9\n");
	/* and back: the original bytes again */
	cr_assert_eq(ut_write_file(fs, jose, "7\n"), 0);
	cr_assert(ut_file_is("alumnos", ut_alumnos4, sizeof(ut_alumnos4)));
	cr_assert_eq(ut_count_files(".pkfs-"), 0, "no temporary file left");
	pf_fs_free(fs);
}

static char *disk_dict(const char *name);

/* handles the kernel never released (a RELEASE still in flight when the
 * session ended, a lazy unmount): unmount releases them, and a written
 * value not committed yet reaches the disk as it would at close, nothing
 * leaked (ASan's leak check runs on this test) */
Test(write, unreleased_handles_are_released_at_unmount, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	pf_fs_config cfg = {.source = ut_dir};
	pf_fs *fs;
	pf_inode *al, *jose, *in;
	pf_file *f, *r, *c;
	pf_dirh *d;
	struct stat st;
	char msg[256];
	uint8_t want[sizeof(ut_alumnos4)];
	int keep = 0;

	ut_put("alumnos", ut_alumnos4, sizeof(ut_alumnos4));
	cr_assert_eq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0, "%s", msg);
	al = ut_look(fs, pf_fs_root(fs), "alumnos", &st);
	jose = ut_look(fs, al, "Jose", &st);
	cr_assert_eq(pf_fs_open(fs, jose, O_WRONLY | O_TRUNC, &f, &keep), 0);
	cr_assert_eq(pf_fs_write(fs, f, 0, "9\n", 2), 0);
	cr_assert_eq(pf_fs_open(fs, jose, O_RDONLY, &r, &keep), 0);
	cr_assert_eq(pf_fs_opendir(fs, al, &d), 0);
	cr_assert_eq(pf_fs_create(fs, al, "Pedro", O_WRONLY, &in, &st, &c), 0);
	cr_assert(ut_file_is("alumnos", ut_alumnos4, sizeof(ut_alumnos4)),
		  "nothing is written before the handle is closed");
	cr_assert_eq(pf_fs_stop(fs), 0);
	memcpy(want, ut_alumnos4, sizeof(want));
	want[ALUMNOS4_JOSE] = 9;
	cr_assert(ut_file_is("alumnos", want, sizeof(want)) ||
		      strstr(disk_dict("alumnos"), "Jose=9 "),
		  "the write of the unreleased handle is on disk: %s",
		  disk_dict("alumnos"));
	pf_fs_free(fs);
}

/* The pickle on disk, decoded: the repr-like text of its top dict's
 * keys and values, "k=v k=v". */
static char *disk_dict(const char *name)
{
	static char out[512];
	size_t n, i;
	uint8_t *p = ut_slurp(name, &n);
	pk_doc *doc = NULL;
	pk_node *d;
	pk_err e;

	cr_assert_eq(pk_decode(p, n, 0, &doc, &e), PK_OK, "%s", e.msg);
	d = pk_val_node(doc->root);
	out[0] = '\0';
	for (i = 0; i + 1 < d->nkids; i += 2) {
		pk_buf b = PK_BUF_INIT;
		cr_assert_eq(pk_val_format(doc, d->kids[i], &b, &e), PK_OK);
		pk_buf_addc(&b, '=');
		if (pk_val_kind(d->kids[i + 1]) == PK_DICT)
			pk_buf_add(&b, "{}", 2); /* mkdir's: empty */
		else
			cr_assert_eq(pk_val_format(doc, d->kids[i + 1], &b, &e),
				     PK_OK);
		pk_buf_addc(&b, 0);
		strcat(out, i ? " " : "");
		strcat(out, (char *)b.data);
		pk_buf_release(&b);
	}
	pk_doc_free(doc);
	free(p);
	return out;
}

Test(write, keys_made_removed_and_renamed, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	pf_fs_config cfg = {.source = ut_dir};
	pf_fs *fs;
	pf_inode *al, *in;
	pf_file *f;
	struct stat st;
	char msg[256];

	ut_put("alumnos", ut_alumnos4, sizeof(ut_alumnos4));
	cr_assert_eq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0, "%s", msg);
	al = ut_look(fs, pf_fs_root(fs), "alumnos", &st);

	/* a new file is a new key at the end, typed by its content */
	cr_assert_eq(pf_fs_create(fs, al, "Pedro", O_WRONLY, &in, &st, &f), 0);
	cr_assert_eq(pf_fs_write(fs, f, 0, "5\n", 2), 0);
	cr_assert_eq(pf_fs_flush(fs, f), 0);
	pf_fs_release(fs, f);
	cr_assert_str_eq(disk_dict("alumnos"),
			 "Jose=7 Arnoldo=8 Maria=10 Pedro=5");
	/* mv in one directory: the key changes, its place does not */
	cr_assert_eq(pf_fs_rename(fs, al, "Arnoldo", al, "Arnie", 0), 0);
	cr_assert_str_eq(disk_dict("alumnos"),
			 "Jose=7 Arnie=8 Maria=10 Pedro=5");
	/* mv over an existing key: its type and place, the other's value */
	cr_assert_eq(pf_fs_rename(fs, al, "Pedro", al, "Jose", 0), 0);
	cr_assert_str_eq(disk_dict("alumnos"), "Jose=5 Arnie=8 Maria=10",
			 "got %s", disk_dict("alumnos"));
	/* rm */
	cr_assert_eq(pf_fs_unlink(fs, al, "Maria"), 0);
	cr_assert_str_eq(disk_dict("alumnos"), "Jose=5 Arnie=8");
	cr_assert_eq(pf_fs_unlink(fs, al, "Maria"), ENOENT);
	/* mkdir: an empty dict */
	cr_assert_eq(pf_fs_mkdir(fs, al, "sub", &in, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_str_eq(disk_dict("alumnos"), "Jose=5 Arnie=8 sub={}");
	cr_assert_str_eq(ut_list(fs, al), "./ ../ Jose Arnie sub/ ");
	cr_assert_eq(ut_count_files(".pkfs-"), 0);
	pf_fs_free(fs);
}

/* -o ro: every change is refused and the file is never written. */
Test(write, read_only_refuses_writes, .init = ut_make_dir,
     .fini = ut_remove_dir)
{
	pf_fs_config cfg = {.source = ut_dir, .ro = 1};
	pf_fs *fs;
	pf_inode *al, *jose, *in;
	pf_file *f = NULL;
	struct stat st;
	char msg[256];
	int keep = 0;

	ut_put("alumnos", ut_alumnos4, sizeof(ut_alumnos4));
	cr_assert_eq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0, "%s", msg);
	al = ut_look(fs, pf_fs_root(fs), "alumnos", &st);
	jose = ut_look(fs, al, "Jose", &st);
	cr_assert_eq(st.st_mode & 0222, 0);
	cr_assert_eq(pf_fs_open(fs, jose, O_WRONLY, &f, &keep), EROFS);
	cr_assert_eq(pf_fs_create(fs, al, "Pedro", O_WRONLY, &in, &st, &f),
		     EROFS);
	cr_assert_eq(pf_fs_unlink(fs, al, "Jose"), EROFS);
	cr_assert_eq(pf_fs_mkdir(fs, al, "d", &in, &st), EROFS);
	cr_assert_eq(pf_fs_rename(fs, al, "Jose", al, "J", 0), EROFS);
	cr_assert(ut_file_is("alumnos", ut_alumnos4, sizeof(ut_alumnos4)));
	pf_fs_free(fs);
}
