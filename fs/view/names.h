/*
 * names.h - file names for keys: escaping, and telling keys apart.
 *
 * What: the naming scheme of a directory. Every entry gets a natural
 * name (a str key: its text; an int key: its decimal; any other key: its
 * Python repr; a list item: its index; an object's reserved parts:
 * "__class__" ...) escaped so that it is a legal file name, and then the
 * names of one directory are made unique:
 *
 *   escaping   '%' -> "%25", '/' -> "%2F", NUL -> "%00"; the whole names
 *              "" -> "%", "." -> "%2E", ".." -> "%2E%2E". Escapes use
 *              upper-case hex, so a natural name never holds '%' followed
 *              by a lower-case letter.
 *   priority   reserved names first, then str keys, then other keys, each
 *              in entry order: the first to claim a natural name gets it.
 *   suffix     an entry whose natural name is taken is "NAME%TYPE", then
 *              "NAME%TYPE2", "NAME%TYPE3" ... (TYPE: the key's type name,
 *              lower-case letters). A natural name longer than
 *              PF_NAME_LONG bytes is cut to PF_NAME_CUT bytes (at a UTF-8
 *              boundary) and always gets the suffix type "long".
 *              A suffixed name that would be longer than PF_NAME_MAX
 *              bytes has its base cut (at a UTF-8 boundary) to fit.
 *
 * Because suffixed names contain "%<lower-case letter>" and natural names
 * never do, the mapping entry -> name is injective in a directory, and
 * name -> entry is a table lookup (pf_names_find).
 *
 * Ownership: a pf_names owns its hash index, its name array and the pool
 * that pf_names_store copies into; candidates passed to pf_names_build
 * must point into that pool or into memory that outlives the table.
 * pf_names_release frees all of it.
 * Invariants: after pf_names_build, v[i] is the name of entry i, all v[i]
 * are distinct, non-empty, at most 255 bytes, contain no '/' or NUL and
 * are neither "." nor "..".
 */
#ifndef PF_NAMES_H
#define PF_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PF_NAME_LONG 240 /* natural names longer than this are cut */
#define PF_NAME_CUT 200	 /* ... to at most this many bytes */
#define PF_NAME_MAX 255	 /* no name is longer */

typedef struct pf_name {
	const char *s;
	uint32_t len;
} pf_name;

/* Priority classes (lower claims first). */
enum { PF_PRIO_RESERVED = 0, PF_PRIO_STR = 1, PF_PRIO_OTHER = 2 };

typedef struct pf_name_cand {
	const char *nat; /* natural name, already escaped */
	uint32_t natlen;
	uint8_t prio;	  /* PF_PRIO_* */
	const char *type; /* suffix type name: lower-case letters only */
} pf_name_cand;

struct pf_pool_chunk;

typedef struct pf_names {
	pf_name *v; /* v[i]: final name of entry i */
	uint32_t n;
	uint32_t *hash; /* open addressing: entry index + 1, 0 = empty */
	size_t hcap;	/* power of two */
	struct pf_pool_chunk *pool;
	size_t bytes; /* memory held, for cache accounting */
} pf_names;

void pf_names_init(pf_names *t);
void pf_names_release(pf_names *t);

/* Copies n bytes into the table's pool (NUL-terminated). NULL when
 * memory runs out. */
char *pf_names_store(pf_names *t, const void *s, size_t n);

/* Assigns final names to the n candidates (see the scheme above) and
 * builds the lookup index. 0, or ENOMEM. */
int pf_names_build(pf_names *t, const pf_name_cand *c, uint32_t n);

/* The hash the name indexes use (FNV-1a, folded). */
uint64_t pf_name_hash(const char *s, size_t n);

/* Index of the entry called name[0..len), or -1. */
int64_t pf_names_find(const pf_names *t, const char *name, size_t len);

/* Appends the escaped form of s[0..n) (the natural name of a str key). */
int pf_name_escape(const uint8_t *s, size_t n, pk_buf *out);
/* Inverse of pf_name_escape: appends the text a natural name stands for.
 * -1 if name is not exactly what pf_name_escape produces for some text
 * (a suffixed name, a stray '%', lower-case hex ...). */
int pf_name_unescape(const char *name, size_t len, pk_buf *out);

/* Splits a suffixed name "BASE%TYPE[K]": *baselen, the type letters and K
 * (1 when absent). 0 on success, -1 when the name has no suffix. */
int pf_name_split(const char *name, size_t len, size_t *baselen,
		  const char **type, size_t *typelen, unsigned *k);

/* Decimal name of a list index; the parser accepts exactly the names
 * pf_index_name makes ("0", "17"; not "017", "+1", "-0"). */
int pf_index_name(uint64_t i, char out[24]);
int pf_index_parse(const char *name, size_t len, uint64_t *out);

#endif
