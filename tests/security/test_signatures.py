"""Nobody can claim to be a function. A call carrying a function's access
key must bear a SigV4 signature made with its secret (header or presigned
form, the body's hash included), and a session token names a function
only when it is the random one lambkin issued. Anyone else's key is
accepted, as LocalStack accepts it, unless --require-signature: then a
call must verify with a function's or a --credentials key."""
import json
import os
import re
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integration"))
from lambkin_server import (LAMBKIN, TEMPLATE, Server,  # noqa: E402
                            function_credentials, stop_cleanly)

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1})


def client(server, service, key, secret, token=None):
    # s3v4: this botocore presigns S3 URLs with SigV2 unless told, and
    # lambkin verifies SigV4 only (a SigV2 request is nobody's).
    config = NO_RETRY.merge(botocore.config.Config(signature_version="s3v4")) \
        if service == "s3" else NO_RETRY
    return boto3.client(service, endpoint_url=server.url, config=config,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token)


def error_of(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"],
                e.response["ResponseMetadata"]["HTTPStatusCode"])
    return None


class FunctionKeyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        boto3.client("lambda", endpoint_url=cls.server.url).invoke(
            FunctionName="store-c", Payload=b"{}")  # an instance to read
        cls.key, cls.secret, cls.token = function_credentials(cls.server,
                                                              "store-c")

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    def observed(self):
        p = subprocess.run([LAMBKIN, "policy", "-t", TEMPLATE, "--state",
                            self.server.state_dir], capture_output=True,
                           text=True, timeout=60)
        return p.stdout + p.stderr

    def test_session_token_is_unguessable(self):
        self.assertRegex(self.token, r"^lambkin-store-c-[0-9a-f]{32}$")
        self.assertRegex(self.key, r"^LKIA[0-9A-F0-9a-f]{16}$")

    def test_its_own_signatures_verify_in_every_service(self):
        s3 = client(self.server, "s3", self.key, self.secret, self.token)
        s3.create_bucket(Bucket="signed")
        s3.put_object(Bucket="signed", Key="in/a.txt", Body=b"signed body")
        self.assertEqual(s3.get_object(Bucket="signed", Key="in/a.txt")
                         ["Body"].read(), b"signed body")
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "signed", "Key": "in/a.txt"},
            ExpiresIn=60)
        self.assertEqual(urllib.request.urlopen(url).read(), b"signed body")
        sqs = client(self.server, "sqs", self.key, self.secret, self.token)
        q = sqs.create_queue(QueueName="signed-q")["QueueUrl"]
        sqs.send_message(QueueUrl=q, MessageBody="hi")
        lam = client(self.server, "lambda", self.key, self.secret, self.token)
        r = lam.invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:"
                       "function:echo-python", Payload=b'{"by":"arn"}')
        self.assertEqual(json.loads(r["Payload"].read()), {"by": "arn"})
        logs = client(self.server, "logs", self.key, self.secret, self.token)
        logs.describe_log_groups()
        out = self.observed()
        self.assertIn("arn:aws:s3:::signed/in/*", out)
        self.assertIn("sqs:SendMessage", out)

    def test_its_key_with_another_secret_is_refused(self):
        calls = {
            "s3": lambda c: c.list_buckets(),
            "sqs": lambda c: c.list_queues(),
            "lambda": lambda c: c.list_functions(),
            "logs": lambda c: c.describe_log_groups(),
        }
        got = {svc: error_of(lambda: call(client(self.server, svc, self.key,
                                                  "not-the-secret")))
               for svc, call in calls.items()}
        self.assertEqual(got, {
            "s3": ("SignatureDoesNotMatch", 403),
            "sqs": ("SignatureDoesNotMatch", 403),
            "lambda": ("InvalidSignatureException", 403),
            "logs": ("InvalidSignatureException", 400)})

    def test_a_changed_presigned_url_or_body_is_refused(self):
        s3 = client(self.server, "s3", self.key, self.secret, self.token)
        s3.create_bucket(Bucket="tamper")
        s3.put_object(Bucket="tamper", Key="a", Body=b"a")
        s3.put_object(Bucket="tamper", Key="b", Body=b"b")
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "tamper", "Key": "a"},
            ExpiresIn=60)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url.replace("/tamper/a?", "/tamper/b?"))
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"SignatureDoesNotMatch", cm.exception.read())

    def test_a_forged_token_names_no_function(self):
        forged = client(self.server, "s3", "anyone", "anything",
                        "lambkin-store-c")
        forged.create_bucket(Bucket="forged-by-someone")
        self.assertNotIn("forged-by-someone", self.observed())


class RequireSignatureTest(unittest.TestCase):
    def test_only_verified_callers_get_in(self):
        server = Server("--require-signature", "--credentials",
                        "ADMINKEY:admin-secret")
        try:
            admin = client(server, "s3", "ADMINKEY", "admin-secret")
            admin.create_bucket(Bucket="locked")
            self.assertEqual(
                error_of(lambda: client(server, "s3", "ADMINKEY", "wrong")
                         .list_buckets()), ("SignatureDoesNotMatch", 403))
            self.assertEqual(
                error_of(lambda: client(server, "lambda", "SOMEONE", "x")
                         .list_functions()),
                ("UnrecognizedClientException", 403))
            req = urllib.request.Request(server.url + "/2015-03-31/functions/"
                                         "echo-python/invocations", data=b"{}")
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(req)
            self.assertEqual(cm.exception.code, 403)
            self.assertEqual(cm.exception.headers["x-amzn-ErrorType"],
                             "MissingAuthenticationTokenException")
            # Functions still reach the services: their own credentials.
            r = client(server, "lambda", "ADMINKEY", "admin-secret").invoke(
                FunctionName="store-c", Payload=b'{"key":"in/x"}')
            self.assertNotIn("FunctionError", r, r["Payload"].read())
        finally:
            stop_cleanly(server)

    def test_environment_credentials_are_the_default(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="ENVKEY",
                   AWS_SECRET_ACCESS_KEY="env-secret")
        server = Server("--require-signature", env=env)
        try:
            p = subprocess.run(["/usr/bin/aws", "--endpoint-url", server.url,
                                "s3", "ls"], env=env, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            env2 = dict(env, AWS_SECRET_ACCESS_KEY="other")
            p = subprocess.run(["/usr/bin/aws", "--endpoint-url", server.url,
                                "s3", "ls"], env=env2, capture_output=True,
                               text=True, timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("SignatureDoesNotMatch", p.stderr)
        finally:
            stop_cleanly(server)

    def test_off_loopback_signatures_are_required(self):
        server = Server("--host", "0.0.0.0")
        try:
            req = urllib.request.Request(server.url + "/2015-03-31/functions/")
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(req)
            self.assertEqual(cm.exception.code, 403)
            # The environment's credentials (test/test here) still work.
            lam = boto3.client("lambda", endpoint_url=server.url)
            self.assertIn("Functions", lam.list_functions())
            self.assertIn("WARNING: listening on 0.0.0.0", server.output())
        finally:
            stop_cleanly(server)
        server = Server("--host", "0.0.0.0", "--allow-unsigned")
        try:
            urllib.request.urlopen(server.url + "/2015-03-31/functions/").read()
        finally:
            stop_cleanly(server)


if __name__ == "__main__":
    unittest.main(verbosity=2)
