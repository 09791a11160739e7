//! WGSL from the optimized IR: one compute shader per stage.
//!
//! Every stage evaluates its root elementwise over the stage's shape `S`.
//! A final stage writes element `i` of the output; a reduction stage is a
//! workgroup tree reduction: workgroup `(j, g)` folds elements `r` of output
//! `j` (the reduced axes enumerate `r`) into one partial, and a second shader
//! ([`finish_shader`]) folds each output's partials.
//!
//! Bindings: every leaf as a read-only storage array (bool as `u32`), then
//! the output (or the partials), then a uniform `Params` (`PARAMS_STRUCT`)
//! with the sizes, the shapes, each leaf's base offset and element strides
//! over `S` (0 along broadcast axes) and the constants. Float and 64-bit
//! constants come from the uniform, not literals: drivers may compile
//! literals with no-signed-zeros semantics (`a * -0.0` became `a * 0.0` on
//! lavapipe). WGSL also lets implementations assume finite floats, so NaN,
//! infinity and the sign bit are tested on the bit pattern, never `x != x`.
//!
//! int8, int16, uint8, uint16 compute in 32-bit values (`i32` sign-extended,
//! `u32` zero-extended) and every result of theirs is wrapped back to the
//! dtype's width; float16 is its bits in a `u32` (the IR computes float16 in
//! float32, so a shader only loads, stores and converts it, with integer
//! rounding: `pack2x16float` leaves overflow indeterminate). In storage they
//! are packed little-endian in `u32` words: inputs and kept product operands
//! are read packed, and a final stage of such a dtype writes whole words, one
//! invocation per word (`per_invocation` elements). Results of reductions and
//! products that stay on the GPU are one 32-bit word per element
//! ([`leaf_packed`]).
//!
//! float64 needs the adapter's `SHADER_F64` and `SHADER_INT64` (its bit
//! tests use `u64`), int64 and uint64 need `SHADER_INT64`; without them such
//! an expression is an `Unsupported` error naming the adapter.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::math;
use crate::error::{Error, ErrorKind, Result};
use crate::ir::graph::{Graph, Node, NodeId, Program};
use crate::ir::op::{BinaryOp, ReduceOp, UnaryOp};
use crate::ir::stage::{Stage, stage_leaves, stage_nodes};
use crate::types::{DType, Scalar};

/// The most axes a GPU shader indexes.
pub const MAX_DIMS: usize = 8;

/// Threads per workgroup (the `@workgroup_size` of every shader).
pub const WORKGROUP: u32 = 256;

/// What the adapter can compute in.
#[derive(Debug, Clone, Default)]
pub struct Caps {
    /// `SHADER_F64`.
    pub f64: bool,
    /// `SHADER_INT64`.
    pub i64: bool,
    /// The adapter's name, for error messages.
    pub adapter: String,
}

/// A generated shader: its text, the leaves in binding order and the
/// constants' words (`params.consts`).
#[derive(Debug, Clone)]
pub struct Shader {
    /// WGSL source.
    pub text: String,
    /// Leaves, in binding order.
    pub leaves: Vec<NodeId>,
    /// The uniform's constant words (a 64-bit constant takes two, low first).
    pub consts: Vec<u32>,
}

/// The uniform every stage shader reads; `{NK}` and `{NC}` are replaced by
/// the number of leaves and of constant vec4s.
const PARAMS_STRUCT: &str = "struct Params {
    n: u32, m: u32, ndim: u32, groups_x: u32,
    groups: u32, chunk: u32, groups_total: u32, trailing: u32,
    j_base: u32, g_base: u32, zero: u32, zero2: u32,
    shape: array<vec4<u32>, 2>,
    kept: array<vec4<u32>, 2>,
    red: array<vec4<u32>, 2>,
    leaf: array<vec4<u32>, {NK}>,
    strides: array<vec4<u32>, {NK2}>,
    consts: array<vec4<u32>, {NC}>,
}
";

/// Words of the uniform before `shape` (see `PARAMS_STRUCT`).
pub const HEADER_WORDS: usize = 12;

/// The WGSL shader of `stage`.
pub fn stage_shader(program: &Program, stage: &Stage, caps: &Caps) -> Result<Shader> {
    stage_shader_with(program, stage, caps, None)
}

/// The final stage of `program` fused into the product `product` it reads
/// (`jit::stage::fusible_product`): the tiled matmul of
/// [`matmul_shader`] whose every output element, instead of being stored,
/// is the operand `pv` of the stage's expression at that element, stored.
/// Bindings: the stage's other leaves, `out`, then the product's `a`, `b`,
/// `offs` and `mmp` (the matmul's parameter words, in storage), then the
/// stage's uniform.
pub fn fused_product_shader(
    program: &Program,
    stage: &Stage,
    product: NodeId,
    caps: &Caps,
) -> Result<Shader> {
    stage_shader_with(program, stage, caps, Some(product))
}

