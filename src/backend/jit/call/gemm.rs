//! Float matrix products by the `gemm` crate, behind a safe signature.
//!
//! `gemm` takes raw pointers and strides; [`gemm`] takes `ndarray` views,
//! checks that their shapes agree and hands the crate exactly the pointers
//! and strides of those views, so every address it forms is an element of
//! one of them. It runs on the calling thread (`Parallelism::None`): the
//! caller splits the product into tiles on jitexpr's own team.

use gemm::Parallelism;
use ndarray::{ArrayView2, ArrayViewMut2};

/// The element types `gemm` multiplies that jitexpr computes in.
pub trait GemmFloat: Copy + Default + Send + Sync + 'static + sealed::Sealed {
    /// One.
    const ONE: Self;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for crate::types::c32 {}
    impl Sealed for crate::types::c64 {}
}

impl GemmFloat for f32 {
    const ONE: f32 = 1.0;
}

impl GemmFloat for f64 {
    const ONE: f64 = 1.0;
}

// Complex numbers: num-complex's, the type `gemm` multiplies as complex
// (`gemm::c32`, `gemm::c64`).
impl GemmFloat for crate::types::c32 {
    const ONE: crate::types::c32 = crate::types::c32::new(1.0, 0.0);
}

impl GemmFloat for crate::types::c64 {
    const ONE: crate::types::c64 = crate::types::c64::new(1.0, 0.0);
}

/// Rows and columns from which a product takes the `gemm` crate's blocked
/// path (see [`gemm`]).
const BLOCKED: usize = 17;

