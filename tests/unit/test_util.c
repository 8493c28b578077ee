/*
 * test_util.c: allocation helpers, clocks, small helpers and the
 * string-keyed hash table of util.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "tap.h"
#include "util.h"

#define NKEYS	10000	/* enough to make the table double several times */

static void
test_strings(void)
{
	char	*s;
	int	 n;

	s = xstrdup("mta-sts");
	is_str(s, "mta-sts", "xstrdup copies");
	free(s);
	s = xstrndup("example.com", 7);
	is_str(s, "example", "xstrndup stops at n bytes");
	free(s);
	s = xstrndup("ab", 10);
	is_str(s, "ab", "xstrndup stops at the end of a shorter string");
	free(s);
	n = xasprintf(&s, "%s:%d", "inet", 8461);
	is_str(s, "inet:8461", "xasprintf formats");
	is_int(n, 9, "xasprintf returns the length");
	free(s);
}

static void
test_lower(void)
{
	static const struct {
		const char	*in, *want;
	} rows[] = {
		{ "MiXeD.ExAmPlE.COM", "mixed.example.com" },
		{ "already.lower", "already.lower" },
		{ "", "" },
		{ "MX-1.Example.NET.", "mx-1.example.net." },
		{ "\xc3\x84X.de", "\xc3\x84x.de" },	/* UTF-8 bytes untouched */
	};
	char	buf[64];
	size_t	i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		snprintf(buf, sizeof buf, "%s", rows[i].in);
		util_lower(buf);
		is_str(buf, rows[i].want, "util_lower \"%s\"", rows[i].in);
	}
}

static void
test_clamp(void)
{
	static const struct {
		long	v, lo, hi, want;
	} rows[] = {
		{ 5, 1, 10, 5 },
		{ 0, 1, 10, 1 },
		{ 11, 1, 10, 10 },
		{ 1, 1, 10, 1 },
		{ 10, 1, 10, 10 },
		{ -5, -10, -1, -5 },
		{ 7, 3, 3, 3 },
		{ 40000000, 60, 3600, 3600 },	/* a TTL clamp (BEHAVIOUR.md) */
	};
	size_t	i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		is_int(util_clamp(rows[i].v, rows[i].lo, rows[i].hi),
		    rows[i].want, "util_clamp(%ld, %ld, %ld)", rows[i].v,
		    rows[i].lo, rows[i].hi);
}

static void
test_random(void)
{
	int		seen[10] = { 0 };
	uint32_t	r;
	int		i, bad = 0, all = 1;

	is_int(util_random(0), 0, "util_random(0) is 0");
	is_int(util_random(1), 0, "util_random(1) is 0");
	for (i = 0; i < 2000; i++) {
		r = util_random(10);
		if (r >= 10)
			bad++;
		else
			seen[r]++;
	}
	for (i = 0; i < 10; i++)
		all &= seen[i] > 0;
	is_int(bad, 0, "util_random(10) stays below 10");
	ok(all, "util_random(10) gives every value in 2000 draws");
}

static void
test_clocks(void)
{
	uint64_t	a, b;
	time_t		t;

	util_set_now(1796314073);
	is_int(util_now(), 1796314073, "util_set_now fakes util_now");
	util_set_now(0);
	t = time(NULL);
	ok(util_now() >= t && util_now() <= t + 5,
	    "util_set_now(0) restores the real clock");
	a = util_mono_ms();
	b = util_mono_ms();
	ok(a > 0 && b >= a, "util_mono_ms does not go back");
}

static void
test_timefmt(void)
{
	static const struct {
		time_t		 t;
		const char	*want;
	} rows[] = {
		{ 0, "-" },
		{ 1, "1970-01-01T00:00:01Z" },
		{ 1796314073, "2026-12-03T16:07:53Z" },
		{ 2147483648LL, "2038-01-19T03:14:08Z" },
	};
	char	buf[32];
	size_t	i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		is_str(util_timefmt(rows[i].t, buf, sizeof buf), rows[i].want,
		    "util_timefmt(%lld)", (long long)rows[i].t);
}

struct visit {
	size_t	n;
	size_t	stop_after;
	long	sum;
};

