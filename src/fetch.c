/*
 * fetch.c: one HTTPS GET of https://HOST/.well-known/mta-sts.txt with the
 * RFC 8461 rules, over libevent's HTTP client and bufferevent_openssl.
 *
 * A fetch tries its addresses one after another.  Each try ("attempt") has
 * its own SSL, bufferevent and evhttp_connection.  libevent's callbacks only
 * record what happened and wake fetch_step_cb from the loop; that event
 * frees the connection (never inside its own callback), then either starts
 * the next attempt or reports.  One timer covers the whole fetch.
 *
 * Which failures move on to the next address: those before any HTTP byte
 * was exchanged, that is TCP connect failures, TLS handshake failures and
 * certificate failures (another address may be another, better configured
 * server of the same name).  Once an authenticated server has answered,
 * its answer (status, type, size, framing) is final.  When every address
 * failed, the report is the failure that got furthest (certificate before
 * TLS before connect), so the most useful diagnosis wins.
 *
 * Nothing here reads the environment: no proxy, no caching, no
 * conditional request, no Accept-Encoding.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fetch.h"
#include "log.h"
#include "util.h"

/* Limits of this module; the caller passes the body and header limits. */
#define FETCH_FIELD_MAX		512	/* Content-Type, Location kept for diagnosis */
#define FETCH_CERT_NAME_MAX	512	/* subject, issuer, one SAN */
#define FETCH_ERROR_MAX		512	/* the human error sentence */
#define FETCH_GRACE_MS		1000	/* libevent's own timeouts stay behind ours */
#define FETCH_USER_AGENT	"mtastsd/" PACKAGE_VERSION

/* libevent mixes SSL_get_error() codes (small) with ERR_get_error() codes. */
#define FETCH_SSL_IS_REASON(e)	((e) > 0xff)

/* How far an attempt got before it failed; a higher rank is reported first. */
enum fetch_rank {
	FETCH_RANK_CONNECT = 1,
	FETCH_RANK_TLS,
	FETCH_RANK_CERT
};

/* One try at one address. */
struct fetch_attempt {
	struct fetch		*fetch;
	char			*addr;
	SSL			*ssl;		/* owned by bev */
	struct bufferevent	*bev;		/* owned by evcon */
	struct evhttp_connection *evcon;

	int			 done;		/* outcome recorded */
	enum fetch_status	 status;
	char			 error[FETCH_ERROR_MAX];

	/* What libevent and OpenSSL told us along the way. */
	int			 tls_heard;	/* the peer sent TLS bytes */
	int			 hs_exits;	/* handshake steps that stopped short */
	int			 hs_errno;	/* errno at the last of them */
	int			 handshake_done;
	int			 verify_err;	/* first X509_V_ERR_*, 0 if none */
	int			 got_headers;
	int			 http_err;	/* enum evhttp_request_error + 1, 0 if none */
	int			 sys_errno;
	unsigned long		 ssl_err;
	size_t			 raw_in;	/* plaintext bytes received */
	size_t			 header_bytes;	/* of raw_in, the status line and headers */
	int			 chunked;

	/* What goes into the result. */
	int			 http_status;
	char			*content_type;
	char			*location;
	const char		*tls_version;	/* static string from OpenSSL */
	struct fetch_cert	 cert;
	int			 have_cert;
	struct evbuffer		*body;
	char			*body_flat;
	size_t			 body_len;
};

struct fetch {
	struct event_base	*base;
	char			*host;
	char			*addrs[FETCH_ADDRS_MAX];
	size_t			 naddrs;
	size_t			 next;		/* index of the next address to try */
	struct fetch_opts	 opts;
	fetch_cb		 cb;
	void			*arg;

	struct event		*deadline_ev;
	struct event		*step_ev;
	int			 in_callback;

	struct fetch_attempt	*cur;		/* in flight or just ended */
	struct fetch_attempt	*kept;		/* best failure so far */
};

