/* server.h: not written yet. */
#ifndef MTASTS_SERVER_H
#define MTASTS_SERVER_H
#endif
