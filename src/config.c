/*
 * config.c: the option table, the configuration file parser, the default
 * paths and the listing of every option (config_print).
 *
 * Every option is one row of config_options[]: its name, type, default
 * (written as it would be in a file and parsed by the same code), bounds,
 * where it is stored and a line of help.  config_default() applies the
 * defaults, config_load() applies a file on top of them, config_print()
 * and mtastsd.conf(5) describe the same rows (a unit test keeps the page
 * in step with the table).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "defaults.h"
#include "log.h"
#include "util.h"

#define CONFIG_WORDS_MAX	16	/* words on one line */
#define CONFIG_ZONE_NAME_MAX	64	/* bytes of a zone (map) name */
#define CONFIG_HOST_MAX		64	/* an IP address literal, with room */
#define CONFIG_WHY_MAX		256	/* one reason for a bad value */
#define CONFIG_SOCKET_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define CONFIG_UNIX_MODE	0666	/* socket mode when mode= is not given */

/* Defaults that only this module names. */
#define CONFIG_CACHE_ENTRIES	1000000
#define CONFIG_MAX_DISCOVERIES	256
#define CONFIG_MAX_CLIENTS	10000
#define CONFIG_CONTROL_ROOT	"/run/mtastsd/control"

#define CONFIG_STR(x)		#x
#define CONFIG_XSTR(x)		CONFIG_STR(x)

enum config_type {
	CT_STRING,	/* a non-empty word */
	CT_PATH,	/* an absolute path */
	CT_INT,		/* a plain decimal number */
	CT_SECONDS,	/* a duration: N, Ns, Nm, Nh or Nd */
	CT_MSECONDS,	/* a short duration: N, Nms or Ns */
	CT_SIZE,	/* bytes: N or Nk */
	CT_BOOL,	/* yes or no */
	CT_ENUM,	/* one word of a list, stored as its index */
	CT_HOSTPORT,	/* IPv4:PORT or [IPv6]:PORT */
	CT_LISTEN,	/* inet:HOST:PORT or unix:PATH [mode= owner= group=] */
	CT_RESOLVER,	/* a DNS server address */
	CT_ZONE		/* NAME key=value ... */
};

#define F_REPEAT	0x1	/* may be given on several lines */
#define F_SOCKET	0x2	/* a path that must fit a unix socket address */
#define F_USER		0x4	/* a user name known to this system */
#define F_GROUP		0x8	/* a group name known to this system */

/* The UTF-8 byte-order mark some editors put at the start of a file. */
#define CONFIG_BOM	"\xef\xbb\xbf"
#define CONFIG_BOM_LEN	3

struct config_option {
	const char		*name;
	enum config_type	 type;
	const char		*arg;		/* the value's syntax word */
	const char		*def;		/* default as written in a file */
	char			*(*dyn)(void);	/* or a default computed at run time */
	const char		*dyn_text;	/* how the computed default is chosen */
	long long		 min;
	long long		 max;
	int			 flags;
	size_t			 off;		/* where the value lives */
	size_t			 size;
	const char * const	*choices;	/* CT_ENUM words, NULL-terminated */
	enum listen_proto	 proto;		/* CT_LISTEN */
	const char		*help;
};

#define FIELD(s, f)	.off = offsetof(struct s, f), \
			.size = sizeof(((struct s *)0)->f)

static const char *const config_yesno[] = { "no", "yes", NULL };
static const char *const config_levels[] = { "err", "warn", "info", "debug", NULL };
static const char *const config_logs[] = { "stderr", "syslog", NULL };
static const char *const config_testing[] = { "notfound", "enforce", NULL };

