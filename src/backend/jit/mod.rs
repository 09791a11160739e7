//! The Cranelift JIT backend: every elementwise stage of a program becomes one
//! fused native loop (see `codegen` for the kernel ABI), run (`run`) over runs
//! of consecutive elements, in parallel for large arrays. A program's stages
//! start in the interpreted tier (`blocks`) and are compiled optimized once
//! the program is hot ([`HOT_ELEMENTS`]); both read one plan per stage
//! (`plan`).
//!
//! All `unsafe` of the backend is in `call`: kernel calls and code memory
//! (`call/mod.rs`), and the entry points of the ahead-of-time compiled math
//! routines, AVX-512 and AVX2+FMA variants (`call/aot.rs`; the routines
//! themselves are safe code in `aot`).

#[cfg(test)]
mod accuracy_tests;
pub mod aot;
pub mod blocks;
pub mod call;
pub mod codegen;
pub mod library;
pub mod matmul;
pub mod plan;
pub mod reduce;
pub mod run;
pub mod runtime;
pub mod values;
pub mod vector;
pub mod vmath;
pub mod wide;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::default_libcall_names;

use crate::error::{Error, Result, Span};
use crate::ir::graph::{Graph, Input, InputId, Node, NodeId, Program};
use crate::ir::op::ReduceOp;
use crate::ir::stage::{Stage, stages};
use crate::types::DType;
use call::{CodeMemory, KernelFn, KernelSig};

/// How Cranelift compiles a program's kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Nothing compiled: the stages run in `blocks`' interpreter (an
    /// ahead-of-time compiled loop per operation over blocks of 256
    /// elements), bit for bit as compiled code would; stages it cannot run
    /// that way are compiled at the baseline tier.
    Interpreted,
    /// Fast to compile: no IR optimization, single-pass register allocation.
    Baseline,
    /// Fast code: the e-graph optimizer and backtracking register allocation
    /// (about twice the compile time).
    Optimized,
}

/// When the JIT compiles the optimized tier of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Tiering {
    /// Start interpreted ([`Tier::Interpreted`]); once the program has run
    /// on [`HOT_ELEMENTS`] elements, compile it optimized (in the call that
    /// crosses the mark) and run that from then on. The default: a first
    /// call costs microseconds to prepare, a program that is used a lot gets
    /// the fast code.
    #[default]
    Adaptive,
    /// The interpreted tier only.
    Interpreted,
    /// The baseline tier only.
    Baseline,
    /// The optimized tier, up front. (A program with a stage of more than
    /// 4096 nodes stays at the baseline tier, with the same results: the
    /// optimizing register allocator's time grows with the square of the
    /// values live at once. Adaptive tiering does not tier such a program up.)
    Optimized,
}

/// Elements a program runs on in its first tier before it is compiled
/// optimized ([`Tiering::Adaptive`]): at the 3–9 ns per element measured for
/// the interpreted tier at n = 1e3 (1–6 for baseline kernels) that is about
/// 0.8–2.3 ms of work, the order of the optimizing compile (0.4–1.1 ms
/// measured), so tiering up costs at most about as much as the program has
/// already spent, and pays off after.
pub const HOT_ELEMENTS: usize = 1 << 18;

/// The most nodes a stage may have for the optimized tier; a program with a
/// larger stage stays at the baseline tier (same results, bit for bit).
/// Cranelift's backtracking register allocator takes time quadratic in the
/// values live at once: with a term per node live to the end
/// (`a*k1 + (a*k2 + (…))`) 3,000 nodes took 0.3 s to compile optimized,
/// 12,000 took 3.8 s; the baseline's single-pass allocator took 0.05 s and
/// 0.2 s.
pub const MAX_OPTIMIZED_NODES: usize = 4096;

/// Whether every stage of `plans` is small enough for the optimized tier.
fn optimizable<'p>(mut plans: impl Iterator<Item = &'p plan::StagePlan>) -> bool {
    plans.all(|p| p.nodes.len() <= MAX_OPTIMIZED_NODES)
}

