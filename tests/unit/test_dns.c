/*
 * test_dns.c: the stub resolver against scripted fake DNS servers.  The
 * servers run in the same event loop on random loopback ports (UDP and
 * TCP on one port number), answer from a small zone built with ldns, and
 * misbehave on request: wrong ids, answers for other questions, garbage,
 * truncation, error rcodes, silence.  They record what they were sent.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns.h"
#include "log.h"
#include "util.h"

#include "tap.h"

#define FAKE_SEEN	64	/* queries a fake remembers */
#define MSG_MAX		65535
#define RR_STR_MAX	8192
#define BIG_RRS		100	/* TXT records at big.ex: > DNS_EDNS_BUFSIZE */

/* What a fake server does (flags). */
#define F_SILENT	0x000001	/* reads queries, never answers */
#define F_SERVFAIL	0x000002
#define F_REFUSED	0x000004
#define F_WRONGID	0x000008	/* first: the answer with another id */
#define F_OTHERNAME	0x000010	/* first: an answer for other.ex */
#define F_OTHERTYPE	0x000020	/* first: the question with another type */
#define F_GARBAGE	0x000040	/* first: random bytes */
#define F_SHORT		0x000080	/* first: 7 bytes of the answer */
#define F_NOQR		0x000100	/* first: the query echoed (QR clear) */
#define F_EVIL		0x000200	/* first: our id and QR, garbage after */
#define F_ONLY		0x000400	/* only the decoys, never the answer */
#define F_TC		0x000800	/* UDP answers truncated */
#define F_NOTCP		0x001000	/* no TCP listener */
#define F_TCPJUNK	0x002000	/* TCP: first a message with another id */
#define F_NOCHASE	0x004000	/* a CNAME answer stops at the CNAME */
#define F_AD		0x008000
#define F_MALFORMED	0x010000	/* our header and question, body cut */
#define F_UPPER		0x020000	/* question name uppercased */
#define F_NOSOA		0x040000	/* negative answers without SOA */
#define F_SOA30		0x080000	/* SOA TTL 30 (its minimum is 60) */
#define F_TCPTC		0x100000	/* TCP answers have TC set too */
#define F_V6		0x200000	/* listen on ::1 */

struct fake {
	int		 flags;
	int		 udp;
	int		 tcp;
	int		 port;
	char		 addr[64];
	struct event	*ev_udp;
	struct event	*ev_tcp;
	int		 nudp;
	int		 ntcp;
	int		 saw_do;
	int		 saw_rd;
	int		 saw_ad;
	int		 bufsize;
	int		 ports[FAKE_SEEN];
	int		 ids[FAKE_SEEN];
	char		 names[FAKE_SEEN][256];
};

struct fconn {
	struct fake	*f;
	int		 fd;
	struct event	*ev;
	uint8_t		 buf[2 + MSG_MAX];
	size_t		 len;
};

/* Where a fake sends its reply. */
struct fdest {
	int			 tcp;
	int			 fd;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
};

struct result {
	int		 called;
	int		 sync;		/* called inside dns_lookup */
	enum dns_status	 status;
	char		 final_name[300];
	char		 qname[300];
	int		 qtype;
	char		 rrs[RR_STR_MAX];
	int		 nrrs;
	int		 rdcount0;
	int		 owners_ok;
	uint32_t	 ttl;
	int		 ad;
	int		 cnames;
	char		 server[80];
	char		 error[200];
	uint64_t	 at;
	/* what the callback does besides recording */
	struct dns_query	*cancel;
	struct dns_client	*free_client;
	int		 cancel_self;
	struct dns_query	*self;
};

static struct event_base	*base;
static ldns_rr_list		*zone;
static int			 in_lookup;
static int			 sync_calls;

/* Load the fake servers' zone. */
static void
zone_load(void)
{
	static const char *text[] = {
		"ex. 300 IN SOA ns.ex. host.ex. 1 3600 600 86400 60",
		"_mta-sts.ex. 300 IN TXT \"v=STSv1;\" \"id=20240101\"",
		"a.ex. 100 IN A 192.0.2.1",
		"a.ex. 200 IN A 192.0.2.2",
		"a.ex. 300 IN AAAA 2001:db8::1",
		"alias.ex. 50 IN CNAME _mta-sts.ex.",
		"two.ex. 400 IN CNAME alias.ex.",
		"dangling.ex. 40 IN CNAME gone.ex.",
		"loop1.ex. 300 IN CNAME loop2.ex.",
		"loop2.ex. 300 IN CNAME loop1.ex.",
		"self.ex. 300 IN CNAME self.ex.",
		"tcp.ex. 300 IN TXT \"over tcp\"",
		"other.ex. 300 IN TXT \"v=STSv1; id=other\"",
		"c50.ex. 70 IN TXT \"deep\"",
		NULL
	};
	char		 buf[256];
	ldns_rr		*rr;
	int		 i;

	zone = ldns_rr_list_new();
	for (i = 0; text[i] != NULL; i++) {
		if (ldns_rr_new_frm_str(&rr, text[i], 0, NULL, NULL) !=
		    LDNS_STATUS_OK)
			fatalx("zone: %s", text[i]);
		ldns_rr_list_push_rr(zone, rr);
	}
	/* c0 -> c1 -> ... -> c50, TTLs 1000+i. */
	for (i = 0; i < 50; i++) {
		snprintf(buf, sizeof buf, "c%d.ex. %d IN CNAME c%d.ex.", i,
		    1000 + i, i + 1);
		if (ldns_rr_new_frm_str(&rr, buf, 0, NULL, NULL) !=
		    LDNS_STATUS_OK)
			fatalx("zone: %s", buf);
		ldns_rr_list_push_rr(zone, rr);
	}
	for (i = 0; i < BIG_RRS; i++) {
		snprintf(buf, sizeof buf, "big.ex. 300 IN TXT \"record %03d "
		    "padding padding padding padding padding\"", i);
		if (ldns_rr_new_frm_str(&rr, buf, 0, NULL, NULL) !=
		    LDNS_STATUS_OK)
			fatalx("zone: %s", buf);
		ldns_rr_list_push_rr(zone, rr);
	}
}

/* Does the answer section already hold a record owned by name? */
static int
fake_in_answer(ldns_pkt *r, const ldns_rdf *name)
{
	ldns_rr_list	*ans = ldns_pkt_answer(r);
	size_t		 i;

	for (i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		if (ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(ans, i)),
		    name) == 0)
			return (1);
	}
	return (0);
}

/* Answer like a recursive resolver would, from the zone. */
static void
fake_resolve(struct fake *f, ldns_pkt *r, const ldns_rdf *qname, int qtype)
{
	const ldns_rdf	*name = qname;
	ldns_rr		*rr, *cname, *soa = NULL;
	size_t		 i;
	int		 hops, found, exists;

	for (hops = 0; hops < 64; hops++) {
		found = exists = 0;
		cname = NULL;
		for (i = 0; i < ldns_rr_list_rr_count(zone); i++) {
			rr = ldns_rr_list_rr(zone, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
				soa = rr;
			if (ldns_dname_compare(ldns_rr_owner(rr), name) != 0)
				continue;
			exists = 1;
			if ((int)ldns_rr_get_type(rr) == qtype) {
				ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER,
				    ldns_rr_clone(rr));
				found = 1;
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME)
				cname = rr;
		}
		if (found)
			return;
		if (cname != NULL && qtype != LDNS_RR_TYPE_CNAME) {
			if (fake_in_answer(r, name))
				return;		/* a loop: stop like a resolver */
			ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER,
			    ldns_rr_clone(cname));
			if (f->flags & F_NOCHASE)
				return;
			name = ldns_rr_rdf(cname, 0);
			continue;
		}
		if (!exists)
			ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
		if (soa != NULL && !(f->flags & F_NOSOA)) {
			rr = ldns_rr_clone(soa);
			if (f->flags & F_SOA30)
				ldns_rr_set_ttl(rr, 30);
			ldns_pkt_push_rr(r, LDNS_SECTION_AUTHORITY, rr);
		}
		return;
	}
}

