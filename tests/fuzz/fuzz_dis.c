/*
 * libFuzzer harness for codec/dis.h, the disassembler, on arbitrary
 * bytes. Per input:
 *   - pk_dis returns one of the codes dis.h lists (never PK_E_NOMEM for
 *     inputs this small), with a message and an offset inside the input
 *     (the input's length only for PK_E_TRUNCATED);
 *   - it appends to what the buffer held, never resetting it;
 *   - the text is well formed: UTF-8 (what Python would print), no NUL,
 *     whole lines; each line but the last of a finished listing starts
 *     with the offset of an opcode, "%5d: ", offsets strictly growing and
 *     inside the input; the line "highest protocol among opcodes = N"
 *     (N 0..5) comes last, after a STOP line, exactly when the listing
 *     was finished (PK_OK, or PK_E_STACK for a stack not empty after
 *     STOP);
 *   - pk_dis_stream gives the same text, code and offset, and turns a
 *     failing flush into PK_E_IO (when nothing else failed first);
 *   - the listing of a prefix of the input is a prefix of the listing of
 *     the input (the disassembler reads forwards only).
 * Whether the text is what pickletools prints is checked offline on the
 * corpus this finds: tests/fuzz/dis-vs-pickletools.py.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dis.h"
#include "text.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static const char last_line[] = "highest protocol among opcodes = ";

struct sink {
	pk_buf all;
	int calls;
	int fail_at; /* the flush call that fails (1-based), 0: none */
};

static int flush_to(void *ctx, pk_buf *b)
{
	struct sink *s = ctx;

	s->calls++;
	if (s->fail_at && s->calls == s->fail_at)
		return -1;
	CHECK(b->len > 0 && b->data[b->len - 1] == '\n');
	CHECK(pk_buf_add(&s->all, b->data, b->len) == 0);
	pk_buf_reset(b);
	return 0;
}

/* Whether text[0..n) is the listing dis.h describes; finished: whether
 * it ends with the "highest protocol" line. */
static void check_text(const uint8_t *t, size_t n, size_t len, int finished)
{
	size_t i = 0, prev_stop = 0;
	int64_t last = -1;

	CHECK(!memchr(t, '\0', n));
	CHECK(pk_utf8_valid(t, n, 0));
	CHECK(n == 0 || t[n - 1] == '\n');
	while (i < n) {
		const uint8_t *nl = memchr(t + i, '\n', n - i);
		size_t end = (size_t)(nl - t), j = i;
		uint64_t off = 0;
		int digits = 0;

		CHECK(nl);
		if (end - i >= sizeof(last_line) - 1 &&
		    memcmp(t + i, last_line, sizeof(last_line) - 1) == 0) {
			/* the last line, after STOP's */
			CHECK(finished && end + 1 == n && prev_stop);
			CHECK(end - i == sizeof(last_line) &&
			      t[end - 1] >= '0' && t[end - 1] <= '5');
			return;
		}
		/* "%5d: " */
		while (j < end && t[j] == ' ')
			j++;
		CHECK(j - i <= 4);
		while (j < end && t[j] >= '0' && t[j] <= '9' && digits < 20) {
			off = off * 10 + (uint64_t)(t[j] - '0');
			j++;
			digits++;
		}
		CHECK(digits && j - i >= 5 && j + 2 <= end && t[j] == ':' &&
		      t[j + 1] == ' ');
		CHECK(off < len && (int64_t)off > last);
		last = (int64_t)off;
		prev_stop = end - i >= 4 && memmem(t + i, end - i, "STOP", 4);
		i = end + 1;
	}
	CHECK(!finished);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char pre[] = "kept\n";
	pk_buf out = PK_BUF_INIT, cut = PK_BUF_INIT;
	struct sink s = {PK_BUF_INIT, 0, 0};
	pk_err e, se, ce;
	size_t k;
	int rc, src, crc, finished;

	CHECK(pk_buf_adds(&out, pre) == 0);
	rc = pk_dis(data, size, &out, &e);
	CHECK(out.len >= sizeof(pre) - 1 &&
	      memcmp(out.data, pre, sizeof(pre) - 1) == 0);
	switch (rc) {
	case PK_OK:
		break;
	case PK_E_TRUNCATED:
		CHECK(e.offset <= size);
		break;
	case PK_E_OPCODE:
	case PK_E_ARG:
	case PK_E_STACK:
	case PK_E_MEMO:
	case PK_E_UNSUPPORTED:
		CHECK(e.offset < size);
		break;
	default:
		fprintf(stderr, "pk_dis: unexpected code %d\n", rc);
		abort();
	}
	CHECK(rc == PK_OK || (e.code == rc && e.msg && e.msg[0]));
	finished = rc == PK_OK ||
		   (rc == PK_E_STACK && e.offset < size &&
		    data[e.offset] == '.' && strstr(e.msg, "after STOP"));
	check_text(out.data + sizeof(pre) - 1, out.len - (sizeof(pre) - 1),
		   size, finished);

	/* the streaming form: same text, code and offset */
	src = pk_dis_stream(data, size, flush_to, &s, &se);
	CHECK(src == rc && (rc == PK_OK || se.offset == e.offset));
	CHECK(s.all.len == out.len - (sizeof(pre) - 1) &&
	      (s.all.len == 0 ||
	       memcmp(s.all.data, out.data + sizeof(pre) - 1, s.all.len) == 0));
	/* a flush that fails: PK_E_IO, unless the listing failed first */
	if (s.calls) {
		struct sink f = {PK_BUF_INIT, 0, s.calls};
		src = pk_dis_stream(data, size, flush_to, &f, &se);
		CHECK(src == (rc == PK_OK ? PK_E_IO : rc));
		pk_buf_release(&f.all);
	}

	/* a prefix of the input lists a prefix of the text */
	k = size ? (size_t)data[size - 1] * 7919u % size : 0;
	crc = pk_dis(data, k, &cut, &ce);
	CHECK(cut.len <= out.len - (sizeof(pre) - 1) &&
	      (cut.len == 0 ||
	       memcmp(cut.data, out.data + sizeof(pre) - 1, cut.len) == 0));
	/* STOP inside the prefix: the same listing */
	CHECK(crc != PK_OK ||
	      (rc == PK_OK && cut.len == out.len - (sizeof(pre) - 1)));

	pk_buf_release(&out);
	pk_buf_release(&cut);
	pk_buf_release(&s.all);
	return 0;
}