fn stage_shader_with(
    program: &Program,
    stage: &Stage,
    caps: &Caps,
    fused: Option<NodeId>,
) -> Result<Shader> {
    let g = &program.graph;
    let root = stage.root;
    let nodes = stage_nodes(program, root);
    let mut leaves = stage_leaves(g, root);
    if let Some(m) = fused {
        check_dtype(g.dtype(m), caps)?;
        leaves.retain(|&l| l != m);
    }
    let (mut uses_f64, mut uses_i64) = (false, false);
    for &n in nodes.iter().chain(stage.reduce().iter()) {
        let d = g.dtype(n);
        check_dtype(d, caps)?;
        uses_f64 |= d == DType::Float64;
        uses_i64 |= matches!(d, DType::Int64 | DType::UInt64);
    }
    let mut s = String::new();
    let mut loads = String::new();
    for (k, &leaf) in leaves.iter().enumerate() {
        let d = g.dtype(leaf);
        let packed = leaf_packed(g, leaf);
        let _ = writeln!(
            s,
            "@group(0) @binding({k}) var<storage, read> in{k}: array<{}>;",
            if packed { "u32" } else { storage_type(d) }
        );
        if packed {
            let _ = writeln!(
                loads,
                "fn load{k}(e: u32) -> {} {{ let o = offset({k}u, e); return {}; }}",
                value_type(d),
                packed_load(&format!("in{k}"), "o", d)
            );
        }
    }
    let nk = leaves.len();
    let reduce = match stage.reduce() {
        Some(r) => match g.node(r) {
            Node::Reduce(op, operand, _) => Some((op, g.dtype(operand))),
            _ => return Err(Error::internal("GPU stage reduce is not a reduction")),
        },
        None => None,
    };
    let out_type = match reduce {
        Some((op, d)) => acc_storage(op, d),
        None if packed_bits(g.dtype(root)).is_some() => "u32",
        None => storage_type(g.dtype(root)),
    };
    let _ = writeln!(
        s,
        "@group(0) @binding({nk}) var<storage, read_write> out: array<{out_type}>;"
    );
    // Constants, in node order.
    let mut consts: Vec<u32> = Vec::new();
    let mut const_word = std::collections::HashMap::new();
    for &n in &nodes {
        if let Node::Const(c) = g.node(n) {
            let words: Vec<u32> = match c {
                Scalar::Float32(v) => vec![v.to_bits()],
                Scalar::Float64(v) => split64(v.to_bits()),
                Scalar::Int64(v) => split64(v as u64),
                Scalar::UInt64(v) => split64(v),
                _ => continue,
            };
            const_word.insert(n, consts.len());
            consts.extend(words);
        }
    }
    s.push_str(
        &PARAMS_STRUCT
            .replace("{NK2}", &(2 * nk.max(1)).to_string())
            .replace("{NK}", &nk.max(1).to_string())
            .replace("{NC}", &consts.len().div_ceil(4).max(1).to_string()),
    );
    let uniform = if let Some(m) = fused {
        let Node::MatMul(ma, mb) = g.node(m) else {
            return Err(Error::internal("GPU fused product is not a product"));
        };
        let t = storage_type(g.dtype(m));
        let (ta, tb) = (
            if leaf_packed(g, ma) { "u32" } else { t },
            if leaf_packed(g, mb) { "u32" } else { t },
        );
        let _ = writeln!(
            s,
            "@group(0) @binding({}) var<storage, read> a: array<{ta}>;
@group(0) @binding({}) var<storage, read> b: array<{tb}>;
@group(0) @binding({}) var<storage, read> offs: array<u32>;
@group(0) @binding({}) var<storage, read> mmp: array<u32>;",
            nk + 1,
            nk + 2,
            nk + 3,
            nk + 4
        );
        nk + 5
    } else {
        nk + 1
    };
    let _ = writeln!(
        s,
        "@group(0) @binding({uniform}) var<uniform> params: Params;"
    );
    s.push_str(PRELUDE);
    s.push_str(FLOAT_PRELUDE);
    s.push_str(INT_PRELUDE);
    s.push_str(NARROW_PRELUDE);
    if uses_f64 || uses_i64 {
        s.push_str(I64_PRELUDE);
    }
    if uses_f64 {
        s.push_str(FLOAT_PRELUDE64);
        s.push_str(F64_PRELUDE);
    }
    s.push_str(&loads);
    // The stage's value at flat index `e` of its shape.
    let value = value_type(g.dtype(root));
    match fused {
        Some(m) => {
            let pv = value_type(g.dtype(m));
            let _ = writeln!(s, "fn eval(e: u32, pv: {pv}) -> {value} {{");
        }
        None => {
            let _ = writeln!(s, "fn eval(e: u32) -> {value} {{");
        }
    }
    let name = |n: NodeId| format!("v{}", n.0);
    let mut used = BTreeSet::new();
    for &id in &nodes {
        let d = g.dtype(id);
        let expr = match g.node(id) {
            Node::MatMul(..) if Some(id) == fused => "pv".to_string(),
            Node::Input(_) | Node::Reduce(..) | Node::MatMul(..) => {
                let k = leaves.iter().position(|&l| l == id).unwrap_or(0);
                let load = format!("in{k}[offset({k}u, e)]");
                if leaf_packed(g, id) {
                    format!("load{k}(e)")
                } else if d == DType::Bool {
                    format!("({load} != 0u)")
                } else {
                    load
                }
            }
            Node::Const(c) => match (c, const_word.get(&id)) {
                (Scalar::Float32(_), Some(w)) => format!("bitcast<f32>(word({w}u))"),
                (Scalar::Float64(_), Some(w)) => format!("bitcast<f64>(word64({w}u))"),
                (Scalar::Int64(_), Some(w)) => format!("bitcast<i64>(word64({w}u))"),
                (Scalar::UInt64(_), Some(w)) => format!("word64({w}u)"),
                _ => constant(c),
            },
            Node::Cast(a) => cast(&name(a), g.dtype(a), d),
            Node::Unary(op, a) => match math::unary_fn(op, g.dtype(a)) {
                Some(f) => {
                    used.insert(f);
                    format!("{f}({})", name(a))
                }
                None => wrap(d, &unary(op, &name(a), g.dtype(a))?),
            },
            Node::Binary(op, a, b) => match math::binary_fn(op, g.dtype(a)) {
                Some(f) => {
                    used.insert(f);
                    format!("{f}({}, {})", name(a), name(b))
                }
                None => {
                    use BinaryOp::*;
                    let w = if d == DType::Float64 { "64" } else { "" };
                    if d.is_float() && matches!(op, Add | Sub | Mul | Div) {
                        // Opaque operands: see `fl`/`fr` in the prelude.
                        let (x, y) = (format!("fl{w}({})", name(a)), format!("fr{w}({})", name(b)));
                        binary(op, &x, &y, g.dtype(a))?
                    } else {
                        wrap(d, &binary(op, &name(a), &name(b), g.dtype(a))?)
                    }
                }
            },
            Node::Select(c, a, b) => format!("select({}, {}, {})", name(b), name(a), name(c)),
            Node::Fma(a, b, c) => {
                let f = if d == DType::Float64 {
                    "f_fma64"
                } else {
                    "f_fma"
                };
                format!("{f}({}, {}, {})", name(a), name(b), name(c))
            }
        };
        let _ = writeln!(s, "    let {}: {} = {expr};", name(id), value_type(d));
    }
    let _ = writeln!(s, "    return {};\n}}", name(root));
    if let Some(m) = fused {
        let d = g.dtype(m);
        // The matmul's accumulator as the stage's value type (bool: u32).
        let pv = if d == DType::Bool { "acc != 0u" } else { "acc" };
        let result = if g.dtype(root) == DType::Bool {
            format!("select(0u, 1u, eval(o, {pv}))")
        } else {
            format!("eval(o, {pv})")
        };
        // `_ = params.n`: the uniform counts as used even when no leaf reads it.
        let prologue = "_ = params.n;
    p = MatMulParams(mmp[0], mmp[1], mmp[2], mmp[3], mmp[4], mmp[5], \
                     mmp[6], mmp[7], mmp[8], mmp[9], mmp[10], mmp[11]);";
        let Node::MatMul(ma, mb) = g.node(m) else {
            return Err(Error::internal("GPU fused product is not a product"));
        };
        s.push_str(MATMUL_PARAMS);
        s.push_str("var<private> p: MatMulParams;\n");
        s.push_str(&matmul_main(
            d,
            (leaf_packed(g, ma), leaf_packed(g, mb)),
            prologue,
            &format!("out[o] = {result};"),
        ));
    } else {
        match reduce {
            None if packed_bits(g.dtype(root)).is_some() => {
                let d = g.dtype(root);
                let bits = packed_bits(d).unwrap_or(32);
                let per = per_invocation(d);
                let mask = (1u64 << bits) - 1;
                // Whole words: invocation w writes elements w*per.. of word w.
                let _ = write!(
                    s,
                    "@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let w = gid.x + gid.y * params.groups_x * 256u;
    if (params.n == 0u || w > (params.n - 1u) / {per}u) {{ return; }}
    var word = 0u;
    for (var q = 0u; q < {per}u; q = q + 1u) {{
        let i = w * {per}u + q;
        if (i < params.n) {{
            word = word | ((bitcast<u32>(eval(i)) & {mask}u) << (q * {bits}u));
        }}
    }}
    out[w] = word;
}}
"
                );
            }
            None => {
                let result = if g.dtype(root) == DType::Bool {
                    "select(0u, 1u, eval(i))".to_string()
                } else {
                    "eval(i)".to_string()
                };
                let _ = write!(
                    s,
                    "@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let i = gid.x + gid.y * params.groups_x * 256u;
    if (i >= params.n) {{ return; }}
    out[i] = {result};
}}
"
                );
            }
            Some((op, d)) => {
                let acc = acc_storage(op, d);
                let load = if d == DType::Bool {
                    "select(0u, 1u, eval(e))".to_string()
                } else {
                    "eval(e)".to_string()
                };
                let _ = write!(
                    s,
                    "var<workgroup> scratch: array<{acc}, 256>;
fn combine(a: {acc}, b: {acc}) -> {acc} {{ return {combine}; }}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    let w = wid.x + wid.y * params.groups_x;
    if (params.chunk == 0u) {{
        // Short reductions: one thread folds all m elements of its output.
        let j = w * 256u + lid;
        if (j < params.n) {{
            var acc: {acc} = {identity};
            for (var r = 0u; r < params.m; r = r + 1u) {{
                let e = flat(j, r);
                acc = combine(acc, {load});
            }}
            out[(params.j_base + j) * params.groups_total + params.g_base] = acc;
        }}
        return;
    }}
    let j = w / params.groups;
    let grp = w % params.groups;
    var acc: {acc} = {identity};
    if (j < params.n) {{
        let start = grp * params.chunk;
        let end = min(start + params.chunk, params.m);
        for (var r = start + lid; r < end; r = r + 256u) {{
            let e = flat(j, r);
            acc = combine(acc, {load});
        }}
    }}
    scratch[lid] = acc;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {{
        if (lid < s) {{ scratch[lid] = combine(scratch[lid], scratch[lid + s]); }}
        workgroupBarrier();
    }}
    if (lid == 0u && j < params.n) {{
        out[(params.j_base + j) * params.groups_total + params.g_base + grp] = scratch[0];
    }}
}}
",
                    combine = combine(op, d),
                    identity = identity(op, d),
                );
            }
        }
    }
    s.push_str(&math::library(&used));
    Ok(Shader {
        text: s,
        leaves,
        consts,
    })
}

