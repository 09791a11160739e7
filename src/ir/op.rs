//! The operations of the IR and their typing rules.
//!
//! An operation and a dtype are separate: `Binary { op: Add, .. }` of dtype
//! `f32` is one IR node. The typing rules here say, for an operand dtype, which
//! dtype the operands are cast to and which dtype the result has (or why the
//! combination is rejected). Their meaning on values is `ir::scalar`.
//!
//! Each operation is one entry of `unary_table!` or `binary_table!`. A new
//! math function is an entry with `Impl::Math(REF)` and its arm in
//! `ir::scalar` (the compiler asks for it): it is then callable, and runs on
//! the interpreter and on every JIT tier (the JIT calls a reference routine
//! generated from the table). The GPU needs a WGSL version in
//! `backend::wgsl::math` (until then it is an `Unsupported` error there);
//! vector and AOT versions are optional, declared by the entry's `Fast`.
//! `tests/engine/golden.rs` (`every_operation_on_every_backend`) walks the tables.

use crate::types::DType;

/// Why an operation does not accept a dtype: a message and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub help: &'static str,
}

fn reject(message: String, help: &'static str) -> Rejection {
    Rejection { message, help }
}

/// The types around one operation: operands are cast to `operand`, the result is `result`.
///
/// These are NumPy's types; `float16` computes in `float32`
/// ([`DType::compute`]): the checker casts `float16` operands to `float32`,
/// and a `float16` result is computed in `float32` and cast to `float16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// The dtype every operand is cast to.
    pub operand: DType,
    /// The dtype of the result.
    pub result: DType,
}

const fn same(d: DType) -> Signature {
    Signature {
        operand: d,
        result: d,
    }
}

macro_rules! op_names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// Every operation of this kind.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The name in the printed IR (and, for functions, in expressions).
            pub const fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }
        }
    };
}

/// Which fast versions of a float math function exist beside its scalar
/// reference (`ir::scalar`), which every backend can always fall back on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fast {
    /// A Cranelift vector version (`backend::jit::vmath`, under `Math::Fast`).
    pub vector: bool,
    /// An AVX2/AVX-512 block routine (`backend::jit::aot`); needs `vector`.
    pub aot: bool,
    /// Inlined into a kernel when it is the stage's only vector-math call.
    pub inline: bool,
    /// Vector versions equal to the reference bit for bit, used under
    /// either `Math`: an AOT block routine (`aot` is set too) and a `vmath`
    /// version inlined where no routine runs (`vector` stays false: not
    /// vector math in the plan's sense, whose bits the interpreted tier
    /// must follow lane by lane; so a loop over the parts of complex arrays,
    /// read two elements apart, may run them).
    pub exact: bool,
}

/// How the backends compute an operation on floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// Lowered inline by every backend (arithmetic, comparisons, rounding, predicates).
    Inline,
    /// Lowered inline by every backend, and exact at any vector width, so
    /// the JIT's vector loop may also run it as an AOT block routine at the
    /// CPU's full width (`sqrt`, `/`: Cranelift emits 128-bit vectors, and
    /// 256-bit square roots and divisions measured twice the throughput on
    /// Zen 4). Same bits either way.
    Wide,
    /// A float math function: the JIT calls its scalar reference routine
    /// (`backend::jit::runtime`, generated for every such entry) unless a
    /// fast version applies; the GPU needs a WGSL version (`backend::wgsl::math`),
    /// else the expression is an `Unsupported` error there.
    Math(Fast),
    /// As `Math`, and integers also call a reference routine (`pow`).
    MathInt(Fast),
}

impl Impl {
    /// The fast versions (none for `Inline`).
    pub const fn fast(self) -> Fast {
        match self {
            Impl::Inline => REF,
            Impl::Wide => WIDE,
            Impl::Math(f) | Impl::MathInt(f) => f,
        }
    }

    /// `true` for a float math function (a reference routine in the JIT).
    pub const fn is_math(self) -> bool {
        !matches!(self, Impl::Inline | Impl::Wide)
    }
}

