//! Wide kernels: float arithmetic stages at the CPU's full vector width.
//!
//! Cranelift emits 128-bit vectors on x86-64. For a stage of exact float
//! arithmetic only (`+ - * /`, `sqrt`, negation, `abs`, reciprocal of one
//! float dtype, no casts), this module emits machine code with 512-bit
//! (AVX-512) or 256-bit (AVX2) vectors through `iced-x86`'s assembler: an
//! elementwise loop and, for a stage a full `sum`/`mean` reduces, a
//! leaf-sum loop. The operations are exact (IEEE 754 rounds each one
//! once), so any vector width gives the bits of the Cranelift kernel and of
//! the interpreter; the leaf sums add in the order of NumPy's pairwise
//! leaves, as `codegen::define_leaf_sums` does.
//!
//! This module only makes bytes (safe code); the unsafe layer (`call`'s
//! `WideKernels`) maps them executable and calls them.
//!
//! Elementwise ABI (System V):
//!
//! ```text
//! extern "C" fn(ptrs: *const *const u8, steps: *const isize, dst: *mut u8, count: usize)
//! ```
//!
//! `count` iterations of [`UNROLL`] vectors: iteration i reads operand k's
//! vectors at `ptrs[k] + i * steps[k] + u * V` (`V` bytes a vector, u <
//! UNROLL) and writes the result's at `dst + (i * UNROLL + u) * V`. A
//! contiguous operand's step is `UNROLL * V`; a uniform one points at
//! `UNROLL * V` bytes of copies of its value with step 0.
//!
//! Leaf-sum ABI: that of `codegen::define_leaf_sums`, for operands that are
//! all contiguous (stride = element size).

use iced_x86::IcedError;
use iced_x86::code_asm::*;

use crate::backend::jit::aot::Isa;
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::op::{BinaryOp, UnaryOp};
use crate::types::{DType, Scalar};

/// Vectors per iteration of the elementwise loop.
pub const UNROLL: usize = 2;

/// A stage's wide code: machine code to be mapped executable by `call`.
/// Only [`compile`] makes one (the fields are private), so the code in it
/// is always this module's, with the ABIs above.
#[derive(Debug, Clone)]
pub struct WideCode {
    elementwise: Vec<u8>,
    sums: Option<Vec<u8>>,
    step: usize,
    elem: usize,
    out_elem: usize,
    operands: usize,
}

impl WideCode {
    /// The elementwise loop (ABI above).
    pub fn elementwise(&self) -> &[u8] {
        &self.elementwise
    }

    /// The leaf-sum loop, for a stage a full float sum reduces.
    pub fn sums(&self) -> Option<&[u8]> {
        self.sums.as_deref()
    }

    /// Elements per iteration of the elementwise loop.
    pub fn step(&self) -> usize {
        self.step
    }

    /// Bytes per element of every operand.
    pub fn elem(&self) -> usize {
        self.elem
    }

    /// Bytes per element of the result (1 for a bool one).
    pub fn out_elem(&self) -> usize {
        self.out_elem
    }

    /// The stage's operands (the loops read `ptrs[..operands]`).
    pub fn operands(&self) -> usize {
        self.operands
    }
}

/// One value of the stage.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Val {
    /// Kernel operand k.
    Leaf(usize),
    /// A constant's bits (f32 bits in the low half for float32).
    Const(u64),
    Neg(usize),
    Abs(usize),
    Sqrt(usize),
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    /// A comparison (AVX-512 predicate `.0`) of two floats: a mask.
    Cmp(u8, usize, usize),
    /// Masks and, or, xor, not.
    KAnd(usize, usize),
    KOr(usize, usize),
    KXor(usize, usize),
    KNot(usize),
    /// `where(mask, a, b)`.
    Select(usize, usize, usize),
}

impl Val {
    fn operands(self) -> Vec<usize> {
        match self {
            Val::Leaf(_) | Val::Const(_) => vec![],
            Val::Neg(a) | Val::Abs(a) | Val::Sqrt(a) | Val::KNot(a) => vec![a],
            Val::Add(a, b)
            | Val::Sub(a, b)
            | Val::Mul(a, b)
            | Val::Div(a, b)
            | Val::Cmp(_, a, b)
            | Val::KAnd(a, b)
            | Val::KOr(a, b)
            | Val::KXor(a, b) => vec![a, b],
            Val::Select(m, a, b) => vec![m, a, b],
        }
    }

