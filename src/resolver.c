/*
 * resolver.c: the per-domain state machine (BEHAVIOUR.md "States" and
 * "Refresh").
 *
 * A query is answered from memory whenever the cache holds something
 * usable; otherwise (a domain never seen, or a policy past max_age) it is
 * parked on the domain's job until the job ends or the discovery deadline
 * passes.  One job per domain at a time: identical discoveries merge.
 * Jobs beyond max-discoveries wait in a queue.  A sweep timer starts
 * proactive refreshes, evicts old entries and writes the cache.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cache.h"
#include "config.h"
#include "defaults.h"
#include "discover.h"
#include "log.h"
#include "metrics.h"
#include "resolver.h"
#include "util.h"

enum job_kind {
	JOB_DISCOVER,	/* nothing usable cached: full discovery */
	JOB_RECHECK,	/* policy cached: TXT check, fetch only on a new id */
	JOB_REFRESH	/* policy cached: fetch it again whatever the id */
};

static const char *job_kind_names[] = { "discover", "recheck", "refresh" };

struct resolver_wait {
	struct job		*job;
	resolver_cb		 cb;
	void			*arg;
	struct event		*deadline;
	TAILQ_ENTRY(resolver_wait) entry;
};
TAILQ_HEAD(wait_list, resolver_wait);

struct job {
	struct resolver		*r;
	char			 domain[DOMAIN_MAX + 1];
	enum job_kind		 kind;
	struct discover		*d;		/* NULL while queued */
	struct wait_list	 waiters;
	TAILQ_ENTRY(job)	 qentry;
	int			 queued;
	uint64_t		 nqueries;	/* queries parked on it */
};
TAILQ_HEAD(job_list, job);

struct resolver {
	struct event_base	*base;
	struct cache		*cache;
	struct dns_client	*dns;
	SSL_CTX			*ssl;
	const struct config	*cfg;
	struct htab		*jobs;		/* domain -> job */
	struct job_list		 queue;
	size_t			 running;
	size_t			 queued;
	size_t			 parked;
	struct event		*sweep_ev;
	int			 shutting_down;
	time_t			 last_flush_warn;
};

static void	resolver_job_start(struct resolver *, struct job *);
static void	resolver_discover_cb(struct discover_result *, void *);
static void	resolver_sweep_cb(evutil_socket_t, short, void *);
static void	resolver_flush_failed(struct resolver *);

struct resolver *
resolver_new(struct event_base *base, struct cache *cache,
    struct dns_client *dns, SSL_CTX *ssl, const struct config *cfg)
{
	struct resolver	*r;
	struct timeval	 tv = { RESOLVER_SWEEP_MS / 1000,
			    (RESOLVER_SWEEP_MS % 1000) * 1000 };

	r = xcalloc(1, sizeof *r);
	r->base = base;
	r->cache = cache;
	r->dns = dns;
	r->ssl = ssl;
	r->cfg = cfg;
	r->jobs = htab_new();
	TAILQ_INIT(&r->queue);
	r->sweep_ev = event_new(base, -1, EV_PERSIST, resolver_sweep_cb, r);
	if (r->sweep_ev == NULL)
		fatalx("resolver: event_new");
	event_add(r->sweep_ev, &tv);
	return (r);
}

void
resolver_set_config(struct resolver *r, const struct config *cfg,
    struct dns_client *dns, SSL_CTX *ssl)
{
	r->cfg = cfg;
	r->dns = dns;
	r->ssl = ssl;
}

/* The wait for the retry after the n-th consecutive failure. */
static time_t
resolver_backoff(const struct resolver *r, unsigned failures)
{
	long	delay = r->cfg->retry_min;
	unsigned i;

	for (i = 1; i < failures && delay < r->cfg->retry_max; i++)
		delay *= 2;
	return (util_clamp(delay, r->cfg->retry_min, r->cfg->retry_max));
}

