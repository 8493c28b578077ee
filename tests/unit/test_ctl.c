/*
 * test_ctl.c: the pure parts of mtastsctl: the JSON writer and reader,
 * the TLS-RPT record checker (RFC 8460 3), findings and exit statuses,
 * time formatting and the state of a cache entry.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "ctl.h"
#include "sts.h"
#include "tap.h"

/* Run fn writing JSON into a string; return it (malloc'd). */
static char *
capture(void (*fn)(struct json *, const void *), const void *arg)
{
	struct json	 j;
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		abort();
	json_start(&j, f);
	fn(&j, arg);
	fclose(f);
	return (buf);
}

/* JSON writer: one string member and its exact encoding. */
struct str_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*want;
};

static const struct str_case str_cases[] = {
	{ "plain", "abc", 3, "{\"s\":\"abc\"}\n" },
	{ "quote and backslash", "a\"b\\c", 5, "{\"s\":\"a\\\"b\\\\c\"}\n" },
	{ "newline, CR, tab", "a\nb\rc\td", 7, "{\"s\":\"a\\nb\\rc\\td\"}\n" },
	{ "control bytes", "\x01\x1f\x7f", 3,
	  "{\"s\":\"\\u0001\\u001f\\u007f\"}\n" },
	{ "NUL inside", "a\0b", 3, "{\"s\":\"a\\u0000b\"}\n" },
	{ "valid UTF-8 kept", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
	  "{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}\n" },
	{ "invalid byte", "a\xff" "b", 3, "{\"s\":\"a\\ufffdb\"}\n" },
	{ "overlong slash", "\xc0\xaf", 2, "{\"s\":\"\\ufffd\\ufffd\"}\n" },
	{ "UTF-16 surrogate", "\xed\xa0\x80", 3,
	  "{\"s\":\"\\ufffd\\ufffd\\ufffd\"}\n" },
	{ "truncated at the end", "x\xe2\x82", 3,
	  "{\"s\":\"x\\ufffd\\ufffd\"}\n" },
	{ "past U+10FFFF", "\xf4\x90\x80\x80", 4,
	  "{\"s\":\"\\ufffd\\ufffd\\ufffd\\ufffd\"}\n" },
	{ "empty", "", 0, "{\"s\":\"\"}\n" },
};

static void
write_str(struct json *j, const void *arg)
{
	const struct str_case	*c = arg;

	json_open(j, NULL, '{');
	json_strn(j, "s", c->in, c->len);
	json_close(j, '{');
	json_end(j);
}

static void
write_all_types(struct json *j, const void *arg)
{
	json_open(j, NULL, '{');
	json_str(j, "a", "x");
	json_str(j, "n", NULL);
	json_int(j, "i", -42);
	json_uint(j, "u", 18446744073709551615ULL);
	json_bool(j, "t", 1);
	json_bool(j, "f", 0);
	json_null(j, "z");
	json_open(j, "arr", '[');
	json_int(j, NULL, 1);
	json_open(j, NULL, '{');
	json_close(j, '{');
	json_open(j, NULL, '[');
	json_close(j, '[');
	json_str(j, NULL, "y");
	json_close(j, '[');
	json_open(j, "o", '{');
	json_str(j, "k\"ey", "v");
	json_close(j, '{');
	json_close(j, '{');
	json_end(j);
}

static void
test_writer(void)
{
	char	*out;
	size_t	 i;

	for (i = 0; i < sizeof str_cases / sizeof str_cases[0]; i++) {
		out = capture(write_str, &str_cases[i]);
		is_str(out, str_cases[i].want, "json writer: %s",
		    str_cases[i].name);
		free(out);
	}
	out = capture(write_all_types, NULL);
	is_str(out, "{\"a\":\"x\",\"n\":null,\"i\":-42,"
	    "\"u\":18446744073709551615,\"t\":true,\"f\":false,\"z\":null,"
	    "\"arr\":[1,{},[],\"y\"],\"o\":{\"k\\\"ey\":\"v\"}}\n",
	    "json writer: every type, nesting and commas");
	free(out);
}

