//! The events each primitive of `prims` produces on a path: loads,
//! stores, fences, RMWs (forked on cmpxchg and add_unless success), locks
//! (forked on trylock and is_locked), SRCU and `spin_unlock_wait()`. It
//! must never choose reads-from.

use super::{addr_deps, konst, link_rmw, mk_bin, push, push_read, Exec, Forks, Kind, Path};
use crate::ast::{BinOp, Expr};
use crate::error::LitmusError;
use crate::prims::{self, tag, FenceKind, Prim, Returns};

impl Exec<'_> {
    pub(super) fn call(&self, name: &str, args: &[Expr], st: Path) -> Result<Forks, LitmusError> {
        let prim = prims::lookup(name)
            .ok_or_else(|| LitmusError::unsupported(format!("primitive {name}")))?;
        let arity = match prim {
            Prim::Load { .. }
            | Prim::Lock
            | Prim::Unlock
            | Prim::Trylock
            | Prim::IsLocked
            | Prim::UnlockWait
            | Prim::SrcuLock
            | Prim::SyncSrcu => 1,
            Prim::Store { .. } | Prim::Xchg(_) | Prim::SrcuUnlock => 2,
            Prim::Fence(_) => 0,
            Prim::Cmpxchg(_) | Prim::AddUnless(_) => 3,
            Prim::AtomicOp { operand, .. } => {
                if operand.is_some() {
                    1
                } else {
                    2
                }
            }
        };
        if args.len() != arity {
            return Err(LitmusError::Invalid(format!(
                "{name} takes {arity} arguments, got {}",
                args.len()
            )));
        }
        let mut out = Vec::new();
        match prim {
            Prim::Fence(kind) => {
                let mut st = st;
                push(
                    &mut st,
                    Kind::F(kind),
                    None,
                    0,
                    konst(0),
                    Vec::new(),
                    Vec::new(),
                );
                out.push((st, konst(0)));
            }
            Prim::Load { tag, lvalue } => {
                for (mut st, loc, addr) in self.prim_address(&args[0], lvalue, st)? {
                    let v = push_read(&mut st, loc, tag, addr_deps(&addr));
                    out.push((st, v));
                }
            }
            Prim::Store {
                tag,
                lvalue,
                mb_after,
            } => {
                for (st, loc, addr) in self.prim_address(&args[0], lvalue, st)? {
                    for (mut st, v) in self.expr(&args[1], st)? {
                        let mut data = Vec::new();
                        v.vars(&mut data);
                        push(&mut st, Kind::W, Some(loc), tag, v, addr_deps(&addr), data);
                        if mb_after {
                            push(
                                &mut st,
                                Kind::F(FenceKind::Mb),
                                None,
                                0,
                                konst(0),
                                Vec::new(),
                                Vec::new(),
                            );
                        }
                        out.push((st, konst(0)));
                    }
                }
            }
            Prim::Xchg(t) => {
                for (st, loc, addr) in self.address(&args[0], st)? {
                    for (mut st, v) in self.expr(&args[1], st)? {
                        let a = addr_deps(&addr);
                        let old = push_read(&mut st, loc, t | tag::RMW, a.clone());
                        let mut data = Vec::new();
                        v.vars(&mut data);
                        link_rmw(&mut st);
                        push(&mut st, Kind::W, Some(loc), t | tag::RMW, v, a, data);
                        out.push((st, old));
                    }
                }
            }
            Prim::Cmpxchg(t) => {
                for (st, loc, addr) in self.address(&args[0], st)? {
                    for (st, expected) in self.expr(&args[1], st)? {
                        for (st, new) in self.expr(&args[2], st)? {
                            let a = addr_deps(&addr);
                            let mut fail = st.clone();
                            let old =
                                push_read(&mut fail, loc, t | tag::RMW | tag::FAILED, a.clone());
                            fail.constraints
                                .push((mk_bin(BinOp::Eq, old.clone(), expected.clone()), false));
                            out.push((fail, old));
                            let mut ok = st;
                            let old = push_read(&mut ok, loc, t | tag::RMW, a.clone());
                            ok.constraints
                                .push((mk_bin(BinOp::Eq, old.clone(), expected.clone()), true));
                            let mut data = Vec::new();
                            new.vars(&mut data);
                            link_rmw(&mut ok);
                            push(&mut ok, Kind::W, Some(loc), t | tag::RMW, new, a, data);
                            out.push((ok, old));
                        }
                    }
                }
            }
            Prim::AtomicOp {
                tag: t,
                op,
                operand,
                returns,
            } => {
                let (value_arg, ptr_arg) = match operand {
                    Some(k) => (None, &args[0]).map_first(k),
                    None => (Some(&args[0]), &args[1]).map_first(0),
                };
                let operands: Forks = match value_arg {
                    Ok(k) => vec![(st, konst(k))],
                    Err(e) => self.expr(e, st)?,
                };
                for (st, operand) in operands {
                    for (mut st, loc, addr) in self.address(ptr_arg, st)? {
                        let a = addr_deps(&addr);
                        let old = push_read(&mut st, loc, t | tag::RMW, a.clone());
                        let new = mk_bin(op, old.clone(), operand.clone());
                        let mut data = Vec::new();
                        new.vars(&mut data);
                        link_rmw(&mut st);
                        push(
                            &mut st,
                            Kind::W,
                            Some(loc),
                            t | tag::RMW,
                            new.clone(),
                            a,
                            data,
                        );
                        let result = match returns {
                            Returns::Nothing => konst(0),
                            Returns::Old => old,
                            Returns::New => new,
                            Returns::NewIsZero => mk_bin(BinOp::Eq, new, konst(0)),
                            Returns::NewIsNegative => mk_bin(BinOp::Lt, new, konst(0)),
                        };
                        out.push((st, result));
                    }
                }
            }
            Prim::AddUnless(t) => {
                for (st, loc, addr) in self.address(&args[0], st)? {
                    for (st, addend) in self.expr(&args[1], st)? {
                        for (st, unless) in self.expr(&args[2], st)? {
                            let a = addr_deps(&addr);
                            let mut fail = st.clone();
                            let old =
                                push_read(&mut fail, loc, t | tag::RMW | tag::FAILED, a.clone());
                            fail.constraints
                                .push((mk_bin(BinOp::Eq, old, unless.clone()), true));
                            out.push((fail, konst(0)));
                            let mut ok = st;
                            let old = push_read(&mut ok, loc, t | tag::RMW, a.clone());
                            ok.constraints
                                .push((mk_bin(BinOp::Eq, old.clone(), unless.clone()), false));
                            let new = mk_bin(BinOp::Add, old, addend.clone());
                            let mut data = Vec::new();
                            new.vars(&mut data);
                            link_rmw(&mut ok);
                            push(&mut ok, Kind::W, Some(loc), t | tag::RMW, new, a, data);
                            out.push((ok, konst(1)));
                        }
                    }
                }
            }
            Prim::Lock | Prim::Trylock => {
                for (st, loc, addr) in self.address(&args[0], st)? {
                    let a = addr_deps(&addr);
                    if prim == Prim::Trylock {
                        let mut fail = st.clone();
                        push_read(&mut fail, loc, tag::LF, a.clone());
                        out.push((fail, konst(0)));
                    }
                    let mut ok = st;
                    push_read(&mut ok, loc, tag::LKR, a.clone());
                    link_rmw(&mut ok);
                    push(
                        &mut ok,
                        Kind::W,
                        Some(loc),
                        tag::LKW,
                        konst(1),
                        a,
                        Vec::new(),
                    );
                    out.push((ok, konst(1)));
                }
            }
            Prim::Unlock => {
                for (mut st, loc, addr) in self.address(&args[0], st)? {
                    push(
                        &mut st,
                        Kind::W,
                        Some(loc),
                        tag::UL,
                        konst(0),
                        addr_deps(&addr),
                        Vec::new(),
                    );
                    out.push((st, konst(0)));
                }
            }
            Prim::IsLocked => {
                for (st, loc, addr) in self.address(&args[0], st)? {
                    let a = addr_deps(&addr);
                    let mut locked = st.clone();
                    push_read(&mut locked, loc, tag::RL, a.clone());
                    out.push((locked, konst(1)));
                    let mut unlocked = st;
                    push_read(&mut unlocked, loc, tag::RU, a);
                    out.push((unlocked, konst(0)));
                }
            }
            Prim::UnlockWait => {
                // lock.cat's RU (it must read an unlocked value) with
                // acquire ordering, as the kernel documented it.
                for (mut st, loc, addr) in self.address(&args[0], st)? {
                    push_read(&mut st, loc, tag::RU | tag::ACQUIRE, addr_deps(&addr));
                    out.push((st, konst(0)));
                }
            }
            Prim::SrcuLock => {
                for (mut st, loc, addr) in self.address(&args[0], st)? {
                    let v = push_read(&mut st, loc, tag::SRCU_LOCK, addr_deps(&addr));
                    out.push((st, v));
                }
            }
            Prim::SrcuUnlock => {
                for (st, loc, addr) in self.address(&args[0], st)? {
                    for (mut st, v) in self.expr(&args[1], st)? {
                        let mut data = Vec::new();
                        v.vars(&mut data);
                        push(
                            &mut st,
                            Kind::W,
                            Some(loc),
                            tag::SRCU_UNLOCK,
                            v,
                            addr_deps(&addr),
                            data,
                        );
                        out.push((st, konst(0)));
                    }
                }
            }
            Prim::SyncSrcu => {
                for (mut st, loc, addr) in self.address(&args[0], st)? {
                    push(
                        &mut st,
                        Kind::SyncSrcu,
                        Some(loc),
                        0,
                        konst(0),
                        addr_deps(&addr),
                        Vec::new(),
                    );
                    out.push((st, konst(0)));
                }
            }
        }
        Ok(out)
    }
}

/// `(Some(value expr) | None, pointer)` helper: returns either the constant
/// operand (`Ok`) or the expression to evaluate (`Err`).
trait MapFirst<'e> {
    fn map_first(self, k: i64) -> (Result<i64, &'e Expr>, &'e Expr);
}

impl<'e> MapFirst<'e> for (Option<&'e Expr>, &'e Expr) {
    fn map_first(self, k: i64) -> (Result<i64, &'e Expr>, &'e Expr) {
        match self.0 {
            Some(e) => (Err(e), self.1),
            None => (Ok(k), self.1),
        }
    }
}