    /// A mask (one bit a lane, in a `k` register) rather than a vector.
    fn is_mask(self) -> bool {
        matches!(
            self,
            Val::Cmp(..) | Val::KAnd(..) | Val::KOr(..) | Val::KXor(..) | Val::KNot(_)
        )
    }
}

/// A stage: its nodes (operands first, as `StagePlan::nodes`), its leaves
/// in kernel operand order, its root.
#[derive(Debug, Clone, Copy)]
pub struct Stage<'a> {
    /// The nodes, operands first.
    pub nodes: &'a [NodeId],
    /// The leaves (kernel operands), in order.
    pub leaves: &'a [NodeId],
    /// The root.
    pub root: NodeId,
}

/// The stage as wide values, operands first, root last; `None` unless
/// every node is float arithmetic of the one dtype `dtype`.
fn values(program: &Program, plan: Stage<'_>, dtype: DType) -> Option<Vec<Val>> {
    let g = &program.graph;
    let mut index = std::collections::HashMap::new();
    let mut vals = Vec::new();
    let bits = |s: Scalar| match s {
        Scalar::Float64(v) if dtype == DType::Float64 => Some(v.to_bits()),
        Scalar::Float32(v) if dtype == DType::Float32 => Some(u64::from(v.to_bits())),
        _ => None,
    };
    for &n in plan.nodes {
        if g.dtype(n) != dtype && g.dtype(n) != DType::Bool {
            return None;
        }
        let at = |m| index.get(&m).copied();
        let v = match g.node(n) {
            Node::Input(_) | Node::Reduce(..) | Node::MatMul(..) => {
                Val::Leaf(plan.leaves.iter().position(|&l| l == n)?)
            }
            Node::Const(c) => Val::Const(bits(c)?),
            Node::Unary(op, a) => {
                let a = at(a)?;
                match op {
                    UnaryOp::Neg => Val::Neg(a),
                    UnaryOp::Abs => Val::Abs(a),
                    UnaryOp::Sqrt => Val::Sqrt(a),
                    UnaryOp::Not => Val::KNot(a),
                    UnaryOp::Reciprocal => {
                        let one = match dtype {
                            DType::Float64 => 1f64.to_bits(),
                            _ => u64::from(1f32.to_bits()),
                        };
                        vals.push(Val::Const(one));
                        Val::Div(vals.len() - 1, a)
                    }
                    _ => return None,
                }
            }
            Node::Binary(op, a, b) => {
                let (a, b) = (at(a)?, at(b)?);
                match op {
                    BinaryOp::Add => Val::Add(a, b),
                    BinaryOp::Sub => Val::Sub(a, b),
                    BinaryOp::Mul => Val::Mul(a, b),
                    BinaryOp::Div => Val::Div(a, b),
                    BinaryOp::BitAnd => Val::KAnd(a, b),
                    BinaryOp::BitOr => Val::KOr(a, b),
                    BinaryOp::BitXor => Val::KXor(a, b),
                    // Ordered and quiet; `!=` is true for NaN (NumPy).
                    BinaryOp::Eq => Val::Cmp(0x00, a, b),
                    BinaryOp::Lt => Val::Cmp(0x11, a, b),
                    BinaryOp::Le => Val::Cmp(0x12, a, b),
                    BinaryOp::Ne => Val::Cmp(0x04, a, b),
                    BinaryOp::Ge => Val::Cmp(0x1D, a, b),
                    BinaryOp::Gt => Val::Cmp(0x1E, a, b),
                    // NumPy's (and the interpreter's) `maximum(x, y)`:
                    // `x` if it is NaN or wins (`>`, ordered), else `y`
                    // (so a NaN `y` and ties such as ±0 give `y`): a
                    // select on `unord(x, x) | x > y`, exact like the rest.
                    BinaryOp::Maximum | BinaryOp::Minimum => {
                        let wins = if op == BinaryOp::Maximum { 0x1E } else { 0x11 };
                        vals.push(Val::Cmp(0x03, a, a));
                        vals.push(Val::Cmp(wins, a, b));
                        vals.push(Val::KOr(vals.len() - 2, vals.len() - 1));
                        Val::Select(vals.len() - 1, a, b)
                    }
                    _ => return None,
                }
            }
            Node::Select(c, a, b) => Val::Select(at(c)?, at(a)?, at(b)?),
            _ => return None,
        };
        // Masks are bool and of masks or float comparisons; every other
        // value is a float vector (leaves and constants included).
        let mask_operands = match v {
            Val::Cmp(..) => Some(false),
            Val::KAnd(..) | Val::KOr(..) | Val::KXor(..) | Val::KNot(_) => Some(true),
            _ => None,
        };
        let fits = match mask_operands {
            Some(m) => {
                g.dtype(n) == DType::Bool && v.operands().iter().all(|&o| vals[o].is_mask() == m)
            }
            None => {
                g.dtype(n) == dtype
                    && v.operands().iter().enumerate().all(|(i, &o)| {
                        vals[o].is_mask() == (i == 0 && matches!(v, Val::Select(..)))
                    })
            }
        };
        if !fits {
            return None;
        }
        index.insert(n, vals.len());
        vals.push(v);
    }
    (index.get(&plan.root) == Some(&(vals.len() - 1))).then_some(vals)
}