static void	fetch_attempt_start(struct fetch *);
static void	fetch_attempt_close(struct fetch_attempt *);
static void	fetch_attempt_free(struct fetch_attempt *);
static void	fetch_attempt_fail(struct fetch_attempt *, enum fetch_status,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	fetch_report(struct fetch *, struct fetch_attempt *);
static void	fetch_free(struct fetch *);

const char *
fetch_status_name(enum fetch_status status)
{
	switch (status) {
	case FETCH_OK:
		return ("ok");
	case FETCH_NO_ADDRESS:
		return ("no-address");
	case FETCH_CONNECT:
		return ("connect");
	case FETCH_TLS:
		return ("tls");
	case FETCH_CERT:
		return ("certificate");
	case FETCH_HTTP_STATUS:
		return ("http-status");
	case FETCH_CONTENT_TYPE:
		return ("content-type");
	case FETCH_TOO_LARGE:
		return ("too-large");
	case FETCH_TIMEOUT:
		return ("timeout");
	case FETCH_PROTOCOL:
		return ("protocol");
	}
	return ("unknown");
}

/*
 * RFC 8461 3.2: the media type must be text/plain, compared without regard
 * to case, parameters allowed.  value is the raw header value.
 */
int
fetch_content_type_ok(const char *value)
{
	static const char	 want[] = "text/plain";
	const char		*p;

	if (value == NULL)
		return (0);
	p = value + strspn(value, " \t");
	if (strncasecmp(p, want, sizeof(want) - 1) != 0)
		return (0);
	p += sizeof(want) - 1;
	p += strspn(p, " \t");
	return (*p == '\0' || *p == ';');
}

SSL_CTX *
fetch_ssl_ctx_new(const char *cafile, const char *cadir, char **err)
{
	SSL_CTX		*ctx;
	unsigned long	 e;
	char		 buf[256];

	*err = NULL;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		xasprintf(err, "cannot create an SSL context");
		return (NULL);
	}
	/* RFC 8461 7.2: TLS 1.2 or higher. */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		xasprintf(err, "cannot require TLS 1.2");
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ERR_clear_error();
	if (cafile != NULL || cadir != NULL) {
		if (!SSL_CTX_load_verify_locations(ctx, cafile, cadir)) {
			e = ERR_get_error();
			ERR_error_string_n(e, buf, sizeof(buf));
			xasprintf(err, "cannot load trust anchors from %s%s%s: %s",
			    cafile != NULL ? cafile : "",
			    cafile != NULL && cadir != NULL ? " and " : "",
			    cadir != NULL ? cadir : "", buf);
			goto fail;
		}
	} else if (!SSL_CTX_set_default_verify_paths(ctx)) {
		xasprintf(err, "cannot load the default trust store");
		goto fail;
	}
	ERR_clear_error();
	return (ctx);

fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return (NULL);
}

/* Copy at most max bytes of a peer-supplied string, replacing controls. */
static char *
fetch_clean_copy(const char *s, size_t len, size_t max)
{
	char	*out;
	size_t	 i;

	if (len > max)
		len = max;
	out = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[len] = '\0';
	return (out);
}

/* An X509_NAME as an RFC 2253 string. */
static char *
fetch_name_string(const X509_NAME *name)
{
	BIO	*bio;
	char	*data, *out;
	long	 len;

	if (name == NULL || (bio = BIO_new(BIO_s_mem())) == NULL)
		return (xstrdup(""));
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
		BIO_free(bio);
		return (xstrdup(""));
	}
	len = BIO_get_mem_data(bio, &data);
	out = fetch_clean_copy(data, len > 0 ? (size_t)len : 0,
	    FETCH_CERT_NAME_MAX);
	BIO_free(bio);
	return (out);
}

/* An ASN1_TIME as an epoch, 0 if unreadable. */
static time_t
fetch_asn1_time(const ASN1_TIME *t)
{
	struct tm	tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return (0);
	return (timegm(&tm));
}

