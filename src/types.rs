//! Data types, scalar values and NumPy 2 type promotion.
//!
//! jitexpr has five dtypes: `bool`, `int32`, `int64`, `float32` and `float64`.
//! Promotion between two arrays follows NumPy 2's table ([`promote`]); Python
//! literals in an expression are *weak* (NEP 50): they adopt the dtype of the
//! array they meet when their kind allows it ([`promote_weak`]).

use std::fmt;
use std::hash::{Hash, Hasher};

/// The element type of an array or an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `bool`: `true`/`false`, one byte per element.
    Bool,
    /// `int32`: 32-bit two's complement; arithmetic wraps.
    Int32,
    /// `int64`: 64-bit two's complement; arithmetic wraps.
    Int64,
    /// `float32`: IEEE 754 binary32.
    Float32,
    /// `float64`: IEEE 754 binary64.
    Float64,
}

/// The kind of a dtype: the order in which NEP 50 compares a weak literal with an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Booleans.
    Bool,
    /// Signed integers.
    Int,
    /// Floating point numbers.
    Float,
}

impl DType {
    /// All dtypes, in promotion order.
    pub const ALL: [DType; 5] = [
        DType::Bool,
        DType::Int32,
        DType::Int64,
        DType::Float32,
        DType::Float64,
    ];

