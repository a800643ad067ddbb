//! One LSTM layer over a whole sequence as a single candle custom op, forward and
//! backward (back-propagation through time) written by hand.
//!
//! candle's own LSTM steps one small op at a time, and the backward of each per-step
//! `narrow` allocates a full-size gradient (DESIGN.md, "candle traps"). Here the input
//! projection `x W_ih^T` stays an ordinary (batched, differentiable) matmul outside;
//! the op takes its result `xp` `(T, B, 4H)`, the recurrent weight `W_hh` `(4H, H)` and
//! the bias `(4H,)` (summing the bias in here saves candle's slow broadcast-add
//! backward), and returns all hidden states `(T, B, H)`, starting from zero state.
//! Gates are in PyTorch's order `i, f, g, o`:
//! `c_t = σ(f) c_{t-1} + σ(i) tanh(g)`, `h_t = σ(o) tanh(c_t)`.
//! The forward pass keeps the activated gates and cell states for the backward pass.
//!
//! Speed: batch rows never meet in the recurrence, so the batch is cut into one block
//! of rows per thread and each thread runs the whole time loop for its block, with no
//! barrier between steps. Per-step products use `W_hh` packed once ([`crate::packed_matmul`]);
//! the activations use a vectorisable tanh ([`crate::real`]); each block's loop is
//! compiled for AVX2 and AVX-512 too, chosen at run time. `dW_hh` is one large
//! product after the time loop.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor, WithDType};

use rayon::prelude::*;

use crate::cpu::CpuView;
use crate::kernels::fused_kernel_for;
use crate::matmul::{matmul, MatRef};
use crate::packed_matmul::{matmul_packed, PackedRhs};
use crate::real::Real;
use crate::real_map::RealMap;
use crate::simd_kernel;

const NAME: &str = "lstm";

/// What the forward pass keeps for the backward pass: the activated gates and the
/// cell states, in the inputs' float type.
#[derive(Debug)]
struct Saved {
    gates: CpuStorage,
    cells: CpuStorage,
}

/// The fused LSTM recurrence (see the module documentation).
#[derive(Debug, Default)]
pub struct LstmRecurrence {
    saved: Mutex<Option<Saved>>,
}

/// Sizes of one call.
#[derive(Debug, Clone, Copy)]
struct Dims {
    steps: usize,
    batch: usize,
    hidden: usize,
}

fn dims(xp: &Layout, w: &Layout, bias: &Layout) -> Result<Dims> {
    let (steps, batch, four_h) = xp.shape().dims3()?;
    let (w_rows, hidden) = w.shape().dims2()?;
    if four_h != 4 * hidden || w_rows != 4 * hidden || bias.shape().dims() != [4 * hidden] {
        candle_core::bail!(
            "lstm: xp {:?}, w_hh {:?} and bias {:?} do not fit (need (T, B, 4H), (4H, H), (4H,))",
            xp.shape(),
            w.shape(),
            bias.shape()
        );
    }
    Ok(Dims {
        steps,
        batch,
        hidden,
    })
}

/// Forward recurrence: returns hidden states `(T, B, H)`, activated gates `(T, B, 4H)`
/// and cell states `(T, B, H)`.
#[inline(always)]
fn forward<T: Real>(xp: &[T], w: &[T], bias: &[T], d: Dims) -> (Vec<T>, Vec<T>, Vec<T>) {
    let Dims {
        steps,
        batch,
        hidden,
    } = d;
    let bh = batch * hidden;
    let mut hiddens = vec![T::default(); steps * bh];
    let mut gates = xp.to_vec();
    for row in gates.chunks_exact_mut(4 * hidden) {
        row.iter_mut().zip(bias).for_each(|(g, &b)| *g += b);
    }
    let mut cells = vec![T::default(); steps * bh];
    // W_hh^T (H, 4H), packed once for the products of every step.
    let w_t = PackedRhs::new(MatRef::new(w, 4 * hidden, hidden).t());
    let rows = rows_per_block(batch);
    let gate_blocks = row_blocks(&mut gates, batch * 4 * hidden, rows * 4 * hidden);
    let cell_blocks = row_blocks(&mut cells, bh, rows * hidden);
    let hidden_blocks = row_blocks(&mut hiddens, bh, rows * hidden);
    gate_blocks
        .into_par_iter()
        .zip(cell_blocks)
        .zip(hidden_blocks)
        .for_each(|((mut gates, mut cells), mut hiddens)| {
            forward_block_simd(&mut gates, &mut cells, &mut hiddens, &w_t)
        });
    (hiddens, gates, cells)
}

