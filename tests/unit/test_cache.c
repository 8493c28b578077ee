/*
 * test_cache.c: the policy cache.  Memory index, SQLite persistence (every
 * field survives a reopen), the schema as a documented interface (raw SQL
 * and the Exim query of doc/cache-schema.md), refusal of files that are
 * not ours, and writes that fail and recover (BEHAVIOUR.md "States",
 * RFC8461-CHECKLIST E33).
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cache.h"
#include "log.h"
#include "sts.h"
#include "util.h"
#include "tap.h"

#define BIG_COUNT	10000	/* entries in the timing case */
#define NOBODY_ID	65534	/* uid/gid for the read-only directory case */

static char	tmpdir[] = "/tmp/test_cache.XXXXXX";

static const char *body_enforce =
    "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\n"
    "mx: *.example.net\r\nmax_age: 604800\r\n";
static const char *body_testing =
    "version: STSv1\nmode: testing\nmx: mail.example.org\nmax_age: 86400\n";
static const char *body_none =
    "version: STSv1\r\nmode: none\r\nmax_age: 0\r\n";

/* A path inside the test directory (static buffer, rotated). */
static const char *
tpath(const char *name)
{
	static char	buf[4][512];
	static int	i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
	return (buf[i]);
}

static struct sts_policy *
policy(const char *body)
{
	struct sts_policy	*p = NULL;

	if (sts_policy_parse(body, strlen(body), &p, NULL) != 0 || p == NULL)
		fatalx("test policy does not parse: %s", body);
	return (p);
}

/* Open a cache that must open. */
static struct cache *
open_ok(const char *path, int readonly)
{
	struct cache	*c;
	char		*err = NULL;

	if ((c = cache_open(path, readonly, &err)) == NULL)
		fatalx("cache_open %s: %s", path, err);
	return (c);
}

/* Open a cache that must fail; returns the error (malloc'd). */
static char *
open_fails(const char *path, int readonly)
{
	struct cache	*c;
	char		*err = NULL;

	if ((c = cache_open(path, readonly, &err)) != NULL) {
		cache_close(c);
		return (NULL);
	}
	return (err != NULL ? err : xstrdup("(no message)"));
}

