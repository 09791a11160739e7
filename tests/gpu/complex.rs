//! Complex functions on the GPU (`backend::wgsl::cmath`, through the
//! complex split) against the interpreter (`ir::cmath`), complex64 and
//! complex128: on a grid of special parts (±0, ±tiny, ±subnormal, ±1, ±huge,
//! ±inf, NaN, …) the special values exactly (NaN-ness, and the class and sign
//! of zeros and infinities, the branch cuts' signed zeros), and elsewhere
//! within a per-function bound: each part within `ulp` ULP of the
//! interpreter's, or (where a part is small beside the other, which a
//! function computed in the part's own width cannot resolve) within `norm`
//! epsilons of the larger part.
#![cfg(feature = "gpu")]

use crate::common::gpu_available;
use jitexpr::{Array, Backend, Options, Scalar, Vars};
use ndarray::Array1;
use num_complex::Complex;

/// (function, ULP bound per part for complex64, complex128): the worst
/// measured on lavapipe (Mesa 25, llvmpipe) plus one; reciprocal is NumPy's
/// formula in the parts' width, exact. complex128 `exp`, `sin`, `cos`,
/// `sinh`, `cosh` reach 5 only where e^|x| overflows and is applied as two
/// halves (|x| 709 to 1454, as the interpreter does; 3 elsewhere).
/// `expm1`'s real part is bounded normwise instead ([`EXPM1_RE_EPS`]).
const FUNCTIONS: &[(&str, [u64; 2])] = &[
    ("sqrt", [3, 2]),
    ("exp", [3, 6]),
    ("expm1", [3, 4]),
    ("log", [2, 2]),
    ("log1p", [3, 2]),
    ("log2", [3, 3]),
    ("log10", [3, 3]),
    ("sin", [3, 6]),
    ("cos", [3, 6]),
    ("tan", [5, 6]),
    ("arcsin", [4, 4]),
    ("arccos", [4, 2]),
    ("arctan", [3, 3]),
    ("sinh", [3, 6]),
    ("cosh", [3, 6]),
    ("tanh", [6, 6]),
    ("arcsinh", [5, 5]),
    ("arccosh", [4, 2]),
    ("arctanh", [3, 3]),
    ("sign", [2, 3]),
    ("reciprocal", [0, 0]),
];

/// `expm1`'s real part, `expm1(x) cos y - 2 sin²(y/2)`, cancels where
/// `e^x cos y` is near 1 (the interpreter's double-double does not): its
/// error in epsilons of the larger part of the result (measured 1.6 for
/// complex64, 2.5 for complex128; hundreds of ULP of the real part itself
/// near that curve).
const EXPM1_RE_EPS: f64 = 3.0;

fn special_parts(f32_format: bool) -> Vec<f64> {
    let (tiny, sub, huge) = if f32_format {
        (1e-30, 1e-40, 1e30)
    } else {
        (1e-300, 5e-320, 1e300)
    };
    let max = if f32_format {
        f64::from(f32::MAX)
    } else {
        f64::MAX
    };
    // Where e^x overflows and the functions scale it (sinh, cosh, exp, expm1, tanh).
    let big_x: [f64; 4] = if f32_format {
        [88.5, 120.0, 185.0, 300.0]
    } else {
        [709.5, 1000.0, 1450.0, 2000.0]
    };
    let mut v = vec![0.0, 1.0, 0.5, 2.5, 3.0, tiny, sub, huge, max, f64::INFINITY];
    v.extend(big_x);
    v.extend(v.clone().iter().map(|x| -x));
    v.push(f64::NAN);
    v
}

