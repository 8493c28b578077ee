/*
 * reply.c: the answer text for Postfix and Exim (BEHAVIOUR.md "Replies",
 * INTEGRATION.md "Postfix TLS policy result syntax", RFC8461-CHECKLIST
 * F.40-F.42).  Pure: no I/O, no logging; the caller logs *dropped.
 *
 * Everything that goes into a reply is checked here again, whatever the
 * parser promised: an mx value is copied only when it is ["*."] plus an
 * LDH host name, a policy line only when reply_line_safe() says so, the
 * domain only when it is an LDH host name.  So no byte that a policy
 * host sends can add, end or repeat a Postfix attribute.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "defaults.h"
#include "key.h"
#include "reply.h"
#include "sts.h"

#define REPLY_NOTFOUND		"NOTFOUND "
#define REPLY_PS_OPEN		" { policy_string = "
#define REPLY_PS_CLOSE		" }"
#define REPLY_EXIM_NONE		"none"
#define REPLY_INIT_SIZE		256
/* Room kept free for the synthesized policy_string lines. */
#define REPLY_SYNTH_RESERVE	256

/* A reply under construction; never longer than REPLY_MAX bytes. */
struct reply_buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	int	 oom;		/* an allocation failed */
	int	 full;		/* a piece would have passed REPLY_MAX */
};

