/*
 * view_fixtures.h - pickles the presentation tests share (what each
 * holds: the comments in view_fixtures.c). NAME_len is the pickle's
 * length in bytes.
 */
#ifndef PF_TEST_VIEW_FIXTURES_H
#define PF_TEST_VIEW_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

extern const uint8_t graph4[];
extern const size_t graph4_len;
extern const uint8_t names4[];
extern const size_t names4_len;
extern const uint8_t scalar_root[];
extern const size_t scalar_root_len;
extern const uint8_t scalars3[];
extern const size_t scalars3_len;
extern const uint8_t scalars2[];
extern const size_t scalars2_len;
extern const uint8_t array2[];
extern const size_t array2_len;
extern const uint8_t inst0[];
extern const size_t inst0_len;

#endif
