/*
 * ctl.h: mtastsctl, the administrator's tool.  One file per command
 * family (ctl-cache.c: list/show, ctl-daemon.c: stats/refresh/forget/
 * flush/query, ctl-resolve.c: resolve/check, ctl-lint.c: lint), the JSON
 * writer and reader (ctl-json.c), findings and their reports
 * (ctl-report.c), the TLS-RPT record checker (ctl-tlsrpt.c) and shared
 * helpers (ctl-util.c).  The
 * JSON output is a documented, stable schema (mtastsctl(8)).
 */
#ifndef MTASTS_CTL_H
#define MTASTS_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "defaults.h"
#include "dns.h"
#include "sts.h"

struct cache;
struct cache_entry;
struct config;

/* Exit statuses: sysexits(3) where one fits. */
#define CTL_EXIT_OK		0
#define CTL_EXIT_WARN		1	/* check/lint: warnings; else "not found" */
#define CTL_EXIT_ERROR		2	/* check/lint: errors */
#define CTL_EXIT_USAGE		64	/* EX_USAGE */
#define CTL_EXIT_NOINPUT	66	/* EX_NOINPUT: a file cannot be read */
#define CTL_EXIT_UNAVAILABLE	69	/* EX_UNAVAILABLE: mtastsd not running */
#define CTL_EXIT_SOFTWARE	70	/* EX_SOFTWARE: a reply we do not understand */
#define CTL_EXIT_IOERR		74	/* EX_IOERR: the cache file cannot be written */
#define CTL_EXIT_NOPERM		77	/* EX_NOPERM: the daemon refused us */
#define CTL_EXIT_CONFIG		78	/* EX_CONFIG: the configuration is bad */

/* Limits. */
#define CTL_REPLY_MAX		(256 * 1024)	/* bytes of one control reply */
#define CTL_CONTROL_TIMEOUT	10		/* s for one control exchange */
#define CTL_QUERY_TIMEOUT	(DISCOVERY_TIMEOUT + 15) /* s for a socketmap reply */
#define CTL_RESOLVE_TIMEOUT	120		/* s for resolve/check, whatever happens */
#define CTL_CERT_WARN_DAYS	14		/* check: certificate expiry warning */
#define CTL_MAX_AGE_ADVICE	604800		/* check/lint: max_age below a week */
#define CTL_LINT_MAX		(POLICY_MAX + 1) /* bytes of a file lint reads */
#define CTL_MX_MAX		64		/* MX records kept by check */
#define CTL_JSON_DEPTH_MAX	32		/* nesting, writer and reader */

/* Options given on the command line (bits of ctl.given). */
enum ctl_opt {
	CTL_OPT_JSON = 0x001,
	CTL_OPT_RESOLVER = 0x002,
	CTL_OPT_CA_FILE = 0x004,
	CTL_OPT_EXPIRED = 0x008,
	CTL_OPT_FAILED = 0x010,
	CTL_OPT_MODE = 0x020,
	CTL_OPT_MAP = 0x040,
	CTL_OPT_ALL = 0x080,
	CTL_OPT_TXT = 0x100,
	CTL_OPT_TLSRPT = 0x200
};

/* What every command sees. */
struct ctl {
	const char	*cfgpath;	/* the file read, or NULL for defaults */
	struct config	*cfg;
	int		 json;
	int		 color;		/* stdout is a terminal and NO_COLOR unset */
	unsigned	 given;		/* enum ctl_opt bits */

	const char	*resolvers[DNS_SERVERS_MAX];
	size_t		 nresolvers;
	const char	*ca_file;
	const char	*mode;
	const char	*map;
	const char	*txt;
	const char	*tlsrpt;
};

/* One command: name, handler, usage and the options it accepts. */
struct ctl_cmd {
	const char	*name;
	int		(*run)(struct ctl *, int argc, char **argv);
	int		 min_args;
	int		 max_args;
	unsigned	 opts;
	const char	*usage;
};

/* mtastsctl.c */
/* Print the usage of one command (stderr); returns CTL_EXIT_USAGE. */
int		 ctl_usage_of(const char *name);

