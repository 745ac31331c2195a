"""Refused: two module-level function apps."""
import azure.functions as func

app = func.FunctionApp()
other = func.FunctionApp()