/* A response skeleton to query: id, flags, a copy of the question. */
static ldns_pkt *
fake_response(struct fake *f, const ldns_pkt *query)
{
	ldns_pkt	*r;
	ldns_rr		*qrr;
	char		*s;
	size_t		 i;

	r = ldns_pkt_new();
	ldns_pkt_set_id(r, ldns_pkt_id(query));
	ldns_pkt_set_qr(r, 1);
	ldns_pkt_set_rd(r, ldns_pkt_rd(query));
	ldns_pkt_set_ra(r, 1);
	qrr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(query), 0));
	if (f->flags & F_UPPER) {
		s = ldns_rdf2str(ldns_rr_owner(qrr));
		for (i = 0; s[i] != '\0'; i++)
			s[i] = (char)toupper((unsigned char)s[i]);
		ldns_rdf_deep_free(ldns_rr_owner(qrr));
		ldns_rr_set_owner(qrr, ldns_dname_new_frm_str(s));
		free(s);
	}
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, qrr);
	if (ldns_pkt_edns(query))
		ldns_pkt_set_edns_udp_size(r, DNS_EDNS_BUFSIZE);
	return (r);
}

/* Send one message to dest (length-framed over TCP). */
static void
fake_send(const struct fdest *d, const uint8_t *buf, size_t len)
{
	uint8_t	 hdr[2];

	if (d->tcp) {
		hdr[0] = (uint8_t)(len >> 8);
		hdr[1] = (uint8_t)len;
		if (write(d->fd, hdr, 2) != 2 ||
		    write(d->fd, buf, len) != (ssize_t)len)
			printf("# fake: tcp write failed\n");
		return;
	}
	if (sendto(d->fd, buf, len, 0, (const struct sockaddr *)&d->ss,
	    d->sslen) != (ssize_t)len)
		printf("# fake: sendto: %s\n", strerror(errno));
}

/* Send pkt as wire; id_delta shifts the id. */
static void
fake_send_pkt(const struct fdest *d, ldns_pkt *pkt, int id_delta)
{
	uint8_t	*wire;
	size_t	 len;

	ldns_pkt_set_id(pkt, (uint16_t)(ldns_pkt_id(pkt) + id_delta));
	if (ldns_pkt2wire(&wire, pkt, &len) != LDNS_STATUS_OK)
		fatalx("fake: pkt2wire");
	ldns_pkt_set_id(pkt, (uint16_t)(ldns_pkt_id(pkt) - id_delta));
	fake_send(d, wire, len);
	free(wire);
}

/* The decoys sent before (or instead of) the answer, over UDP. */
static void
fake_decoys(struct fake *f, const struct fdest *d, const uint8_t *qbuf,
    size_t qlen, ldns_pkt *query, const uint8_t *wire, size_t wlen)
{
	ldns_pkt	*p;
	ldns_rr		*rr;
	uint8_t		 junk[48];
	size_t		 i;

	if (f->flags & F_WRONGID) {
		p = fake_response(f, query);
		fake_resolve(f, p, ldns_rr_owner(ldns_rr_list_rr(
		    ldns_pkt_question(p), 0)), ldns_rr_get_type(
		    ldns_rr_list_rr(ldns_pkt_question(p), 0)));
		fake_send_pkt(d, p, 1);
		ldns_pkt_free(p);
	}
	if (f->flags & F_OTHERNAME) {
		p = ldns_pkt_new();
		ldns_pkt_set_id(p, ldns_pkt_id(query));
		ldns_pkt_set_qr(p, 1);
		ldns_rr_new_question_frm_str(&rr, "other.ex. IN TXT", NULL,
		    NULL);
		ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, rr);
		fake_resolve(f, p, ldns_rr_owner(rr), LDNS_RR_TYPE_TXT);
		fake_send_pkt(d, p, 0);
		ldns_pkt_free(p);
	}
	if (f->flags & F_OTHERTYPE) {
		p = fake_response(f, query);
		rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
		ldns_rr_set_type(rr, ldns_rr_get_type(rr) == LDNS_RR_TYPE_A ?
		    LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A);
		fake_resolve(f, p, ldns_rr_owner(rr), ldns_rr_get_type(rr));
		fake_send_pkt(d, p, 0);
		ldns_pkt_free(p);
	}
	if (f->flags & F_GARBAGE) {
		for (i = 0; i < sizeof junk; i++)
			junk[i] = (uint8_t)util_random(256);
		fake_send(d, junk, sizeof junk);
	}
	if (f->flags & F_SHORT)
		fake_send(d, wire, 7);
	if (f->flags & F_NOQR)
		fake_send(d, qbuf, qlen);
	if (f->flags & F_EVIL) {
		memcpy(junk, wire, 12);
		for (i = 12; i < sizeof junk; i++)
			junk[i] = (uint8_t)util_random(256);
		fake_send(d, junk, sizeof junk);
	}
	if (f->flags & F_MALFORMED) {
		/* Header and question intact, the answer RR cut short. */
		fake_send(d, wire, wlen - 3);
	}
}

/* Handle one query; answer to d as the flags say. */
static void
fake_handle(struct fake *f, const uint8_t *buf, size_t len,
    const struct fdest *d, int port)
{
	ldns_pkt	*query, *r, *t;
	ldns_rr		*qrr, *rr;
	uint8_t		*wire;
	size_t		 wlen, limit;
	int		 n;
	char		*name;

	if (ldns_wire2pkt(&query, buf, len) != LDNS_STATUS_OK)
		return;
	qrr = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	n = f->nudp + f->ntcp;
	if (d->tcp)
		f->ntcp++;
	else
		f->nudp++;
	name = ldns_rdf2str(ldns_rr_owner(qrr));
	if (n < FAKE_SEEN) {
		f->ports[n] = port;
		f->ids[n] = ldns_pkt_id(query);
		snprintf(f->names[n], sizeof f->names[n], "%s", name);
	}
	f->saw_do = ldns_pkt_edns_do(query);
	f->saw_rd = ldns_pkt_rd(query);
	f->saw_ad = ldns_pkt_ad(query);
	f->bufsize = ldns_pkt_edns_udp_size(query);
	if ((f->flags & F_SILENT) || strncmp(name, "silent.", 7) == 0) {
		free(name);
		ldns_pkt_free(query);
		return;
	}
	free(name);

	r = fake_response(f, query);
	if (f->flags & F_SERVFAIL)
		ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
	else if (f->flags & F_REFUSED)
		ldns_pkt_set_rcode(r, LDNS_RCODE_REFUSED);
	else
		fake_resolve(f, r, ldns_rr_owner(qrr), ldns_rr_get_type(qrr));
	if (f->flags & F_AD)
		ldns_pkt_set_ad(r, 1);
	if (d->tcp && (f->flags & F_TCPTC))
		ldns_pkt_set_tc(r, 1);
	if (ldns_pkt2wire(&wire, r, &wlen) != LDNS_STATUS_OK)
		fatalx("fake: pkt2wire");

	limit = ldns_pkt_edns(query) ? ldns_pkt_edns_udp_size(query) : 512;
	if (!d->tcp && ((f->flags & F_TC) || wlen > limit)) {
		/* Truncated: a decoy record the client must not use. */
		free(wire);
		t = fake_response(f, query);
		ldns_pkt_set_tc(t, 1);
		ldns_rr_new_frm_str(&rr, "x. 300 IN TXT \"truncated\"", 0,
		    NULL, NULL);
		ldns_rdf_deep_free(ldns_rr_owner(rr));
		ldns_rr_set_owner(rr, ldns_rdf_clone(ldns_rr_owner(qrr)));
		ldns_pkt_push_rr(t, LDNS_SECTION_ANSWER, rr);
		if (ldns_pkt2wire(&wire, t, &wlen) != LDNS_STATUS_OK)
			fatalx("fake: pkt2wire");
		ldns_pkt_free(t);
	}
	if (!d->tcp)
		fake_decoys(f, d, buf, len, query, wire, wlen);
	if (d->tcp && (f->flags & F_TCPJUNK))
		fake_send_pkt(d, r, 7);
	if (!(f->flags & (F_ONLY | F_MALFORMED)))
		fake_send(d, wire, wlen);
	free(wire);
	ldns_pkt_free(r);
	ldns_pkt_free(query);
}