/* A TTL clamped to the configured bounds. */
static long
resolver_ttl(const struct resolver *r, uint32_t ttl)
{
	return (util_clamp((long)ttl, r->cfg->ttl_min, r->cfg->ttl_max));
}

/* When the policy of e should be fetched again, with jitter. */
static time_t
resolver_refresh_time(const struct resolver *r, const struct cache_entry *e)
{
	long	interval, jitter;

	interval = e->policy->max_age / 2;
	if (interval > r->cfg->refresh_min)
		interval = r->cfg->refresh_min;
	if (interval < 1)
		interval = 1;
	jitter = (long)util_random((uint32_t)(interval * RESOLVER_JITTER_PCT /
	    100 + 1));
	if (jitter >= interval)
		jitter = 0;
	return (e->fetched_at + interval - jitter);
}

/* Answer one parked query and free its wait. */
static void
resolver_wake(struct resolver *r, struct resolver_wait *w,
    const struct cache_entry *e)
{
	TAILQ_REMOVE(&w->job->waiters, w, entry);
	r->parked--;
	event_free(w->deadline);
	w->cb(e, w->arg);
	free(w);
}

static void
resolver_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct resolver_wait	*w = arg;
	struct resolver		*r = w->job->r;

	METRIC_INC(M_DEADLINE);
	log_info("domain=%s event=deadline timeout=%ds answer=from-cache "
	    "next=\"discovery goes on in the background\"", w->job->domain,
	    r->cfg->discovery_timeout);
	resolver_wake(r, w, cache_get(r->cache, w->job->domain));
}

/* Find or start the job for domain. */
static struct job *
resolver_job(struct resolver *r, const char *domain, enum job_kind kind)
{
	struct job	*j;

	if ((j = htab_get(r->jobs, domain)) != NULL)
		return (j);
	j = xcalloc(1, sizeof *j);
	j->r = r;
	j->kind = kind;
	snprintf(j->domain, sizeof j->domain, "%s", domain);
	TAILQ_INIT(&j->waiters);
	htab_put(r->jobs, j->domain, j);
	if (r->running >= (size_t)r->cfg->max_discoveries) {
		TAILQ_INSERT_TAIL(&r->queue, j, qentry);
		j->queued = 1;
		r->queued++;
		log_debug("domain=%s event=queued kind=%s running=%zu",
		    domain, job_kind_names[kind], r->running);
	} else
		resolver_job_start(r, j);
	return (j);
}

/* Start the discovery of a job. */
static void
resolver_job_start(struct resolver *r, struct job *j)
{
	struct discover_opts	 o;
	struct cache_entry	*e = cache_get(r->cache, j->domain);

	memset(&o, 0, sizeof o);
	o.dns = r->dns;
	o.fetch.ssl_ctx = r->ssl;
	o.fetch.port = 443;
	o.fetch.timeout_ms = r->cfg->fetch_timeout * 1000;
	o.fetch.max_body = r->cfg->max_policy_size;
	o.fetch.max_headers = HTTP_HEADERS_MAX;
	if (j->kind == JOB_RECHECK && e != NULL && e->policy != NULL)
		o.known_id = e->policy_id;
	r->running++;
	METRIC_INC(M_DISCOVERIES);
	log_debug("domain=%s event=discovery-start kind=%s", j->domain,
	    job_kind_names[j->kind]);
	j->d = discover_start(r->base, j->domain, &o, resolver_discover_cb, j);
}

/* Start queued jobs while there is room. */
static void
resolver_dequeue(struct resolver *r)
{
	struct job	*j;

	while (!r->shutting_down &&
	    r->running < (size_t)r->cfg->max_discoveries &&
	    (j = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, j, qentry);
		j->queued = 0;
		r->queued--;
		resolver_job_start(r, j);
	}
}

