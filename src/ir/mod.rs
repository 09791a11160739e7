//! The typed intermediate representation and everything that works on it
//! before a backend: lowering from the AST, optimization, verification and
//! staging at reductions.
//!
//! Semantics: a [`Program`] computes, for every index of the broadcast shape
//! of its leaves, the value of its root node; every operation is elementwise
//! except `Reduce`, whose result keeps reduced axes with length 1 (or is 0-d
//! for a full reduction). At the end, reduced axes that nothing else in the
//! result spans are removed, so `sum(x, axis=1)` has NumPy's shape while
//! `x / sum(x, axis=1)` broadcasts like `keepdims=True`. The value of each
//! operation on one element is defined by [`scalar`].

pub mod builtins;
pub mod cmath;
pub(crate) mod fma;
pub(crate) mod fmath;
pub mod graph;
pub mod lower;
pub mod op;
pub mod optimize;
pub mod scalar;
pub mod shape;
pub mod split;
pub mod stage;
pub mod verify;

pub use graph::{Input, Program, Summary};
pub use op::{BinaryOp, ReduceOp, UnaryOp};
