/*
 * zstream.c - the input and output windows of compressed streams
 * (zstream.h): memory or fd, with progress and an output bound.
 */
#include "zstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- compressed input: a window over memory or over an fd ------------- */

uint64_t pk_zin_off(const struct zin *r)
{
	return r->base + r->pos;
}

/* Appends what one read() gives at buf[len..). */
int pk_zin_read(struct zin *r, pk_err *e)
{
	ssize_t got;
	uint64_t done;

	do {
		got = read(r->fd, r->buf + r->len, ZIN_BUFSZ - r->len);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return pk_err_set(e, PK_E_IO, "read failed", r->base + r->len);
	if (got == 0) {
		r->eof = 1;
		return PK_OK;
	}
	r->len += (size_t)got;
	done = r->base + r->len;
	if (r->progress && done >= r->next_report) {
		r->next_report = done + PROGRESS_EVERY;
		if (r->progress(r->ctx, done, r->total)) {
			errno = ECANCELED;
			return pk_err_set(e, PK_E_IO,
					  "aborted by progress callback", done);
		}
	}
	return PK_OK;
}

/* Called when the window is used up: replaces it with the next read. */
int pk_zin_fill(struct zin *r, pk_err *e)
{
	if (r->eof || r->fd < 0) {
		r->eof = 1;
		return PK_OK;
	}
	r->base += r->len;
	r->pos = 0;
	r->len = 0;
	return pk_zin_read(r, e);
}

/* Makes up to `want` (<= ZIN_BUFSZ) bytes contiguous at p[pos..); *have
 * gets how many there are, fewer only at the end of the input. */
int pk_zin_peek(struct zin *r, size_t want, size_t *have, pk_err *e)
{
	int rc;

	if (r->len - r->pos < want && r->fd >= 0 && !r->eof) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->base += r->pos;
		r->len -= r->pos;
		r->pos = 0;
		while (r->len < want && !r->eof) {
			rc = pk_zin_read(r, e);
			if (rc)
				return rc;
		}
	}
	*have = r->len - r->pos;
	if (*have > want)
		*have = want;
	return PK_OK;
}

/* One byte, or -1 at the end of the input. */
int pk_zin_byte(struct zin *r, int *c, pk_err *e)
{
	int rc;

	if (r->pos == r->len) {
		rc = pk_zin_fill(r, e);
		if (rc)
			return rc;
		if (r->pos == r->len) {
			*c = -1;
			return PK_OK;
		}
	}
	*c = r->p[r->pos++];
	return PK_OK;
}

/* ---- output: a pk_buf (with an optional bound) or an fd --------------- */

int pk_write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t put;

	while (n) {
		put = write(fd, p, n);
		if (put < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (put == 0) {
			/* write(2) returning 0 for n > 0 would loop forever */
			errno = EIO;
			return -1;
		}
		p += put;
		n -= (size_t)put;
	}
	return 0;
}

/* Where the next output may go: *avail bytes at *dst, then pk_zout_commit. */
int pk_zout_space(struct zout *o, uint8_t **dst, unsigned *avail, uint64_t off,
		  pk_err *e)
{
	size_t room;

	if (!o->buf) {
		*dst = o->obuf;
		room = ZOUT_BUFSZ;
	} else {
		if (pk_buf_grow(o->buf, ZMEM_CHUNK) < 0)
			return pk_err_set(e, PK_E_NOMEM, "out of memory", off);
		room = o->buf->cap - o->buf->len - 1;
		if (room > ZFEED_MAX)
			room = ZFEED_MAX;
		*dst = o->buf->data + o->buf->len;
	}
	/* a bomb overshoots the bound by one byte, not by a buffer: the
	 * byte past it is found where the input makes it, and never
	 * stored */
	if (o->max && room > o->max - o->total + 1)
		room = (size_t)(o->max - o->total + 1);
	*avail = (unsigned)room;
	return PK_OK;
}

int pk_zout_commit(struct zout *o, size_t n, uint64_t off, pk_err *e)
{
	if (!n)
		return PK_OK;
	if (o->max && (n > o->max || o->total > o->max - n))
		return pk_err_set(e, PK_E_LIMIT, "expands past the limit", off);
	o->total += n;
	if (o->buf) {
		o->buf->len += n;
		o->buf->data[o->buf->len] = '\0';
		return PK_OK;
	}
	if (pk_write_all(o->fd, o->obuf, n) < 0)
		return pk_err_set(e, PK_E_IO, "write failed", off);
	return PK_OK;
}

/* Copies bytes that did not come out of a (de)compressor: gzip header
 * and trailer. */
int pk_zout_write(struct zout *o, const uint8_t *p, size_t n, uint64_t off,
		  pk_err *e)
{
	if (o->buf) {
		if (pk_buf_add(o->buf, p, n) < 0)
			return pk_err_set(e, PK_E_NOMEM, "out of memory", off);
		o->total += n;
		return PK_OK;
	}
	if (pk_write_all(o->fd, p, n) < 0)
		return pk_err_set(e, PK_E_IO, "write failed", off);
	o->total += n;
	return PK_OK;
}
