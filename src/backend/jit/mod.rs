//! The Cranelift JIT backend: every elementwise stage of a program becomes one
//! fused native loop (see `codegen` for the kernel ABI), run by the executor
//! over runs of consecutive elements, in parallel for large arrays.
//!
//! All `unsafe` of the backend is in `call`.

pub mod call;
pub mod codegen;
pub mod runtime;
pub mod vector;

use std::collections::HashMap;

use cranelift_codegen::settings::{self, Configurable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::default_libcall_names;

use crate::error::{Error, Result};
use crate::ir::graph::{NodeId, Program};
use crate::ir::stage::stages;
use call::{CodeMemory, KernelFn};

/// The compiled kernels of one program, one per stage, and the code memory they live in.
pub struct JitProgram {
    kernels: HashMap<NodeId, (KernelFn, Vec<NodeId>)>,
    // Declared last: dropped after the kernels that point into it.
    _code: CodeMemory,
}

impl std::fmt::Debug for JitProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JitProgram({} kernels)", self.kernels.len())
    }
}

fn new_module() -> Result<JITModule> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, k: &str, v: &str| {
        flags
            .set(k, v)
            .map_err(|e| Error::internal(format!("JIT setting {k}: {e}")))
    };
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    set(&mut flags, "is_pic", "false")?;
    let isa = cranelift_native::builder()
        .map_err(|e| {
            Error::new(
                crate::ErrorKind::Unsupported,
                format!("this CPU is not supported by the JIT: {e}"),
            )
            .with_help("use the interpreter backend")
        })?
        .finish(settings::Flags::new(flags))
        .map_err(|e| Error::internal(format!("JIT ISA: {e}")))?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for r in runtime::all() {
        builder.symbol(r.symbol, r.address);
    }
    Ok(JITModule::new(builder))
}

impl JitProgram {
    /// Compiles every stage of an optimized, verified program.
    pub fn compile(program: &Program) -> Result<JitProgram> {
        let mut module = new_module()?;
        let routines = codegen::declare_routines(&mut module)?;
        let mut roots = Vec::new();
        let mut ids = Vec::new();
        for (k, stage) in stages(program).iter().enumerate() {
            let id = codegen::define_kernel(
                &mut module,
                &routines,
                program,
                stage.root,
                &format!("stage{k}"),
            )?;
            roots.push(stage.root);
            ids.push(id);
        }
        let (code, fns) = call::finalize(module, &ids)
            .map_err(|e| Error::internal(format!("JIT finalize: {e}")))?;
        let kernels = roots
            .into_iter()
            .zip(fns)
            .map(|(root, f)| (root, (f, codegen::stage_leaves(program, root))))
            .collect();
        Ok(JitProgram {
            kernels,
            _code: code,
        })
    }

    /// The kernel computing the stage rooted at `root`, and the leaves it reads in order.
    pub fn kernel(&self, root: NodeId) -> Option<(KernelFn, &[NodeId])> {
        self.kernels
            .get(&root)
            .map(|(f, leaves)| (*f, leaves.as_slice()))
    }
}
