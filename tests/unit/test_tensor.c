/*
 * Unit tests of PyTorch tensors (fs/view/tensor.c): a tensor pickled as
 * torch.save does (hand-written opcodes: _rebuild_tensor_v2 over a
 * persistent-id storage), its data through a storage table: in place
 * when contiguous, gathered in C order when strided, refused when an
 * element would lie past the storage, or when there is no storage.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "pickle.h"
#include "tensor.h"

static const float store[4] = {0, 1, 2, 3};

static int find(const pk_external *st, const uint8_t *key, size_t keylen,
		const uint8_t **data, uint64_t *len)
{
	(void)st;
	if (keylen != 1 || key[0] != '0')
		return ENOENT;
	*data = (const uint8_t *)store;
	*len = sizeof(store);
	return 0;
}

static const pk_external table = {find, NULL};

/* torch._utils._rebuild_tensor_v2(('storage', torch.FloatStorage, '0',
 * 'cpu', 4), offset, (2, 2), (s0, s1), False, OrderedDict()) */
static pk_doc *tensor_doc(uint8_t offset, uint8_t s0, uint8_t s1, uint8_t *buf,
			  size_t *n)
{
	static const char head[] = "\x80\x02"
				   "ctorch._utils\n_rebuild_tensor_v2\n(("
				   "X\x07\x00\x00\x00storage"
				   "ctorch\nFloatStorage\n"
				   "X\x01\x00\x00\x00"
				   "0"
				   "X\x03\x00\x00\x00"
				   "cpu"
				   "K\x04tQ";
	static const char tail[] = "\x89"
				   "ccollections\nOrderedDict\n)RtR.";
	size_t at = sizeof(head) - 1;
	pk_doc *doc = NULL;
	pk_err e;

	memcpy(buf, head, at);
	buf[at++] = 'K';
	buf[at++] = offset;
	memcpy(buf + at, "K\x02K\x02\x86K", 6);
	at += 6;
	buf[at++] = s0;
	buf[at++] = 'K';
	buf[at++] = s1;
	buf[at++] = 0x86;
	memcpy(buf + at, tail, sizeof(tail) - 1);
	at += sizeof(tail) - 1;
	*n = at;
	cr_assert_eq(pk_decode(buf, at, 0, &doc, &e), PK_OK, "%s at %zu", e.msg,
		     (size_t)e.offset);
	return doc;
}

Test(tensor, contiguous_in_place_strided_gathered_out_of_range_refused)
{
	uint8_t buf[256];
	size_t n;
	pf_tensor t;
	pk_buf out = PK_BUF_INIT;
	const uint8_t *p;
	uint64_t len;
	float got[4];
	pk_doc *doc = tensor_doc(0, 2, 1, buf, &n);

	cr_assert_eq(pf_tensor_parse(&doc->root, &t), 0);
	cr_assert_str_eq(t.name, "float32");
	cr_assert_str_eq(t.descr, "<f4");
	cr_assert_eq(t.ndim, 2);
	cr_assert_eq(t.count, 4);
	cr_assert_eq(pf_tensor_data(doc, &t, 0, &p, &len, &out), ENOENT,
		     "no storage table: no data");
	doc->external = &table;
	cr_assert_eq(pf_tensor_data(doc, &t, 0, &p, &len, &out), 0);
	cr_assert_eq(p, (const uint8_t *)store, "contiguous: in place");
	cr_assert_eq(len, 16);
	cr_assert_eq(out.len, 0, "nothing copied");
	pk_doc_free(doc);

	doc = tensor_doc(0, 1, 2, buf, &n); /* the transpose */
	doc->external = &table;
	cr_assert_eq(pf_tensor_parse(&doc->root, &t), 0);
	cr_assert_eq(pf_tensor_data(doc, &t, 0, &p, &len, &out), 0);
	cr_assert_eq(len, 16);
	memcpy(got, p, sizeof(got));
	cr_assert(got[0] == 0 && got[1] == 2 && got[2] == 1 && got[3] == 3,
		  "C order of the transpose: %g %g %g %g", got[0], got[1],
		  got[2], got[3]);
	pk_doc_free(doc);

	doc = tensor_doc(1, 2, 1, buf, &n); /* reaches element 4 of 4 */
	doc->external = &table;
	cr_assert_eq(pf_tensor_parse(&doc->root, &t), 0);
	cr_assert_eq(pf_tensor_data(doc, &t, 0, &p, &len, &out), EIO);
	cr_assert_eq(pf_tensor_data(doc, &t, 1, &p, &len, &out), 0,
		     "its size is still known");
	cr_assert_eq(len, 16);
	pk_doc_free(doc);
	pk_buf_release(&out);
}
