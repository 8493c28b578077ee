# lib-mail.sh: real mail on top of the end-to-end world of lib.sh.
#
# Adds to the world of lib.sh (sourced from here):
#  - the namespace's /etc/resolv.conf pointing at nsd (ip netns exec
#    bind-mounts /etc/netns/NAME/resolv.conf), so MTAs resolve MX hosts;
#  - a receiving Postfix instance ("rcv") with one smtpd per MX host, each
#    on its own loopback address and port 25, with its own certificate or
#    no STARTTLS at all; every message lands in one mbox ($RCV_MBOX) and
#    each listener logs under its own name (rcv_log HOST);
#  - a sending Postfix instance ("snd") taking mail by SMTP on
#    127.0.0.1:$SUBMIT_PORT and asking mtastsd for TLS policies;
#  - Exim 4 from Debian's .deb (downloaded once, kept in $EXIM_CACHE) run
#    with a configuration that includes contrib/exim/*.conf;
#  - operations helpers: starting the daemon with another command (an
#    environment, the socket activation launcher), an sd_notify listener,
#    the control socket's stats, the metrics endpoint and a comparison of
#    the two.
#
# Usage (bash):
#	. "$(dirname "$0")/lib-mail.sh"
#	world_start; mail_start
#	mail_cases; dns_commit; web_commit; daemon_start
#	rcv_start; snd_start
#	qid=$(snd_send user@enf.test TOKEN)
#	is "$(snd_outcome "$qid")" sent "..."

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUBMIT_PORT=10025
RCV="" SND="" EXIMD=""
RCV_MX=()			# "HOST ADDR CERT|notls" per receiving listener
: "${EXIM_CACHE:=/var/tmp/mtastsd-e2e/exim}"

# mail_start: resolv.conf for the namespace; cleanup of what is added here
# runs before lib.sh's world_stop.
mail_start() {
	mkdir -p "/etc/netns/$NS"
	echo "nameserver $DNS_ADDR" >"/etc/netns/$NS/resolv.conf"
	RCV="$W/rcv" SND="$W/snd" EXIMD="$W/exim"
	RCV_MBOX="$RCV/mail/mbox"
	trap mail_stop EXIT
}

mail_stop() {
	local st=$? i
	for i in snd rcv; do
		[ -f "$W/$i/queue/pid/master.pid" ] || continue
		nsx postfix -c "$W/$i/conf" stop >/dev/null 2>&1
	done
	[ -n "${NS:-}" ] && rm -rf "/etc/netns/$NS"
	(exit "$st")
	world_stop
}

# ---------------------------------------------------------------- Postfix

# Write the parts of main.cf every instance shares.
pf_main_common() {
	local dir=$1 name=$2
	cat <<EOF
# written by tests/e2e/lib-mail.sh for $E2E_NAME
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
inet_protocols = ipv4
mydestination =
relayhost =
mynetworks = 127.0.0.0/8
smtputf8_enable = no
biff = no
maillog_file_prefixes = $W/log
maillog_file = $W/log/postfix-$name.log
syslog_name = postfix-$name
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP
alias_maps =
alias_database =
EOF
}

