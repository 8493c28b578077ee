/*
 * test_dns_judge.c: dns_judge(), the step dns.c runs on every message a
 * server sends, on answers built with ldns: the verdict, status, TTL,
 * reason and what becomes of the CNAME chain.  The fuzz harness
 * tests/fuzz/fuzz_dns.c checks the same promises on random messages.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns.h"

#include "tap.h"

#define RRS_MAX		4
#define ID		0x2b67

/* How a case's answer differs from a plain one (flags). */
#define M_TC		0x01	/* TC set */
#define M_AD		0x02	/* AD set */
#define M_WRONGID	0x04	/* another id */
#define M_NOQR		0x08	/* QR clear */
#define M_SHORT		0x10	/* only 11 bytes */
#define M_CUT		0x20	/* header and question, counts promise more */
#define M_EXTRCODE	0x40	/* EDNS extended rcode BADVERS */
#define M_BADCNAME	0x80	/* the last answer RR's rdata removed */

struct judge_case {
	const char	*name;
	const char	*qname;		/* the end of the chain, as asked */
	int		 qtype;
	int		 tcp;
	size_t		 hops;		/* CNAME hops already followed */
	int		 ad;		/* AD so far */
	const char	*aqname;	/* the answer's question (NULL: qname) */
	int		 rcode;
	int		 mods;
	const char	*answer[RRS_MAX];
	const char	*authority;
	/* Expected. */
	enum dns_verdict verdict;
	enum dns_status	 status;	/* checked for DNS_V_DONE */
	uint32_t	 ttl;		/* checked for DNS_V_DONE */
	size_t		 nseen;
	uint32_t	 cname_ttl;
	int		 ad_after;
	size_t		 nrrs;
	const char	*why;
};

#define TXT	LDNS_RR_TYPE_TXT
#define A	LDNS_RR_TYPE_A
#define NX	LDNS_RCODE_NXDOMAIN
#define NOMAX	UINT32_MAX
#define SOA	"example.com. 3600 IN SOA ns.example.com. h.example.com. " \
		"1 7200 3600 1209600 600"

