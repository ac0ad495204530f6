"""Starts the real `lambkin serve` on a free loopback port for a test, and
stops it afterwards, checking it exited cleanly (no sanitizer report)."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
LAMBKIN = os.environ.get("LAMBKIN_BIN", os.path.join(ROOT, "build", "lambkin"))
TEMPLATE = os.path.join(ROOT, "handlers", "template.yaml")
AWS = "/usr/bin/aws"
SANDBOX_BIN = os.environ.get("LAMBKIN_SANDBOX",
                             os.path.join(os.path.dirname(LAMBKIN),
                                          "lambkin-sandbox"))
# 1 when this kernel lets lambkin give functions Lambda's file system
SANDBOX = subprocess.run([SANDBOX_BIN, "--probe"]).returncode == 0

os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("AWS_PAGER", "")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def write_tree(root, files):
    """Writes {relative path: text} under root; a bootstrap, a .sh file
    and anything in a bin/ folder are made executable."""
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        if rel.endswith(("bootstrap", ".sh")) or "/bin/" in rel:
            os.chmod(path, 0o755)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, *extra, template=TEMPLATE, state=None, env=None):
        # state: reuse another run's folder (it is then left in place);
        # env: lambkin's environment, when not this process's
        self.keep_state = state is not None
        self.state = state or tempfile.mkdtemp(prefix="lambkin-test-")
        self.port = free_port()
        self.api_port = free_port()
        self.log_path = os.path.join(self.state, "serve.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [LAMBKIN, "serve", "-t", template, "--port", str(self.port),
             "--api-port", str(self.api_port),
             "--state", os.path.join(self.state, "state")] + list(extra),
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.url = "http://127.0.0.1:%d" % self.port
        self.api_url = "http://127.0.0.1:%d" % self.api_port
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("lambkin serve exited: " + self.output())
            try:
                urllib.request.urlopen(self.url + "/2015-03-31/functions/",
                                       timeout=1).read()
                return
            except urllib.error.HTTPError:
                return  # it answers, if only to refuse an unsigned call
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("lambkin serve did not start: " + self.output())

    def aws(self, *args, input=None):
        """Debian's aws CLI against this server; the CompletedProcess."""
        return subprocess.run([AWS, "--endpoint-url", self.url] + list(args),
                              capture_output=True, text=True, timeout=60,
                              input=input)

    @property
    def state_dir(self):
        return os.path.join(self.state, "state")

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        """Stops the server; returns (exit code, output)."""
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        out = self.output()
        self.log.close()
        if not self.keep_state:
            shutil.rmtree(self.state, ignore_errors=True)
        return rc, out


def stop_cleanly(server):
    """Stops the server and fails unless it exited 0 with nothing from the
    sanitizers in lambkin's own output (function lines start "[name id]")."""
    rc, out = server.stop()
    own = "\n".join(l for l in out.splitlines() if not l.startswith("["))
    if rc != 0 or "Sanitizer" in own or "runtime error:" in own:
        raise AssertionError("lambkin serve ended badly (rc=%d):\n%s"
                             % (rc, out[-4000:]))
    return out


def function_credentials(server, function):
    """(access key, secret, session token) of a running instance of the
    function, read from its environment as any process of the same user
    can; None when it has no instance."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = dict(v.split(b"=", 1) for v in f.read().split(b"\0")
                           if b"=" in v)
        except OSError:
            continue
        if (env.get(b"AWS_LAMBDA_FUNCTION_NAME") == function.encode() and
                env.get(b"AWS_ENDPOINT_URL") == server.url.encode()):
            return (env[b"AWS_ACCESS_KEY_ID"].decode(),
                    env[b"AWS_SECRET_ACCESS_KEY"].decode(),
                    env[b"AWS_SESSION_TOKEN"].decode())
    return None


def journal(server):
    """The records of the server's journal (every invocation, with its
    exact event, and every loop report), oldest first."""
    path = os.path.join(server.state_dir, "journal.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def fuzz_injections(test, top, source, *extra):
    """Runs `lambkin fuzz` for 20 s on top/template.yaml and asserts it
    fuzzed source events and reported a command injection from them;
    the injection findings (as their JSON reports)."""
    out = os.path.join(top, "out")
    p = subprocess.run(
        [LAMBKIN, "fuzz", "-t", os.path.join(top, "template.yaml"),
         "--time", "20", "--out", out, "--seed", "1"] + list(extra),
        capture_output=True, text=True, timeout=300, cwd=top)
    test.assertEqual(p.returncode, 1, p.stdout + p.stderr)
    test.assertIn("fuzzing (%s events" % source, p.stdout)
    found = []
    for f in os.listdir(os.path.join(out, "findings")):
        with open(os.path.join(out, "findings", f)) as fh:
            found.append(json.load(fh))
    inj = [f for f in found if f["class"] == "command-injection"]
    test.assertTrue(inj, p.stdout)
    test.assertEqual(inj[0]["source"], source)
    return inj


def wait_for(fn, timeout=30.0, what="condition"):
    """fn()'s first true answer, polled; fails after timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)
