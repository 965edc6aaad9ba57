/*
 * Unit tests of the FUSE-free mount core: sniffing (fs/core/sniff.c), sizes
 * (fs/core/cache.c), the pointer map, the inode table, and vfs.h driven
 * directly over a folder made in a temporary directory: lookups, reads,
 * readdir, broken pickles, xattrs, and trees dropped by a tiny cache.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "inode.h"
#include "log.h"
#include "ptrmap.h"
#include "sniff.h"
#include "vfs.h"

/* {'Jose': 7, 'Arnoldo': 8, 'Maria': 10}, protocols 4 and 0 */
static const uint8_t alumnos4[] = {
    128, 4,   149, 36,	0,   0,	 0,  0,	  0,   0,  0,	125, 148, 40,  140, 4,
    74,	 111, 115, 101, 148, 75, 7,  140, 7,   65, 114, 110, 111, 108, 100, 111,
    148, 75,  8,   140, 5,   77, 97, 114, 105, 97, 148, 75,  10,  117, 46};
static const uint8_t alumnos0[] = {40,	100, 112, 48,  10,  86,	 74,  111, 115,
				   101, 10,  112, 49,  10,  73,	 55,  10,  115,
				   86,	65,  114, 110, 111, 108, 100, 111, 10,
				   112, 50,  10,  73,  56,  10,	 115, 46};

static char dir[64];

static void put(const char *name, const void *data, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	cr_assert(f);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	fclose(f);
}