static int
fake_port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)ss)->sin_port));
	return (ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
}

static void
fake_udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake	*f = arg;
	struct fdest	 d;
	uint8_t		 buf[MSG_MAX];
	ssize_t		 n;

	memset(&d, 0, sizeof d);
	d.fd = fd;
	d.sslen = sizeof d.ss;
	n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&d.ss,
	    &d.sslen);
	if (n <= 0)
		return;
	fake_handle(f, buf, (size_t)n, &d, fake_port_of(&d.ss));
}

static void
fake_conn_free(struct fconn *c)
{
	event_free(c->ev);
	close(c->fd);
	free(c);
}

/* Read length-framed queries on one TCP connection. */
static void
fake_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fconn	*c = arg;
	struct fdest	 d;
	ssize_t		 n;
	size_t		 mlen;

	n = read(fd, c->buf + c->len, sizeof c->buf - c->len);
	if (n <= 0) {
		fake_conn_free(c);
		return;
	}
	c->len += (size_t)n;
	while (c->len >= 2) {
		mlen = ((size_t)c->buf[0] << 8) | c->buf[1];
		if (c->len < 2 + mlen)
			break;
		memset(&d, 0, sizeof d);
		d.tcp = 1;
		d.fd = fd;
		fake_handle(c->f, c->buf + 2, mlen, &d, 0);
		memmove(c->buf, c->buf + 2 + mlen, c->len - 2 - mlen);
		c->len -= 2 + mlen;
	}
}

static void
fake_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fconn	*c;
	int		 s;

	if ((s = accept(fd, NULL, NULL)) == -1)
		return;
	c = xcalloc(1, sizeof *c);
	c->f = arg;
	c->fd = s;
	c->ev = event_new(base, s, EV_READ | EV_PERSIST, fake_conn_cb, c);
	event_add(c->ev, NULL);
}

/* Bind a UDP (and unless F_NOTCP a TCP) socket on one random port. */
static struct fake *
fake_new(int flags)
{
	struct fake		*f;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 tries, af, one = 1;

	f = xcalloc(1, sizeof *f);
	f->flags = flags;
	af = (flags & F_V6) ? AF_INET6 : AF_INET;
	for (tries = 0; tries < 50; tries++) {
		memset(&ss, 0, sizeof ss);
		if (af == AF_INET) {
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			len = sizeof *sin;
		} else {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = in6addr_loopback;
			len = sizeof *sin6;
		}
		if ((f->udp = socket(af, SOCK_DGRAM, 0)) == -1 ||
		    bind(f->udp, (struct sockaddr *)&ss, len) == -1 ||
		    getsockname(f->udp, (struct sockaddr *)&ss, &len) == -1) {
			if (f->udp != -1)
				close(f->udp);
			free(f);
			return (NULL);
		}
		f->port = fake_port_of(&ss);
		f->tcp = -1;
		if (flags & F_NOTCP)
			break;
		f->tcp = socket(af, SOCK_STREAM, 0);
		setsockopt(f->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(f->tcp, (struct sockaddr *)&ss, len) == 0 &&
		    listen(f->tcp, 8) == 0)
			break;
		close(f->tcp);
		close(f->udp);
	}
	if (af == AF_INET)
		snprintf(f->addr, sizeof f->addr, "127.0.0.1@%d", f->port);
	else
		snprintf(f->addr, sizeof f->addr, "[::1]:%d", f->port);
	f->ev_udp = event_new(base, f->udp, EV_READ | EV_PERSIST,
	    fake_udp_cb, f);
	event_add(f->ev_udp, NULL);
	if (f->tcp != -1) {
		f->ev_tcp = event_new(base, f->tcp, EV_READ | EV_PERSIST,
		    fake_accept_cb, f);
		event_add(f->ev_tcp, NULL);
	}
	return (f);
}

static void
fake_free(struct fake *f)
{
	if (f == NULL)
		return;
	event_free(f->ev_udp);
	close(f->udp);
	if (f->ev_tcp != NULL) {
		event_free(f->ev_tcp);
		close(f->tcp);
	}
	free(f);
}

/* A client for the given fakes (NULL entries skipped). */
static struct dns_client *
client_for(struct fake **f, int n, int timeout_ms, int tries, int dnssec)
{
	struct dns_config	 cfg;
	struct dns_client	*c;
	int			 i;

	memset(&cfg, 0, sizeof cfg);
	for (i = 0; i < n; i++) {
		if (f[i] != NULL && dns_config_add(&cfg, f[i]->addr) != 0)
			fatalx("dns_config_add %s", f[i]->addr);
	}
	cfg.timeout_ms = timeout_ms;
	cfg.tries = tries;
	cfg.dnssec_ok = dnssec;
	c = dns_client_new(base, &cfg);
	dns_config_clear(&cfg);		/* the client keeps its own copy */
	return (c);
}

/* Record an answer; then cancel or free what the test asked for. */
static void
test_cb(const struct dns_answer *a, void *arg)
{
	struct result	*r = arg;
	ldns_rr		*rr;
	char		*s;
	size_t		 i, j, len;

	r->called++;
	if (in_lookup) {
		r->sync = 1;
		sync_calls++;
	}
	r->at = util_mono_ms();
	r->status = a->status;
	snprintf(r->qname, sizeof r->qname, "%s", a->qname);
	snprintf(r->final_name, sizeof r->final_name, "%s", a->final_name);
	r->qtype = a->qtype;
	r->ttl = a->ttl;
	r->ad = a->ad;
	r->cnames = a->cnames;
	snprintf(r->server, sizeof r->server, "%s",
	    a->server != NULL ? a->server : "(none)");
	snprintf(r->error, sizeof r->error, "%s",
	    a->error != NULL ? a->error : "(none)");
	r->nrrs = (int)ldns_rr_list_rr_count(a->rrs);
	r->rrs[0] = '\0';
	r->owners_ok = 1;
	for (i = 0; i < ldns_rr_list_rr_count(a->rrs); i++) {
		rr = ldns_rr_list_rr(a->rrs, i);
		if (i == 0)
			r->rdcount0 = (int)ldns_rr_rd_count(rr);
		if ((int)ldns_rr_get_type(rr) != a->qtype)
			r->owners_ok = 0;
		len = strlen(r->rrs);
		s = ldns_rdf2str(ldns_rr_owner(rr));
		snprintf(r->rrs + len, sizeof r->rrs - len, "%s%s", i ? "|" :
		    "", s);
		free(s);
		for (j = 0; j < ldns_rr_rd_count(rr); j++) {
			len = strlen(r->rrs);
			s = ldns_rdf2str(ldns_rr_rdf(rr, j));
			snprintf(r->rrs + len, sizeof r->rrs - len, " %s", s);
			free(s);
		}
	}
	if (r->cancel_self)
		dns_cancel(r->self);
	if (r->cancel != NULL)
		dns_cancel(r->cancel);
	if (r->free_client != NULL)
		dns_client_free(r->free_client);
}

