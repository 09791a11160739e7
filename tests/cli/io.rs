//! The CLI's file input/output (`jitexpr::cli::io`) and array printing
//! (`jitexpr::cli::print`), checked against files and text written by NumPy
//! (`tests/data/npy/make_npy.py`).
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};

use jitexpr::cli::io::{
    load_value, load_value_with_cancel, save, save_many, save_many_with_cancel,
};
use jitexpr::cli::print::format_array;
use jitexpr::{Array, CancelToken, DType, ErrorKind};
use ndarray::{ArrayD, IxDyn, ShapeBuilder};

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/npy")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn load(name: &str) -> Array {
    load_value(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The elements in logical (row-major) order, as comparable bit patterns; every NaN is
/// one pattern.
fn bits(a: &Array) -> Vec<u64> {
    match a {
        Array::Bool(x) => x.iter().map(|&v| v as u64).collect(),
        Array::Int32(x) => x.iter().map(|&v| v as i64 as u64).collect(),
        Array::Int64(x) => x.iter().map(|&v| v as u64).collect(),
        Array::Float16(x) => x
            .iter()
            .map(|&v| {
                if v.is_nan() {
                    u64::MAX
                } else {
                    u64::from(v.to_bits())
                }
            })
            .collect(),
        Array::Float32(x) => x
            .iter()
            .map(|&v| {
                if v.is_nan() {
                    u64::MAX
                } else {
                    v.to_bits() as u64
                }
            })
            .collect(),
        Array::Float64(x) => x
            .iter()
            .map(|&v| if v.is_nan() { u64::MAX } else { v.to_bits() })
            .collect(),
        other => other.to_scalars().iter().map(|s| s.bits()).collect(),
    }
}

#[track_caller]
fn assert_same(got: &Array, want: &Array) {
    assert_eq!(got.dtype(), want.dtype());
    assert_eq!(got.shape(), want.shape());
    assert_eq!(bits(got), bits(want), "values differ: {got:?} vs {want:?}");
}

fn is_fortran(a: &Array) -> bool {
    a.shape().len() >= 2 && a.view().is_fortran_contiguous() && !is_c(a)
}

fn is_c(a: &Array) -> bool {
    // C order: the logical order is the memory order.
    let strides_c = |shape: &[usize], strides: &[isize]| {
        let mut want = 1isize;
        shape.iter().zip(strides).rev().all(|(&n, &s)| {
            let ok = n <= 1 || s == want;
            want *= n as isize;
            ok
        })
    };
    match a {
        Array::Bool(x) => x.is_standard_layout(),
        Array::Int32(x) => x.is_standard_layout(),
        Array::Int64(x) => x.is_standard_layout(),
        Array::Float32(x) => x.is_standard_layout(),
        Array::Float64(x) => x.is_standard_layout(),
        Array::Int8(x) => strides_c(x.shape(), x.strides()),
        Array::Int16(x) => strides_c(x.shape(), x.strides()),
        Array::UInt8(x) => strides_c(x.shape(), x.strides()),
        Array::UInt16(x) => strides_c(x.shape(), x.strides()),
        Array::UInt32(x) => strides_c(x.shape(), x.strides()),
        Array::UInt64(x) => strides_c(x.shape(), x.strides()),
        Array::Float16(x) => strides_c(x.shape(), x.strides()),
        Array::Complex64(x) => strides_c(x.shape(), x.strides()),
        Array::Complex128(x) => strides_c(x.shape(), x.strides()),
    }
}

// The values make_npy.py writes (2x3, row-major).
const FLOAT: [f64; 6] = [1.5, -2.25, 0.1, f64::NAN, f64::INFINITY, -0.0];
const I4: [i32; 6] = [1, -2, 3, 2147483647, -2147483648, 0];
const I8: [i64; 6] = [1, -2, 3, 1 << 62, i64::MIN, i64::MAX];
const B1: [bool; 6] = [true, false, true, false, false, true];
const NARROW_I1: [i8; 6] = [1, -2, 127, -128, 0, 5];
const NARROW_U1: [u8; 6] = [0, 1, 255, 128, 7, 200];
const NARROW_I2: [i16; 6] = [1, -2, 3, 32767, -32768, 0];
const NARROW_U2: [u16; 6] = [1, 2, 3, 65535, 0, 300];
const NARROW_U4: [u32; 6] = [1, 2, 3, u32::MAX, 0, 70000];
const NARROW_U8: [u64; 6] = [1, 2, 3, u64::MAX, 0, 1 << 63];

/// The complex values make_npy.py writes (2x3, row-major).
const CPLX: [(f64, f64); 6] = [
    (1.0, 2.0),
    (-0.5, 0.0),
    (f64::INFINITY, -2.0),
    (f64::NAN, 1.0),
    (0.1, 0.2),
    // Python's -3j is -(0+3j): a negative zero real part.
    (-0.0, -3.0),
];

fn c128s() -> [jitexpr::c64; 6] {
    CPLX.map(|(r, i)| jitexpr::c64::new(r, i))
}

fn c64s() -> [jitexpr::c32; 6] {
    CPLX.map(|(r, i)| jitexpr::c32::new(r as f32, i as f32))
}

fn arr<T: Clone>(shape: &[usize], v: &[T]) -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap()
}

