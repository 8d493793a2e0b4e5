#!/usr/bin/env bash
# Builds every target of the benchmark crate, in both of its builds (plain, and with the
# peers' detecting features), and checks that it is formatted and lint-clean: what CI runs
# (.ci/run) so that no benchmark rots. Measures nothing.
#
#   bash benches/build.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

cd "$here"
cargo fmt --check
for features in "" detectors; do
    flags=()
    if [ -n "$features" ]; then
        flags=(--features "$features")
    fi
    cargo clippy --all-targets "${flags[@]}" -- -D warnings
    # The criterion benches, then the instruments of instructions.sh and explore_peers.sh
    # (the same release artifacts: the bench profile inherits release's).
    cargo bench --no-run "${flags[@]}"
    cargo build --release --bins "${flags[@]}"
done
