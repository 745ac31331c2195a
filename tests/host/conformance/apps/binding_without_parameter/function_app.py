"""Refused: the timer binding ``timer`` has no Python parameter."""
import azure.functions as func

app = func.FunctionApp()


@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
def tick() -> None:
    pass
