/*
 * tensor.h - PyTorch tensors in a pickle, read from the opcodes.
 *
 * What: torch.save pickles a tensor as a REDUCE of
 * torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
 * requires_grad, backward_hooks[, metadata]), an nn.Parameter as
 * torch._utils._rebuild_parameter(tensor, requires_grad, hooks) (or
 * _rebuild_parameter_with_state), and the storage as a persistent id
 * ('storage', torch.FloatStorage, KEY, LOCATION, NUMEL[, view_metadata])
 * whose bytes the pickle does not hold: the checkpoint keeps them, and
 * the doc's pk_external (pickle.h) finds them by KEY. This module takes
 * such a value apart (the dtype follows from the storage class:
 * FloatStorage is float32, BFloat16Storage bfloat16 ...) and gives its
 * values in logical C order, as the tensor's `data` file shows them:
 * storage offset and strides applied.
 * Ownership: a pf_tensor points into the doc; pf_tensor_data hands out
 * either a pointer into the storage (a contiguous tensor: no copy) or
 * bytes gathered into the caller's buffer.
 * Invariant: nothing is read past the storage's bytes: every element's
 * position (offset + sum of index * stride) is checked against them
 * before any is copied.
 */
#ifndef PF_TENSOR_H
#define PF_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pickle.h"

#define PF_TENSOR_MAXDIM 64

typedef struct pf_tensor {
	const pk_val *tensor; /* the _rebuild_tensor REDUCE */
	const pk_val *persid; /* the storage's BINPERSID value */
	const pk_val *key;    /* its KEY (a str slot) */
	const pk_val *size;   /* the shape tuple */
	const pk_val *stride; /* the stride tuple */
	const char *name;     /* torch's dtype name: "float32" */
	const char *descr;    /* numpy's dtype.str: "<f4"; NULL: none
				 (bfloat16) */
	uint32_t itemsize;    /* bytes per element */
	uint64_t offset;      /* storage offset, in elements */
	uint32_t ndim;
	uint64_t dims[PF_TENSOR_MAXDIM];
	int64_t strides[PF_TENSOR_MAXDIM];
	uint64_t count; /* elements */
	int parameter;	/* an nn.Parameter */
} pf_tensor;

/* Takes the tensor at v apart: 0, or -1 when v is not one this module
 * reads. */
int pf_tensor_parse(const pk_val *v, pf_tensor *t);

/* The tensor's values in logical C order, little-endian as stored:
 * *data / *len point into the storage (doc->external) when the tensor is
 * contiguous, else the bytes are gathered into out (appended) and *data
 * points there. size_only: only *len. 0, or ENOENT (the doc has no
 * such storage), EIO (an element lies past the storage's end), ENOMEM. */
int pf_tensor_data(const pk_doc *doc, const pf_tensor *t, int size_only,
		   const uint8_t **data, uint64_t *len, pk_buf *out);

/* Calls fn for each distinct storage persistent id in doc (every node
 * reachable from the root is looked at once: an explicit stack, shared
 * nodes visited once): its KEY and the bytes of one element of its
 * class. fn returning nonzero stops the walk with that value. 0, ENOMEM
 * or fn's value. */
int pf_tensor_storages(const pk_doc *doc,
		       int (*fn)(void *ctx, const uint8_t *key, size_t keylen,
				 uint32_t itemsize),
		       void *ctx);

#endif
