//! Scaled dot-product attention `softmax(Q K^T / sqrt(d) + mask) V` as one candle custom
//! op with a hand-written backward, in the manner of FlashAttention on a CPU.
//!
//! The composed version materialises the `(B, H, T, T)` scores, the softmax and their
//! gradients: several passes over tens of megabytes per layer. Here each (batch, head)
//! pair is one task (pairs are spread over rayon's threads); its queries are taken in
//! blocks of 64 rows, whose scores (64 x keys) stay in cache while they are turned into
//! unnormalised probabilities (one pass for the row maxima, one for the exponentials
//! and their sums) and multiplied by V; the 64 x d product is then divided by the
//! sums. The keys and values are packed once per pair ([`crate::packed_matmul`]) for
//! the products of all its blocks. The forward pass keeps only the log-sum-exp of
//! every query row; the backward pass recomputes each block's probabilities from it
//! (`P = exp(S - lse)`) and forms `dV += P^T dO`, `dS = P (dO V^T - rowsum(dO O))`,
//! `dQ = dS K`, `dK += dS^T Q`. A causal mask skips the keys after each block.
//!
//! Masks: `causal` (query `i` sees keys `0..=i`) and/or per-sequence key lengths (keys
//! at and after the length are padding, never attended to). Queries are `(B, H, Tq, d)`,
//! keys and values `(B, H, Tk, d)`: `Tq = Tk` for self-attention, any two lengths for
//! cross-attention (not causal).

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, WithDType};
use rayon::prelude::*;

use crate::cpu::CpuView;
use crate::kernels::fused_kernel_for;
use crate::matmul::{matmul_single, MatRef};
use crate::packed_matmul::{matmul_packed, PackedRhs};
use crate::real::{lane_max, Real};
use crate::real_map::RealMap;
use crate::simd_kernel;
use crate::softmax_exp::exp_shifted_sum;

const NAME: &str = "attention";
/// Query rows per block.
const BLOCK: usize = 64;

/// Attention of `(B, H, Tq, d)` queries over `(B, H, Tk, d)` keys and values (f32 or
/// f64, contiguous); `causal` needs `Tq = Tk`.
///
/// `key_lengths`, one per sequence, marks the keys at positions `>= length` as padding;
/// every length must be at least 1.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    causal: bool,
    key_lengths: Option<&[usize]>,
) -> Result<Tensor> {
    let (batch, _, _, _) = q.dims4()?;
    let steps = k.dim(2)?;
    let key_lengths = match key_lengths {
        Some(lengths) => {
            if lengths.len() != batch || lengths.iter().any(|&l| l == 0 || l > steps) {
                candle_core::bail!(
                    "{NAME}: need {batch} key lengths in 1..={steps}, got {lengths:?}"
                );
            }
            lengths.to_vec()
        }
        None => vec![steps; batch],
    };
    if !fused_kernel_for(q) {
        return attention_composed(q, k, v, causal, Some(&key_lengths));
    }
    q.apply_op3(
        k,
        v,
        FusedAttention {
            causal,
            key_lengths,
            log_sum_exp: Mutex::new(Vec::new()),
        },
    )
}

/// The op (see the module documentation).
struct FusedAttention {
    causal: bool,
    key_lengths: Vec<usize>,
    /// Per query row, `(B, H, T)`, from the forward pass for the backward pass.
    log_sum_exp: Mutex<Vec<f64>>,
}

/// Sizes of one call.
#[derive(Debug, Clone, Copy)]
struct Dims {
    heads: usize,
    query_steps: usize,
    key_steps: usize,
    head_dim: usize,
}

