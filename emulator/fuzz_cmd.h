/* `lambkin fuzz`: the in-process engine for C functions (see fuzz_cmd.c). */
#ifndef LK_FUZZ_CMD_H
#define LK_FUZZ_CMD_H

/* argv as main() got it; exits 0 nothing found, 1 findings, 2 error. */
int lk_cmd_fuzz(int argc, char **argv);

struct cJSON;
/* `lambkin replay` of a finding record: 1 reproduced, 0 not, 2 error. */
int lk_fuzz_replay(const char *template_path, const char *state_dir,
                   const struct cJSON *rec);

#endif
