/*
 * test_sts.c: table-driven tests for the pure RFC 8461 logic.  Case names
 * carry the RFC8461-CHECKLIST (A4 ... D32) and FIELD-CASES (F01 ...) ids.
 *
 * Parses are compared through a one-line summary that holds everything
 * the parser decided (id, mode, max_age, mx list in order, and every
 * finding as E:/W:code@line), so a single string check pins it all.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "sts.h"
#include "util.h"
#include "tap.h"

#define SUMMARY_MAX	4096

/* A byte string with its length, so embedded NULs survive. */
#define S(x)	x, sizeof(x) - 1

/* The rule a finding must cite, from its code. */
static const char *
expected_rfc(const char *code)
{
	if (strncmp(code, "txt-", 4) == 0)
		return ("RFC 8461 3.1");
	if (strcmp(code, "policy-bom") == 0 ||
	    strcmp(code, "policy-blank-line") == 0 ||
	    strcmp(code, "policy-max-age-clamped") == 0 ||
	    strcmp(code, "policy-lines-truncated") == 0)
		return ("BEHAVIOUR.md");
	return ("RFC 8461 3.2");
}

/* Append " E:code@line" per finding; flag a wrong rfc or an empty message. */
static void
append_findings(char *buf, size_t sz, const struct sts_diag *d, int lines)
{
	const struct sts_finding	*f;
	size_t				 i, len;

	for (i = 0; i < d->n; i++) {
		f = &d->f[i];
		len = strlen(buf);
		if (lines)
			snprintf(buf + len, sz - len, " %c:%s@%d",
			    f->error ? 'E' : 'W', f->code, f->line);
		else
			snprintf(buf + len, sz - len, " %c:%s",
			    f->error ? 'E' : 'W', f->code);
		len = strlen(buf);
		if (strcmp(f->rfc, expected_rfc(f->code)) != 0)
			snprintf(buf + len, sz - len, "!rfc=%s", f->rfc);
		else if (f->msg[0] == '\0')
			snprintf(buf + len, sz - len, "!nomsg");
	}
}

/* Parse a TXT record and describe the outcome. */
static const char *
txt_summary(const char *rec, size_t len, char *buf, size_t sz)
{
	struct sts_diag	d;
	struct sts_txt	t;
	int		r;

	memset(&d, 0, sizeof d);
	memset(&t, 'X', sizeof t);
	r = sts_txt_parse(rec, len, &t, &d);
	if (r == 0)
		snprintf(buf, sz, "id=%s", t.id);
	else if (r == -1)
		snprintf(buf, sz, "invalid");
	else
		snprintf(buf, sz, "BAD r=%d", r);
	append_findings(buf, sz, &d, 0);
	return (buf);
}

/* Parse a policy body and describe the outcome. */
static const char *
policy_summary(const char *body, size_t len, char *buf, size_t sz)
{
	struct sts_diag		 d;
	struct sts_policy	*p = (struct sts_policy *)&d;	/* must be reset */
	size_t			 i, n;
	int			 r;

	memset(&d, 0, sizeof d);
	r = sts_policy_parse(body, len, &p, &d);
	if (r == 0 && p != NULL) {
		snprintf(buf, sz, "ok mode=%s max_age=%u mx=",
		    sts_mode_name(p->mode), (unsigned)p->max_age);
		for (i = 0; i < p->nmx; i++) {
			n = strlen(buf);
			snprintf(buf + n, sz - n, "%s%s", i ? "," : "", p->mx[i]);
		}
	} else if (r == -1 && p == NULL)
		snprintf(buf, sz, "invalid");
	else
		snprintf(buf, sz, "BAD r=%d out=%p", r, (void *)p);
	append_findings(buf, sz, &d, 1);
	if (r == 0)
		sts_policy_free(p);
	return (buf);
}

/* A4, F04: one RR's character-strings joined with nothing between. */
static const struct {
	const char	*name;
	const char	*wire;
	size_t		 wirelen;
	size_t		 outsz;
	int		 ret;
	const char	*out;
} join_tests[] = {
	{ "F04 two strings \"v=STS\" \"v1; id=...\" join",
	  S("\x05" "v=STS" "\x16" "v1; id=20240101T000000"), TXT_MAX, 27,
	  "v=STSv1; id=20240101T000000" },
	{ "A4 one string", S("\x0d" "v=STSv1; id=1"), TXT_MAX, 13, "v=STSv1; id=1" },
	{ "A4 three strings, no separator added",
	  S("\x02" "v=" "\x05" "STSv1" "\x06" "; id=7"), TXT_MAX, 13,
	  "v=STSv1; id=7" },
	{ "A4 empty string inside is skipped",
	  S("\x03" "abc" "\x00" "\x03" "def"), TXT_MAX, 6, "abcdef" },
	{ "A4 one empty string gives an empty record", S("\x00"), TXT_MAX, 0, "" },
	{ "A4 string spaces kept as sent",
	  S("\x08" "v=STSv1;" "\x06" " id=9 "), TXT_MAX, 14, "v=STSv1; id=9 " },
	{ "A4 length byte past the end is malformed",
	  S("\x05" "v=STSv1"), TXT_MAX, -1, "" },
	{ "A4 second length past the end is malformed",
	  S("\x02" "ab" "\x09" "cd"), TXT_MAX, -1, "" },
	{ "A4 no strings at all is malformed", "", 0, TXT_MAX, -1, "" },
	{ "A4 output exactly fits with its NUL", S("\x03" "abc" "\x02" "de"), 6, 5,
	  "abcde" },
	{ "A4 output one byte short overflows", S("\x03" "abc" "\x02" "de"), 5, -1,
	  "" },
	{ "A4 zero-sized output", S("\x01" "a"), 0, -1, NULL },
};

static void
test_join(void)
{
	char	out[TXT_MAX];
	size_t	i;
	int	r;

	for (i = 0; i < sizeof join_tests / sizeof join_tests[0]; i++) {
		memset(out, 'Z', sizeof out);
		r = sts_txt_join((const uint8_t *)join_tests[i].wire,
		    join_tests[i].wirelen, out, join_tests[i].outsz);
		if (join_tests[i].out == NULL)
			is_int(r == -1 && out[0] == 'Z', 1, "%s", join_tests[i].name);
		else if (r >= 0)
			is_str(out, join_tests[i].out, "%s (len %d)",
			    join_tests[i].name, r);
		else
			is_int(r, join_tests[i].ret, "%s", join_tests[i].name);
		if (r >= 0 && r != join_tests[i].ret)
			is_int(r, join_tests[i].ret, "%s: length", join_tests[i].name);
	}
}

/* A4: a 255-byte string, an embedded NUL, and a long multi-string record. */
static void
test_join_sizes(void)
{
	uint8_t	wire[1 + 255 + 1 + 255];
	char	out[TXT_MAX], want[511];
	int	r;

	memset(wire, 'a', sizeof wire);
	wire[0] = 255;
	wire[256] = 255;
	memset(want, 'a', 510);
	want[510] = '\0';
	r = sts_txt_join(wire, sizeof wire, out, sizeof out);
	ok(r == 510 && strcmp(out, want) == 0,
	    "A4 two 255-byte strings join to 510 bytes");

	r = sts_txt_join((const uint8_t *)"\x03" "a\0b", 4, out, sizeof out);
	ok(r == 3 && memcmp(out, "a\0b", 4) == 0,
	    "A4 embedded NUL kept, length counts it");
}

