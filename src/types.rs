//! Data types, scalar values and NumPy 2 type promotion.
//!
//! jitexpr has fourteen dtypes: `bool`; the signed integers `int8`, `int16`,
//! `int32`, `int64`; the unsigned `uint8`, `uint16`, `uint32`, `uint64`; the
//! floats `float16`, `float32`, `float64`; and the complex `complex64`,
//! `complex128`. Each is one row of
//! [`dtype_table!`], from which the enum, names, sizes, kinds, [`Scalar`]'s
//! variants and the macros that dispatch on the element type
//! (`array::each!`, `dtype_dispatch!`) derive.
//!
//! Promotion between two arrays follows NumPy 2's `np.result_type`
//! ([`promote`]); Python literals in an expression are *weak* (NEP 50): they
//! adopt the dtype of the array they meet when their kind allows it
//! ([`promote_weak`]).
//!
//! `float16` is a storage type: values are loaded and stored as IEEE binary16
//! and every operation on them computes in `float32` ([`DType::compute`]),
//! the result rounded back to `float16` when the operation's NumPy result is
//! `float16`, as NumPy's own `float16` loops do for most ufuncs.

use std::fmt;
use std::hash::{Hash, Hasher};

pub use half::f16;
/// The element type of `complex64`: `num_complex::Complex<f32>` (ndarray's and
/// ndarray-npy's complex type; jitexpr computes its functions itself).
#[allow(non_camel_case_types)]
pub type c32 = num_complex::Complex<f32>;
/// The element type of `complex128`: `num_complex::Complex<f64>`.
#[allow(non_camel_case_types)]
pub type c64 = num_complex::Complex<f64>;

/// The table of dtypes, one row each, in promotion order: `Variant, Rust
/// element type, NumPy name, short name (printed IR), kind, other names
/// accepted by [`DType::from_name`] (NumPy's short codes and aliases)`.
/// Expands `$callback! { rows }`.
macro_rules! dtype_table {
    ($callback:ident) => {
        $callback! {
            /// `bool`: `true`/`false`, one byte per element.
            Bool, bool, "bool", "bool", Bool, ["bool_", "?", "b1"];
            /// `int8`: 8-bit two's complement; arithmetic wraps.
            Int8, i8, "int8", "i8", Int, ["i1", "byte"];
            /// `int16`: 16-bit two's complement; arithmetic wraps.
            Int16, i16, "int16", "i16", Int, ["i2", "short"];
            /// `int32`: 32-bit two's complement; arithmetic wraps.
            Int32, i32, "int32", "i32", Int, ["i4", "intc"];
            /// `int64`: 64-bit two's complement; arithmetic wraps.
            Int64, i64, "int64", "i64", Int, ["i8", "int", "intp", "long"];
            /// `uint8`: 8-bit unsigned; arithmetic wraps.
            UInt8, u8, "uint8", "u8", Unsigned, ["u1", "ubyte"];
            /// `uint16`: 16-bit unsigned; arithmetic wraps.
            UInt16, u16, "uint16", "u16", Unsigned, ["u2", "ushort"];
            /// `uint32`: 32-bit unsigned; arithmetic wraps.
            UInt32, u32, "uint32", "u32", Unsigned, ["u4", "uintc"];
            /// `uint64`: 64-bit unsigned; arithmetic wraps.
            UInt64, u64, "uint64", "u64", Unsigned, ["u8", "uint", "uintp", "ulong"];
            /// `float16`: IEEE 754 binary16, a storage type (computed in `float32`).
            Float16, f16, "float16", "f16", Float, ["f2", "half"];
            /// `float32`: IEEE 754 binary32.
            Float32, f32, "float32", "f32", Float, ["f4", "single"];
            /// `float64`: IEEE 754 binary64.
            Float64, f64, "float64", "f64", Float, ["f8", "float", "double"];
            /// `complex64`: two `float32`s, real part first.
            Complex64, crate::types::c32, "complex64", "c64", Complex, ["c8", "csingle", "F"];
            /// `complex128`: two `float64`s, real part first.
            Complex128, crate::types::c64, "complex128", "c128", Complex, ["c16", "complex", "cdouble", "D"];
        }
    };
}
pub(crate) use dtype_table;

