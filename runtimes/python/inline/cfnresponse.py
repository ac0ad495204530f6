"""cfnresponse, as Lambda gives it to python code written inline in a
template (ZipFile, InlineCode): send() reports a custom resource's
outcome to CloudFormation by a PUT of a JSON document to the event's
ResponseURL. Same names and arguments as Lambda's module."""
import json
import urllib.request

SUCCESS = "SUCCESS"
FAILED = "FAILED"


def send(event, context, responseStatus, responseData,
         physicalResourceId=None, noEcho=False, reason=None):
    body = json.dumps({
        "Status": responseStatus,
        "Reason": reason or ("See the details in CloudWatch Log Stream: " +
                             context.log_stream_name),
        "PhysicalResourceId": physicalResourceId or context.log_stream_name,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": noEcho,
        "Data": responseData,
    }).encode()
    req = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                 headers={"Content-Type": "",
                                          "Content-Length": str(len(body))})
    try:
        with urllib.request.urlopen(req) as r:
            print("Status code:", r.status)
    except Exception as e:  # noqa: BLE001 - reported, as Lambda's does
        print("send(..) failed executing request: " + str(e))
