/*
 * ctl-resolve.c: resolve and check.  resolve runs one full discovery with
 * no cache (discover.c, the daemon's own code) and prints every step;
 * check adds the domain's MX records matched against the policy, the
 * TLS-RPT record, certificate expiry and advice.  Exit 0 valid,
 * 1 warnings, 2 errors.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "config.h"
#include "ctl.h"
#include "discover.h"
#include "fetch.h"
#include "util.h"


struct ctl_mx {
	unsigned	 pref;
	char		*host;		/* lowercase, no final dot; "" for null MX */
};

struct ctl_run {
	struct ctl		*ctl;
	struct event_base	*base;
	struct dns_client	*dns;
	struct dns_config	 dnscfg;
	SSL_CTX			*ssl;
	int			 check;
	char			 domain[DOMAIN_MAX + 1];
	int			 pending;
	struct event		*deadline;
	int			 timed_out;

	struct discover		*disc;
	int			 disc_done;
	struct discover_result	 res;		/* our deep copy */
	char			*reason;

	struct dns_query	*q_mx;
	int			 mx_done;
	enum dns_status		 mx_status;
	struct ctl_mx		 mx[CTL_MX_MAX];
	size_t			 nmx;

	struct dns_query	*q_rpt;
	int			 rpt_done;
	enum dns_status		 rpt_status;
	char			*rpt[DISCOVER_TXT_MAX];
	size_t			 nrpt;
	int			 rpt_chosen;	/* index of the one candidate, or -1 */
	int			 rpt_valid;
	struct ctl_tlsrpt	 rpt_rec;

	struct ctl_findings	 fs;
};

/* The RFC rule behind a discovery failure code. */
static const struct {
	const char	*prefix;
	const char	*step;
	const char	*rfc;
} ctl_reason_rules[] = {
	{ "txt-", "txt", "RFC 8461 3.1" },
	{ "name-too-long", "txt", "RFC 1035 2.3.4" },
	{ "fetch-content-type", "fetch", "RFC 8461 3.2" },
	{ "fetch-", "fetch", "RFC 8461 3.3" },
	{ "policy-", "policy", "RFC 8461 3.2" },
};

static const char *ctl_txt_results[] = {
	[STS_TXT_FOUND] = "found",
	[STS_TXT_NONE] = "none",
	[STS_TXT_MULTIPLE] = "multiple",
	[STS_TXT_INVALID] = "invalid"
};

/* dns_status_name in lowercase, for the JSON schema. */
static const char *
ctl_dns_name(enum dns_status s, char *buf, size_t len)
{
	size_t	i;

	snprintf(buf, len, "%s", dns_status_name(s));
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return (buf);
}

/* One step finished: stop the loop when all have. */
static void
ctl_run_done(struct ctl_run *r)
{
	if (--r->pending == 0)
		event_base_loopbreak(r->base);
}

/* Keep our own copy of everything in a discovery result. */
static void
ctl_result_copy(struct ctl_run *r, struct discover_result *src)
{
	struct discover_result	*d = &r->res;
	size_t			 i;

	*d = *src;
	d->domain = r->domain;
	r->reason = xstrdup(src->reason != NULL ? src->reason : "");
	d->reason = r->reason;
	d->tlsrpt_failure = NULL;
	for (i = 0; i < src->ntxt; i++)
		d->txt[i] = xstrdup(src->txt[i]);
	for (i = 0; i < src->naddrs; i++)
		d->addrs[i] = xstrdup(src->addrs[i]);
	d->content_type = src->content_type != NULL ?
	    xstrdup(src->content_type) : NULL;
	d->served_by = src->served_by != NULL ? xstrdup(src->served_by) : NULL;
	d->tls_version = src->tls_version != NULL ?
	    xstrdup(src->tls_version) : NULL;
	d->cert.subject = src->cert.subject != NULL ?
	    xstrdup(src->cert.subject) : NULL;
	d->cert.issuer = src->cert.issuer != NULL ?
	    xstrdup(src->cert.issuer) : NULL;
	for (i = 0; i < src->cert.nsan; i++)
		d->cert.san[i] = xstrdup(src->cert.san[i]);
	if (src->body != NULL) {
		d->body = xmalloc(src->body_len + 1);
		memcpy(d->body, src->body, src->body_len);
		d->body[src->body_len] = '\0';
	}
	d->policy = discover_take_policy(src);
}

static void
ctl_result_free(struct ctl_run *r)
{
	struct discover_result	*d = &r->res;
	size_t			 i;

	for (i = 0; i < d->ntxt; i++)
		free(d->txt[i]);
	for (i = 0; i < d->naddrs; i++)
		free(d->addrs[i]);
	for (i = 0; i < d->cert.nsan; i++)
		free(d->cert.san[i]);
	free(d->content_type);
	free(d->served_by);
	free(d->tls_version);
	free(d->cert.subject);
	free(d->cert.issuer);
	free(d->body);
	sts_policy_free(d->policy);
	free(r->reason);
}