static struct dns_query *
lookup(struct dns_client *c, const char *name, int type, struct result *r)
{
	struct dns_query	*q;

	in_lookup = 1;
	q = dns_lookup(c, name, type, test_cb, r);
	in_lookup = 0;
	return (q);
}

static void
run_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

/* Run the loop until *flag is set or ms have passed. */
static void
run_until(int *flag, int ms)
{
	struct event	*ev;
	struct timeval	 tv;
	int		 expired = 0;

	ev = evtimer_new(base, run_deadline_cb, &expired);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
	while ((flag == NULL || !*flag) && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(ev);
}

static void
run_for(int ms)
{
	run_until(NULL, ms);
}

/* The scripted cases: one query against one or two fakes. */
struct acase {
	const char	*id;
	const char	*qname;
	int		 qtype;
	int		 nserv;
	int		 flags[2];
	int		 tries;
	int		 timeout_ms;
	int		 dnssec;
	enum dns_status	 status;
	const char	*rrs;		/* NULL: not checked */
	int		 nrrs;
	long		 ttl;
	int		 cnames;
	const char	*final;
	int		 server;	/* index of the answering fake */
	int		 ad;
	int		 q0, q1;	/* UDP queries seen by each fake */
	int		 tcp0;		/* TCP queries seen by fake 0 */
	const char	*error;		/* substring of the error text */
};

#define TXT_RR	"_mta-sts.ex. \"v=STSv1;\" \"id=20240101\""
#define TXT	LDNS_RR_TYPE_TXT
#define A	LDNS_RR_TYPE_A

static const struct acase acases[] = {
	{ "TXT multi-string (A5)", "_mta-sts.ex", TXT, 1, { 0, 0 }, 1, 300, 0,
	  DNS_OK, TXT_RR, 1, 300, 0, "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "TXT, name with final dot", "_mta-sts.ex.", TXT, 1, { 0, 0 }, 1, 300, 0,
	  DNS_OK, TXT_RR, 1, 300, 0, "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "two A records, min TTL", "a.ex", A, 1, { 0, 0 }, 1, 300, 0,
	  DNS_OK, "a.ex. 192.0.2.1|a.ex. 192.0.2.2", 2, 100, 0, "a.ex", 0, 0,
	  1, 0, 0, NULL },
	{ "AAAA", "a.ex", LDNS_RR_TYPE_AAAA, 1, { 0, 0 }, 1, 300, 0,
	  DNS_OK, "a.ex. 2001:db8::1", 1, 300, 0, "a.ex", 0, 0, 1, 0, 0, NULL },
	{ "NXDOMAIN with SOA (A12)", "nope.ex", TXT, 1, { 0, 0 }, 1, 300, 0,
	  DNS_NXDOMAIN, "", 0, 60, 0, "nope.ex", 0, 0, 1, 0, 0,
	  "does not exist" },
	{ "NODATA with SOA (A12)", "a.ex", LDNS_RR_TYPE_MX, 1, { 0, 0 }, 1, 300,
	  0, DNS_NODATA, "", 0, 60, 0, "a.ex", 0, 0, 1, 0, 0, "no MX" },
	{ "NODATA, SOA TTL below minimum", "a.ex", TXT, 1, { F_SOA30, 0 }, 1,
	  300, 0, DNS_NODATA, "", 0, 30, 0, "a.ex", 0, 0, 1, 0, 0, NULL },
	{ "NXDOMAIN without SOA: ttl 0", "nope.ex", TXT, 1, { F_NOSOA, 0 }, 1,
	  300, 0, DNS_NXDOMAIN, "", 0, 0, 0, "nope.ex", 0, 0, 1, 0, 0, NULL },
	{ "SERVFAIL then second server (F22)", "_mta-sts.ex", TXT, 2,
	  { F_SERVFAIL, 0 }, 2, 300, 0, DNS_OK, TXT_RR, 1, 300, 0,
	  "_mta-sts.ex", 1, 0, 1, 1, 0, NULL },
	{ "REFUSED then second server", "_mta-sts.ex", TXT, 2,
	  { F_REFUSED, 0 }, 1, 300, 0, DNS_OK, TXT_RR, 1, 300, 0,
	  "_mta-sts.ex", 1, 0, 1, 1, 0, NULL },
	{ "REFUSED on all: SERVFAIL, each asked once (A12)", "_mta-sts.ex", TXT,
	  2, { F_REFUSED, F_REFUSED }, 3, 300, 0, DNS_SERVFAIL, "", 0, 0, 0,
	  "_mta-sts.ex", 1, 0, 1, 1, 0, "REFUSED" },
	{ "SERVFAIL on all (F22)", "_mta-sts.ex", TXT, 2,
	  { F_SERVFAIL, F_SERVFAIL }, 2, 300, 0, DNS_SERVFAIL, "", 0, 0, 0,
	  "_mta-sts.ex", 1, 0, 1, 1, 0, "SERVFAIL" },
	{ "wrong id first, then the right one", "_mta-sts.ex", TXT, 1,
	  { F_WRONGID, 0 }, 1, 300, 0, DNS_OK, TXT_RR, 1, 300, 0,
	  "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "wrong id only: never accepted", "_mta-sts.ex", TXT, 1,
	  { F_WRONGID | F_ONLY, 0 }, 1, 150, 0, DNS_TIMEOUT, "", 0, 0, 0,
	  "_mta-sts.ex", 0, 0, 1, 0, 0, "timeout" },
	{ "answer for another name first", "_mta-sts.ex", TXT, 1,
	  { F_OTHERNAME, 0 }, 1, 300, 0, DNS_OK, TXT_RR, 1, 300, 0,
	  "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "answer for another name only: ignored", "_mta-sts.ex", TXT, 1,
	  { F_OTHERNAME | F_ONLY, 0 }, 1, 150, 0, DNS_TIMEOUT, "", 0, 0, 0,
	  "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "answer for another type only: ignored", "a.ex", A, 1,
	  { F_OTHERTYPE | F_ONLY, 0 }, 1, 150, 0, DNS_TIMEOUT, "", 0, 0, 0,
	  "a.ex", 0, 0, 1, 0, 0, NULL },
	{ "garbage bytes first", "_mta-sts.ex", TXT, 1, { F_GARBAGE, 0 }, 1,
	  300, 0, DNS_OK, TXT_RR, 1, 300, 0, "_mta-sts.ex", 0, 0, 1, 0, 0,
	  NULL },
	{ "short packet first", "_mta-sts.ex", TXT, 1, { F_SHORT, 0 }, 1, 300,
	  0, DNS_OK, TXT_RR, 1, 300, 0, "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "query echo (QR clear) only: ignored", "_mta-sts.ex", TXT, 1,
	  { F_NOQR | F_ONLY, 0 }, 1, 150, 0, DNS_TIMEOUT, "", 0, 0, 0,
	  "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "right id, garbage question first", "_mta-sts.ex", TXT, 1,
	  { F_EVIL, 0 }, 1, 300, 0, DNS_OK, TXT_RR, 1, 300, 0,
	  "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "all decoys, then the answer", "_mta-sts.ex", TXT, 1,
	  { F_WRONGID | F_OTHERNAME | F_OTHERTYPE | F_GARBAGE | F_SHORT |
	  F_NOQR | F_EVIL, 0 }, 1, 300, 0, DNS_OK, TXT_RR, 1, 300, 0,
	  "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	/* The answer's owner is compressed to the uppercased question. */
	{ "question name case differs: accepted", "_mta-sts.ex", TXT, 1,
	  { F_UPPER, 0 }, 1, 300, 0, DNS_OK,
	  "_MTA-STS.EX. \"v=STSv1;\" \"id=20240101\"", 1, 300, 0,
	  "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "malformed answer, then second server", "_mta-sts.ex", TXT, 2,
	  { F_MALFORMED, 0 }, 1, 300, 0, DNS_OK, TXT_RR, 1, 300, 0,
	  "_mta-sts.ex", 1, 0, 1, 1, 0, NULL },
	{ "malformed answers only: ERROR", "_mta-sts.ex", TXT, 1,
	  { F_MALFORMED, 0 }, 2, 300, 0, DNS_ERROR, "", 0, 0, 0,
	  "_mta-sts.ex", 0, 0, 2, 0, 0, "malformed" },
	{ "TC set: TCP answer used (A11)", "tcp.ex", TXT, 1, { F_TC, 0 }, 1,
	  300, 0, DNS_OK, "tcp.ex. \"over tcp\"", 1, 300, 0, "tcp.ex", 0, 0,
	  1, 0, 1, NULL },
	{ "answer over EDNS size: TCP (A11)", "big.ex", TXT, 1, { 0, 0 }, 1,
	  300, 0, DNS_OK, NULL, BIG_RRS, 300, 0, "big.ex", 0, 0, 1, 0, 1,
	  NULL },
	{ "TC set, TCP refused: failure", "tcp.ex", TXT, 1,
	  { F_TC | F_NOTCP, 0 }, 1, 300, 0, DNS_TIMEOUT, "", 0, 0, 0,
	  "tcp.ex", 0, 0, 1, 0, 0, "tcp connect" },
	{ "TC set, TCP refused, second server", "tcp.ex", TXT, 2,
	  { F_TC | F_NOTCP, 0 }, 1, 300, 0, DNS_OK, "tcp.ex. \"over tcp\"", 1,
	  300, 0, "tcp.ex", 1, 0, 1, 1, 0, NULL },
	{ "TCP: message with other id skipped", "tcp.ex", TXT, 1,
	  { F_TC | F_TCPJUNK, 0 }, 1, 300, 0, DNS_OK, "tcp.ex. \"over tcp\"",
	  1, 300, 0, "tcp.ex", 0, 0, 1, 0, 1, NULL },
	{ "TCP answer truncated too: ERROR", "tcp.ex", TXT, 1,
	  { F_TC | F_TCPTC, 0 }, 1, 300, 0, DNS_ERROR, "", 0, 0, 0, "tcp.ex",
	  0, 0, 1, 0, 1, "truncated" },
	{ "CNAME in the answer (F05)", "alias.ex", TXT, 1, { 0, 0 }, 1, 300, 0,
	  DNS_OK, TXT_RR, 1, 50, 1, "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "two CNAMEs in the answer", "two.ex", TXT, 1, { 0, 0 }, 1, 300, 0,
	  DNS_OK, TXT_RR, 1, 50, 2, "_mta-sts.ex", 0, 0, 1, 0, 0, NULL },
	{ "CNAME needing a follow-up query (F05)", "alias.ex", TXT, 1,
	  { F_NOCHASE, 0 }, 1, 300, 0, DNS_OK, TXT_RR, 1, 50, 1, "_mta-sts.ex",
	  0, 0, 2, 0, 0, NULL },
	{ "two CNAMEs, two follow-ups", "two.ex", TXT, 1, { F_NOCHASE, 0 }, 1,
	  300, 0, DNS_OK, TXT_RR, 1, 50, 2, "_mta-sts.ex", 0, 0, 3, 0, 0,
	  NULL },
	{ "CNAME to NXDOMAIN", "dangling.ex", TXT, 1, { 0, 0 }, 1, 300, 0,
	  DNS_NXDOMAIN, "", 0, 40, 1, "gone.ex", 0, 0, 1, 0, 0, NULL },
	{ "CNAME then NODATA (follow-up)", "alias.ex", LDNS_RR_TYPE_MX, 1,
	  { 0, 0 }, 1, 300, 0, DNS_NODATA, "", 0, 50, 1, "_mta-sts.ex", 0, 0,
	  2, 0, 0, NULL },
	{ "asking for the CNAME itself", "alias.ex", LDNS_RR_TYPE_CNAME, 1,
	  { 0, 0 }, 1, 300, 0, DNS_OK, "alias.ex. _mta-sts.ex.", 1, 50, 0,
	  "alias.ex", 0, 0, 1, 0, 0, NULL },
	{ "CNAME loop in the answer", "loop1.ex", TXT, 1, { 0, 0 }, 1, 300, 0,
	  DNS_ERROR, "", 0, 0, 1, "loop2.ex", 0, 0, 1, 0, 0, "cname loop" },
	{ "CNAME to itself", "self.ex", TXT, 1, { 0, 0 }, 1, 300, 0,
	  DNS_ERROR, "", 0, 0, 0, "self.ex", 0, 0, 1, 0, 0, "cname loop" },
	{ "CNAME loop over follow-ups", "loop1.ex", TXT, 1, { F_NOCHASE, 0 },
	  1, 300, 0, DNS_ERROR, "", 0, 0, 1, "loop2.ex", 0, 0, 2, 0, 0,
	  "cname loop" },
	{ "8 CNAMEs: the limit, accepted", "c42.ex", TXT, 1, { 0, 0 }, 1, 300,
	  0, DNS_OK, "c50.ex. \"deep\"", 1, 70, 8, "c50.ex", 0, 0, 1, 0, 0,
	  NULL },
	{ "9 CNAMEs: too long", "c41.ex", TXT, 1, { 0, 0 }, 1, 300, 0,
	  DNS_ERROR, "", 0, 0, 8, "c49.ex", 0, 0, 1, 0, 0,
	  "cname chain too long" },
	{ "50-deep chain in the answer", "c0.ex", TXT, 1, { 0, 0 }, 1, 300, 0,
	  DNS_ERROR, "", 0, 0, 8, "c8.ex", 0, 0, 1, 0, 0,
	  "cname chain too long" },
	{ "50-deep chain over follow-ups: 9 queries", "c0.ex", TXT, 1,
	  { F_NOCHASE, 0 }, 1, 300, 0, DNS_ERROR, "", 0, 0, 8, "c8.ex", 0, 0,
	  9, 0, 0, "cname chain too long" },
	{ "AD flag", "_mta-sts.ex", TXT, 1, { F_AD, 0 }, 1, 300, 0, DNS_OK,
	  TXT_RR, 1, 300, 0, "_mta-sts.ex", 0, 1, 1, 0, 0, NULL },
	{ "AD flag with dnssec_ok (DO bit)", "_mta-sts.ex", TXT, 1,
	  { F_AD, 0 }, 1, 300, 1, DNS_OK, TXT_RR, 1, 300, 0, "_mta-sts.ex",
	  0, 1, 1, 0, 0, NULL },
	{ "AD flag on NXDOMAIN", "nope.ex", TXT, 1, { F_AD, 0 }, 1, 300, 0,
	  DNS_NXDOMAIN, "", 0, 60, 0, "nope.ex", 0, 1, 1, 0, 0, NULL },
	{ "invalid name: ERROR, nothing sent", "a..b", TXT, 1, { 0, 0 }, 1,
	  300, 0, DNS_ERROR, "", 0, 0, 0, "a..b", -1, 0, 0, 0, 0,
	  "invalid name" },
};

/* Run one scripted case and check every field of the answer. */
static void
run_case(const struct acase *c)
{
	struct fake		*f[2] = { NULL, NULL };
	struct dns_client	*client;
	struct result		 r;
	int			 i;
	char			 want_server[80];

	for (i = 0; i < c->nserv; i++)
		if ((f[i] = fake_new(c->flags[i])) == NULL)
			fatalx("fake_new");
	client = client_for(f, c->nserv, c->timeout_ms, c->tries, c->dnssec);
	memset(&r, 0, sizeof r);
	lookup(client, c->qname, c->qtype, &r);
	run_until(&r.called, 5000);
	run_for(20);		/* a second callback would show here */

	is_int(r.called, 1, "%s: callback ran once", c->id);
	is_str(dns_status_name(r.status), dns_status_name(c->status),
	    "%s: status", c->id);
	if (c->rrs != NULL)
		is_str(r.rrs, c->rrs, "%s: records", c->id);
	is_int(r.nrrs, c->nrrs, "%s: record count", c->id);
	is_int(r.ttl, c->ttl, "%s: ttl", c->id);
	is_int(r.cnames, c->cnames, "%s: cnames followed", c->id);
	is_str(r.final_name, c->final, "%s: final name", c->id);
	is_str(r.qname, c->qname, "%s: qname", c->id);
	if (c->server >= 0)
		snprintf(want_server, sizeof want_server, "%s",
		    f[c->server]->addr);
	else
		snprintf(want_server, sizeof want_server, "(none)");
	is_str(r.server, want_server, "%s: server", c->id);
	is_int(r.ad, c->ad, "%s: ad", c->id);
	is_int(f[0]->nudp, c->q0, "%s: udp queries at server 1", c->id);
	if (c->nserv > 1)
		is_int(f[1]->nudp, c->q1, "%s: udp queries at server 2", c->id);
	is_int(f[0]->ntcp, c->tcp0, "%s: tcp queries at server 1", c->id);
	if (c->status == DNS_OK)
		ok(r.owners_ok && r.error[0] == '(', "%s: rrs of qtype, no error",
		    c->id);
	else
		ok(c->error == NULL || strstr(r.error, c->error) != NULL,
		    "%s: error \"%s\" mentions \"%s\"", c->id, r.error,
		    c->error ? c->error : "");
	if (f[0]->nudp > 0) {
		is_int(f[0]->saw_do, c->dnssec, "%s: DO bit", c->id);
		is_int(f[0]->bufsize, DNS_EDNS_BUFSIZE, "%s: EDNS0 size",
		    c->id);
		is_int(f[0]->saw_rd, 1, "%s: RD set", c->id);
		is_int(f[0]->saw_ad, c->dnssec, "%s: AD asked iff dnssec_ok",
		    c->id);
	}
	if (c->status == DNS_OK && c->rrs == NULL && c->nrrs == BIG_RRS)
		ok(strstr(r.rrs, "\"record 099 padding") != NULL,
		    "%s: last record present", c->id);

	dns_client_free(client);
	for (i = 0; i < c->nserv; i++)
		fake_free(f[i]);
}

/* No answer anywhere: TIMEOUT after timeout x tries x servers (F22). */
static void
test_timeout(void)
{
	struct fake		*f[2];
	struct dns_client	*c;
	struct result		 r;
	uint64_t		 t0, el;
	int			 i, j, distinct = 1, sameid = 1;

	f[0] = fake_new(F_SILENT);
	f[1] = fake_new(F_SILENT);
	c = client_for(f, 2, 100, 2, 0);
	memset(&r, 0, sizeof r);
	t0 = util_mono_ms();
	lookup(c, "_mta-sts.ex", TXT, &r);
	run_until(&r.called, 3000);
	el = r.at - t0;
	is_str(dns_status_name(r.status), "TIMEOUT", "timeout: status");
	ok(el >= 395 && el < 1000, "timeout: elapsed %llu ms in [400, 1000) for "
	    "100 ms x 2 tries x 2 servers", (unsigned long long)el);
	is_int(f[0]->nudp, 2, "timeout: server 1 asked twice");
	is_int(f[1]->nudp, 2, "timeout: server 2 asked twice");
	/* Order of tries: 1, 2, 1, 2; each from a new socket (port). */
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 2; j++) {
			if (f[0]->ports[i] == f[1]->ports[j])
				distinct = 0;
		}
	}
	if (f[0]->ports[0] == f[0]->ports[1] ||
	    f[1]->ports[0] == f[1]->ports[1])
		distinct = 0;
	ok(distinct, "timeout: every try from a new source port");
	if (f[0]->ids[0] != f[0]->ids[1] || f[0]->ids[0] != f[1]->ids[0] ||
	    f[0]->ids[0] != f[1]->ids[1])
		sameid = 0;
	ok(!sameid, "timeout: query ids vary");
	ok(strstr(r.error, "timeout") != NULL, "timeout: error \"%s\"",
	    r.error);
	dns_client_free(c);
	fake_free(f[0]);
	fake_free(f[1]);
}

