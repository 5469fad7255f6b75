/* center: the examcenter program, the reference exam center. One file per
 * command (cmd_*.c); main.c holds the command table. Uses common and crypto,
 * never agent. */
#ifndef EXAMROOM_CENTER_H
#define EXAMROOM_CENTER_H

#include "crypto.h"

#endif
