//! The printing edge for text meant for a person.
//!
//! Subjects, authors, file names, error messages and model output are
//! untrusted and may carry ESC/OSC sequences, carriage returns or bidi
//! overrides. Every line of text output goes through [`outln!`], [`out!`]
//! or [`errln!`], which print it with `sashiko_safetext::visible_controls`
//! applied (newline and tab kept, everything else shown as `^[` or
//! `<U+202E>`). JSON output is printed with `println!` as it is: its
//! encoder already escapes control characters, and changing its strings
//! would change the data. This module must never print anything else.

/// `println!` with control characters made visible.
macro_rules! outln {
    () => {
        println!()
    };
    ($($arg:tt)*) => {
        println!("{}", sashiko_safetext::visible_controls(&format!($($arg)*)))
    };
}

/// `print!` with control characters made visible.
macro_rules! out {
    ($($arg:tt)*) => {
        print!("{}", sashiko_safetext::visible_controls(&format!($($arg)*)))
    };
}

/// `eprintln!` with control characters made visible.
macro_rules! errln {
    () => {
        eprintln!()
    };
    ($($arg:tt)*) => {
        eprintln!("{}", sashiko_safetext::visible_controls(&format!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};