    /// NumPy's name of the dtype (`"float64"`).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
        }
    }

    /// Short name used in the printed IR (`"f64"`).
    pub fn short_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int32 => "i32",
            DType::Int64 => "i64",
            DType::Float32 => "f32",
            DType::Float64 => "f64",
        }
    }

    /// Parses a NumPy dtype name (`"float32"`, also `"f4"`, `"i8"`, `"bool_"`).
    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "bool" | "bool_" | "?" | "b1" => DType::Bool,
            "int32" | "i4" => DType::Int32,
            "int64" | "i8" | "int" => DType::Int64,
            "float32" | "f4" => DType::Float32,
            "float64" | "f8" | "float" | "double" => DType::Float64,
            _ => return None,
        })
    }

    /// The kind of this dtype.
    pub fn kind(self) -> Kind {
        match self {
            DType::Bool => Kind::Bool,
            DType::Int32 | DType::Int64 => Kind::Int,
            DType::Float32 | DType::Float64 => Kind::Float,
        }
    }

    /// `true` for `float32` and `float64`.
    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }

    /// `true` for `int32` and `int64`.
    pub fn is_int(self) -> bool {
        self.kind() == Kind::Int
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::Int32 | DType::Float32 => 4,
            DType::Int64 | DType::Float64 => 8,
        }
    }

    /// The float type that float functions (`sin`, `/`, …) compute in for this input:
    /// floats keep their width, integers and bool go to `float64`.
    ///
    /// NumPy gives `float16` for `bool` input; jitexpr has no `float16` and uses `float64`.
    pub fn float_for(self) -> DType {
        match self {
            DType::Float32 => DType::Float32,
            _ => DType::Float64,
        }
    }

    /// The dtype that sums and products accumulate in (`np.sum` of `int32` is `int64`).
    pub fn accumulator(self) -> DType {
        match self {
            DType::Bool | DType::Int32 | DType::Int64 => DType::Int64,
            f => f,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Kind {
    /// The dtype a weak Python literal of this kind takes when nothing else decides.
    pub fn default_dtype(self) -> DType {
        match self {
            Kind::Bool => DType::Bool,
            Kind::Int => DType::Int64,
            Kind::Float => DType::Float64,
        }
    }
}

/// NumPy 2's promotion of two array dtypes (`np.result_type(a, b)`).
///
/// | with       | bool    | int32   | int64   | float32 | float64 |
/// |------------|---------|---------|---------|---------|---------|
/// | **bool**   | bool    | int32   | int64   | float32 | float64 |
/// | **int32**  | int32   | int32   | int64   | float64 | float64 |
/// | **int64**  | int64   | int64   | int64   | float64 | float64 |
/// | **float32**| float32 | float64 | float64 | float32 | float64 |
/// | **float64**| float64 | float64 | float64 | float64 | float64 |
pub fn promote(a: DType, b: DType) -> DType {
    use DType::*;
    match (a, b) {
        (x, y) if x == y => x,
        (Bool, x) | (x, Bool) => x,
        (Int32, Int64) | (Int64, Int32) => Int64,
        (Float32, Int32 | Int64) | (Int32 | Int64, Float32) => Float64,
        _ => Float64,
    }
}

/// The type of an expression during checking: a dtype and whether it is a weak literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExprType {
    /// The dtype the value has when it stands alone.
    pub dtype: DType,
    /// `true` for Python literals and arithmetic on them only (NEP 50 "weak scalars").
    pub weak: bool,
}

/// Promotion with NEP 50 weak literals.
///
/// Two strong types promote with [`promote`]. A weak literal meeting a strong
/// type of the same or a higher kind takes that type (`float32_array * 2.0` is
/// `float32`); a weak literal of a higher kind gives that kind's default dtype
/// (`int32_array * 2.5` is `float64`, `bool_array + 1` is `int64`).
pub fn promote_weak(a: ExprType, b: ExprType) -> ExprType {
    let dtype = match (a.weak, b.weak) {
        (true, false) => weak_with(a.dtype, b.dtype),
        (false, true) => weak_with(b.dtype, a.dtype),
        _ => promote(a.dtype, b.dtype),
    };
    ExprType {
        dtype,
        weak: a.weak && b.weak,
    }
}

fn weak_with(weak: DType, strong: DType) -> DType {
    if weak.kind() <= strong.kind() {
        strong
    } else {
        weak.kind().default_dtype()
    }
}

/// A single typed value: a constant in the IR or one element during interpretation.
#[derive(Debug, Clone, Copy)]
pub enum Scalar {
    /// A `bool` value.
    Bool(bool),
    /// An `int32` value.
    Int32(i32),
    /// An `int64` value.
    Int64(i64),
    /// A `float32` value.
    Float32(f32),
    /// A `float64` value.
    Float64(f64),
}

impl Scalar {
    /// The dtype of the value.
    pub fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int32(_) => DType::Int32,
            Scalar::Int64(_) => DType::Int64,
            Scalar::Float32(_) => DType::Float32,
            Scalar::Float64(_) => DType::Float64,
        }
    }

    /// The value converted to `f64` (exact for every dtype but large `int64`).
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => f64::from(u8::from(b)),
            Scalar::Int32(v) => f64::from(v),
            Scalar::Int64(v) => v as f64,
            Scalar::Float32(v) => f64::from(v),
            Scalar::Float64(v) => v,
        }
    }

    /// The value converted to `i64`, truncating floats (NaN gives 0, out of range saturates).
    pub fn to_i64(self) -> i64 {
        match self {
            Scalar::Bool(b) => i64::from(b),
            Scalar::Int32(v) => i64::from(v),
            Scalar::Int64(v) => v,
            Scalar::Float32(v) => v as i64,
            Scalar::Float64(v) => v as i64,
        }
    }

    /// Truthiness: nonzero (NaN is true, like NumPy's `astype(bool)`).
    pub fn is_truthy(self) -> bool {
        match self {
            Scalar::Bool(b) => b,
            Scalar::Int32(v) => v != 0,
            Scalar::Int64(v) => v != 0,
            Scalar::Float32(v) => v != 0.0,
            Scalar::Float64(v) => v != 0.0,
        }
    }

    /// The value as `dtype`, with NumPy's `astype` semantics.
    ///
    /// Float to integer truncates toward zero; NaN, ±inf and out-of-range values
    /// are undefined in NumPy and give Rust's saturating result here (NaN → 0).
    pub fn cast(self, dtype: DType) -> Scalar {
        match dtype {
            DType::Bool => Scalar::Bool(self.is_truthy()),
            DType::Int32 => Scalar::Int32(match self {
                Scalar::Float32(v) => v as i32,
                Scalar::Float64(v) => v as i32,
                other => other.to_i64() as i32,
            }),
            DType::Int64 => Scalar::Int64(self.to_i64()),
            DType::Float32 => Scalar::Float32(match self {
                Scalar::Int64(v) => v as f32,
                other => other.to_f64() as f32,
            }),
            DType::Float64 => Scalar::Float64(self.to_f64()),
        }
    }

    /// The zero of `dtype` (`false` for bool).
    pub fn zero(dtype: DType) -> Scalar {
        Scalar::Int64(0).cast(dtype)
    }

    /// The one of `dtype` (`true` for bool).
    pub fn one(dtype: DType) -> Scalar {
        Scalar::Int64(1).cast(dtype)
    }

    /// Bitwise identity: `-0.0` differs from `0.0`, NaNs compare by payload.
    pub fn bits(self) -> u64 {
        match self {
            Scalar::Bool(b) => u64::from(b),
            Scalar::Int32(v) => v as u32 as u64,
            Scalar::Int64(v) => v as u64,
            Scalar::Float32(v) => u64::from(v.to_bits()),
            Scalar::Float64(v) => v.to_bits(),
        }
    }

    /// `true` if the value equals `x` numerically (so `-0.0` equals `0`).
    pub fn equals_f64(self, x: f64) -> bool {
        self.to_f64() == x
    }
}

