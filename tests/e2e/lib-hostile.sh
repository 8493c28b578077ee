# lib-hostile.sh: helpers for the hostile-peer scenarios (t-7x-*.sh) on
# top of the world of lib.sh (sourced from here).
#
# Every hostile scenario ends the same way (hostile_end): the daemon is
# still alive, still answers a cached domain correctly and at once, and
# holds exactly as many file descriptors as before the hostile part began
# (hostile_begin).  The helpers:
#
#   daemon     dpid, fd_count, rss_kb, daemon_start_with SHELL-SNIPPET
#              (run the snippet in the daemon's own shell first: ulimit,
#              mounts in its private mount namespace), daemon_root PATH
#              (PATH as the daemon sees it, through /proc/PID/root)
#   checks     hostile_begin, hostile_end DOMAIN WANT, within MS LIMIT NAME
#              (assert a time bound), log_has REGEX, log_count REGEX
#   DNS, web   dnsd_start ADDR (dnsd.py in front of nsd), dnsd_count REGEX,
#              web_resume (nginx again after web_stop, same configuration)
#   clients    crowd ARGS (crowd.py), crowd_nofile N ARGS (the same with
#              ulimit -n N), quiet_for SECS

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DNSD_ADDR=127.0.0.54

dpid() {
	cat "$W/pids/mtastsd" 2>/dev/null
}

fd_count() {
	ls "/proc/$(dpid)/fd" 2>/dev/null | wc -l
}

# rss_kb: the daemon's resident memory in KiB.
rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$(dpid)/status" 2>/dev/null
}

# daemon_root PATH: PATH inside the daemon's mount namespace.
daemon_root() {
	echo "/proc/$(dpid)/root$1"
}

# daemon_start_with SNIPPET: daemon_start, with SNIPPET run by the shell
# that then execs the daemon (so the daemon keeps the shell's pid).
daemon_start_with() {
	daemon_conf >"$W/mtastsd.conf"
	: >"$W/daemon.wanted"
	[ -x "$MTASTSD" ] || bail "no daemon at $MTASTSD"
	printf '%s\nexec "%s" -f -c "%s"\n' "$1" "$MTASTSD" "$W/mtastsd.conf" \
	    >"$W/daemon-start.sh"
	echo "=== start (with: $1) $(date +%T.%N)" >>"$W/log/mtastsd.log"
	bg_start mtastsd sh -e "$W/daemon-start.sh"
	wait_for 5 daemon_ready ||
	    bail "mtastsd did not start listening on 127.0.0.1:$MAP_PORT: $(tail -n 5 "$W/log/mtastsd.log" | tr '\n' ' ')"
}

# within MS LIMIT NAME: assert that MS (a measured time) is at most LIMIT.
within() {
	ok $([ -n "$1" ] && [ "$1" -le "$2" ]; echo $?) "$3 ($1 ms <= $2 ms)"
}

log_has() {
	grep -Eq -- "$1" "$W/log/mtastsd.log"
}

log_count() {
	grep -Ec -- "$1" "$W/log/mtastsd.log"
}

# fd_is N: the daemon holds N descriptors (for wait_for).
fd_is() {
	[ "$(fd_count)" -eq "$1" ]
}

# hostile_begin: remember the descriptors the daemon holds now, after a
# moment of calm (a cache write opens SQLite's WAL files once).
hostile_begin() {
	sleep 1.2
	FD0=$(fd_count)
	RSS0=$(rss_kb)
	diag "before the hostile part: fds=$FD0 rss=${RSS0}kB"
}

# hostile_end DOMAIN WANT: the daemon survived: alive, answers DOMAIN with
# WANT within a second, and is back to the descriptors it held at
# hostile_begin (waiting up to 10 s for connections to wind down).
hostile_end() {
	local r r_ms fds
	ok $(bg_alive mtastsd; echo $?) "end: the daemon is still alive"
	timed r qraw "$1"
	is "$r" "$2" "end: $1 still answered correctly from the cache"
	within "$r_ms" 1000 "end: answered at once"
	wait_for 10 fd_is "$FD0"
	fds=$(fd_count)
	is "$fds" "$FD0" "end: descriptors back to $FD0 (growth $((fds - FD0)))"
	diag "after the hostile part: fds=$fds rss=$(rss_kb)kB"
}

# dnsd_start ADDR: dnsd.py on ADDR:53, forwarding to nsd; its query log
# is $W/log/dnsd-queries.log.
dnsd_start() {
	bg_start dnsd "$PYTHON" "$E2E_DIR/dnsd.py" --listen "$1" \
	    --upstream "$DNS_ADDR" --log "$W/log/dnsd-queries.log"
	wait_for 5 grep -q '^ready' "$W/log/dnsd.log" ||
	    bail "dnsd.py did not start: $(cat "$W/log/dnsd.log")"
}

# dnsd_count REGEX: questions dnsd.py saw matching REGEX ("TRICK QNAME QTYPE").
dnsd_count() {
	grep -Ec -- "$1" "$W/log/dnsd-queries.log" 2>/dev/null || true
}

# web_resume: start nginx again with the configuration web_commit wrote
# (much quicker than web_commit with hundreds of sites).
web_resume() {
	bg_start nginx nginx -c "$W/nginx/nginx.conf" -e "$W/log/nginx-error.log"
	wait_for 5 port_open "$WEB_ADDR" 443 || bail "nginx does not listen"
}

crowd() {
	nsx "$PYTHON" "$E2E_DIR/crowd.py" -p "$MAP_PORT" "$@"
}

# crowd_nofile N ARGS: crowd.py allowed N descriptors.
crowd_nofile() {
	local n=$1
	shift
	nsx sh -c 'ulimit -n "$1" && shift && exec "$@"' sh "$n" \
	    "$PYTHON" "$E2E_DIR/crowd.py" -p "$MAP_PORT" "$@"
}
