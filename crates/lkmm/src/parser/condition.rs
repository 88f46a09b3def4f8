//! The final condition and `filter`: propositions over registers and
//! locations (`x` or an array element `x[1]`).

use super::Cursor;
use crate::ast::{AtomValue, Prop, StateLoc};
use crate::error::ParseError;
use crate::lexer::Tok;

impl Cursor<'_> {
    pub(super) fn state_loc(&mut self) -> Result<StateLoc, ParseError> {
        if let (Some(Tok::Int(thread)), Some(Tok::Punct(":"))) =
            (self.peek_tok(0), self.peek_tok(1))
        {
            let thread = *thread as usize;
            self.pos += 2;
            return Ok(StateLoc::Reg(thread, self.ident()?));
        }
        if self.eat("[") {
            let name = self.location_name()?;
            self.expect("]")?;
            return Ok(StateLoc::Mem(name));
        }
        match self.peek_tok(0) {
            Some(Tok::Ident(_)) => Ok(StateLoc::Mem(self.location_name()?)),
            _ => Err(self.error("expected a register `n:r` or a location")),
        }
    }

    /// A location name, `x` or an array element `x[1]` (named `x[1]`).
    fn location_name(&mut self) -> Result<String, ParseError> {
        let name = self.ident()?;
        if self.peek_is("[") && matches!(self.peek_tok(1), Some(Tok::Int(_))) {
            self.pos += 1;
            let index = self.int()?;
            self.expect("]")?;
            return Ok(format!("{name}[{index}]"));
        }
        Ok(name)
    }

    pub(super) fn prop(&mut self) -> Result<Prop, ParseError> {
        let mut left = self.prop_conj()?;
        while self.eat("\\/") {
            let right = self.prop_conj()?;
            left = Prop::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn prop_conj(&mut self) -> Result<Prop, ParseError> {
        let mut left = self.prop_unary()?;
        while self.eat("/\\") {
            let right = self.prop_unary()?;
            left = Prop::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn prop_unary(&mut self) -> Result<Prop, ParseError> {
        if self.eat("~") || self.eat_ident("not") {
            return Ok(Prop::Not(Box::new(self.prop_unary()?)));
        }
        if self.eat("(") {
            let p = self.prop()?;
            self.expect(")")?;
            return Ok(p);
        }
        if self.eat_ident("true") {
            return Ok(Prop::True);
        }
        if self.eat_ident("false") {
            return Ok(Prop::False);
        }
        let loc = self.state_loc()?;
        let negated = if self.eat("=") || self.eat("==") {
            false
        } else if self.eat("!=") {
            true
        } else {
            return Err(self.error("expected `=` in condition atom"));
        };
        let value = if let (Some(Tok::Int(_)), Some(Tok::Punct(":"))) =
            (self.peek_tok(0), self.peek_tok(1))
        {
            AtomValue::Loc(self.state_loc()?)
        } else if self.eat("&") {
            AtomValue::Addr(self.ident()?)
        } else if let Some(Tok::Ident(_)) = self.peek_tok(0) {
            AtomValue::Addr(self.ident()?)
        } else {
            AtomValue::Int(self.int()?)
        };
        let atom = Prop::Atom(loc, value);
        Ok(if negated {
            Prop::Not(Box::new(atom))
        } else {
            atom
        })
    }
}
