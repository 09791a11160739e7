//! The interpreted tier: a stage run without compiling it. Its operations
//! execute one after another over blocks of [`BLOCK`] elements, each one a
//! loop compiled into jitexpr (numexpr's design), so the first call of an
//! expression costs microseconds to prepare instead of a Cranelift compile.
//! Adaptive tiering starts here and compiles the optimized tier once the
//! program is hot (see `Tiering`).
//!
//! Results equal the compiled tiers' bit for bit. Every operation has the
//! semantics of `ir::scalar`: the common ones are written out as loops here,
//! the others go through `ir::scalar` element by element. With fast math a
//! vector-math function is computed where the compiled kernel computes it
//! the same way: by the AOT routine on the elements the kernel's vector loop
//! covers (`[0, n - n % w)` of a call whose operands are all contiguous or
//! uniform; `w` the kernel's lanes) and by the reference routine on the
//! others. A stage whose kernel would run Cranelift's own vector math (a
//! function without an AOT routine, or a CPU without AVX2) is not
//! interpreted but compiled ([`Interp::build`] says `None`).
//!
//! Nothing here is `unsafe`: `call` turns the kernel ABI's raw pointers into
//! the [`Leaf`]s and [`Out`] this module reads and writes.

use std::cell::RefCell;
use std::collections::HashMap;

use smallvec::SmallVec;

use crate::backend::jit::aot::{self, AotFn};
use crate::backend::jit::call::aot as aot_call;
use crate::backend::jit::call::{BlockKernel, Leaf, Out};
use crate::backend::jit::plan::{self, AotStep, StagePlan};
use crate::backend::jit::values::{Buf, Values, ValuesMut};
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::op::{BinaryOp, Impl, UnaryOp};
use crate::ir::scalar;
use crate::types::{DType, Scalar};

/// The dtypes this tier runs (its block types, `values::Buf`); stages with
/// the narrow and unsigned integers or float16 are compiled instead.
pub const INTERPRETED_DTYPES: [DType; 5] = [
    DType::Bool,
    DType::Int32,
    DType::Int64,
    DType::Float32,
    DType::Float64,
];

/// Elements per block: every value of a block fits in L1 next to the others.
pub const BLOCK: usize = aot::BLOCK;

/// Where a step reads an operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    /// Leaf `k` of the stage (kernel operand `k`).
    Leaf(usize),
    /// A slot of the scratch space.
    Slot(usize),
}

/// What a step computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Cast,
    Unary(UnaryOp),
    Binary(BinaryOp),
    Select,
    /// A vector-math function, by its AOT routine where the compiled kernel's
    /// vector loop would run (see the module docs).
    Math(AotFn),
    /// `sin` into `out` and `cos` into `out2` of one operand, as `Math`
    /// does each (one range reduction for both, like the compiled kernel).
    SinCos,
}

#[derive(Debug)]
struct Step {
    op: Op,
    args: SmallVec<[Src; 3]>,
    out: usize,
    /// The second result (`SinCos`).
    out2: Option<usize>,
}

/// One stage as a list of block steps.
#[derive(Debug)]
pub struct Interp {
    /// The dtype of each leaf (kernel operand), in the kernel ABI's order.
    leaves: Vec<DType>,
    /// The dtype of each slot: step results and constants, then one per leaf
    /// (holding a uniform leaf's value, or a strided leaf's block).
    slots: Vec<DType>,
    /// Slots holding a constant.
    consts: Vec<(usize, Scalar)>,
    steps: Vec<Step>,
    root: Src,
    out: DType,
    /// The lanes of the compiled kernel's vector loop when it runs AOT math.
    vector_width: Option<usize>,
}

impl BlockKernel for Interp {
    fn leaves(&self) -> &[DType] {
        Interp::leaves(self)
    }

    fn out(&self) -> DType {
        Interp::out(self)
    }

