//! Printing arrays the way NumPy 2 does.
//!
//! [`format_array`] writes what `print(arr)` shows in NumPy 2 with the default print
//! options (`precision=8`, `threshold=1000`, `edgeitems=3`, `linewidth=75`,
//! `floatmode='maxprec'`, `suppress=False`, `sign='-'`), then a line
//! `shape=(2, 3), dtype=float64`:
//!
//! ```text
//! [[1.  2.5]
//!  [3.  4. ]]
//! shape=(2, 2), dtype=float64
//! ```
//!
//! The rules are NumPy's `arrayprint` ones, reimplemented:
//!
//! - booleans print as ` True`/`False` (`True`/`False` for 0-d), integers right-aligned
//!   to the widest of the minimum and maximum;
//! - floats: NumPy's choice of notation — scientific when the largest nonzero finite
//!   magnitude is `>= 1e8` (`>= 1e6` for `float32`, as in NumPy >= 2.3), the smallest is `< 1e-4`, or their ratio is `> 1000`
//!   (compared in the element type, as NumPy does for `float32`), positional otherwise.
//!   Positional values use the shortest round-trip digits, cut to 8 fractional digits
//!   (rounded half to even), with trailing zeros dropped but the point kept (`1.`), all
//!   aligned on the point. Scientific values share one mantissa length (the longest
//!   needed, at most 8 fractional digits; shorter values are extended with the exact
//!   digits of the binary value, as Dragon4's `min_digits` does) and one exponent width
//!   (at least 2 digits). `nan`, `inf`,
//!   `-inf` and `-0.` are right-aligned in the same columns;
//! - rows wrap at 75 characters with NumPy's hanging indent; nested axes are separated
//!   by `ndim - 1` newlines;
//! - arrays with more than 1000 elements are summarized: each axis longer than 6 shows
//!   its first 3 and last 3 entries around `...`, and the number format is chosen from
//!   the shown entries only;
//! - empty arrays print `[]`; 0-d arrays print as NumPy prints the scalar (`str` of
//!   `np.float64`: `2.5`, `1e-05`, `1e+16`, `-0.0`, `nan`; `np.float32` switches to
//!   scientific from `1e6`).
//!
//! Deliberate simplifications: the print options are fixed (no `precision`,
//! `suppress`, `linewidth` settings), and the digits come from Rust's shortest and
//! exactly-rounded float formatting instead of NumPy's Dragon4; the two are made to
//! agree (ties round half to even, also between two shortest candidates), except
//! possibly where the round-trip interval is lopsided (exact powers of two), where
//! Dragon4 and Rust could pick different shortest digits. The tests
//! (`tests/cli_io.rs`) compare against text that NumPy 2.4 printed.

use std::fmt::{Debug, Display, LowerExp};

use ndarray::{ArrayViewD, Axis, IxDyn};

use crate::Array;

/// NumPy's `threshold`: more elements than this are summarized.
const THRESHOLD: usize = 1000;
/// NumPy's `edgeitems`.
const EDGE_ITEMS: usize = 3;
/// NumPy's `linewidth`.
const LINE_WIDTH: usize = 75;
/// NumPy's `precision`.
const PRECISION: usize = 8;

/// The values of `a` as NumPy's `print(a)` shows them, then `shape=(…), dtype=…` on a line
/// of its own (no trailing newline).
pub fn format_array(a: &Array) -> String {
    let body = crate::array::each!(Array, a, x => format_values(x.view()));
    format!(
        "{body}\nshape={}, dtype={}",
        shape_text(a.shape()),
        a.dtype()
    )
}

