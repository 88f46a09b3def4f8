//! Syntax tree of a C litmus test as written in the kernel's format.
//!
//! These types describe the text only; they carry no memory-model meaning.
//! They must never hold evaluation state: the symbolic executor reads them.

/// A byte offset into the source, resolved to line and column on error.
pub type Offset = usize;

/// Binary operators of the C subset used by litmus tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    And,
    Or,
    Xor,
    AndNot,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LogAnd,
    LogOr,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
    BitNot,
}

/// An expression inside a process body.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Int(i64),
    /// A name: a register (local) or a parameter (pointer to a shared location).
    Name(String, Offset),
    Deref(Box<Expr>),
    AddrOf(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Un(UnOp, Box<Expr>),
    /// A macro or primitive call such as `READ_ONCE(*x)`.
    Call(String, Vec<Expr>, Offset),
    /// `c ? a : b`
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// A statement inside a process body.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `int r;` or `int r = e;` (the type is not kept).
    Decl(String, Option<Expr>),
    /// `r = e;`
    AssignReg(String, Expr, Offset),
    /// `*e = v;`
    Store(Expr, Expr, Offset),
    /// `e;` (including `(void)e;` and primitive calls)
    Expr(Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    Block(Vec<Stmt>),
}

/// One process `Pn(params) { body }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub index: usize,
    /// Parameter names with their declared C type (e.g. `spinlock_t *`).
    pub params: Vec<(String, String)>,
    pub body: Vec<Stmt>,
}

/// Right-hand side of an initialisation or a condition atom.
#[derive(Debug, Clone, PartialEq)]
pub enum InitValue {
    Int(i64),
    /// Address of a shared location (`&x` or a bare name in pointer context).
    Addr(String),
    /// `*(&x)` (Dat3M): the value `x` holds so far, or its address when `x`
    /// is an array.
    ValueOf(String),
}

/// One entry of the init block.
#[derive(Debug, Clone, PartialEq)]
pub enum InitEntry {
    /// A shared location with its C type and optional value.
    Location {
        name: String,
        ctype: String,
        value: Option<InitValue>,
    },
    /// An array `x[len]`, optionally with its first values (`= {1, 2}`);
    /// Dat3M's syntax, absent from the kernel's tests.
    Array {
        name: String,
        ctype: String,
        len: usize,
        values: Vec<InitValue>,
    },
    /// `n:r=v` register initialisation.
    Register {
        thread: usize,
        name: String,
        value: InitValue,
    },
}

/// A location named in a condition: a register or a shared variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateLoc {
    Reg(usize, String),
    Mem(String),
}

/// Right-hand side of a condition atom.
#[derive(Debug, Clone, PartialEq)]
pub enum AtomValue {
    Int(i64),
    /// The address of a shared variable.
    Addr(String),
    /// Another state location (e.g. `0:r2=0:r3`).
    Loc(StateLoc),
}

/// A proposition of the final condition or filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    True,
    False,
    Atom(StateLoc, AtomValue),
    Not(Box<Prop>),
    And(Box<Prop>, Box<Prop>),
    Or(Box<Prop>, Box<Prop>),
}

/// The quantifier of the final condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Exists,
    NotExists,
    Forall,
}

/// A parsed litmus test.
#[derive(Debug, Clone, PartialEq)]
pub struct Litmus {
    pub name: String,
    pub init: Vec<InitEntry>,
    pub processes: Vec<Process>,
    pub locations: Vec<StateLoc>,
    pub filter: Option<Prop>,
    pub quantifier: Quantifier,
    pub condition: Prop,
}

impl Prop {
    /// Every state location the proposition reads, in order of appearance.
    pub fn state_locs(&self, out: &mut Vec<StateLoc>) {
        match self {
            Prop::True | Prop::False => {}
            Prop::Atom(loc, value) => {
                out.push(loc.clone());
                if let AtomValue::Loc(other) = value {
                    out.push(other.clone());
                }
            }
            Prop::Not(p) => p.state_locs(out),
            Prop::And(a, b) | Prop::Or(a, b) => {
                a.state_locs(out);
                b.state_locs(out);
            }
        }
    }
}
