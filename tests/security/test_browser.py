"""What a web page in the developer's browser can do to lambkin: nothing.
Cross-site requests (a form post, an <img>, a fetch without CORS) are
refused before any handler runs, so no function is invoked, no message
sent, no object deleted; a foreign Host (DNS rebinding) reads nothing.
Pages on this machine (localhost, any port) and origins the user allows
get CORS. boto3 and the aws CLI, which send none of these headers, are
never refused."""
import http.client
import json
import os
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integration"))
from lambkin_server import Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402

INVOKE = "/2015-03-31/functions/echo-python/invocations"
QUEUE = "/123456789012/web-q"


def raw(port, method, path, body=b"", **headers):
    """One request with exactly these headers (Host defaults to loopback);
    returns (status, headers dict lowercased, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers.setdefault("Host", "127.0.0.1:%d" % port)
    c.request(method, path, body=body,
              headers={k.replace("_", "-"): v for k, v in headers.items()})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def h2(port, path, *args, host=None):
    """curl over HTTP/2 with prior knowledge (as the JS SDK v3 speaks to an
    http:// endpoint); returns (status, HTTP version, body)."""
    cmd = ["curl", "-s", "--http2-prior-knowledge", "-m", "20", "-o", "-",
           "-w", "\n%{http_code} %{http_version}"]
    if host:
        cmd += ["-H", "Host: " + host]
    p = subprocess.run(cmd + list(args) + ["http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, timeout=60)
    body, _, tail = p.stdout.rpartition(b"\n")
    status, version = tail.decode().split()
    return int(status), version, body


H2_CONCURRENT = """
const http2 = require('http2');
const c = http2.connect('http://127.0.0.1:' + process.argv[1]);
const one = (i) => new Promise((res, rej) => {
  const r = c.request({ ':path': '/2015-03-31/functions/?n=' + i });
  let st, n = 0;
  r.on('response', (h) => { st = h[':status']; });
  r.on('data', (d) => { n += d.length; });
  r.on('end', () => res([st, n]));
  r.on('error', rej);
  r.end();
});
Promise.all([...Array(30).keys()].map(one)).then((all) => {
  console.log(JSON.stringify(all));
  c.close();
}, (e) => { console.error(e.message); process.exit(1); });
"""


class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--cors-origin", "https://app.example",
                            "--allowed-hosts", "dev.internal,.lan.test")
        cls.port = cls.server.port
        cls.s3 = boto3.client("s3", endpoint_url=cls.server.url)
        cls.sqs = boto3.client("sqs", endpoint_url=cls.server.url)
        cls.lam = boto3.client("lambda", endpoint_url=cls.server.url)
        cls.s3.create_bucket(Bucket="web")
        cls.s3.put_object(Bucket="web", Key="page.html",
                          Body=b"<script>alert(1)</script>",
                          ContentType="text/html")
        cls.qurl = cls.sqs.create_queue(QueueName="web-q")["QueueUrl"]

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    def invocations(self):
        path = os.path.join(self.server.state_dir, "journal.jsonl")
        if not os.path.exists(path):
            return 0
        with open(path) as f:
            return sum(1 for line in f
                       if json.loads(line).get("function") == "echo-python")

    def assert_refused(self, r):
        self.assertEqual(r[0], 403, r)
        self.assertIn("refused", json.loads(r[2])["message"])

    # -- cross-site requests --

    def test_cross_site_invoke_is_refused(self):
        before = self.invocations()
        r = raw(self.port, "POST", INVOKE, b'{"csrf":1}',
                Origin="https://evil.example", Content_Type="text/plain")
        self.assert_refused(r)
        r = raw(self.port, "POST", INVOKE, b'{"csrf":2}',
                Sec_Fetch_Site="cross-site", Content_Type="text/plain")
        self.assert_refused(r)
        r = raw(self.port, "POST", INVOKE, b'{"csrf":3}',
                Referer="https://evil.example/page")
        self.assert_refused(r)
        r = raw(self.port, "POST", INVOKE, b'{}', Origin="null")
        self.assert_refused(r)
        self.assertEqual(self.invocations(), before)

    def test_img_tag_cannot_send_messages(self):
        for action in ("SendMessage&MessageBody=pwned", "PurgeQueue",
                       "DeleteQueue"):
            r = raw(self.port, "GET", "/?Action=%s&QueueUrl=%s" %
                    (action, self.qurl), Sec_Fetch_Site="cross-site",
                    Sec_Fetch_Mode="no-cors", Sec_Fetch_Dest="image")
            self.assert_refused(r)
        r = raw(self.port, "GET", "/?Action=CreateQueue&QueueName=evil",
                Sec_Fetch_Site="cross-site")
        self.assert_refused(r)
        self.sqs.get_queue_url(QueueName="web-q")  # still there
        got = self.sqs.receive_message(QueueUrl=self.qurl, WaitTimeSeconds=0)
        self.assertNotIn("Messages", got)
        names = self.sqs.list_queues().get("QueueUrls", [])
        self.assertFalse([n for n in names if n.endswith("/evil")])

    def test_form_post_cannot_delete_objects(self):
        body = (b"<Delete><Object><Key>page.html</Key></Object></Delete>")
        r = raw(self.port, "POST", "/web?delete", body,
                Origin="https://evil.example", Content_Type="text/plain")
        self.assert_refused(r)
        self.s3.head_object(Bucket="web", Key="page.html")

    # -- DNS rebinding --

    def test_foreign_host_reads_nothing(self):
        r = raw(self.port, "GET", "/2015-03-31/functions/context-python",
                Host="evil.example:%d" % self.port)
        self.assertEqual(r[0], 403)
        self.assertNotIn(b"Environment", r[2])
        self.assertNotIn(b"GREETING", r[2])
        r = raw(self.port, "GET", "/web/page.html",
                Host="evil.example:%d" % self.port)
        self.assertEqual(r[0], 403)
        self.assertNotIn(b"alert", r[2])
        r = raw(self.port, "GET", "/web/page.html",
                Host="web.evil.example")
        self.assertEqual(r[0], 403)

    def test_http2_gets_the_same_checks(self):
        status, version, body = h2(self.port, "/2015-03-31/functions/")
        self.assertEqual((status, version), (200, "2"))
        self.assertIn(b"echo-python", body)
        status, _, body = h2(self.port, "/2015-03-31/functions/context-python",
                             host="evil.example:%d" % self.port)
        self.assertEqual(status, 403)
        self.assertNotIn(b"Environment", body)
        before = self.invocations()
        status, _, _ = h2(self.port, INVOKE, "-H",
                          "Origin: https://evil.example", "-H",
                          "Content-Type: text/plain", "-d", "{}")
        self.assertEqual(status, 403)
        self.assertEqual(self.invocations(), before)
        # An allowed origin gets CORS over HTTP/2 too.
        p = subprocess.run(
            ["curl", "-s", "--http2-prior-knowledge", "-D", "-", "-o",
             "/dev/null", "-H", "Origin: https://app.example",
             "http://127.0.0.1:%d/2015-03-31/functions/" % self.port],
            capture_output=True, text=True, timeout=60)
        self.assertIn("access-control-allow-origin: https://app.example",
                      p.stdout)

    def test_http2_streams_share_a_connection_within_their_ceilings(self):
        # 30 requests at once on one session, as node's http2 sends them
        # (what the JS SDK v3 uses); each answered whole.
        p = subprocess.run(["node", "-e", H2_CONCURRENT, str(self.port)],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = json.loads(p.stdout)
        self.assertEqual([g[0] for g in got], [200] * 30)
        self.assertEqual(len({g[1] for g in got}), 1)  # the same listing
        # A header block past the ceiling is a 431, and the server serves on.
        status, _, _ = h2(self.port, "/2015-03-31/functions/", "-H",
                          "X-Big: " + "a" * 20000)
        self.assertEqual(status, 431)
        # Garbage after the preface closes that connection only.
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 64)
        s.settimeout(10)
        got = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
        s.close()
        self.assertEqual(got[3], 0x04)  # the server's SETTINGS first
        self.assertIn(bytes([0x07]), got[3::1])  # then a GOAWAY
        self.assertEqual(h2(self.port, "/2015-03-31/functions/")[0], 200)

    def test_loopback_and_allowed_hosts_are_served(self):
        for host in ("127.0.0.1:%d" % self.port, "localhost:%d" % self.port,
                     "[::1]:%d" % self.port, "dev.internal:%d" % self.port,
                     "box.lan.test", "lan.test"):
            r = raw(self.port, "GET", "/2015-03-31/functions/", Host=host)
            self.assertEqual(r[0], 200, host)
        # Virtual-host S3 under a loopback name.
        r = raw(self.port, "GET", "/page.html", Host="web.localhost:%d"
                % self.port)
        self.assertEqual(r[0], 200)
        self.assertEqual(r[2], b"<script>alert(1)</script>")

    def test_objects_never_run_as_pages(self):
        r = raw(self.port, "GET", "/web/page.html")
        self.assertEqual(r[1]["content-security-policy"], "sandbox")
        self.assertEqual(r[1]["x-content-type-options"], "nosniff")

    # -- CORS for pages that may call lambkin --

    def test_local_page_gets_cors(self):
        origin = "http://localhost:5173"
        r = raw(self.port, "OPTIONS", INVOKE, Origin=origin,
                Access_Control_Request_Method="POST",
                Access_Control_Request_Headers="content-type,x-amz-date")
        self.assertEqual(r[0], 204)
        self.assertEqual(r[1]["access-control-allow-origin"], origin)
        self.assertIn("POST", r[1]["access-control-allow-methods"])
        self.assertEqual(r[1]["access-control-allow-headers"],
                         "content-type,x-amz-date")
        r = raw(self.port, "POST", INVOKE, b'{"page":1}', Origin=origin,
                Sec_Fetch_Site="same-site")
        self.assertEqual(r[0], 200)
        self.assertEqual(r[1]["access-control-allow-origin"], origin)
        self.assertEqual(json.loads(r[2]), {"page": 1})

    def test_allowed_origin_gets_cors_and_others_do_not(self):
        r = raw(self.port, "POST", INVOKE, b'{"app":1}',
                Origin="https://app.example", Sec_Fetch_Site="cross-site")
        self.assertEqual(r[0], 200)
        self.assertEqual(r[1]["access-control-allow-origin"],
                         "https://app.example")
        r = raw(self.port, "OPTIONS", INVOKE, Origin="https://evil.example",
                Access_Control_Request_Method="POST")
        self.assertEqual(r[0], 403)
        self.assertNotIn("access-control-allow-origin", r[1])

    # -- real clients are never refused --

    def test_sdk_and_cli_still_work(self):
        r = self.lam.invoke(FunctionName="echo-python", Payload=b'{"sdk":1}')
        self.assertEqual(json.loads(r["Payload"].read()), {"sdk": 1})
        self.sqs.send_message(QueueUrl=self.qurl, MessageBody="ok")
        p = self.server.aws("s3", "ls", "s3://web")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("page.html", p.stdout)


class ApiGatewayTest(unittest.TestCase):
    def test_gateway_checks_host_and_origin_too(self):
        server = Server()
        try:
            port = server.api_port
            r = raw(port, "GET", "/items/1", Host="evil.example")
            self.assertEqual(r[0], 403)
            r = raw(port, "GET", "/items/1", Origin="https://evil.example")
            self.assertEqual(r[0], 403)
            r = raw(port, "GET", "/items/1", Origin="http://localhost:8080")
            self.assertEqual(r[0], 200)
            self.assertEqual(r[1]["access-control-allow-origin"],
                             "http://localhost:8080")
        finally:
            stop_cleanly(server)


if __name__ == "__main__":
    unittest.main(verbosity=2)