static const struct judge_case cases[] = {
	{ "TXT answer", "_mta-sts.example.com.", TXT, 0, 0, 0, NULL, 0, 0,
	  { "_mta-sts.example.com. 300 IN TXT \"v=STSv1; id=1;\"" }, NULL,
	  DNS_V_DONE, DNS_OK, 300, 1, NOMAX, 0, 1, "" },
	{ "two A records: min TTL", "mta-sts.example.com.", A, 0, 0, 0, NULL,
	  0, 0, { "mta-sts.example.com. 300 IN A 192.0.2.1",
	  "mta-sts.example.com. 30 IN A 192.0.2.2" }, NULL,
	  DNS_V_DONE, DNS_OK, 30, 1, NOMAX, 0, 2, "" },
	{ "records of other owners and classes are not used",
	  "mta-sts.example.com.", A, 0, 0, 0, NULL, 0, 0,
	  { "evil.example.net. 300 IN A 198.51.100.1",
	  "mta-sts.example.com. 300 CH A 192.0.2.1" }, SOA,
	  DNS_V_DONE, DNS_NODATA, 600, 1, NOMAX, 0, 0, "no A records" },
	{ "question name compared without case", "_MTA-STS.Example.COM.", TXT,
	  0, 0, 0, "_mta-sts.example.com.", 0, 0,
	  { "_mta-sts.example.com. 300 IN TXT \"v=STSv1; id=1;\"" }, NULL,
	  DNS_V_DONE, DNS_OK, 300, 1, NOMAX, 0, 1, "" },
	{ "CNAME chain inside the answer: min TTL of the chain",
	  "_mta-sts.example.com.", TXT, 0, 0, 0, NULL, 0, 0,
	  { "_mta-sts.example.com. 600 IN CNAME s.provider.net.",
	  "s.provider.net. 120 IN CNAME t.provider.org.",
	  "t.provider.org. 300 IN TXT \"v=STSv1; id=p;\"" }, NULL,
	  DNS_V_DONE, DNS_OK, 120, 3, 120, 0, 1, "" },
	{ "answer stops at a CNAME: follow", "_mta-sts.example.com.", TXT, 0,
	  0, 1, NULL, 0, M_AD,
	  { "_mta-sts.example.com. 600 IN CNAME s.provider.net." }, NULL,
	  DNS_V_FOLLOW, DNS_OK, 0, 2, 600, 1, 0, "following cname" },
	{ "CNAME then a malformed CNAME: the chain is left as it was",
	  "_mta-sts.example.com.", TXT, 0, 0, 1, NULL, 0, M_BADCNAME,
	  { "_mta-sts.example.com. 600 IN CNAME s.provider.net.",
	  "s.provider.net. 60 IN CNAME t.provider.org." }, NULL,
	  DNS_V_MALFORMED, DNS_OK, 0, 1, NOMAX, 1, 0,
	  "malformed CNAME in answer" },
	{ "CNAME loop", "_mta-sts.example.com.", TXT, 0, 0, 0, NULL, 0, 0,
	  { "_mta-sts.example.com. 600 IN CNAME l.example.net.",
	  "l.example.net. 600 IN CNAME _mta-sts.example.com." }, NULL,
	  DNS_V_DONE, DNS_ERROR, 0, 2, 600, 0, 0, "cname loop" },
	{ "CNAME past DNS_CNAME_MAX hops", "_mta-sts.example.com.", TXT, 0,
	  DNS_CNAME_MAX, 0, NULL, 0, 0,
	  { "_mta-sts.example.com. 600 IN CNAME one.more.example." }, NULL,
	  DNS_V_DONE, DNS_ERROR, 0, DNS_CNAME_MAX + 1, 3600, 0, 0,
	  "cname chain too long" },
	{ "NXDOMAIN: TTL min(SOA TTL, minimum)", "_mta-sts.example.com.", TXT,
	  0, 0, 0, NULL, NX, 0, { NULL }, SOA,
	  DNS_V_DONE, DNS_NXDOMAIN, 600, 1, NOMAX, 0, 0, "name does not exist" },
	{ "NXDOMAIN at a CNAME target: TTL capped by the CNAME",
	  "_mta-sts.example.com.", TXT, 0, 0, 0, NULL, NX, 0,
	  { "_mta-sts.example.com. 60 IN CNAME gone.example.net." }, SOA,
	  DNS_V_DONE, DNS_NXDOMAIN, 60, 2, 60, 0, 0, "name does not exist" },
	{ "NODATA without SOA: TTL 0", "_mta-sts.example.com.", TXT, 0, 0, 0,
	  NULL, 0, 0, { NULL }, NULL,
	  DNS_V_DONE, DNS_NODATA, 0, 1, NOMAX, 0, 0, "no TXT records" },
	{ "SERVFAIL", "_mta-sts.example.com.", TXT, 0, 0, 1, NULL,
	  LDNS_RCODE_SERVFAIL, 0, { NULL }, NULL,
	  DNS_V_RCODE, DNS_OK, 0, 1, NOMAX, 1, 0, "SERVFAIL" },
	{ "extended rcode", "_mta-sts.example.com.", TXT, 0, 0, 0, NULL, 0,
	  M_EXTRCODE, { NULL }, NULL,
	  DNS_V_RCODE, DNS_OK, 0, 1, NOMAX, 0, 0, "EXTENDED" },
	{ "TC over UDP: retry over TCP", "_mta-sts.example.com.", TXT, 0, 0,
	  0, NULL, 0, M_TC, { NULL }, NULL,
	  DNS_V_TRUNCATED, DNS_OK, 0, 1, NOMAX, 0, 0, "truncated" },
	{ "TC over TCP: malformed", "_mta-sts.example.com.", TXT, 1, 0, 0,
	  NULL, 0, M_TC, { NULL }, NULL,
	  DNS_V_MALFORMED, DNS_OK, 0, 1, NOMAX, 0, 0,
	  "truncated answer over tcp" },
	{ "wrong id: ignored", "_mta-sts.example.com.", TXT, 0, 0, 0, NULL, 0,
	  M_WRONGID, { "_mta-sts.example.com. 300 IN TXT \"x\"" }, NULL,
	  DNS_V_IGNORE, DNS_OK, 0, 1, NOMAX, 0, 0, "wrong id" },
	{ "QR clear: ignored", "_mta-sts.example.com.", TXT, 0, 0, 0, NULL, 0,
	  M_NOQR, { NULL }, NULL,
	  DNS_V_IGNORE, DNS_OK, 0, 1, NOMAX, 0, 0, "not a response" },
	{ "other question: ignored", "_mta-sts.example.com.", TXT, 0, 0, 0,
	  "_mta-sts.example.org.", 0, 0,
	  { "_mta-sts.example.org. 300 IN TXT \"x\"" }, NULL,
	  DNS_V_IGNORE, DNS_OK, 0, 1, NOMAX, 0, 0, "other question" },
	{ "short packet: ignored", "_mta-sts.example.com.", TXT, 0, 0, 0, NULL,
	  0, M_SHORT, { NULL }, NULL,
	  DNS_V_IGNORE, DNS_OK, 0, 1, NOMAX, 0, 0, "short packet" },
	{ "counts promise more than is there: malformed",
	  "_mta-sts.example.com.", TXT, 0, 0, 1, NULL, 0, M_CUT,
	  { "_mta-sts.example.com. 300 IN TXT \"x\"" }, NULL,
	  DNS_V_MALFORMED, DNS_OK, 0, 1, NOMAX, 1, 0, "malformed answer" },
	{ "AD kept when the answer has it", "mta-sts.example.com.", A, 0, 0,
	  1, NULL, 0, M_AD, { "mta-sts.example.com. 300 IN A 192.0.2.1" },
	  NULL, DNS_V_DONE, DNS_OK, 300, 1, NOMAX, 1, 1, "" },
	{ "AD lost when the answer lacks it", "mta-sts.example.com.", A, 0, 0,
	  1, NULL, 0, 0, { "mta-sts.example.com. 300 IN A 192.0.2.1" },
	  NULL, DNS_V_DONE, DNS_OK, 300, 1, NOMAX, 0, 1, "" },
};

