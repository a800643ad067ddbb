//! The sampling half of MxDNA's 1-D deformable convolution as one candle custom op with
//! a hand-written backward: for each output position `t` and tap `i` of a kernel of
//! `K` taps, the input is read at the fractional position
//! `p = t - K/2 + i + offset[t, i]` by linear interpolation (zero outside the sequence)
//! and multiplied by `modulation[t, i]`. The result, `(B, T, K, C)`, times the regular
//! conv weight `(C_out, K * C)` is the deformable convolution; with zero offsets and
//! unit modulation it is the im2col of an ordinary convolution with padding `K/2`.
//!
//! This is what torchvision's `deform_conv2d` computes for MxDNA's `(K, 1)` kernel with
//! the width offsets at zero (the reference's layout: an input `(B, C, L, 1)`, height
//! offsets only), written in one dimension.
//!
//! Backward, with `p = f + a` (`f = floor(p)`, `0 <= a < 1`), `v = (1-a) x[f] + a x[f+1]`:
//! `dx[f] += (1-a) m g`, `dx[f+1] += a m g`, `d offset = m g · (x[f+1] - x[f])`,
//! `d modulation = g · v`, where `g` is the output gradient of that tap.

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor, WithDType};
use dnalm_nn::cpu::CpuView;
use dnalm_nn::kernels::fused_kernel_for;
use dnalm_nn::real::Real;
use dnalm_nn::real_map::RealMap;
use rayon::prelude::*;

const NAME: &str = "deform_sample";

/// Samples `x` `(B, L, C)` at `L` output positions with `K` taps each, moved by
/// `offsets` `(B, L, K)` and scaled by `modulation` `(B, L, K)`; returns `(B, L, K, C)`.
pub fn deform_sample(x: &Tensor, offsets: &Tensor, modulation: &Tensor) -> Result<Tensor> {
    if !fused_kernel_for(x) {
        return deform_sample_composed(x, offsets, modulation);
    }
    x.contiguous()?.apply_op3(
        &offsets.contiguous()?,
        &modulation.contiguous()?,
        DeformSample,
    )
}

/// The same sampling from candle's differentiable ops (floor, gather, interpolation
/// weights and validity masks, all on the tensors' device): the portable path for
/// devices without the fused kernel, and the reference the tests compare it with.
pub fn deform_sample_composed(x: &Tensor, offsets: &Tensor, modulation: &Tensor) -> Result<Tensor> {
    let (batch, steps, channels) = x.dims3()?;
    let taps = offsets.dim(2)?;
    let (device, dtype) = (x.device(), x.dtype());
    let base: Vec<f32> = (0..steps)
        .flat_map(|t| (0..taps).map(move |i| t as f32 - (taps / 2) as f32 + i as f32))
        .collect();
    let base = Tensor::from_vec(base, (1, steps, taps), device)?.to_dtype(dtype)?;
    let position = offsets.broadcast_add(&base)?;
    let floor = position.floor()?.detach();
    let above = (&position - &floor)?;
    let first_row: Vec<f32> = (0..batch).map(|b| (b * steps) as f32).collect();
    let first_row = Tensor::from_vec(first_row, (batch, 1, 1), device)?.to_dtype(dtype)?;
    let last = (steps - 1) as f64;
    let neighbour = |shift: f64| -> Result<(Tensor, Tensor)> {
        let index = (&floor + shift)?;
        let inside = index.ge(0.0)?.mul(&index.le(last)?)?.to_dtype(dtype)?;
        let rows = index
            .clamp(0.0, last)?
            .broadcast_add(&first_row)?
            .to_dtype(candle_core::DType::U32)?
            .flatten_all()?;
        let values = x
            .reshape((batch * steps, channels))?
            .index_select(&rows, 0)?
            .reshape((batch, steps, taps, channels))?;
        Ok((values, inside))
    };
    let (low, low_inside) = neighbour(0.0)?;
    let (high, high_inside) = neighbour(1.0)?;
    let low_weight = ((1.0 - &above)? * modulation)?.mul(&low_inside)?;
    let high_weight = (above * modulation)?.mul(&high_inside)?;
    low.broadcast_mul(&low_weight.unsqueeze(3)?)?
        + high.broadcast_mul(&high_weight.unsqueeze(3)?)?
}

