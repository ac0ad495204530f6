"""The journal cannot be forged through a header: a trace header built to
close the JSON string and add its own "event" lands escaped, the chain gets
a root of its own, and `lambkin replay` runs the event that was sent."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integration"))
from lambkin_server import LAMBKIN, TEMPLATE, Server, stop_cleanly  # noqa

import http.client  # noqa: E402

EVIL = 'Root=x","event":"{\\"pwn\\":1}","z":"'


class JournalTest(unittest.TestCase):
    def test_trace_header_cannot_forge_a_line(self):
        server = Server()
        try:
            c = http.client.HTTPConnection("127.0.0.1", server.port,
                                           timeout=30)
            c.request("POST", "/2015-03-31/functions/echo-python/invocations",
                      body=b'{"real":1}',
                      headers={"X-Amzn-Trace-Id": EVIL})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            rid = r.getheader("x-amzn-RequestId")
            r.read()
            with open(os.path.join(server.state_dir, "journal.jsonl")) as f:
                lines = [json.loads(line) for line in f]  # each one JSON
            rec = [x for x in lines if x.get("id") == rid]
            self.assertEqual(len(rec), 1)
            self.assertEqual(json.loads(rec[0]["event"]), {"real": 1})
            self.assertRegex(rec[0]["trace"],
                             r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};")
            self.assertNotIn("pwn", rec[0]["trace"])
            p = subprocess.run([LAMBKIN, "replay", rid, "-t", TEMPLATE,
                                "--state", server.state_dir],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout), {"real": 1})
            self.assertIn("reproduced", p.stderr)
        finally:
            stop_cleanly(server)


if __name__ == "__main__":
    unittest.main(verbosity=2)
