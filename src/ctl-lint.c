/*
 * ctl-lint.c: validate what a domain owner is about to publish: a policy
 * file (RFC 8461 3.2), an _mta-sts TXT record value (3.1) or an
 * _smtp._tls TLS-RPT record value (RFC 8460 3).  The same parsers the
 * daemon uses; tolerated defects are warnings.  Exit 0 valid, 1 warnings,
 * 2 errors.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util.h"

enum ctl_lint_kind { LINT_POLICY, LINT_TXT, LINT_TLSRPT };
static const char *ctl_lint_kinds[] = { "policy", "txt", "tlsrpt" };

/* Read at most CTL_LINT_MAX bytes of a file ("-": stdin). */
static char *
ctl_lint_read(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	size_t	 len = 0, n;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "rb")) == NULL) {
		ctl_warnx("%s: %s", path, strerror(errno));
		return (NULL);
	}
	buf = xmalloc(CTL_LINT_MAX + 1);
	while (len < CTL_LINT_MAX &&
	    (n = fread(buf + len, 1, CTL_LINT_MAX - len, f)) > 0)
		len += n;
	if (ferror(f)) {
		ctl_warnx("%s: %s", path, strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (buf != NULL)
		buf[len] = '\0';
	*lenp = len;
	return (buf);
}

/* Advice beyond the parser: a max_age below one week. */
static void
ctl_lint_advice(struct ctl_findings *fs, const struct sts_policy *p)
{
	char	d[32];

	if (p != NULL && p->max_age < CTL_MAX_AGE_ADVICE)
		ctl_findings_add(fs, CTL_NOTE, "policy", 0, "max-age-short",
		    "RFC 8461 3.2", "max_age %u (%s) is below one week; values "
		    "of weeks or more protect better against attacks at "
		    "refresh time", (unsigned)p->max_age,
		    ctl_duration(p->max_age, d, sizeof d));
}

static void
ctl_lint_counts(const struct ctl_findings *fs, char *buf, size_t len)
{
	size_t	e = ctl_findings_count(fs, CTL_ERROR);
	size_t	w = ctl_findings_count(fs, CTL_WARNING);

	snprintf(buf, len, "%zu error%s, %zu warning%s", e, e == 1 ? "" : "s",
	    w, w == 1 ? "" : "s");
}

int
ctl_cmd_lint(struct ctl *ctl, int argc, char **argv)
{
	enum ctl_lint_kind	 kind;
	struct ctl_findings	 fs;
	struct sts_diag		 diag;
	struct sts_policy	*p = NULL;
	struct sts_txt		 txt;
	struct ctl_tlsrpt	 rpt;
	struct json		 j;
	const char		*name;
	char			*body = NULL, sum[1024], counts[64];
	size_t			 len, i;
	int			 valid, status, nkinds;

	nkinds = argc + ((ctl->given & CTL_OPT_TXT) != 0) +
	    ((ctl->given & CTL_OPT_TLSRPT) != 0);
	if (nkinds != 1) {
		ctl_warnx("lint: give one of FILE, -, --txt or --tlsrpt");
		return (ctl_usage_of("lint"));
	}
	memset(&fs, 0, sizeof fs);
	memset(&diag, 0, sizeof diag);
	memset(&rpt, 0, sizeof rpt);
	memset(&txt, 0, sizeof txt);
	if (argc == 1) {
		kind = LINT_POLICY;
		name = strcmp(argv[0], "-") == 0 ? "<stdin>" : argv[0];
		if ((body = ctl_lint_read(argv[0], &len)) == NULL)
			return (CTL_EXIT_NOINPUT);
		if (len > POLICY_MAX) {
			/* Only POLICY_MAX + 1 bytes were read: say "more than". */
			valid = 0;
			ctl_findings_add(&fs, CTL_ERROR, "policy", 0,
			    "policy-too-large", "RFC 8461 3.3", "more than %d "
			    "bytes: receivers refuse larger policies",
			    POLICY_MAX);
		} else {
			valid = sts_policy_parse(body, len, &p, &diag) == 0;
			ctl_findings_diag(&fs, "policy", &diag);
			ctl_lint_advice(&fs, p);
		}
	} else if (ctl->given & CTL_OPT_TXT) {
		kind = LINT_TXT;
		name = "txt";
		valid = sts_txt_parse(ctl->txt, strlen(ctl->txt), &txt,
		    &diag) == 0;
		ctl_findings_diag(&fs, "txt", &diag);
	} else {
		kind = LINT_TLSRPT;
		name = "tlsrpt";
		valid = ctl_tlsrpt_parse(ctl->tlsrpt, strlen(ctl->tlsrpt), &rpt,
		    &diag) == 0;
		ctl_findings_diag(&fs, "tlsrpt", &diag);
	}
	if (!valid && ctl_findings_count(&fs, CTL_ERROR) == 0)
		ctl_findings_add(&fs, CTL_ERROR, ctl_lint_kinds[kind], 0,
		    "invalid", NULL, "invalid");
	status = ctl_findings_exit(&fs);

	if (ctl->json) {
		json_start(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "kind", ctl_lint_kinds[kind]);
		json_str(&j, "input", kind == LINT_POLICY ? argv[0] :
		    kind == LINT_TXT ? ctl->txt : ctl->tlsrpt);
		json_bool(&j, "valid", valid);
		json_str(&j, "result", ctl_result_name(status));
		json_int(&j, "exit", status);
		ctl_findings_json(&j, "findings", &fs);
		if (kind == LINT_POLICY)
			ctl_policy_json(&j, "policy", p);
		else if (kind == LINT_TXT)
			json_str(&j, "id", valid ? txt.id : NULL);
		else {
			json_open(&j, "rua", '[');
			for (i = 0; i < rpt.nrua; i++)
				json_str(&j, NULL, rpt.rua[i]);
			json_close(&j, '[');
		}
		json_close(&j, '{');
		json_end(&j);
	} else {
		ctl_findings_print(ctl, stdout, &fs, name, NULL);
		ctl_lint_counts(&fs, counts, sizeof counts);
		if (!valid)
			printf("%s: %sinvalid%s (%s)\n", name,
			    ctl_sgr(ctl, CTL_RED), ctl_sgr(ctl, CTL_RESET),
			    counts);
		else {
			if (kind == LINT_POLICY)
				ctl_policy_summary(p, sum, sizeof sum);
			else if (kind == LINT_TXT)
				snprintf(sum, sizeof sum, "id %s", txt.id);
			else {
				snprintf(sum, sizeof sum, "rua");
				for (i = 0; i < rpt.nrua; i++) {
					len = strlen(sum);
					snprintf(sum + len, sizeof sum - len,
					    "%s%s", i > 0 ? ", " : " ",
					    rpt.rua[i]);
				}
			}
			printf("%s: %svalid%s: %s (%s)\n", name,
			    ctl_sgr(ctl, status == 0 ? CTL_GREEN : CTL_YELLOW),
			    ctl_sgr(ctl, CTL_RESET), sum, counts);
		}
	}
	sts_policy_free(p);
	ctl_tlsrpt_clear(&rpt);
	ctl_findings_free(&fs);
	free(body);
	return (status);
}