static const struct config_option config_options[] = {
	{ .name = "listen", .type = CT_LISTEN, .arg = "ADDR",
	  .def = DEFAULT_LISTEN, .flags = F_REPEAT, .proto = LISTEN_SOCKETMAP,
	  .help = "Postfix socketmap listener; the first listen line replaces "
	  "the default, none disables it" },
	{ .name = "exim-listen", .type = CT_LISTEN, .arg = "ADDR",
	  .flags = F_REPEAT, .proto = LISTEN_EXIM,
	  .help = "Exim line-protocol listener (${readsocket})" },
	{ .name = "control", .type = CT_PATH, .arg = "PATH",
	  .dyn = config_default_control,
	  .dyn_text = "root: " CONFIG_CONTROL_ROOT "; others: "
	  "$XDG_RUNTIME_DIR/mtastsd.control or /tmp/mtastsd-UID.control",
	  .flags = F_SOCKET, FIELD(config, control),
	  .help = "unix socket for mtastsctl" },
	{ .name = "metrics-listen", .type = CT_HOSTPORT, .arg = "HOST:PORT",
	  FIELD(config, metrics),
	  .help = "address serving Prometheus metrics over HTTP" },
	{ .name = "cache-file", .type = CT_PATH, .arg = "PATH",
	  .dyn = config_default_cache,
	  .dyn_text = "root: " DEFAULT_CACHE_ROOT "; others: "
	  "$XDG_STATE_HOME/mtastsd/cache.db or $HOME/" DEFAULT_CACHE_USER,
	  FIELD(config, cache_file),
	  .help = "SQLite file holding the policy cache" },
	{ .name = "cache-max-entries", .type = CT_INT, .arg = "N",
	  .def = CONFIG_XSTR(CONFIG_CACHE_ENTRIES), .min = 100, .max = 100000000,
	  FIELD(config, cache_max_entries),
	  .help = "domains kept in the cache" },
	{ .name = "resolver", .type = CT_RESOLVER, .arg = "ADDR",
	  .flags = F_REPEAT, .dyn_text = "the nameserver lines of /etc/resolv.conf",
	  .help = "DNS server asked (ADDR, ADDR@PORT, IPv4:PORT or [IPv6]:PORT)" },
	{ .name = "ca-file", .type = CT_PATH, .arg = "PATH",
	  FIELD(config, ca_file),
	  .help = "PEM bundle of trusted CAs (default: OpenSSL's, SSL_CERT_FILE)" },
	{ .name = "ca-dir", .type = CT_PATH, .arg = "PATH",
	  FIELD(config, ca_dir),
	  .help = "hashed directory of trusted CAs (default: OpenSSL's, SSL_CERT_DIR)" },
	{ .name = "discovery-timeout", .type = CT_SECONDS, .arg = "DURATION",
	  .def = CONFIG_XSTR(DISCOVERY_TIMEOUT) "s", .min = 1, .max = 90,
	  FIELD(config, discovery_timeout),
	  .help = "longest wait of a query for a never-seen domain" },
	{ .name = "fetch-timeout", .type = CT_SECONDS, .arg = "DURATION",
	  .def = CONFIG_XSTR(DEFAULT_FETCH_TIMEOUT) "s", .min = 1, .max = 60,
	  FIELD(config, fetch_timeout),
	  .help = "whole HTTPS policy fetch, all addresses" },
	{ .name = "dns-timeout", .type = CT_MSECONDS, .arg = "DURATION",
	  .def = CONFIG_XSTR(DNS_TIMEOUT_MS) "ms", .min = 100, .max = 10000,
	  FIELD(config, dns_timeout_ms),
	  .help = "one DNS try at one server" },
	{ .name = "dns-tries", .type = CT_INT, .arg = "N",
	  .def = CONFIG_XSTR(DNS_TRIES), .min = 1, .max = 5,
	  FIELD(config, dns_tries),
	  .help = "rounds over the resolver list" },
	{ .name = "max-policy-size", .type = CT_SIZE, .arg = "SIZE",
	  .def = CONFIG_XSTR(POLICY_MAX), .min = 1024, .max = 1048576,
	  FIELD(config, max_policy_size),
	  .help = "largest policy body accepted, bytes" },
	{ .name = "max-discoveries", .type = CT_INT, .arg = "N",
	  .def = CONFIG_XSTR(CONFIG_MAX_DISCOVERIES), .min = 1, .max = 10000,
	  FIELD(config, max_discoveries),
	  .help = "discoveries running at once" },
	{ .name = "max-clients", .type = CT_INT, .arg = "N",
	  .def = CONFIG_XSTR(CONFIG_MAX_CLIENTS), .min = 1, .max = 100000,
	  FIELD(config, max_clients),
	  .help = "client connections open at once" },
	{ .name = "client-idle-timeout", .type = CT_SECONDS, .arg = "DURATION",
	  .def = CONFIG_XSTR(CLIENT_IDLE_TIMEOUT) "s", .min = 1, .max = 86400,
	  FIELD(config, client_idle_timeout),
	  .help = "close a client connection idle this long" },
	{ .name = "refresh-interval", .type = CT_SECONDS, .arg = "DURATION",
	  .def = CONFIG_XSTR(REFRESH_MIN) "s", .min = 1, .max = MAX_AGE_CLAMP,
	  FIELD(config, refresh_min),
	  .help = "re-fetch each cached policy at least this often" },
	{ .name = "retry-min", .type = CT_SECONDS, .arg = "DURATION",
	  .def = CONFIG_XSTR(RETRY_MIN) "s", .min = 1, .max = 86400,
	  FIELD(config, retry_min),
	  .help = "first wait after a failed discovery (RFC 8461 3.3: >= 300s)" },
	{ .name = "retry-max", .type = CT_SECONDS, .arg = "DURATION",
	  .def = CONFIG_XSTR(RETRY_MAX) "s", .min = 1, .max = 604800,
	  FIELD(config, retry_max),
	  .help = "longest wait between retries (>= retry-min)" },
	{ .name = "ttl-min", .type = CT_SECONDS, .arg = "DURATION",
	  .def = CONFIG_XSTR(TTL_MIN) "s", .min = 0, .max = 86400,
	  FIELD(config, ttl_min),
	  .help = "lower clamp of TXT and negative TTLs" },
	{ .name = "ttl-max", .type = CT_SECONDS, .arg = "DURATION",
	  .def = CONFIG_XSTR(TTL_MAX) "s", .min = 1, .max = 604800,
	  FIELD(config, ttl_max),
	  .help = "upper clamp of TXT and negative TTLs (>= ttl-min)" },
	{ .name = "zone", .type = CT_ZONE, .arg = "NAME KEY=VALUE...",
	  .flags = F_REPEAT,
	  .help = "reply options for one socketmap name (* for all others)" },
	{ .name = "log-level", .type = CT_ENUM, .arg = "err|warn|info|debug",
	  .def = "info", .choices = config_levels, FIELD(config, log_level),
	  .help = "least important messages logged" },
	{ .name = "log", .type = CT_ENUM, .arg = "stderr|syslog",
	  .def = "stderr", .choices = config_logs, FIELD(config, log_syslog),
	  .help = "where messages go (syslog: facility mail)" },
	{ .name = "user", .type = CT_STRING, .arg = "NAME",
	  .flags = F_USER, FIELD(config, user),
	  .help = "user to run as after opening sockets and files" },
	{ .name = "group", .type = CT_STRING, .arg = "NAME",
	  .flags = F_GROUP, FIELD(config, group),
	  .help = "group to run as (default: the user's group)" },
	{ .name = "pidfile", .type = CT_PATH, .arg = "PATH",
	  FIELD(config, pidfile),
	  .help = "file receiving the daemon's process id" },
};
#define CONFIG_NOPTIONS	(sizeof config_options / sizeof config_options[0])

/* The keys of a zone line, stored in struct reply_opts. */
static const struct config_option config_zone_keys[] = {
	{ .name = "servername", .type = CT_BOOL, .def = "yes",
	  .choices = config_yesno, FIELD(reply_opts, servername),
	  .help = "append servername=hostname (Postfix >= 3.4)" },
	{ .name = "tlsrpt", .type = CT_BOOL, .def = "no",
	  .choices = config_yesno, FIELD(reply_opts, tlsrpt),
	  .help = "append TLSRPT attributes (Postfix >= 3.10)" },
	{ .name = "testing", .type = CT_ENUM, .def = "notfound",
	  .choices = config_testing, FIELD(reply_opts, testing_enforce),
	  .help = "answer for testing-mode policies" },
};
#define CONFIG_NZONE_KEYS (sizeof config_zone_keys / sizeof config_zone_keys[0])

