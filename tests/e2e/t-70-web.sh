#!/bin/bash
# t-70-web: hostile policy servers that t-06 and t-08 do not cover: an
# endless chunked body, a 1 MB header line, 10,000 Location headers,
# random bytes instead of HTTP (inside TLS) and plain HTTP instead of TLS,
# a TLS handshake that stops half-way, and bodies cut off mid-way (inside
# a chunk; by a TCP reset; an HTTP/1.0 close-delimited body ended by a
# reset or by a FIN without close_notify: never parse a prefix, B20).
# Each fetch fails with NOTFOUND within its time bound while the daemon
# keeps answering at once, and a cached policy whose refresh meets a
# hostile server is kept.  Ends with the survival checks (lib-hostile.sh).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib-hostile.sh"

world_start

sts_domain fast.test 1 enforce 86400 mx.fast.test
sts_domain keep.test 1 enforce 86400 mx.keep.test
sts_domain target.test 1 enforce 86400 mx.target.test

POL='version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 86400\n'
CASES="endless bighdr manyloc garbage plain hshake midchunk reset reset10 dirty10"
sans=
for d in $CASES; do
	sans+=" mta-sts.$d.test"
done
cert_make odd $sans mta-sts.keep.test

# Response files for httpsd.py.
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n' \
    >"$W/endless.http"
{
	printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Big: '
	head -c 1048576 /dev/zero | tr '\0' a
	printf '\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' "$(printf "$POL" | wc -c)"
	printf "$POL"
} >"$W/bighdr.http"
{
	printf 'HTTP/1.1 302 Found\r\n'
	for i in $(seq 10000); do
		printf 'Location: https://mta-sts.target.test/.well-known/mta-sts.txt\r\n'
	done
	printf 'Content-Length: 0\r\nConnection: close\r\n\r\n'
} >"$W/manyloc.http"
head -c 8192 /dev/urandom >"$W/garbage.http"
http_resp "$W/plain.http" "HTTP/1.1 200 OK" "$POL" "Connection: close"
# A chunk announced as 0x200 bytes; only the policy (under 100) is sent.
{
	printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n'
	printf "$POL"
} >"$W/midchunk.http"
http_resp "$W/reset.http" "HTTP/1.1 200 OK" "$POL" nolen "Content-Length: 400"
http_resp "$W/reset10.http" "HTTP/1.0 200 OK" "$POL" nolen
http_resp "$W/dirty10.http" "HTTP/1.0 200 OK" "$POL" nolen

i=60
for d in $CASES; do
	txt_set _mta-sts.$d.test "v=STSv1; id=1"
	dns_add mta-sts.$d.test A 127.0.0.$i
	i=$((i + 1))
done
dns_commit
web_commit
pysite endless endless 127.0.0.60 odd "$W/endless.http"
pysite bighdr raw 127.0.0.61 odd "$W/bighdr.http"
pysite manyloc raw 127.0.0.62 odd "$W/manyloc.http"
pysite garbage raw 127.0.0.63 odd "$W/garbage.http"
pysite plain plain 127.0.0.64 odd "$W/plain.http"
pysite hshake handshake 127.0.0.65 odd
pysite midchunk raw 127.0.0.66 odd "$W/midchunk.http"
pysite reset reset 127.0.0.67 odd "$W/reset.http"
pysite reset10 reset 127.0.0.68 odd "$W/reset10.http"
pysite dirty10 dirty 127.0.0.69 odd "$W/dirty10.http"
# The same policy served well: a control case for the cut-off bodies.
http_resp "$W/good10.http" "HTTP/1.0 200 OK" "$POL" nolen
cert_make good10 mta-sts.good10.test
txt_set _mta-sts.good10.test "v=STSv1; id=1"
dns_add mta-sts.good10.test A 127.0.0.70
dns_commit
pysite good10 raw 127.0.0.70 good10 "$W/good10.http"
daemon_start

