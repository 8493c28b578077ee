/*
 * control.h: the administrator's control socket (mtastsctl).  A unix
 * stream socket; only root and the daemon's own user may use it (checked
 * with SO_PEERCRED).  One request line per connection:
 *
 *	stats			counters and entries by state (JSON)
 *	refresh DOMAIN		fetch DOMAIN's policy again now
 *	refresh-all		refresh every cached domain
 *	forget DOMAIN		drop DOMAIN from memory and the file
 *	flush			drop every entry
 *	sync			write pending cache changes to the file now
 *
 * The reply is one JSON object followed by a newline, then the daemon
 * closes the connection.  Every reply has "ok": true or false, and
 * "error" when false.
 */
#ifndef MTASTS_CONTROL_H
#define MTASTS_CONTROL_H

struct event_base;
struct resolver;

#define CONTROL_REQUEST_MAX	512	/* bytes of one request line */
#define CONTROL_TIMEOUT		10	/* s to send the request */

struct control;

/* Listen on path (replacing a stale socket); NULL with *err on failure. */
struct control	*control_new(struct event_base *, struct resolver *,
		    const char *path, char **err);
void		 control_free(struct control *);

#endif