/// The shader that folds each output's partials (`groups` of them, in
/// binding 0) into the reduction's result (binding 1): `params` is
/// `[n, groups, groups_x, m]` (`m`: elements per output, for `mean`).
pub fn finish_shader(op: ReduceOp, operand: DType, result: DType) -> String {
    let acc = acc_storage(op, operand);
    let wide = operand == DType::Float64 || result == DType::Float64;
    let out = storage_type(result);
    let finish = match (op, result) {
        (ReduceOp::Mean, DType::Float64) => "scratch[0] / f64(params.m)",
        (ReduceOp::Mean, _) => "scratch[0] / f32(params.m)",
        // The partials start from -0 (so a sum of -0s is -0), but an empty
        // sum is NumPy's identity, +0.
        (ReduceOp::Sum, DType::Float64) => "select(scratch[0], 0.0lf, params.m == 0u)",
        (ReduceOp::Sum, DType::Float32) => "select(scratch[0], 0.0, params.m == 0u)",
        _ => "scratch[0]",
    };
    format!(
        "@group(0) @binding(0) var<storage, read> part: array<{acc}>;
@group(0) @binding(1) var<storage, read_write> out: array<{out}>;
struct Finish {{ n: u32, groups: u32, groups_x: u32, m: u32 }}
@group(0) @binding(2) var<uniform> params: Finish;
{prelude}{prelude64}var<workgroup> scratch: array<{acc}, 256>;
fn combine(a: {acc}, b: {acc}) -> {acc} {{ return {combine}; }}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {{
    let j = wid.x + wid.y * params.groups_x;
    var acc: {acc} = {identity};
    if (j < params.n) {{
        for (var g = lid; g < params.groups; g = g + 256u) {{
            acc = combine(acc, part[j * params.groups + g]);
        }}
    }}
    scratch[lid] = acc;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {{
        if (lid < s) {{ scratch[lid] = combine(scratch[lid], scratch[lid + s]); }}
        workgroupBarrier();
    }}
    if (lid == 0u && j < params.n) {{ out[j] = {finish}; }}
}}
",
        prelude = FLOAT_PRELUDE,
        prelude64 = if wide { FLOAT_PRELUDE64 } else { "" },
        combine = combine(op, operand),
        identity = identity(op, operand),
    )
}

fn split64(bits: u64) -> Vec<u32> {
    vec![bits as u32, (bits >> 32) as u32]
}

/// The storage type of a reduction's accumulator (any/all fold `u32`s).
fn acc_storage(op: ReduceOp, operand: DType) -> &'static str {
    match op {
        ReduceOp::Any | ReduceOp::All => "u32",
        _ => storage_type(operand),
    }
}

fn identity(op: ReduceOp, d: DType) -> &'static str {
    use DType::*;
    use ReduceOp::*;
    match (op, d) {
        (Any, _) => "0u",
        (All, _) => "1u",
        (Sum | Mean, Float32) => "bitcast<f32>(0x80000000u)",
        (Sum | Mean, Float64) => "bitcast<f64>(0x8000000000000000lu)",
        (Sum | Mean, Int64) => "0li",
        (Sum | Mean | Max, UInt64) => "0lu",
        (Sum | Mean | Max, UInt8 | UInt16 | UInt32) => "0u",
        (Sum | Mean, _) => "0",
        (Prod, Float32) => "1.0",
        (Prod, Float64) => "1.0lf",
        (Prod, Int64) => "1li",
        (Prod, UInt64) => "1lu",
        (Prod, UInt8 | UInt16 | UInt32) => "1u",
        (Prod, _) => "1",
        (Min, Bool) => "1u",
        (Max, Bool) => "0u",
        (Min, Float32) => "bitcast<f32>(0x7f800000u)",
        (Min, Float64) => "bitcast<f64>(0x7ff0000000000000lu)",
        (Min, Int64) => "bitcast<i64>(0x7ffffffffffffffflu)",
        (Min, UInt64) => "0xfffffffffffffffflu",
        (Min, UInt8 | UInt16 | UInt32) => "0xffffffffu",
        (Min, _) => "2147483647",
        (Max, Float32) => "bitcast<f32>(0xff800000u)",
        (Max, Float64) => "bitcast<f64>(0xfff0000000000000lu)",
        (Max, Int64) => "bitcast<i64>(0x8000000000000000lu)",
        (Max, _) => "bitcast<i32>(0x80000000u)",
    }
}

fn combine(op: ReduceOp, d: DType) -> &'static str {
    use DType::*;
    use ReduceOp::*;
    match (op, d) {
        (Any, _) => "a | b",
        (All, _) => "a & b",
        (Sum | Mean, _) => "a + b",
        (Prod, _) => "a * b",
        (Min, Float32) => "f_min(a, b)",
        (Min, Float64) => "f_min64(a, b)",
        (Max, Float32) => "f_max(a, b)",
        (Max, Float64) => "f_max64(a, b)",
        (Min, _) => "min(a, b)",
        (Max, _) => "max(a, b)",
    }
}

const PRELUDE: &str = r#"
// The operands of float arithmetic, opaque to the driver's compiler
// (`params.zero` and `params.zero2` are 0, which it cannot know). WGSL lets
// implementations assume finite math, and lavapipe does: it folded `x - x`
// to 0 (NumPy: NaN for inf), `0 / x` to 0, and contracted `a*b + c*d` into
// an FMA. With opaque operands every operation is done as written, once.
fn fl(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) | params.zero); }
fn fr(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) | params.zero2); }
// `a * b + c` rounded once, as the complex split's `fma` (NumPy's complex
// product) asks: WGSL's `fma` may round twice (lavapipe's does). The exact
// product as `p + e` (Dekker, Veltkamp's split), then `p + c` as `s + t`
// (Knuth's two-sum), then `s + (t + e)`: within 1 ULP of the fused result,
// equal but near ties; every step on opaque operands, done as written.
// Infinite, NaN and zero products, and magnitudes where the split would
// overflow or lose bits, take `a * b + c`.
fn f_fma(a: f32, b: f32, c: f32) -> f32 {
    let p = fl(a) * fr(b);
    let m = max(abs(a), abs(b));
    // An infinite c with a finite product: c (the fused sum, whatever p rounds to).
    if (is_inf(c) && !is_inf(a) && !is_inf(b) && !is_nan(a) && !is_nan(b)) { return c; }
    if (!(abs(p) < 1e30) || abs(p) < 1e-30 || m > 1e30 || min(abs(a), abs(b)) < 1e-30) { return fl(p) + fr(c); }
    let ta = fl(4097.0) * fr(a);
    let ah = fl(ta) - fr(fl(ta) - fr(a));
    let al = fl(a) - fr(ah);
    let tb = fl(4097.0) * fr(b);
    let bh = fl(tb) - fr(fl(tb) - fr(b));
    let bl = fl(b) - fr(bh);
    let e = fl(fl(fl(fl(ah) * fr(bh)) - fr(p)) + fr(fl(ah) * fr(bl))) + fr(fl(al) * fr(bh));
    let e2 = fl(e) + fr(fl(al) * fr(bl));
    let s = fl(p) + fr(c);
    let bb = fl(s) - fr(p);
    let t = fl(fl(p) - fr(fl(s) - fr(bb))) + fr(fl(c) - fr(bb));
    let r = fl(t) + fr(e2);
    if (r == 0.0 || is_inf(s) || is_nan(s)) { return s; }
    return fl(s) + fr(r);
}
fn dim(d: u32) -> u32 { return params.shape[d / 4u][d % 4u]; }
fn word(w: u32) -> u32 { return params.consts[w / 4u][w % 4u]; }
fn stride(k: u32, d: u32) -> u32 { let r = 2u * k + d / 4u; return params.strides[r][d % 4u]; }
// Leaf k's element at flat index e of the stage shape.
fn offset(k: u32, e: u32) -> u32 {
    let leaf = params.leaf[k];
    if (leaf.y != 0u) { return leaf.x + e; }
    var rem = e;
    var off = leaf.x;
    var d = params.ndim;
    while (d > 0u) {
        d = d - 1u;
        let s = dim(d);
        off = off + (rem % s) * stride(k, d);
        rem = rem / s;
    }
    return off;
}
// The flat index of element r of output j (reductions).
fn flat(j: u32, r: u32) -> u32 {
    if (params.trailing != 0u) { return j * params.m + r; }
    var jr = j;
    var rr = r;
    var e = 0u;
    var scale = 1u;
    var d = params.ndim;
    while (d > 0u) {
        d = d - 1u;
        let kd = params.kept[d / 4u][d % 4u];
        let rd = params.red[d / 4u][d % 4u];
        e = e + ((jr % kd) + (rr % rd)) * scale;
        jr = jr / kd;
        rr = rr / rd;
        scale = scale * dim(d);
    }
    return e;
}
"#;

