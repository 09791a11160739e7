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

use jitexpr::{Array, ArrayView, Backend, CancelToken, DType, Math, Options, Signature, Vars};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

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
    match d {
        DType::Bool => "bool",
        DType::Int32 => "int32",
        DType::Int64 => "int64",
        DType::Float32 => "float32",
        DType::Float64 => "float64",
    }
}

fn parse_dtype(name: &str) -> PyResult<DType> {
    match name {
        "bool" => Ok(DType::Bool),
        "int32" => Ok(DType::Int32),
        "int64" => Ok(DType::Int64),
        "float32" => Ok(DType::Float32),
        "float64" => Ok(DType::Float64),
        other => Err(PyTypeError::new_err(format!(
            "unsupported dtype {other:?}: jitexpr computes in bool, int32, int64, float32 and float64"
        ))),
    }
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

/// A read-only borrow of a NumPy array of one of the five dtypes.
enum Held<'py> {
    Bool(PyReadonlyArrayDyn<'py, bool>),
    Int32(PyReadonlyArrayDyn<'py, i32>),
    Int64(PyReadonlyArrayDyn<'py, i64>),
    Float32(PyReadonlyArrayDyn<'py, f32>),
    Float64(PyReadonlyArrayDyn<'py, f64>),
}

impl Held<'_> {
    fn view(&self) -> ArrayView<'_> {
        match self {
            Held::Bool(a) => ArrayView::Bool(a.as_array()),
            Held::Int32(a) => ArrayView::Int32(a.as_array()),
            Held::Int64(a) => ArrayView::Int64(a.as_array()),
            Held::Float32(a) => ArrayView::Float32(a.as_array()),
            Held::Float64(a) => ArrayView::Float64(a.as_array()),
        }
    }
}

/// The jitexpr dtype of a NumPy array this module can borrow as it is:
/// one of the five dtypes, native byte order, aligned.
fn direct_dtype(array: &Bound<'_, PyUntypedArray>) -> Option<DType> {
    if !array.is_aligned() {
        return None;
    }
    let descr = array.dtype();
    if descr.is_native_byteorder() == Some(false) {
        return None;
    }
    match (descr.kind(), descr.itemsize()) {
        (b'b', 1) => Some(DType::Bool),
        (b'i', 4) => Some(DType::Int32),
        (b'i', 8) => Some(DType::Int64),
        (b'f', 4) => Some(DType::Float32),
        (b'f', 8) => Some(DType::Float64),
        _ => None,
    }
}

/// The byte range `[lo, hi)` an array's elements occupy (`None` when empty).
fn extent(array: &Bound<'_, PyUntypedArray>) -> Option<(usize, usize)> {
    if array.is_empty() {
        return None;
    }
    // SAFETY: reading the data pointer field of a live array object.
    let data = unsafe { (*array.as_array_ptr()).fields.data } as isize;
    let (mut lo, mut hi) = (data, data);
    for (&n, &stride) in array.shape().iter().zip(array.strides()) {
        let span = (n as isize - 1) * stride;
        if span < 0 {
            lo += span;
        } else {
            hi += span;
        }
    }
    Some((lo as usize, hi as usize + array.dtype().itemsize()))
}

fn overlaps(a: Option<(usize, usize)>, b: Option<(usize, usize)>) -> bool {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => a0 < b1 && b0 < a1,
        _ => false,
    }
}

/// Borrows `array` as its dtype (which `direct_dtype` returned).
fn hold<'py>(array: &Bound<'py, PyUntypedArray>, dtype: DType) -> PyResult<Held<'py>> {
    fn borrow<'py, T: numpy::Element>(
        array: &Bound<'py, PyUntypedArray>,
    ) -> PyResult<PyReadonlyArrayDyn<'py, T>> {
        let typed = array.cast::<PyArrayDyn<T>>()?;
        typed
            .try_readonly()
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }
    Ok(match dtype {
        DType::Bool => Held::Bool(borrow(array)?),
        DType::Int32 => Held::Int32(borrow(array)?),
        DType::Int64 => Held::Int64(borrow(array)?),
        DType::Float32 => Held::Float32(borrow(array)?),
        DType::Float64 => Held::Float64(borrow(array)?),
    })
}

/// The inputs of one evaluation, borrowed from Python objects.
struct Inputs<'py> {
    names: Vec<String>,
    held: Vec<Held<'py>>,
    extents: Vec<Option<(usize, usize)>>,
}

impl<'py> Inputs<'py> {
    fn new() -> Self {
        Inputs {
            names: Vec::new(),
            held: Vec::new(),
            extents: Vec::new(),
        }
    }

