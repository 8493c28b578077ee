/*
 * test_netstring.c: netstring framing for the Postfix socketmap protocol
 * (INTEGRATION.md "Postfix socketmap").
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "netstring.h"
#include "tap.h"

#define T_MAX	QUERY_MAX

/* One decode: the bytes so far and the expected result. */
struct dec_case {
	const char		*id;
	const char		*in;
	size_t			 len;	/* 0: strlen(in) */
	size_t			 max;	/* 0: T_MAX */
	enum netstring_result	 want;
	const char		*data;	/* payload on NETSTRING_OK */
	size_t			 used;
};

static const struct dec_case dec_cases[] = {
	{ "request", "19:postfix example.com,", 0, 0, NETSTRING_OK,
	    "postfix example.com", 23 },
	{ "empty payload", "0:,", 0, 0, NETSTRING_OK, "", 3 },
	{ "leading zeros accepted", "0003:abc,", 0, 0, NETSTRING_OK, "abc", 9 },
	{ "ten digits of zeros", "0000000003:abc,", 0, 0, NETSTRING_OK, "abc", 15 },
	{ "trailing bytes left for the next call", "1:a,2:bc,", 0, 0, NETSTRING_OK,
	    "a", 4 },
	{ "payload with ':' and ','", "3::,,,", 0, 0, NETSTRING_OK, ":,,", 6 },
	{ "payload with NUL", "3:a\0b,", 6, 0, NETSTRING_OK, "a\0b", 6 },
	{ "length exactly max", "5:abcde,", 0, 5, NETSTRING_OK, "abcde", 8 },
	{ "nothing yet", "", 0, 0, NETSTRING_MORE, NULL, 0 },
	{ "digits only", "12", 0, 0, NETSTRING_MORE, NULL, 0 },
	{ "ten digits", "0000000012", 0, 0, NETSTRING_MORE, NULL, 0 },
	{ "length and colon", "12:", 0, 0, NETSTRING_MORE, NULL, 0 },
	{ "part of the payload", "12:postfix", 0, 0, NETSTRING_MORE, NULL, 0 },
	{ "payload without comma yet", "3:abc", 0, 0, NETSTRING_MORE, NULL, 0 },
	{ "eleven digits", "00000000001", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "eleven digits then more", "00000000001:a,", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "length over max", "6:abcdef,", 0, 5, NETSTRING_ERROR, NULL, 0 },
	{ "length over max, prefix only", "10001", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "10 MB length prefix", "10000000:", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "10 MB length, digits only", "10000000", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "huge length, no overflow", "9999999999", 0, (size_t)-1, NETSTRING_MORE,
	    NULL, 0 },
	{ "missing colon", "3abc,", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "no length", ":abc,", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "missing comma", "3:abcd", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "short payload then comma", "3:ab,", 0, 0, NETSTRING_MORE, NULL, 0 },
	{ "short payload, wrong terminator", "3:ab,x", 0, 0, NETSTRING_ERROR,
	    NULL, 0 },
	{ "non-digit first", "x3:abc,", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "sign", "+3:abc,", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "minus", "-1:,", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "space before colon", "3 :abc,", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "leading space", " 3:abc,", 0, 0, NETSTRING_ERROR, NULL, 0 },
	{ "newline terminator", "3:abc\n", 0, 0, NETSTRING_ERROR, NULL, 0 },
};

static void
test_decode_table(void)
{
	const struct dec_case		*c;
	const char			*data;
	size_t				 i, len, dlen, used;
	enum netstring_result		 r;

	for (i = 0; i < sizeof dec_cases / sizeof dec_cases[0]; i++) {
		c = &dec_cases[i];
		len = c->len != 0 ? c->len : strlen(c->in);
		r = netstring_decode(c->in, len, c->max != 0 ? c->max : T_MAX,
		    &data, &dlen, &used);
		if (c->want != NETSTRING_OK || r != NETSTRING_OK) {
			is_int(r, c->want, "decode: %s", c->id);
			continue;
		}
		ok(dlen == c->used - (size_t)(strchr(c->in, ':') - c->in) - 2 &&
		    data == strchr(c->in, ':') + 1 &&
		    memcmp(data, c->data, dlen) == 0 && used == c->used,
		    "decode: %s (dlen %zu used %zu)", c->id, dlen, used);
	}
}

