/*
 * cache.c: the policy cache.  Every entry lives in a hash table keyed by
 * domain, so a query touches neither SQLite nor the network.  The SQLite
 * file (WAL mode) is the durable copy: changed entries are linked into a
 * dirty list and cache_flush writes them in one short transaction.  The
 * schema is a documented interface (doc/cache-schema.md).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cache.h"
#include "log.h"
#include "util.h"

#define CACHE_DIR_MODE		0750	/* directories created for the file */
#define CACHE_SQLERR_MAX	256	/* bytes of an SQLite message kept */
#define CACHE_TIME_MAX		253402300799LL	/* 9999-12-31: times read are clamped */

/*
 * Version 1 of the schema.  Changing it means a new CACHE_SCHEMA_VERSION
 * and an entry in doc/cache-schema.md.
 */
static const char cache_schema_v1[] =
	"CREATE TABLE schema_version ("
	" version INTEGER NOT NULL);"
	"INSERT INTO schema_version (version) VALUES (1);"
	"CREATE TABLE domains ("
	" domain TEXT PRIMARY KEY NOT NULL,"
	" policy_id TEXT,"
	" policy_text TEXT,"
	" mode TEXT,"
	" max_age INTEGER,"
	" mx TEXT,"
	" fetched_at INTEGER NOT NULL DEFAULT 0,"
	" expires_at INTEGER NOT NULL DEFAULT 0,"
	" txt_checked_at INTEGER NOT NULL DEFAULT 0,"
	" txt_ttl INTEGER NOT NULL DEFAULT 0,"
	" status TEXT NOT NULL DEFAULT 'failed',"
	" reason TEXT NOT NULL DEFAULT '',"
	" last_error TEXT NOT NULL DEFAULT '',"
	" last_error_at INTEGER NOT NULL DEFAULT 0,"
	" retry_at INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" refresh_at INTEGER NOT NULL DEFAULT 0,"
	" last_query_at INTEGER NOT NULL DEFAULT 0,"
	" queries INTEGER NOT NULL DEFAULT 0);";

/* The columns of domains, in the order of enum cache_col. */
#define CACHE_COLUMNS							\
	"domain, policy_id, policy_text, mode, max_age, mx, fetched_at,"	\
	" expires_at, txt_checked_at, txt_ttl, status, reason, last_error,"	\
	" last_error_at, retry_at, failures, refresh_at, last_query_at,"	\
	" queries"

enum cache_col {
	COL_DOMAIN = 0,
	COL_POLICY_ID,
	COL_POLICY_TEXT,
	COL_MODE,
	COL_MAX_AGE,
	COL_MX,
	COL_FETCHED_AT,
	COL_EXPIRES_AT,
	COL_TXT_CHECKED_AT,
	COL_TXT_TTL,
	COL_STATUS,
	COL_REASON,
	COL_LAST_ERROR,
	COL_LAST_ERROR_AT,
	COL_RETRY_AT,
	COL_FAILURES,
	COL_REFRESH_AT,
	COL_LAST_QUERY_AT,
	COL_QUERIES
};

struct cache {
	struct htab		 *index;	/* domain -> struct cache_entry */
	struct cache_entry	 *dirty;	/* entries to write, linked once */
	size_t			  ndirty;

	sqlite3			 *db;		/* NULL for cache_memory() */
	sqlite3_stmt		 *upsert;	/* prepared once, kept */
	sqlite3_stmt		 *delete_one;
	sqlite3_stmt		 *delete_all;
	char			 *path;
	int			  readonly;
	int			  persistent;	/* 0 while writes fail */
	char			  sqlerr[CACHE_SQLERR_MAX];

	/* Deletes that failed, retried at the next flush before the upserts. */
	char			**deletes;
	size_t			  ndeletes;
	int			  pending_delete_all;
};

static const char *cache_status_names[] = { "ok", "no-record", "failed" };

/* Remember SQLite's message for the last failure. */
static void
cache_sqlerr(struct cache *c)
{
	snprintf(c->sqlerr, sizeof c->sqlerr, "%s", sqlite3_errmsg(c->db));
}

/* Run one SQL text with no result rows; 0 or -1 (message kept). */
static int
cache_exec(struct cache *c, const char *sql)
{
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		cache_sqlerr(c);
		return (-1);
	}
	return (0);
}

