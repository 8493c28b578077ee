#!/bin/bash
# t-06-fetchfail: policy fetches that must fail, each answered NOTFOUND:
# redirects (F17, B17: never followed), certificate name/expiry/trust
# (B14, no CN fallback), non-200 statuses, wrong or missing Content-Type
# (F16, B19), bodies over 64 KiB chunked or not (F20, B20), a truncated
# body (B20: never parse a prefix), an invalid policy (C25, C30).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

# A valid policy the redirects point to: it must never be fetched.
sts_domain target.test 1 enforce 86400 mx.target.test
for code in 301 302 307 308; do
	sts_domain r$code.test 1 enforce 86400 mx.r$code.test
	site mta-sts.r$code.test redirect=$code:https://mta-sts.target.test/.well-known/mta-sts.txt
done

# Certificates: right CN but SAN for another name; expired; unknown CA.
sts_domain wrongname.test 1 enforce 86400 mx.wrongname.test
cert_make wrongname cn=mta-sts.wrongname.test mta-sts.other.test
site mta-sts.wrongname.test cert=wrongname
sts_domain expired.test 1 enforce 86400 mx.expired.test
cert_make expired expired mta-sts.expired.test
site mta-sts.expired.test cert=expired
sts_domain untrusted.test 1 enforce 86400 mx.untrusted.test
cert_make untrusted ca=untrusted mta-sts.untrusted.test
site mta-sts.untrusted.test cert=untrusted
# A wildcard certificate deeper than one label does not cover the host.
sts_domain deepwild.test 1 enforce 86400 mx.deepwild.test
cert_make deepwild '*.test'
site mta-sts.deepwild.test cert=deepwild

# Statuses other than 200, with a valid policy body where we can.
sts_domain st404.test 1 enforce 86400 mx.st404.test
site mta-sts.st404.test status=404
sts_domain st500.test 1 enforce 86400 mx.st500.test
site mta-sts.st500.test status=500
cert_make s203 mta-sts.s203.test
txt_set _mta-sts.s203.test "v=STSv1; id=1"
dns_add mta-sts.s203.test A 127.0.0.30
http_resp "$W/s203.http" "HTTP/1.1 203 Non-Authoritative Information" \
    'version: STSv1\nmode: enforce\nmx: mx.s203.test\nmax_age: 86400\n' "Connection: close"
# The same server and framing with status 200: accepted (control case).
cert_make s200 mta-sts.s200.test
txt_set _mta-sts.s200.test "v=STSv1; id=1"
dns_add mta-sts.s200.test A 127.0.0.33
http_resp "$W/s200.http" "HTTP/1.1 200 OK" \
    'version: STSv1\nmode: enforce\nmx: mx.s200.test\nmax_age: 86400\n' "Connection: close"

# Content-Type (F16).
sts_domain html.test 1 enforce 86400 mx.html.test
site mta-sts.html.test "type=text/html; charset=utf-8"
sts_domain notype.test 1 enforce 86400 mx.notype.test
site mta-sts.notype.test type=none
sts_domain plainx.test 1 enforce 86400 mx.plainx.test
site mta-sts.plainx.test type=text/plainx

# F20: a valid policy followed by a 70000-byte extension line, chunked and
# with Content-Length.
ext=$(head -c 70000 /dev/zero | tr '\0' x)
sts_domain bigchunk.test 1 enforce 86400 mx.bigchunk.test
site mta-sts.bigchunk.test chunked
policy mta-sts.bigchunk.test "version: STSv1\nmode: enforce\nmx: mx.bigchunk.test\nmax_age: 86400\next: $ext\n"
sts_domain biglen.test 1 enforce 86400 mx.biglen.test
policy mta-sts.biglen.test "version: STSv1\nmode: enforce\nmx: mx.biglen.test\nmax_age: 86400\next: $ext\n"

# Truncated: Content-Length promises more than is sent before the close.
cert_make trunc mta-sts.trunc.test
txt_set _mta-sts.trunc.test "v=STSv1; id=1"
dns_add mta-sts.trunc.test A 127.0.0.31
http_resp "$W/trunc.http" "HTTP/1.1 200 OK" \
    'version: STSv1\nmode: enforce\nmx: mx.trunc.test\nmax_age: 86400\n' nolen \
    "Content-Length: 500" "Connection: close"

# Invalid policies: mode value case (C25), mode key with a space (F08).
sts_domain badmode.test 1 enforce 86400 mx.badmode.test
policy mta-sts.badmode.test 'version: STSv1\nmode: Enforce\nmx: mx.badmode.test\nmax_age: 86400\n'
sts_domain spacekey.test 1 enforce 86400 mx.spacekey.test
policy mta-sts.spacekey.test 'version: STSv1\nmode : enforce\nmx: mx.spacekey.test\nmax_age: 86400\n'
sts_domain badage.test 1 enforce 86400 mx.badage.test
policy mta-sts.badage.test 'version: STSv1\nmode: enforce\nmx: mx.badage.test\nmax_age: +604800\n'

dns_commit
web_commit
pysite s203 raw 127.0.0.30 s203 "$W/s203.http"
pysite s200 raw 127.0.0.33 s200 "$W/s200.http"
pysite trunc raw 127.0.0.31 trunc "$W/trunc.http"
daemon_start

for code in 301 302 307 308; do
	both r$code.test "$NF" "F17 redirect $code: NOTFOUND"
done
is "$(fetch_count mta-sts.target.test)" 0 "F17: redirects never followed"
both wrongname.test "$NF" "certificate for another name (right CN, no CN fallback): NOTFOUND"
both expired.test "$NF" "expired certificate: NOTFOUND"
both untrusted.test "$NF" "certificate from an untrusted CA: NOTFOUND"
both deepwild.test "$NF" "wildcard *.test does not cover mta-sts.deepwild.test: NOTFOUND"
both st404.test "$NF" "status 404: NOTFOUND"
both st500.test "$NF" "status 500: NOTFOUND"
both s203.test "$NF" "status 203 with a valid policy: NOTFOUND"
is "$(pyconn_count s203)" 1 "status 203: the server was reached"
both s200.test "$(sec mx.s200.test)" "the same response with status 200: OK"
both html.test "$NF" "F16 Content-Type text/html; charset=utf-8: NOTFOUND"
both notype.test "$NF" "F16 no Content-Type: NOTFOUND"
both plainx.test "$NF" "F16 Content-Type text/plainx: NOTFOUND"
both bigchunk.test "$NF" "F20 chunked body over 64 KiB: NOTFOUND"
both biglen.test "$NF" "body over 64 KiB with Content-Length: NOTFOUND"
both trunc.test "$NF" "truncated body: NOTFOUND"
both badmode.test "$NF" "mode: Enforce: NOTFOUND"
both spacekey.test "$NF" "F08 'mode : enforce': NOTFOUND"
both badage.test "$NF" "F11 max_age +604800: NOTFOUND"
# The SNI check: the catch-all server (other certificate) saw no fetch.
is "$(fetch_count default)" 0 "every fetch sent SNI (none reached the default server)"
both target.test "$(sec mx.target.test)" "the redirect target itself is a valid policy"

done_testing
