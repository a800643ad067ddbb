//! What the hand-written CPU kernels share: reading a tensor's storage in place,
//! checking contiguity, and which vector instructions they run with
//! ([`simd_level`], [`simd_kernel!`](crate::simd_kernel)).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use candle_core::{Layout, Result, Storage, StorageRef, Tensor, WithDType};

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

/// The vector instruction sets the kernels are compiled for, widest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    /// What the build targets (SSE2 on x86-64).
    Baseline,
    /// AVX2 and FMA (x86-64-v3).
    Avx2Fma,
    /// AVX-512 F/BW/DQ/VL on top of AVX2 and FMA (x86-64-v4).
    Avx512,
}

/// Environment variable capping the level the kernels use (`avx512`, `avx2` or
/// `baseline`), to measure or test a narrower path on a wider processor.
pub const SIMD_CAP_VARIABLE: &str = "DNALM_SIMD";

/// The widest level the processor, [`SIMD_CAP_VARIABLE`] (read once) and
/// [`with_simd_cap`] allow.
pub fn simd_level() -> SimdLevel {
    static ALLOWED: OnceLock<SimdLevel> = OnceLock::new();
    let allowed = *ALLOWED.get_or_init(|| {
        let cap = match std::env::var(SIMD_CAP_VARIABLE).as_deref() {
            Ok("baseline") => SimdLevel::Baseline,
            Ok("avx2") => SimdLevel::Avx2Fma,
            _ => SimdLevel::Avx512,
        };
        detected_level().min(cap)
    });
    allowed.min(level_from(CAP.load(Ordering::Relaxed)))
}

/// A process-wide cap set by [`with_simd_cap`] (`Avx512` when none is set).
static CAP: AtomicU8 = AtomicU8::new(SimdLevel::Avx512 as u8);

fn level_from(value: u8) -> SimdLevel {
    match value {
        0 => SimdLevel::Baseline,
        1 => SimdLevel::Avx2Fma,
        _ => SimdLevel::Avx512,
    }
}

/// Runs `work` with the kernels capped at `level` in every thread (for tests and
/// benchmarks comparing the paths on one processor); the previous cap is restored
/// after. Kernels running concurrently elsewhere in the process take the cap too.
pub fn with_simd_cap<R>(level: SimdLevel, work: impl FnOnce() -> R) -> R {
    let previous = CAP.swap(level as u8, Ordering::Relaxed);
    let result = work();
    CAP.store(previous, Ordering::Relaxed);
    result
}

/// The widest level the processor has.
fn detected_level() -> SimdLevel {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            let wide = is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("avx512vl");
            return if wide {
                SimdLevel::Avx512
            } else {
                SimdLevel::Avx2Fma
            };
        }
    }
    SimdLevel::Baseline
}

/// Defines a function that runs an `#[inline(always)]` kernel compiled for the widest
/// [`SimdLevel`] in use: `simd_kernel!(fn name<T: Real>(a: &[T], ...) -> R => kernel);`.
///
/// The kernel is inlined into one copy per level, each compiled with that level's
/// target features, and [`simd_level`] picks the copy at run time. (A closure handed
/// to a feature-enabled function is not reliably inlined into it, and then runs with
/// the baseline instructions; naming the kernel here avoids that.)
#[macro_export]
macro_rules! simd_kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$t:ident: $bound:path>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $kernel:path;) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<$t: $bound>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2<$t: $bound>($($arg: $ty),*) $(-> $ret)? {
                    $kernel($($arg),*)
                }
                #[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512dq,avx512vl")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512<$t: $bound>($($arg: $ty),*) $(-> $ret)? {
                    $kernel($($arg),*)
                }
                match $crate::cpu::simd_level() {
                    // SAFETY: simd_level only names levels the processor has.
                    $crate::cpu::SimdLevel::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::cpu::SimdLevel::Avx2Fma => return unsafe { avx2($($arg),*) },
                    $crate::cpu::SimdLevel::Baseline => {}
                }
            }
            $kernel($($arg),*)
        }
    };
}
