/*
 * node.c - what an inode inside a pickle stands for now: entry ids turned
 * into positions (through a directory's entries table once it was
 * edited), the chain of ancestors resolved in the current tree, the
 * attributes and lookups of values. The one place that turns ids and
 * names into positions.
 */
#include "vfs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress.h"
#include "content.h"
#include "docview.h"
#include "edit.h"
#include "log.h"
#include "entries.h"
#include "names.h"
#include "pickle_file.h"
#include "repr.h"
#include "form.h"

/* ---- inside a pickle --------------------------------------------------- */

/* ---- entry ids ---------------------------------------------------------
 * A VALUE inode names its entry by id (inode.h): the position in the
 * parent's layout until the parent is first edited, then whatever the
 * parent's entries table says. These helpers are the one place that
 * turns ids and names into positions. Source lock held, dir resolved. */

/* The entries table of dir, when it has one for the file as it is now
 * (a table from before the file changed on disk is dropped: names are
 * 0..n-1 again after that). */
pf_entries *vfs_dir_ents(pf_inode *dir)
{
	if (dir->ents && dir->ents_epoch != dir->src->epoch) {
		pf_entries *t = dir->ents;
		__atomic_store_n(&dir->ents, NULL, __ATOMIC_RELEASE);
		pf_entries_free(t);
	}
	return dir->ents;
}

/* Position of the entry with id `id` in dir. 0 or ENOENT. */
int vfs_entry_pos(pf_inode *dir, uint64_t id, uint64_t *pos)
{
	pf_entries *t = vfs_dir_ents(dir);
	int64_t r;

	if (!t) {
		*pos = id;
		return 0;
	}
	r = pf_entries_find_id(t, id);
	if (r < 0)
		return ENOENT;
	*pos = (uint64_t)r;
	return 0;
}

/* Position and id of the entry called name in dir. 0 or ENOENT. */
int vfs_entry_find(pf_inode *dir, const char *name, uint64_t *pos, uint64_t *id)
{
	pf_entries *t = vfs_dir_ents(dir);
	int64_t r;
	int rc;

	if (!t) {
		rc = pf_docview_lookup(dir->src->dv, dir->ref, name,
				       strlen(name), pos);
		*id = *pos;
		return rc;
	}
	r = pf_entries_find_name(t, name, strlen(name));
	if (r < 0)
		return ENOENT;
	*pos = (uint64_t)r;
	*id = t->rows[r].id;
	return 0;
}

/* Name and id of the entry at position pos of dir. */
int vfs_entry_at(pf_inode *dir, uint64_t pos, pk_buf *name, uint64_t *id)
{
	pf_entries *t = vfs_dir_ents(dir);
	const char *s;
	size_t len;

	if (!t) {
		*id = pos;
		return pf_docview_name(dir->src->dv, dir->ref, pos, name);
	}
	if (pos >= t->n)
		return ENOENT;
	*id = t->rows[pos].id;
	s = pf_entries_name(t, pos, &len);
	return pk_buf_add(name, s, len) ? ENOMEM : 0;
}

/* Gives dir an entries table before its first structural edit: the
 * names it shows now are the names it keeps. */
int vfs_ents_ensure(pf_inode *dir)
{
	pf_entries *t;
	int rc;

	if (vfs_dir_ents(dir))
		return 0;
	if ((rc = pf_entries_new(dir->src->dv, dir->ref, &t)))
		return rc;
	dir->ents_epoch = dir->src->epoch;
	__atomic_store_n(&dir->ents, t, __ATOMIC_RELEASE);
	return 0;
}

/* Target of a symlink entry (a shared container's later occurrence). */
int vfs_value_link(pf_inode *in, pk_buf *out)
{
	uint64_t pos;
	int rc = vfs_entry_pos(in->parent, in->index, &pos);

	return rc ? rc
		  : pf_docview_link(in->src->dv, in->parent->ref, pos, out);
}

/* Makes in->ref / in->look valid for the current tree, resolving the
 * ancestors whose cache is older first (iteratively: a pickle may be
 * nested far deeper than the C stack). Source lock held, tree loaded.
 * ESTALE when the entry is gone (removed, or the file changed). */
int vfs_resolve(pf_inode *in)
{
	pf_source *s = in->src;
	pf_inode **chain = NULL, *p;
	size_t n = 0, cap = 0, k;
	int rc = 0;

	if (in->gen == s->gen)
		return 0;
	for (p = in; p->kind == PF_I_VALUE && p->gen != s->gen; p = p->parent) {
		if (pk_vec_grow((void **)&chain, &cap, n + 1, sizeof(*chain))) {
			free(chain);
			return ENOMEM;
		}
		chain[n++] = p;
	}
	if (p->kind == PF_I_PICKLE && p->gen != s->gen) {
		p->ref = pf_docview_root(s->dv);
		p->look = PF_LOOK_DIR;
		p->gen = s->gen;
	}
	for (k = n; k-- > 0;) {
		pf_inode *c = chain[k];
		pf_child ch;
		uint64_t pos;
		if (c->ghost) {
			if (c->ghost_serial != s->serial) {
				rc = ESTALE;
				break;
			}
			c->ref.val = &c->ghost_val;
			c->ref.part = PF_PART_SELF;
			c->look = PF_LOOK_DIR;
			c->gen = s->gen;
			continue;
		}
		if (c->parent->look != PF_LOOK_DIR ||
		    vfs_entry_pos(c->parent, c->index, &pos) ||
		    pf_docview_child(s->dv, c->parent->ref, pos, &ch)) {
			/* removed, or the pickle changed on disk */
			rc = ESTALE;
			break;
		}
		c->ref = ch.e.target;
		c->look = ch.look;
		c->gen = s->gen;
	}
	free(chain);
	return rc;
}

