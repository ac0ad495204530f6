def handler(event, context):
    return {"handler": "the last one"}