/// The whole time loop for one block of batch rows: `gates[t]` holds the block's
/// input projections plus bias at step `t` and receives the activated gates; `cells[t]`
/// and `hiddens[t]` receive the states.
#[inline(always)]
fn forward_block<T: Real>(
    gates: &mut [&mut [T]],
    cells: &mut [&mut [T]],
    hiddens: &mut [&mut [T]],
    w_t: &PackedRhs<T>,
) {
    let zeros = vec![T::default(); cells[0].len()];
    let hidden = w_t.k();
    for t in 0..gates.len() {
        let (cells_before, cells_rest) = cells.split_at_mut(t);
        let (hiddens_before, hiddens_rest) = hiddens.split_at_mut(t);
        let (c_prev, h_prev) = match t {
            0 => (&zeros[..], &zeros[..]),
            _ => (&*cells_before[t - 1], &*hiddens_before[t - 1]),
        };
        let step_gates = &mut *gates[t];
        matmul_packed(step_gates, h_prev, w_t, true);
        for (((row, c_prev), c_out), h_out) in step_gates
            .chunks_exact_mut(4 * hidden)
            .zip(c_prev.chunks_exact(hidden))
            .zip(cells_rest[0].chunks_exact_mut(hidden))
            .zip(hiddens_rest[0].chunks_exact_mut(hidden))
        {
            activate_row(row, c_prev, c_out, h_out);
        }
    }
}

simd_kernel! {
    /// [`forward_block`] with the widest vector instructions in use.
    fn forward_block_simd<T: Real>(
        gates: &mut [&mut [T]],
        cells: &mut [&mut [T]],
        hiddens: &mut [&mut [T]],
        w_t: &PackedRhs<T>,
    ) => forward_block;
}

/// Batch rows per block: the rows of a batch never meet in the recurrence, so each
/// thread runs the whole time loop for its own block, with no barrier between steps.
fn rows_per_block(batch: usize) -> usize {
    batch.div_ceil(rayon::current_num_threads()).max(1)
}

/// Cuts a time-major `(T, B, width)` buffer into blocks of `block_len / width` batch
/// rows: block `b`'s entry `t` is its rows of step `t`.
fn row_blocks<T>(data: &mut [T], step_len: usize, block_len: usize) -> Vec<Vec<&mut [T]>> {
    by_block(
        data.chunks_exact_mut(step_len)
            .map(|step| step.chunks_mut(block_len)),
    )
}

/// Read-only [`row_blocks`].
fn row_blocks_of<T>(data: &[T], step_len: usize, block_len: usize) -> Vec<Vec<&[T]>> {
    by_block(
        data.chunks_exact(step_len)
            .map(|step| step.chunks(block_len)),
    )
}

/// Regroups per-step sequences of blocks into per-block sequences of steps.
fn by_block<S, B: Iterator<Item = S>>(steps: impl Iterator<Item = B>) -> Vec<Vec<S>> {
    let mut blocks: Vec<Vec<S>> = Vec::new();
    for step in steps {
        for (b, chunk) in step.enumerate() {
            if b == blocks.len() {
                blocks.push(Vec::new());
            }
            blocks[b].push(chunk);
        }
    }
    blocks
}

