"""Bugs found by reading the code, each kept as a regression test:
- a function with hundreds of environment variables still gets
  AWS_LAMBDA_RUNTIME_API (a fixed table once dropped it);
- a client context at Lambda's size limit, all control bytes, reaches a C
  function (escaped, it once passed the C bootstrap's header limit and
  killed the instance);
- a C function whose code folder holds the state folder builds, runs and
  fuzzes cleanly;
- start-up that fails half way (a port in use) stops cleanly, with nothing
  from the sanitizers."""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integration"))
from lambkin_server import (LAMBKIN, ROOT, TEMPLATE, Server,  # noqa: E402
                            stop_cleanly)

import boto3  # noqa: E402

ENV_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Many:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: many-env
      Runtime: python3.11
      CodeUri: code/
      Handler: env.handler
      Environment:
        Variables:
%s
"""

ENV_HANDLER = """import os
def handler(event, context):
    return {"n": sum(1 for k in os.environ if k.startswith("USER_VAR_")),
            "last": os.environ.get("USER_VAR_399"),
            "region": os.environ.get("AWS_REGION")}
"""

C_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Here:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: here-c
      Runtime: provided.al2023
      CodeUri: .
      Handler: here_handler
      Events:
        Q:
          Type: SQS
          Properties:
            Queue: arn:aws:sqs:us-east-1:123456789012:here-q
"""

C_HANDLER = """#include <lambkin/handler.h>
int here_handler(const lk_request_t *req, lk_response_t *res) {
  return lk_respond(res, req, "{}", 2);
}
"""


def sh(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True,
                          timeout=300, **kw)


class RobustnessTest(unittest.TestCase):
    def setUp(self):
        self.top = tempfile.mkdtemp(prefix="lambkin-robust-")

    def tearDown(self):
        shutil.rmtree(self.top, ignore_errors=True)

    def test_hundreds_of_environment_variables(self):
        os.mkdir(os.path.join(self.top, "code"))
        with open(os.path.join(self.top, "code", "env.py"), "w") as f:
            f.write(ENV_HANDLER)
        env = "\n".join("          USER_VAR_%d: v%d" % (i, i)
                        for i in range(400))
        env += "\n          AWS_REGION: eu-nowhere-1"  # reserved: Lambda's wins
        path = os.path.join(self.top, "template.yaml")
        with open(path, "w") as f:
            f.write(ENV_TEMPLATE % env)
        p = sh(LAMBKIN, "invoke", "many-env", "-t", path, "--state",
               os.path.join(self.top, "state"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout),
                         {"n": 400, "last": "v399", "region": "us-east-1"})

    def test_client_context_of_control_bytes(self):
        server = Server()
        try:
            lam = boto3.client("lambda", endpoint_url=server.url)
            # At most 3583 bytes of base64: 2687 bytes of JSON.
            ctx = '{"custom":{"k":"' + "\x01" * 2660 + '"}}'
            b64 = base64.b64encode(ctx.encode()).decode()
            self.assertLessEqual(len(b64), 3583)
            for _ in range(2):  # the instance survives and serves again
                r = lam.invoke(FunctionName="echo-c", Payload=b'{"cc":1}',
                               ClientContext=b64)
                self.assertNotIn("FunctionError", r)
                self.assertEqual(json.loads(r["Payload"].read()), {"cc": 1})
        finally:
            stop_cleanly(server)

    def test_c_function_whose_code_folder_holds_the_state(self):
        with open(os.path.join(self.top, "template.yaml"), "w") as f:
            f.write(C_TEMPLATE)
        with open(os.path.join(self.top, "here.c"), "w") as f:
            f.write(C_HANDLER)
        # The build product lands under the code folder: the C build once
        # freed its path, a stack array, as if it were a source's.
        state = os.path.join(self.top, ".lambkin")  # absolute, as fuzz's
        p = sh(LAMBKIN, "invoke", "here-c", "-t", "template.yaml",
               "--state", state, cwd=self.top)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "{}")
        p = sh(LAMBKIN, "invoke", "here-c", "-t", "template.yaml",
               "--state", state, cwd=self.top)  # again, the .so built
        self.assertEqual(p.returncode, 0, p.stderr)
        fuzz_build = os.path.join(ROOT, "build-fuzz", "fuzz")
        env = dict(os.environ,
                   LAMBKIN_FUZZ_DRIVER=os.path.join(fuzz_build,
                                                    "fuzz_handler"))
        if not os.path.exists(env["LAMBKIN_FUZZ_DRIVER"]):
            self.skipTest("needs build-fuzz (make build-fuzz)")
        p = sh(LAMBKIN, "fuzz", "-t", "template.yaml", "--runs", "200",
               "--seed", "1", cwd=self.top, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("Sanitizer", p.stderr)
        self.assertIn("here-c", p.stdout + p.stderr)

    def test_failed_start_stops_cleanly(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        try:
            for flag in ("--port", "--api-port"):
                other = "--api-port" if flag == "--port" else "--port"
                p = sh(LAMBKIN, "serve", "-t", TEMPLATE, flag, str(port),
                       other, "0", "--state", os.path.join(self.top, "s"))
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("cannot listen", p.stderr)
                self.assertNotIn("Sanitizer", p.stderr)
                self.assertNotIn("runtime error", p.stderr)
        finally:
            busy.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
