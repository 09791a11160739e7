//! Matrix products on the JIT against the interpreter and against their own
//! unfused evaluation, at sizes with many tiles (jit::matmul tiles of at
//! most 256 x 256), batch axes and strided outputs. NumPy's values for every
//! shape rule are in tests/golden/matmul.json (golden::matmul).

use jitexpr::{Array, Backend, DType, Options, Signature, Vars};
use ndarray::{ArrayD, IxDyn, ShapeBuilder};

use crate::common::same_bits;

/// Deterministic values in [-1, 1) (a 64-bit LCG).
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn f64s(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let n = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), values(n, seed)).unwrap()
}

/// Small integers as floats: every sum is exact, in any order.
fn exact(shape: &[usize], seed: u64) -> ArrayD<f64> {
    f64s(shape, seed).mapv(|x| (x * 4.0).round())
}

fn interpreter() -> Options {
    Options::with_backend(Backend::Interpreter)
}

#[test]
fn fused_epilogues_equal_the_two_step_evaluation_bit_for_bit() {
    let (a, w) = (f64s(&[300, 200], 1), f64s(&[200, 270], 2));
    let b = f64s(&[270], 3);
    let vars = Vars::new().with("A", &a).with("W", &w).with("b", &b);
    let product = jitexpr::evaluate("A @ W", &vars).unwrap();
    let Array::Float64(p) = &product else {
        panic!("float64 product")
    };
    let two = Vars::new().with("P", p).with("b", &b);
    for epilogue in ["maximum(P + b, 0)", "exp(-P / 4)", "P * 2 - b", "P"] {
        let fused_expr = epilogue.replace('P', "(A @ W)");
        let fused = jitexpr::evaluate(&fused_expr, &vars).unwrap();
        let unfused = jitexpr::evaluate(epilogue, &two).unwrap();
        assert!(same_bits(&fused, &unfused), "{fused_expr}");
    }
    // The float32 product, against the interpreter's (another summation
    // order: a float32 rounding bound).
    let (x, y) = (a.mapv(|v| v as f32), w.mapv(|v| v as f32));
    let vars = Vars::new().with("x", &x).with("y", &y);
    let got = jitexpr::evaluate("maximum(x @ y, 0)", &vars).unwrap();
    let want = jitexpr::evaluate_with("maximum(x @ y, 0)", &vars, interpreter()).unwrap();
    assert!(
        crate::common::close(&got, &want, 2e-4),
        "float32 relu(x @ y)"
    );
}

/// Compiled epilogues overwrite the product tile in place
/// (`jit::matmul::in_place`), the interpreted tier's go through a tile
/// buffer: on every tier the fused result is the two-step one's bits, for
/// epilogues that read the product more than once, across a vector-math
/// call (`exp`: its argument is read in one loop and the product again in
/// the next), into another dtype (a buffer on every tier), and into a
/// reversed output.
#[test]
fn fused_epilogues_in_place_equal_the_two_step_on_every_tier() {
    use jitexpr::Tiering;
    // Tiles of 256 columns (k = 256): a vector-math function's lanes cover
    // every row of a tile as they cover the two-step's rows, so `exp` takes
    // the same routine for each element in both (a row's last odd element
    // would take the scalar one, which may differ by an ULP under fast math).
    let (a, w) = (f64s(&[300, 256], 11), f64s(&[256, 512], 12));
    let b = f64s(&[512], 13);
    let vars = Vars::new().with("A", &a).with("W", &w).with("b", &b);
    let Array::Float64(p) = jitexpr::evaluate("A @ W", &vars).unwrap() else {
        panic!("float64 product")
    };
    let two = Vars::new().with("P", &p).with("b", &b);
    let sig = Signature::new()
        .with("A", DType::Float64)
        .with("W", DType::Float64)
        .with("b", DType::Float64);
    for tiering in [Tiering::Interpreted, Tiering::Baseline, Tiering::Optimized] {
        let options = Options::default().with_tiering(tiering);
        for epilogue in [
            "maximum(P + b, 0)",
            "P * P - P / 3",
            "exp(-P / 4) + P",
            "where(P > b, P, b - P)",
            "P > 0",
            "float32(P) * 2",
        ] {
            let fused_expr = epilogue.replace('P', "(A @ W)");
            let kernel = jitexpr::compile_with(&fused_expr, &sig, options).unwrap();
            let want = jitexpr::evaluate_with(epilogue, &two, options).unwrap();
            let got = kernel.eval(&vars).unwrap();
            assert!(same_bits(&got, &want), "{tiering:?} {fused_expr}");
            if let Array::Float64(w) = &want {
                let mut out = ArrayD::<f64>::from_elem(IxDyn(&[300, 512]), f64::NAN);
                out.invert_axis(ndarray::Axis(0));
                kernel.eval_into(&vars, &mut out).unwrap();
                assert!(
                    same_bits(
                        &Array::Float64(out.as_standard_layout().to_owned()),
                        &Array::Float64(w.clone())
                    ),
                    "{tiering:?} {fused_expr} into a reversed output"
                );
            }
        }
    }
}