/* Run SQL on the file through a separate connection, returning one integer. */
static long long
sql_int(const char *path, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 v = -999;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fatalx("sql_int open %s", path);
	sqlite3_busy_timeout(db, 1000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fatalx("sql_int %s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (v);
}

/* One text value ("(null)" for NULL, "(no row)" for none); static buffer. */
static const char *
sql_text(const char *path, const char *sql)
{
	static char	 buf[4096];
	sqlite3		*db;
	sqlite3_stmt	*st;
	const char	*s;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fatalx("sql_text open %s", path);
	sqlite3_busy_timeout(db, 1000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fatalx("sql_text %s: %s", sql, sqlite3_errmsg(db));
	snprintf(buf, sizeof buf, "(no row)");
	if (sqlite3_step(st) == SQLITE_ROW) {
		s = (const char *)sqlite3_column_text(st, 0);
		snprintf(buf, sizeof buf, "%s", s != NULL ? s : "(null)");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (buf);
}

/* Run SQL that writes, through a separate connection. */
static void
sql_exec(const char *path, const char *sql)
{
	sqlite3	*db;
	char	*msg = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		fatalx("sql_exec open %s", path);
	sqlite3_busy_timeout(db, 1000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fatalx("sql_exec %s: %s", sql, msg);
	sqlite3_close(db);
}

static int
has(const char *s, const char *needle)
{
	return (s != NULL && strstr(s, needle) != NULL);
}

/* Give an entry distinct values in every field, derived from i. */
static void
fill(struct cache *c, struct cache_entry *e, long i)
{
	e->txt_checked_at = 1700000000 + i;
	e->txt_ttl = (uint32_t)(300 + i);
	e->status = (enum cache_status)(i % 3);
	snprintf(e->reason, sizeof e->reason, "reason-%ld", i);
	snprintf(e->last_error, sizeof e->last_error, "error %ld: it's \"quoted\"",
	    i);
	e->last_error_at = 1700000100 + i;
	e->retry_at = 1700000200 + i;
	e->failures = (unsigned)(i % 7);
	e->refresh_at = 1700000300 + i;
	e->last_query_at = 1700000400 + i;
	e->queries = (uint64_t)i * 1000003;
	cache_dirty(c, e);
}

/* The name of the first field where a and b differ, or NULL. */
static const char *
entry_diff(const struct cache_entry *a, const struct cache_entry *b)
{
	if (strcmp(a->domain, b->domain) != 0)
		return ("domain");
	if (strcmp(a->policy_id, b->policy_id) != 0)
		return ("policy_id");
	if ((a->policy == NULL) != (b->policy == NULL))
		return ("policy presence");
	if (a->policy != NULL && (!sts_policy_equal(a->policy, b->policy) ||
	    a->policy->textlen != b->policy->textlen ||
	    memcmp(a->policy->text, b->policy->text, a->policy->textlen) != 0 ||
	    a->policy->nlines != b->policy->nlines))
		return ("policy");
	if (a->fetched_at != b->fetched_at)
		return ("fetched_at");
	if (a->txt_checked_at != b->txt_checked_at)
		return ("txt_checked_at");
	if (a->txt_ttl != b->txt_ttl)
		return ("txt_ttl");
	if (a->status != b->status)
		return ("status");
	if (strcmp(a->reason, b->reason) != 0)
		return ("reason");
	if (strcmp(a->last_error, b->last_error) != 0)
		return ("last_error");
	if (a->last_error_at != b->last_error_at)
		return ("last_error_at");
	if (a->retry_at != b->retry_at)
		return ("retry_at");
	if (a->failures != b->failures)
		return ("failures");
	if (a->refresh_at != b->refresh_at)
		return ("refresh_at");
	if (a->last_query_at != b->last_query_at)
		return ("last_query_at");
	if (a->queries != b->queries)
		return ("queries");
	return (NULL);
}

static void
test_status_names(void)
{
	static const struct {
		enum cache_status	 s;
		const char		*name;
	} t[] = {
		{ CACHE_OK, "ok" },
		{ CACHE_NO_RECORD, "no-record" },
		{ CACHE_FAILED, "failed" },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		is_str(cache_status_name(t[i].s), t[i].name,
		    "status name %d is %s", (int)t[i].s, t[i].name);
}

static void
test_memory(void)
{
	struct cache		*c = cache_memory();
	struct cache_entry	*e;

	is_int(cache_persistent(c), 0, "memory: not persistent");
	ok(cache_path(c) == NULL, "memory: no path");
	is_int((long)cache_count(c), 0, "memory: empty");
	ok(cache_get(c, "example.com") == NULL, "memory: get misses");
	e = cache_add(c, "example.com");
	ok(e != NULL && strcmp(e->domain, "example.com") == 0,
	    "memory: add creates the entry");
	ok(cache_add(c, "example.com") == e, "memory: add finds the same entry");
	ok(cache_get(c, "example.com") == e, "memory: get finds it");
	cache_set_policy(c, e, policy(body_enforce), "id1", 1000);
	is_int((long)cache_dirty_count(c), 0, "memory: nothing to write");
	is_int(cache_flush(c), 0, "memory: flush is 0");
	is_int((long)cache_count(c), 1, "memory: count 1");
	is_int(cache_remove(c, "example.com"), 0, "memory: remove found");
	is_int(cache_remove(c, "example.com"), -1, "memory: remove missing");
	ok(cache_get(c, "example.com") == NULL, "memory: gone");
	cache_add(c, "a.example");
	cache_add(c, "b.example");
	cache_remove_all(c);
	is_int((long)cache_count(c), 0, "memory: remove_all empties");
	cache_close(c);
}

static void
test_add_limits(void)
{
	struct cache	*c = cache_memory();
	char		 name[DOMAIN_MAX + 2];

	memset(name, 'a', sizeof name);
	name[DOMAIN_MAX + 1] = '\0';
	ok(cache_add(c, name) == NULL, "add: %d-byte domain refused",
	    DOMAIN_MAX + 1);
	name[DOMAIN_MAX] = '\0';
	ok(cache_add(c, name) != NULL, "add: %d-byte domain accepted",
	    DOMAIN_MAX);
	ok(cache_add(c, "") == NULL, "add: empty domain refused");
	is_int((long)cache_count(c), 1, "add: one entry");
	cache_close(c);
}

/* E33: never apply a policy past fetched_at + max_age. */
static void
test_fresh_boundary(void)
{
	static const struct {
		time_t	now;
		int	fresh;
	} t[] = {
		{ 999, 1 },		/* before the fetch: still inside */
		{ 1000, 1 },
		{ 1000 + 604799, 1 },	/* last second */
		{ 1000 + 604800, 0 },	/* exactly fetched_at + max_age */
		{ 1000 + 604801, 0 },
	};
	struct cache		*c = cache_memory();
	struct cache_entry	*e = cache_add(c, "example.com");
	size_t			 i;

	is_int(cache_entry_fresh(e, 1000), 0, "E33 fresh: no policy, not fresh");
	is_int((long)cache_entry_expires(e), 0, "E33 expires: 0 without policy");
	cache_set_policy(c, e, policy(body_enforce), "id1", 1000);
	is_int((long)cache_entry_expires(e), 1000 + 604800,
	    "E33 expires: fetched_at + max_age");
	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		is_int(cache_entry_fresh(e, t[i].now), t[i].fresh,
		    "E33 fresh at %lld: %d", (long long)t[i].now, t[i].fresh);
	cache_set_policy(c, e, policy(body_none), "id2", 5000);
	is_int(cache_entry_fresh(e, 5000), 0,
	    "F11 max_age 0: not fresh even at fetched_at");
	cache_close(c);
}

static void
test_set_clear_policy(void)
{
	struct cache		*c = cache_memory();
	struct cache_entry	*e = cache_add(c, "example.com");
	struct sts_policy	*p1 = policy(body_enforce), *p2;

	cache_set_policy(c, e, p1, "id1", 100);
	ok(e->policy == p1, "set_policy: installs the policy");
	is_str(e->policy_id, "id1", "set_policy: sets id");
	is_int((long)e->fetched_at, 100, "set_policy: sets fetched_at");
	cache_set_policy(c, e, p1, "id1b", 150);
	ok(e->policy == p1 && e->policy->max_age == 604800,
	    "set_policy: same policy again is kept, not freed");
	p2 = policy(body_testing);
	cache_set_policy(c, e, p2, "id2", 200);
	ok(e->policy == p2 && e->policy->mode == STS_MODE_TESTING,
	    "set_policy: replaces (old one freed)");
	is_str(e->policy_id, "id2", "set_policy: new id");
	e->status = CACHE_FAILED;
	e->queries = 42;
	cache_clear_policy(c, e);
	ok(e->policy == NULL, "clear_policy: policy gone");
	is_str(e->policy_id, "", "clear_policy: id gone with it");
	is_int((long)e->fetched_at, 0, "clear_policy: fetched_at 0");
	is_int(e->status, CACHE_FAILED, "clear_policy: status kept");
	is_int((long)e->queries, 42, "clear_policy: queries kept");
	cache_close(c);
}

static int
count_cb(struct cache_entry *e, void *arg)
{
	int	*n = arg;

	(*n)++;
	return (0);
}

static int
stop_cb(struct cache_entry *e, void *arg)
{
	int	*n = arg;

	return (++(*n) == 3);
}

static void
test_foreach(void)
{
	struct cache	*c = cache_memory();
	char		 name[32];
	int		 i, n = 0;

	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "d%d.example", i);
		cache_add(c, name);
	}
	cache_foreach(c, count_cb, &n);
	is_int(n, 10, "foreach: visits every entry");
	n = 0;
	cache_foreach(c, stop_cb, &n);
	is_int(n, 3, "foreach: stops on non-zero");
	cache_close(c);
}

/* cache_open creates the directories (0750), the file and schema v1. */
static void
test_create(void)
{
	static const char *columns =
	    "domain,policy_id,policy_text,mode,max_age,mx,fetched_at,"
	    "expires_at,txt_checked_at,txt_ttl,status,reason,last_error,"
	    "last_error_at,retry_at,failures,refresh_at,last_query_at,queries";
	const char	*path = tpath("new/sub/cache.db");
	struct cache	*c;
	struct stat	 sb;

	c = open_ok(path, 0);
	ok(c != NULL, "create: opens a path whose directories do not exist");
	is_str(cache_path(c), path, "create: cache_path");
	is_int(cache_persistent(c), 1, "create: persistent");
	is_int((long)cache_count(c), 0, "create: empty");
	ok(stat(tpath("new/sub"), &sb) == 0 && S_ISDIR(sb.st_mode),
	    "create: directory made");
	is_int(sb.st_mode & 07777, 0750, "create: directory mode 0750");
	ok(stat(path, &sb) == 0 && S_ISREG(sb.st_mode), "create: file made");
	is_int(sql_int(path, "SELECT version FROM schema_version"), 1,
	    "create: schema_version 1");
	is_int(sql_int(path, "SELECT count(*) FROM schema_version"), 1,
	    "create: one version row");
	is_str(sql_text(path, "PRAGMA journal_mode"), "wal",
	    "create: journal_mode wal");
	is_str(sql_text(path, "SELECT group_concat(name) FROM "
	    "(SELECT name FROM pragma_table_info('domains') ORDER BY cid)"),
	    columns, "create: domains has the documented columns in order");
	is_str(sql_text(path, "SELECT group_concat(name) FROM "
	    "pragma_table_info('domains') WHERE pk = 1"), "domain",
	    "create: domain is the primary key");
	cache_close(c);

	c = open_ok(path, 0);
	is_int((long)cache_count(c), 0, "create: reopen empty file");
	is_int(sql_int(path, "SELECT count(*) FROM schema_version"), 1,
	    "create: reopen adds no version row");
	cache_close(c);
}

/* Build the entries that test_reopen round-trips. */
static void
reopen_fill(struct cache *c)
{
	struct cache_entry	*e;
	char			 longname[DOMAIN_MAX + 1];

	e = cache_add(c, "a.example");
	cache_set_policy(c, e, policy(body_enforce), "20240101T000000", 1700000000);
	fill(c, e, 1);
	e->status = CACHE_OK;
	e->queries = UINT64_C(0x7fffffffffffffff) - 5;
	memset(e->last_error, 'x', sizeof e->last_error - 1);
	e->last_error[sizeof e->last_error - 1] = '\0';
	memset(e->reason, 'r', sizeof e->reason - 1);
	e->reason[sizeof e->reason - 1] = '\0';

	e = cache_add(c, "b.example");
	cache_set_policy(c, e, policy(body_testing), "b1", 4102444800LL);
	fill(c, e, 2);

	e = cache_add(c, "c.example");
	cache_set_policy(c, e, policy(body_none), "c1", 1700000999);
	fill(c, e, 3);
	e->txt_ttl = UINT32_MAX;
	e->failures = 4000000000u;

	e = cache_add(c, "d.example");
	fill(c, e, 4);
	e->status = CACHE_FAILED;
	snprintf(e->reason, sizeof e->reason, "fetch-timeout");
	snprintf(e->last_error, sizeof e->last_error,
	    "timeout after 10s; \xc3\xa9t\xc3\xa9 'x'");

	e = cache_add(c, "e.example");
	fill(c, e, 5);
	e->status = CACHE_NO_RECORD;

	memset(longname, 'l', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	cache_add(c, longname);		/* all defaults */

	e = cache_add(c, "noid.example");
	cache_set_policy(c, e, policy(body_enforce), "", 1700000000);
}

/* Every field of every entry survives close and reopen. */
static void
test_reopen(void)
{
	const char		*path = tpath("reopen.db");
	struct cache		*c, *m;
	struct cache_entry	*e, *f;
	const char		*names[] = { "a.example", "b.example",
	    "c.example", "d.example", "e.example", "noid.example", NULL };
	char			 longname[DOMAIN_MAX + 1];
	size_t			 i;

	c = open_ok(path, 0);
	reopen_fill(c);
	is_int((long)cache_dirty_count(c), 7, "reopen: 7 entries dirty");
	is_int(cache_flush(c), 0, "reopen: flush");
	is_int((long)cache_dirty_count(c), 0, "reopen: none dirty after flush");
	cache_close(c);

	/* The same entries built again in memory are the reference. */
	m = cache_memory();
	reopen_fill(m);
	c = open_ok(path, 0);
	is_int((long)cache_count(c), 7, "reopen: 7 entries loaded");
	is_int((long)cache_dirty_count(c), 0, "reopen: none dirty after load");
	memset(longname, 'l', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	names[6] = longname;
	for (i = 0; i < 7; i++) {
		e = cache_get(c, names[i]);
		f = cache_get(m, names[i]);
		ok(e != NULL, "reopen: %.20s present", names[i]);
		if (e != NULL)
			is_str(entry_diff(e, f), NULL,
			    "reopen: %.20s every field equal", names[i]);
	}
	e = cache_get(c, "a.example");
	ok(e->policy != cache_get(m, "a.example")->policy &&
	    e->policy->nmx == 2 && strcmp(e->policy->mx[0],
	    "mx1.example.com") == 0 && strcmp(e->policy->mx[1],
	    "*.example.net") == 0, "reopen: policy re-parsed (mx list)");
	is_int(e->policy->mode, STS_MODE_ENFORCE, "reopen: mode re-parsed");
	is_int(e->policy->max_age, 604800, "reopen: max_age re-parsed");
	is_str(e->policy->text, body_enforce, "reopen: text kept byte for byte");
	is_int((long)e->policy->nlines, 5, "reopen: lines re-parsed");
	is_int((long)cache_entry_expires(e), 1700000000 + 604800,
	    "reopen: expiry follows");
	cache_close(c);
	cache_close(m);
}

/* The derived columns readers (mtastsctl, Exim) rely on. */
static void
test_columns(void)
{
	static const struct {
		const char	*sql;
		const char	*want;
	} t[] = {
		{ "SELECT mode FROM domains WHERE domain='a.example'", "enforce" },
		{ "SELECT mx FROM domains WHERE domain='a.example'",
		  "mx1.example.com:*.example.net" },
		{ "SELECT max_age FROM domains WHERE domain='a.example'", "604800" },
		{ "SELECT policy_id FROM domains WHERE domain='a.example'",
		  "20240101T000000" },
		{ "SELECT fetched_at FROM domains WHERE domain='a.example'",
		  "1700000000" },
		{ "SELECT expires_at FROM domains WHERE domain='a.example'",
		  "1700604800" },
		{ "SELECT typeof(expires_at) FROM domains WHERE domain='a.example'",
		  "integer" },
		{ "SELECT status FROM domains WHERE domain='a.example'", "ok" },
		{ "SELECT mode FROM domains WHERE domain='b.example'", "testing" },
		{ "SELECT mode||'/'||mx FROM domains WHERE domain='c.example'",
		  "none/" },
		{ "SELECT status FROM domains WHERE domain='d.example'", "failed" },
		{ "SELECT reason FROM domains WHERE domain='d.example'",
		  "fetch-timeout" },
		{ "SELECT status FROM domains WHERE domain='e.example'",
		  "no-record" },
		{ "SELECT quote(policy_text)||quote(mode)||quote(mx)||"
		  "quote(max_age)||quote(policy_id)||expires_at FROM domains "
		  "WHERE domain='d.example'", "NULLNULLNULLNULLNULL0" },
		{ "SELECT quote(policy_id) FROM domains WHERE "
		  "domain='noid.example'", "NULL" },
		{ "SELECT queries FROM domains WHERE domain='b.example'", "2000006" },
	};
	const char	*path = tpath("reopen.db");
	size_t		 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		is_str(sql_text(path, t[i].sql), t[i].want, "column: %s",
		    t[i].sql);
}

/* The Exim lookup of doc/cache-schema.md, run as Exim would. */
#define EXIM_QUERY							\
	"SELECT mode||' '||mx FROM domains WHERE domain='%s' AND "	\
	"expires_at > strftime('%%s','now')"

static void
test_exim_query(void)
{
	const char		*path = tpath("exim.db");
	struct cache		*c;
	struct cache_entry	*e;
	char			 sql[512];
	time_t			 now = time(NULL);

	c = open_ok(path, 0);
	e = cache_add(c, "fresh.example");
	cache_set_policy(c, e, policy(body_enforce), "x1", now - 10);
	e = cache_add(c, "expired.example");
	cache_set_policy(c, e, policy(body_enforce), "x2", now - 604800 - 10);
	e = cache_add(c, "failed.example");
	e->status = CACHE_FAILED;
	is_int(cache_flush(c), 0, "exim: flush");

	snprintf(sql, sizeof sql, EXIM_QUERY, "fresh.example");
	is_str(sql_text(path, sql), "enforce mx1.example.com:*.example.net",
	    "exim: fresh policy answers mode and mx list");
	snprintf(sql, sizeof sql, EXIM_QUERY, "expired.example");
	is_str(sql_text(path, sql), "(no row)", "exim: expired policy, no row");
	snprintf(sql, sizeof sql, EXIM_QUERY, "failed.example");
	is_str(sql_text(path, sql), "(no row)", "exim: no policy, no row");
	snprintf(sql, sizeof sql, EXIM_QUERY, "unknown.example");
	is_str(sql_text(path, sql), "(no row)", "exim: unknown domain, no row");
	cache_close(c);
}

/* A stored policy that no longer parses: metadata kept, policy dropped. */
static void
test_bad_policy_text(void)
{
	const char		*path = tpath("badtext.db");
	struct cache		*c;
	struct cache_entry	*e;

	c = open_ok(path, 0);
	e = cache_add(c, "bad.example");
	cache_set_policy(c, e, policy(body_enforce), "id7", 1700000000);
	fill(c, e, 7);
	e = cache_add(c, "good.example");
	cache_set_policy(c, e, policy(body_testing), "id8", 1700000000);
	cache_close(c);

	sql_exec(path, "UPDATE domains SET policy_text='version: STSv9\n' "
	    "WHERE domain='bad.example'");
	c = open_ok(path, 0);
	e = cache_get(c, "bad.example");
	ok(e != NULL, "bad text: entry kept");
	ok(e->policy == NULL, "bad text: policy dropped");
	is_str(e->policy_id, "", "bad text: id dropped with it");
	is_int((long)e->fetched_at, 0, "bad text: fetched_at 0");
	is_int((long)e->queries, 7 * 1000003, "bad text: queries kept");
	is_str(e->reason, "reason-7", "bad text: reason kept");
	is_int((long)e->retry_at, 1700000207, "bad text: retry_at kept");
	is_int(e->dirty, 1, "bad text: marked dirty so the file is corrected");
	ok(cache_get(c, "good.example")->policy != NULL,
	    "bad text: other entry unaffected (F27)");
	is_int(cache_flush(c), 0, "bad text: flush");
	is_str(sql_text(path, "SELECT quote(policy_text)||quote(mode) FROM "
	    "domains WHERE domain='bad.example'"), "NULLNULL",
	    "bad text: file corrected");
	cache_close(c);
}

/* Rows edited by hand with odd values load without harm. */
static void
test_odd_rows(void)
{
	const char		*path = tpath("odd.db");
	struct cache		*c;
	struct cache_entry	*e;
	char			*err;

	c = open_ok(path, 0);
	e = cache_add(c, "odd.example");
	cache_set_policy(c, e, policy(body_enforce), "id1", 1000);
	e = cache_add(c, "longid.example");
	cache_set_policy(c, e, policy(body_enforce), "id2", 1000);
	cache_close(c);
	sql_exec(path, "UPDATE domains SET status='weird', "
	    "fetched_at=9223372036854775807, txt_ttl=-5, failures=-1, "
	    "retry_at=-100 WHERE domain='odd.example';"
	    "UPDATE domains SET policy_id='" "0123456789012345678901234567890123"
	    "' WHERE domain='longid.example';"
	    "INSERT INTO domains (domain) VALUES ('');");
	c = open_ok(path, 0);
	is_int((long)cache_count(c), 2, "odd rows: empty domain skipped");
	e = cache_get(c, "odd.example");
	is_int(e->status, CACHE_FAILED, "odd rows: unknown status is failed");
	is_int((long)e->fetched_at, 253402300799L,
	    "odd rows: huge time clamped (year 9999)");
	is_int((long)cache_entry_expires(e), 253402300799L + 604800,
	    "odd rows: expiry computed without overflow");
	is_int((long)e->txt_ttl, 0, "odd rows: negative ttl is 0");
	is_int((long)e->failures, 0, "odd rows: negative failures is 0");
	is_int((long)e->retry_at, 0, "odd rows: negative time is 0");
	e = cache_get(c, "longid.example");
	ok(e->policy == NULL && e->policy_id[0] == '\0',
	    "odd rows: over-long stored id drops the policy");
	cache_close(c);
	err = open_fails("", 0);
	ok(has(err, "empty path"), "empty path: refused");
	free(err);
}

/* A policy built by hand (no text) is stored as an equivalent body. */
static void
test_policy_without_text(void)
{
	const char		*path = tpath("notext.db");
	struct cache		*c;
	struct cache_entry	*e;
	struct sts_policy	*p;

	p = xcalloc(1, sizeof *p);
	p->mode = STS_MODE_ENFORCE;
	p->max_age = 86400;
	p->nmx = 2;
	p->mx = xcalloc(2, sizeof *p->mx);
	p->mx[0] = xstrdup("mx.example.com");
	p->mx[1] = xstrdup("*.example.org");
	c = open_ok(path, 0);
	e = cache_add(c, "hand.example");
	cache_set_policy(c, e, p, "h1", 1000);
	cache_close(c);
	c = open_ok(path, 0);
	e = cache_get(c, "hand.example");
	ok(e != NULL && e->policy != NULL && e->policy->mode == STS_MODE_ENFORCE &&
	    e->policy->max_age == 86400 && e->policy->nmx == 2 &&
	    strcmp(e->policy->mx[1], "*.example.org") == 0,
	    "no text: policy stored and parsed back equal");
	cache_close(c);
}

/* A schema newer than ours is refused, and the file left as it was. */
static void
test_schema_newer(void)
{
	const char	*path = tpath("newer.db");
	char		*err;

	sql_exec(path, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
	    "INSERT INTO schema_version VALUES (2);"
	    "CREATE TABLE domains (domain TEXT PRIMARY KEY, extra TEXT);");
	err = open_fails(path, 0);
	ok(err != NULL, "newer schema: refused");
	ok(has(err, "schema version 2 is newer") && has(err, "(1)"),
	    "newer schema: error says so (%s)", err ? err : "");
	free(err);
	err = open_fails(path, 1);
	ok(has(err, "schema version 2 is newer"),
	    "newer schema: readonly refused too");
	free(err);
	is_int(sql_int(path, "SELECT version FROM schema_version"), 2,
	    "newer schema: version untouched");
	is_str(sql_text(path, "PRAGMA journal_mode"), "delete",
	    "newer schema: journal mode untouched");
}

static void
test_schema_foreign(void)
{
	const char	*path = tpath("foreign.db");
	char		*err;

	sql_exec(path, "CREATE TABLE users (name TEXT);");
	err = open_fails(path, 0);
	ok(has(err, "not an mtastsd cache"), "foreign file: refused (%s)",
	    err ? err : "");
	free(err);
	is_int(sql_int(path, "SELECT count(*) FROM sqlite_master"), 1,
	    "foreign file: nothing created in it");

	path = tpath("badversion.db");
	sql_exec(path, "CREATE TABLE schema_version (version INTEGER);");
	err = open_fails(path, 0);
	ok(has(err, "invalid schema version 0"),
	    "empty schema_version: refused (%s)", err ? err : "");
	free(err);
}

/* Garbage bytes: a clear error, no crash, the file unchanged. */
static void
test_corrupt_garbage(void)
{
	const char	*path = tpath("garbage.db");
	char		 buf[8192], back[8192];
	char		*err;
	size_t		 i;
	FILE		*f;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (char)(i * 7 + 13);
	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(buf, 1, sizeof buf, f) != sizeof buf || fclose(f) != 0)
		fatal("write %s", path);
	err = open_fails(path, 0);
	ok(has(err, "not a database"), "garbage: error (%s)", err ? err : "");
	ok(has(err, path), "garbage: error names the file");
	free(err);
	err = open_fails(path, 1);
	ok(has(err, "not a database"), "garbage: readonly error too");
	free(err);
	if ((f = fopen(path, "r")) == NULL ||
	    fread(back, 1, sizeof back, f) != sizeof back)
		fatal("read %s", path);
	fclose(f);
	ok(memcmp(buf, back, sizeof buf) == 0, "garbage: file unchanged");
}

/* A real cache whose pages after the first are smashed. */
static void
test_corrupt_pages(void)
{
	const char		*path = tpath("smashed.db");
	struct cache		*c;
	struct cache_entry	*e;
	char			 name[64], junk[4096];
	char			*err;
	struct stat		 sb;
	int			 fd, i;

	c = open_ok(path, 0);
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof name, "d%d.example", i);
		e = cache_add(c, name);
		cache_set_policy(c, e, policy(body_enforce), "id", 1000);
	}
	cache_close(c);
	if (stat(path, &sb) != 0 || (fd = open(path, O_WRONLY)) == -1)
		fatal("open %s", path);
	memset(junk, 0xa5, sizeof junk);
	for (i = (int)sb.st_size / 2; i + 4096 <= sb.st_size; i += 4096) {
		if (pwrite(fd, junk, sizeof junk, i) != (ssize_t)sizeof junk)
			fatal("pwrite");
	}
	err = open_fails(path, 0);
	ok(has(err, "cannot load") && has(err, "malformed"),
	    "smashed data pages: error while loading (%s)", err ? err : "");
	free(err);
	for (i = 4096; i + 4096 <= sb.st_size; i += 4096) {
		if (pwrite(fd, junk, sizeof junk, i) != (ssize_t)sizeof junk)
			fatal("pwrite");
	}
	close(fd);
	err = open_fails(path, 0);
	ok(has(err, "malformed"), "smashed pages: error (%s)", err ? err : "");
	free(err);
}

/* A 0-byte file is an empty database: the daemon sets it up. */
static void
test_empty_file(void)
{
	const char	*path = tpath("empty.db");
	struct cache	*c;
	char		*err;
	int		 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		fatal("create %s", path);
	close(fd);
	err = open_fails(path, 1);
	ok(has(err, "empty file"), "empty file: readonly refused (%s)",
	    err ? err : "");
	free(err);
	c = open_ok(path, 0);
	is_int(sql_int(path, "SELECT version FROM schema_version"), 1,
	    "empty file: schema created");
	cache_close(c);
}

/* The part of test_readonly_dir that runs as an unprivileged user. */
static int
readonly_dir_child(void)
{
	char	*err;
	int	 r = 0;

	err = open_fails(tpath("ro/cache.db"), 0);
	if (has(err, "cannot open"))
		r |= 1;
	free(err);
	err = open_fails(tpath("ro/sub/cache.db"), 0);
	if (has(err, "cannot create directory") && has(err, "Permission denied"))
		r |= 2;
	free(err);
	return (r);
}

/* A directory we may not write: a clear error. */
static void
test_readonly_dir(void)
{
	struct stat	 sb;
	pid_t		 pid;
	int		 status;

	if (mkdir(tpath("ro"), 0555) == -1 || chmod(tpath("ro"), 0555) == -1)
		fatal("mkdir ro");
	if (geteuid() != 0) {
		is_int(readonly_dir_child(), 3, "read-only dir: errors");
		goto out;
	}
	/* root writes anywhere: test as nobody in a child. */
	chmod(tmpdir, 0755);
	fflush(stdout);
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		if (setgid(NOBODY_ID) == -1 || setuid(NOBODY_ID) == -1)
			_exit(100);
		_exit(readonly_dir_child());
	}
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 3,
	    "read-only dir: errors for the file and a directory (as nobody)");
	chmod(tmpdir, 0700);
out:
	ok(stat(tpath("ro/cache.db"), &sb) == -1 && errno == ENOENT,
	    "read-only dir: nothing created");
}

static void
test_not_regular(void)
{
	char	*err;

	if (mkdir(tpath("adir.db"), 0700) == -1)
		fatal("mkdir");
	err = open_fails(tpath("adir.db"), 0);
	ok(has(err, "not a regular file"), "directory as file: refused");
	free(err);
}

static void
test_readonly_missing(void)
{
	const char	*path = tpath("missing/cache.db");
	struct stat	 sb;
	char		*err;

	err = open_fails(path, 1);
	ok(has(err, "No such file"), "readonly missing: error (%s)",
	    err ? err : "");
	free(err);
	ok(stat(tpath("missing"), &sb) == -1, "readonly missing: no directory made");
}

/* mtastsctl reads while the daemon writes; neither blocks the other. */
static void
test_readonly_with_writer(void)
{
	const char		*path = tpath("shared.db");
	struct cache		*w, *r, *r2;
	struct cache_entry	*e;
	uint64_t		 t0;

	w = open_ok(path, 0);
	e = cache_add(w, "one.example");
	cache_set_policy(w, e, policy(body_enforce), "w1", 1000);
	is_int(cache_flush(w), 0, "readonly: writer flush");

	r = open_ok(path, 1);
	is_int((long)cache_count(r), 1, "readonly: sees the writer's row");
	e = cache_get(r, "one.example");
	ok(e != NULL && e->policy != NULL && strcmp(e->policy_id, "w1") == 0,
	    "readonly: entry with its policy");
	is_int(cache_persistent(r), 0, "readonly: not persistent");

	/* The reader changes things in memory only. */
	cache_add(r, "reader.example");
	is_int(cache_remove(r, "one.example"), 0, "readonly: remove in memory");
	is_int((long)cache_dirty_count(r), 0, "readonly: nothing queued");
	is_int(cache_flush(r), 0, "readonly: flush is a no-op");

	/* The writer is not blocked by the open reader. */
	e = cache_add(w, "two.example");
	t0 = util_mono_ms();
	is_int(cache_flush(w), 0, "readonly: writer flushes while reader open");
	ok(util_mono_ms() - t0 < CACHE_BUSY_TIMEOUT_MS,
	    "readonly: writer did not wait for the reader");
	cache_close(r);
	is_int(sql_int(path, "SELECT count(*) FROM domains"), 2,
	    "readonly: reader wrote nothing (one, two)");
	is_int(sql_int(path, "SELECT count(*) FROM domains WHERE "
	    "domain='reader.example'"), 0, "readonly: reader's add not in file");

	r2 = open_ok(path, 1);
	is_int((long)cache_count(r2), 2, "readonly: new reader sees both");
	cache_close(r2);
	cache_close(w);
}

/* cache_dirty links once; flush writes all dirty entries, and only them. */
static void
test_flush_batch(void)
{
	const char		*path = tpath("batch.db");
	struct cache		*c;
	struct cache_entry	*e;
	char			 name[64];
	int			 i;

	c = open_ok(path, 0);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "b%d.example", i);
		e = cache_add(c, name);
		fill(c, e, i);
		cache_dirty(c, e);
	}
	is_int((long)cache_dirty_count(c), 100,
	    "batch: 100 dirty (each linked once)");
	is_int(sql_int(path, "SELECT count(*) FROM domains"), 0,
	    "batch: nothing written before flush");
	is_int(cache_flush(c), 0, "batch: flush");
	is_int(sql_int(path, "SELECT count(*) FROM domains"), 100,
	    "batch: 100 rows after one flush");
	is_int((long)cache_dirty_count(c), 0, "batch: none dirty");
	is_int(cache_flush(c), 0, "batch: empty flush is 0");

	e = cache_get(c, "b5.example");
	e->queries = 777;		/* changed but not marked */
	cache_flush(c);
	is_int(sql_int(path, "SELECT queries FROM domains WHERE "
	    "domain='b5.example'"), 5 * 1000003,
	    "batch: an unmarked change is not written");
	cache_dirty(c, e);
	cache_dirty(c, e);
	is_int((long)cache_dirty_count(c), 1, "batch: marked twice, queued once");
	cache_flush(c);
	is_int(sql_int(path, "SELECT queries FROM domains WHERE "
	    "domain='b5.example'"), 777, "batch: marked change written");
	cache_close(c);
}

