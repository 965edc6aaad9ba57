/* frame_text.c - the text of a frame's views, whole or in chunks of
 * rows (frame.h). */
#include "frame.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"
#include "content.h"
#include "form.h"
#include "ref.h"
#include "repr.h"
#include "scalars.h"

int pf_frame_int(const pf_frame *f, const pf_fseq *s, uint64_t r, int64_t *out)
{
	const pf_arrinfo *ai = &f->arrs[s->arr].ai;
	uint8_t b[8] = {0};
	uint64_t u = 0;
	int bits = (int)ai->size * 8;

	if (ai->size > 8)
		return -1;
	pf_array_load_elem(ai, ai->data + (s->base + r * s->stride) * ai->size,
			   b, ai->size);
	memcpy(&u, b, ai->size); /* little-endian hosts (views.c) */
	if (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
		u >>= 64 - bits;
	if (bits < 64 && (u >> (bits - 1)) & 1)
		u |= ~(uint64_t)0 << bits;
	*out = (int64_t)u;
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* str(pandas.Timestamp) of a datetime64 count of 10^-digits seconds. */
static int dt_text(int64_t v, int digits, pk_buf *out)
{
	static const int64_t pow10[] = {1,	   10,	      100,     1000,
					10000,	   100000,    1000000, 10000000,
					100000000, 1000000000};
	int64_t per = pow10[digits], secs, frac, days, sod, y, ns;
	int m, d;

	if (v == INT64_MIN)
		return pk_buf_adds(out, "NaT");
	/* the remainder first: secs * per overflows at the ends */
	frac = (v % per + per) % per;
	secs = floor_div(v, per);
	days = floor_div(secs, 86400);
	sod = secs - days * 86400;
	pf_civil_from_days(days, &y, &m, &d);
	if (pk_buf_addf(out, "%04lld-%02d-%02d %02lld:%02lld:%02lld",
			(long long)y, m, d, (long long)(sod / 3600),
			(long long)(sod / 60 % 60), (long long)(sod % 60)))
		return -1;
	if (!frac)
		return 0;
	ns = frac * pow10[9 - digits];
	if (ns % 1000 == 0)
		return pk_buf_addf(out, ".%06lld", (long long)(ns / 1000));
	return pk_buf_addf(out, ".%09lld", (long long)ns);
}

/* Appends s[0..n), escaped for one line of a column file. */
static int add_escaped(const uint8_t *s, size_t n, pk_buf *out)
{
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		const char *esc = s[i] == '\\'	 ? "\\\\"
				  : s[i] == '\n' ? "\\n"
				  : s[i] == '\r' ? "\\r"
				  : s[i] == '\t' ? "\\t"
						 : NULL;
		if (!esc)
			continue;
		if (pk_buf_add(out, s + from, i - from) ||
		    pk_buf_adds(out, esc))
			return -1;
		from = i + 1;
	}
	return pk_buf_add(out, s + from, n - from);
}

/* A value slot of an object column. */
static int obj_cell(const pk_doc *doc, const pk_val *v, int csv, pk_buf *out)
{
	pk_buf t = PK_BUF_INIT;
	int rc = 0, kind = pf_kind(v);

	if (!pf_is_node(v) && (kind == PK_STR || kind == PK_STRING)) {
		rc = pf_str_text(doc, v, &t, NULL);
		if (!rc)
			rc = csv ? pk_buf_add(out, t.data, t.len)
				 : add_escaped(t.data, t.len, out);
		pk_buf_release(&t);
		return rc ? (rc > 0 ? rc : ENOMEM) : 0;
	}
	if (kind == PK_NONE)
		return csv ? 0 : (pk_buf_adds(out, "None") ? ENOMEM : 0);
	if (kind == PK_FLOAT) {
		double d;
		if (pk_val_float(*v, &d) == PK_OK && isnan(d) && csv)
			return 0;
	}
	if (!pf_is_node(v) &&
	    (kind == PK_INT || kind == PK_FLOAT || kind == PK_BOOL)) {
		return pk_val_format(doc, *v, out, NULL) == PK_OK ? 0 : EIO;
	}
	if (pf_form_of(v) == PF_FORM_LIBSCALAR)
		rc = pf_sc_text(v, &t);
	else
		rc = pf_repr(doc, v, 1024, &t);
	if (!rc)
		rc = (csv ? pk_buf_add(out, t.data, t.len)
			  : add_escaped(t.data, t.len, out))
			 ? ENOMEM
			 : 0;
	pk_buf_release(&t);
	return rc;
}

int pf_frame_cell(const pk_doc *doc, const pf_frame *f, const pf_fseq *s,
		  uint64_t r, int csv, pk_buf *out)
{
	const pf_arrinfo *ai;
	int64_t i;
	size_t at = out->len;

	switch (s->kind) {
	case PF_FSEQ_RANGE:
		return pk_buf_add_i64(out, s->start + (int64_t)r * s->step)
			   ? ENOMEM
			   : 0;
	case PF_FSEQ_OBJ:
		return obj_cell(doc, &s->items[s->base + r * s->stride], csv,
				out);
	case PF_FSEQ_DT:
		if (pf_frame_int(f, s, r, &i))
			return EIO;
		if (csv && i == INT64_MIN)
			return 0;
		return dt_text(i, s->digits, out) ? ENOMEM : 0;
	case PF_FSEQ_CAT:
		if (pf_frame_int(f, s, r, &i))
			return EIO;
		if (i < 0)
			return csv ? 0 : (pk_buf_adds(out, "nan") ? ENOMEM : 0);
		if ((uint64_t)i >= f->seqs[s->cats].len)
			return EIO;
		return pf_frame_cell(doc, f, &f->seqs[s->cats], (uint64_t)i,
				     csv, out);
	case PF_FSEQ_NUM:
		ai = &f->arrs[s->arr].ai;
		if (pf_array_elem_text(
			ai, ai->data + (s->base + r * s->stride) * ai->size,
			out))
			return ENOMEM;
		/* NaN is an empty field in CSV, as to_csv writes it */
		if (csv && out->len - at == 3 &&
		    memcmp(out->data + at, "nan", 3) == 0)
			out->len = at;
		return 0;
	}
	return EIO;
}

/* One CSV field: the cell from at on, quoted when it must be. */
static int csv_field(pk_buf *out, size_t at)
{
	size_t n = out->len - at, i, q = 0, j;
	uint8_t *p;
	int need = 0;

	for (i = 0; i < n; i++) {
		uint8_t c = out->data[at + i];
		need |= c == ',' || c == '"' || c == '\n' || c == '\r';
		q += c == '"';
	}
	if (!need)
		return 0;
	if (pk_buf_grow(out, q + 2))
		return ENOMEM;
	p = out->data + at;
	/* from the end: the closing quote, each quote doubled, the opening
	 * quote (j stays above i: nothing is overwritten before it moved) */
	j = n + q + 2;
	p[--j] = '"';
	for (i = n; i-- > 0;) {
		p[--j] = p[i];
		if (p[i] == '"')
			p[--j] = '"';
	}
	p[--j] = '"';
	out->len += q + 2;
	return 0;
}

/* Row r of the index: its label, or a MultiIndex's labels separated by
 * sep (csv: each a field). */
static int index_cells(const pk_doc *doc, const pf_frame *f, uint64_t r,
		       int csv, pk_buf *out)
{
	uint32_t l;
	int rc;

	for (l = 0; l < f->nlevels; l++) {
		size_t at;
		if (l && pk_buf_addc(out, csv ? ',' : '\t'))
			return ENOMEM;
		at = out->len;
		if (!f->multi) {
			rc = pf_frame_cell(doc, f, &f->seqs[f->level[0]], r,
					   csv, out);
		} else {
			int64_t code;
			if (pf_frame_int(f, &f->seqs[f->codes[l]], r, &code))
				return EIO;
			if (code < 0)
				rc = csv ? 0
					 : (pk_buf_adds(out, "nan") ? ENOMEM
								    : 0);
			else if ((uint64_t)code >= f->seqs[f->level[l]].len)
				rc = EIO;
			else
				rc =
				    pf_frame_cell(doc, f, &f->seqs[f->level[l]],
						  (uint64_t)code, csv, out);
		}
		if (!rc && csv)
			rc = csv_field(out, at);
		if (rc)
			return rc;
	}
	return 0;
}

/* A header field: a name slot (None or absent: empty). */
static int name_field(const pk_doc *doc, const pk_val *v, const char *none,
		      pk_buf *out)
{
	size_t at = out->len;
	int rc;

	if (!v || pf_kind(v) == PK_NONE)
		return pk_buf_adds(out, none) ? ENOMEM : 0;
	rc = obj_cell(doc, v, 1, out);
	return rc ? rc : csv_field(out, at);
}

/* __frame__.csv's header line. */
static int csv_header(const pk_doc *doc, const pf_frame *f, pk_buf *out)
{
	uint32_t l, c;
	int rc;

	for (l = 0; l < f->nlevels; l++) {
		if (l && pk_buf_addc(out, ','))
			return ENOMEM;
		if ((rc = name_field(doc, f->names[l], "", out)))
			return rc;
	}
	for (c = 0; c < f->ncols; c++) {
		if (pk_buf_addc(out, ','))
			return ENOMEM;
		if (f->series) {
			rc = name_field(doc, f->series_name, "0", out);
		} else {
			size_t at = out->len;
			rc = pf_frame_cell(doc, f, &f->seqs[f->labels], c, 1,
					   out);
			if (!rc)
				rc = csv_field(out, at);
		}
		if (rc)
			return rc;
	}
	return pk_buf_addc(out, '\n') ? ENOMEM : 0;
}

/* Rows [from, to) of view part of f (no header), one line each. */
static int rows_text(const pk_doc *doc, const pf_frame *f, uint32_t part,
		     uint64_t from, uint64_t to, pk_buf *out)
{
	int64_t col = pf_part_column(part);
	uint64_t r;
	uint32_t c;
	int rc = 0;

	for (r = from; r < to && !rc; r++) {
		if (col >= 0) {
			rc = pf_frame_cell(doc, f, &f->seqs[f->cols[col]], r, 0,
					   out);
		} else {
			int csv = part == PF_PART_CSV;
			rc = index_cells(doc, f, r, csv, out);
			for (c = 0; csv && c < f->ncols && !rc; c++) {
				size_t at;
				if (pk_buf_addc(out, ','))
					return ENOMEM;
				at = out->len;
				if (!(rc = pf_frame_cell(doc, f,
							 &f->seqs[f->cols[c]],
							 r, 1, out)))
					rc = csv_field(out, at);
			}
		}
		if (!rc && pk_buf_addc(out, '\n'))
			rc = ENOMEM;
	}
	return rc;
}

int pf_frame_view(const pk_doc *doc, const pf_frame *f, uint32_t part,
		  pk_buf *out)
{
	int64_t c = pf_part_column(part);
	int rc;

	if (part != PF_PART_INDEX && part != PF_PART_CSV &&
	    !(c >= 0 && c < (int64_t)f->ncols))
		return ENOENT;
	if (part == PF_PART_CSV && (rc = csv_header(doc, f, out)))
		return rc;
	return rows_text(doc, f, part, 0, f->nrows, out);
}

/* ---- in chunks (chunked.h) -------------------------------------------- */

/* A view in chunks of `per` rows: the frame (owned: its arrays' bytes
 * are in the mapped pickle or copied into it) and the CSV's header,
 * made when the chunker is. Only for views whose values are all in
 * arrays (numbers, datetimes, categories of those, ranges): the chunker
 * then never reads the doc, which may change after it is made. */
struct frame_chunker {
	pf_frame f;
	uint32_t part;
	uint64_t per;
	pk_buf head;
};

static int frame_chunk(void *self, uint64_t k, pk_buf *out)
{
	struct frame_chunker *c = self;
	uint64_t from = k * c->per, to = from + c->per;

	if (to > c->f.nrows)
		to = c->f.nrows;
	if (k == 0 && pk_buf_add(out, c->head.data, c->head.len))
		return ENOMEM;
	return rows_text(NULL, &c->f, c->part, from, to, out);
}

static void frame_chunker_free(void *self)
{
	struct frame_chunker *c = self;

	pf_frame_release(&c->f);
	pk_buf_release(&c->head);
	free(c);
}

/* Whether seq s (and a categorical's labels) reads only arrays. */
static int in_arrays(const pf_frame *f, const pf_fseq *s)
{
	if (s->kind == PF_FSEQ_CAT)
		s = &f->seqs[s->cats];
	return s->kind != PF_FSEQ_OBJ;
}

int pf_frame_chunker(const pk_doc *doc, const pk_val *v, uint32_t part,
		     pf_chunker *out)
{
	struct frame_chunker *c = calloc(1, sizeof(*c));
	int64_t col = pf_part_column(part);
	uint64_t cells = 1;
	uint32_t i;
	int rc, ok = 1;

	memset(out, 0, sizeof(*out));
	if (!c)
		return ENOMEM;
	if ((rc = pf_frame_parse(doc, v, &c->f, NULL))) {
		free(c);
		return rc;
	}
	c->part = part;
	if (col >= 0) {
		ok = col < (int64_t)c->f.ncols &&
		     in_arrays(&c->f, &c->f.seqs[c->f.cols[col]]);
	} else {
		for (i = 0; i < c->f.nlevels; i++)
			ok &= in_arrays(&c->f, &c->f.seqs[c->f.level[i]]);
		cells = c->f.nlevels;
		for (i = 0; part == PF_PART_CSV && i < c->f.ncols; i++)
			ok &= in_arrays(&c->f, &c->f.seqs[c->f.cols[i]]);
		if (part == PF_PART_CSV)
			cells += c->f.ncols;
	}
	if (!ok) {
		rc = ENOTSUP; /* its text is made whole */
	} else if (part == PF_PART_CSV) {
		rc = csv_header(doc, &c->f, &c->head);
	} else if (col < 0 && part != PF_PART_INDEX) {
		rc = ENOENT;
	}
	if (rc) {
		frame_chunker_free(c);
		return rc;
	}
	c->per = cells < PF_CHUNK_ITEMS ? PF_CHUNK_ITEMS / cells : 1;
	out->self = c;
	out->nchunks = (c->f.nrows + c->per - 1) / c->per;
	if (part == PF_PART_CSV && out->nchunks == 0)
		out->nchunks = 1; /* the header alone */
	out->chunk = frame_chunk;
	out->release = frame_chunker_free;
	return 0;
}
