//! Products with a right-hand matrix packed once and reused many times: the recurrent
//! weight of an LSTM is multiplied by a small batch of states at every time step, and
//! attention multiplies every block of queries by the same keys and values.
//!
//! A general GEMM (the `gemm` crate) repacks its right-hand side on every call; for
//! 16 x 256 by 256 x 1024 products that repacking is a large share of the work. Here
//! the right-hand side is packed into panels of 16 columns (zero-padded), each panel
//! stored as `k` rows of 16 contiguous values. A product may use a leading part of the
//! packed matrix (its first rows and columns: the keys a causal query block sees). For
//! f32 with AVX-512 the kernel keeps a tile of 4 rows x 64 columns, or 8 rows x 32
//! columns where only two panels are left (attention's head width), in sixteen vector
//! registers; with AVX2 and FMA, 6 rows x 16 columns in twelve; elsewhere (and for tile
//! edges) a plain loop does the same arithmetic. Which kernel runs follows
//! [`crate::cpu::simd_level`].
//! Written by hand because no maintained crate exposes pre-packed GEMM operands.

use std::any::TypeId;

use crate::cpu::{simd_level, SimdLevel};
use crate::matmul::MatRef;
use crate::real::Real;
use crate::simd_kernel;

/// Columns per packed panel.
const PANEL: usize = 16;
/// Rows per register tile of the plain and AVX2 kernels and the four-panel AVX-512 one.
const TILE_ROWS: usize = 4;
/// Rows per register tile of the two-panel AVX-512 kernel.
const PAIR_TILE_ROWS: usize = 8;
/// Rows per register tile of the AVX2 kernel (4 for the rows left over).
const AVX2_TILE_ROWS: usize = 6;

/// A `k x n` right-hand matrix packed for [`matmul_packed`].
pub struct PackedRhs<T> {
    panels: Vec<T>,
    k: usize,
    n: usize,
}

impl<T: Real> PackedRhs<T> {
    /// Packs `rhs` (as used, possibly transposed).
    pub fn new(rhs: MatRef<'_, T>) -> Self {
        let (k, n) = rhs.shape();
        let (row_stride, col_stride) = rhs.strides();
        let panels_count = n.div_ceil(PANEL);
        let mut panels = vec![T::default(); panels_count * k * PANEL];
        for (p, panel) in panels.chunks_exact_mut(k * PANEL).enumerate() {
            for (row, out) in panel.chunks_exact_mut(PANEL).enumerate() {
                for (c, value) in out.iter_mut().enumerate() {
                    let col = p * PANEL + c;
                    if col < n {
                        *value = rhs.data[row * row_stride as usize + col * col_stride as usize];
                    }
                }
            }
        }
        Self { panels, k, n }
    }

    /// Rows of the packed matrix (the products' inner size).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Columns of the packed matrix.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The leading `k x n` part (first rows, first columns) of the packed matrix.
    ///
    /// # Panics
    /// When `k` or `n` exceed the packed matrix's.
    pub fn part(&self, k: usize, n: usize) -> PackedPart<'_, T> {
        assert!(
            k <= self.k && n <= self.n,
            "a {k} x {n} part of a {} x {} matrix",
            self.k,
            self.n
        );
        PackedPart { rhs: self, k, n }
    }
}

/// A leading part of a [`PackedRhs`]: its first `k` rows and first `n` columns.
#[derive(Clone, Copy)]
pub struct PackedPart<'a, T> {
    rhs: &'a PackedRhs<T>,
    k: usize,
    n: usize,
}

impl<'a, T: Real> From<&'a PackedRhs<T>> for PackedPart<'a, T> {
    fn from(rhs: &'a PackedRhs<T>) -> Self {
        rhs.part(rhs.k, rhs.n)
    }
}

impl<T> PackedPart<'_, T> {
    /// Panel `index`: its first `k` rows of 16 values (the packed matrix's rows beyond
    /// follow, unused).
    fn panel(&self, index: usize) -> &[T] {
        let stride = self.rhs.k * PANEL;
        &self.rhs.panels[index * stride..index * stride + self.k * PANEL]
    }
}

