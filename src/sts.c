/*
 * sts.c: the pure RFC 8461 logic.  TXT records (section 3.1), policy
 * bodies (section 3.2) and MX patterns (section 4.1).  No I/O: callers
 * hand in bytes and get back a verdict plus findings.
 *
 * Every parser walks its input by index and length, never by NUL, so any
 * byte sequence (embedded NULs, stray CRs, UTF-8, nothing at all) is
 * answered without reading past the end.
 */
#include "config.h"

#include <limits.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "sts.h"
#include "util.h"

#define STS_RFC_TXT	"RFC 8461 3.1"
#define STS_RFC_POLICY	"RFC 8461 3.2"
#define STS_RFC_BEHAV	"BEHAVIOUR.md"

#define STS_VERSION	"v=STSv1"
#define STS_VERSION_LEN	7
#define STS_NAME_MAX	32	/* extension names: 1 + *31 characters */
#define STS_AGE_DIGITS	10	/* max_age = 1*10(DIGIT) */
#define STS_QUOTE_MAX	48	/* peer bytes quoted in a finding */

/* State of one policy parse. */
struct sts_pctx {
	struct sts_diag		*diag;
	struct sts_policy	*p;
	size_t			 mxalloc;
	size_t			 linealloc;
	int			 errors;
	int			 have_version;
	int			 have_mode;
	int			 mode_ok;
	int			 have_max_age;
	int			 blank_seen;
	int			 mx_overflow;
	int			 lines_overflow;
};

static void	sts_diag_vadd(struct sts_diag *, int, int, const char *,
		    const char *, const char *, va_list)
		    __attribute__((format(printf, 6, 0)));
static void	sts_perr(struct sts_pctx *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));
static void	sts_pwarn(struct sts_pctx *, int, const char *, const char *,
		    const char *, ...) __attribute__((format(printf, 5, 6)));

static int
sts_is_alpha(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

static int
sts_is_digit(unsigned char c)
{
	return (c >= '0' && c <= '9');
}

static int
sts_is_alnum(unsigned char c)
{
	return (sts_is_alpha(c) || sts_is_digit(c));
}

static int
sts_is_wsp(unsigned char c)
{
	return (c == ' ' || c == '\t');
}

static unsigned char
sts_lower(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
}

/* ASCII case-insensitive comparison of two byte ranges of length n. */
static int
sts_caseeq(const char *a, const char *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (sts_lower((unsigned char)a[i]) !=
		    sts_lower((unsigned char)b[i]))
			return (0);
	}
	return (1);
}

/* Whether the byte range s[0..len) is exactly the string lit. */
static int
sts_eq(const char *s, size_t len, const char *lit)
{
	return (strlen(lit) == len && memcmp(s, lit, len) == 0);
}

/*
 * Copy peer bytes into buf for a finding: printable ASCII kept, anything
 * else shown as '?', long input cut with "...".
 */
static const char *
sts_quote(const char *s, size_t len, char *buf, size_t bufsz)
{
	size_t		i, n;
	unsigned char	c;

	n = len > STS_QUOTE_MAX ? STS_QUOTE_MAX : len;
	if (n + 4 > bufsz)
		n = bufsz > 4 ? bufsz - 4 : 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (n < len && bufsz >= 4) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return (buf);
}

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629) at s, or 0 if the
 * bytes there are not one.  ASCII counts as a sequence of one.
 */
static size_t
sts_utf8_len(const unsigned char *s, size_t len)
{
	size_t		need, i;
	unsigned char	lo = 0x80, hi = 0xbf;

	if (len == 0)
		return (0);
	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (len < need || s[1] < lo || s[1] > hi)
		return (0);
	for (i = 2; i < need; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return (0);
	}
	return (need);
}

/* Whether s is a field name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
static int
sts_name_valid(const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	if (len == 0 || len > STS_NAME_MAX || !sts_is_alnum((unsigned char)s[0]))
		return (0);
	for (i = 1; i < len; i++) {
		c = (unsigned char)s[i];
		if (!sts_is_alnum(c) && c != '_' && c != '-' && c != '.')
			return (0);
	}
	return (1);
}

/* Record one finding; see sts_diag_add. */
static void
sts_diag_vadd(struct sts_diag *d, int line, int error, const char *code,
    const char *rfc, const char *fmt, va_list ap)
{
	struct sts_finding	*f;

	if (d == NULL)
		return;
	if (d->n >= STS_DIAG_MAX) {
		d->n = STS_DIAG_MAX;
		d->dropped++;
		/* An error always finds a place: it replaces the last warning. */
		if (!error || sts_diag_has_error(d))
			return;
		f = &d->f[STS_DIAG_MAX - 1];
	} else
		f = &d->f[d->n++];
	f->line = line;
	f->error = error;
	f->code = code;
	f->rfc = rfc;
	vsnprintf(f->msg, sizeof f->msg, fmt, ap);
}