/// A shape as Python writes a tuple: `()`, `(3,)`, `(2, 3)`.
fn shape_text(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// `str(a)` of a NumPy array: the scalar for 0-d, `[]` when empty, the nested rows otherwise.
fn format_values<T: Printable>(a: ArrayViewD<'_, T>) -> String {
    if a.ndim() == 0 {
        return a[IxDyn(&[])].scalar_str();
    }
    if a.is_empty() {
        return "[]".to_string();
    }
    let summarize = a.len() > THRESHOLD;
    // The format is chosen from the entries that are shown.
    let shown: Vec<T> = if summarize {
        // The edges of each long axis, selected from the view (a copy of the
        // whole array first took seconds for a multi-GB result).
        let mut part: Option<ndarray::ArrayD<T>> = None;
        for axis in 0..a.ndim() {
            let n = a.shape()[axis];
            if n > 2 * EDGE_ITEMS {
                let idx: Vec<usize> = (0..EDGE_ITEMS).chain(n - EDGE_ITEMS..n).collect();
                let selected = match &part {
                    Some(p) => p.select(Axis(axis), &idx),
                    None => a.select(Axis(axis), &idx),
                };
                part = Some(selected);
            }
        }
        match part {
            Some(p) => p.iter().copied().collect(),
            None => a.iter().copied().collect(),
        }
    } else {
        a.iter().copied().collect()
    };
    let format = T::make_format(&shown);
    let f = |x: T| format.format(x);
    recurse(a, &f, " ", LINE_WIDTH, summarize)
}

/// NumPy's `_formatArray` recursion (separator `' '`, no legacy mode).
fn recurse<T: Copy>(
    a: ArrayViewD<'_, T>,
    f: &dyn Fn(T) -> String,
    hanging_indent: &str,
    width: usize,
    summarize: bool,
) -> String {
    let ndim = a.ndim();
    if ndim == 0 {
        return f(a[IxDyn(&[])]);
    }
    let next_hanging = format!("{hanging_indent} ");
    let next_width = width.saturating_sub(1);
    let len = a.shape()[0];
    let show_summary = summarize && 2 * EDGE_ITEMS < len;
    let (leading, trailing) = if show_summary {
        (EDGE_ITEMS, EDGE_ITEMS)
    } else {
        (0, len)
    };
    let item = |i: usize| {
        recurse(
            a.index_axis(Axis(0), i),
            f,
            &next_hanging,
            next_width,
            summarize,
        )
    };
    let mut s = String::new();
    if ndim == 1 {
        // Room up to the separator or the closing bracket.
        let elem_width = width.saturating_sub(1);
        let mut line = hanging_indent.to_string();
        for i in 0..leading {
            extend_line(&mut s, &mut line, &item(i), elem_width, hanging_indent);
            line.push(' ');
        }
        if show_summary {
            extend_line(&mut s, &mut line, "...", elem_width, hanging_indent);
            line.push(' ');
        }
        for i in (2..=trailing).rev() {
            extend_line(
                &mut s,
                &mut line,
                &item(len - i),
                elem_width,
                hanging_indent,
            );
            line.push(' ');
        }
        extend_line(
            &mut s,
            &mut line,
            &item(len - 1),
            elem_width,
            hanging_indent,
        );
        s.push_str(&line);
    } else {
        let line_sep = "\n".repeat(ndim - 1);
        for i in 0..leading {
            s.push_str(hanging_indent);
            s.push_str(&item(i));
            s.push_str(&line_sep);
        }
        if show_summary {
            s.push_str(hanging_indent);
            s.push_str("...");
            s.push_str(&line_sep);
        }
        for i in (2..=trailing).rev() {
            s.push_str(hanging_indent);
            s.push_str(&item(len - i));
            s.push_str(&line_sep);
        }
        s.push_str(hanging_indent);
        s.push_str(&item(len - 1));
    }
    format!("[{}]", &s[hanging_indent.len()..])
}

/// NumPy's `_extendLine`: starts a new line when `word` does not fit (unless the line
/// holds nothing but the indent).
fn extend_line(s: &mut String, line: &mut String, word: &str, width: usize, prefix: &str) {
    if line.len() + word.len() > width && line.len() > prefix.len() {
        s.push_str(line.trim_end());
        s.push('\n');
        line.clear();
        line.push_str(prefix);
    }
    line.push_str(word);
}

/// An element type NumPy-style printing knows.
trait Printable: Copy {
    /// The element formatter for an array whose shown entries are `data`.
    type Format: ElementFormat<Self>;
    /// `str()` of the NumPy scalar.
    fn scalar_str(self) -> String;
    /// Chooses widths and notation from the shown entries.
    fn make_format(data: &[Self]) -> Self::Format;
}

/// Formats one element to its column width.
trait ElementFormat<T> {
    fn format(&self, x: T) -> String;
}

// --- bool --------------------------------------------------------------------------

struct BoolFormat;

impl ElementFormat<bool> for BoolFormat {
    fn format(&self, x: bool) -> String {
        if x { " True" } else { "False" }.to_string()
    }
}

impl Printable for bool {
    type Format = BoolFormat;
    fn scalar_str(self) -> String {
        if self { "True" } else { "False" }.to_string()
    }
    fn make_format(_: &[bool]) -> BoolFormat {
        BoolFormat
    }
}

// --- integers ----------------------------------------------------------------------

struct IntFormat {
    width: usize,
}

macro_rules! printable_int {
    ($($t:ty),*) => {$(
        impl ElementFormat<$t> for IntFormat {
            fn format(&self, x: $t) -> String {
                format!("{x:>w$}", w = self.width)
            }
        }

        impl Printable for $t {
            type Format = IntFormat;
            fn scalar_str(self) -> String {
                self.to_string()
            }
            fn make_format(data: &[$t]) -> IntFormat {
                let max = data.iter().copied().max();
                let min = data.iter().copied().min();
                let width = match (max, min) {
                    (Some(max), Some(min)) => max.to_string().len().max(min.to_string().len()),
                    _ => 0,
                };
                IntFormat { width }
            }
        }
    )*};
}
printable_int!(i8, i16, i32, i64, u8, u16, u32, u64);

// --- floats --------------------------------------------------------------------------

/// What float printing needs of `f32` and `f64`.
trait Float: Copy + PartialOrd + Display + LowerExp + Debug {
    /// The magnitude from which scientific notation is used: NumPy (>= 2.3) takes
    /// `10**min(8, finfo(dtype).precision)`, `1e8` for float64 and `1e6` for float32.
    const EXP_CUTOFF_MAX: Self;
    /// `1e-4` and `1000` in this type (NumPy compares in the array's dtype).
    const E_4: Self;
    const THOUSAND: Self;
    const ZERO: Self;
    fn is_finite(self) -> bool;
    fn is_nan(self) -> bool;
    fn abs(self) -> Self;
    fn is_sign_negative(self) -> bool;
    fn div(self, other: Self) -> Self;
    fn to_f64(self) -> f64;
    /// Where `str()` of the scalar switches to scientific notation: `1e16` for float64,
    /// `1e6` for float32.
    const SCALAR_CUTOFF: f64;
    fn parse(text: &str) -> Option<Self>;
}

macro_rules! float_impl {
    ($($t:ty: $cutoff:expr, $scalar_cutoff:expr),*) => {$(
        impl Float for $t {
            const EXP_CUTOFF_MAX: Self = $cutoff;
            const SCALAR_CUTOFF: f64 = $scalar_cutoff;
            fn parse(text: &str) -> Option<Self> { text.parse().ok() }
            const E_4: Self = 1e-4;
            const THOUSAND: Self = 1000.0;
            const ZERO: Self = 0.0;
            fn is_finite(self) -> bool { <$t>::is_finite(self) }
            fn is_nan(self) -> bool { <$t>::is_nan(self) }
            fn abs(self) -> Self { <$t>::abs(self) }
            fn is_sign_negative(self) -> bool { <$t>::is_sign_negative(self) }
            fn div(self, other: Self) -> Self { self / other }
            fn to_f64(self) -> f64 { self as f64 }
        }
    )*};
}
float_impl!(f32: 1e6, 1e6, f64: 1e8, 1e16);

/// A `float16` value for printing: formats as the shortest decimal that
/// reads back as the same `float16` (as NumPy's Dragon4 does for half),
/// and with a given precision as its exact value rounded.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
struct Half(crate::f16);

impl Half {
    /// The shortest `{:e}` text (of the exact value) that reads back as `self`.
    fn shortest_exp(self) -> String {
        let x = self.0.to_f64();
        (0..=5)
            .map(|p| format!("{x:.p$e}"))
            .find(|t| {
                t.parse::<f64>()
                    .is_ok_and(|v| crate::types::f16_from_f64(v) == self.0)
            })
            .unwrap_or_else(|| format!("{x:e}"))
    }
}

impl Debug for Half {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v: f64 = self.shortest_exp().parse().unwrap_or(f64::NAN);
        write!(f, "{v:?}")
    }
}

