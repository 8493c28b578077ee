/*
 * fuzz_dns.c: libFuzzer harness for dns_judge(), the step dns.c runs on
 * every message a server sends.
 *
 * Input: byte 0 picks the query type (bits 0-2), UDP or TCP (bit 3) and
 * how many CNAME hops the query has followed already (bits 4-7); byte 1
 * picks the name asked (bits 0-2), the AD state so far (bit 3) and a
 * wrong query id (bit 7).  The rest is the message from the server.  The
 * query is built the way dns.c builds it, with the message's id unless
 * bit 7 says otherwise, so the fuzzer need not guess ids.
 *
 * The judgement must keep every promise of dns.h: a known verdict; the
 * chain untouched unless the verdict is FOLLOW or DONE; records only for
 * DNS_OK, all of the asked type, class IN, owned by the end of the chain,
 * none with a TTL under the one reported; no TTL above the CNAMEs'; a
 * chain never longer than DNS_CNAME_MAX hops, without repeats; AD never
 * set once clear; a reason in printable text.  abort() otherwise.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "defaults.h"
#include "dns.h"

#define FUZZ_CTL	2	/* control bytes before the message */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const int	fuzz_types[8] = {
	LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_MX,
	LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_NS, LDNS_RR_TYPE_TLSA
};

static const char	*fuzz_names[8] = {
	"_mta-sts.example.com.", "mta-sts.example.com.", "example.com.",
	"_mta-sts.xn--bcher-kva.example.", "_25._tcp.mail.example.com.",
	"a.", ".", "_MTA-STS.Example.COM."
};