/// The wide code of the stage of `plan` for `isa`, with a leaf-sum loop if
/// `summed`; `None` when the stage is not wide arithmetic (or needs more
/// registers than the loops have).
pub fn compile(program: &Program, plan: Stage<'_>, isa: Isa, summed: bool) -> Option<WideCode> {
    if !cfg!(all(target_arch = "x86_64", unix)) {
        return None;
    }
    let g = &program.graph;
    // The float dtype: the leaves', else the root's.
    let dtype = plan
        .leaves
        .first()
        .map_or(g.dtype(plan.root), |&l| g.dtype(l));
    let elem = match dtype {
        DType::Float64 => 8,
        DType::Float32 => 4,
        _ => return None,
    };
    let vals = values(program, plan, dtype)?;
    let mask_root = vals.last()?.is_mask();
    let out_elem = if mask_root { 1 } else { elem };
    let f64 = dtype == DType::Float64;
    let width = match isa {
        Isa::Avx512 => Width::Z,
        Isa::Avx2 => Width::Y,
    };
    // Masks are AVX-512's k registers.
    if width == Width::Y && vals.iter().any(|v| v.is_mask()) {
        return None;
    }
    let elementwise = elementwise(&vals, plan.leaves.len(), width, f64).ok()??;
    let sums = if summed && !mask_root {
        // Eight accumulators: one zmm of f64, two ymm of f64, one ymm of f32.
        let width = if f64 { width } else { Width::Y };
        let masks = vals.iter().any(|v| v.is_mask());
        (width == Width::Z || !masks)
            .then(|| {
                leaf_sums(&vals, plan.leaves.len(), width, f64)
                    .ok()
                    .flatten()
            })
            .flatten()
    } else {
        None
    };
    Some(WideCode {
        elementwise,
        sums,
        step: UNROLL * width.bytes() as usize / elem,
        elem,
        out_elem,
        operands: plan.leaves.len(),
    })
}

/// The vector registers' width.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Width {
    /// zmm, 512 bits (32 registers).
    Z,
    /// ymm, 256 bits (16 registers with VEX encodings).
    Y,
}

impl Width {
    fn bytes(self) -> i32 {
        match self {
            Width::Z => 64,
            Width::Y => 32,
        }
    }

    fn registers(self) -> usize {
        match self {
            Width::Z => 32,
            Width::Y => 16,
        }
    }
}

const ZMM: [AsmRegisterZmm; 32] = [
    zmm0, zmm1, zmm2, zmm3, zmm4, zmm5, zmm6, zmm7, zmm8, zmm9, zmm10, zmm11, zmm12, zmm13, zmm14,
    zmm15, zmm16, zmm17, zmm18, zmm19, zmm20, zmm21, zmm22, zmm23, zmm24, zmm25, zmm26, zmm27,
    zmm28, zmm29, zmm30, zmm31,
];
const YMM: [AsmRegisterYmm; 16] = [
    ymm0, ymm1, ymm2, ymm3, ymm4, ymm5, ymm6, ymm7, ymm8, ymm9, ymm10, ymm11, ymm12, ymm13, ymm14,
    ymm15,
];
/// The mask registers (k0 means "no mask" in masked operations: unused).
const K: [AsmRegisterK; 8] = [k0, k1, k2, k3, k4, k5, k6, k7];
/// The low quarters of every zmm register.
const XMM_ALL: [AsmRegisterXmm; 32] = [
    xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14,
    xmm15, xmm16, xmm17, xmm18, xmm19, xmm20, xmm21, xmm22, xmm23, xmm24, xmm25, xmm26, xmm27,
    xmm28, xmm29, xmm30, xmm31,
];