/* JSON reader: documents that parse, and what is in them. */
static void
test_reader_ok(void)
{
	const char	*err = NULL, *doc;
	struct jv	*v;
	const struct jv	*m;

	doc = " {\"ok\": true, \"uptime\": 12, \"counters\": {\"a_total\": "
	    "9007199254740992, \"b\": 0}, \"s\": \"caf\\u00e9 \\ud83d\\ude00 "
	    "\\\"q\\\" \\\\ \\/ \\n\", \"arr\": [1, -2.5e3, null, false, []],"
	    " \"e\": {}} \n";
	v = jv_parse(doc, strlen(doc), &err);
	ok(v != NULL, "json reader: control reply parses");
	if (v == NULL)
		return;
	is_int(v->type, JV_OBJECT, "json reader: top is an object");
	is_int(v->n, 6, "json reader: six members");
	m = jv_get(v, "ok");
	ok(m != NULL && m->type == JV_BOOL && m->b == 1, "json reader: ok true");
	is_int((long)jv_uint(v, "uptime", 99), 12, "json reader: uptime");
	is_int((long)jv_uint(v, "missing", 99), 99,
	    "json reader: default for a missing member");
	ok(jv_uint(jv_get(v, "counters"), "a_total", 0) ==
	    9007199254740992ULL, "json reader: 2^53 counter exact");
	is_int((long)jv_uint(jv_get(v, "counters"), "b", 7), 0,
	    "json reader: zero counter");
	is_str(jv_str(v, "s"), "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ / \n",
	    "json reader: escapes, \\u and a surrogate pair to UTF-8");
	ok(jv_str(v, "uptime") == NULL, "json reader: jv_str of a number is NULL");
	m = jv_get(v, "arr");
	ok(m != NULL && m->type == JV_ARRAY && m->n == 5 &&
	    m->items[1]->type == JV_NUMBER && m->items[1]->num == -2500.0 &&
	    m->items[2]->type == JV_NULL && m->items[3]->type == JV_BOOL &&
	    m->items[3]->b == 0 && m->items[4]->type == JV_ARRAY &&
	    m->items[4]->n == 0, "json reader: array of mixed values");
	m = jv_get(v, "e");
	ok(m != NULL && m->type == JV_OBJECT && m->n == 0,
	    "json reader: empty object");
	ok(jv_uint(jv_get(v, "arr"), "x", 5) == 5,
	    "json reader: jv_uint on an array gives the default");
	jv_free(v);
}

