"""A DELIBERATE BUG, kept as a sample: the function invokes itself
asynchronously, the direct form of recursion. lambkin stops the second
invocation with RecursiveInvocationException and reports the loop."""
import json

import boto3

lam = boto3.client("lambda")


def handler(event, context):
    n = event.get("n", 0)
    lam.invoke(FunctionName=context.function_name, InvocationType="Event",
               Payload=json.dumps({"n": n + 1}))
    return {"n": n}
