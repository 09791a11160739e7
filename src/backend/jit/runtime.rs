//! Scalar routines that JIT kernels call for operations without an inline
//! Cranelift lowering (transcendental functions, float `//` and `%`, powers).
//!
//! Each routine is the reference semantics of `ir::scalar` for one operation
//! and dtype, so a kernel that calls it is bit-for-bit equal to the
//! interpreter. They are plain `extern "C"` functions registered with the JIT
//! module under [`Routine::symbol`].

use std::collections::HashMap;

use cranelift_codegen::ir::{AbiParam, Type, types};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};

use crate::error::{Error, Result};
use crate::ir::op::{BinaryOp, Impl, UnaryOp};
use crate::ir::scalar;
use crate::types::{DType, Scalar};

/// One callable routine: its symbol, address and Cranelift-facing signature.
#[derive(Debug, Clone, Copy)]
pub struct Routine {
    /// The symbol name the JIT module knows it by.
    pub symbol: &'static str,
    /// The function's address.
    pub address: usize,
    /// The dtype of every parameter and of the result.
    pub dtype: DType,
    /// Number of parameters (1 or 2).
    pub arity: usize,
    /// The dtype of the result (`dtype` but for the float16 conversions).
    pub ret: DType,
}

/// `float16` bits (zero-extended) to `float32`, exactly, as `Scalar::cast`.
extern "C" fn f16_to_f32(bits: u32) -> f32 {
    crate::types::f16::from_bits(bits as u16).to_f32()
}

/// `float32` to `float16` bits (zero-extended), rounded to nearest even.
extern "C" fn f32_to_f16(x: f32) -> u32 {
    u32::from(crate::types::f16::from_f32(x).to_bits())
}

/// `float64` to `float16` bits (zero-extended), in one rounding.
extern "C" fn f64_to_f16(x: f64) -> u32 {
    u32::from(crate::types::f16_from_f64(x).to_bits())
}

/// `uint64 ** uint64`, wrapping (the narrower integers call `jx_pow_i64` on
/// their extended values: wrapping arithmetic agrees on the low bits).
extern "C" fn pow_u64(x: u64, y: u64) -> u64 {
    match scalar::binary(BinaryOp::Pow, Scalar::UInt64(x), Scalar::UInt64(y)) {
        Scalar::UInt64(v) => v,
        _ => 0,
    }
}

/// The float16 conversions: `float16` (its bits, as `uint32`) to `float32`,
/// and `float32` or `float64` to `float16`. Kernels hold a `float16` as its
/// bits in an `i16` and compute in `float32` (`DType::compute`).
pub fn f16_conversion(from: DType, to: DType) -> Option<Routine> {
    let (symbol, address, dtype, ret) = match (from, to) {
        (DType::Float16, DType::Float32) => (
            "jx_f16_to_f32",
            f16_to_f32 as *const u8 as usize,
            DType::UInt32,
            DType::Float32,
        ),
        (DType::Float32, DType::Float16) => (
            "jx_f32_to_f16",
            f32_to_f16 as *const u8 as usize,
            DType::Float32,
            DType::UInt32,
        ),
        (DType::Float64, DType::Float16) => (
            "jx_f64_to_f16",
            f64_to_f16 as *const u8 as usize,
            DType::Float64,
            DType::UInt32,
        ),
        _ => return None,
    };
    Some(Routine {
        symbol,
        address,
        dtype,
        arity: 1,
        ret,
    })
}

/// `uint64 ** uint64` (see [`pow_u64`]).
pub fn pow_u64_routine() -> Routine {
    Routine {
        symbol: "jx_pow_u64",
        address: pow_u64 as *const u8 as usize,
        dtype: DType::UInt64,
        arity: 2,
        ret: DType::UInt64,
    }
}

/// `op` on one float, by the reference semantics (`op` is `UnaryOp::ALL[OP]`).
extern "C" fn unary_f64<const OP: usize>(x: f64) -> f64 {
    match scalar::unary(UnaryOp::ALL[OP], Scalar::Float64(x)) {
        Scalar::Float64(v) => v,
        _ => f64::NAN,
    }
}

extern "C" fn unary_f32<const OP: usize>(x: f32) -> f32 {
    match scalar::unary(UnaryOp::ALL[OP], Scalar::Float32(x)) {
        Scalar::Float32(v) => v,
        _ => f32::NAN,
    }
}

