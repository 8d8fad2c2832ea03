#!/usr/bin/env python3
"""Structural validation of deploy/ (no Azure access, no bicep CLI needed).

  python3 deploy/validate.py            # exit 1 on any problem, each printed as file: path: message

Checks, for every ARM template in deploy/arm/ and every template embedded in a policy's deployment:
  - JSON parses; a JSON-schema subset of the ARM template schema holds ($schema matching the target
    scope, contentVersion, parameter types, resources with type/apiVersion/name, copy loops, outputs);
  - every parameters('x') / variables('x') an expression uses is declared, every declared parameter is
    used, brackets and quotes in expressions balance, '[[' escapes are left alone;
  - diagnostic settings enable only categories that exist for the target resource type (lists from
    ../shared/reference/resource-logs.md and activity-log.md);
the policy definition in deploy/policy/: a JSON schema for DeployIfNotExists definitions, the effect's
allowed values, role definition ids, that the existence condition and deployment use declared
parameters; that deploy/arm/policy.json embeds exactly that rule ('[' escaped as '[['); and that each
deploy/bicep/X.bicep declares the same parameters as deploy/arm/X.json. With `bicep` on PATH it also
runs `bicep build` on each .bicep file.
"""
import json
import pathlib
import re
import shutil
import subprocess
import sys

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parent
SCHEMAS = {
    "resourceGroup": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "subscription": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
}
API_VERSION = r"^\d{4}-\d{2}-\d{2}(-preview)?$"
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

# Categories per diagnostic-setting target (resource-logs.md §3-5, activity-log.md category list).
CATEGORIES = {
    "subscription": {"Administrative", "Security", "ServiceHealth", "Alert", "Recommendation", "Policy", "Autoscale",
                     "ResourceHealth"},
    "Microsoft.MachineLearningServices/workspaces": {
        "AmlComputeClusterEvent", "AmlComputeClusterNodeEvent", "AmlComputeJobEvent", "AmlComputeCpuGpuUtilization",
        "AmlRunStatusChangedEvent", "ComputeInstanceEvent", "DataLabelChangeEvent", "DataLabelReadEvent",
        "DataSetChangeEvent", "DataSetReadEvent", "DataStoreChangeEvent", "DataStoreReadEvent", "DeploymentEventACI",
        "DeploymentEventAKS", "DeploymentReadEvent", "EnvironmentChangeEvent", "EnvironmentReadEvent",
        "InferencingOperationACI", "InferencingOperationAKS", "ModelsActionEvent", "ModelsChangeEvent", "ModelsReadEvent",
        "PipelineChangeEvent", "PipelineReadEvent", "RunEvent", "RunReadEvent"},
    "Microsoft.KeyVault/vaults": {"AuditEvent", "AzurePolicyEvaluationDetails"},
    "Microsoft.Storage/storageAccounts/blobServices": {"StorageRead", "StorageWrite", "StorageDelete"},
}
CATEGORY_GROUPS = {"allLogs", "audit"}

