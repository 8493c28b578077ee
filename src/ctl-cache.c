/*
 * ctl-cache.c: list and show, read from the cache file (read-only, WAL:
 * never blocks the daemon).  When the daemon runs it is asked to sync
 * first, so the file holds what it has in memory; when it cannot say so,
 * or the file holds fewer entries than the daemon, a warning says that
 * the file is shown as it is.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "ctl.h"
#include "util.h"

#define CTL_TIME_BUF	32

/*
 * Ask the daemon to write its cache.  Its entry count is asked first:
 * entries it adds after the sync cannot then make the file look short.
 * *held is UINT64_MAX when the count is not known.
 */
static void
ctl_cache_sync(const struct ctl *ctl, int *running, uint64_t *held)
{
	struct jv	*v = NULL;
	enum ctl_conn	 rc;
	char		*err = NULL;

	*held = UINT64_MAX;
	if (ctl_daemon_entries(ctl, held, &rc, &err) != 0) {
		*held = UINT64_MAX;
		free(err);
		err = NULL;
		if (rc == CTL_CONN_DOWN)
			return;
	}
	rc = ctl_control(ctl, "sync", &v, &err);
	jv_free(v);
	if (rc == CTL_CONN_OK)
		*running = 1;
	else if (rc != CTL_CONN_DOWN)
		ctl_warnx("could not ask the daemon to write its cache: %s; "
		    "showing the file as it is", err);
	free(err);
}

int
ctl_cache_load(const struct ctl *ctl, struct cache **cache, int *running)
{
	const char	*path = ctl->cfg->cache_file;
	char		*err = NULL;
	uint64_t	 held;
	size_t		 n;

	*cache = NULL;
	*running = 0;
	ctl_cache_sync(ctl, running, &held);
	if (path == NULL || access(path, F_OK) != 0)
		return (CTL_EXIT_OK);
	if ((*cache = cache_open(path, 1, &err)) == NULL) {
		ctl_warnx("cannot read the cache file %s: %s", path,
		    err != NULL ? err : "unknown error");
		free(err);
		return (CTL_EXIT_NOINPUT);
	}
	/* The daemon's sync may say ok although its write failed (locked). */
	if (*running && held != UINT64_MAX &&
	    (n = cache_count(*cache)) < held)
		ctl_warnx("mtastsd holds %llu entr%s but the cache file %s "
		    "only %zu: the daemon could not write its cache (see its "
		    "log); showing the file as it is", (unsigned long long)held,
		    held == 1 ? "y" : "ies", path, n);
	return (CTL_EXIT_OK);
}

/* The entries of a cache, sorted by domain. */
struct ctl_entries {
	struct cache_entry	**e;
	size_t			  n;
	size_t			  alloc;
};

static int
ctl_collect_cb(struct cache_entry *e, void *arg)
{
	struct ctl_entries	*l = arg;

	if (l->n == l->alloc) {
		l->alloc = l->alloc == 0 ? 64 : l->alloc * 2;
		l->e = xrealloc(l->e, l->alloc * sizeof *l->e);
	}
	l->e[l->n++] = e;
	return (0);
}

static int
ctl_entry_cmp(const void *a, const void *b)
{
	const struct cache_entry	*x = *(const struct cache_entry *const *)a;
	const struct cache_entry	*y = *(const struct cache_entry *const *)b;

	return (strcmp(x->domain, y->domain));
}

