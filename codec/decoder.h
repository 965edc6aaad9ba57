/*
 * decoder.h - the decoder's machine state, shared by its two halves.
 *
 * What: decode.c drives the machine (the entry points, the fast path for
 * the opcodes that make up most of a big pickle, progress reports) and
 * decode_step.c runs one opcode of any kind (pk_dec_step), and joblib.c
 * reads the array bytes joblib writes after a BUILD (pk_dec_joblib). This
 * header is private to those three files; nothing outside codec/
 * includes it.
 * Ownership: struct dec is on pk_decode_ex's stack; it owns its stack,
 * marks, memo and scratch buffer, and the doc and arena until the decode
 * succeeds, when the doc (holding the arena) goes to the caller.
 * Invariants: stack[0..sp) is the unpickling stack, marks[0..nmarks)
 * stack positions in ascending order, the top one the fence below which
 * ordinary pops may not reach; base <= p <= end; every error is reported
 * through fail() with the offset of the opcode at fault.
 */
#ifndef PK_DECODER_H
#define PK_DECODER_H

#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "memo.h"
#include "pickle.h"
#include "text.h"

/*
 * The decoder is the pickle virtual machine with every "call" replaced by
 * node construction. It follows _pickle.c's stack discipline (a value
 * stack plus a separate mark stack whose top is the fence below which
 * ordinary pops may not reach), so that what CPython refuses as
 * structurally broken is refused here, with the offset of the opcode.
 */

struct dec {
	const uint8_t *base;
	const uint8_t *p;
	const uint8_t *end;
	pk_doc *doc;
	pk_arena *arena;
	pk_err *e;

	pk_val *stack;
	size_t sp, scap;
	size_t *marks;
	size_t nmarks, mcap;

	pk_memo memo;
	int saw_put, saw_memoize;
	const uint8_t *prev_op; /* start of the opcode before this one */

	pk_buf scratch;
	pk_decode_progress_fn progress;
	void *progress_ctx;
	uint64_t max_tree; /* pk_decode_opts; 0: none */
	unsigned flags;	   /* pk_decode_opts */
	int (*trace)(void *ctx, const uint8_t *op, pk_val top);
	void *trace_ctx;
};

static inline int fail(struct dec *d, int code, const char *msg,
		       const uint8_t *at)
{
	return pk_err_set(d->e, code, msg, (uint64_t)(at - d->base));
}

static inline size_t fence(const struct dec *d)
{
	return d->nmarks ? d->marks[d->nmarks - 1] : 0;
}

static inline int utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;

	/* ASCII fast path: most keys and names never leave it. */
	while (i + 8 <= n) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			break;
		i += 8;
	}
	while (i < n && s[i] < 0x80)
		i++;
	return i == n || pk_utf8_valid(s + i, n - i, 1);
}

/* Runs the opcode at d->p (any opcode) and moves d->p past it; *stop is
 * set at STOP. 0 or a pk_code, with d->e filled. */
int pk_dec_step(struct dec *d, int *stop);

/* joblib.c: after a BUILD on node n (the opcode at op), reads the array
 * bytes that follow it when n is a joblib NumpyArrayWrapper. */
int pk_dec_joblib(struct dec *d, pk_node *n, const uint8_t *op);

#endif
