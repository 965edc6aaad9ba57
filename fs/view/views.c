#include "views.h"

#include "repr.h"

#include "tensor.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "errmap.h"
#include "form.h"
#include "npdtype.h"
#include "text.h"

void pf_arrinfo_release(pf_arrinfo *a)
{
	pk_buf_release(&a->dtype);
	pk_buf_release(&a->owned);
	a->data = NULL;
	a->len = 0;
}

/* The text of a synthetic part of v (dtype, order) into out. */
static int part_text(const pk_doc *doc, const pk_val *v, uint32_t part,
		     pk_buf *out)
{
	pf_ref r = {v, part};
	pf_content c;
	int rc = pf_content_get(doc, r, 0, &c, NULL);

	if (!rc &&
	    pk_buf_add(out, c.data ? c.data : (const uint8_t *)"", c.len))
		rc = ENOMEM;
	pf_content_release(&c);
	return rc;
}

/* datetime64 units numpy prints: the index into DT_UNITS, or -1 (a
 * multiple like [5s], and ps / fs / as). */
static const char *const DT_UNITS[] = {"[Y]", "[M]", "[W]",  "[D]",  "[h]",
				       "[m]", "[s]", "[ms]", "[us]", "[ns]"};
enum { DT_Y, DT_MONTH, DT_W, DT_D, DT_H, DT_MIN, DT_S, DT_MS, DT_US, DT_NS };
static int dt_unit(const char *u)
{
	size_t i;

	for (i = 0; i < sizeof(DT_UNITS) / sizeof(DT_UNITS[0]); i++)
		if (!strcmp(u, DT_UNITS[i]))
			return (int)i;
	return -1;
}

/* descr, order, item size and kind of a plain dtype d (dtype.str, len
 * bytes; isz its item size). */
static void classify(const char *d, size_t len, int64_t isz, pf_arrinfo *a)
{
	char *end;

	if (len < 3 || len >= sizeof(a->descr))
		return;
	memcpy(a->descr, d, len);
	a->descr[len] = '\0';
	d = a->descr; /* NUL-terminated: d may be part of a descr list */
	a->order = d[0];
	if (d[2] >= '0' && d[2] <= '9') {
		unsigned long n = strtoul(d + 2, &end, 10);
		a->size = isz > 0 && isz <= (1ll << 30) ? (uint32_t)isz : 0;
		if ((*end != '\0' && *end != '[') || n > (1ul << 28))
			a->size = 0; /* no view of an item this big */
		if (*end == '\0' && (d[1] == 'U' || d[1] == 'S') && n > 0 &&
		    a->size)
			a->kind = d[1]; /* read-only text */
		if (d[1] == 'M' && n == 8 && a->size == 8 &&
		    dt_unit(end) >= 0) {
			a->kind = 'M'; /* read-only text */
			a->dtunit = (uint8_t)dt_unit(end);
		}
		if (*end == '\0' && n < 64) {
			char k = d[1];
			int ok = (k == 'b' && n == 1) ||
				 ((k == 'i' || k == 'u') &&
				  (n == 1 || n == 2 || n == 4 || n == 8)) ||
				 (k == 'f' && (n == 2 || n == 4 || n == 8)) ||
				 (k == 'c' && (n == 8 || n == 16));
			if (ok)
				a->kind = k;
		}
	}
}

/* The fields of a structured dtype from its descr list text
 * ("[('a', '<i4'), ('', '|V4'), ('b', '>f8')]"): each a plain dtype with
 * a text form, or padding (no name, |Vn); kind 'V' when every field is
 * one and they fill the item. Nested fields, sub-arrays and titles are
 * not read (no values.txt). */
static void parse_fields(const char *d, int64_t isz, pf_arrinfo *a)
{
	const char *p = d + 1;
	uint64_t off = 0;

	a->nfields = 0;
	while (*p == '(') {
		const char *name, *ty, *te;
		pf_arrinfo f;
		unsigned long n;
		int pad;
		if (p[1] != '\'' || !(name = strchr(p + 2, '\'')))
			return;
		pad = name == p + 2;
		if (strncmp(name, "', '", 4) != 0)
			return;
		ty = name + 4;
		if (!(te = strchr(ty, '\'')) || te[1] != ')' || te - ty < 3 ||
		    te - ty >= (long)sizeof(f.descr))
			return;
		n = strtoul(ty + 2, NULL, 10);
		memset(&f, 0, sizeof(f));
		classify(ty, (size_t)(te - ty),
			 ty[1] == 'U' ? (int64_t)n * 4 : (int64_t)n, &f);
		if (!f.size || (pad ? ty[1] != 'V' : !f.kind) ||
		    a->nfields == PF_ARRAY_FIELDS)
			return;
		if (!pad) {
			pf_field *fd = &a->fields[a->nfields++];
			fd->off = (uint32_t)off;
			fd->size = f.size;
			fd->kind = f.kind;
			fd->order = f.order;
			fd->dtunit = f.dtunit;
		}
		off += f.size;
		p = te + 2;
		if (p[0] == ',' && p[1] == ' ')
			p += 2;
	}
	if (strcmp(p, "]") == 0 && a->nfields && isz > 0 &&
	    off == (uint64_t)isz) {
		a->kind = 'V';
		a->size = (uint32_t)isz;
	}
}

