/*
 * mtastsd.c: start-up, signals and the event loop.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "cache.h"
#include "config.h"
#include "control.h"
#include "defaults.h"
#include "dns.h"
#include "fetch.h"
#include "log.h"
#include "metrics.h"
#include "resolver.h"
#include "server.h"
#include "util.h"

#define SHUTDOWN_GRACE_MS	2000	/* to write in-flight replies */
#define SHUTDOWN_POLL_MS	20
#define LISTEN_FDS_START	3	/* first socket passed by systemd */
#define LISTEN_FDS_MAX		CONFIG_LISTEN_MAX	/* sockets we take */

struct mtastsd {
	struct event_base	*base;
	struct config		*cfg;
	const char		*cfgpath;
	int			 cfg_explicit;
	struct cache		*cache;
	struct dns_client	*dns;
	SSL_CTX			*ssl;
	struct resolver		*resolver;
	struct server		*server;
	struct control		*control;
	struct metrics_http	*metrics;
	struct event		*ev_term, *ev_int, *ev_hup, *ev_drain;
	int			 debug;
	uint64_t		 drain_until;

	/*
	 * What reloads replaced: discoveries in flight may still use an old
	 * DNS client or SSL context, so they are freed at exit.
	 */
	struct dns_client	**old_dns;
	SSL_CTX			**old_ssl;
	size_t			 nold;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr, "usage: mtastsd [-dfhnV] [-c file]\n"
	    "  -c file  configuration file (default %s if it exists)\n"
	    "  -d       log at debug level\n"
	    "  -f       stay in the foreground (log to stderr unless \"log syslog\")\n"
	    "  -h       print this help and exit\n"
	    "  -n       check the configuration and exit\n"
	    "  -V       print the version and exit\n", DEFAULT_CONFIG);
	exit(status);
}

/* Read the configuration named on the command line or the default. */
static struct config *
mtastsd_load(const char *path, int explicit)
{
	struct config	*cfg;
	char		**errs = NULL;
	size_t		  nerrs = 0, i;

	if (!explicit && access(path, F_OK) != 0)
		return (config_default());
	if ((cfg = config_load(path, &errs, &nerrs)) == NULL) {
		for (i = 0; i < nerrs; i++)
			fprintf(stderr, "%s\n", errs[i]);
		if (nerrs == 0)
			fprintf(stderr, "%s: cannot be read\n", path);
		config_errors_free(errs, nerrs);
	}
	return (cfg);
}

/* Complete cfg's DNS settings: configured resolvers or /etc/resolv.conf. */
static void
mtastsd_dns_config(struct config *cfg)
{
	if (cfg->dns.nservers == 0 &&
	    dns_config_resolvconf(&cfg->dns, "/etc/resolv.conf") != 0) {
		log_warnx("event=no-resolver file=/etc/resolv.conf next=\"using "
		    "127.0.0.1\"");
		dns_config_add(&cfg->dns, "127.0.0.1");
	}
	cfg->dns.timeout_ms = cfg->dns_timeout_ms;
	cfg->dns.tries = cfg->dns_tries;
}

/* DNS client for cfg. */
static struct dns_client *
mtastsd_dns(struct event_base *base, struct config *cfg)
{
	mtastsd_dns_config(cfg);
	return (dns_client_new(base, &cfg->dns));
}

/* Whether two strings (either may be NULL) are the same. */
static int
mtastsd_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Whether a's DNS settings equal b's (both completed). */
static int
mtastsd_same_dns(const struct config *a, const struct config *b)
{
	size_t	i;

	if (a->dns.nservers != b->dns.nservers ||
	    a->dns.timeout_ms != b->dns.timeout_ms ||
	    a->dns.tries != b->dns.tries ||
	    a->dns.dnssec_ok != b->dns.dnssec_ok)
		return (0);
	for (i = 0; i < a->dns.nservers; i++) {
		if (!mtastsd_same(a->dns.servers[i], b->dns.servers[i]))
			return (0);
	}
	return (1);
}

