"""Valid: no annotations at all, and a timer trigger."""
import azure.functions as func

app = func.FunctionApp()


@app.route(route="echo", auth_level=func.AuthLevel.ANONYMOUS)
def echo(req):
    return func.HttpResponse(req.get_body())


@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
def tick(timer: func.TimerRequest) -> None:
    pass
