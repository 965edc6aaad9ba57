/*
 * chunked.h - a view too big to keep rendered, served in chunks.
 *
 * What: a text view (an array's values.txt; other line-oriented views
 * plug in the same way) is cut into chunks by its renderer: chunk k is a
 * fixed run of the view's items (whole lines where a line is not longer
 * than a chunk), and the view is chunks 0 .. n-1 one after the other. A
 * renderer is a pf_chunker: "append chunk k to a pk_buf" and the number
 * of chunks. A pf_vstream made from it answers the size first (it renders
 * every chunk once, counting bytes only, and keeps the table of chunk
 * offsets: 8 bytes a chunk), then serves any byte range by rendering only
 * the chunks the range covers (found by binary search in the table),
 * keeping the last two chunks rendered. So the memory a view takes is two
 * chunks and its table, whatever the view's size, and a stat renders the
 * view once, never again while the stream lives. Two threads: the count
 * renders the odd chunks on a second thread, and a read that misses
 * renders chunk k and, on a second thread, chunk k + 1 (the one a reader
 * going on asks next); both are joined before the call returns, so no
 * thread outlives a call.
 * Ownership: a pf_vstream owns its chunker (released with the stream),
 * its table and the chunk it keeps; it is reference counted (atomic), so
 * the docview that made it and the open files that read it share it, and
 * the last unref frees it. A chunker is self-contained once made: it
 * holds what it reads (the array's description, and its payload, or a
 * pointer to the payload where the view's `data` file serves it without
 * a copy: alive as long as that would be, the mapped pickle).
 * Invariants: the size is the sum of the chunks' lengths, and a range
 * read gives the same bytes as that slice of the concatenation of all
 * chunks; a chunk rendered again must have the length the table says
 * (else EIO: the renderer is not a function of its input). A chunker
 * must allow two calls at once for different chunks. Reads are
 * thread-safe (the kept chunks are swapped under a mutex; rendering is
 * done outside it, and a chunk being rendered is waited for, not
 * rendered twice); the rest is not (the caller holds the pickle's lock).
 */
#ifndef PF_CHUNKED_H
#define PF_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The items a renderer puts in one chunk, at most (whole lines of fewer
 * items, rounded down to whole lines where a line fits). */
#define PF_CHUNK_ITEMS 65536

typedef struct pf_chunker {
	void *self;
	uint64_t nchunks;
	/* Appends chunk k (k < nchunks) to out. 0, ENOMEM or EIO. */
	int (*chunk)(void *self, uint64_t k, pk_buf *out);
	/* Frees self (may be NULL). */
	void (*release)(void *self);
} pf_chunker;

typedef struct pf_vstream pf_vstream;

/* Makes a stream of ch's chunks, taking ch (released now on failure):
 * renders each chunk once to count its bytes. 0, ENOMEM or the
 * renderer's errno. */
int pf_vstream_new(pf_chunker *ch, pf_vstream **out);
void pf_vstream_ref(pf_vstream *s);
void pf_vstream_unref(pf_vstream *s); /* NULL is fine */
/* The view's length in bytes. */
uint64_t pf_vstream_size(const pf_vstream *s);
/* Bytes held (table, kept chunk), for the cache's accounting. */
size_t pf_vstream_bytes(pf_vstream *s);
/* Copies the bytes [off, off + n) of the view (cut at its end) to dst;
 * *got says how many. 0, ENOMEM or EIO. */
int pf_vstream_read(pf_vstream *s, uint64_t off, size_t n, uint8_t *dst,
		    size_t *got);

#endif
