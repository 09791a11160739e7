//! `jitexpr._jitexpr`: the native half of the `jitexpr` Python package.
//!
//! This module does the work that must be fast or must not hold the GIL:
//! binding NumPy arrays to a kernel's inputs as `ndarray` views (no copies,
//! any strides), compiling (through the core crate's kernel cache) and
//! evaluating with the GIL released. Policy that is easier to read in Python
//! lives in the package's Python modules, which this module calls back into:
//! converting other dtypes and Python objects (`jitexpr._coerce.coerce`),
//! writing a result into an `out=` array that overlaps an input or has another
//! dtype (`jitexpr._coerce.write_out`), and turning a core `Error` into the
//! matching Python exception (`jitexpr._errors.from_core`).

mod raw;

/// Large freed blocks kept for the next result of their size (`raw::Recycling`).
#[global_allocator]
static ALLOCATOR: raw::Recycling = raw::Recycling;

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use jitexpr::{
    Array, ArrayView, Backend, CancelToken, DType, Flat, Math, Options, Signature, Vars,
};
use numpy::PyArrayDyn;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{IntoPyDict, PyBool, PyComplex, PyDict, PyFloat, PyInt, PyString, PyTuple};
use smallvec::SmallVec;

use raw::NpArray;

/// A core error as the Python exception `jitexpr._errors.from_core` builds:
/// the exception class follows the error kind, the message is the caret diagnostic.
fn to_py_err(py: Python<'_>, err: &jitexpr::Error) -> PyErr {
    let kind = format!("{:?}", err.kind());
    let span = err.span().map(|s| (s.start, s.end));
    let built = py.import("jitexpr._errors").and_then(|m| {
        m.getattr("from_core")?
            .call1((kind, err.message(), err.render(), span, err.source_text()))
    });
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

fn dtype_name(d: DType) -> &'static str {
    d.name()
}

fn parse_dtype(name: &str) -> PyResult<DType> {
    DType::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = DType::ALL.iter().map(|d| d.name()).collect();
        PyTypeError::new_err(format!(
            "unsupported dtype {name:?}: jitexpr computes in {}",
            names.join(", ")
        ))
    })
}

fn parse_options(backend: &str, math: &str) -> PyResult<Options> {
    let backend = match backend {
        "jit" => Backend::Jit,
        "interp" | "interpreter" => Backend::Interpreter,
        "gpu" => Backend::Gpu,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown backend {other:?}: use \"jit\", \"interpreter\" or \"gpu\""
            )));
        }
    };
    let math = match math {
        "fast" => Math::Fast,
        "reference" => Math::Reference,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown math {other:?}: use \"fast\" or \"reference\""
            )));
        }
    };
    Ok(Options::with_backend(backend).with_math(math))
}

/// One input of an evaluation, ready to be viewed.
enum Value<'py> {
    /// A NumPy array read in place, with its elements' dtype (`direct_dtype`).
    Array(Bound<'py, PyAny>, DType),
    /// A Python number, as the 0-d array `np.asarray` would give (boxed:
    /// a `Value` is moved around and arrays are the common case).
    Owned(Box<Array>),
}

impl<'py> Value<'py> {
    /// `object` as input `name`: a NumPy array of the wanted dtype (`target`,
    /// or any of the twelve when `None`) is read as it is; a Python `bool`,
    /// `int` or `float` of that dtype becomes a 0-d array here; anything else
    /// is converted by `jitexpr._coerce.coerce` (which raises if the
    /// conversion would not be safe).
    fn new(name: &str, object: Bound<'py, PyAny>, target: Option<DType>) -> PyResult<Self> {
        let direct = NpArray::of(&object).and_then(|a| a.direct_dtype());
        if let Some(d) = direct
            && target.is_none_or(|t| t == d)
        {
            return Ok(Value::Array(object, d));
        }
        if direct.is_none()
            && let Some(a) = number(&object)
            && target.is_none_or(|t| t == a.dtype())
        {
            return Ok(Value::Owned(Box::new(a)));
        }
        let py = object.py();
        let converted = COERCE.import(py, "jitexpr._coerce", "coerce")?.call1((
            name,
            &object,
            target.map(dtype_name),
        ))?;
        let d = NpArray::of(&converted)
            .and_then(|a| a.direct_dtype())
            .ok_or_else(|| {
                PyTypeError::new_err(format!("input {name:?}: conversion gave an unusable array"))
            })?;
        Ok(Value::Array(converted, d))
    }

    fn dtype(&self) -> DType {
        match self {
            Value::Array(_, d) => *d,
            Value::Owned(a) => a.dtype(),
        }
    }

    fn view(&self) -> ArrayView<'_> {
        match self {
            Value::Array(o, d) => NpArray::of(o).expect("an array").view(*d),
            Value::Owned(a) => a.view(),
        }
    }

    fn shape(&self) -> &[usize] {
        match self {
            Value::Array(o, _) => NpArray::of(o).expect("an array").shape(),
            Value::Owned(a) => a.shape(),
        }
    }

    /// The bytes it occupies (`None` for our own memory, or none).
    fn extent(&self) -> Option<(usize, usize)> {
        match self {
            Value::Array(o, d) => NpArray::of(o).expect("an array").extent(raw::itemsize(*d)),
            Value::Owned(_) => None,
        }
    }
}

/// An exact Python `bool`, `int` (that fits int64), `float` or `complex` as
/// the 0-d array `np.asarray` makes of it; `None` for anything else.
fn number(object: &Bound<'_, PyAny>) -> Option<Array> {
    use numpy::ndarray::arr0;
    if object.is_exact_instance_of::<PyBool>() {
        Some(Array::Bool(arr0(object.is_truthy().ok()?).into_dyn()))
    } else if object.is_exact_instance_of::<PyFloat>() {
        let x = object.cast::<PyFloat>().ok()?.value();
        Some(Array::Float64(arr0(x).into_dyn()))
    } else if object.is_exact_instance_of::<PyInt>() {
        Some(Array::Int64(arr0(object.extract::<i64>().ok()?).into_dyn()))
    } else if object.is_exact_instance_of::<PyComplex>() {
        let z = object.cast::<PyComplex>().ok()?;
        let value = jitexpr::c64::new(z.real(), z.imag());
        Some(Array::Complex128(arr0(value).into_dyn()))
    } else {
        None
    }
}

