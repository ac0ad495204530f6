"""What `sam build` builds, built by lambkin when there is no build
output: a TypeScript function of Metadata BuildMethod esbuild is bundled
with its BuildProperties (and bundled again when its source changes
under serve), and a layer with a BuildMethod is laid out as sam build
lays it out (python/, nodejs/) with its requirements.txt or package.json
installed, so what the function imports from it is found. The npm
registry is reached by the test set-up; the python layer's requirement
is a wheel beside it, so no index is needed."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import (LAMBKIN, Server, stop_cleanly,  # noqa: E402
                            write_tree)
from test_deps import wheel  # noqa: E402

import boto3  # noqa: E402

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Timeout: 20}
Resources:
  Ts:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: ts
      Runtime: nodejs20.x
      CodeUri: ts/
      Handler: app.handler
    Metadata:
      BuildMethod: esbuild
      BuildProperties:
        Minify: true
        Target: es2020
        EntryPoints: [src/app.ts]
  TsEsm:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: ts-esm
      Runtime: nodejs20.x
      CodeUri: ts/
      Handler: s3.handler
    Metadata:
      BuildMethod: esbuild
      BuildProperties:
        Format: esm
        OutExtension: [.js=.mjs]
        External: ['@aws-sdk/*']
        EntryPoints: [src/s3.ts]
  Bucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: built-bucket}
  PyLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: py_layer/
      CompatibleRuntimes: [python3.12]
    Metadata:
      BuildMethod: python3.12
  NodeLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: node_layer/
    Metadata:
      BuildMethod: nodejs20.x
  Py:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: py
      Runtime: python3.12
      CodeUri: py/
      Handler: app.handler
      Layers: [!Ref PyLayer]
  Node:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node
      Runtime: nodejs20.x
      CodeUri: node/
      Handler: app.handler
      Layers: [!Ref NodeLayer]
"""

PACKAGE = json.dumps({"name": "ts-app", "version": "1.0.0",
                      "dependencies": {"is-number": "7.0.0"},
                      "devDependencies": {"typescript": "5.4.5"}})
TS_APP = """import isNumber from 'is-number';
import { twice } from './lib/math';

interface Event { n: string }

export const handler = async (event: Event): Promise<object> => {
  return { twice: twice(Number(event.n)), number: isNumber(event.n) };
};
"""
TS_MATH = """export function twice(x: number): number {
  return 2 * x;
}
"""
# An ES module whose SDK is left External: the runtime's own resolves,
# and its call reaches lambkin with no endpoint in the code.
TS_S3 = """import { S3Client, ListBucketsCommand } from '@aws-sdk/client-s3';

const s3 = new S3Client({});

export const handler = async (): Promise<string[]> => {
  const out = await s3.send(new ListBucketsCommand({}));
  return (out.Buckets ?? []).map((b) => b.Name as string);
};
"""
PY_APP = """import os

import lkdemo
import shared


def handler(event, context):
    return {"twice": lkdemo.twice(event["n"]), "hello": shared.hello(),
            "in_opt": os.path.exists("/opt/python/shared.py")}
"""
NODE_APP = """const fs = require('fs');
const isNumber = require('is-number');

exports.handler = async (event) => ({
  number: isNumber(event.n),
  in_opt: fs.existsSync('/opt/nodejs/node_modules/is-number'),
});
"""