/// The compiled kernels of one program, one per stage in execution order,
/// and the code memory they live in. What a run needs from the program's
/// structure (its stages, their leaves, the inputs it reads) is computed
/// here once, so an evaluation does not walk the graph.
pub struct JitProgram {
    /// The program the kernels were compiled from (they are only ever run
    /// with operands made from its stages).
    program: Program,
    stages: Vec<CompiledStage>,
    inputs: Vec<NodeId>,
    full_reductions_only: bool,
    /// See [`JitProgram::fusible_product`].
    fusible_product: Option<NodeId>,
    /// See [`JitProgram::fusible_reductions`].
    fusible_reductions: Vec<(NodeId, NodeId)>,
    /// See [`JitProgram::has_products`].
    has_products: bool,
    /// The first tier's kernels, one per stage (in `_code` or `_interps`).
    kernels: Vec<KernelFn>,
    /// The tier of `kernels`.
    tier: Tier,
    /// Elements run on so far, while the program waits to tier up;
    /// `HOT_ELEMENTS` or more once it no longer does.
    work: AtomicUsize,
    /// The optimized kernels, once compiled (adaptive tiering).
    optimized: OnceLock<Compiled>,
    // Declared last: dropped after the kernels that point into them. Boxed:
    // kernels hold their addresses, which must not move as the vector grows.
    #[allow(clippy::vec_box)]
    _interps: Vec<Box<blocks::Interp>>,
    _code: CodeMemory,
}

/// One stage and what its kernel reads.
pub struct CompiledStage {
    /// The stage (its root and the reduction it feeds, if any).
    pub stage: Stage,
    /// How it is computed: made once, read by every tier's kernel.
    plan: plan::StagePlan,
}

impl CompiledStage {
    /// The leaves the kernel reads, in the order of its `inputs` argument.
    pub fn leaves(&self) -> &[NodeId] {
        &self.plan.leaves
    }

    /// The rough cost of one element (`StagePlan::cost`).
    pub fn cost(&self) -> usize {
        self.plan.cost
    }

    /// Whether a large output is worth streaming stores
    /// (`StagePlan::memory_bound`).
    pub fn memory_bound(&self) -> bool {
        self.plan.memory_bound
    }
}

/// Kernels and the code memory (and interpreted stages) they live in.
struct Compiled {
    kernels: Vec<KernelFn>,
    // Boxed: the kernels hold their addresses.
    #[allow(clippy::vec_box)]
    _interps: Vec<Box<blocks::Interp>>,
    _code: CodeMemory,
}

impl std::fmt::Debug for JitProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "JitProgram({} kernels, {:?})",
            self.stages.len(),
            self.tier()
        )
    }
}

/// The host ISA with `tier`'s settings, made once per process.
fn isa(tier: Tier) -> Result<OwnedTargetIsa> {
    type Made = OnceLock<std::result::Result<OwnedTargetIsa, String>>;
    static ISAS: [Made; 2] = [OnceLock::new(), OnceLock::new()];
    let (index, opt_level, regalloc) = match tier {
        Tier::Interpreted | Tier::Baseline => (0, "none", "single_pass"),
        Tier::Optimized => (1, "speed", "backtracking"),
    };
    ISAS[index]
        .get_or_init(|| {
            let mut flags = settings::builder();
            // Cranelift's IR verifier runs in debug builds (tests) only.
            let verify = if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            };
            for (k, v) in [
                ("opt_level", opt_level),
                ("regalloc_algorithm", regalloc),
                ("use_colocated_libcalls", "false"),
                ("is_pic", "false"),
                ("enable_verifier", verify),
                // A kernel's frame grows with its stage (spilled values, AOT
                // buffers): probing each page of a large frame makes one that
                // did not fit hit the guard page (a clean stack-overflow
                // abort) instead of writing past it. `call` grows the stack
                // before calling a kernel whose frame does not fit.
                ("enable_probestack", "true"),
                ("probestack_strategy", "inline"),
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
            Error::new(crate::ErrorKind::Unsupported, e).with_help(
                "use the interpreter backend: Options::with_backend(Backend::Interpreter)",
            )
        })
}

/// A JIT module for the host compiling at `tier`, with the runtime routines
/// resolvable by name.
pub fn new_module(tier: Tier) -> Result<JITModule> {
    let mut builder = JITBuilder::with_isa(isa(tier)?, default_libcall_names());
    builder.symbol_lookup_fn(Box::new(|name| {
        routine_address(name).or_else(|| library::lookup(name))
    }));
    Ok(JITModule::new(builder))
}