/// Seeded points: parts uniform in [-8, 8], of random magnitude 1e-12..1e12,
/// near the unit circle (within 5e-4 and within 1e-9) and near the real axis.
fn random_points(n: usize) -> Vec<(f64, f64)> {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|k| {
            let (a, b) = (next(), next());
            let (sa, sb) = (
                if next() < 0.5 { -1.0 } else { 1.0 },
                if next() < 0.5 { -1.0 } else { 1.0 },
            );
            match k % 5 {
                0 => (16.0 * a - 8.0, 16.0 * b - 8.0),
                1 => (
                    sa * 10f64.powf(24.0 * a - 12.0),
                    sb * 10f64.powf(24.0 * b - 12.0),
                ),
                2 => {
                    let t = a * std::f64::consts::TAU;
                    let r = 1.0 + (b - 0.5) * 1e-3;
                    (r * t.cos(), r * t.sin())
                }
                3 => (16.0 * a - 8.0, sb * 10f64.powf(-8.0 * b)),
                _ => {
                    // Within 1e-9 of the unit circle (`log`'s |z|² - 1).
                    let t = a * std::f64::consts::TAU;
                    let r = 1.0 + (b - 0.5) * 2e-9;
                    (r * t.cos(), r * t.sin())
                }
            }
        })
        .collect()
}

fn parts(s: Scalar) -> (f64, f64) {
    match s {
        Scalar::Complex64(z) => (f64::from(z.re), f64::from(z.im)),
        Scalar::Complex128(z) => (z.re, z.im),
        other => panic!("not complex: {other:?}"),
    }
}

fn eval(f: &str, z: &Array, backend: Backend) -> Vec<(f64, f64)> {
    let vars = Vars::new().with("z", z.view());
    let e = format!("{f}(z)");
    let r = jitexpr::evaluate_with(&e, &vars, Options::with_backend(backend))
        .unwrap_or_else(|err| panic!("{e} on {backend:?}: {}", err.render()));
    r.to_scalars().into_iter().map(parts).collect()
}

/// One part's agreement: exactly for NaN, infinities and zeros (either
/// side), else (ULP distance, error in epsilons of `scale`).
fn part_error(got: f64, want: f64, scale: f64, f32_format: bool) -> Option<(u64, f64)> {
    let special = |v: f64| v.is_nan() || v.is_infinite() || v == 0.0;
    if special(got) || special(want) {
        let same = (got.is_nan() && want.is_nan()) || got.to_bits() == want.to_bits();
        return same.then_some((0, 0.0));
    }
    let ulp = crate::common::ulp_distance(got, want, f32_format);
    let eps = if f32_format {
        f64::from(f32::EPSILON)
    } else {
        f64::EPSILON
    };
    // The larger part's scale, as a float of the format (so subnormal
    // results count their ULP).
    let unit = (eps * scale).max(if f32_format { 1.4e-45 } else { 5e-324 });
    Some((ulp, (got - want).abs() / unit))
}