/* Remove a job, answering its waiters from the entry. */
static void
resolver_job_end(struct resolver *r, struct job *j)
{
	struct resolver_wait	*w;
	const struct cache_entry *e = cache_get(r->cache, j->domain);

	htab_del(r->jobs, j->domain);
	while ((w = TAILQ_FIRST(&j->waiters)) != NULL)
		resolver_wake(r, w, e);
	free(j);
}

/* Record a failure on e and compute the next retry. */
static void
resolver_failed(struct resolver *r, struct cache_entry *e,
    const struct discover_result *res, time_t now)
{
	time_t	delay;

	e->failures++;
	delay = resolver_backoff(r, e->failures);
	e->retry_at = now + delay;
	e->status = CACHE_FAILED;
	snprintf(e->reason, sizeof e->reason, "%s", res->reason);
	snprintf(e->last_error, sizeof e->last_error, "%s", res->error);
	e->last_error_at = now;
	if (cache_entry_fresh(e, now)) {
		if (e->refresh_at <= now)
			e->refresh_at = now + delay;
		log_warnx("domain=%s event=%s reason=%s error=\"%s\" "
		    "next=\"serving cached policy id=%s, retry in %llds\"",
		    e->domain, discover_status_name(res->status), res->reason,
		    res->error, e->policy_id, (long long)delay);
	} else {
		if (e->policy != NULL)
			cache_clear_policy(r->cache, e);
		log_warnx("domain=%s event=%s reason=%s error=\"%s\" "
		    "next=\"no policy: answering NOTFOUND, retry in %llds\"",
		    e->domain, discover_status_name(res->status), res->reason,
		    res->error, (long long)delay);
	}
}

/* Install a freshly fetched policy. */
static void
resolver_policy(struct resolver *r, struct cache_entry *e,
    struct discover_result *res, time_t now)
{
	struct sts_policy	*p = discover_take_policy(res);
	size_t			 i;
	int			 changed;

	changed = e->policy == NULL || !sts_policy_equal(e->policy, p) ||
	    strcmp(e->policy_id, res->txt_rec.id) != 0;
	cache_set_policy(r->cache, e, p, res->txt_rec.id, now);
	e->status = CACHE_OK;
	e->reason[0] = '\0';
	e->failures = 0;
	e->retry_at = 0;
	e->txt_checked_at = now;
	e->txt_ttl = res->txt_ttl;
	e->refresh_at = resolver_refresh_time(r, e);
	for (i = 0; i < res->policy_diag.n; i++) {
		log_warnx("domain=%s event=policy-warning line=%d code=%s "
		    "message=\"%s\"", e->domain, res->policy_diag.f[i].line,
		    res->policy_diag.f[i].code, res->policy_diag.f[i].msg);
	}
	log_info("domain=%s event=policy-%s id=%s mode=%s max_age=%u mx=%zu "
	    "elapsed_ms=%llu next=\"refresh in %llds\"", e->domain,
	    changed ? "fetched" : "renewed", e->policy_id,
	    sts_mode_name(p->mode), p->max_age, p->nmx,
	    (unsigned long long)res->elapsed_ms,
	    (long long)(e->refresh_at - now));
}

