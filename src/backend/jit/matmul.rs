//! Matrix products (`@`, `Node::MatMul`) on the CPU, and the epilogue fused
//! into them.
//!
//! A product is split into tiles of at most 256 × 256 output elements (512 × 512 for
//! float32; wider for a short inner dimension, taller for a narrow product, [`tiles`];
//! the rows cut into blocks of equal height, as many as make every thread's share
//! of the tiles whole blocks, [`row_blocks`]) per batch matrix, run on jitexpr's team
//! (`threads::Team::for_each`), each tile one single-threaded `gemm` call for
//! `float32`/`float64` (`call::gemm`), a plain loop for integers (wrapping,
//! like NumPy) and bool (or of ands). Summation order inside a tile is
//! `gemm`'s, not the interpreter's (which sums in index order): float results
//! agree to rounding, integer and bool results exactly.
//!
//! **Fusion** ([`fused`]): when the final stage is the only reader of a
//! product of the stage's shape, the final stage's kernel runs on each tile
//! right after it is multiplied (the product tile a leaf, the other leaves
//! sliced to the tile), while it is in cache: no full-size temporary, no
//! second pass over the result. A compiled kernel whose product operand and
//! output have one dtype runs in place on the tile multiplied straight into
//! the result ([`in_place`], `call::run_in_place`); any other (the
//! interpreted tier's, or a stage that changes the dtype) reads the tile
//! from a per-thread buffer. The buffer is not zeroed between tiles:
//! `call::gemm` writes every element of the tile (and reads none of the old
//! ones on the crate's blocked path).

use std::ops::Range;
use std::sync::Mutex;

use ndarray::{ArrayView2, ArrayViewD, ArrayViewMut2, ArrayViewMutD, Axis, Ix2, IxDyn, s};

use crate::array::{ArrayView, ArrayViewMut, Element, each};
use crate::backend::jit::call::gemm::gemm;
use crate::backend::jit::call::{self, KernelFn, Operand, Output};
use crate::error::{Error, Result};
use crate::ir::shape::MatMulShape;
use crate::threads::Team;
use crate::types::f16;

/// Output rows and columns per tile of an element of `elem` bytes, at
/// most (before [`tile_cols`] and [`tile_rows`] adapt them): 512 × 512 for
/// float32 (a 1 MiB tile: each `gemm` call packs its operands again, and
/// 256 × 256 tiles measured 77-103 ms, median 83, against 76-78 ms for a
/// 2000×2000 float32 product, 2 threads, AMD Zen 4, 6 alternations), 256 ×
/// 256 for wider elements (float64 measured the same with 512 × 512).
fn tile_base(elem: usize) -> usize {
    if elem <= 4 { 512 } else { 256 }
}

/// Columns per tile for an inner dimension of `k`: the base for `k` of 256
/// or more; a shorter one widens tiles (up to 1024 columns) to keep a
/// tile's work (and each `gemm` call's packing and dispatch) worth its
/// cost: with k = 64, 1024 columns instead of 256 measured 4.43 -> 3.87 ms
/// for a 4000×64 by 64×1000 float32 product and 5.46 -> 4.31 ms with a
/// fused `maximum(… + b, 0)` (2 threads, AMD Zen 4; float64 10.2 -> 7.6 ms).
fn tile_cols(k: usize, base: usize) -> usize {
    (256 * 256 / k.max(1)).clamp(base, 1024)
}

/// Rows per tile for `m` columns: the base, more (up to 16384) when the
/// product is narrow (a matrix times a vector, `X @ w`), so that a tile
/// still holds about base² elements: thousands of `gemm` calls of a few
/// hundred elements each would cost more in calls than in arithmetic.
fn tile_rows(m: usize, base: usize) -> usize {
    (base * base / m.max(1)).clamp(base, 16384)
}

/// One tile of a product: batch matrix `q`, its `rows` and `cols`.
#[derive(Debug, Clone)]
struct Tile {
    q: usize,
    rows: Range<usize>,
    cols: Range<usize>,
}

impl Tile {
    fn shape(&self) -> [usize; 2] {
        [self.rows.len(), self.cols.len()]
    }
}

