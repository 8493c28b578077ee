/*
 * gen_dns_corpus.c: write the seed corpus of fuzz_dns, real answers built
 * with ldns, each after fuzz_dns's two control bytes.  Not built by make:
 *
 *	cc -o /tmp/gen_dns_corpus tests/fuzz/gen_dns_corpus.c -lldns
 *	/tmp/gen_dns_corpus tests/fuzz/corpus/dns
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#define ID	0x4d53

/* fuzz_dns control byte 0: type index, tcp, hops already followed. */
#define T_TXT	0
#define T_A	1
#define T_AAAA	2
#define T_MX	3
#define T_CNAME	4
#define T_TLSA	7
#define TCP	0x08
#define HOPS(n)	((n) << 4)
/* Control byte 1: name index, AD so far. */
#define N_STS	0
#define N_HOST	1
#define N_IDN	3
#define N_TLSA	4
#define N_CASE	7
#define AD	0x08

struct seed {
	const char	*file;
	uint8_t		 ctl0, ctl1;
	const char	*qname;
	ldns_rr_type	 qtype;
	int		 rcode;
	int		 flags;		/* 1 TC, 2 AD, 4 not QR */
	int		 edns;		/* 0 none, 1 plain, 2 extended rcode */
	const char	*answer[8];
	const char	*authority[3];
};