#[test]
fn many_tiles_and_batches_equal_the_interpreter_exactly() {
    // 2 batch matrices of 300 x 520: row and column tiles, ragged edges.
    let a = exact(&[2, 300, 40], 4);
    let b = exact(&[40, 520], 5);
    let c = exact(&[520], 6);
    let vars = Vars::new().with("a", &a).with("b", &b).with("c", &c);
    for expr in [
        "a @ b",
        "maximum(a @ b - c, 0)",
        "(a * 2 - 1) @ b",
        "sum(a @ b)",
        "sum(a @ b, axis=1)",
        "a @ b @ c",
        "(a @ b) @ (c * 0 + 1)",
    ] {
        let got = jitexpr::evaluate(expr, &vars);
        let want = jitexpr::evaluate_with(expr, &vars, interpreter());
        match (got, want) {
            (Ok(g), Ok(w)) => assert!(same_bits(&g, &w), "{expr}"),
            (Err(g), Err(w)) => assert_eq!(g.message(), w.message(), "{expr}"),
            (g, w) => panic!("{expr}: jit {g:?} vs interpreter {w:?}"),
        }
    }
    // Column tiles: 256 wide for an inner dimension of 256 or more, up to
    // 1024 for a short one (k = 8), each with a ragged last tile.
    for (ashape, bshape) in [([20, 260], [260, 530]), ([10, 8], [8, 2100])] {
        let (a, b) = (exact(&ashape, 7), exact(&bshape, 8));
        let vars = Vars::new().with("a", &a).with("b", &b);
        for expr in ["a @ b", "maximum(a @ b, 1)"] {
            let got = jitexpr::evaluate(expr, &vars).unwrap();
            let want = jitexpr::evaluate_with(expr, &vars, interpreter()).unwrap();
            assert!(same_bits(&got, &want), "{expr} {ashape:?} @ {bshape:?}");
        }
    }
    // float32 tiles are 512 x 512: rows and columns past one tile, ragged
    // (exact small integers, so any summation order gives the same bits).
    let (a, b) = (
        exact(&[530, 300], 9).mapv(|x| x as f32),
        exact(&[300, 1030], 10).mapv(|x| x as f32),
    );
    let vars = Vars::new().with("a", &a).with("b", &b);
    for expr in ["a @ b", "maximum(a @ b, 1)", "sum(a @ b)"] {
        let got = jitexpr::evaluate(expr, &vars).unwrap();
        let want = jitexpr::evaluate_with(expr, &vars, interpreter()).unwrap();
        assert!(same_bits(&got, &want), "float32 {expr}");
    }
    // Integers wrap like NumPy's: int32 products past 2**31.
    let i = ArrayD::from_elem(IxDyn(&[3, 70]), 40_000i32);
    let j = ArrayD::from_elem(IxDyn(&[70, 2]), 1_000i32);
    let vars = Vars::new().with("i", &i).with("j", &j);
    let got = jitexpr::evaluate("i @ j", &vars).unwrap();
    let want = (40_000i32).wrapping_mul(1_000).wrapping_mul(70);
    assert_eq!(got, Array::Int32(ArrayD::from_elem(IxDyn(&[3, 2]), want)));
}

#[test]
fn fused_products_into_strided_and_fortran_outputs() {
    let (a, b) = (exact(&[130, 33], 7), exact(&[33, 290], 8));
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64);
    let kernel = jitexpr::compile("maximum(a @ b, 1)", &sig).unwrap();
    let vars = Vars::new().with("a", &a).with("b", &b);
    let want = jitexpr::evaluate_with("maximum(a @ b, 1)", &vars, interpreter()).unwrap();
    let mut fortran = ArrayD::<f64>::zeros(IxDyn(&[130, 290]).f());
    kernel.eval_into(&vars, &mut fortran).unwrap();
    assert!(same_bits(
        &Array::Float64(fortran.as_standard_layout().to_owned()),
        &want
    ));
    // A caller's output with garbage in it, reversed: every element written.
    let mut out = ArrayD::<f64>::from_elem(IxDyn(&[130, 290]), f64::NAN);
    out.invert_axis(ndarray::Axis(1));
    kernel.eval_into(&vars, &mut out).unwrap();
    assert!(same_bits(
        &Array::Float64(out.as_standard_layout().to_owned()),
        &want
    ));
    // Fortran-ordered inputs give a Fortran-ordered result (order='K').
    let af = a.t().as_standard_layout().to_owned().reversed_axes();
    let bf = b.t().as_standard_layout().to_owned().reversed_axes();
    let vars = Vars::new().with("a", &af).with("b", &bf);
    let got = kernel.eval(&vars).unwrap();
    assert!(same_bits(&got, &want));
}