#[test]
fn complex_functions_on_the_gpu_match_the_interpreter() {
    if !gpu_available() {
        return;
    }
    let mut failures = Vec::new();
    let mut report = String::new();
    for (w, f32_format) in [(0, true), (1, false)] {
        let sp = special_parts(f32_format);
        let grid: Vec<(f64, f64)> = sp
            .iter()
            .flat_map(|&x| sp.iter().map(move |&y| (x, y)))
            .collect();
        let random = random_points(5000);
        let n_grid = grid.len();
        let all: Vec<(f64, f64)> = grid.iter().chain(&random).copied().collect();
        let z: Array = if f32_format {
            Array1::from_iter(all.iter().map(|&(x, y)| Complex::new(x as f32, y as f32)))
                .into_dyn()
                .into()
        } else {
            Array1::from_iter(all.iter().map(|&(x, y)| Complex::new(x, y)))
                .into_dyn()
                .into()
        };
        for &(f, bounds) in FUNCTIONS {
            let ulp_bound = bounds[w];
            let got = eval(f, &z, Backend::Gpu);
            let want = eval(f, &z, Backend::Interpreter);
            // Worst ULP of the real and imaginary parts, worst normwise error.
            let (mut worst, mut worst_norm) = ([0u64; 2], 0f64);
            let mut worst_at = String::new();
            let name = if f32_format { "c64" } else { "c128" };
            for (k, (&g, &wv)) in got.iter().zip(&want).enumerate() {
                let scale = wv.0.abs().max(wv.1.abs());
                for (part, (gp, wp)) in [(g.0, wv.0), (g.1, wv.1)].into_iter().enumerate() {
                    let grid = if k < n_grid { " (grid)" } else { "" };
                    let Some((u, nrm)) = part_error(gp, wp, scale, f32_format) else {
                        failures.push(format!(
                            "{f} {name} {:?}{grid}: gpu {g:?} interp {wv:?} (special value)",
                            all[k]
                        ));
                        continue;
                    };
                    if u > worst[part] && part == 0 {
                        worst_at = format!("{:?}", all[k]);
                    }
                    worst[part] = worst[part].max(u);
                    worst_norm = worst_norm.max(nrm);
                    let ok = if f == "expm1" && part == 0 {
                        nrm <= EXPM1_RE_EPS
                    } else {
                        u <= ulp_bound
                    };
                    if !ok {
                        failures.push(format!(
                            "{f} {name} {:?}{grid}: gpu {g:?} interp {wv:?} ({u} ULP, {nrm:.1} eps)",
                            all[k]
                        ));
                    }
                }
            }
            report.push_str(&format!(
                "{f:>10} {name:<4}: re {} ULP, im {} ULP, normwise {worst_norm:.2} eps (worst re at {worst_at})\n",
                worst[0], worst[1]
            ));
        }
    }
    println!("{report}");
    let n = failures.len();
    // At most three a function and dtype.
    let mut seen = std::collections::HashMap::new();
    failures.retain(|f| {
        let key: String = f.split(' ').take(2).collect();
        let c = seen.entry(key).or_insert(0);
        *c += 1;
        *c <= 3
    });
    assert!(n == 0, "{n} failures:\n{}", failures.join("\n"));
}

/// The branch cuts' signed zeros and a few exact values, as the README states them.
#[test]
fn complex_branch_cuts_on_the_gpu() {
    if !gpu_available() {
        return;
    }
    let z = Array1::from_vec(vec![
        Complex::new(-4.0, 0.0),
        Complex::new(-4.0, -0.0),
        Complex::new(-1.0, -0.0),
        Complex::new(-1.0, 0.0),
    ]);
    let z: Array = z.into_dyn().into();
    let sq = eval("sqrt", &z, Backend::Gpu);
    assert_eq!(sq[0], (0.0, 2.0));
    assert_eq!(sq[1].0, 0.0);
    assert_eq!(sq[1].1.to_bits(), (-2.0f64).to_bits());
    let lg = eval("log", &z, Backend::Gpu);
    assert_eq!(lg[2], (0.0, -std::f64::consts::PI));
    assert_eq!(lg[3], (0.0, std::f64::consts::PI));
}

/// Random programs around the complex functions: one function of an exact
/// expression of two complex inputs (sums, negation, `conj`, parts
/// swapped, a cast; broadcast shapes, complex64 and complex128 mixed), whose
/// result may go through `conj`, `real`, `imag` or a negation: the GPU
/// equals the interpreter at special values (NaN-ness, zeros' and
/// infinities' signs) and is within the function's bound elsewhere
/// (`FUNCTIONS`, a part against the larger part's epsilon for `expm1`).
mod random {
    use super::*;
    use proptest::prelude::*;

    /// The expression and its function.
    fn expr() -> impl Strategy<Value = (String, &'static str)> {
        let f = prop::sample::select(FUNCTIONS.iter().map(|f| f.0).collect::<Vec<_>>());
        let inner = prop::sample::select(vec![
            "z",
            "w",
            "z + w",
            "z - w",
            "-z",
            "conj(w)",
            "complex(imag(z), real(w))",
            "complex128(z)",
            "z + 1.5",
            "w - 2j",
        ]);
        let outer = prop::sample::select(vec!["", "conj", "real", "imag", "-"]);
        (f, inner, outer).prop_map(|(f, i, o)| (format!("{o}({f}({i}))"), f))
    }

