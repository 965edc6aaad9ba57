/*
 * buf.h - a growable byte buffer (after git's strbuf), and growable
 * arrays.
 *
 * What: pk_buf is the codec's one way to build output of unknown length:
 * encoder output, text forms, error messages. pk_vec_grow is the one way
 * codec/ and fs/ grow an array of anything else (stacks, rows, lists).
 * Ownership: a pk_buf owns `data`; pk_buf_release frees it and leaves an
 * empty, reusable buffer; pk_buf_detach hands `data` to the caller. An
 * array grown by pk_vec_grow belongs to the caller, who frees it.
 * Invariants: data is NULL or holds cap bytes; len <= cap; when data is
 * not NULL, data[len] == '\0' (so text can be used as a C string), which
 * is why cap is always at least len + 1. On failure (-1) nothing changes.
 */
#ifndef PK_BUF_H
#define PK_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct pk_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
} pk_buf;

#define PK_BUF_INIT                                                            \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void pk_buf_init(pk_buf *b);
void pk_buf_release(pk_buf *b);
/* Returns the data (caller frees) and resets b; never NULL after an add. */
uint8_t *pk_buf_detach(pk_buf *b, size_t *len);
/* All adders return 0, or -1 when memory runs out (b is then unchanged). */
int pk_buf_grow(pk_buf *b, size_t extra);
int pk_buf_add(pk_buf *b, const void *data, size_t n);
int pk_buf_addc(pk_buf *b, uint8_t c);
int pk_buf_adds(pk_buf *b, const char *s);
int pk_buf_addf(pk_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pk_buf_reset(pk_buf *b); /* len = 0, keeps the allocation */
/* v in decimal, appended to b: 0 or -1 (no memory). Faster than
 * pk_buf_addf, for the millions of numbers a view can hold. */
int pk_buf_add_u64(pk_buf *b, uint64_t v);
int pk_buf_add_i64(pk_buf *b, int64_t v);
/* The decimal digits of v at p (room for 20); returns their count. */
size_t pk_fmt_u64(char *p, uint64_t v);

/*
 * Growable arrays: the one way codec/ and fs/ grow an array of any type.
 * *arr points to *cap elements of elem bytes (NULL and 0 to start); after
 * pk_vec_grow(&arr, &cap, need, sizeof(*arr)) it holds at least `need`:
 * the capacity doubles from 64 (or from the old capacity) until it fits.
 * Returns 0, or -1 when memory runs out or the size overflows (then *arr
 * and *cap are unchanged and still owned by the caller). The caller owns
 * the array and frees it with free(). Not used by the arena and the memo
 * (arena.h, memo.h: chunks that never move, and a table indexed by memo
 * number that also zeroes what it adds), nor by pf_layout, whose first
 * segments live inside the layout itself.
 */
int pk_vec_grow(void **arr, size_t *cap, size_t need, size_t elem);

#endif
