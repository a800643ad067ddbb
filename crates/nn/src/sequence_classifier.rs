//! An encoder with a classification (or regression) head, fine-tuned on labelled
//! sequences: [`Encoder`] + [`ClassifierHead`] + the tokenizer. Starts from a
//! pretrained masked-LM run (its encoder weights; the head is new) or from scratch.

use std::path::Path;

use candle_core::{Device, Tensor};
use dnalm_run::{Parameters, RunDir, Trainable};
use dnalm_tokenize::Tokenizer;
use serde::{Deserialize, Serialize};

use crate::embedding::{EmbedOptions, SequenceEmbedder};
use crate::encoder::{Encoder, EncoderConfig};
use crate::error::NnError;
use crate::heads::{ClassifierHead, Pooling};
use crate::masked_lm::{row_lengths, MaskedLmConfig};
use crate::params::ParamStore;
use crate::predictor_run::PredictorConfig;
use crate::run_files::{open_frozen, read_run, write_run};
use crate::supervised::{split_labelled, InputRows, Objective, SequencePredictor};
use crate::token_rows::TokenRows;

/// Sizes and head of a sequence classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierConfig {
    /// The encoder's sizes.
    pub encoder: EncoderConfig,
    /// How token states become one vector.
    pub pooling: Pooling,
    /// Dropout rate of the head while training.
    pub dropout: f64,
    /// What it predicts.
    pub objective: Objective,
}

/// The fine-tunable encoder classifier.
pub struct SequenceClassifier {
    config: ClassifierConfig,
    params: ParamStore,
    encoder: Encoder,
    head: ClassifierHead,
    tokenizer: Box<dyn Tokenizer>,
}

impl SequenceClassifier {
    /// A freshly initialised model (the encoder's vocabulary is the tokenizer's).
    pub fn new(
        config: ClassifierConfig,
        tokenizer: Box<dyn Tokenizer>,
        seed: u64,
        device: &Device,
    ) -> candle_core::Result<Self> {
        Self::on(config, tokenizer, ParamStore::new(seed, device))
    }

    /// The model on `params` (fresh, or a frozen store of given weights).
    fn on(
        mut config: ClassifierConfig,
        tokenizer: Box<dyn Tokenizer>,
        mut params: ParamStore,
    ) -> candle_core::Result<Self> {
        config.encoder.vocab_size = tokenizer.vocab_size();
        let encoder = Encoder::new(config.encoder, &mut params)?;
        let head = ClassifierHead::new(
            &mut params,
            config.encoder.d_model,
            config.objective.outputs(),
            config.pooling,
            config.dropout,
            config.encoder.norm_eps,
        )?;
        Ok(Self {
            config,
            params,
            encoder,
            head,
            tokenizer,
        })
    }

    /// The encoder and tokenizer of a masked-LM run (`dnalm train mlm`) under a new head
    /// drawn from `seed`.
    pub fn from_pretrained(
        run: &Path,
        objective: Objective,
        pooling: Pooling,
        dropout: f64,
        seed: u64,
        device: &Device,
    ) -> crate::Result<Self> {
        let (MaskedLmConfig::Bert(encoder), tokenizer, weights) = read_run(run, device)?;
        let config = ClassifierConfig {
            encoder,
            pooling,
            dropout,
            objective,
        };
        let model = Self::new(config, tokenizer, seed, device)?;
        model
            .params
            .load_pretrained(&weights, "classifier.")
            .map_err(|err| NnError::run_file(run.join("model.safetensors"), err))?;
        Ok(model)
    }

    /// The configuration.
    pub fn config(&self) -> &ClassifierConfig {
        &self.config
    }

