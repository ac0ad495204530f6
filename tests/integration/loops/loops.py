"""Two deliberate loops for the tests: one through SQS, one through a log
subscription."""
import boto3


def requeue(event, context):
    sqs = boto3.client("sqs")
    for r in event["Records"]:
        sqs.send_message(QueueUrl="ring", MessageBody="again: " + r["body"])
    return {}


def shout(event, context):
    print("SHOUT: something happened")
    return {}
