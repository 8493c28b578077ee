#!/bin/bash
# t-74-resources: running out of file descriptors (the daemon allowed 64,
# 120 clients held open, mtastsctl knocking on the control socket
# meanwhile): accept backs off and logs, the daemon neither spins nor
# floods its log, and it answers the waiting client and new domains once
# clients leave.  max-clients: connections beyond it are closed at once
# and logged once a second.  cache-max-entries: the sweep drops the least
# recently queried entries beyond the cap (exactly those), never one whose
# discovery is running, and 1,000 new domains leave the cache at the cap.
# Each part ends with the survival checks.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib-hostile.sh"

world_start

sts_domain fast.test 1 enforce 86400 mx.fast.test
sts_domain later.test 1 enforce 86400 mx.later.test
sts_domain slowre.test 1 enforce 86400 mx.slowre.test
commit
FAST=$(sec mx.fast.test)
MTASTSCTL="$top_builddir/mtastsctl"

# cpu_ticks: user + system time the daemon used, in clock ticks.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$(dpid)/stat"
}

# calm NAME: over 1.5 s the daemon used little CPU and wrote few log
# lines (a listener spinning on EMFILE does both, endlessly).
calm() {
	local c0 c1 l0 l1
	c0=$(cpu_ticks)
	l0=$(wc -l <"$W/log/mtastsd.log")
	sleep 1.5
	c1=$(cpu_ticks)
	l1=$(wc -l <"$W/log/mtastsd.log")
	ok $([ $((c1 - c0)) -le 40 ]; echo $?) "$1: no busy loop ($((c1 - c0)) ticks of CPU in 1.5 s)"
	ok $([ $((l1 - l0)) -le 30 ]; echo $?) "$1: no log flood ($((l1 - l0)) lines in 1.5 s)"
}

# --- Out of descriptors.
METRICS_PORT=9461
conf_set metrics-listen "127.0.0.1:$METRICS_PORT"
daemon_start_with 'ulimit -n 64'
both fast.test "$FAST" "ulimit -n 64: answered"
hostile_begin
touch "$W/hold.run"
crowd -t 10 hold 120 --until "$W/hold.run" >"$W/hold.out" &
holders=$!
wait_for 10 grep -q '^connected=' "$W/hold.out"
like "$(cat "$W/hold.out")" '^connected=120$' "120 clients connected (accepted or in the backlog)"
wait_for 5 log_has 'event=accept-failed error="Too many open files" next="pausing 500ms"'
ok $? "out of descriptors: accept fails, logged, pausing 500ms"
( timed r qraw fast.test; printf '%s\n%s\n' "$r_ms" "$r" >"$W/waiting.out" ) &
waiting=$!
calm "out of descriptors, a socketmap client waiting"
timeout 20 "$MTASTSCTL" -c "$W/mtastsd.conf" stats --json >"$W/ctl.out" 2>&1 &
ctl=$!
sleep 0.2
calm "out of descriptors, mtastsctl waiting on the control socket"
timeout 20 ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$METRICS_PORT/metrics" >"$W/metrics.out" 2>&1 &
metrics=$!
sleep 0.2
calm "out of descriptors, a metrics scrape waiting"
rm -f "$W/hold.run"
t0=$(now_ms)
wait $holders $waiting
is "$(sed -n 2p "$W/waiting.out")" "$FAST" "the client that waited in the backlog: answered once others left"
within "$(( $(now_ms) - t0 ))" 2000 "the waiting client: answered soon after the others left"
wait $ctl $metrics
like "$(cat "$W/ctl.out")" '^\{"uptime":' "mtastsctl stats during the shortage: answered in the end"
is "$(cat "$W/metrics.out")" 200 "the metrics scrape during the shortage: answered in the end"
both later.test "$(sec mx.later.test)" "after the shortage: a new domain discovered"
hostile_end fast.test "$FAST"
daemon_stop
unset 'CONF[metrics-listen]'

