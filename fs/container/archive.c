/*
 * archive.c - what tar and zip share (archive.h): name normalisation, the
 * directory tree, lookups, and writing a member to an fd.
 *
 * The tree is made by sorting: every entry and every directory its path
 * implies is one pf_arc_ent, sorted by name (bytes, then length, then
 * archive order). Entries of one name are then neighbours, and the winner
 * of each name is picked there; the members are the winners in that
 * order. A directory's children, taken in that order, are sorted by
 * base: two siblings' paths differ first where their bases do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "archive_internal.h"

#define NAME_MAX_COMPONENT 255
#define DIR_MODE 0755
#define FILE_MODE 0644

/* ---- building --------------------------------------------------------- */

static int add_ent(pf_arc_build *b, uint64_t name, uint32_t len, int implied,
		   const pf_arc_meta *meta)
{
	pf_arc_ent *t;

	if (pk_vec_grow((void **)&b->ents, &b->cap, b->n + 1, sizeof(*b->ents)))
		return -1;
	t = &b->ents[b->n++];
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->len = len;
	t->seq = b->seq;
	t->implied = (uint8_t)implied;
	if (meta)
		t->meta = *meta;
	return 0;
}

int pf_arc_build_add(pf_arc_build *b, const uint8_t *raw, size_t rawlen,
		     const pf_arc_meta *meta)
{
	size_t start = b->pool.len, i = 0, len, k;
	const uint8_t *prev = NULL;
	size_t prevlen = 0;

	b->seq++;
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
		    len > NAME_MAX_COMPONENT || memchr(raw + i, 0, len))
			goto skip;
		if ((b->pool.len > start && pk_buf_addc(&b->pool, '/')) ||
		    pk_buf_add(&b->pool, raw + i, len))
			goto nomem;
		i = j + 1;
	}
	len = b->pool.len - start;
	if (len == 0 || len > UINT32_MAX)
		goto skip;
	/* the directories it implies: those the previous name has not */
	if (b->prevlen) {
		prev = b->pool.data + b->prev;
		prevlen = b->prevlen;
	}
	if (add_ent(b, start, (uint32_t)len, 0, meta))
		goto nomem;
	b->prev = start;
	b->prevlen = (uint32_t)len;
	for (k = 1; k < len; k++) {
		const uint8_t *name = b->pool.data + start;

		if (name[k] != '/')
			continue;
		if (prev && k < prevlen && prev[k] == '/' &&
		    !memcmp(prev, name, k))
			continue;
		if (add_ent(b, start, (uint32_t)k, 1, NULL))
			goto nomem;
	}
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

static int cmp_ent(const void *x, const void *y, void *arg)
{
	const pf_arc_ent *a = x, *c = y;
	const uint8_t *pool = arg;
	uint32_t n = a->len < c->len ? a->len : c->len;
	int r = memcmp(pool + a->name, pool + c->name, n);

	if (r)
		return r;
	if (a->len != c->len)
		return a->len < c->len ? -1 : 1;
	if (a->implied != c->implied)
		return a->implied ? -1 : 1; /* implied first: winners last */
	return a->seq < c->seq ? -1 : a->seq > c->seq;
}

/* The winner of each name, in name order: u[k] is an index of b->ents,
 * whose meta and type are made the member's. Returns their count. */
static size_t pick_winners(pf_arc_build *b, size_t *u)
{
	size_t i = 0, j, nu = 0;

	while (i < b->n) {
		pf_arc_ent *g = &b->ents[i];
		size_t last_dir = SIZE_MAX, last = SIZE_MAX;
		int implied = 0;

		for (j = i; j < b->n && b->ents[j].len == g->len &&
			    !memcmp(b->pool.data + b->ents[j].name,
				    b->pool.data + g->name, g->len);
		     j++) {
			if (b->ents[j].implied) {
				implied = 1;
				continue;
			}
			last = j;
			if (b->ents[j].meta.type == PF_ARC_DIR)
				last_dir = j;
		}
		if (implied) {
			/* a directory, whatever else has its name */
			size_t w = last_dir != SIZE_MAX ? last_dir : i;

			if (last_dir == SIZE_MAX) /* ents[i] is implied */
				g->meta.mode = DIR_MODE;
			b->ents[w].meta.type = PF_ARC_DIR;
			b->ents[w].meta.offset = b->ents[w].meta.size = 0;
			b->ents[w].meta.usize = 0;
			u[nu++] = w;
		} else if (last != SIZE_MAX &&
			   b->ents[last].meta.type != PF_ARC_OTHER) {
			u[nu++] = last;
		}
		i = j;
	}
	return nu;
}

/* The index in u[0..nu) of the member named pool[name..name+len), or
 * SIZE_MAX */
