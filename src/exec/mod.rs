//! The executor: one path for every backend. It binds variables to a
//! prepared program's inputs (checking dtypes), infers shapes (NumPy
//! broadcasting, `ir::shape`), allocates the result (NumPy's `order='K'`:
//! Fortran-ordered inputs give a Fortran-ordered result, on every backend)
//! or checks the caller's output, and runs the backend.

mod planar;

use crate::alloc::{Order, zeros};
use crate::array::{Array, ArrayView, ArrayViewMut, Element, Flat, FlatMut, each};
use crate::backend::Prepared;
use crate::backend::interp;
use crate::backend::jit::JitProgram;
use crate::backend::jit::call;
use crate::backend::jit::run::{self, SmallCall};
use crate::cancel::Cancel;
use crate::error::{Error, ErrorKind, Result};
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::shape::{self, Shapes, format_shape};
use crate::ir::split::Source;
use crate::types::DType;
use crate::vars::{Bind, Vars};

/// Bound inputs (by input id; `None` for those the program does not read).
type Bound<'a> = Vec<Option<ArrayView<'a>>>;

/// Evaluates `prepared` on `vars` into a new array.
pub(crate) fn evaluate(prepared: &Prepared, vars: &Vars<'_>, cancel: Cancel<'_>) -> Result<Array> {
    evaluate_bound(prepared, Bind::Named(vars), cancel)
}

/// [`evaluate`] with the inputs by name or by position.
pub(crate) fn evaluate_bound(
    prepared: &Prepared,
    vars: Bind<'_, '_>,
    cancel: Cancel<'_>,
) -> Result<Array> {
    cancel.check()?;
    let program = prepared.program();
    // A small 1-d (or 0-d) JIT call: the shape of its inputs, C order either way.
    if let Prepared::Jit(jit) = prepared
        && let [compiled] = jit.stages()
        && let Some(Node::Input(i)) = compiled.leaves().first().map(|&l| program.graph.node(l))
        && let Some(first) = vars.get(i.index(), &program.graph.inputs()[i.index()].name)
        && first.shape().len() <= 1
        && let Some(call) = SmallCall::of(jit, vars, first.shape())?
    {
        let shape = first.shape();
        return call::new_array(program.dtype(), shape, Order::C, |out| {
            call.run(jit, out, shape, cancel)
        });
    }
    if let Prepared::Jit(jit) = prepared
        && let Some(total) = run::small_reduction(jit, vars, cancel)?
    {
        return Ok(total);
    }
    let (inputs, shapes) = bind(prepared, vars)?;
    let order = result_order(&inputs, &shapes.output);
    // The JIT writes the result in place; the others give it in C order,
    // copied into the layout when that is Fortran.
    let result = match prepared {
        Prepared::Interpreter(program) => {
            let values = interp::run(program, &inputs, &shapes, cancel)?;
            let flat: Vec<_> = values.iter().copied().collect();
            Array::from_scalars(program.dtype(), &shapes.output, &flat)
                .ok_or_else(|| Error::internal("result does not match its shape"))?
        }
        Prepared::Jit(jit) if jit.has_products() => {
            // Products write their results tile by tile: into zeros.
            let mut out = zeros(program.dtype(), &shapes.output, order)?;
            run::run_view(jit, &inputs, &shapes, &mut out.view_mut(), cancel)?;
            return Ok(out);
        }
        Prepared::Jit(jit) => {
            return call::new_array(program.dtype(), &shapes.output, order, |out| {
                run::run(jit, &inputs, &shapes, out, cancel)
            });
        }
        #[cfg(feature = "gpu")]
        Prepared::Gpu { program, gpu } => {
            let result = gpu.run(program, &inputs, &shapes)?;
            cancel.check()?;
            result
        }
        Prepared::Split {
            program,
            sources,
            parts,
            joint,
        } => {
            let views = split_views(sources, &inputs)?;
            let bind = Bind::Positional(&views);
            // Both parts in one kernel, writing the complex result.
            if let Some(joint) = joint
                && order == Order::C
                && result_shape(joint, bind)? == shapes.output
            {
                return evaluate_bound(joint, bind, cancel);
            }
            // A real result in C order: the part's own result when it
            // has the result's shape (unless it runs in planar blocks).
            if let [part] = parts.as_slice()
                && order == Order::C
                && result_shape(part, bind)? == shapes.output
                && planar(program, parts, sources, &inputs, &views, &shapes.output).is_none()
            {
                return evaluate_bound(part, bind, cancel);
            }
            let mut out = zeros(program.dtype(), &shapes.output, order)?;
            let view = out.view_mut();
            let split = (sources.as_slice(), views.as_slice());
            run_split(
                program,
                parts,
                joint.as_deref(),
                (&inputs, &shapes),
                split,
                view,
                cancel,
            )?;
            return Ok(out);
        }
        Prepared::ComplexSum { operand, mean, .. } => {
            complex_sum(operand, &inputs, vars, *mean, cancel)?
        }
        Prepared::ComplexProduct(program) => {
            let mut out = zeros(program.dtype(), &shapes.output, order)?;
            complex_product(program, &inputs, &mut out.view_mut(), cancel)?;
            return Ok(out);
        }
        Prepared::Staged { sums, rest, .. } => {
            let (views, values) = staged_sums(sums, &inputs, cancel)?;
            let all = staged_inputs(&views, &values, inputs.len());
            evaluate_bound(rest, Bind::Positional(&all), cancel)?
        }
    };
    if order == Order::C {
        return Ok(result);
    }
    let mut out = zeros(program.dtype(), &shapes.output, order)?;
    assign(&mut out.view_mut(), &result)?;
    Ok(out)
}

