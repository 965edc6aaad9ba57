/*
 * npy.h - numpy's own array files (.npy; an .npz is a zip of them) as a
 * header and a byte range, and the pickle that loads the same array.
 *
 * What: a .npy file is the magic "\x93NUMPY", a version (1.0, 2.0, 3.0),
 * the length of a header (2 bytes in 1.0, 4 after), the header (a Python
 * dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (3,
 * 4), }) and the array's bytes. pf_npy_read takes the header apart (only
 * the literal forms numpy writes: a plain descr string, True / False, a
 * tuple of ints; a structured descr list is refused) and
 * pf_npy_pickle writes the protocol 5 pickle numpy itself writes for
 * the array with its buffer out of band:
 * numpy.core.numeric._frombuffer(NEXT_BUFFER, dtype, shape, order), so
 * the array shows like any pickled one, its bytes supplied from the file
 * (pickle.h, pk_external's buffer).
 * Ownership: a pf_npy points into the file's bytes (the descr text);
 * the pickle is appended to the caller's buffer.
 * Invariant: data + data_len never passes the bytes given; data_len is
 * the shape's element count times the item size (a file with fewer
 * bytes is refused).
 */
#ifndef PF_NPY_H
#define PF_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "pickle.h"

#define PF_NPY_MAXDIM 32

typedef struct pf_npy {
	char descr[16]; /* '<f8', '|u1', '<U5' ... */
	int fortran;	/* fortran_order */
	uint32_t ndim;
	uint64_t shape[PF_NPY_MAXDIM];
	uint64_t data_off; /* where the array's bytes start */
	uint64_t data_len;
	const uint8_t *data; /* they, once bound (pf_npy_bind) */
	pk_external ext;
} pf_npy;

/* 1 when p[0..n) starts with the .npy magic. */
int pf_npy_magic(const uint8_t *p, size_t n);
/* Takes the header of the .npy bytes p[0..n) apart. PK_OK, or a code
 * with e saying what and at which byte. */
int pf_npy_read(const uint8_t *p, size_t n, pf_npy *out, pk_err *e);
/* Appends to out the protocol 5 pickle of the array with its bytes out
 * of band. PK_OK or PK_E_NOMEM. */
int pf_npy_pickle(const pf_npy *a, pk_buf *out, pk_err *e);

/* Lets doc (decoded from pf_npy_pickle's bytes) find the array's bytes,
 * data[0..a->data_len), as its out-of-band buffer. a must not move
 * while doc uses it. */
void pf_npy_bind(pf_npy *a, const uint8_t *data, pk_doc *doc);

#endif
