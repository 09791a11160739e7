//! Lowering one elementwise stage of the optimized IR to a Cranelift function.
//!
//! Kernel ABI (all offsets in bytes):
//!
//! ```text
//! extern "C" fn(inputs: *const *const u8, strides: *const isize,
//!               out: *mut u8, out_stride: isize, n: usize)
//! ```
//!
//! For `i` in `0..n`, the kernel reads leaf `k` at `inputs[k] + i*strides[k]`,
//! computes the stage's root and writes it at `out + i*out_stride`. Leaves are
//! the stage's inputs and the results of earlier reductions, in the order of
//! `ir::stage::stage_leaves`. Every operation is lowered to inline Cranelift IR with
//! the exact semantics of `ir::scalar`, or to a call of the routine in
//! `runtime` that implements it; so kernels equal the interpreter bit for bit.

use std::collections::{HashMap, HashSet};

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    AbiParam, FuncRef, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value, types,
};
use cranelift_codegen::ir::{Function, UserFuncName};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};

use crate::backend::jit::plan::{AotStep, StagePlan};
use crate::backend::jit::runtime::{self, Routine, clif_type, routine_id};
use crate::backend::jit::{aot, library, vector};
use crate::error::{Error, Result};
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::op::{BinaryOp, UnaryOp};
use crate::types::{DType, Scalar};

/// Defines the kernel for the stage of `plan` in `module` and returns its id
/// and the bytes of stack its frame takes (which grow with the stage: spilled
/// values, the blocked loop's buffers; see `call::KernelSig::frame`).
pub fn define_kernel(
    module: &mut JITModule,
    routines: &mut HashMap<&'static str, FuncId>,
    program: &Program,
    plan: &StagePlan,
    name: &str,
    listing: Option<&mut Vec<String>>,
) -> Result<(FuncId, usize)> {
    let root = plan.root;
    // A joint complex kernel: both parts computed, stored as pairs.
    let complex = vector::complex_root(program, root);
    let ptr = module.target_config().pointer_type();
    // inputs, strides, out, out_stride, n.
    let (id, mut func) = declare(module, name)?;
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let mut refs: HashMap<&'static str, FuncRef> = HashMap::new();
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let header = b.create_block();
        b.append_block_param(header, ptr);
        let body = b.create_block();
        let exit = b.create_block();

        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let (inputs, strides, out, out_stride, n) =
            (params[0], params[1], params[2], params[3], params[4]);
        let flags = MemFlagsData::trusted();
        let leaves = &plan.leaves;
        let mut leaf_base = Vec::new();
        for k in 0..leaves.len() {
            let off = (k * 8) as i32;
            leaf_base.push((
                b.ins().load(ptr, flags, inputs, off),
                b.ins().load(ptr, flags, strides, off),
            ));
        }
        let zero = b.ins().iconst(ptr, 0);
        match plan.lanes {
            Some(lanes) => {
                // Vector loop over [0, nv) when every leaf is contiguous or
                // uniform (stride 0: a broadcast value, splatted) and the output
                // is contiguous; the scalar loop below finishes [nv, n). Each
                // iteration does UNROLL independent vectors. A leaf's stride
                // is 0 or its size iff `stride & !size == 0` (sizes are powers
                // of two): OR-ed over the leaves and tested once.
                let out_size = program.graph.dtype(root).size() as i64;
                let mut bad = b.ins().bxor_imm_s(out_stride, out_size);
                let mut leaves_bad = b.ins().iconst(ptr, 0);
                let mut uniform = Vec::new();
                // Pairs: a float leaf (or the output) of the lanes' dtype
                // may also have a stride of two elements (a part of a
                // complex array, `ir::split`): read deinterleaved, written
                // lane by lane. Only in a loop without vector math (whose
                // bits the interpreted tier must know the loop of): a plain
                // one, or one blocked around exact routines only. A complex
                // root (`vector::complex_root`) is stored as whole pairs.
                let pairs = !plan.vector_math
                    && plan.exact_steps_only()
                    && !lanes.is_int()
                    && matches!(lanes.float, DType::Float32 | DType::Float64)
                    && (program.graph.dtype(root) == lanes.float || complex.is_some());
                let mut pair = Vec::new();
                for (k, &leaf) in leaves.iter().enumerate() {
                    let dtype = program.graph.dtype(leaf);
                    let size = dtype.size() as i64;
                    let stride = leaf_base[k].1;
                    let mut other = b.ins().band_imm_s(stride, !size);
                    if pairs && dtype == lanes.float {
                        let is_pair = b.ins().icmp_imm_s(IntCC::Equal, stride, 2 * size);
                        // 0 when the stride is two elements.
                        let zero = b.ins().iconst(ptr, 0);
                        other = b.ins().select(is_pair, zero, other);
                        pair.push(Some(is_pair));
                    } else {
                        pair.push(None);
                    }
                    bad = b.ins().bor(bad, other);
                    leaves_bad = b.ins().bor(leaves_bad, other);
                    uniform.push(b.ins().icmp_imm_s(IntCC::Equal, leaf_base[k].1, 0));
                }
                let out_pair = if pairs && complex.is_none() {
                    // The output's test again, passing a stride of two elements.
                    let is_pair = b.ins().icmp_imm_s(IntCC::Equal, out_stride, 2 * out_size);
                    let out_bad = b.ins().bxor_imm_s(out_stride, out_size);
                    let zero = b.ins().iconst(ptr, 0);
                    let out_bad = b.ins().select(is_pair, zero, out_bad);
                    bad = b.ins().bor(leaves_bad, out_bad);
                    Some(is_pair)
                } else {
                    None
                };
                let ok = b.ins().icmp_imm_s(IntCC::Equal, bad, 0);
                // Math-heavy bodies are long enough to keep the FMA units
                // busy on their own; unrolling them only doubles compile time.
                // A boolean result is stored eight bytes at a time (see
                // `store_bools`): as many vectors as make eight lanes.
                let bools = !plan.vector_math && program.graph.dtype(root) == DType::Bool;
                let unroll = if plan.vector_math {
                    1
                } else if bools {
                    8 / i64::from(lanes.count)
                } else {
                    UNROLL
                };
                let w = i64::from(lanes.count) * unroll;
                let whole = b.ins().band_imm_s(n, -w);
                let nv = b.ins().select(ok, whole, zero);
                let vpre = b.create_block();
                let vheader = b.create_block();
                let vbody = b.create_block();
                let any = b.ins().icmp_imm_s(IntCC::NotEqual, nv, 0);
                b.ins().brif(any, vpre, &[], header, &[zero.into()]);
                // Runs only when nv > 0, so every leaf has an element to read.
                b.switch_to_block(vpre);
                // (The passes of a blocked loop read PASS_UNROLL vectors.)
                let (splats, bases) = vector_bases(
                    &mut b,
                    program,
                    plan,
                    lanes,
                    (&leaf_base, &uniform),
                    unroll.max(PASS_UNROLL),
                );
                let uniform_leaves = UniformLeaves {
                    is_uniform: &uniform,
                    splats: &splats,
                    bases: &bases,
                };
                if !plan.levels.is_empty() {
                    let mut cx = Emit {
                        b: &mut b,
                        module: &mut *module,
                        routines: &mut *routines,
                        refs: &mut refs,
                        program,
                        plan,
                    };
                    cx.blocked_loop(
                        &leaf_base,
                        (out, nv, header),
                        lanes,
                        &uniform_leaves,
                        (&pair, out_pair, out_stride),
                    )?;
                } else {
                    // Every leaf has a pointer that advances by its stride
                    // times the iteration's width (0 for a uniform leaf, which
                    // stays on its slot), and so does the output: the loads
                    // and stores address [pointer + constant], with no index
                    // arithmetic, and the loop ends at the output's end.
                    let mut steps = Vec::new();
                    let mut start = Vec::new();
                    for (k, &base) in bases.iter().enumerate() {
                        steps.push(b.ins().imul_imm_s(leaf_base[k].1, w));
                        start.push(base.into());
                        b.append_block_param(vheader, ptr);
                    }
                    // (The output's stride is its size, or two sizes for pairs.)
                    let out_len = b.ins().imul(nv, out_stride);
                    let out_end = b.ins().iadd(out, out_len);
                    start.push(out.into());
                    b.append_block_param(vheader, ptr);
                    b.ins().jump(vheader, &start);
                    b.switch_to_block(vheader);
                    let params = b.block_params(vheader).to_vec();
                    let (pointers, po) = (&params[..leaves.len()], params[leaves.len()]);
                    let more = b.ins().icmp(IntCC::UnsignedLessThan, po, out_end);
                    b.ins().brif(more, vbody, &[], header, &[nv.into()]);
                    b.switch_to_block(vbody);
                    let mut cx = Emit {
                        b: &mut b,
                        module: &mut *module,
                        routines: &mut *routines,
                        refs: &mut refs,
                        program,
                        plan,
                    };
                    if bools {
                        let masks = (0..unroll)
                            .map(|u| cx.vector_value((pointers, (16 * u) as i32), lanes))
                            .collect::<Result<Vec<Value>>>()?;
                        store_bools(cx.b, &masks, po);
                    } else if pair.iter().any(Option::is_some)
                        || out_pair.is_some()
                        || complex.is_some()
                    {
                        for u in 0..unroll {
                            let at = (pointers, (16 * u) as i32);
                            let (root, im) = cx.vector_value_pairs(at, &pair, lanes)?;
                            let off = (u * i64::from(lanes.count) * out_size) as i32;
                            match im {
                                Some(im) => store_interleaved(cx.b, [root, im], (po, off), lanes),
                                None => store_maybe_pairs(cx.b, root, (po, off), out_pair, lanes),
                            }
                        }
                    } else {
                        for u in 0..unroll {
                            let dst = (po, (u * i64::from(lanes.count) * out_size) as i32);
                            cx.vector_body((pointers, (16 * u) as i32), dst, lanes)?;
                        }
                    }
                    let mut next: Vec<_> = pointers
                        .iter()
                        .zip(&steps)
                        .map(|(&p, &step)| b.ins().iadd(p, step).into())
                        .collect();
                    let out_step = b.ins().imul_imm_s(out_stride, w);
                    next.push(b.ins().iadd(po, out_step).into());
                    b.ins().jump(vheader, &next);
                }
            }
            None => {
                b.ins().jump(header, &[zero.into()]);
            }
        }

        b.switch_to_block(header);
        let i = b.block_params(header)[0];
        let more = b.ins().icmp(IntCC::UnsignedLessThan, i, n);
        b.ins().brif(more, body, &[], exit, &[]);

        b.switch_to_block(body);
        let mut vals: HashMap<NodeId, Value> = HashMap::new();
        for (k, &leaf) in leaves.iter().enumerate() {
            let (base, stride) = leaf_base[k];
            let off = b.ins().imul(i, stride);
            let addr = b.ins().iadd(base, off);
            let ty = clif_type(program.graph.dtype(leaf));
            vals.insert(leaf, b.ins().load(ty, flags, addr, 0));
        }
        let mut cx = Lower {
            b: &mut b,
            module,
            routines,
            refs: &mut refs,
        };
        let pairs = complex_pairs(program, plan);
        for &id in &plan.nodes {
            if vals.contains_key(&id) || (complex.is_some() && id == root) {
                continue;
            }
            if let Some(&(re, im, routine)) = pairs.get(&id) {
                let (x, y) = pair_operands(program, re);
                let (r, i) = cx.pair(routine, vals[&x], vals[&y])?;
                vals.insert(re, r);
                vals.insert(im, i);
                continue;
            }
            let v = cx.node(program, id, &vals)?;
            vals.insert(id, v);
        }
        let off = b.ins().imul(i, out_stride);
        let addr = b.ins().iadd(out, off);
        match complex {
            // The real part, then the imaginary part after it.
            Some((re, im)) => {
                let size = program.graph.dtype(re).size() as i32;
                b.ins().store(flags, vals[&re], addr, 0);
                b.ins().store(flags, vals[&im], addr, size);
            }
            None => {
                b.ins().store(flags, vals[&root], addr, 0);
            }
        }
        let next = b.ins().iadd_imm_s(i, 1);
        b.ins().jump(header, &[next.into()]);

        b.switch_to_block(exit);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    define(module, id, func, listing)
}

