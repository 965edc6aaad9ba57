/*
 * tool_tree.c - pickletool ls / get / set / find over vfs.h (see
 * tool_tree.h): the mount's tree without FUSE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tool_tree.h"

#include "listing.h"
#include "vfs.h"

#define CHUNK (128u * 1024u) /* what one read or write asks for */
#define MAX_LINKS 40	     /* symlinks followed in one path (Linux's) */

/* An open FILE and the directories walked down to the current one:
 * dirs[0] is the root (not counted), every other one holds one lookup. */
typedef struct tree {
	pf_fs *fs;
	const char *file;
	pf_inode **dirs;
	size_t n, cap;
} tree;

static void fail(const char *file, const char *path, int err)
{
	fprintf(stderr, "pickletool: %s%s%s: %s\n", file,
		path && *path ? "/" : "", path ? path : "", strerror(err));
}

/* Opens FILE as the mount opens SOURCE (read-only unless `rw`): 0, or
 * 1 with the mount's message printed. */
static int tree_open(tree *t, const char *file, int rw)
{
	pf_fs_config cfg = {.source = file, .ro = !rw};
	char msg[1024];

	memset(t, 0, sizeof(*t));
	t->file = file;
	pf_log_set_name("pickletool");
	if (pf_fs_new(&cfg, &t->fs, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "%s\n", msg);
		return 1;
	}
	t->cap = 16;
	t->dirs = malloc(t->cap * sizeof(*t->dirs));
	if (!t->dirs) {
		fail(file, NULL, ENOMEM);
		pf_fs_free(t->fs);
		return 1;
	}
	t->dirs[0] = pf_fs_root(t->fs);
	t->n = 1;
	return 0;
}

static int tree_push(tree *t, pf_inode *in)
{
	if (t->n == t->cap) {
		pf_inode **d = realloc(t->dirs, 2 * t->cap * sizeof(*d));
		if (!d) {
			pf_fs_forget(t->fs, in, 1);
			return ENOMEM;
		}
		t->dirs = d;
		t->cap *= 2;
	}
	t->dirs[t->n++] = in;
	return 0;
}

/* Back to the root, every lookup forgotten. */
static void tree_reset(tree *t)
{
	while (t->n > 1)
		pf_fs_forget(t->fs, t->dirs[--t->n], 1);
}

/* Ends the command: the lookups forgotten, pending edits written back
 * (as at unmount). Returns rc, or 1 when the write-back failed (the log
 * said why: "NAME: cannot write back: REASON"). */
static int tree_close(tree *t, int rc)
{
	int wrc;

	tree_reset(t);
	free(t->dirs);
	wrc = pf_fs_stop(t->fs);
	pf_fs_free(t->fs);
	if (wrc) {
		fail(t->file, NULL, wrc);
		return 1;
	}
	return rc;
}

static pf_inode *tree_top(const tree *t)
{
	return t->dirs[t->n - 1];
}

/* Walks `path` from the root as the kernel resolves a path in the mount:
 * "." and empty components skipped, ".." up (not above the root), a
 * symlink met before the last component followed (its target read with
 * pf_fs_readlink, relative to its directory), the last one too when
 * `follow`. The inode reached is tree_top(t), its attributes in *st.
 * 0 or errno. */
