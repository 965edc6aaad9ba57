/*
 * archive.c - what tar and zip share (archive.h): name normalisation, the
 * directory tree, lookups, and writing a member to an fd.
 *
 * The tree is made one depth at a time, by sorting, never by comparing
 * whole paths (a deep path would make that quadratic): at depth k, every
 * entry with a k-th component is keyed (node of its first k-1
 * components, k-th component, archive order); sorted, entries with the
 * same key are neighbours and make one node, the last of them that ends
 * there its winner. Nodes are made in breadth-first order with each
 * directory's children next to each other, sorted: the members are the
 * nodes in that order (those that are not listed taken out), and a
 * directory's children are the members from child_at to child_at +
 * nchildren. Every step is O(name bytes log entries).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "archive_internal.h"

#define NAME_MAX_COMPONENT 255
#define PATH_MAX_NAME 4095 /* PATH_MAX less its NUL */
#define DIR_MODE 0755
#define NONE UINT32_MAX
/* member names may take this many times the archive's bytes (implied
 * directories have names the archive does not spell out), plus 1 MiB */
#define NAMES_PER_BYTE 64

/* ---- building --------------------------------------------------------- */

int pf_arc_build_add(pf_arc_build *b, const uint8_t *raw, size_t rawlen,
		     const pf_arc_meta *meta)
{
	size_t start = b->pool.len, i = 0, len;
	uint32_t ncomp = 0;
	pf_arc_ent *t;

	while (i < rawlen) {
		size_t j = i;

		while (j < rawlen && raw[j] != '/')
			j++;
		len = j - i;
		if (len == 0 || (len == 1 && raw[i] == '.')) {
			i = j + 1;
			continue;
		}
		if ((len == 2 && raw[i] == '.' && raw[i + 1] == '.') ||
		    len > NAME_MAX_COMPONENT || memchr(raw + i, 0, len) ||
		    b->pool.len - start + len > PATH_MAX_NAME)
			goto skip;
		if ((b->pool.len > start && pk_buf_addc(&b->pool, '/')) ||
		    pk_buf_add(&b->pool, raw + i, len))
			goto nomem;
		ncomp++;
		i = j + 1;
	}
	len = b->pool.len - start;
	if (len == 0)
		goto skip;
	if (pk_vec_grow((void **)&b->ents, &b->cap, b->n + 1, sizeof(*b->ents)))
		goto nomem;
	t = &b->ents[b->n++];
	t->name = start;
	t->len = (uint32_t)len;
	t->ncomp = ncomp;
	t->meta = *meta;
	b->ncomp += ncomp;
	return 0;
skip:
	b->pool.len = start;
	if (b->pool.data)
		b->pool.data[start] = 0;
	return 0;
nomem:
	b->pool.len = start;
	if (b->pool.data)
		b->pool.data[start] = 0;
	return -1;
}

void pf_arc_build_release(pf_arc_build *b)
{
	free(b->ents);
	b->ents = NULL;
	b->n = b->cap = 0;
	pk_buf_release(&b->pool);
}

/* An entry at one depth: its node so far and its next component. */
typedef struct step {
	uint32_t parent; /* node */
	uint32_t ent;	 /* index in b->ents: archive order */
	uint64_t comp;	 /* offset in the pool */
	uint32_t clen;
} step;

/* A node of the tree: one distinct path. */
typedef struct node {
	uint32_t parent;
	uint64_t comp; /* its last component, in the pool */
	uint32_t clen;
	uint32_t win, win_dir; /* last entry named so, last directory entry */
	uint32_t member;       /* its index in the members, or NONE */
	uint8_t has_child;
} node;

/* by node, then component: the key of a node */
static int cmp_step_key(const step *a, const step *c, const uint8_t *pool)
{
	uint32_t n;
	int r;

	if (a->parent != c->parent)
		return a->parent < c->parent ? -1 : 1;
	n = a->clen < c->clen ? a->clen : c->clen;
	r = memcmp(pool + a->comp, pool + c->comp, n);
	if (r)
		return r;
	return a->clen < c->clen ? -1 : a->clen > c->clen;
}

static int cmp_step(const void *x, const void *y, void *arg)
{
	const step *a = x, *c = y;
	int r = cmp_step_key(a, c, arg);

	if (r)
		return r;
	return a->ent < c->ent ? -1 : a->ent > c->ent;
}

/* The nodes of all entries' paths, breadth first, children of a node
 * next to each other and sorted. *nn their count. 0, or -1 when memory
 * runs out. */
