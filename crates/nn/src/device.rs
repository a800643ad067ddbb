//! Where a model runs: `cpu` or `cuda[:N]`, as flags and settings spell it, opened into
//! a candle device with an error that says what is missing (CUDA not compiled in, no
//! GPU or driver) instead of a panic.

use std::fmt;
use std::str::FromStr;

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::error::{NnError, Result};

/// A device as written on the command line or in settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DeviceSpec {
    /// The CPU, with dnalm's fused kernels.
    #[default]
    Cpu,
    /// CUDA GPU number `N` (`cuda` is GPU 0).
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let text = text.trim().to_ascii_lowercase();
        match text.as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            _ => text
                .strip_prefix("cuda:")
                .and_then(|ordinal| ordinal.parse::<usize>().ok())
                .map(Self::Cuda)
                .ok_or_else(|| format!("'{text}' is not a device: cpu, cuda or cuda:N")),
        }
    }
}

impl TryFrom<String> for DeviceSpec {
    type Error = String;

    fn try_from(text: String) -> std::result::Result<Self, String> {
        text.parse()
    }
}

impl From<DeviceSpec> for String {
    fn from(spec: DeviceSpec) -> Self {
        spec.to_string()
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::Cuda(ordinal) => write!(f, "cuda:{ordinal}"),
        }
    }
}

/// Whether this build has candle's CUDA backend (cargo feature `cuda`).
pub const CUDA_COMPILED_IN: bool = cfg!(feature = "cuda");

impl DeviceSpec {
    /// Opens the device: the CPU always; a GPU only in a build with the `cuda` feature
    /// on a machine with that GPU and its driver.
    pub fn open(self) -> Result<Device> {
        let Self::Cuda(ordinal) = self else {
            return Ok(Device::Cpu);
        };
        if !CUDA_COMPILED_IN {
            return Err(NnError::Device(format!(
                "{self}: this dnalm was built without CUDA; build it with \
                 `bash scripts/build_cuda.sh` (cargo's `--features cuda`) on any machine, \
                 then run it where a GPU is"
            )));
        }
        // cudarc panics on some failures (a driver library it cannot load, when it
        // loads them at run time): quietly turn a panic into an error.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let opened = std::panic::catch_unwind(|| Device::new_cuda(ordinal));
        std::panic::set_hook(hook);
        let why = match opened {
            Ok(Ok(device)) => return Ok(device),
            // candle appends a backtrace when RUST_BACKTRACE is set: the first line says it.
            Ok(Err(err)) => err
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
            Err(panic) => panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the CUDA driver could not be loaded".into()),
        };
        Err(NnError::Device(format!(
            "{self}: no usable CUDA GPU {ordinal} ({why})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_read_and_written_back() {
        for (text, spec) in [
            ("cpu", DeviceSpec::Cpu),
            ("CPU", DeviceSpec::Cpu),
            ("cuda", DeviceSpec::Cuda(0)),
            ("cuda:3", DeviceSpec::Cuda(3)),
        ] {
            assert_eq!(text.parse::<DeviceSpec>().unwrap(), spec, "{text}");
            assert_eq!(spec.to_string().parse::<DeviceSpec>().unwrap(), spec);
        }
        for bad in ["", "tpu", "cuda:", "cuda:x", "cuda:-1", "metal"] {
            let err = bad.parse::<DeviceSpec>().unwrap_err();
            assert!(err.contains("cpu, cuda or cuda:N"), "{bad}: {err}");
        }
        let json: DeviceSpec = serde_json::from_str("\"cuda:1\"").unwrap();
        assert_eq!(json, DeviceSpec::Cuda(1));
        assert_eq!(serde_json::to_string(&json).unwrap(), "\"cuda:1\"");
        assert!(serde_json::from_str::<DeviceSpec>("\"gpu7\"").is_err());
    }

    #[test]
    fn the_cpu_opens_and_a_gpu_says_what_is_missing() {
        assert!(DeviceSpec::Cpu.open().unwrap().is_cpu());
        if !CUDA_COMPILED_IN {
            let err = DeviceSpec::Cuda(0).open().unwrap_err().to_string();
            assert!(err.contains("built without CUDA"), "{err}");
            assert!(err.contains("scripts/build_cuda.sh"), "{err}");
        }
    }
}
