//! Accuracy of the vectorized math functions of `backend::jit::vmath` against
//! the scalar reference (`ir::scalar`, i.e. Rust std on the platform libm).
//!
//! Each function is JIT-compiled into a loop over F64X2 / F32X4 vectors and run
//! over a sample of points: random bit patterns (every exponent, subnormals
//! and huge values included), log-uniform magnitudes, uniform points in the
//! function's main interval, and a list of special values. Asserted: at most
//! `MAX_ULP` (4) units in the last place from the reference (the reference is
//! itself within 1 ulp of the truth, so within 5 of the truth), NaN exactly
//! where the reference is NaN, and special inputs (±0, ±inf, NaN, thresholds)
//! bit for bit.
//!
//! A unit test module (it compiles and calls raw kernels through `call`,
//! which is private to the crate): `cargo test --lib accuracy_tests --
//! --nocapture` prints the table of max ulp per function; `cargo test
//! --release --lib accuracy_tests -- --ignored --nocapture` runs the large
//! sample (2e6 points per function and type).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, Function, InstBuilder, MemFlagsData, Type, UserFuncName, types,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};
use std::collections::HashMap;

use crate::array::Element;
use crate::backend::jit::{aot, call, runtime, vmath};
use crate::ir::op::{BinaryOp, UnaryOp};
use crate::ir::scalar;
use crate::{DType, Scalar};
use cranelift_module::FuncId;
use ndarray::Array1;

const MAX_ULP: u64 = 4;

thread_local! {
    /// ns per element of the last kernel run (includes slow-path lanes).
    static LAST_NS: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

#[derive(Clone, Copy, Debug)]
enum Op {
    U(UnaryOp),
    B(BinaryOp),
}

impl Op {
    fn name(self) -> String {
        match self {
            Op::U(u) => format!("{u:?}").to_lowercase(),
            Op::B(b) => format!("{b:?}").to_lowercase(),
        }
    }
    fn arity(self) -> usize {
        match self {
            Op::U(_) => 1,
            Op::B(_) => 2,
        }
    }
}

/// The functions with a vector version, as the op table declares them.
fn unary_ops() -> Vec<UnaryOp> {
    UnaryOp::ALL
        .iter()
        .copied()
        .filter(|op| op.implementation().fast().vector)
        .collect()
}

fn binary_ops() -> Vec<BinaryOp> {
    BinaryOp::ALL
        .iter()
        .copied()
        .filter(|op| op.implementation().fast().vector)
        .collect()
}

fn new_module() -> JITModule {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").unwrap();
    flags.set("use_colocated_libcalls", "false").unwrap();
    flags.set("is_pic", "false").unwrap();
    let isa = cranelift_native::builder()
        .unwrap()
        .finish(settings::Flags::new(flags))
        .unwrap();
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for r in runtime::all() {
        builder.symbol(r.symbol, r.address as *const u8);
    }
    JITModule::new(builder)
}

/// Declares every runtime routine as an import (float routines only matter here).
fn declare_routines(module: &mut JITModule) -> HashMap<&'static str, FuncId> {
    let mut out = HashMap::new();
    for r in runtime::all() {
        let ty = runtime::clif_type(r.dtype);
        let mut sig = module.make_signature();
        for _ in 0..r.arity {
            sig.params.push(AbiParam::new(ty));
        }
        sig.returns.push(AbiParam::new(runtime::clif_type(r.ret)));
        let id = module
            .declare_function(r.symbol, Linkage::Import, &sig)
            .unwrap();
        out.insert(r.symbol, id);
    }
    out
}

