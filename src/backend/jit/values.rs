//! Blocks of values of one dtype, as the interpreted tier computes them and
//! the call layer hands them over: read-only ([`Values`]) and written
//! ([`ValuesMut`]) slices, and owned scratch blocks ([`Buf`]). Safe code with
//! no dependencies on the rest of the JIT, so `call` and `blocks` can both
//! use it without using each other.

use crate::backend::jit::aot::BLOCK;
use crate::types::{DType, Scalar};

macro_rules! typed {
    ($(#[$m:meta])* $name:ident<$a:lifetime>, $($ref:tt)+) => {
        $(#[$m])*
        pub enum $name<$a> {
            /// Booleans.
            Bool($($ref)+ [bool]),
            /// 32-bit integers.
            Int32($($ref)+ [i32]),
            /// 64-bit integers.
            Int64($($ref)+ [i64]),
            /// Single precision.
            Float32($($ref)+ [f32]),
            /// Double precision.
            Float64($($ref)+ [f64]),
        }
    };
}

typed!(
    /// Elements of one dtype, read-only.
    #[derive(Clone, Copy)]
    Values<'a>, &'a
);
typed!(
    /// Elements of one dtype, written.
    ValuesMut<'a>, &'a mut
);

impl<'a> Values<'a> {
    /// Elements `[start, start + len)`.
    pub(crate) fn range(self, start: usize, len: usize) -> Values<'a> {
        match self {
            Values::Bool(x) => Values::Bool(&x[start..start + len]),
            Values::Int32(x) => Values::Int32(&x[start..start + len]),
            Values::Int64(x) => Values::Int64(&x[start..start + len]),
            Values::Float32(x) => Values::Float32(&x[start..start + len]),
            Values::Float64(x) => Values::Float64(&x[start..start + len]),
        }
    }

    /// Element `i` as a scalar.
    pub(crate) fn at(self, i: usize) -> Scalar {
        match self {
            Values::Bool(x) => Scalar::Bool(x[i]),
            Values::Int32(x) => Scalar::Int32(x[i]),
            Values::Int64(x) => Scalar::Int64(x[i]),
            Values::Float32(x) => Scalar::Float32(x[i]),
            Values::Float64(x) => Scalar::Float64(x[i]),
        }
    }
}

/// A block of one dtype: a slot of the scratch space.
#[derive(Debug, Default)]
pub enum Buf {
    /// Taken out while a step writes it.
    #[default]
    Empty,
    /// Booleans.
    Bool(Vec<bool>),
    /// 32-bit integers.
    Int32(Vec<i32>),
    /// 64-bit integers.
    Int64(Vec<i64>),
    /// Single precision.
    Float32(Vec<f32>),
    /// Double precision.
    Float64(Vec<f64>),
}

impl Buf {
    pub(crate) fn new(dtype: DType) -> Buf {
        match dtype {
            DType::Bool => Buf::Bool(vec![false; BLOCK]),
            DType::Int32 => Buf::Int32(vec![0; BLOCK]),
            DType::Int64 => Buf::Int64(vec![0; BLOCK]),
            DType::Float32 => Buf::Float32(vec![0.0; BLOCK]),
            DType::Float64 => Buf::Float64(vec![0.0; BLOCK]),
            // Not block types: the interpreted tier compiles stages with them
            // instead (`blocks::Interp::build`).
            _ => Buf::Empty,
        }
    }

    pub(crate) fn dtype(&self) -> Option<DType> {
        Some(match self {
            Buf::Empty => return None,
            Buf::Bool(_) => DType::Bool,
            Buf::Int32(_) => DType::Int32,
            Buf::Int64(_) => DType::Int64,
            Buf::Float32(_) => DType::Float32,
            Buf::Float64(_) => DType::Float64,
        })
    }

    /// The first `len` elements.
    pub(crate) fn values(&self, len: usize) -> Values<'_> {
        match self {
            Buf::Empty => Values::Bool(&[]),
            Buf::Bool(x) => Values::Bool(&x[..len]),
            Buf::Int32(x) => Values::Int32(&x[..len]),
            Buf::Int64(x) => Values::Int64(&x[..len]),
            Buf::Float32(x) => Values::Float32(&x[..len]),
            Buf::Float64(x) => Values::Float64(&x[..len]),
        }
    }

    /// The first `len` elements, to write.
    pub(crate) fn values_mut(&mut self, len: usize) -> ValuesMut<'_> {
        match self {
            Buf::Empty => ValuesMut::Bool(&mut []),
            Buf::Bool(x) => ValuesMut::Bool(&mut x[..len]),
            Buf::Int32(x) => ValuesMut::Int32(&mut x[..len]),
            Buf::Int64(x) => ValuesMut::Int64(&mut x[..len]),
            Buf::Float32(x) => ValuesMut::Float32(&mut x[..len]),
            Buf::Float64(x) => ValuesMut::Float64(&mut x[..len]),
        }
    }

    /// Sets element `i` to `s` (of this buffer's dtype).
    pub(crate) fn set(&mut self, i: usize, s: Scalar) {
        match self {
            Buf::Empty => {}
            Buf::Bool(x) => x[i] = s.is_truthy(),
            Buf::Int32(x) => x[i] = s.cast(DType::Int32).to_i64() as i32,
            Buf::Int64(x) => x[i] = s.to_i64(),
            Buf::Float32(x) => x[i] = s.to_f64() as f32,
            Buf::Float64(x) => x[i] = s.to_f64(),
        }
    }

    /// The first `len` elements set to `s`.
    pub(crate) fn fill(&mut self, s: Scalar, len: usize) {
        match self {
            Buf::Empty => {}
            Buf::Bool(x) => x[..len].fill(s.is_truthy()),
            Buf::Int32(x) => x[..len].fill(s.cast(DType::Int32).to_i64() as i32),
            Buf::Int64(x) => x[..len].fill(s.to_i64()),
            Buf::Float32(x) => x[..len].fill(s.to_f64() as f32),
            Buf::Float64(x) => x[..len].fill(s.to_f64()),
        }
    }
}

impl ValuesMut<'_> {
    /// Elements `[start, start + v.len())` set to the values `v` (of this dtype).
    pub(crate) fn copy_at(&mut self, start: usize, v: Values<'_>) {
        match (self, v) {
            (ValuesMut::Bool(o), Values::Bool(x)) => o[start..start + x.len()].copy_from_slice(x),
            (ValuesMut::Int32(o), Values::Int32(x)) => o[start..start + x.len()].copy_from_slice(x),
            (ValuesMut::Int64(o), Values::Int64(x)) => o[start..start + x.len()].copy_from_slice(x),
            (ValuesMut::Float32(o), Values::Float32(x)) => {
                o[start..start + x.len()].copy_from_slice(x)
            }
            (ValuesMut::Float64(o), Values::Float64(x)) => {
                o[start..start + x.len()].copy_from_slice(x)
            }
            // Dtypes are checked when the program is built.
            _ => debug_assert!(false, "output of another dtype"),
        }
    }
}
