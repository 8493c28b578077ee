/*
 * metrics.c: the process-wide counters, and the Prometheus endpoint that
 * shows them with the resolver's entries by state.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "fetch.h"
#include "log.h"
#include "metrics.h"
#include "resolver.h"
#include "util.h"

#define METRICS_BACKLOG		16
#define METRICS_ADDR_MAX	128	/* "[v6 address]:port" */
#define METRICS_ACCEPT_BACKOFF_MS 500	/* pause accepting after EMFILE */

uint64_t	metrics[M_COUNT];

static uint64_t	metrics_fetch_status[METRICS_FETCH_STATUS_MAX];
static const uint64_t metrics_bucket_ms[METRICS_NBUCKETS] =
    METRICS_FETCH_BUCKETS;
static uint64_t	metrics_bucket[METRICS_NBUCKETS];	/* not cumulative */
static uint64_t	metrics_fetch_count;
static uint64_t	metrics_fetch_sum_ms;

struct metrics_http {
	struct evhttp		*http;
	struct evconnlistener	*listener;	/* owned by http */
	struct event		*retry_ev;
	struct resolver		*resolver;
	uint64_t		 started_ms;
};

/*
 * The endpoint, for its listener's error callback: evhttp keeps the
 * listener's callback argument for itself.  There is one per process.
 */
static struct metrics_http *metrics_http_live;

static const struct {
	const char	*name;
	const char	*help;
} metrics_names[M_COUNT] = {
	[M_QUERIES] = { "mtastsd_queries_total",
	    "Socketmap and Exim requests answered." },
	[M_ANSWER_OK] = { "mtastsd_answers_ok_total",
	    "Answers with a policy to enforce (OK, enforce)." },
	[M_ANSWER_NOTFOUND] = { "mtastsd_answers_notfound_total",
	    "Answers without a policy to enforce (NOTFOUND, testing, none)." },
	[M_ANSWER_TEMP] = { "mtastsd_answers_temp_total",
	    "Temporary failures answered (TEMP, temp)." },
	[M_ANSWER_PERM] = { "mtastsd_answers_perm_total",
	    "Bad socketmap requests answered PERM." },
	[M_CACHE_HIT] = { "mtastsd_cache_hits_total",
	    "Queries answered from memory at once." },
	[M_CACHE_MISS] = { "mtastsd_cache_misses_total",
	    "Queries that waited for a discovery." },
	[M_DEADLINE] = { "mtastsd_discovery_deadline_total",
	    "Queries answered without a policy when the discovery deadline "
	    "passed." },
	[M_KEY_REJECTED] = { "mtastsd_keys_rejected_total",
	    "Keys with no possible policy (IP literals, parent probes, bad "
	    "names)." },
	[M_DISCOVERIES] = { "mtastsd_discoveries_total",
	    "Discoveries started." },
	[M_MERGED] = { "mtastsd_discoveries_merged_total",
	    "Queries that joined a discovery already running." },
	[M_DISC_POLICY] = { "mtastsd_discovery_policy_total",
	    "Discoveries that fetched a valid policy." },
	[M_DISC_SAME_ID] = { "mtastsd_discovery_same_id_total",
	    "Discoveries that found the known policy id." },
	[M_DISC_NO_RECORD] = { "mtastsd_discovery_no_record_total",
	    "Discoveries that found no usable TXT record." },
	[M_DISC_TXT_FAILED] = { "mtastsd_discovery_txt_failed_total",
	    "Discoveries whose TXT lookup failed." },
	[M_DISC_FETCH_FAILED] = { "mtastsd_discovery_fetch_failed_total",
	    "Discoveries whose policy fetch failed." },
	[M_DISC_INVALID] = { "mtastsd_discovery_invalid_total",
	    "Discoveries that fetched an invalid policy." },
	[M_FETCHES] = { "mtastsd_fetches_total",
	    "HTTPS policy fetches." },
	[M_CLIENTS] = { "mtastsd_clients_total",
	    "Client connections accepted." },
	[M_CLIENT_ERRORS] = { "mtastsd_client_errors_total",
	    "Client connections closed for bad input." },
	[M_SQLITE_ERRORS] = { "mtastsd_sqlite_errors_total",
	    "Cache file errors." },
};

const char *
metrics_name(enum metric m)
{
	return (metrics_names[m].name);
}

void
metrics_dump(FILE *f)
{
	int	i;

	for (i = 0; i < M_COUNT; i++)
		fprintf(f, "%s %llu\n", metrics_names[i].name,
		    (unsigned long long)metrics[i]);
}

