//! Test support: re-exports of internal modules that the integration tests,
//! the fuzz target and `examples/` exercise directly (the front end, the IR,
//! the GPU device). Hidden from the documentation and not part of the API:
//! it may change in any release. Nothing here can call a compiled kernel
//! (the JIT's `call` layer is not re-exported), so it adds no way to make
//! safe code unsound.

/// The front end.
pub mod syntax {
    pub use crate::syntax::{Incomplete, ast, incomplete, lexer, parse, parse_program, parser};
}

/// The typed IR.
pub mod ir {
    pub use crate::ir::{BinaryOp, ReduceOp, UnaryOp, builtins, op, scalar, split, verify};
}

/// The backends' safe parts.
pub mod backend {
    /// The JIT's tiering constants and CPU feature detection.
    pub mod jit {
        pub use crate::backend::jit::HOT_ELEMENTS;
        /// The ahead-of-time compiled math routines.
        pub mod aot {
            pub use crate::backend::jit::aot::available;
        }
    }
    /// The GPU backend.
    #[cfg(feature = "gpu")]
    pub mod wgsl {
        pub use crate::backend::wgsl::{GpuProgram, codegen, device, math, set_binding_limit};
    }
}

/// Evaluates `program` (for instance the unoptimized IR of
/// `Kernel::compiled().lowered`) with the reference interpreter.
pub fn interpret(program: &crate::Program, vars: &crate::Vars<'_>) -> crate::Result<crate::Array> {
    let prepared = crate::backend::Prepared::Interpreter(program.clone());
    crate::exec::evaluate(&prepared, vars, crate::cancel::Cancel::never())
}
