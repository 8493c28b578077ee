/*
 * discover.c: one MTA-STS discovery for one domain, without a cache.
 *
 *	TXT _mta-sts.D -> choose/parse -> A + AAAA mta-sts.D -> HTTPS GET
 *	-> parse/validate the policy -> callback
 *
 * Each step's outcome is copied into the result, so the daemon can log it
 * and mtastsctl can print it.  The policy is always fetched from
 * mta-sts.<domain>, whatever CNAMEs the TXT lookup went through (F05).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <event2/event.h>

#include "defaults.h"
#include "discover.h"
#include "log.h"
#include "util.h"

#define DISCOVER_RDATA_MAX	(TXT_MAX + 256)	/* wire form of one TXT RR */
#define DISCOVER_RR_MAX		64	/* TXT RRs considered at one name */

struct discover {
	struct event_base	*base;
	char			 domain[DOMAIN_MAX + 1];
	char			 host[DOMAIN_MAX + 9];	/* mta-sts.<domain> */
	char			 known_id[STS_ID_MAX + 1];
	int			 have_known;
	struct discover_opts	 opts;
	discover_cb		 cb;
	void			*arg;

	struct dns_query	*q_txt;
	struct dns_query	*q_a;
	struct dns_query	*q_aaaa;
	char			*v4[FETCH_ADDRS_MAX];
	size_t			 nv4;
	char			*v6[FETCH_ADDRS_MAX];
	size_t			 nv6;
	struct fetch		*fetch;
	struct event		*finish_ev;
	uint64_t		 started_ms;
	struct discover_result	 res;
};

static void	discover_txt_cb(const struct dns_answer *, void *);
static void	discover_addr_cb(const struct dns_answer *, void *);
static void	discover_fetch_cb(const struct fetch_result *, void *);

const char *
discover_status_name(enum discover_status s)
{
	switch (s) {
	case DISCOVER_POLICY:
		return ("policy");
	case DISCOVER_SAME_ID:
		return ("same-id");
	case DISCOVER_NO_RECORD:
		return ("no-record");
	case DISCOVER_TXT_FAILED:
		return ("txt-failed");
	case DISCOVER_FETCH_FAILED:
		return ("fetch-failed");
	case DISCOVER_INVALID:
		return ("policy-invalid");
	}
	return ("unknown");
}

/* Free everything a result owns. */
static void
discover_result_clear(struct discover_result *res)
{
	size_t	i;

	for (i = 0; i < res->ntxt; i++)
		free(res->txt[i]);
	for (i = 0; i < res->naddrs; i++)
		free(res->addrs[i]);
	for (i = 0; i < res->cert.nsan; i++)
		free(res->cert.san[i]);
	free(res->cert.subject);
	free(res->cert.issuer);
	free(res->content_type);
	free(res->served_by);
	free(res->tls_version);
	free(res->body);
	sts_policy_free(res->policy);
	memset(res, 0, sizeof *res);
}

static void
discover_free(struct discover *d)
{
	size_t	i;

	if (d->q_txt != NULL)
		dns_cancel(d->q_txt);
	if (d->q_a != NULL)
		dns_cancel(d->q_a);
	if (d->q_aaaa != NULL)
		dns_cancel(d->q_aaaa);
	if (d->fetch != NULL)
		fetch_cancel(d->fetch);
	if (d->finish_ev != NULL)
		event_free(d->finish_ev);
	for (i = 0; i < d->nv4; i++)
		free(d->v4[i]);
	for (i = 0; i < d->nv6; i++)
		free(d->v6[i]);
	discover_result_clear(&d->res);
	free(d);
}

/* Hand the result to the caller and free the discovery. */
static void
discover_finish(struct discover *d)
{
	d->res.domain = d->domain;
	d->res.elapsed_ms = util_mono_ms() - d->started_ms;
	d->cb(&d->res, d->arg);
	discover_free(d);
}

static void
discover_finish_cb(evutil_socket_t fd, short events, void *arg)
{
	struct discover	*d = arg;

	discover_finish(d);
}

/* Finish from the event loop (used where we are not inside a callback). */
static void
discover_finish_later(struct discover *d)
{
	d->finish_ev = event_new(d->base, -1, 0, discover_finish_cb, d);
	if (d->finish_ev == NULL)
		fatalx("discover: event_new");
	event_active(d->finish_ev, 0, 0);
}

