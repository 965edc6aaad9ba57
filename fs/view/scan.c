#include "scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "docview.h"
#include "opcodes.h"
#include "pickle.h"
#include "repr.h"

/* ---- the lists ------------------------------------------------------------
 * Names are module.qualname as CPython resolves them (Python 2's
 * __builtin__ and copy_reg are builtins and copyreg). A list entry
 * ending in "." is a whole module (and its submodules); one ending in
 * ".*" is every name of exactly that module. Sources: picklescan's and
 * modelscan's deny-lists, the advisories they answered (pkgutil,
 * runpy, operator, torch.load ...), CPython's docs on what unpickling
 * runs; the allow-list is what the standard library, numpy, pandas,
 * scikit-learn and torch write for plain data. */

static const char *const dangerous[] = {
    "os.",
    "posix.",
    "nt.",
    "subprocess.",
    "runpy.",
    "pty.",
    "shutil.",
    "socket.",
    "webbrowser.",
    "code.",
    "codeop.",
    "importlib.",
    "pkgutil.",
    "ctypes.",
    "multiprocessing.",
    "asyncio.",
    "sys.",
    "commands.",
    "pdb.",
    "bdb.",
    "cProfile.",
    "profile.",
    "timeit.",
    "trace.",
    "marshal.",
    "shelve.",
    "pickle.",
    "_pickle.",
    "cPickle.",
    "dill.loads",
    "dill.load",
    "dill._dill.loads",
    "dill._dill.load",
    "requests.",
    "urllib.",
    "urllib2.",
    "http.",
    "httplib.",
    "ftplib.",
    "telnetlib.",
    "smtplib.",
    "aiohttp.",
    "platform.popen",
    "popen2.",
    "tempfile.",
    "glob.",
    "builtins.eval",
    "builtins.exec",
    "builtins.execfile",
    "builtins.compile",
    "builtins.open",
    "builtins.file",
    "builtins.getattr",
    "builtins.setattr",
    "builtins.delattr",
    "builtins.__import__",
    "builtins.input",
    "builtins.raw_input",
    "builtins.breakpoint",
    "builtins.globals",
    "builtins.locals",
    "builtins.vars",
    "builtins.apply",
    "builtins.reload",
    "operator.attrgetter",
    "operator.methodcaller",
    "operator.getitem",
    "functools.reduce",
    "numpy.testing._private.utils.runstring",
    "numpy.load",
    "numpy.lib.npyio.load",
    "numpy.fromfile",
    "torch.load",
    "torch.hub.",
    "torch.serialization.load",
    "torch.jit.load",
    "torch._C.",
    "joblib.load",
    "joblib.numpy_pickle.load",
    "pandas.read_pickle",
    "pandas.io.pickle.read_pickle",
    "venv.",
    "ensurepip.",
    "distutils.",
    "setuptools.",
    "pip.",
    "zipimport.",
    "imp.",
    "signal.",
    "resource.",
    "gc.",
    "inspect.",
    "ast.",
    "builtins.memoryview",
    "_io.",
    "io.open",
    "io.FileIO",
    "codecs.open",
    "logging.config.",
};

