/*
 * ctl-tlsrpt.c: the TLS-RPT record at _smtp._tls.<domain> (RFC 8460
 * section 3), checked by `mtastsctl check` and `lint --tlsrpt`:
 *
 *	tlsrpt-record = "v=TLSRPTv1" 1*(field-delim tlsrpt-field) [field-delim]
 *	field-delim   = *WSP ";" *WSP
 *	tlsrpt-field  = tlsrpt-rua / tlsrpt-extension	(rua is required)
 *	tlsrpt-rua    = "rua=" uri *(*WSP "," *WSP uri)	(mailto: or https:)
 *	ext-name      = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *	ext-value     = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 * Commas and exclamation marks inside a URI must be percent-encoded.
 * Pure: no I/O; survives arbitrary bytes.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "util.h"

#define TLSRPT_VERSION		"v=TLSRPTv1"
#define TLSRPT_VERSION_LEN	(sizeof TLSRPT_VERSION - 1)
#define TLSRPT_NAME_MAX		32	/* ext-name: 1 + 31 characters */
#define TLSRPT_QUOTE_MAX	64	/* bytes of a field quoted in a message */

static int
tlsrpt_wsp(int c)
{
	return (c == ' ' || c == '\t');
}

/* A printable excerpt of s for messages. */
static const char *
tlsrpt_quote(const char *s, size_t len, char *buf, size_t bufsz)
{
	size_t	i, n = 0;

	for (i = 0; i < len && n + 5 < bufsz && i < TLSRPT_QUOTE_MAX; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			buf[n++] = '?';
		else
			buf[n++] = s[i];
	}
	if (i < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return (buf);
}

int
ctl_tlsrpt_candidate(const char *rec, size_t len)
{
	if (rec == NULL || len < TLSRPT_VERSION_LEN ||
	    memcmp(rec, TLSRPT_VERSION, TLSRPT_VERSION_LEN) != 0)
		return (0);
	return (len == TLSRPT_VERSION_LEN || rec[TLSRPT_VERSION_LEN] == ';' ||
	    tlsrpt_wsp((unsigned char)rec[TLSRPT_VERSION_LEN]));
}

/* Whether c may appear unencoded in a rua URI (RFC 3986 minus ',' '!'). */
static int
tlsrpt_uri_char(int c)
{
	if (isalnum(c))
		return (1);
	return (c != '\0' && strchr("-._~:/?#[]@$&'()*+=", c) != NULL);
}

int
ctl_tlsrpt_uri_valid(const char *s, size_t len, const char **why)
{
	const char	*rest, *at, *end;
	size_t		 i, slen;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2])) {
				*why = "a '%' not followed by two hex digits";
				return (0);
			}
			i += 2;
			continue;
		}
		if (s[i] == ',' || s[i] == '!') {
			*why = "',' and '!' must be percent-encoded";
			return (0);
		}
		if (!tlsrpt_uri_char((unsigned char)s[i])) {
			*why = "a character that is not allowed in a URI";
			return (0);
		}
	}
	for (slen = 0; slen < len && s[slen] != ':'; slen++)
		;
	if (slen == len || slen == 0 || !isalpha((unsigned char)s[0])) {
		*why = "no URI scheme";
		return (0);
	}
	rest = s + slen + 1;
	end = s + len;
	if (slen == 6 && strncasecmp(s, "mailto", 6) == 0) {
		/* mailto:local@domain[?hfields] */
		for (i = 0; rest + i < end && rest[i] != '?'; i++)
			;
		end = rest + i;
		at = memchr(rest, '@', (size_t)(end - rest));
		if (at == NULL || at == rest || at + 1 == end ||
		    memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL ||
		    memchr(rest, '/', (size_t)(end - rest)) != NULL) {
			*why = "mailto: needs one address local@domain";
			return (0);
		}
		return (1);
	}
	if (slen == 5 && strncasecmp(s, "https", 5) == 0) {
		if (end - rest < 3 || memcmp(rest, "//", 2) != 0 ||
		    rest[2] == '/' || rest[2] == '?' || rest[2] == '#') {
			*why = "https: needs //host";
			return (0);
		}
		return (1);
	}
	*why = "the scheme is neither mailto: nor https:";
	return (0);
}