/* Step a prepared statement that returns no rows, then reset it. */
static int
cache_step(struct cache *c, sqlite3_stmt *st)
{
	int	rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		cache_sqlerr(c);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Roll back the open transaction, if SQLite has not done so already. */
static void
cache_rollback(struct cache *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

const char *
cache_status_name(enum cache_status s)
{
	if ((size_t)s >= sizeof cache_status_names / sizeof cache_status_names[0])
		return ("unknown");
	return (cache_status_names[s]);
}

/* "no-record" -> CACHE_NO_RECORD; -1 if unknown. */
static int
cache_status_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof cache_status_names / sizeof cache_status_names[0];
	    i++) {
		if (strcmp(s, cache_status_names[i]) == 0)
			return ((int)i);
	}
	return (-1);
}

int
cache_entry_fresh(const struct cache_entry *e, time_t now)
{
	return (e->policy != NULL && now < cache_entry_expires(e));
}

time_t
cache_entry_expires(const struct cache_entry *e)
{
	if (e->policy == NULL)
		return (0);
	return (e->fetched_at + (time_t)e->policy->max_age);
}

/* An empty cache with no file. */
static struct cache *
cache_new(void)
{
	struct cache	*c;

	c = xcalloc(1, sizeof *c);
	c->index = htab_new();
	return (c);
}

struct cache *
cache_memory(void)
{
	return (cache_new());
}

/* Whether changes can reach a file at all. */
static int
cache_writable(const struct cache *c)
{
	return (c->db != NULL && !c->readonly);
}

/* Allocate an entry for domain and index it; not dirty. */
static struct cache_entry *
cache_entry_new(struct cache *c, const char *domain)
{
	struct cache_entry	*e;

	e = xcalloc(1, sizeof *e);
	snprintf(e->domain, sizeof e->domain, "%s", domain);
	e->status = CACHE_OK;
	htab_put(c->index, e->domain, e);
	return (e);
}

static void
cache_entry_free(struct cache_entry *e)
{
	sts_policy_free(e->policy);
	free(e);
}

struct cache_entry *
cache_get(struct cache *c, const char *domain)
{
	return (htab_get(c->index, domain));
}

/* Find or create; NULL for an empty or over-long domain. */
struct cache_entry *
cache_add(struct cache *c, const char *domain)
{
	struct cache_entry	*e;
	size_t			 len;

	if ((e = htab_get(c->index, domain)) != NULL)
		return (e);
	len = strlen(domain);
	if (len == 0 || len > DOMAIN_MAX)
		return (NULL);
	e = cache_entry_new(c, domain);
	cache_dirty(c, e);
	return (e);
}

void
cache_dirty(struct cache *c, struct cache_entry *e)
{
	if (e->dirty || !cache_writable(c))
		return;
	e->dirty = 1;
	e->dirty_next = c->dirty;
	c->dirty = e;
	c->ndirty++;
}

/* Take e off the dirty list (before it is freed). */
static void
cache_undirty(struct cache *c, struct cache_entry *e)
{
	struct cache_entry	**ep;

	if (!e->dirty)
		return;
	for (ep = &c->dirty; *ep != NULL; ep = &(*ep)->dirty_next) {
		if (*ep == e) {
			*ep = e->dirty_next;
			c->ndirty--;
			break;
		}
	}
	e->dirty = 0;
	e->dirty_next = NULL;
}

size_t
cache_dirty_count(const struct cache *c)
{
	return (c->ndirty);
}

void
cache_set_policy(struct cache *c, struct cache_entry *e,
    struct sts_policy *p, const char *id, time_t fetched_at)
{
	if (e->policy != p)
		sts_policy_free(e->policy);
	e->policy = p;
	snprintf(e->policy_id, sizeof e->policy_id, "%s", id != NULL ? id : "");
	e->fetched_at = fetched_at;
	cache_dirty(c, e);
}

/* Drop the policy together with the id and time that belong to it. */
void
cache_clear_policy(struct cache *c, struct cache_entry *e)
{
	sts_policy_free(e->policy);
	e->policy = NULL;
	e->policy_id[0] = '\0';
	e->fetched_at = 0;
	cache_dirty(c, e);
}