/* Units of the numeric types; "" is the plain number. */
struct config_unit {
	const char	*suffix;
	long long	 mult;
};
static const struct config_unit config_units_int[] = {
	{ "", 1 }, { NULL, 0 }
};
static const struct config_unit config_units_s[] = {
	{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	{ NULL, 0 }
};
static const struct config_unit config_units_ms[] = {
	{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { NULL, 0 }
};
static const struct config_unit config_units_size[] = {
	{ "", 1 }, { "k", 1024 }, { "K", 1024 }, { NULL, 0 }
};

/* The state of one parse. */
struct config_ctx {
	struct config	*cfg;
	const char	*file;
	size_t		 line;
	int		 defaults;	/* applying the built-in defaults */
	char		**errs;
	size_t		 nerrs;
	int		 stop;		/* CONFIG_ERRORS_MAX reached */
	size_t		 first[CONFIG_NOPTIONS];	/* line first set, 0: not */
	size_t		 listen_line[CONFIG_LISTEN_MAX];
	size_t		 none_line[2];	/* "listen none", per proto */
	size_t		 added[2];	/* listen lines added, per proto */
	size_t		 addresses;	/* listener lines other than none */
	size_t		 zone_line[CONFIG_ZONES_MAX];
	size_t		 default_zone_line;
};

static void	config_error(struct config_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Look user and group names up while parsing (config_check_names). */
static int	config_names = 1;

void
config_check_names(int on)
{
	config_names = on;
}

/* Whether a user (group: a group) of this name exists here. */
static int
config_name_known(const char *name, int group, const char **why)
{
	if (!config_names)
		return (1);
	if (group ? getgrnam(name) != NULL : getpwnam(name) != NULL)
		return (1);
	*why = group ? "no such group on this system" :
	    "no such user on this system";
	return (0);
}

/* Record one error as "file:line: message"; stop at CONFIG_ERRORS_MAX. */
static void
config_error(struct config_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *s;

	if (ctx->stop)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	if (ctx->nerrs == CONFIG_ERRORS_MAX - 1) {
		free(msg);
		msg = xstrdup("too many errors, giving up");
		ctx->stop = 1;
	}
	if (ctx->line > 0)
		xasprintf(&s, "%s:%zu: %s", ctx->file, ctx->line, msg);
	else
		xasprintf(&s, "%s: %s", ctx->file, msg);
	free(msg);
	ctx->errs[ctx->nerrs++] = s;
}

static int
config_blank(int c)
{
	return (c == ' ' || c == '\t' || c == '\r');
}

/*
 * Split a line in place into words.  Blanks separate words, '#' outside
 * quotes starts a comment, and "..." makes one word of text holding
 * blanks or '#' (no escapes: a word cannot hold a double quote).
 */
static int
config_split(char *p, char **w, size_t *n, const char **why)
{
	char	*start;

	*n = 0;
	for (;;) {
		while (config_blank(*p))
			p++;
		if (*p == '\0' || *p == '#')
			return (0);
		if (*n == CONFIG_WORDS_MAX) {
			*why = "too many words on one line";
			return (-1);
		}
		if (*p == '"') {
			start = ++p;
			if ((p = strchr(p, '"')) == NULL) {
				*why = "unterminated quote";
				return (-1);
			}
			*p++ = '\0';
			if (*p != '\0' && *p != '#' && !config_blank(*p)) {
				*why = "text right after a closing quote";
				return (-1);
			}
			w[(*n)++] = start;
			continue;
		}
		start = p;
		while (*p != '\0' && *p != '#' && *p != '"' && !config_blank(*p))
			p++;
		if (*p == '"') {
			*why = "a quote inside a word";
			return (-1);
		}
		w[(*n)++] = start;
		if (*p == '#' || *p == '\0') {
			*p = '\0';
			return (0);
		}
		*p++ = '\0';
	}
}

static const struct config_option *
config_find(const char *name, size_t *idx)
{
	size_t	i;

	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		if (strcmp(config_options[i].name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return (&config_options[i]);
		}
	}
	return (NULL);
}

static const struct config_unit *
config_units(enum config_type type)
{
	switch (type) {
	case CT_SECONDS:
		return (config_units_s);
	case CT_MSECONDS:
		return (config_units_ms);
	case CT_SIZE:
		return (config_units_size);
	default:
		return (config_units_int);
	}
}

/* The unit a numeric type is printed in. */
static const char *
config_unit_name(enum config_type type)
{
	switch (type) {
	case CT_SECONDS:
		return ("s");
	case CT_MSECONDS:
		return ("ms");
	default:
		return ("");
	}
}

static int
config_numeric(enum config_type type)
{
	return (type == CT_INT || type == CT_SECONDS || type == CT_MSECONDS ||
	    type == CT_SIZE);
}

/* "1s to 90s" for a numeric option, "" otherwise. */
static void
config_bounds(const struct config_option *o, char *buf, size_t len)
{
	const char	*u = config_unit_name(o->type);

	if (!config_numeric(o->type)) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "%lld%s to %lld%s", o->min, u, o->max, u);
}

/* Parse a number with one of the type's unit suffixes into *v. */
static int
config_number(const struct config_option *o, const char *s, long long *v,
    char *why, size_t len)
{
	const struct config_unit	*u;
	const char			*p;
	long long			 n = 0;
	char				 b[64];

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (n > (LLONG_MAX - (*p - '0')) / 10) {
			snprintf(why, len, "too large");
			return (-1);
		}
		n = n * 10 + (*p - '0');
	}
	for (u = config_units(o->type); p != s && u->suffix != NULL; u++) {
		if (strcmp(p, u->suffix) == 0)
			break;
	}
	if (p == s || u->suffix == NULL) {
		switch (o->type) {
		case CT_SECONDS:
			snprintf(why, len, "not a duration (N, Ns, Nm, Nh or Nd)");
			break;
		case CT_MSECONDS:
			snprintf(why, len, "not a duration (N, Nms or Ns)");
			break;
		case CT_SIZE:
			snprintf(why, len, "not a size (N or Nk)");
			break;
		default:
			snprintf(why, len, "not a number");
			break;
		}
		return (-1);
	}
	if (n > LLONG_MAX / u->mult) {
		snprintf(why, len, "too large");
		return (-1);
	}
	n *= u->mult;
	if (n < o->min || n > o->max) {
		config_bounds(o, b, sizeof b);
		snprintf(why, len, "out of range (%s)", b);
		return (-1);
	}
	*v = n;
	return (0);
}

static int
config_is_ip(const char *s)
{
	struct in6_addr	a;

	return (inet_pton(AF_INET, s, &a) == 1 ||
	    inet_pton(AF_INET6, s, &a) == 1);
}

/*
 * A port: a decimal number from 1 to 65535.  A leading zero is refused
 * rather than ignored: "028461" is more likely a typing slip than 28461.
 */
static int
config_port(const char *s, int *port, const char **why)
{
	size_t	i;
	long	n = 0;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (n <= 65535)
			n = n * 10 + (s[i] - '0');
	}
	if (i > 1 && s[0] == '0' && s[i] == '\0') {
		*why = "port must be a decimal number without leading zeros";
		return (-1);
	}
	if (i == 0 || s[i] != '\0' || n < 1 || n > 65535) {
		*why = "port must be 1 to 65535";
		return (-1);
	}
	*port = (int)n;
	return (0);
}

/* Whether s up to its first ':' could start an IPv6 address. */
static int
config_ipv6ish(const char *s)
{
	for (; *s != ':'; s++) {
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F')))
			return (0);
	}
	return (1);
}