/// Compiles a kernel (the `codegen` ABI) applying `op` vector by vector to
/// contiguous inputs; `n` must be a multiple of the lane count.
fn compile(op: Op, dtype: DType) -> (call::CodeMemory, call::KernelFn) {
    let mut module = new_module();
    let routines = declare_routines(&mut module);
    let (routine, vty): (runtime::Routine, Type) = match (op, dtype) {
        (Op::U(u), DType::Float64) => (runtime::unary_routine(u, dtype).unwrap(), types::F64X2),
        (Op::U(u), _) => (runtime::unary_routine(u, dtype).unwrap(), types::F32X4),
        (Op::B(bo), DType::Float64) => (runtime::binary_routine(bo, dtype).unwrap(), types::F64X2),
        (Op::B(bo), _) => (runtime::binary_routine(bo, dtype).unwrap(), types::F32X4),
    };
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    for _ in 0..5 {
        sig.params.push(AbiParam::new(ptr));
    }
    let id = module.declare_function("vm", Linkage::Local, &sig).unwrap();
    let mut func = Function::with_name_signature(UserFuncName::user(0, id.as_u32()), sig);
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let fallback = module.declare_func_in_func(routines[routine.symbol], b.func);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let header = b.create_block();
        b.append_block_param(header, ptr);
        let body = b.create_block();
        let exit = b.create_block();
        b.switch_to_block(entry);
        let p = b.block_params(entry).to_vec();
        let (inputs, strides, out, out_stride, n) = (p[0], p[1], p[2], p[3], p[4]);
        let flags = MemFlagsData::trusted();
        let mut bases = Vec::new();
        for k in 0..op.arity() {
            let off = (k * 8) as i32;
            bases.push((
                b.ins().load(ptr, flags, inputs, off),
                b.ins().load(ptr, flags, strides, off),
            ));
        }
        let zero = b.ins().iconst(ptr, 0);
        b.ins().jump(header, &[zero.into()]);
        b.switch_to_block(header);
        let i = b.block_params(header)[0];
        let more = b.ins().icmp(IntCC::UnsignedLessThan, i, n);
        b.ins().brif(more, body, &[], exit, &[]);
        b.switch_to_block(body);
        let mut args = Vec::new();
        for &(base, stride) in &bases {
            let off = b.ins().imul(i, stride);
            let addr = b.ins().iadd(base, off);
            args.push(b.ins().load(vty, flags, addr, 0));
        }
        let r = match op {
            Op::U(u) => vmath::unary(&mut b, u, args[0], vty, fallback),
            Op::B(bo) => vmath::binary(&mut b, bo, args[0], args[1], vty, fallback),
        }
        .expect("vector implementation");
        let off = b.ins().imul(i, out_stride);
        let addr = b.ins().iadd(out, off);
        b.ins().store(flags, r, addr, 0);
        let lanes = b.ins().iconst(ptr, i64::from(vty.lane_count()));
        let next = b.ins().iadd(i, lanes);
        b.ins().jump(header, &[next.into()]);
        b.switch_to_block(exit);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    let mut ctx = module.make_context();
    ctx.func = func;
    let disasm = std::env::var("VMATH_DISASM").is_ok_and(|v| v == op.name());
    ctx.set_disasm(disasm);
    module.define_function(id, &mut ctx).unwrap();
    if disasm {
        let code = ctx.compiled_code().unwrap();
        println!("{}", code.vcode.as_deref().unwrap_or(""));
    }
    let leaves = vec![dtype; op.arity()].into_boxed_slice();
    let sig = call::KernelSig {
        leaves,
        out: dtype,
        frame: 0,
    };
    let (code, mut fns) = call::finalize(module, &[(id, sig, None)]).unwrap();
    (code, fns.remove(0))
}

/// Runs the compiled `op` over the inputs (padded to a multiple of 4).
fn run<T: Element + Default>(kernel: &call::KernelFn, inputs: &[Vec<T>]) -> Vec<T> {
    let n = inputs[0].len();
    let padded = n.div_ceil(4) * 4;
    let arrays: Vec<Array1<T>> = inputs
        .iter()
        .map(|v| {
            let mut v = v.clone();
            v.resize(padded, T::default());
            Array1::from(v)
        })
        .collect();
    let mut out = Array1::<T>::from(vec![T::default(); padded]);
    let views: Vec<_> = arrays.iter().map(|a| a.view().into_dyn()).collect();
    let ops: Vec<call::Operand> = views
        .iter()
        .map(|v| call::Operand::new(v, &[padded]).unwrap())
        .collect();
    {
        let mut ov = out.view_mut().into_dyn();
        let o = call::Output::new(&mut ov, &[padded]).unwrap();
        // Run twice and time the second (the first touches the output pages).
        call::run(
            kernel,
            &ops,
            &o,
            &[padded],
            None,
            &std::sync::atomic::AtomicBool::new(false),
        );
        let t0 = std::time::Instant::now();
        call::run(
            kernel,
            &ops,
            &o,
            &[padded],
            None,
            &std::sync::atomic::AtomicBool::new(false),
        );
        LAST_NS.with(|c| c.set(t0.elapsed().as_nanos() as f64 / padded as f64));
    }
    let mut r = out.to_vec();
    r.truncate(n);
    r
}

