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
#include "form.h"
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
	    form != PF_FORM_NDARRAY)
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

int pf_fs_getxattr(pf_fs *fs, pf_inode *in, const char *name, pk_buf *out)
{
	size_t i;

	if (strcmp(name, XA_ERROR) == 0)
		return error_xattr(fs, in, out);
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
