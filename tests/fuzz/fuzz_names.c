/*
 * libFuzzer harness for the naming of fs/view/names.h, alone and as a
 * docview applies it to the dicts of a doc. Each input is used five ways:
 *
 *   1. as the text of a str key: pf_name_escape gives a legal natural
 *      name (not empty, no '/' or NUL, not "." or "..", never
 *      "%<lower-case letter>", so pf_name_split finds no suffix) and
 *      pf_name_unescape gives the text back;
 *   2. as a file name: pf_name_unescape accepts exactly the canonical
 *      spellings (escaping what it returns gives the name again) and
 *      leaves the buffer as it was when it refuses; pf_name_split's parts
 *      put together give the name again; pf_index_parse accepts exactly
 *      what pf_index_name prints;
 *   3. as a list of candidates (natural names made by pf_name_escape,
 *      reserved names and list indices, priorities, suffix types, runs of
 *      equal names, names around the 240-byte limit) for pf_names_build;
 *   4. as a pickle: if it decodes, every directory of its docview is
 *      checked as below;
 *   5. as the recipe of a pickle whose dict keys are of every kind the
 *      naming covers (str, Python 2 str, bytes, bytearray, int of every
 *      size, float with any bits, None, bool, tuple, frozenset, complex,
 *      an object call, a global, pickle buffers), chosen so that their
 *      names collide often; that pickle must decode, its directories are
 *      checked as below, then keys are renamed (pf_edit_rename_key) to
 *      names read from the input and each must come back under its new
 *      name.
 *
 * The naming invariants checked (names.h, README "Names"): every name is
 * legal and at most 255 bytes; names are distinct and lookup finds each
 * one's entry; a name is the entry's natural name (its escaped text:
 * the key's text for a str, its repr otherwise, a reserved name, the
 * index), or that name suffixed "%TYPE[K]" with the entry's type, and then
 * the natural name belongs to an entry that comes first (priority:
 * reserved, str keys, others; then order) and "%TYPE[K-1]" is taken too,
 * or, for a natural name longer than 240 bytes, its first 200 bytes
 * (whole UTF-8 characters) suffixed "%long[K]".
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
#include "repr.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

#define MAX_NAME 255

/* ---- reading the input ------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t n, i;
};

static unsigned byte(struct rd *r)
{
	return r->i < r->n ? r->p[r->i++] : 0;
}

static int more(const struct rd *r)
{
	return r->i < r->n;
}

/* Few characters, so that names collide: the ones escaping is about,
 * digits, letters of reprs, two- and three-byte UTF-8. */
static const char *const alphabet[] = {
    "a",  "b", "1", "0", "%", "/",	  ".",
    "\0", "-", " ", "(", ")", "'",	  "e",
    "n",  "N", "x", "_", ",", "\xc3\xa9", "\xe2\x82\xac",
    "2",  "A", "F"};
#define NALPHA (sizeof(alphabet) / sizeof(alphabet[0]))

static void add_text(struct rd *r, pk_buf *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		const char *s = alphabet[byte(r) % NALPHA];
		CHECK(pk_buf_add(b, s, s[0] ? strlen(s) : 1) == 0);
	}
}

/* Texts that are other keys' names. */
static const char *const tricky[] = {"",
				     ".",
				     "..",
				     "1",
				     "-1",
				     "01",
				     "None",
				     "True",
				     "1.5",
				     "nan",
				     "b'x'",
				     "(1, 2)",
				     "()",
				     "1%int",
				     "1%str",
				     "%",
				     "%25",
				     "%2F",
				     "a/b",
				     "__class__",
				     "0",
				     "(1+2j)",
				     "frozenset({1})",
				     "x%none",
				     "'a'",
				     "b'a'",
				     "1.0",
				     "inf",
				     "decimal.Decimal('1')"};
#define NTRICKY (sizeof(tricky) / sizeof(tricky[0]))

/* ---- properties of one name ------------------------------------------- */

static int is_lower(uint8_t c)
{
	return c >= 'a' && c <= 'z';
}

