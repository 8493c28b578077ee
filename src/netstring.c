/*
 * netstring.c: netstring framing for the Postfix socketmap protocol
 * (INTEGRATION.md "Postfix socketmap").  A netstring is "<len>:<data>,"
 * with len in decimal.  The decoder is incremental: it is called on all
 * the bytes received so far and says as early as possible whether they
 * can still become a netstring.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "netstring.h"

/* Decimal digits of n (at least one). */
static size_t
netstring_digits(size_t n)
{
	size_t	d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return (d);
}

/*
 * Decode one netstring at the start of buf.  Every byte is checked as
 * soon as it is there, so a peer that sends garbage or announces too much
 * is refused without waiting for more.
 */
enum netstring_result
netstring_decode(const char *buf, size_t len, size_t max, const char **data,
    size_t *dlen, size_t *used)
{
	uint64_t	n = 0;
	size_t		i;

	*data = NULL;
	*dlen = 0;
	*used = 0;

	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (i == NETSTRING_DIGITS_MAX)
			return (NETSTRING_ERROR);
		n = n * 10 + (uint64_t)(buf[i] - '0');
		if (n > max)
			return (NETSTRING_ERROR);
	}
	if (i == len)
		return (NETSTRING_MORE);
	if (i == 0 || buf[i] != ':')
		return (NETSTRING_ERROR);

	/* i digits, ':', n bytes, ','.  n <= max, so this cannot wrap. */
	if ((uint64_t)len - i - 1 < n + 1)
		return (NETSTRING_MORE);
	if (buf[i + 1 + n] != ',')
		return (NETSTRING_ERROR);

	*data = buf + i + 1;
	*dlen = (size_t)n;
	*used = i + (size_t)n + 2;
	return (NETSTRING_OK);
}

/* Encode data as "<len>:<data>," with no leading zeros. */
size_t
netstring_encode(char *out, size_t outsz, const char *data, size_t len)
{
	size_t	d, need, i, v;

	d = netstring_digits(len);
	if (len > SIZE_MAX - d - 2)
		need = SIZE_MAX;	/* cannot be written anywhere */
	else
		need = d + 1 + len + 1;
	if (need >= outsz) {
		if (outsz > 0)
			out[0] = '\0';
		return (need);
	}
	/* The digits by hand: snprintf cost more than the rest of the call. */
	for (i = d, v = len; i > 0; i--, v /= 10)
		out[i - 1] = (char)('0' + v % 10);
	out[d] = ':';
	if (len > 0)
		memcpy(out + d + 1, data, len);
	out[d + 1 + len] = ',';
	out[need] = '\0';
	return (need);
}