/* Split "IPv4:PORT" or "[IPv6]:PORT" into an address and a port. */
static int
config_hostport(const char *s, char *host, size_t hlen, int *port,
    const char **why)
{
	struct in6_addr	 a;
	const char	*end, *ps;
	size_t		 n;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL) {
			*why = "missing ] after an IPv6 address";
			return (-1);
		}
		n = end - (s + 1);
		if (n >= hlen) {
			*why = "not an IPv6 address";
			return (-1);
		}
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &a) != 1) {
			*why = "not an IPv6 address";
			return (-1);
		}
		if (end[1] != ':') {
			*why = "missing :PORT";
			return (-1);
		}
		ps = end + 2;
	} else {
		if ((end = strrchr(s, ':')) == NULL) {
			*why = "missing :PORT";
			return (-1);
		}
		n = end - s;
		if (memchr(s, ':', n) != NULL) {
			*why = config_ipv6ish(s) ?
			    "an IPv6 address needs brackets: [ADDR]:PORT" :
			    "not IPv4:PORT or [IPv6]:PORT";
			return (-1);
		}
		if (n >= hlen) {
			*why = "not an IPv4 address (names are not resolved)";
			return (-1);
		}
		memcpy(host, s, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, &a) != 1) {
			*why = "not an IPv4 address (names are not resolved)";
			return (-1);
		}
		ps = end + 1;
	}
	return (config_port(ps, port, why));
}

/* Accept a resolver in one of the forms dns.h lists. */
static int
config_resolver_check(const char *s, const char **why)
{
	char		 host[CONFIG_HOST_MAX];
	const char	*at;
	size_t		 n;
	int		 port;

	if (config_is_ip(s))
		return (0);
	if ((at = strchr(s, '@')) != NULL) {
		n = at - s;
		if (n >= sizeof host) {
			*why = "not an IP address before @";
			return (-1);
		}
		memcpy(host, s, n);
		host[n] = '\0';
		if (!config_is_ip(host)) {
			*why = "not an IP address before @";
			return (-1);
		}
		return (config_port(at + 1, &port, why));
	}
	if (*s == '[' || strchr(s, ':') != NULL)
		return (config_hostport(s, host, sizeof host, &port, why));
	*why = "not an IP address (ADDR, ADDR@PORT, IPv4:PORT or [IPv6]:PORT)";
	return (-1);
}

/* Check a path: non-empty, absolute, short enough for a socket if asked. */
static int
config_path_check(const char *s, int flags, const char **why)
{
	if (*s == '\0') {
		*why = "empty value";
		return (-1);
	}
	if (*s != '/') {
		*why = "not an absolute path";
		return (-1);
	}
	if ((flags & F_SOCKET) && strlen(s) > CONFIG_SOCKET_MAX) {
		*why = "too long for a unix socket path";
		return (-1);
	}
	return (0);
}

/* Store v in an int or size_t field. */
static void
config_store(const struct config_option *o, void *base, long long v)
{
	char	*f = (char *)base + o->off;

	if (o->size == sizeof(int))
		*(int *)f = (int)v;
	else
		*(size_t *)f = (size_t)v;
}

static long long
config_fetch(const struct config_option *o, const void *base)
{
	const char	*f = (const char *)base + o->off;

	if (o->size == sizeof(int))
		return (*(const int *)f);
	return ((long long)*(const size_t *)f);
}

/* "one of a, b, c" or "yes or no" for a list of words. */
static void
config_choices(const char *const *c, char *buf, size_t len)
{
	size_t	i, off;

	if (c == config_yesno) {
		snprintf(buf, len, "yes or no");
		return;
	}
	off = snprintf(buf, len, "one of");
	for (i = 0; c[i] != NULL && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i == 0 ? " " : ", ",
		    c[i]);
}

/* Parse one word for a single-valued option and store it under base. */
static int
config_scalar(const struct config_option *o, const char *w, void *base,
    char *why, size_t len)
{
	char		**sp = (char **)((char *)base + o->off);
	const char	 *r = NULL;
	char		  host[CONFIG_HOST_MAX];
	long long	  v;
	int		  port;
	size_t		  i;

	switch (o->type) {
	case CT_STRING:
		if (*w == '\0')
			r = "empty value";
		break;
	case CT_PATH:
		config_path_check(w, o->flags, &r);
		break;
	case CT_HOSTPORT:
		/* The inet: of a listener is allowed, and dropped. */
		if (strncmp(w, "inet:", 5) == 0)
			w += 5;
		else if (strncmp(w, "unix:", 5) == 0) {
			r = "a TCP address only: IPv4:PORT or [IPv6]:PORT";
			break;
		}
		config_hostport(w, host, sizeof host, &port, &r);
		break;
	case CT_BOOL:
	case CT_ENUM:
		for (i = 0; o->choices[i] != NULL; i++) {
			if (strcmp(w, o->choices[i]) == 0) {
				config_store(o, base, (long long)i);
				return (0);
			}
		}
		snprintf(why, len, "not ");
		config_choices(o->choices, why + 4, len - 4);
		return (-1);
	case CT_INT:
	case CT_SECONDS:
	case CT_MSECONDS:
	case CT_SIZE:
		if (config_number(o, w, &v, why, len) == -1)
			return (-1);
		config_store(o, base, v);
		return (0);
	default:
		fatalx("config_scalar: option %s is not scalar", o->name);
	}
	if (r != NULL) {
		snprintf(why, len, "%s", r);
		return (-1);
	}
	free(*sp);
	*sp = xstrdup(w);
	return (0);
}

void
config_listen_clear(struct listen_addr *la)
{
	free(la->host);
	free(la->path);
	free(la->owner);
	free(la->group);
	memset(la, 0, sizeof *la);
}

/* Parse the mode=, owner= and group= words of a unix listener. */
static int
config_listen_opt(const char *w, struct listen_addr *la, int *have_mode,
    const char **why)
{
	const char	*v;
	size_t		 i;
	mode_t		 m = 0;

	if (strncmp(w, "mode=", 5) == 0) {
		v = w + 5;
		for (i = 0; v[i] >= '0' && v[i] <= '7' && i < 4; i++)
			m = m * 8 + (mode_t)(v[i] - '0');
		if (*have_mode) {
			*why = "mode= given twice";
			return (-1);
		}
		if (i == 0 || v[i] != '\0' || m > 0777) {
			*why = "mode= must be octal, 0 to 0777";
			return (-1);
		}
		la->mode = m;
		*have_mode = 1;
		return (0);
	}
	if (strncmp(w, "owner=", 6) == 0 || strncmp(w, "group=", 6) == 0) {
		char	**dst = (w[0] == 'o') ? &la->owner : &la->group;

		if (*dst != NULL) {
			*why = w[0] == 'o' ? "owner= given twice" :
			    "group= given twice";
			return (-1);
		}
		if (w[6] == '\0') {
			*why = w[0] == 'o' ? "owner= needs a user" :
			    "group= needs a group";
			return (-1);
		}
		*dst = xstrdup(w + 6);
		return (0);
	}
	*why = "unknown word (mode=, owner= or group= expected)";
	return (-1);
}

