/*
 * dns.c: an asynchronous stub resolver.  ldns builds and parses the
 * packets; libevent drives one non-blocking, connected UDP socket per try
 * (so each try has a fresh random source port and the kernel drops
 * datagrams from anyone but the server), with TCP fallback on truncation.
 *
 * A query walks tries x servers in resolv.conf order.  A try ends with a
 * usable answer, a timeout, an error rcode (that server is skipped from
 * then on), a network error or a malformed answer; then the next server
 * is asked.  Packets that do not answer our question are ignored and we
 * keep waiting.  CNAMEs are followed inside an answer and, when the
 * answer stops at a CNAME, with a new query for its target.
 *
 * The user callback only ever runs from dns_done_cb, an event activated
 * when the query finishes, never from inside dns_lookup.  The query is
 * unlinked from its client before the callback and freed after it, so
 * dns_cancel and dns_client_free are safe from inside any callback.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "defaults.h"
#include "dns.h"
#include "log.h"
#include "util.h"

/* Limits on what a peer or a file controls. */
#define DNS_UDP_MAX		65535	/* one datagram, bytes read */
#define DNS_READS_MAX		16	/* datagrams/messages handled per wakeup */
#define DNS_SERVER_STRLEN	128	/* one server string */
#define DNS_LINE_MAX		1024	/* one resolv.conf line */
#define DNS_PORT		53
#define DNS_TRIES_MAX		10
#define DNS_TIMEOUT_MAX_MS	60000
#define DNS_RC_TIMEOUT_MAX	30	/* resolv.conf "options timeout:" */
#define DNS_RC_ATTEMPTS_MAX	5	/* resolv.conf "options attempts:" */
#define DNS_FAILMSG_MAX		160

/* Why a try failed, ranked: the final status reports the worst seen. */
enum dns_fail {
	DNS_FAIL_NONE,
	DNS_FAIL_NET,		/* timeout, refused, unreachable */
	DNS_FAIL_MALFORMED,	/* our answer, but unusable */
	DNS_FAIL_RCODE		/* SERVFAIL, REFUSED, ... */
};

enum dns_state {
	DNS_S_IDLE,
	DNS_S_UDP,
	DNS_S_TCP_CONNECT,
	DNS_S_TCP_WRITE,
	DNS_S_TCP_READ,
	DNS_S_DONE
};

struct dns_server {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			*name;
};

struct dns_query;
TAILQ_HEAD(dns_queries, dns_query);

struct dns_client {
	struct event_base	*base;
	struct dns_server	 servers[DNS_SERVERS_MAX];
	size_t			 nservers;
	int			 timeout_ms;
	int			 tries;
	int			 dnssec_ok;
	unsigned int		 serial;
	uint8_t			*rbuf;		/* DNS_UDP_MAX bytes */
	struct dns_queries	 queries;
};

struct dns_query {
	TAILQ_ENTRY(dns_query)	 entry;
	struct dns_client	*client;	/* NULL once unlinked */
	unsigned int		 serial;
	dns_cb			 cb;
	void			*arg;
	int			 in_cb;
	char			*qname;		/* as asked */
	int			 qtype;

	/* The name asked, then each CNAME target followed. */
	struct dns_chain	 chain;

	/* One round: every try at every server for the current name. */
	size_t			 attempt;
	size_t			 nattempts;
	uint8_t			 skip[DNS_SERVERS_MAX];
	enum dns_fail		 fail;
	char			 failmsg[DNS_FAILMSG_MAX];

	/* The current try. */
	enum dns_state		 state;
	size_t			 server;
	uint16_t		 id;
	uint8_t			*wire;
	size_t			 wirelen;
	size_t			 qlen;		/* question section, bytes */
	int			 fd;
	struct event		*ev_io;
	struct event		*ev_timer;
	struct event		*ev_done;
	uint8_t			*tbuf;		/* TCP message in or out */
	size_t			 tlen;
	size_t			 toff;
	uint8_t			 tlenbuf[2];
	size_t			 tlenoff;

	/* The outcome, handed to the callback. */
	struct dns_answer	 answer;
	ldns_rr_list		*rrs;
	char			*final_name;
	char			*server_name;
	char			*error;
};

