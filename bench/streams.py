"""`make bench`, SNS, EventBridge and Kinesis: Kinesis against kinesalite
(npm, the Kinesis emulator from dynalite's author, which LocalStack once
ran), side by side in one run, both in memory: PutRecord on 8
connections and GetRecords of 100 records (p50, one connection), from
wrk and a client of the same requests. Rounds alternate between the two
and each figure is the median of the rounds. Then, lambkin only (no npm
peer serves SNS or EventBridge): Publish and PutEvents on 8 connections
to a topic and a bus with no subscriber, and for each service the time
from the call leaving the client to the start of the C function it
triggers (its own log says when it started). Prints one Markdown table
for README.md."""
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddb import start_peer, wrk  # noqa: E402
from run import Lambkin, call, hold_cpus_awake, med  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "bench", "peer")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
STREAM = "bench-kinesis"
SIGNED = {"X-Amz-Date": "20260101T000000Z",
          "Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/"
                           "us-east-1/kinesis/aws4_request, "
                           "SignedHeaders=host;x-amz-date, Signature=00"}
KINESIS = dict(SIGNED, **{"Content-Type": "application/x-amz-json-1.1"})
EVENTS = dict(KINESIS)
SNS = dict(SIGNED, **{"Content-Type": "application/x-www-form-urlencoded"})


def script(name, headers, body):
    """A wrk script: POST / with these headers and a body made from a
    random number r (Lua)."""
    path = os.path.join(tempfile.gettempdir(), "lambkin-bench-%s.lua" % name)
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n' +
                "".join('wrk.headers["%s"] = "%s"\n' % kv
                        for kv in headers.items()) +
                "math.randomseed(os.time())\n"
                "request = function()\n"
                "  local r = math.random(0, 1000000)\n"
                "  return wrk.format(nil, nil, nil, %s)\n"
                "end\n" % body)
    return path


PUT = script("kin-put", dict(KINESIS, **{
    "X-Amz-Target": "Kinesis_20131202.PutRecord"}),
    '\'{"StreamName":"%s","PartitionKey":"k\' .. r .. \'",'
    '"Data":"eyJjbGljayI6MX0="}\'' % STREAM)
PUBLISH = script("sns-publish", SNS,
                 '"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A'
                 '123456789012%3Abench-quiet&Message=m" .. r')
PUT_EVENTS = script("eb-put", dict(EVENTS, **{
    "X-Amz-Target": "AWSEvents.PutEvents"}),
    '\'{"Entries":[{"Source":"bench.quiet","DetailType":"x",'
    '"Detail":"{\\\\"n\\\\":\' .. r .. \'}"}]}\'')


def kin(conn, op, body):
    """One Kinesis call; its answer (CreateStream's is empty)."""
    text = call(conn, "POST", "/", json.dumps(body),
                dict(KINESIS, **{"X-Amz-Target": "Kinesis_20131202." + op}))
    return json.loads(text) if text.strip() else {}


