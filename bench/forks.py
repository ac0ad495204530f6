"""What a function costs as the app grows: python functions that
`import boto3` and create a client at load, started by the fork server
(the default) and by exec (--no-fork-server), side by side in one run;
node functions with @aws-sdk/client-s3 loaded at load, for the record.

- cold start: the first invoke of each of N functions, one at a time,
  as the client sees it; p50.
- PSS per warm idle instance once all N are warm; median.
- the whole app warm (APP functions, fork server only): PSS and RSS of
  every instance and of the fork server, summed.
- `lambkin fuzz` of a boto3 function (execs/s) and of one that crashes
  on every invocation (each exec is an instance restart), both ways.

    bench/forks.py BUILD_DIR [N] [APP]
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

FUZZ_S = 10

PY = """import boto3

s3 = boto3.client("s3")


def handler(event, context):
    return {"ok": True}
"""
CRASH = """import os
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    os._exit(3)  # every invocation: the fuzzer starts a new instance
"""
NODE = """const { S3Client } = require("@aws-sdk/client-s3");
const s3 = new S3Client({});
exports.handler = async () => ({ ok: true });
"""


def app(n_py, n_node):
    d = tempfile.mkdtemp(prefix="lambkin-bench-app-")
    os.makedirs(os.path.join(d, "src"))
    with open(os.path.join(d, "src", "app.py"), "w") as f:
        f.write(PY)
    with open(os.path.join(d, "src", "app.js"), "w") as f:
        f.write(NODE)
    with open(os.path.join(d, "src", "crash.py"), "w") as f:
        f.write(CRASH)
    res = ["  Crash:\n    Type: AWS::Serverless::Function\n"
           "    Properties:\n      FunctionName: crash\n"
           "      Runtime: python3.11\n      Handler: crash.handler\n"
           "      CodeUri: src\n"]
    for i in range(n_py):
        res.append("  Py%d:\n    Type: AWS::Serverless::Function\n"
                   "    Properties:\n      FunctionName: py%d\n"
                   "      Runtime: python3.11\n      Handler: app.handler\n"
                   "      CodeUri: src\n" % (i, i))
    for i in range(n_node):
        res.append("  Node%d:\n    Type: AWS::Serverless::Function\n"
                   "    Properties:\n      FunctionName: node%d\n"
                   "      Runtime: nodejs20.x\n      Handler: app.handler\n"
                   "      CodeUri: src\n" % (i, i))
    with open(os.path.join(d, "template.yaml"), "w") as f:
        f.write("Transform: AWS::Serverless-2016-10-31\nResources:\n"
                + "".join(res))
    return d


def children(pid):
    """Every descendant of pid."""
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(p))
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def mem_kb(pid):
    """(PSS, RSS) in kB."""
    got = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Pss", "Rss"):
                    got[k] = int(v.split()[0])
    except OSError:
        pass
    return got.get("Pss", 0), got.get("Rss", 0)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def measure(template, names, *extra):
    """(cold start ms of each, {pid: (pss, rss)} of instances, server's)."""
    srv = run.Lambkin("--max-memory", "20G", *extra, template=template,
                      persist=False)
    try:
        time.sleep(3)  # the fork server loads boto3 in the background
        cold = []
        for fn in names:
            t = time.perf_counter()
            urllib.request.urlopen(srv.url(fn), data=b"{}", timeout=60).read()
            cold.append((time.perf_counter() - t) * 1000)
        time.sleep(1)
        inst, server = {}, (0, 0)
        for pid in children(srv.proc.pid):
            if "bootstrap" not in cmdline(pid):
                continue
            if _ppid(pid) == srv.proc.pid and is_fork_server(pid):
                server = mem_kb(pid)
            else:
                inst[pid] = mem_kb(pid)
        return cold, inst, server
    finally:
        srv.stop()


def is_fork_server(pid):
    """Its environment at exec names it (/proc shows no later change, so
    its forks carry the name too: only lambkin's own child is it)."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return b"LAMBKIN_ZYGOTE_FD=" in f.read()
    except OSError:
        return False


def fuzz_rate(template, fn, seconds, *extra):
    """execs/s of `lambkin fuzz FN --time S` (one job)."""
    out = tempfile.mkdtemp(prefix="lambkin-bench-fuzz-")
    try:
        p = subprocess.run([run.LAMBKIN, "fuzz", fn, "-t", template,
                            "--time", str(seconds), "--jobs", "1",
                            "--seed", "1", "--source", "sqs", "--out", out]
                           + list(extra),
                           capture_output=True, text=True,
                           timeout=seconds + 120, cwd=out)
        m = re.search(r"(\d+) execs \((\d+)/s\)", p.stdout + p.stderr)
        return int(m.group(2)) if m else float("nan")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    run.LAMBKIN = os.path.join(os.path.abspath(sys.argv[1] if len(sys.argv)
                                               > 1 else "build"), "lambkin")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    n_app = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    d = app(max(n, n_app), n)
    t = os.path.join(d, "template.yaml")
    py = ["py%d" % i for i in range(n)]
    try:
        fork = measure(t, py)
        execd = measure(t, py, "--no-fork-server")
        node = measure(t, ["node%d" % i for i in range(n)])
        whole = measure(t, ["py%d" % i for i in range(n_app)])
        rates = {}
        for mode in ((), ("--no-fork-server",)):  # side by side, twice
            for fn in ("py0", "crash"):
                rates.setdefault((fn, mode), []).extend(
                    fuzz_rate(t, fn, FUZZ_S, *mode) for _ in range(2))
    finally:
        shutil.rmtree(d, ignore_errors=True)

    def p50(x):
        return statistics.median(x) if x else float("nan")

    def pss(m):
        return p50([v[0] for v in m[1].values()]) / 1024

    print("| python, `import boto3` + a client at load, %d functions "
          "| fork server | exec | ratio |" % n)
    print("|---|---|---|---|")
    print("| cold start, p50, ms | %.1f | %.1f | %.3f |"
          % (p50(fork[0]), p50(execd[0]), p50(fork[0]) / p50(execd[0])))
    print("| PSS per warm idle instance, median, MB | %.1f | %.1f | %.3f |"
          % (pss(fork), pss(execd), pss(fork) / pss(execd)))
    print()
    total_pss = sum(v[0] for v in whole[1].values()) + whole[2][0]
    total_rss = sum(v[1] for v in whole[1].values()) + whole[2][1]
    print("| %d python functions warm (fork server) | instances | PSS, GB "
          "| RSS, GB | fork server PSS, MB |" % n_app)
    print("|---|---|---|---|---|")
    print("| total | %d | %.2f | %.2f | %.0f |"
          % (len(whole[1]), total_pss / 1048576, total_rss / 1048576,
             whole[2][0] / 1024))
    print()
    print("| fuzzing a python function with boto3, process mode, 1 job, "
          "%d s, p50 of 2 | fork server | exec | ratio |" % FUZZ_S)
    print("|---|---|---|---|")
    for fn, what in (("py0", "execs/s"), ("crash", "restarts/s (each "
                                                   "invocation crashes)")):
        a = p50(rates[(fn, ())])
        b = p50(rates[(fn, ("--no-fork-server",))])
        print("| %s | %.0f | %.0f | %.1fx |" % (what, a, b, a / b))
    print()
    print("| node, `@aws-sdk/client-s3` + a client at load, %d functions "
          "| exec |" % n)
    print("|---|---|")
    print("| cold start, p50, ms | %.1f |" % p50(node[0]))
    print("| PSS per warm idle instance, median, MB | %.1f |" % pss(node))


if __name__ == "__main__":
    main()