/* Apply a discovery result to the cache entry of its domain. */
static void
resolver_apply(struct resolver *r, struct job *j, struct discover_result *res)
{
	struct cache_entry	*e = cache_add(r->cache, j->domain);
	time_t			 now = util_now();
	long			 ttl;

	/* Queries that waited for this job count as use of the entry. */
	if (j->nqueries > 0) {
		e->queries += j->nqueries;
		e->last_query_at = now;
		j->nqueries = 0;
	}

	switch (res->status) {
	case DISCOVER_POLICY:
		METRIC_INC(M_DISC_POLICY);
		resolver_policy(r, e, res, now);
		break;
	case DISCOVER_SAME_ID:
		METRIC_INC(M_DISC_SAME_ID);
		e->txt_checked_at = now;
		e->txt_ttl = res->txt_ttl;
		e->status = CACHE_OK;
		e->failures = 0;
		e->retry_at = 0;
		log_debug("domain=%s event=txt-same-id id=%s next=\"re-check "
		    "in %lds\"", e->domain, e->policy_id,
		    resolver_ttl(r, e->txt_ttl));
		break;
	case DISCOVER_NO_RECORD:
		METRIC_INC(M_DISC_NO_RECORD);
		ttl = resolver_ttl(r, res->txt_ttl);
		e->txt_checked_at = now;
		e->txt_ttl = res->txt_ttl;
		e->failures = 0;
		snprintf(e->reason, sizeof e->reason, "%s", res->reason);
		snprintf(e->last_error, sizeof e->last_error, "%s", res->error);
		e->last_error_at = now;
		e->retry_at = now + ttl;
		if (cache_entry_fresh(e, now)) {
			log_info("domain=%s event=no-record reason=%s next="
			    "\"serving cached policy id=%s until it expires\"",
			    e->domain, res->reason, e->policy_id);
		} else {
			e->status = CACHE_NO_RECORD;
			if (e->policy != NULL)
				cache_clear_policy(r->cache, e);
			log_info("domain=%s event=no-record reason=%s next="
			    "\"NOTFOUND, re-check in %lds\"", e->domain,
			    res->reason, ttl);
		}
		break;
	case DISCOVER_TXT_FAILED:
		METRIC_INC(M_DISC_TXT_FAILED);
		resolver_failed(r, e, res, now);
		break;
	case DISCOVER_FETCH_FAILED:
		METRIC_INC(M_DISC_FETCH_FAILED);
		resolver_failed(r, e, res, now);
		break;
	case DISCOVER_INVALID:
		METRIC_INC(M_DISC_INVALID);
		resolver_failed(r, e, res, now);
		break;
	}
	if (res->fetched) {
		METRIC_INC(M_FETCHES);
		/* A fetch that could not start has no fetch status. */
		metrics_fetch_done(res->status == DISCOVER_FETCH_FAILED &&
		    res->fetch_status == FETCH_OK ? -1 : (int)res->fetch_status,
		    res->elapsed_ms);
	}
	cache_dirty(r->cache, e);
}

static void
resolver_discover_cb(struct discover_result *res, void *arg)
{
	struct job		*j = arg;
	struct resolver		*r = j->r;
	struct cache_entry	*e;

	j->d = NULL;
	r->running--;
	resolver_apply(r, j, res);
	e = cache_get(r->cache, j->domain);
	if (res->status == DISCOVER_SAME_ID && !TAILQ_EMPTY(&j->waiters) &&
	    (e == NULL || !cache_entry_fresh(e, util_now()))) {
		/* The policy expired while we checked its id: fetch it. */
		j->kind = JOB_DISCOVER;
		resolver_job_start(r, j);
		return;
	}
	resolver_job_end(r, j);
	resolver_dequeue(r);
}

/* Start background work that a query for e makes due. */
static void
resolver_due(struct resolver *r, struct cache_entry *e, time_t now)
{
	if (r->shutting_down || htab_get(r->jobs, e->domain) != NULL)
		return;
	if (now < e->retry_at)
		return;
	if (cache_entry_fresh(e, now)) {
		if (now >= e->txt_checked_at + resolver_ttl(r, e->txt_ttl))
			resolver_job(r, e->domain, JOB_RECHECK);
	} else
		resolver_job(r, e->domain, JOB_DISCOVER);
}

int
resolver_query(struct resolver *r, const char *domain,
    const struct cache_entry **ep, resolver_cb cb, void *arg,
    struct resolver_wait **wp)
{
	struct cache_entry	*e = cache_get(r->cache, domain);
	struct resolver_wait	*w;
	struct job		*j;
	struct timeval		 tv;
	time_t			 now = util_now();