const FLOAT_PRELUDE: &str = r#"
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn f_lt(a: f32, b: f32) -> bool { return !is_nan(a) && !is_nan(b) && a < b; }
fn f_le(a: f32, b: f32) -> bool { return !is_nan(a) && !is_nan(b) && a <= b; }
fn f_eq(a: f32, b: f32) -> bool { return !is_nan(a) && !is_nan(b) && a == b; }
fn f_max(a: f32, b: f32) -> f32 { return select(b, a, is_nan(a) || f_lt(b, a)); }
fn f_min(a: f32, b: f32) -> f32 { return select(b, a, is_nan(a) || f_lt(a, b)); }
"#;

const FLOAT_PRELUDE64: &str = r#"
fn is_nan64(x: f64) -> bool { return (bitcast<u64>(x) & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu; }
fn is_inf64(x: f64) -> bool { return (bitcast<u64>(x) & 0x7ffffffffffffffflu) == 0x7ff0000000000000lu; }
fn f_lt64(a: f64, b: f64) -> bool { return !is_nan64(a) && !is_nan64(b) && a < b; }
fn f_le64(a: f64, b: f64) -> bool { return !is_nan64(a) && !is_nan64(b) && a <= b; }
fn f_eq64(a: f64, b: f64) -> bool { return !is_nan64(a) && !is_nan64(b) && a == b; }
fn f_max64(a: f64, b: f64) -> f64 { return select(b, a, is_nan64(a) || f_lt64(b, a)); }
fn f_min64(a: f64, b: f64) -> f64 { return select(b, a, is_nan64(a) || f_lt64(a, b)); }
"#;

const INT_PRELUDE: &str = r#"
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
fn i_pow(x: i32, y: i32) -> i32 {
    if (y < 0) {
        if (x == 1) { return 1; }
        if (x == -1) { return select(-1, 1, (y & 1) == 0); }
        return 0;
    }
    var acc = 1;
    var base = x;
    var e = y;
    while (e > 0) {
        if ((e & 1) == 1) { acc = acc * base; }
        base = base * base;
        e = e >> 1u;
    }
    return acc;
}
fn i_recip(x: i32) -> i32 {
    if (x == 0) { return bitcast<i32>(0x80000000u); }
    if (x == 1 || x == -1) { return x; }
    return 0;
}
"#;

const F64_PRELUDE: &str = r#"
// The masks are opaque (`params.zero` is 0): lavapipe's LLVM miscompiled the
// literal-mask form inside a select, returning `b` itself.
fn copysign64(a: f64, b: f64) -> f64 {
    let z = u64(params.zero);
    return bitcast<f64>((bitcast<u64>(a) & (0x7ffffffffffffffflu | z)) | (bitcast<u64>(b) & (0x8000000000000000lu | z)));
}
fn fl64(x: f64) -> f64 { return bitcast<f64>(bitcast<u64>(x) | u64(params.zero)); }
fn fr64(x: f64) -> f64 { return bitcast<f64>(bitcast<u64>(x) | u64(params.zero2)); }
// `f_fma` in float64.
fn f_fma64(a: f64, b: f64, c: f64) -> f64 {
    let p = fl64(a) * fr64(b);
    let m = max(abs(a), abs(b));
    if (is_inf64(c) && !is_inf64(a) && !is_inf64(b) && !is_nan64(a) && !is_nan64(b)) { return c; }
    if (!(abs(p) < 1e290lf) || abs(p) < 1e-250lf || m > 1e290lf || min(abs(a), abs(b)) < 1e-250lf) { return fl64(p) + fr64(c); }
    let ta = fl64(134217729.0lf) * fr64(a);
    let ah = fl64(ta) - fr64(fl64(ta) - fr64(a));
    let al = fl64(a) - fr64(ah);
    let tb = fl64(134217729.0lf) * fr64(b);
    let bh = fl64(tb) - fr64(fl64(tb) - fr64(b));
    let bl = fl64(b) - fr64(bh);
    let e = fl64(fl64(fl64(fl64(ah) * fr64(bh)) - fr64(p)) + fr64(fl64(ah) * fr64(bl))) + fr64(fl64(al) * fr64(bh));
    let e2 = fl64(e) + fr64(fl64(al) * fr64(bl));
    let s = fl64(p) + fr64(c);
    let bb = fl64(s) - fr64(p);
    let t = fl64(fl64(p) - fr64(fl64(s) - fr64(bb))) + fr64(fl64(c) - fr64(bb));
    let r = fl64(t) + fr64(e2);
    if (r == 0.0lf || is_inf64(s) || is_nan64(s)) { return s; }
    return fl64(s) + fr64(r);
}
fn f_sign64(x: f64) -> f64 {
    let b = bitcast<u64>(x);
    if ((b & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu) { return x; }
    if ((b & 0x7ffffffffffffffflu) == 0lu) { return bitcast<f64>(0lu); }
    return bitcast<f64>((b & 0x8000000000000000lu) | 0x3ff0000000000000lu);
}
fn f64_to_i32(x: f64) -> i32 {
    if (is_nan64(x)) { return 0; }
    if (x >= 2147483648.0lf) { return 2147483647; }
    if (x < -2147483648.0lf) { return bitcast<i32>(0x80000000u); }
    return i32(trunc(x));
}
fn f64_to_i64(x: f64) -> i64 {
    if (is_nan64(x)) { return 0li; }
    if (x >= 9223372036854775808.0lf) { return bitcast<i64>(0x7ffffffffffffffflu); }
    if (x < -9223372036854775808.0lf) { return bitcast<i64>(0x8000000000000000lu); }
    return i64(trunc(x));
}
fn f_sat_i64(x: f64, lo: i32, hi: i32) -> i32 {
    if (is_nan64(x)) { return 0; }
    if (x >= f64(hi)) { return hi; }
    if (x <= f64(lo)) { return lo; }
    return i32(trunc(x));
}
fn f_sat_u64(x: f64, hi: u32) -> u32 {
    if (is_nan64(x) || x <= 0.0lf) { return 0u; }
    if (x >= f64(hi)) { return hi; }
    return u32(trunc(x));
}
fn f64_to_u64(x: f64) -> u64 {
    if (is_nan64(x) || x <= 0.0lf) { return 0lu; }
    if (x >= 18446744073709551616.0lf) { return 0xfffffffffffffffflu; }
    return u64(trunc(x));
}
// float64 to float16 bits in one rounding: |x| in [2^-25, 2^16) is first
// rounded to float32 to odd (the dropped bits' or in the last bit), which
// keeps the second rounding, to float16, the correct one.
fn f16_bits64(x: f64) -> u32 {
    let b = bitcast<u64>(x);
    let hi = u32(b >> 32u);
    let lo = u32(b & 0xfffffffflu);
    let sg = (hi >> 16u) & 0x8000u;
    let ahi = hi & 0x7fffffffu;
    if (ahi >= 0x7ff00000u) {
        let nan = ahi > 0x7ff00000u || lo != 0u;
        return select(sg | 0x7c00u, sg | 0x7e00u | ((ahi >> 10u) & 0x3ffu), nan);
    }
    let e = i32(ahi >> 20u) - 1023;
    if (e >= 16) { return sg | 0x7c00u; }
    if (e < -25) { return sg; }
    let m = ((ahi & 0xfffffu) << 3u) | (lo >> 29u) | select(0u, 1u, (lo & 0x1fffffffu) != 0u);
    return sg | f16_bits(bitcast<f32>((u32(e + 127) << 23u) | m));
}
"#;

const I64_PRELUDE: &str = r#"
// A zero the compiler cannot see: lavapipe miscompiled `(r < 0li) != (y < 0li)`
// (signed int64 tests against literal zero) in the floor division below.
fn zero64() -> i64 { return i64(params.zero); }
// x < 0: lavapipe also got `x < zero64()` wrong (true) when it could prove
// x zero (`k ^ k`, `k - k`); or-ing the hidden zero in hides that too.
fn neg64(x: i64) -> bool { let z = zero64(); return (x | z) < z; }
fn word64(w: u32) -> u64 { return u64(word(w)) | (u64(word(w + 1u)) << 32u); }
fn f32_to_i64(x: f32) -> i64 {
    if (is_nan(x)) { return 0li; }
    if (x >= 9223372036854775808.0) { return bitcast<i64>(0x7ffffffffffffffflu); }
    if (x < -9223372036854775808.0) { return bitcast<i64>(0x8000000000000000lu); }
    return i64(trunc(x));
}
fn i_floordiv64(x: i64, y: i64) -> i64 {
    let z = zero64();
    if (y == z) { return z; }
    if (x == bitcast<i64>(0x8000000000000000lu) && y == z - 1li) { return x; }
    let q = x / y;
    let r = x - q * y;
    if (r != z && (neg64(r) != neg64(y))) { return q - 1li; }
    return q;
}
fn i_mod64(x: i64, y: i64) -> i64 {
    let z = zero64();
    if (y == z || y == z - 1li) { return z; }
    let r = x - (x / y) * y;
    if (r != z && (neg64(r) != neg64(y))) { return r + y; }
    return r;
}
fn i_fmod64(x: i64, y: i64) -> i64 {
    let z = zero64();
    if (y == z || y == z - 1li) { return z; }
    return x - (x / y) * y;
}
fn i_shl64(x: i64, y: i64) -> i64 { return select(zero64(), x << (u32(bitcast<u64>(y) & 63lu)), bitcast<u64>(y) < 64lu); }
fn i_shr64(x: i64, y: i64) -> i64 { return select(select(zero64(), -1li, neg64(x)), x >> (u32(bitcast<u64>(y) & 63lu)), bitcast<u64>(y) < 64lu); }
fn i_pow64(x: i64, y: i64) -> i64 {
    let z = zero64();
    if (neg64(y)) {
        if (x == z + 1li) { return z + 1li; }
        if (x == z - 1li) { return select(z - 1li, z + 1li, (y & 1li) == z); }
        return z;
    }
    var acc = z + 1li;
    var base = x;
    var e = y;
    while (e > z) {
        if ((e & 1li) == z + 1li) { acc = acc * base; }
        base = base * base;
        e = e >> 1u;
    }
    return acc;
}
fn i_recip64(x: i64) -> i64 {
    let z = zero64();
    if (x == z) { return bitcast<i64>(0x8000000000000000lu); }
    if (x == z + 1li || x == z - 1li) { return x; }
    return z;
}
fn u_div64(x: u64, y: u64) -> u64 { return select(0lu, x / max(y, 1lu), y != 0lu); }
fn u_rem64(x: u64, y: u64) -> u64 { return select(0lu, x % max(y, 1lu), y != 0lu); }
fn u_shl64(x: u64, y: u64) -> u64 { return select(0lu, x << u32(y & 63lu), y < 64lu); }
fn u_shr64(x: u64, y: u64) -> u64 { return select(0lu, x >> u32(y & 63lu), y < 64lu); }
fn u_pow64(x: u64, y: u64) -> u64 {
    var acc = 1lu;
    var base = x;
    var e = y;
    while (e != 0lu) {
        if ((e & 1lu) == 1lu) { acc = acc * base; }
        base = base * base;
        e = e >> 1u;
    }
    return acc;
}
fn f32_to_u64(x: f32) -> u64 {
    if (is_nan(x) || x <= 0.0) { return 0lu; }
    if (x >= 18446744073709551616.0) { return 0xfffffffffffffffflu; }
    return u64(trunc(x));
}
"#;

/// Narrow integers and float16 (see the module doc): loads from packed
/// words, wrapping, the unsigned operations, float to narrow integer
/// conversions (truncating, saturating, NaN to 0) and float16 conversions
/// on the bits (round to nearest even, overflow to inf, NaN quieted with
/// its payload's top bits, as `half`'s conversions).
const NARROW_PRELUDE: &str = r#"
fn ld8(w: u32, o: u32) -> u32 { return (w >> ((o & 3u) * 8u)) & 0xffu; }
fn ld16(w: u32, o: u32) -> u32 { return (w >> ((o & 1u) * 16u)) & 0xffffu; }
fn sx8(x: u32) -> i32 { return bitcast<i32>(x << 24u) >> 24u; }
fn sx16(x: u32) -> i32 { return bitcast<i32>(x << 16u) >> 16u; }
fn w8(x: i32) -> i32 { return (x << 24u) >> 24u; }
fn w16(x: i32) -> i32 { return (x << 16u) >> 16u; }
fn i_shl_n(x: i32, y: i32, bits: u32) -> i32 { return select(0, x << (bitcast<u32>(y) & 31u), bitcast<u32>(y) < bits); }
fn i_shr_n(x: i32, y: i32, bits: u32) -> i32 { return select(select(0, -1, x < 0), x >> (bitcast<u32>(y) & 31u), bitcast<u32>(y) < bits); }
fn u_div(x: u32, y: u32) -> u32 { return select(0u, x / max(y, 1u), y != 0u); }
fn u_rem(x: u32, y: u32) -> u32 { return select(0u, x % max(y, 1u), y != 0u); }
fn u_shl(x: u32, y: u32, bits: u32) -> u32 { return select(0u, x << (y & 31u), y < bits); }
fn u_shr(x: u32, y: u32, bits: u32) -> u32 { return select(0u, x >> (y & 31u), y < bits); }
fn u_pow(x: u32, y: u32) -> u32 {
    var acc = 1u;
    var base = x;
    var e = y;
    while (e != 0u) {
        if ((e & 1u) == 1u) { acc = acc * base; }
        base = base * base;
        e = e >> 1u;
    }
    return acc;
}
fn f_sat_i(x: f32, lo: i32, hi: i32) -> i32 {
    if (is_nan(x)) { return 0; }
    if (x >= f32(hi)) { return hi; }
    if (x <= f32(lo)) { return lo; }
    return i32(trunc(x));
}
fn f_sat_u(x: f32, hi: u32) -> u32 {
    if (is_nan(x) || x <= 0.0) { return 0u; }
    if (x >= f32(hi)) { return hi; }
    return u32(trunc(x));
}
// float32 to float16 bits, to nearest even.
fn f16_bits(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    let sg = (b >> 16u) & 0x8000u;
    let a = b & 0x7fffffffu;
    if (a >= 0x7f800000u) {
        return select(sg | 0x7c00u, sg | 0x7e00u | ((a & 0x7fffffu) >> 13u), a > 0x7f800000u);
    }
    let e = i32(a >> 23u) - 112;
    if (e >= 31) { return sg | 0x7c00u; }
    let man = a & 0x7fffffu;
    if (e <= 0) {
        if (e < -10) { return sg; }
        let m = man | 0x800000u;
        let sh = u32(14 - e);
        let rb = 1u << (sh - 1u);
        var h = m >> sh;
        if ((m & rb) != 0u && (m & (3u * rb - 1u)) != 0u) { h = h + 1u; }
        return sg | h;
    }
    var h = (u32(e) << 10u) | (man >> 13u);
    if ((man & 0x1000u) != 0u && (man & 0x2fffu) != 0u) { h = h + 1u; }
    return sg | h;
}
// float16 bits to float32 (exact; NaN quieted).
fn f16_value(h: u32) -> f32 {
    let sg = (h & 0x8000u) << 16u;
    let a = h & 0x7fffu;
    if (a == 0u) { return bitcast<f32>(sg); }
    if (a >= 0x7c00u) {
        return bitcast<f32>(select(sg | 0x7f800000u, sg | 0x7fc00000u | ((a & 0x3ffu) << 13u), a > 0x7c00u));
    }
    if (a < 0x400u) {
        let p = 31u - countLeadingZeros(a);
        return bitcast<f32>(sg | ((p + 103u) << 23u) | ((a << (23u - p)) & 0x7fffffu));
    }
    return bitcast<f32>(sg | ((a + 0x1c000u) << 13u));
}
"#;

fn unsupported(what: String) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("{what} not supported on the GPU"),
    )
    .with_help("use the JIT backend (the default) for this expression")
}

