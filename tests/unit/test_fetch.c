/*
 * test_fetch.c: fetch.c against a scripted HTTPS server on loopback
 * (tests/unit/fetch_server.py) with certificates made at test time.
 * Spec ids: RFC8461-CHECKLIST B.13-B.22, FIELD-CASES F16, F17, F20, F21.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "fetch.h"
#include "log.h"
#include "util.h"
#include "tap.h"

#define HOST		"mta-sts.example.test"
#define POLICY		"version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\n" \
			"max_age: 86400\r\n"
#define LIMIT_BODY	65536
#define LIMIT_HEADERS	8192
#define TIMEOUT_MS	5000
#define SERVER_WAIT_MS	10000

static char	 dir[64];
static char	 srcdir[1024];
static pid_t	 server_pid = -1;
static int	 server_stdin = -1;
static int	 port;
static int	 have_ipv6;
static SSL_CTX	*ctx;

/* A copy of one fetch_result, kept after the callback. */
struct got {
	int			 calls;
	enum fetch_status	 status;
	char			*addr;
	int			 http_status;
	char			*content_type;
	char			*location;
	char			*body;
	size_t			 body_len;
	char			*error;
	char			*tls_version;
	int			 have_cert;
	char			*subject;
	char			*issuer;
	char			*san[4];
	size_t			 nsan;
	time_t			 not_after;
	uint64_t		 elapsed_ms;
};

static uint64_t	start_ms;

static char *
dup_or_null(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

static void
got_clear(struct got *g)
{
	size_t	i;

	free(g->addr);
	free(g->content_type);
	free(g->location);
	free(g->body);
	free(g->error);
	free(g->tls_version);
	free(g->subject);
	free(g->issuer);
	for (i = 0; i < g->nsan; i++)
		free(g->san[i]);
	memset(g, 0, sizeof(*g));
}

static void
test_cb(const struct fetch_result *r, void *arg)
{
	struct got	*g = arg;
	size_t		 i;

	if (g->calls++ > 0)
		return;
	g->elapsed_ms = util_mono_ms() - start_ms;
	g->status = r->status;
	g->addr = dup_or_null(r->addr);
	g->http_status = r->http_status;
	g->content_type = dup_or_null(r->content_type);
	g->location = dup_or_null(r->location);
	if (r->body != NULL) {
		g->body = xmalloc(r->body_len + 1);
		memcpy(g->body, r->body, r->body_len);
		g->body[r->body_len] = '\0';
	}
	g->body_len = r->body_len;
	g->error = dup_or_null(r->error);
	g->tls_version = dup_or_null(r->tls_version);
	if (r->cert != NULL) {
		g->have_cert = 1;
		g->subject = dup_or_null(r->cert->subject);
		g->issuer = dup_or_null(r->cert->issuer);
		for (i = 0; i < r->cert->nsan && i < 4; i++)
			g->san[g->nsan++] = xstrdup(r->cert->san[i]);
		g->not_after = r->cert->not_after;
	}
}

static void
write_case(const char *text)
{
	char	 path[128];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/case", dir);
	if ((fp = fopen(path, "w")) == NULL)
		fatal("fopen %s", path);
	fputs(text, fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/request", dir);
	unlink(path);
}

/* The last request the server saw ("" if none). */
static char *
read_request(void)
{
	char	 path[128];
	char	*buf;
	FILE	*fp;
	size_t	 n;

	buf = xcalloc(1, 65536 + 1);
	snprintf(path, sizeof(path), "%s/request", dir);
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, 65536, fp);
		buf[n] = '\0';
		fclose(fp);
	}
	return (buf);
}

/* Run one fetch to the end; the callback must not run inside fetch_start. */
static void
run_fetch(const char *host, const char *const *addrs, size_t naddrs,
    int timeout_ms, size_t max_body, SSL_CTX *sctx, struct got *g)
{
	struct event_base	*base;
	struct fetch_opts	 opts;
	struct fetch		*f;

	memset(g, 0, sizeof(*g));
	memset(&opts, 0, sizeof(opts));
	opts.ssl_ctx = sctx != NULL ? sctx : ctx;
	opts.port = port;
	opts.timeout_ms = timeout_ms;
	opts.max_body = max_body;
	opts.max_headers = LIMIT_HEADERS;
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	start_ms = util_mono_ms();
	f = fetch_start(base, host, addrs, naddrs, &opts, test_cb, g);
	if (f == NULL || g->calls != 0)
		g->calls = 100;		/* flags a synchronous callback */
	event_base_dispatch(base);
	event_base_free(base);
}

