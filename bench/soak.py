"""`make soak`: lambkin under a bounded mixed load, with hostile clients
among the real ones, to see that nothing grows and nothing is lost.

For SOAK_SECONDS (default 180): clients invoke functions, put and get S3
objects (overwriting a bounded set of keys, so what is stored stays
bounded), send, receive and delete SQS messages and put log events, each
on its own keep-alive connection; others open connections and leave
them with half a head, pipeline requests and never read the answers, or
send half a 6 MB invoke and hang up. Every 10 s it samples lambkin's
resident memory and open file descriptors. At the end the last
acknowledged put of every S3 key must read back, every acknowledged
message must have been received, and the samples of the second half
must be flat: RSS within 10 % of the first sample of that half,
descriptors within 32. Exit 0 when all hold.

    bench/soak.py BUILD_DIR
"""
import http.client
import json
import os
import random
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "180"))
INVOKE = "/2015-03-31/functions/%s/invocations"
KEYS = 100  # per S3 client, overwritten in turn: what is stored is bounded
SQS_JSON = {"Content-Type": "application/x-amz-json-1.0"}


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Soak:
    def __init__(self, srv):
        self.srv = srv
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.puts = {}        # key -> body, acknowledged
        self.sent = set()     # SQS bodies acknowledged
        self.received = set()
        self.errors = []
        self.counts = {}

    def count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.srv.port,
                                          timeout=30)

    def sqs(self, c, target, doc):
        h = dict(SQS_JSON, **{"X-Amz-Target": "AmazonSQS." + target})
        return json.loads(run.call(c, "POST", "/", json.dumps(doc), h))

    # -- real clients --

    def invoker(self, n):
        c = self.conn()
        while not self.stop.is_set():
            fn = ("echo-c", "echo-node")[n % 2]
            body = json.dumps({"n": n, "t": time.time()}).encode()
            if json.loads(run.call(c, "POST", INVOKE % fn, body)) != \
                    json.loads(body):
                self.errors.append("invoke %s answered wrong" % fn)
            self.count("invokes")

    def s3_client(self, n):
        c, i = self.conn(), 0
        while not self.stop.is_set():
            key = "soak/%d/%d" % (n, i % KEYS)
            body = os.urandom(random.randrange(1, 64 * 1024))
            run.call(c, "PUT", "/soak-bucket/" + key, body)
            with self.lock:
                self.puts[key] = body
            if run.call(c, "GET", "/soak-bucket/" + key) != body:
                self.errors.append("S3 read back something else: " + key)
            i += 1
            self.count("s3")

    def sqs_client(self, n):
        c, i = self.conn(), 0
        q = self.srv.base + "/123456789012/soak-q"
        while not self.stop.is_set():
            body = "s%d-%d" % (n, i)
            self.sqs(c, "SendMessage", {"QueueUrl": q, "MessageBody": body})
            with self.lock:
                self.sent.add(body)
            got = self.sqs(c, "ReceiveMessage",
                           {"QueueUrl": q, "MaxNumberOfMessages": 10})
            for m in got.get("Messages", []):
                self.sqs(c, "DeleteMessage",
                         {"QueueUrl": q, "ReceiptHandle": m["ReceiptHandle"]})
                with self.lock:
                    self.received.add(m["Body"])
            i += 1
            self.count("sqs")

    def logs_client(self, n):
        c = self.conn()
        h = {"Content-Type": "application/x-amz-json-1.1",
             "X-Amz-Target": "Logs_20140328.PutLogEvents"}
        while not self.stop.is_set():
            doc = {"logGroupName": "/soak", "logStreamName": "s%d" % n,
                   "logEvents": [{"timestamp": int(time.time() * 1000),
                                  "message": "line %d" % k}
                                 for k in range(20)]}
            run.call(c, "POST", "/", json.dumps(doc), h)
            self.count("logs")

    # -- hostile ones --

    def half_heads(self):
        while not self.stop.is_set():
            socks = []
            for _ in range(50):
                s = socket.create_connection(("127.0.0.1", self.srv.port))
                s.sendall(b"GET /soak-bucket/x HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            self.stop.wait(5)
            for s in socks:
                s.close()
            self.count("half-heads")

    def never_reads(self):
        while not self.stop.is_set():
            s = socket.create_connection(("127.0.0.1", self.srv.port))
            s.settimeout(5)
            try:
                s.sendall(b"GET /soak-bucket/ HTTP/1.1\r\nHost: x\r\n\r\n"
                          * 2000)
            except OSError:
                pass
            self.stop.wait(3)
            s.close()
            self.count("never-reads")

    def hangs_up(self):
        pad = b"a" * (6 * 1024 * 1024 - 100)
        while not self.stop.is_set():
            s = socket.create_connection(("127.0.0.1", self.srv.port))
            s.sendall(b"POST " + (INVOKE % "echo-c").encode() +
                      b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                      % (len(pad) + 10) + pad[:len(pad) // 2])
            s.close()
            self.count("hang-ups")
            self.stop.wait(0.5)

    def guard(self, fn, *args):
        try:
            fn(*args)
        except Exception as e:  # a real client must never fail
            if not self.stop.is_set():
                self.errors.append("%s: %r" % (fn.__name__, e))


def setup(srv):
    c = http.client.HTTPConnection("127.0.0.1", srv.port)
    run.call(c, "PUT", "/soak-bucket")
    h = dict(SQS_JSON, **{"X-Amz-Target": "AmazonSQS.CreateQueue"})
    run.call(c, "POST", "/", json.dumps({"QueueName": "soak-q"}), h)
    h = {"Content-Type": "application/x-amz-json-1.1",
         "X-Amz-Target": "Logs_20140328.CreateLogGroup"}
    run.call(c, "POST", "/", json.dumps({"logGroupName": "/soak"}), h)
    h["X-Amz-Target"] = "Logs_20140328.CreateLogStream"
    for n in range(2):
        run.call(c, "POST", "/", json.dumps({"logGroupName": "/soak",
                                             "logStreamName": "s%d" % n}), h)


def drain(soak):
    """What is still queued, received now: nothing acknowledged is lost."""
    c = soak.conn()
    q = soak.srv.base + "/123456789012/soak-q"
    while True:
        got = soak.sqs(c, "ReceiveMessage",
                       {"QueueUrl": q, "MaxNumberOfMessages": 10})
        if not got.get("Messages"):
            return
        soak.received |= {m["Body"] for m in got["Messages"]}


def main():
    run.LAMBKIN = os.path.join(os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                                               else "build"), "lambkin")
    srv = run.Lambkin()
    soak = Soak(srv)
    setup(srv)
    workers = ([(soak.invoker, n) for n in range(2)] +
               [(soak.s3_client, n) for n in range(2)] +
               [(soak.sqs_client, n) for n in range(2)] +
               [(soak.logs_client, n) for n in range(2)] +
               [(soak.half_heads,), (soak.never_reads,), (soak.hangs_up,)])
    threads = [threading.Thread(target=soak.guard, args=w) for w in workers]
    for t in threads:
        t.start()
    samples = []
    t0 = time.time()
    while time.time() - t0 < SECONDS:
        time.sleep(10)
        samples.append((time.time() - t0, run.own_rss_kb(srv.proc.pid),
                        fds(srv.proc.pid)))
        print("%4.0f s  RSS %6.1f MB  fds %4d  %s" % (
            samples[-1][0], samples[-1][1] / 1024, samples[-1][2],
            json.dumps(soak.counts)), file=sys.stderr)
    soak.stop.set()
    for t in threads:
        t.join()
    drain(soak)
    missing_puts = 0
    c = soak.conn()
    for key, body in soak.puts.items():
        if run.call(c, "GET", "/soak-bucket/" + key) != body:
            missing_puts += 1
    srv.stop()
    half = samples[len(samples) // 2:]
    rss_growth = max(s[1] for s in half) / half[0][1] - 1
    fd_growth = max(s[2] for s in half) - half[0][2]
    lost = len(soak.sent - soak.received)
    ok = (not soak.errors and missing_puts == 0 and lost == 0 and
          rss_growth <= 0.10 and fd_growth <= 32)
    print("| measure | value |\n|---|---|")
    print("| duration | %d s |" % SECONDS)
    for what, n in sorted(soak.counts.items()):
        print("| %s | %d |" % (what, n))
    print("| RSS, second half: first, max | %.1f MB, %.1f MB (%+.1f %%) |"
          % (half[0][1] / 1024, max(s[1] for s in half) / 1024,
             100 * rss_growth))
    print("| open fds, second half: first, max | %d, %d |"
          % (half[0][2], max(s[2] for s in half)))
    print("| RSS median of all samples | %.1f MB |"
          % (statistics.median(s[1] for s in samples) / 1024))
    print("| S3 puts acknowledged, missing | %d, %d |"
          % (len(soak.puts), missing_puts))
    print("| SQS messages acknowledged, never received | %d, %d |"
          % (len(soak.sent), lost))
    print("| real clients' errors | %d %s |"
          % (len(soak.errors), "; ".join(soak.errors[:3])))
    print("soak: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
