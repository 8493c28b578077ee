/*
 * mtastsctl.c: the administrator's tool for mtastsd.  Parses the command
 * line (common options anywhere), reads the daemon's configuration to
 * find its control socket, cache file and listeners, and runs one
 * command from the table below.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "defaults.h"
#include "log.h"
#include "util.h"

static const struct ctl_cmd ctl_cmds[] = {
	{ "list", ctl_cmd_list, 0, 0,
	  CTL_OPT_JSON | CTL_OPT_EXPIRED | CTL_OPT_FAILED | CTL_OPT_MODE,
	  "list [--expired | --failed | --mode MODE] [--json]" },
	{ "show", ctl_cmd_show, 1, 1, CTL_OPT_JSON,
	  "show DOMAIN [--json]" },
	{ "query", ctl_cmd_query, 1, 1, CTL_OPT_JSON | CTL_OPT_MAP,
	  "query DOMAIN [--map NAME] [--json]" },
	{ "refresh", ctl_cmd_refresh, 0, 1, CTL_OPT_JSON | CTL_OPT_ALL,
	  "refresh DOMAIN | --all [--json]" },
	{ "forget", ctl_cmd_forget, 1, 1, CTL_OPT_JSON,
	  "forget DOMAIN [--json]" },
	{ "flush", ctl_cmd_flush, 0, 0, CTL_OPT_JSON,
	  "flush [--json]" },
	{ "stats", ctl_cmd_stats, 0, 0, CTL_OPT_JSON,
	  "stats [--json]" },
	{ "resolve", ctl_cmd_resolve, 1, 1,
	  CTL_OPT_JSON | CTL_OPT_RESOLVER | CTL_OPT_CA_FILE,
	  "resolve DOMAIN [--resolver ADDR] [--ca-file FILE] [--json]" },
	{ "check", ctl_cmd_check, 1, 1,
	  CTL_OPT_JSON | CTL_OPT_RESOLVER | CTL_OPT_CA_FILE,
	  "check DOMAIN [--resolver ADDR] [--ca-file FILE] [--json]" },
	{ "lint", ctl_cmd_lint, 0, 1,
	  CTL_OPT_JSON | CTL_OPT_TXT | CTL_OPT_TLSRPT,
	  "lint FILE | - | --txt RECORD | --tlsrpt RECORD [--json]" },
};
#define CTL_NCMDS	(sizeof ctl_cmds / sizeof ctl_cmds[0])

enum {
	OPT_RESOLVER = 256,
	OPT_CA_FILE,
	OPT_EXPIRED,
	OPT_FAILED,
	OPT_MODE,
	OPT_MAP,
	OPT_ALL,
	OPT_TXT,
	OPT_TLSRPT
};

static const struct option ctl_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "resolver", required_argument, NULL, OPT_RESOLVER },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "expired", no_argument, NULL, OPT_EXPIRED },
	{ "failed", no_argument, NULL, OPT_FAILED },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "map", required_argument, NULL, OPT_MAP },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "txt", required_argument, NULL, OPT_TXT },
	{ "tlsrpt", required_argument, NULL, OPT_TLSRPT },
	{ NULL, 0, NULL, 0 }
};

/* The option names, for "does not apply" messages. */
static const struct {
	unsigned	 bit;
	const char	*name;
} ctl_optnames[] = {
	{ CTL_OPT_JSON, "--json" },
	{ CTL_OPT_RESOLVER, "--resolver" },
	{ CTL_OPT_CA_FILE, "--ca-file" },
	{ CTL_OPT_EXPIRED, "--expired" },
	{ CTL_OPT_FAILED, "--failed" },
	{ CTL_OPT_MODE, "--mode" },
	{ CTL_OPT_MAP, "--map" },
	{ CTL_OPT_ALL, "--all" },
	{ CTL_OPT_TXT, "--txt" },
	{ CTL_OPT_TLSRPT, "--tlsrpt" },
};

static void
ctl_usage_all(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: mtastsctl [-c FILE] COMMAND [ARGS] [--json]\n");
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(f, "       mtastsctl %s\n", ctl_cmds[i].usage);
	fprintf(f, "  -c FILE   the daemon's configuration (default %s)\n",
	    DEFAULT_CONFIG);
}

int
ctl_usage_of(const char *name)
{
	size_t	i;

	for (i = 0; i < CTL_NCMDS; i++) {
		if (strcmp(ctl_cmds[i].name, name) == 0) {
			fprintf(stderr, "usage: mtastsctl [-c FILE] %s\n",
			    ctl_cmds[i].usage);
			return (CTL_EXIT_USAGE);
		}
	}
	ctl_usage_all(stderr);
	return (CTL_EXIT_USAGE);
}

