#!/usr/bin/python3
"""Time to first finding, per planted bug of handlers/vuln, on one core.

lambkin fuzz runs each planted function alone (--jobs 1, pinned to CPU 0)
with several seeds; the finding file says when it was found. For the C
handlers, plain libFuzzer (bare_handler: the same handler, the same seed
event, no custom mutator, no dictionary) runs the same way and the wall
time to its first crash is the peer's time: fuzzing time, from the
INITED line to the report, since both share a start-up (some 20 ms
here) that would hide bugs found within a few thousand execs (the wall
time is printed too). Both run the driver
fuzz_handler.c with the sink library and the tripwire (so both have the
injection oracles); plain_handler lacks only the event-aware mutator. Prints a markdown table of
medians. Usage: time_to_find.py BUILD_DIR [SEEDS]; TTF_ONLY=fn,fn
measures only those planted bugs (no C comparison), for a new row."""
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SEEDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
LAMBKIN = os.path.join(BUILD, "lambkin")
VULN = os.path.join(ROOT, "handlers", "vuln", "template.yaml")
FUZZ = os.path.join(ROOT, "build-fuzz", "fuzz")
LIMIT = 120  # seconds a run may take before it counts as not found
PIN = ["taskset", "-c", "0"] if shutil.which("taskset") else []

# The bugs planted in the vulnerable app, (function, class) each.
with open(os.path.join(os.path.dirname(VULN), "planted.json")) as f:
    PLANTED = [(p["function"], p["class"]) for p in json.load(f)]
SINK = os.path.join(BUILD, "liblambkin_sink.so")
# C handlers for the plain-libFuzzer comparison: (function, .c, symbol,
# seed event).
C_BUGS = [("archive-c", "handlers/vuln/c/archive.c", "archive_handler",
           "corpora/fuzz_mutator/s3.json"),
          ("tag-c", "handlers/vuln/c/tag.c", "tag_handler",
           "handlers/vuln/corpora/sqs/text.json"),
          ("thumb-c", "handlers/c/thumb_name.c", "thumb_name_handler",
           "corpora/fuzz_mutator/s3.json")]