/* Delete one row now; on failure queue it for the next flush. */
static void
cache_delete_row(struct cache *c, const char *domain)
{
	if (!cache_writable(c))
		return;
	if (c->pending_delete_all)
		return;		/* the queued delete-all covers it */
	sqlite3_bind_text(c->delete_one, 1, domain, -1, SQLITE_STATIC);
	if (cache_step(c, c->delete_one) == 0)
		return;
	log_debug("cache file=%s domain=%s delete failed error=\"%s\", "
	    "retrying at next flush", c->path, domain, c->sqlerr);
	c->deletes = xrealloc(c->deletes, (c->ndeletes + 1) * sizeof *c->deletes);
	c->deletes[c->ndeletes++] = xstrdup(domain);
}

/* Forget the queued single deletes. */
static void
cache_deletes_free(struct cache *c)
{
	size_t	i;

	for (i = 0; i < c->ndeletes; i++)
		free(c->deletes[i]);
	free(c->deletes);
	c->deletes = NULL;
	c->ndeletes = 0;
}

int
cache_remove(struct cache *c, const char *domain)
{
	struct cache_entry	*e;

	if ((e = htab_get(c->index, domain)) == NULL)
		return (-1);
	cache_delete_row(c, e->domain);
	htab_del(c->index, e->domain);
	cache_undirty(c, e);
	cache_entry_free(e);
	return (0);
}

static int
cache_free_cb(const char *key, void *value, void *arg)
{
	struct cache_entry	*e = value;

	cache_entry_free(e);
	return (0);
}

/* Free every entry and the index. */
static void
cache_free_entries(struct cache *c)
{
	htab_foreach(c->index, cache_free_cb, NULL);
	htab_free(c->index);
	c->index = NULL;
	c->dirty = NULL;
	c->ndirty = 0;
}

void
cache_remove_all(struct cache *c)
{
	cache_free_entries(c);
	c->index = htab_new();
	if (!cache_writable(c))
		return;
	cache_deletes_free(c);
	c->pending_delete_all = 0;
	if (cache_step(c, c->delete_all) == 0)
		return;
	log_debug("cache file=%s delete-all failed error=\"%s\", retrying "
	    "at next flush", c->path, c->sqlerr);
	c->pending_delete_all = 1;
}

size_t
cache_count(const struct cache *c)
{
	return (htab_count(c->index));
}

struct cache_visit {
	int	 (*fn)(struct cache_entry *, void *);
	void	  *arg;
};

static int
cache_visit_cb(const char *key, void *value, void *arg)
{
	struct cache_visit	*v = arg;

	return (v->fn(value, v->arg));
}

void
cache_foreach(struct cache *c, int (*fn)(struct cache_entry *, void *),
    void *arg)
{
	struct cache_visit	v = { fn, arg };

	htab_foreach(c->index, cache_visit_cb, &v);
}

int
cache_persistent(const struct cache *c)
{
	return (cache_writable(c) && c->persistent);
}

const char *
cache_path(const struct cache *c)
{
	return (c->path);
}

const char *
cache_last_error(const struct cache *c)
{
	return (c->sqlerr);
}

/* The mx patterns joined with ':' (Exim list syntax); malloc'd. */
static char *
cache_mx_join(const struct sts_policy *p)
{
	char	*s, *cp;
	size_t	 i, len = 1;

	for (i = 0; i < p->nmx; i++)
		len += strlen(p->mx[i]) + 1;
	cp = s = xmalloc(len);
	*cp = '\0';
	for (i = 0; i < p->nmx; i++) {
		if (i > 0)
			*cp++ = ':';
		len = strlen(p->mx[i]);
		memcpy(cp, p->mx[i], len + 1);
		cp += len;
	}
	return (s);
}

/*
 * A policy body for a policy that has no text (built by hand rather than
 * parsed): the same fields, so that it parses back equal.  malloc'd.
 */
static char *
cache_policy_body(const struct sts_policy *p, size_t *lenp)
{
	FILE	*f;
	char	*s = NULL;
	size_t	 i;

	if ((f = open_memstream(&s, lenp)) == NULL)
		fatal("open_memstream");
	fprintf(f, "version: STSv1\r\nmode: %s\r\n", sts_mode_name(p->mode));
	for (i = 0; i < p->nmx; i++)
		fprintf(f, "mx: %s\r\n", p->mx[i]);
	fprintf(f, "max_age: %u\r\n", (unsigned)p->max_age);
	if (fclose(f) != 0)
		fatal("open_memstream");
	return (s);
}

