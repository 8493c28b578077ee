#!/bin/bash
# t-73-storage: the cache file under attack.  Its directory missing
# (created), read-only (empty: run from memory; holding a good cache: its
# policies still answered), a corrupt file (run from memory, the file left
# as it was), the disk filling up (a small tmpfs in the daemon's own mount
# namespace: the daemon keeps answering from memory, says so, and writes
# everything once space is back), and kill -9 in the middle of a write
# storm (200 domains discovered and queried): after a restart the file
# passes PRAGMA integrity_check and every policy stored before the kill is
# still there and answered from the file.  Ends with the survival checks.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib-hostile.sh"
need sqlite3

world_start

STORM=200
sts_domain fast.test 1 enforce 86400 mx.fast.test
sans=
for i in $(seq $STORM); do
	sans+=" mta-sts.s$i.test"
done
cert_make storm $sans
for i in $(seq $STORM); do
	dns_add _mta-sts.s$i.test TXT '"v=STSv1; id=1"'
	dns_add mta-sts.s$i.test A "$WEB_ADDR"
	site mta-sts.s$i.test cert=storm
	policy_std mta-sts.s$i.test enforce 86400 mx.s$i.test
	echo "s$i.test"
done >"$W/storm.keys"
commit

FAST=$(sec mx.fast.test)

# sq FILE SQL: sqlite3 -readonly on FILE; dsq the same inside the
# daemon's mount namespace (its private tmpfs).
sq() {
	sqlite3 -readonly "$1" "$2" 2>&1
}
dsq() {
	nsenter -t "$(dpid)" -m sqlite3 -readonly "$1" "$2" 2>&1
}
policies() {
	sq "$1" "SELECT domain FROM domains WHERE policy_text IS NOT NULL ORDER BY domain"
}

# --- The cache directory does not exist: it is created.
conf_set cache-file "$W/missing/a/b/cache.db"
daemon_start
both fast.test "$FAST" "missing directory: answered"
log_has "event=cache-open file=$W/missing/a/b/cache.db"
ok $? "missing directory: created, cache opened"
daemon_stop
is "$(policies "$W/missing/a/b/cache.db")" "fast.test" "missing directory: the policy reached the new file"
cp "$W/missing/a/b/cache.db" "$W/good.db"

# --- A corrupt file: run from memory, never touch the file.
head -c 65536 /dev/urandom >"$W/corrupt.db"
sum0=$(md5sum <"$W/corrupt.db")
conf_set cache-file "$W/corrupt.db"
daemon_start
log_has "event=cache-unusable file=$W/corrupt.db .*running from memory only"
ok $? "corrupt file: logged as unusable, running from memory"
both fast.test "$FAST" "corrupt file: discovered and answered"
timed r qraw fast.test
is "$r" "$FAST" "corrupt file: then answered from memory"
within "$r_ms" 1000 "corrupt file: at once"
daemon_stop
is "$(md5sum <"$W/corrupt.db")" "$sum0" "corrupt file: left exactly as it was"

# A real cache file whose pages after the first are overwritten.
cp "$W/good.db" "$W/damaged.db"
dd if=/dev/urandom of="$W/damaged.db" bs=4096 seek=1 count=1 conv=notrunc 2>/dev/null
conf_set cache-file "$W/damaged.db"
daemon_start
log_has "event=cache-unusable file=$W/damaged.db .*(malformed|not a database)"
ok $? "damaged pages: logged as unusable"
both fast.test "$FAST" "damaged pages: answered"
daemon_stop

# --- Read-only directory (a read-only bind mount in the daemon's own
# mount namespace), first empty, then holding the good cache.
mkdir -p "$W/ro"
conf_set cache-file "$W/ro/cache.db"
daemon_start_with "mount --bind $W/ro $W/ro && mount -o remount,bind,ro $W/ro"
log_has "event=cache-unusable file=$W/ro/cache.db"
ok $? "read-only empty directory: logged as unusable, running from memory"
both fast.test "$FAST" "read-only empty directory: answered"
daemon_stop
cp "$W/good.db" "$W/ro/cache.db"
web_stop
dns_stop
daemon_start_with "mount --bind $W/ro $W/ro && mount -o remount,bind,ro $W/ro"
log_has "event=cache-read-only file=$W/ro/cache.db .*entries=1"
ok $? "read-only directory with a cache: its entries loaded, logged"
timed r qraw fast.test
is "$r" "$FAST" "read-only cache, DNS and web gone: the stored policy answered"
within "$r_ms" 1000 "read-only cache: at once"
daemon_stop
dns_commit
web_resume

