//! `cargo run`: the course front door and a tour of the detector.

mod tour;

fn main() {
    tour::run();
}
