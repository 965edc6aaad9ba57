/*
 * pickle.h - decode a pickle into a value tree without executing it, and
 * encode the tree back.
 *
 * What: pk_decode reads the opcodes of protocols 0-5 and builds a pk_doc:
 * a tree of pk_val slots. Nothing is imported or called: REDUCE, NEWOBJ,
 * BUILD and friends become PK_OBJECT nodes that keep their callable,
 * arguments and state as children. pk_encode writes the tree back; a doc
 * that was not edited re-encodes byte for byte as CPython wrote it.
 *
 * Ownership: a pk_doc owns every node, kids array and edited scalar (one
 * arena; pk_doc_free releases all of it in one call). It does NOT own the
 * input bytes: scalars that were not edited point into the input, which
 * must outlive the doc (mmap it, or keep the buffer).
 *
 * The value model:
 *   - A pk_val is one tagged pointer (8 bytes): either to the value's
 *     opcode bytes (scalars: the opcode and its inline argument, in the
 *     input or, for edited values, in the arena) or to a pk_node
 *     (containers, objects). Use the accessors below, not the bits.
 *   - A scalar's memo PUT, if it has one, is the opcode right after its
 *     own bytes (CPython always writes it there; the decoder checks this
 *     and marks the doc irregular when it is not so). A node keeps its
 *     PUT in the node.
 *   - A pk_node is built by "steps": its creation opcode (EMPTY_LIST,
 *     TUPLE2, REDUCE, ...) and the mutations that followed (APPENDS,
 *     SETITEMS, ADDITEMS, BUILD), each consuming a run of kids, in order.
 *     The steps are what lets the encoder reproduce batching exactly.
 *   - The same value reached twice (memo GET) is the same pk_val in two
 *     slots: identity is equality of the pk_val.
 *
 * Invariants:
 *   - kids[] of a node is the concatenation of the kids its steps consume,
 *     in step order; sum of steps[i].nkids == nkids.
 *   - A POP step (op PK_OP_POP, one kid) is a call CPython made for its
 *     effect and threw away: a state_setter(obj, state) or dill's
 *     _setattr(cell, ...), kept so the pickle still does it.
 *   - PK_DICT kids alternate key, value; so do the kids of SETITEM(S)
 *     steps on a PK_OBJECT.
 *   - pk_val bits are never 0 for a value (0 means "no value").
 *   - Decoding, encoding and freeing are iterative (explicit stacks): a
 *     pickle nested a million deep needs heap, not C stack.
 *   - Every length or count read from the input is checked against the
 *     bytes that remain before anything is sized by it.
 *   - Not thread-safe: one doc is used by one thread at a time (fs/ locks).
 *
 * joblib files (joblib.dump): the stream is a pickle in which each numpy
 * array is a joblib.numpy_pickle.NumpyArrayWrapper object (NEWOBJ + BUILD
 * of a state dict) followed, right after its BUILD, by the array's bytes,
 * which no opcode announces. The decoder reads them (joblib.c) into a
 * PK_RAW value (a pk_inline record, see below) and gives the wrapper one
 * more step, PK_STEP_INLINE, whose one kid is that value; the encoder
 * writes it back where it was (the frame before it committed, the padding
 * recomputed when the bytes moved). An object array's bytes are a nested
 * protocol 2 pickle: its own doc (pk_inline.sub), owned by the outer doc.
 *
 * Several pickles in one file (pickle.dump called again on the same
 * file): when the bytes after the first STOP are one or more complete
 * pickles up to the end, the doc holds them all. Its root is then a
 * synthetic PK_LIST node flagged PK_NODE_PARTS whose kid i is the top
 * value of pickle i; parts[i - 1] (i >= 1) is the doc of pickle i (its
 * protocol, framing, memo flags, end), owned by this doc, whose own
 * proto / framed / irregular / memo_mixed / end are pickle 0's. Each
 * pickle is encoded on its own (own header, memo and frames). The
 * "shared" table of this doc holds the GET-fetched scalars of all parts.
 */
#ifndef PK_PICKLE_H
#define PK_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

typedef struct pk_doc pk_doc;
typedef struct pk_node pk_node;