/* A closed port answers with ICMP: the next server is asked at once. */
static void
test_port_unreachable(void)
{
	struct fake		*f[2];
	struct dns_client	*c;
	struct result		 r;
	uint64_t		 t0;
	char			 closed[64];

	f[0] = fake_new(F_NOTCP);
	f[1] = fake_new(0);
	snprintf(closed, sizeof closed, "%s", f[0]->addr);
	event_free(f[0]->ev_udp);
	close(f[0]->udp);
	f[0]->ev_udp = NULL;
	c = client_for(f, 2, 2000, 1, 0);
	memset(&r, 0, sizeof r);
	t0 = util_mono_ms();
	lookup(c, "_mta-sts.ex", TXT, &r);
	run_until(&r.called, 5000);
	is_str(dns_status_name(r.status), "OK", "closed port: status");
	is_str(r.server, f[1]->addr, "closed port: second server answered");
	ok(r.at - t0 < 1000, "closed port: no wait for the 2 s timeout (%llu ms)",
	    (unsigned long long)(r.at - t0));
	dns_client_free(c);
	free(f[0]);
	fake_free(f[1]);
}

/* An IPv6 server given as "[::1]:port". */
static void
test_ipv6(void)
{
	struct fake		*f[1];
	struct dns_client	*c;
	struct result		 r;

	if ((f[0] = fake_new(F_V6)) == NULL) {
		ok(1, "ipv6: # SKIP no ::1");
		return;
	}
	c = client_for(f, 1, 500, 1, 0);
	memset(&r, 0, sizeof r);
	lookup(c, "a.ex", LDNS_RR_TYPE_AAAA, &r);
	run_until(&r.called, 3000);
	is_str(r.rrs, "a.ex. 2001:db8::1", "ipv6: AAAA over [::1]:port");
	dns_client_free(c);
	fake_free(f[0]);
}