/* SSL context for cfg's trust store. */
static SSL_CTX *
mtastsd_ssl(const struct config *cfg)
{
	SSL_CTX	*ctx;
	char	*err = NULL;

	if ((ctx = fetch_ssl_ctx_new(cfg->ca_file, cfg->ca_dir, &err)) == NULL)
		log_warnx("event=tls-setup-failed error=\"%s\"",
		    err != NULL ? err : "unknown");
	free(err);
	return (ctx);
}

/*
 * Open the cache.  A file we may read but not write still gives us the
 * policies it holds (failing open would drop them); a file we cannot use
 * at all leaves us running from memory.  Both are said loudly.
 */
static struct cache *
mtastsd_cache(const struct config *cfg)
{
	struct cache	*c;
	char		*err = NULL, *rerr = NULL;

	if ((c = cache_open(cfg->cache_file, 0, &err)) != NULL) {
		log_info("event=cache-open file=%s entries=%zu",
		    cfg->cache_file, cache_count(c));
		return (c);
	}
	if ((c = cache_open(cfg->cache_file, 1, &rerr)) != NULL) {
		log_warnx("event=cache-read-only file=%s error=\"%s\" "
		    "entries=%zu next=\"answering from the cached policies; "
		    "new ones are kept in memory only and lost at restart: "
		    "fix the file's permissions\"", cfg->cache_file,
		    err != NULL ? err : "unknown", cache_count(c));
		free(err);
		free(rerr);
		return (c);
	}
	log_warnx("event=cache-unusable file=%s error=\"%s\" next=\"running "
	    "from memory only: policies will not survive a restart; move the "
	    "file away to let mtastsd create a new one\"",
	    cfg->cache_file, err != NULL ? err : "unknown");
	free(err);
	free(rerr);
	return (cache_memory());
}

static void
mtastsd_drain_cb(evutil_socket_t fd, short events, void *arg)
{
	struct mtastsd	*d = arg;
	struct timeval	 tv = { 0, SHUTDOWN_POLL_MS * 1000 };

	if (server_pending(d->server) == 0 || util_mono_ms() >= d->drain_until) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	evtimer_add(d->ev_drain, &tv);
}

/* SIGTERM/SIGINT: stop accepting, answer what is in flight, exit. */
static void
mtastsd_term_cb(evutil_socket_t sig, short events, void *arg)
{
	struct mtastsd	*d = arg;

	if (d->ev_drain != NULL)
		return;		/* already shutting down */
	log_info("event=shutdown signal=%d pending=%zu", (int)sig,
	    server_pending(d->server));
	server_close_listeners(d->server);
	metrics_http_free(d->metrics);
	d->metrics = NULL;
	resolver_shutdown(d->resolver);
	d->drain_until = util_mono_ms() + SHUTDOWN_GRACE_MS;
	d->ev_drain = evtimer_new(d->base, mtastsd_drain_cb, d);
	mtastsd_drain_cb(-1, 0, d);
}

/* SIGHUP: read the configuration again; keep the old one if it is bad. */
static void
mtastsd_hup_cb(evutil_socket_t sig, short events, void *arg)
{
	struct mtastsd		*d = arg;
	struct config		*cfg;
	struct dns_client	*dns;
	SSL_CTX			*ssl;

	log_info("event=reload file=%s", d->cfg_explicit ||
	    access(d->cfgpath, F_OK) == 0 ? d->cfgpath : "(built-in defaults)");
	if ((cfg = mtastsd_load(d->cfgpath, d->cfg_explicit)) == NULL) {
		log_warnx("event=reload-failed file=%s next=\"keeping the "
		    "running configuration\"", d->cfgpath);
		return;
	}
	if (d->debug)
		cfg->log_level = LOG_LEVEL_DEBUG;
	/* Keep the DNS client and TLS context when their settings stay. */
	mtastsd_dns_config(cfg);
	if (mtastsd_same(cfg->ca_file, d->cfg->ca_file) &&
	    mtastsd_same(cfg->ca_dir, d->cfg->ca_dir))
		ssl = d->ssl;
	else if ((ssl = mtastsd_ssl(cfg)) == NULL) {
		log_warnx("event=reload-failed reason=tls next=\"keeping the "
		    "running configuration\"");
		config_free(cfg);
		return;
	}
	if (mtastsd_same_dns(cfg, d->cfg))
		dns = d->dns;
	else
		dns = dns_client_new(d->base, &cfg->dns);
	log_setlevel(cfg->log_level);
	resolver_set_config(d->resolver, cfg, dns, ssl);
	server_set_config(d->server, cfg);
	/*
	 * Discoveries in flight may hold a replaced DNS client or SSL
	 * context, so those are kept until exit rather than freed under
	 * them: a cost only when the resolvers or the CA settings change.
	 */
	if (dns != d->dns || ssl != d->ssl) {
		d->old_dns = xrealloc(d->old_dns, (d->nold + 1) *
		    sizeof *d->old_dns);
		d->old_ssl = xrealloc(d->old_ssl, (d->nold + 1) *
		    sizeof *d->old_ssl);
		d->old_dns[d->nold] = dns != d->dns ? d->dns : NULL;
		d->old_ssl[d->nold] = ssl != d->ssl ? d->ssl : NULL;
		d->nold++;
	}
	config_free(d->cfg);
	d->cfg = cfg;
	d->dns = dns;
	d->ssl = ssl;
	log_info("event=reloaded note=\"listeners, cache-file and user need a "
	    "restart to change\"");
}

