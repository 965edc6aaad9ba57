/*
 * change.c - the edits themselves, under the pickle's lock: a value set
 * from text, an entry added, removed (a part that cannot go alone takes
 * its whole value, which stays listable as a ghost until rm -r has
 * emptied it), moved or copied to a scratch file. Each is checked whole
 * before the doc changes, committed, and its directory's entries table
 * follows.
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
#include "errmap.h"
#include "names.h"
#include "pickle_file.h"
#include "repr.h"
#include "form.h"

/* Starts an edit of the pickle `in` belongs to: its lock held, the file
 * on disk looked at, `in` resolved in the current tree. */
int vfs_edit_begin(pf_fs *fs, pf_inode *in)
{
	int rc;

	if (vfs_read_only(fs, in))
		return EROFS;
	if (in->kind != PF_I_PICKLE && in->kind != PF_I_VALUE)
		return EROFS; /* the folder's own files and directories */
	if (vfs_in_ghost(in))
		return ENOENT; /* a value removed whole: nothing to edit */
	rc = pf_source_enter_edit(in->src);
	if (rc)
		return rc;
	rc = vfs_resolve(in);
	if (rc)
		pf_source_leave(in->src);
	return rc;
}

/* Brings dir's entries table along after a committed change. */
static int ents_follow(pf_inode *dir, const struct dir_change *dc)
{
	pf_entries *t = vfs_dir_ents(dir);
	pf_child ch;
	uint64_t n, i, id;

	if (!t)
		return 0; /* no structural change */
	if (dc->removed >= 0)
		pf_entries_remove(t, (size_t)dc->removed);
	if (dc->renamed >= 0)
		return pf_entries_rename(t, (size_t)dc->renamed, dc->name);
	if (!dc->made)
		return 0;
	/* the new entry is at the end of its run: look from the end */
	if (pf_docview_count(dir->src->dv, dir->ref, &n))
		return ENOMEM;
	for (i = n; i-- > 0;)
		if (pf_docview_child(dir->src->dv, dir->ref, i, &ch) == 0 &&
		    ch.e.target.val == dc->made &&
		    ch.e.target.part == PF_PART_SELF)
			return pf_entries_insert(t, (size_t)i, dc->name, &id);
	return EIO;
}

/* Ends an edit of the entries of dir (or of the value `in`, dc NULL):
 * commits what changed, makes the entries table follow, unlocks. */
int vfs_edit_end(pf_fs *fs, pf_inode *in, int rc, const struct dir_change *dc)
{
	if (!rc && (!dc || dc->changed))
		rc = pf_source_commit(in->src, fs->writeback);
	if (!rc && dc && dc->changed && ents_follow(in, dc)) {
		/* out of memory: the names go back to what the view says
		 * rather than name the wrong entries */
		pf_entries_free(in->ents);
		__atomic_store_n(&in->ents, NULL, __ATOMIC_RELEASE);
	}
	pf_source_leave(in->src);
	return rc;
}

/* The entry `name` of a resolved directory inode: its position and what
 * it is. */
int vfs_find_entry(pf_inode *dir, const char *name, uint64_t *pos, pf_child *ch)
{
	uint64_t id;
	int rc;

	if (dir->look != PF_LOOK_DIR)
		return ENOTDIR;
	rc = vfs_entry_find(dir, name, pos, &id);
	if (!rc)
		rc = pf_docview_child(dir->src->dv, dir->ref, *pos, ch);
	return rc;
}

/* A list's new entries are named by their index. */
static int dir_is_list(const pf_inode *dir)
{
	return dir->ref.part == PF_PART_SELF && pf_is_node(dir->ref.val) &&
	       pf_kind(dir->ref.val) == PK_LIST;
}

/* Whether `name` may become a new entry of dir: in a list, only one more
 * than the highest name shown appends (the names of removed items are
 * not given again while mounted; none in the top directory of a file of
 * several pickles). 0, EINVAL or EPERM. */
int vfs_new_name_ok(pf_inode *dir, const char *name, pk_err *why)
{
	pf_entries *t;
	uint64_t want, i;

	if (!dir_is_list(dir))
		return 0;
	if (pf_node(dir->ref.val)->flags & PK_NODE_PARTS) {
		/* a file of several pickles keeps its number of pickles */
		pk_err_set(why, PK_E_REFUSED,
			   "a file of several pickles keeps its number of "
			   "pickles",
			   0);
		return EPERM;
	}
	t = vfs_dir_ents(dir);
	if (t)
		want = pf_entries_next_index(t);
	else if (pf_docview_count(dir->src->dv, dir->ref, &want))
		return ENOMEM;
	if (pf_index_parse(name, strlen(name), &i) || i != want)
		return EINVAL;
	return 0;
}

