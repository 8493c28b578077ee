/*
 * ctl-daemon.c: the commands that talk to the running daemon: stats,
 * refresh, forget, flush (over the control socket, see control.h) and
 * query (over the socketmap listener, exactly as Postfix asks).  With the
 * daemon stopped, refresh, forget and flush act on the cache file.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "ctl.h"
#include "netstring.h"
#include "util.h"

#define CTL_DEFAULT_MAP		"postfix"

/* Send all of buf; -1 with errno on failure. */
static int
ctl_send_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Bound every send and receive on fd. */
static void
ctl_timeouts(int fd, int secs)
{
	struct timeval	tv = { secs, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connect to a unix socket; -1 with errno. */
static int
ctl_connect_unix(const char *path, int timeout)
{
	struct sockaddr_un	sun;
	int			fd, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	ctl_timeouts(fd, timeout);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

enum ctl_conn
ctl_control(const struct ctl *ctl, const char *request, struct jv **reply,
    char **err)
{
	const char	*path = ctl->cfg->control, *perr, *msg;
	char		*buf = NULL, *line;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, saved;
	struct jv	*v;

	*reply = NULL;
	*err = NULL;
	if (path == NULL || path[0] == '\0') {
		xasprintf(err, "mtastsd has no control socket (none in %s)",
		    ctl->cfgpath != NULL ? ctl->cfgpath : "the defaults");
		return (CTL_CONN_DOWN);
	}
	if ((fd = ctl_connect_unix(path, CTL_CONTROL_TIMEOUT)) == -1) {
		saved = errno;
		if (saved == ENOENT || saved == ECONNREFUSED ||
		    saved == ENOTDIR) {
			xasprintf(err, "mtastsd is not running (control socket "
			    "%s: %s)", path, strerror(saved));
			return (CTL_CONN_DOWN);
		}
		if (saved == EACCES || saved == EPERM) {
			xasprintf(err, "permission denied on the control socket "
			    "%s: run mtastsctl as root or as mtastsd's user",
			    path);
			return (CTL_CONN_DENIED);
		}
		xasprintf(err, "control socket %s: %s", path, strerror(saved));
		return (CTL_CONN_ERROR);
	}
	xasprintf(&line, "%s\n", request);
	/* A refusing daemon may close before reading: read its reply anyway. */
	(void)ctl_send_all(fd, line, strlen(line));
	free(line);
	buf = xmalloc(CTL_REPLY_MAX + 1);
	for (;;) {
		n = recv(fd, buf + len, CTL_REPLY_MAX - len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == CTL_REPLY_MAX)
			break;
	}
	saved = errno;
	close(fd);
	/* A daemon that refuses us closes with our request unread: reset. */
	if (n == -1 && saved == ECONNRESET && len > 0)
		n = 0;
	if (n == -1) {
		xasprintf(err, "control socket %s: %s", path,
		    saved == EAGAIN || saved == EWOULDBLOCK ?
		    "no reply in time" : strerror(saved));
		free(buf);
		return (CTL_CONN_ERROR);
	}
	buf[len] = '\0';
	if (len == 0) {
		xasprintf(err, "control socket %s: closed without a reply",
		    path);
		free(buf);
		return (CTL_CONN_ERROR);
	}
	if ((v = jv_parse(buf, len, &perr)) == NULL || v->type != JV_OBJECT) {
		xasprintf(err, "control socket %s: a reply that is not a JSON "
		    "object (%s)", path, v == NULL ? perr : "not an object");
		jv_free(v);
		free(buf);
		return (CTL_CONN_ERROR);
	}
	free(buf);
	*reply = v;
	if (jv_get(v, "ok") != NULL && jv_get(v, "ok")->type == JV_BOOL &&
	    jv_get(v, "ok")->b)
		return (CTL_CONN_OK);
	msg = jv_str(v, "error");
	xasprintf(err, "mtastsd: %s", msg != NULL ? msg : "request failed");
	if (msg != NULL && strcmp(msg, "permission denied") == 0) {
		free(*err);
		xasprintf(err, "mtastsd refused the request: permission denied "
		    "(only root and mtastsd's user may use %s)", path);
		return (CTL_CONN_DENIED);
	}
	return (CTL_CONN_FAILED);
}

int
ctl_daemon_entries(const struct ctl *ctl, uint64_t *n, enum ctl_conn *rc,
    char **err)
{
	struct jv	*v;
	const struct jv	*e, *t;

	*n = 0;
	if ((*rc = ctl_control(ctl, "stats", &v, err)) != CTL_CONN_OK) {
		jv_free(v);
		return (-1);
	}
	if ((e = jv_get(v, "entries")) == NULL ||
	    (t = jv_get(e, "total")) == NULL || t->type != JV_NUMBER) {
		*rc = CTL_CONN_ERROR;
		xasprintf(err, "the stats reply has no entries.total");
		jv_free(v);
		return (-1);
	}
	*n = jv_uint(e, "total", 0);
	jv_free(v);
	return (0);
}

int
ctl_conn_exit(enum ctl_conn c)
{
	switch (c) {
	case CTL_CONN_OK:
		return (CTL_EXIT_OK);
	case CTL_CONN_DOWN:
		return (CTL_EXIT_UNAVAILABLE);
	case CTL_CONN_DENIED:
		return (CTL_EXIT_NOPERM);
	case CTL_CONN_FAILED:
		return (CTL_EXIT_WARN);
	default:
		return (CTL_EXIT_SOFTWARE);
	}
}

/* stats */

/* The stable stats keys and the daemon counters behind them. */
static const struct {
	const char	*group;		/* NULL: top level */
	const char	*key;
	const char	*counter;
	const char	*label;		/* human text */
} ctl_stats_map[] = {
	{ NULL, "queries", "mtastsd_queries_total", "queries" },
	{ NULL, "cache_hits", "mtastsd_cache_hits_total", "cache hits" },
	{ NULL, "cache_misses", "mtastsd_cache_misses_total", "cache misses" },
	{ NULL, "keys_rejected", "mtastsd_keys_rejected_total",
	  "keys rejected" },
	{ NULL, "discoveries", "mtastsd_discoveries_total", "discoveries" },
	{ NULL, "discoveries_merged", "mtastsd_discoveries_merged_total",
	  "merged" },
	{ NULL, "fetches", "mtastsd_fetches_total", "fetches" },
	{ NULL, "clients", "mtastsd_clients_total", "clients" },
	{ "answers", "ok", "mtastsd_answers_ok_total", "ok" },
	{ "answers", "notfound", "mtastsd_answers_notfound_total", "notfound" },
	{ "answers", "temp", "mtastsd_answers_temp_total", "temp" },
	{ "answers", "perm", "mtastsd_answers_perm_total", "perm" },
	{ "failures", "no_record", "mtastsd_discovery_no_record_total",
	  "no record" },
	{ "failures", "txt_failed", "mtastsd_discovery_txt_failed_total",
	  "TXT lookup" },
	{ "failures", "fetch_failed", "mtastsd_discovery_fetch_failed_total",
	  "fetch" },
	{ "failures", "policy_invalid", "mtastsd_discovery_invalid_total",
	  "invalid policy" },
	{ "failures", "deadline", "mtastsd_discovery_deadline_total",
	  "deadline" },
	{ "failures", "client_errors", "mtastsd_client_errors_total",
	  "client errors" },
	{ "failures", "sqlite", "mtastsd_sqlite_errors_total", "sqlite" },
};
#define CTL_STATS_N	(sizeof ctl_stats_map / sizeof ctl_stats_map[0])

static const char *ctl_entry_keys[] = {
	"total", "enforce", "testing", "none", "no_record", "failed", "expired"
};

/* Entries by reason code, from the cache file. */
struct ctl_reasons {
	char		*reason[64];
	uint64_t	 count[64];
	size_t		 n;
};

/* Failing entries, and those of domains publishing no policy (not failing). */
struct ctl_reason_sets {
	struct ctl_reasons	failed;
	struct ctl_reasons	no_policy;
};

static void
ctl_reasons_add(struct ctl_reasons *r, const char *why)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->reason[i], why) == 0) {
			r->count[i]++;
			return;
		}
	}
	if (r->n < sizeof r->reason / sizeof r->reason[0]) {
		r->reason[r->n] = xstrdup(why);
		r->count[r->n++] = 1;
	}
}