/// Distance in representable values, NaN only equal to NaN (u64::MAX otherwise).
fn ulp64(a: f64, b: f64) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    let key = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 { -(bits & i64::MAX) } else { bits }
    };
    (key(a) as i128 - key(b) as i128).unsigned_abs() as u64
}

fn ulp32(a: f32, b: f32) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    let key = |x: f32| {
        let bits = x.to_bits() as i32;
        if bits < 0 {
            -(bits & i32::MAX) as i64
        } else {
            bits as i64
        }
    };
    (key(a) - key(b)).unsigned_abs()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn sign(&mut self) -> f64 {
        if self.next() & 1 == 0 { 1.0 } else { -1.0 }
    }
}

/// The main interval of each function (uniform samples) and the magnitude
/// range of its log-uniform samples.
fn domain(op: Op) -> ((f64, f64), (f64, f64)) {
    use UnaryOp::*;
    match op {
        Op::U(Exp) => ((-745.2, 709.9), (1e-20, 800.0)),
        Op::U(Expm1) => ((-40.0, 709.9), (1e-20, 800.0)),
        Op::U(Exp2) => ((-1080.0, 1024.5), (1e-20, 1100.0)),
        Op::U(Log | Log2 | Log10) => ((0.0, 4.0), (1e-310, 1e308)),
        Op::U(Log1p) => ((-1.0, 2.0), (1e-20, 1e308)),
        Op::U(Sin | Cos | Tan) => ((-10.0, 10.0), (1e-12, 2e5)),
        Op::U(Sinh | Cosh) => ((-30.0, 30.0), (1e-20, 720.0)),
        Op::U(Tanh) => ((-3.0, 3.0), (1e-20, 30.0)),
        Op::U(Arcsin | Arccos) => ((-1.0, 1.0), (1e-20, 1.0)),
        Op::U(Arctan) => ((-4.0, 4.0), (1e-20, 1e20)),
        Op::U(Cbrt) => ((-10.0, 10.0), (1e-310, 1e308)),
        Op::B(BinaryOp::Pow) => ((0.0, 4.0), (1e-5, 1e5)),
        _ => ((-4.0, 4.0), (1e-300, 1e300)),
    }
}

fn sample(op: Op, rng: &mut Rng, f32_range: bool) -> f64 {
    let ((lo, hi), (mlo, mhi)) = domain(op);
    match rng.next() % 10 {
        0..=2 => {
            // Random finite bits.
            if f32_range {
                let b = rng.next() as u32;
                let b = if (b >> 23) & 0xff == 0xff {
                    b & !(1 << 30)
                } else {
                    b
                };
                f32::from_bits(b) as f64
            } else {
                let b = rng.next();
                let v = f64::from_bits(b);
                if v.is_finite() { v } else { v.signum() * 1.5 }
            }
        }
        3..=5 => lo + (hi - lo) * rng.unit(),
        _ => {
            let l = mlo.ln() + (mhi.ln() - mlo.ln()) * rng.unit();
            rng.sign() * l.exp()
        }
    }
}

fn specials() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        10.0,
        1000.0,
        f64::MAX,
        -f64::MAX,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        1e-310,
        -1e-310,
        709.782712893384,
        709.7827128933841,
        710.4758600739439,
        -745.1332191019411,
        -745.1332191019412,
        -708.4,
        -709.1,
        -744.0,
        88.72283,
        -103.97208,
        1024.0,
        1023.999,
        -1074.0,
        -1075.0,
        -1022.5,
        22.0,
        -37.5,
        1e5,
        1e6,
        1e22,
        1e300,
        -1e300,
        3.0,
        0.1,
        1e-20,
        -1e-20,
    ];
    for k in -40..=40 {
        let m = k as f64 * std::f64::consts::FRAC_PI_2;
        v.push(m);
        v.push(f64::from_bits(m.to_bits() + 1));
        v.push(f64::from_bits(m.to_bits().wrapping_sub(1)));
    }
    v.push(355.0);
    v.push(103993.0);
    v
}

/// ns per element of the scalar reference over `xs`.
fn ref_ns<T: Copy>(xs: &[T], f: impl Fn(T) -> Scalar) -> f64 {
    let t0 = std::time::Instant::now();
    for &x in xs {
        std::hint::black_box(f(std::hint::black_box(x)));
    }
    t0.elapsed().as_nanos() as f64 / xs.len() as f64
}

struct Stat {
    max_ulp: u64,
    /// f32 only: max ulp from the f64 reference rounded to f32.
    max_vs_f64: u64,
    /// ns per element: the vector kernel, and the scalar reference loop.
    ns: (f64, f64),
    worst: (f64, f64),
    failures: Vec<String>,
}

