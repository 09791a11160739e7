//! Compiling an expression once and running it many times.

use std::sync::{Arc, Mutex};

use crate::array::{Array, ArrayViewMut};
use crate::backend::Prepared;
use crate::backend::jit::JitProgram;
use crate::backend::jit::Tier;
use crate::cache::Cache;
use crate::cancel::{Cancel, CancelToken};
use crate::error::Result;
use crate::exec;
use crate::ir::{self, Input, Program};
use crate::options::{Backend, Math, Options};
use crate::syntax;
use crate::types::DType;
use crate::vars::{Signature, Vars};

/// The process's kernel cache, shared by all threads.
static CACHE: Mutex<Option<Cache<Kernel>>> = Mutex::new(None);

/// Runs `f` on the kernel cache.
pub(crate) fn with_cache<R>(f: impl FnOnce(&mut Cache<Kernel>) -> R) -> R {
    let mut guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Cache::default))
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
    prepared: Arc<Prepared>,
}

impl Kernel {
    /// Evaluates into a new array with the broadcast shape of the inputs
    /// (in Fortran order when the inputs of that shape are, like NumPy's
    /// `order='K'`; else C order).
    pub fn eval(&self, vars: &Vars<'_>) -> Result<Array> {
        self.with_source(exec::evaluate(&self.prepared, vars, Cancel::never()))
    }

    /// [`Kernel::eval`], stopping early with an error of kind
    /// [`Cancelled`](crate::ErrorKind::Cancelled) once `cancel` is cancelled.
    pub fn eval_with_cancel(&self, vars: &Vars<'_>, cancel: &CancelToken) -> Result<Array> {
        self.with_source(exec::evaluate(&self.prepared, vars, cancel.as_cancel()))
    }

    /// On the GPU backend: evaluates like [`Kernel::eval`] and reports the time
    /// spent uploading, computing and downloading. `None` on other backends.
    #[cfg(feature = "gpu")]
    pub fn eval_gpu_timed(
        &self,
        vars: &Vars<'_>,
    ) -> Result<Option<(Array, crate::backend::wgsl::Timings)>> {
        self.with_source(exec::evaluate_gpu_timed(&self.prepared, vars))
    }

    /// Evaluates into `out`, which must have the result's dtype and shape
    /// (any strides).
    pub fn eval_into<'o>(&self, vars: &Vars<'_>, out: impl Into<ArrayViewMut<'o>>) -> Result<()> {
        let mut out = out.into();
        let never = Cancel::never();
        self.with_source(exec::evaluate_into(&self.prepared, vars, &mut out, never))
    }

    /// [`Kernel::eval_into`], stopping early once `cancel` is cancelled
    /// (`out` is then partly written).
    pub fn eval_into_with_cancel<'o>(
        &self,
        vars: &Vars<'_>,
        out: impl Into<ArrayViewMut<'o>>,
        cancel: &CancelToken,
    ) -> Result<()> {
        let mut out = out.into();
        let cancel = cancel.as_cancel();
        self.with_source(exec::evaluate_into(&self.prepared, vars, &mut out, cancel))
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
    /// adaptive kernel is hot: see [`Tiering`](crate::Tiering)); `None` on
    /// other backends.
    pub fn jit_tier(&self) -> Option<Tier> {
        match &*self.prepared {
            Prepared::Jit(j) => Some(j.tier()),
            _ => None,
        }
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
/// cached (256, least recently used evicted first): compiling the same
/// thing again is a lookup.
pub fn compile_with(expr: &str, signature: &Signature, options: Options) -> Result<Kernel> {
    if let Some(k) = with_cache(|c| c.get(expr, signature, options)) {
        return Ok(k);
    }
    let kernel = compile_uncached(expr, signature, options)?;
    with_cache(|c| c.put(expr, signature, options, &kernel));
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
    let with_source = |e: crate::Error| e.with_source(&source);
    let prepared = match options.backend {
        Backend::Jit => Prepared::Jit(
            JitProgram::compile(
                &compiled.optimized,
                options.math == Math::Fast,
                options.tiering,
            )
            .map_err(with_source)?,
        ),
        Backend::Interpreter => Prepared::Interpreter(compiled.optimized.clone()),
        #[cfg(feature = "gpu")]
        Backend::Gpu => Prepared::Gpu {
            program: compiled.optimized.clone(),
            gpu: crate::backend::wgsl::GpuProgram::compile(&compiled.optimized)
                .map_err(with_source)?,
        },
        #[cfg(not(feature = "gpu"))]
        Backend::Gpu => {
            return Err(crate::Error::new(
                crate::ErrorKind::Unsupported,
                "this build of jitexpr has no GPU backend",
            )
            .with_help("build with the `gpu` feature"));
        }
    };
    Ok(Kernel {
        source,
        compiled: Arc::new(compiled),
        options,
        prepared: Arc::new(prepared),
    })
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
    match with_cache(|c| c.get_for(expr, vars, options)) {
        Some(kernel) => kernel.eval(vars),
        None => compile_with(expr, &Signature::of(vars), options)?.eval(vars),
    }
}
