/*
 * xattr.c - the user.pickle.* extended attributes: type, key type, key,
 * class, protocol, compression (README, "Extended attributes").
 */
#include "vfs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/limits.h>
#include <string.h>
#include <unistd.h>

#include "compress.h"
#include "content.h"
#include "docview.h"
#include "edit.h"
#include "log.h"
#include "entries.h"
#include "names.h"
#include "pickle_file.h"
#include "repr.h"
#include "cache.h"
#include "form.h"
#include "scan.h"
#include "tensor.h"

/* Class of an object-like directory ("collections.OrderedDict"). */
static int class_text(const pk_doc *doc, pf_ref r, pk_buf *out)
{
	pf_obj o;
	pf_content c;
	pf_ref cls;
	int form, rc;

	if (r.part != PF_PART_SELF)
		return ENODATA;
	form = pf_form_of(r.val);
	if (form == PF_FORM_TENSOR) {
		pf_tensor t;
		pf_tensor_parse(r.val, &t);
		return pk_buf_adds(out, t.parameter ? "torch.nn.Parameter"
						    : "torch.Tensor")
			   ? ENOMEM
			   : 0;
	}
	if (form != PF_FORM_OBJECT && form != PF_FORM_DICTCALL &&
	    form != PF_FORM_NDARRAY && form != PF_FORM_FRAME)
		return ENODATA;
	if (pf_obj_parse(r.val, &o))
		return ENODATA;
	if (form == PF_FORM_NDARRAY) {
		if (!pf_global_is(o.callable, "numpy.core.multiarray",
				  "_reconstruct"))
			return pk_buf_adds(out, "numpy.ndarray") ? ENOMEM : 0;
		cls.val = &pf_node(o.args)->kids[0];
		cls.part = PF_PART_SELF;
	} else {
		cls.val = o.cls;
		cls.part = PF_PART_SELF;
	}
	if (cls.part == PF_PART_SELF && pf_form_of(cls.val) != PF_FORM_GLOBAL)
		return ENODATA;
	rc = pf_content_get(doc, cls, 0, &c, NULL);
	if (!rc && pk_buf_add(out, c.data, c.len))
		rc = ENOMEM;
	pf_content_release(&c);
	return rc;
}

/* Type (or repr) of the key naming the entry in. */
static int key_xattr(pf_source *s, pf_inode *in, int repr, pk_buf *out)
{
	pf_child ch;
	uint64_t pos;
	int rc;

	if (in->kind != PF_I_VALUE)
		return ENODATA;
	if ((rc = vfs_entry_pos(in->parent, in->index, &pos)) ||
	    (rc = pf_docview_child(s->dv, in->parent->ref, pos, &ch)))
		return rc;
	if (repr) {
		if (!ch.e.key)
			return ENODATA;
		/* cut to what one xattr value can hold, "..." marking the cut
		 */
		return pf_repr(s->doc, ch.e.key, XATTR_SIZE_MAX, out);
	}
	if (ch.e.key)
		return pk_buf_adds(out, pf_key_type_name(ch.e.key)) ? ENOMEM
								    : 0;
	return pk_buf_adds(out, ch.e.reserved ? "attr" : "index") ? ENOMEM : 0;
}

static int value_xattr(pf_inode *in, const char *name, pk_buf *out)
{
	pf_source *s = in->src;
	int rc = vfs_enter(in);

	if (rc)
		return rc;
	if (strcmp(name, XA_TYPE) == 0) {
		rc = pk_buf_adds(out, pf_ref_type_name(in->ref)) ? ENOMEM : 0;
	} else if (strcmp(name, XA_KEYTYPE) == 0) {
		rc = key_xattr(s, in, 0, out);
	} else if (strcmp(name, XA_KEY) == 0) {
		rc = key_xattr(s, in, 1, out);
	} else if (strcmp(name, XA_CLASS) == 0) {
		rc = class_text(s->doc, in->ref, out);
	} else if (strcmp(name, XA_PROTO) == 0 && in->kind == PF_I_PICKLE) {
		rc = pk_buf_addf(out, "%d", pk_doc_protocol(s->doc)) ? ENOMEM
								     : 0;
	} else if (strcmp(name, XA_COMPRESS) == 0 && in->kind == PF_I_PICKLE) {
		rc = pk_buf_adds(out, pk_z_name(s->zfmt)) ? ENOMEM : 0;
	} else {
		rc = ENODATA;
	}
	pf_source_leave(s);
	return rc;
}

