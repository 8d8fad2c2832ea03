#!/usr/bin/env python3
"""Write the test events beside every rule of the detection pack (detections/**/X.tests.yml).

The events are complete raw-export records (Activity Log diagnostic export, Entra sign-in and audit
export, Key Vault and Storage resource logs) built from the documented schema
(../shared/reference/activity-log.md, resource-logs.md): full identity.authorization and claims,
requestbody as a JSON string exactly as Azure writes it (compact, double-encoded), Start records
carrying the body and Success/Failure records carrying statusCode/responseBody. All IDs are fake;
addresses come from the documentation ranges 203.0.113.0/24, 198.51.100.0/24, 192.0.2.0/24 and
2001:db8::/32. Output is deterministic (GUIDs are uuid5 of the case name).

Rules that read the assembled operation (logsource category `operation`, listed in ASSEMBLED) get
`events:` cases instead: the whole lifecycle of each operation (Start with the body, Accept, then
Success / Failure / Canceled, or nothing), built from the case's Start record by `lifecycle`, which
keeps the Start's time and correlationId and adds the later records seconds after it.

This file is the source of the tests: edit a case here and rerun
    python3 scripts/gen_pack_tests.py && python3 scripts/check_pack.py
Each case states what it is; the no_match cases are the near misses (right operation, benign body;
failed operation; wrong role; port 443; keySource staying Microsoft.Keyvault; ...).
"""
from __future__ import annotations

import copy
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DET = ROOT / "detections"

SUB = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
SUB_OTHER = "8c7b6a59-4e3d-4c2b-9a18-07f6e5d4c3b2"
TENANT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
FOREIGN_TENANT = "b1c2d3e4-0000-4000-8000-00000000f0f0"
RG = "rg-ml-prod"
NS_MGMT = "https://management.core.windows.net/"

PORTAL = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
POWERSHELL = "1950a258-227b-4e31-a9cf-717495945fc2"
ARM_RESOURCE = "797f4846-ba00-4fd7-ba43-dac1f8f63013"

ROLE = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Azure AI Administrator": "b78c5d69-af96-48a3-bf8d-a8b4d589de94",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "AzureML Compute Operator": "e503ece1-11d0-4e8e-8e2c-7a6c3bf38815",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
}

_clock = datetime(2026, 11, 20, 8, 0, 0, tzinfo=timezone.utc)


def tick(minutes=7) -> str:
    """The next event time, as the export writes it (7 fractional digits, Z)."""
    global _clock
    _clock += timedelta(minutes=minutes, seconds=13, microseconds=123457)
    return _clock.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def iso_offset(t: str) -> str:
    """Graph's createdDateTime / activityDateTime form of an export time."""
    return t[:-1] + "+00:00"


def guid(*seed) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "vigil-pack/" + "/".join(map(str, seed))))


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def arm(path: str, sub: str = SUB, rg: str | None = RG) -> str:
    base = f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")
    return base + ("/providers/" + path if path else "")


WS = "Microsoft.MachineLearningServices/workspaces/mlw-prod"
STORAGE = "Microsoft.Storage/storageAccounts/stmlwprod001"
KV = "Microsoft.KeyVault/vaults/kv-mlw-prod"
ACR = "Microsoft.ContainerRegistry/registries/crmlwprod"


# --------------------------------------------------------------------------- callers

class Caller:
    def __init__(self, claims: dict, principal_type: str, principal_id: str, ip: str):
        self.claims, self.principal_type, self.principal_id, self.ip = claims, principal_type, principal_id, ip


def user(upn: str, display: str, app: str = PORTAL, mfa: bool = True, ip: str = "198.51.100.7") -> Caller:
    oid = guid("user", upn)
    now = 1763625600
    claims = {
        "aud": NS_MGMT, "iss": f"https://sts.windows.net/{TENANT}/", "iat": str(now), "nbf": str(now),
        "exp": str(now + 4500),
        "http://schemas.microsoft.com/claims/authnclassreference": "1",
        "aio": "AVQAq/8ZAAAAx1d0c2hhcmVkLWZha2UtdG9rZW4tZm9yLXRlc3Rz",
        "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa" if mfa else "pwd",
        "appid": app, "appidacr": "0", "name": display, "idtyp": "user", "ipaddr": ip,
        "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
        "puid": "10032001A1B2C3D4",
        "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": "Xq3vQ0fakeNameIdentifierValue0001",
        "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": upn,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": upn,
        "uti": "qZ1bFakeUti0AAAAAAAAAA", "ver": "1.0",
    }
    return Caller(claims, "User", oid, ip)


