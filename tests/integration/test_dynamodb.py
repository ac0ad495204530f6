"""DynamoDB, on its JSON 1.0 wire protocol: tables from the template
(AWS::DynamoDB::Table and AWS::Serverless::SimpleTable) and CreateTable,
items put, got and deleted, with DynamoDB's checks and error shapes, as
boto3 (client and resource), Debian's aws CLI, and functions calling it
with no endpoint in their code (boto3 in python, the JS SDK v3 document
client the node runtime provides) see them."""
import json
import os
import shutil
import sys
import tempfile
import unittest
from decimal import Decimal

from boto3.dynamodb.conditions import Attr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import Server, stop_cleanly, write_tree  # noqa: E402

import boto3  # noqa: E402

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
  Users:
    Type: AWS::Serverless::SimpleTable
    Properties:
      TableName: users
      PrimaryKey: {Name: user_id, Type: String}
  PyWriter:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: py-writer
      Runtime: python3.12
      Handler: app.handler
      CodeUri: py/
      Timeout: 20
      Environment: {Variables: {TABLE: !Ref Users}}
  NodeV2:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node-v2
      Runtime: nodejs16.x
      Handler: app.handler
      CodeUri: nodev2/
      Timeout: 20
      Environment: {Variables: {TABLE: !Ref Orders}}
  NodeWriter:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node-writer
      Runtime: nodejs20.x
      Handler: app.handler
      CodeUri: node/
      Timeout: 20
      Environment: {Variables: {TABLE: !Ref Users}}
"""

PY = """import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def handler(event, context):
    table.put_item(Item={"user_id": event["id"], "by": "python"})
    return table.get_item(Key={"user_id": event["id"]})["Item"]
"""

NODE = """const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBDocumentClient, PutCommand, GetCommand } =
  require('@aws-sdk/lib-dynamodb');

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

exports.handler = async (event) => {
  if (event.ccf) {
    const { DeleteItemCommand } = require('@aws-sdk/client-dynamodb');
    try {
      await doc.send(new DeleteItemCommand({
        TableName: 'orders', Key: { pk: { S: 'q' }, sk: { N: '1' } },
        ConditionExpression: 'v < :x',
        ExpressionAttributeValues: { ':x': { N: '0' } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      return { name: 'deleted' };
    } catch (e) {
      return { name: e.name, v: e.Item && e.Item.v };
    }
  }
  if (event.txn) { // lib-dynamodb's transaction, cancelled
    const { TransactWriteCommand } = require('@aws-sdk/lib-dynamodb');
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: [
        { Put: { TableName: 'users', Item: { user_id: 'tx-node' } } },
        { ConditionCheck: { TableName: 'users', Key: { user_id: 'nobody' },
          ConditionExpression: 'attribute_exists(user_id)' } },
      ] }));
      return { name: 'committed' };
    } catch (e) {
      return { name: e.name,
               codes: (e.CancellationReasons || []).map((r) => r.Code) };
    }
  }
  await doc.send(new PutCommand({
    TableName: process.env.TABLE,
    Item: { user_id: event.id, by: 'node', n: 42, tags: new Set(['a']) },
  }));
  const out = await doc.send(new GetCommand({
    TableName: process.env.TABLE, Key: { user_id: event.id } }));
  return { ...out.Item, tags: [...out.Item.tags] };
};
"""

# aws-sdk v2's DocumentClient, which nodejs16.x provides and many
# functions still use: native JS values, sets, conditions, a query, a
# transaction that cancels.
NODE_V2 = """const AWS = require('aws-sdk');

const doc = new AWS.DynamoDB.DocumentClient();
const TableName = process.env.TABLE;

