"""Python instances forked from the fork server see what instances
started by exec see; two of them share no state; and --max-memory stops
idle instances, least recently used first, never one that is running.
Driven by boto3 against the real lambkin serve."""
import base64
import json
import os
import signal
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import SANDBOX, Server, stop_cleanly  # noqa: E402
from lambkin_server import write_tree  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    CodeUri: src
    Timeout: 30
    Environment:
      Variables:
        GREETING: hello
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: forks
  Probe:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: probe
      Handler: probe.handler
  Left:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: left
      Handler: shared.handler
  Right:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: right
      Handler: shared.handler
  Fat1:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: fat1
      Handler: fat.handler
  Fat2:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: fat2
      Handler: fat.handler
  Slow:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: slow
      Handler: fat.slow
"""

PROBE = '''import os, random, stat, sys, boto3

s3 = boto3.client("s3")  # at load, as most functions do
sts = boto3.client("sts")
ddb = boto3.resource("dynamodb")
PER_INSTANCE = ("AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_LOG_STREAM_NAME",
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "_X_AMZN_TRACE_ID")


def proc_environ():
    """The environment as other processes see it (ps e)."""
    with open("/proc/self/environ", "rb") as f:
        return dict(v.decode().split("=", 1) for v in f.read().split(bytes(1))
                    if b"=" in v)


def sockets():
    n = 0
    for fd in range(1024):
        try:
            n += stat.S_ISSOCK(os.fstat(fd).st_mode)
        except OSError:
            pass
    return n


def handler(event, context):
    key = "from-%d" % os.getpid()
    s3.put_object(Bucket="forks", Key=key, Body=b"written")
    body = s3.get_object(Bucket="forks", Key=key)["Body"].read().decode()
    with open("/tmp/mine", "w") as f:
        f.write("x")
    env = dict(os.environ)
    return {
        "ppid": os.getppid(),
        "env": {k: v for k, v in env.items() if k not in PER_INSTANCE},
        "per_instance": sorted(k for k in env if k in PER_INSTANCE),
        "key_shape": [env["AWS_ACCESS_KEY_ID"][:4],
                      env["AWS_SESSION_TOKEN"][:len("lambkin-probe-")]],
        "s3": body,
        "path": sys.path,
        "cwd": os.getcwd(),
        "tmp": sorted(n for n in os.listdir("/tmp")
                      if not n.startswith("lambkin-test-")),
        "main": sys.modules["__main__"].__file__,
        "argv": sys.argv,
        "context": [context.function_name, context.memory_limit_in_mb,
                    context.invoked_function_arn, context.log_group_name,
                    context.function_version,
                    context.get_remaining_time_in_millis() > 0,
                    context.log_stream_name == env["AWS_LAMBDA_LOG_STREAM_NAME"]],
        "random": random.random(),
        "caller": sts.get_caller_identity()["Arn"],
        "clients": [[c.meta.region_name,
                     c.meta.endpoint_url == env["AWS_ENDPOINT_URL"],
                     c.meta.config.user_agent, c.meta.config.retries,
                     c.meta.config.signature_version, c.meta.partition]
                    for c in (s3, sts, ddb.meta.client)],
        "same_session": s3.meta.events is not sts.meta.events,
        "sockets": sockets(),
        "search_paths": [boto3.Session()._loader.search_paths
                         for _ in range(3)][-1],
        # all but what the runtime set since it started
        "proc_environ": proc_environ() == {k: v for k, v in env.items()
                                           if k != "_X_AMZN_TRACE_ID"},
    }
'''

SHARED = '''import os, random

SEEN = []  # module state: each instance has its own


def handler(event, context):
    before = list(SEEN)
    SEEN.append(os.environ["AWS_LAMBDA_FUNCTION_NAME"])
    return {"before": before, "random": random.random(), "ppid": os.getppid()}
'''

FAT = '''import os, time

BALLAST = b"x" * (100 << 20)  # 100 MB of its own, resident


def handler(event, context):
    return {"fat": len(BALLAST), "ppid": os.getppid()}


def slow(event, context):
    time.sleep(6)
    return {"slow": "done"}
'''


def client(server):
    return boto3.client("lambda", endpoint_url=server.url,
                        config=botocore.config.Config(read_timeout=60,
                                                      retries={"max_attempts": 0}))


def invoke(server, name):
    """(payload, the log tail) of a synchronous invoke."""
    r = client(server).invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    return (json.loads(r["Payload"].read()),
            base64.b64decode(r["LogResult"]).decode())


class App:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lambkin-test-")
        write_tree(self.dir, {"template.yaml": TEMPLATE,
                              "src/probe.py": PROBE, "src/shared.py": SHARED,
                              "src/fat.py": FAT})
        self.template = os.path.join(self.dir, "template.yaml")


def forked_invoke(test, server, name):
    """An invoke answered by a forked instance: while the fork server is
    still loading, instances start by exec; those are reaped (idle 1 s)
    and the call made again."""
    deadline = time.time() + 90
    while True:
        out, log = invoke(server, name)
        if "ppid" not in out:
            test.fail("%s failed: %s\n%s" % (name, out, log))
        if out["ppid"] != server.proc.pid:
            return out, log
        if time.time() > deadline:
            test.fail("no instance of %s was forked" % name)
        time.sleep(2.5)


class ForkedLikeExecTest(unittest.TestCase):
    def setUp(self):
        fd, self.host_file = tempfile.mkstemp(prefix="host-only-", dir="/tmp")
        os.close(fd)

    def tearDown(self):
        os.unlink(self.host_file)

    def test_forked_instance_sees_what_an_exec_one_sees(self):
        app = App()
        forked = Server("--idle-timeout", "1", template=app.template)
        try:
            fork_out, _ = forked_invoke(self, forked, "probe")
        finally:
            stop_cleanly(forked)
        execd = Server("--no-fork-server", template=app.template)
        try:
            exec_out, _ = invoke(execd, "probe")
            self.assertEqual(exec_out["ppid"], execd.proc.pid)
        finally:
            stop_cleanly(execd)
        for field in ("env", "per_instance", "key_shape", "path", "cwd",
                      "main", "argv", "context", "caller", "clients",
                      "same_session", "proc_environ", "search_paths"):
            self.assertEqual(fork_out[field], exec_out[field], field)
        self.assertEqual(fork_out["s3"], "written")  # credentials work
        self.assertTrue(fork_out["proc_environ"])  # ps e shows its own
        # the fork server's sockets are not the function's to use
        self.assertEqual(fork_out["sockets"], exec_out["sockets"])
        self.assertEqual(fork_out["key_shape"], ["LKIA", "lambkin-probe-"])
        if SANDBOX:  # without it, /tmp is the machine's
            self.assertEqual(fork_out["tmp"], exec_out["tmp"])
            self.assertIn("mine", fork_out["tmp"])
            self.assertNotIn(os.path.basename(self.host_file),
                             fork_out["tmp"])  # its own /tmp
        self.assertEqual(fork_out["env"]["GREETING"], "hello")


class IsolationTest(unittest.TestCase):
    def test_two_forked_instances_share_nothing(self):
        app = App()
        server = Server("--idle-timeout", "1", template=app.template)
        try:
            left, _ = forked_invoke(self, server, "left")
            right, _ = forked_invoke(self, server, "right")
            again, _ = invoke(server, "right")
        finally:
            stop_cleanly(server)
        self.assertEqual(left["ppid"], right["ppid"])  # one fork server
        self.assertEqual(left["before"], [])
        self.assertEqual(right["before"], [])  # left's change is not here
        self.assertNotEqual(left["random"], right["random"])
        if again["ppid"] == right["ppid"]:  # the same warm instance
            self.assertEqual(again["before"], ["right"])


class ServerGoneTest(unittest.TestCase):
    def test_instances_start_by_exec_once_the_fork_server_is_gone(self):
        app = App()
        server = Server("--idle-timeout", "1", template=app.template)
        try:
            first, _ = forked_invoke(self, server, "left")
            os.kill(first["ppid"], signal.SIGKILL)  # the fork server
            deadline = time.time() + 30
            while "fork server exited" not in server.output():
                self.assertLess(time.time(), deadline, server.output())
                time.sleep(0.2)
            out, log = invoke(server, "left")
            self.assertEqual(out["ppid"], server.proc.pid)  # by exec
            self.assertEqual(out["before"], [])  # its forked one is gone
            self.assertIn("Init Duration", log)
        finally:
            stop_cleanly(server)


class MemoryBudgetTest(unittest.TestCase):
    def test_idle_instances_stop_least_recent_first_never_running(self):
        app = App()
        server = Server("--max-memory", "250M", template=app.template)
        try:
            slow = {}
            t = threading.Thread(
                target=lambda: slow.update(out=invoke(server, "slow")[0]))
            t.start()
            time.sleep(1.5)  # slow holds 100 MB and is running
            invoke(server, "fat1")
            time.sleep(0.2)
            invoke(server, "fat2")  # now past 250 MB: fat1 is the oldest idle
            deadline = time.time() + 20
            while "more than --max-memory" not in server.output():
                self.assertLess(time.time(), deadline, server.output())
                time.sleep(0.5)
            t.join(60)
            self.assertEqual(slow.get("out"), {"slow": "done"})
            _, log2 = invoke(server, "fat2")
            _, log1 = invoke(server, "fat1")
            out = stop_cleanly(server)
        except BaseException:
            server.stop()
            raise
        self.assertNotIn("Init Duration", log2)  # still warm
        self.assertIn("Init Duration", log1)  # stopped, so started again
        self.assertEqual(out.count("more than --max-memory"), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