/// `masked(r, k)`: register `r` written under mask `k` (1-7), for zmm and
/// xmm registers alike.
macro_rules! masked_fn {
    ($($name:ident: $t:ty),*) => {$(
        fn $name(r: $t, k: usize) -> $t {
            match k {
                1 => r.k1(),
                2 => r.k2(),
                3 => r.k3(),
                4 => r.k4(),
                5 => r.k5(),
                6 => r.k6(),
                _ => r.k7(),
            }
        }
    )*};
}
masked_fn!(masked: AsmRegisterZmm, masked_xmm: AsmRegisterXmm);

/// The low quarters of the ymm registers.
const XMM_ANY: [AsmRegisterXmm; 16] = [
    xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14,
    xmm15,
];

/// An assembler for one vector width and float type.
struct Asm {
    a: CodeAssembler,
    width: Width,
    f64: bool,
}

/// Dispatches `$method` on the width and float type: `$pd` for f64, `$ps`
/// for f32, on zmm or ymm registers (`r` makes a register of an index, `m`
/// a memory operand of the width).
macro_rules! vop {
    ($s:expr, $pd:ident, $ps:ident, |$r:ident, $m:ident| ($($arg:expr),*)) => {{
        let s: &mut Asm = $s;
        match (s.width, s.f64) {
            (Width::Z, f) => {
                let $r = |i: usize| ZMM[i];
                let $m = |o: AsmMemoryOperand| zmmword_ptr(o);
                if f { s.a.$pd($($arg),*) } else { s.a.$ps($($arg),*) }
            }
            (Width::Y, f) => {
                let $r = |i: usize| YMM[i];
                let $m = |o: AsmMemoryOperand| ymmword_ptr(o);
                if f { s.a.$pd($($arg),*) } else { s.a.$ps($($arg),*) }
            }
        }
    }};
}

impl Asm {
    fn new(width: Width, f64: bool) -> Result<Asm, IcedError> {
        Ok(Asm {
            a: CodeAssembler::new(64)?,
            width,
            f64,
        })
    }

    fn load(&mut self, d: usize, m: AsmMemoryOperand) -> Result<(), IcedError> {
        vop!(self, vmovupd, vmovups, |r, mm| (r(d), mm(m)))
    }

    fn store(&mut self, m: AsmMemoryOperand, s: usize) -> Result<(), IcedError> {
        vop!(self, vmovupd, vmovups, |r, mm| (mm(m), r(s)))
    }

    /// Broadcasts the constant at `label` to every lane of register `d`.
    fn broadcast(&mut self, d: usize, label: CodeLabel) -> Result<(), IcedError> {
        match (self.width, self.f64) {
            (Width::Z, true) => self.a.vbroadcastsd(ZMM[d], qword_ptr(label)),
            (Width::Z, false) => self.a.vbroadcastss(ZMM[d], dword_ptr(label)),
            (Width::Y, true) => self.a.vbroadcastsd(YMM[d], qword_ptr(label)),
            (Width::Y, false) => self.a.vbroadcastss(YMM[d], dword_ptr(label)),
        }
    }

