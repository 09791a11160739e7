//! Compiling an expression once and running it many times.

use std::sync::{Arc, Mutex};

use crate::array::{Array, ArrayView, ArrayViewMut, Flat, FlatMut};
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
use crate::vars::{Bind, Signature, Vars};

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
        self.with_source(exec::evaluate_gpu_timed(&self.prepared, Bind::Named(vars)))
    }

    /// Evaluates into `out`, which must have the result's dtype and shape
    /// (any strides).
    pub fn eval_into<'o>(&self, vars: &Vars<'_>, out: impl Into<ArrayViewMut<'o>>) -> Result<()> {
        let mut out = out.into();
        let never = Cancel::never();
        self.with_source(exec::evaluate_into(
            &self.prepared,
            Bind::Named(vars),
            &mut out,
            never,
        ))
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
        self.with_source(exec::evaluate_into(
            &self.prepared,
            Bind::Named(vars),
            &mut out,
            cancel,
        ))
    }

    /// The shape [`Kernel::eval`] would give on `vars`, without evaluating:
    /// every check an evaluation makes before it runs (a missing input, an
    /// input of another dtype, shapes that do not broadcast, an axis out of
    /// range) is made, and fails the same way.
    ///
    /// ```
    /// use jitexpr::{DType, Signature, Vars};
    /// use ndarray::{Array1, Array2};
    /// let sig = Signature::new().with("a", DType::Float64).with("b", DType::Float64);
    /// let k = jitexpr::compile("sum(a + b, axis=1)", &sig)?;
    /// let (a, b) = (Array2::<f64>::zeros((3, 4)).into_dyn(), Array1::<f64>::zeros(4).into_dyn());
    /// assert_eq!(k.result_shape(&Vars::new().with("a", &a).with("b", &b))?, [3]);
    /// let c = Array1::<f64>::zeros(5).into_dyn();
    /// let e = k.result_shape(&Vars::new().with("a", &a).with("b", &c)).unwrap_err();
    /// assert_eq!(e.kind(), jitexpr::ErrorKind::Shape);
    /// # Ok::<(), jitexpr::Error>(())
    /// ```
    pub fn result_shape(&self, vars: &Vars<'_>) -> Result<Vec<usize>> {
        self.with_source(exec::result_shape(&self.prepared, Bind::Named(vars)))
    }

    /// Its inputs (names and dtypes), in the order of the signature it was
    /// compiled with: the order [`Kernel::eval_positional`] takes them in.
    ///
    /// ```
    /// use jitexpr::{DType, Signature};
    /// let sig = Signature::new().with("x", DType::Float64).with("n", DType::Int32);
    /// let k = jitexpr::compile("x * n", &sig)?;
    /// let names: Vec<_> = k.inputs().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["x", "n"]);
    /// # Ok::<(), jitexpr::Error>(())
    /// ```
    pub fn inputs(&self) -> impl ExactSizeIterator<Item = (&str, DType)> {
        self.compiled
            .optimized
            .graph
            .inputs()
            .iter()
            .map(|i| (i.name.as_str(), i.dtype))
    }

    /// [`Kernel::eval`] with the inputs given by position, in the order of
    /// [`Kernel::inputs`] (one per input, each of its dtype) instead of by
    /// name: no name is looked up, which matters for small arrays, where
    /// the call costs about as much as the work.
    ///
    /// ```
    /// use jitexpr::{ArrayView, DType, Signature};
    /// use ndarray::array;
    ///
    /// let sig = Signature::new().with("a", DType::Float64).with("b", DType::Float64);
    /// let k = jitexpr::compile("a - b", &sig)?;
    /// let (a, b) = (array![5.0, 7.0], array![1.0, 2.0]);
    /// let r = k.eval_positional(&[ArrayView::from(&a), ArrayView::from(&b)])?;
    /// assert_eq!(r.as_f64().unwrap().as_slice().unwrap(), &[4.0, 5.0]);
    /// # Ok::<(), jitexpr::Error>(())
    /// ```
    pub fn eval_positional(&self, inputs: &[ArrayView<'_>]) -> Result<Array> {
        self.check_arity(inputs)?;
        let inputs = Bind::Positional(inputs);
        self.with_source(exec::evaluate_bound(
            &self.prepared,
            inputs,
            Cancel::never(),
        ))
    }

    /// [`Kernel::eval_positional`], stopping early with an error of kind
    /// [`Cancelled`](crate::ErrorKind::Cancelled) once `cancel` is cancelled.
    pub fn eval_positional_with_cancel(
        &self,
        inputs: &[ArrayView<'_>],
        cancel: &CancelToken,
    ) -> Result<Array> {
        self.check_arity(inputs)?;
        let inputs = Bind::Positional(inputs);
        self.with_source(exec::evaluate_bound(
            &self.prepared,
            inputs,
            cancel.as_cancel(),
        ))
    }

    /// [`Kernel::eval_into`] with the inputs given by position, as
    /// [`Kernel::eval_positional`] takes them.
    pub fn eval_into_positional<'o>(
        &self,
        inputs: &[ArrayView<'_>],
        out: impl Into<ArrayViewMut<'o>>,
    ) -> Result<()> {
        self.check_arity(inputs)?;
        let mut out = out.into();
        let inputs = Bind::Positional(inputs);
        let never = Cancel::never();
        self.with_source(exec::evaluate_into(&self.prepared, inputs, &mut out, never))
    }

    /// [`Kernel::eval_into_positional`], stopping early once `cancel` is
    /// cancelled (`out` is then partly written).
    pub fn eval_into_positional_with_cancel<'o>(
        &self,
        inputs: &[ArrayView<'_>],
        out: impl Into<ArrayViewMut<'o>>,
        cancel: &CancelToken,
    ) -> Result<()> {
        self.check_arity(inputs)?;
        let mut out = out.into();
        let inputs = Bind::Positional(inputs);
        let cancel = cancel.as_cancel();
        self.with_source(exec::evaluate_into(
            &self.prepared,
            inputs,
            &mut out,
            cancel,
        ))
    }

    /// An error unless `inputs` has one array per input of the signature.
    /// Evaluates an elementwise kernel on its inputs by position, each a
    /// contiguous run of the same length `n` (for arrays of one shape, their
    /// elements in memory order, which is then also the result's), into
    /// `out` of length `n`: the fast path for calls up to mid-size (on the
    /// thread team from a few thousand elements), without views, shape
    /// inference or broadcasting. Returns `Ok(false)`, with nothing
    /// written, when it does not apply (another backend, a reduction, an
    /// input of another length or dtype, a result of 16 MiB or more): then
    /// evaluate through [`Kernel::eval_into_positional`].
    ///
    /// ```
    /// use jitexpr::{DType, Flat, FlatMut, Signature};
    /// let sig = Signature::new().with("a", DType::Float64).with("b", DType::Float64);
    /// let k = jitexpr::compile("a * b + 1", &sig).unwrap();
    /// let (a, b, mut out) = ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [0.0; 3]);
    /// let done = k
    ///     .eval_into_flat(&[Flat::Float64(&a), Flat::Float64(&b)], FlatMut::Float64(&mut out))
    ///     .unwrap();
    /// assert!(done);
    /// assert_eq!(out, [5.0, 11.0, 19.0]);
    /// ```
    pub fn eval_into_flat(&self, inputs: &[Flat<'_>], out: FlatMut<'_>) -> Result<bool> {
        self.with_source(exec::evaluate_flat(
            &self.prepared,
            inputs,
            out,
            Cancel::never(),
        ))
    }

    fn check_arity(&self, inputs: &[ArrayView<'_>]) -> Result<()> {
        let want = self.compiled.optimized.graph.inputs().len();
        if inputs.len() == want {
            return Ok(());
        }
        let names: Vec<&str> = self.inputs().map(|(n, _)| n).collect();
        self.with_source(Err(crate::Error::new(
            crate::ErrorKind::Type,
            format!(
                "the kernel takes {want} inputs ({}) but {} were given",
                names.join(", "),
                inputs.len()
            ),
        )
        .with_help("pass one array per input, in the order of `Kernel::inputs`")))
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

    /// Whether an elementwise evaluation that allocates its result
    /// (`eval`) writes it into memory it did not zero first: on the JIT,
    /// except for products and complex programs whose parts run one by one
    /// (those fill a zeroed result). A caller that could allocate the result
    /// itself (the Python bindings: NumPy's allocator) may leave it to
    /// `eval` when this holds, and pays no zeroing.
    pub fn fills_unzeroed_results(&self) -> bool {
        match &*self.prepared {
            Prepared::Jit(jit) => !jit.has_products(),
            Prepared::Split { joint, .. } => joint.is_some(),
            _ => false,
        }
    }

    /// The options it was compiled with.
    pub fn options(&self) -> Options {
        self.options
    }

    /// The tier the JIT runs this kernel's code at now (it changes once an
    /// adaptive kernel is hot: see [`Tiering`](crate::Tiering)); `None` on
    /// other backends.
    pub fn jit_tier(&self) -> Option<Tier> {
        fn tier(p: &Prepared) -> Option<Tier> {
            match p {
                Prepared::Jit(j) => Some(j.tier()),
                Prepared::Split { parts, .. } => parts.first().and_then(tier),
                Prepared::ComplexSum { operand, .. } => tier(operand),
                _ => None,
            }
        }
        tier(&self.prepared)
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
    let fast = options.math == Math::Fast;
    let prepared = match options.backend {
        // A complex program: split into real programs compiled as any
        // other; one that does not split (`ir::split`) runs on the
        // reference interpreter (README, "Complex numbers").
        Backend::Jit if compiled.optimized.first_complex().is_some() => {
            match ir::split::split(&compiled.optimized) {
                Some(split) => prepare_split(&compiled.optimized, split, true, |p| {
                    Ok(Prepared::Jit(JitProgram::compile_part(
                        p,
                        fast,
                        options.tiering,
                    )?))
                })
                .map_err(with_source)?,
                None => {
                    let jit = |p: &Program| {
                        Ok(Prepared::Jit(JitProgram::compile_part(
                            p,
                            fast,
                            options.tiering,
                        )?))
                    };
                    let program = &compiled.optimized;
                    let staged = || staged(program, jit);
                    match complex_sum(program, jit).map_err(with_source)? {
                        Some(p) => p,
                        None if complex_product(program) => {
                            Prepared::ComplexProduct(program.clone())
                        }
                        None => staged()
                            .map_err(with_source)?
                            .unwrap_or_else(|| Prepared::Interpreter(program.clone())),
                    }
                }
            }
        }
        #[cfg(feature = "gpu")]
        Backend::Gpu if compiled.optimized.first_complex().is_some() => {
            let gpu = |p: &Program| {
                Ok(Prepared::Gpu {
                    program: p.clone(),
                    gpu: crate::backend::wgsl::GpuProgram::compile(p)?,
                })
            };
            match ir::split::split(&compiled.optimized) {
                Some(split) => prepare_split(&compiled.optimized, split, false, gpu),
                // The GPU's error naming the complex value.
                None => gpu(&compiled.optimized),
            }
            .map_err(with_source)?
        }
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

/// A program that is a full complex `sum` or `mean` of an operand the split
/// takes (`ir::split::complex_sum`) as a [`Prepared::ComplexSum`], the
/// operand's parts prepared by `prepare`; `None` for any other program.
fn complex_sum(
    program: &Program,
    prepare: impl Fn(&Program) -> Result<Prepared>,
) -> Result<Option<Prepared>> {
    let Some((operand, mean)) = ir::split::complex_sum(program) else {
        return Ok(None);
    };
    let Some(split) = ir::split::split(&operand) else {
        return Ok(None);
    };
    Ok(Some(Prepared::ComplexSum {
        program: program.clone(),
        operand: Box::new(prepare_split(&operand, split, false, prepare)?),
        mean,
    }))
}

/// A program whose only obstacle to the split is full complex sums and
/// means inside it (`ir::split::staged`) as a [`Prepared::Staged`]: each
/// sum and the rest prepared by `prepare`; `None` for any other program.
fn staged(
    program: &Program,
    prepare: impl Fn(&Program) -> Result<Prepared> + Copy,
) -> Result<Option<Prepared>> {
    let Some(st) = ir::split::staged(program) else {
        return Ok(None);
    };
    let mut sums = Vec::with_capacity(st.sums.len());
    for s in &st.sums {
        match complex_sum(s, prepare)? {
            Some(p) => sums.push(p),
            None => return Ok(None),
        }
    }
    let Some(split) = ir::split::split(&st.rest) else {
        return Ok(None);
    };
    Ok(Some(Prepared::Staged {
        program: program.clone(),
        sums,
        rest: Box::new(prepare_split(&st.rest, split, true, prepare)?),
    }))
}

/// Whether `program` is a product of two complex inputs (`A @ B`), which
/// the JIT multiplies with `gemm` ([`Prepared::ComplexProduct`]).
fn complex_product(program: &Program) -> bool {
    use ir::graph::Node;
    let g = &program.graph;
    match g.node(program.root) {
        Node::MatMul(a, b) => {
            g.dtype(program.root).is_complex()
                && matches!(g.node(a), Node::Input(_))
                && matches!(g.node(b), Node::Input(_))
        }
        _ => false,
    }
}

/// Whether every math function of `program` (a split's joint program) is
/// a part of a complex function other than `exp`, which a joint kernel
/// computes once for both parts (`jit::runtime::pair_routine`); `exp`'s
/// parts and the real math functions keep the parts' own kernels (their
/// vector versions).
fn pairable_math(program: &Program) -> bool {
    use ir::graph::Node;
    let g = &program.graph;
    let live = g.reachable(program.root);
    g.ids()
        .filter(|id| live[id.index()])
        .all(|id| match g.node(id) {
            Node::Unary(op, _) => !op.implementation().is_math(),
            Node::Binary(op, ..) => {
                !op.implementation().is_math()
                    || op
                        .complex_part()
                        .is_some_and(|(f, _)| f != ir::op::UnaryOp::Exp)
            }
            _ => true,
        })
}

/// A complex `program`'s split form, its real parts prepared by `prepare`;
/// with `joint` (the JIT), also the joint program of both parts
/// (`ir::split::joint`) when the program is elementwise and its math
/// functions are complex ones other than `exp` ([`pairable_math`]): light
/// arithmetic (`z*w + c`), which the parts run at the speed of memory but
/// read the interleaved inputs twice, and complex functions, which each
/// part computed whole (see the README's complex numbers).
fn prepare_split(
    program: &Program,
    split: ir::split::Split,
    joint: bool,
    prepare: impl Fn(&Program) -> Result<Prepared>,
) -> Result<Prepared> {
    let joint = match ir::split::joint(&split) {
        Some(p) if joint => {
            let s = p.summary();
            let p = (s.reductions == 0 && s.matmuls == 0 && pairable_math(&p))
                .then(|| ir::optimize::optimize(&p))
                .transpose()?;
            // (Still `complex(re, im)` at the root: a constant folds whole.)
            let pair = |p: &Program| {
                matches!(
                    p.graph.node(p.root),
                    ir::graph::Node::Binary(ir::op::BinaryOp::Complex, ..)
                )
            };
            match p {
                Some(p) if pair(&p) => {
                    ir::verify::verify(&p)?;
                    Some(Box::new(prepare(&p)?))
                }
                _ => None,
            }
        }
        _ => None,
    };
    let split = ir::split::optimize(split)?;
    let mut parts = vec![prepare(&split.re)?];
    if let Some(im) = &split.im {
        parts.push(prepare(im)?);
    }
    Ok(Prepared::Split {
        program: program.clone(),
        sources: split.sources,
        parts,
        joint,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Scalar;
    use ndarray::{Array1, Array2, ShapeBuilder, array};

    fn sig(names: &[(&str, DType)]) -> Signature {
        names
            .iter()
            .fold(Signature::new(), |s, &(n, d)| s.with(n, d))
    }

    /// Positional inputs give what named ones give, on the small-call path
    /// and the general one (broadcasting, Fortran order, reductions), into
    /// a new array and into the caller's.
    #[test]
    fn positional_matches_named() {
        let f64s = [("a", DType::Float64), ("b", DType::Float64)];
        let small = (
            array![1.0, 2.0, 3.0].into_dyn(),
            array![0.5, 0.25, 2.0].into_dyn(),
        );
        let wide = Array2::from_shape_fn((3, 5).f(), |(i, j)| (i * 5 + j) as f64).into_dyn();
        let row = Array1::from_shape_fn(5, |j| j as f64 - 2.0).into_dyn();
        for (ex, a, b) in [
            ("a*b+1", &small.0, &small.1),
            ("a*b+1", &wide, &row),
            ("sum(a*b)", &wide, &row),
            ("sum(a-b, axis=1)", &wide, &row),
        ] {
            for backend in [Backend::Jit, Backend::Interpreter] {
                let k = compile_with(ex, &sig(&f64s), Options::with_backend(backend)).unwrap();
                let named = k.eval(&Vars::new().with("a", a).with("b", b)).unwrap();
                let inputs = [ArrayView::from(a), ArrayView::from(b)];
                assert_eq!(k.eval_positional(&inputs).unwrap(), named, "{ex}");
                let token = CancelToken::new();
                let r = k.eval_positional_with_cancel(&inputs, &token).unwrap();
                assert_eq!(r, named, "{ex}");
                let mut out = named.clone();
                out.view_mut()
                    .assign_scalars(&vec![Scalar::Float64(0.0); named.len()]);
                k.eval_into_positional(&inputs, &mut out).unwrap();
                assert_eq!(out, named, "{ex}");
                out.view_mut()
                    .assign_scalars(&vec![Scalar::Float64(0.0); named.len()]);
                k.eval_into_positional_with_cancel(&inputs, &mut out, &token)
                    .unwrap();
                assert_eq!(out, named, "{ex}");
            }
        }
    }

    #[test]
    fn positional_checks_count_and_dtypes() {
        let s = sig(&[("x", DType::Float64), ("n", DType::Int32)]);
        let k = compile("x * n", &s).unwrap();
        assert_eq!(
            k.inputs().collect::<Vec<_>>(),
            [("x", DType::Float64), ("n", DType::Int32)]
        );
        let x = array![1.0, 2.0];
        let n = array![3i32, 4];
        let e = k.eval_positional(&[ArrayView::from(&x)]).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Type);
        assert!(
            e.message()
                .contains("takes 2 inputs (x, n) but 1 were given")
        );
        // In the wrong order: each is checked against its position's dtype.
        let e = k
            .eval_positional(&[ArrayView::from(&n), ArrayView::from(&x)])
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Type);
        assert!(
            e.message().contains("input `x` is int32"),
            "{}",
            e.message()
        );
        let r = k
            .eval_positional(&[ArrayView::from(&x), ArrayView::from(&n)])
            .unwrap();
        assert_eq!(r.as_f64().unwrap().as_slice().unwrap(), &[3.0, 8.0]);
    }
}
