#include "cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "expand.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pf_cache_item *head, *tail; /* head: most recently used */
static uint64_t total, limit = 512ull << 20;

uint64_t pf_cache_limit(void)
{
	uint64_t v;

	pthread_mutex_lock(&lock);
	v = limit;
	pthread_mutex_unlock(&lock);
	return v;
}

uint64_t pf_cache_total(void)
{
	uint64_t v;

	pthread_mutex_lock(&lock);
	v = total;
	pthread_mutex_unlock(&lock);
	return v;
}

static uint64_t tree_max;
static const char *tree_max_how = "-o max_tree=SIZE";

void pf_cache_set_tree_max(uint64_t bytes, const char *how)
{
	tree_max = bytes;
	if (how)
		tree_max_how = how;
}

uint64_t pf_cache_tree_max(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	if (tree_max)
		return tree_max;
	if (pages <= 0 || size <= 0)
		return 8ull << 30; /* unknown machine: 8 GiB */
	return (uint64_t)pages * (uint64_t)size / 2;
}

void pf_cache_tree_max_text(char *buf, size_t n)
{
	char size[32];

	pf_expand_size_text(pf_cache_tree_max(), size, sizeof(size));
	snprintf(buf, n, "%s (%s)", size, tree_max_how);
}

void pf_cache_set_limit(uint64_t bytes)
{
	pthread_mutex_lock(&lock);
	limit = bytes;
	pthread_mutex_unlock(&lock);
}

static void unlink_item(pf_cache_item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		tail = it->prev;
	it->prev = it->next = NULL;
	total -= it->mem;
	it->linked = 0;
}

void pf_cache_update(pf_cache_item *it, size_t mem)
{
	pthread_mutex_lock(&lock);
	if (it->linked)
		unlink_item(it);
	it->mem = mem;
	it->next = head;
	it->prev = NULL;
	if (head)
		head->prev = it;
	head = it;
	if (!tail)
		tail = it;
	total += mem;
	it->linked = 1;
	pthread_mutex_unlock(&lock);
}

void pf_cache_remove(pf_cache_item *it)
{
	pthread_mutex_lock(&lock);
	if (it->linked)
		unlink_item(it);
	pthread_mutex_unlock(&lock);
}

void pf_cache_trim(void)
{
	pf_cache_item *it, *prev;

	pthread_mutex_lock(&lock);
	for (it = tail; it && it != head && limit && total > limit; it = prev) {
		prev = it->prev;
		if (it->try_drop(it))
			unlink_item(it);
	}
	pthread_mutex_unlock(&lock);
}

int pf_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || !*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 10);
	if (end == s)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (*end && end[1] != '\0' && !(end[1] == 'B' && end[2] == '\0') &&
	    !(end[1] == 'i' && end[2] == 'B' && end[3] == '\0'))
		return -1;
	if (shift && v > (~0ull >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}