static void check_legal(const uint8_t *s, size_t n)
{
	CHECK(n >= 1 && n <= MAX_NAME);
	CHECK(!memchr(s, '/', n) && !memchr(s, '\0', n));
	CHECK(!(n == 1 && s[0] == '.') &&
	      !(n == 2 && s[0] == '.' && s[1] == '.'));
}

/* 1 when s holds '%' followed by a lower-case letter. */
static int has_suffix_mark(const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (s[i] == '%' && is_lower(s[i + 1]))
			return 1;
	return 0;
}

/* Longest prefix of at most max bytes that ends on a character boundary
 * (as names.c cuts long names). */
static size_t cut_utf8(const uint8_t *s, size_t n, size_t max)
{
	size_t k = max;

	if (n <= max)
		return n;
	while (k > 0 && (s[k] & 0xc0) == 0x80)
		k--;
	return k;
}

/* ---- 1 and 2: escaping and parsing ------------------------------------ */

static void fuzz_escape(const uint8_t *data, size_t size)
{
	pk_buf name = PK_BUF_INIT, back = PK_BUF_INIT;
	size_t baselen, typelen;
	const char *type;
	unsigned k;

	CHECK(pf_name_escape(data, size, &name) == 0);
	CHECK(name.len >= 1);
	CHECK(!memchr(name.data, '/', name.len) &&
	      !memchr(name.data, '\0', name.len));
	CHECK(!(name.len == 1 && name.data[0] == '.') &&
	      !(name.len == 2 && !memcmp(name.data, "..", 2)));
	CHECK(!has_suffix_mark(name.data, name.len));
	CHECK(pf_name_split((const char *)name.data, name.len, &baselen, &type,
			    &typelen, &k) == -1);
	CHECK(pf_name_unescape((const char *)name.data, name.len, &back) == 0);
	CHECK(back.len == size && (!size || !memcmp(back.data, data, size)));
	pk_buf_release(&name);
	pk_buf_release(&back);
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	const char *name = (const char *)data;
	pk_buf text = PK_BUF_INIT, again = PK_BUF_INIT, whole = PK_BUF_INIT;
	size_t baselen, typelen, i;
	const char *type;
	unsigned k;
	uint64_t idx;
	char num[24];

	CHECK(pk_buf_adds(&text, "pre") == 0);
	if (pf_name_unescape(name, size, &text) == 0) {
		CHECK(pf_name_escape(text.data + 3, text.len - 3, &again) == 0);
		CHECK(again.len == size && !memcmp(again.data, data, size));
	} else {
		CHECK(text.len == 3 && !memcmp(text.data, "pre", 3));
	}
	if (pf_name_split(name, size, &baselen, &type, &typelen, &k) == 0) {
		CHECK(baselen < size && data[baselen] == '%');
		CHECK(type == name + baselen + 1 && typelen >= 1 && k >= 1);
		for (i = 0; i < typelen; i++)
			CHECK(is_lower((uint8_t)type[i]));
		CHECK(pk_buf_add(&whole, data, baselen + 1 + typelen) == 0);
		if (k > 1)
			CHECK(pk_buf_addf(&whole, "%u", k) == 0);
		CHECK(whole.len == size && !memcmp(whole.data, data, size));
	}
	if (pf_index_parse(name, size, &idx) == 0) {
		int len = pf_index_name(idx, num);
		CHECK(len > 0 && (size_t)len == size &&
		      !memcmp(num, data, size));
	}
	pk_buf_release(&text);
	pk_buf_release(&again);
	pk_buf_release(&whole);
}

/* ---- the naming of one directory -------------------------------------- */

/* One directory's entries as the checks see them. */
struct dir {
	size_t n;
	pk_buf *nat;	   /* natural (escaped) name */
	uint8_t *prio;	   /* PF_PRIO_* */
	const char **type; /* suffix type */
	pk_buf *name;	   /* the name it got */
	int64_t (*find)(void *ctx, const uint8_t *s, size_t n);
	void *ctx;
};

static void dir_alloc(struct dir *d, size_t n)
{
	d->n = n;
	d->nat = calloc(n ? n : 1, sizeof(*d->nat));
	d->name = calloc(n ? n : 1, sizeof(*d->name));
	d->prio = calloc(n ? n : 1, 1);
	d->type = calloc(n ? n : 1, sizeof(*d->type));
	CHECK(d->nat && d->name && d->prio && d->type);
}