PARAMETER = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["string", "securestring", "int", "bool", "object", "secureObject", "array"]},
        "metadata": {"type": "object", "properties": {"description": {"type": "string"}}},
        "defaultValue": {},
        "allowedValues": {"type": "array", "minItems": 1},
        "minValue": {"type": "integer"}, "maxValue": {"type": "integer"},
        "minLength": {"type": "integer"}, "maxLength": {"type": "integer"},
    },
    "additionalProperties": False,
}
RESOURCE = {
    "type": "object",
    "required": ["type", "apiVersion", "name"],
    "properties": {
        "type": {"type": "string", "pattern": r"^[A-Za-z]+\.[A-Za-z]+(/[A-Za-z]+)+$"},
        "apiVersion": {"type": "string", "pattern": API_VERSION},
        "name": {"type": "string", "minLength": 1},
        "condition": {"type": ["string", "boolean"]},
        "scope": {"type": "string"},
        "location": {"type": "string"},
        "kind": {"type": "string"},
        "sku": {"type": "object"},
        "identity": {"type": "object", "required": ["type"]},
        "properties": {"type": "object"},
        "dependsOn": {"type": "array", "items": {"type": "string"}},
        "copy": {"type": "object", "required": ["name", "count"],
                 "properties": {"name": {"type": "string"}, "count": {"type": ["string", "integer"]}}},
        "tags": {"type": "object"},
    },
    "additionalProperties": False,
}
TEMPLATE = {
    "type": "object",
    "required": ["$schema", "contentVersion", "resources"],
    "properties": {
        "$schema": {"enum": list(SCHEMAS.values())},
        "contentVersion": {"type": "string", "pattern": r"^\d+(\.\d+){3}$"},
        "metadata": {"type": "object"},
        "parameters": {"type": "object", "additionalProperties": PARAMETER},
        "variables": {"type": "object"},
        "resources": {"type": "array", "items": RESOURCE},
        "outputs": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["type", "value"],
            "properties": {"type": {"enum": ["string", "int", "bool", "object", "array"]}}}},
    },
    "additionalProperties": False,
}
POLICY = {
    "type": "object",
    "required": ["properties"],
    "properties": {"properties": {
        "type": "object",
        "required": ["displayName", "policyType", "mode", "parameters", "policyRule"],
        "properties": {
            "policyType": {"const": "Custom"},
            "mode": {"enum": ["All", "Indexed"]},
            "parameters": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["type"],
                "properties": {"type": {"enum": ["String", "Array", "Object", "Boolean", "Integer", "Float", "DateTime"]}}}},
            "policyRule": {
                "type": "object", "required": ["if", "then"],
                "properties": {"then": {
                    "type": "object", "required": ["effect", "details"],
                    "properties": {"details": {
                        "type": "object",
                        "required": ["type", "roleDefinitionIds", "existenceCondition", "deployment"],
                        "properties": {
                            "type": {"const": "Microsoft.Insights/diagnosticSettings"},
                            "evaluationDelay": {"type": "string"},
                            "roleDefinitionIds": {"type": "array", "minItems": 1, "items": {
                                "type": "string",
                                "pattern": f"^/providers/Microsoft.Authorization/roleDefinitions/{GUID}$"}},
                            "deployment": {"type": "object", "required": ["properties"], "properties": {"properties": {
                                "type": "object", "required": ["mode", "template", "parameters"],
                                "properties": {"mode": {"enum": ["incremental", "Incremental"]}}}}},
                        }}}}}},
        }}},
}

problems = []


def problem(file, where, message):
    problems.append(f"{file.relative_to(ROOT.parent)}: {where}: {message}")