/* One table row: what the server does and what the fetch must say. */
struct fcase {
	const char		*name;
	const char		*ctl;		/* DIR/case */
	const char		*addrs[3];	/* NULL: 127.0.0.1 */
	int			 timeout_ms;	/* 0: TIMEOUT_MS */
	size_t			 max_body;	/* 0: LIMIT_BODY */
	enum fetch_status	 want;
	int			 want_http;	/* -1: not checked */
	const char		*want_ctype;	/* "*": not checked */
	const char		*want_body;	/* NULL: no body */
	size_t			 want_len;	/* with want_body "" */
	const char		*want_error;	/* substring, or NULL */
	const char		*want_addr;	/* NULL: not checked */
	int			 need_ipv6;
};

static const struct fcase cases[] = {
	/* B.13, B.17, B.20: the three body framings. */
	{ "B13 Content-Length body", "mode=cl\n", { NULL }, 0, 0,
	  FETCH_OK, 200, "text/plain", POLICY, 0, NULL, "127.0.0.1", 0 },
	{ "B20 chunked body", "mode=chunked\n", { NULL }, 0, 0,
	  FETCH_OK, 200, "text/plain", POLICY, 0, NULL, NULL, 0 },
	{ "B20 HTTP/1.0 close-delimited body", "mode=http10\n", { NULL }, 0, 0,
	  FETCH_OK, 200, "text/plain", POLICY, 0, NULL, NULL, 0 },

	/* F16 / B.19: media type. */
	{ "F16 text/plain; charset=utf-8 accepted",
	  "ctype=text/plain; charset=utf-8\n", { NULL }, 0, 0,
	  FETCH_OK, 200, "text/plain; charset=utf-8", POLICY, 0, NULL, NULL, 0 },
	{ "F16 TEXT/PLAIN;charset=US-ASCII accepted",
	  "ctype=TEXT/PLAIN;charset=US-ASCII\n", { NULL }, 0, 0,
	  FETCH_OK, 200, "TEXT/PLAIN;charset=US-ASCII", POLICY, 0, NULL, NULL, 0 },
	{ "F16 text/html; charset=utf-8 rejected",
	  "ctype=text/html; charset=utf-8\n", { NULL }, 0, 0,
	  FETCH_CONTENT_TYPE, 200, "text/html; charset=utf-8", NULL, 0,
	  "is not text/plain", NULL, 0 },
	{ "F16 missing Content-Type rejected", "ctype=-\n", { NULL }, 0, 0,
	  FETCH_CONTENT_TYPE, 200, NULL, NULL, 0, "no Content-Type", NULL, 0 },
	{ "F16 text/plainx rejected", "ctype=text/plainx\n", { NULL }, 0, 0,
	  FETCH_CONTENT_TYPE, 200, "text/plainx", NULL, 0, NULL, NULL, 0 },
	{ "F16 chunked text/html rejected", "mode=chunked\nctype=text/html\n",
	  { NULL }, 0, 0, FETCH_CONTENT_TYPE, 200, "text/html", NULL, 0, NULL,
	  NULL, 0 },

	/* F17 / B.17: status 200 only, redirects never followed. */
	{ "F17 301 not followed",
	  "status=301\nlocation=https://mta-sts.example.test/elsewhere\n",
	  { NULL }, 0, 0, FETCH_HTTP_STATUS, 301, "text/plain", NULL, 0,
	  "status 301 (redirects are not followed)", NULL, 0 },
	{ "F17 302 not followed",
	  "status=302\nlocation=https://mta-sts.example.test/elsewhere\n",
	  { NULL }, 0, 0, FETCH_HTTP_STATUS, 302, "*", NULL, 0,
	  "status 302 (redirects are not followed)", NULL, 0 },
	{ "F17 307 not followed",
	  "status=307\nlocation=https://mta-sts.example.test/elsewhere\n",
	  { NULL }, 0, 0, FETCH_HTTP_STATUS, 307, "*", NULL, 0,
	  "status 307", NULL, 0 },
	{ "F17 308 not followed",
	  "status=308\nlocation=https://mta-sts.example.test/elsewhere\n",
	  { NULL }, 0, 0, FETCH_HTTP_STATUS, 308, "*", NULL, 0,
	  "status 308", NULL, 0 },
	{ "B17 404", "status=404\n", { NULL }, 0, 0,
	  FETCH_HTTP_STATUS, 404, "*", NULL, 0, "status 404 (only 200", NULL, 0 },
	{ "B17 500 chunked", "status=500\nmode=chunked\n", { NULL }, 0, 0,
	  FETCH_HTTP_STATUS, 500, "*", NULL, 0, "status 500", NULL, 0 },

	/* F20 / B.20: the body limit counts bytes received. */
	{ "F20 chunked body over 64 KiB", "mode=chunked_big\n", { NULL }, 0, 0,
	  FETCH_TOO_LARGE, 200, "text/plain", NULL, 0, "over the limit", NULL, 0 },
	{ "B20 Content-Length 70000", "mode=cl_big\n", { NULL }, 0, 0,
	  FETCH_TOO_LARGE, 200, "text/plain", NULL, 0, "over the limit", NULL, 0 },
	{ "B20 Content-Length body of exactly the limit", "mode=cl\nsize=65536\n",
	  { NULL }, 0, 0, FETCH_OK, 200, "text/plain", "", 65536, NULL, NULL, 0 },
	{ "B20 Content-Length body one byte over", "mode=cl\nsize=65537\n",
	  { NULL }, 0, 0, FETCH_TOO_LARGE, 200, "*", NULL, 0, NULL, NULL, 0 },
	{ "B20 chunked body of exactly the limit", "mode=chunked\nsize=65536\n",
	  { NULL }, 0, 0, FETCH_OK, 200, "text/plain", "", 65536, NULL, NULL, 0 },
	{ "B20 chunked body one byte over", "mode=chunked\nsize=65537\n",
	  { NULL }, 0, 0, FETCH_TOO_LARGE, 200, "*", NULL, 0, NULL, NULL, 0 },
	{ "B20 close-delimited body of exactly the limit",
	  "mode=http10\nsize=65536\n", { NULL }, 0, 0, FETCH_OK, 200, "*", "",
	  65536, NULL, NULL, 0 },
	{ "B20 close-delimited body one byte over", "mode=http10\nsize=65537\n",
	  { NULL }, 0, 0, FETCH_TOO_LARGE, 200, "*", NULL, 0, NULL, NULL, 0 },
	{ "B20 small max_body honoured", "mode=chunked\n", { NULL }, 0, 16,
	  FETCH_TOO_LARGE, 200, "*", NULL, 0, "limit of 16 bytes", NULL, 0 },
	{ "B20 1 MB header", "mode=big_header\n", { NULL }, 0, 0,
	  FETCH_TOO_LARGE, 0, NULL, NULL, 0, "headers over the limit", NULL, 0 },

	/* B.20: truncated or broken responses are never parsed. */
	{ "B20 close mid-body (Content-Length)", "mode=close_mid\n", { NULL },
	  0, 0, FETCH_PROTOCOL, 200, "*", NULL, 0, "before the end of the body",
	  NULL, 0 },
	{ "B20 close-delimited body cut without close_notify",
	  "mode=close_mid_dirty\n", { NULL }, 0, 0, FETCH_PROTOCOL, 200, "*",
	  NULL, 0, NULL, NULL, 0 },
	{ "B20 chunked body without the last chunk", "mode=chunk_trunc\n",
	  { NULL }, 0, 0, FETCH_PROTOCOL, 200, "*", NULL, 0, NULL, NULL, 0 },
	{ "B20 two Content-Length fields that disagree", "mode=cl_two\n",
	  { NULL }, 0, 0, FETCH_PROTOCOL, 200, "*", NULL, 0,
	  "conflicting Content-Length", NULL, 0 },
	{ "B20 the same Content-Length twice", "mode=cl_same\n", { NULL }, 0,
	  0, FETCH_OK, 200, "text/plain", POLICY, 0, NULL, NULL, 0 },
	{ "B20 garbage instead of HTTP", "mode=garbage\n", { NULL }, 0, 0,
	  FETCH_PROTOCOL, 0, NULL, NULL, 0, "not an HTTP response", NULL, 0 },
	{ "B20 TLS then silence and close", "mode=silent\n", { NULL }, 0, 0,
	  FETCH_PROTOCOL, 0, NULL, NULL, 0, "without a response", NULL, 0 },

	/* B.14: certificate checks. */
	{ "B14 wrong name", "cert=wrongname\n", { NULL }, 0, 0,
	  FETCH_CERT, 0, NULL, NULL, 0,
	  "certificate does not match mta-sts.example.test", NULL, 0 },
	{ "B14 wildcard *.example.test", "cert=wildcard\n", { NULL }, 0, 0,
	  FETCH_OK, 200, "text/plain", POLICY, 0, NULL, NULL, 0 },
	{ "B14 several SANs, one matching", "cert=multi\n", { NULL }, 0, 0,
	  FETCH_OK, 200, "text/plain", POLICY, 0, NULL, NULL, 0 },
	{ "B14 partial wildcard mta-sts*.example.test", "cert=partial\n",
	  { NULL }, 0, 0, FETCH_CERT, 0, NULL, NULL, 0, "does not match", NULL,
	  0 },
	{ "B14 partial wildcard mta*.example.test", "cert=partial2\n", { NULL },
	  0, 0, FETCH_CERT, 0, NULL, NULL, 0, "does not match", NULL, 0 },
	{ "B14 CN only, no SAN", "cert=cnonly\n", { NULL }, 0, 0,
	  FETCH_CERT, 0, NULL, NULL, 0, "does not match", NULL, 0 },
	{ "B14 expired", "cert=expired\n", { NULL }, 0, 0,
	  FETCH_CERT, 0, NULL, NULL, 0, "expired", NULL, 0 },
	{ "B14 untrusted CA", "cert=untrusted\n", { NULL }, 0, 0,
	  FETCH_CERT, 0, NULL, NULL, 0, "local issuer", NULL, 0 },

	/* B.16: TLS 1.2 or higher. */
	{ "B16 TLS 1.1 only server", "mode=tls11\n", { NULL }, 0, 0,
	  FETCH_TLS, 0, NULL, NULL, 0, "TLS handshake with 127.0.0.1 failed",
	  NULL, 0 },
	{ "B16 TCP accepted then closed", "mode=tcp_close\n", { NULL }, 0, 0,
	  FETCH_TLS, 0, NULL, NULL, 0, "TLS handshake", NULL, 0 },

	/* F21 / B.22: addresses in turn. */
	{ "F21 first address refuses, second serves", "mode=cl\n",
	  { "127.0.0.2", "127.0.0.1" }, 0, 0, FETCH_OK, 200, "text/plain",
	  POLICY, 0, NULL, "127.0.0.1", 0 },
	{ "F21 IPv6 only (::1)", "mode=cl\n", { "::1" }, 0, 0,
	  FETCH_OK, 200, "text/plain", POLICY, 0, NULL, "::1", 1 },
	{ "F21 IPv4 refuses, IPv6 serves", "mode=chunked\n",
	  { "127.0.0.2", "::1" }, 0, 0, FETCH_OK, 200, "text/plain", POLICY, 0,
	  NULL, "::1", 1 },
	{ "B22 every address refuses", "mode=cl\n",
	  { "127.0.0.2", "127.0.0.4" }, 0, 0, FETCH_CONNECT, 0, NULL, NULL, 0,
	  "127.0.0.4 port", "127.0.0.4", 0 },
	{ "B22 next address after a certificate failure",
	  "cert3=wrongname\n", { "127.0.0.3", "127.0.0.1" }, 0, 0,
	  FETCH_OK, 200, "text/plain", POLICY, 0, NULL, "127.0.0.1", 0 },
	{ "B22 next address after a TLS failure", "mode3=tcp_close\n",
	  { "127.0.0.3", "127.0.0.1" }, 0, 0, FETCH_OK, 200, "text/plain",
	  POLICY, 0, NULL, "127.0.0.1", 0 },
	{ "B22 an HTTP answer is final", "mode3=garbage\n",
	  { "127.0.0.3", "127.0.0.1" }, 0, 0, FETCH_PROTOCOL, 0, NULL, NULL, 0,
	  NULL, "127.0.0.3", 0 },
	{ "B22 the furthest failure is reported", "cert3=wrongname\n",
	  { "127.0.0.3", "127.0.0.2" }, 0, 0, FETCH_CERT, 0, NULL, NULL, 0,
	  "does not match", "127.0.0.3", 0 },
	{ "B22 not a numeric address", "mode=cl\n", { "mta-sts.example.test" },
	  0, 0, FETCH_CONNECT, 0, NULL, NULL, 0, "not a numeric address", NULL,
	  0 },
};