static int tree_walk(tree *t, const char *path, int follow, struct stat *st)
{
	char *rest = strdup(path), *p;
	int links = 0, rc = 0;

	tree_reset(t);
	if (!rest)
		return ENOMEM;
	rc = pf_fs_getattr(t->fs, tree_top(t), st);
	p = rest;
	while (!rc && *p) {
		char *name = p, *slash = strchr(p, '/');
		pf_inode *in;
		pk_buf target = PK_BUF_INIT;
		char *joined;

		p = slash ? slash + 1 : p + strlen(p);
		if (slash)
			*slash = '\0';
		if (!*name || !strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			if (t->n > 1)
				pf_fs_forget(t->fs, t->dirs[--t->n], 1);
			rc = pf_fs_getattr(t->fs, tree_top(t), st);
			continue;
		}
		if (!S_ISDIR(st->st_mode)) {
			rc = ENOTDIR;
			break;
		}
		rc = pf_fs_lookup(t->fs, tree_top(t), name, &in, st);
		if (rc)
			break;
		if (!S_ISLNK(st->st_mode) || (!*p && !follow)) {
			rc = tree_push(t, in);
			continue;
		}
		/* a symlink to follow: its target, then what was left */
		rc = pf_fs_readlink(t->fs, in, &target);
		pf_fs_forget(t->fs, in, 1);
		if (!rc && ++links > MAX_LINKS)
			rc = ELOOP;
		if (!rc && (!target.data || target.data[0] == '/'))
			rc = ENOENT; /* outside the mount: not ours to follow */
		if (!rc &&
		    asprintf(&joined, "%.*s/%s",
			     (int)strnlen((char *)target.data, target.len),
			     (char *)target.data, p) < 0)
			rc = ENOMEM;
		pk_buf_release(&target);
		if (rc)
			break;
		free(rest);
		rest = p = joined;
		rc = pf_fs_getattr(t->fs, tree_top(t), st);
	}
	free(rest);
	return rc;
}

/* ---- reading a directory ---------------------------------------------- */

/* ---- ls ---------------------------------------------------------------- */

static char type_letter(mode_t m)
{
	return S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : '-';
}

/* The long line of `in` (attributes st) shown as `name`:
 * "TYPE SIZE NAME[ -> TARGET]". */
static int long_line(pf_fs *fs, pf_inode *in, const struct stat *st,
		     const char *name)
{
	pk_buf target = PK_BUF_INIT;
	int rc = 0;

	printf("%c %llu %s", type_letter(st->st_mode),
	       (unsigned long long)st->st_size, name);
	if (S_ISLNK(st->st_mode)) {
		rc = pf_fs_readlink(fs, in, &target);
		if (!rc && target.data)
			printf(" -> %.*s",
			       (int)strnlen((char *)target.data, target.len),
			       (char *)target.data);
		pk_buf_release(&target);
	}
	putchar('\n');
	return rc;
}

int pt_ls(int argc, char **argv)
{
	int lng = 0, rc, ret = 0;
	const char *file, *path;
	struct stat st;
	listing l;
	tree t;
	size_t i;

	if (argc >= 2 && !strcmp(argv[1], "-l")) {
		lng = 1;
		argv++;
		argc--;
	}
	if (argc != 2 && argc != 3)
		return PT_USAGE;
	file = argv[1];
	path = argc == 3 ? argv[2] : "";
	if (tree_open(&t, file, 0))
		return 1;
	/* ls follows a symlink it is given, unless -l shows it */
	rc = tree_walk(&t, path, !lng, &st);
	if (rc) {
		fail(file, path, rc);
		return tree_close(&t, 1);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (lng)
			rc = long_line(t.fs, tree_top(&t), &st, path);
		else
			printf("%s\n", path);
		if (rc)
			fail(file, path, rc);
		return tree_close(&t, rc ? 1 : 0);
	}
	rc = list_dir(t.fs, tree_top(&t), &l);
	if (rc) {
		fail(file, path, rc);
		return tree_close(&t, 1);
	}
	for (i = 0; i < l.n; i++) {
		pf_inode *in;
		struct stat est;

		if (!lng) {
			printf("%s\n", l.e[i].name);
			continue;
		}
		rc = pf_fs_lookup(t.fs, tree_top(&t), l.e[i].name, &in, &est);
		if (!rc) {
			rc = long_line(t.fs, in, &est, l.e[i].name);
			pf_fs_forget(t.fs, in, 1);
		}
		if (rc) {
			fflush(stdout);
			fprintf(stderr, "pickletool: %s%s%s/%s: %s\n", file,
				*path ? "/" : "", path, l.e[i].name,
				strerror(rc));
			ret = 1;
		}
	}
	listing_free(&l);
	if (fflush(stdout) != 0) {
		fail("<stdout>", NULL, errno);
		ret = 1;
	}
	return tree_close(&t, ret);
}

