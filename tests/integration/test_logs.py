"""Emulated CloudWatch Logs over JSON 1.1, driven by Debian's aws CLI and
boto3, against a real `lambkin serve`; and function output landing in
/aws/lambda/<name>, one stream per instance."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


class LogsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.logs = boto3.client("logs", endpoint_url=cls.server.url)

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    def aws(self, *args):
        p = self.server.aws(*args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def test_cli_groups_streams_events(self):
        self.aws("logs", "create-log-group", "--log-group-name", "cli/app")
        self.aws("logs", "create-log-stream", "--log-group-name", "cli/app",
                 "--log-stream-name", "s1")
        now = int(time.time() * 1000)
        events = [{"timestamp": now + i, "message": "line %d" % i}
                  for i in range(5)]
        self.aws("logs", "put-log-events", "--log-group-name", "cli/app",
                 "--log-stream-name", "s1", "--log-events",
                 json.dumps(events))
        got = self.aws("logs", "get-log-events", "--log-group-name",
                       "cli/app", "--log-stream-name", "s1",
                       "--start-from-head")
        self.assertEqual([e["message"] for e in got["events"]],
                         ["line %d" % i for i in range(5)])
        groups = self.aws("logs", "describe-log-groups",
                          "--log-group-name-prefix", "cli/")["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], ["cli/app"])
        streams = self.aws("logs", "describe-log-streams", "--log-group-name",
                           "cli/app")["logStreams"]
        self.assertEqual(streams[0]["logStreamName"], "s1")
        self.assertEqual(streams[0]["lastEventTimestamp"], now + 4)

    def test_filter_patterns(self):
        g = "filters"
        self.logs.create_log_group(logGroupName=g)
        self.logs.create_log_stream(logGroupName=g, logStreamName="a")
        self.logs.create_log_stream(logGroupName=g, logStreamName="b")
        now = int(time.time() * 1000)
        self.logs.put_log_events(logGroupName=g, logStreamName="a", logEvents=[
            {"timestamp": now, "message": "ERROR disk full"},
            {"timestamp": now + 2, "message": "INFO all good"},
            {"timestamp": now + 4,
             "message": json.dumps({"level": "error", "latency": 250})}])
        self.logs.put_log_events(logGroupName=g, logStreamName="b", logEvents=[
            {"timestamp": now + 1, "message": "WARN disk slow"},
            {"timestamp": now + 3,
             "message": json.dumps({"level": "info", "latency": 12})}])

        def f(pattern):
            r = self.logs.filter_log_events(logGroupName=g,
                                            filterPattern=pattern)
            return [e["message"] for e in r["events"]]

        self.assertEqual(f("ERROR"), ["ERROR disk full"])
        self.assertEqual(f("disk -ERROR"), ["WARN disk slow"])
        self.assertEqual(f("?ERROR ?WARN"), ["ERROR disk full",
                                             "WARN disk slow"])
        self.assertEqual(f('"all good"'), ["INFO all good"])
        self.assertEqual(len(f("")), 5)
        self.assertEqual(f('{ $.latency > 100 }'),
                         [json.dumps({"level": "error", "latency": 250})])
        self.assertEqual(f('{ $.level = "info" }'),
                         [json.dumps({"level": "info", "latency": 12})])
        r = self.logs.filter_log_events(logGroupName=g, limit=2)
        self.assertEqual(len(r["events"]), 2)
        r2 = self.logs.filter_log_events(logGroupName=g, limit=10,
                                         nextToken=r["nextToken"])
        self.assertEqual(len(r2["events"]), 3)
        self.assertEqual(r["events"][0]["logStreamName"], "a")
        self.assertEqual(r["events"][1]["logStreamName"], "b")

    def test_errors(self):
        with self.assertRaises(ClientError) as cm:
            self.logs.get_log_events(logGroupName="nope", logStreamName="x")
        self.assertEqual(cm.exception.response["Error"]["Code"],
                         "ResourceNotFoundException")
        self.logs.create_log_group(logGroupName="twice")
        with self.assertRaises(ClientError) as cm:
            self.logs.create_log_group(logGroupName="twice")
        self.assertEqual(cm.exception.response["Error"]["Code"],
                         "ResourceAlreadyExistsException")

    def test_subscription_filters_round_trip(self):
        self.logs.create_log_group(logGroupName="subs")
        arn = "arn:aws:lambda:us-east-1:123456789012:function:echo-python"
        self.logs.put_subscription_filter(
            logGroupName="subs", filterName="errors", filterPattern="ERROR",
            destinationArn=arn)
        got = self.logs.describe_subscription_filters(logGroupName="subs")
        self.assertEqual(got["subscriptionFilters"][0]["destinationArn"], arn)

    def test_function_output_lands_in_its_group(self):
        lam = boto3.client("lambda", endpoint_url=self.server.url)
        r = lam.invoke(FunctionName="echo-python", Payload=b'{"x":1}')
        rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
        streams = self.logs.describe_log_streams(
            logGroupName="/aws/lambda/echo-python")["logStreams"]
        self.assertEqual(len(streams), 1)
        self.assertRegex(streams[0]["logStreamName"],
                         r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
        msgs = [e["message"] for e in self.logs.get_log_events(
            logGroupName="/aws/lambda/echo-python",
            logStreamName=streams[0]["logStreamName"],
            startFromHead=True)["events"]]
        self.assertEqual(msgs[0], "START RequestId: %s Version: $LATEST"
                         % rid)
        self.assertIn("echo %s echo-python" % rid, msgs)
        self.assertTrue(msgs[-1].startswith("REPORT RequestId: " + rid))


if __name__ == "__main__":
    unittest.main(verbosity=2)