fn check_unary(op: UnaryOp, dtype: DType, n: usize, seed: u64, use_aot: Option<aot::Isa>) -> Stat {
    let (_code, kernel) = compile(Op::U(op), dtype);
    let mut rng = Rng(seed);
    let sp = specials();
    let mut xs: Vec<f64> = sp.clone();
    let f32r = dtype == DType::Float32;
    while xs.len() < n {
        xs.push(sample(Op::U(op), &mut rng, f32r));
    }
    let mut vs64 = 0;
    let mut st = Stat {
        max_ulp: 0,
        max_vs_f64: 0,
        ns: (0.0, 0.0),
        worst: (0.0, 0.0),
        failures: Vec::new(),
    };
    let mut record = |i: usize, x: f64, got: Scalar, want: Scalar, u: u64| {
        let exact_needed = i < sp.len();
        let bits_eq = match (got, want) {
            (Scalar::Float64(a), Scalar::Float64(b)) => {
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
            }
            (Scalar::Float32(a), Scalar::Float32(b)) => {
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
            }
            _ => false,
        };
        let special_out = match want {
            Scalar::Float64(b) => b.is_nan() || b.is_infinite() || b == 0.0,
            Scalar::Float32(b) => b.is_nan() || b.is_infinite() || b == 0.0,
            _ => false,
        };
        let special_in = x.is_nan() || x.is_infinite() || x == 0.0;
        if (special_out || (exact_needed && special_in)) && !bits_eq && st.failures.len() < 8 {
            st.failures.push(format!(
                "{op:?} {dtype}: x={x:e}: got {got:?}, want {want:?}"
            ));
        }
        if u > st.max_ulp {
            st.max_ulp = u;
            st.worst = (x, 0.0);
        }
    };
    match dtype {
        DType::Float64 => {
            let got = if let Some(isa) = use_aot {
                let mut o = vec![0.0; xs.len()];
                let t0 = std::time::Instant::now();
                assert!(call::aot::unary_f64_on(isa, op, &xs, &mut o));
                LAST_NS.with(|c| c.set(t0.elapsed().as_nanos() as f64 / xs.len() as f64));
                o
            } else {
                run(&kernel, std::slice::from_ref(&xs))
            };
            st.ns = (
                LAST_NS.with(|c| c.get()),
                ref_ns(&xs, |x| scalar::unary(op, Scalar::Float64(x))),
            );
            for (i, (&x, &g)) in xs.iter().zip(&got).enumerate() {
                let want = scalar::unary(op, Scalar::Float64(x));
                let Scalar::Float64(w) = want else {
                    unreachable!()
                };
                record(i, x, Scalar::Float64(g), want, ulp64(g, w));
            }
        }
        _ => {
            let xs32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
            let got = if let Some(isa) = use_aot {
                let mut o = vec![0.0; xs32.len()];
                let t0 = std::time::Instant::now();
                assert!(call::aot::unary_f32_on(isa, op, &xs32, &mut o));
                LAST_NS.with(|c| c.set(t0.elapsed().as_nanos() as f64 / xs32.len() as f64));
                o
            } else {
                run(&kernel, std::slice::from_ref(&xs32))
            };
            st.ns = (
                LAST_NS.with(|c| c.get()),
                ref_ns(&xs32, |x| scalar::unary(op, Scalar::Float32(x))),
            );
            for (i, (&x, &g)) in xs32.iter().zip(&got).enumerate() {
                let want = scalar::unary(op, Scalar::Float32(x));
                let Scalar::Float32(w) = want else {
                    unreachable!()
                };
                if let Scalar::Float64(w64) = scalar::unary(op, Scalar::Float64(x as f64)) {
                    vs64 = vs64.max(ulp32(g, w64 as f32));
                }
                record(i, x as f64, Scalar::Float32(g), want, ulp32(g, w));
            }
        }
    }
    st.max_vs_f64 = vs64;
    st
}

