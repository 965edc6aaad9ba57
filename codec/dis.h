/*
 * dis.h - a pickle disassembler that prints what `python3 -m pickletools`
 * prints.
 *
 * What: `pickletool dis` and the tests use this to list a pickle opcode by
 * opcode. The text is byte for byte the output of CPython 3.11's
 * pickletools.dis(data) with its defaults (indentlevel 4, no annotations),
 * which is what `python3 -m pickletools FILE` prints for one file: one
 * line per opcode ("%5d: " offset, the opcode byte as repr() shows it,
 * the opcode name indented 4 blanks per open MARK, then repr() of the
 * argument and "(MARK at N)" / "(as N)" notes), then the line
 * "highest protocol among opcodes = N". Only the first pickle in the
 * data is read: disassembly stops after its STOP, as genops does, and
 * anything after it is ignored.
 *
 * Errors: pickletools checks the pickle as it goes (argument syntax, stack
 * underflow, MARK pairing, memo keys defined once and before use) and
 * raises ValueError. Here the same checks return a pk_code, after the
 * lines pickletools would have printed before raising (so the output is
 * the same up to where Python's traceback would start). e->offset is the
 * offset of the opcode at fault (for PK_E_TRUNCATED when the data ends
 * before STOP: the length of the data). Codes:
 *   PK_OK             the whole listing was produced
 *   PK_E_TRUNCATED    data ends before STOP or inside an argument
 *   PK_E_OPCODE       a byte that is not an opcode
 *   PK_E_ARG          an argument pickletools cannot read: bad literal,
 *                     bad escape, non-ASCII STRING, bad UTF-8, negative
 *                     length
 *   PK_E_STACK        pops more than the stack holds, no MARK to pop to,
 *                     stack not empty after STOP (reported after the
 *                     final "highest protocol" line, as pickletools does)
 *   PK_E_MEMO         memo key stored twice, fetched before stored, or a
 *                     PUT with an empty stack or a MARK on top
 *   PK_E_UNSUPPORTED  an int of more than 4300 digits (CPython 3.11 refuses
 *                     to convert it to text: sys.get_int_max_str_digits)
 *   PK_E_NOMEM        allocation failed
 *   PK_E_IO           (pk_dis_stream only) the flush callback failed
 * A truncated or unreadable argument prints nothing for its opcode (genops
 * raises before dis prints); stack and memo errors print the opcode's line
 * first (dis raises after printing it).
 *
 * Ownership: the data is only read; output is appended to the caller's
 * buffer (never reset by pk_dis); nothing else outlives the call.
 * Invariants: memory use is bounded by the input (the mark stack and the
 * memo grow with the opcodes read; a memo index read from the input sizes
 * the memo's bitset only up to the input's length, a larger one is
 * hashed), and nesting depth costs heap, not C stack.
 */
#ifndef PK_DIS_H
#define PK_DIS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* Appends the disassembly of the first pickle in data[0..len) to out.
 * Returns PK_OK or a code above (e filled, e may be NULL); on error, out
 * holds the lines printed before the fault. */
int pk_dis(const uint8_t *data, size_t len, pk_buf *out, pk_err *e);

/* Same text, written in pieces: whenever the internal buffer holds more
 * than about 1 MB (after a whole line), and once at the end (also after an
 * error, so the lines before the fault are not lost), calls
 * flush(ctx, buf). flush must consume the buffer (write it, then
 * pk_buf_reset) and return 0, or return nonzero to stop with PK_E_IO.
 * Use this for big pickles: memory stays at about 1 MB plus the longest
 * line. */
int pk_dis_stream(const uint8_t *data, size_t len,
		  int (*flush)(void *ctx, pk_buf *b), void *ctx, pk_err *e);

#endif
