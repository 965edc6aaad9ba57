/*
 * scan_cmd.c - `pickletool scan [--json] [--strict] PATH...`: what each
 * pickle under PATH would import and call if loaded (scan.h).
 *
 * PATH is opened as the mount opens its SOURCE (vfs.h, without FUSE): a
 * folder is walked (iteratively), archives are opened (nested too),
 * checkpoints give their data.pkl, compressed pickles are decompressed
 * (bounded as the mount bounds them), joblib files and files of several
 * pickles are read whole. Every pickle found, also one that does not
 * parse, is scanned from its bytes.
 * The pickles found under one PATH are scanned on all cores, then
 * reported in the order they were found.
 * Output: a line per dangerous or suspicious finding, "NAME: byte N:
 * dangerous call posix.system ('touch /tmp/x',) at payload", then a
 * summary; --json: the same as one JSON document. Exit status (as
 * picklescan's): 1 something dangerous; else 2 a file could not be
 * scanned; else 3 with --strict when something is suspicious; else 0.
 */
#include "scan_cmd.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beneath.h"
#include "cache.h"
#include "inode.h"
#include "listing.h"
#include "log.h"
#include "mapping.h"
#include "scan.h"
#include "sniff.h"
#include "source.h"
#include "vfs.h"

struct totals {
	unsigned files, pickles, clean, suspicious, dangerous, errors;
	int json, strict, first;
};

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *risk_word(int r)
{
	return r == PF_RISK_DANGEROUS	 ? "dangerous"
	       : r == PF_RISK_SUSPICIOUS ? "suspicious"
					 : "safe";
}

/* Prints the findings of one file, and counts it. */
static void report(struct totals *t, const char *name, const pf_scan *s,
		   const char *error)
{
	int worst = pf_scan_worst(s);
	size_t i;

	t->files++;
	t->pickles += s->pickles;
	if (worst == PF_RISK_DANGEROUS)
		t->dangerous++;
	else if (error || s->failed)
		t->errors++;
	else if (worst == PF_RISK_SUSPICIOUS)
		t->suspicious++;
	else
		t->clean++;
	if (t->json) {
		printf("%s\n    {\"path\": ", t->first ? "" : ",");
		t->first = 0;
		json_str(name);
		printf(", \"pickles\": %u, \"verdict\": \"%s\", \"error\": ",
		       s->pickles,
		       worst == PF_RISK_DANGEROUS ? "dangerous"
		       : error || s->failed	  ? "error"
		       : worst			  ? "suspicious"
						  : "clean");
		if (error || s->failed) {
			char msg[300];
			snprintf(msg, sizeof(msg), "byte %llu: %s",
				 (unsigned long long)s->err.offset,
				 error ? error : s->err.msg);
			json_str(msg);
		} else {
			printf("null");
		}
		printf(", \"findings\": [");
		for (i = 0; i < s->n; i++) {
			const pf_finding *f = &s->f[i];
			printf("%s\n      {\"offset\": %llu, \"risk\": \"%s\", "
			       "\"kind\": \"%s\", \"global\": ",
			       i ? "," : "", (unsigned long long)f->offset,
			       risk_word(f->risk), f->call ? "call" : "global");
			json_str(f->name);
			printf(", \"args\": ");
			if (f->args)
				json_str(f->args);
			else
				printf("null");
			printf(", \"path\": ");
			if (f->path)
				json_str(f->path);
			else
				printf("null");
			printf(", \"called\": %s, \"nested\": %u}",
			       f->called ? "true" : "false", f->nested);
		}
		printf("%s]}", s->n ? "\n    " : "");
		return;
	}
	for (i = 0; i < s->n; i++) {
		const pf_finding *f = &s->f[i];
		if (f->risk == PF_RISK_SAFE || f->called)
			continue; /* a called global: its call says it */
		printf("%s: byte %llu: %s %s %s", name,
		       (unsigned long long)f->offset, risk_word(f->risk),
		       f->call ? "call" : "global", f->name);
		if (f->args)
			printf(" %s", f->args);
		if (f->path)
			printf(" at %s", f->path);
		if (f->nested)
			printf(" (in a pickle passed to pickle.loads)");
		putchar('\n');
	}
	if (error)
		printf("%s: cannot be scanned: %s\n", name, error);
	else if (s->failed)
		printf("%s: byte %llu: %s (the pickle stops there; what is "
		       "above ran before)\n",
		       name, (unsigned long long)s->err.offset, s->err.msg);
}

