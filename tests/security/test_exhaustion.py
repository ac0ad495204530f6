"""Exhaustion, each through real sockets: a client that fills every
connection slot with heads it never finishes does not lock others out
(the longest-waiting idle one makes room, and an unfinished head gets its
408 after 10 s); synchronous callers of 6 MB invokes who hang up while
queued cost nothing (their invocations are dropped, not run); the bytes
held in all queues together have a ceiling; and the journal rotates at
64 MB, keeping what `lambkin policy` needs."""
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integration"))
from lambkin_server import (LAMBKIN, TEMPLATE, Server,  # noqa: E402
                            stop_cleanly)

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

MAX_CONNS = 1024  # LK_HTTP_MAX_CONNS


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192) if hard != resource.RLIM_INFINITY else 8192
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class ExhaustionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise_fd_limit()
        cls.server = Server("-q")
        cls.lam = boto3.client(
            "lambda", endpoint_url=cls.server.url,
            config=botocore.config.Config(retries={"total_max_attempts": 1},
                                          read_timeout=30,
                                          connect_timeout=5))

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    def test_unfinished_heads_do_not_lock_clients_out(self):
        hogs = []
        try:
            for _ in range(MAX_CONNS + 100):
                s = socket.create_connection(("127.0.0.1", self.server.port))
                s.sendall(b"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: x\r\n")
                hogs.append(s)
            # A new client: an idle pooled connection of the old one was
            # evicted to make room, as any idle one may be.
            t0 = time.time()
            lam = boto3.client("lambda", endpoint_url=self.server.url)
            r = lam.list_functions()
            self.assertIn("Functions", r)
            self.assertLess(time.time() - t0, 5)
            # The newest hog still holds its slot; its head never came
            # whole, so after the head timeout it gets a 408 and the end.
            last = hogs[-1]
            last.settimeout(20)
            got = b""
            while True:
                chunk = last.recv(4096)
                if not chunk:
                    break
                got += chunk
            self.assertTrue(got.startswith(b"HTTP/1.1 408 "), got)
        finally:
            for s in hogs:
                s.close()
        r = self.lam.invoke(FunctionName="echo-c", Payload=b'{"after":1}')
        self.assertEqual(json.loads(r["Payload"].read()), {"after": 1})

    def test_hung_up_callers_cost_nothing(self):
        # One instance (--max-instances 1): the callers queue behind it.
        server = Server("-q", "--max-instances", "1")
        try:
            pad = "a" * (6 * 1024 * 1024 - 200)
            body = json.dumps({"sleep": 0.8, "pad": pad}).encode()
            socks = []
            for _ in range(20):
                s = socket.create_connection(("127.0.0.1", server.port))
                s.sendall(b"POST /2015-03-31/functions/slow-python/"
                          b"invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                socks.append(s)
            time.sleep(1.0)  # all queued behind the first
            for s in socks:
                s.close()
            # Were they run, at least 14 would have been by now (0.8 s
            # each); dropped, only those started before the hang-up ran.
            time.sleep(12)
            with open(os.path.join(server.state_dir, "journal.jsonl")) as f:
                ran = [r for r in map(json.loads, f)
                       if r.get("function") == "slow-python"]
            self.assertLessEqual(len(ran), 6, "dropped invocations ran")
            lam = boto3.client("lambda", endpoint_url=server.url)
            r = lam.invoke(FunctionName="slow-python", Payload=b'{"sleep":0}')
            self.assertEqual(json.loads(r["Payload"].read())["slept"], 0)
        finally:
            stop_cleanly(server)


NEVER_STARTS = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Never:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: never-starts
      Runtime: provided.al2023
      CodeUri: code/
      Handler: x
      ReservedConcurrentExecutions: 1
"""


class QueueBytesTest(unittest.TestCase):
    def test_bytes_queued_have_a_ceiling(self):
        # Async events of 1 MB to a function whose runtime never reaches
        # /next fill the byte budget (256 MB) long before the count
        # (10,000): then 429, and lambkin still answers.
        top = tempfile.mkdtemp(prefix="lambkin-qbytes-")
        os.mkdir(os.path.join(top, "code"))
        boot = os.path.join(top, "code", "bootstrap")
        with open(boot, "w") as f:
            f.write("#!/bin/sh\nexec sleep 600\n")
        os.chmod(boot, 0o755)
        with open(os.path.join(top, "template.yaml"), "w") as f:
            f.write(NEVER_STARTS)
        server = Server("-q", template=os.path.join(top, "template.yaml"))
        try:
            body = json.dumps({"pad": "b" * (1024 * 1024 - 100)}).encode()
            c = socket.create_connection(("127.0.0.1", server.port))
            f = c.makefile("rb")
            statuses = []
            for _ in range(400):
                c.sendall(b"POST /2015-03-31/functions/never-starts/"
                          b"invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"X-Amz-Invocation-Type: Event\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                statuses.append(read_status(f))
                if statuses[-1] == 429:
                    break
            c.close()
            self.assertEqual(statuses[-1], 429)
            self.assertGreaterEqual(statuses.count(202), 200)
            lam = boto3.client("lambda", endpoint_url=server.url)
            self.assertIn("Functions", lam.list_functions())
        finally:
            stop_cleanly(server)
            shutil.rmtree(top, ignore_errors=True)


def read_status(f):
    """The status of one HTTP response on f, its body read and dropped."""
    status = int(f.readline().split()[1])
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    f.read(length)
    return status



class JournalCapTest(unittest.TestCase):
    def test_journal_rotates_and_keeps_what_policy_needs(self):
        server = Server("-q")
        try:
            lam = boto3.client("lambda", endpoint_url=server.url)
            lam.invoke(FunctionName="store-c", Payload=b'{"key":"in/a"}')
            first = lam.invoke(FunctionName="echo-c", Payload=b'{"first":1}')
            first_id = first["ResponseMetadata"]["RequestId"]
            big = json.dumps({"pad": "c" * (6 * 1024 * 1024 - 100)}).encode()
            for _ in range(25):  # about 150 MB of events: two rotations
                lam.invoke(FunctionName="echo-c", Payload=big)
            state = server.state_dir
            names = sorted(n for n in os.listdir(state)
                           if n.startswith("journal"))
            self.assertEqual(names, ["journal.1.jsonl", "journal.jsonl"])
            total = sum(os.path.getsize(os.path.join(state, n))
                        for n in names)
            self.assertLess(total, 2 * 64 * 1024 * 1024 + 7 * 1024 * 1024)
            p = subprocess.run([LAMBKIN, "policy", "-t", TEMPLATE,
                                "--state", state], capture_output=True,
                               text=True, timeout=60)
            self.assertIn("store-c", json.loads(p.stdout))
            # The first invocation rotated away; a recent one replays.
            p = subprocess.run([LAMBKIN, "replay", first_id, "-t", TEMPLATE,
                                "--state", state], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 2, p.stderr)
        finally:
            stop_cleanly(server)


def pipeline_json(port, target, bodies):
    """Sends every body as a JSON 1.1 call in one write; the statuses."""
    c = socket.create_connection(("127.0.0.1", port))
    reqs = [b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"X-Amz-Target: %s\r\nContent-Type: application/x-amz-json-1.1"
            b"\r\nContent-Length: %d\r\n\r\n%s" % (target.encode(), len(b), b)
            for b in bodies]
    c.sendall(b"".join(reqs))
    f = c.makefile("rb")
    statuses = [read_status(f) for _ in bodies]
    c.close()
    return statuses


class LogsTest(unittest.TestCase):
    def test_many_streams_merge_fast_and_are_capped(self):
        server = Server("-q")
        try:
            logs = boto3.client("logs", endpoint_url=server.url)
            logs.create_log_group(logGroupName="/many")
            n = 20100  # past LK_LOGS_MAX_STREAMS (20,000, all groups)
            make = [json.dumps({"logGroupName": "/many",
                                "logStreamName": "s%05d" % i}).encode()
                    for i in range(n)]
            self.assertEqual(set(pipeline_json(
                server.port, "Logs_20140328.CreateLogStream", make)), {200})
            put = [json.dumps({"logGroupName": "/many",
                               "logStreamName": "s%05d" % i,
                               "logEvents": [{"timestamp": 1000000 + (i * 7919)
                                              % n, "message": "m%d" % i}]})
                   .encode() for i in range(100, n)]
            self.assertEqual(set(pipeline_json(
                server.port, "Logs_20140328.PutLogEvents", put)), {200})
            # The first 100 streams were the least recently written.
            names = set()
            for page in logs.get_paginator("describe_log_streams").paginate(
                    logGroupName="/many"):
                names |= {s["logStreamName"] for s in page["logStreams"]}
            self.assertLessEqual(len(names), 20000)
            self.assertNotIn("s00000", names)
            self.assertIn("s%05d" % (n - 1), names)
            # One merge over twenty thousand streams, in time order. Merged
            # stream by stream it took seconds and held the loop; on a heap
            # it is quick (a loose bound: this is an ASan build).
            t0 = time.time()
            r = logs.filter_log_events(logGroupName="/many", limit=10000)
            self.assertLess(time.time() - t0, 3)
            ts = [e["timestamp"] for e in r["events"]]
            self.assertEqual(len(ts), 10000)
            self.assertEqual(ts, sorted(ts))
        finally:
            stop_cleanly(server)


class BudgetsTest(unittest.TestCase):
    """What used to sit outside every byte budget is counted now."""

    def test_attributes_count_toward_the_message_size(self):
        server = Server("-q")
        try:
            sqs = boto3.client("sqs", endpoint_url=server.url)
            url = sqs.create_queue(QueueName="attrs")["QueueUrl"]
            big = {"a%d" % i: {"DataType": "String",
                               "StringValue": "x" * 200000}
                   for i in range(10)}  # 2 MB of attributes, tiny body
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                sqs.send_message(QueueUrl=url, MessageBody="b",
                                 MessageAttributes=big)
            self.assertEqual(cm.exception.response["Error"]["Code"],
                             "InvalidParameterValue")
            ok = {"a": {"DataType": "String", "StringValue": "y" * 1000}}
            sqs.send_message(QueueUrl=url, MessageBody="b",
                             MessageAttributes=ok)
            got = sqs.receive_message(QueueUrl=url,
                                      MessageAttributeNames=["All"])
            self.assertEqual(got["Messages"][0]["MessageAttributes"]["a"]
                             ["StringValue"], "y" * 1000)
        finally:
            stop_cleanly(server)

    def test_notification_documents_are_bounded(self):
        server = Server("-q")
        try:
            s3 = boto3.client("s3", endpoint_url=server.url)
            s3.create_bucket(Bucket="notes")
            doc = (b"<NotificationConfiguration>" + b" " * (300 * 1024) +
                   b"</NotificationConfiguration>")
            c = socket.create_connection(("127.0.0.1", server.port))
            c.sendall(b"PUT /notes?notification HTTP/1.1\r\n"
                      b"Host: 127.0.0.1\r\nContent-Length: %d\r\n\r\n%s"
                      % (len(doc), doc))
            self.assertEqual(read_status(c.makefile("rb")), 400)
            c.close()
            s3.put_bucket_notification_configuration(
                Bucket="notes", NotificationConfiguration={})
        finally:
            stop_cleanly(server)


if __name__ == "__main__":
    unittest.main(verbosity=2)
