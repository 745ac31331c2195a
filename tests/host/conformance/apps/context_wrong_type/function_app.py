"""Refused: an unbound ``context`` parameter must be annotated ``azure.functions.Context``."""
import azure.durable_functions as df

app = df.DFApp()


@app.activity_trigger(input_name="payload")
def greet(payload: dict, context: dict) -> dict:
    return payload
