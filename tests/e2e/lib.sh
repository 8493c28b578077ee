# lib.sh: the end-to-end test world for mtastsd, sourced by tests/e2e/t-*.sh.
#
# Each scenario builds a private world inside a network namespace of its
# own: nsd (authoritative DNS) on 127.0.0.53:53, nginx on 127.0.0.1:443 and
# [::1]:443 with certificates from a CA made at test time, the daemon on
# 127.0.0.1:8461, and the real Postfix client (postmap).  Everything lives
# in one temp dir; an EXIT trap kills what was started and deletes the
# namespace, whatever happens.  Output is TAP.
#
# Usage in a scenario (bash):
#	. "$(dirname "$0")/lib.sh"
#	world_start
#	sts_domain good.test 1 enforce 86400 mx1.good.test '*.good.test'
#	dns_commit; web_commit; daemon_start
#	is "$(q good.test)" "secure match=mx1.good.test:.good.test servername=hostname" "enforce"
#	done_testing
#
# The helpers, by family (each is documented where it is defined):
#   TAP      plan ok is like skip skip_all bail diag done_testing
#   time     now_ms wait_for eventually timed
#   world    world_start (skip unless root with nsd, nginx, postmap,
#            openssl, drill, python3), world_stop (the EXIT trap), nsx,
#            bg_start/bg_stop/bg_alive
#   certs    cert_make LABEL [expired] [ca=untrusted] [cn=NAME] SAN...
#   DNS      dns_zone [neg=SECS] [broken], dns_zone_break/fix/drop,
#            dns_add [ttl=SECS] OWNER TYPE RDATA, dns_del, txt_set,
#            dns_commit, dns_stop, dns_sink (queries time out),
#            dns_txt, dns_rcode
#   web      site HOST [cert=] [type=|type=none] [status=] [redirect=CODE:URL]
#            [chunked], policy, policy_std, policy_remove, sts_domain,
#            web_commit, web_stop, commit (DNS + web), pysite (httpsd.py
#            for the odd servers), http_resp, fetch_count, pyconn_count,
#            https_get (curl, for t-00)
#   daemon   conf_set NAME VALUE, conf_zone "NAME k=v...", daemon_start,
#            daemon_stop [KILL], daemon_restart
#   clients  q (postmap), qraw (smq.py: exact payload), smq, both (assert
#            both), sec (the enforce reply), $NF ("NOTFOUND ")
#
# Set E2E_KEEP=1 to keep the temp dir (its path is printed as a diag line).
# On failure the daemon's whole log is kept as tests/e2e/NAME.daemon.log.

if [ -z "${BASH_VERSION:-}" ]; then
	echo "lib.sh needs bash" >&2
	exit 99
fi

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
E2E_DIR="$top_srcdir/tests/e2e"
E2E_NAME=$(basename "$0" .sh)
MTASTSD="${MTASTSD:-$top_builddir/mtastsd}"
if [ -x /usr/bin/python3 ]; then
	PYTHON=${PYTHON:-/usr/bin/python3}
else
	PYTHON=${PYTHON:-python3}
fi
export PATH="$PATH:/usr/sbin:/sbin"

# Addresses inside the namespace.
DNS_ADDR=127.0.0.53
WEB_ADDR=127.0.0.1
WEB_ADDR6=::1
DEAD_ADDR=127.0.0.9		# nothing listens here: connection refused
MAP_PORT=8461
EXIM_PORT=8462

# The default timings (small, so time-based scenarios take seconds).
DNS_TTL=1			# default TTL of every record
DNS_NEGTTL=1			# default SOA minimum (negative TTL)

# ---------------------------------------------------------------- TAP

T_N=0
T_FAIL=0
T_DONE=0
T_PLANNED=

plan() {
	T_PLANNED=$1
	echo "1..$1"
}

