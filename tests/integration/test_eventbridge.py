"""EventBridge on JSON 1.1: rules from the template (AWS::Events::Rule
with targets, and EventBridgeRule, CloudWatchEvent and Schedule events on
functions) and the API, PutEvents matched by the pattern language (a
numeric range among them), targets that are functions, queues and topics
with Input, InputPath and InputTransformer, as boto3, Debian's aws CLI
and the JS SDK v3 (inside a function) see them; a rate() schedule firing
on time; a function that puts an event its own rule matches is a loop,
stopped at its first cycle; check draws the bus's edges."""
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

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Audit:
    Type: AWS::SQS::Queue
    Properties: {QueueName: audit}
  Alerts:
    Type: AWS::SNS::Topic
    Properties: {TopicName: alerts}
  AlertQueue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: alert-copies}
  AlertCopies:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Alerts
      Protocol: sqs
      Endpoint: !GetAtt AlertQueue.Arn
      RawMessageDelivery: true
  BigOrders:
    Type: AWS::Events::Rule
    Properties:
      Name: big-orders
      EventPattern:
        source: [shop]
        detail: {total: [{numeric: [">", 100, "<=", 1000]}]}
      Targets:
        - Id: audit
          Arn: !GetAtt Audit.Arn
          InputTransformer:
            InputPathsMap: {t: "$.detail.total", who: "$.detail.customer"}
            InputTemplate: '{"amount": <t>, "customer": "<who>", "rule": "<aws.events.rule-name>"}'
        - Id: alert
          Arn: !Ref Alerts
          InputPath: $.detail.customer
  PyShop:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: py-shop
      Runtime: python3.12
      Handler: app.handler
      CodeUri: py/
      Events:
        Shop:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [shop], detail-type: [order]}
        Tick:
          Type: Schedule
          Properties: {Schedule: rate(1 minute), Input: '{"tick": true}'}
  Nightly:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: nightly
      Runtime: python3.12
      Handler: app.handler
      CodeUri: py/
      Events:
        AtThree:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 3 * * ? *)
            ScheduleExpressionTimezone: Europe/Berlin
        OnMars:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 3 * * ? *)
            ScheduleExpressionTimezone: Mars/Olympus
  Ticks:
    Type: AWS::SQS::Queue
    Properties: {QueueName: ticks}
  NodeEmitter:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node-emitter
      Runtime: nodejs20.x
      Handler: app.handler
      CodeUri: node/
  Looper:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: looper
      Runtime: python3.12
      Handler: loop.handler
      CodeUri: py/
      Policies: [{EventBridgePutEventsPolicy: {EventBusName: default}}]
      Events:
        Again:
          Type: CloudWatchEvent
          Properties:
            Pattern: {source: [again]}
"""

PY = """def handler(event, context):
    return event
"""

LOOP = """import boto3

events = boto3.client("events")


def handler(event, context):
    events.put_events(Entries=[{"Source": "again", "DetailType": "x",
                                "Detail": "{}"}])
"""

NODE = """const { EventBridgeClient, PutEventsCommand } =
  require('@aws-sdk/client-eventbridge');