static const char *const safe[] = {
    "builtins.set",
    "builtins.frozenset",
    "builtins.list",
    "builtins.dict",
    "builtins.tuple",
    "builtins.bytearray",
    "builtins.bytes",
    "builtins.complex",
    "builtins.int",
    "builtins.float",
    "builtins.str",
    "builtins.bool",
    "builtins.slice",
    "builtins.range",
    "builtins.object",
    "builtins.unicode",
    "builtins.long",
    "builtins.NoneType",
    "builtins.Ellipsis",
    "builtins.NotImplemented",
    "builtins.len",
    "builtins.abs",
    "builtins.min",
    "builtins.max",
    "builtins.sum",
    "builtins.round",
    "builtins.divmod",
    "builtins.pow",
    "builtins.sorted",
    "builtins.reversed",
    "builtins.enumerate",
    "builtins.zip",
    "builtins.xrange",
    "builtins.basestring",
    "builtins.chr",
    "builtins.ord",
    "builtins.unichr",
    "builtins.hex",
    "builtins.oct",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.Counter",
    "collections.deque",
    "_codecs.encode",
    "copyreg._reconstructor",
    "datetime.*",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "enum.",
    "pathlib.PosixPath",
    "pathlib.PurePosixPath",
    "pathlib.WindowsPath",
    "numpy.core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray._reconstruct",
    "numpy._core.multiarray.scalar",
    "numpy.core.numeric._frombuffer",
    "numpy._core.numeric._frombuffer",
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.ma.core._mareconstruct",
    "numpy.random._pickle.",
    "numpy.core._multiarray_umath.",
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "pandas.core.",
    "pandas._libs.",
    "pandas.core.indexes.",
    "sklearn.",
    "scipy.sparse.",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_sparse_tensor",
    "torch.FloatStorage",
    "torch.DoubleStorage",
    "torch.HalfStorage",
    "torch.BFloat16Storage",
    "torch.LongStorage",
    "torch.IntStorage",
    "torch.ShortStorage",
    "torch.CharStorage",
    "torch.ByteStorage",
    "torch.BoolStorage",
    "torch.ComplexFloatStorage",
    "torch.ComplexDoubleStorage",
    "torch.Size",
    "torch.device",
    "torch.float32",
    "torch.float16",
    "torch.bfloat16",
    "torch.float64",
    "torch.int64",
    "torch.int32",
    "torch.int16",
    "torch.int8",
    "torch.uint8",
    "torch.bool",
    "torch.storage.UntypedStorage",
    "torch.nn.modules.",
    "torch.nn.parameter.Parameter",
    "torch.optim.",
    "re._compile",
    "sre_compile.compile",
    "_sre.compile",
    "os.stat_result",
    "os.statvfs_result",
    "os.terminal_size",
    "posix.stat_result",
    "posix.statvfs_result",
    "posix.terminal_size",
    "time.struct_time",
};

/* 1 when name matches list entry l. */
static int matches(const char *name, const char *l)
{
	size_t n = strlen(l);

	if (n >= 2 && l[n - 2] == '.' && l[n - 1] == '*')
		return strncmp(name, l, n - 1) == 0 &&
		       !strchr(name + n - 1, '.');
	if (l[n - 1] == '.')
		return strncmp(name, l, n) == 0;
	return strcmp(name, l) == 0;
}

static int in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (matches(name, list[i]))
			return 1;
	return 0;
}

/* The risk of a fully qualified name (builtins already normalised). */
static int risk_of(const char *full)
{
	size_t i;

	/* an exact safe name wins over a dangerous module (os.stat_result
	 * is a plain record of the dangerous os) */
	for (i = 0; i < sizeof(safe) / sizeof(*safe); i++)
		if (!strcmp(full, safe[i]))
			return PF_RISK_SAFE;
	if (in_list(full, dangerous, sizeof(dangerous) / sizeof(*dangerous)))
		return PF_RISK_DANGEROUS;
	if (in_list(full, safe, sizeof(safe) / sizeof(*safe)))
		return PF_RISK_SAFE;
	return PF_RISK_SUSPICIOUS;
}

int pf_scan_risk(const char *module, const char *name)
{
	char full[512];

	if (strcmp(module, "__builtin__") == 0)
		module = "builtins";
	else if (strcmp(module, "copy_reg") == 0)
		module = "copyreg";
	snprintf(full, sizeof(full), "%s.%s", module, name);
	return risk_of(full);
}

/* ---- the trace ------------------------------------------------------------
 */

struct job {
	const uint8_t *data;
	size_t len;
	uint32_t nested;
};

struct pending { /* a finding whose path is looked for after the decode */
	size_t finding;
	pk_val val;
};

