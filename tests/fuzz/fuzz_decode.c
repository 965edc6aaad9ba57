/*
 * libFuzzer harness for the decoder: any input must be either refused
 * with an error (code, message, offset inside the input) or decoded into
 * a doc that encodes again, and the re-encoding must decode again.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pk_doc *doc = NULL, *again = NULL;
	pk_buf out = PK_BUF_INIT;
	pk_err e;

	if (pk_decode(data, size, 0, &doc, &e) != PK_OK) {
		if (!e.msg || e.offset > size)
			abort();
		return 0;
	}
	if (pk_encode_to_buf(doc, &out, &e) != PK_OK)
		abort();
	if (pk_decode(out.data, out.len, 0, &again, &e) != PK_OK)
		abort();
	pk_doc_free(again);
	pk_doc_free(doc);
	pk_buf_release(&out);
	return 0;
}