/// The address of a runtime or AOT routine by symbol, from a table made
/// once per process (registering ~150 symbols with every module cost 8% of
/// a compile).
fn routine_address(symbol: &str) -> Option<*const u8> {
    static TABLE: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = HashMap::new();
        for r in runtime::all() {
            t.insert(r.symbol, r.address);
        }
        for (symbol, entry) in call::aot::all() {
            t.insert(symbol, entry as usize);
        }
        for (symbol, entry) in [
            call::aot::sincos_entry(false),
            call::aot::sincos_entry(true),
        ] {
            t.insert(symbol, entry as usize);
        }
        t
    });
    table.get(symbol).map(|&a| a as *const u8)
}

/// Compiles the kernel of every stage (by its plan) of `program` at `tier`
/// (interpreted: makes the interpreter's stages, compiling at the baseline
/// tier those it cannot run), appending their Cranelift IR to `listing` if given.
fn compile_kernels(
    program: &Program,
    plans: &[&plan::StagePlan],
    tier: Tier,
    mut listing: Option<&mut Vec<String>>,
) -> Result<Compiled> {
    let g = &program.graph;
    // The module is made on first use: a program whose stages are all
    // interpreted or copies (`sum(x)`, `x`) compiles nothing and owns no
    // code memory.
    let mut module = None;
    let mut routines = HashMap::new();
    let mut ids = Vec::new();
    let mut ready = Vec::new();
    let mut interps = Vec::new();
    let mut wides = Vec::new();
    for (k, &plan) in plans.iter().enumerate() {
        if tier == Tier::Interpreted
            && let Some(interp) = blocks::Interp::build(program, plan)
        {
            let interp = Box::new(interp);
            ready.push((k, KernelFn::from_interp(&*interp)));
            interps.push(interp);
            continue;
        }
        if matches!(
            g.node(plan.root),
            Node::Input(_) | Node::Reduce(..) | Node::MatMul(..)
        ) {
            ready.push((k, copy_kernel(g.dtype(plan.root))?));
            continue;
        }
        let module = match &mut module {
            Some(m) => m,
            None => module.insert(new_module(tier)?),
        };
        let (id, frame) = codegen::define_kernel(
            module,
            &mut routines,
            program,
            plan,
            &format!("stage{k}"),
            listing.as_deref_mut(),
        )?;
        let sums = if plan.leaf_sums {
            Some(codegen::define_leaf_sums(
                module,
                &mut routines,
                program,
                plan,
                &format!("stage{k}_sums"),
                listing.as_deref_mut(),
            )?)
        } else {
            None
        };
        ids.push((id, stage_sig(g, plan, frame), sums));
        wides.push((k, wide_code(program, plan)));
    }
    let (code, kernels) = match module {
        Some(m) => {
            call::finalize(m, &ids).map_err(|e| Error::internal(format!("JIT finalize: {e}")))?
        }
        None => (CodeMemory::empty(), Vec::new()),
    };
    // The compiled kernels, in stage order so far, get their wide loops.
    let mut kernels: Vec<KernelFn> = kernels
        .into_iter()
        .zip(wides)
        .map(|(kernel, (_, code))| match code {
            Some(code) => kernel
                .with_wide(&code)
                .map_err(|e| Error::internal(format!("mapping wide code: {e}"))),
            None => Ok(kernel),
        })
        .collect::<Result<_>>()?;
    for (k, kernel) in ready {
        kernels.insert(k, kernel);
    }
    Ok(Compiled {
        kernels,
        _interps: interps,
        _code: code,
    })
}

/// The wide loops of the stage of `plan` (`wide`), on a CPU with AVX2 or
/// AVX-512 (`aot::isa`), unless `JITEXPR_NO_WIDE` is set.
fn wide_code(program: &Program, plan: &plan::StagePlan) -> Option<wide::WideCode> {
    use std::sync::OnceLock;
    static OFF: OnceLock<bool> = OnceLock::new();
    if *OFF.get_or_init(|| std::env::var_os("JITEXPR_NO_WIDE").is_some()) {
        return None;
    }
    let stage = wide::Stage {
        nodes: &plan.nodes,
        leaves: &plan.leaves,
        root: plan.root,
    };
    wide::compile(program, stage, aot::isa()?, plan.leaf_sums)
}