/// `dst (m x n) = lhs (m x k, row-major) x rhs` for a packed matrix or a leading part
/// of one, or `+=` when `accumulate`; runs on the calling thread.
pub fn matmul_packed<'a, T: Real>(
    dst: &mut [T],
    lhs: &[T],
    rhs: impl Into<PackedPart<'a, T>>,
    accumulate: bool,
) {
    let rhs = rhs.into();
    let (k, n) = (rhs.k, rhs.n);
    assert!(
        k > 0 && lhs.len().is_multiple_of(k),
        "lhs does not have {k} columns"
    );
    let m = lhs.len() / k;
    assert_eq!(dst.len(), m * n, "destination does not match the product");
    product_simd(dst, lhs, &rhs, accumulate);
}

simd_kernel! {
    /// [`product`] with the widest vector instructions in use (the edge tiles'
    /// plain loops vectorise with them).
    fn product_simd<T: Real>(dst: &mut [T], lhs: &[T], rhs: &PackedPart<'_, T>, accumulate: bool) => product;
}

/// The kernel that covers a group of panels.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TileKernel {
    /// AVX-512, 4 rows x 4 panels.
    Avx512Wide,
    /// AVX-512, 8 rows x 2 panels.
    Avx512Pair,
    /// AVX2 + FMA, 6 (or 4) rows x 1 panel.
    Avx2,
    /// Plain loops, 4 rows x up to 2 panels.
    Plain,
}

impl TileKernel {
    /// The kernel for the panels from `panel` on (of `panels`, `n` columns in all) and
    /// how many panels it covers.
    fn choose(level: SimdLevel, panel: usize, panels: usize, n: usize) -> (Self, usize) {
        let full_panels = (n / PANEL).saturating_sub(panel);
        match level {
            SimdLevel::Avx512 if full_panels >= 4 => (Self::Avx512Wide, 4),
            SimdLevel::Avx512 if full_panels >= 2 => (Self::Avx512Pair, 2),
            SimdLevel::Avx512 | SimdLevel::Avx2Fma if full_panels >= 1 => (Self::Avx2, 1),
            _ => (Self::Plain, (panels - panel).min(2)),
        }
    }

    /// Rows of one tile.
    fn rows(self) -> usize {
        match self {
            Self::Avx512Pair => PAIR_TILE_ROWS,
            Self::Avx2 => AVX2_TILE_ROWS,
            Self::Avx512Wide | Self::Plain => TILE_ROWS,
        }
    }
}

/// The product, one group of panels at a time: every row tile of `lhs` passes over a
/// group while its columns of `rhs` (`k x 64` values, 64 KiB for k = 256) stay in the
/// nearest cache; the whole packed matrix (1 MiB for an LSTM of width 256, as large as
/// a core's L2) is then read once per product, not once per row tile.
#[inline(always)]
fn product<T: Real>(dst: &mut [T], lhs: &[T], rhs: &PackedPart<'_, T>, accumulate: bool) {
    let (k, n) = (rhs.k, rhs.n);
    let m = lhs.len() / k;
    let panels = n.div_ceil(PANEL);
    let level = tile_level::<T>();
    let mut panel = 0;
    while panel < panels {
        let (kernel, group) = TileKernel::choose(level, panel, panels, n);
        let tile_rows = kernel.rows();
        let mut row = 0;
        while row < m {
            let rows = (m - row).min(tile_rows);
            row += match intrinsic_tile(kernel, rows, dst, lhs, rhs, (row, panel), accumulate) {
                0 => {
                    plain_tiles(dst, lhs, rhs, (row, rows), (panel, group), accumulate);
                    rows
                }
                done => done,
            };
        }
        panel += group;
    }
}

/// The level of the intrinsic tile kernels for `T`: they are f32 only and follow the
/// kernels' [`simd_level`].
fn tile_level<T: 'static>() -> SimdLevel {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        simd_level()
    } else {
        SimdLevel::Baseline
    }
}