static void	dns_try_next(struct dns_query *);
static void	dns_finish(struct dns_query *, enum dns_status, uint32_t,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	dns_try_failed(struct dns_query *, enum dns_fail,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	dns_udp_read_cb(evutil_socket_t, short, void *);
static void	dns_tcp_cb(evutil_socket_t, short, void *);
static void	dns_tcp_start(struct dns_query *);
static void	dns_timeout_cb(evutil_socket_t, short, void *);
static void	dns_done_cb(evutil_socket_t, short, void *);

static const char *dns_status_names[] = {
	[DNS_OK] = "OK",
	[DNS_NXDOMAIN] = "NXDOMAIN",
	[DNS_NODATA] = "NODATA",
	[DNS_SERVFAIL] = "SERVFAIL",
	[DNS_TIMEOUT] = "TIMEOUT",
	[DNS_ERROR] = "ERROR"
};

const char *
dns_status_name(enum dns_status s)
{
	if ((unsigned int)s >= sizeof dns_status_names / sizeof dns_status_names[0])
		return ("UNKNOWN");
	return (dns_status_names[s]);
}

/* The mnemonic of an RR type, for logs. */
static const char *
dns_type_name(int type)
{
	const ldns_rr_descriptor	*d;

	d = ldns_rr_descript((uint16_t)type);
	if (d == NULL || d->_name == NULL)
		return ("?");
	return (d->_name);
}

/* The mnemonic of an rcode, for logs and errors. */
static const char *
dns_rcode_name(int rcode)
{
	ldns_lookup_table	*t;

	t = ldns_lookup_by_id(ldns_rcodes, rcode);
	if (t == NULL || t->name == NULL)
		return ("?");
	return (t->name);
}

/* Parse a decimal port 1..65535; -1 if it is not one. */
static int
dns_port_parse(const char *s)
{
	long	port = 0;
	size_t	i;

	if (*s == '\0' || strlen(s) > 5)
		return (-1);
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (-1);
		port = port * 10 + (s[i] - '0');
	}
	if (port < 1 || port > 65535)
		return (-1);
	return ((int)port);
}

/*
 * Parse "192.0.2.1", "2001:db8::1", "127.0.0.1@5353", "[::1]:5353",
 * "127.0.0.1:5353" (and "[::1]", "::1@5353") into a socket address.
 */
static int
dns_server_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char			 buf[DNS_SERVER_STRLEN];
	char			*addr = buf, *end, *sep;
	struct addrinfo		 hints, *res;
	int			 port = DNS_PORT;
	size_t			 len;

	len = strlen(s);
	if (len == 0 || len >= sizeof buf)
		return (-1);
	memcpy(buf, s, len + 1);

	if (buf[0] == '[') {
		if ((end = strchr(buf, ']')) == NULL)
			return (-1);
		*end = '\0';
		addr = buf + 1;
		if (end[1] == ':' || end[1] == '@') {
			if ((port = dns_port_parse(end + 2)) == -1)
				return (-1);
		} else if (end[1] != '\0')
			return (-1);
	} else if ((sep = strrchr(buf, '@')) != NULL) {
		*sep = '\0';
		if ((port = dns_port_parse(sep + 1)) == -1)
			return (-1);
	} else if ((sep = strchr(buf, ':')) != NULL &&
	    strchr(sep + 1, ':') == NULL) {
		/* One colon: IPv4 address and port.  More: bare IPv6. */
		*sep = '\0';
		if ((port = dns_port_parse(sep + 1)) == -1)
			return (-1);
	}
	if (*addr == '\0')
		return (-1);

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(addr, NULL, &hints, &res) != 0)
		return (-1);
	if (res->ai_addrlen > sizeof *ss ||
	    (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
		freeaddrinfo(res);
		return (-1);
	}
	memset(ss, 0, sizeof *ss);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);

	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	return (0);
}

int
dns_config_add(struct dns_config *cfg, const char *server)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen;

	if (server == NULL || cfg->nservers >= DNS_SERVERS_MAX)
		return (-1);
	if (dns_server_parse(server, &ss, &sslen) == -1)
		return (-1);
	cfg->servers[cfg->nservers++] = xstrdup(server);
	return (0);
}

/* Free the servers; timeout_ms, tries and dnssec_ok are kept. */
void
dns_config_clear(struct dns_config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nservers; i++) {
		free(cfg->servers[i]);
		cfg->servers[i] = NULL;
	}
	cfg->nservers = 0;
}

/* Apply "options timeout:N attempts:N" to fields still unset (0). */
static void
dns_resolvconf_options(struct dns_config *cfg, char *rest)
{
	char	*tok, *last;
	long	 n;

	for (tok = strtok_r(rest, " \t", &last); tok != NULL;
	    tok = strtok_r(NULL, " \t", &last)) {
		if (strncmp(tok, "timeout:", 8) == 0) {
			n = strtol(tok + 8, NULL, 10);
			if (cfg->timeout_ms == 0 && n > 0)
				cfg->timeout_ms = (int)util_clamp(n, 1,
				    DNS_RC_TIMEOUT_MAX) * 1000;
		} else if (strncmp(tok, "attempts:", 9) == 0) {
			n = strtol(tok + 9, NULL, 10);
			if (cfg->tries == 0 && n > 0)
				cfg->tries = (int)util_clamp(n, 1,
				    DNS_RC_ATTEMPTS_MAX);
		}
	}
}

int
dns_config_resolvconf(struct dns_config *cfg, const char *path)
{
	FILE	*f;
	char	 line[DNS_LINE_MAX], *kw, *val, *last;
	int	 c, found = 0, lineno = 0;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("dns: resolvconf path=%s", path);
		return (-1);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			/* Overlong line: drop it whole. */
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			log_debug("dns: resolvconf path=%s line=%d "
			    "too long, ignored", path, lineno);
			continue;
		}
		line[strcspn(line, "#;\r\n")] = '\0';
		if ((kw = strtok_r(line, " \t", &last)) == NULL)
			continue;
		if (strcmp(kw, "options") == 0) {
			dns_resolvconf_options(cfg, last);
			continue;
		}
		if (strcmp(kw, "nameserver") != 0)
			continue;
		if ((val = strtok_r(NULL, " \t", &last)) == NULL)
			continue;
		if (dns_config_add(cfg, val) == 0)
			found++;
		else
			log_debug("dns: resolvconf path=%s line=%d "
			    "nameserver=%s ignored", path, lineno, val);
	}
	fclose(f);
	return (found > 0 ? 0 : -1);
}