static void
discover_fail(struct discover *d, enum discover_status status,
    const char *reason, const char *tlsrpt, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Record a failure outcome. */
static void
discover_fail(struct discover *d, enum discover_status status,
    const char *reason, const char *tlsrpt, const char *fmt, ...)
{
	va_list	ap;

	d->res.status = status;
	d->res.reason = reason;
	d->res.tlsrpt_failure = tlsrpt;
	va_start(ap, fmt);
	vsnprintf(d->res.error, sizeof d->res.error, fmt, ap);
	va_end(ap);
}

struct discover *
discover_start(struct event_base *base, const char *domain,
    const struct discover_opts *opts, discover_cb cb, void *arg)
{
	struct discover	*d;
	char		 qname[DOMAIN_MAX + 16];

	d = xcalloc(1, sizeof *d);
	d->base = base;
	d->opts = *opts;
	d->cb = cb;
	d->arg = arg;
	d->started_ms = util_mono_ms();
	snprintf(d->domain, sizeof d->domain, "%s", domain);
	snprintf(d->host, sizeof d->host, "mta-sts.%s", domain);
	if (opts->known_id != NULL) {
		snprintf(d->known_id, sizeof d->known_id, "%s", opts->known_id);
		d->have_known = 1;
	}
	d->opts.known_id = NULL;

	snprintf(qname, sizeof qname, "_mta-sts.%s", domain);
	if (strlen(d->host) > DOMAIN_MAX) {
		discover_fail(d, DISCOVER_NO_RECORD, "name-too-long", NULL,
		    "_mta-sts.%s is longer than a domain name may be", domain);
		discover_finish_later(d);
		return (d);
	}
	d->q_txt = dns_lookup(opts->dns, qname, LDNS_RR_TYPE_TXT,
	    discover_txt_cb, d);
	if (d->q_txt == NULL) {
		discover_fail(d, DISCOVER_TXT_FAILED, "txt-error", NULL,
		    "could not start the TXT lookup for %s", qname);
		discover_finish_later(d);
	}
	return (d);
}

void
discover_cancel(struct discover *d)
{
	if (d != NULL)
		discover_free(d);
}

struct sts_policy *
discover_take_policy(struct discover_result *res)
{
	struct sts_policy	*p = res->policy;

	res->policy = NULL;
	return (p);
}

/* Join the character-strings of one TXT RR; NULL if malformed. */
char *
discover_txt_join(const ldns_rr *rr, size_t *lenp)
{
	uint8_t		 wire[DISCOVER_RDATA_MAX];
	char		 out[TXT_MAX + 1];
	size_t		 i, off = 0, sz;
	ldns_rdf	*rdf;
	int		 n;

	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		rdf = ldns_rr_rdf(rr, i);
		sz = ldns_rdf_size(rdf);
		if (off + sz > sizeof wire)
			return (NULL);
		memcpy(wire + off, ldns_rdf_data(rdf), sz);
		off += sz;
	}
	if ((n = sts_txt_join(wire, off, out, sizeof out)) < 0)
		return (NULL);
	if (lenp != NULL)
		*lenp = (size_t)n;
	return (xstrndup(out, (size_t)n));
}

/* Look up the addresses of the policy host. */
static void
discover_lookup_addrs(struct discover *d)
{
	d->q_a = dns_lookup(d->opts.dns, d->host, LDNS_RR_TYPE_A,
	    discover_addr_cb, d);
	d->q_aaaa = dns_lookup(d->opts.dns, d->host, LDNS_RR_TYPE_AAAA,
	    discover_addr_cb, d);
	if (d->q_a == NULL && d->q_aaaa == NULL) {
		discover_fail(d, DISCOVER_FETCH_FAILED, "fetch-dns",
		    "sts-policy-fetch-error",
		    "could not start the address lookups for %s", d->host);
		discover_finish_later(d);
	}
}

