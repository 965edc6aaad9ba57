/*
 * libFuzzer harness for the edits of fs/view/edit.h on a decoded doc.
 *
 * The input is a pickle (decoded as the mount does) followed by the
 * edits to make: the bytes after its STOP (or, when there are none, the
 * input again) drive up to MAX_STEPS edits, each on an entry picked from
 * the docview as it is then: pf_edit_set (after pf_edit_check, which must
 * give the same answer), pf_edit_add of a file or a dict (mkdir),
 * pf_edit_remove (after pf_edit_can_remove, same answer),
 * pf_edit_rename_key, pf_edit_convert; texts, names and types come from
 * lists of literals and names that matter, or from the input.
 *
 * After every edit:
 *   - it answered 0, EINVAL or EPERM (with a message);
 *   - refused, it changed nothing: the doc encodes to the same bytes as
 *     before;
 *   - done, the doc (its docview rebuilt, as edit.h asks) encodes, the
 *     bytes decode again, and the decoded doc is the edited one: the same
 *     value graph (kinds, scalars' text, kids in order, which nodes are
 *     shared) and the same tree of names, file types, contents and
 *     symlinks in its docview (but for the empty tuple, which a pickle
 *     may share with DUP and a re-encoding never does, as CPython: a
 *     shared one shows as a symlink, then as an empty directory); for
 *     an irregular doc (DUP, a memo index PUT twice ..., which CPython's
 *     pickler never writes; the encoder numbers its memo anew) only that
 *     the encoding decodes, and the same for a doc that calls a list or
 *     dict (REDUCE, OBJ ... of a container, which CPython can neither
 *     write nor load) or has one as a persistent id: such docs are
 *     known to come back otherwise in cases (tests/fuzz/known/);
 *   - a str or bytes file holds the text written (a str less one '\n',
 *     then a '\n' unless it is empty);
 *   - for an int, float or bool file, every prefix of a text that
 *     pf_edit_set took is one pf_edit_viable lets through (the mount
 *     refuses a write() early by it); for a library scalar (datetime,
 *     numpy scalar ...), pf_edit_check gives pf_edit_set's answer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "docview.h"
#include "edit.h"
#include "form.h"
#include "names.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

#define MAX_STEPS 12
#define MAX_ITEMS 512  /* entries an edit picks from */
#define MAX_WALK 20000 /* entries compared between two docviews */

struct rd {
	const uint8_t *p;
	size_t n, i;
};

static unsigned byte(struct rd *r)
{
	return r->i < r->n ? r->p[r->i++] : 0;
}

/* ---- the value graph as text ------------------------------------------- */

struct seen {
	const pk_node **v;
	size_t n, cap;
};

static int64_t seen_find(const struct seen *s, const pk_node *p)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == p)
			return (int64_t)i;
	return -1;
}

struct frame {
	const pk_node *node;
	uint32_t next;
};

/* Python has one empty tuple: which of them a pickle shares (by DUP; a
 * re-encoding writes each as EMPTY_TUPLE, as CPython does) says nothing. */
static int empty_tuple(pk_val v)
{
	return pk_val_is_node(v) && pk_val_node(v)->kind == PK_TUPLE &&
	       pk_val_node(v)->nkids == 0;
}

/* Scalars as "<kind>len:text", nodes as "<kind>#id[kid,kid,...]" the
 * first time and "@id" after (the empty tuple as "()"): equal dumps are
 * equal values with the same sharing, whatever the opcodes. */