struct dns_client *
dns_client_new(struct event_base *base, const struct dns_config *cfg)
{
	struct dns_client	*c;
	struct dns_server	*s;
	size_t			 i;

	c = xcalloc(1, sizeof *c);
	c->base = base;
	TAILQ_INIT(&c->queries);
	for (i = 0; i < cfg->nservers && i < DNS_SERVERS_MAX; i++) {
		s = &c->servers[c->nservers];
		if (cfg->servers[i] == NULL ||
		    dns_server_parse(cfg->servers[i], &s->ss, &s->sslen) == -1) {
			log_warnx("dns: server=%s unparsable, ignored",
			    cfg->servers[i] ? cfg->servers[i] : "(null)");
			continue;
		}
		s->name = xstrdup(cfg->servers[i]);
		c->nservers++;
	}
	c->timeout_ms = cfg->timeout_ms > 0 ?
	    (int)util_clamp(cfg->timeout_ms, 1, DNS_TIMEOUT_MAX_MS) :
	    DNS_TIMEOUT_MS;
	c->tries = cfg->tries > 0 ?
	    (int)util_clamp(cfg->tries, 1, DNS_TRIES_MAX) : DNS_TRIES;
	c->dnssec_ok = cfg->dnssec_ok;
	c->rbuf = xmalloc(DNS_UDP_MAX);
	return (c);
}

/* Close the current try: events off, socket closed, buffers freed. */
static void
dns_try_close(struct dns_query *q)
{
	if (q->ev_io != NULL) {
		event_free(q->ev_io);
		q->ev_io = NULL;
	}
	if (q->fd != -1) {
		close(q->fd);
		q->fd = -1;
	}
	if (q->ev_timer != NULL)
		evtimer_del(q->ev_timer);
	free(q->tbuf);
	q->tbuf = NULL;
	q->tlen = q->toff = q->tlenoff = 0;
	q->state = DNS_S_IDLE;
}

/* Remove q from its client's list. */
static void
dns_query_unlink(struct dns_query *q)
{
	if (q->client != NULL) {
		TAILQ_REMOVE(&q->client->queries, q, entry);
		q->client = NULL;
	}
}

static void
dns_query_free(struct dns_query *q)
{
	size_t	i;

	dns_try_close(q);
	if (q->ev_timer != NULL)
		event_free(q->ev_timer);
	if (q->ev_done != NULL)
		event_free(q->ev_done);
	for (i = 0; i < q->chain.nseen; i++)
		ldns_rdf_deep_free(q->chain.seen[i]);
	if (q->rrs != NULL)
		ldns_rr_list_deep_free(q->rrs);
	free(q->wire);
	free(q->qname);
	free(q->final_name);
	free(q->server_name);
	free(q->error);
	free(q);
}

void
dns_client_free(struct dns_client *c)
{
	struct dns_query	*q;
	size_t			 i;

	if (c == NULL)
		return;
	while ((q = TAILQ_FIRST(&c->queries)) != NULL) {
		dns_query_unlink(q);
		dns_query_free(q);
	}
	for (i = 0; i < c->nservers; i++)
		free(c->servers[i].name);
	free(c->rbuf);
	free(c);
}

void
dns_cancel(struct dns_query *q)
{
	/* Inside its own callback the query is freed when the callback returns. */
	if (q == NULL || q->in_cb)
		return;
	dns_query_unlink(q);
	dns_query_free(q);
}

/* The end of a chain: the name asked or the last CNAME target. */
static const ldns_rdf *
dns_chain_end(const struct dns_chain *ch)
{
	return (ch->seen[ch->nseen - 1]);
}

/* The current name of a query. */
static const ldns_rdf *
dns_current(const struct dns_query *q)
{
	return (dns_chain_end(&q->chain));
}

/* A name as text without the final dot, lowercased; NULL on failure. */
static char *
dns_name_str(const ldns_rdf *name)
{
	char	*s, *out;
	size_t	 len;

	if ((s = ldns_rdf2str(name)) == NULL)
		return (NULL);
	len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		len--;
	out = xstrndup(s, len);
	free(s);
	util_lower(out);
	return (out);
}

/*
 * End the query with status: fill the answer and schedule the callback.
 * rrs (if any) and final_name must already be set.
 */