static void
ctl_discover_cb(struct discover_result *res, void *arg)
{
	struct ctl_run	*r = arg;

	r->disc = NULL;
	r->disc_done = 1;
	ctl_result_copy(r, res);
	ctl_run_done(r);
}

static int
ctl_mx_cmp(const void *a, const void *b)
{
	const struct ctl_mx	*x = a, *y = b;

	if (x->pref != y->pref)
		return (x->pref < y->pref ? -1 : 1);
	return (strcmp(x->host, y->host));
}

static void
ctl_mx_cb(const struct dns_answer *ans, void *arg)
{
	struct ctl_run	*r = arg;
	const ldns_rr	*rr;
	char		*s;
	size_t		 i, n;

	r->q_mx = NULL;
	r->mx_done = 1;
	r->mx_status = ans->status;
	for (i = 0; ans->status == DNS_OK && ans->rrs != NULL &&
	    i < ldns_rr_list_rr_count(ans->rrs) && r->nmx < CTL_MX_MAX; i++) {
		rr = ldns_rr_list_rr(ans->rrs, i);
		if (ldns_rr_rd_count(rr) < 2 ||
		    (s = ldns_rdf2str(ldns_rr_rdf(rr, 1))) == NULL)
			continue;
		n = strlen(s);
		if (n > 0 && s[n - 1] == '.')
			s[--n] = '\0';
		util_lower(s);
		r->mx[r->nmx].pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		r->mx[r->nmx++].host = xstrdup(s);
		free(s);
	}
	qsort(r->mx, r->nmx, sizeof r->mx[0], ctl_mx_cmp);
	ctl_run_done(r);
}

static void
ctl_rpt_cb(const struct dns_answer *ans, void *arg)
{
	struct ctl_run	*r = arg;
	char		*rec;
	size_t		 i;

	r->q_rpt = NULL;
	r->rpt_done = 1;
	r->rpt_status = ans->status;
	for (i = 0; ans->status == DNS_OK && ans->rrs != NULL &&
	    i < ldns_rr_list_rr_count(ans->rrs) && r->nrpt < DISCOVER_TXT_MAX;
	    i++) {
		if ((rec = discover_txt_join(ldns_rr_list_rr(ans->rrs, i), NULL)) != NULL)
			r->rpt[r->nrpt++] = rec;
	}
	ctl_run_done(r);
}

static void
ctl_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct ctl_run	*r = arg;

	r->timed_out = 1;
	event_base_loopbreak(r->base);
}

/* The resolvers: --resolver, the configuration, or /etc/resolv.conf. */
static int
ctl_dns_setup(struct ctl_run *r)
{
	const struct config	*cfg = r->ctl->cfg;
	size_t			 i;

	memset(&r->dnscfg, 0, sizeof r->dnscfg);
	for (i = 0; i < r->ctl->nresolvers; i++) {
		if (dns_config_add(&r->dnscfg, r->ctl->resolvers[i]) != 0) {
			ctl_warnx("--resolver %s: not an address",
			    r->ctl->resolvers[i]);
			return (CTL_EXIT_USAGE);
		}
	}
	for (i = 0; r->ctl->nresolvers == 0 && i < cfg->dns.nservers; i++)
		dns_config_add(&r->dnscfg, cfg->dns.servers[i]);
	if (r->dnscfg.nservers == 0 &&
	    dns_config_resolvconf(&r->dnscfg, "/etc/resolv.conf") != 0)
		dns_config_add(&r->dnscfg, "127.0.0.1");
	r->dnscfg.timeout_ms = cfg->dns_timeout_ms;
	r->dnscfg.tries = cfg->dns_tries;
	if ((r->dns = dns_client_new(r->base, &r->dnscfg)) == NULL) {
		ctl_warnx("cannot set up the DNS client");
		return (CTL_EXIT_SOFTWARE);
	}
	return (CTL_EXIT_OK);
}

