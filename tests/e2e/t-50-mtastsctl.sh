#!/bin/bash
# t-50-mtastsctl: the administrator's tool against a running daemon in the
# test world, then with the daemon stopped: list, show, query, stats,
# refresh, forget, flush; usage errors (64), daemon not running (69),
# refused peers (77); colour only on a terminal.  JSON output is parsed
# and checked field by field.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

CTL="${MTASTSCTL:-$top_builddir/mtastsctl}"

# ctl ARGS...: run mtastsctl in the namespace with the daemon's config;
# sets OUT (stdout), ERR (stderr) and RC.
ctl() {
	OUT=$(nsx "$CTL" -c "$W/mtastsd.conf" "$@" 2>"$W/ctl.err")
	RC=$?
	ERR=$(cat "$W/ctl.err")
}

# jq_ JSON EXPR: the Python expression EXPR over d = json.loads(JSON);
# strings print as they are, anything else as JSON.
jq_() {
	"$PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1])
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

# sql QUERY: one query on the cache file (python3's sqlite3, read-only).
sql() {
	"$PYTHON" -c 'import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for r in c.execute(sys.argv[2]):
	print("|".join(str(x) for x in r))' "$W/cache.db" "$1"
}

# tty_run CMD...: run CMD on a pseudo-terminal, print what it wrote.
tty_run() {
	"$PYTHON" -c 'import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
	os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
	try:
		b = os.read(fd, 65536)
	except OSError:
		break
	if not b:
		break
	out += b
os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))' "$@"
}

world_start
[ -x "$CTL" ] || bail "no mtastsctl at $CTL"

sts_domain good.test 20240101T000000 enforce 1209600 mx1.good.test '*.good.test'
sts_domain test.test 7 testing 86400 mx.test.test
# Counts below must not depend on the machine's speed: the no-record
# answer of nosts.test is cached for an hour (not the 1s default TTL), and
# a failed discovery is retried after a minute at the soonest (not 2s), so
# a repeated query within the test never discovers again.
dns_add ttl=3600 _mta-sts.nosts.test TXT '"site-verification=1"'
dns_commit
web_commit
conf_set retry-min 60s
conf_set retry-max 120s
daemon_conf >"$W/mtastsd.conf"

POLICY_GOOD=$(printf 'version: STSv1\nmode: enforce\nmx: mx1.good.test\nmx: *.good.test\nmax_age: 1209600\n')

# Usage errors: a short usage on stderr, exit 64.
ctl
is "$RC" 64 "no command: exit 64"
like "$ERR" '^usage: mtastsctl ' "no command: usage on stderr"
ctl frobnicate
is "$RC" 64 "unknown command: exit 64"
like "$ERR" 'unknown command "frobnicate"' "unknown command named"
ctl show
is "$RC" 64 "show without a domain: exit 64"
is "$ERR" "mtastsctl: show: missing argument
usage: mtastsctl [-c FILE] show DOMAIN [--json]" "show: short usage"
ctl list --map x
is "$RC" 64 "an option of another command: exit 64"
is "$(head -n 1 <<<"$ERR")" "mtastsctl: --map does not apply to list" "the option is named"
ctl list --mode sometimes
is "$RC" 64 "list --mode with a bad mode: exit 64"
ctl list --expired --failed
is "$RC" 64 "two list filters: exit 64"
ctl show 192.0.2.1
is "$RC" 64 "show of an IP literal: exit 64"
ctl refresh
is "$RC" 64 "refresh with neither domain nor --all: exit 64"
ctl refresh good.test --all
is "$RC" 64 "refresh with both domain and --all: exit 64"
ctl --bogus-option list
is "$RC" 64 "unknown option: exit 64"
is "$(head -n 1 <<<"$ERR")" "mtastsctl: unknown option --bogus-option" "unknown option: our prefix, not argv[0]"
ctl list --json=yes
is "$(head -n 1 <<<"$ERR")" "mtastsctl: option --json takes no argument" "an argument to a flag: said so"
ctl -c
is "$(head -n 1 <<<"$ERR")" "mtastsctl: option -c needs an argument" "a missing argument: said so"

# No daemon yet: the commands that need it say so and exit 69.
ctl stats
is "$RC" 69 "stats, daemon not running: exit 69"
is "$ERR" "mtastsctl: mtastsd is not running (control socket $W/control.sock: No such file or directory)" \
    "stats, daemon not running: clear message"