struct ctx {
	pf_scan *s;
	const uint8_t *all; /* the bytes scanned: offsets are from here */
	uint32_t nested;
	struct job *jobs;
	size_t njobs, jcap;
	struct pending *pend;
	size_t npend, pcap;
	int nomem;
};

/* "module.name" of a global value, or NULL. */
static char *global_name(pk_val v)
{
	const uint8_t *m, *n;
	size_t ml, nl;
	char *out;

	if (pk_val_kind(v) != PK_GLOBAL ||
	    pk_val_global(v, &m, &ml, &n, &nl) != PK_OK)
		return NULL;
	if (ml > 200)
		ml = 200;
	if (nl > 200)
		nl = 200;
	if (!(out = malloc(ml + nl + 2)))
		return NULL;
	memcpy(out, m, ml);
	out[ml] = '.';
	memcpy(out + ml + 1, n, nl);
	out[ml + 1 + nl] = '\0';
	/* Python 2's spellings of the same modules */
	if (strncmp(out, "__builtin__.", 12) == 0) {
		memmove(out + 9, out + 12, strlen(out + 12) + 1);
		memcpy(out, "builtins.", 9);
	} else if (strncmp(out, "copy_reg.", 9) == 0) {
		memmove(out + 8, out + 9, strlen(out + 9) + 1);
		memcpy(out, "copyreg.", 8);
	}
	return out;
}

/* risk: enum pf_risk, or -1: by the name */
static int add(struct ctx *c, const uint8_t *op, int call, char *name,
	       const pk_val *args, pk_val made, int risk)
{
	pf_scan *s = c->s;
	pf_finding *f;

	if (!name) {
		c->nomem = 1;
		return 1;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap;
		if (pk_vec_grow((void **)&s->f, &cap, s->n + 1,
				sizeof(*s->f))) {
			free(name);
			c->nomem = 1;
			return 1;
		}
		s->cap = cap;
	}
	f = &s->f[s->n];
	memset(f, 0, sizeof(*f));
	f->offset = (uint64_t)(op - c->all);
	f->op = *op;
	f->call = call;
	f->nested = c->nested;
	f->name = name;
	f->val = made.bits;
	f->risk = risk >= 0 ? risk
		  : strncmp(name, "ext:", 4) == 0 || name[0] == '<'
		      ? PF_RISK_SUSPICIOUS
		      : risk_of(name);
	if (args && f->risk != PF_RISK_SAFE) { /* only what is reported */
		pk_buf b = PK_BUF_INIT;
		if (pf_repr(NULL, args, 200, &b) == 0 && !pk_buf_addc(&b, 0))
			f->args = (char *)b.data;
		else
			pk_buf_release(&b);
	}
	s->n++;
	/* paths only for what is reported: a big pickle of a million safe
	 * objects is not walked for them */
	if (made.bits && f->risk != PF_RISK_SAFE) {
		size_t cap = c->pcap;
		if (pk_vec_grow((void **)&c->pend, &cap, c->npend + 1,
				sizeof(*c->pend)))
			return c->nomem = 1;
		c->pcap = cap;
		c->pend[c->npend].finding = s->n - 1;
		c->pend[c->npend++].val = made;
	}
	return 0;
}

/* The class of an object node (for BUILD), or NULL. */
static const pk_val *class_of(const pk_node *n)
{
	const pk_step *st = pk_node_steps(n);

	if (n->nkids == 0)
		return NULL;
	if (st[0].op == PK_OP_REDUCE && n->nkids >= 2 &&
	    pk_val_kind(n->kids[0]) == PK_GLOBAL) {
		char *g = global_name(n->kids[0]);
		int recon = g && strcmp(g, "copyreg._reconstructor") == 0;
		free(g);
		if (recon && pk_val_is_node(n->kids[1]) &&
		    pk_val_node(n->kids[1])->nkids)
			return &pk_val_node(n->kids[1])->kids[0];
	}
	return &n->kids[0];
}

