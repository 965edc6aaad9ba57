/*
 * errmap.h - the one place where codec error codes become errno values.
 *
 * What: every fs/ helper that calls the codec and must answer the kernel
 * turns the pk_err it got into an errno here, so the policy ("a corrupt
 * pickle is EIO, an unsupported one EOPNOTSUPP ...") is stated once.
 * Ownership: nothing is allocated.
 * Invariant: pf_errno_of(PK_OK) == 0 and every other code maps to a
 * positive errno.
 */
#ifndef PF_ERRMAP_H
#define PF_ERRMAP_H

#include "error.h"

/* errno for a codec code (enum pk_code). PK_E_IO maps to EIO: callers
 * that kept the real errno of a failed read/write return that instead. */
int pf_errno_of(int pk_code);

#endif
