/*
 * key.c: turn a socketmap or Exim query key into the policy domain
 * (BEHAVIOUR.md "Query keys", RFC8461-CHECKLIST A.1-A.3, F.43).
 *
 * The key is whatever the MTA sends: a next-hop domain in any case, with
 * or without a final dot, a smart host in one of Postfix's forms, an
 * address literal, a parent-domain probe, or a UTF-8 domain.  Everything
 * that cannot have a policy is refused here, before any DNS work.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "defaults.h"
#include "key.h"

/*
 * Raw key bytes looked at.  A UTF-8 domain takes at most four bytes per
 * code point and each code point costs at least one A-label byte, so a
 * key whose A-label form fits DOMAIN_MAX is never longer than this.
 */
#define KEY_RAW_MAX	1024
#define KEY_PORT_DIGITS	5
#define KEY_PORT_MAX	65535
#define KEY_IDN_FLAGS	(IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL)

static int	key_is_port(const char *, size_t);
static int	key_is_ip(const char *);
static int	key_has_tag(const char *, size_t, const char *);
static int	key_needs_idn(const char *);
static int	key_strip(char *, size_t *, const char **);

/* Whether s (n bytes) is a port number: 1 to 5 digits, at most 65535. */
static int
key_is_port(const char *s, size_t n)
{
	unsigned long	v = 0;
	size_t		i;

	if (n == 0 || n > KEY_PORT_DIGITS)
		return (0);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return (v <= KEY_PORT_MAX);
}

/* Whether the NUL-terminated s is an IPv4 dotted quad or an IPv6 address. */
static int
key_is_ip(const char *s)
{
	struct in6_addr	a6;
	struct in_addr	a4;

	return (inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1);
}

/* Whether s (n bytes) starts with the ASCII tag, ignoring case. */
static int
key_has_tag(const char *s, size_t n, const char *tag)
{
	size_t	tlen = strlen(tag);

	return (n >= tlen && strncasecmp(s, tag, tlen) == 0);
}

/* Whether s holds a non-ASCII byte or an "xn--" label to check with libidn2. */
static int
key_needs_idn(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			return (1);
	}
	for (p = s; p != NULL; p = strchr(p, '.')) {
		if (*p == '.')
			p++;
		if (strncmp(p, "xn--", 4) == 0)
			return (1);
	}
	return (0);
}

/*
 * Reduce the smart host forms "[host]", "[host]:port" and "host:port" to
 * the host, in place (buf holds *len bytes and a NUL).  Returns 0, or -1
 * with *why set for address literals and malformed forms.
 */
static int
key_strip(char *buf, size_t *len, const char **why)
{
	char	*end, *colon;
	size_t	 hlen;

	if (buf[0] == '[') {
		end = memchr(buf, ']', *len);
		if (end == NULL) {
			*why = "not-hostname";
			return (-1);
		}
		hlen = (size_t)(end - buf) - 1;
		if (end[1] != '\0' && (end[1] != ':' ||
		    !key_is_port(end + 2, *len - (size_t)(end - buf) - 2))) {
			*why = "not-hostname";
			return (-1);
		}
		memmove(buf, buf + 1, hlen);
		buf[hlen] = '\0';
		*len = hlen;
		/* RFC 5321 address literals: "[IPv6:...]", "[192.0.2.1]". */
		if (key_has_tag(buf, hlen, "IPv6:") || key_is_ip(buf)) {
			*why = "ip-literal";
			return (-1);
		}
		return (0);
	}

	if (key_has_tag(buf, *len, "IPv6:")) {
		*why = "ip-literal";
		return (-1);
	}
	colon = memchr(buf, ':', *len);
	if (colon == NULL)
		return (0);
	if (memchr(colon + 1, ':', *len - (size_t)(colon - buf) - 1) != NULL) {
		/* Two colons or more: a bare IPv6 address or nonsense. */
		*why = key_is_ip(buf) ? "ip-literal" : "not-hostname";
		return (-1);
	}
	if (!key_is_port(colon + 1, *len - (size_t)(colon - buf) - 1)) {
		*why = "not-hostname";
		return (-1);
	}
	*colon = '\0';
	*len = (size_t)(colon - buf);
	return (0);
}

/*
 * Normalise a query key into the A-label policy domain.  The steps run in
 * a fixed order so that each key gets one well-defined reason.
 */
int
key_normalise(const char *key, size_t len, char *out, const char **why)
{
	char		 buf[KEY_RAW_MAX + 1], *idn = NULL;
	const char	*host;
	size_t		 i, hlen;
	int		 stripped = 0, rc;

	*why = NULL;
	out[0] = '\0';
	if (len == 0) {
		*why = "empty";
		return (-1);
	}
	if (len > KEY_RAW_MAX) {
		*why = "too-long";
		return (-1);
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f) {
			*why = "not-hostname";
			return (-1);
		}
	}
	if (key[0] == '.') {
		*why = "parent-probe";
		return (-1);
	}
	memcpy(buf, key, len);
	buf[len] = '\0';
	if (key_strip(buf, &len, why) == -1)
		return (-1);

	if (len > 0 && buf[len - 1] == '.') {
		buf[--len] = '\0';
		stripped = 1;
	}
	if (len == 0) {
		*why = "empty";
		return (-1);
	}
	if (key_is_ip(buf)) {
		*why = "ip-literal";
		return (-1);
	}
	for (i = 0; i < len; i++) {
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] += 'a' - 'A';
	}

	host = buf;
	hlen = len;
	if (key_needs_idn(buf)) {
		rc = idn2_to_ascii_8z(buf, &idn, KEY_IDN_FLAGS);
		if (rc != IDN2_OK) {
			*why = rc == IDN2_TOO_BIG_DOMAIN ? "too-long" :
			    "idn-invalid";
			return (-1);
		}
		host = idn;
		hlen = strlen(idn);
		/* A final U+3002 and friends map to a dot only now. */
		if (!stripped && hlen > 0 && host[hlen - 1] == '.')
			hlen--;
	}

	if (hlen > DOMAIN_MAX)
		*why = "too-long";
	else if (!key_is_hostname(host, hlen))
		*why = "not-hostname";
	else {
		memcpy(out, host, hlen);
		out[hlen] = '\0';
	}
	idn2_free(idn);
	return (*why == NULL ? 0 : -1);
}

/*
 * Whether s (len bytes) is an LDH host name: labels of 1 to 63 letters,
 * digits and hyphens, no hyphen at either end of a label, at most
 * DOMAIN_MAX bytes, no empty label (so no final dot), and a last label
 * that is not all digits (that would be an address, not a name).
 */
int
key_is_hostname(const char *s, size_t len)
{
	size_t	i, lablen = 0;
	int	digits = 1;
	char	c;

	if (len == 0 || len > DOMAIN_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '.') {
			if (lablen == 0 || s[i - 1] == '-')
				return (0);
			lablen = 0;
			digits = 1;
			continue;
		}
		if (c == '-') {
			if (lablen == 0)
				return (0);
			digits = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			digits = 0;
		else if (c < '0' || c > '9')
			return (0);
		if (++lablen > LABEL_MAX)
			return (0);
	}
	if (lablen == 0 || s[len - 1] == '-' || digits)
		return (0);
	return (1);
}