/* pf_array_parse; with objects set, an object array too (kind 'O',
 * items its slots in storage order). */
static int parse_array(const pk_doc *doc, const pk_val *v, pf_arrinfo *a,
		       int objects)
{
	pf_ndarray arr;
	pf_tensor t;
	const pk_node *sh;
	pk_buf ord = PK_BUF_INIT;
	const char *d;
	uint32_t i;
	int64_t isz;
	int rc;

	memset(a, 0, sizeof(*a));
	pk_buf_init(&a->dtype);
	pk_buf_init(&a->owned);
	if (pf_tensor_parse(v, &t) == 0) {
		/* numpy's name of the storage's dtype (none for bfloat16: no
		 * views), the size tuple, C order: data gives the values in
		 * logical order (tensor.h) */
		if (t.descr && pk_buf_adds(&a->dtype, t.descr))
			return ENOMEM;
		arr.shape = t.size;
		isz = t.itemsize;
		goto shape;
	}
	if (pf_ndarray_parse(v, &arr) || !arr.dtype || !arr.shape)
		return EIO;
	/* the item size is the dtype's (npdtype.h); the digits of the
	 * type code only say which kind of values */
	isz = pk_npdtype_itemsize(*arr.dtype);
	if (objects && pf_is_node(arr.data) && pf_kind(arr.data) == PK_LIST) {
		a->kind = 'O';
		pf_seq_kids(arr.data, &a->items, &a->nitems);
	} else if (pf_is_node(arr.data) && pf_kind(arr.data) != PK_BUFFER &&
		   pf_form_of(arr.data) != PF_FORM_LATIN1 &&
		   pf_form_of(arr.data) != PF_FORM_BYTESCALL) {
		return EIO; /* an object array's items */
	}
	if ((rc = part_text(doc, v, PF_PART_DTYPE, &a->dtype)))
		goto fail;
	if ((rc = part_text(doc, v, PF_PART_ORDER, &ord)))
		goto fail;
	a->fortran = ord.len == 1 && ord.data[0] == 'F';
	pk_buf_release(&ord);
shape:
	rc = EIO;
	sh = pf_node(arr.shape);
	if (sh->nkids > PF_ARRAY_MAXDIM)
		goto fail;
	a->ndim = sh->nkids;
	a->count = 1;
	for (i = 0; i < sh->nkids; i++) {
		int64_t n;
		if (pk_val_int64(sh->kids[i], &n) != PK_OK || n < 0 ||
		    n > (int64_t)1 << 48)
			goto fail;
		a->shape[i] = (uint64_t)n;
		if (n && a->count > ((uint64_t)1 << 48) / (uint64_t)n)
			goto fail;
		a->count *= (uint64_t)n;
	}
	d = a->dtype.len ? (const char *)a->dtype.data : "";
	if (a->kind == 'O') {
		/* numpy pickles the items in C order whatever the
		 * array's order (its _getlist_pkl walks it) */
		a->fortran = 0;
		if (a->nitems == a->count)
			return 0;
		rc = EIO;
		goto fail;
	}
	if (d[0] == '[')
		parse_fields(d, isz, a);
	else if (strcmp(d, "|O") != 0)
		classify(d, a->dtype.len, isz, a);
	return 0;
fail:
	pk_buf_release(&ord);
	pf_arrinfo_release(a);
	return rc;
}

int pf_array_parse(const pk_doc *doc, const pk_val *v, pf_arrinfo *a)
{
	return parse_array(doc, v, a, 0);
}

/* Items an object array's values.txt can show: values that are files
 * (scalars, library scalars, complex ...), not containers or objects. */
static int scalar_items(const pf_arrinfo *a)
{
	uint32_t i;

	for (i = 0; i < a->nitems; i++)
		if (pf_is_node(&a->items[i]) &&
		    pf_form_is_dir(pf_form_of(&a->items[i])))
			return 0;
	return 1;
}

/* len is count * size bytes (a product that overflows fits nothing). */
static int payload_fits(const pf_arrinfo *a, uint64_t len)
{
	uint64_t want;

	return !__builtin_mul_overflow(a->count, (uint64_t)a->size, &want) &&
	       want == len;
}