/* The members every entry has in list and show JSON. */
static void
ctl_entry_json(struct json *j, const struct cache_entry *e, time_t now,
    int full)
{
	const struct sts_policy	*p = e->policy;
	size_t			 i;

	json_str(j, "domain", e->domain);
	json_str(j, "state", ctl_entry_state(e, now));
	json_str(j, "mode", p != NULL ? sts_mode_name(p->mode) : NULL);
	json_str(j, "policy_id", p != NULL ? e->policy_id : NULL);
	if (p != NULL)
		json_uint(j, "max_age", p->max_age);
	else
		json_null(j, "max_age");
	json_int(j, "fetched_at", (int64_t)e->fetched_at);
	json_int(j, "expires_at", (int64_t)cache_entry_expires(e));
	json_int(j, "txt_checked_at", (int64_t)e->txt_checked_at);
	json_uint(j, "txt_ttl", e->txt_ttl);
	json_str(j, "status", cache_status_name(e->status));
	json_str(j, "reason", e->reason[0] != '\0' ? e->reason : NULL);
	json_str(j, "last_error", e->last_error[0] != '\0' ? e->last_error :
	    NULL);
	json_int(j, "last_error_at", (int64_t)e->last_error_at);
	json_int(j, "retry_at", (int64_t)e->retry_at);
	json_uint(j, "failures", e->failures);
	json_int(j, "refresh_at", (int64_t)e->refresh_at);
	json_int(j, "last_query_at", (int64_t)e->last_query_at);
	json_uint(j, "queries", e->queries);
	if (!full)
		return;
	json_open(j, "mx", '[');
	for (i = 0; p != NULL && i < p->nmx; i++)
		json_str(j, NULL, p->mx[i]);
	json_close(j, '[');
	if (p != NULL && p->text != NULL)
		json_strn(j, "policy_text", p->text, p->textlen);
	else
		json_null(j, "policy_text");
}

/* Whether an entry passes the list filters. */
static int
ctl_list_match(const struct ctl *ctl, const struct cache_entry *e, time_t now,
    int mode)
{
	if ((ctl->given & CTL_OPT_EXPIRED) &&
	    strcmp(ctl_entry_state(e, now), "expired") != 0)
		return (0);
	if ((ctl->given & CTL_OPT_FAILED) && e->status != CACHE_FAILED)
		return (0);
	if ((ctl->given & CTL_OPT_MODE) &&
	    (e->policy == NULL || (int)e->policy->mode != mode))
		return (0);
	return (1);
}

static enum ctl_color
ctl_state_color(const char *state)
{
	if (strcmp(state, "active") == 0)
		return (CTL_GREEN);
	if (strcmp(state, "expired") == 0)
		return (CTL_YELLOW);
	if (strcmp(state, "failed") == 0)
		return (CTL_RED);
	return (CTL_RESET);
}

#define CTL_LIST_COLS	9

/* The text cells of one row (static buffers per column). */
static void
ctl_list_cells(const struct cache_entry *e, time_t now,
    char cells[CTL_LIST_COLS][CACHE_ERROR_MAX + 64])
{
	const struct sts_policy	*p = e->policy;
	const char		*label;
	size_t			 sz = CACHE_ERROR_MAX + 64;

	snprintf(cells[0], sz, "%s", e->domain);
	snprintf(cells[1], sz, "%s", p != NULL ? sts_mode_name(p->mode) : "-");
	snprintf(cells[2], sz, "%s", p != NULL && e->policy_id[0] != '\0' ?
	    e->policy_id : "-");
	ctl_reltime(e->fetched_at, now, cells[3], sz);
	ctl_reltime(cache_entry_expires(e), now, cells[4], sz);
	ctl_reltime(e->txt_checked_at, now, cells[5], sz);
	snprintf(cells[6], sz, "%s", ctl_entry_state(e, now));
	snprintf(cells[7], sz, "%llu", (unsigned long long)e->queries);
	/* A domain publishing no policy is not an error (STATE says so). */
	label = ctl_entry_error_label(e);
	snprintf(cells[8], sz, "%s", label != NULL &&
	    strcmp(label, "last error") == 0 ? e->last_error : "-");
}

static void
ctl_list_text(const struct ctl *ctl, struct cache_entry **rows, size_t n,
    time_t now)
{
	static const char	*heads[CTL_LIST_COLS] = { "DOMAIN", "MODE",
	    "ID", "FETCHED", "EXPIRES", "TXT CHECKED", "STATE", "QUERIES",
	    "LAST ERROR" };
	char			 cells[CTL_LIST_COLS][CACHE_ERROR_MAX + 64];
	size_t			 w[CTL_LIST_COLS], i, c, len;

	if (n == 0) {
		printf("no entries\n");
		return;
	}
	for (c = 0; c < CTL_LIST_COLS; c++)
		w[c] = strlen(heads[c]);
	for (i = 0; i < n; i++) {
		ctl_list_cells(rows[i], now, cells);
		for (c = 0; c < CTL_LIST_COLS; c++) {
			if ((len = strlen(cells[c])) > w[c])
				w[c] = len;
		}
	}
	printf("%s", ctl_sgr(ctl, CTL_BOLD));
	for (c = 0; c < CTL_LIST_COLS - 1; c++)
		printf(c == 7 ? "%*s  " : "%-*s  ", (int)w[c], heads[c]);
	printf("%s%s\n", heads[c], ctl_sgr(ctl, CTL_RESET));
	for (i = 0; i < n; i++) {
		ctl_list_cells(rows[i], now, cells);
		for (c = 0; c < CTL_LIST_COLS - 1; c++) {
			if (c == 6)
				printf("%s%-*s%s  ", ctl_sgr(ctl,
				    ctl_state_color(cells[c])), (int)w[c],
				    cells[c], ctl_sgr(ctl, CTL_RESET));
			else
				printf(c == 7 ? "%*s  " : "%-*s  ", (int)w[c],
				    cells[c]);
		}
		printf("%s\n", cells[c]);
	}
}

