#!/bin/bash
# t-09-deadline: a first query that reaches the discovery deadline gets
# NOTFOUND (fail open) while discovery goes on in the background, so a
# later query finds the policy; identical concurrent discoveries are
# merged into one fetch (BEHAVIOUR.md).  Here discovery-timeout is 2s and
# fetch-timeout 8s; the server needs ~3.5 s to send its policy.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start
conf_set discovery-timeout 2s
conf_set fetch-timeout 8s

cert_make late mta-sts.late.test
http_resp "$W/late.http" "HTTP/1.1 200 OK" \
    'version: STSv1\nmode: enforce\nmx: mx.late.test\nmax_age: 86400\n'
txt_set _mta-sts.late.test "v=STSv1; id=1"
dns_add mta-sts.late.test A 127.0.0.43
dns_commit
pysite late drip 127.0.0.43 late "$W/late.http" --interval 0.055
daemon_start

pids=
for i in 1 2 3 4 5; do
	( timed r qraw late.test; printf '%s\n%s\n' "$r_ms" "$r" >"$W/late-$i.out" ) &
	pids+=" $!"
done
wait $pids
for i in 1 2 3 4 5; do
	is "$(sed -n 2p "$W/late-$i.out")" "$NF" "concurrent query $i at the deadline: NOTFOUND"
	ms=$(sed -n 1p "$W/late-$i.out")
	ok $([ -n "$ms" ] && [ "$ms" -ge 1500 ] && [ "$ms" -le 3000 ]; echo $?) \
	    "concurrent query $i: answered at the 2 s deadline (${ms} ms)"
done
is "$(eventually 6 "$(sec mx.late.test)" qraw late.test)" "$(sec mx.late.test)" \
    "discovery went on: the policy is there for a later query"
is "$(pyconn_count late)" 1 "five concurrent discoveries merged into one fetch"

done_testing
