/*
 * test_config.c: the option table, the file parser, listen/resolver/zone
 * forms, defaults, config_print and the mtastsd.conf(5) page.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "defaults.h"
#include "log.h"
#include "tap.h"
#include "util.h"

#define NAME	"t.conf"
#define NOUSER	"no-such-user-mtastsd-test"
#define NOGROUP	"no-such-group-mtastsd-test"

/* Parse text as the file "t.conf". */
static struct config *
parse(const char *text, char ***errs, size_t *nerrs)
{
	struct config	*cfg;
	FILE		*fp;

	if ((fp = tmpfile()) == NULL) {
		perror("tmpfile");
		exit(1);
	}
	fwrite(text, 1, strlen(text), fp);
	rewind(fp);
	*errs = NULL;
	*nerrs = 0;
	cfg = config_load_fp(fp, NAME, errs, nerrs);
	fclose(fp);
	return (cfg);
}

/* Parse text expecting exactly one error, returned (caller frees). */
static char *
parse_error(const char *text)
{
	struct config	*cfg;
	char		**errs, *e;
	size_t		 n;

	cfg = parse(text, &errs, &n);
	if (cfg != NULL) {
		config_free(cfg);
		return (xstrdup("(parsed)"));
	}
	if (n != 1) {
		xasprintf(&e, "(%zu errors, first: %s)", n,
		    n > 0 ? errs[0] : "-");
		config_errors_free(errs, n);
		return (e);
	}
	e = xstrdup(errs[0]);
	config_errors_free(errs, n);
	return (e);
}

static long long
field(const struct config *cfg, size_t off, size_t size)
{
	const char	*p = (const char *)cfg + off;

	if (size == sizeof(int))
		return (*(const int *)p);
	return ((long long)*(const size_t *)p);
}

#define F(f)	offsetof(struct config, f), sizeof(((struct config *)0)->f)

static void
test_defaults(void)
{
	static const struct {
		const char	*name;
		size_t		 off, size;
		long long	 want;
	} rows[] = {
		{ "discovery_timeout", F(discovery_timeout), DISCOVERY_TIMEOUT },
		{ "fetch_timeout", F(fetch_timeout), DEFAULT_FETCH_TIMEOUT },
		{ "dns_timeout_ms", F(dns_timeout_ms), DNS_TIMEOUT_MS },
		{ "dns_tries", F(dns_tries), DNS_TRIES },
		{ "max_policy_size", F(max_policy_size), POLICY_MAX },
		{ "max_discoveries", F(max_discoveries), 256 },
		{ "max_clients", F(max_clients), 10000 },
		{ "client_idle_timeout", F(client_idle_timeout), CLIENT_IDLE_TIMEOUT },
		{ "cache_max_entries", F(cache_max_entries), 1000000 },
		{ "refresh_min", F(refresh_min), REFRESH_MIN },
		{ "retry_min", F(retry_min), RETRY_MIN },
		{ "retry_max", F(retry_max), RETRY_MAX },
		{ "ttl_min", F(ttl_min), TTL_MIN },
		{ "ttl_max", F(ttl_max), TTL_MAX },
		{ "log_level", F(log_level), LOG_LEVEL_INFO },
		{ "log_syslog", F(log_syslog), 0 },
	};
	struct config	*cfg;
	char		*cache, *control;
	size_t		 i;

	cfg = config_default();
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		is_int(field(cfg, rows[i].off, rows[i].size), rows[i].want,
		    "default %s", rows[i].name);
	is_int(cfg->nlisten, 1, "default: one listener");
	is_int(cfg->listen[0].proto, LISTEN_SOCKETMAP, "default listener is socketmap");
	is_str(cfg->listen[0].host, "127.0.0.1", "default listener host (DEFAULT_LISTEN)");
	is_int(cfg->listen[0].port, 8461, "default listener port");
	is_int(cfg->dns.nservers, 0, "default: no resolver (resolv.conf later)");
	is_int(cfg->dns.timeout_ms, DNS_TIMEOUT_MS, "dns.timeout_ms follows dns-timeout");
	is_int(cfg->dns.tries, DNS_TRIES, "dns.tries follows dns-tries");
	cache = config_default_cache();
	control = config_default_control();
	is_str(cfg->cache_file, cache, "default cache-file is config_default_cache()");
	is_str(cfg->control, control, "default control is config_default_control()");
	ok(cfg->metrics == NULL && cfg->ca_file == NULL && cfg->ca_dir == NULL &&
	    cfg->user == NULL && cfg->group == NULL && cfg->pidfile == NULL &&
	    cfg->path == NULL, "default: no metrics, CA, user, group, pidfile");
	is_str(cfg->default_zone.name, "*", "default zone is named *");
	ok(cfg->default_zone.opts.servername == 1 &&
	    cfg->default_zone.opts.tlsrpt == 0 &&
	    cfg->default_zone.opts.testing_enforce == 0,
	    "default zone: servername=yes tlsrpt=no testing=notfound");
	is_int(cfg->nzones, 0, "default: no zones");
	free(cache);
	free(control);
	config_free(cfg);
}

/* Default paths for a non-root user, computed in a child as uid 65534. */
static void
test_default_paths(void)
{
	static const struct {
		const char	*xdg_state, *home, *xdg_run;
		const char	*cache, *control;
	} rows[] = {
		{ "/xs", "/h", "/xr", "/xs/mtastsd/cache.db", "/xr/mtastsd.control" },
		{ NULL, "/h", NULL, "/h/.local/state/mtastsd/cache.db", NULL },
		{ "relative", "/h", "relative", "/h/.local/state/mtastsd/cache.db",
		  NULL },
	};
	char	 buf[512], want[128];
	size_t	 i;
	int	 fd[2], st;
	pid_t	 pid;
	ssize_t	 n;
	uid_t	 uid;
	char	*c, *k, *nl;

	if (geteuid() == 0) {
		c = config_default_cache();
		k = config_default_control();
		is_str(c, DEFAULT_CACHE_ROOT, "root cache-file is DEFAULT_CACHE_ROOT");
		is_str(k, "/run/mtastsd/control", "root control socket");
		free(c);
		free(k);
	}
	uid = geteuid() == 0 ? 65534 : geteuid();
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (pipe(fd) == -1 || (pid = fork()) == -1) {
			perror("pipe/fork");
			exit(1);
		}
		if (pid == 0) {
			close(fd[0]);
			if (geteuid() == 0 && setuid(uid) == -1)
				_exit(1);
			unsetenv("XDG_STATE_HOME");
			unsetenv("XDG_RUNTIME_DIR");
			if (rows[i].xdg_state != NULL)
				setenv("XDG_STATE_HOME", rows[i].xdg_state, 1);
			if (rows[i].xdg_run != NULL)
				setenv("XDG_RUNTIME_DIR", rows[i].xdg_run, 1);
			setenv("HOME", rows[i].home, 1);
			c = config_default_cache();
			k = config_default_control();
			snprintf(buf, sizeof buf, "%s\n%s\n", c, k);
			free(c);
			free(k);
			if (write(fd[1], buf, strlen(buf)) < 0)
				_exit(1);
			_exit(0);
		}
		close(fd[1]);
		n = read(fd[0], buf, sizeof buf - 1);
		close(fd[0]);
		waitpid(pid, &st, 0);
		buf[n > 0 ? n : 0] = '\0';
		nl = strchr(buf, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		is_str(buf, rows[i].cache, "user cache-file, row %zu", i);
		if (rows[i].control != NULL)
			snprintf(want, sizeof want, "%s", rows[i].control);
		else
			snprintf(want, sizeof want, "/tmp/mtastsd-%u.control",
			    (unsigned)uid);
		if (nl != NULL && (k = strchr(nl, '\n')) != NULL)
			*k = '\0';
		is_str(nl, want, "user control socket, row %zu", i);
	}
}