/// For each leaf of a vector loop: its first element splatted to all lanes,
/// and where the loop reads its vectors: its base address, or for a uniform
/// leaf (stride 0) a stack slot holding `copies` copies of the splat. With
/// stride 0 every iteration loads the slot (a 16-byte load at the single
/// element could cross the end of its allocation), with no select; vector
/// u of an iteration is read at offset 16u from the pointer, so `copies`
/// is the most vectors an iteration reads. Every leaf must have an element
/// to read.
fn vector_bases(
    b: &mut FunctionBuilder<'_>,
    program: &Program,
    plan: &StagePlan,
    lanes: vector::Lanes,
    (leaf_base, uniform): (&[(Value, Value)], &[Value]),
    copies: i64,
) -> (Vec<Value>, Vec<Value>) {
    let Some(&(first, _)) = leaf_base.first() else {
        return (Vec::new(), Vec::new());
    };
    let ptr = b.func.dfg.value_type(first);
    let mut splats = Vec::new();
    let mut bases = Vec::new();
    for (k, &leaf) in plan.leaves.iter().enumerate() {
        let ty = clif_type(program.graph.dtype(leaf));
        let first = b.ins().load(ty, MemFlagsData::trusted(), leaf_base[k].0, 0);
        let splat = b.ins().splat(lanes.vector, first);
        splats.push(splat);
        let slot = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            16 * copies as u32,
            4,
        ));
        let at = b.ins().stack_addr(ptr, slot, 0);
        for u in 0..copies {
            b.ins()
                .store(MemFlagsData::trusted(), splat, at, (16 * u) as i32);
        }
        bases.push(b.ins().select(uniform[k], at, leaf_base[k].0));
    }
    (splats, bases)
}

/// Defines the leaf-sum kernel of the stage of `plan` (see
/// `StagePlan::can_sum_leaves`) in `module` and returns its id and frame
/// size (as [`define_kernel`]). Its ABI:
///
/// ```text
/// extern "C" fn(inputs: *const *const u8, strides: *const isize,
///               sums: *mut T, lens: *const u32, count: usize)
/// ```
///
/// The stage's values from index 0 on (leaf `k` read as by the elementwise
/// kernel, every stride 0 or the element size) are cut into `count`
/// consecutive runs of `lens[j]` values, each a non-zero multiple of 8;
/// `sums[j]` is run j's sum as a leaf of NumPy's pairwise sum adds it
/// (`ir::scalar`'s `pairwise!`): eight accumulators start at the first
/// eight values, each adds every eighth value after, and the eight are
/// added as `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`. The values are summed
/// in vector registers as they are computed, never stored.
pub fn define_leaf_sums(
    module: &mut JITModule,
    routines: &mut HashMap<&'static str, FuncId>,
    program: &Program,
    plan: &StagePlan,
    name: &str,
    listing: Option<&mut Vec<String>>,
) -> Result<(FuncId, usize)> {
    let lanes = plan
        .lanes
        .filter(|_| plan.can_sum_leaves(program))
        .ok_or_else(|| Error::internal("leaf sums of a stage without a plain vector loop"))?;
    let ptr = module.target_config().pointer_type();
    // inputs, strides, sums, lens, count.
    let (id, mut func) = declare(module, name)?;
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let mut refs: HashMap<&'static str, FuncRef> = HashMap::new();
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let (inputs, strides, sums, lens, count) =
            (params[0], params[1], params[2], params[3], params[4]);
        let flags = MemFlagsData::trusted();
        let nleaves = plan.leaves.len();
        let mut leaf_base = Vec::new();
        let mut uniform = Vec::new();
        for k in 0..nleaves {
            let off = (k * 8) as i32;
            let base = b.ins().load(ptr, flags, inputs, off);
            let stride = b.ins().load(ptr, flags, strides, off);
            uniform.push(b.ins().icmp_imm_s(IntCC::Equal, stride, 0));
            leaf_base.push((base, stride));
        }
        // Vectors per eight values: one accumulator each.
        let per = 8 / i64::from(lanes.count);
        let (_, bases) = vector_bases(&mut b, program, plan, lanes, (&leaf_base, &uniform), per);
        // A leaf advances by eight of its strides per eight values (a
        // uniform one stays on its slot).
        let steps: Vec<Value> = leaf_base
            .iter()
            .map(|&(_, stride)| b.ins().imul_imm_s(stride, 8))
            .collect();
        let lens_len = b.ins().imul_imm_s(count, 4);
        let lens_end = b.ins().iadd(lens, lens_len);

        // outer(pointers.., sum, len): one run per iteration.
        let outer = b.create_block();
        let first = b.create_block();
        let inner = b.create_block();
        let body = b.create_block();
        let done = b.create_block();
        let exit = b.create_block();
        for _ in 0..nleaves + 2 {
            b.append_block_param(outer, ptr);
        }
        // inner(pointers.., accumulators.., remaining eights)
        for blk in [inner, done] {
            for _ in 0..nleaves {
                b.append_block_param(blk, ptr);
            }
            for _ in 0..per {
                b.append_block_param(blk, lanes.vector);
            }
        }
        b.append_block_param(inner, ptr);
        let mut start: Vec<_> = bases.iter().map(|&v| v.into()).collect();
        start.push(sums.into());
        start.push(lens.into());
        b.ins().jump(outer, &start);

        b.switch_to_block(outer);
        let p = b.block_params(outer).to_vec();
        let (pointers, at_sum, at_len) = (&p[..nleaves], p[nleaves], p[nleaves + 1]);
        let more = b.ins().icmp(IntCC::UnsignedLessThan, at_len, lens_end);
        b.ins().brif(more, first, &[], exit, &[]);

        let mut cx = Emit {
            b: &mut b,
            module: &mut *module,
            routines: &mut *routines,
            refs: &mut refs,
            program,
            plan,
        };
        let advance = |b: &mut FunctionBuilder<'_>, pointers: &[Value]| -> Vec<Value> {
            pointers
                .iter()
                .zip(&steps)
                .map(|(&p, &step)| b.ins().iadd(p, step))
                .collect()
        };
        // The first eight values are the accumulators.
        cx.b.switch_to_block(first);
        let len = cx.b.ins().uload32(flags, at_len, 0);
        let eights = cx.b.ins().ushr_imm_u(len, 3);
        let rest = cx.b.ins().iadd_imm_s(eights, -1);
        let mut args: Vec<_> = advance(cx.b, pointers)
            .into_iter()
            .map(Into::into)
            .collect();
        for u in 0..per {
            args.push(cx.vector_value((pointers, (16 * u) as i32), lanes)?.into());
        }
        args.push(rest.into());
        cx.b.ins().jump(inner, &args);

        // Every eight values after: accumulator u adds vector u.
        cx.b.switch_to_block(inner);
        let p = cx.b.block_params(inner).to_vec();
        let (pointers, accs, rest) = (
            &p[..nleaves],
            &p[nleaves..nleaves + per as usize],
            p[p.len() - 1],
        );
        let any = cx.b.ins().icmp_imm_s(IntCC::NotEqual, rest, 0);
        let carried: Vec<_> = p[..p.len() - 1].iter().map(|&v| v.into()).collect();
        cx.b.ins().brif(any, body, &[], done, &carried);
        cx.b.switch_to_block(body);
        let mut args: Vec<_> = advance(cx.b, pointers)
            .into_iter()
            .map(Into::into)
            .collect();
        for (u, &acc) in accs.iter().enumerate() {
            let v = cx.vector_value((pointers, (16 * u) as i32), lanes)?;
            args.push(cx.b.ins().fadd(acc, v).into());
        }
        args.push(cx.b.ins().iadd_imm_s(rest, -1).into());
        cx.b.ins().jump(inner, &args);

        // The eight accumulators, added as a tree; the next run.
        cx.b.switch_to_block(done);
        let p = cx.b.block_params(done).to_vec();
        let (pointers, accs) = (&p[..nleaves], &p[nleaves..]);
        let fb = &mut *cx.b;
        let mut r = Vec::new();
        for &acc in accs {
            for lane in 0..lanes.count {
                r.push(fb.ins().extractlane(acc, lane));
            }
        }
        let pair = |b: &mut FunctionBuilder<'_>, i: usize, j: usize| b.ins().fadd(r[i], r[j]);
        let (s01, s23, s45, s67) = (
            pair(fb, 0, 1),
            pair(fb, 2, 3),
            pair(fb, 4, 5),
            pair(fb, 6, 7),
        );
        let (lo, hi) = (fb.ins().fadd(s01, s23), fb.ins().fadd(s45, s67));
        let total = fb.ins().fadd(lo, hi);
        fb.ins().store(flags, total, at_sum, 0);
        let size = lanes.float.size() as i64;
        let mut next: Vec<_> = pointers.iter().map(|&v| v.into()).collect();
        next.push(fb.ins().iadd_imm_s(at_sum, size).into());
        next.push(fb.ins().iadd_imm_s(at_len, 4).into());
        fb.ins().jump(outer, &next);

        b.switch_to_block(exit);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    define(module, id, func, listing)
}