static int sniff_of(const char *name, int *zfmt)
{
	char path[256];
	struct stat st;
	int fd, kind;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	fstat(fd, &st);
	kind = pf_sniff(fd, (uint64_t)st.st_size, name, zfmt);
	close(fd);
	return kind;
}

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pf-unit-XXXXXX");
	cr_assert(mkdtemp(dir));
	pf_log_set_quiet(1);
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(fs_core, sniff_by_content_and_name, .init = make_dir, .fini = remove_dir)
{
	int z;

	put("alumnos", alumnos4, sizeof(alumnos4));
	put("cut", alumnos4, sizeof(alumnos4) - 3);
	put("p0.pkl", alumnos0, sizeof(alumnos0));
	put("p0", alumnos0, sizeof(alumnos0));
	put("text.txt", "hello\n", 6);
	put("empty.pkl", "", 0);
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

Test(fs_core, sizes)
{
	uint64_t v;

	cr_assert_eq(pf_parse_size("512M", &v), 0);
	cr_assert_eq(v, 512ull << 20);
	cr_assert_eq(pf_parse_size("2G", &v), 0);
	cr_assert_eq(v, 2ull << 30);
	cr_assert_eq(pf_parse_size("100k", &v), 0);
	cr_assert_eq(v, 100ull << 10);
	cr_assert_eq(pf_parse_size("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(pf_parse_size("1MiB", &v), 0);
	cr_assert_eq(v, 1ull << 20);
	cr_assert_eq(pf_parse_size("lots", &v), -1);
	cr_assert_eq(pf_parse_size("-1", &v), -1);
	cr_assert_eq(pf_parse_size("5X", &v), -1);
	cr_assert_eq(pf_parse_size("", &v), -1);
}

Test(fs_core, ptrmap)
{
	pf_ptrmap m;
	uint64_t v;
	int i, keys[1000];

	pf_ptrmap_init(&m);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(
		    pf_ptrmap_put(&m, &keys[i], (uint32_t)(i & 3), (uint64_t)i),
		    0);
	for (i = 0; i < 1000; i++) {
		cr_assert(pf_ptrmap_get(&m, &keys[i], (uint32_t)(i & 3), &v));
		cr_assert_eq(v, (uint64_t)i);
		cr_assert(!pf_ptrmap_get(&m, &keys[i], 7, &v));
	}
	pf_ptrmap_release(&m);
}

Test(fs_core, inode_lifetimes)
{
	pf_itable *t = pf_itable_new(PF_I_MIRROR_DIR, ".", NULL, 1);
	pf_inode *root = pf_itable_root(t), *a, *a2, *b;

	a = pf_itable_get(t, root, PF_I_MIRROR_DIR, "a", 0, NULL, 10);
	a2 = pf_itable_get(t, root, PF_I_MIRROR_DIR, "a", 0, NULL, 10);
	cr_assert_eq(a, a2, "a second lookup finds the same inode");
	cr_assert_str_eq(a->path, "a");
	b = pf_itable_get(t, a, PF_I_MIRROR_FILE, "b", 0, NULL, 11);
	cr_assert_str_eq(b->path, "a/b");
	cr_assert_eq(pf_itable_count(t), 2);
	/* the kernel forgets a first: b keeps it alive */
	pf_itable_forget(t, a, 2);
	cr_assert_eq(pf_itable_count(t), 2);
	pf_itable_forget(t, b, 1);
	cr_assert_eq(pf_itable_count(t), 0);
	cr_assert_neq(pf_value_ino(1, 0), pf_value_ino(1, 1));
	cr_assert_eq(pf_value_ino(5, 3), pf_value_ino(5, 3));
	pf_itable_free(t);
}

struct names {
	char all[1024];
	int n;
};

static int collect(void *ctx, const char *name, const struct stat *st,
		   uint64_t next)
{
	struct names *c = ctx;

	strcat(c->all, name);
	strcat(c->all, st && S_ISDIR(st->st_mode) ? "/ " : " ");
	c->n++;
	return 0;
}

static char *read_all(pf_fs *fs, pf_inode *in)
{
	static char out[256];
	pf_file *f;
	pf_span sp;
	int keep, i;
	size_t len = 0;

	cr_assert_eq(pf_fs_open(fs, in, O_RDONLY, &f, &keep), 0);
	cr_assert_eq(pf_fs_read(fs, f, 0, sizeof(out) - 1, &sp), 0);
	if (sp.fd >= 0) {
		ssize_t r = pread(sp.fd, out, sp.fd_len, (off_t)sp.fd_off);
		cr_assert_geq(r, 0);
		len = (size_t)r;
	}
	for (i = 0; i < sp.niov; i++) {
		memcpy(out + len, sp.iov[i].iov_base, sp.iov[i].iov_len);
		len += sp.iov[i].iov_len;
	}
	out[len] = '\0';
	pf_span_release(&sp);
	pf_fs_release(fs, f);
	return out;
}

static pf_inode *look(pf_fs *fs, pf_inode *d, const char *name, struct stat *st)
{
	pf_inode *in;
	int rc = pf_fs_lookup(fs, d, name, &in, st);

	cr_assert_eq(rc, 0, "lookup %s: %s", name, strerror(rc));
	return in;
}

Test(fs_core, folder_through_vfs, .init = make_dir, .fini = remove_dir)
{
	pf_fs_config cfg = {.source = dir};
	pf_fs *fs;
	pf_inode *root, *al, *jose, *p0, *txt, *cut;
	pf_dirh *d;
	struct stat st;
	struct names seen = {"", 0};
	pk_buf b = PK_BUF_INIT;
	char msg[256];

	put("alumnos", alumnos4, sizeof(alumnos4));
	put("p0.pkl", alumnos0, sizeof(alumnos0));
	put("text.txt", "hello\n", 6);
	put("cut.pkl", alumnos4, sizeof(alumnos4) - 3);
	cr_assert_eq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0, "%s", msg);
	root = pf_fs_root(fs);

	al = look(fs, root, "alumnos", &st);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_size, 3);
	cr_assert_eq(st.st_nlink, 2);
	jose = look(fs, al, "Jose", &st);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_size, 2);
	cr_assert_str_eq(read_all(fs, jose), "7\n");
	cr_assert_eq(pf_fs_getxattr(fs, jose, "user.pickle.type", &b), 0);
	cr_assert_eq(memcmp(b.data, "int", 3), 0);
	pk_buf_reset(&b);
	cr_assert_eq(pf_fs_getxattr(fs, jose, "user.pickle.keytype", &b), 0);
	cr_assert_eq(memcmp(b.data, "str", 3), 0);
	pk_buf_reset(&b);
	cr_assert_eq(pf_fs_getxattr(fs, jose, "user.nope", &b), ENODATA);

	cr_assert_eq(pf_fs_opendir(fs, al, &d), 0);
	cr_assert_eq(pf_fs_readdir(fs, al, d, 0, collect, &seen), 0);
	pf_fs_releasedir(fs, d);
	cr_assert_str_eq(seen.all, "./ ../ Jose Arnoldo Maria ");

	p0 = look(fs, root, "p0.pkl", &st);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_str_eq(read_all(fs, look(fs, p0, "Arnoldo", &st)), "8\n");

	txt = look(fs, root, "text.txt", &st);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_str_eq(read_all(fs, txt), "hello\n");

	/* a pickle cut short: its raw file */
	cut = look(fs, root, "cut.pkl", &st);
	cr_assert_eq(cut->kind, PF_I_MIRROR_FILE);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_size, (off_t)sizeof(alumnos4) - 3);

	cr_assert_eq(pf_fs_lookup(fs, al, "Pedro", &txt, &st), ENOENT);

	/* writing through the core: a bad literal is refused at flush and
	 * the file keeps its bytes; a good one is written back, and the
	 * pickle on disk is what CPython writes for the edited dict */
	{
		pf_file *f;
		int keep = 0;
		char path[128];
		uint8_t disk[256];
		ssize_t n;
		int fd;
		cr_assert_eq(pf_fs_open(fs, jose, O_WRONLY | O_TRUNC, &f,
					&keep),
			     0);
		/* text that can never be an int is refused at write(); the
		 * start of one ("9e", a float's start) only at close() */
		cr_assert_eq(pf_fs_write(fs, f, 0, "nine\n", 5), EINVAL);
		cr_assert_eq(pf_fs_write(fs, f, 0, "9e\n", 3), 0);
		cr_assert_eq(pf_fs_flush(fs, f), EINVAL);
		snprintf(path, sizeof(path), "%s/alumnos", dir);
		fd = open(path, O_RDONLY);
		n = read(fd, disk, sizeof(disk));
		close(fd);
		cr_assert_eq(n, (ssize_t)sizeof(alumnos4));
		cr_assert(memcmp(disk, alumnos4, sizeof(alumnos4)) == 0);
		cr_assert_eq(pf_fs_truncate(fs, jose, f, 0, &st), 0);
		cr_assert_eq(pf_fs_write(fs, f, 0, "9\n", 2), 0);
		cr_assert_eq(pf_fs_flush(fs, f), 0);
		pf_fs_release(fs, f);
		fd = open(path, O_RDONLY);
		n = read(fd, disk, sizeof(disk));
		close(fd);
		cr_assert_eq(n, (ssize_t)sizeof(alumnos4));
		cr_assert_eq(disk[22], 9, "BININT1 9 where 7 was");
		cr_assert(memcmp(disk, alumnos4, 22) == 0 &&
			  memcmp(disk + 23, alumnos4 + 23,
				 sizeof(alumnos4) - 23) == 0);
		cr_assert_str_eq(read_all(fs, look(fs, al, "Jose", &st)),
				 "9\n");
	}

	pk_buf_release(&b);
	pf_fs_free(fs);
}