/* Start every step and run the loop until all have finished. */
static int
ctl_run_start(struct ctl_run *r)
{
	const struct config	*cfg = r->ctl->cfg;
	struct discover_opts	 opts;
	struct timeval		 tv = { CTL_RESOLVE_TIMEOUT, 0 };
	char			*err = NULL, name[DOMAIN_MAX + 16];
	const char		*cafile, *cadir;
	int			 status;

	if ((r->base = event_base_new()) == NULL) {
		ctl_warnx("cannot set up the event loop");
		return (CTL_EXIT_SOFTWARE);
	}
	if ((status = ctl_dns_setup(r)) != CTL_EXIT_OK)
		return (status);
	cafile = r->ctl->ca_file != NULL ? r->ctl->ca_file : cfg->ca_file;
	cadir = r->ctl->ca_file != NULL ? NULL : cfg->ca_dir;
	if ((r->ssl = fetch_ssl_ctx_new(cafile, cadir, &err)) == NULL) {
		ctl_warnx("cannot set up TLS: %s", err != NULL ? err :
		    "unknown error");
		free(err);
		return (r->ctl->ca_file != NULL ? CTL_EXIT_NOINPUT :
		    CTL_EXIT_CONFIG);
	}
	memset(&opts, 0, sizeof opts);
	opts.dns = r->dns;
	opts.fetch.ssl_ctx = r->ssl;
	opts.fetch.port = 443;
	opts.fetch.timeout_ms = cfg->fetch_timeout * 1000;
	opts.fetch.max_body = cfg->max_policy_size;
	opts.fetch.max_headers = HTTP_HEADERS_MAX;
	opts.known_id = NULL;

	r->deadline = evtimer_new(r->base, ctl_deadline_cb, r);
	evtimer_add(r->deadline, &tv);
	r->pending = 1;
	r->disc = discover_start(r->base, r->domain, &opts, ctl_discover_cb, r);
	if (r->check) {
		r->pending += 2;
		r->q_mx = dns_lookup(r->dns, r->domain, LDNS_RR_TYPE_MX,
		    ctl_mx_cb, r);
		snprintf(name, sizeof name, "_smtp._tls.%s", r->domain);
		r->q_rpt = dns_lookup(r->dns, name, LDNS_RR_TYPE_TXT,
		    ctl_rpt_cb, r);
		if (r->q_mx == NULL) {
			r->pending--;
			r->mx_status = DNS_ERROR;
		}
		if (r->q_rpt == NULL) {
			r->pending--;
			r->rpt_status = DNS_ERROR;
		}
	}
	event_base_dispatch(r->base);
	return (CTL_EXIT_OK);
}

static void
ctl_run_free(struct ctl_run *r)
{
	size_t	i;

	if (r->disc != NULL)
		discover_cancel(r->disc);
	if (r->q_mx != NULL)
		dns_cancel(r->q_mx);
	if (r->q_rpt != NULL)
		dns_cancel(r->q_rpt);
	if (r->deadline != NULL)
		event_free(r->deadline);
	if (r->disc_done)
		ctl_result_free(r);
	for (i = 0; i < r->nmx; i++)
		free(r->mx[i].host);
	for (i = 0; i < r->nrpt; i++)
		free(r->rpt[i]);
	ctl_tlsrpt_clear(&r->rpt_rec);
	ctl_findings_free(&r->fs);
	if (r->dns != NULL)
		dns_client_free(r->dns);
	dns_config_clear(&r->dnscfg);
	if (r->ssl != NULL)
		SSL_CTX_free(r->ssl);
	if (r->base != NULL)
		event_base_free(r->base);
}

/* Findings of the discovery itself. */
static void
ctl_findings_discovery(struct ctl_run *r)
{
	struct discover_result	*d = &r->res;
	const char		*step = "discovery", *rfc = NULL;
	size_t			 i;

	if (r->timed_out && !r->disc_done) {
		ctl_findings_add(&r->fs, CTL_ERROR, "discovery", 0, "timeout",
		    NULL, "no result within %d seconds", CTL_RESOLVE_TIMEOUT);
		return;
	}
	ctl_findings_diag(&r->fs, "txt", &d->txt_diag);
	ctl_findings_diag(&r->fs, "policy", &d->policy_diag);
	if (d->status == DISCOVER_POLICY || d->status == DISCOVER_SAME_ID ||
	    ctl_findings_count(&r->fs, CTL_ERROR) > 0)
		return;
	for (i = 0; i < sizeof ctl_reason_rules / sizeof ctl_reason_rules[0];
	    i++) {
		if (strncmp(d->reason, ctl_reason_rules[i].prefix,
		    strlen(ctl_reason_rules[i].prefix)) == 0) {
			step = ctl_reason_rules[i].step;
			rfc = ctl_reason_rules[i].rfc;
			break;
		}
	}
	ctl_findings_add(&r->fs, CTL_ERROR, step, 0, d->reason, rfc, "%s",
	    d->error[0] != '\0' ? d->error : discover_status_name(d->status));
}

/* check: certificate expiry, max_age and mode advice. */
static void
ctl_findings_policy(struct ctl_run *r)
{
	struct discover_result	*d = &r->res;
	time_t			 now = util_now();
	char			 t[32], dur[32];
	int64_t			 left;

	if (d->have_cert && d->fetch_status == FETCH_OK &&
	    d->cert.not_after != 0) {
		left = (int64_t)(d->cert.not_after - now);
		if (left < (int64_t)CTL_CERT_WARN_DAYS * 86400)
			ctl_findings_add(&r->fs, CTL_WARNING, "fetch", 0,
			    "cert-expires-soon", "RFC 8461 3.3", "the "
			    "certificate of mta-sts.%s expires in %s (%s)",
			    r->domain, ctl_duration(left, dur, sizeof dur),
			    util_timefmt(d->cert.not_after, t, sizeof t));
	}
	if (d->policy == NULL)
		return;
	if (d->policy->max_age < CTL_MAX_AGE_ADVICE)
		ctl_findings_add(&r->fs, CTL_NOTE, "policy", 0, "max-age-short",
		    "RFC 8461 3.2", "max_age %u (%s) is below one week; values "
		    "of weeks or more protect better against attacks at "
		    "refresh time", (unsigned)d->policy->max_age,
		    ctl_duration(d->policy->max_age, dur, sizeof dur));
	if (d->policy->mode == STS_MODE_TESTING)
		ctl_findings_add(&r->fs, CTL_NOTE, "policy", 0, "mode-testing",
		    "RFC 8461 5", "mode testing: senders report failures but "
		    "deliver anyway");
}

