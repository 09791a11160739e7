//! The one place where jitexpr touches raw pointers and calls JIT code.
//!
//! Operands are built only from `ndarray` views broadcast to the stage shape
//! (`ndarray` checks that every index of that shape is inside the array), and
//! the output only from a view of exactly that shape; [`run`] then walks the
//! index space and calls the kernel on runs of consecutive elements, so a
//! kernel never sees an address outside its operands.

#![allow(unsafe_code)]

pub mod aot;
pub mod gemm;

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cranelift_jit::JITModule;
use ndarray::{ArrayViewD, ArrayViewMutD, IxDyn};
use smallvec::SmallVec;

use crate::array::Element;
use crate::backend::jit::values::{Buf, Values, ValuesMut};
use crate::backend::jit::wide::{self, WideCode};
use crate::ir::scalar::{Fill, Leaves};
use crate::threads::{self, Team};
use crate::types::{DType, Scalar};

/// Byte strides of one operand, one per axis (inline up to 4 axes).
type Strides = SmallVec<[isize; 4]>;
/// One value per operand of a kernel call (inline up to 8 operands).
type PerOperand<T> = SmallVec<[T; 8]>;

/// Elements per task when a stage is split across threads.
pub const CHUNK: usize = 16 * 1024;

/// Below this many elements a per-axis reduction runs on the calling thread.
pub const PARALLEL_THRESHOLD: usize = 64 * 1024;

/// Below this much work (elements × `StagePlan::cost`) a call runs on the
/// calling thread: `a*b+c` (cost 6) from about 13,300 elements up, `exp(a)`
/// (10) from 8,000. At 40,000, 10⁴-element calls from Python went to two
/// threads and lost (Intel Xeon, AVX-512, 2 vCPUs: `(a>0.3)&(b<0.7)` 4.44
/// µs on two, 3.12 on one, NumPy 3.29; `a*b+c` 5.18 vs 4.41), while `exp`
/// at 10⁴ and the arithmetic rows from 2·10⁴ gain from the second thread
/// (the comparison, with its one-byte output, still loses there: 6.8 vs
/// 5.4 µs at 2·10⁴, 10.8 vs 9.9 at 4·10⁴).
pub const PARALLEL_WORK: usize = 80_000;

/// A kernel operand, as [`interpret`] hands it to a [`BlockKernel`] for one
/// call of `n` elements.
pub enum Leaf<'a> {
    /// Elements `[0, n)`, contiguous.
    Contiguous(Values<'a>),
    /// One value for every element (stride 0).
    Uniform(Scalar),
    /// Elements at any other stride.
    Strided(Run),
}

/// The output of one call.
pub enum Out<'a> {
    /// Elements `[0, n)`, contiguous.
    Contiguous(ValuesMut<'a>),
    /// Elements at any other stride.
    Strided(Run),
}

/// A stage computed block by block in Rust (the interpreted tier,
/// `blocks::Interp`), called through the kernel ABI by [`interpret`].
pub trait BlockKernel: Sync {
    /// The dtype of each operand, in the kernel ABI's order.
    fn leaves(&self) -> &[DType];
    /// The dtype of the output.
    fn out(&self) -> DType;
    /// Computes `n` elements of `leaves` into `out`; `vector`: every operand
    /// is contiguous or uniform (the compiled kernel's vector-loop test).
    fn run(&self, leaves: &[Leaf<'_>], out: Out<'_>, n: usize, vector: bool);
}

type RawKernel = unsafe extern "C" fn(*const *const u8, *const isize, *mut u8, isize, usize);

/// The leaf-sum kernel ABI (`codegen::define_leaf_sums`).
type RawLeafSums = unsafe extern "C" fn(*const *const u8, *const isize, *mut u8, *const u32, usize);

/// A stage's kernel: compiled code with the ABI documented in `codegen`, or
/// a stage of the interpreted tier (`blocks`) called through the same ABI,
/// with the signature it was made for. Every way of calling it here
/// ([`run`], [`run_blocks`], [`run_blocks_by`]) checks the operands against
/// that signature first (count and dtypes, hence element sizes), so a kernel
/// never reads an operand as another dtype or past its last operand.
#[derive(Clone)]
pub struct KernelFn {
    code: Code,
    sig: Arc<KernelSig>,
    /// The stage's leaf-sum kernel and the bytes of stack its frame takes,
    /// for a stage that a full float `sum` or `mean` reduces (see
    /// [`run_blocks_by`]).
    leaf_sums: Option<(RawLeafSums, usize)>,
    /// The stage's wide loops (`backend::jit::wide`), if it has them.
    wide: Option<Arc<WideKernels>>,
}

/// What a kernel was compiled for: the dtype of each operand, in the order
/// of its `inputs` argument, and of its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSig {
    /// The operands' dtypes.
    pub leaves: Box<[DType]>,
    /// The output's dtype.
    pub out: DType,
    /// Bytes of stack the compiled kernel's frame takes (0 for the
    /// interpreted tier): [`KernelFn::invoke`] makes sure the calling thread
    /// has them, and [`STACK_RED_ZONE`] more, before the call.
    pub frame: usize,
}

/// Stack a kernel call needs beyond its own frame (the routines it calls),
/// and the least stack left when a kernel is called: below it, the call runs
/// on a new stack segment (`stacker`) at least [`STACK_SEGMENT`] large.
pub const STACK_RED_ZONE: usize = 128 << 10;

/// The smallest stack segment made for a kernel call that needs one.
pub const STACK_SEGMENT: usize = 1 << 20;

#[derive(Clone, Copy)]
enum Code {
    Native(RawKernel),
    Interpreted(*const dyn BlockKernel),
}

// SAFETY: native code is immutable; an `Interp` is immutable once built
// (a call's scratch space is per thread) and outlives the kernels that point
// to it (the owner keeps both, see `from_interp`).
unsafe impl Send for KernelFn {}
// SAFETY: as above.
unsafe impl Sync for KernelFn {}

impl KernelFn {
    /// Wraps a finalized function address.
    ///
    /// # Safety
    /// `address` must be a function compiled with the kernel ABI for `sig`
    /// in a module that lives as long as every copy of the returned value;
    /// `leaf_sums`, if given, the leaf-sum kernel of the same stage, with
    /// its ABI, in the same module, and its frame size.
    unsafe fn from_address(
        address: *const u8,
        sig: KernelSig,
        leaf_sums: Option<(*const u8, usize)>,
    ) -> KernelFn {
        KernelFn {
            // SAFETY: the caller guarantees `address` is a finalized kernel with this ABI.
            code: Code::Native(unsafe { std::mem::transmute::<*const u8, RawKernel>(address) }),
            sig: Arc::new(sig),
            leaf_sums: leaf_sums.map(|(a, frame)| {
                // SAFETY: the caller guarantees a finalized leaf-sum kernel.
                (
                    unsafe { std::mem::transmute::<*const u8, RawLeafSums>(a) },
                    frame,
                )
            }),
            wide: None,
        }
    }