static void dir_free(struct dir *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		pk_buf_release(&d->nat[i]);
		pk_buf_release(&d->name[i]);
	}
	free(d->nat);
	free(d->name);
	free(d->prio);
	free(d->type);
}

static int same(const pk_buf *b, const uint8_t *s, size_t n)
{
	return b->len == n && (!n || !memcmp(b->data, s, n));
}

static void report(const struct dir *d, size_t i, const char *why)
{
	fprintf(stderr,
		"entry %zu of %zu (prio %d, type %s): natural name '%.*s' (%zu "
		"bytes), name '%.*s' (%zu bytes): %s\n",
		i, d->n, d->prio[i], d->type[i], (int)d->nat[i].len,
		d->nat[i].data ? (char *)d->nat[i].data : "", d->nat[i].len,
		(int)d->name[i].len,
		d->name[i].data ? (char *)d->name[i].data : "", d->name[i].len,
		why);
	abort();
}

static void check_dir(const struct dir *d)
{
	size_t i, baselen, typelen;
	const char *type;
	unsigned k;
	pk_buf prev = PK_BUF_INIT;

	for (i = 0; i < d->n; i++) {
		const pk_buf *nm = &d->name[i], *nat = &d->nat[i];
		const uint8_t *base;
		int64_t j;

		if (nm->len < 1 || nm->len > MAX_NAME)
			report(d, i, "name empty or longer than 255 bytes");
		check_legal(nm->data, nm->len);
		if (d->find(d->ctx, nm->data, nm->len) != (int64_t)i)
			report(d, i, "lookup does not find the entry");
		if (same(nm, nat->data, nat->len)) {
			if (nat->len > PF_NAME_LONG)
				report(d, i, "a long natural name not cut");
			continue;
		}
		if (pf_name_split((const char *)nm->data, nm->len, &baselen,
				  &type, &typelen, &k))
			report(d, i, "neither the natural name nor suffixed");
		base = nm->data;
		if (nat->len > PF_NAME_LONG) {
			if (typelen != 4 || memcmp(type, "long", 4) ||
			    baselen !=
				cut_utf8(nat->data, nat->len, PF_NAME_CUT) ||
			    memcmp(base, nat->data, baselen))
				report(d, i,
				       "not the cut natural name + %long");
		} else {
			if (typelen != strlen(d->type[i]) ||
			    memcmp(type, d->type[i], typelen))
				report(d, i, "suffix is not the entry's type");
			if (baselen > nat->len ||
			    memcmp(base, nat->data, baselen))
				report(d, i,
				       "suffixed base is not the natural name");
			/* cut only to keep the name within 255 bytes */
			if (baselen < nat->len &&
			    nat->len + nm->len - baselen <= MAX_NAME)
				report(d, i, "natural name cut without need");
			/* who has the natural name comes first */
			j = d->find(d->ctx, nat->data, nat->len);
			if (j < 0 || j == (int64_t)i ||
			    d->prio[j] > d->prio[i] ||
			    (d->prio[j] == d->prio[i] && j > (int64_t)i))
				report(d, i,
				       "suffixed, but its natural name is free "
				       "or held by an entry after it");
		}
		/* "%TYPE[K-1]" is taken (when the base was not cut to fit) */
		if (k > 1 && (baselen == nat->len || nat->len > PF_NAME_LONG)) {
			pk_buf_reset(&prev);
			CHECK(pk_buf_add(&prev, nm->data,
					 baselen + 1 + typelen) == 0);
			if (k > 2)
				CHECK(pk_buf_addf(&prev, "%u", k - 1) == 0);
			if (d->find(d->ctx, prev.data, prev.len) < 0)
				report(d, i, "a smaller suffix number is free");
		}
	}
	pk_buf_release(&prev);
}

/* ---- 3: pf_names_build on candidates from the input -------------------- */

static int64_t names_find(void *ctx, const uint8_t *s, size_t n)
{
	return pf_names_find(ctx, (const char *)s, n);
}