/// Bitwise equality, so that constants can be hash-consed (`-0.0 != 0.0`, `NaN == NaN`).
impl PartialEq for Scalar {
    fn eq(&self, other: &Scalar) -> bool {
        self.dtype() == other.dtype() && self.bits() == other.bits()
    }
}

impl Eq for Scalar {}

impl Hash for Scalar {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.dtype().hash(state);
        self.bits().hash(state);
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Scalar::Bool(b) => write!(f, "{}", if b { "True" } else { "False" }),
            Scalar::Int32(v) => write!(f, "{v}"),
            Scalar::Int64(v) => write!(f, "{v}"),
            Scalar::Float32(v) => write_float(f, f64::from(v)),
            Scalar::Float64(v) => write_float(f, v),
        }
    }
}

fn write_float(f: &mut fmt::Formatter<'_>, v: f64) -> fmt::Result {
    if v.is_nan() {
        f.write_str("nan")
    } else if v.is_infinite() {
        f.write_str(if v > 0.0 { "inf" } else { "-inf" })
    } else if v == v.trunc() && v.abs() < 1e16 {
        write!(f, "{v:.1}")
    } else {
        write!(f, "{v:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strong(d: DType) -> ExprType {
        ExprType {
            dtype: d,
            weak: false,
        }
    }
    fn weak(d: DType) -> ExprType {
        ExprType {
            dtype: d,
            weak: true,
        }
    }

    #[test]
    fn promotion_table_matches_numpy() {
        use DType::*;
        assert_eq!(promote(Int32, Float32), Float64);
        assert_eq!(promote(Int64, Float32), Float64);
        assert_eq!(promote(Bool, Float32), Float32);
        assert_eq!(promote(Int32, Int64), Int64);
        assert_eq!(promote(Float32, Float64), Float64);
        for a in DType::ALL {
            for b in DType::ALL {
                assert_eq!(promote(a, b), promote(b, a));
            }
        }
    }

    #[test]
    fn weak_literals_follow_nep50() {
        use DType::*;
        assert_eq!(promote_weak(strong(Float32), weak(Float64)).dtype, Float32);
        assert_eq!(promote_weak(strong(Int32), weak(Float64)).dtype, Float64);
        assert_eq!(promote_weak(strong(Int32), weak(Int64)).dtype, Int32);
        assert_eq!(promote_weak(strong(Bool), weak(Int64)).dtype, Int64);
        assert!(promote_weak(weak(Int64), weak(Float64)).weak);
        assert_eq!(promote_weak(weak(Int64), weak(Float64)).dtype, Float64);
    }
}
