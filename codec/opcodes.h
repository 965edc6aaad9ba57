/*
 * opcodes.h - the pickle opcode set (protocols 0-5) and its grammar.
 *
 * What: one enum value per opcode byte, and a table (pk_opcodes) that
 * says, for each of the 68 opcodes, its name as pickletools prints it, the
 * kind of its inline argument (pk_arg), where that argument ends (pk_form
 * and width) and the protocol that introduced it. This is the one place
 * that says how long an opcode's argument is: the decoder (step), the
 * disassembler (read_arg) and the value readers (pk_scalar_op_len) all
 * walk by it. The decoder's fast path keeps the five fixed widths it
 * handles as constants, for speed (see run_fast).
 * Ownership: the table is static and constant; callers never free it.
 * Invariant: pk_opcode_info(b) returns NULL exactly for bytes that are not
 * opcodes, so a decoder can refuse unknown opcodes with one lookup; the
 * row of such a byte in pk_opcodes is all zero (no argument).
 */
#ifndef PK_OPCODES_H
#define PK_OPCODES_H

#include <stddef.h>
#include <stdint.h>

enum pk_op {
	PK_OP_MARK = '(',
	PK_OP_STOP = '.',
	PK_OP_POP = '0',
	PK_OP_POP_MARK = '1',
	PK_OP_DUP = '2',
	PK_OP_FLOAT = 'F',
	PK_OP_INT = 'I',
	PK_OP_BININT = 'J',
	PK_OP_BININT1 = 'K',
	PK_OP_LONG = 'L',
	PK_OP_BININT2 = 'M',
	PK_OP_NONE = 'N',
	PK_OP_PERSID = 'P',
	PK_OP_BINPERSID = 'Q',
	PK_OP_REDUCE = 'R',
	PK_OP_STRING = 'S',
	PK_OP_BINSTRING = 'T',
	PK_OP_SHORT_BINSTRING = 'U',
	PK_OP_UNICODE = 'V',
	PK_OP_BINUNICODE = 'X',
	PK_OP_APPEND = 'a',
	PK_OP_BUILD = 'b',
	PK_OP_GLOBAL = 'c',
	PK_OP_DICT = 'd',
	PK_OP_EMPTY_DICT = '}',
	PK_OP_APPENDS = 'e',
	PK_OP_GET = 'g',
	PK_OP_BINGET = 'h',
	PK_OP_INST = 'i',
	PK_OP_LONG_BINGET = 'j',
	PK_OP_LIST = 'l',
	PK_OP_EMPTY_LIST = ']',
	PK_OP_OBJ = 'o',
	PK_OP_PUT = 'p',
	PK_OP_BINPUT = 'q',
	PK_OP_LONG_BINPUT = 'r',
	PK_OP_SETITEM = 's',
	PK_OP_TUPLE = 't',
	PK_OP_EMPTY_TUPLE = ')',
	PK_OP_SETITEMS = 'u',
	PK_OP_BINFLOAT = 'G',
	/* protocol 2 */
	PK_OP_PROTO = 0x80,
	PK_OP_NEWOBJ = 0x81,
	PK_OP_EXT1 = 0x82,
	PK_OP_EXT2 = 0x83,
	PK_OP_EXT4 = 0x84,
	PK_OP_TUPLE1 = 0x85,
	PK_OP_TUPLE2 = 0x86,
	PK_OP_TUPLE3 = 0x87,
	PK_OP_NEWTRUE = 0x88,
	PK_OP_NEWFALSE = 0x89,
	PK_OP_LONG1 = 0x8a,
	PK_OP_LONG4 = 0x8b,
	/* protocol 3 */
	PK_OP_BINBYTES = 'B',
	PK_OP_SHORT_BINBYTES = 'C',
	/* protocol 4 */
	PK_OP_SHORT_BINUNICODE = 0x8c,
	PK_OP_BINUNICODE8 = 0x8d,
	PK_OP_BINBYTES8 = 0x8e,
	PK_OP_EMPTY_SET = 0x8f,
	PK_OP_ADDITEMS = 0x90,
	PK_OP_FROZENSET = 0x91,
	PK_OP_NEWOBJ_EX = 0x92,
	PK_OP_STACK_GLOBAL = 0x93,
	PK_OP_MEMOIZE = 0x94,
	PK_OP_FRAME = 0x95,
	/* protocol 5 */
	PK_OP_BYTEARRAY8 = 0x96,
	PK_OP_NEXT_BUFFER = 0x97,
	PK_OP_READONLY_BUFFER = 0x98,
};

