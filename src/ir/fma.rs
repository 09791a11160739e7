//! Running scalar code compiled with the CPU's fused multiply-add
//! instructions where it has them.
//!
//! The crate is built for baseline x86-64, where `f64::mul_add` is a call of
//! libm's `fma` (which spills every register: the double-double complex
//! routines of `cmath` ran 3-4 times slower that way). [`with_fma`] runs a
//! closure inside a function compiled with the `fma` target feature, so
//! the code inlined into it (`#[inline(always)]` helpers) uses the
//! instructions; `fma` rounds once either way, so the results are the same
//! bits. This is the only `unsafe` of `ir`: calling that function after
//! checking that the CPU has the feature.
#![allow(unsafe_code)]

/// `f()`, compiled with FMA instructions when the CPU has them.
#[inline(always)]
pub(crate) fn with_fma<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "fma")]
        fn fma_copy<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has FMA, the only feature `fma_copy` enables.
            return unsafe { fma_copy(f) };
        }
    }
    f()
}