static const struct {
	const char	*name;
	const char	*doc;
} bad_docs[] = {
	{ "empty", "" },
	{ "only spaces", "   " },
	{ "trailing garbage", "{} x" },
	{ "two values", "{} {}" },
	{ "unterminated object", "{\"a\": 1" },
	{ "unterminated string", "{\"a\": \"x}" },
	{ "missing colon", "{\"a\" 1}" },
	{ "trailing comma", "{\"a\": 1,}" },
	{ "array trailing comma", "[1,]" },
	{ "unquoted key", "{a: 1}" },
	{ "leading zero", "01" },
	{ "bare minus", "-" },
	{ "dot without digits", "1." },
	{ "exponent without digits", "1e" },
	{ "control char in string", "\"a\tb\"" },
	{ "bad escape", "\"\\x\"" },
	{ "short \\u", "\"\\u12\"" },
	{ "lone high surrogate", "\"\\ud800\"" },
	{ "lone low surrogate", "\"\\udc00\"" },
	{ "high then not low", "\"\\ud800\\u0041\"" },
	{ "\\u0000", "\"\\u0000\"" },
	{ "TRUE", "TRUE" },
	{ "tru", "tru" },
	{ "single quotes", "'a'" },
	{ "invalid UTF-8 byte", "\"a\xff\"" },
	{ "overlong UTF-8", "\"\xc0\xaf\"" },
	{ "truncated UTF-8", "\"\xe2\x82\"" },
	{ "33 levels", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" },
};

static void
test_reader_bad(void)
{
	const char	*err;
	struct jv	*v;
	size_t		 i;
	char		 deep[80];

	for (i = 0; i < sizeof bad_docs / sizeof bad_docs[0]; i++) {
		err = NULL;
		v = jv_parse(bad_docs[i].doc, strlen(bad_docs[i].doc), &err);
		ok(v == NULL && err != NULL, "json reader refuses: %s",
		    bad_docs[i].name);
		jv_free(v);
	}
	/* 32 levels is the limit and still parses. */
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	v = jv_parse(deep, 64, &err);
	ok(v != NULL, "json reader: 32 levels parse");
	jv_free(v);
}

/* Writer output read back by the reader gives the same bytes. */
static void
test_roundtrip(void)
{
	const char	*err;
	char		*out;
	struct jv	*v;
	size_t		 i;

	for (i = 0; i < sizeof str_cases / sizeof str_cases[0]; i++) {
		if (memchr(str_cases[i].in, '\0', str_cases[i].len) != NULL ||
		    strstr(str_cases[i].want, "fffd") != NULL)
			continue;
		out = capture(write_str, &str_cases[i]);
		v = jv_parse(out, strlen(out), &err);
		is_str(v != NULL ? jv_str(v, "s") : NULL, str_cases[i].in,
		    "json round trip: %s", str_cases[i].name);
		jv_free(v);
		free(out);
	}
}

/* TLS-RPT records (RFC 8460 3). */
static const struct {
	const char	*rec;
	int		 valid;
	const char	*code;		/* the first finding, NULL when none */
	size_t		 nrua;
	const char	*rua0;
} rpt_cases[] = {
	{ "v=TLSRPTv1; rua=mailto:tlsrpt@example.com", 1, NULL, 1,
	  "mailto:tlsrpt@example.com" },
	{ "v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.com/tlsrpt",
	  1, NULL, 2, "mailto:a@example.com" },
	{ "v=TLSRPTv1; rua=mailto:a@example.com , mailto:b@example.com;", 1,
	  NULL, 2, "mailto:a@example.com" },
	{ "v=TLSRPTv1; rua=https://reports.example.com", 1, NULL, 1,
	  "https://reports.example.com" },
	{ "v=TLSRPTv1; rua=MAILTO:a@example.com", 1, NULL, 1,
	  "MAILTO:a@example.com" },
	{ "v=TLSRPTv1; rua=mailto:a@example.com; ext.1=value", 1, NULL, 1,
	  "mailto:a@example.com" },
	{ "v=TLSRPTv1; ext=1; rua=mailto:a@example.com", 1, NULL, 1,
	  "mailto:a@example.com" },
	{ "v=TLSRPTv1; rua=mailto:a%21b@example.com", 1, NULL, 1,
	  "mailto:a%21b@example.com" },
	{ "v=TLSRPTv1; rua=mailto:a@example.com?subject=tls", 1, NULL, 1,
	  "mailto:a@example.com?subject=tls" },
	{ "v=TLSRPTv1 ; rua=mailto:a@example.com", 1,
	  "tlsrpt-version-delimiter", 1, "mailto:a@example.com" },
	{ "v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com", 1,
	  "tlsrpt-rua-repeated", 1, "mailto:a@example.com" },
	{ "v=TLSRPTv1", 0, "tlsrpt-rua-missing", 0, NULL },
	{ "v=TLSRPTv1;", 0, "tlsrpt-rua-missing", 0, NULL },
	{ "v=TLSRPTv1; ext=1", 0, "tlsrpt-rua-missing", 0, NULL },
	{ "v=TLSRPTv1; RUA=mailto:a@example.com", 0, "tlsrpt-rua-missing", 0,
	  NULL },
	{ "v=TLSRPTv2; rua=mailto:a@example.com", 0, "tlsrpt-version", 0,
	  NULL },
	{ "V=TLSRPTv1; rua=mailto:a@example.com", 0, "tlsrpt-version", 0,
	  NULL },
	{ " v=TLSRPTv1; rua=mailto:a@example.com", 0, "tlsrpt-version", 0,
	  NULL },
	{ "v=TLSRPTv1x; rua=mailto:a@example.com", 0, "tlsrpt-version", 0,
	  NULL },
	{ "", 0, "tlsrpt-version", 0, NULL },
	{ "v=TLSRPTv1; rua=ftp://example.com/x", 0, "tlsrpt-uri-invalid", 0,
	  NULL },
	{ "v=TLSRPTv1; rua=tlsrpt@example.com", 0, "tlsrpt-uri-invalid", 0,
	  NULL },
	{ "v=TLSRPTv1; rua=mailto:nobody", 0, "tlsrpt-uri-invalid", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:@example.com", 0, "tlsrpt-uri-invalid", 0,
	  NULL },
	{ "v=TLSRPTv1; rua=mailto:a@", 0, "tlsrpt-uri-invalid", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a@b@example.com", 0, "tlsrpt-uri-invalid",
	  0, NULL },
	{ "v=TLSRPTv1; rua=https:/x.example.com", 0, "tlsrpt-uri-invalid", 0,
	  NULL },
	{ "v=TLSRPTv1; rua=https://", 0, "tlsrpt-uri-invalid", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a!b@example.com", 0, "tlsrpt-uri-invalid",
	  0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a%2@example.com", 0, "tlsrpt-uri-invalid",
	  0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a<b>@example.com", 0, "tlsrpt-uri-invalid",
	  0, NULL },
	{ "v=TLSRPTv1; rua=", 0, "tlsrpt-rua-empty", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a@example.com,,mailto:b@example.com", 0,
	  "tlsrpt-rua-empty", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a@example.com mailto:b@example.com", 0,
	  "tlsrpt-syntax", 0, NULL },
	{ "v=TLSRPTv1;; rua=mailto:a@example.com", 0, "tlsrpt-syntax", 0,
	  NULL },
	{ "v=TLSRPTv1 rua=mailto:a@example.com", 0, "tlsrpt-syntax", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a@example.com ", 0, "tlsrpt-syntax", 0,
	  NULL },
	{ "v=TLSRPTv1; rua=mailto:a@example.com; bad", 0, "tlsrpt-syntax", 0,
	  NULL },
	{ "v=TLSRPTv1; rua=mailto:a@example.com; _x=1", 0,
	  "tlsrpt-extension-invalid", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a@example.com; x=a=b", 0,
	  "tlsrpt-extension-invalid", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a@example.com; x=", 0,
	  "tlsrpt-extension-invalid", 0, NULL },
	{ "v=TLSRPTv1; rua=mailto:a@example.com; "
	  "a23456789012345678901234567890123=1", 0, "tlsrpt-extension-invalid",
	  0, NULL },
	{ "v=TLSRPTv1; rua=mailto:\xc3\xa9@example.com", 0, "tlsrpt-syntax", 0,
	  NULL },
	{ "v=TLSRPTv1; rua=mailto:a@example.com\x01", 0, "tlsrpt-syntax", 0,
	  NULL },
};

static void
test_tlsrpt(void)
{
	struct ctl_tlsrpt	 t;
	struct sts_diag		 d;
	const char		*rec;
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof rpt_cases / sizeof rpt_cases[0]; i++) {
		rec = rpt_cases[i].rec;
		memset(&d, 0, sizeof d);
		rc = ctl_tlsrpt_parse(rec, strlen(rec), &t, &d);
		is_int(rc == 0, rpt_cases[i].valid, "tlsrpt %s: %s",
		    rpt_cases[i].valid ? "valid" : "invalid", rec);
		is_str(d.n > 0 ? d.f[0].code : NULL, rpt_cases[i].code,
		    "tlsrpt first finding: %s", rec);
		if (d.n > 0)
			is_str(d.f[0].rfc, "RFC 8460 3",
			    "tlsrpt finding names RFC 8460 3: %s", rec);
		is_int((long)t.nrua, (long)rpt_cases[i].nrua,
		    "tlsrpt rua count: %s", rec);
		is_str(t.nrua > 0 ? t.rua[0] : NULL, rpt_cases[i].rua0,
		    "tlsrpt first rua: %s", rec);
		ctl_tlsrpt_clear(&t);
	}
	memset(&d, 0, sizeof d);
	ok(ctl_tlsrpt_parse(NULL, 5, NULL, &d) == -1 && d.n == 1,
	    "tlsrpt: NULL record is invalid, no crash");
	ok(ctl_tlsrpt_candidate("v=TLSRPTv1", 10) &&
	    ctl_tlsrpt_candidate("v=TLSRPTv1;", 11) &&
	    ctl_tlsrpt_candidate("v=TLSRPTv1\t;", 12) &&
	    !ctl_tlsrpt_candidate("v=TLSRPTv10;", 12) &&
	    !ctl_tlsrpt_candidate("v=STSv1; id=1", 13) &&
	    !ctl_tlsrpt_candidate("v=TLSRPT", 8), "tlsrpt candidates");
}

