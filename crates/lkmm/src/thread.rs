//! Symbolic execution of one process: every control-flow path with its
//! events, symbolic values, dependencies and path constraints.
//!
//! Read values are symbolic variables (one per read event); the checker later
//! fixes them by choosing reads-from. Branches on unknown values, symbolic
//! addresses, cmpxchg outcomes, trylock and is_locked fork the path. This
//! module must never choose reads-from or consult the memory model.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::ast::{BinOp, Expr, Stmt, UnOp};
use crate::error::LitmusError;
use crate::locations::Locations;
use crate::prims::FenceKind;

mod call;

const MAX_PATHS: usize = 20_000;

/// A symbolic value.
#[derive(Debug, Clone, PartialEq)]
pub enum Sym {
    Const(i64),
    /// The value returned by read event `n` of the same process.
    Var(usize),
    Bin(BinOp, Rc<Sym>, Rc<Sym>),
    Un(UnOp, Rc<Sym>),
    Ite(Rc<Sym>, Rc<Sym>, Rc<Sym>),
}

impl Sym {
    pub fn vars(&self, out: &mut Vec<usize>) {
        match self {
            Sym::Const(_) => {}
            Sym::Var(v) => {
                if !out.contains(v) {
                    out.push(*v)
                }
            }
            Sym::Bin(_, a, b) => {
                a.vars(out);
                b.vars(out);
            }
            Sym::Un(_, a) => a.vars(out),
            Sym::Ite(c, a, b) => {
                c.vars(out);
                a.vars(out);
                b.vars(out);
            }
        }
    }
    pub fn as_const(&self) -> Option<i64> {
        match self {
            Sym::Const(v) => Some(*v),
            _ => None,
        }
    }
    /// Evaluate with `lookup` giving each read's value (`None` = unknown).
    pub fn eval(&self, lookup: &mut dyn FnMut(usize) -> Option<i64>) -> Option<i64> {
        match self {
            Sym::Const(v) => Some(*v),
            Sym::Var(v) => lookup(*v),
            Sym::Bin(op, a, b) => {
                let a = a.eval(lookup)?;
                let b = b.eval(lookup)?;
                binop(*op, a, b)
            }
            Sym::Un(op, a) => Some(unop(*op, a.eval(lookup)?)),
            Sym::Ite(c, a, b) => {
                if c.eval(lookup)? != 0 {
                    a.eval(lookup)
                } else {
                    b.eval(lookup)
                }
            }
        }
    }
}

pub fn binop(op: BinOp, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::Div => a.checked_div(b)?,
        BinOp::Rem => a.checked_rem(b)?,
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        BinOp::AndNot => a & !b,
        BinOp::Shl => a.wrapping_shl(b as u32),
        BinOp::Shr => a.wrapping_shr(b as u32),
        BinOp::Eq => (a == b) as i64,
        BinOp::Ne => (a != b) as i64,
        BinOp::Lt => (a < b) as i64,
        BinOp::Le => (a <= b) as i64,
        BinOp::Gt => (a > b) as i64,
        BinOp::Ge => (a >= b) as i64,
        BinOp::LogAnd => (a != 0 && b != 0) as i64,
        BinOp::LogOr => (a != 0 || b != 0) as i64,
    })
}

fn unop(op: UnOp, a: i64) -> i64 {
    match op {
        UnOp::Neg => a.wrapping_neg(),
        UnOp::Not => (a == 0) as i64,
        UnOp::BitNot => !a,
    }
}

fn mk_bin(op: BinOp, a: Rc<Sym>, b: Rc<Sym>) -> Rc<Sym> {
    if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
        if let Some(v) = binop(op, x, y) {
            return Rc::new(Sym::Const(v));
        }
    }
    Rc::new(Sym::Bin(op, a, b))
}

fn konst(v: i64) -> Rc<Sym> {
    Rc::new(Sym::Const(v))
}

/// Kind of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    R,
    W,
    F(FenceKind),
    SyncSrcu,
}

