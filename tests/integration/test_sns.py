"""SNS on its query protocol: topics and subscriptions from the template
and the API, Publish and PublishBatch, filter policies on message
attributes and on the body, delivery to python and node functions (the
SNS event) and to SQS (the JSON envelope, or raw), SNS's error shapes, as
boto3, Debian's aws CLI and the JS SDK v3 (inside a function) see them;
a function that publishes to the topic that runs it is a loop, reported
at its first cycle and stopped; --enforce-policies covers sns:Publish; an http:// subscriber
confirms through its SubscribeURL and gets notifications, retried, then
kept in its RedrivePolicy queue."""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import (LAMBKIN, Server,  # noqa: E402
                            fuzz_injections, journal, stop_cleanly, wait_for,
                            write_tree)

import boto3  # noqa: E402

ACCOUNT = "123456789012"
ARN = "arn:aws:sns:us-east-1:%s:" % ACCOUNT

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: orders
      Subscription:
        - {Protocol: sqs, Endpoint: !GetAtt Everything.Arn}
  Everything:
    Type: AWS::SQS::Queue
    Properties: {QueueName: everything}
  Big:
    Type: AWS::SQS::Queue
    Properties: {QueueName: big-orders}
  Raw:
    Type: AWS::SQS::Queue
    Properties: {QueueName: raw-orders}
  BigOnly:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Orders
      Protocol: sqs
      Endpoint: !GetAtt Big.Arn
      FilterPolicy: {size: [{numeric: [">=", 100]}], kind: [{prefix: "shop-"}]}
  RawSub:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Orders
      Protocol: sqs
      Endpoint: !GetAtt Raw.Arn
      RawMessageDelivery: true
      FilterPolicyScope: MessageBody
      FilterPolicy: {order: {state: [{anything-but: [draft]}]}}
  PyOrders:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: py-orders
      Runtime: python3.12
      Handler: app.handler
      CodeUri: py/
      Events:
        Orders:
          Type: SNS
          Properties:
            Topic: !Ref Orders
            FilterPolicy: {kind: [shop-a]}
  NodePublisher:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node-publisher
      Runtime: nodejs20.x
      Handler: app.handler
      CodeUri: node/
      Environment: {Variables: {TOPIC: !Ref Orders}}
      Policies: [{SNSPublishMessagePolicy: {TopicName: !GetAtt Orders.TopicName}}]
  NodeOrders:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node-orders
      Runtime: nodejs20.x
      Handler: recv.handler
      CodeUri: node/
      Events:
        Orders:
          Type: SNS
          Properties: {Topic: !Ref Orders, FilterPolicy: {kind: [from-node]}}
  Echoes:
    Type: AWS::SNS::Topic
    Properties: {TopicName: echoes}
  Echoer:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: echoer
      Runtime: python3.12
      Handler: echo.handler
      CodeUri: py/
      Environment: {Variables: {TOPIC: !Ref Echoes}}
      Events:
        Echoes: {Type: SNS, Properties: {Topic: !Ref Echoes}}
  Relay:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: relay
      Subscription:
        - {Protocol: sqs, Endpoint: !GetAtt RelayQueue.Arn}
  RelayQueue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: relay-q}
  Relayer:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: relayer
      Runtime: nodejs20.x
      Handler: relay.handler
      CodeUri: node/
      Environment: {Variables: {TOPIC: !Ref Relay}}
      Events:
        Work: {Type: SQS, Properties: {Queue: !GetAtt RelayQueue.Arn}}
"""

PY = """def handler(event, context):
    sns = event["Records"][0]["Sns"]
    return {"message": sns["Message"],
            "kind": sns["MessageAttributes"]["kind"]["Value"]}
"""

ECHO = """import os

import boto3

sns = boto3.client("sns")


def handler(event, context):
    msg = event["Records"][0]["Sns"]["Message"]
    sns.publish(TopicArn=os.environ["TOPIC"], Message=msg + "!")
"""

NODE = """const { SNSClient, PublishCommand } = require('@aws-sdk/client-sns');

const sns = new SNSClient({});

exports.handler = async (event) => {
  const out = await sns.send(new PublishCommand({
    TopicArn: process.env.TOPIC, Message: event.message, Subject: 'js',
    MessageAttributes: { kind: { DataType: 'String', StringValue: 'from-node' } },
  }));
  return { id: out.MessageId };
};
"""

NODE_RECV = """exports.handler = async (event) => ({
  subject: event.Records[0].Sns.Subject,
  message: event.Records[0].Sns.Message,
});
"""


# Takes a queued SNS envelope and publishes its message again: a loop
# through two services, function -> SNS -> SQS -> function.
NODE_RELAY = """const { SNSClient, PublishCommand } = require('@aws-sdk/client-sns');

