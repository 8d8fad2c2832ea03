#!/usr/bin/env python3
"""Vigil benchmark: throughput and peak memory of `vigil events` and `vigil replay` on a large generated
Activity Log file, next to parse-only baselines run in the same invocation. See Benchmarks/README.md.

Each step runs as a direct child process (no shell). Wall time comes from a monotonic clock; CPU time and
peak RSS come from wait4(2) for that child alone. Results are printed as a table and appended to
Benchmarks/results/<UTC date>.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DATA = os.path.join(REPO, "bench-data")
JQ_SLICE = 100_000
RULE_COUNTS = (10, 100, 1000)
FULL_PACK = "vigil replay, full pack (detections/)"
STATELESS = "vigil replay, stateless-only pack (detections/ without correlations/, anomaly/ and assembled-operation rules)"
# Issue 4: the stateful rules may cost at most 25 % over a stateless-only replay of the same input.
STATEFUL_TARGET = 1.25
# The full pack on the input's first half: the reference for "memory stays flat" (issue 4).
PREFIX_RUN = "vigil replay, full pack, first half of the input (memory reference)"
FLAT_TARGET = 1.1


@dataclass
class Result:
    name: str
    records: int = 0
    nbytes: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    rss_kb: int = 0
    note: str = ""
    ok: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def mbps(self) -> float:
        return self.nbytes / 1e6 / self.wall if self.ok and self.wall > 0 else 0.0

    @property
    def rps(self) -> float:
        return self.records / self.wall if self.ok and self.wall > 0 else 0.0


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


TIME = "/usr/bin/time"


def fresh_state(argv: list[str]) -> None:
    """Deletes the state database named by `--state` (and its WAL files) and the `jsonl:` output, so
    every replay starts empty.

    Replay stores every alert raised and what the baselines learned: with a shared state file a second
    run would find its alerts already raised and its events already learned (and the file grows by
    gigabytes), so runs would not compare."""
    if "--state" in argv:
        db = argv[argv.index("--state") + 1]
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.remove(db + suffix)
            except FileNotFoundError:
                pass
    for a in argv:
        if a.startswith("jsonl:") and a != "jsonl:-":   # the JSON-lines sink appends
            try:
                os.remove(a[len("jsonl:"):])
            except FileNotFoundError:
                pass


def run_timed(argv: list[str], stdin_path: str | None = None) -> tuple[int, float, float, int, str]:
    """Runs argv with stdout to /dev/null; returns (exit code, wall s, cpu s, peak RSS KiB, last stderr error line).

    Peak RSS comes from GNU time's %M: Linux carries a process's RSS high-water mark across exec, so a
    child forked from this Python process would report at least Python's own RSS. Without /usr/bin/time
    the wait4 figure is used and that floor is mentioned in the report."""
    err_path = os.path.join(DATA, "out", "last-stderr.txt")
    rss_path = os.path.join(DATA, "out", "last-time.txt")
    use_time = os.access(TIME, os.X_OK)
    fresh_state(argv)
    full = [TIME, "-f", "%M", "-o", rss_path, *argv] if use_time else argv
    with open(os.devnull, "wb") as devnull, open(err_path, "wb") as err, \
            (open(stdin_path, "rb") if stdin_path else open(os.devnull, "rb")) as stdin:
        t0 = time.monotonic()
        proc = subprocess.Popen(full, stdin=stdin, stdout=devnull, stderr=err, cwd=REPO)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        rc = os.waitstatus_to_exitcode(status)
    rss = ru.ru_maxrss
    if use_time:
        try:
            rss = int(open(rss_path).read().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
    with open(err_path, "rb") as f:
        tail = [l for l in f.read()[-4000:].decode("utf-8", "replace").splitlines()
                if l.strip() and not l.startswith("Command exited with non-zero status")]
    errors = [l for l in tail if "error" in l.lower()]  # "Error: …" says more than a usage hint
    return rc, wall, ru.ru_utime + ru.ru_stime, rss, ((errors or tail)[-1].strip() if tail else "")


def best_of(repeat: int, name: str, argv: list[str], records: int, nbytes: int, stdin_path: str | None = None,
            note: str = "") -> Result:
    runs = []
    for _ in range(repeat):
        rc, wall, cpu, rss, tail = run_timed(argv, stdin_path)
        if rc != 0:
            return Result(name, records, nbytes, ok=False, note=f"failed (exit {rc}): {tail}"[:160])
        runs.append((wall, cpu, rss))
    return median_result(name, runs, records, nbytes, note)


def median_result(name: str, runs: list[tuple[float, float, int]], records: int, nbytes: int, note: str = "") -> Result:
    """Wall and CPU seconds each as their own median (a run slow on the wall clock need not be slow
    on the CPU); peak RSS as the largest seen."""
    return Result(name, records, nbytes, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
                  max(r[2] for r in runs), note)


def label_for(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def ensure_data(records: int) -> str:
    path = os.path.join(DATA, f"activity-{label_for(records)}.jsonl")
    generator = os.path.join(HERE, "gen_activity.py")
    # Made again when the generator changed since: a figure always describes what it writes now.
    if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(generator):
        log(f"generating {records} records into {os.path.relpath(path, REPO)}")
        t0 = time.monotonic()
        subprocess.run([sys.executable, generator, "--records", str(records), "--out", path],
                       check=True)
        log(f"generated in {time.monotonic() - t0:.1f} s")
    return path


def head_lines(src: str, dst: str, n: int) -> int:
    """The first `n` lines of `src` in `dst`, made again when `src` is newer."""
    if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(src):
        with open(src, "rb") as f, open(dst + ".tmp", "wb") as out:
            for i, line in enumerate(f):
                if i >= n:
                    break
                out.write(line)
        os.replace(dst + ".tmp", dst)
    return sum(1 for _ in open(dst, "rb"))


def pack_without(name: str, folders: tuple[str, ...], operation_rules: bool) -> str:
    """A fresh copy of detections/ in bench-data/`name`, without the top-level `folders` and, unless
    `operation_rules`, without the rules on assembled operations (`category: operation`) and their tests."""
    dst = os.path.join(DATA, name)
    shutil.rmtree(dst, ignore_errors=True)
    top = os.path.join(REPO, "detections")
    shutil.copytree(top, dst, ignore=lambda d, names: [n for n in names if d == top and n in folders])
    if operation_rules:
        return dst
    for folder, _, names in os.walk(dst):
        for n in names:
            path = os.path.join(folder, n)
            if n.endswith(".yml") and not n.endswith(".tests.yml") and n != "fieldmap.yml":
                with open(path, encoding="utf-8") as f:
                    if "category: operation" in f.read():
                        os.remove(path)
                        test = path[:-4] + ".tests.yml"
                        if os.path.exists(test):
                            os.remove(test)
    return dst


# Where the stateful cost goes (`--stateful-only`): the full pack less one consumer at a time.
BREAKDOWN = (
    ("vigil replay, full pack without anomaly/", "rules-no-anomaly", ("anomaly",), True),
    ("vigil replay, full pack without correlations/", "rules-no-correlations", ("correlations",), True),
    ("vigil replay, stateless-only pack + assembled-operation rules", "rules-stateless-ops", ("anomaly", "correlations"), True),
)


def stateless_rules() -> str:
    """A copy of detections/ without the stateful rules, made fresh each run so it always matches the
    pack being measured: no correlations/, no anomaly/, and no rule on assembled operations
    (`category: operation`), which needs the event-time buffer and operation assembly. With none of
    those, replay buffers and assembles nothing, so the difference is the whole stateful cost."""
    return pack_without("rules-stateless", ("correlations", "anomaly"), operation_rules=False)


def build_baseline() -> str | None:
    src = os.path.join(HERE, "baseline", "simdjson_parse.cpp")
    exe = os.path.join(DATA, "bin", "simdjson_parse")
    if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
        return exe
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    cxx = shutil.which("g++") or shutil.which("c++")
    if not cxx:
        log("no C++ compiler: simdjson baseline unavailable")
        return None
    r = subprocess.run([cxx, "-O2", "-std=c++17", src, "-lsimdjson", "-o", exe], capture_output=True, text=True)
    if r.returncode != 0:
        log(f"simdjson baseline did not compile (is libsimdjson-dev installed?): {r.stderr.strip()[-300:]}")
        return None
    return exe


def build_vigil(args) -> tuple[str | None, str]:
    if args.vigil:
        return (args.vigil, "") if os.access(args.vigil, os.X_OK) else (None, f"{args.vigil} is not executable")
    exe = os.path.join(REPO, ".build-release", "release", "vigil")
    if not args.no_build:
        log("building vigil (swift build -c release --scratch-path .build-release)")
        r = subprocess.run(["swift", "build", "-c", "release", "--scratch-path", ".build-release", "--product", "vigil"],
                           cwd=REPO, stdout=sys.stderr)
        if r.returncode != 0:
            return None, "release build failed"
    return (exe, "") if os.access(exe, os.X_OK) else (None, "no release binary (.build-release/release/vigil)")


def probe(argv: list[str]) -> str:
    """Runs a command on a 1,000-record slice; returns '' if it works, else why not (e.g. 'not built yet')."""
    rc, _, _, _, tail = run_timed(argv)
    return "" if rc == 0 else (tail or f"exit {rc}")


def count_lines(path: str) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description="Vigil throughput benchmark (see Benchmarks/README.md).")
    ap.add_argument("--records", type=int, default=int(os.environ.get("BENCH_RECORDS", "1000000")),
                    help="records in the generated file (default 1000000, or $BENCH_RECORDS)")
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "0")) or None,
                    help="runs per step; the medians are kept (default 1, 3 with --stateful-only; or $BENCH_REPEAT)."
                         " Replays run in interleaved rounds")
    ap.add_argument("--vigil", help="use this vigil binary instead of building the release one")
    ap.add_argument("--no-build", action="store_true", help="do not run swift build; use .build-release as it is")
    ap.add_argument("--skip-jq", action="store_true")
    ap.add_argument("--skip-duckdb", action="store_true")
    ap.add_argument("--no-results", action="store_true", help="print only; do not append to Benchmarks/results/")
    ap.add_argument("--stateful-only", action="store_true",
                    help="run only the full-pack and stateless-only replays (the stateful cost and memory check)")
    args = ap.parse_args()
    repeat = args.repeat or (3 if args.stateful_only else 1)
    args.repeat = repeat

    os.makedirs(os.path.join(DATA, "out"), exist_ok=True)
    data = ensure_data(args.records)
    nbytes = os.path.getsize(data)
    n = args.records
    probe_file = os.path.join(DATA, "probe-1k.jsonl")
    head_lines(data, probe_file, 1000)
    # The first half of the input: the same event-time density (what the lateness window holds), half
    # the length, long enough for the caches and baselines to have filled. Memory that is flat over
    # the input is the same here and on the whole. (A tenth is not: on 100k records its 10k are
    # still filling them, 61 MB against 76 MB; the first half needs 76 MB too.)
    prefix_file = os.path.join(DATA, f"prefix-{label_for(n // 2)}.jsonl")
    head_lines(data, prefix_file, n // 2)
    results: list[Result] = []

    # Warm the page cache (the anchors are warm-cache numbers) and record raw read speed.
    results.append(best_of(1, "read the file (cat)", ["cat", data], n, nbytes, note="context, not a baseline"))

    baseline = None if args.stateful_only else build_baseline()
    if args.stateful_only:
        pass
    elif baseline:
        results.append(best_of(args.repeat, "simdjson on-demand, parse only (C++)", [baseline, "ondemand", data], n, nbytes,
                               note="baseline"))
        results.append(best_of(args.repeat, "simdjson DOM, full parse (C++)", [baseline, "dom", data], n, nbytes))
    else:
        results.append(Result("simdjson parse only (C++)", ok=False, note="unavailable: see message above"))

    if args.skip_jq or args.stateful_only:
        pass
    else:
        if shutil.which("jq"):
            if n <= JQ_SLICE:
                slice_path, k = data, n
            else:
                slice_path = os.path.join(DATA, f"slice-{label_for(JQ_SLICE)}.jsonl")
                k = head_lines(data, slice_path, JQ_SLICE)
            r = best_of(1, f"jq -c . ({label_for(k)} slice)", ["jq", "-c", "."], k, os.path.getsize(slice_path),
                        stdin_path=slice_path, note="per-second rates scale to the full file")
            results.append(r)
        else:
            results.append(Result("jq -c .", ok=False, note="unavailable: jq not installed"))

    if args.skip_duckdb or args.stateful_only:
        pass
    elif subprocess.run([sys.executable, "-c", "import duckdb"], capture_output=True).returncode == 0:
        for threads in (1, 2):
            results.append(best_of(args.repeat, f"DuckDB, 10 SQL rules, {threads} thread{'s' if threads > 1 else ''}",
                                   [sys.executable, os.path.join(HERE, "baseline", "duckdb_rules.py"), data,
                                    "--threads", str(threads)], n, nbytes, note="reference"))
    else:
        results.append(Result("DuckDB, 10 SQL rules", ok=False, note="unavailable: pip install duckdb"))

    vigil, no_vigil = build_vigil(args)
    why = no_vigil or probe([vigil, "events", "--fields", "vigil.operation", probe_file])
    if args.stateful_only:
        pass
    elif why:
        results.append(Result("vigil events --fields vigil.operation", ok=False, note=f"unavailable: {why}"))
    else:
        results.append(best_of(args.repeat, "vigil events --fields vigil.operation",
                               [vigil, "events", "--fields", "vigil.operation", data], n, nbytes))

    replay_sets: list[tuple[str, list[str]]] = []
    if os.path.isdir(os.path.join(REPO, "detections")):
        replay_sets.append((FULL_PACK, []))
        replay_sets.append((STATELESS, ["--rules", stateless_rules()]))
        if args.stateful_only:
            for label, folder, drop, ops in BREAKDOWN:
                replay_sets.append((label, ["--rules", pack_without(folder, drop, ops)]))
    else:
        results.append(Result("vigil replay, full pack", ok=False, note="unavailable: no detections/ folder yet"))
    for count in () if args.stateful_only else RULE_COUNTS:
        rules_dir = os.path.join(DATA, f"rules-{count}")
        if not os.path.isdir(rules_dir):
            subprocess.run([sys.executable, os.path.join(HERE, "gen_rules.py"), "--count", str(count), "--out", rules_dir],
                           check=True, stdout=subprocess.DEVNULL)
        replay_sets.append((f"vigil replay, {count} generated rules", ["--rules", rules_dir]))
    # Probes and memory references first; then the replays themselves in interleaved rounds (each
    # set once per round), so a slow spell of this noisy machine hits every set alike and the
    # full ÷ stateless-only ratio compares like with like.
    ready: list[tuple[str, list[str], str]] = []
    for name, rule_args in replay_sets:
        slug = "-".join("".join(c if c.isalnum() else " " for c in name.split(", ", 1)[1]).split()[:6])
        out = os.path.join(DATA, "out", f"alerts-{slug}.jsonl")
        state = out[: -len(".jsonl")] + ".state.db"
        argv = lambda src, rule_args=rule_args, state=state, out=out: [  # noqa: E731
            vigil, "replay", *rule_args, "--state", state, "--output", f"jsonl:{out}", src]
        reason = no_vigil or probe(argv(probe_file))
        if reason:
            results.append(Result(name, ok=False, note=f"unavailable: {reason}"))
            continue
        if name == FULL_PACK:
            # The same replay on the 1,000-record probe: the memory floor the big run is compared with.
            rc, _, _, rss, _ = run_timed(argv(probe_file))
            if rc == 0:
                results.append(Result("vigil replay, full pack, 1,000 records (memory floor)", 1000,
                                      os.path.getsize(probe_file), rss_kb=rss, note="peak RSS reference", ok=True,
                                      wall=0.0))
            rc, _, _, rss, _ = run_timed(argv(prefix_file))
            if rc == 0:
                results.append(Result(PREFIX_RUN, n // 2, os.path.getsize(prefix_file), rss_kb=rss,
                                      note="peak RSS reference", ok=True, wall=0.0))
        ready.append((name, argv(data), out))
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name, _, _ in ready}
    failed: dict[str, str] = {}
    for _ in range(repeat):
        for name, argv, _ in ready:
            if name in failed:
                continue
            rc, wall, cpu, rss, tail = run_timed(argv)
            if rc != 0:
                failed[name] = f"failed (exit {rc}): {tail}"[:160]
            else:
                runs[name].append((wall, cpu, rss))
    for name, _, out in ready:
        if name in failed:
            results.append(Result(name, n, nbytes, ok=False, note=failed[name]))
            continue
        r = median_result(name, runs[name], n, nbytes)
        r.note = f"{count_lines(out)} alerts"
        results.append(r)

    text = report(results, data, n, nbytes, args)
    print(text)
    if not args.no_results:
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        path = os.path.join(HERE, "results", datetime.now(timezone.utc).strftime("%Y-%m-%d") + ".md")
        with open(path, "a") as f:
            f.write(text + "\n")
        log(f"appended to {os.path.relpath(path, REPO)}")
    return 0


def report(results: list[Result], data: str, n: int, nbytes: int, args) -> str:
    base = next((r for r in results if r.note == "baseline" and r.ok), None)
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    cpu = "unknown CPU"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [f"## {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} — {label_for(n)} records "
             f"({nbytes / 1e6:,.0f} MB, {nbytes / max(n, 1):,.0f} B/record), commit {rev or '?'}",
             "",
             f"Host: {platform.node()}, {os.cpu_count()} CPUs ({cpu}), load average "
             f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end. Input `{os.path.relpath(data, REPO)}`; "
             f"median of {args.repeat} run(s) per step; warm page cache. `× baseline` compares MB/s with simdjson "
             "on-demand in this same invocation (higher is faster). CPU s > wall s means more than one core was busy."
             + ("" if os.access(TIME, os.X_OK) else " Peak RSS from wait4 (no /usr/bin/time): it includes the "
                "launching Python's RSS as a floor."),
             "",
             "| step | wall s | CPU s | MB/s | MB per CPU-s | records/s | peak RSS MB | × baseline | note |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        if not r.ok:
            lines.append(f"| {r.name} | — | — | — | — | — | — | — | {r.note} |")
            continue
        if r.wall == 0:   # a memory-only row
            lines.append(f"| {r.name} | — | — | — | — | — | {r.rss_kb / 1024:,.1f} | — | {r.note} |")
            continue
        ratio = f"{r.mbps / base.mbps:.2f}×" if base and base.mbps else "—"
        per_cpu = f"{r.nbytes / 1e6 / r.cpu:,.0f}" if r.cpu > 0 else "—"
        lines.append(f"| {r.name} | {r.wall:.2f} | {r.cpu:.2f} | {r.mbps:,.0f} | {per_cpu} | {r.rps:,.0f} | "
                     f"{r.rss_kb / 1024:,.1f} | {ratio} | {r.note} |")
    lines += ["", *targets(results)]
    return "\n".join(lines) + "\n"


def targets(results: list[Result]) -> list[str]:
    """The issues' targets, checked against this run (— when the step did not run)."""
    by = {r.name: r for r in results if r.ok}
    events = by.get("vigil events --fields vigil.operation")
    pack = by.get(FULL_PACK)
    stateless = by.get(STATELESS)
    floor = by.get("vigil replay, full pack, 1,000 records (memory floor)")
    prefix = by.get(PREFIX_RUN)
    r10, r1000 = by.get("vigil replay, 10 generated rules"), by.get("vigil replay, 1000 generated rules")
    duck1 = by.get("DuckDB, 10 SQL rules, 1 thread")

    def mark(ok):
        return "—" if ok is None else ("met" if ok else "NOT met")

    rows = [
        ("`vigil events` ≥ 1 GB/s", events and events.mbps >= 1000, events and f"{events.mbps:,.0f} MB/s"),
        ("`vigil events` peak RSS ≤ 100 MB", events and events.rss_kb <= 100 * 1024, events and f"{events.rss_kb / 1024:,.0f} MB"),
        ("replay, full pack ≥ 1 GB/s", pack and pack.mbps >= 1000, pack and f"{pack.mbps:,.0f} MB/s"),
        ("replay, full pack faster than DuckDB (1 thread)", pack and duck1 and pack.mbps > duck1.mbps,
         pack and duck1 and f"{pack.mbps / duck1.mbps:.2f}×"),
        ("1000 rules ≤ 2 × the time of 10 rules", r10 and r1000 and r1000.wall <= 2 * r10.wall,
         r10 and r1000 and f"{r1000.wall / r10.wall:.2f}×"),
        # CPU seconds, not wall: the stateful cost should not swing with other people's load.
        (f"stateful rules ≤ {STATEFUL_TARGET - 1:.0%} slower than stateless-only (full ÷ stateless-only CPU s)",
         pack and stateless and stateless.cpu > 0 and pack.cpu / stateless.cpu <= STATEFUL_TARGET,
         pack and stateless and stateless.cpu > 0 and
         f"{pack.cpu / stateless.cpu:.2f}× ({pack.cpu:.2f} ÷ {stateless.cpu:.2f} CPU s)"),
        # Absolute: the full input needs at most twice the memory of a 1,000-record replay (rules,
        # caches). A 1,000-record run does not fill the lateness window, so this also counts what the
        # window holds at the input's density, which does not grow with its length.
        ("replay, full pack: peak RSS ≤ 2 × the 1,000-record run",
         pack and floor and pack.rss_kb <= 2 * floor.rss_kb,
         pack and floor and f"{pack.rss_kb / 1024:,.0f} MB vs {floor.rss_kb / 1024:,.0f} MB "
                            f"({pack.rss_kb / floor.rss_kb:.2f}×) on {label_for(pack.records)} records"),
        # Flat (issue 4): twice the records at the same density need at most 1.1 × the memory.
        (f"replay, full pack: memory flat over the input (peak RSS ≤ {FLAT_TARGET} × its first half)",
         pack and prefix and pack.rss_kb <= FLAT_TARGET * prefix.rss_kb,
         pack and prefix and f"{pack.rss_kb / 1024:,.0f} MB vs {prefix.rss_kb / 1024:,.0f} MB "
                             f"({pack.rss_kb / prefix.rss_kb:.2f}×) on {label_for(pack.records)} records"),
    ]
    out = ["| target | result | measured |", "|---|---|---|"]
    for name, ok, measured in rows:
        out.append(f"| {name} | {mark(None if measured is None else bool(ok))} | {measured or '—'} |")
    return out


if __name__ == "__main__":
    sys.exit(main())