    fn run(&self, leaves: &[Leaf<'_>], out: Out<'_>, n: usize, vector: bool) {
        Interp::run(self, leaves, out, n, vector)
    }
}

thread_local! {
    /// Each thread's slots, reused by every call it runs.
    static SCRATCH: RefCell<Vec<Buf>> = const { RefCell::new(Vec::new()) };
}

impl Interp {
    /// The stage of `plan` as block steps; `None` when it must be compiled
    /// to give the compiled tiers' results (see the module docs): its
    /// vector loop computes a math function with `vmath` vectors, which
    /// only compiled code does. The math steps are the plan's AOT steps.
    pub fn build(program: &Program, plan: &StagePlan) -> Option<Interp> {
        let g = &program.graph;
        let (leaves, nodes, root) = (&plan.leaves, &plan.nodes, plan.root);
        // The compiled kernel runs AOT math on its vector loop only when the
        // stage vectorizes; it unrolls such a loop once (`codegen`).
        let vector_math = plan.vector_math;
        if vector_math && !plan.vector_only.is_empty() {
            return None;
        }
        // The narrow and unsigned integers and float16 are compiled (at the
        // baseline tier), not interpreted.
        let interpretable = |n: &NodeId| INTERPRETED_DTYPES.contains(&g.dtype(*n));
        if !leaves.iter().chain(nodes.iter()).all(interpretable) {
            return None;
        }
        // Each node's last reader, so that its slot is reused after it
        // (not a constant's: its slot is filled once per call).
        let mut last_use: HashMap<NodeId, usize> = HashMap::new();
        for (k, &n) in nodes.iter().enumerate() {
            for o in g.node(n).operands() {
                if !matches!(g.node(o), Node::Const(_)) {
                    last_use.insert(o, k);
                }
            }
        }
        let mut interp = Interp {
            leaves: leaves.iter().map(|&l| g.dtype(l)).collect(),
            slots: Vec::new(),
            consts: Vec::new(),
            steps: Vec::new(),
            root: Src::Slot(0),
            out: g.dtype(root),
            vector_width: if vector_math {
                plan.lanes.map(|l| usize::from(l.count))
            } else {
                None
            },
        };
        let mut free: HashMap<DType, Vec<usize>> = HashMap::new();
        let mut at: HashMap<NodeId, Src> = HashMap::new();
        for (k, &n) in nodes.iter().enumerate() {
            let node = g.node(n);
            let dtype = g.dtype(n);
            if at.contains_key(&n) {
                // The second result of a SinCos step.
                continue;
            }
            if let Some(leaf) = leaves.iter().position(|&l| l == n) {
                at.insert(n, Src::Leaf(leaf));
                continue;
            }
            let op = match node {
                Node::Const(c) => {
                    let slot = interp.slots.len();
                    interp.slots.push(dtype);
                    interp.consts.push((slot, c.cast(dtype)));
                    at.insert(n, Src::Slot(slot));
                    continue;
                }
                // No block step for it: such a stage is compiled at the
                // baseline tier instead.
                Node::Input(_) | Node::Reduce(..) | Node::MatMul(..) | Node::Fma(..) => {
                    return None;
                }
                Node::Cast(_) => Op::Cast,
                // Exact operations (`Impl::Wide`) give the routine's bits
                // inline, on the whole block at once.
                Node::Unary(op, _) if op.implementation() == Impl::Wide => Op::Unary(op),
                Node::Binary(op, ..) if op.implementation() == Impl::Wide => Op::Binary(op),
                Node::Unary(op, _) => match plan.aot_step(n) {
                    Some(AotStep::One { f, .. }) => Op::Math(f),
                    Some(AotStep::SinCos { .. }) => Op::SinCos,
                    None => Op::Unary(op),
                },
                Node::Binary(op, ..) => match plan.aot_step(n) {
                    Some(AotStep::One { f, .. }) => Op::Math(f),
                    _ => Op::Binary(op),
                },
                Node::Select(..) => Op::Select,
            };
            let args: SmallVec<[Src; 3]> = node.operands().iter().map(|o| at[o]).collect();
            // Result slots are taken before the operands' slots are freed,
            // so a step never writes what it reads.
            let out = interp.slot(&mut free, dtype);
            let mut step = Step {
                op,
                args,
                out,
                out2: None,
            };
            // sin(x) and cos(x) of one x (the first of them here): one step
            // computes both, writing (sin, cos) into (out, out2).
            if let Some(AotStep::SinCos { sin, cos, .. }) = plan.aot_step(n) {
                let partner = if n == sin { cos } else { sin };
                let slot = interp.slot(&mut free, dtype);
                at.insert(partner, Src::Slot(slot));
                let (sin, cos) = if n == sin { (out, slot) } else { (slot, out) };
                step.out = sin;
                step.out2 = Some(cos);
            }
            interp.steps.push(step);
            interp.free_operands(&mut free, &at, &last_use, node, k);
            at.insert(n, Src::Slot(out));
        }
        interp.root = at[&root];
        Some(interp)
    }

