/*
 * metrics.c: the process-wide counters.
 */
#include "config.h"

#include <stdio.h>

#include "metrics.h"

uint64_t	metrics[M_COUNT];

static const char *metrics_names[M_COUNT] = {
	[M_QUERIES] = "mtastsd_queries_total",
	[M_ANSWER_OK] = "mtastsd_answers_ok_total",
	[M_ANSWER_NOTFOUND] = "mtastsd_answers_notfound_total",
	[M_ANSWER_TEMP] = "mtastsd_answers_temp_total",
	[M_ANSWER_PERM] = "mtastsd_answers_perm_total",
	[M_CACHE_HIT] = "mtastsd_cache_hits_total",
	[M_CACHE_MISS] = "mtastsd_cache_misses_total",
	[M_DEADLINE] = "mtastsd_discovery_deadline_total",
	[M_KEY_REJECTED] = "mtastsd_keys_rejected_total",
	[M_DISCOVERIES] = "mtastsd_discoveries_total",
	[M_MERGED] = "mtastsd_discoveries_merged_total",
	[M_DISC_POLICY] = "mtastsd_discovery_policy_total",
	[M_DISC_SAME_ID] = "mtastsd_discovery_same_id_total",
	[M_DISC_NO_RECORD] = "mtastsd_discovery_no_record_total",
	[M_DISC_TXT_FAILED] = "mtastsd_discovery_txt_failed_total",
	[M_DISC_FETCH_FAILED] = "mtastsd_discovery_fetch_failed_total",
	[M_DISC_INVALID] = "mtastsd_discovery_invalid_total",
	[M_FETCHES] = "mtastsd_fetches_total",
	[M_CLIENTS] = "mtastsd_clients_total",
	[M_CLIENT_ERRORS] = "mtastsd_client_errors_total",
	[M_SQLITE_ERRORS] = "mtastsd_sqlite_errors_total",
};

const char *
metrics_name(enum metric m)
{
	return (metrics_names[m]);
}

void
metrics_dump(FILE *f)
{
	int	i;

	for (i = 0; i < M_COUNT; i++)
		fprintf(f, "%s %llu\n", metrics_names[i],
		    (unsigned long long)metrics[i]);
}
