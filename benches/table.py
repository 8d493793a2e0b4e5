#!/usr/bin/env python3
"""Prints criterion results as markdown tables: per group, the median of each
implementation and its ratio to parking_lot::Mutex, then the extra measurements
(RSS, detection latency, deadline-bounded runs) from extras.jsonl.

    python3 benches/table.py MAIN_DIR [OTHER_DIR ...]

MAIN_DIR is a criterion output directory (CRITERION_HOME, e.g. target/criterion-peers) whose
run measured plain parking_lot::Mutex: ratios are to that. OTHER_DIRs are runs that could
not measure it in the same process (the `detectors` build, where cargo's feature
unification turns on parking_lot's deadlock_detection for everyone): their rows are marked
† and also divided by the main run's parking_lot; std::sync::Mutex, measured by every run,
is shown as a drift figure (its time there / its time in the main run) to bound the noise
between the two processes. Only the standard library is used.
"""

import json
import os
import platform
import subprocess
import sys
from datetime import date

BASELINE = "parking_lot::Mutex"
ANCHOR = "std::sync::Mutex"
GROUP_ORDER = [
    "uncontended",
    "nested_2",
    "nested_4",
    "contended_2x100k",
    "create_drop",
    "gated_random_1000",
    "check_overhead",
]
GROUP_TITLE = {
    "uncontended": "1. uncontended acquire + release (one thread, one lock, increment)",
    "nested_2": "2a. nested acquire in a known order, 2 levels",
    "nested_4": "2b. nested acquire in a known order, 4 levels",
    "contended_2x100k": "3. contended: 2 threads x 100,000 increments on one lock (time per run)",
    "create_drop": "4. create + first acquire + drop",
    "gated_random_1000": "5. 1,000 live locks, two taken in random order under a gate lock",
    "check_overhead": "7. check overhead (producer/consumer)",
}
# DESIGN.md "Performance budget": (group, implementation) -> max ratio to parking_lot.
TARGETS = {
    ("uncontended", "synckit::Lock"): 1.5,
    ("uncontended", "synckit::Lock (off)"): 1.2,
    ("nested_2", "synckit::Lock"): 2.0,
    ("nested_4", "synckit::Lock"): 2.0,
    ("contended_2x100k", "synckit::Lock"): 1.4,  # time; throughput >= 0.7x
    ("create_drop", "synckit::Lock"): 2.0,
}


def load(directory):
    """{group: {impl: median_ns}}, in the order files are found."""
    out = {}
    for root, _dirs, files in os.walk(directory):
        if os.path.basename(root) != "new" or "estimates.json" not in files:
            continue
        try:
            with open(os.path.join(root, "benchmark.json")) as f:
                bench = json.load(f)
            with open(os.path.join(root, "estimates.json")) as f:
                est = json.load(f)
        except (OSError, ValueError):
            continue
        group = bench.get("group_id")
        name = bench.get("function_id") or bench.get("value_str") or "?"
        out.setdefault(group, {})[name] = est["median"]["point_estimate"]
    return out


def load_extras(directory):
    path = os.path.join(directory, "extras.jsonl")
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    rows.append(json.loads(line))
    return rows


def fmt_time(ns):
    if ns is None:
        return "n/a"
    if ns < 1e3:
        return f"{ns:.1f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"


def impl_order(name):
    order = [
        "std::sync::Mutex",
        "parking_lot::Mutex",
        "parking_lot::Mutex +deadlock_detection",
        "synckit::Lock",
        "synckit::Lock (off)",
        "synckit::RLock",
        "synckit::Semaphore(1)",
        "tracing_mutex::Mutex",
        "deloxide::Mutex",
        "deloxide::Mutex +lock-order-graph",
        "no_deadlocks::Mutex",
    ]
    return order.index(name) if name in order else len(order)


def machine():
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {model or platform.processor()}, {platform.system()} {platform.release()}"


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    main_dir, others = argv[1], argv[2:]
    runs = [(main_dir, load(main_dir))] + [(d, load(d)) for d in others]
    base = runs[0][1]
    print(f"Machine: {machine()}; date: {date.today().isoformat()}.")
    print(f"Medians from criterion; ratio = median / median of `{BASELINE}` in the same group.")
    print()
    groups = []
    for _d, data in runs:
        for g in data:
            if g not in groups:
                groups.append(g)
    groups.sort(key=lambda g: GROUP_ORDER.index(g) if g in GROUP_ORDER else 99)
    for group in groups:
        print(f"#### {GROUP_TITLE.get(group, group)}")
        print()
        contended = group.startswith("contended")
        print("| implementation | median | ratio to parking_lot" + (" | throughput ratio" if contended else "") + " | target |")
        print("|---|---:|---:|" + ("---:|" if contended else "") + "---|")
        pl = base.get(group, {}).get(BASELINE)
        rows = []
        for i, (d, data) in enumerate(runs):
            for name, ns in data.get(group, {}).items():
                if i > 0 and name == ANCHOR:
                    continue  # the anchor is shown once, from the main run
                if i > 0 and name == BASELINE:
                    continue
                rows.append((name, ns, ns / pl if pl else None, i > 0))
        rows.sort(key=lambda r: impl_order(r[0]))
        for name, ns, ratio, anchored in rows:
            target = TARGETS.get((group, name))
            verdict = ""
            if target is not None and ratio is not None:
                verdict = f"≤ {target}×: " + ("**holds**" if ratio <= target else "**missed**")
            ratio_s = "n/a" if ratio is None else f"{ratio:.2f}×" + ("†" if anchored else "")
            cells = [f"`{name}`", fmt_time(ns), ratio_s]
            if contended:
                cells.append("n/a" if not ratio else f"{1 / ratio:.2f}×")
            cells.append(verdict)
            print("| " + " | ".join(cells) + " |")
        drift = []
        for d, data in runs[1:]:
            std_here = data.get(group, {}).get(ANCHOR)
            std_main = base.get(group, {}).get(ANCHOR)
            if std_here and std_main:
                drift.append(f"{std_here / std_main:.2f}×")
        if drift:
            print()
            print(f"† from the `detectors` build (a second process, right after); `{ANCHOR}` there ran at "
                  + ", ".join(drift) + " of its time here, which bounds the run-to-run noise.")
        print()
    extras = []
    for d, _data in runs:
        extras.extend(load_extras(d))
    if extras:
        print("#### Extra measurements")
        print()
        print("| group | implementation | metric | value | note |")
        print("|---|---|---|---:|---|")
        for e in extras:
            v = e.get("value")
            unit = e.get("unit", "")
            if v is None:
                vs = "n/a"
            elif abs(v) >= 100 or float(v).is_integer():
                vs = f"{v:,.0f} {unit}"
            else:
                vs = f"{v:.1f} {unit}"
            print(f"| {e['group']} | `{e['impl']}` | {e['metric']} | {vs} | {e.get('note', '')} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
