/* Process mode of `lambkin fuzz` (see fuzz_proc.c). */
#ifndef LK_FUZZ_PROC_H
#define LK_FUZZ_PROC_H

#include <cjson/cJSON.h>

#include "app.h"

/* Fuzzes fn through the emulator for time_s seconds with jobs invocations
 * in flight, from one seed event; writes a reproducer per new finding into
 * findings_dir and adds it to report["findings"]. Returns the number of
 * findings, or -1 when the emulator cannot start; *execs is set. */
int lk_fuzz_process(lk_app_t *app, lk_function_t *fn, const char *seed,
                    const char *source, int time_s, int jobs, unsigned rs,
                    const char *state_dir, const char *findings_dir,
                    cJSON *report, long *execs);

#endif