/* Summarise the peer's certificate for diagnosis. */
static void
fetch_cert_fill(struct fetch_cert *fc, X509 *x)
{
	GENERAL_NAMES	*names;
	GENERAL_NAME	*gn;
	int		 i, n;

	fc->subject = fetch_name_string(X509_get_subject_name(x));
	fc->issuer = fetch_name_string(X509_get_issuer_name(x));
	fc->not_before = fetch_asn1_time(X509_get0_notBefore(x));
	fc->not_after = fetch_asn1_time(X509_get0_notAfter(x));
	fc->nsan = 0;
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (names == NULL)
		return;
	n = sk_GENERAL_NAME_num(names);
	for (i = 0; i < n && fc->nsan < FETCH_SAN_MAX; i++) {
		gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type != GEN_DNS)
			continue;
		fc->san[fc->nsan++] = fetch_clean_copy(
		    (const char *)ASN1_STRING_get0_data(gn->d.dNSName),
		    (size_t)ASN1_STRING_length(gn->d.dNSName),
		    FETCH_CERT_NAME_MAX);
	}
	GENERAL_NAMES_free(names);
}

static void
fetch_cert_clear(struct fetch_cert *fc)
{
	size_t	i;

	free(fc->subject);
	free(fc->issuer);
	for (i = 0; i < fc->nsan; i++)
		free(fc->san[i]);
	memset(fc, 0, sizeof(*fc));
}

/*
 * OpenSSL verify callback: keep the leaf certificate and the first error
 * (libevent resets the SSL before we could ask), and let OpenSSL's verdict
 * stand so a bad certificate aborts the handshake.
 */
static int
fetch_verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
	SSL			*ssl;
	struct fetch_attempt	*at;
	X509			*leaf;

	ssl = X509_STORE_CTX_get_ex_data(store,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || (at = SSL_get_app_data(ssl)) == NULL)
		return (preverify_ok);
	if (!at->have_cert && (leaf = X509_STORE_CTX_get0_cert(store)) != NULL) {
		fetch_cert_fill(&at->cert, leaf);
		at->have_cert = 1;
	}
	if (!preverify_ok && at->verify_err == 0) {
		at->verify_err = X509_STORE_CTX_get_error(store);
		if (at->verify_err == 0)
			at->verify_err = X509_V_ERR_UNSPECIFIED;
	}
	return (preverify_ok);
}

/* OpenSSL message callback: learn whether the peer spoke TLS at all. */
static void
fetch_msg_cb(int write_p, int version, int content_type, const void *buf,
    size_t len, SSL *ssl, void *arg)
{
	struct fetch_attempt	*at = arg;

	if (at != NULL && !write_p)
		at->tls_heard = 1;
}

/*
 * OpenSSL info callback: note the end of the handshake and the version,
 * and keep errno each time a handshake step stops short: the last one
 * tells a refused or unreachable connect (the ClientHello write fails)
 * from a server that accepted and went away.  libevent's own cleanup
 * makes system calls before it calls us, so errno is stale by then.
 */
static void
fetch_info_cb(const SSL *ssl, int where, int ret)
{
	struct fetch_attempt	*at;
	int			 saved = errno;

	if ((at = SSL_get_app_data(ssl)) == NULL)
		return;
	if ((where & SSL_CB_EXIT) && ret <= 0) {
		at->hs_exits++;
		at->hs_errno = saved;
	}
	if (where & SSL_CB_HANDSHAKE_DONE) {
		at->handshake_done = 1;
		at->tls_version = SSL_get_version(ssl);
	}
	errno = saved;
}

/* evbuffer callback on the connection's input: count plaintext received. */
static void
fetch_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct fetch_attempt	*at = arg;

	at->raw_in += info->n_added;
}

/* Record the attempt's outcome once and wake fetch_step_cb from the loop. */
static void
fetch_attempt_fail(struct fetch_attempt *at, enum fetch_status status,
    const char *fmt, ...)
{
	va_list	ap;

	if (at->done)
		return;
	at->done = 1;
	at->status = status;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(at->error, sizeof(at->error), fmt, ap);
		va_end(ap);
	}
	event_active(at->fetch->step_ev, EV_TIMEOUT, 0);
}

/* The OpenSSL reason for a failed handshake, or a fallback. */
static const char *
fetch_ssl_reason(struct fetch_attempt *at, char *buf, size_t len)
{
	const char	*reason;

	if (FETCH_SSL_IS_REASON(at->ssl_err) &&
	    (reason = ERR_reason_error_string(at->ssl_err)) != NULL) {
		snprintf(buf, len, "%s", reason);
		return (buf);
	}
	if (!at->tls_heard)
		return ("connection closed by the server");
	return ("connection closed during the handshake");
}