/// The signature of the kernel of the stage of `plan`, whose frame takes
/// `frame` bytes of stack.
fn stage_sig(g: &Graph, plan: &plan::StagePlan, frame: usize) -> KernelSig {
    KernelSig {
        leaves: plan.leaves.iter().map(|&l| g.dtype(l)).collect(),
        out: g.dtype(plan.root),
        frame,
    }
}

/// The kernel of a stage whose root is a leaf (an input, or the result of
/// a reduction: the last stage of `sum(a*b)`), which copies it to the
/// output: one per dtype and process, compiled on first use.
fn copy_kernel(dtype: DType) -> Result<KernelFn> {
    static COPIES: Mutex<Vec<(DType, KernelFn, CodeMemory)>> = Mutex::new(Vec::new());
    let mut copies = COPIES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, kernel, _)) = copies.iter().find(|(d, ..)| *d == dtype) {
        return Ok(kernel.clone());
    }
    let mut graph = Graph::new(vec![Input {
        name: "x".into(),
        dtype,
    }]);
    let root = graph.add(Node::Input(InputId(0)), dtype, Span::default());
    let program = Program { graph, root };
    let mut module = new_module(Tier::Optimized)?;
    let mut routines = HashMap::new();
    // `sum(x)` reduces the copy stage: float copies sum their leaves too.
    let plan = plan::StagePlan::new(&program, root, false).with_leaf_sums(&program, true);
    let (id, frame) =
        codegen::define_kernel(&mut module, &mut routines, &program, &plan, "copy", None)?;
    let sums = if plan.leaf_sums {
        let sums = codegen::define_leaf_sums(
            &mut module,
            &mut routines,
            &program,
            &plan,
            "copy_sums",
            None,
        )?;
        Some(sums)
    } else {
        None
    };
    let sig = KernelSig {
        leaves: Box::new([dtype]),
        out: dtype,
        frame,
    };
    let (code, kernels) = call::finalize(module, &[(id, sig, sums)])
        .map_err(|e| Error::internal(format!("JIT finalize: {e}")))?;
    copies.push((dtype, kernels[0].clone(), code));
    Ok(kernels[0].clone())
}

impl JitProgram {
    /// Compiles every stage of an optimized, verified program; with
    /// `fast_math`, vector loops use `vmath` instead of the reference routines.
    pub fn compile(program: &Program, fast_math: bool, tiering: Tiering) -> Result<JitProgram> {
        Self::compile_listing(program, fast_math, tiering, None)
    }

    /// [`JitProgram::compile`] for a part of a complex program
    /// (`ir::split`), whose leaves are read two elements apart: its vector
    /// loops stay plain (`plan::StagePlan::new_with`), which read them in place.
    pub fn compile_part(
        program: &Program,
        fast_math: bool,
        tiering: Tiering,
    ) -> Result<JitProgram> {
        Self::compile_with(program, fast_math, tiering, None, false)
    }

    /// Like [`JitProgram::compile`], also appending the Cranelift IR of every
    /// kernel (its text form) to `listing`, for `explain`.
    pub fn compile_listing(
        program: &Program,
        fast_math: bool,
        tiering: Tiering,
        listing: Option<&mut Vec<String>>,
    ) -> Result<JitProgram> {
        Self::compile_with(program, fast_math, tiering, listing, true)
    }