/// Evaluates `prepared` on `vars` into `out`, which must have the result's
/// dtype and shape (any strides).
pub(crate) fn evaluate_into(
    prepared: &Prepared,
    vars: Bind<'_, '_>,
    out: &mut ArrayViewMut<'_>,
    cancel: Cancel<'_>,
) -> Result<()> {
    cancel.check()?;
    let program = prepared.program();
    if let Prepared::Jit(jit) = prepared
        && out.dtype() == program.dtype()
        && let Some(call) = SmallCall::of(jit, vars, out.shape())?
    {
        let shape: smallvec::SmallVec<[usize; 4]> = out.shape().iter().copied().collect();
        return call
            .run(jit, run::output(out, &shape)?, &shape, cancel)
            .map(drop);
    }
    if let Prepared::Jit(jit) = prepared
        && out.dtype() == program.dtype()
        && out.shape().is_empty()
        && let Some(total) = run::small_reduction(jit, vars, cancel)?
    {
        return assign(out, &total);
    }
    let (inputs, shapes) = bind(prepared, vars)?;
    check_output(program, &shapes, out)?;
    match prepared {
        Prepared::Interpreter(program) => {
            let values = interp::run(program, &inputs, &shapes, cancel)?;
            let flat: Vec<_> = values.iter().copied().collect();
            out.assign_scalars(&flat);
            Ok(())
        }
        Prepared::Jit(jit) if jit.has_products() => {
            run::run_view(jit, &inputs, &shapes, out, cancel)
        }
        Prepared::Jit(jit) => {
            let shape = out.shape().to_vec();
            run::run(jit, &inputs, &shapes, run::output(out, &shape)?, cancel).map(drop)
        }
        #[cfg(feature = "gpu")]
        Prepared::Gpu { program, gpu } => {
            let result = gpu.run(program, &inputs, &shapes)?;
            cancel.check()?;
            assign(out, &result)
        }
        Prepared::Split {
            program,
            sources,
            parts,
            joint,
        } => {
            let views = split_views(sources, &inputs)?;
            let out = out.reborrow();
            let split = (sources.as_slice(), views.as_slice());
            run_split(
                program,
                parts,
                joint.as_deref(),
                (&inputs, &shapes),
                split,
                out,
                cancel,
            )
        }
        Prepared::ComplexSum { operand, mean, .. } => {
            assign(out, &complex_sum(operand, &inputs, vars, *mean, cancel)?)
        }
        Prepared::ComplexProduct(program) => complex_product(program, &inputs, out, cancel),
        Prepared::Staged { sums, rest, .. } => {
            let (views, values) = staged_sums(sums, &inputs, cancel)?;
            let all = staged_inputs(&views, &values, inputs.len());
            evaluate_into(rest, Bind::Positional(&all), out, cancel)
        }
    }
}