/* Whether name is an ext-name. */
static int
tlsrpt_name_valid(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > TLSRPT_NAME_MAX || !isalnum((unsigned char)s[0]))
		return (0);
	for (i = 1; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return (0);
	}
	return (1);
}

/* Whether v is an ext-value. */
static int
tlsrpt_ext_value_valid(const char *v, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e ||
		    v[i] == ';' || v[i] == '=')
			return (0);
	}
	return (1);
}

/* Check the URIs of a rua value (up to ';' or the end, WSP trimmed). */
static int
tlsrpt_rua(const char *v, size_t len, struct ctl_tlsrpt *out,
    struct sts_diag *diag)
{
	char		 q[TLSRPT_QUOTE_MAX + 8];
	const char	*u, *why;
	size_t		 i = 0, ulen;
	int		 bad = 0;

	if (len == 0) {
		sts_diag_add(diag, 0, 1, "tlsrpt-rua-empty", CTL_TLSRPT_RFC,
		    "rua= has no URI");
		return (-1);
	}
	for (;;) {
		u = v + i;
		while (i < len && v[i] != ',' && !tlsrpt_wsp((unsigned char)v[i]))
			i++;
		ulen = (size_t)(v + i - u);
		if (ulen == 0) {
			sts_diag_add(diag, 0, 1, "tlsrpt-rua-empty",
			    CTL_TLSRPT_RFC, "empty URI in rua= at offset %zu",
			    (size_t)(u - v));
			return (-1);
		}
		if (!ctl_tlsrpt_uri_valid(u, ulen, &why)) {
			sts_diag_add(diag, 0, 1, "tlsrpt-uri-invalid",
			    CTL_TLSRPT_RFC, "rua URI \"%s\": %s",
			    tlsrpt_quote(u, ulen, q, sizeof q), why);
			bad = 1;
		} else if (out != NULL && out->nrua < CTL_TLSRPT_RUA_MAX)
			out->rua[out->nrua++] = xstrndup(u, ulen);
		while (i < len && tlsrpt_wsp((unsigned char)v[i]))
			i++;
		if (i == len)
			break;
		if (v[i] != ',') {
			sts_diag_add(diag, 0, 1, "tlsrpt-syntax",
			    CTL_TLSRPT_RFC, "URIs in rua= must be separated "
			    "by ',' (offset %zu)", (size_t)(v + i - v));
			return (-1);
		}
		for (i++; i < len && tlsrpt_wsp((unsigned char)v[i]); i++)
			;
	}
	return (bad ? -1 : 0);
}

int
ctl_tlsrpt_parse(const char *rec, size_t len, struct ctl_tlsrpt *out,
    struct sts_diag *diag)
{
	char		 q[TLSRPT_QUOTE_MAX + 8];
	const char	*name, *val;
	size_t		 i, nlen, vlen, ws;
	int		 have_rua = 0, bad = 0, rua_like = 0;

