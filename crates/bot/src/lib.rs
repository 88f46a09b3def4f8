//! The list bot: which lists it follows and answers ([`policy`]), whom a
//! reply goes to ([`recipients`]), which incoming mail it must never
//! review or answer ([`guard`]), mail commands in replies ([`commands`])
//! and who may send them ([`auth`]),
//! how replies to our reviews are read ([`feedback`]), and the poll loop
//! that ties ingest, review, rendering and the outbox together
//! ([`engine`]).
//!
//! Architecture invariant: whether and to whom mail is sent is decided
//! here, by code and the operator's policy, from headers and addresses;
//! never by the model and never from text inside a patch.

pub mod auth;
pub mod commands;
pub mod config;
pub mod engine;
pub mod feedback;
pub mod guard;
pub mod headers;
pub mod policy;
pub mod recipients;