/// The float value of a 0-d result.
fn scalar_f64(a: &Array) -> f64 {
    match a {
        Array::Float64(x) => x.iter().copied().next().unwrap(),
        Array::Float32(x) => x.iter().copied().next().unwrap() as f64,
        other => panic!("a float result, got {:?}", other.dtype()),
    }
}

/// A full `sum`/`mean` of a product's epilogue is fused into the product
/// (jit::matmul::fused_sum: tile sums in tile order): exact where every
/// partial sum is, within rounding otherwise, of the product's dtype, and
/// the same bits whatever the number of threads.
#[test]
fn fused_sums_of_products_equal_the_interpreter() {
    // Exact inputs: every order of addition gives the same (exact) sum.
    let (a, w) = (exact(&[300, 200], 11), exact(&[200, 270], 12));
    let y = exact(&[270], 13);
    let vars = Vars::new().with("A", &a).with("W", &w).with("y", &y);
    for expr in [
        "sum(A @ W)",
        "sum((A @ W - y)**2)",
        "mean(A @ W)",
        "sum(maximum(A @ W, 0)) + 1",
    ] {
        let jit = jitexpr::evaluate(expr, &vars).unwrap();
        let oracle = jitexpr::evaluate_with(expr, &vars, interpreter()).unwrap();
        assert!(same_bits(&jit, &oracle), "{expr}: {jit:?} vs {oracle:?}");
    }
    // Rounded values, batches and ragged tiles: within rounding of the
    // interpreter's pairwise sum of the whole product.
    let (p, q) = (f64s(&[3, 70, 90], 14), f64s(&[90, 530], 15));
    let t = f64s(&[530], 16);
    let vars = Vars::new().with("P", &p).with("Q", &q).with("t", &t);
    for expr in [
        "sum(exp(-(P @ Q) / 8) * t)",
        "mean((P @ Q - t)**2)",
        "sum(float32(P @ Q))",
    ] {
        let jit = scalar_f64(&jitexpr::evaluate(expr, &vars).unwrap());
        let oracle = scalar_f64(&jitexpr::evaluate_with(expr, &vars, interpreter()).unwrap());
        let tol = if expr.contains("float32") {
            1e-5
        } else {
            1e-12
        };
        assert!(
            (jit - oracle).abs() <= tol * oracle.abs().max(1.0),
            "{expr}: {jit} vs {oracle}"
        );
        // Independent of the team: tiles are cut as for 8 threads always.
        let before = jitexpr::set_num_threads(1);
        let one = jitexpr::evaluate(expr, &vars).unwrap();
        jitexpr::set_num_threads(2);
        let two = jitexpr::evaluate(expr, &vars).unwrap();
        jitexpr::set_num_threads(before);
        assert!(same_bits(&one, &two), "{expr}: 1 vs 2 threads");
    }
    // Empty: the sum of nothing is 0, the mean NaN (as NumPy).
    let (e, f) = (f64s(&[0, 4], 17), f64s(&[4, 5], 18));
    let vars = Vars::new().with("E", &e).with("F", &f);
    assert_eq!(
        scalar_f64(&jitexpr::evaluate("sum(E @ F + 1)", &vars).unwrap()),
        0.0
    );
    assert!(scalar_f64(&jitexpr::evaluate("mean(E @ F)", &vars).unwrap()).is_nan());
}