/* Good values of every numeric and enum type. */
static void
test_good_values(void)
{
	static const struct {
		const char	*text;
		size_t		 off, size;
		long long	 want;
	} rows[] = {
		{ "discovery-timeout 20", F(discovery_timeout), 20 },
		{ "discovery-timeout 1m", F(discovery_timeout), 60 },
		{ "discovery-timeout 90s", F(discovery_timeout), 90 },
		{ "discovery-timeout 007", F(discovery_timeout), 7 },
		{ "fetch-timeout 60", F(fetch_timeout), 60 },
		{ "refresh-interval 2h", F(refresh_min), 7200 },
		{ "refresh-interval 365d", F(refresh_min), 31536000 },
		{ "refresh-interval 31557600", F(refresh_min), 31557600 },
		{ "client-idle-timeout 1d", F(client_idle_timeout), 86400 },
		{ "dns-timeout 250", F(dns_timeout_ms), 250 },
		{ "dns-timeout 100ms", F(dns_timeout_ms), 100 },
		{ "dns-timeout 2s", F(dns_timeout_ms), 2000 },
		{ "dns-timeout 10s", F(dns_timeout_ms), 10000 },
		{ "dns-tries 5", F(dns_tries), 5 },
		{ "max-policy-size 2000", F(max_policy_size), 2000 },
		{ "max-policy-size 64k", F(max_policy_size), 65536 },
		{ "max-policy-size 1024K", F(max_policy_size), 1048576 },
		{ "max-discoveries 1", F(max_discoveries), 1 },
		{ "max-clients 100000", F(max_clients), 100000 },
		{ "cache-max-entries 100", F(cache_max_entries), 100 },
		{ "cache-max-entries 100000000", F(cache_max_entries), 100000000 },
		{ "retry-min 1", F(retry_min), 1 },
		{ "retry-max 7d", F(retry_max), 604800 },
		{ "ttl-min 0", F(ttl_min), 0 },
		{ "ttl-max 300", F(ttl_max), 300 },
		{ "log-level err", F(log_level), LOG_LEVEL_ERR },
		{ "log-level debug", F(log_level), LOG_LEVEL_DEBUG },
		{ "log syslog", F(log_syslog), 1 },
		{ "  \t log-level   warn  \t\r\n", F(log_level), LOG_LEVEL_WARN },
		{ "log-level warn# comment", F(log_level), LOG_LEVEL_WARN },
		{ "# c\n\n   # c\nlog-level warn #", F(log_level), LOG_LEVEL_WARN },
		{ "log-level \"debug\"", F(log_level), LOG_LEVEL_DEBUG },
	};
	struct config	*cfg;
	char		**errs;
	size_t		 i, n;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		cfg = parse(rows[i].text, &errs, &n);
		if (cfg == NULL) {
			ok(0, "good value \"%s\": %s", rows[i].text, errs[0]);
			config_errors_free(errs, n);
			continue;
		}
		is_int(field(cfg, rows[i].off, rows[i].size), rows[i].want,
		    "good value \"%s\"", rows[i].text);
		config_free(cfg);
	}
}