fn check_dtype(d: DType, caps: &Caps) -> Result<()> {
    let (ok, feature) = match d {
        DType::Float64 => (caps.f64 && caps.i64, "SHADER_F64 and SHADER_INT64"),
        DType::Int64 | DType::UInt64 => (caps.i64, "SHADER_INT64"),
        // Rejected before (`GpuProgram::compile_for`); never a wrong value.
        DType::Complex64 | DType::Complex128 => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("{d} is not supported on the GPU yet"),
            )
            .with_help("use the JIT backend (the default) for this expression"));
        }
        _ => (true, ""),
    };
    if ok {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Unsupported,
        format!(
            "{d} needs a GPU with {feature}, and the adapter \"{}\" does not have it",
            caps.adapter
        ),
    )
    .with_help(
        "cast to float32(...)/int32(...) explicitly (jitexpr never lowers precision silently), or use the JIT backend",
    ))
}

/// Bits of one element of `d` where storage packs it into `u32` words
/// (int8 and uint8: 8; int16, uint16 and float16: 16); `None` otherwise.
pub fn packed_bits(d: DType) -> Option<u32> {
    match d {
        DType::Int8 | DType::UInt8 => Some(8),
        DType::Int16 | DType::UInt16 | DType::Float16 => Some(16),
        _ => None,
    }
}

