/*
 * source_internal.h - what the three files of a source (source.h) share:
 * source.c (from bytes on disk to a tree: sniff, map, decode, notice
 * changes), source_archive.c (archives: their index, their members'
 * bytes, PyTorch checkpoints) and source_write.c (edits written back).
 * Not for use outside them.
 * Locking: every function here expects the source's lock held, except
 * where it says it takes a lock.
 */
#ifndef PF_SOURCE_INTERNAL_H
#define PF_SOURCE_INTERNAL_H

#include "progress.h"
#include "source.h"

/* source.c */
/* Drops the tree (and the old file's bytes after our write-back). */
void src_drop_tree(pf_source *s);
/* Forgets everything read from the file (it changed on disk). */
void src_reset(pf_source *s);
/* The file changed on disk or was removed: the outside change wins
 * over pending edits (dropped, logged, reported as ESTALE). */
void src_outside_change(pf_source *s, const char *how);
void src_set_io_err(pk_err *e, const char *msg);
/* Maps the bytes (decompressed into a cache file when compressed). */
int src_map_source(pf_source *s, pf_progress *pg, uint64_t cap, pk_err *e);
/* The docview's note (docview.h): logs why a value is shown raw. */
void src_note(void *ctx, const char *why);
/* A decode failed: shown raw, the reason kept (and logged). */
void src_mark_broken(pf_source *s, const pk_err *e, int log_it);
/* The file was looked at now. */
void src_stamp(pf_source *s);
/* Looks at the file (at most once a second) and starts over when it
 * changed. */
void src_refresh(pf_source *s);

/* source_archive.c */
/* Frees an archive's index and its inflated members. */
void src_drop_archive(pf_source *s);
/* A member's bytes as stored in its archive (a new reference); takes
 * the archive's lock (a member's lock is taken before its archive's). */
int src_member_raw(pf_source *s, pf_map **raw, pk_err *e);
/* src_map_source for an archive's member. */
int src_map_member(pf_source *s, pf_progress *pg, uint64_t cap, pk_err *e);
/* Maps an archive and reads its index; tells a PyTorch checkpoint. */
int src_load_archive(pf_source *s, int show_progress, pk_err *e);
/* Decodes a legacy PyTorch checkpoint in data[0..len) (its first
 * pickle is the magic number): s->doc is the object, its storages
 * bound (s->legacy). o as for one pickle. 0 or errno, e saying why. */
int src_load_legacy(pf_source *s, const uint8_t *data, size_t len,
		    const pk_decode_opts *o, pk_err *e);

#endif