static void dump(const pk_doc *doc, pk_buf *out, int *calls_container)
{
	struct seen s = {NULL, 0, 0};
	struct frame *st = NULL;
	size_t n = 0, cap = 0;
	pk_val v = doc->root;
	int have = 1;

	for (;;) {
		if (have) {
			if (empty_tuple(v)) {
				CHECK(pk_buf_adds(out, "()") == 0);
			} else if (pk_val_is_node(v)) {
				const pk_node *nd = pk_val_node(v);
				int64_t id = seen_find(&s, nd);
				if (id >= 0) {
					CHECK(pk_buf_addf(out, "@%lld",
							  (long long)id) == 0);
				} else {
					CHECK(pk_vec_grow((void **)&s.v, &s.cap,
							  s.n + 1,
							  sizeof(*s.v)) == 0);
					s.v[s.n++] = nd;
					CHECK(pk_buf_addf(out, "<%d>#%zu[",
							  pk_val_kind(v),
							  s.n - 1) == 0);
					CHECK(pk_vec_grow((void **)&st, &cap,
							  n + 1,
							  sizeof(*st)) == 0);
					st[n].node = nd;
					st[n].next = 0;
					n++;
					if ((nd->kind == PK_OBJECT ||
					     nd->kind == PK_PERSID) &&
					    nd->nkids &&
					    pk_val_is_container(nd->kids[0]))
						*calls_container = 1;
				}
			} else {
				pk_buf t = PK_BUF_INIT;
				pk_err e;
				CHECK(pk_val_format(doc, v, &t, &e) == PK_OK);
				CHECK(pk_buf_addf(out, "<%d>%zu:",
						  pk_val_kind(v), t.len) == 0);
				CHECK(pk_buf_add(out, t.data, t.len) == 0);
				pk_buf_release(&t);
			}
			have = 0;
		}
		if (!n)
			break;
		if (st[n - 1].next < st[n - 1].node->nkids) {
			v = st[n - 1].node->kids[st[n - 1].next++];
			have = 1;
			CHECK(pk_buf_addc(out, ',') == 0);
		} else {
			CHECK(pk_buf_addc(out, ']') == 0);
			n--;
		}
	}
	free(st);
	free(s.v);
}

/* ---- the docview as a tree of names ----------------------------------- */

/* Walks two docviews side by side: the same names, looks, types,
 * contents and symlinks, directory by directory. */
static void same_tree(const pk_doc *da, pf_docview *a, const pk_doc *db,
		      pf_docview *b)
{
	pf_ref *qa = NULL, *qb = NULL;
	size_t n = 0, cap = 0, capb = 0, done = 0, walked = 0;

	CHECK(pk_vec_grow((void **)&qa, &cap, 1, sizeof(*qa)) == 0);
	CHECK(pk_vec_grow((void **)&qb, &capb, 1, sizeof(*qb)) == 0);
	qa[n] = pf_docview_root(a);
	qb[n++] = pf_docview_root(b);
	while (done < n && walked < MAX_WALK) {
		pf_ref ra = qa[done], rb = qb[done];
		uint64_t na, nb, i;
		int rca = pf_docview_count(a, ra, &na),
		    rcb = pf_docview_count(b, rb, &nb);

		done++;
		CHECK(rca == rcb);
		if (rca)
			continue;
		CHECK(na == nb);
		for (i = 0; i < na && walked < MAX_WALK; i++, walked++) {
			pf_child ca, cb;
			pk_buf x = PK_BUF_INIT, y = PK_BUF_INIT;

			CHECK(pf_docview_child(a, ra, i, &ca) == 0);
			CHECK(pf_docview_child(b, rb, i, &cb) == 0);
			CHECK(pf_docview_name(a, ra, i, &x) == 0);
			CHECK(pf_docview_name(b, rb, i, &y) == 0);
			if (x.len != y.len || memcmp(x.data, y.data, x.len)) {
				fprintf(stderr,
					"entry %llu: '%s' here, '%s' "
					"after encoding and decoding\n",
					(unsigned long long)i, (char *)x.data,
					(char *)y.data);
				abort();
			}
			if (ca.look != cb.look) {
				/* a shared empty tuple is a symlink, an
				 * unshared one an empty directory */
				CHECK(ca.e.target.part == PF_PART_SELF &&
				      empty_tuple(*ca.e.target.val) &&
				      empty_tuple(*cb.e.target.val));
			} else if (ca.look == PF_LOOK_LINK) {
				pk_buf_reset(&x);
				pk_buf_reset(&y);
				CHECK(pf_docview_link(a, ra, i, &x) == 0);
				CHECK(pf_docview_link(b, rb, i, &y) == 0);
				CHECK(x.len == y.len &&
				      !memcmp(x.data, y.data, x.len));
			} else if (ca.look == PF_LOOK_FILE) {
				pf_content c1, c2;
				int r1, r2;
				CHECK(!strcmp(pf_ref_type_name(ca.e.target),
					      pf_ref_type_name(cb.e.target)));
				pf_content_init(&c1);
				pf_content_init(&c2);
				r1 = pf_content_get(da, ca.e.target, 0, &c1,
						    NULL);
				r2 = pf_content_get(db, cb.e.target, 0, &c2,
						    NULL);
				CHECK(r1 == r2);
				CHECK(r1 ||
				      (c1.len == c2.len && c1.nl == c2.nl &&
				       (!c1.len ||
					!memcmp(c1.data, c2.data, c1.len))));
				pf_content_release(&c1);
				pf_content_release(&c2);
			} else {
				CHECK(pk_vec_grow((void **)&qa, &cap, n + 1,
						  sizeof(*qa)) == 0);
				CHECK(pk_vec_grow((void **)&qb, &capb, n + 1,
						  sizeof(*qb)) == 0);
				qa[n] = ca.e.target;
				qb[n++] = cb.e.target;
			}
			pk_buf_release(&x);
			pk_buf_release(&y);
		}
	}
	free(qa);
	free(qb);
}

