/*
 * libFuzzer harness for fs/container/archive.h: tar and zip indexes of
 * arbitrary bytes, through the public API only.
 *
 * Per input:
 *   - pf_arc_sniff, which reads at most 512 bytes (it is given only
 *     those when there are more, and must agree);
 *   - pf_arc_index_read as tar and as zip, whatever the sniff says: it
 *     succeeds, or fails with a documented code, a message, an offset
 *     inside the input, and the index left empty;
 *   - on success, every invariant archive.h states: m[0] the root, every
 *     member a file or a directory whose bytes are inside the input,
 *     names that are the parent's name "/" the base, bases that are
 *     valid names, children sorted and the same through first_child /
 *     next_sibling and pf_arc_child, pf_arc_lookup and pf_arc_find
 *     finding every member where it is;
 *   - every file member extracted to /dev/null: PK_OK or a documented
 *     code. The output is bounded by the member's usize and by what
 *     deflate can make of the input's bytes (about 1032 per byte);
 *   - the same bytes as tar once more, each 512-byte block given the
 *     checksum it needs to be a header: most mutations of a tar break a
 *     checksum, and would not get past it.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "npy.h"
#include "pickle.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static int devnull = -1;

/* every 512-byte block of d[0..n) that is not all zero gets a right tar
 * header checksum */
static void fix_checksums(uint8_t *d, size_t n)
{
	size_t at, i;

	for (at = 0; n - at >= 512; at += 512) {
		uint8_t *h = d + at;
		unsigned sum = 0;
		int zero = 1;

		for (i = 0; i < 512; i++)
			zero &= !h[i];
		if (zero)
			continue;
		memset(h + 148, ' ', 8);
		for (i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum & 0777777);
	}
}

static void check_index(const pf_arc_index *ix, size_t len)
{
	uint32_t i, total = 0;

	CHECK(ix->n >= 1 && ix->m && ix->m[0].type == PF_ARC_DIR);
	CHECK(!strcmp(ix->m[0].name, "") && ix->m[0].base == ix->m[0].name);
	CHECK(ix->m[0].parent == 0);
	CHECK(pf_arc_find(ix, "") == 0);
	for (i = 0; i < ix->n; i++) {
		const pf_arc_member *m = &ix->m[i];
		uint32_t k, c, prev = UINT32_MAX;

		CHECK(m->offset <= len && m->size <= len - m->offset);
		if (i) {
			const pf_arc_member *p;
			size_t pl, bl = strlen(m->base);

			CHECK(m->type == PF_ARC_FILE || m->type == PF_ARC_DIR);
			CHECK(m->parent < ix->n && m->parent != i);
			p = &ix->m[m->parent];
			CHECK(p->type == PF_ARC_DIR);
			pl = strlen(p->name);
			CHECK(bl >= 1 && bl <= 255 && !strchr(m->base, '/'));
			CHECK(strcmp(m->base, ".") && strcmp(m->base, ".."));
			if (m->parent)
				CHECK(!strncmp(m->name, p->name, pl) &&
				      m->name[pl] == '/' &&
				      m->base == m->name + pl + 1);
			else
				CHECK(m->base == m->name);
			CHECK(pf_arc_lookup(ix, m->parent, m->base) == i);
			CHECK(pf_arc_find(ix, m->name) == i);
			CHECK(pf_arc_lookup(ix, i, "") == UINT32_MAX);
		}
		if (m->type == PF_ARC_FILE) {
			CHECK(m->nchildren == 0 &&
			      m->first_child == UINT32_MAX);
			CHECK(pf_arc_child(ix, i, 0) == UINT32_MAX);
			continue;
		}
		total += m->nchildren;
		c = m->first_child;
		for (k = 0; k < m->nchildren; k++) {
			CHECK(c < ix->n && pf_arc_child(ix, i, k) == c);
			CHECK(ix->m[c].parent == i);
			if (prev != UINT32_MAX)
				CHECK(strcmp(ix->m[prev].base, ix->m[c].base) <
				      0);
			prev = c;
			c = ix->m[c].next_sibling;
		}
		CHECK(c == UINT32_MAX);
		CHECK(pf_arc_child(ix, i, m->nchildren) == UINT32_MAX);
	}
	CHECK(total == ix->n - 1);
}

static void extract_all(const pf_arc_index *ix, const uint8_t *data)
{
	uint32_t i;

	for (i = 1; i < ix->n; i++) {
		const pf_arc_member *m = &ix->m[i];
		pk_err e = {0};
		int rc;

		if (m->type != PF_ARC_FILE)
			continue;
		if (lseek(devnull, 0, SEEK_SET) < 0)
			abort();
		rc = pf_arc_extract_fd(m, data + m->offset, devnull, &e);
		CHECK(rc == PK_OK || rc == PK_E_COMPRESS ||
		      rc == PK_E_UNSUPPORTED);
		if (rc == PK_OK)
			CHECK(!e.msg);
		else
			CHECK(e.msg && e.offset == m->offset);
		if (m->fmt == PF_ARC_TAR)
			CHECK(rc == PK_OK);
	}
}

static void index_one(int fmt, const uint8_t *data, size_t size)
{
	pf_arc_index ix;
	pk_err e = {0};
	int rc = pf_arc_index_read(fmt, data, size, &ix, &e);

	if (rc != PK_OK) {
		CHECK(rc == PK_E_TRUNCATED || rc == PK_E_ARG ||
		      rc == PK_E_UNSUPPORTED || rc == PK_E_LIMIT);
		CHECK(e.msg && e.offset <= size);
		CHECK(ix.n == 0 && !ix.m);
		pf_arc_index_free(&ix);
		return;
	}
	CHECK(ix.fmt == fmt);
	check_index(&ix, size);
	extract_all(&ix, data);
	pf_arc_index_free(&ix);
}

/* A .npy header (fs/container/npy.c): read, and when it reads, the
 * array's bytes lie within the input and the pickle made for it decodes
 * to an array whose buffer is those bytes. */
static void npy_one(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size + 10);
	pf_npy a;
	pk_buf b = PK_BUF_INIT;
	pk_doc *doc = NULL;
	pk_err e;

	if (!copy)
		abort();
	/* the magic, so that mutations reach the header */
	memcpy(copy, "\x93NUMPY", 6);
	memcpy(copy + 6, data, size);
	if (pf_npy_read(copy, size + 6, &a, &e) == PK_OK) {
		CHECK(a.data_off <= size + 6 &&
		      a.data_len <= size + 6 - a.data_off);
		CHECK(pf_npy_pickle(&a, &b, &e) == PK_OK);
		CHECK(pk_decode(b.data, b.len, 0, &doc, &e) == PK_OK);
		pf_npy_bind(&a, copy + a.data_off, doc);
		pk_doc_free(doc);
	}
	pk_buf_release(&b);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fmt, s;

	if (devnull < 0) {
		devnull = open("/dev/null", O_WRONLY);
		if (devnull < 0)
			abort();
	}
	s = pf_arc_sniff(data, size);
	CHECK(s == PF_ARC_NONE || s == PF_ARC_TAR || s == PF_ARC_ZIP);
	if (size > 512)
		CHECK(pf_arc_sniff(data, 512) == s);
	for (fmt = PF_ARC_TAR; fmt <= PF_ARC_ZIP; fmt++)
		index_one(fmt, data, size);
	if (size >= 512) {
		uint8_t *copy = malloc(size);

		if (!copy)
			abort();
		memcpy(copy, data, size);
		fix_checksums(copy, size);
		index_one(PF_ARC_TAR, copy, size);
		free(copy);
	}
	npy_one(data, size);
	return 0;
}