/* ---- get --------------------------------------------------------------- */

static int write_out(const void *p, size_t n)
{
	return fwrite(p, 1, n, stdout) == n ? 0 : errno ? errno : EIO;
}

/* Everything a read of f from offset 0 gives, to stdout: 0 or errno
 * (*out_err set when the error is stdout's). */
static int copy_out(pf_fs *fs, pf_file *f, int *out_err)
{
	uint64_t off = 0;
	char *buf = NULL;

	for (;;) {
		pf_span sp;
		size_t got = 0;
		int rc = pf_fs_read(fs, f, off, CHUNK, &sp), i;

		if (rc) {
			free(buf);
			return rc;
		}
		if (sp.fd >= 0) {
			/* a range of a file: as splice reads it, up to its
			 * end */
			ssize_t r = 0;
			if (!buf && !(buf = malloc(CHUNK)))
				rc = ENOMEM;
			while (!rc && got < sp.fd_len) {
				r = pread(sp.fd, buf, sp.fd_len - got,
					  (off_t)(sp.fd_off + got));
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0) {
					rc = errno;
					break;
				}
				if (r == 0)
					break; /* the end of the file */
				if ((rc = write_out(buf, (size_t)r)))
					*out_err = 1;
				got += (size_t)r;
			}
		} else {
			for (i = 0; i < sp.niov && !rc; i++) {
				if ((rc = write_out(sp.iov[i].iov_base,
						    sp.iov[i].iov_len)))
					*out_err = 1;
				got += sp.iov[i].iov_len;
			}
		}
		pf_span_release(&sp);
		if (rc || got == 0) {
			free(buf);
			return rc;
		}
		off += got;
	}
}

int pt_get(int argc, char **argv)
{
	const char *file, *path;
	struct stat st;
	pf_file *f;
	int rc, keep, out_err = 0;
	tree t;

	if (argc != 3)
		return PT_USAGE;
	file = argv[1];
	path = argv[2];
	if (tree_open(&t, file, 0))
		return 1;
	rc = tree_walk(&t, path, 1, &st);
	if (!rc)
		rc = pf_fs_open(t.fs, tree_top(&t), O_RDONLY, &f, &keep);
	if (rc == EISDIR && t.n > 1) {
		/* a pickle of a folder is loaded when first listed: a
		 * broken one turns into its raw file then (the mount's
		 * first cat of it fails, the kernel seeing the type change;
		 * every later one reads the raw file) */
		pf_dirh *d;
		if (pf_fs_opendir(t.fs, tree_top(&t), &d) == 0)
			pf_fs_releasedir(t.fs, d);
		rc = tree_walk(&t, path, 1, &st);
		if (!rc)
			rc =
			    pf_fs_open(t.fs, tree_top(&t), O_RDONLY, &f, &keep);
	}
	if (!rc) {
		rc = copy_out(t.fs, f, &out_err);
		pf_fs_release(t.fs, f);
	}
	if (!rc && fflush(stdout) != 0) {
		rc = errno ? errno : EIO;
		out_err = 1;
	}
	if (rc)
		fail(out_err ? "<stdout>" : file, out_err ? NULL : path, rc);
	return tree_close(&t, rc ? 1 : 0);
}

/* ---- set --------------------------------------------------------------- */

