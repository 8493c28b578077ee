/*
 * test_reply.c: Postfix and Exim replies (BEHAVIOUR.md "Replies",
 * INTEGRATION.md "Postfix TLS policy result syntax", RFC8461-CHECKLIST
 * F.40-F.42, FIELD-CASES F06 F07 F12 F13 F29).  Policies are built by
 * hand here, as sts.c would leave them: mx lowercased, in order,
 * de-duplicated; lines without terminators.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "reply.h"
#include "sts.h"
#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static char *mx_std[] = { "mail.example.com", "*.mx.example.net" };
static char *lines_std[] = {
	"version: STSv1", "mode: enforce", "mx: mail.example.com",
	"mx: *.mx.example.net", "max_age: 604800",
};
static char *lines_testing[] = {
	"version: STSv1", "mode: testing", "mx: mail.example.com",
	"mx: *.mx.example.net", "max_age: 86400",
};
/* F07: an IP literal and other junk must never reach match=. */
static char *mx_f07[] = {
	"mail.example.com", "192.0.2.56", "*.example.com", "mout.example.net",
	"x } match=evil.example {", "", "a b", "mail.example.com",
};
static char *mx_bad[] = { "192.0.2.56", "*.", "*", "has space.example" };
/* Injection attempts among good lines (INTEGRATION.md). */
static char *lines_evil[] = {
	"version: STSv1",
	"x } match=evil.example {",
	"mode: enforce",
	"mx: mail.example.com\r",
	"mx: a\nmatch=evil",
	"mx: *.mx.example.net",
	"note: \x01 bell",
	"note: nul\0hidden",			/* C string: ends at the NUL */
	"note: \xff\xfe invalid",
	"note: \xc3 truncated",
	"note: \xc0\xaf overlong",
	"note: \xed\xa0\x80 surrogate",
	"note: \xc2\x85 C1 NEL",
	"note: del \x7f",
	"{",
	"max_age: 604800",
};
static char *lines_allbad[] = { "}", "{ policy_string = x }", "a\rb", "\t " };

static const struct reply_opts O_PLAIN = { 0, 0, 0 };
static const struct reply_opts O_SN = { 1, 0, 0 };
static const struct reply_opts O_RPT = { 0, 1, 0 };
static const struct reply_opts O_SN_RPT = { 1, 1, 0 };
static const struct reply_opts O_TE = { 1, 0, 1 };
static const struct reply_opts O_ALL = { 1, 1, 1 };

#define POL(mode, mx, lines, age) \
	{ (mode), (age), (mx), NELEM(mx), (lines), NELEM(lines), NULL, 0 }

static struct sts_policy p_enf = POL(STS_MODE_ENFORCE, mx_std, lines_std, 604800);
static struct sts_policy p_test = POL(STS_MODE_TESTING, mx_std, lines_testing, 86400);
static struct sts_policy p_none = { STS_MODE_NONE, 86400, NULL, 0, NULL, 0, NULL, 0 };
static struct sts_policy p_nomx = { STS_MODE_ENFORCE, 86400, NULL, 0, lines_std, 5,
    NULL, 0 };
static struct sts_policy p_f07 = POL(STS_MODE_ENFORCE, mx_f07, lines_std, 604800);
static struct sts_policy p_bad = POL(STS_MODE_ENFORCE, mx_bad, lines_std, 604800);
static struct sts_policy p_evil = POL(STS_MODE_ENFORCE, mx_std, lines_evil, 604800);
static struct sts_policy p_allbad = POL(STS_MODE_ENFORCE, mx_std, lines_allbad, 604800);
static struct sts_policy p_nolines = { STS_MODE_ENFORCE, 3600, mx_std, 2, NULL, 0,
    NULL, 0 };

#define M_STD	"match=mail.example.com:.mx.example.net"
#define R_STD	" policy_type=sts policy_domain=example.com" \
	" mx_host_pattern=mail.example.com mx_host_pattern=*.mx.example.net"
#define PS(x)	" { policy_string = " x " }"

struct pf_case {
	const char			*id;
	const char			*domain;
	const struct sts_policy		*p;
	const struct reply_opts		*o;
	const char			*want;
	size_t				 dropped;
};

