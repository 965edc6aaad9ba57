/*
 * cache.h - bounds the memory of parsed pickles (-o cache_size).
 *
 * What: an LRU list of the pickles whose tree is in memory. When the
 * total goes over the limit, the least recently used trees that are not
 * in use are dropped (their pickle is parsed again on next access; the
 * mapping of the file and any decompressed cache file stay).
 * Ownership: items are embedded in their owners (pf_source); the cache
 * only links them. try_drop is the owner's: it must not block (trylock),
 * must not call back into the cache (its lock is held), and returns 1
 * when it released the memory (the cache then unlinks the item).
 * Invariants: the most recently used item is never dropped (a tree
 * larger than the whole cache still stays while it is the one in use);
 * all list state is guarded by one mutex, taken after any source lock,
 * never before one (try_drop uses trylock).
 */
#ifndef PF_CACHE_H
#define PF_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pf_cache_item {
	struct pf_cache_item *prev, *next;
	size_t mem;
	int linked;
	int (*try_drop)(struct pf_cache_item *it);
} pf_cache_item;

/* 0 means no limit. */
void pf_cache_set_limit(uint64_t bytes);
/* The limit, and the bytes the registered items hold now (what a trim
 * brings under the limit; tests check drops with it). */
uint64_t pf_cache_limit(void);
uint64_t pf_cache_total(void);

/* The item was used and holds mem bytes: move it to the front. */
void pf_cache_update(pf_cache_item *it, size_t mem);
/* The item released its memory (called by the owner, its lock held). */
void pf_cache_remove(pf_cache_item *it);
/* Drops least recently used items until the total fits. Call without
 * holding any source lock. */
void pf_cache_trim(void);

/* The most one pickle's tree may take while it is parsed (-o max_tree,
 * pickletool --max-tree): a few MB of hostile opcodes can ask for GBs of
 * nodes, and past this the parse fails (pk_decode_opts.max_tree). 0 (the
 * default): half the machine's memory. `how` says how a user changes it,
 * for messages ("-o max_tree=SIZE"); borrowed for the process's life.
 * Set once at start-up, before any thread. */
void pf_cache_set_tree_max(uint64_t bytes, const char *how);
uint64_t pf_cache_tree_max(void);
/* "12 GiB (-o max_tree=SIZE)": the bound in force, for a message. */
void pf_cache_tree_max_text(char *buf, size_t n);

/* Parses "512M", "2G", "100k", "1048576" into bytes. -1 when invalid. */
int pf_parse_size(const char *s, uint64_t *out);

#endif
