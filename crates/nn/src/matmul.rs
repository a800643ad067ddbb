//! Small safe wrapper over the `gemm` crate (the one candle itself uses) for the
//! hand-written kernels: row-major matrices, optionally transposed, accumulated or not.

use gemm::Parallelism;

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

/// `dst (m x n, row-major) = lhs x rhs`, or `dst += lhs x rhs` when `accumulate`;
/// large products use every rayon thread.
pub fn matmul<T: Real>(dst: &mut [T], lhs: MatRef<'_, T>, rhs: MatRef<'_, T>, accumulate: bool) {
    let (m, k) = lhs.shape();
    let n = rhs.shape().1;
    let threads = rayon::current_num_threads();
    let parallel = m * n * k >= 1 << 18 && threads > 1;
    matmul_on(
        dst,
        lhs,
        rhs,
        accumulate,
        if parallel {
            Parallelism::Rayon(threads)
        } else {
            Parallelism::None
        },
    );
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
    let (m, k) = lhs.shape();
    let (k2, n) = rhs.shape();
    assert_eq!(k, k2, "inner dimensions differ");
    assert_eq!(
        dst.len(),
        m * n,
        "destination does not match the product's shape"
    );
    let (lhs_rs, lhs_cs) = lhs.strides();
    let (rhs_rs, rhs_cs) = rhs.strides();
    // SAFETY: the shapes and strides above describe exactly the slices' elements
    // (checked by the assertions), and `dst` does not alias `lhs` or `rhs`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
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
}
