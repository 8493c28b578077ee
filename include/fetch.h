/*
 * fetch.h: one HTTPS GET of https://HOST/.well-known/mta-sts.txt with the
 * RFC 8461 rules: SNI and certificate name checks for HOST (no CN
 * fallback, no partial wildcards), TLS 1.2 or higher, status 200 only,
 * no redirects, text/plain, a limit on body bytes received, one total
 * deadline across the given addresses tried in turn.  libevent's HTTP
 * client over bufferevent_openssl.  Knows nothing of DNS or policies.
 */
#ifndef MTASTS_FETCH_H
#define MTASTS_FETCH_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

struct event_base;

#define FETCH_ADDRS_MAX		16	/* addresses tried per fetch */
#define FETCH_SAN_MAX		64	/* subject names kept for diagnosis */
#define FETCH_PATH		"/.well-known/mta-sts.txt"

enum fetch_status {
	FETCH_OK = 0,
	FETCH_NO_ADDRESS,	/* no address to try */
	FETCH_CONNECT,		/* every address refused or unreachable */
	FETCH_TLS,		/* handshake failed */
	FETCH_CERT,		/* certificate invalid for the host */
	FETCH_HTTP_STATUS,	/* status other than 200 (redirects too) */
	FETCH_CONTENT_TYPE,	/* not text/plain */
	FETCH_TOO_LARGE,	/* body or headers over the limit */
	FETCH_TIMEOUT,		/* the total deadline passed */
	FETCH_PROTOCOL		/* not HTTP, truncated body, bad framing */
};

struct fetch_opts {
	SSL_CTX		*ssl_ctx;	/* from fetch_ssl_ctx_new */
	int		 port;		/* 443 */
	int		 timeout_ms;	/* the whole fetch */
	size_t		 max_body;	/* POLICY_MAX */
	size_t		 max_headers;	/* HTTP_HEADERS_MAX */
};

/* What the peer showed, for mtastsctl resolve/check. */
struct fetch_cert {
	char	*subject;
	char	*issuer;
	char	*san[FETCH_SAN_MAX];
	size_t	 nsan;
	time_t	 not_before;
	time_t	 not_after;
};

/* The outcome, valid only during the callback. */
struct fetch_result {
	enum fetch_status	 status;
	const char		*host;
	const char		*addr;		/* address that answered or failed last */
	int			 http_status;	/* 0 if no response */
	const char		*content_type;	/* NULL if absent */
	const char		*location;	/* redirect target, if any */
	const char		*body;		/* only when FETCH_OK */
	size_t			 body_len;
	const char		*error;		/* human text when not FETCH_OK */
	const struct fetch_cert	*cert;		/* NULL if no certificate seen */
	const char		*tls_version;	/* "TLSv1.3" or NULL */
};

typedef void (*fetch_cb)(const struct fetch_result *, void *arg);

struct fetch;

/*
 * An SSL_CTX that trusts cafile and/or cadir, or OpenSSL's default verify
 * paths when both are NULL (so SSL_CERT_FILE and SSL_CERT_DIR work).
 * NULL with *err set on failure.
 */
SSL_CTX	*fetch_ssl_ctx_new(const char *cafile, const char *cadir, char **err);

/*
 * Start a fetch from host trying addrs[0..naddrs-1] (numeric IPv4/IPv6) in
 * turn.  The callback always runs later from the event loop, exactly once
 * unless cancelled.
 */
struct fetch *fetch_start(struct event_base *, const char *host,
	    const char *const *addrs, size_t naddrs, const struct fetch_opts *,
	    fetch_cb cb, void *arg);
void	fetch_cancel(struct fetch *);

const char *fetch_status_name(enum fetch_status);

/* 1 if a Content-Type value is text/plain (any case, parameters allowed). */
int	 fetch_content_type_ok(const char *);

#endif