/// Declares a kernel `name` taking five pointer-sized arguments (both
/// kernel ABIs) and makes its empty function.
fn declare(module: &mut JITModule, name: &str) -> Result<(FuncId, Function)> {
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.extend([AbiParam::new(ptr); 5]);
    let id = module
        .declare_function(name, cranelift_module::Linkage::Local, &sig)
        .map_err(|e| Error::internal(format!("JIT declare: {e}")))?;
    let func = Function::with_name_signature(UserFuncName::user(0, id.as_u32()), sig);
    Ok((id, func))
}

/// Appends `func`'s text to `listing` if given and defines it as `id`;
/// returns `id` and the bytes of stack its frame takes.
fn define(
    module: &mut JITModule,
    id: FuncId,
    func: Function,
    listing: Option<&mut Vec<String>>,
) -> Result<(FuncId, usize)> {
    if let Some(listing) = listing {
        listing.push(func.display().to_string());
    }
    let mut ctx = module.make_context();
    ctx.func = func;
    module
        .define_function(id, &mut ctx)
        .map_err(|e| Error::internal(format!("JIT define: {e:?}")))?;
    let frame = ctx
        .compiled_code()
        .and_then(|code| code.buffer.frame_layout())
        .map_or(0, |layout| layout.frame_to_fp_offset as usize);
    Ok((id, frame))
}

/// Vectors per vector-loop iteration (for stages without vector math).
const UNROLL: i64 = 2;

/// Vectors per iteration of a blocked loop's passes (the arithmetic around
/// the AOT routines: short bodies, where the loop's own instructions cost
/// as much as the work).
const PASS_UNROLL: i64 = 4;

/// Per-leaf facts the vector loop needs for stride-0 (broadcast) leaves.
struct UniformLeaves<'a> {
    /// `stride == 0`, one flag per leaf.
    is_uniform: &'a [Value],
    /// The leaf's first element splatted to all lanes.
    splats: &'a [Value],
    /// Where the vector loop reads leaf k: its base address, or for a
    /// uniform leaf a stack slot holding its splat (read with stride 0).
    bases: &'a [Value],
}

/// What the emitting functions of one kernel share: the function being
/// built, the module and the routines declared in it and in the function,
/// the program and the stage's plan.
struct Emit<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    module: &'a mut JITModule,
    routines: &'a mut HashMap<&'static str, FuncId>,
    refs: &'a mut HashMap<&'static str, FuncRef>,
    program: &'a Program,
    plan: &'a StagePlan,
}

impl Emit<'_, '_> {
    /// The body of the vector loop: loads one vector of every leaf (leaf `k`
    /// at `pointers[k] + offset`), computes the root, stores it at `dst`.
    fn vector_body(
        &mut self,
        at: (&[Value], i32),
        dst: (Value, i32),
        lanes: vector::Lanes,
    ) -> Result<()> {
        let root = self.vector_value(at, lanes)?;
        let dtype = self.program.graph.dtype(self.plan.root);
        store_vector(self.b, root, dst, dtype, lanes);
        Ok(())
    }

    /// Loads one vector of every leaf (leaf `k` at `pointers[k] + offset`)
    /// and computes the root's vector.
    fn vector_value(
        &mut self,
        (pointers, offset): (&[Value], i32),
        lanes: vector::Lanes,
    ) -> Result<Value> {
        let plan = self.plan;
        // Not `aligned`: element arrays are only element-aligned.
        let flags = MemFlagsData::new().with_notrap();
        let mut vals: HashMap<NodeId, Value> = HashMap::new();
        for (&leaf, &p) in plan.leaves.iter().zip(pointers) {
            vals.insert(leaf, self.b.ins().load(lanes.vector, flags, p, offset));
        }
        self.lower_vector_nodes(
            &plan.nodes,
            &mut vals,
            lanes,
            (plan.fast_math, plan.inline_math),
        )?;
        Ok(vals[&plan.root])
    }

    /// [`Emit::vector_value`] where leaf `k` may be a run of pairs
    /// (`pair[k]` set at run time: its stride is two elements, a part of a
    /// complex array): two vectors from `2 * offset` on, their even lanes.
    /// For a complex root (`vector::complex_root`): its real part's vector
    /// and `Some` of its imaginary part's.
    fn vector_value_pairs(
        &mut self,
        (pointers, offset): (&[Value], i32),
        pair: &[Option<Value>],
        lanes: vector::Lanes,
    ) -> Result<(Value, Option<Value>)> {
        let plan = self.plan;
        let flags = MemFlagsData::new().with_notrap();
        let little = MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little);
        // The elements are two apart: `lo` holds the first half of them,
        // `hi` (from 16 - size bytes further) the second half, and both end
        // by the last element's end (nothing read past it). The byte
        // indices of the elements in (lo, hi):
        let size = lanes.float.size() as i32;
        let pick: Vec<u8> = match lanes.count {
            2 => (0..8).chain(24..32).collect(),
            _ => (0..4).chain(8..12).chain(20..24).chain(28..32).collect(),
        };
        let pick = self
            .b
            .func
            .dfg
            .immediates
            .push(cranelift_codegen::ir::ConstantData::from(pick));
        let mut vals: HashMap<NodeId, Value> = HashMap::new();
        for ((&leaf, &p), &is_pair) in plan.leaves.iter().zip(pointers).zip(pair) {
            let v = match is_pair {
                None => self.b.ins().load(lanes.vector, flags, p, offset),
                Some(is_pair) => {
                    let b = &mut *self.b;
                    let (pairs, plain, join) =
                        (b.create_block(), b.create_block(), b.create_block());
                    b.append_block_param(join, lanes.vector);
                    b.ins().brif(is_pair, pairs, &[], plain, &[]);
                    b.switch_to_block(pairs);
                    let lo = b.ins().load(types::I8X16, flags, p, 2 * offset);
                    let hi = b.ins().load(types::I8X16, flags, p, 2 * offset + 16 - size);
                    let even = b.ins().shuffle(lo, hi, pick);
                    let even = b.ins().bitcast(lanes.vector, little, even);
                    b.ins().jump(join, &[even.into()]);
                    b.switch_to_block(plain);
                    let v = b.ins().load(lanes.vector, flags, p, offset);
                    b.ins().jump(join, &[v.into()]);
                    b.switch_to_block(join);
                    b.block_params(join)[0]
                }
            };
            vals.insert(leaf, v);
        }
        let complex = vector::complex_root(self.program, plan.root);
        let nodes: Vec<NodeId> = match complex {
            Some(_) => plan
                .nodes
                .iter()
                .copied()
                .filter(|&n| n != plan.root)
                .collect(),
            None => plan.nodes.clone(),
        };
        self.lower_vector_nodes(&nodes, &mut vals, lanes, (plan.fast_math, plan.inline_math))?;
        Ok(match complex {
            Some((re, im)) => (vals[&re], Some(vals[&im])),
            None => (vals[&plan.root], None),
        })
    }

    /// Lowers `nodes` (in topological order) on vectors, skipping those already
    /// in `vals` and adding the others to it. `math` is (fast_math, inline_math).
    fn lower_vector_nodes(
        &mut self,
        nodes: &[NodeId],
        vals: &mut HashMap<NodeId, Value>,
        lanes: vector::Lanes,
        (fast_math, inline_math): (bool, bool),
    ) -> Result<()> {
        let pairs = complex_pairs(self.program, self.plan);
        let Emit {
            b,
            module,
            routines,
            refs,
            program,
            ..
        } = self;
        // The pair routines' references, declared before `resolve` holds
        // the module.
        let mut pair_refs: HashMap<&'static str, FuncRef> = HashMap::new();
        for &(_, _, routine) in pairs.values() {
            if pair_refs.contains_key(routine.symbol) {
                continue;
            }
            let fref = match refs.get(routine.symbol) {
                Some(&r) => r,
                None => {
                    let fid = runtime::pair_routine_id(module, routines, routine)?;
                    let r = module.declare_func_in_func(fid, b.func);
                    refs.insert(routine.symbol, r);
                    r
                }
            };
            pair_refs.insert(routine.symbol, fref);
        }
        let mut library_refs: HashMap<String, FuncRef> = HashMap::new();
        let mut resolve =
            |b: &mut FunctionBuilder<'_>, key: vector::RoutineKey| -> Result<FuncRef> {
                let routine = match key {
                    vector::RoutineKey::Unary(op, d) => runtime::unary_routine(op, d),
                    vector::RoutineKey::Binary(op, d) => runtime::binary_routine(op, d),
                    vector::RoutineKey::Library(f) => {
                        // A vector-math library function, resolved at finalize time.
                        let symbol = library::request(f);
                        if let Some(&r) = library_refs.get(&symbol) {
                            return Ok(r);
                        }
                        let mut sig = module.make_signature();
                        for _ in 0..f.arity() {
                            sig.params.push(AbiParam::new(f.ty()));
                        }
                        sig.returns.push(AbiParam::new(f.ty()));
                        let fid = module
                            .declare_function(&symbol, cranelift_module::Linkage::Import, &sig)
                            .map_err(|e| Error::internal(format!("JIT declare {symbol}: {e}")))?;
                        let r = module.declare_func_in_func(fid, b.func);
                        library_refs.insert(symbol, r);
                        return Ok(r);
                    }
                }
                .ok_or_else(|| Error::internal(format!("no routine for {key:?}")))?;
                if let Some(&r) = refs.get(routine.symbol) {
                    return Ok(r);
                }
                let fid = routine_id(module, routines, routine)?;
                let r = module.declare_func_in_func(fid, b.func);
                refs.insert(routine.symbol, r);
                Ok(r)
            };
        let mut cx = vector::VLower {
            b,
            lanes,
            fast_math,
            inline_math,
            routine: &mut resolve,
        };
        for &id in nodes {
            if vals.contains_key(&id) {
                continue;
            }
            if let Some(&(re, im, routine)) = pairs.get(&id) {
                // Lane by lane, one call for both parts.
                let (x, y) = pair_operands(program, re);
                let (x, y) = (vals[&x], vals[&y]);
                let fref = pair_refs[routine.symbol];
                let (mut r, mut i) = (x, x);
                for lane in 0..lanes.count {
                    let a = cx.b.ins().extractlane(x, lane);
                    let c = cx.b.ins().extractlane(y, lane);
                    let call = cx.b.ins().call(fref, &[a, c]);
                    let (mut pr, mut pi) = (cx.b.inst_results(call)[0], cx.b.inst_results(call)[1]);
                    if lanes.float == DType::Float32 {
                        pr = cx.b.ins().fdemote(types::F32, pr);
                        pi = cx.b.ins().fdemote(types::F32, pi);
                    }
                    r = cx.b.ins().insertlane(r, pr, lane);
                    i = cx.b.ins().insertlane(i, pi, lane);
                }
                vals.insert(re, r);
                vals.insert(im, i);
                continue;
            }
            let v = cx.node(program, id, vals)?;
            vals.insert(id, v);
        }
        Ok(())
    }
}