const fn fast(vector: bool, aot: bool, inline: bool) -> Fast {
    Fast {
        vector,
        aot,
        inline,
        exact: false,
    }
}

const INLINE: Impl = Impl::Inline;
/// Inline, and an AOT block routine (no `vmath` version: the inline vector
/// lowering is exact).
const WIDE: Fast = fast(false, true, false);
/// Only the scalar reference (correct everywhere, slow in the JIT).
const REF: Fast = fast(false, false, false);
/// A vector version, called from the vector-math library.
const VEC: Fast = fast(true, false, false);
/// A vector version, inlined when it is the stage's only math call.
const VEC_INLINE: Fast = fast(true, false, true);
/// A vector version and an AOT block routine.
const VEC_AOT: Fast = fast(true, true, false);
/// All three.
const VEC_AOT_INLINE: Fast = fast(true, true, true);
/// An exact vector version (`Fast::exact`).
const EXACT: Fast = Fast {
    exact: true,
    aot: true,
    ..REF
};

/// The result type of a unary operation, before the rejections of
/// [`UnaryOp::signature`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    /// The operand's dtype.
    Same,
    /// The operand's dtype for bool and integers, else its float dtype
    /// (`floor`, `ceil`, `trunc`: NumPy keeps integers).
    KeepInt,
    /// The operand's float dtype (`DType::float_for`): computed in floating point.
    Float,
    /// bool (`isnan` and friends).
    Predicate,
    /// The float dtype of a complex operand's parts; a real operand's own
    /// dtype (`real`, `imag`).
    Part,
}

