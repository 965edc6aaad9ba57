/*
 * npdtype.h - numpy dtype pickles read from the tree (nothing imported).
 *
 * What: numpy pickles a dtype as REDUCE(numpy.dtype, (code, align, copy))
 * and BUILD(state), state = (version, byteorder, subarray, names, fields,
 * elsize, alignment, flags[, metadata]). These functions read the item
 * size and whether items are Python objects from that: the one home of
 * those facts, used by the decoder (joblib's inline arrays, joblib.c) and
 * by the mount's array views (fs/view/content.c).
 * Ownership: results point into the doc; nothing is allocated but the
 * caller's buffer.
 */
#ifndef PK_NPDTYPE_H
#define PK_NPDTYPE_H

#include <stdint.h>

#include "buf.h"
#include "pickle.h"

/* The i-th item of a tuple node, or NULL. */
const pk_val *pk_tuple_at(pk_val t, uint32_t i);
/* The BUILD state slot of a dtype object, or NULL. */
const pk_val *pk_npdtype_state(pk_val dt);
/* The type code str ('f8', 'U5', 'V16', 'O8') appended to out: 0, or -1
 * when dt is not a dtype pickle. */
int pk_npdtype_code(pk_val dt, pk_buf *out);
/* Bytes per item: the state's elsize when it is >= 0 (flexible and
 * structured types), else the digits of the code ('f8' -> 8, 'c16' ->
 * 16). -1 when dt is not a dtype pickle. */
int64_t pk_npdtype_itemsize(pk_val dt);
/* 1 when items are Python objects (code 'O', or the state's flags say
 * NPY_ITEM_REFCOUNT: a structured type with an object field). */
int pk_npdtype_hasobject(pk_val dt);

#endif
