//! Small safe wrapper over the `gemm` crate (the one candle itself uses) for the
//! hand-written kernels: row-major matrices, optionally transposed, accumulated or not;
//! products into new vectors ([`product`]), and [`product_split_inner`] for products
//! with a long inner dimension and a small output (a weight's gradient).

use std::ops::Range;

use gemm::Parallelism;
use rayon::prelude::*;

use crate::gemm_profile::{self, ProductShape};
use crate::real::Real;

/// A row-major matrix view over a slice: `rows x cols`, read transposed when `transposed`.
#[derive(Clone, Copy)]
pub struct MatRef<'a, T> {
    /// The elements, row-major, of the *stored* matrix.
    pub data: &'a [T],
    /// Rows of the stored matrix.
    pub rows: usize,
    /// Columns of the stored matrix.
    pub cols: usize,
    /// Whether to use the matrix transposed.
    pub transposed: bool,
}

impl<'a, T> MatRef<'a, T> {
    /// A view of a stored `rows x cols` matrix.
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "matrix data does not match its shape"
        );
        Self {
            data,
            rows,
            cols,
            transposed: false,
        }
    }

    /// The same matrix, transposed.
    pub fn t(self) -> Self {
        Self {
            transposed: !self.transposed,
            ..self
        }
    }

    /// Rows `range` of the stored matrix (columns of the matrix used when transposed).
    fn stored_rows(self, range: Range<usize>) -> Self {
        Self {
            data: &self.data[range.start * self.cols..range.end * self.cols],
            rows: range.len(),
            ..self
        }
    }

    /// (rows, cols) as used.
    pub fn shape(&self) -> (usize, usize) {
        if self.transposed {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }

    /// (row stride, column stride) as used.
    pub fn strides(&self) -> (isize, isize) {
        if self.transposed {
            (1, self.cols as isize)
        } else {
            (self.cols as isize, 1)
        }
    }
}

/// Inner-dimension elements each thread's share must hold for
/// [`product_split_inner`] to split.
const MIN_INNER_SHARE: usize = 512;

/// `dst (m x n, row-major) = lhs x rhs`, or `dst += lhs x rhs` when `accumulate`;
/// large products use every rayon thread.
pub fn matmul<T: Real>(dst: &mut [T], lhs: MatRef<'_, T>, rhs: MatRef<'_, T>, accumulate: bool) {
    let parallelism = parallelism_for(lhs, rhs);
    matmul_on(dst, lhs, rhs, accumulate, parallelism);
}

/// Every rayon thread for large products, the calling thread for small ones.
fn parallelism_for<T>(lhs: MatRef<'_, T>, rhs: MatRef<'_, T>) -> Parallelism {
    let (m, k) = lhs.shape();
    let n = rhs.shape().1;
    let threads = rayon::current_num_threads();
    if m * n * k >= 1 << 18 && threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    }
}

/// `lhs x rhs` in a new `m x n` row-major vector, written by `gemm` without being
/// zeroed first; large products use every rayon thread.
pub fn product<T: Real>(lhs: MatRef<'_, T>, rhs: MatRef<'_, T>) -> Vec<T> {
    product_on(lhs, rhs, parallelism_for(lhs, rhs))
}

fn product_on<T: Real>(lhs: MatRef<'_, T>, rhs: MatRef<'_, T>, parallelism: Parallelism) -> Vec<T> {
    let (m, k) = lhs.shape();
    let n = rhs.shape().1;
    if k == 0 {
        return vec![T::default(); m * n];
    }
    let mut out = Box::new_uninit_slice(m * n);
    // SAFETY: `out` holds m * n slots; with an inner size of at least 1 and
    // `accumulate` false, `gemm` stores every element of the m x n destination without
    // reading it (crates/nn/tests/matmul_destination.rs checks the same call through
    // candle after a freed buffer of NaNs).
    unsafe {
        gemm_raw(out.as_mut_ptr().cast(), m * n, lhs, rhs, false, parallelism);
        out.assume_init().into_vec()
    }
}

