"""Kinesis event source mappings, end to end: records put through boto3
and the aws CLI reach python and node functions with Lambda's Kinesis
event shape, in order per shard (and per partition key under a
ParallelizationFactor), none lost; FilterCriteria on the decoded data,
partial batch responses, bisecting, retries then OnFailure to a queue
with KinesisBatchInfo; a function that puts to the stream that triggers
it is reported as a loop and stopped. The journal (every invocation,
with its exact event) is what the assertions read."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import (LAMBKIN, Server,  # noqa: E402
                            fuzz_injections, journal, stop_cleanly, wait_for,
                            write_tree)

import boto3  # noqa: E402

ACCOUNT = "123456789012"


def stream(name, shards=1):
    return """  %s:
    Type: AWS::Kinesis::Stream
    Properties: {Name: %s, ShardCount: %d}
""" % (name.capitalize(), name, shards)


def function(name, handler, stream_name, runtime="python3.12", extra=""):
    return """  %s:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: %s
      Runtime: %s
      Handler: %s
      CodeUri: %s
      Events:
        Records:
          Type: Kinesis
          Properties:
            Stream: !GetAtt %s.Arn
            StartingPosition: TRIM_HORIZON
%s""" % (name.replace("-", "").capitalize() + "Fn", name, runtime, handler,
         "node/" if runtime.startswith("node") else "py/",
         stream_name.capitalize(), extra)


TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Dead:
    Type: AWS::SQS::Queue
    Properties: {QueueName: kinesis-dead}
""" + stream("clicks", 3) + stream("wide") + stream("picky") + \
    stream("loopy") + stream("failing") + stream("partial") + \
    stream("split") + \
    function("py-reader", "app.handler", "clicks",
             extra="            BatchSize: 10\n") + \
    function("node-reader", "app.handler", "clicks", runtime="nodejs20.x") + \
    function("wide", "app.handler", "wide",
             extra="            ParallelizationFactor: 4\n"
                   "            BatchSize: 2\n") + \
    function("picky", "app.handler", "picky",
             extra="            FilterCriteria:\n"
                   "              Filters:\n"
                   "                - Pattern: '{\"data\": {\"level\": "
                   "[\"ERROR\"]}}'\n") + \
    function("looper", "loop.handler", "loopy",
             extra="      Policies: [{KinesisCrudPolicy: "
                   "{StreamName: loopy}}]\n") + \
    function("failer", "fail.handler", "failing",
             extra="            MaximumRetryAttempts: 1\n"
                   "            DestinationConfig:\n"
                   "              OnFailure: {Destination: !GetAtt Dead.Arn}"
                   "\n") + \
    function("partial", "partial.handler", "partial",
             extra="            BatchSize: 5\n"
                   "            MaximumBatchingWindowInSeconds: 1\n"
                   "            FunctionResponseTypes: "
                   "[ReportBatchItemFailures]\n"
                   "            MaximumRetryAttempts: 0\n"
                   "            DestinationConfig:\n"
                   "              OnFailure: {Destination: !GetAtt Dead.Arn}"
                   "\n") + \
    function("splitter", "partial.split", "split",
             extra="            BatchSize: 4\n"
                   "            MaximumBatchingWindowInSeconds: 1\n"
                   "            BisectBatchOnFunctionError: true\n"
                   "            MaximumRetryAttempts: 0\n")

PY = """import base64


def handler(event, context):
    return [base64.b64decode(r["kinesis"]["data"]).decode()
            for r in event["Records"]]
"""

LOOP = """import boto3

kinesis = boto3.client("kinesis")


def handler(event, context):
    for r in event["Records"]:
        kinesis.put_record(StreamName="loopy", PartitionKey="again",
                           Data=b"again")
"""

FAIL = """def handler(event, context):
    raise RuntimeError("cannot take %d" % len(event["Records"]))
"""

