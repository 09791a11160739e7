//! Backends: what turns a verified, optimized program into values.
//!
//! - [`interp`]: the reference interpreter (always available; the oracle).
//!
//! The Cranelift JIT and the WGSL/GPU backend arrive in later issues.

pub mod interp;
