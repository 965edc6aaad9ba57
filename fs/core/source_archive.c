/*
 * source_archive.c - sources that are archives (their index, read once,
 * and the bytes of their members: a slice of the archive's mapping, or
 * a deflated member inflated once into a cache file) and sources that
 * are members (read-only, bytes through their archive). See source.h.
 */
#include "source_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "errmap.h"
#include "expand.h"
#include "log.h"
#include "sniff.h"
#include "tensor.h"

pf_source *pf_source_new_member(pf_source *arc, const char *member,
				const char *display)
{
	pf_source *s = pf_source_new(-1, member, display);

	if (!s)
		return NULL;
	if (!(s->member = strdup(member))) {
		pf_source_free(s);
		return NULL;
	}
	s->parent = arc;
	return s;
}

/* A member inflated out of the archive once, kept while the archive's
 * bytes are the same (archive sources only). */
struct pf_extracted {
	struct pf_extracted *next;
	pf_map *map;
	char name[];
};

void src_drop_archive(pf_source *s)
{
	if (s->ix) {
		pf_arc_index_free(s->ix);
		free(s->ix);
		s->ix = NULL;
	}
	while (s->xt) {
		struct pf_extracted *x = s->xt;
		s->xt = x->next;
		pf_map_unref(x->map);
		free(x);
	}
}

/* The member's bytes as stored in its archive (a new reference), and
 * the archive's epoch they belong to. */
int src_member_raw(pf_source *s, pf_map **raw, pk_err *e)
{
	pf_arc_member m;

	return pf_source_member_bytes(s->parent, s->member, &m, raw,
				      &s->parent_epoch, 0, e);
}

/* map_source for an archive's member: its bytes in place, or, when the
 * member is itself compressed (a .pkl.gz in a tar), copied into a cache
 * file and decompressed from there like a file (bounded alike). */
int src_map_member(pf_source *s, pf_progress *pg, uint64_t cap, pk_err *e)
{
	pf_map *raw = NULL;
	int in = -1, rc, zrc;
	size_t done = 0;

	if ((rc = src_member_raw(s, &raw, e)))
		return rc;
	s->base = s->st;
	if (s->zfmt == PK_Z_NONE) {
		memset(&s->z, 0, sizeof(s->z));
		s->map = raw;
		return 0;
	}
	in = pf_expand_cache_file(NULL);
	while (in >= 0 && done < raw->len) {
		ssize_t k = write(in, raw->data + done, raw->len - done);
		if (k <= 0)
			break;
		done += (size_t)k;
	}
	if (in < 0 || done < raw->len || lseek(in, 0, SEEK_SET) < 0) {
		rc = errno ? errno : EIO;
		src_set_io_err(e, "cannot copy the member into a cache file");
		goto cleanup;
	}
	pg->what = "decompressing";
	zrc =
	    pf_expand_fd_as(s->zfmt, in, cap, pf_progress_cb, pg, &s->zres, e);
	if (zrc != PK_OK) {
		s->err_in_z = 1;
		rc = zrc == PK_E_IO && s->zres.sys_errno ? s->zres.sys_errno
							 : pf_errno_of(zrc);
		goto cleanup;
	}
	s->z = s->zres.z;
	s->map = pf_map_file(s->zres.fd, (size_t)s->zres.len, 0);
	close(s->zres.fd);
	if (!s->map) {
		rc = errno ? errno : ENOMEM;
		src_set_io_err(e, "cannot map the file");
	}
cleanup:
	if (in >= 0)
		close(in);
	pf_map_unref(raw);
	return rc;
}

/* ---- archives ---------------------------------------------------------- */

/* Maps an archive source's bytes (decompressed, for a .tar.gz) and reads
 * its index (lock held). 0 or errno, e saying why. */
