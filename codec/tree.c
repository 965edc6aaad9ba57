#include "tree.h"

#include <string.h>

static int grow_kids(pk_arena *a, pk_node *n, size_t need)
{
	size_t cap;
	pk_val *nk;

	if (need <= n->kids_cap)
		return 0;
	if (need > UINT32_MAX)
		return -1;
	/* First allocation is exact: most containers get all their items in
	 * one batch, and a 2M-dict pickle should not pay for slack. */
	cap = n->kids_cap ? (size_t)n->kids_cap * 2 : need;
	if (cap < need)
		cap = need;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	nk = pk_arena_alloc(a, cap * sizeof(*nk));
	if (!nk)
		return -1;
	if (n->nkids)
		memcpy(nk, n->kids, n->nkids * sizeof(*nk));
	n->kids = nk;
	n->kids_cap = (uint32_t)cap;
	return 0;
}

static int grow_steps(pk_arena *a, pk_node *n)
{
	size_t cap;
	pk_step *ns;

	if (n->steps_cap == 0 && n->nsteps == 0)
		return 0; /* the inline step is free */
	if (n->steps_cap && n->nsteps < n->steps_cap)
		return 0;
	cap = n->steps_cap ? (size_t)n->steps_cap * 2 : 4;
	if (cap > UINT32_MAX)
		return -1;
	ns = pk_arena_alloc(a, cap * sizeof(*ns));
	if (!ns)
		return -1;
	memcpy(ns, pk_node_steps(n), n->nsteps * sizeof(*ns));
	n->step.many = ns;
	n->steps_cap = (uint32_t)cap;
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
	n->nkids += (uint32_t)count;
	s = pk_node_steps_mut(n) + n->nsteps++;
	s->op = op;
	s->marked = (uint8_t)(marked != 0);
	s->pad = 0;
	s->nkids = (uint32_t)count;
	return 0;
}
