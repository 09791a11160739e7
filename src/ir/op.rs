//! The operations of the IR and their typing rules.
//!
//! An operation and a dtype are separate: `Binary { op: Add, .. }` of dtype
//! `f32` is one IR node. The typing rules here say, for an operand dtype, which
//! dtype the operands are cast to and which dtype the result has (or why the
//! combination is rejected). Their meaning on values is `ir::scalar`.

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
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }
        }
    };
}

/// Operations of one operand, applied elementwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnaryOp {
    /// `-x` (wraps for integers).
    Neg,
    /// `~x`: logical not on bool, bitwise not on integers.
    Not,
    /// `abs(x)`: stays integer for integers (wraps at the minimum).
    Abs,
    /// `sign(x)`: -1, 0 or 1 (NaN for NaN; `sign(-0.0)` is `0.0`).
    Sign,
    /// `sqrt(x)`
    Sqrt,
    /// `cbrt(x)`
    Cbrt,
    /// `exp(x)`
    Exp,
    /// `expm1(x)`
    Expm1,
    /// `exp2(x)`
    Exp2,
    /// `log(x)`
    Log,
    /// `log1p(x)`
    Log1p,
    /// `log2(x)`
    Log2,
    /// `log10(x)`
    Log10,
    /// `sin(x)`
    Sin,
    /// `cos(x)`
    Cos,
    /// `tan(x)`
    Tan,
    /// `arcsin(x)`
    Arcsin,
    /// `arccos(x)`
    Arccos,
    /// `arctan(x)`
    Arctan,
    /// `sinh(x)`
    Sinh,
    /// `cosh(x)`
    Cosh,
    /// `tanh(x)`
    Tanh,
    /// `arcsinh(x)`
    Arcsinh,
    /// `arccosh(x)`
    Arccosh,
    /// `arctanh(x)`
    Arctanh,
    /// `floor(x)` (identity on integers).
    Floor,
    /// `ceil(x)` (identity on integers).
    Ceil,
    /// `trunc(x)` (identity on integers).
    Trunc,
    /// `rint(x)`: round half to even.
    Rint,
    /// `reciprocal(x)`: `1/x`; integer division for integers (`1/0` gives the minimum).
    Reciprocal,
    /// `isnan(x)` → bool.
    IsNan,
    /// `isinf(x)` → bool.
    IsInf,
    /// `isfinite(x)` → bool.
    IsFinite,
    /// `signbit(x)` → bool (true for `-0.0`).
    SignBit,
}

op_names!(UnaryOp {
    Neg => "neg", Not => "not", Abs => "abs", Sign => "sign", Sqrt => "sqrt", Cbrt => "cbrt",
    Exp => "exp", Expm1 => "expm1", Exp2 => "exp2", Log => "log", Log1p => "log1p",
    Log2 => "log2", Log10 => "log10", Sin => "sin", Cos => "cos", Tan => "tan",
    Arcsin => "arcsin", Arccos => "arccos", Arctan => "arctan", Sinh => "sinh", Cosh => "cosh",
    Tanh => "tanh", Arcsinh => "arcsinh", Arccosh => "arccosh", Arctanh => "arctanh",
    Floor => "floor", Ceil => "ceil", Trunc => "trunc", Rint => "rint",
    Reciprocal => "reciprocal", IsNan => "isnan", IsInf => "isinf", IsFinite => "isfinite",
    SignBit => "signbit",
});

impl UnaryOp {
    /// `true` for the transcendental functions computed in floating point.
    pub fn is_float_math(self) -> bool {
        use UnaryOp::*;
        matches!(
            self,
            Sqrt | Cbrt
                | Exp
                | Expm1
                | Exp2
                | Log
                | Log1p
                | Log2
                | Log10
                | Sin
                | Cos
                | Tan
                | Arcsin
                | Arccos
                | Arctan
                | Sinh
                | Cosh
                | Tanh
                | Arcsinh
                | Arccosh
                | Arctanh
        )
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
            Neg | Not | Abs | Sign | Reciprocal => Ok(same(arg)),
            // NumPy keeps integer and bool dtypes for these.
            Floor | Ceil | Trunc if !arg.is_float() => Ok(same(arg)),
            IsNan | IsInf | IsFinite | SignBit => Ok(Signature {
                operand: arg,
                result: DType::Bool,
            }),
            _ => Ok(same(arg.float_for())),
        }
    }
}

