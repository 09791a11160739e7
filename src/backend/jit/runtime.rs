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
use crate::ir::op::{BinaryOp, UnaryOp};
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
}

macro_rules! unary_f {
    ($name:ident, $op:ident, $t:ty, $variant:ident) => {
        extern "C" fn $name(x: $t) -> $t {
            match scalar::unary(UnaryOp::$op, Scalar::$variant(x)) {
                Scalar::$variant(v) => v,
                _ => <$t>::NAN,
            }
        }
    };
}

macro_rules! binary_f {
    ($name:ident, $op:ident, $t:ty, $variant:ident) => {
        extern "C" fn $name(x: $t, y: $t) -> $t {
            match scalar::binary(BinaryOp::$op, Scalar::$variant(x), Scalar::$variant(y)) {
                Scalar::$variant(v) => v,
                _ => <$t>::NAN,
            }
        }
    };
}

macro_rules! binary_i {
    ($name:ident, $op:ident, $t:ty, $variant:ident) => {
        extern "C" fn $name(x: $t, y: $t) -> $t {
            match scalar::binary(BinaryOp::$op, Scalar::$variant(x), Scalar::$variant(y)) {
                Scalar::$variant(v) => v,
                _ => 0,
            }
        }
    };
}

macro_rules! routines {
    (
        unary { $($uop:ident => $u64:ident, $u32:ident;)* }
        binary { $($bop:ident => $b64:ident, $b32:ident;)* }
        int { $($iop:ident => $i64:ident, $i32:ident;)* }
    ) => {
        $(unary_f!($u64, $uop, f64, Float64); unary_f!($u32, $uop, f32, Float32);)*
        $(binary_f!($b64, $bop, f64, Float64); binary_f!($b32, $bop, f32, Float32);)*
        $(binary_i!($i64, $iop, i64, Int64); binary_i!($i32, $iop, i32, Int32);)*

        /// The routine computing `op` on one value of `dtype`, if kernels call one for it.
        pub fn unary_routine(op: UnaryOp, dtype: DType) -> Option<Routine> {
            match (op, dtype) {
                $(
                    (UnaryOp::$uop, DType::Float64) => Some(Routine { symbol: stringify!($u64), address: $u64 as *const u8 as usize, dtype, arity: 1 }),
                    (UnaryOp::$uop, DType::Float32) => Some(Routine { symbol: stringify!($u32), address: $u32 as *const u8 as usize, dtype, arity: 1 }),
                )*
                _ => None,
            }
        }

        /// The routine computing `op` on two values of `dtype`, if kernels call one for it.
        pub fn binary_routine(op: BinaryOp, dtype: DType) -> Option<Routine> {
            match (op, dtype) {
                $(
                    (BinaryOp::$bop, DType::Float64) => Some(Routine { symbol: stringify!($b64), address: $b64 as *const u8 as usize, dtype, arity: 2 }),
                    (BinaryOp::$bop, DType::Float32) => Some(Routine { symbol: stringify!($b32), address: $b32 as *const u8 as usize, dtype, arity: 2 }),
                )*
                $(
                    (BinaryOp::$iop, DType::Int64) => Some(Routine { symbol: stringify!($i64), address: $i64 as *const u8 as usize, dtype, arity: 2 }),
                    (BinaryOp::$iop, DType::Int32) => Some(Routine { symbol: stringify!($i32), address: $i32 as *const u8 as usize, dtype, arity: 2 }),
                )*
                _ => None,
            }
        }

        /// Every routine, for registering with a JIT module.
        pub fn all() -> Vec<Routine> {
            let mut v = Vec::new();
            $(
                v.extend(unary_routine(UnaryOp::$uop, DType::Float64));
                v.extend(unary_routine(UnaryOp::$uop, DType::Float32));
            )*
            $(
                v.extend(binary_routine(BinaryOp::$bop, DType::Float64));
                v.extend(binary_routine(BinaryOp::$bop, DType::Float32));
            )*
            $(
                v.extend(binary_routine(BinaryOp::$iop, DType::Int64));
                v.extend(binary_routine(BinaryOp::$iop, DType::Int32));
            )*
            v
        }
    };
}

routines! {
    unary {
        Cbrt => jx_cbrt_f64, jx_cbrt_f32;
        Exp => jx_exp_f64, jx_exp_f32;
        Expm1 => jx_expm1_f64, jx_expm1_f32;
        Exp2 => jx_exp2_f64, jx_exp2_f32;
        Log => jx_log_f64, jx_log_f32;
        Log1p => jx_log1p_f64, jx_log1p_f32;
        Log2 => jx_log2_f64, jx_log2_f32;
        Log10 => jx_log10_f64, jx_log10_f32;
        Sin => jx_sin_f64, jx_sin_f32;
        Cos => jx_cos_f64, jx_cos_f32;
        Tan => jx_tan_f64, jx_tan_f32;
        Arcsin => jx_arcsin_f64, jx_arcsin_f32;
        Arccos => jx_arccos_f64, jx_arccos_f32;
        Arctan => jx_arctan_f64, jx_arctan_f32;
        Sinh => jx_sinh_f64, jx_sinh_f32;
        Cosh => jx_cosh_f64, jx_cosh_f32;
        Tanh => jx_tanh_f64, jx_tanh_f32;
        Arcsinh => jx_arcsinh_f64, jx_arcsinh_f32;
        Arccosh => jx_arccosh_f64, jx_arccosh_f32;
        Arctanh => jx_arctanh_f64, jx_arctanh_f32;
    }
    binary {
        Pow => jx_pow_f64, jx_pow_f32;
        Arctan2 => jx_arctan2_f64, jx_arctan2_f32;
        Hypot => jx_hypot_f64, jx_hypot_f32;
        FloorDiv => jx_floordiv_f64, jx_floordiv_f32;
        Mod => jx_mod_f64, jx_mod_f32;
        Fmod => jx_fmod_f64, jx_fmod_f32;
        Nextafter => jx_nextafter_f64, jx_nextafter_f32;
    }
    int {
        Pow => jx_pow_i64, jx_pow_i32;
    }
}

/// The Cranelift type holding one element of `dtype` (bool is a byte, 0 or 1).
pub fn clif_type(dtype: DType) -> Type {
    match dtype {
        DType::Bool => types::I8,
        DType::Int32 => types::I32,
        DType::Int64 => types::I64,
        DType::Float32 => types::F32,
        DType::Float64 => types::F64,
    }
}

/// The module-level id of `routine`, declaring it as an import on first use.
pub fn routine_id(
    module: &mut JITModule,
    routines: &mut HashMap<&'static str, FuncId>,
    routine: Routine,
) -> Result<FuncId> {
    if let Some(&id) = routines.get(routine.symbol) {
        return Ok(id);
    }
    let ty = clif_type(routine.dtype);
    let mut sig = module.make_signature();
    for _ in 0..routine.arity {
        sig.params.push(AbiParam::new(ty));
    }
    sig.returns.push(AbiParam::new(ty));
    let id = module
        .declare_function(routine.symbol, cranelift_module::Linkage::Import, &sig)
        .map_err(|e| Error::internal(format!("JIT declare {}: {e}", routine.symbol)))?;
    routines.insert(routine.symbol, id);
    Ok(id)
}
