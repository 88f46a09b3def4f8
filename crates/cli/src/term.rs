//! The printing edge for text meant for a person.
//!
//! Subjects, authors, file names, error messages and model output are
//! untrusted and may carry ESC/OSC sequences, carriage returns or bidi
//! overrides. Every line of text output goes through [`outln!`], [`out!`]
//! or [`errln!`], which print it with `sashiko_safetext::visible_controls`
//! applied (newline and tab kept, everything else shown as `^[` or
//! `<U+202E>`). JSON output goes through [`jsonln!`] as it is: its
//! encoder already escapes control characters, and changing its strings
//! would change the data. This module must never print anything else.
//!
//! Standard output may be a pipe whose reader went away (`sashiko series
//! ... | head -1`): like ripgrep, the process then ends quietly with status
//! 0, since everything the reader wanted it got. Any other write error ends
//! it with one line and status 2.

use std::io::Write;

/// `println!` with control characters made visible.
macro_rules! outln {
    () => {
        $crate::term::write_stdout("\n")
    };
    ($($arg:tt)*) => {
        $crate::term::write_stdout(&format!(
            "{}\n",
            sashiko_safetext::visible_controls(&format!($($arg)*))
        ))
    };
}

/// `print!` with control characters made visible.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::term::write_stdout(&sashiko_safetext::visible_controls(&format!($($arg)*)))
    };
}

/// `println!` of an already escaped document (JSON), unchanged.
macro_rules! jsonln {
    ($($arg:tt)*) => {
        $crate::term::write_stdout(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` with control characters made visible.
macro_rules! errln {
    () => {
        $crate::term::write_stderr("\n")
    };
    ($($arg:tt)*) => {
        $crate::term::write_stderr(&format!(
            "{}\n",
            sashiko_safetext::visible_controls(&format!($($arg)*))
        ))
    };
}

pub(crate) use {errln, jsonln, out, outln};

/// Writes `text` to standard output and flushes it. A reader that went
/// away ends the process with status 0; any other failure with status 2.
pub(crate) fn write_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(error) = written {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Standard error may still work; there is nothing else to try.
        let _ = writeln!(
            std::io::stderr(),
            "sashiko: error: writing to standard output: {error}"
        );
        std::process::exit(i32::from(crate::EXIT_ERROR));
    }
}

/// Writes `text` to standard error, clearing a progress bar first. A
/// closed standard error is ignored: there is nowhere left to say so.
pub(crate) fn write_stderr(text: &str) {
    crate::progress::clear_line();
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