int pf_array_payload(const pk_doc *doc, const pk_val *v, pf_arrinfo *a)
{
	pf_ref r = {v, PF_PART_DATA};
	pf_content c;
	int rc = pf_content_get(doc, r, 0, &c, NULL);

	if (rc)
		return rc;
	if (c.owned.data) {
		pk_buf_release(&a->owned);
		a->owned = c.owned;
		pk_buf_init(&c.owned);
		a->data = a->owned.data;
	} else {
		a->data = c.data;
	}
	a->len = c.len;
	pf_content_release(&c);
	if (a->size && !payload_fits(a, a->len))
		return EIO;
	return 0;
}

/* The payload length the dtype and shape ask for matches the payload
 * (checked without reading its bytes). */
static int payload_sized(const pk_doc *doc, const pk_val *v,
			 const pf_arrinfo *a)
{
	pf_ref r = {v, PF_PART_DATA};
	pf_content c;
	int ok;

	if (!a->size)
		return 0;
	ok = pf_content_get(doc, r, PF_CONTENT_SIZE_ONLY, &c, NULL) == 0 &&
	     payload_fits(a, c.len);
	pf_content_release(&c);
	return ok;
}

static int image_shaped(const pf_arrinfo *a)
{
	if (strcmp(a->descr, "|u1") != 0 && strcmp(a->descr, "|b1") != 0)
		return 0;
	if (a->ndim != 2 && a->ndim != 3)
		return 0;
	if (a->ndim == 3 && a->shape[2] != 1 && a->shape[2] != 3 &&
	    a->shape[2] != 4)
		return 0;
	/* a side past PF_IMAGE_SIDE_MAX is a stack of rows, not a
	 * picture: MNIST's (50000, 784) training set would be a 39 MB PNG
	 * rendered at every ls -l */
	return a->shape[0] > 0 && a->shape[1] > 0 &&
	       a->shape[0] <= PF_IMAGE_SIDE_MAX &&
	       a->shape[1] <= PF_IMAGE_SIDE_MAX;
}

unsigned pf_array_views(const pk_doc *doc, const pk_val *v)
{
	pf_arrinfo a;
	unsigned views = 0;

	if (parse_array(doc, v, &a, 1))
		return 0;
	if (a.kind == 'O') {
		views = scalar_items(&a) ? PF_VIEW_STRVALUES : 0;
	} else if (payload_sized(doc, v, &a)) {
		if (pf_array_text_only(&a))
			views |= PF_VIEW_STRVALUES;
		else if (a.kind)
			views |= PF_VIEW_VALUES;
		if (a.descr[0])
			views |= PF_VIEW_NPY;
		if (image_shaped(&a))
			views |= PF_VIEW_IMAGE;
	}
	pf_arrinfo_release(&a);
	return views;
}

/* ---- elements in logical C order --------------------------------------- */

/* Walks the elements of a in C order, giving each one's byte offset in
 * the payload (which is in C or Fortran order). */
typedef struct walk {
	const pf_arrinfo *a;
	uint64_t idx[PF_ARRAY_MAXDIM];
	uint64_t stride[PF_ARRAY_MAXDIM]; /* in elements */
	uint64_t off;			  /* element offset */
} walk;

static void walk_init(walk *w, const pf_arrinfo *a)
{
	uint64_t s = 1;
	uint32_t k;

	memset(w, 0, sizeof(*w));
	w->a = a;
	if (a->fortran) {
		for (k = 0; k < a->ndim; k++) {
			w->stride[k] = s;
			s *= a->shape[k];
		}
	} else {
		for (k = a->ndim; k-- > 0;) {
			w->stride[k] = s;
			s *= a->shape[k];
		}
	}
}

/* Moves to the next element; returns the number of axes that wrapped
 * (0: same row; >= 1: a new row starts). */
static uint32_t walk_next(walk *w)
{
	uint32_t k = w->a->ndim, wrapped = 0;

	while (k-- > 0) {
		w->idx[k]++;
		w->off += w->stride[k];
		if (w->idx[k] < w->a->shape[k])
			return wrapped;
		w->off -= w->stride[k] * w->a->shape[k];
		w->idx[k] = 0;
		wrapped++;
	}
	return wrapped;
}

/* ---- numbers ----------------------------------------------------------- */

static int host_big(void)
{
	return __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
}

/* The element's bytes in host order, into out (size bytes). */
void pf_array_load_elem(const pf_arrinfo *a, const uint8_t *p, uint8_t *out,
			uint32_t size)
{
	uint32_t i;
	int swap = a->order != '|' && ((a->order == '>') != host_big());

	if (!swap) {
		memcpy(out, p, size);
		return;
	}
	for (i = 0; i < size; i++)
		out[i] = p[size - 1 - i];
}

static void store_elem(const pf_arrinfo *a, uint8_t *p, const uint8_t *in,
		       uint32_t size)
{
	pf_array_load_elem(a, in, p, size); /* a swap is its own inverse */
}

