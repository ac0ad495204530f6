"""A function's own SDK calls reach lambkin with no endpoint in its code:
the JS SDK v3 follows the AWS_ENDPOINT_URL lambkin sets (and uses path
style for its loopback address), as boto3 follows the python bootstrap
(test_sources covers that)."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambkin_server import ROOT, Server, stop_cleanly  # noqa: E402

import boto3  # noqa: E402


class NodeSdkTest(unittest.TestCase):
    def test_js_sdk_inside_a_function(self):
        server = Server(template=os.path.join(ROOT, "tests", "js", "fn",
                                              "template.yaml"))
        try:
            lam = boto3.client("lambda", endpoint_url=server.url)
            r = lam.invoke(FunctionName="node-sdk", Payload=b'{"n":1}')
            body = json.loads(r["Payload"].read())
            self.assertNotIn("FunctionError", r, body)
            s3 = boto3.client("s3", endpoint_url=server.url)
            self.assertEqual(s3.get_object(Bucket="node-out",
                                           Key="from-node.txt")
                             ["Body"].read(), b'{"n":1}')
            sqs = boto3.client("sqs", endpoint_url=server.url)
            url = sqs.get_queue_url(QueueName="node-q")["QueueUrl"]
            got = sqs.receive_message(QueueUrl=url)["Messages"][0]
            self.assertEqual(got["Body"], "from node")
            # A service lambkin does not emulate answers in the shape the
            # SDK parses, naming the call.
            r = lam.invoke(FunctionName="node-sdk",
                           Payload=b'{"secret":"db-password"}')
            self.assertEqual(json.loads(r["Payload"].read()), {
                "error": "UnknownOperationException",
                "message": "lambkin does not emulate "
                           "secretsmanager.GetSecretValue"})
            sm = boto3.client("secretsmanager", endpoint_url=server.url)
            with self.assertRaises(sm.exceptions.ClientError) as e:
                sm.get_secret_value(SecretId="db-password")
            self.assertEqual(e.exception.response["Error"]["Code"],
                             "UnknownOperationException")
            # STS GetCallerIdentity: a function is its role's session
            r = lam.invoke(FunctionName="node-sdk", Payload=b'{"whoami":1}')
            me = json.loads(r["Payload"].read())
            self.assertEqual(me["Account"], "123456789012", me)
            self.assertEqual(me["Arn"], "arn:aws:sts::123456789012:"
                             "assumed-role/node-sdk-role/node-sdk")
            self.assertRegex(me["UserId"], r"^AROA[A-Z2-7]{17}:node-sdk$")
            again = lam.invoke(FunctionName="node-sdk",
                               Payload=b'{"whoami":1}')
            self.assertEqual(json.loads(again["Payload"].read()), me)
            # anyone else is the account's root, for boto3 and aws
            sts = boto3.client("sts", endpoint_url=server.url)
            self.assertEqual(sts.get_caller_identity()["Arn"],
                             "arn:aws:iam::123456789012:root")
            out = server.aws("sts", "get-caller-identity")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)["Account"],
                             "123456789012")
            # the rest of STS: the error its clients parse, naming it
            with self.assertRaises(sts.exceptions.ClientError) as e:
                sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/x",
                                RoleSessionName="test")
            self.assertEqual(e.exception.response["Error"]["Code"],
                             "InvalidAction")
            self.assertIn("sts.AssumeRole",
                          e.exception.response["Error"]["Message"])
        finally:
            stop_cleanly(server)


if __name__ == "__main__":
    unittest.main(verbosity=2)
