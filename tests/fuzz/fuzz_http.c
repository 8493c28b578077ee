/*
 * fuzz_http.c: libFuzzer harness for the whole response path of fetch.c.
 *
 * Each input is the plaintext an HTTPS server sends back.  The harness
 * runs a real fetch_start() against a TLS server of its own in the same
 * event loop on 127.0.0.1: the server completes the handshake with a
 * certificate made at start-up (EC P-256, SAN mta-sts.fuzz.test) that the
 * fetch's SSL_CTX (from fetch_ssl_ctx_new) trusts, writes the response,
 * reads the request and closes.  So libevent's HTTP parser, the header,
 * chunk and done callbacks, the limits and the error mapping of fetch.c
 * all see the bytes, as they would from a hostile peer.
 *
 * Input: byte 0, bits 0-3: the response is written in pieces of
 * 2^(n-1) bytes, one TLS record each (0: all at once); bit 4: end with a
 * TLS close_notify (else a bare TCP close).  Byte 1, bits 0-2: max_body;
 * bits 3-4: max_headers.  The rest is the response.
 *
 * The callback must run exactly once, with a known status that is not
 * about connecting or TLS (the server is fine), FETCH_OK only for a 200
 * text/plain response with a NUL-terminated body of at most max_body
 * bytes (found in the input when the body was not chunked), an error text
 * for every other status; nothing may stay behind in the event loop, and
 * ASan's leak check sees everything else.  fetch_content_type_ok() is
 * also run on the input as a string.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "defaults.h"
#include "fetch.h"
#include "log.h"

#define FUZZ_CTL	2		/* control bytes before the response */
#define FUZZ_HOST	"mta-sts.fuzz.test"
#define FUZZ_TIMEOUT_MS	3000		/* the fetch's own deadline */
#define FUZZ_HANG_SEC	8		/* no input may take longer */
#define FUZZ_FIELD_MAX	512		/* fetch.c keeps this much of a header */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const size_t	fuzz_bodies[8] = {
	POLICY_MAX, 0, 1, 16, 100, 1000, 4096, POLICY_MAX * 2
};
static const size_t	fuzz_headers[4] = { HTTP_HEADERS_MAX, 64, 256, 1024 };

/* The server side of one exchange. */
struct peer {
	struct bufferevent	*bev;
	const uint8_t		*data;
	size_t			 len;
	size_t			 off;
	size_t			 piece;		/* bytes per write, 0: all */
	int			 close_notify;
	int			 matched;	/* of "\r\n\r\n" at the request's end */
	int			 request_read;
	int			 done;
};

/* What the fetch reported. */
struct outcome {
	int			 calls;
	enum fetch_status	 status;
};

static struct event_base	*base;
static SSL_CTX			*client_ctx, *server_ctx;
static struct event		*accept_ev;
static int			 port;
static struct peer		 peer;
static struct outcome		 outcome;
static const uint8_t		*cur_data;
static size_t			 cur_len;
static struct fetch_opts	 cur_opts;

