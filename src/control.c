/*
 * control.c: the control socket behind mtastsctl.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control.h"
#include "key.h"
#include "log.h"
#include "metrics.h"
#include "resolver.h"
#include "util.h"

#define CONTROL_ACCEPT_BACKOFF_MS	500	/* pause accepting after EMFILE */

struct control {
	struct event_base	*base;
	struct resolver		*resolver;
	struct evconnlistener	*l;
	struct event		*retry_ev;
	char			*path;
	time_t			 started;
};

struct control_conn {
	struct control		*ctl;
	struct bufferevent	*bev;
	int			 done;
};

static void
control_conn_free(struct control_conn *cc)
{
	bufferevent_free(cc->bev);
	free(cc);
}

static void
control_reply(struct control_conn *cc, int ok, const char *error)
{
	struct evbuffer	*out = bufferevent_get_output(cc->bev);

	if (ok)
		evbuffer_add_printf(out, "{\"ok\": true}\n");
	else
		evbuffer_add_printf(out, "{\"ok\": false, \"error\": \"%s\"}\n",
		    error);
}

/* The stats reply: counters and entries by state. */
static void
control_stats(struct control_conn *cc)
{
	struct evbuffer		*out = bufferevent_get_output(cc->bev);
	struct resolver_stats	 st;
	int			 i;

	resolver_stats(cc->ctl->resolver, &st);
	evbuffer_add_printf(out, "{\"ok\": true, \"uptime\": %lld, "
	    "\"counters\": {", (long long)(util_now() - cc->ctl->started));
	for (i = 0; i < M_COUNT; i++)
		evbuffer_add_printf(out, "%s\"%s\": %llu", i == 0 ? "" : ", ",
		    metrics_name(i), (unsigned long long)metrics[i]);
	evbuffer_add_printf(out, "}, \"entries\": {\"total\": %zu, "
	    "\"enforce\": %zu, \"testing\": %zu, \"none\": %zu, "
	    "\"no_record\": %zu, \"failed\": %zu, \"expired\": %zu}, "
	    "\"discoveries\": {\"running\": %zu, \"queued\": %zu, "
	    "\"parked_queries\": %zu}}\n", st.entries, st.enforce, st.testing,
	    st.none, st.no_record, st.failed, st.expired, st.running,
	    st.queued, st.parked);
}

/* Run one request line. */
static void
control_run(struct control_conn *cc, char *line)
{
	struct resolver	*r = cc->ctl->resolver;
	char		*arg, domain[KEY_BUF];
	const char	*why;

	if ((arg = strchr(line, ' ')) != NULL)
		*arg++ = '\0';
	log_info("event=control command=%s arg=%s", line,
	    arg != NULL ? arg : "-");
	if (strcmp(line, "stats") == 0) {
		control_stats(cc);
		return;
	}
	if (strcmp(line, "refresh-all") == 0) {
		evbuffer_add_printf(bufferevent_get_output(cc->bev),
		    "{\"ok\": true, \"scheduled\": %zu}\n",
		    resolver_refresh_all(r));
		return;
	}
	if (strcmp(line, "flush") == 0) {
		resolver_flush(r);
		control_reply(cc, 1, NULL);
		return;
	}
	if (strcmp(line, "sync") == 0) {
		control_reply(cc, resolver_sync(r) == 0,
		    "the cache file could not be written");
		return;
	}
	if (strcmp(line, "refresh") != 0 && strcmp(line, "forget") != 0) {
		control_reply(cc, 0, "unknown command");
		return;
	}
	if (arg == NULL || key_normalise(arg, strlen(arg), domain, &why) != 0) {
		control_reply(cc, 0, "not a domain name");
		return;
	}
	if (strcmp(line, "refresh") == 0)
		control_reply(cc, resolver_refresh(r, domain) == 0,
		    "domain not in the cache");
	else
		control_reply(cc, resolver_forget(r, domain) == 0,
		    "domain not in the cache");
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct control_conn	*cc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	if (cc->done)
		return;
	if ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) == NULL) {
		if (evbuffer_get_length(in) > CONTROL_REQUEST_MAX) {
			cc->done = 1;
			control_reply(cc, 0, "request too long");
		}
		return;
	}
	cc->done = 1;
	if (len > CONTROL_REQUEST_MAX)
		control_reply(cc, 0, "request too long");
	else
		control_run(cc, line);
	free(line);
	bufferevent_disable(bev, EV_READ);
}

static void
control_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_conn	*cc = arg;

	if (cc->done && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		control_conn_free(cc);
}

static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	control_conn_free(arg);
}

/* Whether the peer is root or our own user. */
static int
control_peer_ok(int fd)
{
	struct ucred	cred;
	socklen_t	len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return (0);
	return (cred.uid == 0 || cred.uid == geteuid());
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control		*ctl = arg;
	struct control_conn	*cc;
	struct timeval		 tv = { CONTROL_TIMEOUT, 0 };

	cc = xcalloc(1, sizeof *cc);
	cc->ctl = ctl;
	if ((cc->bev = bufferevent_socket_new(ctl->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		free(cc);
		return;
	}
	bufferevent_setcb(cc->bev, control_read_cb, control_write_cb,
	    control_event_cb, cc);
	bufferevent_set_timeouts(cc->bev, &tv, &tv);
	if (!control_peer_ok(fd)) {
		log_warnx("event=control-refused reason=\"peer is neither root "
		    "nor the daemon's user\"");
		cc->done = 1;
		control_reply(cc, 0, "permission denied");
		bufferevent_enable(cc->bev, EV_WRITE);
		return;
	}
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
}

static void
control_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*ctl = arg;

	evconnlistener_enable(ctl->l);
}

/*
 * accept() failed, out of descriptors most likely: the pending connection
 * stays readable, so pause rather than spin on it (and flood the log).
 */
static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct control	*ctl = arg;
	struct timeval	 tv = { 0, CONTROL_ACCEPT_BACKOFF_MS * 1000 };
	int		 err = EVUTIL_SOCKET_ERROR();

	log_warnx("event=control-accept-failed error=\"%s\" next=\"pausing "
	    "%dms\"", evutil_socket_error_to_string(err),
	    CONTROL_ACCEPT_BACKOFF_MS);
	evconnlistener_disable(l);
	evtimer_add(ctl->retry_ev, &tv);
}

struct control *
control_new(struct event_base *base, struct resolver *r, const char *path,
    char **err)
{
	struct control		*ctl;
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(err, "control socket %s: path too long", path);
		return (NULL);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		xasprintf(err, "control socket: %s", strerror(errno));
		return (NULL);
	}
	if (util_unix_free(path, err) != 0) {
		close(fd);
		return (NULL);
	}
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 16) == -1) {
		umask(old);
		xasprintf(err, "control socket %s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}
	umask(old);
	ctl = xcalloc(1, sizeof *ctl);
	ctl->base = base;
	ctl->resolver = r;
	ctl->path = xstrdup(path);
	ctl->started = util_now();
	ctl->l = evconnlistener_new(base, control_accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16, fd);
	if (ctl->l == NULL) {
		xasprintf(err, "control socket %s: cannot listen", path);
		close(fd);
		free(ctl->path);
		free(ctl);
		return (NULL);
	}
	if ((ctl->retry_ev = evtimer_new(base, control_retry_cb, ctl)) == NULL)
		fatalx("control: evtimer_new");
	evconnlistener_set_error_cb(ctl->l, control_accept_error_cb);
	return (ctl);
}

void
control_free(struct control *ctl)
{
	if (ctl == NULL)
		return;
	evconnlistener_free(ctl->l);
	event_free(ctl->retry_ev);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
