/*
 * ctl-json.c: JSON for mtastsctl.  The writer streams one document on one
 * line and always produces valid JSON and valid UTF-8, whatever bytes a
 * policy body or a peer sent (invalid UTF-8 becomes U+FFFD).  The reader
 * parses the daemon's control replies into a small tree.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "util.h"

#define JV_STRING_MAX	(64 * 1024)	/* bytes of one string read */
#define JV_ITEMS_MAX	4096		/* members of one array or object */

void
json_start(struct json *j, FILE *f)
{
	memset(j, 0, sizeof *j);
	j->f = f;
}

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t
json_utf8_len(const unsigned char *s, size_t n)
{
	size_t		len, i;
	uint32_t	cp;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (len);
}

/* Write a quoted, escaped string. */
static void
json_quote(FILE *f, const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, n;

	fputc('"', f);
	while (i < len) {
		switch (u[i]) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (u[i] < 0x20 || u[i] == 0x7f) {
				fprintf(f, "\\u%04x", u[i]);
				break;
			}
			if ((n = json_utf8_len(u + i, len - i)) == 0) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(u + i, 1, n, f);
			i += n;
			continue;
		}
		i++;
	}
	fputc('"', f);
}

/* The separator and key before a value. */
static void
json_member(struct json *j, const char *key)
{
	if (j->count[j->depth]++ > 0)
		fputc(',', j->f);
	if (key != NULL) {
		json_quote(j->f, key, strlen(key));
		fputc(':', j->f);
	}
}

void
json_open(struct json *j, const char *key, int type)
{
	if (j->depth == CTL_JSON_DEPTH_MAX)
		fatalx("json_open: nesting deeper than %d", CTL_JSON_DEPTH_MAX);
	json_member(j, key);
	fputc(type == '[' ? '[' : '{', j->f);
	j->count[++j->depth] = 0;
}

void
json_close(struct json *j, int type)
{
	if (j->depth == 0)
		fatalx("json_close: nothing open");
	j->depth--;
	fputc(type == '[' ? ']' : '}', j->f);
}

void
json_strn(struct json *j, const char *key, const char *s, size_t len)
{
	json_member(j, key);
	json_quote(j->f, s, len);
}

void
json_str(struct json *j, const char *key, const char *s)
{
	if (s == NULL) {
		json_null(j, key);
		return;
	}
	json_strn(j, key, s, strlen(s));
}

