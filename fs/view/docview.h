/*
 * docview.h - one decoded pickle as a tree of directories and files.
 *
 * What: owns the presentation state of one pk_doc: which occurrence of a
 * shared container is "the" directory (the first one in depth-first
 * order, entries in listing order; every later occurrence, and every
 * cycle, is a relative symlink to it), the file names of each directory
 * (names.h scheme), and the per-directory caches behind lookup/readdir.
 * All of it is computed from the doc alone, so dropping a docview and
 * building it again from a fresh decode of the same bytes gives the same
 * tree, names and entry indices: the mount's inodes address entries by
 * (parent directory, entry index) and survive that.
 *
 * Ownership: a pf_docview owns its maps, listings and names; it borrows
 * the doc (the caller frees the doc after the view). Names are copied
 * into the caller's buffer; refs point into the doc and stay valid while
 * it lives. The per-directory caches are bounded: past 4096 cached
 * directories the small ones are dropped and built again when visited,
 * so walking a pickle nested a million deep keeps a few thousand.
 * Invariants: the first-occurrence walk is iterative (explicit stack) and
 * visits each container once, so a hostile self-referencing pickle
 * terminates; not thread-safe (the caller holds the pickle's lock).
 */
#ifndef PF_DOCVIEW_H
#define PF_DOCVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "content.h"
#include "names.h"
#include "pickle.h"
#include "layout.h"

typedef struct pf_docview pf_docview;

/* How an entry appears. */
enum pf_look { PF_LOOK_FILE = 1, PF_LOOK_DIR, PF_LOOK_LINK };

typedef struct pf_child {
	pf_entry e; /* target, key, reserved name, index */
	int look;   /* enum pf_look */
} pf_child;

/* Builds the view (runs the first-occurrence walk). 0, or ENOMEM. */
int pf_docview_new(const pk_doc *doc, pf_docview **out);
/* Same, calling progress(ctx, containers seen, 0) every 2^16 containers
 * (progress may be NULL; its return value is ignored). */
int pf_docview_new_ex(const pk_doc *doc,
		      int (*progress)(void *ctx, uint64_t done, uint64_t total),
		      void *ctx, pf_docview **out);
void pf_docview_free(pf_docview *dv);
/* Bytes held (maps, listings, names), for the cache's accounting. */
size_t pf_docview_bytes(const pf_docview *dv);

/* The root directory (PF_PART_WRAP when the top value is a file). */
pf_ref pf_docview_root(const pf_docview *dv);

/* Number of entries of a directory ref. 0 or errno. */
int pf_docview_count(pf_docview *dv, pf_ref dir, uint64_t *n);
/* Entry i of a directory. 0, ENOENT (i out of range) or errno. */
int pf_docview_child(pf_docview *dv, pf_ref dir, uint64_t i, pf_child *c);
/* Appends the file name of entry i to out. */
int pf_docview_name(pf_docview *dv, pf_ref dir, uint64_t i, pk_buf *out);
/* Entry index of `name` in dir. 0 or ENOENT. */
int pf_docview_lookup(pf_docview *dv, pf_ref dir, const char *name, size_t len,
		      uint64_t *i);
/* Target of a PF_LOOK_LINK entry, relative to its directory. */
int pf_docview_link(pf_docview *dv, pf_ref dir, uint64_t i, pk_buf *out);
/* The content of a file ref, as pf_content_get gives it, except for the
 * rendered views (views.h):
 * - values.txt asked with PF_CONTENT_SIZE_ONLY or PF_CONTENT_STREAM is
 *   never rendered whole: the first such question makes its stream
 *   (chunked.h: every chunk rendered once, counting), the last
 *   PF_DOCVIEW_VIEWS streams are kept, and PF_CONTENT_STREAM gives
 *   c->stream (shared, so a file open keeps it after the view is
 *   dropped; c->data is NULL, c->len the size);
 * - image.png, and values.txt asked without those flags (an edit wants
 *   the text whole), are rendered whole: the last PF_DOCVIEW_VIEWS stay
 *   rendered while the view lives, and c shares the rendered bytes
 *   (c->blob) so a file open keeps them after the view is dropped.
 * The size of every view rendered or counted once is kept too: a
 * PF_CONTENT_SIZE_ONLY question about it renders nothing again (c->data
 * is then NULL). */
#define PF_DOCVIEW_VIEWS 4
int pf_docview_content(pf_docview *dv, pf_ref ref, unsigned flags,
		       pf_content *c, pk_err *e);
/* fn(ctx, why) is called when a directory is first listed whose value
 * is shown raw though it has a view (a DataFrame frame.h cannot read:
 * layout.h's note), so that the mount can log why. */
void pf_docview_on_note(pf_docview *dv, void (*fn)(void *ctx, const char *why),
			void *ctx);

/* Whether writes to file ref are refused (EPERM): the read-only views
 * (ref.h), and a frame's columns that take no edits (frame.h; the frame
 * kept parsed, as for its views). */
int pf_docview_readonly(pf_docview *dv, pf_ref ref);

/* Entries of dir that are directories (not links): nlink - 2. */
int pf_docview_nsubdirs(pf_docview *dv, pf_ref dir, uint64_t *n);

#endif