/// The element types a product computes in, with their multiply-add.
pub trait Mac: Element + Default {
    /// `c = a @ b` on one tile (shapes agree: the caller slices them).
    fn tile(c: &mut ArrayViewMut2<'_, Self>, a: &ArrayView2<'_, Self>, b: &ArrayView2<'_, Self>);
}

macro_rules! float_mac {
    ($($t:ty),*) => {$(
        impl Mac for $t {
            fn tile(c: &mut ArrayViewMut2<'_, Self>, a: &ArrayView2<'_, Self>, b: &ArrayView2<'_, Self>) {
                let done = gemm(c, a, b);
                debug_assert!(done, "tile shapes agree");
            }
        }
    )*};
}
float_mac!(f32, f64);

macro_rules! complex_mac {
    ($($t:ty),*) => {$(
        impl Mac for $t {
            /// `gemm`'s complex kernels leave about half of the exact zeros
            /// of real parts negative (their order of multiply-adds);
            /// NumPy's, like the interpreter's sums from +0, are +0: adding
            /// +0 to each part (in the tile, still in cache) makes them so
            /// and changes no other value.
            fn tile(c: &mut ArrayViewMut2<'_, Self>, a: &ArrayView2<'_, Self>, b: &ArrayView2<'_, Self>) {
                let done = gemm(c, a, b);
                debug_assert!(done, "tile shapes agree");
                c.map_inplace(|z| *z = <$t>::new(z.re + 0.0, z.im + 0.0));
            }
        }
    )*};
}
complex_mac!(crate::types::c32, crate::types::c64);

/// `c = a @ b` with `mac(acc, x, y)` = `acc + x * y` in the type's own
/// arithmetic (integers wrap): row by row, each row of `c` accumulating
/// `a[i, k] * b[k, :]` for k in order (so every element still sums in
/// index order), over contiguous rows where the views have them, which the
/// compiler vectorizes: 500×500 products, 2 threads (AMD Zen 4), int64
/// 117 -> 45 ms, int32 111 -> 10 ms (NumPy's own integer loop: 123 and 96
/// ms, one thread).
fn naive<T: Element + Default>(
    c: &mut ArrayViewMut2<'_, T>,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    mac: impl Fn(T, T, T) -> T,
) {
    c.fill(T::default());
    for (mut crow, arow) in c.rows_mut().into_iter().zip(a.rows()) {
        for (&x, brow) in arow.iter().zip(b.rows()) {
            match (crow.as_slice_mut(), brow.as_slice()) {
                (Some(cs), Some(bs)) => {
                    for (o, &y) in cs.iter_mut().zip(bs) {
                        *o = mac(*o, x, y);
                    }
                }
                _ => ndarray::Zip::from(&mut crow)
                    .and(&brow)
                    .for_each(|o, &y| *o = mac(*o, x, y)),
            }
        }
    }
}

macro_rules! int_mac {
    ($($t:ty),*) => {$(
        impl Mac for $t {
            fn tile(c: &mut ArrayViewMut2<'_, Self>, a: &ArrayView2<'_, Self>, b: &ArrayView2<'_, Self>) {
                naive(c, a, b, |acc, x, y| acc.wrapping_add(x.wrapping_mul(y)));
            }
        }
    )*};
}
int_mac!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Mac for bool {
    fn tile(c: &mut ArrayViewMut2<'_, Self>, a: &ArrayView2<'_, Self>, b: &ArrayView2<'_, Self>) {
        naive(c, a, b, |acc, x, y| acc | (x & y));
    }
}

impl Mac for f16 {
    /// Not reached: float16 products compute in float32 (the IR's rule).
    fn tile(c: &mut ArrayViewMut2<'_, Self>, a: &ArrayView2<'_, Self>, b: &ArrayView2<'_, Self>) {
        naive(c, a, b, |acc, x, y| {
            f16::from_f32(acc.to_f32() + x.to_f32() * y.to_f32())
        });
    }
}

/// The tiles of a product of `dims`, in the order of [`tile_views`]: by
/// batch matrix, then row block, then column block. With a team of
/// `threads`, row blocks shrink (to 32 rows) until every thread has a tile:
/// shrinking until each had four (each tile packs its operands again) was
/// 10% slower at 256×256 float32 on 2 threads (0.179 vs 0.162 ms, AMD Zen 4).
/// The rows are then cut into [`row_blocks`] blocks of equal height (to a
/// row), so that the team's static split of the tiles gives every thread
/// the same work.
fn tiles(dims: &MatMulShape, threads: usize, elem: usize) -> Vec<Tile> {
    let (n, m) = (dims.n, dims.m);
    let base = tile_base(elem);
    let cols = tile_cols(dims.k, base);
    let per_matrix = |rows: usize| n.div_ceil(rows.max(1)) * m.div_ceil(cols);
    let mut rows = tile_rows(m, base);
    while rows > 32 && dims.batches().saturating_mul(per_matrix(rows)) < threads {
        rows /= 2;
    }
    let blocks = row_blocks(n, rows, dims.batches(), threads);
    let mut out = Vec::new();
    for q in 0..dims.batches() {
        for block in 0..blocks {
            let rows = crate::threads::part(n, blocks, block);
            for c in (0..m).step_by(cols) {
                out.push(Tile {
                    q,
                    rows: rows.clone(),
                    cols: c..(c + cols).min(m),
                });
            }
        }
    }
    out
}

/// How many row blocks `n` rows are cut into, for blocks of at most `rows`
/// rows: `n / rows` rounded up, and then up to a count that makes each of
/// `threads` threads' share of `batches × blocks` whole row blocks, where
/// that keeps blocks of 32 rows or more. With equal blocks ([`tiles`]) the
/// team's static split then gives every thread the same work: 2000 rows cut
/// at 512 were blocks of 512, 512, 512 and 464, the first thread's two held
/// 1024 rows and the second's 976, and the second finished early while the
/// first was inside its last tile, which the other cannot share.
fn row_blocks(n: usize, rows: usize, batches: usize, threads: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let blocks = n.div_ceil(rows.max(1)).max(1);
    (blocks..blocks + threads.max(1))
        .find(|&b| batches.saturating_mul(b) % threads.max(1) == 0)
        .filter(|&b| b == blocks || n / b >= 32)
        .unwrap_or(blocks)
}

/// The batch matrices of `v` (shape `batch + (r, c)`), in C order of the
/// batch index, as disjoint mutable views.
fn matrices_mut<'a, T>(v: ArrayViewMutD<'a, T>) -> Vec<ArrayViewMut2<'a, T>> {
    let mut level = vec![v];
    while level.first().is_some_and(|x| x.ndim() > 2) {
        let mut next = Vec::new();
        for mut x in level {
            for _ in 0..x.len_of(Axis(0)) {
                let (first, rest) = x.split_at(Axis(0), 1);
                next.push(first.index_axis_move(Axis(0), 0));
                x = rest;
            }
        }
        level = next;
    }
    level
        .into_iter()
        .filter_map(|x| x.into_dimensionality::<Ix2>().ok())
        .collect()
}

