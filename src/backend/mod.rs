//! Backends: what turns a verified, optimized program into values.
//!
//! - [`interp`]: the reference interpreter (always available; the oracle).
//! - [`jit`]: Cranelift native code, the default.
//!
//! The WGSL/GPU backend arrives in a later issue.

pub mod interp;
pub mod jit;