# The services every instance needs; $1 is the chroot column of smtp.
pf_master_common() {
	cat <<EOF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       $1       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# pf_start NAME: check and start the instance in $W/NAME; wait for its
# listeners (given as ADDR:PORT arguments).
pf_start() {
	local name=$1 dir="$W/$1" hp
	shift
	mkdir -p "$dir/queue"
	nsx postfix -c "$dir/conf" check >>"$W/log/postfix-$name.start" 2>&1 ||
	    bail "postfix $name: check failed: $(cat "$W/log/postfix-$name.start")"
	nsx postfix -c "$dir/conf" start >>"$W/log/postfix-$name.start" 2>&1 ||
	    bail "postfix $name: start failed: $(cat "$W/log/postfix-$name.start")"
	for hp in "$@"; do
		wait_for 10 port_open "${hp%:*}" "${hp##*:}" ||
		    bail "postfix $name does not listen on $hp"
	done
}

# mx_host HOST ADDR [cert=LABEL|notls|sni]: an MX host served by the
# receiving instance on ADDR:25 (A record added); without an option, a
# certificate for HOST from the test CA.  sni: the listener's default
# certificate is for another name; the one for HOST is only given to
# clients that send HOST as SNI (tls_server_sni_maps).
mx_host() {
	local host=$1 addr=$2 opt=${3:-} cert
	dns_add "$host" A "$addr"
	case $opt in
	notls) cert=notls ;;
	cert=*) cert=${opt#cert=} ;;
	""|sni)
		[ -f "$W/certs/$host.pem" ] || cert_make "$host" "$host"
		cert=$host
		;;
	*) bail "mx_host: bad option $opt" ;;
	esac
	RCV_MX+=("$host $addr $cert $opt")
}

# rcv_start: the receiving instance: every domain is a virtual mailbox
# domain delivering into one mbox; TLS offered (may) with each MX host's
# certificate; the Received: header says whether TLS was used.
rcv_start() {
	local mx host addr cert ports=()
	mkdir -p "$RCV/conf" "$RCV/mail"
	chown 65534:65534 "$RCV/mail"
	{
		pf_main_common "$RCV" rcv
		cat <<EOF
myhostname = receiver.test
inet_interfaces = all
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = static:all
virtual_mailbox_base = $RCV/mail
virtual_mailbox_maps = static:mbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
EOF
	} >"$RCV/conf/main.cf"
	{
		for mx in "${RCV_MX[@]}"; do
			read -r host addr cert opt <<<"$mx"
			printf '%s:25 inet n - n - - smtpd\n  -o syslog_name=rcv/%s\n' \
			    "$addr" "$host"
			if [ "$cert" = notls ]; then
				echo "  -o smtpd_tls_security_level=none"
			elif [ "$opt" = sni ]; then
				[ -f "$W/certs/sni-default.pem" ] ||
				    cert_make sni-default mx.sni-default.test
				printf '%s %s %s\n' "$host" "$W/certs/leaf.key" \
				    "$W/certs/$cert.pem" >"$RCV/conf/sni-$host"
				printf '  -o smtpd_tls_cert_file=%s\n  -o smtpd_tls_key_file=%s\n' \
				    "$W/certs/sni-default.pem" "$W/certs/leaf.key"
				printf '  -o tls_server_sni_maps=texthash:%s\n' \
				    "$RCV/conf/sni-$host"
			else
				printf '  -o smtpd_tls_cert_file=%s\n  -o smtpd_tls_key_file=%s\n' \
				    "$W/certs/$cert.pem" "$W/certs/leaf.key"
			fi
			ports+=("$addr:25")
		done
		pf_master_common n
	} >"$RCV/conf/master.cf"
	pf_start rcv "${ports[@]}"
}

# rcv_log HOST: the receiving log lines of the listener for HOST.
rcv_log() {
	grep -F " rcv/$1/" "$W/log/postfix-rcv.log" 2>/dev/null
}

# rcv_message TOKEN: the message whose Subject is "e2e TOKEN", as stored
# in the receiving mbox (empty when it never arrived).
rcv_message() {
	[ -f "$RCV_MBOX" ] || return 0
	awk -v s="Subject: e2e $1" '
		/^From / { if (found) exit; msg = ""; }
		{ msg = msg $0 "\n" }
		$0 == s { found = 1 }
		END { if (found) printf "%s", msg }' "$RCV_MBOX"
}

