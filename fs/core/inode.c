#include "inode.h"

#include "entries.h"

#include <stdlib.h>
#include <string.h>

struct pf_itable {
	pthread_mutex_t lock;
	pf_inode **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	pf_inode *root;
};

uint64_t pf_value_ino(uint64_t dir, uint64_t index)
{
	/* splitmix64 of the directory: numbers are stable across forget and
	 * re-lookup. The low 24 bits are the entry id, so that inode numbers
	 * grow in listing order (cp -a and other tools that read a directory
	 * sorted by inode number keep key order); two directories share
	 * numbers only if 40 bits of their hashes do (one pair in 2^40), and
	 * a directory of more than 16M entries numbers the rest by hash. */
	uint64_t z = dir * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	if (index < (1u << 24) - 2)
		return (z & ~(uint64_t)0xffffff) | (index + 2);
	z ^= index * 0xc2b2ae3d27d4eb4full;
	z ^= z >> 29;
	return z < 2 ? z + 2 : z;
}

static size_t hash_of(const pf_inode *parent, int kind, const char *name,
		      uint64_t index)
{
	uint64_t h = (uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull;

	if (kind == PF_I_VALUE) {
		h ^= index * 0xc2b2ae3d27d4eb4full;
	} else {
		for (; *name; name++)
			h = (h ^ (uint8_t)*name) * 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29));
}

static pf_inode *new_inode(int kind, const char *name, const char *path,
			   uint64_t index, pf_source *src, uint64_t ino)
{
	pf_inode *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->kind = kind;
	in->index = index;
	in->src = src;
	in->ino = ino;
	if ((name && !(in->name = strdup(name))) ||
	    (path && !(in->path = strdup(path)))) {
		free(in->name);
		free(in);
		return NULL;
	}
	return in;
}

static void free_inode(pf_inode *in)
{
	pf_entries_free(in->ents);
	free(in->name);
	free(in->path);
	free(in);
}

pf_itable *pf_itable_new(int root_kind, const char *root_path,
			 pf_source *root_src, uint64_t root_ino)
{
	pf_itable *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->root = new_inode(root_kind, "", root_path, 0, root_src, root_ino);
	if (!t->buckets || !t->root) {
		free(t->buckets);
		free(t->root);
		free(t);
		return NULL;
	}
	t->root->nlookup = 1; /* the root is never forgotten */
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void pf_itable_free(pf_itable *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		pf_inode *in = t->buckets[i], *next;
		for (; in; in = next) {
			next = in->hnext;
			free_inode(in);
		}
	}
	free(t->buckets);
	free_inode(t->root);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

pf_inode *pf_itable_root(pf_itable *t)
{
	return t->root;
}

static void grow(pf_itable *t)
{
	size_t ncap = t->nbuckets * 2, i;
	pf_inode **nb = calloc(ncap, sizeof(*nb));

	if (!nb)
		return; /* keep the longer chains */
	for (i = 0; i < t->nbuckets; i++) {
		pf_inode *in = t->buckets[i], *next;
		for (; in; in = next) {
			size_t h =
			    hash_of(in->parent, in->kind, in->name, in->index) &
			    (ncap - 1);
			next = in->hnext;
			in->hnext = nb[h];
			nb[h] = in;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = ncap;
}

static pf_inode *find_locked(pf_itable *t, pf_inode *parent, int kind,
			     const char *name, uint64_t index, int any_kind)
{
	size_t h = hash_of(parent, kind, name, index) & (t->nbuckets - 1);
	pf_inode *in;

	for (in = t->buckets[h]; in; in = in->hnext) {
		if (in->parent != parent || in->detached)
			continue;
		if (kind == PF_I_VALUE
			? in->index == index && in->kind == PF_I_VALUE
			: in->kind != PF_I_VALUE &&
			      strcmp(in->name, name) == 0) {
			if (any_kind || in->kind == kind)
				return in;
		}
	}
	return NULL;
}

static void unhash(pf_itable *t, pf_inode *in)
{
	size_t h = hash_of(in->parent, in->kind, in->name, in->index) &
		   (t->nbuckets - 1);
	pf_inode **pp;

	for (pp = &t->buckets[h]; *pp; pp = &(*pp)->hnext)
		if (*pp == in) {
			*pp = in->hnext;
			in->hnext = NULL;
			return;
		}
}

pf_inode *pf_itable_peek(pf_itable *t, pf_inode *parent, int kind,
			 const char *name, uint64_t index)
{
	pf_inode *in;

	pthread_mutex_lock(&t->lock);
	in = find_locked(t, parent, kind, name, index, 0);
	pthread_mutex_unlock(&t->lock);
	return in;
}

pf_inode *pf_itable_get(pf_itable *t, pf_inode *parent, int kind,
			const char *name, uint64_t index, pf_source *src,
			uint64_t ino)
{
	pf_inode *in, *old;
	char *path = NULL;
	size_t h;

	if (kind != PF_I_VALUE && parent->kind == PF_I_ARCHIVE) {
		/* an archive's members are named from its top */
		if (!(path = strdup(name)))
			return NULL;
	} else if (kind != PF_I_VALUE && parent->path) {
		size_t pl = strlen(parent->path), nl = strlen(name);
		path = malloc(pl + nl + 2);
		if (!path)
			return NULL;
		if (strcmp(parent->path, ".") == 0) {
			memcpy(path, name, nl + 1);
		} else {
			memcpy(path, parent->path, pl);
			path[pl] = '/';
			memcpy(path + pl + 1, name, nl + 1);
		}
	}
	pthread_mutex_lock(&t->lock);
	old = find_locked(t, parent, kind, name, index, 1);
	/* a pickle keeps its node when its file is replaced (our own
	 * write-backs rename a new file over it) */
	if (old && old->kind == kind && old->src == src &&
	    (kind == PF_I_VALUE || kind == PF_I_PICKLE || old->ino == ino)) {
		old->nlookup++;
		pthread_mutex_unlock(&t->lock);
		free(path);
		return old;
	}
	in = new_inode(kind, kind == PF_I_VALUE ? NULL : name, path, index, src,
		       ino);
	free(path);
	if (!in) {
		pthread_mutex_unlock(&t->lock);
		return NULL;
	}
	if (old) {
		/* the file changed kind (a pickle became a plain file ...):
		 * the old node lives on until the kernel forgets it */
		old->detached = 1;
	}
	in->parent = parent;
	in->nlookup = 1;
	parent->children++;
	if (t->count + 1 > t->nbuckets)
		grow(t);
	h = hash_of(parent, kind, name, index) & (t->nbuckets - 1);
	in->hnext = t->buckets[h];
	t->buckets[h] = in;
	t->count++;
	pthread_mutex_unlock(&t->lock);
	return in;
}

void pf_itable_forget(pf_itable *t, pf_inode *in, uint64_t n)
{
	pthread_mutex_lock(&t->lock);
	in->nlookup = in->nlookup > n ? in->nlookup - n : 0;
	/* free it and every parent it kept alive, bottom up */
	while (in != t->root && in->nlookup == 0 && in->children == 0 &&
	       !__atomic_load_n(&in->ents, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&in->ghost, __ATOMIC_ACQUIRE)) {
		pf_inode *parent = in->parent;
		unhash(t, in);
		t->count--;
		free_inode(in);
		parent->children--;
		in = parent;
	}
	pthread_mutex_unlock(&t->lock);
}

uint64_t pf_itable_count(pf_itable *t)
{
	uint64_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