void
json_int(struct json *j, const char *key, int64_t v)
{
	json_member(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void
json_uint(struct json *j, const char *key, uint64_t v)
{
	json_member(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void
json_bool(struct json *j, const char *key, int v)
{
	json_member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void
json_null(struct json *j, const char *key)
{
	json_member(j, key);
	fputs("null", j->f);
}

void
json_end(struct json *j)
{
	if (j->depth != 0)
		fatalx("json_end: %d still open", j->depth);
	fputc('\n', j->f);
	fflush(j->f);
}

/* The reader: recursive descent over a bounded input. */

struct jv_parser {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	const char	*err;
};

static struct jv	*jv_value(struct jv_parser *, int depth);

static void
jv_ws(struct jv_parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' ||
	    p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
	    p->s[p->pos] == '\r'))
		p->pos++;
}

static struct jv *
jv_new(enum jv_type type)
{
	struct jv	*v = xcalloc(1, sizeof *v);

	v->type = type;
	return (v);
}

void
jv_free(struct jv *v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		if (v->keys != NULL)
			free(v->keys[i]);
		jv_free(v->items[i]);
	}
	free(v->keys);
	free(v->items);
	free(v->str);
	free(v);
}

static int
jv_hex4(struct jv_parser *p, uint32_t *out)
{
	uint32_t	v = 0;
	int		i, c;

	if (p->len - p->pos < 4)
		return (-1);
	for (i = 0; i < 4; i++) {
		c = (unsigned char)p->s[p->pos++];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return (-1);
	}
	*out = v;
	return (0);
}

/* Append code point cp as UTF-8. */
static void
jv_put_utf8(char *buf, size_t *n, uint32_t cp)
{
	if (cp < 0x80)
		buf[(*n)++] = (char)cp;
	else if (cp < 0x800) {
		buf[(*n)++] = (char)(0xc0 | (cp >> 6));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		buf[(*n)++] = (char)(0xe0 | (cp >> 12));
		buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		buf[(*n)++] = (char)(0xf0 | (cp >> 18));
		buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* A string after its opening quote; malloc'd, NULL on error. */
static char *
jv_string(struct jv_parser *p)
{
	char		*buf;
	size_t		 n = 0, alloc = 32, u;
	uint32_t	 cp, lo;
	unsigned char	 c;

	buf = xmalloc(alloc);
	for (;;) {
		if (p->pos >= p->len) {
			p->err = "unterminated string";
			goto fail;
		}
		if (n >= JV_STRING_MAX) {
			p->err = "string too long";
			goto fail;
		}
		/* Room for the longest append (4 bytes) and the NUL. */
		if (n + 5 > alloc) {
			alloc *= 2;
			buf = xrealloc(buf, alloc);
		}
		c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20) {
			p->err = "control character in string";
			goto fail;
		}
		if (c >= 0x80) {
			/* RFC 8259 8.1: the text is UTF-8. */
			u = json_utf8_len((const unsigned char *)p->s + p->pos - 1,
			    p->len - p->pos + 1);
			if (u == 0) {
				p->err = "invalid UTF-8 in string";
				goto fail;
			}
			memcpy(buf + n, p->s + p->pos - 1, u);
			n += u;
			p->pos += u - 1;
			continue;
		}
		if (c != '\\') {
			buf[n++] = (char)c;
			continue;
		}
		if (p->pos >= p->len) {
			p->err = "unterminated escape";
			goto fail;
		}
		switch ((c = (unsigned char)p->s[p->pos++])) {
		case '"':
		case '\\':
		case '/':
			buf[n++] = (char)c;
			break;
		case 'b':
			buf[n++] = '\b';
			break;
		case 'f':
			buf[n++] = '\f';
			break;
		case 'n':
			buf[n++] = '\n';
			break;
		case 'r':
			buf[n++] = '\r';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case 'u':
			if (jv_hex4(p, &cp) != 0) {
				p->err = "bad \\u escape";
				goto fail;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p->len - p->pos < 6 || p->s[p->pos] != '\\' ||
				    p->s[p->pos + 1] != 'u') {
					p->err = "lone surrogate";
					goto fail;
				}
				p->pos += 2;
				if (jv_hex4(p, &lo) != 0 || lo < 0xdc00 ||
				    lo > 0xdfff) {
					p->err = "bad surrogate pair";
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				p->err = "lone surrogate";
				goto fail;
			}
			if (cp == 0) {
				p->err = "NUL in string";
				goto fail;
			}
			jv_put_utf8(buf, &n, cp);
			break;
		default:
			p->err = "bad escape";
			goto fail;
		}
	}
	buf[n] = '\0';
	return (buf);
fail:
	free(buf);
	return (NULL);
}

/* A number: -? int frac? exp? as in RFC 8259. */
static struct jv *
jv_number(struct jv_parser *p)
{
	char		 tmp[64];
	size_t		 start = p->pos, n;
	struct jv	*v;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
		goto bad;
	if (p->s[p->pos] == '0')
		p->pos++;
	else
		while (p->pos < p->len && p->s[p->pos] >= '0' &&
		    p->s[p->pos] <= '9')
			p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
			goto bad;
		while (p->pos < p->len && p->s[p->pos] >= '0' &&
		    p->s[p->pos] <= '9')
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' ||
		    p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
			goto bad;
		while (p->pos < p->len && p->s[p->pos] >= '0' &&
		    p->s[p->pos] <= '9')
			p->pos++;
	}
	if ((n = p->pos - start) >= sizeof tmp)
		goto bad;
	memcpy(tmp, p->s + start, n);
	tmp[n] = '\0';
	v = jv_new(JV_NUMBER);
	v->num = strtod(tmp, NULL);
	return (v);
bad:
	p->err = "bad number";
	return (NULL);
}

/* A literal word: true, false, null. */
static struct jv *
jv_word(struct jv_parser *p)
{
	static const struct {
		const char	*w;
		enum jv_type	 type;
		int		 b;
	} words[] = {
		{ "true", JV_BOOL, 1 },
		{ "false", JV_BOOL, 0 },
		{ "null", JV_NULL, 0 }
	};
	struct jv	*v;
	size_t		 i, n;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		n = strlen(words[i].w);
		if (p->len - p->pos >= n &&
		    memcmp(p->s + p->pos, words[i].w, n) == 0) {
			p->pos += n;
			v = jv_new(words[i].type);
			v->b = words[i].b;
			return (v);
		}
	}
	p->err = "unexpected character";
	return (NULL);
}

/* Append one member to an array or object. */
static int
jv_push(struct jv_parser *p, struct jv *v, char *key, struct jv *item)
{
	if (v->n == JV_ITEMS_MAX) {
		p->err = "too many members";
		free(key);
		jv_free(item);
		return (-1);
	}
	v->items = xrealloc(v->items, (v->n + 1) * sizeof *v->items);
	if (v->type == JV_OBJECT)
		v->keys = xrealloc(v->keys, (v->n + 1) * sizeof *v->keys);
	v->items[v->n] = item;
	if (v->type == JV_OBJECT)
		v->keys[v->n] = key;
	v->n++;
	return (0);
}

/* An array or object after its opening bracket. */
static struct jv *
jv_container(struct jv_parser *p, enum jv_type type, int depth)
{
	struct jv	*v = jv_new(type), *item;
	char		*key = NULL;
	char		 close = type == JV_ARRAY ? ']' : '}';

	jv_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return (v);
	}
	for (;;) {
		jv_ws(p);
		if (type == JV_OBJECT) {
			if (p->pos >= p->len || p->s[p->pos] != '"') {
				p->err = "expected a member name";
				goto fail;
			}
			p->pos++;
			if ((key = jv_string(p)) == NULL)
				goto fail;
			jv_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				p->err = "expected ':'";
				goto fail;
			}
			p->pos++;
		}
		if ((item = jv_value(p, depth + 1)) == NULL) {
			free(key);
			goto fail;
		}
		if (jv_push(p, v, key, item) != 0)
			goto fail;
		key = NULL;
		jv_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return (v);
		}
		p->err = type == JV_ARRAY ? "expected ',' or ']'" :
		    "expected ',' or '}'";
		goto fail;
	}
