"""Sample REST API function (API Gateway payload 1.0): answers with the
event it got, so callers can see exactly what API Gateway passes on."""
import json


def handler(event, context):
    params = event.get("pathParameters") or {}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json",
                    "X-Item": params.get("id", params.get("proxy", "-"))},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps({"event": event}),
    }