void
sts_diag_add(struct sts_diag *d, int line, int error, const char *code,
    const char *rfc, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	sts_diag_vadd(d, line, error, code, rfc, fmt, ap);
	va_end(ap);
}

/* Whether any kept finding is an error. */
int
sts_diag_has_error(const struct sts_diag *d)
{
	size_t	i, n;

	if (d == NULL)
		return (0);
	n = d->n > STS_DIAG_MAX ? STS_DIAG_MAX : d->n;
	for (i = 0; i < n; i++) {
		if (d->f[i].error)
			return (1);
	}
	return (0);
}

/* TXT records (section 3.1). */

/* Concatenate the length-prefixed strings of one TXT RR (A4). */
int
sts_txt_join(const uint8_t *rdata, size_t rdlen, char *out, size_t outsz)
{
	size_t	pos = 0, total = 0, n;

	if (out == NULL || outsz == 0)
		return (-1);
	out[0] = '\0';
	/* TXT-DATA is one or more character-strings. */
	if (rdata == NULL || rdlen == 0)
		return (-1);
	while (pos < rdlen) {
		n = rdata[pos++];
		if (n > rdlen - pos || n >= outsz - total)
			return (-1);
		memcpy(out + total, rdata + pos, n);
		total += n;
		pos += n;
	}
	if (total > INT_MAX)
		return (-1);
	out[total] = '\0';
	return ((int)total);
}

int
sts_txt_is_candidate(const char *rec, size_t len)
{
	size_t	i;

	if (rec == NULL || len < STS_VERSION_LEN ||
	    memcmp(rec, STS_VERSION, STS_VERSION_LEN) != 0)
		return (0);
	for (i = STS_VERSION_LEN; i < len && sts_is_wsp((unsigned char)rec[i]); i++)
		;
	return (i == len || rec[i] == ';');
}

/* Whether v is an id value: 1*32(ALPHA / DIGIT). */
static int
sts_txt_id_valid(const char *v, size_t len)
{
	size_t	i;

	if (len == 0 || len > STS_ID_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (!sts_is_alnum((unsigned char)v[i]))
			return (0);
	}
	return (1);
}

/* Whether v is an extension value: 1*(%x21-3A / %x3C / %x3E-7E). */
static int
sts_txt_ext_value_valid(const char *v, size_t len)
{
	size_t		i;
	unsigned char	c;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		c = (unsigned char)v[i];
		if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
			return (0);
	}
	return (1);
}

/*
 * Parse one candidate: "v=STSv1" 1*(delim field) [delim] where delim is
 * *WSP ";" *WSP.  The first id counts; later ones and unknown fields must
 * still be well-formed extensions.
 */
int
sts_txt_parse(const char *rec, size_t len, struct sts_txt *out,
    struct sts_diag *diag)
{
	char		 q[STS_QUOTE_MAX + 4];
	const char	*name, *val;
	size_t		 i, nlen, vlen, id_len = 0, ws;
	const char	*id = NULL;