/* Each bad line gives one exact "file:line: message". */
static void
test_bad_values(void)
{
	static const struct {
		const char	*text;
		const char	*want;
	} rows[] = {
		{ "discovery-timeout 91", NAME ":1: discovery-timeout \"91\": out of range (1s to 90s)" },
		{ "discovery-timeout 2m", NAME ":1: discovery-timeout \"2m\": out of range (1s to 90s)" },
		{ "discovery-timeout 0", NAME ":1: discovery-timeout \"0\": out of range (1s to 90s)" },
		{ "discovery-timeout -1", NAME ":1: discovery-timeout \"-1\": not a duration (N, Ns, Nm, Nh or Nd)" },
		{ "discovery-timeout 10x", NAME ":1: discovery-timeout \"10x\": not a duration (N, Ns, Nm, Nh or Nd)" },
		{ "discovery-timeout s", NAME ":1: discovery-timeout \"s\": not a duration (N, Ns, Nm, Nh or Nd)" },
		{ "discovery-timeout 10S", NAME ":1: discovery-timeout \"10S\": not a duration (N, Ns, Nm, Nh or Nd)" },
		{ "discovery-timeout 1.5", NAME ":1: discovery-timeout \"1.5\": not a duration (N, Ns, Nm, Nh or Nd)" },
		{ "discovery-timeout +5", NAME ":1: discovery-timeout \"+5\": not a duration (N, Ns, Nm, Nh or Nd)" },
		{ "discovery-timeout \"\"", NAME ":1: discovery-timeout \"\": not a duration (N, Ns, Nm, Nh or Nd)" },
		{ "discovery-timeout 10ms", NAME ":1: discovery-timeout \"10ms\": not a duration (N, Ns, Nm, Nh or Nd)" },
		{ "refresh-interval 99999999999999999999", NAME ":1: refresh-interval \"99999999999999999999\": too large" },
		{ "refresh-interval 9223372036854775807d", NAME ":1: refresh-interval \"9223372036854775807d\": too large" },
		{ "refresh-interval 31557601", NAME ":1: refresh-interval \"31557601\": out of range (1s to 31557600s)" },
		{ "dns-timeout 99", NAME ":1: dns-timeout \"99\": out of range (100ms to 10000ms)" },
		{ "dns-timeout 11s", NAME ":1: dns-timeout \"11s\": out of range (100ms to 10000ms)" },
		{ "dns-timeout 1m", NAME ":1: dns-timeout \"1m\": not a duration (N, Nms or Ns)" },
		{ "max-policy-size 1M", NAME ":1: max-policy-size \"1M\": not a size (N or Nk)" },
		{ "max-policy-size 1023", NAME ":1: max-policy-size \"1023\": out of range (1024 to 1048576)" },
		{ "max-policy-size 1025k", NAME ":1: max-policy-size \"1025k\": out of range (1024 to 1048576)" },
		{ "dns-tries 6", NAME ":1: dns-tries \"6\": out of range (1 to 5)" },
		{ "dns-tries 3s", NAME ":1: dns-tries \"3s\": not a number" },
		{ "cache-max-entries 99", NAME ":1: cache-max-entries \"99\": out of range (100 to 100000000)" },
		{ "ttl-max 0", NAME ":1: ttl-max \"0\": out of range (1s to 604800s)" },
		{ "log-level loud", NAME ":1: log-level \"loud\": not one of err, warn, info, debug" },
		{ "log-level INFO", NAME ":1: log-level \"INFO\": not one of err, warn, info, debug" },
		{ "log file", NAME ":1: log \"file\": not one of stderr, syslog" },
		{ "control run/ctl", NAME ":1: control \"run/ctl\": not an absolute path" },
		{ "pidfile mtastsd.pid", NAME ":1: pidfile \"mtastsd.pid\": not an absolute path" },
		{ "ca-file \"\"", NAME ":1: ca-file \"\": empty value" },
		{ "user \"\"", NAME ":1: user \"\": empty value" },
		{ "metrics-listen localhost:9461", NAME ":1: metrics-listen \"localhost:9461\": not an IPv4 address (names are not resolved)" },
		{ "metrics-listen 127.0.0.1", NAME ":1: metrics-listen \"127.0.0.1\": missing :PORT" },
		{ "metrics-listen ::1:9461", NAME ":1: metrics-listen \"::1:9461\": an IPv6 address needs brackets: [ADDR]:PORT" },
		{ "metrics-listen 127.0.0.1:0", NAME ":1: metrics-listen \"127.0.0.1:0\": port must be 1 to 65535" },
		{ "metrics-listen 127.0.0.1:65536", NAME ":1: metrics-listen \"127.0.0.1:65536\": port must be 1 to 65535" },
		{ "metrics-listen [::1:9461", NAME ":1: metrics-listen \"[::1:9461\": missing ] after an IPv6 address" },
		{ "metrics-listen [::1]9461", NAME ":1: metrics-listen \"[::1]9461\": missing :PORT" },
		{ "metrics-listen [127.0.0.1]:9461", NAME ":1: metrics-listen \"[127.0.0.1]:9461\": not an IPv6 address" },
		/* Trial: a leading zero, a unix: address, another prefix. */
		{ "metrics-listen 127.0.0.1:028461", NAME ":1: metrics-listen \"127.0.0.1:028461\": port must be a decimal number without leading zeros" },
		{ "metrics-listen inet:127.0.0.1:09461", NAME ":1: metrics-listen \"inet:127.0.0.1:09461\": port must be a decimal number without leading zeros" },
		{ "metrics-listen inet:127.0.0.1:0", NAME ":1: metrics-listen \"inet:127.0.0.1:0\": port must be 1 to 65535" },
		{ "metrics-listen 127.0.0.1:00", NAME ":1: metrics-listen \"127.0.0.1:00\": port must be a decimal number without leading zeros" },
		{ "metrics-listen 127.0.0.1:0000065535", NAME ":1: metrics-listen \"127.0.0.1:0000065535\": port must be a decimal number without leading zeros" },
		{ "metrics-listen unix:/run/metrics", NAME ":1: metrics-listen \"unix:/run/metrics\": a TCP address only: IPv4:PORT or [IPv6]:PORT" },
		{ "metrics-listen tcp:127.0.0.1:9461", NAME ":1: metrics-listen \"tcp:127.0.0.1:9461\": not IPv4:PORT or [IPv6]:PORT" },
		{ "metrics-listen inet:inet:127.0.0.1:9461", NAME ":1: metrics-listen \"inet:inet:127.0.0.1:9461\": not IPv4:PORT or [IPv6]:PORT" },
		/* Names -n can check: users and groups of this system. */
		{ "user " NOUSER, NAME ":1: user \"" NOUSER "\": no such user on this system" },
		{ "group " NOGROUP, NAME ":1: group \"" NOGROUP "\": no such group on this system" },
		{ "log-level info\nuser root\ngroup " NOUSER, NAME ":3: group \"" NOUSER "\": no such group on this system" },
		{ "listen unix:/run/s owner=" NOUSER, NAME ":1: listen \"unix:/run/s\": owner=" NOUSER ": no such user on this system" },
		{ "exim-listen unix:/run/e mode=0660 owner=root group=" NOGROUP, NAME ":1: exim-listen \"unix:/run/e\": group=" NOGROUP ": no such group on this system" },
		/* Nothing to serve. */
		{ "listen none", NAME ":1: listen none and no exim-listen: nothing to serve" },
		{ "# Exim only?\nlisten none\nexim-listen none", NAME ":2: listen none and no exim-listen: nothing to serve" },
		/* A byte-order mark is skipped at the start of the file only. */
		{ "\xef\xbb\xbflog-level loud", NAME ":1: log-level \"loud\": not one of err, warn, info, debug" },
		{ "log-level info\n\xef\xbb\xbf" "dns-tries 3", NAME ":2: unknown option \"\xef\xbb\xbf" "dns-tries\"" },
		/* Structure. */
		{ "bogus 1", NAME ":1: unknown option \"bogus\"" },
		{ "Log-Level info", NAME ":1: unknown option \"Log-Level\"" },
		{ "log-level", NAME ":1: log-level: missing value" },
		{ "log-level # info", NAME ":1: log-level: missing value" },
		{ "log-level info\n# x\nlog-level debug", NAME ":3: log-level: given twice (first at line 1)" },
		{ "log-level info debug", NAME ":1: log-level: one value expected, 2 given (quote a value holding blanks)" },
		{ "pidfile /run/a b", NAME ":1: pidfile: one value expected, 2 given (quote a value holding blanks)" },
		{ "log-level\001 info", NAME ":1: control character in line" },
		{ "pidfile \"/run/x", NAME ":1: unterminated quote" },
		{ "pidfile \"/run/x\"y", NAME ":1: text right after a closing quote" },
		{ "pidfile /run/x\"y\"", NAME ":1: a quote inside a word" },
		{ "zone a 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", NAME ":1: too many words on one line" },
		{ "retry-min 600\nretry-max 300", NAME ":2: retry-max 300s is less than retry-min 600s" },
		{ "retry-max 300\nretry-min 10m", NAME ":2: retry-max 300s is less than retry-min 600s" },
		{ "retry-min 2h", NAME ":1: retry-max 3600s is less than retry-min 7200s" },
		{ "ttl-min 1h\nttl-max 59m", NAME ":2: ttl-max 3540s is less than ttl-min 3600s" },
	};
	char	*e;
	size_t	 i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		e = parse_error(rows[i].text);
		is_str(e, rows[i].want, "bad: %s", rows[i].text);
		free(e);
	}
}