exports.handler = async (event) => {
  const out = await new EventBridgeClient({}).send(new PutEventsCommand({
    Entries: [{ Source: 'shop', DetailType: 'order',
                Detail: JSON.stringify({ total: event.total, customer: 'js' }) }],
  }));
  return { failed: out.FailedEntryCount, id: out.Entries[0].EventId };
};
"""


def queue_url(server, name):
    return "%s/%s/%s" % (server.url, ACCOUNT, name)


class EventBridgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="lambkin-eb-")
        write_tree(cls.top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                             "py/loop.py": LOOP, "node/app.js": NODE})
        cls.server = Server(template=os.path.join(cls.top, "template.yaml"))
        cls.events = boto3.client("events", endpoint_url=cls.server.url)
        cls.sqs = boto3.client("sqs", endpoint_url=cls.server.url)

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)
        shutil.rmtree(cls.top, ignore_errors=True)

    def runs(self, fn):
        return [r for r in journal(self.server)
                if r.get("function") == fn and "outcome" in r]

    def drain(self, queue, want, timeout=10):
        got, deadline = [], time.time() + timeout
        while len(got) < want and time.time() < deadline:
            r = self.sqs.receive_message(QueueUrl=queue_url(self.server, queue),
                                         MaxNumberOfMessages=10,
                                         WaitTimeSeconds=1)
            for m in r.get("Messages", []):
                got.append(m["Body"])
                self.sqs.delete_message(QueueUrl=queue_url(self.server, queue),
                                        ReceiptHandle=m["ReceiptHandle"])
        return got

    def put(self, total, customer, source="shop", dtype="order"):
        return self.events.put_events(Entries=[{
            "Source": source, "DetailType": dtype,
            "Detail": json.dumps({"total": total, "customer": customer})}])

    def test_pattern_targets_and_transformers(self):
        self.put(150, "ann")
        self.put(5, "bob")      # under the range
        self.put(5000, "cat")   # over it
        audit = [json.loads(b) for b in self.drain("audit", 1)]
        self.assertEqual(audit, [{"amount": 150, "customer": "ann",
                                  "rule": "big-orders"}])
        # InputPath: the string the path selects, through SNS, raw
        self.assertEqual(self.drain("alert-copies", 1), ['"ann"'])
        time.sleep(0.5)
        self.assertEqual(self.drain("audit", 1, timeout=1), [])
        # the function's rule matches all three orders
        got = wait_for(lambda: len(self.runs("py-shop")) >= 3 and
                       self.runs("py-shop"), what="py-shop")
        ev = json.loads(got[0]["event"])
        self.assertEqual((ev["source"], ev["detail-type"], ev["account"]),
                         ("shop", "order", ACCOUNT))
        self.assertTrue(got[0]["async"])

    def test_js_sdk_v3_puts_events_from_a_function(self):
        lam = boto3.client("lambda", endpoint_url=self.server.url)
        r = lam.invoke(FunctionName="node-emitter",
                       Payload=json.dumps({"total": 500}))
        out = json.loads(r["Payload"].read())
        self.assertEqual(out["failed"], 0, out)
        audit = [json.loads(b) for b in self.drain("audit", 1)]
        self.assertEqual(audit[0]["customer"], "js")
        self.assertEqual(self.drain("alert-copies", 1), ['"js"'])

    def test_rules_through_the_api_and_errors(self):
        arn = self.events.put_rule(
            Name="made", EventPattern=json.dumps({"source": [{"prefix": "x"}]})
        )["RuleArn"]
        self.assertEqual(arn, "arn:aws:events:us-east-1:%s:rule/made" % ACCOUNT)
        q = self.sqs.create_queue(QueueName="made-q")["QueueUrl"]
        self.events.put_targets(Rule="made", Targets=[{
            "Id": "q", "Arn": "arn:aws:sqs:us-east-1:%s:made-q" % ACCOUNT,
            "Input": '{"fixed": 1}'}])
        self.assertEqual([t["Id"] for t in self.events.list_targets_by_rule(
            Rule="made")["Targets"]], ["q"])
        r = self.events.put_events(Entries=[
            {"Source": "xyz", "DetailType": "d", "Detail": "{}"},
            {"Source": "xyz", "DetailType": "d", "Detail": "not json"}])
        self.assertEqual(r["FailedEntryCount"], 1)
        self.assertEqual(r["Entries"][1]["ErrorCode"], "MalformedDetail")
        msgs = self.sqs.receive_message(QueueUrl=q, WaitTimeSeconds=2)
        self.assertEqual([m["Body"] for m in msgs["Messages"]],
                         ['{"fixed": 1}'])
        self.events.disable_rule(Name="made")
        self.assertEqual(self.events.describe_rule(Name="made")["State"],
                         "DISABLED")
        with self.assertRaises(self.events.exceptions.ClientError) as e:
            self.events.delete_rule(Name="made")
        self.assertEqual(e.exception.response["Error"]["Code"],
                         "ValidationException")
        self.events.remove_targets(Rule="made", Ids=["q"])
        self.events.delete_rule(Name="made")
        self.assertNotIn("made", [r["Name"] for r in
                                  self.events.list_rules()["Rules"]])
        with self.assertRaises(self.events.exceptions.ClientError) as e:
            self.events.put_rule(Name="bad", EventPattern='{"a": "b"}')
        self.assertEqual(e.exception.response["Error"]["Code"],
                         "InvalidEventPatternException")
        with self.assertRaises(self.events.exceptions.ClientError) as e:
            self.events.put_targets(Rule="nope", Targets=[
                {"Id": "a", "Arn": "arn:aws:sqs:us-east-1:1:q"}])
        self.assertEqual(e.exception.response["Error"]["Code"],
                         "ResourceNotFoundException")
        self.assertTrue(self.events.test_event_pattern(
            EventPattern=json.dumps({"detail": {"n": [{"numeric": [">", 1]}]}}),
            Event=json.dumps({"id": "1", "source": "s", "detail-type": "t",
                              "account": ACCOUNT, "time": "2026-01-01T00:00:00Z",
                              "region": "us-east-1", "resources": [],
                              "detail": {"n": 2}}))["Result"])
        bus = self.events.create_event_bus(Name="side")["EventBusArn"]
        self.assertTrue(bus.endswith(":event-bus/side"))
        cli = self.server.aws("events", "list-rules")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn("big-orders", cli.stdout)

    def test_a_function_putting_what_its_rule_matches_is_a_loop(self):
        self.events.put_events(Entries=[{"Source": "again", "DetailType": "x",
                                         "Detail": "{}"}])
        loop = wait_for(lambda: [r for r in journal(self.server)
                                 if r.get("type") == "loop" and
                                 r["function"] == "looper"],
                        what="the loop report")[0]
        self.assertEqual(loop["path"], "looper -> events://looper-Again -> "
                                       "looper")
        time.sleep(0.5)
        self.assertEqual(len(self.runs("looper")), 1)
        p = subprocess.run([LAMBKIN, "check", "-t",
                            os.path.join(self.top, "template.yaml")],
                           capture_output=True, text=True, timeout=60)
        self.assertIn("looper -> events://default -> looper", p.stdout)

    def test_dead_letter_config_keeps_what_a_target_cannot_take(self):
        self.sqs.create_queue(QueueName="events-dead")
        self.events.put_rule(Name="lossy",
                             EventPattern=json.dumps({"source": ["lossy"]}))
        self.events.put_targets(Rule="lossy", Targets=[
            {"Id": "gone", "Arn": "arn:aws:sqs:us-east-1:%s:not-there"
             % ACCOUNT,
             "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:%s:events-dead"
                                  % ACCOUNT}},
            {"Id": "nobody", "Arn": "arn:aws:lambda:us-east-1:%s:function:"
             "not-served" % ACCOUNT}])
        self.events.put_events(Entries=[{"Source": "lossy",
                                         "DetailType": "x",
                                         "Detail": json.dumps({"n": 1})}])
        got = self.sqs.receive_message(
            QueueUrl=queue_url(self.server, "events-dead"),
            WaitTimeSeconds=2)["Messages"]
        self.assertEqual(json.loads(got[0]["Body"])["detail"], {"n": 1})
        wait_for(lambda: "a DeadLetterConfig would keep it" in
                 self.server.output(), what="the line about the drop")

    def test_schedule_time_zones_must_exist(self):
        out = self.server.output()
        self.assertIn("rule nightly-OnMars is not served: Parameter "
                      "ScheduleExpressionTimezone is not valid", out)
        self.assertNotIn("nightly-AtThree is not served", out)
        self.assertEqual(self.events.describe_rule(Name="nightly-AtThree")[
            "ScheduleExpression"], "cron(0 3 * * ? *)")

    def test_schedules_refused_as_eventbridge_refuses_them(self):
        for bad in ["rate(5 minute)", "cron(0 10 * * * *)",
                    "cron(0 10 * * ?)", "every day"]:
            with self.assertRaises(self.events.exceptions.ClientError) as e:
                self.events.put_rule(Name="bad", ScheduleExpression=bad)
            self.assertEqual(e.exception.response["Error"]["Code"],
                             "ValidationException", bad)
            self.assertIn("ScheduleExpression is not valid",
                          e.exception.response["Error"]["Message"])

    def test_zz_rate_and_cron_schedules_fire_on_time(self):
        # A rule made now through the API, every minute on the minute, to
        # a queue; the template's rate(1 minute) fires a minute after
        # start. One wait sees both.
        self.events.put_rule(Name="every-minute",
                             ScheduleExpression="cron(* * * * ? *)")
        self.events.put_targets(Rule="every-minute", Targets=[
            {"Id": "q", "Arn": "arn:aws:sqs:us-east-1:%s:ticks" % ACCOUNT}])
        got = wait_for(lambda: [r for r in self.runs("py-shop")
                                if '"tick"' in r["event"]], timeout=75,
                       what="the rate schedule")
        self.assertEqual(json.loads(got[0]["event"]), {"tick": True})
        msgs = []
        deadline = time.time() + 65
        while not msgs and time.time() < deadline:
            msgs = self.sqs.receive_message(
                QueueUrl=queue_url(self.server, "ticks"),
                WaitTimeSeconds=1).get("Messages", [])
        self.assertTrue(msgs, "the cron schedule did not fire")
        ev = json.loads(msgs[0]["Body"])
        self.assertEqual(ev["detail-type"], "Scheduled Event")
        self.assertEqual(ev["resources"],
                         ["arn:aws:events:us-east-1:%s:rule/every-minute"
                          % ACCOUNT])
        self.assertTrue(ev["time"].endswith(":00Z"), ev["time"])


class EventBridgeStateTest(unittest.TestCase):
    def test_buses_rules_and_targets_survive_a_restart_and_a_kill(self):
        top = tempfile.mkdtemp(prefix="lambkin-eb-st-")
        try:
            write_tree(top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                             "py/loop.py": LOOP, "node/app.js": NODE})
            tpl = os.path.join(top, "template.yaml")
            server = Server(template=tpl, state=top)
            ev = boto3.client("events", endpoint_url=server.url)
            ev.create_event_bus(Name="orders")
            ev.put_rule(Name="paid", EventBusName="orders",
                        EventPattern=json.dumps({"detail-type": ["paid"]}))
            ev.put_targets(Rule="paid", EventBusName="orders", Targets=[
                {"Id": "q", "Arn": "arn:aws:sqs:us-east-1:%s:audit" % ACCOUNT,
                 "InputPath": "$.detail"}])
            ev.disable_rule(Name="big-orders")  # a template rule, changed
            stop_cleanly(server)
            server = Server(template=tpl, state=top)
            ev = boto3.client("events", endpoint_url=server.url)
            self.assertIn("orders", [b["Name"] for b in
                                     ev.list_event_buses()["EventBuses"]])
            self.assertEqual(ev.describe_rule(Name="big-orders")["State"],
                             "DISABLED")
            ev.put_targets(Rule="paid", EventBusName="orders", Targets=[
                {"Id": "q2", "Arn": "arn:aws:sqs:us-east-1:%s:audit"
                 % ACCOUNT}])
            server.proc.kill()
            server.proc.wait()
            server.log.close()
            server = Server(template=tpl, state=top)
            ev = boto3.client("events", endpoint_url=server.url)
            ids = [t["Id"] for t in ev.list_targets_by_rule(
                Rule="paid", EventBusName="orders")["Targets"]]
            self.assertEqual(ids, ["q", "q2"])
            # and the rule still routes, with its InputPath
            ev.put_events(Entries=[{"EventBusName": "orders",
                                    "Source": "shop", "DetailType": "paid",
                                    "Detail": json.dumps({"n": 7})}])
            sqs = boto3.client("sqs", endpoint_url=server.url)
            got = sqs.receive_message(QueueUrl=queue_url(server, "audit"),
                                      MaxNumberOfMessages=10,
                                      WaitTimeSeconds=2)["Messages"]
            self.assertIn({"n": 7}, [json.loads(m["Body"]) for m in got])
            stop_cleanly(server)
        finally:
            shutil.rmtree(top, ignore_errors=True)


ENFORCE_TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: python3.12, Handler: put.handler, CodeUri: py/}
Resources:
  Allowed:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: allowed
      Policies: [{EventBridgePutEventsPolicy: {EventBusName: default}}]
  Denied:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: denied
      Policies: [{SQSSendMessagePolicy: {QueueName: q}}]
"""