fn expected_2x3(code: &str) -> Array {
    match code {
        "f8" => Array::Float64(arr(&[2, 3], &FLOAT)),
        // NumPy casts the Python floats (f64) to float32.
        "f4" => Array::Float32(arr(&[2, 3], &FLOAT.map(|v| v as f32))),
        "i8" => Array::Int64(arr(&[2, 3], &I8)),
        "i4" => Array::Int32(arr(&[2, 3], &I4)),
        "b1" => Array::Bool(arr(&[2, 3], &B1)),
        "i1" => Array::Int8(arr(&[2, 3], &NARROW_I1)),
        "u1" => Array::UInt8(arr(&[2, 3], &NARROW_U1)),
        "i2" => Array::Int16(arr(&[2, 3], &NARROW_I2)),
        "u2" => Array::UInt16(arr(&[2, 3], &NARROW_U2)),
        "u4" => Array::UInt32(arr(&[2, 3], &NARROW_U4)),
        "u8" => Array::UInt64(arr(&[2, 3], &NARROW_U8)),
        // NumPy rounds the Python floats to float16 (0.1 to 0.0999755859375).
        "f2" => Array::Float16(arr(&[2, 3], &FLOAT.map(jitexpr::f16::from_f64))),
        "c16" => Array::Complex128(arr(&[2, 3], &c128s())),
        "c8" => Array::Complex64(arr(&[2, 3], &c64s())),
        _ => unreachable!(),
    }
}

#[test]
fn reads_every_dtype_order_and_byte_order() {
    for code in [
        "f8", "f4", "i8", "i4", "i2", "u2", "u4", "u8", "f2", "i1", "u1", "c8", "c16",
    ] {
        for order in ["C", "F"] {
            // One-byte dtypes have no byte order ('|u1').
            let endians: &[&str] = if code.ends_with('1') {
                &["le"]
            } else {
                &["le", "be"]
            };
            for &endian in endians {
                let name = format!("{code}_{order}_{endian}.npy");
                let a = load(&name);
                assert_same(&a, &expected_2x3(code));
                assert_eq!(is_fortran(&a), order == "F", "{name}");
            }
        }
    }
    for order in ["C", "F"] {
        let a = load(&format!("b1_{order}.npy"));
        assert_same(&a, &expected_2x3("b1"));
        assert_eq!(is_fortran(&a), order == "F");
    }
    let a = load("i8_F_3d.npy");
    let want: Vec<i64> = (0..2)
        .flat_map(|i| (0..3).flat_map(move |j| (0..4).map(move |k| 100 * i + 10 * j + k)))
        .collect();
    assert_same(&a, &Array::Int64(arr(&[2, 3, 4], &want)));
    assert!(is_fortran(&a));
}

