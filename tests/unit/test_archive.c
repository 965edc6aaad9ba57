/*
 * test_archive.c - fs/container (archive.h) against archives written by
 * Python's tarfile and zipfile at test time (tests/unit/archives.py, which
 * also writes what Python says each member is: name, data offset, sizes,
 * CRC and bytes), and against hostile archives made here by hand.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "buf.h"
#include "unit.h"

#define PY "/usr/bin/python3"
#define NONE UINT32_MAX

/* ---- helpers ------------------------------------------------------------ */

static void run_py(const char *arg)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd), PY " tests/unit/archives.py %s %s", ut_dir,
		 arg);
	st = system(cmd);
	cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "failed (run the tests from the repo root): %s", cmd);
}

static void make_archives(void)
{
	ut_make_dir();
	run_py("");
}

static void make_many(void)
{
	ut_make_dir();
	run_py("many");
}

/* Every invariant archive.h states of an index of len bytes. */
static void check_tree(const pf_arc_index *ix, size_t len)
{
	uint32_t i, total = 0;

	cr_assert_geq(ix->n, 1);
	cr_assert_str_eq(ix->m[0].name, "");
	cr_assert_str_eq(ix->m[0].base, "");
	cr_assert_eq(ix->m[0].type, PF_ARC_DIR);
	cr_assert_eq(ix->m[0].parent, 0);
	for (i = 0; i < ix->n; i++) {
		const pf_arc_member *m = &ix->m[i];
		uint32_t c, k, prev = NONE;

		cr_assert(m->offset <= len && m->size <= len - m->offset,
			  "%s: past the end", m->name);
		if (i) {
			const pf_arc_member *p = &ix->m[m->parent];
			size_t pl = strlen(p->name), bl = strlen(m->base);

			cr_assert(m->type == PF_ARC_FILE ||
				  m->type == PF_ARC_DIR);
			cr_assert_lt(m->parent, ix->n);
			cr_assert_eq(p->type, PF_ARC_DIR);
			cr_assert(bl >= 1 && bl <= 255);
			cr_assert_str_neq(m->base, ".");
			cr_assert_str_neq(m->base, "..");
			cr_assert_null(strchr(m->base, '/'));
			if (m->parent) {
				cr_assert(!strncmp(m->name, p->name, pl) &&
					  m->name[pl] == '/' &&
					  m->base == m->name + pl + 1);
			} else {
				cr_assert_eq(m->base, m->name);
			}
			cr_assert_eq(pf_arc_lookup(ix, m->parent, m->base), i);
		}
		if (m->type != PF_ARC_DIR) {
			cr_assert_eq(m->nchildren, 0);
			cr_assert_eq(m->first_child, NONE);
			continue;
		}
		total += m->nchildren;
		c = m->first_child;
		for (k = 0; k < m->nchildren; k++) {
			cr_assert_eq(pf_arc_child(ix, i, k), c);
			cr_assert_eq(ix->m[c].parent, i);
			if (prev != NONE)
				cr_assert_lt(
				    strcmp(ix->m[prev].base, ix->m[c].base), 0);
			prev = c;
			c = ix->m[c].next_sibling;
		}
		cr_assert_eq(c, NONE);
		cr_assert_eq(pf_arc_child(ix, i, m->nchildren), NONE);
	}
	cr_assert_eq(total, ix->n - 1);
}

typedef struct arc {
	uint8_t *data;
	size_t len;
	pf_arc_index ix;
} arc;

static void arc_open(arc *a, const char *file, int fmt)
{
	pk_err e;
	int rc;

	a->data = ut_slurp(file, &a->len);
	cr_assert_eq(pf_arc_sniff(a->data, a->len), fmt, "%s", file);
	rc = pf_arc_index_read(fmt, a->data, a->len, &a->ix, &e);
	cr_assert_eq(rc, PK_OK, "%s: %s at byte %llu", file, rc ? e.msg : "",
		     (unsigned long long)e.offset);
	check_tree(&a->ix, a->len);
}

static void arc_close(arc *a)
{
	pf_arc_index_free(&a->ix);
	pf_arc_index_free(&a->ix); /* twice: harmless */
	free(a->data);
}

static const pf_arc_member *member(arc *a, const char *path)
{
	uint32_t i = pf_arc_find(&a->ix, path);

	cr_assert_neq(i, NONE, "%s is missing", path);
	return &a->ix.m[i];
}