/// Runs the intrinsic `kernel` on a tile at (`row`, `panel`) of at most `rows` rows
/// and returns the rows it covered: 0 (nothing done) for [`TileKernel::Plain`] and
/// where the kernel has no tile that short; the plain loops cover those.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
fn intrinsic_tile<T: Real>(
    kernel: TileKernel,
    rows: usize,
    dst: &mut [T],
    lhs: &[T],
    rhs: &PackedPart<'_, T>,
    (row, panel): (usize, usize),
    accumulate: bool,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    // SAFETY (all): `tile_level` gave f32 and a level the processor has; the tile's
    // rows are at most `rows`, which the caller's bounds put inside the matrices, as
    // they do the panels.
    unsafe {
        match kernel {
            TileKernel::Avx512Wide if rows == TILE_ROWS => {
                x86::tile_avx512::<T, TILE_ROWS, 4>(dst, lhs, rhs, row, panel, accumulate);
                return TILE_ROWS;
            }
            TileKernel::Avx512Pair if rows == PAIR_TILE_ROWS => {
                x86::tile_avx512::<T, PAIR_TILE_ROWS, 2>(dst, lhs, rhs, row, panel, accumulate);
                return PAIR_TILE_ROWS;
            }
            TileKernel::Avx2 if rows == AVX2_TILE_ROWS => {
                x86::tile_avx2::<T, AVX2_TILE_ROWS>(dst, lhs, rhs, row, panel, accumulate);
                return AVX2_TILE_ROWS;
            }
            TileKernel::Avx2 if rows >= TILE_ROWS => {
                x86::tile_avx2::<T, TILE_ROWS>(dst, lhs, rhs, row, panel, accumulate);
                return TILE_ROWS;
            }
            _ => {}
        }
    }
    0
}

/// `rows.1` rows from `rows.0` times `panels.1` panels from `panels.0`, in plain loops.
#[inline(always)]
fn plain_tiles<T: Real>(
    dst: &mut [T],
    lhs: &[T],
    rhs: &PackedPart<'_, T>,
    (row, rows): (usize, usize),
    (panel, count): (usize, usize),
    accumulate: bool,
) {
    for first in (panel..panel + count).step_by(2) {
        let pair = first + 1 < panel + count;
        match (rows, pair) {
            (TILE_ROWS, true) => tile::<T, TILE_ROWS, 2>(dst, lhs, rhs, row, first, accumulate),
            (TILE_ROWS, false) => tile::<T, TILE_ROWS, 1>(dst, lhs, rhs, row, first, accumulate),
            (_, true) => {
                for r in row..row + rows {
                    tile::<T, 1, 2>(dst, lhs, rhs, r, first, accumulate);
                }
            }
            (_, false) => {
                for r in row..row + rows {
                    tile::<T, 1, 1>(dst, lhs, rhs, r, first, accumulate);
                }
            }
        }
    }
}

/// `ROWS` rows starting at `row` times `PANELS` panels starting at `panel`.
#[inline(always)]
fn tile<T: Real, const ROWS: usize, const PANELS: usize>(
    dst: &mut [T],
    lhs: &[T],
    rhs: &PackedPart<'_, T>,
    row: usize,
    panel: usize,
    accumulate: bool,
) {
    let (k, n) = (rhs.k, rhs.n);
    let mut acc = [[[T::default(); PANEL]; PANELS]; ROWS];
    let lhs_rows: [&[T]; ROWS] = std::array::from_fn(|r| &lhs[(row + r) * k..(row + r + 1) * k]);
    let panel_data: [&[T]; PANELS] = std::array::from_fn(|p| rhs.panel(panel + p));
    for kk in 0..k {
        let b: [&[T; PANEL]; PANELS] = std::array::from_fn(|p| {
            panel_data[p][kk * PANEL..(kk + 1) * PANEL]
                .try_into()
                .expect("panel row")
        });
        for r in 0..ROWS {
            let a = lhs_rows[r][kk];
            for p in 0..PANELS {
                for c in 0..PANEL {
                    acc[r][p][c] += a * b[p][c];
                }
            }
        }
    }
    for (r, acc_row) in acc.iter().enumerate() {
        let out_row = &mut dst[(row + r) * n..(row + r + 1) * n];
        for (p, acc_panel) in acc_row.iter().enumerate() {
            let first = (panel + p) * PANEL;
            let width = PANEL.min(n - first);
            let out = &mut out_row[first..first + width];
            if accumulate {
                out.iter_mut().zip(acc_panel).for_each(|(o, &a)| *o += a);
            } else {
                out.copy_from_slice(&acc_panel[..width]);
            }
        }
    }
}

