#!/usr/bin/env python3
"""Writes N generated Sigma rules (Azure activitylogs) for the rule-count scaling benchmark.

    python3 Benchmarks/gen_rules.py --count 1000 --out bench-data/rules-1000

The rules mix the shapes the detection pack uses, cycling through five kinds:
operationName equality; operationName plus a `contains` on the JSON-in-a-string requestbody; CIDR on
callerIpAddress (IPv4 and IPv6) with resultType; operationName `endswith` plus principalType; and a
regex on the requestbody. Most rules name operations or values that never occur, as in a real pack
where each rule watches one thing. A few match often, so the alert path is exercised too. Deterministic.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import uuid

NS = uuid.UUID("6f1d3c2a-8b4e-4f5a-9c7d-0e1f2a3b4c5d")
REAL_OPS = [
    "Microsoft.Authorization/roleAssignments/write", "Microsoft.Network/networkSecurityGroups/securityRules/write",
    "Microsoft.Storage/storageAccounts/write", "Microsoft.Storage/storageAccounts/listKeys/action",
    "Microsoft.MachineLearningServices/workspaces/listKeys/action", "Microsoft.Security/pricings/write",
    "Microsoft.Insights/diagnosticSettings/delete", "Microsoft.MachineLearningServices/workspaces/write",
    "Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action", "Microsoft.KeyVault/vaults/write",
]
PROVIDERS = ["Compute", "Network", "Storage", "Web", "Sql", "KeyVault", "ContainerService", "EventHub",
             "MachineLearningServices", "CognitiveServices", "DataFactory", "Synapse", "Databricks", "Batch"]
VERBS = ["write", "delete", "action", "listKeys/action", "regenerateKey/action", "start/action", "stop/action"]


def op_name(rng: random.Random, i: int) -> str:
    if i % 10 == 0:
        return REAL_OPS[(i // 10) % len(REAL_OPS)]
    return f"Microsoft.{rng.choice(PROVIDERS)}/type{rng.randint(1, 400)}/{rng.choice(VERBS)}"


def rule(i: int, count: int, rng: random.Random) -> str:
    kind = i % 5
    rid = uuid.uuid5(NS, f"bench-{count}-{i}")
    head = (f"title: Bench rule {i} of {count} (kind {kind})\nid: {rid}\nstatus: experimental\n"
            "description: Generated for the rule-count benchmark; not a detection.\n"
            "author: Vigil benchmark generator\ndate: 2026-11-03\ntags:\n    - attack.t1098\n"
            "logsource:\n    product: azure\n    service: activitylogs\ndetection:\n")
    if kind == 0:
        det = f"    selection:\n        operationName: '{op_name(rng, i)}'\n    condition: selection\n"
    elif kind == 1:
        needle = rng.choice(['"pricingTier":"Free"', '"keySource":"Microsoft.Storage"', '"defaultAction":"Allow"',
                             f'"costCenter":"ml-{rng.randint(1000, 9999)}"', f'tok{rng.randint(0, 10**6)}'])
        det = (f"    selection:\n        operationName: '{op_name(rng, i)}'\n"
               f"        properties.requestbody|contains: '{needle}'\n    condition: selection\n")
    elif kind == 2:
        cidr = (f"2001:db8:{rng.randint(0, 0xffff):x}::/48" if rng.random() < 0.3
                else f"{rng.choice([198, 203, 192, 20, 52, 40])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24")
        det = (f"    selection:\n        callerIpAddress|cidr: '{cidr}'\n        resultType: 'Success'\n"
               "    condition: selection\n")
    elif kind == 3:
        det = (f"    selection:\n        operationName|endswith: '/{rng.choice(VERBS)}'\n"
               f"        identity.authorization.evidence.principalType: 'ServicePrincipal'\n"
               f"        identity.authorization.evidence.role: '{rng.choice(['Owner', 'Contributor', f'Role{i}'])}'\n"
               "    condition: selection\n")
    else:
        port = rng.choice(["22", "3389", "(22|3389)", str(rng.randint(1024, 65000))])
        det = (f"    selection:\n        operationName: '{op_name(rng, i)}'\n"
               f"        properties.requestbody|re: '\"destinationPortRange\":\"{port}\"'\n    condition: selection\n")
    return head + det + "level: low\n"


def main() -> int:
    ap = argparse.ArgumentParser(description="Generate N Sigma rules for the scaling benchmark.")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(args.count)
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    for i in range(args.count):
        with open(os.path.join(args.out, f"bench_{i:04d}.yml"), "w") as f:
            f.write(rule(i, args.count, rng))
    print(f"gen_rules: {args.count} rules -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
