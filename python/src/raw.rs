//! The extension's `unsafe` code, in one place: NumPy arrays read through the
//! NumPy C API into `ndarray` views, the caller's frame, and the helper thread
//! that runs a watched evaluation on borrowed data.
//!
//! # Concurrent mutation
//!
//! Evaluation releases the GIL, so while a view made here is in use another
//! Python thread can write the same array (or `resize(refcheck=False)` it,
//! which frees the memory). NumPy itself gives no protection against that
//! and neither did the previous `numpy`-crate borrows (they only track
//! borrows made by Rust code); as with numexpr, an array must not be
//! modified by another thread while an expression reads or writes it. A
//! reference to the array object is held for as long as a view exists, so
//! its memory cannot be freed by the array being dropped.

use jitexpr::{ArrayView, ArrayViewMut, DType, Element, Flat, FlatMut};
use numpy::ndarray::{ArrayViewD, ArrayViewMutD, Axis, Dimension, IxDyn, ShapeBuilder};
use numpy::npyffi::{
    self, NPY_ARRAY_ALIGNED, NPY_ARRAY_C_CONTIGUOUS, NPY_ARRAY_WRITEABLE, NPY_TYPES, PyArrayObject,
};
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, Ordering};

/// A NumPy array (an instance of `numpy.ndarray` or a subclass), borrowed.
/// The array lives for 'a: a reference to it (the `Bound` it came from) is
/// held for that long.
#[derive(Clone, Copy)]
pub(crate) struct NpArray<'a> {
    raw: *mut PyArrayObject,
    owner: PhantomData<&'a PyAny>,
}

/// `numpy.ndarray`, looked up once (the `numpy` crate's lookup goes through
/// its API table on every call).
fn ndarray_type(py: Python<'_>) -> *mut ffi::PyTypeObject {
    static NDARRAY: AtomicPtr<ffi::PyTypeObject> = AtomicPtr::new(std::ptr::null_mut());
    let t = NDARRAY.load(Ordering::Relaxed);
    if !t.is_null() {
        return t;
    }
    // SAFETY: reads NumPy's array type object from its C API table (which
    // the `numpy` crate imports on first use); the type lives as long as the
    // interpreter.
    let t = unsafe { npyffi::get_type_object(py, npyffi::NpyTypes::PyArray_Type) };
    NDARRAY.store(t, Ordering::Relaxed);
    t
}

/// An array's layout in elements, ready for `from_shape_ptr`.
struct Axes {
    shape: IxDyn,
    /// Non-negative: the axes in `inverted` had negative strides.
    strides: IxDyn,
    /// Bit `i` set: flip axis `i` back after making the view (NumPy has at
    /// most 64 axes).
    inverted: u64,
    /// Elements from the data pointer to the lowest address (≤ 0).
    offset: isize,
    empty: bool,
}

impl<'a> NpArray<'a> {
    /// `object` as a NumPy array, if it is one.
    pub(crate) fn of(object: &'a Bound<'_, PyAny>) -> Option<Self> {
        let raw = object.as_ptr();
        let ndarray = ndarray_type(object.py());
        // SAFETY: `raw` is a live object (`object` holds a reference; the GIL
        // is held): reading its type, and asking whether that type derives
        // from NumPy's (a live type object: NumPy is never unloaded), is
        // what PyArray_Check does.
        let is_array = unsafe {
            let t = ffi::Py_TYPE(raw);
            t == ndarray || ffi::PyType_IsSubtype(t, ndarray) != 0
        };
        is_array.then_some(NpArray {
            raw: raw.cast(),
            owner: PhantomData,
        })
    }

    fn ndim(&self) -> usize {
        // SAFETY: `raw` is a live ndarray (checked in `of`, alive for 'a).
        unsafe { (*self.raw).fields.nd as usize }
    }