static const struct seed seeds[] = {
	{ "txt-ok", T_TXT, N_STS | AD, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 2, 1, { "_mta-sts.example.com. 300 IN TXT \"v=STSv1; id=20240101T000000;\"" } },
	{ "txt-split", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 0, 1, { "_mta-sts.example.com. 300 IN TXT \"v=STSv1; \" \"id=abc123;\"" } },
	{ "txt-two", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 0, 0, { "_mta-sts.example.com. 300 IN TXT \"v=STSv1; id=a;\"",
	  "_mta-sts.example.com. 60 IN TXT \"v=spf1 -all\"" } },
	{ "txt-case", T_TXT, N_CASE, "_MTA-STS.Example.COM.", LDNS_RR_TYPE_TXT,
	  0, 0, 1, { "_mta-sts.example.com. 300 IN TXT \"v=STSv1; id=x;\"" } },
	{ "cname-chain", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 0, 1, { "_mta-sts.example.com. 600 IN CNAME _mta-sts.provider.net.",
	  "_mta-sts.provider.net. 120 IN CNAME sts.provider.org.",
	  "sts.provider.org. 300 IN TXT \"v=STSv1; id=p1;\"" } },
	{ "cname-stops", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 0, 1, { "_mta-sts.example.com. 600 IN CNAME _mta-sts.provider.net." } },
	{ "cname-loop", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 0, 1, { "_mta-sts.example.com. 600 IN CNAME loop.example.net.",
	  "loop.example.net. 600 IN CNAME _mta-sts.example.com." } },
	{ "cname-hops", T_TXT | HOPS(7), N_STS, "_mta-sts.example.com.",
	  LDNS_RR_TYPE_TXT, 0, 0, 1,
	  { "_mta-sts.example.com. 60 IN CNAME x1.example.net.",
	  "x1.example.net. 60 IN CNAME x2.example.net.",
	  "x2.example.net. 60 IN TXT \"v=STSv1; id=deep;\"" } },
	{ "cname-asked", T_CNAME, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_CNAME,
	  0, 0, 0, { "_mta-sts.example.com. 600 IN CNAME _mta-sts.provider.net." } },
	{ "cname-nx", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  LDNS_RCODE_NXDOMAIN, 0, 1,
	  { "_mta-sts.example.com. 600 IN CNAME gone.example.net." },
	  { "example.net. 900 IN SOA ns.example.net. root.example.net. 1 3600 600 86400 300" } },
	{ "nxdomain", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  LDNS_RCODE_NXDOMAIN, 0, 1, { NULL },
	  { "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 600" } },
	{ "nodata", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 0, 1, { "_mta-sts.example.com. 300 IN A 192.0.2.1" },
	  { "example.com. 100 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 600" } },
	{ "nodata-nosoa", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 0, 0, { NULL } },
	{ "servfail", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  LDNS_RCODE_SERVFAIL, 0, 1, { NULL } },
	{ "refused", T_A, N_HOST, "mta-sts.example.com.", LDNS_RR_TYPE_A,
	  LDNS_RCODE_REFUSED, 0, 0, { NULL } },
	{ "badvers", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 0, 2, { NULL } },
	{ "truncated", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 1, 1, { NULL } },
	{ "truncated-tcp", T_TXT | TCP, N_STS, "_mta-sts.example.com.",
	  LDNS_RR_TYPE_TXT, 0, 1, 0, { NULL } },
	{ "tcp-ok", T_TXT | TCP, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 0, 0, { "_mta-sts.example.com. 300 IN TXT \"v=STSv1; id=tcp;\"" } },
	{ "not-response", T_TXT, N_STS, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
	  0, 4, 0, { NULL } },
	{ "other-question", T_TXT, N_STS, "_mta-sts.example.org.", LDNS_RR_TYPE_TXT,
	  0, 0, 1, { "_mta-sts.example.org. 300 IN TXT \"v=STSv1; id=o;\"" } },
	{ "a-two", T_A, N_HOST | AD, "mta-sts.example.com.", LDNS_RR_TYPE_A,
	  0, 2, 1, { "mta-sts.example.com. 300 IN A 192.0.2.10",
	  "mta-sts.example.com. 30 IN A 192.0.2.11",
	  "mta-sts.example.com. 300 IN RRSIG A 13 3 300 20300101000000 20200101000000 12345 example.com. dGVzdA==" } },
	{ "aaaa", T_AAAA, N_HOST, "mta-sts.example.com.", LDNS_RR_TYPE_AAAA,
	  0, 0, 1, { "mta-sts.example.com. 300 IN AAAA 2001:db8::10" } },
	{ "a-other-owner", T_A, N_HOST, "mta-sts.example.com.", LDNS_RR_TYPE_A,
	  0, 0, 1, { "evil.example.net. 300 IN A 198.51.100.1",
	  "mta-sts.example.com. 300 CH A 192.0.2.1" } },
	{ "mx", T_MX, 2, "example.com.", LDNS_RR_TYPE_MX,
	  0, 0, 1, { "example.com. 3600 IN MX 10 mx1.example.com.",
	  "example.com. 3600 IN MX 20 mx2.example.com." } },
	{ "idn", T_TXT, N_IDN, "_mta-sts.xn--bcher-kva.example.", LDNS_RR_TYPE_TXT,
	  0, 0, 1, { "_mta-sts.xn--bcher-kva.example. 300 IN TXT \"v=STSv1; id=idn;\"" } },
	{ "tlsa", T_TLSA, N_TLSA | AD, "_25._tcp.mail.example.com.", LDNS_RR_TYPE_TLSA,
	  0, 2, 1, { "_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 "
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" } },
};

/* The wire form of one seed's answer. */
static uint8_t *
build(const struct seed *s, size_t *len)
{
	ldns_pkt	*pkt;
	ldns_rr		*rr, *q;
	uint8_t		*wire;
	size_t		 i;

	if ((pkt = ldns_pkt_new()) == NULL)
		abort();
	ldns_pkt_set_id(pkt, ID);
	ldns_pkt_set_qr(pkt, (s->flags & 4) == 0);
	ldns_pkt_set_rd(pkt, 1);
	ldns_pkt_set_ra(pkt, 1);
	ldns_pkt_set_tc(pkt, (s->flags & 1) != 0);
	ldns_pkt_set_ad(pkt, (s->flags & 2) != 0);
	ldns_pkt_set_opcode(pkt, LDNS_PACKET_QUERY);
	ldns_pkt_set_rcode(pkt, (uint8_t)s->rcode);
	if ((q = ldns_rr_new()) == NULL)
		abort();
	ldns_rr_set_question(q, 1);
	ldns_rr_set_owner(q, ldns_dname_new_frm_str(s->qname));
	ldns_rr_set_type(q, s->qtype);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, q);
	for (i = 0; i < 8 && s->answer[i] != NULL; i++) {
		if (ldns_rr_new_frm_str(&rr, s->answer[i], 0, NULL, NULL) !=
		    LDNS_STATUS_OK) {
			fprintf(stderr, "bad rr: %s\n", s->answer[i]);
			exit(1);
		}
		ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
	}
	for (i = 0; i < 3 && s->authority[i] != NULL; i++) {
		if (ldns_rr_new_frm_str(&rr, s->authority[i], 0, NULL, NULL) !=
		    LDNS_STATUS_OK) {
			fprintf(stderr, "bad rr: %s\n", s->authority[i]);
			exit(1);
		}
		ldns_pkt_push_rr(pkt, LDNS_SECTION_AUTHORITY, rr);
	}
	if (s->edns) {
		ldns_pkt_set_edns_udp_size(pkt, 1232);
		if (s->edns == 2)
			ldns_pkt_set_edns_extended_rcode(pkt, 1);	/* BADVERS */
	}
	if (ldns_pkt2wire(&wire, pkt, len) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(pkt);
	return (wire);
}

int
main(int argc, char *argv[])
{
	char	 path[1024];
	uint8_t	*wire;
	size_t	 i, len;
	FILE	*f;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_dns_corpus dir\n");
		return (2);
	}
	for (i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		wire = build(&seeds[i], &len);
		snprintf(path, sizeof path, "%s/%s", argv[1], seeds[i].file);
		if ((f = fopen(path, "wb")) == NULL) {
			perror(path);
			return (1);
		}
		fputc(seeds[i].ctl0, f);
		fputc(seeds[i].ctl1, f);
		fwrite(wire, 1, len, f);
		fclose(f);
		free(wire);
	}
	return (0);
}