    /// Stores at `m` the sum of the eight accumulators in `accs` (lanes
    /// r0..r7 in order over the vectors) as NumPy's leaf adds them:
    /// `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`. Uses registers 0 and 1.
    fn tree(&mut self, accs: &[usize], m: AsmMemoryOperand) -> Result<(), IcedError> {
        let a = &mut self.a;
        match (self.width, self.f64, accs) {
            // One zmm of f64: its halves (r0..r3), (r4..r7) into ymm0, ymm1.
            (Width::Z, true, &[acc]) => {
                // (EVEX only: `acc` may be one of zmm16-31.)
                a.vextractf64x4(ymm1, ZMM[acc], 1)?;
                a.vextractf64x4(ymm0, ZMM[acc], 0)?;
                a.vhaddpd(ymm0, ymm0, ymm1)?;
            }
            // Two ymm of f64.
            (Width::Y, true, &[lo, hi]) => a.vhaddpd(ymm0, YMM[lo], YMM[hi])?,
            // One ymm of f32.
            (Width::Y, false, &[acc]) => {
                a.vextractf128(xmm1, YMM[acc], 1)?;
                a.vmovaps(xmm0, XMM_ANY[acc])?;
                // (r0+r1, r2+r3, r4+r5, r6+r7), then the pairs of those.
                a.vhaddps(xmm0, xmm0, xmm1)?;
                a.vhaddps(xmm0, xmm0, xmm0)?;
                a.vmovshdup(xmm1, xmm0)?;
                a.vaddss(xmm0, xmm0, xmm1)?;
                return a.vmovss(dword_ptr(m), xmm0);
            }
            _ => unreachable!("accumulators of eight values"),
        }
        // ymm0 = (r0+r1, r4+r5, r2+r3, r6+r7).
        a.vextractf128(xmm1, ymm0, 1)?;
        a.vaddpd(xmm0, xmm0, xmm1)?;
        a.vunpckhpd(xmm1, xmm0, xmm0)?;
        a.vaddsd(xmm0, xmm0, xmm1)?;
        a.vmovsd(qword_ptr(m), xmm0)
    }

    fn op(&mut self, v: Val, d: usize, x: usize, y: usize) -> Result<(), IcedError> {
        match v {
            Val::Add(..) => vop!(self, vaddpd, vaddps, |r, _m| (r(d), r(x), r(y))),
            Val::Sub(..) => vop!(self, vsubpd, vsubps, |r, _m| (r(d), r(x), r(y))),
            Val::Mul(..) => vop!(self, vmulpd, vmulps, |r, _m| (r(d), r(x), r(y))),
            Val::Div(..) => vop!(self, vdivpd, vdivps, |r, _m| (r(d), r(x), r(y))),
            Val::Sqrt(_) => vop!(self, vsqrtpd, vsqrtps, |r, _m| (r(d), r(x))),
            // x ^ sign (y: the sign mask).
            Val::Neg(_) => vop!(self, vxorpd, vxorps, |r, _m| (r(d), r(x), r(y))),
            // !sign & x (y: the sign mask).
            Val::Abs(_) => vop!(self, vandnpd, vandnps, |r, _m| (r(d), r(y), r(x))),
            Val::Cmp(pred, ..) => {
                let (z, imm) = (self.width == Width::Z, i32::from(pred));
                assert!(z, "masks are AVX-512's");
                if self.f64 {
                    self.a.vcmppd(K[d], ZMM[x], ZMM[y], imm)
                } else {
                    self.a.vcmpps(K[d], ZMM[x], ZMM[y], imm)
                }
            }
            Val::KAnd(..) => self.a.kandw(K[d], K[x], K[y]),
            Val::KOr(..) => self.a.korw(K[d], K[x], K[y]),
            Val::KXor(..) => self.a.kxorw(K[d], K[x], K[y]),
            Val::KNot(_) => self.a.knotw(K[d], K[x]),
            Val::Leaf(_) | Val::Const(_) | Val::Select(..) => Ok(()),
        }
    }

    /// `d = mask m ? a : b` (AVX-512).
    fn select(&mut self, d: usize, m: usize, a: usize, b: usize) -> Result<(), IcedError> {
        let d = masked(ZMM[d], m);
        if self.f64 {
            self.a.vblendmpd(d, ZMM[b], ZMM[a])
        } else {
            self.a.vblendmps(d, ZMM[b], ZMM[a])
        }
    }

    /// Stores mask `k` as bools (bytes 0/1) at `m`: one byte a lane. `ones`
    /// holds 0x01 bytes, `t` is scratch.
    fn store_mask(
        &mut self,
        m: AsmMemoryOperand,
        k: usize,
        ones: usize,
        t: usize,
    ) -> Result<(), IcedError> {
        self.a
            .vmovdqu8(masked_xmm(XMM_ALL[t], k).z(), XMM_ALL[ones])?;
        if self.f64 {
            self.a.vmovq(qword_ptr(m), XMM_ALL[t])
        } else {
            self.a.vmovdqu(xmmword_ptr(m), XMM_ALL[t])
        }
    }
}