/// One event of a process path.
#[derive(Debug, Clone)]
pub struct PEvent {
    pub kind: Kind,
    pub loc: Option<usize>,
    pub tags: u32,
    /// Written value for W; `Var(self)` for R.
    pub value: Rc<Sym>,
    pub addr: Vec<usize>,
    pub data: Vec<usize>,
    pub ctrl: Vec<usize>,
    /// For the read of a successful RMW: its write.
    pub rmw_write: Option<usize>,
}

/// One control-flow path of a process.
#[derive(Debug, Clone, Default)]
pub struct Path {
    pub events: Vec<PEvent>,
    /// Each symbolic value must evaluate to non-zero (`true`) or zero (`false`).
    pub constraints: Vec<(Rc<Sym>, bool)>,
    pub regs: BTreeMap<String, Rc<Sym>>,
    ctrl: Vec<usize>,
    /// Reads whose value this path has fixed by choosing the location a
    /// symbolic pointer designates (the constraint saying so is in
    /// `constraints`); later accesses through the same pointer do not fork.
    bound: BTreeMap<usize, i64>,
}

/// What the executor needs to know about shared locations.
pub struct LocationInfo<'a> {
    pub locations: &'a Locations,
    /// Locations a symbolic pointer may designate.
    pub data_locations: &'a [usize],
}

struct Exec<'a> {
    params: Vec<String>,
    locations: LocationInfo<'a>,
}

/// Enumerate the paths of one process.
pub fn execute(
    body: &[Stmt],
    params: &[(String, String)],
    init_regs: &[(String, i64)],
    locations: LocationInfo<'_>,
) -> Result<Vec<Path>, LitmusError> {
    let exec = Exec {
        params: params.iter().map(|(n, _)| n.clone()).collect(),
        locations,
    };
    let mut start = Path::default();
    for (name, value) in init_regs {
        start.regs.insert(name.clone(), konst(*value));
    }
    exec.block(body, vec![start])
}

type Forks = Vec<(Path, Rc<Sym>)>;

