/*
 * util.h: allocation wrappers, a string-keyed hash table and small helpers.
 */
#ifndef MTASTS_UTIL_H
#define MTASTS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Internal allocations: die on failure (never for peer-sized data). */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));

/* Wall clock and monotonic clock in seconds / milliseconds. */
time_t	 util_now(void);
uint64_t util_mono_ms(void);
/* Override util_now() for tests (0 restores the real clock). */
void	 util_set_now(time_t);

/* Lowercase ASCII in place. */
void	 util_lower(char *);
/* Clamp v to [lo, hi]. */
long	 util_clamp(long v, long lo, long hi);
/* A random number in [0, n) from the OpenSSL RNG. */
uint32_t util_random(uint32_t n);
/* Format an epoch as "2026-12-03T16:07:53Z" into buf (>= 21 bytes); "-" for 0. */
const char *util_timefmt(time_t, char *buf, size_t len);

/*
 * Make path free for a new unix socket: remove a stale socket left by a
 * process that is gone; refuse (-1, *err set) when the path is anything
 * but a socket, or a socket someone still listens on.
 */
int	 util_unix_free(const char *path, char **err);

/*
 * A string-keyed hash table.  Keys are not copied: the caller keeps each
 * key alive while its value is in the table (usually the key lives in the
 * value).  Grows by doubling; lookups are O(1) on average.
 */
struct htab;
struct htab	*htab_new(void);
void		 htab_free(struct htab *);
void		*htab_get(struct htab *, const char *key);
/* Insert or replace; returns the old value or NULL. */
void		*htab_put(struct htab *, const char *key, void *value);
/* Remove; returns the value or NULL. */
void		*htab_del(struct htab *, const char *key);
size_t		 htab_count(const struct htab *);
/* Visit every entry; fn may not change the table.  Stops when fn returns non-zero. */
void		 htab_foreach(struct htab *, int (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
