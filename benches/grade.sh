#!/usr/bin/env bash
# The grading benchmark (DESIGN.md: "100 small submissions in at most 5 minutes on 2 cores
# once synckit is built"): a class of N submissions (default 100) made from the examples in
# examples/submissions, graded with the default options by `cargo run --release -- grade`.
#
#   bash benches/grade.sh            # 100 submissions, one shared link (what the grader does)
#   bash benches/grade.sh 20 apart   # 20 submissions, one link per submission (to compare)
#
# The class: the 11 quick examples in turn (ok, deadlock, inversion, lost wake-up, panic,
# compile errors, a folder), plus 2 copies of `spin` (stalled at the 10 s deadline) and 2 of
# `slow` (killed at the 30 s limit), as a real class has a few. Each copy gets a comment
# with its number, so no two files are the same. Prints the grader's own phase timings
# (synckit build, compile, link, run) and the wall-clock total.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100}
mode=${2:-shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
subs="$work/class"
mkdir -p "$subs"

quick=(ordered ab_ba reentrant overdraft_check audit_inversion lost_wakeup waits_for_funds fee_bug typo no_program multi)
slow_ones=4
for ((i = 0; i < n; i++)); do
    if ((i < slow_ones)); then
        if ((i % 2 == 0)); then kind=spin; else kind=slow; fi
    else
        kind=${quick[$(((i - slow_ones) % ${#quick[@]}))]}
    fi
    name=$(printf "student_%03d_%s" "$i" "$kind")
    if [ -d "$root/examples/submissions/$kind" ]; then
        cp -r "$root/examples/submissions/$kind" "$subs/$name"
        echo "// student $i" >> "$subs/$name/lib.rs"
    else
        cp "$root/examples/submissions/$kind.rs" "$subs/$name.rs"
        echo "// student $i" >> "$subs/$name.rs"
    fi
done

cd "$root"
cargo build --release --quiet
if [ "$mode" = "apart" ]; then
    export SYNCKIT_GRADE_LINK=apart
fi
start=$(date +%s.%N)
status=0
cargo run --release --quiet -- grade "$subs" --json "$work/grades.json" --out "$work/report" \
    > "$work/table.txt" 2> "$work/stderr.txt" || status=$?
end=$(date +%s.%N)
grep -E '^[0-9]+ submissions?:' "$work/table.txt" || true
grep -E '^(time|reports)' "$work/stderr.txt" || true
# What each verdict cost (the grader's own per-submission seconds), and the JSON kept.
mkdir -p "${CARGO_TARGET_DIR:-$root/target}"
cp "$work/grades.json" "${CARGO_TARGET_DIR:-$root/target}/grade-bench.json"
if command -v python3 >/dev/null; then
    python3 - "$work/grades.json" <<'PY'
import collections, json, sys
seconds = collections.defaultdict(list)
for row in json.load(open(sys.argv[1])):
    seconds[row["verdict"]].append(row["seconds"])
for verdict, s in sorted(seconds.items()):
    s.sort()
    print(f"  {verdict:14} {len(s):3} submissions: {s[0]:.2f} s to {s[-1]:.2f} s, median {s[len(s) // 2]:.2f} s")
PY
fi
echo "grade.sh: $n submissions ($mode link) graded in $(awk "BEGIN { printf \"%.1f\", $end - $start }") s wall, exit $status, on $(nproc) cores"
