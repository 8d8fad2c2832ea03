#!/usr/bin/env python3
"""Generates samples/: one day (2026-11-03) of an Azure ML subscription with an attack embedded in it.

Deterministic: a seeded random generator and fixed clock, no wall-clock reads, stable key order,
gzip members written with mtime 0. Running it twice gives byte-identical files.

    python3 scripts/gen_samples.py              # rewrites samples/ (keeps samples/README.md)
    python3 scripts/gen_samples.py --out DIR    # writes somewhere else
    python3 scripts/gen_samples.py --check      # regenerates into a temp dir and diffs against samples/

Every id is fake but well formed; IP addresses come from the documentation ranges (RFC 5737 / RFC 3849).
The story is told in samples/README.md; samples/expected.json lists the attack steps for tests.
"""
from __future__ import annotations

import argparse
import base64
import filecmp
import gzip
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import uuid
from datetime import datetime, timedelta, timezone

SEED = 20261103
rng = random.Random(SEED)

DAY = datetime(2026, 11, 3, tzinfo=timezone.utc)
TENANT = "7c3f5e2a-9d41-4b8e-a6c2-1f0e8d9b4a37"
SUB = "4f8d2c1a-6b3e-4a9f-8c7d-2e1b0a9f8d6c"
RG = "rg-ml-prod"
REGION = "westeurope"
DOMAIN = "contoso-ml.example"

WS = "mlw-prod"
STORAGE = "stmlwprod01"
VAULT = "kv-mlw-prod"
ACR = "acrmlwprod"
NSG = "nsg-aml-compute"
VNET = "vnet-ml-prod"
SUBNET = "snet-aml"
LAW = "law-sec-prod"
CMK_NAME = "cmk-stmlwprod01"
WS_DIAG = "mlw-prod-to-sentinel"
ST_DIAG = "stmlwprod01-blob-audit"

ATTACKER_IP = "203.0.113.77"
ATTACKER_IP2 = "203.0.113.78"

ROLE = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
}
APP_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
APP_PORTAL = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
APP_ML_STUDIO = "d7304df8-741f-47d3-9bc2-df0e24e2071f"
APP_ARM_RESOURCE = "797f4846-ba00-4fd7-ba43-dac1f8f63013"  # Windows Azure Service Management API


