/*
 * dis_internal.h - the disassembler's state, shared by its two halves.
 *
 * What: dis.c runs pickletools.dis()'s loop (stack and mark emulation,
 * memo checks, the line layout); dis_arg.c reads each opcode's argument
 * as genops does and prints its repr(). Private to those two files.
 * Ownership: struct dis lives on dis_main's stack and owns its vectors,
 * memo and scratch buffers; `out` is the caller's.
 * Invariants: marks.v holds stack indices below depth, ascending; the
 * memo's bitmap never exceeds max_bits_bytes, which the input size
 * bounds, whatever value a key has.
 */
#ifndef PK_DIS_INTERNAL_H
#define PK_DIS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "opcodes.h"

struct u64vec {
	uint64_t *v;
	size_t n, cap;
};

/* ---- the memo: a set of int keys -------------------------------------- */

/*
 * pickletools keeps a dict of every key PUT so far. Keys are Python ints:
 * BINPUT/LONG_BINPUT give 0..2^32-1, PUT parses any decimal (negative,
 * huge, "00"/"01" meaning False/True which equal 0/1 as dict keys).
 * Pickles number their memo 0, 1, 2, ..., so small keys go in a bitmap
 * (bounded by the input size, never by a key's value); every other key
 * is stored as its canonical decimal text in a hash set.
 */
struct memo {
	uint8_t *bits;
	size_t nbits_bytes;
	size_t max_bits_bytes;
	uint64_t count; /* len(memo) */
	struct slot {
		uint64_t hash;
		size_t off, len; /* into pool; len == 0: empty slot */
	} * slots;
	size_t nslots, nused;
	pk_buf pool;
};

/* A memo key: either small (bitmap) or canonical decimal text. */
struct key {
	bool small;
	uint64_t v;
	const char *txt;
	size_t n;
};

/* One opcode's argument, located and (for numbers) parsed by read_arg. */
struct arg {
	const uint8_t *p; /* payload or line, without the newline */
	size_t n;
	const uint8_t *p2; /* second line of GLOBAL / INST */
	size_t n2;
	uint64_t u; /* fixed-size ints; PUT/GET keys */
	int64_t i;
	double d;
	int boolv;    /* INT/GET/PUT "00" / "01": 1 False, 2 True */
	bool numtext; /* the value is the decimal text in d->num */
	bool num_i64; /* ... and it fits in i */
};

struct dis {
	const uint8_t *data;
	size_t len;
	pk_buf *out;
	struct u64vec markpos; /* pickletools' markstack: MARK offsets */
	struct u64vec marks;   /* stack indices of MARK objects on the stack */
	uint64_t depth;	       /* emulated stack length */
	struct memo memo;
	pk_buf num; /* canonical decimal of an INT/LONG/PUT/GET */
	pk_buf tmp; /* decoded text arguments */
	pk_err *e;
};

/* PK_E_NOMEM at pos. */
int pk_dis_nomem(struct dis *d, uint64_t pos);
/* genops: reads the argument of the opcode whose argument starts at `at`
 * (pos: the opcode's offset) into *a and sets *next past it. A reader
 * error (pk_code, d->e filled) is raised before anything is printed. */
int pk_dis_read_arg(struct dis *d, const struct pk_opcode_info *info, size_t at,
		    uint64_t pos, struct arg *a, size_t *next);
/* repr(arg) appended to d->out. Errors here are reader errors. */
int pk_dis_put_arg(struct dis *d, const struct pk_opcode_info *info,
		   const struct arg *a, uint64_t pos);

#endif