/// `op` on two floats (`op` is `BinaryOp::ALL[OP]`).
extern "C" fn binary_f64<const OP: usize>(x: f64, y: f64) -> f64 {
    match scalar::binary(BinaryOp::ALL[OP], Scalar::Float64(x), Scalar::Float64(y)) {
        Scalar::Float64(v) => v,
        _ => f64::NAN,
    }
}

extern "C" fn binary_f32<const OP: usize>(x: f32, y: f32) -> f32 {
    match scalar::binary(BinaryOp::ALL[OP], Scalar::Float32(x), Scalar::Float32(y)) {
        Scalar::Float32(v) => v,
        _ => f32::NAN,
    }
}

/// `op` on two integers (`op` is `BinaryOp::ALL[OP]`).
extern "C" fn binary_i64<const OP: usize>(x: i64, y: i64) -> i64 {
    match scalar::binary(BinaryOp::ALL[OP], Scalar::Int64(x), Scalar::Int64(y)) {
        Scalar::Int64(v) => v,
        _ => 0,
    }
}

extern "C" fn binary_i32<const OP: usize>(x: i32, y: i32) -> i32 {
    match scalar::binary(BinaryOp::ALL[OP], Scalar::Int32(x), Scalar::Int32(y)) {
        Scalar::Int32(v) => v,
        _ => 0,
    }
}

/// Both parts of a complex function's value, as a pair routine returns them:
/// two floats (xmm0 and xmm1 on x86-64 System V, where Cranelift takes two
/// float results), a complex64's parts widened to float64 (exactly).
#[repr(C)]
pub struct Parts {
    re: f64,
    im: f64,
}

/// The complex function `UnaryOp::ALL[OP]` of `x + y*1j`, both parts: what
/// the split's two part routines (`csqrt_re`, `csqrt_im`, …) give, each of
/// which computes the whole function for its one part.
extern "C" fn pair_f64<const OP: usize>(x: f64, y: f64) -> Parts {
    match scalar::unary(
        UnaryOp::ALL[OP],
        Scalar::Complex128(crate::types::c64::new(x, y)),
    ) {
        Scalar::Complex128(w) => Parts { re: w.re, im: w.im },
        _ => Parts {
            re: f64::NAN,
            im: f64::NAN,
        },
    }
}

extern "C" fn pair_f32<const OP: usize>(x: f32, y: f32) -> Parts {
    match scalar::unary(
        UnaryOp::ALL[OP],
        Scalar::Complex64(crate::types::c32::new(x, y)),
    ) {
        Scalar::Complex64(w) => Parts {
            re: f64::from(w.re),
            im: f64::from(w.im),
        },
        _ => Parts {
            re: f64::NAN,
            im: f64::NAN,
        },
    }
}

/// `(symbol, address)` of the pair routine of each unary op (used for the
/// complex functions only: [`pair_routine`]).
macro_rules! pair_addresses {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $typing:ident, $call:expr, $imp:expr;)*) => {
        fn pair_address(op: UnaryOp, single: bool) -> (&'static str, usize) {
            match (op, single) {
                $(
                    (UnaryOp::$variant, false) => (
                        concat!("jx_cpair_", $name, "_f64"),
                        pair_f64::<{ UnaryOp::$variant as usize }> as *const u8 as usize,
                    ),
                    (UnaryOp::$variant, true) => (
                        concat!("jx_cpair_", $name, "_f32"),
                        pair_f32::<{ UnaryOp::$variant as usize }> as *const u8 as usize,
                    ),
                )*
            }
        }
    };
}

crate::ir::op::unary_table!(pair_addresses);

/// The routine computing both parts of a complex function at once, for the
/// part operation `part` (`BinaryOp::complex_part`) of `dtype` parts: a
/// joint kernel (`vector::complex_root`) calls it once where the parts
/// would call the function twice. Not for `exp`, whose parts compute only
/// their own part (and have vector versions); only where Cranelift returns
/// two floats as the C ABI returns [`Parts`] (x86-64 System V).
pub fn pair_routine(part: BinaryOp, dtype: DType) -> Option<Routine> {
    let (f, _) = part.complex_part()?;
    let supported = cfg!(all(target_arch = "x86_64", unix));
    if !supported || f == UnaryOp::Exp || !matches!(dtype, DType::Float32 | DType::Float64) {
        return None;
    }
    let (symbol, address) = pair_address(f, dtype == DType::Float32);
    Some(Routine {
        symbol,
        address,
        dtype,
        arity: 2,
        ret: DType::Float64,
    })
}

