"""Sample Python function: returns the event, and logs one line."""


def handler(event, context):
    print("echo", context.aws_request_id, context.function_name)
    return event
