//! Compiling an expression once and running it many times.

use std::sync::Arc;

use crate::array::{Array, ArrayViewMut};
use crate::backend::jit::JitProgram;
pub use crate::backend::jit::{Tier, Tiering};
use crate::error::Result;
use crate::exec;
use crate::ir::{self, Input, Program};
use crate::syntax;
use crate::types::DType;
use crate::vars::{Signature, Vars};

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

/// The stages of a compilation, for `explain`-style tools.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The typed IR as lowered from the AST.
    pub lowered: Program,
    /// The IR after optimization (what backends run).
    pub optimized: Program,
}

/// A compiled expression: parse, type check and optimization done.
///
/// ```
/// use jitexpr::{DType, Signature, Vars};
/// use ndarray::array;
///
/// let sig = Signature::new().with("a", DType::Float64).with("b", DType::Float64).with("c", DType::Float64);
/// let k = jitexpr::compile("a*b+c", &sig)?;
/// let (a, b, c) = (array![1.0, 2.0], array![3.0, 4.0], array![0.5, 0.5]);
/// let vars = Vars::new().with("a", &a).with("b", &b).with("c", &c);
/// let r = k.eval(&vars)?;
/// assert_eq!(r.as_f64().unwrap().as_slice().unwrap(), &[3.5, 8.5]);
///
/// let mut out = ndarray::Array1::<f64>::zeros(2);
/// k.eval_into(&vars, &mut out)?;
/// assert_eq!(out[1], 8.5);
/// # Ok::<(), jitexpr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Kernel {
    source: Arc<str>,
    compiled: Arc<Compiled>,
    options: Options,
    jit: Option<Arc<JitProgram>>,
    #[cfg(feature = "gpu")]
    gpu: Option<Arc<crate::backend::wgsl::GpuProgram>>,
}

impl Kernel {
    /// Evaluates into a new array with the broadcast shape of the inputs.
    pub fn eval(&self, vars: &Vars<'_>) -> Result<Array> {
        let program = &self.compiled.optimized;
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &self.gpu {
            return self.with_source(exec::run_gpu(program, gpu, vars));
        }
        self.with_source(match &self.jit {
            Some(jit) => exec::run_jit(program, jit, vars),
            None => exec::run(program, vars),
        })
    }

    /// On the GPU backend: evaluates like [`Kernel::eval`] and reports the time
    /// spent uploading, computing and downloading. `None` on other backends.
    #[cfg(feature = "gpu")]
    pub fn eval_gpu_timed(
        &self,
        vars: &Vars<'_>,
    ) -> Result<Option<(Array, crate::backend::wgsl::Timings)>> {
        let Some(gpu) = &self.gpu else {
            return Ok(None);
        };
        let program = &self.compiled.optimized;
        self.with_source(exec::run_gpu_timed(program, gpu, vars).map(Some))
    }

    /// Evaluates into `out`, which must have the result's dtype and shape.
    pub fn eval_into<'o>(&self, vars: &Vars<'_>, out: impl Into<ArrayViewMut<'o>>) -> Result<()> {
        let mut out = out.into();
        let program = &self.compiled.optimized;
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &self.gpu {
            return self.with_source(exec::run_gpu_into(program, gpu, vars, &mut out));
        }
        self.with_source(match &self.jit {
            Some(jit) => exec::run_jit_into(program, jit, vars, &mut out),
            None => exec::run_into(program, vars, &mut out),
        })
    }

    /// The dtype of the result.
    pub fn dtype(&self) -> DType {
        self.compiled.optimized.dtype()
    }

    /// The expression text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The IR before and after optimization.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// The options it was compiled with.
    pub fn options(&self) -> Options {
        self.options
    }

    /// The tier the JIT runs this kernel's code at now (it changes once an
    /// adaptive kernel is hot: see [`Tiering`]); `None` on other backends.
    pub fn jit_tier(&self) -> Option<Tier> {
        self.jit.as_ref().map(|j| j.tier())
    }

    fn with_source<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| e.with_source(&self.source))
    }
}

/// Compiles `expr` for variables with the dtypes in `signature`, default options.
pub fn compile(expr: &str, signature: &Signature) -> Result<Kernel> {
    compile_with(expr, signature, Options::default())
}

