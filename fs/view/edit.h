/*
 * edit.h - changing a parsed pickle the way the mount's write calls ask.
 *
 * What: the rules of the README's "Editing" on one pk_doc and its
 * docview, without FUSE: replace a file's value from the text written to
 * it (read as the value's own type), add a key or list item from a new
 * file (type inferred from its content), remove an entry, rename a key in
 * place, convert a scalar's type, make an empty dict. Every function
 * that can refuse takes a pk_err and returns 0 or the errno of its code
 * (errmap.c, the one place codes become errno): PK_E_VALUE (EINVAL) when
 * the text is not a literal of the type, PK_E_REFUSED (EPERM) for a part
 * of a value that cannot take that edit (an object's __class__, a new
 * member of a tuple ...), PK_E_NOMEM; the doc is then unchanged, and *e
 * says why in words for the log.
 * Ownership: new values live in the doc's arena. The caller holds the
 * pickle's lock, and must rebuild the docview after any successful call
 * (entry refs point into kids arrays that may move).
 */
#ifndef PF_EDIT_H
#define PF_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "content.h"
#include "pickle.h"

/* The file at ref gets the value the text stands for, in its own type:
 * one trailing '\n' dropped for str, Python literals for numbers, bool,
 * None and complex, raw bytes for bytes and numpy data (same length). */
int pf_edit_set(pk_doc *doc, pf_ref ref, const uint8_t *text, size_t len,
		pk_err *e);

/* The type a new file's content gets: an int, float, bool, None or
 * complex literal, else str (PF_KIND_COMPLEX for complex). */
enum { PF_KIND_COMPLEX = PK_OBJECT + 1 }; /* no pk_kind: an object */
int pf_edit_infer_kind(const uint8_t *text, size_t len);

/* Converts the scalar at ref to `type` (a user.pickle.type name: str,
 * int, float, bool, none, bytes). */
int pf_edit_convert(pk_doc *doc, pf_ref ref, const char *type, pk_err *e);

/* Directory entries, by the entry's key and target slots (as the docview
 * gives them). dir must be a dict, a list, or an object with a dict
 * state or SETITEMs (its attributes / items). */
int pf_edit_remove(pk_doc *doc, pf_ref dir, const pk_val *key,
		   const pk_val *target, pk_err *e);
/* Whether pf_edit_remove would remove that entry (changes nothing): 0 or
 * EPERM. Lets a change made of several steps check them all first. */
int pf_edit_can_remove(pf_ref dir, const pk_val *key, const pk_val *target,
		       pk_err *e);
/* A new entry holding a new value, at the end: in a dict, the key `name`
 * stands for (str, or int when the name is a decimal and the dict's keys
 * are ints); in a list (name NULL: which names may append is the
 * caller's rule), the next item. dir_value: a new empty dict instead of
 * text; type (a user.pickle.type name) instead of inference when not
 * NULL. *made (may be NULL) gets the new value's slot. A new key, here
 * and in pf_edit_rename_key, that equals another key of the dict as
 * Python compares keys (the int 1 beside 1, 1.0 or True; a str beside
 * the same text) is refused (EPERM): loading the pickle would keep one
 * of the two. */
int pf_edit_add(pk_doc *doc, pf_ref dir, const char *name, int dir_value,
		const uint8_t *text, size_t len, const char *type,
		const pk_val **made, pk_err *e);

/* For a file being written piece by piece: the kind whose text can be
 * refused early (int, float, bool: pf_edit_viable), or 0; or
 * PF_EDIT_EARLY_LINE for a library scalar (scalars.h): its text is
 * checked whole (pf_edit_check) once a write ends it with '\n' (its
 * one line is then complete: anything after would be refused anyway). */
#define PF_EDIT_EARLY_LINE (-1)
int pf_edit_early_kind(pf_ref ref);
/* Whether text, written so far, can still become a literal the value of
 * that kind takes (widening included): 0, or EINVAL when no text that
 * starts this way ever can (`echo abc > an_int` fails at write()). */
int pf_edit_viable(int kind, const uint8_t *text, size_t len, pk_err *e);

/* Whether text would be accepted by pf_edit_set (changes nothing). */
int pf_edit_check(pk_doc *doc, pf_ref ref, const uint8_t *text, size_t len,
		  pk_err *e);
/* The key slot (an entry's key in directory dir) gets the key `name`
 * stands for, same type when it can. */
int pf_edit_rename_key(pk_doc *doc, pf_ref dir, pk_val *key, const char *name,
		       pk_err *e);

#endif
