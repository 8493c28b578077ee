/*
 * cache.h: the policy cache.  An in-memory index answers every query; an
 * SQLite file in WAL mode is the durable copy, written in short batched
 * transactions.  The schema is a documented interface (doc/cache-schema.md):
 * mtastsctl and Exim read it too.  Knows nothing of the network.
 */
#ifndef MTASTS_CACHE_H
#define MTASTS_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "defaults.h"
#include "sts.h"

#define CACHE_SCHEMA_VERSION	1
#define CACHE_ERROR_MAX		256	/* bytes of last_error kept */
#define CACHE_BUSY_TIMEOUT_MS	50	/* never wait long for a lock */
#define CACHE_FLUSH_STEP	2000	/* rows one cache_flush_step writes */
#define CACHE_USE_WRITE_EVERY	60	/* s between writes of a domain's use counters */

/* The outcome of the last discovery for a domain. */
enum cache_status {
	CACHE_OK = 0,		/* policy fetched and valid */
	CACHE_NO_RECORD,	/* no valid STSv1 TXT record */
	CACHE_FAILED		/* lookup, fetch or validation failed */
};

struct cache_entry {
	char			 domain[DOMAIN_MAX + 1];

	/* The policy in force: NULL when none. */
	struct sts_policy	*policy;
	char			 policy_id[STS_ID_MAX + 1];
	time_t			 fetched_at;	/* policy applies until fetched_at + max_age */

	/* The TXT record. */
	time_t			 txt_checked_at;
	uint32_t		 txt_ttl;

	/* The last discovery. */
	enum cache_status	 status;
	char			 reason[32];	/* stable code of the last failure */
	char			 last_error[CACHE_ERROR_MAX];
	time_t			 last_error_at;
	time_t			 retry_at;	/* no new discovery before this */
	unsigned		 failures;	/* consecutive, for backoff */
	time_t			 refresh_at;	/* next proactive policy fetch */

	/* Use. */
	time_t			 last_query_at;
	uint64_t		 queries;
	time_t			 use_saved_at;	/* use last marked for writing */
	uint64_t		 queries_saved;	/* queries when last marked */

	/* Private to cache.c. */
	int			 dirty;
	struct cache_entry	*dirty_next;
};

struct cache;

/*
 * Open (creating if needed, with its directory) the SQLite file at path
 * and load every row into memory.  readonly opens without writing or
 * creating (mtastsctl), and never blocks a running daemon.  NULL with
 * *err set (malloc'd) on failure.
 */
struct cache	*cache_open(const char *path, int readonly, char **err);
/* An in-memory cache with no file (SQLite unusable, or tests). */
struct cache	*cache_memory(void);
void		 cache_close(struct cache *);

struct cache_entry *cache_get(struct cache *, const char *domain);
/* Find or create the entry for domain. */
struct cache_entry *cache_add(struct cache *, const char *domain);
/* Install a policy (takes ownership; frees the old one). */
void		 cache_set_policy(struct cache *, struct cache_entry *,
		    struct sts_policy *, const char *id, time_t fetched_at);
/* Drop the policy of an entry. */
void		 cache_clear_policy(struct cache *, struct cache_entry *);
/* Record that e changed and must reach the file at the next flush. */
void		 cache_dirty(struct cache *, struct cache_entry *);
/* Remove one entry from memory and file; 0 if found. */
int		 cache_remove(struct cache *, const char *domain);
/* Remove every entry. */
void		 cache_remove_all(struct cache *);
size_t		 cache_count(const struct cache *);
/* Visit every entry; fn may not add or remove.  Stops on non-zero. */
void		 cache_foreach(struct cache *,
		    int (*fn)(struct cache_entry *, void *), void *arg);

/*
 * Write every dirty entry in one transaction.  Returns 0, or -1 when
 * SQLite failed (entries stay dirty and in memory; the caller logs and
 * retries later).
 */
int		 cache_flush(struct cache *);
/*
 * Like cache_flush, but at most CACHE_FLUSH_STEP entries, so a timer on
 * the event loop never stalls answers for long; the rest stay dirty for
 * the next step.
 */
int		 cache_flush_step(struct cache *);
/*
 * Whether the cache has a working file (0 after a write error until a
 * flush succeeds; always 0 for cache_memory() and readonly caches, whose
 * changes never reach a file).
 */
int		 cache_persistent(const struct cache *);
/* Entries waiting for the next flush. */
size_t		 cache_dirty_count(const struct cache *);
/* SQLite's message for the last failure ("" if none). */
const char	*cache_last_error(const struct cache *);
const char	*cache_path(const struct cache *);
const char	*cache_status_name(enum cache_status);

/* Whether the entry holds a policy that applies at now. */
int		 cache_entry_fresh(const struct cache_entry *, time_t now);
time_t		 cache_entry_expires(const struct cache_entry *);

#endif
