//! The checker: resolves names, infers dtypes (NumPy 2 promotion with weak
//! Python literals), inserts explicit casts and builds the typed IR.
//!
//! Literals stay *weak* while only literals are combined (`2*3` is a weak
//! int, `-1` a weak int); a weak value becomes a typed constant when it meets
//! a typed operand, when a function is applied to it, or at the root, where it
//! takes the default dtype of its kind (`int64`, `float64`). Arithmetic on weak
//! values uses those defaults' semantics, except `int ** negative int`, which
//! gives a float like Python (`2**-1` is `0.5`).
//!
//! The AST arena lists operands before users, so lowering is one forward loop.

use std::collections::HashMap;

use crate::error::{Error, ErrorKind, Result, Span};
use crate::ir::builtins::{self, CONSTANTS, FUNCTIONS, Function, Lowering};
use crate::ir::graph::{Graph, Input, InputId, Node, NodeId, Program};
use crate::ir::op::{BinaryOp, ReduceOp, Rejection, UnaryOp};
use crate::ir::scalar;
use crate::syntax::ast::{self, Ast, ExprId, ExprKind, Keyword};
use crate::types::{DType, ExprType, Kind, Scalar, promote_weak};

/// Lowers a parsed expression whose variables have the dtypes in `inputs`.
pub fn lower(ast: &Ast, inputs: &[Input]) -> Result<Program> {
    let mut lowerer = Lowerer {
        ast,
        graph: Graph::new(inputs.to_vec()),
        values: Vec::with_capacity(ast.exprs.len()),
        names: inputs
            .iter()
            .enumerate()
            .map(|(i, input)| (input.name.as_str(), InputId(i as u32)))
            .collect(),
    };
    for index in 0..ast.exprs.len() {
        let value = lowerer.expr(ExprId(index as u32))?;
        lowerer.values.push(value);
    }
    let root_span = ast.get(ast.root).span;
    let root_value = lowerer.value(ast.root);
    let root = lowerer.materialize_default(root_value, root_span)?;
    Ok(Program {
        graph: lowerer.graph,
        root,
    })
}

/// A Python literal (or arithmetic on literals only) whose dtype is not fixed yet.
#[derive(Debug, Clone, Copy)]
enum Weak {
    Int(i128),
    Float(f64),
    /// A Python complex literal (`1j`, `2 + 3j`): real and imaginary parts.
    Complex(f64, f64),
}

#[derive(Debug, Clone, Copy)]
enum Value {
    Node(NodeId),
    Weak(Weak),
}

struct Lowerer<'a> {
    ast: &'a Ast,
    graph: Graph,
    values: Vec<Value>,
    names: HashMap<&'a str, InputId>,
}

impl<'a> Lowerer<'a> {
    fn value(&self, id: ExprId) -> Value {
        self.values[id.index()]
    }

    fn span(&self, id: ExprId) -> Span {
        self.ast.get(id).span
    }

    fn ty(&self, v: Value) -> ExprType {
        match v {
            Value::Node(n) => ExprType {
                dtype: self.graph.dtype(n),
                weak: false,
            },
            Value::Weak(Weak::Int(_)) => ExprType {
                dtype: DType::Int64,
                weak: true,
            },
            Value::Weak(Weak::Float(_)) => ExprType {
                dtype: DType::Float64,
                weak: true,
            },
            Value::Weak(Weak::Complex(..)) => ExprType {
                dtype: DType::Complex128,
                weak: true,
            },
        }
    }

    fn expr(&mut self, id: ExprId) -> Result<Value> {
        let ast: &'a Ast = self.ast;
        let expr = ast.get(id);
        let span = expr.span;
        match &expr.kind {
            ExprKind::Int(v) => Ok(Value::Weak(Weak::Int(i128::from(*v)))),
            ExprKind::Float(v) => Ok(Value::Weak(Weak::Float(*v))),
            ExprKind::Imag(v) => Ok(Value::Weak(Weak::Complex(0.0, *v))),
            ExprKind::Bool(b) => Ok(Value::Node(self.graph.constant(Scalar::Bool(*b), span))),
            ExprKind::Name(name) => self.name(name, span),
            ExprKind::Unary {
                op,
                op_span,
                operand,
            } => self.prefix(*op, *op_span, *operand, span),
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => match binary_op(*op) {
                Some(op) => self.binary(op, *lhs, *rhs, *op_span),
                None => self.matmul(*lhs, *rhs, *op_span),
            },
            ExprKind::Call {
                func,
                func_span,
                args,
                keywords,
            } => self.call(func, *func_span, args, keywords, span),
        }
    }

