//! Dynamically typed arrays: the inputs and outputs of the public API.
//!
//! [`Array`] owns its data, [`ArrayView`] and [`ArrayViewMut`] borrow it; each
//! is an enum over the five element types. Any `ndarray` array or view of a
//! supported element type, of any dimension and strides, converts into an
//! [`ArrayView`] with `From`.

use ndarray::{ArrayBase, ArrayD, ArrayViewD, ArrayViewMutD, Data, DataMut, Dimension, IxDyn};

use crate::types::{DType, Scalar};

mod sealed {
    pub trait Sealed {}
    impl Sealed for bool {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The element types jitexpr computes with: `bool`, `i32`, `i64`, `f32`, `f64`.
pub trait Element: Copy + Send + Sync + 'static + sealed::Sealed {
    /// The dtype of this element type.
    const DTYPE: DType;
    /// Wraps an owned array.
    fn into_array(a: ArrayD<Self>) -> Array;
    /// Wraps a view.
    fn into_view(a: ArrayViewD<'_, Self>) -> ArrayView<'_>;
    /// Wraps a mutable view.
    fn into_view_mut(a: ArrayViewMutD<'_, Self>) -> ArrayViewMut<'_>;
    /// Unwraps an owned array of this type.
    fn from_array(a: Array) -> Result<ArrayD<Self>, Array>;
    /// The value as a [`Scalar`].
    fn to_scalar(self) -> Scalar;
    /// The value of a [`Scalar`] of this dtype (other dtypes are cast).
    fn from_scalar(s: Scalar) -> Self;
}

macro_rules! element {
    ($t:ty, $variant:ident, $dtype:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dtype;
            fn into_array(a: ArrayD<Self>) -> Array {
                Array::$variant(a)
            }
            fn into_view(a: ArrayViewD<'_, Self>) -> ArrayView<'_> {
                ArrayView::$variant(a)
            }
            fn into_view_mut(a: ArrayViewMutD<'_, Self>) -> ArrayViewMut<'_> {
                ArrayViewMut::$variant(a)
            }
            fn from_array(a: Array) -> Result<ArrayD<Self>, Array> {
                match a {
                    Array::$variant(x) => Ok(x),
                    other => Err(other),
                }
            }
            fn to_scalar(self) -> Scalar {
                Scalar::$dtype(self)
            }
            fn from_scalar(s: Scalar) -> Self {
                match s.cast(DType::$dtype) {
                    Scalar::$dtype(v) => v,
                    _ => Self::default(),
                }
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
    };
}

element!(bool, Bool, Bool);
element!(i32, Int32, Int32);
element!(i64, Int64, Int64);
element!(f32, Float32, Float32);
element!(f64, Float64, Float64);

/// Applies `$body` to the inner ndarray of any variant.
macro_rules! each {
    ($enum:ident, $value:expr, $x:ident => $body:expr) => {
        match $value {
            $enum::Bool($x) => $body,
            $enum::Int32($x) => $body,
            $enum::Int64($x) => $body,
            $enum::Float32($x) => $body,
            $enum::Float64($x) => $body,
        }
    };
}
pub(crate) use each;

/// An owned n-dimensional array of one of the five dtypes.
#[derive(Debug, Clone, PartialEq)]
pub enum Array {
    /// `bool` elements.
    Bool(ArrayD<bool>),
    /// `int32` elements.
    Int32(ArrayD<i32>),
    /// `int64` elements.
    Int64(ArrayD<i64>),
    /// `float32` elements.
    Float32(ArrayD<f32>),
    /// `float64` elements.
    Float64(ArrayD<f64>),
}

/// A borrowed n-dimensional array of one of the five dtypes, any strides.
#[derive(Debug, Clone)]
pub enum ArrayView<'a> {
    /// `bool` elements.
    Bool(ArrayViewD<'a, bool>),
    /// `int32` elements.
    Int32(ArrayViewD<'a, i32>),
    /// `int64` elements.
    Int64(ArrayViewD<'a, i64>),
    /// `float32` elements.
    Float32(ArrayViewD<'a, f32>),
    /// `float64` elements.
    Float64(ArrayViewD<'a, f64>),
}

/// A mutably borrowed array to write a result into ([`crate::Kernel::eval_into`]).
#[derive(Debug)]
pub enum ArrayViewMut<'a> {
    /// `bool` elements.
    Bool(ArrayViewMutD<'a, bool>),
    /// `int32` elements.
    Int32(ArrayViewMutD<'a, i32>),
    /// `int64` elements.
    Int64(ArrayViewMutD<'a, i64>),
    /// `float32` elements.
    Float32(ArrayViewMutD<'a, f32>),
    /// `float64` elements.
    Float64(ArrayViewMutD<'a, f64>),
}

/// A contiguous run of elements of one of the five dtypes: the inputs of
/// [`Kernel::eval_into_flat`](crate::Kernel::eval_into_flat).
#[derive(Debug, Clone, Copy)]
pub enum Flat<'a> {
    /// `bool` elements.
    Bool(&'a [bool]),
    /// `int32` elements.
    Int32(&'a [i32]),
    /// `int64` elements.
    Int64(&'a [i64]),
    /// `float32` elements.
    Float32(&'a [f32]),
    /// `float64` elements.
    Float64(&'a [f64]),
}

/// A mutable contiguous run of elements: the output of
/// [`Kernel::eval_into_flat`](crate::Kernel::eval_into_flat).
#[derive(Debug)]
pub enum FlatMut<'a> {
    /// `bool` elements.
    Bool(&'a mut [bool]),
    /// `int32` elements.
    Int32(&'a mut [i32]),
    /// `int64` elements.
    Int64(&'a mut [i64]),
    /// `float32` elements.
    Float32(&'a mut [f32]),
    /// `float64` elements.
    Float64(&'a mut [f64]),
}

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

    /// A view of the whole array.
    pub fn view(&self) -> ArrayView<'_> {
        match self {
            Array::Bool(a) => ArrayView::Bool(a.view()),
            Array::Int32(a) => ArrayView::Int32(a.view()),
            Array::Int64(a) => ArrayView::Int64(a.view()),
            Array::Float32(a) => ArrayView::Float32(a.view()),
            Array::Float64(a) => ArrayView::Float64(a.view()),
        }
    }

    /// A mutable view of the whole array.
    pub fn view_mut(&mut self) -> ArrayViewMut<'_> {
        match self {
            Array::Bool(a) => ArrayViewMut::Bool(a.view_mut()),
            Array::Int32(a) => ArrayViewMut::Int32(a.view_mut()),
            Array::Int64(a) => ArrayViewMut::Int64(a.view_mut()),
            Array::Float32(a) => ArrayViewMut::Float32(a.view_mut()),
            Array::Float64(a) => ArrayViewMut::Float64(a.view_mut()),
        }
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
        match dtype {
            DType::Bool => build::<bool>(shape, values),
            DType::Int32 => build::<i32>(shape, values),
            DType::Int64 => build::<i64>(shape, values),
            DType::Float32 => build::<f32>(shape, values),
            DType::Float64 => build::<f64>(shape, values),
        }
    }
}

impl<'a> ArrayView<'a> {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            ArrayView::Bool(_) => DType::Bool,
            ArrayView::Int32(_) => DType::Int32,
            ArrayView::Int64(_) => DType::Int64,
            ArrayView::Float32(_) => DType::Float32,
            ArrayView::Float64(_) => DType::Float64,
        }
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

impl ArrayViewMut<'_> {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            ArrayViewMut::Bool(_) => DType::Bool,
            ArrayViewMut::Int32(_) => DType::Int32,
            ArrayViewMut::Int64(_) => DType::Int64,
            ArrayViewMut::Float32(_) => DType::Float32,
            ArrayViewMut::Float64(_) => DType::Float64,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each!(ArrayViewMut, self, a => a.shape())
    }

    /// Overwrites the elements with those of `from` (same shape); false when
    /// the dtypes differ.
    pub(crate) fn assign(&mut self, from: &Array) -> bool {
        match (self, from) {
            (ArrayViewMut::Bool(a), Array::Bool(b)) => a.assign(b),
            (ArrayViewMut::Int32(a), Array::Int32(b)) => a.assign(b),
            (ArrayViewMut::Int64(a), Array::Int64(b)) => a.assign(b),
            (ArrayViewMut::Float32(a), Array::Float32(b)) => a.assign(b),
            (ArrayViewMut::Float64(a), Array::Float64(b)) => a.assign(b),
            _ => return false,
        }
        true
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