static int
ctl_reasons_cb(struct cache_entry *e, void *arg)
{
	struct ctl_reason_sets	*r = arg;
	const char		*why;

	why = e->reason[0] != '\0' ? e->reason : cache_status_name(e->status);
	/* As list --failed: the last discovery failed. */
	if (e->status == CACHE_FAILED)
		ctl_reasons_add(&r->failed, why);
	else if (e->status == CACHE_NO_RECORD)
		ctl_reasons_add(&r->no_policy, why);
	return (0);
}

static void
ctl_reasons_load(const struct ctl *ctl, struct ctl_reason_sets *r)
{
	struct cache	*c = NULL;
	int		 running;

	memset(r, 0, sizeof *r);
	if (ctl_cache_load(ctl, &c, &running) != 0 || c == NULL)
		return;
	cache_foreach(c, ctl_reasons_cb, r);
	cache_close(c);
}

static void
ctl_reasons_free(struct ctl_reasons *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		free(r->reason[i]);
	r->n = 0;
}

static void
ctl_reasons_json(struct json *j, const char *key, const struct ctl_reasons *r)
{
	size_t	i;

	json_open(j, key, '{');
	for (i = 0; i < r->n; i++)
		json_uint(j, r->reason[i], r->count[i]);
	json_close(j, '{');
}

