"""Sample S3-triggered function: logs each object it is told about."""
import urllib.parse


def handler(event, context):
    keys = []
    for record in event["Records"]:
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        print("new object s3://%s/%s (%d bytes)" % (
            record["s3"]["bucket"]["name"], key,
            record["s3"]["object"]["size"]))
        keys.append(key)
    return {"keys": keys}
