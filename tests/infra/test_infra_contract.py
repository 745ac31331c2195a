"""Contract between the app, host.json and infra/ (Bicep + azd). No network, no Bicep compiler.

Fails when: the app reads a setting infra does not set; a required role is missing; a secret or
key-bearing connection string appears in infra; an output named *CONNECTION_STRING* is not a
connection string. The resources themselves (parameters, security baseline, azd) are checked in
``test_infra_resources.py``.
"""
from __future__ import annotations

import json
import re
import warnings

import pytest

from app_settings_scan import host_json_settings, scan
from bicep_text import BicepFile, inner, literal, object_entries, split_top_level
from infra_files import ALL_BICEP, API, INFRA, MAIN, RBAC, ROOT


# The one list of settings infra must always set, whatever the app code reads today.
REQUIRED_SETTINGS = {
    "TASK_HUB_NAME": "host.json hubName is %TASK_HUB_NAME%",
    "APPROVAL_TIMEOUT_HOURS": "human-interaction pattern timeout",
    "INPUT_CONTAINER": "fan-out/fan-in input blobs",
    "JOBS_CONTAINER": "async HTTP API job payloads",
    "RESULTS_CONTAINER": "results blobs",
    "AzureWebJobsStorage__credential": "identity-based host storage",
    "AzureWebJobsStorage__clientId": "which user-assigned identity the host uses",
    "AzureWebJobsStorage__blobServiceUri": "host storage (blob)",
    "AzureWebJobsStorage__queueServiceUri": "host storage (queue, Durable Functions)",
    "AzureWebJobsStorage__tableServiceUri": "host storage (table, Durable Functions)",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "telemetry destination",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Entra auth for telemetry (local auth is disabled)",
    "AZURE_CLIENT_ID": "DefaultAzureCredential picks the user-assigned identity",
}

# Settings the app may read that infra deliberately does not set.
ALLOW_LISTED = {
    "AzureWebJobsStorage": "satisfied by the AzureWebJobsStorage__* identity settings; there is no connection string",
    "FUNCTIONS_WORKER_RUNTIME": "implied by Flex Consumption functionAppConfig.runtime (Flex rejects the setting)",
    "FUNCTIONS_EXTENSION_VERSION": "fixed by Flex Consumption (Flex rejects the setting)",
    "AZURE_FUNCTIONS_ENVIRONMENT": "provided by the Functions host",
    "WEBSITE_HOSTNAME": "provided by the platform",
    "WEBSITE_SITE_NAME": "provided by the platform",
    "WEBSITE_INSTANCE_ID": "provided by the platform",
}

REQUIRED_ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": ("Storage Blob Data Owner", "storage"),
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": ("Storage Queue Data Contributor", "storage"),
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": ("Storage Table Data Contributor", "storage"),
    "3913510d-42f4-4e42-8a64-420c390055eb": ("Monitoring Metrics Publisher", "appInsights"),
    "0ad04412-c4d5-4796-b79c-f76d14c8d402": ("Durable Task Data Contributor", "taskHub"),
}

SECRET_PATTERNS = {
    r"AccountKey\s*=": "storage account key in a connection string",
    r"DefaultEndpointsProtocol\s*=": "key-based storage connection string",
    r"SharedAccessSignature": "SAS token",
    r"SharedAccessKey\s*=": "shared access key",
    r"\blistKeys\s*\(": "listKeys() puts a key into the deployment",
    r"\blist\w*(Sas|ConnectionStrings|Secrets|Credentials?)\s*\(": "list*() secret functions",
    r"\.listKeys\b": "listKeys on a resource",
    r"InstrumentationKey\s*=": "hard-coded App Insights key; use properties.ConnectionString",
    r"\bprimaryKey\b|\bsecondaryKey\b|\bprimaryConnectionString\b": "key properties",
    r"\bWEBSITE_CONTENTAZUREFILECONNECTIONSTRING\b": "Azure Files content share needs a key (not used on Flex)",
}