    /// The shape (in elements).
    pub(crate) fn shape(&self) -> &'a [usize] {
        let n = self.ndim();
        if n == 0 {
            return &[];
        }
        // SAFETY: `dimensions` points to `nd` npy_intp (isize) values that live
        // as long as the array object, which lives for 'a (see `NpArray`). A
        // dimension is never negative, so reading them as usize is exact.
        unsafe { std::slice::from_raw_parts((*self.raw).fields.dimensions.cast::<usize>(), n) }
    }

    /// The strides (in bytes).
    fn strides(&self) -> &'a [isize] {
        let n = self.ndim();
        if n == 0 {
            return &[];
        }
        // SAFETY: as for `shape`: `nd` npy_intp values owned by the array object.
        unsafe { std::slice::from_raw_parts((*self.raw).fields.strides, n) }
    }

    fn flags(&self) -> c_int {
        // SAFETY: reading a field of a live ndarray.
        unsafe { (*self.raw).fields.flags }
    }

    fn data(&self) -> *mut u8 {
        // SAFETY: reading a field of a live ndarray.
        unsafe { (*self.raw).fields.data.cast() }
    }

    /// The jitexpr dtype of the array's elements when they can be read in
    /// place: one of the twelve dtypes, native byte order, aligned, and every
    /// stride of an axis longer than 1 a multiple of the element size.
    pub(crate) fn direct_dtype(&self) -> Option<DType> {
        if self.flags() & NPY_ARRAY_ALIGNED == 0 || self.ndim() > 64 {
            return None;
        }
        // SAFETY: `descr` of a live ndarray is a live dtype object; `type_num`
        // and `byteorder` are in the part of its layout NumPy 1 and 2 share.
        let (type_num, byteorder) = unsafe {
            let d = &(*(*self.raw).fields.descr).fields;
            (d.type_num, d.byteorder as u8)
        };
        let non_native = if cfg!(target_endian = "little") {
            b'>'
        } else {
            b'<'
        };
        if byteorder == non_native {
            return None;
        }
        let long64 = std::mem::size_of::<std::os::raw::c_long>() == 8;
        let dtype = match type_num {
            t if t == NPY_TYPES::NPY_BOOL as c_int => DType::Bool,
            t if t == NPY_TYPES::NPY_BYTE as c_int => DType::Int8,
            t if t == NPY_TYPES::NPY_SHORT as c_int => DType::Int16,
            t if t == NPY_TYPES::NPY_INT as c_int => DType::Int32,
            t if t == NPY_TYPES::NPY_LONG as c_int && long64 => DType::Int64,
            t if t == NPY_TYPES::NPY_LONG as c_int => DType::Int32,
            t if t == NPY_TYPES::NPY_LONGLONG as c_int => DType::Int64,
            t if t == NPY_TYPES::NPY_UBYTE as c_int => DType::UInt8,
            t if t == NPY_TYPES::NPY_USHORT as c_int => DType::UInt16,
            t if t == NPY_TYPES::NPY_UINT as c_int => DType::UInt32,
            t if t == NPY_TYPES::NPY_ULONG as c_int && long64 => DType::UInt64,
            t if t == NPY_TYPES::NPY_ULONG as c_int => DType::UInt32,
            t if t == NPY_TYPES::NPY_ULONGLONG as c_int => DType::UInt64,
            t if t == NPY_TYPES::NPY_HALF as c_int => DType::Float16,
            t if t == NPY_TYPES::NPY_FLOAT as c_int => DType::Float32,
            t if t == NPY_TYPES::NPY_DOUBLE as c_int => DType::Float64,
            t if t == NPY_TYPES::NPY_CFLOAT as c_int => DType::Complex64,
            t if t == NPY_TYPES::NPY_CDOUBLE as c_int => DType::Complex128,
            _ => return None,
        };
        let size = dtype.size() as isize;
        let strided = self
            .shape()
            .iter()
            .zip(self.strides())
            .all(|(&n, &s)| n <= 1 || s % size == 0);
        strided.then_some(dtype)
    }

    /// Whether NumPy lets the array be written.
    pub(crate) fn writeable(&self) -> bool {
        self.flags() & NPY_ARRAY_WRITEABLE != 0
    }

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// The byte range `[lo, hi)` the elements occupy (`None` when empty).
    pub(crate) fn extent(&self, itemsize: usize) -> Option<(usize, usize)> {
        if self.len() == 0 {
            return None;
        }
        let data = self.data() as isize;
        let (mut lo, mut hi) = (data, data);
        for (&n, &stride) in self.shape().iter().zip(self.strides()) {
            let span = (n as isize - 1) * stride;
            if span < 0 {
                lo += span;
            } else {
                hi += span;
            }
        }
        Some((lo as usize, hi as usize + itemsize))
    }

    /// The layout in elements of `size` bytes, with every stride made
    /// non-negative (`inverted` lists the axes to flip back) and `offset`
    /// the element offset from the data pointer to the lowest address; an
    /// empty array has all strides 0. Callers checked `direct_dtype`
    /// (strides of axes longer than 1 are multiples of `size`).
    fn axes(&self, size: usize) -> Axes {
        let dims = self.shape();
        let mut shape = zeros(dims.len());
        let mut strides = zeros(dims.len());
        let (mut inverted, mut offset, mut empty) = (0u64, 0isize, false);
        let size = size as isize;
        {
            let (shape, elements) = (shape.slice_mut(), strides.slice_mut());
            for (axis, (&n, &s)) in dims.iter().zip(self.strides()).enumerate() {
                shape[axis] = n;
                empty |= n == 0;
                if n <= 1 || s % size != 0 {
                    // One element: the stride is never used (left 0).
                } else if s < 0 {
                    offset += (n as isize - 1) * (s / size);
                    elements[axis] = (-s / size) as usize;
                    inverted |= 1 << axis;
                } else {
                    elements[axis] = (s / size) as usize;
                }
            }
        }
        if empty {
            strides = zeros(dims.len());
            (inverted, offset) = (0, 0);
        }
        Axes {
            shape,
            strides,
            inverted,
            offset,
            empty,
        }
    }

    /// The elements as one contiguous run of `dtype`, which must be
    /// `direct_dtype()`, if the array is C-contiguous and not empty.
    pub(crate) fn flat(&self, dtype: DType) -> Option<Flat<'a>> {
        fn go<'a, T: Element>(a: &NpArray<'a>, n: usize) -> &'a [T] {
            // SAFETY: the array is C-contiguous (checked by the caller) with
            // n > 0 elements of `T` (`direct_dtype`: type number, native byte
            // order, aligned) starting at its data pointer, in the one
            // allocation NumPy made; it lives for 'a and Rust does not write
            // it (see `view`, and the module documentation for other threads).
            unsafe { std::slice::from_raw_parts(a.data().cast::<T>(), n) }
        }
        let n = self.len();
        if self.flags() & NPY_ARRAY_C_CONTIGUOUS == 0 || n == 0 {
            return None;
        }
        Some(each_dtype!(dtype, Flat, go(self, n)))
    }

    /// [`NpArray::flat`], mutable: the array must be `writeable()` and
    /// overlap no array read for the same evaluation.
    pub(crate) fn flat_mut(&self, dtype: DType) -> Option<FlatMut<'a>> {
        fn go<'a, T: Element>(a: &NpArray<'a>, n: usize) -> &'a mut [T] {
            // SAFETY: as in `flat`; writing is allowed (the caller checked
            // WRITEABLE and that no input overlaps these bytes), and no
            // other slice or view of them is made for the evaluation.
            unsafe { std::slice::from_raw_parts_mut(a.data().cast::<T>(), n) }
        }
        let n = self.len();
        if self.flags() & NPY_ARRAY_C_CONTIGUOUS == 0 || n == 0 || !self.writeable() {
            return None;
        }
        Some(each_dtype!(dtype, FlatMut, go(self, n)))
    }

    /// A view of the elements as `dtype`, which must be `direct_dtype()`.
    pub(crate) fn view(&self, dtype: DType) -> ArrayView<'a> {
        fn go<'a, T: Element>(a: &NpArray<'a>) -> ArrayView<'a> {
            let axes = a.axes(size_of::<T>());
            let ptr = base_ptr::<T>(a, &axes);
            let inverted = axes.inverted;
            let layout = axes.shape.strides(axes.strides);
            // SAFETY: `direct_dtype` checked that the elements are `T` (type
            // number), native byte order and aligned, and that each stride of
            // an axis with two or more elements is a multiple of the element
            // size. `ptr` is the lowest address any index reaches (`axes`
            // moved it there and made the strides non-negative, as
            // `from_shape_ptr` requires; the flipped axes are inverted back
            // below), every element lies in the one allocation NumPy made
            // for the array, and an empty array gets a dangling aligned
            // pointer with zero strides. The memory lives while the array
            // object does: `object` holds a reference for 'a. Nothing in
            // Rust writes it for 'a (an `out=` array that overlaps an input
            // is never written in place); another Python thread could, while
            // the GIL is released: see the module documentation.
            let mut view = unsafe { ArrayViewD::from_shape_ptr(layout, ptr.as_ptr()) };
            invert(inverted, |axis| view.invert_axis(axis));
            T::into_view(view)
        }
        each_type!(dtype, go(self))
    }

    /// A mutable view of the elements as `dtype`, which must be
    /// `direct_dtype()`; the array must be `writeable()` and overlap no
    /// array viewed for the same evaluation.
    pub(crate) fn view_mut(&self, dtype: DType) -> ArrayViewMut<'a> {
        fn go<'a, T: Element>(a: &NpArray<'a>) -> ArrayViewMut<'a> {
            let axes = a.axes(size_of::<T>());
            let ptr = base_ptr::<T>(a, &axes);
            let inverted = axes.inverted;
            let layout = axes.shape.strides(axes.strides);
            // SAFETY: as in `view`, for the layout and lifetime. Writing is
            // allowed: the caller checked the WRITEABLE flag, and that no
            // input of this evaluation overlaps these bytes (so no shared
            // view aliases this one). Two axes with the same address ranges
            // (a zero or overlapping stride NumPy allows in a writeable
            // `as_strided` view) would alias elements within the view; the
            // kernel then writes the same element more than once, each time
            // with a value of the same result, as NumPy's own ufuncs do.
            let mut view = unsafe { ArrayViewMutD::from_shape_ptr(layout, ptr.as_ptr()) };
            invert(inverted, |axis| view.invert_axis(axis));
            T::into_view_mut(view)
        }
        each_type!(dtype, go(self))
    }
}

