//! The JIT backend against the reference interpreter on what the small
//! random cases of `differential.rs` do not reach: every length around the
//! vector width, arrays large enough to run in parallel, strided and reversed
//! outputs, reductions across many blocks and thread counts, concurrent use
//! of one kernel, and the kernel cache.

use crate::common::{same_bits, ulp_distance};
use jitexpr::{Array, Backend, DType, Kernel, Math, Options, Signature, Tiering, Vars};
use ndarray::{Array1, Array2, ArrayD, ShapeBuilder, s};

fn interp(expr: &str, vars: &Vars<'_>) -> Array {
    jitexpr::evaluate_with(expr, vars, Options::with_backend(Backend::Interpreter)).unwrap()
}

/// The JIT with reference math: bit for bit equal to the interpreter.
fn jit(expr: &str, vars: &Vars<'_>) -> Array {
    every_tier(expr, vars, Math::Reference)
}

/// The JIT with the default (fast, vectorized) math.
fn jit_fast(expr: &str, vars: &Vars<'_>) -> Array {
    every_tier(expr, vars, Math::Fast)
}

/// The JIT's result at each tier, which must be the same bits.
fn every_tier(expr: &str, vars: &Vars<'_>, math: Math) -> Array {
    let run = |tiering: Tiering| {
        let options = Options::with_backend(Backend::Jit)
            .with_math(math)
            .with_tiering(tiering);
        jitexpr::evaluate_with(expr, vars, options).unwrap()
    };
    let first = run(Tiering::Interpreted);
    for tiering in [Tiering::Baseline, Tiering::Optimized] {
        assert!(
            same_bits(&run(tiering), &first),
            "{expr} ({math:?}): {tiering:?} differs from the interpreted tier"
        );
    }
    first
}

/// Equal within `ulps` units in the last place (NaN equals NaN; ±0 equal).
fn close_ulps(x: &Array, y: &Array, ulps: u64) -> Result<(), String> {
    if x.dtype() != y.dtype() || x.shape() != y.shape() {
        return Err(format!(
            "{:?}{:?} vs {:?}{:?}",
            x.dtype(),
            x.shape(),
            y.dtype(),
            y.shape()
        ));
    }
    let f32_format = x.dtype() == DType::Float32;
    for (k, (p, q)) in x.to_scalars().iter().zip(y.to_scalars()).enumerate() {
        let (p, q) = (p.to_f64(), q.to_f64());
        if p == q || (p.is_nan() && q.is_nan()) {
            continue;
        }
        let d = ulp_distance(p, q, f32_format);
        if d > ulps {
            return Err(format!("element {k}: {p:e} vs {q:e} ({d} ulps)"));
        }
    }
    Ok(())
}

/// Values with every special case, repeated to any length.
fn specials(n: usize) -> Array1<f64> {
    let pool = [
        0.0,
        -0.0,
        1.5,
        -2.25,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e-310,
        3.0,
        0.5,
        1e300,
        -7.0,
        0.1,
    ];
    Array1::from_shape_fn(n, |i| pool[(i * 7 + i / 13) % pool.len()])
}

const FLOAT_EXPRS: &[&str] = &[
    "a*b+c",
    "where(a > b, a, -b)",
    "maximum(a, b) - minimum(b, c)",
    "sqrt(abs(a)) / (b + 1)",
    "(a > 0.5) & ~(b < c) | isnan(a)",
    "copysign(a, b) * sign(c) + floor(a) - rint(b)",
    "sin(a) + cos(b) * exp(c)",
    "float64(a > b) + 2",
    "arctan2(a, b) + a**c",
    "isinf(a) ^ signbit(b)",
];

#[test]
fn every_length_around_the_vector_width() {
    for n in 0..40 {
        let (a, b, c) = (
            specials(n),
            specials(n + 3).slice_move(s![3..]),
            specials(n + 5).slice_move(s![5..]),
        );
        let vars = Vars::new().with("a", &a).with("b", &b).with("c", &c);
        for e in FLOAT_EXPRS {
            assert!(same_bits(&jit(e, &vars), &interp(e, &vars)), "{e} at n={n}");
        }
        let (x, y) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
        let vars = Vars::new().with("a", &x).with("b", &y).with("c", &y);
        for e in FLOAT_EXPRS {
            assert!(
                same_bits(&jit(e, &vars), &interp(e, &vars)),
                "f32 {e} at n={n}"
            );
        }
    }
}

#[test]
fn large_parallel_strided_and_broadcast() {
    let n = 300_003;
    let a = specials(2 * n);
    let strided = a.slice(s![..;2]);
    let reversed = a.slice(s![..n;-1]);
    let m = Array2::from_shape_fn((300, 1001), |(i, j)| (i as f64) - (j as f64) * 0.5);
    let row = Array1::from_shape_fn(1001, |j| j as f64);
    let col = Array2::from_shape_fn((300, 1), |(i, _)| i as f64);
    let vars = Vars::new()
        .with("a", &strided)
        .with("b", &reversed)
        .with("m", &m)
        .with("row", &row)
        .with("col", &col);
    for e in [
        "a * b - 1",
        "where(a < b, sin(a), b)",
        "m * row + col",
        "m / sum(m, axis=1)",
        "m - mean(m, axis=0)",
    ] {
        assert!(same_bits(&jit(e, &vars), &interp(e, &vars)), "{e}");
    }
}

/// The integer SIMD loop (I8X16, I16X8, I32X4, I64X2: two vectors an
/// iteration, the scalar loop for the rest) at every length around its
/// width, with uniform (0-d) and broadcast operands, against the
/// interpreter: wrapping arithmetic (32- and 64-bit values spread over
/// their whole range, so products overflow), signed and unsigned
/// comparisons, maximum/minimum, where; and stages it does not take (`//`,
/// shifts, byte products) next to it.
#[test]
fn integer_simd_at_every_length_around_its_width() {
    let exprs = [
        "a + b - 7",
        "a * b + a",
        "where(a > b, a - b, b & a)",
        "maximum(a, b) ^ minimum(a, k)",
        "where((a <= b) | (a == 3), -a, ~b)",
        "abs(a) + (a != b)",
        "a // (b | 1)",
        "a << 1",
    ];
    let dtypes = [
        DType::Int8,
        DType::UInt8,
        DType::Int16,
        DType::UInt16,
        DType::Int32,
        DType::UInt32,
        DType::Int64,
        DType::UInt64,
    ];
    for dtype in dtypes {
        // Narrow values wrap into 8 and 16 bits as they are; wide ones are
        // spread over 64 bits (and wrap into 32), with the extremes in front.
        let spread: i64 = if dtype.size() >= 4 {
            0x0001_0003_0007_000B
        } else {
            1
        };
        for n in (0..70).chain([255, 256, 257, 1023, 1024, 1025]) {
            let make = |seed: i64| {
                let v: Vec<jitexpr::Scalar> = (0..n as i64)
                    .map(|k| match (k + seed) % 5 {
                        0 if dtype.size() >= 4 => i64::MIN >> (64 - 8 * dtype.size() as u32),
                        1 if dtype.size() >= 4 => -1,
                        _ => ((k * 37 + seed * 101) % 65_537 - 32_768).wrapping_mul(spread),
                    })
                    .map(jitexpr::Scalar::Int64)
                    .collect();
                Array::from_scalars(dtype, &[n], &v).unwrap()
            };
            let (a, b) = (make(1), make(2));
            let k = Array::from_scalars(dtype, &[], &[jitexpr::Scalar::Int64(-5)]).unwrap();
            let vars = Vars::new()
                .with("a", a.view())
                .with("b", b.view())
                .with("k", k.view());
            for e in exprs {
                let want = interp(e, &vars);
                assert!(same_bits(&jit(e, &vars), &want), "{dtype} {e} at n={n}");
            }
        }
    }
}

