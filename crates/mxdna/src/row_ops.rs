//! Moving rows between the nucleotide grid and units or tokens, as candle custom ops
//! whose backward passes are each other: [`gather_rows`] picks rows by index (its
//! gradient adds the output gradient back into the picked rows) and [`scatter_rows`]
//! places rows at indices of a zero grid (its gradient picks those rows of the output
//! gradient). The learnt tokenization uses them to hand each expert its units'
//! nucleotides, to put each unit's vector at its centre, and to compact the kept
//! positions into a token sequence.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor, WithDType};
use dnalm_nn::cpu::contiguous;
use dnalm_nn::kernels::fused_kernel_for;

/// Rows `indices` of `x` `(N, d)`, in order: `(indices.len(), d)`.
pub fn gather_rows(x: &Tensor, indices: &Arc<Vec<u32>>) -> Result<Tensor> {
    if !fused_kernel_for(x) {
        return gather_rows_composed(x, indices);
    }
    x.contiguous()?.apply_op1(Gather {
        indices: indices.clone(),
    })
}

/// A zero `(rows, d)` grid with row `indices[i]` set to row `i` of `values` `(M, d)`
/// (rows named twice are added).
pub fn scatter_rows(values: &Tensor, indices: &Arc<Vec<u32>>, rows: usize) -> Result<Tensor> {
    if !fused_kernel_for(values) {
        return scatter_rows_composed(values, indices, rows);
    }
    values.contiguous()?.apply_op1(Scatter {
        indices: indices.clone(),
        rows,
    })
}

/// [`gather_rows`] from candle's differentiable `index_select`: the portable path for
/// devices without the fused op.
pub fn gather_rows_composed(x: &Tensor, indices: &Arc<Vec<u32>>) -> Result<Tensor> {
    let indices = Tensor::from_slice(indices, indices.len(), x.device())?;
    x.index_select(&indices, 0)
}

/// [`scatter_rows`] from candle's differentiable `index_add` on a zero grid (not
/// `scatter_add`, whose gradient is wrong: DESIGN.md): the portable path for devices
/// without the fused op.
pub fn scatter_rows_composed(
    values: &Tensor,
    indices: &Arc<Vec<u32>>,
    rows: usize,
) -> Result<Tensor> {
    let width = values.dim(1)?;
    let indices = Tensor::from_slice(indices, indices.len(), values.device())?;
    Tensor::zeros((rows, width), values.dtype(), values.device())?.index_add(&indices, values, 0)
}

struct Gather {
    indices: Arc<Vec<u32>>,
}

struct Scatter {
    indices: Arc<Vec<u32>>,
    rows: usize,
}

fn check_indices(indices: &[u32], rows: usize, op: &str) -> Result<()> {
    if let Some(&bad) = indices.iter().find(|&&i| i as usize >= rows) {
        candle_core::bail!("{op}: row index {bad} outside {rows} rows");
    }
    Ok(())
}

fn gather<T: Copy + Default>(x: &[T], width: usize, indices: &[u32]) -> Vec<T> {
    let mut out = Vec::with_capacity(indices.len() * width);
    for &i in indices {
        out.extend_from_slice(&x[i as usize * width..(i as usize + 1) * width]);
    }
    out
}

fn scatter<T: Copy + Default + std::ops::AddAssign>(
    values: &[T],
    width: usize,
    indices: &[u32],
    rows: usize,
) -> Vec<T> {
    let mut out = vec![T::default(); rows * width];
    for (row, &i) in values.chunks_exact(width).zip(indices) {
        for (o, &v) in out[i as usize * width..(i as usize + 1) * width]
            .iter_mut()
            .zip(row)
        {
            *o += v;
        }
    }
    out
}

/// Applies a row kernel to f32 or f64 storage.
fn on_storage(
    storage: &CpuStorage,
    layout: &Layout,
    op: &str,
    kernel: &dyn Fn(&dyn RowKernel) -> Result<CpuStorage>,
) -> Result<CpuStorage> {
    match storage {
        CpuStorage::F32(data) => kernel(&Rows(contiguous(data, layout, op, "input")?)),
        CpuStorage::F64(data) => kernel(&Rows(contiguous(data, layout, op, "input")?)),
        _ => candle_core::bail!("{op}: only f32 and f64 are supported"),
    }
}

/// The two kernels over either float type.
trait RowKernel {
    fn gather(&self, width: usize, indices: &[u32]) -> CpuStorage;
    fn scatter(&self, width: usize, indices: &[u32], rows: usize) -> CpuStorage;
}

struct Rows<'a, T>(&'a [T]);