/* The pattern that covers host, or NULL. */
static const char *
ctl_mx_pattern(const struct sts_policy *p, const char *host)
{
	size_t	i;

	for (i = 0; p != NULL && i < p->nmx; i++) {
		if (sts_mx_match(p->mx[i], host))
			return (p->mx[i]);
	}
	return (NULL);
}

/* check: every MX host must match a pattern of the policy. */
static void
ctl_findings_mx(struct ctl_run *r)
{
	const struct sts_policy	*p = r->res.policy;
	int			 match = p != NULL && p->mode != STS_MODE_NONE;
	size_t			 i;

	if (!r->mx_done) {
		ctl_findings_add(&r->fs, CTL_WARNING, "mx", 0, "mx-lookup-failed",
		    NULL, "no answer to the MX lookup of %s", r->domain);
		return;
	}
	switch (r->mx_status) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		ctl_findings_add(&r->fs, CTL_NOTE, "mx", 0, "mx-none",
		    "RFC 5321 5.1", "%s has no MX records: mail goes to the "
		    "domain's own address", r->domain);
		if (match && ctl_mx_pattern(p, r->domain) == NULL)
			ctl_findings_add(&r->fs, CTL_WARNING, "mx", 0,
			    "mx-not-covered", "RFC 8461 4.1", "the implicit MX "
			    "%s matches no mx pattern of the policy", r->domain);
		return;
	default:
		ctl_findings_add(&r->fs, CTL_WARNING, "mx", 0, "mx-lookup-failed",
		    NULL, "the MX lookup of %s failed (%s)", r->domain,
		    dns_status_name(r->mx_status));
		return;
	}
	for (i = 0; i < r->nmx; i++) {
		if (r->mx[i].host[0] == '\0') {
			ctl_findings_add(&r->fs, CTL_NOTE, "mx", 0, "mx-null",
			    "RFC 7505", "null MX: %s accepts no mail",
			    r->domain);
			continue;
		}
		if (match && ctl_mx_pattern(p, r->mx[i].host) == NULL)
			ctl_findings_add(&r->fs, CTL_WARNING, "mx", 0,
			    "mx-not-covered", "RFC 8461 4.1", "MX %s (preference "
			    "%u) matches no mx pattern of the policy: senders "
			    "that enforce will not deliver to it",
			    r->mx[i].host, r->mx[i].pref);
	}
}

/* check: the TLS-RPT record. */
static void
ctl_findings_tlsrpt(struct ctl_run *r)
{
	struct sts_diag	 diag;
	size_t		 i, ncand = 0;

	r->rpt_chosen = -1;
	if (!r->rpt_done || (r->rpt_status != DNS_OK &&
	    r->rpt_status != DNS_NXDOMAIN && r->rpt_status != DNS_NODATA)) {
		ctl_findings_add(&r->fs, CTL_WARNING, "tlsrpt", 0,
		    "tlsrpt-lookup-failed", CTL_TLSRPT_RFC, "the TXT lookup "
		    "of _smtp._tls.%s failed (%s)", r->domain, r->rpt_done ?
		    dns_status_name(r->rpt_status) : "no answer");
		return;
	}
	for (i = 0; i < r->nrpt; i++) {
		if (ctl_tlsrpt_candidate(r->rpt[i], strlen(r->rpt[i]))) {
			ncand++;
			r->rpt_chosen = (int)i;
		}
	}
	if (ncand == 0) {
		r->rpt_chosen = -1;
		ctl_findings_add(&r->fs, CTL_NOTE, "tlsrpt", 0, "tlsrpt-missing",
		    CTL_TLSRPT_RFC, "no TLS-RPT record at _smtp._tls.%s: "
		    "nobody receives reports of failed deliveries", r->domain);
		return;
	}
	if (ncand > 1) {
		r->rpt_chosen = -1;
		ctl_findings_add(&r->fs, CTL_ERROR, "tlsrpt", 0,
		    "tlsrpt-multiple", CTL_TLSRPT_RFC, "%zu TLS-RPT records at "
		    "_smtp._tls.%s: senders must ignore them all", ncand,
		    r->domain);
		return;
	}
	memset(&diag, 0, sizeof diag);
	r->rpt_valid = ctl_tlsrpt_parse(r->rpt[r->rpt_chosen],
	    strlen(r->rpt[r->rpt_chosen]), &r->rpt_rec, &diag) == 0;
	ctl_findings_diag(&r->fs, "tlsrpt", &diag);
}