/* One pickle source to scan, and what its scan gave. */
struct job {
	pf_source *src;
	char *name;
	pf_scan s;
	int rc; /* 0, ENODATA (not a pickle: nothing to say) or errno */
	char error[256];
};

struct jobs {
	struct job *j;
	size_t n, cap;
	size_t next; /* the next job a worker takes (lock) */
	pthread_mutex_t lock;
};

/* Reads the bytes of a job's source and scans them. */
/* A plain pickle file of a folder, read into buf rather than mapped:
 * for a thousand small pickles a read is cheaper than a mapping and its
 * unmapping (which, with two threads in one process, interrupts the
 * other core each time). 0, or -1: take pf_source_bytes's way. */
#define READ_MAX (8u << 20)
static int read_plain(pf_source *s, pk_buf *buf)
{
	int plain, fd;
	struct stat st;
	size_t done = 0;

	pthread_mutex_lock(&s->lock);
	plain = !s->parent && s->zfmt == PK_Z_NONE && !s->ckpt && !s->npy &&
		(s->state == PF_SRC_PICKLE || s->broken) &&
		(uint64_t)s->st.st_size <= READ_MAX;
	pthread_mutex_unlock(&s->lock);
	if (!plain)
		return -1;
	fd = pf_beneath_open(s->dirfd, s->path,
			     O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > READ_MAX) {
		close(fd);
		return -1;
	}
	pk_buf_reset(buf);
	if (pk_buf_grow(buf, (size_t)st.st_size + 1)) {
		close(fd);
		return -1;
	}
	while (done < (size_t)st.st_size) {
		ssize_t k =
		    read(fd, buf->data + done, (size_t)st.st_size - done);
		if (k <= 0)
			break;
		done += (size_t)k;
	}
	close(fd);
	buf->len = done;
	return 0;
}

static void run_job(struct job *j, pk_buf *buf)
{
	int maybe;
	pf_map *hold = NULL;
	const uint8_t *data;
	size_t len;
	pk_err e = {PK_OK, NULL, 0};

	memset(&j->s, 0, sizeof(j->s));
	if (buf && read_plain(j->src, buf) == 0) {
		j->rc = 0;
		data = buf->data ? buf->data : (const uint8_t *)"";
		len = buf->len;
	} else {
		j->rc = pf_source_bytes(j->src, &hold, &data, &len, &e);
	}
	if (j->rc) {
		snprintf(j->error, sizeof(j->error), "%s",
			 e.msg ? e.msg : strerror(j->rc));
		return;
	}
	if (pf_scan_bytes(data, len, pf_cache_tree_max(), &j->s) == ENOMEM) {
		j->rc = ENOMEM;
		snprintf(j->error, sizeof(j->error), "out of memory");
	}
	pf_map_unref(hold);
	/* a file that only might be a protocol 0/1 pickle (no PROTO, no
	 * pickle name) and does not parse is no pickle to the mount: text
	 * whose first letter is an opcode. Said only when what it would
	 * run before failing is dangerous. */
	pthread_mutex_lock(&j->src->lock);
	maybe = j->src->sniffed == PF_SNIFF_MAYBE && j->src->broken;
	pthread_mutex_unlock(&j->src->lock);
	if (maybe && !j->rc && pf_scan_worst(&j->s) < PF_RISK_DANGEROUS) {
		pf_scan_free(&j->s);
		j->rc = ENODATA;
	}
}