static const char *const types[] = {
    "str",	    "int",  "float", "tuple", "frozenset", "bytearray",
    "picklebuffer", "attr", "index", "none",  "object",	   "complex"};
#define NTYPES (sizeof(types) / sizeof(types[0]))

#define MAX_CANDS 1024

static void fuzz_build(const uint8_t *data, size_t size)
{
	struct rd r = {data, size, 0};
	pf_name_cand *c = calloc(MAX_CANDS, sizeof(*c));
	pk_buf *store = calloc(MAX_CANDS, sizeof(*store));
	pf_names t;
	struct dir d;
	size_t n = 0, i, reps;

	CHECK(c && store);
	while (more(&r) && n < MAX_CANDS) {
		unsigned how = byte(&r), len = byte(&r);
		pk_buf text = PK_BUF_INIT, *nat = &store[n];
		uint8_t prio = (uint8_t)(how % 3);
		const char *type = types[(how / 3) % NTYPES];

		switch ((how / 36) % 7) {
		case 0: /* short text */
			add_text(&r, &text, len % 6);
			break;
		case 1: /* a name of another key */
			CHECK(pk_buf_adds(&text, tricky[len % NTRICKY]) == 0);
			break;
		case 2: /* around the long-name limit */
			while (text.len < PF_NAME_LONG - 4 + len % 9)
				add_text(&r, &text, 1);
			break;
		case 3: /* the same as an earlier candidate */
			if (n) {
				i = n - 1 - len % n;
				CHECK(pk_buf_add(nat, store[i].data,
						 store[i].len) == 0);
				goto have_nat;
			}
			break;
		case 4: /* a list index */
			CHECK(pk_buf_addf(&text, "%u", len) == 0);
			break;
		default: /* any bytes */
			while (len-- && more(&r))
				CHECK(pk_buf_addc(&text, (uint8_t)byte(&r)) ==
				      0);
			break;
		}
		CHECK(pf_name_escape(text.data ? text.data : (uint8_t *)"",
				     text.len, nat) == 0);
	have_nat:
		pk_buf_release(&text);
		/* a run of equal candidates */
		reps = (how & 0x80) ? 1 + byte(&r) : 1;
		while (reps-- && n < MAX_CANDS) {
			if (&store[n] != nat)
				CHECK(pk_buf_add(&store[n], nat->data,
						 nat->len) == 0);
			c[n].nat = (const char *)store[n].data;
			c[n].natlen = (uint32_t)store[n].len;
			c[n].prio = prio;
			c[n].type = type;
			n++;
		}
	}
	pf_names_init(&t);
	CHECK(pf_names_build(&t, c, (uint32_t)n) == 0);
	CHECK(t.n == n);
	dir_alloc(&d, n);
	d.find = names_find;
	d.ctx = &t;
	for (i = 0; i < n; i++) {
		CHECK(pk_buf_add(&d.nat[i], c[i].nat, c[i].natlen) == 0);
		CHECK(pk_buf_add(&d.name[i], t.v[i].s, t.v[i].len) == 0);
		d.prio[i] = c[i].prio;
		d.type[i] = c[i].type;
	}
	check_dir(&d);
	dir_free(&d);
	pf_names_release(&t);
	for (i = 0; i < MAX_CANDS; i++)
		pk_buf_release(&store[i]);
	free(store);
	free(c);
}

/* ---- 4 and 5: the directories of a doc --------------------------------- */

struct view {
	pf_docview *dv;
	pf_ref dir;
};

static int64_t view_find(void *ctx, const uint8_t *s, size_t n)
{
	struct view *v = ctx;
	uint64_t i;

	if (pf_docview_lookup(v->dv, v->dir, (const char *)s, n, &i))
		return -1;
	return (int64_t)i;
}

