//! The public Rust API: evaluate, compile once and run many, eval_into,
//! dtypes of results, conversions, and resource limits.

use jitexpr::{Array, ArrayView, Backend, DType, ErrorKind, Options, Signature, Vars};
use ndarray::{Array1, Array2, ArrayD, IxDyn, arr0, array, s};

#[test]
fn one_call_with_broadcasting_and_mixed_dtypes() {
    let a = array![1.0f32, 2.0, 3.0];
    let i = array![[1i32], [2]];
    let r = jitexpr::evaluate("a * i", &Vars::new().with("a", &a).with("i", &i)).unwrap();
    // float32 * int32 promotes to float64, like NumPy.
    assert_eq!(r.dtype(), DType::Float64);
    assert_eq!(r.shape(), &[2, 3]);
    let r: ArrayD<f64> = r.try_into().unwrap();
    assert_eq!(r[[1, 2]], 6.0);
}

#[test]
fn weak_literals_keep_float32() {
    let x = array![1.5f32, -2.0];
    let r = jitexpr::evaluate("x * 2.0 + 1", &Vars::new().with("x", &x)).unwrap();
    assert_eq!(r.as_f32().unwrap().as_slice().unwrap(), &[4.0, -3.0]);
}

#[test]
fn kernel_runs_on_many_shapes() {
    let k = jitexpr::compile("a - mean(a)", &Signature::new().with("a", DType::Float64)).unwrap();
    let a1 = array![1.0, 2.0, 3.0];
    let a2 = array![[1.0, 3.0], [5.0, 7.0]];
    let r1 = k.eval(&Vars::new().with("a", &a1)).unwrap();
    let r2 = k.eval(&Vars::new().with("a", &a2)).unwrap();
    assert_eq!(r1.as_f64().unwrap().as_slice().unwrap(), &[-1.0, 0.0, 1.0]);
    assert_eq!(r2.shape(), &[2, 2]);
    assert_eq!(r2.as_f64().unwrap()[[1, 1]], 3.0);
}

#[test]
fn eval_into_writes_a_strided_output() {
    let k = jitexpr::compile("a + 1", &Signature::new().with("a", DType::Int64)).unwrap();
    let a = array![1i64, 2, 3];
    let mut big = Array1::<i64>::zeros(6);
    let mut view = big.slice_mut(s![..;2]);
    k.eval_into(&Vars::new().with("a", &a), &mut view).unwrap();
    assert_eq!(big.as_slice().unwrap(), &[2, 0, 3, 0, 4, 0]);
}

#[test]
fn zero_d_and_empty_inputs() {
    let k = arr0(2.5);
    let e = Array2::<f64>::zeros((0, 3));
    let r = jitexpr::evaluate("e * k", &Vars::new().with("e", &e).with("k", &k)).unwrap();
    assert_eq!(r.shape(), &[0, 3]);
    let r = jitexpr::evaluate("k * 2", &Vars::new().with("k", &k)).unwrap();
    assert_eq!(r.shape(), &[] as &[usize]);
    assert_eq!(r.to_scalars()[0].to_f64(), 5.0);
    let r = jitexpr::evaluate("sum(e)", &Vars::new().with("e", &e)).unwrap();
    assert_eq!(r.to_scalars()[0].to_f64(), 0.0);
}

#[test]
fn unused_variables_are_accepted() {
    let a = array![1.0];
    let unused = array![true];
    let r = jitexpr::evaluate("a + 1", &Vars::new().with("a", &a).with("z", &unused)).unwrap();
    assert_eq!(r.to_scalars()[0].to_f64(), 2.0);
}

#[test]
fn vars_replace_by_name_and_collect_from_pairs() {
    let a = array![1.0];
    let b = array![2.0];
    let vars = Vars::new().with("a", &a).with("a", &b);
    assert_eq!(vars.len(), 1);
    assert_eq!(vars.get("a").unwrap().to_scalars()[0].to_f64(), 2.0);
    let arrays = [("x", Array::from(array![1i32].into_dyn()))];
    let vars: Vars<'_> = arrays
        .iter()
        .map(|(n, a)| (*n, ArrayView::from(a)))
        .collect();
    assert_eq!(Signature::of(&vars).dtype("x"), Some(DType::Int32));
}

