/*
 * main.c - picklefs: mount Python pickles as directory trees.
 *
 *     picklefs [options] SOURCE MOUNTPOINT
 *
 * Parses the command line (fuse_opt_parse for SOURCE and picklefs's -o
 * options, fuse_parse_cmdline for the standard options), opens SOURCE (a pickle
 * file is parsed now, so a broken one fails here with its byte offset),
 * mounts, daemonizes unless -f, and runs the multi-threaded session loop.
 * Exit codes: 0 ok, 1 SOURCE unusable (or the mount failed), 2 bad
 * command line.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>

#include "cache.h"
#include "expand.h"
#include "fuse_ops.h"
#include "log.h"
#include "vfs.h"

#define PICKLEFS_VERSION "0.1.0"

struct options {
	char *source;
	char *cache_size;
	char *max_expand;
	char *max_tree;
	char *cache_dir;
	char *log;
	int nonopts;
	int ro;
	int writeback;
};

enum { KEY_RO = 1 };

static const struct fuse_opt spec[] = {
    {"cache_size=%s", offsetof(struct options, cache_size), 0},
    {"max_expand=%s", offsetof(struct options, max_expand), 0},
    {"max_tree=%s", offsetof(struct options, max_tree), 0},
    {"cache_dir=%s", offsetof(struct options, cache_dir), 0},
    {"log=%s", offsetof(struct options, log), 0},
    {"writeback=%d", offsetof(struct options, writeback), 0},
    /* seen here and passed on: the kernel enforces it too */
    FUSE_OPT_KEY("ro", KEY_RO),
    FUSE_OPT_END,
};

/* Takes the first non-option argument as SOURCE; the next one stays for
 * fuse_parse_cmdline as the mount point. */
static int take_source(void *data, const char *arg, int key,
		       struct fuse_args *outargs)
{
	struct options *o = data;

	if (key == KEY_RO) {
		o->ro = 1;
		return 1;
	}
	if (key == FUSE_OPT_KEY_NONOPT && !o->source) {
		o->source = strdup(arg);
		return 0;
	}
	if (key == FUSE_OPT_KEY_NONOPT)
		o->nonopts++;
	return 1;
}

/* Unescapes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Whether picklefs already serves mountpoint: a second mount would stack
 * on the first and hide it, with nothing said. The source it serves goes
 * into src. */
static int served_by_picklefs(const char *mountpoint, char *src, size_t n)
{
	char want[4096], line[8192];
	FILE *f;
	int found = 0;

	if (!realpath(mountpoint, want))
		return 0;
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - TYPE SOURCE ...
		 */
		char *mp = NULL, *type, *source, *save = NULL, *tok;
		int i = 0;
		char *dash = strstr(line, " - ");
		if (!dash)
			continue;
		*dash = '\0';
		for (tok = strtok_r(line, " ", &save); tok && i < 5;
		     tok = strtok_r(NULL, " ", &save), i++)
			if (i == 4)
				mp = tok;
		type = strtok_r(dash + 3, " ", &save);
		source = strtok_r(NULL, " ", &save);
		if (!mp || !type || strcmp(type, "fuse.picklefs") != 0)
			continue;
		unescape_octal(mp);
		if (strcmp(mp, want) == 0) {
			found = 1;
			if (source) {
				unescape_octal(source);
				snprintf(src, n, "%s", source);
			}
		}
	}
	fclose(f);
	return found;
}

