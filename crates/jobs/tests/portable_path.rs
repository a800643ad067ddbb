//! The portable path (each fused op as candle's own differentiable ops: what a CUDA
//! device runs) against the fused CPU kernels, on every model that pretrains: one batch
//! of real windows (the shipped chr20 sample), the same weights, the loss and every
//! parameter's gradient.

use std::path::PathBuf;

use candle_core::{Device, Tensor};
use dnalm_models::presets::{
    encoder_config, lm_config, mxdna_config, MxdnaPreset, Network, Preset,
};
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_nn::kernels::PortableOps;
use dnalm_nn::masked_lm::MaskedLm;
use dnalm_nn::pretraining_rows::PretrainingRows;
use dnalm_nn::token_lm::TokenLm;
use dnalm_run::Trainable;
use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_seq::SeqRecord;
use dnalm_train::windows::WindowDataset;

/// Windows per batch.
const BATCH: usize = 4;

fn chr20_sample() -> Vec<SeqRecord> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/chr20_200kb.fa.gz");
    read_all(&path, &SourceOptions::default()).unwrap()
}

/// The loss and each trainable parameter's gradient by name (`None` for a parameter
/// the batch did not reach, such as an MxDNA expert no unit chose).
type Gradients = Vec<(String, Option<Vec<f32>>)>;

fn loss_and_gradients(model: &dyn Trainable, windows: &Tensor) -> (f32, Gradients) {
    let (loss, _) = model.window_loss(windows, 11).unwrap();
    let gradients = loss.backward().unwrap();
    let named = model
        .named_vars()
        .into_iter()
        .map(|(name, var)| {
            let gradient = gradients
                .get(var.as_tensor())
                .map(|g| g.flatten_all().unwrap().to_vec1().unwrap());
            (name, gradient)
        })
        .collect();
    (loss.to_scalar().unwrap(), named)
}

/// Asserts that the portable path gives the fused path's loss (to 1e-5, relative) and
/// gradients (each within 1e-3 of the tensor's largest gradient, plus 1e-6).
fn assert_paths_agree(model: &dyn Trainable, windows: &Tensor, what: &str) {
    let (fused_loss, fused) = loss_and_gradients(model, windows);
    let (portable_loss, portable) = {
        let _portable = PortableOps::on();
        loss_and_gradients(model, windows)
    };
    assert!(
        fused_loss.is_finite() && fused_loss > 0.0,
        "{what}: loss {fused_loss}"
    );
    assert!(
        (fused_loss - portable_loss).abs() <= 1e-5 * fused_loss,
        "{what}: loss {fused_loss} fused, {portable_loss} portable"
    );
    let mut compared = 0;
    for ((name, a), (_, b)) in fused.iter().zip(&portable) {
        let (a, b) = match (a, b) {
            (Some(a), Some(b)) => (a, b),
            (None, None) => continue,
            _ => panic!("{what}: {name} has a gradient on one path only"),
        };
        let scale = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(
            worst <= 1e-3 * scale + 1e-6,
            "{what}: {name}: gradients differ by {worst} (largest {scale})"
        );
        compared += a.len();
    }
    let parameters: usize = model.named_vars().iter().map(|(_, v)| v.elem_count()).sum();
    assert!(
        compared * 2 > parameters,
        "{what}: {compared} of {parameters} compared"
    );
}

fn batch_of(ids: Vec<u32>, width: usize) -> Tensor {
    WindowDataset::new(ids, width)
        .batch(0, BATCH, 3, &Device::Cpu)
        .unwrap()
}

#[test]
fn autoregressive_models_agree_on_both_paths() {
    let records = chr20_sample();
    for network in [Network::Lstm, Network::Gpt] {
        let tokenizer = dnalm_tokenize::by_name("nucleotide").unwrap();
        let config = lm_config(network, Preset::Tiny, tokenizer.vocab_size());
        let model = TokenLm::new(config, tokenizer, 5, &Device::Cpu).unwrap();
        let stream = model.token_stream(records.iter().map(|r| r.seq.as_slice()));
        assert_paths_agree(&model, &batch_of(stream, 97), &format!("{network:?}"));
    }
}

#[test]
fn masked_encoders_agree_on_both_paths() {
    let records = chr20_sample();
    let tokenizer = dnalm_tokenize::by_name("nucleotide").unwrap();
    let bert = MaskedLm::new(encoder_config(Preset::Tiny), tokenizer, 5, &Device::Cpu).unwrap();
    let rows = PretrainingRows::from_genome(&records, 126, 0.0, bert.tokenizer(), 128).unwrap();
    assert_paths_agree(&bert, &batch_of(rows.train.ids, rows.train.width), "BERT");

    let mxdna = MxDnaLm::new(mxdna_config(MxdnaPreset::Tiny), 5, &Device::Cpu).unwrap();
    let rows = PretrainingRows::from_genome(&records, 254, 0.0, mxdna.tokenizer(), 256).unwrap();
    assert_paths_agree(&mxdna, &batch_of(rows.train.ids, rows.train.width), "MxDNA");
}