/* The natural name of a docview entry, with its priority and type. */
static void natural(const pk_doc *doc, const pf_child *c, pk_buf *nat,
		    uint8_t *prio, const char **type)
{
	pk_buf text = PK_BUF_INIT;

	if (c->e.reserved) {
		CHECK(pk_buf_adds(nat, c->e.reserved) == 0);
		*prio = PF_PRIO_RESERVED;
		*type = "attr";
		return;
	}
	if (!c->e.key) {
		CHECK(pk_buf_addf(nat, "%llu",
				  (unsigned long long)c->e.index) == 0);
		*prio = PF_PRIO_OTHER;
		*type = "index";
		return;
	}
	*type = pf_key_type_name(c->e.key);
	if (!pf_is_node(c->e.key) &&
	    (pf_kind(c->e.key) == PK_STR || pf_kind(c->e.key) == PK_STRING)) {
		*prio = PF_PRIO_STR;
		CHECK(pf_str_text(doc, c->e.key, &text, NULL) == 0);
	} else {
		*prio = PF_PRIO_OTHER;
		CHECK(pf_repr(doc, c->e.key, 1024, &text) == 0);
	}
	CHECK(pf_name_escape(text.data ? text.data : (uint8_t *)"", text.len,
			     nat) == 0);
	pk_buf_release(&text);
}

#define MAX_DIRS 256
#define MAX_ENTRIES 20000

/* Checks the names of the directories of dv (depth first from the root,
 * at most MAX_DIRS of them); dirs[] gets them. */
static size_t check_doc(const pk_doc *doc, pf_docview *dv, pf_ref *dirs)
{
	size_t ndirs = 0, done = 0, entries = 0;

	dirs[ndirs++] = pf_docview_root(dv);
	while (done < ndirs && entries < MAX_ENTRIES) {
		pf_ref dir = dirs[done++];
		struct view v = {dv, dir};
		struct dir d;
		uint64_t n, i;

		if (pf_docview_count(dv, dir, &n))
			continue;
		if (n > MAX_ENTRIES - entries)
			n = MAX_ENTRIES - entries;
		entries += n;
		dir_alloc(&d, n);
		d.find = view_find;
		d.ctx = &v;
		for (i = 0; i < n; i++) {
			pf_child c;
			CHECK(pf_docview_child(dv, dir, i, &c) == 0);
			natural(doc, &c, &d.nat[i], &d.prio[i], &d.type[i]);
			CHECK(pf_docview_name(dv, dir, i, &d.name[i]) == 0);
			if (c.look == PF_LOOK_DIR && ndirs < MAX_DIRS)
				dirs[ndirs++] = c.e.target;
		}
		check_dir(&d);
		dir_free(&d);
	}
	return ndirs;
}

/* ---- 5: a pickle whose keys are of every kind -------------------------- */

static void op(pk_buf *b, uint8_t c)
{
	CHECK(pk_buf_addc(b, c) == 0);
}

static void put_le(pk_buf *b, uint64_t v, int n)
{
	while (n--) {
		op(b, (uint8_t)v);
		v >>= 8;
	}
}

static void str_op(pk_buf *b, const pk_buf *t)
{
	if (t->len < 256) {
		op(b, 0x8c); /* SHORT_BINUNICODE */
		op(b, (uint8_t)t->len);
	} else {
		op(b, 'X'); /* BINUNICODE */
		put_le(b, t->len, 4);
	}
	if (t->len)
		CHECK(pk_buf_add(b, t->data, t->len) == 0);
}

static void bytes_op(pk_buf *b, struct rd *r, size_t len)
{
	size_t i;

	op(b, 'C'); /* SHORT_BINBYTES */
	op(b, (uint8_t)len);
	for (i = 0; i < len; i++)
		op(b, (uint8_t)alphabet[byte(r) % NALPHA][0]);
}

static const double floats[] = {0.0, -0.0, 1.5,	 1.0, 1e100,
				0.1, -1.0, 1e-5, 2.0};

static void float_op(pk_buf *b, double d)
{
	uint64_t u;
	int i;

	memcpy(&u, &d, 8);
	op(b, 'G'); /* BINFLOAT, big-endian */
	for (i = 7; i >= 0; i--)
		op(b, (uint8_t)(u >> (8 * i)));
}

static void key(pk_buf *b, struct rd *r, int depth, size_t *last);