impl Exec<'_> {
    fn block(&self, body: &[Stmt], mut states: Vec<Path>) -> Result<Vec<Path>, LitmusError> {
        for stmt in body {
            let mut next = Vec::new();
            for st in states {
                next.extend(self.stmt(stmt, st)?);
            }
            if next.len() > MAX_PATHS {
                return Err(LitmusError::unsupported(format!(
                    "more than {MAX_PATHS} control-flow paths in one process"
                )));
            }
            states = next;
        }
        Ok(states)
    }

    fn stmt(&self, stmt: &Stmt, st: Path) -> Result<Vec<Path>, LitmusError> {
        match stmt {
            Stmt::Decl(name, init) => match init {
                // `int r;` keeps a value given in the init block (`0:r=a;`).
                None => Ok(vec![with_default(st, name)]),
                Some(e) => Ok(self
                    .expr(e, with_default(st, name))?
                    .into_iter()
                    .map(|(mut st, v)| {
                        st.regs.insert(name.clone(), v);
                        st
                    })
                    .collect()),
            },
            Stmt::AssignReg(name, e, _) => Ok(self
                .expr(e, st)?
                .into_iter()
                .map(|(mut st, v)| {
                    st.regs.insert(name.clone(), v);
                    st
                })
                .collect()),
            Stmt::Store(target, value, _) => {
                let mut out = Vec::new();
                for (st, loc, addr) in self.address(target, st)? {
                    for (mut st, v) in self.expr(value, st)? {
                        let mut data = Vec::new();
                        v.vars(&mut data);
                        push(&mut st, Kind::W, Some(loc), 0, v, addr_deps(&addr), data);
                        out.push(st);
                    }
                }
                Ok(out)
            }
            Stmt::Expr(e) => Ok(self.expr(e, st)?.into_iter().map(|(st, _)| st).collect()),
            Stmt::Block(body) => self.block(body, vec![st]),
            Stmt::If(cond, then, otherwise) => {
                let mut out = Vec::new();
                for (st, c) in self.expr(cond, st)? {
                    let saved = st.ctrl.clone();
                    match c.as_const() {
                        Some(v) => {
                            let branch = if v != 0 { then } else { otherwise };
                            let mut st = st;
                            let mut deps = Vec::new();
                            c.vars(&mut deps);
                            push_ctrl(&mut st, &deps);
                            for mut s in self.block(branch, vec![st])? {
                                s.ctrl = saved.clone();
                                out.push(s);
                            }
                        }
                        None => {
                            let mut deps = Vec::new();
                            c.vars(&mut deps);
                            for (taken, branch) in [(true, then), (false, otherwise)] {
                                let mut s = st.clone();
                                s.constraints.push((c.clone(), taken));
                                push_ctrl(&mut s, &deps);
                                for mut s in self.block(branch, vec![s])? {
                                    s.ctrl = saved.clone();
                                    out.push(s);
                                }
                            }
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    fn expr(&self, e: &Expr, st: Path) -> Result<Forks, LitmusError> {
        match e {
            Expr::Int(v) => Ok(vec![(st, konst(*v))]),
            Expr::Name(name, _) => {
                if let Some(v) = st.regs.get(name) {
                    let v = v.clone();
                    return Ok(vec![(st, v)]);
                }
                if self.params.contains(name) {
                    let locs = self.locations.locations;
                    let loc = locs
                        .index(name)
                        .ok_or_else(|| LitmusError::Invalid(format!("unknown location {name}")))?;
                    return Ok(vec![(st, konst(locs.address(loc)))]);
                }
                // herd7 reads an undeclared name (even `true`) as a register
                // holding 0; do the same so verdicts agree.
                Ok(vec![(st, konst(0))])
            }
            Expr::Deref(p) => {
                let mut out = Vec::new();
                for (mut st, loc, addr) in self.address(p, st)? {
                    let v = push_read(&mut st, loc, 0, addr_deps(&addr));
                    out.push((st, v));
                }
                Ok(out)
            }
            Expr::AddrOf(inner) => match inner.as_ref() {
                Expr::Deref(p) => self.expr(p, st),
                _ => Err(LitmusError::unsupported("taking the address of a register")),
            },
            Expr::Bin(op, a, b) => {
                let mut out = Vec::new();
                for (st, x) in self.expr(a, st)? {
                    for (st, y) in self.expr(b, st)? {
                        out.push((st, mk_bin(*op, x.clone(), y)));
                    }
                }
                Ok(out)
            }
            Expr::Un(op, a) => Ok(self
                .expr(a, st)?
                .into_iter()
                .map(|(st, x)| {
                    let v = match x.as_const() {
                        Some(c) => konst(unop(*op, c)),
                        None => Rc::new(Sym::Un(*op, x)),
                    };
                    (st, v)
                })
                .collect()),
            Expr::Cond(c, a, b) => {
                let mut out = Vec::new();
                for (st, cv) in self.expr(c, st)? {
                    for (st, av) in self.expr(a, st)? {
                        for (st, bv) in self.expr(b, st)? {
                            let v = match cv.as_const() {
                                Some(0) => bv,
                                Some(_) => av.clone(),
                                None => Rc::new(Sym::Ite(cv.clone(), av.clone(), bv)),
                            };
                            out.push((st, v));
                        }
                    }
                }
                Ok(out)
            }
            Expr::Call(name, args, _) => self.call(name, args, st),
        }
    }

    /// Resolve a pointer expression to locations, forking on symbolic pointers.
    fn address(&self, p: &Expr, st: Path) -> Result<Vec<(Path, usize, Rc<Sym>)>, LitmusError> {
        let mut out = Vec::new();
        for (st, v) in self.expr(p, st)? {
            match v.as_const() {
                Some(a) if Locations::looks_like_address(a) => {
                    let loc = self.locations.locations.at_address(a).ok_or_else(|| {
                        LitmusError::unsupported(
                            "memory access past the end of a variable or array",
                        )
                    })?;
                    out.push((st, loc, v))
                }
                Some(_) => {
                    return Err(LitmusError::unsupported(
                        "memory access through a non-pointer value",
                    ))
                }
                None => {
                    let locs = self.locations.locations;
                    if let Some(a) = v.eval(&mut |i| st.bound.get(&i).copied()) {
                        // Fixed by an earlier fork of this path; a value that
                        // designates no location is a path that cannot occur
                        // (as for the forks below).
                        if let Some(loc) = locs.at_address(a) {
                            out.push((st, loc, v));
                        }
                        continue;
                    }
                    let solved = var_plus_constant(&v);
                    for &loc in self.locations.data_locations {
                        let mut s = st.clone();
                        let address = locs.address(loc);
                        let eq = mk_bin(BinOp::Eq, v.clone(), konst(address));
                        s.constraints.push((eq, true));
                        if let Some((var, k)) = solved {
                            s.bound.insert(var, address.wrapping_sub(k));
                        }
                        out.push((s, loc, v.clone()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Address argument of a primitive: an lvalue (`*x`) or a pointer (`x`).
    fn prim_address(
        &self,
        arg: &Expr,
        lvalue: bool,
        st: Path,
    ) -> Result<Vec<(Path, usize, Rc<Sym>)>, LitmusError> {
        if lvalue {
            match arg {
                Expr::Deref(p) => self.address(p, st),
                // herd7 accepts `READ_ONCE(x)` for a pointer parameter `x`.
                other => self.address(other, st),
            }
        } else {
            self.address(arg, st)
        }
    }
}

/// `v` as `Var(i) + k`, when it has that shape.
fn var_plus_constant(v: &Sym) -> Option<(usize, i64)> {
    match v {
        Sym::Var(i) => Some((*i, 0)),
        Sym::Bin(BinOp::Add, a, b) => match (a.as_ref(), b.as_ref()) {
            (Sym::Var(i), Sym::Const(k)) | (Sym::Const(k), Sym::Var(i)) => Some((*i, *k)),
            _ => None,
        },
        Sym::Bin(BinOp::Sub, a, b) => match (a.as_ref(), b.as_ref()) {
            (Sym::Var(i), Sym::Const(k)) => Some((*i, k.wrapping_neg())),
            _ => None,
        },
        _ => None,
    }
}

/// `int r = f(r);` reads the uninitialised `r`, which herd7 takes as 0.
fn with_default(mut st: Path, name: &str) -> Path {
    st.regs.entry(name.to_string()).or_insert_with(|| konst(0));
    st
}

fn addr_deps(addr: &Rc<Sym>) -> Vec<usize> {
    let mut v = Vec::new();
    addr.vars(&mut v);
    v
}

fn push_ctrl(st: &mut Path, deps: &[usize]) {
    for d in deps {
        if !st.ctrl.contains(d) {
            st.ctrl.push(*d);
        }
    }
}

fn push(
    st: &mut Path,
    kind: Kind,
    loc: Option<usize>,
    tags: u32,
    value: Rc<Sym>,
    addr: Vec<usize>,
    data: Vec<usize>,
) -> usize {
    let ctrl = st.ctrl.clone();
    st.events.push(PEvent {
        kind,
        loc,
        tags,
        value,
        addr,
        data,
        ctrl,
        rmw_write: None,
    });
    st.events.len() - 1
}

fn push_read(st: &mut Path, loc: usize, tags: u32, addr: Vec<usize>) -> Rc<Sym> {
    let index = st.events.len();
    let v = Rc::new(Sym::Var(index));
    push(st, Kind::R, Some(loc), tags, v.clone(), addr, Vec::new());
    v
}

/// Mark the last event (a read) as the read half of an RMW whose write comes next.
fn link_rmw(st: &mut Path) {
    let n = st.events.len();
    if let Some(last) = st.events.last_mut() {
        last.rmw_write = Some(n);
    }
}
