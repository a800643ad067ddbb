//! One dispatch over the float types of the custom ops' forward passes, in the manner
//! of candle's `Map2`/`Map3`: each op writes its kernel once for any [`Real`], and
//! running it on f32 or f64 storages (or refusing a mix) is done here, not in every op.
//! (A backward pass picks its kernel by `Tensor::dtype`, one match each.)

use candle_core::{CpuStorage, Layout, Result, WithDType};

use crate::cpu::contiguous;
use crate::real::Real;

/// A forward kernel of two inputs of one float type.
pub trait RealMap2 {
    /// The op's name, for errors.
    const NAME: &'static str;
    /// What its inputs are called, for errors.
    const INPUTS: [&'static str; 2];

    /// The kernel on the contiguous inputs (their layouts give the shapes).
    fn f<T: Real + WithDType>(&self, inputs: [&[T]; 2], layouts: [&Layout; 2]) -> Result<Vec<T>>;

    /// Runs the kernel on the storages' float type.
    fn map(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<CpuStorage> {
        let [n1, n2] = Self::INPUTS;
        let layouts = [l1, l2];
        Ok(match (s1, s2) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => CpuStorage::F32(self.f(
                [
                    contiguous(a, l1, Self::NAME, n1)?,
                    contiguous(b, l2, Self::NAME, n2)?,
                ],
                layouts,
            )?),
            (CpuStorage::F64(a), CpuStorage::F64(b)) => CpuStorage::F64(self.f(
                [
                    contiguous(a, l1, Self::NAME, n1)?,
                    contiguous(b, l2, Self::NAME, n2)?,
                ],
                layouts,
            )?),
            _ => candle_core::bail!("{}: {n1} and {n2} must both be f32 or both f64", Self::NAME),
        })
    }
}

/// A forward kernel of three inputs of one float type.
pub trait RealMap3 {
    /// The op's name, for errors.
    const NAME: &'static str;
    /// What its inputs are called, for errors.
    const INPUTS: [&'static str; 3];

    /// The kernel on the contiguous inputs (their layouts give the shapes).
    fn f<T: Real + WithDType>(&self, inputs: [&[T]; 3], layouts: [&Layout; 3]) -> Result<Vec<T>>;

    /// Runs the kernel on the storages' float type.
    fn map(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<CpuStorage> {
        let [n1, n2, n3] = Self::INPUTS;
        let layouts = [l1, l2, l3];
        let name = Self::NAME;
        Ok(match (s1, s2, s3) {
            (CpuStorage::F32(a), CpuStorage::F32(b), CpuStorage::F32(c)) => {
                CpuStorage::F32(self.f(
                    [
                        contiguous(a, l1, name, n1)?,
                        contiguous(b, l2, name, n2)?,
                        contiguous(c, l3, name, n3)?,
                    ],
                    layouts,
                )?)
            }
            (CpuStorage::F64(a), CpuStorage::F64(b), CpuStorage::F64(c)) => {
                CpuStorage::F64(self.f(
                    [
                        contiguous(a, l1, name, n1)?,
                        contiguous(b, l2, name, n2)?,
                        contiguous(c, l3, name, n3)?,
                    ],
                    layouts,
                )?)
            }
            _ => candle_core::bail!("{name}: {n1}, {n2} and {n3} must all be f32 or all f64"),
        })
    }
}