/* Several errors are all reported; past CONFIG_ERRORS_MAX the parse stops. */
static void
test_many_errors(void)
{
	struct config	*cfg;
	char		**errs, *text;
	size_t		 n, i, len;

	cfg = parse("bogus\nlog-level info\ndns-tries 0\n\nlisten tcp:x\n",
	    &errs, &n);
	ok(cfg == NULL, "three bad lines: no config");
	is_int(n, 3, "three bad lines: three errors");
	if (n == 3) {
		is_str(errs[0], NAME ":1: unknown option \"bogus\"", "error 1 of 3");
		is_str(errs[1], NAME ":3: dns-tries \"0\": out of range (1 to 5)", "error 2 of 3");
		is_str(errs[2], NAME ":5: listen \"tcp:x\": not inet:HOST:PORT or unix:PATH", "error 3 of 3");
	}
	config_errors_free(errs, n);

	len = 200 * 6 + 1;
	text = xcalloc(1, len);
	for (i = 0; i < 200; i++)
		strcat(text, "bad 1\n");
	cfg = parse(text, &errs, &n);
	ok(cfg == NULL, "200 bad lines: no config");
	is_int(n, CONFIG_ERRORS_MAX, "200 bad lines: CONFIG_ERRORS_MAX errors");
	if (n == CONFIG_ERRORS_MAX)
		is_str(errs[n - 1], NAME ":64: too many errors, giving up",
		    "the last error says the parse gave up");
	config_errors_free(errs, n);
	free(text);
}

/* Lines of exactly CONFIG_LINE_MAX bytes pass; one more byte fails. */
static void
test_line_length(void)
{
	struct config	*cfg;
	char		*text, *e, **errs;
	size_t		 n;

	text = xmalloc(CONFIG_LINE_MAX + 64);
	memset(text, ' ', CONFIG_LINE_MAX);
	memcpy(text, "log-level debug #", 17);
	text[CONFIG_LINE_MAX] = '\0';
	cfg = parse(text, &errs, &n);
	ok(cfg != NULL && cfg->log_level == LOG_LEVEL_DEBUG,
	    "a line of CONFIG_LINE_MAX bytes is accepted");
	config_free(cfg);
	config_errors_free(errs, n);
	text[CONFIG_LINE_MAX] = 'x';
	strcpy(text + CONFIG_LINE_MAX + 1, "\nlog-level info\n");
	e = parse_error(text);
	is_str(e, NAME ":1: line longer than 4096 bytes, not read further",
	    "a line of CONFIG_LINE_MAX + 1 bytes is an error");
	free(e);
	free(text);
}

/* An endless stream of one byte, counting what the parser reads. */
struct endless {
	char	c;
	size_t	read;
};

static ssize_t
endless_read(void *cookie, char *buf, size_t len)
{
	struct endless	*e = cookie;

	if (e->read >= 8 * CONFIG_FILE_MAX)
		return (0);	/* a parser that reads all this is broken */
	memset(buf, e->c, len);
	e->read += len;
	return ((ssize_t)len);
}

/* Parse an endless stream of c; return the bytes it read. */
static size_t
parse_endless(char c, char **err)
{
	cookie_io_functions_t	 io = { .read = endless_read };
	struct endless		 e = { c, 0 };
	struct config		*cfg;
	char			**errs;
	size_t			 n;
	FILE			*fp;

	if ((fp = fopencookie(&e, "r", io)) == NULL)
		abort();
	cfg = config_load_fp(fp, NAME, &errs, &n);
	fclose(fp);
	config_free(cfg);
	*err = xstrdup(cfg == NULL && n == 1 ? errs[0] : "(not one error)");
	config_errors_free(errs, n);
	return (e.read);
}

static void
test_alarm(int sig)
{
	(void)sig;
	printf("not ok - config_load(\"/dev/zero\") did not return\n");
	_exit(1);
}

/* Trial: a whole file and a line are bounded; -c /dev/zero returns. */
static void
test_file_limits(void)
{
	struct config	*cfg;
	char		*text, *e, **errs;
	size_t		 n, got;

	text = xmalloc(CONFIG_FILE_MAX + 2);
	memset(text, '\n', CONFIG_FILE_MAX);
	memcpy(text, "log-level debug\n", 16);
	text[CONFIG_FILE_MAX] = '\0';
	cfg = parse(text, &errs, &n);
	ok(cfg != NULL && cfg->log_level == LOG_LEVEL_DEBUG,
	    "a file of CONFIG_FILE_MAX bytes is read");
	config_free(cfg);
	config_errors_free(errs, n);
	text[CONFIG_FILE_MAX] = '#';
	text[CONFIG_FILE_MAX + 1] = '\0';
	e = parse_error(text);
	is_str(e, NAME ": larger than 1048576 bytes",
	    "a file of CONFIG_FILE_MAX + 1 bytes is refused");
	free(e);
	free(text);

	got = parse_endless('\n', &e);
	is_str(e, NAME ": larger than 1048576 bytes", "endless blank lines");
	ok(got <= CONFIG_FILE_MAX + 65536, "endless blank lines: reading "
	    "stops after CONFIG_FILE_MAX (read %zu)", got);
	free(e);
	got = parse_endless('a', &e);
	is_str(e, NAME ":1: line longer than 4096 bytes, not read further",
	    "an endless line");
	ok(got <= CONFIG_LINE_MAX + 65536, "an endless line: reading stops "
	    "after CONFIG_LINE_MAX (read %zu)", got);
	free(e);

	signal(SIGALRM, test_alarm);
	alarm(20);
	cfg = config_load("/dev/zero", &errs, &n);
	alarm(0);
	ok(cfg == NULL && n == 1 && strcmp(errs[0], "/dev/zero:1: line longer "
	    "than 4096 bytes, not read further") == 0,
	    "mtastsd -n -c /dev/zero: one error, at once");
	config_errors_free(errs, n);
}