exports.handler = async () => {
  await doc.put({ TableName, Item: { pk: 'v2', sk: 1, n: 1,
    tags: doc.createSet(['a', 'b']), m: { deep: [true, null] } } }).promise();
  const up = await doc.update({ TableName, Key: { pk: 'v2', sk: 1 },
    UpdateExpression: 'SET n = n + :d', ConditionExpression: 'n = :one',
    ExpressionAttributeValues: { ':d': 41, ':one': 1 },
    ReturnValues: 'UPDATED_NEW' }).promise();
  let ccf = 'none';
  try {
    await doc.put({ TableName, Item: { pk: 'v2', sk: 1 },
      ConditionExpression: 'attribute_not_exists(pk)' }).promise();
  } catch (e) { ccf = e.code; }
  let txn = 'none';
  try {
    await doc.transactWrite({ TransactItems: [
      { Put: { TableName, Item: { pk: 'v2', sk: 2 } } },
      { ConditionCheck: { TableName, Key: { pk: 'v2', sk: 1 },
        ConditionExpression: 'n = :zero',
        ExpressionAttributeValues: { ':zero': 0 } } }] }).promise();
  } catch (e) { txn = e.code; }
  const got = await doc.get({ TableName, Key: { pk: 'v2', sk: 1 } }).promise();
  const q = await doc.query({ TableName, KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': 'v2' } }).promise();
  return { n: up.Attributes.n, ccf, txn, tags: got.Item.tags.values.sort(),
           deep: got.Item.m.deep, count: q.Count };
};
"""


class DynamoDBTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="lambkin-ddb-")
        write_tree(cls.top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                             "node/app.js": NODE, "nodev2/app.js": NODE_V2})
        cls.server = Server(template=os.path.join(cls.top, "template.yaml"))
        cls.ddb = boto3.client("dynamodb", endpoint_url=cls.server.url)

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)
        shutil.rmtree(cls.top, ignore_errors=True)

    def error(self, call, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as e:
            getattr(self.ddb, call)(**kw)
        return (e.exception.response["Error"]["Code"],
                e.exception.response["Error"]["Message"])

    def test_tables_from_the_template(self):
        names = self.ddb.list_tables()["TableNames"]
        self.assertEqual(names, sorted(names))
        self.assertIn("orders", names)
        self.assertIn("users", names)
        t = self.ddb.describe_table(TableName="users")["Table"]
        self.assertEqual(t["KeySchema"],
                         [{"AttributeName": "user_id", "KeyType": "HASH"}])
        self.assertEqual(t["TableStatus"], "ACTIVE")
        self.assertEqual(t["TableArn"],
                         "arn:aws:dynamodb:us-east-1:123456789012:table/users")
        self.assertEqual(t["BillingModeSummary"]["BillingMode"],
                         "PAY_PER_REQUEST")

    def test_put_get_delete_with_dynamodb_numbers(self):
        item = {"pk": {"S": "o1"}, "sk": {"N": "01.50"},
                "nested": {"M": {"l": {"L": [{"N": "1e3"}, {"NULL": True}]}}},
                "ns": {"NS": ["2", "1.0"]}, "b": {"B": b"\x00\xff"}}
        self.ddb.put_item(TableName="orders", Item=item)
        got = self.ddb.get_item(TableName="orders",
                                Key={"pk": {"S": "o1"}, "sk": {"N": "1.5"}})
        self.assertEqual(got["Item"]["sk"], {"N": "1.5"})
        self.assertEqual(got["Item"]["nested"]["M"]["l"]["L"][0],
                         {"N": "1000"})
        self.assertEqual(sorted(got["Item"]["ns"]["NS"]), ["1", "2"])
        self.assertEqual(got["Item"]["b"], {"B": b"\x00\xff"})
        old = self.ddb.put_item(TableName="orders", ReturnValues="ALL_OLD",
                                Item={"pk": {"S": "o1"}, "sk": {"N": "1.5"},
                                      "v": {"S": "two"}})
        self.assertEqual(old["Attributes"]["nested"]["M"]["l"]["L"][0],
                         {"N": "1000"})
        gone = self.ddb.delete_item(TableName="orders", ReturnValues="ALL_OLD",
                                    Key={"pk": {"S": "o1"},
                                         "sk": {"N": "15e-1"}})
        self.assertEqual(gone["Attributes"]["v"], {"S": "two"})
        self.assertNotIn("Item", self.ddb.get_item(
            TableName="orders", Key={"pk": {"S": "o1"}, "sk": {"N": "1.5"}}))

    def test_dynamodb_errors(self):
        self.assertEqual(
            self.error("get_item", TableName="nope", Key={"x": {"S": "1"}}),
            ("ResourceNotFoundException",
             "Requested resource not found: Table: nope not found"))
        self.assertEqual(
            self.error("get_item", TableName="orders",
                       Key={"pk": {"S": "o1"}}),
            ("ValidationException",
             "The provided key element does not match the schema"))
        self.assertEqual(
            self.error("put_item", TableName="orders",
                       Item={"pk": {"N": "1"}, "sk": {"N": "1"}}),
            ("ValidationException",
             "One or more parameter values were invalid: Type mismatch for "
             "key pk expected: S actual: N"))
        self.assertEqual(
            self.error("put_item", TableName="orders",
                       Item={"pk": {"S": "a"}}),
            ("ValidationException",
             "One or more parameter values were invalid: Missing the key sk "
             "in the item"))
        self.assertEqual(
            self.error("put_item", TableName="orders",
                       Item={"pk": {"S": "a"}, "sk": {"N": "1" * 39}}),
            ("ValidationException", "Attempting to store more than 38 "
             "significant digits in a Number"))
        self.assertEqual(
            self.error("put_item", TableName="orders",
                       Item={"pk": {"S": "a"}, "sk": {"N": "1"},
                             "s": {"SS": []}}),
            ("ValidationException", "One or more parameter values were "
             "invalid: An string set  may not be empty"))
        code, msg = self.error("put_item", TableName="orders",
                               Item={"pk": {"S": "a"}, "sk": {"N": "1"},
                                     "big": {"S": "x" * (400 * 1024)}})
        self.assertEqual((code, msg), ("ValidationException", "Item size has "
                                       "exceeded the maximum allowed size"))
        spec = dict(KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "id",
                                           "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST")
        self.assertEqual(self.error("create_table", TableName="orders",
                                    **spec),
                         ("ResourceInUseException",
                          "Table already exists: orders"))
        code, msg = self.error("create_table", TableName="no spaces", **spec)
        self.assertEqual(code, "ValidationException")
        self.assertIn("at 'tableName' failed to satisfy constraint", msg)
        # and lambkin still serves
        self.assertIn("orders", self.ddb.list_tables()["TableNames"])

    def test_update_query_scan_and_conditions(self):
        from boto3.dynamodb.conditions import Key
        t = boto3.resource("dynamodb",
                           endpoint_url=self.server.url).Table("orders")
        for i in range(10):
            t.put_item(Item={"pk": "q", "sk": i, "v": i * 10})
        t.put_item(Item={"pk": "other", "sk": 1})
        r = t.query(KeyConditionExpression=Key("pk").eq("q") &
                    Key("sk").between(3, 6))
        self.assertEqual([x["sk"] for x in r["Items"]], [3, 4, 5, 6])
        # pages backwards, three at a time, to the end
        seen, start = [], None
        while True:
            kw = {"ExclusiveStartKey": start} if start else {}
            r = t.query(KeyConditionExpression=Key("pk").eq("q"),
                        ScanIndexForward=False, Limit=3, **kw)
            seen += [x["sk"] for x in r["Items"]]
            start = r.get("LastEvaluatedKey")
            if not start:
                break
        self.assertEqual(seen, list(range(9, -1, -1)))
        r = t.query(KeyConditionExpression=Key("pk").eq("q"),
                    FilterExpression=Attr("v").gt(50))
        self.assertEqual((r["Count"], r["ScannedCount"]), (4, 10))
        r = t.scan(FilterExpression=Attr("pk").eq("q"), Select="COUNT")
        self.assertEqual(r["Count"], 10)
        self.assertNotIn("Items", r)
        halves = [len(t.scan(Segment=s, TotalSegments=2,
                             FilterExpression=Attr("pk").eq("q"))["Items"])
                  for s in (0, 1)]
        self.assertEqual(sum(halves), 10)
        r = t.update_item(
            Key={"pk": "q", "sk": 1},
            UpdateExpression="SET v = v + :d, tags = list_append("
                             "if_not_exists(tags, :e), :t) ADD n :one",
            ExpressionAttributeValues={":d": 5, ":e": [], ":t": ["a"],
                                       ":one": 1},
            ReturnValues="UPDATED_NEW")
        self.assertEqual(r["Attributes"], {"v": 15, "tags": ["a"], "n": 1})
        with self.assertRaises(self.ddb.exceptions.
                               ConditionalCheckFailedException):
            t.put_item(Item={"pk": "q", "sk": 1},
                       ConditionExpression="attribute_not_exists(pk)")
        # the item that failed the condition, to the JS SDK v3 (Debian's
        # boto3 predates ReturnValuesOnConditionCheckFailure)
        lam = boto3.client("lambda", endpoint_url=self.server.url)
        r = lam.invoke(FunctionName="node-writer",
                       Payload=json.dumps({"ccf": True}))
        self.assertEqual(json.loads(r["Payload"].read()),
                         {"name": "ConditionalCheckFailedException",
                          "v": {"N": "15"}})
        self.assertEqual(
            self.error("update_item", TableName="orders",
                       Key={"pk": {"S": "q"}, "sk": {"N": "1"}},
                       UpdateExpression="SET v = :x",
                       ExpressionAttributeValues={":x": {"N": "1"},
                                                  ":y": {"N": "2"}}),
            ("ValidationException", "Value provided in "
             "ExpressionAttributeValues unused in expressions: keys: {:y}"))
        self.assertEqual(
            self.error("query", TableName="orders",
                       KeyConditionExpression="pk = :p AND sk > :s",
                       ExpressionAttributeValues={":p": {"S": "q"},
                                                  ":s": {"S": "1"}}),
            ("ValidationException", "One or more parameter values were "
             "invalid: Condition parameter type does not match schema type"))
        self.assertEqual(
            self.error("query", TableName="orders",
                       KeyConditionExpression="sk = :s",
                       ExpressionAttributeValues={":s": {"N": "1"}}),
            ("ValidationException",
             "Query condition missed key schema element: pk"))
        got = t.get_item(Key={"pk": "q", "sk": 1},
                         ProjectionExpression="#v, tags[0]",
                         ExpressionAttributeNames={"#v": "v"})["Item"]
        self.assertEqual(got, {"v": 15, "tags": ["a"]})

    def test_aws_sdk_v2_document_client(self):
        lam = boto3.client("lambda", endpoint_url=self.server.url)
        r = lam.invoke(FunctionName="node-v2", Payload=b"{}")
        out = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, out)
        self.assertEqual(out, {"n": 42, "ccf": "ConditionalCheckFailedException",
                               "txn": "TransactionCanceledException",
                               "tags": ["a", "b"], "deep": [True, None],
                               "count": 1})

    def test_reserved_words_need_placeholders(self):
        key = {"pk": {"S": "rw"}, "sk": {"N": "1"}}
        self.assertEqual(
            self.error("update_item", TableName="orders", Key=key,
                       UpdateExpression="SET status = :s",
                       ExpressionAttributeValues={":s": {"S": "open"}}),
            ("ValidationException", "Invalid UpdateExpression: Attribute "
             "name is a reserved keyword; reserved keyword: status"))
        self.ddb.update_item(TableName="orders", Key=key,
                             UpdateExpression="SET #s = :s",
                             ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":s": {"S": "open"}})
        self.assertEqual(self.ddb.get_item(TableName="orders", Key=key)
                         ["Item"]["status"], {"S": "open"})

    def test_transactions_all_or_nothing(self):
        key = {"pk": {"S": "tx"}, "sk": {"N": "1"}}
        self.ddb.put_item(TableName="orders",
                          Item=dict(key, n={"N": "5"}, gone={"S": "x"}))
        self.ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "orders", "Key": key,
                        "UpdateExpression": "SET n = n - :one REMOVE gone",
                        "ConditionExpression": "n > :zero",
                        "ExpressionAttributeValues": {":one": {"N": "1"},
                                                      ":zero": {"N": "0"}}}},
            {"Put": {"TableName": "users",
                     "Item": {"user_id": {"S": "tx-1"}}}},
            {"ConditionCheck": {"TableName": "users",
                                "Key": {"user_id": {"S": "nobody"}},
                                "ConditionExpression":
                                    "attribute_not_exists(user_id)"}}])
        item = self.ddb.get_item(TableName="orders", Key=key)["Item"]
        self.assertEqual(item, dict(key, n={"N": "4"}))
        # One failed condition cancels every part: the put is not made.
        with self.assertRaises(
                self.ddb.exceptions.TransactionCanceledException) as e:
            self.ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "users",
                         "Item": {"user_id": {"S": "tx-2"}}}},
                {"Delete": {"TableName": "orders", "Key": key,
                            "ConditionExpression": "n > :big",
                            "ExpressionAttributeValues":
                                {":big": {"N": "100"}}}}])
        err = e.exception.response
        self.assertEqual([r["Code"] for r in err["CancellationReasons"]],
                         ["None", "ConditionalCheckFailed"])
        self.assertIn("[None, ConditionalCheckFailed]",
                      err["Error"]["Message"])
        self.assertNotIn("Item", self.ddb.get_item(
            TableName="users", Key={"user_id": {"S": "tx-2"}}))
        self.assertIn("Item", self.ddb.get_item(TableName="orders", Key=key))
        # The same item twice is refused whole.
        self.assertEqual(
            self.error("transact_write_items", TransactItems=[
                {"Delete": {"TableName": "orders", "Key": key}},
                {"Put": {"TableName": "orders", "Item": key}}]),
            ("ValidationException", "Transaction request cannot include "
             "multiple operations on one item"))
        got = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": "orders", "Key": key,
                     "ProjectionExpression": "n"}},
            {"Get": {"TableName": "users",
                     "Key": {"user_id": {"S": "nobody"}}}}])["Responses"]
        self.assertEqual(got, [{"Item": {"n": {"N": "4"}}}, {}])
        # The JS SDK v3 document client reads the reasons too.
        lam = boto3.client("lambda", endpoint_url=self.server.url)
        r = lam.invoke(FunctionName="node-writer",
                       Payload=json.dumps({"txn": True}))
        self.assertEqual(json.loads(r["Payload"].read()),
                         {"name": "TransactionCanceledException",
                          "codes": ["None", "ConditionalCheckFailed"]})
        self.assertNotIn("Item", self.ddb.get_item(
            TableName="users", Key={"user_id": {"S": "tx-node"}}))

    def test_update_table_indexes_and_stream(self):
        self.ddb.create_table(
            TableName="growing", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id",
                                   "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        for i, team in enumerate(["red", "blue", "red"]):
            self.ddb.put_item(TableName="growing",
                              Item={"id": {"S": "p%d" % i},
                                    "team": {"S": team}})
        r = self.ddb.update_table(
            TableName="growing",
            AttributeDefinitions=[{"AttributeName": "team",
                                   "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "by-team",
                "KeySchema": [{"AttributeName": "team", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}}],
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_IMAGE"})
        desc = r["TableDescription"]
        self.assertEqual(desc["GlobalSecondaryIndexes"][0]["IndexName"],
                         "by-team")
        self.assertRegex(desc["LatestStreamArn"],
                         r"table/growing/stream/\d{4}-")
        got = self.ddb.query(TableName="growing", IndexName="by-team",
                             KeyConditionExpression="team = :t",
                             ExpressionAttributeValues={":t": {"S": "red"}})
        self.assertEqual(sorted(i["id"]["S"] for i in got["Items"]),
                         ["p0", "p2"])
        self.assertEqual(
            self.error("update_table", TableName="growing",
                       StreamSpecification={"StreamEnabled": True,
                                            "StreamViewType": "KEYS_ONLY"}),
            ("ValidationException", "Table already has an enabled stream: "
             "TableName: growing"))
        r = self.ddb.update_table(
            TableName="growing",
            GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-team"}}],
            StreamSpecification={"StreamEnabled": False})
        desc = self.ddb.describe_table(TableName="growing")["Table"]
        self.assertNotIn("GlobalSecondaryIndexes", desc)
        self.assertNotIn("LatestStreamArn", desc)
        self.assertEqual(desc["AttributeDefinitions"],
                         [{"AttributeName": "id", "AttributeType": "S"}])
        code, _ = self.error("query", TableName="growing", IndexName="by-team",
                             KeyConditionExpression="team = :t",
                             ExpressionAttributeValues={":t": {"S": "red"}})
        self.assertEqual(code, "ValidationException")
        self.assertEqual(
            self.error("update_table", TableName="growing",
                       GlobalSecondaryIndexUpdates=[
                           {"Delete": {"IndexName": "nope"}}])[0],
            "ResourceNotFoundException")

    def test_legacy_parameters(self):
        """What boto3 and older code still send from before expressions."""
        for i in range(4):
            self.ddb.put_item(TableName="orders",
                              Item={"pk": {"S": "old"}, "sk": {"N": str(i)},
                                    "tag": {"S": "t%d" % (i % 2)}})
        got = self.ddb.query(
            TableName="orders",
            KeyConditions={"pk": {"ComparisonOperator": "EQ",
                                  "AttributeValueList": [{"S": "old"}]},
                           "sk": {"ComparisonOperator": "GE",
                                  "AttributeValueList": [{"N": "1"}]}},
            QueryFilter={"tag": {"ComparisonOperator": "EQ",
                                 "AttributeValueList": [{"S": "t1"}]}},
            AttributesToGet=["sk"], Select="SPECIFIC_ATTRIBUTES")
        self.assertEqual(got["Items"], [{"sk": {"N": "1"}}, {"sk": {"N": "3"}}])
        self.assertEqual(got["ScannedCount"], 3)
        got = self.ddb.scan(
            TableName="orders", ConditionalOperator="OR",
            ScanFilter={"sk": {"ComparisonOperator": "IN",
                               "AttributeValueList": [{"N": "0"}]},
                        "tag": {"ComparisonOperator": "BEGINS_WITH",
                                "AttributeValueList": [{"S": "t1"}]}})
        self.assertEqual(sorted(int(i["sk"]["N"]) for i in got["Items"]
                                if i["pk"]["S"] == "old"), [0, 1, 3])
        key = {"pk": {"S": "old"}, "sk": {"N": "0"}}
        self.ddb.update_item(
            TableName="orders", Key=key,
            AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "5"}},
                              "tag": {"Action": "DELETE"}},
            Expected={"tag": {"Value": {"S": "t0"}}})
        self.assertEqual(self.ddb.get_item(TableName="orders", Key=key,
                                           AttributesToGet=["n", "tag"])
                         ["Item"], {"n": {"N": "5"}})
        with self.assertRaises(
                self.ddb.exceptions.ConditionalCheckFailedException):
            self.ddb.put_item(TableName="orders", Item=key,
                              Expected={"n": {"Exists": False}})
        self.assertEqual(
            self.error("get_item", TableName="orders", Key=key,
                       AttributesToGet=["n"], ProjectionExpression="n"),
            ("ValidationException", "Can not use both expression and "
             "non-expression parameters in the same request: "
             "Non-expression parameters: {AttributesToGet} Expression "
             "parameters: {ProjectionExpression}"))

    def test_query_matches_a_brute_force_reading(self):
        """Every sort key condition, forwards and backwards, paged by
        Limit, against the same items filtered in python: the walk from
        the condition's bound must find exactly these, in order."""
        t = boto3.resource("dynamodb",
                           endpoint_url=self.server.url).Table("orders")
        sks = [-3, -1, 0, 2, 5, 7, 10]
        with t.batch_writer() as w:
            for p in ("qa", "qb", "qc"):
                for k in sks:
                    w.put_item(Item={"pk": p, "sk": k})
        conds = [("sk = :a", lambda k, a, b: k == a),
                 ("sk < :a", lambda k, a, b: k < a),
                 ("sk <= :a", lambda k, a, b: k <= a),
                 ("sk > :a", lambda k, a, b: k > a),
                 ("sk >= :a", lambda k, a, b: k >= a),
                 ("sk BETWEEN :a AND :b", lambda k, a, b: a <= k <= b)]
        for text, keep in conds:
            for a, b in ((0, 5), (-1, 7), (1, 6), (-9, -4), (11, 20),
                         (5, 2)):
                want = [k for k in sks if keep(k, a, b)]
                for forward in (True, False):
                    for limit in (1, 2, 100):
                        got, start = [], None
                        vals = {":p": "qb", ":a": a}
                        if ":b" in text:
                            vals[":b"] = b
                        for _ in range(20):
                            kw = {"ExclusiveStartKey": start} if start else {}
                            r = t.query(KeyConditionExpression="pk = :p AND "
                                        + text,
                                        ExpressionAttributeValues=vals,
                                        ScanIndexForward=forward, Limit=limit,
                                        **kw)
                            got += [int(i["sk"]) for i in r["Items"]]
                            start = r.get("LastEvaluatedKey")
                            if not start:
                                break
                        self.assertEqual(
                            got, want if forward else want[::-1],
                            (text, a, b, forward, limit))
        # begins_with on a string sort key: the users table has none, so
        # a table made for it.
        self.ddb.create_table(
            TableName="words", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                  {"AttributeName": "w", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                       {"AttributeName": "w", "KeyType": "RANGE"}])
        words = ["ab", "abc", "abd", "b", "ba", "a"]
        for w in words:
            self.ddb.put_item(TableName="words",
                              Item={"p": {"S": "x"}, "w": {"S": w}})
        for forward in (True, False):
            r = self.ddb.query(TableName="words",
                               KeyConditionExpression="p = :p AND "
                               "begins_with(w, :w)",
                               ExpressionAttributeValues={":p": {"S": "x"},
                                                          ":w": {"S": "ab"}},
                               ScanIndexForward=forward)
            want = ["ab", "abc", "abd"]
            self.assertEqual([i["w"]["S"] for i in r["Items"]],
                             want if forward else want[::-1])

    def test_index_queries_follow_every_write(self):
        """A global and a local secondary index kept with the items: each
        Query of them, paged either way, finds exactly what the items say
        after puts, updates that move an item in the index, deletes and
        items without the index's attributes; equal index keys included."""
        import random
        rnd = random.Random(7)
        self.ddb.create_table(
            TableName="indexed", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "gs", "AttributeType": "S"},
                {"AttributeName": "gn", "AttributeType": "N"},
                {"AttributeName": "ln", "AttributeType": "N"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "gs", "KeyType": "HASH"},
                              {"AttributeName": "gn", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}],
            LocalSecondaryIndexes=[{
                "IndexName": "by-l",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "ln", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}])
        items = {}
        for i in range(80):
            key = ("p%d" % (i % 3), i)
            item = {"pk": {"S": key[0]}, "sk": {"N": str(i)}}
            if rnd.random() < 0.85:  # the rest are not in by-g
                item["gs"] = {"S": rnd.choice(["red", "blue", "green"])}
                item["gn"] = {"N": str(rnd.randint(0, 5))}
            if rnd.random() < 0.7:
                item["ln"] = {"N": str(rnd.randint(-3, 3))}
            self.ddb.put_item(TableName="indexed", Item=item)
            items[key] = item
        for key in rnd.sample(sorted(items), 20):  # moved within by-g
            k = {"pk": {"S": key[0]}, "sk": {"N": str(key[1])}}
            new = rnd.choice(["red", "blue"])
            self.ddb.update_item(TableName="indexed", Key=k,
                                 UpdateExpression="SET gs = :g, gn = :n",
                                 ExpressionAttributeValues={
                                     ":g": {"S": new}, ":n": {"N": "2"}})
            items[key].update(gs={"S": new}, gn={"N": "2"})
        for key in rnd.sample(sorted(items), 15):
            self.ddb.delete_item(TableName="indexed",
                                 Key={"pk": {"S": key[0]},
                                      "sk": {"N": str(key[1])}})
            del items[key]

        def query(index, hk, hv, cond, vals, forward, limit):
            out, start = [], None
            for _ in range(200):
                kw = {"ExclusiveStartKey": start} if start else {}
                r = self.ddb.query(
                    TableName="indexed", IndexName=index,
                    KeyConditionExpression="%s = :h%s" % (hk, cond),
                    ExpressionAttributeValues=dict(vals, **{":h": hv}),
                    ScanIndexForward=forward, Limit=limit, **kw)
                out += r["Items"]
                start = r.get("LastEvaluatedKey")
                if not start:
                    return out
            self.fail("paging did not end")

        cases = [("", {}, lambda v: True),
                 (" AND gn = :a", {":a": {"N": "2"}}, lambda v: v == 2),
                 (" AND gn BETWEEN :a AND :b",
                  {":a": {"N": "1"}, ":b": {"N": "3"}}, lambda v: 1 <= v <= 3),
                 (" AND gn > :a", {":a": {"N": "2"}}, lambda v: v > 2)]
        for colour in ("red", "blue", "green", "none"):
            for cond, vals, keep in cases:
                want = sorted(k for k, it in items.items()
                              if it.get("gs", {}).get("S") == colour and
                              keep(int(it["gn"]["N"])))
                for forward in (True, False):
                    for limit in (1, 3, 100):
                        got = query("by-g", "gs", {"S": colour}, cond, vals,
                                    forward, limit)
                        keys = [(i["pk"]["S"], int(i["sk"]["N"]))
                                for i in got]
                        self.assertEqual(sorted(keys), want,
                                         (colour, cond, forward, limit))
                        gn = [int(i["gn"]["N"]) for i in got]
                        self.assertEqual(gn, sorted(gn, reverse=not forward))
        for part in ("p0", "p1", "p2"):
            want = sorted(k for k, it in items.items()
                          if k[0] == part and "ln" in it and
                          int(it["ln"]["N"]) >= 0)
            got = query("by-l", "pk", {"S": part}, " AND ln >= :z",
                        {":z": {"N": "0"}}, True, 4)
            self.assertEqual(sorted((i["pk"]["S"], int(i["sk"]["N"]))
                                    for i in got), want)
            ln = [int(i["ln"]["N"]) for i in got]
            self.assertEqual(ln, sorted(ln))
        # An index made later by UpdateTable holds what was there.
        self.ddb.update_table(
            TableName="indexed",
            AttributeDefinitions=[{"AttributeName": "gs",
                                   "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "by-gs",
                "KeySchema": [{"AttributeName": "gs", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}}])
        got = query("by-gs", "gs", {"S": "red"}, "", {}, True, 7)
        self.assertEqual(sorted((i["pk"]["S"], int(i["sk"]["N"]))
                                for i in got),
                         sorted(k for k, it in items.items()
                                if it.get("gs", {}).get("S") == "red"))

    def test_paging_goes_on_after_a_deleted_start_key(self):
        t = boto3.resource("dynamodb",
                           endpoint_url=self.server.url).Table("orders")
        for i in range(25):
            t.put_item(Item={"pk": "sweep", "sk": i})
        seen, start = [], None
        for _ in range(50):
            kw = {"ExclusiveStartKey": start} if start else {}
            r = t.scan(Limit=4, FilterExpression=Attr("pk").eq("sweep"), **kw)
            seen += [item["sk"] for item in r["Items"]]
            start = r.get("LastEvaluatedKey")
            if not start:
                break
            t.delete_item(Key=start)  # the item the next page starts after
        self.assertEqual(seen, list(range(25)))

    def test_batches(self):
        ddb = boto3.resource("dynamodb", endpoint_url=self.server.url)
        with ddb.Table("orders").batch_writer() as w:  # 30: two calls
            for i in range(30):
                w.put_item(Item={"pk": "batch", "sk": i})
        r = self.ddb.batch_get_item(RequestItems={
            "orders": {"Keys": [{"pk": {"S": "batch"}, "sk": {"N": str(i)}}
                                for i in (0, 29, 99)],
                       "ProjectionExpression": "sk"}})
        self.assertEqual(sorted(x["sk"]["N"] for x in
                                r["Responses"]["orders"]), ["0", "29"])
        self.assertEqual(r["UnprocessedKeys"], {})
        many = [{"PutRequest": {"Item": {"pk": {"S": "b"},
                                         "sk": {"N": str(i)}}}}
                for i in range(26)]
        self.assertEqual(
            self.error("batch_write_item", RequestItems={"orders": many}),
            ("ValidationException",
             "Too many items requested for the BatchWriteItem call"))
        twice = [{"DeleteRequest": {"Key": {"pk": {"S": "batch"},
                                            "sk": {"N": "1"}}}}] * 2
        self.assertEqual(
            self.error("batch_write_item", RequestItems={"orders": twice}),
            ("ValidationException",
             "Provided list of item keys contains duplicates"))
        # nothing of a refused batch was applied
        self.assertIn("Item", self.ddb.get_item(
            TableName="orders", Key={"pk": {"S": "batch"}, "sk": {"N": "1"}}))

    def test_create_wait_list_delete(self):
        self.ddb.create_table(
            TableName="made-here",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id",
                                   "AttributeType": "N"}],
            ProvisionedThroughput={"ReadCapacityUnits": 5,
                                   "WriteCapacityUnits": 5})
        self.ddb.get_waiter("table_exists").wait(TableName="made-here")
        names = self.ddb.list_tables(Limit=1)
        self.assertEqual(names["TableNames"], ["made-here"])
        self.assertEqual(names["LastEvaluatedTableName"], "made-here")
        self.ddb.delete_table(TableName="made-here")
        self.assertNotIn("made-here", self.ddb.list_tables()["TableNames"])

    def test_boto3_resource_and_aws_cli(self):
        table = boto3.resource("dynamodb",
                               endpoint_url=self.server.url).Table("users")
        table.put_item(Item={"user_id": "u1", "score": Decimal("3.14"),
                             "tags": {"x", "y"}})
        self.assertEqual(table.get_item(Key={"user_id": "u1"})["Item"],
                         {"user_id": "u1", "score": Decimal("3.14"),
                          "tags": {"x", "y"}})
        out = self.server.aws("dynamodb", "get-item", "--table-name", "users",
                              "--key", '{"user_id": {"S": "u1"}}')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["Item"]["score"],
                         {"N": "3.14"})
        out = self.server.aws("dynamodb", "describe-table", "--table-name",
                              "nope")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("ResourceNotFoundException", out.stderr)

    def test_functions_call_it_with_no_endpoint(self):
        lam = boto3.client("lambda", endpoint_url=self.server.url)
        for name, by in (("py-writer", "python"), ("node-writer", "node")):
            r = lam.invoke(FunctionName=name,
                           Payload=json.dumps({"id": "from-" + by}))
            body = json.loads(r["Payload"].read())
            self.assertNotIn("FunctionError", r, body)
            self.assertEqual((body["user_id"], body["by"]),
                             ("from-" + by, by))
        got = self.ddb.get_item(TableName="users",
                                Key={"user_id": {"S": "from-node"}})["Item"]
        self.assertEqual((got["n"], got["tags"]), ({"N": "42"}, {"SS": ["a"]}))


