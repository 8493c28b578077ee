/*
 * server.c: listeners and clients of the Postfix socketmap and Exim line
 * protocols.
 *
 * A client answers one request at a time: while a request waits for a
 * discovery, reading stops, so replies leave in the order the requests
 * came and a pipelining client cannot grow our memory.  Every connection
 * ends in client_free, from one place per cause.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "cache.h"
#include "config.h"
#include "key.h"
#include "log.h"
#include "metrics.h"
#include "netstring.h"
#include "reply.h"
#include "resolver.h"
#include "server.h"
#include "util.h"

#define LISTEN_BACKLOG		512
#define MAP_NAME_MAX		255	/* bytes of a socketmap map name kept */
#define CLIENT_REPLY_INLINE	1024	/* netstrings up to this are framed on the stack */

struct listener {
	struct server		*s;
	struct evconnlistener	*l;
	int			 proto;
	char			*name;		/* for logs */
	struct event		*retry_ev;
	TAILQ_ENTRY(listener)	 entry;
};

struct client {
	struct server		*s;
	struct bufferevent	*bev;
	int			 proto;
	uint64_t		 id;
	uint64_t		 nreq;
	struct resolver_wait	*wait;		/* a parked request */
	char			 map[MAP_NAME_MAX + 1];
	char			 domain[KEY_BUF];
	char			 host[KEY_BUF];
	int			 has_host;
	int			 eof;		/* the peer finished sending */
	int			 closing;	/* write what is left, then free */
	TAILQ_ENTRY(client)	 entry;
};

struct server {
	struct event_base	*base;
	struct resolver		*resolver;
	const struct config	*cfg;
	TAILQ_HEAD(, listener)	 listeners;
	TAILQ_HEAD(, client)	 clients;
	size_t			 nclients;
	uint64_t		 next_id;
	time_t			 last_full_warn;
};

static void	client_process(struct client *);
static void	client_read_cb(struct bufferevent *, void *);
static void	client_write_cb(struct bufferevent *, void *);
static void	client_event_cb(struct bufferevent *, short, void *);

struct server *
server_new(struct event_base *base, struct resolver *resolver,
    const struct config *cfg)
{
	struct server	*s;

	s = xcalloc(1, sizeof *s);
	s->base = base;
	s->resolver = resolver;
	s->cfg = cfg;
	TAILQ_INIT(&s->listeners);
	TAILQ_INIT(&s->clients);
	return (s);
}

void
server_set_config(struct server *s, const struct config *cfg)
{
	s->cfg = cfg;
}

/* Tear a client down: cancel its wait, close, free. */
static void
client_free(struct client *c)
{
	struct server	*s = c->s;

	if (c->wait != NULL)
		resolver_wait_cancel(c->wait);
	TAILQ_REMOVE(&s->clients, c, entry);
	s->nclients--;
	bufferevent_free(c->bev);
	log_debug("client=%llu event=closed requests=%llu",
	    (unsigned long long)c->id, (unsigned long long)c->nreq);
	free(c);
}

/* Free once the output is written (or at once if it is). */
static void
client_close(struct client *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		client_free(c);
}

/*
 * Send one socketmap reply as a netstring.  A usual reply is framed on
 * the stack and, when nothing is queued before it, written to the socket
 * at once: going through the bufferevent costs two epoll_ctl calls and a
 * loop turn per answer, about a third of a cached answer (bench/README.md).
 * Whatever the socket does not take is queued, in order, as before.
 */
static void
client_send_netstring(struct client *c, const char *data, size_t len)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	char		 buf[CLIENT_REPLY_INLINE];
	size_t		 need, done = 0;
	ssize_t		 n;

	need = netstring_encode(buf, sizeof buf, data, len);
	if (need < sizeof buf) {
		if (evbuffer_get_length(out) == 0) {
			n = send(bufferevent_getfd(c->bev), buf, need,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				done = (size_t)n;
		}
		/* A failed send leaves it to the bufferevent to report. */
		if (done < need)
			evbuffer_add(out, buf + done, need - done);
		return;
	}
	evbuffer_add_printf(out, "%zu:", len);
	evbuffer_add(out, data, len);
	evbuffer_add(out, ",", 1);
}

