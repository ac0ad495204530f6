"""PLANTED BUG (self-invocation, S3): `handler` writes each thumbnail back
into the bucket whose uploads trigger it, under thumbs/, and the trigger
has no prefix filter: every thumbnail triggers another run, forever (the
$4,600 bill). The clean twin, `handler_safe`, writes to a bucket that
triggers nothing."""
import urllib.parse

import boto3

S3 = boto3.client("s3")


def objects(event):
    for record in event.get("Records", []):
        yield (record["s3"]["bucket"]["name"],
               urllib.parse.unquote_plus(record["s3"]["object"]["key"]))


def handler(event, context):
    for bucket, key in objects(event):
        S3.put_object(Bucket=bucket, Key="thumbs/" + key[-200:],
                      Body=b"thumbnail")
    return {"ok": True}


def handler_safe(event, context):
    for bucket, key in objects(event):
        S3.put_object(Bucket="thumbnails", Key="thumbs/" + key[-200:],
                      Body=b"thumbnail")
    return {"ok": True}
