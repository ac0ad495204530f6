"""A DELIBERATE BUG, kept as a sample: the function is triggered by every
new object in the photos bucket and writes its thumbnail back into the
same bucket, so each thumbnail triggers it again. Deployed, this loops
until someone notices the bill; lambkin reports the loop at its first
cycle (thumbnailer -> s3://photos/thumbs/... -> thumbnailer) and stops it.
The fix is a prefix filter on the event, or a second bucket."""
import urllib.parse

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket=bucket, Key="thumbs/" + key.split("/")[-1],
                      Body=body[:64])
    return {"ok": True}