/* Read the configuration: -c FILE, or the default file if it exists. */
static int
ctl_load_config(struct ctl *ctl, const char *path)
{
	char	**errs = NULL;
	size_t	  nerrs = 0, i;

	if (path == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	if (path == NULL) {
		ctl->cfg = config_default();
		return (0);
	}
	ctl->cfgpath = path;
	if ((ctl->cfg = config_load(path, &errs, &nerrs)) == NULL) {
		for (i = 0; i < nerrs; i++)
			fprintf(stderr, "%s\n", errs[i]);
		if (nerrs == 0)
			ctl_warnx("%s: cannot be read", path);
		config_errors_free(errs, nerrs);
		return (-1);
	}
	return (0);
}

/*
 * Say what is wrong with the option getopt stopped at (ch ':' or '?').
 * A long option is at argv[optind - 1]: either an unknown one (optopt 0)
 * or one whose value is optopt; otherwise a short option failed, maybe
 * inside a cluster like -jx, and only optopt names it.
 */
static void
ctl_badopt(const char *arg, int opt, int ch)
{
	const struct option	*o;
	int			 n = 0, is_long = 0;

	if (strncmp(arg, "--", 2) == 0) {
		n = (int)strcspn(arg, "=");
		for (o = ctl_longopts; o->name != NULL && opt != 0; o++) {
			if (o->val == opt &&
			    strncmp(o->name, arg + 2, (size_t)n - 2) == 0)
				is_long = 1;
		}
		if (opt == 0)
			is_long = 1;
	}
	if (is_long && ch == ':')
		ctl_warnx("option %.*s needs an argument", n, arg);
	else if (is_long && opt != 0)
		ctl_warnx("option %.*s takes no argument", n, arg);
	else if (is_long)
		ctl_warnx("unknown option %.*s", n, arg);
	else if (ch == ':')
		ctl_warnx("option -%c needs an argument", opt);
	else
		ctl_warnx("unknown option -%c", opt);
}

static const struct ctl_cmd *
ctl_find(const char *name)
{
	size_t	i;

	for (i = 0; i < CTL_NCMDS; i++) {
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return (&ctl_cmds[i]);
	}
	return (NULL);
}

int
main(int argc, char **argv)
{
	struct ctl		 ctl;
	const struct ctl_cmd	*cmd;
	const char		*cfgpath = NULL, *nc;
	size_t			 i;
	int			 ch, nargs, status;

	memset(&ctl, 0, sizeof ctl);
	log_init("mtastsctl", 0);
	log_setlevel(LOG_LEVEL_ERR);
	/* Our own messages: getopt's would start with argv[0], a path. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:jhV", ctl_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case ':':
		case '?':
			ctl_badopt(argv[optind - 1], optopt, ch);
			ctl_usage_all(stderr);
			return (CTL_EXIT_USAGE);
		case 'c':
			cfgpath = optarg;
			break;
		case 'j':
			ctl.given |= CTL_OPT_JSON;
			break;
		case 'h':
			ctl_usage_all(stdout);
			return (CTL_EXIT_OK);
		case 'V':
			printf("mtastsctl %s\n", MTASTSD_VERSION);
			return (CTL_EXIT_OK);
		case OPT_RESOLVER:
			if (ctl.nresolvers == DNS_SERVERS_MAX) {
				ctl_warnx("at most %d --resolver options",
				    DNS_SERVERS_MAX);
				return (CTL_EXIT_USAGE);
			}
			ctl.resolvers[ctl.nresolvers++] = optarg;
			ctl.given |= CTL_OPT_RESOLVER;
			break;
		case OPT_CA_FILE:
			ctl.ca_file = optarg;
			ctl.given |= CTL_OPT_CA_FILE;
			break;
		case OPT_EXPIRED:
			ctl.given |= CTL_OPT_EXPIRED;
			break;
		case OPT_FAILED:
			ctl.given |= CTL_OPT_FAILED;
			break;
		case OPT_MODE:
			ctl.mode = optarg;
			ctl.given |= CTL_OPT_MODE;
			break;
		case OPT_MAP:
			ctl.map = optarg;
			ctl.given |= CTL_OPT_MAP;
			break;
		case OPT_ALL:
			ctl.given |= CTL_OPT_ALL;
			break;
		case OPT_TXT:
			ctl.txt = optarg;
			ctl.given |= CTL_OPT_TXT;
			break;
		case OPT_TLSRPT:
			ctl.tlsrpt = optarg;
			ctl.given |= CTL_OPT_TLSRPT;
			break;
		default:
			ctl_usage_all(stderr);
			return (CTL_EXIT_USAGE);
		}
	}
	if (optind >= argc) {
		ctl_usage_all(stderr);
		return (CTL_EXIT_USAGE);
	}
	if (strcmp(argv[optind], "help") == 0) {
		ctl_usage_all(stdout);
		return (CTL_EXIT_OK);
	}
	if ((cmd = ctl_find(argv[optind])) == NULL) {
		ctl_warnx("unknown command \"%s\"", argv[optind]);
		ctl_usage_all(stderr);
		return (CTL_EXIT_USAGE);
	}
	for (i = 0; i < sizeof ctl_optnames / sizeof ctl_optnames[0]; i++) {
		if ((ctl.given & ctl_optnames[i].bit) &&
		    !(cmd->opts & ctl_optnames[i].bit)) {
			ctl_warnx("%s does not apply to %s",
			    ctl_optnames[i].name, cmd->name);
			return (ctl_usage_of(cmd->name));
		}
	}
	nargs = argc - optind - 1;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		ctl_warnx("%s: %s", cmd->name, nargs < cmd->min_args ?
		    "missing argument" : "too many arguments");
		return (ctl_usage_of(cmd->name));
	}

	ctl.json = (ctl.given & CTL_OPT_JSON) != 0;
	nc = getenv("NO_COLOR");
	ctl.color = !ctl.json && isatty(STDOUT_FILENO) &&
	    (nc == NULL || nc[0] == '\0');
	if (cmd->run != ctl_cmd_lint && ctl_load_config(&ctl, cfgpath) != 0)
		return (CTL_EXIT_CONFIG);
	status = cmd->run(&ctl, nargs, argv + optind + 1);
	if (ctl.cfg != NULL)
		config_free(ctl.cfg);
	if (fflush(stdout) != 0 && status == CTL_EXIT_OK)
		status = CTL_EXIT_IOERR;
	return (status);
}
