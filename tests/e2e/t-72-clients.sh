#!/bin/bash
# t-72-clients: hostile and numerous socketmap clients.  5,000 concurrent
# connections (the daemon allowed 12,000 descriptors, max-clients 6000)
# all answered; garbage netstrings and a 10 MB length prefix get PERM and
# a closed connection at once while a polite client on another connection
# is unaffected; requests sent one byte at a time are answered; clients
# that never read their replies leave the daemon's memory bounded and the
# others answered; half-closed sockets (shutdown(SHUT_WR) after the
# request) still get their replies, also after a discovery.  Ends with
# the survival checks.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib-hostile.sh"

world_start

sts_domain fast.test 1 enforce 86400 mx.fast.test
sts_domain half.test 1 enforce 86400 mx.half.test
commit
# 12,000 descriptors for the daemon and for the crowd, or as many as the
# hard limit allows (root without CAP_SYS_RESOURCE cannot go above it).
NOFILE=12000
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$NOFILE" ]; then
	NOFILE=$hard
fi
conf_set max-clients 6000
daemon_start_with "ulimit -n $NOFILE"

FAST=$(sec mx.fast.test)
both fast.test "$FAST" "fast: cached"
hostile_begin

# ns PAYLOAD: the netstring of an ASCII payload.
ns() {
	printf '%d:%s,' "${#1}" "$1"
}

# --- 5,000 concurrent connections.
if [ "$NOFILE" -ge 5200 ]; then
	out=$(crowd_nofile "$NOFILE" -t 40 many 5000 postfix fast.test --want "$FAST")
	diag "$out"
	like "$out" '^connected=5000 replied=5000 ok=5000 bad=0 ' "5,000 concurrent clients: every one answered correctly"
	ms=$(sed -n 's/.* ms=\([0-9]*\).*/\1/p' <<<"$out" | head -n 1)
	within "$ms" 20000 "5,000 concurrent clients: all served"
	log_has 'max-clients reached'
	ok $([ $? -ne 0 ]; echo $?) "5,000 clients: none refused under max-clients 6000"
else
	skip "5,000 concurrent clients: the hard descriptor limit is $hard"
fi
timed r qraw fast.test
is "$r" "$FAST" "after 5,000 clients: answered"
within "$r_ms" 1000 "after 5,000 clients: at once"

# --- Garbage on the wire, with a polite client on its own connection.
touch "$W/steady.run"
crowd steady postfix fast.test --want "$FAST" --until "$W/steady.run" \
    >"$W/steady.out" &
steady=$!
sleep 0.3
GARBAGE=(
	'abc,'
	':,'
	'-1:x,'
	'3:abc;'
	'0:,'
	'7:postfix,'
	'00000000000000000000001:x,'
	'\x00\xff\xfe\r\n\x1b[2J'
	'99999999999999999999999:'
	'10001:'
	'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
)
for g in "${GARBAGE[@]}"; do
	timed r smq -t 5 --raw="$g"
	like "$r" '^[0-9]+:PERM [^,]*,$' "garbage $g: PERM, then closed"
	within "$r_ms" 1500 "garbage $g: at once"
done
timed r smq -t 5 --raw '5:hello' --half-close
like "$r" '^[0-9]+:PERM connection closed inside a request,$' "a request cut short by EOF: PERM"
out=$(crowd -t 20 bigprefix)
diag "$out"
like "$out" '^sent=[0-9]+ closed=1 ' "10 MB length prefix: the daemon closed the connection"
sent=$(sed -n 's/^sent=\([0-9]*\).*/\1/p' <<<"$out")
ok $([ "$sent" -lt 10000000 ]; echo $?) "10 MB length prefix: closed before the 10 MB were sent ($sent bytes taken)"
ms=$(sed -n 's/.* ms=\([0-9]*\)$/\1/p' <<<"$out")
within "$ms" 3000 "10 MB length prefix: closed at once"
rm -f "$W/steady.run"
wait $steady
out=$(cat "$W/steady.out")
diag "polite client: $out"
like "$out" '^requests=([1-9][0-9]+) ok=([1-9][0-9]+) first_bad=$' "a polite client on another connection: every reply right"
n=$(sed -n 's/^requests=\([0-9]*\).*/\1/p' <<<"$out")
is "$out" "requests=$n ok=$n first_bad=" "a polite client: requests and good replies match"
is "$(log_count 'event=bad-request')" "$(( ${#GARBAGE[@]} + 2 ))" "each bad connection logged once"

# --- One byte at a time.
timed d crowd -t 20 --delay 0.03 -n 2 drip postfix fast.test
is "$d" "$FAST
$FAST" "two requests sent one byte per write: both answered"
within "$d_ms" 5000 "one byte at a time: bounded"

# --- Clients that never read.
touch "$W/noread.run"
crowd_nofile 1000 -t 8 --rcvbuf 4096 noread 300 postfix fast.test --until "$W/noread.run" \
    >"$W/noread.out" &
noread=$!
wait_for 15 grep -q '^connected=' "$W/noread.out"
rss_noread=$(rss_kb)
diag "non-readers: $(cat "$W/noread.out") rss=${rss_noread}kB (before ${RSS0}kB)"
like "$(cat "$W/noread.out")" '^connected=300 sent=' "300 non-reading clients connected and sent"
ok $([ $((rss_noread - RSS0)) -lt 102400 ]; echo $?) "300 non-reading clients: the daemon grew less than 100 MB ($(( (rss_noread - RSS0) / 1024 )) MB)"
timed r qraw fast.test
is "$r" "$FAST" "with 300 non-readers: others answered"
within "$r_ms" 3000 "with 300 non-readers: still answered"
rm -f "$W/noread.run"
wait $noread

# --- Half-closed sockets.
timed r smq -t 5 --raw "$(ns 'postfix fast.test')" --half-close
is "$r" "$(ns "$FAST")" "request, then shutdown(SHUT_WR): reply arrives, then EOF"
within "$r_ms" 1000 "half-closed: at once"
r=$(smq -t 5 --raw "$(ns 'postfix fast.test')$(ns 'postfix half.test')" --half-close)
is "$r" "$(ns "$FAST")$(ns "$(sec mx.half.test)")" "two requests then shutdown(SHUT_WR), the second needs a discovery: both replies"

hostile_end fast.test "$FAST"
done_testing
