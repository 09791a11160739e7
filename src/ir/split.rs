//! The complex split: a program whose values are complex, rewritten into
//! programs over real values only, which every backend compiles like any
//! other (the JIT, the GPU).
//!
//! Each complex input `z` becomes two real inputs, its real and imaginary
//! parts (the executor passes `ArrayView::split_complex`'s halves: the same
//! memory, strides doubled); each complex node becomes a pair of real nodes;
//! a complex result becomes two programs (its real part, its imaginary
//! part), a real or bool result one. The rewrite gives `ir::scalar`'s bits
//! formula for formula (`cmath`'s arithmetic in the parts' own width):
//!
//! - `+ -`, negation, `conj`, `real`, `imag`, `complex(re, im)`, `rint`,
//!   casts between complex, real and bool, `where`: the parts;
//! - `*`: NumPy's `(fma(ar, br, -(ai*bi)), fma(ar, bi, ai*br))` with the
//!   internal `Node::Fma`;
//! - `/`: Smith's algorithm (`cmath::div`) with selects between its branches;
//! - `== != < <= > >=` (NumPy's lexicographic order, NaN as `cmath::lt`…),
//!   `maximum`, `minimum`, `isnan`, `isinf`, `isfinite`, `angle` (`arctan2`);
//! - `abs`: `cmath::abs_of` in real operations (`fma`, `sqrt`, selects);
//! - `sign`, `reciprocal` and the functions `sqrt exp expm1 log log1p
//!   log2 log10 sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh
//!   arccosh arctanh`: internal binary operations of the parts
//!   (`BinaryOp::complex_part`: `cexp_re(x, y)`,
//!   `cexp_im(x, y)`…), whose reference is `ir::scalar` on the complex value
//!   (so the JIT calls `cmath` through its runtime routines).
//!
//! - `**` with a constant real exponent that is an integer below 100 in
//!   magnitude (or 0.5): `cmath::pow`'s cases, its repeated textbook
//!   products and zero-base selects.
//!
//! Not split ([`split`] gives `None`; the JIT runs such a program on the
//! interpreter): complex `**` with any other exponent,
//! reductions of complex values (`sum`, `mean`, `prod`, `min`, `max`: their
//! order of additions is NumPy's interleaved pairwise sum), `@` of complex
//! matrices.

use crate::error::{Result, Span};
use crate::ir::graph::{Graph, Input, InputId, Node, NodeId, Program};
use crate::ir::op::{BinaryOp, UnaryOp};
use crate::types::{DType, Scalar};

/// Where an input of the split programs comes from: an input of the
/// original program (by its id there), whole or one of its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A real input, as it is.
    Whole(InputId),
    /// The real part of a complex input.
    Re(InputId),
    /// The imaginary part of a complex input.
    Im(InputId),
}

/// A complex program split into real programs.
#[derive(Debug, Clone)]
pub struct Split {
    /// The inputs of `re` and `im` (they share them), in order.
    pub sources: Vec<Source>,
    /// The real part of a complex result, or the (real or bool) result.
    pub re: Program,
    /// The imaginary part of a complex result.
    pub im: Option<Program>,
}

/// A value of the original program in the split one.
#[derive(Debug, Clone, Copy)]
enum Val {
    Real(NodeId),
    Complex(NodeId, NodeId),
}

/// For a program that is a full complex `sum` or `mean` of an operand that
/// splits (`sum(z*w)`, `mean(z)`; the split itself declines reductions of
/// complex values): the operand as a program of its own (same graph and
/// inputs), and whether it is the `mean`. The backends compute the operand
/// split and sum it as `scalar::complex_total` does.
pub fn complex_sum(program: &Program) -> Option<(Program, bool)> {
    use crate::ir::op::ReduceOp;
    let g = &program.graph;
    let Node::Reduce(op @ (ReduceOp::Sum | ReduceOp::Mean), operand, None) = g.node(program.root)
    else {
        return None;
    };
    if !g.dtype(operand).is_complex() || g.dtype(program.root) != g.dtype(operand) {
        return None;
    }
    let whole = Program {
        graph: g.clone(),
        root: operand,
    };
    split(&whole)?;
    Some((whole, op == ReduceOp::Mean))
}