    /// [`JitProgram::compile_listing`]; `wide`: see `plan::StagePlan::new_with`
    /// (false for a part of a complex program: [`JitProgram::compile_part`]).
    pub fn compile_with(
        program: &Program,
        fast_math: bool,
        tiering: Tiering,
        listing: Option<&mut Vec<String>>,
        wide: bool,
    ) -> Result<JitProgram> {
        let stages = stages(program);
        // One plan per stage, read by the interpreted tier and the code
        // generator at every tier; a stage that a full float sum reduces
        // also gets a leaf-sum kernel.
        let g = &program.graph;
        let plans: Vec<plan::StagePlan> = stages
            .iter()
            .map(|s| {
                let summed = s.reduce().is_some_and(|r| {
                    matches!(
                        g.node(r),
                        Node::Reduce(ReduceOp::Sum | ReduceOp::Mean, _, None)
                    )
                });
                plan::StagePlan::new_with(program, s.root, fast_math, wide)
                    .with_leaf_sums(program, summed)
            })
            .collect();
        let small = optimizable(plans.iter());
        let tier = match tiering {
            Tiering::Optimized if !small => Tier::Baseline,
            Tiering::Optimized => Tier::Optimized,
            Tiering::Baseline => Tier::Baseline,
            // Explaining shows Cranelift IR: compiled, not interpreted.
            Tiering::Adaptive | Tiering::Interpreted if listing.is_some() => Tier::Baseline,
            Tiering::Adaptive | Tiering::Interpreted => Tier::Interpreted,
        };
        let first = compile_kernels(program, &plans.iter().collect::<Vec<_>>(), tier, listing)?;
        // Interpreted but nothing the interpreter could run: all baseline.
        let tier = if tier == Tier::Interpreted && !first.kernels.iter().any(|k| k.is_interpreted())
        {
            Tier::Baseline
        } else {
            tier
        };
        let live = g.reachable(program.root);
        let full_reductions_only = g
            .ids()
            .filter(|id| live[id.index()])
            .all(|id| !matches!(g.node(id), Node::Reduce(_, _, Some(_)) | Node::MatMul(..)));
        Ok(JitProgram {
            program: program.clone(),
            stages: stages
                .into_iter()
                .zip(plans)
                .map(|(stage, plan)| CompiledStage { stage, plan })
                .collect(),
            inputs: program.read_inputs(),
            full_reductions_only,
            fusible_product: crate::ir::stage::fusible_product(program),
            fusible_reductions: crate::ir::stage::fusible_reductions(program),
            has_products: g
                .ids()
                .any(|id| live[id.index()] && matches!(g.node(id), Node::MatMul(..))),
            kernels: first.kernels,
            tier,
            // (A program too large to optimize never tiers up.)
            work: AtomicUsize::new(if tiering == Tiering::Adaptive && small {
                0
            } else {
                HOT_ELEMENTS
            }),
            optimized: OnceLock::new(),
            _interps: first._interps,
            _code: first._code,
        })
    }

    /// The program this was compiled from.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The stages in execution order.
    pub fn stages(&self) -> &[CompiledStage] {
        &self.stages
    }

    /// The kernels of the stages, in the same order: the optimized tier's
    /// once it is compiled.
    pub fn kernels(&self) -> &[KernelFn] {
        self.optimized
            .get()
            .map_or(&self.kernels, |o| o.kernels.as_slice())
    }

    /// The tier [`JitProgram::kernels`] are compiled at.
    pub fn tier(&self) -> Tier {
        if self.optimized.get().is_some() {
            Tier::Optimized
        } else {
            self.tier
        }
    }

    /// Counts a run on `elements` elements (adaptive tiering): the run that
    /// makes the program hot compiles it optimized first. If that compile
    /// fails, the first tier's kernels, which compute the same values, go on
    /// running.
    pub fn note_run(&self, elements: usize) {
        if self.work.load(Ordering::Relaxed) >= HOT_ELEMENTS {
            return;
        }
        let before = self.work.fetch_add(elements, Ordering::Relaxed);
        if before < HOT_ELEMENTS && before.saturating_add(elements) >= HOT_ELEMENTS {
            let plans: Vec<&plan::StagePlan> = self.stages.iter().map(|s| &s.plan).collect();
            if let Ok(optimized) = compile_kernels(&self.program, &plans, Tier::Optimized, None) {
                let _ = self.optimized.set(optimized);
            }
        }
    }

    /// The `Input` nodes the program reads, in id order.
    pub fn inputs(&self) -> &[NodeId] {
        &self.inputs
    }

    /// `true` when every reduction of the program is a full one (no
    /// `axis=`; also when there is none) and it has no product: then each
    /// stage's shape is the broadcast of the inputs it reads, as reductions
    /// are 0-d.
    pub fn full_reductions_only(&self) -> bool {
        self.full_reductions_only
    }

    /// The product the final stage computes tile by tile
    /// (`ir::stage::fusible_product`), if any.
    pub fn fusible_product(&self) -> Option<NodeId> {
        self.fusible_product
    }

    /// The products a full `sum`/`mean` consumes tile by tile, with that
    /// reduction (`ir::stage::fusible_reductions`).
    pub fn fusible_reductions(&self) -> &[(NodeId, NodeId)] {
        &self.fusible_reductions
    }

    /// `true` when the program multiplies matrices (`@`): it is then run
    /// into an initialized result (`run::run_view`).
    pub fn has_products(&self) -> bool {
        self.has_products
    }
}