/* The query dns.c would send for the end of ch; NULL if ldns fails. */
static uint8_t *
fuzz_query(const struct dns_chain *ch, int type, uint16_t id, size_t *len)
{
	ldns_pkt	*pkt;
	ldns_rdf	*name;
	uint8_t		*wire = NULL;

	name = ldns_rdf_clone(ch->seen[ch->nseen - 1]);
	if (name == NULL)
		abort();
	pkt = ldns_pkt_query_new(name, (ldns_rr_type)type, LDNS_RR_CLASS_IN,
	    LDNS_RD);
	if (pkt == NULL)
		abort();
	ldns_pkt_set_id(pkt, id);
	ldns_pkt_set_edns_udp_size(pkt, DNS_EDNS_BUFSIZE);
	if (ldns_pkt2wire(&wire, pkt, len) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(pkt);
	return (wire);
}

/* The reason is printable, NUL-terminated, and present unless DNS_OK. */
static void
fuzz_check_why(const struct dns_judgement *j)
{
	size_t	i;

	if (memchr(j->why, '\0', sizeof j->why) == NULL)
		abort();
	for (i = 0; j->why[i] != '\0'; i++) {
		if ((unsigned char)j->why[i] < 0x20 ||
		    (unsigned char)j->why[i] > 0x7e)
			abort();
	}
	if (j->why[0] == '\0' &&
	    !(j->verdict == DNS_V_DONE && j->status == DNS_OK))
		abort();
}

/* DNS_OK: records of the type asked, at the end of the chain. */
static void
fuzz_check_rrs(const struct dns_judgement *j, const struct dns_chain *ch,
    int type)
{
	const ldns_rr	*rr;
	size_t		 i, n;

	n = ldns_rr_list_rr_count(j->rrs);
	if (n == 0)
		abort();
	for (i = 0; i < n; i++) {
		rr = ldns_rr_list_rr(j->rrs, i);
		if (ldns_rr_get_type(rr) != (ldns_rr_type)type ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
		    ldns_dname_compare(ldns_rr_owner(rr),
		    ch->seen[ch->nseen - 1]) != 0 ||
		    ldns_rr_ttl(rr) < j->ttl)
			abort();
	}
}

/* The chain after FOLLOW or DONE: longer or equal, bounded, no repeats. */
static void
fuzz_check_chain(const struct dns_chain *ch, const struct dns_chain *was)
{
	size_t	i, k;

	if (ch->nseen < was->nseen || ch->nseen > DNS_CNAME_MAX + 1 ||
	    ch->cname_ttl > was->cname_ttl || (ch->ad && !was->ad))
		abort();
	for (i = 0; i < was->nseen; i++) {
		if (ch->seen[i] != was->seen[i])
			abort();
	}
	for (i = 0; i < ch->nseen; i++) {
		if (ch->seen[i] == NULL)
			abort();
		for (k = 0; k < i; k++) {
			if (ldns_dname_compare(ch->seen[i], ch->seen[k]) == 0)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_chain	 ch, was;
	struct dns_judgement	 j, j2;
	const uint8_t		*msg;
	uint8_t			*query;
	size_t			 len, qlen, hops, i;
	uint16_t		 id;
	char			 name[64];
	int			 type, tcp;

	if (size < FUZZ_CTL)
		return (0);
	type = fuzz_types[data[0] & 7];
	tcp = (data[0] >> 3) & 1;
	hops = (size_t)(data[0] >> 4) % (DNS_CNAME_MAX + 1);
	msg = data + FUZZ_CTL;
	len = size - FUZZ_CTL;

	memset(&ch, 0, sizeof ch);
	for (i = 0; i < hops; i++) {
		snprintf(name, sizeof name, "h%zu.example.net.", i);
		if ((ch.seen[ch.nseen++] = ldns_dname_new_frm_str(name)) == NULL)
			abort();
	}
	ch.seen[ch.nseen++] = ldns_dname_new_frm_str(fuzz_names[data[1] & 7]);
	if (ch.seen[ch.nseen - 1] == NULL)
		abort();
	ch.cname_ttl = hops > 0 ? 3600 : UINT32_MAX;
	ch.ad = (data[1] >> 3) & 1;
	id = len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0;
	if (data[1] & 0x80)
		id ^= 1;
	query = fuzz_query(&ch, type, id, &qlen);
	was = ch;

	dns_judge(&ch, type, query, qlen, tcp, msg, len, &j);
	fuzz_check_why(&j);
	switch (j.verdict) {
	case DNS_V_IGNORE:
	case DNS_V_MALFORMED:
	case DNS_V_TRUNCATED:
	case DNS_V_RCODE:
		if (memcmp(&ch, &was, sizeof ch) != 0 || j.rrs != NULL)
			abort();
		if (j.verdict == DNS_V_TRUNCATED && tcp)
			abort();
		if (j.verdict == DNS_V_RCODE && (j.rcode == LDNS_RCODE_NOERROR ||
		    j.rcode == LDNS_RCODE_NXDOMAIN || j.rcode < -1))
			abort();
		/* Nothing changed, so the same message gets the same verdict. */
		dns_judge(&ch, type, query, qlen, tcp, msg, len, &j2);
		if (j2.verdict != j.verdict || j2.rrs != NULL ||
		    strcmp(j.why, j2.why) != 0)
			abort();
		break;
	case DNS_V_FOLLOW:
		fuzz_check_chain(&ch, &was);
		if (ch.nseen == was.nseen || j.rrs != NULL ||
		    type == LDNS_RR_TYPE_CNAME)
			abort();
		break;
	case DNS_V_DONE:
		fuzz_check_chain(&ch, &was);
		switch (j.status) {
		case DNS_OK:
			fuzz_check_rrs(&j, &ch, type);
			if (j.ttl > ch.cname_ttl)
				abort();
			break;
		case DNS_NXDOMAIN:
		case DNS_NODATA:
			if (j.rrs != NULL || j.ttl > ch.cname_ttl)
				abort();
			break;
		case DNS_ERROR:
			/* Only a loop or an overlong chain ends in an error. */
			if (j.rrs != NULL || (strcmp(j.why, "cname loop") != 0 &&
			    (strcmp(j.why, "cname chain too long") != 0 ||
			    ch.nseen != DNS_CNAME_MAX + 1)))
				abort();
			break;
		default:
			abort();
		}
		break;
	default:
		abort();
	}

	if (j.rrs != NULL)
		ldns_rr_list_deep_free(j.rrs);
	for (i = 0; i < ch.nseen; i++)
		ldns_rdf_deep_free(ch.seen[i]);
	free(query);
	return (0);
}
