#!/usr/bin/env python3
"""Writes a replay workload whose incidents are known in advance.

`groups` (caller, storage account) pairs each list the account's keys 1-3 times through the portal
(rule a49ffafa "Storage Account Keys Listed by a User", grouped by Account + AzureResource), so
there are exactly `groups` incidents and sum(1 + i % 3) alerts. Between them sit benign reads that
match nothing, to make the replay long enough to be killed in the middle.

usage: gen-workload.py OUT_DIR [--groups 200] [--noise 150000] [--files 4]
Prints {"incidents": N, "alerts": M, "events": E} on stdout.
"""
import argparse, json, os, random

SUB = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
PORTAL = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"


def listkeys(i, k, t):
    account = "stchaos%05d" % i
    rid = "/subscriptions/%s/resourceGroups/rg-chaos/providers/Microsoft.Storage/storageAccounts/%s" % (SUB, account)
    upn = "user%05d@contoso.example" % i
    return {
        "time": t, "resourceId": rid.upper(),
        "operationName": "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION",
        "category": "Administrative", "resultType": "Success", "resultSignature": "Succeeded.OK",
        "durationMs": 0, "callerIpAddress": "203.0.113.%d" % (i % 250 + 1),
        "correlationId": "00000000-0000-4000-8000-%012d" % (i * 10 + k),
        "identity": {"claims": {"appid": PORTAL, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": upn,
                                "http://schemas.microsoft.com/identity/claims/objectidentifier": "00000000-0000-4000-9000-%012d" % i}},
        "level": "Information", "location": "global",
        "properties": {"eventCategory": "Administrative", "entity": rid, "statusCode": "OK"},
    }


def noise(j, t):
    rid = "/subscriptions/%s/resourceGroups/rg-chaos/providers/Microsoft.Storage/storageAccounts/stnoise%d" % (SUB, j % 97)
    return {
        "time": t, "resourceId": rid.upper(),
        "operationName": "MICROSOFT.STORAGE/STORAGEACCOUNTS/READ",
        "category": "Administrative", "resultType": "Success", "durationMs": 3,
        "callerIpAddress": "198.51.100.%d" % (j % 250 + 1),
        "correlationId": "10000000-0000-4000-8000-%012d" % j,
        "identity": {"claims": {"appid": "11111111-1111-4111-8111-111111111111"}},
        "level": "Information", "location": "global",
        "properties": {"eventCategory": "Administrative", "entity": rid, "statusCode": "OK"},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--noise", type=int, default=150000)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    records = []
    alerts = 0
    for i in range(a.groups):
        for k in range(1 + i % 3):
            alerts += 1
            records.append(("2026-11-20T%02d:%02d:%02d.000Z" % (k * 2 + 1, i % 60, rnd.randrange(60)), listkeys(i, k, None)))
    for j in range(a.noise):
        records.append(("2026-11-20T%02d:%02d:%02d.000Z" % (j % 8, (j // 8) % 60, j % 60), noise(j, None)))
    records.sort(key=lambda r: r[0])
    os.makedirs(a.out, exist_ok=True)
    per = (len(records) + a.files - 1) // a.files
    for f in range(a.files):
        with open(os.path.join(a.out, "part-%02d.json" % f), "w") as out:
            for t, r in records[f * per:(f + 1) * per]:
                r["time"] = t
                out.write(json.dumps(r, separators=(",", ":")) + "\n")
    print(json.dumps({"incidents": a.groups, "alerts": alerts, "events": len(records)}))


if __name__ == "__main__":
    main()