/// Activates one batch row's gates in place (`i f g o`, each `H` wide) and computes its
/// new cell and hidden state. Written as separate simple passes so each vectorises.
#[inline(always)]
fn activate_row<T: Real>(row: &mut [T], c_prev: &[T], c_out: &mut [T], h_out: &mut [T]) {
    let hidden = c_out.len();
    let (sigmoid_if, rest) = row.split_at_mut(2 * hidden);
    let (gate_g, gate_o) = rest.split_at_mut(hidden);
    sigmoid_if
        .iter_mut()
        .chain(gate_o.iter_mut())
        .for_each(|x| *x = x.sigmoid());
    gate_g.iter_mut().for_each(|x| *x = x.tanh());
    let (gate_i, gate_f) = sigmoid_if.split_at(hidden);
    for (((c, &f), &c_prev), (&i, &g)) in c_out
        .iter_mut()
        .zip(gate_f)
        .zip(c_prev)
        .zip(gate_i.iter().zip(gate_g.iter()))
    {
        *c = f * c_prev + i * g;
    }
    for ((h, &o), &c) in h_out.iter_mut().zip(gate_o.iter()).zip(c_out.iter()) {
        *h = o * c.tanh();
    }
}

/// Gradients of one batch row at one step: writes the pre-activation gradients `da`
/// (`i f g o`) and carries the cell gradient `dc` to the previous step.
#[inline(always)]
fn backward_row<T: Real>(
    gates: &[T],
    cells: &[T],
    c_prev: &[T],
    grad_out: &[T],
    dh_next: &[T],
    dc_next: &mut [T],
    da: &mut [T],
) {
    let one = T::one();
    let hidden = cells.len();
    let (gate_i, rest) = gates.split_at(hidden);
    let (gate_f, rest) = rest.split_at(hidden);
    let (gate_g, gate_o) = rest.split_at(hidden);
    let (da_i, rest) = da.split_at_mut(hidden);
    let (da_f, rest) = rest.split_at_mut(hidden);
    let (da_g, da_o) = rest.split_at_mut(hidden);
    // Indexed over slices cut to one length, so the loop has no bounds checks and
    // vectorises (a chain of eleven zipped iterators did not).
    let n = hidden;
    let (c_prev, grad_out, dh_next, dc_next) = (
        &c_prev[..n],
        &grad_out[..n],
        &dh_next[..n],
        &mut dc_next[..n],
    );
    let (gate_g, gate_o) = (&gate_g[..n], &gate_o[..n]);
    for j in 0..n {
        let (i, f, g, o) = (gate_i[j], gate_f[j], gate_g[j], gate_o[j]);
        let tanh_c = cells[j].tanh();
        let dh = grad_out[j] + dh_next[j];
        let dc = dc_next[j] + dh * o * (one - tanh_c * tanh_c);
        da_i[j] = dc * g * i * (one - i);
        da_f[j] = dc * c_prev[j] * f * (one - f);
        da_g[j] = dc * i * (one - g * g);
        da_o[j] = dh * tanh_c * o * (one - o);
        dc_next[j] = dc * f;
    }
}