int
ctl_cmd_list(struct ctl *ctl, int argc, char **argv)
{
	struct cache		 *c;
	struct ctl_entries	  l;
	struct cache_entry	**rows;
	struct json		  j;
	time_t			  now = util_now();
	size_t			  i, n = 0;
	int			  status, running, mode = -1, nfilters = 0;

	if (ctl->given & CTL_OPT_EXPIRED)
		nfilters++;
	if (ctl->given & CTL_OPT_FAILED)
		nfilters++;
	if (ctl->given & CTL_OPT_MODE) {
		nfilters++;
		if ((mode = sts_mode_parse(ctl->mode)) == -1) {
			ctl_warnx("list: mode \"%s\" is not enforce, testing "
			    "or none", ctl->mode);
			return (ctl_usage_of("list"));
		}
	}
	if (nfilters > 1) {
		ctl_warnx("list: --expired, --failed and --mode exclude each "
		    "other");
		return (ctl_usage_of("list"));
	}
	if ((status = ctl_cache_load(ctl, &c, &running)) != CTL_EXIT_OK)
		return (status);
	memset(&l, 0, sizeof l);
	if (c != NULL)
		cache_foreach(c, ctl_collect_cb, &l);
	else if (!ctl->json)
		ctl_warnx("no cache file %s yet", ctl->cfg->cache_file != NULL ?
		    ctl->cfg->cache_file : "configured");
	if (l.n > 0)
		qsort(l.e, l.n, sizeof *l.e, ctl_entry_cmp);
	rows = xcalloc(l.n + 1, sizeof *rows);
	for (i = 0; i < l.n; i++) {
		if (ctl_list_match(ctl, l.e[i], now, mode))
			rows[n++] = l.e[i];
	}
	if (ctl->json) {
		json_start(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "cache_file", ctl->cfg->cache_file);
		json_bool(&j, "daemon_running", running);
		json_int(&j, "now", (int64_t)now);
		json_open(&j, "entries", '[');
		for (i = 0; i < n; i++) {
			json_open(&j, NULL, '{');
			ctl_entry_json(&j, rows[i], now, 0);
			json_close(&j, '{');
		}
		json_close(&j, '[');
		json_close(&j, '{');
		json_end(&j);
	} else
		ctl_list_text(ctl, rows, n, now);
	free(rows);
	free(l.e);
	if (c != NULL)
		cache_close(c);
	return (CTL_EXIT_OK);
}

/* "2026-12-03T16:07:53Z (3h ago)" or "-". */
static const char *
ctl_when(time_t t, time_t now, char *buf, size_t len)
{
	char	abs[CTL_TIME_BUF], rel[CTL_TIME_BUF];

	if (t == 0) {
		snprintf(buf, len, "-");
		return (buf);
	}
	snprintf(buf, len, "%s (%s)", util_timefmt(t, abs, sizeof abs),
	    ctl_reltime(t, now, rel, sizeof rel));
	return (buf);
}