/* Trial: forms a new user wrote, accepted now. */
static void
test_trial_forms(void)
{
	struct config	*cfg;
	char		**errs;
	size_t		 n;

	cfg = parse("\xef\xbb\xbflog-level debug\n", &errs, &n);
	ok(cfg != NULL && cfg->log_level == LOG_LEVEL_DEBUG,
	    "a UTF-8 byte-order mark at the start of the file is skipped");
	config_free(cfg);
	config_errors_free(errs, n);
	cfg = parse("\xef\xbb\xbf\n# comment\n", &errs, &n);
	ok(cfg != NULL, "a byte-order mark alone on the first line");
	config_free(cfg);
	config_errors_free(errs, n);

	cfg = parse("metrics-listen inet:127.0.0.1:9461\n", &errs, &n);
	ok(cfg != NULL && strcmp(cfg->metrics, "127.0.0.1:9461") == 0,
	    "metrics-listen inet:HOST:PORT is HOST:PORT");
	config_free(cfg);
	config_errors_free(errs, n);
	cfg = parse("metrics-listen inet:[::1]:9461\n", &errs, &n);
	ok(cfg != NULL && strcmp(cfg->metrics, "[::1]:9461") == 0,
	    "metrics-listen inet:[IPv6]:PORT");
	config_free(cfg);
	config_errors_free(errs, n);

	cfg = parse("user root\ngroup root\nlisten unix:/run/s owner=root "
	    "group=root\n", &errs, &n);
	ok(cfg != NULL, "user, group, owner= and group= known here");
	config_free(cfg);
	config_errors_free(errs, n);
	config_check_names(0);
	cfg = parse("user " NOUSER "\nlisten unix:/run/s owner=" NOUSER "\n",
	    &errs, &n);
	config_check_names(1);
	ok(cfg != NULL && strcmp(cfg->user, NOUSER) == 0,
	    "config_check_names(0): names are not looked up");
	config_free(cfg);
	config_errors_free(errs, n);
}

/* Quoted paths, last line without newline, CRLF, an empty file. */
static void
test_file_forms(void)
{
	struct config	*cfg;
	char		**errs;
	size_t		 n;

	cfg = parse("pidfile \"/var/run/my dir/#1.pid\" # quoted\r\n"
	    "user nobody\r\ngroup root", &errs, &n);
	ok(cfg != NULL, "quoted path, CRLF, no final newline: parsed");
	if (cfg != NULL) {
		is_str(cfg->pidfile, "/var/run/my dir/#1.pid", "quoted path keeps blanks and #");
		is_str(cfg->user, "nobody", "user");
		is_str(cfg->group, "root", "group on a last line without newline");
		is_str(cfg->path, NAME, "path records the file name");
	}
	config_free(cfg);
	cfg = parse("", &errs, &n);
	ok(cfg != NULL && n == 0 && cfg->nlisten == 1,
	    "an empty file gives the defaults");
	config_free(cfg);

	cfg = config_load("/nonexistent/mtastsd.conf", &errs, &n);
	ok(cfg == NULL, "missing file: NULL");
	is_int(n, 1, "missing file: one error");
	if (n == 1)
		is_str(errs[0], "/nonexistent/mtastsd.conf: No such file or directory",
		    "missing file: the error names the file");
	config_errors_free(errs, n);
	cfg = config_load("/nonexistent/mtastsd.conf", NULL, NULL);
	ok(cfg == NULL, "missing file without an error list: NULL");
}

/* config_parse_listen: every accepted form and the rejected ones. */
static void
test_parse_listen(void)
{
	static const struct {
		const char	*s;
		int		 is_unix;
		const char	*host;
		int		 port;
		const char	*path;
		int		 mode;
		const char	*owner, *group;
	} good[] = {
		{ "inet:127.0.0.1:8461", 0, "127.0.0.1", 8461, NULL, 0666, NULL, NULL },
		{ "inet:[::1]:8461", 0, "::1", 8461, NULL, 0666, NULL, NULL },
		{ "inet:0.0.0.0:1", 0, "0.0.0.0", 1, NULL, 0666, NULL, NULL },
		{ "inet:[2001:db8::5]:65535", 0, "2001:db8::5", 65535, NULL, 0666, NULL, NULL },
		{ "unix:/run/mtastsd/socketmap", 1, NULL, 0, "/run/mtastsd/socketmap", 0666, NULL, NULL },
		{ "unix:/run/s mode=0660 owner=postfix group=postfix", 1, NULL, 0, "/run/s", 0660, "postfix", "postfix" },
		{ "unix:/run/s group=mail mode=600", 1, NULL, 0, "/run/s", 0600, NULL, "mail" },
		{ "\"unix:/run/a b\" mode=0", 1, NULL, 0, "/run/a b", 0, NULL, NULL },
	};
	static const struct {
		const char	*s;
		const char	*why;
	} bad[] = {
		{ "inet:::1:8461", "an IPv6 address needs brackets: [ADDR]:PORT" },
		{ "inet:localhost:8461", "not an IPv4 address (names are not resolved)" },
		{ "inet:127.0.0.1", "missing :PORT" },
		{ "inet:127.0.0.1:", "port must be 1 to 65535" },
		{ "inet:127.0.0.1:123456", "port must be 1 to 65535" },
		{ "inet:127.0.0.1:08461", "port must be a decimal number without leading zeros" },
		{ "inet:127.0.0.1:8461x", "port must be 1 to 65535" },
		{ "inet:tcp:127.0.0.1:25", "not IPv4:PORT or [IPv6]:PORT" },
		{ "tcp:127.0.0.1:25", "not inet:HOST:PORT or unix:PATH" },
		{ "127.0.0.1:25", "not inet:HOST:PORT or unix:PATH" },
		{ "", "empty address" },
		{ "unix:run/s", "not an absolute path" },
		{ "unix:", "empty value" },
		{ "unix:/s mode=0999", "mode= must be octal, 0 to 0777" },
		{ "unix:/s mode=01777", "mode= must be octal, 0 to 0777" },
		{ "unix:/s mode=", "mode= must be octal, 0 to 0777" },
		{ "unix:/s mode=0600 mode=0600", "mode= given twice" },
		{ "unix:/s owner=", "owner= needs a user" },
		{ "unix:/s group=a group=b", "group= given twice" },
		{ "unix:/s color=red", "unknown word (mode=, owner= or group= expected)" },
		{ "inet:127.0.0.1:25 mode=0600", "mode=, owner= and group= apply to unix: only" },
	};
	struct listen_addr	 la;
	const char		*why;
	char			 longpath[200];
	size_t			 i;
	int			 r;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		why = NULL;
		r = config_parse_listen(good[i].s, &la, &why);
		ok(r == 0 && la.is_unix == good[i].is_unix &&
		    la.proto == LISTEN_SOCKETMAP &&
		    (good[i].host == NULL ? la.host == NULL : la.host != NULL &&
		    strcmp(la.host, good[i].host) == 0) &&
		    la.port == good[i].port &&
		    (good[i].path == NULL ? la.path == NULL : la.path != NULL &&
		    strcmp(la.path, good[i].path) == 0) &&
		    (!la.is_unix || (int)la.mode == good[i].mode) &&
		    (good[i].owner == NULL ? la.owner == NULL :
		    strcmp(la.owner, good[i].owner) == 0) &&
		    (good[i].group == NULL ? la.group == NULL :
		    strcmp(la.group, good[i].group) == 0),
		    "listen \"%s\"%s%s", good[i].s, r ? ": " : "", r ? why : "");
		config_listen_clear(&la);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		r = config_parse_listen(bad[i].s, &la, &why);
		is_str(r == -1 ? why : "(accepted)", bad[i].why,
		    "listen \"%s\" rejected", bad[i].s);
		ok(la.host == NULL && la.path == NULL && la.owner == NULL &&
		    la.group == NULL, "listen \"%s\": nothing left allocated",
		    bad[i].s);
		config_listen_clear(&la);
	}
	memset(longpath, 0, sizeof longpath);
	memcpy(longpath, "unix:/", 6);
	memset(longpath + 6, 'a', 106);		/* a 107-byte path: fits */
	r = config_parse_listen(longpath, &la, &why);
	is_int(r, 0, "a unix path of 107 bytes fits sun_path");
	config_listen_clear(&la);
	memset(longpath + 6, 'a', 107);		/* 108 bytes: no room for NUL */
	r = config_parse_listen(longpath, &la, &why);
	ok(r == -1 && strcmp(why, "too long for a unix socket path") == 0,
	    "a unix path of 108 bytes does not");
}