/// Backward recurrence: gradients of `xp`, `W_hh` and the bias from the gradient of
/// the outputs.
#[inline(always)]
fn backward<T: Real>(
    w: &[T],
    hiddens: &[T],
    gates: &[T],
    cells: &[T],
    grad_out: &[T],
    d: Dims,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let Dims {
        steps,
        batch,
        hidden,
    } = d;
    let (bh, b4h) = (batch * hidden, batch * 4 * hidden);
    let mut grad_xp = vec![T::default(); steps * b4h];
    let mut grad_w = vec![T::default(); 4 * hidden * hidden];
    let w_packed = PackedRhs::new(MatRef::new(w, 4 * hidden, hidden));
    let rows = rows_per_block(batch);
    let (row4, row1) = (rows * 4 * hidden, rows * hidden);
    let da_blocks = row_blocks(&mut grad_xp, b4h, row4);
    let gate_blocks = row_blocks_of(gates, b4h, row4);
    let cell_blocks = row_blocks_of(cells, bh, row1);
    let grad_blocks = row_blocks_of(grad_out, bh, row1);
    da_blocks
        .into_par_iter()
        .zip(gate_blocks)
        .zip(cell_blocks)
        .zip(grad_blocks)
        .for_each(|(((mut da, gates), cells), grads)| {
            backward_block_simd(&mut da, &gates, &cells, &grads, &w_packed)
        });
    // dW_hh = sum over t of da_t^T h_{t-1} (h_{-1} = 0): one large product over all
    // steps at once, where a general GEMM is efficient.
    if steps > 1 {
        matmul(
            &mut grad_w,
            MatRef::new(&grad_xp[b4h..], (steps - 1) * batch, 4 * hidden).t(),
            MatRef::new(&hiddens[..(steps - 1) * bh], (steps - 1) * batch, hidden),
            false,
        );
    }
    let mut grad_bias = vec![T::default(); 4 * hidden];
    for row in grad_xp.chunks_exact(4 * hidden) {
        grad_bias.iter_mut().zip(row).for_each(|(g, &d)| *g += d);
    }
    (grad_xp, grad_w, grad_bias)
}

/// The whole reversed time loop for one block of batch rows: writes the block's
/// pre-activation gradients `da[t]` from its saved gates and cells and the output
/// gradients, carrying `dh` and `dc` back through time.
#[inline(always)]
fn backward_block<T: Real>(
    da: &mut [&mut [T]],
    gates: &[&[T]],
    cells: &[&[T]],
    grads: &[&[T]],
    w: &PackedRhs<T>,
) {
    let hidden = w.n();
    let block_len = cells[0].len();
    let zeros = vec![T::default(); block_len];
    // The gradients carried to the previous step: dh_{t-1} = da_t W_hh, and dc.
    let mut dh_next = vec![T::default(); block_len];
    let mut dc_next = vec![T::default(); block_len];
    for t in (0..da.len()).rev() {
        let c_prev = if t == 0 { &zeros[..] } else { cells[t - 1] };
        let da = &mut *da[t];
        for r in 0..block_len / hidden {
            let row = r * hidden..(r + 1) * hidden;
            let row4 = r * 4 * hidden..(r + 1) * 4 * hidden;
            backward_row(
                &gates[t][row4.clone()],
                &cells[t][row.clone()],
                &c_prev[row.clone()],
                &grads[t][row.clone()],
                &dh_next[row.clone()],
                &mut dc_next[row],
                &mut da[row4],
            );
        }
        matmul_packed(&mut dh_next, da, w, false);
    }
}

simd_kernel! {
    /// [`backward_block`] with the widest vector instructions in use.
    fn backward_block_simd<T: Real>(
        da: &mut [&mut [T]],
        gates: &[&[T]],
        cells: &[&[T]],
        grads: &[&[T]],
        w: &PackedRhs<T>,
    ) => backward_block;
}