static void
dns_finish(struct dns_query *q, enum dns_status status, uint32_t ttl,
    const char *fmt, ...)
{
	struct dns_client	*c = q->client;
	va_list			 ap;

	dns_try_close(q);
	q->state = DNS_S_DONE;
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&q->error, fmt, ap) == -1)
			q->error = NULL;
		va_end(ap);
	}
	if (q->rrs == NULL && (q->rrs = ldns_rr_list_new()) == NULL)
		fatalx("dns: out of memory");
	if (q->final_name == NULL && q->chain.nseen > 0)
		q->final_name = dns_name_str(dns_current(q));
	if (c != NULL && c->nservers > 0 && q->attempt > 0) {
		free(q->server_name);
		q->server_name = xstrdup(c->servers[q->server].name);
	}
	if (status != DNS_OK && status != DNS_NXDOMAIN && status != DNS_NODATA)
		q->chain.ad = 0;

	q->answer.status = status;
	q->answer.qname = q->qname;
	q->answer.final_name = q->final_name != NULL ? q->final_name : q->qname;
	q->answer.qtype = q->qtype;
	q->answer.rrs = q->rrs;
	q->answer.ttl = ttl;
	q->answer.ad = q->chain.ad;
	q->answer.cnames = q->chain.nseen > 0 ? (int)q->chain.nseen - 1 : 0;
	q->answer.server = q->server_name;
	q->answer.error = status == DNS_OK ? NULL :
	    (q->error != NULL ? q->error : dns_status_name(status));

	log_debug("dns: done id=%u qname=%s type=%s status=%s ttl=%u "
	    "cnames=%d server=%s error=\"%s\"", q->serial, q->qname,
	    dns_type_name(q->qtype), dns_status_name(status), ttl,
	    q->answer.cnames, q->server_name ? q->server_name : "-",
	    q->answer.error ? q->answer.error : "");
	event_active(q->ev_done, EV_TIMEOUT, 0);
}

/* Deliver the answer from the event loop, then free the query. */
static void
dns_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query	*q = arg;

	dns_query_unlink(q);
	q->in_cb = 1;
	q->cb(&q->answer, q->arg);
	dns_query_free(q);
}

/* Build the wire query for the current name with a fresh random id. */
static int
dns_wire_build(struct dns_query *q)
{
	ldns_pkt	*pkt;
	ldns_rdf	*name;
	ldns_status	 st;
	uint16_t	 flags = LDNS_RD;

	if (q->client->dnssec_ok)
		flags |= LDNS_AD;	/* RFC 6840 5.7: we understand AD */
	if ((name = ldns_rdf_clone(dns_current(q))) == NULL)
		return (-1);
	q->qlen = ldns_rdf_size(name) + 4;
	if ((pkt = ldns_pkt_query_new(name, (ldns_rr_type)q->qtype,
	    LDNS_RR_CLASS_IN, flags)) == NULL) {
		ldns_rdf_deep_free(name);
		return (-1);
	}
	q->id = (uint16_t)util_random(65536);
	ldns_pkt_set_id(pkt, q->id);
	ldns_pkt_set_edns_udp_size(pkt, DNS_EDNS_BUFSIZE);
	if (q->client->dnssec_ok)
		ldns_pkt_set_edns_do(pkt, 1);
	free(q->wire);
	q->wire = NULL;
	st = ldns_pkt2wire(&q->wire, pkt, &q->wirelen);
	ldns_pkt_free(pkt);
	if (st != LDNS_STATUS_OK || q->wirelen < LDNS_HEADER_SIZE + q->qlen) {
		free(q->wire);
		q->wire = NULL;
		return (-1);
	}
	return (0);
}

/* Arm the per-try timeout. */
static void
dns_timer_arm(struct dns_query *q)
{
	struct timeval	tv;
	int		ms = q->client->timeout_ms;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(q->ev_timer, &tv);
}

