#!/bin/bash
# t-00-world: the test world itself works, with no daemon involved: nsd
# answers what the scenarios ask for, nginx serves policies with the test
# CA, the odd servers behave, postmap and smq.py talk socketmap.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start
need curl

# DNS: the states of a TXT lookup.
dns_zone neg.test neg=7
dns_zone good.test
dns_zone broken.test broken
sts_domain good.test 20240101T000000 enforce 86400 mx1.good.test '*.good.test'
dns_add ttl=300 _mta-sts.big.test TXT '"v=STS" "v1; id=2"'
dns_add nodata.test A 127.0.0.1
dns_add _mta-sts.nodata.test A 127.0.0.1
dns_add _mta-sts.user.test CNAME _mta-sts.provider.test.
txt_set _mta-sts.provider.test "v=STSv1; id=prov1"
dns_add mta-sts.v6.test AAAA ::1
dns_commit

is "$(dns_txt _mta-sts.good.test)" '"v=STSv1; id=20240101T000000"' "nsd: TXT with the right id"
is "$(dns_txt _mta-sts.big.test)" '"v=STS" "v1; id=2"' "nsd: one TXT RR with two strings"
is "$(dns_rcode _mta-sts.nx.test)" NXDOMAIN "nsd: NXDOMAIN"
is "$(dns_rcode _mta-sts.nodata.test)" NOERROR "nsd: NODATA rcode"
is "$(dns_txt _mta-sts.nodata.test)" "" "nsd: NODATA has no TXT"
is "$(dns_rcode _mta-sts.x.broken.test)" SERVFAIL "nsd: configured zone without data -> SERVFAIL"
is "$(dns_rcode _mta-sts.nowhere.example)" REFUSED "nsd: unserved zone -> REFUSED"
is "$(nsx drill @$DNS_ADDR TXT _mta-sts.user.test | grep -v '^;' | awk -F '\t' '$4 == "CNAME" || $4 == "TXT" {print $4, $5}')" \
    "CNAME _mta-sts.provider.test.
TXT \"v=STSv1; id=prov1\"" "nsd: CNAME _mta-sts answered with the target's TXT"
is "$(nsx drill @$DNS_ADDR TXT _mta-sts.nx.neg.test | awk '$4 == "SOA" {print $2, $NF}')" "7 7" \
    "nsd: negative TTL is the zone's SOA minimum"
is "$(nsx drill -Q @$DNS_ADDR AAAA mta-sts.v6.test)" "::1" "nsd: AAAA"
is "$(nsx drill -Q @$DNS_ADDR A mta-sts.good.test)" "$WEB_ADDR" "nsd: A of the policy host"
# A zone can go bad and come back.
dns_zone_break good.test
dns_commit
is "$(dns_rcode _mta-sts.good.test)" SERVFAIL "nsd: zone broken on purpose -> SERVFAIL"
dns_zone_fix good.test
dns_del _mta-sts.good.test TXT
txt_set _mta-sts.good.test "v=STSv1; id=2"
dns_commit
is "$(dns_txt _mta-sts.good.test)" '"v=STSv1; id=2"' "nsd: zone fixed, TXT replaced"

# HTTPS: nginx, the test CA, the right Content-Type, SNI.
site mta-sts.plain.test type="text/plain; charset=utf-8"
policy_std mta-sts.plain.test testing 600 mx.plain.test
site mta-sts.notype.test type=none
site mta-sts.chunk.test chunked
policy_std mta-sts.chunk.test enforce 600 mx.chunk.test
site mta-sts.redir.test redirect=301:https://mta-sts.good.test/.well-known/mta-sts.txt
site mta-sts.gone.test status=404
cert_make wrongname cn=mta-sts.wrongname.test mta-sts.other.test
site mta-sts.wrongname.test cert=wrongname
cert_make expired expired mta-sts.expired.test
site mta-sts.expired.test cert=expired
cert_make untrusted ca=untrusted mta-sts.untrusted.test
site mta-sts.untrusted.test cert=untrusted
web_commit

