"""The fuzzer's sink library must not break the programs it watches. A
library that bundles its own SQLite (loaded privately, as Node loads an
addon) still gets its own SQLite's answers through the sink's wrappers,
which report the statements; and a statement passed with its length is
never read past that length (here it ends at an unreadable page).

And the sink's folder, which a fuzzed function may write, is no way
into the developer's files: a function that swaps its report file for a
link to another file, or for a FIFO, while lambkin notes its service
calls there and empties the file after each invocation, neither changes
that file nor hangs lambkin."""
import os
import subprocess
import sys
import tempfile
import unittest

LAMBKIN = os.environ.get("LAMBKIN_BIN", "build/lambkin")
SINK = os.path.join(os.path.dirname(os.path.abspath(LAMBKIN)),
                    "liblambkin_sink.so")

BUNDLED = r"""
/* Stands in for an addon with SQLite compiled in. Its answers are not
 * SQLITE_OK, so the sink reports them as errors; the point is that they
 * are its own. */
int sqlite3_exec(void *db, const char *sql, void *cb, void *arg, char **err) {
  (void)db; (void)sql; (void)cb; (void)arg; (void)err;
  return 42;
}
int sqlite3_prepare_v2(void *db, const char *sql, int n, void **st,
                       const char **tail) {
  (void)db; (void)sql; (void)n; (void)st; (void)tail;
  return 43;
}
int run(void) { return sqlite3_exec(0, "select 'lambkin-x'", 0, 0, 0); }
int run_edge(const char *sql, int n) {
  return sqlite3_prepare_v2(0, sql, n, 0, 0);
}
"""

MAIN = r"""
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  int (*run)(void) = (int (*)(void))dlsym(h, "run");
  int (*edge)(const char *, int) = (int (*)(const char *, int))dlsym(h, "run_edge");
  long pg = sysconf(_SC_PAGESIZE);
  char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  (void)argc;
  mprotect(m + pg, pg, PROT_NONE);
  memcpy(m + pg - 16, "select 'lambkin'", 16); /* no NUL: the page ends */
  printf("exec=%d\n", run());
  printf("prepare=%d\n", edge(m + pg - 16, 16));
  return 0;
}
"""


class SinkTest(unittest.TestCase):
    def test_bundled_sqlite_keeps_working(self):
        with tempfile.TemporaryDirectory() as d:
            for name, src in (("bundled.c", BUNDLED), ("main.c", MAIN)):
                with open(os.path.join(d, name), "w") as f:
                    f.write(src)
            so = os.path.join(d, "libbundled.so")
            exe = os.path.join(d, "main")
            subprocess.run(["cc", "-shared", "-fPIC", "-o", so,
                            os.path.join(d, "bundled.c")], check=True)
            subprocess.run(["cc", "-o", exe, os.path.join(d, "main.c"),
                            "-ldl"], check=True)
            report = os.path.join(d, "report.log")
            env = dict(os.environ, LD_PRELOAD=SINK, LAMBKIN_SINK_LOG=report)
            p = subprocess.run([exe, so], env=env, capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.split(), ["exec=42", "prepare=43"])
            with open(report) as f:
                lines = [l.split("\t") for l in f.read().splitlines()]
            self.assertEqual([(l[0], l[1]) for l in lines],
                             [("sql-error", "select 'lambkin-x'"),
                              ("sql-error", "select 'lambkin'")])


HIJACK = r"""
import os

import boto3


def handler(event, context):
    report = os.environ["LAMBKIN_SINK_LOG"]
    if os.path.lexists(report):
        os.unlink(report)
    if os.environ["MODE"] == "link":
        os.symlink(os.environ["VICTIM"], report)
    else:
        os.mkfifo(report)
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="written to the report")
    return "ok"
"""

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {QueueName: jobs}
  Hijack:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: hijack
      Runtime: python3.11
      CodeUri: src
      Handler: app.handler
      Environment:
        Variables: {MODE: %s, VICTIM: %s}
      Events:
        Jobs: {Type: SQS, Properties: {Queue: !GetAtt Jobs.Arn}}
"""


class SinkFolderTest(unittest.TestCase):
    def run_hijack(self, mode):
        with tempfile.TemporaryDirectory() as d:
            victim = os.path.join(d, "victim.txt")
            with open(victim, "w") as f:
                f.write("the developer's file\n")
            os.mkdir(os.path.join(d, "src"))
            with open(os.path.join(d, "src", "app.py"), "w") as f:
                f.write(HIJACK)
            with open(os.path.join(d, "template.yaml"), "w") as f:
                f.write(TEMPLATE % (mode, victim))
            p = subprocess.run([LAMBKIN, "fuzz", "hijack", "-t",
                                os.path.join(d, "template.yaml"), "--runs",
                                "20", "--jobs", "1", "--out",
                                os.path.join(d, "out")],
                               capture_output=True, text=True, timeout=120)
            self.assertIn("hijack", p.stdout, p.stderr)
            self.assertRegex(p.stdout, r"hijack +20 execs", p.stderr)
            with open(victim) as f:
                self.assertEqual(f.read(), "the developer's file\n")

    def test_a_link_in_place_of_the_report_is_not_followed(self):
        self.run_hijack("link")

    def test_a_fifo_in_place_of_the_report_does_not_hang_lambkin(self):
        self.run_hijack("fifo")


if __name__ == "__main__":
    unittest.main(verbosity=2)
