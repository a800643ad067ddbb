//! `x W^T`, the bias-free projection every model here is built from ([`linear`]), and
//! under it a candle custom op with a hand-written backward for `(rows, in)` inputs.
//!
//! The forward pass is one `gemm` product, as candle's. The backward pass gives
//! `dX = dY W` (one product) and the weight's gradient `dW = dY^T X` with the rows
//! split among the threads, each a product over its rows, then their sum
//! ([`crate::matmul::product_split_inner`]): `gemm` splits one product over its output,
//! and a weight's gradient has a small output and an inner dimension of every row of
//! the batch (1.13-1.15x on the decoder's, bench `gemm_shapes`).

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, WithDType};

use crate::cpu::CpuView;
use crate::kernels::fused_kernel_for;
use crate::matmul::{product, product_split_inner, MatRef};
use crate::real::Real;
use crate::real_map::RealMap;

const NAME: &str = "linear";

/// `x W^T` for `x` of any rank and `weight` `(out, in)`. The leading dimensions of `x`
/// are folded into the rows of one product, so that the weight's gradient is one
/// product over all the rows (candle's `broadcast_matmul` makes it one product per
/// leading index, then a sum over them).
pub fn linear(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    let Some((&width, leading)) = x.dims().split_last() else {
        candle_core::bail!("{NAME}: x must have at least one dimension");
    };
    let rows = leading.iter().product::<usize>();
    let mut out_dims = leading.to_vec();
    out_dims.push(weight.dim(0)?);
    linear_rows(&x.reshape((rows, width))?, weight)?.reshape(out_dims)
}

/// `x W^T` for `x` `(rows, in)`: the fused op on the CPU, [`linear_rows_composed`]
/// elsewhere.
pub fn linear_rows(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    if !fused_kernel_for(x) {
        return linear_rows_composed(x, weight);
    }
    x.contiguous()?.apply_op2(&weight.contiguous()?, Linear)
}

/// The same product from candle's differentiable `matmul`: the portable path, and the
/// reference the tests compare the op with.
pub fn linear_rows_composed(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    x.matmul(&weight.t()?)
}

struct Linear;

/// `(rows, in, out)` of `x` and `weight`, or an error when they do not fit.
fn sizes(x: &Shape, weight: &Shape) -> Result<(usize, usize, usize)> {
    let (rows, width) = x.dims2()?;
    let (out, weight_width) = weight.dims2()?;
    if width != weight_width {
        candle_core::bail!("{NAME}: x {x:?} and weight {weight:?} do not fit");
    }
    Ok((rows, width, out))
}

impl Linear {
    fn backward<T: Real + WithDType>(
        &self,
        x: &Tensor,
        weight: &Tensor,
        dy: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let (rows, width, out) = sizes(x.shape(), weight.shape())?;
        let views = [
            CpuView::new(x, NAME, "x"),
            CpuView::new(weight, NAME, "weight"),
            CpuView::new(dy, NAME, "output gradient"),
        ];
        let (xs, w, g) = (
            views[0].slice::<T>()?,
            views[1].slice::<T>()?,
            views[2].slice::<T>()?,
        );
        if g.len() != rows * out {
            candle_core::bail!("{NAME}: the output gradient is not of the output's size");
        }
        let dy = MatRef::new(g, rows, out);
        let dx = product(dy, MatRef::new(w, out, width));
        let dw = product_split_inner(dy.t(), MatRef::new(xs, rows, width));
        let device = x.device();
        Ok((
            Tensor::from_vec(dx, (rows, width), device)?,
            Tensor::from_vec(dw, (out, width), device)?,
        ))
    }
}