/* A5: which records are candidates. */
static const struct {
	const char	*name;
	const char	*rec;
	int		 want;
} cand_tests[] = {
	{ "A5 v=STSv1; is a candidate", "v=STSv1; id=1", 1 },
	{ "A5 v=STSv1 then ; without space", "v=STSv1;id=1", 1 },
	{ "A5 F01 v=STSv1 SP ; is a candidate", "v=STSv1 ; id=1", 1 },
	{ "A5 v=STSv1 HTAB ; is a candidate", "v=STSv1\t;id=1", 1 },
	{ "A5 v=STSv1 at end of record", "v=STSv1", 1 },
	{ "A5 v=STSv1 WSP then end", "v=STSv1 \t", 1 },
	{ "A5 F01 leading space: not a candidate", " v=STSv1; id=1", 0 },
	{ "A5 F01 V=STSv1 (case): not a candidate", "V=STSv1; id=1", 0 },
	{ "A5 v=stsv1 (case): not a candidate", "v=stsv1; id=1", 0 },
	{ "A5 F01 v=STSv10: not a candidate", "v=STSv10; id=1", 0 },
	{ "A5 F01 v=STSv1 id= without ';': not a candidate", "v=STSv1 id=1234", 0 },
	{ "A5 v=STSv1, comma: not a candidate", "v=STSv1,id=1", 0 },
	{ "A5 LF is not WSP", "v=STSv1\n;id=1", 0 },
	{ "A5 empty record", "", 0 },
	{ "A5 truncated version", "v=STS", 0 },
	{ "A5 F03 site-verification record", "site-verification=abc123", 0 },
	{ "A5 v=spf1 record", "v=spf1 -all", 0 },
};

static void
test_candidate(void)
{
	size_t	i;

	for (i = 0; i < sizeof cand_tests / sizeof cand_tests[0]; i++)
		is_int(sts_txt_is_candidate(cand_tests[i].rec,
		    strlen(cand_tests[i].rec)), cand_tests[i].want, "%s",
		    cand_tests[i].name);
	is_int(sts_txt_is_candidate(NULL, 5), 0, "A5 NULL record");
	is_int(sts_txt_is_candidate("v=STSv1; id=1", 6), 0,
	    "A5 length cuts the version short");
}

/* A7-A10, F01, F02: one candidate record. */
static const struct {
	const char	*name;
	const char	*rec;
	size_t		 len;
	const char	*want;
} txt_tests[] = {
	/* A7 grammar */
	{ "A7 F01 v=STSv1; id=1234", S("v=STSv1; id=1234"), "id=1234" },
	{ "A7 F01 v=STSv1;id=1234", S("v=STSv1;id=1234"), "id=1234" },
	{ "A7 F01 WSP before ';' valid", S("v=STSv1 ; id=1234"), "id=1234" },
	{ "A7 F01 trailing delimiter and SP valid", S("v=STSv1; id=1234; "),
	  "id=1234" },
	{ "A7 trailing ';' valid", S("v=STSv1; id=1234;"), "id=1234" },
	{ "A7 HTAB is WSP around ';'", S("v=STSv1\t;\tid=1234\t;\t"), "id=1234" },
	{ "A7 many WSP around ';'", S("v=STSv1  \t ;  \t id=1234"), "id=1234" },
	{ "A7 trailing WSP without ';' invalid", S("v=STSv1; id=1234 "),
	  "invalid E:txt-syntax" },
	{ "A7 ';;' empty field invalid", S("v=STSv1;; id=1234"),
	  "invalid E:txt-syntax" },
	{ "A7 '; ;' empty field invalid", S("v=STSv1; ; id=1234"),
	  "invalid E:txt-syntax" },
	{ "A7 ';;' at the end invalid", S("v=STSv1; id=1234;;"),
	  "invalid E:txt-syntax" },
	{ "A7 id required: v=STSv1 alone", S("v=STSv1"), "invalid E:txt-id-missing" },
	{ "A7 id required: v=STSv1;", S("v=STSv1;"), "invalid E:txt-id-missing" },
	{ "A7 id required: only an extension", S("v=STSv1; foo=bar"),
	  "invalid E:txt-id-missing" },
	{ "A7 F01 no ';' after version", S("v=STSv1 id=1234"), "invalid E:txt-syntax" },
	{ "A7 F01 leading space", S(" v=STSv1; id=1"), "invalid E:txt-syntax" },
	{ "A7 F01 V=STSv1", S("V=STSv1; id=1"), "invalid E:txt-syntax" },
	{ "A7 F01 v=STSv10", S("v=STSv10; id=1"), "invalid E:txt-syntax" },
	{ "A7 space inside a value", S("v=STSv1; id=12 34"), "invalid E:txt-syntax" },
	{ "A7 field without '='", S("v=STSv1; id"), "invalid E:txt-syntax" },
	{ "A7 space between name and '='", S("v=STSv1; id =1"), "invalid E:txt-syntax" },
	{ "A7 vertical tab is not WSP", S("v=STSv1;\vid=1"),
	  "invalid E:txt-extension-invalid" },
	{ "A7 fields separated by space only", S("v=STSv1; id=1 foo=bar"),
	  "invalid E:txt-syntax" },

	/* A8 id */
	{ "A8 F02 32-char hex id valid", S("v=STSv1; id=0123456789abcdef0123456789ABCDEF"),
	  "id=0123456789abcdef0123456789ABCDEF" },
	{ "A8 F02 33-char id invalid", S("v=STSv1; id=0123456789abcdef0123456789abcdef0"),
	  "invalid E:txt-id-invalid" },
	{ "A8 F02 empty id invalid", S("v=STSv1; id="), "invalid E:txt-id-invalid" },
	{ "A8 F02 empty id then ';' invalid", S("v=STSv1; id=;"),
	  "invalid E:txt-id-invalid" },
	{ "A8 F02 id=2024-01-01 invalid", S("v=STSv1; id=2024-01-01"),
	  "invalid E:txt-id-invalid" },
	{ "A8 F02 '+' and '/' invalid", S("v=STSv1; id=q2Hk+9xZ/0aB1cD2eF3g"),
	  "invalid E:txt-id-invalid" },
	{ "A8 id with '_' invalid", S("v=STSv1; id=a_b"), "invalid E:txt-id-invalid" },
	{ "A8 id with '.' invalid", S("v=STSv1; id=1.2"), "invalid E:txt-id-invalid" },
	{ "A8 ID= (case) is not id", S("v=STSv1; ID=1"), "invalid E:txt-id-missing" },
	{ "A8 Id= (case) is not id", S("v=STSv1; Id=1"), "invalid E:txt-id-missing" },
	{ "A8 mixed-case letters and digits", S("v=STSv1; id=20180928T000000Z"),
	  "id=20180928T000000Z" },
	{ "A8 one-character id", S("v=STSv1; id=x"), "id=x" },

	/* A9 extensions, order, repeats */
	{ "A9 unknown extension ignored", S("v=STSv1; id=1; ext=val"), "id=1" },
	{ "A9 extension before id (order free)", S("v=STSv1; foo=bar; id=2"), "id=2" },
	{ "A9 repeated id: first counts", S("v=STSv1; id=1; id=2"), "id=1" },
	{ "A9 repeated id, second only ext-shaped", S("v=STSv1; id=1; id=a+b"), "id=1" },
	{ "A9 repeated id, second malformed", S("v=STSv1; id=1; id="),
	  "invalid E:txt-extension-invalid" },
	{ "A9 name with '.', '-', '_'", S("v=STSv1; id=1; a.b-c_d=x"), "id=1" },
	{ "A9 32-char extension name", S("v=STSv1; id=1; abcdefghijabcdefghijabcdefghij12=x"),
	  "id=1" },
	{ "A9 33-char extension name invalid",
	  S("v=STSv1; id=1; abcdefghijabcdefghijabcdefghij123=x"),
	  "invalid E:txt-extension-invalid" },
	{ "A9 name starting with '_' invalid", S("v=STSv1; id=1; _x=1"),
	  "invalid E:txt-extension-invalid" },
	{ "A9 name starting with '-' invalid", S("v=STSv1; id=1; -x=1"),
	  "invalid E:txt-extension-invalid" },
	{ "A9 empty name invalid", S("v=STSv1; id=1; =1"),
	  "invalid E:txt-extension-invalid" },
	{ "A9 name with '/' invalid", S("v=STSv1; id=1; a/b=1"),
	  "invalid E:txt-extension-invalid" },
	{ "A9 empty value invalid", S("v=STSv1; id=1; foo="),
	  "invalid E:txt-extension-invalid" },
	{ "A9 '=' in a value invalid", S("v=STSv1; id=1; foo=a=b"),
	  "invalid E:txt-extension-invalid" },
	{ "A9 malformed field before id invalid", S("v=STSv1; foo=; id=1"),
	  "invalid E:txt-extension-invalid" },
	{ "A9 all allowed punctuation in a value",
	  S("v=STSv1; id=1; p=!\"#$%&'()*+,-./:<>?@[\\]^_`{|}~"), "id=1" },
	{ "A9 repeated v= is a well-formed extension", S("v=STSv1; id=1; v=STSv1"),
	  "id=1" },

	/* A10 US-ASCII */
	{ "A10 UTF-8 in an extension invalid", S("v=STSv1; id=1; x=caf\xc3\xa9"),
	  "invalid E:txt-non-ascii" },
	{ "A10 byte 0x80 after id invalid", S("v=STSv1; id=1\x80"),
	  "invalid E:txt-non-ascii" },
	{ "A10 byte 0xff in the version", S("v=STSv1\xff; id=1"),
	  "invalid E:txt-non-ascii" },
	{ "A10 NUL byte in the id invalid", S("v=STSv1; id=1\0"),
	  "invalid E:txt-id-invalid" },
	{ "A10 CR after the id invalid", S("v=STSv1; id=1\r"),
	  "invalid E:txt-id-invalid" },
	{ "A10 control byte in an extension", S("v=STSv1; id=1; x=\x01"),
	  "invalid E:txt-extension-invalid" },
};

