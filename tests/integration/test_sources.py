"""Event sources and loop detection, end to end: real clients change S3,
SQS and CloudWatch Logs on a real `lambkin serve`, and the sample app's
functions receive the events Lambda would send. The journal (every
invocation, with its exact event) is what the assertions read."""
import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import (AWS, LAMBKIN, TEMPLATE, Server,  # noqa: E402
                            journal, stop_cleanly, wait_for)

import boto3  # noqa: E402

ACCOUNT = "123456789012"


class SourcesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        url = cls.server.url
        cls.sqs = boto3.client("sqs", endpoint_url=url)
        cls.s3 = boto3.client("s3", endpoint_url=url)
        cls.logs = boto3.client("logs", endpoint_url=url)
        cls.lam = boto3.client("lambda", endpoint_url=url)
        cls.jobs = "%s/%s/jobs" % (url, ACCOUNT)
        cls.dead = "%s/%s/jobs-dead" % (url, ACCOUNT)

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    def invocations(self, fn, source=None):
        return [r for r in journal(self.server)
                if r.get("function") == fn and "id" in r and
                (source is None or r["source"] == source)]

    def counts(self, url):
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return (int(a["ApproximateNumberOfMessages"]) +
                int(a["ApproximateNumberOfMessagesNotVisible"]))

    def test_s3_put_invokes_subscribed_function_with_lambda_record(self):
        with tempfile.NamedTemporaryFile("wb", suffix=".txt") as f:
            f.write(b"hello upload")
            f.flush()
            subprocess.run([AWS, "--endpoint-url", self.server.url, "s3",
                            "cp", f.name, "s3://uploads/in/a b+c.txt"],
                           check=True, capture_output=True, timeout=60)
            subprocess.run([AWS, "--endpoint-url", self.server.url, "s3",
                            "cp", f.name, "s3://uploads/elsewhere.txt"],
                           check=True, capture_output=True, timeout=60)
        def mine():
            return [i for i in self.invocations("on-upload", "s3")
                    if "in/a+b%2Bc.txt" in i["event"] or
                    "elsewhere" in i["event"]]

        inv = wait_for(mine, what="on-upload")[0]
        rec = json.loads(inv["event"])["Records"][0]
        self.assertEqual(rec["eventVersion"], "2.1")
        self.assertEqual(rec["eventSource"], "aws:s3")
        self.assertEqual(rec["eventName"], "ObjectCreated:Put")
        self.assertRegex(rec["eventTime"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(rec["s3"]["bucket"]["name"], "uploads")
        self.assertEqual(rec["s3"]["bucket"]["arn"], "arn:aws:s3:::uploads")
        self.assertEqual(rec["s3"]["object"]["key"], "in/a+b%2Bc.txt")
        self.assertEqual(rec["s3"]["object"]["size"], 12)
        self.assertEqual(rec["s3"]["object"]["eTag"],
                         hashlib.md5(b"hello upload").hexdigest())
        self.assertTrue(rec["s3"]["object"]["sequencer"])
        self.assertEqual(inv["outcome"], "ok")
        time.sleep(0.5)  # the prefix filter kept the other key out
        self.assertEqual(len(mine()), 1)

    def test_sqs_mapping_processes_and_deletes(self):
        before = len(self.invocations("worker-node", "sqs"))
        self.sqs.send_message(QueueUrl=self.jobs, MessageBody="job ok",
                              MessageAttributes={"kind": {
                                  "DataType": "String",
                                  "StringValue": "test"}})
        wait_for(lambda: len(self.invocations("worker-node", "sqs")) > before,
                 what="worker-node")
        wait_for(lambda: self.counts(self.jobs) == 0, what="the delete")
        inv = [i for i in self.invocations("worker-node", "sqs")
               if "job ok" in i["event"]][0]
        rec = json.loads(inv["event"])["Records"][0]
        self.assertEqual(rec["body"], "job ok")
        self.assertEqual(rec["eventSource"], "aws:sqs")
        self.assertEqual(rec["eventSourceARN"],
                         "arn:aws:sqs:us-east-1:%s:jobs" % ACCOUNT)
        self.assertEqual(rec["awsRegion"], "us-east-1")
        self.assertEqual(rec["md5OfBody"], hashlib.md5(b"job ok").hexdigest())
        self.assertEqual(rec["attributes"]["ApproximateReceiveCount"], "1")
        self.assertEqual(rec["messageAttributes"]["kind"]["stringValue"],
                         "test")
        self.assertEqual(rec["messageAttributes"]["kind"]["dataType"],
                         "String")
        self.assertTrue(rec["receiptHandle"])

    def test_failures_reach_the_dlq_and_nothing_is_lost(self):
        sent = ["poison %d" % i for i in range(2)] + ["bad 1", "fine 1",
                                                      "fine 2"]
        for body in sent:
            self.sqs.send_message(QueueUrl=self.jobs, MessageBody=body)
        # Every moment: sent = deleted + in the DLQ + still in the queue.
        dead = []
        deadline = time.time() + 30
        while time.time() < deadline:
            got = self.sqs.receive_message(QueueUrl=self.dead,
                                           MaxNumberOfMessages=10,
                                           VisibilityTimeout=60)
            dead += [m["Body"] for m in got.get("Messages", [])]
            if len(dead) >= 3 and self.counts(self.jobs) == 0:
                break
            time.sleep(0.2)
        self.assertEqual(sorted(dead), ["bad 1", "poison 0", "poison 1"])
        self.assertEqual(self.counts(self.jobs), 0)
        ok = {json.loads(i["event"])["Records"][0]["body"]
              for i in self.invocations("worker-node", "sqs")
              if i["outcome"] == "ok" and len(json.loads(i["event"])
                                              ["Records"]) == 1}
        processed = " ".join(i["event"] for i in
                             self.invocations("worker-node", "sqs"))
        for body in ("fine 1", "fine 2"):
            self.assertIn(body, processed)
        self.assertNotIn("poison 0", ok)

    def test_error_log_line_reaches_subscribed_function(self):
        self.logs.create_log_stream(logGroupName="/app/events",
                                    logStreamName="web-1")
        now = int(time.time() * 1000)
        self.logs.put_log_events(
            logGroupName="/app/events", logStreamName="web-1",
            logEvents=[{"timestamp": now, "message": "INFO all fine"},
                       {"timestamp": now + 1,
                        "message": "ERROR payment failed"}])
        inv = wait_for(lambda: self.invocations("alerter", "logs"),
                       what="alerter")[0]
        data = json.loads(gzip.decompress(base64.b64decode(
            json.loads(inv["event"])["awslogs"]["data"])))
        self.assertEqual(data["messageType"], "DATA_MESSAGE")
        self.assertEqual(data["owner"], ACCOUNT)
        self.assertEqual(data["logGroup"], "/app/events")
        self.assertEqual(data["logStream"], "web-1")
        self.assertEqual(len(data["subscriptionFilters"]), 1)
        self.assertEqual([e["message"] for e in data["logEvents"]],
                         ["ERROR payment failed"])
        self.assertEqual(data["logEvents"][0]["timestamp"], now + 1)
        self.assertEqual(inv["outcome"], "ok")

    def test_c_handler_reaches_s3_and_sqs_through_its_api(self):
        r = self.lam.invoke(FunctionName="store-c", Payload=b'{"from":"c"}')
        out = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, out)
        self.assertEqual(out["stored"], len(b'{"from":"c"}'))
        got = self.s3.get_object(Bucket="uploads", Key=out["key"])
        self.assertEqual(got["Body"].read(), b'{"from":"c"}')
        # The put fired the S3 notification, in the same chain.
        inv = wait_for(lambda: [i for i in self.invocations("on-upload")
                                if out["key"] in i["event"]],
                       what="on-upload from C")[0]
        store = self.invocations("store-c")[0]
        root = store["trace"].split(";")[0]
        self.assertEqual(inv["trace"].split(";")[0], root)
        self.assertIn("Lineage=1", inv["trace"])
        wait_for(lambda: [i for i in self.invocations("worker-node", "sqs")
                          if "job from C" in i["event"]],
                 what="the worker to get the C job")

    def test_s3_self_trigger_is_reported_and_stopped(self):
        self.s3.put_object(Bucket="photos", Key="cat.jpg", Body=b"meow" * 40)
        loop = wait_for(lambda: [r for r in journal(self.server)
                                 if r.get("type") == "loop" and
                                 r["function"] == "thumbnailer"],
                        what="the loop report")[0]
        self.assertEqual(loop["path"], "thumbnailer -> s3://photos/thumbs/"
                                       "cat.jpg -> thumbnailer")
        self.assertEqual(loop["origin"], "s3")
        self.assertTrue(loop["stopped"])
        self.assertGreater(loop["rate_per_s"], 0)
        self.assertIn("cat.jpg", loop["event"])
        self.assertIn("LOOP detected: thumbnailer -> s3://photos/thumbs/"
                      "cat.jpg -> thumbnailer", self.server.output())
        time.sleep(0.5)
        first = self.invocations("thumbnailer")
        self.assertEqual(len(first), 1)
        # The report names the invocation that started the chain, whose
        # journal record holds the event to replay.
        self.assertEqual(loop["origin_invocation"], first[0]["id"])
        self.assertIn('"key":"cat.jpg"', first[0]["event"])
        self.assertEqual(self.s3.get_object(Bucket="photos",
                                            Key="thumbs/cat.jpg")
                         ["Body"].read(), (b"meow" * 40)[:64])

    def test_direct_self_invoke_gets_recursive_invocation_exception(self):
        r = self.lam.invoke(FunctionName="self-invoker", Payload=b"{}")
        err = json.loads(r["Payload"].read())
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertIn("RecursiveInvocationException", err["errorMessage"])
        self.assertIn("self-invoker -> invoke -> self-invoker",
                      err["errorMessage"])


class AllowLoopsTest(unittest.TestCase):
    def test_allowed_loop_runs_to_max_depth(self):
        server = Server("--allow-loops", "--max-depth", "4")
        try:
            lam = boto3.client("lambda", endpoint_url=server.url)
            lam.invoke(FunctionName="self-invoker", Payload=b"{}")
            stop = wait_for(lambda: [r for r in journal(server)
                                     if r.get("type") == "max-depth"],
                            what="the depth stop")[0]
            self.assertEqual(stop["depth"], 4)
            self.assertTrue(stop["stopped"])
            time.sleep(0.5)
            runs = [r for r in journal(server)
                    if r.get("function") == "self-invoker" and "id" in r]
            self.assertEqual(len(runs), 4)
            warned = [r for r in journal(server) if r.get("type") == "loop"]
            self.assertEqual(len(warned), 3)
            self.assertFalse(warned[0]["stopped"])
        finally:
            out = stop_cleanly(server)
        self.assertIn("allowed by --allow-loops", out)
        self.assertIn("CHAIN TOO DEEP stopped", out)


class InvokeLoopExitTest(unittest.TestCase):
    def test_lambkin_invoke_exits_3_on_a_loop(self):
        with tempfile.TemporaryDirectory() as state:
            p = subprocess.run([LAMBKIN, "invoke", "self-invoker", "-t",
                                TEMPLATE, "--state", state],
                               capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("LOOP detected: self-invoker -> invoke -> self-invoker",
                      p.stderr)


class OtherPathsLoopTest(unittest.TestCase):
    """The sample loops through an SQS mapping and a log subscription."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    def loop_of(self, fn):
        return wait_for(lambda: [r for r in journal(self.server)
                                 if r.get("type") == "loop" and
                                 r["function"] == fn],
                        what="a loop of " + fn)[0]

    def test_queue_consumer_that_feeds_its_own_queue(self):
        sqs = boto3.client("sqs", endpoint_url=self.server.url)
        url = sqs.get_queue_url(QueueName="ring")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="first")
        loop = self.loop_of("sqs-echoer")
        self.assertEqual(loop["path"],
                         "sqs-echoer -> sqs://ring -> sqs-echoer")
        self.assertEqual(loop["origin"], "sqs")
        # Stopped, not lost: once the first invocation has finished (and
        # its message is deleted), the requeued message is still there.
        def left():
            a = sqs.get_queue_attributes(QueueUrl=url,
                                         AttributeNames=["All"])["Attributes"]
            return (int(a["ApproximateNumberOfMessages"]) +
                    int(a["ApproximateNumberOfMessagesNotVisible"]))

        wait_for(lambda: left() == 1, what="one message left")
        time.sleep(0.5)
        self.assertEqual(left(), 1)

    def test_function_subscribed_to_its_own_output(self):
        lam = boto3.client("lambda", endpoint_url=self.server.url)
        lam.invoke(FunctionName="log-shouter", Payload=b"{}")
        loop = self.loop_of("log-shouter")
        self.assertEqual(loop["path"], "log-shouter -> logs:/aws/lambda/"
                                       "log-shouter -> log-shouter")


class EventCommandTest(unittest.TestCase):
    """`lambkin event` prints the shapes the sources deliver."""

    def event(self, *args):
        p = subprocess.run([LAMBKIN, "event"] + list(args),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_each_source(self):
        r = self.event("s3", "--bucket", "uploads", "--key", "in/a b.txt",
                       "--body", "xyz")["Records"][0]
        self.assertEqual(r["s3"]["object"]["key"], "in/a+b.txt")
        self.assertEqual(r["s3"]["object"]["eTag"],
                         hashlib.md5(b"xyz").hexdigest())
        self.assertEqual(r["s3"]["object"]["size"], 3)
        r = self.event("sqs", "--queue", "jobs", "--body", "hi")["Records"][0]
        self.assertEqual((r["body"], r["md5OfBody"], r["eventSourceARN"]),
                         ("hi", hashlib.md5(b"hi").hexdigest(),
                          "arn:aws:sqs:us-east-1:%s:jobs" % ACCOUNT))
        data = json.loads(gzip.decompress(base64.b64decode(self.event(
            "logs", "--group", "g", "--message", "ERROR x")["awslogs"]
            ["data"])))
        self.assertEqual((data["logGroup"], data["logEvents"][0]["message"]),
                         ("g", "ERROR x"))
        v1 = self.event("apigw", "--path", "/items/7", "--resource",
                        "/items/{id}", "--query", "a=1&a=2", "--body", "{}")
        self.assertEqual(v1["pathParameters"], {"id": "7"})
        self.assertEqual(v1["multiValueQueryStringParameters"],
                         {"a": ["1", "2"]})
        self.assertEqual(v1["body"], "{}")
        v2 = self.event("apigw-v2", "--method", "POST", "--path", "/x",
                        "--header", "Cookie: a=1")
        self.assertEqual((v2["version"], v2["cookies"]), ("2.0", ["a=1"]))
        p = subprocess.run([LAMBKIN, "event", "nope"], capture_output=True,
                           timeout=30)
        self.assertEqual(p.returncode, 2)
        for size in ("", "12x", "-1", "99999999999999999999"):
            p = subprocess.run([LAMBKIN, "event", "s3", "--size", size],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, size)
            self.assertIn("--size wants a number", p.stderr)

    def test_sample_event_drives_a_function(self):
        ev = subprocess.run([LAMBKIN, "event", "s3", "--bucket", "uploads",
                             "--key", "in/x.txt"], capture_output=True,
                            timeout=30, check=True).stdout
        with tempfile.TemporaryDirectory() as state:
            p = subprocess.run([LAMBKIN, "invoke", "on-upload", "-t",
                                TEMPLATE, "--state", state, "-e", "-"],
                               input=ev, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"keys": ["in/x.txt"]})


if __name__ == "__main__":
    unittest.main(verbosity=2)