/* Parse the words of a listener: an address and, for unix, options. */
static int
config_listen_words(char **w, size_t n, struct listen_addr *la,
    const char **why)
{
	char	host[CONFIG_HOST_MAX];
	size_t	i;
	int	have_mode = 0;

	memset(la, 0, sizeof *la);
	la->proto = LISTEN_SOCKETMAP;
	la->mode = CONFIG_UNIX_MODE;
	if (n == 0) {
		*why = "empty address";
		return (-1);
	}
	if (strncmp(w[0], "inet:", 5) == 0) {
		if (config_hostport(w[0] + 5, host, sizeof host, &la->port,
		    why) == -1)
			return (-1);
		if (n > 1) {
			*why = "mode=, owner= and group= apply to unix: only";
			return (-1);
		}
		la->host = xstrdup(host);
		return (0);
	}
	if (strncmp(w[0], "unix:", 5) != 0) {
		*why = "not inet:HOST:PORT or unix:PATH";
		return (-1);
	}
	if (config_path_check(w[0] + 5, F_SOCKET, why) == -1)
		return (-1);
	la->is_unix = 1;
	la->path = xstrdup(w[0] + 5);
	for (i = 1; i < n; i++) {
		if (config_listen_opt(w[i], la, &have_mode, why) == -1) {
			config_listen_clear(la);
			return (-1);
		}
	}
	return (0);
}

int
config_parse_listen(const char *s, struct listen_addr *la, const char **why)
{
	char	*copy, *w[CONFIG_WORDS_MAX];
	size_t	 n;
	int	 rv = -1;

	memset(la, 0, sizeof *la);
	copy = xstrdup(s);
	if (config_split(copy, w, &n, why) == 0)
		rv = config_listen_words(w, n, la, why);
	free(copy);
	return (rv);
}

static int
config_listen_same(const struct listen_addr *a, const struct listen_addr *b)
{
	if (a->is_unix != b->is_unix)
		return (0);
	if (a->is_unix)
		return (strcmp(a->path, b->path) == 0);
	return (a->port == b->port && strcmp(a->host, b->host) == 0);
}

/* Drop every listener of one protocol (the default being replaced). */
static void
config_listen_drop(struct config_ctx *ctx, enum listen_proto proto)
{
	struct config	*cfg = ctx->cfg;
	size_t		 i, j = 0;

	for (i = 0; i < cfg->nlisten; i++) {
		if (cfg->listen[i].proto == proto) {
			config_listen_clear(&cfg->listen[i]);
			continue;
		}
		cfg->listen[j] = cfg->listen[i];
		ctx->listen_line[j++] = ctx->listen_line[i];
	}
	for (i = j; i < cfg->nlisten; i++)
		memset(&cfg->listen[i], 0, sizeof cfg->listen[i]);
	cfg->nlisten = j;
}

/* Check the owner= and group= names of a unix listener. */
static int
config_listen_names(const struct listen_addr *la, char *buf, size_t len)
{
	const char	*why;

	if (la->owner != NULL && !config_name_known(la->owner, 0, &why)) {
		snprintf(buf, len, "owner=%s: %s", la->owner, why);
		return (-1);
	}
	if (la->group != NULL && !config_name_known(la->group, 1, &why)) {
		snprintf(buf, len, "group=%s: %s", la->group, why);
		return (-1);
	}
	return (0);
}

/* listen / exim-listen: add one listener, or "none". */
static void
config_add_listen(struct config_ctx *ctx, const struct config_option *o,
    char **w, size_t n)
{
	struct config		*cfg = ctx->cfg;
	struct listen_addr	 la;
	const char		*why;
	char			 bad[CONFIG_WHY_MAX];
	size_t			 i;

	if (!ctx->defaults && ctx->added[o->proto] == 0 &&
	    ctx->none_line[o->proto] == 0)
		config_listen_drop(ctx, o->proto);
	if (n == 1 && strcmp(w[0], "none") == 0) {
		if (ctx->added[o->proto] != 0 || ctx->none_line[o->proto] != 0) {
			config_error(ctx, "%s none: cannot be combined with "
			    "other %s lines", o->name, o->name);
			return;
		}
		ctx->none_line[o->proto] = ctx->line;
		return;
	}
	ctx->addresses++;
	if (ctx->none_line[o->proto] != 0) {
		config_error(ctx, "%s \"%s\": %s none was given at line %zu",
		    o->name, w[0], o->name, ctx->none_line[o->proto]);
		return;
	}
	ctx->added[o->proto]++;
	if (config_listen_words(w, n, &la, &why) == -1) {
		config_error(ctx, "%s \"%s\": %s", o->name, w[0], why);
		return;
	}
	la.proto = o->proto;
	if (config_listen_names(&la, bad, sizeof bad) == -1) {
		config_error(ctx, "%s \"%s\": %s", o->name, w[0], bad);
		config_listen_clear(&la);
		return;
	}
	for (i = 0; i < cfg->nlisten; i++) {
		if (!config_listen_same(&cfg->listen[i], &la))
			continue;
		if (ctx->listen_line[i] == 0)
			config_error(ctx, "%s \"%s\": address already used by "
			    "the default listen", o->name, w[0]);
		else
			config_error(ctx, "%s \"%s\": address already used at "
			    "line %zu", o->name, w[0], ctx->listen_line[i]);
		config_listen_clear(&la);
		return;
	}
	if (cfg->nlisten == CONFIG_LISTEN_MAX) {
		config_error(ctx, "%s \"%s\": more than %d listeners", o->name,
		    w[0], CONFIG_LISTEN_MAX);
		config_listen_clear(&la);
		return;
	}
	ctx->listen_line[cfg->nlisten] = ctx->line;
	cfg->listen[cfg->nlisten++] = la;
}

/* resolver: add one DNS server, stored as written. */
static void
config_add_resolver(struct config_ctx *ctx, const struct config_option *o,
    char **w, size_t n)
{
	struct dns_config	*dns = &ctx->cfg->dns;
	const char		*why;
	size_t			 i;

	if (n > 1) {
		config_error(ctx, "%s: one address per line", o->name);
		return;
	}
	if (config_resolver_check(w[0], &why) == -1) {
		config_error(ctx, "%s \"%s\": %s", o->name, w[0], why);
		return;
	}
	for (i = 0; i < dns->nservers; i++) {
		if (strcmp(dns->servers[i], w[0]) == 0) {
			config_error(ctx, "%s \"%s\": given twice", o->name,
			    w[0]);
			return;
		}
	}
	if (dns->nservers == DNS_SERVERS_MAX) {
		config_error(ctx, "%s \"%s\": more than %d servers", o->name,
		    w[0], DNS_SERVERS_MAX);
		return;
	}
	dns->servers[dns->nservers++] = xstrdup(w[0]);
}

/* Fill zone options with the built-in key defaults. */
static void
config_zone_defaults(struct reply_opts *opts)
{
	char	why[CONFIG_WHY_MAX];
	size_t	i;

	for (i = 0; i < CONFIG_NZONE_KEYS; i++) {
		if (config_scalar(&config_zone_keys[i], config_zone_keys[i].def,
		    opts, why, sizeof why) == -1)
			fatalx("zone key %s: bad default: %s",
			    config_zone_keys[i].name, why);
	}
}