	*wp = NULL;
	if (e != NULL) {
		e->queries++;
		e->last_query_at = now;
		/* Use counters reach the file once a minute, not per query. */
		if (now - e->use_saved_at >= CACHE_USE_WRITE_EVERY) {
			e->use_saved_at = now;
			e->queries_saved = e->queries;
			cache_dirty(r->cache, e);
		}
		/* Usable now: a fresh policy, or a known absence of one. */
		if (cache_entry_fresh(e, now) || e->policy == NULL ||
		    r->shutting_down) {
			resolver_due(r, e, now);
			METRIC_INC(M_CACHE_HIT);
			*ep = e;
			return (0);
		}
	}
	if (r->shutting_down) {
		*ep = NULL;
		return (0);
	}

	/* Never seen, or the policy expired: wait for the discovery. */
	METRIC_INC(M_CACHE_MISS);
	if ((j = htab_get(r->jobs, domain)) != NULL)
		METRIC_INC(M_MERGED);
	else
		j = resolver_job(r, domain, JOB_DISCOVER);
	w = xcalloc(1, sizeof *w);
	w->job = j;
	w->cb = cb;
	w->arg = arg;
	w->deadline = evtimer_new(r->base, resolver_deadline_cb, w);
	if (w->deadline == NULL)
		fatalx("resolver: evtimer_new");
	tv.tv_sec = r->cfg->discovery_timeout;
	tv.tv_usec = 0;
	evtimer_add(w->deadline, &tv);
	TAILQ_INSERT_TAIL(&j->waiters, w, entry);
	j->nqueries++;
	r->parked++;
	*wp = w;
	return (1);
}

void
resolver_wait_cancel(struct resolver_wait *w)
{
	if (w == NULL)
		return;
	TAILQ_REMOVE(&w->job->waiters, w, entry);
	w->job->r->parked--;
	event_free(w->deadline);
	free(w);
}

/* Cancel a job and answer its waiters with what the cache holds. */
static void
resolver_job_cancel(struct resolver *r, struct job *j)
{
	if (j->d != NULL) {
		discover_cancel(j->d);
		j->d = NULL;
		r->running--;
	}
	if (j->queued) {
		TAILQ_REMOVE(&r->queue, j, qentry);
		r->queued--;
	}
	resolver_job_end(r, j);
}

int
resolver_refresh(struct resolver *r, const char *domain)
{
	struct cache_entry	*e = cache_get(r->cache, domain);
	struct job		*j;

	if ((j = htab_get(r->jobs, domain)) != NULL)
		return (0);
	if (e == NULL)
		return (-1);
	e->retry_at = 0;
	resolver_job(r, domain, e->policy != NULL &&
	    cache_entry_fresh(e, util_now()) ? JOB_REFRESH : JOB_DISCOVER);
	return (0);
}

struct refresh_all {
	struct resolver	*r;
	char		**domains;
	size_t		  n;
};

static int
resolver_collect_cb(struct cache_entry *e, void *arg)
{
	struct refresh_all	*ra = arg;

	ra->domains[ra->n++] = xstrdup(e->domain);
	return (0);
}

size_t
resolver_refresh_all(struct resolver *r)
{
	struct refresh_all	ra;
	size_t			i, n = 0;

	ra.r = r;
	ra.n = 0;
	ra.domains = xcalloc(cache_count(r->cache) + 1, sizeof *ra.domains);
	cache_foreach(r->cache, resolver_collect_cb, &ra);
	for (i = 0; i < ra.n; i++) {
		if (resolver_refresh(r, ra.domains[i]) == 0)
			n++;
		free(ra.domains[i]);
	}
	free(ra.domains);
	return (n);
}

int
resolver_forget(struct resolver *r, const char *domain)
{
	struct job	*j;

	if ((j = htab_get(r->jobs, domain)) != NULL)
		resolver_job_cancel(r, j);
	return (cache_remove(r->cache, domain));
}

