//! LayerNorm over the last dimension, `y = (x - mean) / sqrt(var + eps) * weight + bias`:
//! the layer ([`LayerNorm`]) and the candle custom op with a hand-written backward
//! under it ([`layer_norm`]).
//!
//! candle's fused `layer_norm` has no backward (DESIGN.md, "candle traps") and the
//! composition takes seven passes over the activations forward and more backward. The
//! forward pass here keeps each row's mean and inverse standard deviation; the backward
//! pass gives `dx = rstd (g - mean(g) - x̂ mean(g x̂))` with `g = dy * weight`,
//! `dweight = Σ dy x̂`, `dbias = Σ dy`. Rows are split across rayon's threads; outputs
//! are written into unzeroed memory.

use std::mem::MaybeUninit;
use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor, WithDType};
use rayon::prelude::*;

use crate::cpu::CpuView;
use crate::kernels::fused_kernel_for;
use crate::params::ParamStore;
use crate::real::{lane_sum, lane_sum_of, lane_sum_of3, Real};
use crate::real_map::RealMap;
use crate::simd_kernel;

const NAME: &str = "layer-norm";
/// Rows per parallel task.
const ROWS_PER_TASK: usize = 256;

/// A LayerNorm layer: `NAME.weight` (ones) and `NAME.bias` (zeros).
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    /// A new layer at identity, its parameters registered under `name`.
    pub fn new(params: &mut ParamStore, name: &str, width: usize, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: params.ones(&format!("{name}.weight"), &[width])?,
            bias: params.zeros(&format!("{name}.bias"), &[width])?,
            eps,
        })
    }

    /// Normalises `x` over its last dimension.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}

/// LayerNorm of `x` (any rank, f32 or f64) over its last dimension.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    if !fused_kernel_for(x) {
        return layer_norm_composed(x, weight, bias, eps);
    }
    x.contiguous()?.apply_op3(
        weight,
        bias,
        LayerNormOp {
            eps,
            statistics: Mutex::new(Vec::new()),
        },
    )
}

struct LayerNormOp {
    eps: f64,
    /// Per row, `(mean, 1 / std)` from the forward pass.
    statistics: Mutex<Vec<(f64, f64)>>,
}

/// The same LayerNorm from candle's differentiable ops (mean, variance, broadcast):
/// the portable path for devices without the fused kernel, and the reference the tests
/// compare it with.
pub fn layer_norm_composed(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    let centred = x.broadcast_sub(&x.mean_keepdim(candle_core::D::Minus1)?)?;
    let variance = centred.sqr()?.mean_keepdim(candle_core::D::Minus1)?;
    centred
        .broadcast_div(&(variance + eps)?.sqrt()?)?
        .broadcast_mul(weight)?
        .broadcast_add(bias)
}

fn width(x: &Layout, weight: &Layout, bias: &Layout) -> Result<usize> {
    let width = x.shape().dims().last().copied().unwrap_or(0);
    if width == 0 || weight.shape().dims() != [width] || bias.shape().dims() != [width] {
        candle_core::bail!(
            "{NAME}: x {:?}, weight {:?} and bias {:?} do not fit",
            x.shape(),
            weight.shape(),
            bias.shape()
        );
    }
    Ok(width)
}

/// Writes every slot of `out` (as long as `x`, one row per entry of `statistics`).
#[inline(always)]
fn forward_rows<T: Real>(
    x: &[T],
    weight: &[T],
    bias: &[T],
    eps: f64,
    out: &mut [MaybeUninit<T>],
    statistics: &mut [(f64, f64)],
) {
    let width = weight.len();
    let scale = T::from_f64(1.0 / width as f64);
    for ((x, out), stats) in x
        .chunks_exact(width)
        .zip(out.chunks_exact_mut(width))
        .zip(statistics)
    {
        // Interleaved partial sums: a single running sum is a serial chain of adds
        // the compiler may not reorder (one add every 3-4 cycles).
        let mean = lane_sum(x) * scale;
        let variance = lane_sum_of(x, |v| (v - mean) * (v - mean)) * scale;
        let rstd = T::one() / (variance + T::from_f64(eps)).sqrt();
        for (((o, &v), &w), &b) in out.iter_mut().zip(x).zip(weight).zip(bias) {
            *o = MaybeUninit::new((v - mean) * rstd * w + b);
        }
        *stats = (mean.to_f64(), rstd.to_f64());
    }
}

