#!/bin/bash
# t-04-dnsfail: F22, the TXT lookup fails (SERVFAIL, resolver unreachable,
# timeout): a cached policy still applies and is answered at once; a
# domain without one gets NOTFOUND within the discovery deadline; when DNS
# works again the failed domain is retried (after retry-min) and found.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

dns_zone cached.test
sts_domain cached.test 1 enforce 86400 mx.cached.test
dns_commit
web_commit
daemon_start

A=$(sec mx.cached.test)
both cached.test "$A" "cached: first policy"

# SERVFAIL for the whole zone.
dns_zone_break cached.test
dns_commit
sleep 1.5
both cached.test "$A" "SERVFAIL: cached policy still applies"
both other.cached.test "$NF" "SERVFAIL, nothing cached: NOTFOUND"
sleep 1
both cached.test "$A" "SERVFAIL: cached policy applies on the next re-check too"

# Resolver unreachable (nothing listens: ICMP port unreachable).
dns_stop
sleep 1.5
timed r qraw cached.test
is "$r" "$A" "resolver down: cached policy still applies"
ok $([ "$r_ms" -lt 1000 ]; echo $?) "resolver down: cached answer at once (${r_ms} ms)"
timed r qraw fresh1.test
is "$r" "$NF" "resolver down, nothing cached: NOTFOUND"
ok $([ "$r_ms" -le 5500 ]; echo $?) "resolver down: NOTFOUND within the discovery deadline (${r_ms} ms)"

# Resolver times out (a socket that never answers).
dns_sink
sleep 1.5
timed r qraw cached.test
is "$r" "$A" "resolver timeout: cached policy still applies"
ok $([ "$r_ms" -lt 1000 ]; echo $?) "resolver timeout: cached answer at once (${r_ms} ms)"
timed r qraw fresh2.test
is "$r" "$NF" "resolver timeout, nothing cached: NOTFOUND"
ok $([ "$r_ms" -le 5500 ]; echo $?) "resolver timeout: NOTFOUND within the discovery deadline (${r_ms} ms)"
is "$(q cached.test)" "${A#OK }" "resolver timeout: postmap still gets the cached policy"

# DNS back, fresh2.test now publishes: the failure is retried, not cached
# as "no record".
dns_zone_fix cached.test
sts_domain fresh2.test 1 enforce 86400 mx.fresh2.test
commit
is "$(eventually 12 "$(sec mx.fresh2.test)" qraw fresh2.test)" "$(sec mx.fresh2.test)" \
    "DNS back: failed domain retried and found"
both cached.test "$A" "DNS back: cached policy unchanged"

done_testing
