"""Edits take effect at once: while `lambkin serve` runs, editing a
python, a node and a C handler makes the next invoke return the new
result (the C one rebuilt), an invocation in flight during the edit
finishes on the old code, and `--no-watch` keeps the old code."""
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Py:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: py/,
                 Timeout: 30}
  Node:
    Type: AWS::Serverless::Function
    Properties: {Runtime: nodejs20.x, Handler: app.handler, CodeUri: node/}
  C:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, Handler: version_handler,
                 CodeUri: c/}
"""

PY = """\
import time

VERSION = %d


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"version": VERSION}
"""
NODE = "exports.handler = async () => ({ version: %d });\n"
C = """\
#include <lambkin/handler.h>

int version_handler(const lk_request_t *req, lk_response_t *res);

int version_handler(const lk_request_t *req, lk_response_t *res) {
  static const char out[] = "{\\"version\\": %d}";

  return lk_respond(res, req, out, sizeof(out) - 1);
}
"""
FILES = {"py/app.py": PY, "node/app.js": NODE, "c/handler.c": C}


def write(root, rel, version):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(FILES[rel] % version)
    os.replace(path + ".tmp", path)  # as editors save: a new file


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="lambkin-reload-")
        with open(os.path.join(self.root, "template.yaml"), "w") as f:
            f.write(TEMPLATE)
        for rel in FILES:
            write(self.root, rel, 1)

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, *extra):
        srv = Server(*extra, template=os.path.join(self.root, "template.yaml"))
        lam = boto3.client("lambda", endpoint_url=srv.url,
                           config=Config(retries={"max_attempts": 0},
                                         read_timeout=60))
        return srv, lam

    @staticmethod
    def version(lam, fn, event=None):
        r = lam.invoke(FunctionName=fn, Payload=json.dumps(event or {}))
        body = json.loads(r["Payload"].read())
        if "FunctionError" in r:
            raise AssertionError("%s failed: %s" % (fn, body))
        return body["version"]

    def wait_for(self, lam, fn, want):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.version(lam, fn) == want:
                return
            time.sleep(0.1)
        self.fail("%s still answers the old code" % fn)

    def test_edits_take_effect_and_in_flight_finishes_old(self):
        srv, lam = self.start()
        try:
            for fn in ("Py", "Node", "C"):
                self.assertEqual(self.version(lam, fn), 1)
            # one invocation in flight on the old code during the edit
            got = {}
            slow = threading.Thread(target=lambda: got.setdefault(
                "v", self.version(lam, "Py", {"sleep": 2})))
            slow.start()
            time.sleep(0.7)
            write(self.root, "py/app.py", 2)
            write(self.root, "node/app.js", 2)
            write(self.root, "c/handler.c", 2)
            for fn in ("Py", "Node", "C"):
                self.wait_for(lam, fn, 2)
            slow.join()
            self.assertEqual(got.get("v"), 1)
        finally:
            out = stop_cleanly(srv)
        self.assertIn("Py: code changed", out)
        self.assertIn("C: code changed", out)

    def test_a_folder_made_after_start_is_watched(self):
        srv, lam = self.start()
        try:
            self.assertEqual(self.version(lam, "Node"), 1)
            # a new folder, then a file in it that the handler uses
            os.makedirs(os.path.join(self.root, "node", "lib", "deep"))
            time.sleep(0.3)
            with open(os.path.join(self.root, "node", "app.js"), "w") as f:
                f.write("exports.handler = async () => "
                        "require('./lib/deep/v.js');\n")
            lib = os.path.join(self.root, "node", "lib", "deep", "v.js")
            with open(lib, "w") as f:
                f.write("module.exports = { version: 5 };\n")
            self.wait_for(lam, "Node", 5)
            time.sleep(1)  # every change settled: a warm instance has v.js
            self.assertEqual(self.version(lam, "Node"), 5)
            # an edit inside the new folder alone is seen
            with open(lib, "w") as f:
                f.write("module.exports = { version: 6 };\n")
            self.wait_for(lam, "Node", 6)
        finally:
            stop_cleanly(srv)

    def test_a_bytecode_cache_is_not_a_change(self):
        srv, lam = self.start()
        try:
            self.assertEqual(self.version(lam, "Py"), 1)
            cache = os.path.join(self.root, "py", "__pycache__")
            os.makedirs(cache, exist_ok=True)
            with open(os.path.join(cache, "app.cpython-311.pyc"), "wb") as f:
                f.write(b"\0" * 16)
            time.sleep(0.5)
        finally:
            out = stop_cleanly(srv)
        self.assertNotIn("code changed", out)

    def test_a_template_edit_reloads_the_app_and_keeps_the_data(self):
        srv, lam = self.start()
        path = os.path.join(self.root, "template.yaml")
        try:
            s3 = boto3.client("s3", endpoint_url=srv.url)
            s3.create_bucket(Bucket="kept")
            s3.put_object(Bucket="kept", Key="k", Body=b"still here")
            with open(path, "a") as f:  # a broken edit: the old app stays
                f.write("  Broken: [\n")
            time.sleep(1)
            self.assertEqual(self.version(lam, "Py"), 1)
            with open(path, "w") as f:
                f.write(TEMPLATE + """\
  Added:
    Type: AWS::Serverless::Function
    Properties: {Runtime: nodejs20.x, Handler: app.handler, CodeUri: node/}
  NewBucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: added-bucket}
""")
            deadline = time.time() + 20
            while time.time() < deadline and "reloaded" not in srv.output():
                time.sleep(0.1)
            self.assertEqual(self.version(lam, "Added"), 1)
            self.assertEqual(self.version(lam, "Py"), 1)
            self.assertEqual(s3.get_object(Bucket="kept", Key="k")["Body"]
                             .read(), b"still here")
            s3.head_bucket(Bucket="added-bucket")
        finally:
            out = stop_cleanly(srv)
        self.assertIn("does not load: still serving the last one", out)
        self.assertIn("template.yaml changed: reloaded, 4 function(s)", out)

    def test_no_watch_keeps_the_old_code(self):
        srv, lam = self.start("--no-watch")
        try:
            self.assertEqual(self.version(lam, "Node"), 1)
            write(self.root, "node/app.js", 2)
            time.sleep(1)
            self.assertEqual(self.version(lam, "Node"), 1)
        finally:
            stop_cleanly(srv)


if __name__ == "__main__":
    unittest.main(verbosity=2)