/// [`Prepared::ComplexSum`]: its operand's values (an input read where it
/// is, else computed by the split operand), summed.
fn complex_sum(
    operand: &Prepared,
    inputs: &Bound<'_>,
    vars: Bind<'_, '_>,
    mean: bool,
    cancel: Cancel<'_>,
) -> Result<Array> {
    let program = operand.program();
    if let Node::Input(i) = program.graph.node(program.root)
        && let Some(Some(view)) = inputs.get(i.index())
    {
        return complex_sum_of(view, mean);
    }
    if let Some(total) = split_block_sum(operand, inputs, mean, cancel)? {
        return Ok(total);
    }
    let values = evaluate_bound(operand, vars, cancel)?;
    complex_sum_of(&values.view(), mean)
}

/// [`complex_sum`] of a split elementwise operand with a long 1-d result
/// (`sum(z*conj(w))`): each block of `REDUCE_BLOCK` values is computed, both
/// parts, into a per-thread buffer and summed there, the blocks spread over
/// the team; the block sums are then added in order. The same blocks,
/// additions and order as `scalar::complex_total_of` on the whole operand,
/// so the same bits, without a temporary of the operand's size or a second
/// pass over it. `None` where this does not apply.
fn split_block_sum(
    operand: &Prepared,
    inputs: &Bound<'_>,
    mean: bool,
    cancel: Cancel<'_>,
) -> Result<Option<Array>> {
    use crate::ir::scalar::REDUCE_BLOCK;
    let Prepared::Split {
        program,
        sources,
        parts,
        ..
    } = operand
    else {
        return Ok(None);
    };
    let [re, im] = parts.as_slice() else {
        return Ok(None);
    };
    let summary = program.summary();
    if !matches!((re, im), (Prepared::Jit(_), Prepared::Jit(_)))
        || summary.reductions != 0
        || summary.matmuls != 0
    {
        return Ok(None);
    }
    let views = split_views(sources, inputs)?;
    let bind = Bind::Positional(&views);
    let shape = result_shape(re, bind)?;
    let &[n] = shape.as_slice() else {
        return Ok(None);
    };
    if n < 2 * REDUCE_BLOCK || result_shape(im, bind)? != shape {
        return Ok(None);
    }
    macro_rules! total {
        ($t:ty, $v:ident) => {{
            let (mut r, mut i) = block_sums::<$t>(re, im, &views, n, cancel)?;
            if mean {
                (r, i) = (r / n as $t, i / n as $t);
            }
            Ok(Some(Array::$v(
                ndarray::arr0(num_complex::Complex::new(r, i)).into_dyn(),
            )))
        }};
    }
    match program.dtype() {
        DType::Complex128 => total!(f64, Complex128),
        DType::Complex64 => total!(f32, Complex64),
        _ => Ok(None),
    }
}

