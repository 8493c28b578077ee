/*
 * tap.h: a tiny TAP producer for the unit tests.  Each check prints one
 * "ok N - name" or "not ok N - name" line; automake's TAP driver counts
 * them.  Tests are tables: loop over rows and call one check per row.
 */
#ifndef MTASTS_TAP_H
#define MTASTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int	tap_n;
static int	tap_failed;

static void tap_result(int pass, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
tap_result(int pass, const char *fmt, va_list ap)
{
	printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
	vprintf(fmt, ap);
	printf("\n");
	if (!pass)
		tap_failed++;
	fflush(stdout);
}

/* Pass when cond is true. */
static int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static int
ok(int cond, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	tap_result(cond, fmt, ap);
	va_end(ap);
	return (cond);
}

/* Pass when two integers are equal; print both otherwise. */
static int is_int(long got, long want, const char *fmt, ...) __attribute__((format(printf, 3, 4), unused));
static int
is_int(long got, long want, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	tap_result(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		printf("#   got: %ld\n#  want: %ld\n", got, want);
	return (got == want);
}

/* Pass when two strings are equal (NULL equals only NULL). */
static int is_str(const char *got, const char *want, const char *fmt, ...) __attribute__((format(printf, 3, 4), unused));
static int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list	ap;
	int	pass;

	pass = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;
	va_start(ap, fmt);
	tap_result(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#   got: \"%s\"\n#  want: \"%s\"\n", got ? got : "(null)",
		    want ? want : "(null)");
	return (pass);
}

/* Print the plan at the end and return the exit status for main. */
static int done_testing(void) __attribute__((unused));
static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return (tap_failed == 0 ? 0 : 1);
}

#endif
