"""PLANTED BUG (secret-leak, SQS): `handler` mails a receipt for each
message; when a message cannot be parsed it logs the SMTP settings it
was about to use "for debugging", password included, so whoever can
read the function's log (or send it a broken message and then read it)
has the mail account. The clean twin, `handler_safe`, logs the user and
host alone."""
import json
import os


def smtp_settings():
    return {"host": os.environ.get("SMTP_HOST", "localhost"),
            "user": os.environ.get("SMTP_USER", ""),
            "password": os.environ.get("SMTP_PASSWORD", "")}


def receipts(event, debug):
    sent = 0
    for record in event.get("Records", []):
        try:
            order = json.loads(record["body"])
            sent += isinstance(order, dict) and "customer" in order
        except ValueError:
            print("receipt failed, smtp settings: %s" % debug())
    return {"sent": sent}


def handler(event, context):
    return receipts(event, lambda: json.dumps(smtp_settings()))


def handler_safe(event, context):
    def debug():
        s = smtp_settings()
        return "%s@%s" % (s["user"], s["host"])
    return receipts(event, debug)
