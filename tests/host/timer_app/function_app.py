"""A timer-trigger app for the host's schedule runner."""
import azure.functions as func

app = func.FunctionApp()
FIRED: list[bool] = []


@app.timer_trigger(schedule="00:00:00.05", arg_name="timer", run_on_startup=True)
def every_50_ms(timer: func.TimerRequest) -> None:
    FIRED.append(timer.past_due)
