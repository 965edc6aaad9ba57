#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Written once at startup, before any worker thread exists. */
static int use_syslog;
static int quiet;
static const char *prog = "picklefs";
static int log_fd = -1;

int pf_log_to_file(const char *path)
{
	int fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);

	if (fd < 0)
		return errno;
	log_fd = fd;
	return 0;
}

void pf_log_use_syslog(void)
{
	openlog("picklefs", LOG_PID, LOG_DAEMON);
	use_syslog = 1;
}

void pf_log_set_name(const char *name)
{
	prog = name;
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
	if (log_fd >= 0) {
		char line[1100];
		struct timespec now;
		struct tm tm;
		int n;
		clock_gettime(CLOCK_REALTIME, &now);
		localtime_r(&now.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
			     "%04d-%02d-%02d %02d:%02d:%02d picklefs[%d]: %s\n",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec, (int)getpid(),
			     msg);
		if (n > (int)sizeof(line) - 1)
			n = (int)sizeof(line) - 1;
		/* one write per line: O_APPEND keeps lines whole */
		if (write(log_fd, line, (size_t)n) < 0) {
			/* nowhere left to say it */
		}
	} else if (use_syslog)
		syslog(LOG_WARNING, "%s", msg);
	else
		fprintf(stderr, "%s: %s\n", prog, msg);
}