/* The policy to answer from: only one that applies now. */
static const struct sts_policy *
client_policy(const struct cache_entry *e)
{
	if (e == NULL || !cache_entry_fresh(e, util_now()))
		return (NULL);
	return (e->policy);
}

/* Count an answer by its first word. */
static void
client_count(const char *reply)
{
	METRIC_INC(M_QUERIES);
	if (strncmp(reply, "OK", 2) == 0 || strncmp(reply, "enforce", 7) == 0)
		METRIC_INC(M_ANSWER_OK);
	else if (strncmp(reply, "TEMP", 4) == 0 || strncmp(reply, "temp", 4) == 0)
		METRIC_INC(M_ANSWER_TEMP);
	else if (strncmp(reply, "PERM", 4) == 0)
		METRIC_INC(M_ANSWER_PERM);
	else
		METRIC_INC(M_ANSWER_NOTFOUND);
}

/* Write the answer for the current request from entry e. */
static void
client_answer(struct client *c, const struct cache_entry *e)
{
	const struct zone	*z;
	char			*reply;
	size_t			 dropped = 0;

	if (c->proto == LISTEN_EXIM) {
		z = config_zone(c->s->cfg, "", 0);
		reply = reply_exim(c->domain, client_policy(e), &z->opts,
		    c->has_host ? c->host : NULL);
		if (reply == NULL)
			reply = xstrdup("temp internal");
		evbuffer_add(bufferevent_get_output(c->bev), reply,
		    strlen(reply));
	} else {
		z = config_zone(c->s->cfg, c->map, strlen(c->map));
		reply = reply_postfix(c->domain, client_policy(e), &z->opts,
		    &dropped);
		if (reply == NULL)
			reply = xstrdup("TEMP out of memory");
		client_send_netstring(c, reply, strlen(reply));
		if (dropped > 0)
			log_warnx("client=%llu domain=%s event=policy-lines-"
			    "dropped count=%zu reason=\"unsafe for "
			    "policy_string\"", (unsigned long long)c->id,
			    c->domain, dropped);
	}
	client_count(reply);
	log_debug("client=%llu req=%llu domain=%s map=%s reply=\"%s\"",
	    (unsigned long long)c->id, (unsigned long long)c->nreq, c->domain,
	    c->map, reply);
	free(reply);
}

