//! The GPU backend: each stage of a program becomes one WGSL compute shader
//! (`codegen`; reductions add a second, small one that folds the partial
//! results), run through wgpu on the process's device (`device`).
//!
//! Inputs are uploaded compacted in their own C order (whatever their
//! strides) and indexed in the shader with per-axis strides over the stage's
//! shape, so broadcasting needs no copies. Results of reduction stages stay
//! on the GPU for the stages that read them; only the final result is
//! downloaded. A stage whose buffers would exceed the device's binding limit
//! runs in slabs along its first axis.

pub mod cmath;
pub mod codegen;
pub mod device;
pub mod math;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::array::{Array, ArrayView, each};
use crate::error::{Error, ErrorKind, Result};
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::op::ReduceOp;
use crate::ir::shape::Shapes;
use crate::ir::stage::{Stage, Then, stages};
use crate::types::DType;
use codegen::{Caps, HEADER_WORDS, MAX_DIMS, Shader, WORKGROUP};
use device::Pooled;

/// Elements one workgroup of a reduction folds (16 per thread).
const GROUP_ELEMENTS: u64 = 16 * WORKGROUP as u64;

/// Reductions of at most this many elements per output run a thread per
/// output instead of a workgroup per output.
const SHORT_REDUCTION: usize = 64;

/// A program compiled to WGSL: one shader per stage.
#[derive(Debug, Clone)]
pub struct GpuProgram {
    stages: Vec<GpuStage>,
}

#[derive(Debug, Clone)]
struct GpuStage {
    stage: Stage,
    shader: Shader,
    /// The shader folding the partials (reduction stages).
    finish: Option<String>,
    /// The final stage fused into the product it reads (`fusible_product`):
    /// the product and the fused shader, used when the product has the
    /// stage's shape and one dispatch can bind everything.
    fused: Option<(NodeId, Shader)>,
}

/// Where one evaluation spent its time (`jitexpr bench --backend gpu`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Copying inputs to the GPU.
    pub upload: Duration,
    /// Running the shaders.
    pub compute: Duration,
    /// Copying the result back.
    pub download: Duration,
}

static BINDING_LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);

/// Caps the bytes of one buffer binding below the device's own limit (to
/// exercise the slab path in tests; `None` restores the device's limit).
pub fn set_binding_limit(bytes: Option<u64>) {
    BINDING_LIMIT.store(bytes.unwrap_or(u64::MAX), Ordering::Relaxed);
}

impl GpuProgram {
    /// Generates the shaders of `program` for the process's GPU.
    pub fn compile(program: &Program) -> Result<GpuProgram> {
        let gpu = device::gpu()?;
        let caps = Caps {
            f64: gpu.features.contains(wgpu::Features::SHADER_F64),
            i64: gpu.features.contains(wgpu::Features::SHADER_INT64),
            adapter: gpu.info.name.clone(),
        };
        GpuProgram::compile_for(program, &caps)
    }

