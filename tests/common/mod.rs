//! Helpers shared by the test binaries (`tests/engine`, `tests/gpu`,
//! `gpu_slabs`): array comparisons and the GPU adapter.
//!
//! Without an adapter GPU tests print a notice and pass, unless
//! `JITEXPR_REQUIRE_GPU=1` (set in CI, which installs Mesa's lavapipe): then
//! a missing adapter is a failure, so GPU tests never skip silently.
#![allow(dead_code)]

#[cfg(feature = "gpu")]
use jitexpr::Scalar;
use jitexpr::internals::backend::wgsl::device::{self, Gpu};
use jitexpr::{Array, DType, Signature};

/// Runs `body` in a child process of this test binary filtered to the test
/// `name` of module `module` (the caller's `module_path!()`), so that a
/// stack overflow, which aborts the whole process, fails only this test,
/// with the child's output in the message; the child's stderr (timings it
/// printed) is passed on.
pub fn in_child_process(module: &str, name: &str, body: impl FnOnce()) {
    const CHILD: &str = "JITEXPR_TEST_CHILD";
    if std::env::var_os(CHILD).is_some() {
        body();
        return;
    }
    // The test's full name in this binary: its module path without the crate.
    let full = match module.split_once("::") {
        Some((_, module)) => format!("{module}::{name}"),
        None => name.to_string(),
    };
    let out = std::process::Command::new(std::env::current_exe().expect("test binary path"))
        .args([full.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "`{name}` failed in a child process ({}):\n{stdout}\n{stderr}",
        out.status
    );
    eprint!("{stderr}");
}

/// The process's GPU, or `None` after printing a notice.
#[cfg(feature = "gpu")]
pub fn gpu_device() -> Option<&'static Gpu> {
    match device::gpu() {
        Ok(g) => Some(g),
        Err(e) => {
            assert!(
                std::env::var("JITEXPR_REQUIRE_GPU").as_deref() != Ok("1"),
                "JITEXPR_REQUIRE_GPU=1 but no GPU adapter: {e:?}"
            );
            eprintln!("notice: no GPU adapter; GPU tests skipped");
            None
        }
    }
}

/// Whether there is a GPU (see [`gpu_device`]).
#[cfg(feature = "gpu")]
pub fn gpu_available() -> bool {
    gpu_device().is_some()
}

/// Floats compared as reductions are: NaN equals NaN, ±0 are equal, and
/// sums may differ by the rounding of a different summation order.
pub fn close(got: &Array, want: &Array, rtol: f64) -> bool {
    got.dtype() == want.dtype()
        && got.shape() == want.shape()
        && got
            .to_scalars()
            .iter()
            .zip(want.to_scalars())
            .all(|(g, w)| {
                let (g, w) = (g.to_f64(), w.to_f64());
                (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= rtol * w.abs().max(1.0)
            })
}

/// Same dtype, shape and bits (NaN equals NaN, whatever its payload).
pub fn same_bits(x: &Array, y: &Array) -> bool {
    x.dtype() == y.dtype()
        && x.shape() == y.shape()
        && x.to_scalars().iter().zip(y.to_scalars()).all(|(p, q)| {
            p == &q
                || (x.dtype().is_float() && p.to_f64().is_nan() && q.to_f64().is_nan())
                || complex_same(*p, q)
        })
}

/// Complex values with the same bits in each part, NaNs of any payload equal.
fn complex_same(p: Scalar, q: Scalar) -> bool {
    let parts = |s: Scalar| match s {
        Scalar::Complex64(z) => Some((f64::from(z.re), f64::from(z.im))),
        Scalar::Complex128(z) => Some((z.re, z.im)),
        _ => None,
    };
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    match (parts(p), parts(q)) {
        (Some(a), Some(b)) => same(a.0, b.0) && same(a.1, b.1),
        _ => false,
    }
}

/// Distance in units in the last place between two floats of one format
/// (`f32_format`: both are float32 values), via their ordered bit patterns.
pub fn ulp_distance(a: f64, b: f64, f32_format: bool) -> u64 {
    let ordered = |x: f64| -> i128 {
        if f32_format {
            let bits = (x as f32).to_bits() as i32;
            i128::from(if bits < 0 { i32::MIN - bits } else { bits })
        } else {
            let bits = x.to_bits() as i64;
            i128::from(if bits < 0 { i64::MIN - bits } else { bits })
        }
    };
    (ordered(a) - ordered(b)).unsigned_abs() as u64
}

/// The signature the grammar and IR tests compile against: `a b c` float64,
/// `x y` float32, `i` int32, `j` int64, `m` bool.
pub fn sig() -> Signature {
    Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64)
        .with("c", DType::Float64)
        .with("x", DType::Float32)
        .with("y", DType::Float32)
        .with("i", DType::Int32)
        .with("j", DType::Int64)
        .with("m", DType::Bool)
}
