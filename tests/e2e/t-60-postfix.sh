#!/bin/bash
# t-60-postfix: mail really flows through a real Postfix.  A sending
# Postfix asks mtastsd (socketmap over a unix socket inside its queue
# directory, smtp(8) chrooted there, as contrib/postfix/README.md says)
# and delivers to a receiving Postfix with one smtpd per MX host:
#  - enforce, listed MX (exact or wildcard), valid certificate: delivered
#    over verified TLS;
#  - enforce with the MX host outside the policy, a certificate for
#    another name, an untrusted CA, or no STARTTLS: deferred, the message
#    stays queued and never reaches the receiver;
#  - testing, none, no policy: delivered (the last in clear text).
# Then the same with smtp(8) not chrooted, over socketmap:inet, and with
# the daemon stopped: deferred
# (an unreachable policy table is a temporary error for Postfix), and
# delivered once the daemon is back.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib-mail.sh"

world_start
mail_start
mail_cases
dns_commit
web_commit
mkdir -p "$SND/queue/mtastsd"
conf_set listen "inet:127.0.0.1:$MAP_PORT
listen unix:$(snd_socket)"
daemon_start
rcv_start
snd_start unix

is "$(mx_cert_cn 127.0.0.11)" mx.sni-default.test "mx1.enf.test without SNI: a certificate for another name"
is "$(mx_cert_cn 127.0.0.11 mx1.enf.test)" mx1.enf.test "mx1.enf.test with SNI: its own certificate"

CASES="enf wild outside badcert untrusted plain testing none nopolicy"
declare -A QID
for d in $CASES; do
	QID[$d]=$(snd_send "user@$d.test" "pf-$d") || bail "submission for $d.test failed"
done
declare -A OUT
for d in $CASES; do
	OUT[$d]=$(snd_outcome "${QID[$d]}")
done

like "$(grep 'event=accepted' "$W/log/mtastsd.log" | tail -n 1)" "listener=unix:$SND/queue/mtastsd/socketmap" \
    "the chrooted smtp(8) asked mtastsd over the unix socket"

# delivered: verified TLS, in the receiver's mbox, with TLS in Received:
# (mx1.enf.test gives its own certificate only to a client sending SNI:
# servername=hostname works).
for d in enf wild; do
	is "${OUT[$d]}" sent "$d.test (enforce, MX listed): sent"
	like "$(snd_tls_line "${QID[$d]}")" "^.* Verified TLS connection established to mx1\.$d\.test\[" \
	    "$d.test: the sender verified the MX certificate"
	like "$(rcv_message "pf-$d")" "using TLSv1\.[23] with cipher" "$d.test: received over TLS"
done

# deferred, never sent: still queued, not in the mbox, no MAIL FROM seen
# by the receiving smtpd.
declare -A WHY=(
	[outside]="Server certificate not verified"
	[badcert]="Server certificate not verified"
	[untrusted]="Server certificate not verified"
	[plain]="TLS is required, but was not offered"
)
for d in outside badcert untrusted plain; do
	is "${OUT[$d]}" deferred "$d.test (enforce): deferred"
	like "$(snd_result "${QID[$d]}")" "dsn=4\.7\.[0-9], status=deferred \(${WHY[$d]}" \
	    "$d.test: reason: ${WHY[$d]}"
	snd_queued "${QID[$d]}"
	ok $? "$d.test: the message waits in the deferred queue"
	is "$(rcv_message "pf-$d")" "" "$d.test: not received"
	is "$(rcv_log "mx1.$d.test" | grep -c ': client=')" 0 "$d.test: no mail transaction at the MX"
done
like "$(rcv_log mx1.plain.test | grep 'disconnect from')" "ehlo=1 quit=1 commands=2$" \
    "plain.test: the sender said EHLO and QUIT, nothing in clear text"
like "$(snd_tls_line "${QID[outside]}")" "Untrusted TLS connection established to mx1\.outside\.test" \
    "outside.test: the name check failed (mx1.outside.test is not mx.elsewhere.test)"

# testing, none, no policy: delivered as without MTA-STS.
for d in testing none nopolicy; do
	is "${OUT[$d]}" sent "$d.test: sent"
	like "$(rcv_message "pf-$d")" "Subject: e2e pf-$d" "$d.test: received"
done
like "$(rcv_message pf-testing)" "using TLSv1" "testing.test: opportunistic TLS, unverified name accepted"
like "$(rcv_message pf-nopolicy)" "with ESMTP id" "nopolicy.test: no STARTTLS offered, sent in clear text"
is "$(grep -c '^From ' "$RCV_MBOX")" 5 "the receiver got exactly the five messages that should arrive"

# The shipped snippet is what the sender runs, and Postfix takes it
# without complaint.
is "$(nsx postconf -c "$SND/conf" -h smtp_tls_policy_maps)" "socketmap:unix:mtastsd/socketmap:postfix" \
    "the sender uses contrib/postfix/main.cf's policy map"
is "$(nsx postconf -c "$SND/conf" -n 2>&1 | grep -c 'warning:')" 0 "postconf: no warning about the configuration"

# The same unix socket with smtp(8) not chrooted: the relative path holds.
snd_reconf "smtp/unix/chroot=n"
q0=$(snd_send user@enf.test pf-nochroot)
is "$(snd_outcome "$q0")" sent "unix socket, smtp(8) not chrooted: enf.test sent"
like "$(grep 'event=accepted' "$W/log/mtastsd.log" | tail -n 1)" "listener=unix:" \
    "not chrooted: asked over the unix socket"

# The same through socketmap:inet.
snd_reconf "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:$MAP_PORT:postfix"
q1=$(snd_send user@enf.test pf-inet-enf)
q2=$(snd_send user@outside.test pf-inet-outside)
is "$(snd_outcome "$q1")" sent "socketmap:inet: enf.test sent"
is "$(snd_outcome "$q2")" deferred "socketmap:inet: outside.test deferred"
like "$(grep 'event=accepted' "$W/log/mtastsd.log" | tail -n 1)" "listener=inet:127.0.0.1:$MAP_PORT" \
    "smtp(8) asked over TCP"

# Daemon down: the policy table fails, Postfix defers (fails closed).
daemon_stop
q3=$(snd_send user@enf.test pf-down)
is "$(snd_outcome "$q3")" deferred "daemon down: deferred"
like "$(snd_result "$q3")" "relay=none, .*dsn=4\.7\.5, status=deferred \(client TLS configuration problem\)" "daemon down: a TLS policy lookup error, no connection"
is "$(rcv_message pf-down)" "" "daemon down: not received"
daemon_start
: >"$W/log/flush.log"
nsx postqueue -c "$SND/conf" -i "$q3" >>"$W/log/flush.log" 2>&1
wait_for 15 grep -q " $q3: to=<user@enf.test>.*status=sent" "$W/log/postfix-snd.log"
ok $? "daemon back: the deferred message is delivered"
like "$(rcv_message pf-down)" "using TLSv1" "daemon back: received over TLS"

done_testing
