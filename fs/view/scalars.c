#include "scalars.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errmap.h"
#include "form.h"
#include "npdtype.h"
#include "opcodes.h"
#include "text.h"
#include "views.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

static int refuse(pk_err *e, int code, const char *msg)
{
	pk_err_set(e, code, msg, 0);
	return pf_errno_of(code);
}

/* pk_val_set_text on slot, or with dry set on a copy of it (the doc's
 * slot untouched: the answer is the one a real edit would get). */
static int put_text(pk_doc *doc, const pk_val *slot, int kind, const uint8_t *t,
		    size_t n, int dry, pk_err *e)
{
	pk_val copy = *slot;
	int rc = pk_val_set_text(doc, dry ? &copy : (pk_val *)slot, kind,
				 t ? t : (const uint8_t *)"", n, e);

	if (rc == PK_E_UNSUPPORTED)
		return refuse(e, PK_E_REFUSED, e->msg);
	return pf_errno_of(rc);
}

static int tuple_of(const pk_val *v, const pk_val **k, uint32_t *n)
{
	if (!v || !pf_is_node(v) || pf_kind(v) != PK_TUPLE)
		return -1;
	*k = pf_node(v)->kids;
	*n = pf_node(v)->nkids;
	return 0;
}

/* REDUCE of module.name with a tuple of args and no later step. */
static int plain_call(const pk_val *v, const char *mod, const char *name,
		      const pk_val **ak, uint32_t *an)
{
	pf_obj o;

	return pf_obj_parse(v, &o) == 0 && o.op == PK_OP_REDUCE &&
	       o.node->nsteps == 1 && pf_global_is(o.callable, mod, name) &&
	       tuple_of(o.args, ak, an) == 0;
}

/* The bytes of a bytes-like slot (bytes, Python 2 str, or protocol 0-2's
 * _codecs.encode(str, 'latin1')), at most cap of them: 0, or -1. */
static int bytes_of(const pk_val *v, pk_buf *out, size_t cap)
{
	const pk_val *ak;
	uint32_t an;
	pk_buf u = PK_BUF_INIT;
	int rc;

	if (!pf_is_node(v)) {
		if (pf_kind(v) != PK_BYTES && pf_kind(v) != PK_STRING)
			return -1;
		rc = pk_val_format(NULL, *v, out, NULL) == PK_OK ? 0 : -1;
		return rc || out->len > cap ? -1 : 0;
	}
	if (pf_form_of(v) != PF_FORM_LATIN1 ||
	    !plain_call(v, "_codecs", "encode", &ak, &an) || an < 1 ||
	    pf_is_node(&ak[0]))
		return -1;
	rc = pk_val_format(NULL, ak[0], &u, NULL) != PK_OK || u.len > 4 * cap ||
		     pk_utf8_to_latin1(u.data ? u.data : (const uint8_t *)"",
				       u.len, out, NULL)
		 ? -1
		 : 0;
	pk_buf_release(&u);
	return rc || out->len > cap ? -1 : 0;
}

/* Writes new bytes into a slot bytes_of read. */
static int set_bytes(pk_doc *doc, const pk_val *v, const uint8_t *b, size_t n,
		     int dry, pk_err *e)
{
	const pk_val *ak;
	uint32_t an;
	pk_buf u = PK_BUF_INIT;
	int rc;

	if (!pf_is_node(v))
		return put_text(doc, v, pf_kind(v), b, n, dry, e);
	if (!plain_call(v, "_codecs", "encode", &ak, &an) || an < 1)
		return refuse(e, PK_E_REFUSED, "not bytes it can change");
	if (pk_latin1_to_utf8(b, n, &u))
		rc = refuse(e, PK_E_NOMEM, "out of memory");
	else
		rc = put_text(doc, &ak[0], PK_STR, u.data, u.len, dry, e);
	pk_buf_release(&u);
	return rc;
}

static int int_of(const pk_val *v, int64_t *out)
{
	return !pf_is_node(v) &&
		       (pf_kind(v) == PK_INT || pf_kind(v) == PK_BOOL) &&
		       pk_val_int64(*v, out) == PK_OK
		   ? 0
		   : -1;
}

/* ---- numpy scalars ---------------------------------------------------- */

