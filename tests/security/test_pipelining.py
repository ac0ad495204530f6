"""Thousands of pipelined requests in one write: every one is answered, in
order, and lambkin keeps serving. Requests answered at once (S3 GETs) once
recursed per request and crashed the server after about 800; requests
answered later (invokes) resume from the bytes held behind them."""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integration"))
from lambkin_server import Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402


def pipeline(port, requests, expect, limit=120):
    """Sends every request in one write; reads until `expect` answers."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(limit)
    s.sendall(b"".join(requests))
    got = b""
    deadline = time.time() + limit
    while got.count(b"HTTP/1.1 ") < expect and time.time() < deadline:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += chunk
    s.close()
    return got


class PipeliningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("-q")
        cls.s3 = boto3.client("s3", endpoint_url=cls.server.url)
        cls.s3.create_bucket(Bucket="pipe")
        cls.s3.put_object(Bucket="pipe", Key="k", Body=b"v" * 10)

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    def test_answered_at_once(self):
        n = 5000
        reqs = [b"GET /pipe/k?n=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % i
                for i in range(n)]
        got = pipeline(self.server.port, reqs, n)
        self.assertEqual(got.count(b"HTTP/1.1 200 OK"), n)
        self.assertEqual(got.count(b"vvvvvvvvvv"), n)
        self.assertEqual(self.s3.get_object(Bucket="pipe", Key="k")
                         ["Body"].read(), b"v" * 10)

    def test_answered_later(self):
        n = 500
        body = b'{"n":%d}'
        reqs = [b"POST /2015-03-31/functions/echo-c/invocations HTTP/1.1\r\n"
                b"Host: 127.0.0.1\r\nContent-Length: %d\r\n\r\n%s"
                % (len(body % i), body % i) for i in range(n)]
        got = pipeline(self.server.port, reqs, n)
        self.assertEqual(got.count(b"HTTP/1.1 200 OK"), n)
        # In order: each answer is its own request's echo.
        at = [got.find(b'{"n":%d}' % i) for i in range(n)]
        self.assertNotIn(-1, at)
        self.assertEqual(at, sorted(at))


if __name__ == "__main__":
    unittest.main(verbosity=2)