static const struct pf_case pf_cases[] = {
	{ "F.40 enforce, servername", "example.com", &p_enf, &O_SN,
	    "OK secure " M_STD " servername=hostname", 0 },
	{ "F.40 F29 enforce, no servername", "example.com", &p_enf, &O_PLAIN,
	    "OK secure " M_STD, 0 },
	{ "F13 enforce, tlsrpt, servername", "example.com", &p_enf, &O_SN_RPT,
	    "OK secure " M_STD " servername=hostname" R_STD
	    PS("version: STSv1") PS("mode: enforce") PS("mx: mail.example.com")
	    PS("mx: *.mx.example.net") PS("max_age: 604800"), 0 },
	{ "F13 enforce, tlsrpt only", "example.com", &p_enf, &O_RPT,
	    "OK secure " M_STD R_STD
	    PS("version: STSv1") PS("mode: enforce") PS("mx: mail.example.com")
	    PS("mx: *.mx.example.net") PS("max_age: 604800"), 0 },
	{ "F.41 testing", "example.com", &p_test, &O_SN_RPT, "NOTFOUND ", 0 },
	{ "testing as enforce (zone option)", "example.com", &p_test, &O_TE,
	    "OK secure " M_STD " servername=hostname", 0 },
	{ "testing as enforce, tlsrpt", "example.com", &p_test, &O_ALL,
	    "OK secure " M_STD " servername=hostname" R_STD
	    PS("version: STSv1") PS("mode: testing") PS("mx: mail.example.com")
	    PS("mx: *.mx.example.net") PS("max_age: 86400"), 0 },
	{ "F.41 none", "example.com", &p_none, &O_SN, "NOTFOUND ", 0 },
	{ "F.41 none, testing_enforce", "example.com", &p_none, &O_ALL,
	    "NOTFOUND ", 0 },
	{ "F.41 no policy", "example.com", NULL, &O_ALL, "NOTFOUND ", 0 },
	{ "F.42 F06 enforce without mx", "example.com", &p_nomx, &O_ALL,
	    "NOTFOUND ", 0 },
	{ "F.42 only unusable mx", "example.com", &p_bad, &O_ALL, "NOTFOUND ", 0 },
	{ "F07 IP literal and junk left out of match=", "example.com", &p_f07,
	    &O_SN, "OK secure match=mail.example.com:.example.com:mout.example.net"
	    " servername=hostname", 0 },
	{ "F07 and of mx_host_pattern", "example.com", &p_f07, &O_RPT,
	    "OK secure match=mail.example.com:.example.com:mout.example.net"
	    " policy_type=sts policy_domain=example.com"
	    " mx_host_pattern=mail.example.com mx_host_pattern=*.example.com"
	    " mx_host_pattern=mout.example.net"
	    PS("version: STSv1") PS("mode: enforce") PS("mx: mail.example.com")
	    PS("mx: *.mx.example.net") PS("max_age: 604800"), 0 },
	{ "injection: unsafe lines left out and counted", "example.com", &p_evil,
	    &O_RPT, "OK secure " M_STD R_STD PS("version: STSv1")
	    PS("mode: enforce") PS("mx: *.mx.example.net") PS("note: nul")
	    PS("max_age: 604800"), 11 },
	{ "no safe line: synthesized policy_string", "example.com", &p_allbad,
	    &O_RPT, "OK secure " M_STD R_STD PS("version: STSv1")
	    PS("mode: enforce") PS("mx: mail.example.com")
	    PS("mx: *.mx.example.net") PS("max_age: 604800"), 4 },
	{ "no lines at all: synthesized policy_string", "example.com", &p_nolines,
	    &O_SN_RPT, "OK secure " M_STD " servername=hostname" R_STD
	    PS("version: STSv1") PS("mode: enforce") PS("mx: mail.example.com")
	    PS("mx: *.mx.example.net") PS("max_age: 3600"), 0 },
	{ "domain that is no host name: no TLSRPT attributes", "ex ample.com {",
	    &p_enf, &O_RPT, "OK secure " M_STD, 0 },
	{ "no TLSRPT attributes without tlsrpt, whatever the lines",
	    "example.com", &p_evil, &O_SN, "OK secure " M_STD
	    " servername=hostname", 0 },
};

static void
test_postfix_table(void)
{
	const struct pf_case	*c;
	char			*r;
	size_t			 i, dropped;

	for (i = 0; i < NELEM(pf_cases); i++) {
		c = &pf_cases[i];
		dropped = 999;
		r = reply_postfix(c->domain, c->p, c->o, &dropped);
		is_str(r, c->want, "postfix: %s", c->id);
		is_int((long)dropped, (long)c->dropped, "postfix: %s: dropped",
		    c->id);
		free(r);
	}
	/* dropped may be NULL. */
	r = reply_postfix("example.com", &p_evil, &O_RPT, NULL);
	ok(r != NULL && strstr(r, "evil") == NULL, "postfix: dropped NULL");
	free(r);
}