/* Cancel right after dns_lookup: the callback never runs. */
static void
test_cancel(void)
{
	struct fake		*f[1];
	struct dns_client	*c;
	struct result		 r, r2, r3;
	struct dns_query	*q;

	f[0] = fake_new(0);
	c = client_for(f, 1, 100, 1, 0);

	memset(&r, 0, sizeof r);
	q = lookup(c, "_mta-sts.ex", TXT, &r);
	dns_cancel(q);
	run_for(300);
	is_int(r.called, 0, "cancel before answer: callback never runs");
	is_int(f[0]->nudp, 1, "cancel before answer: the server answered");

	/* Finished (invalid name) but not yet delivered. */
	memset(&r, 0, sizeof r);
	q = lookup(c, "a..b", TXT, &r);
	dns_cancel(q);
	run_for(50);
	is_int(r.called, 0, "cancel a finished, undelivered query");

	/* Two answers due in one loop pass: the first cancels the second. */
	memset(&r, 0, sizeof r);
	memset(&r2, 0, sizeof r2);
	lookup(c, "d..e", TXT, &r);
	r.cancel = lookup(c, "f..g", TXT, &r2);
	run_for(50);
	is_int(r.called, 1, "cancel in callback: first callback ran");
	is_int(r2.called, 0, "cancel in callback: second never runs");

	/* A real answer cancels a query still waiting on the network. */
	memset(&r, 0, sizeof r);
	memset(&r2, 0, sizeof r2);
	r.cancel = lookup(c, "silent.ex", TXT, &r2);
	lookup(c, "_mta-sts.ex", TXT, &r);
	run_for(400);
	is_int(r.called, 1, "cancel pending from callback: first ran");
	is_str(dns_status_name(r.status), "OK", "cancel pending from callback: "
	    "first answered");
	is_int(r2.called, 0, "cancel pending from callback: second never runs");

	/* Cancelling itself inside its callback is harmless. */
	memset(&r3, 0, sizeof r3);
	r3.cancel_self = 1;
	r3.self = lookup(c, "_mta-sts.ex", TXT, &r3);
	run_until(&r3.called, 2000);
	run_for(20);
	is_int(r3.called, 1, "cancel self in callback: ran exactly once");

	dns_client_free(c);
	fake_free(f[0]);
}

