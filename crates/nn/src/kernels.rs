//! Which implementation a fused op takes. The fused kernels ([`crate::attention_op`],
//! [`crate::layer_norm`], [`crate::swiglu_op`], [`crate::lstm_op`], [`crate::linear_op`],
//! RoPE's [`crate::rope::Rope::split_heads`] and MxDNA's row and
//! deformable-sampling ops) read and write CPU memory; on any other candle device (a
//! CUDA GPU) each op takes its portable path instead: the composition of candle's own
//! differentiable ops that its tests compare it with.
//!
//! The portable path can also be chosen on the CPU, so that the code a GPU runs is
//! checked on every CI run and what the fused kernels are worth can be measured:
//! `DNALM_PORTABLE_OPS=1` for a whole process, [`PortableOps::on`] for the calling
//! thread (candle runs a forward and a backward pass on the thread that asks for it).

use std::cell::Cell;
use std::sync::OnceLock;

use candle_core::Tensor;

/// The environment variable that puts a whole process on the portable path.
const PORTABLE_OPS_VARIABLE: &str = "DNALM_PORTABLE_OPS";

thread_local! {
    static FORCED_ON_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn forced_by_environment() -> bool {
    static FORCED: OnceLock<bool> = OnceLock::new();
    *FORCED.get_or_init(|| {
        std::env::var(PORTABLE_OPS_VARIABLE).is_ok_and(|value| !value.is_empty() && value != "0")
    })
}

/// Whether an op on `input` runs its fused CPU kernel: `input` lives on the CPU and
/// the portable path was not asked for.
pub fn fused_kernel_for(input: &Tensor) -> bool {
    input.device().is_cpu() && !forced_by_environment() && !FORCED_ON_THIS_THREAD.with(Cell::get)
}

/// While alive, the ops called on this thread take their portable path on every device;
/// dropping it restores what was chosen before.
pub struct PortableOps {
    before: bool,
}

impl PortableOps {
    /// Puts this thread's ops on the portable path until the guard is dropped.
    pub fn on() -> Self {
        let before = FORCED_ON_THIS_THREAD.with(|forced| forced.replace(true));
        Self { before }
    }
}

impl Drop for PortableOps {
    fn drop(&mut self) {
        FORCED_ON_THIS_THREAD.with(|forced| forced.set(self.before));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn the_guard_switches_this_thread_only_and_restores() {
        let x = Tensor::zeros(2, candle_core::DType::F32, &Device::Cpu).unwrap();
        let before = fused_kernel_for(&x);
        {
            let _outer = PortableOps::on();
            assert!(!fused_kernel_for(&x));
            {
                let _inner = PortableOps::on();
                assert!(!fused_kernel_for(&x));
            }
            assert!(!fused_kernel_for(&x), "the outer guard still holds");
            let y = x.clone();
            let other = std::thread::spawn(move || fused_kernel_for(&y))
                .join()
                .unwrap();
            assert_eq!(other, before, "another thread is not switched");
        }
        assert_eq!(fused_kernel_for(&x), before);
    }
}
