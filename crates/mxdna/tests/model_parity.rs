//! The whole MxDNA masked-LM network against the reference PyTorch model (fixture made
//! by `tests/data/make_parity_fixture.py` from the reference's own code, with flash-attn
//! replaced by plain attention): the same weights, under the same names, give the same
//! basic units exactly and the same logits within 1e-4, with the fused CPU kernels and
//! on the portable path (candle's own ops) on the device `DNALM_TEST_DEVICE` names
//! (the CPU unless set; scripts/gpu_check.sh sets `cuda` in a CUDA build).

use std::sync::Arc;

use candle_core::{Device, Tensor};
use dnalm_mxdna::config::{MxDnaConfig, MxDnaPreset};
use dnalm_mxdna::model::MxDna;
use dnalm_nn::device::DeviceSpec;
use dnalm_nn::kernels::PortableOps;
use dnalm_nn::params::ParamStore;

fn fixture(name: &str, device: &Device) -> std::collections::HashMap<String, Tensor> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    candle_core::safetensors::load(path, device).unwrap()
}

fn ints(tensor: &Tensor) -> Vec<i64> {
    tensor.flatten_all().unwrap().to_vec1().unwrap()
}

#[test]
fn same_units_and_logits_as_the_reference() {
    check_against_the_reference(&Device::Cpu);
}

#[test]
fn same_units_and_logits_on_the_portable_path_and_the_test_device() {
    let device: DeviceSpec = std::env::var("DNALM_TEST_DEVICE")
        .unwrap_or_else(|_| "cpu".into())
        .parse()
        .unwrap();
    let _portable = PortableOps::on();
    check_against_the_reference(&device.open().unwrap());
}

fn check_against_the_reference(device: &Device) {
    let config = MxDnaConfig {
        hidden_size: 32,
        num_attention_heads: 2,
        intermediate_size: 64,
        num_hidden_layers: 4,
        conversion_layer_idx: 1,
        expert_kernel_sizes: vec![1, 2, 3, 4, 5, 6],
        ..MxDnaConfig::preset(MxDnaPreset::Tiny)
    };
    let mut params = ParamStore::new(0, device);
    let model = MxDna::new(config, &mut params).unwrap();
    params
        .load(&fixture("mxdna_parity_weights.safetensors", device))
        .unwrap();

    let io = fixture("mxdna_parity_io.safetensors", device);
    let ids = io["input_ids"].to_dtype(candle_core::DType::U32).unwrap();
    let (batch, steps) = ids.dims2().unwrap();
    let lengths: Vec<usize> = ints(&io["lengths"])
        .into_iter()
        .map(|l| l as usize)
        .collect();
    let flat: Vec<u32> = ids.flatten_all().unwrap().to_vec1().unwrap();
    let special: Vec<bool> = flat.iter().map(|&id| id == 2 || id == 3).collect();
    let encoded = model
        .encoder()
        .encode(&ids, &lengths, &special, None)
        .unwrap();

    let units = &encoded.tokenized.units;
    let centre: Vec<i64> = units.centre.iter().map(|&c| i64::from(c)).collect();
    let cover: Vec<i64> = units.cover.iter().map(|&c| i64::from(c)).collect();
    assert_eq!(centre, ints(&io["centre"]), "unit centres");
    assert_eq!(cover, ints(&io["cover"]), "unit coverage");
    let token_lengths: Vec<i64> = encoded
        .tokenized
        .token_lengths
        .iter()
        .map(|&l| l as i64)
        .collect();
    assert_eq!(token_lengths, ints(&io["token_lengths"]));

    // Logits at every real position.
    let rows: Vec<u32> = (0..batch)
        .flat_map(|b| (0..lengths[b]).map(move |p| (b * steps + p) as u32))
        .collect();
    let ours: Vec<Vec<f32>> = model
        .logits_at(&encoded, &Arc::new(rows.clone()))
        .unwrap()
        .to_vec2()
        .unwrap();
    let reference: Vec<Vec<Vec<f32>>> = io["logits"].to_vec3().unwrap();
    let mut worst = 0f32;
    for (row, &r) in ours.iter().zip(&rows) {
        let (b, p) = (r as usize / steps, r as usize % steps);
        for (x, y) in row.iter().zip(&reference[b][p]) {
            worst = worst.max((x - y).abs());
        }
    }
    eprintln!("{device:?}: largest logit difference from the reference: {worst:e}");
    assert!(worst < 1e-4, "largest logit difference {worst}");
}