impl RealMap<2> for Linear {
    const NAME: &'static str = NAME;
    const INPUTS: [&'static str; 2] = ["x", "weight"];

    fn f<T: Real + WithDType>(&self, [x, w]: [&[T]; 2], [lx, lw]: [&Layout; 2]) -> Result<Vec<T>> {
        let (rows, width, out) = sizes(lx.shape(), lw.shape())?;
        Ok(product(
            MatRef::new(x, rows, width),
            MatRef::new(w, out, width).t(),
        ))
    }

    fn output_shape(&self, [x, weight]: [&Layout; 2]) -> Result<Shape> {
        let (rows, _, out) = sizes(x.shape(), weight.shape())?;
        Ok(Shape::from((rows, out)))
    }
}

impl CustomOp2 for Linear {
    fn name(&self) -> &'static str {
        NAME
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.cpu_forward([s1, s2], [l1, l2])
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _out: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let (dx, dw) = match x.dtype() {
            DType::F32 => self.backward::<f32>(x, weight, &dy)?,
            DType::F64 => self.backward::<f64>(x, weight, &dy)?,
            other => candle_core::bail!("{NAME}: unsupported dtype {other:?}"),
        };
        Ok((Some(dx), Some(dw)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;
    use crate::test_values::values;

    fn var(shape: (usize, usize), seed: u64) -> Var {
        Var::from_vec(values(shape.0 * shape.1, seed, 1.0), shape, &Device::Cpu).unwrap()
    }

    fn flat(t: &Tensor) -> Vec<f64> {
        t.flatten_all().unwrap().to_vec1().unwrap()
    }

    /// The output and the gradients of `sum(out * probe)` for x and the weight.
    fn run(
        product: fn(&Tensor, &Tensor) -> Result<Tensor>,
        x: &Var,
        w: &Var,
        probe: &Tensor,
    ) -> [Vec<f64>; 3] {
        let out = product(x, w).unwrap();
        let grads = (&out * probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        [
            flat(&out),
            flat(grads.get(x).unwrap()),
            flat(grads.get(w).unwrap()),
        ]
    }

    #[test]
    fn matches_candles_matmul_and_finite_differences() {
        // Enough rows for the weight's gradient to be split among 3 threads.
        let (rows, width, out) = (1700, 7, 5);
        let (x, w) = (var((rows, width), 1), var((out, width), 2));
        let probe =
            Tensor::from_vec(values(rows * out, 3, 1.0), (rows, out), &Device::Cpu).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let fused = pool.install(|| run(linear_rows, &x, &w, &probe));
        let composed = run(linear_rows_composed, &x, &w, &probe);
        for (which, (a, b)) in fused.iter().zip(&composed).enumerate() {
            let worst = a
                .iter()
                .zip(b)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-11, "tensor {which} differs by {worst}");
        }
        // d sum(out * probe) / d w[i][j] = sum over rows of probe[r][i] x[r][j].
        let (xs, ps) = (flat(&x), flat(&probe));
        for (i, j) in [(0, 0), (2, 5), (4, 6)] {
            let by_hand: f64 = (0..rows).map(|r| ps[r * out + i] * xs[r * width + j]).sum();
            assert!((fused[2][i * width + j] - by_hand).abs() < 1e-10);
        }
    }

    #[test]
    fn folds_leading_dimensions_and_refuses_widths_that_differ() {
        let x = Tensor::from_vec(values(2 * 3 * 4, 4, 1.0), (2, 3, 4), &Device::Cpu).unwrap();
        let w = Tensor::from_vec(values(5 * 4, 5, 1.0), (5, 4), &Device::Cpu).unwrap();
        let folded = linear(&x, &w).unwrap();
        assert_eq!(folded.dims(), [2, 3, 5]);
        let reference = x.broadcast_matmul(&w.t().unwrap()).unwrap();
        let worst = flat(&folded)
            .iter()
            .zip(flat(&reference))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-14);
        let narrow = Tensor::from_vec(values(5 * 3, 6, 1.0), (5, 3), &Device::Cpu).unwrap();
        let err = linear(&x, &narrow).unwrap_err().to_string();
        assert!(err.contains("do not fit"), "{err}");
    }
}
