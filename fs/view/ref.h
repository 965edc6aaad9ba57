/*
 * ref.h - a thing the mount shows: a value slot, or a synthetic part of
 * one (an array's dtype, an object's __args__ ...).
 *
 * What: the one small type every presentation module and the mount's
 * inodes pass around, kept apart so that naming it does not pull in what
 * uses it (contents, layouts).
 * Ownership: a pf_ref borrows its slot from a doc; it is valid while the
 * doc lives and the slot has not moved (kids arrays move on structural
 * edits: the mount resolves refs again after each, inode.h).
 * Invariants: part is an enum pf_part; val is never NULL in a ref that
 * names something.
 */
#ifndef PF_REF_H
#define PF_REF_H

#include <stdint.h>

#include "pickle.h"

/* Parts of an object node shown as synthetic entries. */
enum pf_part {
	PF_PART_SELF = 0,
	PF_PART_WRAP,	   /* dir: a pickle whose top value is a file */
	PF_PART_INST_ARGS, /* dir: INST / OBJ arguments */
	PF_PART_LISTITEMS, /* dir: APPEND(S) kids of an object */
	PF_PART_DICTITEMS, /* dir: SETITEM(S) pairs of an object */
	PF_PART_DTYPE,	   /* file: numpy dtype.str */
	PF_PART_SHAPE,	   /* file: numpy shape tuple repr */
	PF_PART_ORDER,	   /* file: "F" for Fortran-ordered arrays */
	PF_PART_DATA,	   /* file: numpy array bytes */
	PF_PART_VALUES,	   /* file: values.txt of an array (views.h) */
	PF_PART_NPY,	   /* file: array.npy, read-only */
	PF_PART_IMAGE,	   /* file: image.png, read-only */
	PF_PART_STRVALUES, /* file: values.txt of a str / bytes array, r-- */
	PF_PART_STRIDE,	   /* file: a tensor's strides (tensor.h) */
	PF_PART_INDEX,	   /* file: a frame's __index__ (frame.h), r-- */
	PF_PART_CSV,	   /* file: a frame's __frame__.csv, r-- */
	PF_PART_RAW,	   /* dir: a frame's __raw__: the object as is */
	/* file: column c of a frame is part PF_PART_COLUMN0 + c */
	PF_PART_COLUMN0 = 0x10000,
};

/* The column a part names, or -1. */
static inline int64_t pf_part_column(uint32_t part)
{
	return part >= PF_PART_COLUMN0 ? (int64_t)(part - PF_PART_COLUMN0) : -1;
}

/* Parts that are derived views of an array (views.h): not in the pickle,
 * so `rm` of one is refused (EPERM) rather than taking the array. */
static inline int pf_part_is_view(uint32_t part)
{
	return part == PF_PART_VALUES || part == PF_PART_NPY ||
	       part == PF_PART_IMAGE || part == PF_PART_STRVALUES ||
	       part == PF_PART_INDEX || part == PF_PART_CSV ||
	       pf_part_column(part) >= 0;
}

/* Parts that are derived views: read-only to every write (EPERM). A
 * frame's column takes edits or not by its dtype (pf_docview_readonly,
 * docview.h). */
static inline int pf_part_readonly(uint32_t part)
{
	return part == PF_PART_NPY || part == PF_PART_IMAGE ||
	       part == PF_PART_STRVALUES || part == PF_PART_INDEX ||
	       part == PF_PART_CSV;
}

/* A thing shown in the mount: a value, or a part of an object value. */
typedef struct pf_ref {
	const pk_val *val;
	uint32_t part; /* enum pf_part */
} pf_ref;

#endif