/* Text report. */

/* Print a record quoted, padded to width w (non-printables as '?'). */
static void
ctl_print_quoted(const char *s, size_t w)
{
	size_t	n = strlen(s) + 2;

	putchar('"');
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e ?
		    '?' : *s);
	putchar('"');
	for (; n < w; n++)
		putchar(' ');
}

/* The widest of n records once quoted. */
static size_t
ctl_quoted_width(char *const *recs, size_t n)
{
	size_t	i, w = 0;

	for (i = 0; i < n; i++) {
		if (strlen(recs[i]) + 2 > w)
			w = strlen(recs[i]) + 2;
	}
	return (w);
}

static void
ctl_text_txt(struct ctl_run *r)
{
	struct discover_result	*d = &r->res;
	char			 dur[32];
	size_t			 i, w, ncand = 0;
	int			 cand;

	printf("\n%sTXT _mta-sts.%s%s: %s", ctl_sgr(r->ctl, CTL_BOLD),
	    r->domain, ctl_sgr(r->ctl, CTL_RESET), dns_status_name(d->txt_dns));
	if (d->txt_dns == DNS_OK || d->txt_dns == DNS_NXDOMAIN ||
	    d->txt_dns == DNS_NODATA)
		printf(", ttl %s", ctl_duration(d->txt_ttl, dur, sizeof dur));
	printf("\n");
	for (i = 0; i < d->ntxt; i++)
		ncand += sts_txt_is_candidate(d->txt[i], strlen(d->txt[i]));
	w = ctl_quoted_width(d->txt, d->ntxt);
	for (i = 0; i < d->ntxt; i++) {
		cand = sts_txt_is_candidate(d->txt[i], strlen(d->txt[i]));
		printf("  ");
		ctl_print_quoted(d->txt[i], w);
		if (!cand)
			printf("  ignored: does not start with v=STSv1\n");
		else if (ncand > 1)
			printf("  not used: one of %zu records starting with "
			    "v=STSv1\n", ncand);
		else if (d->txt_result == STS_TXT_FOUND)
			printf("  %schosen%s: the only record starting with "
			    "v=STSv1\n", ctl_sgr(r->ctl, CTL_GREEN),
			    ctl_sgr(r->ctl, CTL_RESET));
		else
			printf("  %snot used%s: the only candidate, but "
			    "invalid\n", ctl_sgr(r->ctl, CTL_RED),
			    ctl_sgr(r->ctl, CTL_RESET));
	}
	if (d->txt_dns == DNS_OK && d->txt_result == STS_TXT_FOUND)
		printf("  policy id %s\n", d->txt_rec.id);
}

static void
ctl_text_fetch(struct ctl_run *r)
{
	struct discover_result	*d = &r->res;
	time_t			 now = util_now();
	char			 a[32], b[32], rel[32];
	size_t			 i;

	printf("\n%sPolicy host mta-sts.%s%s:", ctl_sgr(r->ctl, CTL_BOLD),
	    r->domain, ctl_sgr(r->ctl, CTL_RESET));
	for (i = 0; i < d->naddrs; i++)
		printf("%s%s", i > 0 ? ", " : " ", d->addrs[i]);
	printf("%s\n", d->naddrs == 0 ? " no address" : "");
	if (!d->fetched)
		return;
	printf("\n%sHTTPS https://mta-sts.%s%s%s: %s\n",
	    ctl_sgr(r->ctl, CTL_BOLD), r->domain, FETCH_PATH,
	    ctl_sgr(r->ctl, CTL_RESET), fetch_status_name(d->fetch_status));
#define ROW	"  %-13s "
	printf(ROW "%s\n", "server", d->served_by != NULL ? d->served_by : "-");
	printf(ROW "%s\n", "TLS", d->tls_version != NULL ? d->tls_version :
	    "-");
	if (d->http_status != 0)
		printf(ROW "%d\n", "HTTP status", d->http_status);
	else
		printf(ROW "-\n", "HTTP status");
	printf(ROW "%s\n", "content-type", d->content_type != NULL ?
	    d->content_type : "-");
	if (d->have_cert) {
		printf(ROW "subject %s\n", "certificate", d->cert.subject != NULL ?
		    d->cert.subject : "-");
		printf(ROW "issuer %s\n", "", d->cert.issuer != NULL ?
		    d->cert.issuer : "-");
		printf(ROW "names", "");
		for (i = 0; i < d->cert.nsan; i++)
			printf("%s%s", i > 0 ? ", " : " ", d->cert.san[i]);
		printf("%s\n", d->cert.nsan == 0 ? " (none)" : "");
		printf(ROW "valid %s to %s (expires %s)\n", "",
		    util_timefmt(d->cert.not_before, a, sizeof a),
		    util_timefmt(d->cert.not_after, b, sizeof b),
		    ctl_reltime(d->cert.not_after, now, rel, sizeof rel));
	}
	if (d->body != NULL)
		printf(ROW "%zu bytes\n", "body", d->body_len);
#undef ROW
}