/// The block sums of [`split_block_sum`], added in order.
fn block_sums<T>(
    re: &Prepared,
    im: &Prepared,
    views: &[ArrayView<'_>],
    n: usize,
    cancel: Cancel<'_>,
) -> Result<(T, T)>
where
    T: crate::ir::cmath::Part + Send + Default,
    num_complex::Complex<T>: Element,
{
    use crate::ir::scalar::{REDUCE_BLOCK, complex_block_sum, complex_blocks_total};
    use num_complex::Complex;
    let blocks = n.div_ceil(REDUCE_BLOCK);
    let sums: std::sync::Mutex<Vec<Option<(T, T)>>> = std::sync::Mutex::new(vec![None; blocks]);
    let failed: std::sync::Mutex<Option<Error>> = std::sync::Mutex::new(None);
    let run_block = |buf: &mut ndarray::Array1<Complex<T>>, k: usize| {
        let (start, end) = (k * REDUCE_BLOCK, ((k + 1) * REDUCE_BLOCK).min(n));
        // The operands that span the result, cut to the block; the others
        // (0-d, broadcast length 1) whole.
        let block: Vec<ArrayView<'_>> = views
            .iter()
            .map(|v| match v.shape() {
                &[len] if len == n => v.rows(start..end),
                _ => v.clone(),
            })
            .collect();
        let bind = Bind::Positional(&block);
        let mut out = buf.slice_mut(ndarray::s![..end - start]);
        let done = ArrayViewMut::from(&mut out)
            .split_complex()
            .ok_or_else(|| Error::internal("a complex buffer does not split"))
            .and_then(|(mut r, mut i)| {
                evaluate_into(re, bind, &mut r, cancel)?;
                evaluate_into(im, bind, &mut i, cancel)
            });
        match done {
            Ok(()) => {
                let values = out.as_slice().expect("a contiguous buffer");
                let s = complex_block_sum(values, |z| (z.re, z.im));
                sums.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(s);
            }
            Err(e) => {
                let mut first = failed.lock().unwrap_or_else(|e| e.into_inner());
                first.get_or_insert(e);
            }
        }
    };
    let buffer = || ndarray::Array1::<Complex<T>>::default(REDUCE_BLOCK);
    match crate::threads::parallel_team() {
        Some(team) => team.for_each(blocks, buffer, run_block),
        None => {
            let mut buf = buffer();
            (0..blocks).for_each(|k| run_block(&mut buf, k));
        }
    }
    if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let sums: Option<Vec<(T, T)>> = sums
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .collect();
    let sums = sums.ok_or_else(|| Error::internal("a block of a complex sum was not summed"))?;
    Ok(complex_blocks_total(&sums))
}

/// The full `sum` (or `mean`) of complex `values` as the interpreter
/// computes it (`scalar::complex_total`, in C order), 0-d.
fn complex_sum_of(values: &ArrayView<'_>, mean: bool) -> Result<Array> {
    use num_complex::Complex;
    let n = values.len();
    macro_rules! total {
        ($a:expr, $t:ty, $v:ident) => {{
            let a = $a;
            let (mut r, mut i) = match a.as_slice() {
                // Read in place: copying into (re, im) pairs first took 80%
                // of `sum(z)`.
                Some(flat) => crate::ir::scalar::complex_total_of(flat, |z| (z.re, z.im)),
                None => {
                    let mut it = a.iter();
                    crate::ir::scalar::complex_total_by(n, |_, out| {
                        for (o, z) in out.iter_mut().zip(it.by_ref()) {
                            *o = (z.re, z.im);
                        }
                    })
                }
            };
            if mean {
                (r, i) = (r / n as $t, i / n as $t);
            }
            Ok(Array::$v(ndarray::arr0(Complex::new(r, i)).into_dyn()))
        }};
    }
    match values {
        ArrayView::Complex128(a) => total!(a, f64, Complex128),
        ArrayView::Complex64(a) => total!(a, f32, Complex64),
        _ => Err(Error::internal("a complex sum of real values")),
    }
}

/// The bound inputs of a [`Prepared::Staged`] program by position (one it
/// does not read, and so neither do its parts, as any bound one; none when
/// it reads none: no position is then looked up) and its sums' values,
/// computed on them.
fn staged_sums<'a>(
    sums: &[Prepared],
    inputs: &Bound<'a>,
    cancel: Cancel<'_>,
) -> Result<(Vec<ArrayView<'a>>, Vec<Array>)> {
    let views: Vec<ArrayView<'a>> = match inputs.iter().flatten().next() {
        Some(filler) => inputs
            .iter()
            .map(|v| v.as_ref().unwrap_or(filler).clone())
            .collect(),
        None => Vec::new(),
    };
    let values = sums
        .iter()
        .map(|s| evaluate_bound(s, Bind::Positional(&views), cancel))
        .collect::<Result<Vec<_>>>()?;
    Ok((views, values))
}

/// The inputs of a staged program's rest: the program's `n` (where
/// [`staged_sums`] gave none, the first sum's value in their places: they
/// are not read), then its sums'.
fn staged_inputs<'b, 'v: 'b>(
    views: &'b [ArrayView<'v>],
    values: &'b [Array],
    n: usize,
) -> Vec<ArrayView<'b>> {
    // (`ArrayView` is invariant in its lifetime: each view is made again
    // from a borrow of the one given.)
    let shorter = |v: &'b ArrayView<'v>| -> ArrayView<'b> {
        crate::array::each!(ArrayView, v, x => crate::array::Element::into_view(x.view()))
    };
    let pad = n.saturating_sub(views.len());
    views
        .iter()
        .map(shorter)
        .chain(values.iter().take(1).cycle().take(pad).map(Array::view))
        .chain(values.iter().map(Array::view))
        .collect()
}