	if (rec == NULL)
		len = 0;
	for (i = 0; i < len; i++) {
		if ((unsigned char)rec[i] > 0x7f) {
			sts_diag_add(diag, 0, 1, "txt-non-ascii", STS_RFC_TXT,
			    "byte 0x%02x at offset %zu: the record must be "
			    "US-ASCII", (unsigned char)rec[i], i);
			return (-1);
		}
	}
	if (!sts_txt_is_candidate(rec, len)) {
		sts_diag_add(diag, 0, 1, "txt-syntax", STS_RFC_TXT,
		    "record does not start with v=STSv1 then ';' or end");
		return (-1);
	}
	i = STS_VERSION_LEN;
	for (;;) {
		/* A delimiter, a trailing delimiter, or the end. */
		for (ws = i; i < len && sts_is_wsp((unsigned char)rec[i]); i++)
			;
		if (i == len && i == ws)
			break;
		if (i == len || rec[i] != ';') {
			sts_diag_add(diag, 0, 1, "txt-syntax", STS_RFC_TXT,
			    "expected ';' at offset %zu", i);
			return (-1);
		}
		for (i++; i < len && sts_is_wsp((unsigned char)rec[i]); i++)
			;
		if (i == len)
			break;
		if (rec[i] == ';') {
			sts_diag_add(diag, 0, 1, "txt-syntax", STS_RFC_TXT,
			    "empty field at offset %zu", i);
			return (-1);
		}

		/* A field: name "=" value, ending at WSP, ';' or the end. */
		name = rec + i;
		while (i < len && rec[i] != '=' && rec[i] != ';' &&
		    !sts_is_wsp((unsigned char)rec[i]))
			i++;
		nlen = (size_t)(rec + i - name);
		if (i == len || rec[i] != '=') {
			sts_diag_add(diag, 0, 1, "txt-syntax", STS_RFC_TXT,
			    "field \"%s\" has no '='",
			    sts_quote(name, nlen, q, sizeof q));
			return (-1);
		}
		val = rec + ++i;
		while (i < len && rec[i] != ';' && !sts_is_wsp((unsigned char)rec[i]))
			i++;
		vlen = (size_t)(rec + i - val);

		if (id == NULL && sts_eq(name, nlen, "id")) {
			if (!sts_txt_id_valid(val, vlen)) {
				sts_diag_add(diag, 0, 1, "txt-id-invalid",
				    STS_RFC_TXT, "id \"%s\" is not 1 to %d "
				    "letters and digits",
				    sts_quote(val, vlen, q, sizeof q), STS_ID_MAX);
				return (-1);
			}
			id = val;
			id_len = vlen;
		} else if (!sts_name_valid(name, nlen) ||
		    !sts_txt_ext_value_valid(val, vlen)) {
			sts_diag_add(diag, 0, 1, "txt-extension-invalid",
			    STS_RFC_TXT, "malformed field \"%s\"",
			    sts_quote(name, (size_t)(rec + i - name), q,
			    sizeof q));
			return (-1);
		}
	}
	if (id == NULL) {
		sts_diag_add(diag, 0, 1, "txt-id-missing", STS_RFC_TXT,
		    "record has no id field");
		return (-1);
	}
	if (out != NULL) {
		memset(out, 0, sizeof *out);
		memcpy(out->id, id, id_len);
	}
	return (0);
}

/* Discard non-candidates; exactly one must remain and parse (A5, A6). */
enum sts_txt_result
sts_txt_select(const char *const *recs, const size_t *lens, size_t n,
    struct sts_txt *out, struct sts_diag *diag)
{
	size_t	i, ncand = 0, which = 0;

	for (i = 0; recs != NULL && lens != NULL && i < n; i++) {
		if (sts_txt_is_candidate(recs[i], lens[i])) {
			ncand++;
			which = i;
		}
	}
	if (ncand == 0) {
		sts_diag_add(diag, 0, 1, "txt-no-candidate", STS_RFC_TXT,
		    "none of %zu TXT records starts with v=STSv1", n);
		return (STS_TXT_NONE);
	}
	if (ncand > 1) {
		sts_diag_add(diag, 0, 1, "txt-multiple", STS_RFC_TXT,
		    "%zu TXT records start with v=STSv1: no policy", ncand);
		return (STS_TXT_MULTIPLE);
	}
	if (sts_txt_parse(recs[which], lens[which], out, diag) != 0)
		return (STS_TXT_INVALID);
	return (STS_TXT_FOUND);
}

/* Policy bodies (section 3.2). */

static void
sts_perr(struct sts_pctx *c, int line, const char *code, const char *fmt, ...)
{
	va_list	ap;

	c->errors++;
	va_start(ap, fmt);
	sts_diag_vadd(c->diag, line, 1, code, STS_RFC_POLICY, fmt, ap);
	va_end(ap);
}

static void
sts_pwarn(struct sts_pctx *c, int line, const char *code, const char *rfc,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	sts_diag_vadd(c->diag, line, 0, code, rfc, fmt, ap);
	va_end(ap);
}

/* Append s to a growing array of strings. */
static void
sts_push(char ***v, size_t *n, size_t *alloc, char *s)
{
	if (*n == *alloc) {
		*alloc = *alloc == 0 ? 8 : *alloc * 2;
		*v = xrealloc(*v, *alloc * sizeof **v);
	}
	(*v)[(*n)++] = s;
}