/* errno values that mean the TCP connection itself failed. */
static int
fetch_connect_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
	case ETIMEDOUT:
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
	case EACCES:
	case EPERM:
		return (1);
	default:
		return (0);
	}
}

/* A connection-level failure: before or during the TLS handshake. */
static void
fetch_attempt_conn_failed(struct fetch_attempt *at)
{
	struct fetch	*f = at->fetch;
	char		 buf[256];
	int		 e;

	e = at->hs_exits > 0 ? at->hs_errno : at->sys_errno;
	if (at->verify_err == X509_V_ERR_HOSTNAME_MISMATCH) {
		fetch_attempt_fail(at, FETCH_CERT,
		    "certificate does not match %s (server %s)", f->host,
		    at->addr);
	} else if (at->verify_err != 0) {
		fetch_attempt_fail(at, FETCH_CERT,
		    "certificate of %s not valid for %s: %s", at->addr,
		    f->host, X509_verify_cert_error_string(at->verify_err));
	} else if (!at->tls_heard && fetch_connect_errno(e)) {
		fetch_attempt_fail(at, FETCH_CONNECT,
		    "connection to %s port %d failed: %s", at->addr,
		    f->opts.port, strerror(e));
	} else if (at->tls_heard || at->hs_exits > 0) {
		fetch_attempt_fail(at, FETCH_TLS,
		    "TLS handshake with %s failed: %s", at->addr,
		    fetch_ssl_reason(at, buf, sizeof(buf)));
	} else {
		fetch_attempt_fail(at, FETCH_CONNECT,
		    "connection to %s port %d failed", at->addr, f->opts.port);
	}
}

/* Collect the OpenSSL error libevent saw on this connection, if any. */
static void
fetch_attempt_note_ssl(struct fetch_attempt *at)
{
	unsigned long	e;

	at->sys_errno = errno;
	if (at->bev == NULL)
		return;
	while ((e = bufferevent_get_openssl_error(at->bev)) != 0) {
		if (!FETCH_SSL_IS_REASON(at->ssl_err))
			at->ssl_err = e;
	}
}

/* Map a libevent HTTP failure after the handshake to a status. */
static void
fetch_attempt_http_failed(struct fetch_attempt *at)
{
	struct fetch	*f = at->fetch;
	size_t		 body_in;

	switch (at->http_err - 1) {
	case EVREQ_HTTP_DATA_TOO_LONG:
		/*
		 * libevent reports a body over max_body this way, and also
		 * a chunk size that cannot be parsed.  Bytes received past
		 * the limit, a length over the limit or a non-chunked body
		 * settle it; otherwise a declared chunk over the limit and
		 * bad chunk framing look the same from here.
		 */
		body_in = at->raw_in - at->header_bytes;
		if (!at->chunked || body_in > f->opts.max_body)
			fetch_attempt_fail(at, FETCH_TOO_LARGE,
			    "body over the limit of %zu bytes", f->opts.max_body);
		else
			fetch_attempt_fail(at, FETCH_TOO_LARGE,
			    "chunked body over the limit of %zu bytes or bad "
			    "chunk framing", f->opts.max_body);
		return;
	case EVREQ_HTTP_INVALID_HEADER:
		if (!at->got_headers && at->raw_in > f->opts.max_headers)
			fetch_attempt_fail(at, FETCH_TOO_LARGE,
			    "response headers over the limit of %zu bytes",
			    f->opts.max_headers);
		else if (!at->got_headers)
			fetch_attempt_fail(at, FETCH_PROTOCOL,
			    "not an HTTP response from %s", at->addr);
		else
			fetch_attempt_fail(at, FETCH_PROTOCOL,
			    "bad body framing from %s", at->addr);
		return;
	case EVREQ_HTTP_TIMEOUT:
		fetch_attempt_fail(at, FETCH_TIMEOUT,
		    "no complete response within %d ms", f->opts.timeout_ms);
		return;
	default:
		break;
	}
	if (!at->got_headers && at->raw_in == 0)
		fetch_attempt_fail(at, FETCH_PROTOCOL,
		    "connection closed by %s without a response", at->addr);
	else if (!at->got_headers)
		fetch_attempt_fail(at, FETCH_PROTOCOL,
		    "connection closed by %s before the end of the headers",
		    at->addr);
	else
		fetch_attempt_fail(at, FETCH_PROTOCOL,
		    "connection closed by %s before the end of the body "
		    "(truncated, not used)", at->addr);
}

