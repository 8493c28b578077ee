#!/bin/bash
# t-14-backoff: a failing fetch is retried after retry-min (2 s), then less
# and less often up to retry-max (10 s) (BEHAVIOUR.md "failed", RFC 8461
# 3.3, checklist B21), however often Postfix asks.  A doubling backoff
# fetches at 0, 2, 6 (and 14) s: three times in a 10.5 s window; retrying
# every retry-min would fetch six times.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain fail.test 1 enforce 86400 mx.fail.test
policy_remove mta-sts.fail.test
dns_commit
web_commit
daemon_start

t0=$(now_ms)
while [ $(( $(now_ms) - t0 )) -lt 10500 ]; do
	r=$(qraw fail.test)
	[ "$r" = "$NF" ] || break
	sleep 0.4
done
is "$r" "$NF" "NOTFOUND all along"
n=$(fetch_count mta-sts.fail.test)
diag "fetches in 10.5 s: $n"
ok $([ "$n" -ge 2 ]; echo $?) "retried after retry-min ($n fetches)"
ok $([ "$n" -le 4 ]; echo $?) "backing off: not every retry-min ($n fetches)"

done_testing
