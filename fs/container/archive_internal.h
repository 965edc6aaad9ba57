/*
 * archive_internal.h - what archive.c shares with tar.c and zip.c: the
 * builder the format readers add entries to (archive.c normalises their
 * names and makes the tree), and little-endian reads.
 *
 * Ownership: a pf_arc_build owns its entries and its name pool until
 * pf_arc_build_finish hands an index over or pf_arc_build_release frees
 * them.
 */
#ifndef PF_ARCHIVE_INTERNAL_H
#define PF_ARCHIVE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "buf.h"

/* What a format reader knows of one member, before its name is checked. */
typedef struct pf_arc_meta {
	uint8_t type; /* enum pf_arc_type */
	uint16_t method, flags;
	uint64_t offset, size, usize;
	uint32_t crc, mode;
	int64_t mtime;
} pf_arc_meta;

/* One entry of the archive, with its normalised name. */
typedef struct pf_arc_ent {
	uint64_t name;	/* offset in the pool */
	uint32_t len;	/* of the name */
	uint32_t ncomp; /* its components */
	pf_arc_meta meta;
} pf_arc_ent;

typedef struct pf_arc_build {
	int fmt;
	size_t len; /* of the archive: bounds the names' storage */
	pf_arc_ent *ents;
	size_t n, cap;
	pk_buf pool;	/* the entries' names, one after the other */
	uint64_t ncomp; /* of all names */
} pf_arc_build;

/* Adds the member named raw[0..rawlen) (as the archive spells it: the
 * tar reader has cut its fields at their NUL, so a NUL left makes the
 * name invalid). Names that are skipped (see archive.h) are not added.
 * 0, or -1 when memory runs out. */
int pf_arc_build_add(pf_arc_build *b, const uint8_t *raw, size_t rawlen,
		     const pf_arc_meta *meta);
/* Makes the index (the tree of archive.h); PK_OK or PK_E_NOMEM /
 * PK_E_LIMIT. Releases b either way. */
int pf_arc_build_finish(pf_arc_build *b, pf_arc_index *out, pk_err *e);
void pf_arc_build_release(pf_arc_build *b);

/* The format readers: add every member to b. */
int pf_arc_tar_read(pf_arc_build *b, const uint8_t *data, size_t len,
		    pk_err *e);
int pf_arc_zip_read(pf_arc_build *b, const uint8_t *data, size_t len,
		    pk_err *e);
int pf_arc_tar_sniff(const uint8_t *data, size_t n);

static inline uint16_t pf_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t pf_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t pf_le64(const uint8_t *p)
{
	return (uint64_t)pf_le32(p) | (uint64_t)pf_le32(p + 4) << 32;
}

#endif
