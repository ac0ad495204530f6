"""PLANTED BUG (secret-leak, SQS): `handler` answers a message for a
customer it does not know with its whole configuration for debugging,
os.environ included, so whoever sends such a message reads the
function's AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the answer.
The clean twin, `handler_safe`, answers with the error alone."""
import json
import os

SETTINGS = {"alice": {"currency": "EUR"}, "bob": {"currency": "USD"}}


def customer_settings(record):
    body = json.loads(record["body"])
    return SETTINGS[body["customer"]]


def handler(event, context):
    out = []
    for record in event.get("Records", []):
        try:
            out.append(customer_settings(record))
        except (ValueError, KeyError, TypeError) as e:
            out.append({"error": repr(e), "config": dict(os.environ)})
    return out


def handler_safe(event, context):
    out = []
    for record in event.get("Records", []):
        try:
            out.append(customer_settings(record))
        except (ValueError, KeyError, TypeError):
            out.append({"error": "unknown customer"})
    return out
