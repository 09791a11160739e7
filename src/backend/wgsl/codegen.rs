//! WGSL from the optimized IR: one compute shader per elementwise stage.
//!
//! Bindings: every leaf as a read-only storage array (bool as `u32`), then
//! the output, then a uniform with `n`, `ndim`, the output shape and each
//! leaf's element strides over it (0 along broadcast axes). Each invocation
//! computes element `i` of the output (C order), reading leaf `k` at the
//! offset its strides give. WGSL lets implementations assume finite floats,
//! so NaN, infinity and the sign bit are tested on the bit pattern
//! (`bitcast<u32>`), never with `x != x`.
//!
//! Supported so far: float32, int32 and bool; arithmetic, comparisons,
//! bitwise and logical operators, `where`, `maximum`/`minimum`, `abs`,
//! `sign`, `floor`/`ceil`/`trunc`/`rint`/`round`, `sqrt`, `copysign`, the
//! `is*` tests and casts. Math functions, reductions, float64 and int64 give
//! a clear `Unsupported` error.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::math;

use crate::error::{Error, ErrorKind, Result};
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::op::{BinaryOp, UnaryOp};
use crate::ir::stage::{stage_leaves, stage_nodes};
use crate::types::{DType, Scalar};

/// The most axes a GPU shader indexes.
pub const MAX_DIMS: usize = 8;

/// A generated shader: its text, the leaves in binding order and the bit
/// patterns of its float constants (passed in the uniform, not as literals:
/// drivers may compile literals with no-signed-zeros semantics, turning
/// `a * -0.0` into `a * 0.0`).
#[derive(Debug, Clone)]
pub struct Shader {
    /// WGSL source.
    pub text: String,
    /// Leaves, in binding order.
    pub leaves: Vec<NodeId>,
    /// `params.consts[k]` holds the bits of float constant k.
    pub consts: Vec<u32>,
}

/// The WGSL shader of the stage rooted at `root`.
pub fn shader(program: &Program, root: NodeId) -> Result<Shader> {
    let g = &program.graph;
    let nodes = stage_nodes(program, root);
    let leaves = stage_leaves(g, root);
    for &n in &nodes {
        check_dtype(g.dtype(n))?;
        if let Node::Reduce(op, ..) = g.node(n) {
            return Err(unsupported(format!("reductions (`{}`)", op.name())));
        }
    }
    let mut s = String::new();
    for (k, &leaf) in leaves.iter().enumerate() {
        let _ = writeln!(
            s,
            "@group(0) @binding({k}) var<storage, read> in{k}: array<{}>;",
            storage_type(g.dtype(leaf))
        );
    }
    let nk = leaves.len();
    let _ = writeln!(
        s,
        "@group(0) @binding({nk}) var<storage, read_write> out: array<{}>;",
        storage_type(g.dtype(root))
    );
    let consts: Vec<u32> = nodes
        .iter()
        .filter_map(|&n| match g.node(n) {
            Node::Const(Scalar::Float32(v)) => Some(v.to_bits()),
            _ => None,
        })
        .collect();
    let _ = writeln!(
        s,
        "struct Params {{ n: u32, ndim: u32, groups_x: u32, pad: u32, shape: array<vec4<u32>, 2>, strides: array<vec4<u32>, {}>, consts: array<vec4<u32>, {}> }}",
        2 * nk.max(1),
        consts.len().div_ceil(4).max(1)
    );
    let _ = writeln!(
        s,
        "@group(0) @binding({}) var<uniform> params: Params;",
        nk + 1
    );
    s.push_str(PRELUDE);
    s.push_str(
        "@compute @workgroup_size(256)\nfn main(@builtin(global_invocation_id) gid: vec3<u32>) {\n",
    );
    s.push_str(
        "    let i = gid.x + gid.y * params.groups_x * 256u;\n    if (i >= params.n) { return; }\n",
    );
    let name = |n: NodeId| format!("v{}", n.0);
    let mut used = BTreeSet::new();
    for &id in &nodes {
        let d = g.dtype(id);
        let expr = match g.node(id) {
            Node::Input(_) | Node::Reduce(..) => {
                let k = leaves.iter().position(|&l| l == id).unwrap_or(0);
                let load = format!("in{k}[offset({k}u, i)]");
                if d == DType::Bool {
                    format!("({load} != 0u)")
                } else {
                    load
                }
            }
            Node::Const(Scalar::Float32(v)) => {
                let k = consts.iter().position(|&b| b == v.to_bits()).unwrap_or(0);
                format!("bitcast<f32>(params.consts[{}][{}])", k / 4, k % 4)
            }
            Node::Const(c) => constant(c),
            Node::Cast(a) => cast(&name(a), g.dtype(a), d),
            Node::Unary(op, a) => match math::unary_fn(op, g.dtype(a)) {
                Some(f) => {
                    used.insert(f);
                    format!("{f}({})", name(a))
                }
                None => unary(op, &name(a), g.dtype(a))?,
            },
            Node::Binary(op, a, b) => match math::binary_fn(op, g.dtype(a)) {
                Some(f) => {
                    used.insert(f);
                    format!("{f}({}, {})", name(a), name(b))
                }
                None => binary(op, &name(a), &name(b), g.dtype(a))?,
            },
            Node::Select(c, a, b) => format!("select({}, {}, {})", name(b), name(a), name(c)),
        };
        let _ = writeln!(s, "    let {}: {} = {expr};", name(id), value_type(d));
    }
    let result = if g.dtype(root) == DType::Bool {
        format!("select(0u, 1u, {})", name(root))
    } else {
        name(root)
    };
    let _ = writeln!(s, "    out[i] = {result};\n}}");
    s.push_str(&math::library(&used));
    Ok(Shader {
        text: s,
        leaves,
        consts,
    })
}

