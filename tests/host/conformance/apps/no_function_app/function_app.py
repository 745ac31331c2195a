"""Refused: no module-level FunctionApp/DFApp, so the worker finds nothing to index."""
import azure.functions as func


def make_app() -> func.FunctionApp:
    return func.FunctionApp()