static int
resolver_cancel_cb(const char *key, void *value, void *arg)
{
	struct job	**list = arg;
	struct job	 *j = value;

	/* Chain through qentry's next pointer slot: jobs are not queued now. */
	j->qentry.tqe_next = *list;
	*list = j;
	return (0);
}

/* Cancel every job, answering their waiters. */
static void
resolver_cancel_all(struct resolver *r)
{
	struct job	*list = NULL, *j, *next;

	while ((j = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, j, qentry);
		j->queued = 0;
		r->queued--;
	}
	htab_foreach(r->jobs, resolver_cancel_cb, &list);
	for (j = list; j != NULL; j = next) {
		next = j->qentry.tqe_next;
		resolver_job_cancel(r, j);
	}
}

void
resolver_flush(struct resolver *r)
{
	resolver_cancel_all(r);
	cache_remove_all(r->cache);
}

void
resolver_shutdown(struct resolver *r)
{
	r->shutting_down = 1;
	resolver_cancel_all(r);
	resolver_sync(r);
}

/* Count and (once a minute) log a failed cache write. */
static void
resolver_flush_failed(struct resolver *r)
{
	time_t	now = util_now();

	METRIC_INC(M_SQLITE_ERRORS);
	if (now - r->last_flush_warn >= 60) {
		r->last_flush_warn = now;
		log_warnx("event=cache-write-failed file=%s next=\"answering "
		    "from memory; changes kept and written again every %dms\"",
		    cache_path(r->cache), RESOLVER_SWEEP_MS);
	}
}

/* Mark an entry whose use counters changed since they were last marked. */
static int
resolver_use_cb(struct cache_entry *e, void *arg)
{
	struct resolver	*r = arg;

	if (e->queries != e->queries_saved) {
		e->queries_saved = e->queries;
		e->use_saved_at = util_now();
		cache_dirty(r->cache, e);
	}
	return (0);
}

int
resolver_sync(struct resolver *r)
{
	cache_foreach(r->cache, resolver_use_cb, r);
	if (cache_flush(r->cache) == 0)
		return (0);
	resolver_flush_failed(r);
	return (-1);
}

struct sweep {
	struct resolver	*r;
	time_t		 now;
	char		**due;
	size_t		 ndue;
	size_t		 maxdue;
	char		**old;
	size_t		 nold;
	size_t		 maxold;
};

static int
resolver_sweep_entry_cb(struct cache_entry *e, void *arg)
{
	struct sweep	*s = arg;
	int		 fresh = cache_entry_fresh(e, s->now);

	if (fresh && e->refresh_at != 0 && s->now >= e->refresh_at &&
	    s->now >= e->retry_at &&
	    e->last_query_at + QUERIED_RECENTLY >= s->now &&
	    s->ndue < s->maxdue)
		s->due[s->ndue++] = xstrdup(e->domain);
	else if (!fresh && e->last_query_at + EVICT_UNQUERIED < s->now &&
	    s->nold < s->maxold)
		s->old[s->nold++] = xstrdup(e->domain);
	return (0);
}

/* One entry as the cap sees it: when it was last queried. */
struct lru_item {
	time_t			 last_query_at;
	struct cache_entry	*e;
};

struct lru {
	struct lru_item	*v;
	size_t		 n;
	size_t		 max;
};

static int
resolver_lru_collect_cb(struct cache_entry *e, void *arg)
{
	struct lru	*l = arg;

	if (l->n < l->max) {
		l->v[l->n].last_query_at = e->last_query_at;
		l->v[l->n].e = e;
		l->n++;
	}
	return (0);
}

/* Least recently queried first; ties by name, so the order is stable. */
static int
resolver_lru_cmp(const void *a, const void *b)
{
	const struct lru_item	*x = a, *y = b;

	if (x->last_query_at != y->last_query_at)
		return (x->last_query_at < y->last_query_at ? -1 : 1);
	return (strcmp(x->e->domain, y->e->domain));
}