static void
ctl_text_policy(struct ctl_run *r)
{
	struct discover_result	*d = &r->res;
	const char		*s, *nl, *end;
	char			 sum[2048];
	int			 line = 0;

	if (d->body == NULL)
		return;
	printf("\n%sPolicy%s\n", ctl_sgr(r->ctl, CTL_BOLD),
	    ctl_sgr(r->ctl, CTL_RESET));
	end = d->body + d->body_len;
	for (s = d->body; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		printf("  %4d  ", ++line);
		for (; s < nl; s++) {
			if (*s == '\r' && s + 1 == nl)
				break;
			putchar((unsigned char)*s < 0x20 && *s != '\t' ? '?' :
			    *s);
		}
		putchar('\n');
	}
	if (d->policy != NULL) {
		ctl_policy_summary(d->policy, sum, sizeof sum);
		printf("  -> %s\n", sum);
	}
}

static void
ctl_text_mx(struct ctl_run *r)
{
	const struct sts_policy	*p = r->res.policy;
	const char		*pat;
	size_t			 i, w = 0;

	printf("\n%sMX %s%s: %s\n", ctl_sgr(r->ctl, CTL_BOLD), r->domain,
	    ctl_sgr(r->ctl, CTL_RESET), r->mx_done ?
	    dns_status_name(r->mx_status) : "no answer");
	for (i = 0; i < r->nmx; i++) {
		if (strlen(r->mx[i].host) > w)
			w = strlen(r->mx[i].host);
	}
	for (i = 0; i < r->nmx; i++) {
		printf("  %5u %-*s", r->mx[i].pref, (int)w,
		    r->mx[i].host[0] != '\0' ? r->mx[i].host : ".");
		if (r->mx[i].host[0] == '\0')
			printf("  null MX\n");
		else if (p == NULL)
			printf("\n");
		else if ((pat = ctl_mx_pattern(p, r->mx[i].host)) != NULL)
			printf("  %smatches%s %s\n", ctl_sgr(r->ctl, CTL_GREEN),
			    ctl_sgr(r->ctl, CTL_RESET), pat);
		else
			printf("  %smatches no pattern%s\n", ctl_sgr(r->ctl,
			    p->mode == STS_MODE_NONE ? CTL_RESET : CTL_YELLOW),
			    ctl_sgr(r->ctl, CTL_RESET));
	}
}

static void
ctl_text_tlsrpt(struct ctl_run *r)
{
	size_t	i, j, w;

	printf("\n%sTLS-RPT _smtp._tls.%s%s: %s\n", ctl_sgr(r->ctl, CTL_BOLD),
	    r->domain, ctl_sgr(r->ctl, CTL_RESET), r->rpt_done ?
	    dns_status_name(r->rpt_status) : "no answer");
	w = ctl_quoted_width(r->rpt, r->nrpt);
	for (i = 0; i < r->nrpt; i++) {
		printf("  ");
		ctl_print_quoted(r->rpt[i], w);
		if (!ctl_tlsrpt_candidate(r->rpt[i], strlen(r->rpt[i])))
			printf("  ignored: does not start with v=TLSRPTv1\n");
		else if ((int)i != r->rpt_chosen)
			printf("  not used\n");
		else if (!r->rpt_valid)
			printf("  %sinvalid%s\n", ctl_sgr(r->ctl, CTL_RED),
			    ctl_sgr(r->ctl, CTL_RESET));
		else {
			printf("  %svalid%s: rua", ctl_sgr(r->ctl, CTL_GREEN),
			    ctl_sgr(r->ctl, CTL_RESET));
			for (j = 0; j < r->rpt_rec.nrua; j++)
				printf("%s%s", j > 0 ? ", " : " ",
				    r->rpt_rec.rua[j]);
			printf("\n");
		}
	}
}