/* Compare a result to a row; several checks per row. */
static void
check_row(const struct fcase *c, const struct got *g)
{
	is_int(g->calls, 1, "%s: one callback, from the loop", c->name);
	if (!is_int(g->status, c->want, "%s: status %s", c->name,
	    fetch_status_name(c->want)))
		printf("#   error: %s\n", g->error != NULL ? g->error : "(none)");
	if (c->want_http >= 0)
		is_int(g->http_status, c->want_http, "%s: http_status", c->name);
	if (c->want_ctype == NULL || strcmp(c->want_ctype, "*") != 0)
		is_str(g->content_type, c->want_ctype, "%s: content_type",
		    c->name);
	if (c->want_body != NULL && *c->want_body != '\0')
		is_str(g->body, c->want_body, "%s: body", c->name);
	else if (c->want_body != NULL)
		ok(g->body != NULL && g->body_len == c->want_len &&
		    strncmp(g->body, POLICY, strlen(POLICY)) == 0,
		    "%s: body of %zu bytes", c->name, c->want_len);
	else
		ok(g->body == NULL, "%s: no body", c->name);
	if (c->want == FETCH_OK)
		ok(g->error == NULL, "%s: no error", c->name);
	else if (c->want_error != NULL)
		ok(g->error != NULL && strstr(g->error, c->want_error) != NULL,
		    "%s: error mentions \"%s\" (%s)", c->name, c->want_error,
		    g->error != NULL ? g->error : "none");
	else
		ok(g->error != NULL && *g->error != '\0', "%s: error set (%s)",
		    c->name, g->error != NULL ? g->error : "none");
	if (c->want_addr != NULL)
		is_str(g->addr, c->want_addr, "%s: addr", c->name);
}