static void
discover_txt_cb(const struct dns_answer *ans, void *arg)
{
	struct discover		*d = arg;
	struct discover_result	*res = &d->res;
	char			*all[DISCOVER_RR_MAX] = { NULL };
	size_t			 lens[DISCOVER_RR_MAX] = { 0 }, n = 0, i, len;
	char			*rec;

	d->q_txt = NULL;
	res->txt_dns = ans->status;
	res->txt_ttl = ans->ttl;
	switch (ans->status) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		discover_fail(d, DISCOVER_NO_RECORD, ans->status ==
		    DNS_NXDOMAIN ? "txt-nxdomain" : "txt-nodata", NULL,
		    "no TXT record at _mta-sts.%s (%s)", d->domain,
		    dns_status_name(ans->status));
		discover_finish(d);
		return;
	default:
		discover_fail(d, DISCOVER_TXT_FAILED, ans->status ==
		    DNS_TIMEOUT ? "txt-timeout" : ans->status == DNS_SERVFAIL ?
		    "txt-servfail" : "txt-error", NULL,
		    "TXT lookup of _mta-sts.%s failed: %s", d->domain,
		    ans->error != NULL ? ans->error :
		    dns_status_name(ans->status));
		discover_finish(d);
		return;
	}

	for (i = 0; ans->rrs != NULL && i < ldns_rr_list_rr_count(ans->rrs) &&
	    n < DISCOVER_RR_MAX; i++) {
		if ((rec = discover_txt_join(ldns_rr_list_rr(ans->rrs, i),
		    &len)) == NULL)
			continue;
		all[n] = rec;
		lens[n++] = len;
		if (res->ntxt < DISCOVER_TXT_MAX)
			res->txt[res->ntxt++] = xstrdup(rec);
	}
	res->txt_result = sts_txt_select((const char *const *)all, lens, n,
	    &res->txt_rec, &res->txt_diag);
	for (i = 0; i < n; i++)
		free(all[i]);

	switch (res->txt_result) {
	case STS_TXT_FOUND:
		break;
	case STS_TXT_NONE:
		discover_fail(d, DISCOVER_NO_RECORD, "txt-no-record", NULL,
		    "no TXT record at _mta-sts.%s starts with v=STSv1",
		    d->domain);
		discover_finish(d);
		return;
	case STS_TXT_MULTIPLE:
		discover_fail(d, DISCOVER_NO_RECORD, "txt-multiple", NULL,
		    "more than one v=STSv1 TXT record at _mta-sts.%s",
		    d->domain);
		discover_finish(d);
		return;
	case STS_TXT_INVALID:
		discover_fail(d, DISCOVER_NO_RECORD, "txt-invalid", NULL,
		    "the TXT record at _mta-sts.%s is invalid: %s", d->domain,
		    res->txt_diag.n > 0 ? res->txt_diag.f[0].msg : "syntax");
		discover_finish(d);
		return;
	}

	if (d->have_known && strcmp(d->known_id, res->txt_rec.id) == 0) {
		res->status = DISCOVER_SAME_ID;
		res->reason = "same-id";
		discover_finish(d);
		return;
	}
	discover_lookup_addrs(d);
}

/* Keep the addresses of one A or AAAA answer. */
static void
discover_keep_addrs(struct discover *d, const struct dns_answer *ans)
{
	char		 buf[INET6_ADDRSTRLEN];
	const ldns_rr	*rr;
	ldns_rdf	*rdf;
	size_t		 i;
	char		**list = ans->qtype == LDNS_RR_TYPE_A ? d->v4 : d->v6;
	size_t		*n = ans->qtype == LDNS_RR_TYPE_A ? &d->nv4 : &d->nv6;
	int		 af = ans->qtype == LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
	size_t		 want = ans->qtype == LDNS_RR_TYPE_A ? 4 : 16;

	if (ans->status != DNS_OK || ans->rrs == NULL)
		return;
	for (i = 0; i < ldns_rr_list_rr_count(ans->rrs) &&
	    *n < FETCH_ADDRS_MAX / 2; i++) {
		rr = ldns_rr_list_rr(ans->rrs, i);
		if (ldns_rr_rd_count(rr) < 1)
			continue;
		rdf = ldns_rr_rdf(rr, 0);
		if (ldns_rdf_size(rdf) != want ||
		    inet_ntop(af, ldns_rdf_data(rdf), buf, sizeof buf) == NULL)
			continue;
		list[(*n)++] = xstrdup(buf);
	}
}

static void
discover_addr_cb(const struct dns_answer *ans, void *arg)
{
	struct discover		*d = arg;
	struct discover_result	*res = &d->res;
	const char		*addrs[FETCH_ADDRS_MAX];
	size_t			 i;

	if (ans->qtype == LDNS_RR_TYPE_A)
		d->q_a = NULL;
	else
		d->q_aaaa = NULL;
	discover_keep_addrs(d, ans);
	if (d->q_a != NULL || d->q_aaaa != NULL)
		return;

	/* IPv4 first, then IPv6: each family is tried in turn (F21). */
	for (i = 0; i < d->nv4; i++)
		res->addrs[res->naddrs++] = xstrdup(d->v4[i]);
	for (i = 0; i < d->nv6; i++)
		res->addrs[res->naddrs++] = xstrdup(d->v6[i]);
	if (res->naddrs == 0) {
		discover_fail(d, DISCOVER_FETCH_FAILED, "fetch-dns",
		    "sts-policy-fetch-error", "%s has no address (A/AAAA)",
		    d->host);
		discover_finish(d);
		return;
	}
	for (i = 0; i < res->naddrs; i++)
		addrs[i] = res->addrs[i];
	res->fetched = 1;
	d->fetch = fetch_start(d->base, d->host, addrs, res->naddrs,
	    &d->opts.fetch, discover_fetch_cb, d);
	if (d->fetch == NULL) {
		discover_fail(d, DISCOVER_FETCH_FAILED, "fetch-error",
		    "sts-policy-fetch-error", "could not start the fetch");
		discover_finish(d);
	}
}