struct DeformSample;

/// Sizes of one call.
#[derive(Clone, Copy)]
struct Dims {
    batch: usize,
    steps: usize,
    channels: usize,
    taps: usize,
}

impl Dims {
    fn of(x: &Layout, offsets: &Layout, modulation: &Layout) -> Result<Self> {
        let (batch, steps, channels) = x.shape().dims3()?;
        let (ob, ot, taps) = offsets.shape().dims3()?;
        if (ob, ot) != (batch, steps) || modulation.shape() != offsets.shape() {
            candle_core::bail!(
                "{NAME}: x {:?}, offsets {:?} and modulation {:?} disagree",
                x.shape(),
                offsets.shape(),
                modulation.shape()
            );
        }
        Ok(Self {
            batch,
            steps,
            channels,
            taps,
        })
    }
}

/// Where tap `i` of output position `t` reads: the lower neighbour `floor(p)` and the
/// weight `a` of the upper one.
#[inline(always)]
fn sample_point<T: Real>(t: usize, i: usize, taps: usize, offset: T) -> (i64, T) {
    let p = (t as f64) - (taps / 2) as f64 + i as f64 + offset.to_f64();
    let floor = p.floor();
    (floor as i64, T::from_f64(p - floor))
}

/// The input row at position `index`, or `None` outside the sequence.
#[inline(always)]
fn row<T>(x: &[T], index: i64, steps: usize, channels: usize) -> Option<&[T]> {
    (0..steps as i64)
        .contains(&index)
        .then(|| &x[index as usize * channels..(index as usize + 1) * channels])
}

fn forward<T: Real>(x: &[T], offsets: &[T], modulation: &[T], d: Dims) -> Vec<T> {
    let Dims {
        steps,
        channels,
        taps,
        ..
    } = d;
    let mut out = vec![T::default(); d.batch * steps * taps * channels];
    out.par_chunks_mut(taps * channels)
        .enumerate()
        .for_each(|(bt, out)| {
            let (b, t) = (bt / steps, bt % steps);
            let x = &x[b * steps * channels..(b + 1) * steps * channels];
            for (i, out) in out.chunks_exact_mut(channels).enumerate() {
                let m = modulation[bt * taps + i];
                let (floor, a) = sample_point(t, i, taps, offsets[bt * taps + i]);
                if let Some(low) = row(x, floor, steps, channels) {
                    let w = (<T as Real>::one() - a) * m;
                    for (o, &v) in out.iter_mut().zip(low) {
                        *o += w * v;
                    }
                }
                if let Some(high) = row(x, floor + 1, steps, channels) {
                    let w = a * m;
                    for (o, &v) in out.iter_mut().zip(high) {
                        *o += w * v;
                    }
                }
            }
        });
    out
}

