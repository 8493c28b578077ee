/*
 * server.h: the listeners and client connections for the two wire
 * protocols: Postfix socketmap (netstrings, persistent connections, one
 * request answered at a time, in order) and the Exim line protocol (one
 * request per connection, raw reply, then close).
 */
#ifndef MTASTS_SERVER_H
#define MTASTS_SERVER_H

#include <stddef.h>

struct event_base;
struct config;
struct listen_addr;
struct resolver;

#define CLIENT_OUTPUT_MAX	(16 * 1024)	/* unread replies before we stop reading (Postfix reads each reply) */
#define CLIENT_WRITE_TIMEOUT	30		/* s a client may leave replies unread */
#define EXIM_REQUEST_MAX	1024		/* bytes of one Exim request */
#define ACCEPT_BACKOFF_MS	500		/* pause accepting after EMFILE */

struct server;

struct server	*server_new(struct event_base *, struct resolver *,
		    const struct config *);
/* Open one listener; -1 with *err (malloc'd) on failure. */
int		 server_listen(struct server *, const struct listen_addr *,
		    char **err);
/* Open a listener on an already bound and listening socket (activation). */
int		 server_listen_fd(struct server *, int fd, int proto);
/* Use a new configuration (zones, limits) for new requests. */
void		 server_set_config(struct server *, const struct config *);
/* Stop accepting connections. */
void		 server_close_listeners(struct server *);
/* Clients that still have replies to write. */
size_t		 server_pending(struct server *);
size_t		 server_clients(struct server *);
void		 server_free(struct server *);

#endif
