//! An MxDNA model as a run folder and a trainable: the network with its parameters and
//! the single-nucleotide tokenizer (MxDNA's vocabulary of 9), masked-LM training through
//! the shared loop, held-out evaluation; and what a pretrained MxDNA offers: its learnt
//! tokens, embeddings, masked log-probabilities at nucleotide resolution through its own
//! LM head (hence masked-marginal variant scores and pseudo-log-likelihoods).
//!
//! `config.json` is the [`MxDnaConfig`] with `"model": "mxdna"`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use std::sync::Arc;

use candle_core::{DType, Device, Tensor, D};
use dnalm_lm::{ScoreError, ScoreKind, SequenceModel, SequenceScore};
use dnalm_nn::embedding::{EmbedOptions, SequenceEmbedder};
use dnalm_nn::masked_scoring::{
    flat_positions, padded_batch, pseudo_log_likelihood, split_rows, MaskedPredictor,
    MASKED_ROWS_PER_PASS,
};
use dnalm_nn::params::ParamStore;
use dnalm_nn::run_files::{load_run_weights, read_run, write_run};
use dnalm_run::{Parameters, RunDir, Trainable};
use dnalm_tokenize::{NucleotideTokenizer, Tokenizer};
use serde::{Deserialize, Serialize};

use crate::config::MxDnaConfig;
use crate::encoder_input::EncoderInput;
use crate::error::MxDnaError;
use crate::learnt_tokens::LearntTokenizer;
use crate::model::{MxDna, MxDnaEncoder};
use crate::reference_checkpoint::{
    check_weights, is_reference_folder, write_reference_folder, ReferenceCheckpoint,
    ReferenceNaming,
};

/// What `config.json` of an MxDNA run holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum MxDnaRunConfig {
    /// The MxDNA network.
    Mxdna(MxDnaConfig),
}

/// A pretrained MxDNA's sizes and weights (dnalm names), from a dnalm run folder or
/// an authors' checkpoint folder.
pub struct PretrainedParts {
    /// The sizes.
    pub config: MxDnaConfig,
    /// The weights by dnalm name.
    pub weights: HashMap<String, Tensor>,
    /// Whether they came from an authors' folder (rather than a dnalm run).
    pub from_authors_folder: bool,
    /// `config.json` fields dnalm does not know (authors' folders only).
    pub unknown_fields: Vec<String>,
    /// Every `config.json` field that is not the model's (authors' folders only).
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}

/// A weights error while building on a frozen store, named against the folder.
fn weights_error(run: &Path, err: MxDnaError) -> MxDnaError {
    match err {
        MxDnaError::Candle(err) => MxDnaError::Checkpoint {
            path: run.to_path_buf(),
            message: err.to_string(),
        },
        other => other,
    }
}

/// Reads a `dnalm train mxdna` run folder or an authors' checkpoint folder.
pub fn read_pretrained(run: &Path, device: &Device) -> crate::Result<PretrainedParts> {
    if is_reference_folder(run) {
        let checkpoint = ReferenceCheckpoint::read(run, device)?;
        return Ok(PretrainedParts {
            config: checkpoint.config,
            weights: checkpoint.weights,
            from_authors_folder: true,
            unknown_fields: checkpoint.unknown_fields,
            other_fields: checkpoint.other_fields,
        });
    }
    let (MxDnaRunConfig::Mxdna(config), _tokenizer, weights) = read_run(run, device)?;
    Ok(PretrainedParts {
        config,
        weights,
        from_authors_folder: false,
        unknown_fields: Vec::new(),
        other_fields: serde_json::Map::new(),
    })
}

/// The network, its parameters and tokenizer.
pub struct MxDnaLm {
    params: ParamStore,
    network: MxDna,
    tokenizer: NucleotideTokenizer,
    unknown_config_fields: Vec<String>,
    other_config_fields: serde_json::Map<String, serde_json::Value>,
}

impl MxDnaLm {
    /// A freshly initialised model drawn from `seed`.
    pub fn new(config: MxDnaConfig, seed: u64, device: &Device) -> crate::Result<Self> {
        Self::build(config, ParamStore::new(seed, device))
    }

    /// The network on `params` (fresh, or a frozen store of given weights).
    fn build(config: MxDnaConfig, mut params: ParamStore) -> crate::Result<Self> {
        if config.vocab_size != NucleotideTokenizer.vocab_size() {
            return Err(MxDnaError::Config(format!(
                "MxDNA reads single nucleotides: vocab_size must be {}, not {}",
                NucleotideTokenizer.vocab_size(),
                config.vocab_size
            )));
        }
        let network = MxDna::new(config, &mut params)?;
        Ok(Self {
            params,
            network,
            tokenizer: NucleotideTokenizer,
            unknown_config_fields: Vec::new(),
            other_config_fields: serde_json::Map::new(),
        })
    }

