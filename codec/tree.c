#include "tree.h"

#include <string.h>

static size_t pow2_at_least(size_t n)
{
	size_t r = 4;

	while (r < n)
		r *= 2;
	return r;
}

/* The room of n's kids array (see pk_node.kids). */
static size_t kids_room(const pk_node *n)
{
	if (!n->kids)
		return 0;
	if (n->flags & PK_NODE_KIDS_EXACT)
		return n->nkids;
	return pow2_at_least(n->nkids);
}

static int grow_kids(pk_arena *a, pk_node *n, size_t need)
{
	size_t cap;
	pk_val *nk;

	if (need <= kids_room(n))
		return 0;
	if (need > UINT32_MAX)
		return -1;
	/* First allocation is exact: most containers get all their items in
	 * one batch, and a 2M-dict pickle should not pay for slack. */
	cap = n->kids ? pow2_at_least(need) : need;
	nk = pk_arena_grow(a, n->kids, n->nkids * sizeof(*nk),
			   cap * sizeof(*nk));
	if (!nk)
		return -1;
	if (n->kids)
		n->flags &= (uint8_t)~PK_NODE_KIDS_EXACT;
	else
		n->flags |= PK_NODE_KIDS_EXACT;
	n->kids = nk;
	return 0;
}

/* Step arrays have no stored capacity: a "many" array always has room
 * for max(4, the next power of two >= nsteps). */
static size_t steps_room(uint32_t nsteps)
{
	size_t r = 4;

	while (r < nsteps)
		r *= 2;
	return r;
}

/* Makes room for one more step. */
static int grow_steps(pk_arena *a, pk_node *n)
{
	pk_step *ns;
	size_t cap;

	if (n->nsteps < 2)
		return 0; /* the inline pair has room */
	if (n->nsteps > 2 && n->nsteps < steps_room(n->nsteps))
		return 0;
	cap = n->nsteps == 2 ? 4 : steps_room(n->nsteps) * 2;
	if (cap > UINT32_MAX)
		return -1;
	ns = pk_arena_alloc(a, cap * sizeof(*ns));
	if (!ns)
		return -1;
	memcpy(ns, pk_node_steps(n), n->nsteps * sizeof(*ns));
	n->step.many = ns;
	return 0;
}

int pk_node_extend_last(pk_arena *a, pk_node *n, const pk_val *kids,
			size_t count)
{
	if (!n->nsteps || count > UINT32_MAX - n->nkids)
		return -1;
	if (count && grow_kids(a, n, n->nkids + count) < 0)
		return -1;
	if (count)
		memcpy(n->kids + n->nkids, kids, count * sizeof(*kids));
	n->nkids += (uint32_t)count;
	pk_node_steps_mut(n)[n->nsteps - 1].nkids += (uint32_t)count;
	return 0;
}

int pk_node_add_step(pk_arena *a, pk_node *n, uint8_t op, int marked,
		     const pk_val *kids, size_t count)
{
	pk_step *s;

	if (count > UINT32_MAX - n->nkids)
		return -1;
	if (count && grow_kids(a, n, n->nkids + count) < 0)
		return -1;
	if (grow_steps(a, n) < 0)
		return -1;
	if (count)
		memcpy(n->kids + n->nkids, kids, count * sizeof(*kids));
	/* (kids may be NULL when count is 0) */
	n->nkids += (uint32_t)count;
	n->nsteps++;
	s = pk_node_steps_mut(n) + n->nsteps - 1;
	s->op = op;
	s->marked = (uint8_t)(marked != 0);
	s->pad = 0;
	s->nkids = (uint32_t)count;
	return 0;
}

void pk_node_drop_step(pk_node *n, uint32_t si)
{
	pk_step *s = pk_node_steps_mut(n);

	memmove(s + si, s + si + 1, (n->nsteps - si - 1) * sizeof(*s));
	if (n->nsteps == 3) {
		pk_step keep0 = s[0], keep1 = s[1];
		n->step.two[0] = keep0; /* back to the inline form */
		n->step.two[1] = keep1;
	}
	n->nsteps--;
	if (n->put && n->put_after >= si && n->put_after > 0)
		n->put_after--;
}
