/*
 * content.h - the bytes `cat` prints for a file in the mount.
 *
 * What: the exact content of every file the mount shows: scalar text
 * forms (str as UTF-8 + "\n", bytes raw, int decimal + "\n", float repr
 * + "\n", True/False/None, complex repr, globals "module.qualname"),
 * the scalar-like objects (complex, bytes from _codecs.encode, bytearray
 * calls) and the synthetic files of numpy arrays (dtype, shape, order,
 * data) and their views (values.txt, array.npy, image.png: views.h).
 * Large payloads are not copied: the content points into the mapped
 * pickle (array.npy: a small owned header, then the payload in place).
 * values.txt and image.png are rendered here on every call; the mount
 * asks pf_docview_content, which keeps them rendered (docview.h).
 * Ownership: a pf_content either points into the doc's input (which the
 * caller keeps mapped while it uses the content), or owns `owned`, or
 * holds a reference to `blob` (a view its docview keeps) or to `stream`
 * (a view its docview serves in chunks); it owns `head`.
 * pf_content_release frees what it owns and drops the reference.
 * Invariants: pf_content_size == head + data length + (nl ? 1 : 0); what
 * PF_CONTENT_SIZE_ONLY reports equals what a full pf_content_get gives.
 */
#ifndef PF_CONTENT_H
#define PF_CONTENT_H

#include <stdint.h>

#include "buf.h"
#include "pickle.h"
#include "ref.h"

/* A rendered view kept by its docview and lent to open files: freed with
 * its last reference (the count is atomic: files close unlocked). */
typedef struct pf_blob {
	uint64_t refs;
	pk_buf buf;
} pf_blob;
pf_blob *pf_blob_new(void);
void pf_blob_ref(pf_blob *b);
void pf_blob_unref(pf_blob *b);

typedef struct pf_content {
	pk_buf head;	     /* bytes before data (array.npy's header) */
	const uint8_t *data; /* NULL when only the size was asked for */
	uint64_t len;
	int nl; /* a '\n' follows data */
	pk_buf owned;
	pf_blob *blob; /* data points into it (a cached view) */
	/* a view served in chunks (chunked.h): data is NULL, len its size,
	 * the bytes are read from the stream */
	struct pf_vstream *stream;
} pf_content;

/* PF_CONTENT_STREAM: the caller reads a pf_content's stream when it has
 * one (pf_docview_content gives a streamed view so only when asked). */
enum { PF_CONTENT_SIZE_ONLY = 1, PF_CONTENT_STREAM = 2 };

void pf_content_init(pf_content *c);
void pf_content_release(pf_content *c);
static inline uint64_t pf_content_size(const pf_content *c)
{
	return c->head.len + c->len + (c->nl ? 1 : 0);
}
/* Appends the whole content (head, data or the stream's bytes, newline)
 * to out. 0, ENOMEM or EIO. */
int pf_content_append(const pf_content *c, pk_buf *out);

/* Content of a file ref. Returns 0 or an errno (EISDIR for a
 * directory ref); *e gets the codec error if there was one. */
int pf_content_get(const pk_doc *doc, pf_ref ref, unsigned flags, pf_content *c,
		   pk_err *e);

/* UTF-8 text of a str slot (PK_STR, or a Python 2 str: its bytes when
 * they are UTF-8, else read as latin-1), appended to out. 0 or errno. */
int pf_str_text(const pk_doc *doc, const pk_val *v, pk_buf *out, pk_err *e);
/* Whether pf_str_text reads the str slot v as latin-1 (a Python 2 str
 * whose bytes are not UTF-8): *latin1 1 or 0. 0 or errno. Writing it
 * back encodes the new text the same way (fs/view/edit.c). */
int pf_str_latin1(const pk_doc *doc, const pk_val *v, int *latin1);

/* The derived views whose text is rendered (values.txt, image.png, a
 * frame's files: views.h, frame.h) rather than pointed at: 1 or 0; and
 * their rendering, appended to out (0 or an errno). */
int pf_view_rendered(uint32_t part);
int pf_view_render(const pk_doc *doc, pf_ref ref, pk_buf *out);

/* Type name of a file ref (user.pickle.type). */
const char *pf_ref_type_name(pf_ref ref);

#endif