/* cache_flush_step writes at most CACHE_FLUSH_STEP rows per call. */
static void
test_flush_step(void)
{
	const char		*path = tpath("step.db");
	struct cache		*c;
	struct cache_entry	*e;
	char			 name[64];
	int			 i, n = CACHE_FLUSH_STEP * 2 + 500;

	c = open_ok(path, 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "s%d.example", i);
		e = cache_add(c, name);
		fill(c, e, i);
		cache_dirty(c, e);
	}
	is_int(cache_flush_step(c), 0, "step: first step");
	is_int(sql_int(path, "SELECT count(*) FROM domains"), CACHE_FLUSH_STEP,
	    "step: one step writes CACHE_FLUSH_STEP rows");
	is_int((long)cache_dirty_count(c), n - CACHE_FLUSH_STEP,
	    "step: the rest stay dirty");
	cache_flush_step(c);
	cache_flush_step(c);
	is_int(sql_int(path, "SELECT count(*) FROM domains"), n,
	    "step: three steps write them all");
	is_int((long)cache_dirty_count(c), 0, "step: none dirty after");
	cache_close(c);
}

static void
test_remove_persists(void)
{
	const char	*path = tpath("remove.db");
	struct cache	*c;

	c = open_ok(path, 0);
	cache_add(c, "keep.example");
	cache_add(c, "drop.example");
	cache_add(c, "neverflushed.example");
	cache_flush(c);
	cache_add(c, "dirty.example");
	is_int(cache_remove(c, "drop.example"), 0, "remove: found");
	is_int(cache_remove(c, "dirty.example"), 0, "remove: dirty entry");
	is_int((long)cache_dirty_count(c), 0,
	    "remove: dirty entry taken off the list");
	is_int(cache_remove(c, "nosuch.example"), -1, "remove: missing is -1");
	is_int(sql_int(path, "SELECT count(*) FROM domains"), 2,
	    "remove: row deleted at once");
	cache_close(c);
	c = open_ok(path, 0);
	is_int((long)cache_count(c), 2, "remove: reopen has 2");
	ok(cache_get(c, "drop.example") == NULL &&
	    cache_get(c, "dirty.example") == NULL, "remove: removed stay gone");
	cache_remove_all(c);
	is_int((long)cache_count(c), 0, "remove_all: memory empty");
	cache_close(c);
	c = open_ok(path, 0);
	is_int((long)cache_count(c), 0, "remove_all: reopen empty");
	cache_add(c, "after.example");
	cache_close(c);
	c = open_ok(path, 0);
	is_int((long)cache_count(c), 1, "remove_all: cache usable after");
	cache_close(c);
}