/// The module-level id of the pair routine `routine` ([`pair_routine`]:
/// two parameters of its dtype, two float64 results), declared as an
/// import on first use.
pub fn pair_routine_id(
    module: &mut JITModule,
    routines: &mut HashMap<&'static str, FuncId>,
    routine: Routine,
) -> Result<FuncId> {
    let f64 = AbiParam::new(types::F64);
    declare(module, routines, routine, &[f64, f64])
}

/// `(symbol, address)` of the reference routine of each op of the table, per
/// dtype: generated from `ir::op`'s tables, so every math function there has one.
macro_rules! unary_addresses {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $typing:ident, $call:expr, $imp:expr;)*) => {
        fn unary_address(op: UnaryOp, single: bool) -> (&'static str, usize) {
            match (op, single) {
                $(
                    (UnaryOp::$variant, false) => (
                        concat!("jx_", $name, "_f64"),
                        unary_f64::<{ UnaryOp::$variant as usize }> as *const u8 as usize,
                    ),
                    (UnaryOp::$variant, true) => (
                        concat!("jx_", $name, "_f32"),
                        unary_f32::<{ UnaryOp::$variant as usize }> as *const u8 as usize,
                    ),
                )*
            }
        }
    };
}

macro_rules! binary_addresses {
    ($($(#[$doc:meta])* $variant:ident = $name:literal $spelling:literal, $call:expr, $imp:expr;)*) => {
        fn binary_address(op: BinaryOp, dtype: DType) -> Option<(&'static str, usize)> {
            Some(match (op, dtype) {
                $(
                    (BinaryOp::$variant, DType::Float64) => (
                        concat!("jx_", $name, "_f64"),
                        binary_f64::<{ BinaryOp::$variant as usize }> as *const u8 as usize,
                    ),
                    (BinaryOp::$variant, DType::Float32) => (
                        concat!("jx_", $name, "_f32"),
                        binary_f32::<{ BinaryOp::$variant as usize }> as *const u8 as usize,
                    ),
                    (BinaryOp::$variant, DType::Int64) => (
                        concat!("jx_", $name, "_i64"),
                        binary_i64::<{ BinaryOp::$variant as usize }> as *const u8 as usize,
                    ),
                    (BinaryOp::$variant, DType::Int32) => (
                        concat!("jx_", $name, "_i32"),
                        binary_i32::<{ BinaryOp::$variant as usize }> as *const u8 as usize,
                    ),
                )*
                _ => return None,
            })
        }
    };
}

crate::ir::op::unary_table!(unary_addresses);
crate::ir::op::binary_table!(binary_addresses);

/// The routine computing `op` on one value of `dtype`, if kernels call one
/// for it: every float math function of the op table ([`Impl::is_math`]).
pub fn unary_routine(op: UnaryOp, dtype: DType) -> Option<Routine> {
    if !op.implementation().is_math() || !dtype.is_float() {
        return None;
    }
    let (symbol, address) = unary_address(op, dtype == DType::Float32);
    Some(Routine {
        symbol,
        address,
        dtype,
        arity: 1,
        ret: dtype,
    })
}

/// The routine computing `op` on two values of `dtype`, if kernels call one
/// for it: float math functions, and integer ones marked [`Impl::MathInt`].
pub fn binary_routine(op: BinaryOp, dtype: DType) -> Option<Routine> {
    let wanted = match op.implementation() {
        Impl::Inline | Impl::Wide => false,
        Impl::Math(_) => dtype.is_float(),
        Impl::MathInt(_) => matches!(
            dtype,
            DType::Float32 | DType::Float64 | DType::Int32 | DType::Int64
        ),
    };
    if !wanted {
        return None;
    }
    let (symbol, address) = binary_address(op, dtype)?;
    Some(Routine {
        symbol,
        address,
        dtype,
        arity: 2,
        ret: dtype,
    })
}

/// Every routine, for registering with a JIT module.
pub fn all() -> Vec<Routine> {
    let dtypes = [DType::Float64, DType::Float32, DType::Int64, DType::Int32];
    let mut v = Vec::new();
    for &d in &dtypes {
        v.extend(UnaryOp::ALL.iter().filter_map(|&op| unary_routine(op, d)));
        v.extend(BinaryOp::ALL.iter().filter_map(|&op| binary_routine(op, d)));
    }
    v.extend(
        [
            (DType::Float16, DType::Float32),
            (DType::Float32, DType::Float16),
            (DType::Float64, DType::Float16),
        ]
        .into_iter()
        .filter_map(|(from, to)| f16_conversion(from, to)),
    );
    v.push(pow_u64_routine());
    // (One per function: by its real part's operation.)
    let real_parts = BinaryOp::ALL
        .iter()
        .filter(|op| matches!(op.complex_part(), Some((_, false))));
    for &op in real_parts {
        v.extend(
            [DType::Float64, DType::Float32]
                .into_iter()
                .filter_map(|d| pair_routine(op, d)),
        );
    }
    v
}

/// The Cranelift type holding one element of `dtype` (bool is a byte, 0 or 1).
pub fn clif_type(dtype: DType) -> Type {
    match dtype {
        DType::Bool => types::I8,
        DType::Int32 => types::I32,
        DType::Int64 => types::I64,
        DType::Float32 => types::F32,
        DType::Float64 => types::F64,
        // Unsigned integers as their bits; float16 as its bits (kernels
        // compute in float32: `codegen`'s casts).
        DType::Int8 | DType::UInt8 => types::I8,
        DType::Int16 | DType::UInt16 | DType::Float16 => types::I16,
        DType::UInt32 => types::I32,
        DType::UInt64 => types::I64,
        // Never compiled: a program with complex values runs on the
        // interpreter (`kernel::compile_ast`); a complex is two of these.
        DType::Complex64 => types::F32,
        DType::Complex128 => types::F64,
    }
}

/// The module-level id of `routine`, declaring it as an import on first use.
pub fn routine_id(
    module: &mut JITModule,
    routines: &mut HashMap<&'static str, FuncId>,
    routine: Routine,
) -> Result<FuncId> {
    declare(
        module,
        routines,
        routine,
        &[AbiParam::new(clif_type(routine.ret))],
    )
}

/// Declares `routine` (`arity` parameters of its dtype; `returns`) as an
/// import on first use; its module-level id.
fn declare(
    module: &mut JITModule,
    routines: &mut HashMap<&'static str, FuncId>,
    routine: Routine,
    returns: &[AbiParam],
) -> Result<FuncId> {
    if let Some(&id) = routines.get(routine.symbol) {
        return Ok(id);
    }
    let ty = clif_type(routine.dtype);
    let mut sig = module.make_signature();
    for _ in 0..routine.arity {
        sig.params.push(AbiParam::new(ty));
    }
    sig.returns.extend_from_slice(returns);
    let id = module
        .declare_function(routine.symbol, cranelift_module::Linkage::Import, &sig)
        .map_err(|e| Error::internal(format!("JIT declare {}: {e}", routine.symbol)))?;
    routines.insert(routine.symbol, id);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_math_function_has_routines_that_compute_the_reference() {
        for &op in UnaryOp::ALL {
            let has = unary_routine(op, DType::Float64).is_some();
            assert_eq!(has, op.implementation().is_math(), "{}", op.name());
            // The generic routines find their op by its index in `ALL`.
            assert_eq!(UnaryOp::ALL[op as usize], op);
            if let Some(r) = unary_routine(op, DType::Float64) {
                assert_eq!(r.symbol, format!("jx_{}_f64", op.name()));
            }
        }
        for &op in BinaryOp::ALL {
            assert_eq!(BinaryOp::ALL[op as usize], op);
        }
        assert_eq!(unary_f64::<{ UnaryOp::Cbrt as usize }>(-8.0), -2.0);
        assert_eq!(binary_i32::<{ BinaryOp::Pow as usize }>(3, 4), 81);
        assert_eq!(unary_address(UnaryOp::Exp, true).0, "jx_exp_f32");
        let symbols: Vec<&str> = all().iter().map(|r| r.symbol).collect();
        for (i, s) in symbols.iter().enumerate() {
            assert!(!symbols[i + 1..].contains(s), "{s} twice");
        }
        // Pair routines: both parts of the function at once, not for exp.
        if cfg!(all(target_arch = "x86_64", unix)) {
            let r = pair_routine(BinaryOp::CSqrtIm, DType::Float64).map(|r| r.symbol);
            assert_eq!(r, Some("jx_cpair_sqrt_f64"));
            assert!(pair_routine(BinaryOp::CExpRe, DType::Float64).is_none());
        }
        let w = pair_f64::<{ UnaryOp::Sqrt as usize }>(-4.0, -0.0);
        assert_eq!((w.re, w.im.to_bits()), (0.0, (-2.0f64).to_bits()));
        let w = pair_f32::<{ UnaryOp::Sqrt as usize }>(-4.0, 0.0);
        assert_eq!((w.re, w.im), (0.0, 2.0));
        assert!(binary_routine(BinaryOp::Pow, DType::Int32).is_some());
        assert!(binary_routine(BinaryOp::Fmod, DType::Int32).is_none());
        assert!(binary_routine(BinaryOp::Add, DType::Float64).is_none());
    }
}