impl Display for Half {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match f.precision() {
            Some(p) => write!(f, "{:.p$}", self.0.to_f64()),
            None => Debug::fmt(self, f),
        }
    }
}

impl LowerExp for Half {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match f.precision() {
            Some(p) => write!(f, "{:.p$e}", self.0.to_f64()),
            None => f.write_str(&self.shortest_exp()),
        }
    }
}

impl Float for Half {
    // NumPy: 10**min(8, finfo(float16).precision) = 1e3, for arrays and scalars.
    const EXP_CUTOFF_MAX: Self = Half(crate::f16::from_f32_const(1000.0));
    const SCALAR_CUTOFF: f64 = 1e3;
    const E_4: Self = Half(crate::f16::from_f32_const(1e-4));
    const THOUSAND: Self = Half(crate::f16::from_f32_const(1000.0));
    const ZERO: Self = Half(crate::f16::ZERO);
    fn parse(text: &str) -> Option<Self> {
        text.parse::<f64>()
            .ok()
            .map(|v| Half(crate::types::f16_from_f64(v)))
    }
    fn is_finite(self) -> bool {
        self.0.is_finite()
    }
    fn is_nan(self) -> bool {
        self.0.is_nan()
    }
    fn abs(self) -> Self {
        Half(crate::f16::from_bits(self.0.to_bits() & 0x7fff))
    }
    fn is_sign_negative(self) -> bool {
        self.0.is_sign_negative()
    }
    fn div(self, other: Self) -> Self {
        Half(crate::f16::from_f32(self.0.to_f32() / other.0.to_f32()))
    }
    fn to_f64(self) -> f64 {
        self.0.to_f64()
    }
}