/* Open a connected socket of type to the current server; -1 on error. */
static int
dns_socket(struct dns_query *q, int type)
{
	struct dns_server	*s = &q->client->servers[q->server];
	int			 fd;

	fd = socket(s->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&s->ss, s->sslen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Start one UDP try at server idx; -1 if it could not even be sent. */
static int
dns_udp_start(struct dns_query *q, size_t idx)
{
	struct dns_client	*c = q->client;
	ssize_t			 n;

	q->server = idx;
	if (dns_wire_build(q) == -1) {
		snprintf(q->failmsg, sizeof q->failmsg, "cannot build query");
		return (-1);
	}
	if ((q->fd = dns_socket(q, SOCK_DGRAM)) == -1) {
		snprintf(q->failmsg, sizeof q->failmsg, "udp socket: %s",
		    strerror(errno));
		return (-1);
	}
	n = send(q->fd, q->wire, q->wirelen, 0);
	if (n != (ssize_t)q->wirelen) {
		snprintf(q->failmsg, sizeof q->failmsg, "udp send: %s",
		    n == -1 ? strerror(errno) : "short write");
		dns_try_close(q);
		return (-1);
	}
	q->state = DNS_S_UDP;
	q->ev_io = event_new(c->base, q->fd, EV_READ | EV_PERSIST,
	    dns_udp_read_cb, q);
	if (q->ev_io == NULL)
		fatalx("dns: event_new");
	event_add(q->ev_io, NULL);
	dns_timer_arm(q);
	log_debug("dns: query id=%u qname=%s type=%s cnames=%zu server=%s "
	    "try=%zu/%zu", q->serial, q->qname, dns_type_name(q->qtype),
	    q->chain.nseen - 1, c->servers[idx].name, q->attempt, q->nattempts);
	return (0);
}

/* Start a round: every try at every server for the current name. */
static void
dns_round_start(struct dns_query *q)
{
	q->attempt = 0;
	q->nattempts = (size_t)q->client->tries * q->client->nservers;
	memset(q->skip, 0, sizeof q->skip);
	q->fail = DNS_FAIL_NONE;
	q->failmsg[0] = '\0';
	dns_try_next(q);
}

/* Move on to the next try, or end the query when none is left. */
static void
dns_try_next(struct dns_query *q)
{
	struct dns_client	*c = q->client;
	size_t			 idx;

	dns_try_close(q);
	while (q->attempt < q->nattempts) {
		idx = q->attempt % c->nservers;
		q->attempt++;
		if (q->skip[idx])
			continue;
		if (dns_udp_start(q, idx) == 0)
			return;
		if (q->fail < DNS_FAIL_NET)
			q->fail = DNS_FAIL_NET;
		log_debug("dns: try failed id=%u qname=%s server=%s "
		    "reason=\"%s\", trying next", q->serial, q->qname,
		    c->servers[idx].name, q->failmsg);
	}

	switch (q->fail) {
	case DNS_FAIL_RCODE:
		dns_finish(q, DNS_SERVFAIL, 0, "all servers failed, last: %s",
		    q->failmsg);
		break;
	case DNS_FAIL_MALFORMED:
		dns_finish(q, DNS_ERROR, 0, "%s", q->failmsg);
		break;
	default:
		dns_finish(q, DNS_TIMEOUT, 0, "no answer from %zu server(s) "
		    "in %d tries, last: %s", c->nservers, c->tries,
		    q->failmsg[0] != '\0' ? q->failmsg : "timeout");
		break;
	}
}

/* The current try failed for reason; ask the next server. */
static void
dns_try_failed(struct dns_query *q, enum dns_fail why, const char *fmt, ...)
{
	va_list	ap;

	/* Keep the message of the worst failure so far. */
	if (why >= q->fail) {
		q->fail = why;
		va_start(ap, fmt);
		vsnprintf(q->failmsg, sizeof q->failmsg, fmt, ap);
		va_end(ap);
	}
	log_debug("dns: try failed id=%u qname=%s server=%s reason=\"%s\", "
	    "trying next", q->serial, q->qname,
	    q->client->servers[q->server].name, q->failmsg);
	dns_try_next(q);
}

static void
dns_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query	*q = arg;

	dns_try_failed(q, DNS_FAIL_NET, "timeout after %d ms%s",
	    q->client->timeout_ms, q->state == DNS_S_UDP ? "" : " (tcp)");
}

/* Is name one we already visited (a CNAME loop)? */
static int
dns_seen(const struct dns_chain *ch, const ldns_rdf *name)
{
	size_t	i;

	for (i = 0; i < ch->nseen; i++) {
		if (ldns_dname_compare(ch->seen[i], name) == 0)
			return (1);
	}
	return (0);
}

/* The first CNAME owned by name in list, or NULL. */
static ldns_rr *
dns_find_cname(const ldns_rr_list *list, const ldns_rdf *name)
{
	ldns_rr	*rr;
	size_t	 i;

	for (i = 0; i < ldns_rr_list_rr_count(list); i++) {
		rr = ldns_rr_list_rr(list, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		    ldns_dname_compare(ldns_rr_owner(rr), name) == 0)
			return (rr);
	}
	return (NULL);
}

/* Copy the records of type owned by name; their minimum TTL to *ttl. */
static ldns_rr_list *
dns_collect(const ldns_rr_list *list, const ldns_rdf *name, int type,
    uint32_t *ttl)
{
	ldns_rr_list	*out;
	ldns_rr		*rr, *copy;
	size_t		 i;

	if ((out = ldns_rr_list_new()) == NULL)
		fatalx("dns: out of memory");
	for (i = 0; i < ldns_rr_list_rr_count(list); i++) {
		rr = ldns_rr_list_rr(list, i);
		if (ldns_rr_get_type(rr) != (ldns_rr_type)type ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
		    ldns_dname_compare(ldns_rr_owner(rr), name) != 0)
			continue;
		if ((copy = ldns_rr_clone(rr)) == NULL ||
		    !ldns_rr_list_push_rr(out, copy))
			fatalx("dns: out of memory");
		if (ldns_rr_ttl(rr) < *ttl)
			*ttl = ldns_rr_ttl(rr);
	}
	return (out);
}

/* The negative TTL: min(SOA TTL, SOA minimum) from authority, 0 if none. */
static uint32_t
dns_negative_ttl(const ldns_pkt *pkt)
{
	ldns_rr_list	*auth = ldns_pkt_authority(pkt);
	ldns_rr		*rr;
	ldns_rdf	*min;
	uint32_t	 ttl;
	size_t		 i;

	for (i = 0; i < ldns_rr_list_rr_count(auth); i++) {
		rr = ldns_rr_list_rr(auth, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
		    (min = ldns_rr_rdf(rr, 6)) == NULL ||
		    ldns_rdf_size(min) != 4)
			continue;
		ttl = ldns_rdf2native_int32(min);
		return (ttl < ldns_rr_ttl(rr) ? ttl : ldns_rr_ttl(rr));
	}
	return (0);
}

/* Set a verdict and its reason. */
static void
dns_verdict(struct dns_judgement *j, enum dns_verdict v, enum dns_status st,
    const char *why)
{
	j->verdict = v;
	j->status = st;
	snprintf(j->why, sizeof j->why, "%s", why);
}

/* Forget the names appended to ch past its first n. */
static void
dns_chain_cut(struct dns_chain *ch, size_t n)
{
	while (ch->nseen > n) {
		ch->nseen--;
		ldns_rdf_deep_free(ch->seen[ch->nseen]);
		ch->seen[ch->nseen] = NULL;
	}
}

/*
 * Judge an answer (NOERROR or NXDOMAIN) to our question: follow CNAMEs in
 * the answer section, then finish, or ask again for a CNAME target.  A
 * malformed answer leaves the chain as it was, so the next server is
 * asked the same question.
 */
static void
dns_answer_judge(struct dns_chain *ch, int qtype, const ldns_pkt *pkt,
    int rcode, struct dns_judgement *j)
{
	ldns_rr_list	*answer = ldns_pkt_answer(pkt);
	ldns_rr		*cname;
	ldns_rdf	*target;
	size_t		 nseen = ch->nseen;
	uint32_t	 ttl, negttl, cname_ttl = ch->cname_ttl;

	for (;;) {
		ttl = cname_ttl;
		j->rrs = dns_collect(answer, dns_chain_end(ch), qtype, &ttl);
		if (ldns_rr_list_rr_count(j->rrs) > 0) {
			dns_verdict(j, DNS_V_DONE, DNS_OK, "");
			j->ttl = ttl;
			goto used;
		}
		ldns_rr_list_deep_free(j->rrs);
		j->rrs = NULL;
		if (qtype == LDNS_RR_TYPE_CNAME ||
		    (cname = dns_find_cname(answer, dns_chain_end(ch))) == NULL)
			break;
		target = ldns_rr_rdf(cname, 0);
		if (target == NULL || ldns_rdf_get_type(target) !=
		    LDNS_RDF_TYPE_DNAME) {
			dns_chain_cut(ch, nseen);
			dns_verdict(j, DNS_V_MALFORMED, DNS_ERROR,
			    "malformed CNAME in answer");
			return;
		}
		if (dns_seen(ch, target)) {
			dns_verdict(j, DNS_V_DONE, DNS_ERROR, "cname loop");
			goto used;
		}
		if (ch->nseen > DNS_CNAME_MAX) {
			dns_verdict(j, DNS_V_DONE, DNS_ERROR,
			    "cname chain too long");
			goto used;
		}
		if ((ch->seen[ch->nseen] = ldns_rdf_clone(target)) == NULL)
			fatalx("dns: out of memory");
		ch->nseen++;
		if (ldns_rr_ttl(cname) < cname_ttl)
			cname_ttl = ldns_rr_ttl(cname);
	}

	if (rcode == LDNS_RCODE_NOERROR && ch->nseen > nseen) {
		/* The answer stops at a CNAME: ask for its target. */
		dns_verdict(j, DNS_V_FOLLOW, DNS_OK, "following cname");
		goto used;
	}
	negttl = dns_negative_ttl(pkt);
	if (negttl > cname_ttl)
		negttl = cname_ttl;
	j->ttl = negttl;
	if (rcode == LDNS_RCODE_NXDOMAIN)
		dns_verdict(j, DNS_V_DONE, DNS_NXDOMAIN, "name does not exist");
	else {
		dns_verdict(j, DNS_V_DONE, DNS_NODATA, "");
		snprintf(j->why, sizeof j->why, "no %s records",
		    dns_type_name(qtype));
	}
used:
	/* A chain is authenticated only if every answer on it was. */
	ch->ad = ch->ad && ldns_pkt_ad(pkt);
	ch->cname_ttl = cname_ttl;
}

/*
 * Does the question in buf (qdcount 1) equal the one in query, the name
 * compared case-insensitively?  qlen is the question's size in bytes.
 */
static int
dns_question_match(const uint8_t *query, size_t qlen, const uint8_t *buf,
    size_t len)
{
	size_t	pos = LDNS_HEADER_SIZE, end, lab;

	if (LDNS_QDCOUNT(buf) != 1 || len < LDNS_HEADER_SIZE + qlen)
		return (0);
	end = LDNS_HEADER_SIZE + qlen - 4;
	while (pos < end) {
		lab = query[pos];
		if (buf[pos] != lab || pos + 1 + lab > end)
			return (0);
		for (pos++; lab > 0; lab--, pos++) {
			if (tolower(buf[pos]) != tolower(query[pos]))
				return (0);
		}
	}
	return (memcmp(buf + end, query + end, 4) == 0);
}

void
dns_judge(struct dns_chain *ch, int qtype, const uint8_t *query,
    size_t querylen, int tcp, const uint8_t *buf, size_t len,
    struct dns_judgement *j)
{
	ldns_pkt	*pkt = NULL;
	size_t		 qlen;
	int		 rcode;

	memset(j, 0, sizeof *j);
	qlen = ldns_rdf_size(dns_chain_end(ch)) + 4;
	if (querylen < LDNS_HEADER_SIZE + qlen) {
		dns_verdict(j, DNS_V_IGNORE, DNS_ERROR, "no query");
		return;
	}
	if (len < LDNS_HEADER_SIZE)
		dns_verdict(j, DNS_V_IGNORE, DNS_ERROR, "short packet");
	else if (LDNS_ID_WIRE(buf) != LDNS_ID_WIRE(query))
		dns_verdict(j, DNS_V_IGNORE, DNS_ERROR, "wrong id");
	else if (!LDNS_QR_WIRE(buf) || LDNS_OPCODE_WIRE(buf) != LDNS_PACKET_QUERY)
		dns_verdict(j, DNS_V_IGNORE, DNS_ERROR, "not a response");
	else if (!dns_question_match(query, qlen, buf, len))
		dns_verdict(j, DNS_V_IGNORE, DNS_ERROR, "other question");
	else if (ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK || pkt == NULL)
		dns_verdict(j, DNS_V_MALFORMED, DNS_ERROR, "malformed answer");
	else if (ldns_pkt_tc(pkt) && tcp)
		dns_verdict(j, DNS_V_MALFORMED, DNS_ERROR,
		    "truncated answer over tcp");
	else if (ldns_pkt_tc(pkt))
		dns_verdict(j, DNS_V_TRUNCATED, DNS_ERROR, "truncated");
	else {
		rcode = ldns_pkt_get_rcode(pkt);
		if (ldns_pkt_edns_extended_rcode(pkt) != 0)
			rcode = -1;
		if (rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN)
			dns_answer_judge(ch, qtype, pkt, rcode, j);
		else {
			j->rcode = rcode;
			dns_verdict(j, DNS_V_RCODE, DNS_SERVFAIL,
			    rcode == -1 ? "EXTENDED" : dns_rcode_name(rcode));
		}
	}
	if (pkt != NULL)
		ldns_pkt_free(pkt);
}

/*
 * Handle one message from the server.  0: not an answer to our question,
 * ignored, keep waiting.  1: used; the try is over and q may have moved on.
 */
static int
dns_packet(struct dns_query *q, const uint8_t *buf, size_t len, int tcp)
{
	const char		*server = q->client->servers[q->server].name;
	struct dns_judgement	 j;

	dns_judge(&q->chain, q->qtype, q->wire, q->wirelen, tcp, buf, len, &j);
	switch (j.verdict) {
	case DNS_V_IGNORE:
		log_debug("dns: ignored packet id=%u qname=%s server=%s len=%zu "
		    "reason=\"%s\", still waiting", q->serial, q->qname, server,
		    len, j.why);
		return (0);
	case DNS_V_MALFORMED:
		dns_try_failed(q, DNS_FAIL_MALFORMED, "%s from %s", j.why,
		    server);
		break;
	case DNS_V_TRUNCATED:
		log_debug("dns: truncated id=%u qname=%s server=%s, "
		    "retrying over tcp", q->serial, q->qname, server);
		dns_tcp_start(q);
		break;
	case DNS_V_RCODE:
		q->skip[q->server] = 1;
		dns_try_failed(q, DNS_FAIL_RCODE, "rcode=%s from %s", j.why,
		    server);
		break;
	case DNS_V_FOLLOW:
		log_debug("dns: following cname id=%u qname=%s cnames=%zu",
		    q->serial, q->qname, q->chain.nseen - 1);
		dns_try_close(q);
		dns_round_start(q);
		break;
	case DNS_V_DONE:
		q->rrs = j.rrs;
		if (j.status == DNS_OK)
			dns_finish(q, DNS_OK, j.ttl, NULL);
		else
			dns_finish(q, j.status, j.ttl, "%s", j.why);
		break;
	}
	return (1);
}

/* Read datagrams on the UDP socket until one answers our question. */
static void
dns_udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query	*q = arg;
	uint8_t			*buf = q->client->rbuf;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < DNS_READS_MAX; i++) {
		n = recv(fd, buf, DNS_UDP_MAX, 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			/* ICMP errors (refused, unreachable) end the try now. */
			dns_try_failed(q, DNS_FAIL_NET, "udp recv: %s",
			    strerror(errno));
			return;
		}
		if (dns_packet(q, buf, (size_t)n, 0))
			return;
	}
}

