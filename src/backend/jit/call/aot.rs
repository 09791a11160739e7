//! The `unsafe` half of the AVX2/AVX-512 routines (`backend::jit::aot`):
//! calling the `#[target_feature]` loops of the instruction set [`isa`] chose
//! (or a test picked and [`Isa::supported`] confirmed), and the `extern "C"`
//! entry points kernels call with raw block pointers.

use crate::backend::jit::aot::*;
use crate::ir::op::{BinaryOp, UnaryOp};

/// The loop `$f` of the module of `$isa`, as a safe closure; only used once
/// `$isa.supported()` has said that the CPU has its features.
#[cfg(target_arch = "x86_64")]
macro_rules! pick {
    ($isa:expr, $f:ident($($a:ident),*)) => {
        match $isa {
            // SAFETY: callers pick a loop only after `Isa::supported` said
            // the CPU has the loop's target features (AVX2+FMA).
            Isa::Avx2 => |$($a),*| unsafe { avx2::$f($($a),*) },
            // SAFETY: as above, with AVX-512 F/DQ/VL/BW as well.
            Isa::Avx512 => |$($a),*| unsafe { avx512::$f($($a),*) },
        }
    };
}

/// Defines the safe block functions `$name(op, ..)` (with the instruction set
/// of [`isa`]) and `$on(isa, op, ..)` (with `isa`, if the CPU has it).
macro_rules! dispatch {
    (unary $name:ident, $on:ident, $t:ty, $sin:ident, $cos:ident, $fixup:ident, $sfx:ident) => {
        /// Evaluates `op` over `x` into `out` (same length) with the
        /// routine of the instruction set [`isa`] chose; `false` (and `out`
        /// untouched) if there is none or the CPU lacks AVX2/FMA.
        pub fn $name(op: UnaryOp, x: &[$t], out: &mut [$t]) -> bool {
            isa().is_some_and(|isa| $on(isa, op, x, out))
        }

        #[doc = concat!("[`", stringify!($name), "`] with the routine compiled for `isa`;")]
        /// `false` if the CPU lacks it.
        #[doc(hidden)]
        pub fn $on(isa: Isa, op: UnaryOp, x: &[$t], out: &mut [$t]) -> bool {
            #[cfg(target_arch = "x86_64")]
            {
                use UnaryOp::*;
                if !isa.supported() || x.len() != out.len() || !has(AotFn::Unary(op)) {
                    return false;
                }
                if matches!(op, Sin | Cos) {
                    // The loop says whether some lane needs the reference routine.
                    let f: fn(&[$t], &mut [$t]) -> bool = if op == Sin {
                        pick!(isa, $sin(x, o))
                    } else {
                        pick!(isa, $cos(x, o))
                    };
                    if f(x, out) {
                        $fixup(op, x, out);
                    }
                    return true;
                }
                paste_dispatch!(isa, op, x, out, $sfx, $t);
                true
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                let _ = (isa, op, x, out);
                false
            }
        }
    };
    (binary $name:ident, $on:ident, $t:ty, $($op:ident $f:ident),*) => {
        /// `op(x, y)` elementwise into `out`, like [`unary_f64`].
        pub fn $name(op: BinaryOp, x: &[$t], y: &[$t], out: &mut [$t]) -> bool {
            isa().is_some_and(|isa| $on(isa, op, x, y, out))
        }

        #[doc = concat!("[`", stringify!($name), "`] with the routine compiled for `isa`;")]
        /// `false` if the CPU lacks it.
        #[doc(hidden)]
        pub fn $on(isa: Isa, op: BinaryOp, x: &[$t], y: &[$t], out: &mut [$t]) -> bool {
            #[cfg(target_arch = "x86_64")]
            {
                if !isa.supported()
                    || x.len() != out.len()
                    || y.len() != out.len()
                    || !has(AotFn::Binary(op))
                {
                    return false;
                }
                let f: fn(&[$t], &[$t], &mut [$t]) = match op {
                    $(BinaryOp::$op => pick!(isa, $f(a, b, o)),)*
                    _ => return false,
                };
                f(x, y, out);
                true
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                let _ = (isa, op, x, y, out);
                false
            }
        }
    };
}