/// `IxDyn::zeros(n)`, cloned from a prototype for up to 4 axes: making one
/// (`IxDyn::zeros`, `IxDyn(&[..])`) goes through a slice conversion and a
/// `memcpy` call that cost more than filling it, and views are made on
/// every call (several per small evaluation).
fn zeros(n: usize) -> IxDyn {
    static PROTOTYPES: std::sync::OnceLock<[IxDyn; 5]> = std::sync::OnceLock::new();
    let p = PROTOTYPES.get_or_init(|| std::array::from_fn(IxDyn::zeros));
    match p.get(n) {
        Some(z) => z.clone(),
        None => IxDyn::zeros(n),
    }
}

/// Calls `flip` with each axis whose bit is set in `inverted`.
fn invert(mut inverted: u64, mut flip: impl FnMut(Axis)) {
    while inverted != 0 {
        flip(Axis(inverted.trailing_zeros() as usize));
        inverted &= inverted - 1;
    }
}

/// The pointer a view of `axes` starts at: the lowest element address, or a
/// dangling aligned pointer for an empty array.
fn base_ptr<T>(a: &NpArray<'_>, axes: &Axes) -> NonNull<T> {
    if axes.empty {
        return NonNull::dangling();
    }
    let data = a.data().cast::<T>();
    // SAFETY: `offset` (elements, ≤ 0) moves from the data pointer to the
    // lowest address an index reaches, inside the array's allocation.
    let ptr = unsafe { data.offset(axes.offset) };
    NonNull::new(ptr).expect("a non-empty NumPy array has a data pointer")
}

