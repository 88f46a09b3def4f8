//! Process bodies: statements and expressions of the C subset litmus
//! tests use; anything else (loops, `goto`, arrays in code) is a
//! diagnostic, never skipped silently.

use super::{is_type_word, Cursor};
use crate::ast::{BinOp, Expr, Stmt, UnOp};
use crate::error::ParseError;
use crate::lexer::Tok;

impl Cursor<'_> {
    /// A statement; on error the problem is recorded, the tokens up to the
    /// end of the statement are skipped and `None` is returned.
    pub(super) fn statement_recovering(&mut self) -> Option<Stmt> {
        let start = self.pos;
        match self.statement() {
            Ok(stmt) => Some(stmt),
            Err(e) => {
                self.record(e);
                self.skip_statement(start);
                None
            }
        }
    }

    /// Skip to just after the `;` (or the block) ending the statement that
    /// began at token `start`, never past the `}` closing an enclosing block.
    fn skip_statement(&mut self, start: usize) {
        let mut depth = 0usize;
        while let Some(tok) = self.peek_tok(0) {
            match tok {
                Tok::Punct(";") if depth == 0 => {
                    self.pos += 1;
                    return;
                }
                Tok::Punct("{") => depth += 1,
                Tok::Punct("}") if depth == 0 => {
                    if self.pos == start {
                        // A stray `}` at the top of a body: skip it.
                        self.pos += 1;
                    }
                    return;
                }
                Tok::Punct("}") => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        if !matches!(self.peek_tok(0), Some(Tok::Ident(w)) if w == "else") {
                            return;
                        }
                        continue;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn statement(&mut self) -> Result<Stmt, ParseError> {
        if self.eat("{") {
            let mut body = Vec::new();
            while !self.eat("}") {
                if self.at_end() {
                    return Err(self.error("unterminated block"));
                }
                if let Some(stmt) = self.statement_recovering() {
                    body.push(stmt);
                }
            }
            return Ok(Stmt::Block(body));
        }
        if self.eat(";") {
            return Ok(Stmt::Block(Vec::new()));
        }
        if self.eat_ident("if") {
            self.expect("(")?;
            let cond = self.expr()?;
            self.expect(")")?;
            let then = self.statement()?;
            let otherwise = if self.eat_ident("else") {
                vec![self.statement()?]
            } else {
                Vec::new()
            };
            return Ok(Stmt::If(cond, vec![then], otherwise));
        }
        if let Some(Tok::Ident(word)) = self.peek_tok(0) {
            if is_type_word(word) {
                return self.declaration();
            }
            if matches!(
                word.as_str(),
                "while" | "for" | "do" | "goto" | "return" | "switch"
            ) {
                return Err(self.error(&format!("`{word}` statements are not supported")));
            }
        }
        let offset = self.offset();
        let lhs = self.expr()?;
        if self.eat("=") {
            let rhs = self.expr()?;
            self.expect(";")?;
            return match lhs {
                Expr::Name(name, _) => Ok(Stmt::AssignReg(name, rhs, offset)),
                Expr::Deref(target) => Ok(Stmt::Store(*target, rhs, offset)),
                _ => Err(ParseError::at(
                    self.src,
                    offset,
                    "left side of `=` must be a register or `*pointer`",
                )),
            };
        }
        self.expect(";")?;
        Ok(Stmt::Expr(lhs))
    }

    fn declaration(&mut self) -> Result<Stmt, ParseError> {
        while let Some(Tok::Ident(w)) = self.peek_tok(0) {
            if is_type_word(w) {
                self.pos += 1;
            } else {
                break;
            }
        }
        let mut decls = Vec::new();
        loop {
            while self.eat("*") {}
            let name = self.ident()?;
            let init = if self.eat("=") {
                Some(self.expr()?)
            } else {
                None
            };
            decls.push(Stmt::Decl(name, init));
            if !self.eat(",") {
                break;
            }
        }
        self.expect(";")?;
        Ok(if decls.len() == 1 {
            decls.remove(0)
        } else {
            Stmt::Block(decls)
        })
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let cond = self.binary(0)?;
        if self.eat("?") {
            let a = self.expr()?;
            self.expect(":")?;
            let b = self.expr()?;
            return Ok(Expr::Cond(Box::new(cond), Box::new(a), Box::new(b)));
        }
        Ok(cond)
    }

    fn binary(&mut self, min_level: usize) -> Result<Expr, ParseError> {
        const LEVELS: &[&[(&str, BinOp)]] = &[
            &[("||", BinOp::LogOr)],
            &[("&&", BinOp::LogAnd)],
            &[("|", BinOp::Or)],
            &[("^", BinOp::Xor)],
            &[("&", BinOp::And)],
            &[("==", BinOp::Eq), ("!=", BinOp::Ne)],
            &[
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
            ],
            &[("<<", BinOp::Shl), (">>", BinOp::Shr)],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)],
        ];
        if min_level >= LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(min_level + 1)?;
        'outer: loop {
            for (punct, op) in LEVELS[min_level] {
                if self.eat(punct) {
                    let right = self.binary(min_level + 1)?;
                    left = Expr::Bin(*op, Box::new(left), Box::new(right));
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat("*") {
            return Ok(Expr::Deref(Box::new(self.unary()?)));
        }
        if self.eat("&") {
            return Ok(Expr::AddrOf(Box::new(self.unary()?)));
        }
        if self.eat("!") {
            return Ok(Expr::Un(UnOp::Not, Box::new(self.unary()?)));
        }
        if self.eat("~") {
            return Ok(Expr::Un(UnOp::BitNot, Box::new(self.unary()?)));
        }
        if self.eat("-") {
            return Ok(Expr::Un(UnOp::Neg, Box::new(self.unary()?)));
        }
        if self.eat("+") {
            return self.unary();
        }
        if self.peek_is("(") {
            // A cast `(type)e` or a parenthesised expression.
            if let Some(Tok::Ident(w)) = self.peek_tok(1) {
                if is_type_word(w) {
                    self.pos += 1;
                    while !self.eat(")") {
                        if self.at_end() {
                            return Err(self.error("unterminated cast"));
                        }
                        self.pos += 1;
                    }
                    return self.unary();
                }
            }
            self.pos += 1;
            let e = self.expr()?;
            self.expect(")")?;
            return Ok(e);
        }
        let offset = self.offset();
        match self.peek_tok(0) {
            Some(Tok::Int(v)) => {
                self.pos += 1;
                Ok(Expr::Int(*v))
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if self.eat("(") {
                    let mut args = Vec::new();
                    if !self.eat(")") {
                        loop {
                            args.push(self.expr()?);
                            if self.eat(")") {
                                break;
                            }
                            self.expect(",")?;
                        }
                    }
                    return Ok(Expr::Call(name.clone(), args, offset));
                }
                if self.peek_is("[") || self.peek_is("->") || self.peek_is(".") {
                    return Err(self.error("arrays and struct members are not supported"));
                }
                Ok(Expr::Name(name.clone(), offset))
            }
            _ => Err(self.error("expected an expression")),
        }
    }
}
