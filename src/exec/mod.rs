//! The executor: binds variables to a compiled program's inputs, infers
//! shapes (broadcasting), runs the chosen backend and delivers the result.

pub mod cache;
pub mod compiled;
pub mod reduce;
pub mod shape;
pub mod threads;

use crate::array::{Array, ArrayView, ArrayViewMut};
use crate::backend::interp;
use crate::backend::jit::JitProgram;
use crate::error::{Error, ErrorKind, Result};
use crate::ir::graph::{Node, NodeId, Program};
use crate::vars::Vars;
use shape::{Shapes, format_shape};

/// The inputs of `program` found in `vars`, by input id, checked for dtype.
/// Inputs the program does not read may be missing.
pub fn bind<'a>(program: &Program, vars: &Vars<'a>) -> Result<Vec<Option<ArrayView<'a>>>> {
    bind_inputs(program, &program.read_inputs(), vars)
}

/// [`bind`] given the `Input` nodes the program reads.
fn bind_inputs<'v, 'a>(
    program: &Program,
    reads: &[NodeId],
    vars: &'v Vars<'a>,
) -> Result<Vec<Option<ArrayView<'a>>>> {
    let g = &program.graph;
    let mut bound: Vec<Option<ArrayView<'a>>> = vec![None; g.inputs().len()];
    for &id in reads {
        let Node::Input(i) = g.node(id) else { continue };
        let decl = &g.inputs()[i.index()];
        let view = vars.get(&decl.name).ok_or_else(|| {
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
pub fn shapes(program: &Program, inputs: &[Option<ArrayView<'_>>]) -> Result<Shapes> {
    let input_shapes: Vec<Vec<usize>> = inputs
        .iter()
        .map(|v| v.as_ref().map_or_else(Vec::new, |v| v.shape().to_vec()))
        .collect();
    shape::infer(program, &input_shapes)
}

/// [`bind`] and [`shapes`] for a JIT program, using what it precomputed: when
/// its reductions are all full ones, each stage's shape is the broadcast of
/// the inputs it reads (the per-node inference runs only to locate a
/// broadcasting error, and for reductions along an axis).
fn bind_jit<'a>(
    program: &Program,
    jit: &JitProgram,
    vars: &Vars<'a>,
) -> Result<(Vec<Option<ArrayView<'a>>>, Shapes)> {
    let inputs = bind_inputs(program, jit.inputs(), vars)?;
    if jit.full_reductions_only() {
        let g = &program.graph;
        let mut roots = Vec::with_capacity(jit.stages().len());
        for s in jit.stages() {
            let mut shape: Vec<usize> = Vec::new();
            let fits = s.leaves.iter().all(|&leaf| match g.node(leaf) {
                Node::Input(i) => inputs[i.index()]
                    .as_ref()
                    .is_some_and(|v| shape::broadcast_into(&mut shape, v.shape())),
                _ => true, // a full reduction: 0-d
            });
            if !fits {
                break;
            }
            roots.push((s.stage.root, shape));
        }
        if roots.len() == jit.stages().len() {
            return Ok((inputs, Shapes::of_stage_roots(roots)));
        }
    }
    let shapes = shapes(program, &inputs)?;
    Ok((inputs, shapes))
}

/// Evaluates `program` with the reference interpreter into a new array.
pub fn run(program: &Program, vars: &Vars<'_>) -> Result<Array> {
    threads::reset_cancel();
    let inputs = bind(program, vars)?;
    let shapes = shapes(program, &inputs)?;
    let values = interp::run(program, &inputs, &shapes)?;
    let flat: Vec<_> = values.iter().copied().collect();
    Array::from_scalars(program.dtype(), &shapes.output, &flat)
        .ok_or_else(|| Error::internal("result does not match its shape"))
}

/// Evaluates `program` into `out`, which must have the result's dtype and shape.
pub fn run_into(program: &Program, vars: &Vars<'_>, out: &mut ArrayViewMut<'_>) -> Result<()> {
    threads::reset_cancel();
    let inputs = bind(program, vars)?;
    let shapes = shapes(program, &inputs)?;
    check_output(program, &shapes, out)?;
    let values = interp::run(program, &inputs, &shapes)?;
    let flat: Vec<_> = values.iter().copied().collect();
    out.assign_scalars(&flat);
    Ok(())
}

/// Evaluates `program`, compiled as `jit`, into a new array.
pub fn run_jit(program: &Program, jit: &JitProgram, vars: &Vars<'_>) -> Result<Array> {
    // A small 1-d (or 0-d) call: the shape of its inputs, C order either way.
    if let [compiled] = jit.stages()
        && let Some(Node::Input(i)) = compiled.leaves.first().map(|&l| program.graph.node(l))
        && let Some(first) = vars.get(&program.graph.inputs()[i.index()].name)
        && first.shape().len() <= 1
        && let Some(call) = compiled::SmallCall::of(program, jit, vars, first.shape())?
    {
        let mut out = compiled::zeros(program.dtype(), first.shape())?;
        call.run(program, jit, &mut out.view_mut())?;
        return Ok(out);
    }
    let (inputs, shapes) = bind_jit(program, jit, vars)?;
    // Like NumPy's `order='K'`: Fortran-ordered inputs give a Fortran-ordered result.
    let fortran = shapes.output.len() > 1
        && inputs
            .iter()
            .flatten()
            .any(|v| v.shape() == shapes.output.as_slice())
        && inputs
            .iter()
            .flatten()
            .filter(|v| v.shape() == shapes.output.as_slice())
            .all(|v| v.is_fortran_contiguous());
    let mut out = if fortran {
        compiled::zeros_fortran(program.dtype(), &shapes.output)?
    } else {
        compiled::zeros(program.dtype(), &shapes.output)?
    };
    compiled::run(program, jit, &inputs, &shapes, &mut out.view_mut(), true)?;
    Ok(out)
}

/// Evaluates `program`, compiled as `jit`, into `out` (the result's dtype and shape).
pub fn run_jit_into(
    program: &Program,
    jit: &JitProgram,
    vars: &Vars<'_>,
    out: &mut ArrayViewMut<'_>,
) -> Result<()> {
    if out.dtype() == program.dtype()
        && let Some(call) = compiled::SmallCall::of(program, jit, vars, out.shape())?
    {
        return call.run(program, jit, out);
    }
    let (inputs, shapes) = bind_jit(program, jit, vars)?;
    check_output(program, &shapes, out)?;
    compiled::run(program, jit, &inputs, &shapes, out, false)
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

/// Evaluates `program`, compiled to WGSL, on the GPU into a new array.
#[cfg(feature = "gpu")]
pub fn run_gpu(
    program: &Program,
    gpu: &crate::backend::wgsl::GpuProgram,
    vars: &Vars<'_>,
) -> Result<Array> {
    let inputs = bind(program, vars)?;
    let shapes = shapes(program, &inputs)?;
    gpu.run(program, &inputs, &shapes)
}

/// [`run_gpu`], also reporting the upload, compute and download times.
#[cfg(feature = "gpu")]
pub fn run_gpu_timed(
    program: &Program,
    gpu: &crate::backend::wgsl::GpuProgram,
    vars: &Vars<'_>,
) -> Result<(Array, crate::backend::wgsl::Timings)> {
    let inputs = bind(program, vars)?;
    let shapes = shapes(program, &inputs)?;
    gpu.run_timed(program, &inputs, &shapes)
}

/// Evaluates on the GPU into `out` (downloaded, then copied into `out`).
#[cfg(feature = "gpu")]
pub fn run_gpu_into(
    program: &Program,
    gpu: &crate::backend::wgsl::GpuProgram,
    vars: &Vars<'_>,
    out: &mut ArrayViewMut<'_>,
) -> Result<()> {
    let inputs = bind(program, vars)?;
    let shapes = shapes(program, &inputs)?;
    check_output(program, &shapes, out)?;
    let result = gpu.run(program, &inputs, &shapes)?;
    if !out.assign(&result) {
        return Err(Error::internal(
            "GPU result dtype differs from the output's",
        ));
    }
    Ok(())
}