ctl query good.test
is "$RC" 69 "query, daemon not running: exit 69"
is "$ERR" "mtastsctl: mtastsd is not running (socketmap inet:127.0.0.1:$MAP_PORT: Connection refused)" \
    "query, daemon not running: clear message"
ctl list --json
is "$RC" 0 "list with no daemon and no cache file: exit 0"
is "$(jq_ "$OUT" '[d["entries"], d["daemon_running"], d["cache_file"]]')" \
    "[[], false, \"$W/cache.db\"]" "list --json: empty, daemon not running, the file named"
ctl flush
is "$RC" 0 "flush with no daemon and no file: nothing to do, exit 0"

daemon_start

# query: the reply exactly as Postfix gets it.
ctl query good.test
is "$RC" 0 "query good.test: exit 0"
is "$OUT" "OK secure match=mx1.good.test:.good.test servername=hostname" "query good.test: the socketmap reply"
ctl query GOOD.test. --json
is "$RC" 0 "query --json: exit 0"
is "$(jq_ "$OUT" '[d["map"], d["key"], d["status"], d["data"], d["reply"], d["listener"]]')" \
    "[\"postfix\", \"GOOD.test.\", \"OK\", \"secure match=mx1.good.test:.good.test servername=hostname\", \"OK secure match=mx1.good.test:.good.test servername=hostname\", \"inet:127.0.0.1:$MAP_PORT\"]" \
    "query --json: map, key as given, status, data, reply, listener"
ctl query test.test
is "$RC" 1 "query of a testing domain: exit 1"
is "$OUT" "NOTFOUND " "query of a testing domain: NOTFOUND with its space"
ctl query test.test
ctl query nosts.test --map othermap --json
is "$(jq_ "$OUT" '[d["map"], d["status"], d["reply"]]')" '["othermap", "NOTFOUND", "NOTFOUND "]' \
    "query --map: the map name is sent"
ctl query nosts.test
ctl query good.test

# list
ctl list --json
is "$RC" 0 "list --json: exit 0"
is "$(jq_ "$OUT" '[e["domain"] for e in d["entries"]]')" '["good.test", "nosts.test", "test.test"]' \
    "list --json: every domain, sorted"
is "$(jq_ "$OUT" 'd["daemon_running"]')" true "list --json: the daemon answered the sync"
G='[e for e in d["entries"] if e["domain"] == "good.test"][0]'
is "$(jq_ "$OUT" "[$G[k] for k in ('state', 'mode', 'policy_id', 'max_age', 'status', 'reason', 'last_error', 'queries', 'failures')]")" \
    '["active", "enforce", "20240101T000000", 1209600, "ok", null, null, 3, 0]' \
    "list --json good.test: state, mode, id, max_age, status, no error, queries"
is "$(jq_ "$OUT" "$G['expires_at'] - $G['fetched_at']")" 1209600 "list --json good.test: expires = fetched + max_age"
is "$(jq_ "$OUT" "abs($G['fetched_at'] - d['now']) < 60 and abs($G['txt_checked_at'] - d['now']) < 60")" true \
    "list --json good.test: fetched and TXT checked just now"
N='[e for e in d["entries"] if e["domain"] == "nosts.test"][0]'
is "$(jq_ "$OUT" "[$N[k] for k in ('state', 'mode', 'policy_id', 'status', 'reason')]")" \
    '["no-record", null, null, "no-record", "txt-no-record"]' "list --json nosts.test: no-record"
is "$(jq_ "$OUT" "[e['state'] for e in d['entries'] if e['domain'] == 'test.test']")" '["active"]' \
    "list --json test.test: a testing policy is active"

ctl list
is "$RC" 0 "list: exit 0"
like "$(head -n 1 <<<"$OUT")" '^DOMAIN +MODE +ID +FETCHED +EXPIRES +TXT CHECKED +STATE +QUERIES +LAST ERROR$' "list: header"
like "$(grep '^good.test ' <<<"$OUT")" '^good\.test +enforce +20240101T000000 +(now|[0-9]+s ago) +in 1[34]d +(now|[0-9]+s ago) +active +[0-9]+  -$' \
    "list: the good.test row"
is "$(grep '^good.test ' <<<"$OUT" | awk '{ print $(NF - 1) }')" 3 "list: good.test served 3 queries"
is "$(awk 'NR > 1 { print index($0, "active") ? index($0, "active") : index($0, "no-record") }' <<<"$OUT" | sort -u | wc -l)" 1 \
    "list: the STATE column is aligned"
ok "$([[ $OUT != *$'\e'* ]]; echo $?)" "list into a pipe: no colour"