def lambkin_find(fn, seed):
    work = tempfile.mkdtemp(prefix="lambkin-ttf-")
    try:
        subprocess.run(PIN + [LAMBKIN, "fuzz", fn, "-t", VULN, "--jobs", "1",
                              "--seed", str(seed), "--time", str(LIMIT),
                              "--first", "--out", work],
                       capture_output=True, timeout=LIMIT + 60)
        found = glob.glob(os.path.join(work, "findings", "*-%s-*.json" % fn))
        if not found:
            return None
        with open(found[0]) as f:
            return json.load(f)["found_after_s"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


# The first line of a finding: a sanitizer, a signal, the driver's oracle.
REPORTS = (b"ERROR: AddressSanitizer", b"runtime error:", b"deadly signal",
           b"==LAMBKIN== FINDING")


def tripwire(work):
    """A folder holding the tripwire lambkin-canary-cmd, to put on PATH."""
    bindir = os.path.join(work, "bin")
    if not os.path.exists(bindir):
        os.mkdir(bindir)
        trip = os.path.join(bindir, "lambkin-canary-cmd")
        with open(trip, "w") as f:
            f.write("#!/bin/sh\nprintf 'tripwire\\t%s\\n' \"$*\" "
                    ">> \"$LAMBKIN_SINK_LOG\"\n")
        os.chmod(trip, 0o755)
    return bindir


def libfuzzer_find(harness, src, symbol, seed_event, seed, work):
    """(wall seconds, fuzzing seconds) until libFuzzer's first finding,
    or None."""
    so = os.path.join(work, symbol + ".so")
    if not os.path.exists(so):
        subprocess.run(["clang", "-shared", "-fPIC", "-g", "-O1",
                        "-fsanitize=fuzzer-no-link,address,undefined",
                        "-I" + os.path.join(ROOT, "include"), "-o", so,
                        os.path.join(ROOT, src)], check=True)
    run = tempfile.mkdtemp(dir=work)
    seeds, corpus = os.path.join(run, "seeds"), os.path.join(run, "corpus")
    os.mkdir(seeds)
    os.mkdir(corpus)
    shutil.copy(os.path.join(ROOT, seed_event), seeds)
    bindir = tripwire(work)
    env = dict(os.environ, LAMBKIN_FUZZ_SO=so, LAMBKIN_FUZZ_SYMBOL=symbol,
               LD_PRELOAD=SINK, LAMBKIN_SINK_LOG=os.path.join(run, "sink"),
               PATH=bindir + ":" + os.environ["PATH"],
               # Symbolizing the report starts llvm-symbolizer (about 2 ms,
               # the same for both): not search time.
               ASAN_OPTIONS="symbolize=0", UBSAN_OPTIONS="symbolize=0")
    t = time.perf_counter()
    inited = found = None
    p = subprocess.Popen(PIN + [os.path.join(FUZZ, harness), "-seed=%d" % seed,
                                "-max_total_time=%d" % LIMIT,
                                "-artifact_prefix=%s/" % run, corpus, seeds],
                         env=env, cwd=run, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    for line in p.stderr:  # libFuzzer's log, read as it is written
        now = time.perf_counter()
        if inited is None and b"INITED" in line:
            inited = now
        if found is None and any(m in line for m in REPORTS):
            found = now
    p.wait()
    if not glob.glob(os.path.join(run, "crash-*")) or found is None:
        return None
    # Fuzzing time: from libFuzzer's INITED (seeds loaded and run) to the
    # first line of the report, before any stack is symbolized.
    return found - t, found - (inited if inited is not None else found)



AFL_LIMIT = 60  # seconds of AFL++ fuzzing per run
AFL_SEEDS = 3


def afl_target(src, symbol, work):
    """The plain driver (fuzz_handler.c, no custom mutator) with the handler
    linked in, for AFL++: the handler instrumented by afl-clang-fast, the
    driver and engine not, as in plain_handler."""
    exe = os.path.join(work, "afl_" + symbol)
    if os.path.exists(exe):
        return exe
    inc = ["-D_GNU_SOURCE", "-I" + os.path.join(ROOT, "include"),
           "-I" + os.path.join(ROOT, "emulator"),
           "-I" + os.path.join(ROOT, "fuzz"), "-isystem", "/usr/include/cjson"]
    drv, obj = exe + "_driver.o", exe + "_handler.o"
    subprocess.run(["clang", "-c", "-O2", "-DLK_PLAIN_LIBFUZZER",
                    "-DLK_FUZZ_HANDLER=" + symbol] + inc +
                   ["-o", drv, os.path.join(ROOT, "fuzz", "fuzz_handler.c")],
                   check=True)
    env = dict(os.environ, AFL_QUIET="1")
    subprocess.run(["afl-clang-fast", "-c", "-g", "-O1",
                    "-fsanitize=address,undefined",
                    "-I" + os.path.join(ROOT, "include"), "-o", obj,
                    os.path.join(ROOT, src)], check=True, env=env)
    subprocess.run(["afl-clang-fast", "-fsanitize=fuzzer,address,undefined",
                    "-o", exe, drv, obj,
                    os.path.join(FUZZ, "liblambkin_engine.a"),
                    os.path.join(FUZZ, "libllhttp_engine.a"),
                    "-luv", "-lcjson", "-lyaml", "-lcrypto", "-lz", "-ldl"],
                   check=True, env=env)
    return exe


def afl_find(src, symbol, seed_event, seed, work):
    """(wall seconds, fuzzing seconds) until AFL++'s first crash, or None.
    Fuzzing time is the time:N (ms) AFL++ writes in the crash's name,
    counted from the end of its calibration."""
    exe = afl_target(src, symbol, work)
    run = tempfile.mkdtemp(dir=work)
    seeds, out = os.path.join(run, "seeds"), os.path.join(run, "out")
    os.mkdir(seeds)
    shutil.copy(os.path.join(ROOT, seed_event), seeds)
    env = dict(os.environ, AFL_NO_UI="1", AFL_SKIP_CPUFREQ="1",
               AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES="1",
               AFL_BENCH_UNTIL_CRASH="1", AFL_NO_AFFINITY="1",
               AFL_PRELOAD=SINK, LAMBKIN_SINK_LOG=os.path.join(run, "sink"),
               PATH=tripwire(work) + ":" + os.environ["PATH"])
    t = time.perf_counter()
    subprocess.run(PIN + ["afl-fuzz", "-s", str(seed), "-V", str(AFL_LIMIT),
                          "-i", seeds, "-o", out, "--", exe],
                   env=env, cwd=run, capture_output=True)
    took = time.perf_counter() - t
    crashes = glob.glob(os.path.join(out, "default", "crashes", "id:*"))
    if not crashes:
        return None
    ms = [int(part[5:]) for part in os.path.basename(min(crashes)).split(",")
          if part.startswith("time:")]
    return took, (ms[0] / 1000.0 if ms else took)


def pick(runs, k):
    """Field k of each run's (wall, fuzzing) pair; a miss stays None."""
    return [r[k] if r is not None else None for r in runs]


def fmt(xs, limit=LIMIT):
    """Median, a miss counting as limit; (text, median, misses)."""
    got = [x for x in xs if x is not None]
    miss = len(xs) - len(got)
    if not got:
        return "not found in %d s" % limit, limit, miss
    m = statistics.median(x if x is not None else limit for x in xs)
    missed = " (%d of %d missed)" % (miss, len(xs)) if miss else ""
    return "%s s%s" % (("%.4f" if m < 0.1 else "%.2f") % m, missed), m, miss


def main():
    only = [f for f in os.environ.get("TTF_ONLY", "").split(",") if f]
    rows = []
    for fn, cls in PLANTED:
        if only and fn not in only:
            continue
        times = [lambkin_find(fn, s) for s in range(1, SEEDS + 1)]
        rows.append((fn, cls, fmt(times)))
        print("%s: %s" % (fn, times), file=sys.stderr)
    work = tempfile.mkdtemp(prefix="lambkin-ttf-c-")
    cmp = []
    try:
        for fn, src, sym, ev in [] if only else C_BUGS:
            ours = [libfuzzer_find("fuzz_handler", src, sym, ev, s, work)
                    for s in range(1, SEEDS + 1)]
            plain = [libfuzzer_find("plain_handler", src, sym, ev, s, work)
                     for s in range(1, SEEDS + 1)]
            afl = [afl_find(src, sym, ev, s, work)
                   for s in range(1, min(SEEDS, AFL_SEEDS) + 1)]
            print("%s: lambkin %s plain %s afl++ %s" % (fn, ours, plain, afl),
                  file=sys.stderr)
            cmp.append((fn, fmt(pick(ours, 1)), fmt(pick(plain, 1)),
                        fmt(pick(ours, 0)), fmt(pick(plain, 0)),
                        fmt(pick(afl, 1), AFL_LIMIT)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    print("Time to first finding, measured %s at commit %s: medians of %d "
          "seeds, one core (%s), %d s limit." %
          (time.strftime("%Y-%m-%d"), rev or "?", SEEDS,
           "taskset -c 0" if PIN else "unpinned", LIMIT))
    print()
    print("| planted bug | class | lambkin fuzz | target |")
    print("|---|---|---|---|")
    for fn, cls, (text, _, _) in rows:
        print("| %s | %s | %s | <= 60 s |" % (fn, cls, text))
    if only:
        return
    print()
    print("| C handler | lambkin in process | plain libFuzzer | ratio | "
          "AFL++ | ratio | wall time with start-up: lambkin / plain | "
          "target |")
    print("|---|---|---|---|---|---|---|---|")
    for fn, (ot, om, _), (pt, pm, pmiss), (ow, _, _), (pw, _, _), \
            (at, am, amiss) in cmp:
        ratio = "%s%.0fx" % (">= " if pmiss else "", pm / max(om, 1e-4))
        aratio = "%s%.0fx" % (">= " if amiss else "", am / max(om, 1e-4))
        print("| %s | %s | %s | %s | %s | %s | %s / %s | >= 10x |" %
              (fn, ot, pt, ratio, at, aratio, ow, pw))
    print()
    print("Plain libFuzzer: the same driver, handler, seed event, sink "
          "library and tripwire, without the event-aware mutator and with "
          "no dictionary. Times are fuzzing time, from libFuzzer's INITED "
          "line to the first line of the report; the wall times add the "
          "start-up both share. A bug it misses counts as %d s; "
          "ratios use at least 0.1 ms for lambkin. AFL++ (Debian's "
          "afl-fuzz %s, %d seeds of at most %d s): the same driver without "
          "the custom mutator and with the handler linked in and "
          "instrumented by afl-clang-fast, no dictionary; its time is the "
          "time:N of its first crash file, counted from the end of its "
          "calibration." % (LIMIT, afl_version(), min(SEEDS, AFL_SEEDS),
                            AFL_LIMIT))


def afl_version():
    p = subprocess.run(["afl-fuzz", "-h"], capture_output=True, text=True)
    m = re.search(r"afl-fuzz\S*?(\d+\.\d+\w*)", p.stdout + p.stderr)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    main()