static COERCE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static WRITE_OUT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static CHECK_OUT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static ASARRAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static GENERIC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static MAIN_THREAD: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static GET_IDENT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Up to this many inputs live on the stack (more spill to the heap).
const INLINE: usize = 6;

/// The inputs of one evaluation: names and values, in the order of the
/// kernel's signature.
struct Inputs<'n, 'py> {
    names: SmallVec<[&'n str; INLINE]>,
    values: SmallVec<[Value<'py>; INLINE]>,
    /// Whether every input of the kernel's signature is here (then
    /// `values` are exactly its inputs, in order, and the kernel is given
    /// them by position: no name lookups).
    complete: bool,
}

/// The views of an evaluation's inputs, as the kernel takes them.
enum Args<'v, 'a> {
    /// Every input, in signature order.
    Positional(&'v [ArrayView<'a>]),
    /// By name (some missing: the core reports which).
    Named(&'v Vars<'a>),
}

impl Args<'_, '_> {
    fn eval(&self, k: &jitexpr::Kernel, t: Option<&CancelToken>) -> jitexpr::Result<Array> {
        match (self, t) {
            (Args::Positional(v), None) => k.eval_positional(v),
            (Args::Positional(v), Some(t)) => k.eval_positional_with_cancel(v, t),
            (Args::Named(v), None) => k.eval(v),
            (Args::Named(v), Some(t)) => k.eval_with_cancel(v, t),
        }
    }

    fn eval_into(
        &self,
        k: &jitexpr::Kernel,
        out: jitexpr::ArrayViewMut<'_>,
        t: Option<&CancelToken>,
    ) -> jitexpr::Result<()> {
        match (self, t) {
            (Args::Positional(v), None) => k.eval_into_positional(v, out),
            (Args::Positional(v), Some(t)) => k.eval_into_positional_with_cancel(v, out, t),
            (Args::Named(v), None) => k.eval_into(v, out),
            (Args::Named(v), Some(t)) => k.eval_into_with_cancel(v, out, t),
        }
    }
}

impl<'n, 'py> Inputs<'n, 'py> {
    fn new() -> Self {
        Inputs {
            names: SmallVec::new(),
            values: SmallVec::new(),
            complete: true,
        }
    }

    fn push(&mut self, name: &'n str, value: Value<'py>) {
        self.values.push(value);
        self.names.push(name);
    }

    /// The value of input `name`, at `position` in the kernel's signature.
    fn get(&self, position: usize, name: &str) -> Option<&Value<'py>> {
        if self.complete {
            return self.values.get(position);
        }
        let i = self.names.iter().position(|n| *n == name)?;
        Some(&self.values[i])
    }

    /// The number of elements of the inputs' broadcast shape (the elements
    /// an elementwise evaluation computes, or a reduction reads); shapes
    /// that do not broadcast count as their largest extents.
    fn elements(&self) -> usize {
        let ndim = self
            .values
            .iter()
            .map(|v| v.shape().len())
            .max()
            .unwrap_or(0);
        let mut total = 1usize;
        for axis in 0..ndim {
            let mut n = 1usize;
            for v in &self.values {
                let s = v.shape();
                if let Some(k) = (axis + s.len()).checked_sub(ndim) {
                    n = match (n, s[k]) {
                        (0, _) | (_, 0) => 0,
                        (a, b) => a.max(b),
                    };
                }
            }
            total = total.saturating_mul(n);
        }
        total
    }
}

