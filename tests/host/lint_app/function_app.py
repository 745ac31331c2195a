"""Deliberately broken orchestrators: every determinism rule the lint knows, once each."""
import os
import random
import time
import uuid
from datetime import datetime

import azure.durable_functions as df
import requests

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def clock_reader(context):
    started = datetime.now()
    time.sleep(1)
    yield context.call_activity("a", started.isoformat() + str(time.time()))


@app.orchestration_trigger(context_name="context")
def random_and_ids(context):
    yield context.call_activity("a", [random.randint(1, 6), str(uuid.uuid4())])


@app.orchestration_trigger(context_name="context")
def settings_and_io(context):
    region = os.environ["REGION"] + os.getenv("ZONE", "")
    with open("/tmp/x") as handle:
        yield context.call_activity("a", handle.read() + region + requests.get("http://x").text)


@app.orchestration_trigger(context_name="context")
async def async_orchestrator(context):
    return 1


@app.orchestration_trigger(context_name="context")
def clean(context):
    now = context.current_utc_datetime
    yield context.call_activity("a", [now.isoformat(), str(context.new_uuid())])


@app.activity_trigger(input_name="x")
def a(x):
    return x
