/* unit.c - the helpers unit.h declares. */
#include "unit.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress.h"
#include "log.h"

const uint8_t ut_alumnos4[47] = {
    128, 4,   149, 36,	0,   0,	 0,  0,	  0,   0,  0,	125, 148, 40,  140, 4,
    74,	 111, 115, 101, 148, 75, 7,  140, 7,   65, 114, 110, 111, 108, 100, 111,
    148, 75,  8,   140, 5,   77, 97, 114, 105, 97, 148, 75,  10,  117, 46};
const uint8_t ut_alumnos0[35] = {40,  100, 112, 48,  10,  86,  74,  111, 115,
				 101, 10,  112, 49,  10,  73,  55,  10,	 115,
				 86,  65,  114, 110, 111, 108, 100, 111, 10,
				 112, 50,  10,	73,  56,  10,  115, 46};

char ut_dir[64];

void ut_make_dir(void)
{
	snprintf(ut_dir, sizeof(ut_dir), "/tmp/pf-unit-XXXXXX");
	cr_assert(mkdtemp(ut_dir));
	pf_log_set_quiet(1);
}

void ut_remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ut_dir);
	cr_assert_eq(system(cmd), 0);
}

void ut_put(const char *name, const void *data, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", ut_dir, name);
	f = fopen(path, "wb");
	cr_assert(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

void ut_put_bomb(const char *name, int fmt, size_t zeros)
{
	size_t n = 11 + zeros + 1, i;
	uint8_t *p = calloc(1, n);
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e;

	cr_assert(p);
	p[0] = 0x80;
	p[1] = 4;
	p[2] = 0x8e; /* BINBYTES8 */
	for (i = 0; i < 8; i++)
		p[3 + i] = (uint8_t)((uint64_t)zeros >> (8 * i));
	p[n - 1] = '.';
	memset(&zi, 0, sizeof(zi));
	zi.fmt = fmt;
	cr_assert_eq(pk_z_compress_mem(&zi, p, n, &out, &e), PK_OK);
	ut_put(name, out.data, out.len);
	pk_buf_release(&out);
	free(p);
}

uint8_t *ut_slurp(const char *name, size_t *n)
{
	char path[256];
	struct stat st;
	uint8_t *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ut_dir, name);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	cr_assert(p);
	cr_assert_eq(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return p;
}

int ut_file_is(const char *name, const void *data, size_t n)
{
	size_t got;
	uint8_t *p = ut_slurp(name, &got);
	int same = got == n && memcmp(p, data, n) == 0;

	free(p);
	return same;
}

int ut_count_files(const char *part)
{
	DIR *d = opendir(ut_dir);
	struct dirent *de;
	int n = 0;

	cr_assert(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, part))
			n++;
	closedir(d);
	return n;
}

ut_doc ut_open_doc(const uint8_t *p, size_t n)
{
	ut_doc f;
	pk_err e;

	cr_assert_eq(pk_decode(p, n, 0, &f.doc, &e), PK_OK, "decode: %s",
		     e.msg);
	cr_assert_eq(pf_docview_new(f.doc, &f.dv), 0);
	return f;
}

void ut_close_doc(ut_doc *f)
{
	pf_docview_free(f->dv);
	pk_doc_free(f->doc);
	f->dv = NULL;
	f->doc = NULL;
}

pf_child ut_child(ut_doc *f, pf_ref dir, const char *name, uint64_t *index)
{
	pf_child c;
	uint64_t i;

	cr_assert_eq(pf_docview_lookup(f->dv, dir, name, strlen(name), &i), 0,
		     "no entry %s", name);
	cr_assert_eq(pf_docview_child(f->dv, dir, i, &c), 0);
	if (index)
		*index = i;
	return c;
}

char *ut_content(const pk_doc *doc, pf_ref r)
{
	static char out[512];
	pf_content c, sz;

	cr_assert_eq(pf_content_get(doc, r, 0, &c, NULL), 0);
	cr_assert_eq(pf_content_get(doc, r, PF_CONTENT_SIZE_ONLY, &sz, NULL),
		     0);
	cr_assert_eq(pf_content_size(&sz), pf_content_size(&c),
		     "size-only differs");
	cr_assert_lt(c.len + 1, sizeof(out));
	memcpy(out, c.data, c.len);
	if (c.nl)
		out[c.len] = '\n';
	out[c.len + (c.nl ? 1 : 0)] = '\0';
	pf_content_release(&c);
	pf_content_release(&sz);
	return out;
}

char *ut_name_of(ut_doc *f, pf_ref dir, uint64_t i)
{
	static char out[256];
	pk_buf b = PK_BUF_INIT;

	cr_assert_eq(pf_docview_name(f->dv, dir, i, &b), 0);
	cr_assert_lt(b.len, sizeof(out));
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	pk_buf_release(&b);
	return out;
}

pf_ref ut_path(ut_doc *f, const char *path)
{
	char part[128];
	pf_ref r = pf_docview_root(f->dv);
	const char *p = path, *slash;

	while (*p) {
		size_t n;

		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		cr_assert_lt(n, sizeof(part));
		memcpy(part, p, n);
		part[n] = '\0';
		r = ut_child(f, r, part, NULL).e.target;
		p += n + (slash ? 1 : 0);
	}
	return r;
}

pk_doc *ut_reencode(pk_doc *doc, pk_buf *out)
{
	pk_doc *again = NULL;
	pk_err e;

	cr_assert_eq(pk_encode_to_buf(doc, out, &e), PK_OK, "encode: %s",
		     e.msg);
	cr_assert_eq(pk_decode(out->data, out->len, 0, &again, &e), PK_OK,
		     "the re-encoded pickle does not decode: %s at %llu", e.msg,
		     (unsigned long long)e.offset);
	return again;
}

pf_inode *ut_look(pf_fs *fs, pf_inode *d, const char *name, struct stat *st)
{
	pf_inode *in;
	struct stat dummy;
	int rc = pf_fs_lookup(fs, d, name, &in, st ? st : &dummy);

	cr_assert_eq(rc, 0, "lookup %s: %s", name, strerror(rc));
	return in;
}

char *ut_read_all(pf_fs *fs, pf_inode *in)
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

struct listing {
	char all[1024];
};

static int collect(void *ctx, const char *name, const struct stat *st,
		   uint64_t next)
{
	struct listing *c = ctx;

	cr_assert_lt(strlen(c->all) + strlen(name) + 3, sizeof(c->all));
	strcat(c->all, name);
	strcat(c->all, st && S_ISDIR(st->st_mode) ? "/ " : " ");
	return 0;
}

char *ut_list(pf_fs *fs, pf_inode *dir)
{
	static struct listing seen;
	pf_dirh *d;

	seen.all[0] = '\0';
	cr_assert_eq(pf_fs_opendir(fs, dir, &d), 0);
	cr_assert_eq(pf_fs_readdir(fs, dir, d, 0, collect, &seen), 0);
	pf_fs_releasedir(fs, d);
	return seen.all;
}

int ut_write_file(pf_fs *fs, pf_inode *in, const char *text)
{
	pf_file *f;
	int keep = 0, rc;

	rc = pf_fs_open(fs, in, O_WRONLY | O_TRUNC, &f, &keep);
	if (rc)
		return rc;
	rc = pf_fs_write(fs, f, 0, text, strlen(text));
	if (!rc)
		rc = pf_fs_flush(fs, f);
	else
		pf_fs_flush(fs, f);
	pf_fs_release(fs, f);
	return rc;
}