/// Gradients of x, offsets and modulation.
fn backward<T: Real + WithDType>(
    x: &Tensor,
    offsets: &Tensor,
    modulation: &Tensor,
    grad: &Tensor,
) -> Result<(Tensor, Tensor, Tensor)> {
    let views = [
        CpuView::new(x, NAME, "x"),
        CpuView::new(offsets, NAME, "offsets"),
        CpuView::new(modulation, NAME, "modulation"),
        CpuView::new(grad, NAME, "output gradient"),
    ];
    let (xs, os, ms, gs) = (
        views[0].slice::<T>()?,
        views[1].slice::<T>()?,
        views[2].slice::<T>()?,
        views[3].slice::<T>()?,
    );
    let d = Dims::of(x.layout(), offsets.layout(), modulation.layout())?;
    let Dims {
        steps,
        channels,
        taps,
        ..
    } = d;
    let mut dx = vec![T::default(); xs.len()];
    let mut d_offsets = vec![T::default(); os.len()];
    let mut d_modulation = vec![T::default(); ms.len()];
    // One task per sequence: its input gradient gathers from all its positions.
    dx.par_chunks_mut(steps * channels)
        .zip(d_offsets.par_chunks_mut(steps * taps))
        .zip(d_modulation.par_chunks_mut(steps * taps))
        .enumerate()
        .for_each(|(b, ((dx, d_off), d_mod))| {
            let x = &xs[b * steps * channels..(b + 1) * steps * channels];
            for t in 0..steps {
                let bt = b * steps + t;
                for i in 0..taps {
                    let g = &gs[(bt * taps + i) * channels..(bt * taps + i + 1) * channels];
                    let m = ms[bt * taps + i];
                    let (floor, a) = sample_point(t, i, taps, os[bt * taps + i]);
                    let (mut value, mut slope) = (T::default(), T::default());
                    if let Some(low) = row(x, floor, steps, channels) {
                        let start = floor as usize * channels;
                        let w = (<T as Real>::one() - a) * m;
                        for ((dx, &g), &v) in dx[start..start + channels].iter_mut().zip(g).zip(low)
                        {
                            *dx += w * g;
                            value += (<T as Real>::one() - a) * g * v;
                            slope += -(g * v);
                        }
                    }
                    if let Some(high) = row(x, floor + 1, steps, channels) {
                        let start = (floor + 1) as usize * channels;
                        let w = a * m;
                        for ((dx, &g), &v) in
                            dx[start..start + channels].iter_mut().zip(g).zip(high)
                        {
                            *dx += w * g;
                            value += a * g * v;
                            slope += g * v;
                        }
                    }
                    d_mod[t * taps + i] = value;
                    d_off[t * taps + i] = slope * m;
                }
            }
        });
    Ok((
        Tensor::from_vec(dx, x.shape(), x.device())?,
        Tensor::from_vec(d_offsets, offsets.shape(), offsets.device())?,
        Tensor::from_vec(d_modulation, modulation.shape(), modulation.device())?,
    ))
}

