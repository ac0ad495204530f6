"""A function whose code lists dependencies it has not installed starts
with them, as after `sam build`: a node function's package.json is
installed by npm (from the npm registry; the test set-up reaches it),
a python function's requirements.txt by pip (here a wheel beside the
code, so no index is needed). Once: the next start, and every function
with the same files, use the same folder. --no-install leaves them out,
and the function fails as Lambda would without them."""
import io
import json
import os
import shutil
import sys
import tempfile
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import Server, stop_cleanly, write_tree  # noqa: E402

import boto3  # noqa: E402

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Timeout: 20}
Resources:
  NodeCjs:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node-cjs
      Runtime: nodejs20.x
      CodeUri: node/
      Handler: app.handler
  NodeEsm:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node-esm
      Runtime: nodejs20.x
      CodeUri: esm/
      Handler: app.handler
  Py:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: py
      Runtime: python3.12
      CodeUri: py/
      Handler: app.handler
"""

PACKAGE = json.dumps({"name": "deps-test", "version": "1.0.0",
                      "dependencies": {"is-number": "7.0.0"},
                      "devDependencies": {"left-pad": "1.3.0"}})
NODE_CJS = """const isNumber = require('is-number');
exports.handler = async (event) => ({ number: isNumber(event.n) });
"""
# An ES module by its package.json's "type", as the SAM templates for
# nodejs18.x and later make them.
ESM_PACKAGE = json.dumps({"name": "deps-esm", "type": "module",
                          "dependencies": {"is-number": "7.0.0"}})
NODE_ESM = """import isNumber from 'is-number';
export const handler = async (event) => ({ number: isNumber(event.n) });
"""
PY_APP = """import lkdemo


def handler(event, context):
    return {"twice": lkdemo.twice(event["n"])}
"""


def wheel():
    """A one-module wheel, made here (pip installs it with no index)."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("lkdemo/__init__.py", "def twice(x):\n    return 2 * x\n")
        z.writestr("lkdemo-1.0.dist-info/METADATA",
                   "Metadata-Version: 2.1\nName: lkdemo\nVersion: 1.0\n")
        z.writestr("lkdemo-1.0.dist-info/WHEEL",
                   "Wheel-Version: 1.0\nGenerator: test\n"
                   "Root-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("lkdemo-1.0.dist-info/RECORD", "")
    return b.getvalue()


class DepsTest(unittest.TestCase):
    def setUp(self):
        self.top = tempfile.mkdtemp(prefix="lambkin-deps-")
        write_tree(self.top, {
            "template.yaml": TEMPLATE, "node/package.json": PACKAGE,
            "node/app.js": NODE_CJS, "esm/package.json": ESM_PACKAGE,
            "esm/app.js": NODE_ESM,
            "py/app.py": PY_APP,
            "py/requirements.txt": "# built here\n"
                                   "./lkdemo-1.0-py3-none-any.whl\n"})
        with open(os.path.join(self.top, "py",
                               "lkdemo-1.0-py3-none-any.whl"), "wb") as f:
            f.write(wheel())
        self.state = os.path.join(self.top, "run")
        os.mkdir(self.state)

    def tearDown(self):
        shutil.rmtree(self.top, ignore_errors=True)

    def serve(self, *extra):
        return Server(*extra, template=os.path.join(self.top, "template.yaml"),
                      state=self.state)

    def invoke(self, server, name, event):
        lam = boto3.client("lambda", endpoint_url=server.url)
        r = lam.invoke(FunctionName=name, Payload=json.dumps(event))
        return r.get("FunctionError"), json.loads(r["Payload"].read())

    def test_dependencies_are_installed_once_and_found(self):
        server = self.serve()
        try:
            for name in ("node-cjs", "node-esm"):
                self.assertEqual(self.invoke(server, name, {"n": "12"}),
                                 (None, {"number": True}), name)
            self.assertEqual(self.invoke(server, "py", {"n": 21}),
                             (None, {"twice": 42}))
        finally:
            out = stop_cleanly(server)
        # one install for each package.json, one for requirements.txt
        self.assertEqual(out.count("installing"), 3, out)
        deps = os.path.join(self.state, "state", "deps")
        made = sorted(os.listdir(deps))
        self.assertEqual([d.split("-")[0] for d in made],
                         ["node", "node", "python"])
        for d in made[:2]:
            modules = os.listdir(os.path.join(deps, d, "node_modules"))
            self.assertIn("is-number", modules)
            self.assertNotIn("left-pad", modules)  # dev dependencies stay out
        # The user's code folder is left as it was.
        self.assertFalse(os.path.exists(os.path.join(self.top, "node",
                                                     "node_modules")))

        server = self.serve()  # the next start installs nothing
        try:
            self.assertEqual(self.invoke(server, "py", {"n": 2}),
                             (None, {"twice": 4}))
        finally:
            out = stop_cleanly(server)
        self.assertNotIn("installing", out)

    def test_no_install_leaves_them_out(self):
        server = self.serve("--no-install")
        try:
            err, body = self.invoke(server, "node-cjs", {"n": "1"})
            self.assertEqual((err, body["errorType"]),
                             ("Unhandled", "Runtime.ImportModuleError"))
            self.assertIn("is-number", body["errorMessage"])
            # and the error says where the dependencies would come from
            self.assertIn("unless --no-install", body["errorMessage"])
            err, body = self.invoke(server, "py", {"n": 1})
            self.assertEqual(body["errorType"], "Runtime.ImportModuleError")
            self.assertIn("No module named 'lkdemo'", body["errorMessage"])
            self.assertIn("unless --no-install", body["errorMessage"])
        finally:
            stop_cleanly(server)
        self.assertFalse(os.path.exists(os.path.join(self.state, "state",
                                                     "deps")))

    def test_a_failed_install_is_one_warning_and_tried_once(self):
        # Two functions share a package.json that names a package the
        # registry does not have.
        bad = json.dumps({"name": "bad", "dependencies": {
            "lambkin-test-no-such-package-0f3a": "1.0.0"}})
        write_tree(self.top, {"bad/package.json": bad,
                              "bad/app.js": NODE_CJS,
                              "template.yaml": TEMPLATE.replace(
                                  "CodeUri: node/", "CodeUri: bad/").replace(
                                  "CodeUri: esm/", "CodeUri: bad/")})
        server = self.serve()
        try:
            err, body = self.invoke(server, "node-cjs", {"n": "1"})
            self.assertEqual(body["errorType"], "Runtime.ImportModuleError")
            # the rest of the app serves
            self.assertEqual(self.invoke(server, "py", {"n": 3}),
                             (None, {"twice": 6}))
        finally:
            out = stop_cleanly(server)
        self.assertEqual(out.count("could not install"), 1, out)
        self.assertEqual(out.count("with npm"), 1, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
