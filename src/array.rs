//! Dynamically typed arrays: the inputs and outputs of the public API.
//!
//! [`Array`] owns its data, [`ArrayView`] and [`ArrayViewMut`] borrow it; each
//! is an enum over the twelve element types (one per [`DType`]). Any `ndarray` array or view of a
//! supported element type, of any dimension and strides, converts into an
//! [`ArrayView`] with `From`.

use ndarray::{ArrayBase, ArrayD, ArrayViewD, ArrayViewMutD, Data, DataMut, Dimension, IxDyn};

use crate::types::{DType, FromScalar, Scalar, f16};

mod sealed {
    use crate::types::f16;
    pub trait Sealed {}
    macro_rules! sealed {
        ($($(#[$doc:meta])* $variant:ident, $t:ty, $name:literal, $short:literal, $kind:ident, [$($alias:literal),*];)*) => {
            $(impl Sealed for $t {})*
        };
    }
    crate::types::dtype_table!(sealed);
}

/// The element types jitexpr computes with, one per [`DType`]: `bool`,
/// `i8`…`i64`, `u8`…`u64`, [`f16`](crate::f16), `f32`, `f64`.
pub trait Element: Copy + Send + Sync + 'static + sealed::Sealed {
    /// The dtype of this element type.
    const DTYPE: DType;
    /// Wraps an owned array.
    fn into_array(a: ArrayD<Self>) -> Array;
    /// Wraps a view.
    fn into_view(a: ArrayViewD<'_, Self>) -> ArrayView<'_>;
    /// Wraps a mutable view.
    fn into_view_mut(a: ArrayViewMutD<'_, Self>) -> ArrayViewMut<'_>;
    /// Wraps a contiguous run.
    fn into_flat(s: &[Self]) -> Flat<'_>;
    /// Unwraps an owned array of this type.
    fn from_array(a: Array) -> Result<ArrayD<Self>, Array>;
    /// The value as a [`Scalar`].
    fn to_scalar(self) -> Scalar;
    /// The value of a [`Scalar`] of this dtype (other dtypes are cast).
    fn from_scalar(s: Scalar) -> Self;
}

/// The enums over element types and the [`Element`] impls, from the dtype table.
macro_rules! define_arrays {
    ($($(#[$doc:meta])* $variant:ident, $t:ty, $name:literal, $short:literal, $kind:ident, [$($alias:literal),*];)*) => {
        $(
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            fn into_array(a: ArrayD<Self>) -> Array {
                Array::$variant(a)
            }
            fn into_view(a: ArrayViewD<'_, Self>) -> ArrayView<'_> {
                ArrayView::$variant(a)
            }
            fn into_view_mut(a: ArrayViewMutD<'_, Self>) -> ArrayViewMut<'_> {
                ArrayViewMut::$variant(a)
            }
            fn into_flat(s: &[Self]) -> Flat<'_> {
                Flat::$variant(s)
            }
            fn from_array(a: Array) -> Result<ArrayD<Self>, Array> {
                match a {
                    Array::$variant(x) => Ok(x),
                    other => Err(other),
                }
            }
            fn to_scalar(self) -> Scalar {
                Scalar::$variant(self)
            }
            fn from_scalar(s: Scalar) -> Self {
                <$t as FromScalar>::cast_from(s)
            }
        }

        impl TryFrom<Array> for ArrayD<$t> {
            type Error = Array;
            /// Unwraps the array if it has this element type; gives it back otherwise.
            fn try_from(a: Array) -> Result<Self, Array> {
                <$t as Element>::from_array(a)
            }
        }

        impl From<ArrayD<$t>> for Array {
            fn from(a: ArrayD<$t>) -> Array {
                Array::$variant(a)
            }
        }
        )*

        /// An owned n-dimensional array of one of the dtypes.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Array {
            $(#[doc = concat!("`", $name, "` elements.")] $variant(ArrayD<$t>),)*
        }

        /// A borrowed n-dimensional array of one of the dtypes, any strides.
        #[derive(Debug, Clone)]
        pub enum ArrayView<'a> {
            $(#[doc = concat!("`", $name, "` elements.")] $variant(ArrayViewD<'a, $t>),)*
        }

        /// A mutably borrowed array to write a result into ([`crate::Kernel::eval_into`]).
        #[derive(Debug)]
        pub enum ArrayViewMut<'a> {
            $(#[doc = concat!("`", $name, "` elements.")] $variant(ArrayViewMutD<'a, $t>),)*
        }

        /// A contiguous run of elements of one of the dtypes: the inputs of
        /// [`Kernel::eval_into_flat`](crate::Kernel::eval_into_flat).
        #[derive(Debug, Clone, Copy)]
        pub enum Flat<'a> {
            $(#[doc = concat!("`", $name, "` elements.")] $variant(&'a [$t]),)*
        }

        /// A mutable contiguous run of elements: the output of
        /// [`Kernel::eval_into_flat`](crate::Kernel::eval_into_flat).
        #[derive(Debug)]
        pub enum FlatMut<'a> {
            $(#[doc = concat!("`", $name, "` elements.")] $variant(&'a mut [$t]),)*
        }

        impl Array {
            /// A view of the whole array.
            pub fn view(&self) -> ArrayView<'_> {
                match self { $(Array::$variant(a) => ArrayView::$variant(a.view()),)* }
            }

            /// A mutable view of the whole array.
            pub fn view_mut(&mut self) -> ArrayViewMut<'_> {
                match self { $(Array::$variant(a) => ArrayViewMut::$variant(a.view_mut()),)* }
            }
        }

        impl ArrayViewMut<'_> {
            /// Overwrites the elements with those of `from` (same shape); false when
            /// the dtypes differ.
            pub(crate) fn assign(&mut self, from: &Array) -> bool {
                match (self, from) {
                    $((ArrayViewMut::$variant(a), Array::$variant(b)) => a.assign(b),)*
                    _ => return false,
                }
                true
            }
        }
    };
}
crate::types::dtype_table!(define_arrays);

/// Applies `$body` to the inner ndarray (or slice) of any variant of the
/// enum `$enum` (`Array`, `ArrayView`, `ArrayViewMut`, `Flat`, `FlatMut`).
macro_rules! each {
    ($enum:ident, $value:expr, $x:ident => $body:expr) => {
        match $value {
            $enum::Bool($x) => $body,
            $enum::Int8($x) => $body,
            $enum::Int16($x) => $body,
            $enum::Int32($x) => $body,
            $enum::Int64($x) => $body,
            $enum::UInt8($x) => $body,
            $enum::UInt16($x) => $body,
            $enum::UInt32($x) => $body,
            $enum::UInt64($x) => $body,
            $enum::Float16($x) => $body,
            $enum::Float32($x) => $body,
            $enum::Float64($x) => $body,
            $enum::Complex64($x) => $body,
            $enum::Complex128($x) => $body,
        }
    };
}
pub(crate) use each;

impl Flat<'_> {
    /// The element type.
    pub fn dtype(&self) -> DType {
        each!(Flat, self, s => element_dtype(s))
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        each!(Flat, self, s => s.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl FlatMut<'_> {
    /// The element type.
    pub fn dtype(&self) -> DType {
        each!(FlatMut, self, s => element_dtype(s))
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        each!(FlatMut, self, s => s.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn element_dtype<T: Element>(_: &[T]) -> DType {
    T::DTYPE
}

fn element_dtype_of<T: Element, D: Dimension>(
    _: &ndarray::ArrayBase<impl ndarray::RawData<Elem = T>, D>,
) -> DType {
    T::DTYPE
}

impl Array {
    /// The element type.
    pub fn dtype(&self) -> DType {
        self.view().dtype()
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each!(Array, self, a => a.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        each!(Array, self, a => a.len())
    }

    /// `true` if the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `float64` array, if that is the dtype.
    pub fn as_f64(&self) -> Option<&ArrayD<f64>> {
        match self {
            Array::Float64(a) => Some(a),
            _ => None,
        }
    }

    /// The `float32` array, if that is the dtype.
    pub fn as_f32(&self) -> Option<&ArrayD<f32>> {
        match self {
            Array::Float32(a) => Some(a),
            _ => None,
        }
    }

    /// The `int64` array, if that is the dtype.
    pub fn as_i64(&self) -> Option<&ArrayD<i64>> {
        match self {
            Array::Int64(a) => Some(a),
            _ => None,
        }
    }

    /// The `int32` array, if that is the dtype.
    pub fn as_i32(&self) -> Option<&ArrayD<i32>> {
        match self {
            Array::Int32(a) => Some(a),
            _ => None,
        }
    }

    /// The `bool` array, if that is the dtype.
    pub fn as_bool(&self) -> Option<&ArrayD<bool>> {
        match self {
            Array::Bool(a) => Some(a),
            _ => None,
        }
    }

    /// The elements in logical (C) order as [`Scalar`]s.
    pub fn to_scalars(&self) -> Vec<Scalar> {
        self.view().to_scalars()
    }

    /// A new array of `dtype` and `shape` from values in C order (cast to `dtype`).
    pub fn from_scalars(dtype: DType, shape: &[usize], values: &[Scalar]) -> Option<Array> {
        fn build<T: Element>(shape: &[usize], values: &[Scalar]) -> Option<Array> {
            let v: Vec<T> = values.iter().map(|&s| T::from_scalar(s)).collect();
            ArrayD::from_shape_vec(IxDyn(shape), v)
                .ok()
                .map(T::into_array)
        }
        crate::types::dtype_dispatch!(dtype, build(shape, values))
    }
}

impl<'a> ArrayView<'a> {
    /// The element type.
    pub fn dtype(&self) -> DType {
        each!(ArrayView, self, a => element_dtype_of(a))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each!(ArrayView, self, a => a.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        each!(ArrayView, self, a => a.len())
    }

    /// `true` if there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements in logical (C) order as [`Scalar`]s, whatever the strides.
    pub fn to_scalars(&self) -> Vec<Scalar> {
        each!(ArrayView, self, a => a.iter().map(|&x| x.to_scalar()).collect())
    }

    /// `true` if the elements are contiguous in Fortran (column-major) order.
    pub fn is_fortran_contiguous(&self) -> bool {
        each!(ArrayView, self, a => a.t().is_standard_layout())
    }

    /// A copy as an owned array (C order).
    pub fn to_owned(&self) -> Array {
        each!(ArrayView, self, a => Element::into_array(a.to_owned()))
    }
}

impl<'a> ArrayView<'a> {
    /// A complex view's real and imaginary parts as float views of the same
    /// shape (the same memory, strides doubled: no copy); `None` for the
    /// other dtypes.
    pub(crate) fn split_complex(self) -> Option<(ArrayView<'a>, ArrayView<'a>)> {
        match self {
            ArrayView::Complex64(z) => {
                let p = z.split_complex();
                Some((ArrayView::Float32(p.re), ArrayView::Float32(p.im)))
            }
            ArrayView::Complex128(z) => {
                let p = z.split_complex();
                Some((ArrayView::Float64(p.re), ArrayView::Float64(p.im)))
            }
            _ => None,
        }
    }
}

impl<'a> ArrayView<'a> {
    /// Rows `rows` of the first axis (the same memory).
    pub(crate) fn rows(&self, rows: std::ops::Range<usize>) -> ArrayView<'a> {
        let slice = ndarray::Slice::from(rows);
        each!(ArrayView, self, a => Element::into_view(a.clone().slice_axis_move(ndarray::Axis(0), slice)))
    }
}

impl<'a> ArrayViewMut<'a> {
    /// The view cut before row `mid` of the first axis: two views of
    /// disjoint elements.
    pub(crate) fn split_rows(self, mid: usize) -> (ArrayViewMut<'a>, ArrayViewMut<'a>) {
        each!(ArrayViewMut, self, a => {
            let (x, y) = a.split_at(ndarray::Axis(0), mid);
            (Element::into_view_mut(x), Element::into_view_mut(y))
        })
    }
}

impl<'a> ArrayViewMut<'a> {
    /// [`ArrayView::split_complex`] of a mutable view: its parts, each
    /// writable.
    pub(crate) fn split_complex(self) -> Option<(ArrayViewMut<'a>, ArrayViewMut<'a>)> {
        match self {
            ArrayViewMut::Complex64(z) => {
                let p = z.split_complex();
                Some((ArrayViewMut::Float32(p.re), ArrayViewMut::Float32(p.im)))
            }
            ArrayViewMut::Complex128(z) => {
                let p = z.split_complex();
                Some((ArrayViewMut::Float64(p.re), ArrayViewMut::Float64(p.im)))
            }
            _ => None,
        }
    }

    /// A shorter-lived view of the same elements.
    pub(crate) fn reborrow(&mut self) -> ArrayViewMut<'_> {
        each!(ArrayViewMut, self, a => Element::into_view_mut(a.view_mut()))
    }
}

impl ArrayViewMut<'_> {
    /// The element type.
    pub fn dtype(&self) -> DType {
        each!(ArrayViewMut, self, a => element_dtype_of(a))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each!(ArrayViewMut, self, a => a.shape())
    }

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        each!(ArrayViewMut, self, a => a.len())
    }

    /// Overwrites the elements, in logical order, with `values` (same dtype and length).
    pub(crate) fn assign_scalars(&mut self, values: &[Scalar]) {
        each!(ArrayViewMut, self, a => {
            for (dst, &v) in a.iter_mut().zip(values) {
                *dst = Element::from_scalar(v);
            }
        })
    }
}

impl<'a, A, S, D> From<&'a ArrayBase<S, D>> for ArrayView<'a>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    fn from(a: &'a ArrayBase<S, D>) -> ArrayView<'a> {
        A::into_view(a.view().into_dyn())
    }
}

impl<'a, A, S, D> From<&'a mut ArrayBase<S, D>> for ArrayViewMut<'a>
where
    A: Element,
    S: DataMut<Elem = A>,
    D: Dimension,
{
    fn from(a: &'a mut ArrayBase<S, D>) -> ArrayViewMut<'a> {
        A::into_view_mut(a.view_mut().into_dyn())
    }
}

impl<'a> From<&'a Array> for ArrayView<'a> {
    fn from(a: &'a Array) -> ArrayView<'a> {
        a.view()
    }
}

impl<'a> From<&'a mut Array> for ArrayViewMut<'a> {
    fn from(a: &'a mut Array) -> ArrayViewMut<'a> {
        a.view_mut()
    }
}
