#!/bin/bash
# t-02-idchange: the TXT id is re-checked after its TTL (A34, E39):
# a new id brings the new policy; a new id while the web server is down
# keeps the old policy and does not record the new id, so the policy is
# fetched once the server is back (E35); a new id announcing mode none
# cancels enforce at once (E38).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain idnew.test 1 enforce 86400 mx1.idnew.test
sts_domain iddown.test 1 enforce 86400 mx1.iddown.test
sts_domain tonone.test 1 enforce 86400 mx1.tonone.test
sts_domain sameid.test 1 enforce 86400 mx1.sameid.test
dns_commit
web_commit
daemon_start

both idnew.test "$(sec mx1.idnew.test)" "idnew: first policy"
both iddown.test "$(sec mx1.iddown.test)" "iddown: first policy"
both tonone.test "$(sec mx1.tonone.test)" "tonone: first policy"
both sameid.test "$(sec mx1.sameid.test)" "sameid: first policy"

# New id, new policy: picked up after the TXT TTL (1 s).  The same id with
# a changed body is not fetched on a TXT re-check (A34); the proactive
# refresh (t-03) is the way that one is found.
txt_set _mta-sts.idnew.test "v=STSv1; id=2"
policy_std mta-sts.idnew.test enforce 86400 mx2.idnew.test
policy_std mta-sts.sameid.test enforce 86400 mx2.sameid.test
txt_set _mta-sts.tonone.test "v=STSv1; id=2"
policy_std mta-sts.tonone.test none 86400
dns_commit
is "$(eventually 8 "$(sec mx2.idnew.test)" q idnew.test)" "$(sec mx2.idnew.test)" \
    "idnew: new id -> new policy"
is "$(fetch_count mta-sts.idnew.test)" 2 "idnew: fetched exactly twice"
is "$(eventually 8 "$NF" qraw tonone.test)" "$NF" "tonone: mode none cancels enforce"
both tonone.test "$NF" "tonone: stays cancelled"
both sameid.test "$(sec mx1.sameid.test)" "sameid: TXT re-check with the same id fetches nothing"
is "$(fetch_count mta-sts.sameid.test)" 1 "sameid: fetched once"

# New id while the web server is down: the old policy stays.
web_stop
txt_set _mta-sts.iddown.test "v=STSv1; id=2"
policy_std mta-sts.iddown.test enforce 86400 mx2.iddown.test
dns_commit
sleep 1.5
both iddown.test "$(sec mx1.iddown.test)" "iddown: new id, server down: old policy kept"
sleep 2
both iddown.test "$(sec mx1.iddown.test)" "iddown: still the old policy after a failed retry"
# Server back: the new id was not recorded as seen, so it is fetched.
web_commit
is "$(eventually 10 "$(sec mx2.iddown.test)" q iddown.test)" "$(sec mx2.iddown.test)" \
    "iddown: server back -> new policy fetched"
both idnew.test "$(sec mx2.idnew.test)" "idnew: unchanged by the outage"

done_testing
