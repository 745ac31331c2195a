"""Refused: two functions with the same Functions name (the SDK's get_functions refuses it)."""
import azure.durable_functions as df

app = df.DFApp()


@app.function_name("Greet")
@app.activity_trigger(input_name="payload")
def greet(payload: dict) -> dict:
    return payload


@app.function_name("Greet")
@app.activity_trigger(input_name="payload")
def greet_again(payload: dict) -> dict:
    return payload
