//! Decide the litmus files named on the command line and print the
//! herd7-style report with the time taken (a development aid).

use std::time::{Duration, Instant};

fn main() {
    for path in std::env::args().skip(1) {
        let src = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{path}: cannot read: {e}");
                continue;
            }
        };
        let start = Instant::now();
        let defaults = sashiko_lkmm::Options::default();
        let options = sashiko_lkmm::Options {
            deadline: Some(start + Duration::from_secs(120)),
            // LKMM_MAX_CANDIDATES overrides the counting limit.
            max_candidates: std::env::var("LKMM_MAX_CANDIDATES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(defaults.max_candidates),
        };
        match sashiko_lkmm::check_litmus(&src, &options) {
            Ok(o) => print!(
                "{}candidates {} in {:.3} s\n\n",
                o.render_herd(),
                o.candidates,
                start.elapsed().as_secs_f64()
            ),
            Err(e) => println!("{path}: {e} after {:.3} s", start.elapsed().as_secs_f64()),
        }
    }
}
