#!/bin/bash
# t-05-negcache: "lookup failed" is not "no record" (A12, F22).  With
# ttl-min 30s, a no-record answer (NXDOMAIN, negative TTL 3600 s) is
# cached for at least 30 s, while SERVFAIL and REFUSED failures are
# retried after retry-min (2 s): once the domains publish, the failed ones
# are found within seconds and the no-record one is not.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start
conf_set ttl-min 30s

dns_zone neg.test neg=3600
dns_zone late.test neg=3600 broken
dns_add neg.test MX 10 mx.neg.test.
dns_commit
web_commit
daemon_start

both neg.test "$NF" "NXDOMAIN: NOTFOUND"
both late.test "$NF" "SERVFAIL: NOTFOUND"
both refused.example "$NF" "REFUSED: NOTFOUND"

# Now all three publish a policy.
sts_domain neg.test 1 enforce 86400 mx.neg.test
dns_zone_fix late.test
sts_domain late.test 1 enforce 86400 mx.late.test
dns_zone refused.example
sts_domain refused.example 1 enforce 86400 mx.refused.example
commit

is "$(eventually 10 "$(sec mx.late.test)" qraw late.test)" "$(sec mx.late.test)" \
    "after SERVFAIL: retried, policy found"
is "$(eventually 10 "$(sec mx.refused.example)" qraw refused.example)" "$(sec mx.refused.example)" \
    "after REFUSED: retried, policy found"
both neg.test "$NF" "after NXDOMAIN: still no-record (negative TTL clamped to ttl-min 30 s)"
is "$(fetch_count mta-sts.neg.test)" 0 "after NXDOMAIN: nothing fetched"

done_testing
