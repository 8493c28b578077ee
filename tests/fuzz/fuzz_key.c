/*
 * fuzz_key.c: libFuzzer harness for key_normalise() and key_is_hostname().
 * The input is the key exactly as an MTA could send it; libFuzzer's buffer
 * has exactly size bytes, so any read past len is caught by ASan.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "key.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 out[KEY_BUF], again[KEY_BUF];
	const char	*why = NULL, *why2 = NULL;
	size_t		 i, n;

	(void)key_is_hostname((const char *)data, size);
	if (key_normalise((const char *)data, size, out, &why) == -1) {
		if (why == NULL)
			abort();
		return (0);
	}
	/* A result is a lowercase LDH host name that normalises to itself. */
	n = strlen(out);
	if (why != NULL || n == 0 || n > DOMAIN_MAX || !key_is_hostname(out, n))
		abort();
	for (i = 0; i < n; i++) {
		if (out[i] >= 'A' && out[i] <= 'Z')
			abort();
	}
	if (key_normalise(out, n, again, &why2) != 0 || strcmp(out, again) != 0)
		abort();
	return (0);
}
