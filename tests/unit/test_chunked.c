/*
 * Unit tests of views served in chunks (fs/view/chunked.c) and of the
 * array renderer that plugs into it (pf_array_values_chunker, views.c):
 * the size is the length of all chunks one after the other, a read at
 * any offset (on a chunk boundary, across one, at the end) gives that
 * slice of the whole text, a size question renders each chunk once and a
 * read only the chunks it covers, failures reach the caller.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"
#include "docview.h"
#include "pickle.h"
#include "unit.h"
#include "views.h"

/* ---- a made-up renderer: chunk k is k's letter, (k * 7) % 13 times
 * (empty for k = 0, 13, 26 ...) ---------------------------------------- */

#define FAKE_N 40

struct fake {
	uint64_t renders[FAKE_N]; /* atomic: the count runs on two threads */
	int fail_at;		  /* chunk that fails with ENOMEM (-1: none) */
	int grow;		  /* after the count, chunks render longer */
	int counted;
};

static size_t fake_len(uint64_t k)
{
	return (size_t)((k * 7) % 13);
}

static int fake_chunk(void *self, uint64_t k, pk_buf *out)
{
	struct fake *f = self;
	size_t i, n = fake_len(k) + (f->grow && f->counted ? 1 : 0);

	__atomic_add_fetch(&f->renders[k], 1, __ATOMIC_RELAXED);
	if ((int)k == f->fail_at)
		return ENOMEM;
	for (i = 0; i < n; i++)
		if (pk_buf_addc(out, (uint8_t)('A' + k % 26)))
			return ENOMEM;
	return 0;
}

static pf_chunker fake_chunker(struct fake *f, uint64_t n)
{
	pf_chunker ch = {f, n, fake_chunk, NULL};

	memset(f, 0, sizeof(*f));
	f->fail_at = -1;
	return ch;
}

/* The whole text of the first n fake chunks (caller frees). */
static char *fake_whole(uint64_t n, size_t *len)
{
	pk_buf b = PK_BUF_INIT;
	struct fake f;
	uint64_t k;

	memset(&f, 0, sizeof(f));
	f.fail_at = -1;
	for (k = 0; k < n; k++)
		cr_assert_eq(fake_chunk(&f, k, &b), 0);
	*len = b.len;
	pk_buf_addc(&b, 0);
	return (char *)b.data;
}

/* Every read [off, off + n) of s, for every off and a few n, equals the
 * slice of want. */
static void reads_match(pf_vstream *s, const char *want, size_t len)
{
	static const size_t sizes[] = {1, 2, 3, 7, 13, 64, 1 << 20};
	uint8_t *buf = malloc(len + 1);
	size_t off, i, got;

	cr_assert_not_null(buf);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (off = 0; off <= len; off++) {
			size_t n = sizes[i], exp;
			if (n > len + 1)
				n = len + 1;
			exp = off + n > len ? len - off : n;
			cr_assert_eq(pf_vstream_read(s, off, n, buf, &got), 0);
			cr_assert_eq(got, exp, "off %zu n %zu: got %zu", off, n,
				     got);
			cr_assert_eq(memcmp(buf, want + off, got), 0,
				     "off %zu n %zu", off, n);
		}
	}
	/* past the end: nothing */
	cr_assert_eq(pf_vstream_read(s, len + 5, 10, buf, &got), 0);
	cr_assert_eq(got, 0);
	free(buf);
}

Test(chunked, size_is_the_chunks_and_reads_are_slices)
{
	struct fake f;
	pf_chunker ch = fake_chunker(&f, FAKE_N);
	pf_vstream *s;
	size_t len, k;
	char *want = fake_whole(FAKE_N, &len);

	cr_assert_eq(pf_vstream_new(&ch, &s), 0);
	cr_assert_eq(pf_vstream_size(s), len);
	/* the size question rendered each chunk once */
	for (k = 0; k < FAKE_N; k++)
		cr_assert_eq(f.renders[k], 1, "chunk %zu: %lu renders", k,
			     (unsigned long)f.renders[k]);
	reads_match(s, want, len);
	pf_vstream_unref(s);
	free(want);
}