#[test]
fn reads_zero_d_empty_and_newer_versions() {
    let scalar = |a: ArrayD<_>| a;
    assert_same(
        &load("f8_0d.npy"),
        &Array::Float64(scalar(ArrayD::from_elem(IxDyn(&[]), 3.25))),
    );
    assert_same(
        &load("f8_0d_be.npy"),
        &Array::Float64(ArrayD::from_elem(IxDyn(&[]), 3.25)),
    );
    assert_same(
        &load("f4_0d.npy"),
        &Array::Float32(ArrayD::from_elem(IxDyn(&[]), -0.5)),
    );
    assert_same(
        &load("i8_0d.npy"),
        &Array::Int64(ArrayD::from_elem(IxDyn(&[]), -7)),
    );
    assert_same(
        &load("i4_0d.npy"),
        &Array::Int32(ArrayD::from_elem(IxDyn(&[]), 42)),
    );
    assert_same(
        &load("b1_0d.npy"),
        &Array::Bool(ArrayD::from_elem(IxDyn(&[]), true)),
    );
    for (code, dtype) in [
        ("f8", DType::Float64),
        ("f4", DType::Float32),
        ("i8", DType::Int64),
        ("i4", DType::Int32),
        ("b1", DType::Bool),
    ] {
        let a = load(&format!("{code}_empty.npy"));
        assert_eq!((a.dtype(), a.shape()), (dtype, &[0][..]));
    }
    let a = load("f8_empty_2x0.npy");
    assert_eq!((a.dtype(), a.shape()), (DType::Float64, &[2, 0][..]));
    let a = load("i4_empty_0x3_F.npy");
    assert_eq!((a.dtype(), a.shape()), (DType::Int32, &[0, 3][..]));
    for v in ["f8_v2.npy", "f8_v3.npy"] {
        assert_same(&load(v), &Array::Float64(arr(&[3], &[1.0, 2.0, 3.0])));
    }
}