/* Findings, exit statuses and their text. */
static void
test_findings(void)
{
	struct ctl_findings	 fs;
	struct sts_diag		 d;
	struct ctl		 ctl;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*f;

	memset(&fs, 0, sizeof fs);
	memset(&ctl, 0, sizeof ctl);
	is_int(ctl_findings_exit(&fs), 0, "no findings: exit 0");
	ctl_findings_add(&fs, CTL_NOTE, "policy", 0, "max-age-short",
	    "RFC 8461 3.2", "short %d", 1);
	is_int(ctl_findings_exit(&fs), 0, "notes only: exit 0");
	memset(&d, 0, sizeof d);
	sts_diag_add(&d, 3, 0, "policy-blank-line", "BEHAVIOUR.md",
	    "blank line skipped");
	ctl_findings_diag(&fs, "policy", &d);
	is_int(ctl_findings_exit(&fs), 1, "a warning: exit 1");
	memset(&d, 0, sizeof d);
	sts_diag_add(&d, 0, 1, "txt-id-invalid", "RFC 8461 3.1", "bad id");
	ctl_findings_diag(&fs, "txt", &d);
	is_int(ctl_findings_exit(&fs), 2, "an error: exit 2");
	is_int((long)ctl_findings_count(&fs, CTL_WARNING), 1, "one warning");
	is_str(fs.f[2].step, "txt", "diag step kept");
	is_int(fs.f[1].line, 3, "diag line kept");
	is_str(ctl_result_name(0), "valid", "result name 0");
	is_str(ctl_result_name(1), "warnings", "result name 1");
	is_str(ctl_result_name(2), "errors", "result name 2");

	if ((f = open_memstream(&buf, &len)) == NULL)
		abort();
	ctl_findings_print(&ctl, f, &fs, "p.txt", NULL);
	ctl_findings_print(&ctl, f, &fs, NULL, "  ");
	fclose(f);
	is_str(buf,
	    "p.txt: note: short 1 [max-age-short, RFC 8461 3.2]\n"
	    "p.txt:3: warning: blank line skipped [policy-blank-line, "
	    "tolerated: the RFC 8461 3.2 grammar has no blank line]\n"
	    "p.txt: error: bad id [txt-id-invalid, RFC 8461 3.1]\n"
	    "  note: short 1 [max-age-short, RFC 8461 3.2]\n"
	    "  line 3: warning: blank line skipped [policy-blank-line, "
	    "tolerated: the RFC 8461 3.2 grammar has no blank line]\n"
	    "  error: bad id [txt-id-invalid, RFC 8461 3.1]\n",
	    "findings as text, no colour");
	free(buf);
	ctl_findings_free(&fs);
	is_int((long)fs.n, 0, "findings freed");

	/* dropped findings become a note */
	memset(&d, 0, sizeof d);
	d.dropped = 4;
	ctl_findings_diag(&fs, "policy", &d);
	ok(fs.n == 1 && fs.f[0].sev == CTL_NOTE &&
	    strcmp(fs.f[0].msg, "4 more findings not recorded") == 0,
	    "dropped findings reported");
	ctl_findings_free(&fs);
}