/// A result as a NumPy array (no copy: the array owns the `ndarray` buffer).
fn to_numpy<'py>(py: Python<'py>, array: Array) -> Bound<'py, PyAny> {
    match array {
        Array::Bool(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Int8(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Int16(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Int32(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Int64(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::UInt8(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::UInt16(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::UInt32(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::UInt64(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Float16(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Float32(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Float64(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Complex64(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Complex128(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
    }
}

/// A kernel and the nanoseconds one result element costs it on one thread
/// (an estimate, for [`Priced::watched`]).
struct Priced {
    kernel: jitexpr::Kernel,
    ns_per_element: f64,
    /// For a program with products, the nanoseconds per multiply-add of
    /// all of them together ([`MAC_NS`] each; 0 without).
    product_ns: f64,
    /// For an elementwise JIT program (no reduction): the inputs it reads
    /// (position in the signature, name), whose broadcast shape is the
    /// result's (see [`Priced::new_result`]).
    reads: Option<Vec<(usize, String)>>,
}

impl Priced {
    /// Prices `kernel` from its optimized program's summary (once per
    /// compiled kernel): each input, operation or reduction costs ~0.5 ns
    /// per element on the JIT, a math function (`sin`, `arctan2`, `**`, …)
    /// 3 ns, 20 ns with `math="reference"`. The interpreter and the GPU
    /// backend (uploads) count 20 times that.
    fn new(kernel: jitexpr::Kernel) -> Self {
        // A math function: 0.2-1.5 ns per element measured with the JIT's
        // fast (vector) math on a Zen 4, up to 20 with the reference math.
        let heavy = if kernel.options().math == Math::Fast {
            3.0
        } else {
            20.0
        };
        let summary = kernel.compiled().optimized.summary();
        let cheap = summary.reads.len() + summary.operations + summary.reductions;
        let ns = 0.5 * cheap as f64 + heavy * summary.math as f64;
        let elementwise = summary.reductions == 0 && summary.matmuls == 0;
        let reads: Vec<(usize, String)> = summary
            .reads
            .iter()
            .filter_map(|name| {
                let position = kernel.inputs().position(|(n, _)| n == *name)?;
                Some((position, name.to_string()))
            })
            .collect();
        let jit = kernel.options().backend == Backend::Jit;
        let scale = if jit { 1.0 } else { 20.0 };
        // A product's work grows with its inner dimension: priced per call
        // (`watched`), from the inputs' size.
        let product_ns = MAC_NS * scale * summary.matmuls as f64;
        Priced {
            kernel,
            ns_per_element: (ns * scale).max(0.5),
            product_ns,
            reads: (jit && elementwise && !reads.is_empty()).then_some(reads),
        }
    }

    /// For an elementwise JIT program: a new NumPy array for its result
    /// over `inputs`, of the result's dtype and shape (the broadcast shape
    /// of the inputs it reads) in NumPy's `order='K'` layout as the core
    /// chooses it (Fortran when it has two or more axes and each input of
    /// that shape is Fortran-contiguous, else C), for `eval_into` to fill:
    /// NumPy's allocator, no zero-fill, one Python object. `None` when the
    /// program has a reduction, an input is missing, the shapes do not
    /// broadcast, or the result takes `raw::RECYCLE_MIN` bytes or more and
    /// the core writes it unzeroed (`Kernel::fills_unzeroed_results`): the
    /// core's `eval` then allocates (and reports the error);
    /// `Some(Err)` when NumPy could not allocate it.
    fn new_result<'py>(
        &self,
        py: Python<'py>,
        inputs: &Inputs<'_, 'py>,
    ) -> Option<PyResult<Bound<'py, PyAny>>> {
        let reads = self.reads.as_ref()?;
        let read = |(position, name): &(usize, String)| inputs.get(*position, name);
        // The broadcast shape, right-aligned in `dims` (NumPy: at most 64 axes).
        let mut dims = [1usize; 64];
        let mut ndim = 0;
        for name in reads {
            let s = read(name)?.shape();
            if s.len() > dims.len() {
                return None;
            }
            ndim = ndim.max(s.len());
            let tail = dims.len() - s.len();
            for (d, &n) in dims[tail..].iter_mut().zip(s) {
                *d = match (*d, n) {
                    (a, b) if a == b => a,
                    (1, b) => b,
                    (a, 1) => a,
                    _ => return None,
                };
            }
        }
        let shape = &dims[dims.len() - ndim..];
        // A large result comes from the core when it writes it unzeroed,
        // in a block this extension's allocator keeps for the next result
        // of its size when NumPy frees it (`raw::Recycling`), instead of
        // fresh pages from NumPy's.
        let bytes = shape
            .iter()
            .try_fold(self.kernel.dtype().size(), |b, &d| b.checked_mul(d));
        if bytes.is_none_or(|b| b >= raw::RECYCLE_MIN) && self.kernel.fills_unzeroed_results() {
            return None;
        }
        let mut full = reads
            .iter()
            .filter_map(read)
            .filter(|v| v.shape() == shape)
            .peekable();
        let fortran =
            ndim > 1 && full.peek().is_some() && full.all(|v| v.view().is_fortran_contiguous());
        Some(raw::new_array(py, self.kernel.dtype(), shape, fortran))
    }

    /// Whether an evaluation over `elements` (the inputs' broadcast size)
    /// is long enough to watch for Ctrl-C ([`interruptible`]): predicted
    /// at [`WATCH_NS`] or more on the threads it will run on.
    fn watched(&self, elements: usize) -> Watch {
        // A product of square matrices of `elements` result elements does
        // `elements * sqrt(elements)` multiply-adds (an inner dimension as
        // long as a side). Pricing each result element as 60 ns instead
        // made a 256 × 256 float64 product with a fused epilogue (0.2 ms)
        // look like 4 ms, and every call paid the watcher's thread start:
        // 0.228 ms against the two-step's 0.191 (2 threads, Intel Xeon).
        let e = elements as f64;
        let ns = e * self.ns_per_element + e * e.sqrt() * self.product_ns;
        if ns < HOLD_NS && self.kernel.options().backend == Backend::Jit {
            return Watch::Held;
        }
        if ns < WATCH_NS {
            return Watch::Released;
        }
        // Milliseconds of work always run on every thread (the core goes
        // parallel from tens of microseconds of it).
        if ns / jitexpr::num_threads().max(1) as f64 >= WATCH_NS {
            Watch::Watched
        } else {
            Watch::Released
        }
    }
}

/// How an evaluation runs (see [`Priced::watched`] and [`interruptible`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// On the JIT, predicted under [`HOLD_NS`]: with the GIL held, as
    /// NumPy's ufuncs keep it for small arrays (releasing and taking it back
    /// measured ~50 ns a call, a sixth of `a*b+c` on 1,000 elements).
    Held,
    /// With the GIL released.
    Released,
    /// With the GIL released, watched for Ctrl-C.
    Watched,
}

/// Nanoseconds per multiply-add of a matrix product on one thread, about
/// what float64 costs (1000³ in 23 ms on an Intel Xeon with AVX-512;
/// float32 takes half as long).
const MAC_NS: f64 = 0.025;

/// The predicted time under which an evaluation keeps the GIL.
const HOLD_NS: f64 = 5e3;

/// The predicted time from which an evaluation is watched for Ctrl-C: an
/// unwatched one is at most some tens of milliseconds of work (the
/// estimate errs high: `sin(a)+cos(a)` is priced 7 ns per element and takes
/// 1.14-1.33 on one thread), so Ctrl-C waits that long at most; a watched
/// one pays a thread start, and its work runs on that new thread, which the
/// OS may first place on the core of the team's worker. At 2 ms, 1e6-element calls
/// from the main thread paid 0.1-0.2 ms each (Intel Xeon VM with AVX-512,
/// 2 threads, 3 alternations: `sin(a)+cos(a)` 0.70-0.81 ms watched, 0.58-0.62
/// unwatched; `arctan2(a,b)` 1.15-1.34 against 1.03-1.08). (A persistent
/// helper thread measured ~35 µs on a Zen 4, not worth its unsafe code.)
const WATCH_NS: f64 = 2e7;

/// Whether this is Python's main thread (the only one that runs signal
/// handlers, so the only one worth watching for Ctrl-C).
fn on_main_thread(py: Python<'_>) -> bool {
    let check = || -> PyResult<bool> {
        let main = MAIN_THREAD
            .import(py, "threading", "main_thread")?
            .call0()?
            .getattr("ident")?;
        let me = GET_IDENT.import(py, "threading", "get_ident")?.call0()?;
        main.eq(me)
    };
    check().unwrap_or(true)
}

/// Runs `work` with the GIL released. A long evaluation (`watched`) on the
/// main thread runs on a helper thread while this one waits for it, waking
/// every 20 ms to run Python's signal handlers: a KeyboardInterrupt (or any
/// exception a handler raises) cancels this evaluation through its own token,
/// and is raised once it has stopped. The helper's completion wakes the
/// waiting thread at once (a condition variable), so watching costs one
/// thread start.
/// Other calls run `work` here with no token (`None`).
fn interruptible<T: Send>(
    py: Python<'_>,
    watched: Watch,
    work: impl FnOnce(Option<&CancelToken>) -> jitexpr::Result<T> + Send,
) -> PyResult<jitexpr::Result<T>> {
    if watched == Watch::Held {
        return Ok(work(None));
    }
    if watched == Watch::Released || !on_main_thread(py) {
        return Ok(py.detach(|| work(None)));
    }
    let token = CancelToken::new();
    let slot = Slot {
        value: Mutex::new(None),
        ready: std::sync::Condvar::new(),
    };
    std::thread::scope(|s| {
        let (token, slot) = (&token, &slot);
        s.spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(Some(token))));
            *slot.value.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            slot.ready.notify_one();
        });
        let tick = std::time::Duration::from_millis(20);
        loop {
            if let Some(r) = py.detach(|| slot.wait(Some(tick))) {
                return Ok(r.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            }
            if let Err(signal) = py.check_signals() {
                token.cancel();
                py.detach(|| slot.wait(None));
                return Err(signal);
            }
        }
    })
}

/// Where a helper thread leaves its result, and the signal that it did.
struct Slot<R> {
    value: Mutex<Option<R>>,
    ready: std::sync::Condvar,
}

impl<R> Slot<R> {
    /// The result, once there (waiting at most `timeout`, or for ever).
    fn wait(&self, timeout: Option<std::time::Duration>) -> Option<R> {
        let guard = self.value.lock().unwrap_or_else(|e| e.into_inner());
        let mut guard = match timeout {
            Some(t) => {
                self.ready
                    .wait_timeout_while(guard, t, |v| v.is_none())
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => self
                .ready
                .wait_while(guard, |v| v.is_none())
                .unwrap_or_else(|e| e.into_inner()),
        };
        guard.take()
    }
}

/// Evaluates `kernel` over `inputs` with the GIL released, into a new array
/// or into `out`.
fn run<'py>(
    py: Python<'py>,
    kernel: &Priced,
    inputs: &Inputs<'_, 'py>,
    out: Option<Bound<'py, PyAny>>,
    casting: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let watch = kernel.watched(inputs.elements());
    let new_result = if out.is_none() {
        kernel.new_result(py, inputs).transpose()?
    } else {
        None
    };
    // A small call on contiguous inputs of one shape: the elements as flat
    // runs, without views (the core says whether it applies).
    if let Some(result) = &new_result
        && inputs.complete
        && let Some(flats) = flat_inputs(inputs)
        && let Some(into) = NpArray::of(result).and_then(|a| a.flat_mut(kernel.kernel.dtype()))
    {
        let k = &kernel.kernel;
        if interruptible(py, watch, move |_| k.eval_into_flat(&flats, into))?
            .map_err(|e| to_py_err(py, &e))?
        {
            return Ok(result.clone());
        }
    }
    let views: SmallVec<[ArrayView<'_>; INLINE]> = inputs.values.iter().map(Value::view).collect();
    let named: Vars<'_>;
    let args = if inputs.complete {
        Args::Positional(&views)
    } else {
        named = inputs
            .names
            .iter()
            .copied()
            .zip(views.iter().cloned())
            .collect();
        Args::Named(&named)
    };
    let args = &args;
    let kernel = &kernel.kernel;
    let eval = |t: Option<&CancelToken>| args.eval(kernel, t);
    let Some(out) = out else {
        if let Some(result) = new_result {
            let view = NpArray::of(&result)
                .expect("a new array")
                .view_mut(kernel.dtype());
            interruptible(py, watch, move |t| args.eval_into(kernel, view, t))?
                .map_err(|e| to_py_err(py, &e))?;
            return Ok(result);
        }
        let result = interruptible(py, watch, eval)?;
        return result
            .map(|a| to_numpy(py, a))
            .map_err(|e| to_py_err(py, &e));
    };
    if let Some(array) = NpArray::of(&out)
        && array.direct_dtype() == Some(kernel.dtype())
        && array.writeable()
    {
        let e = array.extent(raw::itemsize(kernel.dtype()));
        if !inputs.values.iter().any(|v| overlaps(v.extent(), e)) {
            let view = array.view_mut(kernel.dtype());
            let result = interruptible(py, watch, move |t| args.eval_into(kernel, view, t))?;
            result.map_err(|e| to_py_err(py, &e))?;
            return Ok(out);
        }
    }
    // Another dtype, an overlap with an input, not writeable, not an array:
    // evaluate into a new array and let Python check and copy.
    let result = interruptible(py, watch, eval)?
        .map(|a| to_numpy(py, a))
        .map_err(|e| to_py_err(py, &e))?;
    WRITE_OUT
        .import(py, "jitexpr._coerce", "write_out")?
        .call1((&out, result, casting))?;
    Ok(out)
}

/// The inputs as contiguous runs, if every one is a C-contiguous array of
/// one shape (the result's then, which the kernel writes in the same order).
fn flat_inputs<'a>(inputs: &'a Inputs<'_, '_>) -> Option<SmallVec<[Flat<'a>; INLINE]>> {
    let mut shape: Option<&[usize]> = None;
    let mut flats = SmallVec::new();
    for v in &inputs.values {
        let Value::Array(object, dtype) = v else {
            return None;
        };
        let a = NpArray::of(object)?;
        if shape.is_some_and(|s| s != a.shape()) {
            return None;
        }
        shape = Some(a.shape());
        flats.push(a.flat(*dtype)?);
    }
    Some(flats)
}

fn overlaps(a: Option<(usize, usize)>, b: Option<(usize, usize)>) -> bool {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => a0 < b1 && b0 < a1,
        _ => false,
    }
}

/// What `evaluate` knows about an expression from its text alone, cached by
/// the expression string: the names it reads and the kernels compiled for it.
#[pyclass(frozen)]
struct Expr {
    /// The variables (in order of first appearance), then the built-in
    /// constants it names (`pi`, …: taken from the dicts only when a number
    /// or array of that name is there).
    names: Vec<String>,
    /// The same names as (interned) Python strings, for the dict lookups.
    keys: Vec<Py<PyString>>,
    /// How many of `names` are variables.
    variables: usize,
    /// Kernels compiled for it, by options and input dtypes (most recent last).
    kernels: Mutex<Vec<Compiled>>,
}

struct Compiled {
    options: Options,
    /// The dtype of each of `Expr::names` (`None`: not bound).
    dtypes: Vec<Option<DType>>,
    kernel: Arc<Priced>,
}

/// The expressions `evaluate` has seen, by text (cleared when full).
static EXPRS: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
const EXPRS_SIZE: usize = 256;
/// Signatures (input dtypes, options) kept per expression.
const KERNELS_PER_EXPR: usize = 16;

impl Expr {
    /// The cached entry for `ex`, analysed on first use.
    fn of<'py>(ex: &Bound<'py, PyString>) -> PyResult<Bound<'py, Expr>> {
        let py = ex.py();
        let cache = EXPRS.get_or_init(py, || PyDict::new(py).unbind()).bind(py);
        if let Some(found) = cache.get_item(ex)? {
            return Ok(found.cast_into::<Expr>()?);
        }
        // Errors come with the text attached, for the caret diagnostic.
        let o = jitexpr::outline(ex.to_str()?).map_err(|e| to_py_err(py, &e))?;
        let variables = o.names.len();
        let names: Vec<String> = o.names.into_iter().chain(o.constants).collect();
        let keys = names
            .iter()
            .map(|n| PyString::intern(py, n).unbind())
            .collect();
        let expr = Bound::new(
            py,
            Expr {
                names,
                keys,
                variables,
                kernels: Mutex::new(Vec::new()),
            },
        )?;
        if cache.len() >= EXPRS_SIZE {
            cache.clear();
        }
        cache.set_item(ex, &expr)?;
        Ok(expr)
    }

    /// The values of the names, from the dicts (numexpr's rules: `local`
    /// first, then `global`; a constant's name only when it holds a value).
    fn lookup<'py>(
        &self,
        py: Python<'py>,
        local: &Bound<'py, PyAny>,
        global: &Bound<'py, PyAny>,
    ) -> PyResult<SmallVec<[Option<Bound<'py, PyAny>>; INLINE]>> {
        let mut found = SmallVec::new();
        for (i, key) in self.keys.iter().enumerate() {
            let key = key.bind(py);
            if i < self.variables {
                let v = match get(local, key)? {
                    Some(v) => Some(v),
                    None => get(global, key)?,
                };
                found.push(v);
                continue;
            }
            let mut value = None;
            for d in [local, global] {
                if let Some(v) = get(d, key)? {
                    if is_value(&v)? {
                        value = Some(v);
                    }
                    break;
                }
            }
            found.push(value);
        }
        Ok(found)
    }

    /// The kernel for these inputs and options: cached here, or compiled
    /// (through the core crate's cache).
    fn kernel(
        &self,
        py: Python<'_>,
        ex: &Bound<'_, PyString>,
        options: Options,
        dtypes: &[Option<DType>],
        inputs: &Inputs<'_, '_>,
    ) -> PyResult<Arc<Priced>> {
        {
            let kernels = self.kernels.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = kernels
                .iter()
                .rev()
                .find(|c| c.options == options && c.dtypes == dtypes)
            {
                return Ok(Arc::clone(&c.kernel));
            }
        }
        let signature = inputs
            .names
            .iter()
            .zip(&inputs.values)
            .fold(Signature::new(), |s, (n, v)| s.with(n, v.dtype()));
        let kernel = jitexpr::compile_with(ex.to_str()?, &signature, options)
            .map_err(|e| to_py_err(py, &e))?;
        let kernel = Arc::new(Priced::new(kernel));
        let mut kernels = self.kernels.lock().unwrap_or_else(|e| e.into_inner());
        if kernels.len() >= KERNELS_PER_EXPR {
            kernels.remove(0);
        }
        kernels.push(Compiled {
            options,
            dtypes: dtypes.to_vec(),
            kernel: Arc::clone(&kernel),
        });
        Ok(kernel)
    }
}

/// `mapping[key]` if `key in mapping`, else `None` (one lookup for a dict).
fn get<'py>(
    mapping: &Bound<'py, PyAny>,
    key: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    if let Ok(dict) = mapping.cast_exact::<PyDict>() {
        return dict.get_item(key);
    }
    if mapping.contains(key)? {
        return mapping.get_item(key).map(Some);
    }
    Ok(None)
}

/// `isinstance(x, (np.ndarray, np.generic, bool, int, float))`.
fn is_value(x: &Bound<'_, PyAny>) -> PyResult<bool> {
    if NpArray::of(x).is_some()
        || x.is_instance_of::<PyInt>()
        || x.is_instance_of::<PyFloat>()
        || x.is_instance_of::<PyComplex>()
    {
        return Ok(true);
    }
    let generic = GENERIC.import(x.py(), "numpy", "generic")?;
    x.is_instance(generic)
}

/// `backend=` as an option name: `None` is `"jit"`, `"interp"` `"interpreter"`.
fn backend_name(backend: Option<&Bound<'_, PyAny>>) -> PyResult<&'static str> {
    let Some(b) = backend.filter(|b| !b.is_none()) else {
        return Ok("jit");
    };
    if let Ok(s) = b.cast::<PyString>() {
        match s.to_str()? {
            "jit" => return Ok("jit"),
            "interp" | "interpreter" => return Ok("interpreter"),
            "gpu" => return Ok("gpu"),
            _ => {}
        }
    }
    Err(PyValueError::new_err(format!(
        "unknown backend {}: use one of jit, interpreter, gpu",
        b.repr()?
    )))
}

/// What `re_evaluate` runs again: this thread's last successful `evaluate`.
struct Last {
    ex: Py<PyString>,
    out: Option<Py<PyAny>>,
    order: Option<Py<PyAny>>,
    casting: Py<PyAny>,
    options: Options,
}

thread_local! {
    static LAST: RefCell<Option<Last>> = const { RefCell::new(None) };
}

/// The expression `ex` evaluated with the variables in the dicts (or the
/// frame `frame_depth` levels up from the caller when one is `None`).
#[allow(clippy::too_many_arguments)]
fn evaluate_in<'py>(
    py: Python<'py>,
    ex: &Bound<'py, PyString>,
    local_dict: Option<&Bound<'py, PyAny>>,
    global_dict: Option<&Bound<'py, PyAny>>,
    frame_depth: i64,
    options: impl FnOnce() -> PyResult<Options>,
    out: Option<&Bound<'py, PyAny>>,
    order: Option<&Bound<'py, PyAny>>,
    casting: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Options)> {
    let dicts = (local_dict, global_dict, frame_depth);
    bound(py, ex, dicts, options, |kernel, inputs, options| {
        let result = run(py, kernel, inputs, out.cloned(), casting)?;
        let result = match order {
            Some(o) if out.is_none() && !o.is_none() && !is_k(o) => ASARRAY
                .import(py, "numpy", "asarray")?
                .call((result,), Some(&[("order", o)].into_py_dict(py)?))?,
            _ => result,
        };
        Ok((result, options))
    })
}

/// Calls `then` with the kernel for `ex` and its inputs, the variables
/// found in the dicts (or the frame `frame_depth` levels up from the caller
/// when one is `None`), and the options.
fn bound<'py, R>(
    py: Python<'py>,
    ex: &Bound<'py, PyString>,
    (local_dict, global_dict, frame_depth): (
        Option<&Bound<'py, PyAny>>,
        Option<&Bound<'py, PyAny>>,
        i64,
    ),
    options: impl FnOnce() -> PyResult<Options>,
    then: impl FnOnce(&Priced, &Inputs<'_, 'py>, Options) -> PyResult<R>,
) -> PyResult<R> {
    let expr = Expr::of(ex)?;
    let expr = expr.get();
    let local_dict = local_dict.filter(|d| !d.is_none());
    let global_dict = global_dict.filter(|d| !d.is_none());
    let (frame_locals, frame_globals) = if local_dict.is_none() || global_dict.is_none() {
        raw::frame_dicts(py, frame_depth, local_dict.is_none(), global_dict.is_none())?
    } else {
        (None, None)
    };
    let local = local_dict.or(frame_locals.as_ref()).expect("a dict");
    let global = global_dict.or(frame_globals.as_ref()).expect("a dict");
    let found = expr.lookup(py, local, global)?;
    let options = options()?;
    // The kernel is compiled for the names bound here, in this order: its
    // signature is `inputs`, which is then complete.
    let mut inputs = Inputs::new();
    let mut dtypes: SmallVec<[Option<DType>; INLINE]> = SmallVec::new();
    for (name, value) in expr.names.iter().zip(found) {
        match value {
            Some(v) => {
                let v = Value::new(name, v, None)?;
                dtypes.push(Some(v.dtype()));
                inputs.push(name, v);
            }
            None => dtypes.push(None),
        }
    }
    let kernel = expr.kernel(py, ex, options, &dtypes, &inputs)?;
    then(&kernel, &inputs, options)
}

fn is_k(order: &Bound<'_, PyAny>) -> bool {
    order
        .cast::<PyString>()
        .is_ok_and(|s| s.to_str().is_ok_and(|s| s == "K"))
}

/// Evaluates the expression ``ex`` like ``numexpr.evaluate``.
///
/// Variables are looked up in ``local_dict`` then ``global_dict``; when either is
/// omitted, the caller's locals or globals are used. ``out`` receives the result
/// (it may be one of the inputs: jitexpr then evaluates into a temporary first);
/// its dtype must be the result's or one it casts to under ``casting``. ``order``
/// is ``'K'`` (the layout follows the inputs) or ``'C'``, ``'F'``, ``'A'``.
/// ``backend`` is ``"jit"`` (default), ``"interpreter"`` or ``"gpu"``; ``math``
/// is ``"fast"`` (vectorized, within a few ULP) or ``"reference"``.
///
/// numexpr's ``sanitize``, ``optimization`` and ``truediv`` are accepted and
/// ignored: jitexpr never executes the text, always optimizes exactly, and always
/// divides like Python 3.
#[pyfunction]
#[pyo3(
    signature = (ex, local_dict=None, global_dict=None, out=None, order=None, casting=None, sanitize=None, _frame_depth=1, *, backend=None, math="fast", optimization=None, truediv=None),
    text_signature = "(ex, local_dict=None, global_dict=None, out=None, order='K', casting='safe', sanitize=None, _frame_depth=1, *, backend=None, math='fast', optimization=None, truediv=None)"
)]
#[allow(clippy::too_many_arguments)]
fn evaluate<'py>(
    py: Python<'py>,
    ex: &Bound<'py, PyAny>,
    local_dict: Option<&Bound<'py, PyAny>>,
    global_dict: Option<&Bound<'py, PyAny>>,
    out: Option<&Bound<'py, PyAny>>,
    order: Option<&Bound<'py, PyAny>>,
    casting: Option<&Bound<'py, PyString>>,
    sanitize: Option<&Bound<'py, PyAny>>,
    _frame_depth: i64,
    backend: Option<&Bound<'py, PyAny>>,
    math: &str,
    optimization: Option<&Bound<'py, PyAny>>,
    truediv: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let _ = (sanitize, optimization, truediv);
    let Ok(ex) = ex.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "the expression must be a str, not {}",
            ex.get_type().name()?
        )));
    };
    let casting = match casting {
        Some(c) => {
            check_casting(c.as_any())?;
            c.as_any()
        }
        None => pyo3::intern!(py, "safe").as_any(),
    };
    check_order(order)?;
    let options = || parse_options(backend_name(backend)?, math);
    let out = out.filter(|o| !o.is_none());
    let (result, options) = evaluate_in(
        py,
        ex,
        local_dict,
        global_dict,
        _frame_depth,
        options,
        out,
        order,
        casting,
    )?;
    remember(ex, out, order, casting, options);
    Ok(result)
}

