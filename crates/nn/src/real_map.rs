//! One dispatch over the float types of the custom ops' forward passes, in the manner
//! of candle's `Map1`/`Map2`/`Map3`: each op writes its kernel once for any [`Real`],
//! and running it on f32 or f64 storages (or refusing a mix) is done here, not in every
//! op. (A backward pass picks its kernel by `Tensor::dtype`, one match each.)

use candle_core::{CpuStorage, Layout, Result, Shape, WithDType};

use crate::cpu::contiguous;
use crate::real::Real;

/// A forward kernel of `N` inputs of one float type.
pub trait RealMap<const N: usize> {
    /// The op's name, for errors.
    const NAME: &'static str;
    /// What its inputs are called, for errors.
    const INPUTS: [&'static str; N];

    /// The kernel on the contiguous inputs (their layouts give the shapes).
    fn f<T: Real + WithDType>(&self, inputs: [&[T]; N], layouts: [&Layout; N]) -> Result<Vec<T>>;

    /// The output's shape, or an error when the inputs' shapes do not fit together.
    fn output_shape(&self, layouts: [&Layout; N]) -> Result<Shape>;

    /// What `CustomOpN::cpu_fwd` returns: the shapes checked, then the kernel run.
    fn cpu_forward(
        &self,
        storages: [&CpuStorage; N],
        layouts: [&Layout; N],
    ) -> Result<(CpuStorage, Shape)> {
        let shape = self.output_shape(layouts)?;
        Ok((self.map(storages, layouts)?, shape))
    }

    /// Runs the kernel on the storages' float type.
    fn map(&self, storages: [&CpuStorage; N], layouts: [&Layout; N]) -> Result<CpuStorage> {
        if let Some(inputs) = typed::<f32, N>(storages, layouts, Self::NAME, Self::INPUTS)? {
            return Ok(CpuStorage::F32(self.f(inputs, layouts)?));
        }
        if let Some(inputs) = typed::<f64, N>(storages, layouts, Self::NAME, Self::INPUTS)? {
            return Ok(CpuStorage::F64(self.f(inputs, layouts)?));
        }
        candle_core::bail!(
            "{}: {} must all be f32 or all f64",
            Self::NAME,
            Self::INPUTS.join(", ")
        )
    }
}

/// The storages as contiguous slices of `T`, or `None` when one of them holds another
/// type.
fn typed<'a, T: WithDType, const N: usize>(
    storages: [&'a CpuStorage; N],
    layouts: [&Layout; N],
    op: &str,
    names: [&str; N],
) -> Result<Option<[&'a [T]; N]>> {
    let mut slices = Vec::with_capacity(N);
    for ((storage, layout), name) in storages.into_iter().zip(layouts).zip(names) {
        match T::cpu_storage_as_slice(storage) {
            Ok(data) => slices.push(contiguous(data, layout, op, name)?),
            Err(_) => return Ok(None),
        }
    }
    Ok(slices.try_into().ok())
}
