//! Backends: what turns a verified, optimized program into values.
//!
//! - [`interp`]: the reference interpreter (always available; the oracle).
//! - [`jit`]: Cranelift native code, the default.
//!
//! - `wgsl` (feature `gpu`): WGSL compute shaders through wgpu.

pub mod interp;
pub mod jit;
#[cfg(feature = "gpu")]
pub mod wgsl;