/* How often needle occurs in s. */
static int
count(const char *s, const char *needle)
{
	int	n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return (n);
}

/* F29: identical answers, attributes only when enabled and never twice. */
static void
test_f29(void)
{
	char	*first, *r;
	int	 i, same = 1;

	first = reply_postfix("example.com", &p_enf, &O_SN_RPT, NULL);
	for (i = 0; i < 5; i++) {
		r = reply_postfix("example.com", &p_enf, &O_SN_RPT, NULL);
		same &= strcmp(r, first) == 0;
		free(r);
	}
	ok(same, "F29 five calls give byte-identical replies");
	ok(count(first, "match=") == 1 && count(first, "servername=") == 1 &&
	    count(first, "policy_type=") == 1 &&
	    count(first, "policy_domain=") == 1 &&
	    count(first, "mx_host_pattern=") == 2,
	    "F29 no attribute repeats");
	free(first);

	r = reply_postfix("example.com", &p_enf, &O_PLAIN, NULL);
	ok(strstr(r, "servername") == NULL && strstr(r, "policy_") == NULL &&
	    strstr(r, "mx_host_pattern") == NULL,
	    "F29 no servername or TLSRPT attributes when the zone disables them");
	free(r);
}

/* Policies too big for one reply still give a valid reply <= REPLY_MAX. */
static void
test_limits(void)
{
	struct sts_policy	 p = p_enf;
	char			*lines[STS_LINES_MAX + 10], *mx[STS_MX_MAX + 1];
	char			*big, *r, name[32];
	size_t			 i, dropped;

	big = malloc(40001);
	memset(big, 'x', 40000);
	big[40000] = '\0';
	for (i = 0; i < NELEM(lines); i++)
		lines[i] = big;
	p.lines = lines;
	p.nlines = 3;
	r = reply_postfix("example.com", &p, &O_RPT, &dropped);
	ok(r != NULL && strlen(r) <= REPLY_MAX && count(r, "policy_string") == 2 &&
	    dropped == 1, "REPLY_MAX: third 40000-byte line left out (%zu)",
	    r ? strlen(r) : 0);
	free(r);

	p.nlines = NELEM(lines);
	lines[0] = "version: STSv1";
	for (i = 1; i < NELEM(lines); i++)
		lines[i] = "mode: enforce";
	r = reply_postfix("example.com", &p, &O_RPT, &dropped);
	is_int(count(r, "policy_string"), STS_LINES_MAX,
	    "STS_LINES_MAX policy_string at most");
	is_int((long)dropped, 10, "lines past STS_LINES_MAX counted");
	free(r);
	free(big);

	for (i = 0; i < NELEM(mx); i++) {
		snprintf(name, sizeof name, "mx%zu.example.com", i);
		mx[i] = strdup(name);
	}
	p = p_enf;
	p.mx = mx;
	p.nmx = STS_MX_MAX;
	r = reply_postfix("example.com", &p, &O_SN_RPT, NULL);
	ok(count(r, "mx_host_pattern=") == STS_MX_MAX &&
	    strstr(r, "match=mx0.example.com:mx1.example.com:") != NULL &&
	    strstr(r, ":mx127.example.com servername=hostname") != NULL &&
	    strlen(r) <= REPLY_MAX, "STS_MX_MAX mx values all sent");
	free(r);
	p.nmx = STS_MX_MAX + 1;
	r = reply_postfix("example.com", &p, &O_SN_RPT, NULL);
	is_str(r, "NOTFOUND ", "more than STS_MX_MAX mx: invalid policy");
	free(r);
	for (i = 0; i < NELEM(mx); i++)
		free(mx[i]);
}