/* Parse a mode value; -1 if it is not one. */
static int
sts_mode_parse_len(const char *s, size_t len)
{
	if (sts_eq(s, len, "enforce"))
		return (STS_MODE_ENFORCE);
	if (sts_eq(s, len, "testing"))
		return (STS_MODE_TESTING);
	if (sts_eq(s, len, "none"))
		return (STS_MODE_NONE);
	return (-1);
}

/* max_age: 1*10(DIGIT), clamped to MAX_AGE_CLAMP with a warning. */
static void
sts_policy_max_age(struct sts_pctx *c, int line, const char *v, size_t len)
{
	char		q[STS_QUOTE_MAX + 4];
	uint64_t	age = 0;
	size_t		i;

	if (len == 0 || len > STS_AGE_DIGITS) {
		sts_perr(c, line, "policy-max-age-invalid",
		    "max_age \"%s\" is not 1 to %d digits",
		    sts_quote(v, len, q, sizeof q), STS_AGE_DIGITS);
		return;
	}
	for (i = 0; i < len; i++) {
		if (!sts_is_digit((unsigned char)v[i])) {
			sts_perr(c, line, "policy-max-age-invalid",
			    "max_age \"%s\" is not 1 to %d digits",
			    sts_quote(v, len, q, sizeof q), STS_AGE_DIGITS);
			return;
		}
		age = age * 10 + (uint64_t)(v[i] - '0');
	}
	if (age > MAX_AGE_CLAMP) {
		sts_pwarn(c, line, "policy-max-age-clamped", STS_RFC_BEHAV,
		    "max_age %llu clamped to %d", (unsigned long long)age,
		    MAX_AGE_CLAMP);
		age = MAX_AGE_CLAMP;
	}
	c->p->max_age = (uint32_t)age;
}

/* mx: keep a valid pattern lowercased and once; drop an invalid one. */
static void
sts_policy_mx(struct sts_pctx *c, int line, const char *v, size_t len)
{
	char	 q[STS_QUOTE_MAX + 4];
	char	*mx;
	size_t	 i;

	if (!sts_mx_valid(v, len)) {
		sts_pwarn(c, line, "policy-mx-invalid", STS_RFC_POLICY,
		    "mx \"%s\" is not [*.]domain in A-labels: dropped",
		    sts_quote(v, len, q, sizeof q));
		return;
	}
	mx = xstrndup(v, len);
	util_lower(mx);
	for (i = 0; i < c->p->nmx; i++) {
		if (strcmp(c->p->mx[i], mx) == 0) {
			free(mx);
			return;
		}
	}
	if (c->p->nmx == STS_MX_MAX) {
		free(mx);
		if (!c->mx_overflow)
			sts_perr(c, line, "policy-mx-too-many",
			    "more than %d mx patterns", STS_MX_MAX);
		c->mx_overflow = 1;
		return;
	}
	sts_push(&c->p->mx, &c->p->nmx, &c->mxalloc, mx);
}

/* Whether v is an extension value: VCHAR or UTF-8, inner SP allowed. */
static int
sts_policy_ext_value_valid(const char *v, size_t len)
{
	const unsigned char	*u = (const unsigned char *)v;
	size_t			 i = 0, n;

	if (len == 0)
		return (0);
	while (i < len) {
		if (u[i] == ' ' || (u[i] > 0x20 && u[i] < 0x7f))
			n = 1;
		else if (u[i] < 0x80 || (n = sts_utf8_len(u + i, len - i)) == 0)
			return (0);
		i += n;
	}
	return (1);
}

/* Whether a known key was seen before; warn about the repeat. */
static int
sts_policy_dup(struct sts_pctx *c, int line, int *seen, const char *key)
{
	if (!*seen) {
		*seen = 1;
		return (0);
	}
	sts_pwarn(c, line, "policy-field-duplicate", STS_RFC_POLICY,
	    "repeated %s field ignored: the first one counts", key);
	return (1);
}

