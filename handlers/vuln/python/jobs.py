"""PLANTED BUG (deserialization, SQS): `handler` takes each message body
as a base64 pickle of a print job, as task queues that use pickle as
their serializer do; unpickling calls whatever the data names, so a
message is code the function runs. The clean twin, `handler_safe`,
reads the job as base64 JSON."""
import base64
import binascii
import json
import pickle


def handler(event, context):
    jobs = []
    for record in event.get("Records", []):
        try:
            job = pickle.loads(base64.b64decode(record["body"]))
        except Exception:  # noqa: BLE001 - garbage is not a job
            continue
        jobs.append(repr(job)[:100])
    return {"jobs": jobs}


def handler_safe(event, context):
    jobs = []
    for record in event.get("Records", []):
        try:
            job = json.loads(base64.b64decode(record["body"]))
        except (binascii.Error, ValueError, TypeError):  # not a job
            continue
        jobs.append(repr(job)[:100])
    return {"jobs": jobs}
