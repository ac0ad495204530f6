"""lambkin fuzz on a C function, end to end: it builds the handler with
libFuzzer's instrumentation, seeds it with an S3 event, finds the
deliberate overflow in handlers/c/thumb_name.c, writes a reproducer, and
`lambkin replay` re-runs that event in the emulator (this ctest build is
sanitized, so the overflow shows there too)."""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import LAMBKIN  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "fuzz", "template.yaml")
VULN = os.path.join(os.path.dirname(os.path.dirname(HERE)), "handlers",
                    "vuln", "template.yaml")
# The bugs planted in the vulnerable app, one (class, function) each.
with open(os.path.join(os.path.dirname(VULN), "planted.json")) as f:
    PLANTED = [(p["class"], p["function"]) for p in json.load(f)]


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
            repros = glob.glob(os.path.join(out, "findings",
                                            "crash-thumb-c-*.json"))
            self.assertTrue(repros, p.stdout)
            with open(repros[0]) as f:
                rep = json.load(f)
            self.assertEqual((rep["class"], rep["function"], rep["source"]),
                             ("crash", "thumb-c", "s3"))
            self.assertIn("in thumb_name_handler < LLVMFuzzerTestOneInput",
                          rep["state"])
            self.assertIn("thumb_name.c:", rep["evidence"])
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
            self.assertIn('tests="16" failures="1"', junit)
            self.assertRegex(junit, r'<testcase classname="lambkin.fuzz.'
                             r'thumb-c" name="crash" time="\d+"><failure')
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

    def test_vulnerable_app_findings_twins_reports_and_replay(self):
        """Every planted bug of handlers/vuln is found within 2000 runs per
        function at a fixed seed; no clean twin has a finding in its 2000;
        each reproducer replays; SARIF and JUnit say the same. --first
        stops a function at its bug (the run is the suite's longest)."""
        with tempfile.TemporaryDirectory() as out:
            p = subprocess.run(
                [LAMBKIN, "fuzz", "-t", VULN, "--runs", "2000", "--seed",
                 "1", "--jobs", "1", "--first", "--out", out,
                 "--json", os.path.join(out, "r.json"),
                 "--sarif", os.path.join(out, "r.sarif"),
                 "--junit", os.path.join(out, "r.xml")],
                capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            with open(os.path.join(out, "r.json")) as f:
                rep = json.load(f)
            self.assertEqual(len(rep["functions"]), 44)
            fns = {f["function"]: f for f in rep["functions"]}
            # The python bootstrap reports line coverage of the task's code.
            self.assertGreater(fns["orders"].get("lines_covered", 0), 5)
            # The node bootstrap reports V8 block coverage of its code.
            self.assertGreater(fns["files"].get("blocks_covered", 0), 2)
            self.assertNotIn("lines_covered", fns["files"])
            found = [(f["class"], f["function"]) for f in rep["findings"]]
            # One finding per (class, function, sink): webhook's SSRF may
            # show at both DNS and connect.
            self.assertEqual(set(found), set(PLANTED), p.stdout)
            keys = [(f["class"], f["function"], f["sink"])
                    for f in rep["findings"]]
            self.assertEqual(len(keys), len(set(keys)))
            for f in rep["findings"]:
                with open(f["reproducer"]) as fh:
                    r = json.load(fh)
                self.assertEqual(os.path.basename(f["reproducer"]),
                                 "%s-%s-%s.json" % (r["class"], r["function"],
                                                    r["key"]))
                self.assertTrue(r["evidence"] and r["sink"])
                self.assertGreaterEqual(r["found_at_exec"], 0)
                json.loads(r["event"])  # the exact event, valid JSON
            ev = ev_fn = {f["function"]: f["evidence"] for f in rep["findings"]}
            for fn in ("convert", "archive-c"):  # python, and C in process
                self.assertRegex(ev[fn], r"^/bin/sh -c echo .*"
                                 r"lambkin-canary-cmd")
            ev = {f["class"]: f["evidence"] for f in rep["findings"]}
            # Whichever payload broke out of the literal first.
            self.assertRegex(ev["sql-injection"],
                             r"^SELECT .* FROM orders WHERE customer = '.*'"
                             r".*lambkin")
            self.assertIn("resolves to /lambkin-canary-path",
                          ev["path-traversal"])
            loops = {f["function"]: f for f in rep["findings"]
                     if f["class"] == "self-invocation"}
            self.assertIn("resize -> s3://photos/", loops["resize"]["evidence"])
            self.assertEqual(loops["resize"]["sink"], "via s3://photos")
            # In process, from the template's trigger of the C function.
            self.assertIn("via s3://media (key uploads/small/",
                          loops["shrink-c"]["evidence"])
            self.assertEqual(loops["shrink-c"]["sink"], "via s3://media")
            self.assertIn("leaks the secret access key",
                          ev["unhandled-error"])
            # The canaries say where the task's code handed event data over.
            self.assertIn("calc.js:", ev["code-injection"])
            self.assertIn("jobs.py:", ev["deserialization"])
            self.assertIn("pickle.loads", ev["deserialization"])
            self.assertIn("Object.prototype.lambkin_canary_proto",
                          ev["prototype-pollution"])
            self.assertRegex(ev["nosql-injection"],
                             r"^ProjectionExpression: .*lambkin_canary_nosql")
            sink = {f["function"]: f["sink"] for f in rep["findings"]}
            self.assertIn("in tag < tag_handler", sink["tag-c"])
            self.assertIn("stack-buffer-overflow", sink["note-c"])
            self.assertEqual(ev_fn["mailer"],
                             "the log carries the function's SMTP_PASSWORD")
            self.assertEqual(ev_fn["forward"], "a request (SendMessage) "
                             "carries the function's AWS_SECRET_ACCESS_KEY")
            # Behind "restart ", a word only the code's literals had.
            self.assertRegex(ev_fn["opsbot"], r"^/bin/sh -c echo restarting "
                             r".*lambkin-canary-cmd")
            # Behind "deploy:", which only its startsWith test held.
            self.assertRegex(ev_fn["deploy"], r"^/bin/sh -c echo deploying "
                             r".*lambkin-canary-cmd")

            with open(os.path.join(out, "r.sarif")) as f:
                sarif = json.load(f)
            run = sarif["runs"][0]
            self.assertEqual(len(run["tool"]["driver"]["rules"]), 16)
            rules = {r["id"] for r in run["tool"]["driver"]["rules"]}
            self.assertLessEqual({c for c, _ in PLANTED}, rules)
            self.assertEqual(len(run["results"]), len(found))
            for res in run["results"]:
                self.assertTrue(res["partialFingerprints"]["lambkinFinding/v1"])
                loc = res["locations"][0]["physicalLocation"]
                uri = loc["artifactLocation"]["uri"]
                if res["ruleId"] == "crash":
                    self.assertTrue(uri.endswith(("tag.c", "note.c")), uri)
                else:
                    self.assertTrue(uri.endswith("template.yaml") or
                                    uri.endswith(".py") or
                                    uri.endswith(".js"), uri)
                self.assertGreater(loc["region"]["startLine"], 0)

            with open(os.path.join(out, "r.xml")) as f:
                junit = f.read()
            self.assertIn('tests="%d" failures="%d"' %
                          (16 * len(rep["functions"]), len(found)), junit)
            self.assertRegex(junit, r'classname="lambkin\.fuzz\.settings" '
                             r'name="secret-leak" time="\d+"><failure')
            self.assertRegex(junit, r'classname="lambkin\.fuzz\.orders" '
                             r'name="sql-injection" time="\d+"><failure')
            self.assertRegex(junit, r'classname="lambkin\.fuzz\.orders-safe" '
                             r'name="sql-injection" time="\d+"></testcase>')

            for f in rep["findings"]:
                r = subprocess.run([LAMBKIN, "replay", f["reproducer"], "-t",
                                    VULN, "--state",
                                    os.path.join(out, "replay")],
                                   capture_output=True, text=True,
                                   timeout=120)
                self.assertEqual(r.returncode, 1, f["class"] + r.stderr)
                self.assertIn("%s finding on %s: reproduced" %
                              (f["class"], f["function"]), r.stderr)

            # The corpus persists and is reloaded by the next run.
            kept = os.listdir(os.path.join(out, "corpus", "orders"))
            self.assertGreater(len(kept), 1)
            p = subprocess.run(
                [LAMBKIN, "fuzz", "orders-safe", "-t", VULN, "--runs", "5",
                 "--out", out], capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertRegex(p.stdout, r"orders-safe +5 execs .*corpus "
                             r"([2-9]|\d\d+),")

            # A run replays the kept inputs first and deletes the files
            # that show nothing new (a merge): of an input and its copy,
            # one goes.
            cdir = os.path.join(out, "corpus", "orders")
            before = sorted(os.listdir(cdir))
            shutil.copy(os.path.join(cdir, before[0]),
                        os.path.join(cdir, "0-copy.json"))
            p = subprocess.run(
                [LAMBKIN, "fuzz", "orders", "-t", VULN, "--seed", "1",
                 "--jobs", "1", "--runs", str(len(before) + 1), "--out",
                 out],
                capture_output=True, text=True, timeout=120)
            self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)
            after = os.listdir(cdir)
            self.assertLessEqual(len(after), len(before))
            self.assertFalse("0-copy.json" in after and before[0] in after,
                             after)
            self.assertGreater(len(after), 0)

    def test_sink_reports_over_the_inherited_fd_or_the_named_file(self):
        """The runtime process reports over the fd the emulator passed
        down; a child that lost it (Python's subprocess closes it) opens
        the file the environment names. A number reused for another file
        is not written to."""
        sink = os.path.join(os.path.dirname(LAMBKIN), "liblambkin_sink.so")
        probe = ("import subprocess\n"
                 "try: open('/nonexistent/lambkin-canary-parent')\n"
                 "except OSError: pass\n"
                 "subprocess.run(['/bin/cat', '/nonexistent/lambkin-canary-"
                 "child'], stderr=subprocess.DEVNULL)\n")
        with tempfile.TemporaryDirectory() as d:
            rep, named = os.path.join(d, "fd.log"), os.path.join(d, "n.log")
            fd = os.open(rep, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            st = os.fstat(fd)
            env = dict(os.environ, LD_PRELOAD=sink, LAMBKIN_SINK_LOG=named,
                       LAMBKIN_SINK_FD=str(fd),
                       LAMBKIN_SINK_ID="%d:%d" % (st.st_dev, st.st_ino))
            subprocess.run(["/usr/bin/python3", "-c", probe], env=env,
                           pass_fds=(fd,), check=True, timeout=60)
            # The same number open on another file: the named file, only.
            other = os.open(os.path.join(d, "other"),
                            os.O_WRONLY | os.O_CREAT, 0o600)
            os.dup2(other, fd)
            subprocess.run(["/usr/bin/python3", "-c",
                            "open('/nonexistent/lambkin-canary-reused')"],
                           env=env, pass_fds=(fd,), timeout=60,
                           stderr=subprocess.DEVNULL)
            os.close(fd)
            os.close(other)
            with open(rep) as f:
                over_fd = f.read()
            with open(named) as f:
                by_name = f.read()
            with open(os.path.join(d, "other")) as f:
                self.assertEqual(f.read(), "")
        self.assertIn("open\t/nonexistent/lambkin-canary-parent", over_fd)
        self.assertNotIn("canary-parent", by_name)
        self.assertIn("exec\t/bin/cat /nonexistent/lambkin-canary-child",
                      by_name)
        self.assertIn("open\t/nonexistent/lambkin-canary-reused", by_name)

    def test_a_known_loop_is_counted_not_printed_again(self):
        sample = os.path.join(os.path.dirname(os.path.dirname(HERE)),
                              "handlers", "template.yaml")
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run(
                [LAMBKIN, "fuzz", "sqs-echoer", "-t", sample, "--time", "8",
                 "--out", os.path.join(d, "out"), "--seed", "1"],
                capture_output=True, text=True, timeout=300, cwd=d)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertRegex(p.stdout, r"self-invocation +sqs-echoer")
            # every mutated input walks the loop again; its line is
            # printed once
            self.assertEqual(p.stderr.count("LOOP detected: sqs-echoer -> "
                                            "sqs://ring -> sqs-echoer"), 1,
                             p.stderr)

    def test_bad_numbers_are_usage_errors(self):
        for flag, value in (("--time", "10x"), ("--jobs", "0"),
                            ("--runs", "-3"), ("--seed", "abc")):
            p = subprocess.run([LAMBKIN, "fuzz", "-t", VULN, flag, value],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, flag)
            self.assertIn("%s wants a number" % flag, p.stderr)

    def test_source_seeds_a_function_without_events(self):
        samples = os.path.join(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))), "handlers",
            "template.yaml")
        with tempfile.TemporaryDirectory() as out:
            p = subprocess.run(
                [LAMBKIN, "fuzz", "echo-python", "-t", samples, "--source",
                 "apigw-v2", "--runs", "150", "--out", out, "--json",
                 os.path.join(out, "r.json")],
                capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(os.path.join(out, "r.json")) as f:
                fn = json.load(f)["functions"][0]
            self.assertEqual((fn["source"], fn["findings"]), ("apigw-v2", 0))
            self.assertGreaterEqual(fn["execs"], 150)

    def test_seed_files_shape_a_function_without_events(self):
        samples = os.path.join(os.path.dirname(VULN), "..", "template.yaml")
        seeds = os.path.join(os.path.dirname(VULN), "corpora", "sqs")
        with tempfile.TemporaryDirectory() as out:
            p = subprocess.run(
                [LAMBKIN, "fuzz", "echo-python", "-t", samples, "--seeds",
                 seeds, "--runs", "50", "--out", out, "--json",
                 os.path.join(out, "r.json")],
                capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(os.path.join(out, "r.json")) as f:
                fn = json.load(f)["functions"][0]
            self.assertEqual((fn["source"], fn["execs"]), ("sqs", 50))
            self.assertGreater(fn["lines_covered"], 0)

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