/* Trial: no finding cites BEHAVIOUR.md, which is not shipped. */
static void
test_rules(void)
{
	static const struct {
		const char	*code, *rule, *want;
	} rows[] = {
		{ "policy-blank-line", "BEHAVIOUR.md",
		  "tolerated: the RFC 8461 3.2 grammar has no blank line" },
		{ "policy-bom", "BEHAVIOUR.md",
		  "tolerated: the RFC 8461 3.2 grammar has no byte-order mark" },
		{ "policy-max-age-clamped", "BEHAVIOUR.md",
		  "RFC 8461 3.2: max_age is at most 31557600" },
		{ "policy-lines-truncated", "BEHAVIOUR.md",
		  "mtastsd keeps only the first lines for reports" },
		{ "policy-new-tolerance", "BEHAVIOUR.md",
		  "tolerated by mtastsd, see mtastsd(8)" },
		{ "txt-id-invalid", "RFC 8461 3.1", "RFC 8461 3.1" },
		{ "findings-dropped", "", "" },
	};
	static const char	 body[] = "\xef\xbb\xbfversion: STSv1\n\n"
	    "mode: enforce\nmx: mx.example.com\nmax_age: 99999999\n";
	struct ctl_findings	 fs;
	struct sts_policy	*p = NULL;
	struct sts_diag		 d;
	size_t			 i, cited = 0;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		is_str(ctl_rule(rows[i].code, rows[i].rule), rows[i].want,
		    "rule of %s", rows[i].code);
	ok(ctl_rule("x", NULL) == NULL, "no rule stays none");

	/* Every tolerance the parser reports, as lint shows it. */
	memset(&fs, 0, sizeof fs);
	memset(&d, 0, sizeof d);
	(void)sts_policy_parse(body, sizeof body - 1, &p, &d);
	ctl_findings_diag(&fs, "policy", &d);
	ok(fs.n >= 3, "a BOM, a blank line and a long max_age: %zu findings",
	    fs.n);
	for (i = 0; i < fs.n; i++) {
		if (fs.f[i].rfc != NULL && strstr(fs.f[i].rfc, ".md") != NULL)
			cited++;
	}
	is_int((long)cited, 0, "no finding cites a .md file");
	ctl_findings_free(&fs);
	sts_policy_free(p);
}