simd_kernel! {
    /// [`forward_rows`] with the widest vector instructions in use.
    fn forward_rows_simd<T: Real>(
        x: &[T],
        weight: &[T],
        bias: &[T],
        eps: f64,
        out: &mut [MaybeUninit<T>],
        statistics: &mut [(f64, f64)],
    ) => forward_rows;
}

/// `dx` for a run of rows (every slot written: as long as `x` and `dy`, one row per
/// entry of `statistics`), and their contributions to `dweight` and `dbias`.
#[inline(always)]
fn backward_rows<T: Real>(
    x: &[T],
    weight: &[T],
    dy: &[T],
    statistics: &[(f64, f64)],
    dx: &mut [MaybeUninit<T>],
) -> (Vec<T>, Vec<T>) {
    let width = weight.len();
    let scale = T::from_f64(1.0 / width as f64);
    let mut dweight = vec![T::default(); width];
    let mut dbias = vec![T::default(); width];
    for (((x, dy), dx), &(mean, rstd)) in x
        .chunks_exact(width)
        .zip(dy.chunks_exact(width))
        .zip(dx.chunks_exact_mut(width))
        .zip(statistics)
    {
        let (mean, rstd) = (T::from_f64(mean), T::from_f64(rstd));
        for ((&v, &g), (dw, db)) in x
            .iter()
            .zip(dy)
            .zip(dweight.iter_mut().zip(dbias.iter_mut()))
        {
            *dw += g * ((v - mean) * rstd);
            *db += g;
        }
        // The row's two sums in interleaved partial sums (vectorised), apart from the
        // element-wise gradients above.
        let mean_g = lane_sum_of3(x, dy, weight, |_, g, w| g * w) * scale;
        let mean_g_xhat =
            lane_sum_of3(x, dy, weight, |v, g, w| g * w * ((v - mean) * rstd)) * scale;
        for (((d, &v), &g), &w) in dx.iter_mut().zip(x).zip(dy).zip(weight) {
            let xhat = (v - mean) * rstd;
            *d = MaybeUninit::new(rstd * (g * w - mean_g - xhat * mean_g_xhat));
        }
    }
    (dweight, dbias)
}

simd_kernel! {
    /// [`backward_rows`] with the widest vector instructions in use.
    fn backward_rows_simd<T: Real>(
        x: &[T],
        weight: &[T],
        dy: &[T],
        statistics: &[(f64, f64)],
        dx: &mut [MaybeUninit<T>],
    ) -> (Vec<T>, Vec<T>) => backward_rows;
}

impl LayerNormOp {
    fn forward<T: Real>(&self, x: &[T], weight: &[T], bias: &[T]) -> Vec<T> {
        let width = weight.len();
        assert_eq!(x.len() % width, 0, "the width checked by output_shape");
        let mut out = Box::new_uninit_slice(x.len());
        let mut statistics = vec![(0.0, 0.0); x.len() / width];
        out.par_chunks_mut(ROWS_PER_TASK * width)
            .zip(x.par_chunks(ROWS_PER_TASK * width))
            .zip(statistics.par_chunks_mut(ROWS_PER_TASK))
            .for_each(|((out, x), stats)| forward_rows_simd(x, weight, bias, self.eps, out, stats));
        *self.statistics.lock().expect("not poisoned") = statistics;
        // SAFETY: `x` is whole rows, so every chunk of `out` pairs with rows of `x` and
        // their statistics, and forward_rows writes every slot of them.
        unsafe { out.assume_init() }.into_vec()
    }

