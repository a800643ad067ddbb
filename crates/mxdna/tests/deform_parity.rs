//! Our deformable sampling times the regular weight against torchvision's
//! `deform_conv2d` in MxDNA's 1-D layout (fixture made by
//! `tests/data/make_deform_fixture.py`).

use candle_core::{Device, Tensor};
use dnalm_mxdna::deform_sample_op::deform_sample;

#[test]
fn matches_torchvision_deform_conv2d() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/deform_conv_torchvision.safetensors"
    );
    let fixture = candle_core::safetensors::load(path, &Device::Cpu).unwrap();
    let (x, offsets, modulation) = (&fixture["x"], &fixture["offsets"], &fixture["modulation"]);
    let weight = &fixture["weight"];
    let (batch, steps, channels) = x.dims3().unwrap();
    let (outputs, _, taps, _) = weight.dims4().unwrap();
    let sampled = deform_sample(x, offsets, modulation)
        .unwrap()
        .reshape((batch * steps, taps * channels))
        .unwrap();
    // (C_out, C, K, 1) -> (K * C, C_out), tap-major like the sampled rows.
    let matrix = weight
        .reshape((outputs, channels, taps))
        .unwrap()
        .permute((2, 1, 0))
        .unwrap()
        .reshape((taps * channels, outputs))
        .unwrap();
    let ours: Tensor = sampled
        .matmul(&matrix)
        .unwrap()
        .reshape((batch, steps, outputs))
        .unwrap();
    let difference: f64 = (ours - &fixture["out"])
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(difference < 1e-12, "largest difference {difference}");
}
