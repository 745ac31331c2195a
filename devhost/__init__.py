"""devhost: a local stand-in for the Azure Functions host plus the Durable Functions extension.

It runs an unmodified Python v2-model function app through the real ``azure-functions-durable``
SDK (1.x, the extension's JSON replay protocol), serves its HTTP routes and the durable
management API, keeps state in memory or in Azure Storage (Azurite locally), and offers a
virtual clock for tests. Development and tests only; on Azure the real host runs the app.

    python -m devhost --app-dir .            # serve on :7071
    from devhost.testing import DurableTestHost
"""
