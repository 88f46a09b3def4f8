//! Progress for a person watching a terminal: stage lines with elapsed
//! time and tokens, bars for batches, one line per worker job.
//!
//! All of it goes to standard error, and only when standard error is a
//! terminal and `--quiet` was not given; a pipe, a file, a log collector
//! or a `--format json` reader sees none of it (standard output never
//! carries progress). A bar is one line redrawn in place at most ten
//! times a second; [`crate::term::write_stderr`] clears it before any
//! other line so messages never mix with it. Nothing here decides
//! anything: it only shows counts it is handed.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ENABLED: AtomicBool = AtomicBool::new(false);
/// True while a bar is drawn on the current line.
static BAR_DRAWN: AtomicBool = AtomicBool::new(false);

/// Turns progress on when standard error is a terminal and the user did
/// not ask for quiet.
pub fn init(quiet: bool) {
    ENABLED.store(!quiet && std::io::stderr().is_terminal(), Ordering::Relaxed);
}

/// True when progress is shown.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Erases a bar drawn on the current line, if any.
pub fn clear_line() {
    if BAR_DRAWN.swap(false, Ordering::Relaxed) {
        let _ = std::io::stderr().lock().write_all(b"\r\x1b[2K");
    }
}

/// One progress line (`sashiko: {text}`), shown only when enabled.
pub fn line(text: &str) {
    if enabled() {
        crate::term::errln!("sashiko: {text}");
    }
}

/// Seconds with one decimal, e.g. `3.4 s`.
pub fn seconds(elapsed: Duration) -> String {
    format!("{:.1} s", elapsed.as_secs_f64())
}

/// A counted batch shown as `label [#####-----] 12/40 3.1 s`.
pub struct Bar {
    state: Mutex<BarState>,
}

struct BarState {
    label: String,
    total: u64,
    done: u64,
    started: Instant,
    last_drawn: Option<Instant>,
}

/// Width of the bar between the brackets.
const BAR_WIDTH: u64 = 30;
const REDRAW_EVERY: Duration = Duration::from_millis(100);

impl Bar {
    /// A bar of `total` steps (0 when unknown: then only the count shows).
    pub fn new(label: &str, total: u64) -> Bar {
        let bar = Bar {
            state: Mutex::new(BarState {
                label: sashiko_safetext::visible_controls(label).into_owned(),
                total,
                done: 0,
                started: Instant::now(),
                last_drawn: None,
            }),
        };
        bar.draw(true);
        bar
    }

    /// Counts `steps` more done.
    pub fn advance(&self, steps: u64) {
        if let Ok(mut state) = self.state.lock() {
            state.done = state.done.saturating_add(steps);
        }
        self.draw(false);
    }

    /// Erases the bar and leaves `summary` (with the elapsed time) as a
    /// line of its own.
    pub fn finish(&self, summary: &str) {
        let elapsed = match self.state.lock() {
            Ok(state) => state.started.elapsed(),
            Err(_) => Duration::ZERO,
        };
        line(&format!("{summary} ({})", seconds(elapsed)));
        clear_line();
    }

    fn draw(&self, force: bool) {
        if !enabled() {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        let due = state
            .last_drawn
            .is_none_or(|last| now.duration_since(last) >= REDRAW_EVERY);
        if !force && !due && state.done != state.total {
            return;
        }
        state.last_drawn = Some(now);
        let text = render_bar(
            &state.label,
            state.done,
            state.total,
            state.started.elapsed(),
        );
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K{text}");
        let _ = stderr.flush();
        BAR_DRAWN.store(true, Ordering::Relaxed);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        clear_line();
    }
}

/// The bar's text (no control sequences): `label [###---] 3/10 1.2 s`.
fn render_bar(label: &str, done: u64, total: u64, elapsed: Duration) -> String {
    if total == 0 {
        return format!("{label} {done} {}", seconds(elapsed));
    }
    let filled = (done.min(total) * BAR_WIDTH / total) as usize;
    format!(
        "{label} [{}{}] {done}/{total} {}",
        "#".repeat(filled),
        "-".repeat(BAR_WIDTH as usize - filled),
        seconds(elapsed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_text() {
        let cases = [
            (0, 10, "litmus [------------------------------] 0/10 0.0 s"),
            (5, 10, "litmus [###############---------------] 5/10 0.0 s"),
            (
                10,
                10,
                "litmus [##############################] 10/10 0.0 s",
            ),
            (
                12,
                10,
                "litmus [##############################] 12/10 0.0 s",
            ),
            (7, 0, "litmus 7 0.0 s"),
        ];
        for (done, total, expected) in cases {
            assert_eq!(
                render_bar("litmus", done, total, Duration::ZERO),
                expected,
                "{done}/{total}"
            );
        }
    }
}