static void
test_txt_parse(void)
{
	char		buf[SUMMARY_MAX];
	struct sts_txt	t;
	size_t		i;

	for (i = 0; i < sizeof txt_tests / sizeof txt_tests[0]; i++)
		is_str(txt_summary(txt_tests[i].rec, txt_tests[i].len, buf,
		    sizeof buf), txt_tests[i].want, "%s", txt_tests[i].name);

	memset(&t, 'Q', sizeof t);
	is_int(sts_txt_parse("v=STSv1; id=", 12, &t, NULL), -1,
	    "A8 invalid record with NULL diag");
	ok(t.id[0] == 'Q', "A6 invalid record leaves out untouched");
	is_int(sts_txt_parse(NULL, 0, &t, NULL), -1, "A7 NULL record invalid");
	is_int(sts_txt_parse("v=STSv1; id=1", 13, NULL, NULL), 0,
	    "A7 NULL out still validates");
}

/* A5, A6, F03, F04: choosing among the RRs of one name. */
static const struct {
	const char	*name;
	const char	*recs[4];
	size_t		 n;
	const char	*want;
} select_tests[] = {
	{ "A6 F03 two STSv1 RRs: no policy",
	  { "v=STSv1; id=20180928T000000", "v=STSv1; id=20180929T000000" }, 2,
	  "MULTIPLE E:txt-multiple" },
	{ "A5 F03 STSv1 RR plus site-verification: valid",
	  { "site-verification=abc123", "v=STSv1; id=20180928T000000" }, 2,
	  "FOUND id=20180928T000000" },
	{ "A6 no RRs at all", { NULL }, 0, "NONE E:txt-no-candidate" },
	{ "A5 only other records", { "v=spf1 -all", "google-site-verification=x" },
	  2, "NONE E:txt-no-candidate" },
	{ "A5 F01 leading space only", { " v=STSv1; id=1" }, 1,
	  "NONE E:txt-no-candidate" },
	{ "A5 F01 V=STSv1 discarded, v=STSv1 used",
	  { "V=STSv1; id=2", "v=STSv1; id=1" }, 2, "FOUND id=1" },
	{ "A5 F01 v=STSv10 discarded", { "v=STSv10; id=2", "v=STSv1; id=1" }, 2,
	  "FOUND id=1" },
	{ "A5 F01 'v=STSv1 id=' discarded", { "v=STSv1 id=2" }, 1,
	  "NONE E:txt-no-candidate" },
	{ "A6 one candidate, invalid id: no policy",
	  { "v=spf1 -all", "v=STSv1; id=a+b" }, 2, "INVALID E:txt-id-invalid" },
	{ "A6 two candidates, one invalid: still multiple",
	  { "v=STSv1; id=1", "v=STSv1; id=" }, 2, "MULTIPLE E:txt-multiple" },
	{ "A6 two identical candidates", { "v=STSv1; id=1", "v=STSv1; id=1" }, 2,
	  "MULTIPLE E:txt-multiple" },
	{ "A6 candidate with no id", { "v=STSv1" }, 1, "INVALID E:txt-id-missing" },
	{ "A10 non-ASCII in a non-candidate does not matter",
	  { "caf\xc3\xa9", "v=STSv1; id=5" }, 2, "FOUND id=5" },
	{ "A10 non-ASCII in the candidate", { "v=STSv1; id=5; n=\xc3\xa9" }, 1,
	  "INVALID E:txt-non-ascii" },
};

static void
test_txt_select(void)
{
	static const char	*names[] = { "FOUND", "NONE", "MULTIPLE", "INVALID" };
	char			 buf[SUMMARY_MAX];
	struct sts_diag		 d;
	struct sts_txt		 t;
	size_t			 i, j, lens[4];
	enum sts_txt_result	 r;

	for (i = 0; i < sizeof select_tests / sizeof select_tests[0]; i++) {
		for (j = 0; j < select_tests[i].n; j++)
			lens[j] = strlen(select_tests[i].recs[j]);
		memset(&d, 0, sizeof d);
		memset(&t, 0, sizeof t);
		r = sts_txt_select(select_tests[i].recs, lens, select_tests[i].n,
		    &t, &d);
		if (r == STS_TXT_FOUND)
			snprintf(buf, sizeof buf, "FOUND id=%s", t.id);
		else
			snprintf(buf, sizeof buf, "%s", r <= STS_TXT_INVALID ?
			    names[r] : "BAD");
		append_findings(buf, sizeof buf, &d, 0);
		is_str(buf, select_tests[i].want, "%s", select_tests[i].name);
	}
}

/* F04: wire form through join and select to the id. */
static void
test_txt_wire(void)
{
	static const uint8_t	 wire[] = "\x05" "v=STS" "\x16" "v1; id=20240101T000000";
	char			 rec[TXT_MAX];
	const char		*recs[1] = { rec };
	size_t			 lens[1];
	struct sts_txt		 t;
	int			 n;

	n = sts_txt_join(wire, sizeof wire - 1, rec, sizeof rec);
	lens[0] = n < 0 ? 0 : (size_t)n;
	memset(&t, 0, sizeof t);
	is_int(sts_txt_select(recs, lens, 1, &t, NULL), STS_TXT_FOUND,
	    "F04 split RR selected as one record");
	is_str(t.id, "20240101T000000", "F04 split RR gives id 20240101T000000");
}

#define V	"version: STSv1\n"
#define ME	"mode: enforce\n"
#define MX	"mx: mail.example.com\n"
#define AGE	"max_age: 604800\n"
#define OKBASE	"ok mode=enforce max_age=604800 mx=mail.example.com"

