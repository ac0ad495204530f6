"""API Gateway in front of the sample functions, driven by curl: payload
1.0 (REST Api events) and 2.0 (HttpApi events), path parameters and
{proxy+}, query strings, headers, cookies, binary bodies, the response
mapping, and the gateway's own 403/404/502/504 answers."""
import base64
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import Server, stop_cleanly  # noqa: E402


def curl(url, *args, data=None):
    """Returns (status, headers as a list of (name, value), body bytes)."""
    cmd = ["curl", "-s", "-i", "--max-time", "30", url] + list(args)
    if data is not None:
        cmd += ["--data-binary", "@-"]
    p = subprocess.run(cmd, input=data, capture_output=True, timeout=60)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:]]
    return status, headers, body


def header(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


class ApiGatewayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--api-timeout", "2")
        cls.url = cls.server.api_url

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    def test_rest_payload_v1(self):
        status, h, body = curl(self.url + "/items/42?tag=a&tag=b&q=x%20y",
                               "-H", "X-Test: one", "-H", "X-Test: two")
        self.assertEqual(status, 200)
        self.assertEqual(header(h, "X-Item"), ["42"])
        self.assertEqual(header(h, "Set-Cookie"), ["a=1", "b=2"])
        ev = json.loads(body)["event"]
        self.assertEqual(ev["resource"], "/items/{id}")
        self.assertEqual(ev["path"], "/items/42")
        self.assertEqual(ev["httpMethod"], "GET")
        self.assertEqual(ev["pathParameters"], {"id": "42"})
        self.assertEqual(ev["queryStringParameters"], {"tag": "b", "q": "x y"})
        self.assertEqual(ev["multiValueQueryStringParameters"],
                         {"tag": ["a", "b"], "q": ["x y"]})
        self.assertEqual(ev["headers"]["X-Test"], "two")
        self.assertEqual(ev["multiValueHeaders"]["X-Test"], ["one", "two"])
        self.assertIsNone(ev["body"])
        self.assertFalse(ev["isBase64Encoded"])
        ctx = ev["requestContext"]
        self.assertEqual(ctx["stage"], "Prod")
        self.assertEqual(ctx["resourcePath"], "/items/{id}")
        self.assertEqual(ctx["identity"]["sourceIp"], "127.0.0.1")

    def test_greedy_proxy_and_any_method(self):
        status, _, body = curl(self.url + "/files/a/b%20c/d.txt", "-X",
                               "DELETE")
        self.assertEqual(status, 200)
        ev = json.loads(body)["event"]
        self.assertEqual(ev["resource"], "/files/{proxy+}")
        self.assertEqual(ev["httpMethod"], "DELETE")
        self.assertEqual(ev["pathParameters"], {"proxy": "a/b c/d.txt"})

    def test_http_api_payload_v2(self):
        status, h, body = curl(self.url + "/hello/bob?x=1&x=2",
                               "-H", "Cookie: c1=v1; c2=v2",
                               "-H", "X-Multi: a", "-H", "X-Multi: b")
        self.assertEqual(status, 201)
        self.assertEqual(header(h, "x-name"), ["bob"])
        self.assertEqual(header(h, "Set-Cookie"),
                         ["session=abc; Path=/", "theme=dark"])
        ev = json.loads(body)["event"]
        self.assertEqual(ev["version"], "2.0")
        self.assertEqual(ev["routeKey"], "GET /hello/{name}")
        self.assertEqual(ev["rawPath"], "/hello/bob")
        self.assertEqual(ev["rawQueryString"], "x=1&x=2")
        self.assertEqual(ev["queryStringParameters"], {"x": "1,2"})
        self.assertEqual(ev["cookies"], ["c1=v1", "c2=v2"])
        self.assertEqual(ev["headers"]["x-multi"], "a,b")
        self.assertNotIn("cookie", ev["headers"])
        self.assertEqual(ev["pathParameters"], {"name": "bob"})
        self.assertEqual(ev["requestContext"]["http"]["method"], "GET")
        self.assertEqual(ev["requestContext"]["stage"], "$default")
        self.assertNotIn("body", ev)

    def test_v2_shorthand_answers(self):
        status, h, body = curl(self.url + "/plain")
        self.assertEqual((status, body), (200, b"just a string"))
        status, h, body = curl(self.url + "/object")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"hello": "world"})
        self.assertEqual(header(h, "Content-Type"), ["application/json"])

    def test_binary_body_round_trip(self):
        raw = bytes(range(256))
        status, h, body = curl(self.url + "/binary", "-H",
                               "Content-Type: application/octet-stream",
                               data=raw)
        self.assertEqual(status, 200)
        self.assertEqual(body, raw)

    def test_payload_v1_on_an_http_api(self):
        status, _, body = curl(self.url + "/v1")
        self.assertEqual(json.loads(body), {"version": "1.0",
                                            "resource": "/v1"})

    def test_gateway_errors(self):
        status, _, body = curl(self.url + "/malformed")
        self.assertEqual((status, json.loads(body)),
                         (502, {"message": "Internal server error"}))
        status, _, body = curl(self.url + "/throws")
        self.assertEqual((status, json.loads(body)),
                         (502, {"message": "Internal server error"}))
        status, _, body = curl(self.url + "/no/such/route")
        self.assertEqual((status, json.loads(body)),
                         (404, {"message": "Not Found"}))
        status, _, body = curl(self.url + "/sleep")  # 5 s, timeout is 2
        self.assertEqual((status, json.loads(body)),
                         (504, {"message": "Endpoint request timed out"}))
        status, _, _ = curl(self.url + "/items/7")  # still serving
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