Test(chunked, reads_on_chunk_boundaries)
{
	struct fake f;
	pf_chunker ch = fake_chunker(&f, FAKE_N);
	pf_vstream *s;
	uint8_t buf[64];
	size_t len, got, at = 0, k;
	char *want = fake_whole(FAKE_N, &len);

	cr_assert_eq(pf_vstream_new(&ch, &s), 0);
	for (k = 0; k < FAKE_N; k++) {
		size_t n = fake_len(k);
		/* the chunk alone, from its first byte; then the last byte
		 * before it with the first of it */
		cr_assert_eq(pf_vstream_read(s, at, n, buf, &got), 0);
		cr_assert_eq(got, n);
		cr_assert_eq(memcmp(buf, want + at, n), 0);
		if (at > 0 && at < len) {
			cr_assert_eq(pf_vstream_read(s, at - 1, 2, buf, &got),
				     0);
			cr_assert_eq(got, 2);
			cr_assert_eq(memcmp(buf, want + at - 1, 2), 0);
		}
		at += n;
	}
	cr_assert_eq(at, len);
	pf_vstream_unref(s);
	free(want);
}

Test(chunked, a_read_renders_only_the_chunks_it_covers)
{
	struct fake f;
	pf_chunker ch = fake_chunker(&f, FAKE_N);
	pf_vstream *s;
	uint8_t buf[8];
	uint64_t before[FAKE_N], k;
	size_t got, at = 0, len;
	char *want = fake_whole(FAKE_N, &len);

	cr_assert_eq(pf_vstream_new(&ch, &s), 0);
	for (k = 0; k < 20; k++)
		at += fake_len(k);
	memcpy(before, f.renders, sizeof(before));
	/* chunk 20 (10 bytes): rendered, with 21 ahead; nothing else */
	cr_assert_eq(pf_vstream_read(s, at + 1, 3, buf, &got), 0);
	cr_assert_eq(got, 3);
	cr_assert_eq(memcmp(buf, want + at + 1, 3), 0);
	for (k = 0; k < FAKE_N; k++)
		cr_assert_leq(f.renders[k] - before[k],
			      k == 20 || k == 21 ? 1 : 0, "chunk %lu",
			      (unsigned long)k);
	cr_assert_eq(f.renders[20] - before[20], 1);
	/* read again: kept, nothing rendered */
	memcpy(before, f.renders, sizeof(before));
	cr_assert_eq(pf_vstream_read(s, at, 6, buf, &got), 0);
	cr_assert_eq(got, 6);
	cr_assert_eq(memcmp(before, f.renders, sizeof(before)), 0);
	pf_vstream_unref(s);
	free(want);
}

Test(chunked, empty_and_failing_renderers)
{
	struct fake f;
	pf_chunker ch = fake_chunker(&f, 0);
	pf_vstream *s;
	uint8_t buf[16];
	size_t got;

	cr_assert_eq(pf_vstream_new(&ch, &s), 0);
	cr_assert_eq(pf_vstream_size(s), 0);
	cr_assert_eq(pf_vstream_read(s, 0, sizeof(buf), buf, &got), 0);
	cr_assert_eq(got, 0);
	pf_vstream_unref(s);

	/* a chunk that fails: no stream */
	ch = fake_chunker(&f, FAKE_N);
	f.fail_at = 17;
	cr_assert_eq(pf_vstream_new(&ch, &s), ENOMEM);

	/* a chunk whose length changed since the count: EIO, not bytes
	 * from elsewhere */
	ch = fake_chunker(&f, FAKE_N);
	f.grow = 1;
	cr_assert_eq(pf_vstream_new(&ch, &s), 0);
	f.counted = 1;
	cr_assert_eq(pf_vstream_read(s, 0, sizeof(buf), buf, &got), EIO);
	pf_vstream_unref(s);
}

/* ---- values.txt of an array, in chunks ---------------------------------
 * A protocol 3 pickle of an int64 array of the given shape (1 or 2 axes)
 * holding 0, 1, 2 ... (scaled by mul), written as numpy writes one. */
