"""PLANTED BUG (ssrf, SQS): `handler` posts a notification to whatever URL
the message names, so a sender can make the function reach internal hosts
(the metadata service, a database). The clean twin, `handler_safe`, only
calls hosts on an allow-list."""
import json
import urllib.error
import urllib.parse
import urllib.request

ALLOWED = {"127.0.0.1"}


def urls(event):
    for record in event.get("Records", []):
        try:
            body = json.loads(record["body"])
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("url"), str):
            yield body["url"]


def notify(url):
    try:
        urllib.request.urlopen(url, data=b"{}", timeout=1).close()
        return True
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print("webhook failed: %s" % type(exc).__name__)
        return False


def handler(event, context):
    return {"sent": [notify(u) for u in urls(event)]}


def handler_safe(event, context):
    sent = []
    for url in urls(event):
        try:
            host = urllib.parse.urlsplit(url).hostname
        except ValueError:
            host = None
        sent.append(notify(url) if host in ALLOWED else False)
    return {"sent": sent}