/* One non-blank line without its terminator and trailing WSP. */
static void
sts_policy_line(struct sts_pctx *c, int line, const char *s, size_t len)
{
	char		 q[STS_QUOTE_MAX + 4];
	const char	*v;
	size_t		 i, klen, vlen;
	unsigned char	 ch;
	int		 mode;

	if (c->p->nlines < STS_LINES_MAX)
		sts_push(&c->p->lines, &c->p->nlines, &c->linealloc,
		    xstrndup(s, len));
	else if (!c->lines_overflow) {
		c->lines_overflow = 1;
		sts_pwarn(c, line, "policy-lines-truncated", STS_RFC_BEHAV,
		    "more than %d lines: later lines not kept for reports",
		    STS_LINES_MAX);
	}

	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			sts_perr(c, line, "policy-syntax",
			    "control byte 0x%02x at column %zu", ch, i + 1);
			return;
		}
	}

	/* key ":" *WSP value; no whitespace before or inside the key. */
	for (klen = 0; klen < len && s[klen] != ':'; klen++)
		;
	if (klen == len || !sts_name_valid(s, klen)) {
		sts_perr(c, line, "policy-syntax",
		    "\"%s\" is not key: value", sts_quote(s, len, q, sizeof q));
		return;
	}
	for (i = klen + 1; i < len && sts_is_wsp((unsigned char)s[i]); i++)
		;
	v = s + i;
	vlen = len - i;

	if (sts_eq(s, klen, "version")) {
		if (sts_policy_dup(c, line, &c->have_version, "version"))
			return;
		if (!sts_eq(v, vlen, "STSv1"))
			sts_perr(c, line, "policy-version-invalid",
			    "version \"%s\" is not STSv1",
			    sts_quote(v, vlen, q, sizeof q));
	} else if (sts_eq(s, klen, "mode")) {
		if (sts_policy_dup(c, line, &c->have_mode, "mode"))
			return;
		if ((mode = sts_mode_parse_len(v, vlen)) == -1)
			sts_perr(c, line, "policy-mode-invalid",
			    "mode \"%s\" is not enforce, testing or none",
			    sts_quote(v, vlen, q, sizeof q));
		else {
			c->p->mode = (enum sts_mode)mode;
			c->mode_ok = 1;
		}
	} else if (sts_eq(s, klen, "max_age")) {
		if (sts_policy_dup(c, line, &c->have_max_age, "max_age"))
			return;
		sts_policy_max_age(c, line, v, vlen);
	} else if (sts_eq(s, klen, "mx"))
		sts_policy_mx(c, line, v, vlen);
	else if (!sts_policy_ext_value_valid(v, vlen))
		sts_perr(c, line, "policy-syntax",
		    "malformed value for field \"%s\"",
		    sts_quote(s, klen, q, sizeof q));
}

/* The checks that need the whole body. */
static void
sts_policy_finish(struct sts_pctx *c)
{
	if (!c->have_version)
		sts_perr(c, 0, "policy-version-missing", "no version field");
	if (!c->have_mode)
		sts_perr(c, 0, "policy-mode-missing", "no mode field");
	if (!c->have_max_age)
		sts_perr(c, 0, "policy-max-age-missing", "no max_age field");
	if (c->mode_ok && c->p->mode != STS_MODE_NONE && c->p->nmx == 0)
		sts_perr(c, 0, "policy-no-mx",
		    "mode %s needs at least one valid mx",
		    sts_mode_name(c->p->mode));
}

/*
 * Split the body at LF (dropping one CR before it), skip blank lines with
 * a warning, and parse each remaining line.
 */
int
sts_policy_parse(const char *body, size_t len, struct sts_policy **out,
    struct sts_diag *diag)
{
	struct sts_pctx	 c;
	const char	*s, *end, *nl;
	size_t		 n;
	int		 line = 0;

	if (out != NULL)
		*out = NULL;
	memset(&c, 0, sizeof c);
	c.diag = diag;
	if (body == NULL)
		len = 0;
	if (len > POLICY_MAX) {
		sts_perr(&c, 0, "policy-too-large",
		    "body of %zu bytes is over %d", len, POLICY_MAX);
		return (-1);
	}

	c.p = xcalloc(1, sizeof *c.p);
	c.p->text = xmalloc(len + 1);
	if (len > 0)
		memcpy(c.p->text, body, len);
	c.p->text[len] = '\0';
	c.p->textlen = len;