/// Splits `program`, whose result depends on a complex value; `None` if it
/// has an operation that does not split (see the module docs), or no
/// complex value.
pub fn split(program: &Program) -> Option<Split> {
    program.first_complex()?;
    let g = &program.graph;
    let live = g.reachable(program.root);
    // The inputs: every live one, complex ones as two parts.
    let mut sources = Vec::new();
    let mut inputs = Vec::new();
    for id in g.ids().filter(|id| live[id.index()]) {
        let Node::Input(i) = g.node(id) else { continue };
        let decl = g.inputs().get(i.index())?;
        match decl.dtype.component() {
            Some(part) => {
                for (source, suffix) in [(Source::Re(i), "real"), (Source::Im(i), "imag")] {
                    sources.push(source);
                    inputs.push(Input {
                        name: format!("{}({})", suffix, decl.name),
                        dtype: part,
                    });
                }
            }
            None => {
                sources.push(Source::Whole(i));
                inputs.push(decl.clone());
            }
        }
    }
    let mut s = Splitter {
        out: Graph::new(inputs),
    };
    let mut vals: Vec<Option<Val>> = vec![None; g.len()];
    for id in g.ids().filter(|id| live[id.index()]) {
        let v = |n: NodeId| vals[n.index()];
        let val = s.node(g, id, &sources, v)?;
        vals[id.index()] = Some(val);
    }
    let graph = s.out;
    let part = |root| Program {
        graph: graph.clone(),
        root,
    };
    let (re, im) = match vals[program.root.index()]? {
        Val::Real(r) => (part(r), None),
        Val::Complex(r, i) => (part(r), Some(part(i))),
    };
    Some(Split { sources, re, im })
}

/// The joint program of a split with a complex result: both parts in one
/// program over the parts' inputs (`sources`), whose root is
/// `complex(re, im)` of the two parts' roots, the one complex value in it.
/// The JIT compiles it into one kernel that computes both parts of an
/// element from the same loads and stores them as the result's pairs
/// (`jit::vector::complex_root`), one pass over the interleaved arrays
/// where the parts make two. `None` for a real result. Takes the split as
/// [`split`] made it (before [`optimize`], which gives each part its own
/// graph): its parts share one graph.
pub fn joint(split: &Split) -> Option<Program> {
    let im = split.im.as_ref()?;
    let mut graph = split.re.graph.clone();
    // (The same graph: the parts of one split.)
    let same = graph.len() == im.graph.len()
        && im.root.index() < graph.len()
        && graph.node(im.root) == im.graph.node(im.root);
    if !same {
        return None;
    }
    let part = graph.dtype(split.re.root);
    let sig = BinaryOp::Complex.signature(part).ok()?;
    if graph.dtype(im.root) != part || !sig.result.is_complex() {
        return None;
    }
    let span = Span::default();
    let root = graph.add(
        Node::Binary(BinaryOp::Complex, split.re.root, im.root),
        sig.result,
        span,
    );
    Some(Program { graph, root })
}

/// A program the split declines only for full complex `sum`s and `mean`s
/// inside it (`z - mean(z)`, `z / sum(abs(z))` is not one: its sum is
/// real): each such reduction as a program of its own ([`complex_sum`]
/// takes it), and the rest of the program with each reduction replaced by
/// an input appended after the program's own (`@sum0`, `@sum1`, … in
/// `sums` order), which splits. The backends compute the sums first, then
/// the rest on their values. `None` where that does not apply.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The reductions, each rooted in the program's own graph.
    pub sums: Vec<Program>,
    /// The program over its inputs and the sums' values.
    pub rest: Program,
}