PARTIAL = """import base64


def bad(r):
    return base64.b64decode(r["kinesis"]["data"]) == b"bad"


def handler(event, context):
    fails = [{"itemIdentifier": r["kinesis"]["sequenceNumber"]}
             for r in event["Records"] if bad(r)]
    return {"batchItemFailures": fails[:1]}


def split(event, context):
    if any(bad(r) for r in event["Records"]):
        raise RuntimeError("a bad record")
"""

NODE = """exports.handler = async (event) =>
  event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());
"""


class KinesisMappingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="lambkin-kinm-")
        write_tree(cls.top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                             "py/loop.py": LOOP, "py/fail.py": FAIL,
                             "py/partial.py": PARTIAL, "node/app.js": NODE})
        cls.server = Server(template=os.path.join(cls.top, "template.yaml"))
        cls.k = boto3.client("kinesis", endpoint_url=cls.server.url)
        cls.sqs = boto3.client("sqs", endpoint_url=cls.server.url)

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)
        shutil.rmtree(cls.top, ignore_errors=True)

    def events(self, fn):
        return [json.loads(r["event"]) for r in journal(self.server)
                if "id" in r and r.get("function") == fn and
                r.get("source") == "kinesis"]

    def records(self, fn):
        return [rec for ev in self.events(fn) for rec in ev["Records"]]

    def data(self, fn):
        return [base64.b64decode(r["kinesis"]["data"]).decode()
                for r in self.records(fn)]

    def put(self, name, items):
        """items: (partition key, data) pairs, put in one PutRecords."""
        r = self.k.put_records(StreamName=name, Records=[
            {"PartitionKey": k, "Data": d.encode()} for k, d in items])
        self.assertEqual(r["FailedRecordCount"], 0)
        return r["Records"]

    def dead_letters(self, stream_name):
        url = "%s/%s/kinesis-dead" % (self.server.url, ACCOUNT)
        got = []
        deadline = time.time() + 30
        while not got and time.time() < deadline:
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                         WaitTimeSeconds=1)
            for m in r.get("Messages", []):
                body = json.loads(m["Body"])
                if body["KinesisBatchInfo"]["streamArn"].endswith(
                        "stream/" + stream_name):
                    got.append(body)
                    self.sqs.delete_message(QueueUrl=url,
                                            ReceiptHandle=m["ReceiptHandle"])
        return got

    def test_records_reach_python_and_node_in_order_per_shard(self):
        items = [("user-%d" % (i % 5), "click-%d" % i) for i in range(40)]
        placed = self.put("clicks", items[:39])
        cli = self.server.aws("kinesis", "put-record", "--stream-name",
                              "clicks", "--partition-key", items[39][0],
                              "--data", base64.b64encode(
                                  items[39][1].encode()).decode())
        self.assertEqual(cli.returncode, 0, cli.stderr)
        placed.append(json.loads(cli.stdout))
        for fn in ("py-reader", "node-reader"):
            wait_for(lambda: len(self.records(fn)) >= 40,
                     what="40 records at " + fn)
        time.sleep(0.3)
        recs = self.records("py-reader")
        self.assertEqual(sorted(self.data("py-reader")),
                         sorted(d for _, d in items))  # each one, once
        shard_of = {p["SequenceNumber"]: p["ShardId"] for p in placed}
        arn = "arn:aws:kinesis:us-east-1:%s:stream/clicks" % ACCOUNT
        by_shard = {}
        for r in recs:
            k = r["kinesis"]
            self.assertEqual(r["eventSource"], "aws:kinesis")
            self.assertEqual(r["eventName"], "aws:kinesis:record")
            self.assertEqual(r["eventSourceARN"], arn)
            self.assertEqual(r["awsRegion"], "us-east-1")
            self.assertEqual(r["eventID"], "%s:%s" % (
                shard_of[k["sequenceNumber"]], k["sequenceNumber"]))
            self.assertEqual(k["kinesisSchemaVersion"], "1.0")
            by_shard.setdefault(shard_of[k["sequenceNumber"]], []).append(
                int(k["sequenceNumber"]))
        self.assertGreater(len(by_shard), 1)  # 5 keys over 3 shards
        for seqs in by_shard.values():
            self.assertEqual(seqs, sorted(seqs))
        # A batch holds one shard's records, at most BatchSize of them.
        for ev in self.events("py-reader"):
            self.assertLessEqual(len(ev["Records"]), 10)
            self.assertEqual(len({r["eventID"].split(":")[0]
                                  for r in ev["Records"]}), 1)
        # node sees the same records, and decodes them itself.
        self.assertEqual(sorted(self.data("node-reader")),
                         sorted(d for _, d in items))
        ok = [r for r in journal(self.server)
              if r.get("function") == "node-reader" and "outcome" in r]
        self.assertEqual({r["outcome"] for r in ok}, {"ok"})

    def test_parallelization_keeps_order_per_partition_key(self):
        items = [("k%d" % (i % 6), "%d" % i) for i in range(60)]
        self.put("wide", items)
        wait_for(lambda: len(self.records("wide")) >= 60, what="60 records")
        time.sleep(0.3)
        got = self.data("wide")
        self.assertEqual(sorted(got, key=int), [d for _, d in items])
        for key in {k for k, _ in items}:
            mine = [int(d) for d in got if items[int(d)][0] == key]
            self.assertEqual(mine, sorted(mine), key)
        # Four slots on one shard: batches of one key never mix with
        # another slot's keys, and more than one slot was used.
        slots = [frozenset(items[int(base64.b64decode(
            r["kinesis"]["data"]))][0] for r in ev["Records"])
            for ev in self.events("wide")]
        self.assertGreater(len({s for s in slots}), 1)

    def test_filter_criteria_match_the_decoded_data(self):
        self.put("picky", [("a", json.dumps({"level": "ERROR", "n": 1})),
                           ("a", json.dumps({"level": "INFO", "n": 2})),
                           ("a", "not json"),
                           ("a", json.dumps({"level": "ERROR", "n": 4}))])
        wait_for(lambda: len(self.records("picky")) >= 2, what="two errors")
        self.put("picky", [("a", json.dumps({"level": "ERROR", "n": 5}))])
        wait_for(lambda: len(self.records("picky")) >= 3, what="the last")
        self.assertEqual([json.loads(d)["n"] for d in self.data("picky")],
                         [1, 4, 5])

    def test_a_function_putting_to_its_own_stream_is_a_loop_stopped(self):
        self.put("loopy", [("start", "go")])
        loop = wait_for(lambda: [r for r in journal(self.server)
                                 if r.get("type") == "loop" and
                                 r["function"] == "looper"],
                        what="the loop report")[0]
        self.assertEqual(loop["path"], "looper -> kinesis://loopy -> looper")
        self.assertTrue(loop["stopped"])
        time.sleep(0.5)
        self.assertEqual(len(self.events("looper")), 1)

    def test_retries_then_on_failure_with_kinesis_batch_info(self):
        placed = self.put("failing", [("f", "one")])
        dead = self.dead_letters("failing")
        self.assertEqual(len(dead), 1, dead)
        info = dead[0]["KinesisBatchInfo"]
        self.assertEqual(info["batchSize"], 1)
        self.assertEqual(info["shardId"], "shardId-000000000000")
        self.assertEqual(info["startSequenceNumber"],
                         placed[0]["SequenceNumber"])
        self.assertEqual(info["endSequenceNumber"],
                         placed[0]["SequenceNumber"])
        self.assertRegex(info["approximateArrivalOfFirstRecord"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(dead[0]["requestContext"]["condition"],
                         "RetryAttemptsExhausted")
        self.assertEqual(len(self.events("failer")), 2)  # 1 + 1 retry
        # The shard moved on: the next record is delivered too.
        self.put("failing", [("f", "two")])
        wait_for(lambda: len(self.events("failer")) >= 4, what="two")

    def test_partial_batch_failure_retries_from_the_failed_record(self):
        self.put("partial", [("p", d) for d in ["a", "b", "bad", "d"]])
        dead = self.dead_letters("partial")
        events = self.events("partial")
        self.assertEqual(len(events), 1)
        self.assertEqual([base64.b64decode(r["kinesis"]["data"]).decode()
                          for r in events[0]["Records"]],
                         ["a", "b", "bad", "d"])
        self.assertEqual(dead[0]["KinesisBatchInfo"]["batchSize"], 2)
        self.assertEqual(dead[0]["KinesisBatchInfo"]["startSequenceNumber"],
                         events[0]["Records"][2]["kinesis"]["sequenceNumber"])

    def test_bisect_isolates_the_bad_record(self):
        self.put("split", [("s", d) for d in ["s1", "s2", "bad", "s4"]])
        wait_for(lambda: len(self.events("splitter")) >= 5,
                 what="the split batches")
        time.sleep(0.5)
        sizes = [[base64.b64decode(r["kinesis"]["data"]).decode()
                  for r in e["Records"]] for e in self.events("splitter")]
        self.assertEqual(sizes, [["s1", "s2", "bad", "s4"], ["s1", "s2"],
                                 ["bad", "s4"], ["bad"], ["s4"]])


STATE_TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties: {Name: clicks, ShardCount: 2}
  Reader:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: py-reader
      Runtime: python3.12
      Handler: app.handler
      CodeUri: py/
      Events:
        Clicks:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Clicks.Arn
            StartingPosition: TRIM_HORIZON
"""


class KinesisStateTest(unittest.TestCase):
    def read_all(self, k, stream):
        out = []
        for sh in k.list_shards(StreamName=stream)["Shards"]:
            it = k.get_shard_iterator(
                StreamName=stream, ShardId=sh["ShardId"],
                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            out += k.get_records(ShardIterator=it)["Records"]
        return sorted(r["Data"].decode() for r in out)

    def test_streams_records_and_places_survive_restarts_and_a_kill(self):
        top = tempfile.mkdtemp(prefix="lambkin-kin-st-")
        try:
            write_tree(top, {"template.yaml": STATE_TEMPLATE, "py/app.py": PY})
            tpl = os.path.join(top, "template.yaml")
            server = Server(template=tpl, state=top)
            k = boto3.client("kinesis", endpoint_url=server.url)
            k.create_stream(StreamName="made", ShardCount=3)
            k.put_record(StreamName="made", PartitionKey="a", Data=b"one")
            k.put_records(StreamName="clicks", Records=[
                {"PartitionKey": "k%d" % i, "Data": b"c%d" % i}
                for i in range(6)])
            wait_for(lambda: len(self.delivered(server)) >= 6,
                     what="six records delivered")
            stop_cleanly(server)
            # A clean restart: the stream made by the API, every record,
            # and the mapping's place (nothing delivered twice).
            server = Server(template=tpl, state=top)
            k = boto3.client("kinesis", endpoint_url=server.url)
            self.assertEqual(len(k.list_shards(StreamName="made")["Shards"]),
                             3)
            self.assertEqual(self.read_all(k, "made"), ["one"])
            self.assertEqual(self.read_all(k, "clicks"),
                             ["c%d" % i for i in range(6)])
            seq = k.put_record(StreamName="clicks", PartitionKey="k0",
                               Data=b"after")["SequenceNumber"]
            wait_for(lambda: "after" in self.delivered(server),
                     what="the new record")
            time.sleep(0.5)
            # (the journal is kept too: c0 is there from the first run)
            self.assertEqual(self.delivered(server).count("c0"), 1)
            # Killed: a record acknowledged before is there after.
            k.put_record(StreamName="made", PartitionKey="a", Data=b"two")
            server.proc.kill()
            server.proc.wait()
            server.log.close()
            server = Server(template=tpl, state=top)
            k = boto3.client("kinesis", endpoint_url=server.url)
            self.assertEqual(self.read_all(k, "made"), ["one", "two"])
            # Sequence numbers keep growing across restarts.
            later = k.put_record(StreamName="clicks", PartitionKey="k0",
                                 Data=b"later")["SequenceNumber"]
            self.assertGreater(int(later), int(seq))
            stop_cleanly(server)
        finally:
            shutil.rmtree(top, ignore_errors=True)

    @staticmethod
    def delivered(server):
        return [base64.b64decode(rec["kinesis"]["data"]).decode()
                for r in journal(server)
                if "id" in r and r.get("source") == "kinesis"
                for rec in json.loads(r["event"])["Records"]]


ENFORCE_TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: python3.12, Handler: put.handler, CodeUri: py/}
Resources:
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties: {Name: clicks, ShardCount: 1}
  Allowed:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: allowed
      Policies: [{KinesisCrudPolicy: {StreamName: clicks}}]
  Reader:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: reader
      Policies: [{KinesisStreamReadPolicy: {StreamName: clicks}}]
"""

PUT = """import boto3
from botocore.exceptions import ClientError


def handler(event, context):
    try:
        boto3.client("kinesis").put_record(StreamName="clicks",
                                           PartitionKey="k", Data=b"x")
        return "put"
    except ClientError as e:
        return e.response["Error"]["Code"]
"""


class KinesisEnforceTest(unittest.TestCase):
    def test_put_needs_a_policy_that_grants_it(self):
        top = tempfile.mkdtemp(prefix="lambkin-kin-enf-")
        try:
            write_tree(top, {"template.yaml": ENFORCE_TEMPLATE,
                             "py/put.py": PUT})
            server = Server("--enforce-policies",
                            template=os.path.join(top, "template.yaml"),
                            state=top)
            try:
                lam = boto3.client("lambda", endpoint_url=server.url)
                got = {fn: json.loads(lam.invoke(FunctionName=fn)[
                    "Payload"].read()) for fn in ("allowed", "reader")}
                self.assertEqual(got, {"allowed": "put",
                                       "reader": "AccessDeniedException"})
                # and observed access names the action and the stream
                self.assertIn({"type": "access", "function": "allowed",
                               "action": "kinesis:PutRecord",
                               "resource": "arn:aws:kinesis:us-east-1:%s:"
                               "stream/clicks" % ACCOUNT}, journal(server))
            finally:
                stop_cleanly(server)
        finally:
            shutil.rmtree(top, ignore_errors=True)


class KinesisEventsTest(unittest.TestCase):
    def test_lambkin_event_kinesis(self):
        p = subprocess.run([LAMBKIN, "event", "kinesis", "--stream", "clicks",
                            "--key", "user-1", "--body", "hi"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        rec = json.loads(p.stdout)["Records"][0]
        self.assertEqual(rec["eventSource"], "aws:kinesis")
        self.assertEqual(rec["eventSourceARN"],
                         "arn:aws:kinesis:us-east-1:%s:stream/clicks"
                         % ACCOUNT)
        self.assertEqual(rec["kinesis"]["partitionKey"], "user-1")
        self.assertEqual(base64.b64decode(rec["kinesis"]["data"]), b"hi")
        self.assertEqual(rec["eventID"], "shardId-000000000000:" +
                         rec["kinesis"]["sequenceNumber"])

    def test_fuzz_finds_the_injection_in_decoded_data(self):
        top = tempfile.mkdtemp(prefix="lambkin-kinf-")
        try:
            write_tree(top, {"template.yaml": """Transform: AWS::Serverless-2016-10-31
Resources:
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  Counter:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: counter
      Runtime: python3.12
      Handler: counter.handler
      CodeUri: src/
      Events:
        Clicks:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Clicks.Arn
            StartingPosition: LATEST
""", "src/counter.py": """import base64
import json
import os


# Deliberately vulnerable: a record's message reaches a shell.
def handler(event, context):
    for r in event["Records"]:
        doc = json.loads(base64.b64decode(r["kinesis"]["data"]))
        os.system("echo " + doc.get("message", "") + " >/dev/null")
"""})
            fuzz_injections(self, top, "kinesis")
        finally:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