/* Retry the current try over TCP (the UDP answer was truncated). */
static void
dns_tcp_start(struct dns_query *q)
{
	struct dns_client	*c = q->client;

	dns_try_close(q);
	if ((q->fd = dns_socket(q, SOCK_STREAM)) == -1) {
		dns_try_failed(q, DNS_FAIL_NET, "tcp connect to %s: %s",
		    c->servers[q->server].name, strerror(errno));
		return;
	}
	/* Two bytes of length, then the same query. */
	q->tlen = q->wirelen + 2;
	q->tbuf = xmalloc(q->tlen);
	q->tbuf[0] = (uint8_t)(q->wirelen >> 8);
	q->tbuf[1] = (uint8_t)(q->wirelen & 0xff);
	memcpy(q->tbuf + 2, q->wire, q->wirelen);
	q->toff = 0;
	q->state = DNS_S_TCP_CONNECT;
	q->ev_io = event_new(c->base, q->fd, EV_WRITE | EV_PERSIST,
	    dns_tcp_cb, q);
	if (q->ev_io == NULL)
		fatalx("dns: event_new");
	event_add(q->ev_io, NULL);
	dns_timer_arm(q);
}

/* Switch the TCP socket's event to reading the answer. */
static void
dns_tcp_want_read(struct dns_query *q)
{
	free(q->tbuf);
	q->tbuf = NULL;
	q->tlen = q->toff = q->tlenoff = 0;
	q->state = DNS_S_TCP_READ;
	event_free(q->ev_io);
	q->ev_io = event_new(q->client->base, q->fd, EV_READ | EV_PERSIST,
	    dns_tcp_cb, q);
	if (q->ev_io == NULL)
		fatalx("dns: event_new");
	event_add(q->ev_io, NULL);
}

