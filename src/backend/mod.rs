//! Backends: what turns a verified, optimized program into values.
//!
//! - [`interp`]: the reference interpreter (always available; the oracle).
//! - [`jit`]: Cranelift native code, the default.
//! - `wgsl` (feature `gpu`): WGSL compute shaders through wgpu.
//!
//! A [`Prepared`] program is one of them, made once by `kernel.rs`, run by
//! the executor (`exec`), which binds inputs, infers shapes and allocates
//! the result the same way for all of them.

pub mod interp;
pub mod jit;
#[cfg(feature = "gpu")]
pub mod wgsl;

use crate::ir::Program;

/// A program prepared for one backend: what a `Kernel` runs. Each variant
/// owns the program it was made from, so it can only be run as that program.
/// (Made once per kernel and kept behind an `Arc`: the size difference
/// between variants costs nothing.)
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Prepared {
    /// The reference interpreter runs the program itself.
    Interpreter(Program),
    /// Compiled (or interpreted-tier) kernels, one per stage.
    Jit(jit::JitProgram),
    /// WGSL pipelines, one per stage.
    #[cfg(feature = "gpu")]
    Gpu {
        /// The program the shaders were generated from.
        program: Program,
        /// Its shaders.
        gpu: wgsl::GpuProgram,
    },
}

impl Prepared {
    /// The program this runs.
    pub(crate) fn program(&self) -> &Program {
        match self {
            Prepared::Interpreter(p) => p,
            Prepared::Jit(j) => j.program(),
            #[cfg(feature = "gpu")]
            Prepared::Gpu { program, .. } => program,
        }
    }
}
