#!/usr/bin/env bash
# synckit's `testing::explore` beside shuttle and loom, on the same programs, in one run:
# schedules per second on the bounded queue, time to find a semaphore whose acquire waits
# with `if` instead of `while`, and peak memory. Markdown tables on stdout (also in
# target/explore-peers.md), progress on stderr, each measurement's JSON line in
# target/explore-peers/rows.jsonl and each tool's own output in target/explore-peers/*.log.
#
#   bash benches/explore_peers.sh             # about 40 s on 2 quiet cores, 3 minutes under load
#   bash benches/explore_peers.sh --no-run    # only build
#
# Budgets (seconds, environment): BUDGET=5 per throughput run of a random or open-ended
# search; SPACE=120 for the searches that end by themselves (synckit delay-bounded 2, loom
# with a preemption bound); LIMIT=30 per bug hunt; CHECK=2 per run of the correct semaphore;
# SEEDS="1 2 3 4 5" for the random modes of the bug hunt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"
BUDGET=${BUDGET:-5}
SPACE=${SPACE:-120}
LIMIT=${LIMIT:-30}
CHECK=${CHECK:-2}
SEEDS=${SEEDS:-1 2 3 4 5}

cd "$here"
cargo build --release --bin explore-peers
if [ "${1:-}" = "--no-run" ]; then
    exit 0
fi
if [ -n "${1:-}" ]; then
    echo "usage: bash benches/explore_peers.sh [--no-run]" >&2
    exit 2
fi
bin="$target/release/explore-peers"
out="$target/explore-peers"
rm -rf "$out"
mkdir -p "$out"
rows="$out/rows.jsonl"
unset SYNCKIT_SEED SYNCKIT_DEADLOCK LOOM_MAX_PREEMPTIONS LOOM_MAX_DURATION LOOM_MAX_PERMUTATIONS \
    LOOM_MAX_BRANCHES LOOM_LOG SHUTTLE_RANDOM_SEED

