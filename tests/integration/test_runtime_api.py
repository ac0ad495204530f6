"""The Runtime API's error paths, driven by a fake runtime: a shell
`bootstrap` (provided.al2023) that misbehaves on purpose, one way per
function, so each path Lambda defines is reached exactly. boto3 sees what
it would see from Lambda; the log tail shows the INIT_REPORT lines."""
import base64
import concurrent.futures
import http.client
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

# One runtime, its behaviour chosen by the function's Handler.
BOOTSTRAP = r"""#!/bin/sh
set -u
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
case "$_HANDLER" in
init-error)
  curl -sS -o /dev/null -X POST \
    -H 'Lambda-Runtime-Function-Error-Type: Runtime.ConfigError' \
    -d '{"errorMessage":"TABLE_NAME is not set","errorType":"Runtime.ConfigError"}' \
    "$api/init/error"
  exit 1 ;;
init-hang)
  exec sleep 600 ;;
esac
headers=$(mktemp)
while true; do
  event=$(curl -sS -D "$headers" "$api/invocation/next") || exit 1
  id=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$headers" | tr -d '\r' |
       cut -d' ' -f2)
  echo "fake runtime got $id"
  case "$_HANDLER" in
  next-twice) ;;  # asks for the next event without answering this one
  too-large)
    head -c 7000000 /dev/zero | tr '\0' a > "$headers.big"
    curl -sS -o /dev/null -X POST --data-binary "@$headers.big" \
      "$api/invocation/$id/response" ;;
  hang) sleep 600 ;;
  *) curl -sS -o /dev/null -X POST -d "$event" \
       "$api/invocation/$id/response" ;;
  esac
done
"""

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023
    CodeUri: fake/
    Timeout: 60
Resources:
  InitError:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: init-error, Handler: init-error}
  InitHang:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: init-hang, Handler: init-hang}
  NextTwice:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: next-twice, Handler: next-twice}
  TooLarge:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: too-large, Handler: too-large}
  Hang:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: hang, Handler: hang}
  Echo:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: echo, Handler: echo}
  Stuck:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stuck
      Handler: init-hang
      ReservedConcurrentExecutions: 1