/// Multiply-adds from which a complex product runs on the team: below, one
/// `gemm` call on this thread.
const PRODUCT_PARALLEL: usize = 1 << 15;

/// `A @ B` of two complex inputs ([`Prepared::ComplexProduct`]) into `out`
/// (the result's shape, any strides).
fn complex_product(
    program: &Program,
    inputs: &Bound<'_>,
    out: &mut ArrayViewMut<'_>,
    cancel: Cancel<'_>,
) -> Result<()> {
    let g = &program.graph;
    let input = |id: crate::ir::graph::NodeId| match g.node(id) {
        Node::Input(i) => inputs.get(i.index()).and_then(Option::as_ref),
        _ => None,
    };
    let Node::MatMul(a, b) = g.node(program.root) else {
        return Err(Error::internal("a complex product that is not `@`"));
    };
    let (Some(va), Some(vb)) = (input(a), input(b)) else {
        return Err(Error::internal(
            "a complex product's operands are not bound",
        ));
    };
    let dims = crate::ir::shape::MatMulShape::of(va.shape(), vb.shape())
        .map_err(|_| Error::internal("a complex product's shapes were not checked"))?;
    let work = dims
        .batches()
        .saturating_mul(dims.n * dims.k)
        .saturating_mul(dims.m);
    let team = (work >= PRODUCT_PARALLEL)
        .then(crate::threads::parallel_team)
        .flatten();
    crate::backend::jit::matmul::product(va, vb, out, &dims, team.as_deref())?;
    cancel.check()
}

/// The inputs of a split program's parts (`ir::split`): each bound input,
/// whole or one part of a complex one (a view of the same memory).
fn split_views<'a>(sources: &[Source], inputs: &Bound<'a>) -> Result<Vec<ArrayView<'a>>> {
    sources
        .iter()
        .map(|&source| {
            let (Source::Whole(i) | Source::Re(i) | Source::Im(i)) = source;
            let view = inputs[i.index()]
                .clone()
                .ok_or_else(|| Error::internal("an input of a split program is not bound"))?;
            let parts = || {
                view.clone()
                    .split_complex()
                    .ok_or_else(|| Error::internal("a split input is not complex"))
            };
            Ok(match source {
                Source::Whole(_) => view,
                Source::Re(_) => parts()?.0,
                Source::Im(_) => parts()?.1,
            })
        })
        .collect()
}

/// The fewest elements a split program runs in planar blocks for: below,
/// its parts read the complex inputs where they are.
const PLANAR_MIN: usize = 4096;

/// The planar blocks (`planar`) of an elementwise split program on the JIT
/// whose operands allow them, for a result of `shape`.
fn planar<'a>(
    program: &Program,
    parts: &[Prepared],
    sources: &[Source],
    inputs: &Bound<'a>,
    views: &[ArrayView<'a>],
    shape: &[usize],
) -> Option<planar::Planar<'a>> {
    let summary = program.summary();
    let elementwise = summary.reductions == 0 && summary.matmuls == 0;
    let jit = parts.iter().all(|p| matches!(p, Prepared::Jit(_)));
    let n: usize = shape.iter().product();
    if !(elementwise && jit && n >= PLANAR_MIN) {
        return None;
    }
    // Planes pay where the parts compute much per element read: copying
    // the inputs into planes and a complex result out of them goes through
    // L2 about four times an element, which costs more than strided loads
    // save for a little arithmetic (`z*w + c`: 7.2 -> 10.8 ms at 10⁶ on one
    // thread) and than they save a complex math function (`exp(z)` 1.2×,
    // `sqrt(z)` 1.18× slower, 2 threads), but far less than they cost
    // much arithmetic or a real result's math function (10⁶, 2 threads,
    // medians of 5 alternations: `abs(z)` 6.94 -> 2.04 ms, `z / w` 7.54 ->
    // 6.44, `angle(z)` 10.71 -> 2.43).
    let (mut math, mut operations) = (0, 0);
    for part in parts {
        let s = part.program().summary();
        math += s.math;
        operations += s.operations;
    }
    let complex = sources
        .iter()
        .filter(|s| matches!(s, Source::Re(_)))
        .count();
    let heavy = if math == 0 {
        operations >= PLANAR_OPERATIONS * complex.max(1)
    } else {
        parts.len() == 1
    };
    if !heavy {
        return None;
    }
    planar::Planar::of(sources, inputs, views, shape)
}