static const char *const names[] = {XA_TYPE,  XA_KEYTYPE, XA_KEY,
				    XA_CLASS, XA_PROTO,	  XA_COMPRESS};

/* user.pickle.error of a file shown raw, or a pickle refused: why. */
static int error_xattr(pf_fs *fs, pf_inode *in, pk_buf *out)
{
	pf_source *s =
	    in->kind == PF_I_PICKLE || in->kind == PF_I_ARCHIVE ? in->src
	    : in->kind == PF_I_MIRROR_FILE ? vfs_source_for(fs, in->path)
	    : in->kind == PF_I_ARC_FILE
		? vfs_member_source_for(fs, in->src, in->path)
		: NULL;

	return s ? pf_source_error_text(s, out) : ENODATA;
}

/* The scan of s's bytes, made once per version of the file (lock not
 * held; taken here). *out is valid while the source's epoch is the one
 * it was made for: read it under the lock (scan_locked). 0, ENODATA
 * (not a pickle) or errno. */
static int scan_of(pf_source *s)
{
	pf_scan *sc;
	pf_map *hold = NULL;
	const uint8_t *data;
	size_t len;
	pk_err e = {PK_OK, NULL, 0};
	uint64_t epoch;
	int rc;

	pthread_mutex_lock(&s->lock);
	epoch = s->epoch;
	rc = s->scan && s->scan_epoch == epoch;
	pthread_mutex_unlock(&s->lock);
	if (rc)
		return 0;
	if (!(sc = calloc(1, sizeof(*sc))))
		return ENOMEM;
	if ((rc = pf_source_bytes(s, &hold, &data, &len, &e)) ||
	    (rc = pf_scan_bytes(data, len, pf_cache_tree_max(), sc))) {
		pf_map_unref(hold);
		pf_scan_free(sc);
		free(sc);
		return rc;
	}
	pf_map_unref(hold);
	pthread_mutex_lock(&s->lock);
	if (s->scan) {
		pf_scan_free(s->scan);
		free(s->scan);
	}
	s->scan = sc;
	s->scan_epoch = epoch;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* user.pickle.scan of a pickle's top: "clean", "suspicious: N" or
 * "dangerous: posix.system, builtins.eval" (scan.h). */
static int scan_xattr(pf_source *s, pk_buf *out)
{
	const pf_scan *sc;
	size_t i, k, start = out->len;
	unsigned sus = 0;
	int rc, worst;

	if (!s)
		return ENODATA;
	if ((rc = scan_of(s)))
		return rc;
	pthread_mutex_lock(&s->lock);
	if (!(sc = s->scan)) {
		pthread_mutex_unlock(&s->lock);
		return ENODATA;
	}
	worst = pf_scan_worst(sc);
	if (worst == PF_RISK_DANGEROUS) {
		rc = pk_buf_adds(out, "dangerous: ");
		/* each dangerous name once, in the order met */
		for (i = 0; i < sc->n && !rc; i++) {
			const pf_finding *f = &sc->f[i];
			if (f->risk != PF_RISK_DANGEROUS || f->called)
				continue;
			for (k = 0; k < i; k++)
				if (sc->f[k].risk == PF_RISK_DANGEROUS &&
				    !sc->f[k].called &&
				    !strcmp(sc->f[k].name, f->name))
					break;
			if (k == i)
				rc = pk_buf_addf(
				    out, "%s%s",
				    out->len > start + 11 ? ", " : "", f->name);
		}
	} else if (sc->failed) {
		rc = pk_buf_addf(out, "error: byte %llu: %s",
				 (unsigned long long)sc->err.offset,
				 sc->err.msg);
	} else if (worst == PF_RISK_SUSPICIOUS) {
		for (i = 0; i < sc->n; i++)
			sus += sc->f[i].risk == PF_RISK_SUSPICIOUS &&
			       !sc->f[i].called;
		rc = pk_buf_addf(out, "suspicious: %u", sus);
	} else {
		rc = pk_buf_adds(out, "clean");
	}
	pthread_mutex_unlock(&s->lock);
	return rc ? ENOMEM : 0;
}

/* The path of value in from its pickle's top, in the mount's naming
 * (source lock held, in resolved). */
static int value_path(pf_source *s, pf_inode *in, pk_buf *out)
{
	pf_inode *chain[256], *p;
	size_t n = 0;
	uint64_t pos;
	int rc;

	for (p = in; p && p->kind == PF_I_VALUE; p = p->parent) {
		if (n == sizeof(chain) / sizeof(chain[0]))
			return ENAMETOOLONG; /* deeper than a finding's path
						is worth */
		chain[n++] = p;
	}
	while (n--) {
		p = chain[n];
		if ((rc = vfs_entry_pos(p->parent, p->index, &pos)))
			return rc;
		if (out->len && pk_buf_addc(out, '/'))
			return ENOMEM;
		if ((rc = pf_docview_name(s->dv, p->parent->ref, pos, out)))
			return rc;
	}
	return 0;
}

/* user.pickle.danger of a value a dangerous call makes: the call, as
 * the scan says it ("posix.system ('touch /tmp/x',)"). */
static int danger_xattr(pf_inode *in, pk_buf *out)
{
	pf_source *s = in->src;
	pk_buf path = PK_BUF_INIT;
	size_t i;
	int rc;

	if (in->kind != PF_I_VALUE && in->kind != PF_I_PICKLE)
		return ENODATA;
	if ((rc = scan_of(s)))
		return rc == ENODATA ? ENODATA : rc;
	if ((rc = vfs_enter(in)))
		return rc;
	/* the top is "." in the scan's paths */
	rc = in->kind == PF_I_PICKLE ? (pk_buf_addc(&path, '.') ? ENOMEM : 0)
				     : value_path(s, in, &path);
	if (!rc && !pk_buf_addc(&path, 0)) {
		rc = ENODATA;
		for (i = 0;
		     s->scan && s->scan_epoch == s->epoch && i < s->scan->n;
		     i++) {
			const pf_finding *f = &s->scan->f[i];
			if (f->risk == PF_RISK_DANGEROUS && f->call &&
			    !f->nested && f->path &&
			    !strcmp(f->path, (const char *)path.data)) {
				rc = pk_buf_addf(out, "%s%s%s", f->name,
						 f->args ? " " : "",
						 f->args ? f->args : "")
					 ? ENOMEM
					 : 0;
				break;
			}
		}
	}
	pf_source_leave(s);
	pk_buf_release(&path);
	return rc;
}

int pf_fs_getxattr(pf_fs *fs, pf_inode *in, const char *name, pk_buf *out)
{
	size_t i;

	if (strcmp(name, XA_ERROR) == 0)
		return error_xattr(fs, in, out);
	if (strcmp(name, XA_DANGER) == 0)
		return danger_xattr(in, out);
	if (strcmp(name, XA_SCAN) == 0)
		return in->kind == PF_I_PICKLE ? scan_xattr(in->src, out)
		       : in->kind == PF_I_MIRROR_FILE ||
			       in->kind == PF_I_ARC_FILE
			   ? scan_xattr(pf_fs_source_of(fs, in), out)
			   : ENODATA;
	if (in->kind != PF_I_VALUE && in->kind != PF_I_PICKLE)
		return ENODATA;
	/* an attribute we never have (ls -l asks every entry for
	 * security.selinux and system.posix_acl_*): answered without
	 * parsing the pickle */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return value_xattr(in, name, out);
	return ENODATA;
}

int pf_fs_listxattr(pf_fs *fs, pf_inode *in, pk_buf *out)
{
	size_t i, start = out->len;
	pk_buf scratch = PK_BUF_INIT;
	int rc = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !rc; i++) {
		if (in->kind != PF_I_VALUE && in->kind != PF_I_PICKLE)
			break;
		pk_buf_reset(&scratch);
		rc = value_xattr(in, names[i], &scratch);
		if (rc == ENODATA)
			rc = 0;
		else if (!rc && pk_buf_add(out, names[i], strlen(names[i]) + 1))
			rc = ENOMEM;
	}
	/* user.pickle.scan is read by name, not listed: a listing (cp -a,
	 * getfattr -d) would decode every pickle it meets once more */
	/* a pickle shown raw, or refused (perhaps just now, by the
	 * parse above): only its error can be read */
	pk_buf_reset(&scratch);
	if (rc != ENOMEM && error_xattr(fs, in, &scratch) == 0) {
		out->len = start;
		rc = pk_buf_add(out, XA_ERROR, sizeof(XA_ERROR)) ? ENOMEM : 0;
	}
	pk_buf_release(&scratch);
	return rc;
}
