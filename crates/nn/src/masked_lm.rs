//! A masked language model over a fixed tokenizer (the BERT-style baselines MxDNA is
//! compared with): [`Encoder`] + [`MlmHead`], trained by hiding tokens and predicting
//! them. Overlapping k-mer tokenizers hide runs of k tokens (DNABERT), others single
//! tokens ([`dnalm_tokenize::Tokenizer::masking_span`]).
//!
//! Training examples are rows of a fixed width: `[CLS] tokens [SEP]` then `[PAD]`s.
//! Masking is drawn per batch from the seed the training loop passes, so a resumed
//! run hides the same tokens.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var, D};
use dnalm_seq::masking::{mask_spans, MaskingConfig, IGNORE_INDEX};
use dnalm_tokenize::{special, Tokenizer};
use dnalm_train::checkpoint::RunDir;
use dnalm_train::trainer::Trainable;
use serde::{Deserialize, Serialize};

use crate::encoder::{Encoder, EncoderConfig};
use crate::heads::MlmHead;
use crate::loss::masked_cross_entropy;
use crate::params::ParamStore;
use crate::run_files::{read_run, write_run};

/// What `config.json` of a masked-LM run holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum MaskedLmConfig {
    /// The BERT-style encoder.
    Bert(EncoderConfig),
}

/// Encoder, head and tokenizer.
pub struct MaskedLm {
    config: EncoderConfig,
    params: ParamStore,
    encoder: Encoder,
    head: MlmHead,
    tokenizer: Box<dyn Tokenizer>,
    masking: MaskingConfig,
}

/// Right-padded rows of token ids as a batch: ids `(B, T)` and each row's real length.
pub fn row_lengths(rows: &Tensor) -> candle_core::Result<Vec<usize>> {
    let rows: Vec<Vec<u32>> = rows.to_vec2()?;
    rows.iter()
        .map(|row| {
            let length = row.iter().take_while(|&&id| id != special::PAD).count();
            if length == 0 {
                candle_core::bail!("a batch row is all padding");
            }
            Ok(length)
        })
        .collect()
}

impl MaskedLm {
    /// A freshly initialised model (the encoder's vocabulary is the tokenizer's).
    pub fn new(
        mut config: EncoderConfig,
        tokenizer: Box<dyn Tokenizer>,
        seed: u64,
        device: &Device,
    ) -> candle_core::Result<Self> {
        config.vocab_size = tokenizer.vocab_size();
        let mut params = ParamStore::new(seed, device);
        let encoder = Encoder::new(config, &mut params)?;
        let head = MlmHead::new(
            &mut params,
            config.d_model,
            config.vocab_size,
            config.norm_eps,
        )?;
        Ok(Self {
            config,
            params,
            encoder,
            head,
            tokenizer,
            masking: MaskingConfig::default(),
        })
    }

    /// Loads a run folder written by [`MaskedLm::save_run`] (and trained).
    pub fn load(run: &Path, device: &Device) -> Result<Self, String> {
        let (MaskedLmConfig::Bert(config), tokenizer, weights) = read_run(run, device)?;
        let model = Self::new(config, tokenizer, 0, device).map_err(|err| err.to_string())?;
        model
            .load_weights(&weights)
            .map_err(|err| format!("{}: {err}", run.join("model.safetensors").display()))?;
        Ok(model)
    }

    /// Writes a new run folder's `config.json`, `tokenizer.json` and initial weights.
    pub fn save_run(&self, run: &RunDir) -> Result<(), String> {
        write_run(
            run,
            &MaskedLmConfig::Bert(self.config),
            self.tokenizer.as_ref(),
            &self.weights(),
        )
    }