/* What pf_arc_extract_fd writes for m (a file of ut_dir), *rc its
 * result; malloc'ed */
static uint8_t *extract(arc *a, const pf_arc_member *m, size_t *n, int *rc,
			pk_err *e)
{
	char path[128];
	uint8_t *out;
	int fd;

	snprintf(path, sizeof(path), "%s/extracted", ut_dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	*rc = pf_arc_extract_fd(m, a->data + m->offset, fd, e);
	close(fd);
	out = ut_slurp("extracted", n);
	return out;
}

/* The index of ut_dir/file agrees with its manifest (archives.py): every
 * member there, at the same offset with the same sizes and CRC, and
 * extracting to the same bytes; no other files. */
static void check_manifest(const char *file, int fmt)
{
	char path[256], line[2048];
	arc a;
	FILE *f;
	int k = 0, files = 0, listed = 0;
	uint32_t i;

	arc_open(&a, file, fmt);
	snprintf(path, sizeof(path), "%s/%s.txt", ut_dir, file);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		char kind, name[2048], want[300];
		unsigned long long off, size, usize;
		unsigned crc;
		const pf_arc_member *m;
		uint8_t *got, *exp;
		size_t gn, en;
		int rc;
		pk_err e;

		k++;
		line[strcspn(line, "\n")] = 0;
		cr_assert_eq(sscanf(line, "%c %llu %llu %llu %u %[^\n]", &kind,
				    &off, &size, &usize, &crc, name),
			     6, "%s: %s", path, line);
		m = member(&a, name);
		if (kind == 'd') {
			cr_assert_eq(m->type, PF_ARC_DIR, "%s", name);
			continue;
		}
		files++;
		cr_assert_eq(m->type, PF_ARC_FILE, "%s", name);
		cr_assert_eq(m->offset, off, "%s %s", file, name);
		cr_assert_eq(m->size, size, "%s %s", file, name);
		cr_assert_eq(m->usize, usize, "%s %s", file, name);
		cr_assert_eq(m->crc, crc, "%s %s", file, name);
		got = extract(&a, m, &gn, &rc, &e);
		if (kind == 'x') {
			cr_assert(m->flags & 1);
			cr_assert_eq(rc, PK_E_UNSUPPORTED);
			free(got);
			continue;
		}
		cr_assert_eq(rc, PK_OK, "%s %s: %s", file, name,
			     rc ? e.msg : "");
		snprintf(want, sizeof(want), "%s.%d", file, k);
		exp = ut_slurp(want, &en);
		cr_assert(gn == en && !memcmp(got, exp, en), "%s %s: bytes",
			  file, name);
		free(got);
		free(exp);
	}
	fclose(f);
	for (i = 1; i < a.ix.n; i++)
		listed += a.ix.m[i].type == PF_ARC_FILE;
	cr_assert_eq(listed, files, "%s: %d files listed, Python has %d", file,
		     listed, files);
	arc_close(&a);
}

/* A ustar header of a name, type and size (mode 0644, mtime 0), with its
 * checksum. */
static void tar_head(uint8_t *h, const char *name, char type, size_t size)
{
	unsigned sum = 0;
	int i;

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 7);
	snprintf((char *)h + 124, 12, "%011zo", size);
	memcpy(h + 136, "00000000000", 11);
	h[156] = (uint8_t)type;
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

static int index_of(int fmt, const uint8_t *d, size_t n, pf_arc_index *ix,
		    pk_err *e)
{
	int rc = pf_arc_index_read(fmt, d, n, ix, e);

	if (rc == PK_OK) {
		check_tree(ix, n);
	} else {
		cr_assert_eq(ix->n, 0);
		cr_assert_null(ix->m);
		cr_assert_not_null(e->msg);
	}
	return rc;
}

/* ---- tar ---------------------------------------------------------------- */

Test(archive, tar_like_python, .init = make_archives, .fini = ut_remove_dir)
{
	check_manifest("ustar.tar", PF_ARC_TAR);
	check_manifest("gnu.tar", PF_ARC_TAR);
	check_manifest("pax.tar", PF_ARC_TAR);
	check_manifest("v7.tar", PF_ARC_TAR);
	check_manifest("testtar.tar", PF_ARC_TAR);
}

