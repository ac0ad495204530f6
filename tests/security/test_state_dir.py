"""The state directory is private and nothing planted in it is followed:
it is created 0700 (and an existing one made so), its files 0600; a
journal.jsonl symlink stops start-up instead of redirecting the appends;
a directory that belongs to someone else is refused."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integration"))
from lambkin_server import LAMBKIN, TEMPLATE, Server, stop_cleanly  # noqa

import boto3  # noqa: E402


def invoke(state, *extra):
    return subprocess.run([LAMBKIN, "invoke", "echo-python", "-t", TEMPLATE,
                           "--state", state] + list(extra),
                          input='{"x":1}', capture_output=True, text=True,
                          timeout=120)


class StateDirTest(unittest.TestCase):
    def setUp(self):
        self.top = tempfile.mkdtemp(prefix="lambkin-state-test-")
        os.chmod(self.top, 0o755)

    def tearDown(self):
        shutil.rmtree(self.top, ignore_errors=True)

    def mode(self, path):
        return stat.S_IMODE(os.stat(path).st_mode)

    def test_created_private_with_private_files(self):
        state = os.path.join(self.top, "state")
        server = Server(state=self.top)  # its state is top/state
        try:
            lam = boto3.client("lambda", endpoint_url=server.url)
            lam.invoke(FunctionName="echo-python", Payload=b"{}")
            s3 = boto3.client("s3", endpoint_url=server.url)
            s3.create_bucket(Bucket="bkt")
            s3.put_object(Bucket="bkt", Key="k", Body=b"v")
        finally:
            stop_cleanly(server)
        self.assertEqual(self.mode(state), 0o700)
        for name in os.listdir(state):
            path = os.path.join(state, name)
            if os.path.isfile(path):
                self.assertEqual(self.mode(path), 0o600, name)

    def test_existing_open_directory_is_made_private(self):
        state = os.path.join(self.top, "open")
        os.mkdir(state, 0o777)
        os.chmod(state, 0o777)
        p = invoke(state, "-e", "-")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.mode(state), 0o700)

    def test_planted_journal_symlink_is_not_followed(self):
        state = os.path.join(self.top, "planted")
        os.mkdir(state, 0o700)
        victim = os.path.join(self.top, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.symlink(victim, os.path.join(state, "journal.jsonl"))
        p = invoke(state, "-e", "-")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("symlink", p.stderr)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")

    @unittest.skipUnless(os.geteuid() == 0, "needs root to chown")
    def test_someone_elses_directory_is_refused(self):
        state = os.path.join(self.top, "theirs")
        os.mkdir(state, 0o700)
        os.chown(state, 65534, 65534)  # nobody
        p = invoke(state, "-e", "-")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("belongs to uid 65534", p.stderr)
        self.assertEqual(os.listdir(state), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
