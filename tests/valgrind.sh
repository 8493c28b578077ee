#!/bin/bash
# tests/valgrind.sh: the daemon under valgrind memcheck in the end-to-end
# test world (tests/e2e/lib.sh: nsd, nginx, postmap in a network
# namespace; needs root).  It answers uncached, cached and failing
# queries (no TXT record, SERVFAIL, a fetch that fails, a policy that does
# not parse, garbage on the socketmap, Exim requests), reloads its
# configuration, then gets SIGTERM while a fetch is still in flight.  Passes when valgrind saw no invalid access or other error
# and nothing definitely or indirectly lost.  Prints TAP, then
# "N passed, N failed".
#
# Uses the daemon built in place (MTASTSD=path to use another).
# VALGRIND_KEEP=1 keeps the world and valgrind's log.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
E2E_KEEP=${VALGRIND_KEEP:-}

# The name lib.sh reports in its diagnostics.
. "$top_srcdir/tests/e2e/lib.sh"

# Skipping counts nothing, but says so in the closing line.
skip_all() {
	echo "1..0 # SKIP $*"
	echo "0 passed, 0 failed, 1 skipped"
	T_DONE=1
	exit 0
}

# Everything is slower under valgrind (20-50 times).
VG_START_SECS=60
VG_STOP_SECS=120
VG_ERRCODE=99

[ -x "$MTASTSD" ] || { echo "Bail out! no daemon at $MTASTSD"; echo "0 passed, 1 failed"; exit 1; }
need valgrind
world_start

sts_domain good.test 1 enforce 86400 mx1.good.test
sts_domain testing.test 7 testing 3600 '*.testing.test'
# A TXT record but no policy host answering: the fetch fails.
txt_set _mta-sts.nofetch.test "v=STSv1; id=1"
# A policy that does not parse.
sts_domain broken.test 1 enforce 86400 mx.broken.test
policy mta-sts.broken.test "version: STSv1
mode: sometimes
"
# SERVFAIL for a whole zone.
dns_zone fail.test
sts_domain fail.test 1 enforce 86400 mx.fail.test
dns_zone_break fail.test
# A policy host that completes the handshake and never answers: a
# discovery still in flight at SIGTERM.
cert_make hold mta-sts.hold.test
txt_set _mta-sts.hold.test "v=STSv1; id=1"
dns_add mta-sts.hold.test A 127.0.0.42
dns_commit
web_commit
pysite hold hold 127.0.0.42 hold

# The daemon under memcheck, through a wrapper that execs valgrind (so the
# pid lib.sh keeps is valgrind's).
cat >"$W/vg-mtastsd" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full \\
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \\
    --error-exitcode=$VG_ERRCODE --num-callers=30 \\
    --log-file="$W/log/valgrind.log" "$MTASTSD" "\$@"
EOF
chmod 755 "$W/vg-mtastsd"
conf_set discovery-timeout 20s
conf_set fetch-timeout 10s
conf_set dns-timeout 2s
daemon_conf >"$W/mtastsd.conf"
: >"$W/daemon.wanted"
bg_start mtastsd "$W/vg-mtastsd" -f -c "$W/mtastsd.conf"
wait_for "$VG_START_SECS" daemon_ready ||
    bail "mtastsd under valgrind did not start: $(tail -n 5 "$W/log/mtastsd.log" | tr '\n' ' ')"

G=$(sec mx1.good.test)
both good.test "$G" "uncached: policy found"
both good.test "$G" "cached: same answer"
is "$(qraw Good.Test.)" "$G" "cached: key normalised"
like "$(qraw testing.test)" "^(NOTFOUND |OK )" "testing mode: answered"
is "$(qraw none.test)" "$NF" "no TXT record: NOTFOUND"
is "$(qraw nofetch.test)" "$NF" "fetch fails: NOTFOUND"
is "$(qraw broken.test)" "$NF" "policy does not parse: NOTFOUND"
is "$(qraw fail.test)" "$NF" "SERVFAIL: NOTFOUND"
smq -t 5 --raw 'garbage' >/dev/null
smq -t 5 --raw '99999999999:postfix x,' >/dev/null
smq -t 5 --raw '12:postfix rel' --half-close >/dev/null
is "$(smq -p "$EXIM_PORT" -t 20 --exim 'good.test')" "enforce mx1.good.test" \
    "Exim request: answered"
is "$(smq -p "$EXIM_PORT" -t 20 --exim 'good.test mx1.good.test')" \
    "enforce match" "Exim request with a host: answered"

# Reload, then ask again.
kill -HUP "$(cat "$W/pids/mtastsd")"
sleep 3
both good.test "$G" "after SIGHUP: cached policy still applies"
is "$(qraw other.test)" "$NF" "after SIGHUP: new discovery works"

# SIGTERM with a discovery in flight; valgrind reports when the process
# ends.
( qraw hold.test >"$W/hold.out" ) &
wait_for 20 grep -q conn "$W/log/conns-hold.log"
ok $? "a fetch is in flight (the hold server has a connection)"
sleep 1
pid=$(cat "$W/pids/mtastsd")
rm -f "$W/pids/mtastsd" "$W/daemon.wanted"
kill -TERM "$pid"
for i in $(seq $((VG_STOP_SECS * 10))); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
wait "$pid"
st=$?
vg=$W/log/valgrind.log
is "$st" 0 "daemon exited 0 under valgrind (valgrind errors: $VG_ERRCODE)"
is "$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$vg" | tail -n 1)" 0 \
    "valgrind: no errors (invalid reads/writes, uninitialised values, bad frees)"
like "$(grep -E 'definitely lost:|All heap blocks were freed' "$vg" | tail -n 1)" \
    '(definitely lost: 0 bytes|All heap blocks were freed)' "valgrind: nothing definitely lost"
like "$(grep -E 'indirectly lost:|All heap blocks were freed' "$vg" | tail -n 1)" \
    '(indirectly lost: 0 bytes|All heap blocks were freed)' "valgrind: nothing indirectly lost"
if [ "$T_FAIL" -ne 0 ]; then
	diag "--- valgrind's report:"
	diag "$(grep -vE '^==[0-9]+== *$' "$vg" | head -n 150)"
fi
echo "$((T_N - T_FAIL)) passed, $T_FAIL failed"
done_testing
