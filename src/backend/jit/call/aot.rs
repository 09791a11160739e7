//! The `unsafe` half of the AVX2 routines (`backend::jit::aot`): calling
//! the `#[target_feature]` loops once [`available`] has checked the CPU, and
//! the `extern "C"` entry points kernels call with raw block pointers.

use crate::backend::jit::aot::*;
use crate::ir::op::{BinaryOp, UnaryOp};

/// Evaluates `op` over `x` into `out` (same length) with the AVX2 routine;
/// `false` (and `out` untouched) if there is none or the CPU lacks AVX2/FMA.
pub fn unary_f64(op: UnaryOp, x: &[f64], out: &mut [f64]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use UnaryOp::*;
        if !available() || x.len() != out.len() || !has(AotFn::Unary(op)) {
            return false;
        }
        let f: fn(&[f64], &mut [f64]) = match op {
            // SAFETY (each arm): `available()` checked that the CPU has AVX2 and FMA.
            Exp => |x, o| unsafe { exp_f64(x, o) },
            Expm1 => |x, o| unsafe { expm1_f64(x, o) },
            Log => |x, o| unsafe { log_f64(x, o) },
            Log1p => |x, o| unsafe { log1p_f64(x, o) },
            Sin => |x, o| unsafe { sin_f64(x, o) },
            Cos => |x, o| unsafe { cos_f64(x, o) },
            Tanh => |x, o| unsafe { tanh_f64(x, o) },
            Sinh => |x, o| unsafe { sinh_f64(x, o) },
            Cosh => |x, o| unsafe { cosh_f64(x, o) },
            Arctan => |x, o| unsafe { atan_f64(x, o) },
            _ => return false,
        };
        f(x, out);
        if matches!(op, Sin | Cos) {
            trig_fixup_f64(op, x, out);
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (op, x, out);
        false
    }
}

/// [`unary_f64`] for f32 arrays.
pub fn unary_f32(op: UnaryOp, x: &[f32], out: &mut [f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use UnaryOp::*;
        if !available() || x.len() != out.len() || !has(AotFn::Unary(op)) {
            return false;
        }
        let f: fn(&[f32], &mut [f32]) = match op {
            // SAFETY (each arm): `available()` checked that the CPU has AVX2 and FMA.
            Exp => |x, o| unsafe { exp_f32(x, o) },
            Expm1 => |x, o| unsafe { expm1_f32(x, o) },
            Log => |x, o| unsafe { log_f32(x, o) },
            Log1p => |x, o| unsafe { log1p_f32(x, o) },
            Sin => |x, o| unsafe { sin_f32(x, o) },
            Cos => |x, o| unsafe { cos_f32(x, o) },
            Tanh => |x, o| unsafe { tanh_f32(x, o) },
            Sinh => |x, o| unsafe { sinh_f32(x, o) },
            Cosh => |x, o| unsafe { cosh_f32(x, o) },
            Arctan => |x, o| unsafe { atan_f32(x, o) },
            _ => return false,
        };
        f(x, out);
        if matches!(op, Sin | Cos) {
            trig_fixup_f32(op, x, out);
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (op, x, out);
        false
    }
}

/// `op(x, y)` elementwise into `out`, like [`unary_f64`].
pub fn binary_f64(op: BinaryOp, x: &[f64], y: &[f64], out: &mut [f64]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if !available() || x.len() != out.len() || y.len() != out.len() || !has(AotFn::Binary(op)) {
            return false;
        }
        // SAFETY: `available()` checked that the CPU has AVX2 and FMA.
        unsafe { atan2_f64(x, y, out) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (op, x, y, out);
        false
    }
}

/// [`binary_f64`] for f32 arrays.
pub fn binary_f32(op: BinaryOp, x: &[f32], y: &[f32], out: &mut [f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if !available() || x.len() != out.len() || y.len() != out.len() || !has(AotFn::Binary(op)) {
            return false;
        }
        // SAFETY: `available()` checked that the CPU has AVX2 and FMA.
        unsafe { atan2_f32(x, y, out) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (op, x, y, out);
        false
    }
}

// ---------------------------------------------------------------------------
// The entry points kernels call.

/// A routine's entry point: `(x, y, out, n)`; `y` is ignored by unary ones.
pub type Entry = extern "C" fn(*const u8, *const u8, *mut u8, usize);

macro_rules! entries {
    ($($kind:ident $op:ident => $e64:ident, $e32:ident;)*) => {
        $(entries!(@one $kind $op, $e64, f64, unary_f64, binary_f64);
          entries!(@one $kind $op, $e32, f32, unary_f32, binary_f32);)*

        /// The entry point of `f` for `f32` (`single`) or `f64` lanes, and
        /// its symbol; `None` if there is no routine.
        pub fn entry(f: AotFn, single: bool) -> Option<(&'static str, Entry)> {
            match f {
                $(entries!(@pat $kind $op) => Some(if single {
                    (stringify!($e32), $e32 as Entry)
                } else {
                    (stringify!($e64), $e64 as Entry)
                }),)*
                _ => None,
            }
        }

        /// Every entry point, for registering with a JIT module.
        pub fn all() -> Vec<(&'static str, Entry)> {
            vec![$((stringify!($e64), $e64 as Entry), (stringify!($e32), $e32 as Entry)),*]
        }
    };
    (@pat U $op:ident) => { AotFn::Unary(UnaryOp::$op) };
    (@pat B $op:ident) => { AotFn::Binary(BinaryOp::$op) };
    (@one U $op:ident, $name:ident, $t:ty, $u:ident, $b:ident) => {
        extern "C" fn $name(x: *const u8, _y: *const u8, out: *mut u8, n: usize) {
            // SAFETY: kernels call this with `x` and `out` pointing to `n`
            // elements of $t in their own stack buffers (distinct, aligned,
            // n <= BLOCK).
            let (x, out) = unsafe {
                (
                    std::slice::from_raw_parts(x as *const $t, n),
                    std::slice::from_raw_parts_mut(out as *mut $t, n),
                )
            };
            $u(UnaryOp::$op, x, out);
        }
    };
    (@one B $op:ident, $name:ident, $t:ty, $u:ident, $b:ident) => {
        extern "C" fn $name(x: *const u8, y: *const u8, out: *mut u8, n: usize) {
            // SAFETY: as for the unary entry points, with `y` a third buffer.
            let (x, y, out) = unsafe {
                (
                    std::slice::from_raw_parts(x as *const $t, n),
                    std::slice::from_raw_parts(y as *const $t, n),
                    std::slice::from_raw_parts_mut(out as *mut $t, n),
                )
            };
            $b(BinaryOp::$op, x, y, out);
        }
    };
}

entries! {
    U Exp => jx_aot_exp_f64, jx_aot_exp_f32;
    U Expm1 => jx_aot_expm1_f64, jx_aot_expm1_f32;
    U Log => jx_aot_log_f64, jx_aot_log_f32;
    U Log1p => jx_aot_log1p_f64, jx_aot_log1p_f32;
    U Sin => jx_aot_sin_f64, jx_aot_sin_f32;
    U Cos => jx_aot_cos_f64, jx_aot_cos_f32;
    U Tanh => jx_aot_tanh_f64, jx_aot_tanh_f32;
    U Sinh => jx_aot_sinh_f64, jx_aot_sinh_f32;
    U Cosh => jx_aot_cosh_f64, jx_aot_cosh_f32;
    U Arctan => jx_aot_arctan_f64, jx_aot_arctan_f32;
    B Arctan2 => jx_aot_arctan2_f64, jx_aot_arctan2_f32;
}
