#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pk_buf_init(pk_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void pk_buf_release(pk_buf *b)
{
	free(b->data);
	pk_buf_init(b);
}

void pk_buf_reset(pk_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

uint8_t *pk_buf_detach(pk_buf *b, size_t *len)
{
	uint8_t *d;

	if (!b->data && pk_buf_grow(b, 0) < 0)
		return NULL;
	d = b->data;
	if (len)
		*len = b->len;
	pk_buf_init(b);
	return d;
}

int pk_buf_grow(pk_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *d;

	if (extra > SIZE_MAX - b->len - 1)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	d = realloc(b->data, cap);
	if (!d)
		return -1;
	b->data = d;
	b->cap = cap;
	b->data[b->len] = '\0';
	return 0;
}

int pk_buf_add(pk_buf *b, const void *data, size_t n)
{
	if (pk_buf_grow(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int pk_buf_addc(pk_buf *b, uint8_t c)
{
	return pk_buf_add(b, &c, 1);
}

int pk_buf_adds(pk_buf *b, const char *s)
{
	return pk_buf_add(b, s, strlen(s));
}

int pk_buf_addf(pk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (pk_buf_grow(b, 64) < 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= b->cap - b->len) {
		if (pk_buf_grow(b, (size_t)n) < 0)
			return -1;
		va_start(ap, fmt);
		vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return 0;
}

int pk_vec_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *old, *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if (elem && ncap > SIZE_MAX / elem)
		return -1;
	/* *arr is some T *: read and written as bytes, which any object
	 * pointer may be (a void ** store into a T * would not be) */
	memcpy(&old, arr, sizeof(old));
	n = realloc(old, ncap * elem);
	if (!n)
		return -1;
	memcpy(arr, &n, sizeof(n));
	*cap = ncap;
	return 0;
}

size_t pk_fmt_u64(char *p, uint64_t v)
{
	char t[20];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

int pk_buf_add_u64(pk_buf *b, uint64_t v)
{
	char t[20];

	return pk_buf_add(b, t, pk_fmt_u64(t, v));
}

int pk_buf_add_i64(pk_buf *b, int64_t v)
{
	char t[21];
	size_t n = 0;

	if (v < 0)
		t[n++] = '-';
	/* 0 - (uint64_t)v is |v| even for INT64_MIN. */
	n += pk_fmt_u64(t + n, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	return pk_buf_add(b, t, n);
}