/// Stores the booleans of `masks` (lane masks of 8 lanes in all: four of
/// two 64-bit lanes or two of four 32-bit lanes) as 8 bytes (0 or 1) at
/// `addr`: the masks narrowed to bytes in vector registers (a shuffle for
/// the 64-bit lanes, then saturating packs) and one 8-byte store, where
/// `store_vector` spends a movmsk, a multiply, a mask and a store on every
/// two or four lanes.
fn store_bools(b: &mut FunctionBuilder<'_>, masks: &[Value], addr: Value) {
    let little = MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little);
    let as_type = |b: &mut FunctionBuilder<'_>, ty: cranelift_codegen::ir::Type, v: Value| {
        if b.func.dfg.value_type(v) == ty {
            v
        } else {
            b.ins().bitcast(ty, little, v)
        }
    };
    // Four-lane 32-bit masks: the 64-bit ones' low halves, two vectors at a time.
    let quads: Vec<Value> = if masks.len() == 4 {
        let pick: Vec<u8> = vec![0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
        let pick = b
            .func
            .dfg
            .immediates
            .push(cranelift_codegen::ir::ConstantData::from(pick));
        masks
            .chunks(2)
            .map(|pair| {
                let x = as_type(b, types::I8X16, pair[0]);
                let y = as_type(b, types::I8X16, pair[1]);
                let s = b.ins().shuffle(x, y, pick);
                as_type(b, types::I32X4, s)
            })
            .collect()
    } else {
        masks.iter().map(|&m| as_type(b, types::I32X4, m)).collect()
    };
    // -1/0 lanes stay -1/0 through the saturating packs.
    let halves = b.ins().snarrow(quads[0], quads[1]);
    let bytes = b.ins().snarrow(halves, halves);
    let one = b.ins().iconst(types::I8, 1);
    let ones = b.ins().splat(types::I8X16, one);
    let bytes = b.ins().band(bytes, ones);
    let words = as_type(b, types::I64X2, bytes);
    let low = b.ins().extractlane(words, 0);
    b.ins()
        .store(MemFlagsData::new().with_notrap(), low, addr, 0);
}

/// Loads a vector of a leaf at `addr + offset` (the offset of a contiguous
/// leaf), or, when `pair` is set at run time, its elements two apart from
/// `addr + 2 * offset` on (a part of a complex array): two loads, their
/// even lanes.
fn load_maybe_pairs(
    b: &mut FunctionBuilder<'_>,
    (addr, offset): (Value, i32),
    pair: Option<Value>,
    lanes: vector::Lanes,
) -> Value {
    let flags = MemFlagsData::new().with_notrap();
    let Some(pair) = pair else {
        return b.ins().load(lanes.vector, flags, addr, offset);
    };
    let little = MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little);
    // As `Emit::vector_value_pairs`: `lo` holds the first half of the
    // elements, `hi` (from 16 - size bytes further) the second half.
    let size = lanes.float.size() as i32;
    let pick: Vec<u8> = match lanes.count {
        2 => (0..8).chain(24..32).collect(),
        _ => (0..4).chain(8..12).chain(20..24).chain(28..32).collect(),
    };
    let pick = b
        .func
        .dfg
        .immediates
        .push(cranelift_codegen::ir::ConstantData::from(pick));
    let (pairs, plain, join) = (b.create_block(), b.create_block(), b.create_block());
    b.append_block_param(join, lanes.vector);
    b.ins().brif(pair, pairs, &[], plain, &[]);
    b.switch_to_block(pairs);
    let lo = b.ins().load(types::I8X16, flags, addr, 2 * offset);
    let hi = b
        .ins()
        .load(types::I8X16, flags, addr, 2 * offset + 16 - size);
    let even = b.ins().shuffle(lo, hi, pick);
    let even = b.ins().bitcast(lanes.vector, little, even);
    b.ins().jump(join, &[even.into()]);
    b.switch_to_block(plain);
    let v = b.ins().load(lanes.vector, flags, addr, offset);
    b.ins().jump(join, &[v.into()]);
    b.switch_to_block(join);
    b.block_params(join)[0]
}

/// Stores a float result vector at `addr + offset` (the offset of a
/// contiguous output), or, when `pair` is set at run time, its lanes one by
/// one two elements apart (a part of a complex array: `offset` doubled).
fn store_maybe_pairs(
    b: &mut FunctionBuilder<'_>,
    result: Value,
    (addr, offset): (Value, i32),
    pair: Option<Value>,
    lanes: vector::Lanes,
) {
    let flags = MemFlagsData::new().with_notrap();
    let Some(pair) = pair else {
        b.ins().store(flags, result, addr, offset);
        return;
    };
    let (by_lane, plain, join) = (b.create_block(), b.create_block(), b.create_block());
    b.ins().brif(pair, by_lane, &[], plain, &[]);
    b.switch_to_block(by_lane);
    let size = lanes.float.size() as i32;
    for lane in 0..lanes.count {
        let x = b.ins().extractlane(result, lane);
        let at = 2 * offset + 2 * size * i32::from(lane);
        b.ins().store(flags, x, addr, at);
    }
    b.ins().jump(join, &[]);
    b.switch_to_block(plain);
    b.ins().store(flags, result, addr, offset);
    b.ins().jump(join, &[]);
    b.switch_to_block(join);
}

/// In a joint complex kernel (`vector::complex_root`): the part operations
/// of one complex function of one argument whose both parts the stage
/// computes (`csqrt_re(x, y)` and `csqrt_im(x, y)`), each mapped to `(re
/// node, im node, the function's pair routine)`, so that the function is
/// computed once (`runtime::pair_routine`). Empty for any other stage.
fn complex_pairs(
    program: &Program,
    plan: &StagePlan,
) -> HashMap<NodeId, (NodeId, NodeId, Routine)> {
    let g = &program.graph;
    let mut out = HashMap::new();
    if vector::complex_root(program, plan.root).is_none() {
        return out;
    }
    for &re in &plan.nodes {
        let Node::Binary(op, x, y) = g.node(re) else {
            continue;
        };
        let Some((f, false)) = op.complex_part() else {
            continue;
        };
        let Some(routine) = runtime::pair_routine(op, g.dtype(x)) else {
            continue;
        };
        let partner = plan.nodes.iter().copied().find(|&im| {
            matches!(g.node(im), Node::Binary(o, a, b)
                if a == x && b == y && o.complex_part() == Some((f, true)))
        });
        if let Some(im) = partner {
            out.insert(re, (re, im, routine));
            out.insert(im, (re, im, routine));
        }
    }
    out
}

/// The operands `(x, y)` of a complex function's part operation.
fn pair_operands(program: &Program, part: NodeId) -> (NodeId, NodeId) {
    match program.graph.node(part) {
        Node::Binary(_, x, y) => (x, y),
        _ => (part, part),
    }
}

/// Stores a complex result's parts `[re, im]` (one vector each) at `addr +
/// offset` as `lanes.count` interleaved pairs (two vectors: the pairs of
/// the low lanes, then the high ones).
fn store_interleaved(
    b: &mut FunctionBuilder<'_>,
    [re, im]: [Value; 2],
    (addr, offset): (Value, i32),
    lanes: vector::Lanes,
) {
    let flags = MemFlagsData::new().with_notrap();
    let little = MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little);
    let re = b.ins().bitcast(types::I8X16, little, re);
    let im = b.ins().bitcast(types::I8X16, little, im);
    // Byte indices into (re, im): lane j of re is bytes j*size.., of im
    // 16 + j*size..; the low half's pairs, then the high half's.
    let size = lanes.float.size() as u8;
    let half = lanes.count / 2;
    for h in 0..2u8 {
        let pick: Vec<u8> = (0..half)
            .flat_map(|j| {
                let lane = h * half + j;
                (0..size)
                    .map(move |k| lane * size + k)
                    .chain((0..size).map(move |k| 16 + lane * size + k))
            })
            .collect();
        let pick = b
            .func
            .dfg
            .immediates
            .push(cranelift_codegen::ir::ConstantData::from(pick));
        let pairs = b.ins().shuffle(re, im, pick);
        b.ins()
            .store(flags, pairs, addr, offset + 16 * i32::from(h));
    }
}