static void usage(const char *prog)
{
	printf(
	    "usage: %s [options] SOURCE MOUNTPOINT\n"
	    "       fusermount3 -u MOUNTPOINT\n\n"
	    "Mounts a Python pickle file, or a folder of them, as a tree of\n"
	    "directories and files. Nothing in a pickle is executed.\n\n"
	    "picklefs options:\n"
	    "    -o cache_size=SIZE     memory for parsed pickles (default "
	    "512M;\n"
	    "                           trees of unused pickles are dropped "
	    "beyond it)\n"
	    "    -o max_expand=SIZE     the most a compressed pickle may "
	    "decompress to\n"
	    "                           (default 16G; never more than the "
	    "cache\n"
	    "                           folder's free space less a margin)\n"
	    "    -o max_tree=SIZE       the most memory one parsed pickle "
	    "may take\n"
	    "                           (default: half the machine's "
	    "memory)\n"
	    "    -o cache_dir=DIR       folder for decompressed pickles "
	    "(default\n"
	    "                           $TMPDIR, else /var/tmp)\n"
	    "    -o log=FILE            the daemon's messages (a pickle shown "
	    "raw and\n"
	    "                           why, ...) appended to FILE "
	    "(default:\n"
	    "                           stderr with -f, else syslog)\n"
	    "    -o ro                  read-only mount (every change fails "
	    "with EROFS)\n"
	    "    -o writeback=SECONDS   write edits back within SECONDS "
	    "instead of\n"
	    "                           at close() (unmount writes them "
	    "all)\n"
	    "    -o allow_other         let other users see the mount\n"
	    "    -o auto_unmount        unmount when picklefs exits\n\n",
	    prog);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* Reads the command line into o and cl, and the cache limit. -1: go
 * on; else the exit status to end with (0 after --help / --version, 2
 * for a bad command line). */
static int parse_command_line(struct fuse_args *args, struct options *o,
			      struct fuse_cmdline_opts *cl, const char *prog)
{
	uint64_t cache = 512ull << 20, expand = PF_EXPAND_DEFAULT, tree = 0;
	int err;

	if (fuse_opt_parse(args, o, spec, take_source) != 0 ||
	    fuse_parse_cmdline(args, cl) != 0)
		return 2;
	if (cl->show_help) {
		usage(prog);
		return 0;
	}
	if (cl->show_version) {
		printf("picklefs %s\nFUSE library version %s\n",
		       PICKLEFS_VERSION, fuse_pkgversion());
		fuse_lowlevel_version();
		return 0;
	}
	if (!o->source || !cl->mountpoint) {
		fprintf(stderr,
			"usage: %s [options] SOURCE MOUNTPOINT (--help for "
			"more)\n",
			prog);
		return 2;
	}
	if (o->cache_size && pf_parse_size(o->cache_size, &cache) != 0) {
		fprintf(stderr,
			"picklefs: bad cache_size '%s' (use e.g. 512M)\n",
			o->cache_size);
		return 2;
	}
	pf_cache_set_limit(cache);
	if (o->max_expand &&
	    (pf_parse_size(o->max_expand, &expand) != 0 || expand == 0)) {
		fprintf(stderr,
			"picklefs: bad max_expand '%s' (use e.g. 16G; not 0)\n",
			o->max_expand);
		return 2;
	}
	if (o->max_tree &&
	    (pf_parse_size(o->max_tree, &tree) != 0 || tree == 0)) {
		fprintf(stderr,
			"picklefs: bad max_tree '%s' (use e.g. 4G; not 0)\n",
			o->max_tree);
		return 2;
	}
	pf_cache_set_tree_max(tree, "-o max_tree=SIZE");
	if (o->cache_dir) {
		/* absolute: the daemon's working folder becomes / */
		char *abs = realpath(o->cache_dir, NULL);
		struct stat st;
		if (!abs || stat(abs, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "picklefs: bad cache_dir '%s': %s\n",
				o->cache_dir,
				abs ? "not a folder" : strerror(errno));
			free(abs);
			return 2;
		}
		free(o->cache_dir);
		o->cache_dir = abs;
	}
	pf_expand_configure(expand, o->cache_dir, "-o max_expand=SIZE",
			    "-o cache_dir=DIR");
	/* opened now: the daemon changes to / when it forks, and the
	 * messages of the first parse belong there too */
	if (o->log && (err = pf_log_to_file(o->log)) != 0) {
		fprintf(stderr, "picklefs: cannot open log '%s': %s\n", o->log,
			strerror(err));
		return 2;
	}
	if (o->writeback < 0) {
		fprintf(stderr, "picklefs: bad writeback '%d' (seconds)\n",
			o->writeback);
		return 2;
	}
	return -1;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0};
	struct fuse_cmdline_opts cl;
	struct fuse_session *se = NULL;
	struct fuse_loop_config *lc = NULL;
	pf_fs_config cfg;
	pf_fs *fs = NULL;
	char msg[1200], fsname[4200];
	int rc;

	memset(&cl, 0, sizeof(cl));
	if ((rc = parse_command_line(&args, &o, &cl, argv[0])) != -1)
		goto out;
	rc = 2;
	{
		char src[4096] = "";
		if (served_by_picklefs(cl.mountpoint, src, sizeof(src))) {
			fprintf(stderr,
				"picklefs: %s: already a picklefs mount (%s); "
				"unmount it first: fusermount3 -u %s\n",
				cl.mountpoint, src, cl.mountpoint);
			rc = 1;
			goto out;
		}
	}
	cfg.source = o.source;
	cfg.progress = 1;
	cfg.ro = o.ro;
	cfg.writeback = (unsigned)o.writeback;
	if (pf_fs_new(&cfg, &fs, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "%s\n", msg);
		rc = 1;
		goto out;
	}

	/* writes are checked by the kernel against the modes we report */
	snprintf(fsname, sizeof(fsname), "-ofsname=picklefs:%s", o.source);
	if (fuse_opt_add_arg(&args, "-odefault_permissions") != 0 ||
	    (strchr(o.source, ',') == NULL &&
	     fuse_opt_add_arg(&args, fsname) != 0)) {
		rc = 1;
		goto out;
	}
	se = fuse_session_new(&args, pf_fuse_ops(), sizeof(*pf_fuse_ops()), fs);
	if (!se)
		goto out; /* unknown options: a bad command line */
	rc = 1;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_session_mount(se, cl.mountpoint) != 0)
		goto out_signals;
	if (!cl.foreground && !o.log)
		pf_log_use_syslog();
	fuse_daemonize(cl.foreground);
	/* threads only now: they must live in the process that serves */
	if (pf_fs_start(fs) != 0) {
		pf_log("cannot start the write-back thread");
		goto out_unmount;
	}
	if (cl.singlethread) {
		rc = fuse_session_loop(se) ? 1 : 0;
	} else {
		lc = fuse_loop_cfg_create();
		if (!lc)
			goto out_unmount;
		fuse_loop_cfg_set_clone_fd(lc, (unsigned int)cl.clone_fd);
		fuse_loop_cfg_set_max_threads(lc, cl.max_threads);
		rc = fuse_session_loop_mt(se, lc) ? 1 : 0;
	}
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	if (lc)
		fuse_loop_cfg_destroy(lc);
	if (se)
		fuse_session_destroy(se);
	/* unmounted: every pending edit goes to disk; one that cannot be
	 * written is logged, and the exit status says so */
	if (fs && pf_fs_stop(fs) != 0)
		rc = 1;
	pf_fs_free(fs);
	free(cl.mountpoint);
	free(o.source);
	free(o.cache_size);
	free(o.max_expand);
	free(o.max_tree);
	free(o.cache_dir);
	free(o.log);
	fuse_opt_free_args(&args);
	return rc;
}