def guid() -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hexid(n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def b64ish(n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(n))


def at(hms: str, jitter_ms: int = 0) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    t = DAY + timedelta(hours=h, minutes=m, seconds=s)
    if jitter_ms:
        t += timedelta(milliseconds=rng.randint(0, jitter_ms))
    return t


def ts(t: datetime) -> str:
    """Azure's 7-digit fractional seconds; the 7th digit is derived from the time so it is stable."""
    seventh = (t.microsecond * 7 + t.second) % 10
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{t.microsecond:06d}{seventh}Z"


def ts_ms(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{t.microsecond // 1000:03d}Z"


def js(obj) -> str:
    """Compact JSON, the way Azure writes request and response bodies inside strings."""
    return json.dumps(obj, separators=(",", ":"))


def nodash(g: str) -> str:
    return g.replace("-", "")


# ---------------------------------------------------------------------------------------------
# Resource ids
# ---------------------------------------------------------------------------------------------
SUB_ID = f"/subscriptions/{SUB}"
RG_ID = f"{SUB_ID}/resourceGroups/{RG}"
WS_ID = f"{RG_ID}/providers/Microsoft.MachineLearningServices/workspaces/{WS}"
ST_ID = f"{RG_ID}/providers/Microsoft.Storage/storageAccounts/{STORAGE}"
KV_ID = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/{VAULT}"
ACR_ID = f"{RG_ID}/providers/Microsoft.ContainerRegistry/registries/{ACR}"
NSG_ID = f"{RG_ID}/providers/Microsoft.Network/networkSecurityGroups/{NSG}"
SUBNET_ID = f"{RG_ID}/providers/Microsoft.Network/virtualNetworks/{VNET}/subnets/{SUBNET}"
LAW_ID = f"{SUB_ID}/resourceGroups/rg-sec-prod/providers/Microsoft.OperationalInsights/workspaces/{LAW}"
APPI_ID = f"{RG_ID}/providers/Microsoft.Insights/components/appi-mlw-prod"
EVH_RULE_ID = (f"{SUB_ID}/resourceGroups/rg-sec-prod/providers/Microsoft.EventHub/namespaces/evhns-sec-prod"
               "/authorizationRules/vigil-send")
WS_GUID = "3b9e6f1d-2c4a-4e8b-9f70-5a1d2e3c4b6f"  # the workspace's own id (AmlWorkspaceId)


def compute_id(name: str) -> str:
    return f"{WS_ID}/computes/{name}"


# ---------------------------------------------------------------------------------------------
# Principals
# ---------------------------------------------------------------------------------------------
class Principal:
    def __init__(self, key, display, kind, ip, appid=None, roles=None, given=None, surname=None, mfa=True):
        self.key = key
        self.display = display
        self.kind = kind  # "User" or "ServicePrincipal"
        self.oid = guid()
        self.appid = appid or (guid() if kind == "ServicePrincipal" else APP_CLI)
        self.ip = ip
        self.upn = f"{key}@{DOMAIN}" if kind == "User" else None
        self.given, self.surname = given, surname
        self.puid = "1003" + hexid(12).upper() if kind == "User" else None
        self.roles = roles or {}
        self.mfa = mfa

    @property
    def caller(self) -> str:
        return self.upn or self.appid


alice = Principal("alice.nguyen", "Alice Nguyen", "User", "198.51.100.21", given="Alice", surname="Nguyen")
bob = Principal("bob.kumar", "Bob Kumar", "User", "2001:db8:5a1:10::2b", given="Bob", surname="Kumar")
frank = Principal("frank.weber", "Frank Weber", "User", "198.51.100.52", given="Frank", surname="Weber")
grace = Principal("grace.ito", "Grace Ito", "User", "198.51.100.61", given="Grace", surname="Ito")
hiro = Principal("hiro.tanaka", "Hiro Tanaka", "User", "2001:db8:5a1:22::9", given="Hiro", surname="Tanaka")
ines = Principal("ines.costa", "Ines Costa", "User", "198.51.100.77", given="Ines", surname="Costa")
# (person, first hour, client app): the team that works all day
TEAM = [(alice, 8, APP_ML_STUDIO), (bob, 8, APP_CLI), (frank, 9, APP_ML_STUDIO), (grace, 8, APP_CLI),
        (hiro, 10, APP_CLI), (ines, 9, APP_ML_STUDIO)]
dana = Principal("dana.okafor", "Dana Okafor", "User", "198.51.100.23", given="Dana", surname="Okafor")
carol = Principal("carol.jensen", "Carol Jensen", "User", "198.51.100.30", appid=APP_PORTAL,
                  given="Carol", surname="Jensen")
erin = Principal("erin.lopez", "Erin Lopez", "User", "198.51.100.44", given="Erin", surname="Lopez")
cicd = Principal("sp-mlops-cicd", "sp-mlops-cicd", "ServicePrincipal", "192.0.2.41")
ws_msi = Principal("mlw-prod", "mlw-prod", "ServicePrincipal", None)  # workspace system-assigned identity
st_msi = Principal("stmlwprod01", "stmlwprod01", "ServicePrincipal", None)  # storage account identity (CMK)
CI_AGENT_IPS = ["192.0.2.41", "192.0.2.42", "192.0.2.45"]


def ws_assignment(p: Principal, role: str, scope: str, ra_id: str | None = None) -> dict:
    return {"role": role, "roleAssignmentScope": scope, "roleAssignmentId": ra_id or hexid(32),
            "roleDefinitionId": nodash(ROLE[role]), "principalId": nodash(p.oid), "principalType":
            "User" if p.kind == "User" else "ServicePrincipal"}


# Standing assignments (what identity.authorization.evidence shows). Dana's UAA at subscription scope is
# the latent misconfiguration the attacker uses (a leftover from when she bootstrapped the project).
EVIDENCE = {
    **{p.key.split(".")[0]: ws_assignment(p, "AzureML Data Scientist", WS_ID) for p, _, _ in TEAM},
    "dana": ws_assignment(dana, "AzureML Data Scientist", WS_ID),
    "dana-uaa": ws_assignment(dana, "User Access Administrator", SUB_ID),
    "carol": ws_assignment(carol, "Owner", SUB_ID),
    "cicd": ws_assignment(cicd, "Contributor", RG_ID),
}
DANA_OWNER_RA = guid()  # created by the attack, used as evidence afterwards
EVIDENCE["dana-owner"] = ws_assignment(dana, "Owner", SUB_ID, nodash(DANA_OWNER_RA))


# ---------------------------------------------------------------------------------------------
# Activity Log (resource-log export schema)
# ---------------------------------------------------------------------------------------------
TOKEN_CACHE: dict = {}


def claims(p: Principal, ip: str, t: datetime, mfa: bool | None = None, appid: str | None = None) -> dict:
    """Token claims as ARM logs them; one token per principal, IP and hour so iat/uti repeat realistically."""
    key = (p.key, ip, t.hour, appid)
    if key in TOKEN_CACHE:
        return TOKEN_CACHE[key]
    iat = int((t - timedelta(minutes=rng.randint(3, 50))).timestamp())
    mfa = p.mfa if mfa is None else mfa
    if p.kind == "User":
        c = {
            "aud": "https://management.core.windows.net/",
            "iss": f"https://sts.windows.net/{TENANT}/",
            "iat": str(iat), "nbf": str(iat), "exp": str(iat + 4763),
            "http://schemas.microsoft.com/claims/authnclassreference": "1",
            "aio": b64ish(56),
            "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa" if mfa else "pwd",
            "appid": appid or p.appid,
            "appidacr": "0",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": p.surname,
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": p.given,
            "idtyp": "user",
            "ipaddr": ip,
            "name": p.display,
            "http://schemas.microsoft.com/identity/claims/objectidentifier": p.oid,
            "puid": p.puid,
            "rh": b64ish(40) + ".",
            "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": b64ish(43),
            "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": p.upn,
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": p.upn,
            "uti": b64ish(22),
            "ver": "1.0",
            "xms_tcdt": "1583942400",
        }
    else:
        c = {
            "aud": "https://management.azure.com/",
            "iss": f"https://sts.windows.net/{TENANT}/",
            "iat": str(iat), "nbf": str(iat), "exp": str(iat + 86399),
            "aio": b64ish(40),
            "appid": p.appid,
            "appidacr": "1" if p is cicd else "2",
            "http://schemas.microsoft.com/identity/claims/identityprovider": f"https://sts.windows.net/{TENANT}/",
            "idtyp": "app",
            "http://schemas.microsoft.com/identity/claims/objectidentifier": p.oid,
            "rh": b64ish(40) + ".",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": p.oid,
            "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
            "uti": b64ish(22),
            "ver": "1.0",
        }
    TOKEN_CACHE[key] = c
    return c


def export_case(rid: str) -> str:
    return rid.upper()


def mixed_op(op: str) -> str:
    """Exports usually upper-case operationName; some records keep Azure's mixed case."""
    return op if rng.random() < 0.25 else op.upper()


ACTIVITY: list[dict] = []


def activity_op(t: datetime, p: Principal, op: str, rid: str, *, evidence: str | None, ip: str | None = None,
                request: dict | None = None, response: dict | None = None, async_: bool = False,
                status: str = "Created", fail: str | None = None, mfa: bool | None = None,
                appid: str | None = None, duration_s: tuple[int, int] = (1, 6)) -> dict:
    """Emits the lifecycle records of one ARM operation (Start [, Accept], Success|Failure) sharing a
    correlationId. The Start record carries the request body as a JSON string; the final one the response."""
    ip = ip or p.ip
    corr = guid()
    opname = mixed_op(op)
    rid_export = export_case(rid)
    cl = claims(p, ip, t, mfa=mfa, appid=appid)
    auth = {"scope": rid, "action": op}
    if evidence and not fail:
        auth["evidence"] = EVIDENCE[evidence]
    base_props = {"eventCategory": "Administrative", "entity": rid, "message": op,
                  "hierarchy": f"{TENANT}/{SUB}"}
    records = []

    def rec(when, result_type, signature, extra_props, level="Information"):
        r = {"time": ts(when), "resourceId": rid_export, "operationName": opname, "category": "Administrative",
             "resultType": result_type, "resultSignature": signature, "durationMs": 0, "callerIpAddress": ip,
             "correlationId": corr, "identity": {"authorization": auth, "claims": cl}, "level": level,
             "location": "global", "properties": {**base_props, **extra_props}}
        records.append(r)
        return r

    start_props = {}
    if request is not None:
        start_props["requestbody"] = js(request)
    rec(t, "Start", "Started.", start_props)
    t_next = t + timedelta(milliseconds=rng.randint(300, 1500))
    if fail:
        rec(t_next, "Failure", f"Failed.{fail}", {"statusCode": fail, "serviceRequestId": guid(),
                                                   "statusMessage": js({"error": {
                                                       "code": "AuthorizationFailed",
                                                       "message": f"The client '{p.caller}' with object id "
                                                                  f"'{p.oid}' does not have authorization to "
                                                                  f"perform action '{op}' over scope '{rid}' or "
                                                                  "the scope is invalid."}})}, level="Error")
    else:
        if async_:
            accept = {"statusCode": "Accepted" if status == "OK" else status, "serviceRequestId": guid()}
            if response is not None:
                body = json.loads(js(response))
                if isinstance(body.get("properties"), dict):
                    body["properties"]["provisioningState"] = "Updating"
                accept["responseBody"] = js(body)
            rec(t_next, "Accept", f"Accepted.{'Created' if status == 'Created' else 'OK'}", accept)
            t_next += timedelta(seconds=rng.randint(*duration_s))
        else:
            t_next += timedelta(milliseconds=rng.randint(100, 2500))
        done = {"statusCode": status, "serviceRequestId": guid()}
        if response is not None:
            done["responseBody"] = js(response)
        rec(t_next, "Success", f"Succeeded.{status}", done)
    ACTIVITY.extend(records)
    return {"correlationId": corr, "operation": op, "time": records[0]["time"], "end": records[-1]["time"],
            "caller": p.caller, "callerIp": ip, "resourceId": rid,
            "resultTypes": [r["resultType"] for r in records]}


POLICY_CMK = ("6fac406b-40ca-413b-bf8e-0bf964659c25", "Storage accounts should use customer-managed key for encryption")
POLICY_WS_PUBLIC = ("ee40564d-486e-4f68-a5ca-7a621edae0fb",
                    "Azure Machine Learning Workspaces should disable public network access")


def nsg_rule_write(t: datetime, p: Principal, name: str, *, port: str, source: str, dest: str, priority: int,
                   description: str, evidence: str, **kw) -> dict:
    """securityRules/write on the AML subnet's NSG: Start (request), Accept and Success (response)."""
    rule = {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": port, "sourceAddressPrefix": source,
            "destinationAddressPrefix": dest, "access": "Allow", "priority": priority, "direction": "Inbound",
            "sourcePortRanges": [], "destinationPortRanges": [], "sourceAddressPrefixes": [],
            "destinationAddressPrefixes": [], "description": description}
    return activity_op(t, p, "Microsoft.Network/networkSecurityGroups/securityRules/write",
                       f"{NSG_ID}/securityRules/{name}", evidence=evidence, async_=True, request={"properties": rule},
                       response={"name": name, "etag": f"W/\"{guid()}\"",
                                 "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                                 "properties": {**rule, "provisioningState": "Succeeded"}}, **kw)


def policy_audit(t: datetime, rid: str, definition: str, display: str, assignment: str = "mcsb-ml-prod",
                 corr: str | None = None):
    """Audit-effect policy hit: emitted for a non-compliant resource, either with the request that made it
    so (same correlationId, isComplianceCheck False) or by a later compliance scan."""
    scan = corr is None
    corr = corr or guid()
    ACTIVITY.append({
        "time": ts(t), "resourceId": export_case(rid), "operationName": "MICROSOFT.AUTHORIZATION/POLICIES/AUDIT/ACTION",
        "category": "Policy", "resultType": "Success", "resultSignature": "Succeeded.", "durationMs": 0,
        "correlationId": corr, "level": "Warning", "location": "global",
        "identity": {"authorization": {"scope": rid, "action": "Microsoft.Authorization/policies/audit/action"},
                     "claims": {}},
        "properties": {"eventCategory": "Policy", "isComplianceCheck": str(scan), "resourceLocation": REGION,
                       "ancestors": f"{TENANT}", "entity": rid, "hierarchy": f"{TENANT}/{SUB}",
                       "policies": js([{"policyDefinitionId": f"/providers/Microsoft.Authorization/policyDefinitions/{definition}",
                                        "policyDefinitionName": definition, "policyDefinitionDisplayName": display,
                                        "policyDefinitionEffect": "Audit",
                                        "policyAssignmentId": f"{SUB_ID}/providers/Microsoft.Authorization/policyAssignments/{assignment}",
                                        "policyAssignmentName": assignment,
                                        "policyAssignmentScope": SUB_ID,
                                        "policyAssignmentParameters": {}}])}})


# ---------------------------------------------------------------------------------------------
# Resource logs: Azure ML, Key Vault, Storage
# ---------------------------------------------------------------------------------------------
AML_EXPORT: list[dict] = []     # AmlComputeClusterEvent, AmlComputeJobEvent -> storage export
AML_HUB: list[dict] = []        # audit categories -> Event Hub (the diagnostic setting the attacker deletes)
KV_LOGS: list[dict] = []
ST_LOGS: list[dict] = []
WS_EXPORT_RID = export_case(WS_ID)
KV_EXPORT_RID = export_case(KV_ID)
ST_BLOB_RID = export_case(ST_ID + "/blobServices/default")

# Cut-offs caused by the attack: the security diagnostic settings disappear, the CMK stops being used.
WS_DIAG_DELETED = at("14:14:09")
ST_DIAG_DELETED = at("14:15:31")
CMK_REMOVED = at("14:06:20")


def aml_identity(p: Principal) -> dict:
    """Raw export of the Aml* tables' dynamic Identity column. Microsoft does not document its keys; the
    synthetic shape mirrors ARM's claims so callers resolve the same way."""
    c = {"http://schemas.microsoft.com/identity/claims/objectidentifier": p.oid,
         "http://schemas.microsoft.com/identity/claims/tenantid": TENANT, "appid": p.appid}
    if p.upn:
        c["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = p.upn
        c["name"] = p.display
    return {"claims": c}


def aml_audit(t: datetime, category: str, op: str, p: Principal, ip: str | None, props: dict,
              result: str = "Succeeded", signature: str = "200"):
    if t >= WS_DIAG_DELETED:
        return
    r = {"time": ts(t), "resourceId": WS_EXPORT_RID, "category": category, "operationName": op,
         "operationVersion": "2024-10-01", "resultType": result, "resultSignature": signature,
         "durationMs": rng.randint(8, 220), "correlationId": guid(), "level": "Informational",
         "location": REGION, "identity": aml_identity(p)}
    if ip:
        r["callerIpAddress"] = ip
    r["properties"] = {"AadTenantId": TENANT, "AmlWorkspaceId": WS_GUID, "AmlWorkspaceName": WS, **props}
    AML_HUB.append(r)


def datastore_read(t, p, ip, name):
    aml_audit(t, "DataStoreReadEvent", "Microsoft.MachineLearningServices/workspaces/datastores/read", p, ip,
              {"AmlDatastoreName": name})


def model_read(t, p, ip, name, version):
    aml_audit(t, "ModelsReadEvent", "Microsoft.MachineLearningServices/workspaces/models/versions/read", p, ip,
              {"AmlModelName": name, "AmlModelVersion": str(version)})


def compute_instance_event(t, p, ip, name, op="read"):
    aml_audit(t, "ComputeInstanceEvent", f"Microsoft.MachineLearningServices/workspaces/computes/{op}", p, ip,
              {"AmlComputeInstanceName": name})


def cluster_event(t, cluster, vm, current, target, state, internal):
    AML_EXPORT.append({
        "time": ts(t), "resourceId": WS_EXPORT_RID, "category": "AmlComputeClusterEvent",
        "operationName": "ResizeCluster", "resultType": "Succeeded", "resultSignature": "200",
        "level": "Informational", "location": REGION, "correlationId": guid(),
        "properties": {"ClusterName": cluster, "ClusterType": "AmlCompute", "CreatedBy": cicd.appid,
                       "CoreCount": current * (4 if "cpu" in cluster else 6), "VmSize": vm,
                       "VmPriority": "Dedicated", "VmFamilyName": "standardDSv3Family" if "cpu" in cluster else "standardNCSv3Family",
                       "ScalingType": "Auto", "InitialNodeCount": 0, "MinimumNodeCount": 0,
                       "MaximumNodeCount": 8 if "cpu" in cluster else 2, "NodeDeallocationOption": "Requeue",
                       "NodeIdleTimeSecondsBeforeScaleDown": 1800, "Publisher": "microsoft-dsvm",
                       "Offer": "ubuntu-hpc", "Sku": "2204", "Version": "latest", "SubnetId": SUBNET_ID,
                       "AllocationState": state, "AllocationStateTransitionTime": ts(t),
                       "CurrentNodeCount": current, "TargetNodeCount": target,
                       "RunningNodeCount": current if state == "Steady" else max(0, current - 1),
                       "IdleNodeCount": 0 if target else current, "PreparingNodeCount": max(0, target - current),
                       "LeavingNodeCount": max(0, current - target), "UnusableNodeCount": 0,
                       "PreemptedNodeCount": "0", "IsResizeGrow": str(target > current),
                       "EventType": "Resize", "InternalOperationName": internal, "ProvisioningState": "Succeeded",
                       "QuotaAllocated": "100", "QuotaUtilized": str(current * 4), "ClusterErrorCodes": "",
                       "CreationApiVersion": "2024-10-01"}})


def job_events(t: datetime, p: Principal, cluster: str, experiment: str, minutes: int, fail: bool = False):
    job = f"{experiment.replace('-', '_')}_{hexid(10)}"
    exp_id = guid()
    states = [("JobSubmitted", "Queued", 0), ("JobRunning", "Running", rng.randint(40, 200)),
              ("JobFailed" if fail else "JobSucceeded", "Failed" if fail else "Succeeded", minutes * 60)]
    for ev, state, off in states:
        when = t + timedelta(seconds=off, milliseconds=rng.randint(0, 999))
        AML_EXPORT.append({
            "time": ts(when), "resourceId": WS_EXPORT_RID, "category": "AmlComputeJobEvent",
            "operationName": ev, "resultType": "Succeeded", "resultSignature": "200", "level":
            "Error" if ev == "JobFailed" else "Informational", "location": REGION, "correlationId": guid(),
            "properties": {"ClusterName": cluster, "ClusterId": compute_id(cluster), "ClusterResourceGroupName": RG,
                           "CustomerSubscriptionId": SUB, "ResourceGroupName": RG, "WorkspaceName": WS,
                           "ExperimentName": experiment, "ExperimentId": exp_id, "JobName": job, "JobId": job,
                           "EventType": ev, "ExecutionState": state, "ToolType": "Python",
                           "RunInContainer": "true", "TFWorkerCount": "0", "TFParameterServerCount": "0",
                           "NodeId": "tvmps_" + hexid(32) + "_d" if state != "Queued" else "",
                           "JobErrorMessage": "UserError: CUDA out of memory" if ev == "JobFailed" else "",
                           "ErrorDetails": "", "ProvisioningState": "Succeeded",
                           "CreationApiVersion": "2024-10-01", "InternalOperationName": ev,
                           "SubmittedBy": p.caller}})
    return job


def kv_event(t: datetime, op: str, p: Principal, ip: str, obj: str | None = None, status: int = 200,
             client: str = "azsdk-python-keyvault-secrets/4.8.0 Python/3.10.12 (Linux-5.15.0-1073-azure-x86_64-with-glibc2.35)"):
    uri = f"https://{VAULT}.vault.azure.net/"
    if obj:
        uri += obj
    claim = {"http://schemas.microsoft.com/identity/claims/objectidentifier": p.oid, "appid": p.appid,
             "http://schemas.microsoft.com/identity/claims/tenantid": TENANT}
    if p.upn:
        claim["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = p.upn
    else:
        claim["xms_mirid"] = (ST_ID if p is st_msi else WS_ID)
    KV_LOGS.append({
        "time": ts(t), "category": "AuditEvent", "operationName": op, "resultType": "Success",
        "correlationId": guid(), "callerIpAddress": ip, "identity": {"claim": claim},
        "properties": {"id": uri, "clientInfo": client, "httpStatusCode": status,
                       "requestUri": f"{uri}?api-version=7.5", "isAccessPolicyMatch": False,
                       "isRbacAuthorized": True, "tlsVersion": "TLS1_3",
                       "appliedAssignmentId": hexid(32), "addressAuthorizationType": "IpAddress" if p.upn else "TrustedService",
                       "trustedService": "" if p.upn else "Microsoft.Storage" if p is st_msi else "Microsoft.MachineLearningServices"},
        "resourceId": KV_EXPORT_RID, "operationVersion": "7.5", "resultSignature": "OK" if status == 200 else "Forbidden",
        "resultDescription": "", "durationMs": str(rng.randint(4, 90)), "level": "Informational", "location": REGION,
    })


def blob_event(t: datetime, op: str, p: Principal | None, ip: str, container: str, blob: str | None,
               size: int, auth: str = "OAuth", status: int = 200):
    if t >= ST_DIAG_DELETED:
        return
    key = f"/{STORAGE}/{container}" + (f"/{blob}" if blob else "")
    url = f"https://{STORAGE}.blob.core.windows.net/{container}" + (f"/{blob}" if blob else "?restype=container&comp=list")
    if auth == "OAuth":
        identity = {"type": "OAuth", "tokenHash": hashlib.sha256(f"{p.oid}{t.hour}".encode()).hexdigest().upper(),
                    "authorization": [{"action": "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                                       "roleAssignmentId": guid(), "roleDefinitionId": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
                                       "principals": [{"id": p.oid, "type": "ServicePrincipal"}],
                                       "denyAssignmentId": "", "type": "RBAC", "result": "Granted",
                                       "reason": "Policy"}],
                    "requester": {"appId": p.appid, "audience": "https://storage.azure.com/", "objectId": p.oid,
                                  "tenantId": TENANT, "tokenIssuer": f"https://sts.windows.net/{TENANT}/"}}
    else:
        identity = {"type": "AccountKey", "tokenHash": "key1(" + hashlib.sha256(b"key1-stmlwprod01").hexdigest().upper() + ")"}
    agent = ("azsdk-python-storage-blob/12.23.1 Python/3.11.9 (Linux-6.8.0-1021-azure-x86_64-with-glibc2.35)"
             if auth == "OAuth" else "AzCopy/10.27.1 azsdk-go-azblob/v1.4.0 (go1.22.5; linux)")
    ST_LOGS.append({
        "time": ts(t), "resourceId": ST_BLOB_RID, "category": "StorageRead", "operationName": op,
        "operationVersion": "2025-01-05", "schemaVersion": "1.0", "statusCode": status, "statusText": "Success",
        "durationMs": rng.randint(3, 60) + size // 400000, "callerIpAddress": f"{ip}:{rng.randint(1025, 65000)}",
        "correlationId": guid(), "identity": identity, "location": REGION,
        "properties": {"accountName": STORAGE, "userAgentHeader": agent, "clientRequestId": guid(),
                       "etag": f"0x8DD{hexid(12).upper()}" if blob else None, "serverLatencyMs": rng.randint(2, 40),
                       "serviceType": "blob", "operationCount": 0, "requestHeaderSize": rng.randint(500, 1400),
                       "requestBodySize": 0, "responseHeaderSize": rng.randint(300, 500), "responseBodySize": size,
                       "contentLengthHeader": 0, "tlsVersion": "TLS 1.2", "objectKey": key,
                       "metricResponseType": "Success", "accessTier": "Hot" if blob else None},
        "uri": url, "protocol": "HTTPS", "resourceType": "Microsoft.Storage/storageAccounts/blobServices"})
    # drop None values the service would not write
    props = ST_LOGS[-1]["properties"]
    for k in [k for k, v in props.items() if v is None]:
        del props[k]


# ---------------------------------------------------------------------------------------------
# Entra ID sign-ins and audit
# ---------------------------------------------------------------------------------------------
SIGNINS: list[dict] = []
AUDITS: list[dict] = []
ENTRA_RID = f"/tenants/{TENANT}/providers/Microsoft.aadiam"
GEO = {
    "198.51.100": ({"city": "Amsterdam", "state": "Noord-Holland", "countryOrRegion": "NL",
                    "geoCoordinates": {"latitude": 52.37, "longitude": 4.89}}, 64496),
    "2001:db8:5a1": ({"city": "Utrecht", "state": "Utrecht", "countryOrRegion": "NL",
                      "geoCoordinates": {"latitude": 52.09, "longitude": 5.12}}, 64497),
    "203.0.113": ({"city": "Singapore", "state": "Singapore", "countryOrRegion": "SG",
                   "geoCoordinates": {"latitude": 1.29, "longitude": 103.85}}, 64511),
    "10.20.": ({"city": "Amsterdam", "state": "Noord-Holland", "countryOrRegion": "NL",
               "geoCoordinates": {"latitude": 52.37, "longitude": 4.89}}, 8075),
    "192.0.2": ({"city": "Dublin", "state": "Dublin", "countryOrRegion": "IE",
                 "geoCoordinates": {"latitude": 53.35, "longitude": -6.26}}, 8075),
}


def geo(ip: str):
    for prefix, v in GEO.items():
        if ip.startswith(prefix):
            return v
    raise KeyError(ip)


CA_MFA_ADMIN = {"id": "0f3c5d2e-8a41-4f6b-9e2d-7c1a3b5d9e01", "displayName": "CA001 Require MFA for Azure management"}
CA_BLOCK_LEGACY = {"id": "4a6e1b3c-2d5f-4e8a-b9c7-1d3f5a7b9c02", "displayName": "CA002 Block legacy authentication"}
CA_COMPLIANT = {"id": "8b2d4f6a-1c3e-4a5b-8d7f-9e1a2b3c4d03", "displayName": "CA003 Require compliant device for ML Studio"}


def signin(t: datetime, p: Principal, ip: str, *, app: tuple[str, str], client: str = "Browser",
           result: str = "0", mfa: bool = True, interactive: bool = True, device: dict | None = None,
           ca: list[dict] | None = None, ca_status: str = "success", risk: str = "none",
           risk_events: list[str] | None = None, ua: str = "", failure: str = "", resource: tuple[str, str] = (
               APP_ARM_RESOURCE, "Windows Azure Service Management API"), category: str = "SignInLogs") -> dict:
    loc, asn = geo(ip)
    sid = guid()
    corr = guid()
    err = int(result)
    steps = [{"authenticationStepDateTime": ts_ms(t), "authenticationMethod": "Password",
              "authenticationMethodDetail": "Password in the cloud", "succeeded": err == 0 or err != 50126,
              "authenticationStepResultDetail": "Correct password" if err != 50126 else "Invalid username or password or Invalid on-premise username or password.",
              "authenticationStepRequirement": "Primary authentication", "StatusSequence": 0, "RequestSequence": 1}]
    if mfa and err == 0:
        steps.append({"authenticationStepDateTime": ts_ms(t + timedelta(seconds=9 if interactive else 0)),
                      "authenticationMethod": "Mobile app notification" if interactive else "Previously satisfied",
                      "authenticationMethodDetail": "",
                      "succeeded": True, "authenticationStepResultDetail": "MFA successfully completed" if interactive else
                      "MFA requirement satisfied by claim in the token",
                      "authenticationStepRequirement": "Multi-factor authentication", "StatusSequence": 0,
                      "RequestSequence": 1})
    props = {
        "id": sid, "createdDateTime": ts(t).replace("Z", "+00:00"),
        "userDisplayName": p.display, "userPrincipalName": p.upn, "userId": p.oid, "userType": "Member",
        "homeTenantId": TENANT, "resourceTenantId": TENANT,
        "appId": app[0], "appDisplayName": app[1], "resourceId": resource[0], "resourceDisplayName": resource[1],
        "ipAddress": ip, "autonomousSystemNumber": asn, "status": {"errorCode": err, **(
            {"failureReason": failure} if failure else {}), **({"additionalDetails": "MFA completed in Azure AD" if interactive else
                 "MFA requirement satisfied by claim in the token"} if mfa and err == 0 else {})},
        "clientAppUsed": client, "userAgent": ua, "isInteractive": interactive,
        "deviceDetail": device or {"deviceId": "", "operatingSystem": "Linux", "browser": ""},
        "location": loc, "correlationId": corr, "originalRequestId": guid(),
        "uniqueTokenIdentifier": b64ish(22),
        "conditionalAccessStatus": ca_status, "appliedConditionalAccessPolicies": ca or [],
        "authenticationRequirement": "multiFactorAuthentication" if mfa else "singleFactorAuthentication",
        "authenticationRequirementPolicies": [{"requirementProvider": "multiConditionalAccess", "detail": "Conditional Access"}] if mfa else [],
        "authenticationDetails": steps,
        "riskDetail": "none", "riskLevelAggregated": risk, "riskLevelDuringSignIn": risk,
        "riskState": "atRisk" if risk not in ("none", "hidden") else "none",
        "riskEventTypes": risk_events or [], "riskEventTypes_v2": risk_events or [],
        "tokenIssuerType": "AzureAD", "tokenIssuerName": "", "authenticationProtocol": "none",
        "crossTenantAccessType": "none", "flaggedForReview": False, "isTenantRestricted": False,
        "networkLocationDetails": [{"networkType": "namedNetwork", "networkNames": ["Contoso HQ"]}] if ip.startswith("198.51.100") else [],
        "authenticationProcessingDetails": [{"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"},
                                            {"key": "Is CAE Token", "value": "True" if client == "Browser" else "False"}],
    }
    if mfa and err == 0:
        props["mfaDetail"] = {"authMethod": "Mobile app notification", "authDetail": None}
    r = {"time": ts(t), "resourceId": ENTRA_RID, "operationName": "Sign-in activity", "operationVersion": "1.0",
         "category": category, "tenantId": TENANT, "resultType": result, "resultSignature": "None",
         "resultDescription": failure, "durationMs": 0, "callerIpAddress": ip, "correlationId": corr,
         "identity": p.display, "Level": 4, "location": loc["countryOrRegion"], "properties": props}
    SIGNINS.append(r)
    return {"time": r["time"], "correlationId": corr, "signInId": sid, "caller": p.upn, "callerIp": ip,
            "operation": "Sign-in activity", "resultType": result, "clientAppUsed": client}


def sp_signin(t: datetime, p: Principal, ip: str, resource=(APP_ARM_RESOURCE, "Windows Azure Service Management API"),
              category: str = "ServicePrincipalSignInLogs"):
    loc, asn = geo(ip)
    corr = guid()
    SIGNINS.append({
        "time": ts(t), "resourceId": ENTRA_RID, "operationName": "Sign-in activity", "operationVersion": "1.0",
        "category": category, "tenantId": TENANT, "resultType": "0", "resultSignature": "None",
        "durationMs": 0, "callerIpAddress": ip, "correlationId": corr, "Level": 4, "location": loc["countryOrRegion"],
        "properties": {"id": guid(), "createdDateTime": ts(t).replace("Z", "+00:00"), "appId": p.appid,
                       "appDisplayName": p.display, "servicePrincipalId": p.oid, "servicePrincipalName": p.display,
                       "resourceId": resource[0], "resourceDisplayName": resource[1], "ipAddress": ip,
                       "location": loc, "status": {"errorCode": 0}, "correlationId": corr,
                       "clientCredentialType": "federatedIdentityCredential", "conditionalAccessStatus": "notApplied",
                       "servicePrincipalCredentialKeyId": guid(), "uniqueTokenIdentifier": b64ish(22)}})


def pim_activation(t: datetime, p: Principal, role: str, justification: str):
    corr = guid()
    for i, (name, op) in enumerate([("Add member to role requested (PIM activation)", "Add"),
                                    ("Add member to role completed (PIM activation)", "Add")]):
        when = t + timedelta(seconds=4 * i, milliseconds=rng.randint(0, 900))
        AUDITS.append({
            "time": ts(when), "resourceId": ENTRA_RID, "operationName": name, "operationVersion": "1.0",
            "category": "AuditLogs", "tenantId": TENANT, "resultSignature": "None", "durationMs": 0,
            "callerIpAddress": p.ip, "correlationId": corr, "identity": "MS-PIM", "level": "Informational",
            "location": "NL",
            "properties": {"id": "PIM_" + guid(), "category": "RoleManagement", "correlationId": corr,
                           "result": "success", "resultReason": justification, "activityDisplayName": name,
                           "activityDateTime": ts(when).replace("Z", "+00:00"), "loggedByService": "PIM",
                           "operationType": op,
                           "initiatedBy": {"user": {"id": p.oid, "displayName": p.display, "userPrincipalName": p.upn,
                                                    "ipAddress": p.ip, "roles": []}},
                           "targetResources": [
                               {"id": ROLE[role], "displayName": role, "type": "Role", "modifiedProperties": []},
                               {"id": p.oid, "displayName": p.display, "type": "User", "userPrincipalName": p.upn,
                                "modifiedProperties": []},
                               {"id": SUB, "displayName": "sub-ml-prod", "type": "Subscription", "modifiedProperties": []}],
                           "additionalDetails": [{"key": "Justification", "value": justification},
                                                 {"key": "StartTime", "value": ts(t)},
                                                 {"key": "ExpirationTime", "value": ts(t + timedelta(hours=4))},
                                                 {"key": "TicketNumber", "value": "CHG-20431"},
                                                 {"key": "RoleDefinitionOriginId", "value": ROLE[role]}]}})


# ---------------------------------------------------------------------------------------------
# Defender for Cloud alerts
# ---------------------------------------------------------------------------------------------
def reverse_ticks(t: datetime) -> str:
    """Defender alert names start with DateTime.MaxValue.Ticks minus the alert's ticks (observed)."""
    ticks = int((t - datetime(1, 1, 1, tzinfo=timezone.utc)).total_seconds()) * 10_000_000
    return str(3155378975999999999 - ticks)


def defender_export_alert(version: int, alert_id: str, start: datetime, end: datetime, generated: datetime,
                          processed: datetime, ops: list[str], corr_ids: list[str]) -> dict:
    """Continuous-export shape: flat PascalCase, .NET reference-preserving entities ($id / $ref)."""
    entities = [
        {"$id": "4", "Address": ATTACKER_IP, "Location": {"CountryCode": "SG", "CountryName": "Singapore",
                                                          "City": "Singapore", "Asn": 64511, "Carrier": "Example Transit",
                                                          "Organization": "Example VPS Hosting", "OrganizationType": "Hosting"},
         "Type": "ip"},
        {"$id": "5", "Name": "dana.okafor", "UPNSuffix": DOMAIN, "AadTenantId": TENANT, "AadUserId": dana.oid,
         "IsDomainJoined": False, "Type": "account"},
        {"$id": "6", "ResourceId": WS_ID, "ResourceType": "Machine Learning workspace", "ResourceName": WS,
         "Type": "azure-resource"},
        {"$id": "7", "SessionId": corr_ids[0], "Account": {"$ref": "5"}, "UserAgent": "AZURECLI/2.67.0 (DEB) azsdk-python-core/1.31.0 Python/3.12.3 (Linux-6.8.0-47-generic-x86_64-with-glibc2.39)",
         "StartTimeUtc": ts(start), "Type": "cloud-logon-session"},
        {"$id": "8", "Name": "Microsoft Azure CLI", "InstanceName": APP_CLI, "Type": "cloud-application"},
    ]
    if version > 1:
        entities.append({"$id": "9", "ResourceId": ST_ID, "ResourceType": "Storage account", "ResourceName": STORAGE,
                         "RelatedAzureResource": {"$ref": "6"}, "Type": "azure-resource"})
    return {
        "VendorName": "Microsoft",
        "AlertType": "ARM_AnomalousOperation.CredentialAccess",
        "ProductName": "Microsoft Defender for Cloud",
        "ProductComponentName": "Arm",
        "AlertDisplayName": "Suspicious invocation of a high-risk 'Credential Access' operation detected",
        "Description": ("Microsoft Defender for Resource Manager identified a suspicious invocation of high-risk "
                        "operations in your subscription which might indicate an attempt to access credentials. "
                        f"The operations were invoked by dana.okafor@{DOMAIN} from {ATTACKER_IP}, an IP address "
                        "not previously seen for this account, against the Machine Learning workspace mlw-prod."),
        "Severity": "Medium",
        "Status": "New",
        "ProviderAlertStatus": "Active",
        "Intent": "CredentialAccess",
        "StartTimeUtc": ts(start),
        "EndTimeUtc": ts(end),
        "TimeGenerated": ts(generated),
        "ProcessingEndTime": ts(processed),
        "SystemAlertId": alert_id,
        "AlertUri": ("https://portal.azure.com/#blade/Microsoft_Azure_Security_AzureDefenderForData/AlertBlade/alertId/"
                     f"{alert_id}/subscriptionId/{SUB}/resourceGroup/{RG}/referencedFrom/alertDeepLink/location/{REGION}"),
        "CompromisedEntity": WS,
        "AzureResourceId": WS_ID,
        "ResourceIdentifiers": [
            {"$id": "2", "AzureResourceId": WS_ID, "Type": "AzureResource", "AzureResourceTenantId": TENANT},
            {"$id": "3", "AadTenantId": TENANT, "Type": "AAD"},
        ],
        "Entities": entities,
        "ExtendedLinks": [{"Href": f"https://portal.azure.com/#blade/Microsoft_Azure_ActivityLog/ActivityLogBlade/resourceId/{WS_ID}",
                           "Category": None, "Label": "Activity log", "Type": "webLink"}],
        "ExtendedProperties": {
            "resourceType": "Machine Learning workspace",
            "Invoked operations": ", ".join(ops),
            "Caller IP": ATTACKER_IP,
            "Caller IP location": "Singapore, Singapore",
            "Client application Id": APP_CLI,
            "Correlation Ids": ", ".join(corr_ids),
            "Investigation steps": "{\"displayValue\":\"View related activity\",\"kind\":\"Link\",\"value\":\"https://portal.azure.com\"}",
            "killChainIntent": "CredentialAccess",
            "Alert version": str(version),
        },
        "RemediationSteps": [
            "Contact dana.okafor and confirm whether these operations were performed by them.",
            "If not, revoke the user's sessions, reset credentials and rotate the workspace, storage and datastore secrets.",
            "Review role assignments made by this account.",
        ],
        "IsIncident": False,
        "CorrelationKey": base64.b64encode(f"{dana.oid}|{WS_ID}".encode()).decode(),
        "ConfidenceLevel": "Unknown",
        "ConfidenceScore": None,
        "ConfidenceReasons": [],
        "Techniques": ["T1552", "T1555"],
        "SubTechniques": [],
        "WorkspaceId": None,
        "WorkspaceSubscriptionId": None,
        "WorkspaceResourceGroup": None,
        "AgentId": None,
    }


def defender_rest_alert(alert_id: str, start: datetime, end: datetime, generated: datetime, reads: int,
                        mb: int) -> dict:
    rid = f"{RG_ID}/providers/Microsoft.Security/locations/{REGION}/alerts/{alert_id}"
    return {
        "id": rid, "name": alert_id, "type": "Microsoft.Security/Locations/alerts",
        "properties": {
            "version": "2022-01-01",
            "alertType": "Storage.Blob_DataExfiltration.AmountOfDataAnomaly",
            "systemAlertId": alert_id,
            "productComponentName": "Storage",
            "alertDisplayName": "Unusual amount of data extracted from a storage account",
            "description": (f"An unusually large amount of data ({mb} MB in {reads} reads) was extracted from "
                            f"storage account {STORAGE} compared to recent activity on the container "
                            f"'azureml-blobstore-{WS_GUID}'. The data was read with an account key from "
                            f"{ATTACKER_IP} and {ATTACKER_IP2}."),
            "severity": "Medium",
            "intent": "Exfiltration",
            "startTimeUtc": ts(start), "endTimeUtc": ts(end), "timeGeneratedUtc": ts(generated),
            "processingEndTimeUtc": ts(generated + timedelta(seconds=41)),
            "resourceIdentifiers": [{"type": "AzureResource", "azureResourceId": ST_ID},
                                    {"type": "AAD", "aadTenantId": TENANT}],
            "remediationSteps": ["Limit access to the storage account following least-privilege.",
                                 "Revoke all storage access tokens and rotate the account keys.",
                                 "Review who retrieved the account keys (listKeys) in the Activity Log."],
            "vendorName": "Microsoft",
            "status": "Active",
            "extendedLinks": [],
            "alertUri": ("https://portal.azure.com/#blade/Microsoft_Azure_Security_AzureDefenderForData/AlertBlade/alertId/"
                         f"{alert_id}/subscriptionId/{SUB}/resourceGroup/{RG}/referencedFrom/alertDeepLink/location/{REGION}"),
            "productName": "Microsoft Defender for Cloud",
            "entities": [
                {"type": "ip", "address": ATTACKER_IP, "location": {"countryCode": "SG", "city": "Singapore", "asn": 64511}},
                {"type": "ip", "address": ATTACKER_IP2, "location": {"countryCode": "SG", "city": "Singapore", "asn": 64511}},
                {"type": "azure-resource", "resourceId": ST_ID},
                {"type": "blob-container", "name": f"azureml-blobstore-{WS_GUID}", "storageResource": {
                    "type": "azure-resource", "resourceId": ST_ID}, "urlString": f"https://{STORAGE}.blob.core.windows.net/azureml-blobstore-{WS_GUID}"},
            ],
            "isIncident": False,
            "correlationKey": base64.b64encode(f"{ST_ID}|exfil".encode()).decode(),
            "extendedProperties": {"resourceType": "Storage account", "Authentication type": "Storage account key",
                                   "Extracted data (MB)": str(mb), "Number of reads": str(reads),
                                   "User agents": "AzCopy/10.27.1 azsdk-go-azblob/v1.4.0 (go1.22.5; linux)",
                                   "Client IP addresses": f"{ATTACKER_IP}, {ATTACKER_IP2}",
                                   "Investigation steps": "{\"displayValue\":\"View related storage activity using Storage Analytics Logging.\",\"kind\":\"Text\"}"},
            "compromisedEntity": STORAGE,
            "techniques": ["T1530", "T1567"],
            "subTechniques": [],
        },
    }


def security_activity(t: datetime, alert: dict) -> None:
    """The Activity Log's own copy of a Defender alert (category Security)."""
    aid = alert["SystemAlertId"]
    ACTIVITY.append({
        "time": ts(t), "resourceId": export_case(f"{RG_ID}/providers/Microsoft.Security/locations/{REGION}/alerts/{aid}"),
        "operationName": "Microsoft.Security/locations/alerts/activate/action", "category": "Security",
        "resultType": "Active", "resultSignature": "Succeeded", "durationMs": 0, "correlationId": aid,
        "level": "Informational", "location": "global",
        "identity": {"authorization": {"scope": WS_ID, "action": "Microsoft.Security/locations/alerts/activate/action"},
                     "claims": {}},
        "properties": {"eventCategory": "Security", "eventName": alert["AlertDisplayName"],
                       "operationId": aid, "severity": alert["Severity"], "compromisedEntity": WS,
                       "intent": js([alert["Intent"]]), "remediationSteps": js(alert["RemediationSteps"]),
                       "attackedResourceType": "Machine Learning workspace", "resourceType": "Machine Learning workspace",
                       "actionTaken": "Detected", "alertType": alert["AlertType"], "Caller IP": ATTACKER_IP,
                       "Invoked operations": alert["ExtendedProperties"]["Invoked operations"]}})


# ---------------------------------------------------------------------------------------------
# The day
# ---------------------------------------------------------------------------------------------
MODELS = [("churn-xgb", 14), ("churn-lgbm", 6), ("fraud-gnn", 9), ("credit-risk-scorecard", 22),
          ("demand-forecast-tft", 11), ("support-intent-bert", 5), ("pricing-elasticity", 3),
          ("image-defect-resnet", 7)]
DATASTORES = ["workspaceblobstore", "workspaceartifactstore", "curated_customer_data", "feature_store_adls",
              "workspaceworkingdirectory"]
CONTAINER = f"azureml-blobstore-{WS_GUID}"
BLOB_PATHS = ["UI/2026-10-28_101512_UTC/customers_2026q3.parquet", "datasets/churn/v14/train.parquet",
              "datasets/churn/v14/test.parquet", "datasets/fraud/graph_edges_2026-10.parquet",
              "datasets/credit/applications_2026.csv", "features/customer_profile/part-000{}.parquet",
              "azureml/ExperimentRun/dcid.{}/outputs/model.pkl", "LocalUpload/{}/model.onnx"]
STEPS: list[dict] = []
st_props_before: dict = {}  # the storage account's properties before the attack (set by background())
LOOKALIKES: list[dict] = []


def step(name: str, info: dict, detections: list[str], controls: list[str], source: str, breaks: str, **extra):
    STEPS.append({"step": len(STEPS) + 1, "name": name, **info, "detections": detections, "controls": controls,
                  "breaks": breaks, "source": source, **extra})


def lookalike(name: str, info: dict, near: list[str], why: str):
    LOOKALIKES.append({"name": name, **info, "resembles": near, "whyBenign": why})


def blob_path(i: int) -> str:
    p = BLOB_PATHS[i % len(BLOB_PATHS)]
    return p.format(i % 7 if "part" in p else hexid(8)) if "{}" in p else p


def background():
    global st_props_before
    # ---- Night: nightly retraining pipeline from CI, policy evaluation, CMK unwraps ----
    for h in range(24):
        t = at(f"{h:02d}:{rng.randint(2, 8):02d}:{rng.randint(0, 59):02d}", 999)
        if t < CMK_REMOVED:
            kv_event(t, "UnwrapKey", st_msi, "10.20.1.5", f"keys/{CMK_NAME}/4f1c2e9d7b8a4c3d",
                     client="Azure Storage/1.0 (CMK)")
        for _ in range(rng.randint(1, 3)):
            kv_event(at(f"{h:02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}", 999), "SecretGet", ws_msi,
                     "10.20.1.6", f"secrets/{rng.choice(['appi-connection', 'acr-pull-token', 'feature-store-sas'])}/{hexid(32)}")
    sp_signin(at("01:58:40"), cicd, "192.0.2.42")
    activity_op(at("02:00:12", 999), cicd, "Microsoft.MachineLearningServices/workspaces/jobs/write",
                f"{WS_ID}/jobs/nightly_retrain_{hexid(8)}", evidence="cicd", ip="192.0.2.42",
                request={"properties": {"jobType": "Pipeline", "experimentName": "nightly-retrain",
                                        "settings": {"default_compute": "cpu-cluster"}, "tags": {"trigger": "schedule"}}},
                response={"properties": {"status": "NotStarted", "jobType": "Pipeline"}}, status="Created")
    cluster_event(at("02:01:30", 999), "cpu-cluster", "STANDARD_DS3_V2", 0, 4, "Resizing", "ResizeStarted")
    cluster_event(at("02:05:02", 999), "cpu-cluster", "STANDARD_DS3_V2", 4, 4, "Steady", "ResizeCompleted")
    for i in range(4):
        job_events(at(f"02:{6 + i * 9:02d}:10", 999), cicd, "cpu-cluster", "nightly-retrain", rng.randint(6, 9))
        datastore_read(at(f"02:{6 + i * 9:02d}:05", 999), cicd, "192.0.2.42", "curated_customer_data")
        for k in range(6):
            blob_event(at(f"02:{6 + i * 9:02d}:{20 + k * 5:02d}", 999), "GetBlob", ws_msi, "10.20.1.7", CONTAINER,
                       blob_path(k + i), rng.randint(2_000_000, 60_000_000))
    activity_op(at("03:10:44", 999), cicd, "Microsoft.MachineLearningServices/workspaces/models/versions/write",
                f"{WS_ID}/models/churn-xgb/versions/15", evidence="cicd", ip="192.0.2.42",
                request={"properties": {"modelType": "mlflow_model", "modelUri": "azureml://jobs/nightly/outputs/model",
                                        "tags": {"auc": "0.912", "trigger": "schedule"}}},
                response={"properties": {"modelType": "mlflow_model", "provisioningState": "Succeeded"}})
    aml_audit(at("03:10:46", 999), "ModelsChangeEvent", "Microsoft.MachineLearningServices/workspaces/models/versions/write",
              cicd, "192.0.2.42", {"AmlModelName": "churn-xgb", "AmlModelVersion": "15"}, signature="201")
    cluster_event(at("03:41:09", 999), "cpu-cluster", "STANDARD_DS3_V2", 4, 0, "Resizing", "ResizeStarted")
    cluster_event(at("03:44:51", 999), "cpu-cluster", "STANDARD_DS3_V2", 0, 0, "Steady", "ResizeCompleted")

    # ---- Early morning: CI deploys the churn scoring endpoint ----
    sp_signin(at("05:48:02"), cicd, "192.0.2.41")
    lookalike("CI updates workspace tags (publicNetworkAccess stays Disabled)",
              activity_op(at("05:50:31", 999), cicd, "Microsoft.MachineLearningServices/workspaces/write", WS_ID,
                          evidence="cicd", ip="192.0.2.41", async_=True, status="OK",
                          request={"location": REGION, "identity": {"type": "SystemAssigned"},
                                   "tags": {"release": "2026.11.03.1", "owner": "ml-platform"},
                                   "properties": {"publicNetworkAccess": "Disabled", "hbiWorkspace": True,
                                                  "storageAccount": ST_ID, "keyVault": KV_ID,
                                                  "containerRegistry": ACR_ID, "applicationInsights": APPI_ID,
                                                  "managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound"}}},
                          response={"properties": {"publicNetworkAccess": "Disabled", "provisioningState": "Succeeded",
                                                   "managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound"}}}),
              ["D7"], "publicNetworkAccess Disabled and managed network unchanged; caller is the deployment pipeline.")
    activity_op(at("05:52:10", 999), cicd, "Microsoft.Resources/deployments/write",
                f"{RG_ID}/providers/Microsoft.Resources/deployments/churn-endpoint-20261103.1", evidence="cicd",
                ip="192.0.2.41", async_=True,
                request={"properties": {"mode": "Incremental", "templateLink": {"uri": "https://example.invalid/churn-endpoint.json"},
                                        "parameters": {"imageTag": {"value": "2026.11.03.1"}}}},
                response={"properties": {"provisioningState": "Succeeded", "mode": "Incremental"}}, duration_s=(40, 90))
    activity_op(at("05:52:40", 999), cicd,
                "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/write",
                f"{WS_ID}/onlineEndpoints/churn-scoring/deployments/green", evidence="cicd", ip="192.0.2.41",
                async_=True, request={"location": REGION, "sku": {"name": "Default", "capacity": 2},
                                      "properties": {"endpointComputeType": "Managed", "instanceType": "Standard_DS3_v2",
                                                     "model": f"{WS_ID}/models/churn-xgb/versions/15",
                                                     "appInsightsEnabled": True, "egressPublicNetworkAccess": "Disabled"}},
                response={"properties": {"provisioningState": "Succeeded", "instanceType": "Standard_DS3_v2"}},
                duration_s=(300, 480))
    activity_op(at("06:04:03", 999), cicd, "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write",
                f"{WS_ID}/onlineEndpoints/churn-scoring", evidence="cicd", ip="192.0.2.41", async_=True, status="OK",
                request={"location": REGION, "identity": {"type": "SystemAssigned"},
                         "properties": {"authMode": "Key", "publicNetworkAccess": "Disabled", "traffic": {"blue": 0, "green": 100}}},
                response={"properties": {"authMode": "Key", "publicNetworkAccess": "Disabled", "traffic": {"blue": 0, "green": 100}}})
    lookalike("CI fetches the endpoint key for its smoke test",
              activity_op(at("06:07:19", 999), cicd, "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action",
                          f"{WS_ID}/onlineEndpoints/churn-scoring", evidence="cicd", ip="192.0.2.41", status="OK"),
              ["D6"], "The deployment pipeline's own identity, from its agent pool, right after deploying; same every day.")
    aml_audit(at("06:07:25", 999), "DeploymentReadEvent",
              "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/read", cicd, "192.0.2.41",
              {"AmlServiceName": "churn-scoring"})

    # ---- Dana's legitimate morning, from the office, with MFA ----
    signin(at("07:38:12"), dana, dana.ip, app=(APP_ML_STUDIO, "Azure Machine Learning Studio"),
           resource=("18a66f5f-dbdf-4c17-9dd7-1634712a9cbe", "Azure Machine Learning Services"),
           device={"deviceId": guid(), "displayName": "LT-DOKAFOR", "operatingSystem": "Windows 11",
                   "browser": "Edge 130.0.0", "isCompliant": True, "isManaged": True, "trustType": "Azure AD joined"},
           ca=[{**CA_COMPLIANT, "enforcedGrantControls": ["RequireCompliantDevice"], "enforcedSessionControls": [],
                "result": "success"}, {**CA_BLOCK_LEGACY, "enforcedGrantControls": ["Block"], "enforcedSessionControls": [],
                                       "result": "notApplied"}],
           ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0")
    activity_op(at("07:41:55", 999), dana, "Microsoft.MachineLearningServices/workspaces/computes/start/action",
                compute_id("ci-dana"), evidence="dana", appid=APP_ML_STUDIO, async_=True, status="OK", duration_s=(60, 150))
    compute_instance_event(at("07:41:57", 999), dana, dana.ip, "ci-dana", "start/action")
    for hm in ("07:55:30", "08:12:04"):
        activity_op(at(hm, 999), dana, "Microsoft.MachineLearningServices/workspaces/jobs/write",
                    f"{WS_ID}/jobs/{hexid(8)}-{hexid(4)}", evidence="dana", appid=APP_ML_STUDIO,
                    request={"properties": {"jobType": "Command", "experimentName": "fraud-gnn-tuning",
                                            "computeId": compute_id("gpu-cluster"),
                                            "environmentId": "azureml:pytorch-gnn:7"}},
                    response={"properties": {"status": "NotStarted"}})
        datastore_read(at(hm, 999) + timedelta(seconds=3), dana, dana.ip, "feature_store_adls")
    cluster_event(at("07:56:30", 999), "gpu-cluster", "STANDARD_NC6S_V3", 0, 2, "Resizing", "ResizeStarted")
    cluster_event(at("08:02:11", 999), "gpu-cluster", "STANDARD_NC6S_V3", 2, 2, "Steady", "ResizeCompleted")
    job_events(at("07:55:34", 999), dana, "gpu-cluster", "fraud-gnn-tuning", 41)
    job_events(at("08:12:08", 999), dana, "gpu-cluster", "fraud-gnn-tuning", 17, fail=True)
    model_read(at("07:59:02", 999), dana, dana.ip, "fraud-gnn", 9)

    # ---- Carol, platform admin: PIM, tags, NSG rules for Bastion and Azure ML, a Reader for the intern ----
    signin(at("07:58:40"), carol, carol.ip, app=(APP_PORTAL, "Azure Portal"),
           device={"deviceId": guid(), "displayName": "LT-CJENSEN", "operatingSystem": "MacOs",
                   "browser": "Safari 18.1", "isCompliant": True, "isManaged": True, "trustType": "Azure AD registered"},
           ca=[{**CA_MFA_ADMIN, "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [], "result": "success"},
               {**CA_BLOCK_LEGACY, "enforcedGrantControls": ["Block"], "enforcedSessionControls": [], "result": "notApplied"}],
           ua="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15")
    pim_activation(at("08:00:05"), carol, "Owner", "CHG-20431 tag storage account, add Bastion and Azure ML inbound rules")
    st_props_before = {"encryption": {"keySource": "Microsoft.Keyvault", "requireInfrastructureEncryption": True,
                                      "keyvaultproperties": {"keyname": CMK_NAME, "keyvaulturi": f"https://{VAULT}.vault.azure.net/",
                                                             "keyversion": ""},
                                      "identity": {"userAssignedIdentity": None},
                                      "services": {"blob": {"enabled": True, "keyType": "Account"},
                                                   "file": {"enabled": True, "keyType": "Account"}}},
                       "publicNetworkAccess": "Enabled", "allowBlobPublicAccess": False, "allowSharedKeyAccess": True,
                       "minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True,
                       "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny",
                                       "virtualNetworkRules": [{"id": SUBNET_ID, "action": "Allow"}], "ipRules": []},
                       "provisioningState": "Succeeded"}
    lookalike("Carol tags the workspace storage account (CMK still on)",
              activity_op(at("08:05:12", 999), carol, "Microsoft.Storage/storageAccounts/write", ST_ID, evidence="carol",
                          status="OK", request={"tags": {"costCenter": "ml-4410", "owner": "ml-platform", "change": "CHG-20431"}},
                          response={"sku": {"name": "Standard_ZRS", "tier": "Standard"}, "kind": "StorageV2",
                                    "id": ST_ID, "name": STORAGE, "type": "Microsoft.Storage/storageAccounts",
                                    "location": REGION, "tags": {"costCenter": "ml-4410", "owner": "ml-platform",
                                                                 "change": "CHG-20431"},
                                    "identity": {"type": "SystemAssigned", "principalId": st_msi.oid, "tenantId": TENANT},
                                    "properties": st_props_before}),
              ["D16"], "Only tags change; the response shows encryption.keySource Microsoft.Keyvault and networkAcls Deny.")
    lookalike("Carol allows SSH from the Azure Bastion subnet",
              nsg_rule_write(at("08:12:40", 999), carol, "AllowBastionSsh", port="22", source="10.20.250.0/26",
                             dest="VirtualNetwork", priority=200, description="SSH from Azure Bastion subnet only",
                             evidence="carol"),
              ["D15"], "Port 22 Allow Inbound, but the source is the Bastion subnet 10.20.250.0/26, not the internet.")
    lookalike("Carol adds the documented Azure ML inbound rule (service tag, port 44224)",
              nsg_rule_write(at("08:14:02", 999), carol, "AllowAzureMLInbound", port="44224",
                             source="AzureMachineLearning", dest="VirtualNetwork", priority=130,
                             description="Required: Azure ML service to compute instances", evidence="carol"),
              ["D15"], "Source is the AzureMachineLearning service tag and the port is 44224, as Microsoft documents.")
    ra = guid()
    lookalike("Carol grants the new intern Reader on the workspace",
              activity_op(at("08:20:33", 999), carol, "Microsoft.Authorization/roleAssignments/write",
                          f"{WS_ID}/providers/Microsoft.Authorization/roleAssignments/{ra}", evidence="carol",
                          request={"Id": ra, "Properties": {"PrincipalId": erin.oid, "PrincipalType": "User",
                                                            "RoleDefinitionId": f"{SUB_ID}/providers/Microsoft.Authorization/roleDefinitions/{ROLE['Reader']}",
                                                            "Scope": WS_ID, "Condition": None, "ConditionVersion": None}},
                          response={"properties": {"roleDefinitionId": f"{SUB_ID}/providers/Microsoft.Authorization/roleDefinitions/{ROLE['Reader']}",
                                                   "principalId": erin.oid, "principalType": "User", "scope": WS_ID,
                                                   "createdBy": carol.oid, "updatedBy": carol.oid},
                                    "id": f"{WS_ID}/providers/Microsoft.Authorization/roleAssignments/{ra}",
                                    "type": "Microsoft.Authorization/roleAssignments", "name": ra}),
              ["D1"], "Reader is not a privileged role; scope is the workspace; caller is the PIM-activated admin.")

    # ---- The team (office IPv4, home IPv6) works all day: sign-in, start the compute instance, jobs, reads ----
    for p, start_h, appid in TEAM:
        studio = appid == APP_ML_STUDIO
        windows = p.ip.startswith("198.51.100")
        device = {"deviceId": guid(), "displayName": f"LT-{p.surname.upper()}",
                  "operatingSystem": "Windows 11" if windows else "Linux", "browser": "Chrome 130.0.0" if studio else "",
                  "isCompliant": True, "isManaged": True, "trustType": "Azure AD joined" if windows else "Azure AD registered"}
        ca = [{**CA_MFA_ADMIN, "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [], "result": "success"},
              {**CA_COMPLIANT, "enforcedGrantControls": ["RequireCompliantDevice"], "enforcedSessionControls": [],
               "result": "success"}]
        ua = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
              if studio else "python-requests/2.32.3 AZURECLI/2.67.0")
        app = (APP_ML_STUDIO, "Azure Machine Learning Studio") if studio else (APP_CLI, "Microsoft Azure CLI")
        signin(at(f"{start_h:02d}:{rng.randint(15, 40):02d}:{rng.randint(0, 59):02d}"), p, p.ip, app=app,
               client="Browser" if studio else "Mobile Apps and Desktop clients", device=device, ca=ca, ua=ua)
        for h in range(start_h + 1, 18):  # token refreshes, MFA satisfied by the earlier claim
            signin(at(f"{h:02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"), p, p.ip, app=app,
                   client="Browser" if studio else "Mobile Apps and Desktop clients", device=device, ca=ca, ua=ua,
                   interactive=False, category="NonInteractiveUserSignInLogs")
        who = p.key.split(".")[0]
        ci = f"ci-{who}"
        activity_op(at(f"{start_h:02d}:45:{rng.randint(0, 59):02d}", 999), p,
                    "Microsoft.MachineLearningServices/workspaces/computes/start/action", compute_id(ci),
                    evidence=who, appid=appid, async_=True, status="OK", duration_s=(60, 150))
        compute_instance_event(at(f"{start_h:02d}:45:30", 999), p, p.ip, ci, "start/action")
        for h in range(start_h + 1, 18):
            for _ in range(rng.choice([0, 1, 1, 2])):
                exp = rng.choice(["churn-features", "demand-forecast", "credit-risk-v3", "support-intent"])
                t = at(f"{h:02d}:{rng.randint(0, 50):02d}:{rng.randint(0, 59):02d}", 999)
                activity_op(t, p, "Microsoft.MachineLearningServices/workspaces/jobs/write",
                            f"{WS_ID}/jobs/{hexid(8)}-{hexid(4)}", evidence=who, appid=appid,
                            request={"properties": {"jobType": "Command", "experimentName": exp,
                                                    "computeId": compute_id("cpu-cluster"),
                                                    "environmentId": "azureml:sklearn-1.5:3",
                                                    "inputs": {"data": {"uri": "azureml://datastores/curated_customer_data/paths/churn/"}}}},
                            response={"properties": {"status": "NotStarted"}})
                job_events(t + timedelta(seconds=2), p, "cpu-cluster", exp, rng.randint(5, 35), fail=rng.random() < 0.1)
            for _ in range(rng.randint(1, 4)):
                t = at(f"{h:02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}", 999)
                datastore_read(t, p, p.ip, rng.choice(DATASTORES))
                if rng.random() < 0.5:
                    name, ver = rng.choice(MODELS)
                    model_read(t + timedelta(seconds=rng.randint(1, 30)), p, p.ip, name, ver)
                compute_instance_event(t + timedelta(seconds=rng.randint(1, 60)), p, p.ip, ci)
                for k in range(rng.randint(0, 2)):
                    blob_event(t + timedelta(seconds=5 + k), "GetBlob", ws_msi, "10.20.1.7", CONTAINER,
                               blob_path(rng.randint(0, 50)), rng.randint(50_000, 20_000_000))
        activity_op(at("17:52:10", 999) + timedelta(minutes=rng.randint(0, 30)), p,
                    "Microsoft.MachineLearningServices/workspaces/computes/stop/action", compute_id(ci),
                    evidence=who, appid=appid, async_=True, status="OK", duration_s=(30, 90))
    for h in range(24):  # the workspace identity fetches tokens for storage and Key Vault all day
        sp_signin(at(f"{h:02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"), ws_msi, "10.20.1.6",
                  resource=("cfa8b339-82a2-471a-a3c9-0fc0be7a4093", "Azure Key Vault"), category="ManagedIdentitySignInLogs")

    # CPU cluster scales with the day's jobs
    for hm, cur, tgt, st, internal in (("09:02:11", 0, 3, "Resizing", "ResizeStarted"),
                                       ("09:06:40", 3, 3, "Steady", "ResizeCompleted"),
                                       ("12:31:05", 3, 6, "Resizing", "ResizeStarted"),
                                       ("12:35:17", 6, 6, "Steady", "ResizeCompleted"),
                                       ("18:44:02", 6, 0, "Resizing", "ResizeStarted"),
                                       ("18:48:39", 0, 0, "Steady", "ResizeCompleted")):
        cluster_event(at(hm, 999), "cpu-cluster", "STANDARD_DS3_V2", cur, tgt, st, internal)

    lookalike("Bob tries to list workspace keys and is refused (Data Scientist has listKeys in NotActions)",
              activity_op(at("10:40:18", 999), bob, "Microsoft.MachineLearningServices/workspaces/listKeys/action",
                          WS_ID, evidence=None, fail="Forbidden", appid=APP_CLI),
              ["D3"], "Failed with Forbidden from Bob's usual IPv6 address; nothing was disclosed.")
    bob_cluster = {"properties": {"computeType": "AmlCompute", "disableLocalAuth": True,
                                  "properties": {"vmSize": "STANDARD_DS3_V2", "vmPriority": "Dedicated",
                                                 "scaleSettings": {"minNodeCount": 0, "maxNodeCount": 8,
                                                                   "nodeIdleTimeBeforeScaleDown": "PT30M"},
                                                 "remoteLoginPortPublicAccess": "Disabled",
                                                 "enableNodePublicIp": False, "subnet": {"id": SUBNET_ID}}}}
    lookalike("Bob raises the CPU cluster's max nodes (no public IP, SSH disabled)",
              activity_op(at("11:02:44", 999), bob, "Microsoft.MachineLearningServices/workspaces/computes/write",
                          compute_id("cpu-cluster"), evidence="bob", appid=APP_CLI, async_=True, status="OK",
                          request=bob_cluster, response={**bob_cluster, "name": "cpu-cluster"}),
              ["D9"], "remoteLoginPortPublicAccess Disabled, enableNodePublicIp false, subnet set, disableLocalAuth true.")
    lookalike("Bob deletes his old compute instance",
              activity_op(at("16:10:05", 999), bob, "Microsoft.MachineLearningServices/workspaces/computes/delete",
                          compute_id("ci-bob-old"), evidence="bob", appid=APP_CLI, async_=True, status="OK",
                          duration_s=(60, 180)),
              ["D23"], "One delete of the user's own idle instance; not a burst.")
    # From 14:14 the workspace's security feed is gone; Activity Log, KV and the compute categories still flow.
    policy_audit(at("17:15:02", 999), ST_ID, *POLICY_CMK)
    policy_audit(at("17:15:03", 999), WS_ID, *POLICY_WS_PUBLIC)
    sp_signin(at("14:58:31"), cicd, "192.0.2.45")
    activity_op(at("15:00:09", 999), cicd, "Microsoft.MachineLearningServices/workspaces/jobs/write",
                f"{WS_ID}/jobs/batch_score_{hexid(8)}", evidence="cicd", ip="192.0.2.45",
                request={"properties": {"jobType": "Pipeline", "experimentName": "batch-scoring",
                                        "settings": {"default_compute": "cpu-cluster"}}},
                response={"properties": {"status": "NotStarted", "jobType": "Pipeline"}})
    job_events(at("15:00:12", 999), cicd, "cpu-cluster", "batch-scoring", 22)


def attack():
    """13:41-14:15 UTC (21:41-22:15 in Singapore, where the attacker's IPs geolocate), after a full
    morning of normal work that gives rules and baselines something to compare with."""
    # Step 0: password spray over IMAP succeeds (legacy auth, single factor), then an Azure CLI sign-in with
    # password only: the MFA policy for Azure management is still in report-only mode.
    for i in range(6):
        signin(at(f"12:41:{i * 9 + 3:02d}"), dana, ATTACKER_IP, app=("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
               resource=("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
               client="IMAP4", result="50126", mfa=False, interactive=False, ca_status="notApplied",
               failure="Error validating credentials due to invalid username or password.",
               ua="", device={"deviceId": "", "operatingSystem": "", "browser": ""},
               ca=[{**CA_BLOCK_LEGACY, "enforcedGrantControls": ["Block"], "enforcedSessionControls": [],
                    "result": "reportOnlyFailure"}])
    s1 = signin(at("12:48:27"), dana, ATTACKER_IP, app=("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
                resource=("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
                client="IMAP4", mfa=False, interactive=False, ca_status="notApplied",
                device={"deviceId": "", "operatingSystem": "", "browser": ""},
                ca=[{**CA_BLOCK_LEGACY, "enforcedGrantControls": ["Block"], "enforcedSessionControls": [],
                     "result": "reportOnlyFailure"}], risk="medium", risk_events=["unfamiliarFeatures"])
    step("Password validated over legacy IMAP from a new IP (after 6 failures)", s1,
         ["signin.legacy-auth"], ["IM-6", "IM-7"],
         "samples/eventhub/entra-signin-capture.json.gz",
         "Legacy authentication is not blocked (CA002 only in report-only mode); single factor.")
    s2 = signin(at("13:09:51"), dana, ATTACKER_IP, app=(APP_CLI, "Microsoft Azure CLI"),
                client="Mobile Apps and Desktop clients", mfa=False, ca_status="notApplied",
                device={"deviceId": "", "operatingSystem": "Linux", "browser": ""},
                ca=[{**CA_MFA_ADMIN, "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [],
                     "result": "reportOnlyFailure"},
                    {**CA_COMPLIANT, "enforcedGrantControls": ["RequireCompliantDevice"], "enforcedSessionControls": [],
                     "result": "notApplied"}],
                risk="medium", risk_events=["unfamiliarFeatures", "anonymizedIPAddress"],
                ua="python-requests/2.32.3 AZURECLI/2.67.0 (DEB)")
    step("Azure CLI sign-in to Azure management, password only, unmanaged device", s2,
         ["signin.mfa-not-satisfied", "signin.noncompliant-device"], ["IM-6", "IM-7"],
         "samples/eventhub/entra-signin-capture.json.gz",
         "Azure management reached without MFA from a device that is neither compliant nor managed.")

    cli = dict(ip=ATTACKER_IP, mfa=False, appid=APP_CLI)
    role_def = f"{SUB_ID}/providers/Microsoft.Authorization/roleDefinitions/{ROLE['Owner']}"
    ra_rid = f"{SUB_ID}/providers/Microsoft.Authorization/roleAssignments/{DANA_OWNER_RA}"
    step("Owner granted to herself at subscription scope (via a standing User Access Administrator assignment)",
         activity_op(at("13:14:37", 999), dana, "Microsoft.Authorization/roleAssignments/write", ra_rid,
                     evidence="dana-uaa", **cli,
                     request={"Id": DANA_OWNER_RA, "Properties": {"PrincipalId": dana.oid, "PrincipalType": "User",
                                                                  "RoleDefinitionId": role_def, "Scope": SUB_ID,
                                                                  "Condition": None, "ConditionVersion": None}},
                     response={"properties": {"roleDefinitionId": role_def, "principalId": dana.oid,
                                              "principalType": "User", "scope": SUB_ID, "condition": None,
                                              "createdOn": ts(at("13:14:38")), "updatedOn": ts(at("13:14:38")),
                                              "createdBy": None, "updatedBy": dana.oid, "delegatedManagedIdentityResourceId": None,
                                              "description": None},
                               "id": ra_rid, "type": "Microsoft.Authorization/roleAssignments", "name": DANA_OWNER_RA}),
         ["D1"], ["PA-1", "PA-7"], "samples/export/insights-activity-logs", "A data scientist becomes subscription Owner outside PIM.")
    step("NSG on the AML subnet opened: SSH (22) from any source",
         nsg_rule_write(at("13:21:05", 999), dana, "allow-ssh-22", port="22", source="*", dest="*", priority=110,
                        description="tmp", evidence="dana-owner", **cli),
         ["D15"], ["NS-1"], "samples/export/insights-activity-logs", "Compute subnet reachable on 22/tcp from the internet.")
    ws_req = {"properties": {"publicNetworkAccess": "Enabled", "allowPublicAccessWhenBehindVnet": True}}
    step("Workspace public network access enabled",
         activity_op(at("13:26:12", 999), dana, "Microsoft.MachineLearningServices/workspaces/write", WS_ID,
                     evidence="dana-owner", async_=True, status="OK", **cli, request=ws_req,
                     response={"properties": {"publicNetworkAccess": "Enabled", "allowPublicAccessWhenBehindVnet": True,
                                              "provisioningState": "Succeeded",
                                              "managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound"}}}),
         ["D7"], ["NS-2"], "samples/export/insights-activity-logs", "Private-link-only workspace reachable from the internet.")
    policy_audit(at("13:26:13", 999), WS_ID, *POLICY_WS_PUBLIC, corr=STEPS[-1]["correlationId"])
    step("Workspace keys listed (storage key, ACR password, App Insights key) from the new IP",
         activity_op(at("13:29:40", 999), dana, "Microsoft.MachineLearningServices/workspaces/listKeys/action", WS_ID,
                     evidence="dana-owner", status="OK", **cli),
         ["D3"], ["IM-8"], "samples/export/insights-activity-logs", "Workspace secrets disclosed to an unknown network.")
    for i, ds in enumerate(("workspaceblobstore", "curated_customer_data")):
        step(f"Datastore secrets listed: {ds}",
             activity_op(at(f"13:30:{12 + i * 21:02d}", 999), dana,
                         "Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action",
                         f"{WS_ID}/datastores/{ds}", evidence="dana-owner", status="OK", **cli),
             ["D5"], ["IM-8"], "samples/export/insights-activity-logs", "Datastore credentials disclosed.")
    step("Compute keys listed for the attached AKS inference cluster",
         activity_op(at("13:31:20", 999), dana, "Microsoft.MachineLearningServices/workspaces/computes/listKeys/action",
                     compute_id("aks-inference"), evidence="dana-owner", status="OK", **cli),
         ["D4"], ["IM-8"], "samples/export/insights-activity-logs", "Compute (kubeconfig) secrets disclosed.")
    step("Storage account keys listed",
         activity_op(at("13:32:02", 999), dana, "Microsoft.Storage/storageAccounts/listKeys/action", ST_ID,
                     evidence="dana-owner", status="OK", **cli),
         ["D17"], ["IM-8"], "samples/export/insights-activity-logs", "Shared keys to the workspace storage disclosed.")
    st_open = {"properties": {"networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow",
                                              "virtualNetworkRules": [{"id": SUBNET_ID, "action": "Allow"}], "ipRules": []}}}
    after_open = json.loads(js(st_props_before))
    after_open["networkAcls"]["defaultAction"] = "Allow"
    step("Storage firewall opened (networkAcls.defaultAction Allow)",
         activity_op(at("13:34:15", 999), dana, "Microsoft.Storage/storageAccounts/write", ST_ID,
                     evidence="dana-owner", status="OK", **cli, request=st_open,
                     response={"id": ST_ID, "name": STORAGE, "type": "Microsoft.Storage/storageAccounts",
                               "kind": "StorageV2", "location": REGION, "properties": after_open}),
         ["D16"], ["NS-2", "DP-3"], "samples/export/insights-activity-logs", "Workspace storage reachable from any network.")

    # Key Vault: secrets enumerated and read from the new IP.
    kv_client = "azsdk-python-keyvault-secrets/4.9.0 Python/3.12.3 (Linux-6.8.0-47-generic-x86_64-with-glibc2.39) AZURECLI/2.67.0"
    t = at("13:36:02")
    kv_event(t, "SecretList", dana, ATTACKER_IP, "secrets", client=kv_client)
    secrets = ["appi-connection", "acr-pull-token", "feature-store-sas", "snowflake-ml-reader", "openai-api-key",
               "sp-mlops-cicd-secret"]
    for i, s in enumerate(secrets):
        kv_event(t + timedelta(seconds=4 + i * 3, milliseconds=rng.randint(0, 999)), "SecretGet", dana, ATTACKER_IP,
                 f"secrets/{s}/{hexid(32)}", client=kv_client)
    step("Key Vault secrets enumerated and read from the new IP",
         {"operation": "SecretList, SecretGet", "time": ts(t), "caller": dana.upn, "callerIp": ATTACKER_IP,
          "resourceId": KV_ID, "count": 1 + len(secrets)},
         ["D18"], ["IM-8", "DP-6"], "samples/export/insights-logs-auditevent", "Workspace vault secrets read by an interactive user from outside.")

    # Exfiltration burst: AML data-plane reads and account-key blob reads.
    burst_start, burst_end = at("13:38:00"), at("14:02:30")
    span = (burst_end - burst_start).total_seconds()
    n_ds = n_models = 0
    for name, latest in MODELS:
        for v in range(max(1, latest - 4), latest + 1):
            model_read(burst_start + timedelta(seconds=rng.uniform(0, span * 0.6)), dana, ATTACKER_IP, name, v)
            n_models += 1
    for i in range(28):
        datastore_read(burst_start + timedelta(seconds=rng.uniform(0, span)), dana, ATTACKER_IP, DATASTORES[i % len(DATASTORES)])
        n_ds += 1
    n_blob = 0
    total_bytes = 0
    for i in range(320):
        tt = burst_start + timedelta(seconds=rng.uniform(60, span))
        ip = ATTACKER_IP if i % 3 else ATTACKER_IP2
        if i % 16 == 0:
            blob_event(tt, "ListBlobs", None, ip, CONTAINER, None, rng.randint(20_000, 90_000), auth="AccountKey")
        else:
            size = rng.randint(5_000_000, 64_000_000)
            total_bytes += size
            blob_event(tt, "GetBlob", None, ip, CONTAINER, blob_path(i), size, auth="AccountKey")
        n_blob += 1
    step("Exfiltration burst: models, datastores and blobs read from the new IPs",
         {"operation": "ModelsReadEvent, DataStoreReadEvent, GetBlob/ListBlobs", "time": ts(burst_start),
          "end": ts(burst_end), "caller": dana.upn, "callerIp": ATTACKER_IP, "callerIps": [ATTACKER_IP, ATTACKER_IP2],
          "resourceId": WS_ID, "counts": {"ModelsReadEvent": n_models, "DataStoreReadEvent": n_ds,
                                          "StorageRead": n_blob, "bytesRead": total_bytes}},
         ["D22"], ["DP-2", "LT-1"], "samples/eventhub/mlw-prod-audit.json + samples/export/insights-logs-storageread",
         "Bulk read of every model version and the training data, by a user who never read most of them.")

    # Defender for Resource Manager notices the credential-access operations.
    cred_ops = [s for s in STEPS if s["detections"][0] in ("D3", "D4", "D5", "D17")]
    alert_id = reverse_ticks(at("13:29:40")) + "_" + guid()
    a1 = defender_export_alert(1, alert_id, at("13:29:40"), at("13:30:33"), at("13:47:12"), at("13:47:58"),
                               ["Microsoft.MachineLearningServices/workspaces/listKeys/action",
                                "Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action"],
                               [s["correlationId"] for s in cred_ops[:3]])
    a1b = defender_export_alert(2, alert_id, at("13:29:40"), at("13:32:02"), at("13:47:12"), at("14:01:37"),
                                ["Microsoft.MachineLearningServices/workspaces/listKeys/action",
                                 "Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action",
                                 "Microsoft.MachineLearningServices/workspaces/computes/listKeys/action",
                                 "Microsoft.Storage/storageAccounts/listKeys/action"],
                                [s["correlationId"] for s in cred_ops])
    security_activity(at("13:48:03", 999), a1)
    rest_id = reverse_ticks(at("13:39:00")) + "_" + guid()
    a2 = defender_rest_alert(rest_id, at("13:39:00"), at("14:02:30"), at("14:09:44"), n_blob,
                             total_bytes // 1_000_000)

    cmk_req = {"properties": {"encryption": {"keySource": "Microsoft.Storage",
                                             "services": {"blob": {"enabled": True, "keyType": "Account"},
                                                          "file": {"enabled": True, "keyType": "Account"}}}}}
    after_cmk = json.loads(js(after_open))
    after_cmk["encryption"] = {"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": True,
                               "services": {"blob": {"enabled": True, "keyType": "Account"},
                                            "file": {"enabled": True, "keyType": "Account"}}}
    step("Customer-managed key removed from the workspace storage (Microsoft.Keyvault -> Microsoft.Storage)",
         activity_op(CMK_REMOVED, dana, "Microsoft.Storage/storageAccounts/write", ST_ID, evidence="dana-owner",
                     status="OK", **cli, request=cmk_req,
                     response={"id": ST_ID, "name": STORAGE, "type": "Microsoft.Storage/storageAccounts",
                               "kind": "StorageV2", "location": REGION, "properties": after_cmk}),
         ["D16"], ["DP-5"], "samples/export/insights-activity-logs",
         "Data no longer encrypted with the customer's key; the KV UnwrapKey calls stop from here on.",
         previousKeySource="Microsoft.Keyvault")
    policy_audit(CMK_REMOVED + timedelta(seconds=1), ST_ID, *POLICY_CMK, corr=STEPS[-1]["correlationId"])
    step("Defender for Storage plan downgraded to Free",
         activity_op(at("14:11:48", 999), dana, "Microsoft.Security/pricings/write",
                     f"{SUB_ID}/providers/Microsoft.Security/pricings/StorageAccounts", evidence="dana-owner",
                     status="OK", **cli, request={"properties": {"pricingTier": "Free"}},
                     response={"id": f"{SUB_ID}/providers/Microsoft.Security/pricings/StorageAccounts",
                               "name": "StorageAccounts", "type": "Microsoft.Security/pricings",
                               "properties": {"pricingTier": "Free", "freeTrialRemainingTime": "PT0S"}}),
         ["D11"], ["LT-1"], "samples/export/insights-activity-logs", "No more threat detection for storage.")
    for when, rid, name in ((WS_DIAG_DELETED, f"{WS_ID}/providers/Microsoft.Insights/diagnosticSettings/{WS_DIAG}", WS_DIAG),
                            (ST_DIAG_DELETED, f"{ST_ID}/blobServices/default/providers/Microsoft.Insights/diagnosticSettings/{ST_DIAG}", ST_DIAG)):
        step(f"Diagnostic setting deleted: {name}",
             activity_op(when, dana, "Microsoft.Insights/diagnosticSettings/delete", rid, evidence="dana-owner",
                         status="OK", **cli),
             ["D10"], ["LT-4"], "samples/export/insights-activity-logs",
             "The workspace's security categories and the storage read logs stop reaching the SIEM.")
    return [a1, a1b], a2


# ---------------------------------------------------------------------------------------------
# Writing the shapes
# ---------------------------------------------------------------------------------------------
def delivered(records: list[dict], max_delay_s: int = 300) -> list[tuple[datetime, dict]]:
    """Adds an ingestion delay: blobs are filled in received order, so a blob holds records a few minutes
    out of order and an hour's blob can hold records stamped in the previous hour. The delay drifts per
    five-minute stretch plus a little jitter, so neighbours usually keep their order but not always."""
    out = []
    end = DAY + timedelta(hours=23, minutes=59, seconds=59)
    drift: dict[int, int] = {}
    for r in records:
        t = datetime.strptime(r["time"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        bucket = int((t - DAY).total_seconds()) // 300
        if bucket not in drift:
            drift[bucket] = rng.randint(20, max_delay_s - 20)
        out.append((min(end, t + timedelta(seconds=drift[bucket] + rng.randint(0, 4))), r))
    out.sort(key=lambda x: (x[0], x[1]["time"]))
    return out


def write_export_tree(root: str, container: str, rid_segment: str, records: list[dict], files: list):
    by_hour: dict[int, list[str]] = {}
    for received, r in delivered(records):
        by_hour.setdefault(received.hour, []).append(json.dumps(r, separators=(",", ":")))
    for h in sorted(by_hour):
        rel = f"export/{container}/resourceId={rid_segment}/y=2026/m=11/d=03/h={h:02d}/m=00/PT1H.json"
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", newline="\n") as f:
            f.write("\n".join(by_hour[h]) + "\n")
        files.append({"path": f"samples/{rel}", "shape": "export tree, JSON lines", "records": len(by_hour[h])})


def envelopes(records: list[dict], max_batch: int, window_s: int) -> list[dict]:
    """Event Hub batching: a record joins the current event until the batch is full or the window passes."""
    out, cur, first = [], [], None
    for received, r in delivered(records, 90):
        if cur and (len(cur) >= max_batch or (received - first).total_seconds() > window_s):
            out.append({"records": cur})
            cur = []
        if not cur:
            first = received
        cur.append(r)
    if cur:
        out.append({"records": cur})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(repo, "samples"))
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare with --out")
    args = ap.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            rc = os.spawnv(os.P_WAIT, sys.executable, [sys.executable, os.path.abspath(__file__), "--out", tmp])
            if rc != 0:
                return rc
            diffs = compare(tmp, args.out)
            for d in diffs:
                print(f"gen_samples: differs: {d}", file=sys.stderr)
            print("gen_samples: samples/ is up to date" if not diffs else "gen_samples: samples/ is stale; rerun the generator")
            return 1 if diffs else 0
    return generate(args.out)


def read_records(path: str) -> list[dict]:
    """Reads back what we wrote, in every shape we wrote, so a broken file fails here and not in a test."""
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)  # handles concatenated members
    text = raw.decode("utf-8")
    try:
        docs = [json.loads(text)]  # a single object, envelope or array
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]  # JSON lines
    out = []
    for d in docs:
        if isinstance(d, list):
            out.extend(d)
        elif "records" in d:
            out.extend(d["records"])
        else:
            out.append(d)
    return out


def validate(out: str, expected: dict) -> list[str]:
    problems = []
    corr_seen = set()
    for f in expected["files"]:
        path = os.path.join(out, f["path"][len("samples/"):])
        try:
            recs = read_records(path)
        except (ValueError, OSError) as e:
            problems.append(f"{f['path']}: {e}")
            continue
        if len(recs) != f["records"]:
            problems.append(f"{f['path']}: {len(recs)} records, manifest says {f['records']}")
        for r in recs:
            t = r.get("time") or r.get("TimeGenerated") or r.get("properties", {}).get("timeGeneratedUtc", "")
            if not t.startswith("2026-11-03T"):
                problems.append(f"{f['path']}: record outside the day: {t}")
            if "correlationId" in r:
                corr_seen.add(r["correlationId"])
    for s in expected["steps"] + expected["benignLookalikes"]:
        if "correlationId" in s and s["correlationId"] not in corr_seen:
            problems.append(f"step {s.get('step', s['name'])}: correlationId {s['correlationId']} not in any file")
    return problems


def compare(a: str, b: str) -> list[str]:
    diffs = []
    for base, other in ((a, b), (b, a)):
        for dirpath, _, names in os.walk(base):
            for n in names:
                rel = os.path.relpath(os.path.join(dirpath, n), base)
                if rel == "README.md":
                    continue
                o = os.path.join(other, rel)
                if not os.path.exists(o):
                    diffs.append(rel + (" (missing)" if base == a else " (extra)"))
                elif base == a and not filecmp.cmp(os.path.join(dirpath, n), o, shallow=False):
                    diffs.append(rel)
    return sorted(set(diffs))


def generate(out: str) -> int:
    background()
    export_alerts, rest_alert = attack()

    for sub in ("export", "eventhub", "defender"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    files: list = []
    sub_seg = f"/SUBSCRIPTIONS/{SUB.upper()}"
    ws_seg = export_case(WS_ID)
    write_export_tree(out, "insights-activity-logs", sub_seg, ACTIVITY, files)
    for cat in ("AmlComputeClusterEvent", "AmlComputeJobEvent"):
        write_export_tree(out, f"insights-logs-{cat.lower()}", ws_seg, [r for r in AML_EXPORT if r["category"] == cat], files)
    write_export_tree(out, "insights-logs-auditevent", KV_EXPORT_RID, KV_LOGS, files)
    write_export_tree(out, "insights-logs-storageread", ST_BLOB_RID, ST_LOGS, files)

    os.makedirs(os.path.join(out, "eventhub"), exist_ok=True)
    # The workspace's security categories, as Event Hub events: one {"records":[...]} envelope per line.
    evs = envelopes(AML_HUB, 40, 60)
    with open(os.path.join(out, "eventhub/mlw-prod-audit.json"), "w", newline="\n") as f:
        for e in evs:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    files.append({"path": "samples/eventhub/mlw-prod-audit.json", "shape": "Event Hub envelopes, one per line",
                  "records": len(AML_HUB), "envelopes": len(evs)})
    # Entra sign-ins captured from the tenant's hub into a multi-member gzip (one member per flush of 4 hours).
    evs = envelopes(SIGNINS, 25, 300)
    members = []
    for block in range(6):
        lines = [json.dumps(e, separators=(",", ":")) for e in evs
                 if block * 4 <= int(e["records"][0]["time"][11:13]) < block * 4 + 4]
        if lines:
            members.append(gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=9, mtime=0))
    with open(os.path.join(out, "eventhub/entra-signin-capture.json.gz"), "wb") as f:
        f.write(b"".join(members))
    files.append({"path": "samples/eventhub/entra-signin-capture.json.gz",
                  "shape": f"gzip, {len(members)} members, Event Hub envelopes one per line",
                  "records": len(SIGNINS), "envelopes": len(evs), "gzipMembers": len(members)})
    # Entra audit (PIM) as a single pretty-printed envelope.
    with open(os.path.join(out, "eventhub/entra-auditlogs.json"), "w", newline="\n") as f:
        f.write(json.dumps({"records": sorted(AUDITS, key=lambda r: r["time"])}, indent=2) + "\n")
    files.append({"path": "samples/eventhub/entra-auditlogs.json", "shape": "one pretty-printed Event Hub envelope",
                  "records": len(AUDITS)})

    os.makedirs(os.path.join(out, "defender"), exist_ok=True)
    with open(os.path.join(out, "defender/continuous-export.json"), "w", newline="\n") as f:
        f.write(json.dumps(export_alerts, indent=2) + "\n")
    files.append({"path": "samples/defender/continuous-export.json",
                  "shape": "JSON array, Defender continuous export (flat PascalCase, $id/$ref)",
                  "records": len(export_alerts)})
    with open(os.path.join(out, "defender/rest-alert.json"), "w", newline="\n") as f:
        f.write(json.dumps(rest_alert, indent=2) + "\n")
    files.append({"path": "samples/defender/rest-alert.json", "shape": "single object, Defender REST alert",
                  "records": 1})

    alerts = [{"shape": "continuous-export", "systemAlertId": export_alerts[0]["SystemAlertId"],
               "alertType": export_alerts[0]["AlertType"], "severity": export_alerts[0]["Severity"],
               "timeGenerated": export_alerts[0]["TimeGenerated"], "versions": len(export_alerts),
               "entities": {"account": dana.upn, "ip": ATTACKER_IP, "azureResource": WS_ID},
               "source": "samples/defender/continuous-export.json (also the Activity Log, category Security)"},
              {"shape": "rest", "systemAlertId": rest_alert["name"], "alertType": rest_alert["properties"]["alertType"],
               "severity": rest_alert["properties"]["severity"], "timeGenerated": rest_alert["properties"]["timeGeneratedUtc"],
               "versions": 1, "entities": {"ip": [ATTACKER_IP, ATTACKER_IP2], "azureResource": ST_ID},
               "source": "samples/defender/rest-alert.json"}]
    expected = {
        "about": "Ground truth for samples/: the attack steps Vigil must cover, the Defender alerts, and benign "
                 "look-alikes it should not raise (or should raise lower). Generated by scripts/gen_samples.py.",
        "date": "2026-11-03",
        "tenantId": TENANT, "subscriptionId": SUB, "resourceGroup": RG,
        "resources": {"workspace": WS_ID, "storageAccount": ST_ID, "keyVault": KV_ID, "containerRegistry": ACR_ID,
                      "nsg": NSG_ID, "subnet": SUBNET_ID},
        "attacker": {"account": dana.upn, "objectId": dana.oid, "ips": [ATTACKER_IP, ATTACKER_IP2],
                     "usualIp": dana.ip, "clientAppId": APP_CLI},
        "steps": STEPS,
        "defenderAlerts": alerts,
        "benignLookalikes": LOOKALIKES,
        "silences": {"workspaceAuditCategoriesEndAfter": ts(WS_DIAG_DELETED), "storageReadLogsEndAfter": ts(ST_DIAG_DELETED),
                     "keyVaultUnwrapKeyEndsAfter": ts(CMK_REMOVED)},
        "files": files,
        "totals": {"activity": len(ACTIVITY), "amlExport": len(AML_EXPORT), "amlEventHub": len(AML_HUB),
                   "keyVault": len(KV_LOGS), "storage": len(ST_LOGS), "signIns": len(SIGNINS), "audit": len(AUDITS),
                   "defender": len(export_alerts) + 1},
    }
    with open(os.path.join(out, "expected.json"), "w", newline="\n") as f:
        f.write(json.dumps(expected, indent=2) + "\n")
    problems = validate(out, expected)
    for msg in problems:
        print(f"gen_samples: invalid output: {msg}", file=sys.stderr)
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(out) for n in ns)
    if total > 5_000_000:
        print(f"gen_samples: samples/ is {total} bytes, over the 5 MB budget", file=sys.stderr)
        return 1
    if problems:
        return 1
    print(f"gen_samples: {sum(x['records'] for x in files)} records in {len(files)} files, {total / 1e6:.2f} MB -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
