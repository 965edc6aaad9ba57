#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

/* Written once at startup, before any worker thread exists. */
static int use_syslog;
static int quiet;

void pf_log_use_syslog(void)
{
	openlog("picklefs", LOG_PID, LOG_DAEMON);
	use_syslog = 1;
}

void pf_log_set_quiet(int q)
{
	quiet = q;
}

void pf_log(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (use_syslog)
		syslog(LOG_WARNING, "%s", msg);
	else
		fprintf(stderr, "picklefs: %s\n", msg);
}