/* Trial: a domain publishing no policy is not a failure. */
static void
test_no_record(void)
{
	static const struct {
		const char	*reason;
		int		 no_record;
	} reasons[] = {
		{ "txt-nxdomain", 1 }, { "txt-nodata", 1 }, { "txt-no-record", 1 },
		{ "txt-multiple", 1 }, { "txt-invalid", 1 },
		{ "txt-servfail", 0 }, { "txt-timeout", 0 }, { "fetch-connect", 0 },
		{ "", 0 },
	};
	static const char	 body[] = "version: STSv1\nmode: enforce\n"
	    "mx: mx.example.com\nmax_age: 600\n";
	struct cache_entry	 e;
	struct sts_policy	*p = NULL;
	struct sts_diag		 d;
	size_t			 i;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		is_int(ctl_reason_no_record(reasons[i].reason),
		    reasons[i].no_record, "reason \"%s\" is %sno policy",
		    reasons[i].reason, reasons[i].no_record ? "" : "not ");

	memset(&d, 0, sizeof d);
	if (sts_policy_parse(body, sizeof body - 1, &p, &d) != 0)
		abort();
	memset(&e, 0, sizeof e);
	ok(ctl_entry_error_label(&e) == NULL, "label: no last_error, none");
	snprintf(e.last_error, sizeof e.last_error, "no TXT record");
	snprintf(e.reason, sizeof e.reason, "txt-nxdomain");
	e.status = CACHE_NO_RECORD;
	is_str(ctl_entry_error_label(&e), "no policy",
	    "label: status no-record is \"no policy\", not an error");
	e.status = CACHE_OK;
	e.policy = p;
	is_str(ctl_entry_error_label(&e), "last check",
	    "label: record gone, cached policy applies: \"last check\"");
	e.status = CACHE_FAILED;
	snprintf(e.reason, sizeof e.reason, "fetch-connect");
	is_str(ctl_entry_error_label(&e), "last error",
	    "label: a failed fetch is \"last error\"");
	e.policy = NULL;
	snprintf(e.reason, sizeof e.reason, "txt-servfail");
	is_str(ctl_entry_error_label(&e), "last error",
	    "label: a failed TXT lookup is \"last error\"");
	sts_policy_free(p);
}

