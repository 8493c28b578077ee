#!/bin/bash
# t-62-ops: what an administrator relies on.
#  - mtastsd -V, -n (a good and a broken file), the pid file, sd_notify
#    (READY=1, STOPPING=1 to $NOTIFY_SOCKET);
#  - the Prometheus endpoint (metrics-listen) agrees with the control
#    socket's stats after real traffic; fetch outcomes and the duration
#    histogram count what happened; 404 and 405 for other requests;
#  - SIGHUP with a broken file keeps the running configuration, a good
#    one is taken; SIGTERM answers a query still waiting for its
#    discovery, then exits 0;
#  - privileges: root without "user" in a file is refused; "user nobody"
#    drops to nobody for good; the built-in defaults run as root with a
#    warning (the README's first command);
#  - socket activation: LISTEN_FDS/LISTEN_FDNAMES sockets named
#    socketmap, exim and metrics replace the configured listeners; a
#    LISTEN_PID for another process is ignored.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib-mail.sh"

world_start
need curl
mail_start

sts_domain enf.test 1 enforce 86400 mx1.enf.test
sts_domain soft.test 1 testing 86400 mx1.soft.test
cert_make wrongname mta-sts.other.test
sts_domain badcert.test 1 enforce 86400 mx1.badcert.test
site mta-sts.badcert.test cert=wrongname
# slow.test: the policy host never finishes the TLS handshake.
cert_make slow mta-sts.slow.test
txt_set _mta-sts.slow.test "v=STSv1; id=1"
dns_add mta-sts.slow.test A 127.0.0.40
dns_commit
web_commit
pysite stall stall 127.0.0.40 slow

# -V and -n.
like "$("$MTASTSD" -V)" "^mtastsd [0-9]+\.[0-9]+\.[0-9]+$" "-V prints the version"
conf_set metrics-listen "127.0.0.1:$METRICS_PORT"
conf_set pidfile "$W/mtastsd.pid"
conf_set fetch-timeout 10s
conf_set discovery-timeout 20s
daemon_conf >"$W/mtastsd.conf"
is "$("$MTASTSD" -n -c "$W/mtastsd.conf" 2>/dev/null; echo "rc=$?")" "$W/mtastsd.conf: configuration OK
rc=0" "-n: a good file"
printf 'listen inet:127.0.0.1:%s\nfetch-timeout forever\n' "$MAP_PORT" >"$W/broken.conf"
like "$("$MTASTSD" -n -c "$W/broken.conf" 2>&1; echo "rc=$?")" "^$W/broken.conf:2: .*rc=1$" \
    "-n: a broken file: file:line and exit 1"

# Start with sd_notify, a pid file and the metrics listener.
notify_listen
daemon_run env NOTIFY_SOCKET="$W/notify.sock" "$MTASTSD" -f -c "$W/mtastsd.conf"
pid=$(daemon_pid)
is "$(cat "$W/mtastsd.pid" 2>/dev/null)" "$pid" "pid file holds the daemon's pid"
wait_for 5 grep -q READY=1 "$W/notify.log"
is "$(head -n 1 "$W/notify.log")" "READY=1" "sd_notify: READY=1 once listening"