void
metrics_fetch_done(int status, uint64_t ms)
{
	size_t	i;

	if (status < 0 || status > FETCH_PROTOCOL)
		status = METRICS_FETCH_STATUS_MAX - 1;
	metrics_fetch_status[status]++;
	metrics_fetch_count++;
	metrics_fetch_sum_ms += ms;
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		if (ms <= metrics_bucket_ms[i]) {
			metrics_bucket[i]++;
			break;
		}
	}
}

void
metrics_reset(void)
{
	memset(metrics, 0, sizeof metrics);
	memset(metrics_fetch_status, 0, sizeof metrics_fetch_status);
	memset(metrics_bucket, 0, sizeof metrics_bucket);
	metrics_fetch_count = 0;
	metrics_fetch_sum_ms = 0;
}

/* The HELP and TYPE lines of a family. */
static void
metrics_family(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* One gauge with a single sample. */
static void
metrics_gauge(struct evbuffer *out, const char *name, const char *help,
    unsigned long long v)
{
	metrics_family(out, name, "gauge", help);
	evbuffer_add_printf(out, "%s %llu\n", name, v);
}

/* Milliseconds as seconds, without trailing zeros ("0.05", "2.5", "10"). */
static void
metrics_seconds(char *buf, size_t len, uint64_t ms)
{
	snprintf(buf, len, "%llu.%03llu", (unsigned long long)(ms / 1000),
	    (unsigned long long)(ms % 1000));
	while (buf[strlen(buf) - 1] == '0')
		buf[strlen(buf) - 1] = '\0';
	if (buf[strlen(buf) - 1] == '.')
		buf[strlen(buf) - 1] = '\0';
}

/* Fetches by outcome and the duration histogram. */
static void
metrics_fetch_families(struct evbuffer *out)
{
	char		 le[32];
	uint64_t	 cum = 0;
	int		 i;

	metrics_family(out, "mtastsd_fetch_outcomes_total", "counter",
	    "HTTPS policy fetches by outcome.");
	for (i = FETCH_OK; i <= FETCH_PROTOCOL; i++)
		evbuffer_add_printf(out, "mtastsd_fetch_outcomes_total"
		    "{outcome=\"%s\"} %llu\n", fetch_status_name(i),
		    (unsigned long long)metrics_fetch_status[i]);
	evbuffer_add_printf(out, "mtastsd_fetch_outcomes_total"
	    "{outcome=\"other\"} %llu\n", (unsigned long long)
	    metrics_fetch_status[METRICS_FETCH_STATUS_MAX - 1]);

	metrics_family(out, "mtastsd_fetch_duration_seconds", "histogram",
	    "Duration of discoveries that fetched a policy: TXT and address "
	    "lookups plus the HTTPS fetch.");
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cum += metrics_bucket[i];
		metrics_seconds(le, sizeof le, metrics_bucket_ms[i]);
		evbuffer_add_printf(out, "mtastsd_fetch_duration_seconds_bucket"
		    "{le=\"%s\"} %llu\n", le, (unsigned long long)cum);
	}
	evbuffer_add_printf(out, "mtastsd_fetch_duration_seconds_bucket"
	    "{le=\"+Inf\"} %llu\n", (unsigned long long)metrics_fetch_count);
	metrics_seconds(le, sizeof le, metrics_fetch_sum_ms);
	evbuffer_add_printf(out, "mtastsd_fetch_duration_seconds_sum %s\n"
	    "mtastsd_fetch_duration_seconds_count %llu\n", le,
	    (unsigned long long)metrics_fetch_count);
}

void
metrics_prometheus(struct evbuffer *out, const struct resolver_stats *st,
    long long uptime)
{
	static const char	*states[] = { "enforce", "testing", "none",
				    "no_record", "failed", "expired" };
	size_t			 values[6];
	int			 i;

	for (i = 0; i < M_COUNT; i++) {
		metrics_family(out, metrics_names[i].name, "counter",
		    metrics_names[i].help);
		evbuffer_add_printf(out, "%s %llu\n", metrics_names[i].name,
		    (unsigned long long)metrics[i]);
	}
	metrics_fetch_families(out);

	metrics_gauge(out, "mtastsd_entries", "Domains in the cache.",
	    st->entries);
	values[0] = st->enforce;
	values[1] = st->testing;
	values[2] = st->none;
	values[3] = st->no_record;
	values[4] = st->failed;
	values[5] = st->expired;
	metrics_family(out, "mtastsd_entries_by_state", "gauge",
	    "Domains in the cache by state (a failed refresh of a cached "
	    "policy counts in both).");
	for (i = 0; i < 6; i++)
		evbuffer_add_printf(out, "mtastsd_entries_by_state"
		    "{state=\"%s\"} %zu\n", states[i], values[i]);
	metrics_gauge(out, "mtastsd_discoveries_running",
	    "Discoveries in flight.", st->running);
	metrics_gauge(out, "mtastsd_discoveries_queued",
	    "Discoveries waiting for a slot (max-discoveries).", st->queued);
	metrics_gauge(out, "mtastsd_queries_parked",
	    "Queries waiting for a discovery.", st->parked);
	metrics_gauge(out, "mtastsd_uptime_seconds",
	    "Seconds since the daemon started.",
	    uptime < 0 ? 0 : (unsigned long long)uptime);
}

