/*
 * test_key.c: query key normalisation (BEHAVIOUR.md "Query keys",
 * FIELD-CASES F15 F28, RFC8461-CHECKLIST A.1-A.3 F.43).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "tap.h"

/* One key: its bytes (len, so NULs can be embedded) and the answer. */
struct key_case {
	const char	*id;
	const char	*key;
	size_t		 len;		/* 0: strlen(key) */
	const char	*want;		/* domain, or NULL for -1 */
	const char	*why;		/* reason when want is NULL */
};

static const struct key_case key_cases[] = {
	/* F28: the smart host forms look up the host. */
	{ "F28 [host]:port", "[relay.example.net]:123", 0, "relay.example.net", NULL },
	{ "F28 [host]", "[relay.example.net]", 0, "relay.example.net", NULL },
	{ "F28 host:port", "relay.example.net:123", 0, "relay.example.net", NULL },
	{ "F28 final dot", "example.com.", 0, "example.com", NULL },
	{ "F28 case", "EXAMPLE.com", 0, "example.com", NULL },
	{ "F28 F.43 parent probe", ".example.com", 0, NULL, "parent-probe" },
	{ "F28 A.2 [IPv4]", "[192.0.2.1]", 0, NULL, "ip-literal" },
	{ "F28 A.2 [IPv6:]:port", "[IPv6:2001:db8::1]:25", 0, NULL, "ip-literal" },
	/* F15: UTF-8 keys become A-labels (A.3). */
	{ "F15 U-label TLD", "example.\xe3\x82\xaf\xe3\x83\xa9\xe3\x82\xa6\xe3\x83\x89", 0,
	    "example.xn--gckr3f0f", NULL },
	{ "F15 A-label kept", "example.xn--gckr3f0f", 0, "example.xn--gckr3f0f", NULL },
	{ "F15 A-label upper case", "EXAMPLE.XN--GCKR3F0F", 0, "example.xn--gckr3f0f", NULL },
	{ "A.3 umlaut", "m\xc3\xbcnchen.example", 0, "xn--mnchen-3ya.example", NULL },
	{ "A.3 upper-case umlaut folded", "M\xc3\x9c" "NCHEN.example", 0,
	    "xn--mnchen-3ya.example", NULL },
	{ "A.3 sharp s nontransitional", "stra\xc3\x9f" "e.example", 0,
	    "xn--strae-oqa.example", NULL },
	{ "A.3 UTF-8 with port", "[m\xc3\xbcnchen.example]:25", 0,
	    "xn--mnchen-3ya.example", NULL },
	{ "A.3 ideographic full stop as final dot", "example.com\xe3\x80\x82", 0,
	    "example.com", NULL },
	{ "A.3 bad punycode", "xn--zz.example", 0, NULL, "idn-invalid" },
	{ "A.3 invalid UTF-8", "a\x80" "b.example", 0, NULL, "idn-invalid" },
	{ "A.3 U-label too long for a label",
	    "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	    "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	    "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	    "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	    "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	    "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	    "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	    ".example", 0, NULL, "idn-invalid" },
	/* A.1: the next-hop domain itself, any depth. */
	{ "A.1 subdomain kept", "mail.example.com", 0, "mail.example.com", NULL },
	{ "single label", "localhost", 0, "localhost", NULL },
	{ "digits and hyphens", "a-1.0example.com", 0, "a-1.0example.com", NULL },
	/* A.2: address literals in every shape Postfix or a user sends. */
	{ "A.2 bare IPv4", "192.0.2.1", 0, NULL, "ip-literal" },
	{ "A.2 bare IPv4 final dot", "192.0.2.1.", 0, NULL, "ip-literal" },
	{ "A.2 IPv4:port", "192.0.2.1:25", 0, NULL, "ip-literal" },
	{ "A.2 [IPv4]:port", "[192.0.2.1]:587", 0, NULL, "ip-literal" },
	{ "A.2 [IPv6:]", "[IPv6:2001:db8::1]", 0, NULL, "ip-literal" },
	{ "A.2 [ipv6:] lower case tag", "[ipv6:::1]", 0, NULL, "ip-literal" },
	{ "A.2 [IPv6] untagged", "[2001:db8::1]", 0, NULL, "ip-literal" },
	{ "A.2 bare IPv6", "2001:db8::1", 0, NULL, "ip-literal" },
	{ "A.2 IPv6: untagged brackets", "IPv6:2001:db8::1", 0, NULL, "ip-literal" },
	{ "numeric last label", "1.2.3", 0, NULL, "not-hostname" },
	/* F.43 and the other immediate NOTFOUND answers. */
	{ "F.43 parent probe TLD", ".com", 0, NULL, "parent-probe" },
	{ "F.43 lone dot", ".", 0, NULL, "parent-probe" },
	{ "empty", "", 0, NULL, "empty" },
	{ "empty brackets", "[]", 0, NULL, "empty" },
	{ "empty brackets with port", "[]:25", 0, NULL, "empty" },
	{ "two final dots", "example.com..", 0, NULL, "not-hostname" },
	{ "empty label", "a..example.com", 0, NULL, "not-hostname" },
	{ "underscore", "a_b.example.com", 0, NULL, "not-hostname" },
	{ "space", "a b.example.com", 0, NULL, "not-hostname" },
	{ "leading hyphen", "-a.example.com", 0, NULL, "not-hostname" },
	{ "trailing hyphen", "a-.example.com", 0, NULL, "not-hostname" },
	{ "embedded NUL", "example.com\0evil", 16, NULL, "not-hostname" },
	{ "control byte", "exa\tmple.com", 0, NULL, "not-hostname" },
	{ "DEL byte", "exa\x7fmple.com", 0, NULL, "not-hostname" },
	{ "CR LF", "example.com\r\n", 0, NULL, "not-hostname" },
	{ "unclosed bracket", "[example.com", 0, NULL, "not-hostname" },
	{ "junk after bracket", "[example.com]x", 0, NULL, "not-hostname" },
	{ "empty port", "[example.com]:", 0, NULL, "not-hostname" },
	{ "port not digits", "example.com:smtp", 0, NULL, "not-hostname" },
	{ "port too big", "example.com:65536", 0, NULL, "not-hostname" },
	{ "port six digits", "[example.com]:000025", 0, NULL, "not-hostname" },
	{ "colons in name", "a:b:c", 0, NULL, "not-hostname" },
	{ "brackets in brackets", "[[example.com]]", 0, NULL, "not-hostname" },
	{ "slash", "example.com/x", 0, NULL, "not-hostname" },
};

/* Keys built at run time: length limits. */
static void
test_lengths(void)
{
	char		 key[2048], out[KEY_BUF];
	const char	*why;
	size_t		 n;
	int		 rc;

	/* 63+1+63+1+63+1+61 = 253 bytes: the longest domain. */
	memset(key, 'a', 253);
	key[63] = key[127] = key[191] = '.';
	rc = key_normalise(key, 253, out, &why);
	is_int(rc, 0, "253-byte domain accepted");
	is_int((long)strlen(out), 253, "253-byte domain kept whole");

	key[253] = '.';
	rc = key_normalise(key, 254, out, &why);
	is_int(rc, 0, "253 bytes plus the final dot accepted");

	memcpy(key + 253, "b", 1);
	rc = key_normalise(key, 254, out, &why);
	is_int(rc, -1, "254-byte domain refused");
	is_str(why, "too-long", "254-byte domain: too-long");

	memset(key, 'a', 64);
	memcpy(key + 64, ".example", 8);
	rc = key_normalise(key, 72, out, &why);
	is_str(rc == -1 ? why : out, "not-hostname", "64-byte label: not-hostname");

	memset(key, 'a', sizeof key);
	rc = key_normalise(key, sizeof key, out, &why);
	is_str(rc == -1 ? why : out, "too-long", "2048-byte key: too-long");

	/* A UTF-8 key over 253 bytes whose A-label form fits (A.3). */
	n = 0;
	while (n < 40 * 3) {
		memcpy(key + n, "\xe3\x82\xaf", 3);	/* U+30AF */
		n += 3;
	}
	memcpy(key + n, ".", 1);
	n++;
	while (n < 40 * 3 + 1 + 45 * 3) {
		memcpy(key + n, "\xe3\x83\xa9", 3);	/* U+30E9 */
		n += 3;
	}
	rc = key_normalise(key, n, out, &why);
	ok(n > 253 && rc == 0 && strncmp(out, "xn--", 4) == 0,
	    "255-byte UTF-8 key converted (%zu bytes -> %zu)", n,
	    rc == 0 ? strlen(out) : 0);
}

/* key_normalise must never read key[len] or past: use an exact heap copy. */
static void
test_bounds(void)
{
	const char	*src = "[relay.example.net]:123", *why;
	char		*key, out[KEY_BUF];
	size_t		 len = strlen(src);
	int		 rc;

	key = malloc(len);
	memcpy(key, src, len);
	rc = key_normalise(key, len, out, &why);
	is_str(rc == 0 ? out : why, "relay.example.net",
	    "unterminated key read within len");
	/* A prefix of a longer buffer: only len bytes count. */
	rc = key_normalise("example.com.evil", 11, out, &why);
	is_str(rc == 0 ? out : why, "example.com", "only len bytes are read");
	free(key);
}

static void
test_is_hostname(void)
{
	static const struct {
		const char	*s;
		int		 want;
	} t[] = {
		{ "example.com", 1 }, { "EXAMPLE.com", 1 }, { "a", 1 },
		{ "xn--gckr3f0f", 1 }, { "example.com.", 0 }, { "", 0 },
		{ ".example.com", 0 }, { "*.example.com", 0 }, { "1.2.3.4", 0 },
		{ "4.example", 1 }, { "a-.b", 0 }, { "a.-b", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		is_int(key_is_hostname(t[i].s, strlen(t[i].s)), t[i].want,
		    "key_is_hostname(\"%s\")", t[i].s);
	is_int(key_is_hostname("ab\0c", 4), 0, "key_is_hostname: embedded NUL");
}

int
main(void)
{
	const struct key_case	*c;
	char			 out[KEY_BUF];
	const char		*why;
	size_t			 i, len;
	int			 rc;

	for (i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
		c = &key_cases[i];
		len = c->len != 0 ? c->len : strlen(c->key);
		why = "(unset)";
		rc = key_normalise(c->key, len, out, &why);
		if (c->want != NULL)
			is_str(rc == 0 ? out : why, c->want, "%s", c->id);
		else
			is_str(rc == -1 ? why : out, c->why, "%s", c->id);
	}
	test_lengths();
	test_bounds();
	test_is_hostname();
	return (done_testing());
}