/// `casting=` must be one of NumPy's casting rules (numexpr checks it on
/// every call, with or without `out`).
fn check_casting(casting: &Bound<'_, PyAny>) -> PyResult<()> {
    let Ok(name) = casting.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "casting must be a str, not {}",
            casting.get_type().name()?
        )));
    };
    match name.to_str()? {
        "no" | "equiv" | "safe" | "same_kind" | "unsafe" => Ok(()),
        _ => Err(PyValueError::new_err(format!(
            "casting must be one of 'no', 'equiv', 'safe', 'same_kind' or 'unsafe', not {}",
            casting.repr()?
        ))),
    }
}

/// `order=` must be `None` or one of `'K'`, `'C'`, `'F'`, `'A'`.
fn check_order(order: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let Some(order) = order.filter(|o| !o.is_none()) else {
        return Ok(());
    };
    let name = order.cast::<PyString>().ok().and_then(|o| o.to_str().ok());
    match name {
        Some("K" | "C" | "F" | "A") => Ok(()),
        _ => Err(PyValueError::new_err(format!(
            "order must be one of 'K', 'C', 'F' or 'A', not {}",
            order.repr()?
        ))),
    }
}

/// Makes `ex` (with `out`, `order`, `casting` and `options`) what
/// `re_evaluate` runs in this thread.
fn remember<'py>(
    ex: &Bound<'py, PyString>,
    out: Option<&Bound<'py, PyAny>>,
    order: Option<&Bound<'py, PyAny>>,
    casting: &Bound<'py, PyAny>,
    options: Options,
) {
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        // A call repeated (the same objects): nothing to replace.
        let same = |a: &Option<Py<PyAny>>, b: Option<&Bound<'py, PyAny>>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => a.as_ptr() == b.as_ptr(),
            _ => false,
        };
        if let Some(l) = last.as_ref()
            && l.ex.as_ptr() == ex.as_ptr()
            && same(&l.out, out)
            && same(&l.order, order)
            && l.casting.as_ptr() == casting.as_ptr()
            && l.options == options
        {
            return;
        }
        *last = Some(Last {
            ex: ex.clone().unbind(),
            out: out.map(|o| o.clone().unbind()),
            order: order.map(|o| o.clone().unbind()),
            casting: casting.clone().unbind(),
            options,
        })
    });
}

