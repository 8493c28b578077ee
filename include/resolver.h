/* resolver.h: not written yet. */
#ifndef MTASTS_RESOLVER_H
#define MTASTS_RESOLVER_H
#endif