static int nested_loads(const char *name)
{
	return strcmp(name, "pickle.loads") == 0 ||
	       strcmp(name, "_pickle.loads") == 0 ||
	       strcmp(name, "cPickle.loads") == 0 ||
	       strcmp(name, "pickle._loads") == 0 ||
	       strcmp(name, "dill.loads") == 0 ||
	       strcmp(name, "dill._dill.loads") == 0 ||
	       strcmp(name, "torch.storage._load_from_bytes") == 0;
}

static void queue_nested(struct ctx *c, const pk_val *args)
{
	const uint8_t *p;
	uint64_t n;
	size_t cap = c->jcap;
	const pk_node *t;

	if (c->nested + 1 >= PF_SCAN_NEST || !pk_val_is_node(*args) ||
	    (t = pk_val_node(*args))->kind != PK_TUPLE || t->nkids < 1 ||
	    pk_val_payload(t->kids[0], &p, &n) != PK_OK)
		return;
	if (pk_vec_grow((void **)&c->jobs, &cap, c->njobs + 1,
			sizeof(*c->jobs))) {
		c->nomem = 1;
		return;
	}
	c->jcap = cap;
	c->jobs[c->njobs].data = p;
	c->jobs[c->njobs].len = (size_t)n;
	c->jobs[c->njobs++].nested = c->nested + 1;
}

/* getattr(G, 'name') of a global G reads the attribute G.name: as risky
 * as that name (an enum member pickles as getattr(Color, 'RED')), at
 * least suspicious; a private or dunder name (__globals__,
 * __subclasses__: the ways out of a sandbox), or getattr of anything but
 * a global, is dangerous. */
static int getattr_risk(const pk_val *args)
{
	const pk_node *t;
	const uint8_t *a;
	uint64_t an;
	char *g, *full;
	int risk;

	pk_buf text = PK_BUF_INIT;

	if (!pk_val_is_node(*args) ||
	    (t = pk_val_node(*args))->kind != PK_TUPLE || t->nkids != 2 ||
	    pk_val_kind(t->kids[0]) != PK_GLOBAL ||
	    (pk_val_kind(t->kids[1]) != PK_STR &&
	     pk_val_kind(t->kids[1]) != PK_STRING))
		return PF_RISK_DANGEROUS;
	/* the name's text (a protocol 0 str is decoded, not read in place) */
	if (pk_val_payload(t->kids[1], &a, &an) != PK_OK) {
		if (pk_val_format(NULL, t->kids[1], &text, NULL) != PK_OK) {
			pk_buf_release(&text);
			return PF_RISK_DANGEROUS;
		}
		a = text.data;
		an = text.len;
	}
	if (an == 0 || an > 200 || (an > 1 && a[0] == '_' && a[1] == '_') ||
	    memchr(a, '.', an) || !(g = global_name(t->kids[0]))) {
		pk_buf_release(&text);
		return PF_RISK_DANGEROUS;
	}
	if (!(full = malloc(strlen(g) + an + 2))) {
		free(g);
		pk_buf_release(&text);
		return PF_RISK_DANGEROUS;
	}
	sprintf(full, "%s.%.*s", g, (int)an, (const char *)a);
	pk_buf_release(&text);
	risk = risk_of(full);
	if (risk_of(g) > risk)
		risk = risk_of(g);
	free(g);
	free(full);
	return risk < PF_RISK_SUSPICIOUS ? PF_RISK_SUSPICIOUS : risk;
}