/// The unary operations, one entry each: `Variant = "name", typing, the
/// description of `name(x)` as a callable function (`None`: an operator
/// only), implementation (which fast versions exist). Everything per
/// operation elsewhere is generated from this table (the enum, `ALL`,
/// names, the builtins' entries, the JIT's reference routines) or is an
/// exhaustive `match` the compiler checks (`ir::scalar`); expands
/// `$callback! { entries }`.
macro_rules! unary_table {
    ($callback:ident) => {
        $callback! {
            /// `-x` (wraps for integers).
            Neg = "neg", Same, None, INLINE;
            /// `~x`: logical not on bool, bitwise not on integers.
            Not = "not", Same, None, INLINE;
            /// `abs(x)`: stays integer for integers (wraps at the minimum).
            Abs = "abs", Same, Some("absolute value (stays integer for integers)"), INLINE;
            /// `sign(x)`: -1, 0 or 1 (NaN for NaN; `sign(-0.0)` is `0.0`).
            Sign = "sign", Same, Some("-1, 0 or 1 (NaN for NaN)"), INLINE;
            /// `sqrt(x)`
            Sqrt = "sqrt", Float, Some("square root"), Impl::Wide;
            /// `cbrt(x)`
            Cbrt = "cbrt", Float, Some("cube root"), Impl::Math(VEC_INLINE);
            /// `exp(x)`
            Exp = "exp", Float, Some("e raised to x"), Impl::Math(VEC_AOT_INLINE);
            /// `expm1(x)`
            Expm1 = "expm1", Float, Some("exp(x) - 1, accurate near 0"), Impl::Math(VEC_AOT_INLINE);
            /// `exp2(x)`
            Exp2 = "exp2", Float, Some("2 raised to x"), Impl::Math(VEC_INLINE);
            /// `log(x)`
            Log = "log", Float, Some("natural logarithm"), Impl::Math(VEC_AOT_INLINE);
            /// `log1p(x)`
            Log1p = "log1p", Float, Some("log(1 + x), accurate near 0"), Impl::Math(VEC_AOT_INLINE);
            /// `log2(x)`
            Log2 = "log2", Float, Some("base-2 logarithm"), Impl::Math(VEC_INLINE);
            /// `log10(x)`
            Log10 = "log10", Float, Some("base-10 logarithm"), Impl::Math(VEC_INLINE);
            /// `sin(x)`
            Sin = "sin", Float, Some("sine (radians)"), Impl::Math(VEC_AOT);
            /// `cos(x)`
            Cos = "cos", Float, Some("cosine (radians)"), Impl::Math(VEC_AOT);
            /// `tan(x)`
            Tan = "tan", Float, Some("tangent (radians)"), Impl::Math(VEC);
            /// `arcsin(x)`
            Arcsin = "arcsin", Float, Some("inverse sine"), Impl::Math(VEC_AOT);
            /// `arccos(x)`
            Arccos = "arccos", Float, Some("inverse cosine"), Impl::Math(VEC_AOT);
            /// `arctan(x)`
            Arctan = "arctan", Float, Some("inverse tangent"), Impl::Math(VEC_AOT_INLINE);
            /// `sinh(x)`
            Sinh = "sinh", Float, Some("hyperbolic sine"), Impl::Math(VEC_AOT_INLINE);
            /// `cosh(x)`
            Cosh = "cosh", Float, Some("hyperbolic cosine"), Impl::Math(VEC_AOT_INLINE);
            /// `tanh(x)`
            Tanh = "tanh", Float, Some("hyperbolic tangent"), Impl::Math(VEC_AOT_INLINE);
            /// `arcsinh(x)`
            Arcsinh = "arcsinh", Float, Some("inverse hyperbolic sine"), Impl::Math(REF);
            /// `arccosh(x)`
            Arccosh = "arccosh", Float, Some("inverse hyperbolic cosine"), Impl::Math(REF);
            /// `arctanh(x)`
            Arctanh = "arctanh", Float, Some("inverse hyperbolic tangent"), Impl::Math(REF);
            /// `erf(x)`: the error function.
            Erf = "erf", Float, Some("error function"), Impl::Math(REF);
            /// `erfc(x)`: `1 - erf(x)` without cancellation.
            Erfc = "erfc", Float, Some("complementary error function 1 - erf(x), accurate for large x"), Impl::Math(REF);
            /// `floor(x)` (identity on integers).
            Floor = "floor", KeepInt, Some("largest integer <= x"), INLINE;
            /// `ceil(x)` (identity on integers).
            Ceil = "ceil", KeepInt, Some("smallest integer >= x"), INLINE;
            /// `trunc(x)` (identity on integers).
            Trunc = "trunc", KeepInt, Some("x rounded toward zero"), INLINE;
            /// `rint(x)`: round half to even.
            Rint = "rint", Float, Some("x rounded to the nearest integer, halves to even (float result)"), INLINE;
            /// `reciprocal(x)`: `1/x`; integer division for integers (`1/0` gives the minimum).
            Reciprocal = "reciprocal", Same, Some("1 / x (integer division for integers)"), INLINE;
            /// `isnan(x)` → bool.
            IsNan = "isnan", Predicate, Some("true where x is NaN"), INLINE;
            /// `isinf(x)` → bool.
            IsInf = "isinf", Predicate, Some("true where x is +inf or -inf"), INLINE;
            /// `isfinite(x)` → bool.
            IsFinite = "isfinite", Predicate, Some("true where x is neither NaN nor infinite"), INLINE;
            /// `signbit(x)` → bool (true for `-0.0`).
            SignBit = "signbit", Predicate, Some("true where the sign bit is set (also for -0.0)"), INLINE;
            /// `real(z)`: the real part (the value itself for real dtypes).
            Real = "real", Part, Some("real part of a complex number (x itself for real x)"), INLINE;
            /// `imag(z)`: the imaginary part (0 for real dtypes).
            Imag = "imag", Part, Some("imaginary part of a complex number (0 for real x)"), INLINE;
            /// `conj(z)`: the complex conjugate (the value itself for real dtypes).
            Conj = "conj", Same, Some("complex conjugate re - im*1j (x itself for real x)"), INLINE;
            /// `angle(z)`: the argument `arctan2(imag, real)` in radians.
            Angle = "angle", Float, Some("argument of a complex number, arctan2(imag(z), real(z))"), INLINE;
        }
    };
}
pub(crate) use unary_table;

