#!/bin/bash
# t-03-expiry: time-driven rules, watched together in one 12-second loop.
#  f24.test:     F24 same id, new body: the proactive refresh at half
#                max_age (max_age 4 -> ~2 s) picks it up before expiry (E37).
#  txtgone.test: TXT removed and policy gone: the cached policy applies
#                until max_age (6 s), then NOTFOUND (E36, E33).
#  expire.test:  policy unreachable: past max_age (3 s) the policy is not
#                applied (E33); once served again, rediscovery finds it
#                although the TXT id never changed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain f24.test 20240101 enforce 4 mail2.sub.f24.test
sts_domain txtgone.test 1 enforce 6 mx.txtgone.test
sts_domain expire.test 1 enforce 3 mx.expire.test
dns_commit
web_commit
daemon_start

A_F24=$(sec mail2.sub.f24.test)
B_F24=$(sec mail3.sub.f24.test)
A_GONE=$(sec mx.txtgone.test)
A_EXP=$(sec mx.expire.test)

t0=$(now_ms)
both f24.test "$A_F24" "f24: first policy"
both txtgone.test "$A_GONE" "txtgone: first policy"
both expire.test "$A_EXP" "expire: first policy"

policy_std mta-sts.f24.test enforce 4 mail3.sub.f24.test
dns_del _mta-sts.txtgone.test TXT
policy_remove mta-sts.txtgone.test
policy_remove mta-sts.expire.test
dns_commit

# Watch the three domains; note when each answer first changes.
f24_ms= f24_gap= gone_ms= gone_other= exp_ms= exp_other=
while [ $(( $(now_ms) - t0 )) -lt 12000 ]; do
	el=$(( $(now_ms) - t0 ))
	r=$(qraw f24.test)
	if [ -z "$f24_ms" ]; then
		if [ "$r" = "$B_F24" ]; then
			f24_ms=$el
		elif [ "$r" != "$A_F24" ]; then
			f24_gap="$el ms: $r"
		fi
	fi
	r=$(qraw txtgone.test)
	if [ -z "$gone_ms" ]; then
		if [ "$r" = "$NF" ]; then
			gone_ms=$el
		elif [ "$r" != "$A_GONE" ]; then
			gone_other="$el ms: $r"
		fi
	fi
	r=$(qraw expire.test)
	if [ -z "$exp_ms" ]; then
		if [ "$r" = "$NF" ]; then
			exp_ms=$el
		elif [ "$r" != "$A_EXP" ]; then
			exp_other="$el ms: $r"
		fi
	fi
	[ -n "$f24_ms" ] && [ -n "$gone_ms" ] && [ -n "$exp_ms" ] && break
	sleep 0.25
done
diag "changes seen after: f24 ${f24_ms:-never} ms, txtgone ${gone_ms:-never} ms, expire ${exp_ms:-never} ms"

ok $([ -n "$f24_ms" ] && [ "$f24_ms" -le 4500 ]; echo $?) \
    "F24: new body with the same id picked up by the proactive refresh within max_age (${f24_ms:-never} ms)"
is "${f24_gap:-none}" none "F24: no other answer while the refresh was pending"
is "$(q f24.test)" "${B_F24#OK }" "F24: new policy through postmap"
ok $([ -n "$gone_ms" ] && [ "$gone_ms" -ge 5000 ] && [ "$gone_ms" -le 9000 ]; echo $?) \
    "txtgone: cached policy applied until max_age 6 s, then NOTFOUND (${gone_ms:-never} ms)"
is "${gone_other:-none}" none "txtgone: no other answer meanwhile"
ok $([ -n "$exp_ms" ] && [ "$exp_ms" -ge 2000 ] && [ "$exp_ms" -le 6000 ]; echo $?) \
    "expire: policy not applied past max_age 3 s (${exp_ms:-never} ms)"
is "${exp_other:-none}" none "expire: no other answer meanwhile"
both txtgone.test "$NF" "txtgone: stays NOTFOUND"

# Served again, same id: rediscovery fetches it.
policy_std mta-sts.expire.test enforce 3 mx.expire.test
is "$(eventually 12 "$A_EXP" qraw expire.test)" "$A_EXP" "expire: rediscovered once served again"

done_testing
