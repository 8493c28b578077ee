#!/bin/bash
# t-50-mtastsctl-check: mtastsctl resolve, check and lint in the test
# world.  resolve prints every step of a cacheless discovery; check adds
# the MX records against the policy, the TLS-RPT record (RFC 8460 3),
# certificate expiry and advice, with exit 0 valid, 1 warnings, 2 errors:
# a good domain, an MX outside the patterns, a broken domain.  lint
# validates policy files and TXT values before they are published.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

CTL="${MTASTSCTL:-$top_builddir/mtastsctl}"

# ctl ARGS...: run mtastsctl in the namespace with the daemon's config
# (for the resolver and the CA); sets OUT, ERR and RC.
ctl() {
	OUT=$(nsx "$CTL" -c "$W/mtastsd.conf" "$@" 2>"$W/ctl.err")
	RC=$?
	ERR=$(cat "$W/ctl.err")
}

# jq_ JSON EXPR: the Python expression EXPR over d = json.loads(JSON).
jq_() {
	"$PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1])
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

# codes JSON: "severity:code" of every finding, one line.
codes() {
	jq_ "$1" '" ".join(f["severity"] + ":" + f["code"] for f in d["findings"])'
}

# cert_days LABEL DAYS SAN: a leaf from the test CA valid DAYS days.
cert_days() {
	printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
	    "$3" >"$W/certs/$1.ext"
	openssl req -new -key "$W/certs/leaf.key" -subj "/CN=$3" \
	    -out "$W/certs/$1.csr" >>"$W/log/openssl.log" 2>&1 &&
	openssl ca -batch -notext -config "$W/certs/ca.cnf" -days "$2" \
	    -in "$W/certs/$1.csr" -out "$W/certs/$1.pem" \
	    -extfile "$W/certs/$1.ext" >>"$W/log/openssl.log" 2>&1 ||
	    bail "certificate $1 failed"
}

world_start
[ -x "$CTL" ] || bail "no mtastsctl at $CTL"

# good.test: everything right, a TLS-RPT record, two MX both covered, and
# an unrelated TXT record next to the STSv1 one.
sts_domain good.test 20240101T000000 enforce 1209600 mx1.good.test '*.good.test'
dns_add good.test MX "20 mx2.good.test."
dns_add _mta-sts.good.test TXT '"site-verification=abc123"'
txt_set _smtp._tls.good.test "v=TLSRPTv1; rua=mailto:tlsrpt@good.test,https://reports.good.test/v1"
# mxout.test: a backup MX that no pattern covers; no TLS-RPT record.
sts_domain mxout.test 1 enforce 1209600 mx1.mxout.test
dns_add mxout.test MX "20 backup.elsewhere.example."
# broken.test: an invalid policy and an invalid TLS-RPT record.
sts_domain broken.test 1 enforce 86400 mx1.broken.test
policy mta-sts.broken.test 'version: STSv1\nmode: Enforce\nmx: mx1.broken.test\nmax_age: 86400\n'
txt_set _smtp._tls.broken.test "v=TLSRPTv1; rua=ftp://reports.broken.test"
# soon.test: the certificate expires in 5 days.
sts_domain soon.test 1 enforce 1209600 mx1.soon.test
txt_set _smtp._tls.soon.test "v=TLSRPTv1; rua=mailto:r@soon.test"
cert_days soon 5 mta-sts.soon.test
site mta-sts.soon.test cert=soon
# testing.test: mode testing and a short max_age: advice only.
sts_domain testing.test 3 testing 86400 mx1.testing.test
txt_set _smtp._tls.testing.test "v=TLSRPTv1; rua=mailto:r@testing.test"
# blank.test: a tolerated defect (a blank line): a warning.
sts_domain blank.test 1 enforce 1209600 mx1.blank.test
policy mta-sts.blank.test 'version: STSv1\nmode: enforce\n\nmx: mx1.blank.test\nmax_age: 1209600\n'
txt_set _smtp._tls.blank.test "v=TLSRPTv1; rua=mailto:r@blank.test"
# nomx.test: no MX record, so mail goes to the domain itself, which no
# pattern covers.
sts_domain nomx.test 1 enforce 1209600 mx1.nomx.test
dns_del nomx.test MX
dns_add nomx.test A "$WEB_ADDR"
txt_set _smtp._tls.nomx.test "v=TLSRPTv1; rua=mailto:r@nomx.test"
# two.test: two STSv1 records, so no policy (RFC 8461 3.1).
dns_add _mta-sts.two.test TXT '"v=STSv1; id=1"'
dns_add _mta-sts.two.test TXT '"v=STSv1; id=2"'
dns_commit
web_commit
daemon_conf >"$W/mtastsd.conf"

# ---------------------------------------------------------------- resolve

ctl resolve good.test --json
is "$RC" 0 "resolve good.test: exit 0"
is "$(jq_ "$OUT" '[d[k] for k in ("command", "domain", "status", "reason", "error", "resolvers", "result", "exit")]')" \
    '["resolve", "good.test", "policy", "ok", null, ["127.0.0.53"], "valid", 0]' "resolve --json: outcome"
is "$(jq_ "$OUT" '[d["txt"][k] for k in ("name", "dns", "result", "id")]')" \
    '["_mta-sts.good.test", "ok", "found", "20240101T000000"]' "resolve --json: the TXT step"
is "$(jq_ "$OUT" 'sorted([r["text"], r["candidate"], r["chosen"]] for r in d["txt"]["records"])')" \
    '[["site-verification=abc123", false, false], ["v=STSv1; id=20240101T000000", true, true]]' \
    "resolve --json: each TXT answer, which one was chosen"
is "$(jq_ "$OUT" '[d["policy_host"]["name"], d["policy_host"]["addresses"]]')" '["mta-sts.good.test", ["127.0.0.1"]]' \
    "resolve --json: the policy host and its addresses"
is "$(jq_ "$OUT" '[d["https"][k] for k in ("url", "result", "server", "http_status", "content_type", "body_bytes")]')" \
    '["https://mta-sts.good.test/.well-known/mta-sts.txt", "ok", "127.0.0.1", 200, "text/plain", 80]' \
    "resolve --json: the HTTP exchange"
like "$(jq_ "$OUT" 'd["https"]["tls_version"]')" '^TLSv1\.[23]$' "resolve --json: TLS version"
is "$(jq_ "$OUT" '[d["certificate"]["san"], "mtastsd test ca" in d["certificate"]["issuer"], "mta-sts.good.test" in d["certificate"]["subject"], 28 <= d["certificate"]["days_left"] <= 30]')" \
    '[["mta-sts.good.test"], true, true, true]' "resolve --json: the certificate"
is "$(jq_ "$OUT" 'd["policy"]')" \
    '{"mode": "enforce", "max_age": 1209600, "mx": ["mx1.good.test", "*.good.test"], "text": "version: STSv1\nmode: enforce\nmx: mx1.good.test\nmx: *.good.test\nmax_age: 1209600\n"}' \
    "resolve --json: the parsed policy"
is "$(jq_ "$OUT" 'd["findings"]')" '[]' "resolve --json: no findings"
is "$(jq_ "$OUT" '"mx" in d or "tlsrpt" in d')" false "resolve --json: no check sections"

ctl resolve good.test
is "$RC" 0 "resolve good.test (text): exit 0"
like "$OUT" $'^resolve good\\.test: resolver 127\\.0\\.0\\.53, [0-9]+ ms, no cache\n' "resolve: header"
like "$OUT" $'\nTXT _mta-sts\\.good\\.test: OK, ttl 1s\n' "resolve: TXT answer"
like "$OUT" $'\n  "v=STSv1; id=20240101T000000"  chosen: the only record starting with v=STSv1\n' "resolve: why chosen"
like "$OUT" $'\n  "site-verification=abc123" +ignored: does not start with v=STSv1\n' "resolve: why ignored"
like "$OUT" $'\nHTTPS https://mta-sts\\.good\\.test/\\.well-known/mta-sts\\.txt: ok\n' "resolve: HTTPS step"
like "$OUT" $'\n  HTTP status   200\n  content-type  text/plain\n' "resolve: status and content type"
like "$OUT" $'\n  certificate   subject [^\n]*mta-sts\\.good\\.test\n  +issuer [^\n]*mtastsd test ca\n  +names mta-sts\\.good\\.test\n  +valid 20' \
    "resolve: the certificate"
like "$OUT" $'\n     1  version: STSv1\n     2  mode: enforce\n' "resolve: the policy with line numbers"
like "$OUT" $'\n  -> mode enforce, max_age 1209600 \\(14d\\), mx mx1\\.good\\.test, \\*\\.good\\.test\n' "resolve: the parsed policy"
like "$OUT" $'\ngood\\.test: valid \\(0 errors, 0 warnings, 0 notes\\)$' "resolve: verdict"

ctl resolve nosts.test --json
is "$RC" 2 "resolve of a domain without a record: exit 2"
is "$(jq_ "$OUT" '[d["status"], d["reason"], d["txt"]["dns"], d["txt"]["records"], d["https"] if "https" in d else "absent"]')" \
    '["no-record", "txt-nxdomain", "nxdomain", [], null]' "resolve --json: NXDOMAIN, nothing fetched"
is "$(jq_ "$OUT" '[[f[k] for k in ("severity", "step", "code", "rfc")] for f in d["findings"]]')" \
    '[["error", "txt", "txt-nxdomain", "RFC 8461 3.1"]]' "resolve --json: the error names RFC 8461 3.1"

ctl resolve two.test --json
is "$RC" 2 "A6 F03 resolve, two STSv1 records: exit 2"
is "$(jq_ "$OUT" '[d["txt"]["result"], sorted([r["candidate"], r["chosen"]] for r in d["txt"]["records"])]')" \
    '["multiple", [[true, false], [true, false]]]' "resolve --json: two candidates, none chosen"
is "$(codes "$OUT")" "error:txt-multiple" "resolve --json: txt-multiple"
ctl resolve two.test
like "$OUT" $'\n  "v=STSv1; id=1"  not used: one of 2 records starting with v=STSv1\n' "resolve: why neither is used"

ctl resolve good.test --ca-file "$W/certs/untrusted.pem" --json
is "$RC" 2 "resolve with a CA that does not trust the server: exit 2"
is "$(jq_ "$OUT" '[d["status"], d["reason"], d["https"]["result"]]')" '["fetch-failed", "fetch-certificate", "certificate"]' \
    "resolve --ca-file: certificate failure"
is "$(jq_ "$OUT" '[[f["step"], f["code"], f["rfc"]] for f in d["findings"]]')" \
    '[["fetch", "fetch-certificate", "RFC 8461 3.3"]]' "resolve --ca-file: the error names RFC 8461 3.3"

ctl resolve good.test --resolver "$DEAD_ADDR" --json
is "$RC" 2 "resolve with a resolver that does not answer: exit 2"
is "$(jq_ "$OUT" '[d["resolvers"], d["status"], d["reason"], d["txt"]["dns"]]')" \
    "[[\"$DEAD_ADDR\"], \"txt-failed\", \"txt-timeout\", \"timeout\"]" "resolve --resolver: the given resolver is used"
ctl resolve good.test --resolver not-an-address
is "$RC" 64 "resolve --resolver with a bad address: exit 64"
ctl resolve 192.0.2.1
is "$RC" 64 "resolve of an IP literal: exit 64"

# ---------------------------------------------------------------- check

ctl check good.test --json
is "$RC" 0 "check good.test: exit 0"
is "$(jq_ "$OUT" '[d["command"], d["result"], d["exit"], d["findings"]]')" '["check", "valid", 0, []]' \
    "check --json good.test: valid, no findings"
is "$(jq_ "$OUT" '[d["mx"]["dns"], [[r["preference"], r["host"], r["pattern"]] for r in d["mx"]["records"]]]')" \
    '["ok", [[10, "mx1.good.test", "mx1.good.test"], [20, "mx2.good.test", "*.good.test"]]]' \
    "check --json: each MX and the pattern that covers it"
is "$(jq_ "$OUT" '[d["tlsrpt"][k] for k in ("name", "dns", "valid", "rua")]')" \
    '["_smtp._tls.good.test", "ok", true, ["mailto:tlsrpt@good.test", "https://reports.good.test/v1"]]' \
    "check --json: the TLS-RPT record"
is "$(jq_ "$OUT" '[[r["candidate"], r["chosen"]] for r in d["tlsrpt"]["records"]]')" '[[true, true]]' \
    "check --json: the TLS-RPT record chosen"
ctl check good.test
is "$RC" 0 "check good.test (text): exit 0"
like "$OUT" $'\nMX good\\.test: OK\n +10 mx1\\.good\\.test  matches mx1\\.good\\.test\n +20 mx2\\.good\\.test  matches \\*\\.good\\.test\n' \
    "check: MX matched against the patterns"
like "$OUT" $'\nTLS-RPT _smtp\\._tls\\.good\\.test: OK\n  "v=TLSRPTv1; rua=mailto:tlsrpt@good\\.test,https://reports\\.good\\.test/v1"  valid: rua mailto:tlsrpt@good\\.test, https://reports\\.good\\.test/v1\n' \
    "check: the TLS-RPT record"
like "$OUT" $'\nFindings\n  none\n' "check: no findings"
like "$OUT" $'\ngood\\.test: valid \\(0 errors, 0 warnings, 0 notes\\)$' "check: verdict"

ctl check mxout.test --json
is "$RC" 1 "D31 check, an MX outside the patterns: exit 1"
is "$(jq_ "$OUT" '[d["result"], d["exit"]]')" '["warnings", 1]' "check --json mxout.test: warnings"
is "$(codes "$OUT")" "warning:mx-not-covered note:tlsrpt-missing" "check --json mxout.test: the findings"
is "$(jq_ "$OUT" '[r["pattern"] for r in d["mx"]["records"]]')" '["mx1.mxout.test", null]' \
    "check --json mxout.test: the backup MX has no pattern"
is "$(jq_ "$OUT" '[d["findings"][0]["rfc"], "backup.elsewhere.example" in d["findings"][0]["message"]]')" \
    '["RFC 8461 4.1", true]' "check --json mxout.test: the warning names the MX and RFC 8461 4.1"
is "$(jq_ "$OUT" '[d["tlsrpt"]["dns"], d["tlsrpt"]["valid"], d["tlsrpt"]["records"]]')" '["nxdomain", null, []]' \
    "check --json mxout.test: no TLS-RPT record"
ctl check mxout.test
is "$RC" 1 "check mxout.test (text): exit 1"
like "$OUT" $'\n +20 backup\\.elsewhere\\.example  matches no pattern\n' "check: the uncovered MX"
like "$OUT" $'\n  warning: MX backup\\.elsewhere\\.example \\(preference 20\\) matches no mx pattern of the policy[^\n]* \\[mx-not-covered, RFC 8461 4\\.1\\]\n' \
    "check: the warning with its rule"
like "$OUT" $'\nmxout\\.test: warnings \\(0 errors, 1 warning, 1 note\\)$' "check: verdict"

ctl check broken.test --json
is "$RC" 2 "C26 check of a broken domain (mode Enforce): exit 2"
is "$(jq_ "$OUT" '[d["status"], d["reason"], d["policy"], d["result"]]')" '["policy-invalid", "policy-invalid", null, "errors"]' \
    "check --json broken.test: the policy is invalid"
is "$(codes "$OUT")" "error:policy-mode-invalid error:tlsrpt-uri-invalid" "check --json broken.test: the findings"
is "$(jq_ "$OUT" '[d["findings"][0][k] for k in ("step", "line", "rfc")]')" '["policy", 2, "RFC 8461 3.2"]' \
    "check --json broken.test: the policy error names line 2 and RFC 8461 3.2"
is "$(jq_ "$OUT" '[d["findings"][1]["rfc"], d["tlsrpt"]["valid"], d["body"]]')" \
    '["RFC 8460 3", false, "version: STSv1\nmode: Enforce\nmx: mx1.broken.test\nmax_age: 86400\n"]' \
    "check --json broken.test: TLS-RPT error and the body as served"
ctl check broken.test
like "$OUT" $'\n  line 2: error: mode "Enforce" is not enforce, testing or none \\[policy-mode-invalid, RFC 8461 3\\.2\\]\n' \
    "check: the policy error with line and rule"
like "$OUT" $'\nbroken\\.test: errors \\(2 errors, 0 warnings, 0 notes\\)$' "check: verdict"

ctl check soon.test --json
is "$RC" 1 "check, certificate expiring in 5 days: exit 1"
is "$(codes "$OUT")" "warning:cert-expires-soon" "check --json soon.test: cert-expires-soon"
is "$(jq_ "$OUT" '4 <= d["certificate"]["days_left"] <= 5')" true "check --json soon.test: days left"

ctl check testing.test --json
is "$RC" 0 "check, mode testing and max_age of a day: advice only, exit 0"
is "$(codes "$OUT")" "note:max-age-short note:mode-testing" "check --json testing.test: the notes"

ctl check blank.test --json
is "$RC" 1 "check, a blank line in the policy: exit 1"
is "$(jq_ "$OUT" '[[f["severity"], f["code"], f["line"]] for f in d["findings"]] + [d["status"]]')" \
    '[["warning", "policy-blank-line", 3], "policy"]' "check --json blank.test: tolerated, reported"

ctl check nomx.test --json
is "$RC" 1 "check, no MX and the implicit MX not covered: exit 1"
is "$(codes "$OUT")" "note:mx-none warning:mx-not-covered" "check --json nomx.test: implicit MX (RFC 5321 5.1)"
is "$(jq_ "$OUT" '[d["mx"]["dns"], d["mx"]["records"]]')" '["nodata", []]' "check --json nomx.test: NODATA"

ctl check nosts.test
is "$RC" 2 "check of a domain without MTA-STS: exit 2"

# ---------------------------------------------------------------- lint

printf 'version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 1209600\n' >"$W/ok.txt"
printf 'version: STSv1\r\nmode: testing\r\n\r\nmx: mx1.example.com\r\nmax_age: 1209600\r\n' >"$W/blank.txt"
printf '\xef\xbb\xbfversion: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 1209600\n' >"$W/bom.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 99999999\n' >"$W/clamp.txt"
printf 'version: STSv2\nmode: enforce\nmx: 192.0.2.1\nmax_age: 1w\n' >"$W/bad.txt"

ctl lint "$W/ok.txt"
is "$RC" 0 "lint a good policy: exit 0"
is "$OUT" "$W/ok.txt: valid: mode enforce, max_age 1209600 (14d), mx mx1.example.com, *.example.net (0 errors, 0 warnings)" \
    "lint: valid, with a summary"
ctl lint "$W/blank.txt"
is "$RC" 1 "lint a policy with a blank line: exit 1"
is "$(head -n 1 <<<"$OUT")" "$W/blank.txt:3: warning: blank line skipped [policy-blank-line, tolerated: the RFC 8461 3.2 grammar has no blank line]" \
    "lint: the blank line, its line number and the tolerance said plainly"
ctl lint "$W/bom.txt" --json
is "$RC" 1 "lint a policy with a BOM: exit 1"
is "$(jq_ "$OUT" '[[f["severity"], f["code"], f["line"]] for f in d["findings"]] + [d["valid"], d["result"]]')" \
    '[["warning", "policy-bom", 1], true, "warnings"]' "lint --json: BOM reported as a warning"
ctl lint "$W/clamp.txt" --json
is "$RC" 1 "lint a policy with max_age over a year: exit 1"
is "$(jq_ "$OUT" '[d["findings"][0]["code"], d["findings"][0]["line"], d["policy"]["max_age"]]')" \
    '["policy-max-age-clamped", 4, 31557600]' "lint --json: max_age clamped"
ctl lint "$W/bad.txt" --json
is "$RC" 2 "C26 C27 lint an invalid policy: exit 2"
is "$(jq_ "$OUT" '[[f["severity"], f["line"], f["code"], f["rfc"]] for f in d["findings"]]')" \
    '[["error", 1, "policy-version-invalid", "RFC 8461 3.2"], ["warning", 3, "policy-mx-invalid", "RFC 8461 3.2"], ["error", 4, "policy-max-age-invalid", "RFC 8461 3.2"], ["error", null, "policy-no-mx", "RFC 8461 3.2"]]' \
    "lint --json: every finding with line and rule"
is "$(jq_ "$OUT" '[d["kind"], d["valid"], d["policy"], d["exit"]]')" '["policy", false, null, 2]' "lint --json: invalid"
OUT=$(nsx "$CTL" -c /nonexistent/mtastsd.conf lint - <"$W/ok.txt" 2>&1)
is "$?:$OUT" "0:<stdin>: valid: mode enforce, max_age 1209600 (14d), mx mx1.example.com, *.example.net (0 errors, 0 warnings)" \
    "lint - reads stdin, needs no configuration"
{ cat "$W/ok.txt"; head -c 70000 /dev/zero | tr '\0' '#'; } >"$W/big.txt"
ctl lint "$W/big.txt" --json
is "$RC:$(codes "$OUT"):$(jq_ "$OUT" 'd["findings"][0]["rfc"]')" "2:error:policy-too-large:RFC 8461 3.3" \
    "lint of a file over 64 KiB: too large"
ctl lint "$W/missing.txt"
is "$RC" 66 "lint of a missing file: exit 66"
ctl lint --txt 'v=STSv1; id=20240101T000000' --json
is "$RC:$(jq_ "$OUT" '[d["kind"], d["valid"], d["id"], d["findings"]]')" '0:["txt", true, "20240101T000000", []]' \
    "lint --txt: a valid record"
ctl lint --txt 'v=STSv1; id=2024-01-01'
is "$RC" 2 "A8 lint --txt: an invalid id: exit 2"
is "$OUT" 'txt: error: id "2024-01-01" is not 1 to 32 letters and digits [txt-id-invalid, RFC 8461 3.1]
txt: invalid (1 error, 0 warnings)' "lint --txt: the finding names RFC 8461 3.1"
ctl lint --tlsrpt 'v=TLSRPTv1; rua=mailto:a@example.com' --json
is "$RC:$(jq_ "$OUT" '[d["kind"], d["valid"], d["rua"]]')" '0:["tlsrpt", true, ["mailto:a@example.com"]]' \
    "lint --tlsrpt: a valid record"
ctl lint --tlsrpt 'v=TLSRPTv1; rua=mailto:a@example.com,ftp://x.example.com'
is "$RC" 2 "lint --tlsrpt: an ftp URI: exit 2"
ctl lint "$W/ok.txt" --txt 'v=STSv1; id=1'
is "$RC" 64 "lint with both a file and --txt: exit 64"

done_testing