# --- The disk fills up: a 512 KiB tmpfs for the cache.
mkdir -p "$W/small"
conf_set cache-file "$W/small/cache.db"
daemon_start_with "mount -t tmpfs -o size=512k tmpfs $W/small"
both fast.test "$FAST" "small disk: first policy"
hostile_begin
SMALL=$(daemon_root "$W/small")
dd if=/dev/zero of="$SMALL/filler" bs=4k 2>/dev/null
head -n 40 "$W/storm.keys" >"$W/full.keys"
crowd -t 20 each postfix "$W/full.keys" >"$W/full.out"
bad=$(awk '{d=$1; sub(/\.test$/,"",d); w="OK secure match=mx." d ".test servername=hostname"; r=$0; sub(/^[^ ]* /,"",r); if (r != w) n++} END {print n+0}' "$W/full.out")
is "$bad" 0 "disk full: 40 new domains discovered and answered"
wait_for 5 log_has 'event=cache-write-failed'
ok $? "disk full: the failed write is logged (event=cache-write-failed)"
log_has 'write failed error="database or disk is full"'
ok $? "disk full: SQLite's reason logged"
timed r qraw s1.test
is "$r" "$(sec mx.s1.test)" "disk full: answered from memory"
within "$r_ms" 1000 "disk full: at once"
rm -f "$SMALL/filler"
wait_for 5 log_has 'writes work again'
ok $? "space back: writes work again (logged)"
sleep 1.2
is "$(dsq "$W/small/cache.db" 'PRAGMA integrity_check')" ok "space back: integrity_check ok"
is "$(dsq "$W/small/cache.db" 'SELECT count(*) FROM domains WHERE policy_text IS NOT NULL')" 41 \
    "space back: all 41 policies written"
hostile_end fast.test "$FAST"
daemon_stop

# --- kill -9 during a write storm: the first half of the domains is
# queried over and over (each query changes the entry: every flush writes
# them all again) while the second half is being discovered.
conf_set cache-file "$W/storm.db"
daemon_start
both fast.test "$FAST" "storm: first policy"
half=$((STORM / 2))
head -n $half "$W/storm.keys" >"$W/wave1.keys"
tail -n +$((half + 1)) "$W/storm.keys" >"$W/wave2.keys"
touch "$W/storm.run"
(
	while [ -f "$W/storm.run" ]; do
		crowd -t 10 each postfix "$W/wave1.keys" >/dev/null
	done
) &
storm=$!
wait_for 10 sh -c "[ \$(sqlite3 -readonly $W/storm.db 'SELECT count(*) FROM domains WHERE policy_text IS NOT NULL' 2>/dev/null || echo 0) -gt $half ]"
crowd -t 10 each postfix "$W/wave2.keys" >/dev/null &
wave2=$!
sleep 0.5
policies "$W/storm.db" >"$W/before-kill"
daemon_stop KILL
rm -f "$W/storm.run"
n_before=$(wc -l <"$W/before-kill")
diag "policies stored before kill -9: $n_before of $((STORM + 1))"
wait $storm $wave2
ok $([ "$n_before" -gt "$half" ]; echo $?) "storm: killed with policies stored ($n_before)"
web_stop
daemon_start
is "$(sq "$W/storm.db" 'PRAGMA integrity_check')" ok "after kill -9: integrity_check ok"
policies "$W/storm.db" >"$W/after-kill"
missing=$(comm -23 "$W/before-kill" "$W/after-kill" | wc -l)
is "$missing" 0 "after kill -9: every policy stored before the kill is still in the file"
awk '{print $1}' "$W/before-kill" >"$W/check.keys"
crowd -t 20 each postfix "$W/check.keys" >"$W/check.out"
bad=$(awk '{d=$1; sub(/\.test$/,"",d); w="OK secure match=mx." d ".test servername=hostname"; r=$0; sub(/^[^ ]* /,"",r); if (r != w) n++} END {print n+0}' "$W/check.out")
is "$bad" 0 "after kill -9, web gone: all $n_before stored policies answered from the file"

done_testing
