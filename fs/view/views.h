/*
 * views.h - the derived files of a numpy array directory (README, "How
 * values appear"): values.txt, array.npy, image.png.
 *
 * What: pure functions of a decoded doc, read from the opcodes (nothing
 * is imported or executed): pf_array_parse takes an array apart (dtype
 * text, item size, shape, order, payload); the renderers write the text
 * of values.txt, the .npy header and the PNG; pf_array_values_parse reads
 * an edited values.txt back into the array's bytes.
 * Text rules (values.txt): the array's values in logical C order, one
 * row of the last axis per line, values separated by one space, each
 * line ending in '\n'; a 0-d array is one value and '\n'; an array with
 * no element is an empty file. ints in decimal; floats (f2, f4, f8) as
 * the shortest text that reads back as the same value of that type,
 * formatted as Python's repr (nan, inf, -inf); complex (c8, c16) as
 * Python's repr of complex; bool as True / False; str (U) and bytes (S)
 * items as Python's repr of the item numpy gives (trailing NULs dropped;
 * that values.txt is read-only); datetime64 (units Y M W D h m s ms us
 * ns) as str(numpy.datetime64) prints it, ISO 8601 with as many fields
 * as the unit has ("2020-01", "2020-01-02T03:04:05.000"), NaT (also
 * read-only); an object array whose items are all shown as files, each
 * item's repr (repr.h), read-only. Other dtypes (nested structured, other
 * datetime units, timedelta, f16 / c32) and object arrays holding
 * containers have no values.txt; a structured array of such fields
 * (padding allowed), each item as Python's repr of its .item() tuple
 * with the fields in the forms above ("(1, 2.5, b'ab', 'xy', True)"),
 * read-only.
 * Ownership: rendered output is appended to a caller-owned pk_buf; info
 * points into the doc (payload) or owns a copy of it (info.owned, for a
 * protocol 0-2 payload), freed by pf_arrinfo_release.
 * Invariant: the files an array has depend only on its dtype and shape,
 * so a layout (layout.c) knows them without reading the payload.
 */
#ifndef PF_VIEWS_H
#define PF_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "chunked.h"
#include "error.h"
#include "pickle.h"
#include "ref.h"

#define PF_ARRAY_MAXDIM 64

#define PF_ARRAY_FIELDS 64

/* A field of a structured dtype (views.c reads the simple ones). */
typedef struct pf_field {
	uint32_t off, size;
	char kind, order;
	uint8_t dtunit;
} pf_field;

typedef struct pf_arrinfo {
	char descr[64]; /* dtype.str ('<f8'), "" when structured / long */
	char kind;	/* 'b' 'i' 'u' 'f' 'c' for values.txt; 'U' 'S' 'M'
			   'V' (structured) 'O' (objects: views.c only) for
			   a read-only one; else 0 */
	uint8_t dtunit; /* 'M': which unit (views.c) */
	char order;	/* '<' '>' '|' */
	uint32_t size;	/* bytes per item */
	int fortran;	/* data in Fortran order */
	uint32_t ndim;
	uint64_t shape[PF_ARRAY_MAXDIM];
	uint64_t count;	     /* elements */
	int sized;	     /* the payload length is count * size */
	pk_buf dtype;	     /* the dtype text (descr list when structured) */
	const uint8_t *data; /* payload (after pf_array_payload) */
	uint64_t len;
	pk_buf owned;	     /* the payload when it had to be decoded */
	const pk_val *items; /* kind 'O': an object array's items */
	uint32_t nitems;
	pf_field fields[PF_ARRAY_FIELDS]; /* kind 'V' */
	uint32_t nfields;
} pf_arrinfo;

/* Takes the array at v apart (dtype, shape, order; not the payload).
 * 0, EIO (not an array, or one this module cannot read) or ENOMEM. */
int pf_array_parse(const pk_doc *doc, const pk_val *v, pf_arrinfo *a);
/* Points a->data / a->len at the payload (copied for protocol 0-2
 * payloads). 0 or errno. */
