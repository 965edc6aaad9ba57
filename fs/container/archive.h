/*
 * archive.h - the members of a tar or zip archive, as byte ranges of it.
 *
 * What: a pure reader of archive indexes. It takes the bytes of a whole
 * archive (a mapping; a .tar.gz already decompressed) and lists its
 * members: each a normalised path, a type, and the byte range of its data
 * in those bytes (compressed for a deflated zip member). It knows nothing
 * of FUSE, of the OS's files or of pickles; the only I/O is
 * pf_arc_extract_fd writing a member's bytes to an fd it is given.
 *
 * Ownership: a pf_arc_index owns its member array and the names in it;
 * pf_arc_index_free frees both (and leaves an empty index, which can be
 * freed again). The index keeps no pointer into the archive bytes: a
 * member's data is data + m->offset of the bytes the index was read from,
 * which the caller keeps while it reads members.
 *
 * Invariants of an index read with PK_OK:
 *   - m[0] is the root directory, name "" and base "", parent 0; every
 *     other member is a file or a directory (never PF_ARC_OTHER: those are
 *     not listed) and m[i].parent is a directory holding it;
 *   - names are unique; a member's name is its parent's name, "/" (unless
 *     the parent is the root) and its base; no name has an empty, "." or
 *     ".." component, a NUL, or a component longer than 255 bytes;
 *   - every member has offset + size <= the archive's length;
 *   - members are in breadth-first order, and a directory's children
 *     are the members child_at .. child_at + nchildren - 1, sorted by
 *     base (strcmp): first_child, then next_sibling down the chain
 *     (UINT32_MAX ends it), and pf_arc_child(ix, dir, i) for i <
 *     nchildren, in the same order. Files have nchildren 0 and
 *     first_child UINT32_MAX.
 *
 * Rules:
 *   - Names: a leading "/" and "./" are dropped, as are empty and "."
 *     components ("a//./b" is "a/b"). A name with a ".." component is
 *     skipped (not listed: a hostile archive cannot reach outside itself),
 *     as is a name that is not valid as file names on Linux (a NUL byte,
 *     a component longer than 255 bytes, 4096 bytes or more in all: the
 *     PATH_MAX of open(2)) and a name that is empty once normalised (the
 *     root itself). Directories implied by paths ("a/b/c"
 *     without "a/" and "a/b/" entries) are created, mode 0755, mtime 0.
 *     A name that is both a file and the directory of another member (a
 *     file "a" and a member "a/b"): the directory wins, the file is
 *     skipped. The same name twice: the later member wins (tar's
 *     extraction semantics; zip: the central directory's last one), and if
 *     that is a symlink, device... the name is not listed.
 *   - Tar: POSIX ustar (prefix field), GNU ('L' long name, 'K' long link
 *     name, base-256 numbers), pax ('x' headers: path=, size= and mtime=
 *     override the next header's; 'g' global headers are ignored) and old
 *     v7 headers. Types '0', '\0' and '7' are files ('\0' with a name
 *     ending in "/" a directory, as in v7), '5' directories; every other
 *     type (links '1' '2', devices, fifos, GNU sparse 'S' ...) and a
 *     pax member with GNU.sparse.* keys is PF_ARC_OTHER: not listed, but
 *     parsing goes past its data exactly (as Python's tarfile: the data
 *     of types '1'-'6' is not skipped, of unknown types it is; an old
 *     GNU sparse header's extension blocks are). The header checksum is checked
 * (the unsigned and the signed sum are both accepted, as GNU tar does). The
 * archive ends at the first zero block (as GNU tar and Python's tarfile stop;
 *     the second one is not required) or at the end of the data (a
 *     partial last block of zero bytes is ignored, one of other bytes is
 *     an error). A member, long name or pax
 *     header whose data runs past the end is an error at its header's
 *     offset. Tar members are STORED, crc 0, flags 0.
 *   - Zip: the End Of Central Directory record is found scanning back
 *     from the end (at most 65535 + 22 bytes; the one whose comment ends
 *     the data first, else the last one whose comment fits); a Zip64
 *     locator before it and the Zip64 EOCD record it points to, and the
 *     zip64 extra field of entries (sizes, local header offset) are
 *     supported. Archives split over disks are refused. The central
 *     directory is the truth for names, sizes, method, flags, crc, mode
 *     (the Unix bits of the external attributes when made on Unix; a
 *     Unix symlink there is PF_ARC_OTHER) and mtime (DOS time read as
 *     UTC, or the extended timestamp extra field 0x5455). Names whose
 *     flags' bit 11 is not set are code page 437, made UTF-8 (as Python's
 *     zipfile reads them) when they have bytes past ASCII. The data offset
 *     comes from the local header at the entry's local header offset,
 *     which must start with "PK\3\4": offset = that + 30 + local name
 *     length + local extra length (PyTorch aligns stored data with the
 *     local extra field: offsets are never assumed). Entries whose name
 *     ends with "/" are directories. Encrypted members (flags bit 0) are
 *     listed; pf_arc_extract_fd refuses them. Data prepended to the
 *     archive (self-extracting zips) is not supported: offsets are from
 *     the start of the data.
 *   - Bounds: no recursion; every length and count from the input is
 *     checked (uint64, overflow-checked) against the bytes there are
 *     before it is used or anything is allocated for it, so memory is
 *     O(input): a zip's entry count must fit in its central directory,
 *     a tar's members are at least 512 bytes each. The tree is built one
 *     depth at a time by sorting components, in O(name bytes * log
 *     members) time whatever the depth. Implied directories have names
 *     the archive does not spell out ("a/a/a/.../a" implies 2047 of them
 *     in 4 KB): the members' names may take 64 times the archive's size
 *     plus 1 MiB, past which the index is refused (PK_E_LIMIT).
 *
 * Errors (pk_err: msg constant, offset = the byte of the archive where the
 * problem is, usually the header that has it):
 *   PK_E_TRUNCATED  a header, a member's data or a record cut by the end;
 *   PK_E_ARG        a malformed header: bad checksum, bad number, bad
 *                   signature, a count that cannot fit, a bad pax record;
 *   PK_E_UNSUPPORTED  an unknown fmt, a multi-disk zip; for
 *                   pf_arc_extract_fd an encrypted member, a method other
 *                   than 0 and 8, a member that is not a file;
 *   PK_E_COMPRESS   a corrupt deflate stream, a CRC or length mismatch;
 *   PK_E_NOMEM      allocation failed; PK_E_LIMIT more than 2^32 - 2
 *                   path components, or names past their bound (above);
 *   PK_E_IO         write(2) failed (errno is left as it set it).
 */
