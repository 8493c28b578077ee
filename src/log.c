/*
 * log.c: key=value logging to stderr or syslog.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int		 log_syslog;
static enum log_level	 log_level = LOG_LEVEL_INFO;
static const char	*log_name = "mtastsd";

static const char *log_names[] = { "err", "warn", "info", "debug" };

void
log_init(const char *name, int use_syslog)
{
	log_name = name;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_setlevel(enum log_level level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return (log_level);
}

int
log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcmp(s, log_names[i]) == 0)
			return ((int)i);
	}
	return (-1);
}

static void	log_vwrite(enum log_level, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

/* Write one line at LEVEL, with ": strerror" appended when err is set. */
static void
log_vwrite(enum log_level level, int err, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char		 msg[2048];
	struct timespec	 ts;
	struct tm	 tm;
	int		 n;

	if (level > log_level)
		return;
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n >= 0 && err != 0 && (size_t)n < sizeof msg)
		snprintf(msg + n, sizeof msg - n, " error=\"%s\"", strerror(err));
	if (log_syslog) {
		syslog(prio[level], "%s", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s level=%s %s\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_name,
	    log_names[level], msg);
}

#define LOG_BODY(level, err) do {		\
	va_list	ap;				\
	va_start(ap, fmt);			\
	log_vwrite(level, err, fmt, ap);	\
	va_end(ap);				\
} while (0)

void
log_warn(const char *fmt, ...)
{
	int	saved = errno;

	LOG_BODY(LOG_LEVEL_WARN, saved);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	int	saved = errno;

	LOG_BODY(LOG_LEVEL_ERR, saved);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERR, 0);
	exit(1);
}
