#!/usr/bin/env python3
"""Append → alert → incident latency of `vigil run` tailing an export tree at 10k events/s.

    python3 Benchmarks/tail_latency.py [--vigil .build-release/release/vigil] [--rate 10000]
                                       [--seconds 10] [--lateness default|0|SECONDS]

A `vigil run` with a `file` source on a fresh export tree and a JSONL sink. This script appends
Activity Log records (event time = now) to `PT1H.json` at `--rate` records/s, in 10 ms slices, and
embeds a trigger record (a user listing a workspace's keys, which the stateless rule "Azure ML
workspace secrets listed by a user" raises on) every 50 ms, each with a unique correlationId. A reader thread follows
the sink file and stamps each alert row (matched to its trigger by the correlationId in its
evidence) and the first incident row after it. Latency = stamp − the moment the trigger's slice was
written. Prints p50/p99/max (target: p99 ≤ 1 s).

`--lateness default` keeps the config's default (15 min): stateless alerts then wait in the event-time
buffer unless detection raises them at arrival; the run reports how many triggers produced no
alert within `--wait` seconds instead of a latency. `--lateness 0` shows the pipeline's own latency.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUB = "4F8D2C1A-6B3E-4A9F-8C7D-2E1B0A9F8D6C"

# A user listing an Azure ML workspace's keys (the stateless rule "Azure ML workspace secrets listed
# by a user" raises on this one record, on arrival), and a benign read. (Rules on assembled operations,
# such as the Owner role assignment, alert when the operation leaves the event-time buffer: one
# lateness later.)
TRIGGER = ('{"time":"%(t)s","resourceId":"/SUBSCRIPTIONS/' + SUB + '/RESOURCEGROUPS/RG-ML-PROD/PROVIDERS/'
           'MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/MLW-PROD","operationName":"MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/LISTKEYS/ACTION",'
           '"category":"Administrative","resultType":"Success","resultSignature":"Succeeded.OK","durationMs":35,'
           '"callerIpAddress":"203.0.113.77","correlationId":"%(c)s",'
           '"identity":{"authorization":{"scope":"/subscriptions/' + SUB.lower() + '/resourceGroups/rg-ml-prod/providers/'
           'Microsoft.MachineLearningServices/workspaces/mlw-prod","action":"Microsoft.MachineLearningServices/workspaces/listKeys/action",'
           '"evidence":{"role":"Contributor","principalType":"User"}},'
           '"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"dana.okafor@contoso-ml.example",'
           '"appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46"}},"level":"Information","properties":{"statusCode":"OK",'
           '"eventCategory":"Administrative","entity":"/subscriptions/' + SUB.lower() + '","message":"Microsoft.MachineLearningServices/workspaces/listKeys/action"}}')
FILLER = ('{"time":"%(t)s","resourceId":"/SUBSCRIPTIONS/' + SUB + '/RESOURCEGROUPS/RG-ML-PROD/PROVIDERS/'
          'MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/MLW-PROD","operationName":"MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/READ",'
          '"category":"Administrative","resultType":"Success","resultSignature":"Succeeded.OK","durationMs":42,'
          '"callerIpAddress":"198.51.100.%(ip)d","correlationId":"%(c)s","identity":{"claims":{'
          '"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"reader%(u)d@contoso-ml.example"}},"level":"Information",'
          '"properties":{"statusCode":"OK","eventCategory":"Administrative","entity":"/subscriptions/' + SUB.lower() + '"}}')


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


class SinkFollower(threading.Thread):
    """Stamps alert rows (by trigger correlationId) and incident rows as the sink writes them."""

    def __init__(self, path: str, triggers: dict[str, float]):
        super().__init__(daemon=True)
        self.path, self.triggers = path, triggers
        self.alert_at: dict[str, float] = {}
        self.incident_at: dict[str, float] = {}
        self.pending: list[str] = []   # alerts seen, waiting for the next incident row
        self.stop = threading.Event()

    def run(self) -> None:
        while not os.path.exists(self.path) and not self.stop.is_set():
            time.sleep(0.002)
        with open(self.path) as f:
            buf = ""
            while not self.stop.is_set():
                chunk = f.read()
                if not chunk:
                    time.sleep(0.002)
                    continue
                now = time.monotonic()
                buf += chunk
                *lines, buf = buf.split("\n")
                for line in lines:
                    try:
                        row = json.loads(line)
                    except ValueError:
                        continue
                    if row.get("type") == "alert":
                        text = " ".join(row.get("evidence") or [])
                        for c in self.triggers:
                            if c not in self.alert_at and c in text:
                                self.alert_at[c] = now
                                self.pending.append(c)
                                break
                    elif row.get("type") == "incident":
                        for c in self.pending:
                            self.incident_at.setdefault(c, now)
                        self.pending = []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default=os.path.join(ROOT, ".build-release/release/vigil"))
    ap.add_argument("--rate", type=int, default=10_000, help="records per second")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--trigger-every", type=float, default=0.05, help="seconds between trigger records")
    ap.add_argument("--lateness", default="default", help="'default' (the config default), or seconds")
    ap.add_argument("--wait", type=float, default=10, help="seconds to wait for the last alerts after writing")
    args = ap.parse_args()
    if not os.access(args.vigil, os.X_OK):
        sys.exit(f"no vigil binary at {args.vigil}: swift build -c release --scratch-path .build-release --product vigil")
    work = tempfile.mkdtemp(prefix="vigil-latency-")
    tree = os.path.join(work, "insights-activity-logs", "resourceId=", "SUBSCRIPTIONS", SUB, "y=2026", "m=11", "d=29", "h=00", "m=00")
    os.makedirs(tree)
    target = os.path.join(tree, "PT1H.json")
    sink = os.path.join(work, "out.jsonl")
    rules = [os.path.join(ROOT, "detections", x) for x in sorted(os.listdir(os.path.join(ROOT, "detections")))
             if os.path.isdir(os.path.join(ROOT, "detections", x))]
    detection = "" if args.lateness == "default" else f"detection: {{lateness: {float(args.lateness)}}}\n"
    cfg = os.path.join(work, "vigil.yaml")
    with open(cfg, "w") as f:
        f.write(f"""state: {{path: "{work}/state.db"}}