/// The same attention from candle's differentiable ops (scores, an additive mask,
/// a stable softmax, the weighted values), with the same arguments: the portable path
/// for devices without the fused kernel, and the reference the tests compare it with.
pub fn attention_composed(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    causal: bool,
    key_lengths: Option<&[usize]>,
) -> Result<Tensor> {
    let (batch, _, rows, d) = q.dims4()?;
    let keys = k.dim(2)?;
    let (device, dtype) = (q.device(), q.dtype());
    // Built on the device from index comparisons: 1 where a key is hidden.
    let key_index = Tensor::arange(0u32, keys as u32, device)?.reshape((1, 1, 1, keys))?;
    let mut hidden = match key_lengths {
        Some(lengths) => {
            let lengths: Vec<u32> = lengths.iter().map(|&l| l as u32).collect();
            let lengths = Tensor::from_vec(lengths, (batch, 1, 1, 1), device)?;
            key_index.broadcast_ge(&lengths)?.to_dtype(dtype)?
        }
        None => Tensor::zeros((1, 1, 1, keys), dtype, device)?,
    };
    if causal {
        let query_index = Tensor::arange(0u32, rows as u32, device)?.reshape((1, 1, rows, 1))?;
        let later = key_index.broadcast_gt(&query_index)?.to_dtype(dtype)?;
        hidden = hidden.broadcast_maximum(&later)?;
    }
    let mask = (hidden * -1e30)?;
    let scores = (q.matmul(&k.t()?)? / (d as f64).sqrt())?.broadcast_add(&mask)?;
    let shifted = scores
        .broadcast_sub(&scores.max_keepdim(candle_core::D::Minus1)?.detach())?
        .exp()?;
    let probs = shifted.broadcast_div(&shifted.sum_keepdim(candle_core::D::Minus1)?)?;
    probs.matmul(v)
}

fn dims(q: &Layout, k: &Layout, v: &Layout, causal: bool) -> Result<Dims> {
    let (batch, heads, query_steps, head_dim) = q.shape().dims4()?;
    let (key_batch, key_heads, key_steps, key_dim) = k.shape().dims4()?;
    if v.shape() != k.shape()
        || (key_batch, key_heads, key_dim) != (batch, heads, head_dim)
        || (causal && key_steps != query_steps)
    {
        candle_core::bail!(
            "{NAME}: q {:?} must be (B, H, Tq, d) and k {:?}, v {:?} one shape (B, H, Tk, d) \
             (Tk = Tq when causal)",
            q.shape(),
            k.shape(),
            v.shape()
        );
    }
    Ok(Dims {
        heads,
        query_steps,
        key_steps,
        head_dim,
    })
}

/// What one (batch, head) pair sees.
#[derive(Debug, Clone, Copy)]
struct Head {
    /// Query rows.
    steps: usize,
    head_dim: usize,
    causal: bool,
    key_length: usize,
    scale: f64,
}

impl Head {
    /// Keys that query blocks `rows` must read.
    fn keys_for(&self, rows: std::ops::Range<usize>) -> usize {
        if self.causal {
            rows.end.min(self.key_length)
        } else {
            self.key_length
        }
    }

    /// Keys that query `row` attends to (a prefix of the keys).
    fn visible_keys(&self, row: usize) -> usize {
        if self.causal {
            (row + 1).min(self.key_length)
        } else {
            self.key_length
        }
    }
}

/// Turns a block's raw scores (rows x keys) into unnormalised probabilities
/// `e^(scale (s - max))` in place, writing the log-sum-exp of each row and the sum of
/// its numerators; the keys a row may not see get 0.
#[inline(always)]
fn exponentiate_block<T: Real>(
    scores: &mut [T],
    first_row: usize,
    head: &Head,
    lse: &mut [f64],
    sums: &mut [T],
) {
    let keys = scores.len() / lse.len();
    let scale = T::from_f64(head.scale);
    for (r, (row, (lse, sum))) in scores
        .chunks_exact_mut(keys)
        .zip(lse.iter_mut().zip(sums.iter_mut()))
        .enumerate()
    {
        let visible = head.visible_keys(first_row + r);
        let (seen, hidden) = row.split_at_mut(visible);
        let shift = lane_max(seen) * scale;
        *sum = exp_shifted_sum(seen, scale, shift);
        hidden.iter_mut().for_each(|s| *s = T::default());
        *lse = shift.to_f64() + sum.to_f64().ln();
    }
}