macro_rules! define_dtypes {
    ($($(#[$doc:meta])* $variant:ident, $t:ty, $name:literal, $short:literal, $kind:ident, [$($alias:literal),*];)*) => {
        /// The element type of an array or an expression.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DType {
            $($(#[$doc])* $variant,)*
        }

        impl DType {
            /// All dtypes, in promotion order.
            pub const ALL: &'static [DType] = &[$(DType::$variant),*];

            /// NumPy's name of the dtype (`"float64"`).
            pub const fn name(self) -> &'static str {
                match self { $(DType::$variant => $name),* }
            }

            /// Short name used in the printed IR (`"f64"`).
            pub const fn short_name(self) -> &'static str {
                match self { $(DType::$variant => $short),* }
            }

            /// The kind of this dtype.
            pub const fn kind(self) -> Kind {
                match self { $(DType::$variant => Kind::$kind),* }
            }

            /// Bytes per element.
            pub const fn size(self) -> usize {
                match self { $(DType::$variant => std::mem::size_of::<$t>()),* }
            }

            /// Parses a NumPy dtype name (`"float32"`, also the short codes
            /// `"f4"`, `"u1"`, `"i2"`, `"f2"`, and `"bool_"`, `"float"`, `"int"`).
            pub fn from_name(name: &str) -> Option<DType> {
                match name {
                    $($name $(| $alias)* => Some(DType::$variant),)*
                    _ => None,
                }
            }
        }

        /// A single typed value: a constant in the IR or one element during interpretation.
        #[derive(Debug, Clone, Copy)]
        pub enum Scalar {
            $($(#[$doc])* $variant($t),)*
        }

        impl Scalar {
            /// The dtype of the value.
            pub fn dtype(self) -> DType {
                match self { $(Scalar::$variant(_) => DType::$variant),* }
            }
        }
    };
}
dtype_table!(define_dtypes);

/// Calls `$f::<T>($args)` with `T` the Rust element type of `$dtype`.
macro_rules! dtype_dispatch {
    ($dtype:expr, $f:ident ( $($arg:expr),* )) => {
        match $dtype {
            $crate::types::DType::Bool => $f::<bool>($($arg),*),
            $crate::types::DType::Int8 => $f::<i8>($($arg),*),
            $crate::types::DType::Int16 => $f::<i16>($($arg),*),
            $crate::types::DType::Int32 => $f::<i32>($($arg),*),
            $crate::types::DType::Int64 => $f::<i64>($($arg),*),
            $crate::types::DType::UInt8 => $f::<u8>($($arg),*),
            $crate::types::DType::UInt16 => $f::<u16>($($arg),*),
            $crate::types::DType::UInt32 => $f::<u32>($($arg),*),
            $crate::types::DType::UInt64 => $f::<u64>($($arg),*),
            $crate::types::DType::Float16 => $f::<$crate::types::f16>($($arg),*),
            $crate::types::DType::Float32 => $f::<f32>($($arg),*),
            $crate::types::DType::Float64 => $f::<f64>($($arg),*),
            $crate::types::DType::Complex64 => $f::<$crate::types::c32>($($arg),*),
            $crate::types::DType::Complex128 => $f::<$crate::types::c64>($($arg),*),
        }
    };
}
pub(crate) use dtype_dispatch;

/// The kind of a dtype. NEP 50 compares a weak literal's kind with an
/// array's by [`Kind::rank`]: bool < integer (signed or unsigned) < float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Booleans.
    Bool,
    /// Signed integers.
    Int,
    /// Unsigned integers.
    Unsigned,
    /// Floating point numbers.
    Float,
    /// Complex numbers (two floats).
    Complex,
}

impl Kind {
    /// NEP 50's order of kinds: 0 bool, 1 integers (signed and unsigned), 2 floats.
    pub const fn rank(self) -> u8 {
        match self {
            Kind::Bool => 0,
            Kind::Int | Kind::Unsigned => 1,
            Kind::Float => 2,
            Kind::Complex => 3,
        }
    }

    /// The dtype a weak Python literal of this kind takes when nothing else decides.
    pub fn default_dtype(self) -> DType {
        match self {
            Kind::Bool => DType::Bool,
            Kind::Int => DType::Int64,
            Kind::Unsigned => DType::UInt64,
            Kind::Float => DType::Float64,
            Kind::Complex => DType::Complex128,
        }
    }
}

impl DType {
    /// `true` for `float16`, `float32` and `float64`.
    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }

    /// `true` for the signed and the unsigned integers.
    pub fn is_int(self) -> bool {
        matches!(self.kind(), Kind::Int | Kind::Unsigned)
    }

    /// `true` for `complex64` and `complex128`.
    pub fn is_complex(self) -> bool {
        self.kind() == Kind::Complex
    }

    /// The float dtype of a complex dtype's parts (`float32` for
    /// `complex64`); `None` for the other dtypes.
    pub fn component(self) -> Option<DType> {
        match self {
            DType::Complex64 => Some(DType::Float32),
            DType::Complex128 => Some(DType::Float64),
            _ => None,
        }
    }

    /// The complex dtype whose parts are this float (`float16` and
    /// `float32` give `complex64`, as NumPy promotes them).
    pub fn complex_of(self) -> DType {
        match self {
            DType::Float16 | DType::Float32 | DType::Complex64 => DType::Complex64,
            _ => DType::Complex128,
        }
    }

    /// `true` for the unsigned integers.
    pub fn is_unsigned(self) -> bool {
        self.kind() == Kind::Unsigned
    }

    /// The dtype arithmetic on this dtype computes in: `float32` for the
    /// storage type `float16`, the dtype itself otherwise.
    pub fn compute(self) -> DType {
        match self {
            DType::Float16 => DType::Float32,
            d => d,
        }
    }

    /// The signed integer of `bytes` bytes.
    fn signed_of(bytes: usize) -> DType {
        match bytes {
            1 => DType::Int8,
            2 => DType::Int16,
            4 => DType::Int32,
            _ => DType::Int64,
        }
    }

    /// The float type that float functions (`sin`, `sqrt`, `rint`, …) give
    /// for this input, as NumPy's ufunc loops do: floats keep their width;
    /// bool, `int8` and `uint8` give `float16`, `int16` and `uint16`
    /// `float32`, wider integers `float64` (`promote(self, float16)`).
    pub fn float_for(self) -> DType {
        promote(self, DType::Float16)
    }

    /// The dtype of true division (`/`) and `mean`: floats keep their width,
    /// bool and integers give `float64` (NumPy's true-division resolver).
    pub fn true_div(self) -> DType {
        if self.is_float() || self.is_complex() {
            self
        } else {
            DType::Float64
        }
    }

    /// The dtype that sums and products accumulate in (`np.sum` of `int8` is
    /// `int64`, of `uint8` `uint64`).
    pub fn accumulator(self) -> DType {
        match self.kind() {
            Kind::Bool | Kind::Int => DType::Int64,
            Kind::Unsigned => DType::UInt64,
            Kind::Float | Kind::Complex => self,
        }
    }

    /// The smallest and largest values of an integer dtype (bool: 0 and 1;
    /// `None` for floats).
    pub fn int_range(self) -> Option<(i128, i128)> {
        match self {
            DType::Bool => Some((0, 1)),
            d if d.kind() == Kind::Int => {
                let bits = 8 * d.size() as u32;
                Some((-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1))
            }
            d if d.kind() == Kind::Unsigned => Some((0, (1i128 << (8 * d.size() as u32)) - 1)),
            _ => None,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// NumPy 2's promotion of two array dtypes (`np.result_type(a, b)`).
///
/// Integers of one signedness give the wider; a signed and an unsigned
/// integer give the smallest signed integer holding both (`int8` with
/// `uint8` is `int16`), except that `uint64` with a signed integer is
/// `float64`; an integer with a float gives the wider of the float and the
/// smallest float holding the integer's values (`float16` for 8 bits,
/// `float32` for 16, `float64` beyond: `float16` with `int16` is `float32`).
/// The whole table is in the README; `tests::promotion_table_matches_numpy`
/// checks all 196 pairs against NumPy's.
pub fn promote(a: DType, b: DType) -> DType {
    use Kind::*;
    if a == b {
        return a;
    }
    let wider = |x: DType, y: DType| if x.size() >= y.size() { x } else { y };
    match (a.kind(), b.kind()) {
        (Bool, _) => b,
        (_, Bool) => a,
        (Int, Int) | (Unsigned, Unsigned) | (Float, Float) => wider(a, b),
        (Int, Unsigned) | (Unsigned, Int) => {
            let (s, u) = if a.kind() == Int { (a, b) } else { (b, a) };
            if u.size() < s.size() {
                s
            } else if u == DType::UInt64 {
                DType::Float64
            } else {
                DType::signed_of(2 * u.size())
            }
        }
        // Complex: the complex whose parts hold the other operand
        // (`complex64 + int32` is complex128, `complex64 + float16` complex64).
        (Complex, _) => {
            promote(a.component().unwrap_or(a), b.component().unwrap_or(b)).complex_of()
        }
        (_, Complex) => promote(b, a),
        (Float, _) => wider(a, float_holding(b)),
        (_, Float) => wider(b, float_holding(a)),
    }
}

/// The smallest float that NumPy promotes an integer dtype to.
fn float_holding(int: DType) -> DType {
    match int.size() {
        1 => DType::Float16,
        2 => DType::Float32,
        _ => DType::Float64,
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
/// type of the same or a higher kind (bool < integer < float, signed and
/// unsigned alike) takes that type (`float32_array * 2.0` is `float32`,
/// `uint8_array + 1` is `uint8`); a weak literal of a higher kind gives that
/// kind's default dtype (`int32_array * 2.5` is `float64`, `bool_array + 1`
/// is `int64`). Whether the literal's value fits the dtype it takes is the
/// checker's business (`uint8_array + 300` is an error, as in NumPy).
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
    if weak.kind().rank() <= strong.kind().rank() {
        strong
    } else if weak.is_complex() && strong.is_float() {
        // `float32_array * 1j` is complex64.
        strong.complex_of()
    } else {
        weak.kind().default_dtype()
    }
}

/// A Rust element type converted from any [`Scalar`] with NumPy's `astype`
/// semantics (see [`Scalar::cast`]).
pub(crate) trait FromScalar: Copy {
    /// `s` as this type.
    fn cast_from(s: Scalar) -> Self;
}

macro_rules! from_scalar_numeric {
    ($($t:ty),*) => {$(
        impl FromScalar for $t {
            fn cast_from(s: Scalar) -> $t {
                match s {
                    Scalar::Bool(b) => u8::from(b) as $t,
                    Scalar::Int8(v) => v as $t,
                    Scalar::Int16(v) => v as $t,
                    Scalar::Int32(v) => v as $t,
                    Scalar::Int64(v) => v as $t,
                    Scalar::UInt8(v) => v as $t,
                    Scalar::UInt16(v) => v as $t,
                    Scalar::UInt32(v) => v as $t,
                    Scalar::UInt64(v) => v as $t,
                    Scalar::Float16(v) => v.to_f32() as $t,
                    Scalar::Float32(v) => v as $t,
                    Scalar::Float64(v) => v as $t,
                    // NumPy's astype discards the imaginary part (ComplexWarning).
                    Scalar::Complex64(v) => v.re as $t,
                    Scalar::Complex128(v) => v.re as $t,
                }
            }
        }
    )*};
}
from_scalar_numeric!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl FromScalar for bool {
    fn cast_from(s: Scalar) -> bool {
        s.is_truthy()
    }
}

impl FromScalar for c64 {
    fn cast_from(s: Scalar) -> c64 {
        match s {
            Scalar::Complex64(v) => c64::new(f64::from(v.re), f64::from(v.im)),
            Scalar::Complex128(v) => v,
            other => c64::new(f64::cast_from(other), 0.0),
        }
    }
}

impl FromScalar for c32 {
    fn cast_from(s: Scalar) -> c32 {
        match s {
            Scalar::Complex64(v) => v,
            Scalar::Complex128(v) => c32::new(v.re as f32, v.im as f32),
            other => c32::new(f32::cast_from(other), 0.0),
        }
    }
}

impl FromScalar for f16 {
    fn cast_from(s: Scalar) -> f16 {
        match s {
            Scalar::Float16(v) => v,
            Scalar::Float32(v) => f16::from_f32(v),
            Scalar::Complex64(v) => f16::from_f32(v.re),
            // One rounding, from the exact value (every dtype but large
            // 64-bit integers is exact in f64; those round to inf anyway).
            other => f16_from_f64(other.to_f64()),
        }
    }
}

/// `x` rounded to `float16` in one rounding (to nearest, ties to even), as
/// NumPy's `npy_double_to_half`. (`half::f16::from_f64` rounds twice, through
/// `f32`, where the CPU has F16C.) `x` is first rounded to `f32` *to odd*
/// (truncated, the last bit set when inexact), which keeps enough
/// information for the second rounding to be the correct one: 24 bits ≥ 11 + 2.
pub(crate) fn f16_from_f64(x: f64) -> f16 {
    let y = x as f32;
    if x.is_nan() || f64::from(y) == x {
        return f16::from_f32(y);
    }
    // Toward zero: one step back when rounding went away from zero
    // (y = ±inf steps back to ±f32::MAX).
    let t = if f64::from(y).abs() > x.abs() {
        f32::from_bits(y.to_bits() - 1)
    } else {
        y
    };
    f16::from_f32(f32::from_bits(t.to_bits() | 1))
}

macro_rules! scalar_cast {
    ($($(#[$doc:meta])* $variant:ident, $t:ty, $name:literal, $short:literal, $kind:ident, [$($alias:literal),*];)*) => {
        impl Scalar {
            /// The value as `dtype`, with NumPy's `astype` semantics.
            ///
            /// Integer to integer wraps (keeps the low bits); integer to float
            /// and float to narrower float round to nearest, ties to even
            /// (`float64` to `float16` in one rounding). Float to integer
            /// truncates toward zero; NaN, ±inf and out-of-range values are
            /// undefined in NumPy and give Rust's saturating result here (NaN → 0,
            /// negative → 0 for unsigned).
            pub fn cast(self, dtype: DType) -> Scalar {
                match dtype {
                    $(DType::$variant => Scalar::$variant(<$t as FromScalar>::cast_from(self)),)*
                }
            }
        }
    };
}
dtype_table!(scalar_cast);

impl Scalar {
    /// The value converted to `f64` (exact for every dtype but large 64-bit integers).
    pub fn to_f64(self) -> f64 {
        f64::cast_from(self)
    }

    /// The value converted to `i64`: integers wrap (`uint64` above `i64::MAX`
    /// goes negative), floats truncate (NaN gives 0, out of range saturates).
    pub fn to_i64(self) -> i64 {
        i64::cast_from(self)
    }

    /// Truthiness: nonzero (NaN is true, like NumPy's `astype(bool)`).
    pub fn is_truthy(self) -> bool {
        match self {
            Scalar::Bool(b) => b,
            Scalar::Float16(v) => v.to_f32() != 0.0,
            Scalar::Float32(v) => v != 0.0,
            Scalar::Float64(v) => v != 0.0,
            Scalar::Complex64(v) => v.re != 0.0 || v.im != 0.0,
            Scalar::Complex128(v) => v.re != 0.0 || v.im != 0.0,
            int => int.bits() != 0,
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
    /// (The bits of the value's own width, zero-extended; for `complex128`,
    /// which has 128, a digest of both parts: `==` compares both exactly.)
    pub fn bits(self) -> u64 {
        match self {
            Scalar::Bool(b) => u64::from(b),
            Scalar::Int8(v) => u64::from(v as u8),
            Scalar::Int16(v) => u64::from(v as u16),
            Scalar::Int32(v) => u64::from(v as u32),
            Scalar::Int64(v) => v as u64,
            Scalar::UInt8(v) => u64::from(v),
            Scalar::UInt16(v) => u64::from(v),
            Scalar::UInt32(v) => u64::from(v),
            Scalar::UInt64(v) => v,
            Scalar::Float16(v) => u64::from(v.to_bits()),
            Scalar::Float32(v) => u64::from(v.to_bits()),
            Scalar::Float64(v) => v.to_bits(),
            // Both parts: the real part's bits in the high half.
            Scalar::Complex64(v) => (u64::from(v.re.to_bits()) << 32) | u64::from(v.im.to_bits()),
            Scalar::Complex128(v) => v.re.to_bits() ^ v.im.to_bits().rotate_left(29),
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
        match (self, other) {
            (Scalar::Complex128(a), Scalar::Complex128(b)) => {
                a.re.to_bits() == b.re.to_bits() && a.im.to_bits() == b.im.to_bits()
            }
            _ => self.dtype() == other.dtype() && self.bits() == other.bits(),
        }
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
            Scalar::Float16(v) => write_float(f, v.to_f64()),
            Scalar::Float32(v) => write_float(f, f64::from(v)),
            Scalar::Float64(v) => write_float(f, v),
            Scalar::Complex64(v) => write_complex(f, f64::from(v.re), f64::from(v.im)),
            Scalar::Complex128(v) => write_complex(f, v.re, v.im),
            Scalar::Int64(v) => write!(f, "{v}"),
            Scalar::UInt64(v) => write!(f, "{v}"),
            int => write!(f, "{}", int.to_i64()),
        }
    }
}

/// `(re+imj)`, as Python writes a complex number.
fn write_complex(f: &mut fmt::Formatter<'_>, re: f64, im: f64) -> fmt::Result {
    f.write_str("(")?;
    write_float(f, re)?;
    if !im.is_sign_negative() || im.is_nan() {
        f.write_str("+")?;
    }
    write_float(f, im)?;
    f.write_str("j)")
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

    /// NumPy 2.4's `np.result_type(a, b)` for every pair, generated by
    /// ```python
    /// names = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
    ///          'uint32', 'uint64', 'float16', 'float32', 'float64',
    ///          'complex64', 'complex128']
    /// [[np.result_type(a, b).name for b in names] for a in names]
    /// ```
    #[rustfmt::skip]
    const NUMPY_RESULT_TYPE: [[&str; 14]; 14] = [
            ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64", "complex64", "complex128"],
            ["int8", "int8", "int16", "int32", "int64", "int16", "int32", "int64", "float64", "float16", "float32", "float64", "complex64", "complex128"],
            ["int16", "int16", "int16", "int32", "int64", "int16", "int32", "int64", "float64", "float32", "float32", "float64", "complex64", "complex128"],
            ["int32", "int32", "int32", "int32", "int64", "int32", "int32", "int64", "float64", "float64", "float64", "float64", "complex128", "complex128"],
            ["int64", "int64", "int64", "int64", "int64", "int64", "int64", "int64", "float64", "float64", "float64", "float64", "complex128", "complex128"],
            ["uint8", "int16", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64", "complex64", "complex128"],
            ["uint16", "int32", "int32", "int32", "int64", "uint16", "uint16", "uint32", "uint64", "float32", "float32", "float64", "complex64", "complex128"],
            ["uint32", "int64", "int64", "int64", "int64", "uint32", "uint32", "uint32", "uint64", "float64", "float64", "float64", "complex128", "complex128"],
            ["uint64", "float64", "float64", "float64", "float64", "uint64", "uint64", "uint64", "uint64", "float64", "float64", "float64", "complex128", "complex128"],
            ["float16", "float16", "float32", "float64", "float64", "float16", "float32", "float64", "float64", "float16", "float32", "float64", "complex64", "complex128"],
            ["float32", "float32", "float32", "float64", "float64", "float32", "float32", "float64", "float64", "float32", "float32", "float64", "complex64", "complex128"],
            ["float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "complex128", "complex128"],
            ["complex64", "complex64", "complex64", "complex128", "complex128", "complex64", "complex64", "complex128", "complex128", "complex64", "complex64", "complex128", "complex64", "complex128"],
            ["complex128", "complex128", "complex128", "complex128", "complex128", "complex128", "complex128", "complex128", "complex128", "complex128", "complex128", "complex128", "complex128", "complex128"],
    ];

    #[test]
    fn promotion_table_matches_numpy() {
        assert_eq!(DType::ALL.len(), 14);
        for (i, &a) in DType::ALL.iter().enumerate() {
            for (j, &b) in DType::ALL.iter().enumerate() {
                let want = DType::from_name(NUMPY_RESULT_TYPE[i][j]).expect("a dtype name");
                assert_eq!(promote(a, b), want, "result_type({a}, {b})");
            }
        }
    }

    #[test]
    fn names_and_short_codes() {
        for &d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
        }
        let codes = [
            ("u1", DType::UInt8),
            ("u2", DType::UInt16),
            ("u4", DType::UInt32),
            ("u8", DType::UInt64),
            ("i1", DType::Int8),
            ("i2", DType::Int16),
            ("i8", DType::Int64),
            ("f2", DType::Float16),
            ("half", DType::Float16),
        ];
        for (code, d) in codes {
            assert_eq!(DType::from_name(code), Some(d), "{code}");
        }
        assert_eq!(DType::from_name("u3"), None);
        assert_eq!(DType::UInt16.size(), 2);
        assert_eq!(DType::Float16.size(), 2);
    }

    #[test]
    fn float_results_follow_numpy_loops() {
        use DType::*;
        // np.sin of each dtype: bool/int8/uint8 -> float16, int16/uint16 -> float32.
        let sin = [
            (Bool, Float16),
            (Int8, Float16),
            (UInt8, Float16),
            (Int16, Float32),
            (UInt16, Float32),
            (Int32, Float64),
            (UInt64, Float64),
            (Float16, Float16),
            (Float32, Float32),
        ];
        for (d, want) in sin {
            assert_eq!(d.float_for(), want, "{d}");
        }
        // np.true_divide and np.mean: every integer -> float64.
        assert_eq!(Int8.true_div(), Float64);
        assert_eq!(Float16.true_div(), Float16);
        // np.sum: signed -> int64, unsigned -> uint64.
        assert_eq!(Int8.accumulator(), Int64);
        assert_eq!(UInt8.accumulator(), UInt64);
        assert_eq!(Bool.accumulator(), Int64);
    }

    #[test]
    fn weak_literals_follow_nep50() {
        use DType::*;
        assert_eq!(promote_weak(strong(Float32), weak(Float64)).dtype, Float32);
        assert_eq!(promote_weak(strong(Int32), weak(Float64)).dtype, Float64);
        assert_eq!(promote_weak(strong(Int32), weak(Int64)).dtype, Int32);
        assert_eq!(promote_weak(strong(Bool), weak(Int64)).dtype, Int64);
        // np.ones(2, np.uint8) + 1 is uint8; + 1.5 is float64; float16 + 1 is float16.
        assert_eq!(promote_weak(strong(UInt8), weak(Int64)).dtype, UInt8);
        assert_eq!(promote_weak(strong(UInt8), weak(Float64)).dtype, Float64);
        assert_eq!(promote_weak(strong(Float16), weak(Int64)).dtype, Float16);
        assert_eq!(promote_weak(strong(Float16), weak(Float64)).dtype, Float16);
        assert!(promote_weak(weak(Int64), weak(Float64)).weak);
        // float32_array * 1j is complex64; int8_array * 1j complex128.
        assert_eq!(
            promote_weak(strong(Float32), weak(Complex128)).dtype,
            Complex64
        );
        assert_eq!(
            promote_weak(strong(Float16), weak(Complex128)).dtype,
            Complex64
        );
        assert_eq!(
            promote_weak(strong(Int8), weak(Complex128)).dtype,
            Complex128
        );
        assert_eq!(
            promote_weak(strong(Complex64), weak(Float64)).dtype,
            Complex64
        );
        assert_eq!(promote_weak(weak(Int64), weak(Float64)).dtype, Float64);
    }

    #[test]
    fn casts_wrap_integers_and_round_floats_once() {
        // np.array([300, -1], np.int64).astype(np.uint8) -> [44, 255]
        assert_eq!(Scalar::Int64(300).cast(DType::UInt8), Scalar::UInt8(44));
        assert_eq!(Scalar::Int64(-1).cast(DType::UInt8), Scalar::UInt8(255));
        assert_eq!(
            Scalar::Int64(-1).cast(DType::UInt64),
            Scalar::UInt64(u64::MAX)
        );
        assert_eq!(Scalar::UInt8(200).cast(DType::Int8), Scalar::Int8(-56));
        // Float to unsigned saturates like the signed casts (NaN -> 0).
        assert_eq!(Scalar::Float64(-3.5).cast(DType::UInt16), Scalar::UInt16(0));
        assert_eq!(
            Scalar::Float64(1e10).cast(DType::UInt16),
            Scalar::UInt16(u16::MAX)
        );
        assert_eq!(Scalar::Float64(f64::NAN).cast(DType::Int8), Scalar::Int8(0));
        // np.float64(0.5 + 2**-12 + 2**-40).astype(np.float16) rounds once, up:
        // through float32 it would round twice (to 0.5 + 2**-12, then to even 0.5).
        let x = 0.5 + 2f64.powi(-12) + 2f64.powi(-40);
        assert_eq!(Scalar::Float64(x).cast(DType::Float16).bits(), 0x3801);
        // np.float16(65519.0) is 65504.0 and np.float16(65520.0) is inf.
        assert_eq!(Scalar::Int32(65519).cast(DType::Float16).to_f64(), 65504.0);
        assert_eq!(
            Scalar::Int32(65520).cast(DType::Float16).to_f64(),
            f64::INFINITY
        );
        assert_eq!(
            Scalar::UInt64(u64::MAX).cast(DType::Float32).to_f64(),
            2f64.powi(64)
        );
    }
}