/* A request fed one byte at a time: MORE until the last byte, then OK. */
static void
test_bytewise(void)
{
	const char	*req = "0024:postfix mail.example.com,";
	const char	*data;
	size_t		 len = strlen(req), n, dlen, used;
	int		 more = 0;
	char		*buf;

	for (n = 0; n < len; n++) {
		/* Only n bytes exist: an exact copy, so reading past is caught. */
		buf = malloc(n + (n == 0));
		memcpy(buf, req, n);
		if (netstring_decode(buf, n, T_MAX, &data, &dlen, &used) ==
		    NETSTRING_MORE)
			more++;
		free(buf);
	}
	buf = malloc(len);
	memcpy(buf, req, len);
	is_int(more, (long)len, "byte by byte: MORE for all %zu prefixes", len);
	ok(netstring_decode(buf, len, T_MAX, &data, &dlen, &used) ==
	    NETSTRING_OK && dlen == 24 && used == len &&
	    memcmp(data, "postfix mail.example.com", 24) == 0,
	    "byte by byte: OK on the last byte");
	free(buf);
}

/* The decoder gives up on a 10 MB request before reading its payload. */
static void
test_huge(void)
{
	const char	*data;
	size_t		 dlen, used;
	char		*buf;
	size_t		 n = 10 * 1000 * 1000 + 16;

	buf = malloc(n);
	memset(buf, 'a', n);
	memcpy(buf, "10000000:", 9);
	is_int(netstring_decode(buf, n, T_MAX, &data, &dlen, &used),
	    NETSTRING_ERROR, "10 MB request with its payload: ERROR");
	ok(data == NULL && dlen == 0 && used == 0, "nothing returned on ERROR");
	free(buf);
}

static void
test_encode(void)
{
	char	out[64], big[20000];
	size_t	n;

	n = netstring_encode(out, sizeof out, "OK secure", 9);
	is_str(out, "9:OK secure,", "encode: short");
	is_int((long)n, 12, "encode: length returned");

	n = netstring_encode(out, sizeof out, "NOTFOUND ", 9);
	is_str(out, "9:NOTFOUND ,", "encode: NOTFOUND keeps its space");

	n = netstring_encode(out, sizeof out, "", 0);
	is_str(out, "0:,", "encode: empty");

	n = netstring_encode(out, sizeof out, "0123456789", 10);
	is_str(out, "10:0123456789,", "encode: two-digit length, no padding");

	n = netstring_encode(out, 13, "0123456789", 10);
	ok(n == 14 && out[0] == '\0', "encode: too small is like snprintf");
	n = netstring_encode(out, 14, "0123456789", 10);
	ok(n == 14 && out[0] == '\0', "encode: no room for NUL writes nothing");
	n = netstring_encode(out, 15, "0123456789", 10);
	ok(n == 14 && strcmp(out, "10:0123456789,") == 0,
	    "encode: exact fit with NUL");
	n = netstring_encode(NULL, 0, "abc", 3);
	is_int((long)n, 6, "encode: size query with a NULL buffer");

	memset(big, 'x', sizeof big);
	n = netstring_encode(big, sizeof big, big + 10000, REPLY_MAX / 100);
	ok(n == 1006 && memcmp(big, "1000:", 5) == 0 && big[1005] == ',',
	    "encode: four-digit length");

	/* Round trip with a payload holding a NUL. */
	n = netstring_encode(out, sizeof out, "a\0,b", 4);
	{
		const char	*data;
		size_t		 dlen, used;

		ok(n == 7 && netstring_decode(out, n, T_MAX, &data, &dlen,
		    &used) == NETSTRING_OK && dlen == 4 && used == 7 &&
		    memcmp(data, "a\0,b", 4) == 0, "encode then decode");
	}
}

int
main(void)
{
	test_decode_table();
	test_bytewise();
	test_huge();
	test_encode();
	return (done_testing());
}