	s = c.p->text;
	end = s + len;
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		sts_pwarn(&c, 1, "policy-bom", STS_RFC_BEHAV,
		    "leading UTF-8 byte order mark stripped");
		s += 3;
	}
	while (s < end) {
		line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		n = (size_t)(nl - s);
		if (nl < end && n > 0 && s[n - 1] == '\r')
			n--;
		while (n > 0 && sts_is_wsp((unsigned char)s[n - 1]))
			n--;
		if (n == 0) {
			if (!c.blank_seen)
				sts_pwarn(&c, line, "policy-blank-line",
				    STS_RFC_BEHAV, "blank line skipped");
			c.blank_seen = 1;
		} else
			sts_policy_line(&c, line, s, n);
		s = nl < end ? nl + 1 : end;
	}
	sts_policy_finish(&c);

	if (c.errors > 0 || out == NULL) {
		sts_policy_free(c.p);
		return (c.errors > 0 ? -1 : 0);
	}
	*out = c.p;
	return (0);
}

void
sts_policy_free(struct sts_policy *p)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nmx; i++)
		free(p->mx[i]);
	free(p->mx);
	for (i = 0; i < p->nlines; i++)
		free(p->lines[i]);
	free(p->lines);
	free(p->text);
	free(p);
}

int
sts_policy_equal(const struct sts_policy *a, const struct sts_policy *b)
{
	size_t	i;

	if (a == NULL || b == NULL)
		return (a == b);
	if (a->mode != b->mode || a->max_age != b->max_age || a->nmx != b->nmx)
		return (0);
	for (i = 0; i < a->nmx; i++) {
		if (strcmp(a->mx[i], b->mx[i]) != 0)
			return (0);
	}
	return (1);
}

const char *
sts_mode_name(enum sts_mode mode)
{
	switch (mode) {
	case STS_MODE_NONE:
		return ("none");
	case STS_MODE_TESTING:
		return ("testing");
	case STS_MODE_ENFORCE:
		return ("enforce");
	}
	return ("unknown");
}

int
sts_mode_parse(const char *s)
{
	if (s == NULL)
		return (-1);
	return (sts_mode_parse_len(s, strlen(s)));
}

/* MX patterns (section 4.1). */

/*
 * Whether s is ["*."] Domain (RFC 5321): LDH labels of 1 to 63 bytes not
 * starting or ending with '-', no empty label, no final dot, at most
 * DOMAIN_MAX bytes.  A last label of digits only is an IP address, not a
 * host name.  Bytes above 0x7F (U-labels) fail the LDH rule.
 */
int
sts_mx_valid(const char *s, size_t len)
{
	size_t		i, start;
	unsigned char	ch;
	int		digits;

	if (s == NULL || len == 0 || len > DOMAIN_MAX)
		return (0);
	i = (len >= 2 && s[0] == '*' && s[1] == '.') ? 2 : 0;
	if (i == len)
		return (0);
	for (;;) {
		start = i;
		digits = 1;
		for (; i < len && s[i] != '.'; i++) {
			ch = (unsigned char)s[i];
			if (!sts_is_alnum(ch) && ch != '-')
				return (0);
			if (!sts_is_digit(ch))
				digits = 0;
		}
		if (i == start || i - start > LABEL_MAX ||
		    s[start] == '-' || s[i - 1] == '-')
			return (0);
		if (i == len)
			return (!digits);
		i++;	/* the dot; a final one leaves an empty label */
	}
}

/* Exact or one-label wildcard match, ASCII case-insensitive (D31). */
/* Whether the n bytes at s are letters, digits and hyphens only. */
static int
sts_ldh(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return (0);
	}
	return (1);
}

int
sts_mx_match(const char *pattern, const char *host)
{
	const char	*dot;
	size_t		 plen, hlen, rlen;

	if (pattern == NULL || host == NULL)
		return (0);
	plen = strlen(pattern);
	hlen = strlen(host);
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (plen == 0 || hlen == 0)
		return (0);
	if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* Exactly one non-empty label in place of the '*'. */
		if (plen == 2 || (dot = memchr(host, '.', hlen)) == NULL ||
		    dot == host || !sts_ldh(host, (size_t)(dot - host)))
			return (0);
		rlen = hlen - (size_t)(dot + 1 - host);
		return (rlen == plen - 2 && sts_caseeq(dot + 1, pattern + 2, rlen));
	}
	return (hlen == plen && sts_caseeq(host, pattern, plen));
}

int
sts_policy_mx_ok(const struct sts_policy *p, const char *host)
{
	size_t	i;

	if (p == NULL)
		return (0);
	for (i = 0; i < p->nmx; i++) {
		if (sts_mx_match(p->mx[i], host))
			return (1);
	}
	return (0);
}
