import os


def handler(event, context):
    values = dict((k, v) for k, v in os.environ.items() if k.startswith("V_"))
    values["V_RUNTIME"] = "python"
    return values