/// See [`Staged`].
pub fn staged(program: &Program) -> Option<Staged> {
    use crate::ir::op::ReduceOp;
    let g = &program.graph;
    let live = g.reachable(program.root);
    let sums: Vec<NodeId> = g
        .ids()
        .filter(|&id| live[id.index()] && id != program.root)
        .filter(|&id| {
            g.dtype(id).is_complex()
                && matches!(
                    g.node(id),
                    Node::Reduce(ReduceOp::Sum | ReduceOp::Mean, _, None)
                )
        })
        .collect();
    if sums.is_empty() {
        return None;
    }
    let sums_programs: Vec<Program> = sums
        .iter()
        .map(|&root| Program {
            graph: g.clone(),
            root,
        })
        .collect();
    if !sums_programs.iter().all(|p| complex_sum(p).is_some()) {
        return None;
    }
    let base = g.inputs().len();
    let mut inputs = g.inputs().to_vec();
    for (k, &s) in sums.iter().enumerate() {
        inputs.push(Input {
            name: format!("@sum{k}"),
            dtype: g.dtype(s),
        });
    }
    let mut out = Graph::new(inputs);
    let mut map: Vec<Option<NodeId>> = vec![None; g.len()];
    for id in g.ids().filter(|id| live[id.index()]) {
        let node = match sums.iter().position(|&s| s == id) {
            Some(k) => Node::Input(InputId(u32::try_from(base + k).ok()?)),
            None => {
                let mut missing = false;
                let node = g.node(id).map_operands(|o| {
                    map[o.index()].unwrap_or_else(|| {
                        missing = true;
                        o
                    })
                });
                if missing {
                    return None;
                }
                node
            }
        };
        map[id.index()] = Some(out.add(node, g.dtype(id), g.span(id)));
    }
    let rest = Program {
        graph: out,
        root: map[program.root.index()]?,
    };
    split(&rest)?;
    Some(Staged {
        sums: sums_programs,
        rest,
    })
}

/// Optimizes the split programs (folding the constants the split made,
/// sharing subexpressions) and verifies them.
pub fn optimize(split: Split) -> Result<Split> {
    let finish = |p: &Program| -> Result<Program> {
        let p = crate::ir::optimize::optimize(p)?;
        crate::ir::verify::verify(&p)?;
        Ok(p)
    };
    Ok(Split {
        re: finish(&split.re)?,
        im: split.im.as_ref().map(finish).transpose()?,
        sources: split.sources,
    })
}

/// The graph being built.
struct Splitter {
    out: Graph,
}

impl Splitter {
    fn dtype(&self, n: NodeId) -> DType {
        self.out.dtype(n)
    }

    fn constant(&mut self, value: f64, dtype: DType, span: Span) -> NodeId {
        self.out.constant(Scalar::Float64(value).cast(dtype), span)
    }

    fn un(&mut self, op: UnaryOp, a: NodeId, span: Span) -> Option<NodeId> {
        let sig = op.signature(self.dtype(a)).ok()?;
        Some(self.out.add(Node::Unary(op, a), sig.result, span))
    }

    fn bin(&mut self, op: BinaryOp, a: NodeId, b: NodeId, span: Span) -> Option<NodeId> {
        let sig = op.signature(self.dtype(a)).ok()?;
        if self.dtype(b) != sig.operand || self.dtype(a) != sig.operand {
            return None;
        }
        Some(self.out.add(Node::Binary(op, a, b), sig.result, span))
    }

    fn fma(&mut self, a: NodeId, b: NodeId, c: NodeId, span: Span) -> NodeId {
        let d = self.dtype(c);
        self.out.add(Node::Fma(a, b, c), d, span)
    }

    fn select(&mut self, c: NodeId, a: NodeId, b: NodeId, span: Span) -> NodeId {
        let d = self.dtype(a);
        self.out.add(Node::Select(c, a, b), d, span)
    }

    /// `a op b` for one of the comparisons of NumPy's lexicographic order
    /// (`cmath::lt` and friends): `(ar OP br && !isnan(ai) && !isnan(bi))
    /// || (ar == br && ai op bi)` with `OP` the strict comparison.
    fn compare(
        &mut self,
        op: BinaryOp,
        a: (NodeId, NodeId),
        b: (NodeId, NodeId),
        sp: Span,
    ) -> Option<NodeId> {
        use BinaryOp::*;
        let strict = match op {
            Lt | Le => Lt,
            _ => Gt,
        };
        let first = self.bin(strict, a.0, b.0, sp)?;
        let an = self.un(UnaryOp::IsNan, a.1, sp)?;
        let bn = self.un(UnaryOp::IsNan, b.1, sp)?;
        let nan = self.bin(BitOr, an, bn, sp)?;
        let not_nan = self.un(UnaryOp::Not, nan, sp)?;
        let first = self.bin(BitAnd, first, not_nan, sp)?;
        let eq = self.bin(Eq, a.0, b.0, sp)?;
        let second = self.bin(op, a.1, b.1, sp)?;
        let tie = self.bin(BitAnd, eq, second, sp)?;
        self.bin(BitOr, first, tie, sp)
    }

