#!/usr/bin/env bash
# Renders a Vigil HTML report in headless Chromium and writes a PNG screenshot.
#   scripts/render-report.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]
# Default OUT is REPORT.png beside the report; default size 1400x2000. Needs Debian's `chromium`
# (apt-get install -y chromium). Networking is disabled for the render: the report must need none.
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
report=$1
out=${2:-${report%.html}.png}
size=${3:-1400x2000}
[[ -f $report ]] || { echo "render-report: no file $report" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[[ -n $browser ]] || { echo "render-report: chromium not found (apt-get install -y chromium)" >&2; exit 1; }

abs_report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
abs_out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

# --proxy-server to a closed port makes any network fetch fail loudly instead of leaving the machine.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$profile" --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>' \
    --window-size="${size/x/,}" --screenshot="$abs_out" "file://$abs_report" >/dev/null 2>"$profile/stderr" || {
        cat "$profile/stderr" >&2; exit 1; }
[[ -s $abs_out ]] || { echo "render-report: chromium wrote no screenshot" >&2; cat "$profile/stderr" >&2; exit 1; }
echo "$abs_out"
