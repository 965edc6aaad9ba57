/* frame_edit.c - an edited column file written into the block that
 * holds the column (frame.h). */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "edit.h"
#include "errmap.h"
#include "form.h"
#include "ref.h"

static int all_str(const pf_fseq *s)
{
	uint64_t r;

	for (r = 0; r < s->len; r++) {
		const pk_val *v = &s->items[s->base + r * s->stride];
		if (pf_is_node(v) || pf_kind(v) != PK_STR)
			return 0;
	}
	return 1;
}

static int column_writable(const pf_frame *f, const pf_fseq *s)
{
	if (s->kind == PF_FSEQ_NUM)
		return f->arrs[s->arr].ai.kind != 0;
	return s->kind == PF_FSEQ_OBJ && all_str(s);
}

int pf_frame_writable(const pf_frame *f, uint32_t c)
{
	return c < f->ncols && column_writable(f, &f->seqs[f->cols[c]]);
}

/* The lines of text: its '\n's, and one more for a last line without. */
static uint64_t count_lines(const uint8_t *text, size_t len)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += text[i] == '\n';
	return n + (len && text[len - 1] != '\n');
}

static int unescape(const uint8_t *s, size_t n, pk_buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == '\\' && i + 1 < n) {
			uint8_t e = s[i + 1];
			c = e == 'n'	? '\n'
			    : e == 'r'	? '\r'
			    : e == 't'	? '\t'
			    : e == '\\' ? '\\'
					: 0;
			if (c)
				i++;
			else
				c = '\\';
		}
		if (pk_buf_addc(out, c))
			return -1;
	}
	return 0;
}

static int set_numbers(pk_doc *doc, const pf_frame *f, const pf_fseq *s,
		       const uint8_t *text, size_t len, pk_err *e)
{
	const pf_arrinfo *ai = &f->arrs[s->arr].ai;
	pk_buf nb = PK_BUF_INIT;
	size_t i = 0;
	uint64_t r;
	pf_ref dr = {s->owner, PF_PART_DATA};
	int rc;

	if (pk_buf_add(&nb, ai->len ? ai->data : (const uint8_t *)"", ai->len))
		return pf_errno_of(
		    pk_err_set(e, PK_E_NOMEM, "out of memory", 0));
	for (r = 0; r < f->nrows; r++) {
		size_t t0 = i, a, b;
		while (i < len && text[i] != '\n')
			i++;
		a = t0;
		b = i;
		while (a < b &&
		       (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
			a++;
		while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' ||
				 text[b - 1] == '\r'))
			b--;
		if (pf_array_elem_parse(ai, (const char *)text + a, b - a,
					nb.data + (s->base + r * s->stride) *
						      ai->size)) {
			pk_buf_release(&nb);
			return pf_errno_of(pk_err_set(
			    e, PK_E_VALUE,
			    "a line of the column is not a value of its dtype",
			    a));
		}
		i++;
	}
	rc = 0;
	if (nb.len != ai->len || memcmp(nb.data, ai->data, ai->len) != 0)
		rc = pf_edit_set(doc, dr, nb.data, nb.len, e);
	pk_buf_release(&nb);
	return rc;
}

static int set_strs(pk_doc *doc, const pf_fseq *s, uint64_t nrows,
		    const uint8_t *text, size_t len, pk_err *e)
{
	pk_buf nt = PK_BUF_INIT, old = PK_BUF_INIT;
	size_t i = 0;
	uint64_t r;
	int rc = 0;

	for (r = 0; r < nrows && !rc; r++) {
		const pk_val *slot = &s->items[s->base + r * s->stride];
		pf_ref ref = {slot, PF_PART_SELF};
		size_t t0 = i;
		while (i < len && text[i] != '\n')
			i++;
		pk_buf_reset(&nt);
		pk_buf_reset(&old);
		/* the '\n' pf_edit_set drops from a str's text */
		if (unescape(text + t0, i - t0, &nt) || pk_buf_addc(&nt, '\n'))
			rc = pf_errno_of(
			    pk_err_set(e, PK_E_NOMEM, "out of memory", 0));
		else if ((rc = pf_str_text(doc, slot, &old, e)))
			;
		else if (old.len + 1 != nt.len ||
			 memcmp(old.data ? old.data : (const uint8_t *)"",
				nt.data, old.len) != 0)
			rc = pf_edit_set(doc, ref, nt.data, nt.len, e);
		i++;
	}
	pk_buf_release(&nt);
	pk_buf_release(&old);
	return rc;
}

int pf_frame_set_column(pk_doc *doc, const pk_val *v, uint32_t c,
			const uint8_t *text, size_t len, pk_err *e)
{
	pf_frame f;
	const pf_fseq *s;
	uint64_t lines;
	int rc;

	if (!text)
		text = (const uint8_t *)"";
	if (pf_frame_parse(doc, v, &f, NULL))
		return pf_errno_of(pk_err_set(
		    e, PK_E_REFUSED, "this frame cannot be changed", 0));
	if (c >= f.ncols) {
		pf_frame_release(&f);
		return pf_errno_of(
		    pk_err_set(e, PK_E_REFUSED, "no such column", 0));
	}
	s = &f.seqs[f.cols[c]];
	lines = count_lines(text, len);
	if (!column_writable(&f, s))
		rc = pf_errno_of(pk_err_set(
		    e, PK_E_REFUSED,
		    "only columns of numbers, bool or str take edits", 0));
	else if (lines != f.nrows)
		rc = pf_errno_of(pk_err_set(
		    e, PK_E_VALUE, "a column file must keep one line per row",
		    len));
	else if (s->kind == PF_FSEQ_NUM)
		rc = set_numbers(doc, &f, s, text, len, e);
	else
		rc = set_strs(doc, s, f.nrows, text, len, e);
	pf_frame_release(&f);
	return rc;
}
