//! A small C tokenizer for the acquisition walker: identifiers, numbers,
//! literals and punctuation with their line numbers; comments and
//! preprocessor lines dropped. It never fails: anything it does not know
//! becomes a one-character punctuation token.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Ident,
    Number,
    /// A string or character literal.
    Literal,
    Punct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub text: &'a str,
    pub kind: TokenKind,
    pub line: u32,
    /// The token starts its line in column 0 (kernel style puts function
    /// headers and their closing brace there).
    pub column0: bool,
}

impl Token<'_> {
    pub fn is(&self, text: &str) -> bool {
        self.text == text
    }
}

/// Tokens of `source`, whose first line is line `first_line`.
pub(crate) fn tokenize(source: &str, first_line: u32) -> Vec<Token<'_>> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut line = first_line;
    let mut line_start = 0;
    let mut at = 0;
    while at < bytes.len() {
        let c = bytes[at];
        if c == b'\n' {
            line += 1;
            at += 1;
            line_start = at;
            continue;
        }
        if c.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        let start = at;
        let kind = match c {
            b'#' if source[line_start..at].trim().is_empty() => {
                // A preprocessor line, with its backslash continuations.
                while at < bytes.len() && bytes[at] != b'\n' {
                    if bytes[at] == b'\\' && bytes.get(at + 1) == Some(&b'\n') {
                        at += 1;
                        line += 1;
                        line_start = at + 1;
                    }
                    at += 1;
                }
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at += 2;
                while at < bytes.len() && !(bytes[at] == b'*' && bytes.get(at + 1) == Some(&b'/')) {
                    if bytes[at] == b'\n' {
                        line += 1;
                        line_start = at + 1;
                    }
                    at += 1;
                }
                at = (at + 2).min(bytes.len());
                continue;
            }
            b'"' | b'\'' => {
                at += 1;
                while at < bytes.len() && bytes[at] != c && bytes[at] != b'\n' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                at = (at + 1).min(bytes.len());
                TokenKind::Literal
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                    at += 1;
                }
                TokenKind::Ident
            }
            c if c.is_ascii_digit() => {
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'.') {
                    at += 1;
                }
                TokenKind::Number
            }
            b'-' if bytes.get(at + 1) == Some(&b'>') => {
                at += 2;
                TokenKind::Punct
            }
            _ => {
                // One character, whole (UTF-8 in a stray place stays intact).
                at += source[at..].chars().next().map_or(1, char::len_utf8);
                TokenKind::Punct
            }
        };
        let at = at.min(bytes.len());
        tokens.push(Token {
            text: &source[start..at],
            kind,
            line,
            column0: start == line_start,
        });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_lines_and_skip_comments_and_directives() {
        let source = "int f(void)\n{\n\t/* a\n\t * b */ x->y = \"s;\"; // c\n#ifdef A\n\tg('}');\n#endif\n}\n";
        let got: Vec<(String, u32, bool)> = tokenize(source, 10)
            .iter()
            .map(|t| (t.text.to_owned(), t.line, t.column0))
            .collect();
        let expected: Vec<(String, u32, bool)> = [
            ("int", 10, true),
            ("f", 10, false),
            ("(", 10, false),
            ("void", 10, false),
            (")", 10, false),
            ("{", 11, true),
            ("x", 13, false),
            ("->", 13, false),
            ("y", 13, false),
            ("=", 13, false),
            ("\"s;\"", 13, false),
            (";", 13, false),
            ("g", 15, false),
            ("(", 15, false),
            ("'}'", 15, false),
            (")", 15, false),
            (";", 15, false),
            ("}", 17, true),
        ]
        .iter()
        .map(|(t, l, c)| (t.to_string(), *l, *c))
        .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for source in ["/* open", "\"open", "'", "#define X \\", "é;"] {
            let _ = tokenize(source, 1);
        }
    }
}
