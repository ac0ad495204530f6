"""Kinesis Data Streams on JSON 1.1: streams from the template
(AWS::Kinesis::Stream) and CreateStream, records placed on shards by the
MD5 of their partition key (or an ExplicitHashKey), read back in order
per shard from every kind of iterator, Kinesis's error shapes, as boto3
and Debian's aws CLI see them, and as the JS SDK v3's Kinesis client does
over HTTP/2 from a node function."""
import json
import os
import shutil
import sys
import tempfile
import unittest
from hashlib import md5

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import Server, stop_cleanly, write_tree  # noqa: E402

import boto3  # noqa: E402

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties: {Name: clicks, ShardCount: 4}
  Writer:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node-writer
      Runtime: nodejs20.x
      Handler: app.handler
      CodeUri: node/
"""

NODE = """const { KinesisClient, PutRecordCommand } =
  require('@aws-sdk/client-kinesis');

exports.handler = async (event) => {
  const out = await new KinesisClient({}).send(new PutRecordCommand({
    StreamName: 'clicks', PartitionKey: event.key,
    Data: Buffer.from(event.data) }));
  return { shard: out.ShardId, seq: out.SequenceNumber };
};
"""


class KinesisTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="lambkin-kin-")
        write_tree(cls.top, {"template.yaml": TEMPLATE, "node/app.js": NODE})
        cls.server = Server(template=os.path.join(cls.top, "template.yaml"))
        cls.k = boto3.client("kinesis", endpoint_url=cls.server.url)

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)
        shutil.rmtree(cls.top, ignore_errors=True)

    def read_all(self, stream, shard, kind="TRIM_HORIZON", **kw):
        it = self.k.get_shard_iterator(StreamName=stream, ShardId=shard,
                                       ShardIteratorType=kind,
                                       **kw)["ShardIterator"]
        out = []
        for _ in range(20):
            r = self.k.get_records(ShardIterator=it, Limit=3)
            out += r["Records"]
            it = r["NextShardIterator"]
            if not r["Records"]:
                break
        return out

    def test_records_go_to_the_shard_of_their_key_in_order(self):
        shards = self.k.describe_stream(StreamName="clicks")[
            "StreamDescription"]["Shards"]
        self.assertEqual(len(shards), 4)
        self.assertEqual(shards[0]["HashKeyRange"]["StartingHashKey"], "0")
        self.assertEqual(shards[-1]["HashKeyRange"]["EndingHashKey"],
                         str(2 ** 128 - 1))
        for a, b in zip(shards, shards[1:]):
            self.assertEqual(int(a["HashKeyRange"]["EndingHashKey"]) + 1,
                             int(b["HashKeyRange"]["StartingHashKey"]))
        keys = ["user-%d" % i for i in range(12)]
        r = self.k.put_records(StreamName="clicks", Records=[
            {"Data": ("%s-%d" % (key, n)).encode(), "PartitionKey": key}
            for n in range(3) for key in keys])
        self.assertEqual(r["FailedRecordCount"], 0)

        def shard_of(key):
            h = int(md5(key.encode()).hexdigest(), 16)
            return [s["ShardId"] for s in shards
                    if int(s["HashKeyRange"]["StartingHashKey"]) <= h <=
                    int(s["HashKeyRange"]["EndingHashKey"])][0]

        for key, got in zip([k for n in range(3) for k in keys],
                            r["Records"]):
            self.assertEqual(got["ShardId"], shard_of(key))
        for s in shards:
            recs = self.read_all("clicks", s["ShardId"])
            seqs = [int(x["SequenceNumber"]) for x in recs]
            self.assertEqual(seqs, sorted(seqs))
            for key in keys:
                mine = [x["Data"].decode() for x in recs
                        if x["PartitionKey"] == key]
                if shard_of(key) == s["ShardId"]:
                    self.assertEqual(mine, ["%s-%d" % (key, n)
                                            for n in range(3)])
                else:
                    self.assertEqual(mine, [])

    def test_iterators_explicit_keys_and_the_cli(self):
        self.k.create_stream(StreamName="made", ShardCount=2)
        first = self.k.put_record(StreamName="made", Data=b"one",
                                  PartitionKey="x", ExplicitHashKey="0")
        self.assertEqual(first["ShardId"], "shardId-000000000000")
        top = self.k.put_record(StreamName="made", Data=b"two",
                                PartitionKey="x",
                                ExplicitHashKey=str(2 ** 128 - 1))
        self.assertEqual(top["ShardId"], "shardId-000000000001")
        self.k.put_record(StreamName="made", Data=b"three", PartitionKey="x",
                          ExplicitHashKey="1")
        after = self.read_all("made", "shardId-000000000000",
                              "AFTER_SEQUENCE_NUMBER",
                              StartingSequenceNumber=first["SequenceNumber"])
        self.assertEqual([x["Data"] for x in after], [b"three"])
        at = self.read_all("made", "shardId-000000000000",
                           "AT_SEQUENCE_NUMBER",
                           StartingSequenceNumber=first["SequenceNumber"])
        self.assertEqual([x["Data"] for x in at], [b"one", b"three"])
        latest = self.k.get_shard_iterator(
            StreamName="made", ShardId="shardId-000000000000",
            ShardIteratorType="LATEST")["ShardIterator"]
        self.k.put_record(StreamName="made", Data=b"four", PartitionKey="x",
                          ExplicitHashKey="2")
        self.assertEqual([x["Data"] for x in self.k.get_records(
            ShardIterator=latest)["Records"]], [b"four"])
        summary = self.k.describe_stream_summary(StreamName="made")[
            "StreamDescriptionSummary"]
        self.assertEqual(summary["OpenShardCount"], 2)
        cli = self.server.aws("kinesis", "list-streams")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertEqual(sorted(json.loads(cli.stdout)["StreamNames"]),
                         ["clicks", "made"])
        self.k.delete_stream(StreamName="made")

    def test_kinesis_errors(self):
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException):
            self.k.put_record(StreamName="nope", Data=b"x", PartitionKey="k")
        with self.assertRaises(self.k.exceptions.ResourceInUseException):
            self.k.create_stream(StreamName="clicks", ShardCount=1)
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.put_record(StreamName="clicks", Data=b"x", PartitionKey="k",
                              ExplicitHashKey=str(2 ** 128))
        with self.assertRaises(self.k.exceptions.ClientError) as e:
            self.k.get_records(ShardIterator="bm90IGFuIGl0ZXJhdG9y")
        self.assertEqual(e.exception.response["Error"]["Code"],
                         "InvalidArgumentException")

    def test_js_sdk_v3_puts_from_a_function(self):
        # The JS SDK v3's Kinesis client speaks HTTP/2 (h2c) to an http://
        # endpoint.
        lam = boto3.client("lambda", endpoint_url=self.server.url)
        r = lam.invoke(FunctionName="node-writer",
                       Payload=json.dumps({"key": "js", "data": "from js"}))
        out = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, out)
        recs = self.read_all("clicks", out["shard"], "AT_SEQUENCE_NUMBER",
                             StartingSequenceNumber=out["seq"])
        self.assertEqual(recs[0]["Data"], b"from js")


if __name__ == "__main__":
    unittest.main()