/* Another writer holds the lock: flush fails fast, then recovers. */
static void
test_busy(void)
{
	const char	*path = tpath("busy.db");
	struct cache	*c;
	sqlite3		*other;
	uint64_t	 t0, took;
	int		 rc;

	c = open_ok(path, 0);
	cache_add(c, "a.example");
	cache_add(c, "b.example");
	cache_add(c, "c.example");
	cache_flush(c);

	if (sqlite3_open(path, &other) != SQLITE_OK ||
	    sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		fatalx("lock %s", path);
	cache_add(c, "d.example");
	cache_add(c, "e.example");
	is_int(cache_remove(c, "a.example"), 0, "busy: remove while locked");
	t0 = util_mono_ms();
	rc = cache_flush(c);
	took = util_mono_ms() - t0;
	is_int(rc, -1, "busy: flush -1");
	ok(took < 1000, "busy: gave up after %llu ms (no spinning)",
	    (unsigned long long)took);
	ok(has(cache_last_error(c), "locked"), "busy: error kept (%s)",
	    cache_last_error(c));
	is_int(cache_persistent(c), 0, "busy: not persistent while failing");
	is_int((long)cache_dirty_count(c), 2, "busy: entries still dirty");
	ok(cache_get(c, "d.example") != NULL, "busy: entries still in memory");
	is_int(cache_flush(c), -1, "busy: still failing");
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);

	is_int(sql_int(path, "SELECT count(*) FROM domains"), 3,
	    "busy: nothing half-written");
	is_int(cache_flush(c), 0, "busy: flush recovers");
	is_int(cache_persistent(c), 1, "busy: persistent again");
	is_str(sql_text(path, "SELECT group_concat(domain) FROM (SELECT domain "
	    "FROM domains ORDER BY domain)"), "b.example,c.example,d.example,"
	    "e.example", "busy: queued delete and upserts applied");

	/* remove_all under the lock, then a new entry. */
	sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	cache_remove_all(c);
	cache_add(c, "f.example");
	is_int(cache_flush(c), -1, "busy: flush after remove_all fails");
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	is_int(cache_flush(c), 0, "busy: then succeeds");
	is_str(sql_text(path, "SELECT group_concat(domain) FROM domains"),
	    "f.example", "busy: queued remove_all applied before the upsert");
	sqlite3_close(other);
	cache_close(c);
}