/* Bind text, or NULL for an empty string. */
static int
cache_bind_str(sqlite3_stmt *st, int col, const char *s)
{
	if (s == NULL || *s == '\0')
		return (sqlite3_bind_null(st, col + 1));
	return (sqlite3_bind_text(st, col + 1, s, -1, SQLITE_STATIC));
}

static int
cache_bind_int(sqlite3_stmt *st, int col, sqlite3_int64 v)
{
	return (sqlite3_bind_int64(st, col + 1, v));
}

/* Bind the policy columns: all NULL when there is no policy. */
static int
cache_bind_policy(sqlite3_stmt *st, const struct sts_policy *p)
{
	char	*body;
	size_t	 len;
	int	 bad = 0;

	if (p == NULL) {
		bad |= sqlite3_bind_null(st, COL_POLICY_TEXT + 1);
		bad |= sqlite3_bind_null(st, COL_MODE + 1);
		bad |= sqlite3_bind_null(st, COL_MAX_AGE + 1);
		bad |= sqlite3_bind_null(st, COL_MX + 1);
		return (bad);
	}
	if (p->text != NULL) {
		if (p->textlen > INT_MAX)
			return (SQLITE_TOOBIG);
		bad |= sqlite3_bind_text(st, COL_POLICY_TEXT + 1, p->text,
		    (int)p->textlen, SQLITE_STATIC);
	} else {
		body = cache_policy_body(p, &len);
		bad |= sqlite3_bind_text(st, COL_POLICY_TEXT + 1, body,
		    (int)len, free);
	}
	bad |= sqlite3_bind_text(st, COL_MODE + 1, sts_mode_name(p->mode), -1,
	    SQLITE_STATIC);
	bad |= cache_bind_int(st, COL_MAX_AGE, p->max_age);
	bad |= sqlite3_bind_text(st, COL_MX + 1, cache_mx_join(p), -1, free);
	return (bad);
}

/* Bind every column of e to the upsert; non-zero if a bind failed. */
static int
cache_bind_entry(sqlite3_stmt *st, const struct cache_entry *e)
{
	int	bad = 0;

	bad |= sqlite3_bind_text(st, COL_DOMAIN + 1, e->domain, -1,
	    SQLITE_STATIC);
	bad |= cache_bind_str(st, COL_POLICY_ID, e->policy_id);
	bad |= cache_bind_policy(st, e->policy);
	bad |= cache_bind_int(st, COL_FETCHED_AT, e->fetched_at);
	bad |= cache_bind_int(st, COL_EXPIRES_AT, cache_entry_expires(e));
	bad |= cache_bind_int(st, COL_TXT_CHECKED_AT, e->txt_checked_at);
	bad |= cache_bind_int(st, COL_TXT_TTL, e->txt_ttl);
	bad |= sqlite3_bind_text(st, COL_STATUS + 1,
	    cache_status_name(e->status), -1, SQLITE_STATIC);
	bad |= sqlite3_bind_text(st, COL_REASON + 1, e->reason, -1,
	    SQLITE_STATIC);
	bad |= sqlite3_bind_text(st, COL_LAST_ERROR + 1, e->last_error, -1,
	    SQLITE_STATIC);
	bad |= cache_bind_int(st, COL_LAST_ERROR_AT, e->last_error_at);
	bad |= cache_bind_int(st, COL_RETRY_AT, e->retry_at);
	bad |= cache_bind_int(st, COL_FAILURES, e->failures);
	bad |= cache_bind_int(st, COL_REFRESH_AT, e->refresh_at);
	bad |= cache_bind_int(st, COL_LAST_QUERY_AT, e->last_query_at);
	bad |= cache_bind_int(st, COL_QUERIES, (sqlite3_int64)e->queries);
	return (bad);
}

/* Write one entry with the upsert inside the flush transaction. */
static int
cache_write_entry(struct cache *c, const struct cache_entry *e)
{
	if (cache_bind_entry(c->upsert, e) != 0) {
		cache_sqlerr(c);
		sqlite3_reset(c->upsert);
		sqlite3_clear_bindings(c->upsert);
		return (-1);
	}
	return (cache_step(c, c->upsert));
}

