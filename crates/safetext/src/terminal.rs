//! Control characters made visible for a terminal.
//!
//! Mail subjects, commit messages, file names and model output are
//! untrusted; written raw to a terminal, an ESC or OSC sequence in them can
//! recolour or clear the screen, retitle the window, plant hyperlinks, or
//! (with carriage returns and bidi overrides) make a line read differently
//! from what it says. Text output passes through [`visible_controls`] at
//! the printing edge: newlines and tabs stay, every other control character
//! is shown in caret notation (`^[` for ESC, as `cat -v` does) or as
//! `<U+XXXX>`. JSON output never goes through here: its encoder escapes
//! control characters already.

use std::borrow::Cow;

/// Whether `c` changes what a terminal shows beyond printing a glyph.
fn is_dangerous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `text` with control characters other than newline and tab made visible:
/// C0 controls and DEL in caret notation (`^[`, `^M`, `^?`), C1 controls
/// and bidirectional overrides as `<U+XXXX>`. A CR directly before LF is
/// kept (CRLF line ends are not an attack). Borrowed when nothing changes.
pub fn visible_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !is_dangerous(c) || (c == '\r' && chars.peek() == Some(&'\n')) {
            out.push(c);
            continue;
        }
        match u32::from(c) {
            code @ 0..=0x1f => {
                out.push('^');
                out.push(char::from(b'@' + code as u8));
            }
            0x7f => out.push_str("^?"),
            code => out.push_str(&format!("<U+{code:04X}>")),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible() {
        let cases = [
            ("plain ünïcode\n\tindented", "plain ünïcode\n\tindented"),
            ("\x1b[2J\x1b]0;pwned\x07title", "^[[2J^[]0;pwned^Gtitle"),
            (
                "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
                "^[]8;;https://evil.example^[\\link^[]8;;^[\\",
            ),
            ("line\r\nnext", "line\r\nnext"),
            ("fake\rreal", "fake^Mreal"),
            ("nul\0del\x7f", "nul^@del^?"),
            ("csi\u{9b}31m", "csi<U+009B>31m"),
            ("admin\u{202e}txt.exe", "admin<U+202E>txt.exe"),
        ];
        for (input, expected) in cases {
            assert_eq!(visible_controls(input), expected, "{input:?}");
        }
        assert!(matches!(visible_controls("clean"), Cow::Borrowed(_)));
    }
}
