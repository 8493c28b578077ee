/*
 * fuzz_netstring.c: libFuzzer harness for the netstring decoder.  Checks
 * the result against the input, that every prefix of a complete
 * netstring is MORE, that an error stays an error as bytes arrive, and
 * that encoding the payload gives back a netstring that decodes the same.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "netstring.h"

#define FUZZ_PREFIX_MAX	64	/* prefixes checked one by one */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*buf = (const char *)data, *d, *d2;
	enum netstring_result	 r, rp;
	size_t			 dlen, used, dlen2, used2, k, n;
	char			*enc;

	r = netstring_decode(buf, size, QUERY_MAX, &d, &dlen, &used);
	if (r == NETSTRING_OK) {
		if (used > size || dlen > QUERY_MAX || dlen + 2 > used ||
		    d < buf || d + dlen + 1 != buf + used || buf[used - 1] != ',' ||
		    d[-1] != ':')
			abort();
		/* Re-encode: canonical length, same payload. */
		n = netstring_encode(NULL, 0, d, dlen);
		enc = malloc(n + 1);
		if (netstring_encode(enc, n + 1, d, dlen) != n ||
		    netstring_decode(enc, n, QUERY_MAX, &d2, &dlen2, &used2) !=
		    NETSTRING_OK || dlen2 != dlen || used2 != n ||
		    memcmp(d, d2, dlen) != 0 || (dlen > 0 && enc[0] == '0'))
			abort();
		free(enc);
	} else if (r != NETSTRING_MORE && r != NETSTRING_ERROR)
		abort();

	/* Prefixes: MORE before a complete netstring, never OK after ERROR. */
	for (k = 0; k < size && k < FUZZ_PREFIX_MAX; k++) {
		rp = netstring_decode(buf, k, QUERY_MAX, &d2, &dlen2, &used2);
		if (r == NETSTRING_OK && k < used && rp != NETSTRING_MORE)
			abort();
		if (rp == NETSTRING_ERROR && r != NETSTRING_ERROR)
			abort();
		if (rp == NETSTRING_OK && (r != NETSTRING_OK || used2 != used))
			abort();
	}
	return (0);
}