/* The stable reason code of a fetch failure. */
static const char *
discover_fetch_reason(enum fetch_status s)
{
	switch (s) {
	case FETCH_OK:
		return ("ok");
	case FETCH_NO_ADDRESS:
		return ("fetch-no-address");
	case FETCH_CONNECT:
		return ("fetch-connect");
	case FETCH_TLS:
		return ("fetch-tls");
	case FETCH_CERT:
		return ("fetch-certificate");
	case FETCH_HTTP_STATUS:
		return ("fetch-http-status");
	case FETCH_CONTENT_TYPE:
		return ("fetch-content-type");
	case FETCH_TOO_LARGE:
		return ("fetch-too-large");
	case FETCH_TIMEOUT:
		return ("fetch-timeout");
	case FETCH_PROTOCOL:
		return ("fetch-protocol");
	}
	return ("fetch-error");
}

/* The message of the first error finding, for logs. */
static const char *
discover_first_error(const struct sts_diag *diag)
{
	size_t	i;

	for (i = 0; i < diag->n; i++) {
		if (diag->f[i].error)
			return (diag->f[i].msg);
	}
	return ("invalid policy");
}

/* Copy what the web server showed into the result. */
static void
discover_copy_fetch(struct discover_result *res, const struct fetch_result *fr)
{
	size_t	i;

	res->fetch_status = fr->status;
	res->http_status = fr->http_status;
	if (fr->content_type != NULL)
		res->content_type = xstrdup(fr->content_type);
	if (fr->addr != NULL)
		res->served_by = xstrdup(fr->addr);
	if (fr->tls_version != NULL)
		res->tls_version = xstrdup(fr->tls_version);
	if (fr->cert != NULL) {
		res->have_cert = 1;
		if (fr->cert->subject != NULL)
			res->cert.subject = xstrdup(fr->cert->subject);
		if (fr->cert->issuer != NULL)
			res->cert.issuer = xstrdup(fr->cert->issuer);
		for (i = 0; i < fr->cert->nsan && i < FETCH_SAN_MAX; i++)
			res->cert.san[res->cert.nsan++] =
			    xstrdup(fr->cert->san[i]);
		res->cert.not_before = fr->cert->not_before;
		res->cert.not_after = fr->cert->not_after;
	}
	if (fr->status == FETCH_OK && fr->body != NULL) {
		res->body = xmalloc(fr->body_len + 1);
		memcpy(res->body, fr->body, fr->body_len);
		res->body[fr->body_len] = '\0';
		res->body_len = fr->body_len;
	}
}

static void
discover_fetch_cb(const struct fetch_result *fr, void *arg)
{
	struct discover		*d = arg;
	struct discover_result	*res = &d->res;

	d->fetch = NULL;
	discover_copy_fetch(res, fr);
	if (fr->status != FETCH_OK) {
		discover_fail(d, DISCOVER_FETCH_FAILED,
		    discover_fetch_reason(fr->status),
		    fr->status == FETCH_CERT || fr->status == FETCH_TLS ?
		    "sts-webpki-invalid" : "sts-policy-fetch-error",
		    "fetching https://%s%s failed: %s", d->host, FETCH_PATH,
		    fr->error != NULL ? fr->error :
		    fetch_status_name(fr->status));
		discover_finish(d);
		return;
	}
	if (sts_policy_parse(res->body, res->body_len, &res->policy,
	    &res->policy_diag) != 0) {
		discover_fail(d, DISCOVER_INVALID, "policy-invalid",
		    "sts-policy-invalid", "the policy at https://%s%s is "
		    "invalid: %s", d->host, FETCH_PATH,
		    discover_first_error(&res->policy_diag));
		discover_finish(d);
		return;
	}
	res->status = DISCOVER_POLICY;
	res->reason = "ok";
	discover_finish(d);
}
