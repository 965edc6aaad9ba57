/*
 * byteorder.h - fixed-width integers in pickle and gzip byte order.
 *
 * What: the codec's one reader and writer of little-endian integers (the
 * 1/2/4/8-byte arguments of pickle opcodes, FRAME lengths, gzip header
 * and trailer fields), and of the one big-endian field pickles have, the
 * IEEE double of BINFLOAT.
 * Ownership: nothing is allocated; callers pass the bytes and own them.
 * Invariants: readers read exactly the bytes they are named for and never
 * check bounds (the caller has); pk_le / pk_put_le take a width of 0 to 8
 * bytes. The functions are static inline; the fixed-width ones are
 * written out byte by byte, which gcc and clang at -O2 turn into one
 * load or store (and a byte swap for the big-endian double), so the
 * decoder's fast paths pay nothing for the call.
 */
#ifndef PK_BYTEORDER_H
#define PK_BYTEORDER_H

#include <stdint.h>
#include <string.h>

/* The n-byte (0 <= n <= 8) little-endian unsigned integer at p. */
static inline uint64_t pk_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint16_t pk_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t pk_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t pk_le64(const uint8_t *p)
{
	return (uint64_t)pk_le32(p) | (uint64_t)pk_le32(p + 4) << 32;
}

/* Writes the low n bytes (0 <= n <= 8) of v at p, least significant
 * first. */
static inline void pk_put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void pk_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void pk_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void pk_put_le64(uint8_t *p, uint64_t v)
{
	pk_put_le32(p, (uint32_t)v);
	pk_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* BINFLOAT's argument: a big-endian IEEE double (struct '>d'). */
static inline double pk_be_double(const uint8_t *p)
{
	uint64_t bits = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
			(uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
			(uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
			(uint64_t)p[6] << 8 | (uint64_t)p[7];
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

static inline void pk_put_be_double(uint8_t *p, double d)
{
	uint64_t bits;

	memcpy(&bits, &d, sizeof(bits));
	p[0] = (uint8_t)(bits >> 56);
	p[1] = (uint8_t)(bits >> 48);
	p[2] = (uint8_t)(bits >> 40);
	p[3] = (uint8_t)(bits >> 32);
	p[4] = (uint8_t)(bits >> 24);
	p[5] = (uint8_t)(bits >> 16);
	p[6] = (uint8_t)(bits >> 8);
	p[7] = (uint8_t)bits;
}

#endif