const PRELUDE: &str = r#"
fn dim(d: u32) -> u32 { return params.shape[d / 4u][d % 4u]; }
fn stride(k: u32, d: u32) -> u32 { let r = 2u * k + d / 4u; return params.strides[r][d % 4u]; }
fn offset(k: u32, i: u32) -> u32 {
    var rem = i;
    var off = 0u;
    var d = params.ndim;
    while (d > 0u) {
        d = d - 1u;
        let s = dim(d);
        off = off + (rem % s) * stride(k, d);
        rem = rem / s;
    }
    return off;
}
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn f_lt(a: f32, b: f32) -> bool { return !is_nan(a) && !is_nan(b) && a < b; }
fn f_le(a: f32, b: f32) -> bool { return !is_nan(a) && !is_nan(b) && a <= b; }
fn f_eq(a: f32, b: f32) -> bool { return !is_nan(a) && !is_nan(b) && a == b; }
fn f_max(a: f32, b: f32) -> f32 { return select(b, a, is_nan(a) || f_lt(b, a)); }
fn f_min(a: f32, b: f32) -> f32 { return select(b, a, is_nan(a) || f_lt(a, b)); }
fn f_sign(x: f32) -> f32 {
    // On the bits: drivers may compile with no-signed-zeros float semantics.
    let b = bitcast<u32>(x);
    if ((b & 0x7fffffffu) > 0x7f800000u) { return x; }
    if ((b & 0x7fffffffu) == 0u) { return bitcast<f32>(0u); }
    return bitcast<f32>((b & 0x80000000u) | 0x3f800000u);
}
fn f_to_i32(x: f32) -> i32 {
    if (is_nan(x)) { return 0; }
    if (x >= 2147483648.0) { return 2147483647; }
    if (x < -2147483648.0) { return bitcast<i32>(0x80000000u); }
    return i32(trunc(x));
}
fn i_floordiv(x: i32, y: i32) -> i32 {
    if (y == 0) { return 0; }
    if (x == bitcast<i32>(0x80000000u) && y == -1) { return x; }
    let q = x / y;
    let r = x - q * y;
    if (r != 0 && ((r < 0) != (y < 0))) { return q - 1; }
    return q;
}
fn i_mod(x: i32, y: i32) -> i32 {
    if (y == 0 || y == -1) { return 0; }
    let r = x - (x / y) * y;
    if (r != 0 && ((r < 0) != (y < 0))) { return r + y; }
    return r;
}
fn i_fmod(x: i32, y: i32) -> i32 {
    if (y == 0 || y == -1) { return 0; }
    return x - (x / y) * y;
}
fn i_shl(x: i32, y: i32) -> i32 { return select(0, x << (bitcast<u32>(y) & 31u), bitcast<u32>(y) < 32u); }
fn i_shr(x: i32, y: i32) -> i32 { return select(select(0, -1, x < 0), x >> (bitcast<u32>(y) & 31u), bitcast<u32>(y) < 32u); }
fn i_recip(x: i32) -> i32 {
    if (x == 0) { return bitcast<i32>(0x80000000u); }
    if (x == 1 || x == -1) { return x; }
    return 0;
}
"#;

fn unsupported(what: String) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("{what} not supported on the GPU yet"),
    )
    .with_help("use the JIT backend (the default) for this expression")
}

fn check_dtype(d: DType) -> Result<()> {
    match d {
        DType::Bool | DType::Int32 | DType::Float32 => Ok(()),
        other => Err(unsupported(format!("{other} is")).with_help(
            "the GPU backend computes in float32, int32 and bool so far: cast with float32(...) or int32(...), or use the JIT backend",
        )),
    }
}

fn storage_type(d: DType) -> &'static str {
    match d {
        DType::Float32 => "f32",
        DType::Int32 => "i32",
        _ => "u32",
    }
}

fn value_type(d: DType) -> &'static str {
    match d {
        DType::Float32 => "f32",
        DType::Int32 => "i32",
        _ => "bool",
    }
}

fn constant(c: Scalar) -> String {
    match c {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int32(v) => format!("bitcast<i32>({}u)", v as u32),
        Scalar::Float32(v) => format!("bitcast<f32>({}u)", v.to_bits()),
        other => format!("{other}"),
    }
}