static void seq(pk_buf *b, struct rd *r, int depth, unsigned n, uint8_t end)
{
	size_t last[2] = {SIZE_MAX, 0};

	op(b, '('); /* MARK */
	while (n--)
		key(b, r, depth + 1, last);
	op(b, end);
}

/* Appends a key; last[0..1) is where the key before it is in b. */
static void key(pk_buf *b, struct rd *r, int depth, size_t *last)
{
	unsigned how = byte(r), arg = byte(r);
	size_t start = b->len, i;
	pk_buf t = PK_BUF_INIT;

	if (depth > 2)
		how %= 11; /* scalars only */
	switch (how % 24) {
	case 0: /* str */
	case 1:
		add_text(r, &t, arg % 5);
		str_op(b, &t);
		break;
	case 2: /* str that is another key's name */
		CHECK(pk_buf_adds(&t, tricky[arg % NTRICKY]) == 0);
		if (!t.len && arg & 0x80) /* "" and "%" for a suffixed one */
			CHECK(pk_buf_adds(&t, "%") == 0);
		str_op(b, &t);
		break;
	case 3: /* long str: around 240 bytes once escaped */
		while (t.len < 200 + arg % 80)
			add_text(r, &t, 1);
		str_op(b, &t);
		break;
	case 4: /* bytes */
		bytes_op(b, r, arg % 5);
		break;
	case 5: /* small int */
		op(b, 'K');
		op(b, (uint8_t)(arg % 4));
		break;
	case 6: /* int */
		op(b, 'J');
		put_le(b, (uint64_t)byte(r) | (uint64_t)arg << 24, 4);
		break;
	case 7: /* any int: LONG1 */
		op(b, 0x8a);
		op(b, (uint8_t)(arg % 12));
		for (i = 0; i < arg % 12; i++)
			op(b, (uint8_t)byte(r));
		break;
	case 8: /* float */
		float_op(b, floats[arg % (sizeof(floats) / sizeof(floats[0]))]);
		break;
	case 9: { /* float of any bits: NaNs, infinities, subnormals */
		uint64_t u = 0;
		double d;
		for (i = 0; i < 8; i++)
			u = u << 8 | byte(r);
		memcpy(&d, &u, 8);
		float_op(b, d);
		break;
	}
	case 10: /* None, True, False */
		op(b, arg % 3 == 0 ? 'N' : arg % 3 == 1 ? 0x88 : 0x89);
		break;
	case 11: /* Python 2 str: SHORT_BINSTRING, maybe latin-1 */
		op(b, 'U');
		op(b, (uint8_t)(arg % 4));
		for (i = 0; i < arg % 4; i++)
			op(b,
			   (arg & 0x80) ? 0xe9 : (uint8_t) "ab1%"[byte(r) % 4]);
		break;
	case 12: /* tuple */
		if (arg % 5 == 0) {
			op(b, ')');
		} else if (arg % 5 <= 3) {
			size_t in[2] = {SIZE_MAX, 0};
			for (i = 0; i < arg % 5; i++)
				key(b, r, depth + 1, in);
			op(b, (uint8_t)(0x85 + arg % 5 - 1)); /* TUPLE1-3 */
		} else {
			seq(b, r, depth, arg / 5 % 5, 't');
		}
		break;
	case 13: /* frozenset */
		seq(b, r, depth, arg % 4, 0x91);
		break;
	case 14: /* decimal.Decimal('...') */
		CHECK(pk_buf_adds(b, "cdecimal\nDecimal\n") == 0);
		CHECK(pk_buf_adds(&t, tricky[arg % NTRICKY]) == 0);
		str_op(b, &t);
		op(b, 0x85);
		op(b, 'R');
		break;
	case 15: /* complex */
		CHECK(pk_buf_adds(b, "cbuiltins\ncomplex\n") == 0);
		float_op(b, floats[arg % 9]);
		float_op(b, floats[(arg / 9) % 9]);
		op(b, 0x86);
		op(b, 'R');
		break;
	case 16: /* a global */
		CHECK(pk_buf_adds(b, arg & 1 ? "cbuiltins\nint\n"
					     : "c__main__\nx\n") == 0);
		break;
	case 17: /* bytearray */
		op(b, 0x96);
		put_le(b, arg % 4, 8);
		for (i = 0; i < arg % 4; i++)
			op(b, (uint8_t) "ab/%"[byte(r) % 4]);
		break;
	case 18: /* pickle buffers */
		if (arg & 1) {
			op(b, 0x97); /* NEXT_BUFFER */
		} else {
			/* READONLY_BUFFER over bytes, long ones too */
			size_t len = arg & 2 ? 230 + byte(r) % 20 : arg % 4;
			op(b, 'B'); /* BINBYTES */
			put_le(b, len, 4);
			for (i = 0; i < len; i++)
				op(b, (uint8_t) "ab/%"[byte(r) % 4]);
			op(b, 0x98);
		}
		break;
	case 19: /* set([...]) */
		CHECK(pk_buf_adds(b, "cbuiltins\nset\n") == 0);
		op(b, ']');
		seq(b, r, depth, arg % 3, 'e');
		op(b, 0x85);
		op(b, 'R');
		break;
	default: /* the previous key again: the same value twice */
		if (last[0] != SIZE_MAX) {
			pk_buf copy = PK_BUF_INIT;
			CHECK(pk_buf_add(&copy, b->data + last[0],
					 last[1] - last[0]) == 0);
			CHECK(pk_buf_add(b, copy.data, copy.len) == 0);
			pk_buf_release(&copy);
			pk_buf_release(&t);
			return; /* last stays */
		}
		op(b, 'N');
		break;
	}
	pk_buf_release(&t);
	last[0] = start;
	last[1] = b->len;
}