/* listen / exim-listen lines in a file. */
static void
test_listen_file(void)
{
	static const struct {
		const char	*text;
		const char	*want;
	} bad[] = {
		{ "listen inet:127.0.0.1:9000\nlisten inet:127.0.0.1:9000",
		  NAME ":2: listen \"inet:127.0.0.1:9000\": address already used at line 1" },
		{ "exim-listen inet:127.0.0.1:8461",
		  NAME ":1: exim-listen \"inet:127.0.0.1:8461\": address already used by the default listen" },
		{ "listen none\nlisten inet:127.0.0.1:9000",
		  NAME ":2: listen \"inet:127.0.0.1:9000\": listen none was given at line 1" },
		{ "listen inet:127.0.0.1:9000\nlisten none",
		  NAME ":2: listen none: cannot be combined with other listen lines" },
		{ "listen unix:/run/a\nexim-listen unix:/run/a mode=0600",
		  NAME ":2: exim-listen \"unix:/run/a\": address already used at line 1" },
		{ "listen inet:[::1]:1\nlisten inet:[::1]:2\nlisten inet:[::1]:3\n"
		  "listen inet:[::1]:4\nlisten inet:[::1]:5\nlisten inet:[::1]:6\n"
		  "listen inet:[::1]:7\nexim-listen inet:[::1]:8\nexim-listen inet:[::1]:9\n",
		  NAME ":9: exim-listen \"inet:[::1]:9\": more than 8 listeners" },
	};
	struct config	*cfg;
	char		**errs, *e;
	size_t		 i, n;

	cfg = parse("listen inet:127.0.0.1:9000\n"
	    "listen unix:/run/mtastsd/sm mode=0660 owner=root\n"
	    "exim-listen inet:[::1]:9001\n", &errs, &n);
	ok(cfg != NULL && cfg->nlisten == 3, "first listen line replaces the default");
	if (cfg != NULL && cfg->nlisten == 3) {
		ok(cfg->listen[0].proto == LISTEN_SOCKETMAP &&
		    cfg->listen[0].port == 9000 &&
		    strcmp(cfg->listen[0].host, "127.0.0.1") == 0,
		    "listen 1: inet 127.0.0.1:9000");
		ok(cfg->listen[1].is_unix && cfg->listen[1].mode == 0660 &&
		    strcmp(cfg->listen[1].owner, "root") == 0 &&
		    cfg->listen[1].group == NULL,
		    "listen 2: unix with mode and owner");
		ok(cfg->listen[2].proto == LISTEN_EXIM &&
		    strcmp(cfg->listen[2].host, "::1") == 0 &&
		    cfg->listen[2].port == 9001, "exim-listen: proto LISTEN_EXIM");
	}
	config_free(cfg);

	cfg = parse("exim-listen inet:127.0.0.1:9001\n", &errs, &n);
	ok(cfg != NULL && cfg->nlisten == 2 &&
	    cfg->listen[0].proto == LISTEN_SOCKETMAP &&
	    cfg->listen[0].port == 8461 && cfg->listen[1].proto == LISTEN_EXIM,
	    "exim-listen alone keeps the default socketmap listener");
	config_free(cfg);

	cfg = parse("listen none\nexim-listen unix:/run/exim.sock\n", &errs, &n);
	ok(cfg != NULL && cfg->nlisten == 1 && cfg->listen[0].proto == LISTEN_EXIM,
	    "listen none leaves only the Exim listener");
	config_free(cfg);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e = parse_error(bad[i].text);
		is_str(e, bad[i].want, "bad listen file %zu", i);
		free(e);
	}
}