/* A real write error (file size limit): flush -1, then recovery. */
static void
test_write_error(void)
{
	const char		*path = tpath("full.db");
	struct cache		*c;
	struct cache_entry	*e;
	struct rlimit		 old, lim;
	struct stat		 sb;
	char			 name[64], wal[600];
	int			 i, rc, dirty, persistent;

	c = open_ok(path, 0);
	cache_add(c, "first.example");
	cache_flush(c);
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof name, "w%d.example", i);
		e = cache_add(c, name);
		fill(c, e, i);
		memset(e->last_error, 'e', sizeof e->last_error - 1);
	}
	snprintf(wal, sizeof wal, "%s-wal", path);
	if (stat(wal, &sb) != 0 || getrlimit(RLIMIT_FSIZE, &old) != 0)
		fatal("stat %s", wal);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size;
	fflush(stdout);
	if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
		fatal("setrlimit");
	rc = cache_flush(c);
	persistent = cache_persistent(c);
	dirty = (int)cache_dirty_count(c);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);

	is_int(rc, -1, "write error: flush -1");
	ok(cache_last_error(c)[0] != '\0', "write error: message (%s)",
	    cache_last_error(c));
	is_int(persistent, 0, "write error: not persistent");
	is_int(dirty, 500, "write error: all 500 still dirty");
	is_int((long)cache_count(c), 501, "write error: all in memory");
	is_int(sql_int(path, "SELECT count(*) FROM domains"), 1,
	    "write error: file has only the earlier row");
	is_int(cache_flush(c), 0, "write error: flush recovers");
	is_int(cache_persistent(c), 1, "write error: persistent again");
	cache_close(c);
	c = open_ok(path, 0);
	is_int((long)cache_count(c), 501, "write error: reopen has all 501");
	e = cache_get(c, "w499.example");
	is_int(e != NULL ? (long)e->queries : -1, 499L * 1000003,
	    "write error: values intact");
	cache_close(c);
}