# --- max-clients.
conf_set max-clients 20
daemon_start
both fast.test "$FAST" "max-clients 20: answered"
hostile_begin
touch "$W/hold.run"
crowd -t 10 hold 40 --until "$W/hold.run" >"$W/hold.out" &
holders=$!
wait_for 10 grep -q '^connected=' "$W/hold.out"
wait_for 5 log_has 'event=refused reason="20 clients, max-clients reached"'
ok $? "over max-clients: refused and logged"
timed r smq -t 5 postfix fast.test
is "$r" "<closed>" "over max-clients: a new client is closed at once, not left hanging"
within "$r_ms" 1500 "over max-clients: closed at once"
sleep 1
n=$(log_count 'max-clients reached')
ok $([ "$n" -le 4 ]; echo $?) "over max-clients: logged at most once a second ($n)"
rm -f "$W/hold.run"
wait $holders
hostile_end fast.test "$FAST"
daemon_stop
unset 'CONF[max-clients]'

# --- cache-max-entries.  Through dnsd.py: slowre.test's re-checks take 6 s.
dnsd_start "$DNSD_ADDR"
conf_set resolver "$DNSD_ADDR"
conf_set dns-timeout 2s
conf_set dns-tries 3
conf_set cache-max-entries 100
daemon_start
both fast.test "$FAST" "cap 100: answered"
both slowre.test "$(sec mx.slowre.test)" "cap 100: slowre cached"
hostile_begin
# rows PATTERN: entries in the file whose domain matches the LIKE pattern.
rows() {
	sqlite3 -readonly "$W/cache.db" "SELECT count(*) FROM domains WHERE domain LIKE '$1'"
}
seq -f 'o%g.test' 60 >"$W/old.keys"
crowd -t 20 each postfix "$W/old.keys" >/dev/null
sleep 1.1
{ seq -f 'n%g.test' 98; echo fast.test; echo slowre.test; } >"$W/new.keys"
crowd -t 20 each postfix "$W/new.keys" >"$W/new.out"
is "$(grep -c -v "NOTFOUND $" "$W/new.out")" 2 "cap: 98 no-record domains, fast.test and slowre.test queried"
wait_for 5 log_has 'event=cache-full entries=16[0-9] cache-max-entries=100 evicted=6[0-9]'
ok $? "cap: over 100 entries, the sweep evicts (logged)"
sleep 1.2
is "$(rows '%')" 100 "cap: 100 entries left"
is "$(rows 'o%')" 0 "cap: every one of the 60 least recently queried is gone"
is "$(rows 'n%')" 98 "cap: the 98 recently queried stay"
is "$(rows 'fast.test')" 1 "cap: fast.test (queried again) stays"
# slowre.test: queried now (its re-check starts and hangs 4 s), then 100
# newer domains: it is the least recently queried, but not evicted while
# its discovery runs; evicted once that ends.
timed r qraw slowre.test
is "$r" "$(sec mx.slowre.test)" "cap: slowre answered from the cache; its re-check starts"
sleep 1.1
seq -f 'm%g.test' 100 >"$W/m.keys"
crowd -t 20 each postfix "$W/m.keys" >/dev/null
sleep 1.3
is "$(rows 'slowre.test')" 1 "cap: slowre.test, least recently queried, kept while its re-check runs"
is "$(rows '%')" 100 "cap: still 100 entries (a newer one went in its place)"
is "$(rows 'n%')" 0 "cap: the older ones evicted"
is "$(rows 'm%')" 99 "cap: 99 of the 100 newest stay"
# Once the re-check has ended, one entry over the cap: slowre.test goes.
wait_for 8 log_has 'domain=slowre.test event=txt-failed'
ok $? "cap: slowre.test's re-check ran and ended"
qraw one-more.test >/dev/null
sleep 1.2
is "$(rows 'slowre.test')" 0 "cap: then slowre.test, least recently queried, is the one evicted"
is "$(rows '%')" 100 "cap: 100 entries"
# 1,000 new domains: the cache ends at its cap.
seq -f 'b%g.test' 1000 >"$W/b.keys"
crowd -t 30 each postfix "$W/b.keys" >"$W/b.out"
is "$(grep -c 'NOTFOUND $' "$W/b.out")" 1000 "1,000 new domains answered"
sleep 2.2
is "$(rows '%')" 100 "after 1,000 new domains: the cache holds 100 entries"
both fast.test "$FAST" "fast.test (evicted) discovered again"
hostile_end fast.test "$FAST"

done_testing
