"""infra/'s resources: main.bicep, its modules and their parameters agree; the security baseline
(identity-only storage, Entra-only App Insights, Flex Consumption, optional network isolation) is
not weakened; azure.yaml declares what azd deploys. No network, no Bicep compiler.
"""
from __future__ import annotations

import json
import re

import pytest

from bicep_text import BicepFile, inner, literal, object_entries
from infra_files import ALL_BICEP, API, INFRA, MAIN, MODULE_FILES, ROOT, load_yaml


# --- main.bicep <-> modules <-> parameters ----------------------------------------------------

def test_module_params_agree_with_main():
    for sym, module in MAIN.modules.items():
        declared = MODULE_FILES[sym].params
        unknown = set(module.params) - set(declared)
        assert not unknown, f"main passes unknown params to {sym}: {unknown}"
        required = {n for n, p in declared.items() if p.default is None}
        assert not required - set(module.params), f"{sym} is missing required params {required - set(module.params)}"
        for key, value in module.params.items():
            target = declared[key]
            allowed = target.allowed()
            if literal(value) is not None and allowed is not None:
                assert literal(value) in allowed, f"{sym}.{key} = {value} not in {allowed}"
            if value in MAIN.params:
                source = MAIN.params[value]
                if source.allowed() is not None and allowed is not None:
                    assert set(source.allowed()) <= set(allowed), f"main.{value} allows more than {sym}.{key}"
                if literal(source.default) is not None and literal(target.default) is not None:
                    assert literal(source.default) == literal(target.default), (
                        f"default of main.{value} ({source.default}) != {sym}.{key} ({target.default})")