enum pk_kind {
	/* scalars: the slot points at opcode bytes */
	PK_NONE = 1,
	PK_BOOL,      /* NEWTRUE/NEWFALSE, or INT 00/01 in protocol 0 */
	PK_INT,	      /* INT, BININT*, LONG, LONG1, LONG4 */
	PK_FLOAT,     /* FLOAT, BINFLOAT */
	PK_STR,	      /* UNICODE, BINUNICODE*, SHORT_BINUNICODE */
	PK_STRING,    /* Python 2 str: STRING, BINSTRING, SHORT_BINSTRING */
	PK_BYTES,     /* BINBYTES, SHORT_BINBYTES, BINBYTES8 */
	PK_BYTEARRAY, /* BYTEARRAY8 */
	PK_GLOBAL,    /* GLOBAL (scalar) or STACK_GLOBAL (node: module, name) */
	PK_EXT,	      /* EXT1/2/4: a code in the copyreg extension registry */
	PK_PERSID,    /* PERSID (scalar) or BINPERSID (node: the id) */
	PK_BUFFER,    /* NEXT_BUFFER (scalar), READONLY_BUFFER (node) */
	/* containers: the slot points at a pk_node */
	PK_LIST,
	PK_TUPLE,
	PK_DICT,
	PK_SET,
	PK_FROZENSET,
	PK_OBJECT, /* REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ (+ BUILD, items) */
	/* scalar again: joblib's inline array bytes, the slot points at a
	 * pk_inline record (its first byte PK_INLINE_TAG, no opcode) */
	PK_RAW,
};

typedef struct pk_val {
	uintptr_t bits; /* opcode pointer, or node pointer | PK_VAL_NODE_BIT */
} pk_val;

/* Opcode pointers have any alignment, so the tag is the top bit, which
 * user-space pointers on the 64-bit platforms we build for never set. */
#define PK_VAL_NODE_BIT ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1))
_Static_assert(sizeof(uintptr_t) == 8, "picklefs needs a 64-bit platform");

typedef struct pk_step {
	uint8_t op;	/* the opcode that ends the step */
	uint8_t marked; /* a MARK precedes the step's kids */
	uint16_t pad;
	uint32_t nkids; /* kids the step consumes */
} pk_step;

struct pk_node {
	uint8_t kind;	   /* enum pk_kind */
	uint8_t put;	   /* PUT opcode that memoized it, or 0 */
	uint8_t flags;	   /* PK_NODE_* */
	uint8_t put_after; /* the PUT follows this step (a later one makes
			      the doc irregular) */
	uint32_t memo;	   /* memo index of that PUT (MEMOIZE: as counted) */
	uint32_t nkids;
	uint32_t nsteps;
	/* Free for the doc's user: the mount keeps its view record of the
	 * node here (valid while view_gen matches its view's generation),
	 * instead of a hash table of millions of nodes. */
	uint32_t view;
	uint32_t view_gen;
	/* Room for nkids when PK_NODE_KIDS_EXACT (as the decoder allocates
	 * them: a 2M-dict pickle pays for no slack), else for
	 * max(4, the next power of two >= nkids); none when NULL. */
	pk_val *kids;
	union {
		pk_step two[2]; /* nsteps <= 2: EMPTY_DICT + SETITEMS and
				   the like, most containers */
		pk_step *many;	/* nsteps >= 3; room for max(4, 2^k) */
	} step;
};
_Static_assert(sizeof(struct pk_node) == 48, "a node is 48 bytes");

enum {
	PK_NODE_SHARED = 1u << 0,     /* fetched by GET somewhere */
	PK_NODE_SHELL_BUSY = 1u << 1, /* encoder-private */
	PK_NODE_KIDS_EXACT = 1u << 2, /* see pk_node.kids */
	PK_NODE_PARTS = 1u << 3,      /* the synthetic root of a file of
					 several pickles (kids: their tops) */
};

/* Step opcodes that are not pickle opcodes. */
enum {
	/* The node's last step may be a SHELL: one kid, a REDUCE/NEWOBJ
	 * object with the same callable that CPython wrote first and threw
	 * away (POP) once writing its arguments had written this node
	 * (recursive __reduce__ whose arguments are new objects each call,
	 * e.g. a frozenset or a tuple subclass that contains itself). It is
	 * not part of the value; views skip it. */
	PK_STEP_SHELL = 0x00,
	/* A joblib NumpyArrayWrapper's last step: one kid, the PK_RAW value
	 * of the bytes that follow its BUILD in the stream. Views skip it. */
	PK_STEP_INLINE = 0x01,
};