    /// A free slot of `dtype` (`free`: the free slots by dtype), else a new one.
    fn slot(&mut self, free: &mut HashMap<DType, Vec<usize>>, dtype: DType) -> usize {
        match free.get_mut(&dtype).and_then(Vec::pop) {
            Some(s) => s,
            None => {
                self.slots.push(dtype);
                self.slots.len() - 1
            }
        }
    }

    /// Frees the slots of `node`'s operands that node `k` reads last (never
    /// a constant's, which has no last reader; the root is read by no node
    /// of its stage).
    fn free_operands(
        &self,
        free: &mut HashMap<DType, Vec<usize>>,
        at: &HashMap<NodeId, Src>,
        last_use: &HashMap<NodeId, usize>,
        node: Node,
        k: usize,
    ) {
        let operands = node.operands();
        for (i, o) in operands.iter().enumerate() {
            // An operand read twice (`a * a`) is freed once.
            if let (Some(&Src::Slot(s)), Some(&last)) = (at.get(o), last_use.get(o))
                && last == k
                && !operands[..i].contains(o)
            {
                free.entry(self.slots[s]).or_default().push(s);
            }
        }
    }

    /// The dtypes of the leaves, in kernel operand order.
    pub fn leaves(&self) -> &[DType] {
        &self.leaves
    }

    /// The output dtype.
    pub fn out(&self) -> DType {
        self.out
    }

    /// Computes `n` elements from `leaves` into `out`. `vector`: every
    /// operand of this call is contiguous or uniform, so the compiled
    /// kernel's vector loop would run (see the module docs).
    pub fn run(&self, leaves: &[Leaf<'_>], out: Out<'_>, n: usize, vector: bool) {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.run_in(&mut scratch, leaves, out, n, vector),
            Err(_) => self.run_in(&mut Vec::new(), leaves, out, n, vector),
        })
    }