/// Stores one result vector at `addr` (booleans: lane masks to bytes).
fn store_vector(
    b: &mut FunctionBuilder<'_>,
    result: Value,
    (addr, offset): (Value, i32),
    dtype: DType,
    lanes: vector::Lanes,
) {
    let flags = MemFlagsData::new().with_notrap();
    if dtype == DType::Bool {
        // Lane masks to bytes with one store: the lanes' sign bits (one per
        // lane, movmsk), spread to bit 0 of byte `lane` by a multiply whose
        // partial products never overlap (bit j lands at bits j + 7k).
        let bits = b.ins().vhigh_bits(types::I32, result);
        let (spread, ones, ty) = match lanes.count {
            2 => (0x81, 0x0101, types::I16),
            _ => (0x0020_4081, 0x0101_0101, types::I32),
        };
        let wide = b.ins().imul_imm_s(bits, spread);
        let bytes = b.ins().band_imm_s(wide, ones);
        let bytes = if ty == types::I32 {
            bytes
        } else {
            b.ins().ireduce(ty, bytes)
        };
        b.ins().store(flags, bytes, addr, offset);
    } else {
        b.ins().store(flags, result, addr, offset);
    }
}

impl Emit<'_, '_> {
    /// The function reference of AOT routine `symbol` in the function being
    /// built, declaring it in the module on first use.
    fn import_routine(
        &mut self,
        symbol: &'static str,
        sig: &cranelift_codegen::ir::Signature,
    ) -> Result<FuncRef> {
        let Emit {
            b,
            module,
            routines,
            refs,
            ..
        } = self;
        if let Some(&r) = refs.get(symbol) {
            return Ok(r);
        }
        let fid = match routines.get(symbol) {
            Some(&id) => id,
            None => {
                let id = module
                    .declare_function(symbol, cranelift_module::Linkage::Import, sig)
                    .map_err(|e| Error::internal(format!("JIT declare {symbol}: {e}")))?;
                routines.insert(symbol, id);
                id
            }
        };
        let r = module.declare_func_in_func(fid, b.func);
        refs.insert(symbol, r);
        Ok(r)
    }

    /// The vector loop of a stage with AOT math (the plan's `levels`): over
    /// blocks of `aot::BLOCK` elements in `[0, nv)`, for each level one vector
    /// pass stores the routines' operands into stack buffers, then the routines
    /// run on the block; a last pass computes the root from the leaves and the
    /// routines' results. Jumps to `header` with `nv` when done. `pairs`:
    /// which leaves, and whether the output, may be runs of pairs (the
    /// parts of complex arrays, set at run time; see the caller), and the
    /// output's stride: then the routines' leaf operands are copied into
    /// their buffers by a pass (deinterleaved) instead of read in place,
    /// and a routine's root result goes through a buffer to the output.
    fn blocked_loop(
        &mut self,
        leaf_base: &[(Value, Value)],
        (out, nv, header): (Value, Value, cranelift_codegen::ir::Block),
        lanes: vector::Lanes,
        uniform: &UniformLeaves<'_>,
        (pair, out_pair, out_stride): (&[Option<Value>], Option<Value>, Value),
    ) -> Result<()> {
        let (program, plan) = (self.program, self.plan);
        let (root, levels, leaves) = (plan.root, &plan.levels, &plan.leaves);
        let g = &program.graph;
        let b = &mut *self.b;
        let ptr = self.module.target_config().pointer_type();
        let size = lanes.float.size() as i64;
        let single = lanes.float == DType::Float32;
        let block = aot::BLOCK as i64;
        let nodes = &plan.nodes;
        // One buffer per routine result and per operand that is not itself a
        // routine result; the root's routine writes straight into the output.
        // Buffers whose values are not needed together share a stack slot,
        // so the frame grows with the values live at once, not with the
        // stage (a chain of 10,000 math calls needs two).
        let new_buffer = |b: &mut FunctionBuilder<'_>| {
            let slot = b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                (aot::BLOCK as u32) * size as u32,
                5,
            ));
            b.ins().stack_addr(ptr, slot, 0)
        };
        let position: HashMap<NodeId, usize> =
            nodes.iter().enumerate().map(|(k, &n)| (n, k)).collect();
        // A level's nodes in stage order (buffers, passes and loads follow it).
        let in_order = |level: &[AotStep]| -> Vec<NodeId> {
            let mut v: Vec<NodeId> = level.iter().flat_map(|s| s.nodes()).collect();
            v.sort_by_key(|n| position.get(n).copied());
            v
        };
        let routine_nodes: Vec<NodeId> = levels.iter().flat_map(|l| in_order(l)).collect();
        let buffers = buffers(b, (program, plan), &routine_nodes, &new_buffer);
        let pairs = pair.iter().any(Option::is_some) || out_pair.is_some();
        // With pairs, a routine that computes the root writes a buffer.
        let root_buffer =
            (out_pair.is_some() && routine_nodes.contains(&root)).then(|| new_buffer(b));
        let mut sig = self.module.make_signature();
        sig.params.extend([AbiParam::new(ptr); 4]);
        // A leaf operand is read in place when contiguous; when broadcast
        // (stride 0) from its buffer, filled here with its value once.
        let leaf_of = |n: NodeId| leaves.iter().position(|&l| l == n);
        let mut leaf_operands: Vec<(NodeId, usize)> = Vec::new();
        for &m in routine_nodes.iter().filter(|_| !pairs) {
            for o in g.node(m).operands() {
                if let Some(k) = leaf_of(o)
                    && !leaf_operands.contains(&(o, k))
                {
                    leaf_operands.push((o, k));
                }
            }
        }
        if !leaf_operands.is_empty() {
            // One loop fills the buffers of all of them, run only when one is
            // uniform (a contiguous leaf is read in place: its buffer is unused).
            let mut any = uniform.is_uniform[leaf_operands[0].1];
            for &(_, k) in &leaf_operands[1..] {
                any = b.ins().bor(any, uniform.is_uniform[k]);
            }
            let fh = b.create_block();
            b.append_block_param(fh, ptr);
            let fb = b.create_block();
            let fe = b.create_block();
            let z = b.ins().iconst(ptr, 0);
            b.ins().brif(any, fh, &[z.into()], fe, &[]);
            b.switch_to_block(fh);
            let j = b.block_params(fh)[0];
            let more = b.ins().icmp_imm_s(IntCC::UnsignedLessThan, j, block * size);
            b.ins().brif(more, fb, &[], fe, &[]);
            b.switch_to_block(fb);
            for &(o, k) in &leaf_operands {
                let addr = b.ins().iadd(buffers[&o], j);
                b.ins()
                    .store(MemFlagsData::trusted(), uniform.splats[k], addr, 0);
            }
            let next = b.ins().iadd_imm_s(j, 16);
            b.ins().jump(fh, &[next.into()]);
            b.switch_to_block(fe);
        }

        let bheader = b.create_block();
        b.append_block_param(bheader, ptr);
        let bbody = b.create_block();
        let zero = b.ins().iconst(ptr, 0);
        b.ins().jump(bheader, &[zero.into()]);
        b.switch_to_block(bheader);
        let i0 = b.block_params(bheader)[0];
        let more = b.ins().icmp(IntCC::UnsignedLessThan, i0, nv);
        b.ins().brif(more, bbody, &[], header, &[nv.into()]);
        b.switch_to_block(bbody);
        let left = b.ins().isub(nv, i0);
        let cap = b.ins().iconst(ptr, block);
        let len = b.ins().umin(left, cap);
        let out_block = if pairs {
            let off = b.ins().imul(i0, out_stride);
            b.ins().iadd(out, off)
        } else {
            let off = b.ins().imul_imm_s(i0, g.dtype(root).size() as i64);
            b.ins().iadd(out, off)
        };
        let mut operand_ptr: HashMap<NodeId, Value> = HashMap::new();
        for &(o, k) in &leaf_operands {
            let off = b.ins().imul_imm_s(i0, size);
            let at = b.ins().iadd(leaf_base[k].0, off);
            let p = b.ins().select(uniform.is_uniform[k], buffers[&o], at);
            operand_ptr.insert(o, p);
        }

        // Values a pass may read from a buffer: routine results computed so far.
        let mut done: HashSet<NodeId> = HashSet::new();
        let pass = |b: &mut FunctionBuilder<'_>,
                    module: &mut JITModule,
                    routines: &mut HashMap<&'static str, FuncId>,
                    refs: &mut HashMap<&'static str, FuncRef>,
                    done: &HashSet<NodeId>,
                    targets: &[NodeId]|
         -> Result<()> {
            // The nodes the targets need, stopping at computed routine
            // results: a walk down from the targets (its cost is that of the
            // pass, not of the stage), then in stage order.
            let mut needed: HashSet<NodeId> = targets.iter().copied().collect();
            let mut stack: Vec<NodeId> = targets.to_vec();
            while let Some(n) = stack.pop() {
                if done.contains(&n) || matches!(g.node(n), Node::Reduce(..) | Node::MatMul(..)) {
                    continue;
                }
                for o in g.node(n).operands() {
                    if needed.insert(o) {
                        stack.push(o);
                    }
                }
            }
            let mut order: Vec<NodeId> = needed.iter().copied().collect();
            order.sort_by_key(|n| position.get(n).copied());
            let target_set: HashSet<NodeId> = targets.iter().copied().collect();
            // The routine results the pass reads, and what it stores into buffers.
            let loaded: Vec<NodeId> = order.iter().copied().filter(|n| done.contains(n)).collect();
            let buffered: Vec<NodeId> = order
                .iter()
                .copied()
                .filter(|&m| m != root && (done.contains(&m) || target_set.contains(&m)))
                .collect();
            // `count` vectors from block element j: each leaf's pointer is
            // computed once, vector u is read at byte offset 16u (a uniform
            // leaf's slot holds PASS_UNROLL copies of its splat).
            let emit = |b: &mut FunctionBuilder<'_>,
                        module: &mut JITModule,
                        routines: &mut HashMap<&'static str, FuncId>,
                        refs: &mut HashMap<&'static str, FuncRef>,
                        j: Value,
                        count: i64|
             -> Result<()> {
                let i = b.ins().iadd(i0, j);
                let flags = MemFlagsData::new().with_notrap();
                let mut pointers: Vec<(NodeId, Value, Option<Value>)> = Vec::new();
                for (k, &leaf) in leaves.iter().enumerate() {
                    if needed.contains(&leaf) {
                        let off = b.ins().imul(i, leaf_base[k].1);
                        let p = b.ins().iadd(uniform.bases[k], off);
                        pointers.push((leaf, p, pair.get(k).copied().flatten()));
                    }
                }
                let joff = b.ins().imul_imm_s(j, size);
                let root_size = g.dtype(root).size() as i64;
                let root_at = {
                    let off = if pairs {
                        b.ins().imul(j, out_stride)
                    } else {
                        b.ins().imul_imm_s(j, root_size)
                    };
                    b.ins().iadd(out_block, off)
                };
                let mut buffer_at: HashMap<NodeId, Value> = HashMap::new();
                for &m in &buffered {
                    buffer_at.insert(m, b.ins().iadd(buffers[&m], joff));
                }
                for u in 0..count {
                    let at = (16 * u) as i32;
                    let mut vals: HashMap<NodeId, Value> = HashMap::new();
                    for &(leaf, p, is_pair) in &pointers {
                        vals.insert(leaf, load_maybe_pairs(b, (p, at), is_pair, lanes));
                    }
                    for &m in &loaded {
                        let v = b.ins().load(lanes.vector, flags, buffer_at[&m], at);
                        vals.insert(m, v);
                    }
                    Emit {
                        b: &mut *b,
                        module: &mut *module,
                        routines: &mut *routines,
                        refs: &mut *refs,
                        program,
                        plan,
                    }
                    .lower_vector_nodes(
                        &order,
                        &mut vals,
                        lanes,
                        (plan.fast_math, false),
                    )?;
                    for &t in targets {
                        if t == root && pairs {
                            let off = (u * i64::from(lanes.count) * root_size) as i32;
                            store_maybe_pairs(b, vals[&t], (root_at, off), out_pair, lanes);
                        } else if t == root {
                            let off = (u * i64::from(lanes.count) * root_size) as i32;
                            store_vector(b, vals[&t], (root_at, off), g.dtype(root), lanes);
                        } else {
                            b.ins().store(flags, vals[&t], buffer_at[&t], at);
                        }
                    }
                }
                Ok(())
            };
            // PASS_UNROLL vectors per iteration while they fit in the block, then
            // one at a time (`len` is a multiple of the vector width).
            let width = PASS_UNROLL * i64::from(lanes.count);
            let ph = b.create_block();
            b.append_block_param(ph, ptr);
            let pb = b.create_block();
            let rh = b.create_block();
            b.append_block_param(rh, ptr);
            let rb = b.create_block();
            let pe = b.create_block();
            let z = b.ins().iconst(ptr, 0);
            b.ins().jump(ph, &[z.into()]);
            b.switch_to_block(ph);
            let j = b.block_params(ph)[0];
            let end = b.ins().iadd_imm_s(j, width);
            let more = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, len);
            b.ins().brif(more, pb, &[], rh, &[j.into()]);
            b.switch_to_block(pb);
            emit(b, module, routines, refs, j, PASS_UNROLL)?;
            b.ins().jump(ph, &[end.into()]);
            b.switch_to_block(rh);
            let j = b.block_params(rh)[0];
            let more = b.ins().icmp(IntCC::UnsignedLessThan, j, len);
            b.ins().brif(more, rb, &[], pe, &[]);
            b.switch_to_block(rb);
            emit(b, module, routines, refs, j, 1)?;
            let next = b.ins().iadd_imm_s(j, i64::from(lanes.count));
            b.ins().jump(rh, &[next.into()]);
            b.switch_to_block(pe);
            Ok(())
        };

        for level in levels {
            // Operands not already in a buffer as a routine result.
            let mut targets: Vec<NodeId> = Vec::new();
            for m in in_order(level) {
                for o in g.node(m).operands() {
                    if !done.contains(&o)
                        && !targets.contains(&o)
                        && (pairs || leaf_of(o).is_none())
                    {
                        targets.push(o);
                    }
                }
            }
            let Emit {
                b,
                module,
                routines,
                refs,
                ..
            } = &mut *self;
            if !targets.is_empty() {
                pass(b, module, routines, refs, &done, &targets)?;
            }
            let dst = |n: NodeId| {
                if n == root {
                    root_buffer.unwrap_or(out_block)
                } else {
                    buffers[&n]
                }
            };
            let at = |o: &NodeId| operand_ptr.get(o).copied().unwrap_or(buffers[o]);
            for &step in level {
                match step {
                    // sin and cos of one operand: one routine computes both (one
                    // range reduction, both polynomials: what each alone computes).
                    AotStep::SinCos { sin, cos, x } => {
                        let (symbol, _) = super::call::aot::sincos_entry(single);
                        let fref = self.import_routine(symbol, &sig)?;
                        self.b.ins().call(fref, &[at(&x), dst(sin), dst(cos), len]);
                    }
                    AotStep::One { node: m, f } => {
                        let (symbol, _) = super::call::aot::entry(f, single)
                            .ok_or_else(|| Error::internal(format!("no AOT routine for {f:?}")))?;
                        let fref = self.import_routine(symbol, &sig)?;
                        let ops = g.node(m).operands();
                        let x = at(&ops[0]);
                        let y = ops.get(1).map_or(x, at);
                        self.b.ins().call(fref, &[x, y, dst(m), len]);
                    }
                }
            }
            done.extend(level.iter().flat_map(|s| s.nodes()));
        }
        let Emit {
            b,
            module,
            routines,
            refs,
            ..
        } = self;
        if !done.contains(&root) {
            pass(b, module, routines, refs, &done, &[root])?;
        }
        if let Some(buffer) = root_buffer {
            // The root's routine result to the output (`len` is a multiple
            // of the vector width).
            let ch = b.create_block();
            b.append_block_param(ch, ptr);
            let cb = b.create_block();
            let ce = b.create_block();
            let z = b.ins().iconst(ptr, 0);
            b.ins().jump(ch, &[z.into()]);
            b.switch_to_block(ch);
            let j = b.block_params(ch)[0];
            let more = b.ins().icmp(IntCC::UnsignedLessThan, j, len);
            b.ins().brif(more, cb, &[], ce, &[]);
            b.switch_to_block(cb);
            let from = {
                let off = b.ins().imul_imm_s(j, size);
                b.ins().iadd(buffer, off)
            };
            let v = b.ins().load(lanes.vector, MemFlagsData::trusted(), from, 0);
            let to = {
                let off = b.ins().imul(j, out_stride);
                b.ins().iadd(out_block, off)
            };
            store_maybe_pairs(b, v, (to, 0), out_pair, lanes);
            let next = b.ins().iadd_imm_s(j, i64::from(lanes.count));
            b.ins().jump(ch, &[next.into()]);
            b.switch_to_block(ce);
        }
        let next = b.ins().iadd_imm_s(i0, block);
        b.ins().jump(bheader, &[next.into()]);
        Ok(())
    }
}