/* Run the queued deletes inside the flush transaction. */
static int
cache_write_deletes(struct cache *c)
{
	size_t	i;

	if (c->pending_delete_all && cache_step(c, c->delete_all) != 0)
		return (-1);
	for (i = 0; i < c->ndeletes; i++) {
		sqlite3_bind_text(c->delete_one, 1, c->deletes[i], -1,
		    SQLITE_STATIC);
		if (cache_step(c, c->delete_one) != 0)
			return (-1);
	}
	return (0);
}

/* Write at most max dirty entries (0: all) in one transaction. */
static int
cache_flush_n(struct cache *c, size_t max)
{
	struct cache_entry	*e, *next, *stop;
	size_t			 n = c->ndirty, i;

	if (!cache_writable(c))
		return (0);
	if (c->dirty == NULL && c->ndeletes == 0 && !c->pending_delete_all)
		return (0);
	if (cache_exec(c, "BEGIN IMMEDIATE") != 0)
		goto fail;
	if (cache_write_deletes(c) != 0)
		goto fail;
	for (e = c->dirty, i = 0; e != NULL && (max == 0 || i < max);
	    e = e->dirty_next, i++) {
		if (cache_write_entry(c, e) != 0)
			goto fail;
	}
	stop = e;
	if (cache_exec(c, "COMMIT") != 0)
		goto fail;

	for (e = c->dirty; e != stop; e = next) {
		next = e->dirty_next;
		e->dirty = 0;
		e->dirty_next = NULL;
		c->ndirty--;
	}
	c->dirty = stop;
	n -= c->ndirty;
	cache_deletes_free(c);
	c->pending_delete_all = 0;
	if (!c->persistent)
		log_info("cache file=%s writes work again written=%zu", c->path,
		    n);
	c->persistent = 1;
	return (0);

fail:
	cache_rollback(c);
	if (c->persistent)
		log_warnx("cache file=%s write failed error=\"%s\" dirty=%zu, "
		    "keeping entries in memory, retrying later", c->path,
		    c->sqlerr, n);
	else
		log_debug("cache file=%s write failed again error=\"%s\" "
		    "dirty=%zu", c->path, c->sqlerr, n);
	c->persistent = 0;
	return (-1);
}

int
cache_flush(struct cache *c)
{
	return (cache_flush_n(c, 0));
}

int
cache_flush_step(struct cache *c)
{
	return (cache_flush_n(c, CACHE_FLUSH_STEP));
}

/* Copy a text column into a fixed buffer ("" for NULL); truncates. */
static void
cache_col_str(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char	*s = sqlite3_column_text(st, col);

	snprintf(buf, len, "%s", s != NULL ? (const char *)s : "");
}

static sqlite3_int64
cache_col_clamp(sqlite3_stmt *st, int col, sqlite3_int64 max)
{
	sqlite3_int64	v = sqlite3_column_int64(st, col);

	return (v < 0 ? 0 : v > max ? max : v);
}

/*
 * Parse the stored policy text of a row into e.  A row whose text no
 * longer parses keeps every other field and loses the policy, its id and
 * its fetch time, so that the resolver discovers it again.
 */
static void
cache_load_policy(struct cache *c, struct cache_entry *e, sqlite3_stmt *st)
{
	struct sts_diag		 diag;
	struct sts_policy	*p = NULL;
	const char		*text, *why = "policy-invalid";
	const unsigned char	*id;
	size_t			 i, len;

	text = (const char *)sqlite3_column_text(st, COL_POLICY_TEXT);
	len = (size_t)sqlite3_column_bytes(st, COL_POLICY_TEXT);
	id = sqlite3_column_text(st, COL_POLICY_ID);
	if (text == NULL)
		return;
	memset(&diag, 0, sizeof diag);
	if (len > POLICY_MAX)
		why = "policy-too-long";
	else if (id != NULL && strlen((const char *)id) > STS_ID_MAX)
		why = "id-too-long";
	else if (sts_policy_parse(text, len, &p, &diag) == 0 && p != NULL) {
		e->policy = p;
		return;
	} else {
		for (i = 0; i < diag.n; i++) {
			if (diag.f[i].error && diag.f[i].code != NULL) {
				why = diag.f[i].code;
				break;
			}
		}
	}
	log_warnx("cache file=%s domain=%s stored policy dropped reason=%s, "
	    "keeping metadata, will discover again", c->path, e->domain, why);
	e->policy_id[0] = '\0';
	e->fetched_at = 0;
	cache_dirty(c, e);
}