/* Connect, send the query, then read length-framed messages. */
static void
dns_tcp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query	*q = arg;
	socklen_t		 len;
	ssize_t			 n;
	int			 err = 0, i;

	if (q->state == DNS_S_TCP_CONNECT) {
		len = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			dns_try_failed(q, DNS_FAIL_NET, "tcp connect: %s",
			    strerror(err));
			return;
		}
		q->state = DNS_S_TCP_WRITE;
	}
	if (q->state == DNS_S_TCP_WRITE) {
		n = send(fd, q->tbuf + q->toff, q->tlen - q->toff, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			dns_try_failed(q, DNS_FAIL_NET, "tcp send: %s",
			    strerror(errno));
			return;
		}
		q->toff += (size_t)n;
		if (q->toff == q->tlen)
			dns_tcp_want_read(q);
		return;
	}

	for (i = 0; i < DNS_READS_MAX; i++) {
		if (q->tlenoff < 2) {
			n = recv(fd, q->tlenbuf + q->tlenoff, 2 - q->tlenoff, 0);
		} else
			n = recv(fd, q->tbuf + q->toff, q->tlen - q->toff, 0);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (n <= 0) {
			dns_try_failed(q, DNS_FAIL_NET, "tcp recv: %s",
			    n == 0 ? "connection closed" : strerror(errno));
			return;
		}
		if (q->tlenoff < 2) {
			q->tlenoff += (size_t)n;
			if (q->tlenoff < 2)
				continue;
			q->tlen = ((size_t)q->tlenbuf[0] << 8) | q->tlenbuf[1];
			if (q->tlen < LDNS_HEADER_SIZE || q->tlen > DNS_TCP_MAX) {
				dns_try_failed(q, DNS_FAIL_MALFORMED,
				    "tcp message of %zu bytes", q->tlen);
				return;
			}
			/* Peer-sized: survive a failed allocation. */
			if ((q->tbuf = malloc(q->tlen)) == NULL) {
				dns_try_failed(q, DNS_FAIL_NET, "tcp: %s",
				    strerror(errno));
				return;
			}
			q->toff = 0;
			continue;
		}
		q->toff += (size_t)n;
		if (q->toff < q->tlen)
			continue;
		if (dns_packet(q, q->tbuf, q->tlen, 1))
			return;
		/* Not ours: read the next message. */
		free(q->tbuf);
		q->tbuf = NULL;
		q->tlen = q->toff = q->tlenoff = 0;
	}
}