/* A dict of keys from the input, values None, some of them dicts again
 * (or lists: names by index). */
static void dict(pk_buf *b, struct rd *r, int depth)
{
	size_t last[2] = {SIZE_MAX, 0}, n = 0;

	op(b, '}');
	op(b, '(');
	while (more(r) && n++ < 400) {
		unsigned v = byte(r);
		key(b, r, 0, last);
		if (v % 16 == 1 && depth < 2) {
			dict(b, r, depth + 1);
		} else if (v % 16 == 2) {
			op(b, ']');
			op(b, '(');
			for (v = byte(r) % 12; v; v--)
				op(b, 'N');
			op(b, 'e');
		} else {
			op(b, 'N');
		}
		if (v % 16 == 3)
			break; /* close this dict (the top one: the rest of
				  the input names the renames) */
	}
	op(b, 'u');
}

/* Names of a key rename: other keys' names, escaped text, suffixed names. */
static void new_name(struct rd *r, pk_buf *out)
{
	unsigned how = byte(r), arg = byte(r);
	pk_buf t = PK_BUF_INIT;

	switch (how % 4) {
	case 0:
		CHECK(pk_buf_adds(out, tricky[arg % NTRICKY]) == 0);
		break;
	case 1:
		CHECK(pk_buf_addf(out, "%d", (int)arg - 128) == 0);
		break;
	default:
		add_text(r, &t, arg % 6);
		CHECK(pf_name_escape(t.data ? t.data : (uint8_t *)"", t.len,
				     out) == 0);
		if (how & 0x80)
			CHECK(pk_buf_adds(out, "%int") == 0);
		break;
	}
	pk_buf_release(&t);
}

/* Renames keys of the doc's dicts to names from the input; each renamed
 * key must be found under its new name (a name "B%int", which makes an
 * int key, may show as B when that is free) with every other entry that
 * had its natural name keeping it. */