#[test]
fn reads_npz_members() {
    assert_same(
        &load("two.npz:a"),
        &Array::Float64(arr(&[3], &[1.0, 2.0, 3.0])),
    );
    assert_same(
        &load("two.npz:b"),
        &Array::Int32(arr(&[2, 2], &[1, 2, 3, 4])),
    );
    assert_same(&load("one.npz"), &Array::Bool(arr(&[2], &[true, false])));
    assert_same(&load("one.npz:x"), &Array::Bool(arr(&[2], &[true, false])));
    assert_same(
        &load("compressed.npz:f"),
        &Array::Float32(arr(&[2], &[0.5, -1.0])),
    );
    assert_same(
        &load("compressed.npz:big"),
        &Array::Int64(arr(&[2, 2], &[1, 2, 3, 4])),
    );
    let f = load("compressed.npz:fort");
    assert_same(
        &f,
        &Array::Float64(arr(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
    );
    assert!(is_fortran(&f));
    assert_same(
        &load("compressed.npz:scalar"),
        &Array::Int64(ArrayD::from_elem(IxDyn(&[]), 7)),
    );
    assert_same(
        &load("unsupported.npz:ok"),
        &Array::Float64(arr(&[1], &[1.0])),
    );

    let e = load_value(&data("two.npz")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Value);
    assert!(e.help().unwrap().contains("a, b"), "{:?}", e.help());
    let e = load_value(&data("two.npz:c")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Name);
    assert!(e.message().contains("'c'") && e.help().unwrap().contains("a, b"));
    let e = load_value(&data("unsupported.npz:u")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Value);
    assert!(
        e.message().contains("complex256") && e.message().contains("unsupported.npz:u"),
        "{e}"
    );
    // np.savez(c=np.array([1+2j, -0.5-0j], '>c8'), z=np.array([[3-4j]], '<c16'))
    assert_same(
        &load("complex.npz:c"),
        &Array::Complex64(arr(
            &[2],
            &[jitexpr::c32::new(1.0, 2.0), jitexpr::c32::new(-0.5, 0.0)],
        )),
    );
    assert_same(
        &load("complex.npz:z"),
        &Array::Complex128(arr(&[1, 1], &[jitexpr::c64::new(3.0, -4.0)])),
    );
    // np.savez(u1=np.array([0, 255], np.uint8), i2=np.array([-3, 4], '>i2'),
    //          u8=np.array([2**64 - 1], np.uint64))
    assert_same(&load("narrow.npz:u1"), &Array::UInt8(arr(&[2], &[0, 255])));
    assert_same(&load("narrow.npz:i2"), &Array::Int16(arr(&[2], &[-3, 4])));
    assert_same(
        &load("narrow.npz:u8"),
        &Array::UInt64(arr(&[1], &[u64::MAX])),
    );
}

#[test]
fn unsupported_and_broken_files() {
    for (file, what, help) in [
        ("c32.npy", "complex256 ('<c32')", "astype('complex128')"),
        ("obj.npy", "object ('|O')", "astype('float64')"),
        ("str.npy", "str ('<U3')", "astype"),
        (
            "structured.npy",
            "structured ([('a', '<f8'), ('b', '<i4')])",
            "astype",
        ),
    ] {
        let e = load_value(&data(file)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Value, "{file}");
        assert!(e.message().contains(what), "{file}: {e}");
        assert!(e.message().contains(file), "{file}: {e}");
        assert!(e.help().unwrap().contains(help), "{file}: {:?}", e.help());
    }
    for file in ["not_npy.npy", "truncated.npy"] {
        let e = load_value(&data(file)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Value, "{file}: {e}");
        assert!(e.message().contains(file), "{e}");
    }
    for missing in ["no_such_file.npy", "no_such_file.npz:a", "no_such_file"] {
        let e = load_value(&data(missing)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io, "{missing}: {e}");
        assert!(e.message().contains("no_such_file"), "{e}");
    }
    assert_eq!(ErrorKind::Io.title(), "I/O error");
}

#[test]
fn numbers() {
    let f = |s: &str| load_value(s).unwrap();
    assert_same(
        &f("2.5"),
        &Array::Float64(ArrayD::from_elem(IxDyn(&[]), 2.5)),
    );
    assert_same(
        &f("1e-3"),
        &Array::Float64(ArrayD::from_elem(IxDyn(&[]), 1e-3)),
    );
    assert_same(
        &f("-inf"),
        &Array::Float64(ArrayD::from_elem(IxDyn(&[]), f64::NEG_INFINITY)),
    );
    assert_same(
        &f("inf"),
        &Array::Float64(ArrayD::from_elem(IxDyn(&[]), f64::INFINITY)),
    );
    assert_same(
        &f("nan"),
        &Array::Float64(ArrayD::from_elem(IxDyn(&[]), f64::NAN)),
    );
    assert_same(&f("-3"), &Array::Int64(ArrayD::from_elem(IxDyn(&[]), -3)));
    assert_same(
        &f("true"),
        &Array::Bool(ArrayD::from_elem(IxDyn(&[]), true)),
    );
    assert_same(
        &f("false"),
        &Array::Bool(ArrayD::from_elem(IxDyn(&[]), false)),
    );
    assert_eq!(
        load_value("123456789012345678901").unwrap_err().kind(),
        ErrorKind::Value
    );
}

// --- Writing -------------------------------------------------------------------------

/// A sample of each dtype in several layouts: (label, array).
fn samples() -> Vec<(String, Array)> {
    fn layouts<T: Clone>(v: &[T; 6], wrap: fn(ArrayD<T>) -> Array) -> Vec<(&'static str, Array)> {
        let c = arr(&[2, 3], v);
        let f = ArrayD::from_shape_vec(IxDyn(&[2, 3]).f(), v.to_vec()).unwrap();
        vec![
            ("C", wrap(c.clone())),
            ("F", wrap(f)),
            ("1d", wrap(arr(&[6], v))),
            ("0d", wrap(ArrayD::from_elem(IxDyn(&[]), v[1].clone()))),
            ("empty", wrap(arr(&[0], &[]))),
            ("empty2", wrap(arr(&[2, 0], &[]))),
            ("3d", wrap(arr(&[1, 2, 3], v))),
            // A non-contiguous view (every other column), owned.
            (
                "strided",
                wrap(c.slice_move(ndarray::s![.., ..;2]).into_dyn()),
            ),
        ]
    }
    let mut out = Vec::new();
    let sets = [
        ("f8", layouts(&FLOAT, Array::Float64)),
        ("f4", layouts(&FLOAT.map(|v| v as f32), Array::Float32)),
        ("i8", layouts(&I8, Array::Int64)),
        ("i4", layouts(&I4, Array::Int32)),
        ("b1", layouts(&B1, Array::Bool)),
        ("i1", layouts(&NARROW_I1, Array::Int8)),
        ("u1", layouts(&NARROW_U1, Array::UInt8)),
        ("i2", layouts(&NARROW_I2, Array::Int16)),
        ("u2", layouts(&NARROW_U2, Array::UInt16)),
        ("u4", layouts(&NARROW_U4, Array::UInt32)),
        ("u8", layouts(&NARROW_U8, Array::UInt64)),
        (
            "f2",
            layouts(&FLOAT.map(jitexpr::f16::from_f64), Array::Float16),
        ),
        ("c16", layouts(&c128s(), Array::Complex128)),
        ("c8", layouts(&c64s(), Array::Complex64)),
    ];
    for (code, set) in sets {
        for (label, a) in set {
            out.push((format!("{code}_{label}"), a));
        }
    }
    out
}

#[test]
fn npy_and_npz_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    for (label, a) in samples() {
        let npy = dir.path().join(format!("{label}.npy"));
        save(&npy, &a).unwrap();
        let b = load_value(npy.to_str().unwrap()).unwrap();
        assert_same(&b, &a);
        assert_eq!(is_fortran(&b), is_fortran(&a), "{label}");

        let npz = dir.path().join(format!("{label}.NPZ"));
        save(&npz, &a).unwrap();
        assert_same(&load_value(npz.to_str().unwrap()).unwrap(), &a);
        assert_same(
            &load_value(&format!("{}:result", npz.display())).unwrap(),
            &a,
        );
    }
    let all = samples();
    let named: Vec<(&str, &Array)> = all.iter().map(|(l, a)| (l.as_str(), a)).collect();
    let npz = dir.path().join("many.npz");
    save_many(&npz, &named).unwrap();
    for (label, a) in &all {
        assert_same(
            &load_value(&format!("{}:{label}", npz.display())).unwrap(),
            a,
        );
    }
    // Only .npz takes several arrays; names must be distinct.
    let e = save_many(&dir.path().join("many.npy"), &named).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Value);
    let e = save_many(&npz, &[("x", &all[0].1), ("x", &all[1].1)]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Value);
}