/// Checks ``evaluate(ex, ...)`` with these arguments without evaluating, like
/// ``numexpr.validate``: returns ``None`` when it would run, and then
/// ``re_evaluate()`` runs it; otherwise returns (does not raise) the exception
/// ``evaluate`` would raise.
///
/// Everything ``evaluate`` checks before it computes is checked: the text, the
/// names (found in ``local_dict``, ``global_dict`` or the caller's frame), the
/// dtypes, the shapes (broadcasting, axes), ``backend`` and ``math``, ``order``,
/// and ``out`` (an array of the result's shape, writeable, of a dtype the result
/// casts to under ``casting``). The kernel is compiled and cached, so the
/// ``re_evaluate()`` after it does not compile.
#[pyfunction]
#[pyo3(
    signature = (ex, local_dict=None, global_dict=None, out=None, order=None, casting=None, _frame_depth=1, sanitize=None, *, backend=None, math="fast", optimization=None, truediv=None),
    text_signature = "(ex, local_dict=None, global_dict=None, out=None, order='K', casting='safe', _frame_depth=1, sanitize=None, *, backend=None, math='fast', optimization=None, truediv=None)"
)]
#[allow(clippy::too_many_arguments)]
fn validate<'py>(
    py: Python<'py>,
    ex: &Bound<'py, PyAny>,
    local_dict: Option<&Bound<'py, PyAny>>,
    global_dict: Option<&Bound<'py, PyAny>>,
    out: Option<&Bound<'py, PyAny>>,
    order: Option<&Bound<'py, PyAny>>,
    casting: Option<&Bound<'py, PyAny>>,
    _frame_depth: i64,
    sanitize: Option<&Bound<'py, PyAny>>,
    backend: Option<&Bound<'py, PyAny>>,
    math: &str,
    optimization: Option<&Bound<'py, PyAny>>,
    truediv: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<Py<pyo3::exceptions::PyBaseException>>> {
    let _ = (sanitize, optimization, truediv);
    let checked = || -> PyResult<()> {
        let Ok(ex) = ex.cast::<PyString>() else {
            return Err(PyTypeError::new_err(format!(
                "the expression must be a str, not {}",
                ex.get_type().name()?
            )));
        };
        let safe = pyo3::intern!(py, "safe");
        let casting = casting.filter(|c| !c.is_none()).unwrap_or(safe.as_any());
        check_casting(casting)?;
        check_order(order)?;
        let out = out.filter(|o| !o.is_none());
        let options = || parse_options(backend_name(backend)?, math);
        let dicts = (local_dict, global_dict, _frame_depth);
        let options = bound(py, ex, dicts, options, |kernel, inputs, options| {
            let views: SmallVec<[ArrayView<'_>; INLINE]> =
                inputs.values.iter().map(Value::view).collect();
            let named: Vars<'_> = inputs.names.iter().copied().zip(views).collect();
            let shape = kernel
                .kernel
                .result_shape(&named)
                .map_err(|e| to_py_err(py, &e))?;
            if let Some(out) = out {
                CHECK_OUT
                    .import(py, "jitexpr._coerce", "check_out")?
                    .call1((
                        out,
                        PyTuple::new(py, shape)?,
                        dtype_name(kernel.kernel.dtype()),
                        casting,
                    ))?;
            }
            Ok(options)
        })?;
        remember(ex, out, order, casting, options);
        Ok(())
    };
    match checked() {
        Ok(()) => Ok(None),
        // KeyboardInterrupt and SystemExit are raised, as numexpr's are.
        Err(e) if e.is_instance_of::<pyo3::exceptions::PyException>(py) => {
            Ok(Some(e.into_value(py)))
        }
        Err(e) => Err(e),
    }
}

/// Evaluates the last expression ``evaluate`` ran (or ``validate`` accepted) in
/// this thread again, with the current values of its variables (and the same
/// ``out``, ``order``, backend).
#[pyfunction]
#[pyo3(signature = (local_dict=None, global_dict=None, _frame_depth=1))]
fn re_evaluate<'py>(
    py: Python<'py>,
    local_dict: Option<&Bound<'py, PyAny>>,
    global_dict: Option<&Bound<'py, PyAny>>,
    _frame_depth: i64,
) -> PyResult<Bound<'py, PyAny>> {
    let last = LAST.with(|last| {
        last.borrow().as_ref().map(|l| {
            (
                l.ex.clone_ref(py),
                l.out.as_ref().map(|o| o.clone_ref(py)),
                l.order.as_ref().map(|o| o.clone_ref(py)),
                l.casting.clone_ref(py),
                l.options,
            )
        })
    });
    let Some((ex, out, order, casting, options)) = last else {
        return Err(PyRuntimeError::new_err(
            "re_evaluate() needs a previous evaluate() in this thread",
        ));
    };
    let (result, _) = evaluate_in(
        py,
        ex.bind(py),
        local_dict,
        global_dict,
        _frame_depth,
        || Ok(options),
        out.as_ref().map(|o| o.bind(py)),
        order.as_ref().map(|o| o.bind(py)),
        casting.bind(py),
    )?;
    Ok(result)
}