/* C23-C30, F06-F11, F15 and BEHAVIOUR.md tolerances. */
static const struct {
	const char	*name;
	const char	*body;
	size_t		 len;
	const char	*want;
} policy_tests[] = {
	/* C23 line ends */
	{ "C23 F08 LF line ends", S(V ME MX AGE), OKBASE },
	{ "C23 F08 CRLF line ends",
	  S("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n"),
	  OKBASE },
	{ "C23 F08 mixed LF and CRLF",
	  S("version: STSv1\r\nmode: enforce\nmx: mail.example.com\r\nmax_age: 604800"),
	  OKBASE },
	{ "C23 F08 no final terminator", S(V ME MX "max_age: 604800"), OKBASE },
	{ "C23 F08 trailing SP/HTAB after a value stripped",
	  S("version: STSv1 \nmode: enforce \t\r\nmx: mail.example.com\t\nmax_age: 604800  "),
	  OKBASE },
	{ "C23 CRLF never left in an mx value",
	  S(V ME "mx: mail.example.com\r\n" AGE), OKBASE },
	{ "C23 lone CR inside a value invalid", S(V "mode: enf\rorce\n" MX AGE),
	  "invalid E:policy-syntax@2 E:policy-mode-missing@0" },
	{ "C23 CR at the end without LF is not a terminator",
	  S(V ME MX "max_age: 604800\r"),
	  "invalid E:policy-syntax@4 E:policy-max-age-missing@0" },
	{ "C23 CR CR LF leaves a CR: invalid", S(V "mode: enforce\r\r\n" MX AGE),
	  "invalid E:policy-syntax@2 E:policy-mode-missing@0" },

	/* C24 key: value */
	{ "C24 mode:enforce without space valid",
	  S("version:STSv1\nmode:enforce\nmx:mail.example.com\nmax_age:604800\n"),
	  OKBASE },
	{ "C24 HTAB after the colon valid", S(V "mode:\tenforce\n" MX AGE), OKBASE },
	{ "C24 F08 'mode : enforce' is not a mode field",
	  S(V "mode : enforce\n" MX AGE),
	  "invalid E:policy-syntax@2 E:policy-mode-missing@0" },
	{ "C24 space before the key invalid", S(V " mode: enforce\n" MX AGE),
	  "invalid E:policy-syntax@2 E:policy-mode-missing@0" },
	{ "C24 HTAB before the key invalid", S(V ME MX "\tmax_age: 604800\n"),
	  "invalid E:policy-syntax@4 E:policy-max-age-missing@0" },
	{ "C24 line without a colon invalid", S(V ME MX AGE "hello world\n"),
	  "invalid E:policy-syntax@5" },
	{ "C24 empty key invalid", S(V ME MX AGE ": value\n"),
	  "invalid E:policy-syntax@5" },

	/* C25 case */
	{ "C25 F10 'Mode:' is an unknown field: mode missing",
	  S(V "Mode: enforce\n" MX AGE), "invalid E:policy-mode-missing@0" },
	{ "C25 F10 'mode: Enforce' invalid", S(V "mode: Enforce\n" MX AGE),
	  "invalid E:policy-mode-invalid@2" },
	{ "C25 F10 'Version:' is an unknown field: version missing",
	  S("Version: STSv1\n" ME MX AGE), "invalid E:policy-version-missing@0" },
	{ "C25 'version: stsv1' invalid", S("version: stsv1\n" ME MX AGE),
	  "invalid E:policy-version-invalid@1" },
	{ "C25 F10 'MX:' is an unknown field: no mx",
	  S(V ME "MX: mail.example.com\n" AGE), "invalid E:policy-no-mx@0" },
	{ "C25 'MAX_AGE:' is an unknown field", S(V ME MX "MAX_AGE: 604800\n"),
	  "invalid E:policy-max-age-missing@0" },

	/* C26 version, mode, max_age */
	{ "C26 F10 version MTA-STSv1 invalid", S("version: MTA-STSv1\n" ME MX AGE),
	  "invalid E:policy-version-invalid@1" },
	{ "C26 version STSv2 invalid", S("version: STSv2\n" ME MX AGE),
	  "invalid E:policy-version-invalid@1" },
	{ "C26 empty version invalid", S("version:\n" ME MX AGE),
	  "invalid E:policy-version-invalid@1" },
	{ "C26 mode testing", S(V "mode: testing\n" MX AGE),
	  "ok mode=testing max_age=604800 mx=mail.example.com" },
	{ "C26 mode none without mx", S(V "mode: none\n" AGE),
	  "ok mode=none max_age=604800 mx=" },
	{ "C26 mode enforced invalid", S(V "mode: enforced\n" MX AGE),
	  "invalid E:policy-mode-invalid@2" },
	{ "C26 empty mode invalid", S(V "mode:\n" MX AGE),
	  "invalid E:policy-mode-invalid@2" },
	{ "C26 F11 max_age with leading zeros", S(V ME MX "max_age: 0000604800\n"),
	  OKBASE },
	{ "C26 F11 max_age 0 valid", S(V ME MX "max_age: 0\n"),
	  "ok mode=enforce max_age=0 mx=mail.example.com" },
	{ "C26 F11 max_age 300 valid", S(V ME MX "max_age: 300\n"),
	  "ok mode=enforce max_age=300 mx=mail.example.com" },
	{ "C26 max_age 31557600 not clamped", S(V ME MX "max_age: 31557600\n"),
	  "ok mode=enforce max_age=31557600 mx=mail.example.com" },
	{ "C26 F11 max_age 31557601 clamped", S(V ME MX "max_age: 31557601\n"),
	  "ok mode=enforce max_age=31557600 mx=mail.example.com "
	  "W:policy-max-age-clamped@4" },
	{ "C26 max_age 9999999999 (10 digits) clamped, no overflow",
	  S(V ME MX "max_age: 9999999999\n"),
	  "ok mode=enforce max_age=31557600 mx=mail.example.com "
	  "W:policy-max-age-clamped@4" },
	{ "C26 max_age 4294967296 (2^32) clamped, no wrap",
	  S(V ME MX "max_age: 4294967296\n"),
	  "ok mode=enforce max_age=31557600 mx=mail.example.com "
	  "W:policy-max-age-clamped@4" },
	{ "C26 F11 11-digit max_age invalid", S(V ME MX "max_age: 99999999999\n"),
	  "invalid E:policy-max-age-invalid@4" },
	{ "C26 11 digits even with leading zeros", S(V ME MX "max_age: 00000000001\n"),
	  "invalid E:policy-max-age-invalid@4" },
	{ "C26 F11 max_age +604800 invalid", S(V ME MX "max_age: +604800\n"),
	  "invalid E:policy-max-age-invalid@4" },
	{ "C26 F11 max_age 604_800 invalid", S(V ME MX "max_age: 604_800\n"),
	  "invalid E:policy-max-age-invalid@4" },
	{ "C26 F11 max_age 1e6 invalid", S(V ME MX "max_age: 1e6\n"),
	  "invalid E:policy-max-age-invalid@4" },
	{ "C26 F11 max_age -1 invalid", S(V ME MX "max_age: -1\n"),
	  "invalid E:policy-max-age-invalid@4" },
	{ "C26 max_age 1.5 invalid", S(V ME MX "max_age: 1.5\n"),
	  "invalid E:policy-max-age-invalid@4" },
	{ "C26 max_age '86 400' invalid", S(V ME MX "max_age: 86 400\n"),
	  "invalid E:policy-max-age-invalid@4" },
	{ "C26 empty max_age invalid", S(V ME MX "max_age:\n"),
	  "invalid E:policy-max-age-invalid@4" },
	{ "C26 version required", S(ME MX AGE), "invalid E:policy-version-missing@0" },
	{ "C26 mode required", S(V MX AGE), "invalid E:policy-mode-missing@0" },
	{ "C26 max_age required", S(V ME MX), "invalid E:policy-max-age-missing@0" },
	{ "C26 empty body", "", 0,
	  "invalid E:policy-version-missing@0 E:policy-mode-missing@0 "
	  "E:policy-max-age-missing@0" },

	/* C27 mx */
	{ "C27 wildcard mx kept with its '*.'", S(V ME "mx: *.example.net\n" AGE),
	  "ok mode=enforce max_age=604800 mx=*.example.net" },
	{ "C27 mx lowercased", S(V ME "mx: MAIL.Example.COM\n" AGE), OKBASE },
	{ "C27 mx in policy order",
	  S(V ME "mx: b.example.com\nmx: a.example.com\nmx: *.c.example.com\n" AGE),
	  "ok mode=enforce max_age=604800 mx=b.example.com,a.example.com,*.c.example.com" },
	{ "C27 mx de-duplicated, first place kept",
	  S(V ME "mx: b.example.com\nmx: a.example.com\nmx: B.example.COM\nmx: a.example.com\n" AGE),
	  "ok mode=enforce max_age=604800 mx=b.example.com,a.example.com" },
	{ "C27 single-label mx valid", S(V ME "mx: localhost\n" AGE),
	  "ok mode=enforce max_age=604800 mx=localhost" },
	{ "C27 digits in labels valid", S(V ME "mx: 1mx.example2.com\n" AGE),
	  "ok mode=enforce max_age=604800 mx=1mx.example2.com" },
	{ "C27 IPv4 literal dropped", S(V ME MX "mx: 192.0.2.56\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 bracketed IPv4 literal dropped", S(V ME MX "mx: [192.0.2.1]\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 IPv6 literal dropped", S(V ME MX "mx: 2001:db8::1\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 trailing dot dropped", S(V ME MX "mx: mail2.example.com.\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 empty label dropped", S(V ME MX "mx: mail..example.com\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 leading dot dropped", S(V ME MX "mx: .example.com\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 label starting with '-' dropped", S(V ME MX "mx: -mx.example.com\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 label ending with '-' dropped", S(V ME MX "mx: mx-.example.com\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 underscore dropped", S(V ME MX "mx: mx_1.example.com\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 '*.*.' dropped", S(V ME MX "mx: *.*.example.com\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 inner '*' dropped", S(V ME MX "mx: mail.*.example.com\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 '*example.com' dropped", S(V ME MX "mx: *example.com\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 bare '*.' dropped", S(V ME MX "mx: *.\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 two names on one line dropped",
	  S(V ME MX "mx: a.example.com b.example.com\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 empty mx dropped", S(V ME MX "mx:\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 'xn--' A-labels valid (F15)",
	  S(V ME "mx: mail.example.xn--gckr3f0f\n" AGE),
	  "ok mode=enforce max_age=604800 mx=mail.example.xn--gckr3f0f" },
	{ "C27 F15 U-label mx dropped",
	  S(V ME MX "mx: mail.example.\xe3\x82\xaf\xe3\x83\xa9\xe3\x82\xa6\xe3\x83\x89\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 F15 invalid UTF-8 mx dropped", S(V ME MX "mx: mail.\xff\xfe.com\n" AGE),
	  OKBASE " W:policy-mx-invalid@4" },
	{ "C27 enforce with only invalid mx: invalid",
	  S(V ME "mx: 192.0.2.1\n" AGE),
	  "invalid W:policy-mx-invalid@3 E:policy-no-mx@0" },
	{ "C27 testing needs an mx too", S(V "mode: testing\n" AGE),
	  "invalid E:policy-no-mx@0" },
	{ "C27 none keeps its mx", S(V "mode: none\n" MX AGE),
	  "ok mode=none max_age=604800 mx=mail.example.com" },
	{ "C27 none with only invalid mx valid", S(V "mode: none\nmx: 10.0.0.1\n" AGE),
	  "ok mode=none max_age=604800 mx= W:policy-mx-invalid@3" },
	{ "C27 invalid mode with no mx: only the mode error",
	  S(V "mode: strict\n" AGE), "invalid E:policy-mode-invalid@2" },

	/* C28 duplicates and order */
	{ "C28 F10 mode enforce then testing: enforce",
	  S(V ME MX "mode: testing\n" AGE),
	  OKBASE " W:policy-field-duplicate@4" },
	{ "C28 repeated max_age: first counts",
	  S(V ME MX AGE "max_age: 86400\n"), OKBASE " W:policy-field-duplicate@5" },
	{ "C28 repeated version: first counts, second unchecked",
	  S(V ME MX AGE "version: STSv9\n"), OKBASE " W:policy-field-duplicate@5" },
	{ "C28 first mode invalid, second valid: invalid",
	  S(V "mode: Enforce\n" ME MX AGE),
	  "invalid E:policy-mode-invalid@2 W:policy-field-duplicate@3" },
	{ "C28 field order free", S(AGE MX ME V), OKBASE },

	/* C29 unknown fields */
	{ "C29 F06 'nmx:' unknown and no mx: invalid",
	  S(V ME "nmx: mx0.example.net\n" AGE), "invalid E:policy-no-mx@0" },
	{ "C29 unknown field ignored", S(V ME MX AGE "foo: bar\n"), OKBASE },
	{ "C29 unknown field with spaces and punctuation",
	  S(V ME MX AGE "x-note_1.a: see https://example.com/?a=b;c {x}\n"), OKBASE },
	{ "C29 unknown field with UTF-8 value", S(V ME MX AGE "note: caf\xc3\xa9\n"),
	  OKBASE },
	{ "C29 32-char unknown name", S(V ME MX AGE "abcdefghijabcdefghijabcdefghij12: x\n"),
	  OKBASE },
	{ "C29 33-char unknown name malformed",
	  S(V ME MX AGE "abcdefghijabcdefghijabcdefghij123: x\n"),
	  "invalid E:policy-syntax@5" },
	{ "C29 name starting with '_' malformed", S(V ME MX AGE "_x: 1\n"),
	  "invalid E:policy-syntax@5" },
	{ "C29 name with a space malformed", S(V ME MX AGE "foo bar: 1\n"),
	  "invalid E:policy-syntax@5" },
	{ "C29 empty unknown value malformed", S(V ME MX AGE "foo:\n"),
	  "invalid E:policy-syntax@5" },
	{ "C29 HTAB inside an unknown value malformed", S(V ME MX AGE "foo: a\tb\n"),
	  "invalid E:policy-syntax@5" },
	{ "C29 invalid UTF-8 in an unknown value malformed",
	  S(V ME MX AGE "foo: caf\xe9\n"), "invalid E:policy-syntax@5" },
	{ "C29 overlong UTF-8 in an unknown value malformed",
	  S(V ME MX AGE "foo: \xc0\xaf\n"), "invalid E:policy-syntax@5" },

	/* Tolerances (BEHAVIOUR.md) and hostile bytes */
	{ "F09 blank line skipped with a warning",
	  S("version: STSv1\n\nmode: enforce\n" MX AGE),
	  OKBASE " W:policy-blank-line@2" },
	{ "F09 trailing CRLF CRLF", S(V ME MX "max_age: 604800\r\n\r\n"),
	  OKBASE " W:policy-blank-line@5" },
	{ "F09 whitespace-only line is blank", S(V " \t\n" ME MX AGE),
	  OKBASE " W:policy-blank-line@2" },
	{ "F09 several blank lines: one warning", S("\n\n" V ME "\r\n" MX AGE "\n"),
	  OKBASE " W:policy-blank-line@1" },
	{ "BOM stripped with a warning", S("\xef\xbb\xbf" V ME MX AGE),
	  OKBASE " W:policy-bom@1" },
	{ "BOM only: nothing else", S("\xef\xbb\xbf"),
	  "invalid W:policy-bom@1 E:policy-version-missing@0 "
	  "E:policy-mode-missing@0 E:policy-max-age-missing@0" },
	{ "BOM on a later line is not stripped", S(V "\xef\xbb\xbfmode: enforce\n" MX AGE),
	  "invalid E:policy-syntax@2 E:policy-mode-missing@0" },
	{ "NUL byte in a value invalid", S(V "mode: enforce\0\n" MX AGE),
	  "invalid E:policy-syntax@2 E:policy-mode-missing@0" },
	{ "NUL byte in a repeated field still invalid",
	  S(V ME MX AGE "mode: te\0sting\n"), "invalid E:policy-syntax@5" },
	{ "DEL byte invalid", S(V ME MX AGE "foo: a\x7f\n"), "invalid E:policy-syntax@5" },
	{ "CR-only line ends are one line", S("version: STSv1\rmode: enforce\r"),
	  "invalid E:policy-syntax@1 E:policy-version-missing@0 "
	  "E:policy-mode-missing@0 E:policy-max-age-missing@0" },
};

static void
test_policy_parse(void)
{
	char	buf[SUMMARY_MAX];
	size_t	i;

	for (i = 0; i < sizeof policy_tests / sizeof policy_tests[0]; i++)
		is_str(policy_summary(policy_tests[i].body, policy_tests[i].len, buf,
		    sizeof buf), policy_tests[i].want, "%s", policy_tests[i].name);
}

/* F07: the IP literal never reaches the list; the rest keeps its order. */
static void
test_policy_f07(void)
{
	static const char	 body[] = "version: STSv1\nmode: enforce\n"
	    "mx: mail.example.com\nmx: *.example.com\nmx: mout.example.net\n"
	    "mx: 192.0.2.56\nmax_age: 86400\n";
	char			 buf[SUMMARY_MAX];

	is_str(policy_summary(body, sizeof body - 1, buf, sizeof buf),
	    "ok mode=enforce max_age=86400 mx=mail.example.com,*.example.com,"
	    "mout.example.net W:policy-mx-invalid@6",
	    "F07 IP literal dropped, three patterns in order");
}

/* policy->lines and policy->text. */
static const struct {
	const char	*name;
	const char	*body;
	size_t		 len;
	const char	*want;
} lines_tests[] = {
	{ "lines: LF body", S(V ME MX AGE),
	  "4:version: STSv1|mode: enforce|mx: mail.example.com|max_age: 604800" },
	{ "lines: CRLF and trailing WSP removed",
	  S("version: STSv1 \r\nmode: enforce\t\r\nmx: mail.example.com\r\nmax_age: 604800"),
	  "4:version: STSv1|mode: enforce|mx: mail.example.com|max_age: 604800" },
	{ "lines: blank lines and BOM left out",
	  S("\xef\xbb\xbf" V "\n" ME "  \r\n" MX AGE "\r\n\r\n"),
	  "4:version: STSv1|mode: enforce|mx: mail.example.com|max_age: 604800" },
	{ "lines: dropped mx, duplicate and unknown lines kept",
	  S(V ME "mx: 192.0.2.1\n" MX AGE "mode: testing\nfoo: bar {x}\n"),
	  "7:version: STSv1|mode: enforce|mx: 192.0.2.1|mx: mail.example.com|"
	  "max_age: 604800|mode: testing|foo: bar {x}" },
	{ "lines: mx kept as written, list lowercased",
	  S(V ME "mx: MAIL.example.com\n" AGE),
	  "4:version: STSv1|mode: enforce|mx: MAIL.example.com|max_age: 604800" },
};

static void
test_policy_lines(void)
{
	struct sts_policy	*p;
	char			 buf[SUMMARY_MAX];
	size_t			 i, j, n;
	int			 r;

	for (i = 0; i < sizeof lines_tests / sizeof lines_tests[0]; i++) {
		p = NULL;
		r = sts_policy_parse(lines_tests[i].body, lines_tests[i].len, &p,
		    NULL);
		if (r != 0 || p == NULL) {
			ok(0, "%s (parse failed)", lines_tests[i].name);
			continue;
		}
		snprintf(buf, sizeof buf, "%zu:", p->nlines);
		for (j = 0; j < p->nlines; j++) {
			n = strlen(buf);
			snprintf(buf + n, sizeof buf - n, "%s%s", j ? "|" : "",
			    p->lines[j]);
		}
		is_str(buf, lines_tests[i].want, "%s", lines_tests[i].name);
		ok(p->textlen == lines_tests[i].len &&
		    memcmp(p->text, lines_tests[i].body, p->textlen) == 0 &&
		    p->text[p->textlen] == '\0',
		    "%s: text is the body as received", lines_tests[i].name);
		sts_policy_free(p);
	}
}

/* Build a body of n mx lines mx<i>.example.com, optionally all the same. */
static char *
mx_body(int n, int same, size_t *len)
{
	char	*b;
	size_t	 sz = 256 + (size_t)n * 40, off;
	int	 i;

	b = xmalloc(sz);
	off = (size_t)snprintf(b, sz, "version: STSv1\nmode: enforce\nmax_age: 86400\n");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(b + off, sz - off, "mx: mx%d.example.com\n",
		    same ? 0 : i);
	*len = off;
	return (b);
}

/* STS_MX_MAX, STS_LINES_MAX and POLICY_MAX. */
static void
test_policy_limits(void)
{
	struct sts_policy	*p;
	struct sts_diag		 d;
	char			 buf[SUMMARY_MAX], *b;
	size_t			 len, off;
	int			 r;

	b = mx_body(STS_MX_MAX, 0, &len);
	p = NULL;
	r = sts_policy_parse(b, len, &p, NULL);
	ok(r == 0 && p != NULL && p->nmx == STS_MX_MAX &&
	    strcmp(p->mx[STS_MX_MAX - 1], "mx127.example.com") == 0,
	    "C27 exactly STS_MX_MAX mx patterns kept");
	sts_policy_free(p);
	free(b);

	b = mx_body(STS_MX_MAX + 1, 0, &len);
	is_str(policy_summary(b, len, buf, sizeof buf),
	    "invalid E:policy-mx-too-many@132", "C27 STS_MX_MAX + 1 mx: invalid");
	free(b);

	b = mx_body(400, 1, &len);
	is_str(policy_summary(b, len, buf, sizeof buf),
	    "ok mode=enforce max_age=86400 mx=mx0.example.com",
	    "C27 400 copies of one mx are one pattern");
	free(b);

	/* More than STS_LINES_MAX lines: the first ones kept, a warning. */
	len = 0;
	b = xmalloc(POLICY_MAX);
	off = (size_t)snprintf(b, POLICY_MAX, V ME MX AGE);
	while (off < 600 * 8)
		off += (size_t)snprintf(b + off, POLICY_MAX - off, "x: %04zu\n",
		    off / 8);
	p = NULL;
	memset(&d, 0, sizeof d);
	r = sts_policy_parse(b, off, &p, &d);
	ok(r == 0 && p != NULL && p->nlines == STS_LINES_MAX &&
	    strcmp(p->lines[0], "version: STSv1") == 0 && d.n == 1 &&
	    strcmp(d.f[0].code, "policy-lines-truncated") == 0 &&
	    d.f[0].line == STS_LINES_MAX + 1 && !d.f[0].error,
	    "lines: STS_LINES_MAX kept, then one warning");
	sts_policy_free(p);

	/* A valid body of exactly POLICY_MAX bytes, then one byte more. */
	off = (size_t)snprintf(b, POLICY_MAX, V ME MX AGE "pad: ");
	memset(b + off, 'p', POLICY_MAX - off);
	is_str(policy_summary(b, POLICY_MAX, buf, sizeof buf),
	    "ok mode=enforce max_age=604800 mx=mail.example.com",
	    "POLICY_MAX bytes: valid");
	free(b);
	b = xmalloc(POLICY_MAX + 1);
	off = (size_t)snprintf(b, POLICY_MAX, V ME MX AGE "pad: ");
	memset(b + off, 'p', POLICY_MAX + 1 - off);
	is_str(policy_summary(b, POLICY_MAX + 1, buf, sizeof buf),
	    "invalid E:policy-too-large@0", "POLICY_MAX + 1 bytes: invalid");
	free(b);
}

/* C30: an invalid policy never comes out; NULL out and diag are fine. */
static void
test_policy_out(void)
{
	static const char	 good[] = V ME MX AGE, bad[] = V "mode: Enforce\n" MX AGE;
	struct sts_policy	*p;

	p = (struct sts_policy *)(uintptr_t)1;
	is_int(sts_policy_parse(bad, sizeof bad - 1, &p, NULL), -1,
	    "C30 invalid policy returns -1");
	ok(p == NULL, "C30 invalid policy sets out to NULL");
	is_int(sts_policy_parse(good, sizeof good - 1, NULL, NULL), 0,
	    "C30 valid policy with NULL out just validates");
	is_int(sts_policy_parse(NULL, 0, &p, NULL), -1, "C30 NULL body invalid");
}

/* D31, D32, F12, F14: one pattern against one MX host. */
static const struct {
	const char	*name;
	const char	*pattern;
	const char	*host;
	int		 want;
} match_tests[] = {
	{ "D31 wildcard matches one extra label", "*.example.com", "a.example.com", 1 },
	{ "D31 wildcard does not match the bare domain", "*.example.com", "example.com", 0 },
	{ "D31 wildcard does not match two labels", "*.example.com", "a.b.example.com", 0 },
	{ "D31 F12 two labels under a provider wildcard",
	  "*.mx.example-provider.net", "tenant.h-v1.mx.example-provider.net", 0 },
	{ "D31 F12 one label under a provider wildcard",
	  "*.mx.example-provider.net", "h-v1.mx.example-provider.net", 1 },
	{ "D31 exact pattern matches", "mail.example.com", "mail.example.com", 1 },
	{ "D31 exact pattern, other host", "mail.example.com", "mail2.example.com", 0 },
	{ "D31 exact pattern, subdomain host", "mail.example.com", "x.mail.example.com", 0 },
	{ "D31 exact pattern, prefix host", "example.com", "example.co", 0 },
	{ "D31 exact pattern, longer host", "example.co", "example.com", 0 },
	{ "D31 F14 case-insensitive pattern", "MAIL.Example.ORG", "mail.example.org", 1 },
	{ "D31 F14 case-insensitive host", "mail.example.org", "MAIL.Example.ORG", 1 },
	{ "D31 wildcard case-insensitive", "*.Example.COM", "A.example.com", 1 },
	{ "D31 F14 one trailing dot on the host ignored", "example.org", "example.org.", 1 },
	{ "D31 wildcard with a dotted host", "*.example.com", "a.example.com.", 1 },
	{ "D31 two trailing dots not ignored", "example.org", "example.org..", 0 },
	{ "D31 wildcard is not a suffix match", "*.example.com", "a.example.com.evil", 0 },
	{ "D31 wildcard does not match a longer label", "*.example.com", "a.xexample.com", 0 },
	{ "D32 F14 wildcard vs dotless host", "*.example.org", "without-dots", 0 },
	{ "D32 F14 exact vs dotless host", "example.org", "without-dots", 0 },
	{ "D32 dotless pattern and host", "localhost", "localhost", 1 },
	{ "D32 F14 bare domain vs wildcard", "*.example.org", "example.org", 0 },
	{ "D32 empty first label", "*.example.com", ".example.com", 0 },
	{ "D32 empty inner label", "*.example.com", "a..example.com", 0 },
	{ "D32 empty host", "*.example.com", "", 0 },
	{ "D32 host is one dot", "example.com", ".", 0 },
	{ "D32 empty pattern", "", "example.com", 0 },
	{ "D32 empty pattern and host", "", "", 0 },
	{ "D32 pattern '*.'", "*.", "a.", 0 },
	{ "D32 pattern '*'", "*", "a", 0 },
	{ "D32 wildcard over a single-label suffix", "*.com", "example.com", 1 },
};

static void
test_match(void)
{
	char	long_host[1200];
	size_t	i;

	for (i = 0; i < sizeof match_tests / sizeof match_tests[0]; i++)
		is_int(sts_mx_match(match_tests[i].pattern, match_tests[i].host),
		    match_tests[i].want, "%s (%s vs %s)", match_tests[i].name,
		    match_tests[i].pattern, match_tests[i].host);
	is_int(sts_mx_match(NULL, "a.example.com"), 0, "D32 NULL pattern");
	is_int(sts_mx_match("*.example.com", NULL), 0, "D32 NULL host");
	memset(long_host, 'a', sizeof long_host - 1);
	long_host[sizeof long_host - 1] = '\0';
	long_host[1] = '.';
	is_int(sts_mx_match("*.example.com", long_host), 0, "D32 1199-byte host");
}

/* C27 grammar of a pattern on its own. */
static const struct {
	const char	*name;
	const char	*s;
	int		 want;
} valid_tests[] = {
	{ "C27 plain name", "mail.example.com", 1 },
	{ "C27 wildcard", "*.example.com", 1 },
	{ "C27 upper case accepted", "MAIL.EXAMPLE.COM", 1 },
	{ "C27 hyphen inside a label", "mx-1.ex-ample.com", 1 },
	{ "C27 A-label", "xn--bcher-kva.example", 1 },
	{ "C27 IPv4 address", "192.0.2.1", 0 },
	{ "C27 all-digit last label", "mail.123", 0 },
	{ "C27 trailing dot", "example.com.", 0 },
	{ "C27 wildcard only", "*", 0 },
	{ "C27 '*.' only", "*.", 0 },
	{ "C27 '*.' then a trailing dot", "*.example.", 0 },
	{ "C27 empty", "", 0 },
	{ "C27 colon", "mail.example.com:25", 0 },
	{ "C27 slash", "mail/example.com", 0 },
};

static void
test_mx_valid(void)
{
	char	name[300];
	size_t	i;

	for (i = 0; i < sizeof valid_tests / sizeof valid_tests[0]; i++)
		is_int(sts_mx_valid(valid_tests[i].s, strlen(valid_tests[i].s)),
		    valid_tests[i].want, "%s: %s", valid_tests[i].name,
		    valid_tests[i].s);

	/* A 63-byte label is fine, 64 is not. */
	memset(name, 'a', 63);
	memcpy(name + 63, ".example.com", 13);
	is_int(sts_mx_valid(name, strlen(name)), 1, "C27 63-byte label valid");
	memset(name, 'a', 64);
	memcpy(name + 64, ".example.com", 13);
	is_int(sts_mx_valid(name, strlen(name)), 0, "C27 64-byte label invalid");

	/* 253 bytes in all is fine, 254 is not: labels of 49 + dot. */
	for (i = 0; i < 300; i++)
		name[i] = (i % 50 == 49) ? '.' : 'a';
	name[253] = '\0';
	is_int(sts_mx_valid(name, 253), 1, "C27 253-byte name valid");
	name[253] = 'a';
	is_int(sts_mx_valid(name, 254), 0, "C27 254-byte name invalid");
	is_int(sts_mx_valid(NULL, 4), 0, "D32 NULL pattern invalid");
	is_int(sts_mx_valid("a.example.com", 1), 1, "C27 length bounds the name");
}

/* sts_policy_mx_ok and sts_policy_equal. */
static void
test_policy_helpers(void)
{
	static const char	 a[] = V ME "mx: mail.example.com\nmx: *.example.net\n" AGE;
	static const char	 b[] = "max_age: 604800\r\nmx: MAIL.example.com\r\n"
	    "mode: enforce\r\nmx: *.example.net\r\nversion: STSv1\r\nfoo: bar\r\n";
	static const char	 c[] = V ME "mx: *.example.net\nmx: mail.example.com\n" AGE;
	static const char	 e[] = V ME "mx: mail.example.com\nmx: *.example.net\n"
	    "max_age: 86400\n";
	static const char	 t[] = V "mode: testing\nmx: mail.example.com\n"
	    "mx: *.example.net\n" AGE;
	struct sts_policy	*pa = NULL, *pb = NULL, *pc = NULL, *pe = NULL, *pt = NULL;

	sts_policy_parse(a, sizeof a - 1, &pa, NULL);
	sts_policy_parse(b, sizeof b - 1, &pb, NULL);
	sts_policy_parse(c, sizeof c - 1, &pc, NULL);
	sts_policy_parse(e, sizeof e - 1, &pe, NULL);
	sts_policy_parse(t, sizeof t - 1, &pt, NULL);
	ok(pa && pb && pc && pe && pt, "helpers: five policies parsed");

	is_int(sts_policy_mx_ok(pa, "mail.example.com"), 1, "D31 mx_ok exact");
	is_int(sts_policy_mx_ok(pa, "MX1.example.NET."), 1, "D31 mx_ok wildcard");
	is_int(sts_policy_mx_ok(pa, "a.mx1.example.net"), 0, "D31 mx_ok two labels");
	is_int(sts_policy_mx_ok(pa, "example.net"), 0, "D31 mx_ok bare domain");
	is_int(sts_policy_mx_ok(pa, "mail.example.org"), 0, "D31 mx_ok other host");
	is_int(sts_policy_mx_ok(NULL, "mail.example.com"), 0, "D32 mx_ok NULL policy");
	is_int(sts_policy_mx_ok(pa, NULL), 0, "D32 mx_ok NULL host");

	is_int(sts_policy_equal(pa, pb), 1,
	    "equal: same mode, max_age, mx; other text and order of fields");
	is_int(sts_policy_equal(pa, pc), 0, "equal: mx order differs");
	is_int(sts_policy_equal(pa, pe), 0, "equal: max_age differs");
	is_int(sts_policy_equal(pa, pt), 0, "equal: mode differs");
	is_int(sts_policy_equal(NULL, NULL), 1, "equal: NULL and NULL");
	is_int(sts_policy_equal(pa, NULL), 0, "equal: policy and NULL");
	sts_policy_free(pa);
	sts_policy_free(pb);
	sts_policy_free(pc);
	sts_policy_free(pe);
	sts_policy_free(pt);
	sts_policy_free(NULL);
}

/* sts_mode_name and sts_mode_parse. */
static const struct {
	const char	*s;
	int		 want;
} mode_tests[] = {
	{ "enforce", STS_MODE_ENFORCE },
	{ "testing", STS_MODE_TESTING },
	{ "none", STS_MODE_NONE },
	{ "Enforce", -1 },
	{ "enforce ", -1 },
	{ "", -1 },
};

static void
test_modes(void)
{
	size_t	i;

	for (i = 0; i < sizeof mode_tests / sizeof mode_tests[0]; i++)
		is_int(sts_mode_parse(mode_tests[i].s), mode_tests[i].want,
		    "mode_parse \"%s\"", mode_tests[i].s);
	is_int(sts_mode_parse(NULL), -1, "mode_parse NULL");
	is_str(sts_mode_name(STS_MODE_ENFORCE), "enforce", "mode_name enforce");
	is_str(sts_mode_name(STS_MODE_TESTING), "testing", "mode_name testing");
	is_str(sts_mode_name(STS_MODE_NONE), "none", "mode_name none");
	is_str(sts_mode_name((enum sts_mode)7), "unknown", "mode_name out of range");
}

/* sts_diag_add and sts_diag_has_error, including overflow. */
static void
test_diag(void)
{
	struct sts_diag	d;
	int		i;

	sts_diag_add(NULL, 1, 1, "x", "y", "no-op %d", 1);
	memset(&d, 0, sizeof d);
	is_int(sts_diag_has_error(&d), 0, "diag: empty has no error");
	is_int(sts_diag_has_error(NULL), 0, "diag: NULL has no error");
	sts_diag_add(&d, 3, 0, "policy-bom", "BEHAVIOUR.md", "n=%d s=%s", 42, "x");
	ok(d.n == 1 && d.f[0].line == 3 && !d.f[0].error &&
	    strcmp(d.f[0].code, "policy-bom") == 0 &&
	    strcmp(d.f[0].rfc, "BEHAVIOUR.md") == 0 &&
	    strcmp(d.f[0].msg, "n=42 s=x") == 0, "diag: finding recorded exactly");
	is_int(sts_diag_has_error(&d), 0, "diag: a warning is not an error");

	for (i = 1; i < STS_DIAG_MAX + 8; i++)
		sts_diag_add(&d, i, 0, "w", "r", "warning %d", i);
	ok(d.n == STS_DIAG_MAX && d.dropped == 8 && !sts_diag_has_error(&d),
	    "diag: STS_DIAG_MAX kept, the rest counted as dropped");
	sts_diag_add(&d, 99, 1, "e", "r", "an error");
	ok(d.n == STS_DIAG_MAX && d.dropped == 9 && sts_diag_has_error(&d) &&
	    d.f[STS_DIAG_MAX - 1].line == 99, "diag: an error replaces the last warning");
	sts_diag_add(&d, 100, 1, "e2", "r", "another");
	ok(d.n == STS_DIAG_MAX && d.dropped == 10 &&
	    strcmp(d.f[STS_DIAG_MAX - 1].code, "e") == 0,
	    "diag: once an error is kept, later ones are dropped");

	memset(&d, 0, sizeof d);
	{
		char	long_arg[400];

		memset(long_arg, 'm', sizeof long_arg - 1);
		long_arg[sizeof long_arg - 1] = '\0';
		sts_diag_add(&d, 0, 1, "e", "r", "%s", long_arg);
	}
	is_int((long)strlen(d.f[0].msg), (long)sizeof d.f[0].msg - 1,
	    "diag: long message truncated to the buffer");
}

/* Findings quote peer bytes only as printable ASCII. */
static void
test_quote(void)
{
	static const char	 b1[] = "version: STSv1\nmode: \xc3\xa9vil\n";
	static const char	 b2[] = "version: X\xff\xfeY\nmode: \x1b[31m\n";
	static const char	 t1[] = "v=STSv1; id=a\x7f";
	struct sts_diag		 d;
	struct sts_policy	*p = NULL;
	size_t			 i;
	int			 clean = 1;

	memset(&d, 0, sizeof d);
	sts_policy_parse(b1, sizeof b1 - 1, &p, &d);
	sts_policy_parse(b2, sizeof b2 - 1, &p, &d);
	sts_txt_parse(t1, sizeof t1 - 1, NULL, &d);
	for (i = 0; i < d.n; i++) {
		const unsigned char	*m = (const unsigned char *)d.f[i].msg;

		for (; *m != '\0'; m++)
			if (*m < 0x20 || *m > 0x7e)
				clean = 0;
	}
	ok(d.n >= 5 && clean, "findings hold printable ASCII only (%zu)", d.n);
}

int
main(void)
{
	test_join();
	test_join_sizes();
	test_candidate();
	test_txt_parse();
	test_txt_select();
	test_txt_wire();
	test_policy_parse();
	test_policy_f07();
	test_policy_lines();
	test_policy_limits();
	test_policy_out();
	test_match();
	test_mx_valid();
	test_policy_helpers();
	test_modes();
	test_diag();
	test_quote();
	return (done_testing());
}
