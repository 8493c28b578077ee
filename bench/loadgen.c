/*
 * loadgen.c: a closed-loop socketmap load generator for the benchmark.
 *
 * N persistent TCP connections; each sends one netstring request
 * ("MAP KEY"), waits for the netstring reply, and only then sends the
 * next, as Postfix's socketmap client does.  Keys come from a file, one
 * per line, handed out in order (wrapping around unless -1).  At the end
 * it prints one line of key=value figures: replies, replies/s, latency
 * percentiles and how the replies began (OK, NOTFOUND, TEMP, PERM).
 *
 * Plain epoll, one thread: on this 2-core machine the daemon gets the
 * other core.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOADGEN_CONNS_MAX	4096
#define LOADGEN_KEY_MAX		255	/* bytes of one key */
#define LOADGEN_REPLY_MAX	(128 * 1024)	/* a reply longer is an error */
#define LOADGEN_REQ_MAX		(LOADGEN_KEY_MAX + 300)
#define LOADGEN_TICK_MS		5	/* epoll_wait timeout */
#define LOADGEN_RETRY_MS	5	/* between connect tries (-W) */

enum conn_state {
	CONN_IDLE = 0,		/* nothing outstanding */
	CONN_WAIT,		/* request sent, reply awaited */
	CONN_DEAD		/* closed by the peer or failed */
};

struct conn {
	int		 fd;
	enum conn_state	 state;
	uint64_t	 sent_ns;	/* when the outstanding request left */
	char		 req[LOADGEN_REQ_MAX];
	size_t		 reqlen;
	size_t		 reqoff;	/* bytes of req written so far */
	char		*in;
	size_t		 inlen;
};

struct opts {
	const char	*addr;
	int		 port;
	const char	*map;
	int		 conns;
	double		 duration;	/* -d: measure this long */
	double		 warmup;	/* -w: run this long first, not counted */
	uint64_t	 count;		/* -n: stop after this many replies */
	int		 once;		/* -1: every key exactly once */
	double		 limit;		/* -T: give up after this long */
	double		 connect_wait;	/* -W: retry connecting this long */
};

struct stats {
	uint64_t	 replies;	/* counted (inside the window) */
	uint64_t	 all;		/* every reply */
	uint64_t	 ok, notfound, temp, perm, other;
	uint64_t	 errors;
	uint64_t	*lat;		/* ns, counted replies */
	size_t		 nlat, caplat;
	uint64_t	 first_reply_real_us;
	uint64_t	 last_reply_ns;
};

static char		**keys;
static size_t		  nkeys;
static size_t		  next_key;	/* also: requests sent */
static struct opts	  o;
static struct stats	  st;
static int		  epfd;
static uint64_t		  t_start, t_window, t_end;

static void
die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void
diex(const char *what)
{
	fprintf(stderr, "loadgen: %s\n", what);
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static uint64_t
now_real_us(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return ((uint64_t)tv.tv_sec * 1000000ULL + (uint64_t)tv.tv_usec);
}

/* Read the key file: one key per line, blank lines skipped. */
static void
keys_load(const char *path)
{
	FILE	*f;
	char	 line[LOADGEN_KEY_MAX + 2];
	size_t	 cap = 0, len;

	if ((f = fopen(path, "r")) == NULL)
		die(path);
	while (fgets(line, sizeof line, f) != NULL) {
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (len == 0)
			continue;
		if (nkeys == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			if ((keys = realloc(keys, cap * sizeof *keys)) == NULL)
				die("realloc");
		}
		if ((keys[nkeys++] = strdup(line)) == NULL)
			die("strdup");
	}
	fclose(f);
	if (nkeys == 0)
		diex("no keys in the key file");
}

/* Connect one socket, retrying refused connects until the deadline. */
static int
conn_open(uint64_t deadline)
{
	struct sockaddr_in	sin;
	struct timespec		ts = { 0, LOADGEN_RETRY_MS * 1000000L };
	int			fd, on = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)o.port);
	if (inet_pton(AF_INET, o.addr, &sin.sin_addr) != 1)
		diex("bad address");
	for (;;) {
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			die("socket");
		if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
			break;
		close(fd);
		if ((errno != ECONNREFUSED && errno != ECONNRESET) ||
		    now_ns() >= deadline)
			die("connect");
		nanosleep(&ts, NULL);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		die("fcntl");
	return (fd);
}

static void
conn_watch(struct conn *c, uint32_t events, int op)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, op, c->fd, &ev) == -1)
		die("epoll_ctl");
}

static void
conn_kill(struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	st.errors++;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->state = CONN_DEAD;
}