/* Whatever ended the request without a response: sort it out. */
static void
fetch_attempt_failed(struct fetch_attempt *at)
{
	if (at->done)
		return;
	if (!at->handshake_done)
		fetch_attempt_conn_failed(at);
	else
		fetch_attempt_http_failed(at);
}

/* evhttp error callback: keep the reason for the request callback. */
static void
fetch_http_error_cb(enum evhttp_request_error err, void *arg)
{
	struct fetch_attempt	*at = arg;

	fetch_attempt_note_ssl(at);
	if (at->http_err == 0)
		at->http_err = (int)err + 1;
}

/*
 * RFC 9112 6.3: Content-Length fields with differing values make the
 * framing invalid (libevent would use the first one).
 */
static int
fetch_length_conflict(const struct evkeyvalq *hdrs)
{
	const struct evkeyval	*kv;
	const char		*first = NULL;

	TAILQ_FOREACH(kv, hdrs, next) {
		if (strcasecmp(kv->key, "Content-Length") != 0)
			continue;
		if (first == NULL)
			first = kv->value;
		else if (strcmp(first, kv->value) != 0)
			return (1);
	}
	return (0);
}

/* evhttp header callback: judge status and type before any body is read. */
static int
fetch_http_header_cb(struct evhttp_request *req, void *arg)
{
	struct fetch_attempt	*at = arg;
	struct evkeyvalq	*hdrs;
	struct evbuffer		*in;
	const char		*v, *ctype;

	if (at->done)
		return (-1);
	at->got_headers = 1;
	in = bufferevent_get_input(evhttp_connection_get_bufferevent(
	    evhttp_request_get_connection(req)));
	at->header_bytes = at->raw_in - evbuffer_get_length(in);
	at->http_status = evhttp_request_get_response_code(req);
	hdrs = evhttp_request_get_input_headers(req);
	if ((ctype = evhttp_find_header(hdrs, "Content-Type")) != NULL)
		at->content_type = fetch_clean_copy(ctype, strlen(ctype),
		    FETCH_FIELD_MAX);
	if ((v = evhttp_find_header(hdrs, "Location")) != NULL)
		at->location = fetch_clean_copy(v, strlen(v), FETCH_FIELD_MAX);
	if ((v = evhttp_find_header(hdrs, "Transfer-Encoding")) != NULL &&
	    strcasecmp(v, "chunked") == 0)
		at->chunked = 1;

	if (fetch_length_conflict(hdrs)) {
		fetch_attempt_fail(at, FETCH_PROTOCOL,
		    "conflicting Content-Length headers from %s", at->addr);
		return (-1);
	}
	/* RFC 8461 3.3: only 200 is a policy; redirects are never followed. */
	if (at->http_status != 200) {
		if (at->http_status >= 300 && at->http_status < 400)
			fetch_attempt_fail(at, FETCH_HTTP_STATUS,
			    "status %d (redirects are not followed)%s%s",
			    at->http_status,
			    at->location != NULL ? ", Location: " : "",
			    at->location != NULL ? at->location : "");
		else
			fetch_attempt_fail(at, FETCH_HTTP_STATUS,
			    "status %d (only 200 is a policy)",
			    at->http_status);
		return (-1);
	}
	if (!fetch_content_type_ok(ctype)) {
		if (ctype == NULL)
			fetch_attempt_fail(at, FETCH_CONTENT_TYPE,
			    "no Content-Type (text/plain required)");
		else
			fetch_attempt_fail(at, FETCH_CONTENT_TYPE,
			    "Content-Type \"%s\" is not text/plain",
			    at->content_type);
		return (-1);
	}
	return (0);
}

