//! A projection split into attention heads and rotated by RoPE in one candle custom op
//! with a hand-written backward: `(B, T, H * d)` in, `(B, H, T, d)` out.
//!
//! The composition ([`crate::rope::Rope::split_heads_composed`]) copies the projection
//! into head order, then multiplies, subtracts, adds and concatenates the two halves:
//! seven passes over the queries and seven over the keys of every layer forward, more
//! backward. Here each (sequence, head) pair's output is written in one pass from the
//! rows it reads; the backward rotates the gradient back by the opposite angle,
//! `(g1, g2) -> (g1 cos + g2 sin, g2 cos - g1 sin)`, straight into the projection's
//! layout. Same operations in the same order as the composition, so the same values
//! to the bit (Rust fuses no multiply-add it is not asked to).

use std::mem::MaybeUninit;
use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor, WithDType};
use rayon::prelude::*;

use crate::cpu::CpuView;
use crate::real::Real;
use crate::real_map::RealMap;
use crate::simd_kernel;

const NAME: &str = "rope-heads";
/// Projection rows per parallel task of the backward pass.
const ROWS_PER_TASK: usize = 64;

/// The op: `heads` heads, the rotation tables of [`crate::rope::Rope`] (`(steps,
/// head_dim / 2)`, row-major, f32 as the composition uses them).
pub(crate) struct RopeHeads {
    /// Heads to split the projection into.
    pub heads: usize,
    /// `cos(position * frequency)`.
    pub cos: Arc<[f32]>,
    /// `sin(position * frequency)`.
    pub sin: Arc<[f32]>,
}

/// Sizes of one call.
#[derive(Clone, Copy)]
struct Dims {
    batch: usize,
    steps: usize,
    heads: usize,
    head_dim: usize,
}

impl Dims {
    fn width(&self) -> usize {
        self.heads * self.head_dim
    }

    fn half(&self) -> usize {
        self.head_dim / 2
    }
}

impl RopeHeads {
    fn dims(&self, shape: &Shape) -> Result<Dims> {
        let (batch, steps, width) = shape.dims3()?;
        let heads = self.heads;
        if heads == 0 || !width.is_multiple_of(heads) || !(width / heads).is_multiple_of(2) {
            candle_core::bail!(
                "{NAME}: width {width} does not split into {heads} heads of even size"
            );
        }
        let dims = Dims {
            batch,
            steps,
            heads,
            head_dim: width / heads,
        };
        if self.cos.len() < steps * dims.half() {
            candle_core::bail!(
                "{NAME}: {steps} positions, the tables hold {}",
                self.cos.len() / dims.half().max(1)
            );
        }
        Ok(dims)
    }

    /// The tables' first `steps` rows in `T`.
    fn tables<T: Real>(&self, d: Dims) -> (Vec<T>, Vec<T>) {
        let cut = |table: &[f32]| {
            table[..d.steps * d.half()]
                .iter()
                .map(|&v| T::from_f64(f64::from(v)))
                .collect()
        };
        (cut(&self.cos), cut(&self.sin))
    }
}

/// One (sequence, head) pair: `out` `(T, d)` from the sequence's projection rows `x`
/// `(T, H d)`, reading the head's `d` columns at `offset`; every slot is written when
/// `x` and the tables hold `T` rows.
#[inline(always)]
fn rotate_head<T: Real>(
    x: &[T],
    out: &mut [MaybeUninit<T>],
    offset: usize,
    cos: &[T],
    sin: &[T],
    d: Dims,
) {
    let half = d.half();
    let rows = x
        .chunks_exact(d.width())
        .zip(out.chunks_exact_mut(d.head_dim));
    for ((row, out), (c, s)) in rows.zip(cos.chunks_exact(half).zip(sin.chunks_exact(half))) {
        let (x1, x2) = row[offset..offset + d.head_dim].split_at(half);
        let (o1, o2) = out.split_at_mut(half);
        for i in 0..half {
            o1[i] = MaybeUninit::new(x1[i] * c[i] - x2[i] * s[i]);
            o2[i] = MaybeUninit::new(x2[i] * c[i] + x1[i] * s[i]);
        }
    }
}

