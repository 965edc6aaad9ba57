#include "listing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int collect(void *ctx, const char *name, const struct stat *st,
		   uint64_t next)
{
	listing *l = ctx;

	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		entry *e = realloc(l->e, cap * sizeof(*e));
		if (!e) {
			l->err = ENOMEM;
			return 1;
		}
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n].name = strdup(name);
	if (!l->e[l->n].name) {
		l->err = ENOMEM;
		return 1;
	}
	l->e[l->n++].type = st ? st->st_mode & S_IFMT : 0;
	return 0;
}

void listing_free(listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

/* The entries of dir in readdir order (what `ls -f` shows, without . and
 * ..): 0 or errno. The whole directory is asked for from offset 0; when
 * readdir stops early (it should not: collect never says full) the rest
 * is asked for from where it stopped. */
int list_dir(pf_fs *fs, pf_inode *dir, listing *l)
{
	pf_dirh *d;
	int rc;

	memset(l, 0, sizeof(*l));
	rc = pf_fs_opendir(fs, dir, &d);
	if (rc)
		return rc;
	rc = pf_fs_readdir(fs, dir, d, 0, collect, l);
	pf_fs_releasedir(fs, d);
	if (!rc)
		rc = l->err;
	if (rc)
		listing_free(l);
	return rc;
}