fn check_binary(
    op: BinaryOp,
    dtype: DType,
    n: usize,
    seed: u64,
    use_aot: Option<aot::Isa>,
) -> Stat {
    let (_code, kernel) = compile(Op::B(op), dtype);
    let mut rng = Rng(seed);
    let sp = specials();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for &a in &sp {
        for &c in &sp {
            xs.push(a);
            ys.push(c);
        }
    }
    let nsp = xs.len();
    let f32r = dtype == DType::Float32;
    while xs.len() < n + nsp {
        let x = sample(Op::B(op), &mut rng, f32r);
        let y = if matches!(op, BinaryOp::Pow) {
            match rng.next() % 4 {
                0 => (rng.unit() * 40.0 - 20.0).round(),
                1 => rng.unit() * 20.0 - 10.0,
                2 => rng.unit() * 600.0 - 300.0,
                _ => sample(Op::U(UnaryOp::Arctan), &mut rng, f32r),
            }
        } else {
            sample(Op::B(op), &mut rng, f32r)
        };
        xs.push(x);
        ys.push(y);
    }
    let mut vs64 = 0;
    let mut st = Stat {
        max_ulp: 0,
        max_vs_f64: 0,
        ns: (0.0, 0.0),
        worst: (0.0, 0.0),
        failures: Vec::new(),
    };
    let mut record = |i: usize, x: f64, y: f64, bits_eq: bool, special_out: bool, u: u64| {
        let special_in = [x, y]
            .iter()
            .any(|v| v.is_nan() || v.is_infinite() || *v == 0.0);
        if ((i < nsp && special_in) || special_out) && !bits_eq && st.failures.len() < 8 {
            st.failures
                .push(format!("{op:?} {dtype}: x={x:e} y={y:e}: bits differ"));
        }
        if u > st.max_ulp {
            st.max_ulp = u;
            st.worst = (x, y);
        }
    };
    match dtype {
        DType::Float64 => {
            let got = if let Some(isa) = use_aot {
                let mut o = vec![0.0; xs.len()];
                let t0 = std::time::Instant::now();
                assert!(call::aot::binary_f64_on(isa, op, &xs, &ys, &mut o));
                LAST_NS.with(|c| c.set(t0.elapsed().as_nanos() as f64 / xs.len() as f64));
                o
            } else {
                run(&kernel, &[xs.clone(), ys.clone()])
            };
            st.ns = (
                LAST_NS.with(|c| c.get()),
                ref_ns(&xs, |x| {
                    scalar::binary(op, Scalar::Float64(x), Scalar::Float64(1.5))
                }),
            );
            for i in 0..xs.len() {
                let Scalar::Float64(w) =
                    scalar::binary(op, Scalar::Float64(xs[i]), Scalar::Float64(ys[i]))
                else {
                    unreachable!()
                };
                let g = got[i];
                let eq = g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan());
                let so = w.is_nan() || w.is_infinite() || w == 0.0;
                record(i, xs[i], ys[i], eq, so, ulp64(g, w));
            }
        }
        _ => {
            let x32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
            let y32: Vec<f32> = ys.iter().map(|&x| x as f32).collect();
            let got = if let Some(isa) = use_aot {
                let mut o = vec![0.0; x32.len()];
                let t0 = std::time::Instant::now();
                assert!(call::aot::binary_f32_on(isa, op, &x32, &y32, &mut o));
                LAST_NS.with(|c| c.set(t0.elapsed().as_nanos() as f64 / x32.len() as f64));
                o
            } else {
                run(&kernel, &[x32.clone(), y32.clone()])
            };
            st.ns = (
                LAST_NS.with(|c| c.get()),
                ref_ns(&x32, |x| {
                    scalar::binary(op, Scalar::Float32(x), Scalar::Float32(1.5))
                }),
            );
            for i in 0..xs.len() {
                let Scalar::Float32(w) =
                    scalar::binary(op, Scalar::Float32(x32[i]), Scalar::Float32(y32[i]))
                else {
                    unreachable!()
                };
                let g = got[i];
                if let Scalar::Float64(w64) = scalar::binary(
                    op,
                    Scalar::Float64(x32[i] as f64),
                    Scalar::Float64(y32[i] as f64),
                ) {
                    vs64 = vs64.max(ulp32(g, w64 as f32));
                }
                let eq = g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan());
                let so = w.is_nan() || w.is_infinite() || w == 0.0;
                record(i, x32[i] as f64, y32[i] as f64, eq, so, ulp32(g, w));
            }
        }
    }
    st.max_vs_f64 = vs64;
    st
}