def test_parameters_file_matches_main():
    params = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert not set(params) - set(MAIN.params), f"unknown params: {set(params) - set(MAIN.params)}"
    required = {n for n, p in MAIN.params.items() if p.default is None}
    assert required <= set(params)
    assert params["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert params["location"]["value"] == "${AZURE_LOCATION}"
    assert params["principalId"]["value"] == "${AZURE_PRINCIPAL_ID}"
    assert params["durableBackend"]["value"].startswith("${DURABLE_BACKEND")


def test_names_use_abbreviations_and_resource_token():
    abbrs = json.loads((INFRA / "abbreviations.json").read_text())
    for bicep in ALL_BICEP:
        for key in re.findall(r"\babbrs\.(\w+)", bicep.text):
            assert key in abbrs, f"{bicep.path.name}: abbreviation {key} missing"
    assert MAIN.variables["resourceToken"] == "toLower(uniqueString(subscription().id, environmentName, location))"
    assert "targetScope = 'subscription'" in MAIN.text


# --- security baseline ------------------------------------------------------------------------

def resource(bicep: BicepFile, type_: str):
    found = [r for r in bicep.resources if r.type == type_ and not r.existing]
    assert len(found) == 1, f"{bicep.path.name}: expected one {type_}"
    return found[0]


def test_storage_is_identity_only():
    props = object_entries(inner(object_entries(resource(MODULE_FILES["storage"], "Microsoft.Storage/storageAccounts").body)["properties"]))
    assert props["allowSharedKeyAccess"] == "false"
    assert props["minimumTlsVersion"] == "'TLS1_2'"
    assert props["allowBlobPublicAccess"] == "false"
    assert props["supportsHttpsTrafficOnly"] == "true"
    assert props["publicNetworkAccess"] == "vnetEnabled ? 'Disabled' : 'Enabled'"
    assert MAIN.modules["storage"].params["vnetEnabled"] == "vnetEnabled"


def test_application_insights_is_workspace_based_entra_only():
    props = object_entries(inner(object_entries(resource(MODULE_FILES["monitoring"], "Microsoft.Insights/components").body)["properties"]))
    assert props["DisableLocalAuth"] == "true"
    assert props["WorkspaceResourceId"] == "logAnalytics.id"
    auth = object_entries(inner(API.variables["monitoringSettings"]))["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]
    assert auth == "'ClientId=${identityClientId};Authorization=AAD'"


def test_function_app_is_flex_consumption():
    site = object_entries(resource(API, "Microsoft.Web/sites").body)
    assert literal(site["kind"]) == "functionapp,linux"
    assert "'azd-service-name': serviceName" in site["tags"] and literal(API.params["serviceName"].default) == "api"
    config = inner(inner(site["properties"]).split("functionAppConfig:", 1)[1])
    storage = object_entries(inner(object_entries(inner(object_entries(config)["deployment"]))["storage"]))
    assert literal(storage["type"]) == "blobContainer"
    auth = object_entries(inner(storage["authentication"]))
    assert literal(auth["type"]) == "UserAssignedIdentity" and auth["userAssignedIdentityResourceId"] == "identityId"
    scale = object_entries(inner(object_entries(config)["scaleAndConcurrency"]))
    assert {"instanceMemoryMB", "maximumInstanceCount", "alwaysReady"} <= set(scale)
    runtime = object_entries(inner(object_entries(config)["runtime"]))
    assert literal(runtime["name"]) == "python" and runtime["version"] == "runtimeVersion"
    assert literal(MAIN.params["pythonVersion"].default) == "3.11"
    plan = object_entries(inner(object_entries(resource(MODULE_FILES["plan"], "Microsoft.Web/serverfarms").body)["sku"]))
    assert literal(plan["name"]) == "FC1" and literal(plan["tier"]) == "FlexConsumption"


def test_always_ready_durable_group_is_optional_and_off_by_default():
    assert "name: 'durable'" in API.variables["durableAlwaysReady"]
    assert API.variables["alwaysReady"] == "durableAlwaysReadyInstanceCount > 0 ? durableAlwaysReady : []"
    assert literal(MAIN.params["durableAlwaysReadyInstanceCount"].default) == 0


def test_scheduler_backend_is_optional_and_wired():
    assert MAIN.modules["dts"].condition == "useScheduler"
    assert MAIN.variables["useScheduler"] == "durableBackend == 'DurableTaskScheduler'"
    assert literal(MAIN.params["durableBackend"].default) == "AzureStorage"
    dts = MODULE_FILES["dts"]
    assert {r.type for r in dts.resources} == {"Microsoft.DurableTask/schedulers", "Microsoft.DurableTask/schedulers/taskHubs"}
    assert dts.outputs["endpoint"][1] == "scheduler.properties.endpoint"
    assert MAIN.modules["api"].params["durableTaskSchedulerEndpoint"] == "useScheduler ? dts.outputs.endpoint : ''"


def test_vnet_is_optional_and_covers_storage_and_scheduler():
    assert literal(MAIN.params["vnetEnabled"].default) is False
    assert MAIN.modules["vnet"].condition == "vnetEnabled" and MAIN.modules["privateEndpoints"].condition == "vnetEnabled"
    pe = MODULE_FILES["privateEndpoints"]
    assert "[ 'blob', 'queue', 'table' ]" in pe.variables["storageTargets"]
    assert "groupId: 'scheduler'" in pe.variables["schedulerTargets"]
    assert "delegations" in MODULE_FILES["vnet"].text and "'Microsoft.App/environments'" in MODULE_FILES["vnet"].text


def test_bicep_parses():
    pycep = pytest.importorskip("pycep", reason="pycep-parser not installed: syntax check skipped")
    parser = pycep.BicepParser()
    for bicep in ALL_BICEP:
        parser.parse(text=bicep.text)


# --- azd ------------------------------------------------------------------------------------

def test_azure_yaml_declares_the_api_service():
    doc = load_yaml(ROOT / "azure.yaml")
    api = doc["services"]["api"]
    assert (api["project"], api["host"], api["language"]) in {(".", "function", "python"), ("./", "function", "python")}
    assert set(doc["services"]) == {"api"}
    assert "durable_backend.py apply" in api["hooks"]["prepackage"]["posix"]["run"]
    assert "durable_backend.py restore" in api["hooks"]["postpackage"]["posix"]["run"]
