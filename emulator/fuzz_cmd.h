/* `lambkin fuzz`: the in-process engine for C functions (see fuzz_cmd.c). */
#ifndef LK_FUZZ_CMD_H
#define LK_FUZZ_CMD_H

/* argv as main() got it; exits 0 nothing found, 1 findings, 2 error. */
int lk_cmd_fuzz(int argc, char **argv);

#endif