static void
test_resolvers(void)
{
	static const struct {
		const char	*s;
		const char	*why;	/* NULL: accepted */
	} rows[] = {
		{ "192.0.2.1", NULL },
		{ "2001:db8::1", NULL },
		{ "127.0.0.1@5353", NULL },
		{ "[::1]:5353", NULL },
		{ "127.0.0.1:5353", NULL },
		{ "::1@53", NULL },
		{ "dns.example", "not an IP address (ADDR, ADDR@PORT, IPv4:PORT or [IPv6]:PORT)" },
		{ "192.0.2.1.5", "not an IP address (ADDR, ADDR@PORT, IPv4:PORT or [IPv6]:PORT)" },
		{ "127.0.0.1@0", "port must be 1 to 65535" },
		{ "127.0.0.1@", "port must be 1 to 65535" },
		{ "dns.example@53", "not an IP address before @" },
		{ "[::1]", "missing :PORT" },
		{ "127.0.0.1:99999", "port must be 1 to 65535" },
		{ "127.0.0.1@053", "port must be a decimal number without leading zeros" },
		{ "[::1]:05353", "port must be a decimal number without leading zeros" },
		{ "fe80::1%eth0", "an IPv6 address needs brackets: [ADDR]:PORT" },
	};
	struct config	*cfg;
	char		**errs, text[256], want[256], *e;
	size_t		 i, n;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		snprintf(text, sizeof text, "resolver %s\n", rows[i].s);
		if (rows[i].why == NULL) {
			cfg = parse(text, &errs, &n);
			ok(cfg != NULL && cfg->dns.nservers == 1 &&
			    strcmp(cfg->dns.servers[0], rows[i].s) == 0,
			    "resolver %s stored as given", rows[i].s);
			config_free(cfg);
			config_errors_free(errs, n);
			continue;
		}
		snprintf(want, sizeof want, NAME ":1: resolver \"%s\": %s",
		    rows[i].s, rows[i].why);
		e = parse_error(text);
		is_str(e, want, "resolver %s rejected", rows[i].s);
		free(e);
	}

	cfg = parse("resolver 127.0.0.1\nresolver [::1]:53\n", &errs, &n);
	ok(cfg != NULL && cfg->dns.nservers == 2 &&
	    strcmp(cfg->dns.servers[1], "[::1]:53") == 0,
	    "two resolvers kept in order");
	config_free(cfg);
	e = parse_error("resolver 127.0.0.1\nresolver 127.0.0.1\n");
	is_str(e, NAME ":2: resolver \"127.0.0.1\": given twice", "resolver twice");
	free(e);
	e = parse_error("resolver 127.0.0.1 127.0.0.2\n");
	is_str(e, NAME ":1: resolver: one address per line", "two addresses on a line");
	free(e);
	text[0] = '\0';
	for (i = 1; i <= DNS_SERVERS_MAX + 1; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text),
		    "resolver 127.0.0.%zu\n", i);
	e = parse_error(text);
	is_str(e, NAME ":9: resolver \"127.0.0.9\": more than 8 servers",
	    "more than DNS_SERVERS_MAX resolvers");
	free(e);
}

static void
test_zones(void)
{
	static const struct {
		const char	*text;
		const char	*want;
	} bad[] = {
		{ "zone a servername=maybe", NAME ":1: zone a: servername \"maybe\": not yes or no" },
		{ "zone a testing=maybe", NAME ":1: zone a: testing \"maybe\": not one of notfound, enforce" },
		{ "zone a color=red", NAME ":1: zone a: unknown key \"color\" (servername, tlsrpt or testing)" },
		{ "zone a servername", NAME ":1: zone a: \"servername\" is not KEY=VALUE" },
		{ "zone a tlsrpt=yes tlsrpt=no", NAME ":1: zone a: tlsrpt given twice" },
		{ "zone servername=no", NAME ":1: zone: the zone name must come before \"servername=no\"" },
		{ "zone a\nzone a tlsrpt=yes", NAME ":2: zone a: given twice (first at line 1)" },
		{ "zone * tlsrpt=yes\nzone * tlsrpt=no", NAME ":2: zone *: given twice (first at line 1)" },
		{ "zone", NAME ":1: zone: missing value" },
		{ "zone aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  NAME ":1: zone \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": a name is 1 to 64 printable bytes" },
	};
	struct config		*cfg;
	const struct zone	*z;
	char			**errs, *e, *text;
	size_t			 i, n;

	cfg = parse("zone postfix-old servername=no\n"
	    "zone postfix servername=yes\n"
	    "zone postfix310 tlsrpt=yes testing=enforce\n"
	    "zone * servername=no\n", &errs, &n);
	ok(cfg != NULL && cfg->nzones == 3, "three zones and a default zone");
	if (cfg != NULL) {
		z = config_zone(cfg, "postfix-old", 11);
		ok(z->opts.servername == 0 && z->opts.tlsrpt == 0 &&
		    z->opts.testing_enforce == 0, "zone postfix-old: servername=no");
		z = config_zone(cfg, "postfix310", 10);
		ok(strcmp(z->name, "postfix310") == 0 && z->opts.servername == 1 &&
		    z->opts.tlsrpt == 1 && z->opts.testing_enforce == 1,
		    "zone postfix310: tlsrpt, testing=enforce, servername built-in yes");
		z = config_zone(cfg, "postfix310 example.com", 7);
		is_str(z->name, "postfix", "config_zone matches len bytes only");
		z = config_zone(cfg, "exim", 4);
		ok(z == &cfg->default_zone && z->opts.servername == 0,
		    "an unknown map name gets the configured default zone");
		z = config_zone(cfg, "postfix-ol", 10);
		ok(z == &cfg->default_zone, "a prefix of a zone name is not that zone");
	}
	config_free(cfg);

	cfg = parse("zone bare\n", &errs, &n);
	ok(cfg != NULL && cfg->nzones == 1 && cfg->zones[0].opts.servername == 1 &&
	    cfg->zones[0].opts.tlsrpt == 0, "a zone without keys has the built-in keys");
	config_free(cfg);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e = parse_error(bad[i].text);
		is_str(e, bad[i].want, "bad zone: %s", bad[i].text);
		free(e);
	}
	text = xcalloc(1, 64 * (CONFIG_ZONES_MAX + 1));
	for (i = 0; i <= CONFIG_ZONES_MAX; i++)
		snprintf(text + strlen(text), 64, "zone z%zu\n", i);
	e = parse_error(text);
	is_str(e, NAME ":33: zone z32: more than 32 zones", "more than CONFIG_ZONES_MAX zones");
	free(e);
	free(text);
}

/* config_print's output reads back into the same configuration. */
static void
test_print(void)
{
	struct config	*cfg, *again;
	char		**errs, *out1, *out2;
	size_t		 n, len1, len2;
	FILE		*fp;

	cfg = config_default();
	fp = open_memstream(&out1, &len1);
	config_print(cfg, fp);
	fclose(fp);
	ok(strstr(out1, "\nlisten inet:127.0.0.1:8461\n") != NULL,
	    "print: default listener");
	ok(strstr(out1, "\nzone * servername=yes tlsrpt=no testing=notfound\n") != NULL,
	    "print: default zone");
	ok(strstr(out1, "\ndiscovery-timeout 15s\n") != NULL &&
	    strstr(out1, "\ndns-timeout 1500ms\n") != NULL &&
	    strstr(out1, "\nmax-policy-size 65536\n") != NULL,
	    "print: durations and sizes with their units");
	ok(strstr(out1, "\n#   range: 1s to 90s\n") != NULL,
	    "print: bounds from the table");
	ok(strstr(out1, "\n#ca-file PATH (not set)\n") != NULL,
	    "print: unset options are commented out");
	free(out1);
	config_free(cfg);

	cfg = parse("listen inet:[::1]:9000\nlisten \"unix:/run/a b\" mode=0600 group=root\n"
	    "exim-listen inet:127.0.0.1:9001\nresolver [::1]:5353\nresolver 192.0.2.1\n"
	    "zone p servername=no\nzone q tlsrpt=yes testing=enforce\nzone * tlsrpt=yes\n"
	    "metrics-listen [::1]:9461\nca-dir \"/etc/my certs\"\nlog syslog\n"
	    "log-level debug\nretry-min 5\nttl-min 0\ndns-timeout 2s\n"
	    "max-policy-size 2k\nuser nobody\npidfile /run/m.pid\n", &errs, &n);
	ok(cfg != NULL, "a config using every kind of option");
	if (cfg == NULL) {
		config_errors_free(errs, n);
		return;
	}
	fp = open_memstream(&out1, &len1);
	config_print(cfg, fp);
	fclose(fp);
	again = parse(out1, &errs, &n);
	ok(again != NULL, "print output parses back%s%s", n ? ": " : "",
	    n ? errs[0] : "");
	config_errors_free(errs, n);
	if (again != NULL) {
		free(again->path);
		again->path = xstrdup(NAME);
		fp = open_memstream(&out2, &len2);
		config_print(again, fp);
		fclose(fp);
		is_str(out2, out1, "print, parse, print gives the same text");
		ok(again->dns_timeout_ms == 2000 && again->max_policy_size == 2048 &&
		    again->nlisten == 3 && again->listen[1].mode == 0600 &&
		    strcmp(again->listen[1].path, "/run/a b") == 0 &&
		    again->default_zone.opts.tlsrpt == 1 && again->nzones == 2,
		    "values survive the round trip");
		free(out2);
	}
	config_free(again);
	config_free(cfg);
	free(out1);
}