    /// Generates the shaders of `program` for an adapter with `caps`.
    pub fn compile_for(program: &Program, caps: &Caps) -> Result<GpuProgram> {
        let g = &program.graph;
        if let Some(id) = program.first_complex() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "the GPU backend does not support this complex operation yet",
            )
            .at(g.span(id))
            .with_label(format!("{} value", g.dtype(id)))
            .with_help("use the JIT backend (the default) for this expression"));
        }
        let fusible = crate::ir::stage::fusible_product(program).filter(|&m| m != program.root);
        let stages = stages(program)
            .into_iter()
            .map(|stage| {
                if stage.then == Then::Product {
                    let Node::MatMul(a, b) = g.node(stage.root) else {
                        return Err(Error::internal("GPU product stage is not a product"));
                    };
                    let packed = (codegen::leaf_packed(g, a), codegen::leaf_packed(g, b));
                    let text = codegen::matmul_shader(g.dtype(stage.root), packed, caps)?;
                    return Ok(GpuStage {
                        stage,
                        shader: Shader {
                            text,
                            leaves: vec![a, b],
                            consts: Vec::new(),
                        },
                        finish: None,
                        fused: None,
                    });
                }
                let shader = codegen::stage_shader(program, &stage, caps)?;
                // A packed result is written a word per invocation, which a
                // matmul tile's threads do not own: the product is kept.
                let packed_root = codegen::packed_bits(g.dtype(stage.root)).is_some();
                let fused = match fusible {
                    Some(m) if stage.then == Then::Result && !packed_root => {
                        Some((m, codegen::fused_product_shader(program, &stage, m, caps)?))
                    }
                    _ => None,
                };
                let finish = match stage.reduce().map(|r| (r, g.node(r))) {
                    Some((r, Node::Reduce(op, operand, _))) => {
                        Some(codegen::finish_shader(op, g.dtype(operand), g.dtype(r)))
                    }
                    _ => None,
                };
                Ok(GpuStage {
                    stage,
                    shader,
                    finish,
                    fused,
                })
            })
            .collect::<Result<_>>()?;
        Ok(GpuProgram { stages })
    }

    /// The WGSL text of every stage (and reduction finish), in order.
    pub fn shaders(&self) -> Vec<&str> {
        self.stages
            .iter()
            .flat_map(|s| std::iter::once(s.shader.text.as_str()).chain(s.finish.as_deref()))
            .collect()
    }

    /// Runs on the GPU: `inputs` by input id, `shapes` from `exec::shapes`.
    pub fn run(
        &self,
        program: &Program,
        inputs: &[Option<ArrayView<'_>>],
        shapes: &Shapes,
    ) -> Result<Array> {
        self.execute(program, inputs, shapes, false).map(|(a, _)| a)
    }

    /// [`GpuProgram::run`], also reporting where the time went (it waits for
    /// the GPU after each phase, which an untimed run does not).
    pub fn run_timed(
        &self,
        program: &Program,
        inputs: &[Option<ArrayView<'_>>],
        shapes: &Shapes,
    ) -> Result<(Array, Timings)> {
        self.execute(program, inputs, shapes, true)
    }

    fn execute(
        &self,
        program: &Program,
        inputs: &[Option<ArrayView<'_>>],
        shapes: &Shapes,
        timed: bool,
    ) -> Result<(Array, Timings)> {
        let gpu = device::gpu()?;
        let limit = gpu
            .limits
            .max_storage_buffer_binding_size
            .min(gpu.limits.max_buffer_size)
            .min(BINDING_LIMIT.load(Ordering::Relaxed));
        let mut run = Run {
            gpu,
            program,
            inputs,
            shapes,
            limit,
            reduced: HashMap::new(),
            timed,
            times: Timings::default(),
        };
        let mut result = None;
        // The product the final stage computes tile by tile, if it can.
        let fused = self.stages.last().and_then(|s| {
            let (m, shader) = s.fused.as_ref()?;
            (shapes.of(*m) == shapes.of(s.stage.root)).then_some((m, shader))
        });
        let mut deferred = None;
        for stage in &self.stages {
            if stage.stage.then == Then::Product
                && let Some((m, shader)) = fused
                && stage.stage.root == *m
            {
                deferred = Some((stage, shader));
                continue;
            }
            if stage.stage.then == Then::Result
                && let Some((product, shader)) = deferred.take()
            {
                match run.fused(stage, shader, product)? {
                    Some(bytes) => {
                        result = Some(bytes);
                        continue;
                    }
                    // Too big for one dispatch: the product, then the stage.
                    None => {
                        let buffer = run.matmul(product)?;
                        run.reduced.insert(product.stage.root, buffer);
                    }
                }
            }
            match stage.stage.then {
                Then::Reduce(r) => {
                    let buffer = run.reduce(stage, r)?;
                    run.reduced.insert(r, buffer);
                }
                // An operand of a product, computed whole and kept on the GPU.
                Then::Keep => {
                    let bytes = run.elementwise(stage)?;
                    let buffer = run.gpu.upload(&bytes);
                    run.reduced.insert(stage.stage.root, buffer);
                }
                Then::Product => {
                    let buffer = run.matmul(stage)?;
                    run.reduced.insert(stage.stage.root, buffer);
                }
                Then::Result => result = Some(run.elementwise(stage)?),
            }
        }
        let bytes = result.ok_or_else(|| Error::internal("GPU program has no final stage"))?;
        let root = program.graph.dtype(program.root);
        Ok((from_bytes(root, &shapes.output, &bytes)?, run.times))
    }
}

/// One evaluation in progress.
struct Run<'a, 'v> {
    gpu: &'static device::Gpu,
    program: &'a Program,
    inputs: &'a [Option<ArrayView<'v>>],
    shapes: &'a Shapes,
    limit: u64,
    /// Results of earlier stages (reductions, products and the operands
    /// kept for them), on the GPU, compact in C order.
    reduced: HashMap<NodeId, Pooled>,
    /// Wait for the GPU after each phase, so `times` splits it.
    timed: bool,
    times: Timings,
}

/// What [`Run::product`] gives: the product kept on the GPU, the fused
/// final stage's result, or nothing (the fused stage did not fit one
/// dispatch).
enum Product {
    Kept(Pooled),
    Fused(Vec<u8>),
    Unfused,
}

/// A stage's leaf.
enum Leaf<'a, 'v> {
    Host(&'a ArrayView<'v>),
    Device,
}

/// The rows `[start, end)` of axis 0 one dispatch covers.
type Slab = (usize, usize);

impl<'v> Run<'_, 'v> {
    fn leaf(&self, id: NodeId) -> Result<(Leaf<'_, 'v>, Vec<usize>)> {
        let g = &self.program.graph;
        match g.node(id) {
            Node::Input(i) => {
                let view = self
                    .inputs
                    .get(i.index())
                    .and_then(|v| v.as_ref())
                    .ok_or_else(|| Error::internal("GPU input not bound"))?;
                Ok((Leaf::Host(view), view.shape().to_vec()))
            }
            _ if self.reduced.contains_key(&id) => Ok((Leaf::Device, self.shapes.of(id).to_vec())),
            _ => Err(Error::internal(
                "GPU leaf is neither an input nor computed before",
            )),
        }
    }

    /// Splits the `shape` of a stage into slabs along axis 0 so that no
    /// binding exceeds the limit: `fixed` bytes are bound whole, `per_row`
    /// bytes scale with the slab's rows.
    fn slabs(&self, shape: &[usize], fixed: &[u64], per_row: &[u64]) -> Result<Vec<Slab>> {
        let rows = shape.first().copied().unwrap_or(1);
        let too_big = |bytes: u64| {
            Error::new(
                ErrorKind::Limit,
                format!(
                    "a GPU buffer of {bytes} bytes exceeds the device's binding limit of {} bytes",
                    self.limit
                ),
            )
            .with_help("use the JIT backend (the default) for this expression")
        };
        if let Some(&b) = fixed.iter().find(|&&b| b > self.limit) {
            return Err(too_big(b));
        }
        let widest = per_row.iter().copied().max().unwrap_or(0);
        let per = self
            .limit
            .checked_div(widest)
            .map_or(rows.max(1), |p| p as usize);
        if per == 0 {
            return Err(too_big(widest));
        }
        let per = per.min(rows.max(1));
        Ok((0..rows.max(1))
            .step_by(per)
            .map(|s| (s, (s + per).min(rows)))
            .collect())
    }

    /// Uploads the leaves of `stage` for one slab and builds the uniform's
    /// shape, leaf and stride words over the slab's shape.
    fn bind_leaves(
        &mut self,
        shader: &Shader,
        shape: &[usize],
        slab: Slab,
        uploads: &mut Vec<Pooled>,
    ) -> Result<(Vec<u32>, Vec<u32>)> {
        let mut leaf_words = Vec::new();
        let mut stride_words = Vec::new();
        let ndim = shape.len();
        let mut sub = shape.to_vec();
        if let Some(d) = sub.first_mut() {
            *d = slab.1 - slab.0;
        }
        let start = Instant::now();
        for &leaf in &shader.leaves {
            let (source, lshape) = self.leaf(leaf)?;
            let offset = ndim - lshape.len();
            let spans = spans_axis0(&lshape, shape);
            let mut own = vec![0u64; lshape.len()];
            let mut acc = 1u64;
            for d in (0..lshape.len()).rev() {
                own[d] = acc;
                acc *= lshape[d] as u64;
            }
            let mut row = [0u32; 8];
            for d in 0..ndim {
                if d >= offset && lshape[d - offset] == shape[d] && shape[d] != 1 {
                    row[d] = own[d - offset] as u32;
                }
            }
            let base = match source {
                Leaf::Host(view) => {
                    let bytes = if spans {
                        slab_bytes(view, slab)
                    } else {
                        compact_bytes(view)
                    };
                    uploads.push(self.gpu.upload(&bytes));
                    0
                }
                Leaf::Device if spans => (slab.0 as u64 * own[0]) as u32,
                Leaf::Device => 0,
            };
            // Same shape as the stage: element e of the slab is at base + e
            // (a leaf that does not span axis 0 has it of length <= 1: one slab).
            let dense = lshape == shape;
            leaf_words.extend_from_slice(&[base, u32::from(dense), 0, 0]);
            stride_words.extend_from_slice(&row);
        }
        if leaf_words.is_empty() {
            leaf_words.extend_from_slice(&[0; 4]);
            stride_words.extend_from_slice(&[0; 8]);
        }
        self.phase_end()?;
        self.times.upload += start.elapsed();
        Ok((leaf_words, stride_words))
    }

    /// Ends an upload or compute phase: in timed runs, waits for the GPU so
    /// the phase's time is its own. (The queue keeps the order either way;
    /// a download waits and reports GPU errors.)
    fn phase_end(&self) -> Result<()> {
        if self.timed { self.gpu.wait() } else { Ok(()) }
    }

    /// The buffers of `shader`'s leaves in binding order: reductions' results
    /// from the GPU, inputs from `uploads` (in leaf order).
    fn bindings<'b>(
        &'b self,
        shader: &Shader,
        uploads: &'b [Pooled],
    ) -> Result<Vec<&'b wgpu::Buffer>> {
        let mut up = uploads.iter();
        shader
            .leaves
            .iter()
            .map(|l| match self.reduced.get(l) {
                Some(b) => Ok(&**b),
                None => up
                    .next()
                    .map(|b| &**b)
                    .ok_or_else(|| Error::internal("GPU upload missing")),
            })
            .collect()
    }

    /// Bytes per row of axis 0 of each leaf of `shader` that spans it, and
    /// bytes of those bound whole, over the stage shape `shape`.
    fn leaf_sizes(&self, shader: &Shader, shape: &[usize]) -> Result<(Vec<u64>, Vec<u64>)> {
        let (mut fixed, mut per_row) = (Vec::new(), Vec::new());
        for &leaf in &shader.leaves {
            let (source, lshape) = self.leaf(leaf)?;
            let elem = gpu_size(&self.program.graph, leaf) as u64;
            let total: u64 = lshape.iter().map(|&d| d as u64).product::<u64>() * elem;
            let spans = spans_axis0(&lshape, shape);
            match source {
                Leaf::Host(_) if spans => per_row.push(total / shape[0] as u64),
                _ => fixed.push(total),
            }
        }
        Ok((fixed, per_row))
    }

    /// Runs the final stage; returns the result's bytes.
    fn elementwise(&mut self, stage: &GpuStage) -> Result<Vec<u8>> {
        let g = &self.program.graph;
        let root = stage.stage.root;
        let dtype = g.dtype(root);
        let shape = self.shapes.of(root).to_vec();
        check_dims(&shape)?;
        let n: usize = shape.iter().product();
        // A reduction or product as the whole result: download it (a word
        // per element), packed as the stage would write it.
        if let Some(buffer) = self.reduced.get(&root) {
            let start = Instant::now();
            let bytes = self.gpu.download(buffer, n * elem_size(dtype))?;
            self.times.download += start.elapsed();
            return Ok(pack_words(dtype, bytes));
        }
        // Bytes per element written: packed for narrow dtypes and float16.
        let elem = host_size(dtype);
        let per = codegen::per_invocation(dtype) as usize;
        let mut out = vec![0u8; n * elem];
        if n == 0 {
            return Ok(out);
        }
        let (fixed, mut per_row) = self.leaf_sizes(&stage.shader, &shape)?;
        let row_elems = n / shape.first().copied().unwrap_or(1).max(1);
        per_row.push((row_elems * elem) as u64);
        for slab in self.slabs(&shape, &fixed, &per_row)? {
            let mut uploads = Vec::new();
            let (leaf, strides) = self.bind_leaves(&stage.shader, &shape, slab, &mut uploads)?;
            let count = (slab.1 - slab.0) * row_elems;
            let start = Instant::now();
            let buffer = self.gpu.storage((count * elem) as u64);
            // An invocation writes `per` elements: whole words.
            let groups = (count.div_ceil(per) as u64).div_ceil(u64::from(WORKGROUP));
            let (gx, _) = self.gpu.grid(groups)?;
            let mut sub = shape.clone();
            if let Some(d) = sub.first_mut() {
                *d = slab.1 - slab.0;
            }
            let header = [
                count as u32,
                0,
                sub.len() as u32,
                gx,
                1,
                0,
                1,
                0,
                0,
                0,
                0,
                0,
            ];
            let params = params(
                &header,
                &sub,
                &sub,
                &vec![1; sub.len()],
                &leaf,
                &strides,
                &stage.shader,
            );
            let mut bind = self.bindings(&stage.shader, &uploads)?;
            bind.push(&buffer);
            self.gpu
                .dispatch(&stage.shader.text, &bind, &params, groups)?;
            self.phase_end()?;
            self.times.compute += start.elapsed();
            let start = Instant::now();
            let bytes = self.gpu.download(&buffer, count * elem)?;
            let at = slab.0 * row_elems * elem;
            out[at..at + bytes.len()].copy_from_slice(&bytes);
            self.times.download += start.elapsed();
        }
        Ok(out)
    }

    /// Runs a product stage (`a @ b`, NumPy's `matmul`); returns the
    /// product, left on the GPU, compact in C order.
    fn matmul(&mut self, stage: &GpuStage) -> Result<Pooled> {
        match self.product(stage, None)? {
            Product::Kept(buffer) => Ok(buffer),
            Product::Fused(_) | Product::Unfused => Err(Error::internal("GPU product not kept")),
        }
    }

    /// Runs the final stage `last` fused into the product stage `stage`
    /// (`shader`: `codegen::fused_product_shader`); returns the result's
    /// bytes, or `None` when one dispatch cannot bind it all (then the
    /// caller runs the product and the stage one after the other).
    fn fused(
        &mut self,
        last: &GpuStage,
        shader: &Shader,
        stage: &GpuStage,
    ) -> Result<Option<Vec<u8>>> {
        match self.product(stage, Some((last, shader)))? {
            Product::Fused(bytes) => Ok(Some(bytes)),
            Product::Unfused => Ok(None),
            Product::Kept(_) => Err(Error::internal("GPU fused product kept")),
        }
    }

    fn product(
        &mut self,
        stage: &GpuStage,
        fused: Option<(&GpuStage, &Shader)>,
    ) -> Result<Product> {
        let program = self.program;
        let g = &program.graph;
        let root = stage.stage.root;
        let dtype = g.dtype(root);
        let elem = elem_size(dtype);
        let (a, b) = (stage.shader.leaves[0], stage.shader.leaves[1]);
        let start = Instant::now();
        let operand = |id: NodeId| -> Result<(Option<Pooled>, Vec<usize>)> {
            let (source, shape) = self.leaf(id)?;
            let upload = match source {
                Leaf::Host(view) => Some(self.gpu.upload(&compact_bytes(view))),
                Leaf::Device => None,
            };
            Ok((upload, shape))
        };
        let (a_up, ashape) = operand(a)?;
        let (b_up, bshape) = operand(b)?;
        // (n, k) of `a` and (k, m) of `b`, a 1-d operand a row (a column):
        // NumPy's promotion, the added axis absent from the result's shape.
        let (n, k, abatch) = match ashape.as_slice() {
            [k] => (1, *k, &[][..]),
            [batch @ .., n, k] => (*n, *k, batch),
            [] => return Err(Error::internal("GPU matmul of a 0-d operand")),
        };
        let (m, bbatch) = match bshape.as_slice() {
            [_] => (1, &[][..]),
            [batch @ .., _, m] => (*m, batch),
            [] => return Err(Error::internal("GPU matmul of a 0-d operand")),
        };
        let nd = abatch.len().max(bbatch.len());
        let pad = |s: &[usize]| -> Vec<usize> {
            let mut v = vec![1; nd - s.len()];
            v.extend_from_slice(s);
            v
        };
        let (pa, pb) = (pad(abatch), pad(bbatch));
        let batch: Vec<usize> = pa.iter().zip(&pb).map(|(&x, &y)| x.max(y)).collect();
        let batches: usize = batch.iter().product();
        let total = batches * n * m;
        let fits = |v: usize| u32::try_from(v).is_ok();
        let (a_len, b_len): (usize, usize) = (
            pa.iter().product::<usize>() * n * k,
            pb.iter().product::<usize>() * k * m,
        );
        if !fits(total) || !fits(a_len) || !fits(b_len) || !fits(batches.max(1) * 2) {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("a GPU matrix product of {total} elements from operands of {a_len} and {b_len} is past 2^32 elements"),
            )
            .with_help("use the JIT backend (the default) for this expression"));
        }
        // Each batch entry's matrices: offsets in elements (a broadcast
        // axis of length 1 stays at 0).
        let mut offs: Vec<u32> = Vec::with_capacity(2 * batches.max(1));
        let mut index = vec![0usize; nd];
        for _ in 0..batches.max(1) {
            let (mut oa, mut ob, mut sa, mut sb) = (0usize, 0usize, n * k, k * m);
            for d in (0..nd).rev() {
                if pa[d] != 1 {
                    oa += index[d] * sa;
                }
                if pb[d] != 1 {
                    ob += index[d] * sb;
                }
                sa *= pa[d];
                sb *= pb[d];
            }
            offs.extend([oa as u32, ob as u32]);
            for d in (0..nd).rev() {
                index[d] += 1;
                if index[d] < batch[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        let offs_bytes: Vec<u8> = offs.iter().flat_map(|w| w.to_le_bytes()).collect();
        let offs = self.gpu.upload(&offs_bytes);
        // Storage bindings may not be empty: a zero-sized operand or result
        // binds one element that is never read or written.
        let empty = self.gpu.upload(&vec![0u8; elem]);
        for bytes in [
            (total * elem) as u64,
            (a_len * gpu_size(g, a)) as u64,
            (b_len * gpu_size(g, b)) as u64,
        ] {
            if bytes > self.limit {
                return Err(Error::new(
                    ErrorKind::Limit,
                    format!(
                        "a GPU buffer of {bytes} bytes exceeds the device's binding limit of {} bytes",
                        self.limit
                    ),
                )
                .with_help("use the JIT backend (the default) for this expression"));
            }
        }
        self.phase_end()?;
        self.times.upload += start.elapsed();
        if total == 0 {
            return Ok(match fused {
                Some(_) => Product::Unfused,
                None => Product::Kept(self.gpu.storage(elem as u64)),
            });
        }
        let start = Instant::now();
        let tile = codegen::MATMUL_TILE as usize;
        let (tiles_n, tiles_m) = (n.div_ceil(tile), m.div_ceil(tile));
        let groups = (batches * tiles_n * tiles_m) as u64;
        let (gx, _) = self.gpu.grid(groups)?;
        let (sa_i, sa_k) = if ashape.len() == 1 { (0, 1) } else { (k, 1) };
        let (sb_k, sb_j) = if bshape.len() == 1 { (1, 0) } else { (m, 1) };
        let words = [
            n,
            k,
            m,
            batches,
            tiles_m,
            tiles_n * tiles_m,
            gx as usize,
            sa_i,
            sa_k,
            sb_k,
            sb_j,
            0,
        ];
        let params: Vec<u8> = words
            .iter()
            .flat_map(|&w| (w as u32).to_le_bytes())
            .collect();
        fn pick<'b>(
            up: &'b Option<Pooled>,
            kept: Option<&'b Pooled>,
            empty: &'b Pooled,
            len: usize,
        ) -> Result<&'b wgpu::Buffer> {
            if len == 0 {
                return Ok(empty);
            }
            up.as_ref()
                .or(kept)
                .map(|b| &**b)
                .ok_or_else(|| Error::internal("GPU product operand missing"))
        }
        if let Some((last, shader)) = fused {
            // The stage's other leaves and its uniform, over its shape (the
            // product's), in one slab.
            let shape = self.shapes.of(last.stage.root).to_vec();
            check_dims(&shape)?;
            let out_elem = elem_size(g.dtype(last.stage.root));
            let (fixed, mut per_row) = self.leaf_sizes(shader, &shape)?;
            let rows = shape.first().copied().unwrap_or(1).max(1);
            per_row.push((total / rows * out_elem) as u64);
            let slabs = self.slabs(&shape, &fixed, &per_row)?;
            if slabs.len() != 1 {
                return Ok(Product::Unfused);
            }
            let mut uploads = Vec::new();
            let (leaf, strides) = self.bind_leaves(shader, &shape, slabs[0], &mut uploads)?;
            let result = self.gpu.storage((total * out_elem) as u64);
            let mmp = self.gpu.upload(&params);
            let header = [
                total as u32,
                0,
                shape.len() as u32,
                1,
                1,
                0,
                1,
                0,
                0,
                0,
                0,
                0,
            ];
            let uniform = self::params(
                &header,
                &shape,
                &shape,
                &vec![1; shape.len()],
                &leaf,
                &strides,
                shader,
            );
            let start = Instant::now();
            let mut bind = self.bindings(shader, &uploads)?;
            bind.push(&result);
            bind.push(pick(&a_up, self.reduced.get(&a), &empty, a_len)?);
            bind.push(pick(&b_up, self.reduced.get(&b), &empty, b_len)?);
            bind.push(&offs);
            bind.push(&mmp);
            self.gpu.dispatch(&shader.text, &bind, &uniform, groups)?;
            self.phase_end()?;
            self.times.compute += start.elapsed();
            let start = Instant::now();
            let bytes = self.gpu.download(&result, total * out_elem)?;
            self.times.download += start.elapsed();
            return Ok(Product::Fused(bytes));
        }
        let out = self.gpu.storage((total * elem) as u64);
        let bind = [
            pick(&a_up, self.reduced.get(&a), &empty, a_len)?,
            pick(&b_up, self.reduced.get(&b), &empty, b_len)?,
            &offs,
            &out,
        ];
        self.gpu
            .dispatch(&stage.shader.text, &bind, &params, groups)?;
        self.phase_end()?;
        self.times.compute += start.elapsed();
        Ok(Product::Kept(out))
    }

    /// Runs a reduction stage; returns its result, left on the GPU.
    fn reduce(&mut self, stage: &GpuStage, r: NodeId) -> Result<Pooled> {
        let g = &self.program.graph;
        let Node::Reduce(op, operand, axis) = g.node(r) else {
            return Err(Error::internal("GPU stage reduce is not a reduction"));
        };
        let shape = self.shapes.of(stage.stage.root).to_vec();
        check_dims(&shape)?;
        let ndim = shape.len();
        // The result's shape keeps the reduced axis (as 1); a full reduction is 0-d.
        let kept = match axis {
            None => vec![1; ndim],
            Some(_) => self.shapes.of(r).to_vec(),
        };
        let red: Vec<usize> = (0..ndim)
            .map(|d| if kept[d] == 1 { shape[d] } else { 1 })
            .collect();
        let kept: Vec<usize> = (0..ndim)
            .map(|d| {
                if red[d] == 1 || shape[d] == 1 {
                    shape[d]
                } else {
                    1
                }
            })
            .collect();
        let p: usize = kept.iter().product();
        let m: usize = red.iter().product();
        if m == 0 && p > 0 && matches!(op, ReduceOp::Min | ReduceOp::Max) {
            return Err(crate::ir::stage::empty_reduction(self.program, r, op));
        }
        let acc = acc_size(op, g.dtype(operand));
        let result_elem = elem_size(g.dtype(r));
        // Axis 0 reduced (or a 0-d operand): slabs add partials to the same outputs.
        let axis0_reduced = ndim == 0 || red[0] != 1 || shape[0] == 1;
        let rows = shape.first().copied().unwrap_or(1).max(1);
        let (fixed, per_row) = self.leaf_sizes(&stage.shader, &shape)?;
        let result_bytes = (p * result_elem) as u64;
        let mut slabs = if p == 0 || m == 0 {
            vec![(0, shape.first().copied().unwrap_or(1))]
        } else {
            let mut fixed = fixed.clone();
            fixed.push(result_bytes);
            self.slabs(&shape, &fixed, &per_row)?
        };
        if slabs.is_empty() {
            slabs.push((0, 0));
        }
        let short = m <= SHORT_REDUCTION;
        // Workgroups per output in each slab, and where each slab's go.
        let plan: Vec<(usize, usize, u64, u64)> = slabs
            .iter()
            .map(|&(s, e)| {
                let rows_here = e - s;
                let (n, mm, j_base) = if axis0_reduced {
                    (p, m / rows * rows_here, 0)
                } else {
                    (p / rows * rows_here, m, p / rows * s)
                };
                // Short reductions: a thread per output (`chunk` 0), one partial each.
                let groups = if short {
                    1
                } else {
                    (mm as u64).div_ceil(GROUP_ELEMENTS).max(1)
                };
                (n, j_base, groups, mm as u64)
            })
            .collect();
        let groups_total = if axis0_reduced {
            plan.iter().map(|x| x.2).sum::<u64>()
        } else {
            plan.first().map_or(1, |x| x.2)
        };
        let part_bytes = p as u64 * groups_total * acc as u64;
        if part_bytes > self.limit {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("the GPU reduction needs {part_bytes} bytes of partial results, over the binding limit"),
            )
            .with_help("use the JIT backend (the default) for this expression"));
        }
        let partials = self.gpu.storage(part_bytes.max(4));
        let trailing = match axis {
            None => true,
            Some(_) => {
                (0..ndim)
                    .rev()
                    .take_while(|&d| red[d] == 1)
                    .all(|d| shape[d] == 1)
                    && {
                        let k = (0..ndim).find(|&d| red[d] != 1).unwrap_or(ndim);
                        shape[k..]
                            .iter()
                            .enumerate()
                            .all(|(i, &s)| i == 0 || s == 1)
                    }
            }
        };
        let mut g_base = 0u64;
        for (slab, &(n, j_base, groups, mm)) in slabs.iter().zip(&plan) {
            let mut sub = shape.clone();
            let (mut kept_s, mut red_s) = (kept.clone(), red.clone());
            if ndim > 0 {
                sub[0] = slab.1 - slab.0;
                if red_s[0] != 1 {
                    red_s[0] = sub[0];
                } else {
                    kept_s[0] = sub[0];
                }
            }
            let mut uploads = Vec::new();
            let (leaf, strides) = self.bind_leaves(&stage.shader, &shape, *slab, &mut uploads)?;
            let start = Instant::now();
            let total = if short {
                (n as u64).div_ceil(u64::from(WORKGROUP))
            } else {
                n as u64 * groups
            };
            let (gx, _) = self.gpu.grid(total)?;
            let header = [
                n as u32,
                mm as u32,
                ndim as u32,
                gx,
                groups as u32,
                if short { 0 } else { GROUP_ELEMENTS as u32 },
                groups_total as u32,
                u32::from(trailing),
                j_base as u32,
                g_base as u32,
                0,
                0,
            ];
            let params = params(
                &header,
                &sub,
                &kept_s,
                &red_s,
                &leaf,
                &strides,
                &stage.shader,
            );
            let mut bind = self.bindings(&stage.shader, &uploads)?;
            bind.push(&partials);
            if n > 0 {
                self.gpu
                    .dispatch(&stage.shader.text, &bind, &params, total)?;
            }
            self.phase_end()?;
            self.times.compute += start.elapsed();
            if axis0_reduced {
                g_base += groups;
            }
        }
        let start = Instant::now();
        let result = self.gpu.storage(result_bytes.max(4));
        if p > 0 {
            let finish = stage
                .finish
                .as_deref()
                .ok_or_else(|| Error::internal("GPU reduction without its finish shader"))?;
            let (gx, _) = self.gpu.grid(p as u64)?;
            let words = [p as u32, groups_total as u32, gx, m as u32];
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            self.gpu
                .dispatch(finish, &[&partials, &result], &bytes, p as u64)?;
        }
        self.phase_end()?;
        self.times.compute += start.elapsed();
        Ok(result)
    }
}

