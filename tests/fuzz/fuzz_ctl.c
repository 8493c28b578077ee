/*
 * fuzz_ctl.c: libFuzzer harness for mtastsctl's parsers of outside data:
 * the TLS-RPT record checker (the record comes from DNS) and the JSON
 * reader (the daemon's control replies), with the JSON writer checked by
 * reading back what it wrote.  Any broken invariant aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "sts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Findings: bounded, named, citing RFC 8460 3, printable text. */
static void
fuzz_check_diag(const struct sts_diag *d, int valid)
{
	const struct sts_finding	*f;
	size_t				 i, j, errors = 0;

	if (d->n > STS_DIAG_MAX)
		abort();
	for (i = 0; i < d->n; i++) {
		f = &d->f[i];
		if (f->code == NULL || strncmp(f->code, "tlsrpt-", 7) != 0 ||
		    f->rfc == NULL || strcmp(f->rfc, CTL_TLSRPT_RFC) != 0 ||
		    f->msg[0] == '\0')
			abort();
		for (j = 0; f->msg[j] != '\0'; j++) {
			if ((unsigned char)f->msg[j] < 0x20 ||
			    (unsigned char)f->msg[j] > 0x7e)
				abort();
		}
		errors += f->error != 0;
	}
	if (valid != (errors == 0))
		abort();
}

static void
fuzz_tlsrpt(const char *s, size_t len)
{
	struct ctl_tlsrpt	 t;
	struct sts_diag		 d;
	const char		*why;
	size_t			 i;
	int			 valid;

	memset(&d, 0, sizeof d);
	valid = ctl_tlsrpt_parse(s, len, &t, &d) == 0;
	fuzz_check_diag(&d, valid);
	if (!valid) {
		if (t.nrua != 0)
			abort();
		return;
	}
	/* A valid record is a candidate with at least one good URI. */
	if (!ctl_tlsrpt_candidate(s, len) || t.nrua == 0 ||
	    t.nrua > CTL_TLSRPT_RUA_MAX)
		abort();
	for (i = 0; i < t.nrua; i++) {
		if (!ctl_tlsrpt_uri_valid(t.rua[i], strlen(t.rua[i]), &why) ||
		    memmem(s, len, t.rua[i], strlen(t.rua[i])) == NULL)
			abort();
	}
	ctl_tlsrpt_clear(&t);
}

/* Parse; write every string found back out; read it again: same bytes. */
static void
fuzz_json(const char *s, size_t len)
{
	const struct jv	*m;
	struct jv	*v, *back;
	struct json	 j;
	const char	*err;
	char		*buf = NULL;
	size_t		 blen = 0, i;
	FILE		*f;

	if ((v = jv_parse(s, len, &err)) == NULL) {
		if (err == NULL)
			abort();
		return;
	}
	if ((f = open_memstream(&buf, &blen)) == NULL)
		abort();
	json_start(&j, f);
	json_open(&j, NULL, '[');
	for (i = 0; i < v->n; i++) {
		m = v->items[i];
		if (m->type == JV_STRING)
			json_str(&j, NULL, m->str);
	}
	if (v->type == JV_STRING)
		json_str(&j, NULL, v->str);
	json_close(&j, '[');
	json_end(&j);
	fclose(f);
	if ((back = jv_parse(buf, blen, &err)) == NULL)
		abort();
	for (i = 0, blen = 0; i < v->n; i++) {
		m = v->items[i];
		if (m->type != JV_STRING)
			continue;
		if (blen >= back->n || strcmp(back->items[blen++]->str,
		    m->str) != 0)
			abort();
	}
	if (v->type == JV_STRING && (back->n != 1 ||
	    strcmp(back->items[0]->str, v->str) != 0))
		abort();
	jv_free(back);
	jv_free(v);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_tlsrpt((const char *)data, size);
	fuzz_json((const char *)data, size);
	return (0);
}
