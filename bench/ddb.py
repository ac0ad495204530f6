"""`make bench`, DynamoDB: lambkin against dynalite (npm, the DynamoDB
emulator serverless-offline's and many test suites' plugins start), side
by side in one run, both keeping their tables in memory. Both get the
same JSON 1.0 requests from wrk: PutItem and GetItem on 8 connections,
and a Query of 100 items at a random place in a partition of 100,000
(p50, one connection). Rounds alternate between the two, so noise on
this shared machine hits both; each figure is the median of the rounds.
Then, lambkin only: PutItem under --state (each answer after its disk
sync), and a PutItem to the start of the C function its table's stream
runs (dynalite runs no functions). Prints one Markdown table for
README.md."""
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (Lambkin, call, free_port, hold_cpus_awake,  # noqa: E402
                 med, wait_http)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "bench", "peer")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
PARTITION = int(os.environ.get("BENCH_DDB_PARTITION", "100000"))
TABLE = "bench-table"
# dynalite wants a signature's shape (it checks none); lambkin takes it
# as a caller that is not one of its functions.
HEADERS = {"Content-Type": "application/x-amz-json-1.0",
           "X-Amz-Date": "20260101T000000Z",
           "Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/"
                            "us-east-1/dynamodb/aws4_request, "
                            "SignedHeaders=host;x-amz-date, Signature=00"}


def lua(target, body_fn):
    """A wrk script: POST of an X-Amz-Target whose body body_fn (Lua,
    given a random number r) makes."""
    path = os.path.join(tempfile.gettempdir(), "lambkin-bench-%s.lua"
                        % target.split(".")[-1])
    hdrs = "".join('wrk.headers["%s"] = "%s"\n' % (k, v)
                   for k, v in dict(HEADERS, **{"X-Amz-Target": target})
                   .items())
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n' + hdrs +
                "math.randomseed(os.time())\n"
                "request = function()\n"
                "  local r = math.random(0, %d)\n"
                "  return wrk.format(nil, nil, nil, %s)\n"
                "end\n" % (PARTITION - 1, body_fn))
    return path


PUT = lua("DynamoDB_20120810.PutItem",
          '\'{"TableName":"%s","Item":{"pk":{"S":"w\' .. r .. \'"},'
          '"sk":{"N":"1"},"v":{"S":"payload"}}}\'' % TABLE)
GET = lua("DynamoDB_20120810.GetItem",
          '\'{"TableName":"%s","Key":{"pk":{"S":"big"},'
          '"sk":{"N":"\' .. r .. \'"}}}\'' % TABLE)
QUERY = lua("DynamoDB_20120810.Query",
            '\'{"TableName":"%s","Limit":100,"KeyConditionExpression":'
            '"pk = :p AND sk > :s","ExpressionAttributeValues":{":p":'
            '{"S":"big"},":s":{"N":"\' .. r .. \'"}}}\'' % TABLE)