/// float16 has its own `.npy` reader and writer (ndarray-npy has no f16):
/// round trips in every layout, the special values' bits kept, a NumPy-made
/// big-endian .npz member, and text output as NumPy prints it (.npz and CSV
/// round trips are in `samples`).
#[test]
fn float16_npy_round_trips_and_prints() {
    use jitexpr::f16;
    let v = FLOAT.map(f16::from_f64);
    let dir = tempfile::tempdir().unwrap();
    let c = arr(&[2, 3], &v);
    let f = ArrayD::from_shape_vec(IxDyn(&[2, 3]).f(), v.to_vec()).unwrap();
    let zero_d = ArrayD::from_elem(IxDyn(&[]), f16::from_f64(-0.5));
    for (label, a) in [
        ("C", c),
        ("F", f),
        ("0d", zero_d),
        ("empty", arr(&[0], &[])),
    ] {
        let a = Array::Float16(a);
        let p = dir.path().join(format!("h_{label}.npy"));
        save(&p, &a).unwrap();
        let b = load_value(p.to_str().unwrap()).unwrap();
        assert_same(&b, &a);
    }
    // np.savez(..., h=np.array([0.1, -2.5, np.inf], dtype='>f2'))
    assert_same(
        &load("narrow.npz:h"),
        &Array::Float16(arr(&[3], &[0.1, -2.5, f64::INFINITY].map(f16::from_f64))),
    );
    // str(np.array([1.5, -2.25, 0.1, nan, inf, -0.0], np.float16))
    let printed = format_array(&Array::Float16(arr(&[6], &v)));
    assert_eq!(
        printed,
        "[ 1.5  -2.25  0.1    nan   inf -0.  ]\nshape=(6,), dtype=float16"
    );
}

