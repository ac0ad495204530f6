"""PLANTED BUG (sql-injection, SQS): `handler` formats the message's
customer name into the SQL text, so a name like `x' OR 'a'='a` reads every
customer's orders. The clean twin, `handler_safe`, binds it as a
parameter."""
import json
import sqlite3

DB = sqlite3.connect(":memory:")
DB.execute("CREATE TABLE orders (id INTEGER, customer TEXT, total REAL)")
DB.executemany("INSERT INTO orders VALUES (?, ?, ?)",
               [(1, "alice", 10.0), (2, "bob", 25.5), (3, "carol", 7.25)])


def customers(event):
    for record in event.get("Records", []):
        try:
            body = json.loads(record["body"])
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("customer"), str):
            yield body["customer"]


def handler(event, context):
    found = []
    for name in customers(event):
        try:
            found += DB.execute(
                "SELECT id, total FROM orders WHERE customer = '%s'" % name
            ).fetchall()
        except sqlite3.Error as exc:
            print("query failed: %s" % exc)
    return {"orders": found}


def handler_safe(event, context):
    found = []
    for name in customers(event):
        found += DB.execute(
            "SELECT id, total FROM orders WHERE customer = ?", (name,)
        ).fetchall()
    return {"orders": found}