ctl list --mode enforce --json
is "$(jq_ "$OUT" '[e["domain"] for e in d["entries"]]')" '["good.test"]' "list --mode enforce"
ctl list --mode testing --json
is "$(jq_ "$OUT" '[e["domain"] for e in d["entries"]]')" '["test.test"]' "list --mode testing"
ctl list --expired --json
is "$(jq_ "$OUT" 'd["entries"]')" '[]' "list --expired: none"
ctl list --failed --json
is "$(jq_ "$OUT" 'd["entries"]')" '[]' "list --failed: none (no-record is not a failure)"

# Colour on a terminal only, and not with NO_COLOR.
out=$(tty_run ip netns exec "$NS" "$CTL" -c "$W/mtastsd.conf" list)
like "$out" $'\e\\[32mactive' "list on a terminal: state in colour"
out=$(tty_run ip netns exec "$NS" env NO_COLOR=1 "$CTL" -c "$W/mtastsd.conf" list)
ok "$([[ $out != *$'\e'* ]]; echo $?)" "list on a terminal with NO_COLOR: no colour"
like "$out" 'good\.test +enforce' "list on a terminal with NO_COLOR: the rows"

# show
ctl show good.test --json
is "$RC" 0 "show --json: exit 0"
is "$(jq_ "$OUT" '[d[k] for k in ("domain", "state", "mode", "policy_id", "max_age", "mx", "queries", "daemon_running")]')" \
    '["good.test", "active", "enforce", "20240101T000000", 1209600, ["mx1.good.test", "*.good.test"], 3, true]' \
    "show --json: the entry"
is "$(jq_ "$OUT" 'd["policy_text"]')" "$POLICY_GOOD" "show --json: the raw policy text"
is "$(jq_ "$OUT" 'd["refresh_at"] > d["now"] and d["retry_at"] == 0 and d["last_error_at"] == 0')" true \
    "show --json: refresh planned, no retry, no error"
ctl show Good.Test.
is "$RC" 0 "show: exit 0"
like "$OUT" $'state +active\n' "show: state"
like "$OUT" $'mx +mx1\\.good\\.test, \\*\\.good\\.test\n' "show: mx patterns"
like "$OUT" $'last error +-\n' "show: no last error"
like "$OUT" $'policy text:\n    version: STSv1\n    mode: enforce\n    mx: mx1.good.test\n    mx: \\*.good.test\n    max_age: 1209600' \
    "show: the policy text"
ctl show nosts.test --json
is "$(jq_ "$OUT" '[d["state"], d["reason"], d["policy_text"], d["mx"]]')" '["no-record", "txt-no-record", null, []]' \
    "show --json of a no-record domain"
ctl show nosts.test
like "$OUT" $'\nno policy +no TXT record at _mta-sts\\.nosts\\.test starts with v=STSv1 \\[txt-no-record\\] at 20' \
    "show of a no-record domain: \"no policy\", with the reason"
ok "$([[ $OUT != *"last error"* ]]; echo $?)" "show of a no-record domain: no \"last error\""
ctl show unknown.test
is "$RC" 1 "show of a domain not in the cache: exit 1"
is "$ERR" "mtastsctl: unknown.test is not in the cache" "show: not in the cache"

# A failure with its time: the policy host stops answering.
sts_domain fail.test 1 enforce 86400 mx.fail.test
dns_del mta-sts.fail.test
dns_add mta-sts.fail.test A "$DEAD_ADDR"
dns_commit
ctl query fail.test
is "$OUT" "NOTFOUND " "query of a failing domain: NOTFOUND"
ctl query fail.test
ctl show fail.test --json
is "$(jq_ "$OUT" '[d["state"], d["status"], d["reason"], d["failures"]]')" '["failed", "failed", "fetch-connect", 1]' \
    "show --json of a failed domain: state, status, reason"
like "$(jq_ "$OUT" 'd["last_error"]')" 'mta-sts\.fail\.test' "show --json: the last error names the host"
is "$(jq_ "$OUT" 'abs(d["last_error_at"] - d["now"]) < 60 and d["retry_at"] > d["now"] - 5')" true \
    "show --json: the error's time and the retry"
ctl show fail.test
like "$OUT" $'last error +fetching https://mta-sts\\.fail\\.test/\\.well-known/mta-sts\\.txt failed: [^\n]* \\[fetch-connect\\] at 20[0-9-]+T[0-9:]+Z \\(' \
    "show: last error with its reason and time"