/// `$variant(f(..))` of the enum `$enum` (`Flat`, `FlatMut`) for `dtype`,
/// with `f`'s element type inferred from the variant.
macro_rules! each_dtype {
    ($dtype:expr, $enum:ident, $call:expr) => {
        match $dtype {
            DType::Bool => $enum::Bool($call),
            DType::Int8 => $enum::Int8($call),
            DType::Int16 => $enum::Int16($call),
            DType::Int32 => $enum::Int32($call),
            DType::Int64 => $enum::Int64($call),
            DType::UInt8 => $enum::UInt8($call),
            DType::UInt16 => $enum::UInt16($call),
            DType::UInt32 => $enum::UInt32($call),
            DType::UInt64 => $enum::UInt64($call),
            DType::Float16 => $enum::Float16($call),
            DType::Float32 => $enum::Float32($call),
            DType::Float64 => $enum::Float64($call),
            DType::Complex64 => $enum::Complex64($call),
            DType::Complex128 => $enum::Complex128($call),
        }
    };
}
use each_dtype;

/// `go::<T>(args)` with `T` the element type of `dtype`.
macro_rules! each_type {
    ($dtype:expr, $go:ident($($arg:expr),*)) => {
        match $dtype {
            DType::Bool => $go::<bool>($($arg),*),
            DType::Int8 => $go::<i8>($($arg),*),
            DType::Int16 => $go::<i16>($($arg),*),
            DType::Int32 => $go::<i32>($($arg),*),
            DType::Int64 => $go::<i64>($($arg),*),
            DType::UInt8 => $go::<u8>($($arg),*),
            DType::UInt16 => $go::<u16>($($arg),*),
            DType::UInt32 => $go::<u32>($($arg),*),
            DType::UInt64 => $go::<u64>($($arg),*),
            DType::Float16 => $go::<jitexpr::f16>($($arg),*),
            DType::Float32 => $go::<f32>($($arg),*),
            DType::Float64 => $go::<f64>($($arg),*),
            DType::Complex64 => $go::<jitexpr::c32>($($arg),*),
            DType::Complex128 => $go::<jitexpr::c64>($($arg),*),
        }
    };
}
use each_type;