diag() {
	local line
	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

# ok COND-STATUS NAME: "ok 1 - NAME" when the status is 0.
ok() {
	local st=$1
	shift
	T_N=$((T_N + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $T_N - $*"
	else
		echo "not ok $T_N - $*"
		T_FAIL=$((T_FAIL + 1))
	fi
	return "$st"
}

# is GOT WANT NAME: exact string comparison; shows both on failure
# (between | marks, so trailing spaces are visible).
is() {
	local got=$1 want=$2
	shift 2
	if [ "$got" = "$want" ]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		diag "  got:  |$got|"
		diag "  want: |$want|"
		return 1
	fi
}

# like GOT REGEX NAME
like() {
	local got=$1 re=$2
	shift 2
	if [[ $got =~ $re ]]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		diag "  got:  |$got|"
		diag "  want match: $re"
		return 1
	fi
}

skip() {
	T_N=$((T_N + 1))
	echo "ok $T_N - # SKIP $*"
}

skip_all() {
	echo "1..0 # SKIP $*"
	T_DONE=1
	exit 0
}

bail() {
	echo "Bail out! $*"
	T_DONE=1
	exit 1
}

done_testing() {
	T_DONE=1
	if [ "$T_FAIL" -ne 0 ]; then
		e2e_failure_diag
	fi
	if [ -z "$T_PLANNED" ]; then
		echo "1..$T_N"
	fi
	exit $(( T_FAIL > 0 ? 1 : 0 ))
}

# ---------------------------------------------------------------- time

now_ms() {
	local t
	t=$(date +%s%N)
	echo $((t / 1000000))
}

# wait_for SECS CMD...: run CMD every 0.1 s until it succeeds; 1 on timeout.
wait_for() {
	local secs=$1 end
	shift
	end=$(( $(now_ms) + secs * 1000 ))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# eventually SECS WANT CMD...: run CMD every 0.3 s until its output is
# WANT or SECS pass; print the last output (compare it with is).
eventually() {
	local secs=$1 want=$2 end got
	shift 2
	end=$(( $(now_ms) + secs * 1000 ))
	while :; do
		got=$("$@")
		if [ "$got" = "$want" ] || [ "$(now_ms)" -ge "$end" ]; then
			printf '%s' "$got"
			return 0
		fi
		sleep 0.3
	done
}

# ---------------------------------------------------------------- setup

# Run a command inside the namespace.
nsx() {
	ip netns exec "$NS" "$@"
}

# bg_start LABEL CMD...: start CMD in the namespace in the background; its
# output goes to $W/log/LABEL.log and its pid to $W/pids/LABEL.
bg_start() {
	local label=$1
	shift
	ip netns exec "$NS" "$@" >>"$W/log/$label.log" 2>&1 &
	echo $! >"$W/pids/$label"
}

# bg_stop LABEL [SIGNAL]: stop a background process and wait for it.
bg_stop() {
	local label=$1 sig=${2:-TERM} pid i
	[ -f "$W/pids/$label" ] || return 0
	pid=$(cat "$W/pids/$label")
	rm -f "$W/pids/$label"
	kill -"$sig" "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -n "${E2E_DEBUG:-}" ] && echo "# bg_stop $label took $i tries" >&2
	return 0
}

bg_alive() {
	[ -f "$W/pids/$1" ] && kill -0 "$(cat "$W/pids/$1")" 2>/dev/null
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "needs $c"
	done
}

# world_start: check what is needed (skip otherwise), make the temp dir,
# the namespace, the CAs; register the cleanup.
world_start() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root"
	need ip nsd nginx postmap openssl drill "$PYTHON"
	W=$(mktemp -d "${TMPDIR:-/tmp}/mtastsd-e2e-$E2E_NAME.XXXXXX") || bail "mktemp failed"
	chmod 755 "$W"
	mkdir -p "$W/log" "$W/pids" "$W/dns" "$W/www" "$W/certs" \
	    "$W/nginx/tmp" "$W/postfix"
	# postmap waits while main.cf is less than a second old: make it old.
	: >"$W/postfix/main.cf"
	touch -d '2000-01-01 00:00:00' "$W/postfix/main.cf"
	NS="mtasts-$$-$E2E_NAME"
	rm -f "$top_builddir/tests/e2e/$E2E_NAME.daemon.log"
	# The EXIT trap may run inside a command whose output is redirected
	# (wait_for sends it to /dev/null): keep the real stdout/stderr.
	exec 7>&1 8>&2
	trap world_stop EXIT
	trap 'exit 130' INT TERM
	ip netns add "$NS" || bail "ip netns add $NS failed"
	nsx ip link set lo up || bail "lo up failed"
	ca_init
	DNS_ZONES=()
	WEB_SITES=()
	declare -gA CONF=()
	CONF_ZONES=()
	dns_zone test
	[ -n "${E2E_KEEP:-}" ] && diag "world in $W (namespace $NS)"
	return 0
}

# world_stop: kill everything started, delete the namespace and temp dir.
world_stop() {
	local st=$? f pid
	trap - EXIT
	exec 1>&7 2>&8
	if [ "$T_DONE" -eq 0 ] && [ -n "${W:-}" ]; then
		echo "not ok $((T_N + 1)) - $E2E_NAME ended early (status $st)"
		T_N=$((T_N + 1))
		T_FAIL=$((T_FAIL + 1))
		e2e_failure_diag
		echo "1..$T_N"
		st=1
	fi
	if [ -n "${W:-}" ]; then
		for f in "$W"/pids/*; do
			[ -f "$f" ] || continue
			bg_stop "$(basename "$f")"
		done
	fi
	if [ -n "${NS:-}" ]; then
		# Whatever still runs in our namespace was started by us.
		for pid in $(ip netns pids "$NS" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
		ip netns del "$NS" 2>/dev/null
	fi
	if [ -n "${W:-}" ] && [ -z "${E2E_KEEP:-}" ]; then
		rm -rf "$W"
	fi
	exit "$st"
}

# On failure, show the end of the daemon's log and keep all of it as
# tests/e2e/NAME.daemon.log in the build tree.
e2e_failure_diag() {
	local keep
	[ -n "${W:-}" ] || return 0
	if [ -s "$W/log/mtastsd.log" ]; then
		keep="$top_builddir/tests/e2e/$E2E_NAME.daemon.log"
		mkdir -p "$top_builddir/tests/e2e"
		cp "$W/log/mtastsd.log" "$keep" 2>/dev/null || keep="(not kept)"
		diag "--- last lines of the mtastsd log (all of it: $keep):"
		diag "$(tail -n 40 "$W/log/mtastsd.log")"
	fi
}

# ---------------------------------------------------------------- certificates

ca_conf() {
	local name=$1
	cat <<EOF
[ ca ]
default_ca = testca
[ testca ]
database = $W/certs/$name.db/index
serial = $W/certs/$name.db/serial
new_certs_dir = $W/certs/$name.db
certificate = $W/certs/$name.pem
private_key = $W/certs/$name.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
EOF
}

# ca_init: the trusted test CA (ca.pem, given to the daemon), a second CA
# nobody trusts (untrusted.pem), and one EC key shared by every leaf.
ca_init() {
	local ca
	for ca in ca untrusted; do
		mkdir -p "$W/certs/$ca.db"
		: >"$W/certs/$ca.db/index"
		echo 01 >"$W/certs/$ca.db/serial"
		ca_conf "$ca" >"$W/certs/$ca.cnf"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$W/certs/$ca.key" -out "$W/certs/$ca.pem" \
		    -days 30 -subj "/CN=mtastsd test $ca" \
		    >>"$W/log/openssl.log" 2>&1 || bail "CA $ca failed"
	done
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$W/certs/leaf.key" >>"$W/log/openssl.log" 2>&1 ||
	    bail "leaf key failed"
	CA_FILE="$W/certs/ca.pem"
}

# cert_make LABEL [expired] [ca=untrusted] [cn=NAME] SAN...: a leaf
# certificate $W/certs/LABEL.pem (key: $W/certs/leaf.key) with the DNS
# SANs given.  expired: valid 2020-2021 only.
cert_make() {
	local label=$1 ca=ca cn= expired= san= a
	shift
	for a in "$@"; do
		case $a in
		expired) expired=1 ;;
		ca=*) ca=${a#ca=} ;;
		cn=*) cn=${a#cn=} ;;
		*)
			san="${san:+$san,}DNS:$a"
			[ -n "$cn" ] || cn=$a
			;;
		esac
	done
	[ -n "$san" ] || bail "cert_make $label: no SAN"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' \
	    "$san" >"$W/certs/$label.ext"
	openssl req -new -key "$W/certs/leaf.key" -subj "/CN=$cn" \
	    -out "$W/certs/$label.csr" >>"$W/log/openssl.log" 2>&1 ||
	    bail "csr $label failed"
	if [ -n "$expired" ]; then
		set -- -startdate 20200101000000Z -enddate 20210101000000Z
	else
		set -- -days 30
	fi
	openssl ca -batch -notext -config "$W/certs/$ca.cnf" \
	    -in "$W/certs/$label.csr" -out "$W/certs/$label.pem" \
	    -extfile "$W/certs/$label.ext" "$@" \
	    >>"$W/log/openssl.log" 2>&1 || bail "cert $label failed"
}

# ---------------------------------------------------------------- DNS

# dns_zone NAME [neg=SECS] [broken]: serve zone NAME (no final dot).
# neg= sets the SOA minimum and SOA TTL (the negative TTL); broken = the
# zone is configured but its file is missing, so nsd answers SERVFAIL.
dns_zone() {
	local z=$1 a
	shift
	DNS_ZONES+=("$z")
	echo "$DNS_NEGTTL" >"$W/dns/$z.neg"
	rm -f "$W/dns/$z.broken"
	[ -f "$W/dns/$z.rr" ] || : >"$W/dns/$z.rr"
	for a in "$@"; do
		case $a in
		neg=*) echo "${a#neg=}" >"$W/dns/$z.neg" ;;
		broken) : >"$W/dns/$z.broken" ;;
		*) bail "dns_zone: bad option $a" ;;
		esac
	done
}

# dns_zone_break NAME / dns_zone_fix NAME: SERVFAIL for the whole zone from
# the next dns_commit on / serve it again.
dns_zone_break() { : >"$W/dns/$1.broken"; }
dns_zone_fix() { rm -f "$W/dns/$1.broken"; }

# dns_zone_drop NAME: stop serving the zone: nsd answers REFUSED (when no
# parent zone is served).
dns_zone_drop() {
	local z out=()
	for z in "${DNS_ZONES[@]}"; do
		[ "$z" = "$1" ] || out+=("$z")
	done
	DNS_ZONES=("${out[@]}")
}

# The served zone holding a name: the longest zone suffix.
dns_zone_of() {
	local name=$1 z best=
	for z in "${DNS_ZONES[@]}"; do
		if [ "$name" = "$z" ] || [[ $name == *."$z" ]]; then
			[ ${#z} -gt ${#best} ] && best=$z
		fi
	done
	[ -n "$best" ] || bail "no zone serves $name"
	echo "$best"
}

# dns_add [ttl=SECS] OWNER TYPE RDATA...: add a record (OWNER without the
# final dot; names in RDATA must be absolute, with the final dot).
dns_add() {
	local ttl=$DNS_TTL z
	case $1 in ttl=*) ttl=${1#ttl=}; shift ;; esac
	z=$(dns_zone_of "$1")
	printf '%s.\t%s\tIN\t%s\t%s\n' "$1" "$ttl" "$2" "${*:3}" >>"$W/dns/$z.rr"
}

# dns_del OWNER [TYPE]: remove the records of OWNER (of that TYPE).
dns_del() {
	local z
	z=$(dns_zone_of "$1")
	awk -F '\t' -v o="$1." -v t="${2:-}" \
	    '!($1 == o && (t == "" || $4 == t))' "$W/dns/$z.rr" >"$W/dns/$z.tmp"
	mv "$W/dns/$z.tmp" "$W/dns/$z.rr"
}

# txt OWNER STRING [ttl=SECS]: replace the TXT records of OWNER by one.
txt_set() {
	local owner=$1 s=$2
	shift 2
	dns_del "$owner" TXT
	dns_add "$@" "$owner" TXT "\"$s\""
}

DNS_SERIAL=1

# dns_commit: write the zone files and nsd.conf, (re)start nsd, wait until
# it answers.
dns_commit() {
	local z neg
	DNS_SERIAL=$((DNS_SERIAL + 1))
	{
		cat <<EOF
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
	verbosity: 1
	hide-version: yes
	server-count: 1
	reuseport: no
	do-ip6: no
	round-robin: no
remote-control:
	control-enable: yes
	control-interface: "$W/dns/nsd.ctl"
EOF
		for z in "${DNS_ZONES[@]}"; do
			printf 'zone:\n\tname: "%s."\n\tzonefile: "%s/dns/%s.zone"\n' \
			    "$z" "$W" "$z"
		done
	} >"$W/dns/nsd.conf"
	for z in "${DNS_ZONES[@]}"; do
		rm -f "$W/dns/$z.zone"
		[ -f "$W/dns/$z.broken" ] && continue
		neg=$(cat "$W/dns/$z.neg")
		{
			printf '$ORIGIN %s.\n' "$z"
			printf '@\t%s\tIN\tSOA\tns.test. hostmaster.test. %s 3600 600 86400 %s\n' \
			    "$neg" "$DNS_SERIAL" "$neg"
			printf '@\t%s\tIN\tNS\tns.test.\n' "$neg"
			[ "$z" = test ] && printf 'ns\t3600\tIN\tA\t%s\n' "$DNS_ADDR"
			cat "$W/dns/$z.rr"
		} >"$W/dns/$z.zone"
	done
	# Same zones as the running nsd: reload in place (no query is lost).
	# Otherwise restart it.
	local zones
	zones=$(cd "$W/dns" && for z in "${DNS_ZONES[@]}"; do
		echo "$z $([ -f "$z.broken" ] && echo broken)"; done)
	if bg_alive nsd && [ "$zones" = "$(cat "$W/dns/zones.running" 2>/dev/null)" ]; then
		nsx nsd-control -c "$W/dns/nsd.conf" reload >>"$W/log/nsd.log" 2>&1 ||
		    bail "nsd-control reload failed"
	else
		dns_stop
		bg_start nsd nsd -d -c "$W/dns/nsd.conf"
		echo "$zones" >"$W/dns/zones.running"
	fi
	# Wait for the new serial.  A query sent while nsd starts may be lost;
	# drill would then wait 5 s, so each probe is cut short.
	wait_for 5 dns_serial_is "$DNS_SERIAL" ||
	    bail "nsd does not answer (see $W/log/nsd.log)"
}

dns_serial_is() {
	[ "$(timeout 0.5 ip netns exec "$NS" drill -Q @"$DNS_ADDR" SOA test. |
	    awk '{print $3}')" = "$1" ]
}

dns_stop() {
	rm -f "$W/dns/zones.running"
	bg_stop nsd
	bg_stop dnssink
}

# dns_sink: nothing answers on the resolver address (queries time out).
dns_sink() {
	dns_stop
	bg_start dnssink "$PYTHON" -c '
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("'"$DNS_ADDR"'", 53))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.bind(("'"$DNS_ADDR"'", 53))
t.listen(64)
print("ready", flush=True)
while True:
	u.recvfrom(4096)
'
	wait_for 5 grep -q ready "$W/log/dnssink.log" || bail "dns sink failed"
}

# dig-like check used by t-00: print the TXT strings of a name.
dns_txt() {
	nsx drill -Q @"$DNS_ADDR" TXT "$1"
}

# dns_rcode NAME [TYPE]: the rcode nsd gives.
dns_rcode() {
	nsx drill @"$DNS_ADDR" "${2:-TXT}" "$1" 2>/dev/null |
	    sed -n 's/.*rcode: \([A-Z]*\),.*/\1/p'
}

# ---------------------------------------------------------------- web

# site HOST [cert=LABEL] [type=CT|none] [status=CODE] [redirect=CODE:URL]
#      [chunked]: an nginx server block for HOST serving
#      /.well-known/mta-sts.txt from $W/www/HOST/mta-sts.txt.
# Without cert=, a certificate for HOST alone is made.  type=none sends no
# Content-Type.  Access log: $W/log/access-HOST.log (see fetch_count).
site() {
	local host=$1 a
	shift
	mkdir -p "$W/www/$host"
	: >"$W/www/$host.opts"
	for a in "$@"; do
		echo "$a" >>"$W/www/$host.opts"
	done
	WEB_DIRTY=1
	if ! grep -q '^cert=' "$W/www/$host.opts"; then
		[ -f "$W/certs/$host.pem" ] || cert_make "$host" "$host"
		echo "cert=$host" >>"$W/www/$host.opts"
	fi
	[ -f "$W/www/$host/mta-sts.txt" ] || : >"$W/www/$host/mta-sts.txt"
	local s
	for s in "${WEB_SITES[@]}"; do
		[ "$s" = "$host" ] && return 0
	done
	WEB_SITES+=("$host")
}

site_del() {
	local s out=()
	WEB_DIRTY=1
	for s in "${WEB_SITES[@]}"; do
		[ "$s" = "$1" ] || out+=("$s")
	done
	WEB_SITES=("${out[@]}")
}

site_opt() {
	sed -n "s/^$2=//p" "$W/www/$1.opts" | tail -n 1
}

# policy HOST BODY: the policy file of HOST, BODY given with printf %b
# escapes (\n, \r, \t).  Takes effect at once (nginx reads it per request).
policy() {
	mkdir -p "$W/www/$1"
	printf '%b' "$2" >"$W/www/$1/mta-sts.txt.new"
	mv "$W/www/$1/mta-sts.txt.new" "$W/www/$1/mta-sts.txt"
}

# policy_remove HOST: nginx answers 404 for the policy from now on.
policy_remove() {
	rm -f "$W/www/$1/mta-sts.txt"
}

# policy_std HOST MODE MAX_AGE MX...: a well-formed policy, lines in the
# order version, mode, mx..., max_age.
policy_std() {
	local host=$1 mode=$2 age=$3 body mx
	shift 3
	body="version: STSv1\nmode: $mode\n"
	for mx in "$@"; do
		body+="mx: $mx\n"
	done
	body+="max_age: $age\n"
	policy "$host" "$body"
}

# sts_domain D ID MODE MAX_AGE MX...: the usual publisher: TXT
# _mta-sts.D "v=STSv1; id=ID", mta-sts.D A 127.0.0.1 and AAAA ::1, an MX
# record, and an nginx site serving the policy.
sts_domain() {
	local d=$1 id=$2
	shift 2
	txt_set "_mta-sts.$d" "v=STSv1; id=$id"
	dns_del "mta-sts.$d"
	dns_add "mta-sts.$d" A "$WEB_ADDR"
	dns_add "$d" MX "10 mx1.$d."
	site "mta-sts.$d"
	policy_std "mta-sts.$d" "$@"
}

nginx_conf() {
	local host cert type status redirect chunked
	cert_make default default.invalid cn=default.invalid
	cat <<EOF
user root root;
worker_processes 1;
daemon off;
pid $W/nginx/nginx.pid;
error_log $W/log/nginx-error.log info;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $W/nginx/tmp/body;
	proxy_temp_path $W/nginx/tmp/proxy;
	fastcgi_temp_path $W/nginx/tmp/fastcgi;
	uwsgi_temp_path $W/nginx/tmp/uwsgi;
	scgi_temp_path $W/nginx/tmp/scgi;
	keepalive_timeout 10s;
	server_tokens off;
	# Clients that send no SNI (or a wrong one) land here.
	server {
		listen $WEB_ADDR:443 ssl default_server;
		listen [$WEB_ADDR6]:443 ssl default_server;
		server_name _;
		ssl_certificate $W/certs/default.pem;
		ssl_certificate_key $W/certs/leaf.key;
		access_log $W/log/access-default.log;
		location / { return 404; }
	}
EOF
	for host in "${WEB_SITES[@]}"; do
		cert=$(site_opt "$host" cert)
		type=$(site_opt "$host" type)
		status=$(site_opt "$host" status)
		redirect=$(site_opt "$host" redirect)
		chunked=$(grep -c '^chunked$' "$W/www/$host.opts")
		[ "$type" = none ] && type=
		[ -n "$(site_opt "$host" type)" ] || type=text/plain
		cat <<EOF
	server {
		listen $WEB_ADDR:443 ssl;
		listen [$WEB_ADDR6]:443 ssl;
		server_name $host;
		ssl_certificate $W/certs/$cert.pem;
		ssl_certificate_key $W/certs/leaf.key;
		access_log $W/log/access-$host.log;
		location = /.well-known/mta-sts.txt {
			types { }
			default_type "$type";
EOF
		if [ -n "$redirect" ]; then
			echo "			return ${redirect%%:*} ${redirect#*:};"
		elif [ -n "$status" ]; then
			echo "			return $status;"
		else
			if [ "$chunked" -gt 0 ]; then
				# sub_filter drops Content-Length: chunked.
				echo "			sub_filter_types *;"
				echo "			sub_filter 'no-such-text-e2e' '';"
			fi
			echo "			alias $W/www/$host/mta-sts.txt;"
		fi
		cat <<EOF
		}
		location / { return 404; }
	}
EOF
	done
	echo "}"
}

# commit: dns_commit, and web_commit when a site was added or changed.
commit() {
	dns_commit
	[ -n "${WEB_DIRTY:-}" ] && web_commit
	return 0
}

# web_commit: write nginx.conf and (re)start nginx; wait for port 443.
web_commit() {
	WEB_DIRTY=
	nginx_conf >"$W/nginx/nginx.conf"
	nsx nginx -t -q -c "$W/nginx/nginx.conf" -e "$W/log/nginx-error.log" ||
	    bail "nginx config invalid (see $W/nginx/nginx.conf)"
	web_stop
	bg_start nginx nginx -c "$W/nginx/nginx.conf" -e "$W/log/nginx-error.log"
	wait_for 5 port_open "$WEB_ADDR" 443 || bail "nginx does not listen"
}

web_stop() {
	bg_stop nginx
}

# pysite LABEL MODE ADDR CERT [RESPONSE-FILE] [extra httpsd.py args]: one
# httpsd.py server (see httpsd.py for the modes) listening on ADDR:443
# (an IPv6 ADDR is written without brackets).
pysite() {
	local label=$1 mode=$2 addr=$3 cert=$4 resp=${5:-} l
	shift 4
	[ $# -gt 0 ] && shift
	case $addr in *:*) l="[$addr]:443" ;; *) l="$addr:443" ;; esac
	bg_start "py-$label" "$PYTHON" "$E2E_DIR/httpsd.py" --listen "$l" \
	    --cert "$W/certs/$cert.pem" --key "$W/certs/leaf.key" \
	    --mode "$mode" ${resp:+--response "$resp"} \
	    --log "$W/log/conns-$label.log" "$@"
	wait_for 5 grep -q '^ready' "$W/log/py-$label.log" ||
	    bail "httpsd $label did not start: $(cat "$W/log/py-$label.log")"
}

# http_resp FILE STATUS-LINE BODY [HEADER...]: write a raw HTTP response
# for httpsd.py: the status line, Content-Type: text/plain, the headers
# given, Content-Length computed from BODY (printf %b escapes) unless a
# header "nolen" is given, then the body.
http_resp() {
	local file=$1 status=$2 body=$3 h len=1
	shift 3
	printf '%b' "$body" >"$file.body"
	{
		printf '%s\r\n' "$status"
		printf 'Content-Type: text/plain\r\n'
		for h in "$@"; do
			if [ "$h" = nolen ]; then
				len=
			else
				printf '%s\r\n' "$h"
			fi
		done
		[ -n "$len" ] && printf 'Content-Length: %s\r\n' "$(wc -c <"$file.body")"
		printf '\r\n'
		cat "$file.body"
	} >"$file"
	rm -f "$file.body"
}

# fetch_count HOST: requests nginx served for HOST so far.
fetch_count() {
	local f="$W/log/access-$1.log"
	if [ -f "$f" ]; then
		grep -c 'mta-sts.txt' "$f"
	else
		echo 0
	fi
}

# pyconn_count LABEL: connections an httpsd.py server accepted.
pyconn_count() {
	local f="$W/log/conns-$1.log"
	if [ -f "$f" ]; then
		wc -l <"$f" | tr -d ' '
	else
		echo 0
	fi
}

port_open() {
	nsx bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# https_get HOST [ADDR] [CAFILE]: fetch the policy with curl as a well-
# behaved client would (SNI, CA check); print the body; used by t-00.
https_get() {
	nsx curl -sS --max-time 5 --cacert "${3:-$CA_FILE}" \
	    --resolve "$1:443:${2:-$WEB_ADDR}" \
	    "https://$1/.well-known/mta-sts.txt"
}

# ---------------------------------------------------------------- daemon

# conf_set NAME VALUE: override one daemon option (before daemon_start).
conf_set() {
	CONF[$1]=$2
}

# conf_zone "NAME key=value...": add a zone line.
conf_zone() {
	CONF_ZONES+=("$1")
}

daemon_conf() {
	local k
	declare -A d=(
		[listen]="inet:127.0.0.1:$MAP_PORT"
		[exim-listen]="inet:127.0.0.1:$EXIM_PORT"
		[control]="$W/control.sock"
		[cache-file]="$W/cache.db"
		[resolver]="$DNS_ADDR"
		[ca-file]="$CA_FILE"
		[discovery-timeout]=5s
		[fetch-timeout]=3s
		[dns-timeout]=500ms
		[dns-tries]=2
		[retry-min]=2s
		[retry-max]=10s
		[ttl-min]=1s
		[ttl-max]=3600s
		[refresh-interval]=86400s
		[log-level]=debug
		[user]=root
	)
	for k in "${!CONF[@]}"; do
		d[$k]=${CONF[$k]}
	done
	echo "# mtastsd.conf written by tests/e2e/lib.sh for $E2E_NAME"
	for k in listen exim-listen control cache-file resolver ca-file \
	    discovery-timeout fetch-timeout dns-timeout dns-tries retry-min \
	    retry-max ttl-min ttl-max refresh-interval log-level; do
		[ -n "${d[$k]}" ] && echo "$k ${d[$k]}"
		unset "d[$k]"
	done
	for k in "${!d[@]}"; do
		echo "$k ${d[$k]}"
	done
	echo "zone * servername=yes tlsrpt=no testing=notfound"
	for k in "${CONF_ZONES[@]}"; do
		echo "zone $k"
	done
}

# daemon_start: write the config, start `mtastsd -f -c CONF` in the
# namespace, wait until the socketmap port answers.
daemon_start() {
	daemon_conf >"$W/mtastsd.conf"
	: >"$W/daemon.wanted"
	[ -x "$MTASTSD" ] || bail "no daemon at $MTASTSD"
	echo "=== start $(date +%T.%N)" >>"$W/log/mtastsd.log"
	bg_start mtastsd "$MTASTSD" -f -c "$W/mtastsd.conf"
	wait_for 5 daemon_ready ||
	    bail "mtastsd did not start listening on 127.0.0.1:$MAP_PORT: $(tail -n 5 "$W/log/mtastsd.log" | tr '\n' ' ')"
}

# daemon_start_defaults: the README's form, `mtastsd -f` with no config
# file at all.  Inside the namespace's own mount namespace (private to the
# daemon): /etc/resolv.conf names nsd, /etc/ssl/certs holds only the test
# CA, and tmpfs hides /var/lib (the root cache path
# /var/lib/mtastsd/cache.db lands in it), /run (the control socket) and
# /tmp.  The binary is copied to a tmpfs first, since the build tree may
# itself be under /tmp.  Nothing of the host is touched.
daemon_start_defaults() {
	mkdir -p "$W/sslcerts"
	cp "$CA_FILE" "$W/sslcerts/ca-certificates.crt"
	cp "$CA_FILE" "$W/sslcerts/mtastsd-test-ca.pem"
	openssl rehash "$W/sslcerts" >>"$W/log/openssl.log" 2>&1
	echo "nameserver $DNS_ADDR" >"$W/resolv.conf"
	cat >"$W/defaults.sh" <<END
set -e
mount --bind "$W/resolv.conf" /etc/resolv.conf
mount --bind "$W/sslcerts" /etc/ssl/certs
test ! -e /etc/mtastsd.conf || mount --bind /dev/null /etc/mtastsd.conf
mount -t tmpfs tmpfs /var/lib
mount -t tmpfs tmpfs /run
mkdir /run/mtastsd-bin
cp "$MTASTSD" /run/mtastsd-bin/mtastsd
mount -t tmpfs tmpfs /tmp
exec /run/mtastsd-bin/mtastsd -f
END
	: >"$W/daemon.wanted"
	echo "=== start (defaults) $(date +%T.%N)" >>"$W/log/mtastsd.log"
	bg_start mtastsd sh "$W/defaults.sh"
	wait_for 5 daemon_ready ||
	    bail "mtastsd -f did not start listening on 127.0.0.1:$MAP_PORT: $(tail -n 5 "$W/log/mtastsd.log" | tr '\n' ' ')"
}

daemon_ready() {
	bg_alive mtastsd && port_open 127.0.0.1 "$MAP_PORT"
}

# daemon_stop [SIGNAL]: TERM by default; daemon_stop KILL for kill -9.
daemon_stop() {
	rm -f "$W/daemon.wanted"
	bg_stop mtastsd "${1:-TERM}"
}

daemon_restart() {
	daemon_stop "$@"
	daemon_start
}

daemon_log() {
	cat "$W/log/mtastsd.log"
}

# ---------------------------------------------------------------- clients

# q KEY [MAP] [postmap flags]: ask through the real Postfix client.
# Prints the OK data (e.g. "secure match=..."), "NOTFOUND" when postmap
# found nothing (exit 1, nothing on stderr), or "ERROR(rc=N) <stderr>"
# for anything else (TEMP replies, connection errors...).
q() {
	local key=$1 map=${2:-postfix} out rc
	shift
	[ $# -gt 0 ] && shift
	if [ -f "$W/daemon.wanted" ] && ! bg_alive mtastsd; then
		printf 'DAEMON DEAD'
		return 1
	fi
	out=$(nsx postmap "$@" -c "$W/postfix" -q "$key" \
	    "socketmap:inet:127.0.0.1:$MAP_PORT:$map" 2>"$W/log/postmap.err")
	rc=$?
	if [ "$rc" -eq 0 ] && [ -n "$out" ]; then
		printf '%s' "$out"
	elif [ "$rc" -eq 1 ] && [ -z "$out" ] && [ ! -s "$W/log/postmap.err" ]; then
		printf 'NOTFOUND'
	else
		printf 'ERROR(rc=%s) %s%s' "$rc" "$out" \
		    "$(tr '\n' ' ' <"$W/log/postmap.err")"
	fi
}

# qraw KEY [MAP]: the exact reply payload ("OK secure ...", "NOTFOUND ",
# "TEMP ...") through smq.py.
qraw() {
	if [ -f "$W/daemon.wanted" ] && ! bg_alive mtastsd; then
		printf 'DAEMON DEAD'
		return 1
	fi
	nsx "$PYTHON" "$E2E_DIR/smq.py" -p "$MAP_PORT" -t 20 "${2:-postfix}" "$1"
}

# smq ARGS...: smq.py with any arguments (raw input, repeats, Exim).
smq() {
	nsx "$PYTHON" "$E2E_DIR/smq.py" -p "$MAP_PORT" "$@"
}

NF="NOTFOUND "

# sec PATTERNS: the reply for an enforce policy in the default zone.
sec() {
	printf 'OK secure match=%s servername=hostname' "$1"
}

# both KEY WANT NAME [MAP]: assert the exact socketmap reply (smq.py) and
# what postmap makes of it (the OK data without "OK ", or NOTFOUND).
both() {
	local key=$1 want=$2 name=$3 map=${4:-postfix} pm
	if [ "$want" = "$NF" ]; then
		pm=NOTFOUND
	else
		pm=${want#OK }
	fi
	is "$(qraw "$key" "$map")" "$want" "$name"
	is "$(q "$key" "$map")" "$pm" "$name (postmap)"
}

# timed VAR CMD...: run CMD, store its output in VAR and the time it took
# (ms) in VAR_ms.
timed() {
	local var=$1 t0 out
	shift
	t0=$(now_ms)
	out=$("$@")
	printf -v "$var" '%s' "$out"
	printf -v "${var}_ms" '%s' $(( $(now_ms) - t0 ))
}