static void
ctl_reasons_text(const char *label, const struct ctl_reasons *r)
{
	size_t	i;

	printf("%-16s", label);
	for (i = 0; i < r->n; i++)
		printf("%s%s %llu", i == 0 ? " " : ", ", r->reason[i],
		    (unsigned long long)r->count[i]);
	printf("%s\n", r->n == 0 ? " none" : "");
}

static void
ctl_stats_json(const struct ctl *ctl, const struct jv *v,
    const struct ctl_reason_sets *r)
{
	const struct jv	*counters = jv_get(v, "counters");
	const struct jv	*entries = jv_get(v, "entries");
	const struct jv	*disc = jv_get(v, "discoveries");
	const char	*group = NULL;
	struct json	 j;
	size_t		 i;

	json_start(&j, stdout);
	json_open(&j, NULL, '{');
	json_uint(&j, "uptime", jv_uint(v, "uptime", 0));
	for (i = 0; i < CTL_STATS_N; i++) {
		if (ctl_stats_map[i].group != group ||
		    (group != NULL && ctl_stats_map[i].group != NULL &&
		    strcmp(group, ctl_stats_map[i].group) != 0)) {
			if (group != NULL)
				json_close(&j, '{');
			group = ctl_stats_map[i].group;
			if (group != NULL)
				json_open(&j, group, '{');
		}
		json_uint(&j, ctl_stats_map[i].key,
		    jv_uint(counters, ctl_stats_map[i].counter, 0));
	}
	if (group != NULL)
		json_close(&j, '{');
	ctl_reasons_json(&j, "failed_entries_by_reason", &r->failed);
	ctl_reasons_json(&j, "no_policy_entries_by_reason", &r->no_policy);
	json_open(&j, "entries", '{');
	for (i = 0; i < sizeof ctl_entry_keys / sizeof ctl_entry_keys[0]; i++)
		json_uint(&j, ctl_entry_keys[i],
		    jv_uint(entries, ctl_entry_keys[i], 0));
	json_close(&j, '{');
	json_open(&j, "in_flight", '{');
	json_uint(&j, "discoveries_running", jv_uint(disc, "running", 0));
	json_uint(&j, "discoveries_queued", jv_uint(disc, "queued", 0));
	json_uint(&j, "queries_parked", jv_uint(disc, "parked_queries", 0));
	json_close(&j, '{');
	json_open(&j, "counters", '{');
	for (i = 0; counters != NULL && counters->type == JV_OBJECT &&
	    i < counters->n; i++) {
		if (counters->items[i]->type == JV_NUMBER)
			json_uint(&j, counters->keys[i],
			    jv_uint(counters, counters->keys[i], 0));
	}
	json_close(&j, '{');
	json_close(&j, '{');
	json_end(&j);
	(void)ctl;
}

/* "label N, label N, ..." for the counters of one group but skip. */
static void
ctl_stats_group(const struct jv *counters, const char *group,
    const char *skip)
{
	size_t	i;
	int	first = 1;

	for (i = 0; i < CTL_STATS_N; i++) {
		if (ctl_stats_map[i].group == NULL ||
		    strcmp(ctl_stats_map[i].group, group) != 0 ||
		    (skip != NULL && strcmp(ctl_stats_map[i].key, skip) == 0))
			continue;
		printf("%s%s %llu", first ? "" : ", ", ctl_stats_map[i].label,
		    (unsigned long long)jv_uint(counters,
		    ctl_stats_map[i].counter, 0));
		first = 0;
	}
	printf("\n");
}