/// Vector registers of one evaluation of the stage: constants (and the
/// sign mask) live in registers for the whole loop; the other values take
/// a free register and give it back after their last use.
struct Regs {
    free: Vec<usize>,
    /// Each value's register (constants: permanent).
    of: Vec<Option<usize>>,
    /// Each value's last reader (its own index if none).
    last: Vec<usize>,
    /// The sign mask's register, if a value needs it.
    sign: Option<usize>,
}

impl Regs {
    /// Registers `pool` for `vals`; the constants (and the sign mask) are
    /// given theirs now, returned with their bits. `None` if they do not fit.
    fn new(vals: &[Val], pool: Vec<usize>, f64: bool) -> Option<(Regs, Vec<(usize, u64)>)> {
        let mut free = pool;
        free.reverse();
        let mut last: Vec<usize> = (0..vals.len()).collect();
        for (i, v) in vals.iter().enumerate() {
            for o in v.operands() {
                last[o] = i;
            }
        }
        let mut of = vec![None; vals.len()];
        let mut consts: Vec<(usize, u64)> = Vec::new();
        for (i, v) in vals.iter().enumerate() {
            if let Val::Const(bits) = *v {
                of[i] = match consts.iter().find(|c| c.1 == bits) {
                    Some(&(r, _)) => Some(r),
                    None => {
                        let r = free.pop()?;
                        consts.push((r, bits));
                        Some(r)
                    }
                };
            }
        }
        let sign = if vals.iter().any(|v| matches!(v, Val::Neg(_) | Val::Abs(_))) {
            let r = free.pop()?;
            consts.push((r, if f64 { 1 << 63 } else { 1 << 31 }));
            Some(r)
        } else {
            None
        };
        Some((
            Regs {
                free,
                of,
                last,
                sign,
            },
            consts,
        ))
    }
}

/// Emits one evaluation of `vals` with operand k at `leaf(k)`; returns the
/// register of the root (the caller frees it). `None` if out of registers.
fn evaluate(
    s: &mut Asm,
    vals: &[Val],
    regs: &mut Regs,
    leaf: &dyn Fn(usize) -> AsmMemoryOperand,
) -> Result<Option<usize>, IcedError> {
    let mut of = regs.of.clone();
    let mut free = regs.free.clone();
    // Mask registers k1-k7 (masks live within one evaluation).
    let mut kfree: Vec<usize> = (1..=7).rev().collect();
    let root = vals.len() - 1;
    for (i, &v) in vals.iter().enumerate() {
        if let Val::Const(_) = v {
            continue;
        }
        let ops = v.operands();
        // Operands read for the last time give their registers back first.
        let args: Vec<usize> = ops
            .iter()
            .map(|&o| of[o].expect("operand before use"))
            .collect();
        for &o in &ops {
            let pool = if vals[o].is_mask() {
                &mut kfree
            } else {
                &mut free
            };
            if regs.last[o] == i
                && !matches!(vals[o], Val::Const(_))
                && let Some(r) = of[o].take()
                && !pool.contains(&r)
            {
                pool.push(r);
            }
        }
        let pool = if v.is_mask() { &mut kfree } else { &mut free };
        let Some(d) = pool.pop() else {
            return Ok(None);
        };
        match v {
            Val::Leaf(k) => s.load(d, leaf(k))?,
            Val::Neg(_) | Val::Abs(_) => {
                let sign = regs.sign.expect("sign mask");
                s.op(v, d, args[0], sign)?;
            }
            Val::Sqrt(_) | Val::KNot(_) => s.op(v, d, args[0], 0)?,
            Val::Select(..) => s.select(d, args[0], args[1], args[2])?,
            _ => s.op(v, d, args[0], args[1])?,
        }
        of[i] = Some(d);
        // A value nobody reads (other than the root) is dropped at once.
        if regs.last[i] == i && i != root {
            of[i] = None;
            let pool = if v.is_mask() { &mut kfree } else { &mut free };
            pool.push(d);
        }
    }
    Ok(of[root])
}

/// General-purpose registers for operand pointers in the elementwise loop.
const POINTERS: [AsmRegister64; 10] = [r8, r9, r10, r11, rax, rbx, r12, r13, r14, r15];
/// The callee-saved ones among them.
const SAVED: [AsmRegister64; 5] = [rbx, r12, r13, r14, r15];