is "$(https_get mta-sts.good.test)" "version: STSv1
mode: enforce
mx: mx1.good.test
mx: *.good.test
max_age: 86400" "nginx: policy body through the test CA"
is "$(nsx curl -sS -o /dev/null -w '%{http_code} %{content_type}' --cacert "$CA_FILE" \
    --resolve mta-sts.good.test:443:$WEB_ADDR https://mta-sts.good.test/.well-known/mta-sts.txt)" \
    "200 text/plain" "nginx: status 200, Content-Type text/plain"
is "$(nsx curl -sS -o /dev/null -w '%{content_type}' --cacert "$CA_FILE" \
    --resolve mta-sts.plain.test:443:$WEB_ADDR https://mta-sts.plain.test/.well-known/mta-sts.txt)" \
    "text/plain; charset=utf-8" "nginx: Content-Type with a charset"
is "$(nsx curl -sS -D - -o /dev/null --cacert "$CA_FILE" \
    --resolve mta-sts.notype.test:443:$WEB_ADDR https://mta-sts.notype.test/.well-known/mta-sts.txt |
    grep -ci '^content-type')" "0" "nginx: no Content-Type header at all"
is "$(nsx curl -sS -D - -o /dev/null --cacert "$CA_FILE" \
    --resolve mta-sts.chunk.test:443:$WEB_ADDR https://mta-sts.chunk.test/.well-known/mta-sts.txt |
    tr -d '\r' | grep -i -e '^transfer-encoding' -e '^content-length')" \
    "Transfer-Encoding: chunked" "nginx: chunked body, no Content-Length"
is "$(nsx curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' --cacert "$CA_FILE" \
    --resolve mta-sts.redir.test:443:$WEB_ADDR https://mta-sts.redir.test/.well-known/mta-sts.txt)" \
    "301 https://mta-sts.good.test/.well-known/mta-sts.txt" "nginx: redirect"
is "$(nsx curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA_FILE" \
    --resolve mta-sts.gone.test:443:$WEB_ADDR https://mta-sts.gone.test/.well-known/mta-sts.txt)" \
    "404" "nginx: status 404"
is "$(https_get mta-sts.good.test "[$WEB_ADDR6]")" "$(https_get mta-sts.good.test)" "nginx: same policy on [::1]"
https_get mta-sts.wrongname.test >/dev/null 2>&1
ok $((! $?)) "curl rejects the wrong-name certificate (right CN, wrong SAN)"
https_get mta-sts.expired.test >/dev/null 2>&1
ok $((! $?)) "curl rejects the expired certificate"
like "$(nsx openssl x509 -in "$W/certs/expired.pem" -noout -enddate)" "2021" "expired certificate ended in 2021"
https_get mta-sts.untrusted.test >/dev/null 2>&1
ok $((! $?)) "curl rejects the untrusted CA"
https_get mta-sts.untrusted.test "" "$W/certs/untrusted.pem" >/dev/null 2>&1
ok $? "the untrusted certificate itself is fine under its own CA"
nsx curl -sS --max-time 5 --cacert "$CA_FILE" --resolve mta-sts.nosuch.test:443:$WEB_ADDR \
    https://mta-sts.nosuch.test/.well-known/mta-sts.txt >/dev/null 2>&1
ok $((! $?)) "nginx: unknown SNI gets the default certificate (rejected)"
is "$(fetch_count mta-sts.good.test)" "4" "nginx: access log counts fetches per host"
port_open "$DEAD_ADDR" 443
ok $((! $?)) "$DEAD_ADDR:443 refuses connections"

# The odd servers.
cert_make odd mta-sts.odd.test
http_resp "$W/http10.txt" "HTTP/1.0 200 OK" \
    'version: STSv1\nmode: enforce\nmx: mx.odd.test\nmax_age: 600\n' nolen