/* A counter of ctl_stats_map by group (NULL: top level) and key. */
static uint64_t
ctl_counter_in(const struct jv *counters, const char *group, const char *key)
{
	size_t	i;

	for (i = 0; i < CTL_STATS_N; i++) {
		if ((group == NULL ? ctl_stats_map[i].group == NULL :
		    ctl_stats_map[i].group != NULL &&
		    strcmp(ctl_stats_map[i].group, group) == 0) &&
		    strcmp(ctl_stats_map[i].key, key) == 0)
			return (jv_uint(counters, ctl_stats_map[i].counter, 0));
	}
	return (0);
}

static uint64_t
ctl_counter(const struct jv *counters, const char *key)
{
	return (ctl_counter_in(counters, NULL, key));
}

static void
ctl_stats_text(const struct ctl *ctl, const struct jv *v,
    const struct ctl_reason_sets *r)
{
	const struct jv	*c = jv_get(v, "counters");
	const struct jv	*e = jv_get(v, "entries");
	const struct jv	*d = jv_get(v, "discoveries");
	char		 dur[32];
	size_t		 i;

	printf("%-16s %s\n", "uptime", ctl_duration((int64_t)jv_uint(v,
	    "uptime", 0), dur, sizeof dur));
	printf("%-16s %llu (cache hits %llu, misses %llu, keys rejected "
	    "%llu)\n", "queries",
	    (unsigned long long)ctl_counter(c, "queries"),
	    (unsigned long long)ctl_counter(c, "cache_hits"),
	    (unsigned long long)ctl_counter(c, "cache_misses"),
	    (unsigned long long)ctl_counter(c, "keys_rejected"));
	printf("%-16s ", "answers");
	ctl_stats_group(c, "answers", NULL);
	/* Finding no policy published is an outcome, not a failure. */
	printf("%-16s %llu (no policy published %llu, merged %llu; running "
	    "%llu, queued %llu, queries waiting %llu)\n", "discoveries",
	    (unsigned long long)ctl_counter(c, "discoveries"),
	    (unsigned long long)ctl_counter_in(c, "failures", "no_record"),
	    (unsigned long long)ctl_counter(c, "discoveries_merged"),
	    (unsigned long long)jv_uint(d, "running", 0),
	    (unsigned long long)jv_uint(d, "queued", 0),
	    (unsigned long long)jv_uint(d, "parked_queries", 0));
	printf("%-16s %llu\n", "fetches",
	    (unsigned long long)ctl_counter(c, "fetches"));
	printf("%-16s ", "failures");
	ctl_stats_group(c, "failures", "no_record");
	ctl_reasons_text("failing entries", &r->failed);
	ctl_reasons_text("no policy", &r->no_policy);
	printf("%-16s %llu (", "entries",
	    (unsigned long long)jv_uint(e, "total", 0));
	for (i = 1; i < sizeof ctl_entry_keys / sizeof ctl_entry_keys[0]; i++)
		printf("%s%s %llu", i == 1 ? "" : ", ", ctl_entry_keys[i],
		    (unsigned long long)jv_uint(e, ctl_entry_keys[i], 0));
	printf(")\n");
	printf("%-16s %llu\n", "clients",
	    (unsigned long long)ctl_counter(c, "clients"));
	(void)ctl;
}

int
ctl_cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	struct jv		*v;
	struct ctl_reason_sets	 r;
	enum ctl_conn		 rc;
	char			*err;

	if ((rc = ctl_control(ctl, "stats", &v, &err)) != CTL_CONN_OK) {
		ctl_warnx("%s", err);
		free(err);
		jv_free(v);
		return (ctl_conn_exit(rc));
	}
	ctl_reasons_load(ctl, &r);
	if (ctl->json)
		ctl_stats_json(ctl, v, &r);
	else
		ctl_stats_text(ctl, v, &r);
	ctl_reasons_free(&r.failed);
	ctl_reasons_free(&r.no_policy);
	jv_free(v);
	return (CTL_EXIT_OK);
}

/* refresh, forget, flush */

enum ctl_action { CTL_REFRESH, CTL_FORGET, CTL_FLUSH };
static const char *ctl_action_names[] = { "refresh", "forget", "flush" };

