//! How to compile and run: the backend, the math, the JIT's tiering.

pub use crate::backend::jit::{Tier, Tiering};

/// Which backend evaluates a kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Backend {
    /// Cranelift-compiled native code: one fused loop per stage, run in parallel.
    #[default]
    Jit,
    /// The scalar reference interpreter: slow, obviously correct; the oracle.
    Interpreter,
    /// WGSL compute shaders through wgpu (feature `gpu`): the whole language,
    /// float64/int64 where the adapter has `SHADER_F64`/`SHADER_INT64` (see
    /// `backend::wgsl`).
    Gpu,
}

/// How math functions (`sin`, `exp`, `arctan2`, `**`, …) are computed by the JIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Math {
    /// Vectorized polynomial approximations, within 4 ULP of the reference
    /// (the default; the README lists the measured bounds).
    #[default]
    Fast,
    /// The reference routines, one element at a time: slower, and equal to
    /// the interpreter bit for bit.
    Reference,
}

/// How to compile and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct Options {
    /// The backend.
    pub backend: Backend,
    /// How the JIT computes math functions.
    pub math: Math,
    /// When the JIT compiles optimized code (see [`Tiering`]).
    pub tiering: Tiering,
}

impl Options {
    /// The defaults with `backend`.
    pub fn with_backend(backend: Backend) -> Options {
        Options {
            backend,
            ..Options::default()
        }
    }

    /// These options with `math`.
    pub fn with_math(self, math: Math) -> Options {
        Options { math, ..self }
    }

    /// These options with `tiering`.
    pub fn with_tiering(self, tiering: Tiering) -> Options {
        Options { tiering, ..self }
    }
}
