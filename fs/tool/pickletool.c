/*
 * pickletool - the codec on the command line, without FUSE.
 *
 *   pickletool dis FILE            what `python3 -m pickletools FILE` prints
 *   pickletool roundtrip IN OUT    decode and re-encode (same compression)
 *   pickletool batch [-t SECONDS]  many of those in one process: commands
 *                                  on stdin, one result line each
 *   pickletool ls/get/set/find     the mount's tree without FUSE
 *                                  (tool_tree.h)
 *
 * --max-expand SIZE before the command bounds what a compressed FILE may
 * decompress to (default 16G, and never more than the free space of the
 * temporary folder less a margin; expand.h): the decompressed bytes go
 * to an unlinked temporary file, not to memory. --max-tree SIZE bounds
 * the memory of a parsed pickle (cache.h; default half the machine's).
 *
 * Exit status: 0 ok, 1 bad input or a refused operation (the message
 * names the file and the byte offset, or the path and strerror), 2 bad
 * usage.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "compress.h"
#include "dis.h"
#include "expand.h"
#include "pickle.h"
#include "pickle_file.h"
#include "scan_cmd.h"
#include "tool_tree.h"

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2

static const char usage[] =
    "usage: pickletool [OPTIONS] dis FILE\n"
    "       pickletool [OPTIONS] ls [-l] FILE [PATH]\n"
    "       pickletool [OPTIONS] get FILE PATH\n"
    "       pickletool [OPTIONS] set FILE PATH VALUE|-\n"
    "       pickletool [OPTIONS] find FILE [PATH]\n"
    "       pickletool [OPTIONS] roundtrip IN OUT\n"
    "       pickletool [OPTIONS] bench FILE  (decode/encode timings)\n"
    "       pickletool [OPTIONS] batch [-t SECONDS] <COMMANDS\n"
    "       pickletool [OPTIONS] scan [--json] [--strict] PATH...\n"
    "           what each pickle under PATH would import and call if\n"
    "           loaded (folders, archives, checkpoints, joblib files);\n"
    "           exit 1 dangerous, 2 could not scan, 3 suspicious with\n"
    "           --strict, 0 clean\n"
    "Reads Python pickles without executing them. FILE may be gzip,\n"
    "bzip2, xz, lzma (named .lzma), zstd or zlib (joblib's .z)\n"
    "compressed: it is decompressed into an unlinked file in\n"
    "$TMPDIR (else /var/tmp), never more than that folder's free space\n"
    "less a margin. OPTIONS:\n"
    "    --max-expand SIZE   the most a compressed FILE may decompress\n"
    "                        to (default 16G)\n"
    "    --max-tree SIZE     the most memory a parsed pickle may take\n"
    "                        (default: half the machine's memory)\n"
    "\n"
    "batch runs many commands in one process (a test corpus of thousands\n"
    "of files without starting the tool for each). Each line of standard\n"
    "input is one command, its fields separated by tabs:\n"
    "    roundtrip<TAB>IN<TAB>OUT    as `pickletool roundtrip IN OUT`\n"
    "    dis<TAB>IN<TAB>OUT          as `pickletool dis IN >OUT`\n"
    "After each command one line is printed on standard output (and\n"
    "flushed): its exit status (0, 1 or 2, as the command alone), a tab,\n"
    "and the first line of what it printed on standard error (empty if\n"
    "nothing). -t SECONDS: a command still running after SECONDS ends the\n"
    "whole process by SIGALRM; so does a crash: the lines printed so far\n"
    "say which command it was (the next one). batch exits 0 when every\n"
    "line was run, whatever their statuses.\n"
    "\n"
    "ls, get, set and find show FILE as `picklefs FILE MOUNT` would, without\n"
    "FUSE (FILE: a pickle, compressed or not, a folder, an archive or a\n"
    "checkpoint; PATH: a path inside MOUNT, default its root), by the\n"
    "mount's own code:\n"
    "    ls [-l] FILE [PATH]  the entries of the directory PATH, one a line,\n"
    "                         in the mount's order (`ls -f` less . and ..);\n"
    "                         a PATH that is no directory is printed itself.\n"
    "                         -l: TYPE SIZE NAME per line, TYPE d, - or l,\n"
    "                         a symlink followed by ` -> TARGET`\n"
    "    get FILE PATH        the bytes `cat MOUNT/PATH` prints\n"
    "    set FILE PATH VALUE  what `printf %s VALUE > MOUNT/PATH` does (a\n"
    "                         value replaced, or a new key made), written\n"
    "                         back to FILE atomically; VALUE - reads it\n"
    "                         from standard input\n"
    "    find FILE [PATH]     every entry below PATH, one path a line\n"
    "                         (`find MOUNT/PATH -mindepth 1` less MOUNT/),\n"
    "                         depth first in readdir order; symlinks are\n"
    "                         not followed\n"
    "\n"
    "Exit status: 0 ok; 1 an error: a FILE the mount cannot open (its\n"
    "message: NAME: byte N: REASON), or an operation the mount refuses\n"
    "(pickletool: FILE/PATH: REASON, e.g. Invalid argument for a value\n"
    "that is not a literal of its type, Read-only file system inside an\n"
    "archive); 2 bad usage.\n";

static int write_all(void *ctx, const void *data, size_t n)
{
	FILE *f = ctx;

	return fwrite(data, 1, n, f) == n ? 0 : -1;
}

static int flush_stdout(void *ctx, pk_buf *b)
{
	int rc = write_all(ctx, b->data, b->len);

	pk_buf_reset(b);
	return rc;
}

static int cmd_dis(const char *path, FILE *out)
{
	pk_pickle_file pf;
	pk_err e;
	int rc;

	if (pk_pickle_file_open(&pf, path, &e) != PK_OK) {
		pk_pickle_file_report(path, &pf, &e);
		return EXIT_BAD_INPUT;
	}
	rc = pk_dis_stream(pf.data, pf.len, flush_stdout, out, &e);
	if (fflush(out) != 0 && rc == PK_OK) {
		fprintf(stderr, "%s: cannot write the text: %s\n", path,
			strerror(errno));
		pk_pickle_file_close(&pf);
		return EXIT_BAD_INPUT;
	}
	if (rc != PK_OK) {
		pk_pickle_file_report(path, &pf, &e);
		pk_pickle_file_close(&pf);
		return EXIT_BAD_INPUT;
	}
	pk_pickle_file_close(&pf);
	return 0;
}

static int cmd_roundtrip(const char *in, const char *out)
{
	pk_pickle_file pf;
	pk_doc *doc = NULL;
	pk_err e;
	int ret = EXIT_BAD_INPUT;

	if (pk_pickle_file_open(&pf, in, &e) != PK_OK) {
		pk_pickle_file_report(in, &pf, &e);
		return EXIT_BAD_INPUT;
	}
	if (pk_pickle_file_decode(&pf, 0, &doc, &e) != PK_OK) {
		pk_pickle_file_report(in, &pf, &e);
		goto cleanup;
	}
	if (pk_pickle_file_write(out, &pf.z, doc, &e) != PK_OK) {
		fprintf(stderr, "%s: %s: %s\n", out, e.msg,
			e.code == PK_E_IO ? strerror(errno) : "");
		goto cleanup;
	}
	ret = 0;
cleanup:
	pk_doc_free(doc);
	pk_pickle_file_close(&pf);
	return ret;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* Times decode and encode in memory (what scripts/bench.sh compares
 * with pickle.loads and pickle.dumps): the file is read first, so disk
 * speed is not measured. Decode's CPU time (all threads: the arena's
 * prefault helper too) is printed beside its wall time. */