/// The numpy crate's dtype object for `T`.
fn descr_of<'py, T: numpy::Element>(py: Python<'py>) -> Bound<'py, numpy::PyArrayDescr> {
    T::get_dtype(py)
}

/// A new NumPy array of `dtype` and `shape` (C or Fortran order) for a
/// kernel to write every element of, allocated by NumPy as `np.empty` does
/// (one C-API call): the elements are whatever the allocator gave (bool
/// ones are zeroed). An error if NumPy raised one (out of memory, too large).
pub(crate) fn new_array<'py>(
    py: Python<'py>,
    dtype: DType,
    shape: &[usize],
    fortran: bool,
) -> PyResult<Bound<'py, PyAny>> {
    use numpy::PyArrayDescrMethods as _;
    let descr = each_type!(dtype, descr_of(py)).into_dtype_ptr();
    let nd = shape.len() as c_int;
    // NumPy reads the dimensions (npy_intp, the size of usize) and copies them.
    let dims = shape.as_ptr().cast::<npyffi::npy_intp>().cast_mut();
    let fortran = c_int::from(fortran);
    // SAFETY: `descr` is a new reference to a dtype, which both calls steal;
    // `dims` points to `nd` (≤ 64: a NumPy shape, or one broadcast from
    // NumPy shapes) dimensions, read and not kept. The result is a new
    // reference or NULL with a Python exception set. An array from
    // `PyArray_Empty` has elements that are not initialized: Rust code must
    // not read them before writing. This module only writes them (through
    // `NpArray::view_mut`, the kernel writing every element), and Python
    // sees the array only after that (on an error it is dropped unseen),
    // like an `np.empty` array that has been filled. The elements are plain
    // numbers (any bits are a value); bools, which are not, are zeroed.
    unsafe {
        let array = if dtype == DType::Bool {
            npyffi::PY_ARRAY_API.PyArray_Zeros(py, nd, dims, descr, fortran)
        } else {
            npyffi::PY_ARRAY_API.PyArray_Empty(py, nd, dims, descr, fortran)
        };
        Bound::from_owned_ptr_or_err(py, array)
    }
}