/// Checks every vector function (`use_aot`: every ahead-of-time routine
/// compiled for that instruction set, through `call::aot::unary_f64_on` etc.) over
/// `n` points and prints the table.
fn check_all(n: usize, use_aot: Option<aot::Isa>) {
    let mut failures = Vec::new();
    println!(
        "| function | f64x2 max ulp (worst x, y) | f32x4 max ulp (worst x, y) | f32x4 vs f64 ref | f64 ns/elem vec / ref | f32 ns/elem vec / ref |"
    );
    println!("|---|---|---|---|---|---|");
    let ops: Vec<Op> = unary_ops()
        .into_iter()
        .map(Op::U)
        .chain(binary_ops().into_iter().map(Op::B))
        .filter(|&op| {
            use_aot.is_none()
                || aot::has(match op {
                    Op::U(u) => aot::AotFn::Unary(u),
                    Op::B(b) => aot::AotFn::Binary(b),
                })
        })
        .collect();
    for (j, &op) in ops.iter().enumerate() {
        let mut cells = Vec::new();
        let mut times = Vec::new();
        for dtype in [DType::Float64, DType::Float32] {
            let seed = 0x5eed + j as u64 * 7919 + (dtype == DType::Float32) as u64;
            let st = match op {
                Op::U(u) => check_unary(u, dtype, n, seed, use_aot),
                Op::B(b) => check_binary(b, dtype, n / 2, seed, use_aot),
            };
            cells.push(format!(
                "{} (at {:e}, {:e})",
                st.max_ulp, st.worst.0, st.worst.1
            ));
            if dtype == DType::Float32 {
                cells.push(st.max_vs_f64.to_string());
            }
            times.push(format!("{:.1} / {:.1}", st.ns.0, st.ns.1));
            if st.max_ulp > MAX_ULP {
                failures.push(format!(
                    "{} {dtype}: max ulp {} at {:?}",
                    op.name(),
                    st.max_ulp,
                    st.worst
                ));
            }
            failures.extend(st.failures);
        }
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            op.name(),
            cells[0],
            cells[1],
            cells[2],
            times[0],
            times[1]
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn vmath_accuracy() {
    check_all(200_000, None);
}

/// The large sample; meant for `cargo test --release -- --ignored`.
#[test]
#[ignore]
fn vmath_accuracy_full() {
    check_all(2_000_000, None);
}

/// The ahead-of-time routines (`backend::jit::aot`) compiled for `isa`, same
/// sample and bounds; skipped (with a note) if the CPU lacks `isa`.
fn aot_check(isa: aot::Isa, n: usize) {
    if !isa.supported() {
        eprintln!("aot_accuracy: this CPU lacks {isa:?}; its AOT routines are not used");
        return;
    }
    check_all(n, Some(isa));
}

#[test]
fn aot_accuracy_avx2() {
    aot_check(aot::Isa::Avx2, 200_000);
}

#[test]
fn aot_accuracy_avx512() {
    aot_check(aot::Isa::Avx512, 200_000);
}

/// The large sample of the AOT routines.
#[test]
#[ignore]
fn aot_accuracy_full() {
    for isa in aot::Isa::ALL {
        aot_check(isa, 2_000_000);
    }
}

/// Specials, subnormals, values around and beyond the sin/cos fast range,
/// and runs of samples (blocks of 256 that skip the sin/cos fix-up, of
/// wide-range ones, and of uniform ones with a rare huge one).
fn block_sample() -> Vec<f64> {
    let mut rng = Rng(0xa5a5);
    let mut xs = specials();
    xs.extend([
        1e5,
        -1e5,
        1.0000001e5,
        3e5,
        -7e8,
        1e22,
        -1e300,
        4e-320,
        -2e-315,
    ]);
    let mut i = 0;
    while xs.len() < 20_000 {
        xs.push(match (i / 512) % 4 {
            0 => rng.unit() * 20.0 - 10.0,
            1 => sample(Op::U(UnaryOp::Sin), &mut rng, false),
            2 if i % 300 == 7 => 2e6 * rng.unit() - 1e6,
            2 => rng.unit() * 1e5,
            _ => sample(Op::U(UnaryOp::Exp), &mut rng, false),
        });
        i += 1;
    }
    xs
}

/// [`block_sample`] as first operands, reversed as second ones, and both
/// rounded to f32.
fn paired_block_sample() -> (Vec<f64>, Vec<f64>, Vec<f32>, Vec<f32>) {
    let xs = block_sample();
    let ys: Vec<f64> = xs.iter().rev().copied().collect();
    let x32 = xs.iter().map(|&x| x as f32).collect();
    let y32 = ys.iter().map(|&x| x as f32).collect();
    (xs, ys, x32, y32)
}

/// The fused sin/cos routine equals the sin and cos routines bit for bit,
/// on every instruction set this CPU has, in f64 and f32.
#[test]
fn aot_sincos_equals_sin_and_cos() {
    /// Block by block: `$sincos` against `$unary` Sin and Cos, on lanes of `$t`.
    macro_rules! check {
        ($isa:expr, $xs:expr, $t:ty, $sincos:path, $unary:path) => {
            for x in $xs.chunks(aot::BLOCK) {
                let zeros = || vec![0.0 as $t; x.len()];
                let (mut s, mut c, mut s1, mut c1) = (zeros(), zeros(), zeros(), zeros());
                assert!($sincos($isa, x, &mut s, &mut c));
                assert!($unary($isa, UnaryOp::Sin, x, &mut s1));
                assert!($unary($isa, UnaryOp::Cos, x, &mut c1));
                for k in 0..x.len() {
                    let what = format!("{:?} {}: x = {:e}", $isa, stringify!($t), x[k]);
                    assert_eq!(s[k].to_bits(), s1[k].to_bits(), "sin, {what}");
                    assert_eq!(c[k].to_bits(), c1[k].to_bits(), "cos, {what}");
                }
            }
        };
    }
    let xs = block_sample();
    let x32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
    let mut tested = 0;
    for isa in aot::Isa::ALL.into_iter().filter(|i| i.supported()) {
        check!(
            isa,
            xs,
            f64,
            call::aot::sincos_f64_on,
            call::aot::unary_f64_on
        );
        check!(
            isa,
            x32,
            f32,
            call::aot::sincos_f32_on,
            call::aot::unary_f32_on
        );
        tested += 1;
    }
    if tested == 0 {
        eprintln!("aot_sincos_equals_sin_and_cos: no AVX2/AVX-512 here; skipped");
    }
}

/// The AVX-512 and AVX2 routines run the same operations (FMA in both), so
/// they agree bit for bit, specials, subnormals and the |x| > 1e5 sin/cos
/// fix-up included; the selected variant is one of them.
#[test]
fn aot_isas_bit_identical() {
    if !aot::Isa::ALL.iter().all(|i| i.supported()) {
        eprintln!("aot_isas_bit_identical: this CPU lacks AVX-512 or AVX2; skipped");
        return;
    }
    let (xs, ys, x32, y32) = paired_block_sample();
    let same64 = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits());
    let same32 = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits());
    let sel = aot::isa().expect("both ISAs are supported");
    for u in unary_ops()
        .into_iter()
        .filter(|&u| aot::has(aot::AotFn::Unary(u)))
    {
        let run64 = |isa| {
            let mut o = vec![0.0; xs.len()];
            for (x, o) in xs.chunks(aot::BLOCK).zip(o.chunks_mut(aot::BLOCK)) {
                assert!(call::aot::unary_f64_on(isa, u, x, o));
            }
            o
        };
        let run32 = |isa| {
            let mut o = vec![0.0; x32.len()];
            for (x, o) in x32.chunks(aot::BLOCK).zip(o.chunks_mut(aot::BLOCK)) {
                assert!(call::aot::unary_f32_on(isa, u, x, o));
            }
            o
        };
        let (a, b) = (run64(aot::Isa::Avx2), run64(aot::Isa::Avx512));
        assert!(same64(&a, &b), "{u:?} f64: AVX2 and AVX-512 differ");
        assert!(same64(&a, &run64(sel)));
        let (a, b) = (run32(aot::Isa::Avx2), run32(aot::Isa::Avx512));
        assert!(same32(&a, &b), "{u:?} f32: AVX2 and AVX-512 differ");
        let mut o = vec![0.0; xs.len()];
        assert!(call::aot::unary_f64(u, &xs, &mut o));
        assert!(
            same64(&o, &run64(sel)),
            "{u:?}: the selected ISA gives other results"
        );
    }
    for b in binary_ops()
        .into_iter()
        .filter(|&b| aot::has(aot::AotFn::Binary(b)))
    {
        let mut o = [vec![0.0; xs.len()], vec![0.0; xs.len()]];
        let mut p = [vec![0.0f32; xs.len()], vec![0.0f32; xs.len()]];
        for (k, isa) in aot::Isa::ALL.into_iter().enumerate() {
            assert!(call::aot::binary_f64_on(isa, b, &xs, &ys, &mut o[k]));
            assert!(call::aot::binary_f32_on(isa, b, &x32, &y32, &mut p[k]));
        }
        assert!(same64(&o[0], &o[1]), "{b:?} f64: AVX2 and AVX-512 differ");
        assert!(same32(&p[0], &p[1]), "{b:?} f32: AVX2 and AVX-512 differ");
    }
}