FAST=$(sec mx.fast.test)
KEEP=$(sec mx.keep.test)
both fast.test "$FAST" "fast: cached"
both keep.test "$KEEP" "keep: cached"
both good10.test "$(sec mx.example.test)" "control: HTTP/1.0 close-delimited body with close_notify is used"
hostile_begin

# All hostile fetches at once, in the background.
pids=
for d in $CASES; do
	( timed r qraw $d.test; printf '%s\n%s\n' "$r_ms" "$r" >"$W/out-$d" ) &
	pids+=" $!"
done
sleep 0.3
timed r qraw fast.test
is "$r" "$FAST" "during ten hostile fetches: cached answer"
within "$r_ms" 1000 "during ten hostile fetches: answered at once"
rss_mid=$(rss_kb)
wait $pids

# Fast failures: the limit or the framing decides at once.  hshake waits
# for the fetch timeout (3 s); each within the discovery deadline (5 s).
declare -A LIMIT=([endless]=2500 [bighdr]=2500 [manyloc]=2500 [garbage]=2500
    [plain]=2500 [hshake]=5500 [midchunk]=2500 [reset]=2500 [reset10]=2500
    [dirty10]=2500)
declare -A WHAT=([endless]="endless chunked body" [bighdr]="1 MB header line"
    [manyloc]="302 with 10,000 Location headers"
    [garbage]="random bytes instead of HTTP"
    [plain]="plain HTTP where TLS should be"
    [hshake]="TLS handshake stalls after 6 bytes"
    [midchunk]="connection closed inside a chunk"
    [reset]="TCP reset before Content-Length bytes"
    [reset10]="HTTP/1.0 body ended by a TCP reset"
    [dirty10]="HTTP/1.0 body ended without close_notify")
# What the daemon logs: the failure it saw is the one staged.
TRUNC='before the end of the body \(truncated, not used\)'
declare -A WHY=([endless]='body over the limit of 65536 bytes'
    [bighdr]='response headers over the limit of 8192 bytes'
    [manyloc]='response headers over the limit of 8192 bytes'
    [garbage]='not an HTTP response' [plain]='TLS handshake .* failed'
    [hshake]='no complete response .* within 3000 ms' [midchunk]="$TRUNC"
    [reset]="$TRUNC" [reset10]="$TRUNC" [dirty10]="$TRUNC")
for d in $CASES; do
	is "$(sed -n 2p "$W/out-$d")" "$NF" "${WHAT[$d]}: NOTFOUND"
	within "$(sed -n 1p "$W/out-$d")" "${LIMIT[$d]}" "${WHAT[$d]}: bounded"
	log_has "domain=$d.test event=fetch-failed .*${WHY[$d]}"
	ok $? "${WHAT[$d]}: logged as: ${WHY[$d]}"
done
is "$(fetch_count mta-sts.target.test)" 0 "10,000 Location headers: no redirect followed"
diag "rss before=${RSS0}kB during=${rss_mid}kB"
ok $([ $((rss_mid - RSS0)) -lt 20480 ]; echo $?) "memory grew less than 20 MB during the hostile fetches"
for d in endless bighdr manyloc garbage midchunk reset reset10 dirty10; do
	is "$(pyconn_count $d)" 1 "${WHAT[$d]}: one connection"
done

# A cached policy meets a hostile server when its id changes: the old
# policy is kept (the cache is never lost to a bad refresh).
txt_set _mta-sts.keep.test "v=STSv1; id=2"
dns_del mta-sts.keep.test
dns_add mta-sts.keep.test A 127.0.0.60
dns_commit
sleep 1.1
timed r qraw keep.test
is "$r" "$KEEP" "keep: id changed, answered from the cache"
within "$r_ms" 1000 "keep: at once"
wait_for 5 log_has 'domain=keep.test event=fetch-failed.*serving cached policy'
ok $? "keep: the refresh against the endless server failed, cached policy kept"
both keep.test "$KEEP" "keep: still the cached policy"

hostile_end fast.test "$FAST"
done_testing