static double half_to_double(uint16_t h)
{
	int e = (h >> 10) & 0x1f, m = h & 0x3ff;
	double v;

	if (e == 0x1f)
		v = m ? NAN : INFINITY;
	else if (e == 0)
		v = ldexp(m, -24);
	else
		v = ldexp(m + 1024, e - 25);
	return (h & 0x8000) ? -v : v;
}

/* Round to nearest even, as numpy's float -> float16 cast. */
static uint16_t double_to_half(double d)
{
	uint16_t sign = signbit(d) ? 0x8000 : 0;
	double a = fabs(d), q;
	int e;

	if (isnan(d))
		return sign | 0x7e00;
	if (a >= 65520.0) /* rounds past the largest half */
		return sign | 0x7c00;
	if (a < ldexp(1, -14)) { /* subnormal: multiples of 2^-24 */
		q = nearbyint(ldexp(a, 24));
		return sign | (uint16_t)q; /* 1024 is the smallest normal */
	}
	frexp(a, &e);			 /* a = f * 2^e, f in [0.5, 1) */
	q = nearbyint(ldexp(a, 11 - e)); /* 11 significant bits */
	if (q >= 2048) {
		q /= 2;
		e++;
	}
	if (e - 1 + 15 >= 31)
		return sign | 0x7c00;
	return sign | (uint16_t)((e - 1 + 15) << 10) | ((uint16_t)q & 0x3ff);
}

/* The double nearest the shortest decimal that reads back (as a float of
 * `bits` 16 or 32) as x; x itself for 64. */
static double shortest_of(double x, int bits)
{
	char buf[40];
	int p;

	if (bits == 64 || !isfinite(x) || x == 0)
		return x;
	for (p = 1; p <= 17; p++) {
		double d;
		snprintf(buf, sizeof(buf), "%.*e", p - 1, x);
		d = strtod(buf, NULL);
		if (bits == 32 ? (double)(float)d == x
			       : half_to_double(double_to_half(d)) == x)
			return d;
	}
	return x;
}

static double load_float(const pf_arrinfo *a, const uint8_t *p, int size)
{
	uint8_t b[8];

	pf_array_load_elem(a, p, b, (uint32_t)size);
	if (size == 2) {
		uint16_t h;
		memcpy(&h, b, 2);
		return half_to_double(h);
	}
	if (size == 4) {
		float f;
		memcpy(&f, b, 4);
		return f;
	}
	{
		double d;
		memcpy(&d, b, 8);
		return d;
	}
}

static void store_float(const pf_arrinfo *a, uint8_t *p, int size, double d)
{
	uint8_t b[8];

	if (size == 2) {
		uint16_t h = double_to_half(d);
		memcpy(b, &h, 2);
	} else if (size == 4) {
		float f = (float)d;
		memcpy(b, &f, 4);
	} else {
		memcpy(b, &d, 8);
	}
	store_elem(a, p, b, (uint32_t)size);
}

/* A str item (UCS-4 in the array's byte order, trailing NULs dropped)
 * as Python's repr. A code point past U+10FFFF is not text: -1. */
static int format_ucs4(const pf_arrinfo *a, const uint8_t *p, pk_buf *out)
{
	uint32_t n = a->size / 4, i;
	pk_buf u = PK_BUF_INIT;
	int rc = 0;

	while (n) {
		uint8_t b[4];
		uint32_t c;
		pf_array_load_elem(a, p + 4 * (n - 1), b, 4);
		memcpy(&c, b, 4);
		if (c)
			break;
		n--;
	}
	for (i = 0; i < n && !rc; i++) {
		uint8_t b[4];
		uint32_t c;
		pf_array_load_elem(a, p + 4 * i, b, 4);
		memcpy(&c, b, 4);
		if (c < 0x80)
			rc = pk_buf_addc(&u, (uint8_t)c);
		else if (c < 0x800)
			rc = pk_buf_addc(&u, (uint8_t)(0xc0 | (c >> 6))) ||
			     pk_buf_addc(&u, (uint8_t)(0x80 | (c & 0x3f)));
		else if (c < 0x10000)
			rc = pk_buf_addc(&u, (uint8_t)(0xe0 | (c >> 12))) ||
			     pk_buf_addc(&u,
					 (uint8_t)(0x80 | ((c >> 6) & 0x3f))) ||
			     pk_buf_addc(&u, (uint8_t)(0x80 | (c & 0x3f)));
		else if (c < 0x110000)
			rc = pk_buf_addc(&u, (uint8_t)(0xf0 | (c >> 18))) ||
			     pk_buf_addc(
				 &u, (uint8_t)(0x80 | ((c >> 12) & 0x3f))) ||
			     pk_buf_addc(&u,
					 (uint8_t)(0x80 | ((c >> 6) & 0x3f))) ||
			     pk_buf_addc(&u, (uint8_t)(0x80 | (c & 0x3f)));
		else
			rc = -1;
	}
	if (!rc)
		rc = pk_repr_str(u.data ? u.data : (const uint8_t *)"", u.len,
				 out);
	pk_buf_release(&u);
	return rc;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* H. Hinnant's civil_from_days (the proleptic Gregorian calendar), in
 * 128 bits: a datetime64[W] of any int64 is 7 times that many days. The
 * year of any such count fits 64 bits. */
static void civil_from_days(__int128 days, int64_t *y, int *m, int *d)
{
	__int128 z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = (int64_t)(z - era * 146097),
		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365,
		doy = doe - (365 * yoe + yoe / 4 - yoe / 100),
		mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int64_t)(yoe + era * 400 + (*m <= 2));
}

