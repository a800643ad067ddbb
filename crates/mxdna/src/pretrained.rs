//! An MxDNA model as a run folder and a trainable: the network with its parameters and
//! the single-nucleotide tokenizer (MxDNA's vocabulary of 9), masked-LM training through
//! the shared loop, held-out evaluation, and the learnt tokens of any sequence.
//!
//! `config.json` is the [`MxDnaConfig`] with `"model": "mxdna"`.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use dnalm_nn::params::ParamStore;
use dnalm_nn::run_files::{read_run, write_run};
use dnalm_nn::token_rows::TokenRows;
use dnalm_run::RunDir;
use dnalm_run::{Parameters, Trainable};
use dnalm_tokenize::{special, NucleotideTokenizer, Tokenizer};
use serde::{Deserialize, Serialize};

use crate::config::MxDnaConfig;
use crate::model::MxDna;

/// What `config.json` of an MxDNA run holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum MxDnaRunConfig {
    /// The MxDNA network.
    Mxdna(MxDnaConfig),
}

/// One learnt token of a sequence, in sequence coordinates (0 = first nucleotide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LearntToken {
    /// First nucleotide of the unit.
    pub start: usize,
    /// One past its last nucleotide.
    pub end: usize,
    /// The expert that made it (its unit length is the expert's kernel size).
    pub expert: usize,
}

/// A sequence's learnt tokens and the nucleotides no unit covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LearntTokens {
    /// Units in order.
    pub tokens: Vec<LearntToken>,
    /// Nucleotides left outside every unit.
    pub uncovered: usize,
}

/// The network, its parameters and tokenizer.
pub struct MxDnaLm {
    params: ParamStore,
    network: MxDna,
    tokenizer: NucleotideTokenizer,
}

impl MxDnaLm {
    /// A freshly initialised model drawn from `seed`.
    pub fn new(config: MxDnaConfig, seed: u64, device: &Device) -> candle_core::Result<Self> {
        if config.vocab_size != NucleotideTokenizer.vocab_size() {
            candle_core::bail!(
                "MxDNA reads single nucleotides: vocab_size must be {}, not {}",
                NucleotideTokenizer.vocab_size(),
                config.vocab_size
            );
        }
        let mut params = ParamStore::new(seed, device);
        let network = MxDna::new(config, &mut params)?;
        Ok(Self {
            params,
            network,
            tokenizer: NucleotideTokenizer,
        })
    }

    /// Loads a run folder written by [`MxDnaLm::save_run`] (and trained).
    pub fn load(run: &Path, device: &Device) -> Result<Self, String> {
        let (MxDnaRunConfig::Mxdna(config), _tokenizer, weights) = read_run(run, device)?;
        let model = Self::new(config, 0, device).map_err(|err| err.to_string())?;
        model
            .params
            .load(&weights)
            .map_err(|err| format!("{}: {err}", run.join("model.safetensors").display()))?;
        Ok(model)
    }

    /// Writes a new run folder's `config.json`, `tokenizer.json` and initial weights.
    pub fn save_run(&self, run: &RunDir) -> Result<(), String> {
        let config = MxDnaRunConfig::Mxdna(self.network.config().clone());
        write_run(run, &config, &self.tokenizer, &self.weights())
    }

    /// The network.
    pub fn network(&self) -> &MxDna {
        &self.network
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &dyn Tokenizer {
        &self.tokenizer
    }

    /// Number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        self.params.count()
    }

    /// Mean masked-LM cross-entropy over rows (fixed masking seeds, no router noise).
    pub fn evaluate(
        &self,
        rows: &[u32],
        width: usize,
        batch_size: usize,
    ) -> candle_core::Result<f64> {
        let device = self.params.device();
        let (mut total, mut count) = (0.0, 0usize);
        for (i, chunk) in rows.chunks(width * batch_size.max(1)).enumerate() {
            let batch = Tensor::from_vec(chunk.to_vec(), (chunk.len() / width, width), device)?;
            let loss = self.network.masked_lm_loss(&batch, i as u64, false)?;
            total += loss.cross_entropy * loss.hidden as f64;
            count += loss.hidden;
        }
        Ok(total / count.max(1) as f64)
    }

