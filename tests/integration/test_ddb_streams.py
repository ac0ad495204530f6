"""DynamoDB streams, end to end: writes through boto3 and the aws CLI
make stream records that Events of type DynamoDB deliver to python and
node functions (in order, with the images the view type keeps, filtered,
retried, split, partly failed, sent OnFailure to a queue), that the
DynamoDB Streams API reads back, and a function that writes to the table
whose stream triggers it is reported as a loop and stopped. The journal
(every invocation, with its exact event) is what the assertions read."""
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


def table(name, view, key="id"):
    return """  %s:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: %s
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: %s, AttributeType: S}]
      KeySchema: [{AttributeName: %s, KeyType: HASH}]
      StreamSpecification: {StreamViewType: %s}
""" % (name.capitalize(), name, key, key, view)


TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
""" + table("orders", "NEW_AND_OLD_IMAGES") + table("keys", "KEYS_ONLY") + \
    table("picky", "NEW_IMAGE") + table("loopy", "NEW_IMAGE") + \
    table("failing", "NEW_IMAGE") + table("partial", "NEW_IMAGE") + \
    table("split", "NEW_IMAGE") + table("expiring", "OLD_IMAGE") + """\
      TimeToLiveSpecification: {AttributeName: expires, Enabled: true}
  Reaper:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: reaper
      Runtime: python3.12
      Handler: app.handler
      CodeUri: py/
      Events:
        Expiring:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Expiring.StreamArn
            StartingPosition: TRIM_HORIZON
  Dead:
    Type: AWS::SQS::Queue
    Properties: {QueueName: stream-dead}
  PyReader:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: py-reader
      Runtime: python3.12
      Handler: app.handler
      CodeUri: py/
      Events:
        Orders:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
  NodeReader:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node-reader
      Runtime: nodejs20.x
      Handler: app.handler
      CodeUri: node/
      Events:
        Keys:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Keys.StreamArn
            StartingPosition: LATEST
        Orders:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: TRIM_HORIZON
  PickyFn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: picky
      Runtime: python3.12
      Handler: app.handler
      CodeUri: py/
      Events:
        Picky:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Picky.StreamArn
            StartingPosition: TRIM_HORIZON
            FilterCriteria:
              Filters:
                - Pattern: '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": [{"prefix": "keep"}]}}}}'
  Looper:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: looper
      Runtime: python3.12
      Handler: loop.handler
      CodeUri: py/
      Policies: [{DynamoDBCrudPolicy: {TableName: loopy}}]
      Events:
        Loopy:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Loopy.StreamArn
            StartingPosition: TRIM_HORIZON
  Failer:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: failer
      Runtime: python3.12
      Handler: fail.handler
      CodeUri: py/
      Events:
        Failing:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Failing.StreamArn
            StartingPosition: TRIM_HORIZON
            MaximumRetryAttempts: 1
            DestinationConfig:
              OnFailure: {Destination: !GetAtt Dead.Arn}
  PartialFn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: partial
      Runtime: python3.12
      Handler: partial.handler
      CodeUri: py/
      Events:
        Partial:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Partial.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 5
            MaximumBatchingWindowInSeconds: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
            MaximumRetryAttempts: 0
            DestinationConfig:
              OnFailure: {Destination: !GetAtt Dead.Arn}
  Splitter:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: splitter
      Runtime: python3.12
      Handler: partial.split
      CodeUri: py/
      Events:
        Split:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Split.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 4
            MaximumBatchingWindowInSeconds: 1
            BisectBatchOnFunctionError: true
            MaximumRetryAttempts: 0
"""

PY = """import json


def handler(event, context):
    return {"n": len(event["Records"])}
"""

LOOP = """import os

import boto3

table = boto3.resource("dynamodb").Table("loopy")


def handler(event, context):
    for r in event["Records"]:
        n = int(r["dynamodb"]["NewImage"]["n"]["N"])
        table.put_item(Item={"id": r["dynamodb"]["Keys"]["id"]["S"],
                             "n": n + 1})