"""

QUEUE_MAX = 10000  # LK_QUEUE_MAX in emulator/runtime/runtime.h


def write_app():
    top = tempfile.mkdtemp(prefix="lambkin-fake-runtime-")
    os.mkdir(os.path.join(top, "fake"))
    boot = os.path.join(top, "fake", "bootstrap")
    with open(boot, "w") as f:
        f.write(BOOTSTRAP)
    os.chmod(boot, 0o755)
    with open(os.path.join(top, "template.yaml"), "w") as f:
        f.write(TEMPLATE)
    return top


def client(url, read_timeout=60):
    return boto3.client(
        "lambda", endpoint_url=url,
        config=botocore.config.Config(retries={"total_max_attempts": 1},
                                      read_timeout=read_timeout))


class RuntimeApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.top = write_app()
        cls.server = Server(template=os.path.join(cls.top, "template.yaml"))
        cls.lam = client(cls.server.url)

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)
        shutil.rmtree(cls.top, ignore_errors=True)

    def invoke(self, name, event=None):
        r = self.lam.invoke(FunctionName=name, LogType="Tail",
                            Payload=json.dumps(event or {}))
        r["body"] = json.loads(r["Payload"].read())
        r["log"] = base64.b64decode(r.get("LogResult", "")).decode()
        return r

    def assert_still_serving(self):
        r = self.invoke("echo", {"still": "here"})
        self.assertNotIn("FunctionError", r)
        self.assertEqual(r["body"], {"still": "here"})

    def test_init_error_reaches_the_caller_with_init_report(self):
        r = self.invoke("init-error")
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(r["body"],
                         {"errorMessage": "TABLE_NAME is not set",
                          "errorType": "Runtime.ConfigError"})
        self.assertRegex(r["log"],
                         r"INIT_REPORT Init Duration: [0-9.]+ ms\tPhase: init"
                         r"\tStatus: error\tError Type: Runtime.ConfigError")
        # START, END and REPORT, in that order, as Lambda logs them
        self.assertRegex(r["log"], r"INIT_REPORT[^\n]*\nSTART RequestId: "
                                   r"[-0-9a-f]{36}[^\n]*\nEND RequestId: "
                                   r"[-0-9a-f]{36}\nREPORT RequestId")
        self.assert_still_serving()

    def test_init_timeout(self):
        t0 = time.time()
        r = self.invoke("init-hang")
        self.assertGreaterEqual(time.time() - t0, 9)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(r["body"]["errorType"], "Sandbox.Timedout")
        self.assertIn("Task timed out during init after 10.00 seconds",
                      r["body"]["errorMessage"])
        self.assertRegex(r["log"], r"INIT_REPORT Init Duration: [0-9.]+ ms"
                                   r"\tPhase: init\tStatus: timeout")

    def test_next_without_answering_is_invalid_response(self):
        r = self.invoke("next-twice", {"n": 1})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(r["body"]["errorType"], "Runtime.InvalidResponse")
        # The instance lives on and takes the next event the same way.
        r = self.invoke("next-twice", {"n": 2})
        self.assertEqual(r["body"]["errorType"], "Runtime.InvalidResponse")

    def test_response_over_6mb_is_response_size_too_large(self):
        r = self.invoke("too-large")
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(r["body"]["errorType"],
                         "Function.ResponseSizeTooLarge")
        self.assertIn("6291556 bytes", r["body"]["errorMessage"])
        self.assert_still_serving()

    def test_queue_full_is_429(self):
        # stuck never finishes init, so async events pile up in its queue.
        c = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                       timeout=30)
        path = "/2015-03-31/functions/stuck/invocations"
        head = {"X-Amz-Invocation-Type": "Event",
                "Content-Type": "application/json"}
        accepted = 0
        for i in range(QUEUE_MAX + 50):
            c.request("POST", path, body=b'{"i":%d}' % i, headers=head)
            r = c.getresponse()
            r.read()
            if r.status != 202:
                break
            accepted += 1
        c.close()
        self.assertEqual(r.status, 429, "the queue never filled")
        self.assertGreaterEqual(accepted, QUEUE_MAX - 10)
        self.assertEqual(r.getheader("x-amzn-ErrorType"),
                         "TooManyRequestsException")
        with self.assertRaises(self.lam.exceptions.TooManyRequestsException):
            self.lam.invoke(FunctionName="stuck", InvocationType="Event",
                            Payload=b"{}")
        self.assert_still_serving()


class ShutdownTest(unittest.TestCase):
    def test_running_and_queued_callers_get_503(self):
        top = write_app()
        server = Server(template=os.path.join(top, "template.yaml"))
        lam = client(server.url)
        try:
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                running = pool.submit(lam.invoke, FunctionName="hang",
                                      Payload=b"{}")
                # stuck never becomes ready: this one waits in its queue.
                queued = pool.submit(lam.invoke, FunctionName="stuck",
                                     Payload=b"{}")
                deadline = time.time() + 30
                while "fake runtime got" not in server.output():
                    self.assertLess(time.time(), deadline,
                                    "hang never got its event")
                    time.sleep(0.05)
                time.sleep(0.3)  # stuck's event is queued by now
                out = stop_cleanly(server)
                for f in (running, queued):
                    with self.assertRaises(
                            botocore.exceptions.ClientError) as cm:
                        f.result(timeout=30)
                    err = cm.exception.response
                    self.assertEqual(
                        err["ResponseMetadata"]["HTTPStatusCode"], 503)
                    self.assertEqual(err["Error"]["Code"], "ServiceException")
                    self.assertIn("lambkin is stopping",
                                  err["Error"]["Message"])
                self.assertNotIn("Runtime.ExitError", out)
        finally:
            if server.proc.poll() is None:
                server.stop()
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