static void
test_table(void)
{
	const struct fcase	*c;
	const char		*addrs[3];
	size_t			 i, n;
	struct got		 g;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		if (c->need_ipv6 && !have_ipv6) {
			printf("ok %d - # SKIP %s: no IPv6 loopback\n", ++tap_n,
			    c->name);
			continue;
		}
		for (n = 0; n < 3 && c->addrs[n] != NULL; n++)
			addrs[n] = c->addrs[n];
		if (n == 0)
			addrs[n++] = "127.0.0.1";
		write_case(c->ctl);
		run_fetch(HOST, addrs, n, c->timeout_ms ? c->timeout_ms :
		    TIMEOUT_MS, c->max_body ? c->max_body : LIMIT_BODY, NULL, &g);
		check_row(c, &g);
		got_clear(&g);
	}
}

/* B.13, B.16, B.18, B.20: what goes on the wire, and the diagnosis. */
static void
test_request(void)
{
	struct got	 g;
	const char	*addrs[] = { "127.0.0.1" };
	char		*req;

	write_case("mode=cl\n");
	run_fetch(HOST, addrs, 1, TIMEOUT_MS, LIMIT_BODY, NULL, &g);
	is_int(g.status, FETCH_OK, "request: fetch ok");
	req = read_request();
	ok(strstr(req, "sni=" HOST "\n") != NULL, "B16 SNI is the policy host");
	ok(strstr(req, "GET /.well-known/mta-sts.txt HTTP/1.1\r\n") != NULL,
	    "B13 request line");
	ok(strstr(req, "\r\nHost: " HOST "\r\n") != NULL, "B13 Host header");
	ok(strstr(req, "\r\nUser-Agent: mtastsd/" PACKAGE_VERSION "\r\n") !=
	    NULL, "User-Agent mtastsd/VERSION");
	ok(strstr(req, "\r\nConnection: close\r\n") != NULL, "Connection: close");
	ok(strcasestr(req, "Accept-Encoding") == NULL, "B20 no Accept-Encoding");
	ok(strcasestr(req, "\nIf-") == NULL &&
	    strcasestr(req, "Cache-Control") == NULL &&
	    strcasestr(req, "Proxy") == NULL, "B18 no caching or proxy headers");
	free(req);

	is_str(g.tls_version, "TLSv1.3", "tls_version recorded");
	ok(g.have_cert, "certificate summary present");
	ok(g.subject != NULL && strstr(g.subject, "CN=" HOST) != NULL,
	    "certificate subject");
	ok(g.issuer != NULL && strstr(g.issuer, "mtastsd test ca") != NULL,
	    "certificate issuer");
	is_int(g.nsan, 1, "one SAN");
	is_str(g.san[0], HOST, "SAN dNSName");
	ok(g.not_after > time(NULL) + 20 * 86400, "notAfter in the future");
	got_clear(&g);

	/* The diagnosis survives a failed verification. */
	write_case("cert=wrongname\n");
	run_fetch(HOST, addrs, 1, TIMEOUT_MS, LIMIT_BODY, NULL, &g);
	is_int(g.status, FETCH_CERT, "wrong name: certificate failure");
	ok(g.have_cert && g.nsan == 1 && strcmp(g.san[0],
	    "mta-sts.other.test") == 0, "wrong name: peer SAN reported");
	ok(g.tls_version == NULL, "wrong name: no TLS version (no handshake)");
	got_clear(&g);

	write_case("cert=cnonly\n");
	run_fetch(HOST, addrs, 1, TIMEOUT_MS, LIMIT_BODY, NULL, &g);
	ok(g.have_cert && g.nsan == 0 && g.subject != NULL &&
	    strstr(g.subject, "CN=" HOST) != NULL,
	    "CN only: subject reported, no SAN");
	got_clear(&g);

	write_case("cert=expired\n");
	run_fetch(HOST, addrs, 1, TIMEOUT_MS, LIMIT_BODY, NULL, &g);
	ok(g.have_cert && g.not_after != 0 && g.not_after < time(NULL),
	    "expired: notAfter in the past reported");
	got_clear(&g);

	/* F17: the server saw one request, for the policy path only. */
	write_case("status=301\nlocation=https://" HOST "/elsewhere\n");
	run_fetch(HOST, addrs, 1, TIMEOUT_MS, LIMIT_BODY, NULL, &g);
	is_str(g.location, "https://" HOST "/elsewhere", "F17 Location recorded");
	req = read_request();
	ok(strstr(req, "GET /.well-known/mta-sts.txt ") != NULL &&
	    strstr(req, "elsewhere") == NULL, "F17 the redirect was not followed");
	free(req);
	got_clear(&g);
}