/* All of stdin: 0 or errno. */
static int read_stdin(pk_buf *b)
{
	for (;;) {
		ssize_t r;

		if (pk_buf_grow(b, CHUNK) != 0)
			return ENOMEM;
		r = read(STDIN_FILENO, b->data + b->len, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			return 0;
		b->len += (size_t)r;
	}
}

/* What `printf %s VALUE > MOUNT/PATH` does: the value opened with
 * O_TRUNC (created when the name is new: a new key), written, closed. */
static int set_value(tree *t, const char *path, const uint8_t *data, size_t len)
{
	char *dir = strdup(path), *name, *slash;
	struct stat st;
	pf_inode *in = NULL;
	pf_file *f = NULL;
	uint64_t off = 0;
	int rc, keep, frc;

	if (!dir)
		return ENOMEM;
	while (*dir && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	slash = strrchr(dir, '/');
	name = slash ? slash + 1 : dir;
	if (slash)
		*slash = '\0';
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
		free(dir);
		return EISDIR;
	}
	rc = tree_walk(t, slash ? dir : "", 1, &st);
	if (!rc && !S_ISDIR(st.st_mode))
		rc = ENOTDIR;
	if (!rc)
		rc = pf_fs_lookup(t->fs, tree_top(t), name, &in, &st);
	if (rc == ENOENT) {
		rc = pf_fs_create(t->fs, tree_top(t), name,
				  O_WRONLY | O_CREAT | O_TRUNC, &in, &st, &f);
		if (!rc)
			rc = tree_push(t, in);
	} else if (!rc && S_ISLNK(st.st_mode)) {
		/* the redirection writes where the symlink points */
		pf_fs_forget(t->fs, in, 1);
		rc = tree_walk(t, path, 1, &st);
	} else if (!rc) {
		rc = tree_push(t, in);
	}
	free(dir);
	if (!rc && !f)
		rc = S_ISDIR(st.st_mode)
			 ? EISDIR
			 : pf_fs_open(t->fs, tree_top(t), O_WRONLY | O_TRUNC,
				      &f, &keep);
	if (rc) {
		if (f)
			pf_fs_release(t->fs, f);
		return rc;
	}
	while (!rc && off < len) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		rc = pf_fs_write(t->fs, f, off, data + off, n);
		off += n;
	}
	/* close(): commits, or says why not */
	frc = pf_fs_flush(t->fs, f);
	pf_fs_release(t->fs, f);
	return rc ? rc : frc;
}

int pt_set(int argc, char **argv)
{
	pk_buf in = PK_BUF_INIT;
	const char *file, *path;
	int rc;
	tree t;

	if (argc != 4)
		return PT_USAGE;
	file = argv[1];
	path = argv[2];
	if (!strcmp(argv[3], "-")) {
		rc = read_stdin(&in);
		if (rc) {
			fail("<stdin>", NULL, rc);
			pk_buf_release(&in);
			return 1;
		}
	} else if (pk_buf_add(&in, argv[3], strlen(argv[3])) != 0) {
		fail(file, path, ENOMEM);
		return 1;
	}
	if (tree_open(&t, file, 1)) {
		pk_buf_release(&in);
		return 1;
	}
	rc = set_value(&t, path, in.data ? in.data : (const uint8_t *)"",
		       in.len);
	pk_buf_release(&in);
	if (rc)
		fail(file, path, rc);
	return tree_close(&t, rc ? 1 : 0);
}

/* ---- find -------------------------------------------------------------- */

/* One directory being walked: its entries, the next one to look at, and
 * the length of its path in the path buffer. */
typedef struct frame {
	pf_inode *dir; /* one lookup held (NULL: the walk's start) */
	listing l;
	size_t next, plen;
} frame;

typedef struct pathbuf {
	char *s;
	size_t len, cap;
} pathbuf;

static int path_set(pathbuf *p, size_t plen, const char *name)
{
	size_t n = strlen(name), need = plen + 1 + n + 1;

	if (need > p->cap) {
		size_t cap = p->cap ? p->cap : 256;
		char *s;
		while (cap < need)
			cap *= 2;
		s = realloc(p->s, cap);
		if (!s)
			return ENOMEM;
		p->s = s;
		p->cap = cap;
	}
	p->len = plen;
	if (plen)
		p->s[p->len++] = '/';
	memcpy(p->s + p->len, name, n + 1);
	p->len += n;
	return 0;
}