/* The resolver finished a parked request. */
static void
client_resolved_cb(const struct cache_entry *e, void *arg)
{
	struct client	*c = arg;

	c->wait = NULL;
	client_answer(c, e);
	if (c->proto == LISTEN_EXIM || c->eof) {
		client_close(c);
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
	client_process(c);
}

/* Look the domain up; answer now or park.  Returns 1 when parked. */
static int
client_lookup(struct client *c, const char *key, size_t keylen)
{
	const struct cache_entry	*e = NULL;
	const char			*why;

	c->nreq++;
	if (key_normalise(key, keylen, c->domain, &why) != 0) {
		METRIC_INC(M_KEY_REJECTED);
		snprintf(c->domain, sizeof c->domain, "%.*s",
		    (int)(keylen > DOMAIN_MAX ? DOMAIN_MAX : keylen), key);
		log_debug("client=%llu event=key-rejected reason=%s",
		    (unsigned long long)c->id, why);
		c->domain[0] = '\0';
		client_answer(c, NULL);
		return (0);
	}
	if (resolver_query(c->s->resolver, c->domain, &e, client_resolved_cb,
	    c, &c->wait) == 0) {
		client_answer(c, e);
		return (0);
	}
	bufferevent_disable(c->bev, EV_READ);
	return (1);
}

/* Reject the connection's input: answer PERM (socketmap) and close. */
static void
client_reject(struct client *c, const char *why)
{
	char	msg[128];

	METRIC_INC(M_CLIENT_ERRORS);
	log_warnx("client=%llu event=bad-request reason=\"%s\" next=\"closing "
	    "the connection\"", (unsigned long long)c->id, why);
	if (c->proto == LISTEN_SOCKETMAP) {
		snprintf(msg, sizeof msg, "PERM %s", why);
		client_send_netstring(c, msg, strlen(msg));
		client_count(msg);
	}
	client_close(c);
}

/* Handle the complete socketmap requests in the input buffer. */
static void
client_process_socketmap(struct client *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	const char	*data, *sp;
	size_t		 len, n, dlen, used, maplen, keep;
	int		 r;

	while (c->wait == NULL && !c->closing &&
	    (len = evbuffer_get_length(in)) > 0) {
		/* Replies the client does not read: wait for the write side. */
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    CLIENT_OUTPUT_MAX) {
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		n = len;
		if (n > QUERY_MAX + NETSTRING_DIGITS_MAX + 2)
			n = QUERY_MAX + NETSTRING_DIGITS_MAX + 2;
		r = netstring_decode((const char *)evbuffer_pullup(in,
		    (ev_ssize_t)n), n, QUERY_MAX, &data, &dlen, &used);
		if (r == NETSTRING_MORE) {
			if (c->eof)
				client_reject(c, "connection closed inside a "
				    "request");
			return;
		}
		if (r == NETSTRING_ERROR) {
			client_reject(c, "malformed netstring");
			return;
		}
		if ((sp = memchr(data, ' ', dlen)) == NULL) {
			evbuffer_drain(in, used);
			client_reject(c, "request without a map name and key");
			return;
		}
		maplen = (size_t)(sp - data);
		keep = maplen > MAP_NAME_MAX ? MAP_NAME_MAX : maplen;
		memcpy(c->map, data, keep);
		c->map[keep] = '\0';
		/* The payload stays valid until we drain it. */
		r = client_lookup(c, sp + 1, dlen - maplen - 1);
		evbuffer_drain(in, used);
		if (r == 1)
			return;
	}
	if (c->eof && c->wait == NULL && !c->closing)
		client_close(c);
}

/* Handle an Exim request: the bytes up to a newline, or to EOF. */
static void
client_process_exim(struct client *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr	 p;
	char			 line[EXIM_REQUEST_MAX + 1], *sp;
	const char		*why;
	size_t			 len;

	if (c->wait != NULL || c->closing || c->nreq > 0)
		return;
	p = evbuffer_search_eol(in, NULL, &len, EVBUFFER_EOL_LF);
	if (p.pos < 0) {
		len = evbuffer_get_length(in);
		if (len > EXIM_REQUEST_MAX) {
			client_reject(c, "request too long");
			return;
		}
		if (!c->eof)
			return;
		if (len == 0) {
			client_close(c);
			return;
		}
	} else if ((size_t)p.pos > EXIM_REQUEST_MAX) {
		client_reject(c, "request too long");
		return;
	} else
		len = (size_t)p.pos;
	evbuffer_remove(in, line, len);
	line[len] = '\0';
	evbuffer_drain(in, evbuffer_get_length(in));
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		line[--len] = '\0';
	c->has_host = 0;
	if ((sp = strchr(line, ' ')) != NULL) {
		*sp++ = '\0';
		if (strchr(sp, ' ') != NULL) {
			c->nreq++;
			evbuffer_add_printf(bufferevent_get_output(c->bev),
			    "temp bad-request");
			client_count("temp");
			client_close(c);
			return;
		}
		/* An MX host that is not a valid name matches nothing. */
		if (key_normalise(sp, strlen(sp), c->host, &why) != 0)
			snprintf(c->host, sizeof c->host, "invalid.");
		c->has_host = 1;
	}
	if (client_lookup(c, line, strlen(line)) == 0)
		client_close(c);
}

static void
client_process(struct client *c)
{
	if (c->proto == LISTEN_EXIM)
		client_process_exim(c);
	else
		client_process_socketmap(c);
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	/* c may be freed inside: nothing may touch it after this call. */
	client_process(c);
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			client_free(c);
		return;
	}
	if (c->wait == NULL && !c->eof) {
		bufferevent_enable(bev, EV_READ);
		client_process(c);
	}
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;

	if (what & BEV_EVENT_EOF) {
		c->eof = 1;
		if (c->closing) {
			client_free(c);
			return;
		}
		if (c->wait == NULL)
			client_process(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("client=%llu event=timeout next=close",
		    (unsigned long long)c->id);
	else if (what & BEV_EVENT_ERROR)
		log_debug("client=%llu event=error next=close",
		    (unsigned long long)c->id);
	client_free(c);
}

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener	*ls = arg;
	struct server	*s = ls->s;
	struct client	*c;
	struct timeval	 rtv, wtv;
	time_t		 now;

	if (s->nclients >= s->cfg->max_clients) {
		now = util_now();
		if (now != s->last_full_warn) {
			s->last_full_warn = now;
			log_warnx("listener=%s event=refused reason=\"%zu "
			    "clients, max-clients reached\"", ls->name,
			    s->nclients);
		}
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->s = s;
	c->proto = ls->proto;
	c->id = ++s->next_id;
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("listener=%s event=refused reason=\"out of memory\"",
		    ls->name);
		evutil_closesocket(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&s->clients, c, entry);
	s->nclients++;
	METRIC_INC(M_CLIENTS);
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	rtv.tv_sec = s->cfg->client_idle_timeout;
	rtv.tv_usec = 0;
	wtv.tv_sec = CLIENT_WRITE_TIMEOUT;
	wtv.tv_usec = 0;
	bufferevent_set_timeouts(c->bev, &rtv, &wtv);
	bufferevent_enable(c->bev, EV_READ);
	log_debug("client=%llu event=accepted listener=%s",
	    (unsigned long long)c->id, ls->name);
}

static void
server_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct listener	*ls = arg;

	evconnlistener_enable(ls->l);
}

/* accept() failed: out of descriptors most likely; pause, then go on. */
static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct listener	*ls = arg;
	struct timeval	 tv = { 0, ACCEPT_BACKOFF_MS * 1000 };
	int		 err = EVUTIL_SOCKET_ERROR();

	log_warnx("listener=%s event=accept-failed error=\"%s\" "
	    "next=\"pausing %dms\"", ls->name,
	    evutil_socket_error_to_string(err), ACCEPT_BACKOFF_MS);
	evconnlistener_disable(l);
	evtimer_add(ls->retry_ev, &tv);
}