def settings_in(expr: str, bicep: BicepFile, passed: dict[str, str], seen: set[str] | None = None) -> set[str]:
    """Setting names an app-settings expression can produce: keys of object literals,
    followed through variables and through params to what main.bicep passes."""
    seen = set() if seen is None else seen
    expr = expr.strip()
    if expr.startswith("{"):
        return set(object_entries(inner(expr)))
    names: set[str] = set()
    variables, params = bicep.variables, bicep.params
    code = re.sub(r"'(?:[^'\\]|\\.)*'", "''", expr)
    for ident in re.findall(r"\b[A-Za-z_]\w*\b", code):
        if ident in seen:
            continue
        seen.add(ident)
        if ident in variables:
            names |= settings_in(variables[ident], bicep, passed, seen)
        elif ident in params and ident in passed:
            names |= settings_in(passed[ident], MAIN, {}, seen)
    return names


def infra_settings() -> set[str]:
    config = [r for r in API.resources if r.type == "Microsoft.Web/sites/config"]
    assert len(config) == 1, "api.bicep must set app settings in one Microsoft.Web/sites/config resource"
    body = object_entries(config[0].body)
    assert literal(body["name"]) == "appsettings"
    return settings_in(body["properties"], API, MAIN.modules["api"].params)


def resolve_output(expr: str, bicep: BicepFile) -> list[str]:
    """Follow module outputs and variables down to the expressions that produce a value."""
    expr = expr.strip()
    branches = split_top_level(expr.replace("?", "\n?").replace(" : ", "\n: "))
    if len(branches) > 1:
        return [leaf for b in branches for leaf in resolve_output(b.lstrip("?:"), bicep)]
    m = re.fullmatch(r"(\w+)\.outputs\.(\w+)", expr)
    if m and m.group(1) in bicep.modules:
        module_file = BicepFile.load(bicep.path.parent / bicep.modules[m.group(1)].path)
        return resolve_output(module_file.outputs[m.group(2)][1], module_file)
    if expr in bicep.variables:
        return resolve_output(bicep.variables[expr], bicep)
    return [expr]


def is_connection_string(expr: str) -> bool:
    if expr == "''":
        return True  # a disabled optional backend
    if re.fullmatch(r"\w+\.properties\.[Cc]onnectionString", expr):
        return True
    return bool(re.fullmatch(r"'[A-Za-z]+=[^']*;[^']*'", expr)) and not re.search(SECRETS_RE, expr)


SECRETS_RE = "|".join(SECRET_PATTERNS)


# --- settings -------------------------------------------------------------------------------

def test_required_settings_are_set():
    missing = sorted(set(REQUIRED_SETTINGS) - infra_settings())
    assert not missing, f"infra does not set: {missing}"


def test_every_setting_the_app_reads_is_set():
    found = scan(ROOT)
    read = set(found.reads) | host_json_settings(ROOT / "host.json")
    unset = sorted(read - infra_settings() - set(ALLOW_LISTED))
    where = {name: sorted(found.reads.get(name, {"host.json"})) for name in unset}
    assert not unset, f"the app reads settings infra/ does not set: {where}"
    if found.dynamic:
        warnings.warn(f"settings read with a non-constant name cannot be checked: {found.dynamic}")


def test_binding_connections_are_set():
    settings = infra_settings()
    for name, files in scan(ROOT).connections.items():
        ok = name in settings or any(s.startswith(name + "__") for s in settings)
        assert ok, f"binding connection {name!r} ({sorted(files)}) has no {name} or {name}__* setting"


def test_plain_azurewebjobsstorage_read_has_identity_fallback():
    reads = scan(ROOT).reads
    if "AzureWebJobsStorage" in reads:
        fallback = {"AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__accountName"}
        assert fallback & set(reads), (
            f"{sorted(reads['AzureWebJobsStorage'])} read AzureWebJobsStorage, which does not exist in Azure "
            "(identity-based settings only); also read AzureWebJobsStorage__blobServiceUri"
        )


def test_allow_list_entries_have_reasons():
    assert all(reason.strip() for reason in ALLOW_LISTED.values())
    assert not set(ALLOW_LISTED) & set(REQUIRED_SETTINGS)