#[test]
fn try_from_gives_the_array_back_on_dtype_mismatch() {
    let r = jitexpr::evaluate("1 + 1", &Vars::new()).unwrap();
    let back = ArrayD::<f64>::try_from(r).unwrap_err();
    assert_eq!(back.dtype(), DType::Int64);
    assert_eq!(ArrayD::<i64>::try_from(back).unwrap()[IxDyn(&[])], 2);
}

#[test]
fn explicit_interpreter_backend() {
    let a = array![4.0];
    let r = jitexpr::evaluate_with(
        "sqrt(a)",
        &Vars::new().with("a", &a),
        Options::with_backend(Backend::Interpreter),
    )
    .unwrap();
    assert_eq!(r.to_scalars()[0].to_f64(), 2.0);
}

#[test]
fn a_broadcast_too_large_for_memory_is_a_clean_error() {
    let n = 1 << 20;
    let col = Array2::<f64>::zeros((n, 1));
    let row = Array2::<f64>::zeros((1, n));
    let err = jitexpr::evaluate(
        "col + row",
        &Vars::new().with("col", &col).with("row", &row),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(
        err.message().contains("(1048576, 1048576)"),
        "{}",
        err.message()
    );
}

#[test]
fn unary_plus_on_bool_is_an_error_like_numpy() {
    let m = array![true];
    let err = jitexpr::evaluate("+m", &Vars::new().with("m", &m)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
    assert_eq!(err.span().map(|s| s.start), Some(0));
}

#[test]
fn reductions_shapes() {
    let x = array![[1.0, 3.0], [2.0, 2.0], [0.0, 4.0]];
    let v = Vars::new().with("x", &x);
    let shape = |e: &str| jitexpr::evaluate(e, &v).unwrap().shape().to_vec();
    assert_eq!(shape("sum(x, axis=1)"), [3]);
    assert_eq!(shape("sum(x, axis=1) / 2"), [3]);
    assert_eq!(shape("x / sum(x, axis=1)"), [3, 2]);
    assert_eq!(shape("x - mean(x, axis=0)"), [3, 2]);
    assert_eq!(shape("max(x, axis=0) - min(x, axis=0)"), [2]);
    assert_eq!(shape("sum(x)"), [] as [usize; 0]);
    assert_eq!(shape("sum(sum(x, axis=0))"), [] as [usize; 0]);
    let r = jitexpr::evaluate("x / sum(x, axis=1)", &v).unwrap();
    assert_eq!(r.as_f64().unwrap()[[0, 1]], 0.75);
}

/// Every backend gives the same result layout for the same inputs, like
/// NumPy's `order='K'`: Fortran-ordered inputs of the result's shape give a
/// Fortran-ordered result, C-ordered (or mixed) ones a C-ordered result.
/// The JIT, the interpreter, and the GPU when there is one.
fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Jit, Backend::Interpreter];
    if crate::golden::gpu_available() {
        b.push(Backend::Gpu);
    }
    b
}