/// Elements of `d` one invocation of a final stage writes: a whole `u32`
/// word of packed elements (4 or 2), else 1.
pub fn per_invocation(d: DType) -> u32 {
    packed_bits(d).map_or(1, |b| 32 / b)
}

/// Whether the stage leaf (or product operand) `id` is read packed: an
/// input, or an operand a stage kept for a product, of a packed dtype.
/// Results of reductions and products stay on the GPU one 32-bit word per
/// element.
pub fn leaf_packed(g: &Graph, id: NodeId) -> bool {
    packed_bits(g.dtype(id)).is_some() && !matches!(g.node(id), Node::Reduce(..) | Node::MatMul(..))
}

/// Element `idx` (a WGSL name) of the packed array `array` of `d`, as its
/// value type.
fn packed_load(array: &str, idx: &str, d: DType) -> String {
    match d {
        DType::Int8 => format!("sx8(ld8({array}[{idx} >> 2u], {idx}))"),
        DType::UInt8 => format!("ld8({array}[{idx} >> 2u], {idx})"),
        DType::Int16 => format!("sx16(ld16({array}[{idx} >> 1u], {idx}))"),
        _ => format!("ld16({array}[{idx} >> 1u], {idx})"),
    }
}

/// How a shader holds the values of an integer dtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntRep {
    /// int8, int16 (sign-extended) and int32 in `i32`.
    S32,
    /// uint8, uint16 (zero-extended) and uint32 in `u32`.
    U32,
    S64,
    U64,
}

fn int_rep(d: DType) -> Option<IntRep> {
    match d {
        DType::Int8 | DType::Int16 | DType::Int32 => Some(IntRep::S32),
        DType::UInt8 | DType::UInt16 | DType::UInt32 => Some(IntRep::U32),
        DType::Int64 => Some(IntRep::S64),
        DType::UInt64 => Some(IntRep::U64),
        _ => None,
    }
}

/// `x`, a 32-bit value computed for `d`, wrapped to `d`'s width (NumPy's
/// wrapping: int8 sign-extends its low byte, uint8 keeps it).
fn wrap(d: DType, x: &str) -> String {
    match d {
        DType::Int8 => format!("w8({x})"),
        DType::Int16 => format!("w16({x})"),
        DType::UInt8 => format!("({x} & 0xffu)"),
        DType::UInt16 => format!("({x} & 0xffffu)"),
        _ => x.to_string(),
    }
}

/// The WGSL type of `d` in storage one element per word (and of a
/// reduction's accumulator): narrow integers widened, float16 as its bits.
fn storage_type(d: DType) -> &'static str {
    match d {
        DType::Float32 => "f32",
        DType::Float64 => "f64",
        DType::Int8 | DType::Int16 | DType::Int32 => "i32",
        DType::Int64 => "i64",
        DType::UInt64 => "u64",
        // bool, uint8/16/32 and float16; complex is refused by `check_dtype`.
        _ => "u32",
    }
}

fn value_type(d: DType) -> &'static str {
    match d {
        DType::Bool => "bool",
        other => storage_type(other),
    }
}

fn constant(c: Scalar) -> String {
    match c {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int8(v) => format!("bitcast<i32>({}u)", i32::from(v) as u32),
        Scalar::Int16(v) => format!("bitcast<i32>({}u)", i32::from(v) as u32),
        Scalar::Int32(v) => format!("bitcast<i32>({}u)", v as u32),
        Scalar::UInt8(v) => format!("{v}u"),
        Scalar::UInt16(v) => format!("{v}u"),
        Scalar::UInt32(v) => format!("{v}u"),
        Scalar::Float16(v) => format!("{}u", v.to_bits()),
        Scalar::Float32(v) => format!("bitcast<f32>({}u)", v.to_bits()),
        Scalar::Int64(v) => format!("bitcast<i64>({:#018x}lu)", v as u64),
        Scalar::UInt64(v) => format!("{v:#018x}lu"),
        Scalar::Float64(v) => format!("bitcast<f64>({:#018x}lu)", v.to_bits()),
        // Refused by `check_dtype` before any WGSL is written.
        other => format!("{}u", other.bits()),
    }
}

/// Zero and one of `d` as WGSL literals (float16: its bits).
fn zero_one(d: DType) -> (&'static str, &'static str) {
    match d {
        DType::Int8 | DType::Int16 | DType::Int32 => ("0", "1"),
        DType::Int64 => ("0li", "1li"),
        DType::UInt64 => ("0lu", "1lu"),
        DType::Float16 => ("0u", "15360u"),
        DType::Float32 => ("0.0", "1.0"),
        DType::Float64 => ("0.0lf", "1.0lf"),
        DType::Bool => ("false", "true"),
        // uint8/16/32; complex is refused by `check_dtype`.
        _ => ("0u", "1u"),
    }
}