/* Escape '-' as the man page writes it. */
static void
roff(const char *s, char *buf, size_t len)
{
	size_t	o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '-')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o] = '\0';
}

/* The complete example file of the man page parses without error. */
static void
test_man_example(const char *page)
{
	struct config	*cfg;
	const char	*p, *end;
	char		**errs, *text, *o;
	size_t		 n;

	p = strstr(page, ".SH EXAMPLES");
	p = p != NULL ? strstr(p, ".nf\n") : NULL;
	end = p != NULL ? strstr(p, "\n.fi\n") : NULL;
	if (!ok(p != NULL && end != NULL, "man page has an example file"))
		return;
	p += 4;
	text = o = xcalloc(1, end - p + 2);
	for (; p <= end; p++) {
		if (p[0] == '\\' && p[1] == '-')
			continue;
		*o++ = *p;
	}
	/* The example names users (mtastsd, postfix) of a configured host. */
	config_check_names(0);
	cfg = parse(text, &errs, &n);
	config_check_names(1);
	ok(cfg != NULL, "the man page example parses%s%s", n ? ": " : "",
	    n ? errs[0] : "");
	if (cfg != NULL) {
		ok(cfg->nlisten == 3 && cfg->nzones == 2 && cfg->dns.nservers == 2 &&
		    cfg->max_policy_size == 65536 && cfg->client_idle_timeout == 300 &&
		    cfg->log_syslog == 1 && strcmp(cfg->pidfile,
		    "/run/mtastsd/mtastsd.pid") == 0,
		    "the man page example sets what it shows");
		ok(config_zone(cfg, "legacy", 6)->opts.servername == 0 &&
		    config_zone(cfg, "postfix", 7)->opts.tlsrpt == 1,
		    "the man page example zones");
	}
	config_errors_free(errs, n);
	config_free(cfg);
	free(text);
}

/* Every table row is documented in man/mtastsd.conf.5, with its default and range. */
static void
test_manpage(void)
{
	struct config_optdoc	 d;
	const char		*top;
	char			*path, *page, *sec, *end, want[512], a[128], b[128];
	size_t			 i, len = 0, missing = 0;
	FILE			*fp;
	int			 c;

	if ((top = getenv("top_srcdir")) == NULL)
		top = ".";
	xasprintf(&path, "%s/man/mtastsd.conf.5", top);
	fp = fopen(path, "r");
	ok(fp != NULL, "man page %s readable", path);
	if (fp == NULL) {
		free(path);
		return;
	}
	page = xmalloc(1 << 20);
	while ((c = getc(fp)) != EOF && len < (1 << 20) - 1)
		page[len++] = (char)c;
	page[len] = '\0';
	fclose(fp);
	for (i = 0; config_optdoc(i, &d) == 0; i++) {
		roff(d.name, a, sizeof a);
		roff(d.arg, b, sizeof b);
		snprintf(want, sizeof want, ".TP\n\\fB%s\\fR \\fI%s\\fR\n", a, b);
		sec = strstr(page, want);
		if (!ok(sec != NULL, "man page documents %s %s", d.name, d.arg)) {
			missing++;
			continue;
		}
		sec += strlen(want);
		end = strstr(sec, "\n.TP\n");
		if (end == NULL)
			end = strstr(sec, "\n.SH");
		if (end == NULL)
			end = sec + strlen(sec);
		if (d.def != NULL) {
			roff(d.def, a, sizeof a);
			snprintf(want, sizeof want, "Default: \\fB%s\\fR", a);
		} else
			snprintf(want, sizeof want, "Default:");
		ok(memmem(sec, end - sec, want, strlen(want)) != NULL,
		    "man page %s: \"%s\"", d.name, want);
		if (d.bounds[0] != '\0') {
			snprintf(want, sizeof want, "Range: %s", d.bounds);
			ok(memmem(sec, end - sec, want, strlen(want)) != NULL,
			    "man page %s: \"%s\"", d.name, want);
		}
		if (d.repeatable)
			ok(memmem(sec, end - sec, "repeated", 8) != NULL,
			    "man page %s: says it may be repeated", d.name);
	}
	is_int(i, 28, "the table has the 28 options");
	is_int(missing, 0, "no option is missing from the man page");
	ok(strstr(page, "\\fBservername\\fR") != NULL &&
	    strstr(page, "\\fBtlsrpt\\fR") != NULL &&
	    strstr(page, "\\fBtesting\\fR") != NULL,
	    "man page documents the zone keys");
	ok(strstr(page, ".SH FILES") != NULL && strstr(page, ".SH SEE ALSO") != NULL &&
	    strstr(page, ".BR mtastsd (8)") != NULL &&
	    strstr(page, ".BR mtastsctl (8)") != NULL,
	    "man page has FILES and SEE ALSO mtastsd(8) mtastsctl(8)");
	test_man_example(page);
	free(page);
	free(path);
}

int
main(void)
{
	log_init("test_config", 0);
	log_setlevel(LOG_LEVEL_ERR);
	test_defaults();
	test_default_paths();
	test_good_values();
	test_bad_values();
	test_many_errors();
	test_line_length();
	test_file_limits();
	test_trial_forms();
	test_file_forms();
	test_parse_listen();
	test_listen_file();
	test_resolvers();
	test_zones();
	test_print();
	test_manpage();
	return (done_testing());
}