    fn name(&mut self, name: &str, span: Span) -> Result<Value> {
        if let Some(&input) = self.names.get(name) {
            let dtype = self.graph.inputs()[input.index()].dtype;
            return Ok(Value::Node(self.graph.add(Node::Input(input), dtype, span)));
        }
        if let Some(&(_, v)) = CONSTANTS.iter().find(|(n, _)| *n == name) {
            return Ok(Value::Weak(Weak::Float(v)));
        }
        if builtins::lookup(name).is_some() {
            return Err(Error::new(
                ErrorKind::Name,
                format!("`{name}` is a function, not a variable"),
            )
            .at(span)
            .with_label("function used as a value")
            .with_help(format!("call it: `{name}(x)`")));
        }
        // Only names an expression can spell are suggested (not the command
        // line's hidden `random@4`).
        let spellable = |n: &&str| {
            n.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic())
                && n.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
        };
        let candidates = self
            .names
            .keys()
            .copied()
            .filter(spellable)
            .chain(CONSTANTS.iter().map(|(n, _)| *n));
        let mut err = Error::new(ErrorKind::Name, format!("unknown variable `{name}`"))
            .at(span)
            .with_label("not defined");
        err = match builtins::suggest(name, candidates) {
            Some(s) => err.with_help(format!("did you mean `{s}`?")),
            None if !self.names.keys().any(spellable) => {
                err.with_help("no variables were passed in")
            }
            None => {
                let mut known: Vec<&str> = self.names.keys().copied().filter(spellable).collect();
                known.sort_unstable();
                err.with_help(format!("the variables are: {}", known.join(", ")))
            }
        };
        Err(err)
    }

    fn prefix(
        &mut self,
        op: ast::UnaryOp,
        op_span: Span,
        operand: ExprId,
        span: Span,
    ) -> Result<Value> {
        let v = self.value(operand);
        match (op, v) {
            (ast::UnaryOp::Pos, Value::Node(n)) if self.graph.dtype(n) == DType::Bool => Err(
                Error::new(ErrorKind::Type, "unary `+` is not defined for bool")
                    .at(op_span)
                    .with_label("operand is bool")
                    .with_help("remove the `+`, or cast with int32(...) first"),
            ),
            (ast::UnaryOp::Pos, v) => Ok(v),
            (ast::UnaryOp::Neg, Value::Weak(Weak::Int(x))) => Ok(Value::Weak(Weak::Int(-x))),
            (ast::UnaryOp::Neg, Value::Weak(Weak::Float(x))) => Ok(Value::Weak(Weak::Float(-x))),
            (ast::UnaryOp::Neg, Value::Weak(Weak::Complex(r, i))) => {
                Ok(Value::Weak(Weak::Complex(-r, -i)))
            }
            (ast::UnaryOp::Invert, Value::Weak(Weak::Int(x))) => {
                let x = self.weak_int64(x, self.span(operand))?;
                Ok(Value::Weak(Weak::Int(i128::from(!x))))
            }
            (ast::UnaryOp::Neg, v) => self.unary(UnaryOp::Neg, v, op_span, span),
            (ast::UnaryOp::Invert, v) => self.unary(UnaryOp::Not, v, op_span, span),
        }
    }

    /// `op(v)` as a typed node; weak operands take their default dtype first.
    fn unary(&mut self, op: UnaryOp, v: Value, op_span: Span, span: Span) -> Result<Value> {
        let x = self.materialize_default(v, span)?;
        let dtype = self.graph.dtype(x);
        let sig = op
            .signature(dtype)
            .map_err(|r| rejection(r, op_span, format!("operand is {dtype}")))?;
        let x = self.graph.cast(x, sig.operand.compute(), span);
        Ok(Value::Node(self.add_computed(
            Node::Unary(op, x),
            sig.result,
            op_span,
        )))
    }

    /// Adds `node`, computed in `result.compute()`, and for a `float16`
    /// result the cast that rounds it to `float16` (storage only: NumPy's
    /// `float16` loops compute in `float32` and round each result).
    fn add_computed(&mut self, node: Node, result: DType, span: Span) -> NodeId {
        let n = self.graph.add(node, result.compute(), span);
        self.graph.cast(n, result, span)
    }

    fn binary(&mut self, op: BinaryOp, lhs: ExprId, rhs: ExprId, op_span: Span) -> Result<Value> {
        let (l, r) = (self.value(lhs), self.value(rhs));
        let (lspan, rspan) = (self.span(lhs), self.span(rhs));
        self.binary_values(op, (l, lspan), (r, rspan), op_span)
    }

    fn binary_values(
        &mut self,
        op: BinaryOp,
        (l, lspan): (Value, Span),
        (r, rspan): (Value, Span),
        op_span: Span,
    ) -> Result<Value> {
        if let (Value::Weak(Weak::Int(a)), Value::Weak(Weak::Int(b))) = (l, r)
            && let Some(v) = weak_int_op(op, a, b, op_span)?
        {
            return Ok(match v {
                WeakResult::Int(v) => Value::Weak(Weak::Int(v)),
                WeakResult::Bool(v) => {
                    Value::Node(self.graph.constant(Scalar::Bool(v), lspan.to(rspan)))
                }
            });
        }
        // Python: int ** negative int is a float.
        let (l, r) = match (op, l, r) {
            (BinaryOp::Pow, Value::Weak(Weak::Int(a)), Value::Weak(Weak::Int(b))) if b < 0 => (
                Value::Weak(Weak::Float(a as f64)),
                Value::Weak(Weak::Float(b as f64)),
            ),
            other => (other.1, other.2),
        };
        if op == BinaryOp::Pow
            && !self.ty(l).dtype.is_float()
            && !self.ty(l).dtype.is_complex()
            && matches!(r, Value::Weak(Weak::Int(b)) if b < 0)
        {
            return Err(Error::new(
                ErrorKind::Value,
                "integers to negative integer powers are not allowed",
            )
            .at(rspan)
            .with_label("negative exponent")
            .with_help("make the base a float, e.g. `float64(i) ** -1`"));
        }
        let (lt, rt) = (self.ty(l), self.ty(r));
        let mut common = promote_weak(lt, rt).dtype;
        // NumPy 2 compares integers with out-of-range Python integers
        // correctly (`uint8_array < 300` is all true): compare in int64, or
        // for uint64 and a negative literal in float64, whose order between
        // negative numbers and uint64 values is exact.
        if op.is_comparison() && common.is_int() {
            let out = |v: Value| matches!(v, Value::Weak(Weak::Int(x)) if !fits(x, common));
            let negative = |v: Value| matches!(v, Value::Weak(Weak::Int(x)) if x < 0);
            if out(l) || out(r) {
                common = if common != DType::UInt64 {
                    DType::Int64
                } else if negative(l) || negative(r) {
                    DType::Float64
                } else {
                    common
                };
            }
        }
        let sig = op.signature(common).map_err(|r| {
            rejection(
                r,
                op_span,
                format!("{} {} {}", lt.dtype, op.spelling(), rt.dtype),
            )
        })?;
        // Weak literals are range-checked against NumPy's operand dtype
        // (`uint8_array + 300` is an error), then computed in its compute dtype.
        let a = self.materialize(l, sig.operand, lspan)?;
        let b = self.materialize(r, sig.operand, rspan)?;
        let compute = sig.operand.compute();
        let (a, b) = (
            self.graph.cast(a, compute, lspan),
            self.graph.cast(b, compute, rspan),
        );
        // NumPy's float16 `maximum`/`minimum` return the first operand on a
        // tie (±0), float32's and float64's the second: swapped in float32.
        let (a, b) = match op {
            BinaryOp::Maximum | BinaryOp::Minimum if sig.operand == DType::Float16 => (b, a),
            _ => (a, b),
        };
        let node = self.add_computed(Node::Binary(op, a, b), sig.result, op_span);
        if lt.weak && rt.weak {
            return Ok(self.fold_weak(op, a, b, node));
        }
        Ok(Value::Node(node))
    }

    /// `a @ b`: both operands must be arrays (a literal has no axes, NumPy's
    /// "does not have enough dimensions"); computed in their promoted dtype
    /// (`float16` in `float32`, rounded once at the end; `bool` as NumPy's
    /// or of ands), integers wrapping in their own type.
    fn matmul(&mut self, lhs: ExprId, rhs: ExprId, op_span: Span) -> Result<Value> {
        let (a, b) = (
            self.matmul_operand(lhs, op_span)?,
            self.matmul_operand(rhs, op_span)?,
        );
        let common = crate::types::promote(self.graph.dtype(a), self.graph.dtype(b));
        let compute = common.compute();
        let a = self.graph.cast(a, compute, self.span(lhs));
        let b = self.graph.cast(b, compute, self.span(rhs));
        Ok(Value::Node(self.add_computed(
            Node::MatMul(a, b),
            common,
            op_span,
        )))
    }

    /// An operand of `@`: an array, not a literal.
    fn matmul_operand(&self, id: ExprId, op_span: Span) -> Result<NodeId> {
        match self.value(id) {
            Value::Node(n) => Ok(n),
            Value::Weak(_) => Err(Error::new(
                ErrorKind::Shape,
                "matmul: a scalar operand does not have enough dimensions",
            )
            .at(self.span(id))
            .with_label("a number, not an array")
            .with_secondary(op_span, "`@` needs arrays of at least 1 dimension")
            .with_help("to scale every element write `*`")),
        }
    }

    /// Arithmetic on two weak values stays weak (a comparison gives a bool constant).
    fn fold_weak(&mut self, op: BinaryOp, a: NodeId, b: NodeId, node: NodeId) -> Value {
        let (Some(x), Some(y)) = (self.graph.as_const(a), self.graph.as_const(b)) else {
            return Value::Node(node);
        };
        match scalar::binary(op, x, y) {
            Scalar::Int64(v) => Value::Weak(Weak::Int(i128::from(v))),
            Scalar::Float64(v) => Value::Weak(Weak::Float(v)),
            Scalar::Complex128(v) => Value::Weak(Weak::Complex(v.re, v.im)),
            other => Value::Node(self.graph.constant(other, self.graph.span(node))),
        }
    }

    fn call(
        &mut self,
        name: &str,
        func_span: Span,
        args: &[ExprId],
        keywords: &[Keyword],
        span: Span,
    ) -> Result<Value> {
        let f = self.function(name, func_span)?;
        check_call(f, func_span, args, keywords, |id| self.span(id))?;
        let argv: Vec<(Value, Span)> = args
            .iter()
            .map(|&a| (self.value(a), self.span(a)))
            .collect();
        let arg = |i: usize| argv[i];
        match f.lowering {
            Lowering::Unary(
                op @ (UnaryOp::Real | UnaryOp::Imag | UnaryOp::Conj | UnaryOp::Angle),
            ) if !self.ty(arg(0).0).dtype.is_complex() => {
                self.real_part_function(op, arg(0), func_span)
            }
            Lowering::Unary(op) => self.unary(op, arg(0).0, func_span, span),
            Lowering::Binary(op) => {
                // A function of literals is a strong value (`maximum(2, 3)` is int64), as in NumPy.
                let (x, xspan) = arg(0);
                let x = match (x, arg(1).0) {
                    (Value::Weak(_), Value::Weak(_)) => {
                        Value::Node(self.materialize_default(x, xspan)?)
                    }
                    _ => x,
                };
                self.binary_values(op, (x, xspan), arg(1), func_span)
            }
            Lowering::Square => {
                let (x, xspan) = arg(0);
                if self.ty(x).dtype == DType::Bool && !self.ty(x).weak {
                    return Err(
                        Error::new(ErrorKind::Type, "`square` is not defined for bool")
                            .at(func_span)
                            .with_label("operand is bool")
                            .with_help("cast first, e.g. `square(int32(b))`"),
                    );
                }
                // Of a literal, a strong value like NumPy's (`square(1e20)` is a
                // float64 1e40 next to float32 arrays, not a weak float).
                let x = match x {
                    Value::Weak(_) => Value::Node(self.materialize_default(x, xspan)?),
                    _ => x,
                };
                self.binary_values(BinaryOp::Mul, (x, xspan), (x, xspan), func_span)
            }
            Lowering::Degrees | Lowering::Radians => {
                let x = self.materialize_default(arg(0).0, arg(0).1)?;
                // NumPy's `degrees`/`radians` have no complex loop.
                let dtype = self.graph.dtype(x);
                if dtype.is_complex() {
                    return Err(Error::new(
                        ErrorKind::Type,
                        format!("`{}` is not defined for {dtype}", f.name),
                    )
                    .at(func_span)
                    .with_label("operand is complex")
                    .with_help(crate::ir::op::NO_COMPLEX_LOOP));
                }
                let result = self.graph.dtype(x).float_for();
                let dtype = result.compute();
                let x = self.graph.cast(x, dtype, arg(0).1);
                let factor = match (f.lowering, dtype) {
                    (Lowering::Degrees, DType::Float32) => {
                        Scalar::Float32(180.0f32 / std::f32::consts::PI)
                    }
                    (Lowering::Degrees, _) => Scalar::Float64(180.0 / std::f64::consts::PI),
                    (_, DType::Float32) => Scalar::Float32(std::f32::consts::PI / 180.0),
                    _ => Scalar::Float64(std::f64::consts::PI / 180.0),
                };
                let k = self.graph.constant(factor, func_span);
                Ok(Value::Node(self.add_computed(
                    Node::Binary(BinaryOp::Mul, x, k),
                    result,
                    func_span,
                )))
            }
            Lowering::Round => {
                let x = self.materialize_default(arg(0).0, arg(0).1)?;
                match self.graph.dtype(x) {
                    d if d.is_int() => Ok(Value::Node(x)),
                    _ => self.unary(UnaryOp::Rint, Value::Node(x), func_span, span),
                }
            }
            Lowering::Copy => Ok(Value::Node(self.materialize_default(arg(0).0, arg(0).1)?)),
            Lowering::OnesLike => {
                // where(isnan(x), 1, 1): x's shape (the optimizer keeps a
                // `where` whose condition could widen the result), x's
                // dtype, and one per element whatever the values.
                let x = self.materialize_default(arg(0).0, arg(0).1)?;
                let dtype = self.graph.dtype(x);
                let nan = self.unary(UnaryOp::IsNan, Value::Node(x), func_span, span)?;
                let nan = self.materialize_default(nan, span)?;
                let one = self.graph.constant(Scalar::one(dtype.compute()), func_span);
                Ok(Value::Node(self.add_computed(
                    Node::Select(nan, one, one),
                    dtype,
                    func_span,
                )))
            }
            Lowering::Where => {
                let (c, cspan) = arg(0);
                let (x, y) = (arg(1), arg(2));
                let common = promote_weak(self.ty(x.0), self.ty(y.0)).dtype;
                let c = self.materialize(c, DType::Bool, cspan)?;
                let a = self.materialize(x.0, common, x.1)?;
                let b = self.materialize(y.0, common, y.1)?;
                let a = self.graph.cast(a, common.compute(), x.1);
                let b = self.graph.cast(b, common.compute(), y.1);
                Ok(Value::Node(self.add_computed(
                    Node::Select(c, a, b),
                    common,
                    func_span,
                )))
            }
            Lowering::Clip => {
                let (x, lo, hi) = (arg(0), arg(1), arg(2));
                let bounds = promote_weak(self.ty(lo.0), self.ty(hi.0));
                let common = promote_weak(self.ty(x.0), bounds).dtype;
                let x = self.materialize(x.0, common, x.1)?;
                let lo = self.materialize(lo.0, common, lo.1)?;
                let hi = self.materialize(hi.0, common, hi.1)?;
                let c = common.compute();
                let g = &mut self.graph;
                let (x, lo, hi) = (
                    g.cast(x, c, func_span),
                    g.cast(lo, c, func_span),
                    g.cast(hi, c, func_span),
                );
                // Bounds first: on a tie (`clip(-0.0, 0, 1)`) maximum/minimum return
                // their second operand, so x is kept, as NumPy's clip does.
                let m = g.add(Node::Binary(BinaryOp::Maximum, lo, x), c, func_span);
                Ok(Value::Node(self.add_computed(
                    Node::Binary(BinaryOp::Minimum, hi, m),
                    common,
                    func_span,
                )))
            }
            Lowering::Cast(dtype) => {
                let (x, xspan) = arg(0);
                Ok(Value::Node(self.materialize(x, dtype, xspan)?))
            }
            Lowering::Reduce(op) => {
                // `axis=k`, or numexpr's positional `sum(x, k)`.
                let axis = match (keywords.first(), args.get(1)) {
                    (Some(k), _) => Some(self.axis(k.value)?),
                    (None, Some(&a)) => Some(self.axis(a)?),
                    (None, None) => None,
                };
                // The whole call: an axis error then underlines `axis=k` too.
                self.reduce(op, arg(0), axis, span)
            }
        }
    }

    /// `real`, `imag`, `conj`, `angle` of a real operand, in operations every
    /// backend has: `real(x)` and `conj(x)` are `x`, `imag(x)` is
    /// `where(isnan(x), 0, 0)` (zeros of `x`'s dtype and shape), `angle(x)`
    /// is `arctan2(0, x)` (NumPy's definitions).
    fn real_part_function(
        &mut self,
        op: UnaryOp,
        (x, xspan): (Value, Span),
        func_span: Span,
    ) -> Result<Value> {
        let x = self.materialize_default(x, xspan)?;
        let dtype = self.graph.dtype(x);
        match op {
            UnaryOp::Imag => {
                let compute = dtype.compute();
                let xc = self.graph.cast(x, compute, xspan);
                let nan = self
                    .graph
                    .add(Node::Unary(UnaryOp::IsNan, xc), DType::Bool, func_span);
                let zero = self.graph.constant(Scalar::zero(compute), func_span);
                Ok(Value::Node(self.add_computed(
                    Node::Select(nan, zero, zero),
                    dtype,
                    func_span,
                )))
            }
            UnaryOp::Angle => self.binary_values(
                BinaryOp::Arctan2,
                (Value::Weak(Weak::Int(0)), func_span),
                (Value::Node(x), xspan),
                func_span,
            ),
            _ => Ok(Value::Node(x)),
        }
    }

    fn reduce(
        &mut self,
        op: ReduceOp,
        (x, xspan): (Value, Span),
        axis: Option<i64>,
        span: Span,
    ) -> Result<Value> {
        let x = self.materialize_default(x, xspan)?;
        let sig = op.signature(self.graph.dtype(x));
        let x = self.graph.cast(x, sig.operand.compute(), xspan);
        Ok(Value::Node(self.add_computed(
            Node::Reduce(op, x, axis),
            sig.result,
            span,
        )))
    }

    fn axis(&self, value: ExprId) -> Result<i64> {
        let span = self.span(value);
        match self.value(value) {
            Value::Weak(Weak::Int(v)) => i64::try_from(v).map_err(|_| {
                Error::new(ErrorKind::Value, "axis is out of range")
                    .at(span)
                    .with_label("too large")
            }),
            _ => Err(
                Error::new(ErrorKind::Type, "`axis` must be an integer constant")
                    .at(span)
                    .with_label("not an integer literal")
                    .with_help("write e.g. `axis=0` or `axis=-1`"),
            ),
        }
    }

    fn function(&self, name: &str, span: Span) -> Result<&'static Function> {
        if let Some(f) = builtins::lookup(name) {
            return Ok(f);
        }
        if self.names.contains_key(name) {
            return Err(Error::new(
                ErrorKind::Name,
                format!("`{name}` is a variable, not a function"),
            )
            .at(span)
            .with_label("called like a function")
            .with_help(format!("to multiply, write `{name} * (...)`")));
        }
        let err = Error::new(ErrorKind::Name, format!("unknown function `{name}`"))
            .at(span)
            .with_label("not a known function");
        Err(
            match builtins::suggest(name, FUNCTIONS.iter().map(|f| f.name)) {
                Some(s) => err.with_help(format!("did you mean `{s}`?")),
                None => err.with_help("`jitexpr repl` lists the functions with `:help`"),
            },
        )
    }

    fn weak_int64(&self, v: i128, span: Span) -> Result<i64> {
        i64::try_from(v).map_err(|_| {
            Error::new(
                ErrorKind::Value,
                format!("Python integer {v} out of bounds for int64"),
            )
            .at(span)
            .with_label("too large for int64")
            .with_help("write it as a float, e.g. `1e20`")
        })
    }

    /// `v` as a node of `dtype`: weak values become constants (integers
    /// range-checked like NumPy 2), typed nodes get a cast.
    fn materialize(&mut self, v: Value, dtype: DType, span: Span) -> Result<NodeId> {
        let weak = match v {
            Value::Node(n) => return Ok(self.graph.cast(n, dtype, span)),
            Value::Weak(w) => w,
        };
        let value = match (weak, dtype) {
            (Weak::Int(x), DType::Int64) => Scalar::Int64(self.weak_int64(x, span)?),
            (Weak::Int(x), DType::Bool) => Scalar::Bool(x != 0),
            (Weak::Int(x), d) if d.is_int() => {
                if !fits(x, d) {
                    let hint = if x < 0 && d.is_unsigned() {
                        "a negative literal does not fit an unsigned dtype: write `a - 1` \
                         rather than `a + -1`, or cast first, e.g. `int64(a)`"
                    } else {
                        "cast the other operand first, e.g. `int64(a)`"
                    };
                    return Err(Error::new(
                        ErrorKind::Value,
                        format!("Python integer {x} out of bounds for {d}"),
                    )
                    .at(span)
                    .with_label(format!("does not fit in {d}"))
                    .with_help(hint));
                }
                // In range, so exact (uint64 above i64::MAX included).
                if d == DType::UInt64 {
                    Scalar::UInt64(x as u64)
                } else {
                    Scalar::Int64(x as i64).cast(d)
                }
            }
            (Weak::Int(x), DType::Float32) => Scalar::Float32(x as f32),
            (Weak::Int(x), _) => Scalar::Float64(x as f64).cast(dtype),
            (Weak::Float(x), d) => Scalar::Float64(x).cast(d),
            (Weak::Complex(re, im), d) => {
                Scalar::Complex128(crate::types::c64::new(re, im)).cast(d)
            }
        };
        Ok(self.graph.constant(value, span))
    }

    fn materialize_default(&mut self, v: Value, span: Span) -> Result<NodeId> {
        let dtype = match v {
            Value::Node(n) => self.graph.dtype(n),
            Value::Weak(Weak::Int(_)) => Kind::Int.default_dtype(),
            Value::Weak(Weak::Float(_)) => Kind::Float.default_dtype(),
            Value::Weak(Weak::Complex(..)) => Kind::Complex.default_dtype(),
        };
        self.materialize(v, dtype, span)
    }
}

