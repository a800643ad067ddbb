//! Opt-in timing of every matrix product by shape, to see where a whole step's GEMM
//! time goes while it runs (a shape's rate inside a train step, its inputs cold and its
//! output fresh, is not what a GEMM bench measures on warm buffers).
//!
//! With `DNALM_GEMM_PROFILE=1` in the environment, each product through
//! [`crate::matmul`] prints one line to stderr when it ends:
//! `gemm-profile M K N lhs=N|T rhs=N|T threads=one|all SECONDS` (rows, inner size,
//! columns; each side as used, stored transposed or not; on the calling thread or
//! split by `gemm` over rayon's). `benches/gemm_in_situ.py` sums the lines by shape.
//! Products made by candle's own `matmul` (the composed paths, MxDNA's grouped
//! convolutions) are not among them.
//! The variable is read once; when it is unset a product pays one load of a
//! cached flag.

use std::sync::OnceLock;
use std::time::Instant;

/// The environment variable that turns the profile on.
const VARIABLE: &str = "DNALM_GEMM_PROFILE";

/// One product's shape and layout, as the profile line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProductShape {
    /// Rows of the product.
    pub rows: usize,
    /// Inner size.
    pub inner: usize,
    /// Columns of the product.
    pub cols: usize,
    /// Whether the left-hand side is used transposed.
    pub lhs_transposed: bool,
    /// Whether the right-hand side is used transposed.
    pub rhs_transposed: bool,
    /// Whether `gemm` splits the product over rayon's threads.
    pub parallel: bool,
}

impl ProductShape {
    /// The profile line of this product when it took `seconds`.
    fn line(&self, seconds: f64) -> String {
        let side = |transposed: bool| if transposed { 'T' } else { 'N' };
        format!(
            "gemm-profile {} {} {} lhs={} rhs={} threads={} {seconds:.9}",
            self.rows,
            self.inner,
            self.cols,
            side(self.lhs_transposed),
            side(self.rhs_transposed),
            if self.parallel { "all" } else { "one" },
        )
    }
}

/// Prints its product's line when dropped (after the product).
pub(crate) struct ProductTimer {
    shape: ProductShape,
    started: Instant,
}

impl Drop for ProductTimer {
    fn drop(&mut self) {
        eprintln!("{}", self.shape.line(self.started.elapsed().as_secs_f64()));
    }
}

/// A timer for one product when the profile is on; hold it across the product.
pub(crate) fn start(shape: ProductShape) -> Option<ProductTimer> {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    let enabled = *ENABLED.get_or_init(|| std::env::var_os(VARIABLE).is_some_and(|v| v == "1"));
    enabled.then(|| ProductTimer {
        shape,
        started: Instant::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_shape_layout_threads_and_seconds() {
        let shape = ProductShape {
            rows: 512,
            inner: 4096,
            cols: 128,
            lhs_transposed: true,
            rhs_transposed: false,
            parallel: false,
        };
        assert_eq!(
            shape.line(0.0125),
            "gemm-profile 512 4096 128 lhs=T rhs=N threads=one 0.012500000"
        );
        let parallel = ProductShape {
            lhs_transposed: false,
            rhs_transposed: true,
            parallel: true,
            ..shape
        };
        assert_eq!(
            parallel.line(2.0),
            "gemm-profile 512 4096 128 lhs=N rhs=T threads=all 2.000000000"
        );
    }
}
