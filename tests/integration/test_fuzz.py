"""lambkin fuzz on a C function, end to end: it builds the handler with
libFuzzer's instrumentation, seeds it with an S3 event, finds the
deliberate overflow in handlers/c/thumb_name.c, writes a reproducer, and
`lambkin replay` re-runs that event in the emulator (this ctest build is
sanitized, so the overflow shows there too)."""
import glob
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import LAMBKIN  # noqa: E402

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz",
                        "template.yaml")


class FuzzTest(unittest.TestCase):
    def test_finds_reports_and_replays(self):
        with tempfile.TemporaryDirectory() as out:
            p = subprocess.run(
                [LAMBKIN, "fuzz", "thumb-c", "echo-python", "-t", TEMPLATE,
                 "--time", "60", "--out", out, "--seed", "1",
                 "--sarif", os.path.join(out, "r.sarif"),
                 "--junit", os.path.join(out, "r.xml"),
                 "--json", os.path.join(out, "r.json")],
                capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("echo-python          skipped: no S3, SQS",
                          p.stdout)
            self.assertRegex(p.stdout, r"thumb-c +\d+ execs, [1-9]\d* finding")
            repros = glob.glob(os.path.join(out, "findings", "thumb-c",
                                            "crash-*.json"))
            self.assertTrue(repros, p.stdout)
            with open(repros[0]) as f:
                rep = json.load(f)
            self.assertEqual((rep["class"], rep["function"], rep["source"]),
                             ("crash", "thumb-c", "s3"))
            self.assertIn("thumb_name.c", rep["state"])
            rec = json.loads(rep["event"])["Records"][0]
            self.assertGreater(len(rec["s3"]["object"]["key"]), 31)
            with open(os.path.join(out, "r.sarif")) as f:
                sarif = json.load(f)
            res = sarif["runs"][0]["results"]
            self.assertEqual((sarif["version"], res[0]["ruleId"]),
                             ("2.1.0", "crash"))
            loc = res[0]["locations"][0]["physicalLocation"]
            self.assertTrue(loc["artifactLocation"]["uri"].endswith(
                "thumb_name.c"))
            self.assertGreater(loc["region"]["startLine"], 0)
            with open(os.path.join(out, "r.xml")) as f:
                junit = f.read()
            self.assertIn('tests="1" failures="1"', junit)
            self.assertIn('<testcase classname="lambkin.fuzz" '
                          'name="thumb-c"', junit)
            with open(os.path.join(out, "r.json")) as f:
                js = json.load(f)
            self.assertEqual(js["functions"][0]["function"], "thumb-c")
            self.assertGreater(js["functions"][0]["execs"], 0)
            self.assertEqual(len(js["findings"]), 1)
            r = subprocess.run([LAMBKIN, "replay", repros[0], "-t", TEMPLATE,
                                "--state", os.path.join(out, "state")],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("reproduced", r.stderr)
            self.assertNotIn("not reproduced", r.stderr)

    def test_process_mode_finds_unhandled_errors(self):
        with tempfile.TemporaryDirectory() as out:
            p = subprocess.run(
                [LAMBKIN, "fuzz", "task-python", "-t", TEMPLATE, "--time",
                 "10", "--jobs", "2", "--out", out, "--seed", "7",
                 "--json", os.path.join(out, "r.json")],
                capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            with open(os.path.join(out, "r.json")) as f:
                rep = json.load(f)
            fn = rep["functions"][0]
            self.assertEqual((fn["function"], fn["engine"], fn["source"]),
                             ("task-python", "process", "sqs"))
            self.assertGreater(fn["execs"], 100)
            kinds = {f["state"].split(":")[0] for f in rep["findings"]}
            self.assertTrue(kinds & {"JSONDecodeError", "KeyError",
                                     "AttributeError", "TypeError"}, kinds)
            self.assertEqual(len(kinds), len(rep["findings"]))  # deduped
            r = subprocess.run([LAMBKIN, "replay",
                                rep["findings"][0]["reproducer"], "-t",
                                TEMPLATE, "--state",
                                os.path.join(out, "replay")],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("reproduced", r.stderr)

    def test_source_seeds_a_function_without_events(self):
        samples = os.path.join(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))), "handlers",
            "template.yaml")
        with tempfile.TemporaryDirectory() as out:
            p = subprocess.run(
                [LAMBKIN, "fuzz", "echo-python", "-t", samples, "--source",
                 "apigw-v2", "--time", "3", "--out", out, "--json",
                 os.path.join(out, "r.json")],
                capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(os.path.join(out, "r.json")) as f:
                fn = json.load(f)["functions"][0]
            self.assertEqual((fn["source"], fn["findings"]), ("apigw-v2", 0))
            self.assertGreater(fn["execs"], 100)

    def test_no_driver_is_a_clear_error(self):
        env = dict(os.environ, LAMBKIN_FUZZ_DRIVER="/nonexistent/driver")
        p = subprocess.run([LAMBKIN, "fuzz", "thumb-c", "-t", TEMPLATE,
                            "--time", "1"],
                           capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("make build-fuzz", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