# snd_start [inet|unix]: the sending instance, configured with the lines
# of contrib/postfix/main.cf (the CA file replaced by the test CA).  Its
# TLS policy table is mtastsd over a unix socket inside the queue
# directory with smtp(8) running chrooted there (the default, as the
# README recommends), or over TCP (inet).
snd_start() {
	local how=${1:-unix} f
	mkdir -p "$SND/conf" "$SND/queue"
	# What smtp(8) needs inside its chroot: DNS and services.
	mkdir -p "$SND/queue/etc"
	echo "nameserver $DNS_ADDR" >"$SND/queue/etc/resolv.conf"
	for f in services hosts nsswitch.conf; do
		[ -f "/etc/$f" ] && cp "/etc/$f" "$SND/queue/etc/"
	done
	{
		pf_main_common "$SND" snd
		cat <<EOF
myhostname = sender.test
mydomain = sender.test
myorigin = sender.test
inet_interfaces = 127.0.0.1
smtp_connect_timeout = 5s
smtp_helo_timeout = 10s
delay_warning_time = 0
bounce_queue_lifetime = 1d
maximal_queue_lifetime = 1d
EOF
		grep -v '^#' "$top_srcdir/contrib/postfix/main.cf" | grep .
	} >"$SND/conf/main.cf"
	nsx postconf -c "$SND/conf" -e "smtp_tls_CAfile = $CA_FILE"
	[ "$how" = inet ] && nsx postconf -c "$SND/conf" -e \
	    "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:$MAP_PORT:postfix"
	{
		echo "127.0.0.1:$SUBMIT_PORT inet n - n - - smtpd"
		pf_master_common y
	} >"$SND/conf/master.cf"
	pf_start snd "127.0.0.1:$SUBMIT_PORT"
}

# snd_reconf PARAM=VALUE...: change the sending instance and reload it.
# "smtp/unix/chroot=n" style arguments edit master.cf (postconf -F).
snd_reconf() {
	local a
	for a in "$@"; do
		case $a in
		*/*/*=*) nsx postconf -c "$SND/conf" -F "$a" ;;
		*) nsx postconf -c "$SND/conf" -e "$a" ;;
		esac
	done
	nsx postfix -c "$SND/conf" reload >>"$W/log/postfix-snd.start" 2>&1
	sleep 1
}

# The unix socket mtastsd serves inside the sender's queue directory.
snd_socket() {
	echo "$SND/queue/mtastsd/socketmap"
}

# snd_send RCPT TOKEN: submit a message to the sending instance; print
# its queue id.
snd_send() {
	nsx "$PYTHON" - "127.0.0.1" "$SUBMIT_PORT" "$1" "$2" <<'EOF'
import re, smtplib, sys
host, port, rcpt, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
msg = ("From: <sender@sender.test>\r\nTo: <%s>\r\nSubject: e2e %s\r\n"
       "Message-ID: <%s@sender.test>\r\n\r\nbody of %s\r\n" % (rcpt, token, token, token))
s = smtplib.SMTP(host, port, timeout=10)
s.ehlo("client.test")
s.mail("sender@sender.test")
s.rcpt(rcpt)
code, resp = s.data(msg.encode())
s.quit()
m = re.search(rb"queued as ([0-9A-Za-z]+)", resp)
if code != 250 or not m:
	sys.exit("submission failed: %d %r" % (code, resp))
print(m.group(1).decode())
EOF
}

# snd_result QID: the sender's last delivery log line for the message;
# status 1 when there is none yet.
snd_result() {
	grep -E " $1: to=<.*status=" "$W/log/postfix-snd.log" 2>/dev/null |
	    tail -n 1 | grep .
}

# snd_outcome QID: wait for the first delivery attempt to end; print
# "sent", "deferred", "bounced" or "none".
snd_outcome() {
	local line
	wait_for 20 snd_result "$1"
	line=$(snd_result "$1")
	if [[ $line =~ status=([a-z]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo none
	fi
}

# snd_queued QID: 0 when the message is in the sender's deferred queue.
snd_queued() {
	[ -n "$(find "$SND/queue/deferred" -type f -name "$1" 2>/dev/null)" ]
}

# snd_tls QID: the TLS log line of the sender for the relay of QID.
snd_tls_line() {
	local relay
	relay=$(snd_result "$1" | sed -n 's/.* relay=\([^,]*\)\[.*/\1/p')
	[ -n "$relay" ] || return 0
	grep -E "TLS connection established to $relay\[" "$W/log/postfix-snd.log" |
	    tail -n 1
}

