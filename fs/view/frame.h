/*
 * frame.h - pandas DataFrames and Series as a user thinks of them
 * (README, "How values appear", "DataFrames and Series").
 *
 * What: takes a pickled DataFrame or Series apart from the opcodes,
 * never importing pandas: the BlockManager (REDUCE of the manager class
 * with (blocks, axes), or the older state form {'0.14.1': {'axes',
 * 'blocks'}}), its blocks (_unpickle_block(values, placement, ndim)),
 * the blocks' values (numpy arrays; pandas' Categorical and DatetimeArray
 * rebuilt by __pyx_unpickle_NDArrayBacked with a (dtype, array, attrs)
 * state) and the axes (_new_Index / _new_DatetimeIndex of RangeIndex,
 * Index and its numeric subclasses, DatetimeIndex, CategoricalIndex,
 * MultiIndex). From that it renders the derived files of a frame
 * directory: one file per column, __index__ and __frame__.csv, and
 * writes an edited column file back into the block that holds it.
 * Text rules (one value, column files and __index__): ints decimal;
 * floats as views.h's values.txt (shortest repr, nan, inf); bool True /
 * False; str as its text with '\\', newline, CR and TAB written \\ \n \r
 * \t; None; datetime64 as str(pandas.Timestamp): "2020-01-01 00:00:00",
 * with 6 or 9 digits of fraction when it has one; NaT; a categorical's
 * label, nan when missing; any other object its repr.h form. CSV: the
 * same values unescaped, a field holding a comma, a quote, CR or LF
 * quoted ("" for a quote), and NaN, None and NaT empty, as to_csv writes.
 * Ownership: a pf_frame points into the doc and owns its tables and the
 * payload copies protocol 0-2 arrays need; pf_frame_release frees them.
 * Rendered text is appended to caller-owned buffers.
 * Invariants: a frame whose layout this module does not know is not a
 * frame (pf_frame_parse fails and says why; the mount then shows the
 * object raw), so every column file of a parsed frame renders; the
 * entries of a frame depend only on the doc.
 */
#ifndef PF_FRAME_H
#define PF_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "pickle.h"
#include "views.h"

/* A one-dimensional run of values: row r of a column, an index or a
 * level. */
enum pf_fseq_kind {
	PF_FSEQ_NUM = 1, /* numbers or bool in an array (views.h kinds) */
	PF_FSEQ_OBJ,	 /* items of an object array (value slots) */
	PF_FSEQ_DT,	 /* datetime64 in an array */
	PF_FSEQ_CAT,	 /* codes in an array, labels in seqs[cats] */
	PF_FSEQ_RANGE,	 /* start + r * step */
};

typedef struct pf_fseq {
	uint8_t kind;
	uint8_t digits;	       /* PF_FSEQ_DT: 0, 3, 6, 9 (s, ms, us, ns) */
	uint32_t arr;	       /* NUM, DT, CAT: index into pf_frame.arrs */
	const pk_val *items;   /* OBJ */
	const pk_val *owner;   /* the array holding the values (edits) */
	uint64_t base, stride; /* element of row r: base + r * stride */
	uint64_t len;
	int64_t start, step; /* RANGE */
	uint32_t cats;	     /* CAT: the labels, an index into seqs */
} pf_fseq;

typedef struct pf_farr {
	const pk_val *v;
	pf_arrinfo ai;
} pf_farr;

#define PF_FRAME_LEVELS 32

typedef struct pf_frame {
	int series;
	uint64_t nrows;
	uint32_t ncols;
	uint32_t *cols;			 /* column c: seqs[cols[c]] */
	uint32_t labels;		 /* the column labels: seqs[labels] */
	uint32_t nlevels;		 /* 1, or a MultiIndex's levels */
	uint32_t level[PF_FRAME_LEVELS]; /* the index (level values) */
	uint32_t codes[PF_FRAME_LEVELS]; /* MultiIndex: codes per level */
	int multi;
	const pk_val *names[PF_FRAME_LEVELS]; /* index names (or NULL) */
	const pk_val *series_name;	      /* Series: its name slot */
	pf_fseq *seqs;
	size_t nseqs, capseqs;
	pf_farr *arrs;
	size_t narrs, caparrs;
} pf_frame;

/* 1 when v is pickled as a DataFrame or Series (its class, and a state
 * with a manager); cheap: the parts are not read. */
int pf_frame_is(const pk_val *v);

/* Takes frame v apart. 0; EIO when its layout is not one this module
 * reads (*why, when not NULL, then says what, as a static string); or
 * ENOMEM. */
int pf_frame_parse(const pk_doc *doc, const pk_val *v, pf_frame *f,
		   const char **why);
void pf_frame_release(pf_frame *f);

/* Value r of a PF_FSEQ_NUM seq of signed ints ('i' arrays: codes,
 * positions, int labels). 0, or -1 for an item wider than 8 bytes. */
int pf_frame_int(const pf_frame *f, const pf_fseq *s, uint64_t r, int64_t *out);

/* Text of value r of seq s (the rules above; csv: the CSV form, without
 * quoting). 0 or an errno. */
int pf_frame_cell(const pk_doc *doc, const pf_frame *f, const pf_fseq *s,
		  uint64_t r, int csv, pk_buf *out);

/* Renders part (PF_PART_INDEX, PF_PART_CSV or a column part: ref.h) of
 * the parsed frame f into out. 0 or an errno. */
int pf_frame_view(const pk_doc *doc, const pf_frame *f, uint32_t part,
		  pk_buf *out);

/* The same view as a chunker (chunked.h): chunk k is rows [k * per,
 * (k + 1) * per) (the CSV's header before chunk 0), per being
 * PF_CHUNK_ITEMS cells rounded down to whole rows. The chunker owns a
 * parse of the frame and never reads the doc again, so only views whose
 * values all live in arrays (numbers, bool, datetimes, ranges, and
 * categoricals of those) are made this way: ENOTSUP for one that shows
 * objects (str ...), whose text is made whole. 0 or an errno. */
struct pf_chunker;
int pf_frame_chunker(const pk_doc *doc, const pk_val *v, uint32_t part,
		     struct pf_chunker *out);

/* Whether column c of f takes edits: numbers and bool, and columns whose
 * every value is a str. 1 or 0. */
int pf_frame_writable(const pf_frame *f, uint32_t c);

/* Column c of frame v gets the values of text: one per line, as many
 * lines as rows, each a literal of the column's dtype (a str column: any
 * text, escapes as above). 0, or the errno of *e's code (EINVAL: not
 * such a text; EPERM: a column that does not take edits); the doc is
 * then unchanged. */
int pf_frame_set_column(pk_doc *doc, const pk_val *v, uint32_t c,
			const uint8_t *text, size_t len, pk_err *e);

#endif