/* Enters the inode's pickle and resolves it. 0: source locked. */
int vfs_enter(pf_inode *in)
{
	int rc = pf_source_enter(in->src);

	if (rc)
		return rc;
	rc = vfs_resolve(in);
	if (rc)
		pf_source_leave(in->src);
	return rc;
}

static void base_attr(const pf_source *s, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_uid = s->st.st_uid;
	st->st_gid = s->st.st_gid;
	st->st_atim = s->st.st_atim;
	st->st_mtim = s->st.st_mtim;
	st->st_ctim = s->st.st_ctim;
	st->st_dev = s->st.st_dev;
	st->st_blksize = 4096;
}

static mode_t dir_perms(const pf_source *s)
{
	mode_t r = s->st.st_mode & (pf_source_writable(s) ? 0666 : 0444);

	return r | ((r & 0444) >> 2);
}

/* Attributes of a resolved entry (source lock held). */
int vfs_value_attr(pf_source *s, pf_inode *in, struct stat *st)
{
	uint64_t n;
	int rc;

	base_attr(s, st);
	st->st_ino = in->ino;
	switch (in->look) {
	case PF_LOOK_DIR:
		st->st_mode = S_IFDIR | dir_perms(s);
		if ((rc = pf_docview_count(s->dv, in->ref, &n)))
			return rc;
		st->st_size = (off_t)n;
		if ((rc = pf_docview_nsubdirs(s->dv, in->ref, &n)))
			return rc;
		st->st_nlink = (nlink_t)(2 + n);
		return 0;
	case PF_LOOK_LINK: {
		pk_buf b = PK_BUF_INIT;
		rc = vfs_value_link(in, &b);
		st->st_mode = S_IFLNK | 0777;
		st->st_size = (off_t)b.len;
		st->st_nlink = 1;
		pk_buf_release(&b);
		return rc;
	}
	default: {
		pf_content c;
		rc = pf_docview_content(s->dv, in->ref, PF_CONTENT_SIZE_ONLY,
					&c, NULL);
		st->st_mode =
		    S_IFREG | (s->st.st_mode &
			       (pf_source_writable(s) &&
					!pf_docview_readonly(s->dv, in->ref)
				    ? 0666
				    : 0444));
		st->st_size = (off_t)pf_content_size(&c);
		st->st_blocks = (st->st_size + 511) / 512;
		st->st_nlink = 1;
		pf_content_release(&c);
		return rc;
	}
	}
}

/* Attributes of a pickle's top directory. Not parsed yet: no parse just
 * for `ls -l` (size 0, nlink 1 = "subdirectories unknown"). */
int vfs_pickle_attr(pf_inode *in, struct stat *st)
{
	pf_source *s = in->src;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (s->dv && s->state == PF_SRC_PICKLE) {
		pthread_mutex_unlock(&s->lock);
		if ((rc = vfs_enter(in)))
			return rc;
		rc = vfs_value_attr(s, in, st);
		pf_source_leave(s);
		return rc;
	}
	base_attr(s, st);
	st->st_ino = in->ino;
	st->st_mode = S_IFDIR | dir_perms(s);
	st->st_nlink = 1;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The ghost called name in dir (vfs.c, remove_whole), or NULL. */
static pf_inode *ghost_find(pf_fs *fs, pf_inode *dir, const char *name)
{
	struct pf_ghost *g;
	pf_inode *in = NULL;

	pthread_mutex_lock(&fs->xlock);
	for (g = fs->ghosts; g && !in; g = g->next)
		if (g->parent == dir && strcmp(g->name, name) == 0)
			in = g->in;
	pthread_mutex_unlock(&fs->xlock);
	return in;
}

int vfs_value_lookup(pf_fs *fs, pf_inode *dir, const char *name, pf_inode **out,
		     struct stat *st)
{
	pf_source *s = dir->src;
	pf_inode *child;
	pf_child ch;
	uint64_t pos, id;
	int rc = vfs_enter(dir);

	if (rc)
		return rc;
	if (dir->look != PF_LOOK_DIR) {
		rc = ENOTDIR;
		goto out;
	}
	rc = vfs_entry_find(dir, name, &pos, &id);
	if (rc == ENOENT && (child = ghost_find(fs, dir, name))) {
		/* a value removed whole that rm -r is still emptying */
		pf_inode *g = pf_itable_get(fs->itab, dir, PF_I_VALUE, NULL,
					    child->index, s, child->ino);
		rc = g ? vfs_resolve(g) : ENOMEM;
		if (!rc)
			rc = vfs_value_attr(s, g, st);
		if (rc && g)
			pf_itable_forget(fs->itab, g, 1);
		if (!rc)
			*out = g;
		goto out;
	}
	if (rc || (rc = pf_docview_child(s->dv, dir->ref, pos, &ch)))
		goto out;
	child = pf_itable_get(fs->itab, dir, PF_I_VALUE, NULL, id, s,
			      pf_value_ino(dir->ino, id));
	if (!child) {
		rc = ENOMEM;
		goto out;
	}
	child->ref = ch.e.target;
	child->look = ch.look;
	child->gen = s->gen;
	rc = vfs_value_attr(s, child, st);
	if (rc) {
		pf_itable_forget(fs->itab, child, 1);
		goto out;
	}
	*out = child;
out:
	pf_source_leave(s);
	return rc;
}

/* Whether in is (inside) a value removed whole. */
int vfs_in_ghost(const pf_inode *in)
{
	for (; in && in->kind == PF_I_VALUE; in = in->parent)
		if (in->ghost)
			return 1;
	return 0;
}