"""

FAIL = """def handler(event, context):
    raise RuntimeError("cannot take %d" % len(event["Records"]))
"""

PARTIAL = """def handler(event, context):
    fails = [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
             for r in event["Records"]
             if r["dynamodb"]["NewImage"].get("bad")]
    return {"batchItemFailures": fails[:1]}


def split(event, context):
    if any(r["dynamodb"]["NewImage"].get("bad") for r in event["Records"]):
        raise RuntimeError("a bad record")
"""

NODE = """const { DynamoDBStreamsClient, DescribeStreamCommand,
  GetShardIteratorCommand, GetRecordsCommand } =
  require('@aws-sdk/client-dynamodb-streams');

// A stream's records, or (asked to) the stream read back through the
// JS SDK v3's own Streams client.
exports.handler = async (event) => {
  if (event.read) {
    const c = new DynamoDBStreamsClient({});
    const d = await c.send(new DescribeStreamCommand({ StreamArn: event.read }));
    const it = await c.send(new GetShardIteratorCommand({
      StreamArn: event.read, ShardIteratorType: 'TRIM_HORIZON',
      ShardId: d.StreamDescription.Shards[0].ShardId }));
    const got = await c.send(new GetRecordsCommand({
      ShardIterator: it.ShardIterator }));
    return { names: got.Records.map((r) => r.eventName),
             view: d.StreamDescription.StreamViewType };
  }
  return { keys: event.Records.map((r) => r.dynamodb.Keys.id.S) };
};
"""


class DynamoDBStreamsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="lambkin-ddbs-")
        write_tree(cls.top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                             "py/loop.py": LOOP, "py/fail.py": FAIL,
                             "py/partial.py": PARTIAL, "node/app.js": NODE})
        cls.server = Server(template=os.path.join(cls.top, "template.yaml"))
        cls.ddb = boto3.client("dynamodb", endpoint_url=cls.server.url)
        cls.streams = boto3.client("dynamodbstreams",
                                   endpoint_url=cls.server.url)
        cls.sqs = boto3.client("sqs", endpoint_url=cls.server.url)

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)
        shutil.rmtree(cls.top, ignore_errors=True)

    def events(self, fn):
        return [json.loads(r["event"]) for r in journal(self.server)
                if "id" in r and r.get("function") == fn and
                r.get("source") == "dynamodb"]

    def records(self, fn, table=None):
        return [rec for ev in self.events(fn) for rec in ev["Records"]
                if table is None or
                ":table/%s/stream/" % table in rec["eventSourceARN"]]

    def dead_letters(self, n):
        url = "%s/%s/stream-dead" % (self.server.url, ACCOUNT)
        got = []
        deadline = time.time() + 30
        while len(got) < n and time.time() < deadline:
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                         WaitTimeSeconds=1)
            for m in r.get("Messages", []):
                got.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=url,
                                        ReceiptHandle=m["ReceiptHandle"])
        return got

    def test_python_gets_insert_modify_remove_in_order_with_images(self):
        put = dict(TableName="orders")
        self.ddb.put_item(Item={"id": {"S": "o1"}, "v": {"N": "1"}}, **put)
        self.ddb.update_item(Key={"id": {"S": "o1"}},
                             UpdateExpression="SET v = v + :one",
                             ExpressionAttributeValues={":one": {"N": "1"}},
                             **put)
        # A put that changes nothing makes no record.
        self.ddb.put_item(Item={"id": {"S": "o1"}, "v": {"N": "2"}}, **put)
        self.ddb.delete_item(Key={"id": {"S": "o1"}}, **put)
        recs = wait_for(lambda: len(self.records("py-reader")) >= 3 and
                        self.records("py-reader"), what="three records")
        self.assertEqual([r["eventName"] for r in recs],
                         ["INSERT", "MODIFY", "REMOVE"])
        ins, mod, rem = recs
        arn = ("arn:aws:dynamodb:us-east-1:%s:table/orders/stream/"
               "1970-01-01T00:00:00.000" % ACCOUNT)
        for r in recs:
            self.assertEqual(r["eventSource"], "aws:dynamodb")
            self.assertEqual(r["eventSourceARN"], arn)
            self.assertEqual(r["awsRegion"], "us-east-1")
            self.assertEqual(r["dynamodb"]["Keys"], {"id": {"S": "o1"}})
            self.assertEqual(r["dynamodb"]["StreamViewType"],
                             "NEW_AND_OLD_IMAGES")
        self.assertEqual(ins["dynamodb"]["NewImage"]["v"], {"N": "1"})
        self.assertNotIn("OldImage", ins["dynamodb"])
        self.assertEqual(mod["dynamodb"]["OldImage"]["v"], {"N": "1"})
        self.assertEqual(mod["dynamodb"]["NewImage"]["v"], {"N": "2"})
        self.assertEqual(rem["dynamodb"]["OldImage"]["v"], {"N": "2"})
        self.assertNotIn("NewImage", rem["dynamodb"])
        seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in recs]
        self.assertEqual(seqs, sorted(seqs))
        # The node function's mapping on the same stream gets the same
        # records, with the same images.
        node = wait_for(lambda: len(self.records("node-reader", "orders")) >=
                        3 and self.records("node-reader", "orders"),
                        what="node's three records")
        self.assertEqual([(r["eventName"], r["dynamodb"].get("NewImage"),
                           r["dynamodb"].get("OldImage")) for r in node],
                         [(r["eventName"], r["dynamodb"].get("NewImage"),
                           r["dynamodb"].get("OldImage")) for r in recs])
        time.sleep(0.3)
        self.assertEqual(len(self.records("py-reader")), 3)
        # And the JS SDK v3's Streams client reads them back.
        lam = boto3.client("lambda", endpoint_url=self.server.url)
        r = lam.invoke(FunctionName="node-reader",
                       Payload=json.dumps({"read": arn}))
        got = json.loads(r["Payload"].read())
        self.assertEqual(got["view"], "NEW_AND_OLD_IMAGES")
        self.assertEqual(got["names"][:3], ["INSERT", "MODIFY", "REMOVE"])

    def test_node_gets_keys_only_from_a_batch_write(self):
        self.ddb.batch_write_item(RequestItems={"keys": [
            {"PutRequest": {"Item": {"id": {"S": "k%d" % i},
                                     "secret": {"S": "x"}}}}
            for i in range(12)]})
        recs = wait_for(lambda: len(self.records("node-reader", "keys")) >=
                        12 and self.records("node-reader", "keys"),
                        what="twelve records")
        self.assertEqual([r["dynamodb"]["Keys"]["id"]["S"] for r in recs],
                         ["k%d" % i for i in range(12)])
        self.assertTrue(all("NewImage" not in r["dynamodb"] for r in recs))
        ok = [r for r in journal(self.server)
              if r.get("function") == "node-reader" and "outcome" in r]
        self.assertEqual({r["outcome"] for r in ok}, {"ok"})

    def test_filter_criteria_drops_what_does_not_match(self):
        for i, kind in enumerate(["keep-1", "drop", "keep-2", "other"]):
            self.ddb.put_item(TableName="picky",
                              Item={"id": {"S": "p%d" % i},
                                    "kind": {"S": kind}})
        self.ddb.update_item(TableName="picky", Key={"id": {"S": "p0"}},
                             UpdateExpression="SET x = :x",
                             ExpressionAttributeValues={":x": {"S": "y"}})
        self.ddb.put_item(TableName="picky",
                          Item={"id": {"S": "last"}, "kind": {"S": "keeper"}})
        wait_for(lambda: any(r["dynamodb"]["Keys"]["id"]["S"] == "last"
                             for r in self.records("picky")),
                 what="the last record")
        self.assertEqual([r["dynamodb"]["Keys"]["id"]["S"]
                          for r in self.records("picky")],
                         ["p0", "p2", "last"])

    def test_a_function_writing_its_own_table_is_a_loop_stopped(self):
        self.ddb.put_item(TableName="loopy",
                          Item={"id": {"S": "x"}, "n": {"N": "0"}})
        loop = wait_for(lambda: [r for r in journal(self.server)
                                 if r.get("type") == "loop" and
                                 r["function"] == "looper"],
                        what="the loop report")[0]
        self.assertEqual(loop["path"],
                         "looper -> dynamodb://loopy -> looper")
        self.assertTrue(loop["stopped"])
        self.assertIn("LOOP detected: looper -> dynamodb://loopy -> looper",
                      self.server.output())
        time.sleep(0.5)
        self.assertEqual(len(self.events("looper")), 1)
        item = self.ddb.get_item(TableName="loopy", Key={"id": {"S": "x"}})
        self.assertEqual(item["Item"]["n"], {"N": "1"})

    def test_retries_then_on_failure_to_a_queue(self):
        self.ddb.put_item(TableName="failing",
                          Item={"id": {"S": "f1"}, "v": {"S": "a"}})
        dead = [d for d in self.dead_letters(1)
                if d["DDBStreamBatchInfo"]["streamArn"].endswith(
                    "table/failing/stream/1970-01-01T00:00:00.000")]
        self.assertEqual(len(dead), 1, dead)
        info = dead[0]["DDBStreamBatchInfo"]
        self.assertEqual(info["batchSize"], 1)
        self.assertEqual(info["startSequenceNumber"],
                         info["endSequenceNumber"])
        self.assertEqual(dead[0]["requestContext"]["condition"],
                         "RetryAttemptsExhausted")
        self.assertEqual(dead[0]["requestContext"]["functionArn"],
                         "arn:aws:lambda:us-east-1:%s:function:failer"
                         % ACCOUNT)
        self.assertEqual(len(self.events("failer")), 2)  # 1 + 1 retry
        # The shard moved on: the next record is delivered too.
        self.ddb.put_item(TableName="failing", Item={"id": {"S": "f2"}})
        wait_for(lambda: len(self.events("failer")) >= 4, what="f2")

    def test_partial_batch_failure_retries_from_the_failed_record(self):
        self.ddb_batch("partial", ["a", "b", "bad", "d"])
        dead = wait_for(lambda: [d for d in self.dead_letters(1)
                                 if "partial" in
                                 d["DDBStreamBatchInfo"]["streamArn"]],
                        what="the failed part")
        events = self.events("partial")
        self.assertEqual([r["dynamodb"]["Keys"]["id"]["S"]
                          for r in events[0]["Records"]],
                         ["a", "b", "bad", "d"])
        # a and b succeeded; bad and what follows went to OnFailure.
        self.assertEqual(len(events), 1)
        self.assertEqual(dead[0]["DDBStreamBatchInfo"]["batchSize"], 2)
        self.assertEqual(dead[0]["DDBStreamBatchInfo"]["startSequenceNumber"],
                         events[0]["Records"][2]["dynamodb"]
                         ["SequenceNumber"])

    def test_bisect_isolates_the_bad_record(self):
        self.ddb_batch("split", ["s1", "s2", "bad", "s4"])
        wait_for(lambda: len(self.events("splitter")) >= 4,
                 what="the split batches")
        time.sleep(0.5)
        sizes = [[r["dynamodb"]["Keys"]["id"]["S"] for r in e["Records"]]
                 for e in self.events("splitter")]
        self.assertEqual(sizes, [["s1", "s2", "bad", "s4"], ["s1", "s2"],
                                 ["bad", "s4"], ["bad"], ["s4"]])

    def ddb_batch(self, name, ids):
        self.ddb.batch_write_item(RequestItems={name: [
            {"PutRequest": {"Item": dict({"id": {"S": i}},
                                         **({"bad": {"BOOL": True}}
                                            if i == "bad" else {}))}}
            for i in ids]})

    def test_streams_api_reads_records_back(self):
        t = self.ddb.describe_table(TableName="orders")["Table"]
        arn = t["LatestStreamArn"]
        self.assertEqual(t["StreamSpecification"],
                         {"StreamEnabled": True,
                          "StreamViewType": "NEW_AND_OLD_IMAGES"})
        listed = self.streams.list_streams(TableName="orders")["Streams"]
        self.assertEqual(listed, [{"StreamArn": arn, "TableName": "orders",
                                   "StreamLabel": t["LatestStreamLabel"]}])
        desc = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]
        self.assertEqual(desc["StreamStatus"], "ENABLED")
        self.assertEqual(desc["KeySchema"],
                         [{"AttributeName": "id", "KeyType": "HASH"}])
        shard = desc["Shards"][0]["ShardId"]
        latest = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard,
            ShardIteratorType="LATEST")["ShardIterator"]
        self.ddb.put_item(TableName="orders",
                          Item={"id": {"S": "api"}, "v": {"S": "1"}})
        self.ddb.put_item(TableName="orders",
                          Item={"id": {"S": "api"}, "v": {"S": "2"}})
        got = self.streams.get_records(ShardIterator=latest, Limit=1)
        self.assertEqual(len(got["Records"]), 1)
        first = got["Records"][0]
        self.assertEqual(first["eventName"], "INSERT")
        self.assertEqual(first["dynamodb"]["NewImage"]["v"], {"S": "1"})
        more = self.streams.get_records(ShardIterator=got["NextShardIterator"])
        self.assertEqual([r["eventName"] for r in more["Records"]],
                         ["MODIFY"])
        after = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=first["dynamodb"]["SequenceNumber"])
        again = self.streams.get_records(ShardIterator=after["ShardIterator"])
        self.assertEqual(again["Records"][0]["dynamodb"]["SequenceNumber"],
                         more["Records"][0]["dynamodb"]["SequenceNumber"])
        with self.assertRaises(self.streams.exceptions.ClientError) as e:
            self.streams.describe_stream(StreamArn=arn + "x")
        self.assertEqual(e.exception.response["Error"]["Code"],
                         "ResourceNotFoundException")
        with self.assertRaises(self.streams.exceptions.ClientError) as e:
            self.streams.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000000-00000000",
                                            ShardIteratorType="LATEST")
        self.assertEqual(e.exception.response["Error"]["Code"],
                         "ResourceNotFoundException")
        cli = self.server.aws("dynamodbstreams", "list-streams",
                              "--table-name", "orders")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertEqual(json.loads(cli.stdout)["Streams"][0]["StreamArn"],
                         arn)

    def test_time_to_live_removes_expired_items_as_dynamodb(self):
        self.ddb.create_table(
            TableName="sessions", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id",
                                   "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "OLD_IMAGE"})
        ttl = self.ddb.describe_time_to_live(TableName="sessions")
        self.assertEqual(ttl["TimeToLiveDescription"]["TimeToLiveStatus"],
                         "DISABLED")
        on = {"Enabled": True, "AttributeName": "expires"}
        r = self.ddb.update_time_to_live(TableName="sessions",
                                         TimeToLiveSpecification=on)
        self.assertEqual(r["TimeToLiveSpecification"], on)
        with self.assertRaises(self.ddb.exceptions.ClientError) as e:
            self.ddb.update_time_to_live(TableName="sessions",
                                         TimeToLiveSpecification=on)
        self.assertEqual(e.exception.response["Error"]["Message"],
                         "TimeToLive is already enabled")
        now = int(time.time())
        self.ddb.put_item(TableName="sessions",
                          Item={"id": {"S": "old"},
                                "expires": {"N": str(now - 10)}})
        self.ddb.put_item(TableName="sessions",
                          Item={"id": {"S": "new"},
                                "expires": {"N": str(now + 3600)}})
        self.ddb.put_item(TableName="sessions",  # not a number: kept
                          Item={"id": {"S": "odd"},
                                "expires": {"S": str(now - 10)}})
        wait_for(lambda: "Item" not in self.ddb.get_item(
            TableName="sessions", Key={"id": {"S": "old"}}), timeout=10,
                 what="the expired item to go")
        self.assertEqual(sorted(i["id"]["S"] for i in self.ddb.scan(
            TableName="sessions")["Items"]), ["new", "odd"])
        arn = self.ddb.describe_table(
            TableName="sessions")["Table"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=arn)[
            "StreamDescription"]["Shards"][0]["ShardId"]
        it = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard,
            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        recs = self.streams.get_records(ShardIterator=it)["Records"]
        removed = [r for r in recs if r["eventName"] == "REMOVE"]
        self.assertEqual(len(removed), 1)
        self.assertEqual(removed[0]["userIdentity"],
                         {"Type": "Service",
                          "PrincipalId": "dynamodb.amazonaws.com"})
        self.assertEqual(removed[0]["dynamodb"]["OldImage"]["id"],
                         {"S": "old"})

    def test_time_to_live_from_the_template_into_a_function(self):
        ttl = self.ddb.describe_time_to_live(TableName="expiring")
        self.assertEqual(ttl["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "ENABLED",
                          "AttributeName": "expires"})
        self.ddb.put_item(TableName="expiring",
                          Item={"id": {"S": "gone"},
                                "expires": {"N": str(int(time.time()) - 1)}})
        rec = wait_for(lambda: [r for r in self.records("reaper")
                                if r["eventName"] == "REMOVE"],
                       timeout=10, what="the REMOVE by Time to Live")[0]
        self.assertEqual(rec["userIdentity"],
                         {"type": "Service",
                          "principalId": "dynamodb.amazonaws.com"})
        self.assertEqual(rec["dynamodb"]["OldImage"]["id"], {"S": "gone"})
        inserted = [r for r in self.records("reaper")
                    if r["eventName"] == "INSERT"]
        self.assertNotIn("userIdentity", inserted[0])

    def test_create_table_with_a_stream(self):
        r = self.ddb.create_table(
            TableName="made", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id",
                                   "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "KEYS_ONLY"})
        arn = r["TableDescription"]["LatestStreamArn"]
        self.assertRegex(arn, r"table/made/stream/\d{4}-\d\d-\d\dT")
        with self.assertRaises(self.ddb.exceptions.ClientError) as e:
            self.ddb.create_table(
                TableName="badview", BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "id",
                                       "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                StreamSpecification={"StreamEnabled": True,
                                     "StreamViewType": "ALL"})
        self.assertEqual(e.exception.response["Error"]["Code"],
                         "ValidationException")


class DynamoDBStateTest(unittest.TestCase):
    """--state keeps tables, items, stream records and each mapping's
    place, through a clean stop and through a kill."""

    def test_tables_items_and_stream_places_survive_restarts(self):
        top = tempfile.mkdtemp(prefix="lambkin-ddbst-")
        try:
            write_tree(top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                             "py/loop.py": LOOP, "py/fail.py": FAIL,
                             "py/partial.py": PARTIAL, "node/app.js": NODE})
            tpl = os.path.join(top, "template.yaml")
            server = Server(template=tpl, state=top)
            ddb = boto3.client("dynamodb", endpoint_url=server.url)
            ddb.put_item(TableName="orders",
                         Item={"id": {"S": "kept"}, "v": {"N": "01.0"}})
            ddb.create_table(
                TableName="made", BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "k",
                                       "AttributeType": "N"},
                                      {"AttributeName": "g",
                                       "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                GlobalSecondaryIndexes=[{
                    "IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}}],
                StreamSpecification={"StreamEnabled": True,
                                     "StreamViewType": "NEW_IMAGE"})
            ddb.put_item(TableName="made", Item={"k": {"N": "7"},
                                                 "g": {"S": "x"},
                                                 "s": {"SS": ["x"]}})
            ddb.update_time_to_live(
                TableName="made",
                TimeToLiveSpecification={"Enabled": True,
                                         "AttributeName": "exp"})
            wait_for(lambda: [r for r in journal(server)
                              if r.get("function") == "py-reader" and
                              r.get("outcome") == "ok"], what="delivery")
            time.sleep(1.2)  # a mapping's place reaches the disk each second
            server.proc.kill()  # no clean stop: the state log is replayed
            server.proc.wait()
            server.log.close()
            for stop in ("kill", "clean"):
                server = Server(template=tpl, state=top)
                ddb = boto3.client("dynamodb", endpoint_url=server.url)
                streams = boto3.client("dynamodbstreams",
                                       endpoint_url=server.url)
                got = ddb.get_item(TableName="orders",
                                   Key={"id": {"S": "kept"}})
                self.assertEqual(got["Item"]["v"], {"N": "1"}, stop)
                made = ddb.describe_table(TableName="made")["Table"]
                self.assertEqual(ddb.describe_time_to_live(
                    TableName="made")["TimeToLiveDescription"],
                    {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"})
                self.assertEqual(ddb.scan(TableName="made")["Items"],
                                 [{"k": {"N": "7"}, "g": {"S": "x"},
                                   "s": {"SS": ["x"]}}])
                self.assertEqual(ddb.query(
                    TableName="made", IndexName="by-g",
                    KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "x"}})["Count"],
                    1, stop)
                arn = made["LatestStreamArn"]
                shard = streams.describe_stream(StreamArn=arn)[
                    "StreamDescription"]["Shards"][0]["ShardId"]
                it = streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard,
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                recs = streams.get_records(ShardIterator=it)["Records"]
                self.assertEqual([r["dynamodb"]["Keys"] for r in recs],
                                 [{"k": {"N": "7"}}], stop)
                time.sleep(0.5)
                # The record py-reader had is not delivered again.
                runs = [r for r in journal(server)
                        if r.get("function") == "py-reader" and
                        "outcome" in r]
                self.assertEqual(len(runs), 1, stop)
                stop_cleanly(server)
        finally:
            shutil.rmtree(top, ignore_errors=True)


FUZZ_TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
""" + table("notes", "NEW_AND_OLD_IMAGES") + """  Indexer:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: indexer
      Runtime: python3.12
      Handler: idx.handler
      CodeUri: src/
      Events:
        Notes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Notes.StreamArn
            StartingPosition: LATEST
            MaximumRetryAttempts: 1
"""

