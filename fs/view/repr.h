/*
 * repr.h - Python's repr of a value, for naming dict keys.
 *
 * What: the text a key that is not a str gets as its file name: an int
 * its decimal, bytes b'..', a tuple (1, 'a'), None, 1.5, a frozenset
 * frozenset({1, 2}), an object its call "decimal.Decimal('1.5')" (the
 * reduce callable with its arguments: nothing is executed, so this is
 * the pickle's own description of the value, not the class's __repr__).
 * Ownership: output is appended to a caller-owned pk_buf.
 * Invariants: iterative (a key nested a million deep costs heap, not
 * stack); the output is at most `cap` bytes: a longer repr is cut at a
 * character boundary and ends with "...", so a self-containing key still
 * terminates and a key's repr fits an xattr (64 KiB).
 */
#ifndef PF_REPR_H
#define PF_REPR_H

#include <stddef.h>

#include "buf.h"
#include "pickle.h"

/* 0, or an errno. */
int pf_repr(const pk_doc *doc, const pk_val *v, size_t cap, pk_buf *out);

#endif