/// Disjoint mutable views of `tiles` of `v` (shape `batch + (n, m)`), in
/// the order of [`tiles`].
fn tile_views<'a, T>(v: ArrayViewMutD<'a, T>, tiles: &[Tile]) -> Vec<ArrayViewMut2<'a, T>> {
    let mut out = Vec::with_capacity(tiles.len());
    let mut matrices = matrices_mut(v).into_iter();
    let mut rest_rows: Option<ArrayViewMut2<'a, T>> = None;
    let mut rest_cols: Option<ArrayViewMut2<'a, T>> = None;
    for t in tiles {
        if t.rows.start == 0 && t.cols.start == 0 {
            rest_rows = matrices.next();
        }
        if t.cols.start == 0 {
            let Some(m) = rest_rows.take() else { break };
            let (block, rest) = m.split_at(Axis(0), t.rows.len());
            rest_rows = Some(rest);
            rest_cols = Some(block);
        }
        let Some(block) = rest_cols.take() else { break };
        let (tile, rest) = block.split_at(Axis(1), t.cols.len());
        rest_cols = Some(rest);
        out.push(tile);
    }
    out
}

/// Matrix `q` (in C order of `batch`) of `v`, whose shape is `(..., r, c)`
/// with leading axes that broadcast to `batch` (an axis of length 1 is
/// read at index 0: NumPy's broadcasting, without a broadcast view).
fn matrix<'a, T>(v: &ArrayViewD<'a, T>, batch: &[usize], q: usize) -> Option<ArrayView2<'a, T>> {
    let own = v.ndim().checked_sub(2)?;
    let skip = batch.len().checked_sub(own)?;
    let mut index = vec![0; batch.len()];
    let mut rest = q;
    for (i, &d) in batch.iter().enumerate().rev() {
        index[i] = rest % d.max(1);
        rest /= d.max(1);
    }
    let mut x = v.clone();
    for &i in &index[skip..] {
        // The next batch axis of `v` is axis 0 of `x`.
        let i = if x.len_of(Axis(0)) == 1 { 0 } else { i };
        x = x.index_axis_move(Axis(0), i);
    }
    x.into_dimensionality::<Ix2>().ok()
}

