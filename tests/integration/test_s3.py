"""Emulated S3 over REST-XML, driven by unmodified clients: Debian's aws
CLI (s3 and s3api), boto3 (path-style and virtual-host addressing) and the
JS SDK v3 S3 client, against a real `lambkin serve`."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import ROOT, Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


class S3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.s3 = boto3.client(
            "s3", endpoint_url=cls.server.url,
            config=botocore.config.Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 0}))

    @classmethod
    def tearDownClass(cls):
        stop_cleanly(cls.server)

    def aws(self, *args, check=True, input=None):
        p = self.server.aws(*args, input=input)
        if check and p.returncode != 0:
            self.fail("aws %s failed: %s" % (" ".join(args), p.stderr))
        return p

    def code(self, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"]

    def test_cli_cp_ls_rm(self):
        self.aws("s3", "mb", "s3://cli-bucket")
        with tempfile.NamedTemporaryFile("wb", suffix=".bin") as f:
            data = os.urandom(300000)
            f.write(data)
            f.flush()
            self.aws("s3", "cp", f.name, "s3://cli-bucket/dir/odd key+1.bin")
            self.aws("s3", "cp", f.name, "s3://cli-bucket/top.bin")
            ls = self.aws("s3", "ls", "s3://cli-bucket").stdout
            self.assertIn("PRE dir/", ls)
            self.assertIn("300000 top.bin", ls)
            rec = self.aws("s3", "ls", "--recursive", "s3://cli-bucket").stdout
            self.assertIn("dir/odd key+1.bin", rec)
            out = os.path.join(tempfile.mkdtemp(), "back.bin")
            self.aws("s3", "cp", "s3://cli-bucket/dir/odd key+1.bin", out)
            with open(out, "rb") as g:
                self.assertEqual(g.read(), data)
        self.aws("s3", "rm", "--recursive", "s3://cli-bucket/")
        self.assertEqual(self.aws("s3", "ls", "s3://cli-bucket").stdout, "")
        self.aws("s3", "rb", "s3://cli-bucket")
        self.assertNotIn("cli-bucket", self.aws("s3", "ls").stdout)

    def test_cli_s3api_errors(self):
        p = self.aws("s3api", "get-object", "--bucket", "no-such-bucket",
                     "--key", "k", "/dev/null", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("NoSuchBucket", p.stderr)
        self.aws("s3api", "create-bucket", "--bucket", "api-bucket")
        p = self.aws("s3api", "create-bucket", "--bucket", "api-bucket",
                     check=False)
        self.assertIn("BucketAlreadyOwnedByYou", p.stderr)
        p = self.aws("s3api", "get-object", "--bucket", "api-bucket",
                     "--key", "missing", "/dev/null", check=False)
        self.assertIn("NoSuchKey", p.stderr)
        head = json.loads(self.aws("s3api", "head-bucket", "--bucket",
                                   "api-bucket").stdout or "{}")
        self.assertIsInstance(head, dict)

    def test_put_get_etag_metadata_range(self):
        s3 = self.s3
        s3.create_bucket(Bucket="objects")
        body = b"0123456789" * 100
        r = s3.put_object(Bucket="objects", Key="a/b.txt", Body=body,
                          ContentType="text/plain",
                          Metadata={"Owner": "alice", "x": "1"})
        self.assertEqual(r["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
        g = s3.get_object(Bucket="objects", Key="a/b.txt")
        self.assertEqual(g["Body"].read(), body)
        self.assertEqual(g["ContentType"], "text/plain")
        self.assertEqual(g["Metadata"], {"owner": "alice", "x": "1"})
        h = s3.head_object(Bucket="objects", Key="a/b.txt")
        self.assertEqual(h["ContentLength"], 1000)
        part = s3.get_object(Bucket="objects", Key="a/b.txt",
                             Range="bytes=10-19")
        self.assertEqual(part["Body"].read(), b"0123456789")
        self.assertEqual(part["ContentRange"], "bytes 10-19/1000")
        self.assertEqual(part["ResponseMetadata"]["HTTPStatusCode"], 206)
        tail = s3.get_object(Bucket="objects", Key="a/b.txt",
                             Range="bytes=-3")
        self.assertEqual(tail["Body"].read(), b"789")
        self.assertEqual(self.code(s3.get_object, Bucket="objects",
                                   Key="a/b.txt", Range="bytes=5000-"),
                         "InvalidRange")
        self.assertEqual(self.code(s3.head_object, Bucket="objects",
                                   Key="nope"), "404")

    def test_copy_delete_and_delete_objects(self):
        s3 = self.s3
        s3.create_bucket(Bucket="copies")
        s3.put_object(Bucket="copies", Key="src", Body=b"payload",
                      Metadata={"k": "v"})
        c = s3.copy_object(Bucket="copies", Key="dst",
                           CopySource={"Bucket": "copies", "Key": "src"})
        self.assertEqual(c["CopyObjectResult"]["ETag"],
                         '"%s"' % hashlib.md5(b"payload").hexdigest())
        g = s3.get_object(Bucket="copies", Key="dst")
        self.assertEqual(g["Body"].read(), b"payload")
        self.assertEqual(g["Metadata"], {"k": "v"})
        for i in range(5):
            s3.put_object(Bucket="copies", Key="many/%d" % i, Body=b"x")
        r = s3.delete_objects(Bucket="copies", Delete={"Objects": [
            {"Key": "many/%d" % i} for i in range(5)] + [{"Key": "src"}]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]),
                         ["many/%d" % i for i in range(5)] + ["src"])
        s3.delete_object(Bucket="copies", Key="dst")
        self.assertEqual(s3.list_objects_v2(Bucket="copies")["KeyCount"], 0)
        self.assertEqual(self.code(s3.delete_bucket, Bucket="nope-bucket"),
                         "NoSuchBucket")

    def test_list_prefix_delimiter_pagination(self):
        s3 = self.s3
        s3.create_bucket(Bucket="listing")
        keys = ["a/1", "a/2", "a/b/3", "b/4", "c", "d e&f<g>"]
        for k in keys:
            s3.put_object(Bucket="listing", Key=k, Body=b"")
        r = s3.list_objects_v2(Bucket="listing", Delimiter="/")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["c", "d e&f<g>"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]],
                         ["a/", "b/"])
        r = s3.list_objects_v2(Bucket="listing", Prefix="a/", Delimiter="/")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["a/1", "a/2"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["a/b/"])
        seen, token = [], None
        while True:
            kw = {"ContinuationToken": token} if token else {}
            r = s3.list_objects_v2(Bucket="listing", MaxKeys=2, **kw)
            seen += [c["Key"] for c in r.get("Contents", [])]
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(seen, sorted(keys))
        pages = s3.get_paginator("list_objects").paginate(
            Bucket="listing", PaginationConfig={"PageSize": 4})
        self.assertEqual([c["Key"] for p in pages for c in p["Contents"]],
                         sorted(keys))

    def test_virtual_host_addressing(self):
        # *.localhost does not resolve everywhere, so curl connects to the
        # server and names the bucket in Host, as a virtual-host client does.
        host = "vhost.localhost:%d" % self.server.port

        def curl(*args):
            return subprocess.run(
                ["curl", "-s", "-H", "Host: " + host,
                 "--connect-to", host + ":127.0.0.1:%d" % self.server.port]
                + list(args), capture_output=True, text=True, timeout=30)

        self.s3.create_bucket(Bucket="vhost")
        curl("-X", "PUT", "--data-binary", "virtual",
             "http://%s/k/v.txt" % host)
        self.assertEqual(self.s3.get_object(Bucket="vhost", Key="k/v.txt")
                         ["Body"].read(), b"virtual")
        self.assertEqual(curl("http://%s/k/v.txt" % host).stdout, "virtual")
        self.assertIn("<Key>k/v.txt</Key>",
                      curl("http://%s/?list-type=2" % host).stdout)

    def test_notification_configuration_round_trip(self):
        s3 = self.s3
        s3.create_bucket(Bucket="notify")
        arn = "arn:aws:lambda:us-east-1:123456789012:function:echo-python"
        s3.put_bucket_notification_configuration(
            Bucket="notify", NotificationConfiguration={
                "LambdaFunctionConfigurations": [{
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [
                        {"Name": "prefix", "Value": "in/"}]}}}]})
        got = s3.get_bucket_notification_configuration(Bucket="notify")
        conf = got["LambdaFunctionConfigurations"][0]
        self.assertEqual(conf["LambdaFunctionArn"], arn)
        self.assertEqual(conf["Events"], ["s3:ObjectCreated:*"])
        self.assertEqual(conf["Filter"]["Key"]["FilterRules"][0]["Value"],
                         "in/")

    def test_js_sdk(self):
        p = subprocess.run(
            ["node", os.path.join(ROOT, "tests", "js", "s3.mjs"),
             self.server.url], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout),
                         {"body": "from js", "keys": ["js/one.txt"],
                          "missing": "NoSuchKey"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
