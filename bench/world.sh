# world.sh: the bench world, sourced by bench/run.
#
# A network namespace of its own holding nsd (authoritative for the zone
# "bench.") on 127.0.0.53:53 and nginx on 127.0.0.1:443 serving the policy
# of every generated domain dNNNNN.bench (BENCH_DOMAINS of them) at
# https://mta-sts.dNNNNN.bench/.well-known/mta-sts.txt, with certificates
# from a CA made at bench time (100 names per certificate).  Each domain
# publishes:
#
#	_mta-sts.dNNNNN.bench.	TXT	"v=STSv1; id=$BENCH_ID"
#	mta-sts.dNNNNN.bench.	A	127.0.0.1
#	policy: enforce, mx mx1.dNNNNN.bench and *.dNNNNN.bench, max_age 86400
#
# Everything lives under $W; world_stop (the EXIT trap) kills what was
# started and deletes the namespace, whatever happens.  Ideas from
# tests/e2e/lib.sh; nothing here depends on it.

DNS_ADDR=127.0.0.53
WEB_ADDR=127.0.0.1
BENCH_ID=20240101
BENCH_GROUP=100			# names per certificate (d + 3 digits + 2 digits)

# Fixed reply for the policy above (mtastsd, default zone options).
bench_reply() {
	printf 'OK secure match=mx1.%s:.%s servername=hostname' "$1" "$1"
}

say() {
	printf '%s %s\n' "$(date +%T)" "$*" >&2
}

bail() {
	say "FATAL: $*"
	exit 1
}

nsx() {
	ip netns exec "$NS" "$@"
}

# bg_start LABEL CMD...: start CMD in the namespace in the background;
# output to $W/log/LABEL.log, pid to $W/pids/LABEL.
bg_start() {
	local label=$1
	shift
	ip netns exec "$NS" "$@" >>"$W/log/$label.log" 2>&1 &
	echo $! >"$W/pids/$label"
}

bg_pid() {
	cat "$W/pids/$1" 2>/dev/null
}

