"""What a deployment may choose matches what the code and the platform support: Python versions,
the deploying principal's type (user or CI service principal) and regions. No network.

Sources for the reference values below:
- azd fills AZURE_PRINCIPAL_ID / AZURE_PRINCIPAL_TYPE itself from its login (Azure/azure-dev,
  cli/azd/pkg/infra/provisioning/bicep/bicep_provider.go evalParamEnvSubst, and
  cli/azd/pkg/infra/provisioning/current_principal_id_provider.go: "User", or "ServicePrincipal"
  for a client-id login); since azd 1.17.1 (cli/azd/CHANGELOG.md, PR 5285).
- azd prompts a `location`-typed parameter only from its @allowed values
  (cli/azd/pkg/infra/provisioning/bicep/prompt.go).
- Flex Consumption regions: Microsoft's Flex azd template Azure-Samples/
  durable-functions-quickstart-python-azd, infra/main.bicep (less the eastus2euap canary);
  refresh with `az functionapp list-flexconsumption-locations`.
- azure-functions 1.x is the library line for Python 3.10-3.12, 2.x for 3.13+
  (Azure/azure-functions-python-library release 2.0.0 notes).
"""
from __future__ import annotations

import json
import re

import pytest

from bicep_text import BicepFile, literal
from infra_files import API, INFRA, MAIN, RBAC, ROOT, load_yaml

PARAMS_FILE = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]

FLEX_REGIONS = {
    "australiaeast", "australiasoutheast", "brazilsouth", "canadacentral", "centralindia", "centralus",
    "eastasia", "eastus", "eastus2", "francecentral", "germanywestcentral", "italynorth", "japaneast",
    "koreacentral", "northcentralus", "northeurope", "norwayeast", "southafricanorth", "southcentralus",
    "southeastasia", "southindia", "spaincentral", "swedencentral", "uaenorth", "uksouth", "ukwest",
    "westcentralus", "westeurope", "westus", "westus2", "westus3",
}
FLEX_PYTHON = {"3.10", "3.11", "3.12", "3.13"}
AZD_PRINCIPAL_TYPES = ["User", "ServicePrincipal"]
AZD_FIRST_WITH_PRINCIPAL_TYPE = (1, 17, 1)


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def requires_python_minimum() -> tuple[int, ...]:
    match = re.search(r'^requires-python\s*=\s*">=\s*([\d.]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert match, "pyproject.toml has no requires-python >= X"
    return version(match.group(1))


def azure_functions_major_below() -> int:
    """The exclusive major-version bound on azure-functions in requirements.in (the ranges that
    scripts/lock.sh pins into requirements.txt)."""
    for line in (ROOT / "requirements.in").read_text().splitlines():
        match = re.match(r"azure-functions\s*[><=].*<\s*(\d+)\s*(#.*)?$", line.split(";")[0].strip())
        if match:
            return int(match.group(1))
    raise AssertionError("requirements.in pins no upper bound for azure-functions")


def test_python_versions_are_those_the_code_runs_on():
    allowed = MAIN.params["pythonVersion"].allowed()
    assert allowed == API.params["runtimeVersion"].allowed(), "main.bicep and app/api.bicep disagree"
    assert literal(MAIN.params["pythonVersion"].default) in allowed
    assert MAIN.modules["api"].params["runtimeVersion"] == "pythonVersion"
    for v in allowed:
        assert version(v) >= requires_python_minimum(), f"Python {v} is below pyproject's requires-python"
        assert v in FLEX_PYTHON, f"Python {v} is not a Flex Consumption runtime"
        if azure_functions_major_below() <= 2:
            assert version(v) < (3, 13), f"Python {v} needs azure-functions 2.x; requirements.txt pins 1.x"
    assert "3.10" not in allowed


def test_principal_type_is_filled_by_azd_for_users_and_ci():
    assert PARAMS_FILE["principalId"]["value"] == "${AZURE_PRINCIPAL_ID}"
    # The default only matters to an azd older than requiredVersions allows.
    assert re.fullmatch(r"\$\{AZURE_PRINCIPAL_TYPE(=User)?\}", PARAMS_FILE["principalType"]["value"])
    assert MAIN.params["principalType"].allowed() == AZD_PRINCIPAL_TYPES
    assert RBAC.params["principalType"].allowed() == AZD_PRINCIPAL_TYPES
    assert MAIN.modules["rbac"].params["principalType"] == "principalType"
    assert "{ id: principalId, type: principalType }" in RBAC.variables["principals"]


def test_azure_yaml_requires_an_azd_that_fills_the_principal_type():
    required = load_yaml(ROOT / "azure.yaml").get("requiredVersions", {}).get("azd", "")
    match = re.fullmatch(r">=\s*(\d+)\.(\d+)\.(\d+)", required)
    assert match, f"azure.yaml requiredVersions.azd is {required!r}, expected '>= X.Y.Z'"
    assert tuple(int(g) for g in match.groups()) >= AZD_FIRST_WITH_PRINCIPAL_TYPE


def test_location_is_limited_to_flex_consumption_regions():
    location = MAIN.params["location"]
    allowed = location.allowed()
    assert allowed and len(allowed) == len(set(allowed))
    assert set(allowed) == FLEX_REGIONS, {"not Flex": set(allowed) - FLEX_REGIONS, "missing": FLEX_REGIONS - set(allowed)}
    assert location.default is None and PARAMS_FILE["location"]["value"] == "${AZURE_LOCATION}"
    assert any(re.fullmatch(r"@metadata\(\{\s*azd:\s*\{\s*type:\s*'location'\s*\}\s*\}\)", d)
               for d in location.decorators), "location lacks the azd location metadata (azd prompts from the list)"
    for sym, module in MAIN.modules.items():
        if "location" in module.params:
            assert module.params["location"] == "location", f"{sym} is deployed outside the chosen region"


@pytest.mark.parametrize("path, param", [("main.bicep", "location"), ("main.bicep", "pythonVersion"),
                                         ("main.bicep", "principalType"), ("app/api.bicep", "runtimeVersion"),
                                         ("app/rbac.bicep", "principalType")])
def test_a_bicep_parser_reads_the_same_choices(path: str, param: str):
    """pycep-parser (the syntax check of scripts/validate_bicep.sh) reads each @allowed list as the
    contract tests do, so the choices above are what Bicep itself sees."""
    pycep = pytest.importorskip("pycep", reason="pycep-parser not installed: syntax check skipped")
    parsed = pycep.BicepParser().parse(text=(INFRA / path).read_text(encoding="utf-8"))["parameters"][param]
    decorators = {d["type"]: d["argument"] for d in parsed["decorators"]}
    assert decorators["allowed"] == BicepFile.load(INFRA / path).params[param].allowed()
    if param == "location":
        assert decorators["metadata"] == {"azd": {"type": "location"}}