/* B.20: one deadline for the whole fetch. */
static void
test_timeouts(void)
{
	struct got	 g;
	const char	*one[] = { "127.0.0.1" };
	const char	*two[] = { "127.0.0.3", "127.0.0.1" };

	write_case("mode=slow\n");
	run_fetch(HOST, one, 1, 3000, LIMIT_BODY, NULL, &g);
	is_int(g.status, FETCH_TIMEOUT, "1 byte every 2 s: timeout");
	ok(g.elapsed_ms >= 2900 && g.elapsed_ms < 3800,
	    "1 byte every 2 s: ends at the deadline (%llu ms)",
	    (unsigned long long)g.elapsed_ms);
	is_int(g.http_status, 200, "1 byte every 2 s: status line was seen");
	ok(g.body == NULL, "1 byte every 2 s: no body");
	got_clear(&g);

	write_case("mode=stall_tls\n");
	run_fetch(HOST, one, 1, 1500, LIMIT_BODY, NULL, &g);
	is_int(g.status, FETCH_TIMEOUT, "stalled TLS handshake: timeout");
	ok(g.elapsed_ms >= 1400 && g.elapsed_ms < 2300,
	    "stalled TLS handshake: ends at the deadline (%llu ms)",
	    (unsigned long long)g.elapsed_ms);
	got_clear(&g);

	/* The deadline covers every address, not each one. */
	write_case("mode3=stall_tls\n");
	run_fetch(HOST, two, 2, 1000, LIMIT_BODY, NULL, &g);
	is_int(g.status, FETCH_TIMEOUT, "deadline across addresses: timeout");
	ok(g.elapsed_ms >= 900 && g.elapsed_ms < 1800,
	    "deadline across addresses: one deadline (%llu ms)",
	    (unsigned long long)g.elapsed_ms);
	is_str(g.addr, "127.0.0.3", "deadline across addresses: addr");
	got_clear(&g);
}