    /// `a / b`: Smith's algorithm as `cmath::div`, both branches computed
    /// and the result selected.
    fn divide(
        &mut self,
        (ar, ai): (NodeId, NodeId),
        (br, bi): (NodeId, NodeId),
        sp: Span,
    ) -> Option<(NodeId, NodeId)> {
        use BinaryOp::*;
        let d = self.dtype(ar);
        let (zero, one) = (self.constant(0.0, d, sp), self.constant(1.0, d, sp));
        let abs_br = self.un(UnaryOp::Abs, br, sp)?;
        let abs_bi = self.un(UnaryOp::Abs, bi, sp)?;
        let first = self.bin(Ge, abs_br, abs_bi, sp)?;
        let zr = self.bin(Eq, abs_br, zero, sp)?;
        let zi = self.bin(Eq, abs_bi, zero, sp)?;
        let by_zero = self.bin(BitAnd, zr, zi, sp)?;
        // abs_br == abs_bi == 0: each part divided by abs_br.
        let zero_re = self.bin(Div, ar, abs_br, sp)?;
        let zero_im = self.bin(Div, ai, abs_br, sp)?;
        // |br| >= |bi|: rat = bi/br, scl = 1/(br + bi*rat).
        let rat = self.bin(Div, bi, br, sp)?;
        let t = self.bin(Mul, bi, rat, sp)?;
        let t = self.bin(Add, br, t, sp)?;
        let scl = self.bin(Div, one, t, sp)?;
        let t = self.bin(Mul, ai, rat, sp)?;
        let t = self.bin(Add, ar, t, sp)?;
        let a_re = self.bin(Mul, t, scl, sp)?;
        let t = self.bin(Mul, ar, rat, sp)?;
        let t = self.bin(Sub, ai, t, sp)?;
        let a_im = self.bin(Mul, t, scl, sp)?;
        // else: rat = br/bi, scl = 1/(bi + br*rat).
        let rat = self.bin(Div, br, bi, sp)?;
        let t = self.bin(Mul, br, rat, sp)?;
        let t = self.bin(Add, bi, t, sp)?;
        let scl = self.bin(Div, one, t, sp)?;
        let t = self.bin(Mul, ar, rat, sp)?;
        let t = self.bin(Add, t, ai, sp)?;
        let b_re = self.bin(Mul, t, scl, sp)?;
        let t = self.bin(Mul, ai, rat, sp)?;
        let t = self.bin(Sub, t, ar, sp)?;
        let b_im = self.bin(Mul, t, scl, sp)?;
        let re = self.select(by_zero, zero_re, a_re, sp);
        let im = self.select(by_zero, zero_im, a_im, sp);
        let re = self.select(first, re, b_re, sp);
        let im = self.select(first, im, b_im, sp);
        Some((re, im))
    }

