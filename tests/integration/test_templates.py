"""Templates shaped like the ones people have: every case in
tests/templates/ loads under `lambkin check` (never exit 2), says the
warnings its expect.json names, and `lambkin invoke` runs what lambkin
can run and answers the rest with why. One `serve` run shows a template
with a function lambkin cannot run still serves the others, to boto3.

expect.json of a case:
  args        extra options for check and invoke (parameters)
  invoke_args extra options for invoke only (--env-vars)
  template_file  the template's name when not template.yaml
  warnings    substrings that check's warnings must hold
  no_warnings true when check must say no warning at all
  invoke      function -> substring(s) of its answer to {}
  refuse      function -> substring of the error invoke answers with
  absent      functions a false Condition leaves out
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import LAMBKIN, ROOT, Server  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

CASES = sorted(glob.glob(os.path.join(ROOT, "tests", "templates", "*",
                                      "expect.json")))


def as_list(v):
    return v if isinstance(v, list) else [v]


class TemplateCase:
    def __init__(self, expect_path):
        self.dir = os.path.dirname(expect_path)
        self.name = os.path.basename(self.dir)
        with open(expect_path) as f:
            self.expect = json.load(f)
        self.template = os.path.join(
            self.dir, self.expect.get("template_file", "template.yaml"))
        self.args = self.expect.get("args", [])

    def run(self, *argv):
        invoke = argv[0] == "invoke"
        with tempfile.TemporaryDirectory() as state:
            return subprocess.run(
                [LAMBKIN] + list(argv) + ["-t", self.template] + self.args +
                (["--state", state] + self.expect.get("invoke_args", [])
                 if invoke else []),
                capture_output=True, text=True, timeout=120, cwd=self.dir)


class TemplatesTest(unittest.TestCase):
    def test_at_least_forty_cases(self):
        self.assertGreaterEqual(len(CASES), 40)

    def check_case(self, case):
        p = case.run("check")
        self.assertNotEqual(p.returncode, 2, p.stderr)
        warnings = [l for l in p.stderr.splitlines() if "warning:" in l]
        for w in case.expect.get("warnings", []):
            self.assertTrue(any(w in l for l in warnings),
                            "no warning %r in:\n%s" % (w, p.stderr))
        if case.expect.get("no_warnings"):
            self.assertEqual(warnings, [])

    def invoke_case(self, case):
        for fn, wants in case.expect.get("invoke", {}).items():
            p = case.run("invoke", fn, "-q")
            self.assertEqual(p.returncode, 0, fn + ": " + p.stderr)
            for want in as_list(wants):
                self.assertIn(want, p.stdout, fn)
        for fn, why in case.expect.get("refuse", {}).items():
            p = case.run("invoke", fn, "-q")
            self.assertEqual(p.returncode, 1, fn + ": " + p.stderr)
            self.assertIn(why, p.stdout, fn)
            self.assertIn('"errorType":"Runtime.Invalid', p.stdout, fn)
        for fn in case.expect.get("absent", []):
            p = case.run("invoke", fn, "-q")
            self.assertEqual(p.returncode, 2)
            self.assertIn("no function " + fn, p.stderr)

    def test_every_case(self):
        for path in CASES:
            case = TemplateCase(path)
            with self.subTest(case.name):
                self.check_case(case)
                self.invoke_case(case)

    def test_serve_answers_the_unrunnable_and_serves_the_rest(self):
        case = TemplateCase(os.path.join(ROOT, "tests", "templates",
                                         "runtime-java17", "expect.json"))
        srv = Server(template=case.template)
        try:
            lam = boto3.client("lambda", endpoint_url=srv.url,
                               config=Config(retries={"max_attempts": 0}))
            r = lam.invoke(FunctionName="Other", Payload=b"{}")
            self.assertEqual(r["FunctionError"], "Unhandled")
            body = json.loads(r["Payload"].read())
            self.assertEqual(body["errorType"], "Runtime.InvalidRuntime")
            self.assertIn("runtime java17 is not run by lambkin",
                          body["errorMessage"])
            r = lam.invoke(FunctionName="Works", Payload=b"{}")
            self.assertNotIn("FunctionError", r)
            self.assertEqual(json.loads(r["Payload"].read()), {"V_OK": "yes"})
            fn = lam.get_function(FunctionName="Other")["Configuration"]
            self.assertEqual(fn["Runtime"], "java17")
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main()