#[test]
fn every_backend_gives_the_same_result_layout() {
    let c = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
    // The values of `c`, stored column-major.
    let mut f = ndarray::Array2::<f64>::zeros((4, 3)).reversed_axes();
    f.assign(&c);
    assert!(f.t().is_standard_layout() && f == c);
    let row = array![1.0, 2.0, 3.0, 4.0];
    for backend in backends() {
        let opts = Options::with_backend(backend);
        for (inputs, fortran) in [
            (Vars::new().with("a", &f).with("b", &f), true),
            (Vars::new().with("a", &f).with("b", &row), true),
            (Vars::new().with("a", &c).with("b", &f), false),
            (Vars::new().with("a", &c).with("b", &row), false),
        ] {
            let r = jitexpr::evaluate_with("a * 2 + b", &inputs, opts).unwrap();
            let r = r.as_f64().unwrap();
            assert_eq!(r.shape(), &[3, 4]);
            let is_f = r.t().is_standard_layout();
            assert_eq!(is_f, fortran, "{backend:?}");
            assert_eq!(r.is_standard_layout(), !fortran, "{backend:?}");
            let a = inputs.get("a").unwrap().to_owned();
            let b = inputs.get("b").unwrap().to_owned();
            let want = a.as_f64().unwrap() * 2.0 + b.as_f64().unwrap();
            assert_eq!(r, &want, "{backend:?}");
        }
    }
}

/// A function of literals is a strong value, as in NumPy 2 (`np.square(1e20)`
/// is a float64 scalar): next to a float32 array it gives float64, next to an
/// int32 array int64. `square` of a literal was typed as a weak literal, so
/// `y*square(1e20)` overflowed to float32 inf and `j + square(50000)` raised
/// an int32 range error.
#[test]
fn functions_of_literals_are_strong_like_numpy() {
    let y = array![2.0f32];
    let j = array![1i32];
    let v = Vars::new().with("y", &y).with("j", &j);
    let r = jitexpr::evaluate("y*square(1e20)", &v).unwrap();
    assert_eq!(r.dtype(), DType::Float64);
    assert_eq!(r.as_f64().unwrap()[[0]], 2e40);
    let r = jitexpr::evaluate("j + square(50000)", &v).unwrap();
    assert_eq!(r.dtype(), DType::Int64);
    assert_eq!(r.to_scalars()[0].to_f64(), 2_500_000_001.0);
    // NumPy's result dtypes for the other functions of literals (np.abs(7),
    // np.sqrt(4.0), np.maximum(1.0, 2.0), np.where(True, 1.0, 2.0),
    // np.clip(3.0, 0, 1), np.round(2.5) are all float64/int64 scalars).
    for (e, dtype) in [
        ("y * abs(-2.0)", DType::Float64),
        ("y * sqrt(4.0)", DType::Float64),
        ("y * maximum(1.0, 2.0)", DType::Float64),
        ("y * where(True, 1.0, 2.0)", DType::Float64),
        ("y * clip(3.0, 0, 1)", DType::Float64),
        ("y * round(2.5)", DType::Float64),
        ("y * square(3)", DType::Float64),
        ("j * abs(7)", DType::Int64),
        ("j * square(3)", DType::Int64),
        ("y * float32(2)", DType::Float32),
        ("y * 2.0", DType::Float32),
        ("j * 3", DType::Int32),
    ] {
        assert_eq!(jitexpr::evaluate(e, &v).unwrap().dtype(), dtype, "{e}");
    }
}

/// numexpr's positional axis: `sum(x, 1)` is `sum(x, axis=1)`; both at once
/// is an error at the keyword.
#[test]
fn reductions_take_a_positional_axis_like_numexpr() {
    let x = array![[1.0, 3.0], [2.0, 2.0], [0.0, 4.0]];
    let v = Vars::new().with("x", &x);
    for (positional, keyword) in [
        ("sum(x, 1)", "sum(x, axis=1)"),
        ("max(x, 0)", "max(x, axis=0)"),
        ("x / sum(x, -1)", "x / sum(x, axis=-1)"),
    ] {
        let a = jitexpr::evaluate(positional, &v).unwrap();
        let b = jitexpr::evaluate(keyword, &v).unwrap();
        assert_eq!(a.shape(), b.shape(), "{positional}");
        assert_eq!(a.to_scalars(), b.to_scalars(), "{positional}");
    }
    let err = jitexpr::evaluate("sum(x, 1, axis=0)", &v).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
    assert_eq!(err.span().map(|s| s.start), Some(10));
    let err = jitexpr::evaluate("sum(x, x)", &v).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type, "{err:?}");
}