fail:
	jv_free(v);
	return (NULL);
}

static struct jv *
jv_value(struct jv_parser *p, int depth)
{
	struct jv	*v;
	char		*s;

	if (depth >= CTL_JSON_DEPTH_MAX) {
		p->err = "nested too deeply";
		return (NULL);
	}
	jv_ws(p);
	if (p->pos >= p->len) {
		p->err = "unexpected end";
		return (NULL);
	}
	switch (p->s[p->pos]) {
	case '{':
		p->pos++;
		return (jv_container(p, JV_OBJECT, depth));
	case '[':
		p->pos++;
		return (jv_container(p, JV_ARRAY, depth));
	case '"':
		p->pos++;
		if ((s = jv_string(p)) == NULL)
			return (NULL);
		v = jv_new(JV_STRING);
		v->str = s;
		return (v);
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return (jv_number(p));
	default:
		return (jv_word(p));
	}
}

struct jv *
jv_parse(const char *s, size_t len, const char **err)
{
	struct jv_parser	 p = { s, len, 0, NULL };
	struct jv		*v;

	if ((v = jv_value(&p, 0)) == NULL) {
		*err = p.err;
		return (NULL);
	}
	jv_ws(&p);
	if (p.pos != p.len) {
		jv_free(v);
		*err = "trailing characters";
		return (NULL);
	}
	return (v);
}

const struct jv *
jv_get(const struct jv *v, const char *key)
{
	size_t	i;

	if (v == NULL || v->type != JV_OBJECT)
		return (NULL);
	for (i = 0; i < v->n; i++) {
		if (strcmp(v->keys[i], key) == 0)
			return (v->items[i]);
	}
	return (NULL);
}

uint64_t
jv_uint(const struct jv *v, const char *key, uint64_t def)
{
	const struct jv	*m = jv_get(v, key);

	if (m == NULL || m->type != JV_NUMBER || !(m->num >= 0) ||
	    m->num >= 18446744073709551616.0)
		return (def);
	return ((uint64_t)m->num);
}

const char *
jv_str(const struct jv *v, const char *key)
{
	const struct jv	*m = jv_get(v, key);

	if (m == NULL || m->type != JV_STRING)
		return (NULL);
	return (m->str);
}
