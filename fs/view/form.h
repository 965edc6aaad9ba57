/*
 * form.h - what a pickled value looks like in the mount.
 *
 * What: classifies a value slot into a "form": a file (scalars, globals,
 * and the objects that are really scalars: complex, bytes made by
 * _codecs.encode, bytearray/bytes calls, the library scalars of
 * scalars.h) or a directory (dict, list,
 * tuple, set, the objects that are really sets or dicts: REDUCE of
 * builtins.set, OrderedDict, defaultdict, Counter; numpy arrays; any
 * other object). Forms and layouts are read here and in layout.c from
 * the nodes' steps (which opcode made or filled a node); edit.c looks at
 * the steps only to keep a node's batching when it changes it. Nothing
 * else in fs/ reads opcodes.
 * Python 2 spellings (__builtin__, copy_reg) and numpy 2's numpy._core
 * are the same modules as builtins, copyreg and numpy.core here.
 * Ownership: results point into the doc (slots, nodes) and live as long
 * as it; nothing is allocated.
 * Invariant: the form of a slot depends only on the value (for nodes:
 * only on the node), so the same container reached twice looks the same.
 */
#ifndef PF_FORM_H
#define PF_FORM_H

#include <stddef.h>
#include <stdint.h>

#include "pickle.h"

/* Accessors on a slot pointer (fs/ passes slots by address: a slot's
 * address is where an entry lives in its parent). */
static inline int pf_kind(const pk_val *v)
{
	return pk_val_kind(*v);
}
static inline int pf_is_node(const pk_val *v)
{
	return pk_val_is_node(*v);
}
static inline pk_node *pf_node(const pk_val *v)
{
	return pk_val_node(*v);
}

enum pf_form {
	/* files */
	PF_FORM_SCALAR = 1, /* a codec scalar slot */
	PF_FORM_GLOBAL,	    /* GLOBAL / STACK_GLOBAL */
	PF_FORM_BUFFER,	    /* READONLY_BUFFER over bytes */
	PF_FORM_COMPLEX,    /* REDUCE builtins.complex (re, im) */
	PF_FORM_LATIN1,	    /* REDUCE _codecs.encode (str, 'latin1') */
	PF_FORM_BYTESCALL,  /* REDUCE builtins.bytes / bytearray (x[, enc]) */
	PF_FORM_LIBSCALAR, /* numpy scalar, datetime, Decimal ... (scalars.h) */
	/* directories */
	PF_FORM_DICT,	  /* PK_DICT */
	PF_FORM_SEQ,	  /* list, tuple, set, frozenset nodes */
	PF_FORM_SETCALL,  /* REDUCE builtins.set / frozenset ([...],) */
	PF_FORM_DICTCALL, /* OrderedDict, defaultdict, Counter */
	PF_FORM_NDARRAY,  /* numpy array (_reconstruct + BUILD, _frombuffer) */
	PF_FORM_TENSOR,	  /* a PyTorch tensor or Parameter (tensor.h) */
	PF_FORM_FRAME,	  /* a pandas DataFrame or Series (frame.h) */
	PF_FORM_OBJECT,	  /* any other REDUCE / NEWOBJ / INST / OBJ */
	PF_FORM_PERSID,	  /* BINPERSID: the id under __persid__ */
};

/* A PK_OBJECT node taken apart. */
typedef struct pf_obj {
	const pk_node *node;
	uint8_t op;		/* opcode of the creation step */
	const pk_val *callable; /* REDUCE callable; NEWOBJ*, OBJ, INST class */
	const pk_val *args;	/* args slot (REDUCE, NEWOBJ*), or NULL */
	const pk_val *kwargs;	/* NEWOBJ_EX */
	uint32_t inl_first;	/* INST / OBJ: the arguments are kids */
	uint32_t inl_count;	/*   [inl_first, inl_first + inl_count) */
	const pk_val *cls;	/* the class shown as __class__ */
	int hide_args;		/* args only say "make an instance" */
	uint32_t first_after;	/* first kid after the creation step */
} pf_obj;

/* Slot form. */
int pf_form_of(const pk_val *v);
static inline int pf_form_is_dir(int form)
{
	return form >= PF_FORM_DICT;
}

/* The names users see in user.pickle.type come from one table (form.c),
 * read both ways: pf_kind_type_name gives the name of an enum pk_kind
 * ("object" for anything it does not know); pf_type_name_kind gives the
 * kind of a name that a scalar file can be set to or created as (str int
 * float bool none bytes), -1 for any other name. */
const char *pf_kind_type_name(int kind);
int pf_type_name_kind(const char *name);

/* Name for user.pickle.type of slot v: its kind's name, or the name of
 * its form ("complex", "ndarray", "bytes" for a latin-1 call ...). */
const char *pf_type_name(const pk_val *v);
/* Same for a key slot, used by user.pickle.keytype and name suffixes
 * (lower-case letters only). */
const char *pf_key_type_name(const pk_val *v);

/* Takes a PK_OBJECT node apart; -1 when v is not one. */
int pf_obj_parse(const pk_val *v, pf_obj *o);

/* Kids of a list/tuple/set/frozenset node; -1 otherwise. */
int pf_seq_kids(const pk_val *v, const pk_val **kids, uint32_t *n);

/* Module and qualified name of a global slot (GLOBAL or STACK_GLOBAL),
 * -1 otherwise. */
int pf_global_parts(const pk_val *v, const uint8_t **mod, size_t *modlen,
		    const uint8_t **name, size_t *namelen);
/* 1 when v is the global module.name (with the aliases above). */
int pf_global_is(const pk_val *v, const char *mod, const char *name);

/* 1 when v is a str slot whose text equals s. */
int pf_str_is(const pk_val *v, const char *s);

/* numpy array parts: the slots of dtype, shape, fortran flag and data
 * (any may be NULL when the pickle does not have them). */
typedef struct pf_ndarray {
	const pk_val *dtype; /* a numpy.dtype object */
	const pk_val *shape; /* a tuple of ints */
	const pk_val *fortran;
	const pk_val *order; /* _frombuffer: 'C' / 'F' str */
	const pk_val *data;  /* bytes-like, or a list (object arrays) */
} pf_ndarray;
int pf_ndarray_parse(const pk_val *v, pf_ndarray *a);

#endif
