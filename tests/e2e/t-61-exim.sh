#!/bin/bash
# t-61-exim: the real Exim 4 (Debian's binary) with contrib/exim/*.conf
# against the running daemon.
#  - exim -be: the shipped expansions for enforce, testing, none, no
#    policy, an MX host inside and outside the policy, and (at the end)
#    the daemon down;
#  - exim -bt: enforce domains take the mtasts_enforce router and the
#    mtasts_smtp transport; testing, none and no policy the normal ones;
#  - delivery (-odf) to the receiving Postfix: enforce + listed MX + valid
#    certificate (given only with SNI): delivered, certificate verified;
#    MX outside the policy: never connected to; wrong name, untrusted
#    CA, no STARTTLS: deferred, nothing sent; testing, none, no policy:
#    delivered through the normal transport;
#  - daemon down: deferred by the mtasts_temp router; delivered once the
#    daemon is back.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib-mail.sh"

world_start
exim_find
mail_start
mail_cases
dns_commit
web_commit
daemon_start
rcv_start
# The test MX hosts live on 127.0.0.0/8, which the shipped default ignores.
exim_conf "MTASTS_IGNORE_TARGET_HOSTS=0.0.0.0"
diag "Exim $EXIM_VERSION from $EXIM"

# exim -be: what the routers and the transport will see.
is "$(exim_macro MTASTS_POLICY enf.test)" "enforce mx1.enf.test" "-be MTASTS_POLICY enforce"
is "$(exim_macro MTASTS_POLICY wild.test)" "enforce *.wild.test" "-be MTASTS_POLICY enforce, wildcard pattern"
is "$(exim_macro MTASTS_POLICY testing.test)" "testing mx1.testing.test" "-be MTASTS_POLICY testing"
is "$(exim_macro MTASTS_POLICY none.test)" "none" "-be MTASTS_POLICY mode none"
is "$(exim_macro MTASTS_POLICY nopolicy.test)" "none" "-be MTASTS_POLICY no policy"
is "$(exim_macro MTASTS_MODE enf.test)" "enforce" "-be MTASTS_MODE enforce"
is "$(exim_macro MTASTS_MODE testing.test)" "testing" "-be MTASTS_MODE testing"
is "$(exim_macro MTASTS_MODE nopolicy.test)" "none" "-be MTASTS_MODE no policy"
is "$(exim_macro MTASTS_HOST_ANSWER enf.test mx1.enf.test)" "enforce match" "-be MTASTS_HOST_ANSWER listed MX"
is "$(exim_macro MTASTS_HOST_ANSWER wild.test mx1.wild.test)" "enforce match" "-be MTASTS_HOST_ANSWER wildcard MX"
is "$(exim_macro MTASTS_HOST_ANSWER outside.test mx1.outside.test)" "enforce nomatch" "-be MTASTS_HOST_ANSWER unlisted MX"
is "$(exim_macro MTASTS_HOST_ANSWER testing.test mx9.testing.test)" "testing nomatch" "-be MTASTS_HOST_ANSWER testing, unlisted MX"
is "$(exim_macro MTASTS_HOST_ANSWER nopolicy.test mx1.nopolicy.test)" "none" "-be MTASTS_HOST_ANSWER no policy"
is "$(exim_macro MTASTS_REFUSE_HOST enf.test mx1.enf.test)" "" "-be MTASTS_REFUSE_HOST empty for a listed MX"
is "$(exim_macro MTASTS_REFUSE_HOST outside.test mx1.outside.test)" \
    "MX host mx1.outside.test is not allowed by the MTA-STS policy of outside.test" \
    "-be MTASTS_REFUSE_HOST refuses an unlisted MX"
is "$(ex -be '${readsocket{MTASTS_SOCKET}{ENF.test.}{MTASTS_TIMEOUT}{}{temp unreachable}}')" \
    "enforce mx1.enf.test" "-be readsocket with the MTASTS_SOCKET macro, odd case and final dot"

# exim -bt: which router and transport each domain gets.
route() {
	ex -bt "$1" 2>&1 | sed -n 's/^ *router = \([^,]*\), transport = \(.*\)/\1 \2/p'
}
for d in enf wild outside badcert untrusted plain; do
	is "$(route "x@$d.test")" "mtasts_enforce mtasts_smtp" "-bt $d.test: enforce router and transport"
done
for d in testing none nopolicy; do
	is "$(route "x@$d.test")" "dnslookup remote_smtp" "-bt $d.test: the normal router and transport"
done