/// Lowering state for one function.
struct Lower<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    module: &'a mut JITModule,
    routines: &'a mut HashMap<&'static str, FuncId>,
    refs: &'a mut HashMap<&'static str, FuncRef>,
}

impl Lower<'_, '_> {
    fn node(
        &mut self,
        program: &Program,
        id: NodeId,
        vals: &HashMap<NodeId, Value>,
    ) -> Result<Value> {
        let g = &program.graph;
        let dtype = g.dtype(id);
        let v = |n: NodeId| vals[&n];
        Ok(match g.node(id) {
            Node::Const(c) => self.constant(c),
            Node::Cast(a) => self.cast(v(a), g.dtype(a), dtype)?,
            Node::Unary(op, a) => self.unary(op, v(a), g.dtype(a))?,
            Node::Binary(op, a, c) => self.binary(op, v(a), v(c), g.dtype(a))?,
            Node::Select(c, a, e) => self.b.ins().select(v(c), v(a), v(e)),
            Node::Fma(a, c, e) => self.b.ins().fma(v(a), v(c), v(e)),
            Node::Input(_) | Node::Reduce(..) | Node::MatMul(..) => {
                return Err(Error::internal(format!("leaf {id} was not loaded")));
            }
        })
    }

    fn constant(&mut self, c: Scalar) -> Value {
        let ins = self.b.ins();
        match c {
            Scalar::Bool(x) => ins.iconst(types::I8, i64::from(x)),
            Scalar::Int32(x) => ins.iconst(types::I32, i64::from(x as u32)),
            Scalar::Int64(x) => ins.iconst(types::I64, x),
            Scalar::Float32(x) => ins.f32const(Ieee32::with_bits(x.to_bits())),
            Scalar::Float64(x) => ins.f64const(Ieee64::with_bits(x.to_bits())),
            // The narrow and unsigned integers, and float16 (held as its
            // bits): the bits, zero-extended, as Cranelift's iconst wants.
            other => ins.iconst(clif_type(other.dtype()), other.bits() as i64),
        }
    }

    fn iconst(&mut self, dtype: DType, x: i64) -> Value {
        self.constant(Scalar::Int64(x).cast(dtype))
    }

