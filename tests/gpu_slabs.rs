//! The GPU backend's slab path: with the binding limit lowered to a few KiB,
//! stages run in slabs along axis 0 and must give the same results as when
//! everything fits (against the interpreter). A separate test binary: the
//! limit is process-wide.
#![cfg(feature = "gpu")]

mod common;

use common::{close, gpu_available, same_bits};
use jitexpr::internals::backend::wgsl::set_binding_limit;
use jitexpr::{Array, Backend, DType, ErrorKind, Options, Scalar, Vars};
use ndarray::{Array1, Array2, ArrayD, IxDyn};

#[test]
fn slabs_give_the_results_of_one_dispatch() {
    if !gpu_available() {
        return;
    }
    // 4 KiB per binding: a 100 x 50 float32 input (20 KB) needs 5+ slabs.
    set_binding_limit(Some(4096));
    let m = Array2::from_shape_fn((100, 50), |(r, c)| (r * 50 + c) as f32 * 0.01 - 7.0);
    let d = Array2::from_shape_fn((100, 50), |(r, c)| ((r + 3 * c) % 17) as f64 - 8.5);
    let row = Array1::from_shape_fn(50, |c| c as f32 * 0.5);
    let col = Array2::from_shape_fn((100, 1), |(r, _)| r as f32);
    let long = Array1::from_shape_fn(10_007, |j| (j % 101) as f32);
    let t = ArrayD::from_shape_fn(IxDyn(&[30, 4, 9]), |ix| {
        (ix[0] * 36 + ix[1] * 9 + ix[2]) as i32 - 500
    });
    // Matrix products whose buffers fit: fused into the final stage when
    // that fits one dispatch (f32 result, 2400 bytes), else the product
    // first and the stage in slabs (a float64 result of 4800 bytes).
    let p = Array2::from_shape_fn((20, 12), |(r, c)| (r as f32 - 3.0 * c as f32) * 0.25);
    let q = Array2::from_shape_fn((12, 30), |(r, c)| ((r * 7 + c) % 11) as f32 - 5.0);
    let vars = Vars::new()
        .with("p", &p)
        .with("q", &q)
        .with("m", &m)
        .with("d", &d)
        .with("row", &row)
        .with("col", &col)
        .with("long", &long)
        .with("t", &t);
    let gpu = Options::with_backend(Backend::Gpu);
    let interp = Options::with_backend(Backend::Interpreter);
    for e in [
        "m * 2 + row",
        "m - col",
        "where(m > col, m, row)",
        "d * d - d",
        "long * 3 + 1",
        "sum(m, axis=0)",
        "sum(m, axis=1)",
        "max(d, axis=0) - min(d, axis=1)",
        "sum(m)",
        "mean(d)",
        "m - mean(m, axis=1)",
        "m / sum(m * m, axis=0)",
        "sum(long)",
        "max(long)",
        "sum(t, axis=0)",
        "sum(t, axis=2)",
        "t - max(t, axis=1)",
        "sum(t)",
        "maximum(p @ q + 1, 0)",
        "float64(p @ q) * 2 - 1",
    ] {
        let want = jitexpr::evaluate_with(e, &vars, interp).unwrap();
        let got = jitexpr::evaluate_with(e, &vars, gpu)
            .unwrap_or_else(|err| panic!("{e}: {}", err.render()));
        assert!(
            close(&got, &want, 1e-5),
            "{e}\ngpu:    {got:?}\ninterp: {want:?}"
        );
    }
    // Packed dtypes: a 300 x 37 uint8 input (11,100 bytes) runs in slabs of
    // 110 rows, 4,070 bytes: slabs start and end inside a 32-bit word of the
    // input, and each slab's packed output is written in whole words of its
    // own buffer and copied back byte-exact (float16 rows are 74 bytes).
    narrow_dtypes_in_slabs(gpu, interp);
    // One row over the limit, or a broadcast input over it, cannot be split.
    let wide = Array2::from_shape_fn((2, 2000), |(r, c)| (r + c) as f32);
    let big_row = Array1::from_shape_fn(2000, |c| c as f32);
    let small = Array2::from_shape_fn((3, 1), |(r, _)| r as f32);
    for (e, vars) in [
        ("w + 1", Vars::new().with("w", &wide)),
        ("s + b", Vars::new().with("s", &small).with("b", &big_row)),
    ] {
        let err = jitexpr::evaluate_with(e, &vars, gpu).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "{e}");
        assert!(
            err.message().contains("binding limit"),
            "{e}: {}",
            err.message()
        );
    }
    set_binding_limit(None);
    let w = jitexpr::evaluate_with("w + 1", &Vars::new().with("w", &wide), gpu).unwrap();
    assert_eq!(w.to_scalars()[1999].to_f64(), 2000.0);
}

fn narrow_dtypes_in_slabs(gpu: Options, interp: Options) {
    let make = |d: DType, shape: &[usize], seed: i64| {
        let n: usize = shape.iter().product();
        let v: Vec<Scalar> = (0..n as i64)
            .map(|k| {
                let x = (k * 7919 + seed) % 1001 - 500;
                if d.is_float() {
                    Scalar::Float64(x as f64 * 0.37).cast(d)
                } else {
                    Scalar::Int64(x * 3).cast(d)
                }
            })
            .collect();
        Array::from_scalars(d, shape, &v).unwrap()
    };
    let u8s = make(DType::UInt8, &[300, 37], 1);
    let i8s = make(DType::Int8, &[300, 37], 2);
    let i16s = make(DType::Int16, &[300, 37], 3);
    let u16s = make(DType::UInt16, &[300, 37], 4);
    let h = make(DType::Float16, &[300, 37], 5);
    let row = make(DType::UInt8, &[37], 6);
    let col = make(DType::Int8, &[300, 1], 7);
    let a = make(DType::Int8, &[20, 30], 8);
    let b = make(DType::Int8, &[30, 33], 9);
    let vars = Vars::new()
        .with("u8s", u8s.view())
        .with("i8s", i8s.view())
        .with("i16s", i16s.view())
        .with("u16s", u16s.view())
        .with("h", h.view())
        .with("row", row.view())
        .with("col", col.view())
        .with("a", a.view())
        .with("b", b.view());
    for e in [
        "u8s * 3 + 1",
        "u8s - row",
        "i8s * col",
        "i16s + i8s",
        "u16s << 3",
        "h * 2 - h",
        "float16(i8s) + h",
        "uint8(h)",
        "where(u8s > row, u8s, row)",
        "min(u8s, axis=0)",
        "max(i8s, axis=1)",
        "i16s - min(i16s, axis=1)",
        "sum(u8s, axis=0)",
        "sum(i8s, axis=1)",
        "a @ b",
        "(a @ b) * 2 - 1",
    ] {
        let want = jitexpr::evaluate_with(e, &vars, interp);
        let got = jitexpr::evaluate_with(e, &vars, gpu);
        match (got, want) {
            (Ok(g), Ok(w)) => assert!(same_bits(&g, &w), "{e}\ngpu:    {g:?}\ninterp: {w:?}"),
            (Err(g), Err(w)) => assert_eq!(g.kind(), w.kind(), "{e}"),
            (g, w) => panic!("{e}: gpu {:?}, interp {:?}", g.err(), w.err()),
        }
    }
}
