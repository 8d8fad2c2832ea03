#!/usr/bin/env bash
# Crash suite: `vigil replay` is killed with SIGKILL at seeded random points and restarted on the
# same state DB and JSON-lines sink until a run completes; the sink must then hold every alert and
# every incident (at its final revision) of a clean run, and nothing else.
#
#   scripts/chaos/crash.sh [RUNS] [SEED]      (defaults: 20 runs, seed 1)
#   VIGIL=path/to/vigil  INCIDENT_GROUPS=200  NOISE=40000  MAX_KILLS=3
#
# Each run kills 1..MAX_KILLS times at points drawn uniformly from the clean run's duration, then
# lets the last start finish. Exit 0 when every run matches; figures are printed at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VIGIL="${VIGIL:-$ROOT/.build/debug/vigil}"
RUNS="${1:-20}"
SEED="${2:-1}"
INCIDENT_GROUPS="${INCIDENT_GROUPS:-200}"
NOISE="${NOISE:-40000}"
MAX_KILLS="${MAX_KILLS:-3}"
RULE="$ROOT/detections/identity/storage_account_keys_listed_by_user.yml"
WORK="$(mktemp -d /tmp/vigil-crash.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
[ -x "$VIGIL" ] || { echo "crash.sh: no vigil binary at $VIGIL (run swift build)" >&2; exit 2; }

expect="$(python3 "$ROOT/scripts/chaos/gen-workload.py" "$WORK/input" --groups "$INCIDENT_GROUPS" --noise "$NOISE")"
want_inc="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["incidents"])' "$expect")"
want_alerts="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["alerts"])' "$expect")"
echo "workload: $expect"
[ "$want_inc" -gt 0 ] || { echo "crash.sh: the workload has no incidents" >&2; exit 2; }

replay() {  # replay STATE SINK
    "$VIGIL" replay "$WORK/input" --rules "$RULE" --state "$1" --output "jsonl:$2" --quiet \
        >>"$WORK/out.log" 2>>"$WORK/err.log"
}

start=$(date +%s.%N)
replay "$WORK/clean.db" "$WORK/clean.jsonl"
clean_s=$(python3 -c "import sys; print(round($(date +%s.%N) - $start, 3))")
python3 "$ROOT/scripts/chaos/verify-sink.py" "$WORK/clean.jsonl" "$WORK/clean.jsonl" \
    --expect-incidents "$want_inc" --expect-alerts "$want_alerts" >/dev/null ||
    { echo "clean run does not hold the expected incidents:"; python3 "$ROOT/scripts/chaos/verify-sink.py" "$WORK/clean.jsonl" "$WORK/clean.jsonl" --expect-incidents "$want_inc" --expect-alerts "$want_alerts"; exit 1; }
echo "clean run: ${clean_s}s, $want_inc incidents, $want_alerts alerts"

RANDOM=$SEED
total_kills=0 total_redelivered=0 failed=0 early=0
for run in $(seq 1 "$RUNS"); do
    db="$WORK/run$run.db" sink="$WORK/run$run.jsonl"
    kills=$(( RANDOM % MAX_KILLS + 1 ))
    points=()
    for k in $(seq 1 "$kills"); do
        # A point in (0, clean duration]: 15-bit RANDOM scaled to milliseconds.
        ms=$(python3 -c "print(max(20, int($clean_s * 1000 * $RANDOM / 32767)))")
        "$VIGIL" replay "$WORK/input" --rules "$RULE" --state "$db" --output "jsonl:$sink" --quiet \
            >>"$WORK/out.log" 2>>"$WORK/err.log" &
        pid=$!
        sleep "$(python3 -c "print($ms / 1000)")"
        if kill -9 "$pid" 2>/dev/null; then
            total_kills=$((total_kills + 1)); points+=("${ms}ms")
        else
            early=$((early + 1)); points+=("${ms}ms(finished first)")
        fi
        wait "$pid" 2>/dev/null || true
    done
    replay "$db" "$sink" || { echo "run $run: final replay failed (exit $?)"; tail -5 "$WORK/err.log"; failed=$((failed + 1)); continue; }
    if result=$(python3 "$ROOT/scripts/chaos/verify-sink.py" "$WORK/clean.jsonl" "$sink"); then :; else failed=$((failed + 1)); fi
    redelivered=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["redelivered"])' "$result")
    total_redelivered=$((total_redelivered + redelivered))
    # The state DB and the sink are private to the owner.
    for f in "$db" "$sink"; do
        mode=$(stat -c %a "$f"); [ "$mode" = 600 ] || { echo "run $run: $f has mode $mode"; failed=$((failed + 1)); }
    done
    echo "run $run: kills at ${points[*]} → $result"
    rm -f "$db" "$db-wal" "$db-shm" "$sink"
done
echo "crash suite: $RUNS runs, $total_kills SIGKILLs ($early starts finished before their kill point), $total_redelivered re-delivered lines, $failed failed runs"
[ "$failed" = 0 ]