/// The uniform of a stage shader (see `codegen::PARAMS_STRUCT`).
fn params(
    header: &[u32; HEADER_WORDS],
    shape: &[usize],
    kept: &[usize],
    red: &[usize],
    leaf: &[u32],
    strides: &[u32],
    shader: &Shader,
) -> Vec<u8> {
    let mut words: Vec<u32> = header.to_vec();
    for dims in [shape, kept, red] {
        let mut w = [1u32; 8];
        for (d, &s) in dims.iter().enumerate() {
            w[d] = s as u32;
        }
        words.extend_from_slice(&w);
    }
    words.extend_from_slice(leaf);
    words.extend_from_slice(strides);
    let mut consts = shader.consts.clone();
    consts.resize(shader.consts.len().div_ceil(4).max(1) * 4, 0);
    words.extend_from_slice(&consts);
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Whether a leaf of shape `lshape` runs along axis 0 of the stage shape
/// `shape` (so slabs slice it), rather than broadcasting along it.
fn spans_axis0(lshape: &[usize], shape: &[usize]) -> bool {
    lshape.len() == shape.len() && !shape.is_empty() && lshape[0] == shape[0] && shape[0] > 1
}

fn check_dims(shape: &[usize]) -> Result<()> {
    if shape.len() > MAX_DIMS {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("the GPU backend handles at most {MAX_DIMS} dimensions"),
        )
        .with_help("use the JIT backend (the default) for this expression"));
    }
    if shape.iter().map(|&d| d as u64).product::<u64>() > u64::from(u32::MAX) {
        return Err(Error::new(
            ErrorKind::Limit,
            "the GPU backend indexes at most 2^32 - 1 elements",
        )
        .with_help("use the JIT backend (the default) for this expression"));
    }
    Ok(())
}

