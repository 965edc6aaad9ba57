#include "mapping.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Enough for every pickle of a big folder to be mapped at once; 1 MiB of
 * static memory. */
#define MAX_GUARDED 65536

static struct guarded {
	uintptr_t start; /* atomic; 0: free */
	size_t len;	 /* set before start */
	pf_map *map;
} guarded[MAX_GUARDED];

static struct sigaction previous;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	long page = sysconf(_SC_PAGESIZE);
	size_t i;

	(void)uctx;
	for (i = 0; i < MAX_GUARDED; i++) {
		uintptr_t start =
		    __atomic_load_n(&guarded[i].start, __ATOMIC_ACQUIRE);
		if (start && a >= start && a - start < guarded[i].len) {
			void *p = (void *)(a & ~(uintptr_t)(page - 1));
			if (mmap(p, (size_t)page, PROT_READ,
				 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1,
				 0) == MAP_FAILED)
				break;
			__atomic_store_n(&guarded[i].map->torn, 1,
					 __ATOMIC_RELEASE);
			return; /* the access runs again and reads zeros */
		}
	}
	/* not ours: fault again under the previous action */
	sigaction(sig, &previous, NULL);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &previous);
}

static int guard(pf_map *m)
{
	size_t i;

	pthread_once(&installed, install);
	for (i = 0; i < MAX_GUARDED; i++) {
		uintptr_t zero = 0;
		if (__atomic_load_n(&guarded[i].start, __ATOMIC_RELAXED))
			continue;
		/* claim the slot with a start no access can match, then fill
		 * it and publish the real start */
		if (!__atomic_compare_exchange_n(&guarded[i].start, &zero, 1, 0,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		guarded[i].len = m->maplen;
		guarded[i].map = m;
		__atomic_store_n(&guarded[i].start, (uintptr_t)m->addr,
				 __ATOMIC_RELEASE);
		m->slot = (int)i + 1;
		return 0;
	}
	return ENOSPC;
}

pf_map *pf_map_file(int fd, size_t len, int guarded_map)
{
	pf_map *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return NULL;
	m->refs = 1;
	if (len == 0) {
		m->data = (const uint8_t *)"";
		return m;
	}
	m->addr = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m->addr == MAP_FAILED) {
		err = errno;
		free(m);
		errno = err;
		return NULL;
	}
	m->maplen = len;
	m->data = m->addr;
	m->len = len;
	if (guarded_map && (err = guard(m)) != 0) {
		munmap(m->addr, m->maplen);
		free(m);
		errno = err;
		return NULL;
	}
	return m;
}

void pf_map_ref(pf_map *m)
{
	__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
}

pf_map *pf_map_slice(pf_map *parent, uint64_t off, uint64_t len)
{
	pf_map *m;

	if (off > parent->len || len > parent->len - off) {
		errno = EINVAL;
		return NULL;
	}
	if (!(m = calloc(1, sizeof(*m))))
		return NULL;
	m->refs = 1;
	m->data = parent->data + off;
	/* a slice of a slice is a slice of the mapping itself: one level,
	 * whatever the nesting of archives */
	if (parent->parent)
		parent = parent->parent;
	m->len = (size_t)len;
	m->parent = parent;
	pf_map_ref(parent);
	return m;
}

void pf_map_unref(pf_map *m)
{
	if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (m->parent) {
		pf_map_unref(m->parent);
		free(m);
		return;
	}
	if (m->slot)
		__atomic_store_n(&guarded[m->slot - 1].start, 0,
				 __ATOMIC_RELEASE);
	if (m->addr)
		munmap(m->addr, m->maplen);
	free(m);
}

int pf_map_torn(const pf_map *m)
{
	while (m && m->parent)
		m = m->parent;
	return m && __atomic_load_n(&m->torn, __ATOMIC_ACQUIRE);
}
