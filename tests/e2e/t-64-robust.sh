#!/bin/bash
# t-64-robust: what the new-user trial found, pinned.
#  - a unix listener or control path that is a regular file is never
#    removed: the daemon refuses to start and the file is intact;
#  - a second daemon given the same control socket leaves the first one's
#    socket alone (it says another process listens there);
#  - 50 reloads with unchanged settings keep the DNS client and TLS
#    context: the daemon's memory does not grow with them;
#  - a cache file the daemon may read but not write still gives it the
#    policies it holds (read-only, said loudly), instead of none;
#  - a pid file that cannot be written is reported before detaching.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain good.test 1 enforce 86400 mx1.good.test
dns_commit
web_commit

# A regular file where a socket would go.
echo "precious" >"$W/precious.txt"
conf_set listen "unix:$W/precious.txt"
daemon_conf >"$W/bad-listen.conf"
out=$(nsx "$MTASTSD" -f -c "$W/bad-listen.conf" 2>&1; echo "rc=$?")
like "$out" "not a socket.*rc=1$" "unix listener on a regular file: refused"
is "$(cat "$W/precious.txt")" "precious" "unix listener on a regular file: file intact"
conf_set listen "inet:127.0.0.1:$MAP_PORT"
conf_set control "$W/precious.txt"
daemon_start
is "$(cat "$W/precious.txt")" "precious" "control path on a regular file: file intact"
like "$(daemon_log)" "event=control-unavailable.*not a socket" \
    "control path on a regular file: said in the log"
daemon_stop
conf_set control "$W/control.sock"

# The first daemon keeps its control socket when a second one is started
# with the same path (and another port).
daemon_start
is "$(qraw good.test)" "$(sec mx1.good.test)" "first daemon answers"
conf_set listen "inet:127.0.0.1:$((MAP_PORT + 10))"
conf_set exim-listen "inet:127.0.0.1:$((EXIM_PORT + 10))"
conf_set cache-file "$W/cache2.db"
daemon_conf >"$W/second.conf"
nsx timeout 2 "$MTASTSD" -f -c "$W/second.conf" >"$W/second.log" 2>&1
like "$(cat "$W/second.log")" "control-unavailable.*another process is listening" \
    "second daemon: control socket in use, said"
ok "$([ -S "$W/control.sock" ]; echo $?)" "first daemon's control socket still there"
reply=$(nsx python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"stats\n")
print(s.recv(65536).decode()[:12])' "$W/control.sock")
is "$reply" '{"ok": true,' "first daemon's control socket still answers"
conf_set listen "inet:127.0.0.1:$MAP_PORT"
conf_set exim-listen "inet:127.0.0.1:$EXIM_PORT"
conf_set cache-file "$W/cache.db"

# Reloads with unchanged settings do not grow the daemon.
pid=$(cat "$W/pids/mtastsd")
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
kill -HUP "$pid"
sleep 0.3
before=$(rss)
for i in $(seq 50); do
	kill -HUP "$pid"
	sleep 0.05
done
sleep 0.5
after=$(rss)
diag "VmRSS before 50 reloads: ${before} kB, after: ${after} kB"
ok "$([ $((after - before)) -lt 2048 ]; echo $?)" "50 reloads: memory grows by less than 2 MB ($((after - before)) kB)"
is "$(qraw good.test)" "$(sec mx1.good.test)" "answers after the reloads"
sleep 1.5	# let the sweep write the cache
daemon_stop

# A read-only cache file: its policies are still served.
web_stop
chmod 0444 "$W/cache.db"
rm -f "$W/cache.db-wal" "$W/cache.db-shm"
chattr +i "$W/cache.db" 2>/dev/null || true
conf_set user nobody
chown nobody "$W" 2>/dev/null
chmod o+rx "$W"
daemon_start
is "$(qraw good.test)" "$(sec mx1.good.test)" "read-only cache: cached policy served, web server down"
like "$(daemon_log)" "event=cache-read-only" "read-only cache: said in the log"
daemon_stop
chattr -i "$W/cache.db" 2>/dev/null || true
conf_set user root

# A pid file in a missing directory: an error before detaching.
conf_set pidfile "$W/no/such/dir/mtastsd.pid"
daemon_conf >"$W/pid.conf"
out=$(nsx timeout 5 "$MTASTSD" -c "$W/pid.conf" 2>&1; echo "rc=$?")
like "$out" "pidfile.*rc=1$" "pid file that cannot be written: error and exit 1 before detaching"

done_testing