/// Bytes per element of a result kept on the GPU (reductions, products):
/// bool, the narrow integers and float16 take a 32-bit word.
fn elem_size(d: DType) -> usize {
    d.size().max(4)
}

/// Bytes per element as uploaded and as a final stage writes them: packed
/// for the narrow integers and float16 (see `codegen`), bool a `u32`.
fn host_size(d: DType) -> usize {
    if d == DType::Bool { 4 } else { d.size() }
}

/// Bytes per element of leaf (or product operand) `id` on the GPU.
fn gpu_size(g: &crate::ir::graph::Graph, id: NodeId) -> usize {
    if codegen::leaf_packed(g, id) {
        host_size(g.dtype(id))
    } else {
        elem_size(g.dtype(id))
    }
}

/// Words of one element each (a kept result) as `dtype`'s packed bytes:
/// each word's low bytes.
fn pack_words(dtype: DType, bytes: Vec<u8>) -> Vec<u8> {
    let size = host_size(dtype);
    if size >= 4 {
        return bytes;
    }
    bytes
        .chunks_exact(4)
        .flat_map(|w| w[..size].iter().copied())
        .collect()
}

fn acc_size(op: ReduceOp, operand: DType) -> usize {
    match op {
        ReduceOp::Any | ReduceOp::All => 4,
        _ => elem_size(operand),
    }
}