Test(archive, tar_details, .init = make_archives, .fini = ut_remove_dir)
{
	static const char *const fmts[] = {"ustar.tar", "gnu.tar", "pax.tar",
					   "v7.tar"};
	size_t f;

	for (f = 0; f < 4; f++) {
		arc a;
		const pf_arc_member *m;

		arc_open(&a, fmts[f], PF_ARC_TAR);
		/* links, fifos and ".." are listed nowhere */
		cr_assert_eq(pf_arc_find(&a.ix, "link"), NONE);
		cr_assert_eq(pf_arc_find(&a.ix, "hard"), NONE);
		cr_assert_eq(pf_arc_find(&a.ix, "fifo"), NONE);
		cr_assert_eq(pf_arc_find(&a.ix, "evil"), NONE);
		m = member(&a, "a.pkl"); /* the later one */
		cr_assert_eq(m->size, 200);
		cr_assert_eq(m->mtime, 1700000000);
		cr_assert_eq(m->method, PF_ARC_STORED);
		cr_assert_eq(m->fmt, PF_ARC_TAR);
		cr_assert_eq(member(&a, "d/x.bin")->mode, 0600);
		cr_assert_eq(member(&a, "d")->mode, 0755);
		/* implied: "abs", "dot" */
		cr_assert_eq(member(&a, "abs")->type, PF_ARC_DIR);
		cr_assert_eq(member(&a, "dot")->type, PF_ARC_DIR);
		cr_assert_eq(member(&a, "/abs/./olute")->type, PF_ARC_FILE);
		if (f == 1 || f == 2) {
			cr_assert_eq(member(&a, "neg-mtime")->mtime, -1000);
			cr_assert_eq(member(&a, "big-uid")->size, 3);
		}
		if (f == 2) {
			cr_assert_eq(member(&a, "frac")->mtime, 1700000000);
			cr_assert_eq(member(&a, "caf\xc3\xa9")->nchildren, 1);
		}
		arc_close(&a);
	}
}

/* a bad checksum, a member cut short: errors at the header's offset, and
 * the index left empty */
Test(archive, tar_hostile, .init = make_archives, .fini = ut_remove_dir)
{
	size_t len;
	uint8_t *d = ut_slurp("ustar.tar", &len);
	pf_arc_index ix;
	pk_err e;

	/* d/x.bin: header at 1536, 1000 bytes of data at 2048 */
	cr_assert_eq(index_of(PF_ARC_TAR, d, 2048 + 500, &ix, &e),
		     PK_E_TRUNCATED);
	cr_assert_eq(e.offset, 1536);
	cr_assert_eq(index_of(PF_ARC_TAR, d, 1536 + 300, &ix, &e),
		     PK_E_TRUNCATED);
	cr_assert_eq(e.offset, 1536);
	d[1536 + 20] ^= 1;
	cr_assert_eq(index_of(PF_ARC_TAR, d, len, &ix, &e), PK_E_ARG);
	cr_assert_eq(e.offset, 1536);
	cr_assert(strstr(e.msg, "checksum"));
	/* the first header alone, then the end of the data */
	cr_assert_eq(index_of(PF_ARC_TAR, d, 1536, &ix, &e), PK_OK);
	cr_assert_neq(pf_arc_find(&ix, "d"), NONE);
	pf_arc_index_free(&ix);
	free(d);
}