static void
ctl_text_report(struct ctl_run *r, const char *cmd, int status)
{
	size_t	ne, nw, nn, i;

	printf("%s%s %s%s: resolver", ctl_sgr(r->ctl, CTL_BOLD), cmd,
	    r->domain, ctl_sgr(r->ctl, CTL_RESET));
	for (i = 0; i < r->dnscfg.nservers; i++)
		printf("%s%s", i > 0 ? ", " : " ", r->dnscfg.servers[i]);
	if (r->disc_done)
		printf(", %llu ms, no cache",
		    (unsigned long long)r->res.elapsed_ms);
	printf("\n");
	if (r->disc_done) {
		ctl_text_txt(r);
		if (r->res.txt_result == STS_TXT_FOUND &&
		    r->res.txt_dns == DNS_OK &&
		    r->res.status != DISCOVER_NO_RECORD &&
		    r->res.status != DISCOVER_TXT_FAILED)
			ctl_text_fetch(r);
		ctl_text_policy(r);
	}
	if (r->check) {
		ctl_text_mx(r);
		ctl_text_tlsrpt(r);
	}
	printf("\n%sFindings%s\n", ctl_sgr(r->ctl, CTL_BOLD),
	    ctl_sgr(r->ctl, CTL_RESET));
	if (r->fs.n == 0)
		printf("  none\n");
	ctl_findings_print(r->ctl, stdout, &r->fs, NULL, "  ");
	ne = ctl_findings_count(&r->fs, CTL_ERROR);
	nw = ctl_findings_count(&r->fs, CTL_WARNING);
	nn = ctl_findings_count(&r->fs, CTL_NOTE);
	printf("\n%s: %s%s%s (%zu error%s, %zu warning%s, %zu note%s)\n",
	    r->domain, ctl_sgr(r->ctl, status == 0 ? CTL_GREEN : status == 1 ?
	    CTL_YELLOW : CTL_RED), ctl_result_name(status),
	    ctl_sgr(r->ctl, CTL_RESET), ne, ne == 1 ? "" : "s", nw,
	    nw == 1 ? "" : "s", nn, nn == 1 ? "" : "s");
}

/* JSON report (schema in mtastsctl(8)). */

static void
ctl_json_txt(struct ctl_run *r, struct json *j)
{
	struct discover_result	*d = &r->res;
	char			 name[DOMAIN_MAX + 16], dn[16];
	size_t			 i, ncand = 0;
	int			 cand;

	snprintf(name, sizeof name, "_mta-sts.%s", r->domain);
	json_open(j, "txt", '{');
	json_str(j, "name", name);
	json_str(j, "dns", ctl_dns_name(d->txt_dns, dn, sizeof dn));
	json_uint(j, "ttl", d->txt_ttl);
	json_str(j, "result", d->txt_dns == DNS_OK ?
	    ctl_txt_results[d->txt_result] : NULL);
	json_str(j, "id", d->txt_dns == DNS_OK &&
	    d->txt_result == STS_TXT_FOUND ? d->txt_rec.id : NULL);
	for (i = 0; i < d->ntxt; i++)
		ncand += sts_txt_is_candidate(d->txt[i], strlen(d->txt[i]));
	json_open(j, "records", '[');
	for (i = 0; i < d->ntxt; i++) {
		cand = sts_txt_is_candidate(d->txt[i], strlen(d->txt[i]));
		json_open(j, NULL, '{');
		json_str(j, "text", d->txt[i]);
		json_bool(j, "candidate", cand);
		json_bool(j, "chosen", cand && ncand == 1 &&
		    d->txt_result == STS_TXT_FOUND);
		json_close(j, '{');
	}
	json_close(j, '[');
	json_close(j, '{');
}

static void
ctl_json_fetch(struct ctl_run *r, struct json *j)
{
	struct discover_result	*d = &r->res;
	char			 url[DOMAIN_MAX + 64];
	size_t			 i;

	json_open(j, "policy_host", '{');
	snprintf(url, sizeof url, "mta-sts.%s", r->domain);
	json_str(j, "name", url);
	json_open(j, "addresses", '[');
	for (i = 0; i < d->naddrs; i++)
		json_str(j, NULL, d->addrs[i]);
	json_close(j, '[');
	json_close(j, '{');
	if (!d->fetched) {
		json_null(j, "https");
		json_null(j, "certificate");
		return;
	}
	json_open(j, "https", '{');
	snprintf(url, sizeof url, "https://mta-sts.%s%s", r->domain,
	    FETCH_PATH);
	json_str(j, "url", url);
	json_str(j, "result", fetch_status_name(d->fetch_status));
	json_str(j, "server", d->served_by);
	json_str(j, "tls_version", d->tls_version);
	if (d->http_status != 0)
		json_int(j, "http_status", d->http_status);
	else
		json_null(j, "http_status");
	json_str(j, "content_type", d->content_type);
	if (d->body != NULL)
		json_uint(j, "body_bytes", d->body_len);
	else
		json_null(j, "body_bytes");
	json_close(j, '{');
	if (!d->have_cert) {
		json_null(j, "certificate");
		return;
	}
	json_open(j, "certificate", '{');
	json_str(j, "subject", d->cert.subject);
	json_str(j, "issuer", d->cert.issuer);
	json_open(j, "san", '[');
	for (i = 0; i < d->cert.nsan; i++)
		json_str(j, NULL, d->cert.san[i]);
	json_close(j, '[');
	json_int(j, "not_before", (int64_t)d->cert.not_before);
	json_int(j, "not_after", (int64_t)d->cert.not_after);
	json_int(j, "days_left", ((int64_t)d->cert.not_after -
	    (int64_t)util_now()) / 86400);
	json_close(j, '{');
}

