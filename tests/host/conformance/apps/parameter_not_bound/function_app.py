"""Refused: the decorator binds ``payload`` but the Python parameter is called ``data``."""
import azure.durable_functions as df

app = df.DFApp()


@app.activity_trigger(input_name="payload")
def rename(data: dict) -> dict:
    return data