/* evhttp chunk callback: take the body as it comes, counting every byte. */
static void
fetch_http_chunk_cb(struct evhttp_request *req, void *arg)
{
	struct fetch_attempt	*at = arg;
	struct fetch		*f = at->fetch;
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);

	if (at->done) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (evbuffer_get_length(at->body) + evbuffer_get_length(in) >
	    f->opts.max_body) {
		evbuffer_drain(in, evbuffer_get_length(in));
		fetch_attempt_fail(at, FETCH_TOO_LARGE,
		    "body over the limit of %zu bytes", f->opts.max_body);
		return;
	}
	evbuffer_add_buffer(at->body, in);
}

/* evhttp request callback: the response is complete, or the request died. */
static void
fetch_http_done_cb(struct evhttp_request *req, void *arg)
{
	struct fetch_attempt	*at = arg;
	size_t			 len;

	if (at->done)
		return;
	if (req == NULL || !at->got_headers ||
	    evhttp_request_get_response_code(req) == 0) {
		if (req != NULL || at->http_err == 0)
			fetch_attempt_note_ssl(at);
		fetch_attempt_failed(at);
		return;
	}
	/* A body may still sit in the request if no chunk was delivered. */
	fetch_http_chunk_cb(req, at);
	if (at->done)
		return;
	len = evbuffer_get_length(at->body);
	at->body_flat = xmalloc(len + 1);
	if (len > 0)
		evbuffer_remove(at->body, at->body_flat, len);
	at->body_flat[len] = '\0';
	at->body_len = len;
	fetch_attempt_fail(at, FETCH_OK, NULL);
}

/* Unhook the attempt from libevent and OpenSSL; safe outside their callbacks. */
static void
fetch_attempt_close(struct fetch_attempt *at)
{
	if (at->evcon == NULL)
		return;
	if (at->ssl != NULL) {
		SSL_set_app_data(at->ssl, NULL);
		SSL_set_msg_callback_arg(at->ssl, NULL);
		SSL_set_info_callback(at->ssl, NULL);
	}
	/* Frees the bufferevent, which frees the SSL and closes the socket. */
	evhttp_connection_free(at->evcon);
	at->evcon = NULL;
	at->bev = NULL;
	at->ssl = NULL;
}

static void
fetch_attempt_free(struct fetch_attempt *at)
{
	if (at == NULL)
		return;
	fetch_attempt_close(at);
	free(at->addr);
	free(at->content_type);
	free(at->location);
	free(at->body_flat);
	if (at->body != NULL)
		evbuffer_free(at->body);
	fetch_cert_clear(&at->cert);
	free(at);
}