int pt_find(int argc, char **argv)
{
	const char *file, *path;
	frame *st = NULL;
	size_t n = 0, cap = 0;
	pathbuf pb = {NULL, 0, 0};
	struct stat s;
	int rc, ret = 0;
	tree t;

	if (argc != 2 && argc != 3)
		return PT_USAGE;
	file = argv[1];
	path = argc == 3 ? argv[2] : "";
	if (tree_open(&t, file, 0))
		return 1;
	/* find does not follow the symlink it starts from */
	rc = tree_walk(&t, path, 0, &s);
	if (rc) {
		fail(file, path, rc);
		return tree_close(&t, 1);
	}
	if (!S_ISDIR(s.st_mode))
		return tree_close(&t, 0);
	/* the start, as given less trailing slashes (find prints it so) */
	if (path_set(&pb, 0, path) != 0)
		goto nomem;
	while (pb.len > 1 && pb.s[pb.len - 1] == '/')
		pb.s[--pb.len] = '\0';
	if (pk_vec_grow((void **)&st, &cap, 1, sizeof(*st)) != 0)
		goto nomem;
	st[0].dir = NULL;
	st[0].next = 0;
	st[0].plen = pb.len;
	rc = list_dir(t.fs, tree_top(&t), &st[0].l);
	if (rc) {
		fail(file, path, rc);
		ret = 1;
		st[0].l.n = 0;
	}
	n = 1;
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	while (n) {
		frame *fr = &st[n - 1];
		pf_inode *dir = fr->dir ? fr->dir : tree_top(&t), *in;
		entry *e;
		frame nf;

		if (fr->next == fr->l.n) {
			listing_free(&fr->l);
			if (fr->dir)
				pf_fs_forget(t.fs, fr->dir, 1);
			n--;
			continue;
		}
		e = &fr->l.e[fr->next++];
		if (path_set(&pb, fr->plen, e->name) != 0)
			goto nomem;
		pb.s[pb.len] = '\n';
		if (fwrite(pb.s, 1, pb.len + 1, stdout) != pb.len + 1) {
			rc = errno ? errno : EIO;
			fail("<stdout>", NULL, rc);
			ret = 1;
			break;
		}
		pb.s[pb.len] = '\0';
		if (e->type && e->type != S_IFDIR)
			continue;
		rc = pf_fs_lookup(t.fs, dir, e->name, &in, &s);
		if (rc)
			in = NULL;
		if (!rc && !S_ISDIR(s.st_mode)) {
			pf_fs_forget(t.fs, in, 1);
			continue;
		}
		if (!rc)
			rc = list_dir(t.fs, in, &nf.l);
		if (rc) {
			fflush(stdout);
			fprintf(stderr, "pickletool: %s/%s: %s\n", file, pb.s,
				strerror(rc));
			ret = 1;
			if (in)
				pf_fs_forget(t.fs, in, 1);
			continue;
		}
		if (pk_vec_grow((void **)&st, &cap, n + 1, sizeof(*st)) != 0) {
			listing_free(&nf.l);
			pf_fs_forget(t.fs, in, 1);
			goto nomem;
		}
		nf.dir = in;
		nf.next = 0;
		nf.plen = pb.len;
		st[n++] = nf;
	}
	if (fflush(stdout) != 0) {
		fail("<stdout>", NULL, errno ? errno : EIO);
		ret = 1;
	}
	goto out;
nomem:
	fail(file, path, ENOMEM);
	ret = 1;
out:
	while (n) {
		listing_free(&st[n - 1].l);
		if (st[n - 1].dir)
			pf_fs_forget(t.fs, st[n - 1].dir, 1);
		n--;
	}
	free(st);
	free(pb.s);
	return tree_close(&t, ret);
}