/* The byte a PK_RAW slot points at (no pickle opcode has it). */
#define PK_INLINE_TAG 0xFF

/* joblib's inline array bytes (a PK_RAW value; in the doc's arena). */
typedef struct pk_inline {
	uint8_t tag;	 /* PK_INLINE_TAG */
	uint8_t padded;	 /* a padding-length byte precedes the data */
	uint8_t pad_len; /* padding bytes (0xFF) that followed it */
	uint8_t pad0;
	uint32_t align;	     /* numpy_array_alignment_bytes (16) */
	const uint8_t *at;   /* the input's first byte after the BUILD */
	const uint8_t *data; /* the array's bytes (input, or arena when
				edited); NULL for an object array */
	uint64_t len;
	pk_doc *sub; /* object arrays: the nested pickle (owned by the
			outer doc), else NULL */
} pk_inline;

static inline const pk_inline *pk_val_inline(pk_val v)
{
	return (const pk_inline *)v.bits;
}

static inline int pk_val_is_node(pk_val v)
{
	return (v.bits & PK_VAL_NODE_BIT) != 0;
}
/* Node pointers are 8-byte aligned, so a node value has room for one
 * more tag in bit 0: set when the node is a plain container (list,
 * tuple, dict, set, frozenset; its kind never changes), so a walker over
 * millions of kids tells containers from objects without reading each
 * node. */
#define PK_VAL_CONTAINER_BIT ((uintptr_t)1)
static inline pk_node *pk_val_node(pk_val v)
{
	return (pk_node *)(v.bits & ~(PK_VAL_NODE_BIT | PK_VAL_CONTAINER_BIT));
}
static inline int pk_val_is_container(pk_val v)
{
	return (v.bits & (PK_VAL_NODE_BIT | PK_VAL_CONTAINER_BIT)) ==
	       (PK_VAL_NODE_BIT | PK_VAL_CONTAINER_BIT);
}
/* Scalars: the opcode byte and its inline argument. */
static inline const uint8_t *pk_val_bytes(pk_val v)
{
	return (const uint8_t *)v.bits;
}
static inline pk_val pk_val_of_node(pk_node *n)
{
	pk_val v = {(uintptr_t)n | PK_VAL_NODE_BIT};

	/* n->kind must be set: the tag is part of the value's identity */
	if (n->kind >= PK_LIST && n->kind <= PK_FROZENSET)
		v.bits |= PK_VAL_CONTAINER_BIT;
	return v;
}
static inline pk_val pk_val_of_bytes(const uint8_t *op)
{
	pk_val v = {(uintptr_t)op};
	return v;
}
static inline int pk_val_same(pk_val a, pk_val b)
{
	return a.bits == b.bits;
}
/* The kind (enum pk_kind) of any value. */
int pk_val_kind(pk_val v);

/* The steps of a node (use this, not the union). */
static inline const pk_step *pk_node_steps(const pk_node *n)
{
	return n->nsteps > 2 ? n->step.many : n->step.two;
}

/* INST objects: kids[0] is a PK_GLOBAL value whose bytes are the INST
 * opcode (module and name lines follow it, as for GLOBAL); the class of
 * OBJ objects is kids[0] too. */

/* Bytes a pickle refers to but does not hold, which whoever loads it
 * supplies: a PyTorch checkpoint's storages (named by persistent id),
 * protocol 5's out-of-band buffers (NEXT_BUFFER: pickle.loads(...,
 * buffers=)). The doc's user may set pk_doc.external; the presentation
 * asks it for those bytes. The codec itself never calls it. Each
 * function (may be NULL) gives 0 and *data / *len (valid while the doc
 * lives), or an errno (ENOENT: none such). storage: by the persistent
 * id's key; buffer: by the NEXT_BUFFER value's opcode (op). */
typedef struct pk_external {
	int (*storage)(const struct pk_external *x, const uint8_t *key,
		       size_t keylen, const uint8_t **data, uint64_t *len);
	int (*buffer)(const struct pk_external *x, const uint8_t *op,
		      const uint8_t **data, uint64_t *len);
} pk_external;

