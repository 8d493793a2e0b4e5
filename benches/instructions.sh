#!/usr/bin/env bash
# Instructions per operation, counted by callgrind, for synckit (detector on and off), std,
# parking_lot (plain and with deadlock_detection), deloxide (plain and with its lock-order
# graph) and tracing-mutex: a markdown table on stdout, progress on stderr.
#
#   bash benches/instructions.sh              # build both builds, count, print the table
#   bash benches/instructions.sh --no-run     # only build
#
# Method (deterministic: the same count on every run of the same binary): each count runs
# `instructions IMPL WORKLOAD N` under callgrind for N = $LOW and N = $HIGH and prints
# (total(HIGH) - total(LOW)) / (HIGH - LOW): start-up, first use of thread-locals and
# statics, and exit cancel out. The loop around the operation (2-3 instructions: a counter
# and a branch) is included for every implementation alike. Needs valgrind
# (`apt-get install valgrind`). Output also in target/instructions.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"
LOW=${LOW:-1000}
HIGH=${HIGH:-101000}
out="$target/instructions"

cd "$here"
# Two builds: cargo unifies features, so parking_lot's deadlock_detection (and deloxide's
# lock-order graph) can only be measured in a build of their own, where they are on for
# every user of those crates, synckit included; that build measures only std and the peers.
cargo build --release --bin instructions
mkdir -p "$out"
cp "$target/release/instructions" "$out/plain"
cargo build --release --bin instructions --features detectors
cp "$target/release/instructions" "$out/detectors"
if [ "${1:-}" = "--no-run" ]; then
    exit 0
fi
if [ -n "${1:-}" ]; then
    echo "usage: bash benches/instructions.sh [--no-run]" >&2
    exit 2
fi
if ! command -v valgrind >/dev/null; then
    echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2
    exit 2
fi
# The detector's policy comes from the environment too: measure the default.
unset SYNCKIT_DEADLOCK SYNCKIT_BACKTRACE SYNCKIT_WATCHDOG

total() { # binary impl workload n -> callgrind's total instruction count
    local file="$out/cg.out"
    valgrind --tool=callgrind --callgrind-out-file="$file" --log-file="$out/valgrind.log" \
        "$1" "$2" "$3" "$4" >/dev/null
    awk '/^summary:/ { print $2 }' "$file"
}

# Columns: build;short name;heading. Rows: workload;title.
columns=(
    "plain;parking_lot;parking_lot"
    "plain;std;std"
    "plain;synckit-off;synckit off"
    "plain;synckit;**synckit on**"
    "detectors;parking_lot;parking_lot +deadlock_detection†"
    "plain;deloxide;deloxide 1.1"
    "detectors;deloxide;deloxide +lock-order-graph†"
    "plain;tracing-mutex;tracing-mutex 0.3"
)
workloads=(
    "uncontended;uncontended acquire + release"
    "nested2;nested, 2 levels (acquire A, B; release B, A)"
    "nested4;nested, 4 levels (acquire A, B, C, D; release D, C, B, A)"
    "create;create + first acquire + drop"
)

{
    header="| workload |"
    rule="|---|"
    for c in "${columns[@]}"; do
        IFS=';' read -r _ _ heading <<<"$c"
        header+=" $heading |"
        rule+="---:|"
    done
    echo "$header"
    echo "$rule"
    for w in "${workloads[@]}"; do
        IFS=';' read -r workload title <<<"$w"
        row="| $title |"
        for c in "${columns[@]}"; do
            IFS=';' read -r build short heading <<<"$c"
            echo "instructions.sh: $workload, $short ($build build)..." >&2
            lo=$(total "$out/$build" "$short" "$workload" "$LOW")
            hi=$(total "$out/$build" "$short" "$workload" "$HIGH")
            # One decimal, and only where the difference does not divide evenly.
            per=$(python3 -c "print(f'{($hi - $lo) / ($HIGH - $LOW):,.1f}'.removesuffix('.0'))")
            case "$heading" in \*\**) per="**$per**" ;; esac
            row+=" $per |"
        done
        echo "$row"
    done
    echo
    echo "Instructions per operation: callgrind, (total(N=$HIGH) - total(N=$LOW)) / $((HIGH - LOW)),"
    echo "release builds, $(date -u +%Y-%m-%d), synckit at $(git -C "$root" rev-parse --short HEAD)."
    echo "† from the \`--features detectors\` build: cargo unifies features, so there parking_lot's"
    echo "deadlock_detection and deloxide's lock-order graph are on for every user of those crates."
} | tee "$target/instructions.md"