/// Reads back CSV text as `np.loadtxt(..., delimiter=',', ndmin=...)` would, with Rust's
/// parsers (which accept the same float syntax as Python's `float()`).
fn parse_csv(text: &str, dtype: DType, shape: &[usize]) -> Array {
    let cells: Vec<&str> = text
        .lines()
        .flat_map(|l| l.split(',').filter(|c| !c.is_empty()))
        .collect();
    let n = cells.len();
    let shape = if shape.iter().product::<usize>() == n {
        shape.to_vec()
    } else {
        vec![n]
    };
    match dtype {
        DType::Float64 => Array::Float64(arr(
            &shape,
            &cells
                .iter()
                .map(|c| c.parse().unwrap())
                .collect::<Vec<f64>>(),
        )),
        DType::Float32 => Array::Float32(arr(
            &shape,
            &cells
                .iter()
                .map(|c| c.parse().unwrap())
                .collect::<Vec<f32>>(),
        )),
        DType::Int64 => Array::Int64(arr(
            &shape,
            &cells
                .iter()
                .map(|c| c.parse().unwrap())
                .collect::<Vec<i64>>(),
        )),
        DType::Int32 => Array::Int32(arr(
            &shape,
            &cells
                .iter()
                .map(|c| c.parse().unwrap())
                .collect::<Vec<i32>>(),
        )),
        DType::Bool => Array::Bool(arr(
            &shape,
            &cells.iter().map(|c| *c == "1").collect::<Vec<bool>>(),
        )),
        other => {
            let values: Vec<jitexpr::Scalar> = cells
                .iter()
                .map(|c| match other {
                    DType::Complex64 | DType::Complex128 => {
                        let (re, im) = parse_complex(c);
                        jitexpr::Scalar::Complex128(jitexpr::c64::new(re, im))
                    }
                    DType::UInt64 => jitexpr::Scalar::UInt64(c.parse().unwrap()),
                    d if d.is_int() => jitexpr::Scalar::Int64(c.parse().unwrap()),
                    _ => jitexpr::Scalar::Float64(c.parse().unwrap()),
                })
                .collect();
            Array::from_scalars(other, &shape, &values).unwrap()
        }
    }
}

/// `(re+imj)` as the CSV writer (and NumPy's savetxt) writes a complex value.
fn parse_complex(cell: &str) -> (f64, f64) {
    let body = cell
        .strip_prefix('(')
        .and_then(|c| c.strip_suffix("j)"))
        .unwrap_or_else(|| panic!("not a complex cell: {cell}"));
    // The imaginary part starts at the last sign that does not follow an `e`.
    let at = body
        .char_indices()
        .rfind(|&(i, ch)| i > 0 && (ch == '+' || ch == '-') && !body[..i].ends_with(['e', 'E']))
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no imaginary part: {cell}"));
    let num = |t: &str| -> f64 { t.trim_start_matches('+').parse().unwrap() };
    (num(&body[..at]), num(&body[at..]))
}

#[test]
fn csv_output() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.csv");
    save(&p, &Array::Float64(arr(&[2, 3], &FLOAT))).unwrap();
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "1.5,-2.25,0.1\nnan,inf,-0.0\n"
    );
    save(&p, &Array::Bool(arr(&[3], &[true, false, true]))).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "1\n0\n1\n");
    save(&p, &Array::Int64(ArrayD::from_elem(IxDyn(&[]), i64::MIN))).unwrap();
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "-9223372036854775808\n"
    );
    save(&p, &Array::Float32(arr(&[2], &[0.1f32, 1e-7]))).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "0.1\n1e-7\n");

    for (label, a) in samples() {
        if a.shape().len() > 2 {
            continue;
        }
        save(&p, &a).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let b = parse_csv(&text, a.dtype(), a.shape());
        if !a.is_empty() {
            assert_same(&b, &a);
        } else {
            assert_eq!(b.len(), 0, "{label}");
        }
    }
}