/* Shape of an opcode's inline argument (pickletools' ArgumentDescriptor). */
enum pk_arg {
	PK_ARG_NONE,
	PK_ARG_U1,		  /* uint1 */
	PK_ARG_U2,		  /* uint2 */
	PK_ARG_I4,		  /* int4 (signed) */
	PK_ARG_U4,		  /* uint4 */
	PK_ARG_U8,		  /* uint8 */
	PK_ARG_DECIMALNL_SHORT,	  /* INT: decimal (or 00/01 bool) then \n */
	PK_ARG_DECIMALNL_LONG,	  /* LONG: decimal, optional L, then \n */
	PK_ARG_FLOATNL,		  /* FLOAT: repr-ish text then \n */
	PK_ARG_F8,		  /* BINFLOAT: big-endian double */
	PK_ARG_STRINGNL,	  /* STRING: quoted Python literal then \n */
	PK_ARG_STRINGNL_NOESCAPE, /* PERSID: text then \n */
	PK_ARG_STRINGNL_NOESCAPE_PAIR, /* GLOBAL/INST: two lines */
	PK_ARG_UNICODESTRINGNL,	       /* UNICODE: raw-unicode-escape then \n */
	PK_ARG_STRING1,		       /* u1 length + bytes */
	PK_ARG_STRING4,		       /* i4 length + bytes (BINSTRING) */
	PK_ARG_BYTES1,		       /* u1 length + bytes */
	PK_ARG_BYTES4,		       /* u4 length + bytes */
	PK_ARG_BYTES8,		       /* u8 length + bytes */
	PK_ARG_BYTEARRAY8,	       /* u8 length + bytes */
	PK_ARG_UNICODE1,	       /* u1 length + utf-8 */
	PK_ARG_UNICODE4,	       /* u4 length + utf-8 */
	PK_ARG_UNICODE8,	       /* u8 length + utf-8 */
	PK_ARG_LONG1,		       /* u1 length + two's complement LE */
	PK_ARG_LONG4,		       /* i4 length + two's complement LE */
};

/*
 * Where an opcode's argument ends: the grammar the decoder, the
 * disassembler and the value readers all walk by (what the bytes mean is
 * pk_arg's business, and each reader's).
 */
enum pk_form {
	PK_FORM_NONE,	 /* no argument */
	PK_FORM_FIXED,	 /* `width` bytes */
	PK_FORM_COUNTED, /* a `width`-byte little-endian count, then that
			  * many bytes; a signed count (`neg_count`) below 0
			  * is an error */
	PK_FORM_LINE,	 /* bytes up to and including a '\n' */
	PK_FORM_LINE2,	 /* two such lines (GLOBAL, INST) */
};

struct pk_opcode_info {
	uint8_t code;
	uint8_t arg;	   /* enum pk_arg */
	uint8_t proto;	   /* protocol that introduced the opcode */
	uint8_t form;	   /* enum pk_form */
	uint8_t width;	   /* FIXED: argument bytes; COUNTED: count bytes */
	uint8_t neg_count; /* COUNTED: the count is a signed int4 */
	const char *name;
};

/* Indexed by opcode byte; a byte that is no opcode has a zeroed row
 * (name NULL, form PK_FORM_NONE). Hot loops index it directly. */
extern const struct pk_opcode_info pk_opcodes[256];

/* The metadata of opcode byte `code`, or NULL if it is not an opcode. */
static inline const struct pk_opcode_info *pk_opcode_info(uint8_t code)
{
	return pk_opcodes[code].name ? &pk_opcodes[code] : NULL;
}

#endif
