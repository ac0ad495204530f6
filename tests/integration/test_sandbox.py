"""Lambda's file system: a function sees its code read-only at /var/task
(code that hard-codes /var/task works), its layers merged under /opt, and
a /tmp of its own; under `lambkin fuzz` the rest of the file system is
read-only to it, so a mutated event cannot overwrite the developer's
files. Where the kernel refuses user namespaces, lambkin says so and runs
functions as before: these tests are then skipped, and say why."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import LAMBKIN, write_tree, SANDBOX  # noqa: E402

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Tools:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: 'layer,v1:x/'}  # what overlayfs splits on
  Reader:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Layers: [!Ref Tools]
      Environment: {Variables: {TARGET: %s}}
      Events:
        Q:
          Type: SQS
          Properties: {Queue: !GetAtt Jobs.Arn}
  Jobs:
    Type: AWS::SQS::Queue
"""

APP = """\
import os


def attempt(path):
    try:
        with open(path, "w") as f:
            f.write("written")
        return "written"
    except OSError as e:
        return e.strerror


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError as e:
        return e.strerror


def handler(event, context):
    with open("/tmp/mine", "w") as f:
        f.write("private")
    return {
        "root": os.environ["LAMBDA_TASK_ROOT"],
        "cwd": os.getcwd(),
        "data": read("/var/task/bin/data.txt"),
        "layer": read("/opt/python/helper.py"),
        "task_write": attempt("/var/task/new.txt"),
        "target_write": attempt(os.environ["TARGET"]),
    }
"""


def outside_tmp():
    """A folder for a developer's tree that is not under /tmp (the build
    folder, else /var/tmp), wherever the checkout is."""
    for d in (os.path.dirname(os.path.realpath(LAMBKIN)), "/var/tmp"):
        if not d.startswith("/tmp/") and os.access(d, os.W_OK):
            return d
    return os.path.expanduser("~")


@unittest.skipUnless(SANDBOX, "this kernel refuses unprivileged user "
                     "namespaces: lambkin runs functions without /var/task")
class SandboxTest(unittest.TestCase):
    def setUp(self):
        # not under /tmp, which is the function's own: a developer's tree
        self.root = tempfile.mkdtemp(prefix="lambkin-sandbox-test-",
                                     dir=outside_tmp())
        self.target = os.path.join(self.root, "developer-file.txt")
        files = {"template.yaml": TEMPLATE % self.target, "src/app.py": APP,
                 "src/bin/data.txt": "tool data\n",
                 "layer,v1:x/python/helper.py": "FROM_LAYER = 1\n"}
        write_tree(self.root, files)

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def invoke(self, *extra):
        with tempfile.TemporaryDirectory() as state:
            p = subprocess.run(
                [LAMBKIN, "invoke", "Reader", "-q", "--state", state,
                 "-t", os.path.join(self.root, "template.yaml")] +
                list(extra), capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return json.loads(p.stdout)

    def test_code_at_var_task_layers_at_opt_private_tmp(self):
        got = self.invoke()
        self.assertEqual(got["root"], "/var/task")
        self.assertEqual(got["cwd"], "/var/task")
        self.assertEqual(got["data"], "tool data")
        self.assertEqual(got["layer"], "FROM_LAYER = 1")
        self.assertEqual(got["task_write"], "Read-only file system")
        self.assertFalse(os.path.exists(os.path.join(self.root, "src",
                                                     "new.txt")))
        # outside fuzzing, the rest of the file system is as it is
        self.assertEqual(got["target_write"], "written")
        self.assertTrue(os.path.exists(self.target))

    def test_tmp_is_the_instance_own(self):
        before = os.path.exists("/tmp/mine")
        self.invoke()
        self.assertEqual(os.path.exists("/tmp/mine"), before)

    def test_fuzzing_cannot_write_the_developer_files(self):
        with tempfile.TemporaryDirectory() as out:
            p = subprocess.run(
                [LAMBKIN, "fuzz", "Reader", "--runs", "30", "--out", out,
                 "-t", os.path.join(self.root, "template.yaml")],
                capture_output=True, text=True, timeout=300)
        self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"Reader +\d+ execs")
        self.assertFalse(os.path.exists(self.target),
                         "a fuzzed function wrote the developer's file")

    def test_no_sandbox_runs_in_the_code_folder(self):
        got = self.invoke("--no-sandbox")
        self.assertEqual(got["root"], os.path.realpath(
            os.path.join(self.root, "src")))
        self.assertEqual(got["data"], "No such file or directory")


if __name__ == "__main__":
    unittest.main(verbosity=2)
