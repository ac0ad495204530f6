"""Sample Python function that sleeps: past its Timeout it is killed."""
import os
import time


def handler(event, context):
    seconds = float(event.get("sleep", 5))
    print("sleeping", seconds, "remaining", context.get_remaining_time_in_millis())
    time.sleep(seconds)
    return {"slept": seconds, "pid": os.getpid()}
