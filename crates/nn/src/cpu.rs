//! What the hand-written CPU kernels share: reading a tensor's storage in place,
//! checking contiguity, and whether the processor can run the AVX2 + FMA builds.

use candle_core::{Layout, Result, Storage, StorageRef, Tensor, WithDType};

/// Whether the processor has AVX2 and FMA (the kernels' fast builds need both).
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    return is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The elements of a contiguous layout, or an error naming `what` in `op`.
pub fn contiguous<'a, T>(data: &'a [T], layout: &Layout, op: &str, what: &str) -> Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{op}: {what} must be contiguous"),
    }
}

/// A read lock on a CPU tensor's storage, for kernels' backward passes to read the
/// inputs and outputs in place instead of copying them out.
pub struct CpuView<'a> {
    storage: StorageRef<'a>,
    layout: &'a Layout,
    op: &'static str,
    what: &'static str,
}

impl<'a> CpuView<'a> {
    /// Locks `tensor`'s storage for reading.
    pub fn new(tensor: &'a Tensor, op: &'static str, what: &'static str) -> Self {
        let (storage, layout) = tensor.storage_and_layout();
        Self {
            storage,
            layout,
            op,
            what,
        }
    }

    /// The tensor's elements, which must be contiguous, on the CPU and of type `T`.
    pub fn slice<T: WithDType>(&self) -> Result<&[T]> {
        let Storage::Cpu(cpu) = &*self.storage else {
            candle_core::bail!("{}: {} must be on the CPU", self.op, self.what)
        };
        contiguous(
            T::cpu_storage_as_slice(cpu)?,
            self.layout,
            self.op,
            self.what,
        )
    }
}

/// Runs `kernel` compiled for AVX2 + FMA when the processor has them (the closure,
/// used once, is inlined into the feature-enabled frame along with the
/// `#[inline(always)]` kernels it calls), or as built otherwise.
pub fn with_avx2_fma<R>(kernel: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the processor has the features the frame is compiled for.
        return unsafe { run_with_avx2_fma(kernel) };
    }
    kernel()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_with_avx2_fma<R>(kernel: impl FnOnce() -> R) -> R {
    kernel()
}
