"""PLANTED BUG (nosql-injection, SQS): `handler` lists a customer's
orders with the attributes the message asks for, pasting its "fields"
into the ProjectionExpression; DynamoDB expressions hold no literal
values, so message text in one is the expression's structure (here,
any attribute path the sender names, and a ValidationException for the
rest). The clean twin, `handler_safe`, takes only names from a fixed
list, and sends them as ExpressionAttributeNames."""
import json

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

TABLE = boto3.resource("dynamodb").Table("catalog")
FIELDS = {"customer", "pages", "price", "title"}


def requests(event):
    for record in event.get("Records", []):
        try:
            body = json.loads(record["body"])
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("customer"), str):
            yield body["customer"], str(body.get("fields") or "customer")


def handler(event, context):
    out = []
    for customer, fields in requests(event):
        try:
            r = TABLE.query(KeyConditionExpression=Key("customer").eq(customer),
                            ProjectionExpression=fields)
            out.append(r["Count"])
        except ClientError as e:
            out.append(e.response["Error"]["Code"])
    return out


def handler_safe(event, context):
    out = []
    for customer, fields in requests(event):
        names = [f.strip() for f in fields.split(",") if f.strip() in FIELDS]
        alias = {"#f%d" % i: n for i, n in enumerate(names or ["customer"])}
        r = TABLE.query(KeyConditionExpression=Key("customer").eq(customer),
                        ProjectionExpression=", ".join(alias),
                        ExpressionAttributeNames=alias)
        out.append(r["Count"])
    return out