/* ---- picking what to edit ---------------------------------------------- */

struct item {
	pf_ref dir;
	uint64_t i;
	pf_child c;
};

/* Entries of the docview, breadth first, at most MAX_ITEMS; dirs[] the
 * directories among them and the root. */
static size_t collect(pf_docview *dv, struct item *it, pf_ref *dirs,
		      size_t *ndirs)
{
	size_t n = 0, done = 0;

	*ndirs = 0;
	dirs[(*ndirs)++] = pf_docview_root(dv);
	while (done < *ndirs && n < MAX_ITEMS) {
		pf_ref dir = dirs[done++];
		uint64_t cnt, i;

		if (pf_docview_count(dv, dir, &cnt))
			continue;
		for (i = 0; i < cnt && n < MAX_ITEMS; i++) {
			CHECK(pf_docview_child(dv, dir, i, &it[n].c) == 0);
			it[n].dir = dir;
			it[n].i = i;
			if (it[n].c.look == PF_LOOK_DIR && *ndirs < MAX_ITEMS)
				dirs[(*ndirs)++] = it[n].c.e.target;
			n++;
		}
	}
	return n;
}

/* Texts written to files: literals of every type, their edges, and what
 * Python's int() and float() also read. */
static const char *const texts[] = {
    "0",	  "1",	      "-1",	  "7\n",
    " 42 ",	  "1.5",      "-0.0",	  "nan",
    "-inf",	  "Infinity", "1e309",	  "2.5e-3",
    "1e",	  "1_000",    "0x10",	  "True",
    "False\n",	  "None",     "(1+2j)",	  "2j",
    "x",	  "x\n",      "",	  "\n",
    "\n\n",	  "abc",      "5 6",	  "\xc3\xa9",
    "\xff\xfe",	  "a\0b",     "\xd9\xa5", "\xef\xbc\x95",
    "1.\xd9\xa5", "+5",	      "-",	  "123456789012345678901234567890",
    "-0",	  "9.5",      "2",	  "1e5"};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

