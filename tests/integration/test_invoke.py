"""Lambda Invoke API and Runtime API, end to end, with real clients:
Debian's aws CLI, boto3, the JS SDK v3 and the lambkin CLI itself, against
a real `lambkin serve` running the sample app in handlers/."""
import base64
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import SANDBOX  # noqa: E402
from lambkin_server import (LAMBKIN, ROOT, TEMPLATE,  # noqa: E402
                            Server, function_credentials, stop_cleanly)

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

SAMPLE_FUNCTIONS = {"echo-c", "crash-c", "echo-python", "context-python",
                    "context-node",
                    "fail-python", "slow-python", "one-python", "echo-node",
                    "callback-node", "esm-node", "custom-provided",
                    "on-upload", "worker-node", "alerter", "thumbnailer",
                    "self-invoker", "api-python", "api-node", "slow-api",
                    "store-c", "sqs-echoer", "log-shouter"}


class InvokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--retry-delay", "100")
        cls.lam = boto3.client(
            "lambda", endpoint_url=cls.server.url,
            config=botocore.config.Config(retries={"max_attempts": 0},
                                          read_timeout=30))

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    # -- helpers --

    def invoke(self, name, event=None, **kw):
        payload = json.dumps(event if event is not None else {})
        r = self.lam.invoke(FunctionName=name, Payload=payload, **kw)
        r["body"] = r["Payload"].read()
        return r

    def aws(self, *args, check=True):
        p = self.server.aws(*args)
        if check and p.returncode != 0:
            self.fail("aws %s failed: %s" % (" ".join(args), p.stderr))
        return p

    def assert_still_serving(self):
        r = self.invoke("echo-c", {"still": "here"})
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(json.loads(r["body"]), {"still": "here"})

    # -- the aws CLI --

    def test_cli_invoke_each_runtime(self):
        for name in ("echo-c", "echo-python", "echo-node"):
            with tempfile.NamedTemporaryFile() as out:
                p = self.aws("lambda", "invoke", "--function-name", name,
                             "--cli-binary-format", "raw-in-base64-out",
                             "--payload", '{"hello": "' + name + '"}',
                             out.name)
                meta = json.loads(p.stdout)
                self.assertEqual(meta["StatusCode"], 200)
                self.assertEqual(meta["ExecutedVersion"], "$LATEST")
                self.assertNotIn("FunctionError", meta)
                self.assertEqual(json.load(open(out.name)), {"hello": name})

    def test_cli_invoke_event_and_dry_run(self):
        with tempfile.NamedTemporaryFile() as out:
            p = self.aws("lambda", "invoke", "--function-name", "echo-python",
                         "--invocation-type", "Event", "--cli-binary-format",
                         "raw-in-base64-out", "--payload", '{"async": 1}',
                         out.name)
            self.assertEqual(json.loads(p.stdout)["StatusCode"], 202)
            p = self.aws("lambda", "invoke", "--function-name", "echo-python",
                         "--invocation-type", "DryRun", out.name)
            self.assertEqual(json.loads(p.stdout)["StatusCode"], 204)

    def test_cli_log_tail(self):
        with tempfile.NamedTemporaryFile() as out:
            p = self.aws("lambda", "invoke", "--function-name", "echo-python",
                         "--log-type", "Tail", out.name)
            meta = json.loads(p.stdout)
            log = base64.b64decode(meta["LogResult"]).decode()
        self.assertRegex(log, r"START RequestId: [0-9a-f-]{36} Version: "
                              r"\$LATEST")
        self.assertIn("echo ", log)  # the function's own print()
        self.assertRegex(log, r"REPORT RequestId: [0-9a-f-]{36}\tDuration: "
                              r"[0-9.]+ ms\tBilled Duration: \d+ ms\tMemory "
                              r"Size: 128 MB\tMax Memory Used: [1-9]\d* MB")

    def test_cli_list_functions(self):
        p = self.aws("lambda", "list-functions")
        names = {f["FunctionName"] for f in json.loads(p.stdout)["Functions"]}
        self.assertEqual(names, SAMPLE_FUNCTIONS)
        p = self.aws("lambda", "get-function", "--function-name",
                     "context-python")
        conf = json.loads(p.stdout)["Configuration"]
        self.assertEqual(conf["MemorySize"], 256)
        self.assertEqual(conf["Runtime"], "python3.11")
        self.assertEqual(conf["Environment"]["Variables"]["GREETING"],
                         "hello from us-east-1 in dev")

    def test_cli_unknown_function(self):
        p = self.aws("lambda", "invoke", "--function-name", "nope",
                     "/dev/null", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ResourceNotFoundException", p.stderr)

    # -- boto3 --

    def test_boto3_invoke_by_arn_and_context(self):
        arn = "arn:aws:lambda:us-east-1:123456789012:function:context-python"
        r = self.invoke(arn)
        self.assertEqual(r["StatusCode"], 200)
        got = json.loads(r["body"])
        env = got["env"]
        self.assertEqual(got["function_name"], "context-python")
        self.assertEqual(got["arn"], arn)
        self.assertEqual(got["request_id"],
                         r["ResponseMetadata"]["RequestId"])
        self.assertGreater(got["remaining_ms"], 0)
        self.assertLessEqual(got["remaining_ms"], 3000)
        self.assertRegex(env["AWS_LAMBDA_RUNTIME_API"], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(env["_HANDLER"], "context.handler")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST")
        self.assertEqual(env["AWS_LAMBDA_LOG_GROUP_NAME"],
                         "/aws/lambda/context-python")
        self.assertRegex(env["AWS_LAMBDA_LOG_STREAM_NAME"],
                         r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
        # Lambda's /var/task where the kernel allows namespaces (see
        # test_sandbox); the code's own folder where it does not
        self.assertEqual(env["LAMBDA_TASK_ROOT"],
                         "/var/task" if SANDBOX else
                         os.path.join(ROOT, "handlers", "python"))
        self.assertTrue(env["AWS_ACCESS_KEY_ID"].startswith("LKIA"))
        self.assertTrue(env["AWS_SECRET_ACCESS_KEY"])
        self.assertTrue(env["AWS_SESSION_TOKEN"])
        self.assertEqual(env["STAGE"], "dev")  # from Globals, via !Ref
        self.assertTrue(env["_X_AMZN_TRACE_ID"].startswith("Root=1-"))

    def test_boto3_function_error(self):
        r = self.invoke("fail-python", {"why": "bad input"})
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(r["body"])
        self.assertEqual(err["errorType"], "ValueError")
        self.assertEqual(err["errorMessage"], "something went wrong: bad input")
        self.assertTrue(any("fail.py" in line for line in err["stackTrace"]))

    def test_boto3_node_styles(self):
        r = self.invoke("callback-node", {"n": 1})
        self.assertEqual(json.loads(r["body"]),
                         {"style": "callback", "got": {"n": 1}})
        r = self.invoke("esm-node", {"n": 2})
        body = json.loads(r["body"])
        self.assertEqual(body["style"], "esm")
        self.assertEqual(body["got"], {"n": 2})
        r = self.invoke("custom-provided", {"n": 3})
        self.assertEqual(json.loads(r["body"]),
                         {"handler": "my.handler", "event": {"n": 3}})

    def test_timeout_kills_and_replaces_instance(self):
        r = self.invoke("slow-python", {"sleep": 5})
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(r["body"])
        self.assertEqual(err["errorType"], "Sandbox.Timedout")
        self.assertRegex(err["errorMessage"],
                         r"Task timed out after 1\.00 seconds$")
        r = self.invoke("slow-python", {"sleep": 0})
        self.assertNotIn("FunctionError", r)
        self.assertEqual(json.loads(r["body"])["slept"], 0)

    def test_crash_reports_exit_error_and_keeps_serving(self):
        r = self.invoke("crash-c")
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(r["body"])
        self.assertEqual(err["errorType"], "Runtime.ExitError")
        self.assertIn("signal: segmentation fault", err["errorMessage"])
        self.assert_still_serving()

    def test_oversize_payload(self):
        big = json.dumps({"x": "a" * (6 * 1024 * 1024)})
        with self.assertRaises(self.lam.exceptions.RequestTooLargeException):
            self.lam.invoke(FunctionName="echo-c", Payload=big)
        with self.assertRaises(self.lam.exceptions.RequestTooLargeException):
            self.lam.invoke(FunctionName="echo-c", InvocationType="Event",
                            Payload=json.dumps({"x": "a" * (1024 * 1024)}))
        self.assert_still_serving()

    def test_malformed_json(self):
        with self.assertRaises(
                self.lam.exceptions.InvalidRequestContentException):
            self.lam.invoke(FunctionName="echo-c", Payload=b'{"unclosed": ')
        self.assert_still_serving()

    def test_reserved_concurrency_throttles(self):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            slow = pool.submit(self.invoke, "one-python", {"sleep": 2})
            # Let the slow one arrive first and take the only slot; a probe
            # sent before it would take the slot and throttle it instead.
            time.sleep(0.5)
            deadline = time.time() + 10
            throttled = False
            while time.time() < deadline and not slow.done():
                try:
                    self.invoke("one-python", {"sleep": 0})
                except self.lam.exceptions.TooManyRequestsException as e:
                    self.assertEqual(
                        e.response["Error"]["Code"], "TooManyRequestsException")
                    throttled = True
                    break
                time.sleep(0.05)
            self.assertTrue(throttled, "second invoke was never throttled")
            self.assertEqual(json.loads(slow.result()["body"])["slept"], 2)
        r = self.invoke("one-python", {"sleep": 0})
        self.assertEqual(json.loads(r["body"])["slept"], 0)

    def test_scale_out_and_warm_reuse(self):
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            rs = list(pool.map(lambda _: self.invoke("slow-python",
                                                     {"sleep": 0.6}),
                               range(3)))
        pids = {json.loads(r["body"])["pid"] for r in rs}
        self.assertEqual(len(pids), 3, "three concurrent invokes shared "
                                       "an instance")
        a = json.loads(self.invoke("context-python")["body"])["pid"]
        b = json.loads(self.invoke("context-python")["body"])["pid"]
        self.assertEqual(a, b, "a warm instance was not reused")

    def test_async_retries_twice_on_error(self):
        r = self.lam.invoke(FunctionName="fail-python", InvocationType="Event",
                            Payload=b'{"why": "async"}')
        self.assertEqual(r["StatusCode"], 202)
        rid = r["ResponseMetadata"]["RequestId"]
        journal = os.path.join(self.server.state_dir, "journal.jsonl")
        deadline = time.time() + 20
        attempts = []
        while time.time() < deadline:
            with open(journal) as f:
                attempts = [json.loads(line) for line in f
                            if rid in line]
            if len(attempts) >= 3:
                break
            time.sleep(0.1)
        time.sleep(0.5)  # a fourth attempt would show up by now
        with open(journal) as f:
            attempts = [json.loads(line) for line in f if rid in line]
        self.assertEqual([a["attempt"] for a in attempts], [1, 2, 3])
        self.assertTrue(all(a["error_type"] == "ValueError"
                            for a in attempts))
        self.assertEqual(attempts[0]["event"], '{"why": "async"}')

    def test_client_context(self):
        cc = {"client": {"app_title": "lambkin-demo", "installation_id": "i"},
              "custom": {"k": "v"}, "env": {"platform": "test"}}
        # JSON whitespace may hold CR/LF; the function still gets it whole.
        raw = json.dumps(cc, indent="\r\n").encode()
        r = self.invoke("context-python",
                        ClientContext=base64.b64encode(raw).decode())
        self.assertEqual(json.loads(r["body"])["client_context"],
                         {"custom": {"k": "v"}, "app_title": "lambkin-demo"})
        r = self.invoke("context-python")
        self.assertIsNone(json.loads(r["body"])["client_context"])
        r = self.invoke("context-node",
                        ClientContext=base64.b64encode(raw).decode())
        got = json.loads(r["body"])
        self.assertEqual(got["clientContext"], cc)
        self.assertEqual(got["requestId"], r["ResponseMetadata"]["RequestId"])
        r = self.invoke("context-node")
        self.assertIsNone(json.loads(r["body"])["clientContext"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.invoke("context-python",
                        ClientContext=base64.b64encode(b"[1]").decode())
        self.assertEqual(e.exception.response["Error"]["Code"],
                         "InvalidRequestContentException")
        self.assert_still_serving()

    def test_journal_and_replay(self):
        r = self.invoke("echo-python", {"replay": "me"})
        rid = r["ResponseMetadata"]["RequestId"]
        p = subprocess.run([LAMBKIN, "replay", rid, "-t", TEMPLATE,
                            "--state", self.server.state_dir],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"replay": "me"})
        self.assertIn("reproduced", p.stderr)
        r = self.invoke("fail-python", {"why": "again"})
        rid = r["ResponseMetadata"]["RequestId"]
        p = subprocess.run([LAMBKIN, "replay", rid, "-t", TEMPLATE,
                            "--state", self.server.state_dir],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("outcome error ValueError; recorded error ValueError: "
                      "reproduced", p.stderr)

    # -- the JS SDK v3 --

    def test_js_sdk(self):
        script = os.path.join(ROOT, "tests", "js", "invoke.mjs")
        p = subprocess.run(["node", script, self.server.url],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = json.loads(p.stdout)
        self.assertEqual(got["echo"]["status"], 200)
        self.assertEqual(got["echo"]["payload"], {"from": "js"})
        self.assertEqual(got["fail"]["functionError"], "Unhandled")
        self.assertEqual(got["fail"]["payload"]["errorType"], "ValueError")
        self.assertEqual(got["missing"], "ResourceNotFoundException")
        self.assertIn("echo-node", got["functions"])


class CliTest(unittest.TestCase):
    """`lambkin invoke`: one-shot runs for scripts."""

    def run_cli(self, *args, stdin=None):
        with tempfile.TemporaryDirectory() as state:
            return subprocess.run([LAMBKIN, "invoke", "-t", TEMPLATE,
                                   "--state", state] + list(args),
                                  input=stdin, capture_output=True,
                                  text=True, timeout=60)

    def test_invoke_ok_and_error_exit_codes(self):
        p = self.run_cli("echo-node", "--event", "-", stdin='{"k": [1, 2]}')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"k": [1, 2]})
        self.assertIn("Init Duration:", p.stderr)
        p = self.run_cli("fail-python")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(json.loads(p.stdout)["errorType"], "ValueError")
        p = self.run_cli("no-such-function")
        self.assertEqual(p.returncode, 2)
        self.assertIn("no function no-such-function", p.stderr)

    def test_reserved_concurrency_zero_is_throttled_not_waited_on(self):
        # Lambda throttles every call to such a function; lambkin used to
        # queue the call for ever.
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "src"))
            with open(os.path.join(d, "src", "app.py"), "w") as f:
                f.write("def handler(event, context):\n    return 1\n")
            with open(os.path.join(d, "template.yaml"), "w") as f:
                f.write("Transform: AWS::Serverless-2016-10-31\n"
                        "Resources:\n  Off:\n"
                        "    Type: AWS::Serverless::Function\n"
                        "    Properties: {Runtime: python3.12, CodeUri: src/,"
                        " Handler: app.handler,"
                        " ReservedConcurrentExecutions: 0}\n")
            p = subprocess.run([LAMBKIN, "invoke", "Off", "-t",
                                os.path.join(d, "template.yaml"), "--state",
                                os.path.join(d, "state")],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("Off has ReservedConcurrentExecutions 0: Lambda "
                      "throttles every invocation of it", p.stderr)

    def test_bad_template_stops_startup(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "template.yaml")
            with open(path, "w") as f:
                f.write("Resources:\n  F:\n    Type: AWS::Serverless::Function"
                        "\n    Properties:\n      Runtime: python3.12\n"
                        "      Timeout: 901\n")
            p = subprocess.run([LAMBKIN, "serve", "-t", path, "--port", "0"],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("template.yaml:6: expected a whole number from 1 to 900",
                      p.stderr)


class CheckTest(unittest.TestCase):
    """`lambkin check`: the sample app's four deliberate loops, found
    from the template alone (the same four test_sources sees happen)."""

    LOOPS = {"thumbnailer -> s3://photos -> thumbnailer",
             "self-invoker -> self-invoker",
             "sqs-echoer -> sqs://ring -> sqs-echoer",
             "log-shouter -> logs:/aws/lambda/log-shouter -> log-shouter"}

    def check(self, *args, template=TEMPLATE):
        return subprocess.run([LAMBKIN, "check", "-t", template] + list(args),
                              capture_output=True, text=True, timeout=60)

    def test_sample_loops(self):
        p = self.check()
        self.assertEqual(p.returncode, 3, p.stderr)
        errors = [l for l in p.stdout.splitlines() if ": error: " in l]
        self.assertEqual(len(errors), 4, p.stdout)
        self.assertTrue(all(l.startswith(TEMPLATE + ":") and
                            l.endswith("[loop]") for l in errors))
        p = self.check("--json")
        found = json.loads(p.stdout)
        loops = [f for f in found if f["rule"] == "loop"]
        self.assertEqual({f["cycle"] for f in loops}, self.LOOPS)
        self.assertTrue(all(f["usd_per_day"] > 0 for f in loops))
        thumb = [f for f in loops if f["function"] == "thumbnailer"][0]
        with open(TEMPLATE) as f:  # the resource's body: after its name
            start = [i + 2 for i, l in enumerate(f)
                     if l.rstrip() == "  Thumbnailer:"][0]
        self.assertEqual(thumb["line"], start)
        with tempfile.TemporaryDirectory() as d:
            sarif = os.path.join(d, "check.sarif")
            p = self.check("--sarif", sarif)
            self.assertEqual(p.returncode, 3, p.stderr)
            with open(sarif) as f:
                run = json.load(f)["runs"][0]
        rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
        self.assertEqual(len(run["results"]), len(found))
        loop = [r for r in run["results"] if "thumbnailer ->" in
                r["message"]["text"]][0]
        self.assertEqual((loop["ruleId"], rules[loop["ruleIndex"]],
                          loop["level"]), ("loop", "loop", "error"))
        phys = loop["locations"][0]["physicalLocation"]
        self.assertEqual((phys["artifactLocation"]["uri"],
                          phys["region"]["startLine"]), (TEMPLATE, start))
        p = self.check("--dot")
        self.assertTrue(p.stdout.startswith("digraph lambkin {"))
        self.assertIn('"thumbnailer" -> "s3://photos" [label="S3CrudPolicy",'
                      'color=red];', p.stdout)
        # a component with a loop is a cluster; a function's own log group
        # is drawn only where a subscription can close a loop through it
        self.assertIn('subgraph cluster_', p.stdout)
        self.assertNotIn('"logs:/aws/lambda/thumbnailer"', p.stdout)
        self.assertIn('"logs:/aws/lambda/log-shouter"', p.stdout)

    def test_observed_calls_confirm_a_possible_loop(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "template.yaml")
            os.mkdir(os.path.join(d, "src"))
            with open(path, "w") as f:
                f.write("Resources:\n  F:\n    Type: AWS::Serverless::Function"
                        "\n    Properties:\n      FunctionName: fan\n"
                        "      Runtime: python3.11\n      CodeUri: src/\n"
                        "      Handler: a.b\n      Policies: [AWSLambdaRole]\n")
            p = self.check(template=path)
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertIn("possible loop through 1 function(s) via wildcard "
                          "grants (AWSLambdaRole): fan -> fan", p.stdout)
            state = os.path.join(d, "state")
            os.mkdir(state)
            with open(os.path.join(state, "journal.jsonl"), "w") as f:
                f.write(json.dumps({"type": "access", "function": "fan",
                                    "action": "lambda:InvokeFunction",
                                    "resource": "arn:aws:lambda:us-east-1:"
                                    "123456789012:function:fan"},
                                   separators=(",", ":")) + "\n")
            p = self.check("--state", state, template=path)
            self.assertEqual(p.returncode, 3, p.stdout)
            self.assertIn("error: fan: self-invocation loop: fan -> fan",
                          p.stdout)
            self.assertNotIn("possible-loop", p.stdout)

    def test_clean_template_and_bad_usage(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "template.yaml")
            os.mkdir(os.path.join(d, "src"))
            with open(path, "w") as f:
                f.write("Resources:\n  F:\n    Type: AWS::Serverless::Function"
                        "\n    Properties:\n      Runtime: python3.11\n"
                        "      CodeUri: src/\n      Handler: a.b\n")
            p = self.check(template=path)
            self.assertEqual((p.returncode, p.stdout), (0, ""), p.stderr)
            self.assertIn("0 finding(s)", p.stderr)
        p = self.check("--nope")
        self.assertEqual(p.returncode, 2)


class PolicyTest(unittest.TestCase):
    """`lambkin policy`: the calls functions made, attributed by their
    credentials (boto3's SigV4 and the C client's session token), as
    least-privilege policies, against what their Policies grant."""

    def test_observed_calls_and_refusals(self):
        server = Server()
        try:
            lam = boto3.client("lambda", endpoint_url=server.url)
            r = lam.invoke(FunctionName="store-c", Payload=b'{"n": 1}')
            self.assertNotIn("FunctionError", r)
            # boto3 in the function, its own credentials; the second call
            # is the loop lambkin stops, still a call the function made.
            lam.invoke(FunctionName="self-invoker", Payload=b"{}")
            # A call with the test's own credentials is nobody's.
            boto3.client("s3", endpoint_url=server.url).list_buckets()
            p = subprocess.run([LAMBKIN, "policy", "-t", TEMPLATE, "--state",
                                server.state_dir], capture_output=True,
                               text=True, timeout=60)
        finally:
            server.stop()
        self.assertEqual(p.returncode, 1, p.stderr)
        docs = json.loads(p.stdout)
        self.assertEqual(set(docs), {"store-c", "self-invoker"})
        store = {st["Resource"]: set(st["Action"])
                 for st in docs["store-c"]["Statement"]}
        self.assertEqual(store, {
            "arn:aws:s3:::uploads/in/*": {"s3:PutObject", "s3:GetObject"},
            "arn:aws:sqs:us-east-1:123456789012:jobs": {"sqs:SendMessage"}})
        self.assertEqual(docs["self-invoker"]["Statement"][0]["Resource"],
                         "arn:aws:lambda:us-east-1:123456789012:function:"
                         "self-invoker")
        # store-c declares no Policies: each of its calls is refused in
        # AWS. self-invoker's LambdaInvokePolicy covers its call.
        self.assertIn("store-c: s3:PutObject on arn:aws:s3:::uploads/in/* "
                      "is not granted", p.stderr)
        self.assertIn("store-c: sqs:SendMessage on ", p.stderr)
        self.assertNotIn("self-invoker:", p.stderr)
        self.assertIn("3 call(s) their Policies would refuse", p.stderr)


class EnforceTest(unittest.TestCase):
    """serve --enforce-policies: a function's calls that its Policies do
    not allow get AccessDenied in each service's own error shape."""

    def test_denied_in_each_service(self):
        server = Server("--enforce-policies")
        try:
            lam = boto3.client("lambda", endpoint_url=server.url)
            creds = {}
            for fn in ("store-c", "thumbnailer", "self-invoker"):
                lam.invoke(FunctionName=fn, Payload=b"{}")  # an instance
                creds[fn] = function_credentials(server, fn)
                self.assertIsNotNone(creds[fn], fn)

            def as_fn(service, fn):
                # The function's own credentials, as its SDK signs with them.
                key, secret, token = creds[fn]
                return boto3.client(service, endpoint_url=server.url,
                                    aws_access_key_id=key,
                                    aws_secret_access_key=secret,
                                    aws_session_token=token)
            codes = []
            for call in (
                    lambda: as_fn("s3", "store-c").put_object(
                        Bucket="uploads", Key="in/x", Body=b"x"),
                    lambda: as_fn("sqs", "store-c").send_message(
                        QueueUrl=server.url + "/123456789012/jobs",
                        MessageBody="x"),
                    lambda: as_fn("lambda", "store-c").invoke(
                        FunctionName="echo-c", Payload=b"{}"),
                    lambda: as_fn("logs", "store-c").describe_log_groups()):
                with self.assertRaises(botocore.exceptions.ClientError) as e:
                    call()
                codes.append((e.exception.response["Error"]["Code"],
                              e.exception.response["ResponseMetadata"]
                              ["HTTPStatusCode"]))
            self.assertEqual(codes, [("AccessDenied", 403),
                                     ("AccessDenied", 403),
                                     ("AccessDeniedException", 403),
                                     ("AccessDeniedException", 400)])
            # Granted: thumbnailer's S3CrudPolicy on photos, and what any
            # function may do with its logs.
            as_fn("s3", "thumbnailer").put_object(Bucket="photos",
                                                  Key="x.txt", Body=b"x")
            # Invoked by ARN, the grant on the name still applies.
            r = as_fn("lambda", "self-invoker").invoke(
                FunctionName="arn:aws:lambda:us-east-1:123456789012:function:"
                "self-invoker", Payload=b"{}")
            self.assertEqual(r["StatusCode"], 200)
            # store-c, invoked, finds its own S3 put refused.
            r = boto3.client("lambda", endpoint_url=server.url).invoke(
                FunctionName="store-c", Payload=b"{}")
            self.assertEqual(r["FunctionError"], "Unhandled")
            self.assertIn(b"an AWS call failed", r["Payload"].read())
        finally:
            rc, out = server.stop()
        self.assertEqual(rc, 0, out)


class InstanceTest(unittest.TestCase):
    def test_idle_instances_are_reaped(self):
        server = Server("--idle-timeout", "1")
        try:
            lam = boto3.client("lambda", endpoint_url=server.url)
            first = json.loads(lam.invoke(FunctionName="context-python")
                               ["Payload"].read())["pid"]
            time.sleep(2.5)
            second = json.loads(lam.invoke(FunctionName="context-python")
                                ["Payload"].read())["pid"]
            self.assertNotEqual(first, second)
        finally:
            rc, out = server.stop()
        self.assertEqual(rc, 0, out[-2000:])
        self.assertIn("Init Duration", out)

    def test_timeout_at_the_instance_cap_is_replaced(self):
        # With one instance allowed, the replacement of an instance killed
        # for its timeout can start only once the old one is gone: the
        # next invoke must not wait forever for it.
        server = Server("--max-instances", "1")
        try:
            lam = boto3.client("lambda", endpoint_url=server.url,
                               config=botocore.config.Config(
                                   read_timeout=20, retries={"max_attempts": 0}))
            r = lam.invoke(FunctionName="slow-python",
                           Payload=json.dumps({"sleep": 5}))
            self.assertEqual(json.loads(r["Payload"].read())["errorType"],
                             "Sandbox.Timedout")
            r = lam.invoke(FunctionName="slow-python",
                           Payload=json.dumps({"sleep": 0}))
            self.assertEqual(json.loads(r["Payload"].read())["slept"], 0)
        finally:
            rc, out = server.stop()
        self.assertEqual(rc, 0, out[-2000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
