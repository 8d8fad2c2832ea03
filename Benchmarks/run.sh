#!/usr/bin/env bash
# `make bench`: generates bench-data/activity-1m.jsonl if absent (about 2.9 GB, git-ignored), builds the
# simdjson baseline and the release vigil, and runs every step in one invocation. Options and the
# BENCH_RECORDS / BENCH_REPEAT variables are described in Benchmarks/README.md; e.g.
#   Benchmarks/run.sh --records 50000
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || { echo "bench: python3 is required" >&2; exit 1; }
exec python3 Benchmarks/bench.py "$@"