/// The constants' data after the code, and the loads of them into their
/// registers (emitted where the caller is).
fn load_constants(s: &mut Asm, consts: &[(usize, u64)]) -> Result<Vec<CodeLabel>, IcedError> {
    let mut labels = Vec::new();
    for &(r, _) in consts {
        let label = s.a.create_label();
        s.broadcast(r, label)?;
        labels.push(label);
    }
    Ok(labels)
}

fn emit_constants(
    s: &mut Asm,
    consts: &[(usize, u64)],
    labels: &mut [CodeLabel],
) -> Result<(), IcedError> {
    for (&(_, bits), label) in consts.iter().zip(labels) {
        s.a.set_label(label)?;
        if s.f64 {
            s.a.dq(&[bits])?;
        } else {
            s.a.dd(&[bits as u32])?;
        }
    }
    Ok(())
}

/// The elementwise loop (module docs); `None` if the stage does not fit the
/// registers.
fn elementwise(
    vals: &[Val],
    nleaves: usize,
    width: Width,
    f64: bool,
) -> Result<Option<Vec<u8>>, IcedError> {
    if nleaves > POINTERS.len() {
        return Ok(None);
    }
    let mut s = Asm::new(width, f64)?;
    let mask_root = vals.last().is_some_and(|v| v.is_mask());
    let Some((mut regs, mut consts)) = Regs::new(vals, (0..width.registers()).collect(), f64)
    else {
        return Ok(None);
    };
    // A bool result: 0x01 bytes and a scratch register to make bytes of a mask.
    let bools = if mask_root {
        let (Some(ones), Some(t)) = (regs.free.pop(), regs.free.pop()) else {
            return Ok(None);
        };
        consts.push((ones, 0x0101_0101_0101_0101));
        Some((ones, t))
    } else {
        None
    };
    // Output bytes per vector of operands.
    let elem = if f64 { 8 } else { 4 };
    let ob = width.bytes() / elem * if mask_root { 1 } else { elem };
    let saved: Vec<AsmRegister64> = SAVED
        .iter()
        .copied()
        .filter(|r| POINTERS[..nleaves].contains(r))
        .collect();
    for &r in &saved {
        s.a.push(r)?;
    }
    for (k, &p) in POINTERS[..nleaves].iter().enumerate() {
        s.a.mov(p, qword_ptr(rdi + 8 * k as i32))?;
    }
    let mut labels = load_constants(&mut s, &consts)?;
    let mut done = s.a.create_label();
    let mut top = s.a.create_label();
    s.a.test(rcx, rcx)?;
    s.a.jz(done)?;
    s.a.set_label(&mut top)?;
    let vb = width.bytes();
    for u in 0..UNROLL as i32 {
        let leaf = |k: usize| -> AsmMemoryOperand { POINTERS[k] + u * vb };
        let Some(root) = evaluate(&mut s, vals, &mut regs, &leaf)? else {
            return Ok(None);
        };
        match bools {
            Some((ones, t)) => s.store_mask(rdx + u * ob, root, ones, t)?,
            None => s.store(rdx + u * ob, root)?,
        }
    }
    for (k, &p) in POINTERS[..nleaves].iter().enumerate() {
        s.a.add(p, qword_ptr(rsi + 8 * k as i32))?;
    }
    s.a.add(rdx, UNROLL as i32 * ob)?;
    s.a.sub(rcx, 1)?;
    s.a.jnz(top)?;
    s.a.set_label(&mut done)?;
    s.a.vzeroupper()?;
    for &r in saved.iter().rev() {
        s.a.pop(r)?;
    }
    s.a.ret()?;
    emit_constants(&mut s, &consts, &mut labels)?;
    Ok(Some(s.a.assemble(0)?))
}

/// Operand bases of the leaf-sum loop (callee-saved, pushed).
const BASES: [AsmRegister64; 5] = [rbx, r12, r13, r14, r15];