static void *worker(void *arg)
{
	struct jobs *q = arg;
	pk_buf buf = PK_BUF_INIT; /* this thread's, for every file */

	for (;;) {
		size_t i;
		pthread_mutex_lock(&q->lock);
		i = q->next++;
		pthread_mutex_unlock(&q->lock);
		if (i >= q->n)
			break;
		run_job(&q->j[i], &buf);
	}
	pk_buf_release(&buf);
	return NULL;
}

/* Scans every queued source on all cores (each scan is independent: a
 * source has its own lock, a decode its own doc), then reports them in
 * the order they were found, and empties the queue. */
static void run_jobs(struct totals *t, struct jobs *q)
{
	pthread_t th[8];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus < 1 ? 1 : cpus > 8 ? 8 : (size_t)cpus, k, started = 0;

	if (n > q->n)
		n = q->n;
	q->next = 0;
	for (k = 1; k < n; k++)
		if (pthread_create(&th[k], NULL, worker, q) == 0)
			started = k;
		else
			break;
	worker(q);
	for (k = 1; k <= started; k++)
		pthread_join(th[k], NULL);
	for (k = 0; k < q->n; k++) {
		struct job *j = &q->j[k];
		if (j->rc != ENODATA)
			report(t, j->name, &j->s, j->rc ? j->error : NULL);
		pf_scan_free(&j->s);
		free(j->name);
	}
	q->n = 0;
}

static void queue_job(struct jobs *q, pf_source *src, const char *name)
{
	size_t cap = q->cap;
	char *nm = strdup(name);

	if (!nm || pk_vec_grow((void **)&q->j, &cap, q->n + 1, sizeof(*q->j))) {
		free(nm);
		return;
	}
	q->cap = cap;
	memset(&q->j[q->n], 0, sizeof(q->j[q->n]));
	q->j[q->n].src = src;
	q->j[q->n++].name = nm;
}

/* Scans the pickle bytes of source src (named name), now. */
static void scan_source(struct totals *t, pf_source *src, const char *name)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.src = src;
	run_job(&j, NULL);
	if (j.rc != ENODATA)
		report(t, name, &j.s, j.rc ? j.error : NULL);
	pf_scan_free(&j.s);
}

struct todo {
	pf_inode *in;
	char *name;
};

/* Walks the tree under root (iteratively): folders and archives are
 * gone into, pickles and plain files are scanned. */
static void walk(struct totals *t, struct jobs *q, pf_fs *fs, pf_inode *root,
		 const char *top)
{
	struct todo *stack = NULL;
	size_t n = 0, cap = 0;

	if (pk_vec_grow((void **)&stack, &cap, 1, sizeof(*stack)))
		return;
	stack[n].in = root;
	stack[n++].name = strdup(top);
	while (n) {
		struct todo e = stack[--n];
		pf_source *src;
		if (!e.name)
			goto next;
		switch (e.in->kind) {
		case PF_I_MIRROR_DIR:
		case PF_I_ARC_DIR:
		case PF_I_ARCHIVE: {
			listing l;
			size_t k;
			if (list_dir(fs, e.in, &l)) {
				report(t, e.name, &(pf_scan){0},
				       "cannot be read as a folder");
				break;
			}
			/* pushed in reverse: scanned in listing order */
			for (k = l.n; k-- > 0;) {
				const char *nm = l.e[k].name;
				pf_inode *child;
				struct stat st;
				if (pf_fs_lookup(fs, e.in, nm, &child, &st))
					continue;
				if (pk_vec_grow((void **)&stack, &cap, n + 1,
						sizeof(*stack))) {
					pf_fs_forget(fs, child, 1);
					continue;
				}
				stack[n].in = child;
				if (asprintf(&stack[n].name, "%s/%s", e.name,
					     nm) < 0)
					stack[n].name = NULL;
				n++;
			}
			listing_free(&l);
			break;
		}
		default:
			if ((src = pf_fs_source_of(fs, e.in)))
				queue_job(q, src, e.name);
		}
	next:
		if (e.in != root)
			pf_fs_forget(fs, e.in, 1);
		free(e.name);
	}
	free(stack);
}

