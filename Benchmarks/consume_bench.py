#!/usr/bin/env python3
"""Event Hubs consume throughput: one `vigil run` against two in one consumer group.

    python3 Benchmarks/consume_bench.py [--vigil .build-release/release/vigil] [--partitions 32]
                                        [--mb-per-partition 4] [--repeat 2]

The broker is librdkafka's mock cluster, hosted OUT of the consumers' processes by a tiny C
program (Benchmarks/mock_cluster.c, compiled here with `cc -lrdkafka`). For each run:

1. a fresh mock cluster with topic `activity` (32 partitions) is filled with `{"records":[…]}`
   bodies of three Activity Log records (Benchmarks/gen_activity.py, ~3 KB per record) — below
   the mock's ~5 MB per partition, so nothing is dropped;
2. N `vigil run` processes start at once (same consumer group, own state database, JSONL sink and
   metrics port, the default rules in detections/). The mock's group coordinator waits ~3 s for
   members before the first assignment, so both join the first generation: nothing is consumed
   before the group is formed;
3. the clock starts at the first record consumed (metrics `vigil_source_events_in_total`) and stops
   when the processes together have read every message. It checks afterwards that each process
   consumed and owned partitions (a run where one process did everything is reported, not hidden).

Prints records/s for one and for two consumers and the ratio (target: two ≥ 1.8 × one).
Honest limits: the broker, both consumers and their SQLite commits share the machine's cores.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as r:
            return r.read().decode()
    except OSError:
        return None


def sample(text: str | None, name: str, source: str = "hub") -> int:
    if not text:
        return 0
    prefix = f'{name}{{source="{source}"}} '
    for line in text.splitlines():
        if line.startswith(prefix):
            return int(float(line[len(prefix):]))
    return 0


def owned(text: str | None) -> set[str]:
    prefix = 'vigil_partition_lag_messages{source="hub",partition="'
    return {l[len(prefix):].split('"')[0] for l in (text or "").splitlines() if l.startswith(prefix)}


def make_bodies(work: str, partitions: int, mb: float, per_body: int) -> tuple[str, int, int]:
    """Bodies of `per_body` records, as many as fit in `mb` MB per partition."""
    records_file = os.path.join(work, "records.jsonl")
    budget = int(partitions * mb * 1_000_000)
    estimate = budget // 3000 + per_body
    subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks/gen_activity.py"), "--records", str(estimate),
                    "--templates", "2000", "--out", records_file], check=True, stdout=subprocess.DEVNULL)
    bodies_file = os.path.join(work, "bodies.txt")
    size = records = messages = 0
    with open(records_file) as f, open(bodies_file, "w") as out:
        batch: list[str] = []
        for line in f:
            batch.append(line.rstrip("\n"))
            if len(batch) == per_body:
                body = '{"records":[' + ",".join(batch) + "]}"
                if size + len(body) > budget:
                    break
                out.write(body + "\n")
                size += len(body) + 1
                records += len(batch)
                messages += 1
                batch = []
    return bodies_file, messages, records


def config(work: str, name: str, bootstrap: str, port: int) -> str:
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    rules = [os.path.join(ROOT, "detections", x) for x in sorted(os.listdir(os.path.join(ROOT, "detections")))
             if os.path.isdir(os.path.join(ROOT, "detections", x))]
    path = os.path.join(d, "vigil.yaml")
    with open(path, "w") as f:
        f.write(f"""state: {{path: "{d}/state.db"}}
rules:
  paths: {json.dumps(rules)}
  fieldmap: "{ROOT}/detections/fieldmap.yml"
sources:
  - {{type: eventhubs, name: hub, bootstrap_servers: "{bootstrap}", hubs: [activity], consumer_group: bench,
     session_timeout: 10s, start_position: earliest}}
sinks:
  out: {{type: jsonl, path: "{d}/out.jsonl"}}
