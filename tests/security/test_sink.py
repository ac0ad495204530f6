"""The fuzzer's sink library must not break the programs it watches. A
library that bundles its own SQLite (loaded privately, as Node loads an
addon) still gets its own SQLite's answers through the sink's wrappers,
which report the statements; and a statement passed with its length is
never read past that length (here it ends at an unreadable page)."""
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
