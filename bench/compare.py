"""Two builds of lambkin side by side, for a change that should not move
the figures (a refactor) or should move one. Runs `make bench`'s lambkin
measures (bench/run.py) on each, rounds alternating which goes first so
the machine's drift hits both, and prints the medians and their ratio.

    bench/compare.py BEFORE_TREE AFTER_TREE [ROUNDS]

Each tree is a checkout with `build/` and `build-fuzz/` made (`make build
build-fuzz`); the handlers, templates and seeds are this checkout's, so
only lambkin itself differs.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

class Lambkin(run.Lambkin):
    """run.py's server, started again on another port when the free port
    it picked was taken before it could listen."""

    def __init__(self, *extra, **kw):
        for attempt in range(5):
            try:
                super().__init__(*extra, **kw)
                return
            except RuntimeError:
                if attempt == 4:
                    raise


run.Lambkin = Lambkin

WRK = (("C echo, 8 connections, invokes/s", "echo-c", 8),
       ("C echo, 1 connection, p50 ms", "echo-c", 1),
       ("Node echo, 8 connections, invokes/s", "echo-node", 8),
       ("Node echo, 1 connection, invokes/s", "echo-node", 1),
       ("API Gateway (HTTP API) Node echo, 8 connections, req/s", None, 8))


def in_process_execs(tree, seconds=8):
    """execs/s of a tree's in-process engine on the C echo (as run.py)."""
    work = tempfile.mkdtemp(prefix="lambkin-compare-")
    try:
        so = os.path.join(work, "echo.so")
        subprocess.run(["clang", "-shared", "-fPIC", "-g", "-O1",
                        "-fsanitize=fuzzer-no-link,address,undefined",
                        "-I" + os.path.join(run.ROOT, "include"), "-o", so,
                        os.path.join(run.ROOT, "handlers", "c", "echo.c")],
                       check=True)
        seeds = os.path.join(work, "seeds")
        corpus = os.path.join(work, "corpus")
        os.mkdir(seeds)
        os.mkdir(corpus)
        shutil.copy(os.path.join(run.ROOT, "corpora", "fuzz_mutator",
                                 "s3.json"), seeds)
        env = dict(os.environ, LAMBKIN_FUZZ_SO=so,
                   LAMBKIN_FUZZ_SYMBOL="echo_handler")
        out = subprocess.run(
            [os.path.join(tree, "build-fuzz", "fuzz", "fuzz_handler"),
             "-max_total_time=%d" % seconds, "-reduce_inputs=0",
             "-print_final_stats=1", corpus, seeds],
            env=env, capture_output=True, text=True).stderr
        return int(re.search(r"average_exec_per_sec:\s+(\d+)", out).group(1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def one_round(tree, add):
    run.LAMBKIN = os.path.join(tree, "build", "lambkin")
    srv = run.Lambkin()
    add("`lambkin serve` RSS idle, MB", run.own_rss_kb(srv.proc.pid) / 1024)
    for name, fn, conns in WRK:
        url = srv.url(fn) if fn else srv.api + "/echo"
        run.wrk(url, conns, 1)  # warm the instances
        rps, p50, _, _ = run.wrk(url, conns)
        add(name, p50 if "p50" in name else rps)
    add("`lambkin serve` RSS warm, MB", run.own_rss_kb(srv.proc.pid) / 1024)
    srv.stop()
    add("SQS mapping, msgs/s", run.sqs_throughput()[0])
    s3_rate, sqs_rate = run.write_rates()
    add("S3 PUT 1 KB, one connection, --state, puts/s", s3_rate)
    add("SQS SendMessage, one connection, --state, sends/s", sqs_rate)
    add("S3 put to function start, p50 ms", run.s3_to_start_ms()[0])
    add("Fuzzing the python echo, process mode, execs/s",
        run.process_fuzz_execs())
    add("Fuzzing a C echo in process, execs/s", in_process_execs(tree))
    add("Python echo cold start, ms", run.cold_start_ms())


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    trees = [os.path.abspath(t) for t in sys.argv[1:3]]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    awake = run.hold_cpus_awake()  # noqa: F841 (held while it is open)
    with open(run.LUA, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = \'{"hello":"world"}\'\n'
                'wrk.headers["Content-Type"] = "application/json"\n')
    got = [{}, {}]
    for i in range(rounds):
        for side in ((0, 1) if i % 2 == 0 else (1, 0)):
            print("round %d/%d: %s" % (i + 1, rounds, trees[side]),
                  file=sys.stderr)
            one_round(trees[side],
                      lambda k, v, d=got[side]: d.setdefault(k, []).append(v))
    revs = [subprocess.run(["git", "-C", t, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True).stdout.strip()
            for t in trees]
    print("| measure | %s | %s | ratio |" % tuple(revs))
    print("|---|---|---|---|")
    for k in got[0]:
        a, b = statistics.median(got[0][k]), statistics.median(got[1][k])
        fmt = "%.3f" if a < 10 else "%.0f"
        print("| %s | %s | %s | %.2f |" % (k, fmt % a, fmt % b, b / a))


if __name__ == "__main__":
    main()
