/*
 * Unit tests of one pickle file of the mount (fs/core/source.c): how a
 * file is classified and loaded, what the cache is told, commit (written
 * at once, or pending until pf_source_flush), trees dropped under memory
 * pressure and parsed again, broken and non-pickle files. What happens
 * when the file changes on disk under an edit is test_writeback.c's.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "compress.h"
#include "edit.h"
#include "sniff.h"
#include "source.h"
#include "unit.h"

/* where the edit functions say why they refused */
static pk_err unit_err;

static int dirfd_;

static void setup(void)
{
	ut_make_dir();
	dirfd_ = open(ut_dir, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(dirfd_, 0);
}

static void teardown(void)
{
	close(dirfd_);
	ut_remove_dir();
}

/* A source for ut_dir/name, classified as a lookup would (not quick). */
static pf_source *source(const char *name, int *state)
{
	pf_source *s = pf_source_new(dirfd_, name, name);
	struct stat st;

	cr_assert(s);
	cr_assert_eq(fstatat(dirfd_, name, &st, 0), 0);
	*state = pf_source_classify(s, &st, 0);
	return s;
}

/* Sets root entry `key` of the entered source s to text. */
static void set_key(pf_source *s, const char *key, const char *text)
{
	pf_ref root = pf_docview_root(s->dv);
	pf_child c;
	uint64_t i;

	cr_assert_eq(pf_docview_lookup(s->dv, root, key, strlen(key), &i), 0);
	cr_assert_eq(pf_docview_child(s->dv, root, i, &c), 0);
	cr_assert_eq(pf_edit_set(s->doc, c.e.target, (const uint8_t *)text,
				 strlen(text), &unit_err),
		     0);
}

Test(source, load_parses_once_and_tells_the_cache, .init = setup,
     .fini = teardown)
{
	pf_source *s;
	int state;
	uint64_t gen, serial;

	ut_put("alumnos", ut_alumnos4, sizeof(ut_alumnos4));
	s = source("alumnos", &state);
	cr_assert_eq(state, PF_SRC_PICKLE);
	cr_assert_eq(s->sniffed, PF_SNIFF_PICKLE);
	/* small: parsed at the lookup already */
	cr_assert_not_null(s->doc);
	cr_assert_eq(pf_source_enter(s), 0);
	cr_assert_eq(pk_val_kind(s->doc->root), PK_DICT);
	cr_assert_eq(pk_val_node(s->doc->root)->nkids, 6);
	gen = s->gen;
	serial = s->serial;
	pf_source_leave(s);
	/* the cache holds exactly this tree: the doc and its view */
	cr_assert(s->cache.linked);
	cr_assert_eq(s->cache.mem,
		     pk_doc_bytes(s->doc) + pf_docview_bytes(s->dv));
	cr_assert_geq(s->cache.mem, pk_doc_bytes(s->doc));
	cr_assert_eq(pf_cache_total(), s->cache.mem);
	/* entering again parses nothing */
	cr_assert_eq(pf_source_enter(s), 0);
	cr_assert_eq(s->gen, gen);
	cr_assert_eq(s->serial, serial);
	pf_source_leave(s);
	cr_assert_eq(pf_source_pending(s), 0);
	pf_source_free(s);
	cr_assert_eq(pf_cache_total(), 0, "freeing the source unlists it");
}

Test(source, commit_writes_back_at_once, .init = setup, .fini = teardown)
{
	uint8_t want[sizeof(ut_alumnos4)];
	pf_source *s;
	int state;
	uint64_t gen, epoch;

	ut_put("alumnos", ut_alumnos4, sizeof(ut_alumnos4));
	s = source("alumnos", &state);
	cr_assert_eq(pf_source_enter_edit(s), 0);
	gen = s->gen;
	epoch = s->epoch;
	set_key(s, "Jose", "9");
	cr_assert_eq(pf_source_commit(s, 0), 0);
	cr_assert_neq(s->gen, gen, "a commit rebuilds the view");
	cr_assert_eq(s->epoch, epoch, "our own write is not a change on disk");
	cr_assert_eq(s->dirty, 0);
	pf_source_leave(s);
	memcpy(want, ut_alumnos4, sizeof(want));
	want[ALUMNOS4_JOSE] = 9;
	cr_assert(ut_file_is("alumnos", want, sizeof(want)));
	cr_assert_eq(ut_count_files(".pkfs-"), 0);
	/* nothing pending; the source is usable again (pf_source_pending
	 * takes the lock: called outside enter / leave) */
	cr_assert_eq(pf_source_pending(s), 0);
	cr_assert_eq(pf_source_enter(s), 0);
	pf_source_leave(s);
	pf_source_free(s);
}

Test(source, delayed_commit_waits_for_flush, .init = setup, .fini = teardown)
{
	uint8_t want[sizeof(ut_alumnos4)];
	pf_source *s;
	int state;

	ut_put("alumnos", ut_alumnos4, sizeof(ut_alumnos4));
	s = source("alumnos", &state);
	cr_assert_eq(pf_source_enter_edit(s), 0);
	set_key(s, "Jose", "9");
	cr_assert_eq(pf_source_commit(s, 60), 0);
	cr_assert_eq(s->pending, 1);
	pf_source_leave(s);
	cr_assert_eq(pf_source_pending(s), 1);
	cr_assert(ut_file_is("alumnos", ut_alumnos4, sizeof(ut_alumnos4)),
		  "nothing written before the delay");
	/* a dirty tree is never dropped, whatever the cache's limit */
	pf_cache_set_limit(1);
	pf_cache_trim();
	cr_assert_not_null(s->doc);
	pf_cache_set_limit(512ull << 20);
	/* the timer's flush: not yet (60 s) */
	cr_assert_eq(pf_source_flush(s, 60, 0), 0);
	cr_assert_eq(pf_source_pending(s), 1);
	cr_assert(ut_file_is("alumnos", ut_alumnos4, sizeof(ut_alumnos4)));
	/* a second edit joins the first */
	cr_assert_eq(pf_source_enter_edit(s), 0);
	set_key(s, "Maria", "11");
	cr_assert_eq(pf_source_commit(s, 60), 0);
	cr_assert_eq(s->pending, 2);
	pf_source_leave(s);
	/* forced: both on disk, nothing pending, no error to report */
	cr_assert_eq(pf_source_flush(s, 60, 1), 0);
	cr_assert_eq(pf_source_pending(s), 0);
	memcpy(want, ut_alumnos4, sizeof(want));
	want[ALUMNOS4_JOSE] = 9;
	want[sizeof(want) - 3] = 11; /* Maria's BININT1 */
	cr_assert(ut_file_is("alumnos", want, sizeof(want)));
	cr_assert_eq(pf_source_take_error(s), 0);
	cr_assert_eq(pf_source_sync(s), 0);
	pf_source_free(s);
}

/* Two sources and a cache of 1 byte: leaving b drops a's tree (not in
 * use, not dirty); entering a parses it again (a new serial) from the
 * same bytes (same epoch). */
Test(source, dropped_tree_is_parsed_again, .init = setup, .fini = teardown)
{
	pf_source *a, *b;
	int state;
	uint64_t serial, epoch;

	ut_put("a.pkl", ut_alumnos4, sizeof(ut_alumnos4));
	ut_put("b.pkl", ut_alumnos0, sizeof(ut_alumnos0));
	pf_cache_set_limit(1);
	a = source("a.pkl", &state);
	cr_assert_eq(pf_source_enter(a), 0);
	pf_source_leave(a);
	serial = a->serial;
	epoch = a->epoch;
	cr_assert_not_null(a->doc);
	b = source("b.pkl", &state);
	cr_assert_eq(pf_source_enter(b), 0);
	pf_source_leave(b);
	cr_assert_null(a->doc, "a's tree was dropped");
	cr_assert_null(a->dv);
	cr_assert_eq(a->cache.linked, 0);
	cr_assert_eq(pf_cache_total(), b->cache.mem);
	cr_assert_eq(pf_source_enter(a), 0);
	cr_assert_not_null(a->doc);
	cr_assert_eq(a->serial, serial + 1);
	cr_assert_eq(a->epoch, epoch);
	pf_source_leave(a);
	cr_assert_null(b->doc, "and now b's");
	pf_cache_set_limit(512ull << 20);
	pf_source_free(a);
	pf_source_free(b);
}

Test(source, broken_and_plain_files, .init = setup, .fini = teardown)
{
	pf_source *cut, *txt, *p0;
	char msg[256];
	int state;

	ut_put("cut.pkl", ut_alumnos4, 20);
	ut_put("notes.txt", "hello\n", 6);
	ut_put("p0", ut_alumnos0, sizeof(ut_alumnos0));
	cut = source("cut.pkl", &state);
	cr_assert_eq(state, PF_SRC_FILE);
	cr_assert(cut->broken);
	pf_source_describe_error(cut, msg, sizeof(msg));
	cr_assert(strncmp(msg, "cut.pkl: byte ", 14) == 0, "%s", msg);
	cr_assert_eq(pf_source_enter(cut), EIO);
	txt = source("notes.txt", &state);
	cr_assert_eq(state, PF_SRC_FILE);
	cr_assert_eq(txt->broken, 0);
	cr_assert_eq(pf_source_enter(txt), ESTALE);
	/* protocol 0 without a pickle name: a pickle because it parses */
	p0 = source("p0", &state);
	cr_assert_eq(state, PF_SRC_PICKLE);
	cr_assert_eq(p0->sniffed, PF_SNIFF_MAYBE);
	pf_source_free(cut);
	pf_source_free(txt);
	pf_source_free(p0);
}

/* The file replaced on disk (not by us): the next enter reads it anew,
 * a new epoch. */
Test(source, change_on_disk_is_read_again, .init = setup, .fini = teardown)
{
	pf_source *s;
	int state;
	uint64_t epoch;

	ut_put("x.pkl", ut_alumnos4, sizeof(ut_alumnos4));
	s = source("x.pkl", &state);
	cr_assert_eq(pf_source_enter(s), 0);
	epoch = s->epoch;
	pf_source_leave(s);
	ut_put("x.pkl", ut_alumnos0, sizeof(ut_alumnos0));
	/* enter_edit looks at the disk now (enter: at most once a second) */
	cr_assert_eq(pf_source_enter_edit(s), 0);
	cr_assert_neq(s->epoch, epoch);
	cr_assert_eq(s->doc->proto, -1, "no PROTO opcode");
	cr_assert_eq(s->doc->op_proto, 0);
	cr_assert_eq(pk_val_node(s->doc->root)->nkids, 4);
	pf_source_leave(s);
	pf_source_free(s);
}

/* ---- compressed pickles at lookup, and the bound ------------------------ */

/* A lookup decompresses no more than PF_EAGER_MAX: a small compressed
 * pickle is parsed (a broken one would show as a file at once); a bomb
 * stays a directory, not decompressed, until it is opened; then the
 * bound refuses it with EFBIG, logged, remembered (not decompressed
 * again) until the file changes. */
Test(source, compressed_bomb_at_lookup, .init = setup, .fini = teardown)
{
	pf_source *small, *bomb;
	char msg[512], want[512];
	int state;

	pf_expand_configure(4u << 20, ut_dir, NULL, NULL);
	ut_put_bomb("small.pkl.gz", PK_Z_GZIP, 1000);
	ut_put_bomb("bomb.pkl.bz2", PK_Z_BZIP2, 8u << 20);
	small = source("small.pkl.gz", &state);
	cr_expect_eq(state, PF_SRC_PICKLE);
	cr_expect(small->dv != NULL, "a small one is parsed at lookup");
	bomb = source("bomb.pkl.bz2", &state);
	cr_expect_eq(state, PF_SRC_PICKLE);
	cr_expect(bomb->big);
	cr_expect(bomb->dv == NULL && bomb->map == NULL,
		  "a big one is left for later");
	cr_expect_eq(bomb->broken, 0);
	/* opened: past the bound of 4 MiB */
	cr_expect_eq(pf_source_enter(bomb), EFBIG);
	cr_expect_eq(bomb->zfail, EFBIG);
	pf_source_describe_error(bomb, msg, sizeof(msg));
	snprintf(want, sizeof(want),
		 "bomb.pkl.bz2: byte %llu of the compressed input: expands "
		 "past the limit of 4 MiB (-o max_expand=SIZE)",
		 (unsigned long long)bomb->err.offset);
	cr_expect_str_eq(msg, want);
	/* still a directory (not a broken file); refused again without
	 * decompressing again, even with a bigger bound now */
	pf_expand_configure(16u << 20, ut_dir, NULL, NULL);
	cr_expect_eq(pf_source_classify(bomb, &bomb->st, 0), PF_SRC_PICKLE);
	cr_expect_eq(pf_source_enter(bomb), EFBIG);
	/* the file changes: read anew, under the new bound */
	ut_put_bomb("bomb.pkl.bz2", PK_Z_BZIP2, 9u << 20);
	cr_expect_eq(pf_source_enter_edit(bomb), 0);
	cr_expect_eq(bomb->map->len, (9u << 20) + 12);
	pf_source_leave(bomb);
	pf_source_free(small);
	pf_source_free(bomb);
	pf_expand_configure(0, NULL, NULL, NULL);
}

/* A protocol 0/1 candidate (no pickle name) must parse whole to count:
 * compressed, a lookup gives up past PF_EAGER_MAX and shows its file. */
Test(source, compressed_maybe_too_big_to_tell, .init = setup, .fini = teardown)
{
	size_t n = (2u << 20) + 5;
	uint8_t *p = malloc(n);
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e;
	pf_source *big, *small;
	int state;

	cr_assert(p);
	/* S'aaaa...'\n. : a protocol 0 str of 2 MiB */
	memset(p, 'a', n);
	memcpy(p, "S'", 2);
	memcpy(p + n - 3, "'\n.", 3);
	memset(&zi, 0, sizeof(zi));
	zi.fmt = PK_Z_GZIP;
	cr_assert_eq(pk_z_compress_mem(&zi, p, n, &out, &e), PK_OK);
	ut_put("p0big", out.data, out.len);
	pk_buf_reset(&out);
	cr_assert_eq(
	    pk_z_compress_mem(&zi, ut_alumnos0, sizeof(ut_alumnos0), &out, &e),
	    PK_OK);
	ut_put("p0small", out.data, out.len);
	big = source("p0big", &state);
	cr_expect_eq(big->sniffed, PF_SNIFF_MAYBE);
	cr_expect_eq(state, PF_SRC_FILE);
	cr_expect_eq(big->broken, 0);
	small = source("p0small", &state);
	cr_expect_eq(state, PF_SRC_PICKLE);
	pk_buf_release(&out);
	free(p);
	pf_source_free(big);
	pf_source_free(small);
}

/* The messages of a compressed source say whose offset it is. */
Test(source, compressed_error_messages, .init = setup, .fini = teardown)
{
	pk_buf out = PK_BUF_INIT;
	pk_zinfo zi;
	pk_err e;
	pf_source *cut, *crc;
	char msg[512], want[512];
	int state;

	memset(&zi, 0, sizeof(zi));
	zi.fmt = PK_Z_GZIP;
	cr_assert_eq(pk_z_compress_mem(&zi, ut_alumnos4, 20, &out, &e), PK_OK);
	ut_put("cut.pkl.gz", out.data, out.len);
	out.data[out.len - 8] ^= 1; /* the CRC */
	ut_put("crc.pkl.gz", out.data, out.len);
	cut = source("cut.pkl.gz", &state);
	cr_expect_eq(state, PF_SRC_FILE);
	pf_source_describe_error(cut, msg, sizeof(msg));
	snprintf(want, sizeof(want),
		 "cut.pkl.gz: byte %llu of the decompressed data: %s",
		 (unsigned long long)cut->err.offset, cut->err.msg);
	cr_expect_str_eq(msg, want);
	crc = source("crc.pkl.gz", &state);
	cr_expect_eq(state, PF_SRC_FILE);
	pf_source_describe_error(crc, msg, sizeof(msg));
	snprintf(want, sizeof(want),
		 "crc.pkl.gz: byte %zu of the compressed input: gzip CRC "
		 "mismatch",
		 out.len - 8);
	cr_expect_str_eq(msg, want);
	pk_buf_release(&out);
	pf_source_free(cut);
	pf_source_free(crc);
}
