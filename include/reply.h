/*
 * reply.h: the answer text for Postfix and Exim, built from a policy and
 * the options of the zone (map name) that asked.  Pure.
 */
#ifndef MTASTS_REPLY_H
#define MTASTS_REPLY_H

#include <stddef.h>

#include "sts.h"

struct reply_opts {
	int	servername;	/* append servername=hostname (Postfix >= 3.4) */
	int	tlsrpt;		/* append TLSRPT attributes (Postfix >= 3.10) */
	int	testing_enforce;/* answer testing policies as enforce */
};

/*
 * The Postfix socketmap reply for domain under policy p (NULL: no policy),
 * without netstring framing: "OK secure match=... servername=hostname" or
 * "NOTFOUND ".  Deterministic: the same input gives the same bytes.
 * Never emits "OK" with empty data or an empty match=.  Policy lines with
 * braces, control bytes or invalid UTF-8 are left out of policy_string
 * (*dropped counts them when not NULL).  Returns a malloc'd string, or
 * NULL when out of memory (answer TEMP).
 */
char	*reply_postfix(const char *domain, const struct sts_policy *p,
	    const struct reply_opts *opts, size_t *dropped);

/*
 * The Exim line-protocol reply for domain under policy p (NULL: no
 * policy), written raw with no newline.  The request and reply forms are
 * documented in contrib/exim/README.md.  host, when not NULL, asks
 * whether that MX host matches the policy.  Returns a malloc'd string, or
 * NULL when out of memory.
 */
char	*reply_exim(const char *domain, const struct sts_policy *p,
	    const struct reply_opts *opts, const char *host);

/* Whether a policy line may be copied into a policy_string attribute. */
int	 reply_line_safe(const char *line);

#endif