static void
cancel_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	fetch_cancel(arg);
}

/* Cancel before the loop runs and in the middle of a response. */
static void
test_cancel(void)
{
	struct event_base	*base;
	struct fetch_opts	 opts;
	struct fetch		*f;
	struct event		*ev;
	struct timeval		 tv = { 0, 500000 };
	const char		*one[] = { "127.0.0.1" };
	struct got		 g;
	uint64_t		 t0;

	memset(&opts, 0, sizeof(opts));
	opts.ssl_ctx = ctx;
	opts.port = port;
	opts.timeout_ms = TIMEOUT_MS;
	opts.max_body = LIMIT_BODY;
	opts.max_headers = LIMIT_HEADERS;

	memset(&g, 0, sizeof(g));
	write_case("mode=cl\n");
	base = event_base_new();
	f = fetch_start(base, HOST, one, 1, &opts, test_cb, &g);
	fetch_cancel(f);
	event_base_dispatch(base);
	event_base_free(base);
	is_int(g.calls, 0, "cancel before the loop: no callback");

	memset(&g, 0, sizeof(g));
	write_case("mode=slow\n");
	base = event_base_new();
	f = fetch_start(base, HOST, one, 1, &opts, test_cb, &g);
	ev = evtimer_new(base, cancel_timer_cb, f);
	evtimer_add(ev, &tv);
	t0 = util_mono_ms();
	event_base_dispatch(base);
	event_free(ev);
	event_base_free(base);
	is_int(g.calls, 0, "cancel mid-response: no callback");
	ok(util_mono_ms() - t0 < 1500, "cancel mid-response: loop ends at once");

	memset(&g, 0, sizeof(g));
	base = event_base_new();
	f = fetch_start(base, HOST, NULL, 0, &opts, test_cb, &g);
	is_int(g.calls, 0, "no address: no callback inside fetch_start");
	event_base_dispatch(base);
	event_base_free(base);
	is_int(g.calls, 1, "no address: one callback from the loop");
	is_int(g.status, FETCH_NO_ADDRESS, "no address: FETCH_NO_ADDRESS");
	ok(g.addr == NULL && g.error != NULL, "no address: error, no addr");
	got_clear(&g);
}

