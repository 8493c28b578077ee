/*
 * resolver.h: the per-domain state machine between the cache and the
 * network.  It answers queries from memory whenever it can, starts
 * discoveries in the background (TXT re-checks, fetches on id change,
 * proactive refreshes, retries), merges identical discoveries into one,
 * caps how many run at once, and parks the queries for domains it has
 * never seen until their discovery ends or the discovery deadline passes.
 */
#ifndef MTASTS_RESOLVER_H
#define MTASTS_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct event_base;
struct cache;
struct cache_entry;
struct config;
struct dns_client;

#define RESOLVER_SWEEP_MS	1000	/* refresh, eviction and flush timer */
#define RESOLVER_JITTER_PCT	10	/* proactive refresh up to this much early */

struct resolver;
struct resolver_wait;

/* Called with the entry to answer from (NULL when nothing is known). */
typedef void (*resolver_cb)(const struct cache_entry *, void *arg);

struct resolver *resolver_new(struct event_base *, struct cache *,
		    struct dns_client *, SSL_CTX *, const struct config *);
void		 resolver_free(struct resolver *);
/* Use a new configuration (SIGHUP); the old one may be freed after. */
void		 resolver_set_config(struct resolver *, const struct config *,
		    struct dns_client *, SSL_CTX *);

/*
 * A query for domain (normalised A-label form).  Returns 0 with *ep set
 * (possibly to NULL) when the answer can be given now; 1 when the query is
 * parked: cb runs later, exactly once, unless resolver_wait_cancel(*wp).
 */
int		 resolver_query(struct resolver *, const char *domain,
		    const struct cache_entry **ep, resolver_cb cb, void *arg,
		    struct resolver_wait **wp);
void		 resolver_wait_cancel(struct resolver_wait *);

/* Fetch the policy of domain again now (mtastsctl refresh); -1 if unknown. */
int		 resolver_refresh(struct resolver *, const char *domain);
/* Refresh every cached domain; returns how many were scheduled. */
size_t		 resolver_refresh_all(struct resolver *);
/* Forget one domain (cancels its discovery); -1 if unknown. */
int		 resolver_forget(struct resolver *, const char *domain);
/* Forget everything. */
void		 resolver_flush(struct resolver *);
/* Answer every parked query now (shutdown) and stop starting work. */
void		 resolver_shutdown(struct resolver *);
/* Write pending cache changes now; -1 if the file could not be written. */
int		 resolver_sync(struct resolver *);

/* Entries by state, for stats and metrics. */
struct resolver_stats {
	size_t	entries;
	size_t	enforce;
	size_t	testing;
	size_t	none;
	size_t	no_record;
	size_t	failed;
	size_t	expired;
	size_t	running;	/* discoveries in flight */
	size_t	queued;		/* waiting for a slot */
	size_t	parked;		/* queries waiting for an answer */
};
void		 resolver_stats(struct resolver *, struct resolver_stats *);

#endif
