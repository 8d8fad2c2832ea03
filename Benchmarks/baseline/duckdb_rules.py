#!/usr/bin/env python3
"""Optional reference: ten hand-written SQL rules over the benchmark file in DuckDB (pip install duckdb).

    python3 Benchmarks/baseline/duckdb_rules.py FILE --threads 1

Mirrors the anchor in ../shared/reference/performance-anchors.md: explicit columns, equality on
operationName (case-insensitive), contains and regex on the JSON-in-a-string requestbody, CIDR-style
prefix checks on callerIpAddress (IPv4 and IPv6), a principalType check. Prints the match count per rule.
"""
import argparse
import sys

import duckdb

COLUMNS = {
    "time": "VARCHAR", "operationName": "VARCHAR", "resultType": "VARCHAR", "callerIpAddress": "VARCHAR",
    "identity": 'STRUCT("authorization" STRUCT(evidence STRUCT(principalType VARCHAR)))',
    "properties": "STRUCT(requestbody VARCHAR)",
}
RULES = {
    "owner_grant": "op = 'microsoft.authorization/roleassignments/write' AND rb LIKE '%8e3af657-a8ff-443c-a75c-2fe8c4bcb635%'",
    "nsg_open": "op = 'microsoft.network/networksecuritygroups/securityrules/write' AND regexp_matches(rb, "
                "'\"sourceAddressPrefix\":\"(\\*|0\\.0\\.0\\.0/0|Internet)\"') AND regexp_matches(rb, '\"destinationPortRange\":\"(22|3389)\"')",
    "ws_listkeys": "op = 'microsoft.machinelearningservices/workspaces/listkeys/action'",
    "ds_listsecrets": "op = 'microsoft.machinelearningservices/workspaces/datastores/listsecrets/action'",
    "cmk_removed": "op = 'microsoft.storage/storageaccounts/write' AND rb LIKE '%\"keySource\":\"Microsoft.Storage\"%'",
    "storage_open": "op = 'microsoft.storage/storageaccounts/write' AND rb LIKE '%\"defaultAction\":\"Allow\"%'",
    "diag_delete": "op = 'microsoft.insights/diagnosticsettings/delete'",
    "defender_free": "op = 'microsoft.security/pricings/write' AND rb LIKE '%\"pricingTier\":\"Free\"%'",
    "ip_ranges": "(starts_with(callerIpAddress, '203.0.113.') OR starts_with(lower(callerIpAddress), '2001:db8:1')) "
                 "AND resultType = 'Success'",
    "sp_listkeys": "ends_with(op, '/listkeys/action') AND identity.\"authorization\".evidence.principalType = 'ServicePrincipal'",
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"  # types hold no single quotes
    counts = ", ".join(f"count(*) FILTER (WHERE {cond}) AS {name}" for name, cond in RULES.items())
    sql = (f"WITH e AS (SELECT *, lower(operationName) AS op, properties.requestbody AS rb FROM "
           f"read_json('{args.file}', format = 'newline_delimited', columns = {cols}, maximum_object_size = 16777216)) "
           f"SELECT count(*) AS records, {counts} FROM e")
    row = con.execute(sql).fetchone()
    names = ["records", *RULES]
    print(" ".join(f"{n}={v}" for n, v in zip(names, row)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