PUT = """import boto3
from botocore.exceptions import ClientError


def handler(event, context):
    try:
        boto3.client("events").put_events(Entries=[
            {"Source": "s", "DetailType": "d", "Detail": "{}"}])
        return "put"
    except ClientError as e:
        return e.response["Error"]["Code"]
"""


class EventBridgeEnforceTest(unittest.TestCase):
    def test_put_events_needs_a_policy_that_grants_it(self):
        top = tempfile.mkdtemp(prefix="lambkin-eb-enf-")
        try:
            write_tree(top, {"template.yaml": ENFORCE_TEMPLATE,
                             "py/put.py": PUT})
            server = Server("--enforce-policies",
                            template=os.path.join(top, "template.yaml"),
                            state=top)
            try:
                lam = boto3.client("lambda", endpoint_url=server.url)
                got = {fn: json.loads(lam.invoke(FunctionName=fn)[
                    "Payload"].read()) for fn in ("allowed", "denied")}
                self.assertEqual(got, {"allowed": "put",
                                       "denied": "AccessDeniedException"})
                self.assertIn({"type": "access", "function": "allowed",
                               "action": "events:PutEvents",
                               "resource": "arn:aws:events:us-east-1:%s:"
                               "event-bus/default" % ACCOUNT},
                              journal(server))
            finally:
                stop_cleanly(server)
        finally:
            shutil.rmtree(top, ignore_errors=True)