/// `Kernel::eval_into_flat` computes what the general path computes, for
/// every dtype, and declines (nothing written) what it is not for.
#[test]
fn flat_runs_give_the_general_results_or_decline() {
    use jitexpr::{Backend, Flat, FlatMut, Options};
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64)
        .with("i", DType::Int32)
        .with("m", DType::Bool);
    let n = 37;
    let a: Vec<f64> = (0..n).map(|k| k as f64 * 0.25 - 3.0).collect();
    let b: Vec<f64> = (0..n)
        .map(|k| if k == 5 { f64::NAN } else { 7.0 - k as f64 })
        .collect();
    let i: Vec<i32> = (0..n).map(|k| k as i32 - 18).collect();
    let m: Vec<bool> = (0..n).map(|k| k % 3 == 0).collect();
    let (av, bv) = (Array1::from(a.clone()), Array1::from(b.clone()));
    let (iv, mv) = (Array1::from(i.clone()), Array1::from(m.clone()));
    let vars = Vars::new()
        .with("a", &av)
        .with("b", &bv)
        .with("i", &iv)
        .with("m", &mv);
    let flats = [
        Flat::Float64(&a),
        Flat::Float64(&b),
        Flat::Int32(&i),
        Flat::Bool(&m),
    ];
    for (expr, dtype) in [
        ("a * b + i", DType::Float64),
        ("where(m, a, b) / 3", DType::Float64),
        ("(a > b) | m", DType::Bool),
        ("i * 3 - 1", DType::Int32),
    ] {
        let k = jitexpr::compile(expr, &sig).unwrap();
        let want = k.eval(&vars).unwrap();
        assert_eq!(want.dtype(), dtype);
        let got = match dtype {
            DType::Float64 => {
                let mut out = vec![0.0; n];
                assert!(
                    k.eval_into_flat(&flats, FlatMut::Float64(&mut out))
                        .unwrap()
                );
                Array::from(Array1::from(out).into_dyn())
            }
            DType::Bool => {
                let mut out = vec![false; n];
                assert!(k.eval_into_flat(&flats, FlatMut::Bool(&mut out)).unwrap());
                Array::from(Array1::from(out).into_dyn())
            }
            _ => {
                let mut out = vec![0; n];
                assert!(k.eval_into_flat(&flats, FlatMut::Int32(&mut out)).unwrap());
                Array::from(Array1::from(out).into_dyn())
            }
        };
        assert!(crate::common::same_bits(&got, &want), "{expr}");
    }
    // Declined, nothing written: a reduction, another length, another
    // dtype, too few inputs, the interpreter, a result of 16 MiB.
    let untouched = |k: &jitexpr::Kernel, flats: &[Flat<'_>], len: usize| {
        let mut out = vec![-1.5; len];
        let done = k.eval_into_flat(flats, FlatMut::Float64(&mut out)).unwrap();
        !done && out.iter().all(|&x| x == -1.5)
    };
    let k = jitexpr::compile("a * b + i", &sig).unwrap();
    assert!(untouched(
        &jitexpr::compile("a - sum(b) + i", &sig).unwrap(),
        &flats,
        n
    ));
    assert!(untouched(&k, &flats, n - 1));
    let short = [flats[0], Flat::Float64(&b[1..]), flats[2], flats[3]];
    assert!(untouched(&k, &short, n));
    let wrong = [flats[0], flats[1], Flat::Int64(&[0; 37]), flats[3]];
    assert!(untouched(&k, &wrong, n));
    assert!(untouched(&k, &flats[..3], n));
    let interp = jitexpr::compile_with(
        "a * b + i",
        &sig,
        Options::with_backend(Backend::Interpreter),
    )
    .unwrap();
    assert!(untouched(&interp, &flats, n));
    let (big, ints, mask) = (vec![1.5; 1 << 21], vec![-3; 1 << 21], vec![true; 1 << 21]);
    let bigs = [
        Flat::Float64(&big),
        Flat::Float64(&big),
        Flat::Int32(&ints),
        Flat::Bool(&mask),
    ];
    assert!(untouched(&k, &bigs, 1 << 21));
    // Work for the thread team, below that size: taken, every element.
    let m = 300_001;
    let mid = [
        Flat::Float64(&big[..m]),
        Flat::Float64(&big[..m]),
        Flat::Int32(&ints[..m]),
        Flat::Bool(&mask[..m]),
    ];
    let mut out = vec![0.0; m];
    assert!(k.eval_into_flat(&mid, FlatMut::Float64(&mut out)).unwrap());
    assert!(out.iter().all(|&x| x == 1.5 * 1.5 - 3.0));
}