/// The size in bytes of an element of `d`.
pub(crate) fn itemsize(d: DType) -> usize {
    d.size()
}

/// A frame's `(f_locals, f_globals)`, each only when asked for.
pub(crate) type FrameDicts<'py> = (Option<Bound<'py, PyAny>>, Option<Bound<'py, PyAny>>);

/// The `(locals, globals)` of the Python frame `depth` levels up from the
/// caller of the extension function running now (`depth` 1: that caller's
/// own frame), as `sys._getframe(depth - 1)` would give them from there.
/// Only the ones asked for are fetched (`f_locals` builds a dict).
pub(crate) fn frame_dicts<'py>(
    py: Python<'py>,
    depth: i64,
    want_locals: bool,
    want_globals: bool,
) -> PyResult<FrameDicts<'py>> {
    let too_deep = || PyValueError::new_err("call stack is not deep enough");
    if depth < 1 {
        // sys._getframe(depth - 1) with a negative depth.
        return Err(PyValueError::new_err("call stack is not deep enough"));
    }
    if depth == 1 && !want_locals {
        // The common case (a dict given for the locals): no frame object.
        // SAFETY: called with the GIL held; returns a borrowed reference to
        // the globals of the running Python frame, or NULL without one.
        let globals = unsafe { ffi::PyEval_GetGlobals() };
        if globals.is_null() {
            return Err(too_deep());
        }
        // SAFETY: a borrowed, non-null reference, taken as a new one.
        let globals = unsafe { Bound::from_borrowed_ptr(py, globals) };
        return Ok((None, Some(globals)));
    }
    // SAFETY: called with the GIL held; a borrowed reference to the running
    // frame (or NULL), which we take as a new reference.
    let frame = unsafe { Bound::from_borrowed_ptr_or_opt(py, ffi::PyEval_GetFrame().cast()) };
    let mut frame = frame.ok_or_else(too_deep)?;
    for _ in 1..depth {
        // SAFETY: `frame` is a live frame object (we hold a reference);
        // PyFrame_GetBack returns a new reference or NULL at the bottom.
        let back = unsafe { ffi::PyFrame_GetBack(frame.as_ptr().cast()) };
        // SAFETY: a new reference (or NULL), owned from here on.
        frame = unsafe { Bound::from_owned_ptr_or_opt(py, back.cast()) }.ok_or_else(too_deep)?;
    }
    let locals = if want_locals {
        Some(frame.getattr(pyo3::intern!(py, "f_locals"))?)
    } else {
        None
    };
    let globals = if want_globals {
        Some(frame.getattr(pyo3::intern!(py, "f_globals"))?)
    } else {
        None
    };
    Ok((locals, globals))
}

/// The extension's global allocator: the system's, except that it keeps up
/// to [`RECYCLED`] freed blocks of [`RECYCLE_MIN`] bytes or more
/// ([`RECYCLE_BYTES`] in all; the oldest go back to the system to make
/// room for a newer one) and hands one back to the next allocation of the
/// same size and alignment. Results that large are allocated by Rust and
/// freed when NumPy drops the array; a large block (past glibc's mmap
/// threshold, at most 32 MiB) went back to the system at once, so every
/// call of `r = evaluate("z*w + c")` on 10⁷ complex numbers faulted in and
/// zeroed a fresh 160 MB (a third of that call's time in the kernel's
/// `clear_page_erms`). With the block kept, the loop's next result reuses
/// the previous one's pages. Only blocks this allocator made are kept,
/// with the layout they were made with; zeroed allocations come from the
/// system (a kept block of their layout given back first).
pub struct Recycling;

/// The smallest block kept (smaller ones glibc's heap already reuses).
pub(crate) const RECYCLE_MIN: usize = 4 << 20;
/// The most bytes kept at once.
const RECYCLE_BYTES: usize = 256 << 20;
/// The most blocks kept at once.
const RECYCLED: usize = 2;