    /// `x` of dtype `from` as `to`, with `Scalar::cast`'s semantics: integers
    /// wrap, float to integer truncates and saturates (NaN gives 0), float16
    /// (held as its bits in an `i16`) goes through float32, and to float16
    /// from float64 in one rounding (runtime routines, the interpreter's own
    /// conversions).
    fn cast(&mut self, x: Value, from: DType, to: DType) -> Result<Value> {
        use DType::*;
        if from == to {
            return Ok(x);
        }
        if from == Float16 {
            let bits = self.b.ins().uextend(types::I32, x);
            let routine = runtime::f16_conversion(Float16, Float32)
                .ok_or_else(|| Error::internal("no float16 conversion"))?;
            let f = self.call(routine, &[bits])?;
            return self.cast(f, Float32, to);
        }
        if to == Float16 {
            let (v, via) = match from {
                Float64 => (x, Float64),
                _ => (self.cast(x, from, Float32)?, Float32),
            };
            let routine = runtime::f16_conversion(via, Float16)
                .ok_or_else(|| Error::internal("no float16 conversion"))?;
            let bits = self.call(routine, &[v])?;
            return Ok(self.b.ins().ireduce(types::I16, bits));
        }
        let ty = clif_type(to);
        let bits = |d: DType| 8 * d.size() as u32;
        Ok(match (from, to) {
            (Bool, Float32 | Float64) => {
                let wide = self.b.ins().uextend(types::I32, x);
                self.b.ins().fcvt_from_uint(ty, wide)
            }
            (Bool, _) => self.resize(x, Bool, to),
            (_, Bool) if from.is_float() => {
                let zero = self.constant(Scalar::Int64(0).cast(from));
                self.b.ins().fcmp(FloatCC::NotEqual, x, zero)
            }
            (_, Bool) => self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0),
            (Float32, Float64) => self.b.ins().fpromote(ty, x),
            (Float64, Float32) => self.b.ins().fdemote(ty, x),
            (_, Float32 | Float64) => {
                // Integers to float: narrow ones through i32 (exact), u32
                // through i64, u64 by the unsigned conversion.
                match from {
                    UInt64 => self.b.ins().fcvt_from_uint(ty, x),
                    UInt32 => {
                        let w = self.resize(x, from, Int64);
                        self.b.ins().fcvt_from_sint(ty, w)
                    }
                    _ if bits(from) < 32 => {
                        let w = self.resize(x, from, Int32);
                        self.b.ins().fcvt_from_sint(ty, w)
                    }
                    _ => self.b.ins().fcvt_from_sint(ty, x),
                }
            }
            (Float32 | Float64, _) => match to {
                Int32 | Int64 => self.b.ins().fcvt_to_sint_sat(ty, x),
                UInt32 | UInt64 => self.b.ins().fcvt_to_uint_sat(ty, x),
                // Narrow integers: saturated to i32, clamped, narrowed.
                _ => {
                    let w = self.b.ins().fcvt_to_sint_sat(types::I32, x);
                    let (lo, hi) = to.int_range().unwrap_or((0, 0));
                    let lo = self.b.ins().iconst(types::I32, lo as i64);
                    let hi = self.b.ins().iconst(types::I32, hi as i64);
                    let w = self.b.ins().smax(w, lo);
                    let w = self.b.ins().smin(w, hi);
                    self.b.ins().ireduce(ty, w)
                }
            },
            _ => self.resize(x, from, to),
        })
    }

    /// An integer (or bool) of `from` as the integer `to`: extended by the
    /// signedness of `from`, or wrapped.
    fn resize(&mut self, x: Value, from: DType, to: DType) -> Value {
        let ty = clif_type(to);
        let (a, b) = (from.size(), to.size());
        if a == b {
            x
        } else if a > b {
            self.b.ins().ireduce(ty, x)
        } else if from.kind() == crate::types::Kind::Int {
            self.b.ins().sextend(ty, x)
        } else {
            self.b.ins().uextend(ty, x)
        }
    }

    fn call(&mut self, routine: Routine, args: &[Value]) -> Result<Value> {
        let fref = match self.refs.get(routine.symbol) {
            Some(&r) => r,
            None => {
                let fid = routine_id(self.module, self.routines, routine)?;
                let r = self.module.declare_func_in_func(fid, self.b.func);
                self.refs.insert(routine.symbol, r);
                r
            }
        };
        let call = self.b.ins().call(fref, args);
        Ok(self.b.inst_results(call)[0])
    }

    /// Both parts of a complex function of `(x, y)` by its pair routine
    /// (`runtime::pair_routine`), in the parts' dtype.
    fn pair(&mut self, routine: Routine, x: Value, y: Value) -> Result<(Value, Value)> {
        let fref = match self.refs.get(routine.symbol) {
            Some(&r) => r,
            None => {
                let fid = runtime::pair_routine_id(self.module, self.routines, routine)?;
                let r = self.module.declare_func_in_func(fid, self.b.func);
                self.refs.insert(routine.symbol, r);
                r
            }
        };
        let call = self.b.ins().call(fref, &[x, y]);
        let (re, im) = (self.b.inst_results(call)[0], self.b.inst_results(call)[1]);
        Ok(match routine.dtype {
            DType::Float32 => (
                self.b.ins().fdemote(types::F32, re),
                self.b.ins().fdemote(types::F32, im),
            ),
            _ => (re, im),
        })
    }

    fn unary(&mut self, op: UnaryOp, x: Value, dtype: DType) -> Result<Value> {
        use UnaryOp::*;
        if let Some(r) = runtime::unary_routine(op, dtype) {
            return self.call(r, &[x]);
        }
        let float = dtype.is_float();
        Ok(match op {
            Neg if float => self.b.ins().fneg(x),
            Neg => self.b.ins().ineg(x),
            Not if dtype == DType::Bool => self.b.ins().bxor_imm_s(x, 1),
            Not => self.b.ins().bnot(x),
            Abs if float => self.b.ins().fabs(x),
            Abs if dtype == DType::Bool || dtype.is_unsigned() => x,
            Abs => self.b.ins().iabs(x),
            Sign if float => {
                // x > 0 → 1, x < 0 → -1, ±0 → +0, NaN → NaN
                let one = self.iconst(dtype, 1);
                let minus = self.iconst(dtype, -1);
                let zero = self.iconst(dtype, 0);
                let gt = self.b.ins().fcmp(FloatCC::GreaterThan, x, zero);
                let lt = self.b.ins().fcmp(FloatCC::LessThan, x, zero);
                let eq = self.b.ins().fcmp(FloatCC::Equal, x, zero);
                let r = self.b.ins().select(eq, zero, x);
                let r = self.b.ins().select(lt, minus, r);
                self.b.ins().select(gt, one, r)
            }
            Sign if dtype.is_unsigned() => {
                let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0);
                self.resize(nonzero, DType::Bool, dtype)
            }
            Sign => {
                let gt = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, x, 0);
                let lt = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                let gt = self.resize(gt, DType::Bool, dtype);
                let lt = self.resize(lt, DType::Bool, dtype);
                self.b.ins().isub(gt, lt)
            }
            Sqrt => self.b.ins().sqrt(x),
            Floor if float => self.b.ins().floor(x),
            Ceil if float => self.b.ins().ceil(x),
            Trunc if float => self.b.ins().trunc(x),
            Rint if float => self.b.ins().nearest(x),
            Floor | Ceil | Trunc | Rint => x,
            Reciprocal if float => {
                let one = self.iconst(dtype, 1);
                self.b.ins().fdiv(one, x)
            }
            Reciprocal if dtype.is_unsigned() => {
                // 1/x in unsigned integers: 1 → 1, otherwise 0 (0 too).
                let is_one = self.b.ins().icmp_imm_s(IntCC::Equal, x, 1);
                self.resize(is_one, DType::Bool, dtype)
            }
            Reciprocal => {
                // 1/x in integers: 1 → 1, -1 → -1, 0 → MIN for int32 and
                // int64 and 0 for int8 and int16 (NumPy's), otherwise 0.
                let zero = self.iconst(dtype, 0);
                let min = match dtype {
                    DType::Int32 => self.iconst(dtype, i64::from(i32::MIN)),
                    DType::Int64 => self.iconst(dtype, i64::MIN),
                    _ => self.iconst(dtype, 0),
                };
                let is_one = self.b.ins().icmp_imm_s(IntCC::Equal, x, 1);
                let is_minus = self.b.ins().icmp_imm_s(IntCC::Equal, x, -1);
                let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, x, 0);
                let unit = self.b.ins().bor(is_one, is_minus);
                let r = self.b.ins().select(unit, x, zero);
                self.b.ins().select(is_zero, min, r)
            }
            IsNan if float => self.b.ins().fcmp(FloatCC::Unordered, x, x),
            IsInf if float => {
                let a = self.b.ins().fabs(x);
                let inf = self.constant(inf_of(dtype));
                self.b.ins().fcmp(FloatCC::Equal, a, inf)
            }
            IsFinite if float => {
                let a = self.b.ins().fabs(x);
                let inf = self.constant(inf_of(dtype));
                self.b.ins().fcmp(FloatCC::LessThan, a, inf)
            }
            SignBit if float => {
                let int_ty = if dtype == DType::Float32 {
                    types::I32
                } else {
                    types::I64
                };
                let bits = self.b.ins().bitcast(int_ty, MemFlagsData::new(), x);
                self.b.ins().icmp_imm_s(IntCC::SignedLessThan, bits, 0)
            }
            IsNan | IsInf => self.b.ins().iconst(types::I8, 0),
            IsFinite => self.b.ins().iconst(types::I8, 1),
            SignBit if dtype == DType::Bool || dtype.is_unsigned() => {
                self.b.ins().iconst(types::I8, 0)
            }
            SignBit => self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0),
            other => {
                return Err(Error::internal(format!(
                    "no JIT lowering for {} on {dtype}",
                    other.name()
                )));
            }
        })
    }

    fn binary(&mut self, op: BinaryOp, x: Value, y: Value, dtype: DType) -> Result<Value> {
        use BinaryOp::*;
        if let Some(r) = runtime::binary_routine(op, dtype) {
            return self.call(r, &[x, y]);
        }
        if op == Pow && dtype == DType::UInt64 {
            return self.call(runtime::pow_u64_routine(), &[x, y]);
        }
        if op == Pow && dtype.is_int() {
            // Narrower integers: int64's routine on the extended values
            // (wrapping agrees on the low bits; exponents stay >= 0 for
            // unsigned, keep their sign for signed), narrowed.
            let wx = self.resize(x, dtype, DType::Int64);
            let wy = self.resize(y, dtype, DType::Int64);
            let r = runtime::binary_routine(Pow, DType::Int64)
                .ok_or_else(|| Error::internal("no int64 pow routine"))?;
            let p = self.call(r, &[wx, wy])?;
            return Ok(self.resize(p, DType::Int64, dtype));
        }
        if dtype.is_float() {
            return self.binary_float(op, x, y, dtype);
        }
        if dtype == DType::Bool {
            return Ok(match op {
                Add | BitOr | Maximum => self.b.ins().bor(x, y),
                Mul | BitAnd | Minimum => self.b.ins().band(x, y),
                BitXor | Ne => self.b.ins().bxor(x, y),
                Eq => self.b.ins().icmp(IntCC::Equal, x, y),
                Lt => self.b.ins().icmp(IntCC::UnsignedLessThan, x, y),
                Le => self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, x, y),
                Gt => self.b.ins().icmp(IntCC::UnsignedGreaterThan, x, y),
                Ge => self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, x, y),
                other => {
                    return Err(Error::internal(format!(
                        "no JIT lowering for bool {}",
                        other.name()
                    )));
                }
            });
        }
        let bits = 8 * dtype.size() as i64;
        let unsigned = dtype.is_unsigned();
        let cc = |signed: IntCC, unsigned_cc: IntCC| if unsigned { unsigned_cc } else { signed };
        let ins = self.b.ins();
        Ok(match op {
            Add => ins.iadd(x, y),
            Sub => ins.isub(x, y),
            Mul => ins.imul(x, y),
            BitAnd => ins.band(x, y),
            BitOr => ins.bor(x, y),
            BitXor => ins.bxor(x, y),
            Maximum if unsigned => ins.umax(x, y),
            Minimum if unsigned => ins.umin(x, y),
            Maximum => ins.smax(x, y),
            Minimum => ins.smin(x, y),
            Lt => ins.icmp(cc(IntCC::SignedLessThan, IntCC::UnsignedLessThan), x, y),
            Le => ins.icmp(
                cc(IntCC::SignedLessThanOrEqual, IntCC::UnsignedLessThanOrEqual),
                x,
                y,
            ),
            Eq => ins.icmp(IntCC::Equal, x, y),
            Ne => ins.icmp(IntCC::NotEqual, x, y),
            Ge => ins.icmp(
                cc(
                    IntCC::SignedGreaterThanOrEqual,
                    IntCC::UnsignedGreaterThanOrEqual,
                ),
                x,
                y,
            ),
            Gt => ins.icmp(
                cc(IntCC::SignedGreaterThan, IntCC::UnsignedGreaterThan),
                x,
                y,
            ),
            Shl | Shr => {
                // NumPy: a shift by >= the width or by a negative amount gives 0
                // (>> of a negative value gives -1, of an unsigned 0);
                // Cranelift masks the amount.
                let in_range = ins.icmp_imm_s(IntCC::UnsignedLessThan, y, bits);
                let shifted = match (op, unsigned) {
                    (Shl, _) => self.b.ins().ishl(x, y),
                    (_, true) => self.b.ins().ushr(x, y),
                    _ => self.b.ins().sshr(x, y),
                };
                let fill = if op == Shl || unsigned {
                    self.iconst(dtype, 0)
                } else {
                    let sign = self.iconst(dtype, bits - 1);
                    self.b.ins().sshr(x, sign)
                };
                self.b.ins().select(in_range, shifted, fill)
            }
            FloorDiv | Mod | Fmod if unsigned => {
                // A zero divisor gives 0 (divide by 1, then select).
                let zero = self.iconst(dtype, 0);
                let one = self.iconst(dtype, 1);
                let y_zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                let d = self.b.ins().select(y_zero, one, y);
                let r = if op == FloorDiv {
                    self.b.ins().udiv(x, d)
                } else {
                    self.b.ins().urem(x, d)
                };
                self.b.ins().select(y_zero, zero, r)
            }
            FloorDiv | Mod | Fmod => self.int_division(op, x, y, dtype),
            other => {
                return Err(Error::internal(format!(
                    "no JIT lowering for {} on {dtype}",
                    other.name()
                )));
            }
        })
    }

    /// `//`, `%` and `fmod` on integers, never trapping: a zero divisor gives
    /// 0 and `MIN // -1` wraps, as in `ir::scalar`.
    fn int_division(&mut self, op: BinaryOp, x: Value, y: Value, dtype: DType) -> Value {
        let min = dtype.int_range().map_or(i64::MIN, |(lo, _)| lo as i64);
        let zero = self.iconst(dtype, 0);
        let one = self.iconst(dtype, 1);
        let ins = self.b.ins();
        let y_zero = ins.icmp_imm_s(IntCC::Equal, y, 0);
        let x_min = self.b.ins().icmp_imm_s(IntCC::Equal, x, min);
        let y_minus = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
        let overflow = self.b.ins().band(x_min, y_minus);
        let unsafe_div = self.b.ins().bor(y_zero, overflow);
        // Divide by 1 where the real divisor would trap; fix the result after.
        let d = self.b.ins().select(unsafe_div, one, y);
        let q = self.b.ins().sdiv(x, d);
        let r = self.b.ins().srem(x, d);
        // x / 1 = x: MIN // -1 wraps to MIN; x % 1 = 0: MIN % -1 is 0.
        let q = self.b.ins().select(overflow, x, q);
        let r = self.b.ins().select(overflow, zero, r);
        let result = match op {
            BinaryOp::Fmod => r,
            _ => {
                // Python rounding: adjust when the remainder and divisor differ in sign.
                let r_nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                let signs = self.b.ins().bxor(r, y);
                let differ = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, signs, 0);
                let adjust = self.b.ins().band(r_nonzero, differ);
                if op == BinaryOp::FloorDiv {
                    let q1 = self.b.ins().iadd_imm_s(q, -1);
                    self.b.ins().select(adjust, q1, q)
                } else {
                    let r1 = self.b.ins().iadd(r, y);
                    self.b.ins().select(adjust, r1, r)
                }
            }
        };
        self.b.ins().select(y_zero, zero, result)
    }

    fn binary_float(&mut self, op: BinaryOp, x: Value, y: Value, dtype: DType) -> Result<Value> {
        use BinaryOp::*;
        let ins = self.b.ins();
        Ok(match op {
            Add => ins.fadd(x, y),
            Sub => ins.fsub(x, y),
            Mul => ins.fmul(x, y),
            Div => ins.fdiv(x, y),
            Copysign => ins.fcopysign(x, y),
            Lt => ins.fcmp(FloatCC::LessThan, x, y),
            Le => ins.fcmp(FloatCC::LessThanOrEqual, x, y),
            Eq => ins.fcmp(FloatCC::Equal, x, y),
            Ne => ins.fcmp(FloatCC::NotEqual, x, y),
            Ge => ins.fcmp(FloatCC::GreaterThanOrEqual, x, y),
            Gt => ins.fcmp(FloatCC::GreaterThan, x, y),
            Maximum | Minimum => {
                // NaN in x wins, then NaN in y; on ties the second operand.
                let cc = if op == Maximum {
                    FloatCC::GreaterThan
                } else {
                    FloatCC::LessThan
                };
                let nan_x = ins.fcmp(FloatCC::Unordered, x, x);
                let wins = self.b.ins().fcmp(cc, x, y);
                let take_x = self.b.ins().bor(nan_x, wins);
                self.b.ins().select(take_x, x, y)
            }
            other => {
                return Err(Error::internal(format!(
                    "no JIT lowering for {} on {dtype}",
                    other.name()
                )));
            }
        })
    }
}