/// A finite value in scientific form: `digits[0].digits[1..] × 10^exp`, sign apart.
struct Sci {
    negative: bool,
    digits: String,
    exp: i32,
}

/// A finite value in positional form: `int.frac`, sign apart.
struct Pos {
    negative: bool,
    int: String,
    frac: String,
}

/// Splits Rust's `{:e}` output (`1.2345e-5`) into digits `12345` and exponent `-5`.
fn split_exp(text: &str) -> (String, i32) {
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exp.parse().unwrap_or(0))
}

/// Removes trailing zeros, keeping at least one digit.
fn trim_zeros(mut digits: String) -> String {
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    digits
}

/// The shortest digits that read back as `|x|` (`{:e}` without the point), and among
/// those of that length the one closest to `|x|`, ties to even, as Dragon4 picks
/// (Rust's shortest formatting may pick the other one of a tie: float32 1552176.25 is
/// `1552176.2` in NumPy, `1552176.3` in Rust).
fn shortest<F: Float>(x: F) -> (String, i32) {
    let a = x.abs();
    let (digits, exp) = split_exp(&format!("{a:e}"));
    let rounded = format!("{:.*e}", digits.len() - 1, a);
    if F::parse(&rounded).is_some_and(|r| r == a) {
        split_exp(&rounded)
    } else {
        (digits, exp)
    }
}

/// The shortest round-trip digits of `|x|`, or when they need more than `precision`
/// digits after the point, `|x|` rounded exactly (half to even) to `precision` digits,
/// trailing zeros removed (Dragon4 in unique mode with a cutoff).
fn scientific<F: Float>(x: F, precision: usize) -> Sci {
    let negative = x.is_sign_negative();
    let (digits, exp) = shortest(x);
    let (digits, exp) = if digits.len() - 1 <= precision {
        (digits, exp)
    } else {
        let (d, e) = split_exp(&format!("{:.*e}", precision, x.abs()));
        (trim_zeros(d), e)
    };
    Sci {
        negative,
        digits,
        exp,
    }
}

/// Like [`scientific`], positional, with `precision` counting fractional digits.
fn positional<F: Float>(x: F, precision: usize) -> Pos {
    let negative = x.is_sign_negative();
    let (digits, exp) = shortest(x);
    let frac_needed = digits.len() as i64 - 1 - exp as i64;
    if frac_needed <= precision as i64 {
        let (int, frac) = if exp >= 0 {
            let e = exp as usize;
            if digits.len() > e + 1 {
                (digits[..e + 1].to_string(), digits[e + 1..].to_string())
            } else {
                (
                    format!("{digits}{}", "0".repeat(e + 1 - digits.len())),
                    String::new(),
                )
            }
        } else {
            (
                "0".to_string(),
                format!("{}{digits}", "0".repeat((-exp - 1) as usize)),
            )
        };
        let frac = if frac.chars().all(|c| c == '0') {
            String::new()
        } else {
            frac
        };
        Pos {
            negative,
            int,
            frac,
        }
    } else {
        let text = format!("{:.*}", precision, x.abs());
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let frac = frac.trim_end_matches('0').to_string();
        Pos {
            negative,
            int: int.to_string(),
            frac,
        }
    }
}

fn exp_text(exp: i32, min_digits: usize) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{:0>w$}", exp.unsigned_abs(), w = min_digits)
}

/// NumPy's `FloatingFormat` for `floatmode='maxprec'`.
struct FloatFormat {
    exp_format: bool,
    /// Fractional digits of every mantissa (scientific only).
    precision: usize,
    /// Minimum exponent digits (scientific only).
    exp_size: usize,
    pad_left: usize,
    pad_right: usize,
    /// NumPy's `sign='+'` (the imaginary parts of complex numbers): a sign always.
    plus: bool,
}

