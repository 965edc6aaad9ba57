/*
 * mapping.h - read-only mappings of pickle bytes that survive the file
 * shrinking under them.
 *
 * What: a plain pickle is mapped, not copied, so that mounting a 1 GB
 * array pickle costs its opcodes, not its bytes. But another program may
 * truncate the file or rewrite it in place (`pickle.dump(obj, open(p,
 * 'wb'))`, `truncate -s 0`), and touching a page past the new end of a
 * mapped file raises SIGBUS, which would kill the daemon. So every
 * mapping of a file someone else can change is registered here, and a
 * SIGBUS handler, for an address inside a registered mapping, maps a page
 * of zeros over the vanished page and lets the access go on; the mapping
 * is marked torn. The daemon then notices the changed file (its size and
 * mtime) and reads it anew; reads of a torn mapping fail with EIO; a
 * write-back never lands what was encoded from such bytes, because the
 * file it would replace changed (source.h, compare-and-replace). A SIGBUS
 * anywhere else is a real crash: the previous action is restored and the
 * fault happens again under it.
 *
 * Ownership: a pf_map is refcounted; a slice holds its parent (open files keep
 * the bytes they serve alive after the tree is dropped); the last pf_map_unref
 * unregisters and unmaps it. Invariants: the registry is a fixed table read
 * lock-free by the handler; a mapping that does not fit in it is not made (the
 * caller copies the file instead: pf_map_file says so with ENOSPC).
 */
#ifndef PF_MAPPING_H
#define PF_MAPPING_H

#include <stddef.h>
#include <stdint.h>

typedef struct pf_map {
	int refs; /* atomic */
	int torn; /* atomic: a page vanished under it (SIGBUS caught) */
	const uint8_t *data;
	size_t len;
	void *addr; /* what to munmap (NULL for an empty map) */
	size_t maplen;
	int slot;	       /* registry slot + 1, 0 when not registered */
	struct pf_map *parent; /* a slice: the map it is a range of (held) */
} pf_map;

/* Maps len bytes of fd. guard: the file can change under us (the
 * original pickle, not a private cache file): register it with the
 * SIGBUS handler. NULL with errno set (ENOSPC: the registry is full). */
pf_map *pf_map_file(int fd, size_t len, int guard);
/* A map of bytes [off, off + len) of parent (which must hold them): an
 * archive member read in place. It holds a reference on parent, so the
 * member's bytes outlive the archive's tree; it is torn when parent is.
 * NULL with errno set. */
pf_map *pf_map_slice(pf_map *parent, uint64_t off, uint64_t len);
void pf_map_ref(pf_map *m);
void pf_map_unref(pf_map *m);
/* A page vanished under m since it was made. */
int pf_map_torn(const pf_map *m);

#endif
