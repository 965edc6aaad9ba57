/*
 * entries.h - the names and ids of a directory's entries once it has been
 * edited while mounted.
 *
 * What: the mount promises that an entry's name never changes while it is
 * mounted, except by mv, and that whatever the kernel holds (an inode, an
 * open file) refers to a value, never to "entry number i" (README,
 * "Identity"). Until a directory is first edited, entry i of its layout
 * is named by the docview and its id is i. The first structural edit
 * snapshots the (id, name) of every entry into a pf_entries, in layout
 * order; every later edit of that directory changes it the way the edit
 * changed the layout: a row removed where an entry was removed, a row
 * inserted where the new entry appears, a row renamed by mv. So row i is
 * always entry i of the current layout, names stay put (removing list
 * item 1 leaves 0 2 3 4), and ids are never given twice (an entry removed
 * and made again is another entry: a handle on the old one finds
 * nothing).
 *
 * Ownership: a pf_entries owns its rows, its name pool and its indexes;
 * pf_entries_free releases all of it. Names returned point into the pool
 * and stay valid until the next change.
 * Invariants: n == the directory's layout count; ids and names are
 * distinct; next_id is greater than every id ever given; not thread-safe
 * (the pickle's lock guards it).
 */
#ifndef PF_ENTRIES_H
#define PF_ENTRIES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "docview.h"

typedef struct pf_entry_row {
	uint64_t id;
	uint64_t name_off; /* into pool */
	uint32_t name_len;
} pf_entry_row;

typedef struct pf_entries {
	pf_entry_row *rows;
	size_t n, cap;
	uint64_t next_id;
	pk_buf pool;	   /* the names, NUL-terminated */
	uint32_t *by_name; /* open addressing: row + 1, 0 empty */
	uint32_t *by_id;
	size_t hcap; /* power of two; 0: indexes must be rebuilt */
} pf_entries;

/* Snapshots the entries of dir as the view names them now: row i is
 * entry i with id i. 0, or an errno. */
int pf_entries_new(pf_docview *dv, pf_ref dir, pf_entries **out);
void pf_entries_free(pf_entries *t);

/* Row of the entry called name[0..len) / with this id, or -1. */
int64_t pf_entries_find_name(pf_entries *t, const char *name, size_t len);
int64_t pf_entries_find_id(pf_entries *t, uint64_t id);
/* Name of a row (NUL-terminated). */
const char *pf_entries_name(const pf_entries *t, size_t row, size_t *len);

/* The entry at row was removed. */
void pf_entries_remove(pf_entries *t, size_t row);
/* A new entry appeared at row (0 <= row <= n) called name; *id gets its
 * new id. 0 or ENOMEM. */
int pf_entries_insert(pf_entries *t, size_t row, const char *name,
		      uint64_t *id);
/* The entry at row is now called name. 0 or ENOMEM. */
int pf_entries_rename(pf_entries *t, size_t row, const char *name);

/* The name a new list item takes: one more than the highest decimal
 * name shown, 0 when none is shown. */
uint64_t pf_entries_next_index(const pf_entries *t);

#endif
