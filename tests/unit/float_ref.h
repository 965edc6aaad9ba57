/*
 * float_ref.h - the former, slow repr(float) (float_ref.c): the oracle
 * the fast pk_float_repr (codec/text_float.c) is compared with.
 */
#ifndef PF_TEST_FLOAT_REF_H
#define PF_TEST_FLOAT_REF_H

#include "buf.h"

/* repr(float) as pk_float_repr writes it, by snprintf and strtod. */
int ref_float_repr(double v, pk_buf *out);

#endif