/* Wrap a listening socket. */
static int
server_add_listener(struct server *s, int fd, int proto, const char *name,
    char **err)
{
	struct listener	*ls;

	ls = xcalloc(1, sizeof *ls);
	ls->s = s;
	ls->proto = proto;
	ls->name = xstrdup(name);
	ls->l = evconnlistener_new(s->base, server_accept_cb, ls,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, LISTEN_BACKLOG, fd);
	if (ls->l == NULL) {
		xasprintf(err, "%s: cannot listen", name);
		free(ls->name);
		free(ls);
		return (-1);
	}
	ls->retry_ev = evtimer_new(s->base, server_retry_cb, ls);
	evconnlistener_set_error_cb(ls->l, server_accept_error_cb);
	TAILQ_INSERT_TAIL(&s->listeners, ls, entry);
	log_info("event=listening listener=%s protocol=%s", name,
	    proto == LISTEN_EXIM ? "exim" : "socketmap");
	return (0);
}

/* Create, bind and listen on a unix socket with its mode and owner. */
static int
server_unix_socket(const struct listen_addr *la, char **err)
{
	struct sockaddr_un	 sun;
	struct passwd		*pw;
	struct group		*gr;
	uid_t			 uid = (uid_t)-1;
	gid_t			 gid = (gid_t)-1;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(la->path) >= sizeof sun.sun_path) {
		xasprintf(err, "unix:%s: path too long", la->path);
		return (-1);
	}
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", la->path);
	if (la->owner != NULL) {
		if ((pw = getpwnam(la->owner)) == NULL) {
			xasprintf(err, "unix:%s: unknown user %s", la->path,
			    la->owner);
			return (-1);
		}
		uid = pw->pw_uid;
	}
	if (la->group != NULL) {
		if ((gr = getgrnam(la->group)) == NULL) {
			xasprintf(err, "unix:%s: unknown group %s", la->path,
			    la->group);
			return (-1);
		}
		gid = gr->gr_gid;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		xasprintf(err, "unix:%s: socket: %s", la->path, strerror(errno));
		return (-1);
	}
	if (util_unix_free(la->path, err) != 0) {
		close(fd);
		return (-1);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    chmod(la->path, la->mode != 0 ? la->mode : 0666) == -1 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    chown(la->path, uid, gid) == -1) ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		xasprintf(err, "unix:%s: %s", la->path, strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Create, bind and listen on a TCP socket. */
static int
server_inet_socket(const struct listen_addr *la, char **err)
{
	struct sockaddr_storage	 ss;
	char			 spec[300];
	int			 sslen = sizeof ss, fd, on = 1;

	if (strchr(la->host, ':') != NULL)
		snprintf(spec, sizeof spec, "[%s]:%d", la->host, la->port);
	else
		snprintf(spec, sizeof spec, "%s:%d", la->host, la->port);
	memset(&ss, 0, sizeof ss);
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss,
	    &sslen) != 0) {
		xasprintf(err, "inet:%s: not a numeric address", spec);
		return (-1);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(err, "inet:%s: socket: %s", spec, strerror(errno));
		return (-1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		xasprintf(err, "inet:%s: %s", spec, strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

int
server_listen(struct server *s, const struct listen_addr *la, char **err)
{
	char	name[300];
	int	fd;

	if (la->is_unix) {
		fd = server_unix_socket(la, err);
		snprintf(name, sizeof name, "unix:%s", la->path);
	} else {
		fd = server_inet_socket(la, err);
		snprintf(name, sizeof name, "inet:%s:%d", la->host, la->port);
	}
	if (fd == -1)
		return (-1);
	return (server_add_listener(s, fd, la->proto, name, err));
}

int
server_listen_fd(struct server *s, int fd, int proto)
{
	char	 name[32], *err = NULL;
	int	 rc;

	evutil_make_socket_nonblocking(fd);
	snprintf(name, sizeof name, "fd:%d", fd);
	if ((rc = server_add_listener(s, fd, proto, name, &err)) != 0) {
		log_warnx("event=listen-failed error=\"%s\"", err);
		free(err);
	}
	return (rc);
}

void
server_close_listeners(struct server *s)
{
	struct listener	*ls;

	while ((ls = TAILQ_FIRST(&s->listeners)) != NULL) {
		TAILQ_REMOVE(&s->listeners, ls, entry);
		evconnlistener_free(ls->l);
		event_free(ls->retry_ev);
		free(ls->name);
		free(ls);
	}
}

size_t
server_pending(struct server *s)
{
	struct client	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &s->clients, entry) {
		if (c->wait != NULL ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
			n++;
	}
	return (n);
}

size_t
server_clients(struct server *s)
{
	return (s->nclients);
}

void
server_free(struct server *s)
{
	struct client	*c;

	server_close_listeners(s);
	while ((c = TAILQ_FIRST(&s->clients)) != NULL)
		client_free(c);
	free(s);
}
