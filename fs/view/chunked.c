#include "chunked.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct pf_vstream {
	uint64_t refs;
	pf_chunker ch;
	uint64_t n;	      /* chunks */
	uint64_t *off;	      /* n + 1 offsets: chunk k is [off[k], off[k+1]) */
	pthread_mutex_t lock; /* guards kept_*, kept, busy */
	pthread_cond_t done;  /* the chunks being rendered were kept */
	/* the last two chunks rendered (kept_k[i] == n: none) */
	uint64_t kept_k[2];
	pk_buf kept[2];
	unsigned kept_next; /* the slot the next chunk replaces */
	/* the chunks a reader is rendering (n: none): another reader that
	 * wants one waits instead of rendering it too (the kernel sends a
	 * file's reads ahead on several threads at once) */
	uint64_t busy[2];
};

static void chunker_release(pf_chunker *ch)
{
	if (ch->release)
		ch->release(ch->self);
	memset(ch, 0, sizeof(*ch));
}

/* Chunk k into b (reset first); with the table made, its length must
 * be the table's. */
static int render(pf_vstream *s, uint64_t k, pk_buf *b, int checked)
{
	int rc;

	pk_buf_reset(b);
	rc = s->ch.chunk(s->ch.self, k, b);
	if (!rc && checked && b->len != s->off[k + 1] - s->off[k])
		rc = EIO;
	return rc;
}

/* Chunks from, from + step ... rendered for their lengths (into off[k +
 * 1]); the last one rendered stays in b. */
struct count_job {
	pf_vstream *s;
	uint64_t from, step;
	pk_buf b;
	uint64_t last; /* the chunk in b (s->n: none) */
	int rc;
};

static void *count_run(void *p)
{
	struct count_job *j = p;
	uint64_t k;

	for (k = j->from; k < j->s->n && !j->rc; k += j->step) {
		if (!(j->rc = render(j->s, k, &j->b, 0))) {
			j->s->off[k + 1] = j->b.len;
			j->last = k;
		}
	}
	return NULL;
}

int pf_vstream_new(pf_chunker *ch, pf_vstream **out)
{
	struct count_job j[2];
	pthread_t t;
	pf_vstream *s;
	uint64_t k;
	int two, i, rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s || ch->nchunks > (SIZE_MAX / sizeof(uint64_t)) - 1 ||
	    !(s->off = malloc((ch->nchunks + 1) * sizeof(uint64_t)))) {
		free(s);
		chunker_release(ch);
		return ENOMEM;
	}
	s->refs = 1;
	s->ch = *ch;
	s->n = ch->nchunks;
	memset(ch, 0, sizeof(*ch));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->done, NULL);
	pk_buf_init(&s->kept[0]);
	pk_buf_init(&s->kept[1]);
	s->kept_k[0] = s->kept_k[1] = s->busy[0] = s->busy[1] = s->n;
	/* the size question: every chunk once, counting, the odd ones on a
	 * second thread when there are two or more */
	for (i = 0; i < 2; i++) {
		j[i].s = s;
		j[i].from = (uint64_t)i;
		j[i].step = 2;
		pk_buf_init(&j[i].b);
		j[i].last = s->n;
		j[i].rc = 0;
	}
	two = s->n > 1 && pthread_create(&t, NULL, count_run, &j[1]) == 0;
	if (!two)
		j[0].step = 1;
	count_run(&j[0]);
	if (two)
		pthread_join(t, NULL);
	rc = j[0].rc ? j[0].rc : two ? j[1].rc : 0;
	s->off[0] = 0;
	for (k = 0; k < s->n && !rc; k++)
		s->off[k + 1] += s->off[k];
	for (i = 0; i < 2; i++) {
		/* kept: a view of one chunk is rendered once in all */
		if (!rc && j[i].last < s->n) {
			s->kept[i] = j[i].b;
			s->kept_k[i] = j[i].last;
		} else {
			pk_buf_release(&j[i].b);
		}
	}
	if (rc) {
		pf_vstream_unref(s);
		return rc;
	}
	*out = s;
	return 0;
}

