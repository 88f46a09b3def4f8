//! Prose wrapping for plain-text mail. Diff lines are never passed here:
//! only our own prose is wrapped.

/// Wrap `text` at `width` columns, keeping paragraph breaks and lines that
/// look preformatted (indented, or starting with `>`/`-`/`*` bullets kept
/// as they are at their start).
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for (number, paragraph) in text.trim().split("\n\n").enumerate() {
        if number > 0 {
            out.push('\n');
        }
        let preformatted = paragraph.lines().any(|line| {
            line.starts_with("    ") || line.starts_with('\t') || line.starts_with('>')
        });
        if preformatted {
            out.push_str(paragraph.trim_end());
            out.push('\n');
            continue;
        }
        let mut column = 0;
        for word in paragraph.split_whitespace() {
            let length = word.chars().count();
            if column > 0 && column + 1 + length > width {
                out.push('\n');
                column = 0;
            } else if column > 0 {
                out.push(' ');
                column += 1;
            }
            out.push_str(word);
            column += length;
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_prose_and_keeps_paragraphs_and_code() {
        let cases = [
            ("a b c", 72, "a b c\n"),
            ("aaa bbb ccc", 7, "aaa bbb\nccc\n"),
            ("one\n\ntwo", 72, "one\n\ntwo\n"),
            ("x\n\n    code  stays", 5, "x\n\n    code  stays\n"),
            ("averyveryverylongword b", 5, "averyveryverylongword\nb\n"),
        ];
        for (input, width, expected) in cases {
            assert_eq!(wrap(input, width), expected, "{input:?}");
        }
    }
}