/* -o ro: every change is refused and the file is never written. */
Test(fs_core, read_only_refuses_writes, .init = make_dir, .fini = remove_dir)
{
	pf_fs_config cfg = {.source = dir, .ro = 1};
	pf_fs *fs;
	pf_inode *al, *jose, *in;
	pf_file *f = NULL;
	struct stat st;
	char msg[256];
	int keep = 0;

	put("alumnos", alumnos4, sizeof(alumnos4));
	cr_assert_eq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0, "%s", msg);
	al = look(fs, pf_fs_root(fs), "alumnos", &st);
	jose = look(fs, al, "Jose", &st);
	cr_assert_eq(st.st_mode & 0222, 0);
	cr_assert_eq(pf_fs_open(fs, jose, O_WRONLY, &f, &keep), EROFS);
	cr_assert_eq(pf_fs_create(fs, al, "Pedro", O_WRONLY, &in, &st, &f),
		     EROFS);
	cr_assert_eq(pf_fs_unlink(fs, al, "Jose"), EROFS);
	cr_assert_eq(pf_fs_mkdir(fs, al, "d", &in, &st), EROFS);
	cr_assert_eq(pf_fs_rename(fs, al, "Jose", al, "J", 0), EROFS);
	pf_fs_free(fs);
}

Test(fs_core, trees_dropped_by_the_cache_come_back, .init = make_dir,
     .fini = remove_dir)
{
	pf_fs_config cfg = {.source = dir};
	pf_fs *fs;
	pf_inode *root, *a, *b, *ja, *jb;
	struct stat st;
	char msg[256];

	put("a.pkl", alumnos4, sizeof(alumnos4));
	put("b.pkl", alumnos4, sizeof(alumnos4));
	pf_cache_set_limit(1); /* everything but the last used is dropped */
	cr_assert_eq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0, "%s", msg);
	root = pf_fs_root(fs);
	a = look(fs, root, "a.pkl", &st);
	ja = look(fs, a, "Maria", &st);
	b = look(fs, root, "b.pkl", &st);
	jb = look(fs, b, "Maria", &st);
	/* a's tree was dropped when b's was used: reading a re-parses */
	cr_assert_str_eq(read_all(fs, ja), "10\n");
	cr_assert_str_eq(read_all(fs, jb), "10\n");
	cr_assert_eq(pf_fs_getattr(fs, ja, &st), 0);
	cr_assert_eq(st.st_size, 3);
	pf_cache_set_limit(512ull << 20);
	pf_fs_free(fs);
}

Test(fs_core, broken_file_source_says_where, .init = make_dir,
     .fini = remove_dir)
{
	char path[128], msg[256];
	pf_fs_config cfg = {.source = path};
	pf_fs *fs;

	put("bad.pkl", alumnos4, 20);
	snprintf(path, sizeof(path), "%s/bad.pkl", dir);
	cr_assert_neq(pf_fs_new(&cfg, &fs, msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "bad.pkl: byte "), "%s", msg);
}