/// The operations per complex input from which a split program without
/// math functions runs in planar blocks (see [`planar`]): `abs(z)`'s parts
/// have 21, `z*w + c`'s 11 for 3 inputs.
const PLANAR_OPERATIONS: usize = 8;

/// The elements of a block of a complex result whose parts are computed one
/// after the other on one thread (`run_split`): 64 Ki (1 MiB of complex128
/// per operand; `z*w+c` at 10⁷ measured 30–43 ms with these blocks on the
/// team, 60–74 ms with each part's pass on the team block by block, 32 Ki
/// and 16 Ki blocks in between).
const SPLIT_BLOCK: usize = 1 << 16;

/// Runs the parts of a split program on `views` into `out` (the result's
/// dtype and shape): a real result into `out`, a complex one's real and
/// imaginary parts into the halves of `out` (`split_complex`). A part that
/// reads fewer inputs than the whole (`real(complex(a, b))` reads only `a`)
/// may have another shape (an axis a reduction kept is dropped): then the
/// interpreter runs the whole `program` on `inputs`.
fn run_split<'a>(
    program: &Program,
    parts: &[Prepared],
    joint: Option<&Prepared>,
    (inputs, shapes): (&Bound<'a>, &Shapes),
    (sources, views): (&[Source], &[ArrayView<'a>]),
    mut out: ArrayViewMut<'_>,
    cancel: Cancel<'_>,
) -> Result<()> {
    let bind = Bind::Positional(views);
    // Both parts in one kernel, where it has the result's shape (it may
    // not read every input of the program: see below).
    if let Some(joint) = joint
        && result_shape(joint, bind)? == out.shape()
    {
        return evaluate_into(joint, bind, &mut out, cancel);
    }
    for part in parts {
        if result_shape(part, bind)? != out.shape() {
            let values = interp::run(program, inputs, shapes, cancel)?;
            let flat: Vec<_> = values.iter().copied().collect();
            out.assign_scalars(&flat);
            return Ok(());
        }
    }
    if let Some(planar) = planar(program, parts, sources, inputs, views, out.shape())
        && planar.run(parts, out.reborrow(), cancel)?
    {
        return Ok(());
    }
    match parts {
        [part] => evaluate_into(part, bind, &mut out, cancel),
        [re, im] => {
            let (mut out_re, mut out_im) = out
                .split_complex()
                .ok_or_else(|| Error::internal("a split result is not complex"))?;
            // An elementwise program: both parts block by block of rows,
            // each block's on one thread, so that the second part reads
            // the inputs the first brought into that core's cache (the
            // parts are interleaved in memory).
            let shape = out_re.shape().to_vec();
            let (rows, per_row) = match shape.split_first() {
                Some((&rows, rest)) => (rows, rest.iter().product::<usize>()),
                None => (0, 0),
            };
            let summary = program.summary();
            let jit = parts.iter().all(|p| matches!(p, Prepared::Jit(_)));
            if jit
                && summary.reductions == 0
                && summary.matmuls == 0
                && rows > 1
                && rows * per_row >= 2 * SPLIT_BLOCK
            {
                let step = (SPLIT_BLOCK / per_row.max(1)).max(1);
                let starts: Vec<usize> = (0..rows).step_by(step).collect();
                // The output's blocks: disjoint views, one per block.
                let mut blocks = Vec::with_capacity(starts.len());
                let (mut rest_re, mut rest_im) = (out_re, out_im);
                for _ in 1..starts.len() {
                    let (r, tail_re) = rest_re.split_rows(step);
                    let (i, tail_im) = rest_im.split_rows(step);
                    blocks.push(std::sync::Mutex::new(Some((r, i))));
                    (rest_re, rest_im) = (tail_re, tail_im);
                }
                blocks.push(std::sync::Mutex::new(Some((rest_re, rest_im))));
                let failed: std::sync::Mutex<Option<Error>> = std::sync::Mutex::new(None);
                let run_block = |k: usize| {
                    let taken = blocks[k].lock().unwrap_or_else(|e| e.into_inner()).take();
                    let Some((mut r, mut i)) = taken else {
                        return;
                    };
                    let (start, end) = (starts[k], (starts[k] + step).min(rows));
                    // The inputs that span the first axis, cut to the block.
                    let block: Vec<ArrayView<'_>> = views
                        .iter()
                        .map(|v| match v.shape().first() {
                            Some(&n) if v.shape().len() == shape.len() && n == rows => {
                                v.rows(start..end)
                            }
                            _ => v.clone(),
                        })
                        .collect();
                    let bind = Bind::Positional(&block);
                    let done = evaluate_into(re, bind, &mut r, cancel)
                        .and_then(|()| evaluate_into(im, bind, &mut i, cancel));
                    if let Err(e) = done {
                        let mut first = failed.lock().unwrap_or_else(|e| e.into_inner());
                        first.get_or_insert(e);
                    }
                };
                // (A part's own call inside the team's job runs alone on its thread.)
                match crate::threads::parallel_team() {
                    Some(team) => team.for_each(starts.len(), || (), |_, k| run_block(k)),
                    None => (0..starts.len()).for_each(run_block),
                }
                return match failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
                    Some(e) => Err(e),
                    None => Ok(()),
                };
            }
            evaluate_into(re, bind, &mut out_re, cancel)?;
            evaluate_into(im, bind, &mut out_im, cancel)
        }
        _ => Err(Error::internal("a split program has one or two parts")),
    }
}

/// Evaluates `prepared` on contiguous runs of one length, by position,
/// into `out` of that length, if it is a small elementwise JIT call
/// (`run::SmallCall::of_flat`); `Ok(false)`, nothing written, if not.
pub(crate) fn evaluate_flat(
    prepared: &Prepared,
    inputs: &[Flat<'_>],
    out: FlatMut<'_>,
    cancel: Cancel<'_>,
) -> Result<bool> {
    let Prepared::Jit(jit) = prepared else {
        return Ok(false);
    };
    let n = out.len();
    let program = prepared.program();
    if out.dtype() != program.dtype() || inputs.len() != program.graph.inputs().len() {
        return Ok(false);
    }
    let Some(call) = SmallCall::of_flat(jit, inputs, n) else {
        return Ok(false);
    };
    cancel.check()?;
    let out = each!(FlatMut, out, s => call::Output::of_slice(s));
    call.run(jit, out, &[n], cancel)?;
    Ok(true)
}

/// The shape of `prepared`'s result on `vars`, without evaluating: the
/// inputs are bound (names and dtypes checked) and the shapes inferred
/// (broadcasting and axes checked), as an evaluation would first.
pub(crate) fn result_shape(prepared: &Prepared, vars: Bind<'_, '_>) -> Result<Vec<usize>> {
    let (_, shapes) = bind(prepared, vars)?;
    Ok(shapes.output)
}

/// On the GPU backend: [`evaluate`], also reporting the upload, compute and
/// download times; `None` on the others.
#[cfg(feature = "gpu")]
pub(crate) fn evaluate_gpu_timed(
    prepared: &Prepared,
    vars: Bind<'_, '_>,
) -> Result<Option<(Array, crate::backend::wgsl::Timings)>> {
    let Prepared::Gpu { program, gpu } = prepared else {
        return Ok(None);
    };
    let (inputs, shapes) = bind(prepared, vars)?;
    gpu.run_timed(program, &inputs, &shapes).map(Some)
}

/// Copies `result` into `out` (same shape and dtype, any layout).
fn assign(out: &mut ArrayViewMut<'_>, result: &Array) -> Result<()> {
    if !out.assign(result) {
        return Err(Error::internal("result dtype differs from the output's"));
    }
    Ok(())
}

/// NumPy's `order='K'` for a new result, as far as it matters: Fortran when
/// the result has two or more axes and every input of the result's shape is
/// Fortran-contiguous (there being one), else C.
fn result_order(inputs: &[Option<ArrayView<'_>>], output: &[usize]) -> Order {
    let mut full = inputs
        .iter()
        .flatten()
        .filter(|v| v.shape() == output)
        .peekable();
    if output.len() > 1 && full.peek().is_some() && full.all(|v| v.is_fortran_contiguous()) {
        Order::Fortran
    } else {
        Order::C
    }
}

/// The inputs of the program found in `vars`, checked for dtype, and the
/// shapes of every node. A JIT program's precomputed reads are used: when
/// its reductions are all full ones, each stage's shape is the broadcast of
/// the inputs it reads (the per-node inference runs only to locate a
/// broadcasting error, and for reductions along an axis).
fn bind<'a>(prepared: &Prepared, vars: Bind<'_, 'a>) -> Result<(Bound<'a>, Shapes)> {
    let program = prepared.program();
    let Prepared::Jit(jit) = prepared else {
        let inputs = bind_inputs(program, &program.read_inputs(), vars)?;
        let shapes = shapes(program, &inputs)?;
        return Ok((inputs, shapes));
    };
    let inputs = bind_inputs(program, jit.inputs(), vars)?;
    if let Some(shapes) = stage_shapes(program, jit, &inputs) {
        return Ok((inputs, shapes));
    }
    let shapes = shapes(program, &inputs)?;
    Ok((inputs, shapes))
}

/// The stage shapes of a JIT program with full reductions only, from its
/// stages' leaves; `None` if it has others or an input does not broadcast.
fn stage_shapes(program: &Program, jit: &JitProgram, inputs: &Bound<'_>) -> Option<Shapes> {
    if !jit.full_reductions_only() {
        return None;
    }
    let g = &program.graph;
    let mut roots = Vec::with_capacity(jit.stages().len());
    for s in jit.stages() {
        let mut shape: Vec<usize> = Vec::new();
        let fits = s.leaves().iter().all(|&leaf| match g.node(leaf) {
            Node::Input(i) => inputs[i.index()]
                .as_ref()
                .is_some_and(|v| shape::broadcast_into(&mut shape, v.shape())),
            _ => true, // a full reduction: 0-d
        });
        if !fits {
            return None;
        }
        roots.push((s.stage.root, shape));
    }
    Some(Shapes::of_stage_roots(roots))
}

/// The `Input` nodes `reads` of `program`, bound to `vars`.
/// Inputs the program does not read may be missing.
fn bind_inputs<'a>(program: &Program, reads: &[NodeId], vars: Bind<'_, 'a>) -> Result<Bound<'a>> {
    let g = &program.graph;
    let mut bound: Bound<'a> = vec![None; g.inputs().len()];
    for &id in reads {
        let Node::Input(i) = g.node(id) else { continue };
        let decl = &g.inputs()[i.index()];
        let view = vars.get(i.index(), &decl.name).ok_or_else(|| {
            Error::new(ErrorKind::Name, format!("missing input `{}`", decl.name))
                .at(g.span(id))
                .with_label("read here")
                .with_help(format!("pass a {} array named `{}`", decl.dtype, decl.name))
        })?;
        if view.dtype() != decl.dtype {
            return Err(Error::new(
                ErrorKind::Type,
                format!(
                    "input `{}` is {} but the kernel was compiled for {}",
                    decl.name,
                    view.dtype(),
                    decl.dtype
                ),
            )
            .at(g.span(id))
            .with_label(format!("compiled as {}", decl.dtype))
            .with_help("compile again for these dtypes, or convert the array"));
        }
        bound[i.index()] = Some(view.clone());
    }
    Ok(bound)
}

/// Shapes of the bound inputs, then of every node.
fn shapes(program: &Program, inputs: &[Option<ArrayView<'_>>]) -> Result<Shapes> {
    let input_shapes: Vec<Vec<usize>> = inputs
        .iter()
        .map(|v| v.as_ref().map_or_else(Vec::new, |v| v.shape().to_vec()))
        .collect();
    shape::infer(program, &input_shapes)
}

fn check_output(program: &Program, shapes: &Shapes, out: &ArrayViewMut<'_>) -> Result<()> {
    if out.dtype() != program.dtype() {
        return Err(Error::new(
            ErrorKind::Type,
            format!(
                "output array is {} but the expression gives {}",
                out.dtype(),
                program.dtype()
            ),
        )
        .with_help(format!("pass a {} array", program.dtype())));
    }
    if out.shape() != shapes.output.as_slice() {
        return Err(Error::new(
            ErrorKind::Shape,
            format!(
                "output array has shape {} but the result has shape {}",
                format_shape(out.shape()),
                format_shape(&shapes.output)
            ),
        )
        .with_help("allocate the output with the broadcast shape of the inputs"));
    }
    Ok(())
}
