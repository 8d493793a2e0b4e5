//! `cargo bench` in the synckit crate: the benchmarks are not here. They are the crate in
//! this folder (`synckit-benches`), so that `cargo test` and a learner's first `cargo run`
//! never build criterion, the peer detectors, shuttle or loom. This target only says where
//! to go, and exits 2 (a usage error) unless it was only listed or compiled.

fn main() {
    // `cargo bench --no-run` never runs this; `--list` (cargo's own probe) must not fail.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    eprintln!(
        "synckit's benchmarks are their own crate, in benches/ (see benches/README.md):\n\
         \x20 bash benches/run.sh             criterion: synckit vs std, parking_lot and the peer detectors\n\
         \x20 bash benches/instructions.sh    callgrind instructions per operation\n\
         \x20 bash benches/explore_peers.sh   explore vs shuttle vs loom\n\
         \x20 cd benches && cargo bench --bench locks|peers|explore|gil"
    );
    std::process::exit(2);
}