static size_t find_name(const pf_arc_build *b, const size_t *u, size_t nu,
			const uint8_t *name, uint32_t len)
{
	size_t lo = 0, hi = nu;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const pf_arc_ent *t = &b->ents[u[mid]];
		uint32_t n = t->len < len ? t->len : len;
		int r = memcmp(b->pool.data + t->name, name, n);

		if (!r)
			r = t->len < len ? -1 : t->len > len;
		if (!r)
			return mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

int pf_arc_build_finish(pf_arc_build *b, pf_arc_index *out, pk_err *e)
{
	size_t *u = NULL, nu, i, cap = 0;
	pf_arc_member *m = NULL;
	uint32_t *kids = NULL, *fill = NULL, n;
	pk_buf names = PK_BUF_INIT;
	int rc = PK_E_NOMEM;

	memset(out, 0, sizeof(*out));
	if (b->n >= UINT32_MAX - 1) {
		rc = pk_err_set(e, PK_E_LIMIT, "archive: too many members", 0);
		goto done;
	}
	if (b->n)
		qsort_r(b->ents, b->n, sizeof(*b->ents), cmp_ent, b->pool.data);
	u = malloc((b->n ? b->n : 1) * sizeof(*u));
	if (!u)
		goto nomem;
	nu = pick_winners(b, u);
	n = (uint32_t)(nu + 1);
	if (pk_vec_grow((void **)&m, &cap, n, sizeof(*m)))
		goto nomem;
	memset(m, 0, n * sizeof(*m));
	kids = malloc(n * sizeof(*kids));
	fill = calloc(n, sizeof(*fill));
	if (!kids || !fill || pk_buf_addc(&names, 0))
		goto nomem;
	/* the root: name "" at offset 0 of the pool */
	m[0].type = PF_ARC_DIR;
	m[0].fmt = (uint8_t)b->fmt;
	m[0].mode = DIR_MODE;
	for (i = 1; i < n; i++) {
		const pf_arc_ent *t = &b->ents[u[i - 1]];
		const uint8_t *name = b->pool.data + t->name;
		const uint8_t *slash = NULL;
		uint32_t k;

		for (k = t->len; k > 0; k--)
			if (name[k - 1] == '/') {
				slash = name + k - 1;
				break;
			}
		m[i].type = t->meta.type;
		m[i].fmt = (uint8_t)b->fmt;
		m[i].method = t->meta.method;
		m[i].flags = t->meta.flags;
		m[i].offset = t->meta.offset;
		m[i].size = t->meta.size;
		m[i].usize = t->meta.usize;
		m[i].crc = t->meta.crc;
		m[i].mode = t->meta.mode;
		m[i].mtime = t->meta.mtime;
		m[i].parent = 0;
		if (slash) {
			size_t p =
			    find_name(b, u, nu, name, (uint32_t)(slash - name));

			/* always found: a directory implied by this name */
			if (p != SIZE_MAX)
				m[i].parent = (uint32_t)(p + 1);
		}
		m[m[i].parent].nchildren++;
		/* name and base as offsets in the pool until it stops moving */
		m[i].name = (const char *)(uintptr_t)names.len;
		m[i].base =
		    (const char *)(uintptr_t)(names.len +
					      (slash
						   ? (size_t)(slash + 1 - name)
						   : 0));
		if (pk_buf_add(&names, name, t->len) || pk_buf_addc(&names, 0))
			goto nomem;
	}
	/* the children of each directory: a slice of kids, in member order */
	{
		uint32_t at = 0;

		for (i = 0; i < n; i++) {
			m[i].child_at = at;
			at += m[i].nchildren;
			m[i].first_child = m[i].next_sibling = UINT32_MAX;
		}
	}
	for (i = 1; i < n; i++) {
		uint32_t p = m[i].parent;

		kids[m[p].child_at + fill[p]++] = (uint32_t)i;
	}
	for (i = 0; i < n; i++) {
		uint32_t c;

		if (!m[i].nchildren)
			continue;
		m[i].first_child = kids[m[i].child_at];
		for (c = 0; c + 1 < m[i].nchildren; c++)
			m[kids[m[i].child_at + c]].next_sibling =
			    kids[m[i].child_at + c + 1];
	}
	for (i = 0; i < n; i++) {
		m[i].name = (const char *)names.data + (uintptr_t)m[i].name;
		m[i].base = (const char *)names.data + (uintptr_t)m[i].base;
	}
	out->fmt = b->fmt;
	out->m = m;
	out->n = n;
	out->names = (char *)pk_buf_detach(&names, NULL);
	out->kids = kids;
	m = NULL;
	kids = NULL;
	rc = PK_OK;
	goto done;
nomem:
	rc = pk_err_set(e, PK_E_NOMEM, "archive: out of memory", 0);
done:
	free(u);
	free(m);
	free(kids);
	free(fill);
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
	free(ix->kids);
	memset(ix, 0, sizeof(*ix));
}

uint32_t pf_arc_lookup(const pf_arc_index *ix, uint32_t dir, const char *name)
{
	uint32_t lo = 0, hi;
	const uint32_t *k;

	if (dir >= ix->n || ix->m[dir].type != PF_ARC_DIR)
		return UINT32_MAX;
	k = ix->kids + ix->m[dir].child_at;
	hi = ix->m[dir].nchildren;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int r = strcmp(ix->m[k[mid]].base, name);

		if (!r)
			return k[mid];
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
	return ix->kids[ix->m[dir].child_at + i];
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
