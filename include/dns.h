/*
 * dns.h: an asynchronous stub resolver.  ldns builds and parses the
 * packets; libevent drives non-blocking UDP (EDNS0, random ids and source
 * ports) with TCP fallback on truncation, per-try timeouts and retries
 * across the configured servers.  CNAME chains are followed.  Knows
 * nothing of MTA-STS.
 */
#ifndef MTASTS_DNS_H
#define MTASTS_DNS_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

struct event_base;

#define DNS_SERVERS_MAX		8
#define DNS_CNAME_MAX		8	/* CNAME hops followed before giving up */
#define DNS_EDNS_BUFSIZE	1232
#define DNS_TCP_MAX		65535	/* a TCP answer, bytes */

enum dns_status {
	DNS_OK = 0,	/* records of the asked type at the final name */
	DNS_NXDOMAIN,	/* the name does not exist */
	DNS_NODATA,	/* the name exists, no records of that type */
	DNS_SERVFAIL,	/* SERVFAIL, REFUSED or another error rcode */
	DNS_TIMEOUT,	/* no usable answer from any server in time */
	DNS_ERROR	/* malformed answers, CNAME loop or chain too long */
};

struct dns_config {
	/* "192.0.2.1", "2001:db8::1", "127.0.0.1@5353", "[::1]:5353" */
	char		*servers[DNS_SERVERS_MAX];
	size_t		 nservers;
	int		 timeout_ms;	/* one try at one server */
	int		 tries;		/* rounds over the server list */
	int		 dnssec_ok;	/* set the DO bit (for DANE later) */
};

/* The outcome of one lookup, valid only during the callback. */
struct dns_answer {
	enum dns_status	 status;
	const char	*qname;		/* the name asked */
	const char	*final_name;	/* after following CNAMEs */
	int		 qtype;		/* LDNS_RR_TYPE_* */
	ldns_rr_list	*rrs;		/* records of qtype at final_name */
	uint32_t	 ttl;		/* min TTL of rrs, or the negative TTL */
	int		 ad;		/* the AD flag of the final answer */
	int		 cnames;	/* CNAME hops followed */
	const char	*server;	/* the server that answered */
	const char	*error;		/* human text when status != DNS_OK */
};

typedef void (*dns_cb)(const struct dns_answer *, void *arg);

struct dns_client;
struct dns_query;

/* Fill cfg from a resolv.conf file (nameserver lines).  -1 if none found. */
int	dns_config_resolvconf(struct dns_config *cfg, const char *path);
/* Add one server in any of the accepted forms.  -1 if unparsable or full. */
int	dns_config_add(struct dns_config *cfg, const char *server);
void	dns_config_clear(struct dns_config *cfg);

struct dns_client *dns_client_new(struct event_base *, const struct dns_config *);
void	dns_client_free(struct dns_client *);

/*
 * Look up name/type.  The callback always runs later from the event loop,
 * never inside dns_lookup, exactly once unless the query is cancelled.
 */
struct dns_query *dns_lookup(struct dns_client *, const char *name, int type,
	    dns_cb cb, void *arg);
/* Cancel a pending query; its callback will not run. */
void	dns_cancel(struct dns_query *);

const char *dns_status_name(enum dns_status);

/*
 * The pure step of the resolver: what one message from a server means for
 * a query.  dns.c calls it for every message it reads; it is public so
 * that tests and tests/fuzz/fuzz_dns.c exercise the real code.
 */
#define DNS_WHY_MAX		64

enum dns_verdict {
	DNS_V_IGNORE,		/* not an answer to our question: keep waiting */
	DNS_V_MALFORMED,	/* our answer but unusable: try the next server */
	DNS_V_TRUNCATED,	/* TC over UDP: ask the same server over TCP */
	DNS_V_RCODE,		/* an error rcode: skip this server */
	DNS_V_FOLLOW,		/* the answer stops at a CNAME: ask for its target */
	DNS_V_DONE		/* the query is over with status */
};

/* The CNAME chain of a query; seen[0] is the name asked. */
struct dns_chain {
	ldns_rdf	*seen[DNS_CNAME_MAX + 1];
	size_t		 nseen;		/* >= 1 */
	uint32_t	 cname_ttl;	/* min TTL of the CNAMEs followed */
	int		 ad;		/* AD on every answer used so far */
};

struct dns_judgement {
	enum dns_verdict verdict;
	enum dns_status	 status;	/* DNS_V_DONE only */
	ldns_rr_list	*rrs;		/* DNS_OK only; the caller frees it */
	uint32_t	 ttl;		/* DNS_V_DONE only */
	int		 rcode;		/* DNS_V_RCODE: the rcode, -1 if extended */
	char		 why[DNS_WHY_MAX];	/* human text, but for DNS_OK */
};

/*
 * Judge the message buf[0..len-1] received (over TCP if tcp) for the query
 * query[0..querylen-1] sent for the end of chain, of type qtype.  Only
 * DNS_V_FOLLOW and DNS_V_DONE change chain (names appended, cname_ttl, ad).
 */
void	dns_judge(struct dns_chain *chain, int qtype, const uint8_t *query,
	    size_t querylen, int tcp, const uint8_t *buf, size_t len,
	    struct dns_judgement *j);

#endif