static void	 reply_add(struct reply_buf *, const char *, size_t);
static void	 reply_adds(struct reply_buf *, const char *);
static void	 reply_addf(struct reply_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static char	*reply_finish(struct reply_buf *, const char *);
static char	*reply_const(const char *);
static int	 reply_mx_ok(const struct sts_policy *, size_t);
static size_t	 reply_mx_count(const struct sts_policy *);
static size_t	 reply_mx_flags(const struct sts_policy *, unsigned char *);
static int	 reply_enforced(const struct sts_policy *,
		    const struct reply_opts *);
static const char *reply_mode_word(const struct sts_policy *,
		    const struct reply_opts *);
static void	 reply_add_lines(struct reply_buf *, const struct sts_policy *,
		    size_t *);
static void	 reply_add_synth(struct reply_buf *, const struct sts_policy *);
static size_t	 reply_utf8_len(const unsigned char *);

/* Append n bytes unless that would pass REPLY_MAX. */
static void
reply_add(struct reply_buf *b, const char *s, size_t n)
{
	char	*p;
	size_t	 cap;

	if (b->oom || b->full)
		return;
	if (n > REPLY_MAX - b->len) {
		b->full = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? REPLY_INIT_SIZE : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->s, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
reply_adds(struct reply_buf *b, const char *s)
{
	reply_add(b, s, strlen(s));
}

/* Append a short formatted piece (numbers, fixed words). */
static void
reply_addf(struct reply_buf *b, const char *fmt, ...)
{
	char	tmp[128];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		b->full = 1;
		return;
	}
	reply_add(b, tmp, (size_t)n);
}

/*
 * Hand the built string over.  Out of memory gives NULL (the caller
 * answers TEMP); a reply that does not fit gives the fallback answer.
 */
static char *
reply_finish(struct reply_buf *b, const char *fallback)
{
	if (b->oom || b->s == NULL) {
		free(b->s);
		return (NULL);
	}
	if (b->full) {
		free(b->s);
		return (reply_const(fallback));
	}
	return (b->s);
}

/* A malloc'd copy of a fixed reply; NULL when out of memory. */
static char *
reply_const(const char *s)
{
	return (strdup(s));
}

/*
 * Whether mx[i] of p may be used: ["*."] LDH host name, and not the same
 * as an earlier entry (sts.c de-duplicates already; a repeat here would
 * repeat an attribute value, so it is skipped again).
 */
static int
reply_mx_ok(const struct sts_policy *p, size_t i)
{
	const char	*m = p->mx[i];
	size_t		 j;

	if (m == NULL)
		return (0);
	if (m[0] == '*' && m[1] == '.')
		m += 2;
	if (!key_is_hostname(m, strlen(m)))
		return (0);
	for (j = 0; j < i; j++) {
		if (p->mx[j] != NULL && strcmp(p->mx[j], p->mx[i]) == 0)
			return (0);
	}
	return (1);
}

/*
 * How many mx values of p reply_mx_ok() accepts.  A policy with more than
 * STS_MX_MAX is invalid (sts.h) and counts as having none; that also
 * bounds the size of every reply.
 */
static size_t
reply_mx_count(const struct sts_policy *p)
{
	size_t	i, n = 0;

	if (p->mx == NULL || p->nmx > STS_MX_MAX)
		return (0);
	for (i = 0; i < p->nmx; i++)
		n += reply_mx_ok(p, i);
	return (n);
}

/*
 * reply_mx_count, also noting in ok[i] whether mx[i] is used (ok holds
 * STS_MX_MAX flags; nothing is noted when the count is 0).
 */
static size_t
reply_mx_flags(const struct sts_policy *p, unsigned char *ok)
{
	size_t	i, n = 0;

	if (p->mx == NULL || p->nmx > STS_MX_MAX)
		return (0);
	for (i = 0; i < p->nmx; i++)
		n += (ok[i] = (unsigned char)reply_mx_ok(p, i));
	return (n);
}

/* Whether p is applied as enforce (F.40): enforce, or testing promoted. */
static int
reply_enforced(const struct sts_policy *p, const struct reply_opts *opts)
{
	if (p == NULL)
		return (0);
	return (p->mode == STS_MODE_ENFORCE ||
	    (p->mode == STS_MODE_TESTING && opts->testing_enforce));
}

/* The mode as sent: "enforce", "testing" or "none". */
static const char *
reply_mode_word(const struct sts_policy *p, const struct reply_opts *opts)
{
	if (reply_enforced(p, opts))
		return ("enforce");
	if (p != NULL && p->mode == STS_MODE_TESTING)
		return ("testing");
	return ("none");
}

/*
 * Decode one UTF-8 sequence at s: its length, or 0 when it is invalid
 * (bad lead or continuation byte, overlong form, surrogate, above
 * U+10FFFF) or encodes a C1 control (U+0080-U+009F).
 */
static size_t
reply_utf8_len(const unsigned char *s)
{
	uint32_t	cp, min;
	size_t		n, i;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return (0);
	for (i = 1; i < n; i++) {
		/* A NUL here fails the test, so we never pass the string's end. */
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	if (cp <= 0x9f)
		return (0);
	return (n);
}

/*
 * Whether a policy line may go into "{ policy_string = LINE }".  Postfix
 * splits the result at whitespace and commas outside braces and takes a
 * brace group as one value, so a brace in the line could end the group
 * and add attributes (INTEGRATION.md).  Refused: "{", "}", CR, LF, every
 * other C0 control except TAB, DEL, C1 controls, invalid UTF-8, and lines
 * that are empty or only whitespace.  TAB is allowed because RFC 8461
 * permits it (WSP) inside policy lines and, inside a brace group, Postfix
 * treats it like a space: it can neither close the group nor start an
 * attribute.
 */
int
reply_line_safe(const char *line)
{
	const unsigned char	*s = (const unsigned char *)line;
	size_t			 n;
	int			 visible = 0;

	if (s == NULL)
		return (0);
	while (*s != '\0') {
		if (*s == '{' || *s == '}' || *s == 0x7f ||
		    (*s < 0x20 && *s != '\t'))
			return (0);
		if (*s != ' ' && *s != '\t')
			visible = 1;
		if ((n = reply_utf8_len(s)) == 0)
			return (0);
		s += n;
	}
	return (visible);
}

/*
 * Append one policy_string per safe policy line, in order, while the
 * reply stays within REPLY_MAX.  Lines left out (unsafe, past
 * STS_LINES_MAX, or not fitting) are counted in *dropped.
 */
static void
reply_add_lines(struct reply_buf *b, const struct sts_policy *p,
    size_t *dropped)
{
	size_t	i, n, added = 0;
	size_t	over = strlen(REPLY_PS_OPEN) + strlen(REPLY_PS_CLOSE);

	for (i = 0; p->lines != NULL && i < p->nlines; i++) {
		if (i >= STS_LINES_MAX || !reply_line_safe(p->lines[i])) {
			(*dropped)++;
			continue;
		}
		n = strlen(p->lines[i]);
		if (n > REPLY_MAX - b->len || over > REPLY_MAX - b->len - n) {
			(*dropped)++;
			continue;
		}
		reply_adds(b, REPLY_PS_OPEN);
		reply_add(b, p->lines[i], n);
		reply_adds(b, REPLY_PS_CLOSE);
		added++;
	}
	if (added == 0)
		reply_add_synth(b, p);
}

/*
 * No policy line could be sent, but Postfix 3.10 crashes on policy_type=sts
 * without a policy_string: describe the parsed policy with lines built
 * here, which hold only fixed words, digits and checked mx values.
 */
static void
reply_add_synth(struct reply_buf *b, const struct sts_policy *p)
{
	char	tail[64];
	size_t	i, n, need;
	int	tlen;

	reply_adds(b, REPLY_PS_OPEN "version: STSv1" REPLY_PS_CLOSE);
	reply_addf(b, REPLY_PS_OPEN "mode: %s" REPLY_PS_CLOSE,
	    p->mode == STS_MODE_ENFORCE ? "enforce" : "testing");
	tlen = snprintf(tail, sizeof tail, REPLY_PS_OPEN "max_age: %lu"
	    REPLY_PS_CLOSE, (unsigned long)p->max_age);
	for (i = 0; i < p->nmx; i++) {
		if (!reply_mx_ok(p, i))
			continue;
		n = strlen(p->mx[i]);
		need = sizeof(REPLY_PS_OPEN "mx: " REPLY_PS_CLOSE) - 1 + n +
		    (size_t)tlen;
		if (need > REPLY_MAX - b->len)
			break;
		reply_adds(b, REPLY_PS_OPEN "mx: ");
		reply_add(b, p->mx[i], n);
		reply_adds(b, REPLY_PS_CLOSE);
	}
	reply_add(b, tail, (size_t)tlen);
}

/*
 * The Postfix socketmap reply (F.40-F.42).  NULL only when out of memory;
 * a reply that would pass REPLY_MAX without its policy_string lines (not
 * possible with at most STS_MX_MAX mx values) falls back to NOTFOUND.
 */
char *
reply_postfix(const char *domain, const struct sts_policy *p,
    const struct reply_opts *opts, size_t *dropped)
{
	struct reply_buf	 b = { NULL, 0, 0, 0, 0 };
	size_t			 i, ignored;
	unsigned char		 ok[STS_MX_MAX];
	int			 first = 1;

	if (dropped == NULL)
		dropped = &ignored;
	*dropped = 0;

	/*
	 * F.41, F.42: testing, none, no policy, or no usable mx.  Each mx is
	 * judged once (reply_mx_ok is most of the cost of a cached answer).
	 */
	if (!reply_enforced(p, opts) || reply_mx_flags(p, ok) == 0)
		return (reply_const(REPLY_NOTFOUND));

	reply_adds(&b, "OK secure match=");
	for (i = 0; i < p->nmx; i++) {
		if (!ok[i])
			continue;
		if (!first)
			reply_adds(&b, ":");
		first = 0;
		/* Postfix's ".x" is "any subdomain of x"; MTA-STS says "*.x". */
		reply_adds(&b, p->mx[i][0] == '*' ? p->mx[i] + 1 : p->mx[i]);
	}
	if (opts->servername)
		reply_adds(&b, " servername=hostname");

	if (opts->tlsrpt && domain != NULL &&
	    key_is_hostname(domain, strlen(domain))) {
		reply_adds(&b, " policy_type=sts policy_domain=");
		reply_adds(&b, domain);
		for (i = 0; i < p->nmx; i++) {
			if (!ok[i])
				continue;
			reply_adds(&b, " mx_host_pattern=");
			reply_adds(&b, p->mx[i]);
		}
		if (REPLY_MAX - b.len < REPLY_SYNTH_RESERVE)
			b.full = 1;
		reply_add_lines(&b, p, dropped);
	}
	return (reply_finish(&b, REPLY_NOTFOUND));
}

/*
 * The Exim line-protocol reply (contrib/exim/README.md, "Protocol"):
 * without host "enforce P1:P2", "testing P1:P2" or "none"; with host
 * "enforce match", "enforce nomatch", "testing match", "testing nomatch"
 * or "none".  NULL only when out of memory.
 */
char *
reply_exim(const char *domain, const struct sts_policy *p,
    const struct reply_opts *opts, const char *host)
{
	struct reply_buf	 b = { NULL, 0, 0, 0, 0 };
	const char		*word;
	size_t			 i;
	int			 first = 1, match = 0;

	if (p == NULL || (p->mode != STS_MODE_ENFORCE &&
	    p->mode != STS_MODE_TESTING) || reply_mx_count(p) == 0)
		return (reply_const(REPLY_EXIM_NONE));
	word = reply_mode_word(p, opts);
	reply_adds(&b, word);

	if (host != NULL) {
		for (i = 0; i < p->nmx && !match; i++) {
			if (reply_mx_ok(p, i))
				match = sts_mx_match(p->mx[i], host);
		}
		reply_adds(&b, match ? " match" : " nomatch");
		return (reply_finish(&b, REPLY_EXIM_NONE));
	}

	for (i = 0; i < p->nmx; i++) {
		if (!reply_mx_ok(p, i))
			continue;
		reply_adds(&b, first ? " " : ":");
		reply_adds(&b, p->mx[i]);
		first = 0;
	}
	return (reply_finish(&b, REPLY_EXIM_NONE));
}