/* Turn one row of domains into an entry. */
static void
cache_load_row(struct cache *c, sqlite3_stmt *st)
{
	struct cache_entry	*e;
	const char		*domain, *status;
	size_t			 len;
	int			 s;

	domain = (const char *)sqlite3_column_text(st, COL_DOMAIN);
	len = domain != NULL ? strlen(domain) : 0;
	if (len == 0 || len > DOMAIN_MAX || htab_get(c->index, domain)) {
		log_warnx("cache file=%s row skipped reason=domain-invalid "
		    "length=%zu", c->path, len);
		return;
	}
	e = cache_entry_new(c, domain);
	cache_col_str(st, COL_POLICY_ID, e->policy_id, sizeof e->policy_id);
	e->fetched_at = cache_col_clamp(st, COL_FETCHED_AT, CACHE_TIME_MAX);
	e->txt_checked_at = cache_col_clamp(st, COL_TXT_CHECKED_AT,
	    CACHE_TIME_MAX);
	e->txt_ttl = cache_col_clamp(st, COL_TXT_TTL, UINT32_MAX);
	status = (const char *)sqlite3_column_text(st, COL_STATUS);
	if ((s = cache_status_parse(status != NULL ? status : "")) == -1) {
		log_warnx("cache file=%s domain=%s status unknown, taking it "
		    "as failed", c->path, domain);
		s = CACHE_FAILED;
	}
	e->status = s;
	cache_col_str(st, COL_REASON, e->reason, sizeof e->reason);
	cache_col_str(st, COL_LAST_ERROR, e->last_error, sizeof e->last_error);
	e->last_error_at = cache_col_clamp(st, COL_LAST_ERROR_AT,
	    CACHE_TIME_MAX);
	e->retry_at = cache_col_clamp(st, COL_RETRY_AT, CACHE_TIME_MAX);
	e->failures = cache_col_clamp(st, COL_FAILURES, UINT_MAX);
	e->refresh_at = cache_col_clamp(st, COL_REFRESH_AT, CACHE_TIME_MAX);
	e->last_query_at = cache_col_clamp(st, COL_LAST_QUERY_AT,
	    CACHE_TIME_MAX);
	e->queries = (uint64_t)sqlite3_column_int64(st, COL_QUERIES);
	cache_load_policy(c, e, st);
}

/* Load every row; 0 or -1 with the message kept. */
static int
cache_load(struct cache *c)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(c->db, "SELECT " CACHE_COLUMNS " FROM domains",
	    -1, &st, NULL) != SQLITE_OK) {
		cache_sqlerr(c);
		return (-1);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cache_load_row(c, st);
	if (rc != SQLITE_DONE)
		cache_sqlerr(c);
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Run a query returning one integer (0 when NULL); -1 on error. */
static int
cache_query_int(struct cache *c, const char *sql, sqlite3_int64 *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		cache_sqlerr(c);
		return (-1);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		cache_sqlerr(c);
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW ? 0 : -1);
}

/*
 * Check the schema version.  A file without any table is empty: version 1
 * is created there when create is set, else 1 is returned.  0 when the
 * version is one this code reads, -1 with *err set otherwise.
 */
static int
cache_schema(struct cache *c, int create, char **err)
{
	sqlite3_int64	n, version;

	if (cache_query_int(c, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'schema_version'", &n) != 0)
		goto sqlfail;
	if (n == 0) {
		if (cache_query_int(c, "SELECT count(*) FROM sqlite_master",
		    &n) != 0)
			goto sqlfail;
		if (n != 0) {
			xasprintf(err, "cache %s: not an mtastsd cache (no "
			    "schema_version table)", c->path);
			return (-1);
		}
		if (!create)
			return (1);
		if (cache_exec(c, cache_schema_v1) != 0)
			goto sqlfail;
		log_info("cache file=%s created schema_version=%d", c->path,
		    CACHE_SCHEMA_VERSION);
		return (0);
	}
	if (cache_query_int(c, "SELECT coalesce(max(version), 0) FROM "
	    "schema_version", &version) != 0)
		goto sqlfail;
	if (version > CACHE_SCHEMA_VERSION) {
		xasprintf(err, "cache %s: schema version %lld is newer than "
		    "this mtastsd supports (%d); upgrade mtastsd or move the "
		    "file away", c->path, (long long)version,
		    CACHE_SCHEMA_VERSION);
		return (-1);
	}
	if (version < 1) {
		xasprintf(err, "cache %s: invalid schema version %lld", c->path,
		    (long long)version);
		return (-1);
	}
	return (0);

sqlfail:
	xasprintf(err, "cache %s: cannot read schema: %s", c->path, c->sqlerr);
	return (-1);
}

/* Prepare one statement kept for the life of the cache. */
static int
cache_prepare_one(struct cache *c, const char *sql, sqlite3_stmt **stp)
{
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stp,
	    NULL) != SQLITE_OK) {
		cache_sqlerr(c);
		return (-1);
	}
	return (0);
}

