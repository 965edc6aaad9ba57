/*
 * layout.h - the entries of a directory in the mount.
 *
 * What: for a directory ref (a dict, list, object ... or a part of an
 * object) the ordered list of its entries and what each one is: a value
 * slot (dict value, list item, attribute) or a synthetic part
 * (__class__ of an INST, dtype/shape/data of an array). A layout is a
 * few segments (one reserved entry; a run of list items; a run of dict
 * key/value pairs), so entry i of a dict with a million keys costs a
 * binary search over the segments, not a walk.
 *
 * Which entries a directory has:
 *   dict, OrderedDict, Counter  its keys, in insertion order
 *   defaultdict                 __default_factory__, then its keys
 *   list, tuple, set, frozenset 0 .. n-1
 *   numpy array                 dtype, shape, [order], data, [values.txt],
 *                               [array.npy], [image.png] (views.h)
 *   object                      __class__, [__args__], [__kwargs__], the
 *                               keys of a dict state (also both dicts of
 *                               a (dict, slots) state), [__state__] for
 *                               any other state, [__listitems__],
 *                               [__items__] (APPEND / SETITEM steps)
 *   DataFrame, Series (frame.h) its columns, __index__, __frame__.csv,
 *                               __raw__ (the object's own entries); a
 *                               frame frame.h cannot read: the object's
 *                               entries, and `note` says why
 *   BINPERSID                   __persid__
 *   a top value shown as a file __value__ (PF_PART_WRAP)
 *
 * Ownership: a layout points into the doc; pf_layout_release frees the
 * segment array when it outgrew the inline one, and the column numbers.
 * Invariants: the layout of a ref depends only on the doc (entries never
 * move while the doc lives); sum of segment counts == n.
 */
#ifndef PF_LAYOUT_H
#define PF_LAYOUT_H

#include <stdint.h>

#include "content.h"
#include "pickle.h"
#include "form.h"

enum pf_seg_kind {
	PF_SEG_ONE,	/* one reserved entry */
	PF_SEG_ITEMS,	/* kids[i]: items named by index (base + i) */
	PF_SEG_PAIRS,	/* kids[2i], kids[2i+1]: key, value */
	PF_SEG_NESTED,	/* kids[i] is a 2-item list/tuple: key, value */
	PF_SEG_COLUMNS, /* a frame's columns: target {frame, column part},
			   named by the key kids[i] or, kids NULL, by the
			   number nums[i] */
};

typedef struct pf_seg {
	uint8_t kind;
	const char *name; /* ONE */
	pf_ref target;	  /* ONE */
	const pk_val *kids;
	uint64_t start;	      /* entry index of the segment's first entry */
	uint32_t count;	      /* entries */
	uint32_t base;	      /* ITEMS: the index the first item is named */
	const uint64_t *nums; /* COLUMNS without key slots */
} pf_seg;

#define PF_LAYOUT_INLINE 6

typedef struct pf_layout {
	pf_seg *segs;
	uint32_t nsegs, cap;
	uint64_t n;  /* entries */
	int indexed; /* every entry is named by its index 0..n-1 */
	pf_seg inl[PF_LAYOUT_INLINE];
	uint64_t *nums;	  /* owned: the COLUMNS segment's numbers */
	const char *note; /* why a value is shown raw (static), or NULL */
} pf_layout;

typedef struct pf_entry {
	pf_ref target;
	const pk_val *key;    /* PAIRS / NESTED: the key slot */
	const char *reserved; /* ONE: the reserved name */
	uint64_t index;	      /* ITEMS: the number that names it */
} pf_entry;

/* 1 when the ref is shown as a directory. */
int pf_ref_is_dir(pf_ref r);

/* The node identity of a directory ref (for "same directory" tests):
 * the node for node values, the slot for a PF_PART_WRAP. */
static inline const void *pf_ref_ident(pf_ref r)
{
	if (r.val && pf_is_node(r.val))
		return pf_node(r.val);
	return r.val;
}
static inline int pf_ref_same(pf_ref a, pf_ref b)
{
	return a.part == b.part && pf_ref_ident(a) == pf_ref_ident(b);
}

/* Builds the layout of a directory ref. 0, ENOTDIR, or ENOMEM. */
int pf_layout_build(const pk_doc *doc, pf_ref dir, pf_layout *l);
void pf_layout_release(pf_layout *l);
/* Entry i < l->n. */
void pf_layout_entry(const pf_layout *l, uint64_t i, pf_entry *e);
/* Entry index of the reserved entry whose target is part `part`, or -1. */
int64_t pf_layout_find_part(const pf_layout *l, uint32_t part);

#endif
