#!/bin/bash
# t-01-states: every row of BEHAVIOUR.md's state table, first query of a
# domain never seen before: enforce, testing, none, no-record (NXDOMAIN,
# NODATA, no STSv1 record), failed TXT lookup (SERVFAIL, REFUSED), failed
# fetch; then no-record rechecked after the negative TTL and a failure
# retried after retry-min but not before (RFC 8461 3.3, checklist B21).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain enforce.test 20240101T000000 enforce 86400 mx1.enforce.test '*.enforce.test'
sts_domain testing.test 1 testing 86400 mx1.testing.test
sts_domain none.test 1 none 86400
# no-record: NXDOMAIN (nothing at _mta-sts), NODATA (the name exists, no
# TXT), a TXT that is not STSv1 (A5/A6, F03).
dns_add nodata.test MX 10 mx1.nodata.test.
dns_add _mta-sts.nodata.test A 127.0.0.1
txt_set _mta-sts.notsts.test "site-verification=abc123"
# F03: two STSv1 records: no policy.
dns_add _mta-sts.two.test TXT '"v=STSv1; id=20180928T000000"'
dns_add _mta-sts.two.test TXT '"v=STSv1; id=20180929T000000"'
dns_add mta-sts.two.test A "$WEB_ADDR"
site mta-sts.two.test
policy_std mta-sts.two.test enforce 86400 mx.two.test
# F03: one STSv1 record plus another TXT at the same name: valid.
sts_domain onests.test 1 enforce 86400 mx.onests.test
dns_add _mta-sts.onests.test TXT '"site-verification=abc123"'
# F04: one RR made of two strings.
sts_domain split.test 1 enforce 86400 mx.split.test
dns_del _mta-sts.split.test TXT
dns_add _mta-sts.split.test TXT '"v=STS" "v1; id=20240101T000000"'
# failed TXT lookup: SERVFAIL (zone configured, no data) and REFUSED
# (a zone nsd does not serve).
dns_zone servfail.test broken
# failed fetch: the policy host refuses connections.
txt_set _mta-sts.refused.test "v=STSv1; id=1"
dns_add mta-sts.refused.test A "$DEAD_ADDR"
# failed fetch: 404 (fetches counted in nginx's log).
sts_domain gone.test 1 enforce 86400 mx.gone.test
policy_remove mta-sts.gone.test
# F06: a policy whose only mx line is misspelt is invalid.
sts_domain nmx.test 1 enforce 604800 mx.nmx.test
policy mta-sts.nmx.test 'version: STSv1\nmode: enforce\nnmx: mx0.nmx.test\nmax_age: 604800\n'
sts_domain cold.test 1 enforce 86400 mx.cold.test
dns_commit
web_commit
daemon_start

# The first query for a domain never seen waits for its whole discovery
# (TXT, A/AAAA, HTTPS, parse): its time, printed for the record.
t0=$(now_ms)
r=$(qraw cold.test)
el=$(( $(now_ms) - t0 ))
is "$r" "$(sec mx.cold.test)" "first query of an unseen domain answered after discovery"
diag "first query for an unseen domain: ${el} ms (raw socketmap client, test world)"
ok $([ "$el" -lt 2000 ]; echo $?) "first query of an unseen domain within 2 s (${el} ms)"

both enforce.test "$(sec mx1.enforce.test:.enforce.test)" "enforce unexpired: OK secure, patterns in policy order"
both testing.test "$NF" "testing: NOTFOUND"
both none.test "$NF" "none: NOTFOUND"
both nxdomain.test "$NF" "no-record NXDOMAIN: NOTFOUND"
both nodata.test "$NF" "no-record NODATA: NOTFOUND"
both notsts.test "$NF" "no-record, only a non-STSv1 TXT: NOTFOUND"
both two.test "$NF" "F03 two STSv1 records: NOTFOUND"
both onests.test "$(sec mx.onests.test)" "F03 one STSv1 record and another TXT: OK"
both split.test "$(sec mx.split.test)" "F04 one RR in two strings: OK"
both x.servfail.test "$NF" "failed TXT lookup, SERVFAIL: NOTFOUND"
both refused.example "$NF" "failed TXT lookup, REFUSED: NOTFOUND"
both refused.test "$NF" "failed fetch, connection refused: NOTFOUND"
both nmx.test "$NF" "F06 policy with no mx line: NOTFOUND"
is "$(fetch_count mta-sts.two.test)" 0 "F03 two records: the policy is not even fetched"

# A failed fetch is not retried at once (B21): three more queries within
# a second fetch nothing; once the policy is back it is picked up after
# retry-min (2 s).
is "$(qraw gone.test)" "$NF" "failed fetch, 404: NOTFOUND"
n1=$(fetch_count mta-sts.gone.test)
is "$n1" 1 "failed fetch: one fetch"
for i in 1 2 3; do
	qraw gone.test >/dev/null
done
is "$(fetch_count mta-sts.gone.test)" 1 "failed: no new fetch within retry-min"
policy_std mta-sts.gone.test enforce 86400 mx.gone.test
is "$(eventually 8 "$(sec mx.gone.test)" qraw gone.test)" "$(sec mx.gone.test)" \
    "failed: retried after retry-min, policy now served"

# no-record is rechecked after the negative TTL (1 s, clamped by ttl-min).
sts_domain nxdomain.test 7 enforce 86400 mx.nxdomain.test
commit
is "$(eventually 6 "$(sec mx.nxdomain.test)" qraw nxdomain.test)" "$(sec mx.nxdomain.test)" \
    "no-record rechecked after the negative TTL"

# The answers of settled domains do not change meanwhile.
both enforce.test "$(sec mx1.enforce.test:.enforce.test)" "enforce: same answer later"
both testing.test "$NF" "testing: same answer later"

done_testing
