/*
 * metrics.h: process-wide counters, read by mtastsctl stats (through the
 * control socket) and the optional Prometheus endpoint (metrics-listen),
 * served with libevent's evhttp.  Others call in; this module knows
 * nothing of them.
 */
#ifndef MTASTS_METRICS_H
#define MTASTS_METRICS_H

#include <stdint.h>
#include <stdio.h>

struct event_base;
struct evbuffer;
struct resolver;
struct resolver_stats;

enum metric {
	M_QUERIES = 0,		/* socketmap and Exim requests answered */
	M_ANSWER_OK,
	M_ANSWER_NOTFOUND,
	M_ANSWER_TEMP,
	M_ANSWER_PERM,
	M_CACHE_HIT,		/* answered from memory at once */
	M_CACHE_MISS,		/* had to wait for a discovery */
	M_DEADLINE,		/* discovery deadline reached: NOTFOUND */
	M_KEY_REJECTED,		/* NOTFOUND at once: IP literal, probe, bad key */
	M_DISCOVERIES,		/* discoveries started */
	M_MERGED,		/* queries that joined a running discovery */
	M_DISC_POLICY,		/* outcomes */
	M_DISC_SAME_ID,
	M_DISC_NO_RECORD,
	M_DISC_TXT_FAILED,
	M_DISC_FETCH_FAILED,
	M_DISC_INVALID,
	M_FETCHES,		/* HTTPS fetches started */
	M_CLIENTS,		/* connections accepted */
	M_CLIENT_ERRORS,	/* connections closed for bad input */
	M_SQLITE_ERRORS,
	M_COUNT
};

extern uint64_t	metrics[M_COUNT];

#define METRIC_INC(m)	(metrics[(m)]++)

/*
 * Limits of the metrics HTTP listener (a scraper is a peer too).  evhttp
 * in libevent 2.1 cannot cap the number of connections: keep
 * metrics-listen on the loopback or a trusted network.
 */
#define METRICS_HEADERS_MAX	8192	/* bytes of request headers */
#define METRICS_BODY_MAX	1024	/* bytes of request body (none expected) */
#define METRICS_TIMEOUT		10	/* s to send a request or read the reply */
#define METRICS_PATH		"/metrics"

/* Fetch outcomes counted (enum fetch_status values; the last is "other"). */
#define METRICS_FETCH_STATUS_MAX	16
/* Upper bounds of the fetch duration histogram, in ms (+Inf is implied). */
#define METRICS_FETCH_BUCKETS	{ 50, 100, 250, 500, 1000, 2500, 5000, \
				  10000, 30000 }
#define METRICS_NBUCKETS	9

/* Prometheus name of a counter ("mtastsd_queries_total"). */
const char	*metrics_name(enum metric);
/* Write every counter as "name value" lines (control socket). */
void		 metrics_dump(FILE *);

/*
 * A discovery that fetched a policy ended: status is its enum
 * fetch_status, ms how long the discovery took (TXT and address lookups
 * plus the HTTPS fetch).
 */
void		 metrics_fetch_done(int status, uint64_t ms);
/* Forget every counter and observation (tests). */
void		 metrics_reset(void);

/*
 * Write every metric in the Prometheus text format (version 0.0.4):
 * the counters, fetches by outcome, the fetch duration histogram, and
 * the gauges from st (entries by state, discoveries) and uptime.
 */
void		 metrics_prometheus(struct evbuffer *,
		    const struct resolver_stats *st, long long uptime);

struct metrics_http;

/*
 * Serve METRICS_PATH over HTTP on hostport ("127.0.0.1:9461",
 * "[::1]:9461"), or on the listening socket fd when fd is not -1
 * (socket activation).  NULL with *err (malloc'd) on failure.
 */
struct metrics_http *metrics_http_new(struct event_base *, struct resolver *,
		    const char *hostport, int fd, char **err);
void		 metrics_http_free(struct metrics_http *);

#endif
