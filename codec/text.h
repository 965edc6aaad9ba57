/*
 * text.h - Python's text forms of scalar values, both ways.
 *
 * What: the exact strings Python prints (repr of float, complex, str,
 * bytes; decimal of ints of any size) and the parsers that read what a
 * user typed back into a value. Used by the mount (cat / write), by
 * `pickletool dis` (pickletools prints reprs) and by the encoder. Numbers,
 * bool and None are read and written in text_num.c, float and complex
 * reprs in text_float.c; UTF-8, str and bytes in text.c.
 * Ownership: output goes to a caller-owned pk_buf (appended, never reset);
 * nothing here allocates anything the caller must free beyond that buf.
 * Invariants: every *_repr / *_format output parses back with the matching
 * *_parse to the identical value (floats bit for bit, ints exactly).
 * Parsers accept what Python's int()/float()/complex() constructors accept
 * (surrounding ASCII whitespace, underscores between digits, case-insensitive
 * inf/nan) and nothing else: a text that is not a literal is PK_E_VALUE,
 * never a guess. Offsets in errors are offsets into the given text.
 */
#ifndef PK_TEXT_H
#define PK_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* --- integers ---------------------------------------------------------- */

/* Decimal text of the little-endian two's complement integer in
 * bytes[0..n) (the LONG1/LONG4 payload; n == 0 means 0). Any size. */
int pk_int_le_to_decimal(const uint8_t *bytes, size_t n, pk_buf *out);

/* Parses a Python int literal (base 10 only, as int(text) does) into the
 * shortest little-endian two's complement bytes, as pickle's encode_long
 * writes them (0 -> zero bytes; 255 -> ff 00; -1 -> ff). */
int pk_int_parse_le(const char *text, size_t len, pk_buf *out, pk_err *e);

/* Parses a Python int literal that must fit in int64_t. PK_E_VALUE if it
 * is not a literal, PK_E_UNSUPPORTED if it is one but does not fit. */
int pk_int_parse_i64(const char *text, size_t len, int64_t *out, pk_err *e);

/* --- floats and complex ---------------------------------------------- */

/* Exactly Python's repr(float): shortest round-trip digits, '0.1',
 * '1e+100', '1e-05', '123456789012345.0', 'inf', '-inf', 'nan', '-0.0'. */
int pk_float_repr(double v, pk_buf *out);
/* The same layout for a float32: the shortest digits that read back as
 * the same float32 (numpy's repr of np.float32: 0.1 is '0.1'). */
int pk_float32_repr(float v, pk_buf *out);
/* float(text): accepts '1', ' 1.5\n', '1_000.5', 'inf', '-Infinity', 'nan'. */
int pk_float_parse(const char *text, size_t len, double *out, pk_err *e);

/* Exactly Python's repr(complex): '(1+2j)', '2j', '(-0-1j)', '(nan+infj)'. */
int pk_complex_repr(double re, double im, pk_buf *out);
/* complex(text): '(1+2j)', '1+2j', '2j', '3', ' (1-0j) '. */
int pk_complex_parse(const char *text, size_t len, double *re, double *im,
		     pk_err *e);

/* --- bool and None ---------------------------------------------------- */

/* 'True' / 'False' (surrounding whitespace allowed). */
int pk_bool_parse(const char *text, size_t len, int *out, pk_err *e);
/* 'None' (surrounding whitespace allowed). */
int pk_none_parse(const char *text, size_t len, pk_err *e);

/* --- str and bytes reprs ---------------------------------------------- */

/* Python's repr(str) of the UTF-8 text (which may hold UTF-8-encoded
 * surrogates, as pickles written with 'surrogatepass' do): quote choice,
 * \\ \' \n \r \t escapes, \xNN / \uNNNN / \UNNNNNNNN for what
 * str.isprintable() rejects, per the Unicode database of Python 3.11. */
int pk_repr_str(const uint8_t *utf8, size_t len, pk_buf *out);
/* Python's repr(bytes): b'...' with the same quote rules. */
int pk_repr_bytes(const uint8_t *data, size_t len, pk_buf *out);
/* 1 if data is UTF-8 as Python's 'surrogatepass' decoder accepts it. */
int pk_utf8_valid(const uint8_t *data, size_t len, int allow_surrogates);

/* --- protocol 0 string forms ----------------------------------------- */

/* Python's bytes escapes of s[0..n), as _PyBytes_DecodeEscape reads them
 * (the STRING opcode, codecs.escape_decode): \\ \' \" \a \b \f \n \r \t \v,
 * \<newline> dropped, \ooo (1-3 octal digits, low 8 bits kept), \xhh
 * (exactly two hex digits); any other backslash stays. Appended to out.
 * PK_OK, PK_E_NOMEM, or PK_E_ARG with *bad the offset in s of the bad
 * escape's backslash and *why what is wrong (out as it was). */
int pk_escape_decode(const uint8_t *s, size_t n, pk_buf *out, size_t *bad,
		     const char **why);
/* STRING argument (between the opcode and '\n'): a quoted Python 2 string
 * literal, unescaped as codecs.escape_decode does. PK_E_ARG if it is not
 * quoted with matching quotes or has a bad escape. */
int pk_string_literal_decode(const uint8_t *arg, size_t len, pk_buf *out,
			     pk_err *e);
/* Inverse: Python 2's repr(str) of raw bytes (what Python 2 pickle wrote
 * for STRING), without the trailing '\n'. */
int pk_string_literal_encode(const uint8_t *data, size_t len, pk_buf *out);

/* UNICODE argument: raw-unicode-escape (\uXXXX and \UXXXXXXXX escapes,
 * other bytes are latin-1 code points) to UTF-8. */
int pk_raw_unicode_decode(const uint8_t *arg, size_t len, pk_buf *out,
			  pk_err *e);
/* Inverse, as pickle.py protocol 0 writes it: \ \0 \n \r \x1a written as
 * \u005c \u0000 \u000a \u000d \u001a, then raw-unicode-escape (code
 * points < 256 as one byte, others \uXXXX / \UXXXXXXXX). */
int pk_raw_unicode_encode(const uint8_t *utf8, size_t len, pk_buf *out);

/* Appends the UTF-8 of latin-1 bytes (code points 0-255): how Python 2
 * str and protocol 0-2 bytes (_codecs.encode(s, 'latin1')) read. 0, or
 * -1 when memory runs out. */
int pk_latin1_to_utf8(const uint8_t *s, size_t n, pk_buf *out);

/* The inverse: UTF-8 text whose code points are all below 256 as those
 * bytes, appended to out (NULL: only counted into *count, which may be
 * NULL too). 0; -1 when the text is not UTF-8 or a code point does not
 * fit in a byte; -2 when memory runs out. */
int pk_utf8_to_latin1(const uint8_t *s, size_t n, pk_buf *out, uint64_t *count);

/* Reads one code point of s[0..n) at *i and moves *i past it: 0, or -1
 * for a sequence Python's UTF-8 decoder rejects (then *cp is
 * U+DC00 + the byte, as 'surrogateescape' shows it, and *i moves one
 * byte). Surrogates are accepted when allow_surrogates. */
int pk_utf8_next(const uint8_t *s, size_t n, size_t *i, uint32_t *cp,
		 int allow_surrogates);

#endif