static void
test_times(void)
{
	static const struct {
		time_t		 t;
		const char	*want;
	} rel[] = {
		{ 0, "-" }, { 1000, "now" }, { 1030, "in 30s" }, { 970, "30s ago" },
		{ 1000 + 59, "in 59s" }, { 1000 + 60, "in 1m" },
		{ 1000 - 3599, "59m ago" }, { 1000 + 3600, "in 1h" },
		{ 1000 + 86399, "in 23h" }, { 1000 - 86400 * 3, "3d ago" },
	};
	static const struct {
		int64_t		 s;
		const char	*want;
	} dur[] = {
		{ 0, "0s" }, { 45, "45s" }, { 60, "1m" }, { 90, "1m30s" },
		{ 3600, "1h" }, { 5400, "1h30m" }, { 86400, "1d" },
		{ 90061, "1d1h" }, { 604800, "7d" }, { 31557600, "365d6h" },
		{ -5, "-5s" },
	};
	char	buf[32];
	size_t	i;

	for (i = 0; i < sizeof rel / sizeof rel[0]; i++)
		is_str(ctl_reltime(rel[i].t, 1000, buf, sizeof buf), rel[i].want,
		    "reltime %lld from 1000", (long long)rel[i].t);
	for (i = 0; i < sizeof dur / sizeof dur[0]; i++)
		is_str(ctl_duration(dur[i].s, buf, sizeof buf), dur[i].want,
		    "duration %lld", (long long)dur[i].s);
}

static void
test_entry_state(void)
{
	static const char	 body[] = "version: STSv1\nmode: testing\n"
	    "mx: mx.example.com\nmax_age: 600\n";
	struct cache_entry	 e;
	struct sts_policy	*p = NULL;
	struct sts_diag		 d;
	char			 sum[256];

	memset(&d, 0, sizeof d);
	if (sts_policy_parse(body, sizeof body - 1, &p, &d) != 0)
		abort();
	memset(&e, 0, sizeof e);
	is_str(ctl_entry_state(&e, 5000), "new", "state: no policy, status ok");
	e.status = CACHE_NO_RECORD;
	is_str(ctl_entry_state(&e, 5000), "no-record", "state: no-record");
	e.status = CACHE_FAILED;
	is_str(ctl_entry_state(&e, 5000), "failed", "state: failed");
	e.policy = p;
	e.fetched_at = 5000 - 599;
	is_str(ctl_entry_state(&e, 5000), "active",
	    "state: failed re-check, policy still applies");
	e.fetched_at = 5000 - 600;
	is_str(ctl_entry_state(&e, 5000), "expired",
	    "state: expired at fetched_at + max_age");
	ctl_policy_summary(p, sum, sizeof sum);
	is_str(sum, "mode testing, max_age 600 (10m), mx mx.example.com",
	    "policy summary");
	sts_policy_free(p);
}

int
main(void)
{
	test_writer();
	test_reader_ok();
	test_reader_bad();
	test_roundtrip();
	test_tlsrpt();
	test_findings();
	test_rules();
	test_no_record();
	test_times();
	test_entry_state();
	return (done_testing());
}