impl RealMap<3> for LstmRecurrence {
    const NAME: &'static str = NAME;
    const INPUTS: [&'static str; 3] = ["xp", "w_hh", "bias"];

    /// The hidden states; the gates and cells are kept for the backward pass.
    fn f<T: Real + WithDType>(
        &self,
        [xp, w, bias]: [&[T]; 3],
        [l1, l2, l3]: [&Layout; 3],
    ) -> Result<Vec<T>> {
        let (h, gates, cells) = forward(xp, w, bias, dims(l1, l2, l3)?);
        *self.saved.lock().expect("not poisoned") = Some(Saved {
            gates: T::to_cpu_storage_owned(gates),
            cells: T::to_cpu_storage_owned(cells),
        });
        Ok(h)
    }

    fn output_shape(&self, [xp, w, bias]: [&Layout; 3]) -> Result<Shape> {
        let d = dims(xp, w, bias)?;
        Ok(Shape::from((d.steps, d.batch, d.hidden)))
    }
}

/// The backward pass for one float type: the inputs read in place, the saved gates
/// and cells, the gradients shaped like `like`.
fn backward_with<T: Real + WithDType>(
    views: &[CpuView; 3],
    saved: &Saved,
    d: Dims,
    like: [&Tensor; 3],
) -> Result<(Tensor, Tensor, Tensor)> {
    let [w, h, g] = views.each_ref().map(|v| v.slice::<T>());
    let gates = T::cpu_storage_as_slice(&saved.gates)?;
    let cells = T::cpu_storage_as_slice(&saved.cells)?;
    gradient_tensors(backward(w?, h?, gates, cells, g?, d), like)
}

impl CustomOp3 for LstmRecurrence {
    fn name(&self) -> &'static str {
        "lstm-recurrence"
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
        xp: &Tensor,
        w_hh: &Tensor,
        bias: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = dims(xp.layout(), w_hh.layout(), bias.layout())?;
        let grad_res = grad_res.contiguous()?;
        let views = [
            CpuView::new(w_hh, NAME, "w_hh"),
            CpuView::new(res, NAME, "hidden states"),
            CpuView::new(&grad_res, NAME, "output gradient"),
        ];
        let Some(saved) = self.saved.lock().expect("not poisoned").take() else {
            candle_core::bail!("{NAME}: backward called without its forward pass");
        };
        let (grad_xp, grad_w, grad_bias) = match xp.dtype() {
            DType::F32 => backward_with::<f32>(&views, &saved, d, [xp, w_hh, bias])?,
            DType::F64 => backward_with::<f64>(&views, &saved, d, [xp, w_hh, bias])?,
            other => candle_core::bail!("{NAME}: unsupported dtype {other:?}"),
        };
        Ok((Some(grad_xp), Some(grad_w), Some(grad_bias)))
    }
}

/// The three gradients as tensors shaped like the inputs.
fn gradient_tensors<T: candle_core::WithDType>(
    (gx, gw, gb): (Vec<T>, Vec<T>, Vec<T>),
    like: [&Tensor; 3],
) -> Result<(Tensor, Tensor, Tensor)> {
    let device = like[0].device();
    Ok((
        Tensor::from_vec(gx, like[0].shape(), device)?,
        Tensor::from_vec(gw, like[1].shape(), device)?,
        Tensor::from_vec(gb, like[2].shape(), device)?,
    ))
}

/// Runs the fused recurrence: `xp` `(T, B, 4H)` (the input projection without bias),
/// `w_hh` `(4H, H)`, `bias` `(4H,)` -> hidden states `(T, B, H)`.
pub fn lstm_recurrence(xp: &Tensor, w_hh: &Tensor, bias: &Tensor) -> Result<Tensor> {
    if !fused_kernel_for(xp) {
        return lstm_recurrence_composed(xp, w_hh, bias);
    }
    xp.contiguous()?.apply_op3(
        &w_hh.contiguous()?,
        &bias.contiguous()?,
        LstmRecurrence::default(),
    )
}