/// Compiles `expr` for variables with the dtypes in `signature`. Kernels are
/// cached (see `exec::cache`): compiling the same thing again is a lookup.
pub fn compile_with(expr: &str, signature: &Signature, options: Options) -> Result<Kernel> {
    if let Some(k) = exec::cache::get(expr, signature, options) {
        return Ok(k);
    }
    let kernel = compile_uncached(expr, signature, options)?;
    exec::cache::put(expr, signature, options, &kernel);
    Ok(kernel)
}

fn compile_uncached(expr: &str, signature: &Signature, options: Options) -> Result<Kernel> {
    let source: Arc<str> = Arc::from(expr);
    let ast = syntax::parse(expr).map_err(|e| e.with_source(&source))?;
    compile_ast(&source, &ast, signature, options)
}

/// Compiles an expression parsed already (uncached): the command line's
/// statements, whose spans point into the whole program `source`.
pub(crate) fn compile_ast(
    source: &Arc<str>,
    ast: &syntax::ast::Ast,
    signature: &Signature,
    options: Options,
) -> Result<Kernel> {
    let source = Arc::clone(source);
    let compiled = front_to_ir(ast, signature).map_err(|e| e.with_source(&source))?;
    let jit = match options.backend {
        Backend::Jit => Some(Arc::new(
            JitProgram::compile(
                &compiled.optimized,
                options.math == Math::Fast,
                options.tiering,
            )
            .map_err(|e| e.with_source(&source))?,
        )),
        Backend::Interpreter | Backend::Gpu => None,
    };
    #[cfg(feature = "gpu")]
    let gpu = match options.backend {
        Backend::Gpu => Some(Arc::new(
            crate::backend::wgsl::GpuProgram::compile(&compiled.optimized)
                .map_err(|e| e.with_source(&source))?,
        )),
        _ => None,
    };
    #[cfg(not(feature = "gpu"))]
    if options.backend == Backend::Gpu {
        return Err(crate::Error::new(
            crate::ErrorKind::Unsupported,
            "this build of jitexpr has no GPU backend",
        )
        .with_help("build with the `gpu` feature"));
    }
    Ok(Kernel {
        source,
        compiled: Arc::new(compiled),
        options,
        jit,
        #[cfg(feature = "gpu")]
        gpu,
    })
}

/// A fresh (uncached) JIT kernel, for the cache's own tests.
#[cfg(test)]
pub(crate) fn compile_uncached_for_tests(expr: &str, signature: &Signature) -> Kernel {
    compile_uncached(expr, signature, Options::default()).expect("test expression compiles")
}

fn front_to_ir(ast: &syntax::ast::Ast, signature: &Signature) -> Result<Compiled> {
    let inputs: Vec<Input> = signature
        .iter()
        .map(|(name, dtype)| Input {
            name: name.to_string(),
            dtype,
        })
        .collect();
    let lowered = ir::lower::lower(ast, &inputs)?;
    if cfg!(debug_assertions) {
        ir::verify::verify(&lowered)?;
    }
    let optimized = ir::optimize::optimize(&lowered)?;
    ir::verify::verify(&optimized)?;
    Ok(Compiled { lowered, optimized })
}

/// Compiles and evaluates `expr` once, with default options.
///
/// ```
/// use ndarray::array;
/// let a = array![0.0, 1.0];
/// let b = array![1.0f32, 2.0];
/// let r = jitexpr::evaluate("sin(a)**2 + cos(a)**2 + b", &jitexpr::Vars::new().with("a", &a).with("b", &b))?;
/// assert_eq!(r.dtype(), jitexpr::DType::Float64);
/// # Ok::<(), jitexpr::Error>(())
/// ```
pub fn evaluate(expr: &str, vars: &Vars<'_>) -> Result<Array> {
    evaluate_with(expr, vars, Options::default())
}

/// Compiles and evaluates `expr` once.
pub fn evaluate_with(expr: &str, vars: &Vars<'_>, options: Options) -> Result<Array> {
    match exec::cache::get_for(expr, vars, options) {
        Some(kernel) => kernel.eval(vars),
        None => compile_with(expr, &Signature::of(vars), options)?.eval(vars),
    }
}
