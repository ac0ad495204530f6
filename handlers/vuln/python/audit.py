"""PLANTED BUG (log-injection, CloudWatch Logs subscription): `handler`
prints each subscribed log message into its own audit log as it is. A
message with a newline forges a whole audit record. The clean twin,
`handler_safe`, writes the message JSON-escaped, so it stays on its line."""
import base64
import gzip
import json


def messages(event):
    data = json.loads(gzip.decompress(
        base64.b64decode(event["awslogs"]["data"])))
    for e in data.get("logEvents", []):
        yield data.get("logGroup", "?"), str(e.get("message", ""))


def handler(event, context):
    n = 0
    for group, message in messages(event):
        print("AUDIT %s: %s" % (group, message))
        n += 1
    return {"audited": n}


def handler_safe(event, context):
    n = 0
    for group, message in messages(event):
        print("AUDIT %s: %s" % (group, json.dumps(message)))
        n += 1
    return {"audited": n}