/* A chain ending at qname after hops made-up CNAME hops. */
static void
chain_init(struct dns_chain *ch, const struct judge_case *c)
{
	char	name[64];
	size_t	i;

	memset(ch, 0, sizeof *ch);
	for (i = 0; i < c->hops; i++) {
		snprintf(name, sizeof name, "h%zu.example.net.", i);
		ch->seen[ch->nseen++] = ldns_dname_new_frm_str(name);
	}
	ch->seen[ch->nseen++] = ldns_dname_new_frm_str(c->qname);
	ch->cname_ttl = c->hops > 0 ? 3600 : UINT32_MAX;
	ch->ad = c->ad;
}

/* The query dns.c sends for the end of ch. */
static uint8_t *
query_wire(const struct dns_chain *ch, int type, size_t *len)
{
	ldns_pkt	*pkt;
	uint8_t		*wire = NULL;

	pkt = ldns_pkt_query_new(ldns_rdf_clone(ch->seen[ch->nseen - 1]),
	    (ldns_rr_type)type, LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_pkt_set_id(pkt, ID);
	ldns_pkt_set_edns_udp_size(pkt, DNS_EDNS_BUFSIZE);
	if (ldns_pkt2wire(&wire, pkt, len) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(pkt);
	return (wire);
}

/* Push an RR given as text; abort on a typo in the table. */
static ldns_rr *
rr_push(ldns_pkt *pkt, ldns_pkt_section sec, const char *text)
{
	ldns_rr	*rr;

	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK) {
		printf("# bad RR in the table: %s\n", text);
		abort();
	}
	ldns_pkt_push_rr(pkt, sec, rr);
	return (rr);
}

/* The answer of a case, in wire form. */
static uint8_t *
answer_wire(const struct judge_case *c, size_t *len)
{
	ldns_pkt	*pkt;
	ldns_rr		*q, *last = NULL;
	uint8_t		*wire = NULL;
	size_t		 i;

	pkt = ldns_pkt_new();
	ldns_pkt_set_id(pkt, (c->mods & M_WRONGID) ? ID + 1 : ID);
	ldns_pkt_set_qr(pkt, (c->mods & M_NOQR) == 0);
	ldns_pkt_set_rd(pkt, 1);
	ldns_pkt_set_ra(pkt, 1);
	ldns_pkt_set_tc(pkt, (c->mods & M_TC) != 0);
	ldns_pkt_set_ad(pkt, (c->mods & M_AD) != 0);
	ldns_pkt_set_rcode(pkt, (uint8_t)c->rcode);
	q = ldns_rr_new();
	ldns_rr_set_question(q, 1);
	ldns_rr_set_owner(q, ldns_dname_new_frm_str(c->aqname != NULL ?
	    c->aqname : c->qname));
	ldns_rr_set_type(q, (ldns_rr_type)c->qtype);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, q);
	for (i = 0; i < RRS_MAX && c->answer[i] != NULL; i++)
		last = rr_push(pkt, LDNS_SECTION_ANSWER, c->answer[i]);
	if ((c->mods & M_BADCNAME) && last != NULL)
		ldns_rdf_deep_free(ldns_rr_pop_rdf(last));
	if (c->authority != NULL)
		rr_push(pkt, LDNS_SECTION_AUTHORITY, c->authority);
	if (c->mods & M_EXTRCODE) {
		ldns_pkt_set_edns_udp_size(pkt, 1232);
		ldns_pkt_set_edns_extended_rcode(pkt, 1);
	}
	if (ldns_pkt2wire(&wire, pkt, len) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(pkt);
	if (c->mods & M_SHORT)
		*len = 11;
	if (c->mods & M_CUT) {
		/* Header and question only; ANCOUNT still says 1. */
		*len = LDNS_HEADER_SIZE + strlen(c->qname) + 1 + 4;
	}
	return (wire);
}

/* Run one case; check everything dns.h promises for its verdict. */
static void
run_case(const struct judge_case *c)
{
	struct dns_chain	 ch;
	struct dns_judgement	 j;
	ldns_rdf		*first[DNS_CNAME_MAX + 1];
	uint8_t			*qw, *aw;
	size_t			 qlen, alen, i, n;
	char			*end;

	chain_init(&ch, c);
	memcpy(first, ch.seen, sizeof first);
	qw = query_wire(&ch, c->qtype, &qlen);
	aw = answer_wire(c, &alen);
	dns_judge(&ch, c->qtype, qw, qlen, c->tcp, aw, alen, &j);

	is_int(j.verdict, c->verdict, "%s: verdict", c->name);
	is_str(j.why, c->why, "%s: reason", c->name);
	if (c->verdict == DNS_V_DONE) {
		is_int(j.status, c->status, "%s: status", c->name);
		is_int(j.ttl, c->ttl, "%s: ttl", c->name);
	}
	n = j.rrs != NULL ? ldns_rr_list_rr_count(j.rrs) : 0;
	is_int((long)n, (long)c->nrrs, "%s: records", c->name);
	ok((j.rrs != NULL) == (c->verdict == DNS_V_DONE && c->status == DNS_OK),
	    "%s: records only for DNS_OK", c->name);
	is_int((long)ch.nseen, (long)c->nseen, "%s: chain length", c->name);
	is_int(ch.cname_ttl, c->cname_ttl, "%s: cname ttl", c->name);
	is_int(ch.ad, c->ad_after, "%s: ad", c->name);
	for (i = 0; i < c->hops + 1; i++) {
		if (ch.seen[i] != first[i])
			break;
	}
	ok(i == c->hops + 1, "%s: names already followed kept", c->name);
	if (c->verdict == DNS_V_FOLLOW) {
		end = ldns_rdf2str(ch.seen[ch.nseen - 1]);
		is_str(end, "s.provider.net.", "%s: chain ends at the target",
		    c->name);
		free(end);
	}

	if (j.rrs != NULL)
		ldns_rr_list_deep_free(j.rrs);
	for (i = 0; i < ch.nseen; i++)
		ldns_rdf_deep_free(ch.seen[i]);
	free(qw);
	free(aw);
}

int
main(void)
{
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	return (done_testing());
}