# ---------------------------------------------------------------- cases

# mail_cases: the recipient domains both delivery tests use.  Each domain
# D has the MX host mx1.D on its own address; the comment says what must
# happen to mail for it.
mail_cases() {
	# enforce, MX host listed, valid certificate: delivered, verified TLS.
	# Its MX presents the right certificate only to clients that send
	# SNI, which MTA-STS requires (RFC 8461 section 5).
	sts_domain enf.test 1 enforce 86400 mx1.enf.test
	mx_host mx1.enf.test 127.0.0.11 sni
	# enforce, MX host matches a wildcard pattern: delivered.
	sts_domain wild.test 1 enforce 86400 '*.wild.test'
	mx_host mx1.wild.test 127.0.0.12
	# enforce, the MX host is not in the policy (its certificate is
	# valid for its own name): deferred.
	sts_domain outside.test 1 enforce 86400 mx.elsewhere.test
	mx_host mx1.outside.test 127.0.0.13
	# enforce, certificate for another name: deferred.
	cert_make othername mx.othername.test
	sts_domain badcert.test 1 enforce 86400 mx1.badcert.test
	mx_host mx1.badcert.test 127.0.0.14 cert=othername
	# enforce, certificate from a CA nobody trusts: deferred.
	cert_make untrustedmx ca=untrusted mx1.untrusted.test
	sts_domain untrusted.test 1 enforce 86400 mx1.untrusted.test
	mx_host mx1.untrusted.test 127.0.0.15 cert=untrustedmx
	# enforce, no STARTTLS offered: deferred, never sent in clear text.
	sts_domain plain.test 1 enforce 86400 mx1.plain.test
	mx_host mx1.plain.test 127.0.0.16 notls
	# testing, certificate for another name: delivered anyway.
	sts_domain testing.test 1 testing 86400 mx1.testing.test
	mx_host mx1.testing.test 127.0.0.17 cert=othername
	# mode none: delivered.
	sts_domain none.test 1 none 86400 mx1.none.test
	mx_host mx1.none.test 127.0.0.18 cert=othername
	# no policy at all, no STARTTLS: delivered in clear text.
	dns_add nopolicy.test MX "10 mx1.nopolicy.test."
	mx_host mx1.nopolicy.test 127.0.0.19 notls
}

# ---------------------------------------------------------------- Exim