    /// The split value of node `id` of `g`, its operands' values given by `v`.
    fn node(
        &mut self,
        g: &Graph,
        id: NodeId,
        sources: &[Source],
        v: impl Fn(NodeId) -> Option<Val>,
    ) -> Option<Val> {
        use BinaryOp::*;
        use Val::{Complex, Real};
        let (dtype, sp) = (g.dtype(id), g.span(id));
        let part = dtype.component();
        let real = |n: NodeId| match v(n)? {
            Real(r) => Some(r),
            Complex(..) => None,
        };
        Some(match g.node(id) {
            Node::Input(i) => {
                let at = |s: Source| {
                    sources
                        .iter()
                        .position(|&x| x == s)
                        .map(|k| InputId(k as u32))
                };
                match part {
                    Some(p) => {
                        let re = self.out.add(Node::Input(at(Source::Re(i))?), p, sp);
                        let im = self.out.add(Node::Input(at(Source::Im(i))?), p, sp);
                        Complex(re, im)
                    }
                    None => Real(self.out.add(Node::Input(at(Source::Whole(i))?), dtype, sp)),
                }
            }
            Node::Const(c) => match (c, part) {
                (Scalar::Complex64(z), _) => Complex(
                    self.out.constant(Scalar::Float32(z.re), sp),
                    self.out.constant(Scalar::Float32(z.im), sp),
                ),
                (Scalar::Complex128(z), _) => Complex(
                    self.out.constant(Scalar::Float64(z.re), sp),
                    self.out.constant(Scalar::Float64(z.im), sp),
                ),
                _ => Real(self.out.constant(c, sp)),
            },
            Node::Cast(a) => match (v(a)?, part) {
                // complex64 <-> complex128: each part.
                (Complex(r, i), Some(p)) => {
                    Complex(self.out.cast(r, p, sp), self.out.cast(i, p, sp))
                }
                // Truthiness: a nonzero part.
                (Complex(r, i), None) if dtype == DType::Bool => {
                    let d = self.dtype(r);
                    let zero = self.constant(0.0, d, sp);
                    let r = self.bin(Ne, r, zero, sp)?;
                    let i = self.bin(Ne, i, zero, sp)?;
                    Real(self.bin(BitOr, r, i, sp)?)
                }
                // NumPy's astype keeps the real part.
                (Complex(r, _), None) => Real(self.out.cast(r, dtype, sp)),
                // A real value as complex: imaginary part +0.
                (Real(x), Some(p)) => Complex(self.out.cast(x, p, sp), self.constant(0.0, p, sp)),
                (Real(x), None) => Real(self.out.cast(x, dtype, sp)),
            },
            Node::Unary(op, a) => match v(a)? {
                Real(x) => Real(self.out.add(Node::Unary(op, x), dtype, sp)),
                Complex(r, i) => self.unary(op, r, i, sp)?,
            },
            Node::Binary(BinaryOp::Complex, a, b) => Complex(real(a)?, real(b)?),
            Node::Binary(op, a, b) => match (v(a)?, v(b)?) {
                (Real(x), Real(y)) => Real(self.out.add(Node::Binary(op, x, y), dtype, sp)),
                (Complex(ar, ai), Complex(br, bi)) => self.binary(op, (ar, ai), (br, bi), sp)?,
                _ => return None,
            },
            Node::Select(c, a, b) => match (v(a)?, v(b)?) {
                (Real(x), Real(y)) => Real(self.select(real(c)?, x, y, sp)),
                (Complex(ar, ai), Complex(br, bi)) => {
                    let c = real(c)?;
                    Complex(self.select(c, ar, br, sp), self.select(c, ai, bi, sp))
                }
                _ => return None,
            },
            Node::Fma(a, b, c) => Real(self.fma(real(a)?, real(b)?, real(c)?, sp)),
            // Complex reductions and products keep the interpreter.
            Node::Reduce(op, a, axis) => {
                Real(self.out.add(Node::Reduce(op, real(a)?, axis), dtype, sp))
            }
            Node::MatMul(a, b) => Real(self.out.add(Node::MatMul(real(a)?, real(b)?), dtype, sp)),
        })
        // A complex node must have become a pair, a real one one node.
        .filter(|val| matches!(val, Complex(..)) == part.is_some())
    }

    /// `op(r + i*1j)`.
    fn unary(&mut self, op: UnaryOp, r: NodeId, i: NodeId, sp: Span) -> Option<Val> {
        use BinaryOp::{BitAnd, BitOr};
        use UnaryOp::*;
        use Val::{Complex, Real};
        Some(match op {
            Neg => Complex(self.un(Neg, r, sp)?, self.un(Neg, i, sp)?),
            Conj => Complex(r, self.un(Neg, i, sp)?),
            Rint => Complex(self.un(Rint, r, sp)?, self.un(Rint, i, sp)?),
            UnaryOp::Real => Real(r),
            Imag => Real(i),
            IsNan | IsInf => {
                let (a, b) = (self.un(op, r, sp)?, self.un(op, i, sp)?);
                Real(self.bin(BitOr, a, b, sp)?)
            }
            IsFinite => {
                let (a, b) = (self.un(op, r, sp)?, self.un(op, i, sp)?);
                Real(self.bin(BitAnd, a, b, sp)?)
            }
            // np.angle: arctan2(imag, real) in the parts' width.
            Angle => Real(self.bin(BinaryOp::Arctan2, i, r, sp)?),
            Abs => Real(self.abs(r, i, sp)?),
            _ => {
                let find = |im: bool| {
                    BinaryOp::ALL
                        .iter()
                        .copied()
                        .find(|b| b.complex_part() == Some((op, im)))
                };
                let (re_op, im_op) = (find(false)?, find(true)?);
                Complex(self.bin(re_op, r, i, sp)?, self.bin(im_op, r, i, sp)?)
            }
        })
    }