Test(archive, tar_names)
{
	enum { N = 3000 };
	uint8_t *d = calloc(N + 40, 512), *p = d;
	pf_arc_index ix;
	pk_err e;
	int i;
	uint32_t a;

	cr_assert_not_null(d);
	/* many headers with names that are skipped: O(n), nothing listed */
	for (i = 0; i < N; i++, p += 512)
		tar_head(p, i % 3 ? "" : i % 2 ? "./" : "/", '0', 0);
	tar_head(p, "a", '0', 1); /* a file "a", later a directory */
	p += 1024;
	tar_head(p, "a/b", '0', 0);
	p += 512;
	tar_head(p, "x/../y", '0', 0);
	p += 512;
	tar_head(p, "..", '5', 0);
	p += 512;
	tar_head(p, "b", '0', 0); /* a file "b", later a directory "b/" */
	p += 512;
	tar_head(p, "b/", '5', 0);
	p += 512;
	tar_head(p, "c/", '5', 0); /* a directory, later a file */
	p += 512;
	tar_head(p, "c", '0', 0);
	p += 512;
	tar_head(p, "sym", '2', 700); /* no data follows a symlink */
	p += 512;
	tar_head(p, "sparse", 'S', 600); /* GNU sparse: its data does */
	p += 512 + 1024;
	tar_head(p, "z", '0', 0);
	p += 512;
	cr_assert_eq(index_of(PF_ARC_TAR, d, (size_t)(p - d) + 1024, &ix, &e),
		     PK_OK);
	a = pf_arc_find(&ix, "a");
	cr_assert_eq(ix.m[a].type, PF_ARC_DIR);
	cr_assert_eq(pf_arc_lookup(&ix, a, "b"), pf_arc_find(&ix, "a/b"));
	cr_assert_eq(ix.m[pf_arc_find(&ix, "b")].type, PF_ARC_DIR);
	cr_assert_eq(ix.m[pf_arc_find(&ix, "c")].type, PF_ARC_FILE);
	cr_assert_eq(pf_arc_find(&ix, "y"), NONE);
	cr_assert_eq(pf_arc_find(&ix, "x"), NONE);
	cr_assert_eq(pf_arc_find(&ix, "sym"), NONE);
	cr_assert_eq(pf_arc_find(&ix, "sparse"), NONE);
	cr_assert_neq(pf_arc_find(&ix, "z"), NONE);
	cr_assert_eq(ix.n, 6); /* root a a/b b c z */
	pf_arc_index_free(&ix);

	/* a pax header with a bad record; one whose path= is used */
	memset(d, 0, 4 * 512);
	tar_head(d, "pax", 'x', 11);
	memcpy(d + 512, "99 path=x\n", 11);
	tar_head(d + 1024, "f", '0', 0);
	cr_assert_eq(index_of(PF_ARC_TAR, d, 3 * 512, &ix, &e), PK_E_ARG);
	cr_assert_eq(e.offset, 0);
	tar_head(d, "pax", 'x', 21);
	memcpy(d + 512, "12 path=p/q\n9 size=0\n", 21);
	cr_assert_eq(index_of(PF_ARC_TAR, d, 3 * 512, &ix, &e), PK_OK);
	cr_assert_neq(pf_arc_find(&ix, "p/q"), NONE);
	cr_assert_eq(pf_arc_find(&ix, "f"), NONE);
	pf_arc_index_free(&ix);
	/* a GNU long name cut by the end */
	tar_head(d, "././@LongLink", 'L', 4000);
	cr_assert_eq(index_of(PF_ARC_TAR, d, 3 * 512, &ix, &e), PK_E_TRUNCATED);
	cr_assert_eq(e.offset, 0);
	free(d);
}

/* ---- zip ---------------------------------------------------------------- */

Test(archive, zip_like_python, .init = make_archives, .fini = ut_remove_dir)
{
	check_manifest("plain.zip", PF_ARC_ZIP);
	check_manifest("zip64.zip", PF_ARC_ZIP);
	check_manifest("torch.zip", PF_ARC_ZIP);
	check_manifest("names.zip", PF_ARC_ZIP);
	check_manifest("zip_cp437_header.zip", PF_ARC_ZIP);
	check_manifest("zipdir.zip", PF_ARC_ZIP);
}

