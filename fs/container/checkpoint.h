/*
 * checkpoint.h - a PyTorch checkpoint (torch.save's zip format, torch >=
 * 1.6) as byte ranges: where its pickle is and where each storage is.
 *
 * What: torch.save writes a zip with one top folder NAME (the file's base
 * name, or "archive"): NAME/data.pkl (the object, pickled with storages
 * as persistent ids ('storage', torch.FloatStorage, KEY, LOCATION, NUMEL)),
 * NAME/data/KEY (each storage's raw bytes, stored uncompressed and
 * aligned to 64 bytes) and NAME/version (and, in newer versions,
 * NAME/byteorder, NAME/.data/version, NAME/.data/serialization_id). A zip
 * is taken for a checkpoint when its root holds exactly one folder, that
 * folder holds a stored data.pkl and a version (or .data/version), and
 * nothing else is at the root.
 * Ownership: a pf_ckpt borrows the index and the zip's bytes; it owns
 * nothing and needs no freeing.
 * Invariant: every range handed out lies within the zip's bytes (the
 * index checked it).
 */
#ifndef PF_CHECKPOINT_H
#define PF_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "pickle.h"

typedef struct pf_ckpt {
	const pf_arc_index *ix;
	const uint8_t *data; /* the zip's bytes */
	uint64_t len;
	uint32_t top;	   /* the member of the folder NAME */
	uint32_t pickle;   /* NAME/data.pkl */
	uint32_t storages; /* NAME/data, or UINT32_MAX when none */
	int big_endian;	   /* NAME/byteorder says "big" */
	pk_external res;   /* finds storages for a doc (pf_ckpt_bind) */
} pf_ckpt;

/* 1 and *out filled when the zip indexed in ix (over data[0..len)) is a
 * checkpoint, else 0. */
int pf_ckpt_detect(const pf_arc_index *ix, const uint8_t *data, uint64_t len,
		   pf_ckpt *out);
/* The pickle's bytes (NAME/data.pkl, read in place). */
void pf_ckpt_pickle(const pf_ckpt *ck, const uint8_t **p, uint64_t *n);
/* The bytes of storage `key` (NAME/data/KEY) read in place: 0, ENOENT
 * (no such storage) or ENOTSUP (not stored uncompressed). */
int pf_ckpt_storage(const pf_ckpt *ck, const uint8_t *key, size_t keylen,
		    const uint8_t **p, uint64_t *n);

/* Lets doc find its storages in ck (ck must not move while doc uses it). */
void pf_ckpt_bind(pf_ckpt *ck, pk_doc *doc);

/* The legacy format (torch.save(..., _use_new_zipfile_serialization=
 * False), and every torch before 1.6): five pickles one after another
 * (the magic number 0x1950a86a20f9469cfc6c, the protocol version, a
 * sys_info dict, the object, the list of storage keys), then each
 * storage in the order of that list: its element count (8 bytes,
 * little-endian) and its bytes. */

/* 1 when data starts with the legacy format's first pickle (PROTO 2,
 * LONG1 of the magic number, STOP). */
int pf_ckpt_legacy_magic(const uint8_t *data, size_t len);

typedef struct pf_legacy_storage {
	const uint8_t *key; /* into the keys pickle's bytes */
	size_t keylen;
	const uint8_t *data; /* its bytes, in place */
	uint64_t len;
} pf_legacy_storage;

typedef struct pf_ckpt_legacy {
	pf_legacy_storage *st;
	size_t n;
	pk_external res;
} pf_ckpt_legacy;

/* Finds the storages laid out in tail[0..n) (the bytes after the keys
 * pickle): keys[i] / keylen[i] in order, itemsize[i] the bytes of one
 * element of storage i. PK_OK, or PK_E_TRUNCATED with e->offset (in
 * tail) when a storage runs past the end. */
int pf_ckpt_legacy_index(const uint8_t *tail, uint64_t n,
			 const uint8_t *const *keys, const size_t *keylen,
			 const uint32_t *itemsize, size_t count,
			 pf_ckpt_legacy *out, pk_err *e);
void pf_ckpt_legacy_free(pf_ckpt_legacy *l);
/* Lets doc find its storages in l (which must not move meanwhile). */
void pf_ckpt_legacy_bind(pf_ckpt_legacy *l, pk_doc *doc);

#endif