class EventsCliTest(unittest.TestCase):
    def test_lambkin_event_schedule_and_eventbridge(self):
        p = subprocess.run([LAMBKIN, "event", "schedule", "--rule", "nightly"],
                           capture_output=True, text=True, timeout=30)
        ev = json.loads(p.stdout)
        self.assertEqual((ev["source"], ev["detail-type"]),
                         ("aws.events", "Scheduled Event"))
        self.assertTrue(ev["resources"][0].endswith(":rule/nightly"))
        p = subprocess.run([LAMBKIN, "event", "eventbridge", "--source", "shop",
                            "--detail-type", "order", "--body",
                            '{"total": 3}'],
                           capture_output=True, text=True, timeout=30)
        ev = json.loads(p.stdout)
        self.assertEqual(ev["detail"], {"total": 3})

    def test_invoke_schedule_fires_a_schedule_now(self):
        top = tempfile.mkdtemp(prefix="lambkin-ebi-")
        try:
            write_tree(top, {"template.yaml": TEMPLATE, "py/app.py": PY,
                             "py/loop.py": LOOP, "node/app.js": NODE})
            tpl = os.path.join(top, "template.yaml")
            p = subprocess.run([LAMBKIN, "invoke", "nightly", "--schedule",
                                "-t", tpl, "--state",
                                os.path.join(top, "state")],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            ev = json.loads(p.stdout)
            self.assertEqual((ev["source"], ev["detail-type"]),
                             ("aws.events", "Scheduled Event"))
            self.assertEqual(ev["resources"],
                             ["arn:aws:events:us-east-1:%s:rule/"
                              "nightly-AtThree" % ACCOUNT])
            # A schedule with Input sends the Input.
            p = subprocess.run([LAMBKIN, "invoke", "py-shop", "--schedule",
                                "-t", tpl, "--state",
                                os.path.join(top, "state")],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout), {"tick": True})
            p = subprocess.run([LAMBKIN, "invoke", "node-emitter",
                                "--schedule", "-t", tpl],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 2)
            self.assertIn("no Schedule or ScheduleV2 event", p.stderr)
        finally:
            shutil.rmtree(top, ignore_errors=True)

    def test_fuzz_mutates_the_detail_a_rule_matches(self):
        top = tempfile.mkdtemp(prefix="lambkin-ebf-")
        try:
            write_tree(top, {"template.yaml": """Transform: AWS::Serverless-2016-10-31
Resources:
  Shipper:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: shipper
      Runtime: python3.12
      Handler: ship.handler
      CodeUri: src/
      Events:
        Placed:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [com.shop]
              detail-type: [OrderPlaced]
              detail: {country: [NZ]}
""", "src/ship.py": """import os


# Deliberately vulnerable: the order's country reaches a shell, but only
# for the events the rule sends.
def handler(event, context):
    if event["source"] != "com.shop":
        return
    os.system("echo " + event["detail"]["country"] + " >/dev/null")
"""})
            fuzz_injections(self, top, "eventbridge")
        finally:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