/* dns_client_free from inside a callback and with queries pending. */
static void
test_free(void)
{
	struct fake		*f[1];
	struct dns_client	*c;
	struct result		 r, r2, r3;

	f[0] = fake_new(0);
	c = client_for(f, 1, 100, 1, 0);
	memset(&r, 0, sizeof r);
	memset(&r2, 0, sizeof r2);
	memset(&r3, 0, sizeof r3);
	r.free_client = c;
	lookup(c, "x..y", TXT, &r);		/* delivered first */
	lookup(c, "z..w", TXT, &r2);		/* due in the same pass */
	lookup(c, "silent.ex", TXT, &r3);	/* waiting on the network */
	run_for(300);
	is_int(r.called, 1, "free in callback: the callback ran");
	is_int(r2.called + r3.called, 0, "free in callback: no other callback");

	c = client_for(f, 1, 100, 1, 0);
	memset(&r, 0, sizeof r);
	lookup(c, "_mta-sts.ex", TXT, &r);
	lookup(c, "a..b", TXT, &r);
	dns_client_free(c);
	run_for(200);
	is_int(r.called, 0, "free with queries pending: no callback");
	dns_client_free(NULL);
	fake_free(f[0]);
}

/* No servers, a new lookup from a callback, many queries at once. */
static void
test_misc(void)
{
	struct fake		*f[1];
	struct dns_client	*c;
	struct dns_config	 cfg;
	struct result		 r, rs[20];
	static const char	*names[] = { "_mta-sts.ex", "a.ex", "nope.ex",
				    "alias.ex" };
	static const int	 want[] = { DNS_OK, DNS_NODATA, DNS_NXDOMAIN,
				    DNS_OK };
	int			 i, good = 0, calls = 0, done = 0;

	memset(&cfg, 0, sizeof cfg);
	c = dns_client_new(base, &cfg);
	memset(&r, 0, sizeof r);
	lookup(c, "_mta-sts.ex", TXT, &r);
	is_int(r.called, 0, "no servers: not called inside dns_lookup");
	run_until(&r.called, 1000);
	is_str(dns_status_name(r.status), "ERROR", "no servers: ERROR");
	ok(strstr(r.error, "no servers") != NULL, "no servers: error \"%s\"",
	    r.error);
	dns_client_free(c);

	/* 20 queries in flight on one client: each gets its own answer. */
	f[0] = fake_new(0);
	c = client_for(f, 1, 1000, 1, 0);
	memset(rs, 0, sizeof rs);
	for (i = 0; i < 20; i++)
		lookup(c, names[i % 4], TXT, &rs[i]);
	while (done < 20) {
		run_for(10);
		for (done = 0, i = 0; i < 20; i++)
			done += rs[i].called > 0;
		if (++calls > 300)
			break;
	}
	for (i = 0; i < 20; i++) {
		if (rs[i].called == 1 && (int)rs[i].status == want[i % 4] &&
		    strcmp(rs[i].qname, names[i % 4]) == 0)
			good++;
		else
			printf("# %d %s called=%d status=%s err=%s\n", i,
			    rs[i].qname, rs[i].called,
			    dns_status_name(rs[i].status), rs[i].error);
	}
	is_int(good, 20, "20 concurrent queries: each answered once, right");
	is_int(f[0]->nudp, 20, "20 concurrent queries: 20 sent");
	dns_client_free(c);
	fake_free(f[0]);
}

struct chain {
	struct dns_client	*c;
	struct result		 second;
};

static void
chain_cb(const struct dns_answer *a, void *arg)
{
	struct chain	*ch = arg;

	lookup(ch->c, "a.ex", A, &ch->second);
}

/* A lookup started from inside a callback works. */
static void
test_lookup_in_callback(void)
{
	struct fake		*f[1];
	struct chain		 ch;

	f[0] = fake_new(0);
	memset(&ch, 0, sizeof ch);
	ch.c = client_for(f, 1, 500, 1, 0);
	dns_lookup(ch.c, "_mta-sts.ex", TXT, chain_cb, &ch);
	run_until(&ch.second.called, 2000);
	is_str(ch.second.rrs, "a.ex. 192.0.2.1|a.ex. 192.0.2.2",
	    "lookup from a callback: answered");
	dns_client_free(ch.c);
	fake_free(f[0]);
}

