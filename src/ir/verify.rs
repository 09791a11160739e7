//! The IR verifier: checks the invariants of `ir::graph` and that every node's
//! operand and result dtypes match its operation's signature. Run after
//! lowering and after every optimizer pass in debug builds and tests.

use crate::error::{Error, Result};
use crate::ir::graph::{Node, Program};
use crate::types::DType;

/// Checks `program`; the error names the first offending node.
pub fn verify(program: &Program) -> Result<()> {
    let g = &program.graph;
    if program.root.index() >= g.len() {
        return Err(Error::internal(format!(
            "root {} is not a node",
            program.root
        )));
    }
    for id in g.ids() {
        let node = g.node(id);
        let dtype = g.dtype(id);
        let fail = |what: String| Err(Error::internal(format!("IR verifier: {id}: {what}")));
        for operand in node.operands() {
            if operand >= id {
                return fail(format!("operand {operand} does not precede its user"));
            }
        }
        let d = |n| g.dtype(n);
        match node {
            Node::Input(i) => match g.inputs().get(i.index()) {
                Some(input) if input.dtype == dtype => {}
                Some(input) => return fail(format!("input dtype {} != {dtype}", input.dtype)),
                None => return fail(format!("input #{} is not declared", i.0)),
            },
            Node::Const(c) if c.dtype() != dtype => {
                return fail(format!("constant of dtype {} typed {dtype}", c.dtype()));
            }
            Node::Const(_) => {}
            Node::Cast(a) if d(a) == dtype => return fail("cast to the same dtype".into()),
            Node::Cast(_) => {}
            // float16 is storage only: operations compute in float32.
            Node::Unary(..)
            | Node::Binary(..)
            | Node::Select(..)
            | Node::Reduce(..)
            | Node::MatMul(..)
            | Node::Fma(..)
                if dtype == DType::Float16
                    || node.operands().iter().any(|&a| d(a) == DType::Float16) =>
            {
                return fail("an operation on float16 (computed in float32)".into());
            }
            Node::Unary(op, a) => match op.signature(d(a)) {
                Ok(sig) if sig.operand == d(a) && sig.result == dtype => {}
                _ => return fail(format!("{} of {} cannot be {dtype}", op.name(), d(a))),
            },
            Node::Binary(op, a, b) => {
                if d(a) != d(b) {
                    return fail(format!(
                        "operands of {} are {} and {}",
                        op.name(),
                        d(a),
                        d(b)
                    ));
                }
                match op.signature(d(a)) {
                    Ok(sig) if sig.operand == d(a) && sig.result == dtype => {}
                    _ => return fail(format!("{} of {} cannot be {dtype}", op.name(), d(a))),
                }
            }
            Node::Select(c, a, b) => {
                if d(c) != DType::Bool || d(a) != dtype || d(b) != dtype {
                    return fail(format!(
                        "select({}, {}, {}) typed {dtype}",
                        d(c),
                        d(a),
                        d(b)
                    ));
                }
            }
            Node::Fma(a, b, c) => {
                if !matches!(dtype, DType::Float32 | DType::Float64)
                    || d(a) != dtype
                    || d(b) != dtype
                    || d(c) != dtype
                {
                    return fail(format!("fma({}, {}, {}) typed {dtype}", d(a), d(b), d(c)));
                }
            }
            Node::MatMul(a, b) => {
                if d(a) != dtype || d(b) != dtype {
                    return fail(format!("matmul of {} and {} typed {dtype}", d(a), d(b)));
                }
            }
            Node::Reduce(op, a, _) => {
                let sig = op.signature(d(a));
                if sig.operand != d(a) || sig.result != dtype {
                    return fail(format!("{} of {} cannot be {dtype}", op.name(), d(a)));
                }
            }
        }
    }
    Ok(())
}
