#!/usr/bin/env python3
"""Interleaved A/B runs of `vigil replay`: the CPU time (user + system) and the wall time of each
configuration, run in turn for several rounds, as medians and as ratios to the last configuration. On a noisy machine an
interleaved set compares like with like where separate runs do not.

    python3 Benchmarks/ab.py --rounds 6 bench-data/activity-100k.jsonl \\
        "old|/tmp/vigil-old" "new|.build-release/release/vigil" \\
        "stateless|.build-release/release/vigil|--rules bench-data/rules-stateless"

Each configuration is NAME|BINARY[|EXTRA REPLAY ARGUMENTS[|ENV=VALUE,...]]. Runs from the repository root
(the default rules are detections/); state and alerts go to a fresh folder under bench-data/out/ab/.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_configs(ap: argparse.ArgumentParser, specs: list[str]) -> list[tuple[str, str, list[str], dict[str, str]]]:
    """NAME|BINARY[|EXTRA REPLAY ARGUMENTS[|ENV=VALUE,...]] each, as (name, binary, extra, env); names
    must differ (they name the output folders). Shared with `instructions.py`."""
    configs = []
    for spec in specs:
        parts = spec.split("|")
        if len(parts) < 2:
            ap.error(f"{spec!r}: expected NAME|BINARY[|EXTRA ARGS[|ENV=VALUE,...]]")
        name, binary = parts[0], parts[1]
        extra = shlex.split(parts[2]) if len(parts) > 2 else []
        env = dict(kv.split("=", 1) for kv in parts[3].split(",") if kv) if len(parts) > 3 else {}
        configs.append((name, binary, extra, env))
    if len({c[0] for c in configs}) != len(configs):
        ap.error("configuration names must differ")
    return configs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("input")
    ap.add_argument("configs", nargs="+", help="NAME|BINARY[|EXTRA ARGS[|ENV=VALUE,...]]")
    args = ap.parse_args()
    configs = parse_configs(ap, args.configs)
    out = os.path.join(REPO, "bench-data", "out", "ab")
    cpu: dict[str, list[float]] = {c[0]: [] for c in configs}
    wall: dict[str, list[float]] = {c[0]: [] for c in configs}
    rss: dict[str, int] = {c[0]: 0 for c in configs}
    for _ in range(args.rounds):
        for name, binary, extra, env in configs:
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            cmd = ["/usr/bin/time", "-f", "%U %S %M %e", binary, "replay", "--quiet", *extra,
                   "--state", os.path.join(out, "state.db"), "--output", "jsonl:" + os.path.join(out, "alerts.jsonl"), args.input]
            p = subprocess.run(cmd, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True)
            if p.returncode != 0:
                print(f"{name}: exit {p.returncode}: {p.stderr.strip()[-400:]}", file=sys.stderr)
                return 1
            user, system, kb, elapsed = p.stderr.strip().splitlines()[-1].split()
            cpu[name].append(float(user) + float(system))
            wall[name].append(float(elapsed))
            rss[name] = max(rss[name], int(kb))
    base = statistics.median(cpu[configs[-1][0]])
    base_wall = statistics.median(wall[configs[-1][0]])
    for name, *_ in configs:
        med = statistics.median(cpu[name])
        med_wall = statistics.median(wall[name])
        runs = " ".join(f"{x:.2f}" for x in cpu[name])
        walls = " ".join(f"{x:.2f}" for x in wall[name])
        print(f"{name:16s} median {med:7.3f} CPU-s  x{med / base:.3f}  wall {med_wall:6.2f} s  x{med_wall / base_wall:.3f}"
              f"  peak RSS {rss[name] / 1024:6.1f} MB  CPU runs {runs}  wall runs {walls}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
