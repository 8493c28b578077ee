/*
 * util.c: allocation wrappers, clocks, and the string-keyed hash table.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		fatal("xmalloc size=%zu", n);
	return (p);
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatal("xcalloc n=%zu size=%zu", n, size);
	return (p);
}

void *
xrealloc(void *old, size_t n)
{
	void	*p;

	if ((p = realloc(old, n == 0 ? 1 : n)) == NULL)
		fatal("xrealloc size=%zu", n);
	return (p);
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("xstrdup");
	return (p);
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatal("xstrndup");
	return (p);
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("xasprintf");
	return (n);
}

static time_t	util_fake_now;

time_t
util_now(void)
{
	if (util_fake_now != 0)
		return (util_fake_now);
	return (time(NULL));
}

void
util_set_now(time_t t)
{
	util_fake_now = t;
}

uint64_t
util_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

void
util_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

long
util_clamp(long v, long lo, long hi)
{
	if (v < lo)
		return (lo);
	if (v > hi)
		return (hi);
	return (v);
}

uint32_t
util_random(uint32_t n)
{
	uint32_t	r;

	if (n == 0)
		return (0);
	if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
		r = (uint32_t)random();
	return (r % n);
}

const char *
util_timefmt(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	if (t == 0) {
		snprintf(buf, len, "-");
		return (buf);
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return (buf);
}

int
util_unix_free(const char *path, char **err)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, live;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return (0);
		xasprintf(err, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (!S_ISSOCK(st.st_mode)) {
		xasprintf(err, "%s exists and is not a socket: not removing it",
		    path);
		return (-1);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(err, "%s: path too long", path);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(err, "%s: socket: %s", path, strerror(errno));
		return (-1);
	}
	live = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
	close(fd);
	if (live) {
		xasprintf(err, "%s: another process is listening on it", path);
		return (-1);
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		xasprintf(err, "%s: unlink: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

/* The hash table: chained buckets, FNV-1a, doubling at load factor 1. */
struct htab_node {
	const char		*key;
	void			*value;
	uint32_t		 hash;
	struct htab_node	*next;
};

struct htab {
	struct htab_node	**buckets;
	size_t			  nbuckets;
	size_t			  count;
};

static uint32_t
htab_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return (h);
}

struct htab *
htab_new(void)
{
	struct htab	*h;

	h = xcalloc(1, sizeof *h);
	h->nbuckets = 64;
	h->buckets = xcalloc(h->nbuckets, sizeof *h->buckets);
	return (h);
}

void
htab_free(struct htab *h)
{
	struct htab_node	*n, *next;
	size_t			 i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nbuckets; i++) {
		for (n = h->buckets[i]; n != NULL; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(h->buckets);
	free(h);
}

static struct htab_node **
htab_find(struct htab *h, const char *key, uint32_t hash)
{
	struct htab_node	**np;

	for (np = &h->buckets[hash & (h->nbuckets - 1)]; *np != NULL;
	    np = &(*np)->next) {
		if ((*np)->hash == hash && strcmp((*np)->key, key) == 0)
			break;
	}
	return (np);
}

static void
htab_grow(struct htab *h)
{
	struct htab_node	**nb, *n, *next;
	size_t			  i, nn = h->nbuckets * 2;

	nb = xcalloc(nn, sizeof *nb);
	for (i = 0; i < h->nbuckets; i++) {
		for (n = h->buckets[i]; n != NULL; n = next) {
			next = n->next;
			n->next = nb[n->hash & (nn - 1)];
			nb[n->hash & (nn - 1)] = n;
		}
	}
	free(h->buckets);
	h->buckets = nb;
	h->nbuckets = nn;
}

void *
htab_get(struct htab *h, const char *key)
{
	struct htab_node	*n = *htab_find(h, key, htab_hash(key));

	return (n == NULL ? NULL : n->value);
}

void *
htab_put(struct htab *h, const char *key, void *value)
{
	uint32_t		  hash = htab_hash(key);
	struct htab_node	**np = htab_find(h, key, hash), *n;
	void			 *old;

	if ((n = *np) != NULL) {
		old = n->value;
		n->key = key;
		n->value = value;
		return (old);
	}
	n = xmalloc(sizeof *n);
	n->key = key;
	n->value = value;
	n->hash = hash;
	n->next = NULL;
	*np = n;
	if (++h->count > h->nbuckets)
		htab_grow(h);
	return (NULL);
}

void *
htab_del(struct htab *h, const char *key)
{
	struct htab_node	**np = htab_find(h, key, htab_hash(key)), *n;
	void			 *value;

	if ((n = *np) == NULL)
		return (NULL);
	*np = n->next;
	value = n->value;
	free(n);
	h->count--;
	return (value);
}

size_t
htab_count(const struct htab *h)
{
	return (h->count);
}

void
htab_foreach(struct htab *h, int (*fn)(const char *, void *, void *), void *arg)
{
	struct htab_node	*n, *next;
	size_t			 i;

	for (i = 0; i < h->nbuckets; i++) {
		for (n = h->buckets[i]; n != NULL; n = next) {
			next = n->next;
			if (fn(n->key, n->value, arg) != 0)
				return;
		}
	}
}