int src_load_archive(pf_source *s, int show_progress, pk_err *e)
{
	pf_progress pg;
	int rc = 0, fmt;

	pf_progress_start(&pg, s->display, "indexing", show_progress);
	if (!s->map && (rc = src_map_source(s, &pg, 0, e)))
		goto cleanup;
	fmt =
	    pf_arc_sniff(s->map->data, s->map->len < 4096 ? s->map->len : 4096);
	if (!(s->ix = calloc(1, sizeof(*s->ix)))) {
		rc = ENOMEM;
		pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	if (pf_arc_index_read(fmt, s->map->data, s->map->len, s->ix, e) !=
	    PK_OK) {
		free(s->ix);
		s->ix = NULL;
		rc = pf_errno_of(e->code ? e->code : PK_E_IO);
		goto cleanup;
	}
	s->ckpt = pf_ckpt_detect(s->ix, s->map->data, s->map->len, &s->ck);
cleanup:
	pf_progress_done(&pg);
	return rc;
}

int pf_source_enter_archive(pf_source *s)
{
	pk_err e = {0, NULL, 0};
	int rc;

	pthread_mutex_lock(&s->lock);
	if (pf_map_torn(s->map))
		s->checked.tv_sec -= 2;
	src_refresh(s);
	if (s->state != PF_SRC_ARCHIVE) {
		rc = s->broken
			 ? pf_errno_of(s->err.code ? s->err.code : PK_E_IO)
			 : ESTALE;
		pthread_mutex_unlock(&s->lock);
		return rc;
	}
	if (!s->ix && (rc = src_load_archive(s, 0, &e))) {
		if (rc != ENOMEM)
			src_mark_broken(s, &e, 1);
		pthread_mutex_unlock(&s->lock);
		return rc;
	}
	return 0;
}

int pf_source_archive_changed(pf_source *arc, uint64_t epoch)
{
	int changed;

	pthread_mutex_lock(&arc->lock);
	src_refresh(arc);
	changed = arc->epoch != epoch || arc->state != PF_SRC_ARCHIVE;
	pthread_mutex_unlock(&arc->lock);
	return changed;
}

/* A deflated member, inflated into a cache file (lock held). */
static int inflate_member(pf_source *arc, const pf_arc_member *m,
			  const char *name, pf_map **out, pk_err *e)
{
	struct pf_extracted *x;
	size_t nl = strlen(name);
	int fd, rc = 0;

	for (x = arc->xt; x; x = x->next)
		if (strcmp(x->name, name) == 0) {
			pf_map_ref(x->map);
			*out = x->map;
			return 0;
		}
	if (m->usize > pf_expand_max()) {
		pk_err_set(e, PK_E_LIMIT, "the member expands past the limit",
			   m->offset);
		return EFBIG;
	}
	if ((fd = pf_expand_cache_file(NULL)) < 0) {
		rc = errno;
		src_set_io_err(e, "cannot make a cache file");
		return rc;
	}
	if (pf_arc_extract_fd(m, arc->map->data + m->offset, fd, e) != PK_OK) {
		rc = e->code == PK_E_IO && errno ? errno : EIO;
		goto cleanup;
	}
	if (!(x = malloc(sizeof(*x) + nl + 1)) ||
	    !(x->map = pf_map_file(fd, (size_t)m->usize, 0))) {
		rc = errno ? errno : ENOMEM;
		free(x);
		src_set_io_err(e, "cannot map the cache file");
		goto cleanup;
	}
	memcpy(x->name, name, nl + 1);
	x->next = arc->xt;
	arc->xt = x;
	pf_map_ref(x->map);
	*out = x->map;
cleanup:
	close(fd);
	return rc;
}

int pf_source_member_bytes(pf_source *arc, const char *name, pf_arc_member *m,
			   pf_map **bytes, uint64_t *epoch, int any_flags,
			   pk_err *e)
{
	uint32_t i;
	int rc;

	*bytes = NULL;
	if ((rc = pf_source_enter_archive(arc))) {
		if (arc->err.msg)
			*e = arc->err;
		return rc;
	}
	*epoch = arc->epoch;
	i = pf_arc_find(arc->ix, name);
	if (i == UINT32_MAX) {
		rc = ENOENT;
	} else if ((*m = arc->ix->m[i]).type == PF_ARC_DIR) {
		rc = EISDIR;
	} else if ((m->flags & 1 &&
		    !(any_flags && m->method == PF_ARC_STORED)) ||
		   (m->method != PF_ARC_STORED &&
		    m->method != PF_ARC_DEFLATED)) {
		pk_err_set(e, PK_E_UNSUPPORTED,
			   m->flags & 1 ? "an encrypted member"
					: "a compression method other than "
					  "stored or deflated",
			   m->offset);
		rc = ENOTSUP;
	} else if (m->method == PF_ARC_DEFLATED) {
		rc = inflate_member(arc, m, name, bytes, e);
	} else if (!(*bytes = pf_map_slice(arc->map, m->offset, m->size))) {
		rc = errno ? errno : ENOMEM;
	}
	pf_source_leave(arc);
	return rc;
}

/* ---- legacy PyTorch checkpoints ---------------------------------------- */

struct sizes {
	const uint8_t **key;
	size_t *keylen;
	uint32_t *itemsize;
	size_t n, cap;
};

static int note_size(void *ctx, const uint8_t *key, size_t keylen,
		     uint32_t itemsize)
{
	struct sizes *z = ctx;
	size_t c1 = z->cap, c2 = z->cap, c3 = z->cap;

	if (pk_vec_grow((void **)&z->key, &c1, z->n + 1, sizeof(*z->key)) ||
	    pk_vec_grow((void **)&z->keylen, &c2, z->n + 1,
			sizeof(*z->keylen)) ||
	    pk_vec_grow((void **)&z->itemsize, &c3, z->n + 1,
			sizeof(*z->itemsize)))
		return ENOMEM;
	z->cap = c1;
	z->key[z->n] = key;
	z->keylen[z->n] = keylen;
	z->itemsize[z->n++] = itemsize;
	return 0;
}

/* The keys pickle's list, and each key's item size as the object's
 * persistent ids say (0 when no tensor names it: such a storage cannot
 * be skipped, so the index fails past it). */
static int legacy_keys(const pk_doc *keys, const struct sizes *z,
		       struct sizes *out, pk_err *e)
{
	const pk_node *l;
	uint32_t i;
	size_t j;

	if (!pk_val_is_node(keys->root) || pk_val_kind(keys->root) != PK_LIST)
		return pk_err_set(e, PK_E_ARG, "no list of storage keys", 0);
	l = pk_val_node(keys->root);
	for (i = 0; i < l->nkids; i++) {
		const uint8_t *k;
		uint64_t kl;
		uint32_t size = 0;
		if (pk_val_payload(l->kids[i], &k, &kl) != PK_OK)
			return pk_err_set(e, PK_E_ARG,
					  "a storage key not a str", 0);
		for (j = 0; j < z->n; j++)
			if (z->keylen[j] == kl && memcmp(z->key[j], k, kl) == 0)
				size = z->itemsize[j];
		if (!size)
			return pk_err_set(e, PK_E_ARG,
					  "a storage no tensor names", 0);
		if (note_size(out, k, (size_t)kl, size))
			return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	}
	return PK_OK;
}

static void sizes_free(struct sizes *z)
{
	free(z->key);
	free(z->keylen);
	free(z->itemsize);
}

int src_load_legacy(pf_source *s, const uint8_t *data, size_t len,
		    const pk_decode_opts *o, pk_err *e)
{
	pk_decode_opts one = *o;
	pk_doc *doc[5] = {NULL, NULL, NULL, NULL, NULL};
	struct sizes found = {0}, order = {0};
	size_t off = 0;
	int i, rc = 0, code;

	one.flags |= PK_DEC_ONE;
	for (i = 0; i < 5; i++) {
		if ((code = pk_decode_with(data + off, len - off, &one, &doc[i],
					   e)) != PK_OK) {
			e->offset += off;
			rc = pf_errno_of(code);
			goto cleanup;
		}
		off += doc[i]->end;
	}
	if ((rc = pf_tensor_storages(doc[3], note_size, &found))) {
		pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
		goto cleanup;
	}
	if ((code = legacy_keys(doc[4], &found, &order, e)) != PK_OK ||
	    (code = pf_ckpt_legacy_index(data + off, len - off, order.key,
					 order.keylen, order.itemsize, order.n,
					 &s->legacy, e)) != PK_OK) {
		if (code == PK_E_TRUNCATED)
			e->offset += off;
		else
			e->offset = doc[4] ? off - doc[4]->end : off;
		rc = pf_errno_of(code);
		goto cleanup;
	}
	s->ckpt = 2;
	s->doc = doc[3];
	doc[3] = NULL;
	pf_ckpt_legacy_bind(&s->legacy, s->doc);
cleanup:
	for (i = 0; i < 5; i++)
		pk_doc_free(doc[i]);
	sizes_free(&found);
	sizes_free(&order);
	return rc;
}

int pf_source_bytes(pf_source *s, pf_map **hold, const uint8_t **data,
		    size_t *len, pk_err *e)
{
	pf_progress pg;
	int rc = 0;

	*hold = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->parent && s->sniffed == PF_SNIFF_NO && !s->broken) {
		/* a member the mount cannot read (encrypted, it says): a
		 * stored one is read as it is, in case someone loads it */
		pf_arc_member m;
		uint64_t ep;
		pf_map *raw = NULL;
		pthread_mutex_unlock(&s->lock);
		memset(&m, 0, sizeof(m));
		if (pf_source_member_bytes(s->parent, s->member, &m, &raw, &ep,
					   1, e) == 0 &&
		    (m.flags & 1)) {
			*hold = raw;
			*data = raw->data;
			*len = raw->len;
			return 0;
		}
		pf_map_unref(raw);
		return ENODATA;
	}
	if (s->npy || s->state == PF_SRC_ARCHIVE ||
	    (s->sniffed == PF_SNIFF_NO && !s->broken)) {
		rc = ENODATA;
		goto out;
	}
	if (!s->map) {
		pf_progress_start(&pg, s->display, "decompressing", 0);
		rc = src_map_source(s, &pg, 0, e);
		pf_progress_done(&pg);
		if (rc)
			goto out;
	}
	*data = s->map->data;
	*len = s->map->len;
	if (s->ckpt == 1) {
		const uint8_t *p;
		uint64_t n;
		if (!s->ix && (rc = src_load_archive(s, 0, e)))
			goto out;
		pf_ckpt_pickle(&s->ck, &p, &n);
		*data = p;
		*len = (size_t)n;
	}
	pf_map_ref(s->map);
	*hold = s->map;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}