impl RealMap<3> for DeformSample {
    const NAME: &'static str = NAME;
    const INPUTS: [&'static str; 3] = ["x", "offsets", "modulation"];

    fn f<T: Real + WithDType>(
        &self,
        [x, offsets, modulation]: [&[T]; 3],
        [lx, lo, lm]: [&Layout; 3],
    ) -> Result<Vec<T>> {
        Ok(forward(x, offsets, modulation, Dims::of(lx, lo, lm)?))
    }

    fn output_shape(&self, [x, offsets, modulation]: [&Layout; 3]) -> Result<Shape> {
        let d = Dims::of(x, offsets, modulation)?;
        Ok(Shape::from((d.batch, d.steps, d.taps, d.channels)))
    }
}

impl CustomOp3 for DeformSample {
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
        offsets: &Tensor,
        modulation: &Tensor,
        _out: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let (dx, d_offsets, d_modulation) = match x.dtype() {
            DType::F32 => backward::<f32>(x, offsets, modulation, &grad)?,
            DType::F64 => backward::<f64>(x, offsets, modulation, &grad)?,
            other => candle_core::bail!("{NAME}: unsupported dtype {other:?}"),
        };
        Ok((Some(dx), Some(d_offsets), Some(d_modulation)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    fn values(n: usize, seed: u64, low: f64, high: f64) -> Vec<f64> {
        let mut rng = dnalm_seq::seeded_rng(seed);
        (0..n)
            .map(|_| rand::Rng::random_range(&mut rng, low..high))
            .collect()
    }

    #[test]
    fn the_composition_gives_the_same_samples_and_gradients() {
        let device = Device::Cpu;
        let (b, l, k, c) = (2, 7, 3, 4);
        let x = Var::from_vec(values(b * l * c, 1, -1.0, 1.0), (b, l, c), &device).unwrap();
        // Offsets up to 2.5 positions either way: some taps fall outside the sequence.
        let offsets = Var::from_vec(values(b * l * k, 2, -2.5, 2.5), (b, l, k), &device).unwrap();
        let modulation = Var::from_vec(values(b * l * k, 3, 0.0, 2.0), (b, l, k), &device).unwrap();
        let probe =
            Tensor::from_vec(values(b * l * k * c, 4, -1.0, 1.0), (b, l, k, c), &device).unwrap();
        let fused = deform_sample(&x, &offsets, &modulation).unwrap();
        let composed = deform_sample_composed(&x, &offsets, &modulation).unwrap();
        let close = |a: &Tensor, b: &Tensor, what: &str| {
            let worst = (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap();
            assert!(worst < 1e-12, "{what}: {worst}");
        };
        close(&fused, &composed, "samples");
        let grads = |out: &Tensor| {
            (out * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap()
        };
        let (gf, gc) = (grads(&fused), grads(&composed));
        for (var, what) in [
            (&x, "x"),
            (&offsets, "offsets"),
            (&modulation, "modulation"),
        ] {
            close(gf.get(var).unwrap(), gc.get(var).unwrap(), what);
        }
    }

    #[test]
    fn zero_offsets_are_im2col_and_fractions_interpolate() {
        let device = Device::Cpu;
        // One sequence of 4 positions, 1 channel: x = 1 2 3 4; 3 taps.
        let x = Tensor::new(&[[[1.0f64], [2.0], [3.0], [4.0]]], &device).unwrap();
        let zeros = Tensor::zeros((1, 4, 3), DType::F64, &device).unwrap();
        let ones = Tensor::ones((1, 4, 3), DType::F64, &device).unwrap();
        let cols: Vec<f64> = deform_sample(&x, &zeros, &ones)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(cols, [0., 1., 2., 1., 2., 3., 2., 3., 4., 3., 4., 0.]);
        // Position 1, tap 2 reads 2 + 0.25 -> 3.25 (x[2] = 3, x[3] = 4), times 0.5;
        // position 3, tap 2 reads 4 - 0.5 = 3.5: between x[3] = 4 and zero outside.
        let mut offsets = vec![0.0f64; 12];
        let mut modulation = vec![1.0f64; 12];
        offsets[5] = 0.25;
        modulation[5] = 0.5;
        offsets[11] = -0.5;
        let offsets = Tensor::from_vec(offsets, (1, 4, 3), &device).unwrap();
        let modulation = Tensor::from_vec(modulation, (1, 4, 3), &device).unwrap();
        let cols: Vec<f64> = deform_sample(&x, &offsets, &modulation)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!((cols[5] - 0.5 * 3.25).abs() < 1e-12);
        assert!((cols[11] - 0.5 * 4.0).abs() < 1e-12, "{}", cols[11]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let device = Device::Cpu;
        let (b, l, c, k) = (2, 7, 3, 3);
        let xv = values(b * l * c, 1, -1.0, 1.0);
        // Offsets away from integers, so every sample point is differentiable.
        let ov: Vec<f64> = values(b * l * k, 2, -2.4, 2.4)
            .into_iter()
            .map(|o| {
                if (o - o.round()).abs() < 0.05 {
                    o + 0.1
                } else {
                    o
                }
            })
            .collect();
        let mv = values(b * l * k, 3, 0.0, 2.0);
        let probe =
            Tensor::from_vec(values(b * l * k * c, 4, -1.0, 1.0), (b, l, k, c), &device).unwrap();
        let x = Var::from_vec(xv.clone(), (b, l, c), &device).unwrap();
        let o = Var::from_vec(ov.clone(), (b, l, k), &device).unwrap();
        let m = Var::from_vec(mv.clone(), (b, l, k), &device).unwrap();
        let loss = |x: &Tensor, o: &Tensor, m: &Tensor| -> f64 {
            (deform_sample(x, o, m).unwrap() * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar()
                .unwrap()
        };
        let grads = (deform_sample(&x, &o, &m).unwrap() * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let tensors = [xv, ov, mv];
        let shapes = [(b, l, c), (b, l, k), (b, l, k)];
        for (which, var) in [&x, &o, &m].into_iter().enumerate() {
            let analytic: Vec<f64> = grads
                .get(var)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            for index in 0..tensors[which].len() {
                let at = |delta: f64| {
                    let mut inputs = tensors.clone();
                    inputs[which][index] += delta;
                    let t =
                        |n: usize| Tensor::from_vec(inputs[n].clone(), shapes[n], &device).unwrap();
                    loss(&t(0), &t(1), &t(2))
                };
                let numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
                assert!(
                    (numeric - analytic[index]).abs() < 1e-7,
                    "input {which} element {index}: numeric {numeric}, analytic {}",
                    analytic[index]
                );
            }
        }
    }
}