static void
test_line_safe(void)
{
	static const struct {
		const char	*id;
		const char	*line;
		int		 want;
	} t[] = {
		{ "plain line", "version: STSv1", 1 },
		{ "TAB as WSP after ':'", "mx:\tmail.example.com", 1 },
		{ "2-byte UTF-8", "comment: caf\xc3\xa9", 1 },
		{ "3-byte UTF-8", "note: \xe3\x82\xaf", 1 },
		{ "4-byte UTF-8", "note: \xf0\x9f\x93\xa7", 1 },
		{ "'=' and ','", "a=b, c=d", 1 },
		{ "U+00A0 is no control", "\xc2\xa0 NBSP", 1 },
		{ "brace injection", "x } match=evil.example {", 0 },
		{ "open brace", "{", 0 },
		{ "close brace", "}", 0 },
		{ "CR", "mode: enforce\r", 0 },
		{ "LF", "a\nb", 0 },
		{ "BEL", "bell \x07", 0 },
		{ "ESC", "esc \x1b[0m", 0 },
		{ "DEL", "del \x7f", 0 },
		{ "C1 U+009F", "\xc2\x9f C1", 0 },
		{ "0xff", "\xff", 0 },
		{ "lone continuation byte", "\x80", 0 },
		{ "truncated 2-byte", "\xc3", 0 },
		{ "truncated 3-byte", "\xe3\x82", 0 },
		{ "overlong NUL", "\xc0\x80", 0 },
		{ "overlong 3-byte '/'", "\xe0\x80\xaf", 0 },
		{ "overlong 4-byte '/'", "\xf0\x80\x80\xaf", 0 },
		{ "surrogate U+D800", "\xed\xa0\x80", 0 },
		{ "above U+10FFFF", "\xf4\x90\x80\x80", 0 },
		{ "lead byte 0xf5", "\xf5\x80\x80\x80", 0 },
		{ "empty", "", 0 },
		{ "only WSP", " \t ", 0 },
	};
	size_t	i;

	for (i = 0; i < NELEM(t); i++)
		is_int(reply_line_safe(t[i].line), t[i].want,
		    "reply_line_safe: %s", t[i].id);
	is_int(reply_line_safe(NULL), 0, "reply_line_safe(NULL)");
}

struct ex_case {
	const char			*id;
	const struct sts_policy		*p;
	const struct reply_opts		*o;
	const char			*host;
	const char			*want;
};

static const struct ex_case ex_cases[] = {
	{ "enforce patterns", &p_enf, &O_PLAIN, NULL,
	    "enforce mail.example.com:*.mx.example.net" },
	{ "testing patterns", &p_test, &O_SN_RPT, NULL,
	    "testing mail.example.com:*.mx.example.net" },
	{ "testing as enforce", &p_test, &O_TE, NULL,
	    "enforce mail.example.com:*.mx.example.net" },
	{ "none", &p_none, &O_ALL, NULL, "none" },
	{ "no policy", NULL, &O_ALL, NULL, "none" },
	{ "enforce without mx", &p_nomx, &O_PLAIN, NULL, "none" },
	{ "F07 junk mx left out", &p_f07, &O_PLAIN, NULL,
	    "enforce mail.example.com:*.example.com:mout.example.net" },
	{ "host exact match", &p_enf, &O_PLAIN, "mail.example.com",
	    "enforce match" },
	{ "host upper case, final dot", &p_enf, &O_PLAIN, "MAIL.Example.COM.",
	    "enforce match" },
	{ "host wildcard one label", &p_enf, &O_PLAIN, "a.mx.example.net",
	    "enforce match" },
	{ "F12 host wildcard two labels", &p_enf, &O_PLAIN,
	    "tenant.h-v1.mx.example.net", "enforce nomatch" },
	{ "host wildcard base", &p_enf, &O_PLAIN, "mx.example.net",
	    "enforce nomatch" },
	{ "host other", &p_enf, &O_PLAIN, "mail.example.org", "enforce nomatch" },
	{ "host suffix only", &p_enf, &O_PLAIN, "xmail.example.com",
	    "enforce nomatch" },
	{ "host IP", &p_f07, &O_PLAIN, "192.0.2.56", "enforce nomatch" },
	{ "host empty", &p_enf, &O_PLAIN, "", "enforce nomatch" },
	{ "host with space", &p_enf, &O_PLAIN, " .mx.example.net",
	    "enforce nomatch" },
	{ "testing match", &p_test, &O_PLAIN, "mail.example.com",
	    "testing match" },
	{ "testing nomatch", &p_test, &O_PLAIN, "evil.example",
	    "testing nomatch" },
	{ "testing as enforce, match", &p_test, &O_TE, "b.mx.example.net",
	    "enforce match" },
	{ "none with host", &p_none, &O_PLAIN, "mail.example.com", "none" },
	{ "no policy with host", NULL, &O_PLAIN, "mail.example.com", "none" },
};

static void
test_exim(void)
{
	const struct ex_case	*c;
	char			*r;
	size_t			 i;

	for (i = 0; i < NELEM(ex_cases); i++) {
		c = &ex_cases[i];
		r = reply_exim("example.com", c->p, c->o, c->host);
		is_str(r, c->want, "exim: %s", c->id);
		free(r);
	}
}

int
main(void)
{
	test_postfix_table();
	test_f29();
	test_limits();
	test_line_safe();
	test_exim();
	return (done_testing());
}