/* Build the SSL, bufferevent, connection and request for one address. */
static int
fetch_attempt_setup(struct fetch *f, struct fetch_attempt *at)
{
	struct evhttp_request	*req;
	struct evkeyvalq	*out;
	struct timeval		 tv;
	int			 ms;

	if ((at->ssl = SSL_new(f->opts.ssl_ctx)) == NULL)
		return (-1);
	/* RFC 8461 7.1, 7.2, 3.3: SNI, TLS 1.2+, DNS-ID from SANs only. */
	if (!SSL_set_tlsext_host_name(at->ssl, f->host) ||
	    !SSL_set_min_proto_version(at->ssl, TLS1_2_VERSION) ||
	    !SSL_set1_host(at->ssl, f->host)) {
		SSL_free(at->ssl);
		at->ssl = NULL;
		return (-1);
	}
	SSL_set_hostflags(at->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	SSL_set_verify(at->ssl, SSL_VERIFY_PEER, fetch_verify_cb);
	SSL_set_app_data(at->ssl, at);
	SSL_set_msg_callback(at->ssl, fetch_msg_cb);
	SSL_set_msg_callback_arg(at->ssl, at);
	SSL_set_info_callback(at->ssl, fetch_info_cb);

	at->bev = bufferevent_openssl_socket_new(f->base, -1, at->ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (at->bev == NULL) {
		at->ssl = NULL;		/* freed by libevent */
		return (-1);
	}
	evbuffer_add_cb(bufferevent_get_input(at->bev), fetch_input_cb, at);
	at->evcon = evhttp_connection_base_bufferevent_new(f->base, NULL,
	    at->bev, at->addr, (ev_uint16_t)f->opts.port);
	if (at->evcon == NULL) {
		bufferevent_free(at->bev);
		at->bev = NULL;
		at->ssl = NULL;
		return (-1);
	}
	evhttp_connection_set_retries(at->evcon, 0);
	evhttp_connection_set_max_body_size(at->evcon,
	    (ev_ssize_t)f->opts.max_body);
	evhttp_connection_set_max_headers_size(at->evcon,
	    (ev_ssize_t)f->opts.max_headers);
	/* Our deadline ends the fetch; libevent's timers must not fire first. */
	ms = f->opts.timeout_ms + FETCH_GRACE_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(at->evcon, &tv);

	if ((req = evhttp_request_new(fetch_http_done_cb, at)) == NULL)
		return (-1);
	evhttp_request_set_header_cb(req, fetch_http_header_cb);
	evhttp_request_set_chunked_cb(req, fetch_http_chunk_cb);
	evhttp_request_set_error_cb(req, fetch_http_error_cb);
	out = evhttp_request_get_output_headers(req);
	/* RFC 8461 3.3: no caching, no conditional request, no encodings. */
	evhttp_add_header(out, "Host", f->host);
	evhttp_add_header(out, "User-Agent", FETCH_USER_AGENT);
	evhttp_add_header(out, "Connection", "close");
	/*
	 * Host is the policy host alone: RFC 8461 fetches use port 443, and
	 * opts->port exists for tests.  The request callback may run from
	 * inside evhttp_make_request already; it only records.
	 */
	if (evhttp_make_request(at->evcon, req, EVHTTP_REQ_GET,
	    FETCH_PATH) != 0) {
		fetch_attempt_fail(at, FETCH_CONNECT,
		    "cannot start a request to %s", at->addr);
	}
	return (0);
}

/* Try the next address. */
static void
fetch_attempt_start(struct fetch *f)
{
	struct fetch_attempt	*at;
	unsigned char		 sa[sizeof(struct in6_addr)];

	at = xcalloc(1, sizeof(*at));
	at->fetch = f;
	at->addr = xstrdup(f->addrs[f->next++]);
	if ((at->body = evbuffer_new()) == NULL)
		fatalx("fetch: evbuffer_new");
	f->cur = at;
	log_debug("fetch host=%s addr=%s port=%d attempt=%zu", f->host,
	    at->addr, f->opts.port, f->next);

	/* Numeric only: nothing here may start a DNS lookup. */
	if (inet_pton(AF_INET, at->addr, sa) != 1 &&
	    inet_pton(AF_INET6, at->addr, sa) != 1) {
		fetch_attempt_fail(at, FETCH_CONNECT,
		    "%s is not a numeric address", at->addr);
		return;
	}
	if (fetch_attempt_setup(f, at) != 0) {
		fetch_attempt_fail(at, FETCH_CONNECT,
		    "cannot set up a connection to %s", at->addr);
	}
}

static int
fetch_rank(enum fetch_status status)
{
	switch (status) {
	case FETCH_CONNECT:
		return (FETCH_RANK_CONNECT);
	case FETCH_TLS:
		return (FETCH_RANK_TLS);
	case FETCH_CERT:
		return (FETCH_RANK_CERT);
	default:
		return (0);
	}
}

/*
 * From the loop after an attempt ended: close it, then go on with the next
 * address or report.
 */
static void
fetch_step_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fetch		*f = arg;
	struct fetch_attempt	*at = f->cur;

	if (at == NULL) {
		fetch_report(f, NULL);
		return;
	}
	if (!at->done)
		return;
	fetch_attempt_close(at);
	log_debug("fetch host=%s addr=%s result=%s error=\"%s\"%s", f->host,
	    at->addr, fetch_status_name(at->status), at->error,
	    f->next < f->naddrs && fetch_rank(at->status) != 0 ?
	    " next=try-next-address" : "");
	if (fetch_rank(at->status) == 0) {
		fetch_report(f, at);
		return;
	}
	if (f->kept == NULL || fetch_rank(at->status) >= fetch_rank(f->kept->status)) {
		fetch_attempt_free(f->kept);
		f->kept = at;
	} else
		fetch_attempt_free(at);
	f->cur = NULL;
	if (f->next < f->naddrs)
		fetch_attempt_start(f);
	else
		fetch_report(f, f->kept);
}

/* The whole-fetch deadline. */
static void
fetch_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fetch		*f = arg;
	struct fetch_attempt	*at = f->cur;

	if (at == NULL) {
		fetch_report(f, f->kept);
		return;
	}
	fetch_attempt_close(at);
	at->done = 1;
	at->status = FETCH_TIMEOUT;
	snprintf(at->error, sizeof(at->error),
	    "no complete response from %s within %d ms", at->addr,
	    f->opts.timeout_ms);
	free(at->body_flat);
	at->body_flat = NULL;
	at->body_len = 0;
	fetch_report(f, at);
}