/// Projection rows `dx` `(rows, H d)`, every slot written, from the gradients of every
/// head at those rows: `dy` is one sequence's `(H, T, d)` gradient, `first` the rows'
/// first position.
#[inline(always)]
fn rotate_back<T: Real>(
    dy: &[T],
    dx: &mut [MaybeUninit<T>],
    first: usize,
    cos: &[T],
    sin: &[T],
    d: Dims,
) {
    let half = d.half();
    for (row, dx) in dx.chunks_exact_mut(d.width()).enumerate() {
        let t = first + row;
        let (c, s) = (&cos[t * half..][..half], &sin[t * half..][..half]);
        for (head, dx) in dx.chunks_exact_mut(d.head_dim).enumerate() {
            let g = &dy[(head * d.steps + t) * d.head_dim..][..d.head_dim];
            let (g1, g2) = g.split_at(half);
            let (dx1, dx2) = dx.split_at_mut(half);
            for i in 0..half {
                dx1[i] = MaybeUninit::new(g1[i] * c[i] + g2[i] * s[i]);
                dx2[i] = MaybeUninit::new(g2[i] * c[i] - g1[i] * s[i]);
            }
        }
    }
}

simd_kernel! {
    /// [`rotate_head`] with the widest vector instructions in use.
    fn rotate_head_simd<T: Real>(
        x: &[T],
        out: &mut [MaybeUninit<T>],
        offset: usize,
        cos: &[T],
        sin: &[T],
        d: Dims,
    ) => rotate_head;
}

simd_kernel! {
    /// [`rotate_back`] with the widest vector instructions in use.
    fn rotate_back_simd<T: Real>(
        dy: &[T],
        dx: &mut [MaybeUninit<T>],
        first: usize,
        cos: &[T],
        sin: &[T],
        d: Dims,
    ) => rotate_back;
}

impl RopeHeads {
    fn forward<T: Real>(&self, x: &[T], d: Dims) -> Vec<T> {
        let (cos, sin) = self.tables::<T>(d);
        let block = d.steps * d.head_dim;
        assert_eq!(x.len(), d.batch * d.steps * d.width(), "dims of this input");
        let mut out = Box::new_uninit_slice(x.len());
        out.par_chunks_mut(block.max(1))
            .enumerate()
            .for_each(|(pair, out)| {
                let (sequence, head) = (pair / d.heads, pair % d.heads);
                let rows = &x[sequence * d.steps * d.width()..][..d.steps * d.width()];
                rotate_head_simd(rows, out, head * d.head_dim, &cos, &sin, d);
            });
        // SAFETY: each block is one (sequence, head) pair's T x d, given that
        // sequence's T rows and tables of T rows, and rotate_head writes all of it.
        unsafe { out.assume_init() }.into_vec()
    }

    fn backward<T: Real + WithDType>(&self, dy: &Tensor, d: Dims) -> Result<Tensor> {
        let view = CpuView::new(dy, NAME, "output gradient");
        let dy = view.slice::<T>()?;
        let (cos, sin) = self.tables::<T>(d);
        let sequence_len = d.steps * d.width();
        if dy.len() != d.batch * sequence_len {
            candle_core::bail!("{NAME}: the output gradient is not of the output's size");
        }
        let mut dx = Box::new_uninit_slice(dy.len());
        dx.par_chunks_mut(sequence_len.max(1))
            .zip(dy.par_chunks(sequence_len.max(1)))
            .for_each(|(dx, dy)| {
                dx.par_chunks_mut(ROWS_PER_TASK * d.width())
                    .enumerate()
                    .for_each(|(task, dx)| {
                        rotate_back_simd(dy, dx, task * ROWS_PER_TASK, &cos, &sin, d);
                    });
            });
        // SAFETY: every task's rows are whole rows of one sequence, whose gradient
        // holds all their heads, and rotate_back writes every slot of them.
        let dx = unsafe { dx.assume_init() }.into_vec();
        Tensor::from_vec(dx, (d.batch, d.steps, d.width()), &candle_core::Device::Cpu)
    }
}

impl RealMap<1> for RopeHeads {
    const NAME: &'static str = NAME;
    const INPUTS: [&'static str; 1] = ["projection"];

    fn f<T: Real + WithDType>(&self, [x]: [&[T]; 1], [layout]: [&Layout; 1]) -> Result<Vec<T>> {
        Ok(self.forward(x, self.dims(layout.shape())?))
    }

    fn output_shape(&self, [layout]: [&Layout; 1]) -> Result<Shape> {
        let d = self.dims(layout.shape())?;
        Ok(Shape::from((d.batch, d.heads, d.steps, d.head_dim)))
    }
}

impl CustomOp1 for RopeHeads {
    fn name(&self) -> &'static str {
        NAME
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        self.cpu_forward([storage], [layout])
    }

