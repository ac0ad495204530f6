"""With --state, nothing lambkin acknowledged is lost when it is killed
(kill -9): S3 puts and deletes, buckets, SQS queues, sends and deletes,
CloudWatch Logs groups and events. A message that was in flight comes
back, and a queue mapped to a function hands every message to it across
the crash. Every acknowledged write is checked after a restart on the
same --state, for kills at random points of a bounded loop."""
import concurrent.futures
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integration"))
from lambkin_server import Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

CONFIG = botocore.config.Config(retries={"total_max_attempts": 1},
                                connect_timeout=2, read_timeout=10)

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Work:
    Type: AWS::SQS::Queue
    Properties: {QueueName: work}
  Consume:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: consume
      Runtime: python3.11
      CodeUri: code/
      Handler: consume.handler
      Events:
        Q:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
            BatchSize: 10
"""

HANDLER = """import time
def handler(event, context):
    time.sleep(0.02 * len(event["Records"]))
    return {}
"""


def clients(server):
    return {s: boto3.client(s, endpoint_url=server.url, config=CONFIG)
            for s in ("s3", "sqs", "logs")}


def created(c):
    """When the bucket, log group and stream were made, as clients see it."""
    bucket = [b["CreationDate"] for b in c["s3"].list_buckets()["Buckets"]
              if b["Name"] == "keep"]
    group = c["logs"].describe_log_groups(
        logGroupNamePrefix="/kept")["logGroups"][0]["creationTime"]
    stream = c["logs"].describe_log_streams(
        logGroupName="/kept")["logStreams"][0]["creationTime"]
    return bucket, group, stream


def kill(server):
    server.proc.kill()
    server.proc.wait()
    server.log.close()


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.top = tempfile.mkdtemp(prefix="lambkin-crash-")
        os.mkdir(os.path.join(self.top, "code"))
        with open(os.path.join(self.top, "code", "consume.py"), "w") as f:
            f.write(HANDLER)
        self.template = os.path.join(self.top, "template.yaml")
        with open(self.template, "w") as f:
            f.write(TEMPLATE)
        self.state = os.path.join(self.top, "run")
        os.mkdir(self.state)

    def tearDown(self):
        shutil.rmtree(self.top, ignore_errors=True)

    def serve(self):
        return Server("-q", template=self.template, state=self.state)

    def test_every_kind_of_write_survives_kill_9(self):
        server = self.serve()
        c = clients(server)
        c["s3"].create_bucket(Bucket="keep")
        for i in range(50):
            c["s3"].put_object(Bucket="keep", Key="k%d" % i,
                               Body=b"v%d" % i, Metadata={"n": str(i)})
        for i in range(0, 50, 5):
            c["s3"].delete_object(Bucket="keep", Key="k%d" % i)
        q = c["sqs"].create_queue(QueueName="acked")["QueueUrl"]
        for i in range(0, 100, 10):
            c["sqs"].send_message_batch(QueueUrl=q, Entries=[
                {"Id": str(k), "MessageBody": "m%d" % (i + k)}
                for k in range(10)])
        got = c["sqs"].receive_message(QueueUrl=q, MaxNumberOfMessages=10,
                                       VisibilityTimeout=300)["Messages"]
        for m in got[:5]:
            c["sqs"].delete_message(QueueUrl=q, ReceiptHandle=m["ReceiptHandle"])
        deleted = {m["Body"] for m in got[:5]}
        c["logs"].create_log_group(logGroupName="/kept")
        c["logs"].create_log_stream(logGroupName="/kept", logStreamName="s")
        c["logs"].put_log_events(logGroupName="/kept", logStreamName="s",
                                 logEvents=[{"timestamp": 1000 + i,
                                             "message": "e%d" % i}
                                            for i in range(20)])
        born = created(c)
        time.sleep(1.1)  # a time taken anew at restart would differ
        kill(server)

        server = self.serve()
        try:
            c = clients(server)
            keys = {o["Key"] for o in c["s3"].list_objects_v2(
                Bucket="keep").get("Contents", [])}
            self.assertEqual(keys, {"k%d" % i for i in range(50) if i % 5})
            o = c["s3"].get_object(Bucket="keep", Key="k7")
            self.assertEqual(o["Body"].read(), b"v7")
            self.assertEqual(o["Metadata"], {"n": "7"})
            bodies = set()
            while True:  # the five in flight came back; the deleted did not
                r = c["sqs"].receive_message(QueueUrl=q,
                                             MaxNumberOfMessages=10)
                if "Messages" not in r:
                    break
                bodies |= {m["Body"] for m in r["Messages"]}
            self.assertEqual(bodies, {"m%d" % i for i in range(100)} - deleted)
            ev = c["logs"].get_log_events(logGroupName="/kept",
                                          logStreamName="s",
                                          startFromHead=True)["events"]
            self.assertEqual([e["message"] for e in ev],
                             ["e%d" % i for i in range(20)])
            self.assertEqual(created(c), born)
        finally:
            stop_cleanly(server)

    def test_kills_at_random_points(self):
        rng = random.Random(4)
        acked = {}  # key -> body, for each put that was answered 200
        for round_ in range(5):
            server = self.serve()
            c = clients(server)
            if round_ == 0:
                c["s3"].create_bucket(Bucket="rand")
            stop = threading.Event()

            def writer(n):
                s3 = boto3.client("s3", endpoint_url=server.url,
                                  config=CONFIG)
                i = 0
                while not stop.is_set():
                    key = "r%d-%d-%d" % (round_, n, i)
                    body = os.urandom(rng.randrange(1, 4096))
                    try:
                        s3.put_object(Bucket="rand", Key=key, Body=body)
                    except (botocore.exceptions.ClientError,
                            botocore.exceptions.BotoCoreError):
                        return
                    acked[key] = body
                    i += 1

            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                futures = [pool.submit(writer, n) for n in range(3)]
                time.sleep(rng.uniform(0.2, 1.5))
                kill(server)
                stop.set()
                for f in futures:
                    f.result()
        server = self.serve()
        try:
            s3 = clients(server)["s3"]
            for key in rng.sample(sorted(acked), min(200, len(acked))):
                self.assertEqual(s3.get_object(Bucket="rand", Key=key)
                                 ["Body"].read(), acked[key], key)
            listed = set()
            for page in s3.get_paginator("list_objects_v2").paginate(
                    Bucket="rand"):
                listed |= {o["Key"] for o in page.get("Contents", [])}
            self.assertTrue(set(acked) <= listed,
                            "%d acknowledged puts missing"
                            % len(set(acked) - listed))
        finally:
            stop_cleanly(server)
        self.assertGreater(len(acked), 100)

    def test_a_mapped_queue_loses_nothing_across_a_crash(self):
        server = self.serve()
        sqs = clients(server)["sqs"]
        q = sqs.get_queue_url(QueueName="work")["QueueUrl"]
        for i in range(0, 2000, 10):
            sqs.send_message_batch(QueueUrl=q, Entries=[
                {"Id": str(k), "MessageBody": "w%d" % (i + k)}
                for k in range(10)])
        time.sleep(1.5)  # the function has taken some, not all
        kill(server)
        server = self.serve()
        try:
            sqs = clients(server)["sqs"]
            deadline = time.time() + 120
            while time.time() < deadline:
                a = sqs.get_queue_attributes(
                    QueueUrl=q, AttributeNames=["All"])["Attributes"]
                if (a["ApproximateNumberOfMessages"] == "0" and
                        a["ApproximateNumberOfMessagesNotVisible"] == "0"):
                    break
                time.sleep(0.2)
        finally:
            stop_cleanly(server)
        seen = set()
        with open(os.path.join(self.state, "state", "journal.jsonl")) as f:
            for line in f:
                r = json.loads(line)
                if r.get("function") == "consume" and r.get("outcome") == "ok":
                    seen |= {rec["body"] for rec in
                             json.loads(r["event"])["Records"]}
        self.assertEqual(seen, {"w%d" % i for i in range(2000)})

    def test_the_log_is_folded_into_snapshots_while_serving(self):
        server = self.serve()
        state = os.path.join(self.state, "state")
        c = clients(server)
        c["s3"].create_bucket(Bucket="big")
        blobs = {"b%d" % i: os.urandom(25 * 1024 * 1024) for i in range(3)}
        for key, body in blobs.items():  # about 100 MB of state log
            c["s3"].put_object(Bucket="big", Key=key, Body=body)
        deadline = time.time() + 60
        while time.time() < deadline:  # a child rewrites the snapshots
            logs = [n for n in os.listdir(state)
                    if n.startswith("state.aof.")]
            if len(logs) == 1 and logs != ["state.aof.1"]:
                break
            time.sleep(0.2)
        self.assertEqual(len(logs), 1, logs)
        self.assertNotEqual(logs, ["state.aof.1"])
        c["s3"].put_object(Bucket="big", Key="after", Body=b"small")
        kill(server)
        server = self.serve()
        try:
            s3 = clients(server)["s3"]
            for key, body in blobs.items():
                self.assertEqual(s3.get_object(Bucket="big", Key=key)
                                 ["Body"].read(), body)
            self.assertEqual(s3.get_object(Bucket="big", Key="after")
                             ["Body"].read(), b"small")
        finally:
            stop_cleanly(server)


if __name__ == "__main__":
    unittest.main(verbosity=2)
