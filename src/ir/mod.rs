//! The typed intermediate representation and everything that works on it
//! before a backend: lowering from the AST, optimization, verification and
//! staging at reductions.
//!
//! Semantics: a [`Program`] computes, for every index of the broadcast shape
//! of its leaves, the value of its root node; every operation is elementwise
//! except `Reduce`, whose result keeps reduced axes with length 1 (or is 0-d
//! for a full reduction). When the root itself is a reduction along an axis,
//! that axis is removed from the final result, as in NumPy. The value of each
//! operation on one element is defined by [`scalar`].

pub mod builtins;
pub mod graph;
pub mod lower;
pub mod op;
pub mod optimize;
pub mod scalar;
pub mod stage;
pub mod verify;

pub use graph::{Graph, Input, InputId, Node, NodeId, Program};
pub use op::{BinaryOp, ReduceOp, UnaryOp};