/// Forward pass of one (batch, head) pair: `out` and `lse` for its rows.
#[inline(always)]
fn head_forward<T: Real>(q: &[T], k: &[T], v: &[T], out: &mut [T], lse: &mut [f64], head: &Head) {
    let (d, length) = (head.head_dim, head.key_length);
    // K^T and V packed once for all query blocks (the keys before the length only).
    let keys_t = PackedRhs::new(MatRef::new(&k[..length * d], length, d).t());
    let values = PackedRhs::new(MatRef::new(&v[..length * d], length, d));
    // One buffer for every block's scores, zeroed once: each product overwrites the
    // part it uses.
    let mut scores_buffer = vec![T::default(); BLOCK * head.key_length];
    let mut sums = [T::default(); BLOCK];
    for first in (0..head.steps).step_by(BLOCK) {
        let rows = first..(first + BLOCK).min(head.steps);
        let n = rows.len();
        let keys = head.keys_for(rows.clone());
        let scores = &mut scores_buffer[..n * keys];
        let q_block = &q[rows.start * d..rows.end * d];
        matmul_packed(scores, q_block, keys_t.part(d, keys), false);
        let sums = &mut sums[..n];
        exponentiate_block(scores, rows.start, head, &mut lse[rows.clone()], sums);
        let out_block = &mut out[rows.start * d..rows.end * d];
        matmul_packed(out_block, scores, values.part(keys, d), false);
        for (out_row, &sum) in out_block.chunks_exact_mut(d).zip(sums.iter()) {
            let inverse = T::one() / sum;
            out_row.iter_mut().for_each(|o| *o = *o * inverse);
        }
    }
}

simd_kernel! {
    /// [`head_forward`] with the widest vector instructions in use.
    fn head_forward_simd<T: Real>(
        q: &[T],
        k: &[T],
        v: &[T],
        out: &mut [T],
        lse: &mut [f64],
        head: &Head,
    ) => head_forward;
}

/// Gradients of one pair: `dq`, `dk`, `dv` (written whole) from `dout`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn head_backward<T: Real>(
    (q, k, v): (&[T], &[T], &[T]),
    out: &[T],
    dout: &[T],
    lse: &[f64],
    (dq, dk, dv): (&mut [T], &mut [T], &mut [T]),
    head: &Head,
) {
    let d = head.head_dim;
    let scale = T::from_f64(head.scale);
    dk.iter_mut().for_each(|x| *x = T::default());
    dv.iter_mut().for_each(|x| *x = T::default());
    // rowsum(dO * O): the softmax backward's correction term.
    let delta: Vec<T> = dout
        .chunks_exact(d)
        .zip(out.chunks_exact(d))
        .map(|(g, o)| {
            g.iter()
                .zip(o)
                .fold(T::default(), |acc, (&g, &o)| acc + g * o)
        })
        .collect();
    // K^T, V^T and K packed once for all query blocks (the keys before the length).
    let (keys_t, values_t, keys_packed) = {
        let length = head.key_length;
        let k = MatRef::new(&k[..length * d], length, d);
        let v = MatRef::new(&v[..length * d], length, d);
        (
            PackedRhs::new(k.t()),
            PackedRhs::new(v.t()),
            PackedRhs::new(k),
        )
    };
    // Buffers for every block, zeroed once: each product overwrites the part it uses.
    let mut probs_buffer = vec![T::default(); BLOCK * head.key_length];
    let mut grads_buffer = vec![T::default(); BLOCK * head.key_length];
    for first in (0..head.steps).step_by(BLOCK) {
        let rows = first..(first + BLOCK).min(head.steps);
        let n = rows.len();
        let keys = head.keys_for(rows.clone());
        let (q_rows, dout_rows) = (
            &q[rows.start * d..rows.end * d],
            &dout[rows.start * d..rows.end * d],
        );
        let q_block = MatRef::new(q_rows, n, d);
        let dout_block = MatRef::new(dout_rows, n, d);
        let probs = &mut probs_buffer[..n * keys];
        matmul_packed(probs, q_rows, keys_t.part(d, keys), false);
        for (r, row) in probs.chunks_exact_mut(keys).enumerate() {
            let visible = head.visible_keys(rows.start + r);
            let lse = T::from_f64(lse[rows.start + r]);
            let (seen, hidden) = row.split_at_mut(visible);
            exp_shifted_sum(seen, scale, lse);
            hidden.iter_mut().for_each(|s| *s = T::default());
        }
        matmul_single(
            &mut dv[..keys * d],
            MatRef::new(probs, n, keys).t(),
            dout_block,
            true,
        );
        let grads = &mut grads_buffer[..n * keys];
        matmul_packed(grads, dout_rows, values_t.part(d, keys), false);
        for (r, (g, p)) in grads
            .chunks_exact_mut(keys)
            .zip(probs.chunks_exact(keys))
            .enumerate()
        {
            let delta = delta[rows.start + r];
            g.iter_mut()
                .zip(p)
                .for_each(|(g, &p)| *g = p * (*g - delta) * scale);
        }
        let dq_block = &mut dq[rows.start * d..rows.end * d];
        matmul_packed(dq_block, grads, keys_packed.part(keys, d), false);
        matmul_single(
            &mut dk[..keys * d],
            MatRef::new(grads, n, keys).t(),
            q_block,
            true,
        );
    }
}