measure() { # tool mode workload seconds [seed]
    local log="$out/$1-$2-$3-${5:-1}.log"
    echo "explore_peers.sh: $* ..." >&2
    if ! "$bin" "$@" >>"$rows" 2>"$log"; then
        echo "explore_peers.sh: \`explore-peers $*\` failed; its output:" >&2
        cat "$log" >&2
        exit 1
    fi
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# 1. Schedules per second on the bounded queue.
measure synckit random queue "$BUDGET"
measure synckit delay2 queue "$SPACE"
measure shuttle random queue "$BUDGET"
measure shuttle pct queue "$BUDGET"
measure shuttle dfs queue "$BUDGET"
measure loom pb1 queue "$SPACE"
# 2. The `if` semaphore (two waiters, then a barger), and the correct one in the same scenario.
for w in if-all if-one; do
    for seed in $SEEDS; do
        measure synckit random "$w" "$LIMIT" "$seed"
    done
    measure synckit delay2 "$w" "$LIMIT"
    for seed in $SEEDS; do
        measure shuttle random "$w" "$LIMIT" "$seed"
        measure shuttle pct "$w" "$LIMIT" "$seed"
    done
    measure shuttle dfs "$w" "$LIMIT"
    measure loom pb1 "$w" "$LIMIT"
    measure loom pb2 "$w" "$LIMIT"
done
for tm in "synckit random" "synckit delay2" "shuttle random" "shuttle pct" "shuttle dfs" "loom pb1" "loom pb2"; do
    # shellcheck disable=SC2086 # two words on purpose
    measure $tm while-one "$CHECK"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$rows" "$load_before" "$load_after" "$(git -C "$root" rev-parse --short HEAD)" <<'PY' | tee "$target/explore-peers.md"
import json, statistics, sys
from datetime import datetime, timezone

rows = [json.loads(l) for l in open(sys.argv[1])]
load_before, load_after, commit = sys.argv[2:5]
NAMES = {
    ("synckit", "random"): "synckit random",
    ("synckit", "delay2"): "synckit delay-bounded 2",
    ("shuttle", "random"): "shuttle random",
    ("shuttle", "pct"): "shuttle PCT (depth 3)",
    ("shuttle", "dfs"): "shuttle DFS",
    ("loom", "pb1"): "loom, preemption bound 1",
    ("loom", "pb2"): "loom, preemption bound 2",
}
ORDER = list(NAMES)

def pick(workload):
    out = {}
    for r in rows:
        if r["workload"] == workload:
            out.setdefault((r["tool"], r["mode"]), []).append(r)
    return out

def n(x):
    return f"{x:,.0f}"

def s(x):
    if x < 0.001:
        return f"{x * 1e6:.0f} µs"
    if x < 1:
        return f"{x * 1000:.1f} ms"
    return f"{x:.2f} s" if x < 10 else f"{x:.1f} s"

def mib(kib):
    return f"{kib / 1024:.1f} MiB"

print("##### Schedules per second: the bounded queue (2 producers + 2 consumers x 3 items, capacity 1)")
print()
print("| tool, mode | schedules | seconds | schedules/s | CPU seconds | schedules per CPU-second | whole bounded space | peak RSS |")
print("|---|---:|---:|---:|---:|---:|---|---:|")
queue = pick("queue")
for key in ORDER:
    for r in queue.get(key, []):
        space = {True: "yes", False: "no (stopped at the budget)", None: "n/a (random)"}[r["complete"]]
        print(f"| {NAMES[key]} | {n(r['schedules'])} | {r['seconds']:.2f} | "
              f"{n(r['schedules'] / max(r['seconds'], 1e-9))} | {r['cpu_s']:.2f} | "
              f"{n(r['schedules'] / max(r['cpu_s'], 1e-9))} | {space} | {mib(r['peak_rss_kib'])} |")
print()

def bug_cell(runs):
    found = [r for r in runs if r["hit_s"] is not None]
    if len(runs) == 1:
        r = runs[0]
        if found:
            return (f"hit at schedule {n(r['hit_schedules'])}, {s(r['hit_s'])}; "
                    f"reported at {s(r['seconds'])}")
        if r["complete"]:
            return f"**not found**: whole space, {n(r['schedules'])} schedules"
        return f"**not found** in {s(r['seconds'])} ({n(r['schedules'])} schedules)"
    text = f"{len(found)}/{len(runs)} seeds"
    if found:
        sched = sorted(r["hit_schedules"] for r in found)
        hit = statistics.median(r["hit_s"] for r in found)
        rep = statistics.median(r["seconds"] for r in found)
        text += (f": median schedule {n(statistics.median(sched))} ({n(sched[0])}-{n(sched[-1])}), "
                 f"{s(hit)}; reported at {s(rep)}")
    return text

def check_cell(runs):
    r = runs[0]
    if r["failed"]:
        return "**failed** (the scenario is wrong)"
    whole = ", whole space" if r["complete"] else ""
    return f"no failure in {n(r['schedules'])} schedules{whole}"

print(f"##### Time to find the `if` semaphore (two waiters, one release, then a third thread; limit {rows and max(r['budget_s'] for r in rows if r['workload'].startswith('if'))} s per search)")
print()
print("| tool, mode | `if`, release wakes all | `if`, release wakes one | `while` (correct), same scenario | peak RSS (largest run) |")
print("|---|---|---|---|---:|")
all_, one, ok = pick("if-all"), pick("if-one"), pick("while-one")
for key in ORDER:
    if key not in all_ and key not in ok:
        continue
    peak = max(r["peak_rss_kib"] for d in (all_, one, ok) for r in d.get(key, []))
    cells = [bug_cell(all_[key]) if key in all_ else "-",
             bug_cell(one[key]) if key in one else "-",
             check_cell(ok[key]) if key in ok else "-"]
    print(f"| {NAMES[key]} | {' | '.join(cells)} | {mib(peak)} |")
print()
now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
print(f"`bash benches/explore_peers.sh`, {now}, synckit at {commit}, shuttle 0.9, loom 0.7, release "
      f"builds; load average {load_before} before, {load_after} after. Seconds are wall-clock from the "
      "process's start; \"hit\" is when the program first let a thread through without a permit, "
      "\"reported\" when the tool returned its failure. CPU seconds: the process's user + system time, "
      "all threads (getrusage), which a loaded machine inflates less than wall-clock time. "
      "Each measurement is its own process (peak RSS: VmHWM).")
PY
