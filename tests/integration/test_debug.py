"""--debug-port, as SAM CLI's: a node function starts under
--inspect-brk and a python one under debugpy, on 127.0.0.1:PORT; the
invocation waits for the debugger with its timeout off, and node's own
debugger client (`node inspect`) attaching and continuing lets it finish.
--debug-function picks the one function that gets the port."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import LAMBKIN, write_tree, free_port  # noqa: E402

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Timeout: 1}
Resources:
  Node:
    Type: AWS::Serverless::Function
    Properties: {Runtime: nodejs20.x, Handler: app.handler, CodeUri: node/}
  Py:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: py/}
"""


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class DebugTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="lambkin-debug-")
        files = {"template.yaml": TEMPLATE,
                 "node/app.js": "exports.handler = async (e) => "
                                "({ debugged: 'node', e });\n",
                 "py/app.py": "def handler(e, c):\n"
                              "    return {'debugged': 'python'}\n"}
        write_tree(self.root, files)

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, fn, port, *extra):
        return subprocess.Popen(
            [LAMBKIN, "invoke", fn, "-q", "--debug-port", str(port),
             "--state", os.path.join(self.root, "state"),
             "-t", os.path.join(self.root, "template.yaml")] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_listening(self, port, proc):
        deadline = time.time() + 30
        while time.time() < deadline and proc.poll() is None:
            if listening(port):
                return
            time.sleep(0.1)
        self.fail("nothing listens on the debug port")

    def test_node_waits_for_the_debugger_then_runs(self):
        port = free_port()
        p = self.start("Node", port)
        try:
            self.wait_listening(port, p)
            time.sleep(2)  # twice its Timeout: still waiting, not timed out
            self.assertIsNone(p.poll())
            dbg = subprocess.Popen(["node", "inspect", "127.0.0.1:%d" % port],
                                   stdin=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, text=True)
            time.sleep(3)  # attached, at the break on start
            dbg.stdin.write("cont\ncont\n")
            dbg.stdin.flush()
            out, err = p.communicate(timeout=60)
            dbg.kill()
            dbg.wait()
        finally:
            if p.poll() is None:
                p.terminate()
                p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(json.loads(out), {"debugged": "node", "e": {}})

    def test_python_listens_under_debugpy_without_a_timeout(self):
        port = free_port()
        p = self.start("Py", port, "--debug-function", "Py")
        try:
            self.wait_listening(port, p)
            time.sleep(2)
            self.assertIsNone(p.poll(), "the invocation ended")
        finally:
            p.terminate()  # lambkin stops its instances as it goes
            p.communicate(timeout=60)
        time.sleep(0.5)
        self.assertFalse(listening(port), "the instance outlived lambkin")

    def test_debug_function_leaves_the_others_alone(self):
        port = free_port()
        p = self.start("Py", port, "--debug-function", "Node")
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(json.loads(out), {"debugged": "python"})
        self.assertFalse(listening(port))


if __name__ == "__main__":
    unittest.main(verbosity=2)
