/*
 * fuzz_policy.c: libFuzzer harness for sts_policy_parse.  A valid policy
 * must honour every promise of sts.h (mode, mx list, lines, text), parse
 * the same way twice, and survive a round trip through a canonical body
 * built from it.  Any broken invariant aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "sts.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Findings: bounded, named, citing a rule, printable text. */
static void
fuzz_check_diag(const struct sts_diag *d, size_t size)
{
	const struct sts_finding	*f;
	size_t				 i, j;

	if (d->n > STS_DIAG_MAX)
		abort();
	for (i = 0; i < d->n; i++) {
		f = &d->f[i];
		if (f->code == NULL || f->rfc == NULL ||
		    strncmp(f->code, "policy-", 7) != 0 ||
		    (strcmp(f->rfc, "RFC 8461 3.2") != 0 &&
		    strcmp(f->rfc, "BEHAVIOUR.md") != 0))
			abort();
		if (f->line < 0 || (size_t)f->line > size + 1)
			abort();
		if (memchr(f->msg, '\0', sizeof f->msg) == NULL || f->msg[0] == '\0')
			abort();
		for (j = 0; f->msg[j] != '\0'; j++) {
			if ((unsigned char)f->msg[j] < 0x20 ||
			    (unsigned char)f->msg[j] > 0x7e)
				abort();
		}
	}
}

/* Everything sts.h promises about a valid policy. */
static void
fuzz_check_policy(const struct sts_policy *p, const uint8_t *data, size_t size)
{
	char		 host[DOMAIN_MAX + 8];
	const char	*mx, *l;
	size_t		 i, j, n;

	if (p->mode != STS_MODE_NONE && p->mode != STS_MODE_TESTING &&
	    p->mode != STS_MODE_ENFORCE)
		abort();
	if (p->mode != STS_MODE_NONE && p->nmx == 0)
		abort();
	if (p->nmx > STS_MX_MAX || p->max_age > MAX_AGE_CLAMP ||
	    p->nlines > STS_LINES_MAX)
		abort();
	if (p->textlen != size || memcmp(p->text, data, size) != 0 ||
	    p->text[size] != '\0')
		abort();
	for (i = 0; i < p->nmx; i++) {
		mx = p->mx[i];
		n = strlen(mx);
		if (!sts_mx_valid(mx, n))
			abort();
		for (j = 0; j < n; j++) {
			if (mx[j] >= 'A' && mx[j] <= 'Z')
				abort();
		}
		for (j = 0; j < i; j++) {
			if (strcmp(p->mx[j], mx) == 0)
				abort();
		}
		/* The pattern matches a host it describes. */
		if (mx[0] == '*')
			snprintf(host, sizeof host, "A%s.", mx + 1);
		else
			snprintf(host, sizeof host, "%s.", mx);
		if (!sts_policy_mx_ok(p, host) || !sts_mx_match(mx, host))
			abort();
	}
	for (i = 0; i < p->nlines; i++) {
		l = p->lines[i];
		n = strlen(l);
		if (n == 0 || l[n - 1] == ' ' || l[n - 1] == '\t' ||
		    strchr(l, '\n') != NULL)
			abort();
	}
	if (!sts_policy_equal(p, p))
		abort();
}

/* A canonical body for p parses to an equal policy. */
static void
fuzz_round_trip(const struct sts_policy *p)
{
	struct sts_policy	*q = NULL;
	char			*b;
	size_t			 sz, off, i;

	sz = 128 + p->nmx * (DOMAIN_MAX + 8);
	b = xmalloc(sz);
	off = (size_t)snprintf(b, sz, "version: STSv1\r\nmode: %s\r\nmax_age: %u\r\n",
	    sts_mode_name(p->mode), (unsigned)p->max_age);
	for (i = 0; i < p->nmx; i++)
		off += (size_t)snprintf(b + off, sz - off, "mx: %s\r\n", p->mx[i]);
	if (sts_policy_parse(b, off, &q, NULL) != 0 || !sts_policy_equal(p, q))
		abort();
	sts_policy_free(q);
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_policy	*p = (struct sts_policy *)&p, *p2 = NULL;
	struct sts_diag		 d;
	char			 host[512];
	int			 r;

	memset(&d, 0, sizeof d);
	r = sts_policy_parse((const char *)data, size, &p, &d);
	fuzz_check_diag(&d, size);
	if (r == -1) {
		if (p != NULL || !sts_diag_has_error(&d))
			abort();
	} else if (r == 0) {
		if (p == NULL || sts_diag_has_error(&d))
			abort();
		fuzz_check_policy(p, data, size);
		fuzz_round_trip(p);

		/* Same bytes, same verdict. */
		if (sts_policy_parse((const char *)data, size, &p2, NULL) != 0 ||
		    !sts_policy_equal(p, p2) || p2->nlines != p->nlines)
			abort();
		sts_policy_free(p2);

		/* Any host string against every pattern. */
		if (size < sizeof host) {
			memcpy(host, data, size);
			host[size] = '\0';
			sts_policy_mx_ok(p, host);
		}
		sts_policy_free(p);
	} else
		abort();
	return (0);
}