static int cmd_bench(const char *path)
{
	pk_pickle_file pf;
	pk_doc *doc = NULL;
	pk_buf out = PK_BUF_INIT;
	pk_err e;
	double t0, t1, t2, c0, c1;
	volatile uint8_t sink = 0;
	size_t i;
	int ret = EXIT_BAD_INPUT;

	if (pk_pickle_file_open(&pf, path, &e) != PK_OK) {
		pk_pickle_file_report(path, &pf, &e);
		return EXIT_BAD_INPUT;
	}
	for (i = 0; i < pf.len; i += 4096)
		sink ^= pf.data[i];
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now();
	if (pk_pickle_file_decode(&pf, 0, &doc, &e) != PK_OK) {
		pk_pickle_file_report(path, &pf, &e);
		goto cleanup;
	}
	t1 = now();
	c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	if (pk_encode_to_buf(doc, &out, &e) != PK_OK) {
		pk_pickle_file_report(path, &pf, &e);
		goto cleanup;
	}
	t2 = now();
	printf("decode %.6f s\ndecode-cpu %.6f s\nencode %.6f s\n"
	       "identical %s\n",
	       t1 - t0, c1 - c0, t2 - t1,
	       out.len == pf.len && !memcmp(out.data, pf.data, pf.len) ? "yes"
								       : "no");
	ret = 0;
cleanup:
	pk_buf_release(&out);
	pk_doc_free(doc);
	pk_pickle_file_close(&pf);
	return ret;
}

/* ---- batch ------------------------------------------------------------ */

/* One command of a batch, its stderr caught in errfd (a file of its own,
 * emptied first); returns its exit status. A line that is not a command
 * is status 2, with the usage's reason on stderr. */