/* The scalar as a 0-d array (views.h) whose payload is its bytes. */
static int np_info(const pk_val *v, pf_arrinfo *a, const pk_val **data)
{
	const pk_val *ak, *st, *bo;
	uint32_t an;
	pk_buf code = PK_BUF_INIT, ord = PK_BUF_INIT;
	unsigned n = 0;
	char k;
	size_t i;
	int ok;

	memset(a, 0, sizeof(*a));
	pk_buf_init(&a->dtype);
	pk_buf_init(&a->owned);
	if (!plain_call(v, "numpy.core.multiarray", "scalar", &ak, &an) ||
	    an != 2 || pk_npdtype_code(ak[0], &code) || code.len < 2 ||
	    code.len > 3) {
		pk_buf_release(&code);
		return -1;
	}
	k = (char)code.data[0];
	for (i = 1; i < code.len; i++) {
		if (code.data[i] < '0' || code.data[i] > '9')
			n = 99;
		n = n * 10 + (unsigned)(code.data[i] - '0');
	}
	pk_buf_release(&code);
	ok = (k == 'b' && n == 1) ||
	     ((k == 'i' || k == 'u') &&
	      (n == 1 || n == 2 || n == 4 || n == 8)) ||
	     (k == 'f' && (n == 2 || n == 4 || n == 8)) ||
	     (k == 'c' && (n == 8 || n == 16));
	if (!ok)
		return -1;
	a->kind = k;
	a->size = n;
	a->order = '<';
	st = pk_npdtype_state(ak[0]);
	bo = st ? pk_tuple_at(*st, 1) : NULL;
	if (bo && pf_kind(bo) == PK_STR &&
	    pk_val_format(NULL, *bo, &ord, NULL) == PK_OK && ord.len == 1 &&
	    (ord.data[0] == '>' || ord.data[0] == '|'))
		a->order = (char)ord.data[0];
	pk_buf_release(&ord);
	snprintf(a->descr, sizeof(a->descr), "%c%c%u", a->order, k, n);
	a->ndim = 0;
	a->count = 1;
	a->sized = 1;
	if (bytes_of(&ak[1], &a->owned, 16) || a->owned.len != n) {
		pf_arrinfo_release(a);
		return -1;
	}
	a->data = a->owned.data;
	a->len = a->owned.len;
	*data = &ak[1];
	return 0;
}

static const char *np_name(const pf_arrinfo *a)
{
	static const struct {
		char k;
		unsigned n;
		const char *name;
	} t[] = {
	    {'b', 1, "numpy.bool_"},	 {'i', 1, "numpy.int8"},
	    {'i', 2, "numpy.int16"},	 {'i', 4, "numpy.int32"},
	    {'i', 8, "numpy.int64"},	 {'u', 1, "numpy.uint8"},
	    {'u', 2, "numpy.uint16"},	 {'u', 4, "numpy.uint32"},
	    {'u', 8, "numpy.uint64"},	 {'f', 2, "numpy.float16"},
	    {'f', 4, "numpy.float32"},	 {'f', 8, "numpy.float64"},
	    {'c', 8, "numpy.complex64"}, {'c', 16, "numpy.complex128"},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].k == a->kind && t[i].n == a->size)
			return t[i].name;
	return "numpy.generic";
}

/* ---- datetime --------------------------------------------------------- */

typedef struct dtv {
	int year, month, day, hour, minute, second, us, fold;
	int tz;		/* has a fixed-offset timezone */
	int64_t off_us; /* its offset */
} dtv;

