#!/bin/bash
# t-12-restart: the SQLite cache is the durable copy.  The daemon is
# killed (kill -9) and restarted with nginx gone: cached policies are
# answered at once from the file; then once more after a clean stop with
# DNS gone too.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain keep.test 1 enforce 86400 mx1.keep.test '*.keep.test'
sts_domain soft.test 1 testing 86400 mx.soft.test
sts_domain off.test 1 none 86400
dns_commit
web_commit
daemon_start

A=$(sec mx1.keep.test:.keep.test)
both keep.test "$A" "keep: enforce"
both soft.test "$NF" "soft: testing"
both off.test "$NF" "off: none"
both nothing.test "$NF" "nothing: no record"
# Give a batched cache write time to land before the hard kill.
sleep 2
daemon_stop KILL
web_stop
daemon_start
timed r qraw keep.test
is "$r" "$A" "after kill -9, nginx gone: enforce policy from the cache"
ok $([ "$r_ms" -lt 1000 ]; echo $?) "after kill -9: answered at once (${r_ms} ms)"
both soft.test "$NF" "after kill -9: testing still NOTFOUND"
both off.test "$NF" "after kill -9: none still NOTFOUND"
ok $([ -s "$W/cache.db" ]; echo $?) "cache file exists"

daemon_stop
dns_stop
daemon_start
timed r qraw keep.test
is "$r" "$A" "after a clean stop, nginx and DNS gone: policy from the cache"
ok $([ "$r_ms" -lt 1000 ]; echo $?) "DNS gone: answered at once (${r_ms} ms)"
is "$(q keep.test)" "${A#OK }" "DNS gone: postmap gets the cached policy"

done_testing