/*
 * Hold the cache to cache-max-entries: evict the least recently queried
 * entries beyond it, never one whose discovery is running (its job will
 * write to it).  Sorting every entry costs O(n log n), paid only by a
 * sweep that finds the cache over its cap.
 */
static void
resolver_evict_over_cap(struct resolver *r)
{
	struct lru	 l;
	size_t		 count = cache_count(r->cache), over, i, evicted = 0;

	if (count <= r->cfg->cache_max_entries)
		return;
	over = count - r->cfg->cache_max_entries;
	l.n = 0;
	l.max = count;
	l.v = xcalloc(count, sizeof *l.v);
	cache_foreach(r->cache, resolver_lru_collect_cb, &l);
	qsort(l.v, l.n, sizeof *l.v, resolver_lru_cmp);
	for (i = 0; i < l.n && evicted < over; i++) {
		if (htab_get(r->jobs, l.v[i].e->domain) != NULL)
			continue;
		log_debug("domain=%s event=evicted reason=\"cache-max-entries "
		    "reached, least recently queried\"", l.v[i].e->domain);
		cache_remove(r->cache, l.v[i].e->domain);
		evicted++;
	}
	free(l.v);
	log_info("event=cache-full entries=%zu cache-max-entries=%zu "
	    "evicted=%zu next=\"dropped the least recently queried\"", count,
	    r->cfg->cache_max_entries, evicted);
}

static void
resolver_sweep_cb(evutil_socket_t fd, short events, void *arg)
{
	struct resolver	*r = arg;
	struct sweep	 s;
	size_t		 i;

	if (r->shutting_down)
		return;
	memset(&s, 0, sizeof s);
	s.r = r;
	s.now = util_now();
	s.maxdue = s.maxold = 1024;
	s.due = xcalloc(s.maxdue, sizeof *s.due);
	s.old = xcalloc(s.maxold, sizeof *s.old);
	cache_foreach(r->cache, resolver_sweep_entry_cb, &s);
	for (i = 0; i < s.ndue; i++) {
		if (htab_get(r->jobs, s.due[i]) == NULL) {
			log_debug("domain=%s event=refresh-due", s.due[i]);
			resolver_job(r, s.due[i], JOB_REFRESH);
		}
		free(s.due[i]);
	}
	for (i = 0; i < s.nold; i++) {
		if (htab_get(r->jobs, s.old[i]) == NULL) {
			log_info("domain=%s event=evicted reason=\"not queried "
			    "for 90 days, policy expired\"", s.old[i]);
			cache_remove(r->cache, s.old[i]);
		}
		free(s.old[i]);
	}
	free(s.due);
	free(s.old);
	resolver_evict_over_cap(r);
	resolver_sync(r);
}

static int
resolver_stats_cb(struct cache_entry *e, void *arg)
{
	struct resolver_stats	*st = arg;
	time_t			 now = util_now();

	st->entries++;
	if (cache_entry_fresh(e, now)) {
		if (e->policy->mode == STS_MODE_ENFORCE)
			st->enforce++;
		else if (e->policy->mode == STS_MODE_TESTING)
			st->testing++;
		else
			st->none++;
	} else if (e->policy != NULL)
		st->expired++;
	else if (e->status == CACHE_NO_RECORD)
		st->no_record++;
	else if (e->status == CACHE_FAILED)
		st->failed++;
	return (0);
}

void
resolver_stats(struct resolver *r, struct resolver_stats *st)
{
	memset(st, 0, sizeof *st);
	cache_foreach(r->cache, resolver_stats_cb, st);
	st->running = r->running;
	st->queued = r->queued;
	st->parked = r->parked;
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	resolver_cancel_all(r);
	event_free(r->sweep_ev);
	htab_free(r->jobs);
	free(r);
}