static int
config_zone_name_ok(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > CONFIG_ZONE_NAME_MAX)
		return (0);
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '=')
			return (0);
	}
	return (1);
}

/* Apply the key=value words of a zone line to opts. */
static void
config_zone_keys_apply(struct config_ctx *ctx, const char *zname, char **w,
    size_t n, struct reply_opts *opts)
{
	const struct config_option	*k;
	char				 why[CONFIG_WHY_MAX], *eq;
	int				 seen[CONFIG_NZONE_KEYS];
	size_t				 i, j;

	memset(seen, 0, sizeof seen);
	for (i = 0; i < n; i++) {
		if ((eq = strchr(w[i], '=')) == NULL) {
			config_error(ctx, "zone %s: \"%s\" is not KEY=VALUE",
			    zname, w[i]);
			continue;
		}
		*eq = '\0';
		for (j = 0; j < CONFIG_NZONE_KEYS; j++) {
			if (strcmp(w[i], config_zone_keys[j].name) == 0)
				break;
		}
		if (j == CONFIG_NZONE_KEYS) {
			config_error(ctx, "zone %s: unknown key \"%s\" "
			    "(servername, tlsrpt or testing)", zname, w[i]);
			continue;
		}
		k = &config_zone_keys[j];
		if (seen[j]++) {
			config_error(ctx, "zone %s: %s given twice", zname,
			    k->name);
			continue;
		}
		if (config_scalar(k, eq + 1, opts, why, sizeof why) == -1)
			config_error(ctx, "zone %s: %s \"%s\": %s", zname,
			    k->name, eq + 1, why);
	}
}

/* zone NAME key=value...: one zone, or the default zone for "*". */
static void
config_add_zone(struct config_ctx *ctx, char **w, size_t n)
{
	struct config	*cfg = ctx->cfg;
	struct zone	*z;
	size_t		 i;

	if (!config_zone_name_ok(w[0])) {
		if (strchr(w[0], '=') != NULL)
			config_error(ctx, "zone: the zone name must come before "
			    "\"%s\"", w[0]);
		else
			config_error(ctx, "zone \"%s\": a name is 1 to %d "
			    "printable bytes", w[0], CONFIG_ZONE_NAME_MAX);
		return;
	}
	if (strcmp(w[0], "*") == 0) {
		if (ctx->default_zone_line != 0) {
			config_error(ctx, "zone *: given twice (first at line "
			    "%zu)", ctx->default_zone_line);
			return;
		}
		ctx->default_zone_line = ctx->line;
		config_zone_keys_apply(ctx, w[0], w + 1, n - 1,
		    &cfg->default_zone.opts);
		return;
	}
	for (i = 0; i < cfg->nzones; i++) {
		if (strcmp(cfg->zones[i].name, w[0]) == 0) {
			config_error(ctx, "zone %s: given twice (first at line "
			    "%zu)", w[0], ctx->zone_line[i]);
			return;
		}
	}
	if (cfg->nzones == CONFIG_ZONES_MAX) {
		config_error(ctx, "zone %s: more than %d zones", w[0],
		    CONFIG_ZONES_MAX);
		return;
	}
	z = &cfg->zones[cfg->nzones];
	ctx->zone_line[cfg->nzones++] = ctx->line;
	z->name = xstrdup(w[0]);
	config_zone_defaults(&z->opts);
	config_zone_keys_apply(ctx, w[0], w + 1, n - 1, &z->opts);
}

/* Apply the values of one option line. */
static void
config_apply(struct config_ctx *ctx, const struct config_option *o, char **w,
    size_t n)
{
	char		 why[CONFIG_WHY_MAX];
	const char	*r;

	switch (o->type) {
	case CT_LISTEN:
		config_add_listen(ctx, o, w, n);
		return;
	case CT_RESOLVER:
		config_add_resolver(ctx, o, w, n);
		return;
	case CT_ZONE:
		config_add_zone(ctx, w, n);
		return;
	default:
		break;
	}
	if (n > 1) {
		config_error(ctx, "%s: one value expected, %zu given (quote a "
		    "value holding blanks)", o->name, n);
		return;
	}
	if (config_scalar(o, w[0], ctx->cfg, why, sizeof why) == -1) {
		config_error(ctx, "%s \"%s\": %s", o->name, w[0], why);
		return;
	}
	if ((o->flags & (F_USER | F_GROUP)) &&
	    !config_name_known(w[0], (o->flags & F_GROUP) != 0, &r))
		config_error(ctx, "%s \"%s\": %s", o->name, w[0], r);
}

/* Handle one line of the file. */
static void
config_line(struct config_ctx *ctx, char *line)
{
	const struct config_option	*o;
	char				*w[CONFIG_WORDS_MAX];
	const char			*why;
	size_t				 n, i;

	if (config_split(line, w, &n, &why) == -1) {
		config_error(ctx, "%s", why);
		return;
	}
	if (n == 0)
		return;
	if ((o = config_find(w[0], &i)) == NULL) {
		config_error(ctx, "unknown option \"%s\"", w[0]);
		return;
	}
	if (n == 1) {
		config_error(ctx, "%s: missing value", o->name);
		return;
	}
	if (ctx->first[i] != 0 && !(o->flags & F_REPEAT)) {
		config_error(ctx, "%s: given twice (first at line %zu)",
		    o->name, ctx->first[i]);
		return;
	}
	if (ctx->first[i] == 0)
		ctx->first[i] = ctx->line;
	config_apply(ctx, o, w + 1, n - 1);
}

/* The later of the lines where two options were set (0: both defaults). */
static size_t
config_later_line(struct config_ctx *ctx, const char *a, const char *b)
{
	size_t	ia = 0, ib = 0;

	config_find(a, &ia);
	config_find(b, &ib);
	return (ctx->first[ia] > ctx->first[ib] ? ctx->first[ia] :
	    ctx->first[ib]);
}

/* Checks between options, once every line is read. */
static void
config_finish(struct config_ctx *ctx)
{
	struct config	*cfg = ctx->cfg;

	if (cfg->retry_max < cfg->retry_min) {
		ctx->line = config_later_line(ctx, "retry-min", "retry-max");
		config_error(ctx, "retry-max %ds is less than retry-min %ds",
		    cfg->retry_max, cfg->retry_min);
	}
	if (cfg->ttl_max < cfg->ttl_min) {
		ctx->line = config_later_line(ctx, "ttl-min", "ttl-max");
		config_error(ctx, "ttl-max %ds is less than ttl-min %ds",
		    cfg->ttl_max, cfg->ttl_min);
	}
	/* Without a listener the daemon serves nothing (bad lines said why). */
	if (cfg->nlisten == 0 && ctx->none_line[LISTEN_SOCKETMAP] != 0 &&
	    ctx->addresses == 0) {
		ctx->line = ctx->none_line[LISTEN_SOCKETMAP];
		config_error(ctx, "listen none and no exim-listen: nothing to "
		    "serve");
	}
	cfg->dns.timeout_ms = cfg->dns_timeout_ms;
	cfg->dns.tries = cfg->dns_tries;
}

