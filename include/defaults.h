/*
 * defaults.h: built-in defaults and the limits shared by several modules.
 * Limits that only one module needs live at the top of that module.
 */
#ifndef MTASTS_DEFAULTS_H
#define MTASTS_DEFAULTS_H

#define MTASTSD_VERSION		PACKAGE_VERSION

/* Listeners. */
#define DEFAULT_LISTEN		"inet:127.0.0.1:8461"
#define DEFAULT_CACHE_ROOT	LOCALSTATEDIR "/lib/mtastsd/cache.db"
#define DEFAULT_CACHE_USER	".local/state/mtastsd/cache.db"	/* under $HOME */
#define DEFAULT_CONFIG		SYSCONFDIR "/mtastsd.conf"

/* Sizes a peer controls. */
#define DOMAIN_MAX		253	/* bytes of a domain name, no final dot */
#define LABEL_MAX		63
#define QUERY_MAX		10000	/* socketmap request payload (Postfix 3.12) */
#define REPLY_MAX		100000	/* socketmap reply payload (Postfix 3.10) */
#define POLICY_MAX		65536	/* policy body, bytes received (RFC 8461 3.3) */
#define HTTP_HEADERS_MAX	8192	/* all response headers of a policy fetch */
#define TXT_MAX			4096	/* one joined TXT record */

/* Times, in seconds unless named _MS. */
#define DISCOVERY_TIMEOUT	15	/* a first-seen domain waits at most this */
#define DEFAULT_FETCH_TIMEOUT	10	/* whole HTTPS exchange, all addresses */
#define DNS_TIMEOUT_MS		1500	/* one try at one server */
#define DNS_TRIES		3	/* rounds over the server list */
#define CLIENT_IDLE_TIMEOUT	300	/* socketmap connection without requests */
#define MAX_AGE_CLAMP		31557600	/* one year (BEHAVIOUR.md) */
#define TTL_MIN			60	/* TXT and negative TTL clamp */
#define TTL_MAX			3600
#define RETRY_MIN		300	/* after a failure (RFC 8461 3.3) */
#define RETRY_MAX		3600
#define REFRESH_MIN		86400	/* proactive refresh at least daily */
#define QUERIED_RECENTLY	(30 * 86400)
#define EVICT_UNQUERIED		(90 * 86400)

#endif