static void
ctl_json_check(struct ctl_run *r, struct json *j)
{
	const char	*pat;
	char		 name[DOMAIN_MAX + 16], dn[16];
	size_t		 i;

	json_open(j, "mx", '{');
	json_str(j, "dns", r->mx_done ? ctl_dns_name(r->mx_status, dn,
	    sizeof dn) : NULL);
	json_open(j, "records", '[');
	for (i = 0; i < r->nmx; i++) {
		json_open(j, NULL, '{');
		json_uint(j, "preference", r->mx[i].pref);
		json_str(j, "host", r->mx[i].host[0] != '\0' ? r->mx[i].host :
		    ".");
		pat = r->mx[i].host[0] != '\0' ?
		    ctl_mx_pattern(r->res.policy, r->mx[i].host) : NULL;
		json_str(j, "pattern", pat);
		json_close(j, '{');
	}
	json_close(j, '[');
	json_close(j, '{');

	snprintf(name, sizeof name, "_smtp._tls.%s", r->domain);
	json_open(j, "tlsrpt", '{');
	json_str(j, "name", name);
	json_str(j, "dns", r->rpt_done ? ctl_dns_name(r->rpt_status, dn,
	    sizeof dn) : NULL);
	json_open(j, "records", '[');
	for (i = 0; i < r->nrpt; i++) {
		json_open(j, NULL, '{');
		json_str(j, "text", r->rpt[i]);
		json_bool(j, "candidate",
		    ctl_tlsrpt_candidate(r->rpt[i], strlen(r->rpt[i])));
		json_bool(j, "chosen", (int)i == r->rpt_chosen);
		json_close(j, '{');
	}
	json_close(j, '[');
	if (r->rpt_chosen >= 0)
		json_bool(j, "valid", r->rpt_valid);
	else
		json_null(j, "valid");
	json_open(j, "rua", '[');
	for (i = 0; i < r->rpt_rec.nrua; i++)
		json_str(j, NULL, r->rpt_rec.rua[i]);
	json_close(j, '[');
	json_close(j, '{');
}

static void
ctl_json_report(struct ctl_run *r, const char *cmd, int status)
{
	struct discover_result	*d = &r->res;
	struct json		 j;
	size_t			 i;

	json_start(&j, stdout);
	json_open(&j, NULL, '{');
	json_str(&j, "command", cmd);
	json_str(&j, "domain", r->domain);
	json_open(&j, "resolvers", '[');
	for (i = 0; i < r->dnscfg.nservers; i++)
		json_str(&j, NULL, r->dnscfg.servers[i]);
	json_close(&j, '[');
	if (r->disc_done) {
		json_uint(&j, "elapsed_ms", d->elapsed_ms);
		json_str(&j, "status", discover_status_name(d->status));
		json_str(&j, "reason", d->reason);
		json_str(&j, "error", d->error[0] != '\0' ? d->error : NULL);
		ctl_json_txt(r, &j);
		ctl_json_fetch(r, &j);
		ctl_policy_json(&j, "policy", d->policy);
		if (d->body != NULL)
			json_strn(&j, "body", d->body, d->body_len);
		else
			json_null(&j, "body");
	} else {
		json_null(&j, "elapsed_ms");
		json_str(&j, "status", "timeout");
		json_str(&j, "reason", "timeout");
		json_str(&j, "error", "no result in time");
	}
	if (r->check)
		ctl_json_check(r, &j);
	ctl_findings_json(&j, "findings", &r->fs);
	json_str(&j, "result", ctl_result_name(status));
	json_int(&j, "exit", status);
	json_close(&j, '{');
	json_end(&j);
}

static int
ctl_resolve_common(struct ctl *ctl, const char *arg, int check)
{
	struct ctl_run	r;
	int		status;

	memset(&r, 0, sizeof r);
	r.ctl = ctl;
	r.check = check;
	r.rpt_chosen = -1;
	if (ctl_domain(arg, r.domain) != 0)
		return (ctl_usage_of(check ? "check" : "resolve"));
	if ((status = ctl_run_start(&r)) != CTL_EXIT_OK) {
		ctl_run_free(&r);
		return (status);
	}
	ctl_findings_discovery(&r);
	if (check && r.disc_done) {
		ctl_findings_policy(&r);
		ctl_findings_mx(&r);
		ctl_findings_tlsrpt(&r);
	}
	status = ctl_findings_exit(&r.fs);
	if (ctl->json)
		ctl_json_report(&r, check ? "check" : "resolve", status);
	else
		ctl_text_report(&r, check ? "check" : "resolve", status);
	ctl_run_free(&r);
	return (status);
}

int
ctl_cmd_resolve(struct ctl *ctl, int argc, char **argv)
{
	return (ctl_resolve_common(ctl, argv[0], 0));
}

int
ctl_cmd_check(struct ctl *ctl, int argc, char **argv)
{
	return (ctl_resolve_common(ctl, argv[0], 1));
}
