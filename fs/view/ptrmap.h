/*
 * ptrmap.h - a hash map from (pointer, small tag) to a 64-bit value.
 *
 * What: the identity tables of the presentation: "which container was
 * reached first where" (keyed by node pointer) and "the cached listing of
 * this directory" (keyed by node pointer and part). Identity in a pk_doc
 * is pointer equality, so pointers are the natural keys.
 * Ownership: the map owns its slot array; pf_ptrmap_release frees it.
 * Values are plain numbers (callers store indices or pointers).
 * Invariants: no deletion (a map lives as long as the doc it indexes);
 * load factor <= 1/2; key (NULL, 0) is reserved for empty slots.
 */
#ifndef PF_PTRMAP_H
#define PF_PTRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct pf_ptrmap_slot {
	const void *ptr;
	uint32_t tag;
	uint64_t value;
} pf_ptrmap_slot;

typedef struct pf_ptrmap {
	pf_ptrmap_slot *slots;
	size_t cap; /* power of two, or 0 */
	size_t used;
} pf_ptrmap;

void pf_ptrmap_init(pf_ptrmap *m);
void pf_ptrmap_release(pf_ptrmap *m);
/* 1 and *value when present, else 0. */
int pf_ptrmap_get(const pf_ptrmap *m, const void *ptr, uint32_t tag,
		  uint64_t *value);
/* Inserts or overwrites. 0, or ENOMEM. */
int pf_ptrmap_put(pf_ptrmap *m, const void *ptr, uint32_t tag, uint64_t value);
static inline size_t pf_ptrmap_bytes(const pf_ptrmap *m)
{
	return m->cap * sizeof(pf_ptrmap_slot);
}

#endif