# Traffic, then the two views of the counters.
is "$(q enf.test)" "secure match=mx1.enf.test servername=hostname" "enforce answered"
is "$(q enf.test)" "secure match=mx1.enf.test servername=hostname" "enforce again (cache hit)"
is "$(q soft.test)" NOTFOUND "testing answered NOTFOUND"
is "$(q badcert.test)" NOTFOUND "certificate for another name: NOTFOUND"
is "$(q '[192.0.2.1]')" NOTFOUND "IP literal: NOTFOUND"
is "$(smq -p "$EXIM_PORT" --exim "enf.test mx1.enf.test")" "enforce match" "Exim listener"
both=$(stats_and_scrape ctl_stats)
stats=${both%%$'\n'----$'\n'*}
scrape=${both#*$'\n'----$'\n'}
like "$(metrics_agree "$stats" "$scrape")" "^agree [0-9]+$" "metrics endpoint and control stats agree"
is "$(metric mtastsd_queries_total <<<"$scrape")" 6 "queries_total counts the six queries"
is "$(metric mtastsd_answers_ok_total <<<"$scrape")" 3 "three enforce answers"
is "$(metric mtastsd_fetches_total <<<"$scrape")" 3 "three fetches"
is "$(metric 'mtastsd_fetch_outcomes_total{outcome="ok"}' <<<"$scrape")" 2 "fetch outcome ok: 2"
is "$(metric 'mtastsd_fetch_outcomes_total{outcome="certificate"}' <<<"$scrape")" 1 "fetch outcome certificate: 1"
is "$(metric 'mtastsd_fetch_duration_seconds_count' <<<"$scrape")" 3 "histogram counts the three fetches"
is "$(metric 'mtastsd_fetch_duration_seconds_bucket{le="+Inf"}' <<<"$scrape")" 3 "histogram +Inf bucket"
is "$(metric 'mtastsd_entries_by_state{state="enforce"}' <<<"$scrape")" 1 "entries: one enforce"
is "$(metric 'mtastsd_entries_by_state{state="testing"}' <<<"$scrape")" 1 "entries: one testing"
ctlstats() {
	nsx "$top_builddir/mtastsctl" -c "$W/mtastsd.conf" --json stats 2>/dev/null
}
if [ -x "$top_builddir/mtastsctl" ] && [ "$(ctlstats | head -c 1)" = "{" ]; then
	both=$(stats_and_scrape ctlstats)
	like "$(metrics_agree "${both%%$'\n'----$'\n'*}" "${both#*$'\n'----$'\n'}")" "^agree [0-9]+$" \
	    "mtastsctl stats and the metrics endpoint agree"
else
	skip "mtastsctl stats not available in this build"
fi
is "$(metrics_get /nope -o /dev/null -w '%{http_code}')" 404 "metrics: other paths 404"
is "$(metrics_get /metrics -o /dev/null -w '%{http_code}' -X POST)" 501 "metrics: POST refused (501, evhttp)"
like "$(metrics_get /metrics -o /dev/null -w '%{content_type}')" "^text/plain; version=0\.0\.4" "metrics: Prometheus content type"

# SIGHUP: a broken file keeps the running configuration.
is "$(q enf.test strict)" "secure match=mx1.enf.test servername=hostname" "before reload: map strict uses the default zone"
cp "$W/mtastsd.conf" "$W/good.conf"
echo "zone strict servername=bogus" >>"$W/mtastsd.conf"
kill -HUP "$pid"
wait_for 5 grep -q "event=reload-failed" "$W/log/mtastsd.log"
ok $? "SIGHUP with a broken file: reload-failed logged"
is "$(q enf.test strict)" "secure match=mx1.enf.test servername=hostname" "broken reload: old configuration still answers"
ok $(bg_alive mtastsd; echo $?) "broken reload: the daemon runs on"
cp "$W/good.conf" "$W/mtastsd.conf"
echo "zone strict servername=no" >>"$W/mtastsd.conf"
kill -HUP "$pid"
wait_for 5 grep -q "event=reloaded" "$W/log/mtastsd.log"
is "$(q enf.test strict)" "secure match=mx1.enf.test" "good reload: zone strict without servername"

# SIGTERM with a query waiting for slow.test's discovery.
nsx "$PYTHON" "$E2E_DIR/smq.py" -p "$MAP_PORT" -t 20 postfix slow.test >"$W/inflight.out" 2>&1 &
qpid=$!
wait_for 5 grep -q "domain=slow.test event=discovery-start" "$W/log/mtastsd.log"
sleep 0.3
kill -TERM "$pid"
wait "$qpid"
is "$(cat "$W/inflight.out")" "NOTFOUND " "SIGTERM: the waiting query got its answer"
wait "$pid"
is "$?" 0 "SIGTERM: exit status 0"
rm -f "$W/pids/mtastsd" "$W/daemon.wanted"
ok $([ ! -e "$W/mtastsd.pid" ]; echo $?) "SIGTERM: pid file removed"
wait_for 5 grep -q STOPPING=1 "$W/notify.log"
is "$(tail -n 1 "$W/notify.log")" "STOPPING=1" "sd_notify: STOPPING=1"

# Privileges: a file without "user", started as root: refused.
grep -v '^user ' "$W/good.conf" >"$W/nouser.conf"
out=$(nsx "$MTASTSD" -f -c "$W/nouser.conf" 2>&1)
is "$?" 1 "root, no user in the file: exit 1"
like "$out" "refusing to run as root: set \"user\" in $W/nouser.conf" "root, no user: says why"
port_open 127.0.0.1 "$MAP_PORT"
ok $((! $?)) "root, no user: nothing was opened"

# user nobody: the process runs as nobody after opening everything.
# (It starts with an empty cache, so it needs nsd and nginx.)
bg_alive nsd || diag "nsd is gone: $(tail -n 3 "$W/log/nsd.log")"
mkdir -p "$W/state"
chown nobody "$W/state"
conf_set user nobody
conf_set cache-file "$W/state/cache.db"
conf_set pidfile "$W/state/mtastsd.pid"
daemon_run "$MTASTSD" -f -c "$W/mtastsd.conf"
pid=$(daemon_pid)
is "$(cat "$W/state/mtastsd.pid")" "$pid" "user nobody: pid file written before the drop"
is "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" "65534 65534 65534 65534" "user nobody: every uid is nobody"
is "$(awk '/^Groups:/ { print $2 }' "/proc/$pid/status")" "$(id -g nobody)" "user nobody: only nobody's group"
like "$(grep event=privileges-dropped "$W/log/mtastsd.log")" "user=nobody uid=65534" "privileges-dropped logged"
is "$(q enf.test)" "secure match=mx1.enf.test servername=hostname" "user nobody: answers"
like "$(ctl_stats)" '"ok": true' "user nobody: the control socket answers root"
daemon_stop
ok $([ ! -e "$W/state/mtastsd.pid" ]; echo $?) "user nobody: pid file removed at exit"

# No configuration file at all, as root (README's first command): runs,
# with a warning.  A private mount namespace keeps its default cache and
# control socket off the real file system.
cachepath=$(strings "$MTASTSD" | grep -m 1 '^/.*/lib/mtastsd/cache\.db$')
defconf=$(strings "$MTASTSD" | grep -m 1 '^/.*/mtastsd\.conf$')
hide=$(dirname "${cachepath:-/}")
while [ ! -d "$hide" ]; do hide=$(dirname "$hide"); done
if [ -n "$cachepath" ] && [ "$hide" != / ] && [ -n "$defconf" ] && [ ! -e "$defconf" ]; then
	bg_start bare unshare -m sh -c "mount --make-rprivate / && mount -t tmpfs t /run && mount -t tmpfs t '$hide' && exec '$MTASTSD' -f"
	wait_for 5 port_open 127.0.0.1 "$MAP_PORT"
	ok $? "no configuration file, root: listening on 127.0.0.1:$MAP_PORT"
	like "$(cat "$W/log/bare.log")" "event=running-as-root note=\"built-in defaults" "no configuration file: a warning"
	is "$(q '[192.0.2.1]')" NOTFOUND "no configuration file: answers postmap"
	bg_stop bare
else
	skip "cannot hide the default cache path ($cachepath) or a default config exists"
	skip "-"
	skip "-"
fi

# Socket activation: named sockets replace the configured listeners.
conf_set user root
conf_set cache-file "$W/cache.db"
conf_set pidfile "$W/mtastsd.pid"
conf_set listen "inet:127.0.0.1:18461"
conf_set exim-listen "inet:127.0.0.1:18462"
conf_set metrics-listen "127.0.0.1:19461"
daemon_run "$PYTHON" -c "$ACTIVATE_PY" "socketmap:127.0.0.1:$MAP_PORT" "exim:127.0.0.1:$EXIM_PORT" \
    "metrics:127.0.0.1:$METRICS_PORT" -- "$MTASTSD" -f -c "$W/mtastsd.conf"
is "$(q enf.test)" "secure match=mx1.enf.test servername=hostname" "activation: socketmap on the passed socket"
is "$(smq -p "$EXIM_PORT" --exim "enf.test")" "enforce mx1.enf.test" "activation: Exim on the socket named exim"
like "$(metrics_get)" "mtastsd_queries_total 2" "activation: metrics on the socket named metrics"
for p in 18461 18462 19461; do
	port_open 127.0.0.1 "$p"
	ok $((! $?)) "activation: configured port $p not opened"
done
is "$(grep -c 'event=socket-activation fd=' "$W/log/mtastsd.log")" 2 "activation: two protocol sockets taken"
daemon_stop
bg_start mtastsd "$PYTHON" -c "$ACTIVATE_PY" --pid 1 "socketmap:127.0.0.1:28461" -- \
    "$MTASTSD" -f -c "$W/mtastsd.conf"
wait_for 5 port_open 127.0.0.1 18461
ok $? "LISTEN_PID of another process: ignored, configured listeners used"
bg_stop mtastsd

done_testing
