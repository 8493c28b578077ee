#!/bin/bash
# t-13-exim: the Exim line protocol (contrib/exim/README.md) on the
# exim-listen port, through smq.py in readsocket style (request, shutdown
# of the write side, read to EOF): policy questions, MX host questions with
# RFC 8461 4.1 wildcard matching, no-policy and bad requests.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

world_start

sts_domain ex.test 1 enforce 86400 mail.ex.test '*.mx.ex.test' mail.ex.test 192.0.2.56
sts_domain tx.test 1 testing 86400 mx.tx.test
sts_domain nx.test 1 none 86400
dns_commit
web_commit
daemon_start

exim() {
	smq -p "$EXIM_PORT" -t 10 --exim "$1"
}

is "$(exim ex.test)" "enforce mail.ex.test:*.mx.ex.test" "enforce: patterns in policy order, de-duplicated, no IP literal"
is "$(exim 'EX.test.')" "enforce mail.ex.test:*.mx.ex.test" "key normalised (case, final dot)"
is "$(exim '[ex.test]:25')" "enforce mail.ex.test:*.mx.ex.test" "smart host form"
is "$(exim 'ex.test mail.ex.test')" "enforce match" "MX host listed"
is "$(exim 'ex.test MAIL.EX.TEST.')" "enforce match" "MX host, case and final dot"
is "$(exim 'ex.test a.mx.ex.test')" "enforce match" "one label under the wildcard"
is "$(exim 'ex.test a.b.mx.ex.test')" "enforce nomatch" "two labels under the wildcard: no match (4.1)"
is "$(exim 'ex.test mx.ex.test')" "enforce nomatch" "the wildcard's own name: no match"
is "$(exim 'ex.test evil.test')" "enforce nomatch" "unlisted MX host"
is "$(exim tx.test)" "testing mx.tx.test" "testing policy"
is "$(exim 'tx.test other.test')" "testing nomatch" "testing policy, unlisted host"
is "$(exim nx.test)" "none" "mode none"
is "$(exim nothing.test)" "none" "no record"
is "$(exim '[192.0.2.1]')" "none" "IP literal"
is "$(exim .ex.test)" "none" "parent-domain probe"
like "$(exim 'a b c')" "^temp [a-z-]+$" "three words: temp REASON"
is "$(smq -p "$EXIM_PORT" -t 10 --raw 'ex.test\n')" "enforce mail.ex.test:*.mx.ex.test" "newline ends the request too"
is "$(qraw ex.test)" "$(sec mail.ex.test:.mx.ex.test)" "the Postfix listener agrees"

done_testing