/* Prepare the upsert and the deletes of a writable cache. */
static int
cache_prepare(struct cache *c)
{
	if (cache_prepare_one(c, "INSERT OR REPLACE INTO domains ("
	    CACHE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	    "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)", &c->upsert) != 0)
		return (-1);
	if (cache_prepare_one(c, "DELETE FROM domains WHERE domain = ?1",
	    &c->delete_one) != 0)
		return (-1);
	return (cache_prepare_one(c, "DELETE FROM domains", &c->delete_all));
}

/* Create the directories above path, mode CACHE_DIR_MODE (mkdir -p). */
static int
cache_mkdirs(const char *path, char **err)
{
	char	*dir, *cp;
	int	 rc = 0, last;

	dir = xstrdup(path);
	if ((cp = strrchr(dir, '/')) == NULL || cp == dir) {
		free(dir);
		return (0);
	}
	*cp = '\0';
	for (cp = dir + 1;; cp++) {
		if (*cp != '/' && *cp != '\0')
			continue;
		last = *cp == '\0';
		*cp = '\0';
		if (mkdir(dir, CACHE_DIR_MODE) == -1 && errno != EEXIST) {
			xasprintf(err, "cache %s: cannot create directory %s: "
			    "%s", path, dir, strerror(errno));
			rc = -1;
			break;
		}
		if (last)
			break;
		*cp = '/';
	}
	free(dir);
	return (rc);
}

/* Set WAL and synchronous=NORMAL on a writable connection. */
static int
cache_pragmas(struct cache *c)
{
	sqlite3_stmt		*st;
	const unsigned char	*mode;
	int			 rc;

	if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &st,
	    NULL) != SQLITE_OK) {
		cache_sqlerr(c);
		return (-1);
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mode = sqlite3_column_text(st, 0);
		if (mode == NULL || strcmp((const char *)mode, "wal") != 0)
			log_warnx("cache file=%s journal_mode=%s (not wal), "
			    "readers may wait for writes", c->path,
			    mode != NULL ? (const char *)mode : "?");
	} else
		cache_sqlerr(c);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return (-1);
	return (cache_exec(c, "PRAGMA synchronous=NORMAL"));
}

/* Free the SQLite side of a cache. */
static void
cache_close_db(struct cache *c)
{
	sqlite3_finalize(c->upsert);
	sqlite3_finalize(c->delete_one);
	sqlite3_finalize(c->delete_all);
	c->upsert = c->delete_one = c->delete_all = NULL;
	if (c->db != NULL && sqlite3_close(c->db) != SQLITE_OK)
		log_warnx("cache file=%s close failed error=\"%s\"", c->path,
		    sqlite3_errmsg(c->db));
	c->db = NULL;
}

/* "file:PATH?immutable=1", PATH escaped as a URI path; malloc'd. */
static char *
cache_immutable_uri(const char *path)
{
	char	*uri, *cp;

	cp = uri = xmalloc(strlen(path) * 3 + sizeof "file:?immutable=1");
	cp += sprintf(cp, "file:");
	for (; *path != '\0'; path++) {
		if (*path == '?' || *path == '#' || *path == '%')
			cp += sprintf(cp, "%%%02X", (unsigned char)*path);
		else
			*cp++ = *path;
	}
	strcpy(cp, "?immutable=1");
	return (uri);
}

/*
 * Open the file and load it into c; 0, or -1 with *err set.  The schema
 * is checked before anything is written, so a file that is not ours (or
 * is newer) is left exactly as it was.  immutable (read-only only) tells
 * SQLite nobody changes the file, so it needs no -shm file beside it.
 */
