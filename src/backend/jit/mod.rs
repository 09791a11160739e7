//! The Cranelift JIT backend: every elementwise stage of a program becomes one
//! fused native loop (see `codegen` for the kernel ABI), run by the executor
//! over runs of consecutive elements, in parallel for large arrays.
//!
//! All `unsafe` of the backend is in `call`, and in `aot` (the entry points of
//! the ahead-of-time compiled AVX2 math routines).

pub mod aot;
pub mod call;
pub mod codegen;
pub mod library;
pub mod runtime;
pub mod vector;
pub mod vmath;

use std::collections::HashMap;
use std::sync::OnceLock;

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::default_libcall_names;

use crate::error::{Error, Result};
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::stage::{Stage, stage_leaves, stages};
use call::{CodeMemory, KernelFn};

/// The compiled kernels of one program, one per stage in execution order,
/// and the code memory they live in. What a run needs from the program's
/// structure (its stages, their leaves, the inputs it reads) is computed
/// here once, so an evaluation does not walk the graph.
pub struct JitProgram {
    stages: Vec<CompiledStage>,
    inputs: Vec<NodeId>,
    full_reductions_only: bool,
    // Declared last: dropped after the kernels that point into it.
    _code: CodeMemory,
}

/// One stage and its kernel.
pub struct CompiledStage {
    /// The stage (its root and the reduction it feeds, if any).
    pub stage: Stage,
    /// The kernel computing the stage's root elementwise.
    pub kernel: KernelFn,
    /// The leaves the kernel reads, in the order of its `inputs` argument.
    pub leaves: Vec<NodeId>,
}

impl std::fmt::Debug for JitProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JitProgram({} kernels)", self.stages.len())
    }
}

/// The host ISA, detected once per process.
fn isa() -> Result<OwnedTargetIsa> {
    static ISA: OnceLock<std::result::Result<OwnedTargetIsa, String>> = OnceLock::new();
    ISA.get_or_init(|| {
        let mut flags = settings::builder();
        // Cranelift's IR verifier runs in debug builds (tests) only.
        let verify = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        for (k, v) in [
            ("opt_level", "speed"),
            ("use_colocated_libcalls", "false"),
            ("is_pic", "false"),
            ("enable_verifier", verify),
        ] {
            flags.set(k, v).map_err(|e| format!("setting {k}: {e}"))?;
        }
        cranelift_native::builder()
            .map_err(|e| format!("this CPU is not supported by the JIT: {e}"))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| format!("JIT ISA: {e}"))
    })
    .clone()
    .map_err(|e| {
        Error::new(crate::ErrorKind::Unsupported, e)
            .with_help("use the interpreter backend: Options::with_backend(Backend::Interpreter)")
    })
}

/// A JIT module for the host, with the runtime routines resolvable by name.
pub fn new_module() -> Result<JITModule> {
    let mut builder = JITBuilder::with_isa(isa()?, default_libcall_names());
    for r in runtime::all() {
        builder.symbol(r.symbol, r.address as *const u8);
    }
    for (symbol, entry) in aot::all() {
        builder.symbol(symbol, entry as *const u8);
    }
    for (symbol, entry) in [aot::sincos_entry(false), aot::sincos_entry(true)] {
        builder.symbol(symbol, entry as *const u8);
    }
    builder.symbol_lookup_fn(Box::new(library::lookup));
    Ok(JITModule::new(builder))
}

impl JitProgram {
    /// Compiles every stage of an optimized, verified program; with
    /// `fast_math`, vector loops use `vmath` instead of the reference routines.
    pub fn compile(program: &Program, fast_math: bool) -> Result<JitProgram> {
        Self::compile_listing(program, fast_math, None)
    }

    /// Like [`JitProgram::compile`], also appending the Cranelift IR of every
    /// kernel (its text form) to `listing`, for `explain`.
    pub fn compile_listing(
        program: &Program,
        fast_math: bool,
        mut listing: Option<&mut Vec<String>>,
    ) -> Result<JitProgram> {
        let mut module = new_module()?;
        let mut routines = HashMap::new();
        let stages = stages(program);
        let mut ids = Vec::new();
        for (k, stage) in stages.iter().enumerate() {
            let id = codegen::define_kernel(
                &mut module,
                &mut routines,
                fast_math,
                program,
                stage.root,
                &format!("stage{k}"),
                listing.as_deref_mut(),
            )?;
            ids.push(id);
        }
        let (code, fns) = call::finalize(module, &ids)
            .map_err(|e| Error::internal(format!("JIT finalize: {e}")))?;
        let g = &program.graph;
        let stages = stages
            .into_iter()
            .zip(fns)
            .map(|(stage, kernel)| CompiledStage {
                stage,
                kernel,
                leaves: stage_leaves(g, stage.root),
            })
            .collect();
        let live = g.reachable(program.root);
        let full_reductions_only = g
            .ids()
            .filter(|id| live[id.index()])
            .all(|id| !matches!(g.node(id), Node::Reduce(_, _, Some(_))));
        Ok(JitProgram {
            stages,
            inputs: program.read_inputs(),
            full_reductions_only,
            _code: code,
        })
    }

    /// The stages in execution order, with their kernels.
    pub fn stages(&self) -> &[CompiledStage] {
        &self.stages
    }

    /// The `Input` nodes the program reads, in id order.
    pub fn inputs(&self) -> &[NodeId] {
        &self.inputs
    }

    /// `true` when every reduction of the program is a full one (no
    /// `axis=`; also when there is none): then each stage's shape is the
    /// broadcast of the inputs it reads, as reductions are 0-d.
    pub fn full_reductions_only(&self) -> bool {
        self.full_reductions_only
    }
}
