#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DELAY_NS 500000000ll /* draw only work that lasts > 0.5 s */

void pf_progress_start(pf_progress *p, const char *name, const char *what,
		       int enabled)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->what = what;
	p->enabled = enabled && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

int pf_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	pf_progress *p = ctx;
	struct timespec now;
	long long ns;
	char bar[31];
	int pct, fill, i;

	if (!p || !p->enabled)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (now.tv_sec - p->start.tv_sec) * 1000000000ll +
	     (now.tv_nsec - p->start.tv_nsec);
	if (ns < DELAY_NS)
		return 0;
	pct = total ? (int)(done * 100 / total) : 0;
	if (pct > 100)
		pct = 100;
	fill = pct * 30 / 100;
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	if (total)
		fprintf(stderr, "\rpicklefs: %s %s [%s] %3d%%", p->what,
			p->name, bar, pct);
	else
		fprintf(stderr, "\rpicklefs: %s %s: %llu containers", p->what,
			p->name, (unsigned long long)done);
	fflush(stderr);
	p->drawn = 1;
	return 0;
}

void pf_progress_done(pf_progress *p)
{
	if (p->drawn) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	p->drawn = 0;
}
