/*
 * test_metrics.c: the Prometheus text the metrics endpoint serves:
 * counters with HELP and TYPE, fetches by outcome, the cumulative fetch
 * duration histogram, and the gauges from resolver_stats.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "fetch.h"
#include "metrics.h"
#include "resolver.h"
#include "tap.h"

/* The exposition as one NUL-terminated string (caller frees). */
static char *
render(const struct resolver_stats *st, long long uptime)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 n;
	char		*s;

	metrics_prometheus(b, st, uptime);
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return (s);
}

/* 1 when text holds line as a whole line. */
static int
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return (1);
		p += n;
	}
	return (0);
}

/* How many lines start with prefix. */
static int
count_prefix(const char *text, const char *prefix)
{
	const char	*p = text;
	int		 n = 0;

	while (*p != '\0') {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
	return (n);
}

/* Observations for the histogram: duration and fetch status. */
static const struct {
	uint64_t	ms;
	int		status;
} obs[] = {
	{ 0, FETCH_OK },		/* bucket 0.05 */
	{ 50, FETCH_OK },		/* 0.05: bounds are inclusive */
	{ 51, FETCH_OK },		/* 0.1 */
	{ 999, FETCH_CERT },		/* 1 */
	{ 1000, FETCH_CERT },		/* 1 */
	{ 2600, FETCH_TIMEOUT },	/* 5 */
	{ 30001, FETCH_TIMEOUT },	/* +Inf only */
	{ 10, -1 },			/* 0.05; could not start: other */
	{ 10, 99 },			/* 0.05; unknown status: other */
};

/* The lines that must appear after the observations above. */
static const char *want_lines[] = {
	"# HELP mtastsd_queries_total Socketmap and Exim requests answered.",
	"# TYPE mtastsd_queries_total counter",
	"mtastsd_queries_total 7",
	"mtastsd_answers_ok_total 3",
	"mtastsd_answers_notfound_total 0",
	"mtastsd_sqlite_errors_total 1",
	"# TYPE mtastsd_fetch_outcomes_total counter",
	"mtastsd_fetch_outcomes_total{outcome=\"ok\"} 3",
	"mtastsd_fetch_outcomes_total{outcome=\"certificate\"} 2",
	"mtastsd_fetch_outcomes_total{outcome=\"timeout\"} 2",
	"mtastsd_fetch_outcomes_total{outcome=\"tls\"} 0",
	"mtastsd_fetch_outcomes_total{outcome=\"protocol\"} 0",
	"mtastsd_fetch_outcomes_total{outcome=\"other\"} 2",
	"# TYPE mtastsd_fetch_duration_seconds histogram",
	"mtastsd_fetch_duration_seconds_bucket{le=\"0.05\"} 4",
	"mtastsd_fetch_duration_seconds_bucket{le=\"0.1\"} 5",
	"mtastsd_fetch_duration_seconds_bucket{le=\"0.25\"} 5",
	"mtastsd_fetch_duration_seconds_bucket{le=\"0.5\"} 5",
	"mtastsd_fetch_duration_seconds_bucket{le=\"1\"} 7",
	"mtastsd_fetch_duration_seconds_bucket{le=\"2.5\"} 7",
	"mtastsd_fetch_duration_seconds_bucket{le=\"5\"} 8",
	"mtastsd_fetch_duration_seconds_bucket{le=\"10\"} 8",
	"mtastsd_fetch_duration_seconds_bucket{le=\"30\"} 8",
	"mtastsd_fetch_duration_seconds_bucket{le=\"+Inf\"} 9",
	"mtastsd_fetch_duration_seconds_sum 34.721",
	"mtastsd_fetch_duration_seconds_count 9",
	"# TYPE mtastsd_entries gauge",
	"mtastsd_entries 11",
	"mtastsd_entries_by_state{state=\"enforce\"} 4",
	"mtastsd_entries_by_state{state=\"testing\"} 1",
	"mtastsd_entries_by_state{state=\"none\"} 2",
	"mtastsd_entries_by_state{state=\"no_record\"} 3",
	"mtastsd_entries_by_state{state=\"failed\"} 1",
	"mtastsd_entries_by_state{state=\"expired\"} 0",
	"mtastsd_discoveries_running 2",
	"mtastsd_discoveries_queued 5",
	"mtastsd_queries_parked 6",
	"mtastsd_uptime_seconds 42",
};

int
main(void)
{
	struct resolver_stats	 st = { .entries = 11, .enforce = 4,
				    .testing = 1, .none = 2, .no_record = 3,
				    .failed = 1, .expired = 0, .running = 2,
				    .queued = 5, .parked = 6 };
	char			*s, name[128];
	size_t			 i;

	metrics_reset();
	s = render(&st, 42);
	ok(has_line(s, "mtastsd_queries_total 0"), "fresh counters are 0");
	ok(has_line(s, "mtastsd_fetch_duration_seconds_sum 0"),
	    "empty histogram sum is 0");
	free(s);

	for (i = 0; i < 7; i++)
		METRIC_INC(M_QUERIES);
	for (i = 0; i < 3; i++)
		METRIC_INC(M_ANSWER_OK);
	METRIC_INC(M_SQLITE_ERRORS);
	for (i = 0; i < sizeof obs / sizeof obs[0]; i++)
		metrics_fetch_done(obs[i].status, obs[i].ms);
	s = render(&st, 42);
	for (i = 0; i < sizeof want_lines / sizeof want_lines[0]; i++)
		ok(has_line(s, want_lines[i]), "line: %s", want_lines[i]);

	/* Every counter has exactly one HELP, one TYPE and one sample. */
	for (i = 0; i < M_COUNT; i++) {
		snprintf(name, sizeof name, "# HELP %s ", metrics_name(i));
		is_int(count_prefix(s, name), 1, "one HELP for %s",
		    metrics_name(i));
		snprintf(name, sizeof name, "%s ", metrics_name(i));
		is_int(count_prefix(s, name), 1, "one sample for %s",
		    metrics_name(i));
	}
	is_int(count_prefix(s, "mtastsd_fetch_outcomes_total{"),
	    FETCH_PROTOCOL + 2, "one outcome sample per fetch status, and other");
	is_int(count_prefix(s, "mtastsd_uptime_seconds "), 1, "uptime once");
	ok(s[strlen(s) - 1] == '\n', "the text ends with a newline");
	free(s);

	s = render(&st, -5);
	ok(has_line(s, "mtastsd_uptime_seconds 0"), "negative uptime shows 0");
	free(s);

	metrics_reset();
	s = render(&st, 0);
	ok(has_line(s, "mtastsd_queries_total 0") &&
	    has_line(s, "mtastsd_fetch_outcomes_total{outcome=\"ok\"} 0") &&
	    has_line(s, "mtastsd_fetch_duration_seconds_count 0"),
	    "metrics_reset clears counters and the histogram");
	free(s);
	return (done_testing());
}