/// Runs the loop of `op` for lanes of type `$t` (names ending in `$sfx`).
#[cfg(target_arch = "x86_64")]
macro_rules! paste_dispatch {
    ($isa:expr, $op:expr, $x:expr, $out:expr, f64, $t:ty) => {
        paste_dispatch!(@ $isa, $op, $x, $out, $t;
            Exp exp_f64, Expm1 expm1_f64, Log log_f64, Log1p log1p_f64,
            Tanh tanh_f64, Sinh sinh_f64, Cosh cosh_f64, Arctan atan_f64,
            Arcsin asin_f64, Arccos acos_f64, Sqrt sqrt_f64)
    };
    ($isa:expr, $op:expr, $x:expr, $out:expr, f32, $t:ty) => {
        paste_dispatch!(@ $isa, $op, $x, $out, $t;
            Exp exp_f32, Expm1 expm1_f32, Log log_f32, Log1p log1p_f32,
            Tanh tanh_f32, Sinh sinh_f32, Cosh cosh_f32, Arctan atan_f32,
            Arcsin asin_f32, Arccos acos_f32, Sqrt sqrt_f32)
    };
    (@ $isa:expr, $op:expr, $x:expr, $out:expr, $t:ty; $($v:ident $f:ident),*) => {{
        let f: fn(&[$t], &mut [$t]) = match $op {
            $($v => pick!($isa, $f(x, o)),)*
            _ => return false,
        };
        f($x, $out)
    }};
}

dispatch!(unary unary_f64, unary_f64_on, f64, sin_f64, cos_f64, trig_fixup_f64, f64);
dispatch!(unary unary_f32, unary_f32_on, f32, sin_f32, cos_f32, trig_fixup_f32, f32);
dispatch!(binary binary_f64, binary_f64_on, f64, Arctan2 atan2_f64, Div div_f64,
    CExpRe cexp_re_f64, CExpIm cexp_im_f64);
dispatch!(binary binary_f32, binary_f32_on, f32, Arctan2 atan2_f32, Div div_f32,
    CExpRe cexp_re_f32, CExpIm cexp_im_f32);

/// Defines `$name(x, sin, cos)` (the instruction set of [`isa`]) and
/// `$on(isa, x, sin, cos)`: sin and cos of `x` at once, each equal bit for
/// bit to the sin and cos routines; `false` if there is no routine here.
macro_rules! sincos_dispatch {
    ($name:ident, $on:ident, $t:ty, $f:ident, $fixup:ident) => {
        /// sin and cos of `x` into `sin` and `cos` (same length) with one
        /// range reduction; `false` (outputs untouched) without AVX2/FMA.
        pub fn $name(x: &[$t], sin: &mut [$t], cos: &mut [$t]) -> bool {
            isa().is_some_and(|isa| $on(isa, x, sin, cos))
        }

        #[doc = concat!("[`", stringify!($name), "`] with the routine compiled for `isa`;")]
        /// `false` if the CPU lacks it.
        #[doc(hidden)]
        pub fn $on(isa: Isa, x: &[$t], sin: &mut [$t], cos: &mut [$t]) -> bool {
            #[cfg(target_arch = "x86_64")]
            {
                if !isa.supported() || x.len() != sin.len() || x.len() != cos.len() {
                    return false;
                }
                let f: fn(&[$t], &mut [$t], &mut [$t]) -> bool = pick!(isa, $f(x, s, c));
                if f(x, sin, cos) {
                    $fixup(UnaryOp::Sin, x, sin);
                    $fixup(UnaryOp::Cos, x, cos);
                }
                true
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                let _ = (isa, x, sin, cos);
                false
            }
        }
    };
}

sincos_dispatch!(sincos_f64, sincos_f64_on, f64, sincos_f64, trig_fixup_f64);
sincos_dispatch!(sincos_f32, sincos_f32_on, f32, sincos_f32, trig_fixup_f32);

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
    U Arcsin => jx_aot_arcsin_f64, jx_aot_arcsin_f32;
    U Arccos => jx_aot_arccos_f64, jx_aot_arccos_f32;
    B Arctan2 => jx_aot_arctan2_f64, jx_aot_arctan2_f32;
    U Sqrt => jx_aot_sqrt_f64, jx_aot_sqrt_f32;
    B Div => jx_aot_div_f64, jx_aot_div_f32;
    B CExpRe => jx_aot_cexp_re_f64, jx_aot_cexp_re_f32;
    B CExpIm => jx_aot_cexp_im_f64, jx_aot_cexp_im_f32;
}