/* fetch_ssl_ctx_new: cafile, cadir, default paths, errors. */
static void
test_ssl_ctx(void)
{
	char		 path[256];
	char		*err;
	SSL_CTX		*c;
	struct got	 g;
	const char	*one[] = { "127.0.0.1" };

	snprintf(path, sizeof(path), "%s/certs/nonexistent.pem", dir);
	c = fetch_ssl_ctx_new(path, NULL, &err);
	ok(c == NULL && err != NULL && strstr(err, "nonexistent.pem") != NULL,
	    "missing cafile: NULL with an error (%s)", err ? err : "none");
	free(err);

	write_case("mode=cl\n");
	snprintf(path, sizeof(path), "%s/certs/cadir", dir);
	c = fetch_ssl_ctx_new(NULL, path, &err);
	ok(c != NULL && err == NULL, "cadir: context");
	run_fetch(HOST, one, 1, TIMEOUT_MS, LIMIT_BODY, c, &g);
	is_int(g.status, FETCH_OK, "cadir: trusted");
	got_clear(&g);
	SSL_CTX_free(c);

	snprintf(path, sizeof(path), "%s/certs/ca2.pem", dir);
	if ((c = fetch_ssl_ctx_new(path, NULL, &err)) == NULL)
		fatalx("fetch_ssl_ctx_new: %s", err);
	run_fetch(HOST, one, 1, TIMEOUT_MS, LIMIT_BODY, c, &g);
	is_int(g.status, FETCH_CERT, "other trust anchor: certificate failure");
	got_clear(&g);
	SSL_CTX_free(c);

	/* Default verify paths honour SSL_CERT_FILE. */
	snprintf(path, sizeof(path), "%s/certs/ca.pem", dir);
	setenv("SSL_CERT_FILE", path, 1);
	if ((c = fetch_ssl_ctx_new(NULL, NULL, &err)) == NULL)
		fatalx("fetch_ssl_ctx_new: %s", err);
	run_fetch(HOST, one, 1, TIMEOUT_MS, LIMIT_BODY, c, &g);
	is_int(g.status, FETCH_OK, "default paths with SSL_CERT_FILE: trusted");
	got_clear(&g);
	SSL_CTX_free(c);
	unsetenv("SSL_CERT_FILE");
}