# Deliveries.
n0=$(rcv_log mx1.outside.test | grep -c 'connect from')
CASES="enf wild outside badcert untrusted plain testing none nopolicy"
for d in $CASES; do
	exim_send "ex-$d@$d.test" "ex-$d"
done
declare -A OUT
for d in $CASES; do
	OUT[$d]=$(exim_outcome "ex-$d@$d.test")
done

for d in enf wild; do
	is "${OUT[$d]}" sent "$d.test (enforce, MX listed): sent"
	like "$(exim_log "ex-$d")" "=> ex-$d@$d.test R=mtasts_enforce T=mtasts_smtp H=mx1\.$d\.test \[[0-9.]+\]:25 X=TLS1\.[23]:[^ ]* CV=yes DN=\"CN=mx1\.$d\.test\"" \
	    "$d.test: through mtasts_smtp, certificate verified (CV=yes)"
	like "$(rcv_message "ex-$d")" "using TLSv1\.[23] with cipher" "$d.test: received over TLS"
done

declare -A WHY=(
	[outside]="Event requests alternate response"
	[badcert]="TLS session: \(certificate verification failed\)"
	[untrusted]="TLS session: \(certificate verification failed\)"
	[plain]="a TLS session is required, but the server did not offer TLS support"
)
for d in outside badcert untrusted plain; do
	is "${OUT[$d]}" deferred "$d.test (enforce): deferred"
	like "$(exim_log "ex-$d" | grep -v ' <= ')" "${WHY[$d]}" "$d.test: reason: ${WHY[$d]//\\/}"
	exim_queued "ex-$d@$d.test"
	ok $? "$d.test: the message waits in Exim's queue"
	is "$(rcv_message "ex-$d")" "" "$d.test: not received"
	is "$(rcv_log "mx1.$d.test" | grep -c ': client=')" 0 "$d.test: no mail transaction at the MX"
done
is "$(rcv_log mx1.outside.test | grep -c 'connect from')" "$n0" \
    "outside.test: Exim never connected to the unlisted MX (event_action on tcp:connect)"
like "$(rcv_log mx1.plain.test | grep 'disconnect from')" "ehlo=1 quit=1 commands=2$" \
    "plain.test: EHLO and QUIT only, nothing in clear text"

for d in testing none nopolicy; do
	is "${OUT[$d]}" sent "$d.test: sent"
	like "$(exim_log "ex-$d")" "=> ex-$d@$d.test R=dnslookup T=remote_smtp" \
	    "$d.test: through the normal transport"
	like "$(rcv_message "ex-$d")" "Subject: e2e ex-$d" "$d.test: received"
done
like "$(exim_log ex-testing)" "CV=no" "testing.test: unverified certificate accepted"
like "$(rcv_message ex-nopolicy)" "with ESMTP id" "nopolicy.test: sent in clear text"
is "$(grep -c '^From ' "$RCV_MBOX")" 5 "the receiver got exactly the five messages that should arrive"

# The daemon down: the expansions fall back to "temp unreachable".
daemon_stop
is "$(exim_macro MTASTS_POLICY enf.test)" "temp unreachable" "-be daemon down: MTASTS_POLICY"
is "$(exim_macro MTASTS_MODE enf.test)" "temp" "-be daemon down: MTASTS_MODE"
is "$(exim_macro MTASTS_REFUSE_HOST enf.test mx1.enf.test)" \
    "MX host mx1.enf.test is not allowed by the MTA-STS policy of enf.test" \
    "-be daemon down: MTASTS_REFUSE_HOST refuses"
like "$(ex -bt x@enf.test 2>&1)" "x@enf.test cannot be resolved at this time:.*MTA-STS policy of enf.test unknown: temp unreachable" \
    "-bt daemon down: mtasts_temp defers"
exim_send ex-down@enf.test ex-down
is "$(exim_outcome ex-down@enf.test)" deferred "daemon down: deferred"
like "$(exim_log ex-down | grep ' == ')" "R=mtasts_temp" "daemon down: by the mtasts_temp router"
is "$(rcv_message ex-down)" "" "daemon down: not received"
daemon_start
ex -M "$(exim_msgid ex-down)" >>"$W/log/exim-submit.log" 2>&1
is "$(exim_outcome ex-down@enf.test)" sent "daemon back: delivered (exim -M)"
like "$(exim_log ex-down | grep ' => ')" "R=mtasts_enforce T=mtasts_smtp .* CV=yes" \
    "daemon back: through mtasts_smtp, certificate verified"

done_testing
