#!/usr/bin/env python3
"""Writes a large Azure Activity Log file (raw export schema, JSON lines) for the benchmark.

    python3 Benchmarks/gen_activity.py --records 1000000 --out bench-data/activity-1m.jsonl

Each record is about 2.9 KB, like performance-anchors.md: nested identity.authorization.evidence and
identity.claims with URI claim names, properties with a JSON-string requestbody (Start) or responseBody
(Success), IPv4 and IPv6 callers, operation names in upper, mixed and lower case. About 1 record in 500
is a baseline breach (Owner grant, NSG open to the internet, workspace listKeys, CMK removed, diagnostic
settings deleted, Defender plan set to Free) so that rules have something to find.

Records come as operations, like the real log (activity-log.md: "Start and completion records of one
operation share [correlationId]. Not unique per record."): a Start, an Accept for most asynchronous
operations, then Success or Failure, by the same caller on the same resource, sharing one correlationId
and spread over the next seconds to minutes among other operations' records. Operations still open at
the end of the file stay incomplete, as at the edge of an export.

Speed: a few thousand distinct operation templates are built once; each output record is one of their
records with a fresh time and its operation's correlationId spliced in. 1M records take well under two
minutes. Seeded and deterministic.
"""
from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone

SEED = 29_1_2026
TENANT = "7c3f5e2a-9d41-4b8e-a6c2-1f0e8d9b4a37"
SUBS = ["4f8d2c1a-6b3e-4a9f-8c7d-2e1b0a9f8d6c", "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
        "0c2e4a6b-8d1f-4b3c-9e5a-7d9f1b3c5e7a"]
RGS = ["rg-ml-prod", "rg-ml-dev", "rg-data-platform", "rg-ml-research", "rg-shared-net"]
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
TIME_MARK = "\x00T\x00"
CORR_MARK = "\x00C\x00"

# (operation, provider path suffix, weight, async)
OPERATIONS = [
    ("Microsoft.MachineLearningServices/workspaces/jobs/write", "MachineLearningServices/workspaces/{ws}/jobs/{id}", 30, False),
    ("Microsoft.MachineLearningServices/workspaces/computes/start/action", "MachineLearningServices/workspaces/{ws}/computes/ci-{n}", 6, True),
    ("Microsoft.MachineLearningServices/workspaces/computes/stop/action", "MachineLearningServices/workspaces/{ws}/computes/ci-{n}", 6, True),
    ("Microsoft.MachineLearningServices/workspaces/models/versions/write", "MachineLearningServices/workspaces/{ws}/models/m{n}/versions/{v}", 4, False),
    ("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/write", "MachineLearningServices/workspaces/{ws}/onlineEndpoints/ep{n}/deployments/blue", 3, True),
    ("Microsoft.MachineLearningServices/workspaces/write", "MachineLearningServices/workspaces/{ws}", 2, True),
    ("Microsoft.MachineLearningServices/workspaces/listKeys/action", "MachineLearningServices/workspaces/{ws}", 1, False),
    ("Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action", "MachineLearningServices/workspaces/{ws}/datastores/ds{n}", 1, False),
    ("Microsoft.Resources/deployments/write", "Resources/deployments/deploy-{id}", 8, True),
    ("Microsoft.Compute/virtualMachines/write", "Compute/virtualMachines/vm-{n}", 6, True),
    ("Microsoft.Compute/virtualMachines/start/action", "Compute/virtualMachines/vm-{n}", 4, True),
    ("Microsoft.Network/networkInterfaces/write", "Network/networkInterfaces/nic-{n}", 4, True),
    ("Microsoft.Network/networkSecurityGroups/securityRules/write", "Network/networkSecurityGroups/nsg-{n}/securityRules/rule-{id}", 3, True),
    ("Microsoft.Storage/storageAccounts/write", "Storage/storageAccounts/st{n}", 3, False),
    ("Microsoft.Storage/storageAccounts/listKeys/action", "Storage/storageAccounts/st{n}", 2, False),
    ("Microsoft.KeyVault/vaults/write", "KeyVault/vaults/kv-{n}", 1, False),
    ("Microsoft.Authorization/roleAssignments/write", "Authorization/roleAssignments/{id}", 2, False),
    ("Microsoft.Authorization/roleAssignments/delete", "Authorization/roleAssignments/{id}", 1, False),
    ("Microsoft.Insights/diagnosticSettings/write", "Insights/diagnosticSettings/diag-{n}", 1, False),
    ("Microsoft.Insights/diagnosticSettings/delete", "Insights/diagnosticSettings/diag-{n}", 1, False),
    ("Microsoft.Security/pricings/write", "Security/pricings/StorageAccounts", 1, False),
    ("Microsoft.ContainerRegistry/registries/write", "ContainerRegistry/registries/acr{n}", 1, False),
    ("Microsoft.Web/sites/write", "Web/sites/app-{n}", 3, True),
    ("Microsoft.Sql/servers/databases/write", "Sql/servers/sql-{n}/databases/db{n}", 2, True),
]


