/*
 * tree.h - building and reshaping pk_node step lists, and reading a
 * scalar's opcode bytes (codec-internal).
 *
 * What: the functions that append, extend and drop a node's steps and
 * kids, shared by the decoder (which builds nodes) and the edit functions
 * of pickle.h (which reshape them), so the kids/steps invariant of
 * pickle.h is kept in one spot. Two exceptions write a node's first
 * steps by hand, for speed, and keep the invariant themselves: the
 * decoder's make_node for a node with no kids, and its fast path, which
 * fills a new dict or list with one SETITEMS / APPENDS.
 * Also here: pk_scalar_op_len (where a scalar's bytes end, by the opcode
 * grammar of opcodes.h).
 * Ownership: everything is allocated from the doc's arena.
 * Invariant kept: sum of the steps' nkids == node->nkids, kids in step
 * order.
 */
#ifndef PK_TREE_H
#define PK_TREE_H

#include "arena.h"
#include "pickle.h"

/* Appends a step of `op` consuming kids[0..count) (copied). Returns 0 or
 * -1 when memory runs out (node unchanged). */
int pk_node_add_step(pk_arena *a, pk_node *n, uint8_t op, int marked,
		     const pk_val *kids, size_t count);

/* Appends kids[0..count) to the kids of the last step. */
int pk_node_extend_last(pk_arena *a, pk_node *n, const pk_val *kids,
			size_t count);

/* Removes step si (its kids must already be gone). */
void pk_node_drop_step(pk_node *n, uint32_t si);

/* Mutable view of the steps. */
static inline pk_step *pk_node_steps_mut(pk_node *n)
{
	return n->nsteps > 2 ? n->step.many : n->step.two;
}

/* Length of a scalar's opcode bytes (opcode + inline argument) at `op`,
 * which must have been validated (by the decoder or by the encoder of
 * edits). *payload receives the length of a counted payload (0 for
 * other forms) when payload is not NULL. */
size_t pk_scalar_op_len(const uint8_t *op, uint64_t *payload);
#endif