    /// The learnt tokens of each sequence (no masking, no router noise).
    pub fn learnt_tokens(
        &self,
        sequences: &[&[u8]],
        max_width: usize,
    ) -> candle_core::Result<Vec<LearntTokens>> {
        let TokenRows { ids, width } =
            TokenRows::encode(&self.tokenizer, sequences.iter().copied(), max_width);
        let device = self.params.device();
        let lengths: Vec<usize> = ids
            .chunks_exact(width)
            .map(|row| row.iter().take_while(|&&id| id != special::PAD).count())
            .collect();
        let special_flags: Vec<bool> = ids
            .iter()
            .map(|&id| id == special::CLS || id == special::SEP)
            .collect();
        let batch = Tensor::from_vec(ids, (sequences.len(), width), device)?;
        let encoded = self
            .network
            .encoder()
            .encode(&batch, &lengths, &special_flags, None)?;
        let units = &encoded.tokenized.units;
        let kernels = &self.network.config().expert_kernel_sizes;
        Ok(lengths
            .iter()
            .enumerate()
            .map(|(b, &length)| {
                let row = b * width;
                let tokens: Vec<LearntToken> = (1..length.saturating_sub(1))
                    .filter(|&p| units.centre[row + p] >= 0)
                    .map(|p| {
                        let expert = units.centre[row + p] as usize;
                        let k = kernels[expert];
                        // Row position p is nucleotide p - 1 (after [CLS]).
                        let start = p - k / 2 - 1;
                        LearntToken {
                            start,
                            end: start + k,
                            expert,
                        }
                    })
                    .collect();
                let covered: usize = tokens.iter().map(|t| t.end - t.start).sum();
                LearntTokens {
                    uncovered: length.saturating_sub(2) - covered,
                    tokens,
                }
            })
            .collect())
    }
}

impl Trainable for MxDnaLm {
    fn parameters(&self) -> &dyn Parameters {
        &self.params
    }

    fn window_loss(&self, rows: &Tensor, seed: u64) -> candle_core::Result<(Tensor, f64)> {
        let loss = self.network.masked_lm_loss(rows, seed, true)?;
        Ok((loss.total.to_dtype(DType::F32)?, loss.hidden as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MxDnaPreset;

    #[test]
    fn runs_save_and_load_and_tokens_tile_the_sequence() {
        let mut config = MxDnaConfig::preset(MxDnaPreset::Tiny);
        config.hidden_size = 16;
        config.intermediate_size = 32;
        let model = MxDnaLm::new(config, 4, &Device::Cpu).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        model.save_run(&run).unwrap();
        let loaded = MxDnaLm::load(dir.path(), &Device::Cpu).unwrap();
        let sequences: [&[u8]; 2] = [b"ACGTTGCAACGTAGGCTTACGATCGATCGGATCC", b"GATTACAGATTACA"];
        let tokens = model.learnt_tokens(&sequences, 512).unwrap();
        assert_eq!(tokens, loaded.learnt_tokens(&sequences, 512).unwrap());
        for (seq, learnt) in sequences.iter().zip(&tokens) {
            let mut covered = vec![false; seq.len()];
            for token in &learnt.tokens {
                assert!(token.end <= seq.len() && token.start < token.end);
                for c in &mut covered[token.start..token.end] {
                    assert!(!*c, "units overlap");
                    *c = true;
                }
            }
            assert_eq!(covered.iter().filter(|&&c| !c).count(), learnt.uncovered);
            assert!(learnt.tokens.windows(2).all(|w| w[0].end <= w[1].start));
        }
        let err = MxDnaLm::new(
            MxDnaConfig {
                vocab_size: 12,
                ..MxDnaConfig::preset(MxDnaPreset::Tiny)
            },
            0,
            &Device::Cpu,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("vocab_size"));
    }
}