/// A compiled expression: `jitexpr.compile(ex, signature)`.
///
/// Call it (or `.run`) with the arrays by name or in signature order.
#[pyclass(frozen, module = "jitexpr")]
struct Kernel {
    inner: Priced,
    signature: Vec<(String, DType)>,
    backend: String,
    math: String,
}

#[pymethods]
impl Kernel {
    #[new]
    #[pyo3(signature = (ex, signature, backend="jit", math="fast"))]
    fn new(
        py: Python<'_>,
        ex: &str,
        signature: Vec<(String, String)>,
        backend: &str,
        math: &str,
    ) -> PyResult<Self> {
        let options = parse_options(backend, math)?;
        let mut sig = Signature::new();
        let mut names = Vec::with_capacity(signature.len());
        for (name, dtype) in &signature {
            let dtype = parse_dtype(dtype)?;
            if names.iter().any(|(n, _)| n == name) {
                return Err(PyValueError::new_err(format!(
                    "signature names '{name}' twice"
                )));
            }
            sig = sig.with(name, dtype);
            names.push((name.clone(), dtype));
        }
        let inner = jitexpr::compile_with(ex, &sig, options).map_err(|e| to_py_err(py, &e))?;
        Ok(Kernel {
            inner: Priced::new(inner),
            signature: names,
            backend: backend.to_string(),
            math: math.to_string(),
        })
    }

