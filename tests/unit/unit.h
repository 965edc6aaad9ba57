/*
 * unit.h - what several unit test files share: the pickles they read,
 * a scratch folder, and short ways to drive a decoded doc (docview.h,
 * content.h) or a mount core (vfs.h) from a test.
 *
 * Every helper fails the calling test (cr_assert) instead of returning
 * an error. Results handed back in static buffers are valid until the
 * next call of the same helper.
 */
#ifndef PF_TEST_UNIT_H
#define PF_TEST_UNIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "content.h"
#include "docview.h"
#include "pickle.h"
#include "vfs.h"

/* {'Jose': 7, 'Arnoldo': 8, 'Maria': 10}, protocol 4, as CPython 3.11
 * writes it; ALUMNOS4_JOSE is the offset of the 7 (a BININT1 argument) */
extern const uint8_t ut_alumnos4[47];
#define ALUMNOS4_JOSE 22
/* {'Jose': 7, 'Arnoldo': 8}, protocol 0 */
extern const uint8_t ut_alumnos0[35];

/* ---- a scratch folder: /tmp/pf-unit-XXXXXX -------------------------- */
extern char ut_dir[64];
/* .init / .fini of tests that use it (make_dir also quiets the log) */
void ut_make_dir(void);
void ut_remove_dir(void);
/* ut_dir/name gets n bytes of data */
void ut_put(const char *name, const void *data, size_t n);
/* ut_dir/name gets a pickle of `zeros` zero bytes (protocol 4,
 * BINBYTES8: 12 bytes more), compressed as fmt (enum pk_zfmt): a small
 * file that expands a lot */
void ut_put_bomb(const char *name, int fmt, size_t zeros);
/* The bytes of ut_dir/name, malloc'ed, *n their count (the caller
 * frees) */
uint8_t *ut_slurp(const char *name, size_t *n);
/* Whether ut_dir/name holds exactly data[0..n) */
int ut_file_is(const char *name, const void *data, size_t n);
/* How many files of ut_dir have a name that contains part */
int ut_count_files(const char *part);

/* ---- a decoded doc and its view ------------------------------------- */
typedef struct ut_doc {
	pk_doc *doc;
	pf_docview *dv;
} ut_doc;

ut_doc ut_open_doc(const uint8_t *p, size_t n);
void ut_close_doc(ut_doc *f);
/* Entry `name` of dir (fails the test when missing); *index (may be
 * NULL) gets its index */
pf_child ut_child(ut_doc *f, pf_ref dir, const char *name, uint64_t *index);
/* What cat prints for r, NUL-terminated; also checks that the size-only
 * answer agrees */
char *ut_content(const pk_doc *doc, pf_ref r);
/* The name of entry i of dir */
char *ut_name_of(ut_doc *f, pf_ref dir, uint64_t i);
/* The file at a path of names below the root, "a/b/c" */
pf_ref ut_path(ut_doc *f, const char *path);
/* pk_encode_to_buf of the doc, decoded again into a new doc (freed by
 * the caller) */
pk_doc *ut_reencode(pk_doc *doc, pk_buf *out);

/* ---- a mount core over ut_dir (or a file in it) --------------------- */
pf_inode *ut_look(pf_fs *fs, pf_inode *d, const char *name, struct stat *st);
/* What reading the whole file gives, NUL-terminated (up to 255 bytes) */
char *ut_read_all(pf_fs *fs, pf_inode *in);
/* "NAME/ NAME ..." of a directory's entries in readdir order ("/" after
 * directories) */
char *ut_list(pf_fs *fs, pf_inode *dir);
/* Writes text into in (O_WRONLY | O_TRUNC), then flush and release:
 * returns the first errno of write or flush (0: committed) */
int ut_write_file(pf_fs *fs, pf_inode *in, const char *text);

#endif
