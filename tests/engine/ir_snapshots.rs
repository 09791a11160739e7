//! The printed IR before and after optimization, one snapshot per optimizer
//! rule (and per typing rule that inserts casts), under `tests/snapshots/`.
//!
//! Accept changes with `INSTA_UPDATE=always cargo test --test ir_snapshots`
//! (or `cargo insta review`), then read every changed snapshot: each one is a
//! claim about what the optimizer may and may not do. Properties that matter
//! regardless of node numbering are also checked with plain assertions below.

use crate::common::sig;
use jitexpr::{Compiled, DType};

/// a, b, c: float64; x, y: float32; i: int32; j: int64; m: bool.
fn compiled(expr: &str) -> Compiled {
    match jitexpr::compile(expr, &sig()) {
        Ok(k) => k.compiled().clone(),
        Err(e) => panic!("`{expr}` does not compile: {e}"),
    }
}

/// The snapshot text: the expression, the lowered IR and the optimized IR.
fn render(expr: &str) -> String {
    let c = compiled(expr);
    format!(
        "expr: {expr}\n--- lowered ---\n{}\n--- optimized ---\n{}\n",
        c.lowered, c.optimized
    )
}

/// The optimized IR as text.
fn optimized(expr: &str) -> String {
    compiled(expr).optimized.to_string()
}

/// The operation names of the optimized IR's lines (`add`, `input`, ...).
fn ops(expr: &str) -> Vec<String> {
    optimized(expr)
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(_, rhs)| rhs.split('.').next().unwrap_or("").to_string())
        .collect()
}

fn count(expr: &str, op: &str) -> usize {
    ops(expr).iter().filter(|o| *o == op).count()
}

macro_rules! snapshots {
    ($($name:ident: $expr:expr,)*) => {
        $(
            #[test]
            fn $name() {
                insta::assert_snapshot!(stringify!($name), render($expr));
            }
        )*
    };
}

snapshots! {
    // Constant folding: weak literals fold while lowering (`2*3` is a weak 6),
    // functions of constants fold in the optimizer.
    fold_weak_literal_arithmetic: "2*3+a",
    fold_function_of_constant: "sin(0.0) + a",
    fold_then_identity: "exp(0) * a",
    fold_weak_comparison_in_where: "where(1 > 2, a, b)",
    // Powers with a constant exponent.
    pow_2_is_mul: "a**2",
    pow_2_float32_is_mul: "x**2",
    pow_3_by_squaring: "a**3",
    pow_8_by_squaring: "a**8",
    pow_9_stays_pow: "a**9",
    pow_half_is_sqrt: "a**0.5",
    pow_minus_one_is_reciprocal_division: "a**-1",
    pow_int_by_squaring: "i**3",
    pow_int_minus_one_via_float: "float64(i)**-1",
    pow_one_is_identity: "a**1",
    pow_zero_stays: "a**0",
    pow_in_trig_identity: "cos(a)**2 + sin(a)**2",
    // Identities that hold bit for bit.
    mul_one: "a*1",
    mul_one_float32_left: "1*x",
    mul_true_bool: "m * True",
    div_one: "a/1",
    add_negative_zero_removed: "a + -0.0",
    add_negative_zero_removed_float32: "x + -0.0",
    add_positive_zero_kept: "a + 0.0",
    add_int_literal_zero_to_float_kept: "x + 0",
    add_int_zero_removed: "i + 0",
    sub_zero_removed: "a - 0.0",
    double_negation: "--a",
    double_not_bool: "~~m",
    double_not_int: "~~i",
    // where(): dropping an operand is allowed only when it cannot widen the shape.
    where_true_other_branch_adds_input_kept: "where(True, a, b)",
    where_true_other_branch_constant: "where(True, a, 1.0)",
    where_true_other_branch_subset: "where(True, a*2, a)",
    where_true_other_branch_reduction_kept: "where(True, a, sum(a))",
    where_false_other_branch_adds_input_kept: "where(False, a, b)",
    where_false_other_branch_constant: "where(False, 0.0, a)",
    where_same_branches_condition_adds_input_kept: "where(m, a, a)",
    where_same_branches_condition_subset: "where(a > 0, a, a)",
    // Common subexpressions are shared (hash-consing, commutative operands sorted).
    cse_same_call: "sin(a)+sin(a)",
    cse_commuted_product: "a*b + b*a",
    // Casts inserted by promotion.
    cast_float32_to_float64: "a + x",
    cast_int32_and_weak_float: "i + 1.5",
    weak_float_stays_float32: "x * 2.0",
    cast_float32_and_int32_to_float64: "x + i",
    cast_int_true_division: "i / 2",
    // Reductions.
    reduction_centered: "a - mean(a)",
    reduction_along_axis: "sum(a*b, axis=-1)",
    reduction_int_accumulates_in_int64: "sum(i)",
    reduction_mean_of_int_in_float64: "mean(i)",
    reduction_any_casts_to_bool: "any(a)",
    reduction_operand_optimized: "sum(a*1)",
    // Functions that lower to several nodes.
    clip_bounds_first: "clip(a, 0, 1)",
    degrees_float32: "degrees(x)",
}