struct pk_doc {
	const pk_external *external; /* set by the doc's user, or NULL */
	const uint8_t *data;	     /* the input (not owned) */
	size_t len;
	size_t end;	/* offset just past STOP */
	int proto;	/* PROTO argument, -1 when there is none */
	int op_proto;	/* highest protocol among the opcodes */
	int framed;	/* the input used FRAME */
	int irregular;	/* input did things CPython's pickler never does
			   (DUP, a second PUT of a value, ...): it still
			   encodes to an equal pickle, not an identical one */
	int memo_mixed; /* both MEMOIZE and explicit PUT indices */
	pk_val root;
	size_t shared_nodes; /* nodes fetched by GET or DUP: 0 means every
				node is reached exactly once (a tree) */
	struct pk_arena *arena;
	struct pk_idmap *shared; /* scalars fetched by GET (by their bits) */
	/* Several pickles: pickles 1.. (root is PK_NODE_PARTS), and the
	 * nested docs of joblib object arrays, all freed with this doc. */
	pk_doc **parts;
	uint32_t nparts;
	pk_doc **subs;
	uint32_t nsubs, subcap;
};

/* --- decoding ----------------------------------------------------------- */

enum {
	PK_DEC_STRICT_END = 1u << 0, /* refuse bytes after STOP */
	PK_DEC_ONE = 1u << 1,	     /* one pickle: bytes after STOP are
					never more pickles */
	PK_DEC_PLAIN = 1u << 2,	     /* no joblib inline arrays */
};

/* Decodes data[0..len) (a whole pickle, already decompressed). On success
 * *out is a new doc (free with pk_doc_free) and 0 is returned; on failure
 * the error code is returned, *e says what and where, *out is NULL. */
int pk_decode(const uint8_t *data, size_t len, unsigned flags, pk_doc **out,
	      pk_err *e);

/* Progress reporting for long decodes (called every few MB; a nonzero
 * return stops the decode with PK_E_IO "interrupted"). */
typedef int (*pk_decode_progress_fn)(void *ctx, uint64_t done, uint64_t total);
int pk_decode_ex(const uint8_t *data, size_t len, unsigned flags,
		 pk_decode_progress_fn progress, void *ctx, pk_doc **out,
		 pk_err *e);

/* Everything a decode can be asked; zeroed fields are the defaults. */
typedef struct pk_decode_opts {
	unsigned flags; /* PK_DEC_* */
	/* Bytes the tree may take while it is built (its arena and the
	 * unpickling stack); 0: no limit. A few MB of hostile opcodes can
	 * ask for GBs of nodes (an EMPTY_LIST is one byte, its node 40);
	 * past the limit the decode fails with PK_E_LIMIT at the opcode
	 * that asked. */
	uint64_t max_tree;
	pk_decode_progress_fn progress; /* may be NULL */
	void *ctx;
	/* Called after each opcode that names a global or makes a call
	 * (GLOBAL, STACK_GLOBAL, EXT1/2/4, INST, OBJ, REDUCE, NEWOBJ,
	 * NEWOBJ_EX, BUILD) has run, with the opcode's first byte and the
	 * value it left on top of the stack (the global; the new object;
	 * for BUILD, the object built), also for the pickles nested in
	 * joblib files: what a scanner needs to see exactly what a pickle
	 * would import and call, in order, up to where the input fails.
	 * A nonzero return stops the decode (PK_E_IO "interrupted"). May
	 * be NULL. */
	int (*trace)(void *ctx, const uint8_t *op, pk_val top);
	void *trace_ctx;
} pk_decode_opts;
int pk_decode_with(const uint8_t *data, size_t len, const pk_decode_opts *o,
		   pk_doc **out, pk_err *e);

void pk_doc_free(pk_doc *doc);

/* The doc's protocol, which new values are encoded for: the PROTO
 * number, or 1 / 0 for protocol 1 / 0 pickles (which have no PROTO). */
int pk_doc_protocol(const pk_doc *doc);

/* Bytes of memory the doc holds (its arena and tables), for caches. */
size_t pk_doc_bytes(const pk_doc *doc);

/* joblib NumpyArrayWrapper node n: its state dict slot, or NULL when n is
 * not one; the value of one of its keys ("shape", "dtype", "order"...),
 * or NULL. (joblib.c) */
const pk_val *pk_joblib_state(const pk_node *n);
const pk_val *pk_joblib_field(const pk_node *n, const char *key);

/* --- encoding ----------------------------------------------------------- */

/* Output sink: write n bytes, return 0 or -1 (errno set). */
typedef int (*pk_write_fn)(void *ctx, const void *data, size_t n);

