/* control.h: not written yet. */
#ifndef MTASTS_CONTROL_H
#define MTASTS_CONTROL_H
#endif