    /// Adds `value` as input `name`: borrowed as it is when it is a NumPy array
    /// of the wanted dtype (`target`, or any of the five when `None`),
    /// otherwise converted by `jitexpr._coerce.coerce` (which raises if the
    /// conversion would not be safe).
    fn add(
        &mut self,
        name: &str,
        value: &Bound<'py, PyAny>,
        target: Option<DType>,
    ) -> PyResult<()> {
        let py = value.py();
        let direct = value
            .cast::<PyUntypedArray>()
            .ok()
            .and_then(|a| direct_dtype(a).map(|d| (a.clone(), d)));
        let (array, dtype) = match direct {
            Some((a, d)) if target.is_none_or(|t| t == d) => (a, d),
            _ => {
                let converted = py.import("jitexpr._coerce")?.getattr("coerce")?.call1((
                    name,
                    value,
                    target.map(dtype_name),
                ))?;
                let converted = converted.cast_into::<PyUntypedArray>()?;
                let d = direct_dtype(&converted).ok_or_else(|| {
                    PyTypeError::new_err(format!(
                        "input {name:?}: conversion gave an unusable array"
                    ))
                })?;
                (converted, d)
            }
        };
        self.extents.push(extent(&array));
        self.held.push(hold(&array, dtype)?);
        self.names.push(name.to_string());
        Ok(())
    }

    fn vars(&self) -> Vars<'_> {
        self.names
            .iter()
            .zip(&self.held)
            .map(|(n, h)| (n.as_str(), h.view()))
            .collect()
    }

    fn signature(&self) -> Signature {
        self.names
            .iter()
            .zip(&self.held)
            .fold(Signature::new(), |s, (n, h)| s.with(n, h.view().dtype()))
    }
}