/* Open the control socket, creating its directory; NULL if not possible. */
static struct control *
mtastsd_control(struct mtastsd *d)
{
	struct control	*ctl;
	struct passwd	*pw;
	char		*dir, *slash, *err = NULL;

	if (d->cfg->control == NULL)
		return (NULL);
	dir = xstrdup(d->cfg->control);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			log_warn("event=mkdir dir=%s", dir);
	}
	free(dir);
	if ((ctl = control_new(d->base, d->resolver, d->cfg->control,
	    &err)) == NULL) {
		log_warnx("event=control-unavailable error=\"%s\" next=\""
		    "mtastsctl cannot reach this daemon\"", err);
		free(err);
		return (NULL);
	}
	/* The daemon's own user may use it after the privilege drop. */
	if (d->cfg->user != NULL && (pw = getpwnam(d->cfg->user)) != NULL &&
	    chown(d->cfg->control, pw->pw_uid, pw->pw_gid) == -1)
		log_warn("event=chown path=%s", d->cfg->control);
	log_info("event=control-listening path=%s", d->cfg->control);
	return (ctl);
}

/* Tell systemd we are ready when it asked (sd_notify protocol). */
static void
mtastsd_notify(const char *msg)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof sun.sun_path)
		return;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun, len) == -1)
		log_warn("event=sd-notify-failed");
	close(fd);
}

/*
 * Before opening anything: who may we run as?  With "user", started as
 * root, we drop to it after setup (mtastsd_drop); "user root" keeps root
 * on purpose.  Without "user", root is refused when a configuration file
 * is in use (a forgotten "user" line); with the built-in defaults (no
 * file, a first try) root is allowed with a warning.
 */
static void
mtastsd_root_check(const struct config *cfg)
{
	struct passwd	*pw = NULL;

	if (cfg->user != NULL && (pw = getpwnam(cfg->user)) == NULL)
		fatalx("user %s: no such user", cfg->user);
	if (cfg->group != NULL && getgrnam(cfg->group) == NULL)
		fatalx("group %s: no such group", cfg->group);
	if (geteuid() != 0) {
		if (pw != NULL && pw->pw_uid != geteuid())
			fatalx("user %s: mtastsd must be started as root to "
			    "become another user", cfg->user);
		return;
	}
	if (cfg->user != NULL)
		return;
	if (cfg->path != NULL)
		fatalx("refusing to run as root: set \"user\" in %s (e.g. "
		    "\"user mtastsd\"), or \"user root\" to run as root on "
		    "purpose", cfg->path);
	log_warnx("event=running-as-root note=\"built-in defaults, no "
	    "configuration file: fine for a try; set user in %s for real "
	    "use\"", DEFAULT_CONFIG);
}