def test_app_setting_values_match_their_params():
    passed = object_entries(inner(MAIN.modules["api"].params["appSettings"]))
    assert passed["TASK_HUB_NAME"] == "effectiveTaskHubName"
    assert passed["APPROVAL_TIMEOUT_HOURS"] == "string(approvalTimeoutHours)"
    defaults = {"INPUT_CONTAINER": ("inputContainerName", "input"), "JOBS_CONTAINER": ("jobsContainerName", "jobs"),
                "RESULTS_CONTAINER": ("resultsContainerName", "results")}
    for setting, (param, default) in defaults.items():
        assert passed[setting] == param
        assert literal(MAIN.params[param].default) == default
    assert literal(MAIN.params["approvalTimeoutHours"].default) == 72


def test_data_containers_are_created():
    containers = split_top_level(inner(MAIN.modules["storage"].params["containers"], "["))
    assert set(containers) == {"deploymentStorageContainerName", "inputContainerName", "jobsContainerName",
                               "resultsContainerName"}


def test_task_hub_name_is_per_environment_and_valid():
    expr = MAIN.variables["derivedTaskHubName"]
    assert "environmentName" in expr and expr.startswith("take('hub") and expr.endswith(", 45)")

    def derive(env: str) -> str:  # the Bicep expression, in Python
        return ("hub" + env.lower().replace("-", "").replace("_", "").replace(".", ""))[:45]

    for env in ["dev", "my-env-01", "A", "x" * 64, "feature_branch.7"]:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,44}", derive(env)), env
    assert MAIN.modules["dts"].params["taskHubName"] == "effectiveTaskHubName", "scheduler task hub must be TASK_HUB_NAME"
    assert MAIN.params["taskHubName"].decorators and "@maxLength(45)" in MAIN.params["taskHubName"].decorators


def test_host_json_keeps_hub_and_polling_interval():
    host = json.loads((ROOT / "host.json").read_text())
    durable = host["extensions"]["durableTask"]
    assert durable["hubName"] == "%TASK_HUB_NAME%"
    assert durable["storageProvider"].get("maxQueuePollingInterval") == "00:00:05"


# --- roles ----------------------------------------------------------------------------------

def test_required_roles_are_assigned_with_their_scope():
    roles = dict(re.findall(r"\{\s*id:\s*'([0-9a-f-]{36})',\s*scope:\s*'(\w+)'\s*\}", RBAC.variables["roles"]))
    for role_id, (name, scope) in REQUIRED_ROLES.items():
        assert role_id in roles, f"{name} ({role_id}) missing from rbac.bicep roles"
        assert roles[role_id] == scope, f"{name} must be scoped to {scope}, not {roles[role_id]}"
    assert set(roles) == set(REQUIRED_ROLES), f"unexpected roles: {set(roles) - set(REQUIRED_ROLES)}"


def test_role_assignments_come_from_the_one_list():
    for bicep in ALL_BICEP:
        for r in bicep.resources:
            if r.type == "Microsoft.Authorization/roleAssignments":
                assert bicep.path == RBAC.path, f"role assignment outside rbac.bicep: {bicep.path.name}:{r.symbol}"
                assert r.loop, f"{r.symbol} is a hand-written assignment; use the roles list"
                body = object_entries(r.body)
                assert body["scope"] in {"storageAccount", "applicationInsights", "taskHub"}
                assert "a.roleDefinitionId" in body["name"] and "a.principalId" in body["name"]
    assert "principalType: p.type" in RBAC.variables["assignments"]


def test_identity_and_deploying_user_are_principals():
    principals = RBAC.variables["principals"]
    assert "managedIdentityPrincipalId, type: 'ServicePrincipal'" in principals
    assert "empty(principalId) ? [] :" in principals
    assert literal(RBAC.params["principalType"].default) == "User"
    passed = MAIN.modules["rbac"].params
    assert passed["principalId"] == "principalId" and passed["managedIdentityPrincipalId"] == "identity.outputs.principalId"


# --- secrets --------------------------------------------------------------------------------