/* What config_readline found. */
enum config_read {
	CONFIG_READ_LINE,	/* a line, in buf */
	CONFIG_READ_CONTROL,	/* a line holding a control character */
	CONFIG_READ_LONG,	/* a line over CONFIG_LINE_MAX: not read on */
	CONFIG_READ_BIG,	/* the file is over CONFIG_FILE_MAX */
	CONFIG_READ_END
};

/*
 * Read one line into buf (CONFIG_LINE_MAX + 1 bytes), adding the bytes
 * read to *total.  Reading stops at either limit, so that an endless
 * line or file (-c /dev/zero) cannot hold the parser.
 */
static enum config_read
config_readline(FILE *fp, char *buf, size_t *total)
{
	size_t	n = 0;
	int	c, any = 0, control = 0;

	while ((c = getc(fp)) != EOF) {
		any = 1;
		if (++*total > CONFIG_FILE_MAX)
			return (CONFIG_READ_BIG);
		if (c == '\n')
			break;
		if (n == CONFIG_LINE_MAX)
			return (CONFIG_READ_LONG);
		if ((c < ' ' && c != '\t' && c != '\r') || c == 0x7f)
			control = 1;
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (!any)
		return (CONFIG_READ_END);
	return (control ? CONFIG_READ_CONTROL : CONFIG_READ_LINE);
}

/* Hand the errors to the caller, or drop them when it did not ask. */
static void
config_errors_out(struct config_ctx *ctx, char ***errs, size_t *nerrs)
{
	if (errs != NULL && ctx->nerrs > 0) {
		*errs = ctx->errs;
		if (nerrs != NULL)
			*nerrs = ctx->nerrs;
		return;
	}
	config_errors_free(ctx->errs, ctx->nerrs);
	if (errs != NULL)
		*errs = NULL;
	if (nerrs != NULL)
		*nerrs = 0;
}

struct config *
config_default(void)
{
	const struct config_option	*o;
	struct config_ctx		 ctx;
	struct config			*cfg;
	char				*copy, *w[CONFIG_WORDS_MAX];
	const char			*why;
	size_t				 i, n;

	cfg = xcalloc(1, sizeof *cfg);
	memset(&ctx, 0, sizeof ctx);
	ctx.cfg = cfg;
	ctx.file = "built-in default";
	ctx.defaults = 1;
	ctx.errs = xcalloc(CONFIG_ERRORS_MAX, sizeof *ctx.errs);
	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		o = &config_options[i];
		if (o->dyn != NULL)
			*(char **)((char *)cfg + o->off) = o->dyn();
		if (o->def == NULL)
			continue;
		copy = xstrdup(o->def);
		if (config_split(copy, w, &n, &why) == -1)
			fatalx("option %s: default: %s", o->name, why);
		config_apply(&ctx, o, w, n);
		free(copy);
	}
	cfg->default_zone.name = xstrdup("*");
	config_zone_defaults(&cfg->default_zone.opts);
	config_finish(&ctx);
	if (ctx.nerrs > 0)
		fatalx("%s", ctx.errs[0]);
	free(ctx.errs);
	return (cfg);
}

struct config *
config_load_fp(FILE *fp, const char *name, char ***errs, size_t *nerrs)
{
	struct config_ctx	 ctx;
	char			*buf;
	size_t			 total = 0;
	enum config_read	 r;

	memset(&ctx, 0, sizeof ctx);
	ctx.cfg = config_default();
	ctx.cfg->path = xstrdup(name);
	ctx.file = name;
	ctx.errs = xcalloc(CONFIG_ERRORS_MAX, sizeof *ctx.errs);
	buf = xmalloc(CONFIG_LINE_MAX + 1);
	while (!ctx.stop && (r = config_readline(fp, buf, &total)) !=
	    CONFIG_READ_END) {
		if (r == CONFIG_READ_BIG) {
			ctx.line = 0;
			config_error(&ctx, "larger than %d bytes",
			    CONFIG_FILE_MAX);
			ctx.stop = 1;
			break;
		}
		ctx.line++;
		if (r == CONFIG_READ_LONG) {
			config_error(&ctx, "line longer than %d bytes, not "
			    "read further", CONFIG_LINE_MAX);
			ctx.stop = 1;
		} else if (r == CONFIG_READ_CONTROL)
			config_error(&ctx, "control character in line");
		else if (ctx.line == 1 &&
		    strncmp(buf, CONFIG_BOM, CONFIG_BOM_LEN) == 0)
			config_line(&ctx, buf + CONFIG_BOM_LEN);
		else
			config_line(&ctx, buf);
	}
	free(buf);
	if (ferror(fp)) {
		ctx.line = 0;
		config_error(&ctx, "read error: %s", strerror(errno));
	}
	if (!ctx.stop)
		config_finish(&ctx);
	if (ctx.nerrs == 0 && ctx.cfg->retry_min < RETRY_MIN)
		log_warnx("config file=%s retry-min=%ds below the 300s of RFC "
		    "8461 3.3: for tests only", name, ctx.cfg->retry_min);
	if (ctx.nerrs > 0) {
		config_free(ctx.cfg);
		ctx.cfg = NULL;
	}
	config_errors_out(&ctx, errs, nerrs);
	return (ctx.cfg);
}

struct config *
config_load(const char *path, char ***errs, size_t *nerrs)
{
	struct config_ctx	 ctx;
	struct config		*cfg;
	FILE			*fp;

	if ((fp = fopen(path, "r")) == NULL) {
		memset(&ctx, 0, sizeof ctx);
		ctx.file = path;
		ctx.errs = xcalloc(CONFIG_ERRORS_MAX, sizeof *ctx.errs);
		config_error(&ctx, "%s", strerror(errno));
		config_errors_out(&ctx, errs, nerrs);
		return (NULL);
	}
	cfg = config_load_fp(fp, path, errs, nerrs);
	fclose(fp);
	return (cfg);
}

void
config_errors_free(char **errs, size_t nerrs)
{
	size_t	i;

	if (errs == NULL)
		return;
	for (i = 0; i < nerrs; i++)
		free(errs[i]);
	free(errs);
}

void
config_free(struct config *cfg)
{
	const struct config_option	*o;
	size_t				 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		o = &config_options[i];
		if (o->type == CT_STRING || o->type == CT_PATH ||
		    o->type == CT_HOSTPORT)
			free(*(char **)((char *)cfg + o->off));
	}
	for (i = 0; i < cfg->nlisten; i++)
		config_listen_clear(&cfg->listen[i]);
	for (i = 0; i < cfg->dns.nservers; i++)
		free(cfg->dns.servers[i]);
	for (i = 0; i < cfg->nzones; i++)
		free(cfg->zones[i].name);
	free(cfg->default_zone.name);
	free(cfg->path);
	free(cfg);
}