int pk_encode(pk_doc *doc, pk_write_fn write, void *ctx, pk_err *e);
int pk_encode_to_buf(pk_doc *doc, pk_buf *out, pk_err *e);
int pk_encode_to_fd(pk_doc *doc, int fd, pk_err *e);

/* --- reading values ---------------------------------------------------- */

/* str / bytes / bytearray / Python 2 binary str: the payload bytes,
 * pointing into the input (zero-copy). 0 on success; PK_E_UNSUPPORTED for
 * text-form opcodes (UNICODE, STRING) whose payload must be decoded:
 * use pk_val_format for those. */
int pk_val_payload(pk_val v, const uint8_t **data, uint64_t *len);

/* Appends the value's text form without any trailing newline (doc may
 * be NULL: the text depends on the value alone):
 * int decimal, float repr, True/False/None, str as UTF-8, Python 2 str
 * and bytes raw, global as 'module.qualname' (module name\n qualname),
 * ext as its code, persid as its id text, joblib's inline array bytes raw
 * (an object array's: empty). Containers: PK_E_UNSUPPORTED. */
int pk_val_format(const pk_doc *doc, pk_val v, pk_buf *out, pk_err *e);

/* For int slots: the value if it fits in int64 (returns 0), else
 * PK_E_UNSUPPORTED (use pk_val_format for the decimal). */
int pk_val_int64(pk_val v, int64_t *out);
int pk_val_float(pk_val v, double *out);

/* Global: module and qualified name (pointers into the input or arena). */
int pk_val_global(pk_val v, const uint8_t **mod, size_t *modlen,
		  const uint8_t **name, size_t *namelen);

/* --- editing (used by the mount's write side) --------------------------- */

/* Replaces *slot with a new scalar of `kind` read from `text` (the text
 * form pk_val_format prints; for PK_BYTES/PK_BYTEARRAY the raw bytes),
 * encoded in the opcode CPython would use at doc's protocol. The new
 * value keeps the memo PUT of the scalar it replaces (so editing a value
 * and editing it back gives the original bytes), unless GETs fetch that
 * scalar elsewhere (they keep the old value); a slot whose bits are 0
 * (a new value) gets none. PK_E_VALUE if text is not a literal of the
 * kind; the slot is then unchanged. */
int pk_val_set_text(pk_doc *doc, pk_val *slot, int kind, const uint8_t *text,
		    size_t len, pk_err *e);

/* A new complex number, as CPython pickles one at doc's protocol:
 * REDUCE of builtins.complex (__builtin__ before protocol 3) with a
 * tuple of two floats. */
int pk_val_new_complex(pk_doc *doc, double re, double im, pk_val *out,
		       pk_err *e);
/* A new REDUCE of the global module.name with a tuple of nargs args,
 * as CPython's save_reduce writes it at doc's protocol (STACK_GLOBAL
 * from protocol 4, else GLOBAL; builtins spelled __builtin__ before
 * protocol 3; TUPLE1-3 from protocol 2). */
int pk_val_new_call(pk_doc *doc, const char *module, const char *name,
		    const pk_val *args, uint32_t nargs, pk_val *out, pk_err *e);
/* New bytes as CPython pickles them before protocol 3:
 * REDUCE of _codecs.encode with (the latin-1 str of the bytes,
 * 'latin1'). */
int pk_val_new_latin1_bytes(pk_doc *doc, const uint8_t *data, size_t n,
			    pk_val *out, pk_err *e);

/* Makes a new empty container slot (PK_LIST, PK_DICT, ...). */
int pk_val_new_container(pk_doc *doc, int kind, pk_val *out, pk_err *e);

/* Appends kids to a node, as one more batch step of `op` (APPEND, SETITEM,
 * ADDITEMS), merged into the last step when that is the same batch op. */
int pk_node_append(pk_doc *doc, pk_node *n, uint8_t op, const pk_val *kids,
		   uint32_t count, pk_err *e);
/* Removes kids [first, first+count) (must lie within one step; of the
 * creation step only when its kids follow a MARK, or of a short tuple's
 * TUPLE1-3, which then becomes the opcode of its new length). */
int pk_node_remove(pk_doc *doc, pk_node *n, uint32_t first, uint32_t count,
		   pk_err *e);

/* Index of the step that consumes kid `kid`, and the step's first kid. */
uint32_t pk_node_step_of(const pk_node *n, uint32_t kid, uint32_t *first);

#endif