/* Makes `name` in dir: a new entry holding text (or an empty dict), or,
 * when it exists and set_existing, that entry's new value. */
static int add_entry_once(pf_fs *fs, pf_inode *dir, const char *name,
			  int dir_value, const pk_buf *text, const char *type,
			  int set_existing, pk_err *why)
{
	struct dir_change dc = DIR_CHANGE_NONE;
	pf_child ch;
	uint64_t pos;
	int rc = vfs_edit_begin(fs, dir);

	if (rc)
		return rc;
	rc = vfs_find_entry(dir, name, &pos, &ch);
	if (rc == 0) {
		if (!set_existing)
			rc = EEXIST;
		else if (ch.look != PF_LOOK_FILE)
			rc = EISDIR;
		else
			rc = pf_edit_set(dir->src->doc, ch.e.target, text->data,
					 text->len, why);
		dc.changed = 1;
	} else if (rc == ENOENT && !(rc = vfs_new_name_ok(dir, name, why)) &&
		   !(rc = vfs_ents_ensure(dir))) {
		rc = pf_edit_add(dir->src->doc, dir->ref,
				 dir_is_list(dir) ? NULL : name, dir_value,
				 text ? text->data : NULL, text ? text->len : 0,
				 type, &dc.made, why);
		dc.changed = 1;
		dc.name = name;
	}
	return vfs_edit_end(fs, dir, rc, &dc);
}

int vfs_add_entry(pf_fs *fs, pf_inode *dir, const char *name, int dir_value,
		  const pk_buf *text, const char *type, int set_existing,
		  pk_err *why)
{
	int rc = EAGAIN, tries;

	for (tries = 0; tries < EDIT_TRIES && rc == EAGAIN; tries++)
		rc = add_entry_once(fs, dir, name, dir_value, text, type,
				    set_existing, why);
	return rc;
}

/* Sets the value of the file `in` from text. */
int vfs_set_value(pf_fs *fs, pf_inode *in, const pk_buf *text, pk_err *why)
{
	int rc = EAGAIN, tries;

	for (tries = 0; tries < EDIT_TRIES && rc == EAGAIN; tries++) {
		rc = vfs_edit_begin(fs, in);
		if (rc)
			break;
		if (in->look != PF_LOOK_FILE)
			rc = EISDIR;
		else
			rc = pf_edit_set(in->src->doc, in->ref, text->data,
					 text->len, why);
		rc = vfs_edit_end(fs, in, rc, NULL);
	}
	return rc;
}

/* rmdir of a ghost's name in its parent: the ghost goes. 0, or ENOENT
 * when there is none. */
static int ghost_rmdir(pf_fs *fs, pf_inode *parent, const char *name)
{
	struct pf_ghost **pp, *g = NULL;

	pthread_mutex_lock(&fs->xlock);
	for (pp = &fs->ghosts; *pp; pp = &(*pp)->next)
		if ((*pp)->parent == parent && strcmp((*pp)->name, name) == 0) {
			g = *pp;
			*pp = g->next;
			break;
		}
	pthread_mutex_unlock(&fs->xlock);
	if (!g)
		return ENOENT;
	pthread_mutex_lock(&parent->src->lock);
	__atomic_store_n(&g->in->ghost, 0, __ATOMIC_RELEASE);
	g->in->gen = 0; /* resolve again: it is gone */
	pthread_mutex_unlock(&parent->src->lock);
	free(g->name);
	free(g);
	return 0;
}

/* An entry that cannot go by itself (an object's __class__ or
 * __args__, an array's dtype, shape or data, a call's argument) takes
 * the whole value it is part of with it: the nearest directory up from
 * dir that its own parent can remove. That value is removed and its
 * directory becomes a ghost, still listed as it was, so that rm -r can
 * finish: removing what is left in it changes nothing more, and the
 * final rmdir succeeds. Lock held; on success *parent, *dc and the ghost
 * are set up for edit_end on *parent. */
