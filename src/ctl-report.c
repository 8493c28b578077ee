/*
 * ctl-report.c: findings (errors, warnings, notes) gathered from every
 * step of lint, resolve and check, and the ways to print them and a
 * policy, as text and as JSON.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util.h"

static const char *ctl_sev_names[] = { "note", "warning", "error" };

const char *
ctl_sev_name(enum ctl_sev sev)
{
	if ((size_t)sev >= sizeof ctl_sev_names / sizeof ctl_sev_names[0])
		return ("unknown");
	return (ctl_sev_names[sev]);
}

const char *
ctl_result_name(int status)
{
	switch (status) {
	case CTL_EXIT_OK:
		return ("valid");
	case CTL_EXIT_WARN:
		return ("warnings");
	default:
		return ("errors");
	}
}

void
ctl_findings_add(struct ctl_findings *fs, enum ctl_sev sev, const char *step,
    int line, const char *code, const char *rfc, const char *fmt, ...)
{
	struct ctl_finding	*f;
	va_list			 ap;

	if (fs->n == fs->alloc) {
		fs->alloc = fs->alloc == 0 ? 8 : fs->alloc * 2;
		fs->f = xrealloc(fs->f, fs->alloc * sizeof *fs->f);
	}
	f = &fs->f[fs->n++];
	f->sev = sev;
	f->step = step;
	f->line = line;
	f->code = code;
	f->rfc = rfc;
	va_start(ap, fmt);
	if (vasprintf(&f->msg, fmt, ap) == -1)
		f->msg = xstrdup("(out of memory)");
	va_end(ap);
}

/*
 * The parser names its own tolerances after a design note that is not
 * shipped ("BEHAVIOUR.md"); say plainly what each one is instead.
 */
#define CTL_RULE_INTERNAL	"BEHAVIOUR.md"
static const struct {
	const char	*code;
	const char	*rule;
} ctl_tolerances[] = {
	{ "policy-blank-line",
	  "tolerated: the RFC 8461 3.2 grammar has no blank line" },
	{ "policy-bom",
	  "tolerated: the RFC 8461 3.2 grammar has no byte-order mark" },
	{ "policy-max-age-clamped",
	  "RFC 8461 3.2: max_age is at most 31557600" },
	{ "policy-lines-truncated",
	  "mtastsd keeps only the first lines for reports" },
};

const char *
ctl_rule(const char *code, const char *rule)
{
	size_t	i;

	if (rule == NULL || strcmp(rule, CTL_RULE_INTERNAL) != 0)
		return (rule);
	for (i = 0; i < sizeof ctl_tolerances / sizeof ctl_tolerances[0];
	    i++) {
		if (code != NULL && strcmp(code, ctl_tolerances[i].code) == 0)
			return (ctl_tolerances[i].rule);
	}
	return ("tolerated by mtastsd, see mtastsd(8)");
}

void
ctl_findings_diag(struct ctl_findings *fs, const char *step,
    const struct sts_diag *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		ctl_findings_add(fs, d->f[i].error ? CTL_ERROR : CTL_WARNING,
		    step, d->f[i].line, d->f[i].code,
		    ctl_rule(d->f[i].code, d->f[i].rfc), "%s", d->f[i].msg);
	if (d->dropped > 0)
		ctl_findings_add(fs, CTL_NOTE, step, 0, "findings-dropped", "",
		    "%zu more findings not recorded", d->dropped);
}

size_t
ctl_findings_count(const struct ctl_findings *fs, enum ctl_sev sev)
{
	size_t	i, n = 0;

	for (i = 0; i < fs->n; i++) {
		if (fs->f[i].sev == sev)
			n++;
	}
	return (n);
}

int
ctl_findings_exit(const struct ctl_findings *fs)
{
	if (ctl_findings_count(fs, CTL_ERROR) > 0)
		return (CTL_EXIT_ERROR);
	if (ctl_findings_count(fs, CTL_WARNING) > 0)
		return (CTL_EXIT_WARN);
	return (CTL_EXIT_OK);
}