fn inf_of(dtype: DType) -> Scalar {
    match dtype {
        DType::Float32 => Scalar::Float32(f32::INFINITY),
        _ => Scalar::Float64(f64::INFINITY),
    }
}

/// The blocked loop's buffers (see `Emit::blocked_loop`): the stack
/// address of each node's, given `routine_nodes` (the AOT nodes, level by
/// level), made by `new_buffer`. A buffer is live from the level that
/// writes it (its routine's, or the first whose pass computes it as an
/// operand) to the last level that reads it (`levels.len()`: the last
/// pass); buffers whose lives do not overlap share a slot. A uniform
/// leaf's buffer, filled before the loop, is never shared.
fn buffers(
    b: &mut FunctionBuilder<'_>,
    (program, plan): (&Program, &StagePlan),
    routine_nodes: &[NodeId],
    new_buffer: &dyn Fn(&mut FunctionBuilder<'_>) -> Value,
) -> HashMap<NodeId, Value> {
    let g = &program.graph;
    let (root, levels) = (plan.root, &plan.levels);
    let level_of: HashMap<NodeId, usize> = levels
        .iter()
        .enumerate()
        .flat_map(|(l, steps)| steps.iter().flat_map(|s| s.nodes()).map(move |n| (n, l)))
        .collect();
    // The last level that reads each node: a routine reads its operands
    // at its level; a node a pass computes reads its operands wherever
    // it is itself read.
    let mut read: HashMap<NodeId, usize> = HashMap::new();
    if !level_of.contains_key(&root) {
        read.insert(root, levels.len());
    }
    for &c in plan.nodes.iter().rev() {
        let at = match level_of.get(&c) {
            Some(&l) => l,
            None => match read.get(&c) {
                Some(&l) => l,
                None => continue,
            },
        };
        if matches!(g.node(c), Node::Reduce(..) | Node::MatMul(..)) {
            continue;
        }
        for o in g.node(c).operands() {
            let e = read.entry(o).or_insert(at);
            *e = (*e).max(at);
        }
    }
    // (first level written, last level read, node), in the order written.
    let mut lives: Vec<(usize, usize, NodeId)> = Vec::new();
    let mut seen: std::collections::HashSet<NodeId> = std::collections::HashSet::new();
    let mut buffers: HashMap<NodeId, Value> = HashMap::new();
    for &m in routine_nodes {
        let l = level_of[&m];
        for o in g.node(m).operands() {
            if plan.leaves.contains(&o) {
                buffers.entry(o).or_insert_with(|| new_buffer(b));
            } else if !level_of.contains_key(&o) && seen.insert(o) {
                lives.push((l, read.get(&o).copied().unwrap_or(l).max(l), o));
            }
        }
        if m != root && seen.insert(m) {
            lives.push((l, read.get(&m).copied().unwrap_or(l).max(l), m));
        }
    }
    lives.sort_by_key(|&(start, ..)| start);
    // Slots in use, with the last level they are read at.
    let mut busy: Vec<(usize, Value)> = Vec::new();
    let mut free: Vec<Value> = Vec::new();
    for (start, end, n) in lives {
        busy.retain(|&(last, slot)| {
            let keep = last >= start;
            if !keep {
                free.push(slot);
            }
            keep
        });
        let slot = free.pop().unwrap_or_else(|| new_buffer(b));
        busy.push((end, slot));
        buffers.insert(n, slot);
    }
    buffers
}
