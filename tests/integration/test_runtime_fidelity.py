"""What a runtime sees of the Runtime API is what Lambda shows it. Two
runtimes drive it: AWS's own Node.js Runtime Interface Client (npm
aws-lambda-ric, installed by the test set-up) as a provided function,
and a bash runtime of the shape of the one in AWS's custom runtime
tutorial (a bootstrap that sources the handler's file and loops on
curl), written for this test: it reports the headers it was given,
prints after posting its answer, and can answer with any size. A python
function starts through AWS_LAMBDA_EXEC_WRAPPER.
"""
import base64
import http.client
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import ROOT, SANDBOX, Server, stop_cleanly  # noqa
from lambkin_server import write_tree  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402

# The tutorial's bootstrap: initialise, then process events in a loop.
BOOTSTRAP = r"""#!/bin/bash
set -euo pipefail
# Initialization - load function handler
. "$LAMBDA_TASK_ROOT/$(echo $_HANDLER | cut -d. -f1).sh"
# Processing
while true
do
  HEADERS="$(mktemp)"
  # Get an event. The HTTP request will block until one is received
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  # Extract request ID by scraping response headers received above
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  # Run the handler function from the script
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA" "$HEADERS")
  # Send the response
  printf '%s' "$RESPONSE" > "$HEADERS.out"
  curl -sS -o "$HEADERS.status" -w '%{http_code}' -X POST --data-binary "@$HEADERS.out" \
    "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" > "$HEADERS.code"
  echo "after the answer: $(cat "$HEADERS.code")"
  rm -f "$HEADERS" "$HEADERS.out" "$HEADERS.status" "$HEADERS.code"
done
"""

FUNCTION_SH = r"""
handler () {
  EVENT_DATA=$1
  HEADERS=$2
  case "$EVENT_DATA" in
  *'"size"'*)
    size=$(echo "$EVENT_DATA" | tr -dc 0-9)
    # a JSON string of exactly $size bytes: quotes and size-2 letters
    printf '"'; head -c $((size - 2)) /dev/zero | tr '\0' a; printf '"' ;;
  *)
    # the headers the runtime got, as a JSON object of lowercase names
    printf '{'
    tr -d '\r' < "$HEADERS" | grep -i '^lambda-runtime-' |
      sed 's/"/\\"/g; s/^\([^:]*\): *\(.*\)$/"\1": "\2"/' |
      tr 'A-Z' 'a-z' | paste -sd, -
    printf '}' ;;
  esac
}
"""

WRAPPER = """#!/bin/sh
export WRAPPED_BY=lambkin-test
exec "$@"
"""

PY_APP = """import os


def handler(event, context):
    return {"wrapped": os.environ.get("WRAPPED_BY")}
"""

# The RIC comes to the function as a layer (tests/js, where the set-up
# installs it): in the sandbox it is at /opt, wherever the checkout is.
JS = os.path.join(ROOT, "tests", "js")
RIC = os.path.join("/opt" if SANDBOX else JS, "node_modules", "aws-lambda-ric",
                   "bin", "index.mjs")
RIC_BOOTSTRAP = """#!/bin/sh
exec node "$RIC_BIN" "$_HANDLER"
"""
RIC_APP = """exports.handler = async (event, context) => {
  if (event.fail) throw new TypeError("asked to fail");
  console.log("from the handler");
  return { event, id: context.awsRequestId,
           clientContext: context.clientContext ?? null,
           identity: context.identity ?? null,
           trace: process.env._X_AMZN_TRACE_ID,
           remaining: context.getRemainingTimeInMillis() > 0 };
};
"""

# Response streaming through the global awslambda Lambda's Node runtime
# defines; the same file runs under lambkin's runtime and AWS's client.
STREAM_APP = """const { pipeline } = require("stream/promises");
const { Readable } = require("stream");

exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  if (event.http) {
    stream = awslambda.HttpResponseStream.from(stream, {
      statusCode: 201, headers: { "x-from": "stream" } });
  }
  await pipeline(Readable.from(["one ", "two ", Buffer.from([0xff, 0x0a])]),
                 stream);
});

exports.unfinished = awslambda.streamifyResponse(async (event, stream) => {
  stream.write("started");
});

exports.plain = (event, stream) => { stream.end("x"); };
exports.plain = awslambda.streamifyResponse(exports.plain);
"""

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  RicLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: %s}
  Ric:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: ric
      Runtime: provided.al2023
      Handler: app.handler
      CodeUri: ric/
      Layers: [!Ref RicLayer]
      Environment:
        Variables:
          RIC_BIN: %s
  Bash:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: bash-runtime
      Runtime: provided.al2023
      Handler: function.handler
      CodeUri: bash/
      Timeout: 60
  Wrapped:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: wrapped
      Runtime: python3.12
      Handler: app.handler
      CodeUri: py/
      Environment:
        Variables:
          AWS_LAMBDA_EXEC_WRAPPER: /var/task/wrapper.sh
  Stream:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stream
      Runtime: nodejs20.x
      Handler: stream.handler
      CodeUri: ric/
  StreamUnfinished:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stream-unfinished
      Runtime: nodejs20.x
      Handler: stream.unfinished
      CodeUri: ric/
  StreamPlain:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stream-plain
      Runtime: nodejs20.x
      Handler: stream.plain
      CodeUri: ric/
  RicStream:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: ric-stream
      Runtime: provided.al2023
      Handler: stream.handler
      CodeUri: ric/
      Layers: [!Ref RicLayer]
      Environment:
        Variables:
          RIC_BIN: %s
