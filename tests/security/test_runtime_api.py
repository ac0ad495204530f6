"""Another process on the machine cannot take over a function's Runtime
API. Each instance's endpoint is a loopback port anyone could connect to;
lambkin now takes connections only from the instance's own processes (its
session), so a local process that asks for the next event while the
function is busy gets nothing, and the real invocation ends as it should.
The runtime here is a shell bootstrap whose curl is a child process: the
function's own children are let in."""
import concurrent.futures
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integration"))
from lambkin_server import Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402

BOOTSTRAP = r"""#!/bin/sh
set -u
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
headers=$(mktemp)
while true; do
  event=$(curl -sS -D "$headers" "$api/invocation/next") || exit 1
  id=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$headers" | tr -d '\r' |
       cut -d' ' -f2)
  sleep 2
  curl -sS -o /dev/null -X POST -d "$event" "$api/invocation/$id/response"
done
"""

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Slow:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: slow
      Runtime: provided.al2023
      CodeUri: fake/
      Handler: slow
      Timeout: 30
"""


def runtime_api_of(server_pid):
    """AWS_LAMBDA_RUNTIME_API of the server's function process, as any
    process of the same user can read it."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != server_pid:
                continue
            with open("/proc/%s/environ" % pid, "rb") as f:
                for var in f.read().split(b"\0"):
                    if var.startswith(b"AWS_LAMBDA_RUNTIME_API="):
                        return var.split(b"=", 1)[1].decode()
        except (OSError, IndexError, ValueError):
            continue
    return None


class TakeoverTest(unittest.TestCase):
    def test_other_process_cannot_take_the_next_event(self):
        top = tempfile.mkdtemp(prefix="lambkin-rapi-")
        os.mkdir(os.path.join(top, "fake"))
        with open(os.path.join(top, "fake", "bootstrap"), "w") as f:
            f.write(BOOTSTRAP)
        os.chmod(os.path.join(top, "fake", "bootstrap"), 0o755)
        with open(os.path.join(top, "template.yaml"), "w") as f:
            f.write(TEMPLATE)
        server = Server(template=os.path.join(top, "template.yaml"))
        lam = boto3.client("lambda", endpoint_url=server.url,
                           config=botocore.config.Config(
                               retries={"total_max_attempts": 1},
                               read_timeout=60))
        try:
            r = lam.invoke(FunctionName="slow", Payload=b'{"warm":1}')
            self.assertEqual(json.loads(r["Payload"].read()), {"warm": 1})
            api = runtime_api_of(server.proc.pid)
            self.assertIsNotNone(api)
            host, port = api.split(":")
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                real = pool.submit(lam.invoke, FunctionName="slow",
                                   Payload=b'{"secret":42}')
                time.sleep(0.7)  # the function has the event, and sleeps
                s = socket.create_connection((host, int(port)), timeout=10)
                s.sendall(b"GET /2018-06-01/runtime/invocation/next "
                          b"HTTP/1.1\r\nHost: %s\r\n\r\n" % api.encode())
                try:
                    stolen = s.recv(65536)
                except ConnectionResetError:
                    stolen = b""
                s.close()
                self.assertEqual(stolen, b"")
                r = real.result(timeout=60)
            self.assertNotIn("FunctionError", r)
            self.assertEqual(json.loads(r["Payload"].read()), {"secret": 42})
        finally:
            stop_cleanly(server)
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