static int
cache_open_db(struct cache *c, int immutable, char **err)
{
	char	*uri = NULL;
	int	 flags, rc;

	if (c->readonly)
		flags = SQLITE_OPEN_READONLY;
	else
		flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (immutable) {
		uri = cache_immutable_uri(c->path);
		flags |= SQLITE_OPEN_URI;
	}
	rc = sqlite3_open_v2(uri != NULL ? uri : c->path, &c->db, flags, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		cache_sqlerr(c);
		xasprintf(err, "cache %s: cannot open: %s", c->path, c->sqlerr);
		return (-1);
	}
	sqlite3_busy_timeout(c->db, CACHE_BUSY_TIMEOUT_MS);
	if (!c->readonly && sqlite3_db_readonly(c->db, "main") == 1) {
		xasprintf(err, "cache %s: file is not writable", c->path);
		return (-1);
	}
	if ((rc = cache_schema(c, 0, err)) == -1)
		return (-1);
	if (rc == 1 && c->readonly) {
		xasprintf(err, "cache %s: empty file, no cache schema yet",
		    c->path);
		return (-1);
	}
	if (!c->readonly && cache_pragmas(c) != 0) {
		xasprintf(err, "cache %s: cannot set up: %s", c->path,
		    c->sqlerr);
		return (-1);
	}

	if (cache_exec(c, c->readonly ? "BEGIN" : "BEGIN IMMEDIATE") != 0) {
		xasprintf(err, "cache %s: cannot lock: %s", c->path, c->sqlerr);
		return (-1);
	}
	if ((rc = cache_schema(c, !c->readonly, err)) != 0) {
		if (rc == 1)
			xasprintf(err, "cache %s: empty file, no cache schema "
			    "yet", c->path);
		goto fail;
	}
	if (cache_load(c) != 0) {
		xasprintf(err, "cache %s: cannot load: %s", c->path, c->sqlerr);
		goto fail;
	}
	if (cache_exec(c, "COMMIT") != 0) {
		xasprintf(err, "cache %s: cannot commit: %s", c->path,
		    c->sqlerr);
		goto fail;
	}
	if (!c->readonly && cache_prepare(c) != 0) {
		xasprintf(err, "cache %s: cannot prepare: %s", c->path,
		    c->sqlerr);
		return (-1);
	}
	return (0);

fail:
	cache_rollback(c);
	return (-1);
}

struct cache *
cache_open(const char *path, int readonly, char **err)
{
	struct cache	*c;
	struct stat	 sb;
	int		 rc;

	*err = NULL;
	if (*path == '\0') {
		xasprintf(err, "cache: empty path");
		return (NULL);
	}
	if (stat(path, &sb) == -1) {
		if (errno != ENOENT || readonly) {
			xasprintf(err, "cache %s: %s", path, strerror(errno));
			return (NULL);
		}
		if (cache_mkdirs(path, err) != 0)
			return (NULL);
	} else if (!S_ISREG(sb.st_mode)) {
		xasprintf(err, "cache %s: not a regular file", path);
		return (NULL);
	}

	c = cache_new();
	c->path = xstrdup(path);
	c->readonly = readonly;
	rc = cache_open_db(c, 0, err);
	if (rc != 0 && readonly && c->db != NULL &&
	    sqlite3_errcode(c->db) == SQLITE_CANTOPEN) {
		/*
		 * A WAL file in a directory we cannot write (a read-only
		 * file system): SQLite cannot create the -shm file that a
		 * plain read-only open needs.  Nobody can change the file
		 * there either, so read it as immutable.
		 */
		cache_close_db(c);
		cache_free_entries(c);
		c->index = htab_new();
		free(*err);
		*err = NULL;
		rc = cache_open_db(c, 1, err);
	}
	if (rc != 0) {
		cache_close_db(c);
		cache_free_entries(c);
		free(c->path);
		free(c);
		return (NULL);
	}
	c->persistent = 1;
	log_debug("cache file=%s opened readonly=%d entries=%zu dirty=%zu",
	    path, readonly, cache_count(c), c->ndirty);
	return (c);
}

/* Write what is dirty, close the file and free everything. */
void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	if (cache_writable(c) && cache_flush(c) != 0)
		log_warnx("cache file=%s closing with unwritten=%zu "
		    "error=\"%s\", those changes are lost", c->path, c->ndirty,
		    c->sqlerr);
	cache_close_db(c);
	cache_free_entries(c);
	cache_deletes_free(c);
	free(c->path);
	free(c);
}