/// Operations of two operands, applied elementwise after broadcasting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinaryOp {
    /// `+` (logical or on bool).
    Add,
    /// `-`
    Sub,
    /// `*` (logical and on bool).
    Mul,
    /// `/`: true division; integers divide in float64.
    Div,
    /// `//`: floor division (Python sign rule; integer division by zero gives 0).
    FloorDiv,
    /// `%`: remainder with the sign of the divisor (integer `x % 0` gives 0).
    Mod,
    /// `**`
    Pow,
    /// `<<` (shifting by ≥ the bit width or by a negative amount gives 0).
    Shl,
    /// `>>` (arithmetic; by ≥ the bit width gives 0 or -1).
    Shr,
    /// `&`: logical and on bool, bitwise on integers.
    BitAnd,
    /// `|`: logical or on bool, bitwise on integers.
    BitOr,
    /// `^`: logical xor on bool, bitwise on integers.
    BitXor,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `arctan2(y, x)`
    Arctan2,
    /// `hypot(x, y)`
    Hypot,
    /// `fmod(x, y)`: C remainder, sign of the dividend.
    Fmod,
    /// `copysign(x, y)`
    Copysign,
    /// `nextafter(x, y)`
    Nextafter,
    /// `maximum(x, y)`: NaN-propagating.
    Maximum,
    /// `minimum(x, y)`: NaN-propagating.
    Minimum,
}

op_names!(BinaryOp {
    Add => "add", Sub => "sub", Mul => "mul", Div => "div", FloorDiv => "floordiv",
    Mod => "mod", Pow => "pow", Shl => "shl", Shr => "shr", BitAnd => "and", BitOr => "or",
    BitXor => "xor", Lt => "lt", Le => "le", Eq => "eq", Ne => "ne", Ge => "ge", Gt => "gt",
    Arctan2 => "arctan2", Hypot => "hypot", Fmod => "fmod", Copysign => "copysign",
    Nextafter => "nextafter", Maximum => "maximum", Minimum => "minimum",
});

impl BinaryOp {
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

    /// How the operator is written in an expression (`+`, `arctan2`).
    pub fn spelling(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            FloorDiv => "//",
            Mod => "%",
            Pow => "**",
            Shl => "<<",
            Shr => ">>",
            BitAnd => "&",
            BitOr => "|",
            BitXor => "^",
            Lt => "<",
            Le => "<=",
            Eq => "==",
            Ne => "!=",
            Ge => ">=",
            Gt => ">",
            other => other.name(),
        }
    }

    /// The types of this operation on two operands already promoted to `common`.
    pub fn signature(self, common: DType) -> Result<Signature, Rejection> {
        use BinaryOp::*;
        let spelled = self.spelling();
        match self {
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
            Div | Arctan2 | Hypot | Copysign | Nextafter => Ok(same(common.float_for())),
            _ => Ok(same(common)),
        }
    }
}

/// Reductions over all elements or along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReduceOp {
    /// `sum`: integers accumulate in int64 (wrapping), floats in their own dtype (pairwise).
    Sum,
    /// `prod`: integers in int64 (wrapping).
    Prod,
    /// `min`: NaN-propagating; an error on an empty reduction.
    Min,
    /// `max`: NaN-propagating; an error on an empty reduction.
    Max,
    /// `mean`: integers in float64; NaN for an empty reduction.
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
            ReduceOp::Mean => same(arg.float_for()),
            ReduceOp::Min | ReduceOp::Max => same(arg),
            ReduceOp::Any | ReduceOp::All => same(DType::Bool),
        }
    }
}