static void fuzz_rename(pk_doc *doc, pf_docview **dvp, struct rd *r)
{
	pf_ref dirs[MAX_DIRS];
	size_t ndirs, steps = 0;

	while (more(r) && steps++ < 8) {
		pf_docview *dv = *dvp;
		pf_ref dir;
		pf_child c;
		uint64_t n, i, j, found;
		pk_buf name = PK_BUF_INIT, got = PK_BUF_INIT;
		pk_buf *before;
		pk_err e;
		int rc;

		ndirs = check_doc(doc, dv, dirs);
		dir = dirs[byte(r) % ndirs];
		if (pf_docview_count(dv, dir, &n) || !n || n > 2000)
			continue;
		i = byte(r) % n;
		CHECK(pf_docview_child(dv, dir, i, &c) == 0);
		new_name(r, &name);
		CHECK(pk_buf_addc(&name, 0) == 0);
		name.len--;
		if (!c.e.key || pf_is_node(c.e.key) ||
		    !pf_docview_lookup(dv, dir, (char *)name.data, name.len,
				       &found)) {
			pk_buf_release(&name);
			continue; /* mv onto an existing name is not a rename */
		}
		before = calloc(n, sizeof(*before));
		CHECK(before);
		for (j = 0; j < n; j++)
			CHECK(pf_docview_name(dv, dir, j, &before[j]) == 0);
		rc = pf_edit_rename_key(doc, dir, (pk_val *)c.e.key,
					(char *)name.data, &e);
		if (rc == 0) {
			size_t bl, tl;
			const char *ty;
			unsigned k;
			/* the view is rebuilt after an edit (edit.h); dir
			 * refs are slots that a rename does not move */
			pf_docview_free(dv);
			CHECK(pf_docview_new(doc, dvp) == 0);
			dv = *dvp;
			CHECK(pf_docview_count(dv, dir, &j) == 0 && j == n);
			CHECK(pf_docview_name(dv, dir, i, &got) == 0);
			if (!same(&got, name.data, name.len) &&
			    !(pf_name_split((char *)name.data, name.len, &bl,
					    &ty, &tl, &k) == 0 &&
			      tl == 3 && !memcmp(ty, "int", 3) &&
			      same(&got, name.data, bl))) {
				fprintf(stderr,
					"renamed to '%s', the entry is '%.*s' "
					"(was '%.*s')\n",
					(char *)name.data, (int)got.len,
					(char *)got.data, (int)before[i].len,
					(char *)before[i].data);
				abort();
			}
			for (j = 0; j < n; j++) {
				pk_buf now = PK_BUF_INIT;
				if (j == i || has_suffix_mark(before[j].data,
							      before[j].len))
					continue;
				CHECK(pf_docview_name(dv, dir, j, &now) == 0);
				if (!same(&now, before[j].data,
					  before[j].len)) {
					fprintf(
					    stderr,
					    "renaming '%.*s' to '%s' renamed "
					    "'%.*s' to '%.*s'\n",
					    (int)before[i].len,
					    (char *)before[i].data,
					    (char *)name.data,
					    (int)before[j].len,
					    (char *)before[j].data,
					    (int)now.len, (char *)now.data);
					abort();
				}
				pk_buf_release(&now);
			}
		} else {
			CHECK(rc == EINVAL || rc == EPERM);
		}
		for (j = 0; j < n; j++)
			pk_buf_release(&before[j]);
		free(before);
		pk_buf_release(&name);
		pk_buf_release(&got);
	}
}

static void fuzz_doc(const uint8_t *p, size_t n, int generated, struct rd *r)
{
	pk_doc *doc = NULL;
	pf_docview *dv = NULL;
	pf_ref dirs[MAX_DIRS];
	pk_err e;

	if (pk_decode(p, n, 0, &doc, &e) != PK_OK) {
		if (generated) {
			fprintf(stderr,
				"a generated pickle does not decode: "
				"%s at %llu\n",
				e.msg, (unsigned long long)e.offset);
			abort();
		}
		return;
	}
	CHECK(pf_docview_new(doc, &dv) == 0);
	check_doc(doc, dv, dirs);
	if (r)
		fuzz_rename(doc, &dv, r);
	pf_docview_free(dv);
	pk_doc_free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = {data, size, 0};
	pk_buf p = PK_BUF_INIT;

	fuzz_escape(data, size);
	fuzz_parse(data, size);
	fuzz_build(data, size);
	fuzz_doc(data, size, 0, NULL);

	/* PROTO 5, a dict of every kind of key, STOP */
	op(&p, 0x80);
	op(&p, 5);
	dict(&p, &r, 0);
	op(&p, '.');
	fuzz_doc(p.data, p.len, 1, &r);
	pk_buf_release(&p);
	return 0;
}