# bg_stop LABEL: TERM, wait up to 5 s, then KILL.
bg_stop() {
	local label=$1 pid i
	[ -f "$W/pids/$label" ] || return 0
	pid=$(cat "$W/pids/$label")
	rm -f "$W/pids/$label"
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

now_ms() {
	local t
	t=$(date +%s%N)
	echo $((t / 1000000))
}

# wait_for SECS CMD...: retry CMD every 50 ms; 1 on timeout.
wait_for() {
	local secs=$1 end
	shift
	end=$(($(now_ms) + secs * 1000))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

port_open() {
	nsx bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# world_start: temp dir, namespace, resolv.conf for the namespace.
world_start() {
	W=$(mktemp -d /tmp/mtasts-bench.XXXXXX) || bail "mktemp failed"
	chmod 755 "$W"
	mkdir -p "$W/log" "$W/pids" "$W/dns" "$W/certs" "$W/nginx/tmp" \
	    "$W/keys" "$W/run"
	NS="mtasts-bench-$$"
	trap world_stop EXIT
	trap 'exit 130' INT TERM
	ip netns add "$NS" || bail "ip netns add $NS failed"
	nsx ip link set lo up || bail "lo up failed"
	# ip netns exec bind-mounts /etc/netns/NS/* over /etc: the peer's
	# resolver (c-ares) reads /etc/resolv.conf.
	mkdir -p "/etc/netns/$NS"
	echo "nameserver $DNS_ADDR" >"/etc/netns/$NS/resolv.conf"
}

world_stop() {
	local st=$? f pid
	trap - EXIT
	if [ -n "${W:-}" ]; then
		for f in "$W"/pids/*; do
			[ -f "$f" ] || continue
			bg_stop "$(basename "$f")"
		done
	fi
	if [ -n "${NS:-}" ]; then
		# Whatever still runs in our namespace was started by us.
		for pid in $(ip netns pids "$NS" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$NS" 2>/dev/null
		rm -rf "/etc/netns/$NS"
	fi
	if [ -n "${W:-}" ]; then
		if [ -n "${BENCH_KEEP:-}" ]; then
			say "kept $W"
		else
			rm -rf "$W"
		fi
	fi
	exit "$st"
}

# domain I: the name of generated domain number I.
domain() {
	printf 'd%05d.bench' "$1"
}

# keys FILE FIRST COUNT: write COUNT domain names from number FIRST.
keys() {
	awk -v a="$2" -v n="$3" \
	    'BEGIN { for (i = a; i < a + n; i++) printf "d%05d.bench\n", i }' \
	    >"$1"
}

# ---------------------------------------------------------------- certificates

# certs_make: the CA, one EC key for every leaf, and one certificate per
# group of BENCH_GROUP domains (mta-sts.dGGG00.bench .. dGGG99.bench).
certs_make() {
	local groups g
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$W/certs/ca.key" -out "$W/certs/ca.pem" -days 7 \
	    -subj "/CN=mtastsd bench CA" >>"$W/log/openssl.log" 2>&1 ||
	    bail "CA failed"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$W/certs/leaf.key" >>"$W/log/openssl.log" 2>&1 ||
	    bail "leaf key failed"
	openssl req -new -key "$W/certs/leaf.key" -subj "/CN=mtasts bench" \
	    -out "$W/certs/leaf.csr" >>"$W/log/openssl.log" 2>&1 ||
	    bail "csr failed"
	groups=$(((BENCH_DOMAINS + BENCH_GROUP - 1) / BENCH_GROUP))
	for ((g = 0; g < groups; g++)); do
		awk -v g="$g" 'BEGIN {
			printf "subjectAltName=";
			for (i = 0; i < 100; i++)
				printf "%sDNS:mta-sts.d%03d%02d.bench", i ? "," : "", g, i;
			printf "\nbasicConstraints=CA:FALSE\n";
			printf "extendedKeyUsage=serverAuth\n";
			printf "keyUsage=digitalSignature\n";
		}' >"$W/certs/g$g.ext"
		echo "$g"
	done | xargs -P 2 -I{} openssl x509 -req -in "$W/certs/leaf.csr" \
	    -CA "$W/certs/ca.pem" -CAkey "$W/certs/ca.key" -set_serial "1{}" \
	    -days 7 -extfile "$W/certs/g{}.ext" -out "$W/certs/g{}.pem" \
	    >>"$W/log/openssl.log" 2>&1 || bail "leaf certificates failed"
	CA_FILE="$W/certs/ca.pem"
}

# ---------------------------------------------------------------- DNS

dns_start() {
	cat >"$W/dns/nsd.conf" <<EOF
server:
	ip-address: $DNS_ADDR
	port: 53
	username: ""
	chroot: ""
	zonesdir: "$W/dns"
	database: ""
	zonelistfile: "$W/dns/zone.list"
	xfrdfile: "$W/dns/xfrd.state"
	xfrdir: "$W/dns"
	pidfile: "$W/dns/nsd.pid"
	verbosity: 0
	hide-version: yes
	server-count: 1
	reuseport: no
	do-ip6: no
	round-robin: no
	# Response rate limiting (200 qps per source by default) would drop
	# the bench's queries: both daemons query from 127.0.0.1.
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: "bench."
	zonefile: "$W/dns/bench.zone"
EOF
	awk -v n="$BENCH_DOMAINS" -v id="$BENCH_ID" -v web="$WEB_ADDR" \
	    -v dns="$DNS_ADDR" 'BEGIN {
		print "$ORIGIN bench.";
		print "@\t3600\tIN\tSOA\tns.bench. hostmaster.bench. 1 3600 600 86400 3600";
		print "@\t3600\tIN\tNS\tns.bench.";
		print "ns\t3600\tIN\tA\t" dns;
		for (i = 0; i < n; i++) {
			d = sprintf("d%05d", i);
			printf "_mta-sts.%s\t3600\tIN\tTXT\t\"v=STSv1; id=%s\"\n", d, id;
			printf "mta-sts.%s\t3600\tIN\tA\t%s\n", d, web;
			printf "%s\t3600\tIN\tMX\t10 mx1.%s.bench.\n", d, d;
		}
	}' >"$W/dns/bench.zone"
	bg_start nsd nsd -d -c "$W/dns/nsd.conf"
	wait_for 10 nsx drill -Q @"$DNS_ADDR" TXT "_mta-sts.$(domain 0)" ||
	    bail "nsd does not answer (see $W/log/nsd.log)"
}

# ---------------------------------------------------------------- web

web_start() {
	local groups g
	groups=$(((BENCH_DOMAINS + BENCH_GROUP - 1) / BENCH_GROUP))
	{
		cat <<EOF
user root root;
worker_processes 1;
daemon off;
pid $W/nginx/nginx.pid;
error_log $W/log/nginx-error.log warn;
worker_rlimit_nofile 8192;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $W/nginx/tmp/body;
	proxy_temp_path $W/nginx/tmp/proxy;
	fastcgi_temp_path $W/nginx/tmp/fastcgi;
	uwsgi_temp_path $W/nginx/tmp/uwsgi;
	scgi_temp_path $W/nginx/tmp/scgi;
	keepalive_timeout 10s;
	server_tokens off;
EOF
		for ((g = 0; g < groups; g++)); do
			cat <<EOF
	server {
		listen $WEB_ADDR:443 ssl$([ "$g" -eq 0 ] && echo " default_server");
		server_name ~^mta-sts\.(?<dom>d$(printf %03d "$g")\d\d\.bench)\$;
		ssl_certificate $W/certs/g$g.pem;
		ssl_certificate_key $W/certs/leaf.key;
		location = /.well-known/mta-sts.txt {
			default_type text/plain;
			return 200 "version: STSv1\nmode: enforce\nmx: mx1.\$dom\nmx: *.\$dom\nmax_age: 86400\n";
		}
		location / { return 404; }
	}
EOF
		done
		echo "}"
	} >"$W/nginx/nginx.conf"
	nsx nginx -t -q -c "$W/nginx/nginx.conf" -e "$W/log/nginx-error.log" ||
	    bail "nginx config invalid (see $W/nginx/nginx.conf)"
	bg_start nginx nginx -c "$W/nginx/nginx.conf" -e "$W/log/nginx-error.log"
	wait_for 10 port_open "$WEB_ADDR" 443 || bail "nginx does not listen"
}

# https_check DOMAIN: fetch one policy as a strict client would.
https_check() {
	nsx curl -sS --max-time 5 --cacert "$CA_FILE" \
	    --resolve "mta-sts.$1:443:$WEB_ADDR" \
	    "https://mta-sts.$1/.well-known/mta-sts.txt"
}

# ---------------------------------------------------------------- cache files

# cache_fill FILE FIRST COUNT PREFIX TXT_AGE: a cache file (schema version
# 1, doc/cache-schema.md) holding COUNT domains PREFIX%05d.bench (or
# %06d when PREFIX is "m") with a fresh enforce policy fetched now, id
# $BENCH_ID, and the TXT record last checked TXT_AGE seconds ago.
cache_fill() {
	local file=$1 first=$2 count=$3 prefix=$4 age=$5 fmt now
	now=$(date +%s)
	case $prefix in
	m) fmt="m%06d.bench" ;;
	*) fmt="$prefix%05d.bench" ;;
	esac
	rm -f "$file" "$file-wal" "$file-shm"
	sqlite3 "$file" <<EOF || bail "cache_fill $file failed"
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE domains (
	domain TEXT PRIMARY KEY NOT NULL, policy_id TEXT, policy_text TEXT,
	mode TEXT, max_age INTEGER, mx TEXT,
	fetched_at INTEGER NOT NULL DEFAULT 0,
	expires_at INTEGER NOT NULL DEFAULT 0,
	txt_checked_at INTEGER NOT NULL DEFAULT 0,
	txt_ttl INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL DEFAULT 'failed',
	reason TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',
	last_error_at INTEGER NOT NULL DEFAULT 0,
	retry_at INTEGER NOT NULL DEFAULT 0,
	failures INTEGER NOT NULL DEFAULT 0,
	refresh_at INTEGER NOT NULL DEFAULT 0,
	last_query_at INTEGER NOT NULL DEFAULT 0,
	queries INTEGER NOT NULL DEFAULT 0);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT $first UNION ALL SELECT i + 1 FROM n
    WHERE i < $first + $count - 1),
d(name) AS (SELECT printf('$fmt', i) FROM n)
INSERT INTO domains (domain, policy_id, policy_text, mode, max_age, mx,
    fetched_at, expires_at, txt_checked_at, txt_ttl, status, refresh_at,
    last_query_at, queries)
SELECT name, '$BENCH_ID',
    'version: STSv1' || char(10) || 'mode: enforce' || char(10) ||
    'mx: mx1.' || name || char(10) || 'mx: *.' || name || char(10) ||
    'max_age: 86400' || char(10),
    'enforce', 86400, 'mx1.' || name || ':*.' || name,
    $now, $now + 86400, $now - $age, 3600, 'ok', $now + 86400, $now, 1
FROM d;
COMMIT;
EOF
}
