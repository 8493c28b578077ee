#!/bin/bash
# t-63-systemd: the units in contrib/systemd.  systemd-analyze verify
# accepts them (binary path pointed at the build) and rates the service's
# hardening "OK" or better; then the daemon runs as the units would start
# it: the sockets each .socket unit declares (inet ones) are passed with
# their FileDescriptorName, NOTIFY_SOCKET is set, and Postfix (postmap),
# Exim (the line protocol) and Prometheus find their sockets.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib-mail.sh"

world_start
need curl
SD="$top_srcdir/contrib/systemd"

if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$W/units"
	for f in "$SD"/*.service "$SD"/*.socket; do
		sed "s|/usr/sbin/mtastsd|$MTASTSD|g" "$f" >"$W/units/$(basename "$f")"
	done
	out=$(cd "$W/units" && systemd-analyze verify --man=no ./*.service ./*.socket 2>&1)
	is "$?:$out" "0:" "systemd-analyze verify: no complaint"
	level=$(cd "$W/units" && systemd-analyze security --offline=yes ./mtastsd.service 2>/dev/null |
	    sed -n 's/.*Overall exposure level for mtastsd.service: \([0-9.]*\) .*/\1/p')
	ok $(awk -v l="${level:-99}" 'BEGIN { exit !(l <= 2.0) }'; echo $?) \
	    "systemd-analyze security: exposure ${level:-?} <= 2.0"
else
	skip "no systemd-analyze"
	skip "no systemd-analyze"
fi

# The service's options the daemon must understand.
is "$(sed -n 's/^ExecStart=[^ ]* //p' "$SD/mtastsd.service")" "-f -c /etc/mtastsd.conf" "ExecStart: foreground, explicit file"
is "$(sed -n 's/^Type=//p' "$SD/mtastsd.service")" notify "Type=notify"

# Run the daemon as the socket units would.
specs=()
for f in "$SD"/mtastsd-*.socket; do
	name=$(sed -n 's/^FileDescriptorName=//p' "$f")
	for l in $(sed -n 's/^ListenStream=\(127\.0\.0\.1:[0-9]*\)$/\1/p' "$f"); do
		specs+=("$name:$l")
	done
done
is "${specs[*]}" "exim:127.0.0.1:$EXIM_PORT metrics:127.0.0.1:$METRICS_PORT socketmap:127.0.0.1:$MAP_PORT" \
    "socket units: names and loopback addresses"

sts_domain enf.test 1 enforce 86400 mx1.enf.test
dns_commit
web_commit
notify_listen
conf_set listen "inet:127.0.0.1:18461"
daemon_run env NOTIFY_SOCKET="$W/notify.sock" "$PYTHON" -c "$ACTIVATE_PY" "${specs[@]}" -- \
    "$MTASTSD" -f -c "$W/mtastsd.conf"
wait_for 5 grep -q READY=1 "$W/notify.log"
ok $? "READY=1 sent"
is "$(q enf.test)" "secure match=mx1.enf.test servername=hostname" "Postfix on the socketmap socket"
is "$(smq -p "$EXIM_PORT" --exim "enf.test mx1.enf.test")" "enforce match" "Exim on the exim socket"
like "$(metrics_get)" $'\nmtastsd_queries_total 2\n' "metrics on the metrics socket"
port_open 127.0.0.1 18461
ok $((! $?)) "the configured listener is not opened"
daemon_stop
wait_for 5 grep -q STOPPING=1 "$W/notify.log"
ok $? "STOPPING=1 sent"

done_testing
