/*
 * log.h - diagnostics of the running mount.
 *
 * What: one function to report problems that do not fail a request but
 * that the user must be able to find (a broken pickle in a folder, a
 * cache file that could not be made). Goes to the file of -o log=FILE
 * when one was given (a line each, with the time and pid), else to
 * stderr, or to syslog once the mount has daemonized (pf_log_use_syslog).
 * Ownership: nothing is kept; messages are formatted and written at once.
 * Invariant: thread-safe (one write per message).
 */
#ifndef PF_LOG_H
#define PF_LOG_H

/* Log to the file at path (appended, created 0600): 0 or errno. Wins
 * over syslog. */
int pf_log_to_file(const char *path);
/* From now on, log to syslog (LOG_DAEMON, ident "picklefs"). */
void pf_log_use_syslog(void);
/* The name stderr lines start with ("picklefs" unless set; pickletool
 * sets its own). name must outlive the logging. */
void pf_log_set_name(const char *name);
/* Silences the log (unit tests that provoke errors on purpose). */
void pf_log_set_quiet(int quiet);

void pf_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