/// `c = a @ b` for `a` of shape `(n, k)`, `b` of `(k, m)` and `c` of
/// `(n, m)`, with any strides (negative ones, and zero ones in `a` and
/// `b`); `false`, `c` untouched, if the shapes disagree. With `k = 0`, `c`
/// is all zeros. Sums start from +0 like NumPy's (BLAS's `0*C + A@B`), so
/// a sum of negative zeros is +0: a product of at least [`BLOCKED`] rows and
/// columns and 3 inner terms takes the crate's blocked path, whose
/// accumulators start at +0, and `c`'s old values are not read (`read_dst`
/// false: the crate writes its first block of sums and adds the later ones
/// to it), so `c` needs no zeroing pass first; a smaller one is filled with
/// +0 and added to (`read_dst` true), as the crate's vector and small-matrix
/// paths write their sums' own sign of zero.
pub fn gemm<T: GemmFloat>(
    c: &mut ArrayViewMut2<'_, T>,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
) -> bool {
    let (n, k) = a.dim();
    let (kb, m) = b.dim();
    if kb != k || c.dim() != (n, m) {
        return false;
    }
    if n == 0 || m == 0 {
        return true;
    }
    // The crate's blocked path: not its matrix-vector (a dimension of 1),
    // small-product (at most 16 × 16 outputs) or rank-2 (k <= 2) ones.
    let blocked = n >= BLOCKED && m >= BLOCKED && k > 2;
    if !blocked {
        c.fill(T::default());
    }
    if k == 0 {
        return true;
    }
    let (cs, as_, bs) = (c.strides(), a.strides(), b.strides());
    let (c_rs, c_cs) = (cs[0], cs[1]);
    let (a_rs, a_cs) = (as_[0], as_[1]);
    let (b_rs, b_cs) = (bs[0], bs[1]);
    let dst = c.as_mut_ptr();
    // SAFETY: `a`, `b` and `c` are views of shapes (n, k), (k, m) and (n, m)
    // (checked above, all dimensions non-zero); `as_ptr` is the address of
    // each view's element [0, 0] and the strides are the views' own, in
    // elements, so `base + i * rs + j * cs` is an element of its view for
    // every index inside the shape, the only addresses `gemm` forms (it
    // normalizes negative strides itself). `c` is borrowed mutably, so no
    // other reference reads or writes it meanwhile, and a mutable view has no
    // two indices at one address (ndarray forbids aliasing in `ViewMut`).
    // `T` is f32, f64, c32 or c64 (sealed), types `gemm` supports (the
    // complex ones are num-complex's, `gemm::c32`/`gemm::c64` themselves).
    // No operand is conjugated. With `read_dst`
    // (`!blocked`) `c` was just filled with +0: c = 1 * c + 1 * a @ b;
    // without, c = a @ b and `c`'s old (initialized) values are not read.
    unsafe {
        gemm::gemm(
            n,
            m,
            k,
            dst,
            c_cs,
            c_rs,
            !blocked,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, s};

    #[test]
    fn products_of_strided_views_equal_the_naive_sums() {
        let a = Array2::from_shape_fn((5, 7), |(i, j)| (i * 7 + j) as f64 - 10.0);
        let b = Array2::from_shape_fn((7, 3), |(i, j)| (i as f64 - j as f64) * 0.5);
        // Negative and transposed strides.
        let av = a.slice(s![..;-1, ..]);
        let bt = b.t().to_owned();
        let bv = bt.t();
        let mut c = Array2::<f64>::from_elem((5, 3), f64::NAN);
        assert!(gemm(&mut c.view_mut(), &av, &bv));
        for i in 0..5 {
            for j in 0..3 {
                let want: f64 = (0..7).map(|p| av[[i, p]] * bv[[p, j]]).sum();
                assert_eq!(c[[i, j]], want, "({i}, {j})");
            }
        }
        // k = 0: zeros; a shape mismatch: untouched, false.
        let mut z = Array2::<f32>::from_elem((2, 2), 7.0);
        assert!(gemm(
            &mut z.view_mut(),
            &Array2::zeros((2, 0)).view(),
            &Array2::zeros((0, 2)).view()
        ));
        assert_eq!(z, Array2::<f32>::zeros((2, 2)));
        let mut u = Array2::<f32>::from_elem((2, 2), 7.0);
        assert!(!gemm(
            &mut u.view_mut(),
            &Array2::zeros((2, 3)).view(),
            &Array2::zeros((2, 2)).view()
        ));
        assert_eq!(u[[0, 0]], 7.0);
    }

    /// `c`'s old values (NaN here) are never read, and sums of negative
    /// zeros are +0, on each of the crate's paths: a vector times a matrix
    /// (whose sums of -0 are -0 unless `c` is filled first), a matrix times
    /// a vector, small products, rank-2 ones, and large ones from
    /// [`BLOCKED`] on, whose inner dimension the crate cuts into several
    /// blocks (k = 1100).
    #[test]
    fn old_values_are_not_read_and_negative_zeros_sum_to_plus_zero() {
        for (n, k, m) in [
            (1, 5, 7),
            (6, 5, 1),
            (1, 1, 1),
            (4, 3, 4),
            (40, 1100, 70),
            (9, 600, 33),
            (17, 3, 17),
            (17, 2, 30),
            (16, 40, 17),
            (300, 700, 17),
        ] {
            let a = Array2::from_shape_fn((n, k), |(i, j)| ((i * 3 + j * 5) % 7) as f64 - 3.0);
            let b = Array2::from_shape_fn((k, m), |(i, j)| ((i * 2 + j) % 5) as f64 - 2.0);
            let mut c = Array2::<f64>::from_elem((n, m), f64::NAN);
            assert!(gemm(&mut c.view_mut(), &a.view(), &b.view()));
            for i in 0..n {
                for j in 0..m {
                    let want: f64 = (0..k).map(|p| a[[i, p]] * b[[p, j]]).sum();
                    assert_eq!(c[[i, j]], want, "{n}x{k}x{m} ({i}, {j})");
                }
            }
            // -0 * 1 everywhere: every sum is +0.
            let nz = Array2::<f32>::from_elem((n, k), -0.0);
            let one = Array2::<f32>::from_elem((k, m), 1.0);
            let mut z = Array2::<f32>::from_elem((n, m), f32::NAN);
            assert!(gemm(&mut z.view_mut(), &nz.view(), &one.view()));
            assert!(
                z.iter().all(|x| x.to_bits() == 0),
                "{n}x{k}x{m}: {:?}",
                z.iter().find(|x| x.to_bits() != 0)
            );
        }
    }
}