ENFORCED = """Transform: AWS::Serverless-2016-10-31
Resources:
  Users:
    Type: AWS::Serverless::SimpleTable
    Properties: {TableName: users}
  Orders:
    Type: AWS::Serverless::SimpleTable
    Properties: {TableName: orders}
  Scoped:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: scoped
      Runtime: python3.12
      Handler: app.handler
      CodeUri: py/
      Timeout: 20
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Users}
"""

SCOPED = """import boto3

ddb = boto3.client("dynamodb")


def handler(event, context):
    out = {}
    for table in ("users", "orders"):
        try:
            ddb.put_item(TableName=table, Item={"id": {"S": "1"}})
            out[table] = "written"
        except ddb.exceptions.ClientError as e:
            out[table] = e.response["Error"]["Code"]
    return out
"""


class EnforcedTest(unittest.TestCase):
    def test_policies_cover_dynamodb(self):
        top = tempfile.mkdtemp(prefix="lambkin-ddb-iam-")
        try:
            write_tree(top, {"template.yaml": ENFORCED, "py/app.py": SCOPED})
            server = Server("--enforce-policies",
                            template=os.path.join(top, "template.yaml"))
            try:
                lam = boto3.client("lambda", endpoint_url=server.url)
                r = lam.invoke(FunctionName="scoped", Payload=b"{}")
                self.assertEqual(json.loads(r["Payload"].read()),
                                 {"users": "written",
                                  "orders": "AccessDeniedException"})
            finally:
                stop_cleanly(server)
        finally:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
