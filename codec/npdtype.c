#include "npdtype.h"

#include "opcodes.h"

const pk_val *pk_tuple_at(pk_val t, uint32_t i)
{
	const pk_node *n;

	if (!pk_val_is_node(t) || pk_val_node(t)->kind != PK_TUPLE)
		return NULL;
	n = pk_val_node(t);
	return i < n->nkids ? &n->kids[i] : NULL;
}

/* The REDUCE node of a dtype: args tuple at kids[1]. */
static const pk_node *dtype_node(pk_val dt)
{
	const pk_node *n;

	if (!pk_val_is_node(dt) || pk_val_node(dt)->kind != PK_OBJECT)
		return NULL;
	n = pk_val_node(dt);
	if (pk_node_steps(n)[0].op != PK_OP_REDUCE || n->nkids < 2)
		return NULL;
	return n;
}

const pk_val *pk_npdtype_state(pk_val dt)
{
	const pk_node *n = dtype_node(dt);

	if (!n || n->nsteps < 2 || pk_node_steps(n)[1].nkids != 1)
		return NULL;
	return &n->kids[2];
}

int pk_npdtype_code(pk_val dt, pk_buf *out)
{
	const pk_node *n = dtype_node(dt);
	const pk_val *code = n ? pk_tuple_at(n->kids[1], 0) : NULL;

	if (!code || pk_val_is_node(*code) ||
	    (pk_val_kind(*code) != PK_STR && pk_val_kind(*code) != PK_STRING))
		return -1;
	return pk_val_format(NULL, *code, out, NULL) == PK_OK ? 0 : -1;
}

int64_t pk_npdtype_itemsize(pk_val dt)
{
	const pk_val *state = pk_npdtype_state(dt), *elsize;
	pk_buf text = PK_BUF_INIT;
	int64_t n = -1;
	size_t i;

	if (state && (elsize = pk_tuple_at(*state, 5)) &&
	    pk_val_int64(*elsize, &n) == PK_OK && n >= 0)
		return n;
	if (pk_npdtype_code(dt, &text)) {
		pk_buf_release(&text);
		return -1;
	}
	n = 0;
	for (i = 0; i < text.len && n < (1ll << 40); i++)
		if (text.data[i] >= '0' && text.data[i] <= '9')
			n = n * 10 + (text.data[i] - '0');
	pk_buf_release(&text);
	return n;
}

int pk_npdtype_hasobject(pk_val dt)
{
	const pk_val *state = pk_npdtype_state(dt), *flags;
	pk_buf text = PK_BUF_INIT;
	int64_t f;
	int obj;

	obj =
	    pk_npdtype_code(dt, &text) == 0 && text.len && text.data[0] == 'O';
	pk_buf_release(&text);
	if (!obj && state && (flags = pk_tuple_at(*state, 7)) &&
	    pk_val_int64(*flags, &f) == PK_OK && (f & 1))
		obj = 1;
	return obj;
}