int pf_array_payload(const pk_doc *doc, const pk_val *v, pf_arrinfo *a);
void pf_arrinfo_release(pf_arrinfo *a);

/* Whether a's values.txt is read-only text (str, bytes, datetime64). */
static inline int pf_array_text_only(const pf_arrinfo *a)
{
	return a->kind == 'U' || a->kind == 'S' || a->kind == 'M' ||
	       a->kind == 'O' || a->kind == 'V';
}

/* The date of a count of days since 1970-01-01 (proleptic Gregorian). */
void pf_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Which view files array v has (decided from its dtype and shape and
 * the length of its payload, whose bytes are not read): PF_VIEW_* bits. */
enum {
	PF_VIEW_VALUES = 1,    /* values.txt, numbers (PF_PART_VALUES) */
	PF_VIEW_STRVALUES = 2, /* values.txt, str / bytes (PF_PART_STRVALUES) */
	PF_VIEW_NPY = 4,
	PF_VIEW_IMAGE = 8,
};
unsigned pf_array_views(const pk_doc *doc, const pk_val *v);

/* values.txt of a (payload set), appended to out. 0 or ENOMEM. */
int pf_array_values_text(const pf_arrinfo *a, pk_buf *out);
/* One element (at p, in the array's byte order): its text as in
 * values.txt (a->kind set) appended to out, 0 or -1; its bytes in host
 * order into out; parsed from the literal t[0..n) into p, 0 or -1. */
int pf_array_elem_text(const pf_arrinfo *a, const uint8_t *p, pk_buf *out);
void pf_array_load_elem(const pf_arrinfo *a, const uint8_t *p, uint8_t *out,
			uint32_t size);
int pf_array_elem_parse(const pf_arrinfo *a, const char *t, size_t n,
			uint8_t *p);
/* Elements [from, to) of the logical order (to cut at count): exactly
 * that part of pf_array_values_text's bytes, each element followed by its
 * ' ' or '\n'. 0, ENOMEM or EIO. */
int pf_array_values_range(const pf_arrinfo *a, uint64_t from, uint64_t to,
			  pk_buf *out);
/* values.txt (part PF_PART_VALUES or PF_PART_STRVALUES) of array v as a
 * chunker (chunked.h): chunk k is elements [k * per, (k + 1) * per),
 * per being PF_CHUNK_ITEMS rounded down to whole rows of the last axis
 * (PF_CHUNK_ITEMS itself when a row is longer). The chunker holds the
 * array's description and its payload as pf_array_payload gives it (a
 * copy for protocol 0-2 payloads, else a pointer into the pickle's
 * bytes). 0 or errno (EIO: not that view of an array). */
int pf_array_values_chunker(const pk_doc *doc, const pk_val *v, uint32_t part,
			    pf_chunker *out);
/* Parses an edited values.txt into the bytes of a new payload (same
 * length as a->len), appended to out: the same number of values, each a
 * literal of the dtype. 0, or PK_E_VALUE with *e saying why. */
int pf_array_values_parse(const pf_arrinfo *a, const uint8_t *text, size_t len,
			  pk_buf *out, pk_err *e);
/* The .npy v1.0 header of a, appended to out. */
int pf_array_npy_header(const pf_arrinfo *a, pk_buf *out);
/* The longest side an image.png may have (PIL, for one, warns past 89M
 * pixels; 16384 x 16384 is 268M, a 2-D uint8 array larger than that on a
 * side is taken as rows of data). */
#define PF_IMAGE_SIDE_MAX 16384

/* image.png of a (payload set), appended to out. 0, EIO or ENOMEM. */
int pf_array_png(const pf_arrinfo *a, pk_buf *out);

/* Renders a cached view part (PF_PART_VALUES, PF_PART_STRVALUES,
 * PF_PART_IMAGE) of array v into out. 0 or errno. */
int pf_array_render(const pk_doc *doc, const pk_val *v, uint32_t part,
		    pk_buf *out);

#endif