#ifndef PF_ARCHIVE_H
#define PF_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum pf_arc_fmt { PF_ARC_NONE = 0, PF_ARC_TAR, PF_ARC_ZIP };
enum pf_arc_type {
	PF_ARC_FILE = 1,
	PF_ARC_DIR,
	PF_ARC_OTHER /* symlink, device, hardlink...: listed nowhere */
};
/* zip method numbers; tar members are always STORED */
enum pf_arc_method { PF_ARC_STORED = 0, PF_ARC_DEFLATED = 8 };

typedef struct pf_arc_member {
	const char *name; /* normalised path inside the archive ("a/b/c.pkl"),
			     owned by the index */
	const char *base; /* its last component (points into name) */
	uint32_t parent;  /* index of the directory member holding it (0 = the
			     root) */
	uint8_t type;	  /* enum pf_arc_type */
	uint8_t fmt;	  /* enum pf_arc_fmt of its archive (tar members have
			     no CRC to check) */
	uint16_t method;  /* zip compression method (any number; only 0 and 8
			     can be read) */
	uint16_t flags;	  /* zip general purpose flags (bit 0: encrypted) */
	uint64_t offset;  /* of the member's data in the archive bytes */
	uint64_t size;	  /* stored bytes at offset (zip: compressed size) */
	uint64_t usize;	  /* bytes once decompressed (== size when stored) */
	uint32_t crc;	  /* zip CRC-32 of the decompressed bytes (tar: 0) */
	uint32_t mode;	  /* permission bits from the archive (0644 if none;
			     0755 for implied directories) */
	int64_t mtime;	  /* seconds since the epoch */
	uint32_t first_child, next_sibling; /* directory tree, UINT32_MAX =
					       none; children sorted by name
					       (strcmp) */
	uint32_t nchildren;
	uint32_t child_at; /* its first child (when nchildren): the children
			      of a directory are members child_at ..
			      child_at + nchildren - 1 */
} pf_arc_member;

typedef struct pf_arc_index {
	int fmt;	  /* enum pf_arc_fmt */
	pf_arc_member *m; /* m[0] is the root directory, name "" */
	uint32_t n;
	/* private */
	char *names; /* the string pool all names point into */
} pf_arc_index;

/* Is data[0..n) the start of an archive? Needs at most 512 bytes (tar:
 * "ustar" magic at 257, or an old v7 header whose checksum is right and
 * whose name is printable; zip: a "PK\3\4" local header, or "PK\5\6" an
 * empty archive). Returns enum pf_arc_fmt (PF_ARC_NONE: not one). */
int pf_arc_sniff(const uint8_t *data, size_t n);

/* Reads the whole index of the archive data[0..len) (fmt from
 * pf_arc_sniff) into *out. PK_OK, or a code with e saying what and at
 * which byte offset ("tar header: bad checksum" at 10240). A failed
 * index leaves *out empty (nothing to free; freeing it is harmless). */
int pf_arc_index_read(int fmt, const uint8_t *data, size_t len,
		      pf_arc_index *out, pk_err *e);
void pf_arc_index_free(pf_arc_index *ix);

/* The child of directory member `dir` named `name` (one path component),
 * or UINT32_MAX (also when dir is not a directory). O(log nchildren). */
uint32_t pf_arc_lookup(const pf_arc_index *ix, uint32_t dir, const char *name);
/* The i-th child (sorted order) of directory `dir`, or UINT32_MAX past the
 * end. O(1). */
uint32_t pf_arc_child(const pf_arc_index *ix, uint32_t dir, uint32_t i);

/* The member at path ("a/b/c", normalised as member names are; "" is the
 * root), or UINT32_MAX. */
uint32_t pf_arc_find(const pf_arc_index *ix, const char *path);

/* Writes the bytes of file member m, whose stored bytes are
 * src[0..m->size) (src = archive data + m->offset), to fd (write(2) at the
 * fd's current position): stored members are copied, deflated ones
 * (method 8, raw deflate) decompressed, refusing more than m->usize bytes
 * out. Zip members' CRC-32 and length are checked. PK_OK, or PK_E_IO
 * (errno from write(2)), PK_E_COMPRESS (corrupt stream, CRC or length
 * mismatch; offset: m->offset), PK_E_UNSUPPORTED (encrypted, another
 * method, not a file), PK_E_NOMEM. What was written before an error
 * stays written. */
int pf_arc_extract_fd(const pf_arc_member *m, const uint8_t *src, int fd,
		      pk_err *e);

#endif
