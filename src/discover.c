/* discover.c: not written yet. */
#include "config.h"