/* A file, scanned from its bytes (sniffed, not parsed first). An
 * archive is left to a mount's walk (returns 1) unless msg is set (its
 * mount failed: msg says why; it is reported). 0 when reported. */
static int scan_file(struct totals *t, const char *path, const char *msg)
{
	char *copy = strdup(path), *slash;
	const char *dir = ".", *base = path;
	pf_source *src = NULL;
	struct stat st;
	int dirfd = -1, rc = 1;

	if (!copy)
		return 1;
	if ((slash = strrchr(copy, '/'))) {
		*slash = '\0';
		dir = slash == copy ? "/" : copy;
		base = slash + 1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) ||
	    !S_ISREG(st.st_mode) || !(src = pf_source_new(dirfd, base, path))) {
		if (msg) {
			report(t, path, &(pf_scan){0}, msg);
			rc = 0;
		}
		goto out;
	}
	src->lazy = 1;
	if (pf_source_classify(src, &st, 0) == PF_SRC_ARCHIVE && !msg)
		goto out; /* walked through a mount */
	scan_source(t, src, path);
	rc = 0;
out:
	pf_source_free(src);
	if (dirfd >= 0)
		close(dirfd);
	free(copy);
	return rc;
}

int cmd_scan(int argc, char **argv)
{
	struct totals t;
	struct jobs q = {NULL, 0, 0, 0, PTHREAD_MUTEX_INITIALIZER};
	int i;

	memset(&t, 0, sizeof(t));
	t.first = 1;
	while (argc && argv[0][0] == '-' && argv[0][1] == '-') {
		if (!strcmp(argv[0], "--json"))
			t.json = 1;
		else if (!strcmp(argv[0], "--strict"))
			t.strict = 1;
		else
			return 2;
		argc--;
		argv++;
	}
	if (!argc)
		return 2;
	pf_log_set_quiet(1); /* the report says what is wrong */
	if (t.json)
		printf("{\"files\": [");
	for (i = 0; i < argc; i++) {
		pf_fs_config cfg = {.source = argv[i], .ro = 1, .lazy = 1};
		pf_fs *fs = NULL;
		char msg[1200];
		const char *base = argv[i];
		size_t bl = strlen(base);
		struct stat st;
		while (bl > 1 && base[bl - 1] == '/')
			bl--;
		/* a file that is no archive is scanned from its bytes, not
		 * mounted: a mount would parse it first */
		if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode) &&
		    scan_file(&t, argv[i], NULL) == 0)
			continue;
		if (pf_fs_new(&cfg, &fs, msg, sizeof(msg))) {
			/* a file SOURCE that does not parse: its bytes are
			 * still scanned (what comes before the failure ran) */
			scan_file(&t, argv[i], msg);
			pf_fs_free(fs);
			continue;
		}
		{
			char *name = strndup(base, bl);
			walk(&t, &q, fs, pf_fs_root(fs), name ? name : base);
			free(name);
		}
		run_jobs(&t, &q); /* while fs (and its sources) lives */
		pf_fs_free(fs);
	}
	if (t.json)
		printf(
		    "\n  ],\n  \"summary\": {\"files\": %u, \"pickles\": %u, "
		    "\"clean\": %u, \"suspicious\": %u, \"dangerous\": %u, "
		    "\"errors\": %u}\n}\n",
		    t.files, t.pickles, t.clean, t.suspicious, t.dangerous,
		    t.errors);
	else
		printf("scanned %u files, %u pickles: %u clean, %u suspicious, "
		       "%u dangerous, %u could not be scanned\n",
		       t.files, t.pickles, t.clean, t.suspicious, t.dangerous,
		       t.errors);
	free(q.j);
	if (t.dangerous)
		return 1;
	if (t.errors)
		return 2;
	if (t.strict && t.suspicious)
		return 3;
	return 0;
}