pysite http10 raw 127.0.0.20 odd "$W/http10.txt"
is "$(https_get mta-sts.odd.test 127.0.0.20)" "version: STSv1
mode: enforce
mx: mx.odd.test
max_age: 600" "httpsd: HTTP/1.0 close-delimited body"
is "$(pyconn_count http10)" "1" "httpsd: connections counted"
pysite drip drip 127.0.0.21 odd "$W/http10.txt" --interval 2
nsx curl -sS --max-time 2 --cacert "$CA_FILE" --resolve mta-sts.odd.test:443:127.0.0.21 \
    https://mta-sts.odd.test/.well-known/mta-sts.txt >/dev/null 2>&1
st=$?
is "$st" "28" "httpsd: drip server is too slow for a 2 s client"
pysite stall stall 127.0.0.22 odd
nsx curl -sS --max-time 1 --cacert "$CA_FILE" --resolve mta-sts.odd.test:443:127.0.0.22 \
    https://mta-sts.odd.test/.well-known/mta-sts.txt >/dev/null 2>&1
is "$?" "28" "httpsd: stalled handshake times out"
web_stop
pysite v6 raw ::1 odd "$W/http10.txt"
like "$(https_get mta-sts.odd.test "[::1]")" "mx: mx.odd.test" "httpsd: listens on ::1"

# Clients: postmap and smq.py against a fake socketmap server.
bg_start fakemap "$PYTHON" "$E2E_DIR/smq.py" --serve -a 127.0.0.1 -p $MAP_PORT \
    --log "$W/fakemap.req" 'OK secure match=mx1.good.test:.good.test servername=hostname'
wait_for 5 port_open 127.0.0.1 $MAP_PORT
ok $? "fake socketmap server listens"
is "$(q good.test)" "secure match=mx1.good.test:.good.test servername=hostname" "postmap: OK data"
is "$(qraw good.test)" "OK secure match=mx1.good.test:.good.test servername=hostname" "smq.py: exact OK payload"
is "$(q '[relay.test]:587' strict)" "secure match=mx1.good.test:.good.test servername=hostname" "postmap: smart host key"
is "$(tail -n 2 "$W/fakemap.req")" "postfix good.test
strict [relay.test]:587" "requests carry the map name and the key as given"
bg_stop fakemap
bg_start fakemap "$PYTHON" "$E2E_DIR/smq.py" --serve -a 127.0.0.1 -p $MAP_PORT 'NOTFOUND '
wait_for 5 port_open 127.0.0.1 $MAP_PORT
is "$(q good.test)" "NOTFOUND" "postmap: NOTFOUND -> exit 1, no output"
is "$(qraw good.test)" "NOTFOUND " "smq.py: NOTFOUND keeps its trailing space"
is "$(smq -n 3 postfix good.test | od -c | head -n 2 | tr -s ' ')" \
    "$(printf 'NOTFOUND \nNOTFOUND \nNOTFOUND \n' | od -c | head -n 2 | tr -s ' ')" "smq.py: repeated requests on one connection"
bg_stop fakemap
bg_start fakemap "$PYTHON" "$E2E_DIR/smq.py" --serve -a 127.0.0.1 -p $MAP_PORT 'TEMP cache unreadable'
wait_for 5 port_open 127.0.0.1 $MAP_PORT
like "$(q good.test)" "^ERROR\(rc=[0-9]+\) .*cache unreadable" "postmap: TEMP is an error"
is "$(qraw good.test)" "TEMP cache unreadable" "smq.py: TEMP payload"
bg_stop fakemap

# DNS timeouts: nothing answers on the resolver address.
dns_sink
timeout 2 ip netns exec "$NS" drill -Q @"$DNS_ADDR" TXT _mta-sts.good.test >/dev/null 2>&1
is "$?" "124" "dns sink: queries go unanswered"

done_testing
