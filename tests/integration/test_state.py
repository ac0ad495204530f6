"""--state keeps buckets, objects, queues, messages and logs across a clean
stop and start of `lambkin serve`, with nothing lost."""
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402


def created(s3, logs):
    """When the bucket, log group and stream were made, as clients see it."""
    bucket = [b["CreationDate"] for b in s3.list_buckets()["Buckets"]
              if b["Name"] == "kept"]
    group = logs.describe_log_groups(
        logGroupNamePrefix="kept/logs")["logGroups"][0]["creationTime"]
    stream = logs.describe_log_streams(
        logGroupName="kept/logs")["logStreams"][0]["creationTime"]
    return bucket, group, stream


class StateTest(unittest.TestCase):
    def test_restart_keeps_everything(self):
        state = tempfile.mkdtemp(prefix="lambkin-state-")
        try:
            first = Server(state=state)
            s3 = boto3.client("s3", endpoint_url=first.url)
            sqs = boto3.client("sqs", endpoint_url=first.url)
            logs = boto3.client("logs", endpoint_url=first.url)
            s3.create_bucket(Bucket="kept")
            s3.put_object(Bucket="kept", Key="a/b.bin", Body=bytes(range(256)),
                          Metadata={"who": "me"})
            url = sqs.create_queue(QueueName="kept-q")["QueueUrl"]
            for i in range(3):
                sqs.send_message(QueueUrl=url, MessageBody="m%d" % i,
                                 MessageAttributes={"n": {
                                     "DataType": "Number",
                                     "StringValue": str(i)}})
            # One message is in flight when lambkin stops: it must come
            # back, not vanish.
            sqs.receive_message(QueueUrl=url, VisibilityTimeout=300)
            logs.create_log_group(logGroupName="kept/logs")
            logs.create_log_stream(logGroupName="kept/logs",
                                   logStreamName="s")
            logs.put_log_events(logGroupName="kept/logs", logStreamName="s",
                                logEvents=[{"timestamp": 1000,
                                            "message": "remember me"}])
            born = created(s3, logs)
            time.sleep(1.1)  # a time taken anew at restart would differ
            stop_cleanly(first)

            second = Server(state=state)
            try:
                s3 = boto3.client("s3", endpoint_url=second.url)
                sqs = boto3.client("sqs", endpoint_url=second.url)
                logs = boto3.client("logs", endpoint_url=second.url)
                got = s3.get_object(Bucket="kept", Key="a/b.bin")
                self.assertEqual(got["Body"].read(), bytes(range(256)))
                self.assertEqual(got["Metadata"], {"who": "me"})
                url = sqs.get_queue_url(QueueName="kept-q")["QueueUrl"]
                msgs = sqs.receive_message(QueueUrl=url,
                                           MaxNumberOfMessages=10,
                                           MessageAttributeNames=["All"])
                self.assertEqual(sorted(m["Body"] for m in msgs["Messages"]),
                                 ["m0", "m1", "m2"])
                self.assertEqual(
                    {m["MessageAttributes"]["n"]["StringValue"]
                     for m in msgs["Messages"]}, {"0", "1", "2"})
                ev = logs.get_log_events(logGroupName="kept/logs",
                                         logStreamName="s",
                                         startFromHead=True)["events"]
                self.assertEqual([e["message"] for e in ev], ["remember me"])
                self.assertEqual(created(s3, logs), born)
                # The template's own resources are still there once.
                names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
                self.assertEqual(names.count("uploads"), 1)
            finally:
                stop_cleanly(second)
        finally:
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
