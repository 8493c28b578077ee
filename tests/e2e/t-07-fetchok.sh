#!/bin/bash
# t-07-fetchok: policy fetches that must succeed: Content-Type variants
# (F16), chunked and HTTP/1.0 close-delimited bodies (B20), CNAMEd
# _mta-sts (A11) and CNAMEd policy host with the certificate still for
# mta-sts.D (B15, and the negative case), F05, AAAA-only and A+AAAA hosts
# (F21, B22), a wildcard certificate, F27, tolerated blank lines/CRLF/BOM
# (F08, F09).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain ct1.test 1 enforce 86400 mx.ct1.test
site mta-sts.ct1.test "type=text/plain; charset=utf-8"
sts_domain ct2.test 1 enforce 86400 mx.ct2.test
site mta-sts.ct2.test "type=TEXT/PLAIN;charset=US-ASCII"
sts_domain chunk.test 1 enforce 86400 mx.chunk.test
site mta-sts.chunk.test chunked

# HTTP/1.0, no Content-Length: the body ends with the connection.
cert_make http10 mta-sts.http10.test
txt_set _mta-sts.http10.test "v=STSv1; id=1"
dns_add mta-sts.http10.test A 127.0.0.32
http_resp "$W/http10.http" "HTTP/1.0 200 OK" \
    'version: STSv1\nmode: enforce\nmx: mx.http10.test\nmax_age: 86400\n' nolen

# _mta-sts is a CNAME to a provider that holds the TXT (A11).
sts_domain provider.test 1 enforce 86400 mx.provider.test
sts_domain cntxt.test 1 enforce 86400 mx.cntxt.test
dns_del _mta-sts.cntxt.test
dns_add _mta-sts.cntxt.test CNAME _mta-sts.provider.test.
# F05: same, but nothing serves mta-sts.user.test: the fetch goes to
# mta-sts.user.test only (never the provider's host), fails: NOTFOUND.
dns_add _mta-sts.user.test CNAME _mta-sts.provider.test.
dns_add user.test MX 10 mx.user.test.

# The policy host is a CNAME to a hoster; the certificate is for
# mta-sts.D (good) or only for the hoster's name (bad, B15).
dns_add sts.hoster.test A "$WEB_ADDR"
sts_domain cnhost.test 1 enforce 86400 mx.cnhost.test
dns_del mta-sts.cnhost.test
dns_add mta-sts.cnhost.test CNAME sts.hoster.test.
sts_domain cnbad.test 1 enforce 86400 mx.cnbad.test
dns_del mta-sts.cnbad.test
dns_add mta-sts.cnbad.test CNAME sts.hoster.test.
cert_make hoster sts.hoster.test
site mta-sts.cnbad.test cert=hoster

# F21: AAAA only; A (refusing) plus AAAA.
sts_domain v6only.test 1 enforce 86400 mx.v6only.test
dns_del mta-sts.v6only.test
dns_add mta-sts.v6only.test AAAA "$WEB_ADDR6"
sts_domain dual.test 1 enforce 86400 mx.dual.test
dns_del mta-sts.dual.test
dns_add mta-sts.dual.test A "$DEAD_ADDR"
dns_add mta-sts.dual.test AAAA "$WEB_ADDR6"

# A wildcard certificate covering the policy host.
sts_domain wild.test 1 enforce 86400 mx.wild.test
cert_make wild '*.wild.test'
site mta-sts.wild.test cert=wild

# F27: two domains share one MX host; one policy is broken.
sts_domain sharea.test 1 enforce 86400 mx.shared-provider.test
sts_domain shareb.test 1 enforce 86400 mx.shared-provider.test
policy mta-sts.shareb.test 'version: STSv1\nmode: enforce\nmx: mx.shared-provider.test\nmax_age: 1e6\n'

# F08/F09 and the BOM: CRLF, blank lines, a UTF-8 BOM, trailing blanks.
sts_domain tolerant.test 1 enforce 86400 mx.tolerant.test
policy mta-sts.tolerant.test '\xef\xbb\xbfversion: STSv1\r\n\r\nmode: enforce \t\r\nmx: mx.tolerant.test\nmax_age: 86400\r\n\r\n'

dns_commit
web_commit
pysite http10 raw 127.0.0.32 http10 "$W/http10.http"
daemon_start

both ct1.test "$(sec mx.ct1.test)" "F16 text/plain; charset=utf-8: OK"
both ct2.test "$(sec mx.ct2.test)" "F16 TEXT/PLAIN;charset=US-ASCII: OK"
both chunk.test "$(sec mx.chunk.test)" "chunked body: OK"
both http10.test "$(sec mx.http10.test)" "HTTP/1.0 close-delimited body: OK"
both cntxt.test "$(sec mx.cntxt.test)" "CNAMEd _mta-sts: OK with the domain's own policy"
both user.test "$NF" "F05 CNAMEd _mta-sts, nothing at mta-sts.user.test: NOTFOUND"
is "$(fetch_count mta-sts.provider.test)" 0 "F05: the provider's policy host was never asked"
both cnhost.test "$(sec mx.cnhost.test)" "CNAMEd policy host, certificate for mta-sts.D: OK"
both cnbad.test "$NF" "CNAMEd policy host, certificate only for the CNAME target: NOTFOUND"
both v6only.test "$(sec mx.v6only.test)" "F21 AAAA-only policy host: OK"
both dual.test "$(sec mx.dual.test)" "F21 A refuses, AAAA works: OK"
both wild.test "$(sec mx.wild.test)" "wildcard certificate *.wild.test: OK"
both shareb.test "$NF" "F27 broken policy: NOTFOUND"
both sharea.test "$(sec mx.shared-provider.test)" "F27 the other domain with the same MX: OK"
both tolerant.test "$(sec mx.tolerant.test)" "F08/F09 CRLF, blank lines, BOM, trailing blanks: OK"
is "$(fetch_count default)" 0 "every fetch sent SNI"

done_testing