/// The result of arithmetic on two integer literals.
enum WeakResult {
    Int(i128),
    Bool(bool),
}

/// Integer literals combine exactly, like Python integers (up to 127 bits),
/// so `2**64 + j` is an out-of-range error rather than a wrapped value.
/// `None` for operations that do not stay integer (`/`, negative powers,
/// functions), which take the typed path.
fn weak_int_op(op: BinaryOp, a: i128, b: i128, span: Span) -> Result<Option<WeakResult>> {
    use BinaryOp::*;
    let overflow = || {
        Error::new(
            ErrorKind::Value,
            "integer literal arithmetic overflows 128 bits",
        )
        .at(span)
        .with_help("write one of the operands as a float")
    };
    let by_zero = || {
        Error::new(
            ErrorKind::Value,
            "integer division by zero in a constant expression",
        )
        .at(span)
        .with_label("divisor is 0")
    };
    let negative_shift = || {
        Error::new(ErrorKind::Value, "negative shift count")
            .at(span)
            .with_label("shift by a negative amount")
    };
    let v = match op {
        Add => a.checked_add(b).ok_or_else(overflow)?,
        Sub => a.checked_sub(b).ok_or_else(overflow)?,
        Mul => a.checked_mul(b).ok_or_else(overflow)?,
        FloorDiv | Mod if b == 0 => return Err(by_zero()),
        FloorDiv => {
            let q = a / b;
            if a % b != 0 && ((a < 0) != (b < 0)) {
                q - 1
            } else {
                q
            }
        }
        Mod => {
            let r = a % b;
            if r != 0 && ((r < 0) != (b < 0)) {
                r + b
            } else {
                r
            }
        }
        Pow if b >= 0 => u32::try_from(b)
            .ok()
            .and_then(|e| a.checked_pow(e))
            .ok_or_else(overflow)?,
        Shl | Shr if b < 0 => return Err(negative_shift()),
        Shl => {
            let shifted = u32::try_from(b).ok().and_then(|s| a.checked_shl(s));
            match shifted {
                Some(v) if v >> b == a => v,
                _ if a == 0 => 0,
                _ => return Err(overflow()),
            }
        }
        Shr => a >> b.min(127),
        BitAnd => a & b,
        BitOr => a | b,
        BitXor => a ^ b,
        Lt => return Ok(Some(WeakResult::Bool(a < b))),
        Le => return Ok(Some(WeakResult::Bool(a <= b))),
        Eq => return Ok(Some(WeakResult::Bool(a == b))),
        Ne => return Ok(Some(WeakResult::Bool(a != b))),
        Ge => return Ok(Some(WeakResult::Bool(a >= b))),
        Gt => return Ok(Some(WeakResult::Bool(a > b))),
        _ => return Ok(None),
    };
    Ok(Some(WeakResult::Int(v)))
}