/* Mark one entry due: the next sweep re-checks and re-fetches it. */
static int
ctl_mark_due_cb(struct cache_entry *e, void *arg)
{
	struct cache	*c = arg;

	e->txt_checked_at = 0;
	e->refresh_at = 1;
	e->retry_at = 0;
	cache_dirty(c, e);
	return (0);
}

/*
 * Act on the cache file with the daemon stopped.  Returns an exit status;
 * *count says how many entries were touched.
 */
static int
ctl_offline(const struct ctl *ctl, enum ctl_action a, const char *domain,
    size_t *count)
{
	const char		*path = ctl->cfg->cache_file;
	struct cache		*c;
	struct cache_entry	*e;
	char			*err = NULL;
	int			 status = CTL_EXIT_OK;

	*count = 0;
	if (path == NULL || access(path, F_OK) != 0) {
		if (domain != NULL) {
			ctl_warnx("%s is not in the cache (no cache file %s)",
			    domain, path != NULL ? path : "configured");
			return (CTL_EXIT_WARN);
		}
		return (CTL_EXIT_OK);
	}
	if ((c = cache_open(path, 0, &err)) == NULL) {
		ctl_warnx("cannot open the cache file %s: %s", path,
		    err != NULL ? err : "unknown error");
		free(err);
		return (CTL_EXIT_IOERR);
	}
	switch (a) {
	case CTL_REFRESH:
		if (domain == NULL) {
			*count = cache_count(c);
			cache_foreach(c, ctl_mark_due_cb, c);
		} else if ((e = cache_get(c, domain)) != NULL) {
			ctl_mark_due_cb(e, c);
			*count = 1;
		}
		break;
	case CTL_FORGET:
		if (cache_remove(c, domain) == 0)
			*count = 1;
		break;
	case CTL_FLUSH:
		*count = cache_count(c);
		cache_remove_all(c);
		break;
	}
	if (domain != NULL && *count == 0) {
		ctl_warnx("%s is not in the cache", domain);
		status = CTL_EXIT_WARN;
	} else if (cache_flush(c) != 0) {
		ctl_warnx("cannot write the cache file %s", path);
		status = CTL_EXIT_IOERR;
	}
	cache_close(c);
	return (status);
}

static void
ctl_action_json(const struct ctl *ctl, enum ctl_action a, const char *domain,
    int daemon, uint64_t count)
{
	struct json	j;

	json_start(&j, stdout);
	json_open(&j, NULL, '{');
	json_bool(&j, "ok", 1);
	json_str(&j, "command", ctl_action_names[a]);
	json_str(&j, "domain", domain);
	json_bool(&j, "daemon", daemon);
	if (!daemon)
		json_str(&j, "cache_file", ctl->cfg->cache_file);
	json_uint(&j, "entries", count);
	json_close(&j, '{');
	json_end(&j);
}

static void
ctl_action_text(const struct ctl *ctl, enum ctl_action a, const char *domain,
    int daemon, uint64_t count)
{
	const char	*path = ctl->cfg->cache_file;

	if (daemon) {
		switch (a) {
		case CTL_REFRESH:
			if (domain != NULL)
				printf("%s: refresh started in mtastsd\n",
				    domain);
			else
				printf("refresh started in mtastsd for %llu "
				    "domains\n", (unsigned long long)count);
			break;
		case CTL_FORGET:
			printf("%s: forgotten by mtastsd\n", domain);
			break;
		case CTL_FLUSH:
			printf("mtastsd dropped its %llu cache entr%s\n",
			    (unsigned long long)count, count == 1 ? "y" : "ies");
			break;
		}
		return;
	}
	switch (a) {
	case CTL_REFRESH:
		printf("mtastsd is not running: marked %s due in %s "
		    "(txt_checked_at=0, refresh_at=1, retry_at=0); mtastsd "
		    "refreshes %s when it starts\n", domain != NULL ? domain :
		    "every entry", path, count == 1 ? "it" : "them");
		break;
	case CTL_FORGET:
		printf("mtastsd is not running: removed %s from %s\n", domain,
		    path);
		break;
	case CTL_FLUSH:
		printf("mtastsd is not running: removed %llu entr%s from %s\n",
		    (unsigned long long)count, count == 1 ? "y" : "ies",
		    path != NULL ? path : "-");
		break;
	}
}