impl FloatFormat {
    /// The sign written before a value that is (not) negative.
    fn sign(&self, negative: bool) -> &'static str {
        match (negative, self.plus) {
            (true, _) => "-",
            (false, true) => "+",
            (false, false) => "",
        }
    }
}

impl<F: Float> ElementFormat<F> for FloatFormat {
    fn format(&self, x: F) -> String {
        if !x.is_finite() {
            let ret = if x.is_nan() {
                if self.plus { "+nan" } else { "nan" }
            } else if x.is_sign_negative() {
                "-inf"
            } else if self.plus {
                "+inf"
            } else {
                "inf"
            };
            return format!("{ret:>w$}", w = self.pad_left + self.pad_right + 1);
        }
        if self.exp_format {
            let mut s = scientific(x, self.precision);
            if s.digits.len() - 1 < self.precision {
                // Dragon4 with `min_digits`: the digits past the shortest ones are the
                // exact value's (visible for float32: 4.5506158e+00, not 4.5506160e+00).
                let (digits, exp) = split_exp(&format!("{:.*e}", self.precision, x.abs()));
                s = Sci {
                    negative: s.negative,
                    digits,
                    exp,
                };
            }
            let int = format!("{}{}", self.sign(s.negative), &s.digits[..1]);
            let frac = format!("{:0<w$}", &s.digits[1..], w = self.precision);
            format!(
                "{int:>pl$}.{frac}e{}",
                exp_text(s.exp, self.exp_size),
                pl = self.pad_left
            )
        } else {
            let p = positional(x, PRECISION);
            let int = format!("{}{}", self.sign(p.negative), p.int);
            format!(
                "{int:>pl$}.{frac:<pr$}",
                frac = p.frac,
                pl = self.pad_left,
                pr = self.pad_right
            )
        }
    }
}

fn make_float_format<F: Float>(data: &[F]) -> FloatFormat {
    make_signed_float_format(data, false)
}

/// NumPy's `FloatingFormat` with `sign='+'` when `plus`: every value has a
/// sign character, which the widths count.
fn make_signed_float_format<F: Float>(data: &[F], plus: bool) -> FloatFormat {
    let finite: Vec<F> = data.iter().copied().filter(|x| x.is_finite()).collect();
    let mut exp_format = false;
    let mut nonzero = finite.iter().map(|x| x.abs()).filter(|x| *x != F::ZERO);
    if let Some(first) = nonzero.next() {
        let (mut max, mut min) = (first, first);
        for v in nonzero {
            if v > max {
                max = v;
            }
            if v < min {
                min = v;
            }
        }
        exp_format = max >= F::EXP_CUTOFF_MAX || min < F::E_4 || max.div(min) > F::THOUSAND;
    }
    let mut fmt = FloatFormat {
        exp_format,
        precision: 0,
        exp_size: 0,
        pad_left: 0,
        pad_right: 0,
        plus,
    };
    if finite.is_empty() {
        // Only nan/inf: widths come from those below.
    } else if exp_format {
        for &x in &finite {
            let s = scientific(x, PRECISION);
            fmt.precision = fmt.precision.max(s.digits.len() - 1);
            fmt.exp_size = fmt.exp_size.max(exp_text(s.exp, 2).len() - 1);
            fmt.pad_left = fmt.pad_left.max(1 + (s.negative || plus) as usize);
        }
        fmt.pad_right = fmt.exp_size + 2 + fmt.precision;
    } else {
        for &x in &finite {
            let p = positional(x, PRECISION);
            fmt.pad_left = fmt
                .pad_left
                .max(p.int.len() + (p.negative || plus) as usize);
            fmt.pad_right = fmt.pad_right.max(p.frac.len());
        }
    }
    if finite.len() != data.len() {
        let neginf = (plus
            || data
                .iter()
                .any(|x| !x.is_finite() && !x.is_nan() && x.is_sign_negative()))
            as usize;
        let offset = fmt.pad_right + 1;
        fmt.pad_left = fmt
            .pad_left
            .max(3usize.saturating_sub(offset))
            .max((3 + neginf).saturating_sub(offset));
    }
    fmt
}