rules:
  paths: {json.dumps(rules)}
  fieldmap: "{ROOT}/detections/fieldmap.yml"
{detection}sources:
  - {{type: file, name: exports, paths: ["{work}/insights-activity-logs"], start_position: beginning}}
sinks:
  out: {{type: jsonl, path: "{sink}"}}
outbox: {{poll_interval: 20ms}}
metrics: {{enabled: false}}
log: {{level: warning}}
""")
    # The first line exists before the service starts (a file is known by its first line).
    with open(target, "w") as f:
        f.write(FILLER % {"t": iso(time.time()), "c": uuid.uuid4(), "ip": 1, "u": 0} + "\n")
    log = open(os.path.join(work, "vigil.log"), "w")
    proc = subprocess.Popen([args.vigil, "run", "--config", cfg], stdout=log, stderr=log)
    triggers: dict[str, float] = {}
    follower = SinkFollower(sink, triggers)
    follower.start()
    try:
        time.sleep(2)   # startup: rules compiled, the tree watched
        slice_s = 0.01
        per_slice = max(1, int(args.rate * slice_s))
        every = max(1, int(round(args.trigger_every / slice_s)))
        written = 0
        start = time.monotonic()
        slices = int(args.seconds / slice_s)
        with open(target, "a") as f:
            for i in range(slices):
                due = start + i * slice_s
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                now = time.time()
                lines = [FILLER % {"t": iso(now), "c": uuid.uuid4(), "ip": (written + k) % 250, "u": (written + k) % 97}
                         for k in range(per_slice)]
                corr = None
                if i % every == 0:
                    corr = str(uuid.uuid4())
                    lines[len(lines) // 2] = TRIGGER % {"t": iso(now), "c": corr}
                f.write("\n".join(lines) + "\n")
                f.flush()
                if corr:
                    triggers[corr] = time.monotonic()
                written += len(lines)
        elapsed = time.monotonic() - start
        end = time.monotonic() + args.wait
        while time.monotonic() < end and len(follower.alert_at) < len(triggers):
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        follower.stop.set()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    alert = [follower.alert_at[c] - t for c, t in triggers.items() if c in follower.alert_at]
    incident = [follower.incident_at[c] - t for c, t in triggers.items() if c in follower.incident_at]
    print(f"wrote {written} records in {elapsed:.2f} s ({written / elapsed:,.0f}/s), {len(triggers)} triggers, "
          f"lateness {args.lateness}")
    for name, xs in (("append → alert row", alert), ("append → incident row", incident)):
        if xs:
            print(f"  {name}: n={len(xs)} p50 {statistics.median(xs) * 1000:.0f} ms, p99 {percentile(xs, 99) * 1000:.0f} ms, "
                  f"max {max(xs) * 1000:.0f} ms")
    missing = len(triggers) - len(alert)
    if missing:
        print(f"  {missing} of {len(triggers)} triggers raised no alert within {args.wait:.0f} s after writing ended"
              + (" (held by the event-time buffer: default lateness)" if args.lateness == "default" else ""))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