static int remove_whole(pf_fs *fs, pf_inode *dir, pf_inode **parent,
			struct dir_change *dc, struct pf_ghost **ghost,
			pk_err *why)
{
	pf_source *s = dir->src;
	pf_inode *a;
	pk_buf name = PK_BUF_INIT;
	int rc = EPERM;

	for (a = dir; a->kind == PF_I_VALUE; a = a->parent) {
		pf_inode *p = a->parent;
		uint64_t pos, id;
		pf_child ch;
		if (vfs_entry_pos(p, a->index, &pos) ||
		    pf_docview_child(s->dv, p->ref, pos, &ch))
			return ESTALE;
		if (ch.e.target.part != PF_PART_SELF ||
		    pf_edit_can_remove(p->ref, ch.e.key, ch.e.target.val, why))
			continue;
		if ((rc = vfs_entry_at(p, pos, &name, &id)) ||
		    (rc = vfs_ents_ensure(p)))
			break;
		*ghost = calloc(1, sizeof(**ghost));
		if (!*ghost || !((*ghost)->name = strdup((char *)name.data))) {
			free(*ghost);
			*ghost = NULL;
			rc = ENOMEM;
			break;
		}
		(*ghost)->parent = p;
		(*ghost)->in = a;
		a->ghost_val = *ch.e.target.val;
		rc = pf_edit_remove(s->doc, p->ref, ch.e.key, ch.e.target.val,
				    why);
		dc->changed = 1;
		dc->removed = (int64_t)pos;
		*parent = p;
		break;
	}
	pk_buf_release(&name);
	return rc;
}

static int remove_entry_once(pf_fs *fs, pf_inode *dir, const char *name,
			     int want_dir, pk_err *why)
{
	struct dir_change dc = DIR_CHANGE_NONE;
	struct pf_ghost *ghost = NULL;
	pf_inode *at = dir;
	pf_child ch;
	uint64_t pos, n;
	int rc;

	if (vfs_in_ghost(dir))
		return 0; /* part of a value already removed whole */
	if ((rc = vfs_edit_begin(fs, dir)))
		return rc;
	rc = vfs_find_entry(dir, name, &pos, &ch);
	if (rc == ENOENT && want_dir) {
		pf_source_leave(dir->src);
		return ghost_rmdir(fs, dir, name);
	}
	if (!rc && want_dir && ch.look != PF_LOOK_DIR)
		rc = ENOTDIR;
	if (!rc && !want_dir && ch.look == PF_LOOK_DIR)
		rc = EISDIR;
	if (!rc && pf_part_is_view(ch.e.target.part))
		rc = EPERM; /* not in the pickle; rm -r of the array removes
			       the array (its dtype goes first) */
	if (!rc && want_dir &&
	    !(rc = pf_docview_count(dir->src->dv, ch.e.target, &n)) && n)
		rc = ENOTEMPTY;
	if (!rc && ch.e.target.part == PF_PART_SELF &&
	    !pf_edit_can_remove(dir->ref, ch.e.key, ch.e.target.val, why)) {
		if (!(rc = vfs_ents_ensure(dir))) {
			rc = pf_edit_remove(dir->src->doc, dir->ref, ch.e.key,
					    ch.e.target.val, why);
			dc.changed = 1;
			dc.removed = (int64_t)pos;
		}
	} else if (!rc) {
		rc = remove_whole(fs, dir, &at, &dc, &ghost, why);
	}
	if (!rc && ghost) {
		/* a ghost from now on: resolved by its own slot */
		ghost->in->ghost_serial = dir->src->serial;
		__atomic_store_n(&ghost->in->ghost, 1, __ATOMIC_RELEASE);
	}
	rc = vfs_edit_end(fs, at, rc, &dc);
	if (ghost && rc) {
		pthread_mutex_lock(&dir->src->lock);
		__atomic_store_n(&ghost->in->ghost, 0, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&dir->src->lock);
		free(ghost->name);
		free(ghost);
	} else if (ghost) {
		pthread_mutex_lock(&fs->xlock);
		ghost->next = fs->ghosts;
		fs->ghosts = ghost;
		pthread_mutex_unlock(&fs->xlock);
	}
	return rc;
}

int vfs_remove_entry(pf_fs *fs, pf_inode *dir, const char *name, int want_dir,
		     pk_err *why)
{
	int rc = EAGAIN, tries;

	for (tries = 0; tries < EDIT_TRIES && rc == EAGAIN; tries++)
		rc = remove_entry_once(fs, dir, name, want_dir, why);
	return rc;
}