static const char *const names[] = {
    "new", "x",		"1",	 "-1",	"01",  "1%int", "2%int", "%",
    "%2E", ".",		"a%2Fb", "a/b", "%41", "None",	"n%int", "b'x'",
    "0",   "__class__", "x%str", "%25", "3",   "1.5"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static const char *const types[] = {NULL,   "str",  "int",   "float",
				    "bool", "none", "bytes", "complex",
				    "list", "bogus"};
#define NTYPES (sizeof(types) / sizeof(types[0]))

/* A text: from the list, or bytes of the input. */
static void pick_text(struct rd *r, pk_buf *t)
{
	unsigned how = byte(r), len;

	if (how < 200) {
		const char *s = texts[how % NTEXTS];
		/* "a\0b" has a NUL inside */
		CHECK(pk_buf_add(t, s, strcmp(s, "a") == 0 ? 3 : strlen(s)) ==
		      0);
		return;
	}
	for (len = byte(r) % 24; len; len--)
		CHECK(pk_buf_addc(t, (uint8_t)byte(r)) == 0);
}

static void pick_name(struct rd *r, pk_buf *nm)
{
	unsigned how = byte(r);

	if (how < 220)
		CHECK(pk_buf_adds(nm, names[how % NNAMES]) == 0);
	else
		CHECK(pk_buf_addf(nm, "k%u", byte(r)) == 0);
	CHECK(pk_buf_addc(nm, 0) == 0);
	nm->len--;
}

/* ---- one step ---------------------------------------------------------- */

/* FUZZ_EDIT_TRACE=1 in the environment: each step on stderr, and each
 * encoding into fuzz-edit-N.pkl (to read a crash with pickletools). */
static int tracing = -1;

static int trace_on(void)
{
	if (tracing < 0)
		tracing = getenv("FUZZ_EDIT_TRACE") != NULL;
	return tracing;
}

static void trace(const char *what, struct item *it, pf_docview *dv,
		  const uint8_t *t, size_t n)
{
	pk_buf nm = PK_BUF_INIT;

	if (!trace_on())
		return;
	if (it)
		pf_docview_name(dv, it->dir, it->i, &nm);
	fprintf(stderr, "step: %s entry %llu '%s' text '%.*s'\n", what,
		it ? (unsigned long long)it->i : 0ull,
		nm.data ? (char *)nm.data : "-", (int)n, t ? (char *)t : "");
	pk_buf_release(&nm);
}

struct state {
	pk_doc *doc;
	pf_docview *dv;
	pk_buf enc; /* the doc's encoding before the step */
};

static void encode(pk_doc *doc, pk_buf *out)
{
	pk_err e;

	pk_buf_reset(out);
	if (pk_encode_to_buf(doc, out, &e) != PK_OK) {
		fprintf(stderr, "an edited doc does not encode: %s\n", e.msg);
		abort();
	}
}

/* After a refused step: nothing changed. */
static void unchanged(struct state *s, const char *what)
{
	pk_buf now = PK_BUF_INIT;

	encode(s->doc, &now);
	if (now.len != s->enc.len || memcmp(now.data, s->enc.data, now.len)) {
		fprintf(stderr, "a refused %s changed the doc\n", what);
		abort();
	}
	pk_buf_release(&now);
}

/* After a done step: rebuild the view, encode, decode, compare. */
static void done(struct state *s, const char *what)
{
	pk_doc *again = NULL;
	pf_docview *dv2 = NULL;
	pk_buf d1 = PK_BUF_INIT, d2 = PK_BUF_INIT;
	pk_err e;
	int odd = 0;

	pf_docview_free(s->dv);
	CHECK(pf_docview_new(s->doc, &s->dv) == 0);
	encode(s->doc, &s->enc);
	if (trace_on()) {
		static int k;
		char path[64];
		FILE *f;
		snprintf(path, sizeof(path), "fuzz-edit-%d.pkl", k++);
		f = fopen(path, "wb");
		if (f) {
			fwrite(s->enc.data, 1, s->enc.len, f);
			fclose(f);
		}
		fprintf(stderr, "%s done: %s\n", what, path);
	}
	if (pk_decode(s->enc.data, s->enc.len, 0, &again, &e) != PK_OK) {
		fprintf(stderr,
			"after a %s the encoding does not decode: %s "
			"at %llu\n",
			what, e.msg, (unsigned long long)e.offset);
		abort();
	}
	/* an irregular doc (DUP, a memo index PUT twice ...: what CPython's
	 * pickler never writes) is written with the memo numbered anew, and
	 * known to come back otherwise in cases (tests/fuzz/known/): only
	 * checked to encode and decode */
	odd = s->doc->irregular;
	if (!odd) {
		/* so is a doc that calls a list or dict (REDUCE, OBJ ...),
		 * which CPython can neither write nor load, or has one as a
		 * persistent id (BINPERSID) */
		dump(s->doc, &d1, &odd);
		dump(again, &d2, &odd);
	}
	if (!odd && (d1.len != d2.len || memcmp(d1.data, d2.data, d1.len))) {
		fprintf(stderr, "after a %s:\nedited:  %.*s\ndecoded: %.*s\n",
			what, (int)(d1.len > 2000 ? 2000 : d1.len),
			(char *)d1.data, (int)(d2.len > 2000 ? 2000 : d2.len),
			(char *)d2.data);
		abort();
	}
	CHECK(pf_docview_new(again, &dv2) == 0);
	if (!odd)
		same_tree(s->doc, s->dv, again, dv2);
	pf_docview_free(dv2);
	pk_doc_free(again);
	pk_buf_release(&d1);
	pk_buf_release(&d2);
}

static void answer(struct state *s, int rc, const pk_err *e, const char *what)
{
	if (rc == 0) {
		done(s, what);
		return;
	}
	if (rc != EINVAL && rc != EPERM) {
		fprintf(stderr, "%s: unexpected errno %d\n", what, rc);
		abort();
	}
	CHECK(e->msg && e->msg[0]);
	unchanged(s, what);
}

/* The content of a file as cat shows it. */
static void content_is(const pk_doc *doc, pf_ref ref, const uint8_t *want,
		       size_t n, int nl)
{
	pf_content c;

	pf_content_init(&c);
	CHECK(pf_content_get(doc, ref, 0, &c, NULL) == 0);
	if (c.len != n || c.nl != nl || (n && memcmp(c.data, want, n))) {
		fprintf(stderr,
			"the file (%s) holds '%.*s' (%llu bytes, nl %d), not "
			"'%.*s' (%zu bytes, nl %d)\n",
			pf_ref_type_name(ref), (int)c.len, (const char *)c.data,
			(unsigned long long)c.len, c.nl, (int)n,
			(const char *)want, n, nl);
		abort();
	}
	pf_content_release(&c);
}

static void step_set(struct state *s, struct item *it, struct rd *r)
{
	pk_buf t = PK_BUF_INIT;
	pf_ref ref = it->c.e.target;
	int scalar =
	    ref.part == PF_PART_SELF && pf_form_of(ref.val) == PF_FORM_SCALAR;
	int kind = scalar ? pf_kind(ref.val) : 0;
	int early = pf_edit_early_kind(ref), rc, crc = 0;
	/* a library scalar's text is checked whole (edit.h) */
	int checked = scalar || early == PF_EDIT_EARLY_LINE;
	pk_err e, ce;
	size_t j;

	pick_text(r, &t);
	trace("set", it, s->dv, t.data, t.len);
	if (checked) {
		crc = pf_edit_check(s->doc, ref, t.data, t.len, &ce);
		unchanged(s, "check");
	}
	rc = pf_edit_set(s->doc, ref, t.data, t.len, &e);
	if (checked && rc != crc) {
		fprintf(stderr, "check said %d, set %d, for '%.*s'\n", crc, rc,
			(int)t.len, (char *)t.data);
		abort();
	}
	if (rc == 0 && early > 0) {
		for (j = 0; j <= t.len; j++)
			if (pf_edit_viable(early, t.data, j, &ce)) {
				fprintf(stderr,
					"set took '%.*s' but viable refuses "
					"its first %zu bytes\n",
					(int)t.len, (char *)t.data, j);
				abort();
			}
	}
	if (rc == 0 && kind == PK_STR) {
		/* an empty str is an empty file (README) */
		j = t.len && t.data[t.len - 1] == '\n' ? t.len - 1 : t.len;
		content_is(s->doc, ref, t.data, j, j > 0);
	}
	if (rc == 0 && (kind == PK_BYTES || kind == PK_BYTEARRAY))
		content_is(s->doc, ref, t.data, t.len, 0);
	answer(s, rc, &e, "set");
	pk_buf_release(&t);
}

static void step_add(struct state *s, pf_ref dir, struct rd *r, int mkdir)
{
	pk_buf t = PK_BUF_INIT, nm = PK_BUF_INIT;
	const char *type = types[byte(r) % NTYPES];
	int named = byte(r) % 8 != 0, rc;
	pk_err e;

	pick_text(r, &t);
	pick_name(r, &nm);
	trace(mkdir ? "mkdir" : "add", NULL, s->dv, nm.data, nm.len);
	rc = pf_edit_add(s->doc, dir, named ? (char *)nm.data : NULL, mkdir,
			 t.data, t.len, type, NULL, &e);
	answer(s, rc, &e, mkdir ? "mkdir" : "add");
	pk_buf_release(&t);
	pk_buf_release(&nm);
}

static void step_remove(struct state *s, struct item *it)
{
	pk_err e, ce;
	int crc = pf_edit_can_remove(it->dir, it->c.e.key, it->c.e.target.val,
				     &ce),
	    rc;

	trace("remove", it, s->dv, NULL, 0);
	unchanged(s, "can_remove");
	rc = pf_edit_remove(s->doc, it->dir, it->c.e.key, it->c.e.target.val,
			    &e);
	if (rc != crc) {
		fprintf(stderr, "can_remove said %d, remove %d\n", crc, rc);
		abort();
	}
	answer(s, rc, &e, "remove");
}

static void step_rename(struct state *s, struct item *it, struct rd *r)
{
	pk_buf nm = PK_BUF_INIT;
	pk_err e;
	int rc;

	pick_name(r, &nm);
	if (!it->c.e.key) {
		pk_buf_release(&nm);
		return;
	}
	trace("rename", it, s->dv, nm.data, nm.len);
	rc = pf_edit_rename_key(s->doc, it->dir, (pk_val *)it->c.e.key,
				(char *)nm.data, &e);
	answer(s, rc, &e, "rename");
	pk_buf_release(&nm);
}

static void step_convert(struct state *s, struct item *it, struct rd *r)
{
	const char *type = types[1 + byte(r) % (NTYPES - 1)];
	pk_err e;
	int rc;

	trace("convert", it, s->dv, (const uint8_t *)type, strlen(type));
	rc = pf_edit_convert(s->doc, it->c.e.target, type, &e);

	answer(s, rc, &e, "convert");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s = {NULL, NULL, PK_BUF_INIT};
	struct item *items = malloc(MAX_ITEMS * sizeof(*items));
	pf_ref *dirs = malloc(MAX_ITEMS * sizeof(*dirs));
	struct rd r;
	pk_err e;
	int k;

	CHECK(items && dirs);
	if (pk_decode(data, size, 0, &s.doc, &e) != PK_OK)
		goto out;
	CHECK(pf_docview_new(s.doc, &s.dv) == 0);
	r.p = data;
	r.n = size;
	r.i = s.doc->end < size ? s.doc->end : 0;
	/* the doc as decoded is its own encoding, decoded */
	done(&s, "decode");
	for (k = 0; k < MAX_STEPS && r.i < r.n; k++) {
		size_t ndirs, n = collect(s.dv, items, dirs, &ndirs);
		unsigned what = byte(&r), pick = byte(&r);
		struct item *it = n ? &items[pick % n] : NULL;

		switch (what % 8) {
		case 0:
		case 1:
			if (it && it->c.look == PF_LOOK_FILE)
				step_set(&s, it, &r);
			break;
		case 2:
			step_add(&s, dirs[pick % ndirs], &r, 0);
			break;
		case 3:
			step_add(&s, dirs[pick % ndirs], &r, 1);
			break;
		case 4:
			if (it)
				step_remove(&s, it);
			break;
		case 5:
		case 6:
			if (it)
				step_rename(&s, it, &r);
			break;
		default:
			if (it)
				step_convert(&s, it, &r);
			break;
		}
	}
	pf_docview_free(s.dv);
	pk_doc_free(s.doc);
out:
	pk_buf_release(&s.enc);
	free(items);
	free(dirs);
	return 0;
}