/* Server strings: every accepted form, and the rejects. */
static void
test_server_strings(void)
{
	static const struct {
		const char	*s;
		int		 ret;
	} t[] = {
		{ "192.0.2.1", 0 },
		{ "2001:db8::1", 0 },
		{ "127.0.0.1@5353", 0 },
		{ "[::1]:5353", 0 },
		{ "127.0.0.1:5353", 0 },
		{ "[::1]", 0 },
		{ "::1@5353", 0 },
		{ "[192.0.2.1]:53", 0 },
		{ "fe80::1%lo", 0 },
		{ "", -1 },
		{ "resolver.example", -1 },
		{ "192.0.2.300", -1 },
		{ "192.0.2.1:0", -1 },
		{ "192.0.2.1:65536", -1 },
		{ "192.0.2.1@", -1 },
		{ "192.0.2.1@53x", -1 },
		{ "192.0.2.1:-1", -1 },
		{ "[::1", -1 },
		{ "[::1]x", -1 },
		{ "[::1]:", -1 },
		{ "[]:53", -1 },
		{ "1.2.3.4:53:53", -1 },
		{ "@53", -1 },
		{ "::1]:53", -1 },
		{ "0000000000000000000000000000000000000000000000000000000000"
		  "0000000000000000000000000000000000000000000000000000000000"
		  "000000000000000000000000000000192.0.2.1", -1 },
	};
	struct dns_config	cfg;
	size_t			i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		memset(&cfg, 0, sizeof cfg);
		is_int(dns_config_add(&cfg, t[i].s), t[i].ret,
		    "server string \"%s\"", t[i].s);
		is_int((long)cfg.nservers, t[i].ret == 0,
		    "server string \"%s\": count", t[i].s);
		dns_config_clear(&cfg);
	}
	memset(&cfg, 0, sizeof cfg);
	for (i = 0; i < DNS_SERVERS_MAX; i++)
		dns_config_add(&cfg, "192.0.2.1");
	is_int(dns_config_add(&cfg, "192.0.2.2"), -1, "server list full: -1");
	is_int((long)cfg.nservers, DNS_SERVERS_MAX, "server list full: count");
	cfg.timeout_ms = 7;
	dns_config_clear(&cfg);
	is_int((long)cfg.nservers, 0, "dns_config_clear empties the list");
	is_int(cfg.timeout_ms, 7, "dns_config_clear keeps timeout_ms");
}

/* resolv.conf files: nameservers in order, options, junk ignored. */
static void
test_resolvconf(void)
{
	static const struct {
		const char	*id;
		const char	*text;
		int		 ret;
		const char	*servers;	/* joined with "," */
		int		 timeout_ms;
		int		 tries;
	} t[] = {
		{ "two servers", "nameserver 192.0.2.1\nnameserver 2001:db8::1\n",
		  0, "192.0.2.1,2001:db8::1", 0, 0 },
		{ "comments, search, options",
		  "# generated\n; old style\nsearch example.com\ndomain x\n"
		  "nameserver 10.0.0.1 # trailing\n"
		  "options rotate timeout:2 attempts:3 edns0\n",
		  0, "10.0.0.1", 2000, 3 },
		{ "options clamped", "options timeout:999 attempts:99\n"
		  "nameserver 10.0.0.2\n", 0, "10.0.0.2", 30000, 5 },
		{ "no nameserver", "search example.com\n", -1, "", 0, 0 },
		{ "empty file", "", -1, "", 0, 0 },
		{ "bad entries skipped", "nameserver bogus\nnameserver\n"
		  "nameserver 192.0.2.9\nnameservers 192.0.2.8\n", 0,
		  "192.0.2.9", 0, 0 },
		{ "tabs and CRLF", "nameserver\t192.0.2.1\r\n", 0, "192.0.2.1",
		  0, 0 },
		{ "no final newline", "nameserver 192.0.2.7", 0, "192.0.2.7",
		  0, 0 },
		{ "ten servers: first eight",
		  "nameserver 10.0.0.1\nnameserver 10.0.0.2\n"
		  "nameserver 10.0.0.3\nnameserver 10.0.0.4\n"
		  "nameserver 10.0.0.5\nnameserver 10.0.0.6\n"
		  "nameserver 10.0.0.7\nnameserver 10.0.0.8\n"
		  "nameserver 10.0.0.9\nnameserver 10.0.0.10\n", 0,
		  "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5,10.0.0.6,"
		  "10.0.0.7,10.0.0.8", 0, 0 },
	};
	struct dns_config	 cfg;
	char			 path[] = "/tmp/test_dns_resolvXXXXXX";
	char			 got[512], longline[3000];
	size_t			 i, j;
	FILE			*fp;
	int			 fd, ret;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(path, sizeof path, "/tmp/test_dns_resolvXXXXXX");
		if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL)
			fatal("mkstemp");
		fputs(t[i].text, fp);
		fclose(fp);
		memset(&cfg, 0, sizeof cfg);
		ret = dns_config_resolvconf(&cfg, path);
		got[0] = '\0';
		for (j = 0; j < cfg.nservers; j++)
			snprintf(got + strlen(got), sizeof got - strlen(got),
			    "%s%s", j ? "," : "", cfg.servers[j]);
		is_int(ret, t[i].ret, "resolv.conf %s: return", t[i].id);
		is_str(got, t[i].servers, "resolv.conf %s: servers", t[i].id);
		is_int(cfg.timeout_ms, t[i].timeout_ms, "resolv.conf %s: timeout",
		    t[i].id);
		is_int(cfg.tries, t[i].tries, "resolv.conf %s: tries", t[i].id);
		dns_config_clear(&cfg);
		unlink(path);
	}

	/* Options do not override values already set. */
	snprintf(path, sizeof path, "/tmp/test_dns_resolvXXXXXX");
	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL)
		fatal("mkstemp");
	memset(longline, 'x', sizeof longline - 1);
	longline[sizeof longline - 1] = '\0';
	memcpy(longline, "nameserver 192.0.2.66 ", 22);
	fprintf(fp, "options timeout:9 attempts:4\n%s\nnameserver 192.0.2.5\n",
	    longline);
	fclose(fp);
	memset(&cfg, 0, sizeof cfg);
	cfg.timeout_ms = 1500;
	cfg.tries = 2;
	ret = dns_config_resolvconf(&cfg, path);
	is_int(ret, 0, "resolv.conf preset: return");
	is_int(cfg.timeout_ms, 1500, "resolv.conf preset: timeout kept");
	is_int(cfg.tries, 2, "resolv.conf preset: tries kept");
	is_int((long)cfg.nservers, 1, "resolv.conf overlong line ignored");
	is_str(cfg.nservers ? cfg.servers[0] : "", "192.0.2.5",
	    "resolv.conf overlong line: next line read");
	dns_config_clear(&cfg);
	unlink(path);

	memset(&cfg, 0, sizeof cfg);
	is_int(dns_config_resolvconf(&cfg, "/nonexistent/resolv.conf"), -1,
	    "resolv.conf missing: -1");
}

static void
test_status_names(void)
{
	static const struct {
		enum dns_status	 s;
		const char	*name;
	} t[] = {
		{ DNS_OK, "OK" }, { DNS_NXDOMAIN, "NXDOMAIN" },
		{ DNS_NODATA, "NODATA" }, { DNS_SERVFAIL, "SERVFAIL" },
		{ DNS_TIMEOUT, "TIMEOUT" }, { DNS_ERROR, "ERROR" },
		{ (enum dns_status)42, "UNKNOWN" },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		is_str(dns_status_name(t[i].s), t[i].name, "status name %s",
		    t[i].name);
}

int
main(void)
{
	size_t	i;

	log_init("test_dns", 0);
	log_setlevel(getenv("TEST_DEBUG") != NULL ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_WARN);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	zone_load();

	for (i = 0; i < sizeof acases / sizeof acases[0]; i++)
		run_case(&acases[i]);
	test_timeout();
	test_port_unreachable();
	test_ipv6();
	test_cancel();
	test_free();
	test_misc();
	test_lookup_in_callback();
	test_server_strings();
	test_resolvconf();
	test_status_names();
	is_int(sync_calls, 0, "no callback ever ran inside dns_lookup");

	ldns_rr_list_deep_free(zone);
	event_base_free(base);
	return (done_testing());
}
