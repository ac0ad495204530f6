"""Sample CloudWatch Logs subscriber: decodes the awslogs payload and
prints each matching line."""
import base64
import gzip
import json


def handler(event, context):
    data = json.loads(gzip.decompress(base64.b64decode(
        event["awslogs"]["data"])))
    for e in data["logEvents"]:
        print("ALERT from %s: %s" % (data["logGroup"], e["message"]))
    return {"alerts": len(data["logEvents"])}