    /// Evaluates with the arrays given positionally (in signature order) or by name.
    #[pyo3(signature = (*args, out=None, **kwargs))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        out: Option<Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if args.len() > self.signature.len() {
            return Err(PyTypeError::new_err(format!(
                "the kernel takes {} arrays ({}) but {} were given",
                self.signature.len(),
                self.names().join(", "),
                args.len()
            )));
        }
        // Converted in the order given (args, then kwargs), kept by position.
        let mut slots: SmallVec<[Option<Value<'py>>; INLINE]> =
            self.signature.iter().map(|_| None).collect();
        for (((name, dtype), value), slot) in self.signature.iter().zip(args.iter()).zip(&mut slots)
        {
            *slot = Some(Value::new(name, value, Some(*dtype))?);
        }
        if let Some(kwargs) = kwargs {
            for (name, value) in kwargs.iter() {
                let name = name.cast::<PyString>()?.to_str()?;
                let Some(pos) = self.signature.iter().position(|(n, _)| n == name) else {
                    return Err(PyTypeError::new_err(format!(
                        "unexpected input '{name}': the kernel reads {}",
                        self.names().join(", ")
                    )));
                };
                if pos < args.len() {
                    return Err(PyTypeError::new_err(format!(
                        "input '{name}' given by position and by name"
                    )));
                }
                let (name, dtype) = &self.signature[pos];
                slots[pos] = Some(Value::new(name, value, Some(*dtype))?);
            }
        }
        let mut inputs = Inputs::new();
        for ((name, _), slot) in self.signature.iter().zip(slots) {
            match slot {
                Some(v) => inputs.push(name, v),
                None => inputs.complete = false,
            }
        }
        let safe = pyo3::intern!(py, "safe").as_any();
        run(py, &self.inner, &inputs, out, safe)
    }

    /// Same as `run`.
    #[pyo3(signature = (*args, out=None, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        out: Option<Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, args, out, kwargs)
    }

    /// The dtype of the result, as a NumPy dtype name.
    #[getter]
    fn dtype(&self) -> &'static str {
        dtype_name(self.inner.kernel.dtype())
    }

    /// The expression text.
    #[getter]
    fn source(&self) -> &str {
        self.inner.kernel.source()
    }

    /// The input names, in signature order.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.signature.iter().map(|(n, _)| n.clone()).collect()
    }

    /// `[(name, dtype name), …]`.
    #[getter]
    fn signature(&self) -> Vec<(String, &'static str)> {
        self.signature
            .iter()
            .map(|(n, d)| (n.clone(), dtype_name(*d)))
            .collect()
    }

    /// The backend name.
    #[getter]
    fn backend(&self) -> &str {
        &self.backend
    }

    /// The IR after optimization, as text.
    fn ir(&self) -> String {
        self.inner.kernel.compiled().optimized.to_string()
    }

    fn __repr__(&self) -> String {
        let sig: Vec<String> = self
            .signature
            .iter()
            .map(|(n, d)| format!("{n}: {}", dtype_name(*d)))
            .collect();
        format!(
            "jitexpr.Kernel({:?}, [{}] -> {}, backend={:?})",
            self.inner.kernel.source(),
            sig.join(", "),
            dtype_name(self.inner.kernel.dtype()),
            self.backend
        )
    }

    /// Pickles as its source: unpickling compiles again (a cache lookup after the first).
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.get();
        let args = (
            this.inner.kernel.source().to_string(),
            this.signature(),
            this.backend.clone(),
            this.math.clone(),
        )
            .into_pyobject(py)?;
        Ok((py.get_type::<Kernel>().into_any(), args))
    }
}