/// A 1-d operand (`X @ v`, `v @ M`, `u @ v`) is fused like a matrix: the
/// epilogue's leaves broadcast against the product's own (1-d or 0-d)
/// shape, and a narrow product gets tall tiles.
#[test]
fn fused_products_with_vector_operands() {
    let x = f64s(&[5000, 7], 21);
    let v = f64s(&[7], 22);
    let y = f64s(&[5000], 23);
    let m = f64s(&[7, 300], 24);
    let u = f64s(&[7], 25);
    let batch = f64s(&[3, 40, 7], 26);
    let vars = Vars::new()
        .with("X", &x)
        .with("v", &v)
        .with("y", &y)
        .with("M", &m)
        .with("u", &u)
        .with("B", &batch);
    for (fused, product, epilogue) in [
        ("maximum(X @ v + y, 0)", "X @ v", "maximum(P + y, 0)"),
        ("exp(-(v @ M))", "v @ M", "exp(-P)"),
        ("(u @ v) * 2 + 1", "u @ v", "P * 2 + 1"),
        ("B @ v - 1", "B @ v", "P - 1"),
    ] {
        let got = jitexpr::evaluate(fused, &vars).unwrap();
        let p = jitexpr::evaluate(product, &vars).unwrap();
        let Array::Float64(p) = &p else {
            panic!("float64")
        };
        let two = Vars::new().with("P", p).with("y", &y);
        let want = jitexpr::evaluate(epilogue, &two).unwrap();
        assert!(same_bits(&got, &want), "{fused}");
        let oracle = jitexpr::evaluate_with(fused, &vars, interpreter()).unwrap();
        assert_eq!(got.shape(), oracle.shape(), "{fused}");
    }
    // A regression loss: exact inputs, so every order of addition agrees.
    let (xe, ve, ye) = (exact(&[5000, 7], 27), exact(&[7], 28), exact(&[5000], 29));
    let vars = Vars::new().with("X", &xe).with("v", &ve).with("y", &ye);
    let expr = "sum((X @ v - y)**2)";
    let jit = jitexpr::evaluate(expr, &vars).unwrap();
    let oracle = jitexpr::evaluate_with(expr, &vars, interpreter()).unwrap();
    assert!(same_bits(&jit, &oracle), "{expr}: {jit:?} vs {oracle:?}");
}

/// Row blocks are cut to equal heights (jit::matmul::row_blocks), and more
/// of them on a larger team: rows that do not divide evenly, a ragged last
/// column tile, batches, float32 and float64, plain and fused, on 1 and 2
/// threads: exact inputs, so every tiling gives the interpreter's bits, and
/// a fused sum the same bits on any team.
#[test]
fn equal_row_blocks_give_the_interpreters_bits_on_any_team() {
    // float64: 1030 rows (5 blocks of 206 on one thread, 6 of 171-172 on
    // two), 530 columns (256, 256, 18); float32: 1100 rows (3 or 4 blocks),
    // 1030 columns (512, 512, 6); 3 batches of 130 rows (1 or 2 blocks).
    let cases: [(&[usize], &[usize], bool); 4] = [
        (&[1030, 300], &[300, 530], false),
        (&[1100, 300], &[300, 1030], true),
        (&[3, 130, 40], &[40, 300], false),
        (&[3, 130, 40], &[40, 300], true),
    ];
    for (seed, (ashape, bshape, f32s)) in cases.into_iter().enumerate() {
        let seed = 40 + 3 * seed as u64;
        let (a, b, c) = (
            exact(ashape, seed),
            exact(bshape, seed + 1),
            exact(&[bshape[1]], seed + 2),
        );
        let (a32, b32, c32) = (
            a.mapv(|x| x as f32),
            b.mapv(|x| x as f32),
            c.mapv(|x| x as f32),
        );
        let vars = if f32s {
            Vars::new().with("a", &a32).with("b", &b32).with("c", &c32)
        } else {
            Vars::new().with("a", &a).with("b", &b).with("c", &c)
        };
        for expr in ["a @ b", "maximum(a @ b + c, 0)", "sum(a @ b - c)"] {
            let want = jitexpr::evaluate_with(expr, &vars, interpreter()).unwrap();
            let before = jitexpr::set_num_threads(1);
            let one = jitexpr::evaluate(expr, &vars);
            jitexpr::set_num_threads(2);
            let two = jitexpr::evaluate(expr, &vars);
            jitexpr::set_num_threads(before);
            let (one, two) = (one.unwrap(), two.unwrap());
            let what = format!("{expr} {ashape:?} @ {bshape:?} f32={f32s}");
            if f32s && expr.starts_with("sum") {
                // Past float32's exact integers: the fused sum's order is
                // the tiles', within rounding of the interpreter's, and
                // the same on any team.
                assert!(same_bits(&one, &two), "{what}: 1 vs 2 threads");
                let (x, y) = (scalar_f64(&one), scalar_f64(&want));
                assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "{what}");
            } else {
                assert!(same_bits(&one, &want), "{what}: 1 thread");
                assert!(same_bits(&two, &want), "{what}: 2 threads");
            }
        }
    }
}