/// Every ahead-of-time routine but sin and cos gives the bits of Cranelift's
/// vector code (`vmath`, which runs where a CPU has no AVX2 or
/// `JITEXPR_NO_AOT` is set), block by block, specials and subnormals
/// included, in f64 and f32: the same algorithm, operation for operation.
/// sin and cos have routines of their own (one range reduction for both;
/// f32 polynomials in f32), within the same ULP bounds but not the same bits.
#[test]
fn aot_routines_equal_the_vector_code() {
    if aot::isa().is_none() {
        eprintln!("aot_routines_equal_the_vector_code: no AOT routines on this CPU; skipped");
        return;
    }
    let (xs, ys, x32, y32) = paired_block_sample();
    let mut checked = 0;
    let mut failures = Vec::new();
    for op in unary_ops()
        .into_iter()
        .filter(|u| !matches!(u, UnaryOp::Sin | UnaryOp::Cos))
        .map(Op::U)
        .chain(binary_ops().into_iter().map(Op::B))
    {
        let (f, vector) = match op {
            Op::U(u) => (aot::AotFn::Unary(u), vmath::has_unary(u)),
            Op::B(b) => (aot::AotFn::Binary(b), vmath::has_binary(b)),
        };
        if !aot::has(f) || !vector {
            continue;
        }
        let (_code, k64) = compile(op, DType::Float64);
        let (_code32, k32) = compile(op, DType::Float32);
        let (mut a64, mut a32) = (vec![0.0; xs.len()], vec![0.0f32; xs.len()]);
        let (v64, v32) = match op {
            Op::U(u) => {
                for (x, o) in xs.chunks(aot::BLOCK).zip(a64.chunks_mut(aot::BLOCK)) {
                    assert!(call::aot::unary_f64(u, x, o));
                }
                for (x, o) in x32.chunks(aot::BLOCK).zip(a32.chunks_mut(aot::BLOCK)) {
                    assert!(call::aot::unary_f32(u, x, o));
                }
                (
                    run(&k64, std::slice::from_ref(&xs)),
                    run(&k32, std::slice::from_ref(&x32)),
                )
            }
            Op::B(b) => {
                for ((x, y), o) in xs
                    .chunks(aot::BLOCK)
                    .zip(ys.chunks(aot::BLOCK))
                    .zip(a64.chunks_mut(aot::BLOCK))
                {
                    assert!(call::aot::binary_f64(b, x, y, o));
                }
                for ((x, y), o) in x32
                    .chunks(aot::BLOCK)
                    .zip(y32.chunks(aot::BLOCK))
                    .zip(a32.chunks_mut(aot::BLOCK))
                {
                    assert!(call::aot::binary_f32(b, x, y, o));
                }
                (
                    run(&k64, &[xs.clone(), ys.clone()]),
                    run(&k32, &[x32.clone(), y32.clone()]),
                )
            }
        };
        let widen = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
        for (dtype, aot, vector) in [("f64", a64, v64), ("f32", widen(&a32), widen(&v32))] {
            // The first element whose bits differ (NaNs of any bits agree).
            if let Some(i) = aot
                .iter()
                .zip(&vector)
                .position(|(p, q)| p.to_bits() != q.to_bits() && !(p.is_nan() && q.is_nan()))
            {
                failures.push(format!(
                    "{} {dtype} at x={:e} y={:e}: AOT {:e}, vector {:e}",
                    op.name(),
                    xs[i],
                    ys[i],
                    aot[i],
                    vector[i]
                ));
            }
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 11, "{checked} routines checked");
}

#[test]
fn unsupported_ops_return_none() {
    let mut module = new_module();
    let routines = declare_routines(&mut module);
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(types::F64X2));
    let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let r = runtime::unary_routine(UnaryOp::Arcsinh, DType::Float64).unwrap();
    let fb = module.declare_func_in_func(routines[r.symbol], b.func);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let x = b.block_params(entry)[0];
    assert!(vmath::unary(&mut b, UnaryOp::Sqrt, x, types::F64X2, fb).is_none());
    assert!(vmath::unary(&mut b, UnaryOp::Exp, x, types::I64X2, fb).is_none());
    assert!(vmath::binary(&mut b, BinaryOp::Add, x, x, types::F64X2, fb).is_none());
}
