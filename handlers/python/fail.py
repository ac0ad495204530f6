"""Sample Python function that always raises: a function error."""


def handler(event, context):
    raise ValueError("something went wrong: %s" % (event.get("why", "no why")))
