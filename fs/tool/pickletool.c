/*
 * pickletool - the codec on the command line, without FUSE.
 *
 *   pickletool dis FILE            what `python3 -m pickletools FILE` prints
 *   pickletool roundtrip IN OUT    decode and re-encode (same compression)
 *
 * Exit status: 0 ok, 1 bad input (the message names the file and the
 * byte offset), 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compress.h"
#include "dis.h"
#include "pickle.h"
#include "pickle_file.h"

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2

static const char usage[] =
    "usage: pickletool dis FILE\n"
    "       pickletool roundtrip IN OUT\n"
    "       pickletool bench FILE      (decode/encode timings, in memory)\n"
    "Reads Python pickles without executing them. FILE may be gzip or\n"
    "bzip2 compressed.\n";

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

static int cmd_dis(const char *path)
{
	pk_pickle_file pf;
	pk_err e;
	int rc;

	if (pk_pickle_file_open(&pf, path, &e) != PK_OK) {
		pk_pickle_file_report(path, &pf, &e);
		return EXIT_BAD_INPUT;
	}
	rc = pk_dis_stream(pf.data, pf.len, flush_stdout, stdout, &e);
	fflush(stdout);
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
	if (pk_decode(pf.data, pf.len, 0, &doc, &e) != PK_OK) {
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
	if (pk_decode(pf.data, pf.len, 0, &doc, &e) != PK_OK) {
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

int main(int argc, char **argv)
{
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "dis"))
		return cmd_dis(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "bench"))
		return cmd_bench(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "roundtrip"))
		return cmd_roundtrip(argv[2], argv[3]);
	fputs(usage, stderr);
	return EXIT_USAGE;
}
