/*
 * config.h: the configuration.  Every option comes from one table (name,
 * type, default, bounds, help), shared by the parser, `mtastsd -n`, and
 * the mtastsd.conf(5) page.  The file is "name value" lines; '#' starts a
 * comment; a zone is "zone NAME key=value ...".  A parse builds a fresh
 * config and reports errors as file:line; the caller swaps it in only
 * when valid.
 */
#ifndef MTASTS_CONFIG_H
#define MTASTS_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "dns.h"
#include "reply.h"

#define CONFIG_LISTEN_MAX	8
#define CONFIG_ZONES_MAX	32
#define CONFIG_LINE_MAX		4096
#define CONFIG_FILE_MAX		(1024 * 1024)	/* bytes of a whole file */
#define CONFIG_ERRORS_MAX	64

enum listen_proto {
	LISTEN_SOCKETMAP = 0,	/* Postfix socketmap (netstrings) */
	LISTEN_EXIM		/* Exim line protocol */
};

struct listen_addr {
	enum listen_proto	 proto;
	int			 is_unix;
	char			*host;		/* inet: address */
	int			 port;		/* inet: port */
	char			*path;		/* unix: socket path */
	mode_t			 mode;		/* unix: socket mode (0666 when unset) */
	char			*owner;		/* unix: chown, or NULL */
	char			*group;
};

struct zone {
	char			*name;		/* the socketmap map name */
	struct reply_opts	 opts;
};

struct config {
	char			*path;		/* the file read, or NULL */

	struct listen_addr	 listen[CONFIG_LISTEN_MAX];
	size_t			 nlisten;
	char			*control;	/* control socket path */
	char			*metrics;	/* "127.0.0.1:9461" or NULL */

	char			*cache_file;
	size_t			 cache_max_entries;

	struct dns_config	 dns;		/* resolver(s); /etc/resolv.conf when none */
	char			*ca_file;
	char			*ca_dir;

	int			 discovery_timeout;	/* seconds */
	int			 fetch_timeout;		/* seconds */
	int			 dns_timeout_ms;
	int			 dns_tries;
	size_t			 max_policy_size;
	int			 max_discoveries;	/* concurrent */
	int			 client_idle_timeout;	/* seconds */
	size_t			 max_clients;

	int			 refresh_min;		/* proactive refresh at least this often, s */
	int			 retry_min;		/* after a failure, s */
	int			 retry_max;
	int			 ttl_min;		/* TXT and negative TTL clamp, s */
	int			 ttl_max;

	struct zone		 zones[CONFIG_ZONES_MAX];
	size_t			 nzones;
	struct zone		 default_zone;		/* unknown map names */

	int			 log_level;		/* enum log_level */
	int			 log_syslog;
	char			*user;
	char			*group;
	char			*pidfile;
};

/* A config holding every built-in default (no file needed). */
struct config	*config_default(void);
/*
 * Read path into a fresh config built on the defaults.  NULL on error,
 * with each problem as "file:line: message" in errs (caller frees with
 * config_errors_free).
 */
struct config	*config_load(const char *path, char ***errs, size_t *nerrs);
/* The same from an open stream; name is used in the messages. */
struct config	*config_load_fp(FILE *, const char *name, char ***errs,
		    size_t *nerrs);
void		 config_free(struct config *);
void		 config_errors_free(char **errs, size_t nerrs);
/* The zone for a map name: a configured zone or the default zone. */
const struct zone *config_zone(const struct config *, const char *name,
		    size_t len);
/*
 * Parse "inet:HOST:PORT" / "unix:PATH [mode=0660] [owner=U] [group=G]"
 * into a listen_addr (proto LISTEN_SOCKETMAP); -1 on error with a static
 * reason in *why.
 */
int		 config_parse_listen(const char *s, struct listen_addr *,
		    const char **why);
/* Free the strings of a listen_addr filled by config_parse_listen. */
void		 config_listen_clear(struct listen_addr *);
/*
 * Whether config_load looks up the user and group names it reads (user,
 * group, a unix listener's owner= and group=) on this system, so that an
 * unknown name is an error with its line.  On by default; tests of
 * example files meant for another system turn it off.
 */
void		 config_check_names(int on);
/* Print every option with its value, default and help, as a file. */
void		 config_print(const struct config *, FILE *);
/* The default cache path for this user (root or per-user). */
char		*config_default_cache(void);
/* The default control socket path for this user (root or per-user). */
char		*config_default_control(void);

/* One row of the option table, for documentation checks. */
struct config_optdoc {
	const char	*name;
	const char	*arg;		/* "DURATION", "ADDR", ... */
	const char	*def;		/* as written in a file; NULL: none or computed */
	char		 bounds[64];	/* "1s to 90s", or "" when unbounded */
	int		 repeatable;
	const char	*help;
};
/* Fill doc with table row i; -1 past the end. */
int		 config_optdoc(size_t i, struct config_optdoc *doc);

#endif