def managed_identity(name: str, ip: str = "203.0.113.20") -> Caller:
    appid = guid("mi-app", name)
    oid = guid("mi-oid", name)
    now = 1763625600
    claims = {
        "aud": NS_MGMT, "iss": f"https://sts.windows.net/{TENANT}/", "iat": str(now), "nbf": str(now),
        "exp": str(now + 86400), "aio": "k2BgYFakeManagedIdentityAio=", "appid": appid, "appidacr": "2",
        "idtyp": "app",
        "http://schemas.microsoft.com/identity/claims/identityprovider": f"https://sts.windows.net/{TENANT}/",
        "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": oid,
        "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
        "uti": "mI1bFakeUti0AAAAAAAAAA", "ver": "1.0",
        "xms_mirid": arm(f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"),
    }
    return Caller(claims, "ServicePrincipal", oid, ip)


MALLORY = user("mallory@contoso.example", "Mallory Admin", app=PORTAL, mfa=False, ip="203.0.113.45")
DEV = user("dev1@contoso.example", "Dana Developer", app=CLI, mfa=True, ip="198.51.100.7")
OPS = user("ops-admin@contoso.example", "Omar Ops", app=POWERSHELL, mfa=True, ip="2001:db8:10::25")
PIPELINE = managed_identity("id-mlw-prod-pipeline")
DEPLOYER = managed_identity("id-platform-deployer", ip="203.0.113.21")


# --------------------------------------------------------------------------- activity log

SIGNATURE = {"Start": "Started.", "Accept": "Accepted.Created", "Success": "Succeeded.OK",
             "Failure": "Failed.Forbidden", "Canceled": "Canceled."}
STATUS = {"Accept": "Created", "Success": "OK", "Failure": "Forbidden", "Canceled": "Conflict"}


def activity(op: str, resource: str, result: str = "Start", caller: Caller = DEV, body=None, response=None,
             role: str = "Contributor", op_case: str = "upper", status_code: str | None = None,
             case: str = "") -> dict:
    """One Activity Log record as the diagnostic-setting export writes it."""
    action = op
    scope = resource
    corr = guid("corr", op, resource, case)
    authorization = {"scope": scope, "action": action}
    if result != "Failure":
        authorization["evidence"] = {
            "role": role,
            "roleAssignmentScope": f"/subscriptions/{SUB}",
            "roleAssignmentId": guid("ra", caller.principal_id, role).replace("-", ""),
            "roleDefinitionId": ROLE.get(role, ROLE["Contributor"]).replace("-", ""),
            "principalId": caller.principal_id.replace("-", ""),
            "principalType": caller.principal_type,
        }
    properties = {
        "eventCategory": "Administrative",
        "entity": scope,
        "message": op,
        "hierarchy": f"{TENANT}/mg-ml-platform/{SUB}",
    }
    if result in STATUS:
        properties["statusCode"] = status_code or STATUS[result]
        properties["serviceRequestId"] = guid("srq", op, resource, case, result)
    if body is not None:
        properties["requestbody"] = compact(body)
    if response is not None:
        properties["responseBody"] = compact(response)
    if result == "Failure":
        properties["statusMessage"] = compact({"error": {
            "code": "AuthorizationFailed",
            "message": f"The client '{caller.claims.get('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', caller.principal_id)}' "
                       f"with object id '{caller.principal_id}' does not have authorization to perform action "
                       f"'{op}' over scope '{scope}' or the scope is invalid."}})
    return {
        "time": tick(),
        "resourceId": resource.upper(),
        "operationName": op.upper() if op_case == "upper" else op,
        "category": "Administrative",
        "resultType": result,
        "resultSignature": SIGNATURE[result],
        "durationMs": 0,
        "callerIpAddress": caller.ip,
        "correlationId": corr,
        "identity": {"authorization": authorization, "claims": dict(caller.claims)},
        "level": "Error" if result == "Failure" else "Information",
        "location": "global",
        "properties": properties,
    }


def later(t: str, seconds: float) -> str:
    """An export time `seconds` after `t`, in the same 7-digit form."""
    d = datetime.strptime(t[:26], "%Y-%m-%dT%H:%M:%S.%f") + timedelta(seconds=seconds)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def phase(record: dict, result: str, seconds: float = 0, keep_body: bool = False, response=None) -> dict:
    """`record` (any record of the operation) as its `result` record, `seconds` after it: same
    correlationId, caller and resource; the request body only on Start (or where `keep_body`)."""
    r = copy.deepcopy(record)
    r["time"] = later(record["time"], seconds)
    r["resultType"] = result
    r["resultSignature"] = SIGNATURE[result]
    r["level"] = "Error" if result == "Failure" else "Information"
    props = r["properties"]
    for k in ("statusCode", "serviceRequestId", "responseBody", "statusMessage"):
        props.pop(k, None)
    if result != "Start" and not keep_body:
        props.pop("requestbody", None)
    if result in STATUS:
        props["statusCode"] = STATUS[result]
        props["serviceRequestId"] = guid("srq", r["correlationId"], result)
    if response is not None:
        props["responseBody"] = compact(response)
    if result == "Failure":
        r["identity"]["authorization"].pop("evidence", None)
        props["statusMessage"] = compact({"error": {
            "code": "AuthorizationFailed",
            "message": f"The client does not have authorization to perform action "
                       f"'{r['identity']['authorization']['action']}' over scope "
                       f"'{r['identity']['authorization']['scope']}' or the scope is invalid."}})
    return r


def lifecycle(record: dict, final: str | None = "Success", accept: bool = True) -> list[dict]:
    """The records of one ARM operation, from one of its records: Start (with the request body, when
    `record` has one), Accept (when `accept`; it keeps the body if `record` was an Accept carrying it),
    then `final` (Success with the body echoed as responseBody, Failure, Canceled; None: the operation
    never completes and is assembled as Incomplete)."""
    body = record["properties"].get("requestbody")
    out = [phase(record, "Start")]
    if accept:
        out.append(phase(record, "Accept", 1.2, keep_body=record["resultType"] == "Accept"))
    if final is not None:
        response = json.loads(body) if final == "Success" and body else None
        out.append(phase(record, final, 4.7, response=response))
    return out


def operation_cases(match: list, no_match: list) -> tuple[list, list]:
    """A body rule's cases (Start records) as lifecycles of the assembled operation.

    match: each case succeeds (Start, Accept, Success). no_match: the benign bodies succeed too; a
    Failure record of the bad body becomes that operation failing; other records stand alone (an
    operation seen only by its completion has no request body). Then, from the first match case:
    failed (when not covered yet), canceled, never completed (Start only), and accepted but never
    completed (Start, Accept), all of which must not alert."""
    first_name, first = match[0]
    m = [(f"{n} (Start, Accept, Success)", lifecycle(e)) for n, e in match]
    nm, failed = [], False
    for n, e in no_match:
        has_body = "requestbody" in e["properties"]
        if e["resultType"] == "Failure" and has_body:
            what = n.replace("Failure record of a ", "A ").replace("Failure record of an ", "An ")
            nm.append((f"{what} that failed (Start, Failure)", lifecycle(e, "Failure", accept=False)))
            failed = True
        elif e["resultType"] in ("Start", "Accept") and has_body:
            nm.append((f"{n} (Start, Accept, Success)", lifecycle(e)))
        else:
            nm.append((n, [e]))
    if not failed:
        nm.append((f"{first_name}, but denied (Start, Failure)", lifecycle(first, "Failure", accept=False)))
    nm += [(f"{first_name}, but canceled (Start, Accept, Canceled)", lifecycle(first, "Canceled")),
           (f"{first_name}: Start only, never completed (assembled as Incomplete)",
            lifecycle(first, None, accept=False)),
           (f"{first_name}: accepted, never completed (Start, Accept; Incomplete)", lifecycle(first, None))]
    return m, nm


# --------------------------------------------------------------------------- Entra sign-in / audit

def signin(app_id: str, app_name: str, resource_id: str, resource_name: str, *, upn="dana@contoso.example",
           display="Dana Developer", result="0", auth_req="multiFactorAuthentication", client="Browser",
           compliant: bool | None = True, managed=True, category="SignInLogs", ca="success",
           ip="198.51.100.44", case="") -> dict:
    corr = guid("signin", case)
    failure = {"0": None, "50074": "Strong Authentication is required.",
               "50126": "Error validating credentials due to invalid username or password.",
               "53003": "Access has been blocked by Conditional Access policies."}
    device = {"deviceId": guid("device", case) if compliant is not None else "",
              "displayName": "LT-DANA-01" if compliant is not None else "",
              "operatingSystem": "Windows10", "browser": "Edge 131.0.0"}
    if compliant is not None:
        device["isCompliant"] = compliant
        device["isManaged"] = managed
        device["trustType"] = "Azure AD joined"
    steps = [{"authenticationStepDateTime": "2026-11-20T09:00:01Z", "authenticationMethod": "Password",
              "authenticationMethodDetail": "Password Hash Sync", "succeeded": result == "0",
              "authenticationStepResultDetail": "Correct password" if result == "0" else failure.get(result),
              "authenticationStepRequirement": "Primary authentication"}]
    if auth_req == "multiFactorAuthentication":
        steps.append({"authenticationStepDateTime": "2026-11-20T09:00:09Z",
                      "authenticationMethod": "Mobile app notification", "authenticationMethodDetail": None,
                      "succeeded": True, "authenticationStepResultDetail": "MFA successfully completed",
                      "authenticationStepRequirement": "Multi-factor authentication"})
    when = tick(3)
    props = {
        "id": guid("signin-id", case), "createdDateTime": iso_offset(when),
        "userDisplayName": display, "userPrincipalName": upn, "userId": guid("user", upn),
        "userType": "Member", "homeTenantId": TENANT, "resourceTenantId": TENANT,
        "appId": app_id, "appDisplayName": app_name, "resourceId": resource_id,
        "resourceDisplayName": resource_name, "servicePrincipalId": guid("sp", app_id),
        "ipAddress": ip, "autonomousSystemNumber": 64500,
        "status": {"errorCode": int(result), "failureReason": failure.get(result) or "Other.",
                   "additionalDetails": "MFA requirement satisfied by claim in the token"
                   if auth_req == "multiFactorAuthentication" and result == "0" else None},
        "clientAppUsed": client,
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0" if client == "Browser" else
                     ("python-requests/2.31.0" if client != "Mobile Apps and Desktop clients"
                      else "AzureCLI/2.67.0 (MSAL)"),
        "isInteractive": category == "SignInLogs",
        "deviceDetail": device,
        "location": {"city": "Seattle", "state": "Washington", "countryOrRegion": "US",
                     "geoCoordinates": {"latitude": 47.6, "longitude": -122.3}},
        "correlationId": corr,
        "conditionalAccessStatus": ca,
        "appliedConditionalAccessPolicies": [
            {"id": guid("ca", "mfa-admins"), "displayName": "Require MFA for Azure management",
             "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [],
             "result": "success" if ca == "success" else "notApplied",
             "conditionsSatisfied": 3 if ca == "success" else 0, "conditionsNotSatisfied": 0},
            {"id": guid("ca", "block-legacy"), "displayName": "Block legacy authentication",
             "enforcedGrantControls": ["Block"], "enforcedSessionControls": [], "result": "notApplied",
             "conditionsSatisfied": 0, "conditionsNotSatisfied": 0},
        ],
        "authenticationRequirement": auth_req,
        "authenticationRequirementPolicies": [],
        "authenticationDetails": steps,
        "authenticationProtocol": "none",
        "riskLevelDuringSignIn": "none", "riskLevelAggregated": "none", "riskState": "none",
        "riskDetail": "none", "riskEventTypes": [], "riskEventTypes_v2": [],
        "tokenIssuerType": "AzureAD", "tokenIssuerName": "", "crossTenantAccessType": "none",
        "flaggedForReview": False, "isTenantRestricted": False,
    }
    if auth_req == "multiFactorAuthentication" and result == "0":
        props["mfaDetail"] = {"authMethod": "Mobile app notification", "authDetail": None}
    return {
        "time": when, "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity", "operationVersion": "1.0", "category": category,
        "tenantId": TENANT, "resultType": result, "resultSignature": "None",
        "resultDescription": failure.get(result) or "", "durationMs": 0, "callerIpAddress": ip,
        "correlationId": corr, "identity": display, "Level": 4, "location": "US", "properties": props,
    }


def audit(activity_name: str, logged_by: str, *, initiated_user=None, initiated_app=None,
          target_upn="eve.contractor@contoso.example", role="Global Administrator", result="success",
          operation_type="Assign", case="") -> dict:
    corr = guid("audit", case)
    initiated = {}
    ip = "198.51.100.23"
    if initiated_user:
        upn, display = initiated_user
        initiated["user"] = {"id": guid("user", upn), "displayName": display, "userPrincipalName": upn,
                             "ipAddress": ip, "roles": []}
    if initiated_app:
        initiated["app"] = {"appId": None, "displayName": initiated_app,
                            "servicePrincipalId": guid("sp", initiated_app), "servicePrincipalName": None}
    role_id = guid("role", role)
    targets = [
        {"id": guid("user", target_upn), "displayName": None, "type": "User", "userPrincipalName": target_upn,
         "groupType": None,
         "modifiedProperties": [
             {"displayName": "Role.ObjectID", "oldValue": None, "newValue": json.dumps(role_id)},
             {"displayName": "Role.DisplayName", "oldValue": None, "newValue": json.dumps(role)},
             {"displayName": "Role.TemplateId", "oldValue": None,
              "newValue": json.dumps("62e90394-69f5-4237-9190-012177145e10")},
             {"displayName": "Role.WellKnownObjectName", "oldValue": None, "newValue": json.dumps("TenantAdmins")},
         ]},
        {"id": role_id, "displayName": role, "type": "Role", "userPrincipalName": None, "groupType": None,
         "modifiedProperties": []},
    ]
    details = [{"key": "User-Agent", "value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/131.0.0.0"}]
    if logged_by == "PIM":
        details += [{"key": "RequestId", "value": guid("pim-request", case)},
                    {"key": "ExpirationTime", "value": "2026-11-20T17:00:00.0000000Z"},
                    {"key": "StartTime", "value": "2026-11-20T09:00:00.0000000Z"},
                    {"key": "Justification", "value": "CHG0041233 patch AML workspace"}]
    when = tick(4)
    return {
        "time": when, "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": activity_name, "operationVersion": "1.0", "category": "AuditLogs",
        "tenantId": TENANT, "resultSignature": "None", "durationMs": 0, "callerIpAddress": ip,
        "correlationId": corr, "identity": (initiated_user or (None, initiated_app))[1], "Level": 4,
        "properties": {
            "id": f"Directory_{corr}_ZNX5M_{case[:8] or 'a'}", "category": "RoleManagement",
            "correlationId": corr, "result": result, "resultReason": "",
            "activityDisplayName": activity_name, "activityDateTime": when,
            "loggedByService": logged_by, "operationType": operation_type,
            "initiatedBy": initiated, "targetResources": targets, "additionalDetails": details,
        },
    }


# --------------------------------------------------------------------------- resource logs

def kv_audit(op: str, *, result="Success", signature="OK", http=200, obj="keys/cmk-mlw-prod", caller=DEV,
             ip="198.51.100.7") -> dict:
    vault = arm(KV)
    return {
        "time": tick(2), "resourceId": vault.upper(), "operationName": op, "operationVersion": "7.4",
        "category": "AuditEvent", "resultType": result, "resultSignature": signature,
        "resultDescription": "", "durationMs": "41", "callerIpAddress": ip,
        "correlationId": guid("kv", op, obj, result),
        "identity": {"claim": {k: v for k, v in {
            "http://schemas.microsoft.com/identity/claims/objectidentifier": caller.principal_id,
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":
                caller.claims.get("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"),
            "appid": caller.claims["appid"]}.items() if v is not None}},
        "properties": {
            "id": f"https://kv-mlw-prod.vault.azure.net/{obj}", "clientInfo": "azsdk-python-keyvault-keys/4.9.0",
            "httpStatusCode": http,
            "requestUri": f"https://kv-mlw-prod.vault.azure.net/{obj}?api-version=7.4",
            "isAccessPolicyMatch": False, "isRbacAuthorized": http == 200, "tlsVersion": "TLS1_2",
            "appliedAssignmentId": guid("kvra", caller.principal_id).replace("-", "") if http == 200 else None,
        },
    }


def storage_read(op: str, *, auth="Anonymous", status=200, status_text="Success", blob="training-data/iris.csv",
                 ip="203.0.113.99") -> dict:
    acct = "stmlwprod001"
    identity = {"type": auth}
    if auth == "OAuth":
        identity = {"type": "OAuth", "tokenHash": "3F5A9C0B1D2E4F60718293A4B5C6D7E8F9A0B1C2D3E4F5061728394A5B6C7D8E",
                    "authorization": [{"action": "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                                       "roleAssignmentId": guid("sra", "pipeline"),
                                       "roleDefinitionId": ROLE["Storage Blob Data Reader"],
                                       "principals": [{"id": PIPELINE.principal_id, "type": "ServicePrincipal"}],
                                       "denyAssignmentId": "", "reason": "Policy", "result": "Granted"}],
                    "requester": {"appId": PIPELINE.claims["appid"], "audience": "https://storage.azure.com/",
                                  "objectId": PIPELINE.principal_id, "tenantId": TENANT,
                                  "tokenIssuer": f"https://sts.windows.net/{TENANT}/"}}
    return {
        "time": tick(1), "resourceId": arm(f"{STORAGE}/blobServices/default").upper(), "category": "StorageRead",
        "operationName": op, "operationVersion": "2023-11-03", "schemaVersion": "1.0", "statusCode": status,
        "statusText": status_text, "durationMs": 12, "callerIpAddress": f"{ip}:50412",
        "correlationId": guid("st", op, auth, status), "identity": identity, "location": "westeurope",
        "protocol": "HTTPS", "resourceType": "Microsoft.Storage/storageAccounts/blobServices",
        "uri": f"https://{acct}.blob.core.windows.net/{blob}",
        "properties": {"accountName": acct, "userAgentHeader": "curl/8.5.0", "serviceType": "blob",
                       "objectKey": f"/{acct}/{blob}", "lastModifiedTime": "2026-11-01T10:00:00.0000000Z",
                       "serverLatencyMs": 9, "requestHeaderSize": 310, "responseHeaderSize": 402,
                       "responseBodySize": 4551 if status == 200 else 215, "tlsVersion": "TLS 1.2",
                       "etag": "\"0x8DCF1B2A3C4D5E6\"", "contentLengthHeader": 0, "conditionsUsed": ""},
    }


# --------------------------------------------------------------------------- cases, by rule file

def role_body(role: str, principal_type="User", scope=None, principal=None) -> dict:
    rid = guid("roleassignment", role, principal_type)
    return {"Id": rid, "Properties": {
        "PrincipalId": principal or guid("principal", role, principal_type),
        "PrincipalType": principal_type,
        "RoleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{ROLE[role]}",
        "Scope": scope or arm(WS)}}


def role_write(case, role, principal_type="User", result="Start", caller=DEV, scope=None):
    ra = arm(f"Microsoft.Authorization/roleAssignments/{guid('roleassignment', role, principal_type)}", rg=RG)
    return activity("Microsoft.Authorization/roleAssignments/write", ra, result, caller,
                    body=role_body(role, principal_type, scope) if result in ("Start", "Accept") else None,
                    role="Owner", case=case)


def storage_write(case, props: dict, *, create=False, result="Start", caller=DEV):
    body = {"properties": props}
    if create:
        body = {"sku": {"name": "Standard_GRS"}, "kind": "StorageV2", "location": "westeurope", **body}
    return activity("Microsoft.Storage/storageAccounts/write", arm(STORAGE), result, caller, body=body, case=case)


def ws_write(case, props: dict, result="Start", caller=DEV):
    body = {"identity": {"type": "SystemAssigned"}, "location": "westeurope",
            "properties": {"friendlyName": "mlw-prod", "storageAccount": arm(STORAGE), "keyVault": arm(KV),
                           "containerRegistry": arm(ACR), "hbiWorkspace": False, **props}}
    return activity("Microsoft.MachineLearningServices/workspaces/write", arm(WS), result, caller, body=body,
                    case=case)


def compute_write(case, compute_type, inner: dict, outer: dict | None = None, result="Start", caller=DEV):
    props = {"computeType": compute_type, "description": "team compute",
             "properties": {"vmSize": "STANDARD_DS3_V2", **inner}}
    props.update(outer or {})
    return activity("Microsoft.MachineLearningServices/workspaces/computes/write",
                    arm(f"{WS}/computes/ci-{case}"), result, caller, body={"location": "westeurope", "properties": props},
                    case=case)


def nsg_rule(case, props: dict, result="Start", caller=DEV):
    base = {"protocol": "Tcp", "sourcePortRange": "*", "destinationAddressPrefix": "*", "access": "Allow",
            "priority": 310, "direction": "Inbound"}
    base.update(props)
    return activity("Microsoft.Network/networkSecurityGroups/securityRules/write",
                    arm(f"Microsoft.Network/networkSecurityGroups/nsg-ml-compute/securityRules/rule-{case}"),
                    result, caller, body={"properties": base}, case=case)


def simple(op, resource, result="Success", caller=DEV, case="", **kw):
    return activity(op, resource, result, caller, case=case, **kw)


ML = "Microsoft.MachineLearningServices/workspaces"


def cases() -> dict:
    C: dict[str, tuple[list, list]] = {}

    # ---------------------------------------------------------------- identity
    C["identity/rbac_privileged_role_assigned"] = (
        [("Owner granted to a service principal on the resource group (Start record with body)",
          role_write("owner-sp", "Owner", "ServicePrincipal", scope=arm("", rg=RG))),
         ("User Access Administrator granted to a user on the workspace",
          role_write("uaa-user", "User Access Administrator", "User")),
         ("Azure AI Administrator granted, the body on both Start and Accept (one alert, not two)",
          role_write("aiadmin", "Azure AI Administrator", "Group", result="Accept"))],
        [("Reader granted on the workspace", role_write("reader", "Reader")),
         ("AzureML Data Scientist granted to a user (not an administrative role)",
          role_write("ds-user", "AzureML Data Scientist")),
         ("Owner assignment completion record (Success, no request body)",
          role_write("owner-success", "Owner", "ServicePrincipal", result="Success")),
         ("Owner assignment attempt denied (Failure)", role_write("owner-fail", "Owner", result="Failure",
                                                                  caller=MALLORY))])

    C["identity/rbac_role_assigned_to_foreign_group"] = (
        [("Contributor granted to a ForeignGroup (Lighthouse) on the subscription",
          role_write("fg-contrib", "Contributor", "ForeignGroup", scope=f"/subscriptions/{SUB}")),
         ("AzureML Data Scientist granted to a ForeignGroup on the workspace",
          role_write("fg-ds", "AzureML Data Scientist", "ForeignGroup"))],
        [("AzureML Data Scientist granted to a home-tenant group", role_write("grp-ds", "AzureML Data Scientist",
                                                                              "Group")),
         ("Reader granted to a ForeignGroup", role_write("fg-reader", "Reader", "ForeignGroup")),
         ("ForeignGroup Contributor completion record (no body)",
          role_write("fg-done", "Contributor", "ForeignGroup", result="Success"))])

    root = "/providers/Microsoft.Authorization"
    C["identity/elevate_access_tenant_root"] = (
        [("Global administrator elevates to root User Access Administrator (Success)",
          simple("Microsoft.Authorization/elevateAccess/action", root, caller=MALLORY, case="elev1")),
         ("Elevation recorded with mixed-case operationName",
          simple("Microsoft.Authorization/elevateAccess/action", root, caller=OPS, op_case="as-is", case="elev2"))],
        [("Elevation Start record (completion not yet seen)",
          simple("Microsoft.Authorization/elevateAccess/action", root, result="Start", caller=MALLORY, case="elev3")),
         ("Elevation refused (Failure)",
          simple("Microsoft.Authorization/elevateAccess/action", root, result="Failure", caller=MALLORY,
                 case="elev4")),
         ("Role assignment read, a different Authorization operation",
          simple("Microsoft.Authorization/roleAssignments/read", arm("", rg=None), caller=OPS, case="elev5"))])

    C["identity/aml_workspace_secrets_listed_by_user"] = (
        [("User lists workspace keys from the portal",
          simple(f"{ML}/listKeys/action", arm(WS), caller=MALLORY, case="wk1")),
         ("User lists workspace storage keys with Azure CLI",
          simple(f"{ML}/listStorageAccountKeys/action", arm(WS), caller=DEV, case="wk2"))],
        [("Pipeline managed identity lists workspace keys",
          simple(f"{ML}/listKeys/action", arm(WS), caller=PIPELINE, role="AzureML Data Scientist", case="wk3")),
         ("AzureML Data Scientist attempt denied (listKeys is in its NotActions)",
          simple(f"{ML}/listKeys/action", arm(WS), result="Failure", caller=DEV, case="wk4")),
         ("User reads the workspace (not a secret operation)",
          simple(f"{ML}/read", arm(WS), caller=MALLORY, case="wk5"))])

    C["identity/aml_compute_secrets_listed_by_user"] = (
        [("User lists compute instance keys from the portal",
          simple(f"{ML}/computes/listKeys/action", arm(f"{WS}/computes/ci-dana"), caller=MALLORY, case="ck1")),
         ("User lists cluster keys from PowerShell",
          simple(f"{ML}/computes/listKeys/action", arm(f"{WS}/computes/cpu-cluster"), caller=OPS, case="ck2"))],
        [("Deployment identity lists compute keys",
          simple(f"{ML}/computes/listKeys/action", arm(f"{WS}/computes/aks-inference"), caller=DEPLOYER,
                 case="ck3")),
         ("User listKeys denied (Failure)",
          simple(f"{ML}/computes/listKeys/action", arm(f"{WS}/computes/ci-dana"), result="Failure",
                 caller=MALLORY, case="ck4")),
         ("User lists nodes of the compute (not keys)",
          simple(f"{ML}/computes/listNodes/action", arm(f"{WS}/computes/cpu-cluster"), caller=DEV, case="ck5"))])

    C["identity/aml_datastore_connection_secrets_pulled_by_user"] = (
        [("User pulls datastore credentials with Azure CLI",
          simple(f"{ML}/datastores/listsecrets/action", arm(f"{WS}/datastores/workspaceblobstore"), caller=DEV,
                 case="ds1")),
         ("User pulls connection secrets from the portal",
          simple(f"{ML}/connections/listsecrets/action", arm(f"{WS}/connections/openai-prod"), caller=MALLORY,
                 case="ds2")),
         ("User reads environment secrets from PowerShell",
          simple(f"{ML}/environments/readSecrets/action", arm(f"{WS}/environments/train-env"), caller=OPS,
                 case="ds3"))],
        [("Job managed identity reads datastore secrets",
          simple(f"{ML}/datastores/listsecrets/action", arm(f"{WS}/datastores/workspaceblobstore"),
                 caller=PIPELINE, role="AzureML Data Scientist", case="ds4")),
         ("User datastore listsecrets denied (Failure)",
          simple(f"{ML}/datastores/listsecrets/action", arm(f"{WS}/datastores/workspaceblobstore"),
                 result="Failure", caller=MALLORY, case="ds5")),
         ("User reads datastore metadata (not secrets)",
          simple(f"{ML}/datastores/read", arm(f"{WS}/datastores/workspaceblobstore"), caller=DEV, case="ds6"))])

    C["identity/aml_endpoint_keys_or_token_pulled_by_user"] = (
        [("User lists online endpoint keys from the portal",
          simple(f"{ML}/onlineEndpoints/listkeys/action", arm(f"{WS}/onlineEndpoints/fraud-score"),
                 caller=MALLORY, case="ek1")),
         ("User gets an online endpoint token with Azure CLI",
          simple(f"{ML}/onlineEndpoints/token/action", arm(f"{WS}/onlineEndpoints/fraud-score"), caller=DEV,
                 case="ek2")),
         ("User lists batch endpoint keys",
          simple(f"{ML}/batchEndpoints/listKeys/action", arm(f"{WS}/batchEndpoints/nightly-score"), caller=OPS,
                 case="ek3"))],
        [("Client application identity gets an endpoint token",
          simple(f"{ML}/onlineEndpoints/token/action", arm(f"{WS}/onlineEndpoints/fraud-score"),
                 caller=PIPELINE, case="ek4")),
         ("User listkeys denied (Failure)",
          simple(f"{ML}/onlineEndpoints/listkeys/action", arm(f"{WS}/onlineEndpoints/fraud-score"),
                 result="Failure", caller=MALLORY, case="ek5")),
         ("User reads the endpoint definition",
          simple(f"{ML}/onlineEndpoints/read", arm(f"{WS}/onlineEndpoints/fraud-score"), caller=DEV, case="ek6"))])

    C["identity/aml_endpoint_keys_regenerated"] = (
        [("User regenerates the primary key of an online endpoint",
          simple(f"{ML}/onlineEndpoints/regenerateKeys/action", arm(f"{WS}/onlineEndpoints/fraud-score"),
                 caller=MALLORY, case="rk1")),
         ("Service principal regenerates endpoint keys",
          simple(f"{ML}/onlineEndpoints/regenerateKeys/action", arm(f"{WS}/onlineEndpoints/churn"),
                 caller=DEPLOYER, case="rk2"))],
        [("Regenerate Start record (completion not yet seen)",
          simple(f"{ML}/onlineEndpoints/regenerateKeys/action", arm(f"{WS}/onlineEndpoints/fraud-score"),
                 result="Start", caller=MALLORY, body={"keyType": "Primary"}, case="rk3")),
         ("Regenerate denied (Failure)",
          simple(f"{ML}/onlineEndpoints/regenerateKeys/action", arm(f"{WS}/onlineEndpoints/fraud-score"),
                 result="Failure", caller=MALLORY, case="rk4")),
         ("Keys listed, not regenerated",
          simple(f"{ML}/onlineEndpoints/listkeys/action", arm(f"{WS}/onlineEndpoints/fraud-score"),
                 caller=PIPELINE, case="rk5"))])

    C["identity/aml_compute_local_auth_enabled"] = (
        [("Compute instance created with disableLocalAuth false",
          compute_write("la1", "ComputeInstance", {"sshSettings": {"sshPublicAccess": "Disabled"}},
                        {"disableLocalAuth": False})),
         ("Cluster update turns local auth on, mixed-case operationName",
          dict(compute_write("la2", "AmlCompute", {"scaleSettings": {"maxNodeCount": 4, "minNodeCount": 0}},
                             {"disableLocalAuth": False}),
               operationName="Microsoft.MachineLearningServices/workspaces/computes/write"))],
        [("Compute created with disableLocalAuth true",
          compute_write("la3", "ComputeInstance", {}, {"disableLocalAuth": True})),
         ("Compute created without the property (policy default applies)",
          compute_write("la4", "AmlCompute", {"scaleSettings": {"maxNodeCount": 2, "minNodeCount": 0}})),
         ("Failure record of a local-auth write",
          dict(compute_write("la5", "ComputeInstance", {}, {"disableLocalAuth": False}),
               resultType="Failure", resultSignature="Failed.Forbidden"))])

    C["identity/storage_account_keys_listed_by_user"] = (
        [("User lists storage keys in the portal",
          simple("Microsoft.Storage/storageAccounts/listKeys/action", arm(STORAGE), caller=MALLORY, case="sk1")),
         ("User lists storage keys with Azure CLI",
          simple("Microsoft.Storage/storageAccounts/listKeys/action", arm(STORAGE), caller=DEV, case="sk2"))],
        [("Workspace managed identity lists storage keys",
          simple("Microsoft.Storage/storageAccounts/listKeys/action", arm(STORAGE), caller=PIPELINE, case="sk3")),
         ("User listKeys denied (Failure)",
          simple("Microsoft.Storage/storageAccounts/listKeys/action", arm(STORAGE), result="Failure",
                 caller=MALLORY, case="sk4")),
         ("User lists an account SAS (different operation)",
          simple("Microsoft.Storage/storageAccounts/listAccountSas/action", arm(STORAGE), caller=DEV,
                 case="sk5"))])

    C["identity/storage_account_key_regenerated"] = (
        [("User regenerates key1",
          simple("Microsoft.Storage/storageAccounts/regenerateKey/action", arm(STORAGE), caller=MALLORY,
                 case="rg1")),
         ("Automation identity regenerates key2",
          simple("Microsoft.Storage/storageAccounts/regenerateKey/action", arm(STORAGE), caller=DEPLOYER,
                 case="rg2"))],
        [("Regenerate Start record with the key name",
          simple("Microsoft.Storage/storageAccounts/regenerateKey/action", arm(STORAGE), result="Start",
                 caller=MALLORY, body={"keyName": "key1"}, case="rg3")),
         ("Regenerate denied (Failure)",
          simple("Microsoft.Storage/storageAccounts/regenerateKey/action", arm(STORAGE), result="Failure",
                 caller=MALLORY, case="rg4"))])

    C["identity/storage_shared_key_access_enabled"] = (
        [("Update turns shared key access on", storage_write("sh1", {"allowSharedKeyAccess": True})),
         ("Account created with shared key access allowed",
          storage_write("sh2", {"allowSharedKeyAccess": True, "minimumTlsVersion": "TLS1_2"}, create=True))],
        [("Update turns shared key access off", storage_write("sh3", {"allowSharedKeyAccess": False})),
         ("Unrelated update (tags only)", activity("Microsoft.Storage/storageAccounts/write", arm(STORAGE), "Start",
                                                   DEV, body={"tags": {"costCenter": "ml-42"}}, case="sh4")),
         ("Failure record of a shared-key write",
          dict(storage_write("sh5", {"allowSharedKeyAccess": True}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    def kv_policy(case, secrets, keys=None, result="Start"):
        body = {"properties": {"accessPolicies": [{
            "tenantId": TENANT, "objectId": guid("kvp", case),
            "permissions": {"keys": keys or [], "secrets": secrets, "certificates": []}}]}}
        return activity("Microsoft.KeyVault/vaults/accessPolicies/write", arm(f"{KV}/accessPolicies/add"), result,
                        DEV, body=body, case=case)

    C["identity/keyvault_access_policy_grants_secret_read"] = (
        [("Policy grants secret get and list", kv_policy("kv1", ["Get", "List"])),
         ("Policy grants all secret permissions", kv_policy("kv2", ["all"], ["get"]))],
        [("CMK policy: keys get/wrapKey/unwrapKey only", kv_policy("kv3", [], ["get", "wrapKey", "unwrapKey"])),
         ("Policy grants secret set only (write-only publisher)", kv_policy("kv4", ["Set"])),
         ("Failure record of a secret-read grant", dict(kv_policy("kv5", ["Get"]), resultType="Failure",
                                                        resultSignature="Failed.Forbidden"))])

    studio = ("Azure Machine Learning Studio", "Azure Machine Learning Services")
    C["identity/signin_azure_management_without_mfa"] = (
        [("Portal sign-in with password only",
          signin(PORTAL, "Azure Portal", ARM_RESOURCE, "Windows Azure Service Management API",
                 auth_req="singleFactorAuthentication", ca="notApplied", case="mfa1")),
         ("Azure CLI sign-in with password only",
          signin(CLI, "Microsoft Azure CLI", ARM_RESOURCE, "Windows Azure Service Management API",
                 auth_req="singleFactorAuthentication", client="Mobile Apps and Desktop clients", ca="notApplied",
                 case="mfa2")),
         ("Azure ML studio sign-in with password only",
          signin(guid("app", "studio"), studio[0], guid("app", "amlsvc"), studio[1],
                 auth_req="singleFactorAuthentication", ca="notApplied", case="mfa3"))],
        [("Portal sign-in with MFA",
          signin(PORTAL, "Azure Portal", ARM_RESOURCE, "Windows Azure Service Management API", case="mfa4")),
         ("Portal sign-in interrupted for MFA (50074)",
          signin(PORTAL, "Azure Portal", ARM_RESOURCE, "Windows Azure Service Management API", result="50074",
                 auth_req="singleFactorAuthentication", ca="failure", case="mfa5")),
         ("Single-factor sign-in to Microsoft Teams",
          signin("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "00000003-0000-0000-c000-000000000000",
                 "Microsoft Graph", auth_req="singleFactorAuthentication", ca="notApplied", case="mfa6"))])

    C["identity/signin_legacy_authentication"] = (
        [("Successful IMAP sign-in",
          signin("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online",
                 "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", client="IMAP4",
                 auth_req="singleFactorAuthentication", ca="notApplied", compliant=None, case="leg1")),
         ("Successful 'Other clients' sign-in, non-interactive",
          signin("a0c73c16-a7e3-4564-9a95-2bdf47383716", "Microsoft Exchange Online Remote PowerShell",
                 "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", client="Other clients",
                 auth_req="singleFactorAuthentication", category="NonInteractiveUserSignInLogs", ca="notApplied",
                 compliant=None, case="leg2"))],
        [("Browser sign-in", signin(PORTAL, "Azure Portal", ARM_RESOURCE, "Windows Azure Service Management API",
                                    case="leg3")),
         ("Desktop client sign-in (modern authentication)",
          signin(CLI, "Microsoft Azure CLI", ARM_RESOURCE, "Windows Azure Service Management API",
                 client="Mobile Apps and Desktop clients", case="leg4")),
         ("IMAP sign-in blocked by Conditional Access (53003)",
          signin("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online",
                 "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", client="IMAP4",
                 result="53003", auth_req="singleFactorAuthentication", ca="failure", compliant=None,
                 case="leg5"))])

    C["identity/signin_noncompliant_device_azure_management"] = (
        [("Portal sign-in from a managed but non-compliant device",
          signin(PORTAL, "Azure Portal", ARM_RESOURCE, "Windows Azure Service Management API", compliant=False,
                 case="dev1")),
         ("Azure CLI sign-in from an unregistered device (isCompliant absent)",
          signin(CLI, "Microsoft Azure CLI", ARM_RESOURCE, "Windows Azure Service Management API",
                 client="Mobile Apps and Desktop clients", compliant=None, case="dev2"))],
        [("Portal sign-in from a compliant device",
          signin(PORTAL, "Azure Portal", ARM_RESOURCE, "Windows Azure Service Management API", case="dev3")),
         ("Non-compliant device signing in to Microsoft Teams (not a management app)",
          signin("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "00000003-0000-0000-c000-000000000000",
                 "Microsoft Graph", compliant=False, case="dev4")),
         ("Non-compliant device blocked by Conditional Access (53000-style failure)",
          signin(PORTAL, "Azure Portal", ARM_RESOURCE, "Windows Azure Service Management API", result="53003",
                 compliant=False, ca="failure", case="dev5"))])

    admin = ("ga-admin@contoso.example", "Gail Admin")
    C["identity/directory_role_assigned_outside_pim"] = (
        [("Global Administrator added directly by a user (Core Directory)",
          audit("Add member to role", "Core Directory", initiated_user=admin, case="pim1")),
         ("PIM flags a permanent assignment made outside PIM",
          audit("Add member to role outside of PIM (permanent)", "PIM", initiated_user=admin, case="pim2"))],
        [("PIM activation completed (just-in-time)",
          audit("Add member to role completed (PIM activation)", "PIM",
                initiated_user=("eve.contractor@contoso.example", "Eve Contractor"), case="pim3")),
         ("Core Directory role add performed by MS-PIM for an activation",
          audit("Add member to role", "Core Directory", initiated_app="MS-PIM", case="pim4")),
         ("Direct role add that failed",
          audit("Add member to role", "Core Directory", initiated_user=admin, result="failure", case="pim5")),
         ("Eligible assignment through PIM",
          audit("Add eligible member to role in PIM completed (permanent)", "PIM", initiated_user=admin,
                case="pim6"))])

    # ---------------------------------------------------------------- network
    C["network/aml_workspace_public_network_access_enabled"] = (
        [("Workspace update enables public network access",
          ws_write("pna1", {"publicNetworkAccess": "Enabled"})),
         ("Workspace behind a VNet allows public access",
          ws_write("pna2", {"publicNetworkAccess": "Disabled", "allowPublicAccessWhenBehindVnet": True}))],
        [("Workspace update keeps public network access disabled",
          ws_write("pna3", {"publicNetworkAccess": "Disabled", "allowPublicAccessWhenBehindVnet": False})),
         ("Workspace update of the description only", ws_write("pna4", {"description": "prod workspace"})),
         ("Failure record of a public-access write",
          dict(ws_write("pna5", {"publicNetworkAccess": "Enabled"}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    C["network/aml_workspace_managed_network_outbound_opened"] = (
        [("Managed network moved to AllowInternetOutbound",
          ws_write("mn1", {"managedNetwork": {"isolationMode": "AllowInternetOutbound"}})),
         ("Managed network isolation disabled",
          ws_write("mn2", {"managedNetwork": {"isolationMode": "Disabled"}}))],
        [("Managed network stays AllowOnlyApprovedOutbound with a new FQDN rule",
          ws_write("mn3", {"managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound", "outboundRules": {
              "pypi": {"type": "FQDN", "destination": "pypi.org", "category": "UserDefined"}}}})),
         ("Workspace write without managedNetwork", ws_write("mn4", {"description": "tags update"})),
         ("Failure record of an isolation change",
          dict(ws_write("mn5", {"managedNetwork": {"isolationMode": "Disabled"}}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    pec = "privateEndpointConnections/pe-mlw-prod.3f1e2d"
    C["network/aml_private_endpoint_connection_deleted"] = (
        [("Private endpoint connection removed from the workspace",
          simple(f"{ML}/privateEndpointConnections/delete", arm(f"{WS}/{pec}"), caller=MALLORY, case="pe1")),
         ("Private endpoint connection removed from the workspace Key Vault",
          simple("Microsoft.KeyVault/vaults/privateEndpointConnections/delete", arm(f"{KV}/{pec}"), caller=OPS,
                 case="pe2"))],
        [("Private endpoint connection approved on the workspace (write)",
          simple(f"{ML}/privateEndpointConnections/write", arm(f"{WS}/{pec}"), caller=DEV, case="pe3")),
         ("Delete Start record (completion not yet seen)",
          simple(f"{ML}/privateEndpointConnections/delete", arm(f"{WS}/{pec}"), result="Start", caller=MALLORY,
                 case="pe4")),
         ("Delete denied (Failure)",
          simple("Microsoft.Storage/storageAccounts/privateEndpointConnections/delete", arm(f"{STORAGE}/{pec}"),
                 result="Failure", caller=MALLORY, case="pe5"))])

    pe = "Microsoft.Network/privateEndpoints/pe-mlw-prod-amlworkspace"
    C["network/private_endpoint_deleted"] = (
        [("Private endpoint of the workspace deleted",
          simple("Microsoft.Network/privateEndpoints/delete", arm(pe), caller=MALLORY, case="npe1")),
         ("Private endpoint deleted, mixed-case operationName",
          simple("Microsoft.Network/privateEndpoints/delete", arm("Microsoft.Network/privateEndpoints/pe-kv"),
                 caller=OPS, op_case="as-is", case="npe2"))],
        [("Private endpoint created",
          simple("Microsoft.Network/privateEndpoints/write", arm(pe), result="Start", caller=DEV,
                 body={"location": "westeurope", "properties": {"subnet": {"id": arm(
                     "Microsoft.Network/virtualNetworks/vnet-ml/subnets/snet-pe")},
                     "privateLinkServiceConnections": [{"name": "mlw", "properties": {
                         "privateLinkServiceId": arm(WS), "groupIds": ["amlworkspace"]}}]}}, case="npe3")),
         ("Private endpoint delete denied (Failure)",
          simple("Microsoft.Network/privateEndpoints/delete", arm(pe), result="Failure", caller=MALLORY,
                 case="npe4"))])

    C["network/aml_compute_public_access_enabled"] = (
        [("Compute instance with public SSH",
          compute_write("cp1", "ComputeInstance", {"sshSettings": {"sshPublicAccess": "Enabled",
                                                                   "adminPublicKey": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDfake dana@lt"}})),
         ("Compute cluster with the remote login port open",
          compute_write("cp2", "AmlCompute", {"remoteLoginPortPublicAccess": "Enabled",
                                              "scaleSettings": {"maxNodeCount": 4, "minNodeCount": 0}})),
         ("Compute cluster with node public IPs",
          compute_write("cp3", "AmlCompute", {"enableNodePublicIp": True, "remoteLoginPortPublicAccess": "Disabled"}))],
        [("Compute instance with SSH disabled in a subnet",
          compute_write("cp4", "ComputeInstance", {"sshSettings": {"sshPublicAccess": "Disabled"},
                                                   "subnet": {"id": arm("Microsoft.Network/virtualNetworks/vnet-ml/subnets/snet-compute")},
                                                   "enableNodePublicIp": False})),
         ("Cluster with remote login NotSpecified and no public IP",
          compute_write("cp5", "AmlCompute", {"remoteLoginPortPublicAccess": "NotSpecified",
                                              "enableNodePublicIp": False})),
         ("Failure record of a public-SSH compute write",
          dict(compute_write("cp6", "ComputeInstance", {"sshSettings": {"sshPublicAccess": "Enabled"}}),
               resultType="Failure", resultSignature="Failed.Forbidden"))])

    C["network/nsg_rule_allows_admin_ports_from_internet"] = (
        [("SSH from any source (*)", nsg_rule("n1", {"destinationPortRange": "22", "sourceAddressPrefix": "*"})),
         ("RDP from Internet", nsg_rule("n2", {"destinationPortRange": "3389", "sourceAddressPrefix": "Internet"})),
         ("All ports from 0.0.0.0/0", nsg_rule("n3", {"destinationPortRange": "*",
                                                       "sourceAddressPrefix": "0.0.0.0/0"})),
         ("Range 20-30 (contains 22) from any, plural prefixes",
          nsg_rule("n4", {"destinationPortRanges": ["443", "20-30"], "sourceAddressPrefixes": ["0.0.0.0/0"]})),
         ("Range 3000-4000 (contains 3389) from ::/0",
          nsg_rule("n5", {"destinationPortRange": "3000-4000", "sourceAddressPrefix": "::/0"}))],
        [("HTTPS (443) from Internet", nsg_rule("n6", {"destinationPortRange": "443",
                                                        "sourceAddressPrefix": "Internet"})),
         ("SSH from the corporate range only", nsg_rule("n7", {"destinationPortRange": "22",
                                                              "sourceAddressPrefix": "198.51.100.0/24"})),
         ("SSH from any source, but Deny", nsg_rule("n8", {"destinationPortRange": "22", "sourceAddressPrefix": "*",
                                                          "access": "Deny"})),
         ("SSH from any source, Outbound", nsg_rule("n9", {"destinationPortRange": "22", "sourceAddressPrefix": "*",
                                                          "direction": "Outbound"})),
         ("Range 1000-2000 from Internet (no admin port)",
          nsg_rule("n10", {"destinationPortRange": "1000-2000", "sourceAddressPrefix": "Internet"})),
         ("Failure record of an SSH-from-any rule",
          dict(nsg_rule("n11", {"destinationPortRange": "22", "sourceAddressPrefix": "*"}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    C["network/storage_network_opened"] = (
        [("Public network access enabled without a firewall",
          storage_write("sn1", {"publicNetworkAccess": "Enabled"})),
         ("Firewall default action set to Allow",
          storage_write("sn2", {"networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow",
                                                "ipRules": [], "virtualNetworkRules": []}}))],
        [("Public access enabled for selected networks (defaultAction Deny)",
          storage_write("sn3", {"publicNetworkAccess": "Enabled", "networkAcls": {
              "bypass": "AzureServices", "defaultAction": "Deny",
              "ipRules": [{"value": "198.51.100.0/24", "action": "Allow"}], "virtualNetworkRules": []}})),
         ("Public network access disabled", storage_write("sn4", {"publicNetworkAccess": "Disabled"})),
         ("Failure record of an open-network write",
          dict(storage_write("sn5", {"publicNetworkAccess": "Enabled"}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    def kv_write(case, props, result="Start"):
        return activity("Microsoft.KeyVault/vaults/write", arm(KV), result, DEV, body={
            "location": "westeurope", "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "premium"},
                                                     "enableRbacAuthorization": True, **props}}, case=case)

    C["network/keyvault_network_opened"] = (
        [("Vault firewall default action Allow",
          kv_write("kn1", {"networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow"}})),
         ("Vault public network access enabled with no firewall",
          kv_write("kn2", {"publicNetworkAccess": "Enabled"}))],
        [("Vault public access for selected networks (defaultAction Deny)",
          kv_write("kn3", {"publicNetworkAccess": "Enabled", "networkAcls": {
              "bypass": "AzureServices", "defaultAction": "Deny", "ipRules": [{"value": "198.51.100.0/24"}]}})),
         ("Vault public network access disabled", kv_write("kn4", {"publicNetworkAccess": "Disabled"})),
         ("Failure record of an open-vault write",
          dict(kv_write("kn5", {"publicNetworkAccess": "Enabled"}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    # ---------------------------------------------------------------- data protection
    C["data-protection/storage_cmk_removed"] = (
        [("Update switches encryption to Microsoft-managed keys",
          storage_write("cmk1", {"encryption": {"keySource": "Microsoft.Storage", "services": {
              "blob": {"enabled": True, "keyType": "Account"}, "file": {"enabled": True, "keyType": "Account"}}}})),
         ("Update drops the Key Vault key (keySource Microsoft.Storage, lower-case op)",
          dict(storage_write("cmk2", {"encryption": {"keySource": "Microsoft.Storage"}}),
               operationName="microsoft.storage/storageaccounts/write"))],
        [("Key rotation: keySource stays Microsoft.Keyvault",
          storage_write("cmk3", {"encryption": {"keySource": "Microsoft.Keyvault", "keyvaultproperties": {
              "keyname": "cmk-stml", "keyvaulturi": "https://kv-mlw-prod.vault.azure.net/", "keyversion": ""},
              "identity": {"userAssignedIdentity": arm(
                  "Microsoft.ManagedIdentity/userAssignedIdentities/id-storage-cmk")}}})),
         ("New account created with Microsoft-managed keys (body has location)",
          storage_write("cmk4", {"encryption": {"keySource": "Microsoft.Storage"}}, create=True)),
         ("Failure record of a CMK removal",
          dict(storage_write("cmk5", {"encryption": {"keySource": "Microsoft.Storage"}}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    C["data-protection/storage_blob_public_access_enabled"] = (
        [("Update allows anonymous blob access", storage_write("bp1", {"allowBlobPublicAccess": True})),
         ("Account created with anonymous blob access allowed",
          storage_write("bp2", {"allowBlobPublicAccess": True, "minimumTlsVersion": "TLS1_2"}, create=True))],
        [("Update disallows anonymous blob access", storage_write("bp3", {"allowBlobPublicAccess": False})),
         ("Update of TLS only", storage_write("bp4", {"minimumTlsVersion": "TLS1_2"})),
         ("Failure record of a public-access write",
          dict(storage_write("bp5", {"allowBlobPublicAccess": True}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    C["data-protection/storage_tls_downgraded_or_http_allowed"] = (
        [("Minimum TLS lowered to 1.0", storage_write("tls1", {"minimumTlsVersion": "TLS1_0"})),
         ("HTTPS-only traffic disabled", storage_write("tls2", {"supportsHttpsTrafficOnly": False})),
         ("Minimum TLS 1.1 on account creation",
          storage_write("tls3", {"minimumTlsVersion": "TLS1_1"}, create=True))],
        [("Minimum TLS 1.2 with HTTPS only", storage_write("tls4", {"minimumTlsVersion": "TLS1_2",
                                                                    "supportsHttpsTrafficOnly": True})),
         ("Unrelated update (access tier)", storage_write("tls5", {"accessTier": "Cool"})),
         ("Failure record of a TLS downgrade",
          dict(storage_write("tls6", {"minimumTlsVersion": "TLS1_0"}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    C["data-protection/keyvault_key_deleted_or_purged"] = (
        [("CMK key deleted", kv_audit("KeyDelete")),
         ("Deleted CMK key purged", kv_audit("KeyPurge", obj="deletedkeys/cmk-mlw-prod", caller=MALLORY,
                                             ip="203.0.113.45"))],
        [("Key read (unwrap path of CMK)", kv_audit("KeyGet", caller=PIPELINE, ip="203.0.113.20")),
         ("Key delete refused (Forbidden)", kv_audit("KeyDelete", result="Forbidden", signature="Forbidden",
                                                      http=403, caller=MALLORY, ip="203.0.113.45")),
         ("Secret deleted (not a key)", kv_audit("SecretDelete", obj="secrets/old-api-key"))])

    C["data-protection/keyvault_deleted"] = (
        [("Workspace Key Vault deleted", simple("Microsoft.KeyVault/vaults/delete", arm(KV), caller=MALLORY,
                                                case="kvd1")),
         ("Key Vault deleted by a deployment identity",
          simple("Microsoft.KeyVault/vaults/delete", arm("Microsoft.KeyVault/vaults/kv-mlw-dev"), caller=DEPLOYER,
                 case="kvd2"))],
        [("Vault delete denied (Failure)", simple("Microsoft.KeyVault/vaults/delete", arm(KV), result="Failure",
                                                  caller=MALLORY, case="kvd3")),
         ("Vault delete Start record", simple("Microsoft.KeyVault/vaults/delete", arm(KV), result="Start",
                                              caller=MALLORY, case="kvd4")),
         ("Deleted vault read (list of soft-deleted vaults)",
          simple("Microsoft.KeyVault/deletedVaults/read", arm("", rg=None), caller=OPS, case="kvd5"))])

    C["data-protection/storage_anonymous_blob_read"] = (
        [("Anonymous GetBlob served", storage_read("GetBlob")),
         ("Anonymous container listing served", storage_read("ListBlobs", blob="training-data"))],
        [("Anonymous GetBlob refused (public access off)",
          storage_read("GetBlob", status=409, status_text="PublicAccessNotPermitted")),
         ("GetBlob by the pipeline's managed identity (OAuth)", storage_read("GetBlob", auth="OAuth",
                                                                              ip="203.0.113.20")),
         ("Anonymous PutBlob attempt refused", storage_read("PutBlob", status=404,
                                                             status_text="ResourceNotFound"))])

    # ---------------------------------------------------------------- threat protection
    def pricing(case, plan, tier, result="Start", sub_plan=None):
        props = {"pricingTier": tier}
        if sub_plan:
            props["subPlan"] = sub_plan
        return activity("Microsoft.Security/pricings/write", arm(f"Microsoft.Security/pricings/{plan}", rg=None),
                        result, OPS, body={"properties": props}, case=case)

    C["threat-protection/defender_plan_downgraded"] = (
        [("Defender for AI plan set to Free", pricing("dp1", "AI", "Free")),
         ("Defender for Storage plan set to Free", pricing("dp2", "StorageAccounts", "free")),
         ("Defender for Key Vault plan removed (delete, Success)",
          simple("Microsoft.Security/pricings/delete", arm("Microsoft.Security/pricings/KeyVaults", rg=None),
                 caller=MALLORY, case="dp3"))],
        [("Defender for Storage set to Standard", pricing("dp4", "StorageAccounts", "Standard",
                                                          sub_plan="DefenderForStorageV2")),
         ("Completion record of a pricing write (no body)",
          simple("Microsoft.Security/pricings/write", arm("Microsoft.Security/pricings/AI", rg=None), caller=OPS,
                 case="dp5")),
         ("Failure record of a downgrade", dict(pricing("dp6", "Arm", "Free"), resultType="Failure",
                                                resultSignature="Failed.Forbidden"))])

    def suppression(case, state, alert_type="Storage.Blob_AnonymousAccessAnomaly", result="Start"):
        return activity("Microsoft.Security/alertsSuppressionRules/write",
                        arm(f"Microsoft.Security/alertsSuppressionRules/supp-{case}", rg=None), result, MALLORY,
                        body={"properties": {"alertType": alert_type, "reason": "FalsePositive", "state": state,
                                             "comment": "noise", "expirationDateUtc": "2027-11-20T00:00:00Z",
                                             "suppressionAlertsScope": {"allOf": [
                                                 {"field": "entities.azureresource.resourceid",
                                                  "in": [arm(STORAGE)]}]}}}, case=case)

    C["threat-protection/defender_alert_suppression_rule_created"] = (
        [("Suppression of anonymous-access alerts on the workspace storage", suppression("sup1", "Enabled")),
         ("Suppression of all alert types", suppression("sup2", "Enabled", alert_type="*"))],
        [("Suppression rule written disabled", suppression("sup3", "Disabled")),
         ("Suppression rule deleted", simple("Microsoft.Security/alertsSuppressionRules/delete",
                                             arm("Microsoft.Security/alertsSuppressionRules/supp-old", rg=None),
                                             caller=OPS, case="sup4")),
         ("Failure record of a suppression write", dict(suppression("sup5", "Enabled"), resultType="Failure",
                                                        resultSignature="Failed.Forbidden"))])

    # ---------------------------------------------------------------- logging
    diag_ws = arm(f"{WS}/providers/Microsoft.Insights/diagnosticSettings/to-vigil")
    C["logging/diagnostic_setting_deleted"] = (
        [("Workspace diagnostic setting deleted",
          simple("Microsoft.Insights/diagnosticSettings/delete", diag_ws, caller=MALLORY, case="dd1")),
         ("Key Vault diagnostic setting deleted",
          simple("Microsoft.Insights/diagnosticSettings/delete",
                 arm(f"{KV}/providers/Microsoft.Insights/diagnosticSettings/kv-audit"), caller=OPS, case="dd2"))],
        [("Diagnostic setting delete denied (Failure)",
          simple("Microsoft.Insights/diagnosticSettings/delete", diag_ws, result="Failure", caller=MALLORY,
                 case="dd3")),
         ("Diagnostic setting delete Start record",
          simple("Microsoft.Insights/diagnosticSettings/delete", diag_ws, result="Start", caller=MALLORY,
                 case="dd4")),
         ("Diagnostic setting read", simple("Microsoft.Insights/diagnosticSettings/read", diag_ws, caller=DEV,
                                            case="dd5"))])

    def diag_write(case, logs, op="Microsoft.Insights/diagnosticSettings/write"):
        return activity(op, diag_ws, "Start", MALLORY, body={"properties": {
            "eventHubAuthorizationRuleId": arm("Microsoft.EventHub/namespaces/evhns-sec/authorizationRules/RootManageSharedAccessKey"),
            "eventHubName": "aml-logs", "logs": logs,
            "metrics": [{"category": "AllMetrics", "enabled": False}]}}, case=case)

    C["logging/diagnostic_setting_logs_disabled"] = (
        [("DataStoreReadEvent switched off",
          diag_write("dl1", [{"category": "DataStoreReadEvent", "enabled": False},
                             {"category": "ModelsReadEvent", "enabled": True}])),
         ("allLogs group switched off through the workspace-scoped operation",
          diag_write("dl2", [{"categoryGroup": "allLogs", "enabled": False}],
                     op="Microsoft.MachineLearningServices/workspaces/providers/Microsoft.Insights/diagnosticSettings/write"))],
        [("All categories enabled", diag_write("dl3", [{"categoryGroup": "allLogs", "enabled": True}])),
         ("Only metrics disabled, every log category on",
          diag_write("dl4", [{"category": "DataStoreReadEvent", "enabled": True},
                             {"category": "RunReadEvent", "enabled": True}])),
         ("Failure record of a logs-disabled write",
          dict(diag_write("dl5", [{"category": "DataStoreReadEvent", "enabled": False}]), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    C["logging/telemetry_destination_deleted"] = (
        [("Event hub carrying AML logs deleted",
          simple("Microsoft.EventHub/namespaces/eventhubs/delete",
                 arm("Microsoft.EventHub/namespaces/evhns-sec/eventhubs/aml-logs"), caller=MALLORY, case="td1")),
         ("Vigil's consumer group deleted",
          simple("Microsoft.EventHub/namespaces/eventhubs/consumergroups/delete",
                 arm("Microsoft.EventHub/namespaces/evhns-sec/eventhubs/aml-logs/consumergroups/vigil"),
                 caller=MALLORY, case="td2")),
         ("Data collection rule deleted",
          simple("Microsoft.Insights/DataCollectionRules/Delete", arm("Microsoft.Insights/dataCollectionRules/dcr-vigil"),
                 caller=OPS, op_case="as-is", case="td3")),
         ("Log Analytics workspace deleted",
          simple("Microsoft.OperationalInsights/workspaces/delete",
                 arm("Microsoft.OperationalInsights/workspaces/law-sentinel"), caller=MALLORY, case="td4"))],
        [("Event hub delete denied (Failure)",
          simple("Microsoft.EventHub/namespaces/eventhubs/delete",
                 arm("Microsoft.EventHub/namespaces/evhns-sec/eventhubs/aml-logs"), result="Failure",
                 caller=MALLORY, case="td5")),
         ("Event hub created", simple("Microsoft.EventHub/namespaces/eventhubs/write",
                                      arm("Microsoft.EventHub/namespaces/evhns-sec/eventhubs/aml-logs-2"),
                                      caller=OPS, case="td6")),
         ("Log Analytics workspace delete Start record",
          simple("Microsoft.OperationalInsights/workspaces/delete",
                 arm("Microsoft.OperationalInsights/workspaces/law-sentinel"), result="Start", caller=MALLORY,
                 case="td7"))])

    def auth_rule(case, rights, hub=False):
        if hub:
            op = "Microsoft.EventHub/namespaces/eventhubs/authorizationRules/write"
            res = arm(f"Microsoft.EventHub/namespaces/evhns-sec/eventhubs/aml-logs/authorizationRules/{case}")
        else:
            op = "Microsoft.EventHub/namespaces/authorizationRules/write"
            res = arm(f"Microsoft.EventHub/namespaces/evhns-sec/authorizationRules/{case}")
        return activity(op, res, "Start", MALLORY, body={"properties": {"rights": rights}}, case=case)

    C["logging/eventhub_authorization_rule_with_listen_or_manage"] = (
        [("Namespace rule with Listen", auth_rule("ar-listen", ["Listen"])),
         ("Hub rule with Manage, Listen and Send", auth_rule("ar-manage", ["Manage", "Listen", "Send"], hub=True))],
        [("Hub rule with Send only (producer)", auth_rule("ar-send", ["Send"], hub=True)),
         ("Namespace rule keys listed (not a write)",
          simple("Microsoft.EventHub/namespaces/authorizationRules/listKeys/action",
                 arm("Microsoft.EventHub/namespaces/evhns-sec/authorizationRules/RootManageSharedAccessKey"),
                 caller=OPS, case="ar-list")),
         ("Failure record of a Listen rule write",
          dict(auth_rule("ar-fail", ["Listen"]), resultType="Failure", resultSignature="Failed.Forbidden"))])

    # ---------------------------------------------------------------- governance
    pa = arm("Microsoft.Authorization/policyAssignments/aml-disable-public-access", rg=None)
    C["governance/policy_assignment_deleted"] = (
        [("AML public-network-access policy assignment deleted",
          simple("Microsoft.Authorization/policyAssignments/delete", pa, caller=MALLORY, case="pd1")),
         ("Resource-group CMK policy assignment deleted",
          simple("Microsoft.Authorization/policyAssignments/delete",
                 arm("Microsoft.Authorization/policyAssignments/storage-cmk"), caller=OPS, case="pd2"))],
        [("Policy assignment delete denied (Failure)",
          simple("Microsoft.Authorization/policyAssignments/delete", pa, result="Failure", caller=MALLORY,
                 case="pd3")),
         ("Policy assignment delete Start record",
          simple("Microsoft.Authorization/policyAssignments/delete", pa, result="Start", caller=MALLORY,
                 case="pd4")),
         ("Policy definition deleted (not an assignment)",
          simple("Microsoft.Authorization/policyDefinitions/delete",
                 arm("Microsoft.Authorization/policyDefinitions/custom-tags", rg=None), caller=OPS, case="pd5"))])

    def exemption(case, category, result="Start"):
        return activity("Microsoft.Authorization/policyExemptions/write",
                        arm(f"{WS}/providers/Microsoft.Authorization/policyExemptions/{case}"), result, MALLORY,
                        body={"properties": {"policyAssignmentId": pa, "exemptionCategory": category,
                                             "displayName": "temp exemption", "description": "vendor test",
                                             "expiresOn": "2026-12-31T00:00:00Z"}}, case=case)

    C["governance/policy_exemption_created"] = (
        [("Waiver exemption on the workspace", exemption("ex1", "Waiver")),
         ("Mitigated exemption on the workspace", exemption("ex2", "Mitigated"))],
        [("Completion record without body",
          simple("Microsoft.Authorization/policyExemptions/write",
                 arm(f"{WS}/providers/Microsoft.Authorization/policyExemptions/ex3"), caller=MALLORY, case="ex3")),
         ("Exemption deleted", simple("Microsoft.Authorization/policyExemptions/delete",
                                      arm(f"{WS}/providers/Microsoft.Authorization/policyExemptions/ex4"),
                                      caller=OPS, case="ex4")),
         ("Failure record of a waiver", dict(exemption("ex5", "Waiver"), resultType="Failure",
                                             resultSignature="Failed.Forbidden"))])

    def assignment(case, mode):
        return activity("Microsoft.Authorization/policyAssignments/write", pa, "Start", MALLORY, body={
            "properties": {"displayName": "AML workspaces should disable public network access",
                           "policyDefinitionId": f"/providers/Microsoft.Authorization/policyDefinitions/{guid('pd', 'aml-pna')}",
                           "enforcementMode": mode, "parameters": {"effect": {"value": "Deny"}}}}, case=case)

    C["governance/policy_assignment_enforcement_disabled"] = (
        [("Assignment switched to DoNotEnforce", assignment("em1", "DoNotEnforce")),
         ("Assignment created in DoNotEnforce", assignment("em2", "doNotEnforce"))],
        [("Assignment in Default (enforced) mode", assignment("em3", "Default")),
         ("Failure record of a DoNotEnforce write", dict(assignment("em4", "DoNotEnforce"), resultType="Failure",
                                                         resultSignature="Failed.Forbidden"))])

    C["governance/resource_lock_deleted"] = (
        [("CanNotDelete lock removed from the workspace",
          simple("Microsoft.Authorization/locks/delete",
                 arm(f"{WS}/providers/Microsoft.Authorization/locks/no-delete"), caller=MALLORY, case="lk1")),
         ("Lock removed from the ML resource group",
          simple("Microsoft.Authorization/locks/delete", arm("Microsoft.Authorization/locks/rg-protect"),
                 caller=MALLORY, case="lk2")),
         ("Lock removed from the Recovery Services vault",
          simple("Microsoft.Authorization/locks/delete",
                 arm("Microsoft.RecoveryServices/vaults/rsv-ml/providers/Microsoft.Authorization/locks/keep"),
                 caller=OPS, case="lk3"))],
        [("Lock removed from a VM (outside the AML estate)",
          simple("Microsoft.Authorization/locks/delete",
                 arm("Microsoft.Compute/virtualMachines/vm-jump/providers/Microsoft.Authorization/locks/keep"),
                 caller=OPS, case="lk4")),
         ("Workspace lock delete denied (Failure)",
          simple("Microsoft.Authorization/locks/delete",
                 arm(f"{WS}/providers/Microsoft.Authorization/locks/no-delete"), result="Failure", caller=MALLORY,
                 case="lk5")),
         ("Lock created on the workspace",
          simple("Microsoft.Authorization/locks/write",
                 arm(f"{WS}/providers/Microsoft.Authorization/locks/no-delete"), caller=OPS, case="lk6"))])

    # ---------------------------------------------------------------- backup
    rsv = arm("Microsoft.RecoveryServices/vaults/rsv-ml")
    C["backup/recovery_vault_deleted"] = (
        [("Recovery Services vault deleted", simple("Microsoft.RecoveryServices/Vaults/delete", rsv, caller=MALLORY,
                                                    case="rv1")),
         ("Vault deleted, lower-case operationName",
          simple("microsoft.recoveryservices/vaults/delete", arm("Microsoft.RecoveryServices/vaults/rsv-ml-dr"),
                 caller=OPS, op_case="as-is", case="rv2"))],
        [("Vault delete failed (vault still has items)",
          simple("Microsoft.RecoveryServices/Vaults/delete", rsv, result="Failure", caller=MALLORY, case="rv3")),
         ("Vault written", simple("Microsoft.RecoveryServices/Vaults/write", rsv, caller=OPS, case="rv4"))])

    def backupconfig(case, props, result="Start"):
        return activity("Microsoft.RecoveryServices/Vaults/backupconfig/write", f"{rsv}/backupconfig/vaultconfig",
                        result, MALLORY, body={"properties": props}, case=case)

    C["backup/backup_soft_delete_disabled"] = (
        [("Soft delete disabled in the vault backup config",
          backupconfig("sd1", {"softDeleteFeatureState": "Disabled", "enhancedSecurityState": "Enabled"})),
         ("Enhanced security disabled", backupconfig("sd2", {"enhancedSecurityState": "Disabled"})),
         ("Vault write turns soft delete off",
          activity("Microsoft.RecoveryServices/vaults/write", rsv, "Start", MALLORY, body={
              "location": "westeurope", "properties": {"securitySettings": {
                  "softDeleteSettings": {"softDeleteState": "Disabled", "softDeleteRetentionPeriodInDays": 14},
                  "immutabilitySettings": {"state": "Disabled"}}}}, case="sd3"))],
        [("Soft delete enabled (AlwaysON)", backupconfig("sd4", {"softDeleteFeatureState": "AlwaysON",
                                                                  "enhancedSecurityState": "Enabled"})),
         ("Vault write keeps soft delete on",
          activity("Microsoft.RecoveryServices/vaults/write", rsv, "Start", OPS, body={
              "location": "westeurope", "properties": {"securitySettings": {
                  "softDeleteSettings": {"softDeleteState": "Enabled", "softDeleteRetentionPeriodInDays": 14}}}},
                   case="sd5")),
         ("Failure record of a soft-delete disable",
          dict(backupconfig("sd6", {"softDeleteFeatureState": "Disabled"}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    item = (f"{rsv}/backupFabrics/Azure/protectionContainers/StorageContainer;storage;{RG};stmlwprod001"
            "/protectedItems/AzureFileShare;mlw-code")
    C["backup/backup_protected_item_deleted"] = (
        [("Protected file share deleted with its backups",
          simple("Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/delete", item,
                 caller=MALLORY, case="pi1")),
         ("Protected item deleted by automation",
          simple("Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/delete",
                 item.replace("mlw-code", "mlw-data"), caller=DEPLOYER, case="pi2"))],
        [("Protected item delete denied (Failure)",
          simple("Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/delete", item,
                 result="Failure", caller=MALLORY, case="pi3")),
         ("Protection configured (write)",
          simple("Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/write", item,
                 caller=OPS, case="pi4"))])

    C["backup/aml_workspace_deleted"] = (
        [("Production workspace deleted", simple(f"{ML}/delete", arm(WS), caller=MALLORY, case="wd1")),
         ("Workspace deleted by a pipeline identity",
          simple(f"{ML}/delete", arm(f"{ML}/mlw-sandbox"), caller=DEPLOYER, case="wd2"))],
        [("Workspace delete denied (Failure)", simple(f"{ML}/delete", arm(WS), result="Failure", caller=MALLORY,
                                                      case="wd3")),
         ("Compute deleted (single compute delete is routine)",
          simple(f"{ML}/computes/delete", arm(f"{WS}/computes/ci-old"), caller=DEV, case="wd4")),
         ("Workspace delete Start record", simple(f"{ML}/delete", arm(WS), result="Start", caller=MALLORY,
                                                  case="wd5"))])

    # ---------------------------------------------------------------- containers
    def acr_write(case, props, result="Start"):
        return activity("Microsoft.ContainerRegistry/registries/write", arm(ACR), result, DEV,
                        body={"sku": {"name": "Premium"}, "properties": props}, case=case)

    C["containers/acr_admin_user_or_anonymous_pull_enabled"] = (
        [("Admin user enabled", acr_write("acr1", {"adminUserEnabled": True})),
         ("Anonymous pull enabled", acr_write("acr2", {"anonymousPullEnabled": True, "adminUserEnabled": False}))],
        [("Admin user disabled", acr_write("acr3", {"adminUserEnabled": False})),
         ("Retention policy change only",
          acr_write("acr4", {"policies": {"retentionPolicy": {"days": 30, "status": "enabled"}}})),
         ("Failure record of an admin-user write", dict(acr_write("acr5", {"adminUserEnabled": True}),
                                                       resultType="Failure", resultSignature="Failed.Forbidden"))])

    C["containers/acr_public_network_access_enabled"] = (
        [("Public network access enabled without rules",
          acr_write("acn1", {"publicNetworkAccess": "Enabled"})),
         ("Network rule set default action Allow",
          acr_write("acn2", {"publicNetworkAccess": "Enabled", "networkRuleSet": {"defaultAction": "Allow"}}))],
        [("Public access for selected networks (defaultAction Deny)",
          acr_write("acn3", {"publicNetworkAccess": "Enabled", "networkRuleSet": {
              "defaultAction": "Deny", "ipRules": [{"action": "Allow", "value": "198.51.100.0/24"}]}})),
         ("Public network access disabled", acr_write("acn4", {"publicNetworkAccess": "Disabled"})),
         ("Failure record of an open-registry write",
          dict(acr_write("acn5", {"publicNetworkAccess": "Enabled"}), resultType="Failure",
               resultSignature="Failed.Forbidden"))])

    C["containers/acr_credentials_listed_or_regenerated_by_user"] = (
        [("User lists registry credentials in the portal",
          simple("Microsoft.ContainerRegistry/registries/listCredentials/action", arm(ACR), caller=MALLORY,
                 case="ac1")),
         ("User regenerates the registry password with Azure CLI",
          simple("Microsoft.ContainerRegistry/registries/regenerateCredential/action", arm(ACR), caller=DEV,
                 case="ac2"))],
        [("Workspace identity lists registry credentials",
          simple("Microsoft.ContainerRegistry/registries/listCredentials/action", arm(ACR), caller=PIPELINE,
                 case="ac3")),
         ("User listCredentials denied (admin user disabled)",
          simple("Microsoft.ContainerRegistry/registries/listCredentials/action", arm(ACR), result="Failure",
                 caller=MALLORY, case="ac4")),
         ("User reads the registry", simple("Microsoft.ContainerRegistry/registries/read", arm(ACR), caller=DEV,
                                            case="ac5"))])
    return C


# Rules that read the assembled operation (logsource category `operation`): their cases are lifecycles.
ASSEMBLED = [
    "backup/backup_soft_delete_disabled",
    "containers/acr_admin_user_or_anonymous_pull_enabled",
    "containers/acr_public_network_access_enabled",
    "data-protection/storage_blob_public_access_enabled",
    "data-protection/storage_cmk_removed",
    "data-protection/storage_tls_downgraded_or_http_allowed",
    "governance/policy_assignment_enforcement_disabled",
    "governance/policy_exemption_created",
    "identity/aml_compute_local_auth_enabled",
    "identity/keyvault_access_policy_grants_secret_read",
    "identity/rbac_privileged_role_assigned",
    "identity/rbac_role_assigned_to_foreign_group",
    "identity/storage_shared_key_access_enabled",
    "logging/diagnostic_setting_logs_disabled",
    "logging/eventhub_authorization_rule_with_listen_or_manage",
    "network/aml_compute_public_access_enabled",
    "network/aml_workspace_managed_network_outbound_opened",
    "network/aml_workspace_public_network_access_enabled",
    "network/keyvault_network_opened",
    "network/nsg_rule_allows_admin_ports_from_internet",
    "network/storage_network_opened",
    "threat-protection/defender_alert_suppression_rule_created",
    "threat-protection/defender_plan_downgraded",
]


def case_entry(name: str, event) -> dict:
    return {"name": name, "events": event} if isinstance(event, list) else {"name": name, "event": event}


HEADER = ("# Test events for {rule}.\n"
          "# Generated by scripts/gen_pack_tests.py: edit the case there and regenerate.\n"
          "# Raw-export records with fake IDs and documentation IP ranges.\n")


def main() -> int:
    all_cases = cases()
    for rel in ASSEMBLED:
        all_cases[rel] = operation_cases(*all_cases[rel])
    rules = {str(p.relative_to(DET))[:-4] for p in DET.rglob("*.yml")
             if not p.name.endswith(".tests.yml") and p.name != "fieldmap.yml"}
    missing = sorted(rules - set(all_cases))
    unknown = sorted(set(all_cases) - rules)
    for rel, (match, no_match) in sorted(all_cases.items()):
        if rel not in rules:
            continue
        doc = {"match": [case_entry(n, e) for n, e in match],
               "no_match": [case_entry(n, e) for n, e in no_match]}
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=4096, default_flow_style=False)
        (DET / f"{rel}.tests.yml").write_text(HEADER.format(rule=f"{rel}.yml") + text)
    for m in missing:
        print(f"no cases for rule {m}", file=sys.stderr)
    for u in unknown:
        print(f"cases for unknown rule {u}", file=sys.stderr)
    print(f"wrote {len(all_cases) - len(unknown)} test files")
    return 1 if missing or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
