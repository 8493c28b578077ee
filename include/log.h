/*
 * log.h: logging to stderr or syslog.  Lines are key=value pairs; callers
 * put the domain and what happens next in them.
 */
#ifndef MTASTS_LOG_H
#define MTASTS_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Start logging as NAME to stderr (use_syslog 0) or syslog (1). */
void	log_init(const char *name, int use_syslog);
void	log_setlevel(enum log_level);
int	log_getlevel(void);
/* Parse "err", "warn", "info", "debug"; -1 if unknown. */
int	log_level_parse(const char *);

/* log_warn appends strerror(errno); log_warnx does not. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Startup and programmer errors only: log and exit(1). */
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