/// Complex `A @ B` of two inputs runs on `gemm` (`Prepared::ComplexProduct`;
/// the split declines products): the interpreter's values for every shape
/// rule (vectors, batches broadcast, empty dimensions, many tiles), both
/// complex dtypes, strided, reversed and transposed operands, strided and
/// Fortran outputs, 1 and 2 threads. Parts are small integers, so every
/// sum is exact in any order and the bits must agree; a shape mismatch is
/// the interpreter's error.
#[test]
fn complex_products_equal_the_interpreter() {
    use jitexpr::{c32, c64};
    let complex = |shape: &[usize], seed: u64| -> ArrayD<c64> {
        let (re, im) = (exact(shape, seed), exact(shape, seed + 100));
        ndarray::Zip::from(&re)
            .and(&im)
            .map_collect(|&r, &i| c64::new(r, i))
    };
    let check = |a: &ArrayD<c64>, b: &ArrayD<c64>, what: &str| {
        for single in [false, true] {
            let (a32, b32) = (
                a.mapv(|z| c32::new(z.re as f32, z.im as f32)),
                b.mapv(|z| c32::new(z.re as f32, z.im as f32)),
            );
            let vars = match single {
                false => Vars::new().with("a", a).with("b", b),
                true => Vars::new().with("a", &a32).with("b", &b32),
            };
            let want = jitexpr::evaluate_with("a @ b", &vars, interpreter());
            for threads in [1, 2] {
                let before = jitexpr::set_num_threads(threads);
                let got = jitexpr::evaluate("a @ b", &vars);
                jitexpr::set_num_threads(before);
                match (&got, &want) {
                    (Ok(g), Ok(w)) => {
                        if !same_bits(g, w) {
                            let (gs, ws) = (g.to_scalars(), w.to_scalars());
                            let i = gs.iter().zip(&ws).position(|(x, y)| x != y);
                            panic!(
                                "{what} single={single} {threads}T: {:?} {:?} at {i:?}: {:?} vs {:?}",
                                g.shape(),
                                w.shape(),
                                i.map(|i| gs[i]),
                                i.map(|i| ws[i])
                            );
                        }
                    }
                    (Err(g), Err(w)) => assert_eq!(g.message(), w.message(), "{what}"),
                    (g, w) => panic!("{what}: jit {g:?} vs interpreter {w:?}"),
                }
            }
        }
    };
    for (sa, sb) in [
        (vec![3], vec![3]),
        (vec![4, 3], vec![3]),
        (vec![3], vec![3, 5]),
        (vec![2, 1, 4, 3], vec![3, 3, 2]),
        (vec![0, 3], vec![3, 2]),
        (vec![3, 0], vec![0, 2]),
        (vec![300, 40], vec![40, 520]),
        (vec![4, 3], vec![4, 2]),
    ] {
        check(
            &complex(&sa, 1),
            &complex(&sb, 2),
            &format!("{sa:?} @ {sb:?}"),
        );
    }
    // Strided, reversed and transposed operands.
    let big = complex(&[60, 80], 3);
    let a = big.slice(ndarray::s![..;2, ..;-2]).to_owned().into_dyn();
    let bt = complex(&[50, 40], 4);
    let b = bt.t().to_owned();
    check(&a, &b, "strided");
    let (av, bv) = (big.slice(ndarray::s![..;2, ..;-2]), bt.t());
    let vars = Vars::new().with("a", &av).with("b", &bv);
    let want = jitexpr::evaluate_with("a @ b", &vars, interpreter()).unwrap();
    assert!(
        same_bits(&jitexpr::evaluate("a @ b", &vars).unwrap(), &want),
        "views"
    );
    // Into strided and Fortran outputs, garbage in them first.
    let sig = Signature::new()
        .with("a", DType::Complex128)
        .with("b", DType::Complex128);
    let kernel = jitexpr::compile("a @ b", &sig).unwrap();
    let mut wide = ArrayD::from_elem(IxDyn(&[30, 100]), c64::new(f64::NAN, 7.0));
    let mut fortran = ArrayD::from_elem(IxDyn(&[30, 50]).f(), c64::new(f64::NAN, 7.0));
    for k in 0..2 {
        let mut out = match k {
            0 => wide.slice_mut(ndarray::s![..;-1, ..;2]).into_dyn(),
            _ => fortran.view_mut(),
        };
        kernel.eval_into(&vars, &mut out).unwrap();
        let got = Array::Complex128(out.to_owned());
        assert!(same_bits(&got, &want), "into output {k}");
    }
}