simd_kernel! {
    /// [`head_backward`] with the widest vector instructions in use.
    fn head_backward_simd<T: Real>(
        inputs: (&[T], &[T], &[T]),
        out: &[T],
        dout: &[T],
        lse: &[f64],
        grads: (&mut [T], &mut [T], &mut [T]),
        head: &Head,
    ) => head_backward;
}

impl FusedAttention {
    fn head(&self, pair: usize, d: Dims) -> Head {
        Head {
            steps: d.query_steps,
            head_dim: d.head_dim,
            causal: self.causal,
            key_length: self.key_lengths[pair / d.heads],
            scale: 1.0 / (d.head_dim as f64).sqrt(),
        }
    }

    fn forward<T: Real>(&self, q: &[T], k: &[T], v: &[T], d: Dims) -> (Vec<T>, Vec<f64>) {
        let (per_query, per_key) = (d.query_steps * d.head_dim, d.key_steps * d.head_dim);
        let mut out = vec![T::default(); q.len()];
        let mut lse = vec![0.0; q.len() / d.head_dim];
        out.par_chunks_mut(per_query)
            .zip(lse.par_chunks_mut(d.query_steps))
            .enumerate()
            .for_each(|(pair, (out, lse))| {
                let keys = pair * per_key..(pair + 1) * per_key;
                let q = &q[pair * per_query..(pair + 1) * per_query];
                let (k, v) = (&k[keys.clone()], &v[keys]);
                let head = self.head(pair, d);
                head_forward_simd(q, k, v, out, lse, &head)
            });
        (out, lse)
    }