/* ctl-util.c: shared helpers. */
void		 ctl_warnx(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
/* Normalise a domain argument; -1 (message printed) if it is not one. */
int		 ctl_domain(const char *arg, char *out);
enum ctl_color { CTL_RESET, CTL_BOLD, CTL_RED, CTL_YELLOW, CTL_GREEN, CTL_CYAN };
/* An SGR escape when colour is on, "" otherwise. */
const char	*ctl_sgr(const struct ctl *, enum ctl_color);
/* "3h ago", "in 2d", "-" for 0 (into buf). */
const char	*ctl_reltime(time_t t, time_t now, char *buf, size_t len);
/* "1d", "2h30m", "45s" (into buf). */
const char	*ctl_duration(int64_t secs, char *buf, size_t len);
/* The state of a cache entry: active, expired, no-record, failed, new. */
const char	*ctl_entry_state(const struct cache_entry *, time_t now);
/* Whether a reason code says the domain publishes no policy (RFC 8461
 * 3.1: no record, or not exactly one valid one): not a failure. */
int		 ctl_reason_no_record(const char *reason);
/*
 * How to label an entry's last_error: "last error" for a failure, "no
 * policy" when the domain publishes none, "last check" when its record
 * is gone but a cached policy still applies; NULL without last_error.
 */
const char	*ctl_entry_error_label(const struct cache_entry *);

/* ctl-json.c: a streaming writer (one line, valid UTF-8 always). */
struct json {
	FILE	*f;
	int	 depth;
	int	 count[CTL_JSON_DEPTH_MAX + 1];
};
void	json_start(struct json *, FILE *);
/* Open "{" or "[" (type), as the member key in an object (NULL in arrays). */
void	json_open(struct json *, const char *key, int type);
void	json_close(struct json *, int type);
void	json_str(struct json *, const char *key, const char *s);
void	json_strn(struct json *, const char *key, const char *s, size_t len);
void	json_int(struct json *, const char *key, int64_t);
void	json_uint(struct json *, const char *key, uint64_t);
void	json_bool(struct json *, const char *key, int);
void	json_null(struct json *, const char *key);
/* End the document with a newline. */
void	json_end(struct json *);

/* ctl-json.c: a small reader for the daemon's replies. */
enum jv_type { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT };
struct jv {
	enum jv_type	  type;
	int		  b;
	double		  num;
	char		 *str;		/* strings: NUL-terminated UTF-8 */
	size_t		  n;		/* arrays and objects */
	char		**keys;		/* objects */
	struct jv	**items;
};
/* Parse one JSON value (trailing whitespace allowed); NULL with *err. */
struct jv	*jv_parse(const char *s, size_t len, const char **err);
void		 jv_free(struct jv *);
/* The member key of an object (NULL if absent or not an object). */
const struct jv	*jv_get(const struct jv *, const char *key);
/* A number member as an unsigned integer, def when absent. */
uint64_t	 jv_uint(const struct jv *, const char *key, uint64_t def);
/* A string member, NULL when absent or not a string. */
const char	*jv_str(const struct jv *, const char *key);

/* ctl-report.c: findings from every step, with severity and rule. */
enum ctl_sev { CTL_NOTE = 0, CTL_WARNING, CTL_ERROR };
struct ctl_finding {
	enum ctl_sev	 sev;
	const char	*step;		/* "txt", "fetch", "policy", "mx", ... */
	int		 line;		/* policy line, 0 when none */
	const char	*code;		/* stable: "policy-blank-line" */
	const char	*rfc;		/* "RFC 8461 3.2" */
	char		*msg;
};
struct ctl_findings {
	struct ctl_finding	*f;
	size_t			 n;
	size_t			 alloc;
};
void	ctl_findings_add(struct ctl_findings *, enum ctl_sev, const char *step,
	    int line, const char *code, const char *rfc, const char *fmt, ...)
	    __attribute__((format(printf, 7, 8)));
/* The rule to cite for a parser finding: rule, or for a tolerance of
 * mtastsd a plain description of it. */
const char *ctl_rule(const char *code, const char *rule);
/* Copy the findings of a parse (errors stay errors, warnings warnings). */
void	ctl_findings_diag(struct ctl_findings *, const char *step,
	    const struct sts_diag *);
size_t	ctl_findings_count(const struct ctl_findings *, enum ctl_sev);
/* 0 = only notes or nothing, 1 = warnings, 2 = errors. */
int	ctl_findings_exit(const struct ctl_findings *);
void	ctl_findings_free(struct ctl_findings *);
const char *ctl_sev_name(enum ctl_sev);
/* "valid", "warnings", "errors" for an exit status. */
const char *ctl_result_name(int status);
/* One finding per line: "PREFIX:LINE: SEV: MSG [code, rule]" ("line N: ..."
 * without a prefix). */
void	ctl_findings_print(const struct ctl *, FILE *,
	    const struct ctl_findings *, const char *prefix, const char *indent);
void	ctl_findings_json(struct json *, const char *key,
	    const struct ctl_findings *);
/* {"mode", "max_age", "mx": [...], "text"} or null. */
void	ctl_policy_json(struct json *, const char *key,
	    const struct sts_policy *);
/* "mode enforce, max_age 86400 (1d), mx mx1.example.com, *.example.com" */
void	ctl_policy_summary(const struct sts_policy *, char *buf, size_t len);

/* ctl-tlsrpt.c: TLS-RPT records (RFC 8460 section 3).  Pure. */
#define CTL_TLSRPT_RUA_MAX	16	/* URIs kept from one rua field */
#define CTL_TLSRPT_RFC		"RFC 8460 3"
struct ctl_tlsrpt {
	char	*rua[CTL_TLSRPT_RUA_MAX];
	size_t	 nrua;
};
/* Whether a record is a candidate: "v=TLSRPTv1" then *WSP ";" or end. */
int	ctl_tlsrpt_candidate(const char *rec, size_t len);
/* Parse one candidate; 0 when valid (out filled when not NULL). */
int	ctl_tlsrpt_parse(const char *rec, size_t len, struct ctl_tlsrpt *out,
	    struct sts_diag *diag);
/* Whether s is a rua URI mailto:addr or https://host...; *why on failure. */
int	ctl_tlsrpt_uri_valid(const char *s, size_t len, const char **why);
void	ctl_tlsrpt_clear(struct ctl_tlsrpt *);

/* ctl-daemon.c: talking to the running daemon. */
enum ctl_conn {
	CTL_CONN_OK = 0,	/* a reply with "ok": true */
	CTL_CONN_DOWN,		/* no daemon listens on the control socket */
	CTL_CONN_DENIED,	/* the daemon (or the socket mode) refused us */
	CTL_CONN_FAILED,	/* "ok": false for another reason */
	CTL_CONN_ERROR		/* I/O error or a reply that is not JSON */
};
/*
 * Send one request on the control socket and parse the reply.  *reply is
 * set for CTL_CONN_OK and CTL_CONN_FAILED; *err (malloc'd) says what
 * happened otherwise, e.g. "mtastsd is not running (control socket
 * PATH: No such file or directory)".
 */
enum ctl_conn	 ctl_control(const struct ctl *, const char *request,
		    struct jv **reply, char **err);
/* Exit status for a connection outcome other than CTL_CONN_OK. */
int		 ctl_conn_exit(enum ctl_conn);
/* The entries the running daemon holds (its stats); -1 with *err. */
int		 ctl_daemon_entries(const struct ctl *, uint64_t *n,
		    enum ctl_conn *rc, char **err);
int		 ctl_cmd_stats(struct ctl *, int, char **);
int		 ctl_cmd_refresh(struct ctl *, int, char **);
int		 ctl_cmd_forget(struct ctl *, int, char **);
int		 ctl_cmd_flush(struct ctl *, int, char **);
int		 ctl_cmd_query(struct ctl *, int, char **);

/* ctl-cache.c: reading the cache file. */
/*
 * Ask a running daemon to sync, then open the cache file read-only.
 * *cache is NULL (and 0 returned) when there is no file yet; *running
 * says whether the daemon answered.  Non-zero exit status on failure.
 */
int		 ctl_cache_load(const struct ctl *, struct cache **cache,
		    int *running);
int		 ctl_cmd_list(struct ctl *, int, char **);
int		 ctl_cmd_show(struct ctl *, int, char **);

/* ctl-resolve.c */
int		 ctl_cmd_resolve(struct ctl *, int, char **);
int		 ctl_cmd_check(struct ctl *, int, char **);

/* ctl-lint.c */
int		 ctl_cmd_lint(struct ctl *, int, char **);

#endif