    /// A kernel that runs `interp` (which must outlive every copy of it: the
    /// owner keeps the box next to the kernels, like code memory).
    pub fn from_interp(interp: &(dyn BlockKernel + 'static)) -> KernelFn {
        KernelFn {
            code: Code::Interpreted(interp as *const dyn BlockKernel),
            sig: Arc::new(KernelSig {
                leaves: interp.leaves().into(),
                out: interp.out(),
                frame: 0,
            }),
            leaf_sums: None,
            wide: None,
        }
    }

    /// The same kernel with the stage's wide loops (made by `wide::compile`
    /// for its stage, the only maker of a `WideCode`); `Err` if the code
    /// cannot be mapped executable. Loops that do not fit the signature
    /// (operand count, element sizes) are left off.
    pub fn with_wide(mut self, code: &WideCode) -> std::io::Result<KernelFn> {
        let fits = code.out_elem() == self.sig.out.size()
            && self.sig.leaves.iter().all(|d| d.size() == code.elem())
            && self.sig.leaves.len() == code.operands()
            && code.operands() <= MAX_WIDE_OPERANDS
            && code.step() * code.elem() >= wide::UNROLL * 32
            && code.step() * code.elem() <= 128;
        if fits && cfg!(all(target_arch = "x86_64", unix)) {
            // SAFETY: `code` is `wide::compile`'s, whose ABIs `map` expects.
            self.wide = Some(Arc::new(unsafe { WideKernels::map(code)? }));
        }
        Ok(self)
    }

    /// `true` for a stage of the interpreted tier.
    pub fn is_interpreted(&self) -> bool {
        matches!(self.code, Code::Interpreted(_))
    }

    /// `true` if the kernel may read its operand `at`, of `dtype`, from its
    /// own output of `dtype` ([`run_in_place`]): native code (Cranelift's loop and the wide
    /// loops) reads and writes through raw addresses, with no Rust
    /// reference to either, and computes element i only from the operands'
    /// element i, loading them before it stores element i (loads are never
    /// moved past stores: no memory access is marked read-only). The
    /// interpreted tier is excluded: it reads contiguous operands as slices,
    /// which must not alias the output.
    pub fn runs_in_place(&self, at: usize, dtype: DType) -> bool {
        matches!(self.code, Code::Native(_))
            && self.sig.out == dtype
            && self.sig.leaves.get(at) == Some(&dtype)
    }

    /// Panics unless `inputs` and an output of `out` are what the kernel was
    /// made for: the check that makes calling it with them sound. (Internal
    /// callers build operands from the same stage, so this never fails.)
    fn check(&self, inputs: &[Operand], out: DType) {
        let fits = self.sig.out == out
            && self.sig.leaves.len() == inputs.len()
            && inputs
                .iter()
                .zip(&*self.sig.leaves)
                .all(|(o, &d)| o.dtype == d);
        assert!(
            fits,
            "kernel for {:?} called with operands {:?} and output {out}",
            self.sig,
            inputs.iter().map(|o| o.dtype).collect::<Vec<_>>()
        );
    }

    /// Calls the kernel on `n` elements.
    ///
    /// # Safety
    /// The kernel ABI: for `i < n`, `ptrs[k] + i * strides[k]` is an element
    /// of operand k, of the dtype the kernel was made for, not written during
    /// the call (except, for a kernel that [`runs_in_place`](Self::runs_in_place),
    /// by this call when operand k is the output itself: the same address and
    /// stride); `out + i * out_stride` is an element of the output, of its
    /// dtype, written by no one else during the call.
    unsafe fn invoke(
        &self,
        ptrs: *const *const u8,
        strides: *const isize,
        out: *mut u8,
        out_stride: isize,
        n: usize,
    ) {
        match self.code {
            // A kernel's frame grows with its stage (a deep expression can
            // spill thousands of values): when the thread's stack left cannot
            // hold it, the call runs on a new segment that can. (The frame
            // probes its pages, so one that did not fit would abort cleanly.)
            Code::Native(f) => {
                // SAFETY: the caller's contract.
                let done = match &self.wide {
                    Some(w) => unsafe {
                        w.elementwise(&self.sig, ptrs, strides, out, out_stride, n)
                    },
                    None => 0,
                };
                let need = self.sig.frame + STACK_RED_ZONE;
                if done == 0 {
                    return stacker::maybe_grow(need, need.max(STACK_SEGMENT), || {
                        // SAFETY: the caller's contract is the compiled kernel's ABI.
                        unsafe { f(ptrs, strides, out, out_stride, n) }
                    });
                }
                if done == n {
                    return;
                }
                let k = self.sig.leaves.len();
                let mut rest: PerOperand<*const u8> = SmallVec::with_capacity(k);
                for j in 0..k {
                    // SAFETY: `ptrs` and `strides` hold one entry per operand
                    // (the ABI), and element `done` < n of each is inside it.
                    rest.push(unsafe { (*ptrs.add(j)).offset(done as isize * *strides.add(j)) });
                }
                // SAFETY: as above for the output.
                let out = unsafe { out.offset(done as isize * out_stride) };
                stacker::maybe_grow(need, need.max(STACK_SEGMENT), || {
                    // SAFETY: the caller's contract is the compiled kernel's
                    // ABI; elements [done, n) are elements [0, n - done) from
                    // the advanced pointers.
                    unsafe { f(rest.as_ptr(), strides, out, out_stride, n - done) }
                })
            }
            // SAFETY: the interpreter outlives the kernel (`from_interp`), and
            // the caller's contract is `interpret`'s.
            Code::Interpreted(p) => unsafe { interpret(&*p, ptrs, strides, out, out_stride, n) },
        }
    }
}

/// The interpreted tier's call: the kernel ABI's operands as slices (where
/// contiguous and aligned), values (uniform) or strided [`Run`]s.
///
/// # Safety
/// As [`KernelFn::invoke`], for `p`'s leaves and output dtype.
unsafe fn interpret(
    p: &dyn BlockKernel,
    ptrs: *const *const u8,
    strides: *const isize,
    out: *mut u8,
    out_stride: isize,
    n: usize,
) {
    if n == 0 {
        return;
    }
    let out_size = p.out().size() as isize;
    // The compiled kernel's vector-loop test (`codegen`): every stride is
    // 0 or the element size, and the output's the element size.
    let mut vector = out_stride == out_size;
    let mut leaves: SmallVec<[Leaf<'_>; 8]> = SmallVec::new();
    for (k, &dtype) in p.leaves().iter().enumerate() {
        // SAFETY: the ABI passes one pointer and one stride per leaf.
        let (ptr, stride) = unsafe { (*ptrs.add(k), *strides.add(k)) };
        let size = dtype.size() as isize;
        vector &= stride & !size == 0;
        let leaf = if stride == 0 {
            // SAFETY: n > 0, so element 0 of the operand is readable.
            Leaf::Uniform(unsafe { read_scalar(ptr, dtype) })
        } else if let Some(v) = (stride == size && ptr.align_offset(size as usize) == 0)
            // SAFETY: elements [0, n) are contiguous (stride = size), aligned,
            // of `dtype`, and not written during the call.
            .then(|| unsafe { values(ptr, dtype, n) })
            .flatten()
        {
            Leaf::Contiguous(v)
        } else {
            Leaf::Strided(Run {
                ptr: ptr as *mut u8,
                stride,
                len: n,
                dtype,
            })
        };
        leaves.push(leaf);
    }
    let dtype = p.out();
    let output = if out_stride == out_size && out.align_offset(out_size as usize) == 0 {
        // SAFETY: elements [0, n) of the output are contiguous, aligned, of
        // its dtype, and only this call writes them.
        Out::Contiguous(unsafe { values_mut(out, dtype, n) })
    } else {
        Out::Strided(Run {
            ptr: out,
            stride: out_stride,
            len: n,
            dtype,
        })
    };
    p.run(&leaves, output, n, vector);
}

/// Element 0 of an operand of `dtype` at `ptr`.
///
/// # Safety
/// `ptr` points to a readable element of `dtype` (maybe unaligned).
unsafe fn read_scalar(ptr: *const u8, dtype: DType) -> Scalar {
    // SAFETY: the caller's contract.
    unsafe {
        match dtype {
            DType::Bool => Scalar::Bool(ptr.read() != 0),
            DType::Int8 => Scalar::Int8((ptr as *const i8).read_unaligned()),
            DType::Int16 => Scalar::Int16((ptr as *const i16).read_unaligned()),
            DType::Int32 => Scalar::Int32((ptr as *const i32).read_unaligned()),
            DType::Int64 => Scalar::Int64((ptr as *const i64).read_unaligned()),
            DType::UInt8 => Scalar::UInt8(ptr.read()),
            DType::UInt16 => Scalar::UInt16((ptr as *const u16).read_unaligned()),
            DType::UInt32 => Scalar::UInt32((ptr as *const u32).read_unaligned()),
            DType::UInt64 => Scalar::UInt64((ptr as *const u64).read_unaligned()),
            DType::Float16 => Scalar::Float16((ptr as *const crate::types::f16).read_unaligned()),
            DType::Float32 => Scalar::Float32((ptr as *const f32).read_unaligned()),
            DType::Float64 => Scalar::Float64((ptr as *const f64).read_unaligned()),
            DType::Complex64 => {
                Scalar::Complex64((ptr as *const crate::types::c32).read_unaligned())
            }
            DType::Complex128 => {
                Scalar::Complex128((ptr as *const crate::types::c64).read_unaligned())
            }
        }
    }
}

/// `n` contiguous elements of `dtype` at `ptr`; `None` for booleans, which
/// are read as bytes (nonzero is true, see [`Run::read`]), never as `bool`.
///
/// # Safety
/// `ptr` is aligned and the `n` elements are readable and not written while
/// the result lives.
unsafe fn values<'a>(ptr: *const u8, dtype: DType, n: usize) -> Option<Values<'a>> {
    use std::slice::from_raw_parts as parts;
    // SAFETY: the caller's contract.
    unsafe {
        Some(match dtype {
            DType::Bool => return None,
            DType::Int32 => Values::Int32(parts(ptr as *const i32, n)),
            DType::Int64 => Values::Int64(parts(ptr as *const i64, n)),
            DType::Float32 => Values::Float32(parts(ptr as *const f32, n)),
            DType::Float64 => Values::Float64(parts(ptr as *const f64, n)),
            // Not block types: the interpreted tier compiles stages with them
            // instead (`blocks::Interp::build`).
            _ => return None,
        })
    }
}

/// `n` contiguous elements of `dtype` at `ptr`, to write.
///
/// # Safety
/// `ptr` is aligned and the `n` elements are writable by this call alone
/// while the result lives.
unsafe fn values_mut<'a>(ptr: *mut u8, dtype: DType, n: usize) -> ValuesMut<'a> {
    use std::slice::from_raw_parts_mut as parts;
    // SAFETY: the caller's contract (writing `bool`s writes valid bytes).
    unsafe {
        match dtype {
            DType::Bool => ValuesMut::Bool(parts(ptr as *mut bool, n)),
            DType::Int32 => ValuesMut::Int32(parts(ptr as *mut i32, n)),
            DType::Int64 => ValuesMut::Int64(parts(ptr as *mut i64, n)),
            DType::Float32 => ValuesMut::Float32(parts(ptr as *mut f32, n)),
            DType::Float64 => ValuesMut::Float64(parts(ptr as *mut f64, n)),
            // Not block types: the interpreted tier compiles stages with them
            // instead (`blocks::Interp::build`).
            _ => ValuesMut::Bool(&mut []),
        }
    }
}

/// `len` elements of one dtype at `ptr + i * stride`: an operand (or the
/// output) of one interpreted call that is not a contiguous aligned run.
/// Made only by `interpret` from the kernel ABI's operands, for the call.
pub struct Run {
    ptr: *mut u8,
    stride: isize,
    len: usize,
    dtype: DType,
}

impl Run {
    /// Reads elements `[start, start + len)` into the first `len` of `buf`
    /// (of the run's dtype); nothing outside the run.
    pub fn read(&self, start: usize, buf: &mut Buf, len: usize) {
        if start.checked_add(len).is_none_or(|end| end > self.len) {
            return;
        }
        let at = |i: usize| self.ptr.wrapping_offset((start + i) as isize * self.stride);
        // SAFETY (each read): element `start + i` < `self.len` of the operand,
        // which `interpret`'s caller guarantees readable (maybe unaligned).
        match (self.dtype, buf.values_mut(len)) {
            (DType::Bool, ValuesMut::Bool(o)) => {
                for (i, o) in o.iter_mut().enumerate() {
                    *o = unsafe { at(i).read() } != 0;
                }
            }
            (DType::Int32, ValuesMut::Int32(o)) => {
                for (i, o) in o.iter_mut().enumerate() {
                    *o = unsafe { (at(i) as *const i32).read_unaligned() };
                }
            }
            (DType::Int64, ValuesMut::Int64(o)) => {
                for (i, o) in o.iter_mut().enumerate() {
                    *o = unsafe { (at(i) as *const i64).read_unaligned() };
                }
            }
            (DType::Float32, ValuesMut::Float32(o)) => {
                for (i, o) in o.iter_mut().enumerate() {
                    *o = unsafe { (at(i) as *const f32).read_unaligned() };
                }
            }
            (DType::Float64, ValuesMut::Float64(o)) => {
                for (i, o) in o.iter_mut().enumerate() {
                    *o = unsafe { (at(i) as *const f64).read_unaligned() };
                }
            }
            _ => {}
        }
    }

    /// Writes `values` (of the run's dtype) to elements `[start, ..)`;
    /// nothing outside the run.
    pub fn write(&self, start: usize, values: Values<'_>) {
        macro_rules! put {
            ($x:expr, $t:ty) => {{
                let x = $x;
                if start.checked_add(x.len()).is_none_or(|end| end > self.len) {
                    return;
                }
                for (i, &v) in x.iter().enumerate() {
                    let p = self.ptr.wrapping_offset((start + i) as isize * self.stride);
                    // SAFETY: element `start + i` < `self.len` of the output,
                    // which only this call writes (maybe unaligned).
                    unsafe { (p as *mut $t).write_unaligned(v) };
                }
            }};
        }
        match (self.dtype, values) {
            (DType::Bool, Values::Bool(x)) => put!(x, bool),
            (DType::Int32, Values::Int32(x)) => put!(x, i32),
            (DType::Int64, Values::Int64(x)) => put!(x, i64),
            (DType::Float32, Values::Float32(x)) => put!(x, f32),
            (DType::Float64, Values::Float64(x)) => put!(x, f64),
            _ => {}
        }
    }
}

/// The elementwise ABI of a wide loop (`backend::jit::wide`).
type RawWide = unsafe extern "C" fn(*const *const u8, *const isize, *mut u8, usize);

/// Operands a wide loop takes at most (its pointer registers).
const MAX_WIDE_OPERANDS: usize = 10;

/// A stage's wide loops (`backend::jit::wide`), mapped executable: the
/// mapping is owned here and unmapped when the last kernel sharing it drops.
pub struct WideKernels {
    map: *mut libc::c_void,
    len: usize,
    elementwise: RawWide,
    sums: Option<RawLeafSums>,
    /// Elements per iteration of the elementwise loop.
    step: usize,
    /// Bytes per element of the operands.
    elem: usize,
    /// Bytes per element of the result.
    out_elem: usize,
}

// SAFETY: the mapping is immutable (read and execute only) after `map`.
unsafe impl Send for WideKernels {}
// SAFETY: as above.
unsafe impl Sync for WideKernels {}

impl WideKernels {
    /// Maps `code`'s loops executable.
    ///
    /// # Safety
    /// `code` must be machine code made by `wide::compile` (with its ABIs).
    unsafe fn map(code: &WideCode) -> std::io::Result<WideKernels> {
        let sums_at = code.elementwise().len().next_multiple_of(64);
        let len = sums_at + code.sums().map_or(0, <[u8]>::len);
        // SAFETY: a fresh private anonymous mapping; checked below.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let base = map as *mut u8;
        // SAFETY: the mapping is `len` writable bytes, which hold both loops
        // (the sums from `sums_at`); nothing else refers to it yet.
        unsafe {
            let elementwise = code.elementwise();
            std::ptr::copy_nonoverlapping(elementwise.as_ptr(), base, elementwise.len());
            if let Some(sums) = code.sums() {
                std::ptr::copy_nonoverlapping(sums.as_ptr(), base.add(sums_at), sums.len());
            }
        }
        // SAFETY: the mapping made above, now read and execute only.
        if unsafe { libc::mprotect(map, len, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            let err = std::io::Error::last_os_error();
            // SAFETY: the mapping made above, unused.
            unsafe { libc::munmap(map, len) };
            return Err(err);
        }
        Ok(WideKernels {
            map,
            len,
            // SAFETY: the loops' code (the caller's contract), executable now.
            elementwise: unsafe { std::mem::transmute::<*mut u8, RawWide>(base) },
            sums: code.sums().map(|_| {
                // SAFETY: as above, at its offset.
                unsafe { std::mem::transmute::<*mut u8, RawLeafSums>(base.add(sums_at)) }
            }),
            step: code.step(),
            elem: code.elem(),
            out_elem: code.out_elem(),
        })
    }

    /// Runs the elementwise loop on the first `count * step` of `n`
    /// elements if every operand is contiguous or uniform and the output
    /// contiguous; returns how many elements it computed (0: none).
    ///
    /// # Safety
    /// [`KernelFn::invoke`]'s contract, for a kernel of `sig` whose wide
    /// loops these are.
    unsafe fn elementwise(
        &self,
        sig: &KernelSig,
        ptrs: *const *const u8,
        strides: *const isize,
        out: *mut u8,
        out_stride: isize,
        n: usize,
    ) -> usize {
        let k = sig.leaves.len();
        let elem = self.elem as isize;
        if out_stride != self.out_elem as isize || n < self.step {
            return 0;
        }
        // SAFETY: the ABI: one pointer and one stride per operand.
        let (ptrs, strides) = unsafe {
            (
                std::slice::from_raw_parts(ptrs, k),
                std::slice::from_raw_parts(strides, k),
            )
        };
        if !strides.iter().all(|&s| s == elem || s == 0) {
            return 0;
        }
        let count = n / self.step;
        // A uniform operand is read from `UNROLL` vectors of copies of its value.
        let uniform = strides.iter().filter(|&&s| s == 0).count();
        // A fixed array filled in place: a `SmallVec` of them was moved (a
        // `memcpy` of 320 bytes, uniform operands or not) and its fields
        // then read back from the copy's wide stores, a stall that cost a
        // third of the time of a 256-element row.
        if uniform > MAX_UNIFORM {
            return 0;
        }
        let mut copies = [Copies([0; 16]); MAX_UNIFORM];
        let mut slots = copies.iter_mut();
        for (&p, &s) in ptrs.iter().zip(strides) {
            if s == 0 {
                // One element's bits, repeated (a `memcpy` call per copy,
                // as `copy_nonoverlapping` of a run-time length made, cost
                // more than the loop over a 256-element row).
                let word = match self.elem {
                    // SAFETY: `p` points at one element of `elem` bytes (the
                    // ABI, stride 0); unaligned reads of exactly that size.
                    8 => unsafe { std::ptr::read_unaligned(p as *const u64) },
                    4 => {
                        // SAFETY: as above, for an element of 4 bytes.
                        let v = u64::from(unsafe { std::ptr::read_unaligned(p as *const u32) });
                        v | (v << 32)
                    }
                    // Wide loops are float32 and float64 only.
                    _ => return 0,
                };
                if let Some(slot) = slots.next() {
                    slot.0.iter_mut().for_each(|w| *w = word);
                }
            }
        }
        let mut at: PerOperand<*const u8> = SmallVec::with_capacity(k);
        let mut steps: PerOperand<isize> = SmallVec::with_capacity(k);
        let mut next = copies.iter();
        for (&p, &s) in ptrs.iter().zip(strides) {
            if s == 0 {
                at.push(next.next().map_or(p, |b| b.0.as_ptr() as *const u8));
                steps.push(0);
            } else {
                at.push(p);
                steps.push((self.step * self.elem) as isize);
            }
        }
        const { assert!(wide::UNROLL * 64 <= 128) };
        // SAFETY: the wide elementwise ABI: `count * step <= n` elements of
        // each contiguous operand and of the output (inside them by the
        // caller's contract); a uniform operand reads its 128-byte buffer
        // (`UNROLL` vectors of at most 64 bytes) at step 0.
        unsafe { (self.elementwise)(at.as_ptr(), steps.as_ptr(), out, count) };
        count * self.step
    }
}

/// The most uniform (stride 0) operands a wide loop takes; a call with
/// more runs the Cranelift kernel.
const MAX_UNIFORM: usize = 4;

/// `UNROLL` vectors of copies of a uniform operand's value (the wide loops
/// read them with aligned-size loads).
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Copies([u64; 16]);

impl Drop for WideKernels {
    fn drop(&mut self) {
        // SAFETY: the mapping `map` made; no kernel refers to it any more
        // (the last `Arc` is dropping).
        unsafe { libc::munmap(self.map, self.len) };
    }
}

/// Owns the JIT module whose code the kernels point into; frees it on drop.
pub struct CodeMemory(Option<JITModule>);

impl CodeMemory {
    /// Takes ownership of a finalized module.
    pub fn new(module: JITModule) -> CodeMemory {
        CodeMemory(Some(module))
    }

    /// No code (for kernels whose code lives elsewhere, for the process).
    pub fn empty() -> CodeMemory {
        CodeMemory(None)
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        if let Some(module) = self.0.take() {
            // SAFETY: the `KernelFn`s pointing into this module are owned by the
            // same `JitProgram` as this `CodeMemory` and are dropped with it;
            // no call can be running since that borrows the program.
            unsafe { module.free_memory() };
        }
    }
}

// SAFETY: the module is only touched on drop; the code it owns is immutable.
unsafe impl Send for CodeMemory {}
// SAFETY: as above.
unsafe impl Sync for CodeMemory {}

/// A read operand: base pointer and byte strides for every axis of the stage shape.
pub struct Operand {
    dtype: DType,
    ptr: *const u8,
    strides: Strides,
    /// The byte stride of the operand as one run over the C-order index
    /// space of the stage: the element size when C-contiguous, 0 when one
    /// value broadcast everywhere; `None` otherwise.
    flat: Option<isize>,
}

/// The write operand.
pub struct Output {
    dtype: DType,
    ptr: *mut u8,
    /// Its number of elements.
    n: usize,
    strides: Strides,
    /// The element size when C-contiguous (one run), else `None`.
    flat: Option<isize>,
    /// Large outputs may be written with streaming stores ([`STREAM_BYTES`]).
    stream: bool,
}

// SAFETY: operands are read-only views of data borrowed for the whole call.
unsafe impl Send for Operand {}
// SAFETY: as above.
unsafe impl Sync for Operand {}
// SAFETY: tasks write disjoint elements of the output (the index space is
// partitioned), so sharing the base pointer across threads is sound.
unsafe impl Send for Output {}
// SAFETY: as above.
unsafe impl Sync for Output {}

impl Operand {
    /// `view` broadcast to `shape`, or `None` if it does not broadcast.
    pub fn new<T: Element>(view: &ArrayViewD<'_, T>, shape: &[usize]) -> Option<Operand> {
        let size = std::mem::size_of::<T>() as isize;
        // A view of the stage's shape needs no broadcast view (which costs
        // more than the rest of building the operand).
        let b = if view.shape() == shape {
            view.view()
        } else {
            view.broadcast(IxDyn(shape))?
        };
        let uniform = b
            .shape()
            .iter()
            .zip(b.strides())
            .all(|(&d, &s)| d <= 1 || s == 0);
        let flat = if b.is_standard_layout() {
            Some(size)
        } else if uniform {
            Some(0)
        } else {
            None
        };
        Some(Operand {
            dtype: T::DTYPE,
            ptr: b.as_ptr() as *const u8,
            strides: b.strides().iter().map(|&s| s * size).collect(),
            flat,
        })
    }
}

impl Operand {
    /// A contiguous run read over a 1-d stage of its length.
    pub fn of_slice<T: Element>(s: &[T]) -> Operand {
        let size = std::mem::size_of::<T>() as isize;
        Operand {
            dtype: T::DTYPE,
            ptr: s.as_ptr() as *const u8,
            strides: [size].into_iter().collect(),
            flat: Some(size),
        }
    }
}

impl Output {
    /// A contiguous run written as a 1-d stage of its length (regular
    /// stores: the flat path is for small calls).
    pub fn of_slice<T: Element>(s: &mut [T]) -> Output {
        Output::of::<T>(s.as_mut_ptr() as *mut u8, s.len(), &[1], true).without_streaming()
    }

    /// The whole of `view`, which must have exactly `shape`.
    pub fn new<T: Element>(view: &mut ArrayViewMutD<'_, T>, shape: &[usize]) -> Option<Output> {
        if view.shape() != shape {
            return None;
        }
        let (ptr, n) = (view.as_mut_ptr() as *mut u8, view.len());
        Some(Output::of::<T>(
            ptr,
            n,
            view.strides(),
            view.is_standard_layout(),
        ))
    }

    /// The output of `n` elements of `T` at `ptr` with element strides
    /// `strides` (C-contiguous: `standard`), written with streaming stores
    /// where large enough ([`STREAM_BYTES`]).
    fn of<T: Element>(ptr: *mut u8, n: usize, strides: &[isize], standard: bool) -> Output {
        let size = std::mem::size_of::<T>() as isize;
        Output {
            dtype: T::DTYPE,
            ptr,
            n,
            strides: strides.iter().map(|&s| s * size).collect(),
            flat: standard.then_some(size),
            stream: true,
        }
    }

    /// The output written with regular stores only (see [`STREAM_BYTES`]).
    pub fn without_streaming(self) -> Output {
        Output {
            stream: false,
            ..self
        }
    }

    /// The output of shape `squeezed` seen with shape `full`: the same
    /// elements, with length-1 axes inserted where `full` has them and
    /// `squeezed` does not (a stage whose reduced axes the result dropped).
    /// `None` if `full` is not `squeezed` with such axes.
    pub fn unsqueezed(self, full: &[usize], squeezed: &[usize]) -> Option<Output> {
        if squeezed.len() != self.strides.len() {
            return None;
        }
        // Positions of `full` that were dropped: greedy match from the left.
        let mut strides = Strides::new();
        let mut j = 0;
        for &d in full {
            if j < squeezed.len() && squeezed[j] == d {
                strides.push(self.strides[j]);
                j += 1;
            } else if d == 1 {
                strides.push(0);
            } else {
                return None;
            }
        }
        (j == squeezed.len()).then_some(Output { strides, ..self })
    }
}

/// What [`run`] returns when it has written every element of its output
/// (no cancellation): the proof [`new_array`] asks for.
pub struct Written {
    ptr: *mut u8,
    n: usize,
}

/// A new array of `dtype` and `shape` in `order`, its elements not
/// initialized, filled by `fill` through an [`Output`] over it written with
/// regular stores (a new large buffer is untouched pages, each cleared on
/// its first touch anyway: regular stores measured faster there than
/// streaming ones); the array once `fill` proves it wrote all of it.
/// Nothing zeroes the memory first (a third of the cost of a new result of
/// a memory-bound expression), and a recently freed buffer of that size is
/// reused by the allocator without page faults.
pub fn new_array(
    dtype: DType,
    shape: &[usize],
    order: crate::alloc::Order,
    fill: impl FnOnce(Output) -> crate::error::Result<Written>,
) -> crate::error::Result<crate::array::Array> {
    fn go<T: Element>(
        shape: &[usize],
        order: crate::alloc::Order,
        fill: impl FnOnce(Output) -> crate::error::Result<Written>,
    ) -> crate::error::Result<crate::array::Array> {
        let mut array = crate::alloc::uninit::<T>(shape, order)?;
        let ptr = array.as_mut_ptr() as *mut u8;
        let standard = array.is_standard_layout();
        let output = Output::of::<T>(ptr, array.len(), array.strides(), standard);
        let written = fill(output.without_streaming())?;
        if written.ptr != ptr || written.n != array.len() {
            return Err(crate::error::Error::internal(
                "a new result was not written whole",
            ));
        }
        // SAFETY: `written` comes from a `run` that wrote every element of
        // an output at `ptr` with `array.len()` elements: this array's (its
        // only outputs made over this memory are the one above and views of
        // it with length-1 axes added, which have the same elements).
        Ok(T::into_array(unsafe { array.assume_init() }))
    }
    crate::types::dtype_dispatch!(dtype, go(shape, order, fill))
}

/// Merges adjacent axes that every operand steps through uniformly, so a
/// C-contiguous (or broadcast-row) problem becomes one long run.
fn coalesce(shape: &[usize], strides: &mut [Vec<isize>]) -> Vec<usize> {
    let mut dims: Vec<usize> = Vec::new();
    let mut kept: Vec<Vec<isize>> = vec![Vec::new(); strides.len()];
    for (axis, &d) in shape.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let mergeable = !dims.is_empty()
            && strides
                .iter()
                .zip(&kept)
                .all(|(s, k)| k.last().copied() == Some(s[axis] * d as isize));
        if mergeable {
            let last = dims.len() - 1;
            dims[last] *= d;
            for (s, k) in strides.iter().zip(kept.iter_mut()) {
                let n = k.len();
                k[n - 1] = s[axis];
            }
        } else {
            dims.push(d);
            for (s, k) in strides.iter().zip(kept.iter_mut()) {
                k.push(s[axis]);
            }
        }
    }
    for (s, k) in strides.iter_mut().zip(kept) {
        *s = k;
    }
    dims
}

/// One unit of work: outer indices `outer` (flat over all but the last
/// axis), each over the inner range `inner` of the last axis.
struct Task {
    outer: Range<usize>,
    inner: Range<usize>,
}

fn tasks(dims: &[usize]) -> Vec<Task> {
    let inner_len = dims.last().copied().unwrap_or(1);
    let outer_len: usize = dims[..dims.len().saturating_sub(1)].iter().product();
    let mut out = Vec::new();
    if inner_len >= CHUNK || outer_len == 1 {
        for o in 0..outer_len {
            let mut start = 0;
            while start < inner_len {
                let end = (start + CHUNK).min(inner_len);
                out.push(Task {
                    outer: o..o + 1,
                    inner: start..end,
                });
                start = end;
            }
        }
    } else {
        let per = (CHUNK / inner_len.max(1)).max(1);
        let mut o = 0;
        while o < outer_len {
            let end = (o + per).min(outer_len);
            out.push(Task {
                outer: o..end,
                inner: 0..inner_len,
            });
            o = end;
        }
    }
    out
}

/// [`run`] on one thread with operand `at` read from `output` itself (the
/// product tile of a fused matrix product, which the stage then overwrites
/// in place): `inputs` holds the other operands, `None` at `at`. `None`,
/// nothing run, unless the kernel [`runs_in_place`](KernelFn::runs_in_place)
/// with operand `at`, the one missing.
pub fn run_in_place(
    kernel: &KernelFn,
    inputs: Vec<Option<Operand>>,
    at: usize,
    output: &Output,
    shape: &[usize],
    cancel: &AtomicBool,
) -> Option<Written> {
    let fits = kernel.runs_in_place(at, output.dtype)
        && inputs
            .iter()
            .enumerate()
            .all(|(k, o)| o.is_some() != (k == at));
    if !fits {
        return None;
    }
    let own = Operand {
        dtype: output.dtype,
        ptr: output.ptr as *const u8,
        strides: output.strides.clone(),
        flat: output.flat,
    };
    let mut own = Some(own);
    let inputs: Vec<Operand> = inputs
        .into_iter()
        .map(|o| o.or_else(|| own.take()))
        .collect::<Option<_>>()?;
    // Each element of the output is read (as operand `at`) and then written
    // by the same kernel step, which `runs_in_place` allows (see `invoke`).
    run(kernel, &inputs, output, shape, None, cancel)
}

/// Runs `kernel` over every index of `shape`: reads `inputs`, writes `output`.
pub fn run(
    kernel: &KernelFn,
    inputs: &[Operand],
    output: &Output,
    shape: &[usize],
    parallel: Option<&Team>,
    cancel: &AtomicBool,
) -> Option<Written> {
    kernel.check(inputs, output.dtype);
    let n: usize = shape.iter().product();
    // Every piece checks `cancel` before it starts and it is never cleared:
    // unset after the pieces, every piece ran.
    let written = || {
        (n == output.n && !cancel.load(Ordering::SeqCst)).then_some(Written { ptr: output.ptr, n })
    };
    if n == 0 {
        return written();
    }
    if let Some(out_stride) = output.flat
        && let Some(strides) = inputs
            .iter()
            .map(|o| o.flat)
            .collect::<Option<PerOperand<isize>>>()
    {
        run_flat(
            kernel, inputs, output, strides, out_stride, n, parallel, cancel,
        );
        return written();
    }
    if let Some(out_stride) = output.flat
        && let Some(layouts) = inputs
            .iter()
            .map(|o| match o.flat {
                Some(_) => Some(Layout::Flat),
                None => layout(&o.strides, shape, o.dtype.size() as isize),
            })
            .collect::<Option<PerOperand<Layout>>>()
        && let Some(block) = periodic_block(&layouts)
    {
        run_periodic(
            kernel, inputs, output, &layouts, block, out_stride, n, parallel, cancel,
        );
        return written();
    }
    // Elements are independent, so walk the axes in the output's memory
    // order (largest stride first): a Fortran-order problem then coalesces
    // into one contiguous run just like a C-order one.
    let mut order: Vec<usize> = (0..shape.len()).collect();
    order.sort_by_key(|&axis| std::cmp::Reverse(output.strides[axis].unsigned_abs()));
    let shape: Vec<usize> = order.iter().map(|&a| shape[a]).collect();
    let permute = |s: &[isize]| order.iter().map(|&a| s[a]).collect::<Vec<isize>>();
    let mut strides: Vec<Vec<isize>> = inputs.iter().map(|o| permute(&o.strides)).collect();
    strides.push(permute(&output.strides));
    let mut dims = coalesce(&shape, &mut strides);
    if dims.is_empty() {
        dims.push(1);
        for s in strides.iter_mut() {
            s.push(0);
        }
    }
    let work = tasks(&dims);
    let run_task = |task: &Task| {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        let last = dims.len() - 1;
        let k_out = inputs.len();
        let inner: PerOperand<isize> = strides.iter().map(|s| s[last]).collect();
        // The outer index as digits over dims[..last] (row-major) and each
        // operand's byte offset for it, stepped like an odometer from row
        // to row: a division per axis and a fresh sum per row (with its
        // offsets cleared by a `memset` whose store the next add waited on)
        // cost more than the kernel on a 256-element row.
        let mut digit: SmallVec<[usize; 8]> = SmallVec::from_elem(0, last);
        let mut rem = task.outer.start;
        for axis in (0..last).rev() {
            digit[axis] = rem % dims[axis];
            rem /= dims[axis];
        }
        let mut offsets: PerOperand<isize> = strides
            .iter()
            .map(|s| (0..last).map(|a| digit[a] as isize * s[a]).sum())
            .collect();
        let start = task.inner.start as isize;
        let mut ptrs: PerOperand<*const u8> = SmallVec::from_elem(std::ptr::null(), k_out);
        for o in task.outer.clone() {
            for (k, p) in ptrs.iter_mut().enumerate() {
                // SAFETY: `offsets` are those of outer index `o` (inside
                // `shape`) for the operand's strides, so the address is
                // inside the operand (ndarray checked the broadcast view).
                *p = unsafe { inputs[k].ptr.offset(offsets[k] + start * inner[k]) };
            }
            // SAFETY: as above for the output view, which has exactly `shape`.
            let out = unsafe { output.ptr.offset(offsets[k_out] + start * inner[k_out]) };
            // SAFETY: the kernel reads `ptrs[k] + i*inner[k]` and writes
            // `out + i*inner_out` for i < len; those are the elements of this
            // task's run, all inside their operands; the kernel was compiled
            // for these dtypes, and its code lives as long as `kernel`.
            unsafe {
                kernel.invoke(
                    ptrs.as_ptr(),
                    inner.as_ptr(),
                    out,
                    inner[k_out],
                    task.inner.len(),
                );
            }
            if o + 1 == task.outer.end {
                break;
            }
            // The next outer index: carry from the last outer axis (plain
            // integer arithmetic; no pointer is formed until the next row).
            for axis in (0..last).rev() {
                digit[axis] += 1;
                if digit[axis] < dims[axis] {
                    for (off, s) in offsets.iter_mut().zip(&strides) {
                        *off += s[axis];
                    }
                    break;
                }
                digit[axis] = 0;
                let back = (dims[axis] - 1) as isize;
                for (off, s) in offsets.iter_mut().zip(&strides) {
                    *off -= back * s[axis];
                }
            }
        }
    };
    match parallel {
        Some(team) if work.len() > 1 => {
            team.for_each(work.len(), || (), |_, i| run_task(&work[i]));
        }
        _ => work.iter().for_each(run_task),
    }
    written()
}

/// Outputs at least this large (half the L3 of the machines measured) that
/// were not just allocated ([`new_array`]), of a memory-bound stage
/// ([`Output::without_streaming`] otherwise), are written with non-temporal
/// stores: each piece is computed into a buffer
/// that stays in L2, then streamed to the output, so its lines are never
/// read first (a regular store reads a line before writing it): `a*b+c`
/// moves 32 bytes per element instead of 40.
pub const STREAM_BYTES: usize = 16 << 20;

thread_local! {
    /// Each thread's buffer for one streamed piece (at most `CHUNK` elements:
    /// smaller pieces, 2,048 elements, measured 5-20% slower).
    static PIECE: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`run`] when every operand is one run over the C-order index space (the
/// common case): the kernel is called on `[0, n)` directly, or on
/// `CHUNK`-element pieces in parallel, without building a task list.
#[allow(clippy::too_many_arguments)]
fn run_flat(
    kernel: &KernelFn,
    inputs: &[Operand],
    output: &Output,
    mut strides: PerOperand<isize>,
    out_stride: isize,
    n: usize,
    parallel: Option<&Team>,
    cancel: &AtomicBool,
) {
    strides.push(out_stride);
    let stream =
        output.stream && out_stride > 0 && n.saturating_mul(out_stride as usize) >= STREAM_BYTES;
    let piece = |start: usize, end: usize| {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        let ptrs: PerOperand<*const u8> = inputs
            .iter()
            .zip(&strides)
            // SAFETY: start < n, and element `start` of a flat operand is at
            // `ptr + start*stride` (C order; stride 0 when broadcast), inside it.
            .map(|(o, &s)| unsafe { o.ptr.offset(start as isize * s) })
            .collect();
        // SAFETY: start < n: element `start` of the C-contiguous output.
        let o = unsafe { output.ptr.offset(start as isize * out_stride) };
        let len = end - start;
        if stream {
            let bytes = len * out_stride as usize;
            PIECE.with(|buf| {
                let mut buf = buf.borrow_mut();
                buf.resize(bytes.div_ceil(8), 0);
                let staged = buf.as_mut_ptr() as *mut u8;
                // SAFETY: as below, writing the `len` elements into `buf`
                // instead (8-byte aligned, `bytes` long), which then go to
                // `o..o + bytes`: this piece's elements of the output.
                unsafe {
                    kernel.invoke(ptrs.as_ptr(), strides.as_ptr(), staged, out_stride, len);
                    stream_copy(staged, o, bytes);
                }
            });
            return;
        }
        // SAFETY: the kernel reads `ptrs[k] + i*strides[k]` and writes
        // `out + (start+i)*out_stride` for i < end-start: elements of the
        // flat operands and of the C-contiguous output, which has n elements;
        // the kernel was compiled for these dtypes and outlives this call.
        unsafe { kernel.invoke(ptrs.as_ptr(), strides.as_ptr(), o, out_stride, len) };
    };
    // A range in pieces of at most `CHUNK` (a streamed piece's buffer;
    // cancellation is checked between pieces).
    let range = |r: Range<usize>| {
        let mut start = r.start;
        while start < r.end {
            let end = (start + CHUNK).min(r.end);
            piece(start, end);
            start = end;
        }
    };
    match parallel {
        Some(team) => {
            // At least four pieces a thread (for `for_each` to balance), each
            // whole cache lines of the output and at most `CHUNK` elements:
            // the same thread's part on every call (`Team::for_each`).
            let size = n
                .div_ceil(4 * team.threads())
                .next_multiple_of(64)
                .min(CHUNK);
            team.for_each(
                n.div_ceil(size),
                || (),
                |_, p| piece(p * size, ((p + 1) * size).min(n)),
            );
        }
        _ => range(0..n),
    }
}

/// The most elements of a block of [`run_periodic`].
const PERIODIC_BLOCK: usize = 4096;

/// How [`run_periodic`] reads an operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One run over the C-order index space (`Operand::flat`).
    Flat,
    /// Broadcast along its leading axes (`X - mu`'s `mu`, a row broadcast
    /// down the rows): its first `p` elements, one contiguous run, repeat
    /// along the index space.
    Period(usize),
    /// Broadcast along its trailing axes (`x / sum(x, axis=1)`'s sums, a
    /// column broadcast across the rows): element `i` of the index space
    /// is its contiguous element `i / r`.
    Repeat(usize),
}

/// The [`Layout`] of an operand with byte `strides` over `shape` and
/// elements of `size` bytes, other than flat: `None` if it is neither
/// periodic nor repeated.
fn layout(strides: &[isize], shape: &[usize], size: isize) -> Option<Layout> {
    let live = |a: usize| shape[a] != 1;
    // Trailing axes C-contiguous, then leading ones broadcast: a period.
    let (mut expect, mut p, mut axis) = (size, 1usize, shape.len());
    while axis > 0 && (!live(axis - 1) || strides[axis - 1] == expect) {
        if live(axis - 1) {
            expect = expect.checked_mul(shape[axis - 1] as isize)?;
            p = p.checked_mul(shape[axis - 1])?;
        }
        axis -= 1;
    }
    if (0..axis).all(|a| !live(a) || strides[a] == 0) {
        return Some(Layout::Period(p));
    }
    // Trailing axes broadcast, then leading ones C-contiguous: a repeat.
    let (mut r, mut axis) = (1usize, shape.len());
    while axis > 0 && (!live(axis - 1) || strides[axis - 1] == 0) {
        r = r.checked_mul(shape[axis - 1])?;
        axis -= 1;
    }
    let mut expect = size;
    for a in (0..axis).rev() {
        if live(a) {
            if strides[a] != expect {
                return None;
            }
            expect = expect.checked_mul(shape[a] as isize)?;
        }
    }
    Some(Layout::Repeat(r))
}

/// Elements per block of [`run_periodic`] for operands of `layouts`: the
/// largest multiple of every period up to [`PERIODIC_BLOCK`], so every
/// block starts a period of each; `None` if every operand is flat or the
/// periods' common multiple exceeds that.
fn periodic_block(layouts: &[Layout]) -> Option<usize> {
    let gcd = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let mut lcm = 1usize;
    for layout in layouts {
        if let Layout::Period(p) = *layout {
            lcm = (lcm / gcd(lcm, p)).checked_mul(p)?;
            if lcm > PERIODIC_BLOCK {
                return None;
            }
        }
    }
    layouts
        .iter()
        .any(|l| *l != Layout::Flat)
        .then_some(PERIODIC_BLOCK / lcm * lcm)
}

/// Writes elements `at..at + len` of a repeated operand (element `i` is
/// `src`'s element `i / r`, of `size` bytes) to `dst`.
///
/// # Safety
/// `src` holds elements `at / r ..= (at + len - 1) / r`, `dst` has room for
/// `len` elements, 8-byte aligned, and they do not overlap.
unsafe fn fill_repeat(src: *const u8, size: usize, r: usize, at: usize, len: usize, dst: *mut u8) {
    let (mut i, mut q, mut k) = (0, at / r, at % r);
    while i < len {
        let count = (r - k).min(len - i);
        // SAFETY: element `q` of `src` and elements `i..i + count` of `dst`
        // are inside them (the contract); `dst` is aligned for any element.
        unsafe {
            let v = src.add(q * size);
            let d = dst.add(i * size);
            match size {
                8 => std::slice::from_raw_parts_mut(d as *mut u64, count)
                    .fill(std::ptr::read_unaligned(v as *const u64)),
                4 => std::slice::from_raw_parts_mut(d as *mut u32, count)
                    .fill(std::ptr::read_unaligned(v as *const u32)),
                _ => {
                    (0..count).for_each(|j| std::ptr::copy_nonoverlapping(v, d.add(j * size), size))
                }
            }
        }
        i += count;
        q += 1;
        k = 0;
    }
}

/// [`run`] for a C-contiguous output whose operands are flat, periodic or
/// repeated (`layouts`): in blocks of `block` elements (a multiple of every
/// period), each a single kernel call on contiguous runs; a periodic
/// operand is read from a per-thread copy of its period repeated over a
/// block (made once per call and thread), a repeated one from a per-thread
/// block of its values, each repeated, filled for every block. A call per
/// row (the strided path) cost more than the arithmetic on short rows:
/// `(X - mu) / sd` on 1000 × 16 took 34.7 µs from Python against NumPy's
/// 22.6 (12.0 in blocks), and the final stage of `x / sum(x, axis=1)` on
/// 10⁵ × 10 about 6 ms (with the per-axis sum read in place,
/// `jit::reduce`, the whole call went from 26.4 ms to 0.79; NumPy 2.8).
#[allow(clippy::too_many_arguments)]
fn run_periodic(
    kernel: &KernelFn,
    inputs: &[Operand],
    output: &Output,
    layouts: &[Layout],
    block: usize,
    out_stride: isize,
    n: usize,
    parallel: Option<&Team>,
    cancel: &AtomicBool,
) {
    let mut strides: PerOperand<isize> = inputs
        .iter()
        .zip(layouts)
        .map(|(o, l)| match l {
            Layout::Flat => o.flat.unwrap_or(0),
            _ => o.dtype.size() as isize,
        })
        .collect();
    strides.push(out_stride);
    let len = block.min(n);
    // Each thread's blocks of the periodic and repeated operands, `len`
    // elements each; a periodic one filled here once.
    let fill = || -> Vec<Vec<u64>> {
        inputs
            .iter()
            .zip(layouts)
            .map(|(o, l)| {
                let size = o.dtype.size();
                match *l {
                    Layout::Flat => Vec::new(),
                    Layout::Repeat(_) => vec![0u64; (len * size).div_ceil(8)],
                    Layout::Period(p) => {
                        let mut buf = vec![0u64; (len * size).div_ceil(8)];
                        let dst = buf.as_mut_ptr() as *mut u8;
                        let mut at = 0;
                        while at < len {
                            let count = p.min(len - at);
                            // SAFETY: the operand's first `p` elements are one
                            // contiguous run at `o.ptr` (`layout`), and `count
                            // <= p` of them go to elements `at..at + count <=
                            // len` of `buf`, `len * size` bytes long.
                            unsafe {
                                std::ptr::copy_nonoverlapping(
                                    o.ptr,
                                    dst.add(at * size),
                                    count * size,
                                )
                            };
                            at += count;
                        }
                        buf
                    }
                }
            })
            .collect()
    };
    let piece = |copies: &mut Vec<Vec<u64>>, start: usize, end: usize| {
        let mut at = start;
        while at < end {
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            let len = block.min(end - at);
            for ((o, l), copy) in inputs.iter().zip(layouts).zip(copies.iter_mut()) {
                if let Layout::Repeat(r) = *l {
                    let dst = copy.as_mut_ptr() as *mut u8;
                    // SAFETY: a repeated operand's elements are one run at
                    // `o.ptr` (`layout`) of one per `r` elements of the index
                    // space, so it holds those of `at..at + len < n`; the
                    // copy has room for `block.min(n) >= len` elements.
                    unsafe { fill_repeat(o.ptr, o.dtype.size(), r, at, len, dst) };
                }
            }
            let ptrs: PerOperand<*const u8> = inputs
                .iter()
                .zip(layouts)
                .zip(copies.iter())
                .map(|((o, l), copy)| match l {
                    // SAFETY: at < n, and element `at` of a flat operand is at
                    // `ptr + at * stride` (C order; stride 0 when broadcast).
                    Layout::Flat => unsafe { o.ptr.offset(at as isize * o.flat.unwrap_or(0)) },
                    _ => copy.as_ptr() as *const u8,
                })
                .collect();
            // SAFETY: at < n: element `at` of the C-contiguous output.
            let out = unsafe { output.ptr.offset(at as isize * out_stride) };
            // SAFETY: the kernel reads `len` elements from each pointer at its
            // stride: a flat operand's elements `at..at + len`; a periodic
            // one's copy (at least `len` elements, `at` a multiple of its
            // period, so element i of the copy is the operand's element
            // `at + i`); a repeated one's block, just filled with elements
            // `at..at + len`; and writes the output's elements `at..at +
            // len`; the kernel was compiled for these dtypes and outlives
            // this call.
            unsafe { kernel.invoke(ptrs.as_ptr(), strides.as_ptr(), out, out_stride, len) };
            at += len;
        }
    };
    match parallel {
        Some(team) if n > block => {
            // Whole blocks, at least four pieces a thread (see `run_flat`).
            let size = n
                .div_ceil(4 * team.threads())
                .next_multiple_of(block)
                .min(CHUNK.next_multiple_of(block));
            team.for_each(n.div_ceil(size), fill, |copies, t| {
                piece(copies, t * size, ((t + 1) * size).min(n))
            });
        }
        _ => piece(&mut fill(), 0, n),
    }
}

/// Copies `bytes` from `src` to `dst` with non-temporal stores (x86-64:
/// SSE2, which every x86-64 CPU has), then fences them, so they are visible
/// to any thread that later synchronizes with this one.
///
/// # Safety
/// `src` is readable and `dst` writable for `bytes` bytes, and they do not
/// overlap.
unsafe fn stream_copy(src: *const u8, dst: *mut u8, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_sfence, _mm_stream_si128};
        let head = dst.align_offset(16).min(bytes);
        let body = (bytes - head) & !63;
        // SAFETY: every access is inside the first `bytes` bytes of `src`
        // and `dst` (the caller's contract); the streamed stores are to
        // 16-byte-aligned addresses (`head` aligns `dst`), the loads unaligned.
        unsafe {
            std::ptr::copy_nonoverlapping(src, dst, head);
            let mut i = head;
            while i < head + body {
                for k in 0..4 {
                    let v = _mm_loadu_si128(src.add(i + 16 * k) as *const __m128i);
                    _mm_stream_si128(dst.add(i + 16 * k) as *mut __m128i, v);
                }
                i += 64;
            }
            std::ptr::copy_nonoverlapping(src.add(i), dst.add(i), bytes - i);
            _mm_sfence();
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: the caller's contract.
    unsafe {
        std::ptr::copy_nonoverlapping(src, dst, bytes)
    }
}

/// Finalizes `module` and returns its code memory with the addresses of `ids`.
pub fn finalize_addresses(
    mut module: JITModule,
    ids: &[cranelift_module::FuncId],
) -> Result<(CodeMemory, Vec<*const u8>), String> {
    module.finalize_definitions().map_err(|e| e.to_string())?;
    let addresses = ids
        .iter()
        .map(|&id| module.get_finalized_function(id))
        .collect();
    Ok((CodeMemory::new(module), addresses))
}

/// A leaf-sum kernel in a module being compiled, and its frame size.
pub type LeafSumsId = (cranelift_module::FuncId, usize);

/// Finalizes `module` and returns its code memory with the kernels `ids`,
/// each defined by `codegen::define_kernel` for its signature, with the
/// stage's leaf-sum kernel defined by `codegen::define_leaf_sums` if given.
pub fn finalize(
    mut module: JITModule,
    ids: &[(cranelift_module::FuncId, KernelSig, Option<LeafSumsId>)],
) -> Result<(CodeMemory, Vec<KernelFn>), String> {
    module.finalize_definitions().map_err(|e| e.to_string())?;
    let kernels = ids
        .iter()
        .map(|(id, sig, sums)| {
            let address = module.get_finalized_function(*id);
            let sums = sums.map(|(id, frame)| (module.get_finalized_function(id), frame));
            // SAFETY: `id` was defined by `codegen::define_kernel` with the
            // kernel ABI for `sig` (and `sums` by `define_leaf_sums` for the
            // same stage), and the module is finalized; the returned code
            // memory owns them and is kept next to the kernels by their owner.
            unsafe { KernelFn::from_address(address, sig.clone(), sums) }
        })
        .collect();
    Ok((CodeMemory::new(module), kernels))
}

/// The C-order index space of a stage, coalesced, for computing any range
/// of its flat indices into a contiguous buffer.
struct Walker<'a> {
    kernel: &'a KernelFn,
    inputs: &'a [Operand],
    dims: Vec<usize>,
    strides: Vec<Vec<isize>>,
    /// Byte strides along the last coalesced axis (inputs, then the output).
    inner: Vec<isize>,
    n: usize,
}

impl Walker<'_> {
    fn new<'a>(
        kernel: &'a KernelFn,
        inputs: &'a [Operand],
        shape: &[usize],
        size: isize,
    ) -> Walker<'a> {
        let n: usize = shape.iter().product();
        if let Some(flat) = inputs
            .iter()
            .map(|o| o.flat)
            .collect::<Option<Vec<isize>>>()
        {
            // Every operand is one C-order run: one axis of n.
            let mut inner = flat;
            inner.push(size);
            return Walker {
                kernel,
                inputs,
                dims: vec![n.max(1)],
                strides: inner.iter().map(|&s| vec![s]).collect(),
                inner,
                n,
            };
        }
        // A virtual C-contiguous output lets `coalesce` merge exactly the axes
        // along which the flat index is contiguous for every input.
        let mut out_strides = vec![0isize; shape.len()];
        let mut acc = size;
        for (axis, &d) in shape.iter().enumerate().rev() {
            out_strides[axis] = acc;
            acc *= d.max(1) as isize;
        }
        let mut strides: Vec<Vec<isize>> = inputs.iter().map(|o| o.strides.to_vec()).collect();
        strides.push(out_strides);
        let mut dims = coalesce(shape, &mut strides);
        if dims.is_empty() {
            dims.push(1);
            for s in strides.iter_mut() {
                s.push(0);
            }
        }
        let last = dims.len() - 1;
        let inner: Vec<isize> = strides.iter().map(|s| s[last]).collect();
        Walker {
            kernel,
            inputs,
            dims,
            strides,
            inner,
            n,
        }
    }

    /// Computes the values of flat indices `[start, start + out.len())`
    /// into `out` (`ptrs` and `offsets`: scratch space, reused across calls).
    /// Does nothing unless the range lies inside the index space.
    fn fill<T>(
        &self,
        start: usize,
        out: &mut [T],
        ptrs: &mut Vec<*const u8>,
        offsets: &mut Vec<isize>,
    ) {
        let end = start + out.len();
        if end > self.n {
            return;
        }
        let last = self.dims.len() - 1;
        let inner_len = self.dims[last];
        ptrs.resize(self.inputs.len(), std::ptr::null());
        if last == 0 {
            // One axis: the run starts `start` strides into every operand.
            for (k, p) in ptrs.iter_mut().enumerate() {
                // SAFETY: end <= n, the length of the only axis, so the run
                // [start, end) is inside every operand.
                *p = unsafe { self.inputs[k].ptr.offset(start as isize * self.inner[k]) };
            }
            // SAFETY: as below, for the one run [start, end).
            unsafe { self.call(ptrs, out.as_mut_ptr() as *mut u8, size_of::<T>(), out.len()) };
            return;
        }
        offsets.resize(self.inputs.len(), 0);
        let mut s = start;
        while s < end {
            let (o, j) = (s / inner_len, s % inner_len);
            let len = (inner_len - j).min(end - s);
            let mut rem = o;
            offsets.fill(0);
            for axis in (0..last).rev() {
                let i = (rem % self.dims[axis]) as isize;
                rem /= self.dims[axis];
                for (off, st) in offsets.iter_mut().zip(&self.strides) {
                    *off += i * st[axis];
                }
            }
            for (k, p) in ptrs.iter_mut().enumerate() {
                // SAFETY: (o, j) is an index inside the stage shape (s < n),
                // and the run [j, j+len) stays inside the last coalesced axis,
                // so every address the kernel forms is inside operand k.
                *p = unsafe {
                    self.inputs[k]
                        .ptr
                        .offset(offsets[k] + j as isize * self.inner[k])
                };
            }
            // SAFETY: the kernel writes `len` elements of T (the dtype it was
            // compiled for: the caller's `T`) starting at element `s - start`
            // of `out`, which holds `end - start` of them; it reads only the
            // runs above; its code outlives `self.kernel`.
            unsafe {
                let dst = out.as_mut_ptr().add(s - start) as *mut u8;
                self.call(ptrs, dst, size_of::<T>(), len);
            }
            s += len;
        }
    }

    /// The leaf-sum kernel's sums of runs of `lens` values from flat index
    /// `start` into `sums` (see `codegen::define_leaf_sums`), if the stage
    /// has the kernel and the runs can be given to it: one axis (every
    /// operand one run), every operand of `T` with stride 0 or its size,
    /// `lens` as many as `sums`, each a non-zero multiple of 8, ending at
    /// `limit` (≤ n) at most. `false` (nothing written) otherwise.
    /// Whether the stage's leaf-sum kernel can take its runs as `T`: it has
    /// one, the index space is one axis (every operand one run), and every
    /// operand is of `T` with stride 0 or `T`'s size.
    fn sums_leaves<T: Element>(&self) -> bool {
        let size = size_of::<T>() as isize;
        self.kernel.leaf_sums.is_some()
            && self.dims.len() == 1
            && self.kernel.sig.out == T::DTYPE
            && self.kernel.sig.leaves.iter().all(|&d| d == T::DTYPE)
            && self.inner[..self.inputs.len()]
                .iter()
                .all(|&s| s == 0 || s == size)
    }

    fn leaf_sums<T: Element>(
        &self,
        start: usize,
        limit: usize,
        lens: &[u32],
        sums: &mut [T],
        ptrs: &mut Vec<*const u8>,
    ) -> bool {
        let total: usize = lens.iter().map(|&l| l as usize).sum();
        let fits = self.sums_leaves::<T>()
            && !lens.is_empty()
            && lens.len() == sums.len()
            && lens.iter().all(|&l| l > 0 && l.is_multiple_of(8))
            && start + total <= limit.min(self.n);
        let Some((mut f, frame)) = self.kernel.leaf_sums.filter(|_| fits) else {
            return false;
        };
        // The wide loop, for contiguous operands (`wide::compile`'s leaf sums).
        if let Some(w) = &self.kernel.wide
            && let Some(sums) = w.sums
            && self
                .inner
                .iter()
                .take(self.inputs.len())
                .all(|&s| s == w.elem as isize)
        {
            f = sums;
        }
        ptrs.resize(self.inputs.len(), std::ptr::null());
        for (k, p) in ptrs.iter_mut().enumerate() {
            // SAFETY: start + total <= n, the length of the only axis, so
            // the run [start, start + total) is inside every operand.
            *p = unsafe { self.inputs[k].ptr.offset(start as isize * self.inner[k]) };
        }
        // On a new stack segment if its frame does not fit (as `invoke`).
        let need = frame + STACK_RED_ZONE;
        stacker::maybe_grow(need, need.max(STACK_SEGMENT), || {
            // SAFETY: the leaf-sum ABI: operand k is read at `ptrs[k] + i *
            // inner[k]` for i < total (inside it, above), every operand and
            // the sums are of T, the kernel's dtype (checked), strides are 0
            // or T's size, the lens are non-zero multiples of 8, and `sums`
            // holds one T per run; its code outlives `self.kernel`.
            unsafe {
                f(
                    ptrs.as_ptr(),
                    self.inner.as_ptr(),
                    sums.as_mut_ptr() as *mut u8,
                    lens.as_ptr(),
                    lens.len(),
                )
            }
        });
        true
    }

    /// Runs the kernel on `len` elements: operand k from `ptrs[k]` with its
    /// inner stride, into `dst` with stride `size`.
    ///
    /// # Safety
    /// Every address the kernel forms (`ptrs[k] + i * inner[k]`, `dst + i *
    /// size` for `i < len`) must be inside operand k and the destination,
    /// and the destination must hold elements of the kernel's output dtype.
    unsafe fn call(&self, ptrs: &[*const u8], dst: *mut u8, size: usize, len: usize) {
        // SAFETY: the caller's contract; the kernel's code outlives `self.kernel`.
        unsafe {
            self.kernel
                .invoke(ptrs.as_ptr(), self.inner.as_ptr(), dst, size as isize, len)
        }
    }
}

