/*
 * scalars.h - library values that are really scalars, shown as files
 * (README, "How values appear", "Library scalars").
 *
 * What: numpy scalars (REDUCE numpy.core.multiarray.scalar(dtype,
 * bytes)), datetime.datetime / date / time (REDUCE of the class with the
 * bytes state, and for datetime / time a datetime.timezone), timedelta
 * (REDUCE with (days, seconds, microseconds)), decimal.Decimal (REDUCE
 * with (str,)) and uuid.UUID (NEWOBJ or copyreg._reconstructor, then
 * BUILD {'int': N[, 'is_safe': ...]}). pf_sc_type recognises them (only
 * when the parts are well formed, so the text can always be made);
 * pf_sc_text gives the text Python's str() prints; pf_sc_set parses an
 * edited file as the value's own type and writes it into the parts that
 * hold it (the bytes state, the args, the 'int' entry), nothing else.
 * Ownership: nothing is kept; text is appended to the caller's buffer.
 * Invariant: pf_sc_type depends only on the value (form.h).
 */
#ifndef PF_SCALARS_H
#define PF_SCALARS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "pickle.h"

enum pf_sc {
	PF_SC_NUMPY = 1,
	PF_SC_DATETIME,
	PF_SC_DATE,
	PF_SC_TIME,
	PF_SC_TIMEDELTA,
	PF_SC_DECIMAL,
	PF_SC_UUID,
};

/* Which of the types above v is, or 0. */
int pf_sc_type(const pk_val *v);
/* user.pickle.type: "numpy.float64" ..., "datetime", "date", "time",
 * "timedelta", "decimal", "uuid". */
const char *pf_sc_type_name(const pk_val *v);
/* str(value), no newline, appended to out: 0, EIO or ENOMEM. */
int pf_sc_text(const pk_val *v, pk_buf *out);
/* Sets the value from text (one trailing '\n' allowed): 0 or an errno
 * (EINVAL: not a literal of the type; the doc is then unchanged). With
 * dry set, only says whether it would (changes nothing). */
int pf_sc_set(pk_doc *doc, const pk_val *v, const uint8_t *text, size_t len,
	      int dry, pk_err *e);

#endif