/// The entry point of the fused sin/cos routine: `(x, sin_out, cos_out, n)`.
pub type SincosEntry = extern "C" fn(*const u8, *mut u8, *mut u8, usize);

macro_rules! sincos_entries {
    ($($name:ident: $t:ty, $f:ident;)*) => {
        $(extern "C" fn $name(x: *const u8, sin: *mut u8, cos: *mut u8, n: usize) {
            // SAFETY: kernels call this with `x`, `sin` and `cos` pointing to
            // `n` elements of $t (n <= BLOCK): `x` an operand buffer or a
            // contiguous input, `sin` and `cos` two distinct result buffers
            // (or one of them the output block), none overlapping another.
            let (x, sin, cos) = unsafe {
                (
                    std::slice::from_raw_parts(x as *const $t, n),
                    std::slice::from_raw_parts_mut(sin as *mut $t, n),
                    std::slice::from_raw_parts_mut(cos as *mut $t, n),
                )
            };
            $f(x, sin, cos);
        })*
    };
}

sincos_entries! {
    jx_aot_sincos_f64: f64, sincos_f64;
    jx_aot_sincos_f32: f32, sincos_f32;
}

/// The fused sin/cos entry point for `f32` (`single`) or `f64` lanes, and its symbol.
pub fn sincos_entry(single: bool) -> (&'static str, SincosEntry) {
    if single {
        ("jx_aot_sincos_f32", jx_aot_sincos_f32 as SincosEntry)
    } else {
        ("jx_aot_sincos_f64", jx_aot_sincos_f64 as SincosEntry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::op::{BinaryOp, Impl, UnaryOp};

    /// The op table's `aot` flags match the routines here: an entry point
    /// and a block loop for exactly the declared ones, each with a vector
    /// version too (the interpreted tier and the kernels' scalar tails use it).
    #[test]
    fn routines_are_the_ones_the_op_table_declares() {
        let fns = UnaryOp::ALL
            .iter()
            .map(|&op| AotFn::Unary(op))
            .chain(BinaryOp::ALL.iter().map(|&op| AotFn::Binary(op)));
        for f in fns {
            let (declared, vector) = match f {
                AotFn::Unary(op) => (
                    op.implementation().fast().aot,
                    op.implementation().fast().vector,
                ),
                AotFn::Binary(op) => (
                    op.implementation().fast().aot,
                    op.implementation().fast().vector,
                ),
            };
            let wide = match f {
                AotFn::Unary(op) => op.implementation() == Impl::Wide,
                AotFn::Binary(op) => {
                    op.implementation() == Impl::Wide || op.implementation().fast().exact
                }
            };
            assert_eq!(has(f), declared, "{f:?}");
            assert!(
                !declared || vector || wide,
                "{f:?}: aot without a vector version"
            );
            for single in [false, true] {
                assert_eq!(entry(f, single).is_some(), declared, "{f:?} entry");
            }
            for isa in [Isa::Avx2, Isa::Avx512] {
                if !isa.supported() {
                    continue;
                }
                let x = [0.5f64; 8];
                let mut out = [0.0f64; 8];
                let mut out32 = [0.0f32; 8];
                let ran = match f {
                    AotFn::Unary(op) => {
                        unary_f64_on(isa, op, &x, &mut out)
                            && unary_f32_on(isa, op, &[0.5f32; 8], &mut out32)
                    }
                    AotFn::Binary(op) => {
                        binary_f64_on(isa, op, &x, &x, &mut out)
                            && binary_f32_on(isa, op, &[0.5f32; 8], &[0.5f32; 8], &mut out32)
                    }
                };
                assert_eq!(ran, declared, "{f:?} on {isa:?}");
            }
        }
    }
}