fn to_numpy<'py>(py: Python<'py>, array: Array) -> Bound<'py, PyAny> {
    match array {
        Array::Bool(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Int32(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Int64(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Float32(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::Float64(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
    }
}

/// Input elements from which an evaluation runs on a helper thread while the
/// calling thread watches for Ctrl-C (below this, ~1 ms of work at most on
/// the JIT, the thread would cost more than it could save).
const WATCHED_ELEMENTS: usize = 1 << 20;

/// Runs `work` with the GIL released. A long evaluation (`watched`) runs on
/// a helper thread while this one checks Python's signals every 20 ms: a
/// KeyboardInterrupt (or any exception a signal handler raises) cancels this
/// evaluation through its own token, and is raised once it has stopped.
fn interruptible<T: Send>(
    py: Python<'_>,
    watched: bool,
    work: impl FnOnce(&CancelToken) -> jitexpr::Result<T> + Send,
) -> PyResult<jitexpr::Result<T>> {
    let token = CancelToken::new();
    if !watched {
        return Ok(py.detach(|| work(&token)));
    }
    std::thread::scope(|s| {
        let handle = s.spawn(|| work(&token));
        loop {
            py.detach(|| {
                let start = std::time::Instant::now();
                while !handle.is_finished() && start.elapsed().as_millis() < 20 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            });
            if handle.is_finished() {
                break;
            }
            if let Err(signal) = py.check_signals() {
                token.cancel();
                let _ = handle.join();
                return Err(signal);
            }
        }
        Ok(handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })
}

/// Whether an evaluation of `kernel` over `vars` is long enough to watch
/// for Ctrl-C ([`interruptible`]).
fn watched(kernel: &jitexpr::Kernel, vars: &Vars<'_>) -> bool {
    let elements: usize = vars.iter().map(|(_, v)| v.len()).sum();
    elements >= WATCHED_ELEMENTS
        || (kernel.options().backend != Backend::Jit && elements >= WATCHED_ELEMENTS >> 6)
}

/// Evaluates `kernel` over `inputs` with the GIL released, into a new array or into `out`.
fn run<'py>(
    py: Python<'py>,
    kernel: &jitexpr::Kernel,
    inputs: &Inputs<'py>,
    out: Option<Bound<'py, PyAny>>,
    casting: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let vars = inputs.vars();
    let watch = watched(kernel, &vars);
    let Some(out) = out else {
        let result = interruptible(py, watch, |t| kernel.eval_with_cancel(&vars, t))?;
        return result
            .map(|a| to_numpy(py, a))
            .map_err(|e| to_py_err(py, &e));
    };
    if let Ok(array) = out.cast::<PyUntypedArray>() {
        let e = extent(array);
        let writable = direct_dtype(array) == Some(kernel.dtype())
            && !inputs.extents.iter().any(|&i| overlaps(i, e));
        if writable && eval_into(py, kernel, &vars, array)? {
            return Ok(out);
        }
    }
    // Another dtype, an overlap with an input, not writeable, not an array:
    // evaluate into a new array and let Python check and copy.
    let result = interruptible(py, watch, |t| kernel.eval_with_cancel(&vars, t))?;
    let result = result
        .map(|a| to_numpy(py, a))
        .map_err(|e| to_py_err(py, &e))?;
    py.import("jitexpr._coerce")?
        .getattr("write_out")?
        .call1((&out, result, casting))?;
    Ok(out)
}

/// Evaluates into `out` (of the kernel's dtype, overlapping no input).
/// `Ok(false)` when `out` cannot be borrowed mutably (read-only).
fn eval_into(
    py: Python<'_>,
    kernel: &jitexpr::Kernel,
    vars: &Vars<'_>,
    out: &Bound<'_, PyUntypedArray>,
) -> PyResult<bool> {
    fn go<T: numpy::Element + jitexpr::Element>(
        py: Python<'_>,
        kernel: &jitexpr::Kernel,
        vars: &Vars<'_>,
        out: &Bound<'_, PyUntypedArray>,
    ) -> PyResult<bool> {
        let typed = out.cast::<PyArrayDyn<T>>()?;
        let Ok(mut rw) = typed.try_readwrite() else {
            return Ok(false);
        };
        let mut view = rw.as_array_mut();
        let watch = watched(kernel, vars);
        let result = interruptible(py, watch, |t| {
            kernel.eval_into_with_cancel(vars, &mut view, t)
        })?;
        result.map(|()| true).map_err(|e| to_py_err(py, &e))
    }
    match kernel.dtype() {
        DType::Bool => go::<bool>(py, kernel, vars, out),
        DType::Int32 => go::<i32>(py, kernel, vars, out),
        DType::Int64 => go::<i64>(py, kernel, vars, out),
        DType::Float32 => go::<f32>(py, kernel, vars, out),
        DType::Float64 => go::<f64>(py, kernel, vars, out),
    }
}

/// Compiles (or finds in the cache) and evaluates `ex` over the arrays in `arrays`.
#[pyfunction]
#[pyo3(signature = (ex, arrays, out=None, backend="jit", math="fast", casting="safe"))]
fn evaluate<'py>(
    py: Python<'py>,
    ex: &str,
    arrays: &Bound<'py, PyDict>,
    out: Option<Bound<'py, PyAny>>,
    backend: &str,
    math: &str,
    casting: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let options = parse_options(backend, math)?;
    let mut inputs = Inputs::new();
    for (name, value) in arrays.iter() {
        inputs.add(&name.extract::<String>()?, &value, None)?;
    }
    let kernel =
        jitexpr::compile_with(ex, &inputs.signature(), options).map_err(|e| to_py_err(py, &e))?;
    run(py, &kernel, &inputs, out, casting)
}

/// A compiled expression: `jitexpr.compile(ex, signature)`.
///
/// Call it (or `.run`) with the arrays by name or in signature order.
#[pyclass(frozen, module = "jitexpr")]
struct Kernel {
    inner: jitexpr::Kernel,
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
            inner,
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
        let mut inputs = Inputs::new();
        for ((name, dtype), value) in self.signature.iter().zip(args.iter()) {
            inputs.add(name, &value, Some(*dtype))?;
        }
        if let Some(kwargs) = kwargs {
            for (name, value) in kwargs.iter() {
                let name: String = name.extract()?;
                let Some(pos) = self.signature.iter().position(|(n, _)| *n == name) else {
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
                inputs.add(&name, &value, Some(self.signature[pos].1))?;
            }
        }
        run(py, &self.inner, &inputs, out, "safe")
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
        dtype_name(self.inner.dtype())
    }

    /// The expression text.
    #[getter]
    fn source(&self) -> &str {
        self.inner.source()
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
        self.inner.compiled().optimized.to_string()
    }

    fn __repr__(&self) -> String {
        let sig: Vec<String> = self
            .signature
            .iter()
            .map(|(n, d)| format!("{n}: {}", dtype_name(*d)))
            .collect();
        format!(
            "jitexpr.Kernel({:?}, [{}] -> {}, backend={:?})",
            self.inner.source(),
            sig.join(", "),
            dtype_name(self.inner.dtype()),
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
            this.inner.source().to_string(),
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
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(has_gpu, m)?)?;
    m.add_class::<Kernel>()?;
    Ok(())
}
