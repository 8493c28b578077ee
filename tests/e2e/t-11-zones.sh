#!/bin/bash
# t-11-zones: the map name selects a zone: servername=no, tlsrpt=yes (F13:
# mx_host_pattern keeps "*.", match= uses ".x"; policy_string per line;
# unsafe lines left out), testing=enforce; unknown map names get the
# default zone; attributes never repeat (F29).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start
conf_zone "nosni servername=no tlsrpt=no testing=notfound"
conf_zone "rpt servername=yes tlsrpt=yes testing=notfound"
conf_zone "strict servername=yes tlsrpt=no testing=enforce"
conf_zone "bare servername=no tlsrpt=no testing=enforce"

sts_domain z.test 1 enforce 86400 mx1.z.test '*.mx.z.test'
sts_domain t.test 1 testing 86400 mx1.t.test
sts_domain inj.test 1 enforce 86400 mx.inj.test
policy mta-sts.inj.test 'version: STSv1\nmode: enforce\nmx: mx.inj.test\nx: } match=evil.test {\nmax_age: 86400\n'
dns_commit
web_commit
daemon_start

both z.test "OK secure match=mx1.z.test:.mx.z.test servername=hostname" "default zone (map postfix)"
both z.test "OK secure match=mx1.z.test:.mx.z.test servername=hostname" "unknown map name: default zone" unknownmap
both z.test "OK secure match=mx1.z.test:.mx.z.test" "servername=no" nosni
RPT="OK secure match=mx1.z.test:.mx.z.test servername=hostname policy_type=sts policy_domain=z.test"
RPT+=" mx_host_pattern=mx1.z.test mx_host_pattern=*.mx.z.test"
RPT+=" { policy_string = version: STSv1 } { policy_string = mode: enforce }"
RPT+=" { policy_string = mx: mx1.z.test } { policy_string = mx: *.mx.z.test }"
RPT+=" { policy_string = max_age: 86400 }"
both z.test "$RPT" "F13 tlsrpt=yes" rpt
both t.test "$NF" "testing, default zone: NOTFOUND"
both t.test "$NF" "testing, tlsrpt zone: NOTFOUND" rpt
both t.test "OK secure match=mx1.t.test servername=hostname" "testing=enforce: OK" strict
both t.test "OK secure match=mx1.t.test" "testing=enforce, servername=no" bare
INJ="OK secure match=mx.inj.test servername=hostname policy_type=sts policy_domain=inj.test"
INJ+=" mx_host_pattern=mx.inj.test"
INJ+=" { policy_string = version: STSv1 } { policy_string = mode: enforce }"
INJ+=" { policy_string = mx: mx.inj.test } { policy_string = max_age: 86400 }"
both inj.test "$INJ" "a policy line with braces is left out of policy_string" rpt
both inj.test "$(sec mx.inj.test)" "the same policy in the default zone" postfix
smq -n 5 rpt z.test >"$W/five.out"
printf '%s\n' "$RPT" "$RPT" "$RPT" "$RPT" "$RPT" >"$W/five.want"
cmp -s "$W/five.out" "$W/five.want"
ok $? "F29 tlsrpt reply byte-identical five times"

done_testing
