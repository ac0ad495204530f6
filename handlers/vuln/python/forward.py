"""PLANTED BUG (secret-leak in a request, SQS): `handler` sends each
message it cannot parse on to a dead-letter queue with "context for
debugging", the function's whole environment included, so its AWS secret
key and session token travel in a message that anyone allowed to read
that queue can use. The clean twin, `handler_safe`, sends the message
and the error alone."""
import json
import os

import boto3

SQS = boto3.client("sqs")


def forward(event, context_of):
    parsed = 0
    for record in event.get("Records", []):
        try:
            json.loads(record["body"])
            parsed += 1
        except ValueError as e:
            url = SQS.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
            SQS.send_message(QueueUrl=url, MessageBody=json.dumps(
                {"message": record["body"], "context": context_of(e)}))
    return {"parsed": parsed}


def handler(event, context):
    return forward(event, lambda e: {"error": str(e),
                                     "env": dict(os.environ)})


def handler_safe(event, context):
    return forward(event, lambda e: {"error": str(e)})