/// The binary operations, one entry each: `Variant = "name" "spelling",
/// the description of `name(x1, x2)` as a callable function (`None`: an
/// operator only), implementation. Expands `$callback! { entries }`, like
/// [`unary_table`].
macro_rules! binary_table {
    ($callback:ident) => {
        $callback! {
            /// `+` (logical or on bool).
            Add = "add" "+", None, INLINE;
            /// `-`
            Sub = "sub" "-", None, INLINE;
            /// `*` (logical and on bool).
            Mul = "mul" "*", None, INLINE;
            /// `/`: true division; integers divide in float64.
            Div = "div" "/", None, Impl::Wide;
            /// `//`: floor division (Python sign rule; integer division by zero gives 0).
            FloorDiv = "floordiv" "//", None, Impl::Math(REF);
            /// `%`: remainder with the sign of the divisor (integer `x % 0` gives 0).
            Mod = "mod" "%", None, Impl::Math(REF);
            /// `**`
            Pow = "pow" "**", None, Impl::MathInt(VEC);
            /// `<<` (shifting by ≥ the bit width or by a negative amount gives 0).
            Shl = "shl" "<<", None, INLINE;
            /// `>>` (arithmetic; by ≥ the bit width gives 0 or -1).
            Shr = "shr" ">>", None, INLINE;
            /// `&`: logical and on bool, bitwise on integers.
            BitAnd = "and" "&", None, INLINE;
            /// `|`: logical or on bool, bitwise on integers.
            BitOr = "or" "|", None, INLINE;
            /// `^`: logical xor on bool, bitwise on integers.
            BitXor = "xor" "^", None, INLINE;
            /// `<`
            Lt = "lt" "<", None, INLINE;
            /// `<=`
            Le = "le" "<=", None, INLINE;
            /// `==`
            Eq = "eq" "==", None, INLINE;
            /// `!=`
            Ne = "ne" "!=", None, INLINE;
            /// `>=`
            Ge = "ge" ">=", None, INLINE;
            /// `>`
            Gt = "gt" ">", None, INLINE;
            /// `arctan2(y, x)`
            Arctan2 = "arctan2" "arctan2", Some("angle of the point (x2, x1): arctan(x1/x2) in the right quadrant"), Impl::Math(VEC_AOT);
            /// `hypot(x, y)`
            Hypot = "hypot" "hypot", Some("sqrt(x1**2 + x2**2) without overflow"), Impl::Math(VEC);
            /// `fmod(x, y)`: C remainder, sign of the dividend.
            Fmod = "fmod" "fmod", Some("remainder with the sign of x1 (C fmod)"), Impl::Math(REF);
            /// `copysign(x, y)`
            Copysign = "copysign" "copysign", Some("magnitude of x1 with the sign of x2"), INLINE;
            /// `nextafter(x, y)`
            Nextafter = "nextafter" "nextafter", Some("next float after x1 toward x2"), Impl::Math(REF);
            /// `maximum(x, y)`: NaN-propagating.
            Maximum = "maximum" "maximum", Some("elementwise maximum (NaN propagates)"), INLINE;
            /// `minimum(x, y)`: NaN-propagating.
            Minimum = "minimum" "minimum", Some("elementwise minimum (NaN propagates)"), INLINE;
            /// `complex(re, im)`: the complex number `re + im*1j`.
            Complex = "complex" "complex", Some("the complex number x1 + x2*1j (complex64 from float32 parts, else complex128)"), INLINE;
            /// Internal (`ir::split`): the real part of `sqrt(x1 + x2*1j)`.
            CSqrtRe = "csqrt_re" "csqrt_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `sqrt(x1 + x2*1j)`.
            CSqrtIm = "csqrt_im" "csqrt_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `exp(x1 + x2*1j)`.
            CExpRe = "cexp_re" "cexp_re", None, Impl::Math(EXACT);
            /// Internal (`ir::split`): the imaginary part of `exp(x1 + x2*1j)`.
            CExpIm = "cexp_im" "cexp_im", None, Impl::Math(EXACT);
            /// Internal (`ir::split`): the real part of `expm1(x1 + x2*1j)`.
            CExpm1Re = "cexpm1_re" "cexpm1_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `expm1(x1 + x2*1j)`.
            CExpm1Im = "cexpm1_im" "cexpm1_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `log(x1 + x2*1j)`.
            CLogRe = "clog_re" "clog_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `log(x1 + x2*1j)`.
            CLogIm = "clog_im" "clog_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `log1p(x1 + x2*1j)`.
            CLog1pRe = "clog1p_re" "clog1p_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `log1p(x1 + x2*1j)`.
            CLog1pIm = "clog1p_im" "clog1p_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `log2(x1 + x2*1j)`.
            CLog2Re = "clog2_re" "clog2_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `log2(x1 + x2*1j)`.
            CLog2Im = "clog2_im" "clog2_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `log10(x1 + x2*1j)`.
            CLog10Re = "clog10_re" "clog10_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `log10(x1 + x2*1j)`.
            CLog10Im = "clog10_im" "clog10_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `sin(x1 + x2*1j)`.
            CSinRe = "csin_re" "csin_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `sin(x1 + x2*1j)`.
            CSinIm = "csin_im" "csin_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `cos(x1 + x2*1j)`.
            CCosRe = "ccos_re" "ccos_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `cos(x1 + x2*1j)`.
            CCosIm = "ccos_im" "ccos_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `tan(x1 + x2*1j)`.
            CTanRe = "ctan_re" "ctan_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `tan(x1 + x2*1j)`.
            CTanIm = "ctan_im" "ctan_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `arcsin(x1 + x2*1j)`.
            CArcsinRe = "carcsin_re" "carcsin_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `arcsin(x1 + x2*1j)`.
            CArcsinIm = "carcsin_im" "carcsin_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `arccos(x1 + x2*1j)`.
            CArccosRe = "carccos_re" "carccos_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `arccos(x1 + x2*1j)`.
            CArccosIm = "carccos_im" "carccos_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `arctan(x1 + x2*1j)`.
            CArctanRe = "carctan_re" "carctan_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `arctan(x1 + x2*1j)`.
            CArctanIm = "carctan_im" "carctan_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `sinh(x1 + x2*1j)`.
            CSinhRe = "csinh_re" "csinh_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `sinh(x1 + x2*1j)`.
            CSinhIm = "csinh_im" "csinh_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `cosh(x1 + x2*1j)`.
            CCoshRe = "ccosh_re" "ccosh_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `cosh(x1 + x2*1j)`.
            CCoshIm = "ccosh_im" "ccosh_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `tanh(x1 + x2*1j)`.
            CTanhRe = "ctanh_re" "ctanh_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `tanh(x1 + x2*1j)`.
            CTanhIm = "ctanh_im" "ctanh_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `arcsinh(x1 + x2*1j)`.
            CArcsinhRe = "carcsinh_re" "carcsinh_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `arcsinh(x1 + x2*1j)`.
            CArcsinhIm = "carcsinh_im" "carcsinh_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `arccosh(x1 + x2*1j)`.
            CArccoshRe = "carccosh_re" "carccosh_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `arccosh(x1 + x2*1j)`.
            CArccoshIm = "carccosh_im" "carccosh_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `arctanh(x1 + x2*1j)`.
            CArctanhRe = "carctanh_re" "carctanh_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `arctanh(x1 + x2*1j)`.
            CArctanhIm = "carctanh_im" "carctanh_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `sign(x1 + x2*1j)`.
            CSignRe = "csign_re" "csign_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `sign(x1 + x2*1j)`.
            CSignIm = "csign_im" "csign_im", None, Impl::Math(REF);
            /// Internal (`ir::split`): the real part of `reciprocal(x1 + x2*1j)`.
            CReciprocalRe = "creciprocal_re" "creciprocal_re", None, Impl::Math(REF);
            /// Internal (`ir::split`): the imaginary part of `reciprocal(x1 + x2*1j)`.
            CReciprocalIm = "creciprocal_im" "creciprocal_im", None, Impl::Math(REF);
        }
    };
}
pub(crate) use binary_table;