/// Runs `kernel` over the C-order index space of `shape` in blocks of
/// `block` elements, each computed into a contiguous buffer and handed to
/// `f`; returns `f`'s results in block order. Blocks run in parallel on
/// `parallel` when there are several.
pub fn run_blocks<T, R>(
    kernel: &KernelFn,
    inputs: &[Operand],
    shape: &[usize],
    block: usize,
    parallel: Option<&Team>,
    cancel: &AtomicBool,
    f: impl Fn(&[T]) -> R + Sync,
) -> Vec<R>
where
    T: Element + Default,
    R: Send,
{
    let n: usize = shape.iter().product();
    if n == 0 {
        return Vec::new();
    }
    kernel.check(inputs, T::DTYPE);
    let walker = Walker::new(kernel, inputs, shape, std::mem::size_of::<T>() as isize);
    let blocks = n.div_ceil(block);
    let compute = |buf: &mut Vec<T>, b: usize| -> R {
        let start = b * block;
        // Cancelled: an empty block (the caller discards the result).
        let end = if cancel.load(Ordering::Relaxed) {
            start
        } else {
            (start + block).min(n)
        };
        buf.resize(end - start, T::default());
        walker.fill(start, buf, &mut Vec::new(), &mut Vec::new());
        f(buf)
    };
    threads::map(
        parallel,
        blocks,
        || Vec::with_capacity(block.min(n)),
        compute,
    )
}

