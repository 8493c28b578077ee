/*
 * sts.h: the pure RFC 8461 logic.  TXT record joining, selection and
 * parsing (section 3.1), policy parsing and validation (section 3.2), and
 * MX pattern matching (section 4.1).  No I/O; every function survives
 * arbitrary bytes.
 */
#ifndef MTASTS_STS_H
#define MTASTS_STS_H

#include <stddef.h>
#include <stdint.h>

#define STS_ID_MAX	32	/* id = 1*32(ALPHA / DIGIT) */
#define STS_MX_MAX	128	/* mx lines kept; more makes the policy invalid */
#define STS_LINES_MAX	512	/* policy lines kept for TLSRPT policy_string */
#define STS_DIAG_MAX	32	/* findings recorded per parse */

enum sts_mode {
	STS_MODE_NONE = 0,
	STS_MODE_TESTING,
	STS_MODE_ENFORCE
};

/*
 * A finding: an error (makes the record or policy invalid) or a warning
 * (a tolerated defect, such as a blank line or a clamped max_age).  code
 * is a stable machine-readable name ("txt-id-invalid"), rfc the rule
 * ("RFC 8461 3.1"), msg a human sentence.  line is 1-based for policies,
 * 0 for TXT records.
 */
struct sts_finding {
	int		 line;
	int		 error;
	const char	*code;
	const char	*rfc;
	char		 msg[200];
};

struct sts_diag {
	struct sts_finding	f[STS_DIAG_MAX];
	size_t			n;
	size_t			dropped;	/* findings past STS_DIAG_MAX */
};

/* Result of choosing among the TXT records at _mta-sts.<domain>. */
enum sts_txt_result {
	STS_TXT_FOUND = 0,	/* exactly one valid STSv1 record */
	STS_TXT_NONE,		/* no record starts with v=STSv1 */
	STS_TXT_MULTIPLE,	/* more than one candidate: no policy */
	STS_TXT_INVALID		/* one candidate, syntactically invalid */
};

struct sts_txt {
	char	id[STS_ID_MAX + 1];
};

/*
 * Join the character-strings of one TXT RR given in wire form (each string
 * a length byte then its bytes) into out, NUL-terminated.  Returns the
 * joined length, or -1 if the wire form is malformed or does not fit.
 */
int	sts_txt_join(const uint8_t *rdata, size_t rdlen, char *out, size_t outsz);

/* Whether a joined record is a candidate: starts "v=STSv1" *WSP (";" / end). */
int	sts_txt_is_candidate(const char *rec, size_t len);

/* Parse one candidate record.  0 and *out filled when valid, -1 otherwise. */
int	sts_txt_parse(const char *rec, size_t len, struct sts_txt *out,
	    struct sts_diag *diag);

/* Choose among n joined records (recs[i] of lens[i] bytes). */
enum sts_txt_result sts_txt_select(const char *const *recs, const size_t *lens,
	    size_t n, struct sts_txt *out, struct sts_diag *diag);

/*
 * A valid policy.  mx holds the patterns lowercased, in policy order,
 * de-duplicated.  lines holds every non-blank line of the body with its
 * terminator and trailing WSP removed, in order (for TLSRPT policy_string);
 * reply.c decides which are safe to send.  text is the body as received.
 */
struct sts_policy {
	enum sts_mode	  mode;
	uint32_t	  max_age;	/* clamped to MAX_AGE_CLAMP */
	char		**mx;
	size_t		  nmx;
	char		**lines;
	size_t		  nlines;
	char		 *text;
	size_t		  textlen;
};

/* Parse and validate a body.  0 and *out set when valid; -1 otherwise. */
int	sts_policy_parse(const char *body, size_t len, struct sts_policy **out,
	    struct sts_diag *diag);
void	sts_policy_free(struct sts_policy *);
/* Whether the policies say the same (mode, max_age, mx list). */
int	sts_policy_equal(const struct sts_policy *, const struct sts_policy *);

const char	*sts_mode_name(enum sts_mode);
/* "enforce" -> STS_MODE_ENFORCE ...; -1 if unknown. */
int		 sts_mode_parse(const char *);

/* Whether the MX host name matches one pattern (section 4.1). */
int	sts_mx_match(const char *pattern, const char *host);
/* Whether the host matches any pattern of the policy. */
int	sts_policy_mx_ok(const struct sts_policy *, const char *host);
/* Whether s is a valid mx pattern: ["*."] LDH domain, A-labels, no final dot. */
int	sts_mx_valid(const char *s, size_t len);

/* Append a finding (no-op when diag is NULL). */
void	sts_diag_add(struct sts_diag *, int line, int error, const char *code,
	    const char *rfc, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
/* Whether diag holds an error. */
int	sts_diag_has_error(const struct sts_diag *);

#endif