static int batch_one(char *line)
{
	char *f[4] = {line, NULL, NULL, NULL};
	size_t n = 1;
	char *p;
	FILE *out;
	int rc;

	for (p = line; *p && n < 4; p++)
		if (*p == '\t') {
			*p = '\0';
			f[n++] = p + 1;
		}
	if (n != 3 || !*f[1] || !*f[2]) {
		fputs("pickletool batch: want COMMAND<TAB>IN<TAB>OUT\n",
		      stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(f[0], "roundtrip"))
		return cmd_roundtrip(f[1], f[2]);
	if (strcmp(f[0], "dis") != 0) {
		fprintf(stderr, "pickletool batch: unknown command %s\n", f[0]);
		return EXIT_USAGE;
	}
	out = fopen(f[2], "w");
	if (!out) {
		fprintf(stderr, "%s: %s\n", f[2], strerror(errno));
		return EXIT_BAD_INPUT;
	}
	rc = cmd_dis(f[1], out);
	if (fclose(out) != 0 && rc == 0) {
		fprintf(stderr, "%s: %s\n", f[2], strerror(errno));
		rc = EXIT_BAD_INPUT;
	}
	return rc;
}

/* pickletool batch: the commands of stdin, one at a time, each with
 * standard error sent to a scratch file for the time it runs; the first
 * line of that goes into the command's result line. A crash inside a
 * command takes the process with it, its report going to the scratch
 * file: the caller sees the result lines printed so far and runs the
 * next command alone to see the report. */
static int cmd_batch(unsigned secs)
{
	char *line = NULL, msg[512];
	size_t cap = 0;
	ssize_t len, got;
	FILE *scratch = tmpfile();
	int saved, errfd, rc;

	saved = dup(STDERR_FILENO);
	if (!scratch || saved < 0) {
		fprintf(stderr, "pickletool batch: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	errfd = fileno(scratch);
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		char *nl;

		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		fflush(stderr);
		if (ftruncate(errfd, 0) != 0 ||
		    dup2(errfd, STDERR_FILENO) < 0) {
			dprintf(saved, "pickletool batch: %s\n",
				strerror(errno));
			return EXIT_USAGE;
		}
		lseek(errfd, 0, SEEK_SET);
		if (secs)
			alarm(secs);
		rc = batch_one(line);
		alarm(0);
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		got = pread(errfd, msg, sizeof(msg) - 1, 0);
		msg[got > 0 ? got : 0] = '\0';
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		for (nl = msg; *nl; nl++)
			if (*nl == '\t' || *nl == '\r')
				*nl = ' ';
		printf("%d\t%s\n", rc, msg);
		if (fflush(stdout) != 0)
			return EXIT_USAGE;
	}
	free(line);
	fclose(scratch);
	close(saved);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t max = PF_EXPAND_DEFAULT, tree = 0;

	/* leading options, in any order */
	while (argc >= 3 && (!strcmp(argv[1], "--max-expand") ||
			     !strcmp(argv[1], "--max-tree"))) {
		int is_tree = !strcmp(argv[1], "--max-tree");
		uint64_t v;
		if (pf_parse_size(argv[2], &v) != 0 || v == 0) {
			fprintf(stderr,
				"pickletool: bad %s '%s' (use e.g. 16G; not "
				"0)\n",
				argv[1], argv[2]);
			return EXIT_USAGE;
		}
		*(is_tree ? &tree : &max) = v;
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	pf_expand_configure(max, NULL, "--max-expand SIZE",
			    "the TMPDIR variable");
	pf_cache_set_tree_max(tree, "--max-tree SIZE");
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "scan"))
		return cmd_scan(argc - 2, argv + 2);
	/* the commands over the mount's tree: each checks its own
	 * arguments (PT_USAGE: print the usage) */
	if (argc >= 2) {
		int (*cmd)(int, char **) = NULL;
		if (!strcmp(argv[1], "ls"))
			cmd = pt_ls;
		else if (!strcmp(argv[1], "get"))
			cmd = pt_get;
		else if (!strcmp(argv[1], "set"))
			cmd = pt_set;
		else if (!strcmp(argv[1], "find"))
			cmd = pt_find;
		if (cmd) {
			int rc = cmd(argc - 1, argv + 1);
			if (rc != PT_USAGE)
				return rc;
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc == 3 && !strcmp(argv[1], "dis"))
		return cmd_dis(argv[2], stdout);
	if (argc == 3 && !strcmp(argv[1], "bench"))
		return cmd_bench(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "roundtrip"))
		return cmd_roundtrip(argv[2], argv[3]);
	if (argc == 2 && !strcmp(argv[1], "batch"))
		return cmd_batch(0);
	if (argc == 4 && !strcmp(argv[1], "batch") && !strcmp(argv[2], "-t")) {
		char *end;
		long v;

		errno = 0;
		v = strtol(argv[3], &end, 10);
		if (!errno && end != argv[3] && !*end && v > 0 && v <= INT_MAX)
			return cmd_batch((unsigned)v);
	}
	fputs(usage, stderr);
	return EXIT_USAGE;
}