    fn values(pick: usize, n: usize, f32_format: bool) -> Vec<(f64, f64)> {
        let sp = special_parts(f32_format);
        let random = random_points(64);
        (0..n)
            .map(|k| {
                let j = pick.wrapping_mul(31).wrapping_add(k * 7);
                if j.is_multiple_of(3) {
                    (sp[j % sp.len()], sp[(j / 3) % sp.len()])
                } else {
                    random[j % random.len()]
                }
            })
            .collect()
    }

    fn array(v: &[(f64, f64)], shape: &[usize], f32_format: bool) -> Array {
        let shape = ndarray::IxDyn(shape);
        if f32_format {
            let c = v
                .iter()
                .map(|&(x, y)| Complex::new(x as f32, y as f32))
                .collect();
            ndarray::ArrayD::from_shape_vec(shape, c).unwrap().into()
        } else {
            let c = v.iter().map(|&(x, y)| Complex::new(x, y)).collect();
            ndarray::ArrayD::from_shape_vec(shape, c).unwrap().into()
        }
    }

    fn scalars(a: &Array) -> Vec<(f64, f64, bool)> {
        a.to_scalars()
            .into_iter()
            .map(|s| match s {
                Scalar::Complex64(c) => (f64::from(c.re), f64::from(c.im), true),
                Scalar::Complex128(c) => (c.re, c.im, false),
                Scalar::Float32(v) => (f64::from(v), 0.0, true),
                other => (other.to_f64(), 0.0, false),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn gpu_complex_functions_match_the_interpreter(
            (e, fname) in expr(),
            picks in prop::collection::vec(0usize..1000, 2),
            narrow in prop::collection::vec(any::<bool>(), 2),
        ) {
            if !gpu_available() {
                return Ok(());
            }
            let z = array(&values(picks[0], 13, narrow[0]), &[13], narrow[0]);
            let w = array(&values(picks[1], 2, narrow[1]), &[2, 1], narrow[1]);
            let vars = Vars::new().with("z", z.view()).with("w", w.view());
            let want = jitexpr::evaluate_with(&e, &vars, Options::with_backend(Backend::Interpreter));
            let got = jitexpr::evaluate_with(&e, &vars, Options::with_backend(Backend::Gpu));
            let (got, want) = match (got, want) {
                (Ok(g), Ok(w)) => (g, w),
                (g, w) => {
                    prop_assert!(false, "{e}: gpu {:?} interp {:?}", g.map(|a| a.dtype()), w.map(|a| a.dtype()));
                    unreachable!()
                }
            };
            prop_assert_eq!(got.dtype(), want.dtype());
            prop_assert_eq!(got.shape(), want.shape());
            let f = FUNCTIONS.iter().find(|f| f.0 == fname).unwrap();
            // The function's whole value, for the scale of a part.
            let inner = e.split_once('(').map_or(e.as_str(), |(_, r)| &r[..r.len() - 1]);
            let whole = jitexpr::evaluate_with(inner, &vars, Options::with_backend(Backend::Interpreter)).unwrap();
            let whole: Vec<(f64, f64, bool)> = scalars(&whole);
            for (k, (&(gr, gi, f32_format), &(wr, wi, _))) in scalars(&got).iter().zip(&scalars(&want)).enumerate() {
                let scale = whole[k].0.abs().max(whole[k].1.abs());
                let bound = f.1[usize::from(!f32_format)];
                for (g, w) in [(gr, wr), (gi, wi)] {
                    let err = part_error(g, w, scale, f32_format);
                    let ok = err.is_some_and(|(u, nrm)| {
                        u <= bound || (f.0 == "expm1" && nrm <= EXPM1_RE_EPS)
                    });
                    prop_assert!(ok, "{e}: gpu ({gr}, {gi}) interp ({wr}, {wi})");
                }
            }
        }
    }
}