    /// `|x + y*1j|` as `cmath::abs_of` (NumPy's): inf when a part is
    /// infinite, else `|x| + |y|` when one is NaN, else 0 when both are 0,
    /// else `larger * sqrt(fma(ratio, ratio, 1))` with `ratio = smaller /
    /// larger`; every case computed and the result selected.
    fn abs(&mut self, x: NodeId, y: NodeId, sp: Span) -> Option<NodeId> {
        use BinaryOp::*;
        let d = self.dtype(x);
        let (zero, one) = (self.constant(0.0, d, sp), self.constant(1.0, d, sp));
        let inf = self.constant(f64::INFINITY, d, sp);
        let (re, im) = (self.un(UnaryOp::Abs, x, sp)?, self.un(UnaryOp::Abs, y, sp)?);
        let ge = self.bin(Ge, re, im, sp)?;
        let larger = self.select(ge, re, im, sp);
        let smaller = self.select(ge, im, re, sp);
        let ratio = self.bin(Div, smaller, larger, sp)?;
        let t = self.fma(ratio, ratio, one, sp);
        let t = self.un(UnaryOp::Sqrt, t, sp)?;
        let value = self.bin(Mul, t, larger, sp)?;
        let zeros = self.bin(Eq, larger, zero, sp)?;
        let value = self.select(zeros, zero, value, sp);
        let (rn, im_n) = (
            self.un(UnaryOp::IsNan, re, sp)?,
            self.un(UnaryOp::IsNan, im, sp)?,
        );
        let nan = self.bin(BitOr, rn, im_n, sp)?;
        let sum = self.bin(Add, re, im, sp)?;
        let value = self.select(nan, sum, value, sp);
        let (ri, ii) = (self.bin(Eq, re, inf, sp)?, self.bin(Eq, im, inf, sp)?);
        let infinite = self.bin(BitOr, ri, ii, sp)?;
        Some(self.select(infinite, inf, value, sp))
    }

    /// The textbook product `(ar*br - ai*bi, ar*bi + ai*br)` (`cmath::mul_plain`).
    fn mul_plain(
        &mut self,
        (ar, ai): (NodeId, NodeId),
        (br, bi): (NodeId, NodeId),
        sp: Span,
    ) -> Option<(NodeId, NodeId)> {
        use BinaryOp::*;
        let (p, q) = (self.bin(Mul, ar, br, sp)?, self.bin(Mul, ai, bi, sp)?);
        let re = self.bin(Sub, p, q, sp)?;
        let (p, q) = (self.bin(Mul, ar, bi, sp)?, self.bin(Mul, ai, br, sp)?);
        let im = self.bin(Add, p, q, sp)?;
        Some((re, im))
    }

