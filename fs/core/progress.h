/*
 * progress.h - a progress bar on stderr for long indexing.
 *
 * What: decompressing and decoding a big pickle at mount time can take
 * seconds; when stderr is a terminal and the work has run longer than
 * half a second, a one-line bar shows how far it got. Callbacks match
 * pk_decode_progress_fn and pk_progress_fn (return 0: go on).
 * Ownership: a pf_progress is a plain value owned by the caller; `what`
 * and `name` are borrowed for its lifetime.
 * Invariant: nothing is printed unless enabled and stderr is a tty;
 * pf_progress_done erases the bar if one was drawn.
 */
#ifndef PF_PROGRESS_H
#define PF_PROGRESS_H

#include <stdint.h>
#include <time.h>

typedef struct pf_progress {
	const char *name; /* the file being indexed */
	const char *what; /* "decompressing", "indexing" */
	struct timespec start;
	int enabled;
	int drawn;
} pf_progress;

/* enabled: the caller wants a bar (it is still only drawn on a tty). */
void pf_progress_start(pf_progress *p, const char *name, const char *what,
		       int enabled);
int pf_progress_cb(void *ctx, uint64_t done, uint64_t total);
void pf_progress_done(pf_progress *p);

#endif