static int trace(void *ctxp, const uint8_t *op, pk_val top)
{
	struct ctx *c = ctxp;
	const pk_node *n;
	const pk_val *callable, *args = NULL;
	char *name;

	switch (*op) {
	case PK_OP_GLOBAL:
	case PK_OP_STACK_GLOBAL:
		return add(c, op, 0, global_name(top), NULL, top, -1);
	case PK_OP_EXT1:
	case PK_OP_EXT2:
	case PK_OP_EXT4: {
		pk_buf b = PK_BUF_INIT;
		char *s = NULL;
		if (pk_val_format(NULL, top, &b, NULL) == PK_OK &&
		    (s = malloc(b.len + 5)))
			snprintf(s, b.len + 5, "ext:%.*s", (int)b.len,
				 (const char *)b.data);
		pk_buf_release(&b);
		return add(c, op, 0, s, NULL, top, -1);
	}
	}
	if (!pk_val_is_node(top) || (n = pk_val_node(top))->nkids == 0)
		return 0;
	if (*op == PK_OP_BUILD) {
		int risk;
		if (!(callable = class_of(n)))
			return 0;
		name = global_name(*callable);
		/* __setstate__ of the class: as risky as the class, or as
		 * what made the object */
		risk = name ? risk_of(name) : PF_RISK_SUSPICIOUS;
		{
			char *maker = global_name(n->kids[0]);
			if (maker && risk_of(maker) > risk)
				risk = risk_of(maker);
			free(maker);
		}
		if (name) {
			size_t l = strlen(name);
			char *s = realloc(name, l + 14);
			if (!s) {
				free(name);
				return add(c, op, 1, NULL, NULL, top, -1);
			}
			memcpy(s + l, ".__setstate__", 14);
			name = s;
		} else {
			name = strdup("<object>.__setstate__");
		}
		return add(c, op, 1, name, NULL, top, risk);
	}
	callable = &n->kids[0];
	if (*op != PK_OP_INST && *op != PK_OP_OBJ && n->nkids >= 2)
		args = &n->kids[1];
	name = global_name(*callable);
	if (name) { /* its global's finding: called, not just named */
		size_t k;
		for (k = c->s->n; k-- > 0;)
			if (!c->s->f[k].call &&
			    c->s->f[k].val == callable->bits) {
				c->s->f[k].called = 1;
				break;
			}
	} else {
		name = strdup("<object>");
	}
	if (name && args && nested_loads(name))
		queue_nested(c, args);
	if (name && args && !strcmp(name, "builtins.getattr"))
		return add(c, op, 1, name, args, top, getattr_risk(args));
	return add(c, op, 1, name, args, top, -1);
}

/* ---- paths ------------------------------------------------------------------
 */

/* Fills the paths of the pending findings: a walk of the view's
 * directories (explicit stack), at most budget entries. */
static void find_paths(struct ctx *c, const pk_doc *doc, uint64_t budget)
{
	struct dirent_ {
		pf_ref ref;
		char *path;
	} *stack = NULL;
	size_t n = 0, cap = 0, left = c->npend, k;
	pf_docview *dv;

	if (!c->npend || pf_docview_new(doc, &dv))
		return;
	if (pk_vec_grow((void **)&stack, &cap, 1, sizeof(*stack)))
		goto out;
	stack[0].ref = pf_docview_root(dv);
	stack[0].path = strdup("");
	n = stack[0].path ? 1 : 0;
	/* the root itself */
	for (k = 0; k < c->npend; k++)
		if (stack[0].ref.part == 0 && stack[0].ref.val &&
		    pk_val_same(*stack[0].ref.val, c->pend[k].val) &&
		    !c->s->f[c->pend[k].finding].path) {
			c->s->f[c->pend[k].finding].path = strdup(".");
			left--;
		}
	while (n && left && budget) {
		struct dirent_ d = stack[--n];
		uint64_t cnt, i;
		if (pf_docview_count(dv, d.ref, &cnt)) {
			free(d.path);
			continue;
		}
		for (i = 0; i < cnt && budget; i++, budget--) {
			pf_child ch;
			pk_buf name = PK_BUF_INIT;
			char *p;
			if (pf_docview_child(dv, d.ref, i, &ch) ||
			    pf_docview_name(dv, d.ref, i, &name) ||
			    pk_buf_addc(&name, 0)) {
				pk_buf_release(&name);
				continue;
			}
			p = malloc(strlen(d.path) + name.len + 2);
			if (!p) {
				pk_buf_release(&name);
				continue;
			}
			sprintf(p, "%s%s%s", d.path, *d.path ? "/" : "",
				(const char *)name.data);
			pk_buf_release(&name);
			for (k = 0; k < c->npend && ch.e.target.val; k++) {
				pf_finding *f = &c->s->f[c->pend[k].finding];
				if (!f->path && ch.e.target.part == 0 &&
				    pk_val_same(*ch.e.target.val,
						c->pend[k].val)) {
					f->path = strdup(p);
					left--;
				}
			}
			if (ch.look == PF_LOOK_DIR &&
			    !pk_vec_grow((void **)&stack, &cap, n + 1,
					 sizeof(*stack))) {
				stack[n].ref = ch.e.target;
				stack[n++].path = p;
			} else {
				free(p);
			}
		}
		free(d.path);
	}
out:
	while (n)
		free(stack[--n].path);
	free(stack);
	pf_docview_free(dv);
}