/* Run one action through the daemon, or on the file when it is down. */
static int
ctl_action(struct ctl *ctl, enum ctl_action a, const char *domain)
{
	struct jv	*v = NULL;
	enum ctl_conn	 rc;
	char		*req, *err;
	uint64_t	 count = domain != NULL ? 1 : 0;
	size_t		 n;
	int		 status;

	/* The daemon's flush reply has no count: ask for it just before. */
	if (a == CTL_FLUSH && ctl_daemon_entries(ctl, &count, &rc, &err) != 0) {
		count = 0;
		free(err);
	}
	if (a == CTL_REFRESH && domain == NULL)
		req = xstrdup("refresh-all");
	else if (domain != NULL)
		xasprintf(&req, "%s %s", ctl_action_names[a], domain);
	else
		req = xstrdup(ctl_action_names[a]);
	rc = ctl_control(ctl, req, &v, &err);
	free(req);
	if (rc == CTL_CONN_OK) {
		if (a == CTL_REFRESH && domain == NULL)
			count = jv_uint(v, "scheduled", 0);
		jv_free(v);
		if (ctl->json)
			ctl_action_json(ctl, a, domain, 1, count);
		else
			ctl_action_text(ctl, a, domain, 1, count);
		return (CTL_EXIT_OK);
	}
	jv_free(v);
	if (rc != CTL_CONN_DOWN || ctl->cfg->control == NULL) {
		ctl_warnx("%s", err);
		free(err);
		return (ctl_conn_exit(rc));
	}
	free(err);
	if ((status = ctl_offline(ctl, a, domain, &n)) != CTL_EXIT_OK)
		return (status);
	if (ctl->json)
		ctl_action_json(ctl, a, domain, 0, n);
	else
		ctl_action_text(ctl, a, domain, 0, n);
	return (CTL_EXIT_OK);
}

int
ctl_cmd_refresh(struct ctl *ctl, int argc, char **argv)
{
	char	domain[DOMAIN_MAX + 1];
	int	all = (ctl->given & CTL_OPT_ALL) != 0;

	if (all == (argc == 1)) {
		ctl_warnx("refresh: give either a domain or --all");
		return (ctl_usage_of("refresh"));
	}
	if (all)
		return (ctl_action(ctl, CTL_REFRESH, NULL));
	if (ctl_domain(argv[0], domain) != 0)
		return (ctl_usage_of("refresh"));
	return (ctl_action(ctl, CTL_REFRESH, domain));
}

int
ctl_cmd_forget(struct ctl *ctl, int argc, char **argv)
{
	char	domain[DOMAIN_MAX + 1];

	if (ctl_domain(argv[0], domain) != 0)
		return (ctl_usage_of("forget"));
	return (ctl_action(ctl, CTL_FORGET, domain));
}

int
ctl_cmd_flush(struct ctl *ctl, int argc, char **argv)
{
	return (ctl_action(ctl, CTL_FLUSH, NULL));
}

/* query */

/* Connect to a socketmap listener; -1 with errno. */
static int
ctl_connect_listener(const struct listen_addr *la)
{
	struct addrinfo	 hints, *res, *ai;
	char		 port[16];
	int		 fd = -1, saved = ECONNREFUSED, rc;

	if (la->is_unix)
		return (ctl_connect_unix(la->path, CTL_QUERY_TIMEOUT));
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", la->port);
	if ((rc = getaddrinfo(la->host, port, &hints, &res)) != 0) {
		errno = EHOSTUNREACH;
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1) {
			saved = errno;
			continue;
		}
		ctl_timeouts(fd, CTL_QUERY_TIMEOUT);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		errno = saved;
	return (fd);
}

/* "inet:HOST:PORT" or "unix:PATH" for messages. */
static void
ctl_listener_name(const struct listen_addr *la, char *buf, size_t len)
{
	if (la->is_unix)
		snprintf(buf, len, "unix:%s", la->path);
	else if (strchr(la->host, ':') != NULL)
		snprintf(buf, len, "inet:[%s]:%d", la->host, la->port);
	else
		snprintf(buf, len, "inet:%s:%d", la->host, la->port);
}