metrics: {{listen: "127.0.0.1:{port}"}}
log: {{level: warning}}
""")
    return path


def run_once(vigil: str, host: str, bodies: str, messages: int, records: int, consumers: int, partitions: int) -> dict:
    work = tempfile.mkdtemp(prefix="vigil-consume-")
    broker = subprocess.Popen([host, str(partitions), bodies], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    procs: list[subprocess.Popen] = []
    try:
        ready = broker.stdout.readline().split()
        assert ready and ready[0] == "READY", f"mock cluster did not start: {ready}"
        bootstrap = ready[1]
        broker.stdin.write("produce\n")
        broker.stdin.flush()
        produced = broker.stdout.readline().split()
        assert produced[0] == "PRODUCED" and int(produced[1]) == messages, produced
        ports = [free_port() for _ in range(consumers)]
        for i, port in enumerate(ports):
            cfg = config(work, f"c{i}", bootstrap, port)
            log = open(os.path.join(work, f"c{i}.log"), "w")
            procs.append(subprocess.Popen([vigil, "run", "--config", cfg], stdout=log, stderr=log))
        first: list[float | None] = [None] * consumers
        start = end = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            texts = [metrics(p) for p in ports]
            now = time.monotonic()
            counts = [sample(t, "vigil_source_events_in_total") for t in texts]
            for i, c in enumerate(counts):
                if c > 0 and first[i] is None:
                    first[i] = now
            if start is None and any(counts):
                start = now
            if sum(counts) >= messages:
                end = now
                break
            time.sleep(0.02)
        assert end is not None, "timed out"
        texts = [metrics(p) for p in ports]
        counts = [sample(t, "vigil_source_events_in_total") for t in texts]
        decoded = [sample(t, "vigil_source_events_out_total") for t in texts]
        parts = [sorted(owned(t)) for t in texts]
        return {"consumers": consumers, "seconds": end - start, "records": records, "messages": messages,
                "records_per_s": records / (end - start), "messages_per_consumer": counts, "decoded": decoded,
                "partitions_per_consumer": [len(p) for p in parts],
                "first_consume_gap_s": (max(f for f in first if f) - min(f for f in first if f)) if all(first) else None,
                "all_consumed": all(c > 0 for c in counts)}
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        try:
            broker.stdin.write("quit\n")
            broker.stdin.flush()
            broker.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            broker.kill()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default=os.path.join(ROOT, ".build-release/release/vigil"))
    ap.add_argument("--partitions", type=int, default=32)
    ap.add_argument("--mb-per-partition", type=float, default=4.0)
    ap.add_argument("--records-per-body", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="print the runs as JSON too")
    args = ap.parse_args()
    if not os.access(args.vigil, os.X_OK):
        sys.exit(f"no vigil binary at {args.vigil}: swift build -c release --scratch-path .build-release --product vigil")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        sys.exit("no C compiler: the mock cluster host is a small C program")
    data = tempfile.mkdtemp(prefix="vigil-consume-data-")
    try:
        host = os.path.join(data, "mock_cluster")
        subprocess.run([cc, "-O2", "-o", host, os.path.join(ROOT, "Benchmarks/mock_cluster.c"), "-lrdkafka"], check=True)
        bodies, messages, records = make_bodies(data, args.partitions, args.mb_per_partition, args.records_per_body)
        print(f"input: {messages} bodies, {records} records, {os.path.getsize(bodies) / 1e6:.1f} MB over {args.partitions} partitions")
        runs: dict[int, list[dict]] = {1: [], 2: []}
        for _ in range(args.repeat):
            for n in (1, 2):
                r = run_once(args.vigil, host, bodies, messages, records, n, args.partitions)
                runs[n].append(r)
                note = "" if r["all_consumed"] else "  (NOT every consumer read: the group was not shared)"
                print(f"  {n} consumer(s): {r['seconds']:.2f} s, {r['records_per_s']:,.0f} records/s, messages per consumer "
                      f"{r['messages_per_consumer']}, partitions {r['partitions_per_consumer']}{note}")
        one = statistics.median(r["records_per_s"] for r in runs[1])
        two = statistics.median(r["records_per_s"] for r in runs[2])
        print(f"median: one consumer {one:,.0f} records/s, two consumers {two:,.0f} records/s, ratio {two / one:.2f} (target ≥ 1.8)")
        if args.json:
            print(json.dumps(runs, indent=1))
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