void pf_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	civil_from_days(days, y, m, d);
}

/* str(numpy.datetime64) of t in unit u: ISO 8601, as many fields as the
 * unit has ("2020-01", "2020-01-02T03:04:05.000"); NaT. */
static int datetime64_text(int64_t t, int u, pk_buf *out)
{
	static const int64_t per_sec[] = {1, 1000, 1000000, 1000000000};
	static const int frac_digits[] = {0, 3, 6, 9};
	int64_t y, sod = 0, frac = 0, secs;
	__int128 days;
	int m, d, k;

	if (t == INT64_MIN)
		return pk_buf_adds(out, "NaT");
	if (u == DT_Y) /* 1970 + t overflows int64 for the last 1970 */
		return t >= 0 ? pk_buf_addf(out, "%04llu",
					    (unsigned long long)t + 1970)
			      : pk_buf_addf(out, "%04lld", (long long)t + 1970);
	if (u == DT_MONTH)
		return pk_buf_addf(out, "%04lld-%02d",
				   (long long)(1970 + floor_div(t, 12)),
				   (int)((t % 12 + 12) % 12) + 1);
	if (u == DT_W || u == DT_D) {
		days = u == DT_W ? (__int128)t * 7 : t;
	} else if (u == DT_H || u == DT_MIN) {
		int64_t per_day = u == DT_H ? 24 : 1440;
		days = floor_div(t, per_day);
		sod = (t - days * per_day) * (u == DT_H ? 3600 : 60);
	} else {
		k = u - DT_S;
		/* the remainder first: secs * per overflows at the ends */
		frac = (t % per_sec[k] + per_sec[k]) % per_sec[k];
		secs = floor_div(t, per_sec[k]);
		days = floor_div(secs, 86400);
		sod = secs - days * 86400;
	}
	civil_from_days(days, &y, &m, &d);
	if (pk_buf_addf(out, "%04lld-%02d-%02d", (long long)y, m, d))
		return -1;
	if (u == DT_W || u == DT_D)
		return 0;
	if (pk_buf_addf(out, "T%02d", (int)(sod / 3600)))
		return -1;
	if (u == DT_H)
		return 0;
	if (pk_buf_addf(out, ":%02d", (int)(sod / 60 % 60)))
		return -1;
	if (u == DT_MIN)
		return 0;
	if (pk_buf_addf(out, ":%02d", (int)(sod % 60)))
		return -1;
	if (u == DT_S)
		return 0;
	k = u - DT_S;
	return pk_buf_addf(out, ".%0*lld", frac_digits[k], (long long)frac);
}

int pf_array_elem_text(const pf_arrinfo *a, const uint8_t *p, pk_buf *out)
{
	uint8_t b[16];

	switch (a->kind) {
	case 'b':
		return pk_buf_adds(out, p[0] ? "True" : "False");
	case 'i':
	case 'u': {
		uint64_t u = 0;
		int64_t s;
		pf_array_load_elem(a, p, b, a->size);
		switch (a->size) {
		case 1:
			s = a->kind == 'i' ? (int8_t)b[0] : b[0];
			u = b[0];
			break;
		case 2: {
			uint16_t x;
			memcpy(&x, b, 2);
			s = a->kind == 'i' ? (int16_t)x : x;
			u = x;
			break;
		}
		case 4: {
			uint32_t x;
			memcpy(&x, b, 4);
			s = a->kind == 'i' ? (int64_t)(int32_t)x : (int64_t)x;
			u = x;
			break;
		}
		default:
			memcpy(&u, b, 8);
			s = (int64_t)u;
			break;
		}
		if (a->kind == 'u')
			return pk_buf_add_u64(out, u);
		return pk_buf_add_i64(out, s);
	}
	case 'f':
		if (a->size == 4) /* the float32's own shortest digits */
			return pk_float32_repr(
			    (float)load_float(a, p, (int)a->size), out);
		return pk_float_repr(shortest_of(load_float(a, p, (int)a->size),
						 (int)a->size * 8),
				     out);
	case 'S': { /* bytes: trailing NULs dropped, as numpy does */
		uint32_t n = a->size;
		while (n && p[n - 1] == 0)
			n--;
		return pk_repr_bytes(p, n, out);
	}
	case 'U':
		return format_ucs4(a, p, out);
	case 'V': { /* Python's repr of the tuple .item() gives */
		uint32_t k;
		if (pk_buf_addc(out, '('))
			return -1;
		for (k = 0; k < a->nfields; k++) {
			pf_arrinfo f;
			memset(&f, 0, sizeof(f));
			f.kind = a->fields[k].kind;
			f.order = a->fields[k].order;
			f.size = a->fields[k].size;
			f.dtunit = a->fields[k].dtunit;
			if ((k && pk_buf_adds(out, ", ")) ||
			    pf_array_elem_text(&f, p + a->fields[k].off, out))
				return -1;
		}
		return pk_buf_adds(out, a->nfields == 1 ? ",)" : ")");
	}
	case 'M': {
		int64_t t;
		pf_array_load_elem(a, p, b, 8);
		memcpy(&t, b, 8);
		return datetime64_text(t, a->dtunit, out);
	}
	case 'c': {
		int half = (int)a->size / 2;
		double re = load_float(a, p, half),
		       im = load_float(a, p + half, half);
		return pk_complex_repr(shortest_of(re, half * 8),
				       shortest_of(im, half * 8), out);
	}
	}
	return -1;
}