struct dns_query *
dns_lookup(struct dns_client *c, const char *name, int type, dns_cb cb,
    void *arg)
{
	struct dns_query	*q;

	q = xcalloc(1, sizeof *q);
	q->client = c;
	q->serial = ++c->serial;
	q->cb = cb;
	q->arg = arg;
	q->qname = xstrdup(name != NULL ? name : "");
	q->qtype = type;
	q->fd = -1;
	q->chain.ad = 1;
	q->chain.cname_ttl = UINT32_MAX;
	q->ev_timer = evtimer_new(c->base, dns_timeout_cb, q);
	q->ev_done = evtimer_new(c->base, dns_done_cb, q);
	if (q->ev_timer == NULL || q->ev_done == NULL)
		fatalx("dns: evtimer_new");
	TAILQ_INSERT_TAIL(&c->queries, q, entry);

	if (name == NULL || strlen(name) > DOMAIN_MAX + 1 ||
	    (q->chain.seen[0] = ldns_dname_new_frm_str(name)) == NULL) {
		dns_finish(q, DNS_ERROR, 0, "invalid name");
		return (q);
	}
	q->chain.nseen = 1;
	if (type <= 0 || type > 65535) {
		dns_finish(q, DNS_ERROR, 0, "invalid type %d", type);
		return (q);
	}
	if (c->nservers == 0) {
		dns_finish(q, DNS_ERROR, 0, "no servers configured");
		return (q);
	}
	dns_round_start(q);
	return (q);
}