/// With a Python that has NumPy (JITEXPR_TEST_PYTHON, or /work/venv/bin/python), checks
/// that `np.loadtxt` reads the CSV files back exactly; skipped otherwise.
#[test]
fn csv_reads_back_with_numpy_loadtxt() {
    let python = std::env::var_os("JITEXPR_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/venv/bin/python"));
    let ok = std::process::Command::new(&python)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: no Python with NumPy at {}", python.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for (label, a) in samples() {
        if a.shape().len() > 2 || a.is_empty() {
            continue;
        }
        let csv = dir.path().join(format!("{label}.csv"));
        save(&csv, &a).unwrap();
        let np_dtype = a.dtype().name();
        let out = dir.path().join(format!("{label}.back.npy"));
        jobs.push(format!(
            "np.save({:?}, np.loadtxt({:?}, delimiter=',', dtype='{np_dtype}', ndmin={}))",
            out.to_str().unwrap(),
            csv.to_str().unwrap(),
            a.shape().len()
        ));
    }
    let script = format!("import numpy as np\n{}\n", jobs.join("\n"));
    let o = std::process::Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (label, a) in samples() {
        if a.shape().len() > 2 || a.is_empty() {
            continue;
        }
        let back = load_value(
            dir.path()
                .join(format!("{label}.back.npy"))
                .to_str()
                .unwrap(),
        )
        .unwrap();
        assert_same(&back, &a);
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn failed_saves_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let a = Array::Float64(arr(&[2], &[1.0, 2.0]));

    // A directory that does not exist: an I/O error, and nothing is created.
    let target = dir.path().join("missing_dir").join("out.npy");
    let e = save(&target, &a).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.message().contains("out.npy"), "{e}");
    assert!(entries(dir.path()).is_empty());

    // An array CSV cannot hold: the existing file keeps its content, no temporary remains.
    let csv = dir.path().join("keep.csv");
    std::fs::write(&csv, "old content\n").unwrap();
    let cube = Array::Int32(arr(&[1, 1, 2], &[1, 2]));
    let e = save(&csv, &cube).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Value);
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "old content\n");
    assert_eq!(entries(dir.path()), ["keep.csv"]);

    // An unknown extension.
    let e = save(&dir.path().join("out.txt"), &a).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Value);
    let help = e.help().unwrap();
    assert!(help.contains(".npy") && help.contains(".npz") && help.contains(".csv"));
    assert_eq!(entries(dir.path()), ["keep.csv"]);

    // The target is a directory: the rename fails, the temporary is removed.
    std::fs::create_dir(dir.path().join("d.npy")).unwrap();
    std::fs::write(dir.path().join("d.npy").join("inner"), "x").unwrap();
    assert_eq!(
        save(&dir.path().join("d.npy"), &a).unwrap_err().kind(),
        ErrorKind::Io
    );
    assert_eq!(entries(dir.path()), ["d.npy", "keep.csv"]);

    // A successful save replaces the content.
    save(&csv, &a).unwrap();
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "1.0\n2.0\n");
    assert_eq!(entries(dir.path()), ["d.npy", "keep.csv"]);
}

#[cfg(unix)]
#[test]
fn saved_files_get_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let a = Array::Float64(arr(&[1], &[1.0]));
    let p = dir.path().join("new.npy");
    save(&p, &a).unwrap();
    // Readable by others unless the umask forbids it (tempfile alone would give 0o600).
    let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    let umask = {
        let probe = dir.path().join("probe");
        std::fs::File::create(&probe).unwrap();
        std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode, umask);
    // An existing file keeps its mode.
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    save(&p, &a).unwrap();
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

// --- Printing ------------------------------------------------------------------------

