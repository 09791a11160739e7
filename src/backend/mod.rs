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
    /// A complex program split into real programs (`ir::split`): `parts`
    /// computes the real part of the result (or the real or bool result)
    /// and, for a complex result, the imaginary part, each prepared for
    /// the JIT or the GPU; their inputs are `sources`.
    Split {
        /// The complex program (inputs, shapes and the result's dtype).
        program: Program,
        /// Where each input of the parts comes from.
        sources: Vec<crate::ir::split::Source>,
        /// One or two prepared real programs.
        parts: Vec<Prepared>,
        /// For a complex result, both parts as one program
        /// (`ir::split::joint`), where it pays: the JIT, an elementwise
        /// program without math functions.
        joint: Option<Box<Prepared>>,
    },
    /// A full complex `sum` or `mean` (`mean` true) of a splittable
    /// operand (`sum(z*w)`), which the split itself declines: `operand`
    /// (prepared as a [`Prepared::Split`]) computes the values, which are
    /// then summed as the interpreter sums them (`scalar::complex_total`;
    /// a long 1-d operand a block at a time, `exec::split_block_sum`).
    ComplexSum {
        /// The whole program (inputs, shapes and the result's dtype).
        program: Program,
        /// The operand of the sum.
        operand: Box<Prepared>,
        /// `mean` rather than `sum`.
        mean: bool,
    },
    /// A complex program whose full complex sums and means the split
    /// declines (`z - mean(z)`, `ir::split::staged`): each sum computed
    /// first (a [`Prepared::ComplexSum`]), then `rest` (a
    /// [`Prepared::Split`]) on the program's inputs followed by the sums.
    Staged {
        /// The whole program (inputs, shapes and the result's dtype).
        program: Program,
        /// The sums, in the order of `rest`'s extra inputs.
        sums: Vec<Prepared>,
        /// The rest of the program.
        rest: Box<Prepared>,
    },
    /// A complex matrix product of two inputs (`A @ B`), which the split
    /// declines: multiplied tile by tile by `gemm` on the JIT's team
    /// (`jit::matmul::product`), where the interpreter sums in index order.
    ComplexProduct(Program),
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
            Prepared::Split { program, .. } => program,
            Prepared::ComplexSum { program, .. } => program,
            Prepared::ComplexProduct(program) => program,
            Prepared::Staged { program, .. } => program,
            #[cfg(feature = "gpu")]
            Prepared::Gpu { program, .. } => program,
        }
    }
}