#[test]
fn positive_zero_is_not_an_additive_identity() {
    // -0.0 + 0.0 is +0.0, so `x + 0.0` must keep its add (floats only).
    for expr in ["a + 0.0", "0.0 + a", "x + 0.0", "x + 0", "a + 0"] {
        assert_eq!(count(expr, "add"), 1, "{expr}:\n{}", optimized(expr));
    }
    // -0.0 is the identity: removed, leaving only the input.
    for expr in [
        "a + -0.0", "-0.0 + a", "x + -0.0", "a - 0.0", "i + 0", "j + 0",
    ] {
        assert_eq!(ops(expr), ["input"], "{expr}:\n{}", optimized(expr));
    }
}

#[test]
fn small_integer_powers_become_multiplications() {
    for expr in [
        "a**2", "x**2", "a**3", "a**4", "a**8", "i**2", "j**5", "x**2.0",
    ] {
        assert_eq!(count(expr, "pow"), 0, "{expr}:\n{}", optimized(expr));
        assert!(count(expr, "mul") >= 1, "{expr}:\n{}", optimized(expr));
    }
    // x**n by squaring uses O(log n) multiplications.
    assert_eq!(count("a**8", "mul"), 3);
    assert_eq!(count("a**3", "mul"), 2);
    // Out of range or not an integer: pow stays.
    for expr in ["a**9", "a**2.5", "a**0", "a**b", "i**b"] {
        assert_eq!(count(expr, "pow"), 1, "{expr}:\n{}", optimized(expr));
    }
    assert_eq!(ops("a**0.5"), ["input", "sqrt"]);
    assert_eq!(count("a**-1", "div"), 1);
    assert_eq!(count("a**-1", "pow"), 0);
    assert_eq!(ops("a**1"), ["input"]);
}

#[test]
fn where_keeps_operands_that_shape_the_result() {
    // Dropping b (or m) would lose its broadcast shape.
    for expr in [
        "where(True, a, b)",
        "where(False, a, b)",
        "where(m, a, a)",
        "where(True, a, sum(a))",
    ] {
        assert_eq!(count(expr, "select"), 1, "{expr}:\n{}", optimized(expr));
    }
    // Nothing new in the dropped operands: the select goes.
    for expr in [
        "where(True, a, 1.0)",
        "where(False, 0.0, a)",
        "where(True, a*2, a)",
        "where(a > 0, a, a)",
    ] {
        assert_eq!(count(expr, "select"), 0, "{expr}:\n{}", optimized(expr));
    }
}

#[test]
fn identities_and_cse() {
    for expr in [
        "a*1", "1*a", "a/1", "--a", "~~m", "~~i", "m * True", "x * 1",
    ] {
        assert_eq!(ops(expr).len(), 1, "{expr}:\n{}", optimized(expr));
    }
    assert_eq!(count("sin(a)+sin(a)", "sin"), 1);
    assert_eq!(count("a*b + b*a", "mul"), 1);
    // Not identities for floats: x - x, x * 0.
    assert_eq!(count("a - a", "sub"), 1);
    assert_eq!(count("a * 0", "mul"), 1);
}

#[test]
fn promotion_casts() {
    let c = compiled("x * 2.0");
    assert_eq!(c.optimized.dtype(), DType::Float32);
    assert_eq!(count("x * 2.0", "cast"), 0);
    assert!(optimized("x * 2.0").contains("const.f32 2.0"));
    assert_eq!(compiled("a + x").optimized.dtype(), DType::Float64);
    assert!(optimized("a + x").contains("cast.f64"));
    assert!(optimized("i + 1.5").contains("cast.f64"));
    assert_eq!(compiled("i + 1").optimized.dtype(), DType::Int32);
    assert_eq!(count("i + 1", "cast"), 0);
}

#[test]
fn optimization_preserves_the_result_dtype() {
    for expr in [
        "2*3+a",
        "a**2",
        "a**3",
        "a**-1",
        "x**0.5",
        "where(True, a, b)",
        "where(a > 0, a, a)",
        "a - mean(a)",
        "sum(a*b, axis=-1)",
        "cos(a)**2 + sin(a)**2",
        "i + 1.5",
        "clip(x, 0, 1)",
    ] {
        let c = compiled(expr);
        assert_eq!(c.lowered.dtype(), c.optimized.dtype(), "{expr}");
    }
}