/// Every case of print_expected.txt: the array from print_cases.npz, printed as NumPy does.
#[test]
fn prints_like_numpy() {
    let text = std::fs::read_to_string(data("print_expected.txt")).unwrap();
    let mut cases: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            cases.push((name.to_string(), String::new()));
        } else {
            let body = &mut cases.last_mut().unwrap().1;
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(line);
        }
    }
    assert!(cases.len() >= 50, "{}", cases.len());
    let mut failures = Vec::new();
    for (name, want) in &cases {
        let a = load_value(&format!("{}:{name}", data("print_cases.npz"))).unwrap();
        let got = format_array(&a);
        if &got != want {
            failures.push(format!("--- {name}\nwant:\n{want}\ngot:\n{got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn prints_a_few_by_hand() {
    let f = |v: &[f64]| format_array(&Array::Float64(arr(&[v.len()], v)));
    assert_eq!(f(&[1.0, 2.0, 3.0]), "[1. 2. 3.]\nshape=(3,), dtype=float64");
    assert_eq!(
        format_array(&Array::Int64(arr(&[2, 2], &[1, 2, 3, 4]))),
        "[[1 2]\n [3 4]]\nshape=(2, 2), dtype=int64"
    );
    assert_eq!(
        format_array(&Array::Bool(ArrayD::from_elem(IxDyn(&[]), false))),
        "False\nshape=(), dtype=bool"
    );
    assert_eq!(
        f(&[f64::NAN, f64::NEG_INFINITY]),
        "[ nan -inf]\nshape=(2,), dtype=float64"
    );
}

/// A `.npy` header of `shape` (float64, version 1.0), padded as NumPy pads it.
fn npy_header(shape: &str) -> Vec<u8> {
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    let mut text = dict.into_bytes();
    while (10 + text.len() + 1) % 64 != 0 {
        text.push(b' ');
    }
    text.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(&text);
    out
}

/// A small file whose header declares far more data than it holds is an
/// error naming the sizes, before anything of the declared size is
/// allocated (it used to abort with "memory allocation of 8000000000000
/// bytes failed"), through `.npy`, `.npz` and `.npz:member`.
#[test]
fn headers_declaring_more_data_than_the_file_holds_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.npy");
    let mut bytes = npy_header("(1000000000000,)");
    bytes.extend_from_slice(&[0u8; 80]);
    std::fs::write(&huge, &bytes).unwrap();
    let overflow = dir.path().join("overflow.npy");
    std::fs::write(&overflow, npy_header("(4294967296, 4294967296, 16)")).unwrap();
    // One element short of what the header declares.
    let short = dir.path().join("short.npy");
    let mut bytes = npy_header("(3,)");
    bytes.extend_from_slice(&[0u8; 16]);
    std::fs::write(&short, &bytes).unwrap();
    let npz = dir.path().join("huge.npz");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&npz).unwrap());
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("x.npy", stored).unwrap();
        std::io::Write::write_all(&mut zip, &npy_header("(1000000000000,)")).unwrap();
        zip.finish().unwrap();
    }
    for (spec, declared) in [
        (huge.display().to_string(), "(1000000000000,)"),
        (
            overflow.display().to_string(),
            "(4294967296, 4294967296, 16)",
        ),
        (short.display().to_string(), "(3,)"),
        (npz.display().to_string(), "(1000000000000,)"),
        (format!("{}:x", npz.display()), "(1000000000000,)"),
    ] {
        let err = load_value(&spec).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Value, "{spec}: {err}");
        assert!(
            err.message()
                .contains(&format!("declares shape {declared}")),
            "{spec}: {}",
            err.message()
        );
    }
    // More axes than NumPy allows (it took minutes to print 100,001 of them).
    let deep = dir.path().join("deep.npy");
    let mut bytes = npy_header(&format!("({})", "1, ".repeat(65)));
    bytes.extend_from_slice(&[0u8; 8]);
    std::fs::write(&deep, &bytes).unwrap();
    let err = load_value(deep.to_str().unwrap()).unwrap_err();
    assert!(err.message().contains("65 dimensions"), "{}", err.message());
    // The same header with its data is read.
    let ok = dir.path().join("ok.npy");
    let mut bytes = npy_header("(3,)");
    bytes.extend_from_slice(&[0u8; 24]);
    std::fs::write(&ok, &bytes).unwrap();
    assert_eq!(load_value(ok.to_str().unwrap()).unwrap().shape(), &[3]);
}

/// A cancelled token (Ctrl-C) stops loads and saves with a `Cancelled` error; a
/// cancelled save leaves an existing file as it was and no temporary file behind.
/// (Cancelling midway, within a MiB: the unit tests of `cli::io`.)
#[test]
fn cancelled_loads_and_saves_stop_and_keep_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let big = Array::Float64(ArrayD::from_shape_fn(IxDyn(&[1 << 20]), |i| i[0] as f64));
    let small = Array::Int32(ArrayD::from_elem(IxDyn(&[3]), 7));
    for ext in ["npy", "npz", "csv"] {
        let path = dir.path().join(format!("out.{ext}"));
        save(&path, &small).unwrap();
        let before = std::fs::read(&path).unwrap();
        let token = CancelToken::new();
        token.cancel();
        let e = save_many_with_cancel(&path, &[("result", &big)], &token).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled, "{ext}: {e}");
        assert!(e.message().contains("cancelled"), "{ext}: {}", e.message());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "{ext}: target changed"
        );
        // Not cancelled: written.
        save_many_with_cancel(&path, &[("result", &big)], &CancelToken::new()).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 1 << 20, "{ext}");
    }
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "temporary files left: {names:?}");
    for spec in ["out.npy", "out.npz", "out.npz:result"] {
        let spec = dir.path().join(spec).to_string_lossy().into_owned();
        let token = CancelToken::new();
        token.cancel();
        let e = load_value_with_cancel(&spec, &token).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled, "{spec}: {e}");
        assert_eq!(e.message(), format!("loading '{spec}' cancelled"));
        let a = load_value_with_cancel(&spec, &CancelToken::new()).unwrap();
        assert_eq!(bits(&a), bits(&big), "{spec}");
    }
}