# Deliberately vulnerable: a note's text reaches a shell.
INDEXER = """import os


def handler(event, context):
    for r in event["Records"]:
        text = r["dynamodb"].get("NewImage", {}).get("message", {}).get("S")
        os.system("echo indexing " + (text or ""))
"""


class StreamEventsTest(unittest.TestCase):
    def test_lambkin_event_dynamodb(self):
        p = subprocess.run([LAMBKIN, "event", "dynamodb", "--table", "notes",
                            "--event-name", "REMOVE", "--key", "n1",
                            "--message", "bye"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        rec = json.loads(p.stdout)["Records"][0]
        self.assertEqual(rec["eventName"], "REMOVE")
        self.assertEqual(rec["dynamodb"]["Keys"], {"id": {"S": "n1"}})
        self.assertEqual(rec["dynamodb"]["OldImage"]["message"], {"S": "bye"})
        self.assertNotIn("NewImage", rec["dynamodb"])
        self.assertTrue(rec["eventSourceARN"].endswith(
            ":table/notes/stream/1970-01-01T00:00:00.000"))
        p = subprocess.run([LAMBKIN, "event", "dynamodb", "--event-name",
                            "UPSERT"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("INSERT, MODIFY or REMOVE", p.stderr)

    def test_fuzz_finds_the_injection_behind_a_stream(self):
        top = tempfile.mkdtemp(prefix="lambkin-ddbf-")
        try:
            write_tree(top, {"template.yaml": FUZZ_TEMPLATE,
                             "src/idx.py": INDEXER})
            inj = fuzz_injections(self, top, "dynamodb")
            rec = json.loads(inj[0]["event"])["Records"][0]["dynamodb"]
            self.assertIn("lambkin-canary",
                          rec["NewImage"]["message"]["S"])
        finally:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