static int make_nodes(pf_arc_build *b, node *nodes, uint32_t *nn)
{
	step *st = malloc((b->n ? b->n : 1) * sizeof(*st));
	uint64_t *pos = malloc((b->n ? b->n : 1) * sizeof(*pos));
	size_t na = 0, i, j;
	uint32_t n = 1;

	if (!st || !pos) {
		free(st);
		free(pos);
		return -1;
	}
	memset(&nodes[0], 0, sizeof(nodes[0]));
	nodes[0].win = nodes[0].win_dir = NONE;
	nodes[0].has_child = 1;
	for (i = 0; i < b->n; i++) {
		st[na].parent = 0;
		st[na].ent = (uint32_t)i;
		pos[i] = b->ents[i].name;
		na++;
	}
	while (na) {
		size_t keep = 0;

		/* the next component of every entry still going */
		for (i = 0; i < na; i++) {
			const pf_arc_ent *t = &b->ents[st[i].ent];
			uint64_t p = pos[st[i].ent], end = t->name + t->len;
			const uint8_t *s = b->pool.data + p;
			const uint8_t *slash = memchr(s, '/', end - p);

			st[i].comp = p;
			st[i].clen =
			    (uint32_t)(slash ? (uint64_t)(slash - s) : end - p);
			pos[st[i].ent] = p + st[i].clen + 1;
		}
		qsort_r(st, na, sizeof(*st), cmp_step, b->pool.data);
		for (i = 0; i < na; i = j) {
			node *d = &nodes[n];
			step key = st[i]; /* st[i] may be overwritten below */

			memset(d, 0, sizeof(*d));
			d->parent = key.parent;
			d->comp = key.comp;
			d->clen = key.clen;
			d->win = d->win_dir = NONE;
			for (j = i; j < na &&
				    !cmp_step_key(&key, &st[j], b->pool.data);
			     j++) {
				const pf_arc_ent *t = &b->ents[st[j].ent];

				if (pos[st[j].ent] < t->name + t->len) {
					d->has_child = 1;
					st[keep] = st[j];
					st[keep++].parent = n;
					continue;
				}
				d->win = st[j].ent;
				if (t->meta.type == PF_ARC_DIR)
					d->win_dir = st[j].ent;
			}
			n++;
		}
		na = keep;
	}
	free(st);
	free(pos);
	*nn = n;
	return 0;
}
int pf_arc_build_finish(pf_arc_build *b, pf_arc_index *out, pk_err *e)
{
	node *nodes = NULL;
	pf_arc_member *m = NULL;
	uint32_t *nlen = NULL, nn = 0, nm = 0, i;
	size_t cap = 0, budget;
	pk_buf names = PK_BUF_INIT;
	int rc = PK_E_NOMEM;

	memset(out, 0, sizeof(*out));
	if (b->ncomp >= UINT32_MAX - 1) {
		rc = pk_err_set(e, PK_E_LIMIT, "archive: too many members", 0);
		goto done;
	}
	budget = b->len > (SIZE_MAX - (1u << 20)) / NAMES_PER_BYTE
		     ? SIZE_MAX
		     : b->len * NAMES_PER_BYTE + (1u << 20);
	nodes = malloc((size_t)(b->ncomp + 1) * sizeof(*nodes));
	if (!nodes || make_nodes(b, nodes, &nn))
		goto nomem;
	/* the members: the root, directories, and files */
	for (i = 0; i < nn; i++) {
		node *d = &nodes[i];

		d->member = NONE;
		if (i == 0 || d->has_child ||
		    (d->win != NONE &&
		     b->ents[d->win].meta.type != PF_ARC_OTHER))
			d->member = nm++;
	}
	if (pk_vec_grow((void **)&m, &cap, nm, sizeof(*m)))
		goto nomem;
	memset(m, 0, nm * sizeof(*m));
	nlen = malloc(nm * sizeof(*nlen));
	if (!nlen || pk_buf_addc(&names, 0))
		goto nomem;
	/* the root: name "" at offset 0 of the names */
	m[0].type = PF_ARC_DIR;
	m[0].mode = DIR_MODE;
	nlen[0] = 0;
	for (i = 1; i < nn; i++) {
		const node *d = &nodes[i];
		pf_arc_member *t;
		uint32_t k = d->member, p;
		size_t at, pl, need;

		if (k == NONE)
			continue;
		t = &m[k];
		if (d->has_child) {
			/* a directory, whatever else has its name */
			t->type = PF_ARC_DIR;
			t->mode = DIR_MODE;
			if (d->win_dir != NONE) {
				t->mode = b->ents[d->win_dir].meta.mode;
				t->mtime = b->ents[d->win_dir].meta.mtime;
			}
		} else {
			const pf_arc_meta *s = &b->ents[d->win].meta;

			t->type = s->type;
			t->method = s->method;
			t->flags = s->flags;
			t->offset = s->offset;
			t->size = s->size;
			t->usize = s->usize;
			t->crc = s->crc;
			t->mode = s->mode;
			t->mtime = s->mtime;
		}
		/* its parent is a directory: a member, made before it */
		p = nodes[d->parent].member;
		t->parent = p;
		if (m[p].nchildren++ == 0)
			m[p].child_at = k;
		/* its name: the parent's, "/", its component; the names are
		 * offsets in `names` until it stops moving */
		pl = p ? nlen[p] + 1 : 0;
		need = pl + d->clen;
		if (need > budget || names.len > budget - need - 1) {
			rc = pk_err_set(e, PK_E_LIMIT,
					"archive: member names too long in "
					"total",
					0);
			goto done;
		}
		if (pk_buf_grow(&names, need + 1))
			goto nomem;
		at = names.len;
		if (p) {
			memcpy(names.data + at,
			       names.data + (uintptr_t)m[p].name, pl - 1);
			names.data[at + pl - 1] = '/';
		}
		memcpy(names.data + at + pl, b->pool.data + d->comp, d->clen);
		names.data[at + need] = 0;
		names.len = at + need + 1;
		names.data[names.len] = 0;
		t->name = (const char *)(uintptr_t)at;
		t->base = (const char *)(uintptr_t)(at + pl);
		nlen[k] = (uint32_t)need;
	}
	for (i = 0; i < nm; i++) {
		m[i].fmt = (uint8_t)b->fmt;
		m[i].first_child = m[i].next_sibling = NONE;
		m[i].name = (const char *)names.data + (uintptr_t)m[i].name;
		m[i].base = (const char *)names.data + (uintptr_t)m[i].base;
	}
	/* a directory's children are members child_at, child_at + 1 ... */
	for (i = 0; i < nm; i++) {
		uint32_t c;

		if (!m[i].nchildren)
			continue;
		m[i].first_child = m[i].child_at;
		for (c = 0; c + 1 < m[i].nchildren; c++)
			m[m[i].child_at + c].next_sibling =
			    m[i].child_at + c + 1;
	}
	out->fmt = b->fmt;
	out->m = m;
	out->n = nm;
	out->names = (char *)pk_buf_detach(&names, NULL);
	m = NULL;
	rc = PK_OK;
	goto done;
nomem:
	rc = pk_err_set(e, PK_E_NOMEM, "archive: out of memory", 0);
done:
	free(nodes);
	free(m);
	free(nlen);
	pk_buf_release(&names);
	pf_arc_build_release(b);
	return rc;
}