/// What the Python side needs to know about an expression before evaluating it.
///
/// Returns `(names, constants, reductions, top)`: the variable names it reads
/// in order of first appearance; the built-in constants it names (`pi`, `e`,
/// `inf`, `nan`: a variable of that name takes precedence); the number of
/// reduction calls; and, when the whole expression is one reduction call,
/// `(function, argument text, axis)` with `axis` `None` for a full reduction.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn analyze(
    py: Python<'_>,
    ex: &str,
) -> PyResult<(
    Vec<String>,
    Vec<String>,
    usize,
    Option<(String, String, Option<i64>)>,
)> {
    // Errors come with the text attached, for the caret diagnostic.
    let o = jitexpr::outline(ex).map_err(|e| to_py_err(py, &e))?;
    let top = o.top_reduction.map(|t| (t.function, t.operand, t.axis));
    Ok((o.names, o.constants, o.reductions, top))
}

/// Uses `n` threads (at least 1) from now on; returns the previous count.
#[pyfunction]
fn set_num_threads(n: usize) -> usize {
    jitexpr::set_num_threads(n)
}

/// The number of threads evaluations run on.
#[pyfunction]
fn get_num_threads() -> usize {
    jitexpr::num_threads()
}

/// Whether this build has the GPU backend (Cargo feature `gpu`).
#[pyfunction]
fn has_gpu() -> bool {
    cfg!(feature = "gpu")
}

#[pymodule]
fn _jitexpr(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(re_evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(has_gpu, m)?)?;
    m.add_class::<Kernel>()?;
    Ok(())
}
