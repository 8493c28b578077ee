/*
 * fuzz_reply.c: libFuzzer harness for reply_postfix() and reply_exim().
 *
 * Input: byte 0 picks the mode and the zone options, bytes 1-4 max_age;
 * the rest is split at LF.  Line 1 is the domain, line 2 the Exim host
 * (empty: none), every further line is a policy line, and the text after
 * "mx:" on such a line (spaces skipped) is also an mx value, unchecked:
 * reply.c must cope with whatever a broken parser would hand it.
 *
 * The reply must keep Postfix's attribute syntax whole: no CR or LF, no
 * brace except around "{ policy_string = ... }", no brace inside one, no
 * empty match=, no attribute twice, both mx_host_pattern and
 * policy_string whenever policy_type=sts is there, at most REPLY_MAX
 * bytes, and the same bytes on a second call.  abort() otherwise.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "reply.h"
#include "sts.h"

#define FUZZ_LINES_MAX	(STS_LINES_MAX + 8)
#define FUZZ_MX_MAX	(STS_MX_MAX + 2)
#define PS_OPEN		"{ policy_string = "

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_postfix(const char *, const struct reply_opts *);
static void	check_exim(const char *, const char *);

/* Count an attribute name outside braces; abort on a repeat. */
static void
check_attr(const char *tok, size_t n, int *seen, const char *name)
{
	size_t	len = strlen(name);

	if (n > len && strncmp(tok, name, len) == 0 && tok[len] == '=') {
		if (++*seen > 1)
			abort();
	}
}

/* The structural checks on a Postfix reply. */
static void
check_postfix(const char *r, const struct reply_opts *o)
{
	const char	*p, *tok, *close;
	size_t		 n;
	int		 match = 0, sn = 0, pt = 0, pd = 0, mhp = 0, ps = 0;

	if (strlen(r) > REPLY_MAX || strpbrk(r, "\r\n") != NULL)
		abort();
	if (strcmp(r, "NOTFOUND ") == 0)
		return;
	if (strncmp(r, "OK secure match=", 16) != 0)
		abort();
	/* match= holds non-empty patterns separated by single colons. */
	p = r + 16;
	n = strcspn(p, " ");
	if (n == 0 || p[0] == ':' || p[n - 1] == ':' ||
	    memmem(p, n, "::", 2) != NULL || memchr(p, '*', n) != NULL)
		abort();

	for (p = r + 3; *p != '\0';) {
		if (*p == ' ') {
			p++;
			continue;
		}
		if (*p == '}')
			abort();
		if (*p == '{') {
			if (p[-1] != ' ' || strncmp(p, PS_OPEN, strlen(PS_OPEN)) != 0)
				abort();
			p += strlen(PS_OPEN);
			close = strchr(p, '}');
			if (close == NULL || close == p || close[-1] != ' ' ||
			    memchr(p, '{', (size_t)(close - p)) != NULL ||
			    (close[1] != '\0' && close[1] != ' '))
				abort();
			ps++;
			p = close + 1;
			continue;
		}
		tok = p;
		n = strcspn(p, " {}");
		if (p[n] == '{' || p[n] == '}')
			abort();
		check_attr(tok, n, &match, "match");
		check_attr(tok, n, &sn, "servername");
		check_attr(tok, n, &pt, "policy_type");
		check_attr(tok, n, &pd, "policy_domain");
		if (n > 16 && strncmp(tok, "mx_host_pattern=", 16) == 0)
			mhp++;
		else if (memchr(tok, '=', n) == NULL && (n != 6 ||
		    strncmp(tok, "secure", 6) != 0 || tok != r + 3))
			abort();
		p += n;
	}
	if (match != 1 || sn != (o->servername ? 1 : 0))
		abort();
	if (!o->tlsrpt && (pt || pd || mhp || ps))
		abort();
	if (pt != pd || (pt && (mhp == 0 || ps == 0)) || (!pt && (mhp || ps)))
		abort();
}

/* The Exim reply is one of the documented forms. */
static void
check_exim(const char *r, const char *host)
{
	const char	*rest;

	if (strcmp(r, "none") == 0)
		return;
	if (strncmp(r, "enforce ", 8) == 0)
		rest = r + 8;
	else if (strncmp(r, "testing ", 8) == 0)
		rest = r + 8;
	else
		abort();
	if (host != NULL) {
		if (strcmp(rest, "match") != 0 && strcmp(rest, "nomatch") != 0)
			abort();
		return;
	}
	if (*rest == '\0' || *rest == ':' || rest[strlen(rest) - 1] == ':' ||
	    strpbrk(rest, " \t\r\n{}") != NULL || strstr(rest, "::") != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_policy	 pol;
	struct reply_opts	 o;
	char			*lines[FUZZ_LINES_MAX], *mx[FUZZ_MX_MAX];
	char			*domain = NULL, *host = NULL, *r, *r2, *line;
	const char		*p, *end, *nl, *v;
	size_t			 nfield = 0, i, dropped;

	if (size < 5)
		return (0);
	memset(&pol, 0, sizeof pol);
	pol.mode = (enum sts_mode)(data[0] % 4);	/* 3: out of range */
	o.servername = (data[0] >> 2) & 1;
	o.tlsrpt = (data[0] >> 3) & 1;
	o.testing_enforce = (data[0] >> 4) & 1;
	pol.max_age = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
	    (uint32_t)data[3] << 8 | data[4];
	pol.lines = lines;
	pol.mx = mx;

	p = (const char *)data + 5;
	end = (const char *)data + size;
	while (p <= end && nfield < FUZZ_LINES_MAX + 2) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		/* Lines are C strings: an embedded NUL ends them. */
		line = strndup(p, (size_t)(nl - p));
		if (nfield == 0)
			domain = line;
		else if (nfield == 1 && *line == '\0')
			free(line);
		else if (nfield == 1)
			host = line;
		else {
			lines[pol.nlines++] = line;
			if (strncmp(line, "mx:", 3) == 0 && pol.nmx < FUZZ_MX_MAX) {
				for (v = line + 3; *v == ' '; v++)
					;
				mx[pol.nmx++] = strdup(v);
			}
		}
		nfield++;
		p = nl + 1;
	}

	r = reply_postfix(domain, &pol, &o, &dropped);
	r2 = reply_postfix(domain, &pol, &o, NULL);
	if (r == NULL || r2 == NULL || strcmp(r, r2) != 0 || dropped > pol.nlines)
		abort();
	check_postfix(r, &o);
	free(r);
	free(r2);

	r = reply_exim(domain, &pol, &o, host);
	if (r == NULL)
		abort();
	check_exim(r, host);
	free(r);
	r = reply_exim(domain, &pol, &o, NULL);
	if (r == NULL)
		abort();
	check_exim(r, NULL);
	free(r);

	for (i = 0; i < pol.nlines; i++)
		free(lines[i]);
	for (i = 0; i < pol.nmx; i++)
		free(mx[i]);
	free(domain);
	free(host);
	return (0);
}