const struct zone *
config_zone(const struct config *cfg, const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < cfg->nzones; i++) {
		if (strlen(cfg->zones[i].name) == len &&
		    memcmp(cfg->zones[i].name, name, len) == 0)
			return (&cfg->zones[i]);
	}
	return (&cfg->default_zone);
}

char *
config_default_control(void)
{
	const char	*dir;
	char		*p;

	if (geteuid() == 0)
		return (xstrdup(CONFIG_CONTROL_ROOT));
	if ((dir = getenv("XDG_RUNTIME_DIR")) != NULL && dir[0] == '/') {
		xasprintf(&p, "%s/mtastsd.control", dir);
		if (strlen(p) <= CONFIG_SOCKET_MAX)
			return (p);
		free(p);
	}
	xasprintf(&p, "/tmp/mtastsd-%lu.control", (unsigned long)geteuid());
	return (p);
}

char *
config_default_cache(void)
{
	const char	*dir;
	struct passwd	*pw;
	char		*p;

	if (geteuid() == 0)
		return (xstrdup(DEFAULT_CACHE_ROOT));
	if ((dir = getenv("XDG_STATE_HOME")) != NULL && dir[0] == '/') {
		xasprintf(&p, "%s/mtastsd/cache.db", dir);
		return (p);
	}
	if ((dir = getenv("HOME")) == NULL || dir[0] != '/') {
		pw = getpwuid(geteuid());
		dir = pw != NULL ? pw->pw_dir : NULL;
	}
	if (dir != NULL && dir[0] == '/')
		xasprintf(&p, "%s/%s", dir, DEFAULT_CACHE_USER);
	else
		xasprintf(&p, "/tmp/mtastsd-%lu/cache.db",
		    (unsigned long)geteuid());
	return (p);
}

/* Print a word, quoted when it holds blanks or '#' or is empty. */
static void
config_print_word(FILE *fp, const char *s)
{
	if (*s == '\0' || strpbrk(s, " \t#") != NULL)
		fprintf(fp, "\"%s\"", s);
	else
		fprintf(fp, "%s", s);
}

static void
config_print_listen(FILE *fp, const char *name, const struct listen_addr *la)
{
	char	*addr;

	fprintf(fp, "%s ", name);
	if (!la->is_unix) {
		if (strchr(la->host, ':') != NULL)
			fprintf(fp, "inet:[%s]:%d\n", la->host, la->port);
		else
			fprintf(fp, "inet:%s:%d\n", la->host, la->port);
		return;
	}
	xasprintf(&addr, "unix:%s", la->path);
	config_print_word(fp, addr);
	free(addr);
	fprintf(fp, " mode=0%03o", (unsigned int)la->mode);
	if (la->owner != NULL)
		fprintf(fp, " owner=%s", la->owner);
	if (la->group != NULL)
		fprintf(fp, " group=%s", la->group);
	fprintf(fp, "\n");
}

static void
config_print_zone(FILE *fp, const struct zone *z)
{
	const struct config_option	*k;
	size_t				 i;

	fprintf(fp, "zone %s", z->name);
	for (i = 0; i < CONFIG_NZONE_KEYS; i++) {
		k = &config_zone_keys[i];
		fprintf(fp, " %s=%s", k->name,
		    k->choices[config_fetch(k, &z->opts)]);
	}
	fprintf(fp, "\n");
}

/* The value lines of one option. */
static void
config_print_value(const struct config *cfg, const struct config_option *o,
    FILE *fp)
{
	const char	*s;
	size_t		 i, n = 0;

	switch (o->type) {
	case CT_LISTEN:
		for (i = 0; i < cfg->nlisten; i++) {
			if (cfg->listen[i].proto != o->proto)
				continue;
			config_print_listen(fp, o->name, &cfg->listen[i]);
			n++;
		}
		if (n == 0)
			fprintf(fp, "%s none\n", o->name);
		return;
	case CT_RESOLVER:
		for (i = 0; i < cfg->dns.nservers; i++)
			fprintf(fp, "%s %s\n", o->name, cfg->dns.servers[i]);
		if (cfg->dns.nservers == 0)
			fprintf(fp, "#%s %s (not set)\n", o->name, o->arg);
		return;
	case CT_ZONE:
		config_print_zone(fp, &cfg->default_zone);
		for (i = 0; i < cfg->nzones; i++)
			config_print_zone(fp, &cfg->zones[i]);
		return;
	case CT_BOOL:
	case CT_ENUM:
		fprintf(fp, "%s %s\n", o->name, o->choices[config_fetch(o, cfg)]);
		return;
	case CT_INT:
	case CT_SECONDS:
	case CT_MSECONDS:
	case CT_SIZE:
		fprintf(fp, "%s %lld%s\n", o->name, config_fetch(o, cfg),
		    config_unit_name(o->type));
		return;
	default:
		break;
	}
	if ((s = *(char *const *)((const char *)cfg + o->off)) == NULL) {
		fprintf(fp, "#%s %s (not set)\n", o->name, o->arg);
		return;
	}
	fprintf(fp, "%s ", o->name);
	config_print_word(fp, s);
	fprintf(fp, "\n");
}

void
config_print(const struct config *cfg, FILE *fp)
{
	const struct config_option	*o;
	char				 b[64];
	size_t				 i;

	fprintf(fp, "# mtastsd configuration: every option with its value "
	    "(see mtastsd.conf(5)).\n");
	if (cfg->path != NULL)
		fprintf(fp, "# read from %s\n", cfg->path);
	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		o = &config_options[i];
		config_bounds(o, b, sizeof b);
		fprintf(fp, "\n# %s %s: %s%s\n", o->name, o->arg, o->help,
		    (o->flags & F_REPEAT) ? " (repeatable)" : "");
		if (o->def != NULL)
			fprintf(fp, "#   default: %s\n", o->def);
		else if (o->dyn_text != NULL)
			fprintf(fp, "#   default: %s\n", o->dyn_text);
		if (*b != '\0')
			fprintf(fp, "#   range: %s\n", b);
		config_print_value(cfg, o, fp);
	}
}

int
config_optdoc(size_t i, struct config_optdoc *doc)
{
	const struct config_option	*o;

	if (i >= CONFIG_NOPTIONS)
		return (-1);
	o = &config_options[i];
	memset(doc, 0, sizeof *doc);
	doc->name = o->name;
	doc->arg = o->arg;
	doc->def = o->def;
	config_bounds(o, doc->bounds, sizeof doc->bounds);
	doc->repeatable = (o->flags & F_REPEAT) != 0;
	doc->help = o->help;
	return (0);
}
