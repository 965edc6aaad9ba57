/*
 * opcodes.c - the opcode metadata table; see opcodes.h.
 *
 * The rows are transcribed from CPython 3.11's pickletools.opcodes (names,
 * argument descriptors and protocols), so `dis` output and error messages
 * use the names pickletools prints. The table is indexed by the opcode
 * byte, so a lookup is one load and a NULL test.
 */
#include "opcodes.h"

#include <stddef.h>

/* One designated initialiser per opcode; every other byte stays zeroed,
 * which is how pk_opcode_info tells "not an opcode" (name == NULL). */
#define OP(n, a, p) [PK_OP_##n] = {PK_OP_##n, PK_ARG_##a, p, FORM_##a, #n}

/* Each argument kind's form, width and sign of count: the one place that
 * says how many bytes an argument takes. */
#define FORM_NONE PK_FORM_NONE, 0, 0
#define FORM_U1 PK_FORM_FIXED, 1, 0
#define FORM_U2 PK_FORM_FIXED, 2, 0
#define FORM_I4 PK_FORM_FIXED, 4, 0
#define FORM_U4 PK_FORM_FIXED, 4, 0
#define FORM_U8 PK_FORM_FIXED, 8, 0
#define FORM_F8 PK_FORM_FIXED, 8, 0
#define FORM_DECIMALNL_SHORT PK_FORM_LINE, 0, 0
#define FORM_DECIMALNL_LONG PK_FORM_LINE, 0, 0
#define FORM_FLOATNL PK_FORM_LINE, 0, 0
#define FORM_STRINGNL PK_FORM_LINE, 0, 0
#define FORM_STRINGNL_NOESCAPE PK_FORM_LINE, 0, 0
#define FORM_UNICODESTRINGNL PK_FORM_LINE, 0, 0
#define FORM_STRINGNL_NOESCAPE_PAIR PK_FORM_LINE2, 0, 0
#define FORM_STRING1 PK_FORM_COUNTED, 1, 0
#define FORM_STRING4 PK_FORM_COUNTED, 4, 1
#define FORM_BYTES1 PK_FORM_COUNTED, 1, 0
#define FORM_BYTES4 PK_FORM_COUNTED, 4, 0
#define FORM_BYTES8 PK_FORM_COUNTED, 8, 0
#define FORM_BYTEARRAY8 PK_FORM_COUNTED, 8, 0
#define FORM_UNICODE1 PK_FORM_COUNTED, 1, 0
#define FORM_UNICODE4 PK_FORM_COUNTED, 4, 0
#define FORM_UNICODE8 PK_FORM_COUNTED, 8, 0
#define FORM_LONG1 PK_FORM_COUNTED, 1, 0
#define FORM_LONG4 PK_FORM_COUNTED, 4, 1

const struct pk_opcode_info pk_opcodes[256] = {
    OP(MARK, NONE, 0),
    OP(EMPTY_TUPLE, NONE, 1),
    OP(STOP, NONE, 0),
    OP(POP, NONE, 0),
    OP(POP_MARK, NONE, 1),
    OP(DUP, NONE, 0),
    OP(BINBYTES, BYTES4, 3),
    OP(SHORT_BINBYTES, BYTES1, 3),
    OP(FLOAT, FLOATNL, 0),
    OP(BINFLOAT, F8, 1),
    OP(INT, DECIMALNL_SHORT, 0),
    OP(BININT, I4, 1),
    OP(BININT1, U1, 1),
    OP(LONG, DECIMALNL_LONG, 0),
    OP(BININT2, U2, 1),
    OP(NONE, NONE, 0),
    OP(PERSID, STRINGNL_NOESCAPE, 0),
    OP(BINPERSID, NONE, 1),
    OP(REDUCE, NONE, 0),
    OP(STRING, STRINGNL, 0),
    OP(BINSTRING, STRING4, 1),
    OP(SHORT_BINSTRING, STRING1, 1),
    OP(UNICODE, UNICODESTRINGNL, 0),
    OP(BINUNICODE, UNICODE4, 1),
    OP(EMPTY_LIST, NONE, 1),
    OP(APPEND, NONE, 0),
    OP(BUILD, NONE, 0),
    OP(GLOBAL, STRINGNL_NOESCAPE_PAIR, 0),
    OP(DICT, NONE, 0),
    OP(APPENDS, NONE, 1),
    OP(GET, DECIMALNL_SHORT, 0),
    OP(BINGET, U1, 1),
    OP(INST, STRINGNL_NOESCAPE_PAIR, 0),
    OP(LONG_BINGET, U4, 1),
    OP(LIST, NONE, 0),
    OP(OBJ, NONE, 1),
    OP(PUT, DECIMALNL_SHORT, 0),
    OP(BINPUT, U1, 1),
    OP(LONG_BINPUT, U4, 1),
    OP(SETITEM, NONE, 0),
    OP(TUPLE, NONE, 0),
    OP(SETITEMS, NONE, 1),
    OP(EMPTY_DICT, NONE, 1),
    OP(PROTO, U1, 2),
    OP(NEWOBJ, NONE, 2),
    OP(EXT1, U1, 2),
    OP(EXT2, U2, 2),
    OP(EXT4, I4, 2),
    OP(TUPLE1, NONE, 2),
    OP(TUPLE2, NONE, 2),
    OP(TUPLE3, NONE, 2),
    OP(NEWTRUE, NONE, 2),
    OP(NEWFALSE, NONE, 2),
    OP(LONG1, LONG1, 2),
    OP(LONG4, LONG4, 2),
    OP(SHORT_BINUNICODE, UNICODE1, 4),
    OP(BINUNICODE8, UNICODE8, 4),
    OP(BINBYTES8, BYTES8, 4),
    OP(EMPTY_SET, NONE, 4),
    OP(ADDITEMS, NONE, 4),
    OP(FROZENSET, NONE, 4),
    OP(NEWOBJ_EX, NONE, 4),
    OP(STACK_GLOBAL, NONE, 4),
    OP(MEMOIZE, NONE, 4),
    OP(FRAME, U8, 4),
    OP(BYTEARRAY8, BYTEARRAY8, 5),
    OP(NEXT_BUFFER, NONE, 5),
    OP(READONLY_BUFFER, NONE, 5),
};

#undef OP
