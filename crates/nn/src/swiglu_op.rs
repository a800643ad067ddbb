//! The SwiGLU gate `silu(a) * b` as one candle custom op with a hand-written backward:
//! with `s = σ(a)`, `da = dy b s (1 + a (1 - s))` and `db = dy a s`. The composition
//! (silu, then multiply) keeps two intermediate tensors and runs five element-wise
//! passes in its backward; this is one pass each way. Outputs are written into
//! unzeroed memory (zeroing them first took about 1% of a decoder train step).

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, WithDType};
use rayon::prelude::*;

use crate::cpu::CpuView;
use crate::kernels::fused_kernel_for;
use crate::real::Real;
use crate::real_map::RealMap;
use crate::simd_kernel;

const NAME: &str = "swiglu";
/// Elements per parallel task.
const CHUNK: usize = 1 << 16;

/// `silu(a) * b` for two tensors of one shape (f32 or f64).
pub fn swiglu(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if !fused_kernel_for(a) {
        return swiglu_composed(a, b);
    }
    a.contiguous()?.apply_op2(&b.contiguous()?, SwiGlu)
}

/// The same gate from candle's differentiable ops: the portable path for devices
/// without the fused kernel, and the reference the tests compare it with.
pub fn swiglu_composed(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.silu()? * b
}

struct SwiGlu;

/// Writes every slot of `out` (as long as `a` and `b`).
#[inline(always)]
fn forward_chunk<T: Real>(a: &[T], b: &[T], out: &mut [MaybeUninit<T>]) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = MaybeUninit::new(a * a.sigmoid() * b);
    }
}

/// Writes every slot of `da` and `db` (as long as `a`, `b` and `dy`).
#[inline(always)]
fn backward_chunk<T: Real>(
    a: &[T],
    b: &[T],
    dy: &[T],
    da: &mut [MaybeUninit<T>],
    db: &mut [MaybeUninit<T>],
) {
    for ((((da, db), &a), &b), &g) in da.iter_mut().zip(db.iter_mut()).zip(a).zip(b).zip(dy) {
        let s = a.sigmoid();
        *da = MaybeUninit::new(g * b * s * (T::one() + a * (T::one() - s)));
        *db = MaybeUninit::new(g * a * s);
    }
}

simd_kernel! {
    /// [`forward_chunk`] with the widest vector instructions in use.
    fn forward_chunk_simd<T: Real>(a: &[T], b: &[T], out: &mut [MaybeUninit<T>]) => forward_chunk;
}

simd_kernel! {
    /// [`backward_chunk`] with the widest vector instructions in use.
    fn backward_chunk_simd<T: Real>(
        a: &[T],
        b: &[T],
        dy: &[T],
        da: &mut [MaybeUninit<T>],
        db: &mut [MaybeUninit<T>],
    ) => backward_chunk;
}

fn forward<T: Real>(a: &[T], b: &[T]) -> Vec<T> {
    assert_eq!(a.len(), b.len(), "shapes checked by output_shape");
    let mut out = Box::new_uninit_slice(a.len());
    out.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
        .for_each(|(out, (a, b))| forward_chunk_simd(a, b, out));
    // SAFETY: the chunks of `out` pair with chunks of `a` and `b` of their length, and
    // forward_chunk writes every slot of them.
    unsafe { out.assume_init() }.into_vec()
}

fn backward<T: Real + WithDType>(a: &Tensor, b: &Tensor, dy: &Tensor) -> Result<(Tensor, Tensor)> {
    let views = [
        CpuView::new(a, NAME, "a"),
        CpuView::new(b, NAME, "b"),
        CpuView::new(dy, NAME, "output gradient"),
    ];
    let (xa, xb, g) = (
        views[0].slice::<T>()?,
        views[1].slice::<T>()?,
        views[2].slice::<T>()?,
    );
    if xb.len() != xa.len() || g.len() != xa.len() {
        candle_core::bail!("{NAME}: a, b and the output gradient differ in size");
    }
    let mut da = Box::new_uninit_slice(xa.len());
    let mut db = Box::new_uninit_slice(xa.len());
    da.par_chunks_mut(CHUNK)
        .zip(db.par_chunks_mut(CHUNK))
        .zip(xa.par_chunks(CHUNK).zip(xb.par_chunks(CHUNK)))
        .zip(g.par_chunks(CHUNK))
        .for_each(|(((da, db), (a, b)), g)| backward_chunk_simd(a, b, g, da, db));
    // SAFETY: every chunk of `da` and `db` pairs with chunks of the inputs of its
    // length (all four are as long), and backward_chunk writes every slot of them.
    let (da, db) = unsafe { (da.assume_init().into_vec(), db.assume_init().into_vec()) };
    Ok((
        Tensor::from_vec(da, a.shape(), a.device())?,
        Tensor::from_vec(db, b.shape(), b.device())?,
    ))
}

impl RealMap<2> for SwiGlu {
    const NAME: &'static str = NAME;
    const INPUTS: [&'static str; 2] = ["a", "b"];

    fn f<T: Real + WithDType>(&self, [a, b]: [&[T]; 2], _: [&Layout; 2]) -> Result<Vec<T>> {
        Ok(forward(a, b))
    }

    fn output_shape(&self, [a, b]: [&Layout; 2]) -> Result<Shape> {
        if a.shape() != b.shape() {
            candle_core::bail!("{NAME}: a {:?} and b {:?} differ", a.shape(), b.shape());
        }
        Ok(a.shape().clone())
    }
}

impl CustomOp2 for SwiGlu {
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
        a: &Tensor,
        b: &Tensor,
        _out: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let (da, db) = match a.dtype() {
            DType::F32 => backward::<f32>(a, b, &dy)?,
            DType::F64 => backward::<f64>(a, b, &dy)?,
            other => candle_core::bail!("{NAME}: unsupported dtype {other:?}"),
        };
        Ok((Some(da), Some(db)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;
    use crate::test_values::values;

    #[test]
    fn matches_the_composition_and_finite_differences() {
        let device = Device::Cpu;
        let n = CHUNK + 10;
        let a = Var::from_vec(values(n, 1, 6.0), n, &device).unwrap();
        let b = Var::from_vec(values(n, 2, 2.0), n, &device).unwrap();
        let probe = Tensor::from_vec(values(n, 3, 1.0), n, &device).unwrap();
        let fused = swiglu(&a, &b).unwrap();
        let reference = swiglu_composed(&a, &b).unwrap();
        let max_diff = |x: &Tensor, y: &Tensor| {
            (x - y)
                .unwrap()
                .abs()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        };
        assert!(max_diff(&fused, &reference) < 1e-12);
        let grads = (&fused * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let reference_grads = (&reference * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for var in [&a, &b] {
            assert!(max_diff(grads.get(var).unwrap(), reference_grads.get(var).unwrap()) < 1e-12);
        }
        // Finite differences at a few points.
        let da: Vec<f64> = grads.get(&a).unwrap().to_vec1().unwrap();
        let (av, bv, pv) = (values(n, 1, 6.0), values(n, 2, 2.0), values(n, 3, 1.0));
        for i in [0, 7, CHUNK + 3] {
            let f = |x: f64| x / (1.0 + (-x).exp()) * bv[i] * pv[i];
            let numeric = (f(av[i] + 1e-6) - f(av[i] - 1e-6)) / 2e-6;
            assert!((numeric - da[i]).abs() < 1e-8, "{numeric} vs {}", da[i]);
        }
    }
}