def walk(value, path="$"):
    """Yields (path, string) for every string in a JSON value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}")


def expressions(value):
    """(path, expression text) for every ARM expression ("[...]" but not "[[" escapes)."""
    for path, s in walk(value):
        if s.startswith("[") and not s.startswith("[[") and s.endswith("]"):
            yield path, s[1:-1]


def check_expression(file, path, text):
    depth, quoted = 0, False
    for c in text:
        if c == "'":
            quoted = not quoted
        elif not quoted and c in "([":
            depth += 1
        elif not quoted and c in ")]":
            depth -= 1
            if depth < 0:
                break
    if depth != 0 or quoted:
        problem(file, path, f"unbalanced expression: [{text}]")


def check_template(file, template, where="$"):
    scope = "subscription" if template.get("$schema") == SCHEMAS["subscription"] else "resourceGroup"
    for error in jsonschema.Draft7Validator(TEMPLATE).iter_errors(template):
        problem(file, where + "".join(f"[{p!r}]" for p in error.absolute_path), error.message)
    params, variables = set(template.get("parameters", {})), set(template.get("variables", {}))
    used = set()
    for path, expr in expressions({k: v for k, v in template.items() if k != "parameters"}):
        check_expression(file, where + path[1:], expr)
        for name in re.findall(r"parameters\('([^']+)'\)", expr):
            used.add(name)
            if name not in params:
                problem(file, where + path[1:], f"parameters('{name}') is not declared")
        for name in re.findall(r"variables\('([^']+)'\)", expr):
            if name not in variables:
                problem(file, where + path[1:], f"variables('{name}') is not declared")
    json_types = {"string": str, "securestring": str, "int": int, "bool": bool, "array": list, "object": dict,
                  "secureObject": dict}
    for name, spec in template.get("parameters", {}).items():
        default = spec.get("defaultValue")
        if default is None or (isinstance(default, str) and default.startswith("[")):
            continue
        want = json_types.get(spec.get("type"), object)
        if not isinstance(default, want) or (want is int and isinstance(default, bool)):
            problem(file, f"{where}.parameters.{name}", f"default {default!r} is not of type {spec.get('type')}")
        if "allowedValues" in spec and default not in spec["allowedValues"]:
            problem(file, f"{where}.parameters.{name}", f"default {default!r} is not an allowed value")
    for path, expr in expressions(template.get("parameters", {})):   # defaults may use functions, not parameters
        check_expression(file, where + ".parameters" + path[1:], expr)
    for name in sorted(params - used):
        problem(file, f"{where}.parameters.{name}", "declared but never used")
    for i, resource in enumerate(template.get("resources", [])):
        if resource.get("type", "").lower().endswith("diagnosticsettings"):
            check_diagnostic_setting(file, f"{where}.resources[{i}]", resource, template, scope)
    return params


def diagnostic_target(resource, scope):
    kind = resource["type"]
    if kind.lower().endswith("/providers/diagnosticsettings"):
        return kind[: -len("/providers/diagnosticSettings")]
    target = resource.get("scope")
    if target is None:
        return "subscription" if scope == "subscription" else None
    m = re.match(r"\[format\('([^']+)'", target)
    text = m.group(1) if m else target
    parts = [p for p in text.split("/") if p]
    # provider/type/{name}[/subtype/{name}] -> provider/type[/subtype]
    return "/".join([parts[0]] + parts[1::2][: len(parts) // 2])


def check_diagnostic_setting(file, where, resource, template, scope):
    target = diagnostic_target(resource, scope)
    allowed = CATEGORIES.get(target)
    if allowed is None:
        problem(file, where, f"diagnostic setting on an unknown target {target!r}")
        return
    props = resource.get("properties", {})
    if not (props.get("eventHubAuthorizationRuleId") or props.get("storageAccountId") or props.get("workspaceId")):
        problem(file, where, "diagnostic setting has no destination")
    entries = list(props.get("logs", []))
    for loop in props.get("copy", []):
        if loop.get("name") == "logs":
            m = re.search(r"(parameters|variables)\('([^']+)'\)\[copyIndex\('logs'\)\]", loop["input"].get("category", ""))
            if not m:
                problem(file, where, "logs copy loop does not index a parameter or variable")
                continue
            source = template.get(m.group(1), {}).get(m.group(2))
            values = source.get("defaultValue", []) if m.group(1) == "parameters" else source
            entries += [{"category": c} for c in values or []]
    if not entries:
        problem(file, where, "diagnostic setting enables no logs")
    for entry in entries:
        if "category" in entry and not str(entry["category"]).startswith("[") and entry["category"] not in allowed:
            problem(file, where, f"category {entry['category']!r} does not exist for {target}")
        if "categoryGroup" in entry and not str(entry["categoryGroup"]).startswith("[") \
                and entry["categoryGroup"] not in CATEGORY_GROUPS:
            problem(file, where, f"unknown category group {entry['categoryGroup']!r}")


def check_policy(file, policy):
    for error in jsonschema.Draft7Validator(POLICY).iter_errors(policy):
        problem(file, "$" + "".join(f"[{p!r}]" for p in error.absolute_path), error.message)
    props = policy.get("properties", {})
    params = props.get("parameters", {})
    rule = props.get("policyRule", {})
    for path, expr in expressions(rule):
        if ".deployment.properties.template" in path:
            continue   # the embedded template's own parameters
        for name in re.findall(r"parameters\('([^']+)'\)", expr):
            if name not in params:
                problem(file, "$.policyRule" + path[1:], f"parameters('{name}') is not a policy parameter")
    effect = rule.get("then", {}).get("effect", "")
    m = re.fullmatch(r"\[parameters\('([^']+)'\)\]", effect)
    allowed = params.get(m.group(1), {}).get("allowedValues", []) if m else [effect]
    if not any(a.lower() == "deployifnotexists" for a in allowed):
        problem(file, "$.policyRule.then.effect", "DeployIfNotExists is not a possible effect")
    deployment = rule.get("then", {}).get("details", {}).get("deployment", {}).get("properties", {})
    template = deployment.get("template", {})
    declared = check_template(file, template, "$.policyRule.then.details.deployment.properties.template")
    passed = set(deployment.get("parameters", {}))
    if declared != passed:
        problem(file, "$.policyRule.then.details.deployment.properties.parameters",
                f"passes {sorted(passed)} but the template declares {sorted(declared)}")


def unescape(value):
    if isinstance(value, str):
        return value[1:] if value.startswith("[[") else value
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    return value


def bicep_parameters(path):
    return set(re.findall(r"^param\s+(\w+)\s", path.read_text(), flags=re.M))


def load(file):
    try:
        return json.loads(file.read_text())
    except json.JSONDecodeError as e:
        problem(file, f"line {e.lineno} column {e.colno}", e.msg)
        return None


def main():
    templates = {}
    for file in sorted((ROOT / "arm").glob("*.json")):
        if (template := load(file)) is not None:
            check_template(file, template)
            templates[file.stem] = template
    policies = {}
    for file in sorted((ROOT / "policy").glob("*.json")):
        data = load(file)
        if data is not None and "policyRule" in data.get("properties", {}):
            check_policy(file, data)
            policies[file] = data
    if "policy" in templates:
        embedded = [r for r in templates["policy"]["resources"] if r["type"] == "Microsoft.Authorization/policyDefinitions"]
        sources = [p["properties"] for p in policies.values()]
        if not embedded or unescape(embedded[0]["properties"]) not in sources:
            problem(ROOT / "arm/policy.json", "$.resources[policyDefinitions]",
                    "does not embed deploy/policy/aml-diagnostics-to-eventhub.json (escaped with [[)")
    for bicep in sorted((ROOT / "bicep").glob("*.bicep")):
        twin = templates.get(bicep.stem)
        if twin is None:
            problem(bicep, "-", f"no ARM twin deploy/arm/{bicep.stem}.json")
            continue
        if bicep_parameters(bicep) != set(twin.get("parameters", {})):
            problem(bicep, "params", f"differ from deploy/arm/{bicep.stem}.json: "
                    f"{sorted(bicep_parameters(bicep) ^ set(twin.get('parameters', {})))}")
        want = "subscription" if "targetScope = 'subscription'" in bicep.read_text() else "resourceGroup"
        if twin.get("$schema") != SCHEMAS[want]:
            problem(bicep, "targetScope", f"is {want} but the twin's $schema is {twin.get('$schema')}")
    compiled = 0
    if shutil.which("bicep"):
        for bicep in sorted((ROOT / "bicep").glob("*.bicep")):
            r = subprocess.run(["bicep", "build", str(bicep), "--stdout"], capture_output=True, text=True)
            compiled += 1
            if r.returncode != 0:
                problem(bicep, "bicep build", r.stderr.strip())
    for p in problems:
        print(p)
    print(f"validate: {len(templates)} ARM templates, {len(policies)} policy definitions, "
          f"{len(list((ROOT / 'bicep').glob('*.bicep')))} Bicep files"
          f"{f' ({compiled} compiled)' if compiled else ' (bicep CLI not found: not compiled)'}; "
          f"{len(problems)} problem{'s' if len(problems) != 1 else ''}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
