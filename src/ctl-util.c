/*
 * ctl-util.c: small helpers every mtastsctl command uses: messages,
 * domain arguments, colours, times, and the state of a cache entry.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "ctl.h"
#include "key.h"

void
ctl_warnx(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fputs("mtastsctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ctl_domain(const char *arg, char *out)
{
	const char	*why = NULL;

	if (key_normalise(arg, strlen(arg), out, &why) != 0) {
		ctl_warnx("\"%s\" is not a domain name (%s)", arg,
		    why != NULL ? why : "invalid");
		return (-1);
	}
	return (0);
}

const char *
ctl_sgr(const struct ctl *ctl, enum ctl_color c)
{
	static const char	*sgr[] = {
		[CTL_RESET] = "\033[0m",
		[CTL_BOLD] = "\033[1m",
		[CTL_RED] = "\033[31m",
		[CTL_YELLOW] = "\033[33m",
		[CTL_GREEN] = "\033[32m",
		[CTL_CYAN] = "\033[36m",
	};

	if (ctl == NULL || !ctl->color)
		return ("");
	return (sgr[c]);
}

const char *
ctl_reltime(time_t t, time_t now, char *buf, size_t len)
{
	int64_t	d, a;
	char	unit;

	if (t == 0) {
		snprintf(buf, len, "-");
		return (buf);
	}
	d = (int64_t)t - (int64_t)now;
	a = d < 0 ? -d : d;
	if (a == 0) {
		snprintf(buf, len, "now");
		return (buf);
	}
	if (a < 60)
		unit = 's';
	else if (a < 3600) {
		a /= 60;
		unit = 'm';
	} else if (a < 86400) {
		a /= 3600;
		unit = 'h';
	} else {
		a /= 86400;
		unit = 'd';
	}
	if (d > 0)
		snprintf(buf, len, "in %lld%c", (long long)a, unit);
	else
		snprintf(buf, len, "%lld%c ago", (long long)a, unit);
	return (buf);
}

const char *
ctl_duration(int64_t secs, char *buf, size_t len)
{
	static const struct {
		int64_t	size;
		char	unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t	i, n;
	int64_t	v;

	if (secs <= 0) {
		snprintf(buf, len, "%llds", (long long)secs);
		return (buf);
	}
	/* The largest unit and the next one when it is not zero. */
	for (i = 0; i < 4 && secs < units[i].size; i++)
		;
	v = secs / units[i].size;
	n = (size_t)snprintf(buf, len, "%lld%c", (long long)v, units[i].unit);
	if (i + 1 < 4 && n < len) {
		v = (secs % units[i].size) / units[i + 1].size;
		if (v > 0)
			snprintf(buf + n, len - n, "%lld%c", (long long)v,
			    units[i + 1].unit);
	}
	return (buf);
}

const char *
ctl_entry_state(const struct cache_entry *e, time_t now)
{
	if (cache_entry_fresh(e, now))
		return ("active");
	if (e->policy != NULL)
		return ("expired");
	if (e->status == CACHE_NO_RECORD)
		return ("no-record");
	if (e->status == CACHE_FAILED)
		return ("failed");
	return ("new");
}

/* The reason codes of a discovery that found no policy published. */
static const char *const ctl_no_record_reasons[] = {
	"txt-nxdomain", "txt-nodata", "txt-no-record", "txt-multiple",
	"txt-invalid", NULL
};

int
ctl_reason_no_record(const char *reason)
{
	size_t	i;

	for (i = 0; ctl_no_record_reasons[i] != NULL; i++) {
		if (strcmp(reason, ctl_no_record_reasons[i]) == 0)
			return (1);
	}
	return (0);
}

const char *
ctl_entry_error_label(const struct cache_entry *e)
{
	if (e->last_error[0] == '\0')
		return (NULL);
	if (e->status == CACHE_NO_RECORD)
		return ("no policy");
	if (ctl_reason_no_record(e->reason))
		return (e->policy != NULL ? "last check" : "no policy");
	return ("last error");
}