/// `x` of `from` as `to`, with `Scalar::cast`'s semantics: integers wrap,
/// floats to integers truncate and saturate (NaN gives 0), float16 rounds
/// once, to nearest even.
fn cast(x: &str, from: DType, to: DType) -> String {
    use DType::*;
    if from == to {
        return x.to_string();
    }
    // float16 widens exactly; then as float32 (`Scalar::cast` does the same).
    if from == Float16 {
        return cast(&format!("f16_value({x})"), Float32, to);
    }
    match (from, to) {
        (Bool, _) => {
            let (z, o) = zero_one(to);
            format!("select({z}, {o}, {x})")
        }
        (Float32, Bool) => format!("((bitcast<u32>({x}) & 0x7fffffffu) != 0u)"),
        (Float64, Bool) => format!("((bitcast<u64>({x}) & 0x7ffffffffffffffflu) != 0lu)"),
        (Int64, Bool) => format!("({x} != zero64())"),
        (UInt64, Bool) => format!("({x} != u64(params.zero))"),
        (_, Bool) => format!("({x} != {})", zero_one(from).0),
        (Float32, Float16) => format!("f16_bits({x})"),
        (Float64, Float16) => format!("f16_bits64({x})"),
        // Integers: exact in float32 below 2^24, and float16 overflows far
        // below that, so one rounding to float16 after float32's is right.
        (_, Float16) => format!("f16_bits(f32({x}))"),
        (Float32 | Float64, t) if t.is_int() => {
            let w = if from == Float64 { "64" } else { "" };
            match t {
                Int8 => format!("f_sat_i{w}({x}, -128, 127)"),
                Int16 => format!("f_sat_i{w}({x}, -32768, 32767)"),
                Int32 if from == Float64 => format!("f64_to_i32({x})"),
                Int32 => format!("f_to_i32({x})"),
                Int64 => format!("f{}_to_i64({x})", if w.is_empty() { "32" } else { w }),
                UInt8 => format!("f_sat_u{w}({x}, 255u)"),
                UInt16 => format!("f_sat_u{w}({x}, 65535u)"),
                UInt32 => format!("f_sat_u{w}({x}, 4294967295u)"),
                _ => format!("f{}_to_u64({x})", if w.is_empty() { "32" } else { w }),
            }
        }
        (_, Float32 | Float64) => format!("{}({x})", storage_type(to)),
        _ => wrap(to, &int_to_int(x, from, to)),
    }
}

/// An integer of `from` in `to`'s value type, before wrapping to its width.
fn int_to_int(x: &str, from: DType, to: DType) -> String {
    use IntRep::*;
    let (Some(f), Some(t)) = (int_rep(from), int_rep(to)) else {
        return x.to_string();
    };
    match (f, t) {
        (S32, S32) | (U32, U32) | (S64, S64) | (U64, U64) => x.to_string(),
        (S32, U32) => format!("bitcast<u32>({x})"),
        (U32, S32) => format!("bitcast<i32>({x})"),
        (S32, S64) => format!("i64({x})"),
        (S32, U64) => format!("bitcast<u64>(i64({x}))"),
        (U32, S64) => format!("bitcast<i64>(u64({x}))"),
        (U32, U64) => format!("u64({x})"),
        (S64, S32) => format!("i32({x})"),
        (S64, U32) => format!("u32(bitcast<u64>({x}))"),
        (U64, S32) => format!("i32(bitcast<i64>({x}))"),
        (U64, U32) => format!("u32({x})"),
        (S64, U64) => format!("bitcast<u64>({x})"),
        (U64, S64) => format!("bitcast<i64>({x})"),
    }
}

/// `op x` for an integer `x` of `d` (in its value type; the caller wraps
/// the result to `d`'s width).
fn unary_int(op: UnaryOp, x: &str, d: DType, r: IntRep) -> Result<String> {
    use IntRep::*;
    use UnaryOp::*;
    Ok(match (op, r) {
        (IsNan | IsInf, _) => "false".into(),
        (IsFinite, _) => "true".into(),
        (SignBit, S32) => format!("({x} < 0)"),
        (SignBit, S64) => format!("neg64({x})"),
        (SignBit, _) => "false".into(),
        (Neg, U32) => format!("(0u - {x})"),
        (Neg, U64) => format!("(u64(params.zero) - {x})"),
        (Neg, _) => format!("(-{x})"),
        (Not, _) => format!("(~{x})"),
        (Floor | Ceil | Trunc, _) | (Abs, U32 | U64) => x.to_string(),
        (Abs, S64) => format!("select({x}, -{x}, neg64({x}))"),
        (Abs, _) => format!("abs({x})"),
        (Sign, S32) => format!("sign({x})"),
        // x > 0 as -x < 0 (-MIN is MIN, but x < 0 is tested first).
        (Sign, S64) => format!("select(select(0li, 1li, neg64(-{x})), -1li, neg64({x}))"),
        (Sign, U32) => format!("select(0u, 1u, {x} != 0u)"),
        (Sign, U64) => format!("select(0lu, 1lu, {x} != u64(params.zero))"),
        // NumPy: 1/0 is the minimum for int32 and int64, 0 for the others.
        (Reciprocal, S32) if d == DType::Int32 => format!("i_recip({x})"),
        (Reciprocal, S32) => format!("select(0, {x}, {x} == 1 || {x} == -1)"),
        (Reciprocal, S64) => format!("i_recip64({x})"),
        (Reciprocal, U32) => format!("select(0u, 1u, {x} == 1u)"),
        (Reciprocal, U64) => format!("select(0lu, 1lu, {x} == 1lu)"),
        (other, _) => return Err(unsupported(format!("`{}` on {d} is", other.name()))),
    })
}

fn unary(op: UnaryOp, x: &str, d: DType) -> Result<String> {
    use DType::*;
    use UnaryOp::*;
    if let Some(r) = int_rep(d) {
        return unary_int(op, x, d, r);
    }
    let wide = d == Float64;
    Ok(match (op, d) {
        (Not, Bool) => format!("!{x}"),
        (Abs | Floor | Ceil | Trunc, Bool) => x.to_string(),
        (IsNan | IsInf | SignBit, Bool) => "false".into(),
        (IsFinite, Bool) => "true".into(),
        (Neg, _) => format!("(-{x})"),
        (Abs, _) => format!("abs({x})"),
        (Sign, Float64) => format!("f_sign64({x})"),
        (Sign, _) => format!("f_sign({x})"),
        (Floor, _) => format!("floor({x})"),
        (Ceil, _) => format!("ceil({x})"),
        (Trunc, _) => format!("trunc({x})"),
        (Rint, _) => format!("round({x})"),
        (Sqrt, _) => format!("sqrt({x})"),
        (Reciprocal, Float64) => format!("(1.0lf / fr64({x}))"),
        (Reciprocal, _) => format!("(1.0 / fr({x}))"),
        (IsNan, _) if wide => format!("is_nan64({x})"),
        (IsInf, _) if wide => format!("is_inf64({x})"),
        (IsFinite, _) if wide => {
            format!("((bitcast<u64>({x}) & 0x7ffffffffffffffflu) < 0x7ff0000000000000lu)")
        }
        (SignBit, _) if wide => format!("((bitcast<u64>({x}) & 0x8000000000000000lu) != 0lu)"),
        (IsNan, _) => format!("is_nan({x})"),
        (IsInf, _) => format!("is_inf({x})"),
        (IsFinite, _) => format!("((bitcast<u32>({x}) & 0x7fffffffu) < 0x7f800000u)"),
        (SignBit, _) => format!("((bitcast<u32>({x}) & 0x80000000u) != 0u)"),
        (other, _) => return Err(unsupported(format!("`{}` is", other.name()))),
    })
}