/* Drop to the configured user and group after opening everything. */
static void
mtastsd_drop(const struct config *cfg)
{
	struct passwd	*pw;
	struct group	*gr;
	gid_t		 gid;

	if (cfg->user == NULL || (pw = getpwnam(cfg->user)) == NULL)
		return;
	if (pw->pw_uid == geteuid()) {
		if (pw->pw_uid == 0)
			log_info("event=running-as-root reason=\"user %s in "
			    "the configuration\"", cfg->user);
		return;
	}
	gid = pw->pw_gid;
	if (cfg->group != NULL) {
		if ((gr = getgrnam(cfg->group)) == NULL)
			fatalx("unknown group %s", cfg->group);
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", cfg->user);
	if (setuid(0) != -1 || geteuid() != pw->pw_uid || getegid() != gid)
		fatalx("privileges not dropped: root could be regained");
	log_info("event=privileges-dropped user=%s uid=%d gid=%d", cfg->user,
	    (int)pw->pw_uid, (int)gid);
}

/* A decimal number from 0 to max, or -1. */
static long long
mtastsd_number(const char *s, long long max)
{
	char		*end;
	long long	 v;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return (-1);
	return (v);
}

/*
 * Take the sockets systemd passes (LISTEN_PID, LISTEN_FDS and
 * LISTEN_FDNAMES, see sd_listen_fds(3)): a socket named "exim" speaks the
 * Exim protocol, "metrics" serves the metrics (left in *metrics_fd), any
 * other name socketmap.  Returns how many protocol listeners were taken.
 */
static int
mtastsd_activation(struct mtastsd *d, int *metrics_fd)
{
	const char	*pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char	*names = getenv("LISTEN_FDNAMES");
	char		*list, *cur, *name;
	long long	 n, i;
	int		 fd, taken = 0;

	*metrics_fd = -1;
	if (pid == NULL || fds == NULL ||
	    mtastsd_number(pid, INT_MAX) != (long long)getpid())
		return (0);
	if ((n = mtastsd_number(fds, LISTEN_FDS_MAX)) == -1)
		fatalx("LISTEN_FDS=%s: not a number from 0 to %d", fds,
		    LISTEN_FDS_MAX);
	cur = list = xstrdup(names != NULL ? names : "");
	for (i = 0; i < n; i++) {
		fd = LISTEN_FDS_START + (int)i;
		if ((name = strsep(&cur, ":")) == NULL || *name == '\0')
			name = "socketmap";
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (strcmp(name, "metrics") == 0) {
			if (*metrics_fd != -1)
				fatalx("socket activation: two sockets named "
				    "metrics");
			*metrics_fd = fd;
			continue;
		}
		if (server_listen_fd(d->server, fd, strcmp(name, "exim") == 0 ?
		    LISTEN_EXIM : LISTEN_SOCKETMAP) != 0)
			fatalx("socket activation: fd %d (%s) unusable", fd,
			    name);
		log_info("event=socket-activation fd=%d name=%s", fd, name);
		taken++;
	}
	free(list);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (taken);
}

/* Free what main and reloads made, once nothing uses it any more. */
static void
mtastsd_free(struct mtastsd *d)
{
	size_t	i;

	for (i = 0; i < d->nold; i++) {
		dns_client_free(d->old_dns[i]);
		SSL_CTX_free(d->old_ssl[i]);
	}
	free(d->old_dns);
	free(d->old_ssl);
	dns_client_free(d->dns);
	SSL_CTX_free(d->ssl);
	event_free(d->ev_term);
	event_free(d->ev_int);
	event_free(d->ev_hup);
	if (d->ev_drain != NULL)
		event_free(d->ev_drain);
	config_free(d->cfg);
	event_base_free(d->base);
}

/* Open the pid file, if configured, while errors can still be seen. */
static FILE *
mtastsd_pidfile_open(const struct config *cfg)
{
	FILE	*f;

	if (cfg->pidfile == NULL)
		return (NULL);
	if ((f = fopen(cfg->pidfile, "w")) == NULL)
		fatal("event=pidfile-failed path=%s", cfg->pidfile);
	return (f);
}

/* Write our pid (after detaching) and close the file. */
static void
mtastsd_pidfile_write(FILE *f)
{
	if (f == NULL)
		return;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		log_warn("event=pidfile-write-failed");
}

int
main(int argc, char **argv)
{
	struct mtastsd	 d;
	const char	*cfgpath = DEFAULT_CONFIG;
	int		 ch, foreground = 0, check = 0, debug = 0, explicit = 0;
	char		*abspath = NULL;
	FILE		*pidf;
	int		 metrics_fd;
	size_t		 i;
	char		*err;

	memset(&d, 0, sizeof d);
	while ((ch = getopt(argc, argv, "c:dfhnV")) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			explicit = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("mtastsd %s\n", MTASTSD_VERSION);
			return (0);
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);

	log_init("mtastsd", 0);
	if ((d.cfg = mtastsd_load(cfgpath, explicit)) == NULL)
		return (1);
	if (check) {
		printf("%s: configuration OK\n", explicit ||
		    access(cfgpath, F_OK) == 0 ? cfgpath : "built-in defaults");
		config_free(d.cfg);
		return (0);
	}
	/* Reloads happen after chdir("/") when detached: keep an absolute path. */
	if ((abspath = realpath(cfgpath, NULL)) != NULL)
		cfgpath = abspath;
	d.cfgpath = cfgpath;
	d.cfg_explicit = explicit;
	d.debug = debug;
	if (debug)
		d.cfg->log_level = LOG_LEVEL_DEBUG;
	/* Start-up errors go to stderr until we detach; then to syslog. */
	log_init("mtastsd", foreground ? d.cfg->log_syslog : 0);
	log_setlevel(d.cfg->log_level);
	signal(SIGPIPE, SIG_IGN);
	mtastsd_root_check(d.cfg);

	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((d.ssl = mtastsd_ssl(d.cfg)) == NULL)
		fatalx("cannot set up TLS (ca-file/ca-dir)");
	d.dns = mtastsd_dns(d.base, d.cfg);
	d.cache = mtastsd_cache(d.cfg);
	d.resolver = resolver_new(d.base, d.cache, d.dns, d.ssl, d.cfg);
	d.server = server_new(d.base, d.resolver, d.cfg);
	if (mtastsd_activation(&d, &metrics_fd) > 0)
		log_info("event=socket-activation note=\"listen and exim-listen "
		    "of the configuration are not used\"");
	else {
		for (i = 0; i < d.cfg->nlisten; i++) {
			err = NULL;
			if (server_listen(d.server, &d.cfg->listen[i],
			    &err) != 0)
				fatalx("cannot listen: %s", err);
		}
	}
	if (metrics_fd != -1 || d.cfg->metrics != NULL) {
		err = NULL;
		if ((d.metrics = metrics_http_new(d.base, d.resolver,
		    d.cfg->metrics, metrics_fd, &err)) == NULL)
			fatalx("cannot serve metrics: %s", err);
		log_info("event=metrics-listening addr=%s path=%s",
		    metrics_fd != -1 ? "socket-activation" : d.cfg->metrics,
		    METRICS_PATH);
	}
	d.control = mtastsd_control(&d);
	pidf = mtastsd_pidfile_open(d.cfg);
	if (!foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		/* Detached, standard error goes nowhere: log to syslog. */
		log_init("mtastsd", 1);
		if (event_reinit(d.base) == -1)
			fatalx("event_reinit after fork");
	}
	mtastsd_pidfile_write(pidf);
	mtastsd_drop(d.cfg);

	d.ev_term = evsignal_new(d.base, SIGTERM, mtastsd_term_cb, &d);
	d.ev_int = evsignal_new(d.base, SIGINT, mtastsd_term_cb, &d);
	d.ev_hup = evsignal_new(d.base, SIGHUP, mtastsd_hup_cb, &d);
	evsignal_add(d.ev_term, NULL);
	evsignal_add(d.ev_int, NULL);
	evsignal_add(d.ev_hup, NULL);

	log_info("event=started version=%s cache=%s entries=%zu resolvers=%zu",
	    MTASTSD_VERSION, d.cfg->cache_file, cache_count(d.cache),
	    d.cfg->dns.nservers);
	mtastsd_notify("READY=1");
	event_base_dispatch(d.base);

	mtastsd_notify("STOPPING=1");
	resolver_sync(d.resolver);
	control_free(d.control);
	metrics_http_free(d.metrics);
	server_free(d.server);
	resolver_free(d.resolver);
	cache_close(d.cache);
	if (d.cfg->pidfile != NULL)
		unlink(d.cfg->pidfile);
	mtastsd_free(&d);
	free(abspath);
	log_info("event=stopped");
	return (0);
}
