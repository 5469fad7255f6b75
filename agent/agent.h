/* agent: the examroom program. One file per command (cmd_*.c), each with
 * one entry function declared here; main.c holds the command table. */
#ifndef EXAMROOM_AGENT_H
#define EXAMROOM_AGENT_H

#include "crypto.h"

int cmd_register(struct cli_ctx *ctx, int argc, char **argv);
int cmd_unlock(struct cli_ctx *ctx, int argc, char **argv);

#endif