/* ---- the API ---------------------------------------------------------- */

int pf_arc_sniff(const uint8_t *data, size_t n)
{
	if (n >= 4 && data[0] == 'P' && data[1] == 'K' &&
	    ((data[2] == 3 && data[3] == 4) || (data[2] == 5 && data[3] == 6)))
		return PF_ARC_ZIP;
	if (pf_arc_tar_sniff(data, n))
		return PF_ARC_TAR;
	return PF_ARC_NONE;
}

int pf_arc_index_read(int fmt, const uint8_t *data, size_t len,
		      pf_arc_index *out, pk_err *e)
{
	pf_arc_build b;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	b.fmt = fmt;
	b.len = len;
	if (fmt == PF_ARC_TAR)
		rc = pf_arc_tar_read(&b, data, len, e);
	else if (fmt == PF_ARC_ZIP)
		rc = pf_arc_zip_read(&b, data, len, e);
	else
		rc =
		    pk_err_set(e, PK_E_UNSUPPORTED, "not an archive format", 0);
	if (rc != PK_OK) {
		pf_arc_build_release(&b);
		return rc;
	}
	return pf_arc_build_finish(&b, out, e);
}

void pf_arc_index_free(pf_arc_index *ix)
{
	free(ix->m);
	free(ix->names);
	memset(ix, 0, sizeof(*ix));
}

uint32_t pf_arc_lookup(const pf_arc_index *ix, uint32_t dir, const char *name)
{
	uint32_t lo = 0, hi, k;

	if (dir >= ix->n || ix->m[dir].type != PF_ARC_DIR)
		return UINT32_MAX;
	k = ix->m[dir].child_at;
	hi = ix->m[dir].nchildren;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int r = strcmp(ix->m[k + mid].base, name);

		if (!r)
			return k + mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return UINT32_MAX;
}

uint32_t pf_arc_child(const pf_arc_index *ix, uint32_t dir, uint32_t i)
{
	if (dir >= ix->n || i >= ix->m[dir].nchildren)
		return UINT32_MAX;
	return ix->m[dir].child_at + i;
}