/// Whether the integer literal `x` is a value of the integer dtype `d`.
fn fits(x: i128, d: DType) -> bool {
    d.int_range().is_some_and(|(lo, hi)| (lo..=hi).contains(&x))
}

fn rejection(r: Rejection, span: Span, label: String) -> Error {
    Error::new(ErrorKind::Type, r.message)
        .at(span)
        .with_label(label)
        .with_help(r.help)
}

/// Arity and keyword checks of a call against the function's declaration.
fn check_call(
    f: &Function,
    func_span: Span,
    args: &[ExprId],
    keywords: &[Keyword],
    span_of: impl Fn(ExprId) -> Span,
) -> Result<()> {
    for k in keywords {
        if !f.keywords.contains(&k.name.as_str()) {
            let err = Error::new(
                ErrorKind::Type,
                format!(
                    "`{}` got an unexpected keyword argument `{}`",
                    f.name, k.name
                ),
            )
            .at(k.name_span)
            .with_label("unknown keyword");
            return Err(match f.keywords {
                [] => err.with_help(format!("`{}` takes no keyword arguments", f.name)),
                ks => err.with_help(format!("accepted: {}", ks.join(", "))),
            });
        }
    }
    // numexpr's positional axis: `sum(x, 1)` is `sum(x, axis=1)`.
    let positional_axis = matches!(f.lowering, Lowering::Reduce(_)) && args.len() == 2;
    if positional_axis && let Some(k) = keywords.first() {
        return Err(
            Error::new(ErrorKind::Type, format!("`{}` got the axis twice", f.name))
                .at(k.name_span)
                .with_label("axis given again here")
                .with_help(format!(
                    "write `{}(x, axis=k)` or `{}(x, k)`",
                    f.name, f.name
                )),
        );
    }
    if args.len() != f.params.len() && !positional_axis {
        let n = f.params.len();
        let plural = if n == 1 { "argument" } else { "arguments" };
        let mut err = Error::new(
            ErrorKind::Type,
            format!(
                "`{}` takes {n} {plural} but {} {} given",
                f.name,
                args.len(),
                if args.len() == 1 { "was" } else { "were" }
            ),
        )
        .at(func_span)
        .with_help(format!("write `{}({})`", f.name, f.params.join(", ")));
        if let Some(&extra) = args.get(n) {
            err = err
                .with_label("called here")
                .with_secondary(span_of(extra), "unexpected argument");
        } else {
            err = err.with_label(format!("missing `{}`", f.params[args.len()]));
        }
        return Err(err);
    }
    Ok(())
}

/// The IR's elementwise operation for an AST operator; `None` for `@`,
/// which is not elementwise (`Node::MatMul`).
fn binary_op(op: ast::BinaryOp) -> Option<BinaryOp> {
    use ast::BinaryOp as A;
    Some(match op {
        A::MatMul => return None,
        A::Add => BinaryOp::Add,
        A::Sub => BinaryOp::Sub,
        A::Mul => BinaryOp::Mul,
        A::Div => BinaryOp::Div,
        A::FloorDiv => BinaryOp::FloorDiv,
        A::Mod => BinaryOp::Mod,
        A::Pow => BinaryOp::Pow,
        A::Shl => BinaryOp::Shl,
        A::Shr => BinaryOp::Shr,
        A::BitAnd => BinaryOp::BitAnd,
        A::BitOr => BinaryOp::BitOr,
        A::BitXor => BinaryOp::BitXor,
        A::Lt => BinaryOp::Lt,
        A::Le => BinaryOp::Le,
        A::Eq => BinaryOp::Eq,
        A::Ne => BinaryOp::Ne,
        A::Ge => BinaryOp::Ge,
        A::Gt => BinaryOp::Gt,
    })
}