# exim_find: set EXIM to an Exim 4 binary: $EXIM if set, else the one
# extracted from Debian's exim4-daemon-light and exim4-base packages
# (downloaded once with apt-get download into $EXIM_CACHE).  Skips the
# test when there is none; needs libidn12 and the Debian-exim user.
exim_find() {
	local tmp f
	if [ -n "${EXIM:-}" ]; then
		[ -x "$EXIM" ] || skip_all "EXIM=$EXIM is not executable"
	else
		EXIM="$EXIM_CACHE/root/usr/sbin/exim4"
		if [ ! -x "$EXIM" ]; then
			mkdir -p "$EXIM_CACHE"
			(
				flock 9
				[ -x "$EXIM" ] && exit 0
				tmp=$(mktemp -d "$EXIM_CACHE/dl.XXXXXX") || exit 1
				chmod 755 "$tmp"
				cd "$tmp" &&
				    apt-get download exim4-daemon-light exim4-base \
				    >"$tmp/apt.log" 2>&1 || { rm -rf "$tmp"; exit 1; }
				rm -rf "$EXIM_CACHE/root"
				mkdir -p "$EXIM_CACHE/root"
				for f in "$tmp"/*.deb; do
					dpkg -x "$f" "$EXIM_CACHE/root" || exit 1
				done
				rm -rf "$tmp"
			) 9>"$EXIM_CACHE/lock"
			[ -x "$EXIM" ] || skip_all "no Exim: apt-get download exim4-daemon-light exim4-base failed"
		fi
	fi
	getent passwd Debian-exim >/dev/null ||
	    skip_all "needs the Debian-exim user (contrib/install-deps makes it)"
	"$EXIM" -C /dev/null -bV >/dev/null 2>&1 ||
	    skip_all "Exim does not run: $("$EXIM" -C /dev/null -bV 2>&1 | tail -n 1) (libidn12?)"
	EXIM_VERSION=$("$EXIM" -C /dev/null -bV 2>/dev/null | sed -n 's/^Exim version \([^ ]*\).*/\1/p')
}

# exim_conf [MACRO=VALUE...]: the Exim configuration of the tests: the
# shipped contrib/exim files plus a plain dnslookup router and smtp
# transport for everything mtastsd does not claim.
exim_conf() {
	local m
	mkdir -p "$EXIMD/spool" "$EXIMD/log"
	chown -R Debian-exim:Debian-exim "$EXIMD/spool" "$EXIMD/log"
	{
		echo "# written by tests/e2e/lib-mail.sh for $E2E_NAME"
		echo "MTASTS_SOCKET = inet:127.0.0.1:$EXIM_PORT"
		echo "MTASTS_CA = $CA_FILE"
		for m in "$@"; do
			echo "${m%%=*} = ${m#*=}"
		done
		cat <<EOF
.include $top_srcdir/contrib/exim/mtastsd-main.conf
exim_path = $EXIM
exim_user = Debian-exim
exim_group = Debian-exim
spool_directory = $EXIMD/spool
log_file_path = $EXIMD/log/%slog
log_selector = +tls_certificate_verified +tls_peerdn +tls_sni +outgoing_port
primary_hostname = exim.sender.test
qualify_domain = sender.test
domainlist local_domains = @ : localhost
keep_environment =
begin routers
.include $top_srcdir/contrib/exim/mtastsd-routers.conf
dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = remote_smtp
  no_more
begin transports
.include $top_srcdir/contrib/exim/mtastsd-transports.conf
remote_smtp:
  driver = smtp
  tls_verify_certificates = $CA_FILE
begin retry
*  *  F,1d,10m
EOF
	} >"$EXIMD/exim.conf"
	chmod 644 "$EXIMD/exim.conf"
}

# ex ARGS...: run Exim with the test configuration in the namespace.
ex() {
	nsx "$EXIM" -C "$EXIMD/exim.conf" "$@"
}

# exim_send RCPT TOKEN: submit and deliver in the foreground (-odf);
# the message id is TOKEN@exim.sender.test.
exim_send() {
	printf 'From: <sender@sender.test>\nTo: <%s>\nSubject: e2e %s\nMessage-ID: <%s@exim.sender.test>\n\nbody of %s\n' \
	    "$1" "$2" "$2" "$2" |
	    ex -odf -f sender@sender.test "$1" >>"$W/log/exim-submit.log" 2>&1
}

# exim_msgid TOKEN: the Exim message id of the message sent by
# exim_send with TOKEN.
exim_msgid() {
	awk -v id="id=$1@exim.sender.test" '$4 == "<=" && $NF == id { print $3 }' \
	    "$EXIMD/log/mainlog" 2>/dev/null | tail -n 1
}

# exim_log TOKEN: the main log lines of that message.
exim_log() {
	local id
	id=$(exim_msgid "$1")
	[ -n "$id" ] && grep -F " $id " "$EXIMD/log/mainlog"
}

# exim_outcome RCPT: "sent" (=> line), "deferred" (== line), "bounced"
# (** line) or "none".
exim_outcome() {
	local l
	l=$(grep -E " (=>|==|\*\*) $1 " "$EXIMD/log/mainlog" 2>/dev/null | tail -n 1)
	case $l in
	*" => "*) echo sent ;;
	*" == "*) echo deferred ;;
	*" ** "*) echo bounced ;;
	*) echo none ;;
	esac
}