/// Operand `x` of a product with its 1-d promotion: a 1-d `a` read as a row
/// (`row`), a 1-d `b` as a column. Its batch axes broadcast in [`matrix`].
fn promoted<'a, T>(x: &ArrayViewD<'a, T>, row: bool) -> ArrayViewD<'a, T> {
    match (x.ndim(), row) {
        (1, true) => x.clone().insert_axis(Axis(0)),
        (1, false) => x.clone().insert_axis(Axis(1)),
        _ => x.clone(),
    }
}

/// The result `out` (shape `dims.output()`) seen with the axes of 1-d
/// operands added back (shape `dims.full()`), whatever its strides.
fn with_all_axes<'a, T>(
    out: ArrayViewMutD<'a, T>,
    dims: &MatMulShape,
) -> Result<ArrayViewMutD<'a, T>> {
    if out.shape() != dims.output().as_slice() {
        return Err(Error::internal("product output shape"));
    }
    let mut out = out;
    if dims.a_vector {
        out = out.insert_axis(Axis(dims.batch.len()));
    }
    if dims.b_vector {
        out = out.insert_axis(Axis(dims.batch.len() + 1));
    }
    Ok(out)
}

/// `out = a @ b` for typed views (`out` of shape `dims.output()`, any
/// strides), tile by tile on `team`.
fn multiply<T: Mac>(
    a: &ArrayViewD<'_, T>,
    b: &ArrayViewD<'_, T>,
    out: ArrayViewMutD<'_, T>,
    dims: &MatMulShape,
    team: Option<&Team>,
) -> Result<()> {
    let (fa, fb) = (promoted(a, true), promoted(b, false));
    let out = with_all_axes(out, dims)?;
    let threads = team.map_or(1, Team::threads);
    let tiles = tiles(dims, threads, std::mem::size_of::<T>());
    let slots: Vec<Mutex<Option<ArrayViewMut2<'_, T>>>> = tile_views(out, &tiles)
        .into_iter()
        .map(|v| Mutex::new(Some(v)))
        .collect();
    if slots.len() != tiles.len() {
        return Err(Error::internal("product tiles"));
    }
    let work = |_: &mut (), i: usize| {
        if let Ok(Some(mut c)) = slots[i].lock().map(|mut s| s.take()) {
            product_tile(&fa, &fb, dims, &tiles[i], &mut c);
        }
    };
    match team {
        Some(team) => team.for_each(tiles.len(), || (), work),
        None => (0..tiles.len()).for_each(|i| work(&mut (), i)),
    }
    Ok(())
}

/// `out = a @ b` (NumPy's `matmul`): `out` has shape `dims.output()` and the
/// operands' dtype; every element is written.
pub fn product(
    a: &ArrayView<'_>,
    b: &ArrayView<'_>,
    out: &mut ArrayViewMut<'_>,
    dims: &MatMulShape,
    team: Option<&Team>,
) -> Result<()> {
    macro_rules! typed {
        ($($v:ident),*) => {
            match (a, b, out) {
                $((ArrayView::$v(a), ArrayView::$v(b), ArrayViewMut::$v(o)) => {
                    multiply(a, b, o.view_mut(), dims, team)
                })*
                _ => Err(Error::internal("product operands of different dtypes")),
            }
        };
    }
    typed!(
        Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float16, Float32, Float64,
        Complex64, Complex128
    )
}