    /// Loads a run folder written by [`MxDnaLm::save_run`] (and trained).
    /// An authors' checkpoint folder ([`crate::reference_checkpoint`]) loads the same
    /// way; the `config.json` fields it did not know are kept in
    /// [`MxDnaLm::unknown_config_fields`].
    pub fn load(run: &Path, device: &Device) -> crate::Result<Self> {
        let parts = read_pretrained(run, device)?;
        let mut model = Self::new(parts.config, 0, device)?;
        if parts.from_authors_folder {
            check_weights(&parts.weights, &model.parameter_shapes(), run)?;
        }
        load_run_weights(&model.params, &parts.weights, run)?;
        model.unknown_config_fields = parts.unknown_fields;
        model.other_config_fields = parts.other_fields;
        Ok(model)
    }

    /// Loads a run folder or an authors' folder for inference only: the weights become
    /// the parameters as they are (no initial draw, no copy), and forward passes keep no
    /// autograd graph. Such a model cannot be trained.
    pub fn open_for_inference(run: &Path, device: &Device) -> crate::Result<Self> {
        let parts = read_pretrained(run, device)?;
        let mut model = Self::build(parts.config, ParamStore::frozen(parts.weights, device))
            .map_err(|err| weights_error(run, err))?;
        model
            .params
            .finish()
            .map_err(|err| weights_error(run, err.into()))?;
        model.unknown_config_fields = parts.unknown_fields;
        model.other_config_fields = parts.other_fields;
        Ok(model)
    }

    /// The `config.json` fields of an authors' folder that dnalm does not know.
    pub fn unknown_config_fields(&self) -> &[String] {
        &self.unknown_config_fields
    }

    /// Each parameter's name and shape.
    fn parameter_shapes(&self) -> BTreeMap<String, Vec<usize>> {
        self.params
            .tensors()
            .into_iter()
            .map(|(name, tensor)| (name, tensor.dims().to_vec()))
            .collect()
    }

    /// Writes the model as an authors' checkpoint folder (`config.json`,
    /// `model.safetensors`) that the reference PyTorch code loads, its parameters named
    /// as `naming` names them; the `config.json` fields of an authors' folder it was
    /// read from are written back as they were.
    pub fn export(&self, out: &Path, naming: ReferenceNaming) -> crate::Result<()> {
        let named = self
            .weights()
            .into_iter()
            .map(|(name, tensor)| (naming.from_dnalm(&name), tensor))
            .collect();
        write_reference_folder(self.network.config(), &self.other_config_fields, named, out)
    }

