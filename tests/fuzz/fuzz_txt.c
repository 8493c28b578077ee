/*
 * fuzz_txt.c: libFuzzer harness for the TXT record side of sts.c.  The
 * input is used three ways: as the wire form of one TXT RR (join), as one
 * joined record (parse), and as up to FUZZ_RECS records split at LF
 * (select).  Any broken invariant aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "sts.h"

#define FUZZ_RECS	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Findings: bounded, named, citing 3.1, printable NUL-terminated text. */
static void
fuzz_check_diag(const struct sts_diag *d)
{
	const struct sts_finding	*f;
	size_t				 i, j;

	if (d->n > STS_DIAG_MAX)
		abort();
	for (i = 0; i < d->n; i++) {
		f = &d->f[i];
		if (f->code == NULL || f->rfc == NULL || f->line != 0 ||
		    strncmp(f->code, "txt-", 4) != 0 ||
		    strcmp(f->rfc, "RFC 8461 3.1") != 0)
			abort();
		if (memchr(f->msg, '\0', sizeof f->msg) == NULL || f->msg[0] == '\0')
			abort();
		for (j = 0; f->msg[j] != '\0'; j++) {
			if ((unsigned char)f->msg[j] < 0x20 ||
			    (unsigned char)f->msg[j] > 0x7e)
				abort();
		}
	}
}

/* A valid id is 1 to 32 letters and digits, and the record is ASCII. */
static void
fuzz_check_id(const char *rec, size_t len, const struct sts_txt *t)
{
	size_t	i, n;

	n = strnlen(t->id, sizeof t->id);
	if (n == 0 || n > STS_ID_MAX)
		abort();
	for (i = 0; i < n; i++) {
		if (!((t->id[i] >= 'a' && t->id[i] <= 'z') ||
		    (t->id[i] >= 'A' && t->id[i] <= 'Z') ||
		    (t->id[i] >= '0' && t->id[i] <= '9')))
			abort();
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)rec[i] > 0x7f)
			abort();
	}
	if (!sts_txt_is_candidate(rec, len))
		abort();
}

/* Parse one record; the verdict must agree with the findings. */
static int
fuzz_parse(const char *rec, size_t len, struct sts_txt *t)
{
	struct sts_diag	d;
	int		r;

	memset(&d, 0, sizeof d);
	r = sts_txt_parse(rec, len, t, &d);
	fuzz_check_diag(&d);
	if (r != 0 && r != -1)
		abort();
	if ((r == -1) != sts_diag_has_error(&d) || (r == -1 && d.n == 0))
		abort();
	if (r == 0)
		fuzz_check_id(rec, len, t);
	return (r);
}

/* Split at LF into records and check the selection against a recount. */
static void
fuzz_select(const char *data, size_t size)
{
	const char		*recs[FUZZ_RECS], *nl;
	size_t			 lens[FUZZ_RECS], n = 0, i, ncand = 0, which = 0;
	struct sts_txt		 t, t2;
	struct sts_diag		 d;
	enum sts_txt_result	 r;

	while (n < FUZZ_RECS) {
		nl = memchr(data, '\n', size);
		recs[n] = data;
		lens[n] = nl ? (size_t)(nl - data) : size;
		n++;
		if (nl == NULL)
			break;
		size -= (size_t)(nl + 1 - data);
		data = nl + 1;
	}
	for (i = 0; i < n; i++) {
		if (sts_txt_is_candidate(recs[i], lens[i])) {
			ncand++;
			which = i;
		}
	}
	memset(&d, 0, sizeof d);
	r = sts_txt_select(recs, lens, n, &t, &d);
	fuzz_check_diag(&d);
	if (!sts_diag_has_error(&d) != (r == STS_TXT_FOUND))
		abort();
	switch (r) {
	case STS_TXT_NONE:
		if (ncand != 0)
			abort();
		break;
	case STS_TXT_MULTIPLE:
		if (ncand < 2)
			abort();
		break;
	case STS_TXT_INVALID:
		if (ncand != 1 || fuzz_parse(recs[which], lens[which], &t2) == 0)
			abort();
		break;
	case STS_TXT_FOUND:
		if (ncand != 1 || fuzz_parse(recs[which], lens[which], &t2) != 0 ||
		    strcmp(t.id, t2.id) != 0)
			abort();
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		out[TXT_MAX], host[TXT_MAX], *mid;
	struct sts_txt	t;
	int		r;

	/* The input as the wire form of one RR. */
	memset(out, 'Z', sizeof out);
	r = sts_txt_join(data, size, out, sizeof out);
	if (r < -1 || r >= (int)sizeof out || (r >= 0 && out[r] != '\0'))
		abort();
	if (r >= 0)
		fuzz_parse(out, (size_t)r, &t);

	/* The input as one joined record, then as several. */
	fuzz_parse((const char *)data, size, &t);
	fuzz_select((const char *)data, size);

	/* The matcher and validator must take any bytes. */
	if (size < sizeof host) {
		memcpy(host, data, size);
		host[size] = '\0';
		sts_mx_valid(host, size);
		if ((mid = strchr(host, ' ')) != NULL) {
			*mid++ = '\0';
			if (sts_mx_match(host, mid) && strlen(host) == 0)
				abort();
		}
	}
	return (0);
}