void pf_vstream_ref(pf_vstream *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void pf_vstream_unref(pf_vstream *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	chunker_release(&s->ch);
	pk_buf_release(&s->kept[0]);
	pk_buf_release(&s->kept[1]);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->lock);
	free(s->off);
	free(s);
}

uint64_t pf_vstream_size(const pf_vstream *s)
{
	return s->off[s->n];
}

size_t pf_vstream_bytes(pf_vstream *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock); /* readers swap the kept chunks */
	n = sizeof(*s) + (s->n + 1) * sizeof(uint64_t) + s->kept[0].cap +
	    s->kept[1].cap;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* The chunk holding byte pos (pos < size): the last k with off[k] <= pos
 * (an empty chunk holds no byte and is never the answer). */
static uint64_t chunk_at(const pf_vstream *s, uint64_t pos)
{
	uint64_t lo = 0, hi = s->n; /* off[lo] <= pos < off[hi] */

	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (s->off[mid] <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The kept slot holding chunk k, or -1 (lock held). */
static int kept_slot(const pf_vstream *s, uint64_t k)
{
	return s->kept_k[0] == k ? 0 : s->kept_k[1] == k ? 1 : -1;
}

/* Puts the rendered chunk k in b into a kept slot; b gets the slot's old
 * buffer back (lock held). */
static void keep(pf_vstream *s, uint64_t k, pk_buf *b)
{
	pk_buf old = s->kept[s->kept_next];

	s->kept[s->kept_next] = *b;
	s->kept_k[s->kept_next] = k;
	s->kept_next ^= 1;
	*b = old;
}

struct ahead_job {
	pf_vstream *s;
	uint64_t k;
	pk_buf b;
	int rc;
};

static void *ahead_run(void *p)
{
	struct ahead_job *j = p;

	j->rc = render(j->s, j->k, &j->b, 1);
	return NULL;
}

int pf_vstream_read(pf_vstream *s, uint64_t off, size_t n, uint8_t *dst,
		    size_t *got)
{
	uint64_t size = pf_vstream_size(s);
	pk_buf b = PK_BUF_INIT;
	int rc = 0;

	*got = 0;
	while (n > 0 && off < size) {
		uint64_t k = chunk_at(s, off), start = s->off[k],
			 len = s->off[k + 1] - start, in = off - start;
		size_t take = len - in < n ? (size_t)(len - in) : n;
		struct ahead_job a = {s, k + 1, PK_BUF_INIT, 0};
		pthread_t t;
		int i, mine, ahead = 0, started = 0;

		pthread_mutex_lock(&s->lock);
		while ((i = kept_slot(s, k)) < 0 &&
		       (s->busy[0] == k || s->busy[1] == k))
			pthread_cond_wait(&s->done, &s->lock);
		if (i >= 0) {
			memcpy(dst + *got, s->kept[i].data + in, take);
			pthread_mutex_unlock(&s->lock);
			goto next;
		}
		/* a miss: render chunk k and, on a second thread, the next
		 * one, which a reader going on reads next (both are kept) */
		mine = s->busy[0] == s->n && s->busy[1] == s->n;
		if (mine) {
			ahead = k + 1 < s->n && kept_slot(s, k + 1) < 0;
			s->busy[0] = k;
			s->busy[1] = ahead ? k + 1 : s->n;
		}
		pthread_mutex_unlock(&s->lock);
		if (ahead)
			started = pthread_create(&t, NULL, ahead_run, &a) == 0;
		if (!(rc = render(s, k, &b, 1)))
			memcpy(dst + *got, b.data + in, take);
		if (started)
			pthread_join(t, NULL);
		pthread_mutex_lock(&s->lock);
		if (!rc)
			keep(s, k, &b);
		if (started && !a.rc)
			keep(s, k + 1, &a.b);
		if (mine) {
			s->busy[0] = s->busy[1] = s->n;
			pthread_cond_broadcast(&s->done);
		}
		pthread_mutex_unlock(&s->lock);
		pk_buf_release(&a.b);
		if (rc)
			break;
	next:
		*got += take;
		off += take;
		n -= take;
	}
	pk_buf_release(&b);
	return rc;
}