fn cast(x: &str, from: DType, to: DType) -> String {
    use DType::*;
    match (from, to) {
        (a, b) if a == b => x.to_string(),
        (Bool, Int32) => format!("select(0, 1, {x})"),
        (Bool, Float32) => format!("select(0.0, 1.0, {x})"),
        (Int32, Bool) => format!("({x} != 0)"),
        (Float32, Bool) => format!("((bitcast<u32>({x}) & 0x7fffffffu) != 0u)"),
        (Int32, Float32) => format!("f32({x})"),
        (Float32, Int32) => format!("f_to_i32({x})"),
        _ => x.to_string(),
    }
}

fn unary(op: UnaryOp, x: &str, d: DType) -> Result<String> {
    use UnaryOp::*;
    Ok(match (op, d) {
        (Not, DType::Bool) => format!("!{x}"),
        (Abs | Floor | Ceil | Trunc, DType::Bool) => x.to_string(),
        (IsNan | IsInf, DType::Bool | DType::Int32) | (SignBit, DType::Bool) => "false".into(),
        (IsFinite, DType::Bool | DType::Int32) => "true".into(),
        (SignBit, DType::Int32) => format!("({x} < 0)"),
        (Neg, _) => format!("(-{x})"),
        (Not, DType::Int32) => format!("(~{x})"),
        (Abs, _) => format!("abs({x})"),
        (Sign, DType::Int32) => format!("sign({x})"),
        (Sign, _) => format!("f_sign({x})"),
        (Floor | Ceil | Trunc, DType::Int32) => x.to_string(),
        (Floor, _) => format!("floor({x})"),
        (Ceil, _) => format!("ceil({x})"),
        (Trunc, _) => format!("trunc({x})"),
        (Rint, _) => format!("round({x})"),
        (Sqrt, _) => format!("sqrt({x})"),
        (Reciprocal, DType::Int32) => format!("i_recip({x})"),
        (Reciprocal, _) => format!("(1.0 / {x})"),
        (IsNan, _) => format!("is_nan({x})"),
        (IsInf, _) => format!("is_inf({x})"),
        (IsFinite, _) => format!("((bitcast<u32>({x}) & 0x7fffffffu) < 0x7f800000u)"),
        (SignBit, _) => format!("((bitcast<u32>({x}) & 0x80000000u) != 0u)"),
        (other, _) => return Err(unsupported(format!("`{}` is", other.name()))),
    })
}

fn binary(op: BinaryOp, a: &str, b: &str, d: DType) -> Result<String> {
    use BinaryOp::*;
    if d == DType::Bool {
        return Ok(match op {
            Add | BitOr | Maximum => format!("({a} | {b})"),
            Mul | BitAnd | Minimum => format!("({a} & {b})"),
            BitXor | Ne => format!("({a} != {b})"),
            Eq => format!("({a} == {b})"),
            Lt => format!("(!{a} & {b})"),
            Le => format!("(!{a} | {b})"),
            Gt => format!("({a} & !{b})"),
            Ge => format!("({a} | !{b})"),
            other => return Err(unsupported(format!("`{}` on bool is", other.spelling()))),
        });
    }
    if d == DType::Int32 {
        return Ok(match op {
            Add => format!("({a} + {b})"),
            Sub => format!("({a} - {b})"),
            Mul => format!("({a} * {b})"),
            FloorDiv => format!("i_floordiv({a}, {b})"),
            Mod => format!("i_mod({a}, {b})"),
            Fmod => format!("i_fmod({a}, {b})"),
            Shl => format!("i_shl({a}, {b})"),
            Shr => format!("i_shr({a}, {b})"),
            BitAnd => format!("({a} & {b})"),
            BitOr => format!("({a} | {b})"),
            BitXor => format!("({a} ^ {b})"),
            Maximum => format!("max({a}, {b})"),
            Minimum => format!("min({a}, {b})"),
            Lt => format!("({a} < {b})"),
            Le => format!("({a} <= {b})"),
            Eq => format!("({a} == {b})"),
            Ne => format!("({a} != {b})"),
            Ge => format!("({a} >= {b})"),
            Gt => format!("({a} > {b})"),
            other => return Err(unsupported(format!("`{}` on int32 is", other.spelling()))),
        });
    }
    Ok(match op {
        Add => format!("({a} + {b})"),
        Sub => format!("({a} - {b})"),
        Mul => format!("({a} * {b})"),
        Div => format!("({a} / {b})"),
        Lt => format!("f_lt({a}, {b})"),
        Le => format!("f_le({a}, {b})"),
        Gt => format!("f_lt({b}, {a})"),
        Ge => format!("f_le({b}, {a})"),
        Eq => format!("f_eq({a}, {b})"),
        Ne => format!("!f_eq({a}, {b})"),
        Maximum => format!("f_max({a}, {b})"),
        Minimum => format!("f_min({a}, {b})"),
        Copysign => format!(
            "bitcast<f32>((bitcast<u32>({a}) & 0x7fffffffu) | (bitcast<u32>({b}) & 0x80000000u))"
        ),
        other => return Err(unsupported(format!("`{}` on float32 is", other.spelling()))),
    })
}
