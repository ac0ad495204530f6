"""Sample Python function that reports what the runtime gave it."""
import os


def handler(event, context):
    keys = ["AWS_LAMBDA_RUNTIME_API", "_HANDLER", "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_REGION", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_LOG_GROUP_NAME",
            "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "GREETING",
            "STAGE", "_X_AMZN_TRACE_ID"]
    return {
        "env": {k: os.environ.get(k) for k in keys},
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
        "client_context": None if context.client_context is None else {
            "custom": context.client_context.custom,
            "app_title": getattr(context.client_context.client,
                                 "app_title", None),
        },
    }
