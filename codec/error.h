/*
 * error.h - the codec's error type.
 *
 * What: every codec function that can fail fills a pk_err: a code, a
 * constant message and the byte offset in the input where the problem
 * was found: for a decoder error the pickle bytes (decompressed, for a
 * compressed file), for a decompression error the compressed bytes. The
 * caller knows which step failed and says so. Only fs/ maps codes to errno, in
 * one place. Ownership: `msg` always points to a string literal; nothing to
 * free. Invariant: code == PK_OK means msg is NULL and offset is 0.
 */
#ifndef PK_ERROR_H
#define PK_ERROR_H

#include <stdint.h>

enum pk_code {
	PK_OK = 0,
	PK_E_TRUNCATED, /* input ends inside an opcode or before STOP */
	PK_E_OPCODE,	/* unknown opcode byte */
	PK_E_ARG,	/* malformed inline argument (bad literal, bad UTF-8) */
	PK_E_STACK,	/* stack underflow, missing MARK, wrong operand type */
	PK_E_MEMO,	/* GET of a memo index never PUT */
	PK_E_FRAME,	/* bad frame length or an opcode crossing a frame */
	PK_E_PROTO,	/* unsupported protocol number */
	PK_E_NOMEM,	/* allocation failed */
	PK_E_TRAILING,	/* bytes after STOP (only when asked to be strict) */
	PK_E_VALUE,	/* a text form that is not a literal of the type */
	PK_E_COMPRESS,	/* corrupt gzip/bzip2 stream */
	PK_E_IO,	/* read/write failure (errno is kept by the caller) */
	PK_E_UNSUPPORTED, /* valid pickle the operation cannot handle */
	PK_E_REFUSED,	  /* the value cannot take that edit (an object's
			     __class__, a tuple's new member ...) */
	PK_E_LIMIT,	  /* a bound the caller set was reached (a
			     decompressed size past max_out) */
};

typedef struct pk_err {
	int code;	 /* enum pk_code */
	const char *msg; /* constant string, no trailing period */
	uint64_t offset; /* byte offset in the input */
} pk_err;

/* Sets *e (if e is not NULL) and returns `code`, so callers can write
 * `return pk_err_set(e, PK_E_ARG, "bad float", pos);`. */
int pk_err_set(pk_err *e, int code, const char *msg, uint64_t offset);

/* Short constant name for a code ("truncated", "unknown opcode", ...). */
const char *pk_code_name(int code);

#endif