/* The text cat shows for a file entry, appended to out. */
static int entry_text(pf_inode *dir, const pf_child *ch, pk_buf *out)
{
	pf_content c;
	int rc = pf_docview_content(dir->src->dv, ch->e.target, 0, &c, NULL);

	if (rc)
		return rc;
	rc = pf_content_append(&c, out);
	pf_content_release(&c);
	return rc;
}

/* mv a b in one directory: b missing, the key changes and keeps its
 * place; b a file, b takes a's text in its own type and place and a
 * goes. Checked whole before the doc is touched, so a refused move
 * changes nothing. */
static int move_entry_once(pf_fs *fs, pf_inode *dir, const char *name,
			   const char *newname, pk_err *why)
{
	struct dir_change dc = DIR_CHANGE_NONE;
	pk_buf text = PK_BUF_INIT;
	pf_child src, dst;
	uint64_t si, di;
	int rc = vfs_edit_begin(fs, dir);

	if (rc)
		return rc;
	if ((rc = vfs_find_entry(dir, name, &si, &src)))
		goto end;
	rc = vfs_find_entry(dir, newname, &di, &dst);
	if (rc == ENOENT) {
		if (!src.e.key) {
			rc = EPERM; /* list items and parts have no key */
		} else if (!(rc = vfs_ents_ensure(dir))) {
			rc = pf_edit_rename_key(dir->src->doc, dir->ref,
						(pk_val *)src.e.key, newname,
						why);
			dc.changed = 1;
			dc.renamed = (int64_t)si;
			dc.name = newname;
		}
	} else if (rc) {
		goto end;
	} else if (si == di) {
		rc = 0; /* rename(2) onto itself does nothing */
	} else if (dst.look != PF_LOOK_FILE || src.look != PF_LOOK_FILE) {
		pk_err_set(why, PK_E_REFUSED,
			   "mv onto an existing name takes files only", 0);
		rc = pf_errno_of(PK_E_REFUSED);
	} else if (!(rc = pf_edit_can_remove(dir->ref, src.e.key,
					     src.e.target.val, why)) &&
		   !(rc = entry_text(dir, &src, &text)) &&
		   !(rc = vfs_ents_ensure(dir))) {
		rc = pf_edit_set(dir->src->doc, dst.e.target, text.data,
				 text.len, why);
		if (!rc) {
			/* a's slot did not move: dst's set replaced a
			 * slot's bits, not the kids array */
			rc = pf_edit_remove(dir->src->doc, dir->ref, src.e.key,
					    src.e.target.val, why);
			dc.changed = 1;
			dc.removed = (int64_t)si;
		}
	}
end:
	pk_buf_release(&text);
	return vfs_edit_end(fs, dir, rc, &dc);
}

int vfs_move_entry(pf_fs *fs, pf_inode *dir, const char *name,
		   const char *newname, pk_err *why)
{
	int rc = EAGAIN, tries;

	for (tries = 0; tries < EDIT_TRIES && rc == EAGAIN; tries++)
		rc = move_entry_once(fs, dir, name, newname, why);
	return rc;
}

/* vim's backup (rename name to name~): a copy in memory, the entry
 * stays. */
int vfs_backup_entry(pf_fs *fs, pf_inode *dir, const char *name,
		     const char *newname)
{
	pk_buf text = PK_BUF_INIT;
	pf_child src;
	pf_inode *in;
	struct stat st;
	pf_file *fh;
	uint64_t si;
	int rc = vfs_enter(dir);

	if (rc)
		return rc;
	rc = vfs_find_entry(dir, name, &si, &src);
	if (!rc)
		rc = src.look == PF_LOOK_FILE ? entry_text(dir, &src, &text)
					      : EPERM;
	pf_source_leave(dir->src);
	if (!rc)
		rc = vfs_new_scratch(fs, dir, newname, 1, &in, &st, &fh);
	if (!rc) {
		if (pk_buf_add(&fh->sc->data,
			       text.data ? text.data : (const uint8_t *)"",
			       text.len))
			rc = ENOMEM;
		fh->dirty = 0;
		pf_fs_release(fs, fh);
		pf_fs_forget(fs, in, 1);
	}
	pk_buf_release(&text);
	return rc;
}
