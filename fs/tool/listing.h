/*
 * listing.h - the entries of a directory of the mount, read through
 * vfs.h (no FUSE): what pickletool's ls, find and scan walk.
 *
 * What: list_dir opens the directory, reads it whole from offset 0 and
 * keeps each entry's name and type, in readdir order (what `ls -f`
 * shows, without . and ..).
 * Ownership: a listing owns its names; listing_free frees them.
 */
#ifndef PT_LISTING_H
#define PT_LISTING_H

#include <stddef.h>
#include <sys/stat.h>

#include "vfs.h"

typedef struct entry {
	char *name;
	mode_t type; /* S_IFMT bits, 0 when readdir did not say */
} entry;

typedef struct listing {
	entry *e;
	size_t n, cap;
	int err;
} listing;

/* The entries of dir: 0 or errno (then l is empty). */
int list_dir(pf_fs *fs, pf_inode *dir, listing *l);
void listing_free(listing *l);

#endif