/// A view of every other element and one of the first `n` reversed.
fn strided_and_reversed<T: jitexpr::Element>(
    a: &ArrayD<T>,
    n: usize,
) -> (jitexpr::ArrayView<'_>, jitexpr::ArrayView<'_>) {
    (
        T::into_view(a.view().slice_move(s![..;2]).into_dyn()),
        T::into_view(a.view().slice_move(s![..n;-1]).into_dyn()),
    )
}

/// int8 … uint64 and float16 on every tier (compiled even at the interpreted
/// one) over large strided and reversed arrays, in parallel, and their
/// reductions over many blocks under 1, 2 and 3 threads: the interpreter's
/// bits (float16 held as bits, converted by the interpreter's own routines).
#[test]
fn narrow_unsigned_and_half_dtypes_on_large_arrays() {
    let n = 200_001;
    let base = specials(2 * n);
    let ints: Vec<i64> = (0..2 * n as i64)
        .map(|k| (k * 7919) % 70_001 - 35_000)
        .collect();
    let before = jitexpr::num_threads();
    let exprs = [
        "a * b - a",
        "where(a > b, a - b, b // (a + 1))",
        "maximum(a, b) + 3",
        "float16(a) * 2",
        "int8(a) ^ int8(b)",
        "sum(a)",
        "max(a) - min(b)",
        "mean(a)",
        "any(a > b)",
    ];
    for dtype in [
        DType::Int8,
        DType::Int16,
        DType::UInt8,
        DType::UInt16,
        DType::UInt32,
        DType::UInt64,
        DType::Float16,
    ] {
        let values: Vec<jitexpr::Scalar> = match dtype {
            DType::Float16 => base.iter().map(|&v| jitexpr::Scalar::Float64(v)).collect(),
            _ => ints.iter().map(|&v| jitexpr::Scalar::Int64(v)).collect(),
        };
        let whole = Array::from_scalars(dtype, &[2 * n], &values).unwrap();
        let (a, b) = match &whole {
            Array::Int8(x) => strided_and_reversed(x, n),
            Array::Int16(x) => strided_and_reversed(x, n),
            Array::UInt8(x) => strided_and_reversed(x, n),
            Array::UInt16(x) => strided_and_reversed(x, n),
            Array::UInt32(x) => strided_and_reversed(x, n),
            Array::UInt64(x) => strided_and_reversed(x, n),
            Array::Float16(x) => strided_and_reversed(x, n),
            _ => unreachable!(),
        };
        let vars = Vars::new().with("a", a).with("b", b);
        for e in exprs {
            let want =
                jitexpr::evaluate_with(e, &vars, Options::with_backend(Backend::Interpreter));
            let Ok(want) = want else {
                let got = jitexpr::evaluate_with(e, &vars, Options::with_backend(Backend::Jit));
                assert!(got.is_err(), "{dtype} {e}: only the JIT computes it");
                continue;
            };
            for threads in [1, 2, 3] {
                jitexpr::set_num_threads(threads);
                let got = jit(e, &vars);
                assert!(same_bits(&got, &want), "{dtype} {e} ({threads} threads)");
            }
        }
    }
    jitexpr::set_num_threads(before);
}

#[test]
fn reductions_over_many_blocks_do_not_depend_on_threads() {
    let a = specials(100_000).mapv(|v| {
        if v.is_finite() {
            v.clamp(-1e3, 1e3)
        } else {
            0.5
        }
    });
    let i = Array1::from_shape_fn(100_000, |k| (k as i32 % 2001) - 1000);
    let vars = Vars::new().with("a", &a).with("i", &i);
    let exprs = [
        "sum(a*a)",
        "mean(a)",
        "prod(a / 1000 + 1)",
        "min(a)",
        "max(a)",
        "any(a > 999)",
        "all(a > -2000)",
        "sum(i)",
        "prod(i % 3 + 1)",
        "max(i) - min(i)",
        "sum(a) - mean(i)",
    ];
    let before = jitexpr::num_threads();
    let mut results = Vec::new();
    for threads in [1, 2, 3] {
        jitexpr::set_num_threads(threads);
        results.push(exprs.map(|e| jit(e, &vars)));
    }
    jitexpr::set_num_threads(before);
    for (k, e) in exprs.iter().enumerate() {
        let want = interp(e, &vars);
        for r in &results {
            assert!(same_bits(&r[k], &want), "{e}: {:?} vs {:?}", r[k], want);
        }
    }
}

/// Full float sums of plain vector stages run as leaf-sum kernels (the
/// values summed in registers as they are computed): the same bits as the
/// interpreter at every length around the leaves of the pairwise split and
/// the blocks, in both float widths, with NaN, ±inf, ±0 and subnormals, a
/// uniform (0-d) leaf, and operands the leaf sums cannot take (strided,
/// broadcast along another axis), which fill buffers as before.
/// Square roots and divisions (`Impl::Wide`) run as AOT block routines at
/// the CPU's full vector width under fast math: exact, so the same bits as
/// the interpreter, at lengths around the vector width and the 256-element
/// blocks, in both float widths, with every special value, uniform (0-d)
/// and strided operands, and the root or an inner node as the routine.
#[test]
fn square_roots_and_divisions_at_full_width_equal_the_interpreter() {
    let exprs = [
        "a / b",
        "sqrt(a)",
        "sqrt(a*a + b*b)",
        "a / sqrt(c) - b / 3",
        "where(a > b, a / b, sqrt(c)) + 1",
        "a / s + sqrt(s * b)",
        "(a > 0) & (sqrt(b) < c / a)",
    ];
    let lengths = (0..40).chain([255, 256, 257, 511, 513, 1000, 4099]);
    for n in lengths {
        let (a, b) = (specials(n), specials(n + 3).slice_move(s![3..]));
        let wide = specials(2 * n + 10);
        let c = wide.slice(s![10..;2]);
        let s0 = ndarray::arr0(-2.5);
        let vars = Vars::new()
            .with("a", &a)
            .with("b", &b)
            .with("c", &c)
            .with("s", &s0);
        for e in exprs {
            let (got, want) = (jit_fast(e, &vars), interp(e, &vars));
            assert!(same_bits(&got, &want), "{e} at n={n}");
        }
        let (x, y, z) = (
            a.mapv(|v| v as f32),
            b.mapv(|v| v as f32),
            c.mapv(|v| v as f32),
        );
        let s1 = ndarray::arr0(-2.5f32);
        let vars = Vars::new()
            .with("a", &x)
            .with("b", &y)
            .with("c", &z)
            .with("s", &s1);
        for e in exprs {
            let (got, want) = (jit_fast(e, &vars), interp(e, &vars));
            assert!(same_bits(&got, &want), "f32 {e} at n={n}");
        }
    }
}

#[test]
fn full_sums_in_registers_equal_the_interpreter() {
    let s = ndarray::arr0(0.75);
    let s32 = ndarray::arr0(0.75f32);
    for n in [
        1, 7, 8, 9, 128, 129, 130, 131, 137, 200, 255, 256, 257, 1000, 1025, 4097, 8191, 8192,
        8193, 8200, 20_011, 100_003,
    ] {
        let a = specials(n + 7).slice(s![7..]).to_owned();
        let b = specials(n).mapv(|v| if v.is_nan() { 2.0 } else { -v * 0.5 });
        let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
        let wide = specials(2 * n);
        let strided = wide.slice(s![..;2]);
        let m = Array2::from_shape_fn((2, n), |(i, j)| a[j] + i as f64);
        let col = Array2::from_shape_fn((2, 1), |(i, _)| i as f64 - 0.5);
        let vars = Vars::new()
            .with("a", &a)
            .with("b", &b)
            .with("a32", &a32)
            .with("b32", &b32)
            .with("s", &s)
            .with("s32", &s32)
            .with("t", &strided)
            .with("m", &m)
            .with("col", &col);
        for e in [
            "sum(a)",
            "sum(a*b)",
            "mean(a*b + 1)",
            "sum(a*s - b)",
            "sum(sqrt(a*a + b*b))",
            "sum(where(a > b, a, b))",
            "sum(a32)",
            "sum(a32*b32)",
            "mean(a32*s32 + b32)",
            "sum(t*a)",
            "sum(m*col)",
            "sum(a*b) - mean(a)",
        ] {
            let want = interp(e, &vars);
            let got = jit(e, &vars);
            assert!(same_bits(&got, &want), "{e} at n={n}: {got:?} vs {want:?}");
        }
    }
}

