#!/usr/bin/env python3
"""Instruction counts of `vigil replay` under callgrind: the measure that does not move with the
machine's load. On a shared 2-core VM single runs move by ±10 % of CPU time, so a change worth 1–3 %
only shows here (`docs/performance.md`, sessions 7–9). Instructions are not cycles: atomic reference
counting, cache misses and system time cost more than they count (`--cache-sim` adds simulated cache
misses), so confirm a large change with `Benchmarks/ab.py` too.

    python3 Benchmarks/instructions.py \\
        "old|/tmp/vigil-old" "new|.build-release/release/vigil" \\
        "stateless|.build-release/release/vigil|--rules bench-data/rules-stateless"

Each configuration is NAME|BINARY[|EXTRA REPLAY ARGUMENTS[|ENV=VALUE,...]], as for `ab.py`; ratios are to
the last one.
The input is the first `--records` records of `--input` (default: the first 50,000 of the 1M bench file,
which keeps its density, so the lateness window holds as much as on the whole file; about 2.5 minutes
per configuration, two at a time). Each binary is run as a copy without debug sections (valgrind reads
them slowly). The callgrind files stay in bench-data/out/instructions/ for `callgrind_annotate`, e.g.

    callgrind_annotate --inclusive=yes bench-data/out/instructions/new.out | swift demangle --simplified
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from ab import parse_configs
from bench import head_lines

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "bench-data", "out", "instructions")


def slice_of(source: str, records: int) -> str:
    """The first `records` lines of `source`, made once per size and source."""
    base = os.path.splitext(os.path.basename(source))[0]
    path = os.path.join(REPO, "bench-data", f"{base}.first-{records}.jsonl")
    head_lines(source, path, records)
    return path


def totals(callgrind_out: str) -> dict[str, int]:
    """The `events:` and `totals:` lines of a callgrind file, as event name → count."""
    names: list[str] = []
    with open(callgrind_out) as f:
        for line in f:
            if line.startswith("events:"):
                names = line.split()[1:]
            elif line.startswith("totals:"):
                return dict(zip(names, map(int, line.split()[1:])))
    raise ValueError(f"{callgrind_out}: no totals line")


def run(config: tuple[str, str, list[str], dict[str, str]], data: str, cache_sim: bool) -> dict[str, int]:
    name, binary, extra, env = config
    work = os.path.join(OUT, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    stripped = os.path.join(work, "vigil")
    subprocess.run(["strip", "--strip-debug", "-o", stripped, binary], check=True)
    out = os.path.join(OUT, f"{name}.out")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + (["--cache-sim=yes"] if cache_sim else []) + [
        stripped, "replay", "--quiet", *extra, "--state", os.path.join(work, "state.db"),
        "--output", "jsonl:" + os.path.join(work, "alerts.jsonl"), data]
    p = subprocess.run(cmd, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{name}: exit {p.returncode}: {p.stderr.strip()[-400:]}")
    return totals(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default=os.path.join(REPO, "bench-data", "activity-1m.jsonl"))
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--cache-sim", action="store_true", help="also count simulated cache misses (about twice as slow)")
    ap.add_argument("--jobs", type=int, default=2, help="configurations run at once (default 2: one per core)")
    ap.add_argument("configs", nargs="+", help="NAME|BINARY[|EXTRA ARGS[|ENV=VALUE,...]]")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("instructions.py: valgrind is not installed (apt install valgrind)", file=sys.stderr)
        return 2
    configs = parse_configs(ap, args.configs)
    os.makedirs(OUT, exist_ok=True)
    data = slice_of(args.input, args.records)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda c: run(c, data, args.cache_sim), configs))
    base = results[-1]["Ir"]
    print(f"{os.path.relpath(data, REPO)} ({args.records:,} records); ratios to {configs[-1][0]}")
    for (name, *_), r in zip(configs, results):
        line = f"{name:16s} {r['Ir'] / 1e9:8.3f} G instructions  x{r['Ir'] / base:.3f}"
        if "D1mr" in r:
            line += f"  D1 read misses {r['D1mr'] / 1e6:7.2f} M  LL read misses {r['DLmr'] / 1e6:6.2f} M"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
