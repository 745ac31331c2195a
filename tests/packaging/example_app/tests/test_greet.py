"""This app's own test, on the ``durable_host`` fixture of the installed devhost pytest plugin."""


async def test_greet_over_http(durable_host):
    async with durable_host.request("POST", "/api/greetings/Ada") as response:
        assert response.status == 202
        instance_id = (await response.json())["id"]
    status = await durable_host.wait(instance_id)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == ["Hello Ada!", "Hello Ada again!"]