/// A kept block: its address (0: an empty slot), size, alignment, and
/// when it was kept (a count of blocks kept, for evicting the oldest).
#[derive(Clone, Copy)]
struct Kept {
    addr: usize,
    size: usize,
    align: usize,
    when: u64,
}

/// The kept blocks, and how many were ever kept.
static KEPT: std::sync::Mutex<([Kept; RECYCLED], u64)> = std::sync::Mutex::new((
    [Kept {
        addr: 0,
        size: 0,
        align: 0,
        when: 0,
    }; RECYCLED],
    0,
));

/// A kept block for `layout` (its exact size and alignment), taken out of
/// [`KEPT`]; `None` if there is none.
fn take(layout: std::alloc::Layout) -> Option<*mut u8> {
    if layout.size() < RECYCLE_MIN {
        return None;
    }
    let mut kept = KEPT.try_lock().ok()?;
    let slot = kept
        .0
        .iter_mut()
        .find(|k| k.addr != 0 && k.size == layout.size() && k.align == layout.align())?;
    let addr = slot.addr;
    slot.addr = 0;
    Some(addr as *mut u8)
}

// SAFETY: every block handed out is either the system allocator's answer
// to this very layout, or a block the system allocated earlier for a
// layout of the same size and alignment, which its owner freed (so no one
// else uses it) and which is removed from `KEPT` before it is handed out
// (under the lock, so to one caller only). A block is freed to the system
// with the layout it was allocated with, as `GlobalAlloc` requires (an
// evicted one with the size and alignment it was kept with). The mutex
// does not allocate (a futex on Linux), so the allocator never re-enters
// itself, and it is only tried (`try_lock`: the system serves a call that
// finds it held), so a child forked while another thread held it cannot
// deadlock on it.
unsafe impl std::alloc::GlobalAlloc for Recycling {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        match take(layout) {
            Some(p) => p,
            // SAFETY: the caller's layout, as given.
            None => unsafe { std::alloc::System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        let size = layout.size();
        if (RECYCLE_MIN..=RECYCLE_BYTES).contains(&size)
            && let Ok(mut guard) = KEPT.try_lock()
        {
            let (kept, count) = &mut *guard;
            // Make room: the oldest kept blocks go back to the system.
            loop {
                let held: usize = kept.iter().filter(|k| k.addr != 0).map(|k| k.size).sum();
                let free = kept.iter().any(|k| k.addr == 0);
                if free && held + size <= RECYCLE_BYTES {
                    break;
                }
                let Some(oldest) = kept
                    .iter_mut()
                    .filter(|k| k.addr != 0)
                    .min_by_key(|k| k.when)
                else {
                    break;
                };
                let old = *oldest;
                oldest.addr = 0;
                // SAFETY: a kept block: the system allocated it with this
                // size and alignment (valid: it was a `Layout`'s), and no
                // one uses it (its owner freed it; it was never handed out
                // again, or it would not be in `KEPT`).
                unsafe {
                    std::alloc::System.dealloc(
                        old.addr as *mut u8,
                        std::alloc::Layout::from_size_align_unchecked(old.size, old.align),
                    )
                }
            }
            if let Some(slot) = kept.iter_mut().find(|k| k.addr == 0) {
                *count += 1;
                *slot = Kept {
                    addr: ptr as usize,
                    size,
                    align: layout.align(),
                    when: *count,
                };
                return;
            }
        }
        // SAFETY: `ptr` was allocated by the system with `layout` (see the
        // impl's SAFETY comment).
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // A kept block of this layout goes back to the system first, so
        // that glibc serves zeroed blocks as it would without this
        // allocator (from its heap, or fresh pages the kernel zeroes where
        // each thread first writes them), not a memset here on one thread.
        if let Some(p) = take(layout) {
            // SAFETY: a kept block, made by the system with `layout`.
            unsafe { std::alloc::System.dealloc(p, layout) };
        }
        // SAFETY: the caller's layout, as given.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        // SAFETY: `ptr` is a live block of the system's with `layout` (a
        // kept block is never live), and the caller's `new` size is valid
        // for its alignment.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}