Test(archive, zip_details, .init = make_archives, .fini = ut_remove_dir)
{
	arc a;
	const pf_arc_member *m;
	static const char *const top[] = {"abs",  "big",   "deflated.pkl",
					  "dir",  "empty", "stored.pkl",
					  "twice"};
	uint32_t i;
	size_t n;
	int rc;
	pk_err e;
	uint8_t *got;
	struct tm tm = {.tm_year = 120,
			.tm_mon = 4,
			.tm_mday = 6,
			.tm_hour = 7,
			.tm_min = 8,
			.tm_sec = 10};

	arc_open(&a, "plain.zip", PF_ARC_ZIP);
	cr_assert_eq(a.ix.m[0].nchildren, 7);
	for (i = 0; i < 7; i++)
		cr_assert_str_eq(a.ix.m[pf_arc_child(&a.ix, 0, i)].name,
				 top[i]);
	cr_assert_eq(pf_arc_find(&a.ix, "evil"), NONE);
	cr_assert_eq(pf_arc_find(&a.ix, "dir/link"), NONE); /* a symlink */
	cr_assert_eq(member(&a, "dir")->nchildren, 1);
	cr_assert_eq(pf_arc_lookup(&a.ix, 0, "nope"), NONE);
	cr_assert_eq(pf_arc_lookup(&a.ix, 0, ""), NONE);
	cr_assert_eq(pf_arc_lookup(&a.ix, pf_arc_find(&a.ix, "twice"), "x"),
		     NONE);
	cr_assert_eq(pf_arc_find(&a.ix, "./dir//sub/x"),
		     pf_arc_find(&a.ix, "dir/sub/x"));
	cr_assert_eq(pf_arc_find(&a.ix, ""), 0);
	m = member(&a, "deflated.pkl");
	cr_assert_eq(m->method, PF_ARC_DEFLATED);
	cr_assert_eq(m->mtime, (int64_t)timegm(&tm));
	cr_assert_eq(m->fmt, PF_ARC_ZIP);
	m = member(&a, "twice");
	got = extract(&a, m, &n, &rc, &e);
	cr_assert(rc == PK_OK && n == 6 && !memcmp(got, "second", 6));
	free(got);
	/* not a file */
	got = extract(&a, member(&a, "dir"), &n, &rc, &e);
	cr_assert_eq(rc, PK_E_UNSUPPORTED);
	free(got);
	/* a write that fails: PK_E_IO, errno kept */
	m = member(&a, "big/big.bin");
	{
		int fd = open("/dev/null", O_RDONLY);

		errno = 0;
		cr_assert_eq(pf_arc_extract_fd(m, a.data + m->offset, fd, &e),
			     PK_E_IO);
		cr_assert_eq(errno, EBADF);
		close(fd);
	}
	/* corrupt data: the stream, a stored member's CRC */
	a.data[m->offset + m->size / 2] ^= 0x55;
	got = extract(&a, m, &n, &rc, &e);
	cr_assert_eq(rc, PK_E_COMPRESS);
	cr_assert_eq(e.offset, m->offset);
	cr_assert_leq(n, m->usize);
	free(got);
	m = member(&a, "stored.pkl");
	a.data[m->offset + 3] ^= 1;
	got = extract(&a, m, &n, &rc, &e);
	cr_assert_eq(rc, PK_E_COMPRESS);
	cr_assert(strstr(e.msg, "CRC"));
	free(got);
	arc_close(&a);

	/* torch: stored data aligned to 64 by the local extra field */
	arc_open(&a, "torch.zip", PF_ARC_ZIP);
	cr_assert_eq(member(&a, "archive/data/0")->offset % 64, 0);
	cr_assert_eq(member(&a, "archive/data.pkl")->offset % 64, 0);
	cr_assert_eq(member(&a, "archive")->nchildren, 3);
	arc_close(&a);
	/* the central names, not the local ones */
	arc_open(&a, "names.zip", PF_ARC_ZIP);
	cr_assert_eq(a.ix.n, 4);
	cr_assert_eq(pf_arc_find(&a.ix, "a-much-longer-local-name.pkl"), NONE);
	arc_close(&a);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

Test(archive, zip_hostile, .init = make_archives, .fini = ut_remove_dir)
{
	uint8_t z[200];
	size_t len, eocd, cd;
	uint8_t *d;
	pf_arc_index ix;
	pk_err e;

	/* empty */
	memset(z, 0, sizeof(z));
	memcpy(z, "PK\5\6", 4);
	cr_assert_eq(pf_arc_sniff(z, 22), PF_ARC_ZIP);
	cr_assert_eq(index_of(PF_ARC_ZIP, z, 22, &ix, &e), PK_OK);
	cr_assert_eq(ix.n, 1);
	pf_arc_index_free(&ix);
	/* 65535 entries in 0 bytes */
	put16(z + 8, 0xffff);
	put16(z + 10, 0xffff);
	cr_assert_eq(index_of(PF_ARC_ZIP, z, 22, &ix, &e), PK_E_ARG);
	cr_assert(strstr(e.msg, "more entries"));
	/* zip64: 2^32 entries in 2^32 * 46 - 1 bytes, which are not there */
	memset(z, 0, sizeof(z));
	memcpy(z, "PK\6\6", 4);
	put64(z + 32, 1ull << 32);
	put64(z + 40, (1ull << 32) * 46 - 1);
	memcpy(z + 56, "PK\6\7", 4);
	put32(z + 72, 1);
	memcpy(z + 76, "PK\5\6", 4);
	put16(z + 76 + 8, 0xffff);
	put16(z + 76 + 10, 0xffff);
	put32(z + 76 + 12, 0xffffffff);
	put32(z + 76 + 16, 0xffffffff);
	cr_assert_eq(index_of(PF_ARC_ZIP, z, 98, &ix, &e), PK_E_TRUNCATED);
	put64(z + 40, 0);
	cr_assert_eq(index_of(PF_ARC_ZIP, z, 98, &ix, &e), PK_E_ARG);
	cr_assert(strstr(e.msg, "more entries"));
	/* a zip64 locator pointing past the end */
	put64(z + 64, 1000);
	cr_assert_eq(index_of(PF_ARC_ZIP, z, 98, &ix, &e), PK_E_ARG);
	/* no EOCD at all */
	cr_assert_eq(
	    index_of(PF_ARC_ZIP, (const uint8_t *)"PK\3\4", 4, &ix, &e),
	    PK_E_ARG);

	d = ut_slurp("plain.zip", &len);
	eocd = len - 22 - 9; /* the comment: "a comment" */
	cr_assert(!memcmp(d + eocd, "PK\5\6", 4));
	cd = d[eocd + 16] | d[eocd + 17] << 8 | (size_t)d[eocd + 18] << 16;
	cr_assert(!memcmp(d + cd, "PK\1\2", 4));
	/* the first local header's signature */
	d[0] = 'X';
	cr_assert_eq(index_of(PF_ARC_ZIP, d, len, &ix, &e), PK_E_ARG);
	cr_assert_eq(e.offset, 0);
	d[0] = 'P';
	/* its offset past the end */
	put32(d + cd + 42, (uint32_t)len - 10);
	cr_assert_eq(index_of(PF_ARC_ZIP, d, len, &ix, &e), PK_E_TRUNCATED);
	cr_assert_eq(e.offset, cd);
	put32(d + cd + 42, 0);
	/* its compressed size past the end */
	put32(d + cd + 20, (uint32_t)len);
	cr_assert_eq(index_of(PF_ARC_ZIP, d, len, &ix, &e), PK_E_TRUNCATED);
	cr_assert_eq(e.offset, 0);
	put32(d + cd + 20, 1000);
	/* its name length past the central directory */
	put16(d + cd + 28, 0xffff);
	cr_assert_eq(index_of(PF_ARC_ZIP, d, len, &ix, &e), PK_E_TRUNCATED);
	put16(d + cd + 28, 10);
	/* a zip64 size announced, no zip64 extra field: kept, as Python
	 * does; the member cannot be read */
	put32(d + cd + 24, 0xffffffff);
	cr_assert_eq(index_of(PF_ARC_ZIP, d, len, &ix, &e), PK_OK);
	cr_assert_eq(ix.m[pf_arc_find(&ix, "stored.pkl")].usize, 0xffffffff);
	cr_assert_eq(
	    pf_arc_extract_fd(&ix.m[pf_arc_find(&ix, "stored.pkl")], d, -1, &e),
	    PK_E_COMPRESS);
	pf_arc_index_free(&ix);
	put32(d + cd + 24, 1000);
	/* a comment holding a record, which is not the one */
	{
		uint8_t *d2 = malloc(len + 30);

		cr_assert_not_null(d2);
		memcpy(d2, d, len);
		memset(d2 + len, 0, 30);
		memcpy(d2 + len + 2, "PK\5\6", 4);
		put16(d2 + eocd + 20, 9 + 30);
		cr_assert_eq(index_of(PF_ARC_ZIP, d2, len + 30, &ix, &e),
			     PK_OK);
		cr_assert_eq(ix.n, 12);
		pf_arc_index_free(&ix);
		free(d2);
	}
	/* cut: no EOCD */
	cr_assert_eq(index_of(PF_ARC_ZIP, d, len - 40, &ix, &e), PK_E_ARG);
	free(d);
}

Test(archive, zip_many, .init = make_many, .fini = ut_remove_dir)
{
	arc a;
	uint32_t dir, i;
	char name[32];

	arc_open(&a, "many.zip", PF_ARC_ZIP);
	cr_assert_eq(a.ix.n, 70003);
	dir = pf_arc_find(&a.ix, "many");
	cr_assert_eq(a.ix.m[dir].nchildren, 70000);
	for (i = 0; i < 70000; i++) {
		uint32_t c = pf_arc_child(&a.ix, dir, i);

		snprintf(name, sizeof(name), "m%05u", i);
		cr_assert_str_eq(a.ix.m[c].base, name);
		cr_assert_eq(pf_arc_lookup(&a.ix, dir, name), c);
	}
	arc_close(&a);
}

Test(archive, sniff)
{
	uint8_t h[512];

	cr_assert_eq(pf_arc_sniff(ut_alumnos4, sizeof(ut_alumnos4)),
		     PF_ARC_NONE);
	cr_assert_eq(pf_arc_sniff((const uint8_t *)"PK", 2), PF_ARC_NONE);
	cr_assert_eq(pf_arc_sniff((const uint8_t *)"PK\3\4", 4), PF_ARC_ZIP);
	tar_head(h, "a.pkl", '0', 0);
	cr_assert_eq(pf_arc_sniff(h, 512), PF_ARC_TAR);
	cr_assert_eq(pf_arc_sniff(h, 511), PF_ARC_NONE);
	/* v7: no magic; the checksum and a printable name decide */
	memset(h + 257, 0, 8);
	cr_assert_eq(pf_arc_sniff(h, 512), PF_ARC_NONE); /* checksum */
	tar_head(h, "a.pkl", '0', 0);
	memset(h + 257, 0, 8);
	{
		unsigned sum = 0;
		int i;

		memset(h + 148, ' ', 8);
		for (i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
	}
	cr_assert_eq(pf_arc_sniff(h, 512), PF_ARC_TAR);
	memset(h, 0, 512);
	cr_assert_eq(pf_arc_sniff(h, 512), PF_ARC_NONE);
	cr_assert_eq(pf_arc_index_read(PF_ARC_NONE, h, 512, &(pf_arc_index){0},
				       &(pk_err){0}),
		     PK_E_UNSUPPORTED);
}

/* A pax 'x' header at d naming the member after it path, then that
 * member (a file of 0 bytes); returns the bytes used */
static size_t pax_named(uint8_t *d, const char *path)
{
	size_t pl = strlen(path), n = pl + 7, data;
	char num[24];

	/* "N path=PATH\n": N counts its own digits */
	snprintf(num, sizeof(num), "%zu", n);
	n += strlen(num);
	snprintf(num, sizeof(num), "%zu", n);
	if (strlen(num) + pl + 7 != n)
		snprintf(num, sizeof(num), "%zu", ++n);
	cr_assert_eq(strlen(num) + pl + 7, n);
	tar_head(d, "pax", 'x', n);
	data = (n + 511) / 512 * 512;
	memset(d + 512, 0, data);
	sprintf((char *)d + 512, "%s path=%s\n", num, path);
	tar_head(d + 512 + data, "ignored", '0', 0);
	return 1024 + data;
}

/* Deep and long names: bounded in what they cost */
Test(archive, tar_deep)
{
	size_t cap = 64 << 10, at = 0;
	uint8_t *d = calloc(1, cap);
	char *path = malloc(8192);
	pf_arc_index ix;
	pk_err e;
	int i;

	cr_assert(d && path);
	/* 16 components of 255 bytes: 4095 bytes, listed */
	path[0] = 0;
	for (i = 0; i < 16; i++) {
		size_t l = strlen(path);

		if (i)
			path[l++] = '/';
		memset(path + l, 'a' + i, 255);
		path[l + 255] = 0;
	}
	cr_assert_eq(strlen(path), 4095);
	at += pax_named(d + at, path);
	/* 4097 bytes: longer than PATH_MAX, skipped */
	strcat(path, "/b");
	at += pax_named(d + at, path);
	cr_assert_eq(index_of(PF_ARC_TAR, d, at + 1024, &ix, &e), PK_OK);
	cr_assert_eq(ix.n, 17);
	path[4095] = 0;
	cr_assert_eq(ix.m[pf_arc_find(&ix, path)].type, PF_ARC_FILE);
	pf_arc_index_free(&ix);
	/* "a/a/a/.../a", 4095 bytes, in 5 KB: its 2047 directories would
	 * need 4 MB of names */
	for (i = 0; i < 4095; i++)
		path[i] = i % 2 ? '/' : 'a';
	path[4095] = 0;
	memset(d, 0, cap);
	at = pax_named(d, path);
	cr_assert_eq(index_of(PF_ARC_TAR, d, at + 1024, &ix, &e), PK_E_LIMIT);
	/* 300 deep: fine */
	path[599] = 0;
	memset(d, 0, cap);
	at = pax_named(d, path);
	cr_assert_eq(index_of(PF_ARC_TAR, d, at + 1024, &ix, &e), PK_OK);
	cr_assert_eq(ix.n, 301);
	pf_arc_index_free(&ix);
	free(path);
	free(d);
}
