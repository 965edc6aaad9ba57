/*
 * scan.h - what a pickle would import and call if it were loaded.
 *
 * What: the decoder runs over the pickle with its trace hook (pickle.h:
 * the exact unpickling stack and memo, so a STACK_GLOBAL's module and
 * name are the strings really on the stack, however the memo, DUP or
 * decoy opcodes were used to hide them), and every global it names and
 * every call it would make (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ, and
 * BUILD, which runs a class's __setstate__) becomes a finding with its
 * byte offset. Each is classified by the callable's fully qualified
 * name: safe (the allow-list: containers, numpy, pandas and torch
 * reconstructors, datetime ...), dangerous (the deny-list: os, posix,
 * subprocess, eval, exec, getattr, pickle.loads, pkgutil.resolve_name,
 * torch.load ...) or suspicious (anything else: an unknown class may
 * run code in __reduce__ or __setstate__). The lists and their sources
 * are in the README ("Is this pickle safe to load?").
 *   - Several pickles one after another are all scanned (torch's legacy
 *     files, repeated pickle.dump): the scan goes on at each STOP while
 *     the next bytes decode.
 *   - A pickle that fails to decode keeps every finding before the
 *     failure (CPython runs all of that before it raises); the failure
 *     is reported too (failed, err).
 *   - Bytes passed to pickle.loads / _pickle.loads / dill.loads are a
 *     pickle too: scanned as such (nested up to PF_SCAN_NEST deep; the
 *     work is a queue, not recursion), their findings marked nested.
 *   - The path of the value a reported finding makes (a call's result,
 *     a global passed on), in the mount's naming, when the pickle
 *     decodes whole.
 * Ownership: a pf_scan owns its findings and their strings
 * (pf_scan_free).
 * Invariant: nothing is imported or executed; findings are in the order
 * of their opcodes within each pickle.
 */
#ifndef PF_SCAN_H
#define PF_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

enum pf_risk { PF_RISK_SAFE = 0, PF_RISK_SUSPICIOUS, PF_RISK_DANGEROUS };

#define PF_SCAN_NEST 8

typedef struct pf_finding {
	uint64_t offset; /* of the opcode in the bytes scanned */
	int risk;	 /* enum pf_risk */
	int call;	 /* a call (1) or a global named (0) */
	uint8_t op;
	uint32_t nested; /* 0, or how deep inside pickle.loads bytes */
	char *name;	 /* "posix.system"; "ext:N"; "<object>" for a call
			    of something that is not a global */
	char *args;	 /* the call's arguments as Python's repr, cut at
			    200 bytes, or NULL */
	char *path;	 /* where the value shows in the mount, or NULL */
	int called;	 /* a global that a call of this pickle calls (its
			    call is a finding of its own) */
	uintptr_t val;	 /* private: the value's bits */
} pf_finding;

typedef struct pf_scan {
	pf_finding *f;
	size_t n, cap;
	uint32_t pickles; /* decoded, or started */
	int failed;	  /* a pickle did not decode: err says where */
	pk_err err;
} pf_scan;

/* Scans data[0..len): the pickles one after another from byte 0 (a
 * joblib file's inline arrays included). 0, or ENOMEM. A pickle that
 * does not decode is not an error here (s->failed). */
int pf_scan_bytes(const uint8_t *data, size_t len, uint64_t max_tree,
		  pf_scan *s);
void pf_scan_free(pf_scan *s);

/* The risk of the global module.name (enum pf_risk). */
int pf_scan_risk(const char *module, const char *name);

/* The highest risk of s's findings (PF_RISK_SAFE when none), a called
 * global counted as its call. */
int pf_scan_worst(const pf_scan *s);

#endif