static void
ctl_show_text(const struct ctl *ctl, const struct cache_entry *e, time_t now)
{
	const struct sts_policy	*p = e->policy;
	const char		*state = ctl_entry_state(e, now);
	char			 b[2 * CTL_TIME_BUF + 16], d[CTL_TIME_BUF];
	const char		*s, *nl, *label;
	size_t			 i;
	int			 err;

#define ROW	"%-15s "
	printf(ROW "%s%s%s\n", "domain", ctl_sgr(ctl, CTL_BOLD), e->domain,
	    ctl_sgr(ctl, CTL_RESET));
	printf(ROW "%s%s%s\n", "state", ctl_sgr(ctl, ctl_state_color(state)),
	    state, ctl_sgr(ctl, CTL_RESET));
	if (p != NULL) {
		printf(ROW "%s\n", "mode", sts_mode_name(p->mode));
		printf(ROW "%s\n", "policy id", e->policy_id);
		printf(ROW "%u (%s)\n", "max_age", (unsigned)p->max_age,
		    ctl_duration(p->max_age, d, sizeof d));
		printf(ROW, "mx");
		for (i = 0; i < p->nmx; i++)
			printf("%s%s", i > 0 ? ", " : "", p->mx[i]);
		printf("%s\n", p->nmx == 0 ? "(none)" : "");
	} else
		printf(ROW "%s\n", "policy", "none");
	printf(ROW "%s\n", "fetched", ctl_when(e->fetched_at, now, b, sizeof b));
	printf(ROW "%s\n", "expires", ctl_when(cache_entry_expires(e), now, b,
	    sizeof b));
	printf(ROW "%s", "TXT checked", ctl_when(e->txt_checked_at, now, b,
	    sizeof b));
	printf(", ttl %s\n", ctl_duration(e->txt_ttl, d, sizeof d));
	printf(ROW "%s\n", "next refresh", ctl_when(e->refresh_at, now, b,
	    sizeof b));
	printf(ROW "%s\n", "retry after", ctl_when(e->retry_at, now, b,
	    sizeof b));
	if (e->status == CACHE_NO_RECORD)
		printf(ROW "%s (no policy published)\n", "last discovery",
		    cache_status_name(e->status));
	else
		printf(ROW "%s (%u consecutive failures)\n", "last discovery",
		    cache_status_name(e->status), e->failures);
	if ((label = ctl_entry_error_label(e)) != NULL) {
		err = strcmp(label, "last error") == 0;
		printf(ROW "%s%s%s [%s] at %s\n", label,
		    ctl_sgr(ctl, err ? CTL_RED : CTL_RESET), e->last_error,
		    ctl_sgr(ctl, CTL_RESET), e->reason[0] != '\0' ?
		    e->reason : "-", ctl_when(e->last_error_at, now, b,
		    sizeof b));
	} else
		printf(ROW "-\n", "last error");
	printf(ROW "%llu, last %s\n", "queries",
	    (unsigned long long)e->queries, ctl_when(e->last_query_at, now, b,
	    sizeof b));
#undef ROW
	if (p == NULL || p->text == NULL)
		return;
	printf("policy text:\n");
	for (s = p->text; s < p->text + p->textlen; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(p->text + p->textlen - s))) ==
		    NULL)
			nl = p->text + p->textlen;
		printf("    ");
		for (; s < nl; s++)
			putchar((unsigned char)*s < 0x20 && *s != '\t' ? '?' : *s);
		putchar('\n');
	}
}

int
ctl_cmd_show(struct ctl *ctl, int argc, char **argv)
{
	char			 domain[DOMAIN_MAX + 1];
	struct cache		*c;
	struct cache_entry	*e;
	struct json		 j;
	time_t			 now = util_now();
	int			 status, running;

	if (ctl_domain(argv[0], domain) != 0)
		return (ctl_usage_of("show"));
	if ((status = ctl_cache_load(ctl, &c, &running)) != CTL_EXIT_OK)
		return (status);
	if (c == NULL || (e = cache_get(c, domain)) == NULL) {
		ctl_warnx("%s is not in the cache%s", domain, c == NULL ?
		    " (no cache file yet)" : "");
		if (c != NULL)
			cache_close(c);
		return (CTL_EXIT_WARN);
	}
	if (ctl->json) {
		json_start(&j, stdout);
		json_open(&j, NULL, '{');
		ctl_entry_json(&j, e, now, 1);
		json_bool(&j, "daemon_running", running);
		json_int(&j, "now", (int64_t)now);
		json_close(&j, '{');
		json_end(&j);
	} else
		ctl_show_text(ctl, e, now);
	cache_close(c);
	return (CTL_EXIT_OK);
}