/* Moves w to element e (e < count) of the logical C order. */
static void walk_seek(walk *w, uint64_t e)
{
	uint32_t k = w->a->ndim;

	w->off = 0;
	while (k-- > 0) {
		uint64_t n = w->a->shape[k];
		w->idx[k] = e % n;
		e /= n;
		w->off += w->idx[k] * w->stride[k];
	}
}

int pf_array_values_range(const pf_arrinfo *a, uint64_t from, uint64_t to,
			  pk_buf *out)
{
	walk w;
	uint64_t i;

	if (!a->kind || !a->data)
		return EIO;
	if (to > a->count)
		to = a->count;
	if (from >= to)
		return 0;
	walk_init(&w, a);
	walk_seek(&w, from);
	for (i = from; i < to; i++) {
		uint32_t wrapped;
		if (pf_array_elem_text(a, a->data + w.off * a->size, out))
			return a->kind == 'U' ? EIO : ENOMEM;
		wrapped = walk_next(&w);
		if (pk_buf_addc(out,
				(wrapped || i + 1 == a->count) ? '\n' : ' '))
			return ENOMEM;
	}
	return 0;
}

int pf_array_values_text(const pf_arrinfo *a, pk_buf *out)
{
	return pf_array_values_range(a, 0, a->count, out);
}

/* values.txt in chunks (chunked.h): `per` elements a chunk, whole rows of
 * the last axis when a row fits in PF_CHUNK_ITEMS. */
struct values_chunker {
	pf_arrinfo a;
	uint64_t per;
};

static int values_chunk(void *self, uint64_t k, pk_buf *out)
{
	struct values_chunker *c = self;

	return pf_array_values_range(&c->a, k * c->per, (k + 1) * c->per, out);
}

static void values_chunker_free(void *self)
{
	struct values_chunker *c = self;

	pf_arrinfo_release(&c->a);
	free(c);
}

int pf_array_values_chunker(const pk_doc *doc, const pk_val *v, uint32_t part,
			    pf_chunker *out)
{
	struct values_chunker *c = calloc(1, sizeof(*c));
	uint64_t row;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return ENOMEM;
	if ((rc = parse_array(doc, v, &c->a, 1))) {
		free(c);
		return rc;
	}
	if (c->a.kind == 'O')
		rc = ENOTSUP; /* items in the doc: made whole */
	else if ((part != PF_PART_VALUES && part != PF_PART_STRVALUES) ||
		 (part == PF_PART_STRVALUES) != pf_array_text_only(&c->a))
		rc = EIO; /* the other values.txt */
	else if (!(rc = pf_array_payload(doc, v, &c->a)) &&
		 (!c->a.kind || !c->a.data))
		rc = EIO;
	if (rc) {
		values_chunker_free(c);
		return rc;
	}
	row = c->a.ndim ? c->a.shape[c->a.ndim - 1] : 1;
	c->per = row && row <= PF_CHUNK_ITEMS ? PF_CHUNK_ITEMS / row * row
					      : PF_CHUNK_ITEMS;
	out->self = c;
	out->nchunks = (c->a.count + c->per - 1) / c->per;
	out->chunk = values_chunk;
	out->release = values_chunker_free;
	return 0;
}

/* ---- parsing an edited values.txt ------------------------------------- */