/// The same recurrence from candle's differentiable ops, one step at a time: the
/// portable path for devices without the fused kernel, and the reference the tests
/// compare it with.
pub fn lstm_recurrence_composed(xp: &Tensor, w: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let (steps, batch, four_h) = xp.dims3()?;
    let hidden = four_h / 4;
    let mut h = Tensor::zeros((batch, hidden), xp.dtype(), xp.device())?;
    let mut c = h.clone();
    let mut outputs = Vec::new();
    for t in 0..steps {
        let gates = (xp.get(t)? + h.matmul(&w.t()?)?)?.broadcast_add(bias)?;
        let chunk = |k: usize| gates.narrow(candle_core::D::Minus1, k * hidden, hidden);
        let sigmoid = |x: Tensor| -> Result<Tensor> { (x.neg()?.exp()? + 1.0)?.recip() };
        let (i, f, g, o) = (
            sigmoid(chunk(0)?)?,
            sigmoid(chunk(1)?)?,
            chunk(2)?.tanh()?,
            sigmoid(chunk(3)?)?,
        );
        c = ((f * &c)? + (i * g)?)?;
        h = (o * c.tanh()?)?;
        outputs.push(h.clone());
    }
    Tensor::stack(&outputs, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// Deterministic inputs (xp, w_hh, bias) and a probe to weight the outputs.
    fn inputs(dtype: DType) -> ([Var; 3], Tensor) {
        let device = Device::Cpu;
        let (steps, batch, hidden) = (5, 3, 4);
        let det = |n: usize, scale: f64| -> Vec<f64> {
            (0..n)
                .map(|i| ((i * 37 % 17) as f64 / 17.0 - 0.5) * scale)
                .collect()
        };
        let tensor = |values: Vec<f64>, shape: &[usize]| {
            Tensor::from_vec(values, shape, &device)
                .unwrap()
                .to_dtype(dtype)
                .unwrap()
        };
        let xp = tensor(
            det(steps * batch * 4 * hidden, 2.0),
            &[steps, batch, 4 * hidden],
        );
        let w = tensor(det(4 * hidden * hidden, 1.0), &[4 * hidden, hidden]);
        let bias = tensor(det(4 * hidden, 0.8), &[4 * hidden]);
        let probe = tensor(det(steps * batch * hidden, 3.0), &[steps, batch, hidden]);
        let vars = [xp, w, bias].map(|t| Var::from_tensor(&t).unwrap());
        (vars, probe)
    }

    fn max_difference(a: &Tensor, b: &Tensor) -> f64 {
        let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap();
        diff.to_dtype(DType::F64)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    }

    #[test]
    fn forward_and_gradients_match_the_candle_composition() {
        for dtype in [DType::F64, DType::F32] {
            let ([xp, w, bias], probe) = inputs(dtype);
            let tolerance = if dtype == DType::F64 { 1e-12 } else { 1e-5 };
            let fused = lstm_recurrence(xp.as_tensor(), w.as_tensor(), bias.as_tensor()).unwrap();
            let reference =
                lstm_recurrence_composed(xp.as_tensor(), w.as_tensor(), bias.as_tensor()).unwrap();
            let diff = max_difference(&fused, &reference);
            assert!(diff < tolerance, "{dtype:?} forward differs by {diff}");
            let weighted = |out: Tensor| {
                (out * &probe)
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .backward()
                    .unwrap()
            };
            let (grads_fused, grads_ref) = (weighted(fused), weighted(reference));
            for var in [&xp, &w, &bias] {
                let diff = max_difference(
                    grads_fused.get(var.as_tensor()).unwrap(),
                    grads_ref.get(var.as_tensor()).unwrap(),
                );
                assert!(
                    diff < tolerance * 10.0,
                    "{dtype:?} gradient differs by {diff}"
                );
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (vars, probe) = inputs(DType::F64);
        let loss = |values: [&Tensor; 3]| -> Tensor {
            let out = lstm_recurrence(values[0], values[1], values[2]).unwrap();
            (out * &probe).unwrap().sum_all().unwrap()
        };
        let tensors = vars.each_ref().map(|v| v.as_tensor());
        let grads = loss(tensors).backward().unwrap();
        let eps = 1e-6;
        for (which, var) in vars.iter().enumerate() {
            let analytic: Vec<f64> = grads
                .get(var.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let values: Vec<f64> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
            for index in (0..values.len()).step_by(5) {
                let at = |delta: f64| {
                    let mut copy = values.clone();
                    copy[index] += delta;
                    let nudged = Tensor::from_vec(copy, var.shape(), &Device::Cpu).unwrap();
                    let mut inputs = tensors;
                    inputs[which] = &nudged;
                    loss(inputs).to_scalar::<f64>().unwrap()
                };
                let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
                let error = (numeric - analytic[index]).abs();
                assert!(
                    error < 1e-7,
                    "input {which}[{index}]: numeric {numeric}, analytic {}",
                    analytic[index]
                );
            }
        }
    }
}