# exim_queued RCPT: 0 when a message to RCPT waits in Exim's queue.
exim_queued() {
	ex -bp 2>/dev/null | grep -qF "$1"
}

# exim_macro NAME DOMAIN [HOST]: expand the shipped macro NAME (as the
# configuration defines it, from exim -bP) with $domain and $host
# replaced by DOMAIN and HOST, through exim -be.
exim_macro() {
	local body
	body=$(ex -bP macro "$1" 2>/dev/null) || return 1
	body=${body#"$1="}
	body=${body//'$domain'/$2}
	body=${body//'$host'/${3:-}}
	ex -be "$body" 2>&1
}

# mx_cert_cn ADDR [SNI]: the subject CN an MX gives after STARTTLS, with
# SNI or without.
mx_cert_cn() {
	local sni=-noservername
	[ -n "${2:-}" ] && sni="-servername $2"
	nsx openssl s_client -connect "$1:25" -starttls smtp $sni </dev/null 2>/dev/null |
	    openssl x509 -noout -subject 2>/dev/null | sed -n 's/.*CN *= *//p'
}

# ---------------------------------------------------------------- operations

METRICS_PORT=9461

# daemon_run ARGS...: like daemon_start, with the command given: the
# config is written to $W/mtastsd.conf first; ARGS is the whole command
# (use "$MTASTSD" -f -c "$W/mtastsd.conf" in it).
daemon_run() {
	daemon_conf >"$W/mtastsd.conf"
	: >"$W/daemon.wanted"
	echo "=== start $(date +%T.%N)" >>"$W/log/mtastsd.log"
	bg_start mtastsd "$@"
	wait_for 5 daemon_ready ||
	    bail "mtastsd did not start: $(tail -n 5 "$W/log/mtastsd.log" | tr '\n' ' ')"
}

# daemon_pid: the daemon's pid (bg_start's pid: ip netns exec and the
# launchers exec it).
daemon_pid() {
	cat "$W/pids/mtastsd"
}

# The socket activation launcher, run as "$PYTHON" -c "$ACTIVATE_PY"
# [--pid N] SPEC... -- CMD...: socket specs NAME:ADDR:PORT, then --, then
# the command.  Binds and listens, moves the sockets to fds 3...,
# sets LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (its own pid: exec
# keeps it; --pid N gives another), and execs the command.
ACTIVATE_PY='
import os, socket, sys
args = sys.argv[1:]
pid = None
if args[0] == "--pid":
	pid, args = args[1], args[2:]
cut = args.index("--")
specs, cmd = args[:cut], args[cut + 1:]
names, fds = [], []
for spec in specs:
	name, addr, port = spec.split(":")
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind((addr, int(port)))
	s.listen(16)
	names.append(name)
	fds.append(s.detach())
high = [os.dup(fd) for fd in fds]
for fd in fds:
	os.close(fd)
for i, fd in enumerate(high):
	os.dup2(fd, 3 + i, inheritable=True)
	os.close(fd)
os.environ["LISTEN_FDS"] = str(len(high))
os.environ["LISTEN_FDNAMES"] = ":".join(names)
os.environ["LISTEN_PID"] = pid or str(os.getpid())
os.execv(cmd[0], cmd)
'

# The sd_notify listener: a unix datagram socket at $W/notify.sock;
# every message is appended, one a line, to $W/notify.log.
notify_listen() {
	bg_start notify "$PYTHON" -c '
import os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
print("ready", flush=True)
while True:
	m = s.recv(4096).decode(errors="replace")
	with open(log, "a") as f:
		f.write(m.replace("\n", " ").strip() + "\n")
' "$W/notify.sock" "$W/notify.log"
	wait_for 5 grep -q ready "$W/log/notify.log" || bail "notify listener did not start"
}

# ctl_stats: the control socket's answer to "stats" (one JSON line).
ctl_stats() {
	nsx "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"stats\n")
out = b""
while True:
	b = s.recv(65536)
	if not b:
		break
	out += b
sys.stdout.write(out.decode())
' "$W/control.sock"
}

# metrics_get [PATH] [curl args]: the metrics endpoint's body.
metrics_get() {
	local path=${1:-/metrics}
	[ $# -gt 0 ] && shift
	nsx curl -sS --max-time 5 "$@" "http://127.0.0.1:$METRICS_PORT$path"
}

# metric NAME{LABELS}: one sample's value from a scrape on stdin.
metric() {
	awk -v n="$1" '$1 == n { print $2 }'
}

# metrics_agree STATS-JSON METRICS-TEXT: compare every counter, entry
# count and discovery gauge of a stats JSON with the Prometheus text;
# print "agree N" (N values compared) or the differences.  STATS-JSON is
# the control socket's reply ("counters", "entries", "discoveries") or
# `mtastsctl --json stats` (top-level counters, "answers", "failures",
# "entries", "in_flight", and "counters" too when present).
metrics_agree() {
	"$PYTHON" -c '
import json, sys
stats = json.loads(sys.argv[1])
prom = {}
for line in sys.argv[2].splitlines():
	if line and not line.startswith("#"):
		name, value = line.rsplit(" ", 1)
		prom[name] = float(value)
want = {}
states = ("enforce", "testing", "none", "no_record", "failed", "expired")
want.update(stats.get("counters", {}))
if "in_flight" not in stats:
	e, d = stats["entries"], stats["discoveries"]
	gauges = {"running": d["running"], "queued": d["queued"],
		  "parked": d["parked_queries"]}
else:
	top = {"queries": "queries", "cache_hits": "cache_hits",
	       "cache_misses": "cache_misses", "keys_rejected": "keys_rejected",
	       "discoveries": "discoveries",
	       "discoveries_merged": "discoveries_merged",
	       "fetches": "fetches", "clients": "clients"}
	for k, n in top.items():
		want["mtastsd_%s_total" % n] = stats[k]
	for k in ("ok", "notfound", "temp", "perm"):
		want["mtastsd_answers_%s_total" % k] = stats["answers"][k]
	f = stats["failures"]
	for k, n in (("no_record", "discovery_no_record"),
		     ("txt_failed", "discovery_txt_failed"),
		     ("fetch_failed", "discovery_fetch_failed"),
		     ("policy_invalid", "discovery_invalid"),
		     ("deadline", "discovery_deadline"),
		     ("client_errors", "client_errors"), ("sqlite", "sqlite_errors")):
		want["mtastsd_%s_total" % n] = f[k]
	e, d = stats["entries"], stats["in_flight"]
	gauges = {"running": d["discoveries_running"],
		  "queued": d["discoveries_queued"], "parked": d["queries_parked"]}
want["mtastsd_entries"] = e["total"]
for k in states:
	want["mtastsd_entries_by_state{state=\"%s\"}" % k] = e[k]
want["mtastsd_discoveries_running"] = gauges["running"]
want["mtastsd_discoveries_queued"] = gauges["queued"]
want["mtastsd_queries_parked"] = gauges["parked"]
bad = ["%s: stats %s, metrics %s" % (k, v, prom.get(k))
       for k, v in sorted(want.items()) if prom.get(k) != v]
print("\n".join(bad) if bad else "agree %d" % len(want))
' "$1" "$2"
}

# stats_and_scrape CMD...: run the stats command CMD, scrape the metrics,
# run CMD again; retry (three times) until both stats are the same but
# for the uptime, so that a background sweep between them cannot make
# the comparison flaky.  Prints the stats JSON, a line "----", the scrape.
stats_and_scrape() {
	local a b m i
	for i in 1 2 3; do
		a=$("$@")
		m=$(metrics_get)
		b=$("$@")
		[ "$(sed 's/"uptime": *[0-9]*//' <<<"$a")" = \
		    "$(sed 's/"uptime": *[0-9]*//' <<<"$b")" ] && break
		sleep 0.5
	done
	printf '%s\n----\n%s\n' "$a" "$m"
}
