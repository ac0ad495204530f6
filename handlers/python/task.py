"""A sample with a robustness bug for the fuzzer: it trusts the SQS body to
be JSON with a "task" string. Any other body raises, and the message
comes back until it lands in the DLQ."""
import json


def handler(event, context):
    done = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        done.append(body["task"].upper())
    return {"done": done}