/* Send one socketmap request and read the reply payload (malloc'd). */
static int
ctl_socketmap(int fd, const char *req, char **payload, size_t *plen,
    const char **why)
{
	char		*buf, *out;
	const char	*data;
	size_t		 len = 0, need, dlen, used, bufsz = REPLY_MAX + 32;
	ssize_t		 n;

	need = netstring_encode(NULL, 0, req, strlen(req));
	out = xmalloc(need + 1);
	netstring_encode(out, need + 1, req, strlen(req));
	if (ctl_send_all(fd, out, need) != 0) {
		free(out);
		*why = strerror(errno);
		return (-1);
	}
	free(out);
	buf = xmalloc(bufsz);
	for (;;) {
		switch (netstring_decode(buf, len, REPLY_MAX, &data, &dlen,
		    &used)) {
		case NETSTRING_OK:
			*payload = xstrndup(data, dlen);
			*plen = dlen;
			free(buf);
			return (0);
		case NETSTRING_ERROR:
			free(buf);
			*why = "the reply is not a netstring";
			return (-1);
		case NETSTRING_MORE:
			break;
		}
		if (len == bufsz) {
			free(buf);
			*why = "the reply is too long";
			return (-1);
		}
		n = recv(fd, buf + len, bufsz - len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*why = n == 0 ? "connection closed before the reply" :
			    errno == EAGAIN || errno == EWOULDBLOCK ?
			    "no reply in time" : strerror(errno);
			free(buf);
			return (-1);
		}
		len += (size_t)n;
	}
}

int
ctl_cmd_query(struct ctl *ctl, int argc, char **argv)
{
	const struct listen_addr	*la = NULL;
	const char			*map, *why, *sp;
	char				 name[600], *req, *reply = NULL;
	size_t				 i, rlen = 0;
	int				 fd, status;
	struct json			 j;

	map = ctl->map != NULL ? ctl->map : CTL_DEFAULT_MAP;
	if (map[0] == '\0' || strchr(map, ' ') != NULL || argv[0][0] == '\0') {
		ctl_warnx("query: the map name and the key must not be empty, "
		    "nor the map name hold a space");
		return (ctl_usage_of("query"));
	}
	for (i = 0; i < ctl->cfg->nlisten; i++) {
		if (ctl->cfg->listen[i].proto == LISTEN_SOCKETMAP) {
			la = &ctl->cfg->listen[i];
			break;
		}
	}
	if (la == NULL) {
		ctl_warnx("no socketmap listener in %s",
		    ctl->cfgpath != NULL ? ctl->cfgpath : "the defaults");
		return (CTL_EXIT_CONFIG);
	}
	xasprintf(&req, "%s %s", map, argv[0]);
	if (strlen(req) > QUERY_MAX) {
		ctl_warnx("query: the request is over %d bytes", QUERY_MAX);
		free(req);
		return (ctl_usage_of("query"));
	}
	ctl_listener_name(la, name, sizeof name);
	if ((fd = ctl_connect_listener(la)) == -1) {
		status = errno == ECONNREFUSED || errno == ENOENT ?
		    CTL_EXIT_UNAVAILABLE : CTL_EXIT_SOFTWARE;
		if (status == CTL_EXIT_UNAVAILABLE)
			ctl_warnx("mtastsd is not running (socketmap %s: %s)",
			    name, strerror(errno));
		else
			ctl_warnx("socketmap %s: %s", name, strerror(errno));
		free(req);
		return (status);
	}
	if (ctl_socketmap(fd, req, &reply, &rlen, &why) != 0) {
		ctl_warnx("socketmap %s: %s", name, why);
		close(fd);
		free(req);
		return (CTL_EXIT_SOFTWARE);
	}
	close(fd);
	free(req);

	if (rlen >= 3 && memcmp(reply, "OK ", 3) == 0)
		status = CTL_EXIT_OK;
	else if (strcmp(reply, "NOTFOUND ") == 0)
		status = CTL_EXIT_WARN;
	else
		status = CTL_EXIT_ERROR;
	if (ctl->json) {
		sp = memchr(reply, ' ', rlen);
		json_start(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "map", map);
		json_str(&j, "key", argv[0]);
		json_str(&j, "listener", name);
		json_strn(&j, "reply", reply, rlen);
		json_strn(&j, "status", reply, sp != NULL ?
		    (size_t)(sp - reply) : rlen);
		json_strn(&j, "data", sp != NULL ? sp + 1 : "", sp != NULL ?
		    rlen - (size_t)(sp + 1 - reply) : 0);
		json_close(&j, '{');
		json_end(&j);
	} else {
		fwrite(reply, 1, rlen, stdout);
		putchar('\n');
	}
	free(reply);
	return (status);
}
