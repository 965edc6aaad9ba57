/*
 * scan_cmd.h - pickletool's scan command (scan_cmd.c).
 */
#ifndef PF_SCAN_CMD_H
#define PF_SCAN_CMD_H

/* pickletool scan [--json] [--strict] PATH...: argv after "scan". The
 * exit status: 0 clean, 1 dangerous, 2 could not scan (or bad usage),
 * 3 suspicious with --strict. */
int cmd_scan(int argc, char **argv);

#endif