    fn backward<T: Real + WithDType>(
        &self,
        [q, k, v, out, dout]: [&Tensor; 5],
        d: Dims,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let (query_shape, key_shape, device) =
            (q.shape().clone(), k.shape().clone(), q.device().clone());
        let lse = self.log_sum_exp.lock().expect("not poisoned");
        let views = [
            CpuView::new(q, NAME, "q"),
            CpuView::new(k, NAME, "k"),
            CpuView::new(v, NAME, "v"),
            CpuView::new(out, NAME, "output"),
            CpuView::new(dout, NAME, "output gradient"),
        ];
        let [q, k, v, out, dout] = [
            views[0].slice::<T>()?,
            views[1].slice::<T>()?,
            views[2].slice::<T>()?,
            views[3].slice::<T>()?,
            views[4].slice::<T>()?,
        ];
        if lse.len() * d.head_dim != q.len() {
            candle_core::bail!("{NAME}: backward called without its forward pass");
        }
        let (per_query, per_key) = (d.query_steps * d.head_dim, d.key_steps * d.head_dim);
        let mut dq = vec![T::default(); q.len()];
        let mut dk = vec![T::default(); k.len()];
        let mut dv = vec![T::default(); v.len()];
        dq.par_chunks_mut(per_query)
            .zip(dk.par_chunks_mut(per_key))
            .zip(dv.par_chunks_mut(per_key))
            .enumerate()
            .for_each(|(pair, ((dq, dk), dv))| {
                let queries = pair * per_query..(pair + 1) * per_query;
                let keys = pair * per_key..(pair + 1) * per_key;
                let inputs = (&q[queries.clone()], &k[keys.clone()], &v[keys]);
                let (out, dout) = (&out[queries.clone()], &dout[queries]);
                let lse = &lse[pair * d.query_steps..(pair + 1) * d.query_steps];
                let head = self.head(pair, d);
                head_backward_simd(inputs, out, dout, lse, (dq, dk, dv), &head)
            });
        Ok((
            Tensor::from_vec(dq, query_shape, &device)?,
            Tensor::from_vec(dk, key_shape.clone(), &device)?,
            Tensor::from_vec(dv, key_shape, &device)?,
        ))
    }
}

