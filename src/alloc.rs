//! Allocating result arrays, C or Fortran order: uninitialized for a
//! kernel to write ([`uninit`]), or zero-filled by the zeroing allocator
//! ([`zeros`]); large ones advised to use transparent huge pages.
//!
//! One of the three modules allowed `unsafe` (with `threads.rs` and
//! `backend/jit/call/`): `alloc_zeroed`, `set_len` of uninitialized
//! elements and `madvise`, each block with its `SAFETY:` argument.
#![allow(unsafe_code)]

use ndarray::{ArrayD, IxDyn};

use crate::array::{Array, Element};
use crate::error::{Error, ErrorKind, Result};
use crate::ir::shape::format_shape;
use crate::types::DType;

/// A zero-filled `Vec<T>` of length `n`. `None` if the allocation fails.
pub(crate) fn zeroed_vec<T: Element>(n: usize) -> Option<Vec<T>> {
    if n == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<T>(n).ok()?;
    // SAFETY: `layout` has non-zero size (n > 0 and T is not zero-sized).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) } as *mut T;
    if ptr.is_null() {
        return None;
    }
    advise_huge_pages(ptr as *mut u8, layout.size());
    // SAFETY: `ptr` was allocated by the global allocator with the layout of
    // `[T; n]` (what `Vec<T>` with capacity n uses) and all-zero bytes are a
    // valid value of every `Element` type (false, 0, +0.0).
    Some(unsafe { Vec::from_raw_parts(ptr, n, n) })
}

/// Asks the kernel to back the 2 MiB-aligned interior of a large buffer with
/// huge pages (what NumPy does above 4 MiB): far fewer page faults.
fn advise_huge_pages(ptr: *mut u8, len: usize) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        if len < 2 * HUGE {
            return;
        }
        let start = (ptr as usize).next_multiple_of(HUGE);
        let end = (ptr as usize + len) & !(HUGE - 1);
        if end > start {
            // SAFETY: [start, end) lies inside the allocation just made;
            // madvise only changes paging policy, never the contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (ptr, len);
    }
}

/// An array of `shape` in `order` whose elements are not initialized (for
/// a kernel to write: `backend::jit::call::new_array`); a `Limit` error if
/// it cannot be allocated. From the plain allocator: a recently freed
/// buffer of the size is reused without page faults; large ones are
/// advised to use huge pages.
pub(crate) fn uninit<T: Element>(
    shape: &[usize],
    order: Order,
) -> Result<ArrayD<std::mem::MaybeUninit<T>>> {
    if order == Order::Fortran {
        let reversed: Vec<usize> = shape.iter().rev().copied().collect();
        return Ok(uninit::<T>(&reversed, Order::C)?.reversed_axes());
    }
    let n = elements(shape, T::DTYPE)?;
    let mut v: Vec<std::mem::MaybeUninit<T>> = Vec::new();
    v.try_reserve_exact(n).map_err(|_| too_large(shape))?;
    // SAFETY: the capacity is at least n (reserved above), and
    // `MaybeUninit` elements need no initialization.
    unsafe { v.set_len(n) };
    if n > 0 {
        advise_huge_pages(v.as_mut_ptr() as *mut u8, n * T::DTYPE.size());
    }
    ArrayD::from_shape_vec(IxDyn(shape), v)
        .map_err(|e| Error::internal(format!("result shape: {e}")))
}

/// The number of elements of `shape`, if an array of it fits in memory's
/// address space (a `Limit` error otherwise).
fn elements(shape: &[usize], dtype: DType) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| {
            n.checked_mul(dtype.size())
                .is_some_and(|b| b <= isize::MAX as usize)
        })
        .ok_or_else(|| too_large(shape))
}

/// Memory order of a new array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Row-major (the last axis contiguous).
    C,
    /// Column-major (the first axis contiguous).
    Fortran,
}

/// A zero-filled array of `dtype` and `shape` in `order`; a `Limit` error
/// if it cannot be allocated (checked before anything is allocated).
pub(crate) fn zeros(dtype: DType, shape: &[usize], order: Order) -> Result<Array> {
    if order == Order::Fortran {
        // The C-order buffer of the reversed shape, with its axes reversed.
        let reversed: Vec<usize> = shape.iter().rev().copied().collect();
        let c = zeros(dtype, &reversed, Order::C)?;
        return Ok(crate::array::each!(Array, c, x => Element::into_array(x.reversed_axes())));
    }
    let n = elements(shape, dtype)?;
    fn make<T: Element + Default>(n: usize, shape: &[usize]) -> Result<Array> {
        let v: Vec<T> = zeroed_vec(n).ok_or_else(|| too_large(shape))?;
        ArrayD::from_shape_vec(IxDyn(shape), v)
            .map(T::into_array)
            .map_err(|e| Error::internal(format!("result shape: {e}")))
    }
    crate::types::dtype_dispatch!(dtype, make(n, shape))
}

fn too_large(shape: &[usize]) -> Error {
    Error::new(
        ErrorKind::Limit,
        format!("cannot allocate a result of shape {}", format_shape(shape)),
    )
    .with_help("check the shapes of the inputs: broadcasting may have multiplied them")
}