static int
test_visit_cb(const char *key, void *value, void *arg)
{
	struct visit	*v = arg;

	(void)key;
	v->sum += *(int *)value;
	return (++v->n == v->stop_after);
}

static void
test_htab_basic(void)
{
	struct htab	*h;
	char		 k1[] = "example.com", k1b[] = "example.com";
	char		 k2[] = "example.net", empty[] = "";
	int		 a = 1, b = 2, c = 3, d = 4;

	h = htab_new();
	is_int(htab_count(h), 0, "htab: a new table is empty");
	ok(htab_get(h, "example.com") == NULL, "htab: get on an empty table");
	ok(htab_put(h, k1, &a) == NULL, "htab: put of a new key returns NULL");
	ok(htab_get(h, "example.com") == &a, "htab: get finds the value by content");
	ok(htab_get(h, "EXAMPLE.COM") == NULL, "htab: keys are case-sensitive");
	ok(htab_get(h, "example.co") == NULL, "htab: a prefix is another key");
	ok(htab_put(h, k1b, &b) == &a, "htab: put of an existing key returns the old value");
	is_int(htab_count(h), 1, "htab: replacing keeps the count");
	ok(htab_get(h, k1) == &b, "htab: get returns the new value");
	htab_put(h, k2, &c);
	htab_put(h, empty, &d);
	is_int(htab_count(h), 3, "htab: three keys");
	ok(htab_get(h, "") == &d, "htab: the empty string is a key");
	ok(htab_del(h, "example.com") == &b, "htab: del returns the value");
	ok(htab_del(h, "example.com") == NULL, "htab: del of a missing key returns NULL");
	ok(htab_get(h, "example.com") == NULL && htab_get(h, "example.net") == &c,
	    "htab: del removes only its key");
	is_int(htab_count(h), 2, "htab: del lowers the count");
	htab_free(h);
	htab_free(NULL);
	ok(1, "htab_free(NULL) is harmless");
}

static void
test_htab_many(void)
{
	struct htab	*h;
	struct visit	 v;
	char		*keys[NKEYS];
	int		 vals[NKEYS];
	size_t		 i, wrong = 0;
	long		 sum = 0;

	h = htab_new();
	for (i = 0; i < NKEYS; i++) {
		xasprintf(&keys[i], "d%zu.example", i);
		vals[i] = (int)i;
		sum += (long)i;
		if (htab_put(h, keys[i], &vals[i]) != NULL)
			wrong++;
	}
	is_int(wrong, 0, "htab: %d distinct keys are all new", NKEYS);
	is_int(htab_count(h), NKEYS, "htab: count after growing");
	for (i = 0, wrong = 0; i < NKEYS; i++) {
		if (htab_get(h, keys[i]) != &vals[i])
			wrong++;
	}
	is_int(wrong, 0, "htab: every key found after the table grew");

	memset(&v, 0, sizeof v);
	htab_foreach(h, test_visit_cb, &v);
	ok(v.n == NKEYS && v.sum == sum, "htab_foreach visits every entry once");
	memset(&v, 0, sizeof v);
	v.stop_after = 5;
	htab_foreach(h, test_visit_cb, &v);
	is_int(v.n, 5, "htab_foreach stops when the callback returns non-zero");

	for (i = 0, wrong = 0; i < NKEYS; i += 2) {
		if (htab_del(h, keys[i]) != &vals[i])
			wrong++;
	}
	is_int(wrong, 0, "htab: deleting every other key");
	is_int(htab_count(h), NKEYS / 2, "htab: count after deleting half");
	for (i = 0, wrong = 0; i < NKEYS; i++) {
		if (htab_get(h, keys[i]) != (i % 2 ? &vals[i] : NULL))
			wrong++;
	}
	is_int(wrong, 0, "htab: the other half is still there, the deleted half gone");
	htab_free(h);
	for (i = 0; i < NKEYS; i++)
		free(keys[i]);
}

int
main(void)
{
	log_init("test_util", 0);
	test_strings();
	test_lower();
	test_clamp();
	test_random();
	test_clocks();
	test_timefmt();
	test_htab_basic();
	test_htab_many();
	return (done_testing());
}
