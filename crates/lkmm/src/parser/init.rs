//! The init block: variables, arrays (Dat3M), pointers and registers with
//! their initial values. It must never evaluate an initial value (`*(&x)`
//! is kept as a name for the checker).

use super::{is_type_word, Cursor};
use crate::ast::{InitEntry, InitValue};
use crate::error::{Diagnostic, ParseError};
use crate::lexer::{Tok, Token};

/// Longest array accepted in the init block.
const MAX_ARRAY: usize = 4096;

pub(super) fn parse_init(
    src: &str,
    tokens: &[Token],
    end: usize,
    diags: &mut Vec<Diagnostic>,
) -> Vec<InitEntry> {
    let mut cursor = Cursor::new(src, tokens, end);
    let mut entries = Vec::new();
    while !cursor.at_end() {
        if cursor.eat(";") {
            continue;
        }
        if let Err(e) = init_entry(&mut cursor, &mut entries) {
            cursor.record(e);
            // Resynchronise after the entry's `;`.
            while !cursor.at_end() && !cursor.eat(";") {
                cursor.pos += 1;
            }
        }
    }
    diags.append(&mut cursor.errors);
    entries
}

/// One `;`-terminated entry of the init block.
fn init_entry(cursor: &mut Cursor<'_>, entries: &mut Vec<InitEntry>) -> Result<(), ParseError> {
    let src = cursor.src;
    {
        // `n:r=v`
        if let (Some(Tok::Int(thread)), Some(Tok::Punct(":"))) =
            (cursor.peek_tok(0), cursor.peek_tok(1))
        {
            let thread = *thread as usize;
            cursor.pos += 2;
            let name = cursor.ident()?;
            cursor.expect("=")?;
            let value = cursor.init_value()?;
            entries.push(InitEntry::Register {
                thread,
                name,
                value,
            });
            return cursor.expect_end_of_entry();
        }
        let mut ctype = Vec::new();
        while let Some(Tok::Ident(w)) = cursor.peek_tok(0) {
            if is_type_word(w) && !matches!(cursor.peek_tok(1), Some(Tok::Punct("=" | ";"))) {
                ctype.push(w.clone());
                cursor.pos += 1;
            } else {
                break;
            }
        }
        loop {
            let mut stars = 0;
            while cursor.eat("*") {
                stars += 1;
            }
            let offset = cursor.offset();
            if let (Some(Tok::Int(thread)), Some(Tok::Punct(":"))) =
                (cursor.peek_tok(0), cursor.peek_tok(1))
            {
                // `int 0:r1;` or `int *1:r1 = &x;` declares a register.
                let thread = *thread as usize;
                cursor.pos += 2;
                let name = cursor.ident()?;
                let value = if cursor.eat("=") {
                    cursor.init_value()?
                } else {
                    InitValue::Int(0)
                };
                entries.push(InitEntry::Register {
                    thread,
                    name,
                    value,
                });
                if !cursor.eat(",") {
                    break;
                }
                continue;
            }
            let name = cursor.ident()?;
            if cursor.eat("[") {
                // Dat3M's arrays: `int x[2];`, `x[2] = {1, 2};`.
                let len = cursor.int()?;
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&n| (1..=MAX_ARRAY).contains(&n))
                    .ok_or_else(|| ParseError::at(src, offset, "array length must be 1 to 4096"))?;
                cursor.expect("]")?;
                let mut values = Vec::new();
                if cursor.eat("=") {
                    cursor.expect("{")?;
                    while !cursor.eat("}") {
                        if !values.is_empty() {
                            cursor.expect(",")?;
                        }
                        values.push(cursor.init_value()?);
                    }
                    if values.len() > len {
                        return Err(ParseError::at(
                            src,
                            offset,
                            "more initial values than array elements",
                        ));
                    }
                }
                let mut full_type = ctype.join(" ");
                for _ in 0..stars {
                    full_type.push_str(" *");
                }
                entries.push(InitEntry::Array {
                    name,
                    ctype: full_type,
                    len,
                    values,
                });
                if !cursor.eat(",") {
                    break;
                }
                continue;
            }
            if cursor.eat(":") {
                return Err(ParseError::at(
                    src,
                    offset,
                    "unexpected `:` in the init block",
                ));
            }
            let value = if cursor.eat("=") {
                Some(cursor.init_value()?)
            } else {
                None
            };
            let mut full_type = ctype.join(" ");
            for _ in 0..stars {
                full_type.push_str(" *");
            }
            entries.push(InitEntry::Location {
                name,
                ctype: full_type,
                value,
            });
            if !cursor.eat(",") {
                break;
            }
        }
        cursor.expect_end_of_entry()
    }
}

impl Cursor<'_> {
    fn init_value(&mut self) -> Result<InitValue, ParseError> {
        if self.eat("&") {
            return Ok(InitValue::Addr(self.ident()?));
        }
        if self.eat("*") {
            // Dat3M's `*(&x)`: the value of x.
            let parenthesised = self.eat("(");
            if !self.eat("&") {
                return Err(self.error("expected `&` after `*` in an initial value"));
            }
            let name = self.ident()?;
            if parenthesised {
                self.expect(")")?;
            }
            return Ok(InitValue::ValueOf(name));
        }
        if self.eat_ident("ATOMIC_INIT") {
            self.expect("(")?;
            let v = self.int()?;
            self.expect(")")?;
            return Ok(InitValue::Int(v));
        }
        if let Some(Tok::Ident(_)) = self.peek_tok(0) {
            return Ok(InitValue::Addr(self.ident()?));
        }
        Ok(InitValue::Int(self.int()?))
    }
}