"""


def write_app():
    top = tempfile.mkdtemp(prefix="lambkin-fidelity-")
    files = {"bash/bootstrap": BOOTSTRAP, "bash/function.sh": FUNCTION_SH,
             "ric/bootstrap": RIC_BOOTSTRAP, "ric/app.js": RIC_APP,
             "ric/stream.js": STREAM_APP,
             "py/app.py": PY_APP, "py/wrapper.sh": WRAPPER,
             "template.yaml": TEMPLATE % (JS, RIC, RIC)}
    write_tree(top, files)
    return top


class RuntimeFidelityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.top = write_app()
        cls.server = Server(template=os.path.join(cls.top, "template.yaml"))
        cls.lam = boto3.client(
            "lambda", endpoint_url=cls.server.url,
            config=botocore.config.Config(retries={"total_max_attempts": 1},
                                          read_timeout=120))

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)
        shutil.rmtree(cls.top, ignore_errors=True)

    def invoke(self, name, event=None, **kw):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(event or {}),
                            **kw)
        r["raw"] = r["Payload"].read()
        return r

    def test_no_client_context_or_identity_unless_given(self):
        got = json.loads(self.invoke("bash-runtime")["raw"])
        self.assertIn("lambda-runtime-aws-request-id", got)
        self.assertNotIn("lambda-runtime-client-context", got)
        self.assertNotIn("lambda-runtime-cognito-identity", got)
        ctx = base64.b64encode(json.dumps(
            {"custom": {"app": "mobile"}}).encode()).decode()
        got = json.loads(self.invoke("bash-runtime", ClientContext=ctx)["raw"])
        self.assertIn("mobile", got["lambda-runtime-client-context"])

    def test_a_sampled_trace_stays_sampled(self):
        for sampled in ("1", "0"):
            c = http.client.HTTPConnection("127.0.0.1", self.server.port)
            c.request("POST", "/2015-03-31/functions/bash-runtime/invocations",
                      body=b"{}", headers={
                          "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a9"
                          "94272793;Parent=53995c3f42cd8ad8;Sampled=" +
                          sampled})
            got = json.loads(c.getresponse().read())
            c.close()
            trace = got["lambda-runtime-trace-id"]
            self.assertIn("root=1-5759e988-bd862e3fe1be46a994272793", trace)
            self.assertIn("sampled=" + sampled, trace)

    def test_the_response_limit_is_the_one_the_error_names(self):
        r = self.invoke("bash-runtime", {"size": 6291556})
        self.assertNotIn("FunctionError", r)
        self.assertEqual(len(r["raw"]), 6291556)
        r = self.invoke("bash-runtime", {"size": 6291557})
        self.assertEqual(r["FunctionError"], "Unhandled")
        body = json.loads(r["raw"])
        self.assertEqual(body["errorType"], "Function.ResponseSizeTooLarge")
        self.assertIn("(6291556 bytes)", body["errorMessage"])

    def test_output_after_the_answer_keeps_the_request_id(self):
        got = json.loads(self.invoke("bash-runtime")["raw"])
        rid = got["lambda-runtime-aws-request-id"]
        self.invoke("bash-runtime")  # its line is out by the next answer
        self.assertIn("[bash-runtime %s] after the answer: 202" % rid[:8],
                      self.server.output())

    def test_exec_wrapper_starts_a_managed_runtime(self):
        got = json.loads(self.invoke("wrapped")["raw"])
        self.assertEqual(got, {"wrapped": "lambkin-test"})


    def test_aws_node_runtime_interface_client(self):
        got = json.loads(self.invoke("ric", {"n": 1})["raw"])
        self.assertEqual(got["event"], {"n": 1})
        self.assertRegex(got["id"], r"^[0-9a-f-]{36}$")
        self.assertEqual((got["clientContext"], got["identity"]), (None, None))
        self.assertTrue(got["remaining"])
        self.assertRegex(got["trace"], r"^Root=1-[0-9a-f]{8}-")
        ctx = base64.b64encode(json.dumps(
            {"custom": {"app": "mobile"}}).encode()).decode()
        got = json.loads(self.invoke("ric", ClientContext=ctx)["raw"])
        self.assertEqual(got["clientContext"]["custom"], {"app": "mobile"})
        r = self.invoke("ric", {"fail": True})
        self.assertEqual(r["FunctionError"], "Unhandled")
        body = json.loads(r["raw"])
        self.assertEqual((body["errorType"], body["errorMessage"]),
                         ("TypeError", "asked to fail"))
        self.assertRegex(self.server.output(),
                         r"\[ric [0-9a-f]{8}\] \S+\t[0-9a-f-]{36}\tINFO\t"
                         r"from the handler")

    def test_response_streaming_as_lambda_and_aws_client_give_it(self):
        prelude = json.dumps({"statusCode": 201,
                              "headers": {"x-from": "stream"}},
                             separators=(",", ":")).encode() + bytes(8)
        for name in ("stream", "ric-stream"):
            r = self.invoke(name)
            self.assertNotIn("FunctionError", r, (name, r["raw"]))
            self.assertEqual(r["raw"], b"one two \xff\n", name)
            r = self.invoke(name, {"http": True})
            self.assertEqual(r["raw"], prelude + b"one two \xff\n", name)

    def test_a_streaming_handler_must_be_async_and_end_its_stream(self):
        for name, message in (
                ("stream-unfinished", "Response stream is not finished."),
                ("stream-plain",
                 "Streaming does not support non-async handlers.")):
            r = self.invoke(name)
            self.assertEqual(r["FunctionError"], "Unhandled", name)
            self.assertEqual(json.loads(r["raw"])["errorMessage"], message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