    /// `a ** b` for a constant real exponent that is an integer below 100
    /// in magnitude, or 0.5, as `cmath::pow` takes them: 2 is NumPy's
    /// fused product, -1 `reciprocal`, 0.5 `sqrt`, 0 gives 1, a zero base
    /// 0 (positive exponents) or NaN, others repeated textbook products
    /// (`nc_pow`'s binary powering, then `1 / acc` for a negative
    /// exponent, Smith's division). `None` (the interpreter) for any other
    /// exponent.
    fn power(&mut self, a: (NodeId, NodeId), (br, bi): (NodeId, NodeId), sp: Span) -> Option<Val> {
        use BinaryOp::*;
        let value = |n: NodeId| match self.out.node(n) {
            Node::Const(c) => Some(c.to_f64()),
            _ => None,
        };
        let (e, ei) = (value(br)?, value(bi)?);
        if ei != 0.0 || !e.is_finite() {
            return None;
        }
        if e == 0.5 {
            return self.unary(UnaryOp::Sqrt, a.0, a.1, sp);
        }
        if e == -1.0 {
            return self.unary(UnaryOp::Reciprocal, a.0, a.1, sp);
        }
        if e == 2.0 {
            return self.binary(Mul, a, a, sp);
        }
        if e != e.trunc() || e.abs() >= 100.0 {
            return None;
        }
        let d = self.dtype(a.0);
        let (zero, one) = (self.constant(0.0, d, sp), self.constant(1.0, d, sp));
        if e == 0.0 {
            return Some(Val::Complex(one, zero));
        }
        let n = e as i64;
        let product = match n {
            1 => a,
            3 => {
                let sq = self.mul_plain(a, a, sp)?;
                self.mul_plain(sq, a, sp)?
            }
            _ => {
                let mut m = n.unsigned_abs();
                let mut acc = (one, zero);
                let mut p = a;
                loop {
                    if m & 1 == 1 {
                        acc = self.mul_plain(acc, p, sp)?;
                    }
                    m >>= 1;
                    if m == 0 {
                        break;
                    }
                    p = self.mul_plain(p, p, sp)?;
                }
                if n < 0 {
                    self.divide((one, zero), acc, sp)?
                } else {
                    acc
                }
            }
        };
        // A zero base: 0 for a positive exponent, NaN for a negative one.
        let rz = self.bin(Eq, a.0, zero, sp)?;
        let iz = self.bin(Eq, a.1, zero, sp)?;
        let base_zero = self.bin(BitAnd, rz, iz, sp)?;
        let at_zero = if n > 0 {
            zero
        } else {
            self.constant(f64::NAN, d, sp)
        };
        Some(Val::Complex(
            self.select(base_zero, at_zero, product.0, sp),
            self.select(base_zero, at_zero, product.1, sp),
        ))
    }

    /// `a op b` of two complex values.
    fn binary(
        &mut self,
        op: BinaryOp,
        (ar, ai): (NodeId, NodeId),
        (br, bi): (NodeId, NodeId),
        sp: Span,
    ) -> Option<Val> {
        use BinaryOp::*;
        use Val::{Complex, Real};
        Some(match op {
            Add | Sub => Complex(self.bin(op, ar, br, sp)?, self.bin(op, ai, bi, sp)?),
            Mul => {
                // NumPy's (fma(ar, br, -(ai*bi)), fma(ar, bi, ai*br)).
                let t = self.bin(Mul, ai, bi, sp)?;
                let t = self.un(UnaryOp::Neg, t, sp)?;
                let re = self.fma(ar, br, t, sp);
                let t = self.bin(Mul, ai, br, sp)?;
                let im = self.fma(ar, bi, t, sp);
                Complex(re, im)
            }
            Div => {
                let (re, im) = self.divide((ar, ai), (br, bi), sp)?;
                Complex(re, im)
            }
            Eq => {
                let (x, y) = (self.bin(Eq, ar, br, sp)?, self.bin(Eq, ai, bi, sp)?);
                Real(self.bin(BitAnd, x, y, sp)?)
            }
            Ne => {
                let (x, y) = (self.bin(Ne, ar, br, sp)?, self.bin(Ne, ai, bi, sp)?);
                Real(self.bin(BitOr, x, y, sp)?)
            }
            Lt | Le | Gt | Ge => Real(self.compare(op, (ar, ai), (br, bi), sp)?),
            Pow => return self.power((ar, ai), (br, bi), sp),
            Maximum | Minimum => {
                // `a` when it has a NaN part or is >= (<=) `b`, else `b`.
                let an = self.un(UnaryOp::IsNan, ar, sp)?;
                let bn = self.un(UnaryOp::IsNan, ai, sp)?;
                let nan = self.bin(BitOr, an, bn, sp)?;
                let cmp = if op == Maximum { Ge } else { Le };
                let order = self.compare(cmp, (ar, ai), (br, bi), sp)?;
                let keep = self.bin(BitOr, nan, order, sp)?;
                Complex(self.select(keep, ar, br, sp), self.select(keep, ai, bi, sp))
            }
            _ => return None,
        })
    }
}
