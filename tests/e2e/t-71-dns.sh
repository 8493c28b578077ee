#!/bin/bash
# t-71-dns: a hostile DNS server (dnsd.py in front of nsd, the daemon's
# only resolver): no answer at all; a wrong query id or a reply for
# another question before the real answer (ignored: the real one is
# used); only wrong ids; truncated UDP with TCP refused; garbage packets;
# a CNAME loop and a 50-deep CNAME chain, one hop per answer and all in
# one answer.  Each ends in the right answer within its time bound; the
# chain costs at most DNS_CNAME_MAX + 1 questions; the daemon keeps
# answering at once throughout.  Ends with the survival checks.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib-hostile.sh"

world_start

sts_domain fast.test 1 enforce 86400 mx.fast.test
sts_domain wrongid.test 1 enforce 86400 mx.wrongid.test
sts_domain otherq.test 1 enforce 86400 mx.otherq.test
# nsd's own answers for the trick names are valid policies: only dnsd.py's
# misbehaviour can make them fail.
for d in noanswer wrongonly trunc garbage; do
	sts_domain $d.test 1 enforce 86400 mx.$d.test
done
commit
dnsd_start "$DNSD_ADDR"
conf_set resolver "$DNSD_ADDR"
daemon_start

FAST=$(sec mx.fast.test)
both fast.test "$FAST" "fast: cached (through dnsd.py to nsd)"
hostile_begin

CASES="noanswer wrongid wrongonly otherq trunc garbage loop loopin chain chainin"
pids=
for d in $CASES; do
	( timed r qraw $d.test; printf '%s\n%s\n' "$r_ms" "$r" >"$W/out-$d" ) &
	pids+=" $!"
done
sleep 0.3
timed r qraw fast.test
is "$r" "$FAST" "during ten hostile lookups: cached answer"
within "$r_ms" 1000 "during ten hostile lookups: answered at once"
wait $pids

# dns-timeout 500ms x dns-tries 2: a lookup that never gets its answer
# ends after about 1 s; refused TCP and bad packets end sooner.
declare -A WANT=([wrongid]="$(sec mx.wrongid.test)"
    [otherq]="$(sec mx.otherq.test)")
declare -A WHAT=([noanswer]="no answer at all"
    [wrongid]="wrong id first, then the answer"
    [wrongonly]="only wrong ids"
    [otherq]="an answer to another question first, then the answer"
    [trunc]="truncated over UDP, TCP refused"
    [garbage]="garbage packets"
    [loop]="CNAME loop, one hop per answer"
    [loopin]="CNAME loop in one answer"
    [chain]="50-deep CNAME chain, one hop per answer"
    [chainin]="50-deep CNAME chain in one answer")
declare -A WHY=([noanswer]='txt-timeout.*timeout after 500 ms'
    [wrongonly]='txt-timeout.*timeout after 500 ms'
    [trunc]='tcp connect: Connection refused'
    [garbage]='malformed answer'
    [loop]='cname loop' [loopin]='cname loop'
    [chain]='cname chain too long' [chainin]='cname chain too long')
for d in $CASES; do
	if [ -n "${WANT[$d]:-}" ]; then w="policy found"; else w=NOTFOUND; fi
	is "$(sed -n 2p "$W/out-$d")" "${WANT[$d]:-$NF}" "${WHAT[$d]}: $w"
	within "$(sed -n 1p "$W/out-$d")" 3000 "${WHAT[$d]}: bounded"
	if [ -n "${WHY[$d]:-}" ]; then
		log_has "domain=$d.test event=txt-failed .*${WHY[$d]}"
		ok $? "${WHAT[$d]}: logged as: ${WHY[$d]}"
	fi
done
n=$(dnsd_count '^chain ')
ok $([ "$n" -ge 2 ] && [ "$n" -le 9 ]; echo $?) "chain: at most DNS_CNAME_MAX + 1 = 9 questions ($n)"
n=$(dnsd_count '^chain c(9|[1-5][0-9])\.')
is "$n" 0 "chain: never asked past the 8th hop"
n=$(dnsd_count '^loop ')
ok $([ "$n" -le 6 ]; echo $?) "loop: stopped at the first repeat ($n questions)"
n=$(dnsd_count '^wrongid .*_mta-sts')
is "$n" 1 "wrongid: the real answer was taken on the first try"
n=$(dnsd_count '^otherq .*_mta-sts')
is "$n" 1 "otherq: the real answer was taken on the first try"

hostile_end fast.test "$FAST"
done_testing