/* Whether another request may start now. */
static int
more_work(uint64_t now)
{
	if (o.once)
		return (next_key < nkeys);
	if (o.count > 0)
		return (next_key < o.count);
	return (now < t_end);
}

/* Write what is left of the request; watch for EPOLLOUT if it blocks. */
static void
conn_flush(struct conn *c)
{
	ssize_t	n;

	while (c->reqoff < c->reqlen) {
		n = write(c->fd, c->req + c->reqoff, c->reqlen - c->reqoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			conn_watch(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
			return;
		}
		if (n <= 0) {
			conn_kill(c);
			return;
		}
		c->reqoff += (size_t)n;
	}
}

/* Send the next request, if there is one. */
static void
conn_send(struct conn *c)
{
	const char	*k;
	size_t		 plen;

	if (c->state == CONN_DEAD)
		return;
	if (!more_work(now_ns())) {
		c->state = CONN_IDLE;
		return;
	}
	k = keys[next_key % nkeys];
	next_key++;
	plen = strlen(o.map) + 1 + strlen(k);
	c->reqlen = (size_t)snprintf(c->req, sizeof c->req, "%zu:%s %s,",
	    plen, o.map, k);
	c->reqoff = 0;
	c->state = CONN_WAIT;
	c->sent_ns = now_ns();
	conn_flush(c);
}

static void
stats_lat(uint64_t ns)
{
	if (st.nlat == st.caplat) {
		st.caplat = st.caplat == 0 ? 65536 : st.caplat * 2;
		if ((st.lat = realloc(st.lat, st.caplat * sizeof *st.lat)) ==
		    NULL)
			die("realloc");
	}
	st.lat[st.nlat++] = ns;
}

/* Count one reply payload by its first word. */
static void
stats_reply(const char *p, size_t len, uint64_t sent, uint64_t now)
{
	st.all++;
	st.last_reply_ns = now;
	if (st.first_reply_real_us == 0)
		st.first_reply_real_us = now_real_us();
	if (len >= 2 && memcmp(p, "OK", 2) == 0)
		st.ok++;
	else if (len >= 8 && memcmp(p, "NOTFOUND", 8) == 0)
		st.notfound++;
	else if (len >= 4 && memcmp(p, "TEMP", 4) == 0)
		st.temp++;
	else if (len >= 4 && memcmp(p, "PERM", 4) == 0)
		st.perm++;
	else
		st.other++;
	/* Duration mode counts only requests sent and answered in the window. */
	if (!o.once && o.count == 0 && (sent < t_window || now > t_end))
		return;
	st.replies++;
	stats_lat(now - sent);
}

/* Parse complete netstrings in the input; 0, or -1 on a framing error. */
static int
conn_parse(struct conn *c, uint64_t now)
{
	size_t	i, len, used;

	while (c->inlen > 0) {
		len = 0;
		for (i = 0; i < c->inlen && c->in[i] >= '0' && c->in[i] <= '9';
		    i++) {
			len = len * 10 + (size_t)(c->in[i] - '0');
			if (len > LOADGEN_REPLY_MAX)
				return (-1);
		}
		if (i == c->inlen)
			return (0);
		if (i == 0 || c->in[i] != ':')
			return (-1);
		used = i + 1 + len + 1;
		if (c->inlen < used)
			return (0);
		if (c->in[used - 1] != ',' || c->state != CONN_WAIT)
			return (-1);
		stats_reply(c->in + i + 1, len, c->sent_ns, now);
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		conn_send(c);
	}
	return (0);
}

static void
conn_read(struct conn *c)
{
	ssize_t	n;

	for (;;) {
		if (c->inlen == LOADGEN_REPLY_MAX + 32) {
			conn_kill(c);
			return;
		}
		n = read(c->fd, c->in + c->inlen,
		    LOADGEN_REPLY_MAX + 32 - c->inlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_kill(c);
			return;
		}
		c->inlen += (size_t)n;
		if (conn_parse(c, now_ns()) == -1) {
			conn_kill(c);
			return;
		}
		if (c->state == CONN_DEAD)
			return;
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* The p-th percentile (0..100) of the sorted samples, in microseconds. */
static double
pct_us(double p)
{
	size_t	i;

	if (st.nlat == 0)
		return (0);
	i = (size_t)(p / 100.0 * (double)(st.nlat - 1) + 0.5);
	return ((double)st.lat[i] / 1000.0);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen [-1] [-a addr] [-c conns] [-d secs] [-m map] "
	    "[-n count]\n"
	    "               [-p port] [-T secs] [-W secs] [-w secs] keyfile\n"
	    "  -1  send every key exactly once, then stop (cold discovery)\n"
	    "  -d  measure for secs (after the -w warm-up); the default mode\n"
	    "  -n  stop after count replies\n"
	    "  -T  give up after secs (default 60)\n"
	    "  -W  retry refused connects for up to secs (restart timing)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct conn		*cs;
	struct epoll_event	 evs[256];
	uint64_t		 now, deadline;
	double			 elapsed;
	int			 ch, i, n, live;

	o.addr = "127.0.0.1";
	o.port = 8461;
	o.map = "postfix";
	o.conns = 32;
	o.duration = 5;
	o.limit = 60;
	while ((ch = getopt(argc, argv, "1a:c:d:m:n:p:T:W:w:")) != -1) {
		switch (ch) {
		case '1':
			o.once = 1;
			break;
		case 'a':
			o.addr = optarg;
			break;
		case 'c':
			o.conns = atoi(optarg);
			break;
		case 'd':
			o.duration = atof(optarg);
			break;
		case 'm':
			o.map = optarg;
			break;
		case 'n':
			o.count = strtoull(optarg, NULL, 10);
			break;
		case 'p':
			o.port = atoi(optarg);
			break;
		case 'T':
			o.limit = atof(optarg);
			break;
		case 'W':
			o.connect_wait = atof(optarg);
			break;
		case 'w':
			o.warmup = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || o.conns < 1 || o.conns > LOADGEN_CONNS_MAX ||
	    o.port < 1 || o.port > 65535)
		usage();
	keys_load(argv[optind]);

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	if ((cs = calloc((size_t)o.conns, sizeof *cs)) == NULL)
		die("calloc");
	t_start = now_ns();
	for (i = 0; i < o.conns; i++) {
		cs[i].fd = conn_open(t_start +
		    (uint64_t)(o.connect_wait * 1e9));
		if ((cs[i].in = malloc(LOADGEN_REPLY_MAX + 32)) == NULL)
			die("malloc");
		conn_watch(&cs[i], EPOLLIN, EPOLL_CTL_ADD);
	}
	/* The clock starts once every connection is up. */
	t_start = now_ns();
	t_window = t_start + (uint64_t)(o.warmup * 1e9);
	t_end = t_window + (uint64_t)(o.duration * 1e9);
	deadline = t_start + (uint64_t)(o.limit * 1e9);
	for (i = 0; i < o.conns; i++)
		conn_send(&cs[i]);

	for (;;) {
		live = 0;
		for (i = 0; i < o.conns; i++)
			if (cs[i].state == CONN_WAIT)
				live++;
		now = now_ns();
		if (live == 0 || now >= deadline ||
		    (!o.once && o.count == 0 && now >= t_end))
			break;
		n = epoll_wait(epfd, evs, 256, LOADGEN_TICK_MS);
		if (n == -1 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->state == CONN_DEAD)
				continue;
			if (evs[i].events & EPOLLOUT) {
				conn_watch(c, EPOLLIN, EPOLL_CTL_MOD);
				conn_flush(c);
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_read(c);
		}
	}
	now = now_ns();
	if (o.once || o.count > 0)
		elapsed = (double)((st.last_reply_ns > t_start ?
		    st.last_reply_ns : now) - t_start) / 1e9;
	else
		elapsed = o.duration;
	qsort(st.lat, st.nlat, sizeof *st.lat, cmp_u64);
	live = 0;
	for (i = 0; i < o.conns; i++)
		if (cs[i].state == CONN_WAIT)
			live++;
	printf("conns=%d replies=%llu elapsed=%.3f rate=%.0f p50_us=%.1f "
	    "p90_us=%.1f p99_us=%.1f max_us=%.1f ok=%llu notfound=%llu "
	    "temp=%llu perm=%llu other=%llu errors=%llu unanswered=%d "
	    "first_reply=%llu.%06llu\n", o.conns,
	    (unsigned long long)st.replies, elapsed,
	    elapsed > 0 ? (double)st.replies / elapsed : 0.0,
	    pct_us(50), pct_us(90), pct_us(99), pct_us(100),
	    (unsigned long long)st.ok, (unsigned long long)st.notfound,
	    (unsigned long long)st.temp, (unsigned long long)st.perm,
	    (unsigned long long)st.other, (unsigned long long)st.errors,
	    o.once ? (int)(nkeys - st.all) : live,
	    (unsigned long long)(st.first_reply_real_us / 1000000),
	    (unsigned long long)(st.first_reply_real_us % 1000000));
	return (st.errors > 0 ? 1 : 0);
}