uint32_t pf_arc_find(const pf_arc_index *ix, const char *path)
{
	char comp[NAME_MAX_COMPONENT + 1];
	uint32_t at = 0;

	if (!ix->n)
		return UINT32_MAX;
	while (*path) {
		size_t len = strcspn(path, "/");

		if (len > NAME_MAX_COMPONENT)
			return UINT32_MAX;
		memcpy(comp, path, len);
		comp[len] = 0;
		path += len;
		if (*path)
			path++;
		if (!len || !strcmp(comp, "."))
			continue;
		at = pf_arc_lookup(ix, at, comp);
		if (at == UINT32_MAX)
			return at;
	}
	return at;
}

/* ---- extraction ------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n, pk_err *e)
{
	while (n) {
		ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int saved = w < 0 ? errno : EIO;

			pk_err_set(e, PK_E_IO, "archive: write failed", 0);
			errno = saved;
			return PK_E_IO;
		}
		p += w;
		n -= (size_t)w;
	}
	return PK_OK;
}

/* crc32 over a length that may not fit a uInt */
static uint32_t crc_of(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;

		crc = (uint32_t)crc32(crc, p, k);
		p += k;
		n -= k;
	}
	return crc;
}

static int inflate_to_fd(const pf_arc_member *m, const uint8_t *src, int fd,
			 pk_err *e)
{
	enum { CHUNK = 65536 };
	z_stream z;
	uint8_t *out = malloc(CHUNK);
	uint64_t left = m->size, made = 0;
	uint32_t crc = (uint32_t)crc32(0, Z_NULL, 0);
	int zr = Z_OK, rc = PK_OK, saved;

	if (!out)
		return pk_err_set(e, PK_E_NOMEM, "archive: out of memory",
				  m->offset);
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK) {
		free(out);
		return pk_err_set(e, PK_E_NOMEM, "archive: out of memory",
				  m->offset);
	}
	z.next_in = (Bytef *)src;
	while (zr != Z_STREAM_END) {
		size_t got;

		if (z.avail_in == 0 && left) {
			uInt k = left > (1u << 30) ? (1u << 30) : (uInt)left;

			z.avail_in = k;
			left -= k;
		}
		z.next_out = out;
		z.avail_out = CHUNK;
		zr = inflate(&z, Z_NO_FLUSH);
		got = CHUNK - z.avail_out;
		if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR ||
		    zr == Z_STREAM_ERROR) {
			rc = pk_err_set(e, PK_E_COMPRESS,
					"zip member: corrupt deflate stream",
					m->offset);
			break;
		}
		if (zr == Z_MEM_ERROR) {
			rc = pk_err_set(e, PK_E_NOMEM, "archive: out of memory",
					m->offset);
			break;
		}
		if (got > m->usize - made) {
			rc = pk_err_set(e, PK_E_COMPRESS,
					"zip member: longer than its size",
					m->offset);
			break;
		}
		made += got;
		crc = crc_of(crc, out, got);
		if (got && (rc = write_all(fd, out, got, e)) != PK_OK)
			break;
		if (zr == Z_BUF_ERROR || (zr == Z_OK && got == 0)) {
			if (z.avail_in == 0 && !left) {
				rc = pk_err_set(e, PK_E_COMPRESS,
						"zip member: deflate stream "
						"truncated",
						m->offset);
				break;
			}
		}
	}
	saved = errno; /* of a failed write */
	inflateEnd(&z);
	free(out);
	errno = saved;
	if (rc != PK_OK)
		return rc;
	if (made != m->usize)
		return pk_err_set(e, PK_E_COMPRESS,
				  "zip member: shorter than its size",
				  m->offset);
	if (crc != m->crc)
		return pk_err_set(e, PK_E_COMPRESS, "zip member: CRC mismatch",
				  m->offset);
	return PK_OK;
}

int pf_arc_extract_fd(const pf_arc_member *m, const uint8_t *src, int fd,
		      pk_err *e)
{
	int rc;

	if (m->type != PF_ARC_FILE)
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "archive member: not a file", m->offset);
	if (m->flags & 1)
		return pk_err_set(e, PK_E_UNSUPPORTED, "zip member: encrypted",
				  m->offset);
	if (m->method == PF_ARC_DEFLATED)
		return inflate_to_fd(m, src, fd, e);
	if (m->method != PF_ARC_STORED)
		return pk_err_set(e, PK_E_UNSUPPORTED,
				  "zip member: unsupported compression method",
				  m->offset);
	if (m->size != m->usize)
		return pk_err_set(e, PK_E_COMPRESS,
				  "zip member: stored sizes differ", m->offset);
	if (m->fmt == PF_ARC_ZIP &&
	    crc_of((uint32_t)crc32(0, Z_NULL, 0), src, m->size) != m->crc)
		return pk_err_set(e, PK_E_COMPRESS, "zip member: CRC mismatch",
				  m->offset);
	rc = write_all(fd, src, m->size, e);
	return rc;
}
