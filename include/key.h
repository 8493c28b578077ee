/*
 * key.h: turn a socketmap or Exim query key into the policy domain
 * (BEHAVIOUR.md "Query keys").  Pure apart from libidn2.
 */
#ifndef MTASTS_KEY_H
#define MTASTS_KEY_H

#include <stddef.h>

#include "defaults.h"

#define KEY_BUF	(DOMAIN_MAX + 1)

/*
 * Normalise key (len bytes, not NUL-terminated) into out (KEY_BUF bytes):
 * lowercase, one trailing dot removed, smart host forms reduced to the
 * host, UTF-8 converted to A-labels.  Returns 0 with out set when the key
 * names a domain that may have a policy; -1 when the answer is NOTFOUND at
 * once (IP literal, parent probe, empty, too long, not a host name, bad
 * IDN), with *why set to a static reason such as "ip-literal".
 */
int	key_normalise(const char *key, size_t len, char *out, const char **why);

/* Whether s is a valid LDH host name of A-labels (no final dot). */
int	key_is_hostname(const char *s, size_t len);

#endif