/// Computes the final stage `kernel` over `out` (shape `dims.full()`, the
/// stage's shape), its leaf `at` being `a @ b`: each tile multiplied into a
/// per-thread buffer and the kernel run on it at once. `leaves` are the
/// kernel's operands' values (the product's slot ignored), each broadcast to
/// the stage's shape.
#[allow(clippy::too_many_arguments)]
pub fn fused(
    a: &ArrayView<'_>,
    b: &ArrayView<'_>,
    kernel: &KernelFn,
    leaves: &[Option<ArrayView<'_>>],
    at: usize,
    out: &mut ArrayViewMut<'_>,
    dims: &MatMulShape,
    team: Option<&Team>,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<()> {
    let threads = team.map_or(1, Team::threads);
    let tiles = tiles(dims, threads, a.dtype().size());
    if kernel.runs_in_place(at, a.dtype()) {
        macro_rules! typed {
            ($($v:ident),*) => {
                match (a, b, out) {
                    $((ArrayView::$v(a), ArrayView::$v(b), ArrayViewMut::$v(o)) => {
                        let tiles = tile_views(with_all_axes(o.view_mut(), dims)?, &tiles)
                            .into_iter()
                            .zip(tiles)
                            .collect();
                        in_place(a, b, kernel, leaves, at, tiles, dims, team, cancel)
                    })*
                    _ => Err(Error::internal("product operands of different dtypes")),
                }
            };
        }
        return typed!(
            Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float16, Float32,
            Float64
        );
    }
    // Every tile's output and leaf operands (not the product's), made here:
    // they point into `out` and the leaves, which outlive the calls.
    let outputs: Vec<Output> = each!(ArrayViewMut, out, o => {
        let full = with_all_axes(o.view_mut(), dims)?;
        tile_views(full, &tiles)
            .into_iter()
            .zip(&tiles)
            .map(|(v, t)| {
                Output::new(&mut v.into_dyn(), &t.shape())
                    .map(Output::without_streaming)
                    .ok_or_else(|| Error::internal("fused tile output"))
            })
            .collect::<Result<Vec<_>>>()?
    });
    macro_rules! typed {
        ($($v:ident),*) => {
            match (a, b) {
                $((ArrayView::$v(a), ArrayView::$v(b)) => {
                    fused_typed(a, b, kernel, leaves, at, &outputs, &tiles, dims, team, cancel)
                })*
                _ => Err(Error::internal("product operands of different dtypes")),
            }
        };
    }
    typed!(
        Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float16, Float32, Float64
    )
}

/// Tile `t` of a leaf broadcast to the stage's shape `dims.output()` (seen
/// with the axes of 1-d operands added back, `dims.full()`), as an operand
/// of the tile's shape.
fn leaf_tile(leaf: &ArrayView<'_>, dims: &MatMulShape, t: &Tile) -> Option<Operand> {
    each!(ArrayView, leaf, v => {
        let mut full = v.broadcast(IxDyn(&dims.output()))?;
        if dims.a_vector {
            full = full.insert_axis(Axis(dims.batch.len()));
        }
        if dims.b_vector {
            full = full.insert_axis(Axis(dims.batch.len() + 1));
        }
        let m = matrix(&full, &dims.batch, t.q)?;
        let tile = m.slice(s![t.rows.clone(), t.cols.clone()]).into_dyn();
        Operand::new(&tile, &t.shape())
    })
}

/// The first `n` elements of a per-thread buffer, grown to `n` if shorter
/// and otherwise left as the last tile wrote them: every caller overwrites
/// all `n` (a tile's product, a kernel's output), so zeroing them first
/// would be a wasted pass over the tile.
fn grown<T: Default + Clone>(buf: &mut Vec<T>, n: usize) -> &mut [T] {
    if buf.len() < n {
        buf.resize(n, T::default());
    }
    &mut buf[..n]
}

thread_local! {
    /// Tile buffers this thread used in its last fused products, kept for
    /// its next ones ([`TileBuf`]).
    static SPARE: std::cell::RefCell<Vec<Box<dyn std::any::Any>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The most buffers, and the largest one in bytes, a thread keeps.
const KEEP: (usize, usize) = (2, 4 << 20);

/// A per-thread tile buffer of a fused product, taken from the thread's
/// spares and given back when dropped (up to [`KEEP`]): a fresh one had its
/// pages faulted in and zeroed on every call, which made the fused
/// `maximum(A @ W + b, 0)` 4% slower than the product and a second pass at
/// 1000² float32 (10.1-10.3 against 9.7-9.8 ms, 2 threads, AMD Zen 4).
struct TileBuf<T: 'static>(Vec<T>);

impl<T: 'static> TileBuf<T> {
    fn take() -> Self {
        let spare = SPARE.with(|s| {
            let mut s = s.borrow_mut();
            let k = s.iter().position(|b| b.is::<Vec<T>>())?;
            s.swap_remove(k).downcast::<Vec<T>>().ok().map(|b| *b)
        });
        TileBuf(spare.unwrap_or_default())
    }
}

impl<T: 'static> Drop for TileBuf<T> {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        if v.capacity() * std::mem::size_of::<T>() <= KEEP.1 {
            // (`try_with`: nothing is kept while the thread is exiting.)
            let _ = SPARE.try_with(|s| {
                let mut s = s.borrow_mut();
                if s.len() < KEEP.0 {
                    s.push(Box::new(v));
                }
            });
        }
    }
}