    /// Elements `[start, start + len)` of `src` (the block's slot, or the
    /// contiguous leaf itself).
    fn values<'s>(
        &self,
        src: Src,
        leaves: &'s [Leaf<'_>],
        scratch: &'s [Buf],
        start: usize,
        len: usize,
    ) -> Values<'s> {
        match src {
            Src::Leaf(k) => match &leaves[k] {
                Leaf::Contiguous(v) => v.range(start, len),
                _ => scratch[self.slots.len() + k].values(len),
            },
            Src::Slot(s) => scratch[s].values(len),
        }
    }

    fn run_in(
        &self,
        scratch: &mut Vec<Buf>,
        leaves: &[Leaf<'_>],
        mut out: Out<'_>,
        n: usize,
        vector: bool,
    ) {
        let leaf_slot = |k: usize| self.slots.len() + k;
        let wanted = self.slots.iter().chain(&self.leaves);
        if scratch.len() < self.slots.len() + self.leaves.len() {
            scratch.resize_with(self.slots.len() + self.leaves.len(), Buf::default);
        }
        for (buf, &dtype) in scratch.iter_mut().zip(wanted) {
            if buf.dtype() != Some(dtype) {
                *buf = Buf::new(dtype);
            }
        }
        let first = n.min(BLOCK);
        for &(slot, c) in &self.consts {
            scratch[slot].fill(c, first);
        }
        for (k, leaf) in leaves.iter().enumerate() {
            if let Leaf::Uniform(c) = leaf {
                scratch[leaf_slot(k)].fill(*c, first);
            }
        }
        let nv = match (vector, self.vector_width) {
            (true, Some(w)) => n - n % w,
            _ => 0,
        };
        let mut start = 0;
        while start < n {
            let len = BLOCK.min(n - start);
            for (k, leaf) in leaves.iter().enumerate() {
                if let Leaf::Strided(run) = leaf {
                    run.read(start, &mut scratch[leaf_slot(k)], len);
                }
            }
            let vlen = nv.saturating_sub(start).min(len);
            for step in &self.steps {
                let mut o = std::mem::take(&mut scratch[step.out]);
                let mut o2 = step.out2.map(|s| std::mem::take(&mut scratch[s]));
                {
                    let args: SmallVec<[Values<'_>; 3]> = step
                        .args
                        .iter()
                        .map(|&s| self.values(s, leaves, scratch, start, len))
                        .collect();
                    match &mut o2 {
                        Some(cos) => sincos(&args, &mut o, cos, len, vlen),
                        None => execute(step.op, &args, &mut o, len, vlen),
                    }
                }
                scratch[step.out] = o;
                if let (Some(s), Some(b)) = (step.out2, o2) {
                    scratch[s] = b;
                }
            }
            let result = self.values(self.root, leaves, scratch, start, len);
            match &mut out {
                Out::Contiguous(o) => o.copy_at(start, result),
                Out::Strided(run) => run.write(start, result),
            }
            start += len;
        }
    }
}

/// The float operations written out as loops (the others take `ir::scalar`).
trait Float: Copy + PartialOrd + std::ops::Neg<Output = Self> {
    fn add(self, y: Self) -> Self;
    fn sub(self, y: Self) -> Self;
    fn mul(self, y: Self) -> Self;
    fn div(self, y: Self) -> Self;
    fn is_nan(self) -> bool;
    fn abs(self) -> Self;
    fn sqrt(self) -> Self;
    fn copysign(self, y: Self) -> Self;
}

macro_rules! float {
    ($t:ty) => {
        impl Float for $t {
            fn add(self, y: Self) -> Self {
                self + y
            }
            fn sub(self, y: Self) -> Self {
                self - y
            }
            fn mul(self, y: Self) -> Self {
                self * y
            }
            fn div(self, y: Self) -> Self {
                self / y
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn copysign(self, y: Self) -> Self {
                <$t>::copysign(self, y)
            }
        }
    };
}
float!(f32);
float!(f64);

fn zip2<T: Copy, U>(x: &[T], y: &[T], o: &mut [U], f: impl Fn(T, T) -> U) {
    for ((o, &a), &b) in o.iter_mut().zip(x).zip(y) {
        *o = f(a, b);
    }
}

fn map1<T: Copy, U>(x: &[T], o: &mut [U], f: impl Fn(T) -> U) {
    for (o, &a) in o.iter_mut().zip(x) {
        *o = f(a);
    }
}

/// `op` on floats, as `ir::scalar` defines it; `false` if not written out here.
fn float_binary<T: Float>(op: BinaryOp, x: &[T], y: &[T], o: &mut [T]) -> bool {
    use BinaryOp::*;
    match op {
        Add => zip2(x, y, o, T::add),
        Sub => zip2(x, y, o, T::sub),
        Mul => zip2(x, y, o, T::mul),
        Div => zip2(x, y, o, T::div),
        Copysign => zip2(x, y, o, T::copysign),
        // NumPy: NaN propagates; on equality (±0) the second operand wins.
        Maximum => zip2(x, y, o, |a, b| if a.is_nan() || a > b { a } else { b }),
        Minimum => zip2(x, y, o, |a, b| if a.is_nan() || a < b { a } else { b }),
        _ => return false,
    }
    true
}

fn float_unary<T: Float>(op: UnaryOp, x: &[T], o: &mut [T]) -> bool {
    match op {
        UnaryOp::Neg => map1(x, o, |a| -a),
        UnaryOp::Abs => map1(x, o, T::abs),
        UnaryOp::Sqrt => map1(x, o, T::sqrt),
        _ => return false,
    }
    true
}

fn compare<T: PartialOrd + Copy>(op: BinaryOp, x: &[T], y: &[T], o: &mut [bool]) -> bool {
    use BinaryOp::*;
    match op {
        Lt => zip2(x, y, o, |a, b| a < b),
        Le => zip2(x, y, o, |a, b| a <= b),
        Eq => zip2(x, y, o, |a, b| a == b),
        Ne => zip2(x, y, o, |a, b| a != b),
        Ge => zip2(x, y, o, |a, b| a >= b),
        Gt => zip2(x, y, o, |a, b| a > b),
        _ => return false,
    }
    true
}

fn bool_binary(op: BinaryOp, x: &[bool], y: &[bool], o: &mut [bool]) -> bool {
    use BinaryOp::*;
    match op {
        // NumPy: bool + bool is logical or, bool * bool logical and.
        Add | BitOr | Maximum => zip2(x, y, o, |a, b| a | b),
        Mul | BitAnd | Minimum => zip2(x, y, o, |a, b| a & b),
        BitXor | Ne => zip2(x, y, o, |a, b| a ^ b),
        Eq => zip2(x, y, o, |a, b| a == b),
        _ => return false,
    }
    true
}

fn select<T: Copy>(c: &[bool], a: &[T], b: &[T], o: &mut [T]) {
    for (((o, &c), &a), &b) in o.iter_mut().zip(c).zip(a).zip(b) {
        *o = if c { a } else { b };
    }
}

/// The vector-math function `f` by its AOT routine on `[0, vlen)`; `false`
/// if the operands are not of one float dtype (or no routine ran).
fn math(f: AotFn, args: &[Values<'_>], o: &mut Buf, vlen: usize) -> bool {
    match (f, args, o) {
        (AotFn::Unary(op), [Values::Float64(x)], Buf::Float64(o)) => {
            aot_call::unary_f64(op, &x[..vlen], &mut o[..vlen])
        }
        (AotFn::Unary(op), [Values::Float32(x)], Buf::Float32(o)) => {
            aot_call::unary_f32(op, &x[..vlen], &mut o[..vlen])
        }
        (AotFn::Binary(op), [Values::Float64(x), Values::Float64(y)], Buf::Float64(o)) => {
            aot_call::binary_f64(op, &x[..vlen], &y[..vlen], &mut o[..vlen])
        }
        (AotFn::Binary(op), [Values::Float32(x), Values::Float32(y)], Buf::Float32(o)) => {
            aot_call::binary_f32(op, &x[..vlen], &y[..vlen], &mut o[..vlen])
        }
        _ => false,
    }
}

/// One step on a block of `len` elements into `o`; `vlen` of them from the
/// start are inside the compiled kernel's vector loop.
fn execute(op: Op, args: &[Values<'_>], o: &mut Buf, len: usize, vlen: usize) {
    let mut from = 0;
    if let Op::Math(f) = op {
        // Its AOT routine where the compiled kernel runs it (availability
        // was checked when the program was built), the reference routine
        // on the rest, as the kernel's scalar loop does; an exact routine
        // (`Fast::exact`, the reference's bits) on the whole block.
        let n = if plan::is_exact(f) { len } else { vlen };
        if n > 0 && math(f, args, o, n) {
            from = n;
        }
    } else if written_out(op, args, o.values_mut(len)) {
        return;
    }
    for i in from..len {
        let at = |k: usize| args[k].at(i);
        let value = match op {
            Op::Cast => match o.dtype() {
                Some(d) => at(0).cast(d),
                None => return,
            },
            Op::Unary(u) | Op::Math(AotFn::Unary(u)) => scalar::unary(u, at(0)),
            Op::Binary(b) | Op::Math(AotFn::Binary(b)) => scalar::binary(b, at(0), at(1)),
            Op::Select => scalar::select(at(0), at(1), at(2)),
            Op::SinCos => return,
        };
        o.set(i, value);
    }
}

/// sin and cos of `args[0]` into `sin` and `cos`: like two `Math` steps.
fn sincos(args: &[Values<'_>], sin: &mut Buf, cos: &mut Buf, len: usize, vlen: usize) {
    let routine = vlen > 0
        && match (args, &mut *sin, &mut *cos) {
            ([Values::Float64(x)], Buf::Float64(s), Buf::Float64(c)) => {
                aot_call::sincos_f64(&x[..vlen], &mut s[..vlen], &mut c[..vlen])
            }
            ([Values::Float32(x)], Buf::Float32(s), Buf::Float32(c)) => {
                aot_call::sincos_f32(&x[..vlen], &mut s[..vlen], &mut c[..vlen])
            }
            _ => false,
        };
    for i in if routine { vlen } else { 0 }..len {
        let x = args[0].at(i);
        sin.set(i, scalar::unary(UnaryOp::Sin, x));
        cos.set(i, scalar::unary(UnaryOp::Cos, x));
    }
}

/// The steps with a loop of their own here; `false` for the others.
fn written_out(op: Op, args: &[Values<'_>], o: ValuesMut<'_>) -> bool {
    use Values as V;
    use ValuesMut as M;
    match (op, args, o) {
        (Op::Binary(b), [V::Float64(x), V::Float64(y)], M::Float64(o)) => float_binary(b, x, y, o),
        (Op::Binary(b), [V::Float32(x), V::Float32(y)], M::Float32(o)) => float_binary(b, x, y, o),
        (Op::Binary(b), [V::Float64(x), V::Float64(y)], M::Bool(o)) => compare(b, x, y, o),
        (Op::Binary(b), [V::Float32(x), V::Float32(y)], M::Bool(o)) => compare(b, x, y, o),
        (Op::Binary(b), [V::Int64(x), V::Int64(y)], M::Bool(o)) => compare(b, x, y, o),
        (Op::Binary(b), [V::Int32(x), V::Int32(y)], M::Bool(o)) => compare(b, x, y, o),
        (Op::Binary(b), [V::Bool(x), V::Bool(y)], M::Bool(o)) => bool_binary(b, x, y, o),
        (Op::Unary(u), [V::Float64(x)], M::Float64(o)) => float_unary(u, x, o),
        (Op::Unary(u), [V::Float32(x)], M::Float32(o)) => float_unary(u, x, o),
        (Op::Unary(UnaryOp::Not), [V::Bool(x)], M::Bool(o)) => {
            map1(x, o, |a| !a);
            true
        }
        (Op::Select, [V::Bool(c), a, b], o) => {
            match (a, b, o) {
                (V::Float64(a), V::Float64(b), M::Float64(o)) => select(c, a, b, o),
                (V::Float32(a), V::Float32(b), M::Float32(o)) => select(c, a, b, o),
                (V::Int64(a), V::Int64(b), M::Int64(o)) => select(c, a, b, o),
                (V::Int32(a), V::Int32(b), M::Int32(o)) => select(c, a, b, o),
                (V::Bool(a), V::Bool(b), M::Bool(o)) => select(c, a, b, o),
                _ => return false,
            }
            true
        }
        // NumPy `astype` to a float, as `Scalar::cast` does it: int64 to
        // float32 directly, the others through f64 (exact for them).
        (Op::Cast, [x], M::Float64(o)) => {
            match *x {
                V::Bool(x) => map1(x, o, |a| f64::from(u8::from(a))),
                V::Int32(x) => map1(x, o, f64::from),
                V::Int64(x) => map1(x, o, |a| a as f64),
                V::Float32(x) => map1(x, o, f64::from),
                V::Float64(x) => o.copy_from_slice(x),
            }
            true
        }
        (Op::Cast, [x], M::Float32(o)) => {
            match *x {
                V::Bool(x) => map1(x, o, |a| f32::from(u8::from(a))),
                V::Int32(x) => map1(x, o, |a| f64::from(a) as f32),
                V::Int64(x) => map1(x, o, |a| a as f32),
                V::Float32(x) => o.copy_from_slice(x),
                V::Float64(x) => map1(x, o, |a| a as f32),
            }
            true
        }
        // Truthiness: nonzero (NaN is true).
        (Op::Cast, [V::Float64(x)], M::Bool(o)) => {
            map1(x, o, |a| a != 0.0);
            true
        }
        (Op::Cast, [V::Float32(x)], M::Bool(o)) => {
            map1(x, o, |a| a != 0.0);
            true
        }
        _ => false,
    }
}
