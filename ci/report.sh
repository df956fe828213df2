#!/bin/bash
# Merge the per-stage checks and metrics into out/report.json and print a short summary.
# Exit 1 when any check failed ("flaky", "skip", "met" and "missed" do not fail a run).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$XA_OUT/report"
shopt -s nullglob
# A file of JSON lines as one array; a stage may have metrics and no checks, or the reverse.
json_lines() { if [ -s "$1" ]; then jq -s . "$1"; else echo '[]'; fi; }
stages=()
for f in *.checks *.metrics; do stages+=("${f%.*}"); done
mapfile -t stages < <(printf '%s\n' "${stages[@]}" | sort -u)
{
    echo '{"stages": {'
    sep=
    for s in "${stages[@]}"; do
        printf '%s"%s": {"checks": %s, "metrics": %s}' "$sep" "$s" \
            "$(json_lines "$s.checks")" "$(json_lines "$s.metrics")"
        sep=,
    done
    echo '}}'
} | jq . >"$XA_OUT/report.json"
jq -r '.stages | to_entries[] | .key as $s | .value.checks[] |
       "\(.result | ascii_upcase)\t\($s)\t\(.name)\t\(.detail)"' "$XA_OUT/report.json" \
    | column -t -s $'\t' >"$XA_OUT/summary.txt" || true
jq -r '.stages | to_entries[] | .key as $s | .value.metrics[] |
       "metric\t\($s)\t\(.name)\t\(.value) \(.unit)"' "$XA_OUT/report.json" \
    | column -t -s $'\t' >>"$XA_OUT/summary.txt" || true
pass=$(jq '[.stages[].checks[] | select(.result=="pass")] | length' "$XA_OUT/report.json")
fail=$(jq '[.stages[].checks[] | select(.result=="fail")] | length' "$XA_OUT/report.json")
skip=$(jq '[.stages[].checks[] | select(.result=="skip")] | length' "$XA_OUT/report.json")
met=$(jq '[.stages[].checks[] | select(.result=="met")] | length' "$XA_OUT/report.json")
missed=$(jq '[.stages[].checks[] | select(.result=="missed")] | length' "$XA_OUT/report.json")
# A boot that failed and passed when run once more (stage boot): not a failure, never hidden.
flaky=$(jq -r '[.stages | to_entries[] | select(any(.value.checks[]; .result=="flaky")) | .key] | join(" ")' \
    "$XA_OUT/report.json")
cat "$XA_OUT/summary.txt"
echo
echo "report: $XA_OUT/report.json"
echo "performance goals: $met met, $missed missed"
[ -z "$flaky" ] || echo "flaky: $flaky: failed, then passed when run once more (see their \"first attempt\" check)"
# Last, alone on its line: the closing line CI reads.
echo "pipeline: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