/// Multiplies tile `t` of `fa @ fb` into `buf` and returns the fused
/// stage's operands on that tile: the product (pointing into `buf`, which
/// must outlive them) at `at`, each other leaf's tile elsewhere. `None` if
/// a view does not fit (an internal error for the caller).
fn tile_operands<T: Mac>(
    fa: &ArrayViewD<'_, T>,
    fb: &ArrayViewD<'_, T>,
    dims: &MatMulShape,
    t: &Tile,
    buf: &mut Vec<T>,
    leaves: &[Option<ArrayView<'_>>],
    at: usize,
) -> Option<Vec<Operand>> {
    let [r, c] = t.shape();
    let buf = grown(buf, r * c);
    let mut cv = ArrayViewMut2::from_shape((r, c), &mut *buf).ok()?;
    product_tile(fa, fb, dims, t, &mut cv)?;
    let tile = ArrayView2::from_shape((r, c), &*buf).ok()?.into_dyn();
    let mut operands = leaf_tiles(leaves, at, dims, t)?;
    *operands.get_mut(at)? = Some(Operand::new(&tile, &[r, c])?);
    operands.into_iter().collect()
}

/// `c = a @ b` on tile `t` (its batch matrix, rows and columns) of the
/// promoted operands `fa` and `fb`; `None`, `c` untouched, if a batch
/// matrix is missing.
fn product_tile<T: Mac>(
    fa: &ArrayViewD<'_, T>,
    fb: &ArrayViewD<'_, T>,
    dims: &MatMulShape,
    t: &Tile,
    c: &mut ArrayViewMut2<'_, T>,
) -> Option<()> {
    let am = matrix(fa, &dims.batch, t.q)?;
    let bm = matrix(fb, &dims.batch, t.q)?;
    T::tile(
        c,
        &am.slice(s![t.rows.clone(), ..]),
        &bm.slice(s![.., t.cols.clone()]),
    );
    Some(())
}

/// The fused stage's operands on tile `t` other than the product: each
/// leaf's tile, `None` at `at` (the product's slot); `None` if another
/// leaf has no value or does not fit.
fn leaf_tiles(
    leaves: &[Option<ArrayView<'_>>],
    at: usize,
    dims: &MatMulShape,
    t: &Tile,
) -> Option<Vec<Option<Operand>>> {
    leaves
        .iter()
        .enumerate()
        .map(|(k, leaf)| match leaf {
            _ if k == at => Some(None),
            Some(l) => leaf_tile(l, dims, t).map(Some),
            None => None,
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn fused_typed<T: Mac>(
    a: &ArrayViewD<'_, T>,
    b: &ArrayViewD<'_, T>,
    kernel: &KernelFn,
    leaves: &[Option<ArrayView<'_>>],
    at: usize,
    outputs: &[Output],
    tiles: &[Tile],
    dims: &MatMulShape,
    team: Option<&Team>,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<()> {
    let (fa, fb) = (promoted(a, true), promoted(b, false));
    let failed = std::sync::atomic::AtomicBool::new(false);
    let work = |buf: &mut Vec<T>, i: usize| {
        let t = &tiles[i];
        let Some(ops) = tile_operands(&fa, &fb, dims, t, buf, leaves, at) else {
            failed.store(true, std::sync::atomic::Ordering::Relaxed);
            return;
        };
        let [r, c] = t.shape();
        call::run(kernel, &ops, &outputs[i], &[r, c], None, cancel);
    };
    let work = |buf: &mut TileBuf<T>, i: usize| work(&mut buf.0, i);
    match team {
        Some(team) => team.for_each(tiles.len(), TileBuf::take, work),
        None => {
            let mut buf = TileBuf::take();
            (0..tiles.len()).for_each(|i| work(&mut buf, i));
        }
    }
    if failed.into_inner() {
        return Err(Error::internal("fused product tile"));
    }
    Ok(())
}

/// A tile of the result and where it is, taken by the thread that computes it.
type Slot<'a, T> = Mutex<Option<(ArrayViewMut2<'a, T>, Tile)>>;

/// [`fused`] when the stage's kernel can overwrite its product operand
/// (`KernelFn::runs_in_place`: native code, the product's dtype in and
/// out): each tile is multiplied straight into its place in the result and
/// the stage runs over it in place at once, while the tile is in cache.
/// There is no tile buffer: the product writes the result's lines as the
/// unfused product does, and the stage then reads and rewrites them in L2
/// instead of reading a buffer and fetching the result's lines from memory
/// (at 1000² float64, 2 threads, Intel Xeon: 0.8 ms over the bare product
/// through a buffer, against 0.3 ms for the two-step's second pass).
#[allow(clippy::too_many_arguments)]
fn in_place<T: Mac>(
    a: &ArrayViewD<'_, T>,
    b: &ArrayViewD<'_, T>,
    kernel: &KernelFn,
    leaves: &[Option<ArrayView<'_>>],
    at: usize,
    tiles: Vec<(ArrayViewMut2<'_, T>, Tile)>,
    dims: &MatMulShape,
    team: Option<&Team>,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<()> {
    let (fa, fb) = (promoted(a, true), promoted(b, false));
    let count = tiles.len();
    let slots: Vec<Slot<'_, T>> = tiles.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let failed = std::sync::atomic::AtomicBool::new(false);
    let tile = |i: usize| -> Option<()> {
        let (mut c, t) = slots[i].lock().ok()?.take()?;
        product_tile(&fa, &fb, dims, &t, &mut c)?;
        let shape = t.shape();
        let output = Output::new(&mut c.into_dyn(), &shape)?.without_streaming();
        let others = leaf_tiles(leaves, at, dims, &t)?;
        call::run_in_place(kernel, others, at, &output, &shape, cancel).map(drop)
    };
    let work = |_: &mut (), i: usize| {
        if tile(i).is_none() && !cancel.load(std::sync::atomic::Ordering::Relaxed) {
            failed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    };
    match team {
        Some(team) => team.for_each(count, || (), work),
        None => (0..count).for_each(|i| work(&mut (), i)),
    }
    if failed.into_inner() {
        return Err(Error::internal("fused product tile"));
    }
    Ok(())
}

/// Tiles of a reduction fused into a product are cut as for a team of this
/// many threads, whatever the real team: the tiles (and so the order in
/// which the sum adds) never depend on the thread count.
const REDUCTION_SPLIT: usize = 8;

/// The floats a fused `sum`/`mean` adds in (the reduction's dtype).
pub trait SumFloat: Element + Default {
    /// The sum of `v` in NumPy's pairwise order (`ir::scalar`).
    fn sum(v: &[Self]) -> Self;
    /// `s / n` in the dtype (the interpreter's `mean`).
    fn mean(s: Self, n: usize) -> Self;
}

impl SumFloat for f64 {
    fn sum(v: &[f64]) -> f64 {
        crate::ir::scalar::sum_f64(v)
    }
    fn mean(s: f64, n: usize) -> f64 {
        s / n as f64
    }
}

impl SumFloat for f32 {
    fn sum(v: &[f32]) -> f32 {
        crate::ir::scalar::sum_f32(v)
    }
    fn mean(s: f32, n: usize) -> f32 {
        s / n as f32
    }
}

/// `sum(e)` or `mean(e)` (`mean` true) of the stage `kernel` whose leaf
/// `at` is `a @ b` (shape `dims.full()`, the stage's shape), with no
/// product-sized temporary: each tile is multiplied into a per-thread
/// buffer, the kernel run on it into a second one and that tile summed at
/// once; the tiles'
/// sums are added in tile order. Each sum is NumPy's pairwise one, so the
/// result is the unfused one's up to rounding (the order of additions
/// differs), and independent of the team.
#[allow(clippy::too_many_arguments)]
pub fn fused_sum(
    a: &ArrayView<'_>,
    b: &ArrayView<'_>,
    kernel: &KernelFn,
    leaves: &[Option<ArrayView<'_>>],
    at: usize,
    dtype: crate::types::DType,
    mean: bool,
    dims: &MatMulShape,
    team: Option<&Team>,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<crate::array::Array> {
    use crate::array::Array;
    use crate::types::DType;
    let tiles = tiles(dims, REDUCTION_SPLIT, a.dtype().size());
    let n: usize = dims.full().iter().product();
    macro_rules! typed {
        ($o:ty, $arr:ident; $($v:ident),*) => {
            match (a, b) {
                $((ArrayView::$v(a), ArrayView::$v(b)) => {
                    let s = fused_sum_typed::<_, $o>(a, b, kernel, leaves, at, &tiles, dims, team, cancel)?;
                    let s = if mean { <$o>::mean(s, n) } else { s };
                    Ok(Array::$arr(ndarray::arr0(s).into_dyn()))
                })*
                _ => Err(Error::internal("product operands of different dtypes")),
            }
        };
    }
    match dtype {
        DType::Float64 => {
            typed!(f64, Float64; Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float16, Float32, Float64)
        }
        DType::Float32 => {
            typed!(f32, Float32; Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float16, Float32, Float64)
        }
        _ => Err(Error::internal("a fused sum of a non-float dtype")),
    }
}

/// The per-thread buffers of [`fused_sum_typed`]: the product's tile and the
/// stage's values on it.
type SumBuffers<T, O> = (TileBuf<T>, TileBuf<O>);

#[allow(clippy::too_many_arguments)]
fn fused_sum_typed<T: Mac, O: SumFloat>(
    a: &ArrayViewD<'_, T>,
    b: &ArrayViewD<'_, T>,
    kernel: &KernelFn,
    leaves: &[Option<ArrayView<'_>>],
    at: usize,
    tiles: &[Tile],
    dims: &MatMulShape,
    team: Option<&Team>,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<O> {
    let (fa, fb) = (promoted(a, true), promoted(b, false));
    let work = |(buf, values): &mut SumBuffers<T, O>, i: usize| -> Option<O> {
        let t = &tiles[i];
        let ops = tile_operands(&fa, &fb, dims, t, &mut buf.0, leaves, at)?;
        let [r, c] = t.shape();
        let values = grown(&mut values.0, r * c);
        let mut out = ArrayViewMut2::from_shape((r, c), &mut *values)
            .ok()?
            .into_dyn();
        let output = Output::new(&mut out, &[r, c])?.without_streaming();
        call::run(kernel, &ops, &output, &[r, c], None, cancel)?;
        Some(O::sum(values))
    };
    let buffers = || (TileBuf::take(), TileBuf::take());
    let sums = crate::threads::map(team, tiles.len(), buffers, work);
    let sums: Vec<O> = sums
        .into_iter()
        .collect::<Option<_>>()
        .ok_or_else(|| Error::internal("fused sum tile"))?;
    Ok(O::sum(&sums))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiles cover every output element once; row blocks differ by at most
    /// a row, and each thread's static share (`threads::part` of the tile
    /// indices) is whole row blocks wherever blocks of 32 rows allow.
    #[test]
    fn tiles_cover_the_product_in_equal_row_blocks() {
        for (a, b) in [
            (vec![2000, 2000], vec![2000, 2000]),
            (vec![1030, 300], vec![300, 530]),
            (vec![3, 130, 40], vec![40, 300]),
            (vec![2001, 7], vec![7]),
            (vec![33, 5], vec![5, 4]),
            (vec![0, 5], vec![5, 4]),
            (vec![1, 9], vec![9, 3000]),
        ] {
            let dims = MatMulShape::of(&a, &b).unwrap();
            for elem in [4, 8] {
                for threads in [1, 2, 3, 8] {
                    let tiles = tiles(&dims, threads, elem);
                    let mut seen = vec![0u8; dims.batches() * dims.n * dims.m];
                    for t in &tiles {
                        for r in t.rows.clone() {
                            for c in t.cols.clone() {
                                seen[(t.q * dims.n + r) * dims.m + c] += 1;
                            }
                        }
                    }
                    assert!(seen.iter().all(|&x| x == 1), "{a:?} {b:?} {elem} {threads}");
                    let heights: Vec<usize> = tiles.iter().map(|t| t.rows.len()).collect();
                    let (lo, hi) = (heights.iter().min(), heights.iter().max());
                    if let (Some(lo), Some(hi)) = (lo, hi) {
                        assert!(hi - lo <= 1, "{a:?} {b:?} {elem} {threads}: {heights:?}");
                    }
                    let per_block = dims.m.div_ceil(tiles.first().map_or(1, |t| t.cols.len()));
                    let blocks = tiles.len() / per_block.max(1);
                    let per_matrix = blocks / dims.batches().max(1);
                    if dims.n / (per_matrix + threads).max(1) >= 32 {
                        assert_eq!(blocks % threads, 0, "{a:?} {b:?} {elem} {threads}");
                    }
                }
            }
        }
    }
}