/// `str()` of a NumPy float scalar: positional with at least one fractional digit when
/// `1e-4 <= |x| < 1e16` (`1e6` for float32) or zero, scientific otherwise; shortest
/// round-trip digits.
fn float_scalar_str<F: Float>(x: F) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if !x.is_finite() {
        return if x.is_sign_negative() { "-inf" } else { "inf" }.to_string();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let a = x.abs().to_f64();
    if a == 0.0 || (1e-4..F::SCALAR_CUTOFF).contains(&a) {
        let p = positional(x, usize::MAX / 2);
        let frac = if p.frac.is_empty() {
            "0".to_string()
        } else {
            p.frac
        };
        format!("{sign}{}.{frac}", p.int)
    } else {
        let s = scientific(x, usize::MAX / 2);
        let frac = if s.digits.len() > 1 {
            format!(".{}", &s.digits[1..])
        } else {
            String::new()
        };
        format!("{sign}{}{frac}e{}", &s.digits[..1], exp_text(s.exp, 2))
    }
}

impl Printable for f32 {
    type Format = FloatFormat;
    fn scalar_str(self) -> String {
        float_scalar_str(self)
    }
    fn make_format(data: &[f32]) -> FloatFormat {
        make_float_format(data)
    }
}

impl ElementFormat<crate::f16> for FloatFormat {
    fn format(&self, x: crate::f16) -> String {
        ElementFormat::<Half>::format(self, Half(x))
    }
}

impl Printable for crate::f16 {
    type Format = FloatFormat;
    fn scalar_str(self) -> String {
        float_scalar_str(Half(self))
    }
    fn make_format(data: &[crate::f16]) -> FloatFormat {
        let halves: Vec<Half> = data.iter().map(|&x| Half(x)).collect();
        make_float_format(&halves)
    }
}

impl Printable for f64 {
    type Format = FloatFormat;
    fn scalar_str(self) -> String {
        float_scalar_str(self)
    }
    fn make_format(data: &[f64]) -> FloatFormat {
        make_float_format(data)
    }
}

// --- complex -----------------------------------------------------------------------

/// NumPy's `ComplexFloatingFormat`: the real parts with the float format of
/// the real parts, the imaginary parts with that of the imaginary parts and
/// a sign always (`1.+2.j`, `-0.5-1.j`).
struct ComplexFormat {
    re: FloatFormat,
    im: FloatFormat,
}

impl<F: Float> ElementFormat<num_complex::Complex<F>> for ComplexFormat {
    fn format(&self, x: num_complex::Complex<F>) -> String {
        // NumPy: the imaginary part's right padding goes after the `j`.
        let re = self.re.format(x.re);
        let im = self.im.format(x.im);
        let shown = im.trim_end();
        let pad = im.len() - shown.len();
        format!("{re}{shown}j{}", " ".repeat(pad))
    }
}

macro_rules! printable_complex {
    ($($t:ty),*) => {$(
        impl Printable for num_complex::Complex<$t> {
            type Format = ComplexFormat;
            fn scalar_str(self) -> String {
                let re = float_scalar_str(self.re);
                let im = float_scalar_str(self.im);
                let im = if im.starts_with('-') { im } else { format!("+{im}") };
                // NumPy (Python's repr): `(1+2j)`, integral parts without `.0`.
                let strip = |t: String| t.strip_suffix(".0").map(str::to_string).unwrap_or(t);
                format!("({}{}j)", strip(re), strip(im))
            }
            fn make_format(data: &[Self]) -> ComplexFormat {
                let re: Vec<$t> = data.iter().map(|z| z.re).collect();
                let im: Vec<$t> = data.iter().map(|z| z.im).collect();
                ComplexFormat {
                    re: make_float_format(&re),
                    im: make_signed_float_format(&im, true),
                }
            }
        }
    )*};
}
printable_complex!(f32, f64);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, arr1};

    fn f64s(v: &[f64]) -> String {
        format_array(&Array::Float64(arr1(v).into_dyn()))
    }

    #[test]
    fn basics() {
        assert_eq!(
            f64s(&[1.0, 2.0, 3.0]),
            "[1. 2. 3.]\nshape=(3,), dtype=float64"
        );
        assert_eq!(f64s(&[1.5, 2.25]).lines().next().unwrap(), "[1.5  2.25]");
        assert_eq!(f64s(&[-0.0, 1.0]).lines().next().unwrap(), "[-0.  1.]");
        assert_eq!(
            f64s(&[1e-5, 1.0]).lines().next().unwrap(),
            "[1.e-05 1.e+00]"
        );
        let s = format_array(&Array::Float64(ArrayD::from_elem(IxDyn(&[]), 1e16)));
        assert_eq!(s, "1e+16\nshape=(), dtype=float64");
    }
}
