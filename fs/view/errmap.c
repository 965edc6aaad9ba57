#include "errmap.h"

#include <errno.h>

int pf_errno_of(int pk_code)
{
	switch (pk_code) {
	case PK_OK:
		return 0;
	case PK_E_NOMEM:
		return ENOMEM;
	case PK_E_VALUE:
		/* a text that is not a literal of the node's type */
		return EINVAL;
	case PK_E_UNSUPPORTED:
		return EOPNOTSUPP;
	case PK_E_LIMIT:
		/* past a size bound (-o max_expand, the cache folder's free
		 * space): the file is too large to take, as write(2) says */
		return EFBIG;
	case PK_E_REFUSED:
		/* a value that cannot take that edit: the request is at
		 * fault, not the pickle */
		return EPERM;
	case PK_E_TRUNCATED:
	case PK_E_OPCODE:
	case PK_E_ARG:
	case PK_E_STACK:
	case PK_E_MEMO:
	case PK_E_FRAME:
	case PK_E_PROTO:
	case PK_E_TRAILING:
	case PK_E_COMPRESS:
	case PK_E_IO:
	default:
		/* the pickle (or its compressed stream) cannot be read: the
		 * data is bad, not the request */
		return EIO;
	}
}
