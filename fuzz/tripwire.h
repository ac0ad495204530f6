/* What lambkin fuzz puts around a function before it runs: the tripwire
 * command (an executable the attack payloads name, which reports that it
 * ran) in out/bin and at its fixed path in /tmp, and the sink library that
 * is preloaded into the function's processes (fuzz/sink.c). */
#ifndef LK_TRIPWIRE_H
#define LK_TRIPWIRE_H

#include <stddef.h>

/* Makes out/bin with the tripwire and finds the sink library
 * (LAMBKIN_SINK_LIB, or the build's); its path goes to sink_lib. 0, or -1
 * with the reason printed. */
int lk_fuzz_prepare(const char *out, char *sink_lib, size_t cap);

#endif
