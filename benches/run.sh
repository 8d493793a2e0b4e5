#!/usr/bin/env bash
# The full side-by-side benchmark: synckit, std, parking_lot and the peer detectors in one
# process, then the peers' detecting builds (parking_lot + deadlock_detection, deloxide +
# lock-order-graph) in a second one, then the markdown table. About 7 minutes on 2 cores.
#
#   bash benches/run.sh              # everything
#   bash benches/run.sh contended_2x100k   # one group (a criterion filter; the extras honour it too)
#   bash benches/run.sh --no-run     # only build both
#
# Output: target/criterion-peers, target/criterion-detectors, target/bench-table.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"

cd "$here"
# Build both first, so that no compiler runs while the other one measures.
cargo bench --bench peers --no-run
cargo bench --bench peers --features detectors --no-run
if [ "${1:-}" = "--no-run" ]; then
    exit 0
fi

rm -rf "$target/criterion-peers" "$target/criterion-detectors"
CRITERION_HOME="$target/criterion-peers" cargo bench --bench peers -- "$@"
CRITERION_HOME="$target/criterion-detectors" cargo bench --bench peers --features detectors -- "$@"

python3 "$here/table.py" "$target/criterion-peers" "$target/criterion-detectors" | tee "$target/bench-table.md"