    /// Writes a new run folder's `config.json`, `tokenizer.json` and initial weights.
    pub fn save_run(&self, run: &RunDir) -> crate::Result<()> {
        let config = MxDnaRunConfig::Mxdna(self.network.config().clone());
        Ok(write_run(run, &config, &self.tokenizer, &self.weights())?)
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

impl LearntTokenizer for MxDnaLm {
    fn mxdna_encoder(&self) -> &MxDnaEncoder {
        self.network.encoder()
    }
}

impl SequenceEmbedder for MxDnaLm {
    fn embedding_dim(&self) -> usize {
        self.network.config().hidden_size
    }

    fn embed_batch(&self, sequences: &[&[u8]], options: &EmbedOptions) -> dnalm_nn::Result<Tensor> {
        Ok(self.network.encoder().embed_sequences(sequences, options)?)
    }
}

impl MaskedPredictor for MxDnaLm {
    fn tokenizer(&self) -> &dyn Tokenizer {
        &self.tokenizer
    }

    fn masked_log_probs(
        &self,
        rows: &[Vec<u32>],
        positions: &[Vec<usize>],
    ) -> candle_core::Result<Vec<Vec<Vec<f32>>>> {
        let (ids, _) = padded_batch(rows, self.params.device())?;
        let width = ids.dim(1)?;
        let input = EncoderInput::from_rows(&ids)?;
        let encoded =
            self.network
                .encoder()
                .encode(&input.ids, &input.lengths, &input.special, None)?;
        let flat = Arc::new(flat_positions(positions, width));
        let logits = self.network.logits_at(&encoded, &flat)?;
        let log_probs = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
        Ok(split_rows(log_probs.to_vec2()?, positions))
    }
}

impl SequenceModel for MxDnaLm {
    fn describe(&self) -> String {
        let c = self.network.config();
        format!(
            "MxDNA {}+{} layers x {} ({} experts, {} parameters)",
            c.conversion_layer_idx,
            c.token_layers(),
            c.hidden_size,
            c.expert_kernel_sizes.len(),
            self.parameter_count()
        )
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::PseudoLikelihood
    }

    /// The pseudo-log-likelihood at nucleotide resolution (each nucleotide masked in
    /// turn; the learnt tokens are recomputed for every masked copy).
    fn score(&self, seq: &[u8]) -> Result<SequenceScore, ScoreError> {
        pseudo_log_likelihood(self, seq, MASKED_ROWS_PER_PASS).map_err(ScoreError::new)
    }
}

#[cfg(test)]
mod tests {
    use dnalm_tokenize::special;

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

    fn tiny() -> MxDnaLm {
        let mut config = MxDnaConfig::preset(MxDnaPreset::Tiny);
        config.hidden_size = 16;
        config.intermediate_size = 32;
        config.expert_kernel_sizes = vec![1, 2, 3, 4];
        MxDnaLm::new(config, 7, &Device::Cpu).unwrap()
    }

    /// `log p(token)` at position `i` of `row` with `i` masked, one row alone.
    fn masked_at(model: &MxDnaLm, row: &[u32], i: usize, token: u32) -> f64 {
        let mut input = row.to_vec();
        input[i] = special::MASK;
        let rows = model.masked_log_probs(&[input], &[vec![i]]).unwrap();
        f64::from(rows[0][0][token as usize])
    }

    #[test]
    fn pseudo_likelihood_masks_each_nucleotide_and_batches_change_nothing() {
        use dnalm_nn::masked_scoring::pseudo_log_likelihood;
        let model = tiny();
        let seq = b"ACGTTGCAACGTAGGCTTACGATCG";
        let ids = model.tokenizer().encode_with_special(seq).ids;
        let by_hand: f64 = (1..ids.len() - 1)
            .map(|i| masked_at(&model, &ids, i, ids[i]))
            .sum();
        for rows_per_batch in [1, 7, 32] {
            let score = pseudo_log_likelihood(&model, seq, rows_per_batch).unwrap();
            assert_eq!(score.events, seq.len());
            assert!(
                (score.log_prob - by_hand).abs() < 1e-4,
                "{rows_per_batch} rows per batch: {} vs {by_hand}",
                score.log_prob
            );
        }
        assert!((model.score(seq).unwrap().log_prob - by_hand).abs() < 1e-4);
    }

    #[test]
    fn masked_marginal_of_a_substitution_is_the_classic_difference_at_that_nucleotide() {
        use dnalm_nn::masked_scoring::masked_marginal;
        let model = tiny();
        let reference = b"ACGTTGCAACGTAGGCTTACGATCG".to_vec();
        let mut alternate = reference.clone();
        alternate[9] = b'A';
        let ids = model.tokenizer().encode_with_special(&reference).ids;
        let alt_id = model.tokenizer().encode(b"A").ids[0];
        // Nucleotide 9 is row position 10 (after [CLS]).
        let classic = masked_at(&model, &ids, 10, alt_id) - masked_at(&model, &ids, 10, ids[10]);
        let score = masked_marginal(&model, &reference, &alternate).unwrap();
        assert!((score - classic).abs() < 1e-5, "{score} vs {classic}");
        let back = masked_marginal(&model, &alternate, &reference).unwrap();
        assert!((score + back).abs() < 1e-5, "{score} vs {back}");
        let mut deleted = reference.clone();
        deleted.remove(9);
        let loss = masked_marginal(&model, &reference, &deleted).unwrap();
        let gain = masked_marginal(&model, &deleted, &reference).unwrap();
        assert!(
            loss.is_finite() && (loss + gain).abs() < 1e-5,
            "{loss} vs {gain}"
        );
    }

    #[test]
    fn embeddings_pool_the_token_or_nucleotide_states_and_ignore_padding() {
        use dnalm_nn::embedding::{EmbedOptions, EmbeddingStates, SequenceEmbedder};
        use dnalm_nn::heads::Pooling;

        let model = tiny();
        let seq: &[u8] = b"ACGTTGCAACGTAGGCTTACGATCG";
        let input = EncoderInput::from_sequences(&[seq], 64, &Device::Cpu).unwrap();
        let encoded = model
            .network()
            .encoder()
            .encode(&input.ids, &input.lengths, &input.special, None)
            .unwrap();
        let k = encoded.tokenized.token_lengths[0];
        let tokens: Vec<Vec<f32>> = encoded.token_states.get(0).unwrap().to_vec2().unwrap();
        let mean: Vec<f32> = (0..16)
            .map(|j| tokens[..k].iter().map(|row| row[j]).sum::<f32>() / k as f32)
            .collect();
        let options = |pooling, states| EmbedOptions {
            pooling,
            states,
            max_tokens: 64,
        };
        let embedded = model
            .embed_batch(
                &[seq, b"GATTACA"],
                &options(Pooling::Mean, EmbeddingStates::Tokens),
            )
            .unwrap();
        let first: Vec<f32> = embedded.get(0).unwrap().to_vec1().unwrap();
        for (a, b) in first.iter().zip(&mean) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        let cls = model
            .embed_batch(&[seq], &options(Pooling::Cls, EmbeddingStates::Nucleotides))
            .unwrap();
        let expected: Vec<f32> = encoded
            .nucleotide_states
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(cls.get(0).unwrap().to_vec1::<f32>().unwrap(), expected);
    }
}