class SamBuildTest(unittest.TestCase):
    def setUp(self):
        self.top = tempfile.mkdtemp(prefix="lambkin-build-")
        write_tree(self.top, {
            "template.yaml": TEMPLATE, "ts/package.json": PACKAGE,
            "ts/src/app.ts": TS_APP, "ts/src/lib/math.ts": TS_MATH,
            "ts/src/s3.ts": TS_S3,
            "py/app.py": PY_APP,
            "py_layer/shared.py": "def hello():\n    return 'from layer'\n",
            "py_layer/requirements.txt": "./lkdemo-1.0-py3-none-any.whl\n",
            "node/app.js": NODE_APP,
            "node_layer/package.json": json.dumps(
                {"name": "layer", "dependencies": {"is-number": "7.0.0"}})})
        with open(os.path.join(self.top, "py_layer",
                               "lkdemo-1.0-py3-none-any.whl"), "wb") as f:
            f.write(wheel())
        self.state = os.path.join(self.top, "run")
        os.mkdir(self.state)

    def tearDown(self):
        shutil.rmtree(self.top, ignore_errors=True)

    def invoke(self, server, name, event):
        lam = boto3.client("lambda", endpoint_url=server.url)
        r = lam.invoke(FunctionName=name, Payload=json.dumps(event))
        return r.get("FunctionError"), json.loads(r["Payload"].read())

    def test_typescript_is_bundled_and_rebundled_on_a_change(self):
        server = Server(template=os.path.join(self.top, "template.yaml"),
                        state=self.state)
        try:
            self.assertEqual(self.invoke(server, "ts", {"n": "21"}),
                             (None, {"twice": 42, "number": True}))
            self.assertEqual(self.invoke(server, "ts-esm", {}),
                             (None, ["built-bucket"]))
            with open(os.path.join(self.top, "ts/src/lib/math.ts"), "w") as f:
                f.write(TS_MATH.replace("2 * x", "3 * x"))
            got = None
            for _ in range(100):
                time.sleep(0.1)
                got = self.invoke(server, "ts", {"n": "2"})
                if got != (None, {"twice": 4, "number": True}):
                    break
            self.assertEqual(got, (None, {"twice": 6, "number": True}))
        finally:
            out = stop_cleanly(server)
        self.assertNotIn("esbuild could not", out)
        # the bundle is lambkin's; the source folder has no output in it
        self.assertEqual(sorted(os.listdir(os.path.join(self.top, "ts"))),
                         ["package.json", "src"])
        bundles = os.listdir(os.path.join(self.state, "state", "build"))
        self.assertEqual(len(bundles), 2, bundles)

    def test_a_second_lambkin_leaves_the_bundle_in_use_in_place(self):
        # Another lambkin on the same state folder bundles the same code
        # at its start: the files the first one's instances run from stay
        # (replacing them could pull a bundle from under an instance
        # that is loading it).
        server = Server(template=os.path.join(self.top, "template.yaml"),
                        state=self.state)
        try:
            self.assertEqual(self.invoke(server, "ts", {"n": "1"}),
                             (None, {"twice": 2, "number": True}))
            build = os.path.join(self.state, "state", "build")
            dirs = [d for d in os.listdir(build)
                    if d.startswith("ts-") and not d.startswith("ts-esm-")]
            bundle = os.path.join(build, dirs[0], "app.js")
            before = os.stat(bundle).st_ino
            p = subprocess.run(
                [LAMBKIN, "invoke", "ts", "-q", "--no-watch", "-e", "-",
                 "-t", os.path.join(self.top, "template.yaml"),
                 "--state", os.path.join(self.state, "state")],
                input=b'{"n": "4"}', capture_output=True, timeout=300)
            self.assertEqual((p.returncode, json.loads(p.stdout)),
                             (0, {"twice": 8, "number": True}),
                             p.stderr.decode())
            self.assertEqual(os.stat(bundle).st_ino, before)
        finally:
            stop_cleanly(server)

    def test_a_type_error_keeps_the_last_bundle(self):
        server = Server(template=os.path.join(self.top, "template.yaml"),
                        state=self.state)
        try:
            self.assertEqual(self.invoke(server, "ts", {"n": "1"}),
                             (None, {"twice": 2, "number": True}))
            with open(os.path.join(self.top, "ts/src/lib/math.ts"), "w") as f:
                f.write("export function twice(x: number { return x }\n")
            deadline = time.time() + 10
            while "esbuild could not" not in server.output() and \
                    time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(self.invoke(server, "ts", {"n": "5"}),
                             (None, {"twice": 10, "number": True}))
        finally:
            out = stop_cleanly(server)
        self.assertIn("esbuild could not bundle ts (above); it runs from "
                      "its last bundle", out)

    def test_layers_are_built_as_sam_build_builds_them(self):
        server = Server(template=os.path.join(self.top, "template.yaml"),
                        state=self.state)
        try:
            err, body = self.invoke(server, "py", {"n": 4})
            self.assertIsNone(err, body)
            self.assertEqual((body["twice"], body["hello"]), (8, "from layer"))
            err, node = self.invoke(server, "node", {"n": "3"})
            self.assertEqual((err, node["number"]), (None, True))
        finally:
            out = stop_cleanly(server)
        self.assertEqual(out.count("building layer"), 2, out)
        if "cannot make namespaces" not in out:  # /opt is Lambda's layout
            self.assertTrue(body["in_opt"])
            self.assertTrue(node["in_opt"])
        # the layer's source folder is left as it was
        self.assertEqual(sorted(os.listdir(os.path.join(self.top,
                                                        "node_layer"))),
                         ["package.json"])
        server = Server(template=os.path.join(self.top, "template.yaml"),
                        state=self.state)
        try:  # built once: the next start reuses the build
            self.assertEqual(self.invoke(server, "py", {"n": 1})[1]["twice"],
                             2)
        finally:
            out = stop_cleanly(server)
        self.assertNotIn("building layer", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