class Kinesalite:
    def __init__(self):
        self.port, self.proc, conn = start_peer(
            "kinesalite", ["--createStreamMs", "0", "--shardLimit", "100"],
            lambda conn: kin(conn, "ListStreams", {}))
        kin(conn, "CreateStream", {"StreamName": STREAM, "ShardCount": 4})
        while kin(conn, "DescribeStream", {"StreamName": STREAM})[
                "StreamDescription"]["StreamStatus"] != "ACTIVE":
            time.sleep(0.05)

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def get_records_ms(port, reads=200):
    """p50 of GetRecords of 100 records from one shard, one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    shard = "shardId-000000000000"
    kin(conn, "PutRecords", {"StreamName": STREAM, "Records": [
        {"PartitionKey": "p", "ExplicitHashKey": "0",
         "Data": "eyJjbGljayI6MX0="} for _ in range(500)]})
    it = kin(conn, "GetShardIterator", {
        "StreamName": STREAM, "ShardId": shard,
        "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
    lat = []
    for _ in range(reads):
        t = time.perf_counter()
        got = kin(conn, "GetRecords", {"ShardIterator": it, "Limit": 100})
        lat.append((time.perf_counter() - t) * 1000)
        if len(got["Records"]) != 100:
            raise RuntimeError("GetRecords gave %d" % len(got["Records"]))
    conn.close()
    return statistics.median(lat)


def measure_kinesis(port, r, prefix):
    url = "http://127.0.0.1:%d/" % port
    wrk(url, PUT, 8, 1)
    rps, _, bad = wrk(url, PUT, 8)
    r[prefix + "put"].append(rps)
    r["bad"].append(bad)
    r[prefix + "get"].append(get_records_ms(port))


def to_start_ms(srv, tag, send, calls=200):
    """Per call send(conn, key): the client's clock just before it leaves,
    to the clock the C function it triggers reads as it starts."""
    sent = {}
    conn = http.client.HTTPConnection("127.0.0.1", srv.port)
    for i in range(calls):
        key = "obj-%s-%d" % (tag, i)
        sent[key] = time.time_ns() // 1000
        send(conn, key)
        time.sleep(0.01)
    time.sleep(0.5)
    logs = {"X-Amz-Target": "Logs_20140328.FilterLogEvents",
            "Content-Type": "application/x-amz-json-1.1"}
    body = json.dumps({"logGroupName": "/aws/lambda/stamp-events",
                       "filterPattern": "start_us"})
    lat = []
    for e in json.loads(call(conn, "POST", "/", body, logs))["events"]:
        m = re.match(r"start_us=(\d+) .*?(obj-[a-z]+-\d+)", e["message"])
        if m and m.group(2) in sent:
            lat.append((int(m.group(1)) - sent.pop(m.group(2))) / 1000.0)
    conn.close()
    return statistics.median(lat) if lat else float("nan"), len(lat)


def send_kinesis(conn, key):
    kin(conn, "PutRecord", {"StreamName": "bench-kinesis-stamp",
                            "PartitionKey": key, "Data": "eA=="})


def send_sns(conn, key):
    call(conn, "POST", "/", "Action=Publish&TopicArn=arn%3Aaws%3Asns%3A"
         "us-east-1%3A123456789012%3Abench-topic&Message=" + key, SNS)


def send_events(conn, key):
    call(conn, "POST", "/", json.dumps({"Entries": [{
        "Source": "bench.stamp", "DetailType": "x",
        "Detail": json.dumps({"id": key})}]}),
        dict(EVENTS, **{"X-Amz-Target": "AWSEvents.PutEvents"}))


def main():
    awake = hold_cpus_awake()
    r = {k: [] for k in ("lput", "lget", "kput", "kget", "bad", "publish",
                         "putevents", "kin", "sns", "eb", "n")}
    for i in range(ROUNDS):
        print("streams round %d/%d" % (i + 1, ROUNDS), file=sys.stderr)
        srv = Lambkin(persist=False)
        try:
            measure_kinesis(srv.port, r, "l")
            url = "http://127.0.0.1:%d/" % srv.port
            for key, lua in (("publish", PUBLISH), ("putevents", PUT_EVENTS)):
                wrk(url, lua, 8, 1)
                rps, _, bad = wrk(url, lua, 8)
                r[key].append(rps)
                r["bad"].append(bad)
        finally:
            srv.stop()
        peer = Kinesalite()
        try:
            measure_kinesis(peer.port, r, "k")
        finally:
            peer.stop()
        srv = Lambkin(persist=False)
        try:
            for key, send in (("kin", send_kinesis), ("sns", send_sns),
                              ("eb", send_events)):
                p50, n = to_start_ms(srv, key, send)
                r[key].append(p50)
                r["n"].append(n)
        finally:
            srv.stop()
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    print("Measured %s at commit %s, %d rounds, medians; %d CPUs; wrk, POST /; "
          "both in memory (lambkin without --state, kinesalite %s); CPU idle "
          "states %s."
          % (time.strftime("%Y-%m-%d"), rev or "?", ROUNDS, os.cpu_count(),
             version("kinesalite"),
             "held off" if awake is not None else "not held off"))
    print()
    print("| measure | lambkin | kinesalite | ratio | target |")
    print("|---|---|---|---|---|")
    print("| Kinesis PutRecord, 8 connections | %.0f/s | %.0f/s | %.1fx | "
          ">= 3x |" % (med(r["lput"]), med(r["kput"]),
                       med(r["lput"]) / med(r["kput"])))
    print("| Kinesis GetRecords of 100, 1 connection, p50 | %.3f ms | %.3f ms "
          "| %.1fx | <= 1 ms |" % (med(r["lget"]), med(r["kget"]),
                                   med(r["kget"]) / med(r["lget"])))
    print("| SNS Publish, no subscriber, 8 connections | %.0f/s | | | |"
          % med(r["publish"]))
    print("| EventBridge PutEvents, no rule matching, 8 connections | %.0f/s "
          "| | | |" % med(r["putevents"]))
    print("| Kinesis PutRecord to mapped function start, p50 of %d | "
          "%.2f ms | | | <= 1 ms |" % (min(r["n"]), med(r["kin"])))
    print("| SNS Publish to subscribed function start, p50 | %.2f ms | | | "
          "<= 1 ms |" % med(r["sns"]))
    print("| EventBridge PutEvents to rule's function start, p50 | %.2f ms "
          "| | | <= 1 ms |" % med(r["eb"]))
    print()
    print("non-2xx answers: %d" % sum(r["bad"]))


def version(pkg):
    try:
        with open(os.path.join(PEER, "node_modules", pkg,
                               "package.json")) as f:
            return json.load(f)["version"]
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