ctl list --failed --json
is "$(jq_ "$OUT" '[e["domain"] for e in d["entries"]]')" '["fail.test"]' "list --failed"

# stats
ctl stats --json
is "$RC" 0 "stats --json: exit 0"
is "$(jq_ "$OUT" '[d["queries"], d["answers"]["ok"], d["answers"]["notfound"]]')" '[9, 3, 6]' \
    "stats --json: queries and answers"
is "$(jq_ "$OUT" '[d["entries"][k] for k in ("total", "enforce", "testing", "none", "no_record", "failed", "expired")]')" \
    '[4, 1, 1, 0, 1, 1, 0]' "stats --json: entries by state"
is "$(jq_ "$OUT" 'd["failed_entries_by_reason"]')" '{"fetch-connect": 1}' \
    "stats --json: failing entries by reason (as list --failed; no-record is not a failure)"
is "$(jq_ "$OUT" 'd["no_policy_entries_by_reason"]')" '{"txt-no-record": 1}' \
    "stats --json: entries publishing no policy, by reason"
is "$(jq_ "$OUT" '[d["failures"]["fetch_failed"], d["failures"]["no_record"], d["failures"]["txt_failed"]]')" \
    '[1, 1, 0]' "stats --json: failures by kind"
is "$(jq_ "$OUT" 'd["discoveries"] >= 4 and d["fetches"] >= 3 and d["cache_hits"] >= 5 and d["uptime"] >= 0')" true \
    "stats --json: discoveries, fetches, hits, uptime"
is "$(jq_ "$OUT" 'd["counters"]["mtastsd_queries_total"] == d["queries"]')" true "stats --json: raw counters too"
ctl stats
is "$RC" 0 "stats: exit 0"
like "$OUT" $'^uptime +[0-9]+[smhd]' "stats: uptime first"
like "$OUT" $'\nqueries +9 \\(cache hits [0-9]+, misses [0-9]+, keys rejected 0\\)\n' "stats: queries"
like "$OUT" $'\nentries +4 \\(enforce 1, testing 1, none 0, no_record 1, failed 1, expired 0\\)\n' "stats: entries by state"
like "$OUT" $'\nfailing entries +fetch-connect 1\n' "stats: failing entries by reason"
like "$OUT" $'\nno policy +txt-no-record 1\n' "stats: entries publishing no policy, apart"
like "$OUT" $'\nfailures +TXT lookup 0, fetch 1, invalid policy 0, ' "stats: no-record is not among the failures"

# refresh in the running daemon: the policy is fetched again at once.
before=$(fetch_count mta-sts.good.test)
ctl refresh good.test --json
is "$RC" 0 "refresh: exit 0"
is "$(jq_ "$OUT" '[d["ok"], d["command"], d["domain"], d["daemon"]]')" '[true, "refresh", "good.test", true]' \
    "refresh --json: done by the daemon"
is "$(eventually 5 $((before + 1)) fetch_count mta-sts.good.test)" "$((before + 1))" "refresh: one more fetch"
ctl refresh unknown.test
is "$RC" 1 "refresh of a domain not in the cache: exit 1"
is "$ERR" "mtastsctl: mtastsd: domain not in the cache" "refresh: the daemon's reason"
ctl refresh --all --json
is "$(jq_ "$OUT" '[d["command"], d["domain"], d["entries"], d["daemon"]]')" '["refresh", null, 4, true]' \
    "refresh --all: every entry scheduled"

