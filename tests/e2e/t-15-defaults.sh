#!/bin/bash
# t-15-defaults: the README's run command, `./mtastsd -f` with no
# configuration file: built-in defaults (listen 127.0.0.1:8461, resolver
# from /etc/resolv.conf, system CA store, root cache path).  The daemon
# sees a private /etc/resolv.conf and CA store (see daemon_start_defaults).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain good.test 1 enforce 86400 mx1.good.test '*.good.test'
sts_domain soft.test 1 testing 86400 mx.soft.test
dns_commit
web_commit
daemon_start_defaults

both good.test "$(sec mx1.good.test:.good.test)" "mtastsd -f, no config: enforce"
both soft.test "$NF" "mtastsd -f, no config: testing"
both nothing.test "$NF" "mtastsd -f, no config: no record"
both '[good.test]:25' "$(sec mx1.good.test:.good.test)" "mtastsd -f, no config: smart host key"
ok "$([ ! -e /var/lib/mtastsd/cache.db ] || [ /var/lib/mtastsd/cache.db -ot "$W" ]; echo $?)" \
    "the host's /var/lib/mtastsd was not written"

done_testing
