"""One Blueprint per pattern. A pattern's orchestrator, activities, entity and routes all
register on its blueprint; ``function_app.py`` registers the blueprints on the app."""
import azure.durable_functions as df

starter = df.Blueprint()  # the generic POST /api/orchestrators/{functionName}
chaining = df.Blueprint()
fan_out_fan_in = df.Blueprint()
async_http_api = df.Blueprint()
monitor = df.Blueprint()
human_interaction = df.Blueprint()
counter = df.Blueprint()

ALL = (starter, chaining, fan_out_fan_in, async_http_api, monitor, human_interaction, counter)
