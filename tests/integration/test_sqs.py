"""Emulated SQS in both wire protocols: the query protocol as Debian's aws
CLI and boto3 (botocore 1.29) speak it, and JSON 1.0 as the JS SDK v3
speaks it, against a real `lambkin serve`."""
import hashlib
import json
import os
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import ROOT, Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


def attrs_md5(attrs):
    """The MD5 of message attributes as AWS documents it, computed here
    independently of lambkin."""
    out = b""
    for name in sorted(attrs):
        a = attrs[name]
        binary = "BinaryValue" in a
        value = a["BinaryValue"] if binary else a["StringValue"].encode()
        for part in (name.encode(), a["DataType"].encode()):
            out += struct.pack(">I", len(part)) + part
        out += bytes([2 if binary else 1])
        out += struct.pack(">I", len(value)) + value
    return hashlib.md5(out).hexdigest()


class SqsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.sqs = boto3.client(
            "sqs", endpoint_url=cls.server.url,
            config=botocore.config.Config(retries={"max_attempts": 0},
                                          read_timeout=60))

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    def aws(self, *args):
        p = self.server.aws(*args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def queue(self, name, **attrs):
        return self.sqs.create_queue(
            QueueName=name,
            Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]

    def test_cli_round_trip(self):
        url = self.aws("sqs", "create-queue", "--queue-name",
                       "cli-q")["QueueUrl"]
        self.assertTrue(url.endswith("/123456789012/cli-q"))
        self.assertIn(url, self.aws("sqs", "list-queues")["QueueUrls"])
        sent = self.aws("sqs", "send-message", "--queue-url", url,
                        "--message-body", "hello cli")
        self.assertEqual(sent["MD5OfMessageBody"],
                         hashlib.md5(b"hello cli").hexdigest())
        got = self.aws("sqs", "receive-message", "--queue-url", url,
                       "--attribute-names", "All")["Messages"][0]
        self.assertEqual(got["Body"], "hello cli")
        self.assertEqual(got["Attributes"]["ApproximateReceiveCount"], "1")
        self.aws("sqs", "delete-message", "--queue-url", url,
                 "--receipt-handle", got["ReceiptHandle"])
        a = self.aws("sqs", "get-queue-attributes", "--queue-url", url,
                     "--attribute-names", "All")["Attributes"]
        self.assertEqual(a["ApproximateNumberOfMessages"], "0")
        self.assertEqual(a["ApproximateNumberOfMessagesNotVisible"], "0")

    def test_attributes_and_md5(self):
        url = self.queue("attrs")
        ma = {"color": {"DataType": "String", "StringValue": "blue"},
              "n": {"DataType": "Number", "StringValue": "42"},
              "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"}}
        r = self.sqs.send_message(QueueUrl=url, MessageBody="body",
                                  MessageAttributes=ma)
        self.assertEqual(r["MD5OfMessageAttributes"], attrs_md5(ma))
        m = self.sqs.receive_message(QueueUrl=url,
                                     MessageAttributeNames=["All"])
        m = m["Messages"][0]
        self.assertEqual(m["MessageAttributes"]["raw"]["BinaryValue"],
                         b"\x00\x01\xff")
        self.assertEqual(m["MessageAttributes"]["color"]["StringValue"],
                         "blue")
        self.assertEqual(m["MD5OfMessageAttributes"], attrs_md5(ma))
        self.assertEqual(m["MD5OfBody"], hashlib.md5(b"body").hexdigest())

    def test_visibility_timeout_and_receive_count(self):
        url = self.queue("vis", VisibilityTimeout=1)
        self.sqs.send_message(QueueUrl=url, MessageBody="again")
        first = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        time.sleep(1.2)
        second = self.sqs.receive_message(
            QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])
        second = second["Messages"][0]
        self.assertEqual(second["MessageId"], first["MessageId"])
        self.assertEqual(second["Attributes"]["ApproximateReceiveCount"], "2")
        self.sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=second["ReceiptHandle"],
            VisibilityTimeout=0)
        third = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        self.sqs.delete_message(QueueUrl=url,
                                ReceiptHandle=third["ReceiptHandle"])
        time.sleep(1.2)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))

    def test_redrive_to_dlq(self):
        dlq = self.queue("dead")
        dlq_arn = self.sqs.get_queue_attributes(
            QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = self.queue("work", VisibilityTimeout=0, RedrivePolicy=json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
        self.sqs.send_message(QueueUrl=url, MessageBody="poison")
        for _ in range(2):
            self.assertEqual(len(self.sqs.receive_message(QueueUrl=url)
                                 ["Messages"]), 1)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        moved = self.sqs.receive_message(QueueUrl=dlq)["Messages"][0]
        self.assertEqual(moved["Body"], "poison")

    def test_batches_delay_and_purge(self):
        url = self.queue("batch")
        r = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "one"},
            {"Id": "b", "MessageBody": "two", "DelaySeconds": 1},
            {"Id": "c", "MessageBody": ""}])
        self.assertEqual(sorted(s["Id"] for s in r["Successful"]), ["a", "b"])
        self.assertEqual([f["Id"] for f in r["Failed"]], ["c"])
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        self.assertEqual([m["Body"] for m in got["Messages"]], ["one"])
        got = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)
        self.assertEqual([m["Body"] for m in got["Messages"]], ["two"])
        d = self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": "x", "ReceiptHandle": got["Messages"][0]["ReceiptHandle"]},
            {"Id": "y", "ReceiptHandle": "garbage"}])
        self.assertEqual([s["Id"] for s in d["Successful"]], ["x"])
        self.assertEqual(d["Failed"][0]["Code"], "ReceiptHandleIsInvalid")
        self.sqs.send_message(QueueUrl=url, MessageBody="gone")
        self.sqs.purge_queue(QueueUrl=url)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))

    def test_long_poll_wakes_on_send(self):
        url = self.queue("poll")
        sender = boto3.client("sqs", endpoint_url=self.server.url)
        timer = threading.Timer(0.5, lambda: sender.send_message(
            QueueUrl=url, MessageBody="woken"))
        t = time.time()
        timer.start()
        got = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
        timer.join()
        self.assertEqual(got["Messages"][0]["Body"], "woken")
        self.assertLess(time.time() - t, 5)
        t = time.time()
        self.assertNotIn("Messages", self.sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=1))
        self.assertGreaterEqual(time.time() - t, 0.9)

    def test_fifo_order_and_dedup(self):
        url = self.queue("orders.fifo", FifoQueue="true")
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody="m%d" % i,
                                  MessageGroupId="g",
                                  MessageDeduplicationId="d%d" % i)
        self.sqs.send_message(QueueUrl=url, MessageBody="m0 again",
                              MessageGroupId="g", MessageDeduplicationId="d0")
        first = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
        self.assertEqual(first["Messages"][0]["Body"], "m0")
        # The group is blocked while m0 is in flight.
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        self.sqs.delete_message(
            QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
        rest = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        self.assertEqual([m["Body"] for m in rest["Messages"]], ["m1", "m2"])

    def test_errors(self):
        def code(**kw):
            fn = kw.pop("fn")
            with self.assertRaises(ClientError) as cm:
                fn(**kw)
            return cm.exception.response["Error"]["Code"]

        self.assertEqual(code(fn=self.sqs.get_queue_url, QueueName="nope"),
                         "AWS.SimpleQueueService.NonExistentQueue")
        url = self.queue("errs")
        self.assertEqual(code(fn=self.sqs.receive_message, QueueUrl=url,
                              MaxNumberOfMessages=11),
                         "InvalidParameterValue")
        self.assertEqual(code(fn=self.sqs.send_message, QueueUrl=url,
                              MessageBody="x" * 262145),
                         "InvalidParameterValue")
        self.assertEqual(code(fn=self.sqs.delete_message, QueueUrl=url,
                              ReceiptHandle="bad"), "ReceiptHandleIsInvalid")

    def test_js_sdk_json_protocol(self):
        p = subprocess.run(
            ["node", os.path.join(ROOT, "tests", "js", "sqs.mjs"),
             self.server.url], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["body"], "from js")
        self.assertEqual(out["attr"], "v")
        self.assertEqual(out["left"], "0")
        self.assertEqual(out["missing"], "QueueDoesNotExist")


if __name__ == "__main__":
    unittest.main(verbosity=2)
