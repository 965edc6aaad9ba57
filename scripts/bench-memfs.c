/*
 * bench-memfs: the reference for scripts/bench-mount.sh. A trivial FUSE
 * file system (low-level API, like libfuse's hello_ll) with one read-only
 * file, /data, whose SIZE bytes live in memory. picklefs serving a numpy
 * array's data should read at least 80% as fast as this.
 *
 *   bench-memfs SIZE MOUNTPOINT [fuse options]
 */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *payload;
static size_t payload_size;

static void fill_attr(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)payload_size;
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, "data")) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = 2;
	e.attr_timeout = 60;
	e.entry_timeout = 60;
	fill_attr(2, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	fill_attr(ino, &st);
	fuse_reply_attr(req, &st, 60);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if ((size_t)off >= payload_size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > payload_size - (size_t)off)
		size = payload_size - (size_t)off;
	fuse_reply_buf(req, payload + off, size);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = op_lookup,
	.getattr = op_getattr,
	.open = op_open,
	.read = op_read,
};

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	int i, rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-memfs SIZE MOUNTPOINT [options]\n");
		return 2;
	}
	payload_size = strtoull(argv[1], NULL, 10);
	payload = malloc(payload_size ? payload_size : 1);
	if (!payload)
		return 1;
	memset(payload, 'x', payload_size);
	fuse_opt_add_arg(&args, argv[0]);
	for (i = 3; i < argc; i++)
		fuse_opt_add_arg(&args, argv[i]);
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		goto cleanup;
	if (fuse_session_mount(se, argv[2]) != 0)
		goto cleanup;
	/* Like picklefs: multi-threaded, in the foreground (the benchmark
	 * backgrounds us and waits for the mount). */
	{
		struct fuse_loop_config cfg = {.clone_fd = 0,
					       .max_idle_threads = 10};
		rc = fuse_session_loop_mt(se, &cfg) ? 1 : 0;
	}
	fuse_session_unmount(se);
cleanup:
	if (se)
		fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	free(payload);
	return rc;
}