def secret_findings(text: str) -> list[str]:
    return [why for pattern, why in SECRET_PATTERNS.items() if re.search(pattern, text, re.I)]


def infra_texts():
    for path in sorted(INFRA.rglob("*")):
        if path.suffix in (".bicep", ".json", ".bicepparam"):
            yield path, path.read_text(encoding="utf-8")
    yield ROOT / "azure.yaml", (ROOT / "azure.yaml").read_text(encoding="utf-8")


def test_no_secrets_in_infra():
    findings = {str(p.relative_to(ROOT)): f for p, text in infra_texts() if (f := secret_findings(text))}
    assert not findings, findings


def test_secure_params_have_no_defaults_and_outputs_are_not_secrets():
    for bicep in ALL_BICEP:
        for p in bicep.params.values():
            assert not (p.secure and p.default is not None), f"{bicep.path.name}: @secure param {p.name} has a default"
        for statement in bicep.statements:
            if statement.keyword == "output":
                assert not any(d.startswith("@secure") for d in statement.decorators)


def test_no_key_based_host_storage_setting():
    assert "AzureWebJobsStorage" not in infra_settings()
    assert literal(object_entries(inner(API.variables["hostStorageSettings"]))["AzureWebJobsStorage__credential"]) \
        == "managedidentity"


@pytest.mark.parametrize("bad", [
    "var cs = 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${stg.listKeys().keys[0].value}'",
    "output key string = storage.listKeys().keys[0].value",
    "var ai = 'InstrumentationKey=00000000-0000-0000-0000-000000000000'",
    "var sas = stg.listAccountSas('2023-01-01', {}).accountSasToken",
])
def test_secret_scanner_catches(bad):
    assert secret_findings(bad)


# --- outputs --------------------------------------------------------------------------------

def test_connection_string_outputs_are_connection_strings():
    for bicep in ALL_BICEP:
        for name, (_, expr) in bicep.outputs.items():
            if "connectionstring" in name.lower().replace("_", ""):
                leaves = resolve_output(expr, bicep)
                assert all(is_connection_string(leaf) for leaf in leaves), f"{bicep.path.name}:{name} = {leaves}"
    assert resolve_output(MAIN.outputs["APPLICATIONINSIGHTS_CONNECTION_STRING"][1], MAIN) == [
        "applicationInsights.properties.ConnectionString"]


def test_connection_string_check_rejects_a_name():
    # The flaw in the quickstart template: the output named *_CONNECTION_STRING returned a resource name.
    assert not all(is_connection_string(x) for x in resolve_output("monitoring.outputs.applicationInsightsName", MAIN))


def test_dts_connection_string_is_identity_based():
    value = literal(object_entries(inner(API.variables["dtsSettings"]))["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]
                    .replace("${durableTaskSchedulerEndpoint}", "E").replace("${identityClientId}", "C"))
    assert value == "Endpoint=E;Authentication=ManagedIdentity;ClientID=C"


def test_naming_conventions():
    for bicep in ALL_BICEP:
        for p in bicep.params.values():
            assert re.fullmatch(r"[a-z][A-Za-z0-9]*", p.name), f"{bicep.path.name}: param {p.name} is not camelCase"
            assert p.description, f"{bicep.path.name}: param {p.name} has no @description"
        for name in bicep.outputs:
            pattern = r"[A-Z][A-Z0-9_]*" if bicep is MAIN else r"[a-z][A-Za-z0-9]*"
            assert re.fullmatch(pattern, name), f"{bicep.path.name}: output {name}"


def test_outputs_azd_and_smoke_test_use():
    for name in ["AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME", "SERVICE_API_URI", "APPLICATIONINSIGHTS_CONNECTION_STRING",
                 "TASK_HUB_NAME", "AZURE_LOCATION", "AZURE_TENANT_ID"]:
        assert name in MAIN.outputs
    assert MAIN.outputs["SERVICE_API_URI"][1] == "api.outputs.uri"
    assert API.outputs["uri"][1] == "'https://${functionApp.properties.defaultHostName}'"
