#!/bin/bash
# t-10-keys: query keys as Postfix sends them (F28, A2, F43), UTF-8 and
# A-label domains (F15), pattern order and de-duplication, IP-literal mx
# values dropped (F07), determinism (F29), and a daemon that survives
# garbage on its socket.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain relay.test 1 enforce 86400 mx.relay.test
sts_domain example.test 1 enforce 86400 mx1.example.test '*.example.test'
sts_domain order.test 1 enforce 86400 b.order.test a.order.test '*.order.test' b.order.test '*.order.test'
sts_domain f07.test 1 enforce 86400 mail.f07.test '*.f07.test' mout.example.net 192.0.2.56
# F15: U-label domain (bücher.test) and an IDN TLD (.クラウド).
sts_domain xn--bcher-kva.test 1 enforce 86400 mx.xn--bcher-kva.test
dns_zone xn--gckr3f0f
sts_domain example.xn--gckr3f0f 1 enforce 86400 mx.example.xn--gckr3f0f
dns_commit
web_commit
daemon_start

R=$(sec mx.relay.test)
both relay.test "$R" "relay.test"
both '[relay.test]:587' "$R" "F28 [relay.test]:587 is relay.test"
both '[relay.test]' "$R" "F28 [relay.test] is relay.test"
both 'relay.test:587' "$R" "F28 relay.test:587 is relay.test"
both 'relay.test.' "$R" "F28 trailing dot"
both 'RELAY.Test' "$R" "F28 upper case"
both '[RELAY.TEST.]:25' "$R" "F28 all at once"
E=$(sec mx1.example.test:.example.test)
both example.test "$E" "example.test"
both .example.test "$NF" "F43 parent-domain probe .example.test: NOTFOUND"
both .test "$NF" "F43 parent-domain probe .test: NOTFOUND"
both '[192.0.2.1]' "$NF" "A2 [192.0.2.1]: NOTFOUND"
both '192.0.2.1' "$NF" "192.0.2.1: NOTFOUND"
both '[IPv6:2001:db8::1]:25' "$NF" "F28 [IPv6:2001:db8::1]:25: NOTFOUND"
both '2001:db8::1' "$NF" "2001:db8::1: NOTFOUND"
both '' "$NF" "empty key: NOTFOUND"
both 'bad_name!.test' "$NF" "not a host name: NOTFOUND"
long=$(printf 'a%.0s' $(seq 60)).$(printf 'b%.0s' $(seq 60)).$(printf 'c%.0s' $(seq 60)).$(printf 'd%.0s' $(seq 60)).$(printf 'e%.0s' $(seq 60)).test
both "$long" "$NF" "key over 253 bytes: NOTFOUND"

both order.test "$(sec b.order.test:a.order.test:.order.test)" "patterns in policy order, de-duplicated"
both f07.test "$(sec mail.f07.test:.f07.test:mout.example.net)" "F07 IP literal mx dropped"

B=$(sec mx.xn--bcher-kva.test)
both xn--bcher-kva.test "$B" "F15 A-label key"
both 'bücher.test' "$B" "F15 UTF-8 key converted to A-labels"
both 'BÜCHER.test' "$B" "F15 UTF-8 key, upper case"
K=$(sec mx.example.xn--gckr3f0f)
both example.xn--gckr3f0f "$K" "F15 IDN TLD, A-labels"
both 'example.クラウド' "$K" "F15 IDN TLD, UTF-8"
both "$(printf 'bad\xff.test')" "$NF" "invalid UTF-8 key: NOTFOUND"

# F29: five identical queries on one connection, byte-identical.
smq -n 5 postfix example.test >"$W/five.out"
printf '%s\n' "$E" "$E" "$E" "$E" "$E" >"$W/five.want"
cmp -s "$W/five.out" "$W/five.want"
ok $? "F29 five identical queries, byte-identical answers"
for i in 1 2 3 4 5; do
	q example.test
	echo
done >"$W/five-pm.out"
is "$(sort -u "$W/five-pm.out")" "${E#OK }" "F29 five postmap runs, one answer"

# Garbage on the socket: the daemon survives and answers the next client.
smq -t 2 --raw 'garbage' >/dev/null
smq -t 2 --raw '99999999999:postfix x,' >/dev/null
smq -t 2 --raw '5:postfix relay.test,' >/dev/null
smq -t 2 --raw '12:postfix rel' --half-close >/dev/null
both relay.test "$R" "after garbage input: still answering"

# A map name longer than any zone name (300 bytes): the default zone.
long=$(printf 'm%.0s' $(seq 300))
is "$(qraw relay.test "$long")" "$R" "a 300-byte map name: answered from the default zone"
both relay.test "$R" "after a 300-byte map name: still answering"

done_testing