/// Finite values of many magnitudes and both signs: a sum of them depends
/// on the order of its additions (unlike one with a NaN or an infinity).
fn spread(n: usize, seed: u64) -> Array1<f64> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array1::from_shape_fn(n, |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let m = (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        m * 10f64.powi((x % 13) as i32 - 6)
    })
}

/// The wide loops (`backend::jit::wide`: 256/512-bit arithmetic and leaf
/// sums) give the interpreter's bits: every length around their step
/// (16 f64 or 32 f32 elements per iteration with AVX-512), uniform and
/// strided operands, every operation they emit, and sums whose order shows.
#[test]
fn wide_loops_equal_the_interpreter() {
    let exprs = [
        "a*b+c",
        "-a/b + abs(c) - 1/a",
        "sqrt(abs(a))*2.5 - c",
        "a*s + b/s",
        "(a - b)*(a + b) + c*c*c",
        "sum(a*b)",
        "sum(a)",
        "mean(a - b*c)",
        "sum(-a/b + sqrt(abs(c)))",
        "sum(a*s)",
        "sum(t*a)",
        // Masks (AVX-512): comparisons with NaN and infinities, bool results, where.
        "(p > 0.3) & (q < 0.7)",
        "~(p < q) | (p == c) ^ (q != c)",
        "(p >= q) | (p <= 0)",
        "where(p > q, p, q) * 2",
        "where((p != p) | (q < s), q, p - c)",
        "sum(where(a > b, a, b))",
        // NumPy's maximum/minimum: NaN in either operand wins, ties (±0)
        // give the second operand.
        "maximum(p, q) - minimum(q, p)",
        "maximum(p + b, 0) * minimum(c, 0.5)",
        "sum(maximum(p, q))",
    ];
    // Every remainder of the loops' step (16 f64, 32 f32), leaves of 128
    // (64 equal runs a block) and a second reduction block.
    let lengths = (0..40).chain([63, 64, 65, 127, 128, 129, 1023, 1025, 8193]);
    for n in lengths {
        let (a, b, c) = (spread(n, 1), spread(n, 2), spread(n, 3));
        let wide = spread(2 * n, 4);
        let t = wide.slice(s![..;2]);
        let s0 = ndarray::arr0(-1.25);
        // With NaN, infinities, zeros and equal pairs.
        let p = Array1::from_shape_fn(n, |i| if i % 5 == 1 { specials(i + 1)[i] } else { a[i] });
        let q = Array1::from_shape_fn(n, |i| {
            if i % 7 == 2 {
                p[i]
            } else {
                specials(n)[(i * 3) % n]
            }
        });
        let vars = Vars::new()
            .with("a", &a)
            .with("b", &b)
            .with("c", &c)
            .with("p", &p)
            .with("q", &q)
            .with("s", &s0)
            .with("t", &t);
        for e in exprs {
            let (got, want) = (jit_fast(e, &vars), interp(e, &vars));
            assert!(same_bits(&got, &want), "{e} at n={n}: {got:?} vs {want:?}");
        }
        let (x, y, z) = (
            a.mapv(|v| v as f32),
            b.mapv(|v| v as f32),
            c.mapv(|v| v as f32),
        );
        let t32 = t.mapv(|v| v as f32);
        let (p32, q32) = (p.mapv(|v| v as f32), q.mapv(|v| v as f32));
        let s1 = ndarray::arr0(-1.25f32);
        let vars = Vars::new()
            .with("a", &x)
            .with("b", &y)
            .with("c", &z)
            .with("p", &p32)
            .with("q", &q32)
            .with("s", &s1)
            .with("t", &t32);
        for e in exprs {
            let (got, want) = (jit_fast(e, &vars), interp(e, &vars));
            assert!(
                same_bits(&got, &want),
                "f32 {e} at n={n}: {got:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn eval_into_strided_and_reversed_outputs() {
    let a = specials(1001);
    let vars = Vars::new().with("a", &a);
    for e in ["a * 2 + 1", "sin(a) + cos(a)", "a > 0.5"] {
        let want = interp(e, &vars);
        for tiering in [Tiering::Interpreted, Tiering::Baseline, Tiering::Optimized] {
            let options = Options::with_backend(Backend::Jit)
                .with_math(Math::Reference)
                .with_tiering(tiering);
            let sig = Signature::new().with("a", DType::Float64);
            let k = jitexpr::compile_with(e, &sig, options).unwrap();
            let mut wide = Array1::<f64>::zeros(2002);
            let mut back = Array1::<f64>::zeros(1001);
            if want.dtype() == DType::Bool {
                let mut wide = Array1::from_elem(2002, true);
                k.eval_into(&vars, &mut wide.slice_mut(s![..;2])).unwrap();
                let got = Array::Bool(wide.slice(s![..;2]).to_owned().into_dyn());
                assert!(same_bits(&got, &want), "{e} {tiering:?}");
                assert!(wide.slice(s![1..;2]).iter().all(|&x| x), "{e} {tiering:?}");
                continue;
            }
            k.eval_into(&vars, &mut wide.slice_mut(s![..;2])).unwrap();
            let got: ArrayD<f64> = wide.slice(s![..;2]).to_owned().into_dyn();
            assert!(same_bits(&Array::Float64(got), &want), "{e} {tiering:?}");
            // The elements in between are not written.
            assert!(wide.slice(s![1..;2]).iter().all(|&x| x == 0.0));
            k.eval_into(&vars, &mut back.slice_mut(s![..;-1])).unwrap();
            let got: ArrayD<f64> = back.slice(s![..;-1]).to_owned().into_dyn();
            assert!(same_bits(&Array::Float64(got), &want), "{e} {tiering:?}");
        }
    }
}

#[test]
fn large_outputs_written_with_streaming_stores() {
    // Outputs of at least call::STREAM_BYTES (16 MiB) into a caller's
    // buffer are staged per piece and streamed: an odd length, and an output
    // starting 8 bytes into its buffer (so not 16-byte aligned), exercise
    // the unaligned head and the tail of the copy; the element before the
    // output must stay untouched.
    let n = (16 << 20) / 8 + 1001;
    let a = specials(n);
    let b = Array1::from_shape_fn(n, |i| i as f64 * 0.25);
    let vars = Vars::new().with("a", &a).with("b", &b);
    let sig = Signature::of(&vars);
    for e in ["a * b + 1", "where(a > b, a, -b)"] {
        let want = interp(e, &vars);
        for tiering in [Tiering::Interpreted, Tiering::Optimized] {
            let options = Options::with_backend(Backend::Jit)
                .with_math(Math::Reference)
                .with_tiering(tiering);
            let k = jitexpr::compile_with(e, &sig, options).unwrap();
            let mut buf = Array1::<f64>::from_elem(n + 1, 7.0);
            k.eval_into(&vars, &mut buf.slice_mut(s![1..])).unwrap();
            assert_eq!(buf[0].to_bits(), 7.0f64.to_bits(), "{e} {tiering:?}");
            let got = Array::Float64(buf.slice(s![1..]).to_owned().into_dyn());
            assert!(same_bits(&got, &want), "{e} {tiering:?}");
            assert!(same_bits(&k.eval(&vars).unwrap(), &want), "{e} {tiering:?}");
        }
    }
}

#[test]
fn one_kernel_from_many_threads() {
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64);
    let k: Kernel = jitexpr::compile("sin(a) * b + sum(a)", &sig).unwrap();
    let a = specials(50_000).mapv(|v| if v.is_finite() { v } else { 1.0 });
    let b = Array1::from_shape_fn(50_000, |i| i as f64);
    let want = interp(
        "sin(a) * b + sum(a)",
        &Vars::new().with("a", &a).with("b", &b),
    );
    std::thread::scope(|scope| {
        for _ in 0..6 {
            scope.spawn(|| {
                for _ in 0..5 {
                    let got = k.eval(&Vars::new().with("a", &a).with("b", &b)).unwrap();
                    assert!(same_bits(&got, &want));
                }
            });
        }
    });
}

#[test]
fn kernels_are_send_sync_and_cached() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Kernel>();
    let sig = Signature::new().with("q", DType::Int32);
    let k1 = jitexpr::compile("q * 3 // 2", &sig).unwrap();
    let k2 = jitexpr::compile("q * 3 // 2", &sig).unwrap();
    assert!(
        std::ptr::eq(k1.compiled(), k2.compiled()),
        "second compile must hit the cache"
    );
    let other = jitexpr::compile("q * 3 // 2", &Signature::new().with("q", DType::Int64)).unwrap();
    assert!(!std::ptr::eq(k1.compiled(), other.compiled()));
}

#[test]
fn broadcast_scalars_and_columns_in_the_vector_loop() {
    let a = specials(1003);
    let k = ndarray::arr0(2.5);
    let m = Array2::from_shape_fn((7, 37), |(i, j)| (i * 37 + j) as f64 - 100.0);
    let col = Array2::from_shape_fn((7, 1), |(i, _)| i as f64 - 3.0);
    let vars = Vars::new()
        .with("a", &a)
        .with("k", &k)
        .with("m", &m)
        .with("col", &col);
    for e in [
        "a * k + 1",
        "where(a > k, k, a)",
        "m / col",
        "m - max(m, axis=1)",
        "col * m + k",
        // Boolean results: lane masks stored as bytes, broadcast leaves.
        "a > k",
        "(m < col) ^ (m > k)",
        "where(m > col, k, m) >= k",
    ] {
        assert!(same_bits(&jit(e, &vars), &interp(e, &vars)), "{e}");
    }
}

#[test]
fn lengths_around_block_and_chunk_boundaries() {
    for n in [
        8191, 8192, 8193, 16383, 16384, 16385, 65535, 65536, 65537, 131073,
    ] {
        let a = specials(n).mapv(|v| {
            if v.is_finite() {
                v.clamp(-1e6, 1e6)
            } else {
                -0.5
            }
        });
        let m = Array2::from_shape_fn((3, n / 3), |(i, j)| a[i * (n / 3) + j]);
        let vars = Vars::new().with("a", &a).with("m", &m);
        for e in [
            "sum(a)",
            "mean(a*a)",
            "min(a)",
            "max(a + 1)",
            "a*2 - 1",
            "sum(m, axis=1)",
            "m - mean(m, axis=0)",
        ] {
            assert!(same_bits(&jit(e, &vars), &interp(e, &vars)), "{e} at n={n}");
        }
    }
}

#[test]
fn fortran_inputs_give_a_fortran_result_computed_in_one_run() {
    let f = Array2::from_shape_fn((31, 17).f(), |(i, j)| (i as f64) * 0.5 - j as f64);
    let g = Array2::from_shape_fn((31, 17).f(), |(i, j)| (j as f64) + i as f64);
    let vars = Vars::new().with("f", &f).with("g", &g);
    let r = jit("f * g + 1", &vars);
    assert!(same_bits(&r, &interp("f * g + 1", &vars)));
    match &r {
        Array::Float64(a) => assert!(a.t().is_standard_layout(), "result is Fortran-ordered"),
        other => panic!("{other:?}"),
    }
    // Mixed layouts still agree.
    let c = Array2::from_shape_fn((31, 17), |(i, j)| (i * j) as f64);
    let vars = Vars::new().with("f", &f).with("c", &c);
    assert!(same_bits(&jit("f - c", &vars), &interp("f - c", &vars)));
}

#[test]
fn fast_math_is_within_its_ulp_bound_of_the_reference() {
    // One function at a time (no cancellation), over specials and a sweep.
    let n = 4099;
    let sweep = Array1::from_shape_fn(n, |i| {
        let t = i as f64 / n as f64;
        match i % 4 {
            0 => (t - 0.5) * 40.0,
            1 => (t * 600.0 - 300.0).exp2(),
            2 => -(t * 60.0 - 30.0).exp2(),
            _ => specials(13)[i % 13],
        }
    });
    let half = sweep.mapv(|v| v * 0.5 + 0.25);
    let x32 = sweep.mapv(|v| v as f32);
    let h32 = half.mapv(|v| v as f32);
    let functions = [
        "sin(a)",
        "cos(a)",
        "tan(a)",
        "exp(a)",
        "expm1(a)",
        "exp2(a)",
        "log(a)",
        "log1p(a)",
        "log2(a)",
        "log10(a)",
        "arcsin(a)",
        "arccos(a)",
        "arctan(a)",
        "sinh(a)",
        "cosh(a)",
        "tanh(a)",
        "cbrt(a)",
        "arctan2(a, b)",
        "hypot(a, b)",
        "a ** b",
    ];
    let mut failures = Vec::new();
    for (vars, what) in [
        (Vars::new().with("a", &sweep).with("b", &half), "f64"),
        (Vars::new().with("a", &x32).with("b", &h32), "f32"),
    ] {
        for f in functions {
            if let Err(e) = close_ulps(&jit_fast(f, &vars), &jit(f, &vars), 4) {
                failures.push(format!("{f} {what}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Stages whose math runs as AOT routines on blocks (`backend::jit::aot`):
/// several routines per stage, nested routines, a routine at the root, a
/// boolean root, shared operands, broadcast (0-d) operands, in f64 and f32,
/// at lengths around the vector width and the 256-element block, and large
/// enough to run in parallel; against the JIT with reference math. Single
/// functions within their ULP bound; compound expressions (where a 1-ulp
/// difference of an operand is amplified by cancellation) within a small
/// absolute-or-relative error; NaN, ±inf exactly where the reference has them.
#[test]
fn math_on_blocks_matches_the_reference() {
    // (expression, ULP bound, or None: compound, compared with `close_abs`)
    let exprs = [
        ("exp(a)", Some(4)),
        ("log(b+1)", Some(4)),
        ("tanh(a)", Some(4)),
        ("arctan2(a,b)", Some(4)),
        ("where(sin(a) > 0, exp(b), log(b))", Some(4)),
        ("sin(a) > 0.5", Some(0)),
        ("sin(a)+cos(a)", None),
        ("sin(a)**2+cos(b)**2", None),
        ("sin(exp(a)) * cos(b)", None),
        ("arctan2(sin(a), cos(b)) + tanh(k)", None),
        ("exp(k) + log1p(b) * expm1(a)", None),
        ("sinh(a) - cosh(b) + arctan(a*k)", None),
        ("exp(a) + a**0.5", None),
    ];
    let mut failures = Vec::new();
    for n in [0, 1, 2, 3, 5, 8, 255, 256, 257, 511, 512, 513, 1029, 70_001] {
        let a = Array1::from_shape_fn(n, |i| {
            if i % 37 == 5 {
                specials(13)[i % 13]
            } else {
                ((i as f64) * 0.618_034).fract() * 6.0 - 3.0
            }
        });
        let b = Array1::from_shape_fn(n, |i| ((i as f64) * 0.414_214).fract() * 2.0 + 0.1);
        let k = ndarray::arr0(0.75);
        let (a32, b32, k32) = (
            a.mapv(|v| v as f32),
            b.mapv(|v| v as f32),
            k.mapv(|v| v as f32),
        );
        for (vars, what) in [
            (Vars::new().with("a", &a).with("b", &b).with("k", &k), "f64"),
            (
                Vars::new().with("a", &a32).with("b", &b32).with("k", &k32),
                "f32",
            ),
        ] {
            for (e, ulps) in exprs {
                let (got, want) = (jit_fast(e, &vars), jit(e, &vars));
                let tol = if what == "f32" { 1e-5 } else { 1e-12 };
                let checked = match ulps {
                    Some(u) => close_ulps(&got, &want, u),
                    None => close_abs(&got, &want, tol),
                };
                if let Err(msg) = checked {
                    failures.push(format!("{e} {what} n={n}: {msg}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Equal, both NaN, or finite and within `tol * max(1, |want|)`.
fn close_abs(got: &Array, want: &Array, tol: f64) -> Result<(), String> {
    if got.dtype() != want.dtype() || got.shape() != want.shape() {
        return Err(format!("{:?} vs {:?}", got.dtype(), want.dtype()));
    }
    for (k, (p, q)) in got.to_scalars().iter().zip(want.to_scalars()).enumerate() {
        let (p, q) = (p.to_f64(), q.to_f64());
        let ok = p == q
            || (p.is_nan() && q.is_nan())
            || (p.is_finite() && q.is_finite() && (p - q).abs() <= tol * q.abs().max(1.0));
        if !ok {
            return Err(format!("element {k}: {p:e} vs {q:e}"));
        }
    }
    Ok(())
}

/// `sin(x)` and `cos(x)` of one operand run as one fused routine on blocks:
/// each result equals the lone `sin(x)` or `cos(x)` kernel's bit for bit
/// (specials, |x| > 1e5 lanes and block boundaries included).
#[test]
fn fused_sin_cos_equals_sin_and_cos_alone() {
    for n in [1, 7, 256, 257, 1029, 70_001] {
        let a = Array1::from_shape_fn(n, |i| match i % 41 {
            3 => specials(13)[i % 13],
            9 => 3e5 + i as f64,
            _ => ((i as f64) * 0.618_034).fract() * 20.0 - 10.0,
        });
        let a32 = a.mapv(|v| v as f32);
        for (vars, single) in [
            (Vars::new().with("a", &a), false),
            (Vars::new().with("a", &a32), true),
        ] {
            let f64s = |e: &str| match jit_fast(e, &vars) {
                Array::Float64(x) => x.iter().copied().collect::<Vec<f64>>(),
                Array::Float32(x) => x.iter().map(|&v| f64::from(v)).collect(),
                other => panic!("{e}: {:?}", other.dtype()),
            };
            let (s, c) = (f64s("sin(a)"), f64s("cos(a)"));
            let (fs, fc) = (f64s("sin(a) + cos(a)*0"), f64s("cos(a) + sin(a)*0"));
            let both = f64s("where(a > 0, sin(a), cos(a))");
            for i in 0..n {
                let x = if single { f64::from(a32[i]) } else { a[i] };
                if !x.is_finite() || x == 0.0 {
                    continue; // NaN*0 is NaN, and -0 + 0 is +0, whatever the fusion
                }
                assert_eq!(fs[i].to_bits(), s[i].to_bits(), "n={n} sin({x:e})");
                assert_eq!(fc[i].to_bits(), c[i].to_bits(), "n={n} cos({x:e})");
                let want = if x > 0.0 { s[i] } else { c[i] };
                assert_eq!(both[i].to_bits(), want.to_bits(), "n={n} where at {x:e}");
            }
        }
    }
}

#[test]
fn adaptive_tiering_recompiles_a_hot_kernel_to_the_same_bits() {
    // Names of this test only (p, q, r), so no other test's kernel in the
    // shared cache is hot already.
    let n = 1001;
    let (p, q, r) = (
        specials(n),
        specials(n + 3).slice_move(s![3..]),
        specials(n + 5).slice_move(s![5..]),
    );
    let vars = Vars::new().with("p", &p).with("q", &q).with("r", &r);
    let sig = Signature::of(&vars);
    for e in [
        "p*q+r",
        "where(p > q, p, -q)",
        "(p > 0.5) & ~(q < r) | isnan(p)",
        "copysign(p, q) * sign(r) + floor(p) - rint(q)",
        "sin(p) + cos(q) * exp(r)",
        "arctan2(p, q) + p**r",
        "sum(p*q) + r",
        "sin(p) * cos(p) + q",
    ] {
        for math in [Math::Reference, Math::Fast] {
            let options = Options::with_backend(Backend::Jit).with_math(math);
            let k = jitexpr::compile_with(e, &sig, options).unwrap();
            // Interpreted first, unless the kernel runs Cranelift's vector
            // math (`pow` has no AOT routine, and without AOT routines --
            // JITEXPR_NO_AOT=1 or no AVX2 -- none has): then compiled at baseline.
            let vector_math = ["sin", "cos", "exp", "arctan2", "**"]
                .iter()
                .any(|f| e.contains(f));
            let compiled_first = math == Math::Fast
                && vector_math
                && (e.contains("**") || !jitexpr::internals::backend::jit::aot::available());
            let start = if compiled_first {
                jitexpr::Tier::Baseline
            } else {
                jitexpr::Tier::Interpreted
            };
            assert_eq!(k.jit_tier(), Some(start), "{e} ({math:?})");
            let first = k.eval(&vars).unwrap();
            let mut calls = 1;
            while k.jit_tier() == Some(start) {
                assert!(
                    calls <= jitexpr::internals::backend::jit::HOT_ELEMENTS / n + 1,
                    "{e}: never tiered up"
                );
                let again = k.eval(&vars).unwrap();
                assert!(
                    same_bits(&again, &first),
                    "{e} ({math:?}), first-tier call {calls}"
                );
                calls += 1;
            }
            assert_eq!(k.jit_tier(), Some(jitexpr::Tier::Optimized), "{e}");
            let optimized = k.eval(&vars).unwrap();
            assert!(
                same_bits(&optimized, &first),
                "{e} ({math:?}): tiers differ"
            );
            if math == Math::Reference {
                assert!(same_bits(&first, &interp(e, &vars)), "{e}");
            }
        }
    }
}

#[test]
fn math_blocks_read_broadcast_leaves_like_materialized_ones() {
    // Stages with AOT math on blocks: a broadcast (stride 0) operand of a
    // routine is read from a buffer filled with its value, a contiguous one
    // in place; either way the bits are those of the materialized array.
    let a = specials(1003).mapv(|v| if v.is_finite() { v } else { 0.5 });
    let (k, kk) = (ndarray::arr0(0.7), Array1::from_elem(1003, 0.7));
    for e in [
        "arctan2(a, k) + sin(k)",
        "sin(a) * cos(k)",
        "exp(k) + log1p(abs(a))",
        "arctan2(k, a)",
        "sin(k) + cos(k) + a",
    ] {
        let got = jit_fast(e, &Vars::new().with("a", &a).with("k", &k));
        let want = jit_fast(e, &Vars::new().with("a", &a).with("k", &kk));
        assert!(same_bits(&got, &want), "{e}");
    }
}

/// Small calls of one stage whose inputs all have the output's shape skip
/// the general binding (`exec::compiled::SmallCall`); the calls next to that
/// case (a broadcast input, 2-d and Fortran-ordered arrays, two stages, a
/// strided output) take the general path. All give the interpreter's bits,
/// and the general path's errors are still reported.
#[test]
fn small_calls_and_their_neighbours_give_the_same_results() {
    let n = 777;
    let a = specials(n);
    let b = Array1::from_shape_fn(n, |i| i as f64 * 0.25 - 9.0);
    let k = ndarray::arr0(1.5);
    let m = Array2::from_shape_fn((3, 259), |(i, j)| (i * 259 + j) as f64 * 0.5 - 100.0);
    let mf = Array2::from_shape_fn((3, 259).f(), |(i, j)| (i + j) as f64 * 0.125);
    let rev = b.slice(s![..;-1]);
    let ints = Array1::from_shape_fn(n, |i| i as i64 - 300);
    let vars = Vars::new()
        .with("a", &a)
        .with("b", &b)
        .with("k", &k)
        .with("m", &m)
        .with("mf", &mf)
        .with("rev", &rev)
        .with("ints", &ints);
    for e in [
        "a*b+a",
        "rev*a - b",
        "ints*a + 1",
        "where(a > b, a, b) - 1",
        "a > b",
        "a*k + b",
        "m*m + 1",
        "mf*2 - m",
        "sum(a) + b",
        "k*2",
    ] {
        let want = interp(e, &vars);
        let got = jit(e, &vars);
        assert!(same_bits(&got, &want), "{e}");
        let kernel = jitexpr::compile(e, &Signature::of(&vars)).unwrap();
        let mut out = want.clone();
        match &mut out {
            Array::Float64(x) => x.fill(f64::NAN),
            Array::Bool(x) => x.fill(false),
            other => panic!("{e}: {:?}", other.dtype()),
        }
        kernel.eval_into(&vars, &mut out).unwrap();
        assert!(same_bits(&out, &want), "{e}: eval_into");
    }
    // A strided output of the inputs' shape (the general path's strided run).
    let kernel = jitexpr::compile("a*b+a", &Signature::of(&vars)).unwrap();
    let mut wide = Array1::<f64>::zeros(2 * n);
    kernel
        .eval_into(&vars, &mut wide.slice_mut(s![..;2]))
        .unwrap();
    let want = interp("a*b+a", &vars);
    let strided = Array::Float64(wide.slice(s![..;2]).to_owned().into_dyn());
    assert!(same_bits(&strided, &want));

    // What does not fit is left to the general path, which reports it.
    let err = |r: Result<(), jitexpr::Error>| r.unwrap_err().kind();
    let mut f32_out = Array1::<f32>::zeros(n);
    assert_eq!(
        err(kernel.eval_into(&vars, &mut f32_out)),
        jitexpr::ErrorKind::Type
    );
    let mut short = Array1::<f64>::zeros(n - 1);
    assert_eq!(
        err(kernel.eval_into(&vars, &mut short)),
        jitexpr::ErrorKind::Shape
    );
    let mut out = Array1::<f64>::zeros(n);
    let only_a = Vars::new().with("a", &a);
    assert_eq!(
        err(kernel.eval_into(&only_a, &mut out)),
        jitexpr::ErrorKind::Name
    );
    let b32 = b.mapv(|v| v as f32);
    let wrong = Vars::new().with("a", &a).with("b", &b32);
    assert_eq!(
        err(kernel.eval_into(&wrong, &mut out)),
        jitexpr::ErrorKind::Type
    );
    let b_short = b.slice(s![..n - 1]).to_owned();
    let mismatched = Vars::new().with("a", &a).with("b", &b_short);
    assert_eq!(
        err(kernel.eval_into(&mismatched, &mut out)),
        jitexpr::ErrorKind::Shape
    );
    assert_eq!(
        kernel.eval(&mismatched).unwrap_err().kind(),
        jitexpr::ErrorKind::Shape
    );
}

/// Small full reductions (`run::small_reduction`: no binding, no second
/// stage) give the interpreter's bits and dtype, allocating and into a 0-d
/// output, for every reduction, float and integer inputs, NaN and ±0,
/// 2-d inputs and lengths around the loops' steps; an empty or mismatched
/// call still reports what the general path reports.
#[test]
fn small_full_reductions_equal_the_interpreter() {
    let exprs = [
        "sum(a*b)",
        "mean(a - b)",
        "max(a)",
        "min(a*b)",
        "prod(b)",
        "any(a > b)",
        "all(a == a)",
        "sum(i*j)",
        "mean(i)",
        "max(i - j)",
    ];
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64)
        .with("i", DType::Int32)
        .with("j", DType::Int32);
    let kernels: Vec<Kernel> = exprs
        .iter()
        .map(|e| jitexpr::compile(e, &sig).unwrap())
        .collect();
    for n in [1, 2, 7, 16, 33, 100, 1000] {
        let a = Array1::from_shape_fn(n, |k| {
            if k % 9 == 4 {
                f64::NAN
            } else {
                (k as f64 * 0.37).sin()
            }
        });
        let b = Array1::from_shape_fn(n, |k| {
            if k % 5 == 0 {
                -0.0
            } else {
                1.0 + k as f64 * 1e-3
            }
        });
        let i = Array1::from_shape_fn(n, |k| k as i32 - 7);
        let j = Array1::from_shape_fn(n, |k| (k % 13) as i32);
        let vars = Vars::new()
            .with("a", &a)
            .with("b", &b)
            .with("i", &i)
            .with("j", &j);
        for (e, k) in exprs.iter().zip(&kernels) {
            let (got, want) = (jit_fast(e, &vars), interp(e, &vars));
            assert_eq!(got.dtype(), want.dtype(), "{e} at n={n}");
            assert!(same_bits(&got, &want), "{e} at n={n}: {got:?} vs {want:?}");
            // A 0-d output holding another value than the answer.
            let mut out = match want.dtype() {
                DType::Float64 => Array::Float64(ndarray::arr0(-7.5).into_dyn()),
                DType::Int64 => Array::Int64(ndarray::arr0(-7).into_dyn()),
                DType::Int32 => Array::Int32(ndarray::arr0(-7).into_dyn()),
                DType::Bool => match &want {
                    Array::Bool(v) => Array::Bool(v.mapv(|x| !x)),
                    _ => unreachable!(),
                },
                other => panic!("{e}: unexpected dtype {other}"),
            };
            k.eval_into(&vars, &mut out).unwrap();
            assert!(
                same_bits(&out, &want),
                "{e} into 0-d at n={n}: {out:?} vs {want:?}"
            );
        }
    }
    // A 2-d stage of one shape.
    let m = Array2::from_shape_fn((3, 5), |(r, c)| r as f64 - c as f64 * 0.5);
    let vars = Vars::new().with("m", &m);
    for e in ["sum(m*m)", "max(m)", "mean(m)"] {
        assert!(same_bits(&jit_fast(e, &vars), &interp(e, &vars)), "{e} 2-d");
    }
    // Empty: the general path's error (max of nothing) and value (sum 0).
    let empty = Array1::<f64>::zeros(0);
    let vars = Vars::new().with("a", &empty);
    assert!(jitexpr::evaluate("max(a)", &vars).is_err());
    assert!(same_bits(
        &jit_fast("sum(a)", &vars),
        &interp("sum(a)", &vars)
    ));
    // Operands of different shapes broadcast on the general path.
    let (x, y) = (Array1::from_elem(4, 2.0), ndarray::arr0(3.0));
    let vars = Vars::new().with("x", &x).with("y", &y);
    assert!(same_bits(
        &jit_fast("sum(x*y)", &vars),
        &interp("sum(x*y)", &vars)
    ));
}

/// Complex programs that compute much per element run in planar blocks
/// (`exec::planar`: the inputs deinterleaved block by block, the parts run
/// on contiguous planes). Each element gets the parts' own operations, so
/// the result is the strided path's bits: that of the same expression on
/// pieces below the planar threshold (4096 elements), on every length
/// around the block size (8192), with real and 0-d operands, complex64 and
/// complex128, NaN, infinities, signed zeros and subnormals, one and two
/// threads (the team takes tasks of 65,536 elements from 131,072 on),
/// allocating and into a caller's array.
/// A deterministic value for element `k` of input `salt`: about one in
/// `every` a special one (NaN, ±inf, ±0, the smallest subnormal, huge,
/// tiny), the others in [-4, 4).
fn mixed_value(k: usize, salt: usize, every: usize) -> f64 {
    const SPECIAL: [f64; 8] = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        5e-324,
        1e300,
        -1e-300,
    ];
    let h = (k * 2654435761 + salt * 40503) % 1000003;
    if h.is_multiple_of(every) {
        SPECIAL[h % SPECIAL.len()]
    } else {
        (h as f64 / 1000003.0 - 0.5) * 8.0
    }
}

#[test]
fn complex_planar_blocks_equal_the_strided_parts() {
    use jitexpr::{c32, c64};
    let value = |k: usize, salt: usize| mixed_value(k, salt, 97);
    let exprs = [
        "abs(z)",
        "abs(z - w)**2 + y",
        "z / w",
        "z / (y + 1j)",
        "angle(z) * s",
        "abs(q) + abs(z)",
    ];
    for n in [4096, 8191, 8192, 8193, 70_000, 140_001] {
        let z = Array1::from_shape_fn(n, |k| c64::new(value(k, 1), value(k, 2)));
        let w = Array1::from_shape_fn(n, |k| c64::new(value(k, 3), value(k, 4)));
        let q = Array1::from_shape_fn(n, |k| c32::new(value(k, 5) as f32, value(k, 6) as f32));
        let y = Array1::from_shape_fn(n, |k| value(k, 7));
        let s = ndarray::arr0(0.5f64);
        let vars = Vars::new()
            .with("z", &z)
            .with("w", &w)
            .with("q", &q)
            .with("y", &y)
            .with("s", &s);
        for expr in exprs {
            for threads in [1, 2] {
                let before = jitexpr::set_num_threads(threads);
                let options = Options::with_backend(Backend::Jit).with_math(Math::Reference);
                let whole = jitexpr::evaluate_with(expr, &vars, options).unwrap();
                // The same expression on pieces of 1000 (the strided path).
                let mut pieces = Vec::new();
                for start in (0..n).step_by(1000) {
                    let end = (start + 1000).min(n);
                    let (zs, ws) = (z.slice(s![start..end]), w.slice(s![start..end]));
                    let (qs, ys) = (q.slice(s![start..end]), y.slice(s![start..end]));
                    let part = Vars::new()
                        .with("z", &zs)
                        .with("w", &ws)
                        .with("q", &qs)
                        .with("y", &ys)
                        .with("s", &s);
                    pieces.extend(
                        jitexpr::evaluate_with(expr, &part, options)
                            .unwrap()
                            .to_scalars(),
                    );
                }
                let strided = Array::from_scalars(whole.dtype(), &[n], &pieces).unwrap();
                assert!(same_bits(&whole, &strided), "{expr} n={n} {threads}T");
                // Into a caller's array of the result's dtype.
                let kernel = jitexpr::compile_with(
                    expr,
                    &Signature::new()
                        .with("z", DType::Complex128)
                        .with("w", DType::Complex128)
                        .with("q", DType::Complex64)
                        .with("y", DType::Float64)
                        .with("s", DType::Float64),
                    options,
                )
                .unwrap();
                let mut into = whole.clone();
                match &mut into {
                    Array::Float64(o) => {
                        o.fill(7.0);
                        kernel.eval_into(&vars, o).unwrap();
                    }
                    Array::Complex128(o) => {
                        o.fill(c64::new(7.0, 7.0));
                        kernel.eval_into(&vars, o).unwrap();
                    }
                    other => panic!("{expr}: {:?}", other.dtype()),
                }
                assert!(same_bits(&into, &whole), "{expr} n={n} {threads}T into");
                jitexpr::set_num_threads(before);
            }
        }
    }
}

/// A complex result of elementwise arithmetic and complex functions other
/// than `exp` runs as one joint kernel computing both parts of each element
/// from the same loads (each complex function once, by its pair routine)
/// and storing them as pairs (`ir::split::joint`,
/// `jit::vector::complex_root`, `jit::runtime::pair_routine`): the interpreter's bits (NaNs of any
/// payload equal) on every tier and under either math, for lengths around
/// the vector width and the unroll, large ones on 1 and 2 threads,
/// complex64 and complex128, real and 0-d operands, a row broadcast down,
/// strided and reversed inputs, and into strided, reversed and Fortran-order
/// outputs.
#[test]
fn complex_joint_kernels_equal_the_interpreter() {
    use jitexpr::{c32, c64};
    let value = |k: usize, salt: usize| mixed_value(k, salt, 13);
    let exprs = [
        "z*w + v",
        "z / w",
        "conj(z)*w - 2*v + 1j",
        "z*y + s",
        "where(real(z) > imag(w), z, w*v)",
        "complex(y, 2*y) * z",
        "z*z*z - w",
        "q*q + q",
        "-z + imag(w)",
        // Complex functions: both parts from one call (a pair routine).
        "sqrt(z)",
        "log(z)*w + v",
        "tanh(q) - q",
        "arcsin(w) + sqrt(z)",
        "sin(z)*cos(z)",
        "expm1(z) - exp(w)",
        "complex(real(sqrt(z)), y)",
        // Real results of both parts of a complex function (one part
        // program, the function called once).
        "abs(sqrt(z))",
        "real(log(z)) * imag(log(z)) + y",
        "abs(tanh(q)) - real(q)",
    ];
    let z_of = |n: usize, salt: usize| {
        Array1::from_shape_fn(n, |k| c64::new(value(k, salt), value(k, salt + 1)))
    };
    for n in [0, 1, 2, 3, 5, 7, 8, 9, 16, 17, 1000, 100_003] {
        let z = z_of(n, 1);
        let w = z_of(n, 3);
        let v = z_of(n, 5);
        let q = Array1::from_shape_fn(n, |k| c32::new(value(k, 7) as f32, value(k, 8) as f32));
        let y = Array1::from_shape_fn(n, |k| value(k, 9));
        let s = ndarray::arr0(c64::new(0.5, -0.25));
        let vars = Vars::new()
            .with("z", &z)
            .with("w", &w)
            .with("v", &v)
            .with("q", &q)
            .with("y", &y)
            .with("s", &s);
        for expr in exprs {
            let want = interp(expr, &vars);
            let threads: &[usize] = if n > 50_000 { &[1, 2] } else { &[2] };
            for &t in threads {
                let before = jitexpr::set_num_threads(t);
                for got in [jit(expr, &vars), jit_fast(expr, &vars)] {
                    assert!(same_bits(&got, &want), "{expr} n={n} {t}T");
                }
                jitexpr::set_num_threads(before);
            }
        }
    }
    // Strided, reversed and broadcast inputs; strided, reversed and
    // Fortran-order outputs.
    let (rows, cols) = (37, 45);
    let big = Array2::from_shape_fn((rows, 2 * cols), |(i, j)| {
        c64::new(value(i * 97 + j, 11), value(i * 89 + j, 12))
    });
    let z = big.slice(s![.., ..;2]);
    let w = big.slice(s![..;-1, 1..;2]);
    let v = Array1::from_shape_fn(cols, |k| c64::new(value(k, 13), value(k, 14)));
    let vars = Vars::new().with("z", &z).with("w", &w).with("v", &v);
    let options = Options::with_backend(Backend::Jit).with_tiering(Tiering::Optimized);
    let sig = Signature::new()
        .with("z", DType::Complex128)
        .with("w", DType::Complex128)
        .with("v", DType::Complex128);
    for expr in ["z*w + v", "z / w - v", "conj(w)*z"] {
        let want = interp(expr, &vars);
        assert!(same_bits(&jit(expr, &vars), &want), "{expr} strided inputs");
        let kernel = jitexpr::compile_with(expr, &sig, options).unwrap();
        let mut wide = Array2::from_elem((rows, 3 * cols), c64::new(7.0, 7.0));
        let mut fortran = Array2::from_elem((rows, cols).f(), c64::new(7.0, 7.0));
        for k in 0..3 {
            let mut out = match k {
                0 => wide.slice_mut(s![.., ..;3]),
                1 => wide.slice_mut(s![..;-1, 1..;3]),
                _ => fortran.view_mut(),
            };
            out.fill(c64::new(7.0, 7.0));
            kernel.eval_into(&vars, &mut out).unwrap();
            // (A view's elements in its logical order, whatever its strides.)
            let got = Array::Complex128(out.to_owned().into_dyn());
            assert!(same_bits(&got, &want), "{expr} into {:?}", out.strides());
        }
    }
}

/// Full complex sums and means inside a larger expression (`z - mean(z)`),
/// which the split declines, are computed first and the rest split with
/// their values as inputs (`ir::split::staged`, `Prepared::Staged`): the
/// interpreter's bits (NaNs of any payload equal) for both complex dtypes,
/// special values, lengths 0 to past a reduction block, 1 and 2 threads,
/// and into a reversed output.
#[test]
fn complex_sums_inside_expressions_equal_the_interpreter() {
    use jitexpr::{c32, c64};
    let value = |k: usize, salt: usize| -> f64 {
        let h = (k * 2654435761 + salt * 40503) % 1000003;
        match h % 211 {
            0 => f64::NAN,
            1 => -0.0,
            2 => f64::INFINITY,
            _ => (h as f64 / 1000003.0 - 0.5) * 8.0,
        }
    };
    let exprs = [
        "z - mean(z)",
        "z / sum(z) + w",
        "abs(z - mean(z))**2",
        "sum(z*w) * w - mean(w)",
        "sqrt(z - mean(z))",
        "q - mean(q)",
    ];
    for n in [0, 1, 7, 1000, 100_003] {
        // Special values only past the first 1000 (a NaN in a sum makes it
        // NaN everywhere, which would hide the rest).
        let part = |k: usize, salt: usize| {
            if k < 1000 {
                (((k * 37 + salt) % 101) as f64 - 50.0) / 8.0
            } else {
                value(k, salt)
            }
        };
        let z = Array1::from_shape_fn(n, |k| c64::new(part(k, 1), part(k, 2)));
        let w = Array1::from_shape_fn(n, |k| c64::new(part(k, 3), part(k, 4)));
        let q = Array1::from_shape_fn(n, |k| c32::new(part(k, 5) as f32, part(k, 6) as f32));
        let vars = Vars::new().with("z", &z).with("w", &w).with("q", &q);
        for expr in exprs {
            let want = interp(expr, &vars);
            for t in [1, 2] {
                let before = jitexpr::set_num_threads(t);
                for got in [jit(expr, &vars), jit_fast(expr, &vars)] {
                    assert!(same_bits(&got, &want), "{expr} n={n} {t}T");
                }
                jitexpr::set_num_threads(before);
            }
        }
    }
    let z = Array1::from_shape_fn(999, |k| c64::new((k % 17) as f64, -((k % 5) as f64)));
    let vars = Vars::new().with("z", &z);
    let want = interp("z - mean(z)", &vars);
    let sig = Signature::new().with("z", DType::Complex128);
    let kernel = jitexpr::compile("z - mean(z)", &sig).unwrap();
    let mut out = Array1::from_elem(999, c64::new(f64::NAN, 1.0));
    out.invert_axis(ndarray::Axis(0));
    kernel.eval_into(&vars, &mut out).unwrap();
    assert!(
        same_bits(&Array::Complex128(out.into_dyn()), &want),
        "into reversed"
    );
}

/// Operands broadcast along their leading axes (`X - mu` with `mu` a row)
/// or their trailing ones (`x / sum(x, axis=1)`, a column) into a
/// C-contiguous result run in blocks of whole periods, each one kernel call
/// on contiguous copies (`call::run_periodic`), not a call per row, and
/// per-axis float sums, `min` and `max` reduce contiguous lanes in place
/// (`jit::reduce`), a computed operand's last axis chunk by chunk
/// (`run::last_axis_in_chunks`): on every tier the interpreter's bits, for rows of 1 to 9000
/// elements (a period past the block: the per-row path; lanes past
/// `min`/`max`'s 8192-value blocks), periods whose
/// common multiple is the block (2 and 3, 6 and 4), 3-d operands broadcast
/// on the first axis, length-1 axes, uniform and flat operands beside them,
/// float32, comparisons into bool, integers, results from one block to many
/// (the team's pieces), NaN and signed zeros in the rows, and into a
/// caller's array.
#[test]
fn operands_broadcast_down_the_rows_equal_the_interpreter() {
    let v = |shape: &[usize], salt: usize| {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|i| match (i * 7 + salt) % 53 {
                0 => f64::NAN,
                1 => -0.0,
                _ => ((i * 2654435761 + salt * 977) % 1000003) as f64 / 100000.0 - 5.0,
            })
            .collect();
        ArrayD::from_shape_vec(ndarray::IxDyn(shape), data).unwrap()
    };
    // x, a row broadcast down it (mu), another (sd, or a shape that does
    // not broadcast), and a column broadcast across it (col).
    type Case<'a> = (&'a [usize], &'a [usize], &'a [usize], &'a [usize]);
    let cases: &[Case<'_>] = &[
        (&[1000, 16], &[16], &[16], &[1000, 1]),
        (&[7, 3], &[3], &[1, 3], &[7, 1]),
        (&[3000, 2], &[2], &[3], &[3000, 1]),
        (&[40, 6], &[6], &[4], &[40, 1]),
        (&[2, 5000], &[5000], &[5000], &[2, 1]),
        (&[100, 1], &[1], &[1], &[100, 1]),
        (&[5, 30, 7], &[30, 7], &[7], &[5, 30, 1]),
        (&[9, 1, 13], &[1, 13], &[13], &[9, 1, 1]),
        (&[6, 20, 9], &[20, 9], &[9], &[6, 1, 1]),
        (&[20_000, 10], &[10], &[10], &[20_000, 1]),
        (&[3, 9000], &[9000], &[9000], &[3, 1]),
    ];
    for &(xs, ms, ss, cs) in cases {
        let x = v(xs, 1);
        let mu = v(ms, 2);
        let col = v(cs, 4);
        // `sd` broadcasts with `x` only where its shape allows; else a
        // scalar-like 1-element row.
        let sd = v(ss, 3);
        let xf = x.mapv(|a| a as f32);
        let muf = mu.mapv(|a| a as f32);
        let xi = x.mapv(|a| if a.is_nan() { 0 } else { a as i64 });
        let mui = mu.mapv(|a| if a.is_nan() { 0 } else { a as i64 });
        let vars = Vars::new()
            .with("x", &x)
            .with("mu", &mu)
            .with("sd", &sd)
            .with("xf", &xf)
            .with("muf", &muf)
            .with("xi", &xi)
            .with("mui", &mui)
            .with("col", &col);
        for expr in [
            "(x - mu) / sd",
            "maximum(x + mu, 0) * 2",
            "where(x > mu, x, mu * 3)",
            "x > mu",
            "xf * muf + 1",
            "xi * mui - mui",
            "exp(x - mu) + sin(mu)",
            "x / col + mu",
            "x / sum(x, axis=0) - col",
            "where(col > 0, x, mu)",
            "x / sum(x, axis=1)",
            "exp(x - max(x, axis=1)) / sum(exp(x - max(x, axis=1)), axis=1)",
            "max(where(x == x, x, 0), axis=1) - min(where(x == x, x, 0), axis=1)",
        ] {
            let want =
                jitexpr::evaluate_with(expr, &vars, Options::with_backend(Backend::Interpreter));
            let Ok(want) = want else {
                // `sd` of a shape that does not broadcast with `x`.
                assert!(jitexpr::evaluate(expr, &vars).is_err(), "{expr} {xs:?}");
                continue;
            };
            let got = jit(expr, &vars);
            assert!(same_bits(&got, &want), "{expr} {xs:?} {ms:?} {ss:?}");
            if let Array::Float64(w) = &want {
                let mut out = ArrayD::<f64>::from_elem(w.raw_dim(), 7.0);
                jitexpr::compile_with(
                    expr,
                    &Signature::new()
                        .with("x", DType::Float64)
                        .with("mu", DType::Float64)
                        .with("sd", DType::Float64)
                        .with("col", DType::Float64),
                    Options::with_backend(Backend::Jit).with_math(Math::Reference),
                )
                .unwrap()
                .eval_into(&vars, &mut out)
                .unwrap();
                assert!(same_bits(&Array::Float64(out), &want), "{expr} {xs:?} into");
            }
        }
    }
}