macro_rules! define_unary {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $typing:ident, $call:expr, $imp:expr;)*) => {
        /// Operations of one operand, applied elementwise.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum UnaryOp {
            $($(#[$doc])* $variant,)*
        }

        op_names!(UnaryOp { $($variant => $name),* });

        impl UnaryOp {
            /// The typing rule (before the rejections of [`UnaryOp::signature`]).
            pub const fn typing(self) -> Typing {
                match self { $(UnaryOp::$variant => Typing::$typing),* }
            }

            /// What `name(x)` does, if the operation is a callable function.
            pub const fn call_doc(self) -> Option<&'static str> {
                match self { $(UnaryOp::$variant => $call),* }
            }

            /// How the backends compute it.
            pub const fn implementation(self) -> Impl {
                match self { $(UnaryOp::$variant => $imp),* }
            }
        }
    };
}

macro_rules! define_binary {
    ($($(#[$doc:meta])* $variant:ident = $name:literal $spelling:literal, $call:expr, $imp:expr;)*) => {
        /// Operations of two operands, applied elementwise after broadcasting.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum BinaryOp {
            $($(#[$doc])* $variant,)*
        }

        op_names!(BinaryOp { $($variant => $name),* });

        impl BinaryOp {
            /// How the operator is written in an expression (`+`, `arctan2`).
            pub fn spelling(self) -> &'static str {
                match self { $(BinaryOp::$variant => $spelling),* }
            }

            /// What `name(x1, x2)` does, if the operation is a callable function.
            pub const fn call_doc(self) -> Option<&'static str> {
                match self { $(BinaryOp::$variant => $call),* }
            }

            /// How the backends compute it.
            pub const fn implementation(self) -> Impl {
                match self { $(BinaryOp::$variant => $imp),* }
            }
        }
    };
}

unary_table!(define_unary);
binary_table!(define_binary);

impl UnaryOp {
    /// `true` for the transcendental functions computed in floating point
    /// (those with a reference routine in the JIT: [`Impl::is_math`]).
    pub fn is_float_math(self) -> bool {
        self.implementation().is_math()
    }

    /// The types of this operation applied to a value of dtype `arg`.
    pub fn signature(self, arg: DType) -> Result<Signature, Rejection> {
        use UnaryOp::*;
        let name = self.name();
        match self {
            Neg if arg == DType::Bool => Err(reject(
                "unary `-` is not defined for bool".into(),
                "use `~` for logical not, or cast with int32(...) first",
            )),
            Not if arg.is_float() => Err(reject(
                format!("`~` is not defined for {arg}"),
                "`~` is logical not on bool and bitwise not on integers; for floats compare, e.g. `~(x > 0)`",
            )),
            Sign | Reciprocal if arg == DType::Bool => Err(reject(
                format!("`{name}` is not defined for bool"),
                "cast first, e.g. `sign(int32(b))`",
            )),
            _ if arg.is_complex() => complex_unary(self, arg),
            // Not NumPy functions: SciPy's `erf` of an integer is float64.
            Erf | Erfc if !arg.is_float() => Ok(same(DType::Float64)),
            _ => Ok(match self.typing() {
                Typing::Same => same(arg),
                // NumPy keeps integer and bool dtypes for these.
                Typing::KeepInt if !arg.is_float() => same(arg),
                Typing::KeepInt | Typing::Float => same(arg.float_for()),
                Typing::Predicate => Signature {
                    operand: arg,
                    result: DType::Bool,
                },
                Typing::Part => same(arg),
            }),
        }
    }
}

/// The unary operations NumPy defines for complex numbers, and their types.
fn complex_unary(op: UnaryOp, arg: DType) -> Result<Signature, Rejection> {
    use UnaryOp::*;
    let part = arg.component().unwrap_or(arg);
    match op {
        Neg | Sign | Sqrt | Exp | Expm1 | Log | Log1p | Log2 | Log10 | Sin | Cos | Tan | Arcsin
        | Arccos | Arctan | Sinh | Cosh | Tanh | Arcsinh | Arccosh | Arctanh | Reciprocal
        | Conj | Rint => Ok(same(arg)),
        Abs | Real | Imag | Angle => Ok(Signature {
            operand: arg,
            result: part,
        }),
        IsNan | IsInf | IsFinite => Ok(Signature {
            operand: arg,
            result: DType::Bool,
        }),
        Not => Err(reject(
            format!("`~` is not defined for {arg}"),
            "`~` is logical not on bool and bitwise not on integers; for complex compare, e.g. `~(abs(z) > 0)`",
        )),
        Cbrt | Exp2 | Erf | Erfc | Floor | Ceil | Trunc | SignBit => Err(reject(
            format!("`{}` is not defined for {arg}", op.name()),
            NO_COMPLEX_LOOP,
        )),
    }
}

/// The hint of the type error for a function NumPy has no complex loop
/// for (`floor(z)`, `a // z`, `radians(z)`).
pub const NO_COMPLEX_LOOP: &str =
    "NumPy has no complex loop for it; apply it to `real(z)` and `imag(z)` separately";

impl BinaryOp {
    /// For an internal operation of the complex split (`ir::split`): the
    /// complex function it computes from the parts `(x1, x2)` of its
    /// argument, and whether it gives the imaginary part of the result.
    /// `None` for the operations of the language.
    pub const fn complex_part(self) -> Option<(UnaryOp, bool)> {
        use BinaryOp::*;
        Some(match self {
            CSqrtRe => (UnaryOp::Sqrt, false),
            CSqrtIm => (UnaryOp::Sqrt, true),
            CExpRe => (UnaryOp::Exp, false),
            CExpIm => (UnaryOp::Exp, true),
            CExpm1Re => (UnaryOp::Expm1, false),
            CExpm1Im => (UnaryOp::Expm1, true),
            CLogRe => (UnaryOp::Log, false),
            CLogIm => (UnaryOp::Log, true),
            CLog1pRe => (UnaryOp::Log1p, false),
            CLog1pIm => (UnaryOp::Log1p, true),
            CLog2Re => (UnaryOp::Log2, false),
            CLog2Im => (UnaryOp::Log2, true),
            CLog10Re => (UnaryOp::Log10, false),
            CLog10Im => (UnaryOp::Log10, true),
            CSinRe => (UnaryOp::Sin, false),
            CSinIm => (UnaryOp::Sin, true),
            CCosRe => (UnaryOp::Cos, false),
            CCosIm => (UnaryOp::Cos, true),
            CTanRe => (UnaryOp::Tan, false),
            CTanIm => (UnaryOp::Tan, true),
            CArcsinRe => (UnaryOp::Arcsin, false),
            CArcsinIm => (UnaryOp::Arcsin, true),
            CArccosRe => (UnaryOp::Arccos, false),
            CArccosIm => (UnaryOp::Arccos, true),
            CArctanRe => (UnaryOp::Arctan, false),
            CArctanIm => (UnaryOp::Arctan, true),
            CSinhRe => (UnaryOp::Sinh, false),
            CSinhIm => (UnaryOp::Sinh, true),
            CCoshRe => (UnaryOp::Cosh, false),
            CCoshIm => (UnaryOp::Cosh, true),
            CTanhRe => (UnaryOp::Tanh, false),
            CTanhIm => (UnaryOp::Tanh, true),
            CArcsinhRe => (UnaryOp::Arcsinh, false),
            CArcsinhIm => (UnaryOp::Arcsinh, true),
            CArccoshRe => (UnaryOp::Arccosh, false),
            CArccoshIm => (UnaryOp::Arccosh, true),
            CArctanhRe => (UnaryOp::Arctanh, false),
            CArctanhIm => (UnaryOp::Arctanh, true),
            CSignRe => (UnaryOp::Sign, false),
            CSignIm => (UnaryOp::Sign, true),
            CReciprocalRe => (UnaryOp::Reciprocal, false),
            CReciprocalIm => (UnaryOp::Reciprocal, true),
            _ => return None,
        })
    }

    /// `true` for the internal operations of the complex split (not
    /// callable; made only by `ir::split`).
    pub const fn is_internal(self) -> bool {
        self.complex_part().is_some()
    }

    /// `true` for the six comparisons.
    pub fn is_comparison(self) -> bool {
        use BinaryOp::*;
        matches!(self, Lt | Le | Eq | Ne | Ge | Gt)
    }

    /// `true` if `a op b == b op a` for all values (bit for bit).
    pub fn is_commutative(self) -> bool {
        use BinaryOp::*;
        matches!(self, Add | Mul | BitAnd | BitOr | BitXor | Eq | Ne)
    }

    /// The types of this operation on two operands already promoted to `common`.
    pub fn signature(self, common: DType) -> Result<Signature, Rejection> {
        use BinaryOp::*;
        let spelled = self.spelling();
        match self {
            // The internal parts of complex functions: float parts.
            _ if self.is_internal() => match common {
                DType::Float32 | DType::Float64 => Ok(same(common)),
                _ => Err(reject(
                    format!("`{spelled}` is internal and takes float32 or float64 parts"),
                    "it is made by the complex split only",
                )),
            },
            // complex(re, im): float parts (float16 computes in float32).
            Complex if common.is_complex() => Err(reject(
                "`complex` takes real parts, not complex numbers".into(),
                "write `z1 + z2*1j`, or take `real(z)` and `imag(z)` first",
            )),
            Complex => {
                let part = common.float_for();
                Ok(Signature {
                    operand: part,
                    result: part.complex_of(),
                })
            }
            _ if common.is_complex() => match self {
                Add | Sub | Mul | Div | Pow | Maximum | Minimum => Ok(same(common)),
                _ if self.is_comparison() => Ok(Signature {
                    operand: common,
                    result: DType::Bool,
                }),
                _ => Err(reject(
                    format!("`{spelled}` is not defined for {common}"),
                    NO_COMPLEX_LOOP,
                )),
            },
            _ if self.is_comparison() => Ok(Signature {
                operand: common,
                result: DType::Bool,
            }),
            Sub if common == DType::Bool => Err(reject(
                "`-` is not defined for two bools".into(),
                "use `^` for logical xor, or cast with int32(...) first",
            )),
            FloorDiv | Mod | Pow | Fmod if common == DType::Bool => Err(reject(
                format!("`{spelled}` is not defined for two bools"),
                "cast with int32(...) or float64(...) first",
            )),
            Shl | Shr if !common.is_int() => Err(reject(
                format!("`{spelled}` is not defined for {common}"),
                "shifts need integer operands; for floats multiply by a power of two",
            )),
            BitAnd | BitOr | BitXor if common.is_float() => Err(reject(
                format!("`{spelled}` is not defined for {common}"),
                "`&`, `|`, `^` are logical on bool and bitwise on integers; combine comparisons, e.g. `(a > 0) & (b > 0)`",
            )),
            // NumPy: integers divide in float64, but `arctan2` of int8 is float16.
            Div => Ok(same(common.true_div())),
            Arctan2 | Hypot | Copysign | Nextafter => Ok(same(common.float_for())),
            _ => Ok(same(common)),
        }
    }
}

/// Reductions over all elements or along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReduceOp {
    /// `sum`: signed integers accumulate in int64, unsigned in uint64 (wrapping), floats in
    /// their own dtype (pairwise; float16 in float32, rounded at the end).
    Sum,
    /// `prod`: integers in int64 or uint64 (wrapping).
    Prod,
    /// `min`: NaN-propagating; an error on an empty reduction.
    Min,
    /// `max`: NaN-propagating; an error on an empty reduction.
    Max,
    /// `mean`: integers in float64 (float16 in float32); NaN for an empty reduction.
    Mean,
    /// `any`: true if some element is nonzero.
    Any,
    /// `all`: true if every element is nonzero.
    All,
}

op_names!(ReduceOp {
    Sum => "sum", Prod => "prod", Min => "min", Max => "max", Mean => "mean",
    Any => "any", All => "all",
});

impl ReduceOp {
    /// The types of this reduction of a value of dtype `arg`.
    pub fn signature(self, arg: DType) -> Signature {
        match self {
            ReduceOp::Sum | ReduceOp::Prod => same(arg.accumulator()),
            ReduceOp::Mean => same(arg.true_div()),
            // Lexicographic order for complex, as NumPy.
            ReduceOp::Min | ReduceOp::Max => same(arg),
            ReduceOp::Any | ReduceOp::All => same(DType::Bool),
        }
    }
}