void
ctl_findings_free(struct ctl_findings *fs)
{
	size_t	i;

	for (i = 0; i < fs->n; i++)
		free(fs->f[i].msg);
	free(fs->f);
	memset(fs, 0, sizeof *fs);
}

static enum ctl_color
ctl_sev_color(enum ctl_sev sev)
{
	switch (sev) {
	case CTL_ERROR:
		return (CTL_RED);
	case CTL_WARNING:
		return (CTL_YELLOW);
	default:
		return (CTL_CYAN);
	}
}

void
ctl_findings_print(const struct ctl *ctl, FILE *f,
    const struct ctl_findings *fs, const char *prefix, const char *indent)
{
	const struct ctl_finding	*x;
	size_t				 i;

	for (i = 0; i < fs->n; i++) {
		x = &fs->f[i];
		fputs(indent != NULL ? indent : "", f);
		if (prefix != NULL && x->line > 0)
			fprintf(f, "%s:%d: ", prefix, x->line);
		else if (prefix != NULL)
			fprintf(f, "%s: ", prefix);
		else if (x->line > 0)
			fprintf(f, "line %d: ", x->line);
		fprintf(f, "%s%s%s: %s", ctl_sgr(ctl, ctl_sev_color(x->sev)),
		    ctl_sev_name(x->sev), ctl_sgr(ctl, CTL_RESET), x->msg);
		if (x->rfc != NULL && x->rfc[0] != '\0')
			fprintf(f, " [%s, %s]\n", x->code, x->rfc);
		else
			fprintf(f, " [%s]\n", x->code);
	}
}

void
ctl_findings_json(struct json *j, const char *key,
    const struct ctl_findings *fs)
{
	const struct ctl_finding	*x;
	size_t				 i;

	json_open(j, key, '[');
	for (i = 0; i < fs->n; i++) {
		x = &fs->f[i];
		json_open(j, NULL, '{');
		json_str(j, "severity", ctl_sev_name(x->sev));
		json_str(j, "step", x->step);
		if (x->line > 0)
			json_int(j, "line", x->line);
		else
			json_null(j, "line");
		json_str(j, "code", x->code);
		json_str(j, "rfc", x->rfc != NULL && x->rfc[0] != '\0' ?
		    x->rfc : NULL);
		json_str(j, "message", x->msg);
		json_close(j, '{');
	}
	json_close(j, '[');
}

void
ctl_policy_json(struct json *j, const char *key, const struct sts_policy *p)
{
	size_t	i;

	if (p == NULL) {
		json_null(j, key);
		return;
	}
	json_open(j, key, '{');
	json_str(j, "mode", sts_mode_name(p->mode));
	json_uint(j, "max_age", p->max_age);
	json_open(j, "mx", '[');
	for (i = 0; i < p->nmx; i++)
		json_str(j, NULL, p->mx[i]);
	json_close(j, '[');
	if (p->text != NULL)
		json_strn(j, "text", p->text, p->textlen);
	else
		json_null(j, "text");
	json_close(j, '{');
}

void
ctl_policy_summary(const struct sts_policy *p, char *buf, size_t len)
{
	char	dur[32];
	size_t	i, off;
	int	n;

	n = snprintf(buf, len, "mode %s, max_age %u (%s), mx ",
	    sts_mode_name(p->mode), (unsigned)p->max_age,
	    ctl_duration(p->max_age, dur, sizeof dur));
	off = n < 0 ? 0 : (size_t)n;
	if (p->nmx == 0 && off < len)
		snprintf(buf + off, len - off, "(none)");
	for (i = 0; i < p->nmx && off < len; i++) {
		n = snprintf(buf + off, len - off, "%s%s", i > 0 ? ", " : "",
		    p->mx[i]);
		off += n < 0 ? 0 : (size_t)n;
	}
}
