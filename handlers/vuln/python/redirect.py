"""PLANTED BUG (header-injection, API Gateway REST): `handler` copies the
`next` query parameter into the Location header. A value with CR/LF adds
headers of the sender's choosing (a Set-Cookie, a second response). The
clean twin, `handler_safe`, accepts only a local path of printable
characters."""


def target(event):
    query = event.get("queryStringParameters") or {}
    return query.get("next") or "/"


def handler(event, context):
    return {"statusCode": 302, "headers": {"Location": target(event)},
            "body": ""}


def handler_safe(event, context):
    nxt = target(event)
    if not nxt.startswith("/") or nxt.startswith("//") or \
            any(ord(c) < 0x21 or ord(c) == 0x7f for c in nxt):
        return {"statusCode": 400, "body": "bad redirect"}
    return {"statusCode": 302, "headers": {"Location": nxt}, "body": ""}