# Refused peers: the socket's mode, then the daemon's peer check.
ctl_as_nobody() {
	OUT=$(nsx setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$CTL" -c "$W/mtastsd.conf" "$@" 2>"$W/ctl.err")
	RC=$?
	ERR=$(cat "$W/ctl.err")
}
ctl_as_nobody stats
is "$RC" 77 "stats as another user: exit 77"
like "$ERR" "permission denied on the control socket $W/control.sock" "stats as another user: why"
chmod 666 "$W/control.sock"
ctl_as_nobody stats
is "$RC" 77 "stats as another user through an open socket: the daemon refuses (SO_PEERCRED)"
like "$ERR" 'mtastsd refused the request: permission denied' "the daemon's refusal is shown"
ctl_as_nobody list
is "$(head -n 1 <<<"$ERR")" "mtastsctl: could not ask the daemon to write its cache: mtastsd refused the request: permission denied (only root and mtastsd's user may use $W/control.sock); showing the file as it is" \
    "list refused the sync: the file is shown as it is, and said so"
chmod 660 "$W/control.sock"

# forget and flush in the running daemon.
ctl forget good.test
is "$RC" 0 "forget: exit 0"
is "$OUT" "good.test: forgotten by mtastsd" "forget: message"
ctl show good.test
is "$RC" 1 "forget: the entry is gone"
ctl forget good.test
is "$RC" 1 "forget twice: exit 1"
ctl query good.test
is "$OUT" "OK secure match=mx1.good.test:.good.test servername=hostname" "forgotten domain is discovered again"
ctl flush --json
is "$(jq_ "$OUT" '[d["ok"], d["command"], d["daemon"], d["entries"]]')" '[true, "flush", true, 4]' \
    "flush --json: the 4 entries the daemon dropped"
ctl list --json
is "$(jq_ "$OUT" 'd["entries"]')" '[]' "flush: the cache is empty"

# The daemon cannot write its cache (another program locks the file): list
# says that it shows the file as it is.
"$PYTHON" -c 'import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
end = time.time() + 60
while not os.path.exists(sys.argv[3]) and time.time() < end:
	time.sleep(0.05)' "$W/cache.db" "$W/locked" "$W/unlock" &
LOCKER=$!
wait_for 5 test -e "$W/locked" || bail "could not lock $W/cache.db"
ctl query nosts.test
ctl list --json
is "$(jq_ "$OUT" 'd["entries"]')" '[]' "file locked: list shows the file as it is"
is "$ERR" "mtastsctl: could not ask the daemon to write its cache: mtastsd: the cache file could not be written; showing the file as it is" \
    "file locked: list warns that the file is stale (the daemon says its sync failed)"
: >"$W/unlock"
wait "$LOCKER"
ctl list --json
is "$(jq_ "$OUT" '[e["domain"] for e in d["entries"]]')" '["nosts.test"]' "lock released: the daemon writes its cache again"
is "$ERR" "" "lock released: no warning"
ctl forget nosts.test

# The daemon stopped: inspection from the file, actions on the file.
ctl query good.test
ctl query good.test
ctl query test.test
ctl query test.test
daemon_stop
ctl stats
is "$RC" 69 "stats with the daemon stopped: exit 69"
ctl list --json
is "$RC" 0 "list with the daemon stopped: exit 0"
is "$(jq_ "$OUT" '[d["daemon_running"], [e["domain"] for e in d["entries"]]]')" '[false, ["good.test", "test.test"]]' \
    "list with the daemon stopped: read from the file"
ctl show good.test --json
is "$(jq_ "$OUT" '[d["state"], d["queries"], d["daemon_running"]]')" '["active", 2, false]' \
    "show with the daemon stopped"
is "$(jq_ "$OUT" 'd["policy_text"]')" "$POLICY_GOOD" "show with the daemon stopped: the policy text"
ctl refresh good.test
is "$RC" 0 "refresh with the daemon stopped: exit 0"
is "$OUT" "mtastsd is not running: marked good.test due in $W/cache.db (txt_checked_at=0, refresh_at=1, retry_at=0); mtastsd refreshes it when it starts" \
    "refresh with the daemon stopped: says what it did"
is "$(sql "SELECT txt_checked_at, refresh_at, retry_at FROM domains WHERE domain = 'good.test'")" "0|1|0" \
    "refresh with the daemon stopped: the row is due"
ctl refresh unknown.test
is "$RC" 1 "refresh of an unknown domain, daemon stopped: exit 1"
ctl forget test.test --json
is "$(jq_ "$OUT" '[d["command"], d["domain"], d["daemon"], d["entries"], d["cache_file"]]')" \
    "[\"forget\", \"test.test\", false, 1, \"$W/cache.db\"]" "forget with the daemon stopped"
is "$(sql "SELECT count(*) FROM domains WHERE domain = 'test.test'")" 0 "forget with the daemon stopped: the row is gone"

# The daemon picks the due entry up when it starts.
before=$(fetch_count mta-sts.good.test)
daemon_start
is "$(eventually 5 $((before + 1)) fetch_count mta-sts.good.test)" "$((before + 1))" \
    "a refresh marked while stopped runs when the daemon starts"
daemon_stop
ctl flush
is "$RC" 0 "flush with the daemon stopped: exit 0"
is "$OUT" "mtastsd is not running: removed 1 entry from $W/cache.db" "flush with the daemon stopped: message"
is "$(sql "SELECT count(*) FROM domains")" 0 "flush with the daemon stopped: the table is empty"

done_testing
