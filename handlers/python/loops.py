"""DELIBERATE BUGS, kept as samples: two more ways a function triggers
itself. requeue consumes the ring queue and sends into it again; shout is
subscribed to its own log group with a pattern its own output matches.
lambkin reports each at its first cycle and stops the chain."""
import boto3


def requeue(event, context):
    sqs = boto3.client("sqs")
    for r in event["Records"]:
        sqs.send_message(QueueUrl="ring", MessageBody="again: " + r["body"])
    return {}


def shout(event, context):
    print("SHOUT: something happened")
    return {}