static int days_in(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int date_ok(const dtv *d)
{
	return d->year >= 1 && d->year <= 9999 && d->month >= 1 &&
	       d->month <= 12 && d->day >= 1 &&
	       d->day <= days_in(d->year, d->month);
}

static int time_ok(const dtv *d)
{
	return d->hour >= 0 && d->hour < 24 && d->minute >= 0 &&
	       d->minute < 60 && d->second >= 0 && d->second < 60 &&
	       d->us >= 0 && d->us < 1000000;
}

/* timedelta(days, seconds, us) as Python keeps it (normalised). */
static int td_args(const pk_val *v, int64_t t[3])
{
	const pk_val *ak;
	uint32_t an, i;

	if (!plain_call(v, "datetime", "timedelta", &ak, &an) || an != 3)
		return -1;
	for (i = 0; i < 3; i++)
		if (int_of(&ak[i], &t[i]))
			return -1;
	if (t[0] < -999999999 || t[0] > 999999999 || t[1] < 0 ||
	    t[1] >= 86400 || t[2] < 0 || t[2] >= 1000000)
		return -1;
	return 0;
}

/* datetime.timezone(timedelta[, name]) with -24 h < offset < 24 h. */
static int tz_offset(const pk_val *v, int64_t *off)
{
	const pk_val *ak;
	uint32_t an;
	int64_t t[3];

	if (!plain_call(v, "datetime", "timezone", &ak, &an) || an < 1 ||
	    an > 2 || td_args(&ak[0], t) ||
	    (an == 2 && pf_kind(&ak[1]) != PK_STR))
		return -1;
	*off = (t[0] * 86400 + t[1]) * 1000000 + t[2];
	return *off > -86400000000ll && *off < 86400000000ll ? 0 : -1;
}

/* Reads the parts of a datetime / date / time call into d. */
static int dt_read(const pk_val *v, int type, dtv *d, const pk_val **state)
{
	const pk_val *ak;
	uint32_t an;
	pk_buf b = PK_BUF_INIT;
	const uint8_t *p;
	const char *name = type == PF_SC_DATETIME ? "datetime"
			   : type == PF_SC_DATE	  ? "date"
						  : "time";
	size_t want = type == PF_SC_DATETIME ? 10 : type == PF_SC_DATE ? 4 : 6;
	int ok;

	memset(d, 0, sizeof(*d));
	if (!plain_call(v, "datetime", name, &ak, &an) || an < 1 ||
	    an > (type == PF_SC_DATE ? 1u : 2u))
		return -1;
	if (an == 2 && pf_kind(&ak[1]) != PK_NONE) {
		if (tz_offset(&ak[1], &d->off_us))
			return -1;
		d->tz = 1;
	}
	if (bytes_of(&ak[0], &b, 10) || b.len != want) {
		pk_buf_release(&b);
		return -1;
	}
	p = b.data;
	if (type != PF_SC_TIME) {
		d->year = p[0] << 8 | p[1];
		d->month = p[2] & 0x7f;
		d->fold = p[2] >> 7;
		d->day = p[3];
		p += 4;
	}
	if (type != PF_SC_DATE) {
		d->hour = p[0] & 0x7f;
		if (type == PF_SC_TIME)
			d->fold = p[0] >> 7;
		d->minute = p[1];
		d->second = p[2];
		d->us = p[3] << 16 | p[4] << 8 | p[5];
	}
	ok = (type == PF_SC_TIME || date_ok(d)) &&
	     (type == PF_SC_DATE || time_ok(d));
	pk_buf_release(&b);
	*state = &ak[0];
	return ok ? 0 : -1;
}

static size_t dt_bytes(int type, const dtv *d, uint8_t *p)
{
	size_t n = 0;

	if (type != PF_SC_TIME) {
		p[n++] = (uint8_t)(d->year >> 8);
		p[n++] = (uint8_t)d->year;
		p[n++] = (uint8_t)d->month;
		p[n++] = (uint8_t)d->day;
	}
	if (type != PF_SC_DATE) {
		p[n++] = (uint8_t)d->hour;
		p[n++] = (uint8_t)d->minute;
		p[n++] = (uint8_t)d->second;
		p[n++] = (uint8_t)(d->us >> 16);
		p[n++] = (uint8_t)(d->us >> 8);
		p[n++] = (uint8_t)d->us;
	}
	return n;
}

/* Python's _format_offset: +HH:MM[:SS[.ffffff]]. */
static int offset_text(int64_t off, pk_buf *out)
{
	char sign = off < 0 ? '-' : '+';
	int64_t a = off < 0 ? -off : off, s = a / 1000000, us = a % 1000000;

	if (pk_buf_addf(out, "%c%02d:%02d", sign, (int)(s / 3600),
			(int)(s / 60 % 60)))
		return ENOMEM;
	if ((s % 60 || us) && pk_buf_addf(out, ":%02d", (int)(s % 60)))
		return ENOMEM;
	if (us && pk_buf_addf(out, ".%06d", (int)us))
		return ENOMEM;
	return 0;
}

static int dt_text(int type, const dtv *d, pk_buf *out)
{
	if (type != PF_SC_TIME &&
	    pk_buf_addf(out, "%04d-%02d-%02d", d->year, d->month, d->day))
		return ENOMEM;
	if (type == PF_SC_DATE)
		return 0;
	if (type == PF_SC_DATETIME && pk_buf_addc(out, ' '))
		return ENOMEM;
	if (pk_buf_addf(out, "%02d:%02d:%02d", d->hour, d->minute, d->second))
		return ENOMEM;
	if (d->us && pk_buf_addf(out, ".%06d", d->us))
		return ENOMEM;
	return d->tz ? offset_text(d->off_us, out) : 0;
}

/* n decimal digits at t[*i] into *out. */
static int digits(const char *t, size_t len, size_t *i, int n, int *out)
{
	int v = 0, k;

	for (k = 0; k < n; k++) {
		if (*i >= len || t[*i] < '0' || t[*i] > '9')
			return -1;
		v = v * 10 + (t[(*i)++] - '0');
	}
	*out = v;
	return 0;
}

/* 1-6 digits after a '.' as microseconds. */
static int fraction(const char *t, size_t len, size_t *i, int *us)
{
	int v = 0, k = 0;

	while (*i < len && t[*i] >= '0' && t[*i] <= '9' && k < 6) {
		v = v * 10 + (t[(*i)++] - '0');
		k++;
	}
	if (!k)
		return -1;
	for (; k < 6; k++)
		v *= 10;
	*us = v;
	return 0;
}

/* HH[:MM[:SS[.ffffff]]] then an optional Z or +HH:MM[:SS[.ffffff]]. */
static int parse_time(const char *t, size_t len, size_t *i, dtv *d, int *has,
		      int64_t *off)
{
	*has = 0;
	if (digits(t, len, i, 2, &d->hour))
		return -1;
	if (*i < len && t[*i] == ':') {
		(*i)++;
		if (digits(t, len, i, 2, &d->minute))
			return -1;
		if (*i < len && t[*i] == ':') {
			(*i)++;
			if (digits(t, len, i, 2, &d->second))
				return -1;
			if (*i < len && (t[*i] == '.' || t[*i] == ',')) {
				(*i)++;
				if (fraction(t, len, i, &d->us))
					return -1;
			}
		}
	}
	if (*i < len && t[*i] == 'Z') {
		(*i)++;
		*has = 1;
		*off = 0;
	} else if (*i < len && (t[*i] == '+' || t[*i] == '-')) {
		int neg = t[(*i)++] == '-', h, m, s = 0, us = 0;
		if (digits(t, len, i, 2, &h) || *i >= len || t[(*i)++] != ':' ||
		    digits(t, len, i, 2, &m) || m > 59)
			return -1;
		if (*i < len && t[*i] == ':') {
			(*i)++;
			if (digits(t, len, i, 2, &s) || s > 59)
				return -1;
			if (*i < len && t[*i] == '.') {
				(*i)++;
				if (fraction(t, len, i, &us))
					return -1;
			}
		}
		*off = ((int64_t)h * 3600 + m * 60 + s) * 1000000 + us;
		if (*off >= 86400000000ll)
			return -1;
		if (neg)
			*off = -*off;
		*has = 1;
	}
	return time_ok(d) ? 0 : -1;
}

/* fromisoformat's common forms: YYYY-MM-DD, HH:MM:SS.ffffff+HH:MM, and
 * the two joined by ' ' or 'T'. */
static int dt_parse(int type, const char *t, size_t len, dtv *d)
{
	size_t i = 0;
	int has = 0;
	int64_t off = 0;
	dtv old = *d;

	d->hour = d->minute = d->second = d->us = d->fold = 0;
	if (type != PF_SC_TIME) {
		if (digits(t, len, &i, 4, &d->year) || i >= len ||
		    t[i++] != '-' || digits(t, len, &i, 2, &d->month) ||
		    i >= len || t[i++] != '-' ||
		    digits(t, len, &i, 2, &d->day) || !date_ok(d))
			return -1;
		if (type == PF_SC_DATE)
			return i == len ? 0 : -1;
		if (i == len)
			goto zone;
		if (t[i] != ' ' && t[i] != 'T')
			return -1;
		i++;
	}
	if (parse_time(t, len, &i, d, &has, &off) || i != len)
		return -1;
zone:
	/* the time zone is the value's: an offset written must be it */
	if (has && (!old.tz || off != old.off_us))
		return -2;
	return 0;
}

/* ---- timedelta -------------------------------------------------------- */

static int td_text(const int64_t t[3], pk_buf *out)
{
	if (t[0] && pk_buf_addf(out, "%lld day%s, ", (long long)t[0],
				t[0] == 1 || t[0] == -1 ? "" : "s"))
		return ENOMEM;
	if (pk_buf_addf(out, "%d:%02d:%02d", (int)(t[1] / 3600),
			(int)(t[1] / 60 % 60), (int)(t[1] % 60)))
		return ENOMEM;
	if (t[2] && pk_buf_addf(out, ".%06d", (int)t[2]))
		return ENOMEM;
	return 0;
}

/* Up to max digits (at least one) as a number. */
static int number(const char *t, size_t len, size_t *i, int max, i128 *out)
{
	int k = 0;

	*out = 0;
	while (*i < len && t[*i] >= '0' && t[*i] <= '9') {
		if (++k > max)
			return -1;
		*out = *out * 10 + (t[(*i)++] - '0');
	}
	return k ? 0 : -1;
}

/* "[-]D day[s], H:MM:SS[.ffffff]", "H:MM:SS[.ffffff]" or a number of
 * seconds ("[-]S[.ffffff]"), into normalised (days, seconds, us). */
static int td_parse(const char *t, size_t len, int64_t out[3])
{
	size_t i = 0, j;
	i128 days = 0, h, total, day = (i128)86400000000ll;
	int neg = 0, m, s, us = 0, plain = 1;

	for (j = 0; j < len; j++)
		if (t[j] == ':')
			plain = 0;
	if (plain) {
		if (i < len && (t[i] == '-' || t[i] == '+'))
			neg = t[i++] == '-';
		if (number(t, len, &i, 15, &h))
			return -1;
		if (i < len && t[i] == '.') {
			i++;
			if (fraction(t, len, &i, &us))
				return -1;
		}
		if (i != len)
			return -1;
		total = h * 1000000 + us;
		if (neg)
			total = -total;
	} else {
		if (memchr(t, ',', len)) {
			if (i < len && t[i] == '-')
				neg = t[i++] == '-';
			if (number(t, len, &i, 10, &days))
				return -1;
			if (neg)
				days = -days;
			if (len - i >= 5 && memcmp(t + i, " day,", 5) == 0)
				i += 5;
			else if (len - i >= 6 &&
				 memcmp(t + i, " days,", 6) == 0)
				i += 6;
			else
				return -1;
			if (i < len && t[i] == ' ')
				i++;
		}
		if (number(t, len, &i, 10, &h) || i >= len || t[i++] != ':' ||
		    digits(t, len, &i, 2, &m) || m > 59 || i >= len ||
		    t[i++] != ':' || digits(t, len, &i, 2, &s) || s > 59)
			return -1;
		if (i < len && t[i] == '.') {
			i++;
			if (fraction(t, len, &i, &us))
				return -1;
		}
		if (i != len)
			return -1;
		total = days * day + ((h * 60 + m) * 60 + s) * 1000000 + us;
	}
	days = total / day;
	if (total % day < 0)
		days--;
	total -= days * day;
	if (days < -999999999 || days > 999999999)
		return -1;
	out[0] = (int64_t)days;
	out[1] = (int64_t)(total / 1000000);
	out[2] = (int64_t)(total % 1000000);
	return 0;
}

/* ---- Decimal ---------------------------------------------------------- */

static int lower_is(const char *t, size_t n, const char *lit)
{
	size_t i;

	if (n != strlen(lit))
		return 0;
	for (i = 0; i < n; i++)
		if ((t[i] | 0x20) != lit[i])
			return 0;
	return 1;
}

/* Decimal(text) as str() prints it (the spec's to-scientific-string);
 * -1 when text is not a Decimal literal (underscores are not taken). */
static int dec_canon(const char *t, size_t len, pk_buf *out)
{
	size_t i = 0, c0, k;
	int neg = 0, eneg = 0;
	int64_t exp = 0, e = 0, adj;
	pk_buf c = PK_BUF_INIT;
	int rc = -1, any = 0;

	if (i < len && (t[i] == '+' || t[i] == '-'))
		neg = t[i++] == '-';
	if (neg && pk_buf_addc(out, '-'))
		return ENOMEM;
	if (lower_is(t + i, len - i, "inf") ||
	    lower_is(t + i, len - i, "infinity"))
		return pk_buf_adds(out, "Infinity") ? ENOMEM : 0;
	if (len - i >= 3 && (lower_is(t + i, 3, "nan") ||
			     (len - i >= 4 && lower_is(t + i, 4, "snan")))) {
		int s = (t[i] | 0x20) == 's';
		i += s ? 4 : 3;
		for (k = i; k < len; k++)
			if (t[k] < '0' || t[k] > '9')
				return -1;
		while (i < len && t[i] == '0')
			i++;
		if (pk_buf_adds(out, s ? "sNaN" : "NaN") ||
		    pk_buf_add(out, (const uint8_t *)t + i, len - i))
			return ENOMEM;
		return 0;
	}
	for (; i < len && t[i] >= '0' && t[i] <= '9'; i++, any = 1)
		if ((c.len || t[i] != '0') && pk_buf_addc(&c, (uint8_t)t[i]))
			goto nomem;
	if (i < len && t[i] == '.') {
		for (i++; i < len && t[i] >= '0' && t[i] <= '9'; i++, any = 1) {
			if ((c.len || t[i] != '0') &&
			    pk_buf_addc(&c, (uint8_t)t[i]))
				goto nomem;
			exp--;
		}
	}
	if (!any)
		goto out;
	if (i < len && (t[i] | 0x20) == 'e') {
		i++;
		if (i < len && (t[i] == '+' || t[i] == '-'))
			eneg = t[i++] == '-';
		c0 = i;
		for (; i < len && t[i] >= '0' && t[i] <= '9'; i++) {
			if (i - c0 >= 17)
				goto out;
			e = e * 10 + (t[i] - '0');
		}
		if (i == c0)
			goto out;
		exp += eneg ? -e : e;
	}
	if (i != len)
		goto out;
	if (!c.len && pk_buf_addc(&c, '0'))
		goto nomem;
	adj = exp + (int64_t)c.len - 1;
	if (exp <= 0 && adj >= -6) {
		int64_t n = (int64_t)c.len, point = n + exp;
		if (exp == 0)
			rc = pk_buf_add(out, c.data, c.len);
		else if (point > 0)
			rc = pk_buf_add(out, c.data, (size_t)point) ||
			     pk_buf_addc(out, '.') ||
			     pk_buf_add(out, c.data + point,
					(size_t)(n - point));
		else {
			rc = pk_buf_adds(out, "0.");
			for (; point < 0 && !rc; point++)
				rc = pk_buf_addc(out, '0');
			rc = rc || pk_buf_add(out, c.data, c.len);
		}
	} else {
		rc = pk_buf_addc(out, c.data[0]) ||
		     (c.len > 1 && (pk_buf_addc(out, '.') ||
				    pk_buf_add(out, c.data + 1, c.len - 1))) ||
		     pk_buf_addf(out, "E%c%lld", adj < 0 ? '-' : '+',
				 (long long)(adj < 0 ? -adj : adj));
	}
	if (rc)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	rc = ENOMEM;
out:
	pk_buf_release(&c);
	return rc;
}

static const pk_val *dec_arg(const pk_val *v)
{
	const pk_val *ak;
	uint32_t an;

	if (!plain_call(v, "decimal", "Decimal", &ak, &an) || an != 1 ||
	    pf_is_node(&ak[0]) ||
	    (pf_kind(&ak[0]) != PK_STR && pf_kind(&ak[0]) != PK_STRING))
		return NULL;
	return &ak[0];
}

static int dec_text(const pk_val *arg, pk_buf *out)
{
	pk_buf s = PK_BUF_INIT;
	int rc =
	    pk_val_format(NULL, *arg, &s, NULL) != PK_OK
		? -1
		: dec_canon(s.data ? (const char *)s.data : "", s.len, out);

	pk_buf_release(&s);
	return rc;
}

/* ---- UUID ------------------------------------------------------------- */

/* The 'int' value of a UUID's state dict. */
static const pk_val *uuid_int(const pk_val *v)
{
	pf_obj o;
	const pk_val *ak, *st, *found = NULL;
	uint32_t an, i;
	const pk_node *d;

	if (pf_obj_parse(v, &o) || !pf_global_is(o.cls, "uuid", "UUID") ||
	    !o.hide_args || o.node->nsteps != 2 ||
	    pk_node_steps(o.node)[1].op != PK_OP_BUILD ||
	    pk_node_steps(o.node)[1].nkids != 1)
		return NULL;
	if (o.op == PK_OP_NEWOBJ) {
		if (tuple_of(o.args, &ak, &an) || an)
			return NULL;
	} else if (o.op != PK_OP_REDUCE ||
		   !pf_global_is(o.callable, "copyreg", "_reconstructor")) {
		return NULL;
	}
	st = &o.node->kids[o.first_after];
	if (!pf_is_node(st) || pf_kind(st) != PK_DICT)
		return NULL;
	d = pf_node(st);
	for (i = 0; i + 1 < d->nkids; i += 2) {
		if (pf_str_is(&d->kids[i], "int") && !found)
			found = &d->kids[i + 1];
		else if (!pf_str_is(&d->kids[i], "is_safe") ||
			 pf_is_node(&d->kids[i + 1]))
			return NULL;
	}
	if (!found || pf_is_node(found) || pf_kind(found) != PK_INT)
		return NULL;
	return found;
}

static int u128_of(const pk_val *v, u128 *out)
{
	pk_buf b = PK_BUF_INIT;
	size_t i;
	int rc = -1;
	u128 x = 0, max = ~(u128)0;

	if (pk_val_format(NULL, *v, &b, NULL) == PK_OK && b.len &&
	    b.len <= 39) {
		rc = 0;
		for (i = 0; i < b.len && !rc; i++) {
			unsigned dgt = (unsigned)(b.data[i] - '0');
			if (dgt > 9 || x > (max - dgt) / 10)
				rc = -1;
			else
				x = x * 10 + dgt;
		}
	}
	pk_buf_release(&b);
	*out = x;
	return rc;
}

static int uuid_text(u128 x, pk_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	char s[36];
	int k;

	for (k = 35; k >= 0; k--) {
		if (k == 8 || k == 13 || k == 18 || k == 23) {
			s[k] = '-';
			continue;
		}
		s[k] = hex[(unsigned)(x & 15)];
		x >>= 4;
	}
	return pk_buf_add(out, (const uint8_t *)s, 36) ? ENOMEM : 0;
}

/* uuid.UUID(hex): 'urn:' 'uuid:' '{' '}' and '-' dropped, 32 hex
 * digits left. */
static int uuid_parse(const char *t, size_t len, u128 *out)
{
	size_t i = 0;
	int n = 0;
	u128 x = 0;

	if (len - i >= 4 && memcmp(t + i, "urn:", 4) == 0)
		i += 4;
	if (len - i >= 5 && memcmp(t + i, "uuid:", 5) == 0)
		i += 5;
	for (; i < len; i++) {
		char ch = t[i];
		unsigned d;
		if (ch == '{' || ch == '}' || ch == '-')
			continue;
		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			d = (unsigned)((ch | 0x20) - 'a' + 10);
		else
			return -1;
		if (++n > 32)
			return -1;
		x = x << 4 | d;
	}
	*out = x;
	return n == 32 ? 0 : -1;
}

static int u128_decimal(u128 x, pk_buf *out)
{
	char s[48];
	int k = sizeof(s);

	do {
		s[--k] = (char)('0' + (int)(x % 10));
		x /= 10;
	} while (x);
	return pk_buf_add(out, (const uint8_t *)s + k, sizeof(s) - (size_t)k);
}

/* ---- the interface ----------------------------------------------------- */

int pf_sc_type(const pk_val *v)
{
	pf_obj o;
	const pk_val *c, *st;
	pf_arrinfo a;
	dtv d;
	int64_t t[3];
	u128 x;
	int type;
	pk_buf b = PK_BUF_INIT;

	if (pf_obj_parse(v, &o))
		return 0;
	c = o.op == PK_OP_REDUCE ? o.callable : o.cls;
	if (pf_global_is(c, "numpy.core.multiarray", "scalar")) {
		if (np_info(v, &a, &st))
			return 0;
		pf_arrinfo_release(&a);
		return PF_SC_NUMPY;
	}
	if (pf_global_is(c, "datetime", "timedelta"))
		return td_args(v, t) ? 0 : PF_SC_TIMEDELTA;
	type = pf_global_is(c, "datetime", "datetime") ? PF_SC_DATETIME
	       : pf_global_is(c, "datetime", "date")   ? PF_SC_DATE
	       : pf_global_is(c, "datetime", "time")   ? PF_SC_TIME
						       : 0;
	if (type)
		return dt_read(v, type, &d, &st) ? 0 : type;
	if (pf_global_is(c, "decimal", "Decimal")) {
		st = dec_arg(v);
		type = st && dec_text(st, &b) == 0 ? PF_SC_DECIMAL : 0;
		pk_buf_release(&b);
		return type;
	}
	if (pf_global_is(o.cls, "uuid", "UUID")) {
		st = uuid_int(v);
		return st && u128_of(st, &x) == 0 ? PF_SC_UUID : 0;
	}
	return 0;
}

const char *pf_sc_type_name(const pk_val *v)
{
	pf_arrinfo a;
	const pk_val *data;
	const char *name;

	switch (pf_sc_type(v)) {
	case PF_SC_NUMPY:
		if (np_info(v, &a, &data))
			return "object";
		name = np_name(&a);
		pf_arrinfo_release(&a);
		return name;
	case PF_SC_DATETIME:
		return "datetime";
	case PF_SC_DATE:
		return "date";
	case PF_SC_TIME:
		return "time";
	case PF_SC_TIMEDELTA:
		return "timedelta";
	case PF_SC_DECIMAL:
		return "decimal";
	case PF_SC_UUID:
		return "uuid";
	}
	return "object";
}

int pf_sc_text(const pk_val *v, pk_buf *out)
{
	int type = pf_sc_type(v), rc;
	pf_arrinfo a;
	const pk_val *st;
	dtv d;
	int64_t t[3];
	u128 x;

	switch (type) {
	case PF_SC_NUMPY:
		if (np_info(v, &a, &st))
			return EIO;
		rc = pf_array_values_text(&a, out);
		pf_arrinfo_release(&a);
		if (!rc && out->len && out->data[out->len - 1] == '\n')
			out->data[--out->len] = '\0';
		return rc;
	case PF_SC_DATETIME:
	case PF_SC_DATE:
	case PF_SC_TIME:
		return dt_read(v, type, &d, &st) ? EIO : dt_text(type, &d, out);
	case PF_SC_TIMEDELTA:
		return td_args(v, t) ? EIO : td_text(t, out);
	case PF_SC_DECIMAL:
		st = dec_arg(v);
		rc = st ? dec_text(st, out) : -1;
		return rc < 0 ? EIO : rc;
	case PF_SC_UUID:
		st = uuid_int(v);
		return !st || u128_of(st, &x) ? EIO : uuid_text(x, out);
	}
	return EIO;
}

int pf_sc_set(pk_doc *doc, const pk_val *v, const uint8_t *text, size_t len,
	      int dry, pk_err *e)
{
	int type = pf_sc_type(v), rc = 0;
	const char *t = (const char *)text;
	pf_arrinfo a;
	const pk_val *st, *ak;
	uint32_t an, i;
	pk_buf nb = PK_BUF_INIT;
	dtv d;
	int64_t td[3];
	uint8_t raw[10];
	u128 x;

	/* a real edit is first made on copies: it changes all of its parts
	 * or, refused, none */
	if (!dry && type && (rc = pf_sc_set(doc, v, text, len, 1, e)))
		return rc;
	if (len && text[len - 1] == '\n')
		len--;
	switch (type) {
	case PF_SC_NUMPY:
		if (np_info(v, &a, &st))
			return refuse(e, PK_E_REFUSED, "not a numpy scalar");
		rc = pf_array_values_parse(&a, text, len, &nb, e);
		rc = rc ? refuse(e, rc, "not a literal of the scalar's dtype")
			: set_bytes(doc, st, nb.data, nb.len, dry, e);
		pf_arrinfo_release(&a);
		break;
	case PF_SC_DATETIME:
	case PF_SC_DATE:
	case PF_SC_TIME:
		if (dt_read(v, type, &d, &st))
			return refuse(e, PK_E_REFUSED, "not a datetime");
		rc = dt_parse(type, t, len, &d);
		if (rc == -2)
			return refuse(e, PK_E_VALUE,
				      "the offset must be the value's own "
				      "time zone (naive stays naive)");
		if (rc)
			return refuse(e, PK_E_VALUE,
				      "not an ISO date / time of the type");
		rc = set_bytes(doc, st, raw, dt_bytes(type, &d, raw), dry, e);
		break;
	case PF_SC_TIMEDELTA:
		if (td_parse(t, len, td))
			return refuse(e, PK_E_VALUE,
				      "not a timedelta ('1 day, 2:03:04', "
				      "'2:03:04.5' or seconds)");
		if (!plain_call(v, "datetime", "timedelta", &ak, &an) ||
		    an != 3)
			return refuse(e, PK_E_REFUSED, "not a timedelta");
		for (i = 0; i < 3 && !rc; i++) {
			nb.len = 0;
			if (pk_buf_addf(&nb, "%lld", (long long)td[i]))
				rc = refuse(e, PK_E_NOMEM, "out of memory");
			else
				rc = put_text(doc, &ak[i], PK_INT, nb.data,
					      nb.len, dry, e);
		}
		break;
	case PF_SC_DECIMAL:
		st = dec_arg(v);
		rc = st ? dec_canon(t, len, &nb) : -2;
		if (rc == -2)
			return refuse(e, PK_E_REFUSED, "not a Decimal");
		if (rc)
			rc = rc < 0 ? refuse(e, PK_E_VALUE,
					     "not a Decimal literal")
				    : refuse(e, PK_E_NOMEM, "out of memory");
		else
			rc = put_text(doc, st, pf_kind(st), nb.data, nb.len,
				      dry, e);
		break;
	case PF_SC_UUID:
		st = uuid_int(v);
		if (!st)
			return refuse(e, PK_E_REFUSED, "not a UUID");
		if (uuid_parse(t, len, &x))
			return refuse(e, PK_E_VALUE, "not a UUID literal");
		rc = u128_decimal(x, &nb)
			 ? refuse(e, PK_E_NOMEM, "out of memory")
			 : put_text(doc, st, PK_INT, nb.data, nb.len, dry, e);
		break;
	default:
		rc = refuse(e, PK_E_REFUSED, "not a library scalar");
	}
	pk_buf_release(&nb);
	return rc;
}