    fn bwd(&self, x: &Tensor, _out: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        let d = self.dims(x.shape())?;
        let dy = dy.contiguous()?;
        let dx = match x.dtype() {
            DType::F32 => self.backward::<f32>(&dy, d)?,
            DType::F64 => self.backward::<f64>(&dy, d)?,
            other => candle_core::bail!("{NAME}: unsupported dtype {other:?}"),
        };
        Ok(Some(dx))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use crate::rope::Rope;
    use crate::test_values::values;

    const HEADS: usize = 3;
    const HEAD_DIM: usize = 6;

    /// `(2, steps, 3 * 6)` projection values, f64.
    fn projection(steps: usize) -> Var {
        let n = 2 * steps * HEADS * HEAD_DIM;
        Var::from_vec(
            values(n, 5, 2.0),
            (2, steps, HEADS * HEAD_DIM),
            &Device::Cpu,
        )
        .unwrap()
    }

    fn flat(t: &candle_core::Tensor) -> Vec<f64> {
        t.flatten_all().unwrap().to_vec1().unwrap()
    }

    #[test]
    fn equals_the_composition_and_its_gradient_to_the_bit() {
        // More positions than one backward task, fewer than the tables hold.
        let steps = 70;
        let rope = Rope::new(80, HEAD_DIM, 10000.0, &Device::Cpu).unwrap();
        let x = projection(steps);
        let probe = values(2 * steps * HEADS * HEAD_DIM, 6, 1.0);
        let probe = candle_core::Tensor::from_vec(probe, (2, HEADS, steps, HEAD_DIM), &Device::Cpu)
            .unwrap();
        let run = |fused: bool| {
            let out = if fused {
                rope.split_heads(&x, HEADS).unwrap()
            } else {
                rope.split_heads_composed(&x, HEADS).unwrap()
            };
            let grads = (&out * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            (flat(&out), flat(grads.get(&x).unwrap()))
        };
        let (fused, fused_grad) = run(true);
        let (composed, composed_grad) = run(false);
        assert_eq!(fused, composed);
        assert_eq!(fused_grad, composed_grad);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let steps = 5;
        let rope = Rope::new(steps, HEAD_DIM, 10000.0, &Device::Cpu).unwrap();
        let x = projection(steps);
        let n = 2 * steps * HEADS * HEAD_DIM;
        let probe = candle_core::Tensor::from_vec(
            values(n, 7, 1.0),
            (2, HEADS, steps, HEAD_DIM),
            &Device::Cpu,
        )
        .unwrap();
        let loss = |x: &candle_core::Tensor| {
            (rope.split_heads(x, HEADS).unwrap() * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        };
        let out = rope.split_heads(&x, HEADS).unwrap();
        let grads = (out * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let grads = flat(grads.get(&x).unwrap());
        let base = flat(&x);
        // First and second halves of heads 0, 1 and 2, in both sequences.
        for i in [0, 4, 14, 17, 4 * 18 + 9, n - 1, n - 10] {
            let shifted = |by: f64| {
                let mut v = base.clone();
                v[i] += by;
                loss(&candle_core::Tensor::from_vec(v, x.shape(), &Device::Cpu).unwrap())
            };
            let numeric = (shifted(1e-5) - shifted(-1e-5)) / 2e-5;
            assert!(
                (numeric - grads[i]).abs() < 1e-8,
                "{i}: {numeric} vs {}",
                grads[i]
            );
        }
    }

    #[test]
    fn refuses_widths_that_do_not_split_and_positions_past_the_tables() {
        let rope = Rope::new(4, HEAD_DIM, 10000.0, &Device::Cpu).unwrap();
        let x = projection(5);
        let err = rope.split_heads(&x, HEADS).unwrap_err().to_string();
        assert!(err.contains("5 positions, the tables hold 4"), "{err}");
        let x = projection(3);
        let err = rope.split_heads(&x, 4).unwrap_err().to_string();
        assert!(err.contains("does not split into 4 heads"), "{err}");
    }
}
