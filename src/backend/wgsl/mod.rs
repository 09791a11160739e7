//! The GPU backend: each elementwise stage becomes one WGSL compute shader
//! (`codegen`), run through wgpu on the process's device (`device`).
//!
//! Inputs are uploaded compacted in their own C order (whatever their
//! strides) and indexed in the shader with per-axis strides over the output
//! shape, so broadcasting needs no copies. See `codegen` for what is
//! supported so far; everything else is a clear `Unsupported` error.

pub mod codegen;
pub mod device;
pub mod math;

use crate::array::{Array, ArrayView, each};
use crate::error::{Error, ErrorKind, Result};
use crate::exec::shape::Shapes;
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::stage::stages;
use crate::types::DType;

/// A program compiled to WGSL.
#[derive(Debug, Clone)]
pub struct GpuProgram {
    shader: String,
    leaves: Vec<NodeId>,
    consts: Vec<u32>,
    root: NodeId,
}

impl GpuProgram {
    /// Generates the shader of a one-stage program (no reductions yet).
    pub fn compile(program: &Program) -> Result<GpuProgram> {
        let all = stages(program);
        if all.len() > 1 {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "reductions are not supported on the GPU yet",
            )
            .with_help("use the JIT backend (the default) for this expression"));
        }
        let shader = codegen::shader(program, program.root)?;
        Ok(GpuProgram {
            shader: shader.text,
            leaves: shader.leaves,
            consts: shader.consts,
            root: program.root,
        })
    }

    /// The WGSL text.
    pub fn shader(&self) -> &str {
        &self.shader
    }

    /// Runs on the GPU: `inputs` by input id, `shapes` from `exec::shapes`.
    pub fn run(
        &self,
        program: &Program,
        inputs: &[Option<ArrayView<'_>>],
        shapes: &Shapes,
    ) -> Result<Array> {
        let gpu = device::gpu()?;
        let g = &program.graph;
        let out_shape = shapes.of(self.root).to_vec();
        if out_shape.len() > codegen::MAX_DIMS {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "the GPU backend handles at most {} dimensions",
                    codegen::MAX_DIMS
                ),
            ));
        }
        let n: usize = out_shape.iter().product();
        let max_binding = gpu.limits.max_storage_buffer_binding_size as usize;
        let mut buffers = Vec::new();
        let mut strides_words: Vec<u32> = Vec::new();
        for &leaf in &self.leaves {
            let Node::Input(i) = g.node(leaf) else {
                return Err(Error::internal("GPU leaf is not an input"));
            };
            let view = inputs
                .get(i.index())
                .and_then(|v| v.as_ref())
                .ok_or_else(|| Error::internal("GPU input not bound"))?;
            let bytes = compact_bytes(view);
            if bytes.len() > max_binding {
                return Err(Error::new(
                    ErrorKind::Limit,
                    format!("an input of {} bytes exceeds the GPU's binding limit of {max_binding} bytes", bytes.len()),
                )
                .with_help("chunked GPU evaluation is not implemented yet; use the JIT backend"));
            }
            buffers.push(bytes);
            // Element strides of the compacted leaf over the output shape.
            let shape = view.shape();
            let offset = out_shape.len() - shape.len();
            let mut own = vec![0u32; shape.len()];
            let mut acc = 1u64;
            for d in (0..shape.len()).rev() {
                own[d] = acc as u32;
                acc *= shape[d] as u64;
            }
            let mut row = [0u32; 8];
            for d in 0..out_shape.len() {
                if d >= offset && shape[d - offset] == out_shape[d] && out_shape[d] != 1 {
                    row[d] = own[d - offset];
                }
            }
            strides_words.extend_from_slice(&row);
        }
        if strides_words.is_empty() {
            strides_words.extend_from_slice(&[0; 8]);
        }
        let out_dtype = g.dtype(self.root);
        let elem = if out_dtype == DType::Bool {
            4
        } else {
            out_dtype.size()
        };
        if n * elem > max_binding {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "a result of {} bytes exceeds the GPU's binding limit",
                    n * elem
                ),
            )
            .with_help("chunked GPU evaluation is not implemented yet; use the JIT backend"));
        }
        let groups = (n as u64).div_ceil(u64::from(device::WORKGROUP));
        let max = u64::from(gpu.limits.max_compute_workgroups_per_dimension.max(1));
        let groups_x = groups.min(max) as u32;
        let mut params: Vec<u32> = vec![n as u32, out_shape.len() as u32, groups_x, 0];
        let mut shape_words = [1u32; 8];
        for (d, &s) in out_shape.iter().enumerate() {
            shape_words[d] = s as u32;
        }
        params.extend_from_slice(&shape_words);
        params.extend_from_slice(&strides_words);
        let mut consts = self.consts.clone();
        consts.resize(self.consts.len().div_ceil(4).max(1) * 4, 0);
        params.extend_from_slice(&consts);
        let param_bytes: Vec<u8> = params.iter().flat_map(|w| w.to_le_bytes()).collect();
        let bytes = gpu.run(&self.shader, &buffers, &param_bytes, n * elem, n)?;
        from_bytes(out_dtype, &out_shape, &bytes)
    }
}

/// The elements of `view` in C order as little-endian bytes (bool as u32).
fn compact_bytes(view: &ArrayView<'_>) -> Vec<u8> {
    match view {
        ArrayView::Bool(a) => a.iter().flat_map(|&b| u32::from(b).to_le_bytes()).collect(),
        ArrayView::Int32(a) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ArrayView::Float32(a) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),
        other => each!(ArrayView, other, a => a.iter().flat_map(|_| [0u8; 0]).collect()),
    }
}

fn from_bytes(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Array> {
    let words = bytes.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]);
    let dim = ndarray::IxDyn(shape);
    let wrap = |e: ndarray::ShapeError| Error::internal(format!("GPU result shape: {e}"));
    Ok(match dtype {
        DType::Float32 => Array::Float32(
            ndarray::ArrayD::from_shape_vec(dim, words.map(f32::from_le_bytes).collect())
                .map_err(wrap)?,
        ),
        DType::Int32 => Array::Int32(
            ndarray::ArrayD::from_shape_vec(dim, words.map(i32::from_le_bytes).collect())
                .map_err(wrap)?,
        ),
        DType::Bool => Array::Bool(
            ndarray::ArrayD::from_shape_vec(
                dim,
                words.map(|w| u32::from_le_bytes(w) != 0).collect(),
            )
            .map_err(wrap)?,
        ),
        other => return Err(Error::internal(format!("GPU result of dtype {other}"))),
    })
}