	if (out != NULL)
		memset(out, 0, sizeof *out);
	if (rec == NULL)
		len = 0;
	for (i = 0; i < len; i++) {
		if ((unsigned char)rec[i] > 0x7e || (unsigned char)rec[i] < 0x20) {
			sts_diag_add(diag, 0, 1, "tlsrpt-syntax", CTL_TLSRPT_RFC,
			    "byte 0x%02x at offset %zu: the record is printable "
			    "US-ASCII", (unsigned char)rec[i], i);
			goto fail;
		}
	}
	if (!ctl_tlsrpt_candidate(rec, len)) {
		sts_diag_add(diag, 0, 1, "tlsrpt-version", CTL_TLSRPT_RFC,
		    "the record does not start with v=TLSRPTv1");
		goto fail;
	}
	for (i = TLSRPT_VERSION_LEN; i < len && tlsrpt_wsp((unsigned char)rec[i]);
	    i++)
		;
	if (i > TLSRPT_VERSION_LEN && i < len && rec[i] == ';')
		sts_diag_add(diag, 0, 0, "tlsrpt-version-delimiter",
		    CTL_TLSRPT_RFC, "whitespace after v=TLSRPTv1: senders "
		    "that look for \"v=TLSRPTv1;\" will ignore the record");
	i = TLSRPT_VERSION_LEN;
	for (;;) {
		for (ws = i; i < len && tlsrpt_wsp((unsigned char)rec[i]); i++)
			;
		if (i == len && i == ws)
			break;
		if (i == len || rec[i] != ';') {
			sts_diag_add(diag, 0, 1, "tlsrpt-syntax", CTL_TLSRPT_RFC,
			    "expected ';' at offset %zu", i);
			goto fail;
		}
		for (i++; i < len && tlsrpt_wsp((unsigned char)rec[i]); i++)
			;
		if (i == len)
			break;
		if (rec[i] == ';') {
			sts_diag_add(diag, 0, 1, "tlsrpt-syntax", CTL_TLSRPT_RFC,
			    "empty field at offset %zu", i);
			goto fail;
		}
		name = rec + i;
		while (i < len && rec[i] != '=' && rec[i] != ';' &&
		    !tlsrpt_wsp((unsigned char)rec[i]))
			i++;
		nlen = (size_t)(rec + i - name);
		if (i == len || rec[i] != '=') {
			sts_diag_add(diag, 0, 1, "tlsrpt-syntax", CTL_TLSRPT_RFC,
			    "field \"%s\" has no '='",
			    tlsrpt_quote(name, nlen, q, sizeof q));
			goto fail;
		}
		val = rec + ++i;
		if (nlen == 3 && memcmp(name, "rua", 3) == 0) {
			/* rua runs to ';' or the end; WSP may follow ','. */
			while (i < len && rec[i] != ';')
				i++;
			vlen = (size_t)(rec + i - val);
			while (vlen > 0 && tlsrpt_wsp((unsigned char)val[vlen - 1]))
				vlen--;
			i = (size_t)(val + vlen - rec);
			if (have_rua) {
				sts_diag_add(diag, 0, 0, "tlsrpt-rua-repeated",
				    CTL_TLSRPT_RFC, "a second rua= field: "
				    "senders may use either");
				continue;
			}
			have_rua = 1;
			if (tlsrpt_rua(val, vlen, out, diag) != 0)
				bad = 1;
			continue;
		}
		while (i < len && rec[i] != ';' && !tlsrpt_wsp((unsigned char)rec[i]))
			i++;
		vlen = (size_t)(rec + i - val);
		if (nlen == 3 && strncasecmp(name, "rua", 3) == 0)
			rua_like = 1;
		if (!tlsrpt_name_valid(name, nlen) ||
		    !tlsrpt_ext_value_valid(val, vlen)) {
			sts_diag_add(diag, 0, 1, "tlsrpt-extension-invalid",
			    CTL_TLSRPT_RFC, "malformed field \"%s\"",
			    tlsrpt_quote(name, (size_t)(rec + i - name), q,
			    sizeof q));
			bad = 1;
		}
	}
	if (!have_rua) {
		sts_diag_add(diag, 0, 1, "tlsrpt-rua-missing", CTL_TLSRPT_RFC,
		    rua_like ? "no rua= field (field names are case-sensitive)" :
		    "no rua= field: it is required");
		bad = 1;
	}
	if (!bad)
		return (0);
fail:
	if (out != NULL)
		ctl_tlsrpt_clear(out);
	return (-1);
}

void
ctl_tlsrpt_clear(struct ctl_tlsrpt *t)
{
	size_t	i;

	for (i = 0; i < t->nrua; i++)
		free(t->rua[i]);
	memset(t, 0, sizeof *t);
}
