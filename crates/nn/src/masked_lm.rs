//! A masked language model over a fixed tokenizer (the BERT-style baselines MxDNA is
//! compared with): [`Encoder`] + [`MlmHead`], trained by hiding tokens and predicting
//! them. Overlapping k-mer tokenizers hide runs of k tokens (DNABERT), others single
//! tokens ([`dnalm_tokenize::Tokenizer::masking_span`]).
//!
//! Training examples are [`crate::token_rows::TokenRows`]: `[CLS] tokens [SEP]` then
//! `[PAD]`s.
//! Masking is drawn per batch from the seed the training loop passes, so a resumed
//! run hides the same tokens.

use std::path::Path;

use candle_core::{DType, Device, Tensor, D};
use dnalm_lm::{ScoreError, ScoreKind, SequenceModel, SequenceScore};
use dnalm_run::RunDir;
use dnalm_run::{Parameters, Trainable};
use dnalm_seq::masking::{mask_spans, MaskingConfig, IGNORE_INDEX};
use dnalm_tokenize::{special, Tokenizer};
use serde::{Deserialize, Serialize};

use crate::embedding::{EmbedOptions, SequenceEmbedder};
use crate::encoder::{Encoder, EncoderConfig};
use crate::heads::MlmHead;
use crate::loss::masked_cross_entropy;
use crate::masked_scoring::{
    flat_positions, padded_batch, pseudo_log_likelihood, split_rows, MaskedPredictor,
    MASKED_ROWS_PER_PASS,
};
use crate::params::ParamStore;
use crate::run_files::{load_run_weights, open_frozen, read_run, write_run};

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
        config: EncoderConfig,
        tokenizer: Box<dyn Tokenizer>,
        seed: u64,
        device: &Device,
    ) -> candle_core::Result<Self> {
        Self::on(config, tokenizer, ParamStore::new(seed, device))
    }

    /// The model on `params` (fresh, or a frozen store of given weights).
    fn on(
        mut config: EncoderConfig,
        tokenizer: Box<dyn Tokenizer>,
        mut params: ParamStore,
    ) -> candle_core::Result<Self> {
        config.vocab_size = tokenizer.vocab_size();
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
    pub fn load(run: &Path, device: &Device) -> crate::Result<Self> {
        let (MaskedLmConfig::Bert(config), tokenizer, weights) = read_run(run, device)?;
        let model = Self::new(config, tokenizer, 0, device)?;
        load_run_weights(&model.params, &weights, run)?;
        Ok(model)
    }

    /// Loads a run folder for inference only (frozen weights, no autograd graph; see
    /// [`open_frozen`]).
    pub fn open_for_inference(run: &Path, device: &Device) -> crate::Result<Self> {
        open_frozen(
            run,
            device,
            |MaskedLmConfig::Bert(config), tokenizer, params| Self::on(config, tokenizer, params),
            |model: &Self| &model.params,
        )
    }

    /// Writes a new run folder's `config.json`, `tokenizer.json` and initial weights.
    pub fn save_run(&self, run: &RunDir) -> crate::Result<()> {
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
        let mut hidden_positions = Vec::new();
        let mut targets = Vec::new();
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
            for (t, label) in masked.labels.into_iter().enumerate() {
                if label != IGNORE_INDEX {
                    hidden_positions.push((b * width + t) as u32);
                    targets.push(label as u32);
                }
            }
        }
        let device = rows.device();
        let inputs = Tensor::from_vec(inputs, (batch, width), device)?;
        let states = self.encoder.forward(&inputs, &lengths)?;
        let count = targets.len();
        if count == 0 {
            // Rows too short for the masking rate to hide anything: nothing to learn.
            return Ok(((states.sum_all()? * 0.0)?, 0.0));
        }
        // The head runs on the hidden positions only: with a 4k-token vocabulary its
        // logits at every position would cost more than the encoder.
        let picked = states
            .reshape((batch * width, self.config.d_model))?
            .index_select(&Tensor::from_vec(hidden_positions, count, device)?, 0)?;
        let logits = self.head.forward(&picked)?;
        masked_cross_entropy(
            &logits,
            &Tensor::from_vec(targets, count, device)?,
            &Tensor::ones(count, logits.dtype(), device)?,
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
    fn parameters(&self) -> &dyn Parameters {
        &self.params
    }

    fn window_loss(&self, rows: &Tensor, seed: u64) -> candle_core::Result<(Tensor, f64)> {
        self.masked_loss(rows, seed)
    }
}

impl MaskedPredictor for MaskedLm {
    fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    fn masked_log_probs(
        &self,
        rows: &[Vec<u32>],
        positions: &[Vec<usize>],
    ) -> candle_core::Result<Vec<Vec<Vec<f32>>>> {
        let device = self.params.device();
        let (ids, lengths) = padded_batch(rows, device)?;
        let states = self.encoder.forward(&ids, &lengths)?;
        let (batch, width, d) = states.dims3()?;
        let flat = flat_positions(positions, width);
        let count = flat.len();
        let picked = states
            .reshape((batch * width, d))?
            .index_select(&Tensor::from_vec(flat, count, device)?, 0)?;
        let log_probs = candle_nn::ops::log_softmax(&self.head.forward(&picked)?, D::Minus1)?;
        Ok(split_rows(log_probs.to_vec2()?, positions))
    }
}

impl SequenceModel for MaskedLm {
    fn describe(&self) -> String {
        format!(
            "BERT {}x{} ({}, {} parameters)",
            self.config.num_layers,
            self.config.d_model,
            self.tokenizer.describe(),
            self.parameter_count()
        )
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::PseudoLikelihood
    }

    fn score(&self, seq: &[u8]) -> Result<SequenceScore, ScoreError> {
        pseudo_log_likelihood(self, seq, MASKED_ROWS_PER_PASS).map_err(ScoreError::new)
    }
}

impl SequenceEmbedder for MaskedLm {
    fn embedding_dim(&self) -> usize {
        self.encoder.config().d_model
    }

    fn embed_batch(&self, sequences: &[&[u8]], options: &EmbedOptions) -> crate::Result<Tensor> {
        self.encoder
            .embed_sequences(self.tokenizer.as_ref(), sequences, options)
    }
}

#[cfg(test)]
mod tests {
    use dnalm_tokenize::KmerTokenizer;

    use super::*;
    use crate::masked_scoring::{masked_marginal, masked_marginals};
    use crate::token_rows::TokenRows;

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
    fn masked_marginal_is_antisymmetric_masks_every_changed_kmer_and_scores_indels() {
        let model = tiny(Box::new(KmerTokenizer::new(3, true).unwrap()));
        let reference = b"ACGTTGCAACGTAGGCTTACG".to_vec();
        let mut alternate = reference.clone();
        alternate[10] = b'T';
        let forward = masked_marginal(&model, &reference, &alternate).unwrap();
        let backward = masked_marginal(&model, &alternate, &reference).unwrap();
        // Every changed 3-mer (three of them) is masked, so the context is the same both
        // ways and the scores are exact negatives; one left unmasked would break this.
        assert!(forward != 0.0);
        assert!((forward + backward).abs() < 1e-6, "{forward} vs {backward}");
        assert_eq!(
            masked_marginal(&model, &reference, &reference).unwrap(),
            0.0
        );
        // A deletion: each allele is scored on its own tokens around the change, so the
        // score is finite and the two directions still mirror each other.
        let mut deleted = reference.clone();
        deleted.remove(10);
        let loss = masked_marginal(&model, &reference, &deleted).unwrap();
        let gain = masked_marginal(&model, &deleted, &reference).unwrap();
        assert!(
            loss.is_finite() && (loss + gain).abs() < 1e-6,
            "{loss} vs {gain}"
        );
    }

    #[test]
    fn masking_follows_the_seed_and_learning_lowers_the_loss() {
        let model = tiny(Box::new(KmerTokenizer::new(3, true).unwrap()));
        let sequence = b"ACGTTGCAACGTAGGCTTACGATCGATCGGATCCATGCATGCAAGT".repeat(2);
        let TokenRows { ids: rows, width } =
            TokenRows::encode(model.tokenizer(), std::iter::repeat_n(&sequence[..], 4), 96);
        let batch = Tensor::from_vec(rows.clone(), (4, width), &Device::Cpu).unwrap();
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
        let before = model.evaluate(&rows, width, 4).unwrap();
        dnalm_train::trainer::fit_one_batch(&model, &batch, 30, 3e-3).unwrap();
        let after = model.evaluate(&rows, width, 4).unwrap();
        assert!(after < before - 0.5, "masked-LM loss {before} -> {after}");
    }

    #[test]
    fn batched_masked_marginals_equal_one_at_a_time() {
        let model = tiny(Box::new(KmerTokenizer::new(3, true).unwrap()));
        let reference = b"ACGTTGCAACGTAGGCTTACG".to_vec();
        let mut substitution = reference.clone();
        substitution[10] = b'T';
        let mut deletion = reference.clone();
        deletion.remove(4);
        let mut insertion = reference.clone();
        insertion.insert(15, b'G');
        let short = b"GATTACA".to_vec();
        let mut short_alt = short.clone();
        short_alt[3] = b'C';
        let variants: Vec<(&[u8], &[u8])> = vec![
            (&reference, &substitution),
            (&reference, &deletion),
            (&reference, &reference),
            (&insertion, &reference),
            (&short, &short_alt),
        ];
        for rows_per_pass in [1, 3, 32] {
            let batched = masked_marginals(&model, &variants, rows_per_pass).unwrap();
            for ((r, a), together) in variants.iter().zip(&batched) {
                let alone = masked_marginal(&model, r, a).unwrap();
                assert!(
                    (alone - together).abs() < 1e-5,
                    "{alone} alone, {together} batched"
                );
            }
        }
    }
}
