/*
 * sniff.h - is this file a pickle, or an archive of them? Decided from
 * its first bytes.
 *
 * What: a folder mount must show pickles as directories without parsing
 * them, so a file is classified by its head (and, when uncompressed, its
 * last byte): a PROTO opcode, a gzip / bzip2 / xz / zstd stream whose
 * first decompressed bytes are a pickle, a zlib stream (joblib's .z) or a
 * file named .lzma with an lzma-alone header whose first decompressed
 * bytes start a pickle, or a protocol 0/1 opcode. Protocol
 * 0/1 pickles have no magic: when the name says pickle (.pkl .pickle .p
 * .pk, before any .gz .gzip .bz2 .xz .lzma .zst .zstd .z) they are taken
 * as pickles, otherwise they are only "maybe" and must parse whole to
 * count.
 * Ownership: nothing is allocated; the fd stays the caller's.
 * Invariant: reads at most a few KB of the file (compressed: inflates
 * only the first block; zstd: up to 132 KiB when its first block is
 * bigger than the first 4 KiB), so a folder of a thousand pickles sniffs
 * fast.
 */
#ifndef PF_SNIFF_H
#define PF_SNIFF_H

#include <stdint.h>
#include <sys/types.h>

enum pf_sniff {
	PF_SNIFF_NO = 0,  /* not a pickle: shown as the file it is */
	PF_SNIFF_PICKLE,  /* shown as a directory (parsed on first use) */
	PF_SNIFF_MAYBE,	  /* must parse whole to count as a pickle */
	PF_SNIFF_CUT,	  /* starts like a pickle but does not end with
			     STOP: parse now; a failure is logged */
	PF_SNIFF_ARCHIVE, /* a tar (maybe compressed) or zip archive:
			     shown as a directory of its members */
	PF_SNIFF_NPY,	  /* a numpy .npy file: an array directory */
};

/* Classifies the open file fd of `size` bytes named `name` (its base name
 * decides the protocol 0/1 case). *zfmt receives enum pk_zfmt. For
 * PF_SNIFF_NO, *what (may be NULL) receives what the file is when it is
 * data of another format ("HDF5 file", "NumPy .npy file", "Parquet
 * file", "Arrow / Feather file", "safetensors file"), else NULL. */
int pf_sniff(int fd, uint64_t size, const char *name, int *zfmt,
	     const char **what);
/* The same for bytes in memory: data[0..size) (an archive's member). */
int pf_sniff_mem(const uint8_t *data, uint64_t size, const char *name,
		 int *zfmt, const char **what);

/* The compression of a file whose first bytes are raw[0..n) and whose
 * name is name (enum pk_zfmt): gzip, bzip2, xz, zstd by their magic;
 * zlib by its header when its first decompressed bytes start a pickle;
 * lzma-alone when the name ends in .lzma, the header is plausible and the
 * first decompressed bytes start a pickle; else PK_Z_NONE. */
int pf_sniff_zfmt(const uint8_t *raw, size_t n, const char *name);

/* 1 when the name ends in a pickle extension (.pkl, .pickle, .p, .pk),
 * optionally followed by .gz .gzip .bz2 .xz .lzma .zst .zstd .z. */
int pf_name_says_pickle(const char *name);

#endif