static int parse_u64(const char *t, size_t n, uint64_t *out, int *neg)
{
	uint64_t v = 0;
	size_t i = 0;

	*neg = 0;
	if (i < n && (t[i] == '+' || t[i] == '-'))
		*neg = t[i++] == '-';
	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(t[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(t[i] - '0');
	}
	*out = v;
	return 0;
}

int pf_array_elem_parse(const pf_arrinfo *a, const char *t, size_t n,
			uint8_t *p)
{
	uint8_t b[8];

	switch (a->kind) {
	case 'b':
		if ((n == 4 && memcmp(t, "True", 4) == 0) ||
		    (n == 1 && t[0] == '1'))
			p[0] = 1;
		else if ((n == 5 && memcmp(t, "False", 5) == 0) ||
			 (n == 1 && t[0] == '0'))
			p[0] = 0;
		else
			return -1;
		return 0;
	case 'i':
	case 'u': {
		uint64_t u;
		int neg, bits = (int)a->size * 8;
		if (parse_u64(t, n, &u, &neg))
			return -1;
		if (a->kind == 'u') {
			if (neg && u)
				return -1;
			if (bits < 64 && u >> bits)
				return -1;
		} else {
			uint64_t lim = (uint64_t)1 << (bits - 1);
			if (neg ? u > lim : u >= lim)
				return -1;
			if (neg)
				u = (uint64_t)0 - u;
		}
		/* little-endian host order of the low bytes */
		if (host_big()) {
			uint32_t k;
			for (k = 0; k < a->size; k++)
				b[k] = (uint8_t)(u >> (8 * (a->size - 1 - k)));
		} else {
			uint32_t k;
			for (k = 0; k < a->size; k++)
				b[k] = (uint8_t)(u >> (8 * k));
		}
		store_elem(a, p, b, a->size);
		return 0;
	}
	case 'f': {
		double d;
		if (pk_float_parse(t, n, &d, NULL) != PK_OK)
			return -1;
		store_float(a, p, (int)a->size, d);
		return 0;
	}
	case 'c': {
		double re, im;
		int half = (int)a->size / 2;
		if (pk_complex_parse(t, n, &re, &im, NULL) != PK_OK)
			return -1;
		store_float(a, p, half, re);
		store_float(a, p + half, half, im);
		return 0;
	}
	}
	return -1;
}

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

int pf_array_values_parse(const pf_arrinfo *a, const uint8_t *text, size_t len,
			  pk_buf *out, pk_err *e)
{
	size_t i = 0, start = out->len;
	uint64_t k = 0;
	walk w;

	if (!a->kind || !a->data)
		return pk_err_set(e, PK_E_REFUSED,
				  "this array has no values.txt", 0);
	if (pf_array_text_only(a))
		return pk_err_set(e, PK_E_REFUSED,
				  "values.txt of a str, bytes or datetime64 "
				  "array is read-only",
				  0);
	if (pk_buf_add(out, a->len ? a->data : (const uint8_t *)"", a->len))
		return pk_err_set(e, PK_E_NOMEM, "out of memory", 0);
	walk_init(&w, a);
	for (;;) {
		size_t t0;
		while (i < len && is_space(text[i]))
			i++;
		if (i == len)
			break;
		t0 = i;
		while (i < len && !is_space(text[i]))
			i++;
		if (k == a->count) {
			out->len = start;
			return pk_err_set(e, PK_E_VALUE,
					  "values.txt has more values than "
					  "the array",
					  t0);
		}
		if (pf_array_elem_parse(a, (const char *)text + t0, i - t0,
					out->data + start + w.off * a->size)) {
			out->len = start;
			return pk_err_set(e, PK_E_VALUE,
					  "values.txt: not a value of the "
					  "array's dtype",
					  t0);
		}
		k++;
		walk_next(&w);
	}
	if (k != a->count) {
		out->len = start;
		return pk_err_set(e, PK_E_VALUE,
				  "values.txt has fewer values than the array",
				  len);
	}
	return PK_OK;
}

/* ---- .npy --------------------------------------------------------------- */

int pf_array_npy_header(const pf_arrinfo *a, pk_buf *out)
{
	pk_buf h = PK_BUF_INIT;
	size_t start = out->len, total;
	uint32_t i;
	int rc = ENOMEM;

	if (pk_buf_adds(&h, "{'descr': ") ||
	    (a->dtype.len && a->dtype.data[0] == '['
		 ? pk_buf_add(&h, a->dtype.data, a->dtype.len)
		 : pk_buf_addf(&h, "'%s'", a->descr)) ||
	    pk_buf_addf(&h, ", 'fortran_order': %s, 'shape': (",
			a->fortran ? "True" : "False"))
		goto out;
	for (i = 0; i < a->ndim; i++)
		if (pk_buf_addf(&h, i ? ", %llu" : "%llu",
				(unsigned long long)a->shape[i]))
			goto out;
	if (pk_buf_adds(&h, a->ndim == 1 ? ",), }" : "), }"))
		goto out;
	/* spaces and '\n' to a multiple of 64 bytes with the 10-byte
	 * preamble, as numpy writes it */
	total = 10 + h.len + 1;
	while (total % 64) {
		if (pk_buf_addc(&h, ' '))
			goto out;
		total++;
	}
	if (pk_buf_addc(&h, '\n'))
		goto out;
	rc = EIO;
	if (h.len > 65535)
		goto out;
	rc = ENOMEM;
	if (pk_buf_add(out, "\x93NUMPY\x01\x00", 8) ||
	    pk_buf_addc(out, (uint8_t)(h.len & 0xff)) ||
	    pk_buf_addc(out, (uint8_t)(h.len >> 8)) ||
	    pk_buf_add(out, h.data, h.len))
		goto out;
	rc = 0;
out:
	if (rc)
		out->len = start;
	pk_buf_release(&h);
	return rc;
}

/* ---- .png ---------------------------------------------------------------- */

static void png_to_buf(png_structp png, png_bytep data, size_t n)
{
	pk_buf *out = png_get_io_ptr(png);

	if (pk_buf_add(out, data, n))
		png_error(png, "out of memory");
}

static void png_no_flush(png_structp png)
{
	(void)png;
}

/* The 8-bit pixels (rows of wd * ch bytes) as a PNG into out. The
 * setjmp is alone here: nothing it returns to changes after it. */
static int png_encode(png_bytep *rows, uint32_t h, uint32_t wd, int color,
		      pk_buf *out)
{
	png_structp png;
	png_infop info;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (!png)
		return ENOMEM;
	info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return ENOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return ENOMEM;
	}
	png_set_write_fn(png, out, png_to_buf, png_no_flush);
	png_set_IHDR(png, info, wd, h, 8, color, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

int pf_array_png(const pf_arrinfo *a, pk_buf *out)
{
	uint32_t h, wd, ch;
	uint8_t *pix = NULL;
	png_bytep *rows = NULL;
	size_t start = out->len;
	int rc = ENOMEM;
	uint64_t i;
	walk w;

	if (!image_shaped(a) || !a->data || a->len != a->count)
		return EIO;
	h = (uint32_t)a->shape[0];
	wd = (uint32_t)a->shape[1];
	ch = a->ndim == 3 ? (uint32_t)a->shape[2] : 1;
	/* the pixels in C order (bool: 0 / 255) */
	pix = malloc(a->count);
	rows = malloc(sizeof(png_bytep) * h);
	if (!pix || !rows)
		goto out;
	walk_init(&w, a);
	for (i = 0; i < a->count; i++) {
		uint8_t b = a->data[w.off];
		pix[i] = a->descr[1] == 'b' ? (b ? 255 : 0) : b;
		walk_next(&w);
	}
	for (i = 0; i < h; i++)
		rows[i] = pix + i * (size_t)wd * ch;
	rc = png_encode(rows, h, wd,
			ch == 1	  ? PNG_COLOR_TYPE_GRAY
			: ch == 3 ? PNG_COLOR_TYPE_RGB
				  : PNG_COLOR_TYPE_RGB_ALPHA,
			out);
out:
	free(pix);
	free(rows);
	if (rc)
		out->len = start;
	return rc;
}

/* values.txt of an object array: each item's repr (repr.h: what the
 * pickle says the value is), in the layout of any values.txt. */
static int objects_text(const pk_doc *doc, const pf_arrinfo *a, pk_buf *out)
{
	walk w;
	uint64_t i;
	int rc;

	walk_init(&w, a);
	for (i = 0; i < a->count; i++) {
		uint32_t wrapped;
		if ((rc = pf_repr(doc, &a->items[w.off], 1024, out)))
			return rc;
		wrapped = walk_next(&w);
		if (pk_buf_addc(out,
				(wrapped || i + 1 == a->count) ? '\n' : ' '))
			return ENOMEM;
	}
	return 0;
}

int pf_array_render(const pk_doc *doc, const pk_val *v, uint32_t part,
		    pk_buf *out)
{
	pf_arrinfo a;
	int rc = parse_array(doc, v, &a, 1);

	if (rc)
		return rc;
	if (part != PF_PART_IMAGE &&
	    (part == PF_PART_STRVALUES) != pf_array_text_only(&a))
		rc = EIO; /* the other values.txt */
	else if (a.kind == 'O')
		rc = part == PF_PART_STRVALUES && scalar_items(&a)
			 ? objects_text(doc, &a, out)
			 : EIO;
	else if (!(rc = pf_array_payload(doc, v, &a)))
		rc = part == PF_PART_IMAGE ? pf_array_png(&a, out)
					   : pf_array_values_text(&a, out);
	pf_arrinfo_release(&a);
	return rc;
}