    /// The encoder.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    /// Number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        self.params.count()
    }

    /// Training rows for `sequences`: each `[CLS] tokens [SEP]` padded to `width`
    /// tokens (longer encodings are cut to `width - 1` tokens and closed by `[SEP]`),
    /// concatenated.
    pub fn rows<'a>(&self, sequences: impl Iterator<Item = &'a [u8]>, width: usize) -> Vec<u32> {
        let mut flat = Vec::new();
        for seq in sequences {
            let mut ids = self.tokenizer.encode_with_special(seq).ids;
            if ids.len() > width {
                ids.truncate(width - 1);
                ids.push(special::SEP);
            }
            ids.resize(width, special::PAD);
            flat.extend(ids);
        }
        flat
    }

    /// The hidden-token vocabulary range (everything after the special tokens).
    fn ordinary(&self) -> std::ops::Range<u32> {
        special::COUNT..self.config.vocab_size as u32
    }

    /// Masked-LM loss of rows `(B, T)` with masking drawn from `seed`.
    fn masked_loss(&self, rows: &Tensor, seed: u64) -> candle_core::Result<(Tensor, f64)> {
        let (batch, width) = rows.dims2()?;
        let lengths = row_lengths(rows)?;
        let ids: Vec<u32> = rows.flatten_all()?.to_vec1()?;
        let span = self.tokenizer.masking_span();
        let mut inputs = Vec::with_capacity(ids.len());
        let mut targets = Vec::with_capacity(ids.len());
        let mut weights = Vec::with_capacity(ids.len());
        for (b, row) in ids.chunks_exact(width).enumerate() {
            let mut rng =
                dnalm_seq::seeded_rng(seed ^ (b as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            let masked = mask_spans(
                row,
                self.ordinary(),
                special::MASK,
                &self.masking,
                span,
                &mut rng,
            );
            inputs.extend(masked.input_ids);
            for label in masked.labels {
                let hidden = label != IGNORE_INDEX;
                targets.push(if hidden { label as u32 } else { 0 });
                weights.push(if hidden { 1f32 } else { 0.0 });
            }
        }
        let device = rows.device();
        let inputs = Tensor::from_vec(inputs, (batch, width), device)?;
        let hidden = self.encoder.forward(&inputs, &lengths)?;
        let logits = self.head.forward(&hidden)?;
        let vocab = logits.dim(D::Minus1)?;
        masked_cross_entropy(
            &logits.reshape((batch * width, vocab))?,
            &Tensor::from_vec(targets, batch * width, device)?,
            &Tensor::from_vec(weights, batch * width, device)?,
        )
    }

    /// Mean masked-LM loss over rows (fixed masking seed), for evaluation.
    pub fn evaluate(
        &self,
        rows: &[u32],
        width: usize,
        batch_size: usize,
    ) -> candle_core::Result<f64> {
        let device = self.params.device();
        let (mut total, mut count) = (0.0, 0.0);
        for (i, chunk) in rows.chunks(width * batch_size).enumerate() {
            let batch = Tensor::from_vec(chunk.to_vec(), (chunk.len() / width, width), device)?;
            let (loss, n) = self.masked_loss(&batch, i as u64)?;
            total += loss.to_dtype(DType::F64)?.to_scalar::<f64>()? * n;
            count += n;
        }
        Ok(total / count.max(1.0))
    }
}

impl Trainable for MaskedLm {
    fn named_vars(&self) -> Vec<(String, Var)> {
        self.params.named_vars()
    }

    fn weights(&self) -> HashMap<String, Tensor> {
        self.params.tensors()
    }

    fn load_weights(&self, weights: &HashMap<String, Tensor>) -> candle_core::Result<()> {
        self.params.load(weights)
    }

    fn window_loss(&self, rows: &Tensor, seed: u64) -> candle_core::Result<(Tensor, f64)> {
        self.masked_loss(rows, seed)
    }
}

#[cfg(test)]
mod tests {
    use dnalm_tokenize::{KmerTokenizer, NucleotideTokenizer};

    use super::*;

    fn tiny(tokenizer: Box<dyn Tokenizer>) -> MaskedLm {
        let config = EncoderConfig {
            vocab_size: 0,
            d_model: 16,
            num_layers: 1,
            num_heads: 2,
            ffn_dim: 32,
            rope_theta: 10000.0,
            norm_eps: 1e-5,
        };
        MaskedLm::new(config, tokenizer, 1, &Device::Cpu).unwrap()
    }

    #[test]
    fn rows_are_wrapped_padded_and_cut() {
        let model = tiny(Box::new(NucleotideTokenizer));
        let rows = model.rows([&b"ACG"[..], b"ACGTACGT"].into_iter(), 6);
        assert_eq!(rows, vec![2, 5, 6, 7, 3, 0, 2, 5, 6, 7, 8, 3]);
    }

    #[test]
    fn masking_follows_the_seed_and_learning_lowers_the_loss() {
        let model = tiny(Box::new(KmerTokenizer::new(3, true).unwrap()));
        let sequence = b"ACGTTGCAACGTAGGCTTACGATCGATCGGATCCATGCATGCAAGT".repeat(2);
        let rows = model.rows(std::iter::repeat_n(&sequence[..], 4), 96);
        let batch = Tensor::from_vec(rows.clone(), (4, 96), &Device::Cpu).unwrap();
        let loss = |seed| {
            model
                .window_loss(&batch, seed)
                .unwrap()
                .0
                .to_scalar::<f32>()
                .unwrap()
        };
        assert_eq!(loss(5), loss(5));
        assert_ne!(loss(5), loss(6));
        let before = model.evaluate(&rows, 96, 4).unwrap();
        let mut optimizer = dnalm_train::optimizer::AdamW::new(
            model.named_vars(),
            dnalm_train::optimizer::AdamWConfig::default(),
        )
        .unwrap();
        for step in 0..30 {
            let (loss, _) = model.window_loss(&batch, step).unwrap();
            optimizer.step(&loss.backward().unwrap(), 3e-3).unwrap();
        }
        let after = model.evaluate(&rows, 96, 4).unwrap();
        assert!(after < before - 0.5, "masked-LM loss {before} -> {after}");
    }
}
