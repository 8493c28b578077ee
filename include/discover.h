/*
 * discover.h: one MTA-STS discovery for one domain, with no cache:
 * TXT _mta-sts.D -> choose and parse the record -> A/AAAA mta-sts.D ->
 * HTTPS fetch -> parse and validate the policy.  Every step is kept in
 * the result so mtastsctl resolve/check can print it, and so the daemon
 * can log what happened.
 */
#ifndef MTASTS_DISCOVER_H
#define MTASTS_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "fetch.h"
#include "sts.h"

struct event_base;

#define DISCOVER_TXT_MAX	16	/* TXT RRs kept for the report */

enum discover_status {
	DISCOVER_POLICY = 0,	/* a valid TXT record and a valid policy */
	DISCOVER_SAME_ID,	/* the TXT id equals known_id: nothing fetched */
	DISCOVER_NO_RECORD,	/* NXDOMAIN, NODATA, no/several/invalid STSv1 records */
	DISCOVER_TXT_FAILED,	/* SERVFAIL, timeout, malformed DNS */
	DISCOVER_FETCH_FAILED,	/* DNS of the policy host, TCP, TLS, HTTP */
	DISCOVER_INVALID	/* the policy body failed validation */
};

struct discover_result {
	enum discover_status	 status;
	const char		*domain;	/* A-label policy domain */
	const char		*reason;	/* stable code: "txt-servfail", "fetch-cert", ... */
	char			 error[256];	/* human text, empty on success */
	const char		*tlsrpt_failure;/* sts-policy-fetch-error, sts-webpki-invalid, ... */

	/* TXT step */
	enum dns_status		 txt_dns;
	char			*txt[DISCOVER_TXT_MAX];	/* joined records as received */
	size_t			 ntxt;
	enum sts_txt_result	 txt_result;
	struct sts_txt		 txt_rec;	/* valid when a record was chosen */
	uint32_t		 txt_ttl;	/* TTL of the record or the negative TTL */
	struct sts_diag		 txt_diag;

	/* fetch step */
	char			*addrs[FETCH_ADDRS_MAX];
	size_t			 naddrs;
	int			 fetched;	/* a fetch was attempted */
	enum fetch_status	 fetch_status;
	int			 http_status;
	char			*content_type;
	char			*served_by;	/* address that answered */
	char			*tls_version;
	struct fetch_cert	 cert;		/* copied; empty if none seen */
	int			 have_cert;
	char			*body;
	size_t			 body_len;

	/* policy step */
	struct sts_policy	*policy;	/* owned; take it with discover_take_policy */
	struct sts_diag		 policy_diag;
	uint64_t		 elapsed_ms;
};

struct discover_opts {
	struct dns_client	*dns;
	struct fetch_opts	 fetch;
	const char		*known_id;	/* stop with DISCOVER_SAME_ID if equal; NULL to always fetch */
};

typedef void (*discover_cb)(struct discover_result *, void *arg);

struct discover;

/* Start a discovery; the callback runs later, exactly once unless cancelled. */
struct discover *discover_start(struct event_base *, const char *domain,
	    const struct discover_opts *, discover_cb, void *arg);
void	discover_cancel(struct discover *);
/* Take ownership of the policy in a result (NULL if none). */
struct sts_policy *discover_take_policy(struct discover_result *);

const char *discover_status_name(enum discover_status);
/*
 * Join the character-strings of one TXT RR (RFC 8461 3.1) into a new
 * NUL-terminated string; *lenp gets its length (may be NULL).  NULL if the
 * record is malformed or longer than TXT_MAX.
 */
char	*discover_txt_join(const ldns_rr *, size_t *lenp);

#endif
