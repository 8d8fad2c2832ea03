#!/usr/bin/env python3
"""Compares a JSON-lines sink written across crashes with a reference sink from a clean run.

usage: verify-sink.py REFERENCE.jsonl ACTUAL.jsonl [--expect-incidents N --expect-alerts M]
Checks: every alert id and every incident id of the reference is present; each incident's final
(highest) revision in ACTUAL equals the reference's; no id in ACTUAL is unknown to the reference.
Lines delivered more than once (at-least-once: a crash between the sink's fsync and the outbox
mark) are counted and reported, not failed. Prints one JSON line; exits 1 on any loss or mismatch.
"""
import argparse, collections, json, sys


def load(path):
    alerts, incidents, lines = collections.Counter(), {}, collections.Counter()
    with open(path, "rb") as f:
        for raw in f:
            if not raw.strip():
                continue
            o = json.loads(raw)
            kind, oid = o.get("type"), o.get("id")
            lines[(kind, oid, o.get("revision"))] += 1
            if kind == "alert":
                alerts[oid] += 1
            elif kind == "incident":
                rev = o.get("revision", 0)
                incidents[oid] = max(incidents.get(oid, rev), rev)
    return alerts, incidents, lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("actual")
    ap.add_argument("--expect-incidents", type=int)
    ap.add_argument("--expect-alerts", type=int)
    a = ap.parse_args()
    ref_alerts, ref_inc, _ = load(a.reference)
    act_alerts, act_inc, lines = load(a.actual)
    problems = []
    if a.expect_incidents is not None and len(ref_inc) != a.expect_incidents:
        problems.append("reference has %d incidents, expected %d" % (len(ref_inc), a.expect_incidents))
    if a.expect_alerts is not None and len(ref_alerts) != a.expect_alerts:
        problems.append("reference has %d alerts, expected %d" % (len(ref_alerts), a.expect_alerts))
    lost_alerts = sorted(set(ref_alerts) - set(act_alerts))
    lost_inc = sorted(set(ref_inc) - set(act_inc))
    extra = sorted((set(act_alerts) - set(ref_alerts)) | (set(act_inc) - set(ref_inc)))
    wrong_rev = sorted(i for i in ref_inc if i in act_inc and act_inc[i] != ref_inc[i])
    if lost_alerts: problems.append("%d alerts lost, e.g. %s" % (len(lost_alerts), lost_alerts[:3]))
    if lost_inc: problems.append("%d incidents lost, e.g. %s" % (len(lost_inc), lost_inc[:3]))
    if extra: problems.append("%d ids not in the reference, e.g. %s" % (len(extra), extra[:3]))
    if wrong_rev: problems.append("%d incidents end on another revision, e.g. %s" % (len(wrong_rev), wrong_rev[:3]))
    redelivered = sum(n - 1 for n in lines.values() if n > 1)
    print(json.dumps({"alerts": len(act_alerts), "incidents": len(act_inc), "lines": sum(lines.values()),
                      "redelivered": redelivered, "problems": problems}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
