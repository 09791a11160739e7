//! The library's integration tests, one binary (each test binary links
//! Cranelift and wgpu again, so they are few): the public API, errors and
//! the grammar, the IR, the JIT against the interpreter, NumPy's golden
//! values, cancellation.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod cancel;
mod deep;
mod differential;
mod errors;
mod golden;
mod grammar;
mod ir_snapshots;
mod jit;
mod matmul;
