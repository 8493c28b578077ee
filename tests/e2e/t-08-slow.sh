#!/bin/bash
# t-08-slow: servers that never finish (1 byte every 2 s, a TCP accept
# with no TLS handshake, a handshake and then silence): the fetch times
# out (fetch-timeout 3s) and the first query gets NOTFOUND within the
# discovery deadline (5 s); meanwhile the daemon keeps answering other
# queries at once (the event loop is never blocked).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain fast.test 1 enforce 86400 mx.fast.test
cert_make odd mta-sts.drip.test mta-sts.stall.test mta-sts.hold.test
http_resp "$W/drip.http" "HTTP/1.1 200 OK" \
    'version: STSv1\nmode: enforce\nmx: mx.drip.test\nmax_age: 86400\n'
i=40
for d in drip stall hold; do
	txt_set _mta-sts.$d.test "v=STSv1; id=1"
	dns_add mta-sts.$d.test A 127.0.0.$i
	i=$((i + 1))
done
dns_commit
web_commit
pysite drip drip 127.0.0.40 odd "$W/drip.http" --interval 2
pysite stall stall 127.0.0.41 odd
pysite hold hold 127.0.0.42 odd
daemon_start

both fast.test "$(sec mx.fast.test)" "fast: cached first"

# The three slow ones at once, in the background.
pids=
for d in drip stall hold; do
	( timed r qraw $d.test; printf '%s\n%s\n' "$r_ms" "$r" >"$W/slow-$d.out" ) &
	pids+=" $!"
done
sleep 0.5
timed r qraw fast.test
is "$r" "$(sec mx.fast.test)" "during three slow fetches: cached answer"
ok $([ "$r_ms" -lt 1000 ]; echo $?) "during three slow fetches: answered at once (${r_ms} ms)"
timed r qraw fresh.test
is "$r" "$NF" "during three slow fetches: a no-record domain answered"
ok $([ "$r_ms" -lt 2000 ]; echo $?) "during three slow fetches: no-record answered quickly (${r_ms} ms)"
wait $pids
for d in drip stall hold; do
	is "$(sed -n 2p "$W/slow-$d.out")" "$NF" "$d: NOTFOUND"
	ms=$(sed -n 1p "$W/slow-$d.out")
	ok $([ -n "$ms" ] && [ "$ms" -le 5500 ]; echo $?) "$d: answered within the discovery deadline (${ms} ms)"
done
is "$(pyconn_count drip)" 1 "drip: one connection"
is "$(pyconn_count stall)" 1 "stall: one connection"
is "$(pyconn_count hold)" 1 "hold: one connection"
both fast.test "$(sec mx.fast.test)" "fast: still fine"

done_testing