/// The intrinsic kernels for full tiles of f32. AVX-512: 4 rows x 64 columns (four
/// panels) in sixteen registers, four panel loads, four broadcasts and sixteen fused
/// multiply-adds per step of `k`, or 8 rows x 32 columns (two loads, eight broadcasts,
/// sixteen multiply-adds). AVX2 + FMA: 6 rows x 16 columns (one panel) in twelve
/// registers, two loads, six broadcasts and twelve fused multiply-adds (4 rows for
/// the rows left over).
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;

    /// Rows `row..row + ROWS` times panel `panel` (16 columns; `2 x ROWS` registers).
    ///
    /// # Safety
    /// `T` must be f32, the processor must have AVX2 and FMA, and the tile must lie
    /// inside the matrices (checked by the caller's loop bounds).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile_avx2<T: Real, const ROWS: usize>(
        dst: &mut [T],
        lhs: &[T],
        rhs: &PackedPart<'_, T>,
        row: usize,
        panel: usize,
        accumulate: bool,
    ) {
        use std::arch::x86_64::*;
        let (k, n) = (rhs.k, rhs.n);
        let lhs = lhs.as_ptr() as *const f32;
        let panel_data = rhs.panel(panel).as_ptr() as *const f32;
        let rows: [*const f32; ROWS] = std::array::from_fn(|r| lhs.add((row + r) * k));
        let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
        for kk in 0..k {
            let b = [
                _mm256_loadu_ps(panel_data.add(kk * PANEL)),
                _mm256_loadu_ps(panel_data.add(kk * PANEL + 8)),
            ];
            for r in 0..ROWS {
                let a = _mm256_set1_ps(*rows[r].add(kk));
                for half in 0..2 {
                    acc[r][half] = _mm256_fmadd_ps(a, b[half], acc[r][half]);
                }
            }
        }
        let dst = dst.as_mut_ptr() as *mut f32;
        for (r, acc_row) in acc.iter().enumerate() {
            for (half, &value) in acc_row.iter().enumerate() {
                let out = dst.add((row + r) * n + panel * PANEL + half * 8);
                let value = if accumulate {
                    _mm256_add_ps(_mm256_loadu_ps(out), value)
                } else {
                    value
                };
                _mm256_storeu_ps(out, value);
            }
        }
    }

    /// Rows `row..row + ROWS` times panels `panel..panel + PANELS` (`ROWS x PANELS`
    /// registers: 4 x 4 or 8 x 2).
    ///
    /// # Safety
    /// `T` must be f32, the processor must have AVX-512F, and the tile must lie inside
    /// the matrices (checked by the caller's loop bounds).
    #[target_feature(enable = "avx512f")]
    pub unsafe fn tile_avx512<T: Real, const ROWS: usize, const PANELS: usize>(
        dst: &mut [T],
        lhs: &[T],
        rhs: &PackedPart<'_, T>,
        row: usize,
        panel: usize,
        accumulate: bool,
    ) {
        use std::arch::x86_64::*;
        let (k, n) = (rhs.k, rhs.n);
        let lhs = lhs.as_ptr() as *const f32;
        let panels: [*const f32; PANELS] =
            std::array::from_fn(|p| rhs.panel(panel + p).as_ptr() as *const f32);
        let rows: [*const f32; ROWS] = std::array::from_fn(|r| lhs.add((row + r) * k));
        let mut acc = [[_mm512_setzero_ps(); PANELS]; ROWS];
        for kk in 0..k {
            let b: [__m512; PANELS] =
                std::array::from_fn(|p| _mm512_loadu_ps(panels[p].add(kk * PANEL)));
            for r in 0..ROWS {
                let a = _mm512_set1_ps(*rows[r].add(kk));
                for p in 0..PANELS {
                    acc[r][p] = _mm512_fmadd_ps(a, b[p], acc[r][p]);
                }
            }
        }
        let dst = dst.as_mut_ptr() as *mut f32;
        for (r, acc_row) in acc.iter().enumerate() {
            for (p, &value) in acc_row.iter().enumerate() {
                let out = dst.add((row + r) * n + (panel + p) * PANEL);
                let value = if accumulate {
                    _mm512_add_ps(_mm512_loadu_ps(out), value)
                } else {
                    value
                };
                _mm512_storeu_ps(out, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul::matmul;
    use crate::test_values::values;

    #[test]
    fn matches_the_general_product_for_every_shape_tail() {
        for (m, k, n) in [
            (16, 256, 1024),
            (7, 5, 37),
            (1, 3, 16),
            (5, 9, 15),
            (4, 2, 33),
        ] {
            let lhs = values(m * k, 1, 1.0);
            let rhs = values(k * n, 2, 1.0);
            let start = values(m * n, 3, 1.0);
            for transposed in [false, true] {
                let rhs_ref = if transposed {
                    // The same matrix stored transposed.
                    let stored: Vec<f64> = (0..n * k).map(|i| rhs[(i % k) * n + i / k]).collect();
                    let packed = PackedRhs::new(MatRef::new(&stored, n, k).t());
                    (packed, stored)
                } else {
                    (PackedRhs::new(MatRef::new(&rhs, k, n)), rhs.clone())
                };
                for accumulate in [false, true] {
                    let mut expected = start.clone();
                    matmul(
                        &mut expected,
                        MatRef::new(&lhs, m, k),
                        MatRef::new(&rhs, k, n),
                        accumulate,
                    );
                    let mut got = start.clone();
                    matmul_packed(&mut got, &lhs, &rhs_ref.0, accumulate);
                    let worst = got
                        .iter()
                        .zip(&expected)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    assert!(worst < 1e-12, "{m}x{k}x{n}: {worst}");
                }
            }
        }
    }

    fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn the_f32_kernel_matches_the_general_product() {
        // Full 4 x 64 and 8 x 32 tiles (the AVX-512 kernels where the processor has
        // them), 6 x 16 and 4 x 16 ones (AVX2) and edges of every height.
        for (m, k, n) in [
            (16, 256, 1024),
            (9, 3, 80),
            (4, 1, 64),
            (19, 40, 32),
            (8, 5, 112),
            (1, 7, 32),
            (2, 7, 32),
            (3, 7, 32),
            (7, 9, 48),
            (32, 64, 48),
        ] {
            let lhs: Vec<f32> = values(m * k, 4, 1.0).iter().map(|&v| v as f32).collect();
            let rhs: Vec<f32> = values(k * n, 5, 1.0).iter().map(|&v| v as f32).collect();
            let packed = PackedRhs::new(MatRef::new(&rhs, k, n));
            for accumulate in [false, true] {
                let mut expected = vec![0.5f32; m * n];
                matmul(
                    &mut expected,
                    MatRef::new(&lhs, m, k),
                    MatRef::new(&rhs, k, n),
                    accumulate,
                );
                let mut got = vec![0.5f32; m * n];
                matmul_packed(&mut got, &lhs, &packed, accumulate);
                let worst = largest_difference(&got, &expected);
                assert!(worst < 1e-4, "{m}x{k}x{n}: {worst}");
            }
        }
    }

    #[test]
    fn a_leading_part_is_the_product_with_the_cut_matrix() {
        let (m, k, n) = (9, 37, 70);
        let lhs_full: Vec<f32> = values(m * k, 6, 1.0).iter().map(|&v| v as f32).collect();
        let rhs: Vec<f32> = values(k * n, 7, 1.0).iter().map(|&v| v as f32).collect();
        let packed = PackedRhs::new(MatRef::new(&rhs, k, n));
        for (part_k, part_n) in [(37, 70), (20, 33), (1, 64), (30, 5)] {
            let lhs: Vec<f32> = lhs_full
                .chunks_exact(k)
                .flat_map(|row| row[..part_k].iter().copied())
                .collect();
            let cut: Vec<f32> = rhs
                .chunks_exact(n)
                .take(part_k)
                .flat_map(|row| row[..part_n].iter().copied())
                .collect();
            let mut expected = vec![0.0f32; m * part_n];
            matmul(
                &mut expected,
                MatRef::new(&lhs, m, part_k),
                MatRef::new(&cut, part_k, part_n),
                false,
            );
            let mut got = vec![0.0f32; m * part_n];
            matmul_packed(&mut got, &lhs, packed.part(part_k, part_n), false);
            let worst = largest_difference(&got, &expected);
            assert!(worst < 1e-4, "part {part_k} x {part_n}: {worst}");
        }
    }
}