impl RealMap<3> for FusedAttention {
    const NAME: &'static str = NAME;
    const INPUTS: [&'static str; 3] = ["q", "k", "v"];

    /// The attention output; the row log-sum-exps are kept for the backward pass.
    fn f<T: Real + WithDType>(
        &self,
        [q, k, v]: [&[T]; 3],
        [lq, lk, lv]: [&Layout; 3],
    ) -> Result<Vec<T>> {
        let (out, lse) = self.forward(q, k, v, dims(lq, lk, lv, self.causal)?);
        *self.log_sum_exp.lock().expect("not poisoned") = lse;
        Ok(out)
    }

    fn output_shape(&self, [q, k, v]: [&Layout; 3]) -> Result<Shape> {
        dims(q, k, v, self.causal)?;
        Ok(q.shape().clone())
    }
}

impl CustomOp3 for FusedAttention {
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
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        out: &Tensor,
        dout: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = dims(q.layout(), k.layout(), v.layout(), self.causal)?;
        let dout = dout.contiguous()?;
        let tensors = [q, k, v, out, &dout];
        let (dq, dk, dv) = match q.dtype() {
            candle_core::DType::F32 => self.backward::<f32>(tensors, d)?,
            candle_core::DType::F64 => self.backward::<f64>(tensors, d)?,
            other => candle_core::bail!("{NAME}: unsupported dtype {other:?}"),
        };
        Ok((Some(dq), Some(dk), Some(dv)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Var};

    use super::*;
    use crate::test_values;

    fn values(n: usize, seed: u64) -> Vec<f64> {
        test_values::values(n, seed, 1.0)
    }

    fn tensor(shape: (usize, usize, usize, usize), seed: u64) -> Var {
        let n = shape.0 * shape.1 * shape.2 * shape.3;
        let scaled: Vec<f64> = values(n, seed).iter().map(|v| v * 2.0).collect();
        Var::from_vec(scaled, shape, &Device::Cpu).unwrap()
    }

    /// The composed reference: explicit scores, additive mask, softmax, product.
    fn assert_close(a: &Tensor, b: &Tensor, tolerance: f64, what: &str) {
        let a: Vec<f64> = a.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f64> = b.flatten_all().unwrap().to_vec1().unwrap();
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(worst < tolerance, "{what}: largest difference {worst}");
    }

    /// Fused against composed attention, output and gradients, for `rows` queries over
    /// `keys` keys (2 sequences, 3 heads, head size 8).
    fn check_against_composition(
        rows: usize,
        keys: usize,
        causal: bool,
        lengths: Option<&[usize]>,
    ) {
        let q = tensor((2, 3, rows, 8), 1);
        let (k, v) = (tensor((2, 3, keys, 8), 2), tensor((2, 3, keys, 8), 3));
        let weights =
            Tensor::from_vec(values(2 * 3 * rows * 8, 4), (2, 3, rows, 8), &Device::Cpu).unwrap();
        let all = [keys, keys];
        let fused = attention(&q, &k, &v, causal, lengths).unwrap();
        let reference =
            attention_composed(&q, &k, &v, causal, Some(lengths.unwrap_or(&all))).unwrap();
        assert_close(&fused, &reference, 1e-12, "output");
        let fused_grads = (fused * &weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let reference_grads = (reference * &weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for (name, var) in [("q", &q), ("k", &k), ("v", &v)] {
            assert_close(
                fused_grads.get(var).unwrap(),
                reference_grads.get(var).unwrap(),
                1e-11,
                name,
            );
        }
    }

    #[test]
    fn matches_the_composed_attention_and_its_gradients() {
        // 70 rows cross the 64-row block boundary; uneven key lengths.
        check_against_composition(70, 70, false, None);
        check_against_composition(70, 70, true, None);
        check_against_composition(70, 70, false, Some(&[70, 33]));
        check_against_composition(70, 70, true, Some(&[5, 66]));
    }

    #[test]
    fn cross_attention_over_other_lengths_matches_the_composition() {
        // 70 queries (two blocks) over 9 keys, and 5 queries over 80 keys.
        check_against_composition(70, 9, false, Some(&[9, 4]));
        check_against_composition(5, 80, false, Some(&[80, 61]));
        let q = tensor((1, 1, 4, 2), 1);
        let k = tensor((1, 1, 6, 2), 2);
        assert!(
            attention(&q, &k, &k, true, None).is_err(),
            "causal needs Tq = Tk"
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        let shape = (1, 2, 5, 4);
        let (q, k, v) = (tensor(shape, 5), tensor(shape, 6), tensor(shape, 7));
        let weights = Tensor::from_vec(values(40, 8), shape, &Device::Cpu).unwrap();
        let loss = || {
            attention(&q, &k, &v, true, Some(&[4]))
                .unwrap()
                .mul(&weights)
                .unwrap()
                .sum_all()
                .unwrap()
        };
        let grads = loss().backward().unwrap();
        for var in [&q, &k, &v] {
            let analytic: Vec<f64> = grads
                .get(var)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let base: Vec<f64> = var.flatten_all().unwrap().to_vec1().unwrap();
            for index in 0..base.len() {
                let at = |delta: f64| {
                    let mut moved = base.clone();
                    moved[index] += delta;
                    var.set(&Tensor::from_vec(moved, shape, &Device::Cpu).unwrap())
                        .unwrap();
                    loss().to_scalar::<f64>().unwrap()
                };
                let numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
                var.set(&Tensor::from_vec(base.clone(), shape, &Device::Cpu).unwrap())
                    .unwrap();
                assert!(
                    (numeric - analytic[index]).abs() < 1e-7,
                    "[{index}]: numeric {numeric}, analytic {}",
                    analytic[index]
                );
            }
        }
    }

    #[test]
    fn f32_agrees_with_f64() {
        let shape = (2, 2, 130, 16);
        let (q, k, v) = (tensor(shape, 9), tensor(shape, 10), tensor(shape, 11));
        let exact = attention(&q, &k, &v, true, None).unwrap();
        let single = attention(
            &q.to_dtype(DType::F32).unwrap(),
            &k.to_dtype(DType::F32).unwrap(),
            &v.to_dtype(DType::F32).unwrap(),
            true,
            None,
        )
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
        assert_close(&single, &exact, 1e-5, "f32 output");
    }

    #[test]
    fn rejects_bad_key_lengths() {
        let shape = (2, 1, 4, 2);
        let (q, k, v) = (tensor(shape, 1), tensor(shape, 2), tensor(shape, 3));
        for lengths in [&[4usize][..], &[0, 4], &[5, 4]] {
            assert!(attention(&q, &k, &v, false, Some(lengths)).is_err());
        }
    }
}