/// `lhs x rhs` with the inner dimension split among rayon's threads, each computing
/// the product over its share on its own, the shares' products then summed.
///
/// `gemm` parallelises one product over its output: for a weight's gradient `dY^T X`
/// (an output of a few hundred rows and columns, an inner dimension of every token in
/// the batch) its threads have little to share; on the decoder's 512 x 8,192 x 128
/// gradient, 2 threads, this ran 1.13-1.15x faster (bench `gemm_shapes`, two runs).
/// Splits only when `lhs` is stored transposed and `rhs` is not (a share of the inner
/// dimension is then a run of stored rows of both) and each share holds at least 512
/// elements; otherwise it is [`product`]. The sum's order differs from one product's,
/// so results differ in the last bits.
pub fn product_split_inner<T: Real>(lhs: MatRef<'_, T>, rhs: MatRef<'_, T>) -> Vec<T> {
    let k = lhs.shape().1;
    let shares = rayon::current_num_threads().min(k / MIN_INNER_SHARE);
    if shares < 2 || !lhs.transposed || rhs.transposed {
        return product(lhs, rhs);
    }
    let share = |i: usize| i * k / shares..(i + 1) * k / shares;
    let mut partial: Vec<Vec<T>> = (0..shares)
        .into_par_iter()
        .map(|i| {
            let (lhs, rhs) = (lhs.stored_rows(share(i)), rhs.stored_rows(share(i)));
            product_on(lhs, rhs, Parallelism::None)
        })
        .collect();
    const SUM_CHUNK: usize = 1 << 14;
    let mut total = partial.swap_remove(0);
    total
        .par_chunks_mut(SUM_CHUNK)
        .enumerate()
        .for_each(|(chunk, total)| {
            let start = chunk * SUM_CHUNK;
            for other in &partial {
                let other = &other[start..start + total.len()];
                total.iter_mut().zip(other).for_each(|(t, &o)| *t += o);
            }
        });
    total
}

/// Like [`matmul`] on the calling thread only (for callers that split work themselves).
pub fn matmul_single<T: Real>(
    dst: &mut [T],
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    accumulate: bool,
) {
    matmul_on(dst, lhs, rhs, accumulate, Parallelism::None);
}

fn matmul_on<T: Real>(
    dst: &mut [T],
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    accumulate: bool,
    parallelism: Parallelism,
) {
    // SAFETY: `dst` is an initialised slice of its length.
    unsafe {
        gemm_raw(
            dst.as_mut_ptr(),
            dst.len(),
            lhs,
            rhs,
            accumulate,
            parallelism,
        )
    }
}

/// `gemm` into `dst_len` elements at `dst`.
///
/// # Safety
/// `dst` is valid for writes of `dst_len` elements (and reads too when `accumulate`,
/// initialised then) and aliases neither operand.
unsafe fn gemm_raw<T: Real>(
    dst: *mut T,
    dst_len: usize,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    accumulate: bool,
    parallelism: Parallelism,
) {
    let (m, k) = lhs.shape();
    let (k2, n) = rhs.shape();
    assert_eq!(k, k2, "inner dimensions differ");
    assert_eq!(
        dst_len,
        m * n,
        "destination does not match the product's shape"
    );
    let (lhs_rs, lhs_cs) = lhs.strides();
    let (rhs_rs, rhs_cs) = rhs.strides();
    let _timer = gemm_profile::start(ProductShape {
        rows: m,
        inner: k,
        cols: n,
        lhs_transposed: lhs.transposed,
        rhs_transposed: rhs.transposed,
        parallel: !matches!(parallelism, Parallelism::None),
    });
    // SAFETY: the shapes and strides above describe exactly the slices' elements
    // (checked by the assertions); the destination is the caller's promise.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs_cs,
            lhs_rs,
            rhs.data.as_ptr(),
            rhs_cs,
            rhs_rs,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_by_hand() {
        let a = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 x 3
        let b = [1.0f64, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3 x 2
        let mut c = [0.0; 4];
        matmul(&mut c, MatRef::new(&a, 2, 3), MatRef::new(&b, 3, 2), false);
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
        // a^T (3 x 2) x a (2 x 3) = 3 x 3, accumulated onto ones.
        let mut d = [1.0; 9];
        matmul(
            &mut d,
            MatRef::new(&a, 2, 3).t(),
            MatRef::new(&a, 2, 3),
            true,
        );
        assert_eq!(d, [18.0, 23.0, 28.0, 23.0, 30.0, 37.0, 28.0, 37.0, 46.0]);
    }

    #[test]
    fn split_inner_products_equal_one_product() {
        let (m, k, n) = (5, 1600, 7);
        let a = crate::test_values::values(k * m, 1, 1.0); // stored k x m
        let b = crate::test_values::values(k * n, 2, 1.0); // k x n
        let (lhs, rhs) = (MatRef::new(&a, k, m).t(), MatRef::new(&b, k, n));
        let whole = product(lhs, rhs);
        for threads in [1, 2, 3, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let split = pool.install(|| product_split_inner(lhs, rhs));
            let worst = split
                .iter()
                .zip(&whole)
                .map(|(s, w)| (s - w).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-11, "{threads} threads: {worst}");
        }
        // By hand: element (1, 2) is the sum over the inner dimension.
        let by_hand: f64 = (0..k).map(|i| a[i * m + 1] * b[i * n + 2]).sum();
        assert!((whole[n + 2] - by_hand).abs() < 1e-11);
        // Layouts that cannot be split take the plain product.
        let plain = MatRef::new(&a, m, k);
        assert_eq!(product_split_inner(plain, rhs), product(plain, rhs));
    }
}