/* A key and a self-signed certificate for FUZZ_HOST; PEM to pemfile. */
static void
fuzz_make_cert(const char *pemfile)
{
	EVP_PKEY	*key;
	X509		*x;
	X509_NAME	*name;
	X509_EXTENSION	*ext;
	X509V3_CTX	 v3;
	FILE		*f;

	if ((key = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)FUZZ_HOST, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "DNS:" FUZZ_HOST);
	if (ext == NULL || !X509_add_ext(x, ext, -1))
		abort();
	X509_EXTENSION_free(ext);
	if (!X509_sign(x, key, EVP_sha256()))
		abort();

	if ((server_ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    !SSL_CTX_use_certificate(server_ctx, x) ||
	    !SSL_CTX_use_PrivateKey(server_ctx, key))
		abort();
	if ((f = fopen(pemfile, "w")) == NULL || !PEM_write_X509(f, x))
		abort();
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* Close the server side, with a close_notify first if asked. */
static void
peer_close(struct peer *p)
{
	if (p->done)
		return;
	p->done = 1;
	if (p->close_notify)
		SSL_shutdown(bufferevent_openssl_get_ssl(p->bev));
	bufferevent_free(p->bev);
	p->bev = NULL;
}

/* Write the next piece of the response. */
static void
peer_write(struct peer *p)
{
	size_t	n = p->len - p->off;

	if (p->piece != 0 && n > p->piece)
		n = p->piece;
	if (n > 0)
		bufferevent_write(p->bev, p->data + p->off, n);
	p->off += n;
}

/* Output drained: the next piece, or close once the request is in too. */
static void
peer_write_cb(struct bufferevent *bev, void *arg)
{
	struct peer	*p = arg;

	if (p->off < p->len)
		peer_write(p);
	else if (p->request_read)
		peer_close(p);
}

/*
 * Read and drop the request; note its end.  Closing with unread input
 * would send a reset, and the client could lose the response's tail.
 */
static void
peer_read_cb(struct bufferevent *bev, void *arg)
{
	static const char	 end[] = "\r\n\r\n";
	struct peer		*p = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	unsigned char		 buf[512];
	int			 n, i;

	while ((n = evbuffer_remove(in, buf, sizeof buf)) > 0) {
		for (i = 0; i < n && !p->request_read; i++) {
			if (buf[i] == (unsigned char)end[p->matched])
				p->matched++;
			else
				p->matched = buf[i] == '\r' ? 1 : 0;
			if (p->matched == 4)
				p->request_read = 1;
		}
	}
	if (p->request_read && p->off == p->len &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		peer_close(p);
}

static void
peer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct peer	*p = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		peer_close(p);
}

/* A connection from the fetch: handshake, answer. */
static void
fuzz_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	SSL	*ssl;
	int	 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	if (peer.bev != NULL || peer.done) {
		close(fd);	/* one connection per input */
		return;
	}
	if ((ssl = SSL_new(server_ctx)) == NULL)
		abort();
	peer.bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (peer.bev == NULL)
		abort();
	bufferevent_setcb(peer.bev, peer_read_cb, peer_write_cb, peer_event_cb,
	    &peer);
	bufferevent_enable(peer.bev, EV_READ | EV_WRITE);
	peer_write(&peer);
	if (peer.len == 0)
		peer_write_cb(peer.bev, &peer);
}

/* One-time set-up: certificate, both SSL_CTXs, listener, event base. */
static void
fuzz_init(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof sin;
	char			 pem[] = "/tmp/fuzz_http.XXXXXX";
	char			*err = NULL;
	int			 fd, lfd;

	/* As in mtastsd: a peer that closes early must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz_http", 0);
	log_setlevel(getenv("FUZZ_HTTP_DEBUG") != NULL ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_ERR);
	if ((fd = mkstemp(pem)) == -1)
		abort();
	close(fd);
	fuzz_make_cert(pem);
	client_ctx = fetch_ssl_ctx_new(pem, NULL, &err);
	unlink(pem);
	if (client_ctx == NULL) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1)
		abort();
	port = ntohs(sin.sin_port);

	if ((base = event_base_new()) == NULL)
		abort();
	accept_ev = event_new(base, lfd, EV_READ | EV_PERSIST, fuzz_accept_cb,
	    NULL);
	if (accept_ev == NULL || event_add(accept_ev, NULL) == -1)
		abort();
}

/* The body appears in the input as it came, unless it was chunked. */
static int
fuzz_body_from_input(const struct fetch_result *r)
{
	if (r->body_len == 0 || memmem(cur_data, cur_len, "hunked", 6) != NULL)
		return (1);
	return (memmem(cur_data, cur_len, r->body, r->body_len) != NULL);
}

/* The fetch's callback: check what it reports against fetch.h. */
static void
fuzz_fetch_cb(const struct fetch_result *r, void *arg)
{
	outcome.calls++;
	outcome.status = r->status;
	if (r->host == NULL || strcmp(r->host, FUZZ_HOST) != 0)
		abort();
	switch (r->status) {
	case FETCH_OK:
		if (r->http_status != 200 || r->error != NULL ||
		    r->body == NULL || r->body_len > cur_opts.max_body ||
		    r->body[r->body_len] != '\0' ||
		    !fetch_content_type_ok(r->content_type) ||
		    !fuzz_body_from_input(r))
			abort();
		return;
	case FETCH_HTTP_STATUS:
		if (r->http_status == 200)
			abort();
		break;
	case FETCH_CONTENT_TYPE:
		if (r->http_status != 200 || (r->content_type != NULL &&
		    strlen(r->content_type) < FUZZ_FIELD_MAX &&
		    fetch_content_type_ok(r->content_type)))
			abort();
		break;
	case FETCH_TOO_LARGE:
	case FETCH_TIMEOUT:
	case FETCH_PROTOCOL:
		break;
	default:
		/* No address, connect, TLS, certificate: not this server. */
		fprintf(stderr, "fuzz_http: status %s: %s\n",
		    fetch_status_name(r->status), r->error ? r->error : "");
		abort();
	}
	if (r->body != NULL || r->error == NULL || r->error[0] == '\0')
		abort();
}

/* fetch_content_type_ok on any string: yes only for text/plain first. */
static void
fuzz_content_type(const uint8_t *data, size_t size)
{
	char		 buf[256];
	const char	*p;

	if (size >= sizeof buf)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (fetch_content_type_ok(buf)) {
		p = buf + strspn(buf, " \t");
		if (strncasecmp(p, "text/plain", 10) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*addrs[] = { "127.0.0.1" };
	struct fetch	*f;
	time_t		 start;
	int		 k;

	if (size < FUZZ_CTL)
		return (0);
	if (base == NULL)
		fuzz_init();
	fuzz_content_type(data + FUZZ_CTL, size - FUZZ_CTL);

	memset(&peer, 0, sizeof peer);
	memset(&outcome, 0, sizeof outcome);
	peer.data = cur_data = data + FUZZ_CTL;
	peer.len = cur_len = size - FUZZ_CTL;
	k = data[0] & 0x0f;
	peer.piece = k == 0 ? 0 : (size_t)1 << (k - 1);
	peer.close_notify = (data[0] >> 4) & 1;

	memset(&cur_opts, 0, sizeof cur_opts);
	cur_opts.ssl_ctx = client_ctx;
	cur_opts.port = port;
	cur_opts.timeout_ms = FUZZ_TIMEOUT_MS;
	cur_opts.max_body = fuzz_bodies[data[1] & 7];
	cur_opts.max_headers = fuzz_headers[(data[1] >> 3) & 3];

	f = fetch_start(base, FUZZ_HOST, addrs, 1, &cur_opts, fuzz_fetch_cb,
	    NULL);
	if (f == NULL)
		abort();
	start = time(NULL);
	while (outcome.calls == 0 || !peer.done) {
		if (time(NULL) - start > FUZZ_HANG_SEC) {
			fprintf(stderr, "fuzz_http: no end after %d s "
			    "(calls=%d peer=%s)\n", FUZZ_HANG_SEC,
			    outcome.calls, peer.bev ? "open" : "closed");
			abort();
		}
		event_base_loop(base, EVLOOP_ONCE);
	}
	/* Whatever is still queued runs now: the callback must not again. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	if (outcome.calls != 1)
		abort();
	/* Only the listener may be left in the loop. */
	if (event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED |
	    EVENT_BASE_COUNT_ACTIVE) != 1) {
		fprintf(stderr, "fuzz_http: %d events left in the loop\n",
		    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED |
		    EVENT_BASE_COUNT_ACTIVE));
		abort();
	}
	ERR_clear_error();
	return (0);
}