/// The elements of `view` in C order as little-endian bytes (bool as u32).
fn compact_bytes(view: &ArrayView<'_>) -> Vec<u8> {
    each!(ArrayView, view, a => le_bytes(a.iter().copied()))
}

/// Rows `[start, end)` of axis 0 of `view`, as [`compact_bytes`].
fn slab_bytes(view: &ArrayView<'_>, (start, end): Slab) -> Vec<u8> {
    use ndarray::{Axis, Slice};
    each!(ArrayView, view, a => {
        le_bytes(a.slice_axis(Axis(0), Slice::from(start..end)).iter().copied())
    })
}

fn le_bytes<T: Element>(values: impl ExactSizeIterator<Item = T>) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 8);
    for v in values {
        v.put(&mut out);
    }
    out
}

/// An element's little-endian bytes on the GPU (bool as `u32`).
trait Element: Copy {
    fn put(self, out: &mut Vec<u8>);
}

macro_rules! element {
    ($($t:ty),*) => {$(
        impl Element for $t {
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
element!(
    i32,
    i64,
    f32,
    f64,
    i8,
    i16,
    u8,
    u16,
    u32,
    u64,
    crate::types::f16
);

/// Complex as `vec2`: the real part, then the imaginary part (NumPy's layout).
impl<T: Element> Element for num_complex::Complex<T> {
    fn put(self, out: &mut Vec<u8>) {
        self.re.put(out);
        self.im.put(out);
    }
}

impl Element for bool {
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&u32::from(self).to_le_bytes());
    }
}

fn from_bytes(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Array> {
    let dim = ndarray::IxDyn(shape);
    let wrap = |e: ndarray::ShapeError| Error::internal(format!("GPU result shape: {e}"));
    let w4 = || bytes.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]);
    let w8 = || {
        bytes
            .chunks_exact(8)
            .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
    };
    let w2 = || bytes.chunks_exact(2).map(|c| [c[0], c[1]]);
    macro_rules! array {
        ($variant:ident, $words:expr, $t:ty) => {
            Array::$variant(
                ndarray::ArrayD::from_shape_vec(dim, $words.map(<$t>::from_le_bytes).collect())
                    .map_err(wrap)?,
            )
        };
    }
    Ok(match dtype {
        DType::Int8 => array!(Int8, bytes.iter().map(|&b| [b]), i8),
        DType::UInt8 => array!(UInt8, bytes.iter().map(|&b| [b]), u8),
        DType::Int16 => array!(Int16, w2(), i16),
        DType::UInt16 => array!(UInt16, w2(), u16),
        DType::Float16 => array!(Float16, w2(), crate::types::f16),
        DType::UInt32 => array!(UInt32, w4(), u32),
        DType::UInt64 => array!(UInt64, w8(), u64),
        DType::Float32 => Array::Float32(
            ndarray::ArrayD::from_shape_vec(dim, w4().map(f32::from_le_bytes).collect())
                .map_err(wrap)?,
        ),
        DType::Int32 => Array::Int32(
            ndarray::ArrayD::from_shape_vec(dim, w4().map(i32::from_le_bytes).collect())
                .map_err(wrap)?,
        ),
        DType::Bool => Array::Bool(
            ndarray::ArrayD::from_shape_vec(
                dim,
                w4().map(|w| u32::from_le_bytes(w) != 0).collect(),
            )
            .map_err(wrap)?,
        ),
        DType::Float64 => Array::Float64(
            ndarray::ArrayD::from_shape_vec(dim, w8().map(f64::from_le_bytes).collect())
                .map_err(wrap)?,
        ),
        DType::Int64 => Array::Int64(
            ndarray::ArrayD::from_shape_vec(dim, w8().map(i64::from_le_bytes).collect())
                .map_err(wrap)?,
        ),
        // Refused when the shaders are generated (`codegen::check_dtype`).
        other => {
            return Err(Error::internal(format!("a GPU result of dtype {other}")));
        }
    })
}