/* Closing writes what is still dirty. */
static void
test_close_flushes(void)
{
	const char		*path = tpath("close.db");
	struct cache		*c;
	struct cache_entry	*e;

	c = open_ok(path, 0);
	e = cache_add(c, "late.example");
	fill(c, e, 9);
	cache_close(c);
	is_int(sql_int(path, "SELECT queries FROM domains WHERE "
	    "domain='late.example'"), 9 * 1000003, "close: dirty entry written");
}

/* 10,000 entries: one flush and one reload, timed. */
static void
test_big(void)
{
	const char		*path = tpath("big.db");
	struct cache		*c;
	struct cache_entry	*e;
	char			 name[64];
	uint64_t		 t0, tflush, tload;
	int			 i, bad = 0;

	c = open_ok(path, 0);
	for (i = 0; i < BIG_COUNT; i++) {
		snprintf(name, sizeof name, "host%d.example.com", i);
		e = cache_add(c, name);
		cache_set_policy(c, e, policy(i % 2 ? body_enforce :
		    body_testing), "id", 1700000000 + i);
		fill(c, e, i);
	}
	t0 = util_mono_ms();
	is_int(cache_flush(c), 0, "big: flush %d entries", BIG_COUNT);
	tflush = util_mono_ms() - t0;
	cache_close(c);
	t0 = util_mono_ms();
	c = open_ok(path, 0);
	tload = util_mono_ms() - t0;
	printf("# %d entries: flush %llu ms, reload %llu ms\n", BIG_COUNT,
	    (unsigned long long)tflush, (unsigned long long)tload);
	is_int((long)cache_count(c), BIG_COUNT, "big: all reloaded");
	for (i = 0; i < BIG_COUNT; i += 997) {
		snprintf(name, sizeof name, "host%d.example.com", i);
		e = cache_get(c, name);
		if (e == NULL || e->policy == NULL ||
		    e->fetched_at != 1700000000 + i ||
		    e->queries != (uint64_t)i * 1000003 ||
		    e->policy->mode != (i % 2 ? STS_MODE_ENFORCE :
		    STS_MODE_TESTING))
			bad++;
	}
	is_int(bad, 0, "big: sampled entries intact");
	cache_close(c);
}

int
main(void)
{
	char	cmd[600];

	log_init("test_cache", 0);
	log_setlevel(LOG_LEVEL_WARN);
	if (mkdtemp(tmpdir) == NULL)
		fatal("mkdtemp");

	test_status_names();
	test_memory();
	test_add_limits();
	test_fresh_boundary();
	test_set_clear_policy();
	test_foreach();
	test_create();
	test_reopen();
	test_columns();
	test_exim_query();
	test_bad_policy_text();
	test_odd_rows();
	test_policy_without_text();
	test_schema_newer();
	test_schema_foreign();
	test_corrupt_garbage();
	test_corrupt_pages();
	test_empty_file();
	test_readonly_dir();
	test_not_regular();
	test_readonly_missing();
	test_readonly_with_writer();
	test_flush_batch();
	test_flush_step();
	test_remove_persists();
	test_busy();
	test_write_error();
	test_close_flushes();
	test_big();

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return (done_testing());
}