impl<T: WithDType + Default + std::ops::AddAssign> RowKernel for Rows<'_, T> {
    fn gather(&self, width: usize, indices: &[u32]) -> CpuStorage {
        T::to_cpu_storage_owned(gather(self.0, width, indices))
    }

    fn scatter(&self, width: usize, indices: &[u32], rows: usize) -> CpuStorage {
        T::to_cpu_storage_owned(scatter(self.0, width, indices, rows))
    }
}

impl CustomOp1 for Gather {
    fn name(&self) -> &'static str {
        "gather-rows"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (rows, width) = layout.shape().dims2()?;
        check_indices(&self.indices, rows, self.name())?;
        let out = on_storage(storage, layout, self.name(), &|rows| {
            Ok(rows.gather(width, &self.indices))
        })?;
        Ok((out, Shape::from((self.indices.len(), width))))
    }

    fn bwd(&self, x: &Tensor, _out: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(scatter_rows(grad, &self.indices, x.dim(0)?)?))
    }
}

impl CustomOp1 for Scatter {
    fn name(&self) -> &'static str {
        "scatter-rows"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (count, width) = layout.shape().dims2()?;
        if count != self.indices.len() {
            candle_core::bail!(
                "{}: {count} rows for {} indices",
                self.name(),
                self.indices.len()
            );
        }
        check_indices(&self.indices, self.rows, self.name())?;
        let out = on_storage(storage, layout, self.name(), &|rows| {
            Ok(rows.scatter(width, &self.indices, self.rows))
        })?;
        Ok((out, Shape::from((self.rows, width))))
    }

    fn bwd(&self, _values: &Tensor, _out: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(gather_rows(grad, &self.indices)?))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    #[test]
    fn values_and_gradients_by_hand() {
        let device = Device::Cpu;
        let x = Var::from_vec((0..8).map(f64::from).collect::<Vec<_>>(), (4, 2), &device).unwrap();
        let picks = Arc::new(vec![2u32, 0, 2]);
        let gathered = gather_rows(&x, &picks).unwrap();
        assert_eq!(
            gathered.to_vec2::<f64>().unwrap(),
            [[4.0, 5.0], [0.0, 1.0], [4.0, 5.0]]
        );
        let placed = scatter_rows(&gathered, &Arc::new(vec![1, 3, 1]), 4).unwrap();
        assert_eq!(
            placed.to_vec2::<f64>().unwrap(),
            [[0.0, 0.0], [8.0, 10.0], [0.0, 0.0], [0.0, 1.0]]
        );
        // Both ops are linear, so finite differences give exactly these values.
        // d/dx of sum(probe * scatter(gather(x))): row 2 is used twice into row 1,
        // row 0 once into row 3, rows 1 and 3 of x not at all.
        let probe = Tensor::new(
            &[[1.0f64, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]],
            &device,
        )
        .unwrap();
        let grad = (placed * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert_eq!(
            grad.get(&x).unwrap().to_vec2::<f64>().unwrap(),
            [[7.0, 8.0], [0.0, 0.0], [6.0, 8.0], [0.0, 0.0]]
        );
        let bad = gather_rows(&x, &Arc::new(vec![4])).unwrap_err().to_string();
        assert!(bad.contains("outside 4 rows"), "{bad}");
    }

    #[test]
    fn the_compositions_give_the_same_rows_and_gradients() {
        let device = Device::Cpu;
        let x = Var::from_vec((0..8).map(f64::from).collect::<Vec<_>>(), (4, 2), &device).unwrap();
        let (picks, places) = (Arc::new(vec![2u32, 0, 2]), Arc::new(vec![1u32, 3, 1]));
        let probe = Tensor::new(
            &[[1.0f64, -2.0], [3.0, 0.5], [5.0, 6.0], [-7.0, 8.0]],
            &device,
        )
        .unwrap();
        let run = |gather: &dyn Fn(&Tensor) -> Tensor, scatter: &dyn Fn(&Tensor) -> Tensor| {
            let placed = scatter(&gather(&x));
            let grad = (&placed * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            (
                placed.to_vec2::<f64>().unwrap(),
                grad.get(&x).unwrap().to_vec2::<f64>().unwrap(),
            )
        };
        let fused = run(&|t| gather_rows(t, &picks).unwrap(), &|t| {
            scatter_rows(t, &places, 4).unwrap()
        });
        let composed = run(&|t| gather_rows_composed(t, &picks).unwrap(), &|t| {
            scatter_rows_composed(t, &places, 4).unwrap()
        });
        assert_eq!(fused, composed);
    }
}