/// The leaf-sum loop (`codegen::define_leaf_sums`'s ABI and order, every
/// operand contiguous); `None` if the stage does not fit the registers.
/// One run at a time: summing four runs of one length at once (four
/// accumulator chains) measured up to 2x slower at n = 1e6 (AMD Zen 4, one
/// thread: 0.41-0.63 vs 0.28-0.36 ns/element), the interleaved streams
/// defeating the hardware prefetchers.
fn leaf_sums(
    vals: &[Val],
    nleaves: usize,
    width: Width,
    f64: bool,
) -> Result<Option<Vec<u8>>, IcedError> {
    if nleaves > BASES.len() {
        return Ok(None);
    }
    let elem: i32 = if f64 { 8 } else { 4 };
    let vb = width.bytes();
    // Vectors per eight values.
    let per = (8 * elem / vb) as usize;
    let mut s = Asm::new(width, f64)?;
    // Registers 0-1 are the scratch of the final additions.
    let Some((mut regs, consts)) = Regs::new(vals, (2..width.registers()).collect(), f64) else {
        return Ok(None);
    };
    // The accumulators, leaving at least two registers for the values.
    if regs.free.len() < per + 2 {
        return Ok(None);
    }
    let accs: Vec<usize> = (0..per).map(|_| regs.free.remove(0)).collect();

    let pushed = [rbx, r12, r13, r14, r15];
    for &r in &pushed {
        s.a.push(r)?;
    }
    for (k, &b) in BASES[..nleaves].iter().enumerate() {
        s.a.mov(b, qword_ptr(rdi + 8 * k as i32))?;
    }
    s.a.lea(r8, qword_ptr(rcx + r8 * 4))?;
    let mut labels = load_constants(&mut s, &consts)?;
    let mut outer = s.a.create_label();
    let mut exit = s.a.create_label();
    // outer: rcx points at the run's length, r9 is the offset in the run,
    // r10 the eights left, r11 the run's bytes.
    s.a.set_label(&mut outer)?;
    s.a.cmp(rcx, r8)?;
    s.a.jae(exit)?;
    s.a.mov(eax, dword_ptr(rcx))?;
    s.a.mov(r11, rax)?;
    s.a.shl(r11, if f64 { 3u32 } else { 2u32 })?;
    s.a.mov(r10, rax)?;
    s.a.shr(r10, 3u32)?;
    s.a.xor(r9d, r9d)?;
    // Eight values into the accumulators: the first eight set them, every
    // later eight is added to them.
    let eight = |s: &mut Asm, regs: &mut Regs, first: bool| -> Result<Option<()>, IcedError> {
        for (v, &acc) in accs.iter().enumerate() {
            let leaf = |k: usize| -> AsmMemoryOperand { BASES[k] + r9 + v as i32 * vb };
            let Some(x) = evaluate(s, vals, regs, &leaf)? else {
                return Ok(None);
            };
            if first {
                vop!(s, vmovapd, vmovaps, |rr, _m| (rr(acc), rr(x)))?;
            } else {
                s.op(Val::Add(0, 0), acc, acc, x)?;
            }
        }
        s.a.add(r9, 8 * elem)?;
        Ok(Some(()))
    };
    if eight(&mut s, &mut regs, true)?.is_none() {
        return Ok(None);
    }
    let mut done = s.a.create_label();
    let mut top = s.a.create_label();
    s.a.sub(r10, 1)?;
    s.a.jz(done)?;
    s.a.set_label(&mut top)?;
    if eight(&mut s, &mut regs, false)?.is_none() {
        return Ok(None);
    }
    s.a.sub(r10, 1)?;
    s.a.jnz(top)?;
    s.a.set_label(&mut done)?;
    // ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), in registers (reloading lanes
    // of a just-stored vector stalls store forwarding); the next run
    // starts after this one.
    s.tree(&accs, rdx.into())?;
    s.a.add(rdx, elem)?;
    s.a.add(rcx, 4)?;
    for &b in &BASES[..nleaves] {
        s.a.add(b, r11)?;
    }
    s.a.jmp(outer)?;
    s.a.set_label(&mut exit)?;
    for &r in pushed.iter().rev() {
        s.a.pop(r)?;
    }
    s.a.vzeroupper()?;
    s.a.ret()?;
    emit_constants(&mut s, &consts, &mut labels)?;
    Ok(Some(s.a.assemble(0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_sums_assemble() {
        // a*b: two leaves.
        let vals = [Val::Leaf(0), Val::Leaf(1), Val::Mul(0, 1)];
        for (w, f) in [(Width::Z, true), (Width::Y, true), (Width::Y, false)] {
            let r = leaf_sums(&vals, 2, w, f);
            assert!(matches!(r, Ok(Some(_))), "{w:?} {f}: {r:?}");
        }
    }
}
