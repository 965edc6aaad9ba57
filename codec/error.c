#include "error.h"

#include <stddef.h>

int pk_err_set(pk_err *e, int code, const char *msg, uint64_t offset)
{
	if (e) {
		e->code = code;
		e->msg = code == PK_OK ? NULL : msg;
		e->offset = code == PK_OK ? 0 : offset;
	}
	return code;
}

const char *pk_code_name(int code)
{
	switch (code) {
	case PK_OK:
		return "ok";
	case PK_E_TRUNCATED:
		return "truncated";
	case PK_E_OPCODE:
		return "unknown opcode";
	case PK_E_ARG:
		return "bad argument";
	case PK_E_STACK:
		return "bad stack";
	case PK_E_MEMO:
		return "bad memo";
	case PK_E_FRAME:
		return "bad frame";
	case PK_E_PROTO:
		return "unsupported protocol";
	case PK_E_NOMEM:
		return "out of memory";
	case PK_E_TRAILING:
		return "trailing data";
	case PK_E_VALUE:
		return "bad value";
	case PK_E_COMPRESS:
		return "corrupt compressed stream";
	case PK_E_IO:
		return "i/o error";
	case PK_E_UNSUPPORTED:
		return "unsupported";
	case PK_E_REFUSED:
		return "edit refused";
	case PK_E_LIMIT:
		return "over the limit";
	}
	return "error";
}
