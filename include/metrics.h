/*
 * metrics.h: process-wide counters, read by mtastsctl stats (through the
 * control socket) and the optional Prometheus endpoint.  Others call in;
 * this module knows nothing of them.
 */
#ifndef MTASTS_METRICS_H
#define MTASTS_METRICS_H

#include <stdint.h>
#include <stdio.h>

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

/* Prometheus name of a counter ("mtastsd_queries_total"). */
const char	*metrics_name(enum metric);
/* Write every counter as "name value" lines (control socket). */
void		 metrics_dump(FILE *);

#endif