def wrk(url, script, conns, seconds=SECONDS):
    """(requests/s, p50 ms, non-2xx count)."""
    out = subprocess.run(
        ["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d",
         "%ds" % seconds, "--latency", "-s", script, url],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    p50 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, p50, int(bad.group(1)) if bad else 0


def ddb(conn, op, body):
    return json.loads(call(conn, "POST", "/", json.dumps(body),
                           dict(HEADERS, **{"X-Amz-Target":
                                            "DynamoDB_20120810." + op})))


def fill(port):
    """The 100,000-item partition, 25 items a BatchWriteItem."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(0, PARTITION, 25):
        ddb(conn, "BatchWriteItem", {"RequestItems": {TABLE: [
            {"PutRequest": {"Item": {"pk": {"S": "big"},
                                     "sk": {"N": str(k)},
                                     "v": {"S": "item %d" % k}}}}
            for k in range(i, min(i + 25, PARTITION))]}})
    conn.close()


def start_peer(name, args, ready):
    """An npm peer from bench/peer on a free port, once ready(conn) gets
    an answer: (port, process, connection)."""
    port = free_port()
    proc = subprocess.Popen(
        [os.path.join(PEER, "node_modules", ".bin", name), "--port",
         str(port)] + args,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.time() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            ready(conn)
            return port, proc, conn
        except (OSError, RuntimeError, ValueError):
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(name + " did not start")
            time.sleep(0.1)


class Dynalite:
    def __init__(self):
        self.port, self.proc, conn = start_peer(
            "dynalite", ["--createTableMs", "0"],
            lambda conn: ddb(conn, "ListTables", {}))
        ddb(conn, "CreateTable", {
            "TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}]})
        while ddb(conn, "DescribeTable", {"TableName": TABLE})[
                "Table"]["TableStatus"] != "ACTIVE":
            time.sleep(0.05)

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def measure(port, r, prefix, runs=(("put", PUT, 8), ("get", GET, 8),
                                    ("query", QUERY, 1))):
    url = "http://127.0.0.1:%d/" % port
    t0 = time.perf_counter()
    fill(port)
    r[prefix + "fill"].append(PARTITION / (time.perf_counter() - t0))
    for key, script, conns in runs:
        wrk(url, script, conns, 1)
        rps, p50, bad = wrk(url, script, conns)
        r[prefix + key].append((rps, p50))
        r["bad"].append(bad)


def stream_to_start_ms(puts=200):
    """Per PutItem: the client's clock just before it leaves, to the clock
    the C function its stream runs reads as it starts (from its log)."""
    srv = Lambkin()
    sent = {}
    try:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port)
        for i in range(puts):
            key = "obj-%d" % i
            t = time.time_ns() // 1000
            ddb(conn, "PutItem", {"TableName": "bench-stream",
                                  "Item": {"id": {"S": key}}})
            sent[key] = t
            time.sleep(0.01)
        time.sleep(0.5)
        logs = {"X-Amz-Target": "Logs_20140328.FilterLogEvents",
                "Content-Type": "application/x-amz-json-1.1"}
        body = json.dumps({"logGroupName": "/aws/lambda/stamp-ddb",
                           "filterPattern": "start_us"})
        events = json.loads(call(conn, "POST", "/", body, logs))["events"]
    finally:
        srv.stop()
    lat = []
    for e in events:
        m = re.match(r'start_us=(\d+) .*"id":\{"S":"([^"]+)"', e["message"])
        if m and m.group(2) in sent:
            lat.append((int(m.group(1)) - sent[m.group(2)]) / 1000.0)
    return statistics.median(lat) if lat else float("nan"), len(lat)


def main():
    awake = hold_cpus_awake()
    r = {k: [] for k in ("lfill", "lput", "lget", "lquery", "dfill", "dput",
                         "dget", "dquery", "bad", "stream", "streamn",
                         "sfill", "sput")}
    for i in range(ROUNDS):
        print("dynamodb round %d/%d" % (i + 1, ROUNDS), file=sys.stderr)
        srv = Lambkin(persist=False)
        try:
            measure(srv.port, r, "l")
        finally:
            srv.stop()
        srv = Lambkin()
        try:
            measure(srv.port, r, "s", (("put", PUT, 8),))
        finally:
            srv.stop()
        peer = Dynalite()
        try:
            measure(peer.port, r, "d")
        finally:
            peer.stop()
        p50, n = stream_to_start_ms()
        r["stream"].append(p50)
        r["streamn"].append(n)

    def rps(k):
        return med([x[0] for x in r[k]])

    def p50(k):
        return med([x[1] for x in r[k]])

    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    print("Measured %s at commit %s, %d rounds of %d s, medians; %d CPUs; "
          "wrk, POST / (JSON 1.0); both in memory (lambkin without --state, "
          "dynalite %s); CPU idle states %s."
          % (time.strftime("%Y-%m-%d"), rev or "?", ROUNDS, SECONDS,
             os.cpu_count(), dynalite_version(),
             "held off" if awake is not None else "not held off"))
    print()
    print("| measure | lambkin | dynalite | ratio | target |")
    print("|---|---|---|---|---|")
    print("| PutItem, 8 connections | %.0f/s | %.0f/s | %.1fx | >= 3x |"
          % (rps("lput"), rps("dput"), rps("lput") / rps("dput")))
    print("| GetItem, 8 connections | %.0f/s | %.0f/s | %.1fx | >= 3x |"
          % (rps("lget"), rps("dget"), rps("lget") / rps("dget")))
    print("| Query, 100 items in a %dk-item partition, 1 connection, p50 | "
          "%.3f ms | %.3f ms | %.1fx | <= 1 ms |"
          % (PARTITION // 1000, p50("lquery"), p50("dquery"),
             p50("dquery") / p50("lquery")))
    print("| PutItem, 8 connections, with --state (each answered after its "
          "disk sync) | %.0f/s | | | |" % rps("sput"))
    print("| BatchWriteItem of 25, one connection, items/s | %.0f | %.0f | "
          "%.1fx | |" % (med(r["lfill"]), med(r["dfill"]),
                         med(r["lfill"]) / med(r["dfill"])))
    print("| PutItem to stream function start, p50 of %d | %.2f ms | | | "
          "<= 1 ms |"
          % (min(r["streamn"]), med(r["stream"])))
    print()
    print("non-2xx answers: %d" % sum(r["bad"]))


def dynalite_version():
    try:
        with open(os.path.join(PEER, "node_modules", "dynalite",
                               "package.json")) as f:
            return json.load(f)["version"]
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
