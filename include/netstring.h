/*
 * netstring.h: netstring framing for the Postfix socketmap protocol.
 * Pure; the decoder works on whatever bytes have arrived so far.
 */
#ifndef MTASTS_NETSTRING_H
#define MTASTS_NETSTRING_H

#include <stddef.h>

#define NETSTRING_DIGITS_MAX	10	/* length prefix digits, leading zeros included */

enum netstring_result {
	NETSTRING_OK = 0,	/* one complete netstring */
	NETSTRING_MORE = 1,	/* a valid prefix: wait for more bytes */
	NETSTRING_ERROR = -1	/* not a netstring or over the limit: close */
};

/*
 * Look for one netstring at the start of buf (len bytes so far).  On
 * NETSTRING_OK, *data and *dlen give the payload and *used the bytes the
 * whole netstring took.  A payload over max bytes is an error as soon as
 * the length prefix shows it, before the payload arrives.
 */
enum netstring_result netstring_decode(const char *buf, size_t len, size_t max,
	    const char **data, size_t *dlen, size_t *used);

/*
 * Write data as a netstring with a canonical length into out (outsz
 * bytes, NUL-terminated when it fits).  Returns the length the netstring
 * needs (like snprintf); nothing useful is written if that is >= outsz.
 */
size_t	netstring_encode(char *out, size_t outsz, const char *data, size_t len);

#endif
