"""What Lambda's file system costs a cold start: the first python and
node invoke after `lambkin serve` starts, with the sandbox (the default)
and with --no-sandbox, alternating for ROUNDS rounds; medians.

    bench/sandbox.py BUILD_DIR [ROUNDS]
"""
import os
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def cold(*extra):
    srv = run.Lambkin(*extra, template=run.SAMPLES)
    try:
        out = []
        for fn in ("echo-python", "echo-node"):
            t = time.perf_counter()
            urllib.request.urlopen(srv.url(fn), data=b'{"cold":1}',
                                   timeout=30).read()
            out.append((time.perf_counter() - t) * 1000)
        return out
    finally:
        srv.stop()


def main():
    run.LAMBKIN = os.path.join(os.path.abspath(sys.argv[1] if len(sys.argv)
                                               > 1 else "build"), "lambkin")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    got = {"sandbox": [], "--no-sandbox": []}
    for i in range(rounds):
        order = ("sandbox", "--no-sandbox") if i % 2 == 0 else \
            ("--no-sandbox", "sandbox")
        for k in order:
            got[k].append(cold() if k == "sandbox" else cold("--no-sandbox"))
    print("| cold start, p50 of %d | sandbox | --no-sandbox | ratio |" % rounds)
    print("|---|---|---|---|")
    for i, fn in enumerate(("python echo", "node echo")):
        a = statistics.median(x[i] for x in got["sandbox"])
        b = statistics.median(x[i] for x in got["--no-sandbox"])
        print("| %s, ms | %.1f | %.1f | %.2f |" % (fn, a, b, a / b))


if __name__ == "__main__":
    main()