# An operation's later records come this many records after its first (sync / async operations).
SYNC_DELAY = (1, 4)
ASYNC_DELAY = (3, 40)
ASYNC_DONE_DELAY = (20, 400)


def build_templates(count: int, rng: random.Random) -> list[tuple[bool, list[tuple[bytes, bytes, bytes]]]]:
    """`count` operations: whether each is asynchronous, and its records in order, each cut around
    its time and correlationId."""
    def guid():
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def tok(n):
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))

    users = [(f"user{i:03d}@contoso-ml.example", f"User {i:03d}", guid()) for i in range(150)]
    sps = [(guid(), guid()) for _ in range(25)]
    weights = [w for _, _, w, _ in OPERATIONS]
    out = []
    for k in range(count):
        op, suffix, _, is_async = rng.choices(OPERATIONS, weights)[0]
        sub, rg = rng.choice(SUBS), rng.choice(RGS)
        ws = rng.choice(["mlw-prod", "mlw-dev", "mlw-research"])
        provider_path = suffix.format(ws=ws, id=guid(), n=rng.randint(1, 40), v=rng.randint(1, 30))
        ns, _, rest = provider_path.partition("/")
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.{ns}/{rest}"
        bad = rng.random() < 0.05  # only ops with a bad variant use it: about 1 record in 500 overall
        ipv6 = rng.random() < 0.2
        ip = (f"2001:db8:{rng.randint(0, 0xffff):x}:{rng.randint(0, 0xffff):x}::{rng.randint(1, 0xfff):x}" if ipv6
              else f"{rng.choice([198, 203, 192, 20, 52, 40])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
        is_user = rng.random() < 0.6
        iat = 1793664000 + rng.randint(0, 86400)
        if is_user:
            upn, name, oid = rng.choice(users)
            claims = {
                "aud": "https://management.core.windows.net/", "iss": f"https://sts.windows.net/{TENANT}/",
                "iat": str(iat), "nbf": str(iat), "exp": str(iat + 4763),
                "http://schemas.microsoft.com/claims/authnclassreference": "1", "aio": tok(56),
                "http://schemas.microsoft.com/claims/authnmethodsreferences": rng.choice(["pwd,mfa", "pwd,mfa", "pwd", "rsa,mfa"]),
                "appid": rng.choice(["04b07795-8ddb-461a-bbee-02f9e1bf7b46", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
                                     "d7304df8-741f-47d3-9bc2-df0e24e2071f"]),
                "appidacr": "0", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": name.split()[1],
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": name.split()[0], "idtyp": "user",
                "ipaddr": ip, "name": name, "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
                "puid": "1003" + tok(12).upper(), "rh": tok(40) + ".",
                "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": tok(43),
                "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": upn,
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": upn, "uti": tok(22), "ver": "1.0",
                "xms_tcdt": "1583942400",
            }
            principal_id, principal_type = oid, "User"
        else:
            appid, oid = rng.choice(sps)
            claims = {
                "aud": "https://management.azure.com/", "iss": f"https://sts.windows.net/{TENANT}/",
                "iat": str(iat), "nbf": str(iat), "exp": str(iat + 86399), "aio": tok(40), "appid": appid,
                "appidacr": "1", "http://schemas.microsoft.com/identity/claims/identityprovider": f"https://sts.windows.net/{TENANT}/",
                "idtyp": "app", "http://schemas.microsoft.com/identity/claims/objectidentifier": oid, "rh": tok(40) + ".",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": oid,
                "http://schemas.microsoft.com/identity/claims/tenantid": TENANT, "uti": tok(22), "ver": "1.0",
                "xms_mirid": f"/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-{tok(6).lower()}",
            }
            principal_id, principal_type = oid, "ServicePrincipal"
        role = rng.choice([("Contributor", "b24988ac618042a0ab8820f7382dd24c"), ("Owner", OWNER.replace("-", "")),
                           ("AzureML Data Scientist", "f6c7c9148db3469d8ca1694a8f32e121")])
        body = request_body(op, bad, sub, rg, rng, guid)
        phases = ["Start"] + (["Accept"] if is_async and rng.random() < 0.75 else []) + [rng.choices(["Success", "Failure"], [92, 8])[0]]
        records = []
        for phase in phases:
            props = {"eventCategory": "Administrative", "entity": rid, "message": op,
                     "hierarchy": f"{TENANT}/mg-ml/{sub}"}
            if phase == "Start":
                props["requestbody"] = json.dumps(body, separators=(",", ":"))
            else:
                props["statusCode"] = {"Success": "OK", "Accept": "Accepted", "Failure": "Forbidden"}[phase]
                props["serviceRequestId"] = guid()
                if phase != "Failure":
                    props["responseBody"] = json.dumps({**body, "id": rid, "etag": f"W/\"{guid()}\""}, separators=(",", ":"))
            case = rng.random()
            opname = op.upper() if case < 0.7 else op if case < 0.9 else op.lower()
            record = {
                "time": TIME_MARK,
                "resourceId": rid.upper() if rng.random() < 0.8 else rid,
                "operationName": opname, "category": rng.choice(["Administrative"] * 8 + ["Write", "Action"]),
                "resultType": phase,
                "resultSignature": {"Start": "Started.", "Accept": "Accepted.Created", "Success": "Succeeded.OK",
                                    "Failure": "Failed.Forbidden"}[phase],
                "durationMs": rng.choice([0, 0, 0, "0", rng.randint(10, 5000)]),
                "callerIpAddress": ip, "correlationId": CORR_MARK,
                "identity": {"authorization": {"scope": rid, "action": op,
                                               "evidence": {"role": role[0], "roleAssignmentScope": f"/subscriptions/{sub}",
                                                            "roleAssignmentId": tok(32).lower(), "roleDefinitionId": role[1],
                                                            "principalId": principal_id.replace("-", ""),
                                                            "principalType": principal_type}},
                             "claims": claims},
                "level": "Error" if phase == "Failure" else "Information", "location": "global", "properties": props,
            }
            text = json.dumps(record, separators=(",", ":"))
            a, _, rest = text.partition(json.dumps(TIME_MARK))
            b, _, c = rest.partition(json.dumps(CORR_MARK))
            records.append((a.encode() + b'"', b'"' + b.encode() + b'"', b'"' + c.encode() + b"\n"))
        out.append((is_async, records))
    return out


def request_body(op: str, bad: bool, sub: str, rg: str, rng: random.Random, guid) -> dict:
    if op.endswith("roleAssignments/write"):
        role = OWNER if bad else rng.choice([READER, "b24988ac-6180-42a0-ab88-20f7382dd24c", "f6c7c914-8db3-469d-8ca1-694a8f32e121"])
        return {"Id": guid(), "Properties": {"PrincipalId": guid(), "PrincipalType": rng.choice(["User", "ServicePrincipal", "Group"]),
                                              "RoleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                                              "Scope": f"/subscriptions/{sub}/resourceGroups/{rg}", "Condition": None}}
    if op.endswith("securityRules/write"):
        src = rng.choice(["*", "0.0.0.0/0", "Internet"]) if bad else rng.choice(["10.0.0.0/8", "VirtualNetwork", "AzureMachineLearning", "10.20.250.0/26"])
        return {"properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": rng.choice(["22", "3389"]) if bad else rng.choice(["443", "44224", "22"]),
                               "sourceAddressPrefix": src, "destinationAddressPrefix": "*", "access": "Allow",
                               "priority": rng.randint(100, 4000), "direction": "Inbound", "sourcePortRanges": [],
                               "destinationPortRanges": [], "sourceAddressPrefixes": [], "destinationAddressPrefixes": []}}
    if op.endswith("storageAccounts/write"):
        return {"properties": {"encryption": {"keySource": "Microsoft.Storage" if bad else "Microsoft.Keyvault",
                                              "services": {"blob": {"enabled": True}, "file": {"enabled": True}}},
                               "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
                               "networkAcls": {"defaultAction": "Allow" if bad else "Deny", "bypass": "AzureServices"}}}
    if op.endswith("pricings/write"):
        return {"properties": {"pricingTier": "Free" if bad else "Standard", "subPlan": "DefenderForStorageV2"}}
    if op.endswith("workspaces/write"):
        return {"location": "westeurope", "properties": {"publicNetworkAccess": "Enabled" if bad else "Disabled",
                                                         "managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound"}}}
    if op.endswith("jobs/write"):
        return {"properties": {"jobType": "Command", "experimentName": rng.choice(["churn", "fraud", "forecast", "nlp"]),
                               "computeId": "cpu-cluster", "environmentId": f"azureml:sklearn-1.5:{rng.randint(1, 9)}",
                               "command": "python train.py --epochs 20 --lr 0.001 --data ${{inputs.data}}",
                               "inputs": {"data": {"uri": "azureml://datastores/curated/paths/churn/", "jobInputType": "uri_folder"}}}}
    if op.startswith("Microsoft.Compute/virtualMachines/write"):
        return {"location": "westeurope", "properties": {"hardwareProfile": {"vmSize": rng.choice(["Standard_D4s_v5", "Standard_NC24ads_A100_v4"])},
                                                         "storageProfile": {"osDisk": {"createOption": "FromImage", "diskSizeGB": 128}}}}
    return {"properties": {"tags": {"owner": "ml-platform", "costCenter": f"ml-{rng.randint(1000, 9999)}"}}}


def write(path: str, records: int, templates: int) -> None:
    rng = random.Random(SEED)
    ops = build_templates(templates, rng)
    n = len(ops)
    order = [rng.randrange(n) for _ in range(8192)]
    day = datetime(2026, 11, 3, tzinfo=timezone.utc)
    step_us = max(1, 86_400_000_000 // max(records, 1))
    tmp = path + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    sec_cache: dict[int, bytes] = {}
    # Records of operations already started, by the slot they are due: (due, operation number, record index).
    pending: list[tuple[int, int, int]] = []
    started = 0
    with open(tmp, "wb", buffering=1 << 22) as f:
        chunk: list[bytes] = []
        for i in range(records):
            us = i * step_us
            sec = us // 1_000_000
            prefix = sec_cache.get(sec)
            if prefix is None:
                prefix = (day + timedelta(seconds=sec)).strftime("%Y-%m-%dT%H:%M:%S").encode()
                sec_cache = {sec: prefix}
            if pending and pending[0][0] <= i:
                _, op, r = heapq.heappop(pending)
            else:
                op, r = started, 0
                started += 1
                is_async, parts = ops[(order[op & 8191] + (op >> 13)) % n]
                due = i
                for later in range(1, len(parts)):
                    if not is_async:
                        due += rng.randint(*SYNC_DELAY)
                    else:
                        due += rng.randint(*(ASYNC_DONE_DELAY if later == len(parts) - 1 else ASYNC_DELAY))
                    heapq.heappush(pending, (due, op, later))
            a, b, c = ops[(order[op & 8191] + (op >> 13)) % n][1][r]
            chunk += (a, prefix, b".%07dZ" % ((us % 1_000_000) * 10 + i % 10), b,
                      b"%08x-%04x-4%03x-8%03x-%012x" % (op, op >> 16 & 0xffff, op & 0xfff, (op * 7) & 0xfff,
                                                         (op * 2654435761) & 0xffffffffffff), c)
            if len(chunk) >= 60_000:
                f.write(b"".join(chunk))
                chunk.clear()
        f.write(b"".join(chunk))
    os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description="Generate a large Azure Activity Log JSON-lines file.")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--templates", type=int, default=4000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    write(args.out, args.records, args.templates)
    size = os.path.getsize(args.out)
    print(f"gen_activity: {args.records} records, {size / 1e6:.1f} MB ({size / max(args.records, 1):.0f} B/record) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