/// `a op b` for integers of `d` (the caller wraps a result of `d` to its width).
fn binary_int(op: BinaryOp, a: &str, b: &str, d: DType, r: IntRep) -> Result<String> {
    use BinaryOp::*;
    use IntRep::*;
    let bits = 8 * d.size();
    let w = if matches!(r, S64 | U64) { "64" } else { "" };
    let narrow = bits < 32;
    Ok(match (op, r) {
        (Add, _) => format!("({a} + {b})"),
        (Sub, _) => format!("({a} - {b})"),
        (Mul, _) => format!("({a} * {b})"),
        (FloorDiv, S32 | S64) => format!("i_floordiv{w}({a}, {b})"),
        (Pow, S32 | S64) => format!("i_pow{w}({a}, {b})"),
        (Mod, S32 | S64) => format!("i_mod{w}({a}, {b})"),
        (Fmod, S32 | S64) => format!("i_fmod{w}({a}, {b})"),
        (Shl, S32) if narrow => format!("i_shl_n({a}, {b}, {bits}u)"),
        (Shr, S32) if narrow => format!("i_shr_n({a}, {b}, {bits}u)"),
        (Shl, S32 | S64) => format!("i_shl{w}({a}, {b})"),
        (Shr, S32 | S64) => format!("i_shr{w}({a}, {b})"),
        (FloorDiv, _) => format!("u_div{w}({a}, {b})"),
        (Mod | Fmod, _) => format!("u_rem{w}({a}, {b})"),
        (Pow, _) => format!("u_pow{w}({a}, {b})"),
        (Shl, U32) => format!("u_shl({a}, {b}, {bits}u)"),
        (Shr, U32) => format!("u_shr({a}, {b}, {bits}u)"),
        (Shl, _) => format!("u_shl64({a}, {b})"),
        (Shr, _) => format!("u_shr64({a}, {b})"),
        (BitAnd, _) => format!("({a} & {b})"),
        (BitOr, _) => format!("({a} | {b})"),
        (BitXor, _) => format!("({a} ^ {b})"),
        (Maximum, _) => format!("max({a}, {b})"),
        (Minimum, _) => format!("min({a}, {b})"),
        (Lt, _) => format!("({a} < {b})"),
        (Le, _) => format!("({a} <= {b})"),
        (Eq, _) => format!("({a} == {b})"),
        (Ne, _) => format!("({a} != {b})"),
        (Ge, _) => format!("({a} >= {b})"),
        (Gt, _) => format!("({a} > {b})"),
        (other, _) => return Err(unsupported(format!("`{}` on {d} is", other.spelling()))),
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
    if let Some(r) = int_rep(d) {
        return binary_int(op, a, b, d, r);
    }
    let w = if d == DType::Float64 { "64" } else { "" };
    let (bits, abs, sign) = if d == DType::Float64 {
        ("u64", "0x7ffffffffffffffflu", "0x8000000000000000lu")
    } else {
        ("u32", "0x7fffffffu", "0x80000000u")
    };
    Ok(match op {
        Add => format!("({a} + {b})"),
        Sub => format!("({a} - {b})"),
        Mul => format!("({a} * {b})"),
        Div => format!("({a} / {b})"),
        Lt => format!("f_lt{w}({a}, {b})"),
        Le => format!("f_le{w}({a}, {b})"),
        Gt => format!("f_lt{w}({b}, {a})"),
        Ge => format!("f_le{w}({b}, {a})"),
        Eq => format!("f_eq{w}({a}, {b})"),
        Ne => format!("!f_eq{w}({a}, {b})"),
        Maximum => format!("f_max{w}({a}, {b})"),
        Minimum => format!("f_min{w}({a}, {b})"),
        Copysign if d == DType::Float64 => format!("copysign64({a}, {b})"),
        // The masks or'd with `params.zero` (0, which the driver cannot
        // know), as `copysign64`: lavapipe miscompiled the constant-mask form
        // when its magnitude operand was also a `select` operand
        // (`where(i, 200.0, copysign(200.0, f))` gave 400, 464, NaN).
        Copysign => format!(
            "bitcast<{}>((bitcast<{bits}>({a}) & ({abs} | params.zero)) | (bitcast<{bits}>({b}) & ({sign} | params.zero)))",
            storage_type(d)
        ),
        other => return Err(unsupported(format!("`{}` on {d} is", other.spelling()))),
    })
}

/// Rows and columns of the output tile one matmul workgroup computes.
pub const MATMUL_TILE: u32 = 16;

/// The shader of a matrix product of `dtype` (NumPy's `matmul`, operands
/// already of the product's dtype): one workgroup per 16×16 tile of one
/// batch entry's result, the operands staged through workgroup memory 16
/// columns of the inner dimension at a time, each output summed in index
/// order from 0 (bool: the or of the ands, in `u32`). Bindings: `a`, `b`
/// (compact, C order), `offs` (the element offsets of each batch entry's
/// `a` and `b` matrices, two words per entry), `out` (compact), then the
/// uniform `MatMulParams`. `packed` says which operands are packed
/// ([`leaf_packed`]); narrow integers sum in 32 bits, wrapped at the end
/// (the same low bits), and the product is one word per element.
pub fn matmul_shader(dtype: DType, packed: (bool, bool), caps: &Caps) -> Result<String> {
    check_dtype(dtype, caps)?;
    let t = storage_type(dtype);
    let (ta, tb) = (
        if packed.0 { "u32" } else { t },
        if packed.1 { "u32" } else { t },
    );
    let extra = if packed_bits(dtype).is_some() {
        format!("{FLOAT_PRELUDE}{NARROW_PRELUDE}")
    } else {
        String::new()
    };
    Ok(format!(
        "{MATMUL_PARAMS}@group(0) @binding(0) var<storage, read> a: array<{ta}>;
@group(0) @binding(1) var<storage, read> b: array<{tb}>;
@group(0) @binding(2) var<storage, read> offs: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<{t}>;
@group(0) @binding(4) var<uniform> p: MatMulParams;
{extra}{}",
        matmul_main(dtype, packed, "", "out[o] = acc;")
    ))
}

/// The matmul's parameter words (`p` in [`matmul_main`]).
const MATMUL_PARAMS: &str = "struct MatMulParams {
    n: u32, k: u32, m: u32, batches: u32,
    tiles_m: u32, tiles: u32, groups_x: u32, sa_i: u32,
    sa_k: u32, sb_k: u32, sb_j: u32, pad: u32,
}
";

/// The workgroup tiles and `main` of a matmul of `dtype` reading `a`, `b`,
/// `offs` and the parameters `p`: `prologue` runs first (it may set `p`),
/// and `store` writes the finished element `acc` at flat output index `o`.
fn matmul_main(dtype: DType, packed: (bool, bool), prologue: &str, store: &str) -> String {
    let t = storage_type(dtype);
    let (zero, fold) = match dtype {
        DType::Bool => ("0u".to_string(), "acc | (ta[lid.y][kk] & tb[kk][lid.x])"),
        _ => (format!("{t}(0)"), "acc + ta[lid.y][kk] * tb[kk][lid.x]"),
    };
    let load = |array: &str, idx: &str, packed: bool| {
        if packed {
            packed_load(array, idx, dtype)
        } else {
            format!("{array}[{idx}]")
        }
    };
    let (load_a, load_b) = (load("a", "ia", packed.0), load("b", "ib", packed.1));
    let narrow = if packed_bits(dtype).is_some() {
        format!("acc = {};", wrap(dtype, "acc"))
    } else {
        String::new()
    };
    let tile = MATMUL_TILE;
    format!(
        "var<workgroup> ta: array<array<{t}, {tile}>, {tile}>;
var<workgroup> tb: array<array<{t}, {tile}>, {tile}>;
@compute @workgroup_size({tile}, {tile})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {{
    {prologue}
    let g = wid.x + wid.y * p.groups_x;
    let batch = g / p.tiles;
    let live = batch < p.batches;
    let bc = min(batch, p.batches - 1u);
    let t = g % p.tiles;
    let i = (t / p.tiles_m) * {tile}u + lid.y;
    let j = (t % p.tiles_m) * {tile}u + lid.x;
    let oa = offs[2u * bc];
    let ob = offs[2u * bc + 1u];
    var acc: {t} = {zero};
    for (var k0 = 0u; k0 < p.k; k0 = k0 + {tile}u) {{
        let ka = k0 + lid.x;
        var va: {t} = {zero};
        if (live && i < p.n && ka < p.k) {{ let ia = oa + i * p.sa_i + ka * p.sa_k; va = {load_a}; }}
        ta[lid.y][lid.x] = va;
        let kb = k0 + lid.y;
        var vb: {t} = {zero};
        if (live && kb < p.k && j < p.m) {{ let ib = ob + kb * p.sb_k + j * p.sb_j; vb = {load_b}; }}
        tb[lid.y][lid.x] = vb;
        workgroupBarrier();
        let kn = min({tile}u, p.k - k0);
        for (var kk = 0u; kk < kn; kk = kk + 1u) {{
            acc = {fold};
        }}
        workgroupBarrier();
    }}
    {narrow}
    if (live && i < p.n && j < p.m) {{
        let o = batch * p.n * p.m + i * p.m + j;
        {store}
    }}
}}
"
    )
}
