/*
 * source_write.c - a source's edits written back: at once, or after -o
 * writeback's delay, always as a compare and replace of the file the tree
 * was read from (pickle_file.h). See source.h.
 */
#include "source_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pickle_file.h"

int pf_source_enter_edit(pf_source *s)
{
	pthread_mutex_lock(&s->lock);
	/* look at the disk now, also with edits pending: a change there
	 * wins over them */
	s->checked.tv_sec -= 2;
	pthread_mutex_unlock(&s->lock);
	return pf_source_enter(s);
}

/* Replaces the file the tree was read from with the doc (lock held):
 * 0, or an errno and the file is unchanged (EAGAIN: someone changed it,
 * ENOENT: it was removed; pk_pickle_file_replace_at). */
static int write_back(pf_source *s, pk_err *e)
{
	struct stat now;
	int rc;

	pk_err_set(e, PK_OK, NULL, 0);
	if (s->parent)
		return EROFS; /* archives are read-only */
	if (!s->doc || !s->map)
		return ESTALE;
	rc = pk_pickle_file_replace_at(s->dirfd, s->path, &s->base, &s->z,
				       s->doc, &now, e);
	if (rc)
		return rc;
	s->dirty = 0;
	s->pending = 0;
	s->wb_logged = 0;
	/* our own write: not a change by someone else; the bytes mapped
	 * are the old file's (the doc points into them), the doc is the new
	 * file's: once the doc goes, the new file is mapped */
	s->st = now;
	s->base = now;
	s->map_old = 1;
	src_stamp(s);
	return 0;
}

/* Why a write-back failed, for the log: the errno's words, or the
 * codec's; for the refusals that keep the daemon from being turned
 * against its host (an owner or mode that cannot be kept, a symlink on
 * the way, beneath.h) the step too, errno in parentheses. */
static const char *wb_reason(const pk_err *e, int rc, char *buf, size_t n)
{
	if (e->code == PK_E_IO && e->msg &&
	    (rc == EPERM || rc == ELOOP || rc == EXDEV)) {
		snprintf(buf, n, "%s (%s)", e->msg, strerror(rc));
		return buf;
	}
	return e->code == PK_E_IO || !e->msg ? strerror(rc) : e->msg;
}

/* Forgets the edited tree (lock held): the next access decodes the
 * bytes mapped, which are the file on disk. */
static void forget_edits(pf_source *s)
{
	if (s->dv)
		pf_cache_remove(&s->cache);
	src_drop_tree(s);
	s->gen++;
}

int pf_source_commit(pf_source *s, unsigned delay_s)
{
	pf_docview *dv = NULL;
	pk_err e;
	char why[256];
	int rc = 0;

	if (delay_s) {
		if (!s->dirty)
			clock_gettime(CLOCK_MONOTONIC, &s->dirty_since);
		s->dirty = 1;
		s->pending++;
	} else {
		rc = write_back(s, &e);
		if (rc) {
			pf_log("%s: cannot write back: %s", s->display,
			       wb_reason(&e, rc, why, sizeof(why)));
			/* the edit is refused: the tree goes back to what
			 * is on disk (read again, if that changed) */
			if (rc == EAGAIN)
				src_reset(s);
			else
				forget_edits(s);
			return rc;
		}
	}
	/* the doc changed: entries moved, names changed */
	if (pf_docview_new(s->doc, &dv) == 0) {
		pf_docview_on_note(dv, src_note, s);
		pf_docview_free(s->dv);
		s->dv = dv;
	} else {
		rc = rc ? rc : ENOMEM;
	}
	s->gen++;
	return rc;
}

/* The write-back of pending edits (lock held). */
static int flush_locked(pf_source *s, int final)
{
	pk_err e;
	char why[256];
	int rc;

	if (!s->dirty)
		return 0;
	rc = write_back(s, &e);
	if (!rc) {
		s->wb_err = 0; /* written after all: nothing was lost */
		return 0;
	}
	if (rc == EAGAIN || rc == ENOENT || rc == ESTALE) {
		/* the file changed or went away: the outside change wins */
		src_outside_change(s, rc == ENOENT ? "removed" : "changed");
		return ESTALE;
	}
	if (final) {
		pf_log("%s: cannot write back: %s; edits lost", s->display,
		       wb_reason(&e, rc, why, sizeof(why)));
	} else if (rc != s->wb_logged) {
		pf_log("%s: cannot write back: %s; trying again", s->display,
		       wb_reason(&e, rc, why, sizeof(why)));
		s->wb_logged = rc;
	}
	s->wb_err = rc;
	return rc;
}

int pf_source_flush(pf_source *s, unsigned delay_s, int force)
{
	struct timespec now;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (s->dirty &&
	    (force || now.tv_sec - s->dirty_since.tv_sec >= (time_t)delay_s))
		rc = flush_locked(s, force > 1);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int pf_source_sync(pf_source *s)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = flush_locked(s, 0);
	if (!rc)
		rc = s->wb_err;
	s->wb_err = 0; /* reported */
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int pf_source_take_error(pf_source *s)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = s->wb_err;
	s->wb_err = 0;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int pf_source_pending(pf_source *s)
{
	int dirty;

	pthread_mutex_lock(&s->lock);
	dirty = s->dirty;
	pthread_mutex_unlock(&s->lock);
	return dirty;
}