/* ---- the scan -------------------------------------------------------------
 */

/* One run of pickles from data[0..len), nested at depth `nested`. */
static void scan_run(struct ctx *c, const uint8_t *data, size_t len,
		     uint64_t max_tree)
{
	size_t off = 0;
	uint32_t parts = 0, max_parts = 4096;

	if (c->nested == 0 && pf_ckpt_legacy_magic(data, len))
		max_parts = 5; /* then raw storages, not pickles */
	while (off < len && parts < max_parts && !c->nomem) {
		pk_decode_opts o = {PK_DEC_ONE, max_tree, NULL, NULL, trace, c};
		pk_doc *doc = NULL;
		pk_err e;
		size_t found = c->s->n;
		c->npend = 0;
		if (pk_decode_with(data + off, len - off, &o, &doc, &e) !=
		    PK_OK) {
			if (c->nomem)
				break;
			if (parts == 0 && c->nested == 0) {
				/* CPython would raise here, after running
				 * everything before: a BUILD refused here on
				 * a global (setting a module's or class's
				 * attributes: CPython does it) is itself a
				 * finding */
				c->s->failed = 1;
				c->s->err = e;
				c->s->err.offset += off;
				if (e.offset < len - off &&
				    data[off + e.offset] == PK_OP_BUILD &&
				    add(c, data + off + e.offset, 1,
					strdup("<global>.__setstate__ "
					       "(BUILD on a global)"),
					NULL, (pk_val){0}, PF_RISK_DANGEROUS))
					break;
				if (c->s->n > found)
					c->s->pickles++;
			}
			/* later bytes that are no pickle: trailing bytes,
			 * which one pickle.load never reads */
			break;
		}
		c->s->pickles += c->nested == 0;
		find_paths(c, doc, 1u << 20);
		off += doc->end;
		parts++;
		pk_doc_free(doc);
	}
}

int pf_scan_bytes(const uint8_t *data, size_t len, uint64_t max_tree,
		  pf_scan *s)
{
	struct ctx c;
	size_t i;
	int rc;

	memset(s, 0, sizeof(*s));
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.all = data;
	scan_run(&c, data, len, max_tree);
	/* the pickles passed to pickle.loads, breadth first */
	for (i = 0; i < c.njobs && !c.nomem; i++) {
		struct job j = c.jobs[i];
		c.nested = j.nested;
		scan_run(&c, j.data, j.len, max_tree);
	}
	/* nested findings' offsets are in the file when their bytes are */
	rc = c.nomem ? ENOMEM : 0;
	free(c.jobs);
	free(c.pend);
	return rc;
}

void pf_scan_free(pf_scan *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->f[i].name);
		free(s->f[i].args);
		free(s->f[i].path);
	}
	free(s->f);
	memset(s, 0, sizeof(*s));
}

int pf_scan_worst(const pf_scan *s)
{
	int w = PF_RISK_SAFE;
	size_t i;

	/* a global that is called counts as its call does (getattr of
	 * an enum's member is not getattr of anything) */
	for (i = 0; i < s->n; i++)
		if (!s->f[i].called && s->f[i].risk > w)
			w = s->f[i].risk;
	return w;
}