/* F16: the media type rule on its own. */
static void
test_content_type(void)
{
	static const struct {
		const char	*value;
		int		 want;
	} rows[] = {
		{ "text/plain", 1 },
		{ "text/plain; charset=utf-8", 1 },
		{ "TEXT/PLAIN;charset=US-ASCII", 1 },
		{ "Text/Plain", 1 },
		{ " text/plain ", 1 },
		{ "text/plain ; charset=utf-8", 1 },
		{ "text/html; charset=utf-8", 0 },
		{ "text/plainx", 0 },
		{ "text/plai", 0 },
		{ "text/plain,text/html", 0 },
		{ "", 0 },
		{ NULL, 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		is_int(fetch_content_type_ok(rows[i].value), rows[i].want,
		    "F16 content type \"%s\"", rows[i].value ? rows[i].value :
		    "(none)");
	is_str(fetch_status_name(FETCH_TOO_LARGE), "too-large",
	    "status name too-large");
	is_str(fetch_status_name(FETCH_CERT), "certificate",
	    "status name certificate");
}

static void
server_start(void)
{
	char		 cmd[2200], path[1100], buf[128];
	const char	*top;
	int		 fds[2];
	uint64_t	 t0;
	FILE		*fp;
	char		*p;

	top = getenv("top_srcdir");
	snprintf(srcdir, sizeof(srcdir), "%s", top != NULL ? top : ".");
	snprintf(dir, sizeof(dir), "/tmp/test_fetch.XXXXXX");
	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	snprintf(cmd, sizeof(cmd),
	    "python3 '%s/tests/unit/fetch_server.py' certs '%s'", srcdir, dir);
	if (system(cmd) != 0)
		fatalx("cannot make test certificates: %s", cmd);

	if (pipe(fds) == -1)
		fatal("pipe");
	snprintf(path, sizeof(path), "%s/tests/unit/fetch_server.py", srcdir);
	switch (server_pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execlp("python3", "python3", path, "serve", dir, (char *)NULL);
		_exit(127);
	default:
		break;
	}
	close(fds[0]);
	server_stdin = fds[1];

	snprintf(path, sizeof(path), "%s/ports", dir);
	t0 = util_mono_ms();
	while ((fp = fopen(path, "r")) == NULL) {
		if (util_mono_ms() - t0 > SERVER_WAIT_MS)
			fatalx("fetch_server.py did not start");
		usleep(20000);
	}
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		if ((p = strchr(buf, '=')) == NULL)
			continue;
		*p++ = '\0';
		if (strcmp(buf, "port") == 0)
			port = atoi(p);
		else if (strcmp(buf, "ipv6") == 0)
			have_ipv6 = atoi(p);
	}
	fclose(fp);
	if (port <= 0)
		fatalx("no port from fetch_server.py");
}

static void
server_stop(void)
{
	char	cmd[256];

	if (server_stdin != -1)
		close(server_stdin);
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
}

int
main(void)
{
	char	path[256], *err;

	signal(SIGPIPE, SIG_IGN);
	log_init("test_fetch", 0);
	if (getenv("TEST_FETCH_DEBUG") != NULL)
		log_setlevel(LOG_LEVEL_DEBUG);
	else
		log_setlevel(LOG_LEVEL_WARN);
	server_start();
	atexit(server_stop);
	printf("# server port %d ipv6 %d dir %s\n", port, have_ipv6, dir);

	snprintf(path, sizeof(path), "%s/certs/ca.pem", dir);
	if ((ctx = fetch_ssl_ctx_new(path, NULL, &err)) == NULL)
		fatalx("fetch_ssl_ctx_new: %s", err);

	test_content_type();
	test_table();
	test_request();
	test_timeouts();
	test_cancel();
	test_ssl_ctx();

	SSL_CTX_free(ctx);
	return (done_testing());
}