/* Call the user back once with what at shows, then free the fetch. */
static void
fetch_report(struct fetch *f, struct fetch_attempt *at)
{
	struct fetch_result	r;

	memset(&r, 0, sizeof(r));
	r.host = f->host;
	if (at == NULL) {
		r.status = FETCH_NO_ADDRESS;
		r.error = "no address to connect to";
	} else {
		r.status = at->status;
		r.addr = at->addr;
		r.http_status = at->http_status;
		r.content_type = at->content_type;
		r.location = at->location;
		r.tls_version = at->tls_version;
		r.cert = at->have_cert ? &at->cert : NULL;
		if (at->status == FETCH_OK) {
			r.body = at->body_flat;
			r.body_len = at->body_len;
		} else
			r.error = at->error;
	}
	f->in_callback = 1;
	f->cb(&r, f->arg);
	f->in_callback = 0;
	fetch_free(f);
}

static void
fetch_free(struct fetch *f)
{
	size_t	i;

	if (f->cur != f->kept)
		fetch_attempt_free(f->cur);
	fetch_attempt_free(f->kept);
	if (f->deadline_ev != NULL)
		event_free(f->deadline_ev);
	if (f->step_ev != NULL)
		event_free(f->step_ev);
	for (i = 0; i < f->naddrs; i++)
		free(f->addrs[i]);
	free(f->host);
	free(f);
}

struct fetch *
fetch_start(struct event_base *base, const char *host,
    const char *const *addrs, size_t naddrs, const struct fetch_opts *opts,
    fetch_cb cb, void *arg)
{
	struct fetch	*f;
	struct timeval	 tv;
	size_t		 i;

	if (opts->ssl_ctx == NULL)
		fatalx("fetch_start: no SSL context");
	f = xcalloc(1, sizeof(*f));
	f->base = base;
	f->host = xstrdup(host);
	f->opts = *opts;
	if (f->opts.port <= 0 || f->opts.port > 65535)
		f->opts.port = 443;
	if (f->opts.timeout_ms <= 0)
		f->opts.timeout_ms = 1;
	f->cb = cb;
	f->arg = arg;
	for (i = 0; i < naddrs && i < FETCH_ADDRS_MAX; i++)
		f->addrs[f->naddrs++] = xstrdup(addrs[i]);

	f->step_ev = event_new(base, -1, 0, fetch_step_cb, f);
	f->deadline_ev = evtimer_new(base, fetch_deadline_cb, f);
	if (f->step_ev == NULL || f->deadline_ev == NULL)
		fatalx("fetch_start: event_new");
	tv.tv_sec = f->opts.timeout_ms / 1000;
	tv.tv_usec = (f->opts.timeout_ms % 1000) * 1000;
	evtimer_add(f->deadline_ev, &tv);

	if (f->naddrs == 0)
		event_active(f->step_ev, EV_TIMEOUT, 0);
	else
		fetch_attempt_start(f);
	return (f);
}

void
fetch_cancel(struct fetch *f)
{
	if (f == NULL || f->in_callback)
		return;
	fetch_free(f);
}