/// Like [`run_blocks`], but `f` gets each block's length and a function
/// that computes any range of the block's values (`fill(start, out)`: the
/// values `start..start + out.len()` of the block into `out`), so it can
/// compute and consume a block piece by piece while the pieces are in L1;
/// and where the stage has a leaf-sum kernel that can run on the operands
/// (one run each, contiguous or uniform), a function that sums runs of
/// the block's values as they are computed (`ir::scalar::Leaves`).
pub fn run_blocks_by<T, R>(
    kernel: &KernelFn,
    inputs: &[Operand],
    shape: &[usize],
    block: usize,
    parallel: Option<&Team>,
    cancel: &AtomicBool,
    f: impl Fn(usize, Fill<'_, T>, Option<Leaves<'_, T>>) -> R + Sync,
) -> Vec<R>
where
    T: Element + Default,
    R: Send,
{
    let n: usize = shape.iter().product();
    if n == 0 {
        return Vec::new();
    }
    kernel.check(inputs, T::DTYPE);
    let walker = Walker::new(kernel, inputs, shape, std::mem::size_of::<T>() as isize);
    let summable = walker.sums_leaves::<T>();
    let blocks = n.div_ceil(block);
    // Scratch space for the operand pointers, per thread.
    type Scratch = (Vec<*const u8>, Vec<isize>, Vec<*const u8>);
    let compute = |(ptrs, offsets, sum_ptrs): &mut Scratch, b: usize| -> R {
        let start = b * block;
        // Cancelled: an empty block (the caller discards the result).
        let end = if cancel.load(Ordering::Relaxed) {
            start
        } else {
            (start + block).min(n)
        };
        let mut fill = |s: usize, out: &mut [T]| {
            if s + out.len() <= end - start {
                walker.fill(start + s, out, ptrs, offsets);
            }
        };
        let mut leaves = |s: usize, lens: &[u32], sums: &mut [T]| {
            let done = walker.leaf_sums(start + s, end, lens, sums, sum_ptrs);
            debug_assert!(done, "leaf sums refused");
        };
        f(end - start, &mut fill, summable.then_some(&mut leaves))
    };
    threads::map(parallel, blocks, Scratch::default, compute)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_merges_c_contiguous_axes() {
        let mut s = vec![vec![24, 8], vec![0, 0]];
        assert_eq!(coalesce(&[4, 3], &mut s), vec![12]);
        assert_eq!(s, vec![vec![8], vec![0]]);
        // A row broadcast down the columns cannot merge.
        let mut s = vec![vec![24, 8], vec![0, 8]];
        assert_eq!(coalesce(&[4, 3], &mut s), vec![4, 3]);
        let mut s = vec![vec![8, 32]];
        assert_eq!(coalesce(&[4, 3], &mut s), vec![4, 3]);
    }

    #[test]
    fn tasks_cover_every_index_once() {
        for dims in [vec![100_000], vec![3, 50_000], vec![1000, 7], vec![1]] {
            let total: usize = dims.iter().product();
            let covered: usize = tasks(&dims)
                .iter()
                .map(|t| t.outer.len() * t.inner.len())
                .sum();
            assert_eq!(covered, total, "{dims:?}");
        }
    }
}
