"""PLANTED BUG (command-injection behind a magic value, SQS): `handler`
runs operators' commands from a queue; "restart NAME" restarts a service
by pasting NAME into a shell command, so "restart web;CMD" runs CMD.
Only a body that starts with the word "restart " reaches the shell: a
fuzzer that does not learn that word from the code never gets there.
The clean twin, `handler_safe`, takes only the services it knows and
runs the command without a shell."""
import subprocess

SERVICES = {"web", "worker", "cron"}
PREFIX = "restart "


def commands(event):
    for record in event.get("Records", []):
        body = record.get("body") or ""
        if body == "status":
            yield "status", ""
        elif body.startswith(PREFIX):
            yield "restart", body[len(PREFIX):]


def handler(event, context):
    done = []
    for cmd, name in commands(event):
        if cmd == "restart":
            subprocess.run("echo restarting " + name, shell=True,
                           stdout=subprocess.DEVNULL, check=False)
        done.append(cmd)
    return done


def handler_safe(event, context):
    done = []
    for cmd, name in commands(event):
        if cmd == "restart" and name in SERVICES:
            subprocess.run(["echo", "restarting", name],
                           stdout=subprocess.DEVNULL, check=False)
        done.append(cmd)
    return done