static uint8_t *array_pickle(uint32_t rows, uint32_t cols, int64_t mul,
			     size_t *len)
{
	pk_buf b = PK_BUF_INIT;
	uint64_t n = (uint64_t)rows * (cols ? cols : 1), i;
	uint32_t bytes = (uint32_t)(n * 8);
	uint8_t j4[5] = {'J'};

#define ADD(s) pk_buf_add(&b, s, sizeof(s) - 1)
	ADD("\x80\x03"
	    "cnumpy.core.multiarray\n_reconstruct\n"
	    "cnumpy\nndarray\n"
	    "K\x00\x85"
	    "C\x01"
	    "b\x87R(K\x01");
	memcpy(j4 + 1, &rows, 4);
	pk_buf_add(&b, j4, 5);
	if (cols) {
		memcpy(j4 + 1, &cols, 4);
		pk_buf_add(&b, j4, 5);
		ADD("\x86");
	} else {
		ADD("\x85");
	}
	ADD("cnumpy\ndtype\n"
	    "X\x02\x00\x00\x00i8\x89\x88\x87R"
	    "(K\x03X\x01\x00\x00\x00<"
	    "NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
	    "\x89"
	    "B");
	pk_buf_add(&b, &bytes, 4);
	for (i = 0; i < n; i++) {
		int64_t v = (int64_t)i * mul;
		pk_buf_add(&b, &v, 8);
	}
	ADD("tb.");
#undef ADD
	*len = b.len;
	return b.data;
}

static void array_case(uint32_t rows, uint32_t cols, uint64_t want_chunks)
{
	size_t plen, got;
	uint8_t *p = array_pickle(rows, cols, -3, &plen);
	ut_doc f = ut_open_doc(p, plen);
	pf_ref root = pf_docview_root(f.dv);
	pk_buf whole = PK_BUF_INIT;
	pf_arrinfo a;
	pf_chunker ch;
	pf_vstream *s;
	uint8_t *buf;
	uint64_t k, at = 0;

	cr_assert_eq(pf_array_parse(f.doc, root.val, &a), 0);
	cr_assert_eq(pf_array_payload(f.doc, root.val, &a), 0);
	cr_assert_eq(a.count, (uint64_t)rows * (cols ? cols : 1));
	cr_assert_eq(pf_array_values_text(&a, &whole), 0);
	cr_assert_eq(
	    pf_array_values_chunker(f.doc, root.val, PF_PART_VALUES, &ch), 0);
	cr_assert_eq(ch.nchunks, want_chunks);
	/* chunks of whole rows, when a row fits in one */
	for (k = 0; k < ch.nchunks; k++) {
		pk_buf c = PK_BUF_INIT;
		cr_assert_eq(ch.chunk(ch.self, k, &c), 0);
		cr_assert_eq(memcmp(c.data, whole.data + at, c.len), 0);
		if (cols && cols <= PF_CHUNK_ITEMS)
			cr_assert_eq(c.data[c.len - 1], '\n');
		at += c.len;
		pk_buf_release(&c);
	}
	cr_assert_eq(at, whole.len);
	cr_assert_eq(pf_vstream_new(&ch, &s), 0);
	cr_assert_eq(pf_vstream_size(s), whole.len);
	/* read in pieces that are not a divisor of anything, then across
	 * each boundary */
	buf = malloc(whole.len);
	cr_assert_not_null(buf);
	for (at = 0; at < whole.len; at += got) {
		cr_assert_eq(pf_vstream_read(s, at, 4093, buf + at, &got), 0);
		cr_assert_gt(got, 0);
	}
	cr_assert_eq(memcmp(buf, whole.data, whole.len), 0);
	for (k = 0, at = 0; k < want_chunks; k++) {
		pk_buf c = PK_BUF_INIT;
		uint8_t two[2];
		cr_assert_eq(pf_array_values_chunker(f.doc, root.val,
						     PF_PART_VALUES, &ch),
			     0);
		cr_assert_eq(ch.chunk(ch.self, k, &c), 0);
		ch.release(ch.self);
		at += c.len;
		pk_buf_release(&c);
		if (at < whole.len) {
			cr_assert_eq(pf_vstream_read(s, at - 1, 2, two, &got),
				     0);
			cr_assert_eq(got, 2);
			cr_assert_eq(memcmp(two, whole.data + at - 1, 2), 0);
		}
	}
	free(buf);
	pf_vstream_unref(s);
	pk_buf_release(&whole);
	pf_arrinfo_release(&a);
	ut_close_doc(&f);
	free(p);
}

Test(chunked, array_values_in_chunks_of_whole_rows)
{
	/* 65536 / 3 = 21845 rows a chunk: 70000 rows are 4 chunks */
	array_case(70000, 3, 4);
}

Test(chunked, array_values_one_long_row_cut_in_chunks)
{
	/* one line of 140000 values: chunks of 65536 values, cut mid-line */
	array_case(140000, 0, 3);
}

Test(chunked, array_values_of_a_few_elements_are_one_chunk)
{
	array_case(2, 3, 1);
}