    fn backward<T: Real + WithDType>(
        &self,
        x: &Tensor,
        weight: &Tensor,
        dy: &Tensor,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let statistics = self.statistics.lock().expect("not poisoned");
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
        let width = w.len();
        if statistics.len() * width != xs.len() || g.len() != xs.len() {
            candle_core::bail!("{NAME}: backward called without its forward pass");
        }
        let mut dx = Box::new_uninit_slice(xs.len());
        let partial: Vec<(Vec<T>, Vec<T>)> = dx
            .par_chunks_mut(ROWS_PER_TASK * width)
            .zip(xs.par_chunks(ROWS_PER_TASK * width))
            .zip(g.par_chunks(ROWS_PER_TASK * width))
            .zip(statistics.par_chunks(ROWS_PER_TASK))
            .map(|(((dx, x), g), stats)| backward_rows_simd(x, w, g, stats, dx))
            .collect();
        // SAFETY: `x`, `dy` and `dx` are the statistics' rows, so every chunk of `dx`
        // pairs with as many rows of both, and backward_rows writes every slot of them.
        let dx = unsafe { dx.assume_init() }.into_vec();
        let mut dweight = vec![T::default(); width];
        let mut dbias = vec![T::default(); width];
        for (pw, pb) in partial {
            dweight.iter_mut().zip(pw).for_each(|(a, b)| *a += b);
            dbias.iter_mut().zip(pb).for_each(|(a, b)| *a += b);
        }
        let device = x.device();
        Ok((
            Tensor::from_vec(dx, x.shape(), device)?,
            Tensor::from_vec(dweight, width, device)?,
            Tensor::from_vec(dbias, width, device)?,
        ))
    }
}

impl RealMap<3> for LayerNormOp {
    const NAME: &'static str = NAME;
    const INPUTS: [&'static str; 3] = ["x", "weight", "bias"];

    fn f<T: Real + WithDType>(&self, [x, w, b]: [&[T]; 3], _: [&Layout; 3]) -> Result<Vec<T>> {
        Ok(self.forward(x, w, b))
    }

    fn output_shape(&self, [x, w, b]: [&Layout; 3]) -> Result<Shape> {
        width(x, w, b)?;
        Ok(x.shape().clone())
    }
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        NAME
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.cpu_forward([s1, s2, s3], [l1, l2, l3])
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        _out: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let (dx, dw, db) = match x.dtype() {
            DType::F32 => self.backward::<f32>(x, weight, &dy)?,
            DType::F64 => self.backward::<f64>(x, weight, &dy)?,
            other => candle_core::bail!("{NAME}: unsupported dtype {other:?}"),
        };
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;
    use crate::test_values::values;

    #[test]
    fn matches_the_composition_and_its_gradients() {
        let device = Device::Cpu;
        // 600 rows: more than two parallel tasks.
        let x = Var::from_vec(values(600 * 7, 1, 3.0), (2, 300, 7), &device).unwrap();
        let weight = Var::from_vec(values(7, 2, 1.5), 7, &device).unwrap();
        let bias = Var::from_vec(values(7, 3, 1.0), 7, &device).unwrap();
        let probe = Tensor::from_vec(values(600 * 7, 4, 1.0), (2, 300, 7), &device).unwrap();
        let fused = layer_norm(&x, &weight, &bias, 1e-5).unwrap();
        let reference = layer_norm_composed(&x, &weight, &bias, 1e-5).unwrap();
        let diff = |a: &Tensor, b: &Tensor| {
            (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        };
        assert!(diff(&fused, &reference) < 1e-12);
        let grads = (fused * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let reference_grads = (reference * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for var in [&x, &weight, &bias] {
            let d = diff(grads.get(var).unwrap(), reference_grads.get(var).unwrap());
            assert!(d < 1e-11, "gradient differs by {d}");
        }
    }

    #[test]
    fn input_gradient_matches_finite_differences() {
        let device = Device::Cpu;
        let x = Var::from_vec(values(3 * 5, 5, 2.0), (3, 5), &device).unwrap();
        let weight = Tensor::from_vec(values(5, 6, 1.0), 5, &device).unwrap();
        let bias = Tensor::from_vec(values(5, 7, 1.0), 5, &device).unwrap();
        let probe = Tensor::from_vec(values(15, 8, 1.0), (3, 5), &device).unwrap();
        let loss = |x: &Tensor| {
            (layer_norm(x, &weight, &bias, 1e-5).unwrap() * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
        };
        let analytic: Vec<f64> = loss(&x)
            .backward()
            .unwrap()
            .get(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let base: Vec<f64> = x.flatten_all().unwrap().to_vec1().unwrap();
        for (i, a) in analytic.iter().enumerate() {
            let at = |delta: f64| {
                let mut moved = base.clone();
                moved[i] += delta;
                let t = Tensor::from_vec(moved, (3, 5), &device).unwrap();
                loss(&t).to_scalar::<f64>().unwrap()
            };
            let numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
            assert!((numeric - a).abs() < 1e-7, "[{i}] {numeric} vs {a}");
        }
    }
}