/// numexpr's `copy(x)` is x's values in a new array; `ones_like(x)` is ones
/// of x's shape and dtype (`True` for bool, as NumPy's `ones_like`; numexpr
/// rejects bool), whatever the values (NaN, ±inf, -0) and on every backend.
#[test]
fn copy_and_ones_like_keep_shape_and_dtype() {
    let wide = array![
        1.0,
        9.0,
        f64::NAN,
        9.0,
        f64::NEG_INFINITY,
        9.0,
        -0.0,
        9.0,
        3.5,
        9.0
    ];
    let strided = wide.slice(s![..;2]);
    let i8s = array![[-128i8, 0, 127], [5, -1, 3]];
    let bools = array![true, false, false];
    let f32s = array![[f32::INFINITY], [-0.0], [1e-45]];
    let empty = Array2::<f64>::zeros((0, 4));
    let row = array![10.0f32, 20.0, 30.0];
    let vars = Vars::new()
        .with("s", &strided)
        .with("i", &i8s)
        .with("b", &bools)
        .with("f", &f32s)
        .with("e", &empty)
        .with("row", &row);
    for backend in backends() {
        let opts = Options::with_backend(backend);
        let names: &[&str] = if backend == Backend::Gpu {
            &["f", "b", "row"]
        } else {
            &["s", "i", "b", "f", "e", "row"]
        };
        for &name in names {
            let x = vars.get(name).unwrap().to_owned();
            let copy = jitexpr::evaluate_with(&format!("copy({name})"), &vars, opts).unwrap();
            assert_eq!(copy.dtype(), x.dtype(), "{backend:?} copy({name})");
            assert_eq!(copy.shape(), x.shape(), "{backend:?} copy({name})");
            let bits = |a: &Array| a.to_scalars().iter().map(|v| v.bits()).collect::<Vec<_>>();
            assert_eq!(bits(&copy), bits(&x), "{backend:?} copy({name})");
            let ones = jitexpr::evaluate_with(&format!("ones_like({name})"), &vars, opts).unwrap();
            assert_eq!(ones.dtype(), x.dtype(), "{backend:?} ones_like({name})");
            assert_eq!(ones.shape(), x.shape(), "{backend:?} ones_like({name})");
            let one = jitexpr::Scalar::one(x.dtype()).bits();
            assert!(
                ones.to_scalars().iter().all(|v| v.bits() == one),
                "{backend:?} ones_like({name}): {:?}",
                ones.to_scalars()
            );
        }
        // It broadcasts like x and sums to x's size.
        let r = jitexpr::evaluate_with("ones_like(f) * row", &vars, opts).unwrap();
        assert_eq!(r.shape(), &[3, 3], "{backend:?}");
        let want: Vec<f64> = [10.0, 20.0, 30.0].repeat(3);
        let got: Vec<f64> = r.to_scalars().iter().map(|v| v.to_f64()).collect();
        assert_eq!(got, want, "{backend:?}");
        let r = jitexpr::evaluate_with("sum(ones_like(f))", &vars, opts).unwrap();
        assert_eq!(r.to_scalars()[0].to_f64(), 3.0, "{backend:?}");
    }
}