const sns = new SNSClient({});

exports.handler = async (event) => {
  for (const r of event.Records) {
    const note = JSON.parse(r.body);
    await sns.send(new PublishCommand({
      TopicArn: process.env.TOPIC, Message: note.Message + '!' }));
  }
};
"""


def queue_url(server, name):
    return "%s/%s/%s" % (server.url, ACCOUNT, name)


class SNSTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="lambkin-sns-")
        write_tree(cls.top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                             "py/echo.py": ECHO, "node/app.js": NODE,
                             "node/recv.js": NODE_RECV,
                             "node/relay.js": NODE_RELAY})
        cls.server = Server(template=os.path.join(cls.top, "template.yaml"))
        cls.sns = boto3.client("sns", endpoint_url=cls.server.url)
        cls.sqs = boto3.client("sqs", endpoint_url=cls.server.url)

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)
        shutil.rmtree(cls.top, ignore_errors=True)

    def drain(self, queue, want, timeout=20):
        got, deadline = [], time.time() + timeout
        while len(got) < want and time.time() < deadline:
            r = self.sqs.receive_message(QueueUrl=queue_url(self.server, queue),
                                         MaxNumberOfMessages=10,
                                         WaitTimeSeconds=1)
            for m in r.get("Messages", []):
                got.append(m["Body"])
                self.sqs.delete_message(
                    QueueUrl=queue_url(self.server, queue),
                    ReceiptHandle=m["ReceiptHandle"])
        return got

    def invocations(self, fn):
        return [r for r in journal(self.server)
                if r.get("function") == fn and "outcome" in r]

    def error(self, call, **kw):
        with self.assertRaises(self.sns.exceptions.ClientError) as e:
            getattr(self.sns, call)(**kw)
        return (e.exception.response["Error"]["Code"],
                e.exception.response["Error"]["Message"],
                e.exception.response["ResponseMetadata"]["HTTPStatusCode"])

    def publish(self, message, **attrs):
        return self.sns.publish(
            TopicArn=ARN + "orders", Message=message,
            MessageAttributes={k: ({"DataType": "Number",
                                    "StringValue": str(v)}
                                   if isinstance(v, int) else
                                   {"DataType": "String", "StringValue": v})
                               for k, v in attrs.items()})

    def test_filters_envelopes_and_raw_delivery(self):
        self.publish("small", kind="shop-a", size=5)
        self.publish("big", kind="shop-b", size=500)
        self.publish(json.dumps({"order": {"state": "draft"}}), kind="x")
        self.publish(json.dumps({"order": {"state": "paid"}}), kind="x")
        everything = [json.loads(b) for b in self.drain("everything", 4)]
        self.assertEqual(len(everything), 4)
        env = everything[0]
        self.assertEqual(env["Type"], "Notification")
        self.assertEqual(env["TopicArn"], ARN + "orders")
        self.assertEqual(env["Message"], "small")
        self.assertEqual(env["MessageAttributes"]["size"],
                         {"Type": "Number", "Value": "5"})
        self.assertEqual(env["SignatureVersion"], "1")
        self.assertIn("Action=Unsubscribe", env["UnsubscribeURL"])
        # size >= 100 and kind prefix shop-: only "big"
        big = [json.loads(b)["Message"] for b in self.drain("big-orders", 1)]
        self.assertEqual(big, ["big"])
        # the body's order.state anything but draft, delivered raw
        self.assertEqual(self.drain("raw-orders", 1),
                         [json.dumps({"order": {"state": "paid"}})])
        time.sleep(0.5)
        self.assertEqual(self.drain("big-orders", 1, timeout=1), [])
        self.assertEqual(self.drain("raw-orders", 1, timeout=1), [])

    def test_python_and_node_functions_get_the_sns_event(self):
        self.publish("for python", kind="shop-a")
        run = wait_for(lambda: [r for r in self.invocations("py-orders")
                                if "for python" in r["event"]],
                       what="py-orders")[0]
        rec = json.loads(run["event"])["Records"][0]
        self.assertEqual(rec["EventSource"], "aws:sns")
        self.assertEqual(rec["Sns"]["TopicArn"], ARN + "orders")
        self.assertTrue(rec["EventSubscriptionArn"].startswith(
            ARN + "orders:"))
        self.assertTrue(run["async"])
        # the JS SDK v3 inside a function publishes; node-orders' filter
        # takes only what node sent
        lam = boto3.client("lambda", endpoint_url=self.server.url)
        r = lam.invoke(FunctionName="node-publisher",
                       Payload=json.dumps({"message": "from js"}))
        out = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, out)
        self.assertRegex(out["id"], r"^[0-9a-f-]{36}$")
        got = wait_for(lambda: [r for r in self.invocations("node-orders")
                                if "from js" in r["event"]],
                       what="node-orders")[0]
        sns = json.loads(got["event"])["Records"][0]["Sns"]
        self.assertEqual((sns["Subject"], sns["Message"]), ("js", "from js"))
        self.assertFalse([r for r in self.invocations("node-orders")
                          if "for python" in r["event"]])
        # the chain: the publish was node-publisher's
        root = [r for r in self.invocations("node-publisher")][-1]
        self.assertEqual(got["trace"].split(";")[0],
                         root["trace"].split(";")[0])

    def test_topics_and_subscriptions_through_the_api(self):
        arn = self.sns.create_topic(Name="made")["TopicArn"]
        self.assertEqual(arn, ARN + "made")
        self.assertEqual(self.sns.create_topic(Name="made")["TopicArn"], arn)
        q = self.sqs.create_queue(QueueName="made-q")["QueueUrl"]
        sub = self.sns.subscribe(
            TopicArn=arn, Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:%s:made-q" % ACCOUNT,
            Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
        attrs = self.sns.get_subscription_attributes(
            SubscriptionArn=sub)["Attributes"]
        self.assertEqual(attrs["RawMessageDelivery"], "true")
        self.assertEqual(attrs["TopicArn"], arn)
        self.sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="FilterPolicy",
            AttributeValue=json.dumps({"n": [{"numeric": ["<", 3]}]}))
        r = self.sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
            {"Id": "a", "Message": "one", "MessageAttributes": {
                "n": {"DataType": "Number", "StringValue": "1"}}},
            {"Id": "b", "Message": "nine", "MessageAttributes": {
                "n": {"DataType": "Number", "StringValue": "9"}}},
            {"Id": "c", "Message": ""}])
        self.assertEqual(sorted(s["Id"] for s in r["Successful"]), ["a", "b"])
        self.assertEqual([(f["Id"], f["Code"]) for f in r["Failed"]],
                         [("c", "InvalidParameter")])
        msgs = self.sqs.receive_message(QueueUrl=q, WaitTimeSeconds=2)
        self.assertEqual([m["Body"] for m in msgs["Messages"]], ["one"])
        topic = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual(topic["SubscriptionsConfirmed"], "1")
        self.assertEqual(
            [s["SubscriptionArn"] for s in self.sns.list_subscriptions_by_topic(
                TopicArn=arn)["Subscriptions"]], [sub])
        self.sns.unsubscribe(SubscriptionArn=sub)
        self.assertEqual(self.sns.list_subscriptions_by_topic(
            TopicArn=arn)["Subscriptions"], [])
        self.sns.delete_topic(TopicArn=arn)
        self.assertNotIn(arn, [t["TopicArn"] for t in
                               self.sns.list_topics()["Topics"]])
        cli = self.server.aws("sns", "list-topics")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn(ARN + "orders", cli.stdout)

    def test_fifo_topic_to_a_fifo_queue_keeps_the_group(self):
        q = self.sqs.create_queue(QueueName="ordered.fifo", Attributes={
            "FifoQueue": "true"})["QueueUrl"]
        arn = self.sns.create_topic(Name="ordered.fifo", Attributes={
            "FifoTopic": "true",
            "ContentBasedDeduplication": "true"})["TopicArn"]
        self.sns.subscribe(
            TopicArn=arn, Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:%s:ordered.fifo" % ACCOUNT,
            Attributes={"RawMessageDelivery": "true"})
        for i in range(3):
            self.sns.publish(TopicArn=arn, Message="m%d" % i,
                             MessageGroupId="g%d" % (i % 2))
        got = self.sqs.receive_message(
            QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=1,
            AttributeNames=["MessageGroupId"])["Messages"]
        self.assertEqual([(m["Body"], m["Attributes"]["MessageGroupId"])
                          for m in got],
                         [("m0", "g0"), ("m1", "g1"), ("m2", "g0")])

    def test_redrive_policy_keeps_what_cannot_be_delivered(self):
        self.sqs.create_queue(QueueName="sns-dead")
        arn = self.sns.create_topic(Name="lossy")["TopicArn"]
        sub = self.sns.subscribe(
            TopicArn=arn, Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:%s:not-there" % ACCOUNT,
            Attributes={"RedrivePolicy": json.dumps({
                "deadLetterTargetArn":
                    "arn:aws:sqs:us-east-1:%s:sns-dead" % ACCOUNT})}
        )["SubscriptionArn"]
        self.sns.publish(TopicArn=arn, Message="kept", Subject="s")
        got = self.sqs.receive_message(
            QueueUrl=queue_url(self.server, "sns-dead"),
            WaitTimeSeconds=2)["Messages"]
        env = json.loads(got[0]["Body"])
        self.assertEqual((env["Type"], env["Message"], env["TopicArn"]),
                         ("Notification", "kept", arn))
        # Without one, the message is dropped and lambkin says so.
        self.sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="RedrivePolicy",
            AttributeValue="")
        self.sns.publish(TopicArn=arn, Message="lost")
        wait_for(lambda: "a RedrivePolicy would keep it" in
                 self.server.output(), what="the line about the drop")

    def test_sns_errors(self):
        self.assertEqual(self.error("publish", TopicArn=ARN + "nope",
                                    Message="x"),
                         ("NotFound", "Topic does not exist", 404))
        self.assertEqual(self.error("publish", TopicArn=ARN + "orders",
                                    Message=""),
                         ("InvalidParameter",
                          "Invalid parameter: Empty message", 400))
        code, msg, _ = self.error("subscribe", TopicArn=ARN + "orders",
                                  Protocol="carrier-pigeon", Endpoint="x")
        self.assertEqual(code, "InvalidParameter")
        self.assertIn("does not support this protocol", msg)
        code, msg, _ = self.error(
            "subscribe", TopicArn=ARN + "orders", Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:%s:everything" % ACCOUNT,
            Attributes={"FilterPolicy": '{"a": "not a list"}'})
        self.assertEqual(code, "InvalidParameter")
        self.assertIn("FilterPolicy", msg)
        fifo = self.sns.create_topic(
            Name="jobs.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
        code, msg, _ = self.error("publish", TopicArn=fifo, Message="x")
        self.assertIn("MessageGroupId", msg)
        r = self.sns.publish(TopicArn=fifo, Message="x", MessageGroupId="g",
                             MessageDeduplicationId="d1")
        self.assertIn("SequenceNumber", r)

    def test_a_function_publishing_to_its_own_topic_is_a_loop(self):
        self.sns.publish(TopicArn=ARN + "echoes", Message="hi")
        loop = wait_for(lambda: [r for r in journal(self.server)
                                 if r.get("type") == "loop" and
                                 r["function"] == "echoer"],
                        what="the loop report")[0]
        self.assertEqual(loop["path"], "echoer -> sns://echoes -> echoer")
        self.assertTrue(loop["stopped"])
        time.sleep(0.5)
        self.assertEqual(len(self.invocations("echoer")), 1)

    def test_a_loop_through_sns_and_sqs_is_stopped_at_its_first_cycle(self):
        self.sns.publish(TopicArn=ARN + "relay", Message="go")
        loop = wait_for(lambda: [r for r in journal(self.server)
                                 if r.get("type") == "loop" and
                                 r["function"] == "relayer"],
                        what="the loop report")[0]
        self.assertEqual(loop["path"],
                         "relayer -> sns://relay -> sqs://relay-q -> relayer")
        self.assertTrue(loop["stopped"])
        time.sleep(0.5)
        self.assertEqual(len(self.invocations("relayer")), 1)


class EnforceTest(unittest.TestCase):
    def test_publish_needs_the_policy(self):
        top = tempfile.mkdtemp(prefix="lambkin-sns-enf-")
        write_tree(top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                         "py/echo.py": ECHO, "node/app.js": NODE,
                         "node/recv.js": NODE_RECV})
        server = Server("--enforce-policies",
                        template=os.path.join(top, "template.yaml"))
        try:
            lam = boto3.client("lambda", endpoint_url=server.url)
            # node-publisher has SNSPublishMessagePolicy on orders
            r = lam.invoke(FunctionName="node-publisher",
                           Payload=json.dumps({"message": "allowed"}))
            self.assertNotIn("FunctionError", r)
            # echoer has no policy: its publish is refused
            r = lam.invoke(FunctionName="echoer", Payload=json.dumps(
                {"Records": [{"Sns": {"Message": "m"}}]}))
            err = json.loads(r["Payload"].read())
            self.assertEqual(r.get("FunctionError"), "Unhandled")
            self.assertIn("AuthorizationError", err["errorMessage"] +
                          err.get("errorType", ""))
        finally:
            stop_cleanly(server)
            shutil.rmtree(top, ignore_errors=True)


class SNSStateTest(unittest.TestCase):
    def test_topics_and_subscriptions_survive_a_kill(self):
        top = tempfile.mkdtemp(prefix="lambkin-sns-st-")
        try:
            write_tree(top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                             "py/echo.py": ECHO, "node/app.js": NODE,
                             "node/recv.js": NODE_RECV})
            tpl = os.path.join(top, "template.yaml")
            server = Server(template=tpl, state=top)
            sns = boto3.client("sns", endpoint_url=server.url)
            arn = sns.create_topic(Name="kept", Attributes={
                "DisplayName": "Kept"})["TopicArn"]
            sub = sns.subscribe(
                TopicArn=arn, Protocol="sqs",
                Endpoint="arn:aws:sqs:us-east-1:%s:everything" % ACCOUNT,
                Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
            server.proc.kill()
            server.proc.wait()
            server.log.close()
            server = Server(template=tpl, state=top)
            try:
                sns = boto3.client("sns", endpoint_url=server.url)
                self.assertEqual(sns.get_topic_attributes(TopicArn=arn)[
                    "Attributes"]["DisplayName"], "Kept")
                attrs = sns.get_subscription_attributes(
                    SubscriptionArn=sub)["Attributes"]
                self.assertEqual(attrs["RawMessageDelivery"], "true")
                # and it still delivers
                sns.publish(TopicArn=arn, Message="after the kill")
                sqs = boto3.client("sqs", endpoint_url=server.url)
                got = sqs.receive_message(
                    QueueUrl=queue_url(server, "everything"),
                    WaitTimeSeconds=2)["Messages"]
                self.assertEqual(got[0]["Body"], "after the kill")
            finally:
                stop_cleanly(server)
        finally:
            shutil.rmtree(top, ignore_errors=True)


class Hook(http.server.BaseHTTPRequestHandler):
    """An http:// subscriber, as an app would write one: it confirms its
    subscription by visiting the SubscribeURL, and keeps what it gets.
    Paths under /fail answer 500."""
    got = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.got.append((self.path, dict(self.headers), body.decode()))
        msg = json.loads(body) if body.startswith(b"{") else {}
        if self.path.startswith("/fail"):
            self.send_response(500)
        else:
            if msg.get("Type") == "SubscriptionConfirmation":
                urllib.request.urlopen(msg["SubscribeURL"], timeout=10).read()
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class SNSHttpTest(unittest.TestCase):
    def test_http_subscriber_confirms_then_gets_notifications(self):
        hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=hook.serve_forever, daemon=True).start()
        top = tempfile.mkdtemp(prefix="lambkin-sns-http-")
        try:
            write_tree(top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                             "py/echo.py": ECHO, "node/app.js": NODE,
                             "node/recv.js": NODE_RECV,
                             "node/relay.js": NODE_RELAY})
            server = Server(template=os.path.join(top, "template.yaml"),
                            state=top)
            try:
                self.deliver_and_retry(server, hook.server_address[1])
            finally:
                stop_cleanly(server)
        finally:
            hook.shutdown()
            shutil.rmtree(top, ignore_errors=True)

    def deliver_and_retry(self, server, port):
        sns = boto3.client("sns", endpoint_url=server.url)
        sqs = boto3.client("sqs", endpoint_url=server.url)
        arn = sns.create_topic(Name="hooked")["TopicArn"]
        url = "http://127.0.0.1:%d/hook" % port
        r = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=url)
        self.assertEqual(r["SubscriptionArn"], "pending confirmation")
        path, headers, body = wait_for(lambda: Hook.got, what="the "
                                       "confirmation request")[0]
        conf = json.loads(body)
        self.assertEqual(headers["x-amz-sns-message-type"],
                         "SubscriptionConfirmation")
        self.assertEqual((conf["Type"], conf["TopicArn"]),
                         ("SubscriptionConfirmation", arn))
        self.assertTrue(conf["Token"])
        # The hook visited SubscribeURL: confirmed.
        sub = wait_for(lambda: [s["SubscriptionArn"] for s in
                                sns.list_subscriptions_by_topic(
                                    TopicArn=arn)["Subscriptions"]
                                if s["SubscriptionArn"] !=
                                "PendingConfirmation"], what="confirmed")[0]
        self.assertEqual(sns.get_subscription_attributes(
            SubscriptionArn=sub)["Attributes"]["PendingConfirmation"],
            "false")
        sns.publish(TopicArn=arn, Message="to the hook", Subject="s")
        _, headers, body = wait_for(lambda: Hook.got[1:], what="the "
                                    "notification")[0]
        note = json.loads(body)
        self.assertEqual(headers["x-amz-sns-message-type"], "Notification")
        self.assertEqual(headers["x-amz-sns-subscription-arn"], sub)
        self.assertEqual((note["Type"], note["Message"], note["Subject"]),
                         ("Notification", "to the hook", "s"))
        # A bad token confirms nothing.
        with self.assertRaises(sns.exceptions.InvalidParameterException):
            sns.confirm_subscription(TopicArn=arn, Token="nope")
        # A subscriber that keeps failing: 4 attempts, then its DLQ.
        sqs.create_queue(QueueName="hook-dead")
        arn2 = sns.create_topic(Name="hook-fails")["TopicArn"]
        sns.subscribe(TopicArn=arn2, Protocol="http",
                      Endpoint="http://127.0.0.1:%d/fail" % port,
                      ReturnSubscriptionArn=True)
        token = wait_for(lambda: [json.loads(b)["Token"]
                                  for p, _, b in Hook.got
                                  if p == "/fail"], what="the confirmation"
                         )[0]
        sub2 = sns.confirm_subscription(TopicArn=arn2,
                                        Token=token)["SubscriptionArn"]
        sns.set_subscription_attributes(
            SubscriptionArn=sub2, AttributeName="RedrivePolicy",
            AttributeValue=json.dumps({"deadLetterTargetArn":
                                       "arn:aws:sqs:us-east-1:%s:hook-dead"
                                       % ACCOUNT}))
        before = len(Hook.got)
        sns.publish(TopicArn=arn2, Message="never taken")
        dead = wait_for(lambda: sqs.receive_message(
            QueueUrl=queue_url(server, "hook-dead"),
            WaitTimeSeconds=1).get("Messages"), timeout=30,
                        what="the dead letter")
        self.assertEqual(json.loads(dead[0]["Body"])["Message"],
                         "never taken")
        self.assertEqual(len([g for g in Hook.got[before:]
                              if g[0] == "/fail" and
                              g[1]["x-amz-sns-message-type"] ==
                              "Notification"]), 4)
        # lambkin posts to this machine only.
        sns.subscribe(TopicArn=arn, Protocol="http",
                      Endpoint="http://192.0.2.1/x",
                      ReturnSubscriptionArn=True)
        wait_for(lambda: "192.0.2.1/x could not be reached" in
                 server.output(), what="the refusal")


class SNSEventsTest(unittest.TestCase):
    def test_lambkin_event_sns(self):
        p = subprocess.run([LAMBKIN, "event", "sns", "--topic", "orders",
                            "--message", "hi"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        rec = json.loads(p.stdout)["Records"][0]
        self.assertEqual(rec["EventSource"], "aws:sns")
        self.assertEqual(rec["Sns"]["TopicArn"], ARN + "orders")
        self.assertEqual(rec["Sns"]["Message"], "hi")

    def test_fuzz_finds_the_injection_behind_a_topic(self):
        top = tempfile.mkdtemp(prefix="lambkin-snsf-")
        try:
            write_tree(top, {"template.yaml": """Transform: AWS::Serverless-2016-10-31
Resources:
  Alerts:
    Type: AWS::SNS::Topic
  Pager:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: pager
      Runtime: python3.12
      Handler: pager.handler
      CodeUri: src/
      Events:
        Alerts: {Type: SNS, Properties: {Topic: !Ref Alerts}}
""", "src/pager.py": """import json
import os


# Deliberately vulnerable: an alert's host reaches a shell.
def handler(event, context):
    alert = json.loads(event["Records"][0]["Sns"]["Message"])
    os.system("ping -c1 " + alert.get("host", "localhost") + " >/dev/null")
"""})
            # the seed's message is JSON, as the function expects
            seeds = os.path.join(top, "seeds")
            os.makedirs(seeds)
            p = subprocess.run([LAMBKIN, "event", "sns", "--message",
                                json.dumps({"host": "db1"})],
                               capture_output=True, text=True, timeout=30)
            with open(os.path.join(seeds, "alert.json"), "w") as f:
                f.write(p.stdout)
            fuzz_injections(self, top, "sns", "--seeds", seeds)
        finally:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