    /// Loads a fine-tuned run folder for inference only (frozen weights, no autograd
    /// graph; see [`open_frozen`]).
    pub fn open_for_inference(run: &Path, device: &Device) -> crate::Result<Self> {
        open_frozen(
            run,
            device,
            |config: PredictorConfig, tokenizer, params| match config {
                PredictorConfig::BertClassifier(config) => Self::on(config, tokenizer, params),
                PredictorConfig::BagOfTokens(_) => {
                    candle_core::bail!("not an encoder classifier")
                }
            },
            |model: &Self| &model.params,
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

    /// Raw outputs for input rows, with head dropout drawn from `dropout_seed` if given.
    fn forward(&self, rows: &Tensor, dropout_seed: Option<u64>) -> candle_core::Result<Tensor> {
        let lengths = row_lengths(rows)?;
        let hidden = self.encoder.forward(rows, &lengths)?;
        self.head.forward(&hidden, &lengths, dropout_seed)
    }
}

impl Trainable for SequenceClassifier {
    fn parameters(&self) -> &dyn Parameters {
        &self.params
    }

    fn window_loss(&self, rows: &Tensor, seed: u64) -> candle_core::Result<(Tensor, f64)> {
        let (codes, inputs) = split_labelled(rows)?;
        let outputs = self.forward(&inputs, Some(seed))?;
        let loss = self.config.objective.loss(&outputs, &codes)?;
        Ok((loss, codes.dim(0)? as f64))
    }
}

impl SequencePredictor for SequenceClassifier {
    fn objective(&self) -> &Objective {
        &self.config.objective
    }

    fn input_rows(&self, sequences: &[&[u8]], max_width: usize) -> InputRows {
        let TokenRows { ids, width } =
            TokenRows::encode(self.tokenizer(), sequences.iter().copied(), max_width);
        InputRows { ids, width }
    }

    fn outputs(&self, rows: &Tensor) -> candle_core::Result<Tensor> {
        self.forward(rows, None)
    }

    fn describe(&self) -> String {
        let encoder = &self.config.encoder;
        format!(
            "BERT {}x{} + {:?} head ({}, {} parameters)",
            encoder.num_layers,
            encoder.d_model,
            self.config.pooling,
            self.tokenizer.describe(),
            self.params.count()
        )
    }

    fn save_run(&self, run: &RunDir) -> crate::Result<()> {
        let config = PredictorConfig::BertClassifier(self.config.clone());
        write_run(run, &config, self.tokenizer(), &self.weights())
    }

    fn device(&self) -> &Device {
        self.params.device()
    }
}

impl SequenceEmbedder for SequenceClassifier {
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
    use dnalm_tokenize::NucleotideTokenizer;

    use super::*;
    use crate::masked_lm::MaskedLm;

    fn encoder_config() -> EncoderConfig {
        EncoderConfig {
            vocab_size: 0,
            d_model: 16,
            num_layers: 1,
            num_heads: 2,
            ffn_dim: 32,
            rope_theta: 10000.0,
            norm_eps: 1e-5,
        }
    }

    #[test]
    fn pretrained_encoder_weights_are_taken_and_the_head_is_new() {
        let dir = tempfile::tempdir().unwrap();
        let run = dnalm_run::RunDir::create(dir.path()).unwrap();
        let pretrained = MaskedLm::new(
            encoder_config(),
            Box::new(NucleotideTokenizer),
            7,
            &Device::Cpu,
        )
        .unwrap();
        pretrained.save_run(&run).unwrap();
        let objective = Objective::Classification {
            labels: vec!["0".into(), "1".into()],
        };
        let model = SequenceClassifier::from_pretrained(
            dir.path(),
            objective,
            Pooling::Mean,
            0.1,
            3,
            &Device::Cpu,
        )
        .unwrap();
        let ours = model.weights();
        let theirs = pretrained.weights();
        let same = |name: &str| {
            let a: Vec<f32> = ours[name].flatten_all().unwrap().to_vec1().unwrap();
            let b: Vec<f32> = theirs[name].flatten_all().unwrap().to_vec1().unwrap();
            a == b
        };
        assert!(same("embedding.weight"));
        assert!(same("layers.0.self_attn.projection_q.weight"));
        assert!(ours.contains_key("classifier.out_proj.weight"));
        assert!(!ours.contains_key("lm_head.decoder.weight"));
    }

    #[test]
    fn learns_a_motif_and_regresses_a_count() {
        // Class 1 iff the sequence holds "GATTACA"; value = number of G.
        let sequences: Vec<Vec<u8>> = (0..32)
            .map(|i| {
                let mut rng = dnalm_seq::seeded_rng(i);
                let mut seq: Vec<u8> = (0..24)
                    .map(|_| b"ACGT"[rand::Rng::random_range(&mut rng, 0..4)])
                    .collect();
                if i % 2 == 1 {
                    seq[8..15].copy_from_slice(b"GATTACA");
                }
                seq
            })
            .collect();
        let refs: Vec<&[u8]> = sequences.iter().map(Vec::as_slice).collect();
        for objective in [
            Objective::Classification {
                labels: vec!["0".into(), "1".into()],
            },
            Objective::Regression,
        ] {
            let config = ClassifierConfig {
                encoder: encoder_config(),
                pooling: Pooling::Mean,
                dropout: 0.0,
                objective: objective.clone(),
            };
            let model =
                SequenceClassifier::new(config, Box::new(NucleotideTokenizer), 1, &Device::Cpu)
                    .unwrap();
            let codes: Vec<u32> = sequences
                .iter()
                .enumerate()
                .map(|(i, seq)| {
                    let label = match objective {
                        Objective::Regression => {
                            seq.iter().filter(|&&b| b == b'G').count().to_string()
                        }
                        _ => (i % 2).to_string(),
                    };
                    objective.target_code(&label).unwrap()
                })
                .collect();
            let inputs = model.input_rows(&refs, 64);
            let labelled = inputs.labelled(&codes);
            let width = inputs.width + 1;
            let batch = Tensor::from_vec(labelled.clone(), (32, width), &Device::Cpu).unwrap();
            let before = model.labelled_loss(&labelled, width, 8).unwrap();
            // 200 steps at 3e-3 end far below the bound on every vector level (about
            // 0.001); at 1e-2 the classification loss's path depended on the last bits
            // of the sums (100 steps ended at 0.42 with AVX2, 0.02 without).
            dnalm_train::trainer::fit_one_batch(&model, &batch, 200, 3e-3).unwrap();
            let after = model.labelled_loss(&labelled, width, 8).unwrap();
            assert!(
                after < before * 0.5,
                "{objective:?}: loss {before} -> {after}"
            );
            assert_eq!(model.predict(&inputs, 8).unwrap().len(), 32);
        }
    }
}