/* Answer one HTTP request: METRICS_PATH, or 404. */
static void
metrics_http_request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics_http	*m = arg;
	struct resolver_stats	 st;
	struct evbuffer		*out;
	const char		*uri = evhttp_request_get_uri(req);
	size_t			 n = strlen(METRICS_PATH);

	if (uri == NULL || strncmp(uri, METRICS_PATH, n) != 0 ||
	    (uri[n] != '\0' && uri[n] != '?')) {
		evhttp_send_error(req, HTTP_NOTFOUND, "try " METRICS_PATH);
		return;
	}
	if ((out = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_SERVUNAVAIL, "out of memory");
		return;
	}
	resolver_stats(m->resolver, &st);
	metrics_prometheus(out, &st,
	    (long long)((util_mono_ms() - m->started_ms) / 1000));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

/* Create, bind and listen on "HOST:PORT" / "[HOST]:PORT". */
static int
metrics_socket(const char *hostport, char **err)
{
	struct sockaddr_storage	 ss;
	int			 sslen = sizeof ss, fd, on = 1;

	memset(&ss, 0, sizeof ss);
	if (strlen(hostport) > METRICS_ADDR_MAX ||
	    evutil_parse_sockaddr_port(hostport, (struct sockaddr *)&ss,
	    &sslen) != 0) {
		xasprintf(err, "metrics-listen %s: not a numeric HOST:PORT",
		    hostport);
		return (-1);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(err, "metrics-listen %s: socket: %s", hostport,
		    strerror(errno));
		return (-1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) == -1 ||
	    listen(fd, METRICS_BACKLOG) == -1) {
		xasprintf(err, "metrics-listen %s: %s", hostport,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

static void
metrics_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct metrics_http	*m = arg;

	evconnlistener_enable(m->listener);
}

/*
 * accept() failed, out of descriptors most likely: the pending connection
 * stays readable, so pause rather than spin on it (and flood the log).
 */
static void
metrics_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct metrics_http	*m = metrics_http_live;
	struct timeval		 tv = { 0, METRICS_ACCEPT_BACKOFF_MS * 1000 };
	int			 err = EVUTIL_SOCKET_ERROR();

	log_warnx("event=metrics-accept-failed error=\"%s\" next=\"pausing "
	    "%dms\"", evutil_socket_error_to_string(err),
	    METRICS_ACCEPT_BACKOFF_MS);
	evconnlistener_disable(l);
	if (m != NULL && m->listener == l)
		evtimer_add(m->retry_ev, &tv);
}

struct metrics_http *
metrics_http_new(struct event_base *base, struct resolver *r,
    const char *hostport, int fd, char **err)
{
	struct metrics_http	*m;
	struct evhttp_bound_socket *bound;

	if (fd == -1 && hostport == NULL) {
		xasprintf(err, "metrics: no address");
		return (NULL);
	}
	if (fd == -1 && (fd = metrics_socket(hostport, err)) == -1)
		return (NULL);
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	m = xcalloc(1, sizeof *m);
	m->resolver = r;
	m->started_ms = util_mono_ms();
	if ((m->http = evhttp_new(base)) == NULL) {
		xasprintf(err, "metrics: out of memory");
		close(fd);
		free(m);
		return (NULL);
	}
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(m->http, METRICS_HEADERS_MAX);
	evhttp_set_max_body_size(m->http, METRICS_BODY_MAX);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT);
	evhttp_set_gencb(m->http, metrics_http_request_cb, m);
	if ((bound = evhttp_accept_socket_with_handle(m->http, fd)) == NULL) {
		xasprintf(err, "metrics: cannot listen");
		close(fd);
		evhttp_free(m->http);
		free(m);
		return (NULL);
	}
	m->listener = evhttp_bound_socket_get_listener(bound);
	if ((m->retry_ev = evtimer_new(base, metrics_retry_cb, m)) == NULL)
		fatalx("metrics: evtimer_new");
	evconnlistener_set_error_cb(m->listener, metrics_accept_error_cb);
	metrics_http_live = m;
	return (m);
}

void
metrics_http_free(struct metrics_http *m)
{
	if (m == NULL)
		return;
	if (metrics_http_live == m)
		metrics_http_live = NULL;
	evhttp_free(m->http);
	event_free(m->retry_ev);
	free(m);
}
